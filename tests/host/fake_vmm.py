#!/usr/bin/env python3
"""A stand-in for vfiopin-vmm that `vfiopin bench --vmm` can run on a host
without VFIO: it takes the same options, reads the steps from --steps FILE
and answers each with the JSON line the real client prints, every step
successful and taking STEP_NS (environment, default 1000) nanoseconds.
It also writes how many steps of each kind it ran to $FAKE_VMM_COUNTS.
With --backing KIND it first prints the "backing" line the real client
prints: all of --mem on huge pages for thp and hugetlb (none for 4k), or
$FAKE_VMM_HUGE bytes.
"""
import json
import os
import sys

ARITY = {"attach": 1, "detach": 1, "map": 2, "unmap": 2, "pin": 3, "unpin": 3,
         "sleep": 1, "hold": 0, "status": 0, "cycle": 4}


def main():
    args = sys.argv[1:]
    steps = backing = None
    mem = 0
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        val = args.pop(0)
        if opt == "--steps":
            steps = val
        elif opt == "--backing":
            backing = val
        elif opt == "--mem":
            mem = int(val)
    if backing:
        huge = int(os.environ.get("FAKE_VMM_HUGE", mem if backing != "4k" else 0))
        print(json.dumps({"event": "backing", "kind": backing, "bytes": mem, "huge_bytes": huge,
                          "kernel_page_kb": 2048 if backing == "hugetlb" else 4}))
    if steps:
        with open(steps) as f:
            args = f.read().split()
    ns = int(os.environ.get("STEP_NS", "1000"))
    counts = {}
    i = 0
    while i < len(args):
        op = args[i]
        n = ARITY[op]
        a = args[i + 1:i + 1 + n]
        i += 1 + n
        line = {"op": op, "ret": 0, "step_ns": ns, "vmlck_kb": 0}
        if op in ("pin", "unpin"):
            line.update(dev=a[0], iova=int(a[1], 0), npages=int(a[2]))
        elif op in ("attach", "detach"):
            line.update(dev=a[0])
        print(json.dumps(line))
        counts[op] = counts.get(op, 0) + 1
    if os.environ.get("FAKE_VMM_COUNTS"):
        with open(os.environ["FAKE_VMM_COUNTS"], "w") as f:
            json.dump(counts, f)


if __name__ == "__main__":
    main()
