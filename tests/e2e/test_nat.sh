#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# NAT with real clients (router mode; 2 workers, E2E_NAT_WORKERS=1 for one),
# with the gateway rulesets in tests/e2e/nat/ (MASQUERADE out of wan0, DNAT
# port forwards to a LAN server, FORWARD policy DROP). The WAN host has no
# route back to the LAN: only translated traffic can work.
#   - curl lan -> wan (v4, v6): the server sees the box's WAN address
#   - curl wan -> box:8888 reaches the LAN server on 8080 (DNAT), which
#     sees the WAN client; v4 and v6 (NAT66)
#   - hairpin NAT: the LAN host reaches the forward through the public
#     address (DNAT + a MASQUERADE back into the LAN)
#   - a UDP DNAT without ports keeps the destination port
#   - ping lan -> wan through MASQUERADE (the echo id is translated back)
#   - 300 parallel connections from one LAN host, whose local ports are
#     forced into one small range, all succeed
#   - traceroute -n through the NAT shows its hops (ICMP errors translated,
#     outer and quoted headers), and a UDP probe to a closed port comes
#     back as "connection refused" through the NAT
#   - rampartctl conntrack -L shows the translated reply tuples; -S and
#     show nat the bindings and the ports in use per worker and address; with 2 workers, the replies that arrived on
#     the other worker were handed to the connection's owner
#   - 2 MB downloads through MASQUERADE and the port forward arrive
#     intact, partly by the established lane
#   - a NAT ruleset in bridge mode is refused with a clear error
. "$(dirname "$0")/lib.sh"

e2e_init n
require_cmd curl
require_cmd traceroute
topo_up

NDIR=$E2E_DIR/nat
WWW=$E2E_TMP/www
mkdir -p "$WWW"
echo "nat hello $$" >"$WWW/hello.txt"
http_serve wanhttp in_wan "$WWW" 8080
http_serve lanhttp in_lan "$WWW" 8080
# the WAN host knows only its own subnet: answers to the LAN's addresses
# have nowhere to go unless they are translated
in_wan ip route del default || die "cannot remove the wan default route"
in_wan ip -6 route del default || die "cannot remove the wan IPv6 default route"

NW=${E2E_NAT_WORKERS:-2}
CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router "$NW"
cat >>"$CFG" <<YAML
ruleset:
  file: $NDIR/nat.rules
  ip6tables: $NDIR/nat.rules6
conntrack:
  max-entries: 65536
  max-ipv6: 16384
YAML
check_out "--check accepts the NAT rulesets" "ruleset valid" "$RAMPARTD" --check -c "$CFG"
rp_start "$CFG"

curl_rc() { # NS URL [MAXTIME]
	local ns=$1
	shift
	"$ns" curl -s -o /dev/null --max-time "${2:-3}" "$1"
	echo $?
}

# MASQUERADE
out=$(in_lan curl -s --max-time 5 http://10.77.2.2:8080/hello.txt)
assert_eq "lan -> wan through MASQUERADE gets the file" "nat hello $$" "$out"
assert_file_match "the wan server saw the box's address" '^(::ffff:)?10\.77\.2\.1 - - .*GET /hello.txt' "$E2E_TMP/wanhttp.log"
assert_file_nomatch "the wan server never saw the lan address" '^(::ffff:)?10\.77\.1\.2 ' "$E2E_TMP/wanhttp.log"
out=$(in_lan curl -s --max-time 5 'http://[fd77:2::2]:8080/hello.txt')
assert_eq "lan -> wan over IPv6 through MASQUERADE (NAT66)" "nat hello $$" "$out"
assert_file_match "the wan server saw the box's IPv6 address" '^fd77:2::1 - - .*GET /hello.txt' "$E2E_TMP/wanhttp.log"

check "ping lan -> wan through MASQUERADE" in_lan ping -c 3 -i 0.2 -W 2 10.77.2.2
check "ping lan -> wan over IPv6 through MASQUERADE" in_lan ping -6 -c 3 -i 0.2 -W 2 fd77:2::2

# DNAT: port forwarding to the LAN server
out=$(in_wan curl -s --max-time 5 http://10.77.2.1:8888/hello.txt)
assert_eq "wan -> box:8888 is forwarded to lan:8080 (DNAT)" "nat hello $$" "$out"
assert_file_match "the lan server saw the wan client" '^(::ffff:)?10\.77\.2\.2 - - .*GET /hello.txt' "$E2E_TMP/lanhttp.log"
# hairpin: the LAN reaches the forwarded port through the public address;
# the hairpin MASQUERADE makes the server answer through the box
out=$(in_lan curl -s --max-time 5 http://10.77.2.1:8888/hello.txt)
assert_eq "lan -> box:8888 -> lan:8080 (hairpin NAT)" "nat hello $$" "$out"
assert_file_match "the server saw the hairpin from the box's lan address" '^(::ffff:)?10\.77\.1\.1 - - .*GET /hello.txt' "$E2E_TMP/lanhttp.log"
out=$(in_wan curl -s --max-time 5 'http://[fd77:2::1]:8888/hello.txt')
assert_eq "wan -> box:8888 over IPv6 is forwarded (DNAT66)" "nat hello $$" "$out"
# UDP DNAT without a port: the destination port stays
bg udpecho in_lan "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"echo:" + d + b" from " + a[0].encode(), a)
'
sleep 0.5
out=$(in_wan "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"hi", ("10.77.2.1", 5353))
d, a = s.recvfrom(2048)
print(d.decode(), a[0], a[1])
' 2>&1)
assert_eq "UDP DNAT to lan:5353, the answer comes from the box's address" "echo:hi from 10.77.2.2 10.77.2.1 5353" "$out"

# many parallel connections from one host, source ports squeezed into a
# small range: the same port toward the same server from different
# sessions (and, with 2 workers, ports of the other worker's share) must
# be translated to distinct tuples
urls=()
for i in $(seq 1 300); do urls+=(-o /dev/null "http://10.77.2.2:8080/hello.txt?$i"); done
codes=$(in_lan curl -s --parallel --parallel-max 60 --max-time 15 --local-port 41000-41999 \
	-w '%{http_code}\n' "${urls[@]}" 2>/dev/null)
ok=$(grep -c '^200$' <<<"$codes")
[ "$ok" = 300 ] || log "curl --parallel: $(grep -v '^200$' <<<"$codes" | sort | uniq -c | tr '\n' ' ')"
assert_eq "300 parallel connections through MASQUERADE all succeed" 300 "$ok"

# traceroute: the hops' ICMP errors come back translated
out=$(in_lan traceroute -n -q 1 -w 2 -m 4 10.77.2.2 2>&1)
log "traceroute: $(tr '\n' '|' <<<"$out")"
assert_match "traceroute: hop 1 is the box" '(^|\|| )1 +10\.77\.1\.1 ' "$(tr '\n' '|' <<<"$out")"
assert_match "traceroute: hop 2 is the server, reached through the NAT" '(^|\|| )2 +10\.77\.2\.2 ' "$(tr '\n' '|' <<<"$out")"
assert_eq "a UDP probe to a closed port: refused through the NAT (ICMP translated)" \
	"ECONNREFUSED" "$(udp_probe 10.77.2.2 9)"

# rampartctl: translated tuples and per-worker bindings
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
SOCK=$E2E_TMP/rampart.sock
"$RCTL" -s "$SOCK" conntrack -L >"$E2E_TMP/ct.list" 2>&1
assert_eq "rampartctl conntrack -L: exit 0" 0 "$?"
assert_file_match "-L: a masqueraded connection: the reply goes to the box's address" \
	'^tcp +6 [0-9]+ [A-Z_]+ src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=8080 .* src=10\.77\.2\.2 dst=10\.77\.2\.1 sport=8080 dport=[0-9]+ ' \
	"$E2E_TMP/ct.list"
assert_file_match "-L: the port forward: the reply comes from the LAN server" \
	'^tcp +6 [0-9]+ [A-Z_]+ src=10\.77\.2\.2 dst=10\.77\.2\.1 sport=[0-9]+ dport=8888 .* src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=8080 dport=[0-9]+ ' \
	"$E2E_TMP/ct.list"
# conntrack(8)'s NAT and reply filters
ctf() { "$RCTL" -s "$SOCK" conntrack -L "$@" 2>/dev/null; }
total=$(grep -c '^[a-z]' "$E2E_TMP/ct.list")
nsrc=$(ctf --src-nat | wc -l)
ndst=$(ctf --dst-nat | wc -l)
assert_ge "-L --src-nat: the masqueraded connections" "$nsrc" 5
assert_eq "-L --src-nat: each one's reply goes to a box address" 0 \
	"$(ctf --src-nat | grep -Evc ' src=[^ ]+ dst=(10\.77\.[12]\.1|fd77:[12]::1) [^[]*(\[ASSURED\] )?mark=')"
assert_ge "-L --dst-nat: the port forwards" "$ndst" 3
assert_eq "-L --dst-nat=10.77.1.2: those to the LAN server" "$ndst" \
	"$(( $(ctf --dst-nat=10.77.1.2 | wc -l) + $(ctf -f ipv6 --dst-nat | wc -l) ))"
assert_eq "-L --any-nat: either" "$(( $(ctf --any-nat | wc -l) ))" \
	"$(( nsrc + ndst - $(ctf --src-nat --dst-nat | wc -l) ))"
assert_ge "-L --src-nat --dst-nat: the hairpins (both)" "$(ctf --src-nat --dst-nat | wc -l)" 1
assert_eq "-L --src-nat 10.77.1.1 --dst-nat 10.77.1.2: the hairpins, each address its own" \
	"$(ctf --src-nat --dst-nat -f ipv4 | wc -l)" "$(ctf --src-nat 10.77.1.1 --dst-nat 10.77.1.2 | wc -l)"
assert_match "--any-nat goes alone" "any-nat goes without" "$("$RCTL" -s "$SOCK" conntrack -L --any-nat --src-nat 2>&1)"
assert_eq "-L -q 10.77.2.1 --reply-port-src 8080 -p tcp: the masqueraded fetches" \
	"$(grep -c ' src=10\.77\.2\.2 dst=10\.77\.2\.1 sport=8080 ' "$E2E_TMP/ct.list")" \
	"$(ctf -p tcp -q 10.77.2.1 --reply-port-src 8080 | wc -l)"
assert_match "-L -r 10.77.1.2: the forwards' replies come from the LAN server" \
	'dport=8888 .* src=10\.77\.1\.2 ' "$(ctf -r 10.77.1.2 -p tcp)"
assert_ge "the filters leave some out (the test can fail)" "$total" "$((nsrc + 1))"
"$RCTL" -s "$SOCK" conntrack -S >"$E2E_TMP/ct.stats" 2>&1
log "conntrack -S: $(tr '\n' '|' <"$E2E_TMP/ct.stats")"
sum_of() { grep -o "$1=[0-9]*" "$E2E_TMP/ct.stats" | awk -F= '{ s += $2 } END { print s + 0 }'; }
src=$(sum_of nat_src)
dst=$(sum_of nat_dst)
fails=$(sum_of nat_fail)
assert_ge "source bindings made (MASQUERADE)" "$src" 300
assert_ge "destination bindings made (DNAT)" "$dst" 3
assert_eq "no binding failed" 0 "$fails"
"$RCTL" -s "$SOCK" show nat >"$E2E_TMP/shownat" 2>&1
assert_eq "rampartctl show nat: exit 0" 0 "$?"
log "show nat: $(tr '\n' '|' <"$E2E_TMP/shownat")"
assert_file_match "show nat: the box's address with its TCP ports in use" \
	'^worker=[0-9] snat address=10\.77\.2\.1 proto=tcp connections=[1-9][0-9]* ports=[1-9]' "$E2E_TMP/shownat"
assert_file_match "show nat: the hairpin's address" '^worker=[0-9] snat address=10\.77\.1\.1 proto=tcp ' "$E2E_TMP/shownat"
assert_file_match "show nat: the port forward's target" '^worker=[0-9] dnat address=10\.77\.1\.2 proto=tcp connections=[1-9]' "$E2E_TMP/shownat"
# the metrics count the same connections as they come and go (no walk)
walked=$(awk '/snat address=10\.77\.2\.1 proto=tcp/ { for (i = 1; i <= NF; i++) if ($i ~ /^connections=/) { split($i, kv, "="); n += kv[2] } } END { print n + 0 }' "$E2E_TMP/shownat")
mport=$(metrics_port)
counted=$(curl -s "http://127.0.0.1:$mport/metrics" | awk '/^rampart_nat_connections\{address="10\.77\.2\.1",proto="tcp"\}/ { print $2 }')
assert_ge "metrics: rampart_nat_connections for 10.77.2.1/tcp counts live connections" "${counted:-0}" 1
assert_eq "metrics: ... the same number show nat finds by walking the tables" "$walked" "${counted:-x}"
assert_file_match "show nat: binding counters per worker" '^worker=0 bindings_src=[1-9][0-9]* bindings_dst=[0-9]+ port_changed=[0-9]+ alloc_fail=0 ' "$E2E_TMP/shownat"
# the established lane (docs/architecture.md) translates: downloads
# through MASQUERADE and through the port forward arrive intact, their
# packets partly by the lane (nat.rules: ESTABLISHED accepted first). With
# 2 workers, only the packets that arrive at their connection's worker can
# (the others are handed over): 4 connections each way, each direction of
# each on either worker (the kernel's random flow hash)
lane_sum() {
	rp_stats
	local i n=0
	for ((i = 0; i < NW; i++)); do
		n=$((n + $(stat_worker "$STATS" "$i" established_lane)))
	done
	echo "$n"
}
head -c 2000000 /dev/urandom >"$WWW/big.bin"
lane0=$(lane_sum)
bad=0
for i in 1 2 3 4; do
	in_lan curl -sf -o "$E2E_TMP/big_out.bin" --max-time 20 http://10.77.2.2:8080/big.bin &&
		cmp -s "$WWW/big.bin" "$E2E_TMP/big_out.bin" || bad=$((bad + 1))
	in_wan curl -sf -o "$E2E_TMP/big_in.bin" --max-time 20 http://10.77.2.1:8888/big.bin &&
		cmp -s "$WWW/big.bin" "$E2E_TMP/big_in.bin" || bad=$((bad + 1))
done
assert_eq "2 MB downloads, 4 through MASQUERADE and 4 through the port forward, intact" 0 "$bad"
lane1=$(lane_sum)
log "established_lane: $lane0 before the downloads, $lane1 after"
assert_ge "the downloads' packets took the established lane" "$((lane1 - lane0))" 500
if [ "$NW" = 2 ]; then
	workers_src=$(grep -c 'nat_src=[1-9]' "$E2E_TMP/ct.stats")
	assert_eq "both workers translated connections" 2 "$workers_src"
	hin=$(sum_of handoff_in)
	log "replies handed over to the owning worker: $hin"
	assert_ge "replies that reached the other worker were handed to the owner" "$hin" 1
fi
rp_stop

# bridge mode: NAT is refused, clearly
gen_config "$CFG" bridge 1
cat >>"$CFG" <<YAML
ruleset:
  file: $NDIR/nat.rules
YAML
out=$("$RAMPARTD" --check -c "$CFG" 2>&1)
assert_match "a NAT ruleset in bridge mode is refused" "router mode only" "$out"

e2e_finish
