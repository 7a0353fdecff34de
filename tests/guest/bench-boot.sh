#!/bin/bash
# bench-boot.sh TAG ROUND REP: inside the lab, one round of the kernel
# A/B benchmark (bench-kernels.sh): the mdev and the hugepage-backed
# passthrough workload of the bench suite, REP repetitions each, written
# to OUT/TAG-mdev.rROUND.json and OUT/TAG-pt-huge.rROUND.json.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 3 ] || die "usage: bench-boot.sh TAG ROUND REP"
TAG=$1 R=$2 REP=$3
V=$TOP/build/vfiopin

bench_setup

for w in mdev pt-huge; do
	case $w in
	mdev) args=(--mdev "$M1" --total-pages 4096 --pages-per-call 64) ;;
	pt-huge) args=(--workload passthrough --pci "$E1" --total-pages 8192 --hugetlb /mnt/huge) ;;
	esac
	f=$OUT/$TAG-$w.r$R.json
	if "$V" bench --repeat "$REP" -o "$f" "${args[@]}" 2> "$f.err"; then
		pass "bench $TAG $w round $R ($(uname -r))"
	else
		fail "bench $TAG $w round $R: $(tail -3 "$f.err")"
	fi
done
summary
