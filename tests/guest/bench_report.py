#!/usr/bin/env python3
"""What the lab's benchmark tiers conclude from their files.

    bench_report.py samples BENCH-JSON CALLS ROUNDS PAGES
    bench_report.py summary DIR FALSE-REGRESSIONS METRICS FALSE-IMPROVEMENTS ALPHA ROUNDS REPS
    bench_report.py overhead-case NPAGES COUNT detached=TIMES MODE=TIMES...
    bench_report.py overhead-report OVERHEAD-JSON

samples (bench.sh --small): the mdev bench file against the client's own
calls (CALLS pin calls over ROUNDS runs of PAGES pages each) and
vfiopin's histograms; prints "bench: ..." for each difference, exit 1 if
any.  summary (bench.sh): the A/A false alarms and every cmp-*.json of
DIR as one JSON object.  overhead-case (bench-overhead.sh): one case's
medians, throughput ratios and extra time per call from the run times
(ns, space-separated) of each mode, detached first, as a JSON object
and a comma.
overhead-report: the overhead benchmark's cases as ok: lines.
"""
import glob
import json
import os
import statistics
import sys

MODES = ("detached", "tracepoint", "fentry", "kprobe", "ftrace")


def samples_errors(b, calls, rep, pages):
    """What differs between a bench file and the client's own calls."""
    m = b["metrics"]
    errs = []
    if b.get("schema") != "vfiopin.bench" or b.get("version") != 1:
        errs.append("schema")
    for k, n in (("pin_call_ns", calls), ("unpin_call_ns", calls), ("pin_pages_per_s", calls),
                 ("map_ns", rep), ("unmap_ns", rep)):
        got = len(m.get(k, {}).get("samples", []))
        if got != n:
            errs.append("%s: %d samples, want %d" % (k, got, n))
    for k, per in (("pin_call_ns", calls // rep), ("map_ns", 1)):
        if m.get(k, {}).get("per_run") != [per] * rep:
            errs.append("%s per_run %r, want %d x %d" % (k, m.get(k, {}).get("per_run"), rep, per))
    if b.get("run", {}).get("warmup") != 1:
        errs.append("run %r" % b.get("run"))
    v = b.get("vfiopin", {})
    h = v.get("mdev", {})
    if h.get("pin_calls") != calls:
        errs.append("vfiopin pin_calls %r, want %d" % (h.get("pin_calls"), calls))
    if h.get("new_pins") != rep * pages:
        errs.append("vfiopin new_pins %r, want %d" % (h.get("new_pins"), rep * pages))
    if "pin_ns" not in v.get("histograms", {}):
        errs.append("no pin_ns histogram")
    if b.get("containers") != rep:
        errs.append("containers %r, want %d" % (b.get("containers"), rep))
    e = b.get("environment", {})
    if not e.get("kernel_build", "").startswith("lab-") or e.get("type1_disable_hugepages") is not False:
        errs.append("environment %r" % e)
    return errs


def summary(d, alarms, metrics, improved, alpha, rounds, reps):
    out = {"aa_false_regressions": alarms, "aa_false_improvements": improved,
           "aa_metric_comparisons": metrics, "alpha": alpha, "correction": "holm",
           "rounds": rounds, "repetitions_per_round": reps, "comparisons": {}}
    keys = ("n_base", "n_new", "change", "ci_low", "ci_high", "p", "p_adjusted", "verdict")
    for f in sorted(glob.glob(os.path.join(d, "cmp-*.json"))):
        with open(f) as fh:
            c = json.load(fh)
        out["comparisons"][os.path.basename(f)[4:-5]] = {
            m["metric"]: {k: m[k] for k in keys} for m in c["metrics"]}
    return out


def overhead_case(npages, count, ns):
    """ns: each mode's run times (ns), detached first, in order."""
    modes = list(ns)
    if not modes or modes[0] != "detached":
        raise ValueError("the first mode must be detached")
    calls = 2 * count
    med = statistics.median
    out = {"npages": npages, "pin_unpin_pairs": count, "modes": modes}
    for n in modes:
        out[n + "_ns"] = ns[n]
    out["detached_calls_per_s"] = calls / (med(ns["detached"]) / 1e9)
    for n in modes[1:]:
        out[n + "_throughput_ratio"] = med(ns["detached"]) / med(ns[n])
        # what one pin or unpin call costs more than untraced
        out[n + "_extra_ns_per_call"] = (med(ns[n]) - med(ns["detached"])) / calls
    return out


def overhead_lines(d):
    return ["ok: %d-page calls, throughput of untraced (extra ns per call): " % c["npages"] +
            ", ".join("%s %.3f (%+.0f)" % (m, c[m + "_throughput_ratio"], c[m + "_extra_ns_per_call"])
                      for m in c.get("modes", MODES)[1:]) +
            " (clocksource %s)" % d["clocksource"] for c in d["cases"]]


def load(path):
    with open(path) as f:
        return json.load(f)


def main(argv):
    cmd, a = (argv[1], argv[2:]) if len(argv) > 1 else (None, [])
    try:
        if cmd == "samples" and len(a) == 4:
            errs = samples_errors(load(a[0]), int(a[1]), int(a[2]), int(a[3]))
            for x in errs:
                print("bench:", x)
            return 1 if errs else 0
        if cmd == "summary" and len(a) == 7:
            print(json.dumps(summary(a[0], int(a[1]), int(a[2]), int(a[3]), float(a[4]),
                                     int(a[5]), int(a[6])), indent=1))
            return 0
        if cmd == "overhead-case" and len(a) >= 3:
            runs = {}
            for arg in a[2:]:
                mode, _, times = arg.partition("=")
                runs[mode] = [int(x) for x in times.split()]
            print(json.dumps(overhead_case(int(a[0]), int(a[1]), runs)) + ",")
            return 0
        if cmd == "overhead-report" and len(a) == 1:
            print("\n".join(overhead_lines(load(a[0]))))
            return 0
    except ValueError as e:
        print("bench_report.py: %s: %s" % (cmd, e), file=sys.stderr)
        return 2
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
