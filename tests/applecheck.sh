#!/bin/sh
# Apple's own validation of every model the test suite writes: runs the suite with
# TS2COREML_KEEP_MODELS set (the test helpers copy each .mlmodel and .mlpackage there before they
# delete their scratch directory), then applecheck on each copy. applecheck is Apple's model
# validator and ML Program blob reader, built from a coremltools checkout by
# ../shared/applecheck/build.sh (not in CI: it needs Apple's fetched source).
#
#   sh tests/applecheck.sh APPLECHECK_BINARY [BUILD_DIR [TEST_CASE_FILTER]]
#
# Prints one line per model Apple's code refuses, then the counts; exits 1 when any is refused.
set -eu
checker=$1
build=${2:-build}
filter=${3:-*}
keep=$(mktemp -d /tmp/ts2coreml-models.XXXXXX)
trap 'rm -rf "$keep"' EXIT
(cd "$build/tests" && TS2COREML_KEEP_MODELS="$keep" ./ts2coreml_tests -tc="$filter" >"$keep.log" 2>&1) ||
    echo "note: some test cases failed (their log: $keep.log); checking what they wrote"
total=0
refused=0
for model in "$keep"/*.mlmodel "$keep"/*.mlpackage; do
    [ -e "$model" ] || continue
    total=$((total + 1))
    if ! out=$("$checker" -q "$model" 2>&1); then
        refused=$((refused + 1))
        echo "refused: $(basename "$model"): $(echo "$out" | head -3 | tr '\n' ' ')"
    fi
done
echo "applecheck: $total models written by the tests, $((total - refused)) valid, $refused refused"
[ "$refused" -eq 0 ]
