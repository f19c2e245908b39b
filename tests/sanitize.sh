#!/bin/sh
# The sanitizer run of CI: an AddressSanitizer + UndefinedBehaviorSanitizer build (-O1, no debug
# info, to keep its build short) of the test suites that cover every directory of core/:
#   mil (schemas, builder), runtime (kernels, executor, verification), backend (writers, readers,
#   the round trip of every NeuralNetwork layer), lowerings (built-ins, elementwise, convolution,
#   which go through registry and frontend), frontend, composite (loader and command line: cli),
#   plugin (loader, SDK), and the layering check.
# Left to the regular build: the end-to-end model suites (tests/e2e), the numerical suites of every
# lowering family (tests/lowerings/*Test but the three above), and the plugin command-line suites.
set -eu
cd "$(dirname "$0")/.."
sh samples/install-deps.sh
skip='/tests/(e2e/|runtime/LoweringNumericsTest|composite/CompositeNumericsTest|plugin/(CustomLayer|PluginCommand|SamplePlugin)Test|lowerings/[A-Za-z]+Test\.cpp$)'
keep='/tests/lowerings/(Builtins|Elementwise|Convolution)Test'
# Warnings are errors in the regular build; here GCC 12's -Wmaybe-uninitialized misfires inside
# libstdc++'s <regex> under -fsanitize=address at -O1, so they stay warnings.
cmake -S . -B build-asan -G Ninja -DTS2COREML_SANITIZE=ON -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1" \
    -DTS2COREML_WERROR=OFF "-DTS2COREML_SKIP_SOURCES=$skip" \
    "-DTS2COREML_KEEP_SOURCES=$keep"
cmake --build build-asan -j"$(nproc)" --target ts2coreml_tests
# The regular build's sample models, when it made them (CI runs the regular suite first): only
# those older than samples/make_models.py are made again.
if [ -d build/models ] && [ ! -e build-asan/models ]; then ln -s "$(pwd)/build/models" build-asan/models; fi
/usr/bin/python3 samples/make_models.py --out build-asan/models --all >/dev/null
/usr/bin/python3 tests/plugin/make_plugin_models.py --out build-asan/models/plugin >/dev/null
# LibTorch keeps allocations alive until exit by design: leaks are not checked.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-asan/tests
./ts2coreml_tests
