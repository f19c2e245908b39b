#!/bin/bash
# kill -9 at random moments of a conversion over a good package: the package at the output path is
# each time the previous one byte for byte, or a complete new one (it verifies), never a mix; no
# worker outlives its killed ts2coreml; and the next uninterrupted run leaves no staging entry
# (.NAME.partial-*) behind. Slow (a resnet50 conversion per kill): not in ctest, run by hand:
#
#   bash tests/killtest.sh [BUILD_DIR] [KILLS]      (default: build, 20)
#
# Needs BUILD_DIR/models/resnet50.pt (samples/make_models.py --out BUILD_DIR/models --all).
set -u
build=${1:-build}
kills=${2:-20}
bin=$build/ts2coreml
model=$build/models/resnet50.pt
for f in "$bin" "$model"; do
    [ -e "$f" ] || { echo "killtest: $f is missing" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/killtest.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$work/ResNet50.mlpackage
convert() { "$bin" convert "$model" -o "$out" --input x:1,3,224,224 >"$work/log" 2>&1; }
checksum() { (cd "$out" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1); }
leftovers() { find "$work" -maxdepth 1 -name '.ResNet50.mlpackage.partial-*' | wc -l; }

start=$(date +%s.%N)
convert || { cat "$work/log" >&2; echo "killtest: the first conversion failed" >&2; exit 1; }
seconds=$(echo "$(date +%s.%N) - $start" | bc)
good=$(checksum)
echo "a normal conversion takes ${seconds} s; killing $kills conversions at random moments in 0.1..${seconds} s"

identical=0 replaced=0 broken=0 orphans=0 leftover_runs=0
for i in $(seq 1 "$kills"); do
    delay=$(awk -v seed="$RANDOM$i" -v t="$seconds" 'BEGIN { srand(seed); printf "%.3f", 0.1 + rand() * (t - 0.1) }')
    "$bin" convert "$model" -o "$out" --input x:1,3,224,224 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    workers=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -d ' ')
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # The worker goes with its parent (a zombie at most, where nothing reaps orphans).
    sleep 0.2
    for w in $workers; do
        state=$(awk '{ print $3 }' "/proc/$w/stat" 2>/dev/null)
        if [ -n "$state" ] && [ "$state" != Z ]; then orphans=$((orphans + 1)); kill -9 "$w"; fi
    done
    [ "$(leftovers)" -gt 0 ] && leftover_runs=$((leftover_runs + 1))
    now=$(checksum)
    if [ "$now" = "$good" ]; then
        what="identical"
        identical=$((identical + 1))
    elif "$bin" verify "$model" "$out" >"$work/verify" 2>&1; then
        what="replaced by a complete new package (verify PASS)"
        replaced=$((replaced + 1))
        good=$now
    else
        what="BROKEN: $(tail -1 "$work/verify")"
        broken=$((broken + 1))
    fi
    echo "kill $i after ${delay} s: $what; staging entries now: $(leftovers)"
done

convert || { cat "$work/log" >&2; echo "killtest: the uninterrupted run after the kills failed" >&2; exit 1; }
final_leftovers=$(leftovers)
echo "killtest: $kills kills: $identical identical, $replaced complete new, $broken broken;" \
    "$orphans workers outlived their parent; $leftover_runs kills left staging entries," \
    "$final_leftovers remain after the next run"
[ "$broken" -eq 0 ] && [ "$orphans" -eq 0 ] && [ "$final_leftovers" -eq 0 ]
