# S4: mdev hotplug and unplug while passthrough exists.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S4 "mdev hotplug and unplug while passthrough exists"
start_vm a --mem $RAM --memlock $RAM attach "$E1" map 0 $RAM hold \
	attach "${M[0]}" pin "${M[0]}" 0 256 pin "${M[0]}" 0 256 hold \
	detach "${M[0]}" hold \
	attach "${M[0]}" pin "${M[0]}" 0x100000 64 detach "${M[0]}" \
	unmap 0 $RAM detach "$E1"
want $RAM_KB; checkpoint a $RAM_KB
release a
want $RAM_KB; checkpoint a $RAM_KB
SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)"
check_eq "S4: driver pinned after hotplug" "$(mdev_counter "${M[0]}" pinned)" 512
release a
want $RAM_KB; checkpoint a $RAM_KB
check_eq "S4: unplug released the mdev's pins (driver)" "$(mdev_counter "${M[0]}" pinned)" 0
local c; c=$(cid_of a)
check_eq @tp "S4: trace pins - unpins after unplug" "$(pin_balance "$c")" 0
check_eq @tp "S4: emulated attaches/detaches so far" "$(count_ev "$c" group_attach) $(count_ev "$c" group_detach)" "2 1"
release a
finish a; check_eq "S4: client status" $? 0
check_eq @tp "S4: peak locked_vm (pages) never above the limit" "$(( $(peak_locked "$c") <= RAM_PAGES ))" 1
end_scenario
