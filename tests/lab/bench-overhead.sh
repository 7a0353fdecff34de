#!/bin/bash
# What attaching vfiopin costs the pin path: the same pin/unpin loop through
# an mpin device with nothing attached, with vfiopin attached, and (for
# reference) with the vfio_type1 events enabled into ftrace's ring buffer,
# rotated in one run, for 512-page and 1-page calls.  Reports throughput
# ratios against the untraced loop per call size in
# $OUT/bench-overhead.json, with the clocksource in use (every timed event
# reads it).  A benchmark: nothing here is asserted about time.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-4}
VFIOPIN=$TOP/build/vfiopin
load_mpin
M1=$(create_mdev 1)

# cycle_ns NPAGES COUNT: the client's own time for COUNT pin+unpin pairs
cycle_ns() {
	"$VMM" --mem 4M --memlock 4M attach "$M1" map 0 4M cycle "$M1" 0 "$1" "$2" \
		unmap 0 4M detach "$M1" | sed -nE 's/.*"op":"cycle".*"ns":([0-9]+).*"ret":0.*/\1/p'
}
ftraced() {
	echo 1 > "$TRACEFS/events/vfio_type1/enable"
	cycle_ns "$@"
	echo 0 > "$TRACEFS/events/vfio_type1/enable"
}
attached() {
	"$VFIOPIN" stat -d 3600 > /dev/null 2> /tmp/bench-vp.err &
	VP=$!
	for _ in $(seq 200); do grep -q 'attached to' /tmp/bench-vp.err && break; sleep 0.05; done
	grep -q 'attached to' /tmp/bench-vp.err || die "vfiopin did not attach: $(cat /tmp/bench-vp.err)"
	local ns; ns=$(cycle_ns "$@")
	kill -INT $VP; wait $VP
	echo "$ns"
}

cases=
for spec in "512 20" "1 2000"; do
	read -r npages count <<< "$spec"
	off=() on=() ft=()
	cycle_ns "$npages" 2 > /dev/null # warm up
	for ((r = 0; r < ROUNDS; r++)); do
		for ((m = 0; m < 3; m++)); do
			case $(((r + m) % 3)) in
			0) off+=("$(cycle_ns "$npages" "$count")") ;;
			1) on+=("$(attached "$npages" "$count")") ;;
			2) ft+=("$(ftraced "$npages" "$count")") ;;
			esac
		done
	done
	for v in "${off[@]}" "${on[@]}" "${ft[@]}"; do [ -n "$v" ] || die "a benchmark loop failed"; done
	cases+=$(python3 - "$npages" "$count" "${off[*]}" "${on[*]}" "${ft[*]}" <<'EOF'
import json, statistics, sys
npages, count = int(sys.argv[1]), int(sys.argv[2])
off, on, ft = ([int(x) for x in a.split()] for a in sys.argv[3:6])
calls = 2 * count
med = statistics.median
print(json.dumps({
    "npages": npages, "pin_unpin_pairs": count,
    "detached_ns": off, "attached_ns": on, "ftrace_ns": ft,
    "detached_calls_per_s": calls / (med(off) / 1e9),
    "attached_calls_per_s": calls / (med(on) / 1e9),
    "throughput_ratio": med(off) / med(on),
    "ftrace_throughput_ratio": med(off) / med(ft),
}) + ",")
EOF
)
done
cat > "$OUT/bench-overhead.json" <<EOF
{"bench":"vfiopin-overhead","kernel":"$(uname -r)","cpus":$(nproc),"rounds":$ROUNDS,
 "clocksource":"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)",
 "note":"throughput_ratio = median time untraced / median time with vfiopin attached (1.0 = no cost); ftrace_throughput_ratio the same with the events enabled into ftrace instead; TCG-emulated lab",
 "cases":[${cases%,}]}
EOF
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print("ok: %d-page calls: throughput with vfiopin %.3f, with ftrace %.3f of untraced (clocksource %s)" % (c["npages"], c["throughput_ratio"], c["ftrace_throughput_ratio"], d["clocksource"])) for c in d["cases"]]' "$OUT/bench-overhead.json"
