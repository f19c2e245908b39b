#!/bin/sh
# Composite-file load time against the file's size: for 4k, 8k, 16k and 41,760 composites (the last
# about 10 MB), each declaring a custom torch op and lowering it in three MIL steps, times
# `ts2coreml ops --no-default-ops --ops FILE` (one run each) and prints the time per composite,
# which stays flat when loading is linear. Not a test: a measurement to run by hand.
#
#   sh tests/bench/yaml_bench.sh [BUILD_DIR] [COUNT...]   (default: build 4000 8000 16000 41760)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
[ $# -gt 0 ] && shift
counts=${*:-4000 8000 16000 41760}
runs=1
. tests/bench/bench_common.sh

for count in $counts; do
  awk -v n="$count" 'BEGIN {
    print "version: 1"
    print "composites:"
    for (i = 0; i < n; i++) {
      printf "  - op: bench::op%d\n", i
      printf "    schema: \"bench::op%d(Tensor x, float alpha=0.5) -> Tensor\"\n", i
      print  "    steps:"
      print  "      - {mil: mul, x: $x, y: $alpha, out: scaled}"
      print  "      - {mil: tanh, x: $scaled, out: t}"
      print  "      - {mil: add, x: $t, y: $x}"
    }
  }' > "$work/c$count.yaml"
  t=$(median ops --no-default-ops --ops "$work/c$count.yaml")
  registered=$(grep -c '^bench::op' "$work/out.txt" || true)
  printf '%6d composites (%5.1f MB): %7.3f s, %5.1f us each; %d registered\n' "$count" \
    "$(awk "BEGIN{print $(wc -c < "$work/c$count.yaml") / 1000000}")" "$t" \
    "$(awk "BEGIN{print $t * 1000000 / $count}")" "$registered"
done
