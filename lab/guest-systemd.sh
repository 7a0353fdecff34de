#!/bin/bash
# A lab guest booted with lab/run.sh --systemd.
#
# As PID 1 (exec'd by lab/guest-init.sh once its mounts are made): write
# the lab's two units to /run/systemd/system and hand over to this
# machine's systemd, which boots the guest as it would a host (journald,
# udev, the sysinit and basic targets: whatever this root has) and then
# starts vfiopin-lab.target, whose service runs `guest-init.sh --command`:
# the command lab/run.sh left in the results share, its exit status
# recorded there, then power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HERE=$(cd "$(dirname "$0")" && pwd)

[ $$ = 1 ] || { echo "guest-systemd: not PID 1" >&2; exit 2; }
systemd=
for s in /lib/systemd/systemd /usr/lib/systemd/systemd; do
	[ -x "$s" ] && { systemd=$s; break; }
done
if [ -z "$systemd" ]; then
	echo "guest-systemd: no systemd on this machine (Debian's package systemd)" >&2
	echo 126 > /tmp/out/status
	sync
	reboot -ff
fi
units=/run/systemd/system
mkdir -p "$units"
cat > "$units/vfiopin-lab.target" << EOF
[Unit]
Description=vfiopin lab: the test command
Requires=vfiopin-lab-command.service
After=vfiopin-lab-command.service
AllowIsolate=yes
EOF
# Default dependencies: the command runs on a booted system, after
# basic.target, as a service of the host's would.
cat > "$units/vfiopin-lab-command.service" << EOF
[Unit]
Description=vfiopin lab: the command of lab/run.sh
Wants=basic.target
After=basic.target

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/bin/bash $HERE/guest-init.sh --command
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/console
EOF
echo "lab guest: handing over to $systemd"
exec "$systemd" --unit=vfiopin-lab.target --log-level=notice --show-status=no
