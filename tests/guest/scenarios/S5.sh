# S5: passthrough hotplug and unplug while the mdev holds pins.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S5 "passthrough hotplug and unplug while the mdev holds pins"
start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" map 0 $RAM \
	pin "${M[0]}" 0 256 pin "${M[0]}" 0x400000 256 hold \
	attach "$E1" hold detach "$E1" hold attach "$E1" hold detach "$E1" hold \
	unpin "${M[0]}" 0 256 unpin "${M[0]}" 0x400000 256 unmap 0 $RAM detach "${M[0]}"
want 2048; checkpoint a 2048
release a
want $RAM_KB; checkpoint a $RAM_KB
check_vp "S5: vfiopin: passthrough pages with the device plugged" \
	$RAM_PAGES -- vpc a passthrough.pinned_pages
release a
want 2048; checkpoint a 2048
check_vp "S5: vfiopin: no passthrough pages once unplugged" 0 -- vpc a passthrough.pinned_pages
release a
want $RAM_KB; checkpoint a $RAM_KB
release a
want 2048; checkpoint a 2048
check_vp "S5: vfiopin: replays, reaccounts, peak locked pages" \
	"2 2 $RAM_PAGES" -- vpcs a passthrough.replays passthrough.reaccounts locked_peak_pages
check_vp "S5: vfiopin: no limit hit" 0 -- vpc a limit_hits
check_vp "S5: vfiopin: a replay per hotplug, each pinning all guest RAM" \
	"2 $((2 * RAM_PAGES))" -- vpcs a passthrough.replays passthrough.replay_pages
check_vp "S5: vfiopin: peak locked pages = VmLck's peak" $RAM_PAGES -- vpc a locked_peak_pages
SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)"
check_eq "S5: the mdev kept its pins through both hotplugs (driver)" "$(mdev_counter "${M[0]}" pinned)" 512
release a
finish a; check_eq "S5: client status" $? 0
local c; c=$(cid_of a)
check_eq @tp "S5: no limit hit" "$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep -c 'ret=-12')" 0
check_eq @tp "S5: running locked_vm never above the limit (peak pages)" "$(peak_locked "$c")" $RAM_PAGES
check_eq @tp "S5: replays and reaccounts" "$(count_ev "$c" replay_end) $(count_ev "$c" reaccount)" "2 2"
check_eq @tp "S5: charges = mdev pins + two replays of what the mdev did not hold (pages)" \
	"$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep 'ret=0' |
		awk '{for(i=1;i<=NF;i++) if($i~/^delta=[0-9]/){split($i,a,"=");s+=a[2]}} END{print s}')" \
	$((512 + 2 * (RAM_PAGES - 512)))
# a detached device frees its slot in the client: 20 hotplug cycles
# (more than the client's 16 slots) in one VM, its memory mapped each time
local cyc=() rc
for _ in $(seq 20); do cyc+=(attach "$E1" map 0 1M detach "$E1"); done
"$VMM" --mem 1M --memlock 1M "${cyc[@]}" status > "$OUT/s5-cycles.json" 2>&1
rc=$?
check_eq "S5: 20 hotplug cycles of one device in one client (status, attaches)" \
	"$rc $(grep -c '"op":"attach".*"ret":0,' "$OUT/s5-cycles.json")" "0 20"
end_scenario
