#!/bin/bash
# Host half of the exporter's end-to-end test: boot the lab with the
# exporter's port forwarded to 127.0.0.1 here, run tests/guest/export.sh in
# the guest, and have Debian's Prometheus server on this machine scrape it.
# A query through Prometheus's HTTP API must return the VMM's VmLck, and
# the alert rules (dashboards/prometheus/) must load and evaluate.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$TOP"
OUT=$TOP/build/lab-export
. "$TOP/tests/lib/check.sh"

command -v prometheus > /dev/null || { echo "export-e2e: prometheus missing ('make deps')"; exit 1; }
free_port() { python3 "$TOP/tests/host/lab/prom_query.py" free-port; }
fwd=$(free_port)
mkdir -p "$OUT"
rm -f "$OUT/export-ready" "$OUT/export-done"

tests/host/lab/run-in-lab.sh export --hostfwd "$fwd:9739" -- tests/guest/export.sh > "$OUT/guest.txt" 2>&1 &
lab=$!
for _ in $(seq 2400); do
	[ -s "$OUT/export-ready" ] && break
	kill -0 $lab 2> /dev/null || break
	sleep 0.5
done
read -r vm kb < "$OUT/export-ready" 2> /dev/null || true
if [ -z "${vm:-}" ]; then
	fail "the guest never got ready"
else
	tmp=$(mktemp -d)
	pport=$(free_port)
	cat > "$tmp/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	rule_files:
	  - $TOP/dashboards/prometheus/vfiopin-rules.yml
	scrape_configs:
	  - job_name: vfiopin
	    static_configs:
	      - targets: ['127.0.0.1:$fwd']
	        labels:
	          host: lab
	EOF
	prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
		--web.listen-address="127.0.0.1:$pport" --log.level=warn > "$tmp/prom.log" 2>&1 &
	prom=$!
	api=http://127.0.0.1:$pport/api/v1
	q() { curl -s --get "$api/query" --data-urlencode "query=$1"; }
	val() { q "$1" | python3 "$TOP/tests/host/lab/prom_query.py" value 2> /dev/null; }
	got=
	for _ in $(seq 240); do
		got=$(val "vfiopin_vm_locked_bytes{tgid=\"$vm\"}")
		[[ $got =~ ^[0-9]+$ ]] && break
		sleep 0.5
	done
	[ "$got" = $((kb * 1024)) ] && pass "Prometheus: vfiopin_vm_locked_bytes of the VM = VmLck ($kb kB)" ||
		fail "Prometheus: vfiopin_vm_locked_bytes{tgid=\"$vm\"} = '$got', VmLck $kb kB"
	[ "$(val 'up{job="vfiopin"}')" = 1 ] && pass "Prometheus: the target is up" || fail "Prometheus: target not up"
	got=$(val "vfiopin_vm_locked_bytes{tgid=\"$vm\"} / vfiopin_vm_limit_bytes{tgid=\"$vm\"}")
	[ "$got" = 0.0625 ] && pass "Prometheus: locked / limit = 0.0625" || fail "Prometheus: locked / limit = '$got'"
	# the rules loaded and evaluate without errors
	rules=$(curl -s "$api/rules")
	if python3 "$TOP/tests/host/lab/prom_rules_healthy.py" "$rules"; then pass "Prometheus: every rule loaded and evaluates healthy"; else fail "Prometheus: rules: $rules"; fi
	kill $prom
	wait $prom 2> /dev/null
	rm -rf "$tmp"
fi
touch "$OUT/export-done"
wait $lab
rc=$?
cat "$OUT/guest.txt"
[ $rc -eq 0 ] && pass "the guest half passed" || fail "the guest half failed (status $rc)"
summary "export-e2e (host)"
