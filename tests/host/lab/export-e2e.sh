#!/bin/bash
# Host half of the exporter's end-to-end test: boot the lab with the
# exporter's port forwarded to 127.0.0.1 here, run the guest half, and have
# Debian's Prometheus server on this machine scrape it.  A query through
# Prometheus's HTTP API must return the VMM's VmLck, and the alert rules
# (dashboards/prometheus/) must load and evaluate.
#
#   export-e2e.sh            tests/guest/export.sh: `vfiopin export` run by
#                            the test, plain HTTP
#   export-e2e.sh --service  tests/guest/service.sh: on Debian's stock
#                            kernel with systemd as the guest's init, the
#                            exporter installed by `make install` and run as
#                            vfiopin-exporter.service, serving TLS with basic
#                            authentication (a CA, a certificate and a user
#                            made here), which Prometheus scrapes
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$TOP"
. "$TOP/tests/lib/check.sh"

command -v prometheus > /dev/null || { echo "export-e2e: prometheus missing ('make deps')"; exit 1; }
free_port() { python3 "$TOP/tests/host/lab/prom_query.py" free-port; }
fwd=$(free_port)
name=export guest=tests/guest/export.sh lab=() scheme=http auth=
if [ "${1:-}" = --service ]; then
	name=service guest=tests/guest/service.sh
	lab=(--systemd --kernel "$(lab/stock/stock.sh build "${STOCK:-6.1}")")
	scheme=https
fi
OUT=$TOP/build/lab-$name
mkdir -p "$OUT"
rm -rf "$OUT/export-ready" "$OUT/export-done" "$OUT/web" "$OUT/inst"
if [ $name = service ]; then
	# what the guest installs, as an operator would: make install, here
	# under /opt/vfiopin (the guest's / is this machine's, read-only)
	make -s install PREFIX=/opt/vfiopin DESTDIR="$OUT/inst" > "$OUT/install.log" 2>&1 ||
		fail "make install PREFIX=/opt/vfiopin: $(tail -3 "$OUT/install.log")"
	# a CA, the exporter's certificate for localhost and 127.0.0.1, its key
	W=$OUT/web
	mkdir -p "$W"
	ossl() { openssl "$@" > /dev/null 2>> "$W/openssl.err"; }
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=vfiopin lab CA" -keyout "$W/ca.key" -out "$W/ca.crt"
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
		-keyout "$W/tls.key" -out "$W/tls.csr"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$W/san"
	ossl x509 -req -in "$W/tls.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 2 \
		-extfile "$W/san" -out "$W/tls.crt"
	[ -s "$W/tls.crt" ] || fail "openssl: $(tail -3 "$W/openssl.err")"
	# the user Prometheus scrapes as: crypt(3) bcrypt of its password
	echo scrape-me > "$W/password"
	python3 -c 'import crypt, sys; print(crypt.crypt("scrape-me", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 8)))' \
		> "$W/hash" 2> "$W/hash.err" || fail "bcrypt: $(cat "$W/hash.err")"
	auth="    tls_config:
      ca_file: $W/ca.crt
    basic_auth:
      username: prometheus
      password_file: $W/password"
fi

tests/host/lab/run-in-lab.sh $name "${lab[@]}" --hostfwd "$fwd:9739" -- $guest > "$OUT/guest.txt" 2>&1 &
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
	    scheme: $scheme
	$auth
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
summary "export-e2e${1:+ $1} (host)"
