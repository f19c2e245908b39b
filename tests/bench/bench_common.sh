# Shared by the shell benchmarks (sourced): the build to measure, a scratch directory, and the median
# wall time of a ts2coreml subcommand.
#
#   . tests/bench/bench_common.sh   (from the repository root, with $build set; sets $bin and $work)
bin=$build/ts2coreml
[ -x "$bin" ] || { echo "$0: $bin not built" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Median wall time of `ts2coreml ARGS` over $runs runs, in seconds; stdout and stderr of the last
# run are left in $work/out.txt and $work/err.txt.
median() {
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N)
    "$bin" "$@" > "$work/out.txt" 2> "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
    e=$(date +%s.%N)
    awk "BEGIN{printf \"%.4f\\n\", $e - $s}"
  done | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}
