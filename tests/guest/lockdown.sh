#!/bin/bash
# vfiopin on a kernel booted with lockdown=confidentiality (make
# check-stock), where BPF may not read kernel memory: it says so, and what
# to boot instead, in every mode, exit 1; never a misleading reason.
set -uo pipefail
TOP=${VFIOPIN_TOP:?run inside the lab (lab/run.sh)}
KDIR=${VFIOPIN_KERNEL:?}
V=$TOP/build/vfiopin
. "$TOP/tests/lib/check.sh"

mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
grep -q '\[confidentiality\]' /sys/kernel/security/lockdown &&
	pass "the kernel is locked down: $(cat /sys/kernel/security/lockdown)" ||
	fail "lockdown: $(cat /sys/kernel/security/lockdown 2>&1)"
/sbin/modprobe -d "$KDIR/root" vfio_iommu_type1 || fail "modprobe vfio_iommu_type1"
for m in auto fentry kprobe; do
	err=$("$V" stat --mode $m -d 1 2>&1 >/dev/null); rc=$?
	[ $rc = 1 ] && grep -q "locked down for confidentiality.*boot with lockdown=integrity" <<< "$err" &&
		pass "--mode $m under lockdown: says so and what to boot (exit 1)" || fail "--mode $m: exit $rc: $err"
done
summary
