#!/bin/bash
# What attaching vfiopin costs the pin path: the same pin/unpin loop through
# an mpin device with vfiopin's programs attached and not, alternated in one
# run (ABBA rounds), for 512-page and 1-page calls.  Reports the throughput
# ratio attached / not attached per call size in $OUT/bench-overhead.json.
# A benchmark: nothing here is asserted about time.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-4}
VFIOPIN=$TOP/build/vfiopin
load_mpin
M1=$(create_mdev 1)

# cycle_ns NPAGES COUNT: the client's own time for COUNT pin+unpin pairs
cycle_ns() {
	"$VMM" --mem 4M --memlock 4M attach "$M1" map 0 4M cycle "$M1" 0 "$1" "$2" \
		unmap 0 4M detach "$M1" | sed -nE 's/.*"op":"cycle".*"ns":([0-9]+).*"ret":0.*/\1/p'
}
attached() {
	"$VFIOPIN" stat -d 3600 > /dev/null 2> /tmp/bench-vp.err &
	VP=$!
	for _ in $(seq 200); do grep -q 'attached to' /tmp/bench-vp.err && break; sleep 0.05; done
	grep -q 'attached to' /tmp/bench-vp.err || die "vfiopin did not attach: $(cat /tmp/bench-vp.err)"
	local ns; ns=$(cycle_ns "$@")
	kill -INT $VP; wait $VP
	echo "$ns"
}

cases=
for spec in "512 20" "1 2000"; do
	read -r npages count <<< "$spec"
	off=() on=()
	cycle_ns "$npages" 2 > /dev/null # warm up
	for ((r = 0; r < ROUNDS; r++)); do
		if ((r % 2)); then
			on+=("$(attached "$npages" "$count")")
			off+=("$(cycle_ns "$npages" "$count")")
		else
			off+=("$(cycle_ns "$npages" "$count")")
			on+=("$(attached "$npages" "$count")")
		fi
	done
	for v in "${off[@]}" "${on[@]}"; do [ -n "$v" ] || die "a benchmark loop failed"; done
	cases+=$(python3 - "$npages" "$count" "${off[*]}" "${on[*]}" <<'EOF'
import json, statistics, sys
npages, count = int(sys.argv[1]), int(sys.argv[2])
off = [int(x) for x in sys.argv[3].split()]
on = [int(x) for x in sys.argv[4].split()]
calls = 2 * count
print(json.dumps({
    "npages": npages, "pin_unpin_pairs": count,
    "detached_ns": off, "attached_ns": on,
    "detached_calls_per_s": calls / (statistics.median(off) / 1e9),
    "attached_calls_per_s": calls / (statistics.median(on) / 1e9),
    "throughput_ratio": statistics.median(off) / statistics.median(on),
}) + ",")
EOF
)
done
cat > "$OUT/bench-overhead.json" <<EOF
{"bench":"vfiopin-overhead","kernel":"$(uname -r)","cpus":$(nproc),"rounds":$ROUNDS,
 "note":"throughput_ratio = median time detached / median time attached (1.0 = no cost); TCG-emulated lab",
 "cases":[${cases%,}]}
EOF
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print("ok: %d-page calls: attached/detached throughput %.3f" % (c["npages"], c["throughput_ratio"])) for c in d["cases"]]' "$OUT/bench-overhead.json"
