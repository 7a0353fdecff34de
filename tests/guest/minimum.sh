#!/bin/bash
# The memlock advisor against QEMU's own behaviour (make check-lab, tier
# "minimum"): for each VM shape, vfiopin advise's figure (needed_limit_bytes)
# from one run at an ample limit, then QEMU's true minimum found by
# bisection on RLIMIT_MEMLOCK in 4 KiB steps, QEMU's own start (and
# hotplug) or its ENOMEM/EAGAIN the oracle.  Asserted: the advice is never
# unsafe (QEMU does everything at it) and never more than a margin above
# the minimum: 1 % or 1 MiB, whichever is larger.  A refused shape takes
# its advice from a run the limit refused (its start, or a hotplug), as an
# operator would after the failure: following it must work at the next
# try, within the same margin.  For the shape with a hot-plugged device,
# the advice for "one more device" taken before the plug must be safe for
# it too.  One line a shape goes to OUT/minimum.txt: advice, minimum,
# margin (KiB).  VFIOPIN_MINIMUM_SHAPES="E G" runs those shapes alone.
#
#   A  no vIOMMU, 64 MiB, one passthrough device
#   B  no vIOMMU, 160 MiB, one passthrough device
#   C  vIOMMU, 64 MiB, two passthrough devices (two containers)
#   D  vIOMMU, 48 MiB, two cold-plugged devices and a third hot-plugged
#   E  -overcommit mem-lock=on (mlockall), 96 MiB, one passthrough device
#   F  no vIOMMU, 64 MiB and a 64 MiB pc-dimm hot-added, one passthrough
#      device
#   G  vIOMMU, 72 MiB, a passthrough device and an mdev (mpin) that pins
#      1 MiB after the start (two containers, the mdev's charged apart)
#   H  a refused start: no vIOMMU, 112 MiB, one passthrough device, the
#      advice from a start at 64 MiB
#   I  a refused memory hotplug: no vIOMMU, 80 MiB and a 64 MiB pc-dimm,
#      the advice from a run whose limit the DIMM exceeded (QEMU aborts)
#   J  a refused device hotplug: vIOMMU, 56 MiB, two cold-plugged devices
#      and a third hot-plugged, the advice from a run whose limit refused
#      the third (device_add fails, QEMU goes on)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/qemu-lib.sh"
vpq_start
read -r E1 E2 E3 _ <<< "$(bind_edu)"
[ -n "${E3:-}" ] || die "the minimum tier needs three edu devices (lab/run.sh --edu 3)"
load_mpin
M1=$(create_mdev 1)
vfiopin_attach minimum
STEP=4096
AMPLE=$((4 << 30))
: > "$OUT/minimum.txt"

# shape NAME: RAM (MiB), ARGS (QEMU's), PLUG (what follows the start:
# "pt HOST ID BUS" a device hot-plugged, "dimm MiB" a pc-dimm hot-added,
# "pin MDEV IOVA PAGES" the mdev pinning guest pages), ADV (the limit of the
# advice's run in bytes: ample, or one the limit refuses)
shape() {
	local pt=(-device vfio-pci,host="$E1",id=pt1,bus=rp1)
	local viommu=(-machine q35,kernel-irqchip=split -device intel-iommu,caching-mode=on,intremap=on)
	PLUG=() ADV=$AMPLE
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
	E) RAM=96 ARGS=(-overcommit mem-lock=on "${pt[@]}") ;;
	G)
		RAM=72 ARGS=("${viommu[@]}" "${pt[@]}"
			-device vfio-pci,sysfsdev="/sys/bus/mdev/devices/$M1",id=md1,bus=rp2)
		PLUG=("pin $M1 0x100000 256")
		;;
	H) RAM=112 ARGS=("${pt[@]}") ADV=$((64 << 20)) ;;
	# the start needs about its RAM; the DIMM is refused a MiB above it
	I)
		RAM=80,slots=2,maxmem=208 ARGS=("${pt[@]}") ADV=$((81 << 20))
		PLUG=("dimm 64")
		;;
	# two cold-plugged devices need about twice the RAM; the third is
	# refused half a RAM above that
	J)
		RAM=56 ARGS=("${viommu[@]}" "${pt[@]}" -device vfio-pci,host="$E2",id=pt2,bus=rp2
			-device pcie-root-port,id=rp3,chassis=3,slot=3)
		PLUG=("pt $E3 pt3 rp3") ADV=$((140 << 20))
		;;
	esac
}

# refused TAG: whether QEMU's stderr says the limit refused it (ENOMEM from
# VFIO, EAGAIN from mlock: a RAM block, or any allocation of an mlocked
# QEMU, which GLib's allocator aborts on), not something else
refused() { grep -qE 'Cannot allocate memory|-12|Resource temporarily unavailable|DMA mapping failed|GLib: .*failed to allocate' "$OUT/qemu-$1.err"; }

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
		# mpin pins through the mdev QEMU holds open; refused: ENOMEM
		pin) echo "$b $c" > "/sys/bus/mdev/devices/$a/mpin/pin" ;;
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

for S in ${VFIOPIN_MINIMUM_SHAPES:-A B C D E F G H I J}; do
	shape $S
	next= refused_vm=
	if [ "$ADV" != $AMPLE ]; then
		# the advice after a refusal: the start, or a hotplug, refused on
		# the limit, and QEMU's own words for it
		if start_qemu "adv$S" $ADV $RAM "${ARGS[@]}"; then
			plug "adv$S" && die "$S: nothing was refused at $((ADV / 1024)) KiB"
		fi
		refused "adv$S" || grep -qE 'Cannot allocate memory|-12' "$OUT/qemu-adv$S.plug" 2> /dev/null ||
			die "$S: QEMU failed at $((ADV / 1024)) KiB for another reason: $(head -c 300 "$OUT/qemu-adv$S.err")"
		pid=${QPID[adv$S]}
		refused_vm=1
		echo "=== $S: refused at $((ADV / 1024)) KiB: $(grep -hE -m1 'Cannot allocate|-12|DMA mapping|unavailable' "$OUT/qemu-adv$S.err" "$OUT/qemu-adv$S.plug" 2> /dev/null | head -c 200)"
	else
		# the advice, from one run at an ample limit
		start_qemu "adv$S" $AMPLE $RAM "${ARGS[@]}" || die "$S: QEMU did not start: $(head -c 300 "$OUT/qemu-adv$S.err")"
		pid=${QPID[adv$S]}
		if [[ ${PLUG[0]:-} == pt* ]]; then
			snap
			next=$(($(vp "vm=$pid" needed_limit_bytes) + $(vp "vm=$pid" next_passthrough_bytes)))
			before=$(vmlck_kb "$pid")
		fi
		plug "adv$S" || die "$S: the hotplug failed at an ample limit: $(cat "$OUT/qemu-adv$S.plug")"
	fi
	snap
	# a VM the limit ended, after a start of a second or less: its -name
	[ -n "$refused_vm" ] && check_eq "$S: the refused VM is named by its -name" "$(vp "vm=$pid" name)" "adv$S"
	if [ -n "$next" ]; then
		# the next device is advised what the hot-plugged one charged:
		# VmLck's rise at its plug
		check_eq "$S: after the plug, next passthrough = the hot-plugged container's charge (VmLck's rise, kB)" \
			"$(kib "vm=$pid" next_passthrough_bytes)" $(($(vmlck_kb "$pid") - before))
		check_eq "$S: after the plug, next passthrough from" "$(vp "vm=$pid" next_passthrough_from)" \
			"what a container hot-plugged into this VM charged"
	fi
	if [[ ${PLUG[0]:-} == pin* ]]; then
		# the next mdev: what this one pins, as mpin counts the pages it holds
		check_eq "$S: next mdev = the pages mpin holds for it (KiB)" "$(kib "vm=$pid" next_mdev_bytes)" \
			$(($(mdev_counter "$M1" pages) * 4))
	fi
	adv=$(vp "vm=$pid" needed_limit_bytes)
	from=$(vp "vm=$pid" needed_from)
	vmlck=$(vmlck_kb "$pid" 2> /dev/null)
	end_qemu "adv$S"
	[[ $adv =~ ^[0-9]+$ ]] || { fail "$S: no advice ($adv)"; continue; }
	margin=$((adv / 100 > 1 << 20 ? adv / 100 : 1 << 20))
	margin=$((margin / STEP * STEP))
	echo "=== $S: advised $((adv / 1024)) KiB ($from), VmLck at the end ${vmlck:-(gone)} kB"
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
	pass "$S: QEMU does everything at the advised $((adv / 1024)) KiB$([ "$ADV" != $AMPLE ] && echo ", the next try after the refusal")"
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
