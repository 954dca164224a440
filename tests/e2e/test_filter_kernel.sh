#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# rampartd against the Linux kernel's own netfilter, packet by packet.
# Two equivalent topologies: (A) the harness's lan -- rampartd -- wan, and
# (B) lan -- a network namespace forwarding with the kernel (interfaces
# named lan0 and wan0, the same addresses) -- wan. The same
# iptables-restore / ip6tables-restore files (tests/e2e/filter/kdiff-*)
# are loaded into the kernel router and into rampartd; the same 148
# probes (TCP with various flags and ports, UDP of various sizes, ICMP
# types, TTL 1..3, TOS values, IPv6, IPsec, fragments, IPv6 extension
# headers and Hop-by-Hop options, SCTP; to hosts behind the router and to the
# router itself) are sent from the lan side of each, tagged, while both
# ends capture. For each probe the outcome is what reached the wan host
# (and with which TTL/TOS) and what came back to the lan host (echo
# replies, ICMP errors by type/code and source, resets); the two outcome
# lists must be identical. ICMP rate limits are off on both sides.
. "$(dirname "$0")/lib.sh"

e2e_init k
require_cmd tcpdump iptables-restore ip6tables-restore
topo_up

FDIR=$E2E_DIR/filter
KDIFF=$FDIR/kdiff.py
# the kernel's router: lib.sh's ktopo_up (namespaces K_LAN, K_RTR, K_WAN)
trap 'ktopo_down; e2e_cleanup' EXIT

lan_addrs() { # NS
	local i
	for i in 3 4 5 6 7; do
		ip netns exec "$1" ip addr add 10.77.1.$i/24 dev eth0
		ip netns exec "$1" ip -6 addr add fd77:1::$i/64 dev eth0 nodad
	done
}

ktopo_up
lan_addrs "$K_LAN"
lan_addrs "$LAN_NS"
# one MAC for both lan hosts: the -m eui64 probes come from the address
# made from it, the same on both sides
LAN_MAC=02:00:00:77:01:02
for ns in "$K_LAN" "$LAN_NS"; do
	ip -n "$ns" link set eth0 address "$LAN_MAC" || die "cannot set the lan MAC"
done
ip -n "$K_RTR" neigh replace 10.77.1.2 lladdr "$LAN_MAC" dev lan0 nud permanent
ip -n "$K_RTR" -6 neigh replace fd77:1::2 lladdr "$LAN_MAC" dev lan0 nud permanent
in_wan sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
in_lan sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

# LOG lines: the kernel writes them to its ring buffer (from a network
# namespace only with net.netfilter.nf_log_all_netns=1), rampartd to its
# log. Compared without timestamps, with the MAC addresses (different veths)
# blanked, in order.
NFLOG_ALL=$(sysctl -n net.netfilter.nf_log_all_netns 2>/dev/null)
[ -n "$NFLOG_ALL" ] || die "net.netfilter.nf_log_all_netns is missing: cannot compare LOG lines"
sysctl -qw net.netfilter.nf_log_all_netns=1 || die "cannot enable nf_log_all_netns"
trap 'rc=$?; ktopo_down; sysctl -qw net.netfilter.nf_log_all_netns=$NFLOG_ALL; (exit $rc); e2e_cleanup' EXIT
# Also blanked: the IP id of the outer header (the kernel and rampartd
# number their own packets differently), and lines about 10.77.2.9, a host
# that never answers ARP: both send ICMP host unreachable some 3 s later,
# which may fall before or after the end of a run; and the echo
# requests that warm the neighbour caches (ping's id differs by run; the
# probes never use sequence number 1).
norm_log() {
	sed -n 's/.*\(kdl-[a-z0-9]*: IN=.*\)/\1/p' |
		sed -E 's/MAC(SRC|DST)?=[0-9a-f:]+ /MAC\1=x /g; s/(TTL=[0-9]+ )ID=[0-9]+ /\1ID=x /; s/ +$//' |
		grep -v '10\.77\.2\.9 ' | grep -v ' SEQ=1$'
}

# One run: capture at the wan host, send from the lan host, collect outcome.
run_probes() { # LAN_NS WAN_NS OUT
	local lns=$1 wns=$2 out=$3 tpid
	cap_start "$wns" "$out.wan.pcap" 'ip or ip6'
	tpid=$CAP_PID
	# warm the neighbour caches on both sides of the router
	ip netns exec "$lns" ping -c 1 -W 1 10.77.2.2 >/dev/null 2>&1
	ip netns exec "$lns" ping -6 -c 1 -W 1 fd77:2::2 >/dev/null 2>&1
	sleep 0.5
	ip netns exec "$lns" "$PY" "$KDIFF" send "$out.lan.pcap" || return 1
	sleep 0.5
	cap_stop "$tpid"
	"$PY" "$KDIFF" outcome "$out.lan.pcap" "$out.wan.pcap" >"$out" || return 1
}

n_sets=0
for rules in "$FDIR"/kdiff-*.rules; do
	name=$(basename "$rules" .rules)
	rules6=${rules}6
	# KDIFF_ONLY=kdiff-N: that ruleset alone (while debugging one)
	[ -n "${KDIFF_ONLY:-}" ] && [ "$name" != "$KDIFF_ONLY" ] && continue
	log "ruleset $name"
	# the kernel side: every table emptied first (iptables-restore only
	# replaces the tables a file names; rampartd starts from nothing)
	for t in raw mangle nat filter; do
		ip netns exec "$K_RTR" iptables -t "$t" -F
		ip netns exec "$K_RTR" iptables -t "$t" -X
		ip netns exec "$K_RTR" ip6tables -t "$t" -F
		ip netns exec "$K_RTR" ip6tables -t "$t" -X
	done
	ip netns exec "$K_RTR" iptables-restore <"$rules" || die "the kernel refused $rules"
	if [ -f "$rules6" ]; then
		ip netns exec "$K_RTR" ip6tables-restore <"$rules6" || die "the kernel refused $rules6"
	else
		printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' |
			ip netns exec "$K_RTR" ip6tables-restore
	fi
	# rampartd
	CFG=$E2E_TMP/$name.yaml
	gen_config "$CFG" router 1
	{
		echo "icmp: {ratelimit: 0}"
		echo "ruleset:"
		echo "  file: $rules"
		[ -f "$rules6" ] && echo "  ip6tables: $rules6"
	} >>"$CFG"
	rp_start "$CFG"
	# both routers probed at once (their namespaces are apart); the
	# kernel's lines of this run: by timestamp (the ring buffer may be
	# full and drop old lines, so counting lines would not do)
	t0=$(awk '{ print $1 }' /proc/uptime)
	run_probes "$K_LAN" "$K_WAN" "$E2E_TMP/$name.kernel" &
	kpid=$!
	run_probes "$LAN_NS" "$WAN_NS" "$E2E_TMP/$name.rampart" &
	rpid=$!
	wait "$kpid" || die "kernel probe run failed"
	wait "$rpid" || die "rampartd probe run failed"
	sleep 0.5
	dmesg | awk -v t0="$t0" 'match($0, /^\[ *[0-9]+\.[0-9]+\]/) {
		ts = substr($0, 2, RLENGTH - 2) + 0; if (ts >= t0) print }' |
		norm_log >"$E2E_TMP/$name.kernel.log"
	if [ "$name" = kdiff-6 ]; then
		check_out "kdiff-6: rampartctl show recent lists the LAN senders of port 80" \
			"^src=10\.77\.1\.[0-9]+ ttl: 64 last_seen: [0-9.]+s ago hits: [0-9]+$" \
			"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" show recent
	fi
	if [ "$name" = kdiff-8 ]; then
		check_out "kdiff-8: rampartctl show hashlimit counts the 9 TCP probes the full table refused" \
			"^table tcpfull6 \(IPv6\): 2 of 2 entries, 9 packets dropped for want of room$" \
			"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" show hashlimit
	fi
	rp_stop
	norm_log <"$RP_LOG" >"$E2E_TMP/$name.rampart.log"
	nlog=$(wc -l <"$E2E_TMP/$name.kernel.log")
	if grep -qs -- '-j LOG' "$rules" "$rules6"; then
		assert_ge "$name: the kernel wrote LOG lines" "$nlog" 10
		if diff -u "$E2E_TMP/$name.kernel.log" "$E2E_TMP/$name.rampart.log" >"$E2E_TMP/$name.log.diff"; then
			pass "$name: $nlog LOG lines identical to the kernel's"
		else
			fail "$name: LOG lines differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/$name.log.diff"
		fi
	fi
	n=$(wc -l <"$E2E_TMP/$name.kernel")
	delivered=$(grep -vc 'delivered=no ' "$E2E_TMP/$name.kernel")
	answered=$(grep -vc 'back=none$' "$E2E_TMP/$name.kernel")
	if diff -u "$E2E_TMP/$name.kernel" "$E2E_TMP/$name.rampart" >"$E2E_TMP/$name.diff"; then
		pass "$name: $n probes, same outcome as the kernel ($delivered delivered, $answered answered)"
	else
		fail "$name: outcomes differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/$name.diff"
	fi
	# a test that cannot fail proves nothing: the probes must exercise both ways
	assert_ge "$name: some probes delivered" "$delivered" 5
	assert_ge "$name: some probes rejected or answered" "$answered" 5
	n_sets=$((n_sets + 1))
done
assert_ge "rulesets compared" "$n_sets" 2
e2e_finish
