# S2: passthrough only.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S2 "passthrough only"
start_vm a --mem $RAM --memlock $RAM attach "$E1" map 0 8M map 0x800000 8M hold \
	unmap 0 8M hold unmap 0x800000 8M detach "$E1"
want $RAM_KB; checkpoint a $RAM_KB
local c; c=$(cid_of a)
check_eq @tp "S2: MAP_DMA pinned through the IOMMU path" "$(count_ev "$c" dma_map_end | tr -d ' ')" 2
check_eq @tp "S2: peak locked_vm (pages) equals the limit" "$(peak_locked "$c")" $RAM_PAGES
check_vp "S2: vfiopin: passthrough pages pinned" $RAM_PAGES -- vpc a passthrough.pinned_pages
check_vp "S2: vfiopin: passthrough pages mapped" $RAM_PAGES -- vpc a passthrough.mapped_pages
check_vp "S2: vfiopin: MAP_DMA calls, as the client's" \
	"$(grep -c '"op":"map".*"ret":0,' "${VJSON[a]}")" -- vpc a passthrough.dma_maps
check_vp "S2: vfiopin: limit (bytes)" $((RAM_KB * 1024)) -- vpc a limit_bytes
check_vp "S2: vfiopin: peak locked pages = VmLck's peak" $RAM_PAGES -- vpc a locked_peak_pages
check_vp "S2: vfiopin: no replay (the first device's domain is new)" \
	"0 0" -- vpcs a passthrough.replays passthrough.replay_pages
release a
want 8192; checkpoint a 8192
check_vp "S2: vfiopin: passthrough pages after unmapping half" 2048 -- vpc a passthrough.pinned_pages
check_vp "S2: vfiopin: passthrough pages mapped after unmapping half" \
	2048 -- vpc a passthrough.mapped_pages
check_vp @fb "S2: vfiopin: UNMAP_DMA calls, as the client's" \
	"$(grep -c '"op":"unmap".*"ret":0,' "${VJSON[a]}")" -- vpc a passthrough.unmap_calls
check_vp "S2: vfiopin: mappings unmapped, as the client's" \
	"$(grep -c '"op":"unmap".*"ret":0,' "${VJSON[a]}")" -- vpc a passthrough.dma_unmaps
release a
finish a; check_eq "S2: client status" $? 0
# the same with guest RAM on hugetlbfs (2 MiB pages)
echo 8 > /proc/sys/vm/nr_hugepages
if [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 8 ] && mountpoint -q /mnt/huge; then
	start_vm h --mem $RAM --memlock $RAM --hugetlb /mnt/huge attach "$E1" map 0 $RAM hold \
		unmap 0 $RAM detach "$E1"
	want $RAM_KB; checkpoint h $RAM_KB
	release h
	finish h; check_eq "S2: hugetlbfs client status" $? 0
else
	fail "S2: could not get 8 huge pages on /mnt/huge for the hugetlbfs variant"
fi
check_eq @tp "S2: unpinned on unmap (trace)" "$(events "$TRACEFS/trace" vfio_type1_dma_unmap | grep "cid=$c " | awk '{for(i=1;i<=NF;i++) if($i~/^unpinned=/){split($i,a,"=");s+=a[2]}} END{print s}')" $RAM_PAGES
end_scenario
