# QEMU as the VMM in the lab (sourced after lib.sh): the host's
# qemu-system-x86_64, nested (TCG in TCG), driven over QMP by
# tests/guest/qmp.py.  What real hotplug needs there: q35 with ACPI PCI
# hotplug off (-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off)
# and one pcie-root-port per device, so that device_del is native PCIe
# hotplug; the guest never runs (-S), and QEMU completes the unplug
# without a guest OS to acknowledge it.  With -machine pc or q35's default
# ACPI hotplug, a paused guest's device_del returns {} and nothing goes.

QEMU=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64 on the host"
QMP="python3 $TOP/tests/guest/qmp.py"

# start_qemu TAG MEMLOCK_BYTES RAM_MB [QEMU ARGS...]: QEMU paused, QMP on
# /tmp/qmp-TAG.sock, named TAG, RLIMIT_MEMLOCK set and CAP_IPC_LOCK
# dropped as a management layer would; its pid in QPID[TAG].  QNAME, when
# set, is its -name instead of TAG (QEMU's syntax: ",," for a comma).  Returns when QMP
# answers, or 1 when QEMU exited first (its stderr in OUT/qemu-TAG.err).
# Each QMP try is bounded to 5 s: a QEMU that dies while QMP waits for its
# greeting leaves a socket nothing answers on, and qmp.py would wait for
# it to its whole timeout.
declare -A QPID
start_qemu() {
	local tag=$1 lim=$2 ram=$3 t0
	shift 3
	rm -f "/tmp/qmp-$tag.sock"
	setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock -- \
		prlimit --memlock="$lim:$lim" -- \
		"$QEMU" -name "guest=${QNAME:-$tag},debug-threads=on" -machine q35 -accel tcg -m "${ram}M" \
		-nodefaults -display none -S -qmp "unix:/tmp/qmp-$tag.sock,server=on,wait=off" \
		-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off \
		-device pcie-root-port,id=rp1,chassis=1,slot=1 \
		-device pcie-root-port,id=rp2,chassis=2,slot=2 "$@" \
		> "$OUT/qemu-$tag.out" 2> "$OUT/qemu-$tag.err" &
	QPID[$tag]=$!
	t0=$(date +%s%N)
	for _ in $(seq 2400); do
		if [ -S "/tmp/qmp-$tag.sock" ] &&
			$QMP "/tmp/qmp-$tag.sock" query-status --timeout 5 > /dev/null 2>&1; then
			echo "=== qemu $tag up (QMP answers): $(secs_since "$t0") s" >&2
			return 0
		fi
		kill -0 "${QPID[$tag]}" 2> /dev/null || return 1
		sleep 0.1
	done
	return 1
}
# secs_since NS: seconds since NS (date +%s%N), to the hundredth
secs_since() {
	local ms=$((($(date +%s%N) - $1) / 1000000))
	printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10))
}
# qmp TAG COMMAND [ARGS]: one QMP command; its time goes to the console
# ("=== qmp TAG COMMAND: SECONDS s") for the record of step times
qmp() {
	local tag=$1 t0 rc
	shift
	t0=$(date +%s%N)
	$QMP "/tmp/qmp-$tag.sock" "$@"
	rc=$?
	echo "=== qmp $tag $1: $(secs_since "$t0") s, status $rc" >&2
	return $rc
}
add_pt() { qmp "$1" device_add "{\"driver\":\"vfio-pci\",\"host\":\"$2\",\"id\":\"$3\",\"bus\":\"$4\"}"; }
add_mdev() {
	qmp "$1" device_add \
		"{\"driver\":\"vfio-pci\",\"sysfsdev\":\"/sys/bus/mdev/devices/$2\",\"id\":\"$3\",\"bus\":\"$4\"}"
}
stop_qemu() {
	qmp "$1" quit > /dev/null 2>&1
	wait "${QPID[$1]}" 2> /dev/null
}

# vfiopin_attach NAME: `vfiopin stat --json` attached for the whole tier
# (OUT/NAME-stat.jsonl), a snapshot taken on each snap (SIGUSR1) into
# SNAP, and read with vp SELECTOR PATH (kib: in KiB); vfiopin_detach ends
# it and checks its exit status.
vfiopin_attach() {
	VP_JSONL=$OUT/$1-stat.jsonl SNAP=$OUT/$1-snap.json
	"$TOP/build/vfiopin" stat --json > "$VP_JSONL" 2> "$OUT/$1-stat.err" &
	VP=$!
	for _ in $(seq 2400); do
		grep -q 'attached to' "$OUT/$1-stat.err" && break
		kill -0 $VP 2> /dev/null || die "vfiopin stat failed: $(cat "$OUT/$1-stat.err")"
		sleep 0.05
	done
	grep -q 'attached to' "$OUT/$1-stat.err" || die "vfiopin stat did not attach"
}
snap() {
	local n
	n=$(wc -l < "$VP_JSONL")
	kill -USR1 $VP
	for _ in $(seq 2400); do
		[ "$(wc -l < "$VP_JSONL")" -gt "$n" ] && break
		sleep 0.05
	done
	tail -1 "$VP_JSONL" > "$SNAP"
}
vp() { vpq "$SNAP" "$@"; }
kib() { local b; b=$(vp "$@"); [[ $b =~ ^-?[0-9]+$ ]] && echo $((b / 1024)) || echo "$b"; }
vfiopin_detach() {
	kill -INT $VP
	wait $VP
	check_eq "vfiopin stat: exit status" $? 0
}
