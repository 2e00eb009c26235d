#!/usr/bin/env bash
# Host setup for sluice: Debian packages, hugepages, bpffs.
# Idempotent: safe to run again; does nothing that is already done.
set -euo pipefail

PACKAGES=(
	build-essential meson ninja-build pkg-config
	dpdk dpdk-dev libdpdk-dev dpdk-doc
	libbpf-dev bpftool libxdp-dev xdp-tools clang llvm
	libhyperscan-dev libpcre2-dev check
	libpcap-dev libjansson-dev libyaml-dev libmicrohttpd-dev libsystemd-dev zlib1g-dev
	iproute2 ethtool tcpdump python3-scapy python3-yaml libclang-rt-14-dev
	linux-libc-dev gcc-multilib
	systemd groff-base man-db
	gnuplot-nox lua5.4 nftables
)
HUGEPAGES=${SLUICE_HUGEPAGES:-1024}

log() { printf 'setup: %s\n' "$*"; }

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "packages: all present"
		return
	fi
	log "packages: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

setup_hugepages() {
	local have
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$HUGEPAGES" ]; then
		echo "$HUGEPAGES" >/proc/sys/vm/nr_hugepages
		log "hugepages: $(cat /proc/sys/vm/nr_hugepages) x 2 MiB"
	fi
	mkdir -p /dev/hugepages
	mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
}

setup_bpffs() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: must run as root" >&2
	exit 1
fi
install_packages
setup_hugepages
setup_bpffs
log "done"
