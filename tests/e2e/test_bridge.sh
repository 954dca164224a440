#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bridge mode end to end (mode: bridge, bridge: [[lan0, wan0]], no
# addresses, no routes), with 1 and with 2 workers (E2E_WORKERS="1 2").
# Both hosts are put in one subnet: lan 10.77.3.2/24 fd77:3::2/64, wan
# 10.77.3.3/24 fd77:3::3/64, default routes removed. Checks:
#   - ARP and NDP cross: the lan host's neighbour table holds the wan
#     host's real MAC for both its addresses (and the other way round),
#     which proves frames cross unchanged (a router would answer with its
#     own MAC)
#   - ping v4/v6 both ways, TTL 64 (nothing decremented it)
#   - HTTP both ways (a server in each namespace), v4 and v6, content and a
#     5 MB file's sha256
#   - counters: every frame received on one port was sent on the other or
#     counted as dropped (exact, from the final dump after SIGTERM)
#   - SIGTERM: exit status 0, "stopped"
. "$(dirname "$0")/lib.sh"

e2e_init b
topo_up

WORKERS_LIST=${E2E_WORKERS:-1 2}

# one subnet on both sides of the bridge
bridge_subnet
assert_eq "no default route left in the lan namespace" "" \
	"$(ip -n "$LAN_NS" route show default; ip -n "$LAN_NS" -6 route show default)"
LAN_MAC=$(ip -n "$LAN_NS" -br link show dev eth0 | awk '{ print $3 }')
WAN_MAC=$(ip -n "$WAN_NS" -br link show dev eth0 | awk '{ print $3 }')
log "lan eth0 $LAN_MAC, wan eth0 $WAN_MAC"

WWW_L=$E2E_TMP/www-lan
WWW_W=$E2E_TMP/www-wan
mkdir -p "$WWW_L" "$WWW_W"
echo "lan side $$" >"$WWW_L/hello.txt"
echo "wan side $$" >"$WWW_W/hello.txt"
head -c 5M /dev/urandom >"$WWW_L/big.bin"
head -c 5M /dev/urandom >"$WWW_W/big.bin"
SHA_L=$(sha256sum "$WWW_L/big.bin" | cut -d' ' -f1)
SHA_W=$(sha256sum "$WWW_W/big.bin" | cut -d' ' -f1)
bg http-lan in_lan "$PY" -m http.server --bind :: --directory "$WWW_L" 8080
bg http-wan in_wan "$PY" -m http.server --bind :: --directory "$WWW_W" 8080
wait_for "http.server in the lan namespace" 10 in_lan curl -sf -o /dev/null http://127.0.0.1:8080/hello.txt ||
	die "http.server (lan) did not start"
wait_for "http.server in the wan namespace" 10 in_wan curl -sf -o /dev/null http://127.0.0.1:8080/hello.txt ||
	die "http.server (wan) did not start"

ping_ok() { # DESC NS ADDR
	local out=$E2E_TMP/ping.out
	if ip netns exec "$2" ping -c 3 -i 0.2 -W 2 "$3" >"$out" 2>&1 &&
		grep -q ' 0% packet loss' "$out" && [ "$(grep -c 'ttl=64 ' "$out")" = 3 ]; then
		pass "$1: 3/3 replies, ttl=64"
	else
		fail "$1: wanted 3 replies with ttl=64" "$out"
	fi
}

neigh_mac() { # NS ADDR: the MAC the namespace learned for ADDR
	ip -n "$1" neigh show to "$2" dev eth0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

fetch() { # DESC NS URL SHA
	local f
	f=$(mktemp "$E2E_TMP/dl.XXXXXX")
	if ip netns exec "$2" curl -sS -f --max-time 60 -o "$f" "$3" 2>"$f.err"; then
		local sha
		sha=$(sha256sum "$f" | cut -d' ' -f1)
		rm -f "$f" "$f.err"
		assert_eq "$1: sha256 of 5 MB" "$4" "$sha"
		return
	fi
	fail "$1: curl failed" "$f.err"
	rm -f "$f" "$f.err"
	return 1
}

bridge_round() {
	local nw=$1
	log "==== bridge mode, $nw worker(s)"
	local cfg=$E2E_TMP/bridge-$nw.yaml
	gen_config "$cfg" bridge "$nw"
	check "rampartd --check accepts the generated config" "$RAMPARTD" --check -c "$cfg"
	# forget what the previous round learned: ARP/NDP must cross again
	ip -n "$LAN_NS" neigh flush dev eth0
	ip -n "$WAN_NS" neigh flush dev eth0
	rp_start "$cfg"

	ping_ok "lan -> wan 10.77.3.3 across the bridge" "$LAN_NS" 10.77.3.3
	ping_ok "lan -> wan fd77:3::3 across the bridge" "$LAN_NS" fd77:3::3
	ping_ok "wan -> lan 10.77.3.2 across the bridge" "$WAN_NS" 10.77.3.2
	ping_ok "wan -> lan fd77:3::2 across the bridge" "$WAN_NS" fd77:3::2
	assert_eq "lan learned wan's real MAC by ARP across the bridge" "$WAN_MAC" "$(neigh_mac "$LAN_NS" 10.77.3.3)"
	assert_eq "lan learned wan's real MAC by NDP across the bridge" "$WAN_MAC" "$(neigh_mac "$LAN_NS" fd77:3::3)"
	assert_eq "wan learned lan's real MAC across the bridge" "$LAN_MAC" "$(neigh_mac "$WAN_NS" 10.77.3.2)"
	check_out "1500-byte frames cross (DF)" ' 0% packet loss' \
		in_lan ping -c 2 -i 0.2 -W 2 -M do -s 1472 10.77.3.3

	assert_eq "HTTP lan -> wan over IPv4: content" "wan side $$" \
		"$(in_lan curl -sS -f --max-time 20 http://10.77.3.3:8080/hello.txt 2>&1)"
	assert_eq "HTTP lan -> wan over IPv6: content" "wan side $$" \
		"$(in_lan curl -sS -f --max-time 20 'http://[fd77:3::3]:8080/hello.txt' 2>&1)"
	assert_eq "HTTP wan -> lan over IPv4: content" "lan side $$" \
		"$(in_wan curl -sS -f --max-time 20 http://10.77.3.2:8080/hello.txt 2>&1)"
	assert_eq "HTTP wan -> lan over IPv6: content" "lan side $$" \
		"$(in_wan curl -sS -f --max-time 20 'http://[fd77:3::2]:8080/hello.txt' 2>&1)"
	fetch "HTTP lan -> wan over IPv4" "$LAN_NS" http://10.77.3.3:8080/big.bin "$SHA_W"
	fetch "HTTP lan -> wan over IPv6" "$LAN_NS" 'http://[fd77:3::3]:8080/big.bin' "$SHA_W"
	fetch "HTTP wan -> lan over IPv4" "$WAN_NS" http://10.77.3.2:8080/big.bin "$SHA_L"
	fetch "HTTP wan -> lan over IPv6" "$WAN_NS" 'http://[fd77:3::2]:8080/big.bin' "$SHA_L"

	if [ "$nw" -ge 2 ]; then
		# a few flows at once so that both workers carry some
		local i pids=() p n=0
		for i in 1 2 3 4; do
			bg "pcurl-$i" fetch "parallel HTTP lan -> wan #$i" "$LAN_NS" http://10.77.3.3:8080/big.bin "$SHA_W"
			pids+=("$BG_PID")
			bg "pcurl6-$i" fetch "parallel HTTP wan -> lan v6 #$i" "$WAN_NS" 'http://[fd77:3::2]:8080/big.bin' "$SHA_L"
			pids+=("$BG_PID")
		done
		for p in "${pids[@]}"; do
			wait "$p" || n=$((n + 1))
		done
		cat "$E2E_TMP"/pcurl*.log
		if [ $n = 0 ] && ! grep -q FAIL "$E2E_TMP"/pcurl*.log; then
			pass "8 parallel downloads arrived intact"
		else
			fail "parallel downloads failed"
		fi
		rp_stats
		assert_ge "worker0 received packets" "$(stat_worker "$STATS" 0 rx_packets)" 500
		assert_ge "worker1 received packets" "$(stat_worker "$STATS" 1 rx_packets)" 500
	fi

	check "rampartd still running" rp_alive
	rp_stop
	# the final dump (after the workers stopped and flushed) must balance:
	# rx on one port = tx on the other + what either counted as dropped
	local f=$E2E_TMP/final-$nw.stats p q rx tx dr txfull
	stats_last "$RP_LOG" >"$f"
	for p in lan0 wan0; do
		q=wan0
		[ $p = wan0 ] && q=lan0
		rx=$(stat_port "$f" $p rx_packets)
		tx=$(stat_port "$f" $q tx_packets)
		txfull=$(stat_drop "$f" $q tx_full)
		dr=$(awk -v p="$p" '$1 == p ":" { s = 1; next } /^  [^ ]/ { s = 0 } s && /^    drop / && !/tx_full=/ { split($2, kv, "="); n += kv[2] } END { print n + 0 }' "$f")
		assert_eq "bridge accounting: $p rx $rx = $q tx $tx + tx_full $txfull + $p drops $dr" \
			"$rx" "$((tx + txfull + dr))"
		assert_ge "$p rx_packets" "$rx" 3000
	done
}

for nw in $WORKERS_LIST; do
	bridge_round "$nw"
done
e2e_finish
