#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The Prometheus endpoint of a live rampartd (router mode, 2 workers):
#   - GET /metrics answers 200 in the text format 0.0.4, which promtool
#     accepts; GET / links to it; other paths 404, other methods 405
#   - a slow client holding a connection open does not stop others; an
#     oversized request is refused; malformed requests do no harm
#   - rule counters (with table, chain, position and comment labels), port,
#     worker, conntrack and ruleset families are there, and a rule's
#     counter rises with traffic
#   - a real Prometheus server scrapes it, and its query API sees the rule
#     counter rise after traffic
. "$(dirname "$0")/lib.sh"

e2e_init p
require_cmd curl promtool prometheus
topo_up

CFG=$E2E_TMP/rampart.yaml
RULES=$E2E_TMP/metrics.rules
cat >"$RULES" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i lan0 -o wan0 -p icmp -m comment --comment "lan \"pings\" out" -j ACCEPT
-A FORWARD -i lan0 -o wan0 -p tcp -m tcp --dport 8080 -j ACCEPT
COMMIT
EOF
gen_config "$CFG" router 2
cat >>"$CFG" <<YAML
ruleset:
  file: $RULES
YAML
rp_start "$CFG"
PORT=$(metrics_port)
[ -n "$PORT" ] || die "no 'metrics on' line in the log"
URL=http://127.0.0.1:$PORT
log "metrics at $URL/metrics"

code=$(curl -s -o "$E2E_TMP/m1" -w '%{http_code} %{content_type}' "$URL/metrics")
assert_eq "GET /metrics: 200, text format 0.0.4" "200 text/plain; version=0.0.4; charset=utf-8" "$code"
check "promtool check metrics accepts the exposition" sh -c "promtool check metrics <'$E2E_TMP/m1'"
assert_file_match "build info" '^rampart_build_info\{version="[^"]+"\} 1$' "$E2E_TMP/m1"
assert_file_match "port counters" '^rampart_port_rx_packets_total\{port="lan0"\} [0-9]+$' "$E2E_TMP/m1"
assert_file_match "drops by reason" '^rampart_port_dropped_packets_total\{port="wan0",reason="filter_drop"\} [0-9]+$' "$E2E_TMP/m1"
assert_file_match "worker counters" '^rampart_worker_busy_loops_total\{worker="1"\} [0-9]+$' "$E2E_TMP/m1"
assert_file_match "conntrack entries" '^rampart_conntrack_entries\{worker="0"\} [0-9]+$' "$E2E_TMP/m1"
assert_file_match "ruleset generation and reload" '^rampart_ruleset_last_reload_success 1$' "$E2E_TMP/m1"
assert_file_match "a rule, its comment escaped" \
	'^rampart_rule_packets_total\{family="ipv4",table="filter",chain="FORWARD",position="2",comment="lan \\"pings\\" out"\} 0$' "$E2E_TMP/m1"
assert_file_match "a policy" '^rampart_rule_packets_total\{family="ipv4",table="filter",chain="FORWARD",position="policy",comment=""\} [0-9]+$' "$E2E_TMP/m1"

check "ping lan -> wan (counted by rule 2)" in_lan ping -c 3 -i 0.2 -W 2 10.77.2.2
curl -s -o "$E2E_TMP/m2" "$URL/metrics"
assert_file_match "the rule's counter rose" \
	'^rampart_rule_packets_total\{family="ipv4",table="filter",chain="FORWARD",position="2",comment="lan \\"pings\\" out"\} [1-9][0-9]*$' "$E2E_TMP/m2"

assert_eq "GET / links to /metrics" 200 "$(curl -s -o "$E2E_TMP/idx" -w '%{http_code}' "$URL/")"
assert_file_match "the index page" 'href="/metrics"' "$E2E_TMP/idx"
assert_eq "GET /other: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/other")"
assert_eq "POST /metrics: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -d x=1 "$URL/metrics")"
# a client that connects and says nothing does not hold up the next one
exec 7<>"/dev/tcp/127.0.0.1/$PORT"
t0=$(date +%s%N)
assert_eq "a scrape while a silent client holds a connection" 200 "$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$URL/metrics")"
ms=$((($(date +%s%N) - t0) / 1000000))
assert_le "... answered without waiting for it (ms)" "$ms" 1000
exec 7>&-
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "X-Big: $big" "$URL/metrics")
log "a 40 KB header got HTTP $code"
assert_match "an oversized request is refused" '^(000|4[0-9][0-9])$' "$code"
for junk in 'GARBAGE \x01\x02 nonsense\r\n\r\n' 'GET /metrics HTTP/9.9\r\n\r\n' 'GET\r\n\r\n' \
	'GET /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n'; do
	timeout 5 bash -c "exec 8<>/dev/tcp/127.0.0.1/$PORT; printf '$junk' >&8; cat <&8 >/dev/null" 2>/dev/null
done
assert_eq "and the endpoint still answers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")"

# a real Prometheus scrapes it
PPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$E2E_TMP/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: rampart
    static_configs: [{targets: ["127.0.0.1:$PORT"]}]
YAML
bg prometheus prometheus --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT"
Q="http://127.0.0.1:$PPORT/api/v1/query"
query() { # PROMQL: the first sample's value, "" if none
	curl -s -G --data-urlencode "query=$1" "$Q" |
		"$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null
}
SEL='rampart_rule_packets_total{chain="FORWARD",position="2"}'
wait_for "Prometheus has scraped rampartd" 30 sh -c "[ -n \"\$(curl -s -G --data-urlencode 'query=up{job=\"rampart\"}==1' '$Q' | grep -o '\"value\"')\" ]" ||
	die "Prometheus never scraped rampartd: $(tail -5 "$E2E_TMP/prometheus.log")"
v1=$(query "$SEL")
log "Prometheus sees the rule at $v1 packets"
# four pings of their own: four NEW connections for rule 2 (the echoes of
# one ping after the first are ESTABLISHED, rule 1's)
for i in 1 2 3 4; do
	check "one more ping ($i)" in_lan ping -c 1 -W 2 10.77.2.2
done
wait_for "Prometheus sees the rule counter rise" 15 sh -c "v=\$(curl -s -G --data-urlencode 'query=$SEL > ${v1:-0}' '$Q' | grep -o '\"value\"'); [ -n \"\$v\" ]"
v2=$(query "$SEL")
log "... now $v2"
assert_ge "the counter Prometheus stored rose by the pings" "${v2:-0}" $((${v1:-0} + 4))

rp_stop
e2e_finish
