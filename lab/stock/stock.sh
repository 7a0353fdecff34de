#!/bin/bash
# The stock lab: Debian's own kernel of one line (6.1, 6.12: the newest ABI
# Debian has for it, linux-image-<line>.*-amd64), unpacked from the package
# into the cache (never installed on this machine), booted by lab/run.sh like
# the lab kernel; the sample mdev driver built out of tree against the
# matching linux-headers package.
#
#   lab/stock/stock.sh build [LINE]   download, unpack, initramfs, mpin.ko; print the dir
#   lab/stock/stock.sh path [LINE]    print the dir, fail if not built
#   lab/stock/stock.sh abi [LINE]     the package ABI the line resolves to
#   lab/stock/stock.sh mpin-src LINE DIR   mpin.c of that line's series, into DIR
#
# LINE defaults to 6.1.  The result dir holds bzImage and initrd.img (for
# lab/run.sh --kernel), root/ (the unpacked packages, with depmod run:
# modprobe -d root/), modules/mpin.ko, release and line.  Environment:
# VFIOPIN_CACHE (default /var/cache/vfiopin), STOCK_ABI (an exact ABI, such
# as 6.12.117+deb12-amd64, instead of the newest of the line).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${VFIOPIN_CACHE:-/var/cache/vfiopin}
die() { echo "stock.sh: $*" >&2; exit 1; }

line=${2:-6.1}
[[ $line =~ ^[0-9]+\.[0-9]+$ ]] || die "a kernel line is MAJOR.MINOR (6.1, 6.12), not '$line'"

# The newest linux-image-<line>.*-amd64 that apt can install (the plain
# flavour: not cloud, rt, dbg or unsigned), by version order of the names.
abi() {
	if [ -n "${STOCK_ABI:-}" ]; then echo "$STOCK_ABI"; return; fi
	local re="^linux-image-(${line//./\\.}\\.[0-9]+(-[0-9]+)?(\\+deb[0-9]+)?-amd64)\$" p
	local names pol
	names=$(apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$re" | sort -rV || true)
	for p in $names; do
		pol=$(apt-cache policy "$p" 2>/dev/null || true)
		if [[ $pol =~ Candidate:\ [0-9] ]]; then
			echo "${p#linux-image-}"
			return
		fi
	done
}

# linux-headers-<abi> depends on its -common headers and on the kbuild
# package of its line; whatever those are named, take them from apt.
header_debs() {
	local deps
	deps=$(apt-cache depends "linux-headers-$1" 2>/dev/null || true)
	sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ <>]*\)$/\1/p' <<< "$deps" | sort -u
}

stamp() { echo "$(sha256sum < "$0") $(sha256sum < "$TOP/lab/stock/init.c") $(sha256sum < "$(mpin_patch)")"; }

# the patch of this line's series (else 6.1's) that adds mpin.c; the file is
# the same in every series (tests/host/run.sh checks it)
mpin_patch() {
	local dir=$TOP/kernel-patch/$line
	[ -r "$dir/series" ] || dir=$TOP/kernel-patch/6.1
	grep -l '^+++ b/samples/vfio-mdev/mpin.c' "$dir"/*.patch | head -1
}

# mpin_src DIR: write that mpin.c into DIR, from the patch alone
mpin_src() {
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && git apply --include=samples/vfio-mdev/mpin.c "$(mpin_patch)") &&
		mv "$tmp/samples/vfio-mdev/mpin.c" "$1/" ||
		{ rm -rf "$tmp"; die "cannot take mpin.c from $(mpin_patch)"; }
	rm -rf "$tmp"
}

build() {
	local ver dir debs tmp m
	ver=$(abi)
	if [ -z "$ver" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >&2 || true
		ver=$(abi)
	fi
	[ -n "$ver" ] || die "cannot tell which linux-image-$line.*-amd64 Debian has (apt-get update?)"
	dir=$CACHE/stock/$ver
	if [ -r "$dir/done" ] && [ "$(cat "$dir/done")" = "$(stamp)" ]; then
		echo "$dir"; return
	fi
	echo "stock.sh: preparing Debian's $ver in $dir" >&2
	rm -rf "$dir"
	mkdir -p "$dir/debs" "$dir/root" "$dir/modules"
	mapfile -t debs < <(echo "linux-image-$ver"; echo "linux-headers-$ver"; header_debs "$ver")
	[ ${#debs[@]} -ge 4 ] ||
		die "linux-headers-$ver does not say which -common and kbuild packages it needs: ${debs[*]}"
	(cd "$dir/debs" && apt-get download "${debs[@]}" >&2) ||
		die "apt-get download ${debs[*]} failed"
	for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
	depmod -b "$dir/root" "$ver"
	# the headers' Makefile includes the common headers by absolute path
	sed -i "s|/usr/src/|$dir/root/usr/src/|" "$dir/root/usr/src/linux-headers-$ver/Makefile"
	cp "$dir/root/boot/vmlinuz-$ver" "$dir/bzImage"
	echo "$ver" > "$dir/release"
	echo "$line" > "$dir/line"

	# the initramfs: a static /init and the virtio + 9p modules it loads,
	# uncompressed (init_module takes an ELF image; newer lines ship .ko.xz)
	tmp=$(mktemp -d)
	gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/init" "$TOP/lab/stock/init.c"
	mkdir -p "$tmp/lib"
	: > "$tmp/modules.order"
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe -d "$dir/root" -S "$ver" -D "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		m=$(basename "$ko")
		case $m in
		*.ko) cp "$ko" "$tmp/lib/$m" ;;
		*.ko.xz) m=${m%.xz}; xz -dc "$ko" > "$tmp/lib/$m" ;;
		*.ko.zst) m=${m%.zst}; zstd -qdc "$ko" > "$tmp/lib/$m" ;;
		*.ko.gz) m=${m%.gz}; gzip -dc "$ko" > "$tmp/lib/$m" ;;
		*) die "a module in a format /init cannot load: $ko" ;;
		esac
		echo "/lib/$m" >> "$tmp/modules.order"
	done
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/initrd.img"
	rm -rf "$tmp"

	# mpin, the sample mdev driver, out of tree against Debian's headers
	tmp=$(mktemp -d)
	mpin_src "$tmp"
	echo 'obj-m := mpin.o' > "$tmp/Kbuild"
	make -s -C "$dir/root/usr/src/linux-headers-$ver" M="$tmp" modules >&2 ||
		die "building mpin against linux-headers-$ver failed"
	cp "$tmp/mpin.ko" "$dir/modules/"
	rm -rf "$tmp"
	stamp > "$dir/done"
	echo "$dir"
}

case ${1:-} in
build) build ;;
abi) v=$(abi); [ -n "$v" ] || die "no linux-image-$line.*-amd64 in apt's lists"; echo "$v" ;;
mpin-src) [ -d "${3:-}" ] || die "usage: stock.sh mpin-src LINE DIR"; mpin_src "$3" ;;
path)
	d=$CACHE/stock/$(abi)
	[ -r "$d/done" ] || die "the stock lab for $line is not prepared: run 'lab/stock/stock.sh build $line'"
	echo "$d" ;;
*) die "usage: stock.sh build|path|abi [LINE], stock.sh mpin-src LINE DIR" ;;
esac
