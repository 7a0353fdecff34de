#!/bin/bash
# Host tier: tests that need no lab guest.  Prints "N passed, N failed".
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
. tests/lib/check.sh

# expect_fail WHAT PATTERN COMMAND...: COMMAND exits non-zero and its stderr
# matches PATTERN.
expect_fail() {
	local what=$1 pat=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -ne 0 ] && grep -qE "$pat" <<< "$err"; then
		pass "$what (exit $rc)"
	else
		fail "$what: exit $rc, stderr: $err"
	fi
}

# expect_exit WHAT STATUS PATTERN COMMAND...: COMMAND exits with exactly
# STATUS and its stderr matches PATTERN.
expect_exit() {
	local what=$1 want=$2 pat=$3 err rc
	shift 3
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq "$want" ] && grep -qE -- "$pat" <<< "$err"; then
		pass "$what (exit $rc)"
	else
		fail "$what: exit $rc (wanted $want), stderr: $err"
	fi
}

VMM=build/vfiopin-vmm
expect_fail "vmm: zero map size" "size must not be zero" $VMM map 0 0
expect_fail "vmm: unaligned IOVA" "page aligned" $VMM map 0x1001 4K
expect_fail "vmm: range outside guest RAM" "outside guest RAM" $VMM --mem 1M map 0 2M
expect_fail "vmm: zero guest RAM" "non-zero multiple" $VMM --mem 0 status
expect_fail "vmm: unknown step" "unknown step" $VMM frob
expect_fail "vmm: missing step argument" "needs 1 argument" $VMM attach
expect_fail "vmm: an unknown backing" "takes 4k, thp or hugetlb" $VMM --backing 1g status
expect_fail "vmm: thp backing of a size not in 2 MiB" "whole 2 MiB" $VMM --mem 3M --backing thp status
expect_fail "vmm: hugetlb backing without hugetlbfs" "goes with --hugetlb" $VMM --backing hugetlb status
# what backs the guest RAM, from this kernel's own smaps (the client's only
# report before it needs VFIO)
b4k=$($VMM --mem 4M --backing 4k status 2> /dev/null | head -1)
[[ $b4k == '{"event":"backing","kind":"4k","bytes":4194304,"huge_bytes":0,"kernel_page_kb":4}' ]] &&
	pass "vmm: 4k backing: written, none of it huge (smaps)" || fail "vmm: 4k backing: $b4k"
if grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2> /dev/null; then
	bthp=$($VMM --mem 8M --backing thp status 2> /dev/null | head -1)
	huge=$(sed -nE 's/.*"huge_bytes":([0-9]+).*/\1/p' <<< "$bthp")
	[ -n "$huge" ] && [ "$huge" -gt 0 ] && [ "$((huge % 2097152))" = 0 ] &&
		pass "vmm: thp backing: $huge of 8388608 bytes on huge pages (smaps)" || fail "vmm: thp backing: $bthp"
fi
expect_fail "vmm: pin count out of range" "NPAGES must be 1..512" $VMM pin x 0 513
expect_fail "vmm: unknown errno name" "unknown errno name" $VMM map=EWHAT 0 4K
expect_fail "vmm: bad number" "is not a number" $VMM sleep soon
if [ ! -e /dev/vfio/vfio ]; then
	expect_fail "vmm: no VFIO on this kernel" "/dev/vfio/vfio" $VMM map 0 4K
fi

expect_fail "lab runner: no command" "no command given" lab/run.sh
expect_fail "lab runner: bad option value" "take numbers" lab/run.sh --cpus two -- true
expect_fail "lab runner: unknown option" "unknown option" lab/run.sh --frob -- true
expect_fail "kernel.sh: unknown flavour" "unknown flavour" lab/kernel.sh build tiny

expect_fail "kernel.sh: a line without a series" "no patch series for kernel '5\.4'.*6\.1 6\.12" \
	env VFIOPIN_BASE=5.4 lab/kernel.sh series
expect_fail "stock.sh: not a kernel line" "a kernel line is MAJOR.MINOR" lab/stock/stock.sh abi 6.x

# py_checks SCRIPT: a Python check's "ok:"/"FAIL:" lines as this tier's;
# any other line, or a non-zero exit, is a failure
py_checks() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok: "*) pass "${line#ok: }" ;;
		*) fail "${line#FAIL: }" ;;
		esac
	done < <(python3 "$1" . 2>&1 || echo "FAIL: $1 exited $?")
}
# the tracepoint contract (VP_EVENTS) against both kernel series and the
# raw_tp programs, and the two series alike
py_checks tests/host/contract.py
# the lab tiers' queries and reports on inputs with known answers
py_checks tests/host/guestpy.py

# run-tiers.sh: every tier runs to its end, and a failing one fails the run.
# Each tier's time and ok/FAIL counts go to the times file (its own here,
# not make check's).
times=$(mktemp)
out=$(VFIOPIN_CHECK_TIMES=$times VFIOPIN_TIER=t tests/run-tiers.sh "a=echo ok: one; echo FAIL: two; false" \
	"b=echo two" 2>&1); rc=$?
if [ $rc = 1 ] && grep -qE '^a +FAILED' <<< "$out" && grep -qE '^b +passed' <<< "$out"; then
	pass "run-tiers: a failing tier fails the run, the next one still runs"
else
	fail "run-tiers: $rc: $out"
fi
if python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert [(x["tier"], x["parent"], x["result"], x["ok"], x["fail"]) for x in r] == \
    [("a", "t", "FAILED", 1, 1), ("b", "t", "passed", 0, 0)], r
assert all(isinstance(x["seconds"], int) and x["seconds"] >= 0 for x in r), r
' "$times"; then
	pass "run-tiers: each tier's time, result and ok/FAIL counts recorded"
else
	fail "run-tiers: times file: $(cat "$times")"
fi
# a tier beside the others: it runs while they do (it waits for a file the
# next tier writes), its output comes after theirs, its failure counts,
# and its time is its own (the next tier goes on 2 s after it ended)
flag=$(mktemp -u) done=$(mktemp -u)
: > "$times"
out=$(VFIOPIN_CHECK_TIMES=$times VFIOPIN_TIER=t tests/run-tiers.sh \
	"w&=for i in \$(seq 600); do [ -e $flag ] && break; sleep 0.1; done; [ -e $flag ] && echo ok: saw it; touch $done; false" \
	"f=touch $flag; for i in \$(seq 600); do [ -e $done ] && break; sleep 0.1; done; sleep 2; echo ok: wrote it" 2>&1); rc=$?
if [ $rc = 1 ] && grep -qE '^w +FAILED' <<< "$out" && grep -qE '^f +passed' <<< "$out" &&
	[ "$(grep -nE '^ok: (wrote|saw) it' <<< "$out" | cut -d: -f3 | tr '\n' ,)" = " wrote it, saw it," ] &&
	python3 -c 'import json, sys; r = [json.loads(l) for l in open(sys.argv[1])]
assert [(x["tier"], x["result"], x["ok"]) for x in r] == [("f", "passed", 1), ("w", "FAILED", 1)], r
assert r[1]["seconds"] < r[0]["seconds"], r' "$times"; then
	pass "run-tiers: a tier beside the next runs while it does, reported after it with its own time, its failure fails the run"
else
	fail "run-tiers: a tier beside the others: $rc: $out; $(cat "$times")"
fi
rm -f "$times" "$flag" "$done"

# The lab tests' snapshot queries (tests/guest/lib.sh, vpq): the one query
# process answers as one process per query does, errors included, and one
# that has died gives an error, not a hang.
vpq_out=$(
	export VFIOPIN_TOP=$TOP VFIOPIN_KERNEL=/nonexistent
	. tests/guest/lib.sh
	d=$(mktemp -d)
	printf '%s\n' '{"old":1}' '{"mode":"kprobe","drops":{"b":1,"a":0},"vms":[{"tgid":7,"containers":2}],"containers":[{"cid":1,"tgid":7,"locked_bytes":8192,"mdev":{"pin_refs":3}},{"cid":2,"tgid":7,"locked_bytes":4096.0,"mdev":{"pin_refs":null}}]}' > "$d/s.json"
	qs=("s.json top mode" "s.json top drops" "s.json owner=7 locked_bytes" "s.json all mdev.pin_refs"
		"s.json vm=7 containers" "s.json cid=2 locked_bytes" "s.json cid=9 cid" "s.json tgid=7 cid"
		"s.json cid=1 nope" "none.json top mode" "s.json top old")
	cd "$d" || exit 1
	for q in "${qs[@]}"; do vpq $q; echo " $?"; done > one
	vpq_start
	for q in "${qs[@]}"; do vpq $q; echo " $?"; done > served
	cmp -s one served && echo same || echo differ
	tr -d '\n' < served; echo
	kill "$VPQ_PID"
	wait "$VPQ_PID"
	vpq s.json top mode; echo " $?"
	cd / && rm -r "$d"
)
want="same
kprobe 0{\"a\":0,\"b\":1} 012288 0null 02 04096 0none 0vpq: 2 containers match tgid=7 1vpq: no field 'nope' 1vpq: none.json: No such file or directory 1vpq: no field 'old' 1
vpq: the query process has gone
 1"
if [ "$vpq_out" = "$want" ]; then
	pass "lab snapshot queries: one query process answers as one process a query does; its death is an error"
else
	fail "lab snapshot queries: $vpq_out"
fi

# mpin is one source: every series adds the same samples/vfio-mdev/mpin.c.
sums=$(for b in $(lab/kernel.sh bases); do
	d=$(mktemp -d)
	lab/stock/stock.sh mpin-src "$b" "$d" && sha256sum < "$d/mpin.c"
	rm -rf "$d"
done | sort -u)
if [ "$(lab/kernel.sh bases | wc -l)" -ge 2 ] && [ "$(wc -l <<< "$sums")" = 1 ] && [ -n "$sums" ]; then
	pass "mpin.c is the same in the series of every kernel line ($(lab/kernel.sh bases | tr '\n' ' '))"
else
	fail "mpin.c differs between the series: $sums"
fi

# A series that does not apply names the patch, the hunk and the versions.
if [ -r /usr/src/linux-source-6.1.tar.xz ]; then
	tmp=$(mktemp -d)
	cp -r kernel-patch/6.1/. "$tmp/"
	first=$(grep -v '^#' "$tmp/series" | head -1)
	# make the first hunk's context wrong
	sed -i '0,/^ 	bool			container_open;/s//  	bool			container_closed;/' "$tmp/$first"
	# one run (it extracts the tree) for the two things its message says
	err=$(VFIOPIN_PATCHDIR="$tmp" lab/kernel.sh srcdir 2>&1 >/dev/null); rc=$?
	if [ $rc -ne 0 ] && grep -qE "$first does not apply to linux-source 6\.1\.[0-9]+ \(the series is for 6\.1\.192\)" <<< "$err"; then
		pass "kernel.sh: a patch that does not apply (exit $rc)"
	else
		fail "kernel.sh: a patch that does not apply: exit $rc, stderr: $err"
	fi
	if grep -qE 'Hunk #[0-9]+ FAILED' <<< "$err"; then pass "kernel.sh: names the failing hunk"; else fail "kernel.sh: no hunk in: $err"; fi
	rm -rf "$tmp"
	# and the real series applies
	if lab/kernel.sh srcdir > /dev/null 2>&1; then pass "kernel.sh: the series applies"; else fail "kernel.sh: the series does not apply"; fi
fi

# --- vfiopin: unit tests (plain, then ASan + UBSan) and the BPF logic under
# BPF_PROG_TEST_RUN in this machine's kernel.
for t in build/test_unit build/test_unit-san build/test_bpf; do
	if out=$("$t" 2>&1); then
		pass "$t: $(grep -E 'PASSED' <<< "$out" | tail -1 | sed 's/^\[ *PASSED *\] *//')"
	else
		fail "$t"; echo "$out"
	fi
done
# bpf/mlock.bpf.c needs a kernel that attaches it (the lab's run it for real)
out=$(build/test_mlock 2>&1)
case $? in
0) pass "build/test_mlock: $(grep -E 'PASSED' <<< "$out" | tail -1 | sed 's/^\[ *PASSED *\] *//')" ;;
77) skip "build/test_mlock: $out" ;;
*) fail "build/test_mlock"; echo "$out" ;;
esac

# --- the docs' table of figures is the field table's
if out=$(tools/doc/update-readme.sh --check 2>&1); then
	pass "tools/README.md's table of figures matches tools/core/fields.h"
else
	fail "$out"
fi

# --- vfiopin: bad input gets a message and a non-zero exit
V=build/vfiopin
expect_fail "vfiopin: no command" "Usage: vfiopin COMMAND" $V
expect_fail "vfiopin: unknown command" "unknown command 'frob'" $V frob
expect_fail "vfiopin stat: zero duration" "positive number of seconds" $V stat -d 0
expect_fail "vfiopin stat: unknown sort key" "unknown sort key 'size'" $V stat -s size
expect_fail "vfiopin stat: bad container id" "container id" $V stat -c abc
expect_exit "vfiopin stat: a container id after white space" 2 "container id \(1 or more\), not ' 5'" $V stat -c ' 5'
expect_exit "vfiopin stat: a duration after white space" 2 "positive number of seconds, not ' 1'" $V stat -d ' 1'
expect_fail "vfiopin stat: an output file it cannot write" "cannot write /nonexistent/out.json" \
	$V stat -o /nonexistent/out.json -d 1
expect_fail "vfiopin hist: --total with --cid" "exclude each other" $V hist --total -c 3
expect_fail "vfiopin top: zero iterations" "count of 1 or more" $V top -b -n 0
expect_exit "vfiopin top: bad interval" 2 "--interval takes seconds \(0.05 or more\)" $V top -b -i 0.001
expect_exit "vfiopin-top: the common options, --mode among them" 2 "--mode takes auto, tracepoint, fentry or kprobe" build/vfiopin-top --mode frob
expect_fail "vfiopin-top: unknown option" "unrecognized option" build/vfiopin-top --frob
expect_fail "vfiopin trace: ring buffer not a power of two" "power of two" $V trace --ringbuf-kb 3000
if [ ! -d /sys/kernel/tracing/events/vfio_type1 ]; then
	expect_fail "vfiopin: a kernel without VFIO type1" \
		"type1 driver is not loaded yet .*--wait-modules" $V stat -d 1
fi
expect_exit "vfiopin --version with an argument" 2 "^vfiopin: --version takes no arguments, not 'junk'$" $V --version junk
expect_exit "vfiopin help with an unknown command" 2 "unknown command 'junk'" $V help junk
if $V help stat | grep -q '^Usage: vfiopin stat'; then pass "vfiopin help stat is stat's --help"; else fail "vfiopin help stat"; fi
if [ ! -d /sys/module/vfio_iommu_type1 ]; then
	# a run that fails its checks leaves -o FILE as it was, and makes none
	keep=$(mktemp -d)
	for sub in stat hist trace; do
		echo "earlier results" > "$keep/$sub.out"
		expect_exit "vfiopin $sub: a failed start" 1 "type1 driver is not loaded" $V $sub -d 1 -o "$keep/$sub.out"
		[ "$(cat "$keep/$sub.out")" = "earlier results" ] && pass "vfiopin $sub: -o FILE untouched by a failed start" ||
			fail "vfiopin $sub: -o FILE now holds: $(cat "$keep/$sub.out")"
		$V $sub -d 1 -o "$keep/$sub.new" 2> /dev/null
		[ ! -e "$keep/$sub.new" ] && pass "vfiopin $sub: no -o FILE made by a failed start" ||
			fail "vfiopin $sub: a failed start made $keep/$sub.new"
	done
	rm -rf "$keep"
	# --duration bounds the whole run, a wait for the modules included
	expect_exit "vfiopin stat: --duration bounds --wait-modules" 1 \
		"vfio_iommu_type1 was not loaded within the 1 s of --duration" timeout 120 $V stat --wait-modules -d 1
	# a signal during the wait ends it cleanly: handled, and no -o file left
	keep=$(mktemp -d)
	for sig in INT TERM HUP; do
		# a file of its own per signal: the background job's redirection may
		# come after the first look, which must not find the last one's line
		$V stat --wait-modules -o "$keep/w.json" 2> "$keep/err.$sig" &
		pid=$!
		for _ in $(seq 300); do
			grep -q "waiting for vfio_iommu_type1" "$keep/err.$sig" 2> /dev/null && break
			sleep 0.1
		done
		kill -$sig $pid
		wait $pid
		rc=$?
		[ $rc = 1 ] && [ ! -e "$keep/w.json" ] &&
			pass "vfiopin stat --wait-modules: SIG$sig ends the wait (exit 1), no -o file left" ||
			fail "vfiopin stat --wait-modules: SIG$sig: exit $rc, -o file $([ -e "$keep/w.json" ] && echo left || echo gone)"
	done
	rm -rf "$keep"
fi
# -o never follows a symlink (a root tool in a shared directory) nor waits
# on a FIFO with no reader; the link's target stays as it was
keep=$(mktemp -d)
echo "precious" > "$keep/target"
ln -s "$keep/target" "$keep/link"
mkfifo "$keep/fifo"
for sub in stat hist trace "top -b"; do
	expect_exit "vfiopin $sub: -o a symlink refused" 1 \
		"cannot write $keep/link: it is a symbolic link" timeout 60 $V $sub -d 1 -o "$keep/link"
done
python3 tests/host/bench_cases.py write "$keep"
expect_exit "vfiopin compare: -o a symlink refused" 2 "cannot write $keep/link: it is a symbolic link" \
	$V compare -o "$keep/link" "$keep/base.json" "$keep/same.json"
[ "$(cat "$keep/target")" = precious ] && pass "vfiopin: -o through a symlink left its target alone" ||
	fail "vfiopin: a symlink's target now holds $(cat "$keep/target")"
expect_exit "vfiopin stat: -o a FIFO with no reader" 1 "cannot write $keep/fifo: a FIFO with no reader" \
	timeout 60 $V stat -d 1 -o "$keep/fifo"
rm -rf "$keep"
if command -v setpriv > /dev/null; then
	# a copy the unprivileged user can reach wherever the work tree is
	nob=$(mktemp -d)
	chmod 755 "$nob"
	cp $V "$nob/"
	expect_fail "vfiopin: missing capabilities are named" "missing capability CAP_BPF CAP_PERFMON" \
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$nob/vfiopin" stat -d 1
	rm -rf "$nob"
fi
if build/vfiopin-top --help | grep -q 'Usage: vfiopin-top'; then
	pass "vfiopin-top is the live monitor"
else
	fail "vfiopin-top --help"
fi

# --- vfiopin export over synthetic containers; compare, bench, capture
. tests/host/export.sh
. tests/host/webconfig.sh
. tests/host/offline.sh
. tests/host/qmp.sh
. tests/host/install.sh

# --- dead containers never crowd out live ones (tests/host/bench/churn_synth.c)
while read -r line; do
	case $line in
	ok:*) pass "${line#ok: }" ;;
	FAIL:*) fail "${line#FAIL: }" ;;
	*) echo "$line" ;;
	esac
done < <(build/churn_synth-san 2>&1 || echo "FAIL: churn_synth exited $?")

# --- every parser of outside input under libFuzzer (tests/fuzz/), 30 s each
while read -r line; do
	case $line in
	ok:*) pass "${line#ok: }" ;;
	FAIL:*) fail "${line#FAIL: }" ;;
	*) echo "$line" ;;
	esac
done < <(tests/fuzz/run.sh "${FUZZ_SECONDS:-30}")

summary check-host
