"""Pages a process pinned and unpinned, from `vfiopin trace --json` lines (frontends.sh).

    trace_counts.py TRACE.json TGID    prints "PINNED UNPINNED"
"""
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
mine = [e for e in ev if e["tgid"] == int(sys.argv[2])]
print(sum(1 for e in mine if e["event"] == "pin_page"), sum(1 for e in mine if e["event"] == "unpin_page"))

