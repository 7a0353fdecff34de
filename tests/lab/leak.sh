#!/bin/bash
# A vendor driver that keeps its pins when the VM goes away (mpin's
# leak_on_close) must show up in vfiopin as leaked pins, as many as the
# driver still holds.  Its own boot: the leaked pages stay pinned for good
# (and type1 WARNs about them at teardown, as it should).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VFIOPIN=$TOP/build/vfiopin
load_mpin
M=$(create_mdev 5)
echo 1 > "/sys/bus/mdev/devices/$M/mpin/leak_on_close"
"$VFIOPIN" stat --json > "$OUT/leak-stat.json" 2> "$OUT/leak-stat.err" &
vp=$!
for _ in $(seq 200); do grep -q 'attached to' "$OUT/leak-stat.err" && break; sleep 0.05; done
"$VMM" --mem 4M --memlock 4M attach "$M" map 0 4M pin "$M" 0 8 pin "$M" 0 2 > "$OUT/leak-vm.json"
check_eq "the VM ran" $? 0
check_eq "the driver still holds its pages after the VM went" "$(mdev_counter "$M" pages)" 8
sleep 0.5
kill -INT $vp
wait $vp
check_eq "vfiopin stat exit status" $? 0
snap=$OUT/leak-stat.json
q() { python3 "$TOP/tests/lab/vpq.py" "$snap" "$@"; }
pid=$(sed -nE 's/.*"event":"start","pid":([0-9]+).*/\1/p' "$OUT/leak-vm.json")
check_eq "vfiopin: the container was released" "$(q "tgid=$pid" released)" true
check_eq "vfiopin: leaked pins = the pages the driver kept" "$(q "tgid=$pid" leaked_pins)" "$(mdev_counter "$M" pages)"
check_eq "vfiopin: counted per mapping removed too" "$(q "tgid=$pid" dma_leaked_pages)" 8
check_eq "vfiopin: the references it saw taken and not dropped" "$(q "tgid=$pid" mdev.pin_refs)" "$(mdev_counter "$M" pinned)"
summary
