#!/bin/bash
# Install the Debian packages vfiopin needs, by what is to be done:
#   deps.sh build     build the tool (make bin, make install)
#   deps.sh package   and its Debian package (make deb)
#   deps.sh host      and the host tests (make check-host, check-package),
#                     the fuzzers
#   deps.sh [all]     and the lab (kernels, QEMU, the tracers run beside it)
# Does nothing when everything is already there.
set -euo pipefail

# building vfiopin: the compilers, bpftool for the skeleton, the libraries
BUILD_PKGS=(
	build-essential clang llvm bpftool libbpf-dev pkg-config
	libncurses-dev libjansson-dev libmicrohttpd-dev zlib1g-dev libyaml-dev libgnutls28-dev libcrypt-dev
)
# the Debian package: Debian's tools and lintian
PACKAGE_PKGS=(debhelper dpkg-dev fakeroot lintian git)
# the host tier, the fuzzers, the package's install test
HOST_PKGS=(
	libclang-rt-14-dev clang-format libcmocka-dev python3 curl util-linux openssl
	# promtool for the exposition and the rules
	prometheus
	# the unit's check, the completion's, the clean root the package is tried in
	systemd bash-completion man-db piuparts debootstrap
)
# and the lab: the kernel build, QEMU, the tracers run beside vfiopin
LAB_PKGS=(
	bc bison flex libelf-dev libssl-dev dwarves cpio kmod xz-utils zstd patch
	linux-source-6.1 linux-source-6.12 python3-ply python3-git
	qemu-system-x86 linux-perf bpftrace bpfcc-tools python3-bpfcc procps tmux
	gnuplot-nox
	# the exporter's unit run by systemd in the lab: its TLS key's group
	ssl-cert
)

case ${1:-all} in
build) PKGS=("${BUILD_PKGS[@]}") ;;
package) PKGS=("${BUILD_PKGS[@]}" "${PACKAGE_PKGS[@]}") ;;
host) PKGS=("${BUILD_PKGS[@]}" "${PACKAGE_PKGS[@]}" "${HOST_PKGS[@]}") ;;
all) PKGS=("${BUILD_PKGS[@]}" "${PACKAGE_PKGS[@]}" "${HOST_PKGS[@]}" "${LAB_PKGS[@]}") ;;
*) echo "deps.sh: usage: deps.sh [build|package|host|all]" >&2; exit 2 ;;
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
