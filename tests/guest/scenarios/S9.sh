# S9: several containers at once, interleaved.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S9 "several containers at once, interleaved"
local t
start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" map 0 $RAM pin "${M[0]}" 0 100 sleep 50 pin "${M[0]}" 0x100000 28 hold \
	unpin "${M[0]}" 0 100 unpin "${M[0]}" 0x100000 28 unmap 0 $RAM
start_vm b --mem $RAM --memlock $RAM attach "${M[1]}" attach "$E1" map 0 $RAM pin "${M[1]}" 0 200 hold \
	unpin "${M[1]}" 0 200 unmap 0 $RAM
start_vm c --mem 8M --memlock 8M attach "$E2" map 0 8M sleep 30 attach "${M[2]}" pin "${M[2]}" 0 32 hold \
	detach "$E2" unpin "${M[2]}" 0 32 unmap 0 8M
start_vm d --mem 4M --memlock 4M attach "${M[3]}" map 0 4M pin "${M[3]}" 0 7 pin "${M[3]}" 0 7 sleep 20 pin "${M[3]}" 0x10000 1 hold \
	unpin "${M[3]}" 0 7 unpin "${M[3]}" 0 7 unpin "${M[3]}" 0x10000 1 unmap 0 4M
want 512; checkpoint a 512
want $RAM_KB; checkpoint b $RAM_KB
want 8192; checkpoint c 8192
want 32; checkpoint d 32
local i cids=
for t in a b c d; do cids+="$(cid_of $t) "; done
check_eq @tp "S9: four distinct container ids" "$(tr ' ' '\n' <<< "$cids" | sort -u | grep -c .)" 4
i=0
for t in a b c d; do
	check_eq @tp "S9: $t: trace pins - unpins vs its mdev's driver count" \
		"$(pin_balance "$(cid_of $t)")" "$(mdev_counter "${M[$i]}" pinned)"
	check_vp "S9: $t: vfiopin: its container's references vs its mdev's driver count" \
		"$(mdev_counter "${M[$i]}" pinned)" -- vpc $t mdev.pin_refs
	check_vp "S9: $t: vfiopin: locked memory (kB) vs its VmLck" \
		"$(vmlck_kb "${VPID[$t]}")" -- vp_kb "tgid=${VPID[$t]}"
	i=$((i + 1))
done
SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)/$(mdev_counter "${M[1]}" pinned)/$(mdev_counter "${M[2]}" pinned)/$(mdev_counter "${M[3]}" pinned)"
for t in a b c d; do release $t; done
for t in a b c d; do finish $t; check_eq "S9: $t status" $? 0; done
for t in a b c d; do check_eq @tp "S9: $t account deltas sum to 0" "$(acct_kb "$(cid_of $t)")" 0; done
end_scenario
