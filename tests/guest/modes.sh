#!/bin/bash
# The same workload observed at once in tracepoint, fentry and kprobe mode
# on the patched kernel: the fallback modes must give the same counts
# (pins, unpins, locked memory, limit hits, MAP_DMA, passthrough pages,
# replays; distinct pages, references, new pins and bumps, releases and
# drops, refcount histograms, DMA unmaps, re-accounting, invalidations and
# their pages, leaked pins) as the tracepoints, and leave out, not zero,
# what they cannot see.  On a stock kernel (no tracepoints) fentry and kprobe must agree
# with each other.  In every mode the figures the clients can check are
# checked against them (report.py modes).  Containers are matched by their
# owner (the ids differ by mode).  Also: --mode=auto's choice, and a
# fallback mode's message on what it cannot see.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

V=$TOP/build/vfiopin
load_mpin
M1=$(create_mdev 1)
# a vendor driver that keeps its pins when the VM goes (VM 5's leak)
M2=$(create_mdev 2)
echo 1 > "/sys/bus/mdev/devices/$M2/mpin/leak_on_close"
read -r E1 _ <<< "$(bind_edu)"

# a process's own locking (bpf/mlock.bpf.c), by fentry and by kprobe, its
# peak against the VmLck the process read itself at its peak
mlock_out=$("$TOP/build/test_mlock" 2>&1)
rc=$?
[ $rc = 0 ] && pass "test_mlock: the peak = the process's own VmLck at its peak, a MAP_FIXED ask counted" ||
	fail "test_mlock (exit $rc): $mlock_out"

MODES=(tracepoint fentry kprobe)
[ "$STOCK" = 1 ] && MODES=(fentry kprobe)
declare -A pid
for m in "${MODES[@]}"; do
	"$V" stat --json --mode $m > "$OUT/modes-$m.json" 2> "$OUT/modes-$m.err" &
	pid[$m]=$!
done
for m in "${MODES[@]}"; do
	for _ in $(seq 1200); do grep -q 'attached to' "$OUT/modes-$m.err" && break; sleep 0.1; done
	check_cmd "$m mode attached" grep -q 'attached to' "$OUT/modes-$m.err"
done
grep -q "with fentry (no vfio_type1 tracepoints: the devices an invalidation notified, its retries and its latency are unavailable)" "$OUT/modes-fentry.err" &&
	pass "fentry mode says what it cannot see" || fail "fentry message: $(cat "$OUT/modes-fentry.err")"

# 1: mdev pins up to its limit and one page over; 2: passthrough, one of
# its two mappings left for the release to remove;
# 3: mdev pins, then a passthrough device comes (replay) and goes;
# 4: a MAP_DMA four times the limit, refused part way
"$VMM" --mem 16M --memlock 1M attach "$M1" map 0 16M pin "$M1" 0 256 pin=ENOMEM "$M1" 0x100000 1 \
	pin "$M1" 0 16 unpin "$M1" 0 16 unpin "$M1" 0 256 unmap 0 16M detach "$M1" > "$OUT/modes-vm1.json"
check_eq "VM 1 (mdev, limit hit)" $? 0
"$VMM" --mem 8M --memlock 8M attach "$E1" map 0 4M map 0x400000 4M unmap 0 4M detach "$E1" > "$OUT/modes-vm2.json"
check_eq "VM 2 (passthrough)" $? 0
"$VMM" --mem 4M --memlock 8M attach "$M1" map 0 4M pin "$M1" 0 16 attach "$E1" detach "$E1" \
	unpin "$M1" 0 16 unmap 0 4M detach "$M1" > "$OUT/modes-vm3.json"
check_eq "VM 3 (mdev, then passthrough hotplug)" $? 0
# A first mapping that fits, so that every mode sees a charge before the
# refusal: a MAP_DMA over physically contiguous memory (transparent huge
# pages) is refused before type1 charges any of it, and the fallback
# modes learn the limit only from a charge.
"$VMM" --mem 16M --memlock 4M attach "$E1" map 0 1M map=ENOMEM 0x100000 15M unmap 0 1M \
	detach "$E1" > "$OUT/modes-vm4.json"
check_eq "VM 4 (MAP_DMA over the limit)" $? 0
# 5: two drivers pin one mapping (one page of it thrice), which is then
# unmapped: an invalidation; the leaking driver's pins of the other
# mapping outlive the VM (leaked pins, and type1 WARNs at the release)
"$VMM" --mem 16M --memlock 16M attach "$M1" attach "$M2" map 0 8M map 0x800000 8M \
	pin "$M1" 0x800000 16 pin "$M2" 0x800000 16 pin "$M1" 0x800000 4 pin "$M2" 0 8 \
	unmap 0x800000 8M > "$OUT/modes-vm5.json"
check_eq "VM 5 (invalidation, leak)" $? 0
echo "pages=$(mdev_counter "$M2" pages) pinned=$(mdev_counter "$M2" pinned)" > "$OUT/modes-vm5-driver.txt"
check_eq "VM 5: the leaking driver still holds its 8 pages, once each" \
	"$(cat "$OUT/modes-vm5-driver.txt")" "pages=8 pinned=8"

for m in "${MODES[@]}"; do
	kill -INT "${pid[$m]}"
	wait "${pid[$m]}"
done

python3 "$TOP/tests/guest/report.py" modes "$OUT" "${MODES[@]}"
rc=$?
check_eq "${MODES[*]}: the same figures, each equal to the clients' (kernel $(uname -r))" $rc 0

# and each mode watched the processes' own locking
for m in "${MODES[@]}"; do
	tail -1 "$OUT/modes-$m.json" > "$OUT/modes-$m-last.json"
	check_eq "$m mode: processes' own mlock watched" "$(vpq "$OUT/modes-$m-last.json" top mlock_watch)" kprobe
done

# --mode=auto takes the tracepoints when they are there, else fentry
"$V" stat --json -d 1 2> "$OUT/modes-auto.err" | tail -1 > "$OUT/modes-auto.json"
check_eq "auto picks ${MODES[0]} on this kernel" \
	"$(vpq "$OUT/modes-auto.json" top mode)" "${MODES[0]}"
summary
