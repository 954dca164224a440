#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Regenerate tests/rules/golden/*.save with the real kernel: each NAME.rules
# is restored into a throwaway network namespace with iptables-restore -c
# (ip6tables-restore when NAME ends in -v6; NAME.ipset, if present, is
# loaded with ipset restore first; NAME.nfct's lines are `nfct add timeout`
# policies made first) and saved back with iptables-save (-c when
# NAME contains -counters), without the "# Generated"/"# Completed" lines.
# Also NAME.list and NAME.spec: for every table the file names (in the order
# raw, mangle, nat, filter), a line "# table T" followed by what
# `ip(6)tables -t T -L -n -v -x --line-numbers` (NAME.list) or
# `ip(6)tables -t T -S -v` (NAME.spec) prints.
# Needs root, iptables (nft backend) and ipset. Usage: make-golden.sh [NAME.rules...]
set -euo pipefail
dir=$(cd "$(dirname "$0")/golden" && pwd)
ns="rp-golden-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ $# -eq 0 ]; then
	set -- "$dir"/*.rules
fi
for f in "$@"; do
	base=${f%.rules}
	name=$(basename "$base")
	v=""; c=""
	case "$name" in *-v6*) v=6 ;; esac
	case "$name" in *-counters*) c=-c ;; esac
	ip netns add "$ns"
	if [ -f "$base.ipset" ]; then
		ip netns exec "$ns" ipset restore < "$base.ipset"
	fi
	if [ -f "$base.nfct" ]; then # the timeout policies CT --timeout names
		while read -r line; do
			# shellcheck disable=SC2086
			ip netns exec "$ns" nfct add timeout $line
		done < "$base.nfct"
	fi
	if ! ip netns exec "$ns" "ip${v}tables-restore" -c < "$f"; then
		echo "make-golden: the kernel refused $f" >&2
		exit 1
	fi
	ip netns exec "$ns" "ip${v}tables-save" $c | grep -v '^# ' > "$base.save.tmp"
	: > "$base.list.tmp"
	: > "$base.spec.tmp"
	for t in raw mangle nat filter; do
		grep -q "^\*$t\b" "$f" || continue
		{ echo "# table $t"; ip netns exec "$ns" "ip${v}tables" -t "$t" -L -n -v -x --line-numbers; } >> "$base.list.tmp"
		{ echo "# table $t"; ip netns exec "$ns" "ip${v}tables" -t "$t" -S -v; } >> "$base.spec.tmp"
	done
	mv "$base.save.tmp" "$base.save"
	mv "$base.list.tmp" "$base.list"
	mv "$base.spec.tmp" "$base.spec"
	ip netns exec "$ns" ipset destroy 2>/dev/null || true
	ip netns del "$ns"
	echo "make-golden: $name.save $name.list $name.spec"
done
