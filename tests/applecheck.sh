#!/bin/sh
# Apple's own validation of every model the test suite writes: runs the suite with
# TS2COREML_KEEP_MODELS set (the test helpers copy each .mlmodel and .mlpackage there before they
# delete their scratch directory), then applecheck on each copy. applecheck is Apple's model
# validator and ML Program blob reader, built from a coremltools checkout by
# ../shared/applecheck/build.sh (not in CI: it needs Apple's fetched source).
#
#   sh tests/applecheck.sh APPLECHECK_BINARY [BUILD_DIR [TEST_CASE_FILTER]]
#
# Reader tests write malformed models on purpose (a truncated blob, a layer reading a missing blob):
# a model Apple's code refuses and `ts2coreml inspect` refuses too is counted as such. Prints one line
# per model Apple's code refuses that ts2coreml reads, then the counts; exits 1 when there is any.
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
malformed=0
for model in "$keep"/*.mlmodel "$keep"/*.mlpackage; do
    [ -e "$model" ] || continue
    total=$((total + 1))
    if ! out=$("$checker" -q "$model" 2>&1); then
        if ! "$build/ts2coreml" inspect "$model" >/dev/null 2>&1; then
            malformed=$((malformed + 1))
            continue
        fi
        refused=$((refused + 1))
        echo "refused: $(basename "$model"): $(echo "$out" | head -3 | tr '\n' ' ')"
    fi
done
echo "applecheck: $total models written by the tests, $((total - refused - malformed)) valid," \
    "$malformed malformed on purpose (refused by ts2coreml inspect too), $refused refused by Apple's code only"
[ "$refused" -eq 0 ]
