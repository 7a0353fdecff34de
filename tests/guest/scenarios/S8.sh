# S8: DMA unmap over pinned pages (invalidation).
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S8 "DMA unmap over pinned pages (invalidation)"
start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" attach "${M[1]}" map 0 8M map 0x800000 8M \
	pin "${M[0]}" 0x800000 16 pin "${M[1]}" 0x800000 16 pin "${M[0]}" 0 4 hold \
	unmap 0x800000 8M hold unpin "${M[0]}" 0 4 unmap 0 8M detach "${M[0]}" detach "${M[1]}"
want 80; checkpoint a 80
release a
want 16; checkpoint a 16
local c inv; c=$(cid_of a)
inv=$(events "$TRACEFS/trace" vfio_type1_invalidate_begin | grep "cid=$c ")
check_eq @tp "S8: invalidation range, pages, devices" "$(field "$inv" iova) $(field "$inv" size) $(field "$inv" pinned) $(field "$inv" devices)" "0x800000 0x800000 16 2"
check_eq @tp "S8: nothing pinned after the notification" "$(field "$(events "$TRACEFS/trace" vfio_type1_invalidate_end | grep "cid=$c ")" pinned)" 0
SC_DRV="inv=$(mdev_counter "${M[0]}" invalidations)/$(mdev_counter "${M[1]}" invalidations) inv_pages=$(mdev_counter "${M[0]}" inv_pages)/$(mdev_counter "${M[1]}" inv_pages)"
check_eq "S8: both drivers dropped their pins" "$(mdev_counter "${M[0]}" inv_pages) $(mdev_counter "${M[1]}" inv_pages)" "16 16"
check_vp "S8: vfiopin: invalidations, pages dropped" \
	"$(mdev_counter "${M[0]}" invalidations) 16" -- vpcs a invalidations.count invalidations.pages
check_vp @tp "S8: vfiopin: devices notified" 2 -- vpc a invalidations.devices_notified
check_vp "S8: vfiopin: pages pinned after the invalidation vs the drivers" \
	"$(( $(mdev_counter "${M[0]}" pages) + $(mdev_counter "${M[1]}" pages) ))" -- vpc a mdev.pages_pinned
check_vp @tp "S8: vfiopin: invalidation latency measured" 1 -- vpc a latency.invalidate.count
grep -q '"op":"unmap","iova":8388608,"size":8388608,"unmapped":8388608,"ret":0' "${VJSON[a]}" &&
	pass "S8: the unmap completed in full" || fail "S8: the unmap did not complete"
release a
finish a; check_eq "S8: client status" $? 0
end_scenario
