#!/bin/bash
# Install the Debian packages vfiopin needs: `deps.sh host` what the tools
# and the host tier need, `deps.sh` (all) the lab's too.  Does nothing when
# everything is already there.
set -euo pipefail

# what the host tier (make check-host), the tools and the fuzzers need
HOST_PKGS=(
	build-essential clang llvm libclang-rt-14-dev clang-format bpftool libbpf-dev
	pkg-config libcmocka-dev libncurses-dev libjansson-dev libmicrohttpd-dev zlib1g-dev
	python3 curl git util-linux
	# promtool for the exposition and the rules
	prometheus
)
# and the lab: the kernel build, QEMU, the tracers run beside vfiopin
LAB_PKGS=(
	bc bison flex libelf-dev libssl-dev dwarves cpio kmod xz-utils zstd patch
	linux-source-6.1 linux-source-6.12 python3-ply python3-git
	qemu-system-x86 linux-perf bpftrace bpfcc-tools python3-bpfcc procps tmux
	gnuplot-nox
)

case ${1:-all} in
host) PKGS=("${HOST_PKGS[@]}") ;;
all) PKGS=("${HOST_PKGS[@]}" "${LAB_PKGS[@]}") ;;
*) echo "deps.sh: usage: deps.sh [host|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
