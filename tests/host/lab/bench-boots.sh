#!/bin/bash
# bench-boots.sh [BOOTS] [HOGS]: boot the lab BOOTS times (default 30) while
# HOGS busy loops (default: one per CPU) load the machine, and count how
# each boot ended: the command's status reported, killed at the timeout,
# or no status (a panic or a crash; its console log is kept by lab/run.sh
# in OUT/failed/).  A benchmark of the lab's reliability, not a test: it
# writes JSON and asserts nothing.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
boots=${1:-30} hogs=${2:-$(nproc)}
out=$TOP/build/lab-boots
mkdir -p "$out"
pids=()
for _ in $(seq "$hogs"); do
	(while :; do :; done) &
	pids+=($!)
done
trap 'kill "${pids[@]}" 2> /dev/null' EXIT
ok=0 killed=0 nostatus=0 other=0 t0=$(date +%s)
for i in $(seq "$boots"); do
	"$TOP/lab/run.sh" --quiet --timeout 300 --out "$out" -- true 2>> "$out/boots.err"
	case $? in
	0) ok=$((ok + 1)) ;;
	124) killed=$((killed + 1)) ;;
	125) nostatus=$((nostatus + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
	panics=$(grep -l "Kernel panic" "$out"/failed/*.log 2> /dev/null | wc -l)
	echo "boot $i: ok $ok, killed $killed, no status $nostatus, other $other, panics logged $panics" >&2
done
printf '{"bench":"lab-boots-under-load","boots":%d,"cpu_hogs":%d,"ok":%d,"killed":%d,' \
	"$boots" "$hogs" "$ok" "$killed"
printf '"no_status":%d,"other":%d,"kernel_panics_logged":%d,"seconds":%d}\n' \
	"$nostatus" "$other" "$(grep -l "Kernel panic" "$out"/failed/*.log 2> /dev/null | wc -l)" \
	$(($(date +%s) - t0))
