#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Connection tracking against the Linux kernel's, packet by packet. The
# kernel's router namespace (lib.sh's ktopo_up) and rampartd get the same
# ruleset (tests/e2e/conntrack/ctstate.rules*: mangle FORWARD writes each
# packet's state, direction and ASSURED bit into its DSCP). The same
# sequences (tests/e2e/conntrack/ctdiff.py: TCP handshakes, data, windows,
# retransmissions, RSTs, simultaneous open, pick-up, reopening; UDP; ICMP
# echo and errors, RELATED or not; IPv6; IPv6 fragments in order, last
# first, duplicated, overlapping, 17 of them, behind destination options or
# Hop-by-Hop, an atomic fragment; bad L4 checksums; a loose source route
# and a router alert) are sent from both ends in turn,
# the hosts' own stacks silenced so that only the script speaks; each end
# captures what arrives. The state every packet arrived with (and for a
# fragmented datagram, how many fragments came out) must be the same
# through the kernel and through rampartd.
. "$(dirname "$0")/lib.sh"

e2e_init t
require_cmd tcpdump iptables-restore ip6tables-restore
topo_up

CDIR=$E2E_DIR/conntrack
CTDIFF=$CDIR/ctdiff.py
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up

# the hosts must not answer the script's packets themselves (RSTs, port
# unreachables, echo replies): they only capture; ARP and ND still work
hush() { # NS
	ip netns exec "$1" iptables -A INPUT -j DROP
	ip netns exec "$1" ip6tables -A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT
	ip netns exec "$1" ip6tables -A INPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -j ACCEPT
	ip netns exec "$1" ip6tables -A INPUT -j DROP
}
for ns in "$LAN_NS" "$WAN_NS" "$K_LAN" "$K_WAN"; do
	hush "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
done
# the kernel's router checks L4 checksums itself (a veth marks what it
# receives CHECKSUM_UNNECESSARY when its receive offload is on)
for i in lan0 wan0; do
	ip netns exec "$K_RTR" ethtool -K "$i" rx off >/dev/null 2>&1 || die "ethtool -K $i rx off"
done
ip netns exec "$K_RTR" iptables-restore <"$CDIR/ctstate.rules" || die "the kernel refused ctstate.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$CDIR/ctstate.rules6" || die "the kernel refused ctstate.rules6"
# the kernel's defaults are rampartd's: tcp_loose=1, be_liberal=0, max_retrans=3
for k in tcp_loose:1 tcp_be_liberal:0 tcp_max_retrans:3 checksum:1; do
	ip netns exec "$K_RTR" sysctl -qw "net.netfilter.nf_conntrack_${k%%:*}=${k#*:}"
done

run_seq() { # LAN_NS WAN_NS OUT
	local lns=$1 wns=$2 out=$3 p1 p2
	cap_start "$lns" "$out.lan.pcap" 'ip or ip6'
	p1=$CAP_PID
	cap_start "$wns" "$out.wan.pcap" 'ip or ip6'
	p2=$CAP_PID
	# neighbours resolved on both sides first
	ip netns exec "$lns" ping -c 1 -W 1 10.77.1.1 >/dev/null 2>&1
	ip netns exec "$wns" ping -c 1 -W 1 10.77.2.1 >/dev/null 2>&1
	ip netns exec "$lns" ping -6 -c 1 -W 1 fd77:1::1 >/dev/null 2>&1
	ip netns exec "$wns" ping -6 -c 1 -W 1 fd77:2::1 >/dev/null 2>&1
	sleep 0.3
	"$PY" "$CTDIFF" drive "$lns" "$wns" || return 1
	sleep 0.5
	cap_stop "$p1" "$p2"
	"$PY" "$CTDIFF" outcome "$out.lan.pcap" "$out.wan.pcap" >"$out" || return 1
}

run_seq "$K_LAN" "$K_WAN" "$E2E_TMP/kernel" || die "kernel run failed"

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cat >>"$CFG" <<YAML
ruleset:
  file: $CDIR/ctstate.rules
  ip6tables: $CDIR/ctstate.rules6
YAML
rp_start "$CFG"
run_seq "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart" || die "rampartd run failed"
rp_stop

n=$(wc -l <"$E2E_TMP/kernel")
for s in NEW ESTABLISHED RELATED INVALID; do
	assert_ge "the kernel's run has $s packets (the sequences exercise it)" \
		"$(grep -c " $s" "$E2E_TMP/kernel")" 2
done
assert_ge "the kernel's run has assured connections" "$(grep -c ' assured' "$E2E_TMP/kernel")" 3
if diff -u "$E2E_TMP/kernel" "$E2E_TMP/rampart" >"$E2E_TMP/ct.diff"; then
	pass "$n packets: every one got the same conntrack state as in the kernel"
else
	fail "conntrack states differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/ct.diff"
fi
cat "$E2E_TMP/kernel"
e2e_finish
