"""A figure of a capture's timeline.json, for the container of the client
whose step lines are CLIENT-JSON (capture.sh, qemu.sh), by name:

    capture_query.py CAPTURE-DIR CLIENT-JSON QUERY

QUERY is one of QUERIES below; a name, never code to evaluate.
"""
import json
import sys


def replays(c):
    return [p for p in c["phases"] if p["phase"] == "replay"]


# each query: (the capture's container, the client's step lines) -> a figure
QUERIES = {
    "phases": lambda c, vm: " ".join(p["phase"] for p in c["phases"]),
    "pins": lambda c, vm: (c["totals"]["pin_calls"], c["totals"]["pin_pages"]),
    "client-pins": lambda c, vm: (sum(1 for l in vm if l.get("op") == "pin"),
                                  vm[-1]["pages_pinned"]),
    "unpin-pages": lambda c, vm: c["totals"]["unpin_pages"],
    "client-pages-pinned": lambda c, vm: vm[-1]["pages_pinned"],
    "locked-peak-kb": lambda c, vm: c["totals"]["locked_peak_kb"],
    "client-vmlck-peak-kb": lambda c, vm: max(l.get("vmlck_kb", 0) for l in vm),
    "end": lambda c, vm: (c["released"], c["totals"]["locked_last_kb"], c["totals"]["leaked"]),
    "pid": lambda c, vm: c["tgid"],
    "map-iommu-maps": lambda c, vm: c["phases"][1]["iommu_maps"] > 0,
    "replays-reaccounts": lambda c, vm: (c["totals"]["replays"], c["totals"]["reaccounts"]),
    "replay-pages": lambda c, vm: [p["pages"] for p in replays(c)],
    "replay-iommu-maps": lambda c, vm: all(p["iommu_maps"] > 0 for p in replays(c)),
}


def main(argv):
    if len(argv) != 4 or argv[3] not in QUERIES:
        print("usage: capture_query.py CAPTURE-DIR CLIENT-JSON QUERY (%s)" % ", ".join(QUERIES),
              file=sys.stderr)
        return 2
    cap = json.load(open(argv[1] + "/timeline.json"))
    vm = [json.loads(l) for l in open(argv[2]) if l.startswith("{")]
    pid = next(l["pid"] for l in vm if "pid" in l)
    c = next(x for x in cap["containers"] if x["tgid"] == pid)
    print(QUERIES[argv[3]](c, vm))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
