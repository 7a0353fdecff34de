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
