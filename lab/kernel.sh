#!/bin/bash
# Build the vfiopin lab kernel: Debian's linux-source-<base> + the series for
# that base (kernel-patch/<base>/series) + the config fragments
# (kernel-patch/config/), cached outside the work tree by a content hash.
#
#   lab/kernel.sh build [lab|debug]   build (or reuse) and print the result dir
#   lab/kernel.sh path  [lab|debug]   print the result dir, fail if not built
#   lab/kernel.sh hash  [lab|debug]   print the cache key
#   lab/kernel.sh srcdir              prepare the patched tree, print its path
#   lab/kernel.sh series              the patch file names, in order
#   lab/kernel.sh patchdir            the directory holding them
#   lab/kernel.sh bases               the kernel lines a series exists for
#
# VFIOPIN_BASE picks the base: a Debian kernel line with a series under
# kernel-patch/ (6.1, the default, or 6.12); `make kernel KERNEL=6.12` sets it.
# VFIOPIN_PATCHDIR overrides that base's patch directory.
# Environment: VFIOPIN_CACHE (default /var/cache/vfiopin), JOBS (default nproc+1),
# LINUX_SOURCE_TARBALL (default /usr/src/linux-source-<base>.tar.xz).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BASE=${VFIOPIN_BASE:-6.1}
CONFIGDIR=$TOP/kernel-patch/config
PATCHDIR=${VFIOPIN_PATCHDIR:-$TOP/kernel-patch/$BASE}
CACHE=${VFIOPIN_CACHE:-/var/cache/vfiopin}
TARBALL=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-$BASE.tar.xz}
JOBS=${JOBS:-$(($(nproc) + 1))}

die() { echo "kernel.sh: $*" >&2; exit 1; }

bases() {
	local d
	for d in "$TOP"/kernel-patch/*/series; do basename "$(dirname "$d")"; done
}

[ -r "$PATCHDIR/series" ] ||
	die "no patch series for kernel '$BASE' (VFIOPIN_BASE / KERNEL=): there are $(bases | tr '\n' ' ')"
EXPECTED=$(sed -n 's/^# base: *//p' "$PATCHDIR/series")

need_tools() {
	local t missing=()
	for t in gcc make bc bison flex pahole cpio xz patch git objcopy perl; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] ||
		die "missing build tools: ${missing[*]} (run 'make deps' or lab/deps.sh)"
	[ -r "$TARBALL" ] ||
		die "no kernel source at $TARBALL: install Debian's linux-source-$BASE ('make deps')"
}

series() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PATCHDIR/series"; }

# the common fragment, what this base needs beside it, the debug options
fragments() {
	echo "$CONFIGDIR/lab.config"
	[ -r "$CONFIGDIR/lab-$BASE.config" ] && echo "$CONFIGDIR/lab-$BASE.config"
	[ "$1" = debug ] && echo "$CONFIGDIR/debug.config"
	return 0
}

cache_key() {
	local flavour=$1
	{
		echo "base $BASE tarball $(stat -c '%s %Y' "$TARBALL") $(basename "$TARBALL")"
		echo "gcc $(gcc -dumpfullversion) pahole $(pahole --version)"
		# contents only: the key must not depend on where the tree is
		cat "$0" "$PATCHDIR/series" | sha256sum
		for p in $(series); do sha256sum < "$PATCHDIR/$p"; done
		for f in $(fragments "$flavour"); do sha256sum < "$f"; done
	} | sha256sum | cut -c1-16
}

src_version() {
	awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} /^SUBLEVEL =/{s=$3}
	     END{print v"."p"."s}' "$1/Makefile"
}

# Extract once per tarball; keep a pristine git commit so re-patching only
# touches the files the series changes (make then rebuilds just those).
prepare_src() {
	local src=$CACHE/src/linux-$BASE
	if [ ! -e "$src/.git/refs/tags/pristine" ] ||
	   [ "$(cat "$src/.vfiopin-tarball" 2>/dev/null)" != "$(stat -c '%s %Y' "$TARBALL")" ]; then
		echo "kernel.sh: extracting $TARBALL" >&2
		# only this line's build trees: the other line's stay usable
		rm -rf "$src" "$CACHE/build/$BASE-"*
		mkdir -p "$CACHE/src"
		local tmp
		tmp=$(mktemp -d "$CACHE/src/extract.XXXXXX")
		tar -C "$tmp" -xf "$TARBALL"
		mv "$tmp"/linux-source-* "$src"
		rmdir "$tmp"
		git -C "$src" init -q >/dev/null
		git -C "$src" add -A -f
		git -C "$src" -c user.name=vfiopin -c user.email=vfiopin@localhost \
			commit -q -m pristine
		git -C "$src" tag pristine
		stat -c '%s %Y' "$TARBALL" > "$src/.vfiopin-tarball"
	fi
	local found
	found=$(src_version "$src")
	# Restore pristine content without touching unchanged files' mtimes.
	git -C "$src" reset -q --hard pristine
	git -C "$src" clean -fdqx -e /.vfiopin-tarball
	local p
	for p in $(series); do
		[ -r "$PATCHDIR/$p" ] || die "series names $p, which does not exist"
		if ! out=$(patch -d "$src" -p1 -F0 --dry-run -f < "$PATCHDIR/$p" 2>&1); then
			echo "$out" | grep -E 'FAILED|can.t find file|malformed|Reversed' >&2 || echo "$out" >&2
			die "patch $p does not apply to linux-source $found (the series is for $EXPECTED)"
		fi
		patch -d "$src" -p1 -F0 -s -f < "$PATCHDIR/$p" >/dev/null
	done
	[ "$found" = "$EXPECTED" ] ||
		echo "kernel.sh: warning: linux-source is $found, the series was made for $EXPECTED; it applied" >&2
	echo "$src"
}

configure() {
	local src=$1 obj=$2 flavour=$3
	mkdir -p "$obj"
	make -s -C "$src" O="$obj" ARCH=x86_64 tinyconfig >/dev/null
	# shellcheck disable=SC2046
	KCONFIG_CONFIG="$obj/.config" "$src/scripts/kconfig/merge_config.sh" \
		-m -O "$obj" "$obj/.config" $(fragments "$flavour") >/dev/null
	make -s -C "$src" O="$obj" ARCH=x86_64 olddefconfig >/dev/null
	# Every requested option must have survived dependency resolution.
	local bad=0 line opt val got
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) opt=${line%%=*}; val=${line#*=} ;;
		*) continue ;;
		esac
		got=$(grep -E "^$opt=|^# $opt is not set" "$obj/.config" || true)
		if [ "$val" = n ]; then
			case $got in "$opt="*) echo "  $opt: wanted n, got ${got#*=}" >&2; bad=1 ;; esac
		elif [ "$got" != "$opt=$val" ]; then
			echo "  $opt: wanted $val, got ${got:-unset}" >&2; bad=1
		fi
	done < <(cat $(fragments "$flavour"))
	[ $bad -eq 0 ] || die "config fragment not satisfied (see above)"
}

build() {
	local flavour=$1 key out src obj
	need_tools
	key=$(cache_key "$flavour")
	out=$CACHE/kernels/$flavour-$key
	obj=$CACHE/build/$BASE-$flavour
	# a cached kernel counts only with its build tree, which check-patches
	# builds each patch in
	cached() { [ -e "$out/bzImage" ] && [ -d "$obj/include/generated" ]; }
	if cached; then echo "$out"; return; fi
	mkdir -p "$CACHE"
	exec 9>"$CACHE/lock"
	flock 9
	if cached; then echo "$out"; return; fi
	src=$(prepare_src)
	configure "$src" "$obj" "$flavour"
	local t0=$SECONDS
	echo "kernel.sh: building the $BASE $flavour kernel ($key) with -j$JOBS in $obj" >&2
	local log=$CACHE/build-$BASE-$flavour.log
	if ! make -C "$src" O="$obj" ARCH=x86_64 LOCALVERSION=-vfiopin -j"$JOBS" bzImage modules \
		> "$log" 2>&1; then
		tail -40 "$log" >&2
		die "kernel build failed; full log: $log"
	fi
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp/modules"
	cp "$obj/arch/x86/boot/bzImage" "$obj/.config" "$obj/System.map" "$out.tmp/"
	objcopy -O binary --only-section=.BTF "$obj/vmlinux" "$out.tmp/vmlinux.btf"
	# the sample driver, and mdev where it is a module (6.12: its users select it)
	find "$obj/samples" "$obj/drivers/vfio" -name '*.ko' -exec cp {} "$out.tmp/modules/" \;
	src_version "$src" > "$out.tmp/source-version"
	cp "$obj/include/config/kernel.release" "$out.tmp/release"
	echo "$((SECONDS - t0))" > "$out.tmp/build-seconds"
	echo "$obj" > "$out.tmp/objdir"
	echo "$src" > "$out.tmp/srcdir"
	echo "$BASE" > "$out.tmp/base"
	rm -rf "$out"
	mv "$out.tmp" "$out"
	ln -sfn "$(basename "$out")" "$CACHE/kernels/$flavour-$BASE-latest"
	echo "kernel.sh: built in $((SECONDS - t0)) s" >&2
	echo "$out"
}

cmd=${1:-build}
flavour=${2:-lab}
case $flavour in lab|debug) ;; *) die "unknown flavour '$flavour' (lab or debug)" ;; esac
case $cmd in
build) build "$flavour" ;;
hash) need_tools; cache_key "$flavour" ;;
path)
	out=$CACHE/kernels/$flavour-$(cache_key "$flavour")
	[ -e "$out/bzImage" ] || die "the $BASE $flavour kernel for this tree is not built: run 'make kernel KERNEL=$BASE'"
	echo "$out" ;;
series) series ;;
patchdir) echo "$PATCHDIR" ;;
bases) bases ;;
srcdir)
	need_tools
	mkdir -p "$CACHE"
	exec 9>"$CACHE/lock"
	flock 9
	prepare_src ;;
*) die "usage: kernel.sh build|path|hash|srcdir|series|patchdir|bases [lab|debug]" ;;
esac
