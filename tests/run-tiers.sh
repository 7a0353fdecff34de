#!/bin/bash
# run-tiers.sh NAME=COMMAND...: run every tier to its end, even after one
# failed, then print each tier's result and time; exit 1 if any failed.
# make check runs the test tiers this way, and check-lab its lab tests, so
# that one failure never hides what the others would have found.
#
# NAME&=COMMAND runs that tier beside the ones after it (a tier that mostly
# waits, such as the lab runner's hang check), its output held back and
# printed, and its result recorded, once the others are done.
#
# Where the time goes: every tier, at every depth (check-lab's lab tests
# are tiers of the check-lab tier, one guest boot each), is a line of
# $VFIOPIN_CHECK_TIMES (JSON lines: tier, parent, seconds, result, its
# last "N passed, N failed[, N skipped]" or its tiers' added up, and its
# ok/FAIL lines); the outermost run starts the file afresh
# (build/check-times.jsonl), writes it whole as build/check-times.json and
# ends with the table of them all and the total.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
outer=0
if [ -z "${VFIOPIN_CHECK_TIMES:-}" ]; then
	outer=1
	mkdir -p "$TOP/build"
	export VFIOPIN_CHECK_TIMES=$TOP/build/check-times.jsonl
	: > "$VFIOPIN_CHECK_TIMES"
fi
parent=${VFIOPIN_TIER:-}
results=() failed=0 t_all=$(date +%s)
log=$(mktemp)
bg_names=() bg_pids=() bg_logs=() bg_t0=()

# record NAME SECONDS RESULT LOG: the tier's line of $VFIOPIN_CHECK_TIMES
record() {
	results+=("$(printf '%-16s %-7s %5ss' "$1" "$3" "$2")")
	# this tier's own checks: its ok/FAIL lines (a nested tier's count too)
	python3 - "$VFIOPIN_CHECK_TIMES" "$1" "$parent" "$2" "$3" "$4" << 'PY'
import json, re, sys
path, name, parent, secs, result, log = sys.argv[1:]
ok = fail = 0
last = None
with open(log, errors="replace") as f:
    for line in f:
        ok += line.startswith("ok: ")
        fail += line.startswith("FAIL: ")
        m = re.search(r"(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", line.strip())
        if m:
            last = [int(x or 0) for x in m.groups()]
# the tier's own "N passed, N failed[, N skipped]", or its tiers' added up
with open(path) as f:
    kids = [json.loads(l) for l in f if l.strip()]
kids = [k for k in kids if k["parent"] == name and k.get("passed") is not None]
if kids:
    last = [sum(k[x] for k in kids) for x in ("passed", "failed", "skipped")]
row = {"tier": name, "parent": parent or None, "seconds": int(secs), "result": result,
       "ok": ok, "fail": fail}
row.update(dict(zip(("passed", "failed", "skipped"), last or [None] * 3)))
with open(path, "a") as f:
    f.write(json.dumps(row) + "\n")
PY
}

for spec in "$@"; do
	name=${spec%%=*} cmd=${spec#*=}
	if [ "${name%&}" != "$name" ]; then
		name=${name%&}
		echo "=== $name (beside the tiers after it): $cmd"
		bg_names+=("$name") bg_t0+=("$(date +%s)") bg_logs+=("$(mktemp)")
		# its own time: it notes when it ended
		(
			VFIOPIN_TIER=$name bash -c "$cmd"
			rc=$?
			date +%s > "${bg_logs[-1]}.end"
			exit $rc
		) > "${bg_logs[-1]}" 2>&1 &
		bg_pids+=($!)
		continue
	fi
	t0=$(date +%s)
	echo "=== $name: $cmd"
	VFIOPIN_TIER=$name bash -c "$cmd" 2>&1 | tee "$log"
	if [ "${PIPESTATUS[0]}" = 0 ]; then r=passed; else r=FAILED; failed=1; fi
	record "$name" $(($(date +%s) - t0)) $r "$log"
done
for i in "${!bg_pids[@]}"; do
	wait "${bg_pids[$i]}"
	rc=$?
	s=$(($(cat "${bg_logs[$i]}.end" 2> /dev/null || date +%s) - bg_t0[i]))
	echo "=== ${bg_names[$i]} (ran beside the others, ${s}s):"
	cat "${bg_logs[$i]}"
	if [ $rc = 0 ]; then r=passed; else r=FAILED; failed=1; fi
	record "${bg_names[$i]}" $s $r "${bg_logs[$i]}"
	rm -f "${bg_logs[$i]}" "${bg_logs[$i]}.end"
done
rm -f "$log"
echo
echo "=== summary"
printf '%s\n' "${results[@]}"
if [ $outer = 1 ]; then
	python3 - "$VFIOPIN_CHECK_TIMES" "$TOP/build/check-times.json" $(($(date +%s) - t_all)) << 'PY'
import json, sys
src, dst, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(src) if l.strip()]
def counts(r):
    if r.get("passed") is None:
        return "%d ok, %d FAIL lines" % (r["ok"], r["fail"])
    return "%d passed, %d failed, %d skipped" % (r["passed"], r["failed"], r["skipped"])
json.dump({"total_seconds": total, "tiers": rows}, open(dst, "w"), indent=1)
print("\n=== where the time went (%s)" % dst)
# each top tier, then the tiers it ran, in the order they ran
for r in rows:
    if r["parent"] is None:
        print("%-20s %6ds  %-7s %s" % (r["tier"], r["seconds"], r["result"], counts(r)))
        for c in rows:
            if c["parent"] == r["tier"]:
                print("  %-18s %6ds  %-7s %s" % (c["tier"], c["seconds"], c["result"], counts(c)))
print("%-20s %6ds (%.1f min)" % ("total", total, total / 60))
PY
fi
exit $failed
