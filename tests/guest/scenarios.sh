#!/bin/bash
# The seed's test matrix (S1-S9), run in the lab with RLIMIT_MEMLOCK set to
# exactly the guest RAM, each scenario checked against oracles the kernel
# gives independently of the tracepoints: VmLck in /proc/PID/status, the
# mpin driver's own counters, the client's ioctl results.  Where the
# vfio_type1 event stream is used it must agree with them, and so must
# vfiopin (`vfiopin stat --json`, attached for the whole matrix and asked for
# a snapshot at every checkpoint with SIGUSR1).
#
#   lab/run.sh -- tests/guest/scenarios.sh [S1 S2 ...]
# Writes $OUT/scenarios.json (one object per scenario) and prints a table.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RAM=16M RAM_KB=16384 RAM_PAGES=4096
# On the stock kernel (make check-stock) there are no vfio_type1 events to
# compare with, and vfiopin runs in a fallback mode that cannot see per-page
# pins, refcounts, invalidations, re-accounting or leaks: the checks that
# need them are tagged @tp and skipped (and counted) there; the oracles
# (VmLck, the drivers' counters, the client's results) and every figure the
# fallback gives are still checked.
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
		check_eq @tp "$SC: vfiopin: no mdev references left" "$(vp all mdev.pin_refs)" 0
		check_eq @tp "$SC: vfiopin: no leaked pins" "$(vp all leaked_pins)" 0
	fi
	t1=$(date +%s.%N)
	[ "$T_FAIL" -eq "$SC_FAIL0" ] || status=FAIL
	printf '{"scenario":"%s","kernel":"%s","desc":"%s","result":"%s","checks":%d,"failed":%d,"vmlck_seen_kb":"%s","vmlck_expected_kb":"%s","driver":"%s","seconds":%.1f}\n' \
		"$SC" "$(uname -r)" "$SC_DESC" "$status" $((T_PASS + T_FAIL - SC_PASS0 - SC_FAIL0)) $((T_FAIL - SC_FAIL0)) \
		"${VMLCK_SEEN% }" "${VMLCK_WANT% }" "${SC_DRV:-}" "$(awk -v a="$SC_T0" -v b="$t1" 'BEGIN{print b-a}')" >> "$RESULTS"
	SC_DRV=
}
want() { VMLCK_WANT+="$1 "; }

# --- the scenarios -------------------------------------------------------
S1() {
	scenario S1 "mdev only"
	start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" map 0 $RAM \
		pin "${M[0]}" 0 512 pin "${M[0]}" 0x200000 512 pin "${M[0]}" 0 16 hold \
		unpin "${M[0]}" 0 512 hold unpin "${M[0]}" 0x200000 512 unpin "${M[0]}" 0 16 \
		unmap 0 $RAM detach "${M[0]}"
	want 4096; checkpoint a 4096
	SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned) pages=$(mdev_counter "${M[0]}" pages)"
	check_eq "S1: driver references held" "$(mdev_counter "${M[0]}" pinned)" 1040
	check_eq @tp "S1: trace pins - unpins vs driver" "$(pin_balance "$(cid_of a)")" 1040
	check_vp @tp "S1: vfiopin: distinct pages pinned vs driver" \
		"$(mdev_counter "${M[0]}" pages)" -- vpc a mdev.pages_pinned
	check_vp "S1: vfiopin: pin calls vs driver" \
		"$(mdev_counter "${M[0]}" pin_calls)" -- vpc a mdev.pin_calls
	check_vp @tp "S1: vfiopin: live refcounts = the pattern pinned (1008 pages once, 16 twice)" \
		'{"1":1008,"2":16}' -- vpc a refcount.live
	check_vp "S1: vfiopin: headroom (bytes)" $(((RAM_KB - 4096) * 1024)) -- vpc a headroom_bytes
	release a
	want 2112; checkpoint a 2112
	check_eq "S1: doubly pinned pages still held once (driver)" "$(mdev_counter "${M[0]}" pinned)" 528
	check_vp @tp "S1: vfiopin: live refcounts after the unpin" '{"1":528}' -- vpc a refcount.live
	check_vp "S1: vfiopin: unpin calls vs driver" \
		"$(mdev_counter "${M[0]}" unpin_calls)" -- vpc a mdev.unpin_calls
	release a
	finish a; check_eq "S1: client status" $? 0
	check_eq "S1: VmLck at the end" "$(tail -1 "${VJSON[a]}" | sed -E 's/.*"vmlck_kb":([0-9]+).*/\1/')" 0
	end_scenario
}

S2() {
	scenario S2 "passthrough only"
	start_vm a --mem $RAM --memlock $RAM attach "$E1" map 0 8M map 0x800000 8M hold \
		unmap 0 8M hold unmap 0x800000 8M detach "$E1"
	want $RAM_KB; checkpoint a $RAM_KB
	local c; c=$(cid_of a)
	check_eq @tp "S2: MAP_DMA pinned through the IOMMU path" "$(count_ev "$c" dma_map_end | tr -d ' ')" 2
	check_eq @tp "S2: peak locked_vm (pages) equals the limit" "$(peak_locked "$c")" $RAM_PAGES
	check_vp "S2: vfiopin: passthrough pages pinned" $RAM_PAGES -- vpc a passthrough.pinned_pages
	check_vp "S2: vfiopin: passthrough pages mapped" $RAM_PAGES -- vpc a passthrough.mapped_pages
	check_vp "S2: vfiopin: MAP_DMA calls, as the client's" \
		"$(grep -c '"op":"map".*"ret":0,' "${VJSON[a]}")" -- vpc a passthrough.dma_maps
	check_vp "S2: vfiopin: limit (bytes)" $((RAM_KB * 1024)) -- vpc a limit_bytes
	check_vp "S2: vfiopin: peak locked pages = VmLck's peak" $RAM_PAGES -- vpc a locked_peak_pages
	check_vp "S2: vfiopin: no replay (the first device's domain is new)" \
		"0 0" -- vpcs a passthrough.replays passthrough.replay_pages
	release a
	want 8192; checkpoint a 8192
	check_vp "S2: vfiopin: passthrough pages after unmapping half" 2048 -- vpc a passthrough.pinned_pages
	check_vp "S2: vfiopin: passthrough pages mapped after unmapping half" \
		2048 -- vpc a passthrough.mapped_pages
	check_vp @fb "S2: vfiopin: UNMAP_DMA calls, as the client's" \
		"$(grep -c '"op":"unmap".*"ret":0,' "${VJSON[a]}")" -- vpc a passthrough.unmap_calls
	check_vp @tp "S2: vfiopin: mappings unmapped, as the client's" \
		"$(grep -c '"op":"unmap".*"ret":0,' "${VJSON[a]}")" -- vpc a passthrough.dma_unmaps
	release a
	finish a; check_eq "S2: client status" $? 0
	# the same with guest RAM on hugetlbfs (2 MiB pages)
	echo 8 > /proc/sys/vm/nr_hugepages
	if [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 8 ] && mountpoint -q /mnt/huge; then
		start_vm h --mem $RAM --memlock $RAM --hugetlb /mnt/huge attach "$E1" map 0 $RAM hold \
			unmap 0 $RAM detach "$E1"
		want $RAM_KB; checkpoint h $RAM_KB
		release h
		finish h; check_eq "S2: hugetlbfs client status" $? 0
	else
		fail "S2: could not get 8 huge pages on /mnt/huge for the hugetlbfs variant"
	fi
	check_eq @tp "S2: unpinned on unmap (trace)" "$(events "$TRACEFS/trace" vfio_type1_dma_unmap | grep "cid=$c " | awk '{for(i=1;i<=NF;i++) if($i~/^unpinned=/){split($i,a,"=");s+=a[2]}} END{print s}')" $RAM_PAGES
	end_scenario
}

S3() {
	scenario S3 "mdev and passthrough in one container"
	start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" attach "$E1" map 0 $RAM \
		pin "${M[0]}" 0 512 pin "${M[0]}" 0x800000 256 hold \
		unpin "${M[0]}" 0 512 unpin "${M[0]}" 0x800000 256 unmap 0 $RAM detach "$E1" detach "${M[0]}"
	want $RAM_KB; checkpoint a $RAM_KB
	local c; c=$(cid_of a)
	SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)"
	check_eq "S3: driver holds its pins" "$(mdev_counter "${M[0]}" pinned)" 768
	check_eq @tp "S3: mdev pins not charged twice (peak locked_vm pages)" "$(peak_locked "$c")" $RAM_PAGES
	check_eq @tp "S3: pages charged in all = guest RAM (mdev pins add nothing)" \
		"$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep 'ret=0' |
			awk '{for(i=1;i<=NF;i++) if($i~/^delta=[0-9]/){split($i,a,"=");s+=a[2]}} END{print s}')" $RAM_PAGES
	release a
	finish a; check_eq "S3: client status" $? 0
	end_scenario
}

S4() {
	scenario S4 "mdev hotplug and unplug while passthrough exists"
	start_vm a --mem $RAM --memlock $RAM attach "$E1" map 0 $RAM hold \
		attach "${M[0]}" pin "${M[0]}" 0 256 pin "${M[0]}" 0 256 hold \
		detach "${M[0]}" hold \
		attach "${M[0]}" pin "${M[0]}" 0x100000 64 detach "${M[0]}" \
		unmap 0 $RAM detach "$E1"
	want $RAM_KB; checkpoint a $RAM_KB
	release a
	want $RAM_KB; checkpoint a $RAM_KB
	SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)"
	check_eq "S4: driver pinned after hotplug" "$(mdev_counter "${M[0]}" pinned)" 512
	release a
	want $RAM_KB; checkpoint a $RAM_KB
	check_eq "S4: unplug released the mdev's pins (driver)" "$(mdev_counter "${M[0]}" pinned)" 0
	local c; c=$(cid_of a)
	check_eq @tp "S4: trace pins - unpins after unplug" "$(pin_balance "$c")" 0
	check_eq @tp "S4: emulated attaches/detaches so far" "$(count_ev "$c" group_attach) $(count_ev "$c" group_detach)" "2 1"
	release a
	finish a; check_eq "S4: client status" $? 0
	check_eq @tp "S4: peak locked_vm (pages) never above the limit" "$(( $(peak_locked "$c") <= RAM_PAGES ))" 1
	end_scenario
}

S5() {
	scenario S5 "passthrough hotplug and unplug while the mdev holds pins"
	start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" map 0 $RAM \
		pin "${M[0]}" 0 256 pin "${M[0]}" 0x400000 256 hold \
		attach "$E1" hold detach "$E1" hold attach "$E1" hold detach "$E1" hold \
		unpin "${M[0]}" 0 256 unpin "${M[0]}" 0x400000 256 unmap 0 $RAM detach "${M[0]}"
	want 2048; checkpoint a 2048
	release a
	want $RAM_KB; checkpoint a $RAM_KB
	check_vp "S5: vfiopin: passthrough pages with the device plugged" \
		$RAM_PAGES -- vpc a passthrough.pinned_pages
	release a
	want 2048; checkpoint a 2048
	check_vp "S5: vfiopin: no passthrough pages once unplugged" 0 -- vpc a passthrough.pinned_pages
	release a
	want $RAM_KB; checkpoint a $RAM_KB
	release a
	want 2048; checkpoint a 2048
	check_vp @tp "S5: vfiopin: replays, reaccounts, peak locked pages" \
		"2 2 $RAM_PAGES" -- vpcs a passthrough.replays passthrough.reaccounts locked_peak_pages
	check_vp "S5: vfiopin: no limit hit" 0 -- vpc a limit_hits
	check_vp "S5: vfiopin: a replay per hotplug, each pinning all guest RAM" \
		"2 $((2 * RAM_PAGES))" -- vpcs a passthrough.replays passthrough.replay_pages
	check_vp "S5: vfiopin: peak locked pages = VmLck's peak" $RAM_PAGES -- vpc a locked_peak_pages
	SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)"
	check_eq "S5: the mdev kept its pins through both hotplugs (driver)" "$(mdev_counter "${M[0]}" pinned)" 512
	release a
	finish a; check_eq "S5: client status" $? 0
	local c; c=$(cid_of a)
	check_eq @tp "S5: no limit hit" "$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep -c 'ret=-12')" 0
	check_eq @tp "S5: running locked_vm never above the limit (peak pages)" "$(peak_locked "$c")" $RAM_PAGES
	check_eq @tp "S5: replays and reaccounts" "$(count_ev "$c" replay_end) $(count_ev "$c" reaccount)" "2 2"
	check_eq @tp "S5: charges = mdev pins + two replays of what the mdev did not hold (pages)" \
		"$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep 'ret=0' |
			awk '{for(i=1;i<=NF;i++) if($i~/^delta=[0-9]/){split($i,a,"=");s+=a[2]}} END{print s}')" \
		$((512 + 2 * (RAM_PAGES - 512)))
	# a detached device frees its slot in the client: 20 hotplug cycles
	# (more than the client's 16 slots) in one VM, its memory mapped each time
	local cyc=() rc
	for _ in $(seq 20); do cyc+=(attach "$E1" map 0 1M detach "$E1"); done
	"$VMM" --mem 1M --memlock 1M "${cyc[@]}" status > "$OUT/s5-cycles.json" 2>&1
	rc=$?
	check_eq "S5: 20 hotplug cycles of one device in one client (status, attaches)" \
		"$rc $(grep -c '"op":"attach".*"ret":0,' "$OUT/s5-cycles.json")" "0 20"
	end_scenario
}

S6() {
	scenario S6 "one page over the limit"
	# passthrough: guest RAM one page larger than the limit
	start_vm a --mem $((RAM_KB + 4))K --memlock $RAM attach "$E1" map 0 $RAM hold \
		map=ENOMEM $((RAM_KB * 1024)) 4K hold unmap 0 $RAM detach "$E1"
	want $RAM_KB; checkpoint a $RAM_KB
	release a
	want $RAM_KB; checkpoint a $RAM_KB
	local c; c=$(cid_of a)
	local hit; hit=$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep 'ret=-12')
	check_eq @tp "S6: passthrough limit hit reported once" "$(wc -l <<< "$hit")" 1
	check_eq @tp "S6: limit hit at locked_vm = limit" "$(field "$hit" locked_vm) $(field "$hit" limit)" "$RAM_PAGES $((RAM_KB * 1024))"
	check_vp "S6: vfiopin: one limit hit, as the client's one ENOMEM" \
		"$(grep -c '"errno":"ENOMEM"' "${VJSON[a]}")" -- vpc a limit_hits
	check_vp "S6: vfiopin: the failed MAP_DMA" 1 -- vpc a passthrough.dma_map_failures
	release a
	finish a; check_eq "S6: client status (ENOMEM was expected)" $? 0
	grep -qE '"op":"map","iova":16777216,"size":4096,"ret":-12,("step_ns":[0-9]+,)?"errno":"ENOMEM"' "${VJSON[a]}" &&
		pass "S6: MAP_DMA returned ENOMEM" || fail "S6: MAP_DMA did not return ENOMEM"
	# mdev: pin the whole limit, then one more page
	local steps=() off
	for ((off = 0; off < RAM_KB * 1024; off += 2097152)); do steps+=(pin "${M[0]}" $off 512); done
	start_vm b --mem $((RAM_KB + 4))K --memlock $RAM attach "${M[0]}" map 0 $((RAM_KB + 4))K \
		"${steps[@]}" pin=ENOMEM "${M[0]}" $((RAM_KB * 1024)) 1 hold \
		unpin "${M[0]}" 0 512 pin "${M[0]}" $((RAM_KB * 1024)) 1 hold \
		unmap 0 $((RAM_KB + 4))K detach "${M[0]}"
	want $RAM_KB; checkpoint b $RAM_KB
	SC_DRV="failures=$(mdev_counter "${M[0]}" failures)"
	check_eq "S6: mdev pin over the limit counted as a failure (driver)" "$(mdev_counter "${M[0]}" failures)" 1
	check_eq "S6: earlier pins undisturbed (driver)" "$(mdev_counter "${M[0]}" pinned)" $RAM_PAGES
	check_vp "S6: vfiopin: mdev limit hit and failed pin vs the driver's failures" \
		"$(mdev_counter "${M[0]}" failures) $(mdev_counter "${M[0]}" failures)" -- vpcs b limit_hits mdev.pin_enomem
	check_vp "S6: vfiopin: headroom at the limit" 0 -- vpc b headroom_ratio
	release b
	want $((RAM_KB - 2048 + 4)); checkpoint b $((RAM_KB - 2048 + 4))
	release b
	finish b; check_eq "S6: client status (ENOMEM was expected)" $? 0
	end_scenario
}

S7() {
	scenario S7 "SIGKILL of the VMM with pins outstanding"
	start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" attach "${M[1]}" attach "$E1" map 0 $RAM \
		pin "${M[0]}" 0 512 pin "${M[1]}" 0 512 pin "${M[1]}" 0x800000 100 hold hold
	want $RAM_KB; checkpoint a $RAM_KB
	local c; c=$(cid_of a)
	check_eq "S7: pins outstanding before the kill (driver)" "$(( $(mdev_counter "${M[0]}" pinned) + $(mdev_counter "${M[1]}" pinned) ))" 1124
	kill -KILL "${VPID[a]}"
	wait "${VPID[a]}" 2>/dev/null
	close_vm a
	# The release happens as the process's files close; give it a moment.
	for _ in $(seq 1200); do
		[ "$STOCK" = 1 ] || [ "$(count_ev "$c" container_release)" = 1 ] && break
		sleep 0.1
	done
	check_eq @tp "S7: container released" "$(count_ev "$c" container_release)" 1
	check_eq @tp "S7: nothing left at release (trace)" "$(events "$TRACEFS/trace" vfio_type1_container_release | grep "cid=$c " | sed -E 's/.*(dmas=)/\1/')" "dmas=0 pinned=0 locked=0"
	check_eq @tp "S7: no leaked pins on DMA removal" "$(events "$TRACEFS/trace" vfio_type1_dma_remove | grep "cid=$c " | grep -vc 'leaked=0')" 0
	check_eq @tp "S7: trace pins - unpins" "$(pin_balance "$c")" 0
	if vp_snap; then
		check_eq @tp "S7: vfiopin: released, nothing leaked, nothing pinned, nothing locked" \
			"$(vp "cid=$c" released) $(vp "cid=$c" leaked_pins) $(vp "cid=$c" mdev.pin_refs) $(vp "cid=$c" locked_pages)" "true 0 0 0"
		# the uncharges type1 made after the owner's mm was gone (-ESRCH,
		# in the kernel's own trace) are netted, and none is a failure
		check_eq @tp "S7: vfiopin: charged pages net, accounting failures (after ESRCH uncharges in the trace)" \
			"$(vp "cid=$c" charged_pages) $(vp "cid=$c" account_failures) $(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep -c 'ret=-3' | sed 's/^[1-9][0-9]*$/some/')" "0 0 some"
		vp_snap
		check_eq "S7: vfiopin: the released container is retired after being reported" "$(vp "cid=$c" cid)" none
	fi
	SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)+$(mdev_counter "${M[1]}" pinned)"
	end_scenario
}

S8() {
	scenario S8 "DMA unmap over pinned pages (invalidation)"
	start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" attach "${M[1]}" map 0 8M map 0x800000 8M \
		pin "${M[0]}" 0x800000 16 pin "${M[1]}" 0x800000 16 pin "${M[0]}" 0 4 hold \
		unmap 0x800000 8M hold unpin "${M[0]}" 0 4 unmap 0 8M detach "${M[0]}" detach "${M[1]}"
	want 80; checkpoint a 80
	release a
	want 16; checkpoint a 16
	local c inv; c=$(cid_of a)
	inv=$(events "$TRACEFS/trace" vfio_type1_invalidate_begin | grep "cid=$c ")
	check_eq @tp "S8: invalidation range, pages, devices" "$(field "$inv" iova) $(field "$inv" size) $(field "$inv" pinned) $(field "$inv" devices)" "0x800000 0x800000 16 2"
	check_eq @tp "S8: nothing pinned after the notification" "$(field "$(events "$TRACEFS/trace" vfio_type1_invalidate_end | grep "cid=$c ")" pinned)" 0
	SC_DRV="inv=$(mdev_counter "${M[0]}" invalidations)/$(mdev_counter "${M[1]}" invalidations) inv_pages=$(mdev_counter "${M[0]}" inv_pages)/$(mdev_counter "${M[1]}" inv_pages)"
	check_eq "S8: both drivers dropped their pins" "$(mdev_counter "${M[0]}" inv_pages) $(mdev_counter "${M[1]}" inv_pages)" "16 16"
	check_vp @tp "S8: vfiopin: invalidations, pages dropped, devices notified" \
		"$(mdev_counter "${M[0]}" invalidations) 16 2" -- vpcs a invalidations.count invalidations.pages invalidations.devices_notified
	check_vp @tp "S8: vfiopin: invalidation latency measured" 1 -- vpc a latency.invalidate.count
	grep -q '"op":"unmap","iova":8388608,"size":8388608,"unmapped":8388608,"ret":0' "${VJSON[a]}" &&
		pass "S8: the unmap completed in full" || fail "S8: the unmap did not complete"
	release a
	finish a; check_eq "S8: client status" $? 0
	end_scenario
}

S10() {
	scenario S10 "two containers over the same memory (a vIOMMU's per-device containers)"
	# at one container's need: the second container's MAP_DMA of the same RAM fails
	start_vm a --mem $RAM --memlock $RAM attach "$E1" map 0 $RAM container attach "$E2" \
		map=ENOMEM 0 $RAM hold detach "$E2"
	hold a || return
	want $RAM_KB
	local kb pid=${VPID[a]} c cids
	kb=$(vmlck_kb "$pid")
	check_eq "S10: VmLck of a (kB): the first container's charge only" "$kb" $RAM_KB
	VMLCK_SEEN+="$kb "
	vp_snap || return
	check_vp "S10: vfiopin: one VM of two containers" 1 -- vp_commas "vm=$pid" cids
	check_vp "S10: vfiopin: the VM's locked memory (kB) vs VmLck" "$kb" -- vp_kb "vm=$pid" locked_bytes
	check_vp "S10: vfiopin: the VM's limit hit, as the client's ENOMEM" \
		"$(grep -c '"errno":"ENOMEM"' "${VJSON[a]}")" -- vp "vm=$pid" limit_hits
	check_vp "S10: vfiopin: two passthrough containers" 2 -- vp "vm=$pid" passthrough_containers
	check_vp "S10: vfiopin: the advised limit, the RAM twice (kB)" \
		$((2 * RAM_KB)) -- vp_kb "vm=$pid" needed_limit_bytes
	release a
	finish a; check_eq "S10: client status (ENOMEM was expected)" $? 0
	# at the advised limit both containers map and charge the same RAM
	start_vm b --mem $RAM --memlock $((2 * RAM_KB))K attach "$E1" map 0 $RAM container \
		attach "$E2" map 0 $RAM hold detach "$E2"
	want $((2 * RAM_KB))
	hold b || return
	pid=${VPID[b]}
	kb=$(vmlck_kb "$pid")
	check_eq "S10: VmLck of b (kB): the RAM charged twice" "$kb" $((2 * RAM_KB))
	VMLCK_SEEN+="$kb "
	vp_snap || return
	check_vp "S10: vfiopin: the VM's locked memory (kB) vs VmLck" "$kb" -- vp_kb "vm=$pid" locked_bytes
	check_vp "S10: vfiopin: no limit hit at the advised limit" 0 -- vp "vm=$pid" limit_hits
	cids=$(vp "vm=$pid" cids | tr -d '[]' | tr , ' ')
	for c in $cids; do
		check_vp "S10: vfiopin: container $c charges the RAM once (kB), not the process's total" \
			$RAM_KB -- vp_pages_kb "cid=$c" charged_pages
	done
	release b
	finish b; check_eq "S10: client status" $? 0
	end_scenario
}

S9() {
	scenario S9 "several containers at once, interleaved"
	local t
	start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" map 0 $RAM pin "${M[0]}" 0 100 sleep 50 pin "${M[0]}" 0x100000 28 hold \
		unpin "${M[0]}" 0 100 unpin "${M[0]}" 0x100000 28 unmap 0 $RAM
	start_vm b --mem $RAM --memlock $RAM attach "${M[1]}" attach "$E1" map 0 $RAM pin "${M[1]}" 0 200 hold \
		unpin "${M[1]}" 0 200 unmap 0 $RAM
	start_vm c --mem 8M --memlock 8M attach "$E2" map 0 8M sleep 30 attach "${M[2]}" pin "${M[2]}" 0 32 hold \
		detach "$E2" unpin "${M[2]}" 0 32 unmap 0 8M
	start_vm d --mem 4M --memlock 4M attach "${M[3]}" map 0 4M pin "${M[3]}" 0 7 pin "${M[3]}" 0 7 sleep 20 pin "${M[3]}" 0x10000 1 hold \
		unpin "${M[3]}" 0 7 unpin "${M[3]}" 0 7 unpin "${M[3]}" 0x10000 1 unmap 0 4M
	want 512; checkpoint a 512
	want $RAM_KB; checkpoint b $RAM_KB
	want 8192; checkpoint c 8192
	want 32; checkpoint d 32
	local i cids=
	for t in a b c d; do cids+="$(cid_of $t) "; done
	check_eq @tp "S9: four distinct container ids" "$(tr ' ' '\n' <<< "$cids" | sort -u | grep -c .)" 4
	i=0
	for t in a b c d; do
		check_eq @tp "S9: $t: trace pins - unpins vs its mdev's driver count" \
			"$(pin_balance "$(cid_of $t)")" "$(mdev_counter "${M[$i]}" pinned)"
		check_vp @tp "S9: $t: vfiopin: its container's references vs its mdev's driver count" \
			"$(mdev_counter "${M[$i]}" pinned)" -- vpc $t mdev.pin_refs
		check_vp "S9: $t: vfiopin: locked memory (kB) vs its VmLck" \
			"$(vmlck_kb "${VPID[$t]}")" -- vp_kb "tgid=${VPID[$t]}"
		i=$((i + 1))
	done
	SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)/$(mdev_counter "${M[1]}" pinned)/$(mdev_counter "${M[2]}" pinned)/$(mdev_counter "${M[3]}" pinned)"
	for t in a b c d; do release $t; done
	for t in a b c d; do finish $t; check_eq "S9: $t status" $? 0; done
	for t in a b c d; do check_eq @tp "S9: $t account deltas sum to 0" "$(acct_kb "$(cid_of $t)")" 0; done
	end_scenario
}

list=("$@")
[ ${#list[@]} -gt 0 ] || list=(S1 S2 S3 S4 S5 S6 S7 S8 S9 S10)
for s in "${list[@]}"; do
	case $s in S[1-9] | S10) "$s" ;; *) die "unknown scenario $s" ;; esac
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
python3 "$TOP/tests/guest/scenario_rows.py" "$RESULTS"
summary
