#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The kernel's own LOG lines for the packet shapes of test_log.c.

Run as root, under the e2e lock (it toggles net.netfilter.nf_log_all_netns):

  flock /tmp/rampart-e2e.lock /usr/bin/python3 tests/rules/log-kernel-lines.py

Two network namespaces joined by a veth; in the receiving one a raw
PREROUTING LOG rule per source address (without and with
--log-ip-options: the sender uses two addresses), no conntrack (so no
defragmentation before the rule). Every packet is sent with scapy, and the
kernel's line is read back from dmesg. Prints test_log.c's table
(tests/rules/log_kernel_lines.h): per packet, the bytes, the flags, and the
line from SRC= on (IN=, OUT= and MAC= are the test's own):

  ... log-kernel-lines.py >tests/rules/log_kernel_lines.h
"""
import os
import subprocess
import sys
import time

from scapy.all import (IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6DestUnreach,
                       ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6ParamProblem,
                       ICMPv6MLQuery, ICMPv6MLReport, ICMPv6MLDone, ICMPv6ND_NS,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, PadN, Raw, Ether, sendp, raw, IPOption_RR,
                       IPOption_NOP)
from scapy.layers.ipsec import ESP, AH

NS_A, NS_B = "klogA%d" % os.getpid(), "klogB%d" % os.getpid()
S4 = {"n": "10.99.0.1", "o": "10.99.0.3"}
S6 = {"n": "fd99::1", "o": "fd99::3"}
D4, D6 = "10.99.0.2", "fd99::2"
PAY = Raw(b"payload!")


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True).stdout


def up():
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", "kla", "netns", NS_A, "type", "veth", "peer", "name", "klb", "netns", NS_B)
    for ns, dev, a4, a6 in ((NS_A, "kla", "10.99.0.1/24", "fd99::1/64"), (NS_B, "klb", D4 + "/24", D6 + "/64")):
        sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "addr", "add", a4, "dev", dev, ns=ns)
        sh("ip", "-6", "addr", "add", a6, "dev", dev, "nodad", ns=ns)
    for k, flags in (("n", []), ("o", ["--log-ip-options"])):
        sh("iptables", "-t", "raw", "-A", "PREROUTING", "-s", S4[k], "-j", "LOG", "--log-prefix",
           "klg-%s: " % k, "--log-tcp-options", "--log-tcp-sequence", *flags, ns=NS_B)
        sh("ip6tables", "-t", "raw", "-A", "PREROUTING", "-s", S6[k], "-j", "LOG", "--log-prefix",
           "klg-%s: " % k, "--log-tcp-options", "--log-tcp-sequence", *flags, ns=NS_B)


def down():
    sh("ip", "netns", "del", NS_A, check=False)
    sh("ip", "netns", "del", NS_B, check=False)


def shapes(k):
    """(name, packet) for the source of k ("n" without, "o" with --log-ip-options)."""
    s4, s6 = S4[k], S6[k]
    v6 = IPv6(src=s6, dst=D6, fl=5, hlim=64)
    v4 = IP(src=s4, dst=D4, id=77, ttl=64)
    udp = UDP(sport=5000, dport=53)
    quoted = IPv6(src=D6, dst=s6, fl=7, hlim=63) / AH(spi=0x1234, seq=1, nh=17, payloadlen=4, icv=b"\0" * 12) / udp / PAY
    hbh = IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)])
    out = [
        ("hbh_udp", v6 / hbh / udp / PAY),
        ("rt_dst_tcp", v6 / IPv6ExtHdrRouting(segleft=0) / IPv6ExtHdrDestOpt() / TCP(sport=1, dport=2, flags="S", seq=9)),
        ("frag_first", v6 / IPv6ExtHdrFragment(offset=0, m=1, id=0xabcdef01) / udp / PAY),
        ("frag_atomic", v6 / IPv6ExtHdrFragment(offset=0, m=0, id=2) / ICMPv6EchoRequest(id=3, seq=4)),
        ("frag_later_m_udp", v6 / IPv6ExtHdrFragment(offset=2, m=1, id=3, nh=17) / Raw(b"x" * 16)),
        ("frag_last_tcp", v6 / IPv6ExtHdrFragment(offset=3, m=0, id=4, nh=6) / Raw(b"x" * 16)),
        ("frag_later_icmp6", v6 / IPv6ExtHdrFragment(offset=1, m=0, id=5, nh=58) / Raw(b"x" * 8)),
        ("frag_later_dst", v6 / IPv6ExtHdrFragment(offset=1, m=1, id=6, nh=60) / Raw(b"x" * 8)),
        ("frag_later_ah", v6 / IPv6ExtHdrFragment(offset=1, m=0, id=7, nh=51) / Raw(b"x" * 16)),
        ("frag_later_esp", v6 / IPv6ExtHdrFragment(offset=1, m=0, id=8, nh=50) / Raw(b"x" * 16)),
        ("frag_later_none", v6 / IPv6ExtHdrFragment(offset=1, m=0, id=9, nh=59) / Raw(b"x" * 8)),
        ("ah6_udp", v6 / AH(spi=0x10001, seq=2, nh=17, payloadlen=4, icv=b"\0" * 12) / udp / PAY),
        ("esp6", v6 / ESP(spi=0x2002, seq=3, data=b"e" * 16)),
        ("hbh_esp6", v6 / hbh / ESP(spi=0x2003, seq=3, data=b"e" * 16)),
        ("paramprob6", v6 / ICMPv6ParamProblem(code=1, ptr=40) / quoted),
        ("unreach6_frag", v6 / ICMPv6DestUnreach(code=4) /
         IPv6(src=D6, dst=s6, fl=7) / IPv6ExtHdrFragment(offset=0, m=1, id=10) / TCP(sport=7, dport=8, flags="SA", seq=1, ack=2)),
        ("toobig6", v6 / ICMPv6PacketTooBig(mtu=1280) / IPv6(src=D6, dst=s6, nh=17)),
        ("timex6_cut", v6 / ICMPv6TimeExceeded() / Raw(b"\x60\0\0\0\0\0")),
        ("unreach6_empty", v6 / ICMPv6DestUnreach(code=1)),
        ("mld_query", v6 / ICMPv6MLQuery()),
        ("mld_report", v6 / ICMPv6MLReport()),
        ("mld_done", v6 / ICMPv6MLDone()),
        ("ns6", v6 / ICMPv6ND_NS(tgt=D6)),
        ("icmp6_cut", IPv6(src=s6, dst=D6, nh=58) / Raw(b"\x80\0\0\0\0\1")),
        ("udp6_cut", IPv6(src=s6, dst=D6, nh=17) / Raw(b"\x13\x88\0\x35")),
        ("tcp6_cut", IPv6(src=s6, dst=D6, nh=6) / Raw(b"\x13\x88\0\x35" * 4)),
        ("none6", IPv6(src=s6, dst=D6, nh=59) / Raw(b"zz")),
        ("mh6", IPv6(src=s6, dst=D6, nh=135) / Raw(b"\0" * 8)),
        ("udplite6", IPv6(src=s6, dst=D6, nh=136) / Raw(b"\x13\x88\0\x35\0\x08\0\0")),
        ("dst_cut", IPv6(src=s6, dst=D6, nh=60) / Raw(b"\x06")),
        ("dst_long_tcp", IPv6(src=s6, dst=D6, nh=60) / Raw(b"\x06\x01" + b"\0" * 6)),
        ("frag_cut", IPv6(src=s6, dst=D6, nh=44) / Raw(b"\x11\0\0\0")),
        ("ah6_cut", IPv6(src=s6, dst=D6, nh=51) / Raw(b"\x11\x04\0\0\0\0\1")),
        ("esp6_cut", IPv6(src=s6, dst=D6, nh=50) / Raw(b"\0\0\0\1\0")),
        ("ah4", v4 / AH(spi=0x30003, seq=4, nh=17, payloadlen=4, icv=b"\0" * 12) / udp / PAY),
        ("esp4", v4 / ESP(spi=0x4004, seq=5, data=b"e" * 16)),
        ("ah4_later", IP(src=s4, dst=D4, id=78, proto=51, frag=4) / Raw(b"x" * 16)),
        ("esp4_later", IP(src=s4, dst=D4, id=79, proto=50, frag=4, flags="MF") / Raw(b"x" * 16)),
        ("tcp4_later", IP(src=s4, dst=D4, id=80, proto=6, frag=5) / Raw(b"x" * 16)),
        ("udp4_first", IP(src=s4, dst=D4, id=81, flags="MF") / udp / Raw(b"x" * 16)),
        ("ah4_cut", IP(src=s4, dst=D4, id=82, proto=51) / Raw(b"\x11\x04\0\0\0\0\0\1\0\0")),
        ("esp4_cut", IP(src=s4, dst=D4, id=83, proto=50) / Raw(b"\0\0\0\1\0\0")),
        ("icmp4_cut", IP(src=s4, dst=D4, id=84, proto=1) / Raw(b"\x08\0\0\0\0\1")),
        ("icmp4_param", v4 / ICMP(type=12, code=0, ptr=20) / IP(src=D4, dst=s4, id=5) / UDP(sport=1, dport=2)),
        ("icmp4_redirect", v4 / ICMP(type=5, code=1, gw="10.99.0.254") / IP(src=D4, dst=s4, id=6) / UDP(sport=1, dport=2)),
        ("icmp4_fragneeded", v4 / ICMP(type=3, code=4, nexthopmtu=1400) / IP(src=D4, dst=s4, id=7, flags="DF") / TCP(sport=1, dport=2, flags="S")),
        ("icmp4_unreach_short", v4 / ICMP(type=3, code=1) / Raw(b"\x45\0\0\x14")),
        ("icmp4_timestamp_short", v4 / ICMP(type=13) / Raw(b"\0" * 8)),
        ("icmp4_quote_opts", v4 / ICMP(type=11) / IP(src=D4, dst=s4, id=8, options=[IPOption_RR(routers=["1.2.3.4"])]) / Raw(b"\0" * 4)),
        ("ip4_opts_udp", IP(src=s4, dst=D4, id=85, options=[IPOption_NOP(), IPOption_RR(routers=["5.6.7.8"])]) / udp / PAY),
        ("gre4", IP(src=s4, dst=D4, id=86, proto=47) / Raw(b"\0" * 8)),
        ("tcp4_ae", v4 / TCP(sport=1, dport=2, flags=0x1c2, seq=7, options=[("NOP", None), ("NOP", None)])),
        ("tcp4_res", v4 / TCP(sport=1, dport=2, flags="A", reserved=7, seq=8)),
    ]
    return out


def main():
    flags = {"n": "RULES_LOG_TCPOPT | RULES_LOG_TCPSEQ", "o": "RULES_LOG_TCPOPT | RULES_LOG_TCPSEQ | RULES_LOG_IPOPT"}
    down()
    up()
    was = sh("sysctl", "-n", "net.netfilter.nf_log_all_netns").strip()
    try:
        mac_b = sh("cat", "/sys/class/net/klb/address", ns=NS_B).strip()
        sh("sysctl", "-qw", "net.netfilter.nf_log_all_netns=1")
        # the veth's own neighbour advertisements (hop limit 255, left out
        # of the lines read back) go first
        time.sleep(2)
        sent = []
        for k in ("n", "o"):
            for name, p in shapes(k):
                b = raw(p)
                sent.append((k, name, b))
        # send from NS_A: scapy in this process needs the namespace
        import pickle
        blob = pickle.dumps([(b, mac_b) for _, _, b in sent])
        code = ("import pickle,sys,time\nfrom scapy.all import Ether,sendp,conf\nconf.verb=0\n"
                "for i,(b,m) in enumerate(pickle.loads(sys.stdin.buffer.read())):\n"
                "    v=0x86dd if b[0]>>4==6 else 0x800\n"
                "    sendp(Ether(dst=m,type=v)/b,iface='kla')\n    time.sleep(0.02)\n")
        subprocess.run(["ip", "netns", "exec", NS_A, sys.executable, "-c", code], input=blob, check=True)
        time.sleep(1)
        lines = [l for l in subprocess.run(["dmesg"], capture_output=True, text=True).stdout.splitlines()
                 if "klg-" in l and "IN=klb" in l and "HOPLIMIT=255" not in l]
        lines = lines[-len(sent):]
        if len(lines) != len(sent):
            sys.exit("got %d kernel lines for %d packets" % (len(lines), len(sent)))
        print("/* SPDX-License-Identifier: BSD-3-Clause */")
        print("/* Generated by tests/rules/log-kernel-lines.py from the LOG lines of Linux %s:"
              % os.uname().release)
        print(" * name/(n: without, o: with --log-ip-options), flags, packet, length, line from SRC= */")
        for (k, name, b), line in zip(sent, lines):
            assert ("klg-%s:" % k) in line, (name, line)
            tail = line[line.index("SRC="):]
            hexs = ", ".join("0x%02x" % c for c in b)
            print("\t{\"%s/%s\", %s,\n\t (const uint8_t[]){%s}, %d,\n\t \"%s\"}," % (
                name, k, flags[k], hexs, len(b), tail.replace('"', '\\"')))
    finally:
        sh("sysctl", "-qw", "net.netfilter.nf_log_all_netns=" + was)
        down()


if __name__ == "__main__":
    main()
