#!/bin/bash
# make demo: a scripted VM with two mediated devices and one passthrough
# device that is hot-plugged and unplugged while pins come and go, with the
# vfio_type1 tracepoint stream shown live and a summary at the end.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

read -r -a EDU <<< "$(bind_edu)"
load_mpin
M1=$(create_mdev 1)
M2=$(create_mdev 2)
E=${EDU[0]}
echo "== lab: $(uname -r), mdevs $M1 $M2, passthrough $E"

trace_start
# Live stream, one line per event without the ftrace prefix; per-page events
# are counted in the summary rather than shown.
cat "$TRACEFS/trace_pipe" > "$OUT/demo-trace.txt" &
pipe=$!
tail -n +1 -f "$OUT/demo-trace.txt" | grep --line-buffered -vE 'vfio_type1_(un)?pin_page:' |
	sed -uE 's/^.*\] [^ ]+ +[0-9.]+: vfio_type1_/  /' &
show=$!

echo "== VM boots: 32 MiB guest RAM, RLIMIT_MEMLOCK exactly 32 MiB, two vGPU-like mdevs"
"$VMM" --mem 32M --memlock 32M \
	attach "$M1" attach "$M2" map 0 16M map 0x1000000 16M \
	pin "$M1" 0 64 pin "$M2" 0 16 pin "$M1" 0x1000000 32 sleep 300 status \
	attach "$E" sleep 300 status \
	unpin "$M1" 0 64 pin "$M2" 0x400000 8 \
	unmap 0x1000000 16M sleep 300 status \
	detach "$E" sleep 300 status \
	detach "$M2" unmap 0 16M detach "$M1" > "$OUT/demo-vmm.json" 2>&1
rc=$?
sleep 1
echo 0 > "$TRACEFS/events/vfio_type1/enable"
sleep 0.5
kill $pipe 2>/dev/null
sleep 0.5
kill $show $(jobs -p) 2>/dev/null

echo "== summary"
echo "  client exit status: $rc"
for e in container_open group_attach dma_map_begin pin_begin pin_page unpin_page account invalidate_begin replay_begin reaccount group_detach container_release; do
	printf '  %-18s %5d events\n' "$e" "$(grep -c " vfio_type1_$e: " "$OUT/demo-trace.txt")"
done
echo "  VmLck at each status step (kB): $(grep '"op":"status"' "$OUT/demo-vmm.json" | sed -E 's/.*"vmlck_kb":([0-9]+).*/\1/' | tr '\n' ' ')"
exit $rc
