#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The control plane with a live rampartd (router mode, 2 workers) and real
# clients, driven by rampartctl:
#   - iptables commands on the live ruleset: -A/-I/-D (by rule and by
#     number)/-R/-C/-N/-E/-X/-F/-Z/-P, each taking effect on traffic at once
#     (curl to a port is refused after -I ... -j REJECT, works after -D)
#   - -L -n -v -x --line-numbers and -S print what the kernel's iptables
#     prints for the same rules (the same ruleset restored into a kernel
#     namespace), counters included
#   - counters survive changes: a rule's packet count is still there after
#     other rules were appended, inserted and deleted
#   - save prints iptables-save's text of the same rules; restore --test of
#     a bad file changes nothing; restore -c sets counters; restore of the
#     saved text gives the same save again (round trip)
#   - load of a YAML ruleset, dump --yaml, load of the dump: same ruleset
#   - SIGHUP and `reload` re-read the configured files; unchanged rules keep
#     their counters
#   - permissions: a member of control.group may change, a member of
#     control.readonly-group may only list (and is told so), anybody else is
#     refused; refusals are logged
#   - hostile clients (garbage, oversized and truncated requests, clients
#     that connect and say nothing, 300 clients at once) while a ping flood
#     crosses the box: no packet lost, the daemon answers on
#   - named sets: set add/del/flush/list change -m set's sets live (an
#     exception, nomatch, lets its host through a blocked prefix); a timeout
#     set's entries expire (matching, listing) and are taken out; -j SET adds
#     (a trap port), renews (--exist) and deletes (a knock) entries
#   - trace add/show: the next packets of a connection, the rule that
#     accepted them and their fate
#   - --json: -L, conntrack -L and show version parse as JSON (python's
#     json module) with the chains, counters and connections of the text
#   - the interactive shell in a pty (script): a listing, Tab completion of
#     a chain name, history file
. "$(dirname "$0")/lib.sh"

e2e_init x
require_cmd curl ipset iptables-restore iptables-save ip6tables-restore script useradd groupadd setpriv
topo_up

RCTL=$(dirname "$RAMPARTD")/tools/rampartctl
CDIR=$E2E_DIR/ctl
WWW=$E2E_TMP/www
mkdir -p "$WWW"
echo "hello $$" >"$WWW/hello.txt"
for p in 8080 8081; do
	http_serve "http$p" in_wan "$WWW" "$p"
done

# users and groups for the permission checks (left in place: harmless)
getent group rp-e2e-adm >/dev/null || groupadd rp-e2e-adm
getent group rp-e2e-ro >/dev/null || groupadd rp-e2e-ro
for u in rpadm:rp-e2e-adm rpro:rp-e2e-ro rpnone:; do
	name=${u%%:*} grp=${u#*:}
	getent passwd "$name" >/dev/null || useradd -M -N -s /usr/sbin/nologin ${grp:+-G "$grp"} "$name"
done
chmod 755 "$E2E_TMP" # the socket's directory: others may traverse it

RULES=$E2E_TMP/fw.rules
cp "$CDIR/base.rules" "$RULES"
CFG=$E2E_TMP/rampart.yaml
gen_config "$CFG" router 2
sed -i "s|^control: .*|control: {socket: $E2E_TMP/rampart.sock, group: rp-e2e-adm, readonly-group: rp-e2e-ro}|" "$CFG"
cat >>"$CFG" <<YAML
ruleset:
  file: $RULES
  ip6tables: $CDIR/base.rules6
  ipsets: $CDIR/base.ipsets
YAML
check_out "--check accepts control groups" "ruleset valid" "$RAMPARTD" --check -c "$CFG"
rp_start "$CFG"
export RAMPART_SOCKET=$E2E_TMP/rampart.sock
check_out "the socket is root:rp-e2e-adm 0660" "^srw-rw----\+? .* root rp-e2e-adm " ls -l "$RAMPART_SOCKET"

curl_rc() { # PORT
	in_lan curl -s -o /dev/null --max-time 3 "http://10.77.2.2:$1/hello.txt"
	echo $?
}

assert_eq "curl :8080 passes the web chain" 0 "$(curl_rc 8080)"
assert_eq "curl :8081 is dropped (policy DROP)" 28 "$(curl_rc 8081)"

# ---- edits take effect at once
check "-I FORWARD 1 ... -j REJECT --reject-with tcp-reset" \
	"$RCTL" -I FORWARD 1 -p tcp --dport 8080 -j REJECT --reject-with tcp-reset
assert_eq "curl :8080 now refused (RST)" 7 "$(curl_rc 8080)"
check "-D FORWARD <the same rule>" \
	"$RCTL" -D FORWARD -p tcp --dport 8080 -j REJECT --reject-with tcp-reset
assert_eq "curl :8080 passes again" 0 "$(curl_rc 8080)"
check "-A FORWARD -i lan0 -p tcp --dport 8081 -j ACCEPT" "$RCTL" -A FORWARD -i lan0 -p tcp --dport 8081 -j ACCEPT
assert_eq "curl :8081 now passes" 0 "$(curl_rc 8081)"
out=$("$RCTL" -D FORWARD -p tcp --dport 9999 -j ACCEPT 2>&1)
assert_eq "-D of a rule that does not exist: exit 1" 1 "$?"
assert_match "... with iptables' message" "Bad rule \(does a matching rule exist in that chain\?\)" "$out"
check "-C finds an existing rule" "$RCTL" -C FORWARD -i lan0 -p tcp --dport 8081 -j ACCEPT
"$RCTL" -C FORWARD -p udp -j ACCEPT 2>/dev/null
assert_eq "-C of a missing rule: exit 1" 1 "$?"
n=$("$RCTL" -S FORWARD | grep -c -- '--dport 8081')
check "-D FORWARD 6 (by number)" "$RCTL" -D FORWARD 6
assert_eq "rule 6 (:8081) is gone" 0 "$("$RCTL" -S FORWARD | grep -c -- '--dport 8081')"
assert_eq "(it was there before)" 1 "$n"
assert_eq "curl :8081 dropped again" 28 "$(curl_rc 8081)"
check "-R FORWARD 5 (replace the web jump)" "$RCTL" -R FORWARD 5 -i lan0 -p tcp -m multiport --dports 8080,8081 -j web
assert_eq "curl :8081 passes through the replaced rule" 0 "$(curl_rc 8081)"
check "-N svc" "$RCTL" -N svc
check "-E svc services" "$RCTL" -E svc services
check "-A services" "$RCTL" -A services -j RETURN
check "-I web 1 -j services" "$RCTL" -I web 1 -j services
"$RCTL" -X services 2>/dev/null
assert_eq "-X of a referenced chain refused" 1 "$?"
check "-D web 1; -F services; -X services" sh -c "'$RCTL' -D web 1 && '$RCTL' -F services && '$RCTL' -X services"
"$RCTL" -P FORWARD REJECT 2>/dev/null
assert_eq "-P FORWARD REJECT refused (ACCEPT or DROP)" 1 "$?"
"$RCTL" -t nat -P POSTROUTING DROP 2>/dev/null
assert_eq "-t nat -P ... DROP refused" 1 "$?"
"$RCTL" -A NOPE -j ACCEPT 2>/dev/null
assert_eq "-A to a missing chain refused" 1 "$?"
"$RCTL" -A FORWARD -m nosuchmatch -j ACCEPT 2>/dev/null
assert_eq "an unknown match refused" 1 "$?"
check "-6 -A FORWARD (IPv6 rule)" "$RCTL" -6 -A FORWARD -p udp --dport 53 -j ACCEPT
check_out "-6 -S shows it" "^-A FORWARD -p udp -m udp --dport 53 -j ACCEPT$" "$RCTL" -6 -S FORWARD
assert_eq "... and -S (IPv4) does not" 0 "$("$RCTL" -S FORWARD | grep -c 'dport 53')"

# ---- counters survive changes
for i in 1 2 3 4 5; do curl_rc 8080 >/dev/null; done
ctr_web() { "$RCTL" -L web -v -x -n | awk '/the web service/ {print $1}'; }
before=$(ctr_web)
assert_ge "the web rule counted the connections (their first packets)" "${before:-0}" 5
check "-A FORWARD ... (another rule)" "$RCTL" -A FORWARD -p udp --dport 5000 -j DROP
check "-I FORWARD 1 ... (another rule)" "$RCTL" -I FORWARD 1 -p udp --dport 5001 -j DROP
check "-D FORWARD 1" "$RCTL" -D FORWARD 1
after=$(ctr_web)
assert_ge "the web rule kept its count across three changes" "${after:-0}" "$before"
check "-Z web" "$RCTL" -Z web
assert_eq "-Z web zeroed it" 0 "$(ctr_web)"
curl_rc 8080 >/dev/null
assert_eq "it counts again from zero" 1 "$(ctr_web)"

# ---- --json: one JSON document per listing, exact counters
curl_rc 8080 >/dev/null
out=$("$RCTL" -L web -n --json | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
c = d["chains"][0]
r = c["rules"][0]
print(d["table"], c["name"], c["references"], r["comment"], r["target"], r["packets"])')
assert_eq "-L web --json: the chain, its reference, the rule's comment and count" \
	"filter web 1 the web service ACCEPT 2" "$out"
out=$("$RCTL" --json -L FORWARD | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
c = d["chains"][0]
est = [r for r in c["rules"] if "ESTABLISHED" in r["rule"]]
print(c["name"], c["policy"], est[0]["num"], int(est[0]["packets"] > 0), int(est[0]["bytes"] > 0))')
assert_eq "-L FORWARD --json: policy, the conntrack rule counted packets and bytes" \
	"FORWARD DROP 2 1 1" "$out"
out=$("$RCTL" conntrack -L --json -p tcp 2>/dev/null | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
e = [x for x in d if x["original"]["dport"] == 8080]
print(int(len(e) > 0), e[0]["proto"], e[0]["reply"]["sport"], int(e[0]["original"]["packets"] > 0))')
assert_eq "conntrack -L --json: the curl connections to :8080, both directions" "1 tcp 8080 1" "$out"
gen=$("$RCTL" show version | awk '/ruleset_generation/ {print $2}')
out=$("$RCTL" show version --json | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print(d["ruleset_generation"], d["last_change_ok"])')
assert_eq "show version --json: the generation show version prints" "$gen True" "$out"
out=$("$RCTL" -L nochain --json 2>&1 >/dev/null)
assert_eq "-L of a missing chain with --json: exit 1" 1 "$?"
assert_match "... an error, not JSON" "^rampartctl: error: nochain: No chain/target/match by that name" "$out"

# ---- listings identical to the kernel's iptables for the same rules
KNS=$RP_PREFIX-k
ip netns add "$KNS"
ip netns exec "$KNS" ipset restore <"$CDIR/base.ipsets"
"$RCTL" save -c >"$E2E_TMP/live.save"
check "the live ruleset (save -c) restores into the kernel" ip netns exec "$KNS" iptables-restore -c "$E2E_TMP/live.save"
ip netns exec "$KNS" iptables-save | grep -v '^#' >"$E2E_TMP/k.save"
"$RCTL" save | grep -v '^#' >"$E2E_TMP/r.save"
check "save: iptables-save's text of the same rules" diff -u "$E2E_TMP/k.save" "$E2E_TMP/r.save"
for opts in "-L -n -v -x --line-numbers" "-L -n" "-S" "-S -v" "-L web -n -v -x" "-S FORWARD 2"; do
	# shellcheck disable=SC2086
	ip netns exec "$KNS" iptables $opts >"$E2E_TMP/k.list" 2>&1
	# shellcheck disable=SC2086
	"$RCTL" $opts >"$E2E_TMP/r.list" 2>&1
	check "rampartctl $opts prints as iptables $opts" diff -u "$E2E_TMP/k.list" "$E2E_TMP/r.list"
done
ip netns del "$KNS"

# ---- save / restore
gen0=$("$RCTL" show version | awk '/ruleset_generation/ {print $2}')
printf '*filter\n-A FORWARD -j NOSUCHCHAIN\nCOMMIT\n' >"$E2E_TMP/bad.rules"
out=$("$RCTL" restore --noflush "$E2E_TMP/bad.rules" 2>&1)
assert_eq "restore of a bad file: exit 1" 1 "$?"
assert_match "... the error names the file position" "stdin:2:[0-9]+:" "$out"
assert_eq "... and nothing changed" "$gen0" "$("$RCTL" show version | awk '/ruleset_generation/ {print $2}')"
check "restore --test of a good file" "$RCTL" restore --test "$E2E_TMP/live.save"
assert_eq "... changed nothing" "$gen0" "$("$RCTL" show version | awk '/ruleset_generation/ {print $2}')"
"$RCTL" save >"$E2E_TMP/s1"
check "restore of the saved text" "$RCTL" restore "$E2E_TMP/s1"
"$RCTL" save >"$E2E_TMP/s2"
# (the policy counters of the restored table restart, as with iptables-restore)
nocount() { grep -v '^#' "$1" | sed 's/ \[[0-9]*:[0-9]*\]$//'; }
check "save after restore: same text" diff -u <(nocount "$E2E_TMP/s1") <(nocount "$E2E_TMP/s2")
sed 's/^-A web -m comment/[1234:567890] -A web -m comment/' "$E2E_TMP/s1" >"$E2E_TMP/s1c"
check "restore -c with counters" "$RCTL" restore -c "$E2E_TMP/s1c"
check_out "-L -v -x shows the restored counters" "^ +1234 +567890 ACCEPT" "$RCTL" -L web -v -x -n
assert_eq "curl :8080 after the restores" 0 "$(curl_rc 8080)"

# ---- YAML: dump, load, round trip
"$RCTL" dump --yaml >"$E2E_TMP/d1.yaml"
check "load the dump" "$RCTL" load "$E2E_TMP/d1.yaml"
"$RCTL" dump --yaml >"$E2E_TMP/d2.yaml"
check "dump after load: same YAML" diff -u "$E2E_TMP/d1.yaml" "$E2E_TMP/d2.yaml"
check_out "load kept the counters of unchanged rules" "^ +[0-9]*[1-9][0-9]* +[0-9]+ ACCEPT .*the web service" "$RCTL" -L web -v -x -n
out=$("$RCTL" load "$E2E_TMP/s1" 2>&1)
assert_eq "load of iptables text is refused" 1 "$?"
assert_match "... pointing to restore" "use .rampartctl restore" "$out"

# ---- SIGHUP and reload
web0=$(ctr_web)
echo "-A FORWARD -p udp --dport 7777 -j DROP" >"$E2E_TMP/extra"
sed -i "/^COMMIT/e cat $E2E_TMP/extra" "$RULES"
kill -HUP "$RP_PID"
wait_for "SIGHUP applied the changed file" 5 sh -c "'$RCTL' -S FORWARD | grep -q 'dport 7777'"
assert_ge "the web rule kept its count across SIGHUP" "$(ctr_web)" "$web0"
sed -i '/dport 7777/d' "$RULES"
check "reload" "$RCTL" reload
assert_eq "reload applied the file again" 0 "$("$RCTL" -S FORWARD | grep -c 'dport 7777')"
echo "-A FORWARD -j NOWHERE" >"$E2E_TMP/extra"
sed -i "/^COMMIT/e cat $E2E_TMP/extra" "$RULES"
out=$("$RCTL" reload 2>&1)
assert_eq "reload of a broken file: exit 1" 1 "$?"
assert_match "... with file:line:col" "fw.rules:[0-9]+:[0-9]+:" "$out"
assert_eq "curl :8080 still passes (the running ruleset stayed)" 0 "$(curl_rc 8080)"
check_out "show version reports the failed change" "last_change .* failed" "$RCTL" show version

# ---- named sets, changed live
check_out "set list blocklist (ipset save format)" "^add blocklist 192\.0\.2\.0/24$" "$RCTL" set list blocklist
check "set add blocklist 10.77.1.2" "$RCTL" set add blocklist 10.77.1.2
assert_eq "curl from the blocked host is refused (icmp-admin-prohibited)" 7 "$(curl_rc 8080)"
out=$("$RCTL" set add blocklist 10.77.1.2 2>&1)
assert_eq "adding it twice: exit 1" 1 "$?"
assert_match "... as ipset says" "already added" "$out"
check_out "show sets" "^set=blocklist type=hash:net family=inet entries=2 " "$RCTL" show sets
check "set del blocklist 10.77.1.2" "$RCTL" set del blocklist 10.77.1.2
assert_eq "curl passes again" 0 "$(curl_rc 8080)"
"$RCTL" set del blocklist 10.77.1.2 2>/dev/null
assert_eq "deleting it again: exit 1" 1 "$?"
"$RCTL" set add nosuchset 1.2.3.4 2>/dev/null
assert_eq "a missing set: exit 1" 1 "$?"
"$RCTL" set add blocklist 10.77.1.0/33 2>/dev/null
assert_eq "a bad entry: exit 1" 1 "$?"
# an exception (nomatch): the most specific entry decides
check "set add blocklist 10.77.1.0/24" "$RCTL" set add blocklist 10.77.1.0/24
assert_eq "curl from the blocked /24 is refused" 7 "$(curl_rc 8080)"
check "set add blocklist 10.77.1.2 nomatch (an exception)" "$RCTL" set add blocklist 10.77.1.2 nomatch
assert_eq "curl from the exception passes" 0 "$(curl_rc 8080)"
check_out "set list: the exception" "^add blocklist 10\.77\.1\.2 nomatch$" "$RCTL" set list blocklist
out=$("$RCTL" set test blocklist 10.77.1.2 2>&1)
assert_eq "set test of the exception: exit 1 (NOT in set)" 1 "$?"
out=$("$RCTL" set add blocklist 10.77.1.3 comment "two words" 2>&1)
assert_eq "a comment in a set without comment support: exit 1" 1 "$?"
assert_match "... as ipset says" "created without comment support" "$out"
check "set del blocklist 10.77.1.0/24" "$RCTL" set del blocklist 10.77.1.0/24
check "set del blocklist 10.77.1.2" "$RCTL" set del blocklist 10.77.1.2
# a list:set changes alone too; its members are checked against the sets
check "set add grp blocklist (a list:set)" "$RCTL" set add grp blocklist
check "set add grp banned before blocklist" "$RCTL" set add grp banned before blocklist
check_out "set list grp: in order" "^add grp banned$" "$RCTL" set list grp
assert_eq "... banned first" "banned blocklist" "$("$RCTL" set list grp | awk '/^add/ {printf "%s%s", s, $3; s=" "}')"
out=$("$RCTL" set add grp grp 2>&1)
assert_eq "a list in a list: exit 1" 1 "$?"
assert_match "... as ipset says" "list:set type cannot be added" "$out"
check "set test grp blocklist" "$RCTL" set test grp blocklist
check_out "the sets it names kept their entries" "^add blocklist 192\.0\.2\.0/24$" "$RCTL" set list blocklist
check "set del grp banned" "$RCTL" set del grp banned
# a timeout set (ipset's "timeout N"): entries expire on their own
gen_of() { "$RCTL" show version | awk '/ruleset_generation/ {print $2}'; }
check "-I FORWARD 1 -m set --match-set banned src -j REJECT" \
	"$RCTL" -I FORWARD 1 -m set --match-set banned src -j REJECT --reject-with icmp-admin-prohibited
gen1=$(gen_of)
out=$("$RCTL" set add banned 10.77.1.2 2>&1)
assert_eq "set add banned 10.77.1.2 (the set's timeout: 3 s)" 0 "$?"
assert_match "... the set alone changes" \
	"^rampartctl: ruleset $gen1 live on every worker in [0-9.]+ ms \(set banned changed alone\)$" "$out"
assert_eq "curl from the banned host is refused" 7 "$(curl_rc 8080)"
assert_eq "... the ruleset generation stays (the program is not replaced)" "$gen1" "$(gen_of)"
check_out "set list banned: the entry and its seconds left" "^add banned 10\.77\.1\.2 timeout [123]$" \
	"$RCTL" set list banned
check_out "... under the set's create line" \
	"^create banned hash:ip family inet hashsize 1024 maxelem 65536 timeout 3$" "$RCTL" set list banned
out=$("$RCTL" set add banned 10.77.1.2 2>&1)
assert_eq "adding it again before it expires: exit 1" 1 "$?"
assert_match "... already added" "already added" "$out"
check "set add -exist ... timeout 4 renews it" "$RCTL" set add -exist banned 10.77.1.2 timeout 4
check_out "... 4 s now" "^add banned 10\.77\.1\.2 timeout [34]$" "$RCTL" set list banned
out=$("$RCTL" set add blocklist 10.77.1.9 timeout 5 2>&1)
assert_eq "a timeout in a set without timeouts: exit 1" 1 "$?"
assert_match "... as ipset says" "without timeout support" "$out"
t0=$(date +%s%N)
wait_for "the entry expires: curl passes" 8 \
	ip netns exec "$LAN_NS" curl -s -o /dev/null --max-time 2 http://10.77.2.2:8080/hello.txt
ms=$((($(date +%s%N) - t0) / 1000000))
assert_ge "... not before its 4 s (ms after the renewal's listing)" "$ms" 2500
assert_eq "... and is no longer listed" 0 "$("$RCTL" set list banned | grep -c '^add ')"
check_out "show sets counts no live entry" "^set=banned type=hash:ip family=inet entries=0 maxelem=65536 timeout=3$" \
	"$RCTL" show sets
wait_for "the expired entry is taken out of the set (logged)" 5 \
	grep -q "1 expired set entries taken out" "$RP_LOG"
check "set add banned 10.77.1.2 timeout 0 (never expires)" "$RCTL" set add banned 10.77.1.2 timeout 0
check_out "... listed with timeout 0" "^add banned 10\.77\.1\.2 timeout 0$" "$RCTL" set list banned
check "set del banned 10.77.1.2" "$RCTL" set del banned 10.77.1.2
check "set del -exist of an entry not there" "$RCTL" set del -exist banned 10.77.1.2
check "set test blocklist 192.0.2.77 (an address in a listed prefix)" "$RCTL" set test blocklist 192.0.2.77
out=$("$RCTL" set test blocklist 192.0.3.1 2>&1)
assert_eq "set test of an address not in the set: exit 1" 1 "$?"
assert_match "... as ipset says" "192\.0\.3\.1 is NOT in set blocklist\." "$out"
out=$(setpriv --reuid=rpro --regid="$(id -g rpro)" --init-groups "$RCTL" set test blocklist 192.0.2.1 2>&1)
assert_eq "set test is allowed to the read-only group" 0 "$?"

# -j SET: packets change the set. A trap port bans its caller for 3 s
# (each new try renews it: --exist), another for good, a UDP knock on 7777
# lifts the ban (--del-set); they come before the ban rule (a banned
# source's tries renew its ban), -j SET goes on to the next rule.
check "-I FORWARD 1 ... --dport 8081 -j SET --add-set banned src --exist --timeout 3" \
	"$RCTL" -I FORWARD 1 -p tcp --dport 8081 -j SET --add-set banned src --exist --timeout 3
check "-I FORWARD 1 ... --dport 8082 -j SET --add-set banned src --timeout 0" \
	"$RCTL" -I FORWARD 1 -p tcp --dport 8082 -j SET --add-set banned src --timeout 0
check "-I FORWARD 1 ... --dport 7777 -j SET --del-set banned src" \
	"$RCTL" -I FORWARD 1 -p udp --dport 7777 -j SET --del-set banned src
check_out "-S: as iptables prints them" \
	"^-A FORWARD -p tcp -m tcp --dport 8081 -j SET --add-set banned src --exist --timeout 3$" \
	"$RCTL" -S FORWARD
trap_port() { in_lan curl -s -o /dev/null --max-time 0.3 "http://10.77.2.2:$1/" >/dev/null 2>&1; }
assert_eq "curl :8080 passes before the trap" 0 "$(curl_rc 8080)"
trap_port 8081
wait_for "a SYN to the trap port :8081 bans its source" 2 sh -c "[ \$(ip netns exec $LAN_NS curl -s -o /dev/null --max-time 1 http://10.77.2.2:8080/hello.txt; echo \$?) = 7 ]"
check_out "set list: the banned source, 3 s" "^add banned 10\.77\.1\.2 timeout [123]$" "$RCTL" set list banned
t0=$(date +%s%N)
for _ in 1 2 3 4 5; do # 5 s of tries, one a second: each renews the 3 s
	sleep 1
	trap_port 8081
done
assert_eq "renewed by each try (--exist): still banned after 5 s" 7 "$(curl_rc 8080)"
wait_for "the ban ends 3 s after the last try" 6 \
	ip netns exec "$LAN_NS" curl -s -o /dev/null --max-time 1 http://10.77.2.2:8080/hello.txt
ms=$((($(date +%s%N) - t0) / 1000000))
assert_ge "... not before (ms since the tries began)" "$ms" 7000
trap_port 8082
wait_for "the other trap (:8082) bans for good" 2 sh -c "[ \$(ip netns exec $LAN_NS curl -s -o /dev/null --max-time 1 http://10.77.2.2:8080/hello.txt; echo \$?) = 7 ]"
check_out "... timeout 0" "^add banned 10\.77\.1\.2 timeout 0$" "$RCTL" set list banned
in_lan bash -c 'echo knock >/dev/udp/10.77.2.2/7777'
wait_for "a UDP knock on 7777 deletes the entry (--del-set)" 2 \
	ip netns exec "$LAN_NS" curl -s -o /dev/null --max-time 1 http://10.77.2.2:8080/hello.txt
assert_eq "... the set is empty" 0 "$("$RCTL" set list banned | grep -c '^add ')"
out=$("$RCTL" show workers)
assert_match "show workers counts the requests" "set_requests=[1-9][0-9]* set_requests_lost=0" "$out"
out=$(curl -s --max-time 3 "http://127.0.0.1:$(metrics_port)/metrics")
assert_match "metrics count the changes made for them" \
	"rampart_set_target_changes_total [1-9]" "$out"
assert_match "... and none dropped" "rampart_set_target_dropped_total 0" "$out"
for r in "-p udp --dport 7777 -j SET --del-set banned src" \
	"-p tcp --dport 8082 -j SET --add-set banned src --timeout 0" \
	"-p tcp --dport 8081 -j SET --add-set banned src --exist --timeout 3"; do
	# shellcheck disable=SC2086
	check "-D FORWARD $r" "$RCTL" -D FORWARD $r
done
check_out "... the ban rule is first again" "^-A FORWARD -m set --match-set banned src -j REJECT" \
	sh -c "'$RCTL' -S FORWARD | sed -n 2p"
check "-D FORWARD 1" "$RCTL" -D FORWARD 1
assert_eq "curl passes" 0 "$(curl_rc 8080)"
# a reload reads the sets again, but a timeout set keeps its live entries
# (what packets and commands put there), as an ipset outlives a reload of
# the iptables rules in the kernel
sed -i '/NOWHERE/d' "$RULES"
"$RCTL" save >"$E2E_TMP/before-reload.rules"
check "set add banned 10.77.1.99 timeout 0" "$RCTL" set add banned 10.77.1.99 timeout 0
check "set add blocklist 10.77.1.98" "$RCTL" set add blocklist 10.77.1.98
check "reload" "$RCTL" reload
check_out "reload kept the timeout set's live entry" "^add banned 10\.77\.1\.99 timeout 0$" \
	"$RCTL" set list banned
assert_eq "... and read the other sets from the file again" 0 \
	"$("$RCTL" set list blocklist | grep -c '10\.77\.1\.98')"
assert_file_match "... logged" "1 live entries of timeout sets kept" "$RP_LOG"
check "restore the rules of before the reload" "$RCTL" restore "$E2E_TMP/before-reload.rules"
check "set del banned 10.77.1.99" "$RCTL" set del banned 10.77.1.99

# ---- trace
check "trace add 3 -p tcp --dport 8080 -i lan0" "$RCTL" trace add 3 -p tcp --dport 8080 -i lan0
curl_rc 8080 >/dev/null
"$RCTL" trace show >"$E2E_TMP/trace.out" 2>&1
assert_file_match "trace: the SYN went through the web chain's rule" "filter web rule [0-9]+: -A web .*the web service.* -j ACCEPT" "$E2E_TMP/trace.out"
assert_file_match "trace: and was forwarded" "verdict: forwarded out wan0" "$E2E_TMP/trace.out"
assert_eq "trace: exactly 3 packets traced" 3 "$(grep -c '^trace [0-9]*:' "$E2E_TMP/trace.out")"
"$RCTL" trace add 0 2>/dev/null
assert_eq "trace add 0 refused" 1 "$?"
check "trace clear" "$RCTL" trace clear

# ---- permissions
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups env RAMPART_SOCKET="$RAMPART_SOCKET" "$@"; }
check "group member may change (-A)" as rpadm "$RCTL" -A FORWARD -p udp --dport 6000 -j DROP
check "group member may list" as rpadm "$RCTL" -L -n
check "read-only member may list" as rpro "$RCTL" -S
check "read-only member may save" as rpro "$RCTL" save
check "read-only member may list with --json" as rpro "$RCTL" conntrack --json -L
check "read-only member may see traces" as rpro "$RCTL" trace show
as rpro "$RCTL" trace add 1 >/dev/null 2>&1
assert_eq "read-only member may not arm a trace" 1 "$?"
out=$(as rpro "$RCTL" -A FORWARD -j DROP 2>&1)
assert_eq "read-only member may not change: exit 1" 1 "$?"
assert_match "... and is told why" "permission denied: .* may only read" "$out"
out=$(as rpnone "$RCTL" -L 2>&1)
rc=$?
[ $rc != 0 ] && pass "a non-member is refused (exit $rc)" || fail "a non-member could list"
assert_match "... with a clear message" "(permission denied|Permission denied)" "$out"
assert_file_match "refusals are logged" "uid [0-9]+ .*refused" "$RP_LOG"

# ---- the interactive shell in a pty
hist=$E2E_TMP/home
mkdir -p "$hist"
printf -- '-L FORW\t -n\nshow version\nquit\n' |
	HOME=$hist timeout 20 script -qfec "$RCTL" /dev/null >"$E2E_TMP/shell.out" 2>&1
assert_file_match "shell: prompt" "rampart> " "$E2E_TMP/shell.out"
assert_file_match "shell: Tab completed FORW into FORWARD, listed" "Chain FORWARD \(policy DROP" "$E2E_TMP/shell.out"
assert_file_match "shell: show version" "ruleset_generation [0-9]+" "$E2E_TMP/shell.out"
assert_file_match "shell: history kept" "show(.040| )version" "$hist/.rampartctl_history"
printf -- '-S web\nbogus\n' | "$RCTL" >"$E2E_TMP/shell2.out" 2>&1
assert_eq "shell from a pipe: exit status of the last command" 2 "$?"
assert_file_match "shell from a pipe: ran the commands" "^-N web" "$E2E_TMP/shell2.out"

# ---- hostile clients while traffic flows
in_lan ping -q -i 0.01 -c 1500 -W 1 10.77.2.2 >"$E2E_TMP/ping.out" 2>&1 &
PING=$!
"$PY" - "$RAMPART_SOCKET" <<'PY' >"$E2E_TMP/hostile.out" 2>&1
import os, socket, sys, random, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
def ask(data, shut=True, wait=True):
    s = conn()
    try:
        s.sendall(data)
    except OSError:
        pass
    if shut:
        s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    out = b""
    try:
        while wait:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    s.close()
    return out
res = {}
random.seed(7)
res["garbage"] = ask(bytes(random.getrandbits(8) for _ in range(3000)) + b"\n")
res["ctl"] = ask(b"-L \x01\x02\n")
res["badpct"] = ask(b"-L %zz\n")
res["long"] = ask(b"A" * 70000)
res["bodylen"] = ask(b"restore <<99999999999\n")
res["truncated"] = ask(b"restore <<1000\n*filter\n")
res["nonl"] = ask(b"show version")
res["twice"] = ask(b"version\nversion\n")
idle = [conn() for _ in range(50)]     # say nothing, keep the slots
halfbody = conn(); halfbody.sendall(b"restore <<100000\n*filter\n")
for k, v in res.items():
    print(k, v.decode(errors="replace").strip().splitlines()[-1:] )
ok = ask(b"version\n")
print("after", ok.decode().strip().splitlines()[-1])
time.sleep(1)
for s in idle: s.close()
halfbody.close()
PY
assert_file_match "garbage: an error answer" "^garbage .*%% error" "$E2E_TMP/hostile.out"
assert_file_match "control characters: refused" "^ctl .*control character" "$E2E_TMP/hostile.out"
assert_file_match "bad %-escape: refused" "^badpct .*hex digits" "$E2E_TMP/hostile.out"
assert_file_match "oversized header: refused" "^long .*longer than" "$E2E_TMP/hostile.out"
assert_file_match "absurd body length: refused" "^bodylen .*bad body length" "$E2E_TMP/hostile.out"
assert_file_match "truncated body: no change, an answer or a close" "^truncated " "$E2E_TMP/hostile.out"
assert_file_match "no newline: refused" "^nonl .*no request line" "$E2E_TMP/hostile.out"
assert_file_match "two requests on one connection: refused" "^twice .*one request per connection" "$E2E_TMP/hostile.out"
assert_file_match "an answer while 51 clients hold connections" "^after %% ok" "$E2E_TMP/hostile.out"
# 300 clients at once
seq 300 | xargs -P 300 -I{} sh -c "'$RCTL' -L -n >/dev/null 2>&1 || echo FAIL" >"$E2E_TMP/par.out"
fails=$(grep -c FAIL "$E2E_TMP/par.out")
assert_le "300 parallel listings: (almost) all answered" "$fails" 5
wait $PING
loss=$(grep -o '[0-9.]*% packet loss' "$E2E_TMP/ping.out" | cut -d% -f1)
assert_eq "ping flood (1500 at 10 ms) lost nothing meanwhile" 0 "${loss:-x}"
check "rampartd still answers" "$RCTL" show version

rp_stop
e2e_finish
