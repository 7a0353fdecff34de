#!/bin/bash
# Guest half of `export-e2e.sh --service` (make check-service): on Debian's
# stock kernel, booted with systemd as its init (lab/run.sh --systemd),
# vfiopin-exporter.service as `make install` wrote it, started by systemd:
#  1. as shipped, where Debian's kernel.perf_event_paranoid (3) leaves
#     CAP_BPF + CAP_PERFMON no way to attach: it fails, says what it lacks
#     in the journal, and systemd restarts it;
#  2. with the sysctl at 2: kprobe mode, and the process is what the unit
#     says (a dynamic user, exactly CAP_BPF + CAP_PERFMON, no new
#     privileges, a seccomp filter); over TLS with basic authentication it
#     serves VmLck for a VM started beside it, and refuses the rest;
#  3. with the unit's CAP_SYS_ADMIN drop-in (the defaults file says how):
#     fentry mode; the host's Prometheus scrapes it over TLS with
#     basic_auth (OUT/export-ready, OUT/export-done), then systemd stops it.
# The TLS key reaches the service's user through the ssl-cert group, as
# the defaults file says.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

U=vfiopin-exporter.service
PORT=9739
W=/tmp/out/web
ETC=/opt/vfiopin/etc

check_eq "systemd is PID 1" "$(ps -p 1 -o comm=)" systemd
# wait_for WHAT COMMAND...: until COMMAND succeeds (a generous bound: TCG
# on a busy host is slow; no fixed sleep decides an outcome)
wait_for() {
	local what=$1
	shift
	for _ in $(seq 1200); do "$@" && return 0; sleep 0.2; done
	fail "$what: not within the bound; the service's last words: $(journal | tail -n 3)"
	return 1
}
# what the exporter wrote to the journal (by its name: a process that
# exits at once may be gone before journald learns its unit)
journal() { journalctl -b -t vfiopin -o cat --no-pager "$@" 2> /dev/null; }
journal_has() { journal | grep -q "$1"; }
prop() { systemctl show -p "$1" --value $U; }
mainpid_status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$(prop MainPID)/status"; }

# --- installed as make install lays it out (the host ran it: export-e2e.sh)
mount -t tmpfs -o mode=0755 tmpfs /opt
cp -a /tmp/out/inst/opt/vfiopin /opt/ || die "no make install tree in the results share"
systemctl link --runtime /opt/vfiopin/lib/systemd/system/$U > /dev/null 2>&1
systemctl daemon-reload
check_eq "systemd loaded the installed unit, linked (systemctl link)" \
	"$(prop LoadState) $(readlink -f "$(prop FragmentPath)")" \
	"loaded /opt/vfiopin/lib/systemd/system/$U"
# TLS: the certificate where the service may read it; the key as
# Debian keeps one (root:ssl-cert 0640), read by the service through the
# ssl-cert group (a drop-in, as the defaults file says); one user, bcrypt
install -d -m 0755 "$ETC/vfiopin"
install -m 0644 "$W/tls.crt" "$ETC/vfiopin/tls.crt"
install -m 0640 -g ssl-cert "$W/tls.key" "$ETC/vfiopin/tls.key"
cat > "$ETC/vfiopin/web.yml" << EOF
tls_server_config:
  cert_file: $ETC/vfiopin/tls.crt
  key_file: $ETC/vfiopin/tls.key
basic_auth_users:
  prometheus: '$(cat "$W/hash")'
EOF
mkdir -p /run/systemd/system/$U.d
printf '[Service]\nSupplementaryGroups=ssl-cert\n' > /run/systemd/system/$U.d/tls.conf
# the operator's arguments: every address (the port is forwarded to the
# guest's NIC), TLS and authentication
sed -i 's|^VFIOPIN_EXPORTER_ARGS=.*|VFIOPIN_EXPORTER_ARGS="--wait-modules --listen 0.0.0.0:'$PORT' --web-config '"$ETC"'/vfiopin/web.yml --keep-released 30"|' \
	"$ETC/default/vfiopin-exporter"
systemctl daemon-reload

# --- 1. as shipped, Debian's perf_event_paranoid
echo 3 > /proc/sys/kernel/perf_event_paranoid
systemctl start $U
wait_for "as shipped at perf_event_paranoid 3: a message in the journal" journal_has "no way to observe"
msg=$(journal | grep -m1 "no way to observe")
grep -q "without CAP_SYS_ADMIN, neither can: fentry needs it, and kprobes too while kernel.perf_event_paranoid is above 2" <<< "$msg" &&
	pass "as shipped, perf_event_paranoid 3: the journal names CAP_SYS_ADMIN and the sysctl" ||
	fail "as shipped: the journal says: $msg"
grep -q "ProcSubset=pid" <<< "$msg" &&
	pass "the sysctl hidden by ProcSubset=pid: the message says so rather than a value" ||
	fail "the message does not say why the sysctl is unknown: $msg"
restarted() { [ "$(prop NRestarts)" -ge 1 ]; }
wait_for "restarted on failure" restarted &&
	pass "systemd restarts it on failure (Restart=on-failure, NRestarts $(prop NRestarts))"
systemctl stop $U
systemctl reset-failed $U 2> /dev/null

# --- 2. the sysctl at 2: kprobes, with the unit's own user and capabilities
echo 2 > /proc/sys/kernel/perf_event_paranoid
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start $U
attached() { journal --since "$since" | grep -q "attached to .* with $1"; }
wait_for "perf_event_paranoid 2: attached" attached kprobe && pass "perf_event_paranoid 2: the service attached with kprobe"
check_eq "its state" "$(prop ActiveState)/$(prop SubState)" active/running
uid=$(mainpid_status Uid)
((uid >= 61184 && uid <= 65519)) && pass "it runs as a dynamic user (uid $uid, $(prop User))" ||
	fail "its uid $uid is not one of DynamicUser's"
check_eq "its effective capabilities: CAP_BPF and CAP_PERFMON alone" "$(mainpid_status CapEff)" 000000c000000000
check_eq "its bounding set: the same two" "$(mainpid_status CapBnd)" 000000c000000000
check_eq "no new privileges" "$(mainpid_status NoNewPrivs)" 1
check_eq "a seccomp filter (SystemCallFilter)" "$(mainpid_status Seccomp)" 2
load_mpin
M1=$(create_mdev 1)
hold_vm "$M1" "$OUT/service-vm.json" || fail "the VM never held its pins: $(tail -3 "$OUT/service-vm.json")"
vm=$HELD_VM kb=$(vmlck_kb "$HELD_VM")
check_eq "the VM holds its pins (VmLck kB)" "$kb" 1024
url=https://localhost:$PORT/metrics
scrape() { curl -s -o "$OUT/$1" -w '%{http_code}' --cacert "$W/ca.crt" -u "prometheus:$(cat "$W/password")" "$url"; }
get() { python3 "$TOP/tests/promcheck.py" "$OUT/$1" --get "$2" | awk '{print $NF}'; }
# scrape_vm FILE: scrape until the VM's series arrive (once a snapshot
# has seen it)
scrape_vm() {
	for _ in $(seq 600); do
		[ "$(scrape "$1")" = 200 ] && grep -q "tgid=\"$vm\"" "$OUT/$1" && return 0
		sleep 0.2
	done
	return 1
}
scrape_vm service-1.prom
check_eq "TLS + the right password: the VM's locked bytes = VmLck" \
	"$(get service-1.prom "vfiopin_vm_locked_bytes{tgid=\"$vm\"}")" $((kb * 1024))
check_eq "... and its pin calls = the VM's own" "$(get service-1.prom "vfiopin_pin_calls_total{tgid=\"$vm\"}")" 2
check_eq "... in kprobe mode, it says" "$(grep -c '^vfiopin_info{.*mode="kprobe"} 1$' "$OUT/service-1.prom")" 1
check_eq "TLS, no password: 401" "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" "$url")" 401
check_eq "TLS, a wrong password: 401" \
	"$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" -u prometheus:guess "$url")" 401
code=$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$PORT/metrics")
[ "$code" != 200 ] && pass "plain HTTP to the TLS port: no answer (status '$code')" ||
	fail "plain HTTP to the TLS port was served"
release_vm
check_eq "the VM's exit status" $? 0
systemctl stop $U

# --- 3. the CAP_SYS_ADMIN drop-in: fentry; the host's Prometheus scrapes
echo 3 > /proc/sys/kernel/perf_event_paranoid
printf '[Service]\nAmbientCapabilities=CAP_SYS_ADMIN\nCapabilityBoundingSet=CAP_SYS_ADMIN\n' \
	> /run/systemd/system/$U.d/sys-admin.conf
systemctl daemon-reload
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl start $U
wait_for "with CAP_SYS_ADMIN: attached" attached fentry && pass "with the CAP_SYS_ADMIN drop-in: attached with fentry"
check_eq "its effective capabilities: CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN" "$(mainpid_status CapEff)" 000000c000200000
hold_vm "$M1" "$OUT/service-vm2.json" || fail "the second VM never held its pins"
vm=$HELD_VM kb=$(vmlck_kb "$HELD_VM")
scrape_vm service-2.prom
check_eq "fentry mode: the VM's locked bytes = VmLck" \
	"$(get service-2.prom "vfiopin_vm_locked_bytes{tgid=\"$vm\"}")" $((kb * 1024))
echo "$vm $kb" > "$OUT/export-ready"
for _ in $(seq 1200); do [ -e "$OUT/export-done" ] && break; sleep 0.25; done
check_cmd "the host's Prometheus scraped (export-done)" test -e "$OUT/export-done"
release_vm
check_eq "the second VM's exit status" $? 0
systemctl stop $U
check_eq "stopped by systemd: its result" "$(prop Result)/$(prop ActiveState)" success/inactive
summary
