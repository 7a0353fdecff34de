#!/usr/bin/env python3
"""What a lab tier concludes from its files, against independent oracles.

    report.py scenario-rows RESULTS-JSONL
    report.py demo STAT-JSON VMLCK-TXT DB-ENOMEM
    report.py churn DIR LONG-TGID LIFETIMES WAVES
    report.py modes OUT MODE...

scenario-rows (scenarios.sh): the matrix's results, one row each.

demo (demo.sh): vfiopin's per-VM figures next to each QEMU's own VmLck
(VMLCK-TXT: "NAME PID KB" lines, sampled after every step); fails when
vfiopin missed a VM or its peak or name differs from the process's, or
db's limit hits differ from the ENOMEMs the demo saw.

churn (churn.sh): DIR holds stat.jsonl (one `vfiopin stat --json`
snapshot a line), prom/N.prom (the exporter's scrapes, in order),
clients/N.json (each short VM's own step lines), long.json (the
long-lived VM's) and scrape-times.  Prints one "ok: ..." or "FAIL: ..."
line per check.

modes (modes.sh): the first mode is the reference (tracepoint on a patched
kernel, fentry on a stock one); every other mode must give the same
figures for every VM, and leave null what the fallback cannot see.  In
every mode, the figures the clients know are checked against the clients'
own results (an independent oracle), so two modes that agree on a wrong
figure still fail.

Each exits 1 when a check failed.
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from promcheck import check, with_info  # noqa: E402
from vpq import json_lines  # noqa: E402  (this directory's, the queries' reader)


def steps(vm, op, ok=None):
    """How many of a client's steps are of one kind; ok=True: those that
    succeeded, ok=False: those refused with ENOMEM."""
    s = [l for l in vm if l.get("op") == op]
    if ok is True:
        s = [l for l in s if l.get("ret", -1) >= 0]
    if ok is False:
        s = [l for l in s if l.get("errno") == "ENOMEM"]
    return len(s)


# --- scenario-rows

def scenario_rows(path):
    return ["%-4s %-22s %-6s %-28s %-28s %-32s %.1f" % (
        d["scenario"], d["kernel"], d["result"], d["vmlck_seen_kb"], d["vmlck_expected_kb"],
        d["driver"], d["seconds"]) for d in json_lines(path)]


# --- demo

def demo(stat_path, vmlck_path, db_enomem):
    """(lines, ok)"""
    with open(stat_path, encoding="utf-8") as f:
        snap = json.loads(f.read().splitlines()[-1])
    peaks, pids = {}, {}
    with open(vmlck_path, encoding="utf-8") as f:
        for line in f:
            name, pid, *kb = line.split()
            pids[name] = int(pid)
            peaks[name] = max(peaks.get(name, 0), int(kb[0]) if kb else 0)
    by_pid = {v["tgid"]: v for v in snap["vms"]}
    rows = {c["cid"]: c for c in snap["containers"]}

    def kib(b):
        return "-" if b is None else "%d KiB" % (b // 1024)

    out, bad = [], set()
    for name, pid in pids.items():
        v = by_pid.get(pid)
        if v is None:
            out.append("  VM %s (pid %d): not seen by vfiopin" % (name, pid))
            bad.add(name)
            continue
        cs = [rows[c] for c in v["cids"] if c in rows]
        out.append("  VM %s (%s, pid %d): %d container(s) over its life" % (
            v["name"], v["comm"], pid, len(v["cids"])))
        out.append("    peak locked %s [QEMU's VmLck peak %d KiB]; limit %s; needs %s" % (
            kib(v["locked_peak_bytes"]), peaks[name], kib(v["limit_bytes"]),
            kib(v["needed_limit_bytes"])))
        # MAP_DMA calls go to every container, an mdev-only one too: not "passthrough"
        out.append("    mdev pins: %d calls, %d pages; DMA maps: %d; IOMMU replays: %d, reaccounts: %d" % (
            sum(c["mdev"]["pin_calls"] for c in cs),
            sum(c["mdev"]["pin_pages_requested"] for c in cs),
            sum(c["passthrough"]["dma_maps"] for c in cs),
            sum(c["passthrough"]["replays"] for c in cs),
            sum(c["passthrough"]["reaccounts"] or 0 for c in cs)))
        out.append("    limit hits %d [ENOMEM the demo saw: %d]; leaked pins %d" % (
            v["limit_hits"], db_enomem if name == "db" else 0,
            sum(c["leaked_pins"] or 0 for c in cs)))
        if v["locked_peak_bytes"] // 1024 != peaks[name] or v["name"] != name:
            bad.add(name)
        if name == "db" and v["limit_hits"] != db_enomem:
            bad.add(name)
    d = snap["drops"]
    out.append("  events %d, drops: map %d, ring buffer %d, in-flight %d" % (
        sum(snap["events"].values()), d["map_full"], d["ringbuf"], d["inflight"]))
    if bad:
        out.append("demo: FAILED: vfiopin's figures differ from QEMU's own for %s" %
                   ", ".join(sorted(bad)))
    return out, not bad


# --- churn

class Checks:
    """ok:/FAIL: lines, and whether any failed."""

    def __init__(self, who):
        self.who, self.lines, self.ok = who, [], True

    def say(self, ok, what):
        self.lines.append("%s: %s%s" % ("ok" if ok else "FAIL", self.who, what))
        self.ok = self.ok and bool(ok)

    def bad(self, what):
        self.say(False, what)


def client_pins(path):
    """Successful pins of one client (all its pages at once), from its own step lines."""
    return sum(s.get("op") == "pin" and s.get("ret") == s.get("npages") for s in json_lines(path))


def churn(d, long_tgid, lifetimes, waves):
    c = Checks("churn: ")
    clients = glob.glob(os.path.join(d, "clients", "*.json"))
    pins = sum(client_pins(p) for p in clients)
    c.say(len(clients) == lifetimes and pins == lifetimes,
          "%d clients, %d pin calls that succeeded (want %d each)" % (len(clients), pins, lifetimes))

    # stat: a snapshot per wave, then the one at exit
    snaps = json_lines(os.path.join(d, "stat.jsonl"))
    c.say(len(snaps) >= waves, "%d stat snapshots for %d waves" % (len(snaps), waves))
    released, missing_long, bad_long = {}, 0, 0
    for s in snaps[:waves]:
        rows = [x for x in s["containers"] if x["tgid"] == long_tgid]
        missing_long += not rows
        bad_long += bool(rows) and rows[0]["mdev"]["pin_calls"] != 1
    for s in snaps:
        for x in s["containers"]:
            if x["released"] and x["tgid"] != long_tgid:
                released.setdefault(x["cid"], []).append(x["mdev"]["pin_calls"])
    c.say(missing_long == 0 and bad_long == 0,
          "stat: the long-lived VM in every snapshot with its 1 pin call "
          "(missing from %d, wrong in %d)" % (missing_long, bad_long))
    twice = sum(len(v) > 1 for v in released.values())
    total = sum(sum(v) for v in released.values())
    c.say(len(released) == lifetimes and twice == 0 and total == pins,
          "stat: %d short VMs reported released (%d more than once), %d pin calls in them; "
          "the clients: %d, %d" % (len(released), twice, total, lifetimes, pins))
    last = snaps[-1] if snaps else {"drops": {}}
    c.say(last["drops"].get("map_full") == 0 and last["drops"].get("inflight") == 0,
          "stat: drops %s" % json.dumps(last["drops"], sort_keys=True))

    # the exporter: a scrape per wave, then two after the long VM left
    proms = sorted(glob.glob(os.path.join(d, "prom", "*.prom")),
                   key=lambda p: int(os.path.basename(p).split(".")[0]))
    c.say(len(proms) == waves + 2, "%d scrapes for %d waves" % (len(proms), waves))
    seen, bad, missing_long, last_drops = {}, [], 0, None
    for i, p in enumerate(proms):
        with open(p, encoding="utf-8") as f:
            errors, _, samples = check(f.read())
        if errors:
            bad.append("%s: %s" % (os.path.basename(p), errors[0]))
            continue
        by = {}
        for (name, labels), v in with_info(samples).items():
            lb = dict(labels)
            if "cid" in lb:
                by.setdefault(lb["cid"], {"tgid": int(lb["tgid"])})[name] = v
            if name == "vfiopin_drops_total" and lb.get("reason") == "map_full":
                last_drops = v
        longs = [x for x in by.values() if x["tgid"] == long_tgid]
        if i < waves and not (longs and longs[0].get("vfiopin_pin_calls_total") == 1):
            missing_long += 1
        for cid, x in by.items():
            if x.get("vfiopin_container_released") == 1 and x["tgid"] != long_tgid:
                seen.setdefault(cid, []).append(x.get("vfiopin_pin_calls_total", 0))
    c.say(not bad, "export: every scrape a valid exposition%s" % ("" if not bad else ": " + bad[0]))
    c.say(missing_long == 0,
          "export: the long-lived VM in every scrape during the churn with its 1 pin call "
          "(missing or wrong in %d)" % missing_long)
    twice = sum(len(v) > 1 for v in seen.values())
    total = sum(sum(v) for v in seen.values())
    c.say(len(seen) == lifetimes and twice == 0 and total == pins,
          "export: %d short VMs served released (%d more than once), %d pin calls in them; "
          "the clients: %d, %d" % (len(seen), twice, total, lifetimes, pins))
    c.say(last_drops == 0, "export: map_full drops %s" % last_drops)
    # reported, not judged: the machine's load decides it
    with open(os.path.join(d, "scrape-times"), encoding="utf-8") as f:
        times = sorted(float(t) for t in f if t.strip())
    if times:
        c.lines.append("=== churn: scrape time during the churn: median %.3f s, slowest %.3f s" %
                       (times[len(times) // 2], times[-1]))
    return c.lines, c.ok


# --- modes

FALLBACK = ("fentry", "kprobe")
MODE_FIELDS = [
    ("mdev", "pin_calls"), ("mdev", "unpin_calls"), ("mdev", "pin_pages_requested"),
    ("mdev", "unpin_pages_requested"), ("mdev", "pin_failures"), ("mdev", "pin_enomem"),
    ("locked_peak_pages",), ("locked_pages",), ("limit_hits",), ("limit_bytes",),
    ("passthrough", "dma_maps"), ("passthrough", "dma_map_failures"),
    ("passthrough", "mapped_pages"), ("passthrough", "pinned_pages"),
    ("passthrough", "replays"), ("passthrough", "replay_pages"),
    ("groups", "attaches"), ("groups", "detaches"), ("released",),
    # what the fallback rebuilds from the calls around type1's inlined code
    ("mdev", "pages_pinned"), ("mdev", "pin_refs"), ("mdev", "new_pins"),
    ("mdev", "refcount_bumps"), ("mdev", "released_pages"), ("mdev", "refcount_drops"),
    ("refcount", "live"), ("refcount", "bumps"), ("leaked_pins",),
    ("invalidations", "count"), ("invalidations", "pages"),
    ("passthrough", "dma_unmaps"), ("passthrough", "reaccounts")]
# what no fallback source gives: vfio_notify_dma_unmap is inlined
FALLBACK_NULL = [("invalidations", "devices_notified"), ("invalidations", "retries"),
                 ("latency", "invalidate")]


def dig(c, f):
    for k in f:
        c = c[k]
    return c


def mode_oracle(vms, drv):
    """What each client's own results say of its container, figure by
    figure.  VM 4's second MAP_DMA is refused part way: its peak charge is
    not seen by the client (VmLck is back to the first mapping's by then),
    only bounded below by the first mapping and above by the limit.
    The per-page figures follow from the pins and unpins each client asked
    for (modes.sh); VM 5's leak from what its leaking driver still holds
    (@drv: mpin's own counters, read after the VM ended)."""
    s = {i: vm["steps"] for i, vm in vms.items()}
    none = {("leaked_pins",): 0, ("mdev", "pages_pinned"): 0, ("mdev", "pin_refs"): 0,
            ("invalidations", "count"): 0}
    return {
        # 256 pages pinned once, 16 of them twice, unpinned the same way
        1: {("mdev", "pin_calls"): steps(s[1], "pin"),
            ("mdev", "unpin_calls"): steps(s[1], "unpin"),
            ("mdev", "pin_enomem"): steps(s[1], "pin", ok=False),
            ("limit_hits",): steps(s[1], "pin", ok=False),
            ("passthrough", "dma_maps"): steps(s[1], "map", ok=True),
            ("passthrough", "replays"): 0,
            ("mdev", "new_pins"): 256, ("mdev", "refcount_bumps"): 16,
            ("mdev", "released_pages"): 256, ("mdev", "refcount_drops"): 16,
            ("refcount", "bumps"): {"1": 256, "2": 16}, ("passthrough", "reaccounts"): 0,
            **none},
        # the unmapped mapping and the one the release removed
        2: {("passthrough", "dma_maps"): steps(s[2], "map", ok=True),
            ("passthrough", "unmap_calls"): steps(s[2], "unmap", ok=True),
            ("passthrough", "dma_unmaps"): steps(s[2], "map", ok=True),
            ("passthrough", "replays"): 0, ("limit_hits",): 0, ("mdev", "new_pins"): 0,
            ("groups", "attaches"): 1, ("groups", "detaches"): 1, **none},
        # the passthrough device's leaving re-accounts the one mapping, unmapping
        # it from the IOMMU domain; the mdev's own unmap later unmaps nothing
        3: {("passthrough", "replays"): 1, ("passthrough", "replay_pages"): 1024,
            ("mdev", "pin_calls"): steps(s[3], "pin"),
            ("mdev", "new_pins"): 16, ("mdev", "released_pages"): 16,
            ("passthrough", "reaccounts"): 1, ("passthrough", "dma_unmaps"): 1,
            ("groups", "attaches"): 2, ("groups", "detaches"): 2, **none},
        4: {("limit_hits",): 1,
            ("passthrough", "dma_map_failures"): steps(s[4], "map", ok=False),
            ("passthrough", "dma_maps"): steps(s[4], "map", ok=True),
            ("passthrough", "replays"): 0, ("passthrough", "reaccounts"): 0, **none},
        # two drivers' pins over one mapping, which is unmapped: one
        # invalidation of its 16 pages; the leaking driver's 8 pages elsewhere
        # outlive the VM (still charged as type1 last accounted them)
        5: {("mdev", "pin_calls"): steps(s[5], "pin"),
            ("mdev", "new_pins"): 24, ("mdev", "refcount_bumps"): 20,
            ("mdev", "released_pages"): 16, ("mdev", "refcount_drops"): 20,
            ("invalidations", "count"): 1, ("invalidations", "pages"): 16,
            ("leaked_pins",): drv["pages"], ("mdev", "pages_pinned"): drv["pages"],
            ("mdev", "pin_refs"): drv["pinned"], ("refcount", "live"): {"1": drv["pinned"]},
            ("locked_pages",): drv["pages"], ("passthrough", "dma_unmaps"): 0},
    }


def modes(out, mode_names):
    c = Checks("")
    ref_mode = mode_names[0]
    vms = {}
    for i in (1, 2, 3, 4, 5):
        vm = json_lines("%s/modes-vm%d.json" % (out, i))
        start = next(l for l in vm if l.get("event") == "start")
        vms[i] = {"pid": start["pid"], "limit_pages": start["memlock"] // 4096,
                  "peak_kb": max(l.get("vmlck_kb", 0) for l in vm), "steps": vm}
    with open("%s/modes-vm5-driver.txt" % out) as f:
        drv = dict(kv.split("=") for kv in f.read().split())
    drv = {k: int(v) for k, v in drv.items()}
    oracle = mode_oracle(vms, drv)

    def load(m):
        snap = json_lines("%s/modes-%s.json" % (out, m))[-1]
        return snap, {x["tgid"]: x for x in snap["containers"]}

    _, ref = load(ref_mode)
    for m in mode_names:
        snap, got = load(m)
        if snap.get("mode") != m:
            c.bad("%s: snapshot mode %r" % (m, snap.get("mode")))
        for i, vm in vms.items():
            pid = vm["pid"]
            if pid not in got or pid not in ref:
                c.bad("%s: VM %d (pid %d) missing" % (m, i, pid))
                continue
            x = got[pid]
            if m != ref_mode:
                diff = [(".".join(f), dig(ref[pid], f), dig(x, f)) for f in MODE_FIELDS
                        if dig(ref[pid], f) != dig(x, f)]
                if diff:
                    c.bad("%s: VM %d differs from %s mode: %s" % (m, i, ref_mode, diff))
            # UNMAP_DMA calls are what the fallback sees instead of the mappings
            # unmapped (dma_unmaps): the tracepoints give the latter
            wrong = [(".".join(f), want, dig(x, f)) for f, want in oracle[i].items()
                     if dig(x, f) != want and (m in FALLBACK or f != ("passthrough", "unmap_calls"))]
            if wrong:
                c.bad("%s: VM %d against its client (figure, client, vfiopin): %s" % (m, i, wrong))
            if i == 4:
                if not vm["peak_kb"] // 4 <= x["locked_peak_pages"] <= vm["limit_pages"] or not vm["peak_kb"]:
                    c.bad("%s: VM 4 peak %d pages, limit %d" % (m, x["locked_peak_pages"], vm["limit_pages"]))
            elif x["locked_peak_pages"] * 4 != vm["peak_kb"]:
                c.bad("%s: VM %d peak %d pages, VmLck peak %d kB" % (m, i, x["locked_peak_pages"], vm["peak_kb"]))
            if x["locked_pages"] != (drv["pages"] if i == 5 else 0) or not x["released"]:
                c.bad("%s: VM %d: after its end %d pages locked, released %r" %
                      (m, i, x["locked_pages"], x["released"]))
            if m in FALLBACK:
                na = [(".".join(f), dig(x, f)) for f in FALLBACK_NULL if dig(x, f) is not None]
                if na:
                    c.bad("%s: VM %d: unavailable figures not null: %r" % (m, i, na))
            if c.ok:
                c.say(True, "%s: VM %d: %d figures%s, each the client's (pins %d, peak %d pages, "
                      "VmLck peak %d kB, limit hits %d, replays %d)" % (
                          m, i, len(MODE_FIELDS), "" if m == ref_mode else " equal to %s mode's" % ref_mode,
                          x["mdev"]["pin_calls"], x["locked_peak_pages"], vm["peak_kb"], x["limit_hits"],
                          x["passthrough"]["replays"]))
        if snap["drops"] != {"map_full": 0, "ringbuf": 0, "inflight": 0}:
            c.bad("%s: drops %r" % (m, snap["drops"]))
        # the client's other type1 ioctls (extension checks, GET_INFO) are not
        # followed, and must not end as unmatched exits
        if snap["unmatched_end"] != 0:
            c.bad("%s: %d unmatched ends" % (m, snap["unmatched_end"]))
    c.lines.append("modes-compare: %s" % ("pass" if c.ok else "fail"))
    return c.lines, c.ok


def main(argv):
    cmd, a = (argv[1], argv[2:]) if len(argv) > 1 else (None, [])
    try:
        if cmd == "scenario-rows" and len(a) == 1:
            lines, ok = scenario_rows(a[0]), True
        elif cmd == "demo" and len(a) == 3:
            lines, ok = demo(a[0], a[1], int(a[2]))
        elif cmd == "churn" and len(a) == 4:
            lines, ok = churn(a[0], int(a[1]), int(a[2]), int(a[3]))
        elif cmd == "modes" and a:
            lines, ok = modes(a[0], a[1:])
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2
    except ValueError as e:
        print("report.py: %s: %s" % (cmd, e), file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
