#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hitless ruleset replacement under traffic (router mode, 2 workers):
#   - a steady UDP stream crosses the box (LAN -> WAN, to port 9000, which
#     every ruleset accepts, and to 9001, which every ruleset drops) while a
#     10 000-rule ruleset is replaced 100 times by `rampartctl restore`,
#     alternating two different rulesets: not one datagram to 9000 is lost
#     and not one to 9001 gets through (each packet saw the old or the new
#     ruleset, never a mix, never none), the daemon's memory does not grow
#     with the swaps (old rulesets are freed), and it is still healthy
#   - apply latency, measured and printed (docs/performance.md records the
#     figures; nothing here asserts a time): one `-A` on the 10 000-rule
#     ruleset, and `restore` of a 100 000-rule file, beside the kernel's
#     iptables-restore of the same files in a namespace
. "$(dirname "$0")/lib.sh"

e2e_init w
require_cmd iptables-restore
topo_up

RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
GEN=$E2E_DIR/ctl/gen_rules.py
SWAPS=${E2E_SWAPS:-100}
"$PY" "$GEN" 10000 a >"$E2E_TMP/a.rules"
"$PY" "$GEN" 10000 b >"$E2E_TMP/b.rules"
"$PY" "$GEN" 100000 a >"$E2E_TMP/big.rules"

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router "${E2E_SWAP_WORKERS:-2}"
cat >>"$CFG" <<YAML
ruleset:
  file: $E2E_TMP/a.rules
conntrack: {mode: "off"}
YAML
rp_start "$CFG"
export RAMPART_SOCKET=$E2E_TMP/rampart.sock
in_lan ping -c 2 -W 2 10.77.2.2 >/dev/null # neighbours learnt

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$RP_PID/status"; }

# receiver: counts datagrams per port until told to stop
in_wan "$PY" - "$E2E_TMP/rx.pid" >"$E2E_TMP/rx.out" 2>&1 <<'PY' &
import os, select, signal, socket, sys
open(sys.argv[1], "w").write(str(os.getpid()))
socks = {}
for port in (9000, 9001):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("10.77.2.2", port))
    socks[s] = port
count = {9000: set(), 9001: set()}
stop = False
def done(*a):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
while not stop:
    r, _, _ = select.select(list(socks), [], [], 0.2)
    for s in r:
        data = s.recv(2048)
        count[socks[s]].add(int(data.split()[0]))
print("rx9000", len(count[9000]), "rx9001", len(count[9001]))
PY
RX=$!
sleep 0.5
# sender: a steady 2000 datagrams/s, alternating the two ports, until told to stop
in_lan "$PY" - "$E2E_TMP/tx.pid" >"$E2E_TMP/tx.out" 2>&1 <<'PY' &
import os, signal, socket, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
stop = False
def done(*a):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
sent = {9000: 0, 9001: 0}
t0 = time.monotonic()
i = 0
while not stop:
    port = 9000 + (i & 1)
    s.sendto(b"%d seq" % sent[port], ("10.77.2.2", port))
    sent[port] += 1
    i += 1
    # 2000/s: sleep until the next slot
    delay = t0 + i / 2000.0 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
print("tx9000", sent[9000], "tx9001", sent[9001])
PY
TX=$!
sleep 1

lat=$E2E_TMP/swap-ms
: >"$lat"
rss10=
t0=$(date +%s%N)
for i in $(seq 1 "$SWAPS"); do
	f=$E2E_TMP/a.rules
	[ $((i % 2)) = 1 ] && f=$E2E_TMP/b.rules
	out=$("$RCTL" restore "$f" 2>&1) || { fail "swap $i: restore failed: $out"; break; }
	echo "$out" | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p' >>"$lat"
	[ "$i" = 10 ] && rss10=$(rss_kb)
done
t1=$(date +%s%N)
rss100=$(rss_kb)
sleep 1
kill -TERM "$(cat "$E2E_TMP/tx.pid")"
wait $TX
sleep 1
kill -TERM "$(cat "$E2E_TMP/rx.pid")"
wait $RX
log "sender: $(cat "$E2E_TMP/tx.out"); receiver: $(cat "$E2E_TMP/rx.out")"
tx=$(awk '{print $2}' "$E2E_TMP/tx.out")
rx=$(awk '{print $2}' "$E2E_TMP/rx.out")
rx1=$(awk '{print $4}' "$E2E_TMP/rx.out")
assert_eq "$SWAPS swaps done" "$SWAPS" "$(wc -l <"$lat")"
assert_ge "the stream ran through the swaps (datagrams to 9000)" "${tx:-0}" 5000
assert_eq "every datagram to 9000 (accepted by both rulesets) arrived" "$tx" "$rx"
assert_eq "no datagram to 9001 (dropped by both) got through" 0 "${rx1:-x}"
log "swap wall time: $(((t1 - t0) / 1000000)) ms for $SWAPS restores of 10 000 rules"
log "apply (compile + swap + RCU wait) per restore, ms: $(sort -n "$lat" | awk '{a[NR]=$1} END {print "min", a[1], "median", a[int((NR+1)/2)], "max", a[NR]}')"
log "rampartd RSS after 10 swaps ${rss10} KiB, after $SWAPS ${rss100} KiB"
assert_le "no memory growth with the swaps (RSS after $SWAPS minus after 10, KiB)" $((rss100 - rss10)) 16384
check_out "show version: generation counted every swap" "ruleset_generation $((SWAPS + 1))$" "$RCTL" show version

# ---- apply latency: one -A on the 10 000-rule ruleset
: >"$E2E_TMP/add-ms"
for i in $(seq 1 20); do
	s=$(date +%s%N)
	out=$("$RCTL" -v -A FORWARD -p tcp --dport $((20000 + i)) -j DROP 2>&1) || fail "-A $i failed: $out"
	e=$(date +%s%N)
	echo $(((e - s) / 1000)) >>"$E2E_TMP/add-ms"
	echo "$out" | sed -n 's/.* in \([0-9.]*\) ms.*/\1/p' >>"$E2E_TMP/add-apply"
done
log "one -A on 10 000 rules, in rampartd (compile + swap + RCU wait), ms: $(sort -n "$E2E_TMP/add-apply" | awk '{a[NR]=$1} END {print "min", a[1], "median", a[int((NR+1)/2)], "max", a[NR]}')"
log "one rampartctl -A on 10 000 rules, process start to exit (wall, us): $(sort -n "$E2E_TMP/add-ms" | awk '{a[NR]=$1} END {print "min", a[1], "median", a[int((NR+1)/2)], "max", a[NR]}')"
"$PY" "$E2E_DIR/ctl/ctl_time.py" "$RAMPART_SOCKET" 20 -A FORWARD -p tcp --dport "3{i}" -j DROP >"$E2E_TMP/add-sock" ||
	fail "-A over the socket failed"
log "one -A on 10 000 rules, request sent -> answer (live on every worker) over the socket (us): $(sort -n "$E2E_TMP/add-sock" | awk '{a[NR]=$1} END {print "min", a[1], "median", a[int((NR+1)/2)], "max", a[NR]}')"
"$PY" "$E2E_DIR/ctl/ctl_time.py" "$RAMPART_SOCKET" 20 version >"$E2E_TMP/ver-sock" || fail "version failed"
log "the floor: a version request over the socket (us): $(sort -n "$E2E_TMP/ver-sock" | awk '{a[NR]=$1} END {print "min", a[1], "median", a[int((NR+1)/2)], "max", a[NR]}')"
# ---- restore of 100 000 rules, and the kernel's iptables-restore of the same files
s=$(date +%s%N)
check "restore of 100 000 rules" "$RCTL" restore "$E2E_TMP/big.rules"
e=$(date +%s%N)
big_ms=$(((e - s) / 1000000))
KNS=$RP_PREFIX-k
ip netns add "$KNS"
s=$(date +%s%N)
ip netns exec "$KNS" iptables-restore "$E2E_TMP/a.rules" || fail "kernel iptables-restore of 10 000 rules"
e=$(date +%s%N)
k10=$(((e - s) / 1000000))
s=$(date +%s%N)
ip netns exec "$KNS" iptables-restore "$E2E_TMP/big.rules" || fail "kernel iptables-restore of 100 000 rules"
e=$(date +%s%N)
k100=$(((e - s) / 1000000))
s=$(date +%s%N)
ip netns exec "$KNS" iptables -A FORWARD -p tcp --dport 20001 -j DROP
e=$(date +%s%N)
kadd=$(((e - s) / 1000))
ip netns del "$KNS"
log "restore of 100 000 rules: rampartctl ${big_ms} ms; kernel iptables-restore: 10 000 rules ${k10} ms, 100 000 rules ${k100} ms; kernel iptables -A on 100 000 rules ${kadd} us"
check_out "the 100 000-rule ruleset is live" "ruleset_generation" "$RCTL" show version
in_lan ping -c 1 -W 2 10.77.2.2 >/dev/null
assert_eq "traffic still crosses after the big restore (ping)" 0 "$?"

rp_stop
e2e_finish
