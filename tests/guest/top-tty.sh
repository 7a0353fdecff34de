#!/bin/bash
# vfiopin-top in a real terminal (tmux): the live screen shows the VM's row
# with the figures its process and the mpin driver give independently, the
# histogram view opens, a too-small terminal gets a message, q quits.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

command -v tmux > /dev/null || die "tmux is missing ('make deps')"
load_mpin
M1=$(create_mdev 1)
export TERM=xterm
S=vptop
# OUT outlives a run (build/lab-top-tty/): no exit status of an earlier one
rm -f "$OUT"/top-*.exit "$OUT"/top-*.err
tmux -f /dev/null new-session -d -s $S -x 150 -y 40 \
	"$TOP/build/vfiopin-top -i 0.5 -s locked 2> $OUT/top-tty.err; echo \$? > $OUT/top-tty.exit"
screen() { tmux capture-pane -p -t $S; }
# wait_screen PATTERN: until the screen shows it (2 min at most)
wait_screen() {
	for _ in $(seq 1200); do
		screen | grep -qE "$1" && return 0
		sleep 0.1
	done
	return 1
}
# wait_screen_gone PATTERN: until the screen no longer shows it
wait_screen_gone() {
	for _ in $(seq 1200); do
		screen | grep -qE "$1" || return 0
		sleep 0.1
	done
	return 1
}
check_cmd "vfiopin-top starts on a terminal" wait_screen 'CID +TGID +COMM +LOCKED'

rm -f /tmp/vm.in
mkfifo /tmp/vm.in
"$VMM" --mem 16M --memlock 16M attach "$M1" map 0 16M pin "$M1" 0 256 pin "$M1" 0 16 hold \
	unmap 0 16M detach "$M1" < /tmp/vm.in > "$OUT/top-tty-vm.json" 2>&1 &
vm=$!
exec 7> /tmp/vm.in
for _ in $(seq 2400); do grep -q holding "$OUT/top-tty-vm.json" && break; sleep 0.05; done
kb=$(vmlck_kb $vm)
check_eq "the VM holds its pins (VmLck kB)" "$kb" 1024
# the row as it settles once the VM holds (a snapshot taken while it was
# still pinning shows less); the checks below say what differs if it never does
wait_screen "^ *[0-9]+ +$vm +vfiopin-vmm +1\.0M " ||
	wait_screen "^ *[0-9]+ +$vm +vfiopin-vmm"
screen > "$OUT/top-tty-1.txt"
# the VM's row: TGID COMM VM CTRS LOCKED PEAK LIMIT HITS PTx NEED
row=$(grep -E "^ *$vm +vfiopin-vmm" "$OUT/top-tty-1.txt")
read -r -a f <<< "$row"
check_eq "top: the VM row (no -name, 1 container, locked = VmLck, limit, no hits, no passthrough, need = VmLck)" \
	"${f[2]} ${f[3]} ${f[4]} ${f[6]} ${f[7]} ${f[8]} ${f[9]}" "- 1 1.0M 16M 0 0 1.0M"
# the container's row: CID TGID COMM LOCKED LIMIT HEAD% MDEV PT PINS/s P50 P99 INV HITS LEAK
row=$(grep -E "^ *[0-9]+ +$vm +vfiopin-vmm" "$OUT/top-tty-1.txt")
read -r -a f <<< "$row"
check_eq "top: locked vs VmLck ($kb kB)" "${f[3]}" "1.0M"
check_eq "top: limit (RLIMIT_MEMLOCK the VM set)" "${f[4]}" "16M"
check_eq "top: headroom %" "${f[5]}" "93.8"
check_eq "top: mdev pages vs the driver's distinct pages" "${f[6]}" "$(mdev_counter "$M1" pages)"
check_eq "top: no limit hits, no leaks" "${f[12]} ${f[13]}" "0 0"
grep -qE '^vfiopin-top +1 container +1 VM ' "$OUT/top-tty-1.txt" &&
	pass "top: header with totals" || fail "top: no header in: $(head -2 "$OUT/top-tty-1.txt")"

tmux send-keys -t $S v
check_cmd "top: v folds the containers away" wait_screen_gone 'CID +TGID +COMM +LOCKED'
tmux send-keys -t $S v
check_cmd "top: v shows them again" wait_screen 'CID +TGID +COMM +LOCKED'
tmux send-keys -t $S h
check_cmd "top: h opens the histograms" wait_screen 'pin latency per vfio_pin_pages call: 2 samples'
check_cmd "top: live refcounts in the histogram view" wait_screen 'ref_count of live pinned pages: 256 pages'
screen > "$OUT/top-tty-hist.txt"
tmux send-keys -t $S q
check_cmd "top: q leaves the histograms" wait_screen 'CID +TGID +COMM +LOCKED'

resize() { tmux resize-window -t $S -x $1 -y $2 2>/dev/null || tmux resize-pane -t $S -x $1 -y $2; }
resize 30 5
check_cmd "top: a too-small terminal says so" wait_screen 'too small'
# a key there opens nothing unseen: back at full size, the table, not histograms
tmux send-keys -t $S h
resize 150 40
check_cmd "top: back to the table after resizing" wait_screen 'CID +TGID +COMM +LOCKED'
wait_screen_gone 'pin latency per' && pass "top: h on the too-small screen opened nothing" ||
	fail "top: h on the too-small screen opened the histograms"
# the smallest screen it draws still shows a VM row and a container row
resize 40 10
wait_screen "^ *$vm[ ~]vfiopin-vmm" && wait_screen "^ *[0-9]+ +$vm +vfiopin-vmm" &&
	pass "top: at 40x10 a VM row and a container row" ||
	fail "top: at 40x10: $(screen)"
resize 150 40

echo go >&7
exec 7>&-
wait $vm
check_eq "the VM's exit status" $? 0
tmux send-keys -t $S q
for _ in $(seq 1200); do [ -s "$OUT/top-tty.exit" ] && break; sleep 0.1; done
check_eq "top: q quits with status 0" "$(cat "$OUT/top-tty.exit" 2>/dev/null)" 0
tmux kill-server 2>/dev/null

# a terminal ncurses cannot drive: the project's message, not ncurses' exit
tmux -f /dev/null new-session -d -s vpbad -x 100 -y 30 \
	"TERM=unknown $TOP/build/vfiopin-top 2> $OUT/top-bad.err; echo \$? > $OUT/top-bad.exit"
for _ in $(seq 1200); do [ -s "$OUT/top-bad.exit" ] && break; sleep 0.1; done
check_eq "top: TERM=unknown exits 1" "$(cat "$OUT/top-bad.exit" 2>/dev/null)" 1
grep -q "cannot initialise the terminal (TERM=unknown); use -b" "$OUT/top-bad.err" &&
	pass "top: TERM=unknown says to use -b" || fail "top: TERM=unknown: $(cat "$OUT/top-bad.err")"
# absurd sizes in the environment: the terminal's own are used
tmux -f /dev/null new-session -d -s $S -x 100 -y 30 \
	"COLUMNS=100000 LINES=100000 $TOP/build/vfiopin-top -i 0.5 2> $OUT/top-big.err; echo \$? > $OUT/top-big.exit"
check_cmd "top: COLUMNS=100000 LINES=100000 still draws the table" wait_screen 'CID +TGID +COMM +LOCKED'
tmux send-keys -t $S q
for _ in $(seq 1200); do [ -s "$OUT/top-big.exit" ] && break; sleep 0.1; done
check_eq "top: and quits with status 0" "$(cat "$OUT/top-big.exit" 2>/dev/null)" 0
tmux kill-server 2>/dev/null
summary
