#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make demo / make demo-stop: the fixed demo topology (scripts/topology.sh)
# with rampartd routing between rampart-lan and rampart-wan.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=/run/rampart-demo
BUILD=${BUILD:-build}

stop() {
	if [ -f "$RUN/rampartd.pid" ]; then
		pid=$(cat "$RUN/rampartd.pid")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid"
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	if [ -f "$RUN/http.pid" ]; then
		kill "$(cat "$RUN/http.pid")" 2>/dev/null || true
	fi
	scripts/topology.sh down
	rm -rf "$RUN"
	echo "demo stopped: namespaces, veths and processes removed"
}

start() {
	if [ "$(id -u)" != 0 ]; then
		echo "make demo must run as root (network namespaces, DPDK)" >&2
		exit 1
	fi
	[ -d "$RUN" ] && stop >/dev/null
	mkdir -p "$RUN/www"
	scripts/topology.sh up
	echo "Hello from rampart-wan, served across rampartd" >"$RUN/www/index.html"
	"$BUILD/rampartd" --check -c conf/demo/rampart.yaml
	setsid "$BUILD/rampartd" -c conf/demo/rampart.yaml >"$RUN/rampartd.log" 2>&1 </dev/null &
	echo $! >"$RUN/rampartd.pid"
	for _ in $(seq 100); do
		grep -q "running:" "$RUN/rampartd.log" && break
		if ! kill -0 "$(cat "$RUN/rampartd.pid")" 2>/dev/null; then
			cat "$RUN/rampartd.log" >&2
			echo "rampartd failed to start" >&2
			stop >/dev/null
			exit 1
		fi
		sleep 0.1
	done
	ip netns exec rampart-wan setsid /usr/bin/python3 -m http.server -b :: -d "$RUN/www" 8080 \
		>"$RUN/http.log" 2>&1 </dev/null &
	echo $! >"$RUN/http.pid"
	sleep 1
	echo
	echo "== rampartd is routing between rampart-lan (10.77.1.0/24) and rampart-wan (10.77.2.0/24)"
	echo "\$ ip netns exec rampart-lan ping -c 3 10.77.2.2"
	ip netns exec rampart-lan ping -c 3 -i 0.3 10.77.2.2
	echo "\$ ip netns exec rampart-lan ping -6 -c 3 fd77:2::2"
	ip netns exec rampart-lan ping -6 -c 3 -i 0.3 fd77:2::2
	echo "\$ ip netns exec rampart-lan curl http://10.77.2.2:8080/"
	ip netns exec rampart-lan curl -sS -m 5 http://10.77.2.2:8080/
	echo "\$ ip netns exec rampart-lan curl http://10.77.2.2:8081/    # the ruleset refuses this port"
	ip netns exec rampart-lan curl -sS -m 5 http://10.77.2.2:8081/ 2>&1 || true
	sleep 0.2
	echo "\$ grep demo-8081 $RUN/rampartd.log    # its LOG rule, in the kernel's format"
	grep -m 1 'demo-8081' "$RUN/rampartd.log" || true
	echo "\$ ip netns exec rampart-lan traceroute -n 10.77.2.2"
	ip netns exec rampart-lan traceroute -n -q 1 -w 1 10.77.2.2
	echo "\$ ip netns exec rampart-wan curl http://10.77.1.2:8080/    # nothing from the WAN may start a connection"
	ip netns exec rampart-wan curl -sS -m 2 http://10.77.1.2:8080/ 2>&1 || true
	echo "\$ rampartctl conntrack -L    # the connections rampartd tracks"
	"$BUILD/tools/rampartctl" conntrack -L || true
	echo "\$ curl -s http://127.0.0.1:9617/metrics | grep rampart_rule_packets_total    # Prometheus' view"
	curl -s -m 2 http://127.0.0.1:9617/metrics | grep '^rampart_rule_packets_total' | head -n 5 || true
	echo
	echo "rampartd log: $RUN/rampartd.log (counters: kill -USR1 \$(cat $RUN/rampartd.pid))"
	echo "Try it: ip netns exec rampart-lan bash"
	echo "Stop everything: make demo-stop"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
