"""The overhead benchmark's cases as ok: lines (bench-overhead.sh)."""
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["cases"]:
    print("ok: %d-page calls, throughput of untraced (extra ns per call): " % c["npages"] +
          ", ".join("%s %.3f (%+.0f)" % (m, c[m + "_throughput_ratio"], c[m + "_extra_ns_per_call"])
                    for m in ("tracepoint", "fentry", "kprobe", "ftrace")) +
          " (clocksource %s)" % d["clocksource"])
