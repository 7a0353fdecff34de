#!/bin/bash
# vfiopin starting on Debian's stock kernel (make check-stock), before and
# after VFIO's modules are loaded: type1 missing is said plainly, with
# --wait-modules it waits and then attaches with fentry; --mode tracepoint
# names what is missing; --mode kprobe attaches too; CAP_BPF and
# CAP_PERFMON alone; a type1 module without BTF.  Does not source
# lib.sh first: that loads the modules.
set -uo pipefail
TOP=${VFIOPIN_TOP:?run inside the lab (lab/run.sh)}
KDIR=${VFIOPIN_KERNEL:?}
OUT=${VFIOPIN_OUT:-/tmp/out}
V=$TOP/build/vfiopin
. "$TOP/tests/lib/check.sh"

[ -d "$KDIR/root/lib/modules/$(uname -r)" ] || { echo "stock-start: not the stock kernel"; exit 1; }
[ ! -e /sys/module/vfio_iommu_type1 ] && pass "type1 is not loaded at boot" || fail "type1 already loaded"

err=$("$V" stat -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "type1 driver is not loaded yet.*--wait-modules" <<< "$err" &&
	pass "no type1: said plainly, with --wait-modules offered (exit 1)" || fail "no type1: exit $rc: $err"

# wait_line FILE TEXT: until FILE has TEXT (a generous bound: a busy host
# under TCG is slow, and no fixed sleep decides an outcome)
wait_line() {
	for _ in $(seq 1200); do grep -q "$2" "$1" && return 0; sleep 0.1; done
	return 1
}
# --duration bounds the whole run, the wait included: give it room, and end
# it once it has attached
"$V" stat --json --wait-modules -d 600 > "$OUT/stock-wait.json" 2> "$OUT/stock-wait.err" &
vp=$!
wait_line "$OUT/stock-wait.err" "waiting for vfio_iommu_type1" && pass "--wait-modules waits" ||
	fail "--wait-modules: $(cat "$OUT/stock-wait.err")"
/sbin/modprobe -d "$KDIR/root" vfio_iommu_type1 || fail "modprobe vfio_iommu_type1"
wait_line "$OUT/stock-wait.err" "attached to" || fail "--wait-modules: never attached: $(cat "$OUT/stock-wait.err")"
kill -INT $vp
wait $vp; rc=$?
[ $rc = 0 ] && grep -q "attached to 21 type1 functions with fentry" "$OUT/stock-wait.err" &&
	pass "then attaches with fentry (auto), exit 0" || fail "after the wait: exit $rc: $(cat "$OUT/stock-wait.err")"
[ "$(python3 "$TOP/tests/guest/vpq.py" stat "$OUT/stock-wait.json" top mode)" = fentry ] &&
	pass "its snapshot says mode fentry" || fail "snapshot mode: $(tail -c 300 "$OUT/stock-wait.json")"

err=$("$V" stat --mode tracepoint -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "no vfio_type1 tracepoints" <<< "$err" &&
	pass "--mode tracepoint on the stock kernel: names the missing tracepoints" || fail "tracepoint mode: $rc: $err"
err=$("$V" stat --mode kprobe -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && grep -q "attached to 21 type1 functions with kprobe" <<< "$err" &&
	pass "--mode kprobe attaches" || fail "kprobe mode: $rc: $err"
# least privilege, as the exporter's unit has it: CAP_BPF and CAP_PERFMON
# alone, another user.  fentry cannot (a module's BTF needs CAP_SYS_ADMIN),
# nor kprobes while perf_event_paranoid is Debian's 3; at 2 they attach.
nob=/tmp/nobody-bin
mkdir -p "$nob" && cp "$V" "$nob/" && chmod 755 "$nob" "$nob/vfiopin"
least() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+bpf,+perfmon \
		--ambient-caps=-all,+bpf,+perfmon --bounding-set=-all,+bpf,+perfmon "$nob/vfiopin" "$@"
}
err=$(least stat --mode fentry -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "fentry on the vfio_iommu_type1 module's functions needs CAP_SYS_ADMIN" <<< "$err" &&
	pass "CAP_BPF + CAP_PERFMON only: fentry says it needs CAP_SYS_ADMIN" || fail "least fentry: $rc: $err"
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
echo 3 > /proc/sys/kernel/perf_event_paranoid
err=$(least stat --mode kprobe -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "perf_event_paranoid is 3, and above 2 attaching a kprobe needs CAP_SYS_ADMIN" <<< "$err" &&
	pass "CAP_BPF + CAP_PERFMON only, perf_event_paranoid 3: kprobe names the sysctl and CAP_SYS_ADMIN" ||
	fail "least kprobe at paranoid 3: $rc: $err"
echo 2 > /proc/sys/kernel/perf_event_paranoid
err=$(least stat -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && grep -q "attached to 21 type1 functions with kprobe" <<< "$err" &&
	pass "CAP_BPF + CAP_PERFMON only, perf_event_paranoid 2: auto attaches with kprobe" ||
	fail "least auto at paranoid 2: $rc: $err"
echo "$paranoid" > /proc/sys/kernel/perf_event_paranoid

# type1 without BTF of its own, as a kernel built without
# CONFIG_DEBUG_INFO_BTF_MODULES (or a module built apart from its kernel)
# has it: Debian's module with its .BTF section removed
ko=$(find "$KDIR/root/lib/modules/$(uname -r)" -name 'vfio_iommu_type1.ko*' | head -n 1)
case $ko in
*.xz) xz -dc "$ko" > /tmp/type1.ko ;;
*) cp "$ko" /tmp/type1.ko ;;
esac
objcopy --remove-section=.BTF /tmp/type1.ko /tmp/type1-nobtf.ko &&
	rmmod vfio_iommu_type1 && insmod /tmp/type1-nobtf.ko
[ -e /sys/module/vfio_iommu_type1 ] && [ ! -e /sys/kernel/btf/vfio_iommu_type1 ] &&
	pass "type1 loaded without BTF of its own" || fail "type1 without BTF: could not load it"
err=$("$V" stat --mode fentry -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "the vfio_iommu_type1 module has no BTF (/sys/kernel/btf/vfio_iommu_type1 is missing.*--mode kprobe needs no BTF" <<< "$err" &&
	pass "no module BTF: --mode fentry says the module has none, and what needs none (exit 1)" ||
	fail "no module BTF, fentry: exit $rc: $err"
err=$("$V" stat -d 1 2>&1 >/dev/null); rc=$?
[ $rc = 0 ] && grep -q "attached to 21 type1 functions with kprobe" <<< "$err" &&
	pass "no module BTF: auto attaches with kprobe" || fail "no module BTF, auto: exit $rc: $err"
summary
