#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole suite, as `make test` runs it:
#   unit tests (gcc build), unit tests under ASan+UBSan (clang build),
#   libFuzzer targets for a short while, the iptables-save printer against
#   the kernel's own (tests/rules/kernel-diff.sh), rampart-bench smoke run (it checks
#   every packet was forwarded; no timing is asserted), end-to-end tests.
# usage: tests/run-all.sh BUILD SAN FUZZ_SECONDS
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SAN=${2:-build-san}
FUZZ_SECONDS=${3:-15}

if [ "$(id -u)" != 0 ]; then
	echo "tests/run-all.sh: the suite needs root (network namespaces, DPDK); refusing to skip" >&2
	exit 1
fi

results=()
failed=0
step() {
	local name=$1
	shift
	echo
	echo "=== $name: $*"
	local t0=$SECONDS
	if "$@"; then
		results+=("PASS  $name ($((SECONDS - t0)) s)")
	else
		results+=("FAIL  $name ($((SECONDS - t0)) s)")
		failed=$((failed + 1))
	fi
}

step "unit" meson test -C "$BUILD" --suite unit --print-errorlogs
step "unit-asan-ubsan" meson test -C "$SAN" --suite unit --print-errorlogs
step "fuzz" tests/fuzz/run.sh "$SAN" "$FUZZ_SECONDS"
step "rules-vs-kernel" tests/rules/kernel-diff.sh "$BUILD"
step "bench-smoke" "$BUILD/rampart-bench" --packets 2000000 all
step "e2e" tests/e2e/run.sh "$BUILD" "$SAN"

echo
echo "=== summary"
printf '%s\n' "${results[@]}"
total=${#results[@]}
echo "suite: $((total - failed)) of $total steps passed"
[ "$failed" -eq 0 ]
