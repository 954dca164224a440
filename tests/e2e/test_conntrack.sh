#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Connection tracking with real clients (router mode, 2 workers), with the
# stateful rulesets in tests/e2e/conntrack/ (FORWARD and INPUT policy DROP,
# ESTABLISHED/RELATED accepted, only NEW to allowed ports from the LAN):
#   - curl lan -> wan:8080 gets the file (v4, v6); its answers pass only
#     because they are ESTABLISHED
#   - a NEW connection to a port without a rule (8081) times out
#   - unsolicited connections and pings from the WAN to the LAN fail
#   - ping lan -> wan and lan -> the box (INPUT) work, their replies are
#     ESTABLISHED; IPv6 neighbour discovery passes as UNTRACKED
#   - a 20 000-byte IPv6 ping (14 fragments each way) is reassembled for
#     tracking and crosses
#   - a UDP probe to a closed port comes back as ICMP port unreachable,
#     RELATED, and the client sees ECONNREFUSED (v4, v6)
#   - raw CT --notrack: UNTRACKED packets are matched as such
#   - CONNMARK --set-xmark on NEW, connmark restored into the packet mark
#     on every later packet: a mark-based REJECT sees the whole connection
#   - the established lane: an IPv6 download's packets take it (IPv6's
#     ruleset opens it), an IPv4 download's do not (raw rules close it)
#   - a TCP segment with an impossible flag combination is INVALID (dropped,
#     counted by the INVALID rule)
#   - an established TCP connection keeps working across a ruleset reload
#   - SIGUSR1 statistics show entries, found, new and invalid counts
#   - rampartctl conntrack -L/-C/-D/-F/-S over the control socket, and -E
#     (the events of a curl, with a filter; the end when rampartd stops)
#   - SIGHUP applies changed conntrack timeouts
#   - -m connlimit: a third connection from one host is refused (2
#     workers: counted over both), a closed one no longer counts
. "$(dirname "$0")/lib.sh"

e2e_init c
require_cmd curl
topo_up

CDIR=$E2E_DIR/conntrack
WWW=$E2E_TMP/www
mkdir -p "$WWW"
echo "stateful hello $$" >"$WWW/hello.txt"
for p in 8080 8081 8082; do
	http_serve "http$p" in_wan "$WWW" "$p"
done
http_serve lanhttp in_lan "$WWW" 8080

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router "${E2E_CT_WORKERS:-2}"
cat >>"$CFG" <<YAML
ruleset:
  file: $CDIR/ct.rules
  ip6tables: $CDIR/ct.rules6
conntrack:
  max-entries: 65536
  max-ipv6: 16384
  timeouts: {udp: 20}
YAML
check_out "--check accepts the conntrack section" "ruleset valid" "$RAMPARTD" --check -c "$CFG"
rp_start "$CFG"

# curl exit codes: 0 ok, 7 connection refused, 28 timeout
curl_rc() { # NS URL [MAXTIME]
	local ns=$1
	shift
	"$ns" curl -s -o /dev/null --max-time "${2:-3}" "$1"
	echo $?
}

assert_eq "lan -> wan:8080 (NEW allowed, answers ESTABLISHED)" 0 "$(curl_rc in_lan http://10.77.2.2:8080/hello.txt)"
assert_eq "lan -> wan:8080 over IPv6" 0 "$(curl_rc in_lan 'http://[fd77:2::2]:8080/hello.txt')"
assert_eq "lan -> wan:8081 (no rule for NEW): times out" 28 "$(curl_rc in_lan http://10.77.2.2:8081/hello.txt 2)"
assert_eq "wan -> lan:8080 unsolicited: times out" 28 "$(curl_rc in_wan http://10.77.1.2:8080/hello.txt 2)"
assert_eq "wan -> lan:8080 unsolicited over IPv6: times out" 28 "$(curl_rc in_wan 'http://[fd77:1::2]:8080/hello.txt' 2)"
# 8082: CONNMARK marks the connection on its first packet, the next mangle
# rule copies the connection's mark into the packet's, and filter's
# mark-based REJECT (before the NEW rules) refuses it at once
assert_eq "CONNMARK on NEW, connmark -> mark, REJECT by mark: refused" 7 "$(curl_rc in_lan http://10.77.2.2:8082/hello.txt)"

check "ping lan -> wan (replies ESTABLISHED)" in_lan ping -c 2 -i 0.2 -W 2 10.77.2.2
check "ping lan -> wan over IPv6" in_lan ping -6 -c 2 -i 0.2 -W 2 fd77:2::2
# 20 000 bytes: 14 fragments each way, more than DPDK's reassembly takes (8);
# rampartd reassembles them for tracking and fragments them again
check "20000-byte ping lan -> wan over IPv6 (fragments reassembled, tracked, refragmented)" \
	in_lan ping -6 -c 2 -i 0.2 -W 2 -s 20000 fd77:2::2
check "ping lan -> the box (INPUT NEW, reply on OUTPUT)" in_lan ping -c 2 -i 0.2 -W 2 10.77.1.1
out=$(in_wan ping -c 2 -i 0.2 -W 1 10.77.1.2 2>&1)
assert_match "ping wan -> lan unsolicited: lost" " 100% packet loss" "$out"
out=$(in_wan ping -c 2 -i 0.2 -W 1 10.77.2.1 2>&1)
assert_match "ping wan -> the box: INPUT policy DROP" " 100% packet loss" "$out"

check_out "UDP to a closed port: the port unreachable is RELATED, ECONNREFUSED (v4)" ECONNREFUSED udp_probe 10.77.2.2 9
check_out "UDP to a closed port: ECONNREFUSED (v6)" ECONNREFUSED udp_probe fd77:2::2 9
# raw NOTRACK: 7777 is UNTRACKED in FORWARD; its port unreachable answer is
# not RELATED to anything (the probe made no connection), so it is dropped
check_out "CT --notrack: the UNTRACKED probe crosses, no RELATED answer comes back" timeout udp_probe 10.77.2.2 7777

# an impossible flag combination is INVALID
in_lan "$PY" - <<'PY' >/dev/null 2>&1
from scapy.all import IP, TCP, send, conf
conf.verb = 0
send(IP(dst="10.77.2.2") / TCP(sport=40000, dport=8080, flags="SF"), count=3, iface="eth0")
PY

rp_stats
ct_sum() { grep -o "conntrack: .*" "$STATS" | grep -o " $1=[0-9]*" | awk -F= '{ n += $2 } END { print n + 0 }'; }
found=$(ct_sum found)
new=$(ct_sum new)
inv=$(ct_sum invalid)
assert_ge "conntrack found packets of known connections" "${found:-0}" 20
assert_ge "conntrack confirmed new connections (curl v4+v6, 3 pings, 2 UDP probes)" "${new:-0}" 7
assert_ge "conntrack saw INVALID packets" "${inv:-0}" 3
reasm=$(grep -o " reassembled=[0-9]*" "$STATS" | awk -F= '{ n += $2 } END { print n + 0 }')
assert_ge "datagrams reassembled (2 echo requests, 2 replies)" "${reasm:-0}" 4
# the dump also has the ruleset with counters
kill -USR1 "$RP_PID"
wait_for "ruleset dump" 5 grep -q '# iptables-save -c' "$RP_LOG"
assert_file_match "the RELATED rule counted the port unreachables" \
	'^\[[1-9][0-9]*:[0-9]+\] -A FORWARD -m conntrack --ctstate RELATED -j ACCEPT' "$RP_LOG"
assert_file_match "the INVALID rule counted the SYN+FIN segments" \
	'^\[[3-9]:[0-9]+\] -A FORWARD -m conntrack --ctstate INVALID -j DROP' "$RP_LOG"
assert_file_match "the UNTRACKED rule counted the notrack probe" \
	'^\[[1-9][0-9]*:[0-9]+\] -A FORWARD -i lan0 -o wan0 -p udp -m udp --dport 7777 -m conntrack --ctstate UNTRACKED -j ACCEPT' "$RP_LOG"
log "hand-offs between workers: $(grep -o 'handoff_[a-z]*=[0-9]*' "$STATS" | tr '\n' ' ')"

# rampartctl conntrack over the control socket
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
SOCK=$E2E_TMP/rampart.sock
ctl() { "$RCTL" -s "$SOCK" conntrack "$@"; }
ctl -L >"$E2E_TMP/ct.list" 2>"$E2E_TMP/ct.err"
assert_eq "rampartctl conntrack -L: exit 0" 0 "$?"
assert_file_match "-L: the curl connection, in conntrack -L's format" \
	'^tcp +6 [0-9]+ TIME_WAIT src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=8080 packets=[0-9]+ bytes=[0-9]+ src=10\.77\.2\.2 dst=10\.77\.1\.2 sport=8080 dport=[0-9]+ packets=[0-9]+ bytes=[0-9]+ \[ASSURED\] mark=0 use=1$' \
	"$E2E_TMP/ct.list"
assert_file_match "-L: the IPv6 curl connection" \
	'^tcp +6 [0-9]+ TIME_WAIT src=fd77:1::2 dst=fd77:2::2 sport=[0-9]+ dport=8080 ' "$E2E_TMP/ct.list"
assert_file_match "-L: a ping, with its id and the reply type" \
	'^icmp +1 [0-9]+ src=10\.77\.1\.2 dst=10\.77\.2\.2 type=8 code=0 id=[0-9]+ packets=2 bytes=168 src=10\.77\.2\.2 dst=10\.77\.1\.2 type=0 code=0 id=[0-9]+ packets=2 bytes=168 mark=0 use=1$' \
	"$E2E_TMP/ct.list"
assert_file_match "-L: the UDP probe, its timeout from conntrack.timeouts.udp (20 s)" \
	'^udp +17 (1[0-9]|20) src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=9 ' "$E2E_TMP/ct.list"
assert_file_match "-L says how many it showed" "flow entries have been shown" "$E2E_TMP/ct.err"
total=$(wc -l <"$E2E_TMP/ct.list")
assert_eq "-C counts what -L lists" "$total" "$(ctl -C 2>/dev/null)"
out=$(ctl -L -p tcp --dport 8080 -f ipv6 2>/dev/null)
assert_match "-L with filters: the IPv6 8080 connection" '^tcp +6 [0-9]+ TIME_WAIT src=fd77:1::2 dst=fd77:2::2 sport=[0-9]+ dport=8080 ' "$out"
assert_eq "-L with filters: nothing else" 1 "$(printf '%s\n' "$out" | wc -l)"
# -U: the mark of what matches (conntrack(8): -m is the new mark, its mask
# the bits replaced), the entries changed listed as they are now
ntcp=$(ctl -C -p tcp --dport 8080 2>/dev/null)
out=$(ctl -U -p tcp --dport 8080 -m 0x50/0xf0 2>&1)
assert_match "-U sets the mark of what matches, and lists it" 'dport=8080 .*mark=80 use=1' "$out"
assert_match "-U says how many it changed" " $ntcp flow entries have been updated" "$out"
assert_eq "-L -m 0x50/0xf0 finds them" "$ntcp" "$(ctl -C -m 0x50/0xf0 2>/dev/null)"
out=$(ctl -U -p tcp --dport 8080 -m 0x3/0x3 2>&1)
assert_match "-U with a mask keeps the other bits" "mark=83 use=1" "$out"
out=$(ctl -U -p tcp --dport 8080 -m 0x3/0x3 2>&1)
assert_match "-U changing nothing updates nothing (as conntrack(8))" "0 flow entries have been updated" "$out"
out=$(ctl -U -p tcp 2>&1)
assert_match "-U without a mark is refused" "conntrack -U needs the new mark" "$out"
# a UDP flow's mark lives apart from the tick that makes it a stream
# (conntrack/ct.h): set, listed and filtered as a TCP connection's, and
# its timeout left as it was
out=$(ctl -U -p udp --dport 9 -m 0x77 2>&1)
assert_match "-U sets a UDP flow's mark" '^udp +17 [0-9]+ src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=9 .*mark=119 use=1' "$out"
out=$(ctl -L -p udp --dport 9 -m 0x77 2>/dev/null)
assert_match "-L -m finds the UDP flow by its mark, [UNREPLIED] and its timeout unchanged" '^udp +17 (1[0-9]|20) src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=9 .*\[UNREPLIED\] .*mark=119 use=1' "$out"
out=$(ctl -S 2>&1)
assert_match "-S: one line per worker" "worker=0 entries=[0-9]+ .*found=[0-9]+ new=[0-9]+ invalid=[0-9]+" "$out"
out=$(ctl -D -p icmp 2>&1)
assert_match "-D -p icmp deletes the pings" "flow entries have been deleted" "$out"
assert_eq "after -D, no icmp entry is left" "" "$(ctl -L -p icmp 2>/dev/null)"
out=$(ctl -L --state NOSUCH 2>&1)
rc=$?
assert_eq "a bad filter: exit 1" 1 "$rc"
assert_match "a bad filter is named" "unknown state 'NOSUCH'" "$out"
"$RCTL" -s "$E2E_TMP/nosuch.sock" conntrack -L >/dev/null 2>&1
assert_eq "no daemon at the socket: exit 3" 3 "$?"
ctl -F >/dev/null 2>&1
assert_eq "-F empties the table" 0 "$(ctl -C 2>/dev/null)"
check "traffic still crosses after the flush (a new connection)" in_lan curl -sf -o /dev/null --max-time 3 http://10.77.2.2:8080/hello.txt

# conntrack -E: a curl's events as they happen (from whichever worker
# tracks it), the DESTROY of a deletion, and only what the filter asks
EV=$E2E_TMP/ev.out
"$RCTL" -s "$SOCK" conntrack -E -p tcp --dport 8080 >"$EV" 2>"$EV.err" &
evp=$!
"$RCTL" -s "$SOCK" conntrack -E -p tcp --dport 8080 --json -o timestamp >"$EV.json" 2>/dev/null &
evj=$!
"$RCTL" -s "$SOCK" conntrack -E -e NEW -o timestamp >"$EV.ts" 2>/dev/null &
evt=$!
sleep 0.5
check "a curl while conntrack -E follows" in_lan curl -sf -o /dev/null --max-time 3 http://10.77.2.2:8080/hello.txt
udp_probe 10.77.2.2 9 >/dev/null
ctl -D -p tcp --dport 8080 >/dev/null 2>&1
wait_for "conntrack -E shows the deletion" 5 grep -q '^\[DESTROY\] tcp' "$EV"
kill "$evp" "$evj" "$evt"
wait "$evp" "$evj" "$evt" 2>/dev/null
"$PY" - "$EV.json" "$(wc -l <"$EV")" <<'PYEOF' >"$EV.check" 2>&1
import json, sys
lines = open(sys.argv[1]).read().splitlines()
ev = [json.loads(l) for l in lines]
assert len(ev) == int(sys.argv[2]), (len(ev), sys.argv[2])
assert [e["event"] for e in ev][:3] == ["new", "update", "update"], ev[:3]
assert all(e["original"]["dport"] == 8080 and e["proto"] == "tcp" and e["timestamp_us"] > 1.7e15
           for e in ev)
assert ev[0]["state"] == "SYN_SENT" and ev[0]["unreplied"] and ev[-1]["event"] == "destroy"
print("ok", len(ev))
PYEOF
assert_file_match "-E --json -o timestamp: an object a line, the same events as the text" "^ok " "$EV.check"
assert_file_match "-E -o timestamp: the time before each line, as conntrack's" \
	'^\[[0-9]{10}\.[0-9][0-9 ]{5}\]	    \[NEW\] tcp +6 120 SYN_SENT src=10\.77\.1\.2 ' "$EV.ts"
assert_file_match "-E -e NEW: the UDP probe too (no filter)" '\[NEW\] udp +17 ' "$EV.ts"
assert_eq "-E -e NEW: only NEW events" 0 "$(grep -vc '\[NEW\]' "$EV.ts")"
assert_file_match "-E: [NEW] as the kernel's conntrack -E prints it" \
	'^    \[NEW\] tcp +6 120 SYN_SENT src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=8080 \[UNREPLIED\] src=10\.77\.2\.2 dst=10\.77\.1\.2 sport=8080 dport=[0-9]+$' "$EV"
assert_file_match "-E: [UPDATE] SYN_RECV" '^ \[UPDATE\] tcp +6 60 SYN_RECV src=10\.77\.1\.2 ' "$EV"
assert_file_match "-E: [UPDATE] ESTABLISHED, assured" \
	'^ \[UPDATE\] tcp +6 432000 ESTABLISHED src=10\.77\.1\.2 .* \[ASSURED\]$' "$EV"
assert_file_match "-E: the close, down to TIME_WAIT" '^ \[UPDATE\] tcp +6 120 TIME_WAIT src=10\.77\.1\.2 ' "$EV"
assert_file_match "-E: [DESTROY] with the counters" \
	'^\[DESTROY\] tcp +6 [0-9]+ TIME_WAIT src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=8080 packets=[0-9]+ bytes=[0-9]+ src=10\.77\.2\.2 .* \[ASSURED\]$' "$EV"
assert_eq "-E: nothing the filter leaves out (the UDP probe)" 0 "$(grep -vc 'dport=8080 ' "$EV")"
# conntrack -E | head: rampartctl ends when its output does
( timeout 10 "$RCTL" -s "$SOCK" conntrack -E -p tcp 2>/dev/null | head -1 >"$EV.head"
  echo "${PIPESTATUS[0]}" >"$EV.rc" ) &
hp=$!
sleep 0.5
in_lan curl -sf -o /dev/null --max-time 3 http://10.77.2.2:8080/hello.txt
# a connection's events may all be written before head has read its line
# and gone: a later connection's make the write that fails (EPIPE)
sleep 0.5
in_lan curl -sf -o /dev/null --max-time 3 http://10.77.2.2:8080/hello.txt
wait "$hp"
assert_file_match "-E | head -1: the first event" '\[NEW\] tcp ' "$EV.head"
assert_eq "-E | head -1: rampartctl ends with its output (not killed by the timeout)" 1 "$(cat "$EV.rc")"
out=$(ctl -E -e NOPE 2>&1)
assert_eq "-E with a bad event mask: exit 1" 1 "$?"
assert_match "-E: the bad mask is named" "unknown event 'NOPE'" "$out"
out=$(ctl -E -e "$(printf 'NEW,%.0s' $(seq 40))NOPE" 2>&1)
assert_eq "-E with a mask too long to read whole: exit 1" 1 "$?"
assert_match "-E: the long mask is refused, not cut" "option -e: too long" "$out"

# the established lane (docs/architecture.md): IPv6's ruleset opens it
# (INVALID dropped, then ESTABLISHED accepted; no raw rule, no NAT),
# IPv4's does not (its raw and mangle tables have rules)
lane_sum() {
	rp_stats
	local i n=0
	for ((i = 0; i < ${E2E_CT_WORKERS:-2}; i++)); do
		n=$((n + $(stat_worker "$STATS" "$i" established_lane)))
	done
	echo "$n"
}
head -c 8000000 /dev/urandom >"$WWW/big.bin"
lane0=$(lane_sum)
check "an 8 MB IPv4 download" in_lan curl -sf -o "$E2E_TMP/big4.bin" --max-time 20 http://10.77.2.2:8080/big.bin
lane4=$(lane_sum)
check "an 8 MB IPv6 download" in_lan curl -sf -o "$E2E_TMP/big6.bin" --max-time 20 'http://[fd77:2::2]:8080/big.bin'
lane6=$(lane_sum)
check "the IPv6 download arrived intact" cmp -s "$WWW/big.bin" "$E2E_TMP/big6.bin"
check "the IPv4 download arrived intact" cmp -s "$WWW/big.bin" "$E2E_TMP/big4.bin"
log "established_lane: $lane0 before, $lane4 after IPv4, $lane6 after IPv6"
assert_eq "IPv4 (raw rules): no packet took the established lane" "$lane0" "$lane4"
assert_ge "IPv6: the download's packets took the established lane" "$((lane6 - lane4))" 3000

# a connection that lives across a ruleset reload
in_wan "$PY" - >"$E2E_TMP/echo.out" 2>&1 <<'PY' &
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9000))
s.listen(1)
c, _ = s.accept()
while True:
    d = c.recv(100)
    if not d:
        break
    c.sendall(d)
PY
ECHO_PID=$!
sleep 0.5
in_lan "$PY" - "$RP_PID" >"$E2E_TMP/client.out" 2>&1 <<'PY' &
import os, socket, sys, time
pid = int(sys.argv[1])
s = socket.create_connection(("10.77.2.2", 9000), timeout=3)
s.sendall(b"before")
print("1", s.recv(100).decode())
os.kill(pid, 1)  # SIGHUP: the same ruleset again
time.sleep(1.5)
s.sendall(b"after")
print("2", s.recv(100).decode())
PY
CLIENT_PID=$!
wait "$CLIENT_PID"
kill "$ECHO_PID" 2>/dev/null
assert_file_match "TCP echo before the reload" "^1 before$" "$E2E_TMP/client.out"
assert_file_match "the same connection after a ruleset reload" "^2 after$" "$E2E_TMP/client.out"
assert_file_match "the reload happened" "SIGHUP: ruleset reloaded" "$RP_LOG"

# -m connlimit: at most 2 connections from the LAN host to port 9100, counted
# over both workers; a closed one no longer counts
bg holder in_wan "$PY" -c '
import socket, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9100))
s.listen(16)
def hold(c):
    while c.recv(100):
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=hold, args=(c,), daemon=True).start()
'
sleep 0.5
in_lan "$PY" - >"$E2E_TMP/connlimit.out" 2>&1 <<'PY'
import socket, time
def conn(port):
    try:
        return socket.create_connection(("10.77.2.2", 9100), timeout=3, source_address=("", port))
    except ConnectionRefusedError:
        return "refused"
    except OSError as e:
        return type(e).__name__
a = conn(42001)
b = conn(42002)
c = conn(42003)
print("third:", c if isinstance(c, str) else "open")
a.close()
time.sleep(1)
d = conn(42004)
print("after a close:", d if isinstance(d, str) else "open")
e = conn(42005)
print("third again:", e if isinstance(e, str) else "open")
PY
assert_file_match "connlimit: a third connection is refused (tcp-reset)" "^third: refused$" "$E2E_TMP/connlimit.out"
assert_file_match "connlimit: after one closes, another may open" "^after a close: open$" "$E2E_TMP/connlimit.out"
assert_file_match "connlimit: and the limit holds again" "^third again: refused$" "$E2E_TMP/connlimit.out"

# SIGHUP also reloads the configuration's conntrack timeouts
sed -i 's/timeouts: {udp: 20}/timeouts: {udp: 7}/' "$CFG"
kill -HUP "$RP_PID"
wait_for "timeouts reloaded" 5 grep -q 'SIGHUP: conntrack timeouts and options reloaded' "$RP_LOG"
udp_probe 10.77.2.2 10 >/dev/null
out=$(ctl -L -p udp --dport 10 2>/dev/null)
assert_match "a new UDP connection gets the reloaded timeout (7 s)" '^udp +17 [0-7] src=10\.77\.1\.2 dst=10\.77\.2\.2 ' "$out"

# a reader that stops reading costs rampartd a bounded buffer (4 MiB):
# what does not fit is lost for that reader, counted, and told to it once
# it reads again (40 000 new UDP connections: ~7 MB of events; how many
# rampartd really saw is its "new" counter: a slow, sanitized daemon
# leaves some of the burst to the socket's ring)
ct_new() { ctl -S 2>/dev/null | sed -n 's/.* new=\([0-9]*\) .*/\1/p' | awk '{s += $1} END {print s + 0}'; }
new0=$(ct_new)
FIFO=$E2E_TMP/ev.fifo
mkfifo "$FIFO"
{ sleep 4; cat; } <"$FIFO" >"$EV" &
catp=$!
"$RCTL" -s "$SOCK" conntrack -E -e NEW -p udp >"$FIFO" 2>"$EV.err" &
evp=$!
sleep 0.5
in_lan python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in range(10000, 50000):
    s.sendto(b"x", ("10.77.2.2", p))
    if p % 2000 == 0:
        time.sleep(0.02)
'
wait_for "the slow reader is told what it lost" 15 grep -q 'events lost: not read in time' "$EV.err"
kill "$evp"
wait "$evp" 2>/dev/null
for _ in $(seq 50); do kill -0 "$catp" 2>/dev/null || break; sleep 0.1; done
kill "$catp" 2>/dev/null
wait "$catp" 2>/dev/null
n=$(grep -c '^    \[NEW\] udp ' "$EV")
lost=$(sed -n 's/.*warning: \([0-9]*\) events lost: not read in time.*/\1/p' "$EV.err" | awk '{s += $1} END {print s + 0}')
made=$(($(ct_new) - new0))
log "slow reader: $n events read, $lost lost, of $made new connections"
assert_ge "the burst made new connections" "$made" 20000
assert_ge "the slow reader got the events that fit (4 MiB)" "$n" 20000
# (new counts every confirmed connection, the filter only UDP ones: a
# stray one of another protocol in the window may be counted, not shown)
assert_ge "and the rest were counted as lost" "$((n + lost))" "$((made - 20))"

# a reader still following when rampartd stops is told, and exits 0
"$RCTL" -s "$SOCK" conntrack -E >"$EV" 2>"$EV.err" &
evp=$!
sleep 0.3
rp_stop
wait "$evp"
assert_eq "conntrack -E ends with rampartd: exit 0" 0 "$?"
assert_file_match "conntrack -E says why it ended" "events ended: rampartd is stopping" "$EV.err"
e2e_finish
