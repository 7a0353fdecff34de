"""The fallback modes' figures against the tracepoints' for the same VMs, and what they must leave null (modes.sh)."""
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
