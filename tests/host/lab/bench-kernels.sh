#!/bin/bash
# bench-kernels.sh: `vfiopin compare` across two kernels, the way a kernel
# change is judged: the lab kernel (A) against the debug kernel (B: the
# same sources with lockdep, KASAN and kmemleak), which must come out
# regressed.  Boots alternate A B, B A, ... for ROUNDS rounds, each running
# the mdev and hugepage-backed passthrough workloads REP times; compare
# pools each kernel's boots with `vs`.  Files and reports in
# build/bench-kernels/.  Exit 0 when the debug kernel is found regressed.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
ROUNDS=${BENCH_ROUNDS:-3} REP=${BENCH_REPEAT:-4}
D=$TOP/build/bench-kernels
V=$TOP/build/vfiopin
rm -rf "$D"
mkdir -p "$D"

for r in $(seq "$ROUNDS"); do
	order=(lab debug)
	[ $((r % 2)) = 0 ] && order=(debug lab)
	for k in "${order[@]}"; do
		echo "round $r: $k kernel"
		"$TOP/tests/host/lab/run-in-lab.sh" "bench-kernels-$k" --flavour "$k" --mem 3G -- \
			tests/guest/bench-boot.sh "$k" "$r" "$REP" || exit 1
		cp "$TOP/build/lab-bench-kernels-$k/$k"-*.r"$r".json "$D/" || exit 1
	done
done

rc=0
for w in mdev pt-huge; do
	a=("$D"/lab-$w.r*.json) b=("$D"/debug-$w.r*.json)
	"$V" compare --json -o "$D/cmp-$w.json" "${a[@]}" vs "${b[@]}"
	"$V" compare -o "$D/cmp-$w.txt" "${a[@]}" vs "${b[@]}"
	crc=$?	# compare's own gate: 1 when something regressed
	cat "$D/cmp-$w.txt"
	echo "debug kernel, $w: compare exit $crc (1: regressed)"
	[ $crc = 1 ] || rc=1
done
exit $rc
