#!/bin/bash
# The seed's test matrix (S1-S9) and S10, run in the lab with RLIMIT_MEMLOCK set to
# exactly the guest RAM, each scenario checked against oracles the kernel
# gives independently of the tracepoints: VmLck in /proc/PID/status, the
# mpin driver's own counters, the client's ioctl results.  Where the
# vfio_type1 event stream is used it must agree with them, and so must
# vfiopin (`vfiopin stat --json`, attached for the whole matrix and asked for
# a snapshot at every checkpoint with SIGUSR1).
#
# Each scenario is a file of tests/guest/scenarios/, run with the helpers
# below, in the order given (default: S1 to S10).
#
#   lab/run.sh -- tests/guest/scenarios.sh [S1 S2 ...]
# Writes $OUT/scenarios.json (one object per scenario) and prints a table.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RAM=16M RAM_KB=16384 RAM_PAGES=4096
# On the stock kernel (make check-stock) there are no vfio_type1 events to
# compare with, and vfiopin runs in a fallback mode that cannot see the
# devices an invalidation notified or how long it took: the checks that
# need the events or those figures are tagged @tp and skipped (and
# counted) there; the oracles (VmLck, the drivers' counters, the client's
# results) and every figure the fallback gives are still checked.
# (@fb: a figure only the fallback gives, skipped on the patched kernel.)
if [ "$STOCK" = 1 ]; then SKIP_TAGS=tp; else SKIP_TAGS=fb; fi
[ -x "$VMM" ] || die "$VMM is not built (make tools)"
read -r -a EDU <<< "$(bind_edu)"
[ ${#EDU[@]} -ge 2 ] || die "the matrix needs two edu devices (lab/run.sh --edu 2)"
load_mpin
M=()
for i in 1 2 3 4; do M+=("$(create_mdev $i)"); done
E1=${EDU[0]} E2=${EDU[1]}
RESULTS=$OUT/scenarios.json
: > "$RESULTS"

# --- vfiopin, attached for the whole matrix --------------------------------
# One vfiopin stat in --mode auto (the tracepoints on a patched kernel,
# fentry on a stock one).  On the stock kernel a second runs beside it in
# kprobe mode, and every vfiopin figure is checked in both (check_vp).
VFIOPIN=$TOP/build/vfiopin
[ -x "$VFIOPIN" ] || die "$VFIOPIN is not built (make tools)"
VP_MODES=(auto)
[ "$STOCK" = 1 ] && VP_MODES+=(kprobe)
declare -A VP_PIDS VP_LOGS VP_SNAPS VP_LABEL
for m in "${VP_MODES[@]}"; do
	sfx=; [ "$m" = auto ] || sfx=-$m
	VP_LOGS[$m]=$OUT/vfiopin-stat$sfx.jsonl VP_SNAPS[$m]=$OUT/vfiopin-snap$sfx.json
	VP_LABEL[$m]=; [ "$m" = auto ] || VP_LABEL[$m]=" [$m]"
	"$VFIOPIN" stat --json --mode "$m" > "${VP_LOGS[$m]}" 2> "$OUT/vfiopin-stat$sfx.err" &
	VP_PIDS[$m]=$!
	for _ in $(seq 2400); do
		grep -q 'attached to' "$OUT/vfiopin-stat$sfx.err" && break
		kill -0 "${VP_PIDS[$m]}" 2>/dev/null || die "vfiopin stat --mode $m failed: $(cat "$OUT/vfiopin-stat$sfx.err")"
		sleep 0.05
	done
	grep -q 'attached to' "$OUT/vfiopin-stat$sfx.err" || die "vfiopin stat --mode $m did not attach"
done
VP_SNAP=${VP_SNAPS[auto]}
vpq_start
# vp_snap: a fresh snapshot from every vfiopin into its VP_SNAPS file
vp_snap() {
	local m n
	for m in "${VP_MODES[@]}"; do
		n=$(wc -l < "${VP_LOGS[$m]}")
		kill -USR1 "${VP_PIDS[$m]}"
		for _ in $(seq 2400); do
			[ "$(wc -l < "${VP_LOGS[$m]}")" -gt "$n" ] && break
			sleep 0.05
		done
		if [ "$(wc -l < "${VP_LOGS[$m]}")" -le "$n" ]; then
			fail "$SC: vfiopin --mode $m gave no snapshot"
			return 1
		fi
		tail -1 "${VP_LOGS[$m]}" > "${VP_SNAPS[$m]}"
	done
}
# check_vp [@TAG] DESC WANT -- FUNC ARG...: check_eq of what FUNC prints
# (vp, vpc, vpcs, vp_kb, vp_pages_kb, vp_commas) against WANT, for each
# vfiopin's last snapshot in turn (the second one's description says its
# mode).
check_vp() {
	local tag=() mode desc want
	[[ $1 == @* ]] && { tag=("$1"); shift; }
	desc=$1 want=$2
	[ "$3" = -- ] || { fail "check_vp $desc: no -- before the query"; return; }
	shift 3
	for mode in "${VP_MODES[@]}"; do
		VP_SNAP=${VP_SNAPS[$mode]}
		check_eq "${tag[@]}" "$desc${VP_LABEL[$mode]}" "$("$@")" "$want"
	done
	VP_SNAP=${VP_SNAPS[auto]}
}
# vp SELECTOR PATH: one figure of the last snapshot (lib.sh, vpq)
vp() { vpq "$VP_SNAP" "$@"; }
# vp_kb SELECTOR [PATH]: a figure in bytes (locked_bytes by default) in kB
vp_kb() {
	local b
	b=$(vp "$1" "${2:-locked_bytes}")
	[[ $b =~ ^[0-9]+$ ]] && echo $((b / 1024)) || echo "$b"
}
# vp_pages_kb SELECTOR PATH: a figure in pages, in kB
vp_pages_kb() {
	local p
	p=$(vp "$1" "$2")
	[[ $p =~ ^[0-9]+$ ]] && echo $((p * 4)) || echo "$p"
}
# vp_commas SELECTOR PATH: the commas in a figure (a list of N has N - 1)
vp_commas() { vp "$1" "$2" | tr -cd , | wc -c; }

# --- running the client with checkpoints ---------------------------------
# start_vm TAG ARGS...: start the client in the background; its stdin is a
# FIFO so that each "hold" step waits for "release TAG".
# VFD: the write end of each client's FIFO
declare -A VPID VJSON VHOLDS VFD
start_vm() {
	local tag=$1; shift
	rm -f "/tmp/vm-$tag.in"
	mkfifo "/tmp/vm-$tag.in"
	VJSON[$tag]=$OUT/vm-$tag.json
	"$VMM" "$@" < "/tmp/vm-$tag.in" > "${VJSON[$tag]}" 2> "$OUT/vm-$tag.err" &
	VPID[$tag]=$!
	VHOLDS[$tag]=0
	local fd
	exec {fd}> "/tmp/vm-$tag.in"
	VFD[$tag]=$fd
}
# hold TAG: wait until the client holds for the next time.
hold() {
	local tag=$1
	VHOLDS[$tag]=$((VHOLDS[$tag] + 1))
	while [ "$(grep -c '"event":"holding"' "${VJSON[$tag]}")" -lt "${VHOLDS[$tag]}" ]; do
		kill -0 "${VPID[$tag]}" 2>/dev/null || { fail "$tag ended before hold ${VHOLDS[$tag]}: $(cat "$OUT/vm-$tag.err")"; return 1; }
		sleep 0.05
	done
}
release() { echo go >&"${VFD[$1]}"; }
# close_vm TAG: close its stdin (the FIFO's write end)
close_vm() {
	local fd=${VFD[$1]}
	exec {fd}>&-
}
# finish TAG: close its stdin and wait; prints the exit status.
finish() {
	close_vm "$1"
	wait "${VPID[$1]}"
}
cid_of() { events "$TRACEFS/trace" vfio_type1_container_open | grep " tgid=${VPID[$1]} " | tail -1 | sed -E 's/^cid=([0-9]+).*/\1/'; }

# Sum of successful account deltas for one container, in kB.
acct_kb() {
	awk -v c="cid=$1" '/ vfio_type1_account: / && / ret=0/ && $0 ~ (" " c " ") {
		for (i = 1; i <= NF; i++) if ($i ~ /^delta=/) { split($i, a, "="); s += a[2] } }
		END { print s * 4 }' "$TRACEFS/trace"
}
# Highest locked_vm any account event reported for one container, in pages.
peak_locked() {
	awk -v c="cid=$1" '/ vfio_type1_account: / && $0 ~ (" " c " ") {
		for (i = 1; i <= NF; i++) if ($i ~ /^locked_vm=/) { split($i, a, "="); if (a[2] > m) m = a[2] } }
		END { print m + 0 }' "$TRACEFS/trace"
}
# Pages pinned minus pages unpinned through the external interface.
pin_balance() {
	local p u
	p=$(grep -c " vfio_type1_pin_page: cid=$1 " "$TRACEFS/trace")
	u=$(grep -c " vfio_type1_unpin_page: cid=$1 " "$TRACEFS/trace")
	echo $((p - u))
}
count_ev() { grep -c " vfio_type1_$2: cid=$1 " "$TRACEFS/trace"; }

# checkpoint TAG EXPECTED_KB: VmLck of the client and the container's
# account deltas both equal the expected charge.
checkpoint() {
	local tag=$1 want=$2 got cid
	hold "$tag" || return 1
	got=$(vmlck_kb "${VPID[$tag]}")
	cid=$(cid_of "$tag")
	check_eq "$SC: VmLck of $tag (kB)" "$got" "$want"
	check_eq @tp "$SC: account deltas of cid $cid (kB) vs VmLck" "$(acct_kb "$cid")" "$got"
	VMLCK_SEEN+="$got "
	vp_snap || return 1
	check_vp "$SC: vfiopin: locked memory of $tag's container (kB) vs VmLck" \
		"$got" -- vp_kb "tgid=${VPID[$tag]}"
	check_vp @tp "$SC: vfiopin: container id of $tag vs the trace" "$cid" -- vp "tgid=${VPID[$tag]}" cid
	check_eq @tp "$SC: vfiopin: mdev references (all containers) vs the drivers' counts" \
		"$(vp all mdev.pin_refs)" "$(drv_pinned_total)"
}
# vpc TAG PATH: a vfiopin figure of TAG's container (last snapshot)
vpc() { vp "tgid=${VPID[$1]}" "$2"; }
# vpcs TAG PATH...: several figures of TAG's container, on one line
vpcs() {
	local tag=$1 out=() p
	shift
	for p in "$@"; do out+=("$(vpc "$tag" "$p")"); done
	echo "${out[*]}"
}

drv_pinned_total() {
	local s=0 u
	for u in "${M[@]}"; do s=$((s + $(mdev_counter "$u" pinned))); done
	echo $s
}

# scenario NAME DESCRIPTION: start one; end_scenario records it.
scenario() {
	SC=$1
	SC_DESC=$2
	SC_FAIL0=$T_FAIL SC_PASS0=$T_PASS
	SC_T0=$(date +%s.%N)
	VMLCK_SEEN= VMLCK_WANT=
	local u i
	for i in 0 1 2 3; do remove_mdev "${M[$i]}"; M[$i]=$(create_mdev $((i + 1))); done
	trace_start
	echo "=== $SC: $SC_DESC"
}
end_scenario() {
	local t1 status=pass
	trace_stop "$OUT/trace-$SC.txt"
	check_eq "$SC: every mpin pin released (driver)" "$(drv_pinned_total)" 0
	if vp_snap; then
		check_vp "$SC: vfiopin: no mdev references left" 0 -- vp all mdev.pin_refs
		check_vp "$SC: vfiopin: no leaked pins" 0 -- vp all leaked_pins
	fi
	t1=$(date +%s.%N)
	[ "$T_FAIL" -eq "$SC_FAIL0" ] || status=FAIL
	printf '{"scenario":"%s","kernel":"%s","desc":"%s","result":"%s","checks":%d,"failed":%d,"vmlck_seen_kb":"%s","vmlck_expected_kb":"%s","driver":"%s","seconds":%.1f}\n' \
		"$SC" "$(uname -r)" "$SC_DESC" "$status" $((T_PASS + T_FAIL - SC_PASS0 - SC_FAIL0)) $((T_FAIL - SC_FAIL0)) \
		"${VMLCK_SEEN% }" "${VMLCK_WANT% }" "${SC_DRV:-}" "$(awk -v a="$SC_T0" -v b="$t1" 'BEGIN{print b-a}')" >> "$RESULTS"
	SC_DRV=
}
want() { VMLCK_WANT+="$1 "; }

# --- the scenarios: one file each, tests/guest/scenarios/SN.sh ------------
run_scenario() {
	local f=$TOP/tests/guest/scenarios/$1.sh
	[ -r "$f" ] || die "unknown scenario $1 (no $f)"
	. "$f"
}

list=("$@")
[ ${#list[@]} -gt 0 ] || list=(S1 S2 S3 S4 S5 S6 S7 S8 S9 S10)
for s in "${list[@]}"; do
	case $s in S[1-9] | S10) run_scenario "$s" ;; *) die "unknown scenario $s" ;; esac
done

# vfiopin over the whole matrix: nothing dropped, every end matched
SC=vfiopin
for m in "${VP_MODES[@]}"; do
	kill -INT "${VP_PIDS[$m]}"
	wait "${VP_PIDS[$m]}"
	check_eq "vfiopin stat${VP_LABEL[$m]}: exit status" $? 0
	tail -1 "${VP_LOGS[$m]}" > "${VP_SNAPS[$m]}"
done
check_vp "vfiopin: no drops over the matrix" '{"inflight":0,"map_full":0,"ringbuf":0}' -- vp top drops
check_vp "vfiopin: every _end had its _begin" 0 -- vp top unmatched_end
for m in "${VP_MODES[@]}"; do
	want_mode=$m
	[ "$m" = auto ] && want_mode=$([ "$STOCK" = 1 ] && echo fentry || echo tracepoint)
	check_eq "vfiopin${VP_LABEL[$m]}: the mode it ran in" \
		"$(vpq "${VP_SNAPS[$m]}" top mode)" "$want_mode"
done
check_eq @tp "vfiopin: pin_page events seen vs the kernel's trace of all scenarios" \
	"$(vp top events.pin_page)" "$(cat "$OUT"/trace-S*.txt | grep -c ' vfio_type1_pin_page: ')"
if cat "${VP_LOGS[@]}" | grep -qE '0x[0-9a-f]{12,}|ffff[0-9a-f]{12}'; then
	fail "vfiopin: something that looks like a kernel address in its output"
else
	pass "vfiopin: no kernel address in its output"
fi

echo
printf '%-4s %-22s %-6s %-28s %-28s %-32s %s\n' scen kernel result "VmLck seen (kB)" "VmLck expected (kB)" "driver" seconds
python3 "$TOP/tests/guest/report.py" scenario-rows "$RESULTS"
summary
