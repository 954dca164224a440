#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what building and testing Rampart needs, from Debian 12 packages
# only. Idempotent: does nothing when everything is present.
set -euo pipefail
PKGS=(
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
	libdpdk-dev dpdk libyaml-dev libcmocka-dev libjemalloc-dev libedit-dev libmicrohttpd-dev
	iproute2 iputils-ping ethtool curl traceroute netcat-openbsd tcpdump iperf3
	iptables ipset conntrack nfct python3 python3-scapy procps psmisc prometheus
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
