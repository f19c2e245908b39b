#!/bin/sh
# Builds the libFuzzer targets with clang-14 (AddressSanitizer + UndefinedBehaviorSanitizer, the whole
# core library instrumented) in build-fuzz, then runs each for SECONDS (default 60) from its seed corpus
# tests/fuzz/corpus/TARGET. Inputs the fuzzer finds go to build-fuzz/corpus/TARGET (the checked-in seeds
# are only read); a crash, leak, hang or broken expectation stops that target and its input is saved
# as build-fuzz/artifacts/TARGET-*. Needs the Debian packages clang-14 and libfuzzer-14-dev.
#
#   tests/fuzz/run.sh [SECONDS [TARGET ...]]      TARGET: yaml model input_spec plugin_directory
#
# SECONDS 0 builds only.
# Targets run one after the other, one process each. JOBS (default 2) is the build's parallelism.
# Replay one input: build-fuzz/tests/fuzz/fuzz_Model FILE. The regular test suite replays every
# corpus file without clang (tests/fuzz_replay).
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-yaml model input_spec plugin_directory}
for tool in clang++-14 clang-14; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install clang-14 libfuzzer-14-dev)" >&2; exit 2; }
done
[ -f "$(clang++-14 -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a" ] ||
    { echo "run.sh: libFuzzer is missing (apt-get install libfuzzer-14-dev)" >&2; exit 2; }
[ -f /work/ccache.env ] && . /work/ccache.env
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=None \
    "-DCMAKE_CXX_FLAGS=-O1 -gline-tables-only" -DTS2COREML_FUZZ=ON -DTS2COREML_BUILD_TESTS=OFF \
    -DTS2COREML_WERROR=OFF >/dev/null
build=""
for t in $targets; do
    case $t in
        yaml) build="$build fuzz_Yaml" ;;
        model) build="$build fuzz_Model" ;;
        input_spec) build="$build fuzz_InputSpec" ;;
        plugin_directory) build="$build fuzz_PluginDirectory" ;;
        *) echo "run.sh: unknown target '$t' (yaml model input_spec plugin_directory)" >&2; exit 2 ;;
    esac
done
# shellcheck disable=SC2086
cmake --build build-fuzz -j"${JOBS:-2}" --target $build
[ "$seconds" -gt 0 ] || exit 0
# LibTorch's allocations kept until exit are not leaks of an input: libFuzzer checks leaks per input.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in $targets; do
    case $t in
        yaml) exe=fuzz_Yaml; dict=tests/fuzz/yaml.dict ;;
        model) exe=fuzz_Model; dict="" ;;
        input_spec) exe=fuzz_InputSpec; dict=tests/fuzz/input_spec.dict ;;
        plugin_directory) exe=fuzz_PluginDirectory; dict="" ;;
    esac
    mkdir -p "build-fuzz/corpus/$t" build-fuzz/artifacts
    echo "== $t: $seconds s"
    # shellcheck disable=SC2086
    if ! "build-fuzz/tests/fuzz/$exe" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" ${dict:+-dict=$dict} \
        "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" 2>"build-fuzz/$t.log"; then
        status=1
        echo "$t: FAILED (build-fuzz/$t.log)"
    fi
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)" \
        "build-fuzz/$t.log" || true
    tail -n 40 "build-fuzz/$t.log" | grep -E "cov: " | tail -n 1 || true
done
exit $status
