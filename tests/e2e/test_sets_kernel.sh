#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# -j SET against the Linux kernel's xt_SET and ipset: which entry a packet
# makes. Two equivalent topologies: (A) the harness's lan -- rampartd --
# wan, and (B) lan -- a network namespace forwarding with the kernel
# (interfaces lan0 and wan0) -- wan. Both load the same sets
# (tests/e2e/sets/sets.ipset: hash:ip, hash:net with and without entries,
# hash:ip,port, hash:net,port, timeouts, a set of maxelem 1, IPv6,
# exceptions (nomatch) and comments, hash:ip,port,ip, hash:ip,port,net and
# bitmap:ip with a netmask, ICMP entries, list:set)
# and the
# same rules (sets.rules, sets.rules6: --add-set with every flag order,
# one flag for a two-dimension set, --del-set, --exist, --timeout 0 and
# above ipset's maximum; -m set with and without --return-nomatch, whose
# answers other -j SET rules make visible). The same probes (UDP and TCP from fixed source
# ports, one every 0.2 s, IPv4 and IPv6) cross each; then the kernel's
# `ipset save` and `rampartctl set list` must list the same entries (the
# seconds left rounded up to minutes: the kernel's entries are seconds
# older).
. "$(dirname "$0")/lib.sh"

e2e_init sk
require_cmd ipset iptables-restore ip6tables-restore
topo_up
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
SDIR=$E2E_DIR/sets
trap 'ktopo_down; e2e_cleanup' EXIT

ktopo_up
ip netns exec "$K_RTR" ipset restore <"$SDIR/sets.ipset" || die "the kernel refused sets.ipset"
ip netns exec "$K_RTR" iptables-restore "$SDIR/sets.rules" || die "the kernel refused sets.rules"
ip netns exec "$K_RTR" ip6tables-restore "$SDIR/sets.rules6" || die "the kernel refused sets.rules6"

CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 1
cat >>"$CFG" <<YAML
ruleset:
  file: $SDIR/sets.rules
  ip6tables: $SDIR/sets.rules6
  ipsets: $SDIR/sets.ipset
YAML
rp_start "$CFG"
export RAMPART_SOCKET=$E2E_TMP/rampart.sock

# PROTO SPORT DPORT [6]: one datagram (or a TCP SYN) from the lan host
probe_py='
import socket, sys
proto, sport, dport, v6 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "6"
fam = socket.AF_INET6 if v6 else socket.AF_INET
src, dst = ("fd77:1::2", "fd77:2::2") if v6 else ("10.77.1.2", "10.77.2.2")
s = socket.socket(fam, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, sport))
if proto == "udp":
    s.sendto(b"probe", (dst, dport))
else:
    s.settimeout(1)
    try:
        s.connect((dst, dport))
    except OSError:
        pass
s.close()
'
run_probes() { # NS
	local ns=$1 p
	# the lan host's neighbour entry first (not a probe)
	ip netns exec "$ns" ping -c 1 -W 1 10.77.2.2 >/dev/null 2>&1
	ip netns exec "$ns" ping -6 -c 1 -W 1 fd77:2::2 >/dev/null 2>&1
	for p in 1001 1002 1003 1004 1005 1006 1008 1009 1010 1011 1012 1013 1014 1015 1016 1017 1018; do
		ip netns exec "$ns" "$PY" -c "$probe_py" udp $((40000 + p)) "$p" 4
		sleep 0.2
	done
	ip netns exec "$ns" "$PY" -c "$probe_py" tcp 41007 1007 4
	sleep 0.2
	for p in 1001 1002; do
		ip netns exec "$ns" "$PY" -c "$probe_py" udp $((40000 + p)) "$p" 6
		sleep 0.2
	done
	sleep 0.3
}

# ipset save text, comparable: no bucketsize/initval, seconds left rounded
# up to minutes (0 stays 0: never expires), sorted
norm() {
	sed -E 's/ bucketsize [0-9]+ initval 0x[0-9a-f]+//' |
		awk '{ for (i = 1; i < NF; i++) if ($1 == "add" && $i == "timeout" && $(i + 1) > 0)
			$(i + 1) = int(($(i + 1) + 59) / 60) * 60; print }' | sort
}

run_probes "$K_LAN"
run_probes "$LAN_NS"
ip netns exec "$K_RTR" ipset save | norm >"$E2E_TMP/k.sets"
"$RCTL" set list | norm >"$E2E_TMP/r.sets"
check "the sets hold the same entries in the kernel and in rampartd" \
	diff -u "$E2E_TMP/k.sets" "$E2E_TMP/r.sets"
# the probes did reach both: the lists are not empty by accident
assert_file_match "hash:net takes the set's longest prefix (10.77.1.0/24)" \
	"^add nets 10\.77\.1\.0/24$" "$E2E_TMP/r.sets"
assert_file_match "an empty hash:net takes a host" "^add empty 10\.77\.2\.2$" "$E2E_TMP/r.sets"
assert_file_match "hash:ip,port: dst,src (timeout 0)" "^add svc 10\.77\.2\.2,udp:41005 timeout 0$" \
	"$E2E_TMP/r.sets"
assert_file_match "IPv6" "^add h6 fd77:1::2 timeout 600$" "$E2E_TMP/r.sets"
assert_eq "--del-set emptied gone" 0 "$(grep -c '^add gone' "$E2E_TMP/r.sets")"
assert_eq "one dimension for a two-dimension set: nothing added" 0 \
	"$(grep -c '^add svc1' "$E2E_TMP/r.sets")"
assert_file_match "--exist made the exception an entry (its comment kept, as the kernel)" \
	"^add exc 10\.77\.2\.0/24 comment \"an exception\"$" "$E2E_TMP/r.sets"
assert_file_match "an exception does not match; with --return-nomatch it does" \
	"^add m2 10\.77\.1\.2$" "$E2E_TMP/r.sets"
assert_eq "an exception does not match" 0 "$(grep -c '^add m1 ' "$E2E_TMP/r.sets")"
assert_file_match "an entry matches" "^add m3 10\.77\.1\.2$" "$E2E_TMP/r.sets"
assert_eq "an entry does not match with --return-nomatch" 0 "$(grep -c '^add m4 ' "$E2E_TMP/r.sets")"
assert_file_match "hash:ip,port,ip: src,dst,dst" "^add pip 10\.77\.1\.2,udp:1015,10\.77\.2\.2$" \
	"$E2E_TMP/r.sets"
assert_file_match "hash:ip,port,net: the exception answers with --return-nomatch" \
	"^add m7 10\.77\.1\.2$" "$E2E_TMP/r.sets"
assert_eq "... and not without" 0 "$(grep -c '^add m6 ' "$E2E_TMP/r.sets")"
assert_file_match "hash:ip,port,net: -j SET takes the set's longest third prefix (/32 here)" \
	"^add pin 10\.77\.2\.2,udp:1016,10\.77\.1\.2$" "$E2E_TMP/r.sets"
assert_file_match "bitmap:ip: the source's /24 block" "^add bip 10\.77\.1\.0 timeout 600$" "$E2E_TMP/r.sets"
assert_eq "bitmap:ip: an address out of the range is not added" 0 \
	"$(grep -c '^add bip1 10\.77\.1' "$E2E_TMP/r.sets")"
assert_file_match "list:set: a member holds the source" "^add m11 10\.77\.1\.2$" "$E2E_TMP/r.sets"
assert_eq "list:set: the member's exception answers no" 0 "$(grep -c '^add m12 ' "$E2E_TMP/r.sets")"
assert_file_match "list:set: ... and yes with --return-nomatch" "^add m13 10\.77\.1\.2$" "$E2E_TMP/r.sets"
assert_file_match "hash:ip,port: ICMP's type and code as the port" \
	"^add pic 10\.77\.2\.2,icmp:echo-request$" "$E2E_TMP/r.sets"
assert_file_match "... and ICMPv6's" "^add pic6 fd77:2::2,ipv6-icmp:echo-request$" "$E2E_TMP/r.sets"
assert_file_match "bitmap:ip: a listed block matches" "^add m10 10\.77\.1\.2$" "$E2E_TMP/r.sets"
assert_file_match "bitmap:ip: an address out of the range is not in the set" "^add m9 10\.77\.1\.2$" \
	"$E2E_TMP/r.sets"
e2e_finish
