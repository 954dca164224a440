# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# tests/e2e/lib.sh: helpers sourced by the end-to-end tests (test_*.sh).
#
# A test does:
#   . "$(dirname "$0")/lib.sh"
#   e2e_init r            # one short tag: names its namespaces and veths
#   topo_up               # scripts/topology.sh up, private copy
#   gen_config "$CFG" router 2
#   rp_start "$CFG"       # background rampartd, waits for "running"
#   ... check / assert_* ...
#   rp_stop               # SIGTERM, exit status 0, "stopped", no sanitizer report
#   e2e_finish
#
# Whatever happens (failure, `exit`, Ctrl-C, SIGTERM from run.sh's
# timeout), the EXIT trap stops rampartd, kills helper servers and removes
# the namespaces and veths this test created (only its own: names carry the
# test's pid).
#
# Environment:
#   RAMPARTD      daemon binary (default build/rampartd)
#   RAMPARTD_SAN  sanitizer build (default build-san/rampartd)
#   E2E_KEEP=1    keep the temporary directory even when the test passes
#   E2E_VERBOSE=1 print the output of passing checks too

set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
PY=/usr/bin/python3 # Debian's: it has scapy (the pyenv python3 on PATH does not)
TEST_NAME=$(basename "$0" .sh)
E2E_T0=$(date +%s%N)

RAMPARTD=${RAMPARTD:-$ROOT/build/rampartd}
RAMPARTD_SAN=${RAMPARTD_SAN:-$ROOT/build-san/rampartd}
case $RAMPARTD in /*) ;; *) RAMPARTD=$PWD/$RAMPARTD ;; esac
case $RAMPARTD_SAN in /*) ;; *) RAMPARTD_SAN=$PWD/$RAMPARTD_SAN ;; esac

E2E_PASSES=0
E2E_FAILS=0
RP_PID=
RP_LOG=
RP_RUNS=0
RP_SAN=0
RP_FILE_PREFIXES=()
HELPER_PIDS=()
TOPO_UP=0
E2E_TMP=

# ---------------------------------------------------------------- output

e2e_elapsed() { echo $((($(date +%s%N) - E2E_T0) / 1000000)); }

log() { printf '[%s %6sms] %s\n' "$TEST_NAME" "$(e2e_elapsed)" "$*"; }

pass() {
	E2E_PASSES=$((E2E_PASSES + 1))
	printf '[%s %6sms]   ok   %s\n' "$TEST_NAME" "$(e2e_elapsed)" "$*"
}

# fail MSG [DETAILS_FILE]: record a failed check; the test goes on
fail() {
	E2E_FAILS=$((E2E_FAILS + 1))
	printf '[%s %6sms]   FAIL %s\n' "$TEST_NAME" "$(e2e_elapsed)" "$1" >&2
	if [ $# -ge 2 ] && [ -s "$2" ]; then
		echo "    ---- output (last 30 lines) ----" >&2
		tail -n 30 "$2" | sed 's/^/    | /' >&2
	fi
}

# die MSG: a failure the test cannot continue after (the trap cleans up)
die() {
	fail "$*"
	if [ -n "$RP_LOG" ] && [ -s "$RP_LOG" ]; then
		echo "    ---- rampartd log (last 40 lines) ----" >&2
		tail -n 40 "$RP_LOG" | sed 's/^/    | /' >&2
	fi
	exit 1
}

# ---------------------------------------------------------------- checks

# check DESC CMD...: CMD must exit 0
check() {
	local desc=$1 out
	shift
	out=$(mktemp "$E2E_TMP/check.XXXXXX")
	"$@" >"$out" 2>&1
	local rc=$?
	if [ $rc = 0 ]; then
		pass "$desc"
		[ "${E2E_VERBOSE:-0}" = 1 ] && sed 's/^/    | /' "$out"
		rm -f "$out"
		return 0
	fi
	fail "$desc (exit $rc: $*)" "$out"
	return 1
}

# check_out DESC ERE CMD...: CMD must exit 0 and print a line matching ERE
check_out() {
	local desc=$1 re=$2 out
	shift 2
	out=$(mktemp "$E2E_TMP/check.XXXXXX")
	"$@" >"$out" 2>&1
	local rc=$?
	if [ $rc -eq 0 ] && grep -Eq -- "$re" "$out"; then
		pass "$desc"
		rm -f "$out"
		return 0
	fi
	fail "$desc (exit $rc, wanted /$re/: $*)" "$out"
	return 1
}

assert_eq() { # DESC EXPECTED ACTUAL
	if [ "$2" == "$3" ]; then
		pass "$1"
		return 0
	fi
	fail "$1: expected '$2', got '$3'"
	return 1
}

assert_ge() { # DESC ACTUAL MIN
	if [ "$2" -ge "$3" ] 2>/dev/null; then
		pass "$1 ($2 >= $3)"
		return 0
	fi
	fail "$1: expected >= $3, got '$2'"
	return 1
}

assert_le() { # DESC ACTUAL MAX
	if [ "$2" -le "$3" ] 2>/dev/null; then
		pass "$1 ($2 <= $3)"
		return 0
	fi
	fail "$1: expected <= $3, got '$2'"
	return 1
}

assert_match() { # DESC ERE TEXT
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		pass "$1"
		return 0
	fi
	fail "$1: /$2/ not found in: $(printf '%s' "$3" | head -c 600)"
	return 1
}

assert_file_match() { # DESC ERE FILE
	if grep -Eq -- "$2" "$3" 2>/dev/null; then
		pass "$1"
		return 0
	fi
	fail "$1: /$2/ not found in $3" "$3"
	return 1
}

assert_file_nomatch() { # DESC ERE FILE
	if ! grep -Eq -- "$2" "$3" 2>/dev/null; then
		pass "$1"
		return 0
	fi
	fail "$1: /$2/ found in $3: $(grep -E -m3 -- "$2" "$3")"
	return 1
}

# known_issue DESC WHY CMD...: a check that fails because of a known,
# reported problem. It is run and its outcome shown ("KNOWN" while it fails),
# but it does not fail the test; once it passes, the marker should go and
# the check become a plain one.
known_issue() {
	local desc=$1 why=$2 out
	shift 2
	out=$(mktemp "$E2E_TMP/known.XXXXXX")
	if "$@" >"$out" 2>&1; then
		printf '[%s %6sms]   ok   %s (marked as a known issue, but it passes now: make it a check)\n' \
			"$TEST_NAME" "$(e2e_elapsed)" "$desc"
	else
		printf '[%s %6sms]   KNOWN %s: %s\n' "$TEST_NAME" "$(e2e_elapsed)" "$desc" "$why"
	fi
	rm -f "$out"
	return 0
}

# ---------------------------------------------------------------- setup

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			{ echo "$TEST_NAME: FATAL: '$c' is required but not installed (scripts/deps.sh)" >&2; exit 1; }
	done
}

# e2e_init TAG: TAG is one or two letters; namespaces are e2e-TAG<pid>-lan/-wan,
# veths TAG<pid>-lan0/-wan0 (15 characters at most).
e2e_init() {
	local tag=$1
	# Run the test in a session of its own, under this thin parent. Ctrl-C
	# then reaches only the parent, which turns it into a SIGTERM for the
	# test: its trap runs once the current command is over (a bash script
	# ignores SIGINT whose foreground command, like ping, catches it) and
	# stops rampartd in order, instead of the terminal's SIGINT killing
	# rampartd and the helper servers under the test's feet.
	if [ -z "${E2E_INNER:-}" ]; then
		E2E_INNER=1 setsid bash "$0" </dev/null &
		local child=$! rc
		trap 'kill -TERM $child 2>/dev/null' INT TERM HUP
		while :; do
			wait $child
			rc=$?
			kill -0 $child 2>/dev/null || break
		done
		exit $rc
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "$TEST_NAME: FATAL: must run as root (network namespaces, veths, DPDK)" >&2
		exit 1
	fi
	if ! ip netns list >/dev/null 2>&1; then
		echo "$TEST_NAME: FATAL: 'ip netns' does not work here (iproute2 with netns support needed)" >&2
		exit 1
	fi
	require_cmd ip ethtool timeout ping curl sha256sum "$PY"
	export RP_SHORT="${tag}$$"
	export RP_PREFIX="e2e-${RP_SHORT}"
	if [ ${#RP_SHORT} -gt 10 ]; then
		echo "$TEST_NAME: FATAL: interface prefix '$RP_SHORT' too long" >&2
		exit 1
	fi
	LAN_NS=$RP_PREFIX-lan
	WAN_NS=$RP_PREFIX-wan
	LAN_IF=$RP_SHORT-lan0
	WAN_IF=$RP_SHORT-wan0
	E2E_TMP=$(mktemp -d "/tmp/rampart-e2e.$TEST_NAME.XXXXXX") || exit 1
	trap e2e_cleanup EXIT
	trap 'echo "$TEST_NAME: interrupted" >&2; E2E_FAILS=$((E2E_FAILS + 1)); exit 130' INT
	trap 'echo "$TEST_NAME: terminated (Ctrl-C or timeout)" >&2; E2E_FAILS=$((E2E_FAILS + 1)); exit 143' TERM HUP
	log "rampartd=$RAMPARTD tmp=$E2E_TMP namespaces=$LAN_NS,$WAN_NS veths=$LAN_IF,$WAN_IF"
}

topo_up() {
	TOPO_UP=1
	"$ROOT/scripts/topology.sh" up >"$E2E_TMP/topology.log" 2>&1 ||
		die "scripts/topology.sh up failed: $(cat "$E2E_TMP/topology.log")"
	# The hosts' IPv6 addresses are nodad; wait for the link-local ones too,
	# so no late DAD traffic or tentative source address disturbs a test.
	# The hosts answer every probe: a kernel's ICMP error rate limit (per
	# destination, a burst of 6) would make a traceroute or a port probe
	# after earlier errors toward the same address lose its answer.
	local i ns
	for ns in "$LAN_NS" "$WAN_NS"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
		for i in $(seq 1 50); do
			ip -n "$ns" -6 addr show dev eth0 tentative 2>/dev/null | grep -q inet6 || break
			sleep 0.1
		done
	done
}

topo_down() {
	[ "$TOPO_UP" = 1 ] || return 0
	"$ROOT/scripts/topology.sh" down >/dev/null 2>&1
	TOPO_UP=0
}

# in_lan CMD... / in_wan CMD...: run in a host namespace
# bridge_subnet: the lan and wan hosts in one subnet, as bridge mode
# wants them: lan 10.77.3.2/24 fd77:3::2/64, wan 10.77.3.3/24 fd77:3::3/64,
# the default routes and the router-mode addresses removed
bridge_subnet() {
	local ns
	for ns in "$LAN_NS" "$WAN_NS"; do
		ip -n "$ns" route del default 2>/dev/null
		ip -n "$ns" -6 route del default 2>/dev/null
		ip -n "$ns" addr flush dev eth0 scope global
	done
	ip -n "$LAN_NS" addr add 10.77.3.2/24 dev eth0 || die "cannot set the lan address"
	ip -n "$LAN_NS" -6 addr add fd77:3::2/64 dev eth0 nodad || die "cannot set the lan address"
	ip -n "$WAN_NS" addr add 10.77.3.3/24 dev eth0 || die "cannot set the wan address"
	ip -n "$WAN_NS" -6 addr add fd77:3::3/64 dev eth0 nodad || die "cannot set the wan address"
}

in_lan() { ip netns exec "$LAN_NS" "$@"; }
in_wan() { ip netns exec "$WAN_NS" "$@"; }

# bg NAME CMD...: start a helper in the background (output in $E2E_TMP/NAME.log);
# its pid is in $BG_PID and it is killed on exit
bg() {
	local name=$1
	shift
	"$@" >"$E2E_TMP/$name.log" 2>&1 &
	BG_PID=$!
	HELPER_PIDS+=("$BG_PID")
}

# cfg_ruleset CFG RULES RULES6: rampart.yaml CFG (from gen_config) loads the
# iptables-restore files RULES and RULES6
cfg_ruleset() {
	cat >>"$1" <<YAML
ruleset:
  file: $2
  ip6tables: $3
YAML
}

# cap_start NS FILE FILTER: tcpdump on NS's eth0 into the pcap FILE; returns
# once it listens, its pid in CAP_PID (killed on exit; cap_stop ends it).
# --immediate-mode: libpcap's default TPACKET_V3 ring hands packets over a
# block at a time, up to its 1 s timeout late, and a capture stopped in
# that second loses its last packets (test_ct_kernel did, now and then);
# -U writes each one as it arrives.
cap_start() {
	local ns=$1 file=$2 filter=$3 i
	ip netns exec "$ns" tcpdump -i eth0 --immediate-mode -U -w "$file" "$filter" >/dev/null 2>"$file.err" &
	CAP_PID=$!
	HELPER_PIDS+=("$CAP_PID")
	for i in $(seq 1 100); do
		grep -q 'listening on' "$file.err" 2>/dev/null && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.05
	done
	die "tcpdump in $ns did not start: $(cat "$file.err" 2>/dev/null)"
}

# cap_stop PID...: end captures (SIGINT: tcpdump writes what it has, exits)
cap_stop() {
	kill -INT "$@" 2>/dev/null
	wait "$@" 2>/dev/null
	return 0
}

# descendants PID: PID's children, grandchildren, ... (deepest first)
descendants() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		descendants "$c"
		echo "$c"
	done
}

# running PID: alive and not a zombie (an orphan whose parent is gone may
# stay a zombie here)
running() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# Helpers are subshells ('bg' runs a function, in_lan ...): signal the
# whole tree, by pid, so that nothing keeps running in a deleted namespace.
kill_helpers() {
	local p h i tree=() live=() left
	# only helpers still in this shell's job table: a pid that was already
	# waited for may belong to somebody else by now
	for p in $(jobs -p); do
		for h in "${HELPER_PIDS[@]}"; do
			[ "$p" = "$h" ] && live+=("$p")
		done
	done
	for p in "${live[@]}"; do
		mapfile -t -O ${#tree[@]} tree < <(descendants "$p")
		tree+=("$p")
	done
	[ ${#tree[@]} -gt 0 ] || { HELPER_PIDS=(); return 0; }
	kill -TERM "${tree[@]}" 2>/dev/null
	for i in $(seq 1 30); do
		left=0
		for p in "${tree[@]}"; do
			running "$p" && left=1
		done
		[ $left = 0 ] && break
		sleep 0.1
	done
	for p in "${tree[@]}"; do
		running "$p" && kill -KILL "$p" 2>/dev/null
	done
	for p in "${live[@]}"; do
		wait "$p" 2>/dev/null
	done
	HELPER_PIDS=()
}

# wait_for DESC TIMEOUT_S CMD...: poll CMD until it succeeds (bounded)
wait_for() {
	local desc=$1 t=$2 end
	shift 2
	end=$(($(date +%s%N) + t * 1000000000))
	while [ "$(date +%s%N)" -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "timed out after ${t}s waiting for: $desc"
	return 1
}

# http_serve NAME NS DIR PORT: python's http.server for DIR in namespace NS
# (in_lan or in_wan) on PORT, v4 and v6, log in $E2E_TMP/NAME.log; returns
# once it answers, dies if it never does
http_serve() {
	local name=$1 ns=$2 dir=$3 port=$4
	bg "$name" "$ns" "$PY" -m http.server --bind :: --directory "$dir" "$port"
	wait_for "http.server $name ($ns, port $port)" 10 \
		"$ns" curl -sf -o /dev/null "http://127.0.0.1:$port/" || die "http.server $name did not start"
}

# udp_big ADDR SIZE: one SIZE-byte UDP datagram from the lan host to
# ADDR:7777 (IPv4 or IPv6; fragmented when larger than the MTU) must
# arrive at the wan host whole: its length and sha256
udp_big() {
	local addr=$1 size=$2 pid want got
	bg udp-rx in_wan timeout 10 "$PY" -c '
import hashlib, socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)  # "::" takes IPv4 too
s.bind(("::", 7777))
s.settimeout(8)
d, a = s.recvfrom(65535)
print(len(d), hashlib.sha256(d).hexdigest(), flush=True)'
	pid=$BG_PID
	wait_for "UDP receiver bound" 5 sh -c "ip netns exec $WAN_NS ss -uln | grep -q ':7777 '" || return 1
	local payload='bytes(i % 251 for i in range(int(sys.argv[1])))'
	in_lan "$PY" -c "
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[2] else socket.AF_INET, socket.SOCK_DGRAM)
s.sendto($payload, (sys.argv[2], 7777))" "$size" "$addr" || return 1
	wait "$pid"
	want="$size $("$PY" -c "import hashlib, sys; print(hashlib.sha256($payload).hexdigest())" "$size")"
	got=$(cat "$E2E_TMP/udp-rx.log")
	echo "received: $got"
	[ "$got" = "$want" ]
}

# udp_probe ADDR PORT: one datagram from the lan host; prints what came
# back: "answer", "ECONNREFUSED" (an ICMP unreachable) or "timeout" (3 s)
udp_probe() { # ADDR PORT: prints what the client got
	in_lan timeout 10 "$PY" - "$1" "$2" <<'PY'
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((addr, port))
s.send(b"probe")
try:
    s.recv(100)
    print("answer")
except ConnectionRefusedError:
    print("ECONNREFUSED")
except socket.timeout:
    print("timeout")
PY
}

# ---------------------------------------------------------------- kernel router

# ktopo_up: the same topology with the Linux kernel forwarding instead of
# rampartd, for differential tests: namespaces K_LAN (host eth0
# 10.77.1.2, fd77:1::2), K_RTR (lan0 10.77.1.1 / wan0 10.77.2.1, forwarding,
# no rp_filter, no redirects, no ICMP rate limit) and K_WAN (host 10.77.2.2,
# fd77:2::2). The caller's EXIT trap must call ktopo_down.
K_LAN=e2e-k$$-klan K_RTR=e2e-k$$-krtr K_WAN=e2e-k$$-kwan
# (keeps $?: in an EXIT trap before e2e_cleanup, which must see how the
# script ended -- a shell error is a failure, not a pass)
ktopo_down() {
	local rc=$?
	ip netns del "$K_LAN" 2>/dev/null
	ip netns del "$K_RTR" 2>/dev/null
	ip netns del "$K_WAN" 2>/dev/null
	return $rc
}

ktopo_up() {
	ip netns add "$K_LAN" && ip netns add "$K_RTR" && ip netns add "$K_WAN" || die "cannot create namespaces"
	ip link add lan0 netns "$K_RTR" type veth peer name eth0 netns "$K_LAN" || die "veth"
	ip link add wan0 netns "$K_RTR" type veth peer name eth0 netns "$K_WAN" || die "veth"
	local ns
	for ns in "$K_LAN" "$K_RTR" "$K_WAN"; do
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
	done
	ip netns exec "$K_LAN" ip link set eth0 up
	ip netns exec "$K_LAN" ip addr add 10.77.1.2/24 dev eth0
	ip netns exec "$K_LAN" ip -6 addr add fd77:1::2/64 dev eth0 nodad
	ip netns exec "$K_LAN" ip route add default via 10.77.1.1
	ip netns exec "$K_LAN" ip -6 route add default via fd77:1::1
	ip netns exec "$K_WAN" ip link set eth0 up
	ip netns exec "$K_WAN" ip addr add 10.77.2.2/24 dev eth0
	ip netns exec "$K_WAN" ip -6 addr add fd77:2::2/64 dev eth0 nodad
	ip netns exec "$K_WAN" ip route add default via 10.77.2.1
	ip netns exec "$K_WAN" ip -6 route add default via fd77:2::1
	ip netns exec "$K_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
	for i in lan0 wan0; do
		ip netns exec "$K_RTR" sysctl -qw "net.ipv4.conf.$i.rp_filter=0" "net.ipv4.conf.$i.send_redirects=0"
		ip netns exec "$K_RTR" ip link set "$i" up
	done
	ip netns exec "$K_RTR" ip addr add 10.77.1.1/24 dev lan0
	ip netns exec "$K_RTR" ip addr add 10.77.2.1/24 dev wan0
	ip netns exec "$K_RTR" ip -6 addr add fd77:1::1/64 dev lan0 nodad
	ip netns exec "$K_RTR" ip -6 addr add fd77:2::1/64 dev wan0 nodad
	# permanent neighbours: the reference never waits on neighbour
	# discovery (a packet queued behind an NS that came late was seen as
	# "not delivered" by the kernel once in a CI run)
	local mac_of
	mac_of() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }
	local lmac wmac rl rw
	lmac=$(mac_of "$K_LAN" eth0) wmac=$(mac_of "$K_WAN" eth0)
	rl=$(mac_of "$K_RTR" lan0) rw=$(mac_of "$K_RTR" wan0)
	ip netns exec "$K_RTR" ip neigh replace 10.77.1.2 lladdr "$lmac" dev lan0 nud permanent
	ip netns exec "$K_RTR" ip -6 neigh replace fd77:1::2 lladdr "$lmac" dev lan0 nud permanent
	ip netns exec "$K_RTR" ip neigh replace 10.77.2.2 lladdr "$wmac" dev wan0 nud permanent
	ip netns exec "$K_RTR" ip -6 neigh replace fd77:2::2 lladdr "$wmac" dev wan0 nud permanent
	ip netns exec "$K_LAN" ip neigh replace 10.77.1.1 lladdr "$rl" dev eth0 nud permanent
	ip netns exec "$K_LAN" ip -6 neigh replace fd77:1::1 lladdr "$rl" dev eth0 nud permanent
	ip netns exec "$K_WAN" ip neigh replace 10.77.2.1 lladdr "$rw" dev eth0 nud permanent
	ip netns exec "$K_WAN" ip -6 neigh replace fd77:2::1 lladdr "$rw" dev eth0 nud permanent
}

# ---------------------------------------------------------------- rampartd

is_sanitized() { grep -aq __asan_init "$1" 2>/dev/null; }

# gen_config FILE MODE(router|bridge) WORKERS [LOGLEVEL]
# E2E_PMD=af_xdp: the ports are net_af_xdp devices (one worker) instead of
# net_af_packet (whose fanout group reassembles IPv4 fragments in the kernel)
gen_config() {
	local f=$1 mode=$2 nw=$3 level=${4:-info} eal_extra="" lcores="[1]" q=1
	RP_RUNS=$((RP_RUNS + 1))
	local prefix="rampart-e2e-$RP_SHORT-$RP_RUNS"
	RP_FILE_PREFIXES+=("$prefix")
	if [ "$nw" = 2 ]; then
		# two workers on a two-CPU box: lcore 2 shares CPU 0 with main
		eal_extra=', "--lcores=0@0,1@1,2@0"'
		lcores="[1, 2]"
		q=2
	elif [ "$nw" != 1 ]; then
		die "gen_config: 1 or 2 workers, not $nw"
	fi
	{
		echo "# generated by tests/e2e ($TEST_NAME)"
		echo "eal: [--no-huge, --no-pci, --no-shconf, --file-prefix=$prefix, -m, \"512\", --log-level=notice$eal_extra]"
		echo "mode: $mode"
		echo "workers: {main_lcore: 0, lcores: $lcores, idle_sleep_us: 100}"
		echo "ports:"
		local dev0="net_af_packet0,iface=$LAN_IF,qpairs=$q" dev1="net_af_packet1,iface=$WAN_IF,qpairs=$q"
		if [ "${E2E_PMD:-af_packet}" = af_xdp ]; then
			[ "$nw" = 1 ] || die "gen_config: af_xdp ports with one worker only"
			dev0="net_af_xdp0,iface=$LAN_IF" dev1="net_af_xdp1,iface=$WAN_IF"
		fi
		echo "  - name: lan0"
		echo "    device: $dev0"
		[ "$mode" = router ] && echo "    addresses: [10.77.1.1/24, fd77:1::1/64]"
		echo "  - name: wan0"
		echo "    device: $dev1"
		[ "$mode" = router ] && echo "    addresses: [10.77.2.1/24, fd77:2::1/64]"
		[ "$mode" = bridge ] && echo "bridge: [[lan0, wan0]]"
		echo "log: {level: $level}"
		echo "control: {socket: $E2E_TMP/rampart.sock}"
		echo "metrics: {listen: \"127.0.0.1:0\"}" # any free port: see metrics_port
	} >"$f"
}

# metrics_port: the port rampartd's metrics endpoint got (from its log)
metrics_port() {
	grep -o 'metrics on http://127\.0\.0\.1:[0-9]*/metrics' "$RP_LOG" | tail -n1 | sed 's/.*:\([0-9]*\)\/metrics/\1/'
}

# rp_san_env: the sanitizer settings for a sanitized daemon (put into
# the daemon's environment only)
rp_san_env() {
	local d=$E2E_TMP/san
	mkdir -p "$d"
	local lsan="report_objects=1:print_suppressions=0"
	[ -f "$E2E_DIR/lsan.supp" ] && lsan="$lsan:suppressions=$E2E_DIR/lsan.supp"
	echo "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:log_path=$d/asan"
	echo "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$d/ubsan"
	echo "LSAN_OPTIONS=$lsan"
}

# rp_start CFG [BIN]: start rampartd in the background and wait (20 s at
# most) for its "running" line. Sets RP_PID and RP_LOG.
rp_start() {
	local cfg=$1 bin=${2:-$RAMPARTD}
	[ -x "$bin" ] || die "rampartd binary '$bin' not found or not executable (build it first)"
	[ -z "$RP_PID" ] || die "rp_start: rampartd already running (pid $RP_PID)"
	RP_LOG=$E2E_TMP/rampartd.$RP_RUNS.log
	local -a envs=()
	RP_SAN=0
	if is_sanitized "$bin"; then
		RP_SAN=1
		mapfile -t envs < <(rp_san_env)
	fi
	log "starting $bin -c $cfg${envs:+ (sanitized)}"
	env "${envs[@]}" "$bin" -c "$cfg" >"$RP_LOG.stdout" 2>"$RP_LOG" &
	RP_PID=$!
	local end=$(($(date +%s) + 20))
	while [ "$(date +%s)" -lt $end ]; do
		if grep -q 'rampartd .* running: ' "$RP_LOG" 2>/dev/null; then
			pass "rampartd up: $(grep -o 'running: .*' "$RP_LOG")"
			return 0
		fi
		if ! kill -0 "$RP_PID" 2>/dev/null; then
			wait "$RP_PID"
			local rc=$?
			RP_PID=
			san_reports_check
			die "rampartd exited with status $rc before it was running"
		fi
		sleep 0.1
	done
	die "rampartd did not log 'running' within 20 s"
}

rp_alive() { [ -n "$RP_PID" ] && kill -0 "$RP_PID" 2>/dev/null; }

# rp_stop: SIGTERM; the daemon must exit 0 within 20 s after logging
# "stopped", with no sanitizer report.
rp_stop() {
	[ -n "$RP_PID" ] || { fail "rp_stop: rampartd is not running"; return 1; }
	if ! kill -0 "$RP_PID" 2>/dev/null; then
		wait "$RP_PID"
		local rc0=$?
		RP_PID=
		fail "rampartd died on its own before SIGTERM (exit status $rc0)" "$RP_LOG"
		san_reports_check
		return 1
	fi
	kill -TERM "$RP_PID"
	local i rc
	for i in $(seq 1 200); do
		kill -0 "$RP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$RP_PID" 2>/dev/null; then
		fail "rampartd still running 20 s after SIGTERM; killing it" "$RP_LOG"
		kill -KILL "$RP_PID" 2>/dev/null
	fi
	wait "$RP_PID"
	rc=$?
	RP_PID=
	assert_eq "rampartd exit status after SIGTERM" 0 "$rc"
	assert_file_match "rampartd logged 'stopped'" ' notice main: stopped$' "$RP_LOG"
	san_reports_check
}

# Fail if the sanitizers wrote any report.
san_reports_check() {
	[ "$RP_SAN" = 1 ] || return 0
	local f found=0
	for f in "$E2E_TMP"/san/asan.* "$E2E_TMP"/san/ubsan.*; do
		[ -e "$f" ] || continue
		found=1
		fail "sanitizer report $f" "$f"
		cp "$f" "$E2E_TMP/" 2>/dev/null
	done
	if grep -Eq 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$RP_LOG" 2>/dev/null; then
		found=1
		fail "sanitizer output in the rampartd log" "$RP_LOG"
	fi
	[ $found = 0 ] && pass "no ASan/LSan/UBSan report"
	rm -f "$E2E_TMP"/san/asan.* "$E2E_TMP"/san/ubsan.*
	return $found
}

# ---------------------------------------------------------------- counters

# rp_stats: SIGUSR1, then the fresh dump goes to $STATS (a file)
RP_DUMPS=0
rp_stats() {
	rp_alive || { fail "rp_stats: rampartd is not running"; STATS=/dev/null; return 1; }
	local before i
	before=$(grep -c '^  neighbours=' "$RP_LOG")
	kill -USR1 "$RP_PID"
	for i in $(seq 1 100); do
		[ "$(grep -c '^  neighbours=' "$RP_LOG")" -gt "$before" ] && break
		sleep 0.05
	done
	sleep 0.1 # the control drop lines follow neighbours= in the same dump
	RP_DUMPS=$((RP_DUMPS + 1))
	STATS=$E2E_TMP/stats.$RP_RUNS.$RP_DUMPS
	stats_last "$RP_LOG" >"$STATS"
	grep -q '^  neighbours=' "$STATS" || { fail "no counter dump after SIGUSR1" "$RP_LOG"; return 1; }
}

# stats_last LOG: the last counter dump in a rampartd log
stats_last() {
	awk '/^ports:$/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$1" |
		awk 'NR == 1 && !/^ports:$/ { exit } { print } /^  neighbours=/ { c = 1; next } c && !/^    drop / { exit }'
}

# stat_drop FILE WHERE REASON: "drop REASON=N" under port WHERE (lan0, wan0,
# control) or summed over all of them (WHERE = all); 0 when absent
stat_drop() {
	awk -v where="$2" -v reason="$3" '
		/^ports:$/ { sec = "" ; next }
		/^workers:$/ { sec = ""; next }
		/^control:$/ { sec = "control"; next }
		/^  [A-Za-z0-9_.-]+: / { sec = $1; sub(/:$/, "", sec); next }
		/^    drop / {
			split($2, kv, "=")
			if (kv[1] == reason && (where == "all" || where == sec)) n += kv[2]
		}
		END { print n + 0 }' "$1"
}

# stat_port FILE PORT FIELD (rx_packets, tx_packets, ...)
stat_port() {
	awk -v port="$2" -v field="$3" '
		/^workers:$/ { exit }
		$1 == port ":" { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == field) v = kv[2] } }
		END { print v + 0 }' "$1"
}

# stat_worker FILE N FIELD
stat_worker() {
	awk -v w="worker$2:" -v field="$3" '
		$1 == w { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == field) v = kv[2] } }
		END { print v + 0 }' "$1"
}

# ---------------------------------------------------------------- end

e2e_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	kill_helpers
	if [ -n "$RP_PID" ] && kill -0 "$RP_PID" 2>/dev/null; then
		log "cleanup: stopping rampartd (pid $RP_PID)"
		kill -TERM "$RP_PID" 2>/dev/null
		local i
		for i in $(seq 1 100); do
			kill -0 "$RP_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$RP_PID" 2>/dev/null && kill -KILL "$RP_PID"
		wait "$RP_PID" 2>/dev/null
	fi
	RP_PID=
	topo_down
	local p
	for p in "${RP_FILE_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p"
	done
	if [ "$rc" = 0 ] && [ "$E2E_FAILS" != 0 ]; then
		rc=1
	fi
	if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
		if [ "$rc" != 0 ] || [ "${E2E_KEEP:-0}" = 1 ]; then
			log "logs kept in $E2E_TMP"
		else
			rm -rf "$E2E_TMP"
		fi
	fi
	exit "$rc"
}

e2e_finish() {
	log "$E2E_PASSES checks passed, $E2E_FAILS failed ($(($(e2e_elapsed) / 1000)) s)"
	[ "$E2E_FAILS" = 0 ] && exit 0
	exit 1
}
