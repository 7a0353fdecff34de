# S3: mdev and passthrough in one container.
# Sourced by tests/guest/scenarios.sh, in a function, with its helpers.
scenario S3 "mdev and passthrough in one container"
start_vm a --mem $RAM --memlock $RAM attach "${M[0]}" attach "$E1" map 0 $RAM \
	pin "${M[0]}" 0 512 pin "${M[0]}" 0x800000 256 hold \
	unpin "${M[0]}" 0 512 unpin "${M[0]}" 0x800000 256 unmap 0 $RAM detach "$E1" detach "${M[0]}"
want $RAM_KB; checkpoint a $RAM_KB
local c; c=$(cid_of a)
SC_DRV="pinned=$(mdev_counter "${M[0]}" pinned)"
check_eq "S3: driver holds its pins" "$(mdev_counter "${M[0]}" pinned)" 768
check_eq @tp "S3: mdev pins not charged twice (peak locked_vm pages)" "$(peak_locked "$c")" $RAM_PAGES
check_eq @tp "S3: pages charged in all = guest RAM (mdev pins add nothing)" \
	"$(events "$TRACEFS/trace" vfio_type1_account | grep "cid=$c " | grep 'ret=0' |
		awk '{for(i=1;i<=NF;i++) if($i~/^delta=[0-9]/){split($i,a,"=");s+=a[2]}} END{print s}')" $RAM_PAGES
release a
finish a; check_eq "S3: client status" $? 0
end_scenario
