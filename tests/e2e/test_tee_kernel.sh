#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# -j TEE against the Linux kernel's (xt_TEE, nf_dup_ipv4/6): the same
# mangle and filter tables (tests/e2e/mangle/tee.rules, tee.rules6) in the
# kernel's router namespace and in rampartd. The LAN host sends UDP
# datagrams (mangle/teesend.py); both hosts capture what reaches them.
# The copies come back to the LAN host or join the originals at the WAN
# host: every datagram and every copy must arrive (or not) with the same
# TTL or hop limit, TOS or traffic class, DF and length through both.
. "$(dirname "$0")/lib.sh"

e2e_init t
require_cmd tcpdump iptables-restore ip6tables-restore
topo_up
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up
M=$E2E_DIR/mangle
ip netns exec "$K_RTR" iptables-restore <"$M/tee.rules" || die "the kernel refused tee.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$M/tee.rules6" || die "the kernel refused tee.rules6"

# run LAN_NS WAN_NS OUT: capture UDP at both hosts, send, and write what
# each host received (sorted: a copy and its original may cross the wire
# in either order)
run() {
	local lns=$1 wns=$2 out=$3 p1 p2
	ip netns exec "$lns" ping -c 1 -W 1 10.77.1.1 >/dev/null 2>&1
	ip netns exec "$wns" ping -c 1 -W 1 10.77.2.1 >/dev/null 2>&1
	ip netns exec "$lns" ping -6 -c 1 -W 1 fd77:1::1 >/dev/null 2>&1
	ip netns exec "$wns" ping -6 -c 1 -W 1 fd77:2::1 >/dev/null 2>&1
	cap_start "$lns" "$out.lan.pcap" 'udp and inbound'
	p1=$CAP_PID
	cap_start "$wns" "$out.wan.pcap" 'udp and inbound'
	p2=$CAP_PID
	ip netns exec "$lns" "$PY" "$M/teesend.py" send || return 1
	sleep 1
	cap_stop "$p1" "$p2"
	{
		"$PY" "$M/teesend.py" show lan "$out.lan.pcap"
		"$PY" "$M/teesend.py" show wan "$out.wan.pcap"
	} | sort >"$out"
}

run "$K_LAN" "$K_WAN" "$E2E_TMP/kernel" || die "kernel run failed"
CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cfg_ruleset "$CFG" "$M/tee.rules" "$M/tee.rules6"
rp_start "$CFG"
run "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart" || die "rampartd run failed"
"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" show workers >"$E2E_TMP/workers" 2>&1
rp_stop
K=$E2E_TMP/kernel
assert_ge "the kernel delivered the originals" "$(grep -c '^wan .* 4000[0-2]>70' "$K")" 30
assert_file_match "a PREROUTING copy came back to the LAN host, TTL one less, DF" \
	'^lan v4 tos=0x00 ttl=63 id=28004 df=1 len=32 40000>7001' "$K"
assert_file_match "the copy had the TOS of its rule's moment" '^lan v4 tos=0x10 ttl=63 id=28008 df=1' "$K"
assert_file_match "the original the TOS of the hook's end" '^wan v4 tos=0x08 ttl=63 id=28008 df=0' "$K"
assert_file_match "a FORWARD copy joined the original at the WAN host" \
	'^wan v4 tos=0x00 ttl=63 id=28016 df=1 len=32 40000>7004' "$K"
assert_file_match "an IPv6 copy came back, hop limit one less" '^lan v6 tc=0x00 hlim=63 plen=12 40000>7001' "$K"
assert_file_match "an IPv6 copy had the traffic class of its rule's moment" '^lan v6 tc=0x20 hlim=63' "$K"
assert_eq "no copy of a copy (OUTPUT's TEE) reached the WAN host" 3 \
	"$(grep -c '^wan .* 4000[0-2]>7006' "$K")"
assert_eq "OUTPUT's filter dropped the copies" 0 "$(grep -c '^lan .* 4000[0-2]>7007' "$K")"
if diff -u "$K" "$E2E_TMP/rampart" >"$E2E_TMP/tee.diff"; then
	pass "$(wc -l <"$K") datagrams and copies: each arrived (or not) as through the kernel, same TTL, TOS, DF, length"
else
	fail "-j TEE differs from the kernel's (- kernel, + rampartd)" "$E2E_TMP/tee.diff"
fi
assert_file_match "rampartd counted its copies" 'tee_sent=[1-9]' "$E2E_TMP/workers"
cat "$K"
e2e_finish
