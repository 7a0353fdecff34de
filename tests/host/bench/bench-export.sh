#!/bin/bash
# What a scrape of `vfiopin export` costs with N containers (default 1,000):
# the exporter's HTTP server over synthetic containers (export_synth, the
# real loader, maps and rendering), scraped REPEAT times in a row; the
# median and max scrape time as curl sees it, the response size, and the
# exporter's resident memory (VmRSS now, VmHWM peak); then scrapes during a
# slow-client attack, with the RSS before and after.  Writes JSON lines.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
n=${1:-1000} repeat=${2:-20}
tmp=$(mktemp -d)
trap 'kill $pid 2> /dev/null; rm -rf "$tmp"' EXIT
"$TOP/build/export_synth" "$n" > "$tmp/port" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.2; done
port=$(awk '/^port/{print $2}' "$tmp/port")
[ -n "$port" ] || { echo "bench-export: export_synth did not start" >&2; exit 1; }
read_rss() { awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r, h}' "/proc/$pid/status"; }
# one JSON line per encoding: plain, then gzip as Prometheus asks for it
for enc in identity gzip; do
	for _ in $(seq "$repeat"); do
		curl -s -H "Accept-Encoding: $enc" -o "$tmp/m" \
			-w '%{time_total} %{size_download}\n' "http://127.0.0.1:$port/metrics"
	done > "$tmp/times"
	read -r rss hwm < <(read_rss)
	sort -n "$tmp/times" | awk -v n="$n" -v rss="$rss" -v hwm="$hwm" -v enc="$enc" '
		{ t[NR] = $1; size = $2 }
		END {
			printf "{\"bench\":\"vfiopin-export-scrape\",\"encoding\":\"%s\",", enc
			printf "\"containers\":%d,\"scrapes\":%d,", n, NR
			printf "\"scrape_s_median\":%.4f,\"scrape_s_max\":%.4f,", t[int((NR + 1) / 2)], t[NR]
			printf "\"response_bytes\":%d,\"rss_kib\":%d,\"max_rss_kib\":%d}\n", size, rss, hwm
		}'
done
# the same server under a 60 s slow-client attack (tests/host/slow_clients.py)
python3 "$TOP/tests/host/slow_clients.py" "$port" --clients "${SLOW_CLIENTS:-40}" \
	--seconds "${SLOW_SECONDS:-60}" --pid "$pid"
