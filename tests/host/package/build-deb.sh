#!/bin/bash
# build-deb.sh OUT: the Debian package of this tree, built by Debian's own
# tools (dpkg-buildpackage, debhelper) from a copy of the files git knows
# (tracked, and new ones not ignored), into OUT/; then lintian on it, whose
# tags are printed and, at warning or error, fail the build.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=${1:?usage: build-deb.sh OUT}
ver=$(head -n 1 debian/changelog | cut -d ' ' -f 2 | tr -d '()')
rm -rf "$out"
mkdir -p "$out/vfiopin-$ver"
git ls-files -z --cached --others --exclude-standard |
	xargs -0 -I{} find {} -maxdepth 0 -type f -print0 2> /dev/null |
	tar --null -T - -cf - | tar -xf - -C "$out/vfiopin-$ver"
(cd "$out/vfiopin-$ver" &&
	DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -us -uc -b > ../build.log 2>&1) || {
	tail -40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (whole log: $out/build.log)" >&2
	exit 1
}
deb=$out/vfiopin_${ver}_amd64.deb
[ -f "$deb" ] || { echo "build-deb: no $deb" >&2; exit 1; }
rm -rf "$out/vfiopin-$ver"
echo "build-deb: $deb"
# every tag lintian gives, then its verdict at warning and above
lintian --info --display-info --pedantic "$out"/vfiopin_"${ver}"_amd64.changes > "$out/lintian.txt" 2>&1 || true
cat "$out/lintian.txt"
lintian --fail-on error,warning "$out"/vfiopin_"${ver}"_amd64.changes > /dev/null 2>&1 || {
	echo "build-deb: lintian: warnings or errors (above)" >&2
	exit 1
}
echo "build-deb: lintian: no error or warning ($(grep -c . "$out/lintian.txt" || true) tags of lower severity, above)"
