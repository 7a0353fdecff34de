#!/bin/bash
# The QEMU tier: the host's qemu-system-x86_64 as the VMM (nested, TCG in
# TCG), driven over QMP (tests/guest/qmp.py) as a management layer would,
# with RLIMIT_MEMLOCK set and CAP_IPC_LOCK dropped.  The L2 guests never
# run (-S): type1 pins and charges from the VMM's side alone, and native
# PCIe hotplug (q35, ACPI PCI hotplug off, one pcie-root-port per device)
# completes a device_del without a guest OS to acknowledge it.
#
#  Q0  memlock = -m exactly: the passthrough hotplug fails with QEMU's own
#      ENOMEM; vfiopin shows the VM's limit hit and advises more.
#  Q1  the seed's order with the limit vfiopin advised plus the ROMs:
#      passthrough only, + mdev, - passthrough, - mdev; mdev only,
#      + passthrough, - mdev; then kill -9 with pins outstanding.  At
#      every step vfiopin's VM figure equals the QEMU process's VmLck and
#      its mdev figures mpin's own counters.
#  S10 a vIOMMU (intel-iommu) with two passthrough devices: two
#      containers charge the same RAM; at one container's need QEMU fails
#      to start; vfiopin shows one VM, two containers, the limit hit, and
#      an advised limit at which the same QEMU starts; each container's
#      own charge is half the process's.
#  Q2  a 64 MiB pc-dimm hot-added over the limit: QEMU cannot go on;
#      vfiopin advises what it held plus the whole DIMM, and at that limit
#      the same QEMU hot-adds it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/qemu-lib.sh"
vpq_start
VFIOPIN=$TOP/build/vfiopin
RAM_MB=64
load_mpin
M1=$(create_mdev 1)
read -r E1 E2 _ <<< "$(bind_edu)"
[ -n "${E2:-}" ] || die "the QEMU tier needs two edu devices (lab/run.sh --edu 2)"

# --- vfiopin, attached for the whole tier ----------------------------------
vfiopin_attach qemu
# a figure in pages, in kB
pkb() { local p; p=$(vp "$@"); [[ $p =~ ^-?[0-9]+$ ]] && echo $((p * 4)) || echo "$p"; }

# checkpoint TAG DESC: vfiopin's VM figure against the process's VmLck, and
# the VM's mdev pins against mpin's own count of pages it holds.
checkpoint() {
	local tag=$1 desc=$2 pid=${QPID[$1]} kb
	snap
	kb=$(vmlck_kb "$pid")
	check_eq "$desc: vfiopin VM locked = QEMU's VmLck ($kb kB)" "$(kib "vm=$pid" locked_bytes)" "$kb"
	check_eq "$desc: the VM's containers' own charges add up to it" "$(pkb "owner=$pid" charged_pages)" \
		"$kb"
	check_eq "$desc: mdev pages pinned = mpin's pages held" \
		"$(vp "owner=$pid" mdev.pages_pinned)" "$(mdev_counter "$M1" pages)"
}

# --- Q0: memlock = -m exactly --------------------------------------------
# a name a management layer might pass: quotes, a backslash, a comma, a byte not UTF-8
QNAME=$'q0 "web" a\\b,,c \xff' start_qemu q0 $((RAM_MB << 20)) $RAM_MB || die "QEMU did not start: $(cat "$OUT/qemu-q0.err")"
check_eq "Q0: QEMU's comm" "$(cat "/proc/${QPID[q0]}/comm")" "qemu-system-x86"
err=$(add_pt q0 "$E1" pt1 rp1 2>&1 > /dev/null)
rc=$?
check_eq "Q0: device_add of a passthrough device at memlock = -m fails" "$rc" 1
[[ $err == *"Cannot allocate memory"* || $err == *"-12"* ]] &&
	pass "Q0: QEMU says why: ${err:0:160}" || fail "Q0: QEMU's error: '$err'"
snap
pid=${QPID[q0]}
check_eq "Q0: vfiopin names the VM by its -name, escaped" "$(vp "vm=$pid" name)" 'q0 "web" a\\b,c \xff'
check_eq "Q0: the VM's limit" "$(vp "vm=$pid" limit_bytes)" $((RAM_MB << 20))
[ "$(vp "vm=$pid" limit_hits)" -ge 1 ] 2> /dev/null && pass "Q0: the limit hit is the VM's" ||
	fail "Q0: VM limit hits $(vp "vm=$pid" limit_hits)"
need0=$(vp "vm=$pid" needed_limit_bytes)
[ "$need0" -gt $((RAM_MB << 20)) ] 2> /dev/null && pass "Q0: advised more than -m ($((need0 / 1024)) kB)" ||
	fail "Q0: advised $need0"
check_eq "Q0: nothing stays locked after the failed hotplug (VmLck kB)" "$(vmlck_kb "$pid")" 0
stop_qemu q0

# --- Q1: the seed's order -------------------------------------------------
# the ROMs and BIOS alias QEMU maps beside the RAM need a little more
# than the first refusal showed; 1 MiB over the RAM is plenty
LIM=$(((RAM_MB + 1) << 20))
start_qemu q1 $LIM $RAM_MB || die "QEMU did not start: $(cat "$OUT/qemu-q1.err")"
Q=${QPID[q1]}
# captured: vfiopin capture -- <the QMP command> gives the hotplug's phases
echo "{\"pid\": $Q}" > "$OUT/qemu-q1-pid.json"
# qcapture NAME PHASES-REGEX QMP-ARGS...: the QMP command under vfiopin capture
qcapture() {
	local name=$1 want=$2 dir=$OUT/qemu-capture-$1 got
	shift 2
	rm -rf "$dir"
	"$VFIOPIN" capture -D "$dir" -- $QMP /tmp/qmp-q1.sock "$@" > /dev/null 2> "$OUT/qemu-capture-$name.err"
	check_eq "Q1 capture $name: the QMP command's exit status" $? 0
	got=$(python3 "$TOP/tests/guest/vpq.py" capture "$dir" "$OUT/qemu-q1-pid.json" phases)
	[[ $got =~ ^$want$ ]] && pass "Q1 capture $name: QEMU's container's phases in order ($got)" ||
		fail "Q1 capture $name: phases '$got', want /^$want\$/"
}
qcapture plug-pt "attach map" device_add "{\"driver\":\"vfio-pci\",\"host\":\"$E1\",\"id\":\"pt1\",\"bus\":\"rp1\"}"
checkpoint q1 "Q1 passthrough only"
ptkb=$(vmlck_kb "$Q")
[ "$ptkb" -gt $((RAM_MB * 1024)) ] && pass "Q1: QEMU charges RAM and its ROMs ($ptkb kB for ${RAM_MB} MiB)" ||
	fail "Q1: $ptkb kB for ${RAM_MB} MiB"
add_mdev q1 "$M1" md1 rp2 > /dev/null && pass "Q1: mdev hot-plugged" || fail "Q1: mdev hotplug"
echo "0x100000 64" > "/sys/bus/mdev/devices/$M1/mpin/pin" || fail "Q1: mpin pin request"
checkpoint q1 "Q1 passthrough + mdev (64 pins, already charged)"
check_eq "Q1: mdev pins of mapped pages add no charge (VmLck kB)" "$(vmlck_kb "$Q")" "$ptkb"
# one unmap and re-account per mapping QEMU made (RAM, BIOS, ROMs)
qcapture unplug-pt "detach( unmap reaccount)+" device_del pt1
checkpoint q1 "Q1 mdev left (its pins re-accounted)"
check_eq "Q1: only the mdev pins stay charged (VmLck kB)" "$(vmlck_kb "$Q")" $((64 * 4))
qmp q1 device_del md1 > /dev/null && pass "Q1: mdev unplugged" || fail "Q1: mdev unplug"
checkpoint q1 "Q1 nothing plugged"
check_eq "Q1: nothing charged (VmLck kB)" "$(vmlck_kb "$Q")" 0
# the other way round
add_mdev q1 "$M1" md2 rp2 > /dev/null && pass "Q1: mdev hot-plugged first" || fail "Q1: mdev hotplug"
echo "0x200000 32" > "/sys/bus/mdev/devices/$M1/mpin/pin" || fail "Q1: mpin pin request"
checkpoint q1 "Q1 mdev only (32 pins)"
check_eq "Q1: the mdev pins charged (VmLck kB)" "$(vmlck_kb "$Q")" $((32 * 4))
qcapture plug-pt-after-mdev "replay attach" device_add \
	"{\"driver\":\"vfio-pci\",\"host\":\"$E1\",\"id\":\"pt2\",\"bus\":\"rp1\"}"
checkpoint q1 "Q1 mdev + passthrough (replayed)"
check_eq "Q1: the replay charges RAM, the pins once (VmLck kB)" "$(vmlck_kb "$Q")" "$ptkb"
qmp q1 device_del md2 > /dev/null && pass "Q1: mdev unplugged (passthrough stays)" || fail "Q1: mdev unplug"
checkpoint q1 "Q1 passthrough left"
check_eq "Q1: mpin holds nothing" "$(mdev_counter "$M1" pages)" 0
# kill -9 with pins outstanding
add_mdev q1 "$M1" md3 rp2 > /dev/null || fail "Q1: mdev hotplug"
echo "0x300000 16" > "/sys/bus/mdev/devices/$M1/mpin/pin" || fail "Q1: mpin pin request"
checkpoint q1 "Q1 before kill -9"
kill -9 "$Q"
wait "$Q" 2> /dev/null
snap
check_eq "Q1 after kill -9: mpin holds nothing" "$(mdev_counter "$M1" pages)" 0
check_eq "Q1 after kill -9: every container released" \
	"$(vp "vm=$Q" containers)" 0
check_eq "Q1 after kill -9: the VM's locked memory" "$(vp "vm=$Q" locked_bytes)" 0
check_eq "Q1 after kill -9: no leaked pins" "$(vp "owner=$Q" leaked_pins)" 0
check_eq "Q1: advised = the most it charged (kB)" "$(kib "vm=$Q" needed_limit_bytes)" "$ptkb"

# --- S10: the vIOMMU charges the RAM once per container -------------------
viommu=(-machine q35,kernel-irqchip=split -device intel-iommu,caching-mode=on,intremap=on
	-device vfio-pci,host="$E1",id=pt1,bus=rp1 -device vfio-pci,host="$E2",id=pt2,bus=rp2)
# the limit one container needs: what Q1's passthrough charged, with Q1's margin
if start_qemu s10a $(((ptkb + 1024) * 1024)) $RAM_MB "${viommu[@]}"; then
	fail "S10: QEMU started at one container's need"
	stop_qemu s10a
else
	pass "S10: QEMU fails to start at one container's need"
fi
wait "${QPID[s10a]}" 2> /dev/null
grep -q 'Cannot allocate memory\|-12' "$OUT/qemu-s10a.err" && pass "S10: QEMU says ENOMEM: $(grep -m1 -o 'vfio_dma_map.*\|VFIO_MAP_DMA.*' "$OUT/qemu-s10a.err" | head -c 160)" ||
	fail "S10: QEMU's error: $(head -c 300 "$OUT/qemu-s10a.err")"
snap
A=${QPID[s10a]}
check_eq "S10: one VM, two containers" "$(vp "vm=$A" cids | tr -cd ',' | wc -c)" 1
check_eq "S10: the VM that failed to start is named by its -name" "$(vp "vm=$A" name)" s10a
check_eq "S10: advised for both containers (advice / one container's charge)" \
	$(($(vp "vm=$A" needed_limit_bytes) / $(vp "vm=$A" passthrough_charge_bytes))) 2
[ "$(vp "vm=$A" limit_hits)" -ge 1 ] 2> /dev/null && pass "S10: the limit hit" || fail "S10: limit hits $(vp "vm=$A" limit_hits)"
need=$(vp "vm=$A" needed_limit_bytes)
echo "S10: advised $((need / 1024)) kB (one container's need $ptkb kB)"
if start_qemu s10b "$need" $RAM_MB "${viommu[@]}"; then
	pass "S10: the same QEMU starts at the advised limit ($((need / 1024)) kB)"
	B=${QPID[s10b]}
	snap
	kb=$(vmlck_kb "$B")
	check_eq "S10: vfiopin VM locked = VmLck ($kb kB)" "$(kib "vm=$B" locked_bytes)" "$kb"
	check_eq "S10: two passthrough containers" "$(vp "vm=$B" passthrough_containers)" 2
	check_eq "S10: the containers' own charges add up to VmLck" "$(pkb "owner=$B" charged_pages)" "$kb"
	for c in $(vp "vm=$B" cids | tr -d '[]' | tr ',' ' '); do
		check_eq "S10: container $c charges its own half, not the process's total" \
			"$(pkb "cid=$c" charged_pages)" $((kb / 2))
	done
	[ "$kb" -le $((need / 1024)) ] && pass "S10: VmLck within the advice" || fail "S10: VmLck $kb > advice"
	stop_qemu s10b
else
	fail "S10: QEMU did not start at the advised limit: $(head -c 300 "$OUT/qemu-s10b.err")"
fi

# --- Q2: a memory hotplug refused on the limit ---------------------------
# a passthrough VM at about its need (Q1's charge and margin), then a
# 64 MiB pc-dimm hot-added: type1 refuses the DIMM's MAP_DMA and QEMU
# cannot go on.  The advice must cover the whole DIMM, not the one batch
# of it the refused charge asked for: QEMU's own success at the advised
# limit is the oracle.
DIMM_MB=64
dimm_vm=(-device vfio-pci,host="$E1",id=pt1,bus=rp1)
dimm_mem="$RAM_MB,slots=2,maxmem=$((RAM_MB + 2 * DIMM_MB))"
add_dimm() {
	qmp "$1" object-add "{\"qom-type\":\"memory-backend-ram\",\"id\":\"mem1\",\"size\":$((DIMM_MB << 20))}" &&
		qmp "$1" device_add '{"driver":"pc-dimm","id":"dimm1","memdev":"mem1"}'
}
if start_qemu q2a $(((ptkb + 1024) * 1024)) "$dimm_mem" "${dimm_vm[@]}"; then
	A=${QPID[q2a]}
	before=$(vmlck_kb "$A")
	add_dimm q2a > "$OUT/qemu-q2a.qmp" 2>&1
	for _ in $(seq 600); do kill -0 "$A" 2> /dev/null || break; sleep 0.1; done
	if kill -0 "$A" 2> /dev/null; then
		fail "Q2: QEMU still runs after a DIMM over its limit"
		stop_qemu q2a
	else
		pass "Q2: QEMU cannot go on after the refused DIMM"
	fi
	wait "$A" 2> /dev/null
	grep -q 'DMA mapping failed\|-12\|Cannot allocate memory' "$OUT/qemu-q2a.err" &&
		pass "Q2: QEMU says the mapping failed: $(grep -m1 'DMA\|-12' "$OUT/qemu-q2a.err" | head -c 160)" ||
		fail "Q2: QEMU's error: $(head -c 300 "$OUT/qemu-q2a.err")"
	snap
	check_eq "Q2: the VM QEMU ended is named by its -name" "$(vp "vm=$A" name)" q2a
	[ "$(vp "vm=$A" limit_hits)" -ge 1 ] 2> /dev/null && pass "Q2: the limit hit is the VM's" ||
		fail "Q2: VM limit hits $(vp "vm=$A" limit_hits)"
	need=$(vp "vm=$A" needed_limit_bytes)
	echo "Q2: VmLck before the DIMM $before kB, limit $((ptkb + 1024)) kB, advised $((need / 1024)) kB"
	[ "$((need / 1024))" -ge $((before + (DIMM_MB << 10))) ] 2> /dev/null &&
		pass "Q2: the advice covers what it held and the whole DIMM ($((need / 1024)) kB)" ||
		fail "Q2: advised $need bytes, below VmLck $before kB + the DIMM"
	if start_qemu q2b "$need" "$dimm_mem" "${dimm_vm[@]}"; then
		B=${QPID[q2b]}
		add_dimm q2b > "$OUT/qemu-q2b.qmp" 2>&1
		check_eq "Q2: at the advised limit the DIMM hot-adds (QMP status)" $? 0
		if kill -0 "$B" 2> /dev/null; then
			pass "Q2: QEMU goes on at the advised limit"
			snap
			kb=$(vmlck_kb "$B")
			check_eq "Q2: vfiopin VM locked = VmLck ($kb kB)" "$(kib "vm=$B" locked_bytes)" "$kb"
			[ "$kb" -le $((need / 1024)) ] && pass "Q2: VmLck within the advice" || fail "Q2: VmLck $kb > advice"
			check_eq "Q2: no limit hit at the advised limit" "$(vp "vm=$B" limit_hits)" 0
			stop_qemu q2b
		else
			fail "Q2: QEMU ended at the advised limit: $(head -c 300 "$OUT/qemu-q2b.err")"
		fi
	else
		fail "Q2: QEMU did not start at the advised limit: $(head -c 300 "$OUT/qemu-q2b.err")"
	fi
else
	fail "Q2: QEMU did not start at its need: $(head -c 300 "$OUT/qemu-q2a.err")"
fi

vfiopin_detach
summary
