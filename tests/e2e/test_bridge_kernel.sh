#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bridge mode against the Linux kernel's bridge with br_netfilter: -m
# physdev and the hooks a bridged packet crosses. Two equivalent
# topologies in one subnet (lan 10.77.3.2, wan 10.77.3.3): (A) lan --
# rampartd in bridge mode (ports lan0, wan0) -- wan, and (B) lan -- a
# network namespace with a Linux bridge br0 over ports named lan0 and wan0,
# bridge-nf-call-iptables and -ip6tables on -- wan. The same
# iptables-restore and ip6tables-restore files (tests/e2e/bridge/physdev.rules
# and .rules6: raw, mangle and filter rules with every physdev option,
# inverted or not) are loaded into both. The same UDP probes (ports
# 7001-7009, IPv4 and IPv6, both ways, a size of their own each) are sent
# through each; then for both:
#   - which probes the far side received, and
#   - every rule's packet and byte counters (ip(6)tables-save -c against
#     rampartctl save [-6] -c)
# must be identical, and the probes must both pass and be dropped.
. "$(dirname "$0")/lib.sh"

e2e_init bk
require_cmd iptables-restore iptables-save ip6tables-restore ip6tables-save
topo_up
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
RULES=$E2E_DIR/bridge/physdev.rules
RULES6=$E2E_DIR/bridge/physdev.rules6

trap 'ktopo_down; e2e_cleanup' EXIT

# (A): one subnet on both sides of rampartd's bridge
bridge_subnet

# (B): the kernel's bridge
ip netns add "$K_LAN" && ip netns add "$K_RTR" && ip netns add "$K_WAN" || die "cannot create namespaces"
ip link add lan0 netns "$K_RTR" type veth peer name eth0 netns "$K_LAN" || die "veth"
ip link add wan0 netns "$K_RTR" type veth peer name eth0 netns "$K_WAN" || die "veth"
for ns in "$K_LAN" "$K_RTR" "$K_WAN"; do
	ip -n "$ns" link set lo up
done
ip -n "$K_RTR" link add br0 type bridge stp_state 0 forward_delay 0 || die "cannot create a bridge"
ip netns exec "$K_RTR" sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
	net.bridge.bridge-nf-call-ip6tables=1 ||
	die "br_netfilter: net.bridge.bridge-nf-call-ip(6)tables cannot be set in a namespace"
for i in lan0 wan0; do
	ip -n "$K_RTR" link set "$i" master br0 up || die "cannot enslave $i"
done
ip -n "$K_RTR" link set br0 up
ip -n "$K_LAN" addr add 10.77.3.2/24 dev eth0
ip -n "$K_WAN" addr add 10.77.3.3/24 dev eth0
ip -n "$K_LAN" -6 addr add fd77:3::2/64 dev eth0 nodad
ip -n "$K_WAN" -6 addr add fd77:3::3/64 dev eth0 nodad
ip -n "$K_LAN" link set eth0 up
ip -n "$K_WAN" link set eth0 up

ip netns exec "$K_RTR" iptables-restore <"$RULES" || die "the kernel refused $RULES"
ip netns exec "$K_RTR" ip6tables-restore <"$RULES6" || die "the kernel refused $RULES6"
CFG=$E2E_TMP/bridge.yaml
gen_config "$CFG" bridge 1
printf 'ruleset:\n  file: %s\n  ip6tables: %s\n' "$RULES" "$RULES6" >>"$CFG"
rp_start "$CFG"

# A receiver on ports 7001-7009 in a namespace: one line per datagram
# (its source and port), sorted, written when it ends.
recv_start() { # NS OUT
	ip netns exec "$1" "$PY" - "$2" <<'PY' &
import select, socket, sys, time
socks = []
for p in range(7001, 7010):
    for fam, any_addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((any_addr, p))
        socks.append(s)
got = []
end = time.time() + 6
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.2)
    for s in r:
        data, src = s.recvfrom(2000)
        got.append("%s -> %d (%d bytes)" % (src[0], s.getsockname()[1], len(data)))
with open(sys.argv[1], "w") as f:
    f.write("".join(l + "\n" for l in sorted(got)))
PY
	RECV_PIDS+=($!)
}

send_probes() { # NS DST...
	local ns=$1
	shift
	ip netns exec "$ns" "$PY" - "$@" <<'PY'
import socket, sys, time
for dst in sys.argv[1:]:
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
    for p in range(7001, 7010):
        s.sendto(b"x" * (p - 7000) * 10, (dst, p))
        time.sleep(0.02)
PY
}

run_side() { # LAN_NS WAN_NS OUT
	RECV_PIDS=()
	recv_start "$2" "$3.at-wan"
	recv_start "$1" "$3.at-lan"
	# the neighbours learned (ARP crosses both bridges, no rule sees it)
	ip netns exec "$1" ping -c 1 -W 2 10.77.3.3 >/dev/null 2>&1 ||
		ip netns exec "$1" ping -c 1 -W 2 10.77.3.3 >/dev/null 2>&1 || return 1
	ip netns exec "$1" ping -6 -c 1 -W 2 fd77:3::3 >/dev/null 2>&1 ||
		ip netns exec "$1" ping -6 -c 1 -W 2 fd77:3::3 >/dev/null 2>&1 || return 1
	sleep 0.5
	send_probes "$1" 10.77.3.3 fd77:3::3
	send_probes "$2" 10.77.3.2 fd77:3::2
	wait "${RECV_PIDS[@]}"
	cat "$3.at-wan" "$3.at-lan" >"$3"
}

run_side "$K_LAN" "$K_WAN" "$E2E_TMP/kernel.recv" &
kpid=$!
run_side "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart.recv" &
rpid=$!
wait "$kpid" || die "the kernel's bridge did not carry a ping"
wait "$rpid" || die "rampartd's bridge did not carry a ping"

n=$(wc -l <"$E2E_TMP/kernel.recv")
if diff -u "$E2E_TMP/kernel.recv" "$E2E_TMP/rampart.recv" >"$E2E_TMP/recv.diff"; then
	pass "the same $n of 36 probes crossed both bridges"
else
	fail "the probes that crossed differ (- kernel, + rampartd)" "$E2E_TMP/recv.diff"
fi
assert_ge "some probes crossed" "$n" 12
assert_le "some probes were dropped" "$n" 30

# every rule's counters: the lines "[packets:bytes] -A ..."
{
	ip netns exec "$K_RTR" iptables-save -c
	ip netns exec "$K_RTR" ip6tables-save -c
} | grep '^\[' >"$E2E_TMP/kernel.ctr"
{
	"$RCTL" -s "$E2E_TMP/rampart.sock" save -c || echo "rampartctl save -c failed"
	"$RCTL" -s "$E2E_TMP/rampart.sock" save -6 -c || echo "rampartctl save -6 -c failed"
} | grep '^\[\|failed' >"$E2E_TMP/rampart.ctr"
nrules=$(wc -l <"$E2E_TMP/kernel.ctr")
if diff -u "$E2E_TMP/kernel.ctr" "$E2E_TMP/rampart.ctr" >"$E2E_TMP/ctr.diff"; then
	pass "$nrules rules: the same packet and byte counters as the kernel's"
else
	fail "rule counters differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/ctr.diff"
fi
nz=$(grep -vc '^\[0:0\]' "$E2E_TMP/kernel.ctr")
nzero=$(grep -c '^\[0:0\]' "$E2E_TMP/kernel.ctr")
assert_ge "rules that counted packets" "$nz" 20
assert_ge "rules that never matched (the other side of an option)" "$nzero" 3
rp_stop
e2e_finish
