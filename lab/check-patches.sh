#!/bin/bash
# Check the kernel patch series the way a maintainer would:
#  - scripts/checkpatch.pl --strict from the same tree: no error, warning or check;
#  - every patch, applied on top of the ones before it, compiles on its own
#    (the objects it touches, with -Werror);
#  - the mpin sample builds out of tree against the lab kernel build.
# The series of one base (VFIOPIN_BASE, as lab/kernel.sh takes it), checked
# with that base's own tree and build.  Needs that lab kernel built
# (make kernel KERNEL=...).  Prints "N passed, N failed".
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VFIOPIN_CACHE:-/var/cache/vfiopin}
PATCHDIR=$("$TOP/lab/kernel.sh" patchdir) || exit 2
pass=0 failed=0
base=$(basename "$PATCHDIR")
ok() { echo "ok: [$base] $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: [$base] $*"; failed=$((failed + 1)); }

kdir=$("$TOP/lab/kernel.sh" path lab) || exit 2
obj=$(cat "$kdir/objdir")
src=$(cat "$kdir/srcdir")
[ -d "$obj/include/generated" ] || { echo "check-patches: no prepared build in $obj: run 'make kernel'" >&2; exit 2; }

exec 9>"$CACHE/lock"
flock 9
git -C "$src" reset -q --hard pristine
git -C "$src" clean -fdqx -e /.vfiopin-tarball

# checkpatch's SPDX check runs scripts/spdxcheck.py with whatever python3 is
# first on PATH; Debian's has the modules it needs (python3-ply, python3-git).
export PATH=/usr/bin:$PATH
log=$(mktemp)
trap 'rm -f "$log"' EXIT

cd "$src" || exit 2
for p in $("$TOP/lab/kernel.sh" series); do
	if "$src/scripts/checkpatch.pl" --strict -q "$PATCHDIR/$p" > "$log" 2>&1 &&
	   ! grep -qE '^(ERROR|WARNING|CHECK)' "$log"; then
		ok "checkpatch --strict clean: $p"
	else
		bad "checkpatch --strict: $p"; cat "$log"
	fi
	if ! patch -d "$src" -p1 -F0 -s -f < "$PATCHDIR/$p" > "$log" 2>&1; then
		bad "$p does not apply"; cat "$log"; break
	fi
	# Rebuild what the patch touches, against the patches before it only.
	targets=()
	for f in $(sed -n 's|^+++ b/||p' "$PATCHDIR/$p"); do
		case $f in
		*.c) targets+=("${f%.c}.o") ;;
		esac
	done
	if [ ${#targets[@]} -eq 0 ]; then
		ok "$p touches no C file"
		continue
	fi
	if make -s -C "$src" O="$obj" ARCH=x86_64 LOCALVERSION=-vfiopin KCFLAGS=-Werror olddefconfig "${targets[@]}" > "$log" 2>&1; then
		ok "builds alone: $p (${targets[*]})"
	else
		bad "does not build alone: $p"; tail -30 "$log"
	fi
done

# The sample driver out of tree, against the lab kernel's build directory.
tmp=$(mktemp -d)
cp "$src/samples/vfio-mdev/mpin.c" "$tmp/"
echo 'obj-m += mpin.o' > "$tmp/Makefile"
if make -s -C "$obj" M="$tmp" LOCALVERSION=-vfiopin KCFLAGS=-Werror modules > "$log" 2>&1 && [ -s "$tmp/mpin.ko" ]; then
	ok "mpin builds out of tree"
else
	bad "mpin out-of-tree build"; tail -30 "$log"
fi
rm -rf "$tmp"

echo "check-patches: $pass passed, $failed failed"
[ $failed -eq 0 ]
