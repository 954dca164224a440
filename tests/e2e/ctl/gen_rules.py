#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# gen_rules.py N VARIANT: an iptables-restore file with N filler rules in
# FORWARD (TCP drops from 198.18.0.0/15 addresses that test traffic never
# uses) and the two rules test_ctl_swap.sh's traffic depends on: UDP to
# port 9000 is accepted, UDP to 9001 dropped (policy DROP behind them).
# VARIANT a puts the filler first and the accept last; b the other way
# round with other filler addresses, so that every swap really changes
# the classifier.
import sys

n = int(sys.argv[1])
variant = sys.argv[2]
base = 18 if variant == "a" else 19
out = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
keep = ["-A FORWARD -p udp -m udp --dport 9000 -j ACCEPT",
        "-A FORWARD -p udp -m udp --dport 9001 -j DROP",
        "-A FORWARD -p icmp -j ACCEPT"]
filler = ["-A FORWARD -s 198.%d.%d.%d/32 -p tcp -m tcp --dport %d -j DROP"
          % (base, (i >> 8) & 255, i & 255, 1000 + i % 50000) for i in range(n)]
if n > 65536:
    filler = ["-A FORWARD -s %d.%d.%d.%d/32 -p tcp -m tcp --dport %d -j DROP"
              % (100 + (i >> 16), (i >> 8) & 255, i & 255, base, 1000 + i % 50000)
              for i in range(n)]
out += (filler + keep) if variant == "a" else (keep + filler)
out.append("COMMIT")
sys.stdout.write("\n".join(out) + "\n")
