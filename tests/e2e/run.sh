#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# tests/e2e/run.sh [BUILD [SAN]]: the end-to-end suite.
#   BUILD  meson build directory of the normal build (default build)
#   SAN    meson build directory of the ASan+UBSan build (default build-san)
# Runs every tests/e2e/test_*.sh with BUILD's rampartd (test_malformed.sh
# drives SAN's), then test_router.sh (one worker), test_filter.sh,
# test_conntrack.sh, test_nat.sh, test_metrics.sh, test_ctl.sh and
# test_helpers.sh once more with SAN's rampartd.
# Prints PASS/FAIL per test and "e2e: N passed, M failed"; exits
# non-zero on any failure. Each test gets at most E2E_TEST_TIMEOUT seconds
# (default 300). A failing test's output is printed; all of them are kept
# in a log directory. Needs root and ip netns (a test that lacks them
# fails, it is never skipped).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-build}
SAN=${2:-build-san}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
case $SAN in /*) ;; *) SAN=$ROOT/$SAN ;; esac
TIMEOUT=${E2E_TEST_TIMEOUT:-300}

export RAMPARTD=$BUILD/rampartd
export RAMPARTD_SAN=$SAN/rampartd

LOGDIR=$(mktemp -d /tmp/rampart-e2e-logs.XXXXXX)
PASSED=0
FAILED=0
FAILED_NAMES=()
T0=$(date +%s)
CUR=

on_signal() {
	echo "e2e: interrupted" >&2
	# the test runs in timeout's own process group: pass the signal on so
	# that its trap can clean up (rampartd, servers, namespaces)
	[ -n "$CUR" ] && kill -TERM "$CUR" 2>/dev/null && wait "$CUR" 2>/dev/null
	echo "e2e: $PASSED passed, $((FAILED + 1)) failed"
	exit 130
}
trap on_signal INT TERM

leftovers() {
	# read-only: what e2e tests may leave behind if their cleanup failed
	ip netns list 2>/dev/null | awk '$1 ~ /^e2e-/ { print "netns " $1 }'
	ip -br link 2>/dev/null | awk '$1 ~ /^[rbmc][0-9]+-(lan|wan)0(@|$)/ { print "link " $1 }'
	pgrep -af -- '-c /tmp/rampart-e2e\.' 2>/dev/null | sed 's/^/process /'
}

# run NAME ENV... -- SCRIPT
run() {
	local name=$1 log t0 rc before after
	shift
	local -a envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	log=$LOGDIR/$(echo "$name" | tr -c 'A-Za-z0-9_.\n-' '_').log
	before=$(leftovers)
	t0=$(date +%s)
	env "${envs[@]}" timeout -k 30 "$TIMEOUT" bash "$@" >"$log" 2>&1 &
	CUR=$!
	wait "$CUR"
	rc=$?
	CUR=
	after=$(leftovers)
	local left
	left=$(comm -13 <(echo "$before" | sort) <(echo "$after" | sort) | grep -v '^$')
	if [ -n "$left" ]; then
		echo "left behind after the test:" >>"$log"
		echo "$left" >>"$log"
		[ $rc = 0 ] && rc=99
	fi
	local secs=$(($(date +%s) - t0))
	if [ $rc = 0 ]; then
		PASSED=$((PASSED + 1))
		printf 'PASS  %-40s %4ss  (%s)\n' "$name" "$secs" "$(grep -Eo '[0-9]+ checks passed' "$log" | tail -n1)"
		# known issues stay visible even when the test passes
		grep -E '^\[[^]]*\]   KNOWN ' "$log" | sed 's/^\[[^]]*\]   /      /' | sort -u
	else
		FAILED=$((FAILED + 1))
		FAILED_NAMES+=("$name")
		local why="exit status $rc"
		[ $rc = 124 ] && why="timed out after ${TIMEOUT}s"
		[ $rc = 99 ] && why="left namespaces, links or processes behind"
		printf 'FAIL  %-40s %4ss  (%s)\n' "$name" "$secs" "$why"
		echo "---------------- $name: output ----------------"
		cat "$log"
		echo "---------------- end of $name ----------------"
	fi
}

echo "e2e: rampartd $RAMPARTD, sanitizer build $RAMPARTD_SAN, logs in $LOGDIR"
for bin in "$RAMPARTD" "$RAMPARTD_SAN"; do
	if [ ! -x "$bin" ]; then
		echo "e2e: FATAL: $bin not found: build it first (make build san)" >&2
		echo "e2e: 0 passed, 1 failed"
		exit 1
	fi
done

for t in "$HERE"/test_*.sh; do
	run "$(basename "$t")" -- "$t"
done
run "test_router.sh [sanitizer build, 1 worker]" RAMPARTD="$RAMPARTD_SAN" E2E_WORKERS=1 -- "$HERE/test_router.sh"
run "test_filter.sh [sanitizer build]" RAMPARTD="$RAMPARTD_SAN" -- "$HERE/test_filter.sh"
run "test_conntrack.sh [sanitizer build]" RAMPARTD="$RAMPARTD_SAN" -- "$HERE/test_conntrack.sh"
run "test_nat.sh [sanitizer build]" RAMPARTD="$RAMPARTD_SAN" -- "$HERE/test_nat.sh"
run "test_metrics.sh [sanitizer build]" RAMPARTD="$RAMPARTD_SAN" -- "$HERE/test_metrics.sh"
run "test_ctl.sh [sanitizer build]" RAMPARTD="$RAMPARTD_SAN" -- "$HERE/test_ctl.sh"
run "test_helpers.sh [sanitizer build]" RAMPARTD="$RAMPARTD_SAN" -- "$HERE/test_helpers.sh"
run "test_frag.sh [sanitizer build]" RAMPARTD="$RAMPARTD_SAN" -- "$HERE/test_frag.sh"

echo "e2e: $(($(date +%s) - T0)) s; failed: ${FAILED_NAMES[*]:-none}"
echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
