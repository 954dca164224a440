#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The IRC helper (-j CT --helper irc: nf_conntrack_irc, nf_nat_irc) with a
# real client, server and DCC peer (tests/e2e/conntrack/irc.py), against
# the kernel's. The client (LAN) talks to the IRC server (WAN host,
# 10.77.2.2:6667) and announces DCC offers, each in its own segment; a
# peer on the WAN host (from 10.77.2.3: not the server) then connects to
# what the server received. FORWARD (irc.rules) drops every new
# connection from the WAN but what the helper announced (RELATED, -m helper
# --helper irc), so a peer gets through only if the helper read the offer:
# SEND and CHAT do; an offer of another address (forged) and a NOTICE do
# not; of nine offers the first is forgotten (max_dcc_channels 8), the
# second and the ninth are there; the peer's connection comes from where
# it is. Through MASQUERADE (irc-nat.rules) the offers must be rewritten
# to the public address for the peer to reach the client at all, and the
# peer's connection reaches the client as coming from the IRC server
# (nf_nat_follow_master). Every peer's outcome, the address the client saw
# it from and the offers as the server received them must be the kernel's,
# with one and two workers; the expectations left over are counted as the
# kernel's (conntrack -C expect); without the helper rule the first offer
# fails on both.
. "$(dirname "$0")/lib.sh"

e2e_init irc
require_cmd iptables-restore conntrack mkfifo ss
topo_up

CDIR=$E2E_DIR/conntrack
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
SOCK=$E2E_TMP/rampart.sock
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up

ip -n "$WAN_NS" addr add 10.77.2.3/24 dev eth0 || die "cannot add the peer's address"
ip -n "$K_WAN" addr add 10.77.2.3/24 dev eth0 || die "cannot add the peer's address (kernel)"

IP_INT=172818690 # 10.77.1.2, as DCC writes addresses
PORTS="5001 5002 5003 5004 5010 5011 5012 5013 5014 5015 5016 5017 5018"

int2ip() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }

# session LAN_NS WAN_NS TAG [short]: one client session through a router;
# one line per peer ("NAME ok|fail [from=ADDR]"), then the offers as the
# server received them, in $E2E_TMP/TAG.out
session() {
	local lan=$1 wan=$2 tag=$3 short=${4:-} d=$E2E_TMP/$1-$3
	mkdir -p "$d"
	mkfifo "$d/fifo"
	: >"$d/client.log"
	: >"$d/server.log"
	bg "ircd-$tag" ip netns exec "$wan" "$PY" "$CDIR/irc.py" server "$d/server.log" "$d/ircd.pid"
	local srv=$BG_PID
	wait_for "ircd ($tag)" 10 test -s "$d/ircd.pid" || die "irc.py server did not start"
	# shellcheck disable=SC2086
	bg "ircc-$tag" ip netns exec "$lan" "$PY" "$CDIR/irc.py" client 10.77.2.2 "$d/fifo" "$d/client.log" $PORTS
	local cli=$BG_PID
	wait_for "the client's IRC connection ($tag)" 10 \
		sh -c "ip netns exec '$wan' ss -Htn state established '( sport = :6667 )' | grep -q ." ||
		die "the IRC client did not connect ($tag)"
	sleep 0.3 # the greeting's ACK: the connection has seen its reply both ways
	say() { printf '%b\n' "$1" >"$d/fifo"; sleep 0.25; }
	local pub=""
	peer() { # NAME PORT: the peer to the client's public address
		local r seen
		if [ -z "$pub" ]; then # as the first offer reached the server
			pub=$(sed -n 's/.*DCC SEND file\.txt \([0-9]*\) .*/\1/p' "$d/server.log" | head -n1)
			pub=$(int2ip "${pub:-0}")
		fi
		r=$(ip netns exec "$wan" timeout 8 "$PY" "$CDIR/irc.py" peer 10.77.2.3 "$pub" "$2")
		sleep 0.1
		seen=$(awk -v p="$2" '$1 == p {print $2}' "$d/client.log" | tail -n1)
		echo "$1 ${r:-fail}${seen:+ from=$seen}"
	}
	{
		say "PRIVMSG bob :\\001DCC SEND file.txt $IP_INT 5001 100\\001"
		if [ -z "$short" ]; then
			say "PRIVMSG bob :\\001DCC CHAT chat $IP_INT 5002\\001"
			say "PRIVMSG bob :\\001DCC SEND f 172818787 5003 1\\001" # 10.77.1.99: forged
			say "NOTICE bob :\\001DCC SEND f $IP_INT 5004 1\\001"
		fi
		sleep 0.3
		peer send 5001
		if [ -z "$short" ]; then
			peer chat 5002
			peer forged 5003
			peer notice 5004
			local p
			for p in 5010 5011 5012 5013 5014 5015 5016 5017 5018; do
				say "PRIVMSG bob :\\001DCC CHAT chat $IP_INT $p\\001"
			done
			sleep 0.3
			peer chat9-first 5010
			peer chat9-second 5011
			peer chat9-last 5018
		fi
		echo "offers as received:"
		grep -a DCC "$d/server.log" | tr -d '\001'
	} >"$E2E_TMP/$tag.out"
	kill "$cli" "$srv" 2>/dev/null
	wait "$cli" "$srv" 2>/dev/null
	return 0
}

# conntrack -E expect / -L expect output with what differs from run to
# run (seconds left, the client's port) made T and P; -L's sorted
exp_norm() {
	grep -v 'have been shown\.$\|^%%' "$1" |
		sed -E -e 's/^( *\[[A-Z]+\]) [0-9]+ /\1 T /' -e 's/^[0-9]+ proto=/T proto=/' \
			-e 's/(master-dst=[^ ]+ sport=)[0-9]+/\1P/'
}
exp_stop() {
	sleep 1
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ---- the kernel
ip netns exec "$K_RTR" iptables-restore <"$CDIR/irc.rules" || die "the kernel refused irc.rules"
bg kexp ip netns exec "$K_RTR" conntrack -E expect
kexp=$BG_PID
sleep 0.5
session "$K_LAN" "$K_WAN" kernel
exp_stop "$kexp"
cat "$E2E_TMP/kernel.out"
K_EXP=$(ip netns exec "$K_RTR" conntrack -C expect 2>/dev/null)
ip netns exec "$K_RTR" conntrack -L expect 2>/dev/null | exp_norm /dev/stdin | sort >"$E2E_TMP/kexp-list"
log "the kernel's expectations left: $K_EXP"
assert_eq "through the kernel: SEND, CHAT, the 2nd and 9th of nine offers get through" 4 \
	"$(grep -c ' ok' "$E2E_TMP/kernel.out")"
ip netns exec "$K_RTR" conntrack -F expect >/dev/null 2>&1
ip netns exec "$K_RTR" iptables-restore <"$CDIR/irc-nat.rules" || die "the kernel refused irc-nat.rules"
ip netns exec "$K_RTR" conntrack -F >/dev/null 2>&1
session "$K_LAN" "$K_WAN" kernel-nat
cat "$E2E_TMP/kernel-nat.out"
assert_eq "through the kernel's NAT: the same 4 get through" 4 "$(grep -c ' ok' "$E2E_TMP/kernel-nat.out")"
ip netns exec "$K_RTR" iptables -t raw -F PREROUTING
ip netns exec "$K_RTR" conntrack -F >/dev/null 2>&1
session "$K_LAN" "$K_WAN" kernel-nohelper short
assert_eq "the kernel without the helper rule: the offer fails" "send fail" \
	"$(head -n1 "$E2E_TMP/kernel-nohelper.out")"

# ---- rampartd
same() { # TAG DESC: TAG's outcome is the kernel's (KTAG)
	if diff -u "$E2E_TMP/$3.out" "$E2E_TMP/$1.out" >"$E2E_TMP/$1.diff"; then
		pass "$2: as through the kernel ($(grep -c ' ok\| fail' "$E2E_TMP/$1.out") peers)"
	else
		fail "$2: differs from the kernel (- kernel, + rampartd)" "$E2E_TMP/$1.diff"
	fi
}
for nw in 1 2; do
	CFG=$E2E_TMP/rampart-$nw.yaml
	gen_config "$CFG" router "$nw"
	cat >>"$CFG" <<YAML
ruleset:
  file: $CDIR/irc.rules
YAML
	rp_start "$CFG"
	bg "rexp-$nw" "$RCTL" -s "$SOCK" conntrack -E expect
	rexp=$BG_PID
	sleep 0.5
	session "$LAN_NS" "$WAN_NS" "rampart-$nw"
	exp_stop "$rexp"
	same "rampart-$nw" "$nw worker(s)" kernel
	# every offer made, evicted (the ninth's NEW after the first's
	# DESTROY) and taken, in the kernel's order
	exp_norm "$E2E_TMP/kexp.log" >"$E2E_TMP/kexp.n"
	exp_norm "$E2E_TMP/rexp-$nw.log" >"$E2E_TMP/rexp-$nw.n"
	if [ -s "$E2E_TMP/kexp.n" ] && diff -u "$E2E_TMP/kexp.n" "$E2E_TMP/rexp-$nw.n" >"$E2E_TMP/rexp-$nw.diff"; then
		pass "$nw worker(s): the same $(wc -l <"$E2E_TMP/kexp.n") expectation events as the kernel's (conntrack -E expect)"
	else
		fail "$nw worker(s): expectation events differ from the kernel's (- kernel, + rampartd)" \
			"$E2E_TMP/rexp-$nw.diff"
	fi
	assert_eq "$nw worker(s): expectations left (conntrack -C expect) as the kernel's" "$K_EXP" \
		"$("$RCTL" -s "$SOCK" conntrack -C expect)"
	check_out "$nw worker(s): conntrack -L expect lists a DCC offer from any address" \
		"^[0-9]+ proto=6 src=0\.0\.0\.0 dst=10\.77\.1\.2 sport=0 dport=501[2-7] mask-src=0\.0\.0\.0 " \
		"$RCTL" -s "$SOCK" conntrack -L expect
	"$RCTL" -s "$SOCK" conntrack -L expect 2>/dev/null | exp_norm /dev/stdin | sort >"$E2E_TMP/rexp-list-$nw"
	if diff -u "$E2E_TMP/kexp-list" "$E2E_TMP/rexp-list-$nw" >"$E2E_TMP/rexp-list-$nw.diff"; then
		pass "$nw worker(s): conntrack -L expect lists what the kernel's does, as it does"
	else
		fail "$nw worker(s): conntrack -L expect differs from the kernel's (- kernel, + rampartd)" \
			"$E2E_TMP/rexp-list-$nw.diff"
	fi
	check_out "$nw worker(s): the peer's connection is RELATED to the IRC one (conntrack -L)" \
		"^tcp +6 [0-9]+ [A-Z_]+ src=10\.77\.2\.3 dst=10\.77\.1\.2 sport=[0-9]+ dport=5011 " \
		"$RCTL" -s "$SOCK" conntrack -L -p tcp
	if [ "$nw" = 1 ]; then
		"$RCTL" -s "$SOCK" -t raw -F PREROUTING >/dev/null || fail "rampartctl -t raw -F"
		session "$LAN_NS" "$WAN_NS" rampart-nohelper short
		same rampart-nohelper "without the helper rule" kernel-nohelper
	fi
	rp_stop
	CFG=$E2E_TMP/rampart-nat-$nw.yaml
	gen_config "$CFG" router "$nw"
	cat >>"$CFG" <<YAML
ruleset:
  file: $CDIR/irc-nat.rules
YAML
	rp_start "$CFG"
	session "$LAN_NS" "$WAN_NS" "rampart-nat-$nw"
	same "rampart-nat-$nw" "$nw worker(s), MASQUERADE" kernel-nat
	S=$("$RCTL" -s "$SOCK" conntrack -S)
	mangled=$(echo "$S" | grep -o 'helper_mangled=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
	assert_eq "$nw worker(s), MASQUERADE: offers rewritten (all but the forged one and the NOTICE)" \
		11 "$mangled"
	rp_stop
done
e2e_finish
