# Host tier, sourced by run.sh after export.sh (its synth and port_of):
# the exporter's --web-config.  Bad files refused whole, each with its
# line; TLS with basic authentication (bcrypt), the right password served,
# a wrong one, none and plain HTTP refused with the server still serving;
# a client certificate required and verified; Debian's Prometheus scraping
# over TLS with basic_auth; the slow-client attack on the TLS port.
tmp=$(mktemp -d)
W=$tmp/web
mkdir -p "$W"
# a CA, the server's certificate for localhost and 127.0.0.1, a client's
# signed by the CA and one signed by another CA
ossl() { openssl "$@" > /dev/null 2>> "$W/openssl.err"; }
for ca in ca other; do
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=vfiopin test $ca" -keyout "$W/$ca.key" -out "$W/$ca.crt"
done
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
	-keyout "$W/server.key" -out "$W/server.csr"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$W/san"
ossl x509 -req -in "$W/server.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 2 \
	-extfile "$W/san" -out "$W/server.crt"
for c in client:ca intruder:other; do
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${c%:*}" \
		-keyout "$W/${c%:*}.key" -out "$W/${c%:*}.csr"
	ossl x509 -req -in "$W/${c%:*}.csr" -CA "$W/${c#*:}.crt" -CAkey "$W/${c#*:}.key" \
		-CAcreateserial -days 2 -out "$W/${c%:*}.crt"
done
[ -s "$W/server.crt" ] && [ -s "$W/client.crt" ] && [ -s "$W/intruder.crt" ] ||
	fail "webconfig: openssl: $(tail -3 "$W/openssl.err")"
# crypt(3) of "scrape-me", $2y$ as exporter-toolkit's examples have it
HASH='$2y$10$vfiopinTestSaltVfiopiez1VOPakL9Mgqjg7Fy6.j78hk.vo7skG'
printf '%s\n' "# TLS and one user" "tls_server_config:" "  cert_file: $W/server.crt" \
	"  key_file: $W/server.key" "basic_auth_users:" "  prometheus: '$HASH'" > "$W/tls-auth.yml"
printf '%s\n' "tls_server_config:" "  cert_file: $W/server.crt" "  key_file: $W/server.key" \
	"  client_auth_type: RequireAndVerifyClientCert" "  client_ca_file: $W/ca.crt" > "$W/mtls.yml"

# --- bad files: refused at start, whole, with the line
bad_file() {
	local what=$1 pat=$2
	printf '%s\n' "$3" > "$W/bad.yml"
	expect_exit "export --web-config: $what" 2 "^vfiopin export: --web-config $W/bad.yml:?$pat" \
		$V export --web-config "$W/bad.yml" --listen 127.0.0.1:0
}
bad_file "an unknown key, with its line" "4: unknown key 'basic_auth_user'" \
	"tls_server_config:
  cert_file: $W/server.crt
  key_file: $W/server.key
basic_auth_user:
  a: b"
bad_file "not YAML" "2: " $'a: [b\nc: d'
bad_file "a hash that is not bcrypt" "2: the hash of user 'u' is not bcrypt" $'basic_auth_users:\n  u: secret'
bad_file "a user twice" "3: user 'u' twice" "basic_auth_users:
  u: '$HASH'
  u: '$HASH'"
bad_file "cert_file without key_file" "1: tls_server_config needs both" "tls_server_config:
  cert_file: $W/server.crt"
bad_file "a TLS setting vfiopin does not apply" "4: min_version is not supported" "tls_server_config:
  cert_file: $W/server.crt
  key_file: $W/server.key
  min_version: TLS13"
bad_file "an unknown client_auth_type" "3: client_auth_type 'RequestClientCert'" "tls_server_config:
  cert_file: $W/server.crt
  client_auth_type: RequestClientCert
  key_file: $W/server.key"
bad_file "verification without a CA" "1: RequireAndVerifyClientCert needs client_ca_file" "tls_server_config:
  cert_file: $W/server.crt
  key_file: $W/server.key
  client_auth_type: RequireAndVerifyClientCert"
bad_file "a second document" "3: a second YAML document" $'basic_auth_users: {}\n---\nfoo: 1'
bad_file "a key file that is not one" ": key_file $W/server.crt: no 'PRIVATE KEY-----'" "tls_server_config:
  cert_file: $W/server.crt
  key_file: $W/server.crt"
bad_file "a certificate file that is not there" ": cert_file $W/none.crt: No such file" "tls_server_config:
  cert_file: $W/none.crt
  key_file: $W/server.key"
expect_exit "export --web-config: a directory" 2 "$W: not a regular file" $V export --web-config "$W"
head -c 1100000 /dev/zero | tr '\0' '#' > "$W/big.yml"
expect_exit "export --web-config: a file over 1 MiB" 2 "larger than 1 MiB" $V export --web-config "$W/big.yml"

# --- TLS and basic authentication
synth build/export_synth-san tls 20 0 0 "$W/tls-auth.yml"
tls_pid=$!
tport=$(port_of tls)
if [ -z "$tport" ]; then
	fail "webconfig: export_synth with TLS did not start: $(cat "$tmp/err-tls")"
else
	u=https://localhost:$tport/metrics
	code() {
		curl -s -o "$tmp/body" -w '%{http_code}' --cacert "$W/ca.crt" \
			--resolve "localhost:$tport:127.0.0.1" "$@"
	}
	got=$(code -u prometheus:scrape-me "$u")
	[ "$got" = 200 ] && grep -q '^vfiopin_container_info{' "$tmp/body" &&
		pass "TLS + basic auth: the right password gets the figures (200)" ||
		fail "TLS + basic auth, right password: $got $(head -c 200 "$tmp/body")"
	got=$(code -u prometheus:wrong "$u")
	[ "$got" = 401 ] && ! grep -q vfiopin_ "$tmp/body" &&
		pass "TLS + basic auth: a wrong password gets 401, no figure" ||
		fail "TLS + basic auth, wrong password: $got"
	got=$(code -u nobody:scrape-me "$u")
	[ "$got" = 401 ] && pass "TLS + basic auth: an unknown user gets 401" || fail "unknown user: $got"
	got=$(code "$u")
	hdr=$(curl -s -D - -o /dev/null --cacert "$W/ca.crt" --resolve "localhost:$tport:127.0.0.1" "$u")
	[ "$got" = 401 ] && grep -qi '^www-authenticate: basic' <<< "$hdr" &&
		pass "TLS + basic auth: no credentials get 401 with WWW-Authenticate: Basic" ||
		fail "no credentials: $got: $hdr"
	got=$(code "https://localhost:$tport/healthz")
	[ "$got" = 401 ] && pass "TLS + basic auth: /healthz behind the same authentication" ||
		fail "healthz without credentials: $got"
	got=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$tport/metrics"); rc=$?
	[ "$got" != 200 ] && pass "TLS port: plain HTTP gets no figures (curl exit $rc, status '$got')" ||
		fail "plain HTTP to the TLS port was served"
	curl -s -o /dev/null -m 10 --resolve "localhost:$tport:127.0.0.1" "$u"; rc=$?
	[ "$rc" = 60 ] && pass "TLS: a client that does not trust the CA refuses the server (curl exit 60)" ||
		fail "TLS without the CA: curl exit $rc"
	got=$(code -u prometheus:scrape-me "$u")
	[ "$got" = 200 ] && pass "TLS + basic auth: still serving the good scraper after the refusals" ||
		fail "after the refusals: $got"
	# the containers served now (the released one's report is out: it is gone)
	ncont=$(grep -c '^vfiopin_container_info{' "$tmp/body")

	# Debian's Prometheus: a job with the password, one with a wrong one, one in plain HTTP
	if command -v prometheus > /dev/null; then
		job() {
			echo "  - job_name: $1"
			[ "$1" = plain ] || {
				echo "    scheme: https"
				echo "    tls_config: {ca_file: $W/ca.crt, server_name: localhost}"
				echo "    basic_auth: {username: prometheus, password: $2}"
			}
			echo "    static_configs: [{targets: ['127.0.0.1:$tport']}]"
		}
		{
			echo "global: {scrape_interval: 1s, scrape_timeout: 1s}"
			echo "scrape_configs:"
			job good scrape-me
			job bad guess
			job plain
		} > "$tmp/prom.yml"
		pport=$((20000 + RANDOM % 20000))
		prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" \
			--web.listen-address="127.0.0.1:$pport" > "$tmp/prom.log" 2>&1 &
		prom=$!
		# q QUERY: "JOB=VALUE ..." of an instant query, sorted
		q() {
			curl -s --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
				python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(" ".join(sorted(x["metric"].get("job", "") + "=" + x["value"][1] for x in r)))' 2> /dev/null
		}
		# until every job was scraped at least once and the good one's series are in (a minute at most)
		for _ in $(seq 120); do
			[ "$(q 'count by (job) (up)')" = "bad=1 good=1 plain=1" ] &&
				[ -n "$(q 'count(vfiopin_container_info)')" ] && break
			sleep 0.5
		done
		got=$(q up)
		[ "$got" = "bad=0 good=1 plain=0" ] &&
			pass "Prometheus over TLS with basic_auth: up; the wrong password and plain HTTP down ($got)" ||
			fail "Prometheus: up is '$got' (its log: $(tail -2 "$tmp/prom.log"))"
		got=$(q 'count by (job) (vfiopin_container_info)')
		[ "$got" = "good=$ncont" ] &&
			pass "Prometheus: the $ncont containers curl got arrived, from the authenticated job only" ||
			fail "Prometheus: vfiopin_container_info by job: '$got'"
		kill $prom
		wait $prom 2> /dev/null
	else
		skip "prometheus not installed"
	fi

	# the slow-client attack on the TLS port, handshakes trickled too
	if out=$(python3 tests/host/slow_clients.py "$tport" --clients 40 --seconds 20 --pid $tls_pid \
		--tls "$W/ca.crt" --auth prometheus:scrape-me); then
		pass "TLS: 40 slow clients (half in the handshake) for 20 s: every scrape served ($out)"
	else
		fail "TLS: slow clients: $out"
	fi
	# a password guesser: 16 clients with a wrong password as fast as answered
	if out=$(python3 tests/host/slow_clients.py "$tport" --clients 16 --seconds 10 \
		--tls "$W/ca.crt" --auth prometheus:scrape-me --flood prometheus:guess); then
		pass "TLS: 16 clients guessing passwords for 10 s: every scrape served ($out)"
	else
		fail "TLS: password guessers: $out"
	fi
	kill -TERM $tls_pid
	wait $tls_pid && pass "export_synth with TLS: clean exit under ASan/UBSan" ||
		fail "export_synth with TLS: exit $?: $(tail -20 "$tmp/err-tls")"
fi

# --- a client certificate, required and verified against the CA
synth build/export_synth-san mtls 5 0 0 "$W/mtls.yml"
mtls_pid=$!
mport=$(port_of mtls)
if [ -z "$mport" ]; then
	fail "webconfig: export_synth with client certificates did not start: $(cat "$tmp/err-mtls")"
else
	mcode() {
		curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" \
			--resolve "localhost:$mport:127.0.0.1" "$@" "https://localhost:$mport/metrics"
	}
	got=$(mcode --cert "$W/client.crt" --key "$W/client.key")
	[ "$got" = 200 ] && pass "client certificate signed by the CA: served (200)" ||
		fail "client certificate: $got"
	got=$(mcode)
	[ "$got" != 200 ] && pass "no client certificate: refused ($got)" || fail "no client certificate: served"
	got=$(mcode --cert "$W/intruder.crt" --key "$W/intruder.key")
	[ "$got" != 200 ] && pass "a client certificate of another CA: refused ($got)" ||
		fail "another CA's client certificate: served"
	got=$(mcode --cert "$W/client.crt" --key "$W/client.key")
	[ "$got" = 200 ] && pass "client certificates: still serving after the refusals" ||
		fail "client certificates, after the refusals: $got"
	kill -TERM $mtls_pid
	wait $mtls_pid || fail "export_synth with client certificates: exit $?: $(tail -20 "$tmp/err-mtls")"
fi
rm -rf "$tmp"
