#!/usr/bin/env python3
"""Query `vfiopin stat --json` snapshots for the lab tests.

    vpq.py SNAPSHOT SELECTOR PATH
    vpq.py --serve

SELECTOR: tgid=N or cid=N (the one container; "none" if absent; several
matches are an error), vm=N (the VM of process N in "vms"; "none" if
absent), owner=N (the sum over process N's containers), all (the sum over
containers), or top (the snapshot's own fields).  PATH: dotted, e.g.
mdev.pin_refs or refcount.live.  Dicts print as compact JSON with sorted
keys.  The last line of SNAPSHOT is the snapshot.

--serve answers queries, one per line on stdin (SNAPSHOT, SELECTOR and PATH
separated by tabs), with one line each on stdout: the value, or "vpq: "
and what was wrong.  The snapshot file is read anew for every query.  It
is how the lab tests ask many questions for one Python start-up, which
under TCG costs seconds (tests/guest/lib.sh, vpq).
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


def main():
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    try:
        print(query(*sys.argv[1:]))
    except QueryError as e:
        raise SystemExit(str(e))


main()
