#!/bin/bash
# run-in-lab.sh NAME [lab/run.sh options] -- TEST [ARGS]: run one lab test
# quietly, then print its results (ok/FAIL lines and the summary) from the
# console log, and the end of the log when it failed.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
name=$1; shift
out=$TOP/build/lab-$name
"$TOP/lab/run.sh" --timeout 2400 --quiet --out "$out" "$@"
rc=$?
tr -d '\r' < "$out/console.log" | grep -vE '^\[ *[0-9]+\.[0-9]+\]' |
	sed -n '/^ok: /p; /^FAIL: /p; /^=== /p; /^scen /,/passed, /p; / passed, [0-9]* failed/p' | awk '!seen[$0]++ || !/passed, /'
if [ $rc -ne 0 ]; then
	echo "lab test '$name' failed (status $rc); console log: $out/console.log"
	tail -40 "$out/console.log"
	exit 1
fi
