#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Router mode end to end, with 1 and with 2 workers (E2E_WORKERS="1 2"):
#   - ping rampartd's own addresses (v4/v6, near and far port): echo replies
#     with TTL 64, no loss
#   - ping across the router (v4/v6, both directions): TTL / hop limit 63
#     proves the packets were routed, not bridged
#   - full-size packets (1472 bytes of ICMP payload, DF) cross
#   - HTTP over IPv4 and IPv6 from a python http.server in the wan
#     namespace: a small file's content and a 20 MB file's sha256
#   - traceroute -n (UDP, v4 and v6): hop 1 is the gateway (ICMP time
#     exceeded from rampartd), hop 2 the target, nothing after
#   - ping to an unrouted address (10.99.0.1, fd99::1): "Unreachable" from
#     the gateway in well under 2 s
#   - UDP to the box's own addresses: ICMP port unreachable, which the
#     client sees as ECONNREFUSED (v4, v6, and the far port's address)
#   - 2 workers: parallel curl and iperf3 flows; SIGUSR1 counters show that
#     both workers received packets, and every file still arrives intact
#   - no packet of that normal traffic is counted as malformed
#   - with no ruleset, the downloads crossed by the fast lane (fast_lane=)
#   - neighbours are re-confirmed (reachable_s 2) and never invalidated
#   - IPv6 fragments (ping -s 3000, a 3000-byte UDP datagram) cross; IPv4
#     fragments are a known issue (see known_issue below)
#   - ping to the router's link-local address
#   - default routes (0.0.0.0/0, ::/0) to the wan host (in the MTU round):
#     pings to addresses behind it are answered
#   - lan0 with MTU 1280: downloads (v4/v6) still arrive intact through path
#     MTU discovery driven by rampartd's ICMP errors; a DF ping gets "Frag
#     needed (mtu = 1280)", an IPv6 one "Packet too big: mtu=1280"
#   - SIGTERM: exit status 0, "stopped" (and no sanitizer report when
#     RAMPARTD is the sanitizer build)
. "$(dirname "$0")/lib.sh"

e2e_init r
require_cmd traceroute iperf3
topo_up

WORKERS_LIST=${E2E_WORKERS:-1 2}
BIG_MB=${E2E_BIG_MB:-20}

# ---- content served from the wan namespace
WWW=$E2E_TMP/www
mkdir -p "$WWW"
HELLO="hello from the wan side, test $$"
echo "$HELLO" >"$WWW/hello.txt"
head -c "${BIG_MB}M" /dev/urandom >"$WWW/big.bin"
BIG_SHA=$(sha256sum "$WWW/big.bin" | cut -d' ' -f1)

# python's http.server binds '::' dual-stack (IPV6_V6ONLY off)
bg http in_wan "$PY" -m http.server --bind :: --directory "$WWW" 8080
bg iperf in_wan iperf3 -s -p 5201
wait_for "http.server in the wan namespace" 10 in_wan curl -sf -o /dev/null http://127.0.0.1:8080/hello.txt ||
	die "http.server did not start"
wait_for "iperf3 server in the wan namespace" 10 sh -c "ip netns exec $WAN_NS ss -ltn | grep -q ':5201 '" ||
	die "iperf3 server did not start"

# Reasons that well-formed traffic must never hit
MALFORMED="short_l2 vlan_depth short_arp short_ipv4 bad_ipv4_version bad_ipv4_hlen bad_ipv4_len
bad_ipv4_csum bad_ipv4_frag short_ipv6 bad_ipv6_version bad_ipv6_len bad_ipv6_exthdr short_tcp
short_udp short_icmp short_icmp6 non_contiguous no_mbuf punt_ring_full neigh_queue_full
neigh_failed mtu_exceeded"

ping_ok() { # DESC NS ADDR TTL
	local desc=$1 ns=$2 addr=$3 ttl=$4 out
	out=$E2E_TMP/ping.out
	if ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 "$addr" >"$out" 2>&1 &&
		grep -q ' 0% packet loss' "$out" &&
		[ "$(grep -c "ttl=$ttl " "$out")" = 3 ]; then
		pass "$desc: 3/3 replies, ttl=$ttl"
	else
		fail "$desc: wanted 3 replies with ttl=$ttl" "$out"
	fi
}

tcp_refused() { # ADDR: a connect to ADDR:22 must be refused (RST) within 2 s
	in_lan "$PY" -c '
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.settimeout(2)
try:
    s.connect((a, 22))
except ConnectionRefusedError:
    print("ECONNREFUSED (RST)"); sys.exit(0)
except Exception as e:
    print("not refused:", repr(e)); sys.exit(1)
print("connected?!"); sys.exit(1)' "$1"
}

udp_refused() { # ADDR: a datagram to ADDR:9 must come back as ECONNREFUSED
	in_lan timeout 10 "$PY" - "$1" <<'PY'
import socket, sys
addr = sys.argv[1]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((addr, 9))
s.send(b"rampart e2e probe")
try:
    s.recv(100)
    print("unexpected answer")
    sys.exit(1)
except ConnectionRefusedError:
    print("ECONNREFUSED (ICMP port unreachable)")
    sys.exit(0)
except socket.timeout:
    print("no ICMP error within 3 s")
    sys.exit(1)
PY
}

traceroute_ok() { # DESC FAMILY_FLAG TARGET HOP1
	local desc=$1 fam=$2 target=$3 hop1=$4 out
	out=$E2E_TMP/traceroute.out
	in_lan timeout 30 traceroute "$fam" -n -q 1 -w 3 -m 5 "$target" >"$out" 2>&1
	local rc=$? h1 h2 h3
	h1=$(awk '$1 == "1" { print $2 }' "$out")
	h2=$(awk '$1 == "2" { print $2 }' "$out")
	h3=$(awk '$1 == "3" { print $2 }' "$out")
	if [ $rc = 0 ] && [ "$h1" = "$hop1" ] && [ "$h2" = "$target" ] && [ -z "$h3" ]; then
		pass "$desc: hop 1 $h1, hop 2 $h2"
	else
		fail "$desc: wanted hop 1 $hop1, hop 2 $target and no hop 3 (exit $rc)" "$out"
	fi
}

unreachable_ok() { # DESC ADDR FROM
	local desc=$1 addr=$2 from=$3 out t0 ms
	out=$E2E_TMP/unreach.out
	t0=$(date +%s%N)
	in_lan ping -c 1 -W 5 "$addr" >"$out" 2>&1
	ms=$((($(date +%s%N) - t0) / 1000000))
	if grep -Eqi "^From $from .*unreachable" "$out" && [ $ms -lt 2000 ]; then
		pass "$desc: '$(grep -i -m1 unreachable "$out")' after ${ms} ms"
	else
		fail "$desc: wanted 'From $from ... Unreachable' within 2 s (took ${ms} ms)" "$out"
	fi
}

fetch_sha() { # DESC NS URL: the big file's sha256 must match
	local desc=$1 ns=$2 url=$3 f sha
	f=$(mktemp "$E2E_TMP/dl.XXXXXX")
	if ip netns exec "$ns" curl -sS -f --max-time 90 -o "$f" "$url" 2>"$f.err"; then
		sha=$(sha256sum "$f" | cut -d' ' -f1)
		rm -f "$f" "$f.err"
		assert_eq "$desc: sha256 of ${BIG_MB} MB" "$BIG_SHA" "$sha"
		return
	fi
	fail "$desc: curl failed" "$f.err"
	rm -f "$f" "$f.err"
	return 1
}

router_round() {
	local nw=$1
	log "==== router mode, $nw worker(s)"
	local cfg=$E2E_TMP/router-$nw.yaml
	gen_config "$cfg" router "$nw"
	# re-confirm neighbours every 2 s, so that a round sees it many times
	echo "neighbours: {reachable_s: 2}" >>"$cfg"
	check "rampartd --check accepts the generated config" "$RP_BIN_CHECK" --check -c "$cfg"
	rp_start "$cfg"

	ping_ok "lan pings its gateway 10.77.1.1" "$LAN_NS" 10.77.1.1 64
	ping_ok "lan pings its gateway fd77:1::1" "$LAN_NS" fd77:1::1 64
	ping_ok "wan pings its gateway 10.77.2.1" "$WAN_NS" 10.77.2.1 64
	ping_ok "wan pings its gateway fd77:2::1" "$WAN_NS" fd77:2::1 64
	ping_ok "lan pings the far port's address 10.77.2.1" "$LAN_NS" 10.77.2.1 64
	ping_ok "lan pings the far port's address fd77:2::1" "$LAN_NS" fd77:2::1 64
	ping_ok "lan -> wan 10.77.2.2 across the router" "$LAN_NS" 10.77.2.2 63
	ping_ok "lan -> wan fd77:2::2 across the router" "$LAN_NS" fd77:2::2 63
	ping_ok "wan -> lan 10.77.1.2 across the router" "$WAN_NS" 10.77.1.2 63
	ping_ok "wan -> lan fd77:1::2 across the router" "$WAN_NS" fd77:1::2 63
	# rampartd's link-local address: modified EUI-64 of the port's MAC
	local ll m
	IFS=: read -r -a m <"/sys/class/net/$LAN_IF/address"
	ll=$(printf 'fe80::%x:%x:%x:%x' $(((0x${m[0]} ^ 2) << 8 | 0x${m[1]})) $((0x${m[2]} << 8 | 0xff)) \
		$((0xfe << 8 | 0x${m[3]})) $((0x${m[4]} << 8 | 0x${m[5]})))
	ping_ok "lan pings rampartd's link-local $ll" "$LAN_NS" "$ll%eth0" 64
	check_out "1500-byte IPv4 packets (DF) cross" ' 0% packet loss' \
		in_lan ping -c 2 -i 0.2 -W 2 -M do -s 1472 10.77.2.2
	check_out "1500-byte IPv6 packets cross" ' 0% packet loss' \
		in_lan ping -6 -c 2 -i 0.2 -W 2 -M do -s 1452 fd77:2::2

	# IPv6 fragments are forwarded one by one (the wan host reassembles)
	check_out "3000-byte IPv6 ping (fragmented) lan -> wan" ' 0% packet loss' \
		in_lan ping -6 -c 2 -i 0.2 -W 2 -s 3000 fd77:2::2
	check_out "3000-byte IPv6 ping (fragmented) wan -> lan" ' 0% packet loss' \
		in_wan ping -6 -c 2 -i 0.2 -W 2 -s 3000 fd77:1::2
	check "3000-byte UDP datagram over IPv6 (fragmented) lan -> wan" udp_big fd77:2::2 3000

	assert_eq "HTTP over IPv4: content" "$HELLO" \
		"$(in_lan curl -sS -f --max-time 20 http://10.77.2.2:8080/hello.txt 2>&1)"
	assert_eq "HTTP over IPv6: content" "$HELLO" \
		"$(in_lan curl -sS -f --max-time 20 'http://[fd77:2::2]:8080/hello.txt' 2>&1)"
	fetch_sha "HTTP over IPv4" "$LAN_NS" http://10.77.2.2:8080/big.bin
	fetch_sha "HTTP over IPv6" "$LAN_NS" 'http://[fd77:2::2]:8080/big.bin'

	traceroute_ok "traceroute -n 10.77.2.2" -4 10.77.2.2 10.77.1.1
	traceroute_ok "traceroute -6 -n fd77:2::2" -6 fd77:2::2 fd77:1::1

	unreachable_ok "ping 10.99.0.1 (no route)" 10.99.0.1 10.77.1.1
	unreachable_ok "ping fd99::1 (no route)" fd99::1 fd77:1::1

	check "UDP to 10.77.1.1:9 -> ICMP port unreachable (ECONNREFUSED)" udp_refused 10.77.1.1
	check "UDP to fd77:1::1:9 -> ICMPv6 port unreachable (ECONNREFUSED)" udp_refused fd77:1::1
	check "UDP to the far port's 10.77.2.1:9 -> ECONNREFUSED" udp_refused 10.77.2.1
	check "TCP to 10.77.1.1:22 -> RST (connection refused at once)" tcp_refused 10.77.1.1
	check "TCP to [fd77:1::1]:22 -> RST (connection refused at once)" tcp_refused fd77:1::1

	if [ "$nw" -ge 2 ]; then
		# Several flows at once: the kernel's fanout hash spreads them
		# over the queue pairs, i.e. over the workers.
		local pids=() p n=0 i
		for i in 1 2; do
			bg "curl4-$i" fetch_sha "parallel HTTP over IPv4 #$i" "$LAN_NS" http://10.77.2.2:8080/big.bin
			pids+=("$BG_PID")
			bg "curl6-$i" fetch_sha "parallel HTTP over IPv6 #$i" "$LAN_NS" 'http://[fd77:2::2]:8080/big.bin'
			pids+=("$BG_PID")
		done
		check "iperf3 -P 8 -t 2 lan -> wan (v4) alongside" \
			in_lan timeout 60 iperf3 -c 10.77.2.2 -p 5201 -P 8 -t 2
		for p in "${pids[@]}"; do
			wait "$p" || n=$((n + 1))
		done
		# the background checks ran in subshells: report what they printed
		cat "$E2E_TMP"/curl[46]-*.log
		if [ $n = 0 ] && ! grep -q FAIL "$E2E_TMP"/curl[46]-*.log; then
			pass "4 parallel 20 MB downloads arrived intact"
		else
			fail "parallel downloads: $n failed"
		fi
		rp_stats
		local w0 w1
		w0=$(stat_worker "$STATS" 0 rx_packets)
		w1=$(stat_worker "$STATS" 1 rx_packets)
		log "worker0 rx_packets=$w0 worker1 rx_packets=$w1"
		assert_ge "worker0 received packets" "$w0" 1000
		assert_ge "worker1 received packets" "$w1" 1000
	fi

	rp_stats
	local r bad=""
	for r in $MALFORMED; do
		[ "$(stat_drop "$STATS" all "$r")" = 0 ] || bad="$bad $r=$(stat_drop "$STATS" all "$r")"
	done
	assert_eq "no well-formed packet counted as malformed or lost" "" "$bad"
	assert_ge "no_route drops counted (the unrouted pings)" "$(stat_drop "$STATS" lan0 no_route)" 2
	# the downloads: data wan -> lan, ACKs lan -> wan
	assert_ge "wan0 rx_packets (downloads' data)" "$(stat_port "$STATS" wan0 rx_packets)" 20000
	assert_ge "lan0 tx_packets (downloads' data)" "$(stat_port "$STATS" lan0 tx_packets)" 20000
	# no ruleset: the downloads crossed by the fast lane (docs/architecture.md)
	local fl=0 i
	for ((i = 0; i < nw; i++)); do
		fl=$((fl + $(stat_worker "$STATS" "$i" fast_lane)))
	done
	assert_ge "the downloads took the fast lane (fast_lane= of the workers)" "$fl" 20000
	# last: it leaves bad_ipv4_len drops behind
	known_issue "3000-byte IPv4 ping (fragmented) lan -> wan" \
		"the af_packet PMD's fanout group has PACKET_FANOUT_FLAG_DEFRAG: the kernel reassembles the fragments, the datagram is cut to the ring's frame size and dropped as bad_ipv4_len" \
		in_lan ping -c 1 -W 2 -s 3000 10.77.2.2
	# Reachable neighbours were re-probed (unicast) every 2 s all along;
	# v4 and v6 hosts answered, so none may have been dropped. (Linux
	# answers a unicast NS with an NA that has no target link-layer
	# address option: that must count as an answer.)
	assert_file_nomatch "neighbours re-confirmed every 2 s, never invalidated" \
		'stopped answering' "$RP_LOG"
	check "rampartd still running" rp_alive
	rp_stop
}

# lan0 with MTU 1280: what wan sends to lan must fit, or be refused with
# ICMP "fragmentation needed" / "packet too big" that its kernel accepts
mtu_round() {
	log "==== router mode, lan0 MTU 1280, 1 worker"
	local cfg=$E2E_TMP/router-mtu.yaml
	gen_config "$cfg" router 1
	sed -i 's|^    addresses: \[10.77.1.1/24, fd77:1::1/64\]$|&\n    mtu: 1280|' "$cfg"
	grep -q '^    mtu: 1280$' "$cfg" || die "could not set lan0's MTU in $cfg"
	# default routes to the wan host, which holds addresses beyond it
	printf 'routes:\n  - {to: 0.0.0.0/0, via: 10.77.2.2}\n  - {to: "::/0", via: "fd77:2::2"}\n' >>"$cfg"
	in_wan ip addr replace 198.51.100.1/32 dev lo
	in_wan ip -6 addr replace 2001:db8:ff::1/128 dev lo
	rp_start "$cfg"
	assert_match "rampartd set the MTU of its lan0 veth" ' mtu 1280 ' "$(ip link show dev "$LAN_IF")"
	# first, so that no earlier ping has taught the wan host the path MTU:
	# TCP's full-size segments (DF) must trigger path MTU discovery
	fetch_sha "HTTP over IPv4 through the 1280-byte link (path MTU discovery)" "$LAN_NS" \
		http://10.77.2.2:8080/big.bin
	fetch_sha "HTTP over IPv6 through the 1280-byte link (path MTU discovery)" "$LAN_NS" \
		'http://[fd77:2::2]:8080/big.bin'
	rp_stats
	assert_ge "rampartd sent ICMP errors for the downloads' big segments" "$(stat_worker "$STATS" 0 icmp_sent)" 2
	assert_ge "counted as mtu_exceeded on wan0" "$(stat_drop "$STATS" wan0 mtu_exceeded)" 2
	# the wan host now knows the path MTU to 10.77.1.2: ping a second
	# address of the lan host to see rampartd's own answer
	ip -n "$LAN_NS" addr add 10.77.1.3/24 dev eth0
	ip -n "$LAN_NS" -6 addr add fd77:1::3/64 dev eth0 nodad
	check_out "1400-byte ping with DF wan -> lan: 'Frag needed' with the next-hop MTU" \
		'^From 10.77.2.1 .*Frag needed and DF set \(mtu = 1280\)' \
		sh -c "ip netns exec $WAN_NS ping -c 1 -W 2 -M do -s 1400 10.77.1.3; true"
	check_out "1400-byte IPv6 ping wan -> lan: 'Packet too big' with the next-hop MTU" \
		'^From fd77:2::1 .*Packet too big: mtu=1280' \
		sh -c "ip netns exec $WAN_NS ping -6 -c 1 -W 2 -M do -s 1400 fd77:1::3; true"
	check_out "1200-byte ping with DF wan -> lan fits" ' 0% packet loss' \
		in_wan ping -c 2 -i 0.2 -W 2 -M do -s 1200 10.77.1.3
	# one way only: the lan host's own link MTU is 1500 here, so its
	# 1428-byte answer would not fit through rp-lan0 (MTU 1280)
	local got=$E2E_TMP/frag-udp.out
	in_lan "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.1.3", 9999)); s.settimeout(5)
d, a = s.recvfrom(65535)
sys.stdout.write("%d %s\n" % (len(d), "ok" if d == bytes(range(200)) * 7 else "bad"))' >"$got" 2>&1 &
	local lpid=$!
	sleep 0.5
	in_wan "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: no DF
s.sendto(bytes(range(200)) * 7, ("10.77.1.3", 9999))'
	wait "$lpid"
	assert_match "1400-byte UDP datagram without DF wan -> lan arrives whole (rampartd fragmented it)" \
		'^1400 ok$' "$(cat "$got")"
	rp_stats
	assert_ge "rampartd counted the fragmentation" "$(stat_worker "$STATS" 0 fragmented)" 1
	ping_ok "lan -> 198.51.100.1 by the default route" "$LAN_NS" 198.51.100.1 63
	ping_ok "lan -> 2001:db8:ff::1 by the default route" "$LAN_NS" 2001:db8:ff::1 63
	check "rampartd still running" rp_alive
	rp_stop
}

RP_BIN_CHECK=$RAMPARTD
for nw in $WORKERS_LIST; do
	router_round "$nw"
done
mtu_round
e2e_finish
