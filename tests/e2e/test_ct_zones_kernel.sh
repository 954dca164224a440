#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Conntrack zones (-j CT --zone, --zone-orig, --zone-reply, "mark")
# against the Linux kernel's: the same raw table (conntrack/zones-raw.rules:
# a zone per destination port, for both directions' packets or the lan's
# only, the original direction's or the reply's, from the mark, a first CT
# that a later --notrack does not undo) before ctstate.rules' marking, in
# the kernel's router namespace and in rampartd. UDP and TCP flows and ICMP
# errors about them, IPv4 and IPv6, from both ends
# (conntrack/ctdiff.py's CTDIFF_SET=zones; a mark set after the CT rule
# that takes its zone from it): the state every packet arrived
# with must be the same through both; conntrack -L shows the zones as the
# kernel's conntrack does.
. "$(dirname "$0")/lib.sh"

e2e_init z
require_cmd tcpdump iptables-restore ip6tables-restore conntrack
topo_up
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up
export CTDIFF_SET=zones
. "$E2E_DIR/conntrack/ctdiff.sh" # ctdiff_silence, ctdiff_run
ctdiff_silence
R4=$E2E_TMP/zones.rules R6=$E2E_TMP/zones.rules6
cat "$E2E_DIR/conntrack/zones-raw.rules" "$E2E_DIR/conntrack/ctstate.rules" >"$R4"
cat "$E2E_DIR/conntrack/zones-raw.rules6" "$E2E_DIR/conntrack/ctstate.rules6" >"$R6"
ip netns exec "$K_RTR" iptables-restore <"$R4" || die "the kernel refused zones.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$R6" || die "the kernel refused zones.rules6"
for k in tcp_loose:1 tcp_be_liberal:0 checksum:1; do
	ip netns exec "$K_RTR" sysctl -qw "net.netfilter.nf_conntrack_${k%%:*}=${k#*:}"
done
ctdiff_run "$K_LAN" "$K_WAN" "$E2E_TMP/kernel" || die "kernel run failed"
ip netns exec "$K_RTR" conntrack -L 2>/dev/null >"$E2E_TMP/kernel.list"
# conntrack(8)'s zone filters: what each selects
ZF=("-w 0" "-w 1" "-w 3" "-w 4" "--zone 6" "--orig-zone 4" "--orig-zone 0" "--reply-zone 5"
	"--reply-zone 1" "-w 7 -p udp" "--orig-zone 4 --reply-zone 0")
zf_counts() { # CMD...: one line per filter, "FILTER: N"
	local f
	for f in "${ZF[@]}"; do
		# shellcheck disable=SC2086
		echo "$f: $("$@" conntrack -L $f 2>/dev/null | grep -c .)"
	done
}
zf_counts ip netns exec "$K_RTR" >"$E2E_TMP/kernel.zf"

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cfg_ruleset "$CFG" "$R4" "$R6"
rp_start "$CFG"
ctdiff_run "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart" || die "rampartd run failed"
"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" conntrack -L \
	>"$E2E_TMP/rampart.list" 2>/dev/null
zf_counts "$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" >"$E2E_TMP/rampart.zf"
rp_stop

n=$(wc -l <"$E2E_TMP/kernel")
# the zones change what the kernel says (else this test would test nothing)
assert_file_match "zone 2 for the lan's packets only: the answer starts a connection of its own" \
	' s IP / UDP 10.77.2.2:5201 > 10.77.1.2:42201 +NEW' "$E2E_TMP/kernel"
assert_file_match "zone 1 both ways: the answer is the connection's reply" \
	' s IP / UDP 10.77.2.2:5101 > 10.77.1.2:42101 +ESTABLISHED reply' "$E2E_TMP/kernel"
assert_file_match "--zone-orig 4 both ways: the answer is found by the second lookup (zone 0)" \
	' s IP / UDP 10.77.2.2:5301 > 10.77.1.2:42301 +ESTABLISHED reply' "$E2E_TMP/kernel"
assert_file_match "--zone-reply 5 for the wan's packets: the answer starts its own connection" \
	' s IP / UDP 10.77.2.2:5401 > 10.77.1.2:42401 +NEW' "$E2E_TMP/kernel"
assert_file_match "a new connection whose reply tuple that one holds in zone 0: dropped at confirm" \
	' c IP / UDP 10.77.1.2:5401 > 10.77.2.2:42401 +not delivered' "$E2E_TMP/kernel"
if diff -u "$E2E_TMP/kernel" "$E2E_TMP/rampart" >"$E2E_TMP/zones.diff"; then
	pass "$n packets: every one got the same conntrack state as in the kernel"
else
	fail "conntrack states with zones differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/zones.diff"
fi
# conntrack -L: the zones where the kernel's conntrack shows them
for z in 'zone=1 ' 'zone-orig=4 ' 'zone-reply=5 ' 'zone=6 ' 'zone=7 ' 'zone=8 ' 'zone=3 '; do
	k=$(grep -c -- "$z" "$E2E_TMP/kernel.list")
	assert_ge "the kernel lists connections with $z" "$k" 1
	assert_eq "conntrack -L: as many connections with $z as the kernel" "$k" \
		"$(grep -c -- "$z" "$E2E_TMP/rampart.list")"
done
log "the kernel's zone filters: $(tr '\n' ' ' <"$E2E_TMP/kernel.zf")"
assert_file_match "the kernel's -w 1 selects connections" '^-w 1: [1-9]' "$E2E_TMP/kernel.zf"
assert_file_match "the kernel's --orig-zone 4 selects connections" '^--orig-zone 4: [1-9]' "$E2E_TMP/kernel.zf"
if diff -u "$E2E_TMP/kernel.zf" "$E2E_TMP/rampart.zf" >"$E2E_TMP/zf.diff"; then
	pass "conntrack -L -w/--orig-zone/--reply-zone select as many connections as the kernel's"
else
	fail "conntrack -L zone filters differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/zf.diff"
fi
e2e_finish
