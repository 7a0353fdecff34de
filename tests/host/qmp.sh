# Host tier, sourced by run.sh: tests/guest/qmp.py, the lab's QMP driver,
# against a QMP server that misbehaves (tests/host/fake_qmp.py): QEMU's own
# error text and exit 1 for an error answer, exit 2 within the bound for
# a server that never greets, never answers, closes (before or after the
# command arrives), answers garbage or never sends DEVICE_DELETED; no
# socket at all likewise.  A qmp.py that ignored its bound would be killed
# by timeout(1) (exit 124), and fail.
QMPPY="python3 tests/guest/qmp.py"
qtmp=$(mktemp -d)
qmp_case() {
	local mode=$1 what=$2 want=$3 pat=$4
	shift 4
	python3 tests/host/fake_qmp.py "$qtmp/$mode.sock" "$mode" &
	local srv=$!
	for _ in $(seq 600); do [ -S "$qtmp/$mode.sock" ] && break; sleep 0.05; done
	expect_exit "qmp.py vs a server that $what" "$want" "$pat" \
		timeout 120 $QMPPY "$qtmp/$mode.sock" "$@" --timeout 3
	kill $srv 2> /dev/null
	wait $srv 2> /dev/null
}
qmp_case pass "answers" 0 '' query-status
qmp_case error "answers an error" 1 "QEMU says: device_del: GenericError: Device 'nic9' not found" \
	device_del nic9
qmp_case silent "never greets" 2 "no answer from QEMU \(waited at most 3 s\)" query-status
qmp_case mute "never answers a command" 2 "no answer from QEMU" query-status
qmp_case close "closes after the greeting" 2 "QEMU closed the QMP socket" query-status
qmp_case reset "closes with a command unread" 2 "QEMU closed the QMP socket" query-status
qmp_case garbage "answers garbage" 1 "not JSON from QEMU" query-status
qmp_case noevent "never sends DEVICE_DELETED" 2 "device_del: no answer from QEMU" device_del nic0
expect_exit "qmp.py with no socket: said, exit 2" 2 "cannot connect to $qtmp/none.sock" \
	$QMPPY "$qtmp/none.sock" query-status --timeout 1
expect_exit "qmp.py with arguments that are not JSON" 2 "arguments are not JSON" \
	$QMPPY "$qtmp/none.sock" device_add '{nope' --timeout 1
rm -rf "$qtmp"
