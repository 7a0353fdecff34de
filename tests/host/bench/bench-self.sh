#!/bin/bash
# make bench-self BASE=REV: vfiopin's host benchmarks (bench_top,
# bench_events, export_synth) built from REV and from the work tree, run
# in alternation (tests/host/bench/bench_self.py), then judged by the work
# tree's `vfiopin compare` (exit 1: something regressed).  REV is built
# from `git archive` in build/bench-self/REV-SHA/, kept for the next run.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
base=${1:-}
[ -n "$base" ] || { echo "usage: make bench-self BASE=REV (a commit to measure the work tree against)" >&2; exit 2; }
rev=$(git -C "$TOP" rev-parse --verify -q "$base^{commit}") ||
	{ echo "bench-self: '$base' is not a commit of this repository" >&2; exit 2; }
out=$TOP/build/bench-self
src=$out/src-$rev
if [ ! -x "$src/build/bench_top" ] || [ ! -x "$src/build/bench_events" ] || [ ! -x "$src/build/export_synth" ]; then
	rm -rf "$src"
	mkdir -p "$src"
	git -C "$TOP" archive "$rev" | tar -x -C "$src"
	echo "bench-self: building ${rev:0:12} in $src" >&2
	make -s -C "$src" -j"$(nproc)" build/bench_top build/bench_events build/export_synth > "$out/build-${rev:0:12}.log" 2>&1 ||
		{ tail -20 "$out/build-${rev:0:12}.log" >&2; echo "bench-self: ${rev:0:12} does not build its benchmarks" >&2; exit 2; }
fi
python3 "$TOP/tests/host/bench/bench_self.py" "$src" "$TOP" "$out" ${ROUNDS:+--rounds "$ROUNDS"}
echo "bench-self: ${rev:0:12} (base) against the work tree; files in $out/"
"$TOP/build/vfiopin" compare "$out/base.json" "$out/work.json"
