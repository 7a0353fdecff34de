#!/bin/bash
# `vfiopin bench` and `vfiopin compare` in the lab.
#
# Runs are taken in rounds: each round runs every configuration once (A, its
# A/A twins B1..Bn, and the injected slowdown), in reverse order every other
# round, and `compare ... vs ...` pools a configuration's rounds.  A slow
# drift of the guest (TCG, a shared host) then lands on both sides of every
# comparison instead of reading as a change.
#
#   bench.sh          the full suite (make bench): mdev, mixed, passthrough
#                     on 4 KiB and on hugepage-backed guest RAM; A/A pairs
#                     (same kernel, same workload, run again) counted for
#                     false alarms; an injected slowdown (type1's
#                     disable_hugepages=1 on hugepage-backed RAM) that must
#                     be detected; files and a summary in OUT/bench/.
#                     Then MAP_DMA/UNMAP_DMA of one buffer on 4 KiB pages,
#                     THP and hugetlbfs (bench --backing), as upstream
#                     measures type1's large-folio work.
#   bench.sh --small  the same end to end at small sizes, with checks (part
#                     of make check-lab): sample counts against the client's
#                     own calls and vfiopin's histograms, one A/A pair per
#                     workload compared (its false alarms reported, never
#                     asserted: noise on a shared machine is not a defect),
#                     the injected slowdown (+75 % idle, about +50 % with
#                     other jobs on the machine) detected, with more
#                     rounds of it when noise hides it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SMALL=0
[ "${1:-}" = --small ] && SMALL=1
V=$TOP/build/vfiopin
B=$OUT/bench
mkdir -p "$B"
rm -f "$B"/*.json "$B"/*.txt
DH=/sys/module/vfio_iommu_type1/parameters/disable_hugepages
[ -w $DH ] || die "type1's disable_hugepages parameter is not writable ($DH)"

bench_setup

# REP repetitions per file, ROUNDS files per configuration: REP * ROUNDS
# samples per side of a comparison, 16 or more: a single hiccup of the
# shared host on one side (one sample in eight seen at twice the others)
# must not decide a verdict.
if [ $SMALL = 1 ]; then
	REP=4 ROUNDS=4 MDEV_PAGES=256 PER_CALL=16 PT_PAGES=1024 PAIRS=1
else
	REP=3 ROUNDS=${BENCH_ROUNDS:-6} MDEV_PAGES=4096 PER_CALL=64 PT_PAGES=8192 PAIRS=${BENCH_PAIRS:-3}
fi
# The check-lab gate judges at alpha 0.01 (over each comparison's metrics,
# Holm): a false alarm there fails CI, and the injected slowdown must still
# be found at that level.  make bench reports at compare's default 0.05.
ALPHA=0.05
[ $SMALL = 1 ] && ALPHA=0.01

# run NAME ARGS...: one bench file
run() {
	local name=$1; shift
	if ! "$V" bench --repeat $REP -o "$B/$name.json" "$@" 2> "$B/$name.err"; then
		fail "bench $name: $(tail -3 "$B/$name.err")"
		return 1
	fi
	pass "bench $name ($*)"
}
# compare BASE NEW [ROUNDS]: the rounds of configuration BASE against
# those of NEW; print "rc regressed-metrics improved-metrics"
compare() {
	local a=() b=() r
	for r in $(seq "${3:-$ROUNDS}"); do
		a+=("$B/$1.r$r.json") b+=("$B/$2.r$r.json")
	done
	"$V" compare --alpha $ALPHA --json "${a[@]}" vs "${b[@]}" > "$B/cmp-$1-$2.json" 2> "$B/cmp-$1-$2.err"
	local rc=$?
	"$V" compare --alpha $ALPHA "${a[@]}" vs "${b[@]}" > "$B/cmp-$1-$2.txt" 2>&1
	echo "$rc $(python3 "$TOP/tests/guest/vpq.py" compare verdicts "$B/cmp-$1-$2.json" 2> /dev/null)"
}

# the configurations: NAME and its bench arguments; the nohuge one runs
# with type1's disable_hugepages=1 (2 MiB pages mapped 4 KiB at a time)
MDEV_ARGS="--mdev $M1 --total-pages $MDEV_PAGES --pages-per-call $PER_CALL"
PT_ARGS="--workload passthrough --pci $E1 --total-pages $PT_PAGES --hugetlb /mnt/huge"
CONFIGS=(mdev-a pt-huge-a)
for i in $(seq $PAIRS); do
	CONFIGS+=(mdev-b$i pt-huge-b$i)
done
CONFIGS+=(pt-huge-nohuge)
args_of() {
	case $1 in
	mdev-*) echo "$MDEV_ARGS" ;;
	pt-huge-*) echo "$PT_ARGS" ;;
	esac
}
# run_config NAME ROUND: one file of a configuration, type1's
# disable_hugepages set for the nohuge one only
run_config() {
	local rc
	[ "$1" = pt-huge-nohuge ] && echo 1 > $DH
	# shellcheck disable=SC2046
	run "$1.r$2" $(args_of "$1")
	rc=$?
	echo 0 > $DH
	return $rc
}
echo 0 > $DH
for r in $(seq $ROUNDS); do
	order=("${CONFIGS[@]}")
	[ $((r % 2)) = 0 ] && order=($(printf '%s\n' "${CONFIGS[@]}" | tac))
	for c in "${order[@]}"; do
		run_config $c $r || break 2
	done
done
echo 0 > $DH
if [ $SMALL = 0 ]; then
	run mixed --workload mixed --mdev "$M1" --pci "$E1" --total-pages $MDEV_PAGES --pages-per-call $PER_CALL
	run pt-4k --workload passthrough --pci "$E1" --total-pages $PT_PAGES
fi

# checks against the client's own calls and vfiopin's own counts
calls=$(( (MDEV_PAGES + PER_CALL - 1) / PER_CALL * REP ))
python3 "$TOP/tests/guest/bench_report.py" samples "$B/mdev-a.r1.json" "$calls" "$REP" "$MDEV_PAGES" && pass "bench: mdev samples = the client's calls ($calls); vfiopin's pin calls and pages the same" || fail "bench: mdev file: see above"

# the workloads upstream measures type1's large-folio work with: MAP_DMA
# and UNMAP_DMA of one buffer, its pages written first, on 4 KiB pages,
# THP (MADV_HUGEPAGE) and hugetlbfs; what backed it is the kernel's own
# account (the client's /proc/PID/smaps), each page on what was asked for
UP_MIB=16
[ $SMALL = 1 ] && UP_MIB=8
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2> /dev/null)
for kind in 4k thp hugetlb; do
	[ $kind = thp ] && ! grep -qE '\[(always|madvise)\]' <<< "$thp" && {
		skip "bench up-thp: this kernel's THP is '${thp:-not built}'"
		continue
	}
	extra=()
	[ $kind = hugetlb ] && extra=(--hugetlb /mnt/huge)
	run up-$kind --workload passthrough --pci "$E1" --size-mib $UP_MIB --backing $kind "${extra[@]}" || continue
	got=$(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); k=b["backing"]; m=b["metrics"]
print(k["as_asked"], k["bytes"], k["huge_bytes_min"], len(m["map_ns"]["samples"]), len(m["unmap_ns"]["samples"]))' "$B/up-$kind.json")
	want="True $((UP_MIB << 20)) $([ $kind = 4k ] && echo 0 || echo $((UP_MIB << 20))) $REP $REP"
	check_eq "bench up-$kind: every page as asked (smaps), a MAP_DMA and an UNMAP_DMA sample a run" "$got" "$want"
	echo "bench up-$kind: $(python3 -c 'import json,statistics,sys; m=json.load(open(sys.argv[1]))["metrics"]
print("MAP_DMA median %.2f ms, UNMAP_DMA median %.2f ms" % tuple(statistics.median(m[k]["samples"]) / 1e6 for k in ("map_ns", "unmap_ns")))' "$B/up-$kind.json") ($UP_MIB MiB)"
done

# A/A: the same workload again on the same kernel
aa_alarms=0 aa_improved=0 aa_metrics=0 aa_judged=0
for i in $(seq $PAIRS); do
	for w in mdev pt-huge; do
		read -r rc reg imp <<< "$(compare $w-a $w-b$i)"
		# a verdict either way (0 or 1), never refused input (2)
		[ "$rc" = 0 ] || [ "$rc" = 1 ] && aa_judged=$((aa_judged + 1))
		n=$(python3 "$TOP/tests/guest/vpq.py" compare count "$B/cmp-$w-a-$w-b$i.json" 2> /dev/null || echo 0)
		aa_metrics=$((aa_metrics + n))
		[ "$reg" = - ] || aa_alarms=$((aa_alarms + $(tr ',' '\n' <<< "$reg" | wc -l)))
		[ "$imp" = - ] || aa_improved=$((aa_improved + $(tr ',' '\n' <<< "$imp" | wc -l)))
		echo "A/A $w pair $i: exit $rc, regressed: $reg, improved: $imp"
	done
done
echo "A/A: $aa_alarms false regressions and $aa_improved false improvements in $aa_metrics metric comparisons"

# the injected slowdown: type1 maps 4 KiB at a time instead of 2 MiB.
# Where another job shares the machine, its noise can hide a real +50 %
# in 16 samples a side (seen: base 5.8 to 16.5 ms, slowed 9.0 to 18.0
# ms).  The gate then takes more rounds of these two configurations, up
# to EXTRA, and judges again on all of them: more evidence for a known
# slowdown, never a second chance for an A/A pair (those are not retried).
EXTRA=0
[ $SMALL = 1 ] && EXTRA=8
nr=$ROUNDS
read -r rc reg _ <<< "$(compare pt-huge-a pt-huge-nohuge $nr)"
while [ "$rc" != 1 ] && [ $nr -lt $((ROUNDS + EXTRA)) ]; do
	nr=$((nr + 1))
	order=(pt-huge-a pt-huge-nohuge)
	[ $((nr % 2)) = 0 ] && order=(pt-huge-nohuge pt-huge-a)
	for c in "${order[@]}"; do
		run_config $c $nr
	done
	read -r rc reg _ <<< "$(compare pt-huge-a pt-huge-nohuge $nr)"
done
echo "disable_hugepages=1: exit $rc, regressed: $reg ($nr rounds a side)"
cat "$B/cmp-pt-huge-a-pt-huge-nohuge.txt"
check_eq "compare: disable_hugepages=1 on hugepage-backed RAM is a regression (exit, $nr rounds)" "$rc" 1
case ",$reg," in
*,map_ns,*) pass "compare: map_ns regressed with disable_hugepages=1" ;;
*) fail "compare: map_ns not found regressed: $reg" ;;
esac
# How often an A/A pair reads as a change is a property of the machine and
# the test (the false-alarm rate, reported in summary.json and measured
# over many pairs by make bench), not something a shared machine's noise
# may fail a check on; that every pair was judged is.
check_eq "A/A: every pair compared to a verdict ($aa_alarms false regressions in $aa_metrics metric comparisons)" \
	"$aa_judged" $((2 * PAIRS))

python3 "$TOP/tests/guest/bench_report.py" summary "$B" "$aa_alarms" "$aa_metrics" "$aa_improved" "$ALPHA" "$ROUNDS" "$REP" > "$B/summary.json"
summary
