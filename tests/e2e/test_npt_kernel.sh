#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# -j SNPT / -j DNPT (IPv6 prefix translation, RFC 6296) against the Linux
# kernel's: the same mangle table (tests/e2e/mangle/npt.rules6: the LAN's
# fd77:1::/64 leaves wan0 as fd99:1::/64, and the WAN reaches it there) in
# the kernel's router namespace and in rampartd. The LAN host sends UDP,
# TCP and ICMPv6 to the WAN host, which answers to the translated address
# (computed as ip6t_NPT maps it: tests/e2e/conntrack/ctdiff.py's
# CTDIFF_SET=npt steps); each end captures what arrives: the addresses and
# whether the L4 checksum is still right (the translation is
# checksum-neutral) must be the same through both.
. "$(dirname "$0")/lib.sh"

e2e_init p
require_cmd tcpdump ip6tables-restore
topo_up
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up
export CTDIFF_SET=npt
. "$E2E_DIR/conntrack/ctdiff.sh" # ctdiff_run
ctdiff_silence
ip netns exec "$K_RTR" ip6tables-restore <"$E2E_DIR/mangle/npt.rules6" || die "the kernel refused npt.rules6"
ctdiff_run "$K_LAN" "$K_WAN" "$E2E_TMP/kernel" || die "kernel run failed"
CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
printf '*filter\nCOMMIT\n' >"$E2E_TMP/empty.rules"
cfg_ruleset "$CFG" "$E2E_TMP/empty.rules" "$E2E_DIR/mangle/npt.rules6"
rp_start "$CFG"
ctdiff_run "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart" || die "rampartd run failed"
rp_stop
n=$(wc -l <"$E2E_TMP/kernel")
assert_file_match "the kernel translated the LAN's source (the rules work)" \
	'fd99:1::[0-9a-f:]+ > fd77:2::2 l4sum=ok' "$E2E_TMP/kernel"
assert_file_match "the WAN's answers reached the LAN host through DNPT" \
	'fd77:2::2 > fd77:1::2 l4sum=ok' "$E2E_TMP/kernel"
if diff -u "$E2E_TMP/kernel" "$E2E_TMP/rampart" >"$E2E_TMP/npt.diff"; then
	pass "$n packets: every one arrived (or not) as through the kernel, same addresses, checksums right"
else
	fail "SNPT/DNPT differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/npt.diff"
fi
cat "$E2E_TMP/kernel"
# bridge mode: refused, clearly (the kernel would route a DNPT'd packet)
gen_config "$CFG" bridge 1
cfg_ruleset "$CFG" "$E2E_TMP/empty.rules" "$E2E_DIR/mangle/npt.rules6"
out=$("$RAMPARTD" --check -c "$CFG" 2>&1)
assert_match "SNPT/DNPT in bridge mode are refused" "SNPT and DNPT translate addresses in router mode only" "$out"
e2e_finish
