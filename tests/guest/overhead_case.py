"""One bench-overhead case: medians, throughput ratios and the extra time per call of every mode, as a JSON object and a comma (bench-overhead.sh)."""
import json, statistics, sys
npages, count = int(sys.argv[1]), int(sys.argv[2])
names = ["detached", "tracepoint", "fentry", "kprobe", "ftrace"]
ns = {n: [int(x) for x in a.split()] for n, a in zip(names, sys.argv[3:8])}
calls = 2 * count
med = statistics.median
out = {"npages": npages, "pin_unpin_pairs": count}
for n in names:
    out[n + "_ns"] = ns[n]
out["detached_calls_per_s"] = calls / (med(ns["detached"]) / 1e9)
for n in names[1:]:
    out[n + "_throughput_ratio"] = med(ns["detached"]) / med(ns[n])
    # what one pin or unpin call costs more than untraced
    out[n + "_extra_ns_per_call"] = (med(ns[n]) - med(ns["detached"])) / calls
print(json.dumps(out) + ",")
