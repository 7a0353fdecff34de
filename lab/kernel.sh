#!/bin/bash
# The vfiopin lab kernels of one Debian kernel line, cached outside the work
# tree by a content hash.
#
#   lab: Debian's own kernel image of the line (lab/stock/stock.sh: the newest
#        linux-image-<line>.*-amd64), with the two modules the series changes
#        or adds, vfio_iommu_type1.ko and the mpin sample, built from Debian's
#        linux-source-<line> of the same version (the installed one, or that
#        version's package from the archive) + the series
#        (kernel-patch/<line>/series) against that image's headers.  Every
#        line of the series lives in those two modules, so this is the
#        patched kernel, in seconds rather than a whole kernel's build.
#   debug: a whole kernel built from that patched tree: `make tinyconfig` +
#        the config fragments (kernel-patch/config/) + lockdep, KASAN and
#        kmemleak (debug.config).
#
#   lab/kernel.sh build [lab|debug]   build (or reuse) and print the result dir
#   lab/kernel.sh path  [lab|debug]   print the result dir, fail if not built
#   lab/kernel.sh hash  [lab|debug]   print the cache key
#   lab/kernel.sh srcdir              prepare the patched tree, print its path
#   lab/kernel.sh modules SRC DIR [MODULE...]  write the Kbuild tree of
#                                     the series' modules (or of MODULEs),
#                                     as SRC has them, into DIR
#   lab/kernel.sh kconfig DIR         configure the patched tree into DIR with
#                                     the lab fragments, each option checked
#   lab/kernel.sh series              the patch file names, in order
#   lab/kernel.sh patchdir            the directory holding them
#   lab/kernel.sh bases               the kernel lines a series exists for
#
# A lab result dir holds bzImage, initrd.img and root/ (Debian's modules with
# the patched type1 in updates/, depmod run) for lab/run.sh --kernel and
# tests/guest/lib.sh; modules/ (mpin.ko, vfio_iommu_type1.ko); vmlinux.btf;
# release, source-version, base, and "patched", which tells the lab tests the
# tracepoints are there.
#
# VFIOPIN_BASE picks the base: a Debian kernel line with a series under
# kernel-patch/ (6.1, the default, or 6.12); `make kernel KERNEL=6.12` sets it.
# VFIOPIN_PATCHDIR overrides that base's patch directory.
# Environment: VFIOPIN_CACHE (default /var/cache/vfiopin), JOBS (default nproc+1),
# LINUX_SOURCE_TARBALL (default /usr/src/linux-source-<base>.tar.xz), and
# STOCK_ABI as lab/stock/stock.sh takes it.
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
		# the lab's image is the one of the source's version (build_lab
		# checks): the tarball above stands for both
		if [ "$flavour" = lab ]; then
			echo "image ${STOCK_ABI:-newest}"
			sha256sum < "$TOP/lab/stock/stock.sh"
		else
			for f in $(fragments "$flavour"); do sha256sum < "$f"; done
		fi
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
	   [ "$(cat "$src/.vfiopin-tarball" 2>/dev/null)" != "$(stat -c '%n %s %Y' "$TARBALL")" ]; then
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
		stat -c '%n %s %Y' "$TARBALL" > "$src/.vfiopin-tarball"
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

# modules_tree SRC DIR [MODULE...]: the Kbuild tree of the modules the series
# changes or adds, as SRC has them now (symbolic links), in DIR; its obj-m
# lists the MODULEs, or without them those whose source SRC has (mpin.c
# only once its patch is applied).
modules_tree() {
	local src=$1 dir=$2
	shift 2
	mkdir -p "$dir/include/trace/events"
	ln -sfn "$src/drivers/vfio/vfio_iommu_type1.c" "$dir/vfio_iommu_type1.c"
	ln -sfn "$src/drivers/vfio/vfio.h" "$dir/vfio.h"
	local objs=vfio_iommu_type1.o
	if [ -e "$src/samples/vfio-mdev/mpin.c" ]; then
		ln -sfn "$src/samples/vfio-mdev/mpin.c" "$dir/mpin.c"
		objs="$objs mpin.o"
	fi
	rm -f "$dir/include/trace/events/vfio_type1.h"
	[ -e "$src/include/trace/events/vfio_type1.h" ] &&
		ln -sfn "$src/include/trace/events/vfio_type1.h" "$dir/include/trace/events/"
	# the headers package's include directories come first: only what the
	# series adds is taken from here
	[ $# -gt 0 ] && objs=$(printf '%s.o ' "$@")
	printf 'obj-m := %s\nccflags-y := -I$(src)/include\n' "$objs" > "$dir/Kbuild"
}

# image_tarball DEBVERSION: TARBALL is the linux-source of that Debian
# version (the lab image's own): the installed one when it is that version,
# else that version's package from Debian's archive, kept in the cache.  A
# line's newest source and its newest image are not always of one version
# (a source upload reaches the archive before its images).  A tarball given
# by LINUX_SOURCE_TARBALL is taken as it is.
image_tarball() {
	local want=$1 have dir deb
	[ -n "${LINUX_SOURCE_TARBALL:-}" ] && return 0
	have=$(dpkg-query -W -f '${Version}' "linux-source-$BASE" 2>/dev/null || true)
	[ "$have" = "$want" ] && return 0
	dir=$CACHE/source/linux-source-$BASE-$want
	if [ ! -s "$dir/linux-source-$BASE.tar.xz" ]; then
		echo "kernel.sh: linux-source-$BASE ${have:-(none)} is installed, the image is of $want: fetching that version's source" >&2
		rm -rf "$dir"
		mkdir -p "$dir"
		(cd "$dir" && apt-get download -q "linux-source-$BASE=$want") >&2 ||
			die "Debian's archive has no linux-source-$BASE $want, the source of the lab's image (apt-get update; or STOCK_ABI=, an image whose source it has)"
		deb=$(ls "$dir/linux-source-${BASE}_"*.deb)
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$BASE.tar.xz" > "$dir/tarball.tmp" &&
			[ -s "$dir/tarball.tmp" ] ||
			die "no usr/src/linux-source-$BASE.tar.xz in $deb"
		mv "$dir/tarball.tmp" "$dir/linux-source-$BASE.tar.xz"
		rm -f "$deb"
	fi
	TARBALL=$dir/linux-source-$BASE.tar.xz
}

# the lab flavour, into $1: Debian's image and modules, the series' two
# modules built against its headers
build_lab() {
	local out=$1 stock ver hdr src obj log t0=$SECONDS
	stock=$("$TOP/lab/stock/stock.sh" build "$BASE")
	ver=$(cat "$stock/release")
	hdr=$stock/root/usr/src/linux-headers-$ver
	image_tarball "$(dpkg-deb -f "$(ls "$stock/debs/linux-headers-${ver}_"*.deb)" Version)"
	src=$(prepare_src)
	local image_version
	image_version=$(cat "$stock/source-version")
	[ "$(src_version "$src")" = "$image_version" ] ||
		die "linux-source-$BASE is $(src_version "$src"), Debian's image $ver is $image_version: the patched modules must come from the image's own source (apt-get install the newest of both)"
	obj=$CACHE/build/$BASE-lab
	rm -rf "$obj"
	modules_tree "$src" "$obj"
	echo "kernel.sh: building the series' modules for Debian's $ver in $obj" >&2
	log=$CACHE/build-$BASE-lab.log
	if ! "$TOP/lab/stock/stock.sh" kbuild "$hdr" "$obj" -j"$JOBS" > "$log" 2>&1; then
		tail -40 "$log" >&2
		die "module build failed; full log: $log"
	fi
	[ -s "$obj/vfio_iommu_type1.ko" ] && [ -s "$obj/mpin.ko" ] ||
		die "the module build made no vfio_iommu_type1.ko or mpin.ko (log: $log)"
	readelf -S "$obj/vfio_iommu_type1.ko" | grep -q '\.BTF' ||
		die "vfio_iommu_type1.ko has no BTF (fentry needs it): is $hdr/vmlinux there? (log: $log)"
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp/modules" "$out.tmp/root/lib/modules"
	cp "$obj/vfio_iommu_type1.ko" "$obj/mpin.ko" "$out.tmp/modules/"
	cp "$stock/bzImage" "$stock/initrd.img" "$out.tmp/"
	ln -s "$stock/headers" "$out.tmp/headers"
	# Debian's modules, linked rather than copied; the patched type1 in
	# updates/, which modprobe prefers
	local mods=$out.tmp/root/lib/modules/$ver
	cp -al "$stock/root/lib/modules/$ver" "$mods"
	rm -f "$mods"/modules.*.bin "$mods"/modules.{dep,alias,symbols,softdep,devname}
	mkdir -p "$mods/updates"
	cp "$obj/vfio_iommu_type1.ko" "$mods/updates/"
	depmod -b "$out.tmp/root" "$ver"
	grep -q '^updates/vfio_iommu_type1.ko:' "$mods/modules.dep" ||
		die "depmod did not take the patched vfio_iommu_type1.ko"
	objcopy -O binary --only-section=.BTF "$hdr/vmlinux" "$out.tmp/vmlinux.btf"
	echo "$ver" > "$out.tmp/release"
	echo "$image_version" > "$out.tmp/source-version"
	echo "$hdr" > "$out.tmp/hdrdir"
	describe "$out.tmp" "$obj" "$src" "$t0"
}

# the debug flavour, into $1: a whole kernel from the patched tree
build_full() {
	local out=$1 flavour=debug src obj log t0=$SECONDS
	src=$(prepare_src)
	obj=$CACHE/build/$BASE-$flavour
	configure "$src" "$obj" "$flavour"
	echo "kernel.sh: building the $BASE $flavour kernel with -j$JOBS in $obj" >&2
	log=$CACHE/build-$BASE-$flavour.log
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
	describe "$out.tmp" "$obj" "$src" "$t0"
}

# describe RESULT OBJ SRC T0: what every result dir says of its build; its
# "patched" file last, which marks it done
describe() {
	echo "$((SECONDS - $4))" > "$1/build-seconds"
	echo "$2" > "$1/objdir"
	echo "$3" > "$1/srcdir"
	echo "$BASE" > "$1/base"
	echo "$BASE" > "$1/patched"
	echo "kernel.sh: built in $((SECONDS - $4)) s" >&2
}

build() {
	local flavour=$1 key out
	need_tools
	key=$(cache_key "$flavour")
	out=$CACHE/kernels/$flavour-$key
	if [ -e "$out/patched" ]; then echo "$out"; return; fi
	mkdir -p "$CACHE"
	exec 9>"$CACHE/lock"
	flock 9
	if [ -e "$out/patched" ]; then echo "$out"; return; fi
	if [ "$flavour" = lab ]; then build_lab "$out"; else build_full "$out"; fi
	rm -rf "$out"
	mv "$out.tmp" "$out"
	ln -sfn "$(basename "$out")" "$CACHE/kernels/$flavour-$BASE-latest"
	echo "$out"
}

cmd=${1:-build}
flavour=lab
case $cmd in
build|path|hash)
	flavour=${2:-lab}
	case $flavour in lab|debug) ;; *) die "unknown flavour '$flavour' (lab or debug)" ;; esac ;;
esac
case $cmd in
build) build "$flavour" ;;
hash) need_tools; cache_key "$flavour" ;;
path)
	out=$CACHE/kernels/$flavour-$(cache_key "$flavour")
	[ -e "$out/patched" ] || die "the $BASE $flavour kernel for this tree is not built: run 'make kernel KERNEL=$BASE'"
	echo "$out" ;;
series) series ;;
patchdir) echo "$PATCHDIR" ;;
bases) bases ;;
modules)
	[ -d "${2:-}" ] && [ -n "${3:-}" ] || die "usage: kernel.sh modules SRC DIR [MODULE...]"
	shift
	modules_tree "$@" ;;
kconfig)
	[ -n "${2:-}" ] || die "usage: kernel.sh kconfig DIR"
	need_tools
	configure "$CACHE/src/linux-$BASE" "$2" lab ;;
srcdir)
	need_tools
	mkdir -p "$CACHE"
	exec 9>"$CACHE/lock"
	flock 9
	prepare_src ;;
*) die "usage: kernel.sh build|path|hash|srcdir|series|patchdir|bases [lab|debug], kernel.sh modules SRC DIR, kernel.sh kconfig DIR" ;;
esac
