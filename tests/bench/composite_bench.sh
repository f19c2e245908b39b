#!/bin/sh
# Composite-file load benchmark: writes a file of 1,000 composites (each declares a custom torch op
# and lowers it in three MIL steps) and times `ts2coreml ops --ops FILE` against `ts2coreml ops`
# alone; the difference is the time to parse, check and register the 1,000 composites. Also prints
# the time the shipped ops.yaml takes (`ops` against `ops --no-default-ops`).
#
#   sh tests/bench/composite_bench.sh [BUILD_DIR]        (default: build)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
count=1000
runs=7
. tests/bench/bench_common.sh

{
  echo "version: 1"
  echo "composites:"
  i=0
  while [ $i -lt $count ]; do
    cat <<YAML
  - op: bench::op$i
    schema: "bench::op$i(Tensor x, float alpha=0.5) -> Tensor"
    steps:
      - {mil: mul, x: \$x, y: \$alpha, out: scaled}
      - {mil: tanh, x: \$scaled, out: t}
      - {mil: add, x: \$t, y: \$x}
YAML
    i=$((i + 1))
  done
} > "$work/big.yaml"

registered=$("$bin" ops --ops "$work/big.yaml" | grep -c '^bench::op' || true)
bare=$(median ops --no-default-ops)
base=$(median ops)
with=$(median ops --ops "$work/big.yaml")
echo "ts2coreml ops --no-default-ops       : $bare s (median of $runs)"
echo "ts2coreml ops (shipped ops.yaml)     : $base s; ops.yaml adds $(awk "BEGIN{printf \"%.4f\", $base - $bare}") s"
echo "ts2coreml ops --ops big.yaml         : $with s; $registered of $count composites registered"
echo "load + check + register $count composites: $(awk "BEGIN{printf \"%.4f\", $with - $base}") s" \
     "($(awk "BEGIN{printf \"%.1f\", ($with - $base) * 1000000 / $count}") us each; file $(wc -c < "$work/big.yaml") bytes)"
