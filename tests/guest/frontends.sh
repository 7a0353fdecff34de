#!/bin/bash
# vfiopin's other front ends on a real VM, and a leak:
#  - trace: text and JSON lines, filtered in the kernel, against the VM's
#    own record of what it did;
#  - hist and stat wrapping the VM (-- COMMAND): the command's exit status,
#    the pin calls it made, the output apart from the command's (-o);
#  - a vendor driver that keeps its pins when the VM goes away (mpin's
#    leak_on_close) shows as leaked pins, as many as the driver still holds.
# Its own boot: the leaked pages stay pinned for good (and type1 WARNs
# about them at teardown, as it should).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VFIOPIN=$TOP/build/vfiopin
load_mpin
M=$(create_mdev 5)
N=$(create_mdev 6)
vpq_start
attached() { # attached ERRFILE: wait until vfiopin says it is attached
	for _ in $(seq 2400); do grep -q 'attached to' "$1" && return 0; sleep 0.05; done
	return 1
}

# --- trace, text and JSON, and a filter that matches nothing
"$VFIOPIN" trace --no-pages > "$OUT/trace.txt" 2> "$OUT/trace.err" &
t1=$!
"$VFIOPIN" trace --json > "$OUT/trace.json" 2> "$OUT/trace-json.err" &
t2=$!
"$VFIOPIN" trace -c 999999 > "$OUT/trace-none.txt" 2> "$OUT/trace-none.err" &
t3=$!
attached "$OUT/trace.err" && attached "$OUT/trace-json.err" && attached "$OUT/trace-none.err" ||
	die "vfiopin trace did not attach"
"$VMM" --mem 4M --memlock 4M attach "$N" map 0 4M pin "$N" 0 8 pin "$N" 0x1000 2 \
	unpin "$N" 0 8 unpin "$N" 0x1000 2 unmap 0 4M detach "$N" > "$OUT/trace-vm.json"
check_eq "trace: the VM ran" $? 0
pid=$(sed -nE 's/.*"event":"start","pid":([0-9]+).*/\1/p' "$OUT/trace-vm.json")
sleep 0.5
kill -INT $t1 $t2 $t3
wait $t1 $t2 $t3
check_eq "trace: pin calls of the VM (text) vs its own steps" \
	"$(grep -E " tgid=$pid +pin_end " "$OUT/trace.txt" | sed -E 's/.* ret=([0-9-]+).*/\1/' | tr '\n' ' ')" "8 2 "
check_eq "trace: no per-page events with --no-pages" "$(grep -c 'pin_page' "$OUT/trace.txt")" 0
check_eq "trace: container open and release of the VM" \
	"$(grep -cE " tgid=$pid +container_(open|release) " "$OUT/trace.txt")" 2
check_eq "trace --json: pages pinned and unpinned vs the VM's count" \
	"$(python3 "$TOP/tests/guest/vpq.py" trace-pages "$OUT/trace.json" "$pid")" \
	"$(sed -nE 's/.*"event":"end".*"pages_pinned":([0-9]+),"pages_unpinned":([0-9]+).*/\1 \2/p' "$OUT/trace-vm.json")"
check_eq "trace -c: a container that never appears shows nothing" \
	"$(grep -c 'cid=' "$OUT/trace-none.txt")" 0
grep -q '0 events shown' "$OUT/trace-none.err" && pass "trace: says how many events it showed" ||
	fail "trace: no count in: $(cat "$OUT/trace-none.err")"

# --- hist and stat wrapping the VM
"$VFIOPIN" hist --json -o "$OUT/hist.json" -- "$VMM" --mem 4M --memlock 4M attach "$N" map 0 4M \
	pin "$N" 0 4 pin "$N" 0 4 pin "$N" 0x4000 1 unmap 0 4M detach "$N" > "$OUT/hist-vm.json" 2> "$OUT/hist.err"
check_eq "hist -- COMMAND: the command's status" $? 0
check_eq "hist -o: the command's output stays its own" "$(grep -c '"op":"pin"' "$OUT/hist-vm.json")" 3
check_eq "hist: pin calls measured vs the VM's three" \
	"$(vpq "$OUT/hist.json" top total.histograms.pin_ns.count)" 3
check_eq "hist: ref_count after each page pin (4 at 1, 4 at 2, 1 at 1)" \
	"$(vpq "$OUT/hist.json" top total.refcount.bumps)" '{"1":5,"2":4}'
"$VFIOPIN" stat -- "$VMM" --mem 4M map 0 8M > /dev/null 2>&1
check_eq "stat -- COMMAND: a failing command's status comes back" $? 2

# --- a leak
echo 1 > "/sys/bus/mdev/devices/$M/mpin/leak_on_close"
"$VFIOPIN" stat --json > "$OUT/leak-stat.json" 2> "$OUT/leak-stat.err" &
vp=$!
attached "$OUT/leak-stat.err" || die "vfiopin stat did not attach"
"$VMM" --mem 4M --memlock 4M attach "$M" map 0 4M pin "$M" 0 8 pin "$M" 0 2 > "$OUT/leak-vm.json"
check_eq "leak: the VM ran" $? 0
check_eq "leak: the driver still holds its pages after the VM went" "$(mdev_counter "$M" pages)" 8
sleep 0.5
kill -INT $vp
wait $vp
check_eq "leak: vfiopin stat exit status" $? 0
snap=$OUT/leak-stat.json
pid=$(sed -nE 's/.*"event":"start","pid":([0-9]+).*/\1/p' "$OUT/leak-vm.json")
check_eq "leak: the container was released" "$(vpq "$snap" "tgid=$pid" released)" true
check_eq "leak: leaked pins = the pages the driver kept" "$(vpq "$snap" "tgid=$pid" leaked_pins)" "$(mdev_counter "$M" pages)"
check_eq "leak: references taken and never dropped vs the driver's" "$(vpq "$snap" "tgid=$pid" mdev.pin_refs)" "$(mdev_counter "$M" pinned)"
summary
