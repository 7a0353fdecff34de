#!/bin/bash
# `vfiopin bench` and `vfiopin compare` in the lab.
#
#   bench.sh          the full suite (make bench): mdev, mixed, passthrough
#                     on 4 KiB and on hugepage-backed guest RAM; A/A pairs
#                     (same kernel, same workload, run again) counted for
#                     false alarms; an injected slowdown (type1's
#                     disable_hugepages=1 on hugepage-backed RAM) that must
#                     be detected; files and a summary in OUT/bench/.
#   bench.sh --small  the same end to end at small sizes, with checks (part
#                     of make check-lab): sample counts against the client's
#                     own calls and vfiopin's histograms, one A/A pair, the
#                     injected slowdown detected.
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

load_mpin
M1=$(create_mdev 1)
read -r E1 _ <<< "$(bind_edu)"
echo 64 > /proc/sys/vm/nr_hugepages
mountpoint -q /mnt/huge || die "no hugetlbfs on /mnt/huge"

if [ $SMALL = 1 ]; then
	REP=8 MDEV_PAGES=256 PER_CALL=16 PT_PAGES=1024 PAIRS=1
else
	REP=${BENCH_REPEAT:-12} MDEV_PAGES=4096 PER_CALL=64 PT_PAGES=8192 PAIRS=${BENCH_PAIRS:-3}
fi

# run NAME ARGS...: one bench file
run() {
	local name=$1; shift
	if ! "$V" bench --repeat $REP -o "$B/$name.json" "$@" 2> "$B/$name.err"; then
		fail "bench $name: $(tail -3 "$B/$name.err")"
		return 1
	fi
	pass "bench $name ($*)"
}
# compare BASE NEW: print "rc regressed-metrics other-verdict-metrics"
compare() {
	"$V" compare --json "$B/$1.json" "$B/$2.json" > "$B/cmp-$1-$2.json" 2> "$B/cmp-$1-$2.err"
	local rc=$?
	"$V" compare "$B/$1.json" "$B/$2.json" > "$B/cmp-$1-$2.txt" 2>&1
	echo "$rc $(python3 -c '
import json, sys
ms = json.load(open(sys.argv[1]))["metrics"]
for v in ("regressed", "improved"):
    print(",".join(m["metric"] for m in ms if m["verdict"] == v) or "-", end=" ")' "$B/cmp-$1-$2.json" 2> /dev/null)"
}

echo 0 > $DH
run mdev-a --mdev "$M1" --total-pages $MDEV_PAGES --pages-per-call $PER_CALL
run pt-huge-a --mode passthrough --pci "$E1" --total-pages $PT_PAGES --hugetlb /mnt/huge
if [ $SMALL = 0 ]; then
	run mixed --mode mixed --mdev "$M1" --pci "$E1" --total-pages $MDEV_PAGES --pages-per-call $PER_CALL
	run pt-4k --mode passthrough --pci "$E1" --total-pages $PT_PAGES
fi

# checks against the client's own calls and vfiopin's own counts
calls=$(( (MDEV_PAGES + PER_CALL - 1) / PER_CALL * REP ))
python3 - "$B/mdev-a.json" "$calls" "$REP" "$MDEV_PAGES" <<-'EOF' && pass "bench: mdev samples = the client's calls ($calls); vfiopin's pin calls and pages the same" || fail "bench: mdev file: see above"
import json, sys
b = json.load(open(sys.argv[1])); calls, rep = int(sys.argv[2]), int(sys.argv[3])
m = b["metrics"]
errs = []
if b["schema"] != "vfiopin.bench" or b["version"] != 1: errs.append("schema")
for k, n in (("pin_call_ns", calls), ("unpin_call_ns", calls), ("pin_pages_per_s", calls), ("map_ns", rep), ("unmap_ns", rep)):
    if len(m.get(k, {}).get("samples", [])) != n: errs.append("%s: %d samples, want %d" % (k, len(m.get(k, {}).get("samples", [])), n))
h = b.get("vfiopin", {}).get("mdev", {})
if h.get("pin_calls") != calls: errs.append("vfiopin pin_calls %r, want %d" % (h.get("pin_calls"), calls))
if h.get("new_pins") != rep * int(sys.argv[4]): errs.append("vfiopin new_pins %r" % h.get("new_pins"))
if "pin_ns" not in b["vfiopin"].get("histograms", {}): errs.append("no pin_ns histogram")
if b.get("containers") != rep: errs.append("containers %r, want %d" % (b.get("containers"), rep))
e = b["environment"]
if not e.get("kernel_build", "").startswith("lab-") or e.get("type1_disable_hugepages") is not False: errs.append("environment %r" % e)
for x in errs: print("bench:", x)
sys.exit(1 if errs else 0)
EOF

# A/A: the same workload again on the same kernel
aa_alarms=0 aa_improved=0 aa_metrics=0
for i in $(seq $PAIRS); do
	run mdev-b$i --mdev "$M1" --total-pages $MDEV_PAGES --pages-per-call $PER_CALL
	run pt-huge-b$i --mode passthrough --pci "$E1" --total-pages $PT_PAGES --hugetlb /mnt/huge
	for w in mdev pt-huge; do
		read -r rc reg imp <<< "$(compare $w-a $w-b$i)"
		n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["metrics"]))' "$B/cmp-$w-a-$w-b$i.json" 2> /dev/null || echo 0)
		aa_metrics=$((aa_metrics + n))
		[ "$reg" = - ] || aa_alarms=$((aa_alarms + $(tr ',' '\n' <<< "$reg" | wc -l)))
		[ "$imp" = - ] || aa_improved=$((aa_improved + $(tr ',' '\n' <<< "$imp" | wc -l)))
		echo "A/A $w pair $i: exit $rc, regressed: $reg, improved: $imp"
	done
done
echo "A/A: $aa_alarms false regressions and $aa_improved false improvements in $aa_metrics metric comparisons"

# the injected slowdown: type1 maps 4 KiB at a time instead of 2 MiB
echo 1 > $DH
run pt-huge-nohuge --mode passthrough --pci "$E1" --total-pages $PT_PAGES --hugetlb /mnt/huge
echo 0 > $DH
read -r rc reg _ <<< "$(compare pt-huge-a pt-huge-nohuge)"
echo "disable_hugepages=1: exit $rc, regressed: $reg"
cat "$B/cmp-pt-huge-a-pt-huge-nohuge.txt"
check_eq "compare: disable_hugepages=1 on hugepage-backed RAM is a regression (exit)" "$rc" 1
case ",$reg," in
*,map_ns,*) pass "compare: map_ns regressed with disable_hugepages=1" ;;
*) fail "compare: map_ns not found regressed: $reg" ;;
esac
if [ $SMALL = 1 ]; then
	check_eq "A/A: no false regression in $aa_metrics metric comparisons" "$aa_alarms" 0
fi

python3 - "$B" "$aa_alarms" "$aa_metrics" "$aa_improved" <<-'EOF' > "$B/summary.json"
import json, sys, glob, os
d, alarms, metrics = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = {"aa_false_regressions": alarms, "aa_false_improvements": int(sys.argv[4]),
       "aa_metric_comparisons": metrics, "comparisons": {}}
for f in sorted(glob.glob(os.path.join(d, "cmp-*.json"))):
    c = json.load(open(f))
    out["comparisons"][os.path.basename(f)[4:-5]] = {m["metric"]: {"change": m["change"], "p": m["p"], "verdict": m["verdict"]} for m in c["metrics"]}
print(json.dumps(out, indent=1))
EOF
summary
