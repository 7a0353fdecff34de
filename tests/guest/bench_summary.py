"""The summary of a lab bench run: A/A false alarms and every comparison (bench.sh)."""
import json, sys, glob, os
d, alarms, metrics = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = {"aa_false_regressions": alarms, "aa_false_improvements": int(sys.argv[4]),
       "aa_metric_comparisons": metrics, "alpha": float(sys.argv[5]), "correction": "holm",
       "rounds": int(sys.argv[6]), "repetitions_per_round": int(sys.argv[7]), "comparisons": {}}
for f in sorted(glob.glob(os.path.join(d, "cmp-*.json"))):
    c = json.load(open(f))
    out["comparisons"][os.path.basename(f)[4:-5]] = {
        m["metric"]: {k: m[k] for k in ("n_base", "n_new", "change", "ci_low", "ci_high", "p", "p_adjusted", "verdict")}
        for m in c["metrics"]}
print(json.dumps(out, indent=1))
