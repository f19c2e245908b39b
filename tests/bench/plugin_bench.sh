#!/bin/sh
# Plugin discovery benchmark: builds 50 trivial plugins (each registers one lowering and declares
# one custom torch op) and times `ts2coreml ops --plugin-path DIR` against `ts2coreml ops` alone;
# the difference is the time to discover, load, check and register the 50 plugins.
#
#   sh tests/bench/plugin_bench.sh [BUILD_DIR]        (default: build)
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
count=50
runs=7
. tests/bench/bench_common.sh
mkdir -p "$work/src" "$work/plugins"

i=0
while [ $i -lt $count ]; do
  cat > "$work/src/bench_$i.cpp" <<CPP
#include <ts2coreml/Plugin.h>
namespace {
void lower(ts2coreml::LoweringContext& ctx) { ctx.bind(0, ctx.builder().add("relu", {{"x", ctx.tensor("x")}})); }
void registerBench(ts2coreml::Registry& r) {
    r.declareTorchOp("bench$i::op(Tensor x) -> Tensor");
    r.add("bench$i::op", lower);
}
}  // namespace
TS2COREML_PLUGIN("bench_$i", "1.0", registerBench)
CPP
  i=$((i + 1))
done
start=$(date +%s.%N)
ls "$work/src" | xargs -P 2 -I{} sh -c \
  'c++ -std=c++17 -O1 -fPIC -shared -fvisibility=hidden -I sdk/include "$0/src/$1" -o "$0/plugins/lib$(basename "$1" .cpp).so"' \
  "$work" {}
end=$(date +%s.%N)
echo "built $count plugins in $(awk "BEGIN{print $end - $start}") s"

loaded=$("$bin" ops --json --plugin-path "$work/plugins" | grep -c '"bench[0-9]*::op"' || true)
base=$(median ops)
with=$(median ops --plugin-path "$work/plugins")
if [ -s "$work/err.txt" ]; then echo "plugin_bench: rejections:" >&2; cat "$work/err.txt" >&2; fi
per=$(awk "BEGIN{printf \"%.2f\", ($with - $base) * 1000 / $count}")
echo "ts2coreml ops                          : $base s (median of $runs)"
echo "ts2coreml ops --plugin-path (50 plugins): $with s (median of $runs); $loaded of $count plugins registered"
echo "discover + load + register $count plugins : $(awk "BEGIN{printf \"%.4f\", $with - $base}") s ($per ms per plugin)"
