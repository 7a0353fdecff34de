#!/bin/bash
# Lab smoke test: every vfio_type1 event family fires with the right values,
# checked against oracles the kernel and the sample driver give on their
# own (VmLck in /proc/PID/status, mpin's sysfs counters, the client's
# results), and the events work with unmodified perf, bpftrace and bcc.
# Runs inside the lab guest: lab/run.sh -- tests/guest/smoke.sh
set -uo pipefail
. "$(dirname "$0")/lib.sh"

[ -x "$VMM" ] || die "$VMM is not built (make tools)"
read -r -a EDU <<< "$(bind_edu)"
load_mpin
M1=$(create_mdev 1)
M2=$(create_mdev 2)
E=${EDU[0]}
echo "devices: mdev $M1 $M2, passthrough $E (group $(basename "$(readlink /sys/bus/pci/devices/$E/iommu_group)"))"

trace_start

# --- the workload, stopped at three checkpoints -------------------------
mkfifo /tmp/vm.in
"$VMM" --mem 16M --memlock 16M \
	attach "$M1" attach "$M2" map 0 8M map 0x800000 8M \
	pin "$M1" 0x2000 1 pin "$M2" 0x2000 1 unpin "$M1" 0x2000 1 unpin "$M2" 0x2000 1 \
	pin "$M1" 0x10000 4 pin "$M1" 0x800000 2 \
	hold \
	unmap 0x800000 8M attach "$E" \
	hold \
	detach "$E" \
	hold \
	unpin "$M1" 0x10000 4 unmap 0 8M status detach "$M1" detach "$M2" \
	< /tmp/vm.in > "$OUT/vmm.json" 2> "$OUT/vmm.err" &
VM_PID=$!
exec 7> /tmp/vm.in
holds=0

# Wait until the client holds for the next time.
wait_hold() {
	holds=$((holds + 1))
	while [ "$(grep -c '"event":"holding"' "$OUT/vmm.json")" -lt $holds ]; do
		kill -0 $VM_PID 2>/dev/null || return 1
		sleep 0.1
	done
}

# Sum of the deltas of successful account events so far, in kB.
account_kb() {
	awk '/ vfio_type1_account: / && / ret=0/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^delta=/) { split($i, a, "="); s += a[2] } }
	     END { print s * 4 }' "$TRACEFS/trace"
}

checkpoint() {
	local name=$1 want_kb=$2 got
	wait_hold || { fail "$name: the client ended early: $(cat "$OUT/vmm.err")"; return 1; }
	got=$(vmlck_kb "$VM_PID")
	check_eq "$name: VmLck of the client (kB)" "$got" "$want_kb"
	check_eq "$name: sum of account deltas (kB) vs VmLck" "$(account_kb)" "$got"
	echo go >&7
}

checkpoint "A (mdev pins only)" 24
checkpoint "B (passthrough attached)" 8192
checkpoint "C (passthrough detached)" 16
wait "$VM_PID"
vm_status=$?
exec 7>&-
check_eq "client exit status" "$vm_status" 0
trace_stop "$OUT/trace.txt"
cp "$OUT/trace.txt" "$OUT/smoke-trace.txt"
T=$OUT/trace.txt

# --- per-page reference counts: the page pinned twice and unpinned twice
refs=$(grep -E 'vfio_type1_(un)?pin_page: .*iova=0x2000 ' "$T" | sed -E 's/.*ref_count=([0-9]+).*/\1/' | tr '\n' ' ')
check_eq "ref_count sequence of iova 0x2000" "$refs" "1 2 1 0 "
check_eq "first pin of 0x2000 is new" "$(grep -E 'vfio_type1_pin_page: .*iova=0x2000 ' "$T" | head -1 | sed -E 's/.*edge=//')" 1
check_eq "last unpin of 0x2000 released it" "$(grep -E 'vfio_type1_unpin_page: .*iova=0x2000 ' "$T" | tail -1 | sed -E 's/.*edge=//')" 1

# --- pin/unpin calls and pages vs. the driver's own counters
drv_pins=$(( $(mdev_counter "$M1" pins) + $(mdev_counter "$M2" pins) ))
drv_unpins=$(( $(mdev_counter "$M1" unpins) + $(mdev_counter "$M2" unpins) ))
drv_unpin_calls=$(( $(mdev_counter "$M1" unpin_calls) + $(mdev_counter "$M2" unpin_calls) ))
check_eq "driver pins" "$drv_pins" 8
check_eq "pin_page events vs driver pins" "$(events "$T" vfio_type1_pin_page | wc -l)" "$drv_pins"
check_eq "unpin_page events vs driver unpins" "$(events "$T" vfio_type1_unpin_page | wc -l)" "$drv_unpins"
check_eq "pin_begin events" "$(events "$T" vfio_type1_pin_begin | wc -l)" 4
check_eq "pin_end events, all ok" "$(events "$T" vfio_type1_pin_end | grep -cE 'ret=[1-9]')" 4
check_eq "unpin_begin events vs driver unpin calls" "$(events "$T" vfio_type1_unpin_begin | wc -l)" "$drv_unpin_calls"
check_eq "driver pinned now" "$(mdev_counter "$M1" pinned)$(mdev_counter "$M2" pinned)" 00

# --- invalidation: the unmap of 0x800000 with two pages pinned by M1
inv=$(events "$T" vfio_type1_invalidate_begin)
check_eq "invalidate_begin events" "$(wc -l <<< "$inv")" 1
check_eq "invalidate_begin range" "$(field "$inv" iova) $(field "$inv" size)" "0x800000 0x800000"
check_eq "invalidate_begin pinned pages" "$(field "$inv" pinned)" 2
check_eq "invalidate_begin devices notified" "$(field "$inv" devices)" 2
inve=$(events "$T" vfio_type1_invalidate_end)
check_eq "invalidate_end pinned pages left" "$(field "$inve" pinned)" 0
check_eq "M1 invalidations (driver)" "$(mdev_counter "$M1" invalidations)" 1
check_eq "M1 pages dropped on invalidation (driver)" "$(mdev_counter "$M1" inv_pages)" 2
check_eq "M2 invalidations (driver)" "$(mdev_counter "$M2" invalidations)" 1

# --- hotplug: group attach/detach, replay, reaccount, DMA map/unmap
check_eq "emulated group attaches" "$(events "$T" vfio_type1_group_attach | grep -c 'domain=emulated ret=0')" 2
check_eq "IOMMU group attaches" "$(events "$T" vfio_type1_group_attach | grep -c 'domain=iommu ret=0')" 1
check_eq "group detaches (1 iommu + 2 emulated)" "$(events "$T" vfio_type1_group_detach | wc -l)" 3
rp=$(events "$T" vfio_type1_replay_begin)
check_eq "replay: mappings, pages to pin" "$(field "$rp" dmas) $(field "$rp" pin_pages)" "1 2048"
check_eq "replay_end result" "$(field "$(events "$T" vfio_type1_replay_end)" ret)" 0
ra=$(events "$T" vfio_type1_reaccount)
check_eq "reaccount: unpinned, still locked" "$(field "$ra" unpinned) $(field "$ra" locked)" "2048 4"
check_eq "dma_map_begin events" "$(events "$T" vfio_type1_dma_map_begin | wc -l)" 2
check_eq "dma_map_end all ok" "$(events "$T" vfio_type1_dma_map_end | grep -c 'ret=0')" 2
check_eq "dma_unmap on passthrough detach" "$(field "$(events "$T" vfio_type1_dma_unmap)" unpinned)" 2048
check_eq "dma_remove events, none leaked" "$(events "$T" vfio_type1_dma_remove | grep -c 'leaked=0')" 2
check_eq "container_open events" "$(events "$T" vfio_type1_container_open | wc -l)" 1
check_eq "container_release leaves nothing" "$(events "$T" vfio_type1_container_release | sed -E 's/.*(dmas=)/\1/')" "dmas=0 pinned=0 locked=0"
cid=$(field "$(events "$T" vfio_type1_container_open)" cid)
check_eq "every event carries the container id" "$(grep -c ' vfio_type1_' "$T")" "$(grep -c " vfio_type1_[a-z_]*: cid=$cid tgid=$VM_PID " "$T")"
check_eq "sum of account deltas at the end" "$(account_kb)" 0
check_cmd "no kernel addresses in the trace" bash -c "! grep -qE '0xffff[0-9a-f]{12}' '$T'"

# --- limit hit: one page over RLIMIT_MEMLOCK fails with ENOMEM, reported
trace_start
"$VMM" --mem 1M --memlock 8K attach "$M1" map 0 1M pin "$M1" 0 2 pin=ENOMEM "$M1" 0x2000 1 \
	unpin "$M1" 0 2 unmap 0 1M > "$OUT/vmm-limit.json" 2>&1
check_eq "client with a limit hit exits 0 (ENOMEM was expected)" $? 0
trace_stop "$OUT/trace-limit.txt"
lim=$(events "$OUT/trace-limit.txt" vfio_type1_account | grep 'ret=-12')
check_eq "account event with -ENOMEM" "$(wc -l <<< "$lim")" 1
check_eq "limit hit: delta, locked_vm, limit" "$(field "$lim" delta) $(field "$lim" locked_vm) $(field "$lim" limit)" "1 2 8192"
check_eq "failed pin reported by pin_end" "$(events "$OUT/trace-limit.txt" vfio_type1_pin_end | grep -c 'ret=-12')" 1
check_eq "driver failures counter" "$(mdev_counter "$M1" failures)" 1

# --- QEMU opens an mpin instance as a vfio-pci device; the host pins its
# guest RAM through mpin's sysfs control while QEMU owns the device.
rm -f /tmp/smoke-qmp.sock
qemu-system-x86_64 -nodefaults -no-user-config -display none -machine q35 -accel tcg \
	-m 64M -S -device vfio-pci,sysfsdev=/sys/bus/mdev/devices/$M2 \
	-qmp unix:/tmp/smoke-qmp.sock,server=on,wait=off > "$OUT/qemu.log" 2>&1 &
qemu_pid=$!
# monitor CMD: a human monitor command over QMP; its answer as a JSON string
monitor() {
	python3 "$TOP/tests/guest/qmp.py" /tmp/smoke-qmp.sock human-monitor-command \
		"{\"command-line\":\"$1\"}"
}
info=$(monitor "info pci")
check_cmd "QEMU sees mpin as PCI device 1b36:7f00" grep -q "1b36:7f00" <<< "$info"
echo "0x100000 4" > "/sys/bus/mdev/devices/$M2/mpin/pin"
check_eq "host-side sysfs pin while QEMU owns the device: driver pinned" "$(mdev_counter "$M2" pinned)" 4
check_eq "QEMU's VmLck after the host-side pin (kB)" "$(vmlck_kb $qemu_pid)" 16
python3 "$TOP/tests/guest/qmp.py" /tmp/smoke-qmp.sock quit > /dev/null 2>&1
wait $qemu_pid
check_eq "QEMU exit status" $? 0
check_eq "pins released when QEMU closed the device" "$(mdev_counter "$M2" pinned)" 0

# --- unmodified standard tools on the tracepoints ------------------------
SMALL=("$VMM" --mem 1M attach "$M2" map 0 1M pin "$M2" 0x1000 3 pin "$M2" 0x1000 3
	unpin "$M2" 0x1000 3 unpin "$M2" 0x1000 3 unmap 0 1M detach "$M2")

if perf record -q -a -o "$OUT/perf.data" -e vfio_type1:vfio_type1_pin_page \
	-e vfio_type1:vfio_type1_unpin_page -- "${SMALL[@]}" > /dev/null 2> "$OUT/perf.err"; then
	perf script -i "$OUT/perf.data" > "$OUT/perf.txt" 2>> "$OUT/perf.err"
	check_eq "perf: pin_page events" "$(grep -c 'vfio_type1_pin_page:' "$OUT/perf.txt")" 6
	check_eq "perf: pages pinned twice" "$(grep 'vfio_type1_pin_page:' "$OUT/perf.txt" | grep -c 'ref_count=2 ')" 3
else
	fail "perf record: $(tail -3 "$OUT/perf.err")"
fi

bpftrace -q -e 'tracepoint:vfio_type1:vfio_type1_pin_page { @refs[args->ref_count] = count(); }
	tracepoint:vfio_type1:vfio_type1_unpin_page /args->edge/ { @released = count(); }' \
	-c "$(printf '%q ' "${SMALL[@]}")" > "$OUT/bpftrace.txt" 2>&1
check_eq "bpftrace: pages at ref_count 1" "$(sed -nE 's/^@refs\[1\]: ([0-9]+)/\1/p' "$OUT/bpftrace.txt")" 3
check_eq "bpftrace: pages at ref_count 2" "$(sed -nE 's/^@refs\[2\]: ([0-9]+)/\1/p' "$OUT/bpftrace.txt")" 3
check_eq "bpftrace: pages released" "$(sed -nE 's/^@released: ([0-9]+)/\1/p' "$OUT/bpftrace.txt")" 3

BCC_TRACE=$(command -v trace-bpfcc || echo /usr/sbin/trace-bpfcc)
"$BCC_TRACE" -M 6 't:vfio_type1:vfio_type1_pin_page "iova=%llx ref=%u", args->iova, args->ref_count' \
	> "$OUT/bcc.txt" 2>&1 &
bcc_pid=$!
for _ in $(seq 600); do grep -q 'PID' "$OUT/bcc.txt" && break; kill -0 $bcc_pid 2>/dev/null || break; sleep 0.5; done
"${SMALL[@]}" > /dev/null
for _ in $(seq 60); do kill -0 $bcc_pid 2>/dev/null || break; sleep 0.5; done
kill $bcc_pid 2>/dev/null
check_eq "bcc trace: ref=2 lines" "$(grep -c 'ref=2' "$OUT/bcc.txt")" 3
check_eq "bcc trace: ref=1 lines" "$(grep -c 'ref=1' "$OUT/bcc.txt")" 3

# least privilege, as the exporter's unit has it: CAP_BPF and CAP_PERFMON
# alone, another user, tracefs out of its reach: auto still finds the
# tracepoints (by attaching, not by reading tracefs)
nob=/tmp/nobody-bin
mkdir -p "$nob" && cp "$TOP/build/vfiopin" "$nob/" && chmod 755 "$nob" "$nob/vfiopin"
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+bpf,+perfmon \
	--ambient-caps=-all,+bpf,+perfmon --bounding-set=-all,+bpf,+perfmon "$nob/vfiopin" stat -d 1 2>&1 >/dev/null)
rc=$?
[ $rc = 0 ] && grep -q "attached to 18 vfio_type1 tracepoints" <<< "$err" &&
	pass "CAP_BPF + CAP_PERFMON only, another user: auto attaches to the tracepoints" ||
	fail "least privilege on the patched kernel: exit $rc: $err"
summary
