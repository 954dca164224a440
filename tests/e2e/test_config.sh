#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Configuration handling and start-up failures of rampartd:
#   - --check on conf/demo/rampart.yaml exits 0 and says it is valid
#   - invalid configurations (syntax, unknown keys, bad values, semantic
#     errors) exit 2, both with --check and when starting for real, with
#     exactly one line "rampartd: FILE:LINE:COL: message" whose position
#     points at the offending token and whose message says what is wrong
#   - a missing file, an unknown option, a stray argument exit 2; -V and
#     --help exit 0
#   - a port device that does not exist (net_af_packet0,iface=doesnotexist)
#     fails cleanly: non-zero exit (not a signal), a message naming the port
#     and device, nothing left running, no DPDK runtime directory left; the
#     same under the sanitizer build with no ASan/LSan report
#   - a worker lcore that EAL was not given fails cleanly (exit 1, message)
# SIGTERM handling is covered by the other tests.
. "$(dirname "$0")/lib.sh"

e2e_init c

[ -x "$RAMPARTD" ] || die "rampartd binary '$RAMPARTD' not found (build it first)"
D=$E2E_TMP/cfg
mkdir -p "$D"

check_out "--check accepts conf/demo/rampart.yaml" 'configuration is valid \(2 ports, 1 workers, router mode\)' \
	"$RAMPARTD" --check -c "$ROOT/conf/demo/rampart.yaml"
check_out "--check accepts conf/gateway (YAML ruleset)" 'configuration is valid \(2 ports, 4 workers, router mode\), ruleset valid' \
	"$RAMPARTD" --check -c "$ROOT/conf/gateway/rampart.yaml"
# the iptables-save copies of the example stay what rampartctl makes of it
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
check "conf/gateway/rules.v4 is the iptables form of rules.yaml" \
	sh -c "'$RCTL' convert --from yaml --to iptables '$ROOT/conf/gateway/rules.yaml' 2>/dev/null | diff - '$ROOT/conf/gateway/rules.v4'"
check "conf/gateway/rules.v6 is the ip6tables form of rules.yaml" \
	sh -c "'$RCTL' convert --from yaml --to ip6tables '$ROOT/conf/gateway/rules.yaml' 2>/dev/null | diff - '$ROOT/conf/gateway/rules.v6'"
out=$(printf '*filter\n-A FORWARD -m nosuch -j ACCEPT\nCOMMIT\n' | "$RCTL" convert --from iptables --to yaml - 2>&1)
rc=$?
assert_eq "rampartctl convert refuses an unknown match (exit 1)" 1 "$rc"
assert_match "rampartctl names the line and column" '<stdin>:2:[0-9]+: .*nosuch' "$out"
check_out "-V prints the version" '^rampartd [0-9]+\.[0-9]+\.[0-9]+$' "$RAMPARTD" -V
check_out "--help prints the usage" '^usage: rampartd' "$RAMPARTD" --help

# A valid configuration that the cases below break one thing at a time.
valid_cfg() {
	cat <<'EOF'
eal: [--no-huge, --no-pci, --no-shconf, --file-prefix=rampart-e2e-cfg, -m, "512"]
mode: router
workers:
  main_lcore: 0
  lcores: [1]
  idle_sleep_us: 100
ports:
  - name: lan0
    device: net_af_packet0,iface=lan0,qpairs=1
    addresses: [10.77.1.1/24, fd77:1::1/64]
  - name: wan0
    device: net_af_packet1,iface=wan0,qpairs=1
    addresses: [10.77.2.1/24, fd77:2::1/64]
routes:
  - {to: 10.99.0.0/16, via: 10.77.2.2}
  - {to: "fd99::/16", via: "fd77:2::2"}
log:
  level: info
EOF
}

valid_cfg >"$D/valid.yaml"
check_out "--check accepts the base configuration of the cases" 'configuration is valid' \
	"$RAMPARTD" --check -c "$D/valid.yaml"

# bad_cfg NAME SED_EXPR LOCATOR MESSAGE_ERE
#   the base configuration edited by SED_EXPR must be refused with exit 2
#   and "FILE:LINE:COL: message": LINE:COL is where LOCATOR first appears in
#   the edited file (or LOCATOR itself when it is "L:C"), and the message
#   must match MESSAGE_ERE
bad_cfg() {
	local name=$1 expr=$2 loc=$3 re=$4 f line col out rc mode
	f=$D/$name.yaml
	valid_cfg | sed -e "$expr" >"$f"
	if cmp -s "$f" "$D/valid.yaml"; then
		fail "$name: the edit '$expr' changed nothing (test bug)"
		return
	fi
	if [[ $loc =~ ^[0-9]+:[0-9]+$ ]]; then
		line=${loc%%:*}
		col=${loc##*:}
	else
		line=$(grep -nF -m1 -- "$loc" "$f" | cut -d: -f1)
		[ -n "$line" ] || { fail "$name: locator '$loc' not in the file (test bug)"; return; }
		col=$(sed -n "${line}p" "$f" | awk -v s="$loc" '{ print index($0, s) }')
	fi
	for mode in --check run; do
		out=$E2E_TMP/$name.$mode.err
		if [ $mode = --check ]; then
			timeout 20 "$RAMPARTD" --check -c "$f" >"$out.stdout" 2>"$out"
		else
			timeout 20 "$RAMPARTD" -c "$f" >"$out.stdout" 2>"$out"
		fi
		rc=$?
		if [ $rc = 2 ] && [ "$(wc -l <"$out")" = 1 ] && [ ! -s "$out.stdout" ] &&
			grep -Eq -- "^rampartd: $f:$line:$col: ($re)" "$out"; then
			pass "$name ($mode): exit 2, $(sed "s|^rampartd: $f|FILE|" "$out")"
		else
			fail "$name ($mode): wanted exit 2 and 'rampartd: $f:$line:$col: /$re/', got exit $rc" "$out"
		fi
	done
}

# libyaml notices the unclosed [ at the ':' of the next line
bad_cfg yaml-syntax 's/lcores: \[1\]/lcores: [1/' '6:16' 'YAML syntax error: .*flow sequence'
bad_cfg yaml-tab 's/^  lcores:/\tlcores:/' '5:1' 'YAML syntax error'
bad_cfg duplicate-key 's/^  idle_sleep_us: 100/  idle_sleep_us: 100\n  lcores: [1]/' \
	'7:3' "duplicate key 'lcores' \(first at line 5\)"
bad_cfg top-level-typo 's/^workers:/wokers:/' 'wokers' \
	"unknown key 'wokers' in the configuration \(expected one of: .*workers"
bad_cfg port-key-typo '0,/    addresses:/s//    adresses:/' 'adresses' \
	"unknown key 'adresses' in a port \(expected one of: .*addresses"
bad_cfg no-workers '/^workers:/,/^  idle_sleep_us/d' '1:1' "'workers' is required"
bad_cfg mode 's/^mode: router/mode: switch/' 'switch' "mode must be 'router' or 'bridge', not 'switch'"
bad_cfg worker-is-main 's/lcores: \[1\]/lcores: [0]/' '0]' 'lcore 0 is the main \(control\) lcore'
bad_cfg worker-twice 's/lcores: \[1\]/lcores: [1, 1]/' '1]' 'lcore 1 listed twice'
bad_cfg idle-not-a-number 's/idle_sleep_us: 100/idle_sleep_us: fast/' 'fast' \
	"workers.idle_sleep_us must be an unsigned integer, got 'fast'"
bad_cfg bad-address 's|10.77.1.1/24|10.77.1.300/24|' '10.77.1.300/24' \
	"'10.77.1.300/24' is not an address with a prefix length"
bad_cfg no-prefix-length 's|10.77.1.1/24|10.77.1.1|' '10.77.1.1,' \
	"address '10.77.1.1' needs a prefix length"
bad_cfg multicast-address 's|10.77.1.1/24|224.0.0.1/24|' '224.0.0.1/24' \
	"address '224.0.0.1/24' is not a unicast host address"
bad_cfg device 's/net_af_packet1,iface=wan0,qpairs=1/eth1/' 'eth1' \
	"port device 'eth1' is neither a PCI address .* nor a vdev string"
bad_cfg device-twice 's/net_af_packet1,iface=wan0/net_af_packet0,iface=wan0/' 'net_af_packet0,iface=wan0' \
	"device 'net_af_packet0' already used by port lan0"
bad_cfg mtu 's/^    device: net_af_packet1,iface=wan0,qpairs=1/&\n    mtu: 100/' '13:10' \
	'mtu must be between 576 and 9000, got 100'
bad_cfg rx-queues 's/^    device: net_af_packet1,iface=wan0,qpairs=1/&\n    rx_queues: 2/' 'name: wan0' \
	'port wan0: rx_queues \(2\) must equal the number of workers \(1\)'
bad_cfg route-gateway 's/via: 10.77.2.2/via: 192.168.9.1/' '192.168.9.1' \
	'gateway 192.168.9.1 is on no connected subnet'
bad_cfg route-host-bits 's|to: 10.99.0.0/16|to: 10.99.0.1/16|' '10.99.0.1/16' \
	"route destination '10.99.0.1/16' has host bits set"
bad_cfg route-family 's/via: "fd77:2::2"/via: 10.77.2.2/' '16:28' \
	"gateway 10.77.2.2 is not of the route's address family"
bad_cfg bridge-with-routes 's/^mode: router/mode: bridge\nbridge: [[lan0, wan0]]/' '- {to: 10.99' \
	"'routes' only apply in router mode"
bad_cfg bridge-unknown-port 's/^mode: router/mode: bridge\nbridge: [[lan0, lan9]]/;/^routes:/,/fd99/d' 'lan9' \
	"unknown port 'lan9'"
bad_cfg log-level 's/level: info/level: loud/' 'loud' "log.level must be err, warning, notice, info or debug"
bad_cfg not-a-map $'s/^/# /\n$a - just a list' '- just a list' 'the configuration must be a mapping, not a list'
bad_cfg port-twice 's/name: wan0/name: lan0/' '11:11' "port 'lan0' defined twice"

# ---- command line
out=$E2E_TMP/missing.err
timeout 20 "$RAMPARTD" -c "$D/does-not-exist.yaml" >/dev/null 2>"$out"
rc=$?
if [ $rc = 2 ] && grep -q "^rampartd: $D/does-not-exist.yaml: cannot open: No such file or directory" "$out"; then
	pass "missing file: exit 2, $(cat "$out")"
else
	fail "missing file: wanted exit 2 and 'cannot open', got exit $rc" "$out"
fi
timeout 20 "$RAMPARTD" --check -c "$D/does-not-exist.yaml" >/dev/null 2>"$out"
assert_eq "missing file with --check: exit 2" 2 $?
timeout 20 "$RAMPARTD" --bogus >/dev/null 2>"$out"
rc=$?
if [ $rc = 2 ] && grep -q '^usage: rampartd' "$out"; then pass "unknown option: exit 2 and usage"; else fail "unknown option: exit $rc" "$out"; fi
timeout 20 "$RAMPARTD" -c "$D/valid.yaml" stray >/dev/null 2>"$out"
rc=$?
if [ $rc = 2 ] && grep -q '^usage: rampartd' "$out"; then pass "stray argument: exit 2 and usage"; else fail "stray argument: exit $rc" "$out"; fi
timeout 20 "$RAMPARTD" -c >/dev/null 2>"$out"
assert_eq "-c without a file: exit 2" 2 $?

# ---- start-up failures after the configuration was accepted
# start_fail NAME BIN CFG MESSAGE_ERE: rampartd must exit non-zero (by itself,
# not by a signal) within 30 s, log MESSAGE_ERE, never say "running", and
# leave no process and no DPDK runtime directory behind
start_fail() {
	local name=$1 bin=$2 cfg=$3 re=$4 prefix rc log=$E2E_TMP/$1.log pid
	local -a envs=()
	RP_SAN=0
	if is_sanitized "$bin"; then
		RP_SAN=1
		mapfile -t envs < <(rp_san_env)
	fi
	prefix=$(grep -o 'file-prefix=[^],]*' "$cfg" | cut -d= -f2)
	env "${envs[@]}" timeout -k 5 30 "$bin" -c "$cfg" >"$log.stdout" 2>"$log" &
	pid=$!
	wait $pid
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -lt 124 ]; then
		pass "$name: exit status $rc"
	else
		fail "$name: wanted a non-zero exit status below 124 (no timeout, no signal), got $rc" "$log"
	fi
	assert_file_match "$name: says what failed" "$re" "$log"
	assert_file_nomatch "$name: never running" 'running: ' "$log"
	assert_file_nomatch "$name: no crash report" 'Segmentation|Aborted|core dumped|BUG|panic' "$log"
	# read-only look for leftovers: nothing may run with this config file
	if pgrep -f -- "-c $cfg" >/dev/null; then
		fail "$name: a process with '-c $cfg' is still running: $(pgrep -af -- "-c $cfg")"
	else
		pass "$name: no process left behind"
	fi
	RP_LOG=$log
	san_reports_check
	RP_LOG=
	rm -rf "/var/run/dpdk/$prefix"
}

NOIF=$D/no-such-interface.yaml
{
	echo "eal: [--no-huge, --no-pci, --no-shconf, --file-prefix=rampart-e2e-$RP_SHORT-noif, -m, \"512\", --log-level=notice]"
	echo "workers: {main_lcore: 0, lcores: [1], idle_sleep_us: 100}"
	echo "ports:"
	echo "  - {name: lan0, device: 'net_af_packet0,iface=doesnotexist', addresses: [10.77.1.1/24]}"
	echo "  - {name: wan0, device: 'net_af_packet1,iface=doesnotexist2', addresses: [10.77.2.1/24]}"
} >"$NOIF"
check "--check accepts the config with a missing interface (it is valid)" "$RAMPARTD" --check -c "$NOIF"
start_fail "port device that does not exist" "$RAMPARTD" "$NOIF" \
	"port lan0: cannot attach device 'net_af_packet0,iface=doesnotexist'"
if [ -x "$RAMPARTD_SAN" ]; then
	start_fail "port device that does not exist (sanitizer build)" "$RAMPARTD_SAN" "$NOIF" \
		"port lan0: cannot attach device 'net_af_packet0,iface=doesnotexist'"
else
	log "NOTE: no sanitizer build at $RAMPARTD_SAN: its run of the missing-device case is left out"
fi

NOLC=$D/lcore-not-in-eal.yaml
{
	echo "eal: [--no-huge, --no-pci, --no-shconf, --file-prefix=rampart-e2e-$RP_SHORT-nolc, -m, \"512\", -l, \"0\", --log-level=notice]"
	echo "workers: {main_lcore: 0, lcores: [1]}"
	echo "ports:"
	echo "  - {name: lan0, device: 'net_af_packet0,iface=doesnotexist', addresses: [10.77.1.1/24]}"
} >"$NOLC"
start_fail "worker lcore not given to EAL" "$RAMPARTD" "$NOLC" \
	"worker lcore 1 is not enabled in EAL"

e2e_finish
