"""The mdev bench file against the client's own calls and vfiopin's histograms (bench.sh --small)."""
import json, sys
b = json.load(open(sys.argv[1])); calls, rep = int(sys.argv[2]), int(sys.argv[3])
m = b["metrics"]
errs = []
if b["schema"] != "vfiopin.bench" or b["version"] != 1: errs.append("schema")
for k, n in (("pin_call_ns", calls), ("unpin_call_ns", calls), ("pin_pages_per_s", calls), ("map_ns", rep), ("unmap_ns", rep)):
    if len(m.get(k, {}).get("samples", [])) != n: errs.append("%s: %d samples, want %d" % (k, len(m.get(k, {}).get("samples", [])), n))
for k, per in (("pin_call_ns", calls // rep), ("map_ns", 1)):
    if m.get(k, {}).get("per_run") != [per] * rep: errs.append("%s per_run %r, want %d x %d" % (k, m.get(k, {}).get("per_run"), rep, per))
if b.get("run", {}).get("warmup") != 1: errs.append("run %r" % b.get("run"))
h = b.get("vfiopin", {}).get("mdev", {})
if h.get("pin_calls") != calls: errs.append("vfiopin pin_calls %r, want %d" % (h.get("pin_calls"), calls))
if h.get("new_pins") != rep * int(sys.argv[4]): errs.append("vfiopin new_pins %r" % h.get("new_pins"))
if "pin_ns" not in b["vfiopin"].get("histograms", {}): errs.append("no pin_ns histogram")
if b.get("containers") != rep: errs.append("containers %r, want %d" % (b.get("containers"), rep))
e = b["environment"]
if not e.get("kernel_build", "").startswith("lab-") or e.get("type1_disable_hugepages") is not False: errs.append("environment %r" % e)
for x in errs: print("bench:", x)
sys.exit(1 if errs else 0)
