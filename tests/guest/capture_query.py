"""A figure of a capture's timeline.json for the container of a VM's own output (capture.sh)."""
import json, sys
cap = json.load(open(sys.argv[1] + "/timeline.json"))
vm = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
pid = next(l["pid"] for l in vm if "pid" in l)
c = next(x for x in cap["containers"] if x["tgid"] == pid)
phases = [p["phase"] for p in c["phases"]]
print(eval(sys.argv[3]))
