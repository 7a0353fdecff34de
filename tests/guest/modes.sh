#!/bin/bash
# The same workload observed at once in tracepoint, fentry and kprobe mode
# on the patched kernel: the fallback modes must give the same counts
# (pins, unpins, locked memory, limit hits, MAP_DMA, passthrough pages,
# replays) as the tracepoints, and leave out, not zero, what they cannot
# see.  Containers are matched by their owner (the ids differ by mode).
# Also: a fallback mode's --mode=auto choice and its message on the table.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

V=$TOP/build/vfiopin
load_mpin
M1=$(create_mdev 1)
read -r E1 _ <<< "$(bind_edu)"

for m in tracepoint fentry kprobe; do
	"$V" stat --json --mode $m > "$OUT/modes-$m.json" 2> "$OUT/modes-$m.err" &
	eval "pid_$m=\$!"
done
for m in tracepoint fentry kprobe; do
	for _ in $(seq 1200); do grep -q 'attached to' "$OUT/modes-$m.err" && break; sleep 0.1; done
	check_cmd "$m mode attached" grep -q 'attached to' "$OUT/modes-$m.err"
done
grep -q "with fentry (no vfio_type1 tracepoints: per-page pins" "$OUT/modes-fentry.err" &&
	pass "fentry mode says what it cannot see" || fail "fentry message: $(cat "$OUT/modes-fentry.err")"

# 1: mdev pins up to its limit and one page over; 2: passthrough, one of
# its two mappings left for the release to remove;
# 3: mdev pins, then a passthrough device comes (replay) and goes
"$VMM" --mem 16M --memlock 1M attach "$M1" map 0 16M pin "$M1" 0 256 pin=ENOMEM "$M1" 0x100000 1 \
	pin "$M1" 0 16 unpin "$M1" 0 16 unpin "$M1" 0 256 unmap 0 16M detach "$M1" > "$OUT/modes-vm1.json"
check_eq "VM 1 (mdev, limit hit)" $? 0
"$VMM" --mem 8M --memlock 8M attach "$E1" map 0 4M map 0x400000 4M unmap 0 4M detach "$E1" > "$OUT/modes-vm2.json"
check_eq "VM 2 (passthrough)" $? 0
"$VMM" --mem 4M --memlock 8M attach "$M1" map 0 4M pin "$M1" 0 16 attach "$E1" detach "$E1" \
	unpin "$M1" 0 16 unmap 0 4M detach "$M1" > "$OUT/modes-vm3.json"
check_eq "VM 3 (mdev, then passthrough hotplug)" $? 0

for m in tracepoint fentry kprobe; do
	eval "kill -INT \$pid_$m; wait \$pid_$m"
done

python3 "$TOP/tests/guest/modes_compare.py" "$OUT"
check_eq "fentry and kprobe figures equal the tracepoints'" $? 0

# --mode=auto takes the tracepoints when they are there
"$V" stat --json -d 1 2> "$OUT/modes-auto.err" | tail -1 > "$OUT/modes-auto.json"
check_eq "auto picks the tracepoints on the patched kernel" \
	"$(python3 "$TOP/tests/guest/vpq.py" "$OUT/modes-auto.json" top mode)" tracepoint
summary
