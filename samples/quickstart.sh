#!/bin/sh
# The quick start: install dependencies, build, make the resnet18 sample (random weights),
# convert it to an ML Program and verify it against LibTorch with the reference runtime.
set -eu
cd "$(dirname "$0")/.."
sh samples/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
cmake --build build -j"$(nproc)" --target ts2coreml
/usr/bin/python3 samples/make_models.py --out build/models
./build/ts2coreml convert build/models/resnet18.pt --input "$(cat build/models/resnet18.input)" -o build/resnet18.mlpackage
./build/ts2coreml inspect build/resnet18.mlpackage
./build/ts2coreml verify build/models/resnet18.pt build/resnet18.mlpackage
