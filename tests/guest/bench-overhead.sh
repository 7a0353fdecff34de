#!/bin/bash
# What attaching vfiopin costs the pin path: the same pin/unpin loop through
# an mpin device with nothing attached, with vfiopin attached in each mode
# (tracepoint, fentry, kprobe), and (for reference) with the vfio_type1
# events enabled into ftrace's ring buffer, rotated in one run, for 512-page
# and 1-page calls.  With VFIOPIN_BENCH_BASE=PATH (another build of
# vfiopin, an earlier commit's), its fentry and kprobe modes run in the
# same rotation (fentry-base, kprobe-base): before and after, side by
# side.  Reports throughput
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
# attached MODE NPAGES COUNT: the loop with vfiopin attached in MODE
# (MODE-base: the base build's)
attached() {
	local mode=$1 bin=$VFIOPIN
	shift
	[[ $mode == *-base ]] && { bin=$VFIOPIN_BENCH_BASE mode=${mode%-base}; }
	"$bin" stat --mode "$mode" -d 3600 > /dev/null 2> /tmp/bench-vp.err &
	VP=$!
	for _ in $(seq 2400); do grep -q 'attached to' /tmp/bench-vp.err && break; sleep 0.05; done
	grep -q 'attached to' /tmp/bench-vp.err || die "vfiopin did not attach: $(cat /tmp/bench-vp.err)"
	local ns; ns=$(cycle_ns "$@")
	kill -INT $VP; wait $VP
	echo "$ns"
}

MODES=(detached tracepoint fentry kprobe ftrace)
if [ -n "${VFIOPIN_BENCH_BASE:-}" ]; then
	[ -x "$VFIOPIN_BENCH_BASE" ] || die "VFIOPIN_BENCH_BASE=$VFIOPIN_BENCH_BASE is not a program"
	MODES+=(fentry-base kprobe-base)
fi
cases=
for spec in "512 20" "1 2000"; do
	read -r npages count <<< "$spec"
	declare -A t=()
	cycle_ns "$npages" 2 > /dev/null # warm up
	# each round runs every configuration, starting from a different one
	for ((r = 0; r < ROUNDS; r++)); do
		for ((m = 0; m < ${#MODES[@]}; m++)); do
			mode=${MODES[$(((r + m) % ${#MODES[@]}))]}
			case $mode in
			detached) v=$(cycle_ns "$npages" "$count") ;;
			ftrace) v=$(ftraced "$npages" "$count") ;;
			*) v=$(attached "$mode" "$npages" "$count") ;;
			esac
			[ -n "$v" ] || die "a benchmark loop failed ($mode)"
			t[$mode]+="$v "
		done
		# progress, for the host's watchdog (lab/run.sh --idle) and for people
		echo "overhead: $npages-page calls: round $((r + 1)) of $ROUNDS done"
	done
	args=()
	for mode in "${MODES[@]}"; do args+=("$mode=${t[$mode]}"); done
	cases+=$(python3 "$TOP/tests/guest/bench_report.py" overhead-case "$npages" "$count" "${args[@]}")
	unset t
done
cat > "$OUT/bench-overhead.json" <<EOF
{"bench":"vfiopin-overhead","kernel":"$(uname -r)","cpus":$(nproc),"rounds":$ROUNDS,"base":"${VFIOPIN_BENCH_BASE:-}",
 "clocksource":"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)",
 "note":"X_throughput_ratio = median time untraced / median time with vfiopin attached in mode X (1.0 = no cost), ftrace: the events enabled into ftrace instead; X_extra_ns_per_call = the added time per pin or unpin call; TCG-emulated lab",
 "cases":[${cases%,}]}
EOF
python3 "$TOP/tests/guest/bench_report.py" overhead-report "$OUT/bench-overhead.json"
