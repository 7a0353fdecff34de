# Host tier, sourced by run.sh: make install and uninstall into a scratch
# root, the version said once, the exporter's unit as systemd reads it and
# its sandbox as systemd-analyze rates it, the shell completion.
itmp=$(mktemp -d)

# --- make install / uninstall, both layouts
make -s install DESTDIR="$itmp/usr-root" PREFIX=/usr > "$itmp/log" 2>&1 ||
	fail "make install: $(tail -3 "$itmp/log")"
want="/etc/default/vfiopin-exporter
/lib/systemd/system/vfiopin-exporter.service
/usr/bin/vfiopin
/usr/bin/vfiopin-top
/usr/share/bash-completion/completions/vfiopin
/usr/share/bash-completion/completions/vfiopin-top
/usr/share/man/man8/vfiopin-top.8
/usr/share/man/man8/vfiopin.8
/usr/share/vfiopin/grafana/vfiopin.json
/usr/share/vfiopin/prometheus/vfiopin-rules.yml"
got=$(cd "$itmp/usr-root" && find . ! -type d | sed 's/^\.//' | sort)
[ "$got" = "$want" ] && pass "make install PREFIX=/usr: the 10 files where Debian has them" ||
	fail "make install PREFIX=/usr: $(diff <(echo "$want") <(echo "$got") | tr '\n' ' ')"
[ "$(readlink "$itmp/usr-root/usr/bin/vfiopin-top")" = vfiopin ] &&
	cmp -s build/vfiopin "$itmp/usr-root/usr/bin/vfiopin" &&
	pass "make install: vfiopin the built binary, vfiopin-top a link to it" ||
	fail "make install: the binaries"
grep -q '^ExecStart=/usr/bin/vfiopin export $VFIOPIN_EXPORTER_ARGS$' \
	"$itmp/usr-root/lib/systemd/system/vfiopin-exporter.service" &&
	grep -q '^EnvironmentFile=-/etc/default/vfiopin-exporter$' \
		"$itmp/usr-root/lib/systemd/system/vfiopin-exporter.service" &&
	pass "make install: the unit runs the installed binary with /etc/default's arguments" ||
	fail "make install: the unit's ExecStart or EnvironmentFile"
make -s install DESTDIR="$itmp/local" > "$itmp/log" 2>&1 &&
	grep -q '^ExecStart=/usr/local/bin/vfiopin ' "$itmp/local/usr/local/lib/systemd/system/vfiopin-exporter.service" &&
	[ -f "$itmp/local/usr/local/etc/default/vfiopin-exporter" ] &&
	[ "$(find "$itmp/local" ! -type d | grep -vc '^'"$itmp"'/local/usr/local/')" = 0 ] &&
	pass "make install: PREFIX=/usr/local by default, nothing written outside it" ||
	fail "make install (default PREFIX): $(find "$itmp/local" ! -type d | head -3)"
# --- the version, from debian/changelog alone
ver=$(head -n 1 debian/changelog | cut -d ' ' -f 2 | tr -d '()')
[ "$(build/vfiopin --version)" = "vfiopin $ver" ] && [ "$(build/vfiopin stat --version)" = "vfiopin $ver" ] &&
	pass "vfiopin --version and stat --version say debian/changelog's $ver" ||
	fail "version: '$(build/vfiopin --version)', changelog '$ver'"
[ "$(sed -n 's/^\.TH .*"\(vfiopin [^"]*\)".*/\1/p' "$itmp/usr-root/usr/share/man/man8/vfiopin.8")" = "vfiopin $ver" ] &&
	pass "the installed man page says the version" || fail "the installed man page's .TH: $(grep '^\.TH' "$itmp/usr-root/usr/share/man/man8/vfiopin.8")"
if ! grep -rqnF "$ver" tools/ bpf/ Makefile README.md 2> /dev/null; then
	pass "the version is written nowhere but debian/changelog"
else
	fail "the version $ver is written in: $(grep -rln "$ver" tools/ bpf/ Makefile | tr '\n' ' ')"
fi

make -s uninstall DESTDIR="$itmp/usr-root" PREFIX=/usr > "$itmp/log" 2>&1
left=$(find "$itmp/usr-root" ! -type d)
[ -z "$left" ] && [ ! -d "$itmp/usr-root/usr/share/vfiopin" ] &&
	pass "make uninstall: every installed file gone, and share/vfiopin" ||
	fail "make uninstall left: $left"

# --- the unit: systemd's own reading of it, and its sandbox's rating
if command -v systemd-analyze > /dev/null; then
	unit=$itmp/unit/vfiopin-exporter.service
	mkdir -p "$(dirname "$unit")"
	# the built binary in ExecStart (verify wants it to exist); man pages
	# are this tree's, not the host's
	sed "s|@BINDIR@|$TOP/build|g; s|@SYSCONFDIR@|/etc|g" tools/systemd/vfiopin-exporter.service.in > "$unit"
	out=$(systemd-analyze verify --man=no "$unit" 2>&1); rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && pass "systemd-analyze verify: the unit, no warning" ||
		fail "systemd-analyze verify: exit $rc: $out"
	score=$(systemd-analyze security --offline=yes "$unit" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if systemd-analyze security --offline=yes --threshold=20 "$unit" > /dev/null 2>&1; then
		pass "systemd-analyze security: exposure $score, at most 2.0"
	else
		fail "systemd-analyze security: exposure '$score', above 2.0"
	fi
	# the check can fail: the same unit as root with every capability
	sed -e '/^DynamicUser=/d' -e '/^CapabilityBoundingSet=/d' -e '/^SystemCallFilter=/d' "$unit" > "$itmp/unit/loose.service"
	if ! systemd-analyze security --offline=yes --threshold=20 "$itmp/unit/loose.service" > /dev/null 2>&1; then
		pass "systemd-analyze security: the unit without its user, bounding set and filter is above 2.0"
	else
		fail "systemd-analyze security: a loose unit passed the threshold"
	fi
	grep -q '^\.TH VFIOPIN 8' tools/vfiopin.8 && pass "the unit's Documentation=man:vfiopin(8) is this tree's" ||
		fail "tools/vfiopin.8 is not vfiopin(8)"
else
	skip "systemd-analyze not installed"
fi

# --- bash completion, from the binary's own --help
if [ -r /usr/share/bash-completion/bash_completion ]; then
	comp() {
		PATH=$TOP/build:$PATH bash -c '. /usr/share/bash-completion/bash_completion
			. tools/completion/vfiopin.bash
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_vfiopin 2> /dev/null; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$@"
	}
	[ "$(comp vfiopin "")" = "--help --version advise bench capture compare export hist stat top trace " ] &&
		pass "completion: the nine commands" || fail "completion: commands: '$(comp vfiopin "")'"
	got=$(comp vfiopin export --l)
	[ "$got" = "--listen= " ] && pass "completion: export --l is --listen=" || fail "completion: export --l: '$got'"
	got=$(comp vfiopin-top --so)
	[ "$got" = "--sort= " ] && pass "completion: vfiopin-top --so is --sort=" || fail "completion: vfiopin-top --so: '$got'"
else
	skip "bash-completion not installed"
fi
rm -rf "$itmp"
