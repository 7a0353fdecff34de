"""What a `vfiopin compare --json` answer says, for the lab bench tests (bench.sh).

    cmp_query.py verdicts FILE    the regressed metrics, then the improved ones
                                  (comma-separated, "-" for none)
    cmp_query.py count FILE       how many metrics were compared
"""
import json
import sys


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("verdicts", "count"):
        raise SystemExit(__doc__)
    with open(sys.argv[2]) as f:
        ms = json.load(f)["metrics"]
    if sys.argv[1] == "count":
        print(len(ms))
        return
    for v in ("regressed", "improved"):
        print(",".join(m["metric"] for m in ms if m["verdict"] == v) or "-", end=" ")


if __name__ == "__main__":
    main()
