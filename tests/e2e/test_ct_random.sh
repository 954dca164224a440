#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Connection tracking against the Linux kernel's on random packets.
# test_ct_kernel.sh replays sequences written by hand; this one replays
# tests/e2e/conntrack/ctdiff.py's random_steps(): a few TCP connections at
# a time, IPv4 and IPv6, handshakes with random options (window scale, SACK,
# MSS), data both ways, ACKs, FINs, and often what stacks do not send:
# retransmissions, segments and ACKs outside the windows, zero windows,
# RSTs exact, in window or anywhere, SYNs on open connections, odd flags;
# among them UDP flows both ways, ICMP echoes, and ICMP/ICMPv6 errors
# quoting recent packets (RELATED or not; from either end; some quoting
# ports nobody used).
# The same segments cross the kernel's router and rampartd (the same
# ruleset, ctstate.rules: each packet's state, direction and ASSURED bit in
# its DSCP); both must give every segment the same state, and their tables
# must end the same (conntrack -L against rampartctl conntrack -L: the TCP
# state, both tuples, the flags, and which of the kernel's timeouts runs),
# and conntrack -E must report the same TCP events (NEW, UPDATE) in order.
#
#   E2E_CT_SEED=N E2E_CT_STEPS=M   another sequence (default 20261206, 300)
. "$(dirname "$0")/lib.sh"

e2e_init r
require_cmd tcpdump iptables-restore ip6tables-restore conntrack
topo_up

SEED=${E2E_CT_SEED:-20261206}
STEPS=${E2E_CT_STEPS:-300}
export CTDIFF_RANDOM=$SEED:$STEPS
[ -n "${E2E_CT_PICK:-}" ] && export CTDIFF_PICK=$E2E_CT_PICK
log "sequence: seed $SEED, $STEPS packets (E2E_CT_SEED, E2E_CT_STEPS)"

trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up
. "$E2E_DIR/conntrack/ctdiff.sh"
ctdiff_setup

# A conntrack -L listing of TCP entries, comparable between the two: the
# state, the tuples and flags; the timeout as the kernel's timeout it is
# counting down (the smallest of them at or above it: a run lasts seconds).
# Entries with the 10 s timeout (CLOSE, or a reset that left the state) are
# left out: one may expire in one run and not in the other.
norm_ct() {
	awk '$1 == "tcp" {
		n = split("10 30 60 120 300 432000", T, " "); cls = "?"
		for (i = 1; i <= n; i++) if ($3 + 0 <= T[i] + 0) { cls = T[i]; break }
		if (cls == 10 || $4 == "CLOSE") next
		line = $4 " timeout<=" cls
		for (i = 5; i <= NF; i++)
			if ($i !~ /^(packets|bytes|mark|use|zone|secctx)=/) line = line " " $i
		print line
	}' | sort
}

ev_start "$E2E_TMP/kernel.ev" kernel
ctdiff_run "$K_LAN" "$K_WAN" "$E2E_TMP/kernel" || die "kernel run failed"
ev_stop
ip netns exec "$K_RTR" conntrack -L -p tcp 2>/dev/null | norm_ct >"$E2E_TMP/kernel.ct"

ctdiff_rampart
ev_start "$E2E_TMP/rampart.ev" rampart
ctdiff_run "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart" || die "rampartd run failed"
ev_stop
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
"$RCTL" -s "$E2E_TMP/rampart.sock" conntrack -L -p tcp >"$E2E_TMP/rampart.L" 2>"$E2E_TMP/ctl.err"
assert_eq "rampartctl conntrack -L: exit 0" 0 "$?"
norm_ct <"$E2E_TMP/rampart.L" >"$E2E_TMP/rampart.ct"
rp_stop

n=$(wc -l <"$E2E_TMP/kernel")
for s in NEW ESTABLISHED INVALID; do
	assert_ge "the kernel's run has $s packets" "$(grep -c " $s" "$E2E_TMP/kernel")" 10
done
assert_ge "the kernel's run has assured connections" "$(grep -c ' assured' "$E2E_TMP/kernel")" 5
assert_ge "the kernel's run has RELATED packets" "$(grep -c " RELATED" "$E2E_TMP/kernel")" 3
assert_ge "the kernel's table has TCP entries left" "$(wc -l <"$E2E_TMP/kernel.ct")" 2
# UDP's ASSURED depends on time (a flow still alive 2 s after its first
# packet): left out of the comparison, on UDP packets and on the ICMP
# errors (RELATED to a UDP flow or not)
for f in kernel rampart; do
	sed -E '/ TCP /!s/ assured$//' "$E2E_TMP/$f" >"$E2E_TMP/$f.cmp"
done
if diff -u "$E2E_TMP/kernel.cmp" "$E2E_TMP/rampart.cmp" >"$E2E_TMP/ct.diff"; then
	pass "$n random packets: every one got the same conntrack state as in the kernel"
else
	fail "conntrack states differ from the kernel's (- kernel, + rampartd; seed $SEED)" "$E2E_TMP/ct.diff"
fi
if diff -u "$E2E_TMP/kernel.ct" "$E2E_TMP/rampart.ct" >"$E2E_TMP/table.diff"; then
	pass "the tables end the same: $(wc -l <"$E2E_TMP/kernel.ct") TCP entries (state, tuples, flags, timeout)"
else
	fail "the conntrack tables differ at the end (- kernel, + rampartd; seed $SEED)" "$E2E_TMP/table.diff"
fi
ev_compare "seed $SEED"
assert_ge "the kernel's run has TCP events" "$(wc -l <"$E2E_TMP/kernel.evn")" 20
e2e_finish
