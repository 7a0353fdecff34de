#!/usr/bin/env python3
"""Query one `vfiopin stat --json` snapshot for the lab tests.

    vpq.py SNAPSHOT SELECTOR PATH

SELECTOR: tgid=N or cid=N (the one container; "none" if absent; several
matches are an error), vm=N (the VM of process N in "vms"; "none" if
absent), owner=N (the sum over process N's containers), all (the sum over containers), or top (the snapshot's own
fields).  PATH: dotted, e.g. mdev.pin_refs or
refcount.live.  Dicts print as compact JSON with sorted keys.
"""
import json
import sys


def get(obj, path):
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            raise SystemExit(f"vpq: no field {path!r}")
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


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    with open(sys.argv[1]) as f:
        snap = json.loads(f.read().strip().splitlines()[-1])
    sel, path = sys.argv[2], sys.argv[3]
    if sel == "top":
        print(show(get(snap, path)))
        return
    rows = snap["containers"]
    if sel == "all" or sel.startswith("owner="):
        tgid = sel.partition("=")[2]
        vals = [get(r, path) for r in rows if sel == "all" or str(r.get("tgid")) == tgid]
        # a figure the mode cannot give (null) has no sum
        print(show(None if None in vals else sum(vals)))
        return
    key, _, val = sel.partition("=")
    if key == "vm":
        key, rows = "tgid", snap.get("vms", [])
    match = [r for r in rows if str(r.get(key)) == val]
    if not match:
        print("none")
    elif len(match) > 1:
        raise SystemExit(f"vpq: {len(match)} containers match {sel}")
    else:
        print(show(get(match[0], path)))


main()
