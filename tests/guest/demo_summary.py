"""The demo's summary: vfiopin's figures next to each VM's own view; fails when vfiopin saw no VM's pins (demo.sh)."""
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
