#!/bin/bash
# make demo: two scripted VMs, one with two vGPU-like mdevs and a passthrough
# device that is hot-plugged and unplugged while pins come and go, watched
# live by vfiopin-top (batch snapshots: the lab console is no terminal for
# curses), then a summary from vfiopin's own figures.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VFIOPIN=$TOP/build/vfiopin
[ -x "$VFIOPIN" ] || die "$VFIOPIN is not built (make tools)"
read -r -a EDU <<< "$(bind_edu)"
load_mpin
M1=$(create_mdev 1)
M2=$(create_mdev 2)
M3=$(create_mdev 3)
E=${EDU[0]}
echo "== lab: $(uname -r), mdevs $M1 $M2 $M3, passthrough $E"

"$VFIOPIN" stat --json --hist > "$OUT/demo-stat.json" 2> "$OUT/demo-stat.err" &
stat=$!
echo "== vfiopin-top, a snapshot a second (vfiopin top -b -i 1 -s locked)"
"$TOP/build/vfiopin-top" -b -i 1 -s locked 2> "$OUT/demo-top.err" &
top=$!
# the VMs start once both are attached (on a busy machine that takes a while)
for f in demo-stat.err demo-top.err; do
	for _ in $(seq 1200); do grep -q 'attached to' "$OUT/$f" 2> /dev/null && break; sleep 0.1; done
	grep -q 'attached to' "$OUT/$f" || { echo "demo: vfiopin did not attach ($f):"; cat "$OUT/$f"; exit 1; }
done

echo "== vm1 boots: 32 MiB guest RAM, RLIMIT_MEMLOCK exactly 32 MiB, two mdevs;"
echo "   later a passthrough device is hot-plugged, then unplugged"
"$VMM" --mem 32M --memlock 32M \
	attach "$M1" attach "$M2" map 0 16M map 0x1000000 16M \
	pin "$M1" 0 64 pin "$M2" 0 16 pin "$M1" 0x1000000 32 sleep 1500 \
	attach "$E" sleep 1500 \
	unpin "$M1" 0 64 pin "$M2" 0x400000 8 \
	unmap 0x1000000 16M sleep 1500 \
	detach "$E" sleep 1500 \
	pin "$M1" 0 512 pin "$M1" 0x200000 512 sleep 1500 \
	detach "$M2" unmap 0 16M detach "$M1" > "$OUT/demo-vm1.json" 2>&1 &
vm1=$!
echo "== vm2 boots: 8 MiB guest RAM but RLIMIT_MEMLOCK 1 MiB, one mdev pinning"
echo "   steadily up to the limit, then one page over it"
steps=()
for i in $(seq 0 15); do steps+=(pin "$M3" $((i * 65536)) 16 sleep 300); done
"$VMM" --mem 8M --memlock 1M attach "$M3" map 0 8M "${steps[@]}" \
	pin=ENOMEM "$M3" 0x100000 1 sleep 1000 unmap 0 8M detach "$M3" > "$OUT/demo-vm2.json" 2>&1 &
vm2=$!
wait $vm1; rc1=$?
wait $vm2; rc2=$?
sleep 2.2
kill -INT $top $stat
wait $top $stat

echo
echo "== summary (vfiopin's figures; the VMs' own view in brackets)"
python3 "$TOP/tests/guest/demo_summary.py" "$OUT/demo-stat.json" "$OUT/demo-vm1.json" "$OUT/demo-vm2.json"
seen=$?
echo "  VM exit statuses: $rc1 $rc2"
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $seen -eq 0 ]
