# S7: SIGKILL of the VMM with pins outstanding.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S7 "SIGKILL of the VMM with pins outstanding"
# type1's module is held once per container using it: back to this once
# the VM's container is released (an oracle of the release on any kernel)
local refs0; refs0=$(cat /sys/module/vfio_iommu_type1/refcnt)
start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" attach "${M[1]}" attach "$E1" map 0 $RAM \
	pin "${M[0]}" 0 512 pin "${M[1]}" 0 512 pin "${M[1]}" 0x800000 100 hold hold
want $RAM_KB; checkpoint a $RAM_KB
local c; c=$(cid_of a)
check_eq "S7: pins outstanding before the kill (driver)" "$(( $(mdev_counter "${M[0]}" pinned) + $(mdev_counter "${M[1]}" pinned) ))" 1124
kill -KILL "${VPID[a]}"
wait "${VPID[a]}" 2>/dev/null
close_vm a
# The release happens as the process's files close; give it a moment.
for _ in $(seq 1200); do
	[ "$(cat /sys/module/vfio_iommu_type1/refcnt)" = "$refs0" ] &&
		{ [ "$STOCK" = 1 ] || [ "$(count_ev "$c" container_release)" = 1 ]; } && break
	sleep 0.1
done
check_eq "S7: the container released (type1's module references)" \
	"$(cat /sys/module/vfio_iommu_type1/refcnt)" "$refs0"
check_eq @tp "S7: container released" "$(count_ev "$c" container_release)" 1
check_eq @tp "S7: nothing left at release (trace)" "$(events "$TRACEFS/trace" vfio_type1_container_release | grep "cid=$c " | sed -E 's/.*(dmas=)/\1/')" "dmas=0 pinned=0 locked=0"
check_eq @tp "S7: no leaked pins on DMA removal" "$(events "$TRACEFS/trace" vfio_type1_dma_remove | grep "cid=$c " | grep -vc 'leaked=0')" 0
check_eq @tp "S7: trace pins - unpins" "$(pin_balance "$c")" 0
if vp_snap; then
	check_vp "S7: vfiopin: released, nothing leaked, nothing pinned, nothing locked" \
		"true 0 0 0" -- vpcs a released leaked_pins mdev.pin_refs locked_pages
	check_vp "S7: vfiopin: pages released and references dropped as the drivers let go (612 pages, 512 of them twice)" \
		"612 512" -- vpcs a mdev.released_pages mdev.refcount_drops
	# the uncharges type1 made after the owner's mm was gone (-ESRCH,
	# in the kernel's own trace) are netted, and none is a failure
	check_eq @tp "S7: vfiopin: charged pages net, accounting failures (after ESRCH uncharges in the trace)" \
		"$(vp "cid=$c" charged_pages) $(vp "cid=$c" account_failures) $(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep -c 'ret=-3' | sed 's/^[1-9][0-9]*$/some/')" "0 0 some"
	vp_snap
	check_eq "S7: vfiopin: the released container is retired after being reported" "$(vp "cid=$c" cid)" none
fi
SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)+$(mdev_counter "${M[1]}" pinned)"
end_scenario
