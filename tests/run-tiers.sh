#!/bin/bash
# run-tiers.sh [--parallel] NAME=COMMAND...: run every tier to its end, even
# after one failed, then print each tier's result and time; exit 1 if any
# failed.  make check runs the test tiers this way, and check-lab its lab
# tests, so that one failure never hides what the others would have found.
#
# --parallel starts every tier at once, each with its output in
# build/tiers/NAME.log, and prints those logs, in the order given, once all
# have ended.  make check runs the two kernel lines' lab tiers so: a lab
# guest under software emulation keeps about one CPU busy, and the machine
# has two.
set -uo pipefail
parallel=0
[ "${1:-}" = --parallel ] && { parallel=1; shift; }
results=() failed=0

line() { printf '%-18s %-7s %5ss' "$1" "$2" "$3"; }

if [ $parallel = 0 ]; then
	for spec in "$@"; do
		name=${spec%%=*} cmd=${spec#*=}
		t0=$(date +%s)
		echo "=== $name: $cmd"
		if bash -c "$cmd"; then r=passed; else r=FAILED; failed=1; fi
		results+=("$(line "$name" "$r" $(($(date +%s) - t0)))")
	done
else
	logs=$(cd "$(dirname "$0")/.." && pwd)/build/tiers
	mkdir -p "$logs"
	pids=() names=() t0=$(date +%s)
	for spec in "$@"; do
		name=${spec%%=*} cmd=${spec#*=}
		echo "=== $name (in parallel, output in $logs/$name.log): $cmd"
		bash -c "$cmd" > "$logs/$name.log" 2>&1 < /dev/null &
		pids+=($!) names+=("$name")
	done
	for i in "${!pids[@]}"; do
		if wait "${pids[$i]}"; then r=passed; else r=FAILED; failed=1; fi
		results+=("$(line "${names[$i]}" "$r" $(($(date +%s) - t0)))")
	done
	for name in "${names[@]}"; do
		echo
		echo "=== $name: its output"
		cat "$logs/$name.log"
	done
fi
echo
echo "=== summary"
printf '%s\n' "${results[@]}"
exit $failed
