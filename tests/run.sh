#!/bin/sh
# The whole test suite: install dependencies, build (warnings as errors), run every test.
set -eu
cd "$(dirname "$0")/.."
sh samples/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTS2COREML_WERROR=ON
cmake --build build -j"$(nproc)"
cd build && ctest --output-on-failure -j"$(nproc)"
