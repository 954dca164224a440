#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Connection tracking helpers with real clients, against the kernel's. The
# ruleset (tests/e2e/conntrack/helpers.rules*) gives FTP and TFTP control
# connections their helper (-j CT --helper) and lets through FORWARD only
# ESTABLISHED packets, RELATED+EXPECTED ones and new control connections:
# a data connection passes only if the helper announced it. curl fetches a
# file from tests/e2e/conntrack/ftpd.py on the WAN host over FTP (passive
# EPSV and PASV, active EPRT and PORT, IPv6 EPSV and EPRT) and TFTP
# (several blocks), through the kernel's router namespace and through
# rampartd with one and with two workers (the data connection may land on
# the other worker: the expectation table is shared). Every transfer must
# end the same way as through the kernel (all succeed there); without the
# helper rules, passive FTP must fail on both (the test can fail). Then the
# same through NAT (the LAN masqueraded, helpers-nat.rules): passive FTP and
# TFTP (its answer translated back to the client: nf_nat_tftp's follow-
# master) must succeed as through the kernel, and without the helper rules
# TFTP must fail on both; active FTP (PORT, EPRT) too, its command
# rewritten to the masqueraded address (nf_nat_ftp). Last, NAT that
# changes the announcements' length (helpers-natlen.rules: the LAN SNATed
# to 10.77.2.100, the LAN host's FTP server DNATed from 10.77.2.100:21):
# every FTP mode out of the LAN and into it, whose control connections
# only survive if the sequence numbers follow the rewriting; and the same
# with IPv6 (NAT66 to fd77:2::100, helpers-natlen.rules6). Plain and through
# MASQUERADE, the expectation events (conntrack -E expect) must be the
# kernel's, and an unused one is listed (conntrack -L expect) as the
# kernel's conntrack lists it.
. "$(dirname "$0")/lib.sh"

e2e_init h
require_cmd curl iptables-restore ip6tables-restore
topo_up

CDIR=$E2E_DIR/conntrack
RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
SOCK=$E2E_TMP/rampart.sock
trap 'ktopo_down; e2e_cleanup' EXIT
ktopo_up

FILES=$E2E_TMP/files
mkdir -p "$FILES"
head -c 3000 /dev/urandom | base64 -w 76 >"$FILES/hello.txt" # several TFTP blocks
SUM=$(md5sum <"$FILES/hello.txt" | cut -d' ' -f1)

ftpd() { # NS: the FTP/TFTP server on that namespace's host
	bg "ftpd-$1" ip netns exec "$1" "$PY" "$CDIR/ftpd.py" "$FILES" "$E2E_TMP/ftpd-$1.pid"
	wait_for "ftpd on $1" 10 test -s "$E2E_TMP/ftpd-$1.pid" || die "ftpd did not start on $1"
}
ftpd "$WAN_NS"
ftpd "$K_WAN"
ftpd "$LAN_NS"
ftpd "$K_LAN"

# fetch NS NAME CURL-ARGS...: "ok" if the file came whole, else "fail"
fetch() {
	local ns=$1 name=$2 got
	shift 2
	got=$(ip netns exec "$ns" timeout 20 curl -s --max-time 12 --connect-timeout 5 "$@" 2>/dev/null |
		md5sum | cut -d' ' -f1)
	if [ "$got" = "$SUM" ]; then echo "$name ok"; else echo "$name fail"; fi
}

# transfers LAN_NS: every kind, one line each
transfers() {
	local ns=$1
	fetch "$ns" ftp-epsv "ftp://10.77.2.2/hello.txt"
	fetch "$ns" ftp-pasv --disable-epsv "ftp://10.77.2.2/hello.txt"
	fetch "$ns" ftp-eprt -P 10.77.1.2 "ftp://10.77.2.2/hello.txt"
	fetch "$ns" ftp-port -P 10.77.1.2 --disable-eprt "ftp://10.77.2.2/hello.txt"
	fetch "$ns" ftp6-epsv -g "ftp://[fd77:2::2]/hello.txt"
	fetch "$ns" ftp6-eprt -g -P fd77:1::2 "ftp://[fd77:2::2]/hello.txt"
	fetch "$ns" tftp "tftp://10.77.2.2/hello.txt"
}

# conntrack -E expect and -L expect, with what differs from run to run
# (seconds left, the ports of clients and data connections) made T and P
exp_norm() {
	grep -v 'have been shown\.$\|^%%' "$1" |
		sed -E -e 's/^( *\[[A-Z]+\]) [0-9]+ /\1 T /' -e 's/^[0-9]+ proto=/T proto=/' \
			-e 's/(sport|dport)=([0-9]+)/\1=<\2>/g' -e 's/<(0|21|69|65535)>/\1/g' \
			-e 's/<[0-9]+>/P/g'
}
# exp_follow NAME CMD...: the expectation events CMD prints, from now on,
# into $E2E_TMP/NAME.log; exp_stop: the last one's end
exp_follow() {
	local name=$1
	shift
	bg "$name" "$@"
	EXP_PID=$BG_PID
	sleep 0.5
}
exp_stop() {
	sleep 1 # the last DESTROY on its way
	kill "$EXP_PID" 2>/dev/null
	wait "$EXP_PID" 2>/dev/null
}
# exp_compare DESC KERNEL-LOG RAMPART-LOG
exp_compare() {
	exp_norm "$2" >"$2.n"
	exp_norm "$3" >"$3.n"
	if [ -s "$2.n" ] && diff -u "$2.n" "$3.n" >"$3.diff"; then
		pass "$1: the same $(wc -l <"$2.n") expectation events as the kernel's"
	else
		fail "$1: expectation events differ from the kernel's (- kernel, + rampartd)" "$3.diff"
	fi
}

ip netns exec "$K_RTR" iptables-restore <"$CDIR/helpers.rules" || die "the kernel refused helpers.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$CDIR/helpers.rules6" || die "the kernel refused helpers.rules6"
exp_follow kexp ip netns exec "$K_RTR" conntrack -E expect
transfers "$K_LAN" >"$E2E_TMP/kernel"
exp_stop
cat "$E2E_TMP/kernel"
assert_eq "through the kernel, every transfer succeeds" 0 "$(grep -c ' fail' "$E2E_TMP/kernel")"
# pasv_unused NS: a passive-mode announcement nobody connects to; its port
pasv_unused() {
	# one command at a time: a helper reads a segment's first line only,
	# as the kernel's, so answers must not share a segment
	ip netns exec "$1" bash -c 'exec 3<>/dev/tcp/10.77.2.2/21 &&
		for c in "USER a" "PASS b" "PASV"; do printf "%s\r\n" "$c" >&3; sleep 0.3; done &&
		sleep 0.5 && printf "QUIT\r\n" >&3 && timeout 2 cat <&3' >"$E2E_TMP/pasv-$1.txt" 2>&1
	sed -n 's/^227 .*(10,77,2,2,\([0-9]*\),\([0-9]*\)).*/\1 \2/p' "$E2E_TMP/pasv-$1.txt" |
		awk '{print $1 * 256 + $2}'
}
kport=$(pasv_unused "$K_LAN")
ip netns exec "$K_RTR" conntrack -L expect >"$E2E_TMP/kexp-list.log" 2>&1
ip netns exec "$K_RTR" conntrack -F expect >/dev/null 2>&1
assert_match "the kernel lists the unused passive-mode expectation" "dport=${kport:-none} " \
	"$(cat "$E2E_TMP/kexp-list.log")"
# CT --expevents new: the expectations report NEW only (the kernel's
# expmask; with nf_conntrack_events=1, as rampartd: with the default 2 a
# rule loaded while nobody listens has no event mask there)
ip netns exec "$K_RTR" sysctl -qw net.netfilter.nf_conntrack_events=1 ||
	die "cannot set nf_conntrack_events in the kernel's namespace"
EXPEV_RULE="PREROUTING 1 -p tcp --dport 21 -j CT --helper ftp --expevents new"
# shellcheck disable=SC2086
ip netns exec "$K_RTR" iptables -t raw -R $EXPEV_RULE || die "the kernel refused --expevents"
exp_follow kexp-new ip netns exec "$K_RTR" conntrack -E expect
fetch "$K_LAN" ftp-epsv "ftp://10.77.2.2/hello.txt" >/dev/null
exp_stop
ip netns exec "$K_RTR" iptables-restore <"$CDIR/helpers.rules" || die "the kernel refused helpers.rules"
ip netns exec "$K_RTR" sysctl -qw net.netfilter.nf_conntrack_events=2

for nw in 1 2; do
	CFG=$E2E_TMP/rampart-$nw.yaml
	gen_config "$CFG" router "$nw"
	cfg_ruleset "$CFG" "$CDIR/helpers.rules" "$CDIR/helpers.rules6"
	rp_start "$CFG"
	exp_follow rexp-$nw "$RCTL" -s "$SOCK" conntrack -E expect
	transfers "$LAN_NS" >"$E2E_TMP/rampart-$nw"
	exp_stop
	exp_compare "$nw worker(s)" "$E2E_TMP/kexp.log" "$E2E_TMP/rexp-$nw.log"
	if diff -u "$E2E_TMP/kernel" "$E2E_TMP/rampart-$nw" >"$E2E_TMP/helpers-$nw.diff"; then
		pass "$nw worker(s): all $(wc -l <"$E2E_TMP/kernel") transfers end as through the kernel"
	else
		fail "$nw worker(s): transfers differ from the kernel's (- kernel, + rampartd)" \
			"$E2E_TMP/helpers-$nw.diff"
	fi
	S=$("$RCTL" -s "$SOCK" conntrack -S)
	echo "$S"
	made=$(echo "$S" | grep -o 'expect_new=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
	used=$(echo "$S" | grep -o 'expect_match=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
	assert_ge "$nw worker(s): expectations recorded (one per transfer)" "$made" 7
	assert_ge "$nw worker(s): expectations used by the data connections" "$used" 7
	check "$nw worker(s): the RELATED rule counted the data connections" \
		sh -c "'$RCTL' -s '$SOCK' -t filter -L FORWARD -v -x -n | awk '/ctstatus EXPECTED/ && \$1 > 0 {f=1} END {exit !f}'"
	if [ "$nw" = 1 ]; then
		# an announced connection nobody makes: listed until it expires,
		# as the kernel lists it
		port=$(pasv_unused "$LAN_NS")
		check_out "conntrack -L expect lists the unused passive-mode expectation" \
			"^[0-9]+ proto=6 src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=0 dport=${port:-none} mask-src=" \
			"$RCTL" -s "$SOCK" conntrack -L expect
		"$RCTL" -s "$SOCK" conntrack -L expect >"$E2E_TMP/rexp-list.log" 2>&1
		if diff -u <(exp_norm "$E2E_TMP/kexp-list.log") <(exp_norm "$E2E_TMP/rexp-list.log") \
			>"$E2E_TMP/exp-list.diff"; then
			pass "conntrack -L expect prints it as the kernel's conntrack does"
		else
			fail "conntrack -L expect differs from the kernel's (- kernel, + rampartd)" \
				"$E2E_TMP/exp-list.diff"
		fi
		assert_eq "conntrack -C expect" 1 "$("$RCTL" -s "$SOCK" conntrack -C expect)"
		check "conntrack -F expect" "$RCTL" -s "$SOCK" conntrack -F expect
		assert_eq "conntrack -C expect after -F" 0 "$("$RCTL" -s "$SOCK" conntrack -C expect)"
		# shellcheck disable=SC2086
		"$RCTL" -s "$SOCK" -t raw -R $EXPEV_RULE >/dev/null || fail "rampartctl -t raw -R ... --expevents new"
		exp_follow rexp-new "$RCTL" -s "$SOCK" conntrack -E expect
		fetch "$LAN_NS" ftp-epsv "ftp://10.77.2.2/hello.txt" >/dev/null
		exp_stop
		exp_compare "CT --expevents new" "$E2E_TMP/kexp-new.log" "$E2E_TMP/rexp-new.log"
		assert_eq "CT --expevents new: no DESTROY" 0 "$(grep -c DESTROY "$E2E_TMP/rexp-new.log")"
		# without the helpers, the data connection is just NEW: dropped
		"$RCTL" -s "$SOCK" -t raw -F PREROUTING >/dev/null || fail "rampartctl -t raw -F"
		"$RCTL" -s "$SOCK" -6 -t raw -F PREROUTING >/dev/null || fail "rampartctl -6 -t raw -F"
		assert_eq "rampartd without the helper rules: passive FTP fails" "ftp-epsv fail" \
			"$(fetch "$LAN_NS" ftp-epsv --connect-timeout 3 --max-time 6 "ftp://10.77.2.2/hello.txt")"
	fi
	rp_stop
done

ip netns exec "$K_RTR" iptables -t raw -F PREROUTING
assert_eq "the kernel without the helper rules: passive FTP fails" "ftp-epsv fail" \
	"$(fetch "$K_LAN" ftp-epsv --connect-timeout 3 --max-time 6 "ftp://10.77.2.2/hello.txt")"

# ---- through NAT
nat_transfers() { # LAN_NS
	fetch "$1" ftp-epsv "ftp://10.77.2.2/hello.txt"
	fetch "$1" ftp-pasv --disable-epsv "ftp://10.77.2.2/hello.txt"
	fetch "$1" ftp-eprt -P 10.77.1.2 "ftp://10.77.2.2/hello.txt"
	fetch "$1" ftp-port -P 10.77.1.2 --disable-eprt "ftp://10.77.2.2/hello.txt"
	fetch "$1" tftp "tftp://10.77.2.2/hello.txt"
}
ip netns exec "$K_RTR" iptables-restore <"$CDIR/helpers-nat.rules" || die "the kernel refused helpers-nat.rules"
exp_follow kexp-nat ip netns exec "$K_RTR" conntrack -E expect
nat_transfers "$K_LAN" >"$E2E_TMP/kernel-nat"
exp_stop
cat "$E2E_TMP/kernel-nat"
assert_eq "through the kernel's NAT, every transfer succeeds" 0 "$(grep -c ' fail' "$E2E_TMP/kernel-nat")"
ip netns exec "$K_RTR" iptables -t raw -F PREROUTING
assert_eq "the kernel's NAT without the helper rules: TFTP fails" "tftp fail" \
	"$(fetch "$K_LAN" tftp --max-time 6 "tftp://10.77.2.2/hello.txt")"
for nw in 1 2; do
	CFG=$E2E_TMP/rampart-nat-$nw.yaml
	gen_config "$CFG" router "$nw"
	cat >>"$CFG" <<YAML
ruleset:
  file: $CDIR/helpers-nat.rules
YAML
	rp_start "$CFG"
	exp_follow rexp-nat-$nw "$RCTL" -s "$SOCK" conntrack -E expect
	nat_transfers "$LAN_NS" >"$E2E_TMP/rampart-nat-$nw"
	exp_stop
	exp_compare "$nw worker(s), NAT" "$E2E_TMP/kexp-nat.log" "$E2E_TMP/rexp-nat-$nw.log"
	if diff -u "$E2E_TMP/kernel-nat" "$E2E_TMP/rampart-nat-$nw" >"$E2E_TMP/helpers-nat-$nw.diff"; then
		pass "$nw worker(s), NAT: all $(wc -l <"$E2E_TMP/kernel-nat") transfers end as through the kernel"
	else
		fail "$nw worker(s), NAT: transfers differ from the kernel's (- kernel, + rampartd)" \
			"$E2E_TMP/helpers-nat-$nw.diff"
	fi
	check_out "$nw worker(s), NAT: the TFTP answer's connection is translated back to the client" \
		"^udp +17 [0-9]+ src=10\.77\.2\.2 dst=10\.77\.2\.1 sport=[0-9]+ dport=[0-9]+ .*src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=[0-9]+ dport=[0-9]+" \
		"$RCTL" -s "$SOCK" conntrack -L -p udp
	if [ "$nw" = 1 ]; then
		"$RCTL" -s "$SOCK" -t raw -F PREROUTING >/dev/null || fail "rampartctl -t raw -F"
		assert_eq "rampartd's NAT without the helper rules: TFTP fails" "tftp fail" \
			"$(fetch "$LAN_NS" tftp --max-time 6 "tftp://10.77.2.2/hello.txt")"
	fi
	rp_stop
done

# ---- through NAT that changes the announcements' length
natlen_transfers() { # LAN_NS WAN_NS
	# out of the LAN, SNATed to 10.77.2.100
	fetch "$1" out-epsv "ftp://10.77.2.2/hello.txt"
	fetch "$1" out-pasv --disable-epsv "ftp://10.77.2.2/hello.txt"
	fetch "$1" out-eprt -P 10.77.1.2 "ftp://10.77.2.2/hello.txt"
	fetch "$1" out-port -P 10.77.1.2 --disable-eprt "ftp://10.77.2.2/hello.txt"
	# into the LAN: the server at 10.77.2.100 (curl must use the address
	# of the 227 answer, not the control connection's)
	fetch "$2" in-epsv "ftp://10.77.2.100/hello.txt"
	fetch "$2" in-pasv --disable-epsv --no-ftp-skip-pasv-ip "ftp://10.77.2.100/hello.txt"
	fetch "$2" in-eprt -P 10.77.2.2 "ftp://10.77.2.100/hello.txt"
	fetch "$2" in-port -P 10.77.2.2 --disable-eprt "ftp://10.77.2.100/hello.txt"
	# IPv6: SNATed to fd77:2::100 (EPRT two bytes longer), the server at
	# [fd77:2::100]:21
	fetch "$1" out6-epsv -g "ftp://[fd77:2::2]/hello.txt"
	fetch "$1" out6-eprt -g -P fd77:1::2 "ftp://[fd77:2::2]/hello.txt"
	fetch "$2" in6-epsv -g "ftp://[fd77:2::100]/hello.txt"
	fetch "$2" in6-eprt -g -P fd77:2::2 "ftp://[fd77:2::100]/hello.txt"
}
ip netns exec "$K_RTR" ip addr add 10.77.2.100/24 dev wan0 || die "cannot add 10.77.2.100 to the kernel router"
ip netns exec "$K_RTR" ip -6 addr add fd77:2::100/64 dev wan0 nodad || die "cannot add fd77:2::100 to the kernel router"
ip netns exec "$K_RTR" iptables-restore <"$CDIR/helpers-natlen.rules" || die "the kernel refused helpers-natlen.rules"
ip netns exec "$K_RTR" ip6tables-restore <"$CDIR/helpers-natlen.rules6" || die "the kernel refused helpers-natlen.rules6"
natlen_transfers "$K_LAN" "$K_WAN" >"$E2E_TMP/kernel-natlen"
cat "$E2E_TMP/kernel-natlen"
assert_eq "through the kernel's length-changing NAT, every transfer succeeds" 0 \
	"$(grep -c ' fail' "$E2E_TMP/kernel-natlen")"
for nw in 1 2; do
	CFG=$E2E_TMP/rampart-natlen-$nw.yaml
	gen_config "$CFG" router "$nw"
	sed -i 's|addresses: \[10.77.2.1/24, fd77:2::1/64\]|addresses: [10.77.2.1/24, 10.77.2.100/24, fd77:2::1/64, fd77:2::100/64]|' "$CFG"
	grep -q 10.77.2.100 "$CFG" || die "gen_config's wan0 addresses changed: cannot add 10.77.2.100"
	cat >>"$CFG" <<YAML
ruleset:
  file: $CDIR/helpers-natlen.rules
  ip6tables: $CDIR/helpers-natlen.rules6
YAML
	rp_start "$CFG"
	natlen_transfers "$LAN_NS" "$WAN_NS" >"$E2E_TMP/rampart-natlen-$nw"
	if diff -u "$E2E_TMP/kernel-natlen" "$E2E_TMP/rampart-natlen-$nw" >"$E2E_TMP/helpers-natlen-$nw.diff"; then
		pass "$nw worker(s), length-changing NAT: all $(wc -l <"$E2E_TMP/kernel-natlen") transfers end as through the kernel"
	else
		fail "$nw worker(s), length-changing NAT: transfers differ from the kernel's (- kernel, + rampartd)" \
			"$E2E_TMP/helpers-natlen-$nw.diff"
	fi
	S=$("$RCTL" -s "$SOCK" conntrack -S)
	mangled=$(echo "$S" | grep -o 'helper_mangled=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
	# PORT, EPRT (IPv4 and IPv6) and 227, out and in, 229
	assert_ge "$nw worker(s): announcements rewritten" "$mangled" 12
	rp_stop
done
e2e_finish
