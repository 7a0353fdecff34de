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
	for _ in $(seq 300); do grep -q 'attached to' "$OUT/modes-$m.err" && break; sleep 0.1; done
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

python3 - "$OUT" <<-'EOF'
import json, sys
out = sys.argv[1]
def load(m):
    snap = [json.loads(l) for l in open("%s/modes-%s.json" % (out, m)) if l.startswith("{")][-1]
    return snap, {c["tgid"]: c for c in snap["containers"]}
vms = {}
for i in (1, 2, 3):
    lines = [json.loads(l) for l in open("%s/modes-vm%d.json" % (out, i)) if l.startswith("{")]
    vms[i] = (next(l["pid"] for l in lines if "pid" in l), max(l.get("vmlck_kb", 0) for l in lines))
tp_snap, tp = load("tracepoint")
fields = [("mdev", "pin_calls"), ("mdev", "unpin_calls"), ("mdev", "pin_pages_requested"),
          ("mdev", "unpin_pages_requested"), ("mdev", "pin_failures"), ("mdev", "pin_enomem"),
          ("locked_peak_pages",), ("locked_pages",), ("limit_hits",), ("limit_bytes",),
          ("passthrough", "dma_maps"), ("passthrough", "mapped_pages"),
          ("passthrough", "pinned_pages"), ("passthrough", "replays"),
          ("passthrough", "replay_pages"), ("groups", "attaches"), ("groups", "detaches"),
          ("released",)]
def get(c, f):
    for k in f:
        c = c[k]
    return c
ok = True
for m in ("fentry", "kprobe"):
    snap, got = load(m)
    if snap.get("mode") != m or tp_snap.get("mode") != "tracepoint":
        print("FAIL: %s: snapshot mode %r" % (m, snap.get("mode"))); ok = False
    for i, (pid, peak_kb) in vms.items():
        if pid not in tp or pid not in got:
            print("FAIL: %s: VM %d (pid %d) missing" % (m, i, pid)); ok = False; continue
        diff = [(".".join(f), get(tp[pid], f), get(got[pid], f)) for f in fields
                if get(tp[pid], f) != get(got[pid], f)]
        if diff:
            print("FAIL: %s: VM %d differs from tracepoint mode: %s" % (m, i, diff)); ok = False
        else:
            print("ok: %s: VM %d: %d figures equal to tracepoint mode's (pins %d, peak %d pages, VmLck peak %d kB, limit hits %d, replays %d)"
                  % (m, i, len(fields), got[pid]["mdev"]["pin_calls"], got[pid]["locked_peak_pages"],
                     peak_kb, got[pid]["limit_hits"], got[pid]["passthrough"]["replays"]))
        if got[pid]["locked_peak_pages"] * 4 != peak_kb:
            print("FAIL: %s: VM %d peak %d pages, VmLck peak %d kB" % (m, i, got[pid]["locked_peak_pages"], peak_kb)); ok = False
        na = [got[pid]["mdev"]["pages_pinned"], got[pid]["invalidations"], got[pid]["leaked_pins"],
              got[pid]["refcount"], got[pid]["passthrough"]["reaccounts"]]
        if any(x is not None for x in na):
            print("FAIL: %s: VM %d: unavailable figures not null: %r" % (m, i, na)); ok = False
    if snap["drops"] != {"map_full": 0, "ringbuf": 0, "inflight": 0}:
        print("FAIL: %s: drops %r" % (m, snap["drops"])); ok = False
    # the client's other type1 ioctls (extension checks, GET_INFO) are not
    # followed, and must not end as unmatched exits
    if snap["unmatched_end"] != 0:
        print("FAIL: %s: %d unmatched ends" % (m, snap["unmatched_end"])); ok = False
print("modes-compare: %s" % ("pass" if ok else "fail"))
sys.exit(0 if ok else 1)
EOF
check_eq "fentry and kprobe figures equal the tracepoints'" $? 0

# --mode=auto takes the tracepoints when they are there
"$V" stat --json -d 1 2> "$OUT/modes-auto.err" | tail -1 > "$OUT/modes-auto.json"
check_eq "auto picks the tracepoints on the patched kernel" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mode"])' "$OUT/modes-auto.json")" tracepoint
summary
