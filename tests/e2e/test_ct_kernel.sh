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
# and a router alert; SCTP associations over IPv4 and IPv6) are sent from both ends in turn,
# the hosts' own stacks silenced so that only the script speaks; each end
# captures what arrives. The state every packet arrived with (and for a
# fragmented datagram, how many fragments came out) must be the same
# through the kernel and through rampartd.
. "$(dirname "$0")/lib.sh"

e2e_init t
require_cmd tcpdump iptables-restore ip6tables-restore
topo_up

trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up
. "$E2E_DIR/conntrack/ctdiff.sh"
ctdiff_setup

ev_start "$E2E_TMP/kernel.ev" kernel -e NEW,UPDATE
ctdiff_run "$K_LAN" "$K_WAN" "$E2E_TMP/kernel" || die "kernel run failed"
ev_stop
ctdiff_rampart
ev_start "$E2E_TMP/rampart.ev" rampart -e NEW,UPDATE
ctdiff_run "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart" || die "rampartd run failed"
ev_stop
# the SCTP associations still established (the secondary paths the
# HEARTBEATs opened), as conntrack -L -p sctp --state shows them
"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" conntrack -L -p sctp \
	--state ESTABLISHED >"$E2E_TMP/sctp.list" 2>/dev/null
assert_eq "conntrack -L -p sctp --state ESTABLISHED: the two heartbeat paths" 2 \
	"$(grep -cE '^sctp +132 [0-9]+ ESTABLISHED src=.* sport=410[45]2 dport=9 .*\[ASSURED\]' "$E2E_TMP/sctp.list")"
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
# conntrack -E: the same events, in the same order, as the kernel's
ev_compare
assert_ge "the kernel's events: connections that became ESTABLISHED" "$(grep -c '^\[UPDATE\] timeout<=432000 ESTABLISHED' "$E2E_TMP/kernel.evn")" 2
assert_ge "the kernel's events: SCTP associations that became ESTABLISHED" "$(grep -c '^\[UPDATE\] sctp timeout<=210 ESTABLISHED' "$E2E_TMP/kernel.evn")" 2
assert_ge "the kernel's run has SCTP packets it found INVALID" "$(grep -c 'SCTP.* INVALID' "$E2E_TMP/kernel")" 10
assert_ge "the kernel's events: GRE that became ASSURED" "$(grep -c '^\[UPDATE\] gre timeout<=210 .*\[ASSURED\]' "$E2E_TMP/kernel.evn")" 1
cat "$E2E_TMP/kernel"
e2e_finish
