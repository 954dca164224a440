#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# NAT against the Linux kernel's: the same iptables-restore nat tables
# (tests/e2e/nat/natdiff.rules*: MASQUERADE out of wan0, DNAT port forwards
# with a port, a port range and no port; NAT66) in the kernel's router
# namespace (lib.sh's ktopo_up) and in rampartd (one worker: the kernel's
# choices are a single table's). The same connections (tests/e2e/nat/
# natdiff.py: UDP, TCP and SCTP from fixed source ports, including clashes on
# the same port from a second LAN address, privileged and low ports, the
# null binding's new source port for a client that reaches a DNAT backend
# directly or twice; SCTP's CRC32c must arrive right both ways) go
# through both; what each server saw and where each answer came from must
# be the same. Ports the kernel picks at random compare by their class
# (1-511, 600-1023, 1024-65535); kept ports must be kept by both. The
# connections' events (conntrack -E, NEW and UPDATE) must be the same too.
. "$(dirname "$0")/lib.sh"

e2e_init m
topo_up

NDIR=$E2E_DIR/nat
NATDIFF=$NDIR/natdiff.py
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up

for ns in "$LAN_NS" "$K_LAN"; do
	ip netns exec "$ns" ip addr add 10.77.1.3/24 dev eth0 || die "cannot add 10.77.1.3"
	# deprecated (preferred_lft 0): usable when a client binds it, never
	# the source a server's answer picks (that must be fd77:1::2, where
	# the connection went)
	ip netns exec "$ns" ip -6 addr add fd77:1::3/64 dev eth0 nodad preferred_lft 0 ||
		die "cannot add fd77:1::3"
done
ip netns exec "$K_RTR" iptables-restore <"$NDIR/natdiff.rules" || die "the kernel refused natdiff.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$NDIR/natdiff.rules6" || die "the kernel refused natdiff.rules6"

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cfg_ruleset "$CFG" "$NDIR/natdiff.rules" "$NDIR/natdiff.rules6"
rp_start "$CFG"

for ns in "$LAN_NS" "$K_LAN"; do
	bg "srv-$ns" ip netns exec "$ns" "$PY" "$NATDIFF" serve 7000 7001 8055
done
for ns in "$WAN_NS" "$K_WAN"; do
	bg "srv-$ns" ip netns exec "$ns" "$PY" "$NATDIFF" serve 7000 7001
done
# SCTP: scapy answers INITs (the hosts' kernels have no SCTP, and must not
# answer with protocol unreachables)
for ns in "$LAN_NS" "$WAN_NS" "$K_LAN" "$K_WAN"; do
	ip netns exec "$ns" iptables -A INPUT -p sctp -j DROP
	ip netns exec "$ns" ip6tables -A INPUT -p sctp -j DROP
	bg "sctp-$ns" ip netns exec "$ns" "$PY" "$NATDIFF" sctp-serve 7000
done
for ns in "$LAN_NS" "$WAN_NS" "$K_LAN" "$K_WAN"; do
	wait_for "the SCTP responder in $ns" 10 grep -q serving "$E2E_TMP/sctp-$ns.log"
done
sleep 1

cases() { # LAN_NS WAN_NS: one line per connection
	local l=$1 w=$2
	c() { # NAME NS KIND SRC SPORT DST DPORT
		local name=$1 ns=$2
		shift 2
		printf '%-22s %s\n' "$name" "$(ip netns exec "$ns" timeout 10 "$PY" "$NATDIFF" "$@")"
	}
	c masq-udp "$l" udp 10.77.1.2 40001 10.77.2.2 7000
	c masq-udp-clash "$l" udp 10.77.1.3 40001 10.77.2.2 7000
	c masq-udp-other-server "$l" udp 10.77.1.3 40001 10.77.2.2 7001
	c masq-udp-600 "$l" udp 10.77.1.2 700 10.77.2.2 7000
	c masq-udp-600-clash "$l" udp 10.77.1.3 700 10.77.2.2 7000
	c masq-udp-low "$l" udp 10.77.1.2 300 10.77.2.2 7000
	c masq-udp-low-clash "$l" udp 10.77.1.3 300 10.77.2.2 7000
	c masq-tcp "$l" tcp 10.77.1.2 40011 10.77.2.2 7001
	c masq-tcp-clash "$l" tcp 10.77.1.3 40011 10.77.2.2 7001
	c dnat-udp "$w" udp 10.77.2.2 40021 10.77.2.1 8053
	c dnat-tcp "$w" tcp 10.77.2.2 40022 10.77.2.1 8053
	c dnat-udp-range "$w" udp 10.77.2.2 40023 10.77.2.1 8054
	c dnat-udp-range-2 "$w" udp 10.77.2.2 40024 10.77.2.1 8054
	c dnat-udp-noport "$w" udp 10.77.2.2 40025 10.77.2.1 8055
	# the null binding: a new connection whose reply another holds (the
	# backend reached directly by a client whose forwarded connection
	# lives; a second forward to the same backend port from the same
	# client port) gets another source port, not a drop
	c dnat-udp-direct "$w" udp 10.77.2.2 40021 10.77.1.2 7000
	c dnat-tcp-direct "$w" tcp 10.77.2.2 40022 10.77.1.2 7000
	c dnat-udp-2nd-forward "$w" udp 10.77.2.2 40021 10.77.2.1 8057
	c masq6-udp "$l" udp fd77:1::2 40031 fd77:2::2 7000
	c masq6-udp-clash "$l" udp fd77:1::3 40031 fd77:2::2 7000
	c masq6-tcp "$l" tcp fd77:1::2 40032 fd77:2::2 7001
	c dnat6-udp "$w" udp fd77:2::2 40033 fd77:2::1 8053
	c dnat6-udp-direct "$w" udp fd77:2::2 40033 fd77:1::2 7000
	c masq-sctp "$l" sctp 10.77.1.2 40041 10.77.2.2 7000
	c masq-sctp-clash "$l" sctp 10.77.1.3 40041 10.77.2.2 7000
	c masq-sctp-low "$l" sctp 10.77.1.2 300 10.77.2.2 7000
	c masq-sctp-low-clash "$l" sctp 10.77.1.3 300 10.77.2.2 7000
	c dnat-sctp "$w" sctp 10.77.2.2 40042 10.77.2.1 8053
	c masq6-sctp "$l" sctp fd77:1::2 40043 fd77:2::2 7000
	c masq6-sctp-clash "$l" sctp fd77:1::3 40043 fd77:2::2 7000
}

. "$E2E_DIR/conntrack/ctdiff.sh" # ev_start, ev_stop
ev_start "$E2E_TMP/kernel.ev" kernel -e NEW,UPDATE
cases "$K_LAN" "$K_WAN" >"$E2E_TMP/kernel.out"
ev_stop
ev_start "$E2E_TMP/rampart.ev" rampart -e NEW,UPDATE
cases "$LAN_NS" "$WAN_NS" >"$E2E_TMP/rampart.out"
ev_stop
log "kernel:"
sed 's/^/    /' "$E2E_TMP/kernel.out"
n=$(grep -c 'seen=' "$E2E_TMP/kernel.out")
assert_eq "the kernel answered every connection (the test itself works)" 29 "$n"
assert_file_match "the kernel keeps a free port" '^masq-udp +seen=10\.77\.2\.1:kept ' "$E2E_TMP/kernel.out"
if diff -u "$E2E_TMP/kernel.out" "$E2E_TMP/rampart.out" >"$E2E_TMP/nat.diff"; then
	pass "rampartd translated all 29 connections as the kernel did"
else
	fail "rampartd and the kernel translated differently: $(cat "$E2E_TMP/nat.diff")"
fi
# conntrack -E through NAT: the same NEW and UPDATE events, in the same
# order, both tuples as the translation made them. The closes are left
# out: real stacks end these connections, and whether the server's ACK of
# the client's FIN travels alone (CLOSE_WAIT) or with its own FIN depends
# on timing (test_ct_kernel and test_ct_random compare closes on scripted
# segments).
for f in kernel rampart; do
	"$PY" "$NATDIFF" events "$E2E_TMP/$f.ev" |
		grep -Ev '^\[UPDATE\] tcp [^ ]+ (FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE) ' >"$E2E_TMP/$f.evn"
done
assert_ge "the kernel's events: a NEW per connection" "$(grep -c '^\[NEW\]' "$E2E_TMP/kernel.evn")" 29
assert_file_match "the kernel moved a clashing SCTP port" '^masq-sctp-clash +seen=10\.77\.2\.1:1024-65535 at=7000 crc=ok from=10\.77\.2\.2:7000 back-crc=ok' "$E2E_TMP/kernel.out"
assert_file_match "the kernel gave the direct client another source port (null binding)" '^dnat-udp-direct +seen=10\.77\.2\.2:1024-65535 at=7000 from=10\.77\.1\.2:7000' "$E2E_TMP/kernel.out"
if diff -u "$E2E_TMP/kernel.evn" "$E2E_TMP/rampart.evn" >"$E2E_TMP/ev.diff"; then
	pass "conntrack -E: the same $(wc -l <"$E2E_TMP/kernel.evn") events as the kernel's through NAT"
else
	fail "conntrack -E through NAT differs from the kernel's (- kernel, + rampartd)" "$E2E_TMP/ev.diff"
fi
rp_stop
e2e_finish
