#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Connection-tracking sequences for tests/e2e/test_ct_kernel.sh.

The same packet sequences cross the kernel's router namespace and rampartd,
driven from both ends (the lan host and the wan host send in turn, as the
two ends of a connection would). The router's mangle FORWARD chain writes
each packet's conntrack state into its DSCP (ctstate.rules), so the
receiving end's capture tells which state every packet got.

  ctdiff.py drive LANNS WANNS   send every step from its side, in order
  ctdiff.py agent               (in a namespace) send the steps it is told
  ctdiff.py outcome LANPCAP WANPCAP
                                one line per step: delivered or not, and
                                the state (DSCP) it arrived with

A step is tagged with its number: IPv4 id, IPv6 flow label. A step may be
a list of packets (the fragments of a datagram, sent in the list's order):
its outcome is how many packets arrived and the state of the first (both
routers reassemble before tracking and fragment again as they received).
"""
import os
import random
import subprocess
import sys
import time

from scapy.all import (IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply,
                       ICMPv6DestUnreach, ICMPv6TimeExceeded, ICMPv6PacketTooBig, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrDestOpt, IPOption_LSRR, IPOption_Router_Alert, Raw, fragment6,
                       send, rdpcap, conf)
from scapy.layers.sctp import (SCTP, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkCookieEcho,
                               SCTPChunkCookieAck, SCTPChunkData, SCTPChunkSACK, SCTPChunkHeartbeatReq,
                               SCTPChunkHeartbeatAck, SCTPChunkShutdown, SCTPChunkShutdownAck,
                               SCTPChunkShutdownComplete, SCTPChunkAbort)

conf.verb = 0
C4, S4 = "10.77.1.2", "10.77.2.2"
C6, S6 = "fd77:1::2", "fd77:2::2"
STATES = {1: "NEW", 2: "ESTABLISHED", 3: "RELATED", 4: "INVALID", 5: "UNTRACKED"}


def steps():
    """(side, scapy packet without the tag) in order; side 'c' (lan) or 's' (wan).
    With CTDIFF_RANDOM=SEED:COUNT in the environment, random_steps()'s instead."""
    if os.environ.get("CTDIFF_SET") == "ecn":
        return ecn_steps()
    if os.environ.get("CTDIFF_SET") == "npt":
        return npt_steps()
    if os.environ.get("CTDIFF_SET") == "zones":
        return zones_steps()
    rnd = os.environ.get("CTDIFF_RANDOM")
    if rnd:
        seed, count = rnd.split(":")
        out = random_steps(int(seed), int(count))
        pick = os.environ.get("CTDIFF_PICK")  # "3,7,9": only those steps (to narrow a difference down)
        return [out[int(i) - 1] for i in pick.split(",")] if pick else out
    out = []

    def c(p):
        out.append(("c", p))

    def s(p):
        out.append(("s", p))

    def tcp(src, dst, sp, dp, fl, seq, ack=0, win=8192, data=b"", v6=False, opts=None):
        ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
        t = TCP(sport=sp, dport=dp, flags=fl, seq=seq, ack=ack, window=win,
                options=opts if opts is not None else [])
        return ip / t / Raw(data) if data else ip / t

    ws = [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]
    # 1. handshake, data both ways, close (window scaling negotiated)
    p = 41001
    c(tcp(C4, S4, p, 80, "S", 1000, opts=ws))
    s(tcp(S4, C4, 80, p, "SA", 5000, 1001, opts=ws))
    c(tcp(C4, S4, p, 80, "A", 1001, 5001, 502))
    c(tcp(C4, S4, p, 80, "PA", 1001, 5001, 502, b"x" * 100))
    s(tcp(S4, C4, 80, p, "A", 5001, 1101, 509))
    s(tcp(S4, C4, 80, p, "PA", 5001, 1101, 509, b"y" * 1000))
    c(tcp(C4, S4, p, 80, "A", 1101, 6001, 502))
    # out of window: far beyond what the server can receive; an ACK of
    # data never sent
    c(tcp(C4, S4, p, 80, "PA", 1101 + 3000000, 6001, 502, b"z" * 10))
    c(tcp(C4, S4, p, 80, "A", 1101, 6001 + 100000, 502))
    # a retransmission (in window)
    c(tcp(C4, S4, p, 80, "PA", 1001, 5001, 502, b"x" * 100))
    c(tcp(C4, S4, p, 80, "FA", 1101, 6001, 502))
    s(tcp(S4, C4, 80, p, "A", 6001, 1102, 509))
    s(tcp(S4, C4, 80, p, "FA", 6001, 1102, 509))
    c(tcp(C4, S4, p, 80, "A", 1102, 6002, 502))
    # reopened from TIME_WAIT with a new SYN
    c(tcp(C4, S4, p, 80, "S", 900000, opts=ws))
    s(tcp(S4, C4, 80, p, "SA", 70000, 900001, opts=ws))
    # 2. a SYN/ACK nobody asked for; a reply RST for nothing; flags no stack sends
    s(tcp(S4, C4, 81, 41002, "SA", 1, 1))
    s(tcp(S4, C4, 81, 41003, "R", 1))
    c(tcp(C4, S4, 41004, 82, "SF", 1))
    c(tcp(C4, S4, 41005, 82, "", 1))
    # 3. a connection picked up mid-stream (tcp_loose), then its reply
    c(tcp(C4, S4, 41006, 22, "A", 777000, 888000, 1000, b"m" * 20))
    s(tcp(S4, C4, 22, 41006, "A", 888000, 777020, 1000))
    c(tcp(C4, S4, 41006, 22, "A", 777020, 888000, 1000))
    # 4. refused: RST answering a SYN ends it at once; the next SYN is new
    c(tcp(C4, S4, 41007, 23, "S", 5555))
    s(tcp(S4, C4, 23, 41007, "RA", 0, 5556, 0))
    c(tcp(C4, S4, 41007, 23, "A", 5556, 1))
    c(tcp(C4, S4, 41007, 23, "S", 6666))
    # 5. RST validation on an established connection
    p = 41008
    c(tcp(C4, S4, p, 443, "S", 100))
    s(tcp(S4, C4, 443, p, "SA", 900, 101))
    c(tcp(C4, S4, p, 443, "A", 101, 901))
    c(tcp(C4, S4, p, 443, "PA", 101, 901, 8192, b"q" * 50))
    s(tcp(S4, C4, 443, p, "A", 901, 151))
    s(tcp(S4, C4, 443, p, "R", 5000000))       # far outside: invalid
    s(tcp(S4, C4, 443, p, "R", 901))           # exact: closes
    c(tcp(C4, S4, p, 443, "A", 151, 901))
    # 6. simultaneous open
    p = 41009
    c(tcp(C4, S4, p, 6000, "S", 300))
    s(tcp(S4, C4, 6000, p, "S", 800))
    c(tcp(C4, S4, p, 6000, "SA", 300, 801))
    s(tcp(S4, C4, 6000, p, "SA", 800, 301))
    s(tcp(S4, C4, 6000, p, "A", 801, 301))
    c(tcp(C4, S4, p, 6000, "A", 301, 801))
    # 7. UDP: request, reply, more; an answer to nothing
    c(IP(src=C4, dst=S4) / UDP(sport=41010, dport=53) / Raw(b"q1"))
    c(IP(src=C4, dst=S4) / UDP(sport=41010, dport=53) / Raw(b"q2"))
    s(IP(src=S4, dst=C4) / UDP(sport=53, dport=41010) / Raw(b"a1"))
    c(IP(src=C4, dst=S4) / UDP(sport=41010, dport=53) / Raw(b"q3"))
    s(IP(src=S4, dst=C4) / UDP(sport=53, dport=41011) / Raw(b"a?"))
    # 8. ICMP errors: about a tracked flow (RELATED), about nothing
    probe = IP(src=C4, dst=S4, id=4242) / UDP(sport=41012, dport=33434) / Raw(b"tr")
    c(probe)
    s(IP(src=S4, dst=C4) / ICMP(type=3, code=3) / bytes(probe)[:28])
    s(IP(src=S4, dst=C4) / ICMP(type=11, code=0) / bytes(probe)[:28])
    ghost = IP(src=C4, dst=S4, id=4243) / UDP(sport=41013, dport=33434)
    s(IP(src=S4, dst=C4) / ICMP(type=3, code=3) / bytes(ghost)[:28])
    # 9. ICMP echo: request, reply, a reply nobody asked for, another id
    c(IP(src=C4, dst=S4) / ICMP(type=8, id=41014, seq=1))
    s(IP(src=S4, dst=C4) / ICMP(type=0, id=41014, seq=1))
    s(IP(src=S4, dst=C4) / ICMP(type=0, id=41015, seq=1))
    c(IP(src=C4, dst=S4) / ICMP(type=13, id=41016))
    # 10. IPv6: TCP handshake, echo, a RELATED unreachable
    p = 41017
    c(tcp(C6, S6, p, 80, "S", 1, v6=True))
    s(tcp(S6, C6, 80, p, "SA", 500, 2, v6=True))
    c(tcp(C6, S6, p, 80, "A", 2, 501, v6=True))
    c(IPv6(src=C6, dst=S6) / ICMPv6EchoRequest(id=41018, seq=1))
    s(IPv6(src=S6, dst=C6) / ICMPv6EchoReply(id=41018, seq=1))
    s(IPv6(src=S6, dst=C6) / ICMPv6EchoReply(id=41019, seq=1))
    u6 = IPv6(src=C6, dst=S6) / UDP(sport=41020, dport=33434) / Raw(b"u6")
    c(u6)
    s(IPv6(src=S6, dst=C6) / ICMPv6DestUnreach(code=4) / bytes(u6))

    # 11. IPv6 fragments, reassembled before tracking (nf_defrag_ipv6)
    def frags(sp, size, fid, ext=None, mtu=1280):
        """a UDP datagram of size payload bytes from C6:sp, cut into
        fragments of at most mtu bytes (its checksum over the whole)"""
        ip = IPv6(src=C6, dst=S6)
        if ext is not None:
            ip = ip / ext
        d = ip / IPv6ExtHdrFragment(id=fid) / UDP(sport=sp, dport=9) / Raw((bytes(range(256)) * (size // 256 + 1))[:size])
        d = IPv6(bytes(d))  # checksums computed over the whole datagram
        return fragment6(d, mtu)

    c(frags(41021, 3000, 0x101))                      # in order
    s(IPv6(src=S6, dst=C6) / UDP(sport=9, dport=41021) / Raw(b"r"))   # its reply
    c(list(reversed(frags(41022, 3000, 0x102))))      # last first
    f = frags(41023, 3000, 0x103)
    c(f[:2] + [f[1]] + f[2:])                          # a duplicate
    f = frags(41024, 3000, 0x104)
    g = f[1].copy()
    g[IPv6ExtHdrFragment].offset -= 1                 # overlaps the first
    c([f[0], g] + f[2:])
    c(frags(41025, 20000, 0x105))                      # 16 fragments
    c(frags(41026, 3000, 0x106, IPv6ExtHdrDestOpt()))  # options before it
    c(frags(41027, 3000, 0x107, IPv6ExtHdrHopByHop())) # Hop-by-Hop before it
    atomic = IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment(id=0x108, m=0, offset=0) / UDP(sport=41028, dport=9) / Raw(b"a")
    c(atomic)                                          # atomic fragment: a whole packet
    s(IPv6(src=S6, dst=C6) / UDP(sport=9, dport=41028) / Raw(b"r"))

    # 12. L4 checksums (nf_conntrack_checksum): a bad one is INVALID and
    # starts nothing; a UDP checksum of 0 is none
    def bad(p):
        p.keepsum = True  # tagged() leaves the L4 checksum as it is
        return p
    c(bad(IP(src=C4, dst=S4) / UDP(sport=41030, dport=9, chksum=0x1234) / Raw(b"b")))
    c(IP(src=C4, dst=S4) / UDP(sport=41030, dport=9) / Raw(b"b"))
    c(bad(IP(src=C4, dst=S4) / UDP(sport=41031, dport=9, chksum=0) / Raw(b"z")))
    c(bad(tcp(C4, S4, 41032, 80, "S", 7000) / Raw(b"")))
    c(bad(IP(src=C4, dst=S4) / ICMP(type=8, id=41033, seq=1, chksum=0x4321)))
    c(bad(IPv6(src=C6, dst=S6) / UDP(sport=41034, dport=9, chksum=0x1234) / Raw(b"b")))

    # 13. IPv4 options: a loose source route (dropped after PREROUTING:
    # accept_source_route 0), a router alert (forwarded)
    c(IP(src=C4, dst=S4, options=[IPOption_LSRR(routers=["10.77.2.9"])]) / UDP(sport=41035, dport=9) / Raw(b"o"))
    c(IP(src=C4, dst=S4, options=[IPOption_Router_Alert()]) / UDP(sport=41036, dport=9) / Raw(b"o"))

    # 14. SCTP (nf_conntrack_proto_sctp): the handshake (INIT leaves the
    # association CLOSED, INIT_ACK COOKIE_WAIT, COOKIE_ECHO COOKIE_ECHOED,
    # COOKIE_ACK ESTABLISHED and ASSURED), data under each peer's tag,
    # heartbeats, the shutdown; wrong tags, malformed chunk lists, a bad
    # CRC32c and what cannot open an association are INVALID
    def sc(src, dst, sp, dp, tag, *chunks):
        ip = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
        p = ip / SCTP(sport=sp, dport=dp, tag=tag)
        for ch in chunks:
            p = p / ch
        return p

    def init(tag):
        return SCTPChunkInit(init_tag=tag, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)

    def init_ack(tag):
        return SCTPChunkInitAck(init_tag=tag, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=7)

    ctag, stag = 0x1111, 0x2222
    for C, S, p in ((C4, S4, 41040), (C6, S6, 41050)):
        c(sc(C, S, p, 9, 0, SCTPChunkData(tsn=1, data=b"d")))       # DATA opens nothing
        c(sc(C, S, p, 9, 5, init(ctag)))                             # an INIT with a tag
        c(sc(C, S, p, 9, 0, init(ctag)))
        s(sc(S, C, 9, p, ctag, init_ack(stag)))
        c(sc(C, S, p, 9, 0x99, SCTPChunkCookieEcho(cookie=b"cookie")))  # wrong tag
        c(sc(C, S, p, 9, stag, SCTPChunkCookieEcho(cookie=b"cookie")))
        s(sc(S, C, 9, p, ctag, SCTPChunkCookieAck()))
        c(sc(C, S, p, 9, stag, SCTPChunkData(tsn=1, data=b"hello")))
        s(sc(S, C, 9, p, ctag, SCTPChunkSACK(cumul_tsn_ack=1)))
        s(sc(S, C, 9, p, stag, SCTPChunkSACK(cumul_tsn_ack=1)))      # its peer's tag
        c(sc(C, S, p, 9, stag, SCTPChunkData(tsn=2, data=b"x"), SCTPChunkSACK(cumul_tsn_ack=1)))
        c(sc(C, S, p, 9, stag, SCTPChunkData(tsn=3, data=b"x"), SCTPChunkCookieEcho(cookie=b"c")))
        x = sc(C, S, p, 9, stag, SCTPChunkData(tsn=3, data=b"x"))
        x[SCTP].chksum = 0x1234
        c(bad(x))                                                    # a bad CRC32c
        s(sc(S, C, 9, p, ctag, SCTPChunkHeartbeatReq()))
        c(sc(C, S, p, 9, stag, SCTPChunkHeartbeatAck()))
        c(sc(C, S, p, 9, stag, SCTPChunkShutdown(cumul_tsn_ack=1)))
        s(sc(S, C, 9, p, ctag, SCTPChunkShutdownAck()))
        c(sc(C, S, p, 9, 0x99, SCTPChunkShutdownComplete()))         # wrong tag
        c(sc(C, S, p, 9, stag, SCTPChunkShutdownComplete()))
        c(sc(C, S, p, 9, 0, init(ctag)))                             # an INIT again, closed
        # an ABORT: the sender's tag, or with T its peer's
        c(sc(C, S, p + 1, 9, 0, init(ctag)))
        s(sc(S, C, 9, p + 1, 0x99, SCTPChunkAbort()))
        s(sc(S, C, 9, p + 1, 0, SCTPChunkAbort(TCB=1)))
        s(sc(S, C, 9, p + 1, ctag, SCTPChunkAbort()))
        # a HEARTBEAT on a path not seen before opens an entry
        c(sc(C, S, p + 2, 9, stag, SCTPChunkHeartbeatReq()))
        s(sc(S, C, 9, p + 2, ctag, SCTPChunkHeartbeatAck()))
        c(sc(C, S, p + 2, 9, stag, SCTPChunkData(tsn=9, data=b"y")))
        c(sc(C, S, p + 3, 9, 0, SCTPChunkAbort()))                   # out of the blue
        c(sc(C, S, p + 3, 9, 0, SCTPChunkCookieAck()))
        c(sc(C, S, p + 3, 9, 0, init(ctag), SCTPChunkData(tsn=1, data=b"z")))  # INIT with company

    # 15. UDP-Lite (its header checked: a checksum, a coverage within the
    # datagram; the kernel sums the pseudo-header with protocol 17, so the
    # sum here is made so) and DCCP (since Linux 6.16 the generic tracker:
    # an address pair, no ports)
    def ulite(src, dst, sp, dp, data, cov=None, ck=None):
        import struct
        hdr = struct.pack("!HHHH", sp, dp, 0 if cov is None else cov, 0)
        if ck is None:
            ph = bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + \
                struct.pack("!BBH", 0, 17, 8 + len(data))
            b = ph + hdr + data
            b += b"\0" * (len(b) & 1)
            t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
            while t >> 16:
                t = (t & 0xffff) + (t >> 16)
            ck = ~t & 0xffff
        return IP(src=src, dst=dst, proto=136) / Raw(hdr[:6] + struct.pack("!H", ck) + data)

    c(ulite(C4, S4, 41060, 9, b"lite"))
    s(ulite(S4, C4, 9, 41060, b"back"))
    c(ulite(C4, S4, 41061, 9, b"lite", ck=0))                         # no checksum
    c(ulite(C4, S4, 41062, 9, b"lite", cov=4))                        # coverage short of the header
    c(ulite(C4, S4, 41063, 9, b"lite", cov=40))                       # beyond the datagram

    def dccp(src, dst, sp, dp):
        return IP(src=src, dst=dst, proto=33) / Raw(sp.to_bytes(2, "big") + dp.to_bytes(2, "big") + bytes(12))

    c(dccp(C4, S4, 41064, 9))
    c(dccp(C4, S4, 41065, 9))       # the same pair: the same entry
    s(dccp(S4, C4, 9, 41065))
    c(dccp(C4, S4, 41066, 9))

    # 16. GRE (nf_conntrack_proto_gre): a plain tunnel has no keys (one
    # entry per address pair), ASSURED once answered; PPTP's enhanced GRE
    # (version 1) is keyed by the call id it carries, and a version 1
    # packet that is not PPP has no tuple (INVALID)
    inner = bytes(IP(src="192.0.2.1", dst="192.0.2.2") / ICMP())

    def gre(src, dst, hdr, payload=inner):
        return IP(src=src, dst=dst, proto=47) / Raw(hdr + payload)

    v0 = bytes([0, 0, 0x08, 0])
    c(gre(C4, S4, v0))
    s(gre(S4, C4, v0))
    c(gre(C4, S4, v0))
    c(gre(C4, S4, bytes([0x20, 0, 0x08, 0, 0, 0, 0, 77])))     # a key (version 0): no tuple key
    c(gre(C4, S4, bytes([0x30, 1, 0x88, 0x0b, 0, 4, 0, 5])))   # PPTP, call id 5
    s(gre(S4, C4, bytes([0x30, 1, 0x88, 0x0b, 0, 4, 0, 9])))   # the peer's call id 9
    c(gre(C4, S4, bytes([0x30, 1, 0x88, 0x0b, 0, 4, 0, 5])))
    c(gre(C4, S4, bytes([0x30, 1, 0x08, 0x00, 0, 4, 0, 6])))   # version 1, not PPP
    c(gre(C4, S4, bytes([0x30, 1, 0x88, 0x0b, 0, 4]), b""))   # PPTP cut short of its call id
    c(gre(C4, S4, bytes([0x30, 1, 0x88]), b""))                # not even a header
    # ICMP errors about a tunnel and about an SCTP association: RELATED
    s(IP(src=S4, dst=C4) / ICMP(type=3, code=1) / bytes(gre(C4, S4, v0))[:28])
    s(IP(src=S4, dst=C4) / ICMP(type=3, code=1) /
      bytes(sc(C4, S4, 41042, 9, stag, SCTPChunkData(tsn=9, data=b"y")))[:48])
    s(IP(src=S4, dst=C4) / ICMP(type=3, code=1) /                   # an association never seen
      bytes(sc(C4, S4, 41099, 9, stag, SCTPChunkData(tsn=9, data=b"y")))[:48])
    return out


def ecn_steps():
    """tests/e2e/test_ecn_kernel.sh: TCP segments with ECE/CWR and IP ECN
    codepoints through mangle FORWARD's -j ECN rules (mangle/ecn.rules:
    one behaviour per destination port), from the LAN host"""
    out = []
    for port in (7001, 7002, 7003, 7005, 7006):
        for fl, tos in (("SEC", 0), ("AE", 2), ("AC", 1), ("PA", 3), ("A", 0)):
            out.append(("c", IP(src=C4, dst=S4, tos=tos) /
                        TCP(sport=41100 + port % 100, dport=port, flags=fl, seq=1000, ack=1) / Raw(b"ecn")))
    for tos in (0, 1, 2, 3):
        out.append(("c", IP(src=C4, dst=S4, tos=tos) / UDP(sport=41199, dport=7004) / Raw(b"u")))
        out.append(("c", IP(src=C4, dst=S4, tos=tos) / UDP(sport=41199, dport=7009) / Raw(b"u")))
    return out


def zones_steps():
    """tests/e2e/test_ct_zones_kernel.sh: flows through the raw table's CT
    --zone rules (conntrack/zones.rules: a zone per port range, both
    directions, the original's or the reply's only, from the mark), each
    flow's packets from both ends in turn, and ICMP errors about them"""
    out = []

    def c(p):
        out.append(("c", p))

    def s(p):
        out.append(("s", p))

    for v6 in (False, True):
        cl, sv = (C6, S6) if v6 else (C4, S4)
        ip = (lambda a, b: IPv6(src=a, dst=b)) if v6 else (lambda a, b: IP(src=a, dst=b))
        for port in (5001, 5101, 5201, 5301, 5401, 5501, 5601, 5701):
            sp = 42000 + port % 1000 + (100 if v6 else 0)
            # UDP: a query, the answer, the query again, an answer from the
            # wan side that starts nothing of its own
            c(ip(cl, sv) / UDP(sport=sp, dport=port) / Raw(b"q"))
            s(ip(sv, cl) / UDP(sport=port, dport=sp) / Raw(b"a"))
            c(ip(cl, sv) / UDP(sport=sp, dport=port) / Raw(b"q"))
            s(ip(sv, cl) / UDP(sport=port, dport=sp) / Raw(b"a"))
            # the same ports the other way round: another connection or not
            s(ip(sv, cl) / UDP(sport=sp, dport=port) / Raw(b"w"))
            c(ip(cl, sv) / UDP(sport=port, dport=sp) / Raw(b"x"))
            # TCP: a handshake and data
            c(ip(cl, sv) / TCP(sport=sp, dport=port, flags="S", seq=1000))
            s(ip(sv, cl) / TCP(sport=port, dport=sp, flags="SA", seq=5000, ack=1001))
            c(ip(cl, sv) / TCP(sport=sp, dport=port, flags="A", seq=1001, ack=5001))
            c(ip(cl, sv) / TCP(sport=sp, dport=port, flags="PA", seq=1001, ack=5001) / Raw(b"d" * 10))
            s(ip(sv, cl) / TCP(sport=port, dport=sp, flags="A", seq=5001, ack=1011))
            # an ICMP error about the UDP flow, from the server's side (not
            # for 5401: there the answer has started a connection of its
            # own whose original tuple is the first's reply tuple, both in
            # zone 0 for a zoneless error, and which of the two a lookup
            # meets first is the kernel's hash chain order)
            if port == 5401:
                continue
            q = ip(cl, sv) / UDP(sport=sp, dport=port)
            if v6:
                s(IPv6(src=sv, dst=cl) / ICMPv6DestUnreach(code=4) / q)
            else:
                s(IP(src=sv, dst=cl) / ICMP(type=3, code=3) / q)
        # ICMP echo (zone 3 both ways in zones.rules), and its answer
        if v6:
            c(IPv6(src=cl, dst=sv) / ICMPv6EchoRequest(id=77, seq=1))
            s(IPv6(src=sv, dst=cl) / ICMPv6EchoReply(id=77, seq=1))
        else:
            c(IP(src=cl, dst=sv) / ICMP(type=8, id=77, seq=1))
            s(IP(src=sv, dst=cl) / ICMP(type=0, id=77, seq=1))
    return out


def npt_map(addr, src_pfx, dst_pfx, plen):
    """RFC 6296 as ip6t_NPT maps addr (prefixes of the same length here)"""
    import ipaddress
    def words(a):
        b = ipaddress.IPv6Address(a).packed
        return [b[i] << 8 | b[i + 1] for i in range(0, 16, 2)]
    def csum(ws):
        s = sum(ws)
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        return s
    adj = csum([csum(words(src_pfx)), ~csum(words(dst_pfx)) & 0xffff])
    w, p = words(addr), words(dst_pfx)
    for i in range(plen // 16):
        w[i] = p[i]
    k = 3 if plen <= 48 else next(i for i in range(4, 8) if w[i] != 0xffff)
    s = csum([w[k], adj])
    w[k] = 0 if s == 0xffff else s
    return str(ipaddress.IPv6Address(b"".join(x.to_bytes(2, "big") for x in w)))


def npt_steps():
    """tests/e2e/test_npt_kernel.sh: the LAN's fd77:1::/64 leaves as
    fd99:1::/64 (SNPT) and comes back (DNPT), mangle/npt.rules6"""
    out = []
    back = npt_map(C6, "fd77:1::", "fd99:1::", 64)
    for sp in (41200, 41201):
        out.append(("c", IPv6(src=C6, dst=S6) / UDP(sport=sp, dport=9) / Raw(b"npt")))
        out.append(("s", IPv6(src=S6, dst=back) / UDP(sport=9, dport=sp) / Raw(b"back")))
    out.append(("c", IPv6(src=C6, dst=S6) / TCP(sport=41202, dport=80, flags="S", seq=1)))
    out.append(("s", IPv6(src=S6, dst=back) / TCP(sport=80, dport=41202, flags="SA", seq=9, ack=2)))
    out.append(("c", IPv6(src=C6, dst=S6) / ICMPv6EchoRequest(id=41203, seq=1)))
    out.append(("s", IPv6(src=S6, dst=back) / ICMPv6EchoReply(id=41203, seq=1)))
    out.append(("c", IPv6(src="fd77:1::3", dst=S6) / UDP(sport=41204, dport=9) / Raw(b"x")))  # not the host's
    return out


def random_steps(seed, count):
    """COUNT random TCP segments over a few connections at a time, IPv4 and
    IPv6, mostly what two stacks would send (handshakes with random options,
    data both ways, ACKs, FINs) and often not: retransmissions, segments and
    ACKs outside the windows, zero windows, RSTs exact, in window or
    anywhere, SYNs on open connections, flag combinations no stack sends.
    The same SEED gives the same steps (for the agents too)."""
    R = random.Random(seed)
    out = []
    conns = []
    port = [42000 + (seed % 97) * 200]
    M = 1 << 32

    def opts():
        o = []
        if R.random() < 0.8:
            o.append(("MSS", R.choice([536, 1220, 1460])))
        if R.random() < 0.5:
            o.append(("SAckOK", b""))
        if R.random() < 0.6:
            o.append(("WScale", R.choice([0, 1, 2, 7, 14])))
        return o

    def win():
        return R.choice([0, 1, 100, 512, 8192, 29200, 65535, R.randrange(65536)])

    def newc():
        v6 = R.random() < 0.3
        c = {"v6": v6, "cp": port[0], "sp": R.choice([80, 443, 25, 8080]),
             "nxt": {"c": R.randrange(M), "s": R.randrange(M)}, "phase": 0, "born": len(out)}
        port[0] += 1
        conns.append(c)
        return c

    def seg(c, side, fl, seq, ack=0, data=b"", o=None):
        cs = side == "c"
        src = (C6 if cs else S6) if c["v6"] else (C4 if cs else S4)
        dst = (S6 if cs else C6) if c["v6"] else (S4 if cs else C4)
        ip = IPv6(src=src, dst=dst) if c["v6"] else IP(src=src, dst=dst)
        sp, dp = (c["cp"], c["sp"]) if cs else (c["sp"], c["cp"])
        t = TCP(sport=sp, dport=dp, flags=fl, seq=seq % M, ack=ack % M if "A" in fl else 0,
                window=win(), options=o or [])
        out.append((side, ip / t / Raw(data) if data else ip / t))
        quotable.append((c["v6"], 6, src, dst, sp, dp, seq % M, len(out)))

    # Nothing here may depend on time: both runs take 10-15 s, at their
    # own pace. A connection or flow is used for AGE steps at most and an
    # ICMP error quotes a packet of the last QUOTE steps, so that nothing
    # meets an entry that a 10 s timeout (CLOSE, a reset) may have ended
    # in one run and not in the other. (UDP's "stream after 2 s" does
    # depend on time: test_ct_random.sh leaves UDP's ASSURED out.)
    AGE, QUOTE = 150, 60
    udp = []  # (v6, client port, server port, first step)
    quotable = []  # (v6, proto, src, dst, sport, dport, seq, step): packets sent

    def other_traffic():
        """a UDP datagram, an ICMP echo, or an ICMP error quoting a packet
        of a connection (or of none), from either end"""
        r = R.random()
        side = R.choice("cs")
        if r < 0.35:  # UDP, a flow's datagram either way, or a new flow
            young = [f for f in udp if len(out) - f[3] < AGE]
            if not young or R.random() < 0.3:
                young.append((R.random() < 0.3, port[0], R.choice([53, 9, 123]), len(out)))
                udp.append(young[-1])
                port[0] += 1
            v6, cp, sp, _ = R.choice(young)
            src, dst = ((C6, S6) if v6 else (C4, S4)) if side == "c" else ((S6, C6) if v6 else (S4, C4))
            a, b = (cp, sp) if side == "c" else (sp, cp)
            ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
            out.append((side, ip / UDP(sport=a, dport=b) / Raw(b"u" * R.choice([1, 20, 500]))))
            quotable.append((v6, 17, src, dst, a, b, 0, len(out)))
        elif r < 0.6:  # an echo request or reply, ids reused or not
            v6 = R.random() < 0.3
            src, dst = ((C6, S6) if v6 else (C4, S4)) if side == "c" else ((S6, C6) if v6 else (S4, C4))
            ident = R.choice([41900, 41901, R.randrange(65536)])
            req = R.random() < 0.6
            if v6:
                icmp = ICMPv6EchoRequest(id=ident, seq=1) if req else ICMPv6EchoReply(id=ident, seq=1)
                out.append((side, IPv6(src=src, dst=dst) / icmp))
            else:
                out.append((side, IP(src=src, dst=dst) / ICMP(type=8 if req else 0, id=ident, seq=1)))
        elif [q for q in quotable if len(out) - q[7] < QUOTE]:  # an ICMP error about a packet sent before
            v6, proto, qs, qd, a, b, sq, _ = R.choice([q for q in quotable if len(out) - q[7] < QUOTE])
            if R.random() < 0.2:  # about a packet nobody sent
                a = R.randrange(1024, 65536)
            # mostly from where the quoted packet went, as a router or
            # host there would answer; sometimes from its own side
            back = R.random() < 0.85
            src, dst = (qd, qs) if back else (qs, qd)
            side = ("c" if src in (C4, C6) else "s")
            qip = IPv6(src=qs, dst=qd) if v6 else IP(src=qs, dst=qd, id=R.randrange(65536))
            l4 = TCP(sport=a, dport=b, seq=sq, flags="A") if proto == 6 else UDP(sport=a, dport=b)
            quote = bytes(qip / l4 / Raw(b"q"))[:(48 if v6 else 28) + R.choice([0, 0, 12])]
            if v6:
                err = R.choice([ICMPv6DestUnreach(code=R.choice([1, 3, 4])), ICMPv6TimeExceeded(),
                                ICMPv6PacketTooBig(mtu=1280)])
                out.append((side, IPv6(src=src, dst=dst) / err / quote))
            else:
                ty, co = R.choice([(3, 3), (3, 1), (3, 4), (11, 0), (12, 0)])
                out.append((side, IP(src=src, dst=dst) / ICMP(type=ty, code=co) / quote))

    while len(out) < count:
        if R.random() < 0.25:
            other_traffic()
            continue
        live = [c for c in conns if c["phase"] < 9 and len(out) - c["born"] < AGE]
        if not live or (len(live) < 4 and R.random() < 0.15):
            c = newc()
        else:
            c = R.choice(live)
        side = R.choice("cs")
        other = "s" if side == "c" else "c"
        nx, peer = c["nxt"][side], c["nxt"][other]
        r = R.random()
        if c["phase"] == 0:  # the SYN (or not quite)
            if r < 0.9:
                seg(c, "c", "S", c["nxt"]["c"], o=opts())
                c["nxt"]["c"] += 1
            else:
                seg(c, "c", R.choice(["A", "PA", "SA", "R"]), c["nxt"]["c"], peer, b"p" * R.randrange(0, 40))
            c["phase"] = 1
            continue
        if c["phase"] == 1 and r < 0.75:  # the SYN/ACK
            ack = c["nxt"]["c"] if R.random() < 0.85 else c["nxt"]["c"] + R.choice([-1, 1, 1000, M // 2])
            seg(c, "s", "SA", c["nxt"]["s"], ack, o=opts())
            c["nxt"]["s"] += 1
            c["phase"] = 2
            continue
        if c["phase"] == 2 and r < 0.7:  # the third ACK
            seg(c, "c", "A", c["nxt"]["c"], c["nxt"]["s"])
            c["phase"] = 3
            continue
        # the conversation, mostly well behaved
        if r < 0.45:  # data, in order or not
            n = R.choice([1, 10, 100, 536, 1000, 1400])
            q = R.random()
            if q < 0.75:
                sq = nx
                c["nxt"][side] += n
            elif q < 0.88:
                sq = nx - R.randrange(1, 3000)  # retransmission, partly or not
            else:
                sq = nx + R.choice([R.randrange(1, 70000), R.randrange(M)])
            a = R.random()
            ack = peer if a < 0.85 else peer - R.randrange(1, 5000) if a < 0.93 else peer + R.randrange(1, 200000)
            seg(c, side, "PA", sq, ack, b"d" * n)
        elif r < 0.65:  # a bare ACK
            a = R.random()
            ack = peer if a < 0.8 else peer - R.randrange(1, 70000) if a < 0.9 else peer + R.randrange(1, 200000)
            seg(c, side, "A", nx if R.random() < 0.9 else nx - R.randrange(1, 100), ack)
        elif r < 0.77:  # a FIN
            seg(c, side, "FA", nx, peer)
            c["nxt"][side] += 1
            c["phase"] = max(c["phase"], 4) + 1
        elif r < 0.85:  # a RST
            q = R.random()
            sq = nx if q < 0.4 else nx + R.randrange(1, 60000) if q < 0.7 else R.randrange(M)
            seg(c, side, "R" if R.random() < 0.6 else "RA", sq, peer)
            if q < 0.7:
                c["phase"] = 9
        elif r < 0.92:  # a SYN on the connection (a reopening, or a stray)
            seg(c, side, "S", R.randrange(M) if R.random() < 0.5 else nx, o=opts())
        else:  # a flag combination few stacks send
            fl = R.choice(["", "F", "SF", "SR", "FR", "SFPU", "U", "A", "PA", "SAR", "FPU"])
            seg(c, side, fl, nx if R.random() < 0.5 else R.randrange(M), peer,
                b"x" * R.choice([0, 0, 5]))
    return out[:count]


def tagged(n, p):
    if isinstance(p, list):  # fragments: the flow label only (checksums are the datagram's)
        out = []
        for x in p:
            x = x.copy()
            x[IPv6].fl = n
            out.append(x)
        return out
    keep = getattr(p, "keepsum", False)
    p = p.copy()
    if IP in p:
        p[IP].id = n
        del p[IP].chksum
    else:
        p[IPv6].fl = n
    for L in (TCP, UDP, ICMP):
        if L in p and not (L is ICMP and p[ICMP].type in (3, 11)) and not keep:
            del p[L].chksum
    if keep and TCP in p:
        p[TCP].chksum = 0xbad  # a bad one
    return p


def agent():
    seq = steps()
    for line in sys.stdin:
        n = int(line)
        send(tagged(n, seq[n - 1][1]))
        print("ok %d" % n, flush=True)


def drive(lanns, wanns):
    me = sys.argv[0]
    ag = {}
    for side, ns in (("c", lanns), ("s", wanns)):
        ag[side] = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, me, "agent"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for n, (side, _) in enumerate(steps(), 1):
        a = ag[side]
        a.stdin.write("%d\n" % n)
        a.stdin.flush()
        if a.stdout.readline().strip() != "ok %d" % n:
            sys.exit("agent %s failed at step %d" % (side, n))
        time.sleep(0.03)
    for a in ag.values():
        a.stdin.close()
        a.wait()


def outcome(lanpcap, wanpcap):
    seen = {"c": {}, "s": {}}  # arrived at: tag -> dscp
    count = {"c": {}, "s": {}}  # arrived at: tag -> packets
    ecn = {"c": {}, "s": {}}  # CTDIFF_SET=ecn: tag -> what the ECN rules may change
    for where, f in (("c", lanpcap), ("s", wanpcap)):
        for pk in rdpcap(f):
            # the tag with the addresses: a packet of the hosts' own (a
            # ping, a neighbour solicitation) may carry the same number
            if IP in pk:
                tag, tc = (pk[IP].id, pk[IP].src, pk[IP].dst), pk[IP].tos
            elif IPv6 in pk:
                tag, tc = (pk[IPv6].fl, pk[IPv6].src, pk[IPv6].dst), pk[IPv6].tc
            else:
                continue
            seen[where].setdefault(tag, tc >> 2)
            count[where][tag] = count[where].get(tag, 0) + 1
            if IPv6 in pk and os.environ.get("CTDIFF_SET") == "npt":
                L4 = TCP if TCP in pk else UDP if UDP in pk else ICMPv6EchoRequest if ICMPv6EchoRequest in pk \
                    else ICMPv6EchoReply if ICMPv6EchoReply in pk else None
                ok = "?"
                if L4 is not None:
                    fresh = IPv6(bytes(pk[IPv6]))
                    layer = fresh[L4] if L4 in (TCP, UDP) else fresh.payload
                    want = layer.cksum if L4 not in (TCP, UDP) else layer.chksum
                    if L4 in (TCP, UDP):
                        layer.chksum = None
                        again = IPv6(bytes(fresh))[L4].chksum
                    else:
                        layer.cksum = None
                        again = IPv6(bytes(fresh)).payload.cksum
                    ok = "ok" if again == want else "bad"
                # by the tag alone: the translation changed an address
                ecn[where].setdefault(tag[0], "%s > %s l4sum=%s" % (pk[IPv6].src, pk[IPv6].dst, ok))
            if IP in pk and (TCP in pk or UDP in pk):
                # the L4 checksum as it arrived against one computed again
                L4 = TCP if TCP in pk else UDP
                want = pk[L4].chksum
                fresh = IP(bytes(pk[IP]))
                fresh[L4].chksum = None
                again = IP(bytes(fresh))[L4].chksum
                ecn[where].setdefault(tag, "%s ecn=%d l4sum=%s" % (
                    str(pk[TCP].flags) if TCP in pk else "udp", tc & 3, "ok" if again == want else "bad"))
    for n, (side, p) in enumerate(steps(), 1):
        other = "s" if side == "c" else "c"
        ip = p[0] if isinstance(p, list) else p
        ip = ip[IP] if IP in ip else ip[IPv6]
        key = (n, ip.src, ip.dst)
        d = seen[other].get(key)
        if isinstance(p, list):
            what = "%d fragments of %s" % (len(p), p[0].summary().split("/ Raw")[0].strip())
            if d is not None:
                what += ", %d packets arrived" % count[other][key]
        else:
            what = p.summary().split("/ Raw")[0].strip()
        if os.environ.get("CTDIFF_SET") in ("ecn", "npt"):
            got = ecn[other].get(n if os.environ.get("CTDIFF_SET") == "npt" else key)
            print("%3d %s %-50s %s" % (n, side, what, got if got else "not delivered"))
            continue
        if d is None:
            print("%3d %s %-60s not delivered" % (n, side, what))
        else:
            st = STATES.get(d & 7, "dscp%d" % d)
            print("%3d %s %-60s %s%s%s" % (n, side, what, st, " reply" if d & 8 else "",
                                           " assured" if d & 16 else ""))


if __name__ == "__main__":
    if sys.argv[1] == "agent":
        agent()
    elif sys.argv[1] == "drive":
        drive(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "outcome":
        outcome(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
