#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The fixed demo/test topology (docs/deployment.md, "The demo topology"):
#   netns rampart-lan: eth0 10.77.1.2/24, fd77:1::2/64, via 10.77.1.1 / fd77:1::1
#   netns rampart-wan: eth0 10.77.2.2/24, fd77:2::2/64, via 10.77.2.1 / fd77:2::1
#   root namespace: rp-lan0, rp-wan0 (no addresses) driven by rampartd.
# usage: topology.sh up [QPAIRS] | down | status
# Environment: RP_PREFIX renames everything (tests run their own copies).
set -euo pipefail
P=${RP_PREFIX:-rampart}
S=${RP_SHORT:-rp}
LAN=$P-lan WAN=$P-wan
LIF=$S-lan0 WIF=$S-wan0

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "topology.sh: must run as root (network namespaces, veth)" >&2
		exit 1
	fi
}

host_side() { # ns addr4 gw4 addr6 gw6
	local ns=$1
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip link set eth0 up
	ip netns exec "$ns" ip addr add "$2" dev eth0
	ip netns exec "$ns" ip -6 addr add "$4" dev eth0 nodad
	ip netns exec "$ns" ip route add default via "$3"
	ip netns exec "$ns" ip -6 route add default via "$5"
	# veth hands packets to af_packet with checksums left to "hardware";
	# a userspace router must see complete ones
	ip netns exec "$ns" ethtool -K eth0 tx off rx off >/dev/null 2>&1 || true
}

fw_side() { # ifname
	local i=$1
	# the kernel must stay off these links: no IPv6 autoconf, no ARP
	sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"
	ip link set "$i" arp off
	ip link set "$i" up
	ethtool -K "$i" tx off rx off gro off gso off tso off >/dev/null 2>&1 || true
}

up() {
	need_root
	down >/dev/null 2>&1 || true
	ip netns add "$LAN"
	ip netns add "$WAN"
	ip link add "$LIF" type veth peer name eth0 netns "$LAN"
	ip link add "$WIF" type veth peer name eth0 netns "$WAN"
	fw_side "$LIF"
	fw_side "$WIF"
	host_side "$LAN" 10.77.1.2/24 10.77.1.1 fd77:1::2/64 fd77:1::1
	host_side "$WAN" 10.77.2.2/24 10.77.2.1 fd77:2::2/64 fd77:2::1
}

down() {
	need_root
	ip link del "$LIF" 2>/dev/null || true
	ip link del "$WIF" 2>/dev/null || true
	ip netns del "$LAN" 2>/dev/null || true
	ip netns del "$WAN" 2>/dev/null || true
}

status() {
	ip netns list | grep -E "^($LAN|$WAN)( |$)" || true
	ip -br link show | grep -E "^($LIF|$WIF)(@| )" || true
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
