#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# CT --timeout against the Linux kernel's: the same timeout policies (nfct
# objects in the kernel's router namespace; conntrack.timeout-policies in
# rampart.yaml), the same raw table (conntrack/timeout.rules*: UDP to
# 5353 and 5355 and TCP to 8080 and 8082 from the LAN get a policy), the same flows
# (conntrack/cttimeout.py: UDP answered, unanswered and a stream; TCP
# established and in CLOSE_WAIT; IPv6 with an inet6 policy; flows beside
# them without a policy). conntrack -L must list the same connections in
# the same states with the same timeouts (to the second they are under).
# Then the rule the kernel refuses is refused: without -p, for another
# protocol, another family, an unknown policy. Last, the policies change
# while running (nfct add/delete; a SIGHUP with a policy added, one
# removed, the others reordered) and the flows must again get the
# kernel's timeouts.
. "$(dirname "$0")/lib.sh"

e2e_init t
require_cmd nfct
topo_up

CDIR=$E2E_DIR/conntrack
CTT=$CDIR/cttimeout.py
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up

knfct() { ip netns exec "$K_RTR" nfct "$@"; }
knfct add timeout dns inet udp unreplied 5 replied 7 || die "nfct cannot add a policy"
knfct add timeout dns6 inet6 udp unreplied 5 replied 7 || die "nfct cannot add dns6"
knfct add timeout short-tcp inet tcp established 100 close_wait 9 || die "nfct cannot add short-tcp"
knfct add timeout gen inet generic timeout 100 || die "nfct cannot add a generic policy"
ip netns exec "$K_RTR" iptables-restore <"$CDIR/timeout.rules" || die "the kernel refused timeout.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$CDIR/timeout.rules6" || die "the kernel refused timeout.rules6"

for ns in "$WAN_NS" "$K_WAN"; do
	# the unanswered port: dropped (no port unreachable)
	ip netns exec "$ns" iptables -A INPUT -p udp --dport 5355 -j DROP
	ip netns exec "$ns" ip6tables -A INPUT -p udp --dport 5355 -j DROP
	bg "srv-$ns" ip netns exec "$ns" "$PY" "$CTT" serve
done
for ns in "$WAN_NS" "$K_WAN"; do
	wait_for "the servers in $ns" 10 grep -q serving "$E2E_TMP/srv-$ns.log"
done

run_flows() { # LAN_NS RTR_LIST_CMD... > listing
	local ns=$1
	shift
	ip netns exec "$ns" "$PY" "$CTT" flows 10.77.2.2 fd77:2::2 >"$E2E_TMP/flows-$ns.log" 2>&1 &
	local pid=$!
	HELPER_PIDS+=("$pid")
	wait_for "the flows from $ns" 15 grep -q '^flows' "$E2E_TMP/flows-$ns.log"
	"$@" conntrack -L 2>/dev/null
	kill "$pid" 2>/dev/null
}

run_flows "$K_LAN" ip netns exec "$K_RTR" >"$E2E_TMP/kernel.list"
"$PY" "$CTT" list "$E2E_TMP/kernel.list" >"$E2E_TMP/kernel"

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cp "$CDIR/timeout.rules" "$E2E_TMP/timeout.rules"
cfg_ruleset "$CFG" "$E2E_TMP/timeout.rules" "$CDIR/timeout.rules6"
cat >>"$CFG" <<YAML
conntrack:
  timeout-policies:
    dns:
      protocol: udp
      family: ipv4
      unreplied: 5
      replied: 7
    dns6:
      protocol: udp
      family: ipv6
      unreplied: 5
      replied: 7
    short-tcp:
      protocol: tcp
      family: ipv4
      established: 100
      close_wait: 9
    gen:
      protocol: generic
      family: ipv4
      timeout: 100
YAML
rp_start "$CFG"
RPCTL=("$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock")
run_flows "$LAN_NS" "${RPCTL[@]}" >"$E2E_TMP/rampart.list"
"$PY" "$CTT" list "$E2E_TMP/rampart.list" >"$E2E_TMP/rampart"

log "kernel:"
sed 's/^/    /' "$E2E_TMP/kernel"
# the policies change what the kernel lists (else this test tests nothing)
assert_file_match "the kernel: an unanswered UDP flow under its policy (5 s)" \
	'^ipv4 udp dport=5355 - timeout<=5 \[UNREPLIED\]' "$E2E_TMP/kernel"
assert_file_match "the kernel: a UDP stream under its policy (7 s)" \
	'^ipv4 udp dport=5353 - timeout<=7 \[ASSURED\]' "$E2E_TMP/kernel"
assert_file_match "the kernel: an established TCP connection under its policy (100 s)" \
	'^ipv4 tcp dport=8080 ESTABLISHED timeout<=100 \[ASSURED\]' "$E2E_TMP/kernel"
assert_file_match "the kernel: CLOSE_WAIT under its policy (9 s)" \
	'^ipv4 tcp dport=8082 CLOSE_WAIT timeout<=9 ' "$E2E_TMP/kernel"
assert_file_match "the kernel: an established TCP connection without a policy" \
	'^ipv4 tcp dport=8081 ESTABLISHED timeout<=432000 \[ASSURED\]' "$E2E_TMP/kernel"
assert_file_match "the kernel: IPv6 under its inet6 policy" \
	'^ipv6 udp dport=5355 - timeout<=5 \[UNREPLIED\]' "$E2E_TMP/kernel"
assert_file_match "the kernel: ESP under a generic policy (100 s)" \
	'^ipv4 proto50 dport=- - timeout<=100 \[UNREPLIED\]' "$E2E_TMP/kernel"
assert_file_match "the kernel: AH without a policy (the generic 600 s)" \
	'^ipv4 proto51 dport=- - timeout<=600 \[UNREPLIED\]' "$E2E_TMP/kernel"
n=$(wc -l <"$E2E_TMP/kernel")
assert_eq "the kernel lists the 10 connections" 10 "$n"
if diff -u "$E2E_TMP/kernel" "$E2E_TMP/rampart" >"$E2E_TMP/timeout.diff"; then
	pass "conntrack -L: the same $n connections with the same timeouts as the kernel's"
else
	fail "timeouts under CT --timeout differ from the kernel's (- kernel, + rampartd)" \
		"$E2E_TMP/timeout.diff"
fi

# the rules the kernel refuses, refused alike (iptables-restore's exit
# status; rampartctl's)
refuse() { # DESC RULE...
	local desc=$1
	shift
	if ip netns exec "$K_RTR" iptables -t raw -A PREROUTING "$@" 2>/dev/null; then
		fail "the kernel took $desc"
	else
		pass "the kernel refuses $desc"
	fi
	local out
	if out=$("${RPCTL[@]}" -t raw -A PREROUTING "$@" 2>&1); then
		fail "rampartd took $desc"
	else
		assert_match "rampartd refuses $desc" 'CT --timeout' "$out"
	fi
}
refuse "CT --timeout without -p" -j CT --timeout dns
refuse "CT --timeout for another protocol" -p tcp -j CT --timeout dns
refuse "CT --timeout with an inverted -p" ! -p udp -j CT --timeout dns
refuse "CT --timeout of an unknown policy" -p udp -j CT --timeout nosuch
refuse "a generic CT --timeout for a tracked protocol" -p udp -j CT --timeout gen
refuse "a generic CT --timeout without -p" -j CT --timeout gen
if ip netns exec "$K_RTR" ip6tables -t raw -A PREROUTING -p udp -j CT --timeout dns 2>/dev/null; then
	fail "the kernel took an inet policy in ip6tables"
else
	pass "the kernel refuses an inet policy in ip6tables"
fi
if out=$("${RPCTL[@]}" -6 -t raw -A PREROUTING -p udp -j CT --timeout dns 2>&1); then
	fail "rampartd took an ipv4 policy for IPv6"
else
	assert_match "rampartd refuses an ipv4 policy for IPv6" 'the policy is for IPv4 only' "$out"
fi
# (a policy name of 4 characters at most: iptables 1.8.9 prints only the
# first 4 of a longer one, which Rampart prints whole, so that its save
# restores)
GOOD=(-p udp --dport 69 -j CT --helper tftp --timeout dns --zone 3)
check "the kernel takes a good one" ip netns exec "$K_RTR" iptables -t raw -A PREROUTING "${GOOD[@]}"
check "rampartd takes a good one" "${RPCTL[@]}" -t raw -A PREROUTING "${GOOD[@]}"
assert_eq "iptables -S prints it as the kernel's iptables does" \
	"$(ip netns exec "$K_RTR" iptables -t raw -S PREROUTING | tail -1)" \
	"$("${RPCTL[@]}" -t raw -S PREROUTING | tail -1)"
assert_eq "iptables -L prints it as the kernel's iptables does" \
	"$(ip netns exec "$K_RTR" iptables -t raw -L PREROUTING -n | tail -1)" \
	"$("${RPCTL[@]}" -t raw -L PREROUTING -n | tail -1)"
# ---- the policies changed while running: in the kernel nfct adds "late"
# and deletes "dns" once no rule names it; rampartd reloads rampart.yaml
# (SIGHUP) with "late" added, "dns" removed and the others reordered. The
# flows again: the same connections and timeouts as the kernel's
knfct add timeout late inet udp unreplied 3 replied 100 || die "nfct cannot add late"
ip netns exec "$K_RTR" iptables-restore <"$CDIR/timeout-late.rules" || die "the kernel refused timeout-late.rules"
knfct delete timeout dns || die "nfct cannot delete dns once no rule names it"
ip netns exec "$K_RTR" conntrack -F >/dev/null 2>&1
run_flows "$K_LAN" ip netns exec "$K_RTR" >"$E2E_TMP/kernel-late.list"
"$PY" "$CTT" list "$E2E_TMP/kernel-late.list" >"$E2E_TMP/kernel-late"
assert_file_match "the kernel: an unanswered UDP flow under the new policy (3 s)" \
	'^ipv4 udp dport=5355 - timeout<=3 \[UNREPLIED\]' "$E2E_TMP/kernel-late"
# (the ruleset's path changes too: SIGHUP reads the files rampart.yaml
# names now)
sed -i "s|$E2E_TMP/timeout.rules\$|$CDIR/timeout-late.rules|" "$CFG"
grep -q timeout-late.rules "$CFG" || die "cannot point rampart.yaml at timeout-late.rules"
sed -i '/^  timeout-policies:$/,$d' "$CFG"
cat >>"$CFG" <<YAML
  timeout-policies:
    short-tcp:
      protocol: tcp
      family: ipv4
      established: 100
      close_wait: 9
    late:
      protocol: udp
      family: ipv4
      unreplied: 3
      replied: 100
    dns6:
      protocol: udp
      family: ipv6
      unreplied: 5
      replied: 7
    gen:
      protocol: generic
      timeout: 100
YAML
kill -HUP "$RP_PID"
wait_for "the ruleset reloaded" 10 grep -q 'SIGHUP: ruleset reloaded' "$RP_LOG" ||
	fail "rampartd did not reload its ruleset on SIGHUP" "$RP_LOG"
assert_file_nomatch "SIGHUP: no warning about the policies" 'timeout-policies' "$RP_LOG"
"${RPCTL[@]}" conntrack -F >/dev/null 2>&1
run_flows "$LAN_NS" "${RPCTL[@]}" >"$E2E_TMP/rampart-late.list"
"$PY" "$CTT" list "$E2E_TMP/rampart-late.list" >"$E2E_TMP/rampart-late"
if diff -u "$E2E_TMP/kernel-late" "$E2E_TMP/rampart-late" >"$E2E_TMP/timeout-late.diff"; then
	pass "policies changed live: the same $(wc -l <"$E2E_TMP/kernel-late") connections with the same timeouts as the kernel's"
else
	fail "policies changed live: timeouts differ from the kernel's (- kernel, + rampartd)" \
		"$E2E_TMP/timeout-late.diff"
fi
refuse "CT --timeout of a deleted policy" -p udp -j CT --timeout dns
rp_stop
e2e_finish
