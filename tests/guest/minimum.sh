#!/bin/bash
# The memlock advisor against QEMU's own behaviour (make check-lab, tier
# "minimum"): for each VM shape, vfiopin advise's figure (needed_limit_bytes)
# from one run at an ample limit, then QEMU's true minimum found by
# bisection on RLIMIT_MEMLOCK in 4 KiB steps, QEMU's own start (and
# hotplug) or its ENOMEM/EAGAIN the oracle.  Asserted: the advice is never
# unsafe (QEMU does everything at it) and never more than a margin above
# the minimum: 1 % or 1 MiB, whichever is larger, and 8 % for a VM that
# mlocks all its memory (the README says why).
# For the shape with a hot-plugged device, the advice for "one more
# device" taken before the plug must be safe for it too.  One line a shape
# goes to OUT/minimum.txt: advice, minimum, margin (KiB).
#
#   A  no vIOMMU, 64 MiB, one passthrough device
#   B  no vIOMMU, 160 MiB, one passthrough device
#   C  vIOMMU, 64 MiB, two passthrough devices (two containers)
#   D  vIOMMU, 48 MiB, two cold-plugged devices and a third hot-plugged
#   E  -overcommit mem-lock=on (mlockall), 96 MiB, one passthrough device
#   F  no vIOMMU, 64 MiB and a 64 MiB pc-dimm hot-added, one passthrough
#      device
set -uo pipefail
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/qemu-lib.sh"
vpq_start
read -r E1 E2 E3 _ <<< "$(bind_edu)"
[ -n "${E3:-}" ] || die "the minimum tier needs three edu devices (lab/run.sh --edu 3)"
vfiopin_attach minimum
STEP=4096
AMPLE=$((4 << 30))
: > "$OUT/minimum.txt"

# shape NAME: RAM (MiB), ARGS (QEMU's), PLUG (devices hot-plugged after the
# start: "HOST ID BUS" each)
shape() {
	local pt=(-device vfio-pci,host="$E1",id=pt1,bus=rp1)
	local viommu=(-machine q35,kernel-irqchip=split -device intel-iommu,caching-mode=on,intremap=on)
	PLUG=() PCT=1
	case $1 in
	A) RAM=64 ARGS=("${pt[@]}") ;;
	B) RAM=160 ARGS=("${pt[@]}") ;;
	C) RAM=64 ARGS=("${viommu[@]}" "${pt[@]}" -device vfio-pci,host="$E2",id=pt2,bus=rp2) ;;
	D)
		RAM=48 ARGS=("${viommu[@]}" "${pt[@]}" -device vfio-pci,host="$E2",id=pt2,bus=rp2
			-device pcie-root-port,id=rp3,chassis=3,slot=3)
		PLUG=("pt $E3 pt3 rp3")
		;;
	F)
		RAM=64,slots=2,maxmem=192 ARGS=("${pt[@]}")
		PLUG=("dimm 64")
		;;
	# what an mlocked VM locks in passing is unseen: its advice is a bound
	# from its address space's peak, allowed 8 %
	E) RAM=96 ARGS=(-overcommit mem-lock=on "${pt[@]}") PCT=8 ;;
	esac
}

# refused TAG: whether QEMU's stderr says the limit refused it (ENOMEM from
# VFIO, EAGAIN from mlock), not something else
refused() { grep -qE 'Cannot allocate memory|-12|Resource temporarily unavailable|DMA mapping failed' "$OUT/qemu-$1.err"; }

# plug TAG: the shape's hotplugs; 1 when one is refused or QEMU dies
plug() {
	local p kind a b c
	for p in "${PLUG[@]}"; do
		read -r kind a b c <<< "$p"
		case $kind in
		pt) add_pt "$1" "$a" "$b" "$c" ;;
		# a pc-dimm of A MiB: type1 maps it at once, or QEMU cannot go on
		dimm) qmp "$1" object-add "{\"qom-type\":\"memory-backend-ram\",\"id\":\"m1\",\"size\":$((a << 20))}" &&
			qmp "$1" device_add '{"driver":"pc-dimm","id":"dimm1","memdev":"m1"}' ;;
		esac > "$OUT/qemu-$1.plug" 2>&1 || return 1
	done
	# a refused DIMM ends QEMU a moment after device_add returns
	qmp "$1" query-status --timeout 5 > /dev/null 2>&1 &&
	kill -0 "${QPID[$1]}" 2> /dev/null
}

# end_qemu TAG: one still running is asked to quit; one refused has exited
# (QMP would wait for its socket in vain)
end_qemu() {
	if kill -0 "${QPID[$1]}" 2> /dev/null; then
		stop_qemu "$1"
	else
		wait "${QPID[$1]}" 2> /dev/null
	fi
}

# try LIMIT: 0 when QEMU of the shape starts and does its hotplugs at
# LIMIT bytes, 1 when the limit refuses it; dies on any other failure
N=0
try() {
	local tag=try$((++N)) ok=1
	if start_qemu $tag "$1" $RAM "${ARGS[@]}"; then
		plug $tag && ok=0
	fi
	if [ $ok = 1 ] && ! refused $tag && ! grep -qE 'Cannot allocate memory|-12' "$OUT/qemu-$tag.plug" 2> /dev/null; then
		die "QEMU failed at $1 for another reason: $(head -c 300 "$OUT/qemu-$tag.err")"
	fi
	end_qemu $tag
	rm -f "$OUT/qemu-$tag".*
	echo "=== try $((${1} / 1024)) KiB: $([ $ok = 0 ] && echo starts || echo refused)" >&2
	return $ok
}

for S in ${MINIMUM_SHAPES:-A B C D E F}; do
	shape $S
	# the advice, from one run at an ample limit
	start_qemu "adv$S" $AMPLE $RAM "${ARGS[@]}" || die "$S: QEMU did not start: $(head -c 300 "$OUT/qemu-adv$S.err")"
	pid=${QPID[adv$S]}
	next=
	if [[ ${PLUG[0]:-} == pt* ]]; then
		snap
		next=$(($(vp "vm=$pid" needed_limit_bytes) + $(vp "vm=$pid" next_passthrough_bytes)))
	fi
	plug "adv$S" || die "$S: the hotplug failed at an ample limit: $(cat "$OUT/qemu-adv$S.plug")"
	snap
	adv=$(vp "vm=$pid" needed_limit_bytes)
	from=$(vp "vm=$pid" needed_from)
	vmlck=$(vmlck_kb "$pid")
	end_qemu "adv$S"
	[[ $adv =~ ^[0-9]+$ ]] || { fail "$S: no advice ($adv)"; continue; }
	margin=$((adv * PCT / 100 > 1 << 20 ? adv * PCT / 100 : 1 << 20))
	margin=$((margin / STEP * STEP))
	echo "=== $S: advised $((adv / 1024)) KiB ($from), VmLck at the end $vmlck kB"
	if ! try "$adv"; then
		# how far short: up by doubling steps to a limit that works, then
		# bisected down to the minimum
		lo=$adv d=$margin
		until try $((adv + d)); do
			lo=$((adv + d)) d=$((d * 2))
			((d < 1 << 32)) || break
		done
		hi=$((adv + d))
		while ((hi - lo > STEP)); do
			mid=$(((lo + hi) / 2 / STEP * STEP))
			if try "$mid"; then hi=$mid; else lo=$mid; fi
		done
		fail "$S: unsafe: QEMU is refused at the advised $((adv / 1024)) KiB; its minimum is $((hi / 1024)) KiB"
		printf '%s %d %d %d unsafe\n' "$S" $((adv / 1024)) $((hi / 1024)) $((margin / 1024)) >> "$OUT/minimum.txt"
		continue
	fi
	pass "$S: QEMU does everything at the advised $((adv / 1024)) KiB"
	lo=$((adv - margin - STEP))
	if try "$lo"; then
		fail "$S: the advice is more than its margin ($((margin / 1024)) KiB) above the minimum: QEMU starts at $((lo / 1024)) KiB"
		continue
	fi
	hi=$adv
	while ((hi - lo > STEP)); do
		mid=$(((lo + hi) / 2 / STEP * STEP))
		if try "$mid"; then hi=$mid; else lo=$mid; fi
	done
	pass "$S: the true minimum is $((hi / 1024)) KiB ($((lo / 1024)) is refused): the advice is $(((adv - hi) / 1024)) KiB above it, within $((margin / 1024))"
	if [ -n "$next" ]; then
		[ "$next" -ge "$hi" ] && pass "$S: before the plug, needed + next passthrough ($((next / 1024)) KiB) covers it" ||
			fail "$S: before the plug, needed + next passthrough ($((next / 1024)) KiB) is below the minimum $((hi / 1024))"
	fi
	printf '%s %d %d %d %s\n' "$S" $((adv / 1024)) $((hi / 1024)) $((margin / 1024)) "${next:+next=$((next / 1024))}" >> "$OUT/minimum.txt"
done
cat "$OUT/minimum.txt"
vfiopin_detach
summary
