#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run every libFuzzer target for SECONDS on a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target>/ stays untouched). One line per target; exits
# non-zero if any target found a crash, a leak, a timeout or sanitizer error.
# Reproducers and logs of failures go to BUILDDIR/fuzz-artifacts/<target>/.
#
#   tests/fuzz/run.sh BUILDDIR SECONDS      e.g. tests/fuzz/run.sh build-san 10
set -u

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
	echo "usage: $0 BUILDDIR SECONDS" >&2
	exit 2
fi
build=$(cd "$1" && pwd) || exit 2
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rampart-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# Sanitizer findings must end the run (UBSan only reports by default).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

rc=0
# target:binary-dir:seed-dir (relative to the source tree)
targets="parse:tests/fuzz:tests/fuzz/corpus/parse cfg:tests/fuzz:tests/fuzz/corpus/cfg ipt:tests/rules:tests/rules/fuzz-seeds rules_yaml:tests/rules:tests/rules/fuzz-seeds-yaml ct:tests/fuzz:tests/fuzz/corpus/ct reasm:tests/fuzz:tests/fuzz/corpus/reasm ctl:tests/fuzz:tests/fuzz/corpus/ctl"
root=$(cd "$here/../.." && pwd)
for spec in $targets; do
	IFS=: read -r t bdir sdir <<<"$spec"
	name=fuzz_$t
	bin=$build/$bdir/$name
	if [ ! -x "$bin" ]; then
		echo "$name: MISSING ($bin not built: configure with CC=clang -Dfuzz=true)"
		rc=1
		continue
	fi
	corpus=$work/$t
	mkdir -p "$corpus"
	cp "$root/$sdir"/* "$corpus/"
	seeds=$(ls "$corpus" | wc -l)
	art=$build/fuzz-artifacts/$name
	mkdir -p "$art"
	dict=()
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	log=$work/$name.log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$corpus" >"$log" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	now=$(ls "$corpus" | wc -l)
	if [ $st -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
		echo "$name: ok, ${runs:-?} runs in ${secs}s, coverage ${cov:-?} edges, corpus $seeds -> $now"
	else
		cp "$log" "$art/last-failure.log"
		what=$(grep -m1 -E 'ERROR: |runtime error:|deadly signal|Test unit written' "$log")
		echo "$name: FAIL (exit $st): ${what:-see log}; log and reproducer in $art/"
		rc=1
	fi
done
exit $rc
