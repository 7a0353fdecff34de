"""The demo's summary: vfiopin's per-VM figures next to each QEMU's own
VmLck (sampled after every step); fails when vfiopin missed a VM or its
peak differs from the process's (demo.sh).

    demo_summary.py STAT-JSON VMLCK-TXT DB-ENOMEM
"""
import json
import sys

snap = json.loads(open(sys.argv[1]).read().splitlines()[-1])
peaks, pids = {}, {}
for line in open(sys.argv[2]):
    name, pid, kb = line.split()
    pids[name] = int(pid)
    peaks[name] = max(peaks.get(name, 0), int(kb or 0))
db_enomem = int(sys.argv[3])
by_pid = {v["tgid"]: v for v in snap["vms"]}
rows = {c["cid"]: c for c in snap["containers"]}
kib = lambda b: "-" if b is None else "%d KiB" % (b // 1024)
bad = []
for name, pid in pids.items():
    v = by_pid.get(pid)
    if v is None:
        print("  VM %s (pid %d): not seen by vfiopin" % (name, pid))
        bad.append(name)
        continue
    cs = [rows[c] for c in v["cids"] if c in rows]
    print("  VM %s (%s, pid %d): %d container(s) over its life" % (
          v["name"], v["comm"], pid, len(v["cids"])))
    print("    peak locked %s [QEMU's VmLck peak %d KiB]; limit %s; needs %s" % (
          kib(v["locked_peak_bytes"]), peaks[name], kib(v["limit_bytes"]),
          kib(v["needed_limit_bytes"])))
    # MAP_DMA calls go to every container, an mdev-only one too: not "passthrough"
    print("    mdev pins: %d calls, %d pages; DMA maps: %d; IOMMU replays: %d, reaccounts: %d" % (
          sum(c["mdev"]["pin_calls"] for c in cs), sum(c["mdev"]["pin_pages_requested"] for c in cs),
          sum(c["passthrough"]["dma_maps"] for c in cs), sum(c["passthrough"]["replays"] for c in cs),
          sum(c["passthrough"]["reaccounts"] or 0 for c in cs)))
    print("    limit hits %d [ENOMEM the demo saw: %d]; leaked pins %d" % (
          v["limit_hits"], db_enomem if name == "db" else 0,
          sum(c["leaked_pins"] or 0 for c in cs)))
    if v["locked_peak_bytes"] // 1024 != peaks[name] or v["name"] != name:
        bad.append(name)
    if name == "db" and v["limit_hits"] != db_enomem:
        bad.append(name)
d = snap["drops"]
print("  events %d, drops: map %d, ring buffer %d, in-flight %d" % (
      sum(snap["events"].values()), d["map_full"], d["ringbuf"], d["inflight"]))
if bad:
    print("demo: FAILED: vfiopin's figures differ from QEMU's own for %s" % ", ".join(sorted(set(bad))))
    sys.exit(1)
