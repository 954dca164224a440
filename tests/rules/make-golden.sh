#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Regenerate tests/rules/golden/*.save with the real kernel: each NAME.rules
# is restored into a throwaway network namespace with iptables-restore -c
# (ip6tables-restore when NAME ends in -v6; NAME.ipset, if present, is
# loaded with ipset restore first) and saved back with iptables-save (-c when
# NAME contains -counters), without the "# Generated"/"# Completed" lines.
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
	if ! ip netns exec "$ns" "ip${v}tables-restore" -c < "$f"; then
		echo "make-golden: the kernel refused $f" >&2
		exit 1
	fi
	ip netns exec "$ns" "ip${v}tables-save" $c | grep -v '^# ' > "$base.save.tmp"
	mv "$base.save.tmp" "$base.save"
	ip netns exec "$ns" ipset destroy 2>/dev/null || true
	ip netns del "$ns"
	echo "make-golden: $name.save"
done
