# S1: mdev only.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S1 "mdev only"
start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" map 0 $RAM \
	pin "${M[0]}" 0 512 pin "${M[0]}" 0x200000 512 pin "${M[0]}" 0 16 hold \
	unpin "${M[0]}" 0 512 hold unpin "${M[0]}" 0x200000 512 unpin "${M[0]}" 0 16 \
	unmap 0 $RAM detach "${M[0]}"
want 4096; checkpoint a 4096
SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned) pages=$(mdev_counter "${M[0]}" pages)"
check_eq "S1: driver references held" "$(mdev_counter "${M[0]}" pinned)" 1040
check_eq @tp "S1: trace pins - unpins vs driver" "$(pin_balance "$(cid_of a)")" 1040
check_vp "S1: vfiopin: distinct pages pinned vs driver" \
	"$(mdev_counter "${M[0]}" pages)" -- vpc a mdev.pages_pinned
check_vp "S1: vfiopin: pin calls vs driver" \
	"$(mdev_counter "${M[0]}" pin_calls)" -- vpc a mdev.pin_calls
check_vp "S1: vfiopin: live refcounts = the pattern pinned (1008 pages once, 16 twice)" \
	'{"1":1008,"2":16}' -- vpc a refcount.live
check_vp "S1: vfiopin: headroom (bytes)" $(((RAM_KB - 4096) * 1024)) -- vpc a headroom_bytes
release a
want 2112; checkpoint a 2112
check_eq "S1: doubly pinned pages still held once (driver)" "$(mdev_counter "${M[0]}" pinned)" 528
check_vp "S1: vfiopin: live refcounts after the unpin" '{"1":528}' -- vpc a refcount.live
check_vp "S1: vfiopin: unpin calls vs driver" \
	"$(mdev_counter "${M[0]}" unpin_calls)" -- vpc a mdev.unpin_calls
release a
finish a; check_eq "S1: client status" $? 0
check_eq "S1: VmLck at the end" "$(tail -1 "${VJSON[a]}" | sed -E 's/.*"vmlck_kb":([0-9]+).*/\1/')" 0
end_scenario
