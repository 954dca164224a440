#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A flood of logged packets does not slow forwarding (router mode, 1
# worker on its own CPU and the control thread, which writes the log, on
# the other, as on a real box; with 2 workers on these 2 CPUs the second
# worker would share the control thread's CPU and the log writing would
# take its time: a scheduling matter, not the dataplane's; LOG lines to a
# file):
#   - a baseline: a UDP flood (20 000 datagrams at 20 000/s) crosses the
#     box with no LOG rule: all of it arrives
#   - the same flood with `-j LOG` on every datagram: as much arrives (the
#     workers never wait for the logging side: a full ring drops the record
#     and counts it), and every datagram is accounted for: LOG lines
#     written + records dropped = datagrams logged
#   - the same flood behind `-m limit --limit 20/second --limit-burst 5`:
#     the log gets at most what the limit allows (burst + rate x duration,
#     per worker share summed), at least a part of it, and forwarding is
#     again as fast
. "$(dirname "$0")/lib.sh"

e2e_init f
topo_up

RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
N=${E2E_FLOOD:-20000}
# a steady flood the veth/af_packet path carries without loss on these
# machines (the dataplane is not what limits it), so that a slowdown
# caused by logging would show as loss
RATE=${E2E_FLOOD_RATE:-20000}
PKT=$E2E_TMP/packets.log
RULES=$E2E_TMP/flood.rules
cat >"$RULES" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
EOF
CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cat >>"$CFG" <<YAML
ruleset:
  file: $RULES
YAML
sed -i "s|^log: {level: info}|log: {level: info, packets: {file: $PKT}}|" "$CFG"
grep -q "packets: {file:" "$CFG" || die "gen_config's log line changed: fix this test"
rp_start "$CFG"
export RAMPART_SOCKET=$E2E_TMP/rampart.sock
in_lan ping -c 2 -W 2 10.77.2.2 >/dev/null

# flood PORT: send N datagrams as fast as possible, print how many arrived
# and how long the sending took (ms)
flood() {
	local port=$1
	in_wan "$PY" - "$port" "$E2E_TMP/rx.ready" >"$E2E_TMP/rx.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("10.77.2.2", int(sys.argv[1])))
open(sys.argv[2], "w").close()
s.settimeout(2.0)
n = 0
try:
    while True:
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
print(n)
PY
	local rx=$!
	wait_for "the receiver" 5 test -e "$E2E_TMP/rx.ready"
	rm -f "$E2E_TMP/rx.ready"
	local t0 t1
	t0=$(date +%s%N)
	in_lan "$PY" - "$port" "$N" "$RATE" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
port, n, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
t0 = time.monotonic()
for i in range(n):
    s.sendto(b"flood %d" % i, ("10.77.2.2", port))
    if i % 50 == 49:  # paced in bursts of 50
        d = t0 + (i + 1) / rate - time.monotonic()
        if d > 0:
            time.sleep(d)
PY
	t1=$(date +%s%N)
	wait $rx
	echo "$(cat "$E2E_TMP/rx.out") $(((t1 - t0) / 1000000))"
}

logged() { grep -c "$1" "$PKT" 2>/dev/null || echo 0; }
log_dropped() {
	rp_stats
	stat_worker "$STATS" 0 log_dropped
}

read -r base base_ms < <(flood 9000)
log "baseline: $base of $N arrived, sent in $base_ms ms"
assert_ge "baseline: the flood crosses the box (99 %)" "$base" $((N * 99 / 100))

# ---- every datagram logged
check "LOG rule on every datagram" "$RCTL" -I FORWARD 1 -p udp --dport 9001 -j LOG --log-prefix "flood-all: "
d0=$(log_dropped)
read -r all all_ms < <(flood 9001)
sleep 2 # the logging side catches up
lines=$(logged "flood-all: ")
d1=$(log_dropped)
log "LOG on every datagram: $all of $N arrived (sent in $all_ms ms); $lines lines written, $((d1 - d0)) records dropped"
assert_ge "logging every datagram: as much crosses as without (>= 99% of the baseline)" "$all" $((base * 99 / 100))
assert_eq "every logged datagram is a line or a counted drop" "$all" $((lines + d1 - d0))
assert_ge "lines were written" "$lines" 1

# ---- the log rate-limited
check "LOG behind -m limit 20/s burst 5" "$RCTL" -I FORWARD 1 -p udp --dport 9002 -m limit --limit 20/second --limit-burst 5 -j LOG --log-prefix "flood-lim: "
t0=$(date +%s%N)
read -r lim lim_ms < <(flood 9002)
t1=$(date +%s%N)
sleep 1
lines=$(logged "flood-lim: ")
secs=$(((t1 - t0) / 1000000000 + 1))
max=$((5 + 20 * secs))
log "LOG behind the limit: $lim of $N arrived (sent in $lim_ms ms); $lines lines in about $secs s (at most $max)"
assert_ge "the limited log: as much crosses as without (>= 99% of the baseline)" "$lim" $((base * 99 / 100))
assert_le "the limited log: no more lines than the limit allows" "$lines" "$max"
assert_ge "the limited log: but the limit let some through" "$lines" 5

rp_stop
e2e_finish
