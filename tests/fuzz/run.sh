#!/bin/bash
# Run every libFuzzer target (build/fuzz/fuzz_*) for SECONDS each (default
# 30), from the seeds in tests/fuzz/corpus/TARGET plus what earlier runs
# found (build/fuzz/corpus/TARGET).  Prints, per target, the executions,
# the coverage (edges and features) and the crashes; a crashing input is
# kept in build/fuzz/crashes/TARGET/.  Exit 1 if any target crashed.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
secs=${1:-30}
failed=0
for bin in build/fuzz/fuzz_*; do
	t=${bin##*/fuzz_}
	# this run's crashing inputs only
	rm -rf "build/fuzz/crashes/$t"
	mkdir -p "build/fuzz/corpus/$t" "build/fuzz/crashes/$t"
	log=build/fuzz/$t.log
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/crashes/$t/" \
		"build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	crashes=$(find "build/fuzz/crashes/$t" -type f | wc -l)
	if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
		echo "FAIL: fuzz $t: exit $rc, $crashes crashing input(s) in build/fuzz/crashes/$t/ (log: $log)"
		grep -E 'ERROR|SUMMARY|runtime error|deadly signal' "$log" | head -5
		failed=1
	else
		echo "ok: fuzz $t: ${execs:-?} executions in $secs s, ${cov:-no coverage line}, 0 crashes"
	fi
done
exit $failed
