#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# TCPMSS against the Linux kernel's, with real clients: the same
# iptables-restore mangle table (tests/e2e/mangle/tcpmss.rules*: clamp to
# the path MTU, and --set-mss 700 for port 8081) in the kernel's router
# namespace and in rampartd, whose wan0 has an MTU of 1280 on both. curl
# fetches a 200 kB file over IPv4 and IPv6 from port 8080 and 8081 of the
# WAN host; tcpdump on both hosts records the MSS option of every SYN the
# WAN host receives and of every SYN-ACK the LAN host receives. Both
# routers must deliver the same MSS values, every transfer must succeed,
# and rampartd must have rewritten the options (the MSS would otherwise be
# the hosts' 1460/1440: the test can fail).
. "$(dirname "$0")/lib.sh"

e2e_init s
require_cmd curl tcpdump iptables-restore ip6tables-restore
topo_up
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up

MDIR=$E2E_DIR/mangle
WWW=$E2E_TMP/www
mkdir -p "$WWW"
head -c 200000 /dev/urandom >"$WWW/big.bin"
SUM=$(sha256sum <"$WWW/big.bin" | cut -d' ' -f1)
in_kwan() { ip netns exec "$K_WAN" "$@"; }
for ns in in_wan in_kwan; do
	http_serve "h8080-$ns" "$ns" "$WWW" 8080
	http_serve "h8081-$ns" "$ns" "$WWW" 8081
done

ip netns exec "$K_RTR" ip link set wan0 mtu 1280 || die "mtu"
ip netns exec "$K_RTR" iptables-restore <"$MDIR/tcpmss.rules" || die "the kernel refused tcpmss.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$MDIR/tcpmss.rules6" || die "the kernel refused tcpmss.rules6"

# run LAN_NS WAN_NS OUT: the fetches, then one line per SYN (at the WAN
# host) and SYN-ACK (at the LAN host): family, port, MSS
run() {
	local lns=$1 wns=$2 out=$3 p1 p2 url
	cap_start "$lns" "$out.lan.pcap" 'tcp'
	p1=$CAP_PID
	cap_start "$wns" "$out.wan.pcap" 'tcp'
	p2=$CAP_PID
	: >"$out"
	for url in http://10.77.2.2:8080 http://10.77.2.2:8081 'http://[fd77:2::2]:8080' 'http://[fd77:2::2]:8081'; do
		got=$(ip netns exec "$lns" timeout 20 curl -s --max-time 15 "$url/big.bin" | sha256sum | cut -d' ' -f1)
		if [ "$got" = "$SUM" ]; then echo "fetch $url ok"; else echo "fetch $url fail"; fi >>"$out"
	done
	sleep 0.5
	cap_stop "$p1" "$p2"
	for side in wan lan; do
		tcpdump -nn -v -r "$out.$side.pcap" 2>/dev/null |
			grep -o 'Flags \[S\.\?\].*mss [0-9]*' | sed 's/Flags \[\(S\.\?\)\].*mss \([0-9]*\)/\1 \2/' |
			sort -u | sed "s/^/$side /" >>"$out" # distinct values: a retransmitted SYN is no difference
	done
}

run "$K_LAN" "$K_WAN" "$E2E_TMP/kernel"
cat "$E2E_TMP/kernel"
assert_eq "through the kernel, every fetch succeeds" 0 "$(grep -c ' fail$' "$E2E_TMP/kernel")"

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
python3 - "$CFG" <<'PY' || die "cannot set wan0's MTU in the config"
import sys
p = sys.argv[1]
s = open(p).read()
a = "    addresses: [10.77.2.1/24, fd77:2::1/64]\n"
assert a in s
open(p, "w").write(s.replace(a, a + "    mtu: 1280\n"))
PY
cfg_ruleset "$CFG" "$MDIR/tcpmss.rules" "$MDIR/tcpmss.rules6"
rp_start "$CFG"
run "$LAN_NS" "$WAN_NS" "$E2E_TMP/rampart"
cat "$E2E_TMP/rampart"
if diff -u "$E2E_TMP/kernel" "$E2E_TMP/rampart" >"$E2E_TMP/tcpmss.diff"; then
	pass "every fetch and every MSS the hosts saw is the kernel's"
else
	fail "fetches or MSS values differ from the kernel's (- kernel, + rampartd)" "$E2E_TMP/tcpmss.diff"
fi
check_out "the SYNs to port 8080 reached the server clamped (IPv4 1240)" "^wan S 1240$" cat "$E2E_TMP/rampart"
check_out "those to port 8081 lowered to 700" "^wan S 700$" cat "$E2E_TMP/rampart"
check_out "the SYN-ACKs reached the client clamped (IPv6 1220)" "^lan S\. 1220$" cat "$E2E_TMP/rampart"
check_out "rampartctl show workers counts the rewrites" "mss_rewritten=[1-9]" \
	"$(dirname "$RAMPARTD")/tools/rampartctl" -s "$E2E_TMP/rampart.sock" show workers
rp_stop
e2e_finish
