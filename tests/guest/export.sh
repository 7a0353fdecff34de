#!/bin/bash
# Guest half of the exporter's end-to-end test (the host half is
# tests/host/lab/export-e2e.sh): a VM pins pages through an mdev while
# `vfiopin export` serves on the port lab/run.sh --hostfwd forwards.  Checks
# the real exposition in the guest against VmLck and the driver's counts,
# tells the host it is ready (OUT/export-ready: the VM's pid and VmLck),
# and waits for the host's Prometheus to have scraped (OUT/export-done).
# Then the VM exits: its container is served as released for the
# --keep-released time to every scraper (the host's Prometheus may still
# have requests in flight), then it is gone.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

PORT=${VFIOPIN_EXPORT_PORT:-9739}
load_mpin
M1=$(create_mdev 1)

# Start before the VM: a container becomes known through its events.
# Every interface: the forwarded port arrives on the guest's NIC.
KEEP=30
"$TOP/build/vfiopin" export --listen "0.0.0.0:$PORT" --keep-released $KEEP 2> "$OUT/export.err" &
exporter=$!
url=http://127.0.0.1:$PORT
for _ in $(seq 1200); do curl -sf -o /dev/null "$url/healthz" && break; sleep 0.1; done
check_cmd "export: serving /healthz" curl -sf -o /dev/null "$url/healthz"
grep -q "not loopback" "$OUT/export.err" && pass "export: says a non-loopback listen is reachable" ||
	fail "export: no warning for 0.0.0.0 in: $(cat "$OUT/export.err")"

hold_vm "$M1" "$OUT/export-vm.json" || fail "the VM never held its pins: $(tail -3 "$OUT/export-vm.json")"
vm=$HELD_VM
kb=$(vmlck_kb $vm)
check_eq "the VM holds its pins (VmLck kB)" "$kb" 1024

scrape() { curl -s -o "$OUT/$1" -w '%{http_code}' "$url/metrics"; }
get() { python3 "$TOP/tests/promcheck.py" "$OUT/$1" --get "$2" | awk '{print $NF}'; }
check_eq "export: /metrics status" "$(scrape export-1.prom)" 200
out=$(python3 "$TOP/tests/promcheck.py" "$OUT/export-1.prom") &&
	pass "export: real exposition structure ($out)" || fail "export: promcheck: $out"
out=$(promtool check metrics < "$OUT/export-1.prom" 2>&1) &&
	pass "export: promtool check metrics on the real exposition" || fail "export: promtool: $out"
sel="{tgid=\"$vm\"}"
check_eq "export: the VM's locked bytes vs VmLck" "$(get export-1.prom "vfiopin_vm_locked_bytes$sel")" $((kb * 1024))
check_eq "export: the container's own charge vs VmLck (one container)" \
	"$(get export-1.prom "vfiopin_charged_bytes$sel")" $((kb * 1024))
check_eq "export: limit bytes (the VM's RLIMIT_MEMLOCK)" \
	"$(get export-1.prom "vfiopin_vm_limit_bytes$sel")" $((16 << 20))
check_eq "export: mdev pages vs the driver's distinct pages" \
	"$(get export-1.prom "vfiopin_mdev_pinned_pages$sel")" "$(mdev_counter "$M1" pages)"
check_eq "export: pin calls vs the VM's own" "$(get export-1.prom "vfiopin_pin_calls_total$sel")" 2
check_eq "export: refcount 2 pages (pinned twice)" \
	"$(get export-1.prom "vfiopin_pinned_pages_by_refcount{tgid=\"$vm\",refcount=\"2\"}")" 16
check_eq "export: no drops" "$(get export-1.prom 'vfiopin_drops_total{reason="map_full"}')" 0

echo "$vm $kb" > "$OUT/export-ready"
for _ in $(seq 1200); do [ -e "$OUT/export-done" ] && break; sleep 0.25; done
check_cmd "the host's Prometheus scraped (export-done)" test -e "$OUT/export-done"

release_vm
check_eq "the VM's exit status" $? 0
check_eq "export: after teardown, /metrics status" "$(scrape export-2.prom)" 200
check_eq "export: after teardown, released" "$(get export-2.prom "vfiopin_container_released$sel")" 1
check_eq "export: after teardown, nothing locked" "$(get export-2.prom "vfiopin_vm_locked_bytes$sel")" 0
check_eq "export: after teardown, no leaked pins" "$(get export-2.prom "vfiopin_leaked_pins_total$sel")" 0
check_eq "export: after teardown, a second scrape still has it released" \
	"$(scrape export-3.prom)/$(get export-3.prom "vfiopin_container_released$sel")" 200/1
# gone once its KEEP seconds are over: polled, every scrape whole
gone=
for i in $(seq 1200); do
	code=$(scrape export-4.prom)
	[ "$code" = 200 ] || break
	grep -q "tgid=\"$vm\"" "$OUT/export-4.prom" || { gone=$i; break; }
	sleep 0.5
done
[ -n "$gone" ] && pass "export: the torn-down container's series are dropped after its $KEEP s ($gone polls)" ||
	fail "export: the torn-down container still served (last status $code)"
check_eq "export: retired containers" "$(get export-4.prom vfiopin_retired_containers_total)" 1
kill -INT $exporter
wait $exporter
check_eq "export: exits 0 on SIGINT" $? 0
summary
