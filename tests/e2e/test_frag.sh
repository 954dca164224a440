#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Fragments end to end, IPv4 included. The other tests' net_af_packet ports
# cannot carry IPv4 fragments to rampartd (the PMD's fanout group has
# PACKET_FANOUT_FLAG_DEFRAG: the kernel reassembles them first); here the
# ports are net_af_xdp devices, so rampartd gets the fragments as they are
# on the wire. With a stateful ruleset (tests/e2e/conntrack/ct.rules*:
# connection tracking on, so fragments are reassembled before the rules and
# fragmented again on the way out):
#   - ping -s 3000 and -s 20000 (3 and 14 fragments each way), IPv4 and
#     IPv6, cross and are answered
#   - a 20 000-byte UDP datagram arrives whole (sha256) at the WAN host
#   - the worker counted the reassembled and the fragmented datagrams, and
#     no fragment was dropped (frag_failed 0)
. "$(dirname "$0")/lib.sh"

e2e_init x
topo_up
CDIR=$E2E_DIR/conntrack
CFG=$E2E_TMP/rampart.yaml
E2E_PMD=af_xdp gen_config "$CFG" router 1
cfg_ruleset "$CFG" "$CDIR/ct.rules" "$CDIR/ct.rules6"
rp_start "$CFG"

for s in 3000 20000; do
	check "ping -s $s lan -> wan (IPv4 fragments reassembled, tracked, fragmented again)" \
		in_lan ping -c 2 -i 0.2 -W 2 -s "$s" 10.77.2.2
	check "ping -6 -s $s lan -> wan" in_lan ping -6 -c 2 -i 0.2 -W 2 -s "$s" fd77:2::2
done

# a 20 000-byte UDP datagram to 7777 (untracked in raw and accepted as
# UNTRACKED: reassembled all the same, as the kernel's nf_defrag runs
# before raw)
check "a 20000-byte UDP datagram (14 fragments) arrives whole" udp_big 10.77.2.2 20000

rp_stats
sumw() { grep -o " $1=[0-9]*" "$STATS" | awk -F= '{ n += $2 } END { print n + 0 }'; }
assert_ge "datagrams reassembled (pings both ways, the UDP datagram)" "$(sumw reassembled)" 17
assert_ge "datagrams fragmented again on the way out" "$(sumw fragmented)" 17
assert_eq "no fragment dropped by reassembly" 0 "$(sumw frag_failed)"
rp_stop
e2e_finish
