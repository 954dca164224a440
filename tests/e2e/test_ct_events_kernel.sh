#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# CT --ctevents against the Linux kernel's: the same raw table
# (conntrack/ctevents.rules: per destination port, the events a connection
# reports: new and destroy; destroy only; assured only; reply only;
# --expevents alone: none; no rule: all), the same connections (tests/e2e/nat/natdiff.py clients from
# fixed ports, UDP and TCP; one UDP exchange twice, its second datagram
# marked by CONNMARK: an UPDATE of the mark alone; a TCP connection whose
# handshake's last segment CONNMARK marks: one UPDATE of its state, its
# assurance and its mark, as the kernel delivers what a packet changed at
# its confirmation), then a flush
# (conntrack -F: the DESTROYs).
# conntrack -E must show the same events, made comparable (timeouts by the
# kernel's timeout they are under, no counters), sorted (a flush's order is
# its hash table's). The TCP closes of the connection without a mask are
# left out (whether the server's ACK of the client's FIN travels alone
# depends on timing; test_ct_kernel compares closes on scripted segments).
. "$(dirname "$0")/lib.sh"

e2e_init v
topo_up

NATDIFF=$E2E_DIR/nat/natdiff.py
RULES=$E2E_DIR/conntrack/ctevents.rules
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up
# nf_conntrack_events=1: with the default 2 (autodetect), a rule loaded
# while no event listener exists gets no event mask at all (the kernel's
# nf_ct_ecache_ext_add gives the template none), and --ctevents does nothing
ip netns exec "$K_RTR" sysctl -qw net.netfilter.nf_conntrack_events=1 ||
	die "cannot set nf_conntrack_events"
ip netns exec "$K_RTR" iptables-restore <"$RULES" || die "the kernel refused ctevents.rules"

for ns in "$WAN_NS" "$K_WAN"; do
	bg "srv-$ns" ip netns exec "$ns" "$PY" "$NATDIFF" serve 7000 7001 7002 7003 7004
done
for ns in "$WAN_NS" "$K_WAN"; do
	wait_for "the servers in $ns" 10 grep -q serving "$E2E_TMP/srv-$ns.log"
done

flows() { # LAN_NS
	local ns=$1 k
	for k in "udp 40001 7000" "tcp 40002 7000" "tcp 40003 7001" "udp 40004 7001" \
		"udp 40005 7002" "udp 40005 7002" "tcp 40006 7002" "udp 40007 7003" "tcp 40008 7004"; do
		set -- $k
		ip netns exec "$ns" timeout 10 "$PY" "$NATDIFF" "$1" 10.77.1.2 "$2" 10.77.2.2 "$3" \
			>/dev/null 2>&1 || fail "the $k connection from $ns failed"
	done
	sleep 0.5
}

. "$E2E_DIR/conntrack/ctdiff.sh" # ev_start, ev_stop
ev_start "$E2E_TMP/kernel.ev" kernel -e NEW,UPDATE,DESTROY
flows "$K_LAN"
ip netns exec "$K_RTR" conntrack -F 2>/dev/null
ev_stop

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cat >>"$CFG" <<YAML
ruleset:
  file: $RULES
YAML
rp_start "$CFG"
ev_start "$E2E_TMP/rampart.ev" rampart -e NEW,UPDATE,DESTROY
flows "$LAN_NS"
"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" conntrack -F >/dev/null 2>&1
ev_stop
rp_stop

for f in kernel rampart; do
	"$PY" "$NATDIFF" events "$E2E_TMP/$f.ev" |
		grep -E ' (udp|tcp) ' |
		grep -Ev '^\[UPDATE\] tcp [^ ]+ (FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE) .* dport=700[24] ' |
		sort >"$E2E_TMP/$f.evn"
done
log "kernel:"
sed 's/^/    /' "$E2E_TMP/kernel.evn"
# the masks change what the kernel reports (else this test tests nothing)
assert_file_match "the kernel: new,destroy: a NEW" '^\[NEW\] udp .* dport=7000 ' "$E2E_TMP/kernel.evn"
assert_file_nomatch "the kernel: new,destroy: no UPDATE" '^\[UPDATE\] udp .* dport=7000 ' "$E2E_TMP/kernel.evn"
assert_file_match "the kernel: destroy only: the DESTROY" '^\[DESTROY\] tcp .* dport=7000 ' "$E2E_TMP/kernel.evn"
assert_file_nomatch "the kernel: destroy only: no NEW" '^\[NEW\] tcp .* dport=7000 ' "$E2E_TMP/kernel.evn"
assert_file_match "the kernel: assured only: the UPDATE that assures it" \
	'^\[UPDATE\] tcp .* ESTABLISHED .* dport=7001 .*\[ASSURED\]' "$E2E_TMP/kernel.evn"
assert_file_nomatch "the kernel: assured only: no NEW" '^\[NEW\] tcp .* dport=7001 ' "$E2E_TMP/kernel.evn"
assert_file_match "the kernel: reply only: the UPDATE of the reply" '^\[UPDATE\] udp .* dport=7001 ' "$E2E_TMP/kernel.evn"
assert_file_nomatch "the kernel: --expevents alone: no event at all" ' dport=7003 ' "$E2E_TMP/kernel.evn"
assert_file_match "the kernel: no mask: a NEW" '^\[NEW\] tcp .* dport=7002 ' "$E2E_TMP/kernel.evn"
assert_eq "the kernel: CONNMARK's change of an answered flow's mark: an UPDATE of its own" 2 \
	"$(grep -c '^\[UPDATE\] udp .* sport=40005 dport=7002 ' "$E2E_TMP/kernel.evn")"
# (the comparable lines leave marks out: the raw ones)
for f in kernel rampart; do
	assert_eq "$f: the handshake's last segment, marked: one UPDATE of state and mark" \
		"SYN_RECV ESTABLISHED/mark=7" \
		"$(grep -E '^ *\[UPDATE\] tcp .* sport=40008 dport=7004 ' "$E2E_TMP/$f.ev" |
			grep -Ev ' (FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE) ' |
			awk '{s = $5; for (i = 6; i <= NF; i++) if ($i ~ /^mark=/) s = s "/" $i; printf "%s%s", n++ ? " " : "", s}')"
done
if diff -u "$E2E_TMP/kernel.evn" "$E2E_TMP/rampart.evn" >"$E2E_TMP/ev.diff"; then
	pass "conntrack -E: the same $(wc -l <"$E2E_TMP/kernel.evn") events as the kernel's under CT --ctevents"
else
	fail "conntrack -E under CT --ctevents differs from the kernel's (- kernel, + rampartd)" \
		"$E2E_TMP/ev.diff"
fi
e2e_finish
