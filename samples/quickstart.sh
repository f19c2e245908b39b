#!/bin/sh
# The quick start: install dependencies, build, make the resnet18 sample (random weights),
# convert it to an ML Program (verify joins once the reference runtime lands).
set -eu
cd "$(dirname "$0")/.."
sh samples/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target ts2coreml
/usr/bin/python3 samples/make_models.py --out build/models
./build/ts2coreml convert build/models/resnet18.pt --input "$(cat build/models/resnet18.input)" -o build/resnet18.mlpackage
ls -R build/resnet18.mlpackage
