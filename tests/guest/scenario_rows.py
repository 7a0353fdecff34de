"""The scenario matrix's results, one row each, from scenarios.sh's JSON lines (scenarios.sh)."""
import json
import sys

for line in open(sys.argv[1]):
    if line.strip():
        d = json.loads(line)
        print("%-4s %-22s %-6s %-28s %-28s %-32s %.1f" % (d["scenario"], d["kernel"], d["result"],
                                                          d["vmlck_seen_kb"], d["vmlck_expected_kb"],
                                                          d["driver"], d["seconds"]))
