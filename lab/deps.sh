#!/bin/bash
# Install the Debian packages vfiopin needs to build, test and run the lab.
# Does nothing when everything is already there.
set -euo pipefail

PKGS=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev dwarves cpio kmod
	xz-utils patch git linux-source-6.1 python3-ply python3-git
	# lab
	qemu-system-x86 linux-perf bpftrace bpfcc-tools python3-bpfcc procps
	# BPF and userspace
	clang llvm libclang-rt-14-dev bpftool libbpf-dev pkg-config libcmocka-dev libncurses-dev
	libjansson-dev tmux
	# exporter, capture plots, Prometheus rules and the end-to-end scrape
	libmicrohttpd-dev gnuplot-nox prometheus
)

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
