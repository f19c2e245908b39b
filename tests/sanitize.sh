#!/bin/sh
# The sanitizer run of CI: an AddressSanitizer + UndefinedBehaviorSanitizer build (-O1, no debug
# info, to keep its build short) and the test suites that cover every directory of core/:
#   mil, runtime (kernels, executor, verification), backend (writers, readers, round trip),
#   lowerings and registry, frontend, composite (loader and the command line), plugin (loader),
#   and the layering check.
# The end-to-end model suites (tests/e2e, torchvision models) run in the regular build only.
set -eu
cd "$(dirname "$0")/.."
sh samples/install-deps.sh
cmake -S . -B build-asan -G Ninja -DTS2COREML_SANITIZE=ON -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1" \
    -DTS2COREML_WERROR=ON
cmake --build build-asan -j"$(nproc)" --target ts2coreml_tests
/usr/bin/python3 samples/make_models.py --out build-asan/models --all >/dev/null
/usr/bin/python3 tests/plugin/make_plugin_models.py --out build-asan/models/plugin >/dev/null
# LibTorch keeps allocations alive until exit by design: leaks are not checked.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-asan/tests
./ts2coreml_tests --source-file='*/tests/mil/*,*/tests/runtime/*,*/tests/backend/*,*/tests/lowerings/*,*/tests/frontend/*,*/tests/composite/*,*/tests/plugin/PluginLoaderTest.cpp,*/tests/LayeringTest.cpp'
