#!/bin/bash
# Check the kernel patch series the way a maintainer would:
#  - scripts/checkpatch.pl --strict from the same tree: no error, warning or check;
#  - every patch, applied on top of the ones before it, builds on its own:
#    the modules it touches (all of the series' C is in vfio_iommu_type1.ko
#    and the mpin sample), compiled with -Werror and linked by modpost
#    against the headers of Debian's kernel of the line;
#  - the whole series' Kconfig: the lab's config fragments, mpin's entry
#    among them, survive dependency resolution in the patched tree.
# The series of one base (VFIOPIN_BASE, as lab/kernel.sh takes it), checked
# with that base's own tree.  Needs that lab kernel built (make kernel
# KERNEL=...).  Prints "N passed, N failed".
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VFIOPIN_CACHE:-/var/cache/vfiopin}
PATCHDIR=$("$TOP/lab/kernel.sh" patchdir) || exit 2
base=$(basename "$PATCHDIR")
. "$TOP/tests/lib/check.sh"

kdir=$("$TOP/lab/kernel.sh" path lab) || exit 2
hdr=$(cat "$kdir/hdrdir")
src=$(cat "$kdir/srcdir")
[ -r "$hdr/Makefile" ] || { echo "check-patches: no kernel headers in $hdr: run 'make kernel'" >&2; exit 2; }

exec 9>"$CACHE/lock"
flock 9
git -C "$src" reset -q --hard pristine
git -C "$src" clean -fdqx -e /.vfiopin-tarball

# checkpatch's SPDX check runs scripts/spdxcheck.py with whatever python3 is
# first on PATH; Debian's has the modules it needs (python3-ply, python3-git).
export PATH=/usr/bin:$PATH
# built MODULE...: each MODULE.ko came out of the last build
built() {
	local m
	for m; do [ -s "$tmp/m/$m.ko" ] || return 1; done
}
log=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$log" "$tmp"' EXIT

cd "$src" || exit 2
for p in $("$TOP/lab/kernel.sh" series); do
	if "$src/scripts/checkpatch.pl" --strict -q "$PATCHDIR/$p" > "$log" 2>&1 &&
	   ! grep -qE '^(ERROR|WARNING|CHECK)' "$log"; then
		pass "[$base] checkpatch --strict clean: $p"
	else
		fail "[$base] checkpatch --strict: $p"; cat "$log"
	fi
	if ! patch -d "$src" -p1 -F0 -s -f < "$PATCHDIR/$p" > "$log" 2>&1; then
		fail "[$base] $p does not apply"; cat "$log"; break
	fi
	# Rebuild the modules the patch touches, against the patches before it only.
	touched=()
	for f in $(sed -n 's|^+++ b/||p' "$PATCHDIR/$p"); do
		case $f in
		drivers/vfio/vfio_iommu_type1.c|include/trace/events/vfio_type1.h) touched+=(vfio_iommu_type1) ;;
		samples/vfio-mdev/mpin.c) touched+=(mpin) ;;
		*.c|*.h) fail "[$base] $p touches $f, outside the modules this builds"; continue 2 ;;
		esac
	done
	if [ ${#touched[@]} -eq 0 ]; then
		pass "[$base] $p touches no C file"
		continue
	fi
	read -r -a touched <<< "$(printf '%s\n' "${touched[@]}" | sort -u | tr '\n' ' ')"
	rm -rf "$tmp/m"
	"$TOP/lab/kernel.sh" modules "$src" "$tmp/m" "${touched[@]}"
	if "$TOP/lab/stock/stock.sh" kbuild "$hdr" "$tmp/m" > "$log" 2>&1 &&
	   built "${touched[@]}"; then
		pass "[$base] builds alone: $p (${touched[*]/%/.ko})"
	else
		fail "[$base] does not build alone: $p"; tail -30 "$log"
	fi
done

# Kconfig: mpin's entry and every option the lab needs, in the patched tree.
if "$TOP/lab/kernel.sh" kconfig "$tmp/kconfig" > "$log" 2>&1 &&
   grep -qx 'CONFIG_SAMPLE_VFIO_MDEV_MPIN=m' "$tmp/kconfig/.config"; then
	pass "[$base] the series' Kconfig: the lab fragments resolve, CONFIG_SAMPLE_VFIO_MDEV_MPIN=m"
else
	fail "[$base] the series' Kconfig"; tail -30 "$log"
fi

summary check-patches
