"""Bench files that a hostile or broken producer could hand `vfiopin compare`.

    python3 tests/host/hostile_bench.py DIR

writes into DIR one file per case (named below), each a vfiopin.bench v1
document unless the case is about the header itself.
"""
import json
import random
import sys


def bench(metrics, version=1, kernel="test", workload=None):
    return {"schema": "vfiopin.bench", "version": version,
            "workload": workload or {"mode": "mdev"},
            "environment": {"kernel_release": kernel}, "metrics": metrics}


def metric(samples, **extra):
    return dict({"unit": "ns", "better": "lower", "samples": samples}, **extra)


def lognormal(n, scale, seed):
    rng = random.Random(seed)
    return [scale * 100000 * rng.lognormvariate(0, 0.05) for _ in range(n)]


def cases():
    big = 9223372036854775807
    # per_run counts whose sum wraps to the number of samples
    yield "wrap", bench({"m": metric([1, 2, 3], per_run=[big, big, 5])})
    # a count alone larger than the samples
    yield "overcount", bench({"m": metric([1, 2, 3], per_run=[4])})
    # every metric without samples: nothing to compare
    yield "empty", bench({"a": metric([]), "b": metric([], better="higher")})
    # 1.0 is the number 1 in JSON; 2.5 is not a version this reads
    yield "version-real", bench({"m": metric(lognormal(10, 1, 1))}, version=1.0)
    yield "version-2.5", bench({"m": metric([1, 2, 3])}, version=2.5)
    yield "version-string", bench({"m": metric([1, 2, 3])}, version="1")
    doc = bench({"m": metric([1, 2, 3])})
    del doc["version"]
    yield "version-none", doc
    # terminal escapes and table separators from the file's own strings
    esc = "\u001b[2J\u001b]0;owned\u0007"
    yield "control", bench({"pin" + esc + "|x": metric(lognormal(10, 1, 2), unit="n|s\u009b")},
                           kernel="6.1" + esc + "|y")
    # large samples, the new side 20 % slower (the old O(n*m) code needed
    # 80 GB at 100,000 a side and, failing to get it, said "unchanged")
    yield "large-base", bench({"m": metric(lognormal(100000, 1.0, 3))})
    yield "large-slow", bench({"m": metric(lognormal(100000, 1.2, 4))})


def main():
    out = sys.argv[1]
    for name, doc in cases():
        with open("%s/%s.json" % (out, name), "w") as f:
            json.dump(doc, f)


if __name__ == "__main__":
    main()
