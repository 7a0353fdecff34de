#!/bin/bash
# run-tiers.sh NAME=COMMAND...: run every tier to its end, even after one
# failed, then print each tier's result and time; exit 1 if any failed.
# make check runs the test tiers this way, and check-lab its lab tests, so
# that one failure never hides what the others would have found.
set -uo pipefail
results=() failed=0
for spec in "$@"; do
	name=${spec%%=*} cmd=${spec#*=}
	t0=$(date +%s)
	echo "=== $name: $cmd"
	if bash -c "$cmd"; then r=passed; else r=FAILED; failed=1; fi
	results+=("$(printf '%-16s %-7s %5ss' "$name" "$r" $(($(date +%s) - t0)))")
done
echo
echo "=== summary"
printf '%s\n' "${results[@]}"
exit $failed
