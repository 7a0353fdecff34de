# Shared helpers for tests that run inside the lab guest (lab/run.sh).
# Source it; it sets up nothing by itself.

TOP=${VFIOPIN_TOP:?run inside the lab (lab/run.sh)}
KDIR=${VFIOPIN_KERNEL:?run inside the lab (lab/run.sh)}
OUT=${VFIOPIN_OUT:-/tmp/out}
VMM=$TOP/build/vfiopin-vmm
TRACEFS=/sys/kernel/tracing
MDEV_TYPE=/sys/class/mdev_bus/mpin/mdev_supported_types/mpin-1

. "$TOP/tests/lib/check.sh"

# Debian's kernel with its packages unpacked beside it: the stock lab
# (lab/stock/stock.sh), and the lab kernel, whose type1 module is the
# patched one (lab/kernel.sh: "patched" names the series' line).  Make its
# modules modprobe-able here (the kernel's own requests too) and its headers
# bcc's, and load VFIO; STOCK=1 tells the tests that there are no
# vfio_type1 tracepoints.
STOCK=0
[ -r "$KDIR/patched" ] || STOCK=1
if [ -d "$KDIR/root/lib/modules/$(uname -r)" ]; then
	if [ ! -x /tmp/modprobe-lab ]; then
		printf '#!/bin/sh\nexec /sbin/modprobe -d %q "$@"\n' "$KDIR/root" > /tmp/modprobe-lab
		chmod +x /tmp/modprobe-lab
		echo /tmp/modprobe-lab > /proc/sys/kernel/modprobe
	fi
	[ -d "$KDIR/headers" ] && export BCC_KERNEL_SOURCE=$KDIR/headers
	for m in vfio vfio_iommu_type1 vfio-pci mdev; do
		/tmp/modprobe-lab "$m" || echo "lab test: modprobe $m failed on $(uname -r)" >&2
	done
fi
# A check may carry a tag, @NAME before its description, for what it
# needs of the kernel under test (@tp: the vfio_type1 tracepoints, their
# trace or the figures only they give; @fb: a figure only the fallback modes
# give).  A test sets SKIP_TAGS to the tags
# its kernel cannot satisfy; those checks are not run and are counted as
# skipped.  What a check needs is declared where the check is, never
# guessed from the words of its description.
SKIP_TAGS=

# skipped TAG WHAT: true (and counted) if TAG is one of SKIP_TAGS
skipped() {
	[ -n "$1" ] && [[ " $SKIP_TAGS " == *" $1 "* ]] || return 1
	skip "$2 (needs @$1)"
}

# check_eq [@TAG] WHAT GOT EXPECTED
check_eq() {
	local tag=
	[[ $1 == @* ]] && { tag=${1#@}; shift; }
	skipped "$tag" "$1" && return 0
	if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1: got '$2', expected '$3'"; fi
}

# check_cmd [@TAG] WHAT COMMAND... : passes when the command succeeds
check_cmd() {
	local tag= what
	[[ $1 == @* ]] && { tag=${1#@}; shift; }
	what=$1; shift
	skipped "$tag" "$what" && return 0
	if "$@"; then pass "$what"; else fail "$what (command: $*)"; fi
}

die() { echo "lab test: $*" >&2; exit 1; }

# Bind every QEMU edu device (1234:11e8) to vfio-pci; print their addresses.
bind_edu() {
	local d found=()
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
			found+=("$(basename "$d")")
	done
	[ ${#found[@]} -gt 0 ] || die "no edu device (1234:11e8) in the guest: lab/run.sh --edu N"
	[ -d /sys/bus/pci/drivers/vfio-pci ] || die "vfio-pci driver missing from the lab kernel"
	echo 1234 11e8 > /sys/bus/pci/drivers/vfio-pci/new_id 2>/dev/null || true
	for d in "${found[@]}"; do
		[ -e "/sys/bus/pci/drivers/vfio-pci/$d" ] ||
			echo "$d" > /sys/bus/pci/drivers/vfio-pci/bind 2>/dev/null || true
		[ -e "/sys/bus/pci/drivers/vfio-pci/$d" ] || die "could not bind $d to vfio-pci"
		[ -e "/sys/bus/pci/devices/$d/iommu_group" ] || die "$d has no IOMMU group (is intel_iommu on?)"
	done
	echo "${found[@]}"
}

# Load the mpin sample driver from the kernel build in use.
load_mpin() {
	[ -d /sys/class/mdev_bus/mpin ] && return 0
	local ko=${MPIN_KO:-$KDIR/modules/mpin.ko}
	[ -r "$ko" ] || die "no mpin.ko at $ko"
	# mdev first where it is a module beside mpin (the 6.12 lab kernel)
	if [ -r "$(dirname "$ko")/mdev.ko" ] && [ ! -d /sys/module/mdev ]; then
		insmod "$(dirname "$ko")/mdev.ko" || die "insmod mdev.ko failed"
	fi
	insmod "$ko" || die "insmod $ko failed"
	[ -d "$MDEV_TYPE" ] || die "mpin loaded but $MDEV_TYPE is missing"
}

# create_mdev N: create an mpin instance with a UUID derived from N; print it.
create_mdev() {
	local uuid
	uuid=$(printf '%08x-0000-4000-8000-%012x' "$1" "$1")
	[ -e "/sys/bus/mdev/devices/$uuid" ] || echo "$uuid" > "$MDEV_TYPE/create" ||
		die "could not create mdev $uuid"
	echo "$uuid"
}

# bench_setup: what the bench workloads run on: mpin with mdev 1 (M1), the
# first edu device bound to vfio-pci (E1), 64 hugepages on /mnt/huge.
bench_setup() {
	load_mpin
	M1=$(create_mdev 1)
	read -r E1 _ <<< "$(bind_edu)"
	echo 64 > /proc/sys/vm/nr_hugepages
	mountpoint -q /mnt/huge || die "no hugetlbfs on /mnt/huge"
}

# hold_vm MDEV LOG: a VM (vfiopin-vmm: 16 MiB of RAM, its memlock limit
# 16 MiB) that maps its RAM, pins 256 pages of MDEV and 16 of them again
# (VmLck 1024 kB), and holds them until release_vm; its output goes to LOG.
# Sets HELD_VM (its pid); fails if it never got to hold them.
HELD_VM= HELD_FD=
hold_vm() {
	rm -f /tmp/vm.in
	mkfifo /tmp/vm.in || return 1
	"$VMM" --mem 16M --memlock 16M attach "$1" map 0 16M pin "$1" 0 256 pin "$1" 0 16 hold \
		unpin "$1" 0 16 unpin "$1" 0 256 unmap 0 16M detach "$1" < /tmp/vm.in > "$2" 2>&1 &
	HELD_VM=$!
	exec {HELD_FD}> /tmp/vm.in
	for _ in $(seq 2400); do
		grep -q holding "$2" && return 0
		kill -0 "$HELD_VM" 2> /dev/null || return 1
		sleep 0.05
	done
	return 1
}

# release_vm: the held VM unpins, unmaps and exits; its exit status
release_vm() {
	echo go >&"$HELD_FD"
	exec {HELD_FD}>&-
	wait "$HELD_VM"
}

remove_mdev() { echo 1 > "/sys/bus/mdev/devices/$1/remove"; }

mdev_counter() { cat "/sys/bus/mdev/devices/$1/mpin/$2"; }

trace_start() {
	[ "$STOCK" = 1 ] && return 0
	[ -d "$TRACEFS/events/vfio_type1" ] ||
		die "no vfio_type1 trace events: the kernel lacks the vfiopin patches"
	echo 0 > "$TRACEFS/tracing_on"
	echo 16384 > "$TRACEFS/buffer_size_kb"
	echo > "$TRACEFS/trace"
	echo 1 > "$TRACEFS/events/vfio_type1/enable"
	echo 1 > "$TRACEFS/tracing_on"
}

trace_stop() {
	[ "$STOCK" = 1 ] && { : > "$1"; return 0; }
	echo 0 > "$TRACEFS/tracing_on"
	echo 0 > "$TRACEFS/events/vfio_type1/enable"
	cat "$TRACEFS/trace" > "$1"
}

# events FILE NAME: the lines of one event, fields only ("cid=1 tgid=...").
events() { grep -E " $2: " "$1" | sed -E "s/.* $2: //"; }

# field LINE NAME: the value of NAME=... in an event line
field() { sed -nE "s/.*(^| )$2=([^ ]*).*/\2/p" <<< "$1"; }

vmlck_kb() { awk '/^VmLck:/ { print $2 }' "/proc/$1/status"; }

# vpq SNAPSHOT SELECTOR PATH: one figure of a `vfiopin stat --json`
# snapshot (tests/guest/vpq.py stat has the selectors); on a bad query, a line
# starting "vpq: " and status 1.  After vpq_start, every answer comes from
# one vpq.py process: a Python start-up in the TCG guest takes seconds, and
# the matrix asks hundreds of questions.  Without it, one process a query.
VPQ_W= VPQ_R= VPQ_PID=
vpq_start() {
	local d
	d=$(mktemp -d /tmp/vpq.XXXXXX) && mkfifo "$d/q" "$d/a" || die "vpq: cannot make its FIFOs"
	python3 -u "$TOP/tests/guest/vpq.py" serve < "$d/q" > "$d/a" &
	VPQ_PID=$!
	# the query side read-write, so that neither open waits for the other;
	# the answer side read-only, so that a server that dies gives EOF
	exec {VPQ_W}<> "$d/q" {VPQ_R}< "$d/a"
	rm -r "$d"
}
vpq() {
	local a
	[ -n "$VPQ_W" ] || { python3 "$TOP/tests/guest/vpq.py" stat "$@" 2>&1; return; }
	[ $# = 3 ] || { echo "vpq: a query is 3 arguments, not $#"; return 1; }
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >&"$VPQ_W"
	IFS= read -r a <&"$VPQ_R" || { echo "vpq: the query process has gone"; return 1; }
	printf '%s\n' "$a"
	[[ $a != "vpq: "* ]]
}
