#!/bin/bash
# The stock lab: Debian's own linux-image-6.1.*-amd64, unpacked from the
# package into the cache (never installed on this machine), booted by
# lab/run.sh like the lab kernel; the sample mdev driver built out of tree
# against the matching linux-headers package.
#
#   lab/stock/stock.sh build     download, unpack, initramfs, mpin.ko; print the dir
#   lab/stock/stock.sh path      print the dir, fail if not built
#
# The result dir holds bzImage and initrd.img (for lab/run.sh --kernel),
# root/ (the unpacked packages, with depmod run: modprobe -d root/),
# modules/mpin.ko and release.  Environment: VFIOPIN_CACHE (default
# /var/cache/vfiopin), STOCK_ABI (default: what linux-image-amd64 depends on).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${VFIOPIN_CACHE:-/var/cache/vfiopin}
die() { echo "stock.sh: $*" >&2; exit 1; }

abi() {
	if [ -n "${STOCK_ABI:-}" ]; then echo "$STOCK_ABI"; return; fi
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -1
}

build() {
	local ver dir debs tmp m
	ver=$(abi)
	if [ -z "$ver" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >&2 || true
		ver=$(abi)
	fi
	[ -n "$ver" ] || die "cannot tell which linux-image-6.1.*-amd64 Debian has (apt-get update?)"
	dir=$CACHE/stock/$ver
	if [ -r "$dir/done" ] && [ "$(cat "$dir/done")" = "$(sha256sum < "$0") $(sha256sum < "$TOP/lab/stock/init.c")" ]; then
		echo "$dir"; return
	fi
	echo "stock.sh: preparing Debian's $ver in $dir" >&2
	rm -rf "$dir"
	mkdir -p "$dir/debs" "$dir/root" "$dir/modules"
	debs=(linux-image-$ver linux-headers-$ver "linux-headers-${ver%-amd64}-common" linux-kbuild-6.1)
	(cd "$dir/debs" && apt-get download "${debs[@]}" >&2) ||
		die "apt-get download ${debs[*]} failed"
	for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
	depmod -b "$dir/root" "$ver"
	# the headers' Makefile includes the common headers by absolute path
	sed -i "s|/usr/src/|$dir/root/usr/src/|" "$dir/root/usr/src/linux-headers-$ver/Makefile"
	cp "$dir/root/boot/vmlinuz-$ver" "$dir/bzImage"
	echo "$ver" > "$dir/release"

	# the initramfs: a static /init and the virtio + 9p modules it loads
	tmp=$(mktemp -d)
	gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/init" "$TOP/lab/stock/init.c"
	mkdir -p "$tmp/lib"
	: > "$tmp/modules.order"
	for m in virtio_pci 9pnet_virtio 9p; do
		modprobe -d "$dir/root" -S "$ver" -D "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		cp "$ko" "$tmp/lib/"
		echo "/lib/$(basename "$ko")" >> "$tmp/modules.order"
	done
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/initrd.img"
	rm -rf "$tmp"

	# mpin, the sample mdev driver, out of tree against Debian's headers
	tmp=$(mktemp -d)
	cp "$("$TOP/lab/kernel.sh" srcdir)/samples/vfio-mdev/mpin.c" "$tmp/"
	echo 'obj-m := mpin.o' > "$tmp/Kbuild"
	make -s -C "$dir/root/usr/src/linux-headers-$ver" M="$tmp" modules >&2 ||
		die "building mpin against linux-headers-$ver failed"
	cp "$tmp/mpin.ko" "$dir/modules/"
	rm -rf "$tmp"
	echo "$(sha256sum < "$0") $(sha256sum < "$TOP/lab/stock/init.c")" > "$dir/done"
	echo "$dir"
}

case ${1:-} in
build) build ;;
path)
	d=$CACHE/stock/$(abi)
	[ -r "$d/done" ] || die "the stock lab is not prepared: run 'lab/stock/stock.sh build'"
	echo "$d" ;;
*) die "usage: stock.sh build|path" ;;
esac
