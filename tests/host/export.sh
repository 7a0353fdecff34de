# Host tier, sourced by run.sh: `vfiopin export`'s HTTP server and its
# exposition over 1,000 synthetic containers (build/export_synth-san: the
# real loader, maps and server under ASan + UBSan), checked against what
# the synthetic events put in (tests/host/bench/synth.h), by
# tests/promcheck.py and by promtool; the Prometheus rules (promtool) and
# the Grafana dashboard (tests/dashcheck.py) against that exposition.

V=build/vfiopin
expect_fail "vfiopin export: --listen without a port" "is not ADDR:PORT" $V export --listen localhost
expect_fail "vfiopin export: --listen port out of range" "port must be 0..65535" \
	$V export --listen 127.0.0.1:70000
expect_fail "vfiopin export: --listen a host name" "not a numeric IPv4 or IPv6 address" \
	$V export --listen example.org:9739
expect_exit "vfiopin export: --listen with a space before the port" 2 "the port must be 0..65535" \
	$V export --listen '127.0.0.1: 80'
expect_exit "vfiopin export: --listen with a signed port" 2 "the port must be 0..65535" \
	$V export --listen '127.0.0.1:+80'
expect_fail "vfiopin export: -o does not apply" "serves over HTTP; -o does not apply" $V export -o /tmp/x
expect_exit "vfiopin export: --keep-released negative" 2 "takes a number of seconds \\(0 or more\\), not .-1." \
	$V export --keep-released -1
expect_exit "vfiopin export: --keep-released not a number" 2 "takes a number of seconds \\(0 or more\\), not .2m." \
	$V export --keep-released 2m

tmp=$(mktemp -d)
get() { python3 tests/promcheck.py "$tmp/$1" --get "$2" | awk '{print $NF}'; }
expect_value() {
	local file=$1 sel=$2 want=$3 got
	got=$(get "$file" "$sel")
	[ "$got" = "$want" ] && pass "export: $sel = $want" || fail "export: $sel = '$got', want $want"
}
# synth BINARY TAG ARGS...: start an exporter over synthetic containers in
# the background ($! its pid), its "port" line in $tmp/port-TAG once it serves
synth() {
	local bin=$1 tag=$2
	shift 2
	"$bin" "$@" > "$tmp/port-$tag" 2> "$tmp/err-$tag" &
}
# port_of TAG: that exporter's port, once it says (2 min at most)
port_of() {
	for _ in $(seq 600); do
		[ -s "$tmp/port-$1" ] && break
		sleep 0.2
	done
	awk '/^port/{print $2}' "$tmp/port-$1"
}
synth build/export_synth-san main 1000
synth=$!
port=$(port_of main)
# container 500's owner: a synthetic pid no process can have (synth.h)
t500=$(($(awk '/^tgid_base/{print $2}' "$tmp/port-main") + 500))
if [ -z "$port" ]; then
	fail "export_synth did not start: $(cat "$tmp/err-main")"
else
	url=http://127.0.0.1:$port
	# a port in use is found before anything is loaded
	expect_fail "vfiopin export: port in use" "cannot listen on 127.0.0.1:$port: Address already in use" \
		$V export --listen 127.0.0.1:"$port"

	# the first scrape: status, Content-Type, structure, promtool
	ct=$(curl -s -o "$tmp/m1" -w '%{http_code} %{content_type}' "$url/metrics")
	[ "$ct" = "200 text/plain; version=0.0.4; charset=utf-8" ] &&
		pass "export: /metrics 200 with the 0.0.4 Content-Type" || fail "export: /metrics: $ct"
	out=$(python3 tests/promcheck.py "$tmp/m1") &&
		pass "export: exposition structure ($out)" || fail "export: promcheck: $out"
	out=$(promtool check metrics < "$tmp/m1" 2>&1) &&
		pass "export: promtool check metrics" || fail "export: promtool: $out"

	# values against what the synthetic events put in
	expect_value m1 'vfiopin_containers' 1000
	# per container its own charge; per VM (owner) the process's figures
	expect_value m1 'vfiopin_charged_bytes{cid="500"}' $((16 * 4096))
	expect_value m1 "vfiopin_vm_locked_bytes{tgid=\"$t500\"}" $((16 * 4096))
	expect_value m1 "vfiopin_vm_limit_bytes{tgid=\"$t500\"}" $((64 << 20))
	expect_value m1 "vfiopin_vm_headroom_bytes{tgid=\"$t500\"}" $(((64 << 20) - 16 * 4096))
	expect_value m1 "vfiopin_vm_headroom_ratio{tgid=\"$t500\"}" 0.9990234375
	expect_value m1 "vfiopin_vm_needed_limit_bytes{tgid=\"$t500\"}" $((16 * 4096))
	# containers 1 and 3 have one owner: one VM, their charges added, once
	expect_value m1 "vfiopin_vm_containers{tgid=\"$synth\"}" 2
	expect_value m1 "vfiopin_vm_locked_bytes{tgid=\"$synth\"}" $((2 * 16 * 4096))
	expect_value m1 'vfiopin_vms' 999
	# what identifies a series on it, what describes it said once: the info series
	expect_value m1 "vfiopin_container_info{cid=\"500\",tgid=\"$t500\"}" 1
	expect_value m1 "vfiopin_vm_info{tgid=\"$synth\"}" 1
	grep -qx "vfiopin_charged_bytes{cid=\"500\"} $((16 * 4096))" "$tmp/m1" &&
		grep -qx "vfiopin_vm_locked_bytes{tgid=\"$synth\"} $((2 * 16 * 4096))" "$tmp/m1" &&
		pass "export: a container series is labelled cid alone, a VM series tgid alone" ||
		fail "export: label sets: $(grep -m1 '^vfiopin_charged_bytes{' "$tmp/m1"); $(grep -m1 '^vfiopin_vm_locked_bytes{' "$tmp/m1")"
	expect_value m1 'vfiopin_pin_calls_total{cid="500"}' 4
	expect_value m1 'vfiopin_pins_total{cid="500"}' 10
	# latency histograms are host-wide by default: 4 pin calls in each of 1000
	expect_value m1 'vfiopin_pin_duration_seconds_count' 4000
	expect_value m1 'vfiopin_pin_duration_seconds_bucket{le="+Inf"}' 4000
	if grep -q '^vfiopin_container_pin_duration_seconds' "$tmp/m1"; then
		fail "export: per-container latency histograms served without --container-histograms"
	else
		pass "export: no per-container latency histograms by default"
	fi
	expect_value m1 'vfiopin_events_total{event="pin_page"}' 16000
	# a quote, a backslash and a newline in a comm, escaped
	expect_value m1 'vfiopin_charged_bytes{cid="1",comm="q\"b\\s\nx"}' 65536
	expect_value m1 'vfiopin_container_released{cid="2"}' 1
	# a container first seen mid-life says so; the others were seen whole
	expect_value m1 'vfiopin_container_seen_from_open{cid="4"}' 0
	expect_value m1 'vfiopin_container_seen_from_open{cid="5"}' 1
	# gzip to a scraper that asks for it, the same exposition once inflated
	curl -s -H 'Accept-Encoding: gzip' -D "$tmp/h" -o "$tmp/mz" "$url/metrics"
	gzip -dc < "$tmp/mz" > "$tmp/mz.txt" 2> /dev/null
	if grep -qi '^content-encoding: gzip' "$tmp/h" &&
		[ "$(get mz.txt 'vfiopin_charged_bytes{cid="500"}')" = $((16 * 4096)) ]; then
		pass "export: gzip when accepted ($(stat -c %s "$tmp/mz") bytes)"
	else
		fail "export: no gzip response to Accept-Encoding: gzip"
	fi
	# the released container was served once; now it is gone
	curl -s -o "$tmp/m2" "$url/metrics"
	if ! grep -q 'cid="2"' "$tmp/m2" && grep -q 'cid="3"' "$tmp/m2"; then
		pass "export: a released container is served once, then dropped"
	else
		fail "export: container 2 still served after its release was reported"
	fi
	expect_value m2 'vfiopin_retired_containers_total' 1
	expect_value m2 'vfiopin_containers' 999

	# other paths and methods
	code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
	[ "$(code "$url/healthz")" = 200 ] && pass "export: /healthz 200" || fail "export: /healthz"
	[ "$(code "$url/")" = 404 ] && pass "export: / is 404" || fail "export: / not 404"
	[ "$(code "$url/metrics/x")" = 404 ] && pass "export: /metrics/x is 404" || fail "export: /metrics/x"
	[ "$(code --path-as-is "$url/metrics%00.txt")" = 404 ] && pass "export: /metrics%00.txt is 404, not /metrics" ||
		fail "export: /metrics%00.txt served"
	[ "$(code -X POST -d x=1 "$url/metrics")" = 405 ] && pass "export: POST is 405" ||
		fail "export: POST not 405"
	c=$(code -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$url/metrics")
	[ "${c:0:1}" = 4 ] && pass "export: an oversized request gets $c" || fail "export: oversized request: $c"
	c=$(exec 3<>/dev/tcp/127.0.0.1/"$port"; printf 'NOT HTTP AT ALL\r\n\r\n' >&3;
	    timeout 5 head -1 <&3 | tr -d '\r')
	[[ $c == "HTTP/1.1 400"* ]] && pass "export: a malformed request gets '$c'" ||
		fail "export: malformed request: '$c'"
	[ "$(code "$url/healthz")" = 200 ] && pass "export: still serving after bad requests" ||
		fail "export: not serving after bad requests"

	# concurrent scrapes are all served whole
	pids=()
	for i in 1 2 3 4 5 6; do
		curl -s -o "$tmp/c$i" -w '%{http_code}\n' "$url/metrics" > "$tmp/c$i.code" &
		pids+=($!)
	done
	wait "${pids[@]}"
	n=0
	for i in 1 2 3 4 5 6; do
		[ "$(cat "$tmp/c$i.code")" = 200 ] && [ "$(tail -c 1 "$tmp/c$i" | od -An -c | tr -d ' ')" = '\n' ] &&
			cmp -s <(grep -v exporter_last_render "$tmp/c$i") <(grep -v exporter_last_render "$tmp/m2") &&
			n=$((n + 1))
	done
	[ $n = 6 ] && pass "export: 6 concurrent scrapes, all whole and equal" ||
		fail "export: only $n of 6 concurrent scrapes whole and equal"

	# 40 clients trickling a header a byte every 2-8 s hold no thread and
	# no slot for long: every scrape beside them is served
	if out=$(python3 tests/host/slow_clients.py "$port" --clients 40 --seconds 20 --pid $synth); then
		pass "export: 40 slow clients for 20 s: every scrape served ($out)"
	else
		fail "export: slow clients: $out"
	fi

	# the rules and the dashboard, against this exposition
	out=$(promtool check rules dashboards/prometheus/vfiopin-rules.yml 2>&1) &&
		pass "promtool check rules: $(grep -o 'SUCCESS.*' <<< "$out")" || fail "promtool check rules: $out"
	out=$(cd dashboards/prometheus && promtool test rules vfiopin-rules.test.yml 2>&1) &&
		pass "promtool test rules (alerts on synthetic series)" || fail "promtool test rules: $out"
	out=$(python3 tests/dashcheck.py dashboards/grafana/vfiopin.json \
		dashboards/prometheus/vfiopin-rules.yml "$tmp/m1" "$tmp") &&
		pass "grafana dashboard: $out" || fail "grafana dashboard: $out"

	kill -TERM $synth
	wait $synth && pass "export_synth: clean exit under ASan/UBSan" ||
		fail "export_synth: exit $?: $(tail -20 "$tmp/err-main")"
fi

# --keep-released 0: only a response sent in full reports a release; a HEAD
# or a GET whose client goes away unread does not use up its one report
synth build/export_synth-san 0 16 0 0
pid=$!
p0=$(port_of 0)
curl -s -I "http://127.0.0.1:$p0/metrics" > /dev/null
python3 - "$p0" << 'PY'
import socket, struct, sys
for linger in (False, True):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    # the request and the close in one segment: gone before it is answered
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    if linger:  # closed with a reset, the response unsent
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    s.close()
PY
curl -s -o "$tmp/k0-a" "http://127.0.0.1:$p0/metrics"
curl -s -o "$tmp/k0-b" "http://127.0.0.1:$p0/metrics"
expect_value k0-a 'vfiopin_container_released{cid="2"}' 1
# a target too long to be a scrape is answered 414 at once, not left to time out
c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p0/metrics?$(printf 'a=b&%.0s' $(seq 3800))")
[ "$c" = 414 ] && pass "export: a 15 KB query of 3,800 arguments gets 414" || fail "export: long query: '$c'"
# the absolute form (RFC 9112): the path after the authority
c=$(curl -s -o /dev/null -w '%{http_code}' --request-target "http://127.0.0.1:$p0/metrics" "http://127.0.0.1:$p0/")
[ "$c" = 200 ] && pass "export: GET http://HOST/metrics is /metrics" || fail "export: absolute-form target: $c"
c=$(curl -s -o /dev/null -w '%{http_code}' --request-target "http://127.0.0.1:$p0/nothing" "http://127.0.0.1:$p0/")
[ "$c" = 404 ] && pass "export: GET http://HOST/nothing is 404" || fail "export: absolute-form /nothing: $c"
# one client holding 1,100 connections and reopening them: its own are
# limited, every scrape from another address is served
if out=$(python3 tests/host/unread_clients.py "$p0" --clients 1100 --sources 1 --seconds 10 \
	--pid $pid --max-growth-mb 1000); then
	pass "export: one client with 1,100 connections: every other scrape served ($out)"
else
	fail "export: one client's flood: $out"
fi
grep -q 'cid="2"' "$tmp/k0-b" && fail "export: container 2 served again after a full response" ||
	pass "export: --keep-released 0: reported by the first response sent in full, then gone"
kill -TERM $pid
wait $pid && pass "export_synth --keep-released 0: clean exit under ASan/UBSan" ||
	fail "export_synth --keep-released 0: exit $?: $(tail -20 "$tmp/err-0")"

# 1,000 connections that ask for /metrics over 1,000 containers and never
# read: the renderings they hold are shared and bounded (the plain build:
# ASan's quarantine would hide what the exporter itself keeps)
synth build/export_synth u 1000
pid=$!
if out=$(python3 tests/host/unread_clients.py "$(port_of u)" \
	--clients 1000 --seconds 15 --pid $pid --max-growth-mb 64); then
	pass "export: 1000 unread responses: peak RSS bounded, every scrape served ($out)"
else
	fail "export: unread responses: $out"
fi
kill -TERM $pid
wait $pid || fail "export_synth under unread clients: exit $?: $(tail -5 "$tmp/err-u")"

# --keep-released: every scraper sees a released container for that long
# (two scrapers here, an HA pair), then it goes.  KEEP 600: the two scrapes
# fall within it however slow the machine; KEEP 1: polled until it is gone.
for keep in 600 1; do
	synth build/export_synth-san $keep 16 0 $keep
	pid=$!
	url=http://127.0.0.1:$(port_of $keep)
	curl -s -o "$tmp/k$keep-a" "$url/metrics"
	curl -s -o "$tmp/k$keep-b" "$url/metrics"
	if [ $keep = 600 ]; then
		expect_value k600-a 'vfiopin_container_released{cid="2"}' 1
		expect_value k600-b 'vfiopin_container_released{cid="2"}' 1
		expect_value k600-b 'vfiopin_retired_containers_total' 0
	else
		expect_value k1-a 'vfiopin_container_released{cid="2"}' 1
		gone=0
		for i in $(seq 240); do
			curl -s -o "$tmp/k1-c" "$url/metrics"
			grep -q 'cid="2"' "$tmp/k1-c" || { gone=$i; break; }
			sleep 0.5
		done
		[ $gone -gt 0 ] && pass "export: --keep-released 1: container 2 gone after it ($gone polls)" ||
			fail "export: --keep-released 1: container 2 still served after 240 polls"
		expect_value k1-c 'vfiopin_retired_containers_total' 1
		expect_value k1-c 'vfiopin_charged_bytes{cid="3"}' $((16 * 4096))
	fi
	kill -TERM $pid
	wait $pid && pass "export_synth --keep-released $keep: clean exit under ASan/UBSan" ||
		fail "export_synth --keep-released $keep: exit $?: $(tail -20 "$tmp/err-$keep")"
done
rm -rf "$tmp"
