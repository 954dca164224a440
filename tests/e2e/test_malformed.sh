#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Malformed frames against the sanitizer build of rampartd (router mode, 1
# worker; RAMPARTD_SAN, default build-san/rampartd; E2E_WORKERS=2 for two).
# From the lan namespace, scapy sends raw frames on eth0 (malformed.py):
#   - a hand-made battery: runts, short/cut VLAN stacks, 3+ VLAN tags,
#     IPv4 with bad version / IHL < 5 / IHL beyond the frame / total length
#     beyond the frame or below IHL / bad checksum / fragment offset
#     overflow, truncated TCP/UDP/ICMP headers, TCP data offset 15 or 4,
#     IPv6 short / bad version / payload length beyond the frame /
#     jumbogram / truncated extension headers / hop-by-hop not first /
#     10 chained destination options / two fragment headers, truncated
#     ICMPv6, truncated ARP and ARP with bogus htype/ptype/hlen/plen.
#     Each frame names the drop reason it must be counted under; the
#     counters of port lan0 (SIGUSR1) must grow by exactly that much.
#   - neighbour solicitations: a valid one is answered with an NA; ones with
#     a zero-length option, an option past the end, a bad checksum or hop
#     limit 64 are ignored (no NA; nd_ignored grows)
#   - a few thousand seeded random frames (E2E_FUZZ_FRAMES, E2E_FUZZ_SEED)
# Then rampartd must still be running and forwarding (ping v4/v6 to the
# gateway and across), exit 0 on SIGTERM, and no ASan/LSan/UBSan report
# may exist (halt_on_error: any UBSan finding also kills the daemon).
. "$(dirname "$0")/lib.sh"

e2e_init m
topo_up

BIN=$RAMPARTD_SAN
[ -x "$BIN" ] || die "sanitizer build '$BIN' not found (make san, or set RAMPARTD_SAN)"
is_sanitized "$BIN" || die "'$BIN' is not built with -fsanitize=address"
NW=${E2E_WORKERS:-1}
NW=${NW%% *}
FUZZ_FRAMES=${E2E_FUZZ_FRAMES:-3000}
FUZZ_SEED=${E2E_FUZZ_SEED:-20261123}

CFG=$E2E_TMP/router.yaml
gen_config "$CFG" router "$NW"
rp_start "$CFG" "$BIN"
ROUTER_MAC=$(cat "/sys/class/net/$LAN_IF/address")
log "rampartd lan0 MAC $ROUTER_MAC"

check_out "lan pings its gateway before the battery" ' 0% packet loss' \
	in_lan ping -c 2 -i 0.2 -W 2 10.77.1.1
check_out "lan pings fd77:1::1 before the battery" ' 0% packet loss' \
	in_lan ping -c 2 -i 0.2 -W 2 fd77:1::1

rp_stats
BEFORE=$STATS

# ---- the battery
EXPECT=$E2E_TMP/expect
in_lan timeout 120 "$PY" "$E2E_DIR/malformed.py" battery "$ROUTER_MAC" "$EXPECT" >"$E2E_TMP/battery.log" 2>&1
brc=$?
cat "$E2E_TMP/battery.log"
while read -r what rest; do
	case $what in
	CHECK)
		case $rest in
		ok\ *) pass "${rest#ok }" ;;
		*) fail "${rest#FAIL }" ;;
		esac
		;;
	esac
done <"$E2E_TMP/battery.log"
[ $brc = 0 ] || fail "malformed.py battery exited with status $brc" "$E2E_TMP/battery.log"
[ -s "$EXPECT" ] || die "the battery wrote no expectations"
sleep 0.5
check "rampartd alive after the battery" rp_alive
rp_stats
AFTER=$STATS

delta() { # REASON[|REASON...] [PORT]: counter growth between BEFORE and AFTER
	local r sum=0 IFS='|'
	for r in $1; do
		sum=$((sum + $(stat_drop "$AFTER" "${2:-lan0}" "$r") - $(stat_drop "$BEFORE" "${2:-lan0}" "$r")))
	done
	echo $sum
}

total=0
while read -r reason n; do
	assert_eq "drop $reason grew by the $n frames sent for it" "$n" "$(delta "$reason")"
	total=$((total + n))
done <"$EXPECT"
assert_ge "battery frames" "$total" 50
# The ignored solicitations are counted on the control thread (RS and
# other ND from the hosts' kernels may add to it, never subtract).
assert_ge "control drop nd_ignored grew by the 4 broken solicitations" "$(delta nd_ignored control)" 4
# no malformed frame may have been forwarded to wan0 or answered with ICMP
assert_eq "wan0 sent nothing during the battery" \
	"$(stat_port "$BEFORE" wan0 tx_packets)" "$(stat_port "$AFTER" wan0 tx_packets)"

# ---- fuzz
check_out "fuzz: $FUZZ_FRAMES seeded random frames (seed $FUZZ_SEED)" '^fuzz: seed' \
	in_lan timeout 240 "$PY" "$E2E_DIR/malformed.py" fuzz "$ROUTER_MAC" "$FUZZ_SEED" "$FUZZ_FRAMES"
sleep 1
check "rampartd alive after the fuzz frames" rp_alive
rp_stats
FUZZ=$STATS
rx_fuzz=$(($(stat_port "$FUZZ" lan0 rx_packets) - $(stat_port "$AFTER" lan0 rx_packets)))
missed=$(($(stat_port "$FUZZ" lan0 nic_missed) - $(stat_port "$AFTER" lan0 nic_missed)))
log "fuzz: lan0 received $rx_fuzz frames (nic_missed +$missed)"
# Not all of them: the kernel swallows some before the PMD's socket (IPv4
# fragments, for its af_packet fanout defragmentation; frames whose 802.1Q
# tag it cannot strip). Typically 5-7 % of this mix.
assert_ge "rampartd received at least 80 % of the fuzz frames (rx + missed)" \
	"$((rx_fuzz + missed))" "$((FUZZ_FRAMES * 8 / 10))"
log "drop reasons after the fuzz frames:"
grep -E '^(  [a-z0-9]+:|    drop )' "$FUZZ" | sed 's/^/    /'

# ---- still working
check_out "lan pings its gateway after the fuzz" ' 0% packet loss' \
	in_lan ping -c 3 -i 0.2 -W 2 10.77.1.1
check_out "lan pings fd77:1::1 after the fuzz" ' 0% packet loss' \
	in_lan ping -c 3 -i 0.2 -W 2 fd77:1::1
check_out "lan -> wan 10.77.2.2 after the fuzz" ' 0% packet loss' \
	in_lan ping -c 3 -i 0.2 -W 2 10.77.2.2
check_out "lan -> wan fd77:2::2 after the fuzz" ' 0% packet loss' \
	in_lan ping -c 3 -i 0.2 -W 2 fd77:2::2
rp_stop
e2e_finish
