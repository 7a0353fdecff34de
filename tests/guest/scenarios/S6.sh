# S6: one page over the limit.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S6 "one page over the limit"
# passthrough: guest RAM one page larger than the limit
start_vm a --mem $((RAM_KB + 4))K --memlock $RAM attach "$E1" map 0 $RAM hold \
	map=ENOMEM $((RAM_KB * 1024)) 4K hold unmap 0 $RAM detach "$E1"
want $RAM_KB; checkpoint a $RAM_KB
release a
want $RAM_KB; checkpoint a $RAM_KB
local c; c=$(cid_of a)
local hit; hit=$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep 'ret=-12')
check_eq @tp "S6: passthrough limit hit reported once" "$(wc -l <<< "$hit")" 1
check_eq @tp "S6: limit hit at locked_vm = limit" "$(field "$hit" locked_vm) $(field "$hit" limit)" "$RAM_PAGES $((RAM_KB * 1024))"
check_vp "S6: vfiopin: one limit hit, as the client's one ENOMEM" \
	"$(grep -c '"errno":"ENOMEM"' "${VJSON[a]}")" -- vpc a limit_hits
check_vp "S6: vfiopin: the failed MAP_DMA" 1 -- vpc a passthrough.dma_map_failures
release a
finish a; check_eq "S6: client status (ENOMEM was expected)" $? 0
grep -qE '"op":"map","iova":16777216,"size":4096,"ret":-12,("step_ns":[0-9]+,)?"errno":"ENOMEM"' "${VJSON[a]}" &&
	pass "S6: MAP_DMA returned ENOMEM" || fail "S6: MAP_DMA did not return ENOMEM"
# mdev: pin the whole limit, then one more page
local steps=() off
for ((off = 0; off < RAM_KB * 1024; off += 2097152)); do steps+=(pin "${M[0]}" $off 512); done
start_vm b --mem $((RAM_KB + 4))K --memlock $RAM attach "${M[0]}" map 0 $((RAM_KB + 4))K \
	"${steps[@]}" pin=ENOMEM "${M[0]}" $((RAM_KB * 1024)) 1 hold \
	unpin "${M[0]}" 0 512 pin "${M[0]}" $((RAM_KB * 1024)) 1 hold \
	unmap 0 $((RAM_KB + 4))K detach "${M[0]}"
want $RAM_KB; checkpoint b $RAM_KB
SC_DRV="failures=$(mdev_counter "${M[0]}" failures)"
check_eq "S6: mdev pin over the limit counted as a failure (driver)" "$(mdev_counter "${M[0]}" failures)" 1
check_eq "S6: earlier pins undisturbed (driver)" "$(mdev_counter "${M[0]}" pinned)" $RAM_PAGES
check_vp "S6: vfiopin: mdev limit hit and failed pin vs the driver's failures" \
	"$(mdev_counter "${M[0]}" failures) $(mdev_counter "${M[0]}" failures)" -- vpcs b limit_hits mdev.pin_enomem
check_vp "S6: vfiopin: headroom at the limit" 0 -- vpc b headroom_ratio
release b
want $((RAM_KB - 2048 + 4)); checkpoint b $((RAM_KB - 2048 + 4))
release b
finish b; check_eq "S6: client status (ENOMEM was expected)" $? 0
end_scenario
