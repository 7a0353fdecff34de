#!/bin/bash
# run-in-lab.sh NAME [lab/run.sh options] -- TEST [ARGS]: run one lab test
# quietly, then print its results (ok/FAIL lines and the summary) from the
# console log, and the end of the log when it failed.  A guest is killed
# only when its console prints nothing for --idle seconds (a hung test; the
# tests print as they go), never for being slow on a busy machine.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
name=$1; shift
out=$TOP/build/lab-$name
"$TOP/lab/run.sh" --idle 1200 --quiet --out "$out" "$@"
rc=$?
# The guest kernel dead of an int3 in its own text (not a module's): a
# breakpoint of live text patching (static keys, as BPF attaches flip
# them) that the emulated CPU still ran after the patch was done, seen
# once in a while under TCG with two vCPUs.  That boot tells nothing of
# the test: its log is kept and the test runs once more, in a new boot.
rip=$(tr -d '\r' < "$out/console.log" 2> /dev/null | grep -A4 -m1 'Oops: int3' | sed -n 's/.*RIP: 0010:\([^ ]*\)$/\1/p' | head -1)
if [ $rc = 125 ] && [ -n "$rip" ]; then
	echo "lab: $name: the guest kernel died of an int3 in its own text ($rip), not of the test; booting it once more"
	"$TOP/lab/run.sh" --idle 1200 --quiet --out "$out" "$@"
	rc=$?
fi
tr -d '\r' < "$out/console.log" | grep -vE '^\[ *[0-9]+\.[0-9]+\]' |
	sed -n '/^ok: /p; /^FAIL: /p; /^=== /p; /^scen /,/passed, /p; / passed, [0-9]* failed/p' | awk '!seen[$0]++ || !/passed, /'
[ -s "$out/wall-seconds" ] && [ -s "$out/longest-silence-seconds" ] &&
	echo "lab: $name: $(cat "$out/wall-seconds") s, longest console silence $(cat "$out/longest-silence-seconds") s," \
		"after: $(cut -c1-100 "$out/longest-silence-after" 2> /dev/null)"
if [ $rc -ne 0 ]; then
	echo "lab test '$name' failed (status $rc); console log: $out/console.log"
	tail -40 "$out/console.log"
	exit 1
fi
