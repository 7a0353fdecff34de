#!/usr/bin/env python3
"""What vfiopin's outputs say, for the lab tests: one question a call.

    vpq.py stat SNAPSHOT SELECTOR PATH
    vpq.py serve
    vpq.py trace-pages TRACE-JSON TGID
    vpq.py compare verdicts|count COMPARE-JSON
    vpq.py capture CAPTURE-DIR CLIENT-JSON QUERY

stat: a figure of a `vfiopin stat --json` snapshot.  SELECTOR: tgid=N or
cid=N (the one container; "none" if absent; several matches are an
error), vm=N (the VM of process N in "vms"; "none" if absent), owner=N
(the sum over process N's containers), all (the sum over containers), or
top (the snapshot's own fields).  PATH: dotted, e.g. mdev.pin_refs or
refcount.live.  Dicts print as compact JSON with sorted keys.  The last
line of SNAPSHOT is the snapshot.

serve answers stat queries, one per line on stdin (SNAPSHOT, SELECTOR and
PATH separated by tabs), with one line each on stdout: the value, or
"vpq: " and what was wrong.  The snapshot file is read anew for every
query.  It is how the lab tests ask many questions for one Python
start-up, which under TCG costs seconds (tests/guest/lib.sh, vpq).

trace-pages: "PINNED UNPINNED", the pages process TGID pinned and unpinned
by the pin_page and unpin_page events of `vfiopin trace --json` lines.

compare: of a `vfiopin compare --json` answer, the regressed metrics then
the improved ones (comma-separated, "-" for none), or how many metrics
were compared.

capture: a figure of the capture's timeline.json for the container of the
client whose step lines are CLIENT-JSON, or of those lines, by name
(CAPTURE_QUERIES below; a name, never code to evaluate).
"""
import json
import sys


class QueryError(Exception):
    pass


def get(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            raise QueryError(f"vpq: no field {path!r}")
        obj = obj[part]
    return obj


def show(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    return str(v)


def load(snap_path):
    try:
        with open(snap_path) as f:
            lines = f.read().strip().splitlines()
    except OSError as e:
        raise QueryError(f"vpq: {snap_path}: {e.strerror}") from None
    if not lines:
        raise QueryError(f"vpq: {snap_path}: empty")
    try:
        snap = json.loads(lines[-1])
    except ValueError as e:
        raise QueryError(f"vpq: {snap_path}: not JSON: {e}") from None
    if not isinstance(snap, dict):
        raise QueryError(f"vpq: {snap_path}: not a snapshot object")
    return snap


def query(snap_path, sel, path):
    snap = load(snap_path)
    if sel == "top":
        return show(get(snap, path))
    rows = snap.get("containers")
    if not isinstance(rows, list):
        raise QueryError("vpq: the snapshot has no container list")
    if sel == "all" or sel.startswith("owner="):
        tgid = sel.partition("=")[2]
        vals = [get(r, path) for r in rows if sel == "all" or str(r.get("tgid")) == tgid]
        # a figure the mode cannot give (null) has no sum
        return show(None if None in vals else sum(vals))
    key, eq, val = sel.partition("=")
    if not eq or key not in ("tgid", "cid", "vm"):
        raise QueryError(f"vpq: bad selector {sel!r}")
    if key == "vm":
        key, rows = "tgid", snap.get("vms", [])
    match = [r for r in rows if str(r.get(key)) == val]
    if not match:
        return "none"
    if len(match) > 1:
        raise QueryError(f"vpq: {len(match)} containers match {sel}")
    return show(get(match[0], path))


def serve():
    for line in sys.stdin:
        args = line.rstrip("\n").split("\t")
        try:
            if len(args) != 3:
                raise QueryError(f"vpq: a query is 3 fields, not {len(args)}")
            out = query(*args)
        except QueryError as e:
            out = str(e)
        # one answer, one line
        print(out.replace("\n", "\\n"), flush=True)


def json_lines(path):
    """The JSON objects of a file of step, event or snapshot lines (others skipped)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.startswith("{")]


def trace_pages(path, tgid):
    mine = [e for e in json_lines(path) if e.get("tgid") == tgid]
    return (sum(e["event"] == "pin_page" for e in mine),
            sum(e["event"] == "unpin_page" for e in mine))


def compare_metrics(path):
    with open(path) as f:
        return json.load(f)["metrics"]


def compare_verdicts(path):
    ms = compare_metrics(path)
    return [[m["metric"] for m in ms if m["verdict"] == v] for v in ("regressed", "improved")]


def replays(c):
    return [p for p in c["phases"] if p["phase"] == "replay"]


# each query: (the capture's container, the client's step lines) -> a figure
CAPTURE_QUERIES = {
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


def capture_query(cap_dir, client, name):
    with open(cap_dir + "/timeline.json") as f:
        cap = json.load(f)
    vm = json_lines(client)
    pid = next(l["pid"] for l in vm if "pid" in l)
    c = next(x for x in cap["containers"] if x["tgid"] == pid)
    return CAPTURE_QUERIES[name](c, vm)


def main(argv):
    cmd, args = (argv[1], argv[2:]) if len(argv) > 1 else (None, [])
    if cmd == "stat" and len(args) == 3:
        try:
            print(query(*args))
        except QueryError as e:
            print(e, file=sys.stderr)
            return 1
    elif cmd == "serve" and not args:
        serve()
    elif cmd == "trace-pages" and len(args) == 2 and args[1].isdigit():
        print(*trace_pages(args[0], int(args[1])))
    elif cmd == "compare" and len(args) == 2 and args[0] in ("verdicts", "count"):
        if args[0] == "count":
            print(len(compare_metrics(args[1])))
        else:
            print(" ".join(",".join(v) or "-" for v in compare_verdicts(args[1])))
    elif cmd == "capture" and len(args) == 3 and args[2] in CAPTURE_QUERIES:
        print(capture_query(*args))
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
