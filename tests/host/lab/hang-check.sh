#!/bin/bash
# Host side: the lab runner judges a guest by its progress.  Three guests,
# booted at once:
#   silent  its command prints nothing: killed after --idle seconds of
#           silence, exit 124, the console log kept, and kept apart;
#   steady  its command prints now and then for longer than --idle in
#           all: it is not killed and its status is its command's;
#   chatty  its command prints forever: killed by the --timeout total.
# make check-lab runs it beside its other tiers (it mostly waits): --idle
# is 120 s so that a boot slowed down by them is never taken for a hang.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
base=$TOP/build/lab-hang
IDLE=120 TICKS=30 TICK=5 TOTAL=100

boot() { # NAME RUN.SH-OPTIONS... -- COMMAND...
	local name=$1
	shift
	mkdir -p "$base-$name"
	"$TOP/lab/run.sh" --quiet --out "$base-$name" "$@" 2> "$base-$name.err"
	echo $? > "$base-$name.rc"
}
rm -f "$base"-*.rc
boot silent --idle $IDLE -- bash -c 'echo guest-is-up; sleep 3600' &
boot steady --idle $IDLE -- bash -c "for i in \$(seq $TICKS); do echo tick \$i; sleep $TICK; done; exit 7" &
boot chatty --idle 3600 --timeout $TOTAL -- bash -c 'while :; do echo tick; sleep 1; done' &
wait

. "$TOP/tests/lib/check.sh"
rc() { cat "$base-$1.rc"; }

# silent
out=$base-silent
if [ "$(rc silent)" = 124 ]; then pass "silent guest killed, exit 124"; else fail "silent guest: exit $(rc silent)"; fi
# (Whether the guest got as far as its command depends on the machine's
# load; the log must be kept either way.)
if [ -f "$out/console.log" ] &&
	grep -q "printed nothing for ${IDLE}s (--idle; hung?); console log: $out/console.log" "$out.err"; then
	pass "silent guest: console log kept and the silence reported ($(grep -c guest-is-up "$out/console.log") 'guest-is-up' lines in it)"
else
	fail "silent guest: console log or message missing: $(cat "$out.err")"
fi
kept=$(sed -n 's/.*console log is kept as //p' "$out.err")
if [ -n "$kept" ] && cmp -s "$kept" "$out/console.log"; then
	pass "silent guest: the failed boot's log kept apart ($kept)"
else
	fail "silent guest: the failed boot's log not kept apart: $(cat "$out.err")"
fi

# steady: ran TICKS * TICK seconds, more than IDLE, and ended on its own
out=$base-steady
ticks=$(tr -d '\r' < "$out/console.log" | grep -c '^tick [0-9]*$')
if [ "$(rc steady)" = 7 ] && [ "$ticks" = $TICKS ]; then
	pass "steady guest outlived --idle $IDLE by printing: its command's status 7, $ticks ticks, longest silence $(cat "$out/longest-silence-seconds") s"
else
	fail "steady guest: exit $(rc steady) (want 7), $ticks ticks (want $TICKS): $(cat "$out.err")"
fi

# chatty
out=$base-chatty
if [ "$(rc chatty)" = 124 ] && grep -q "killed after ${TOTAL}s in total (--timeout)" "$out.err"; then
	pass "chatty guest killed by the total, exit 124 ($(tr -d '\r' < "$out/console.log" | grep -c '^tick$') ticks)"
else
	fail "chatty guest: exit $(rc chatty) (want 124): $(cat "$out.err")"
fi
summary hang-check
