#!/bin/bash
# Host side: a guest whose command hangs is killed at the timeout, the
# runner exits non-zero (124) and the console log is kept.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
out=$TOP/build/lab-hang
"$TOP/lab/run.sh" --quiet --timeout 60 --out "$out" -- bash -c 'echo guest-is-up; sleep 600' 2> "$out.err"
rc=$?
pass=0 failed=0
if [ $rc -eq 124 ]; then echo "ok: hung guest killed, exit 124"; pass=$((pass + 1)); else echo "FAIL: hung guest: exit $rc"; failed=$((failed + 1)); fi
# (Whether the guest got as far as the command depends on the machine's
# load; the log must be kept either way.)
if [ -f "$out/console.log" ] && grep -q "killed after 60s; console log: $out/console.log" "$out.err"; then
	echo "ok: console log kept and the kill reported ($(grep -c guest-is-up "$out/console.log") 'guest-is-up' lines in it)"; pass=$((pass + 1))
else
	echo "FAIL: console log or message missing: $(cat "$out.err")"; failed=$((failed + 1))
fi
# and kept apart, so that a rerun into the same directory cannot lose it
kept=$(sed -n 's/.*console log is kept as //p' "$out.err")
if [ -n "$kept" ] && cmp -s "$kept" "$out/console.log"; then
	echo "ok: the failed boot's log kept apart ($kept)"; pass=$((pass + 1))
else
	echo "FAIL: the failed boot's log not kept apart: $(cat "$out.err")"; failed=$((failed + 1))
fi
echo "hang-check: $pass passed, $failed failed"
[ $failed -eq 0 ]
