#!/bin/sh
# The sentence-completion demo end to end: make the TorchScript model (random, seeded weights),
# convert it with a flexible 1..64 token input, verify it at two prompt lengths (the generated
# tokens must be equal exactly) and show the loop's ops; then the same as a NeuralNetwork .mlmodel.
#
#   sh samples/sentence/demo.sh [BUILD_DIR] [WORK_DIR]      (defaults: build, build/sentence)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
work=${2:-$build/sentence}
mkdir -p "$work"

/usr/bin/python3 "$here/finish_my_sentence.py" --out "$work"
"$build/ts2coreml" convert "$work/finish_my_sentence.pt" -o "$work/FinishMySentence.mlpackage" \
    --input tokens:1..64:int32 --output sentence
"$build/ts2coreml" verify "$work/finish_my_sentence.pt" "$work/FinishMySentence.mlpackage" --input tokens:5
"$build/ts2coreml" verify "$work/finish_my_sentence.pt" "$work/FinishMySentence.mlpackage" --input tokens:17 --seed 1
"$build/ts2coreml" inspect "$work/FinishMySentence.mlpackage"

# The same model as a NeuralNetwork: the loop is a LoopLayer, its if a BranchLayer.
"$build/ts2coreml" convert "$work/finish_my_sentence.pt" -o "$work/FinishMySentence.mlmodel" \
    --input tokens:1..64:int32 --output sentence
"$build/ts2coreml" verify "$work/finish_my_sentence.pt" "$work/FinishMySentence.mlmodel" --input tokens:5
"$build/ts2coreml" verify "$work/finish_my_sentence.pt" "$work/FinishMySentence.mlmodel" --input tokens:17 --seed 1
