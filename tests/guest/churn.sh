#!/bin/bash
# Dead containers never crowd out live ones, in the lab: one long-lived VM
# holds its pins while LIFETIMES short VMs (the first argument, default
# 300; `make bench-churn` runs 5,000) come and go, WAVE (the second,
# default 15) at a time on the mpin instances, with --max-containers the
# third argument if given (check-lab: 32, ten times fewer than lifetimes); each is its own container (open, attach an mdev, map, pin 4
# pages once, unpin, exit).  `vfiopin stat` (a snapshot after every wave,
# on SIGUSR1) and `vfiopin export` (scraped after every wave) run through
# it all.  Checked against the clients'
# own results: the long-lived VM is in every snapshot and scrape with its
# figures, every short VM is reported released exactly once by each with
# its one pin call, and nothing is dropped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

N=${1:-300}
WAVE=${2:-15}
MAX=(${3:+--max-containers "$3"})
PORT=9741
D=$OUT/churn
rm -rf "$D"
mkdir -p "$D/clients" "$D/prom"
load_mpin
for i in $(seq $((WAVE + 1))); do M[i]=$(create_mdev "$i"); done

"$TOP/build/vfiopin" stat "${MAX[@]}" --json > "$D/stat.jsonl" 2> "$D/stat.err" &
stat=$!
# --keep-released 0: each short VM in exactly one scrape, so the check can count them
"$TOP/build/vfiopin" export "${MAX[@]}" --keep-released 0 --listen "127.0.0.1:$PORT" \
	2> "$D/export.err" &
exporter=$!
url=http://127.0.0.1:$PORT
for _ in $(seq 2400); do
	grep -q "attached" "$D/stat.err" && curl -sf -o /dev/null "$url/healthz" && break
	sleep 0.1
done
check_cmd "churn: stat attached" grep -q attached "$D/stat.err"
check_cmd "churn: export serving" curl -sf -o /dev/null "$url/healthz"

# the long-lived VM: 64 pages pinned on the last mdev until told to go
rm -f /tmp/churn.in
mkfifo /tmp/churn.in
L=${M[WAVE + 1]}
"$VMM" --mem 4M --memlock 4M attach "$L" map 0 4M pin "$L" 0 64 hold unpin "$L" 0 64 \
	unmap 0 4M detach "$L" < /tmp/churn.in > "$D/long.json" 2>&1 &
long=$!
exec 7> /tmp/churn.in
for _ in $(seq 2400); do grep -q holding "$D/long.json" && break; sleep 0.05; done
check_eq "churn: the long-lived VM holds its pins (VmLck kB)" "$(vmlck_kb $long)" 256

t0=$(date +%s)
started=0 wave=0
while [ $started -lt "$N" ]; do
	wave=$((wave + 1))
	for j in $(seq "$WAVE"); do
		[ $started -lt "$N" ] || break
		started=$((started + 1))
		"$VMM" --mem 4M --memlock 4M attach "${M[j]}" map 0 4M pin "${M[j]}" 0x1000 4 \
			unpin "${M[j]}" 0x1000 4 unmap 0 4M detach "${M[j]}" \
			> "$D/clients/$started.json" 2>&1 &
	done
	wait $(jobs -p | grep -vxE "$stat|$exporter|$long")
	kill -USR1 $stat
	curl -s -o "$D/prom/$wave.prom" -w '%{time_total}\n' "$url/metrics" >> "$D/scrape-times"
	# progress, for the host's watchdog (lab/run.sh --idle) and for people
	echo "churn: wave $wave, $started of $N lifetimes, $(($(date +%s) - t0)) s"
done
echo "=== churn: $N lifetimes in $wave waves, $(($(date +%s) - t0)) s"

echo go >&7
exec 7>&-
wait $long
check_eq "churn: the long-lived VM's exit status" $? 0
curl -s -o "$D/prom/$((wave + 1)).prom" "$url/metrics"
curl -s -o "$D/prom/$((wave + 2)).prom" "$url/metrics"
kill -INT $stat $exporter
wait $stat
check_eq "churn: stat exits 0" $? 0
wait $exporter
check_eq "churn: export exits 0" $? 0

# every figure against the clients' own results
out=$(python3 "$TOP/tests/guest/report.py" churn "$D" "$long" "$N" "$wave")
rc=$?
while read -r line; do
	case $line in
	ok:*) pass "${line#ok: }" ;;
	FAIL:*) fail "${line#FAIL: }" ;;
	*) echo "$line" ;;
	esac
done <<< "$out"
# 1 with a FAIL line is a failed check, said above; else it did not finish
[ $rc -eq 0 ] || grep -q "^FAIL:" <<< "$out" || fail "churn: report.py churn exited $rc"
summary
