#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# -j ECN against the Linux kernel's: the same mangle table
# (tests/e2e/mangle/ecn.rules: --ecn-tcp-remove, the TCP bits one by one,
# the IP codepoint, and later rules that must see what ECN changed) in the
# kernel's router namespace and in rampartd. The LAN host sends TCP
# segments with ECE/CWR and every ECN codepoint, and UDP datagrams
# (tests/e2e/conntrack/ctdiff.py's CTDIFF_SET=ecn steps); the WAN host
# captures them: whether each arrived, its TCP flags, its ECN field and
# whether its L4 checksum is still right must be the same through both.
. "$(dirname "$0")/lib.sh"

e2e_init e
require_cmd tcpdump iptables-restore
topo_up
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up
export CTDIFF_SET=ecn
. "$E2E_DIR/conntrack/ctdiff.sh" # ctdiff_run
ctdiff_silence
ip netns exec "$K_RTR" iptables-restore <"$E2E_DIR/mangle/ecn.rules" || die "the kernel refused ecn.rules"
ctdiff_run "$K_LAN" "$K_WAN" "$E2E_TMP/kernel" || die "kernel run failed"
CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cat >>"$CFG" <<YAML
ruleset:
  file: $E2E_DIR/mangle/ecn.rules
YAML
rp_start "$CFG"
ctdiff_run "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart" || die "rampartd run failed"
rp_stop
n=$(wc -l <"$E2E_TMP/kernel")
assert_ge "the kernel delivered the segments" "$(grep -c 'l4sum=ok' "$E2E_TMP/kernel")" 20
assert_file_match "the kernel cleared ECE and CWR of a SYN (the rules work)" ':7001 SEC +S ecn=0 l4sum=ok' "$E2E_TMP/kernel"
assert_file_match "a later rule saw ECE cleared (its DROP let the segment through)" ':7005 AE +A ecn=2 l4sum=ok' "$E2E_TMP/kernel"
assert_file_match "the IP codepoint set on a UDP datagram" ':afs3_kaserver udp ecn=3 l4sum=ok' "$E2E_TMP/kernel"
if diff -u "$E2E_TMP/kernel" "$E2E_TMP/rampart" >"$E2E_TMP/ecn.diff"; then
	pass "$n packets: every one arrived (or not) as through the kernel, same flags, ECN field and checksum"
else
	fail "-j ECN differs from the kernel's (- kernel, + rampartd)" "$E2E_TMP/ecn.diff"
fi
cat "$E2E_TMP/kernel"
e2e_finish
