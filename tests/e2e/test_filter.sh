#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The rule engine deciding real traffic (router mode, 2 workers: counters
# are summed over both, SIGHUP waits for both), with the
# iptables-save / ip6tables-save / ipset files in tests/e2e/filter/:
#   - curl to an allowed port gets the file; to a port with REJECT
#     --reject-with tcp-reset fails at once ("Connection refused"); to a
#     DROPped port times out; the same over IPv6 (tcp-reset, adm-prohibited)
#   - UDP to a REJECTed port: ECONNREFUSED (ICMP port unreachable), v4 and v6
#   - ping to a host without an ACCEPT rule: "Communication prohibited"
#   - INPUT: echo to the box's wan address is dropped, to its lan address not
#   - a set (ipset file) rejects a source address; another address passes
#   - a MARK set in mangle PREROUTING is matched in filter FORWARD
#   - LOG writes the kernel's format to rampartd's log
#   - SIGUSR1 prints the live ruleset with counters (iptables-save -c)
#   - SIGHUP reloads an edited ruleset (verdicts change at once); a broken
#     file is refused, logged, and the running ruleset stays
#   - rampartd --check names file:line:col of a ruleset error (exit 2)
#   - 40 ruleset swaps (SIGHUP) while 400 pings cross: none lost (RCU)
. "$(dirname "$0")/lib.sh"

e2e_init f
require_cmd curl
topo_up

FDIR=$E2E_DIR/filter
WORK=$E2E_TMP/rules
mkdir -p "$WORK"
cp "$FDIR/fw.rules" "$FDIR/fw.rules6" "$FDIR/fw.ipsets" "$WORK/"

WWW=$E2E_TMP/www
mkdir -p "$WWW"
echo "filtered hello $$" >"$WWW/hello.txt"
for port in 8080 8081 8082 8083 8084; do
	bg "http$port" in_wan "$PY" -m http.server --bind :: --directory "$WWW" "$port"
done
wait_for "http.server 8080 in the wan namespace" 10 in_wan curl -sf -o /dev/null http://127.0.0.1:8080/hello.txt ||
	die "http.server did not start"
# a second lan address, for the set
in_lan ip addr add 10.77.1.66/24 dev eth0

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router "${E2E_FILTER_WORKERS:-2}"
cat >>"$CFG" <<YAML
ruleset:
  file: $WORK/fw.rules
  ip6tables: $WORK/fw.rules6
  ipsets: $WORK/fw.ipsets
YAML

# ---- --check reports ruleset errors with file:line:col
BAD=$E2E_TMP/bad.yaml
cp "$CFG" "$BAD"
sed -i "s#file: $WORK/fw.rules#file: $E2E_TMP/bad.rules#" "$BAD"
printf '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport 80 -j NOSUCHCHAIN\nCOMMIT\n' >"$E2E_TMP/bad.rules"
out=$("$RAMPARTD" --check -c "$BAD" 2>&1)
rc=$?
assert_eq "--check on a bad ruleset exits 2" 2 "$rc"
assert_match "--check names the file, line and column" "bad.rules:3:[0-9]+: .*NOSUCHCHAIN" "$out"
check_out "--check accepts the test ruleset" "ruleset valid" "$RAMPARTD" --check -c "$CFG"

rp_start "$CFG"

curl_t() { # ADDR PORT -> prints "rc seconds"
	local t0 rc t1 url
	url="http://$1:$2/hello.txt"
	case $1 in *:*) url="http://[$1]:$2/hello.txt" ;; esac
	t0=$(date +%s%N)
	in_lan curl -s -o /dev/null --max-time "${3:-3}" "$url"
	rc=$?
	t1=$(date +%s%N)
	echo "$rc $(((t1 - t0) / 1000000))"
}

expect_curl() { # DESC ADDR PORT WANT_RC MAX_MS [MIN_MS]
	local r rc ms
	r=$(curl_t "$2" "$3")
	rc=${r% *}
	ms=${r#* }
	if [ "$rc" = "$4" ] && [ "$ms" -le "$5" ] && [ "$ms" -ge "${6:-0}" ]; then
		pass "$1 (curl exit $rc after $ms ms)"
	else
		fail "$1: wanted curl exit $4 within $5 ms (at least ${6:-0}), got exit $rc after $ms ms"
	fi
}

# curl exit codes: 0 ok, 7 connection refused, 28 timeout
expect_curl "allowed port 8080: the file arrives" 10.77.2.2 8080 0 3000
expect_curl "REJECT tcp-reset on 8081: refused at once" 10.77.2.2 8081 7 1000
expect_curl "MARK set in mangle, matched in filter: 8082 refused" 10.77.2.2 8082 7 1000
expect_curl "DROP on 8083: the connection times out" 10.77.2.2 8083 28 4000 2500
expect_curl "IPv6 REJECT tcp-reset on 8081: refused at once" fd77:2::2 8081 7 1000
expect_curl "IPv6 allowed (policy ACCEPT) on 8080" fd77:2::2 8080 0 3000

# adm-prohibited over IPv6: curl reports it as "no route"/unreachable: exit 7, fast
expect_curl "IPv6 REJECT icmp6-adm-prohibited on 8084: fails at once" fd77:2::2 8084 7 1000

check_out "UDP to a REJECTed port: ECONNREFUSED (v4)" ECONNREFUSED udp_probe 10.77.2.2 9999
check_out "UDP to a REJECTed port: ECONNREFUSED (v6)" ECONNREFUSED udp_probe fd77:2::2 9999

check "ping to the allowed host" in_lan ping -c 2 -i 0.2 -W 2 10.77.2.2
out=$(in_lan ping -c 1 -W 2 10.77.2.77 2>&1)
assert_match "ping to a host with REJECT icmp-host-prohibited: prohibited" \
	"Communication prohibited|Packet filtered|Host Prohibited" "$out"
out=$(in_lan ping -c 2 -i 0.2 -W 1 10.77.2.1 2>&1)
assert_match "INPUT drops echo to the box's wan address" " 100% packet loss" "$out"
check "INPUT lets echo to the box's lan address through" in_lan ping -c 2 -i 0.2 -W 2 10.77.1.1

# the set: 10.77.1.66 is blocked, 10.77.1.2 is not
r=$(in_lan curl -s -o /dev/null --max-time 3 --interface 10.77.1.66 http://10.77.2.2:8080/hello.txt; echo $?)
assert_eq "a source in the set is rejected (admin prohibited: curl exit 7)" 7 "$r"
expect_curl "a source not in the set passes" 10.77.2.2 8080 0 3000

# LOG in the kernel's format
wait_for "the LOG line of 8081" 5 grep -q "e2e-8081: IN=lan0 OUT=wan0 " "$RP_LOG"
assert_file_match "LOG line: kernel format" \
	'e2e-8081: IN=lan0 OUT=wan0 MAC=([0-9a-f]{2}:){13}[0-9a-f]{2} SRC=10\.77\.1\.2 DST=10\.77\.2\.2 LEN=[0-9]+ TOS=0x[0-9A-F]{2} PREC=0x[0-9A-F]{2} TTL=63 ID=[0-9]+ (DF )?PROTO=TCP SPT=[0-9]+ DPT=8081 WINDOW=[0-9]+ RES=0x00 SYN URGP=0 ' \
	"$RP_LOG"

# counters, as iptables-save -c
kill -USR1 "$RP_PID"
wait_for "SIGUSR1 ruleset dump" 5 grep -q '# ip6tables-save -c' "$RP_LOG"
assert_file_match "counters: the 8080 ACCEPT rule counted packets" \
	'^\[[1-9][0-9]*:[1-9][0-9]*\] -A from-lan -p tcp -m tcp --dport 8080 -j ACCEPT' "$RP_LOG"
assert_file_match "counters: the FORWARD policy counted the dropped SYNs" \
	'^:FORWARD DROP \[[0-9]+:[0-9]+\]' "$RP_LOG"
assert_file_match "counters: the set rule counted" \
	'^\[[1-9][0-9]*:[0-9]+\] -A from-lan -m set --match-set blocked src' "$RP_LOG"

# SIGHUP: 8081 now accepted
sed -i 's/^-A from-lan -p tcp -m tcp --dport 8081 -j REJECT --reject-with tcp-reset$/-A from-lan -p tcp -m tcp --dport 8081 -j ACCEPT/' "$WORK/fw.rules"
kill -HUP "$RP_PID"
wait_for "reload logged" 5 grep -q 'SIGHUP: ruleset reloaded' "$RP_LOG"
expect_curl "after SIGHUP, 8081 is accepted" 10.77.2.2 8081 0 3000
# a broken file is refused, the running ruleset stays
echo "-A from-lan -m nosuchmatch -j ACCEPT" >>"$WORK/fw.rules"
kill -HUP "$RP_PID"
wait_for "failed reload logged" 5 grep -q 'ruleset not reloaded, the running one stays' "$RP_LOG"
assert_file_match "the reload error names the file" "ruleset not reloaded.*fw.rules:[0-9]+" "$RP_LOG"
expect_curl "after a failed reload, 8081 still accepted" 10.77.2.2 8081 0 3000
expect_curl "after a failed reload, 8083 still dropped" 10.77.2.2 8083 28 4000 2500

# reloads under traffic: 40 swaps between two rulesets while 400 pings
# cross; RCU means no packet is lost or misjudged, and the daemon stays up
cp "$FDIR/fw.rules" "$WORK/fw.rules.a"
sed 's/--dport 8083 -j DROP/--dport 8083 -j ACCEPT/' "$WORK/fw.rules.a" >"$WORK/fw.rules.b"
in_lan ping -i 0.01 -c 400 -W 1 10.77.2.2 >"$E2E_TMP/flood.out" 2>&1 &
PING_PID=$!
for i in $(seq 1 40); do
	if [ $((i % 2)) = 0 ]; then cp "$WORK/fw.rules.a" "$WORK/fw.rules"; else cp "$WORK/fw.rules.b" "$WORK/fw.rules"; fi
	kill -HUP "$RP_PID"
	sleep 0.1
done
wait "$PING_PID"
assert_file_match "400 pings across 40 ruleset swaps: none lost" ' 0% packet loss' "$E2E_TMP/flood.out"
wait_for "the 40 reloads logged" 10 sh -c "[ \$(grep -c 'SIGHUP: ruleset reloaded' '$RP_LOG') -ge 40 ]"
check "rampartd alive after the swaps" kill -0 "$RP_PID"

rp_stop
e2e_finish
