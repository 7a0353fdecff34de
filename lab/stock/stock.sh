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
#   lab/stock/stock.sh kbuild HDR DIR [ARG...]   build DIR's modules against
#                                     the headers HDR (-Werror)
#
# LINE defaults to 6.1.  The result dir holds bzImage and initrd.img (for
# lab/run.sh --kernel), root/ (the unpacked packages, with depmod run:
# modprobe -d root/), headers/ (the common and the amd64 headers in one
# tree, for bcc), modules/mpin.ko, release, source-version and line.  Environment:
# VFIOPIN_CACHE (default /var/cache/vfiopin), STOCK_ABI (an exact ABI, such
# as 6.12.117+deb12-amd64, instead of the newest of the line).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${VFIOPIN_CACHE:-/var/cache/vfiopin}
die() { echo "stock.sh: $*" >&2; exit 1; }

line=6.1
if [ "${1:-}" != kbuild ]; then
	line=${2:-6.1}
	[[ $line =~ ^[0-9]+\.[0-9]+$ ]] || die "a kernel line is MAJOR.MINOR (6.1, 6.12), not '$line'"
fi

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

# vmlinux_of BZIMAGE: the ELF vmlinux inside an x86 bzImage, on stdout.  The
# setup header says where the compressed payload is: after (setup_sects + 1)
# sectors, at payload_offset (0x248), payload_length (0x24c) bytes long.
vmlinux_of() {
	local img=$1 sects off len magic
	sects=$(od -An -t u1 -j $((0x1f1)) -N 1 "$img" | tr -d ' ')
	[ "$sects" = 0 ] && sects=4
	off=$(od -An -t u4 -j $((0x248)) -N 4 "$img" | tr -d ' ')
	len=$(od -An -t u4 -j $((0x24c)) -N 4 "$img" | tr -d ' ')
	off=$(((sects + 1) * 512 + off))
	magic=$(od -An -t x1 -j "$off" -N 4 "$img" | tr -d ' ')
	local out
	out=$(mktemp)
	case $magic in
	fd377a58) tail -c +$((off + 1)) "$img" | head -c "$len" | xz -dc --single-stream > "$out" ;;
	28b52ffd) tail -c +$((off + 1)) "$img" | head -c "$len" | zstd -qdc > "$out" 2>/dev/null ;;
	1f8b*) tail -c +$((off + 1)) "$img" | head -c "$len" | gzip -dc > "$out" 2>/dev/null ;;
	*) rm -f "$out"; echo "stock.sh: $img: a payload this cannot unpack (magic $magic)" >&2; return 1 ;;
	esac
	if [ "$(od -An -t x1 -N 4 "$out" | tr -d ' ')" != 7f454c46 ]; then
		rm -f "$out"; echo "stock.sh: $img: its payload is not an ELF image" >&2; return 1
	fi
	cat "$out"
	rm -f "$out"
}

# kbuild HDR DIR [MAKE-ARG...]: build the out-of-tree modules in DIR against
# the headers HDR, warnings as errors.  Headers without resolve_btfids (6.1's)
# run `true` for it: only a module with a .BTF_ids section needs it, and such
# a module is refused.
kbuild() {
	local hdr=$1 dir=$2 ko
	shift 2
	local extra=()
	[ -x "$hdr/tools/bpf/resolve_btfids/resolve_btfids" ] || extra=(RESOLVE_BTFIDS=true)
	make -s -C "$hdr" M="$dir" KCFLAGS=-Werror "${extra[@]}" "$@" modules || return 1
	[ ${#extra[@]} -eq 0 ] && return 0
	for ko in "$dir"/*.ko; do
		if readelf -S "$ko" | grep -q '\.BTF_ids'; then
			echo "stock.sh: $ko has BTF ids to resolve, and $hdr has no resolve_btfids" >&2
			return 1
		fi
	done
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
	# the headers' Makefile includes the common headers by absolute path, and
	# the modules' build and source links (bcc's way to them) are absolute
	sed -i "s|/usr/src/|$dir/root/usr/src/|" "$dir/root/usr/src/linux-headers-$ver/Makefile"
	for m in build source; do
		ln -sfn "$dir/root$(readlink "$dir/root/lib/modules/$ver/$m")" "$dir/root/lib/modules/$ver/$m"
	done
	# one tree of both (links), as bcc takes headers (BCC_KERNEL_SOURCE)
	cp -as "$dir/root/usr/src/linux-headers-$ver/../$(basename "$(readlink "$dir/root/lib/modules/$ver/source")")" "$dir/headers"
	cp -asf "$dir/root/usr/src/linux-headers-$ver/." "$dir/headers/"
	cp "$dir/root/boot/vmlinuz-$ver" "$dir/bzImage"
	echo "$ver" > "$dir/release"
	# the upstream version the image was built from (6.1.192-3: 6.1.192)
	dpkg-deb -f "$dir/debs/linux-image-${ver}_"*.deb Version | sed 's/-.*//' > "$dir/source-version"
	# Modules built against the headers get BTF only with the image's
	# vmlinux (BTF) beside them: 6.12's headers have it, 6.1's do not.
	local hdr=$dir/root/usr/src/linux-headers-$ver
	[ -s "$hdr/vmlinux" ] || vmlinux_of "$dir/bzImage" > "$hdr/vmlinux" ||
		die "cannot take vmlinux out of $dir/bzImage"
	echo "$line" > "$dir/line"

	# the initramfs: a static /init and the virtio, 9p and virtio-net (lab/run.sh
# --hostfwd) modules it loads,
	# uncompressed (init_module takes an ELF image; newer lines ship .ko.xz)
	tmp=$(mktemp -d)
	gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/init" "$TOP/lab/stock/init.c"
	mkdir -p "$tmp/lib"
	: > "$tmp/modules.order"
	for m in virtio_pci 9pnet_virtio 9p virtio_net; do
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
	kbuild "$dir/root/usr/src/linux-headers-$ver" "$tmp" >&2 ||
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
kbuild) [ -d "${2:-}" ] && [ -d "${3:-}" ] || die "usage: stock.sh kbuild HDR DIR [MAKE-ARG...]"; shift; kbuild "$@" ;;
path)
	d=$CACHE/stock/$(abi)
	[ -r "$d/done" ] || die "the stock lab for $line is not prepared: run 'lab/stock/stock.sh build $line'"
	echo "$d" ;;
*) die "usage: stock.sh build|path|abi [LINE], stock.sh mpin-src LINE DIR, stock.sh kbuild HDR DIR" ;;
esac
