# S10: two containers over the same memory (a vIOMMU's per-device containers).
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S10 "two containers over the same memory (a vIOMMU's per-device containers)"
# at one container's need: the second container's MAP_DMA of the same RAM fails
start_vm a --mem $RAM --memlock $RAM attach "$E1" map 0 $RAM container attach "$E2" \
	map=ENOMEM 0 $RAM hold detach "$E2"
hold a || return
want $RAM_KB
local kb pid=${VPID[a]} c cids
kb=$(vmlck_kb "$pid")
check_eq "S10: VmLck of a (kB): the first container's charge only" "$kb" $RAM_KB
VMLCK_SEEN+="$kb "
vp_snap || return
check_vp "S10: vfiopin: one VM of two containers" 1 -- vp_commas "vm=$pid" cids
check_vp "S10: vfiopin: the VM's locked memory (kB) vs VmLck" "$kb" -- vp_kb "vm=$pid" locked_bytes
check_vp "S10: vfiopin: the VM's limit hit, as the client's ENOMEM" \
	"$(grep -c '"errno":"ENOMEM"' "${VJSON[a]}")" -- vp "vm=$pid" limit_hits
check_vp "S10: vfiopin: two passthrough containers" 2 -- vp "vm=$pid" passthrough_containers
check_vp "S10: vfiopin: the advised limit, the RAM twice (kB)" \
	$((2 * RAM_KB)) -- vp_kb "vm=$pid" needed_limit_bytes
release a
finish a; check_eq "S10: client status (ENOMEM was expected)" $? 0
# at the advised limit both containers map and charge the same RAM
start_vm b --mem $RAM --memlock $((2 * RAM_KB))K attach "$E1" map 0 $RAM container \
	attach "$E2" map 0 $RAM hold detach "$E2"
want $((2 * RAM_KB))
hold b || return
pid=${VPID[b]}
kb=$(vmlck_kb "$pid")
check_eq "S10: VmLck of b (kB): the RAM charged twice" "$kb" $((2 * RAM_KB))
VMLCK_SEEN+="$kb "
vp_snap || return
check_vp "S10: vfiopin: the VM's locked memory (kB) vs VmLck" "$kb" -- vp_kb "vm=$pid" locked_bytes
check_vp "S10: vfiopin: no limit hit at the advised limit" 0 -- vp "vm=$pid" limit_hits
cids=$(vp "vm=$pid" cids | tr -d '[]' | tr , ' ')
for c in $cids; do
	check_vp "S10: vfiopin: container $c charges the RAM once (kB), not the process's total" \
		$RAM_KB -- vp_pages_kb "cid=$c" charged_pages
done
release b
finish b; check_eq "S10: client status" $? 0
end_scenario
