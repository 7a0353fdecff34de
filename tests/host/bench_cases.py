"""Bench files with known shifts for the `vfiopin compare` host tests, and
the checks of compare's JSON answers (tests/host/offline.sh).

    python3 tests/host/bench_cases.py write DIR     every fixture into DIR
    python3 tests/host/bench_cases.py check NAME FILE [ARG...]

`check` exits 0 when compare's JSON in FILE is what case NAME expects.
Samples are deterministic pseudo-random draws, so every run sees the same
files.
"""
import json
import random
import sys


def bench(metrics, workload=None, kernel=None, **extra):
    doc = {"schema": "vfiopin.bench", "version": 1,
           "workload": workload or {"mode": "mdev"}, "metrics": metrics}
    if kernel is not None:
        doc["environment"] = kernel
    doc.update(extra)
    return doc


def save(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)


def noisy(path, scale, n=30, mode="mdev"):
    """Latency samples SCALE times a fixed noisy base (pages/s divided by it)."""
    rng = random.Random(7 if scale == 1.0 else 11)  # another draw of the same noise
    lat = [scale * 100000 * rng.lognormvariate(0, 0.05) for _ in range(n)]
    save(path, bench({"pin_call_ns": {"unit": "ns", "better": "lower", "samples": lat},
                      "pin_pages_per_s": {"unit": "1/s", "better": "higher",
                                          "samples": [64e9 / v for v in lat]}},
                     workload={"mode": mode, "pages_per_call": 64, "total_pages": 1024,
                               "hugepages": False},
                     kernel={"kernel_release": "test"}, run={"repetitions": n}))


def six_metrics(d):
    """Six metrics, one shifted by 3.5 % (exact p = 0.029 on its own)."""
    for name, shift in (("h-base", 0), ("h-new", 3.5)):
        ms = {"m%d" % j: {"unit": "ns", "better": "lower",
                          "samples": [100 + i + (shift if j == 0 else 0.5) for i in range(10)]}
              for j in range(6)}
        save("%s/%s.json" % (d, name), bench(ms))


def drift(d):
    """A machine 2 % slower per run of 5 samples: 4 runs of A then 4 of B
    (seq-*), and the same 8 runs taken A B A B ... (alt-*)."""
    rng = random.Random(3)

    def run(path, t):
        lat = [100000 * (1 + 0.02 * t) * rng.lognormvariate(0, 0.005) for _ in range(5)]
        save(path, bench({"pin_call_ns": {"unit": "ns", "better": "lower", "samples": lat}}))
    for t in range(8):
        run("%s/seq-%s%d.json" % (d, "ab"[t // 4], t % 4), t)
    for t in range(8):
        run("%s/alt-%s%d.json" % (d, "ab"[t % 2], t // 2), t)


def runs(d):
    """Three runs a side of 30 calls, runs 8 % apart, with and without per_run."""
    def f(name, offsets, per_run=True, counts=None):
        lat = [100000 * (1 + o) * (1 + 0.001 * (c % 7)) for o in offsets for c in range(30)]
        m = {"unit": "ns", "better": "lower", "samples": lat}
        if per_run:
            m["per_run"] = counts or [30] * len(offsets)
        save("%s/%s.json" % (d, name), bench({"pin_call_ns": m}))
    f("runs-a", (0, 0.01, 0.02))
    f("runs-b", (0.08, 0.09, 0.10))
    f("calls-a", (0, 0.01, 0.02), False)
    f("calls-b", (0.08, 0.09, 0.10), False)
    f("runs-bad", (0, 0.01, 0.02), counts=[30, 30, 29])


def metric(samples, **extra):
    return dict({"unit": "ns", "better": "lower", "samples": samples}, **extra)


def lognormal(n, scale, seed):
    rng = random.Random(seed)
    return [scale * 100000 * rng.lognormvariate(0, 0.05) for _ in range(n)]


def hostile(d):
    """Files a hostile or broken producer could hand compare."""
    def doc(metrics, version=1, kernel="test"):
        x = bench(metrics, kernel={"kernel_release": kernel})
        x["version"] = version
        return x
    big = 9223372036854775807
    # per_run counts whose sum wraps to the number of samples
    save(d + "/wrap.json", doc({"m": metric([1, 2, 3], per_run=[big, big, 5])}))
    # a count alone larger than the samples
    save(d + "/overcount.json", doc({"m": metric([1, 2, 3], per_run=[4])}))
    # every metric without samples: nothing to compare
    save(d + "/empty.json", doc({"a": metric([]), "b": metric([], better="higher")}))
    # 1.0 is the number 1 in JSON; 2.5 is not a version this reads
    save(d + "/version-real.json", doc({"m": metric(lognormal(10, 1, 1))}, version=1.0))
    save(d + "/version-2.5.json", doc({"m": metric([1, 2, 3])}, version=2.5))
    save(d + "/version-string.json", doc({"m": metric([1, 2, 3])}, version="1"))
    none = doc({"m": metric([1, 2, 3])})
    del none["version"]
    save(d + "/version-none.json", none)
    # terminal escapes and table separators from the file's own strings
    esc = "\u001b[2J\u001b]0;owned\u0007"
    save(d + "/control.json",
         doc({"pin" + esc + "|x": metric(lognormal(10, 1, 2), unit="n|s\u009b")},
             kernel="6.1" + esc + "|y"))
    # a duration or a rate of 0 or less is no measurement
    save(d + "/zero.json", doc({"m": metric([5.0, 0, 7.0])}))
    save(d + "/negative.json", doc({"m": metric([5.0, 6.0, -7.0])}))
    # near DBL_MAX, 20 % slower: the medians' (a + b) / 2 overflowed, the
    # change became shift / inf = 0, and the verdict "unchanged"
    save(d + "/huge-base.json", doc({"m": metric(lognormal(30, 1e303, 5))}))
    save(d + "/huge-slow.json", doc({"m": metric(lognormal(30, 1.2e303, 6))}))
    # a base median of the smallest subnormal: the change is beyond what a
    # double holds, its interval infinite, and still a regression
    save(d + "/subnormal.json", doc({"m": metric([5e-324] * 10)}))
    save(d + "/ones.json", doc({"m": metric([1.0 + i / 10 for i in range(10)])}))
    # large samples, the new side 20 % slower (the old O(n*m) code needed
    # 80 GB at 100,000 a side and, failing to get it, said "unchanged")
    save(d + "/large-base.json", doc({"m": metric(lognormal(100000, 1.0, 3))}))
    save(d + "/large-slow.json", doc({"m": metric(lognormal(100000, 1.2, 4))}))
    # one metric, said differently by the two sides: a direction, a unit,
    # repetition medians against raw samples
    ten = lognormal(10, 1, 1)
    save(d + "/lower.json", doc({"m": metric(ten)}))
    save(d + "/higher.json", doc({"m": metric(lognormal(10, 1.2, 2), better="higher")}))
    save(d + "/in-us.json", doc({"m": metric([v / 1000 for v in ten], unit="us")}))
    save(d + "/per-run.json", doc({"m": metric(ten, per_run=[5, 5])}))
    # one rule for numbers: a workload of 64.0 is the workload of 64
    w = bench({"m": metric(ten)}, workload={"mode": "mdev", "pages_per_call": 64},
              kernel={"kernel_release": "test"})
    save(d + "/wl-int.json", w)
    w["workload"]["pages_per_call"] = 64.0
    save(d + "/wl-real.json", w)
    # a broken file whose bad bytes are an escape sequence
    with open(d + "/esc-broken.json", "w") as f:
        f.write('{"schema": \x1b[31m')
    # metrics present on one side only, or empty on one
    save(d + "/two.json", doc({"m": metric(ten), "gone": metric(lognormal(10, 1, 3))}))
    save(d + "/two-empty.json", doc({"m": metric(lognormal(10, 1, 4)), "gone": metric([])}))
    save(d + "/extra.json", doc({"m": metric(ten), "fresh": metric(lognormal(10, 1, 3))}))


def write(d):
    for name, scale, n, mode in (("base", 1.0, 30, "mdev"), ("same", 1.0, 30, "mdev"),
                                 ("aa", 1.0001, 30, "mdev"), ("slow", 1.2, 30, "mdev"),
                                 ("fast", 0.8, 30, "mdev"), ("few-base", 1.0, 3, "mdev"),
                                 ("few", 1.2, 3, "mdev"), ("pt", 1.0, 30, "passthrough")):
        noisy("%s/%s.json" % (d, name), scale, n, mode)
    with open("%s/base.json" % d) as f:
        k2 = json.load(f)
    k2["environment"] = {"kernel_release": "6.1.0-vp", "kernel_build": "lab-0123"}
    save("%s/k2.json" % d, k2)
    six_metrics(d)
    drift(d)
    runs(d)
    hostile(d)


def metrics(path):
    with open(path) as f:
        doc = json.load(f)
    return doc, {m["metric"]: m for m in doc["metrics"]}


def check(name, path, *args):
    if name == "client-counts":
        # one sample for every call the stand-in client made (its own counts)
        with open(args[0]) as f:
            c = json.load(f)
        with open(path) as f:
            m = json.load(f)["metrics"]
        return (c["pin"] == c["unpin"] == 50000
                and m["pin_call_ns"]["per_run"] == [c["pin"]] * 2
                and m["unpin_call_ns"]["per_run"] == [c["unpin"]] * 2)
    doc, m = metrics(path)
    if name == "slow-20":
        # the estimate and its interval bracket the true +20 %
        x = m["pin_call_ns"]
        return (x["ci_low"] < 0.2 < x["ci_high"] and abs(x["change"] - 0.2) < 0.03
                and x["p"] < 1e-6 and x["n_base"] == 30 and x["verdict"] == "regressed")
    if name == "holm-6":
        # p 0.029 alone, six times that under Holm, no verdict
        x = m["m0"]
        return (doc["correction"] == "holm" and 0.02 < x["p"] < 0.05
                and abs(x["p_adjusted"] - 6 * x["p"]) < 1e-12 and x["verdict"] == "unchanged"
                and all(m["m%d" % j]["p_adjusted"] == 1 for j in range(1, 6)))
    if name == "pooled":
        # the same runs in turn, pooled: 20 vs 20, unchanged, a small change
        x = doc["metrics"][0]
        return (x["n_base"] == 20 and x["n_new"] == 20 and x["verdict"] == "unchanged"
                and 0 < x["change"] < 0.04 and len(doc["base"]) == 4
                and doc["new"][0].endswith("alt-b0.json"))
    if name == "per-run":
        # 3 vs 3 repetitions of 30 calls each: tested as 3 vs 3
        x = doc["metrics"][0]
        return ((x["n_base"], x["n_new"], x["samples_base"], x["samples_new"]) == (3, 3, 90, 90)
                and x["verdict"] == "unchanged" and "too few samples (3 vs 3)" in x["warning"])
    if name == "huge-20":
        # samples near 1e308: finite medians, +20 % inside its interval
        x = doc["metrics"][0]
        return (x["verdict"] == "regressed" and 0.9e308 < x["median_base"] < 1.1e308
                and 1.1e308 < x["median_new"] < 1.3e308 and abs(x["change"] - 0.2) < 0.03
                and x["ci_low"] < 0.2 < x["ci_high"])
    if name == "large-20":
        # 100,000 a side, 20 % slower: a tight interval around +20 %
        x = doc["metrics"][0]
        return (x["n_base"] == x["n_new"] == 100000 and x["verdict"] == "regressed"
                and 0.19 < x["ci_low"] <= x["change"] <= x["ci_high"] < 0.21
                and abs(x["change"] - 0.2) < 0.005)
    raise SystemExit("bench_cases.py: no check named %r" % name)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        return 0 if check(sys.argv[2], sys.argv[3], *sys.argv[4:]) else 1
    raise SystemExit(__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
