#!/bin/bash
# The package tier: the Debian package built by Debian's tools (build-deb.sh,
# lintian at warning fails it), then installed, tried, removed and purged in
# a clean Debian 12 root by piuparts, which fails on anything left behind.
# The root's base is made once with debootstrap and kept in the cache.
set -uo pipefail
cd "$(dirname "$0")/../../.."
. tests/lib/check.sh
CACHE=${VFIOPIN_CACHE:-/var/cache/vfiopin}
out=build/deb
ver=$(head -n 1 debian/changelog | cut -d ' ' -f 2 | tr -d '()')
deb=$out/vfiopin_${ver}_amd64.deb

if tests/host/package/build-deb.sh "$out" > build/deb-build.log 2>&1; then
	pass "make deb: $deb, lintian: no error or warning"
else
	fail "make deb: $(grep 'build-deb:' build/deb-build.log | tail -1)"
fi
sed -n '/^[A-Z]: /p' "$out/lintian.txt" 2> /dev/null | sed 's/^/lintian: /'
if [ -f "$deb" ]; then
	deps=$(dpkg-deb -f "$deb" Depends)
	for lib in libbpf libjansson libmicrohttpd libncursesw zlib1g libgnutls30 libyaml-0-2 libcrypt1; do
		grep -q "$lib" <<< "$deps" && pass "package: depends on $lib (found by dpkg-shlibdeps)" ||
			fail "package: no dependency on $lib: $deps"
	done
	lab=$(grep -oE 'qemu|linux-source|prometheus|bpfcc|python3' <<< "$deps" | sort -u | tr '\n' ' ')
	[ -z "$lab" ] && pass "package: nothing of the lab in its dependencies" || fail "package: depends on $lab"
	files=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -v '/$' | sort | tr '\n' ' ')
	for f in ./usr/bin/vfiopin ./usr/bin/vfiopin-top ./lib/systemd/system/vfiopin-exporter.service \
		./etc/default/vfiopin-exporter ./usr/share/man/man8/vfiopin.8.gz; do
		grep -q "$f " <<< "$files " && pass "package: holds $f" || fail "package: no $f"
	done

	base=$CACHE/piuparts/bookworm-amd64.tar.gz
	mkdir -p "$(dirname "$base")"
	args=(-d bookworm -m http://deb.debian.org/debian --scriptsdir "$PWD/tests/host/package/piuparts"
		--no-upgrade-test)
	if [ -s "$base" ]; then
		args+=(-b "$base")
	else
		args+=(-s "$base")
	fi
	piuparts "${args[@]}" "$deb" > build/piuparts.log 2>&1; rc=$?
	# the lines of post_install_vfiopin, run inside the root
	grep -o 'vfiopin-package: .*' build/piuparts.log | sort -u > build/piuparts-checks.txt
	while read -r _ st what; do
		[ "$st" = ok: ] && pass "clean root: $what" || fail "clean root: $what"
	done < build/piuparts-checks.txt
	[ -s build/piuparts-checks.txt ] || fail "piuparts: the checks inside the root did not run"
	if [ $rc = 0 ] && grep -q 'PASS: All tests' build/piuparts.log; then
		pass "piuparts: installed, removed and purged in a clean Debian 12 root, nothing left behind"
	else
		fail "piuparts: exit $rc: $(grep -E 'FAIL|ERROR' build/piuparts.log | head -3 | tr '\n' ' ') (build/piuparts.log)"
	fi
fi
summary package
