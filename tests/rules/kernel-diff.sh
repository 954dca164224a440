#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Differential test against the Linux kernel: every golden NAME.rules is
# loaded into a throwaway network namespace with the kernel's
# ip(6)tables-restore and saved back with ip(6)tables-save; the same file
# goes through Rampart's parser and printer (ipt_conv). The two texts must
# be identical (the kernel's "# ..." comment lines aside). Then the listings
# of every table the file names: `-L -n -v -x --line-numbers`, `-L -n`,
# `-L -n -v` (abbreviated counters), `-S` and `-S -v`, and for every chain
# `-L CHAIN -n -v --line-numbers`, `-L CHAIN 1 -n -v`, `-S CHAIN -v` and
# `-S CHAIN 1`, must print exactly as the kernel's ip(6)tables prints them.
# NAME.nfct, if present, holds the timeout policies CT --timeout names, one
# `nfct add timeout` line each, made in the kernel's namespace first.
# Usage: kernel-diff.sh BUILDDIR   (needs root, iptables, ipset, nfct)
set -uo pipefail
build=${1:?usage: kernel-diff.sh BUILDDIR}
dir=$(cd "$(dirname "$0")/golden" && pwd)
conv=$build/tests/rules/ipt_conv
ns="rp-kdiff-$$"
work=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "kernel-diff: needs root (network namespaces); refusing to skip" >&2
	exit 1
fi
for c in iptables-restore ip6tables-save ipset "$conv"; do
	command -v "$c" >/dev/null || [ -x "$c" ] || { echo "kernel-diff: $c missing" >&2; exit 1; }
done

fail=0 n=0 nl=0
for f in "$dir"/*.rules; do
	base=${f%.rules}
	name=$(basename "$base")
	v="" c="" six="" sets=()
	case "$name" in *-v6*) v=6 six=-6 ;; esac
	case "$name" in *-counters*) c=-c ;; esac
	[ -f "$base.ipset" ] && sets=(-s "$base.ipset")
	ip netns add "$ns"
	[ -f "$base.ipset" ] && ip netns exec "$ns" ipset restore <"$base.ipset"
	# NAME.nfct: the timeout policies CT --timeout names (nfct add timeout LINE)
	if [ -f "$base.nfct" ]; then
		while read -r line; do
			# shellcheck disable=SC2086
			ip netns exec "$ns" nfct add timeout $line
		done <"$base.nfct"
	fi
	if ! ip netns exec "$ns" "ip${v}tables-restore" -c <"$f" 2>"$work/err"; then
		echo "kernel-diff: FAIL $name: the kernel refused it: $(cat "$work/err")"
		fail=1
	else
		ip netns exec "$ns" "ip${v}tables-save" $c | grep -v '^# ' >"$work/kernel"
		if ! "$conv" $six $c "${sets[@]}" <"$f" >"$work/rampart" 2>"$work/err"; then
			echo "kernel-diff: FAIL $name: rampart refused it: $(cat "$work/err")"
			fail=1
		elif ! diff -u "$work/kernel" "$work/rampart" >"$work/diff"; then
			echo "kernel-diff: FAIL $name: rampart prints differently from the kernel:"
			head -40 "$work/diff"
			fail=1
		else
			n=$((n + 1))
		fi
		# compare: what, kernel command (args after ip(6)tables), ipt_conv args
		compare() {
			local what=$1 kargs=$2 cargs=$3
			# shellcheck disable=SC2086
			ip netns exec "$ns" "ip${v}tables" $kargs >"$work/kernel" 2>&1
			# shellcheck disable=SC2086
			if ! "$conv" $six "${sets[@]}" $cargs <"$f" >"$work/rampart" 2>"$work/err"; then
				echo "kernel-diff: FAIL $name ($what): rampart refused it: $(cat "$work/err")"
				fail=1
			elif ! diff -u "$work/kernel" "$work/rampart" >"$work/diff"; then
				echo "kernel-diff: FAIL $name ($what): rampart lists differently from the kernel:"
				head -40 "$work/diff"
				fail=1
			else
				nl=$((nl + 1))
			fi
		}
		for t in raw mangle nat filter; do
			grep -q "^\*$t\b" "$f" || continue
			for fl in "-L -n -v -x --line-numbers" "-L -n" "-L -n -v" "-S" "-S -v"; do
				mode=--list
				case "$fl" in -S*) mode=--spec ;; esac
				compare "-t $t $fl" "-t $t $fl" "$mode ${fl:2} -t $t"
			done
			chains=$(ip netns exec "$ns" "ip${v}tables" -t "$t" -S | awk '$1 == "-P" || $1 == "-N" { print $2 }')
			for ch in $chains; do
				compare "-t $t -L $ch" "-t $t -L $ch -n -v --line-numbers" \
					"--list -n -v --line-numbers -t $t --chain $ch"
				compare "-t $t -L $ch 1" "-t $t -L $ch 1 -n -v" "--list -n -v -t $t --chain $ch --rule 1"
				compare "-t $t -S $ch" "-t $t -S $ch -v" "--spec -v -t $t --chain $ch"
				compare "-t $t -S $ch 1" "-t $t -S $ch 1" "--spec -t $t --chain $ch --rule 1"
			done
		done
	fi
	ip netns exec "$ns" ipset destroy 2>/dev/null || true
	ip netns del "$ns"
done
echo "kernel-diff: $n rulesets print identically to the kernel's iptables-save, $nl listings (-L/-S) identically to ip(6)tables; failures: $fail"
exit $fail
