"""The figures of vfiopin's modes for the same VMs (modes.sh).

modes_compare.py OUT MODE...: the first mode is the reference (tracepoint on
a patched kernel, fentry on a stock one); every other mode must give the
same figures for every VM, and leave null what the fallback cannot see.  In
every mode, the figures the clients know are checked against the clients'
own results (an independent oracle), so two modes that agree on a wrong
figure still fail.
"""
import json
import sys

out, modes = sys.argv[1], sys.argv[2:]
ref_mode = modes[0]
FALLBACK = ("fentry", "kprobe")


def lines(path):
    return [json.loads(l) for l in open(path) if l.startswith("{")]


def load(m):
    snap = lines("%s/modes-%s.json" % (out, m))[-1]
    return snap, {c["tgid"]: c for c in snap["containers"]}


def ops(vm, op, ok=None):
    """The client's steps of one kind; ok=True: those that succeeded."""
    steps = [l for l in vm if l.get("op") == op]
    if ok is True:
        steps = [l for l in steps if l.get("ret") == 0 or (l.get("ret", -1) > 0)]
    if ok is False:
        steps = [l for l in steps if l.get("errno") == "ENOMEM"]
    return len(steps)


vms = {}
for i in (1, 2, 3, 4):
    vm = lines("%s/modes-vm%d.json" % (out, i))
    start = next(l for l in vm if l.get("event") == "start")
    vms[i] = {"pid": start["pid"], "limit_pages": start["memlock"] // 4096,
              "peak_kb": max(l.get("vmlck_kb", 0) for l in vm), "steps": vm}

# What each client's own results say of its container, figure by figure.
# VM 4's second MAP_DMA is refused part way: its peak charge is not seen
# by the client (VmLck is back to the first mapping's by then), only
# bounded below by the first mapping and above by the limit.
oracle = {
    1: {("mdev", "pin_calls"): ops(vms[1]["steps"], "pin"),
        ("mdev", "unpin_calls"): ops(vms[1]["steps"], "unpin"),
        ("mdev", "pin_enomem"): ops(vms[1]["steps"], "pin", ok=False),
        ("limit_hits",): ops(vms[1]["steps"], "pin", ok=False),
        ("passthrough", "dma_maps"): ops(vms[1]["steps"], "map", ok=True),
        ("passthrough", "replays"): 0},
    2: {("passthrough", "dma_maps"): ops(vms[2]["steps"], "map", ok=True),
        ("passthrough", "unmap_calls"): ops(vms[2]["steps"], "unmap", ok=True),
        ("passthrough", "replays"): 0, ("limit_hits",): 0,
        ("groups", "attaches"): 1, ("groups", "detaches"): 1},
    3: {("passthrough", "replays"): 1, ("passthrough", "replay_pages"): 1024,
        ("mdev", "pin_calls"): ops(vms[3]["steps"], "pin"),
        ("groups", "attaches"): 2, ("groups", "detaches"): 2},
    4: {("limit_hits",): 1, ("passthrough", "dma_map_failures"): ops(vms[4]["steps"], "map", ok=False),
        ("passthrough", "dma_maps"): ops(vms[4]["steps"], "map", ok=True), ("passthrough", "replays"): 0},
}
fields = [("mdev", "pin_calls"), ("mdev", "unpin_calls"), ("mdev", "pin_pages_requested"),
          ("mdev", "unpin_pages_requested"), ("mdev", "pin_failures"), ("mdev", "pin_enomem"),
          ("locked_peak_pages",), ("locked_pages",), ("limit_hits",), ("limit_bytes",),
          ("passthrough", "dma_maps"), ("passthrough", "dma_map_failures"),
          ("passthrough", "mapped_pages"), ("passthrough", "pinned_pages"),
          ("passthrough", "replays"),
          ("passthrough", "replay_pages"), ("groups", "attaches"), ("groups", "detaches"),
          ("released",)]


def get(c, f):
    for k in f:
        c = c[k]
    return c


ok = True


def bad(msg):
    global ok
    print("FAIL: " + msg)
    ok = False


ref_snap, ref = load(ref_mode)
for m in modes:
    snap, got = load(m)
    if snap.get("mode") != m:
        bad("%s: snapshot mode %r" % (m, snap.get("mode")))
    for i, vm in vms.items():
        pid = vm["pid"]
        if pid not in got or pid not in ref:
            bad("%s: VM %d (pid %d) missing" % (m, i, pid))
            continue
        c = got[pid]
        if m != ref_mode:
            diff = [(".".join(f), get(ref[pid], f), get(c, f)) for f in fields
                    if get(ref[pid], f) != get(c, f)]
            if diff:
                bad("%s: VM %d differs from %s mode: %s" % (m, i, ref_mode, diff))
        # UNMAP_DMA calls are what the fallback sees instead of the mappings
        # unmapped (dma_unmaps): the tracepoints give the latter
        wrong = [(".".join(f), want, get(c, f)) for f, want in oracle[i].items()
                 if get(c, f) != want and (m in FALLBACK or f != ("passthrough", "unmap_calls"))]
        if wrong:
            bad("%s: VM %d against its client (figure, client, vfiopin): %s" % (m, i, wrong))
        if i == 4:
            if not vm["peak_kb"] // 4 <= c["locked_peak_pages"] <= vm["limit_pages"] or not vm["peak_kb"]:
                bad("%s: VM 4 peak %d pages, limit %d" % (m, c["locked_peak_pages"], vm["limit_pages"]))
        elif c["locked_peak_pages"] * 4 != vm["peak_kb"]:
            bad("%s: VM %d peak %d pages, VmLck peak %d kB" % (m, i, c["locked_peak_pages"], vm["peak_kb"]))
        if c["locked_pages"] != 0 or not c["released"]:
            bad("%s: VM %d: after its end %d pages locked, released %r" % (m, i, c["locked_pages"], c["released"]))
        if m in FALLBACK:
            na = [c["mdev"]["pages_pinned"], c["invalidations"], c["leaked_pins"], c["refcount"],
                  c["passthrough"]["reaccounts"]]
            if any(x is not None for x in na):
                bad("%s: VM %d: unavailable figures not null: %r" % (m, i, na))
        if ok:
            print("ok: %s: VM %d: %d figures%s, each the client's (pins %d, peak %d pages, VmLck peak %d kB, limit hits %d, replays %d)"
                  % (m, i, len(fields), "" if m == ref_mode else " equal to %s mode's" % ref_mode,
                     c["mdev"]["pin_calls"], c["locked_peak_pages"], vm["peak_kb"], c["limit_hits"],
                     c["passthrough"]["replays"]))
    if snap["drops"] != {"map_full": 0, "ringbuf": 0, "inflight": 0}:
        bad("%s: drops %r" % (m, snap["drops"]))
    # the client's other type1 ioctls (extension checks, GET_INFO) are not
    # followed, and must not end as unmatched exits
    if snap["unmatched_end"] != 0:
        bad("%s: %d unmatched ends" % (m, snap["unmatched_end"]))
print("modes-compare: %s" % ("pass" if ok else "fail"))
sys.exit(0 if ok else 1)
