#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Probes for tests/e2e/test_filter_kernel.sh.

  kdiff.py send LANPCAP     (in the lan namespace) send every probe, 25 ms
                            apart, while capturing on eth0 into LANPCAP
  kdiff.py outcome LANPCAP WANPCAP
                            one line per probe: what reached the wan host,
                            and what came back to the lan host

Each probe is tagged so that it and the answers it provokes can be found:
its source port (TCP/UDP), echo id (ICMP) is 20000 + n, its IPv4 id / IPv6
flow label is n. An ICMP error is attributed through the packet it quotes.
"""
import sys
import time
from scapy.all import (IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, ICMPv6EchoReply,
                       ICMPv6DestUnreach, ICMPv6TimeExceeded, ICMPv6PacketTooBig, ICMPv6ParamProblem,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                       PadN, HBHOptUnknown, fragment6,
                       IPerror, TCPerror, UDPerror, ICMPerror, IPerror6, TCPerror, UDPerror,
                       Raw, AsyncSniffer, send, rdpcap, conf)
from scapy.layers.ipsec import ESP, AH
from scapy.layers.sctp import SCTP, SCTPChunkInit, SCTPChunkData, SCTPChunkSACK, SCTPChunkAbort

conf.verb = 0
BASE = 20000
LAN4 = ["10.77.1.%d" % i for i in range(2, 8)]
LAN6 = ["fd77:1::%d" % i for i in range(2, 8)]
DST4 = ["10.77.2.2", "10.77.2.1", "10.77.1.1", "10.77.2.9"]
DST6 = ["fd77:2::2", "fd77:2::1", "fd77:1::1"]


def probes():
    out = []
    n = 0

    def add(p):
        nonlocal n
        n += 1
        out.append((n, p))

    tcp_ports = [22, 25, 53, 80, 443, 1022, 1023, 1024, 3306, 8080, 65535]
    for i, dport in enumerate(tcp_ports):
        for flags in ("S", "A", "SA" if i % 3 == 0 else "F"):
            add(("tcp4", LAN4[i % len(LAN4)], DST4[0], dport, flags, 64, 0, 0))
    for i, dport in enumerate([53, 67, 123, 161, 514, 5000, 9999, 33434]):
        add(("udp4", LAN4[(i + 1) % len(LAN4)], DST4[0], dport, None, 64, 0, i * 50))
    for i, (t, c) in enumerate([(8, 0), (13, 0), (17, 0), (8, 0)]):
        # timestamp requests only through the box: it does not answer them
        # itself (Linux does), see docs/architecture.md
        add(("icmp4", LAN4[i % len(LAN4)], DST4[0] if t == 13 else DST4[i % 2], t, c, 64, 0, 0))
    for ttl in (1, 2, 3):
        add(("udp4", LAN4[0], DST4[0], 33500 + ttl, None, ttl, 0, 0))
        add(("tcp4", LAN4[1], DST4[0], 80, "S", ttl, 0, 0))
    for tos in (0x10, 0x28, 0xb8, 0x04):
        add(("tcp4", LAN4[2], DST4[0], 443, "S", 64, tos, 0))
    for size in (0, 100, 600, 1200):
        add(("udp4", LAN4[3], DST4[0], 7000, None, 64, 0, size))
    # to the box itself (INPUT): echo, TCP, UDP
    for d in DST4[1:3]:
        add(("icmp4", LAN4[0], d, 8, 0, 64, 0, 0))
        add(("tcp4", LAN4[1], d, 22, "S", 64, 0, 0))
        add(("udp4", LAN4[2], d, 53, None, 64, 0, 0))
    # to a wan address nobody has (forwarded, not answered)
    add(("tcp4", LAN4[0], DST4[3], 80, "S", 64, 0, 0))
    for i, dport in enumerate([22, 80, 443, 8080, 5353]):
        add(("tcp6", LAN6[i % len(LAN6)], DST6[0], dport, "S", 64, 0, 0))
        add(("udp6", LAN6[(i + 2) % len(LAN6)], DST6[0], dport, None, 64, 0, 0))
    add(("icmp6", LAN6[0], DST6[0], 128, 0, 64, 0, 0))
    add(("icmp6", LAN6[1], DST6[1], 128, 0, 64, 0, 0))
    add(("tcp6", LAN6[2], DST6[1], 22, "S", 64, 0, 0))
    add(("udp6", LAN6[3], DST6[0], 33434, None, 1, 0, 0))
    # sources that are not the lan's: a wan address, an unrouted one, the
    # router's own (martian), for rpfilter and the route check
    for src in ("10.77.2.77", "192.0.2.1", "10.77.1.1", "10.77.2.1"):
        add(("udp4", src, DST4[0], 7100, None, 64, 0, 0))
    for src in ("fd77:2::77", "2001:db8::1", "fd77:1::1"):
        add(("udp6", src, DST6[0], 7100, None, 64, 0, 0))
    # ECN: the IP field (IPv4 TOS, IPv6 traffic class) and the TCP ECE and
    # CWR bits, for -m ecn
    for tos, flags in ((0x01, "S"), (0x02, "SEC"), (0x03, "SE"), (0xb9, "SC"), (0x00, "SE")):
        add(("tcp4", LAN4[4], DST4[0], 8443, flags, 64, tos, 0))
    for tc, flags in ((0x01, "SEC"), (0x03, "S"), (0x00, "SE")):
        add(("tcp6", LAN6[4], DST6[0], 8443, flags, 64, tc, 0))
    # TCP options (a ninth element, scapy's list): the MSS option, for
    # -m tcpmss; none, one in range, out of range, after an end-of-list
    for opts in ([], [("MSS", 1460)], [("MSS", 536)], [("EOL", None), ("NOP", None), ("MSS", 1400)]):
        add(("tcp4", LAN4[5], DST4[0], 8444, "S", 64, 0, 0, opts))
    for opts in ([], [("MSS", 1440)], [("MSS", 1220)]):
        add(("tcp6", LAN6[5], DST6[0], 8444, "S", 64, 0, 0, opts))
    # IPsec with various SPIs, for -m esp and -m ah (tagged by their
    # sequence number); IPv6 AH as an extension header in front of UDP (the
    # wan host answers IPv6 ones with a parameter problem)
    for kind, spis in (("esp4", (256, 300, 1000, 5000)), ("ah4", (7, 8, 1500)),
                       ("esp6", (256, 300, 1000, 5000)), ("ah6", (7, 8, 1500))):
        for spi in spis:
            src = LAN6[0] if kind.endswith("6") else LAN4[0]
            add((kind, src, DST6[0] if kind.endswith("6") else DST4[0], spi, None, 64, 0, 0))
    # IPv6 fragments (no reassembly on either router): a UDP datagram in
    # three fragments, and a later fragment alone (its first never comes);
    # from a source kdiff-1 does not REJECT (rampartd answers a first
    # fragment's REJECT, the kernel does not: its checksum check fails)
    add(("frag6", LAN6[3], DST6[0], 7200, None, 64, 0, 300))
    add(("frag6later", LAN6[3], DST6[0], 7200, None, 64, 0, 300))
    # IPv6 extension headers in front of UDP, for -m ipv6header, frag, rt,
    # hbh and dst (last in the list: the quota of kdiff-13 is spent by then)
    # ... and Hop-by-Hop options the routers check before PREROUTING
    # (Linux's ipv6_parse_hopopts): too much padding, padding not of
    # zeroes, unknown options of each action, Router Alert, too many
    for i, hdrs in enumerate(("hbh", "hbh dst", "dst rt1", "rt2", "hbh rt1 dst", "atomic", "dst atomic",
                              "rt2s", "hbh2", "hbhpadx", "hbhu01", "hbhu10", "hbhu11", "hbhra",
                              "hbhra3", "hbh9", "hbh8 dst")):
        add(("ext6", LAN6[3 + i % 2], DST6[0], 7300 + i, hdrs, 64, 0, 0))
    # for -m eui64: from the address SLAAC would give the lan host's eth0
    # (its modified EUI-64, worked out when sending), and from one that
    # is not
    for dport in (7400, 7401):
        add(("udp6", "eui64", DST6[0], dport, None, 64, 0, 0))
    add(("udp6", LAN6[2], DST6[0], 7400, None, 64, 0, 0))
    # SCTP (-m sctp): ports and chunks, IPv4 and IPv6
    for i, (chunks, dport) in enumerate((("init", 3868), ("data sack", 3868), ("abort", 2905),
                                         ("init", 9), ("data", 36412))):
        add(("sctp4", LAN4[i % len(LAN4)], DST4[0], dport, chunks, 64, 0, 0))
        add(("sctp6", LAN6[i % len(LAN6)], DST6[0], dport, chunks, 64, 0, 0))
    return out


# SCTP chunks by name (sctp probes)
SCTP_CHUNKS = {
    "init": lambda: SCTPChunkInit(init_tag=1, a_rwnd=1500, n_out_streams=1, n_in_streams=1, init_tsn=1),
    "data": lambda: SCTPChunkData(beginning=1, ending=1, data=b"x"),
    "sack": lambda: SCTPChunkSACK(cumul_tsn_ack=1),
    "abort": lambda: SCTPChunkAbort(TCB=1),
}


def eui64_addr(prefix="fd77:1::"):
    """prefix + the modified EUI-64 of eth0's MAC (RFC 4291 2.5.1)."""
    from scapy.all import get_if_hwaddr
    import ipaddress
    m = bytes.fromhex(get_if_hwaddr("eth0").replace(":", ""))
    iid = bytes([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
    return str(ipaddress.IPv6Address(ipaddress.IPv6Address(prefix).packed[:8] + iid))


# extension headers by name (ext6 probes); n: the probe's number
EXT6 = {
    "hbh": lambda n: IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)]),
    "hbh2": lambda n: IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4), PadN(optdata=b"\0" * 6)]),
    "dst": lambda n: IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e, optdata=b"ab")]),
    "rt1": lambda n: IPv6ExtHdrRouting(type=0, segleft=0, addresses=["fd77:1::9"]),
    "rt2": lambda n: IPv6ExtHdrRouting(type=0, segleft=0, addresses=["fd77:1::9", "fd77:1::8"]),
    "rt2s": lambda n: IPv6ExtHdrRouting(type=0, segleft=0, addresses=["fd77:1::7", "fd77:1::9"]),
    "atomic": lambda n: IPv6ExtHdrFragment(id=0x1000 + n, m=0, offset=0),
    "hbhpadx": lambda n: IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0\x07\0\0")]),
    "hbhu01": lambda n: IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x5e, optdata=b"ab")]),
    "hbhu10": lambda n: IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x9e, optdata=b"ab")]),
    "hbhu11": lambda n: IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0xde, optdata=b"ab")]),
    "hbhra": lambda n: IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x05, optdata=b"\0\0")]),
    "hbhra3": lambda n: IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x05, optdata=b"\0\0\0")]),
    "hbh9": lambda n: IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x1e, optdata=b"")] * 9),
    "hbh8": lambda n: IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x1e, optdata=b"")] * 8),
}


def build(n, p):
    kind, src, dst, a, b, ttl, tos, size = p[:8]
    if src == "eui64":
        src = eui64_addr()
    opts = p[8] if len(p) > 8 else []
    sport = BASE + n
    pay = Raw(b"k" * size) if size else Raw(b"probe%04d" % n)
    if kind == "tcp4":
        return IP(src=src, dst=dst, ttl=ttl, tos=tos, id=n) / TCP(sport=sport, dport=a, flags=b, seq=1000 + n,
                                                                 options=opts) / pay
    if kind == "udp4":
        return IP(src=src, dst=dst, ttl=ttl, tos=tos, id=n) / UDP(sport=sport, dport=a) / pay
    if kind == "icmp4":
        return IP(src=src, dst=dst, ttl=ttl, tos=tos, id=n) / ICMP(type=a, code=b, id=sport, seq=n) / pay
    if kind in ("esp4", "esp6"):
        ip = IP(src=src, dst=dst, ttl=ttl, id=n) if kind == "esp4" else IPv6(src=src, dst=dst, hlim=ttl, fl=n)
        return ip / ESP(spi=a, seq=BASE + n, data=b"e" * 16)
    if kind in ("ah4", "ah6"):
        ip = IP(src=src, dst=dst, ttl=ttl, id=n) if kind == "ah4" else IPv6(src=src, dst=dst, hlim=ttl, fl=n)
        return ip / AH(spi=a, seq=BASE + n, nh=17, payloadlen=4, icv=b"\0" * 12) / UDP(sport=sport, dport=9) / pay
    if kind in ("frag6", "frag6later"):
        fr = fragment6(IPv6(src=src, dst=dst, hlim=ttl, fl=n) / IPv6ExtHdrFragment(id=n) /
                       UDP(sport=sport, dport=a) / pay, 160)
        return fr if kind == "frag6" else fr[1:2]
    if kind in ("sctp4", "sctp6"):
        ip = IP(src=src, dst=dst, ttl=ttl, id=n) if kind == "sctp4" else IPv6(src=src, dst=dst, hlim=ttl, fl=n)
        ip = ip / SCTP(sport=sport, dport=a)
        for c in b.split():
            ip = ip / SCTP_CHUNKS[c]()
        return ip
    if kind == "ext6":
        ip = IPv6(src=src, dst=dst, hlim=ttl, fl=n)
        for h in b.split():
            ip = ip / EXT6[h](n)
        return ip / UDP(sport=sport, dport=a) / pay
    if kind == "tcp6":
        return IPv6(src=src, dst=dst, hlim=ttl, tc=tos, fl=n) / TCP(sport=sport, dport=a, flags=b, seq=1000 + n,
                                                                    options=opts) / pay
    if kind == "udp6":
        return IPv6(src=src, dst=dst, hlim=ttl, fl=n) / UDP(sport=sport, dport=a) / pay
    return IPv6(src=src, dst=dst, hlim=ttl, fl=n) / ICMPv6EchoRequest(id=sport, seq=n) / pay


def send_all(lanpcap):
    sn = AsyncSniffer(iface="eth0", filter="ip or ip6")
    sn.start()
    time.sleep(0.5)
    for n, p in probes():
        send(build(n, p), iface=None)
        time.sleep(0.025)
    time.sleep(1.5)
    pk = sn.stop()
    from scapy.utils import wrpcap
    wrpcap(lanpcap, pk)


def tag_of(pkt):
    """The probe number a packet belongs to, or None."""
    for L in (TCP, UDP, TCPerror, UDPerror, SCTP):
        if L in pkt:
            for port in (pkt[L].sport, pkt[L].dport):
                if BASE < port <= BASE + 1000:
                    return port - BASE
    if IPerror in pkt and pkt[IPerror].proto == 132:
        # an ICMP error quoting IPv4 SCTP (scapy makes it SCTPerror,
        # which the loop above does not know): its ports
        q = bytes(pkt[IPerror].payload)
        for port in (int.from_bytes(q[0:2], "big"), int.from_bytes(q[2:4], "big")) if len(q) >= 4 else ():
            if BASE < port <= BASE + 1000:
                return port - BASE
    for L in (ESP, AH):
        if L in pkt and BASE < pkt[L].seq <= BASE + 1000:
            return pkt[L].seq - BASE
    # ICMP echoes (and the ones quoted in errors): id BASE + n and sequence
    # number n, so that the pings warming the neighbour caches (sequence
    # 1, a random id) are never taken for a probe
    def echo(layer):
        return layer.id - BASE if BASE < layer.id <= BASE + 1000 and layer.seq == layer.id - BASE else None
    if ICMPerror in pkt:
        return echo(pkt[ICMPerror])
    for L in (ICMPv6EchoRequest, ICMPv6EchoReply):
        if L in pkt:
            return echo(pkt[L])
    if ICMP in pkt and pkt[ICMP].type in (0, 8, 13, 14, 17, 18):
        return echo(pkt[ICMP])
    return None


def describe(pkt):
    if IP in pkt:
        src = pkt[IP].src
        if ICMP in pkt:
            ic = pkt[ICMP]
            return "icmp%d/%d from %s" % (ic.type, ic.code, src)
        if TCP in pkt:
            return "tcp[%s] from %s" % (pkt[TCP].flags, src)
        if UDP in pkt:
            return "udp from %s" % src
        if SCTP in pkt:
            return "sctp from %s" % src
    if IPv6 in pkt:
        src = pkt[IPv6].src
        for L in (ICMPv6DestUnreach, ICMPv6TimeExceeded, ICMPv6PacketTooBig, ICMPv6ParamProblem,
                  ICMPv6EchoReply):
            if L in pkt:
                return "icmp6 %d/%d from %s" % (pkt[L].type, pkt[L].code, src)
        if TCP in pkt:
            return "tcp[%s] from %s" % (pkt[TCP].flags, src)
        if UDP in pkt:
            return "udp from %s" % src
        if SCTP in pkt:
            return "sctp from %s" % src
    return "?"


def outcome(lanpcap, wanpcap):
    sent = dict(probes())
    delivered = {}
    for pkt in rdpcap(wanpcap):
        t = tag_of(pkt)
        if t in sent and (TCP in pkt or UDP in pkt or ICMP in pkt or ICMPv6EchoRequest in pkt
                          or ESP in pkt or AH in pkt or SCTP in pkt) \
                and not (ICMPerror in pkt or IPerror6 in pkt):
            # only the probe itself going towards the wan host
            if (IP in pkt and pkt[IP].dst == sent[t][2]) or (IPv6 in pkt and pkt[IPv6].dst == sent[t][2]):
                d = describe_arrival(pkt)
                delivered[t] = d
    back = {}
    for pkt in rdpcap(lanpcap):
        t = tag_of(pkt)
        if t not in sent:
            continue
        src = pkt[IP].src if IP in pkt else (pkt[IPv6].src if IPv6 in pkt else "")
        dst = pkt[IP].dst if IP in pkt else (pkt[IPv6].dst if IPv6 in pkt else "")
        if src == sent[t][1] or (dst == sent[t][2] and not (ICMPerror in pkt or IPerror6 in pkt)):
            continue  # the probe itself leaving (its source may be worked out: eui64)
        back.setdefault(t, set()).add(describe(pkt))
    for n in sorted(sent):
        if sent[n][2] == DST4[3]:
            # nobody has it: the host unreachable comes some 3 s later, in
            # or out of the capture by chance (as norm_log's LOG lines)
            back.pop(n, None)
        print("%3d %-60s delivered=%-12s back=%s" % (n, " ".join(str(x) for x in sent[n][:5]),
              delivered.get(n, "no"), ",".join(sorted(back.get(n, []))) or "none"))


def describe_arrival(pkt):
    if IP in pkt:
        return "ttl%d,tos%d" % (pkt[IP].ttl, pkt[IP].tos)
    return "hl%d" % pkt[IPv6].hlim


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send_all(sys.argv[2])
    else:
        outcome(sys.argv[2], sys.argv[3])
