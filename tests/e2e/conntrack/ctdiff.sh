# SPDX-License-Identifier: BSD-3-Clause
# Sourced by test_ct_kernel.sh and test_ct_random.sh after lib.sh,
# topo_up and ktopo_up: the set-up both share and one run of ctdiff.py's
# steps through a router (the kernel's or rampartd).

CDIR=$E2E_DIR/conntrack
CTDIFF=$CDIR/ctdiff.py

# ctdiff_setup: the hosts only capture (they must not answer the script's
# packets themselves: RSTs, port unreachables, echo replies; ARP and ND
# still work); the kernel's router gets ctstate.rules(6), checks L4
# checksums itself (a veth marks what it receives CHECKSUM_UNNECESSARY
# when its receive offload is on) and rampartd's defaults (tcp_loose=1,
# be_liberal=0, max_retrans=3)
# the four hosts silent (neighbour discovery aside: only the scripts
# speak), the kernel router's receive checksum offload off (it checks
# checksums then, as rampartd does)
ctdiff_silence() {
	local ns i
	for ns in "$LAN_NS" "$WAN_NS" "$K_LAN" "$K_WAN"; do
		ip netns exec "$ns" iptables -A INPUT -j DROP
		ip netns exec "$ns" ip6tables -A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT
		ip netns exec "$ns" ip6tables -A INPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -j ACCEPT
		ip netns exec "$ns" ip6tables -A INPUT -j DROP
		ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
	done
	for i in lan0 wan0; do
		ip netns exec "$K_RTR" ethtool -K "$i" rx off >/dev/null 2>&1 || die "ethtool -K $i rx off"
	done
}

ctdiff_setup() {
	local k
	ctdiff_silence
	ip netns exec "$K_RTR" iptables-restore <"$CDIR/ctstate.rules" || die "the kernel refused ctstate.rules"
	ip netns exec "$K_RTR" ip6tables-restore <"$CDIR/ctstate.rules6" || die "the kernel refused ctstate.rules6"
	for k in tcp_loose:1 tcp_be_liberal:0 tcp_max_retrans:3 checksum:1; do
		ip netns exec "$K_RTR" sysctl -qw "net.netfilter.nf_conntrack_${k%%:*}=${k#*:}"
	done
}

# ctdiff_run LAN_NS WAN_NS OUT: capture at both hosts, resolve the
# neighbours, drive every step from its side, write the outcome to OUT
ctdiff_run() {
	local lns=$1 wns=$2 out=$3 p1 p2
	cap_start "$lns" "$out.lan.pcap" 'ip or ip6'
	p1=$CAP_PID
	cap_start "$wns" "$out.wan.pcap" 'ip or ip6'
	p2=$CAP_PID
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

# ctdiff_rampart: rampartd started in router mode with ctstate.rules(6)
ctdiff_rampart() {
	local cfg=$E2E_TMP/rampart.yaml
	gen_config "$cfg" router 1
	cfg_ruleset "$cfg" "$CDIR/ctstate.rules" "$CDIR/ctstate.rules6"
	rp_start "$cfg"
}

# The connection events of a run (conntrack -E on the kernel's router,
# rampartctl conntrack -E on rampartd's): TCP's NEW and UPDATE (a DESTROY
# comes when a timer runs out or the table is swept: left out).
# ev_start FILE kernel|rampart [OPTIONS (default: -p tcp -e NEW,UPDATE)]; ev_stop
ev_start() {
	local f=$1 who=$2
	shift 2
	[ $# -gt 0 ] || set -- -p tcp -e NEW,UPDATE
	if [ "$who" = kernel ]; then
		ip netns exec "$K_RTR" conntrack -E "$@" >"$f" 2>/dev/null &
	else
		"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" \
			conntrack -E "$@" >"$f" 2>"$f.err" &
	fi
	EV_PID=$!
	sleep 0.5
	kill -0 "$EV_PID" 2>/dev/null || die "conntrack -E ($who) did not start: $(cat "$f.err" 2>/dev/null)"
}

ev_stop() {
	sleep 0.3
	kill "$EV_PID" 2>/dev/null # TERM: a background job ignores INT
	wait "$EV_PID" 2>/dev/null
}

# ev_compare [NOTE]: the two runs' events ($E2E_TMP/kernel.ev and
# rampart.ev, made comparable in kernel.evn and rampart.evn) must be the
# same, in the same order; NOTE goes into the failure's message
ev_compare() {
	local f
	for f in kernel rampart; do ev_norm <"$E2E_TMP/$f.ev" >"$E2E_TMP/$f.evn"; done
	if diff -u "$E2E_TMP/kernel.evn" "$E2E_TMP/rampart.evn" >"$E2E_TMP/ev.diff"; then
		pass "conntrack -E: the same $(wc -l <"$E2E_TMP/kernel.evn") TCP/SCTP/GRE events as the kernel's, in order"
	else
		fail "conntrack -E differs from the kernel's (- kernel, + rampartd${1:+; $1})" "$E2E_TMP/ev.diff"
	fi
}

# ev_norm < events: comparable lines of TCP, SCTP and GRE (the timeout as the kernel's timeout
# it is, as norm_ct; no counters, marks or netlink port ids)
ev_norm() {
	awk '$2 == "tcp" || $2 == "sctp" || $2 == "gre" {
		n = split("3 10 30 60 120 210 300 432000", T, " "); cls = "?"
		for (i = 1; i <= n; i++) if ($4 + 0 <= T[i] + 0) { cls = T[i]; break }
		line = $1 ($2 != "tcp" ? " " $2 : "") " timeout<=" cls
		for (i = 5; i <= NF; i++)
			if ($i !~ /^(packets|bytes|mark|use|zone|secctx|portid)=/ && $i != "[USERSPACE]")
				line = line " " $i
		print line
	}'
}
