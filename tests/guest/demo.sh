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
"$TOP/build/vfiopin-top" -b -i 1 -s locked 2> >(tee "$OUT/demo-top.err" >&2) &
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
python3 - "$OUT/demo-stat.json" "$OUT/demo-vm1.json" "$OUT/demo-vm2.json" <<'EOF'
import json, sys
snap = json.loads(open(sys.argv[1]).read().splitlines()[-1])
vms = {}
for path in sys.argv[2:]:
    lines = [json.loads(l) for l in open(path) if l.startswith("{")]
    start = next(l for l in lines if l.get("event") == "start")
    vms[start["pid"]] = lines
for c in snap["containers"]:
    own = vms.get(c["tgid"], [])
    peak_kb = max([l.get("vmlck_kb", 0) for l in own] or [0])
    enomem = sum(1 for l in own if l.get("errno") == "ENOMEM")
    lat = c["latency"]["pin"]
    p = lambda v: "-" if v is None else "%.0f us" % (v / 1000)
    print("  container %d (%s, pid %d)%s" % (c["cid"], c["comm"], c["tgid"],
          ", released" if c["released"] else ""))
    print("    peak locked %d KiB of %s [VmLck peak %d KiB]" % (
          c["locked_peak_pages"] * 4,
          "%d KiB" % (c["limit_bytes"] // 1024) if c["limit_bytes"] else "?", peak_kb))
    print("    pins %d calls, %d pages; p50 %s, p99 %s" % (
          c["mdev"]["pin_calls"], c["mdev"]["pin_pages_requested"], p(lat["p50_ns"]), p(lat["p99_ns"])))
    print("    passthrough: %d replay(s) pinning %d pages, %d reaccount(s)" % (
          c["passthrough"]["replays"], c["passthrough"]["replay_pages"], c["passthrough"]["reaccounts"]))
    print("    invalidations %d (%d pages), limit hits %d [ENOMEM seen by the VM: %d], leaked pins %d" % (
          c["invalidations"]["count"], c["invalidations"]["pages"], c["limit_hits"], enomem,
          c["leaked_pins"]))
d = snap["drops"]
print("  events %d, drops: map %d, ring buffer %d, in-flight %d" % (
      sum(snap["events"].values()), d["map_full"], d["ringbuf"], d["inflight"]))
# a demo that saw nothing of its VMs has shown nothing: say so and fail
seen = [c for c in snap["containers"] if c["tgid"] in vms and c["mdev"]["pin_calls"]]
if len(seen) != len(vms):
    print("demo: FAILED: vfiopin saw the pins of %d of the %d VMs" % (len(seen), len(vms)))
    sys.exit(1)
EOF
seen=$?
echo "  VM exit statuses: $rc1 $rc2"
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $seen -eq 0 ]
