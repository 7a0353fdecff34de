#!/bin/bash
# PID 1 of the lab guest: mount what the host's userspace needs on top of the
# read-only 9p root, run the command that lab/run.sh left in the results
# share, record its exit status there and power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home TMPDIR=/tmp LANG=C.UTF-8 TERM=dumb
# run_command: the command lab/run.sh left in the results share; its exit
# status recorded there, then power off (-no-reboot turns the reboot into
# QEMU exiting; if reboot fails, init exiting panics the kernel, and
# panic=-1 reboots as well)
run_command() {
	local status=127
	if [ -r /tmp/out/cmd ]; then
		bash /tmp/out/cmd < /dev/null
		status=$?
	else
		echo "guest-init: no command in the results share" >&2
	fi
	echo "$status" > /tmp/out/status
	sync
	umount /tmp/out 2>/dev/null
	reboot -ff >/dev/null 2>&1
}

# As the test command's unit of a guest under systemd (lab/guest-systemd.sh
# makes it so): the mounts are made, the command is all there is to do.
if [ "${1:-}" = --command ]; then
	echo "lab guest: systemd has started the test command"
	run_command
	exit 1
fi

# The kernel boots silently (loglevel=4); say that it got this far: the
# host's watchdog (lab/run.sh --idle) measures silence.
echo "lab guest: init"

# The 9p root shows the host's /proc, /sys and /dev directories: always
# mount the guest's own over them.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
[ "$(stat -f -c %T /dev 2>/dev/null)" = tmpfs ] || mount -t devtmpfs devtmpfs /dev
# Keep the host's /tmp and /var/tmp reachable before covering them: the
# work tree may live there (a CI clone, say).
mount -t tmpfs tmpfs /run
mkdir -p /run/host/tmp /run/host/var-tmp
mount --bind /tmp /run/host/tmp
mount --bind /var/tmp /run/host/var-tmp
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
mount -t tmpfs tmpfs /mnt
mkdir -p /dev/pts /dev/shm /tmp/out "$HOME" /mnt/huge
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t hugetlbfs hugetlbfs /mnt/huge 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 vfiopin-out /tmp/out
# Re-expose the work tree, the working directory and the kernel directory
# (its modules; VFIOPIN_CACHE may be anywhere) if they were covered
# (lab/run.sh lists them in the results share's "dirs").
while IFS= read -r dir; do
	case $dir in
	/tmp/out|/tmp/out/*) continue ;;
	/tmp/*) sub=/run/host/tmp/${dir#/tmp/} ;;
	/var/tmp/*) sub=/run/host/var-tmp/${dir#/var/tmp/} ;;
	*) continue ;;
	esac
	if [ -d "$sub" ] && ! mountpoint -q "$dir"; then
		mkdir -p "$dir"
		mount --bind "$sub" "$dir"
	fi
done < /tmp/out/dirs
ulimit -l unlimited 2>/dev/null
hostname vfiopin-lab 2>/dev/null
# Loopback always; QEMU user networking's address when lab/run.sh --hostfwd
# gave the guest a network device.
ip link set lo up 2>/dev/null
for nic in /sys/class/net/*; do
	nic=${nic##*/}
	[ "$nic" = lo ] && continue
	ip addr add 10.0.2.15/24 dev "$nic" 2>/dev/null && ip link set "$nic" up 2>/dev/null
	break
done

# lab/run.sh --systemd: systemd as PID 1 from here on, the command one of
# its units (lab/guest-systemd.sh)
[ -e /tmp/out/systemd ] && exec "$(dirname "$0")/guest-systemd.sh"
run_command
