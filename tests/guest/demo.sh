#!/bin/bash
# make demo: two real QEMU VMs (the host's qemu-system-x86_64, nested),
# driven over QMP as a management layer would, watched live by vfiopin-top
# (batch snapshots: the lab console is no terminal for curses), then a
# summary of vfiopin's per-VM figures next to each QEMU's own VmLck.
#
#   web  64 MiB, RLIMIT_MEMLOCK 65 MiB: a vGPU-like mdev hot-plugged and
#        pinning, a passthrough device hot-plugged (its RAM charged once)
#        and unplugged (the mdev's pins re-accounted), more pins, the mdev
#        unplugged
#   db   32 MiB, RLIMIT_MEMLOCK 1 MiB: an mdev pinning up to the limit, then
#        one request over it, refused with ENOMEM
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu-lib.sh"

VFIOPIN=$TOP/build/vfiopin
[ -x "$VFIOPIN" ] || die "$VFIOPIN is not built (make tools)"
read -r -a EDU <<< "$(bind_edu)"
load_mpin
M1=$(create_mdev 1)
M2=$(create_mdev 2)
E=${EDU[0]}
echo "== lab: $(uname -r), mdevs $M1 $M2, passthrough $E, $($QEMU --version | head -1)"

"$VFIOPIN" stat --json > "$OUT/demo-stat.json" 2> "$OUT/demo-stat.err" &
stat=$!
echo "== vfiopin-top, a snapshot a second (vfiopin top -b -i 1 -s locked)"
"$TOP/build/vfiopin-top" -b -i 1 -s locked 2> "$OUT/demo-top.err" &
top=$!
# the VMs start once both are attached (on a busy machine that takes a while)
for f in demo-stat.err demo-top.err; do
	for _ in $(seq 1200); do grep -q 'attached to' "$OUT/$f" 2> /dev/null && break; sleep 0.1; done
	grep -q 'attached to' "$OUT/$f" || { echo "demo: vfiopin did not attach ($f):"; cat "$OUT/$f"; exit 1; }
done

# each QEMU's VmLck after every step, for the summary: "NAME PID KB"
: > "$OUT/demo-vmlck.txt"
note() { echo "$1 ${QPID[$1]} $(vmlck_kb "${QPID[$1]}")" >> "$OUT/demo-vmlck.txt"; }
step() { echo "   $1: $2"; }
pin() { echo "$2 $3" > "/sys/bus/mdev/devices/$1/mpin/pin"; }

echo "== web boots: 64 MiB, RLIMIT_MEMLOCK 65 MiB, CAP_IPC_LOCK dropped"
start_qemu web $((65 << 20)) 64 || die "QEMU web did not start: $(cat "$OUT/qemu-web.err")"
note web
echo "== db boots: 32 MiB, RLIMIT_MEMLOCK 1 MiB"
start_qemu db $((1 << 20)) 32 || die "QEMU db did not start: $(cat "$OUT/qemu-db.err")"
note db
rc=0
step web "device_add mdev (vGPU-like) over QMP"
add_mdev web "$M1" gpu0 rp2 > /dev/null || rc=1
pin "$M1" 0x100000 256 || rc=1
note web
step db "device_add mdev over QMP"
add_mdev db "$M2" gpu0 rp2 > /dev/null || rc=1
note db
step web "device_add passthrough $E over QMP: the guest RAM is pinned and charged"
add_pt web "$E" nic0 rp1 > /dev/null || rc=1
note web
# db pins 16 pages at a time up to its 1 MiB limit while web runs
for i in $(seq 0 15); do
	pin "$M2" $((0x100000 + i * 0x10000)) 16 || rc=1
	note db
	sleep 0.2
done
step db "one more page: refused (RLIMIT_MEMLOCK exceeded)"
if pin "$M2" 0x300000 1 2> /dev/null; then rc=1; else db_enomem=1; fi
note db
step web "device_del passthrough over QMP: only the mdev's pins stay charged"
qmp web device_del nic0 > /dev/null || rc=1
note web
pin "$M1" 0x400000 512 || rc=1
note web
sleep 1.2
step web "device_del mdev over QMP"
qmp web device_del gpu0 > /dev/null || rc=1
note web
step db "device_del mdev over QMP"
qmp db device_del gpu0 > /dev/null || rc=1
note db
sleep 1.2
stop_qemu web
stop_qemu db
sleep 1.2
kill -INT $top $stat
wait $top $stat

echo
echo "== summary (vfiopin's figures per VM; each QEMU's own VmLck in brackets)"
python3 "$TOP/tests/guest/report.py" demo "$OUT/demo-stat.json" "$OUT/demo-vmlck.txt" "${db_enomem:-0}"
seen=$?
echo "  QMP and sysfs steps: $([ $rc -eq 0 ] && echo "all as planned" || echo "some FAILED")"
[ $rc -eq 0 ] && [ $seen -eq 0 ]
