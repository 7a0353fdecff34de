#!/bin/bash
# `vfiopin capture` around the scenario matrix's two hotplug scenarios,
# S4 (an mdev hot-plugged and unplugged while a passthrough device is
# there) and S5 (a passthrough device hot-plugged and unplugged twice while
# the mdev holds pins): the phases come out in the order the client did
# things, the totals equal the client's own counts and VmLck, the plot is
# drawn, --report renders the same again, and a failing COMMAND's status
# is passed on with the capture still written.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

V=$TOP/build/vfiopin
RAM=16M RAM_KB=16384
load_mpin
M1=$(create_mdev 1)
read -r E1 _ <<< "$(bind_edu)"

# q DIR CLIENT-JSON QUERY: a named figure of the capture in DIR for the
# container of the client's pid, or of the client's own step lines
# (tests/guest/vpq.py capture lists them)
q() {
	python3 "$TOP/tests/guest/vpq.py" capture "$1" "$2" "$3"
}

# scenario NAME EXPECTED-PHASES CLIENT-ARGS...
scenario() {
	local name=$1 want=$2 dir=$OUT/capture-$1
	shift 2
	rm -rf "$dir"
	"$V" capture -D "$dir" -- "$VMM" "$@" > "$OUT/capture-$name-vm.json" 2> "$OUT/capture-$name.err"
	check_eq "$name: capture exit status (the client's)" $? 0
	local vmj=$OUT/capture-$name-vm.json
	check_cmd "$name: perf.data written" test -s "$dir/perf.data"
	check_eq "$name: phases in order" "$(q "$dir" "$vmj" phases)" "$want"
	check_eq "$name: pin calls, pages = the client's" \
		"$(q "$dir" "$vmj" pins)" \
		"$(q "$dir" "$vmj" client-pins)"
	check_eq "$name: unpinned pages = the client's + the driver's on close" \
		"$(q "$dir" "$vmj" unpin-pages)" \
		"$(q "$dir" "$vmj" client-pages-pinned)"
	check_eq "$name: locked peak = the client's highest VmLck (kB)" \
		"$(q "$dir" "$vmj" locked-peak-kb)" \
		"$(q "$dir" "$vmj" client-vmlck-peak-kb)"
	check_eq "$name: released with nothing locked or leaked" \
		"$(q "$dir" "$vmj" end)" "(True, 0, 0)"
	local svg=$dir/capture.svg
	if [ -s "$svg" ] && grep -q '<svg' "$svg" && [ "$(grep -c '<path' "$svg")" -ge 4 ] &&
		[ "$(stat -c %s "$svg")" -gt 5000 ]; then
		pass "$name: capture.svg drawn ($(stat -c %s "$svg") bytes)"
	else
		fail "$name: capture.svg missing or empty: $(cat "$dir/gnuplot.err" 2> /dev/null)"
	fi
	grep -q "^container .*(owner tgid $(q "$dir" "$vmj" pid))" "$dir/timeline.txt" &&
		pass "$name: timeline.txt names the client's container" ||
		fail "$name: timeline.txt: $(head -5 "$dir/timeline.txt")"
}

# S4: passthrough first (MAP_DMA pins and maps into the IOMMU), then the
# mdev comes (attach), pins, goes (its driver unpins on close, detach),
# comes back, pins, goes; unmap; the last group leaves (detach).
scenario S4 "attach map attach pins detach attach pins detach unmap detach" \
	--mem $RAM --memlock $RAM attach "$E1" map 0 $RAM \
	attach "$M1" pin "$M1" 0 256 pin "$M1" 0 256 detach "$M1" \
	attach "$M1" pin "$M1" 0x100000 64 detach "$M1" unmap 0 $RAM detach "$E1"
check_eq "S4: IOMMU maps during MAP_DMA (a domain exists)" \
	"$(q "$OUT/capture-S4" "$OUT/capture-S4-vm.json" map-iommu-maps)" True

# S5: mdev only (map pins nothing), pins; the passthrough device comes:
# replay pins what the mdev does not hold and maps it (replay, attach);
# it goes (detach): type1 unmaps and unpins the domain's pages (unmap) and
# leaves only the vendor's pins charged (reaccount); twice.  The unmap
# at the end removes the mapping (no domain to unmap from).
scenario S5 "attach map pins replay attach detach unmap reaccount replay attach detach unmap reaccount pins unmap detach" \
	--mem $RAM --memlock $RAM attach "$M1" map 0 $RAM \
	pin "$M1" 0 256 pin "$M1" 0x400000 256 \
	attach "$E1" detach "$E1" attach "$E1" detach "$E1" \
	unpin "$M1" 0 256 unpin "$M1" 0x400000 256 unmap 0 $RAM detach "$M1"
check_eq "S5: two replays, two reaccounts" \
	"$(q "$OUT/capture-S5" "$OUT/capture-S5-vm.json" replays-reaccounts)" "(2, 2)"
check_eq "S5: replay pinned what the mdev did not hold (pages)" \
	"$(q "$OUT/capture-S5" "$OUT/capture-S5-vm.json" replay-pages)" \
	"[$((RAM_KB / 4)), $((RAM_KB / 4))]"
check_eq "S5: IOMMU maps during the replays" \
	"$(q "$OUT/capture-S5" "$OUT/capture-S5-vm.json" replay-iommu-maps)" True

# --report renders the same from perf.data
cp "$OUT/capture-S5/timeline.txt" /tmp/timeline-1.txt
rm "$OUT/capture-S5/timeline.txt" "$OUT/capture-S5/capture.svg"
"$V" capture --report "$OUT/capture-S5" 2> /dev/null
check_cmd "capture --report: the same timeline again" cmp -s /tmp/timeline-1.txt "$OUT/capture-S5/timeline.txt"
check_cmd "capture --report: the plot again" test -s "$OUT/capture-S5/capture.svg"

# a failing command: its status, and the capture still written
rm -rf "$OUT/capture-fail"
"$V" capture -D "$OUT/capture-fail" -- "$VMM" --mem 4M attach "$M1" map 0 4M pin=ENOENT "$M1" 0 1 \
	> /dev/null 2> "$OUT/capture-fail.err"
check_eq "capture: a failing COMMAND's exit status is passed on" $? 1
check_cmd "capture: written anyway" test -s "$OUT/capture-fail/timeline.txt"
summary
