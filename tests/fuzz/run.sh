#!/bin/bash
# Run every libFuzzer target (build/fuzz/fuzz_*) for SECONDS each (default
# 30), from the seeds in tests/fuzz/corpus/TARGET plus what earlier runs
# found (build/fuzz/corpus/TARGET).  Prints, per target, the executions,
# the coverage (edges and features) and the crashes; a crashing input is
# kept in build/fuzz/crashes/TARGET/.  As many targets run at once as there
# are CPUs.  Exit 1 if any target crashed.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
secs=${1:-30}
jobs=$(nproc)
failed=0

# fuzz TARGET: run it for $secs s, its log in build/fuzz/TARGET.log
fuzz() {
	local t=$1
	# this run's crashing inputs only
	rm -rf "build/fuzz/crashes/$t"
	mkdir -p "build/fuzz/corpus/$t" "build/fuzz/crashes/$t"
	"build/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/crashes/$t/" \
		"build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" > "build/fuzz/$t.log" 2>&1
	echo $? > "build/fuzz/$t.rc"
}

# one target a CPU at once: each still has its $secs s of a CPU to itself
targets=()
for bin in build/fuzz/fuzz_*; do targets+=("${bin##*/fuzz_}"); done
running=0
for t in "${targets[@]}"; do
	if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
	fuzz "$t" &
	running=$((running + 1))
done
wait

for t in "${targets[@]}"; do
	log=build/fuzz/$t.log
	rc=$(cat "build/fuzz/$t.rc" 2>/dev/null || echo "?")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	crashes=$(find "build/fuzz/crashes/$t" -type f | wc -l)
	if [ "$rc" != 0 ] || [ "$crashes" -ne 0 ]; then
		echo "FAIL: fuzz $t: exit $rc, $crashes crashing input(s) in build/fuzz/crashes/$t/ (log: $log)"
		grep -E 'ERROR|SUMMARY|runtime error|deadly signal' "$log" | head -5
		failed=1
	else
		echo "ok: fuzz $t: ${execs:-?} executions in $secs s, ${cov:-no coverage line}, 0 crashes"
	fi
done
exit $failed
