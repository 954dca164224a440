#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
Malformed and fuzz-ish frames for rampartd (tests/e2e/test_malformed.sh).
Runs inside the lan namespace and sends raw Ethernet frames on eth0.

  malformed.py battery ROUTER_MAC EXPECT_FILE
      sends the hand-made battery; writes one line per expectation:
          <reason>[|<reason>...] <count>
      (the counters of rampartd's port lan0 must grow by exactly count,
      summed over the listed reasons); also checks that rampartd answers a
      valid neighbour solicitation and ignores broken ones (lines
      "CHECK ok ..." / "CHECK FAIL ..." on stdout, exit 1 on a failure)
  malformed.py fuzz ROUTER_MAC SEED COUNT
      sends COUNT seeded random frames: mutated valid frames, random header
      fields, random IPv6 extension header chains, random bytes

Frames are built by hand (struct), not by scapy's layers, so that every
field can be wrong; scapy only provides the raw socket. Destination
addresses are kept inside the test's own ranges (IPv4: unicast in 10.77/16,
10.99/16; IPv6: fd77::/16, fd99::/16, multicast, link-local): nothing here
may reach another host.
"""
import ipaddress
import random
import struct
import sys
import time

from scapy.all import conf, get_if_hwaddr, AsyncSniffer  # noqa: E402

conf.verb = 0
IFACE = "eth0"

LAN_IP = bytes([10, 77, 1, 2])
GW_IP = bytes([10, 77, 1, 1])
WAN_IP = bytes([10, 77, 2, 2])
LAN_IP6 = ipaddress.IPv6Address("fd77:1::2").packed
GW_IP6 = ipaddress.IPv6Address("fd77:1::1").packed
WAN_IP6 = ipaddress.IPv6Address("fd77:2::2").packed

ETH_IP4, ETH_IP6, ETH_ARP, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, etype, payload, tags=()):
    h = dst + src
    for tpid, tci in tags:
        h += struct.pack("!HH", tpid, tci)
    return h + struct.pack("!H", etype) + payload


def ip4(proto, payload, src=LAN_IP, dst=WAN_IP, ihl=5, tlen=None, ttl=64, frag=0,
        ck=None, version=4, opts=None):
    if opts is None:
        opts = b"\x01" * (max(ihl, 5) * 4 - 20)  # NOPs
    hdr_len = 20 + len(opts)
    if tlen is None:
        tlen = hdr_len + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 0xF), 0, tlen & 0xFFFF, 0x1234,
                    frag, ttl, proto, 0, src, dst) + opts
    if ck is None:
        ck = csum(h)
    h = h[:10] + struct.pack("!H", ck) + h[12:]
    return h + payload


def l4_ck4(src, dst, proto, seg):
    return csum(src + dst + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def l4_ck6(src, dst, nh, seg):
    return csum(src + dst + struct.pack("!IxxxB", len(seg), nh) + seg)


def udp(sport, dport, data=b"", length=None):
    return struct.pack("!HHHH", sport, dport, 8 + len(data) if length is None else length, 0) + data


def tcp(sport, dport, doff=5, flags=0x02, opts=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, (doff & 0xF) << 4, flags, 65535, 0, 0) + opts


def icmp4(t, c, rest=b"\0\0\0\0", data=b""):
    m = struct.pack("!BBH", t, c, 0) + rest + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def ip6(nh, payload, src=LAN_IP6, dst=WAN_IP6, plen=None, hlim=64, version=6):
    return struct.pack("!IHBB16s16s", version << 28, len(payload) if plen is None else plen,
                       nh, hlim, src, dst) + payload


def ext6(nh, hdr_ext_len=0, body=None):
    """A generic extension header (hop-by-hop, routing, destination options)."""
    size = (hdr_ext_len + 1) * 8
    if body is None:
        body = b"\x01" + bytes([size - 4]) + b"\0" * (size - 4)  # one PadN option
    return bytes([nh, hdr_ext_len]) + body[: size - 2]


def icmp6(t, c, body, src, dst):
    m = struct.pack("!BBH", t, c, 0) + body
    ck = l4_ck6(src, dst, 58, m)
    return m[:2] + struct.pack("!H", ck) + m[4:]


def arp(op=1, htype=1, ptype=0x0800, hlen=6, plen=4, sha=b"\x02" * 6, spa=LAN_IP, tha=b"\0" * 6,
        tpa=GW_IP):
    return struct.pack("!HHBBH", htype, ptype, hlen, plen, op) + sha + spa + tha + tpa


class Sender:
    def __init__(self):
        self.sock = conf.L2socket(iface=IFACE)
        self.sent = 0
        self.refused = 0

    def send(self, frame):
        try:
            self.sock.send(frame)
            self.sent += 1
            return True
        except OSError as e:  # the kernel may refuse what it cannot carry
            self.refused += 1
            print("  kernel refused a %d-byte frame: %s" % (len(frame), e))
            return False


def battery(router_mac, expect_file):
    rm = mac_bytes(router_mac)
    me = mac_bytes(get_if_hwaddr(IFACE))
    tx = Sender()
    expect = {}
    items = []  # (description, frame, reason expression)

    def add(desc, frame, reason):
        items.append((desc, frame, reason))

    E = lambda et, p, tags=(): eth(rm, me, et, p, tags)  # noqa: E731
    u = udp(40000, 33434, b"payload!")

    # ---- Ethernet
    # The veth's packet socket pads frames shorter than a header to 14 bytes
    # with zeros for CAP_SYS_RAWIO (dev_validate_header), so a runt that
    # gets through arrives as a 14-byte frame of ethertype 0.
    for n in (1, 6, 10, 13):
        add("runt %d bytes" % n, E(0, b"")[:n], "short_l2|l2_unsupported")
    # The kernel strips the outer 802.1Q tag and the PMD puts it back; a tag
    # cut short inside the second one is the shortest frame that survives.
    add("second VLAN tag cut short", eth(rm, me, ETH_VLAN, b"\x00\x02", tags=((ETH_VLAN, 1),)),
        "short_l2")
    good4 = ip4(17, u)
    add("3 VLAN tags", E(ETH_IP4, good4, ((ETH_VLAN, 1), (ETH_VLAN, 2), (ETH_VLAN, 3))), "vlan_depth")
    add("QinQ + 2 VLAN tags", E(ETH_IP4, good4, ((ETH_QINQ, 1), (ETH_VLAN, 2), (ETH_VLAN, 3))),
        "vlan_depth")
    add("5 VLAN tags", E(ETH_IP4, good4, tuple((ETH_VLAN, i) for i in range(5))), "vlan_depth")

    # ---- IPv4
    add("IPv4, 10 bytes", E(ETH_IP4, good4[:10]), "short_ipv4")
    add("IPv4, 19 bytes", E(ETH_IP4, good4[:19]), "short_ipv4")
    add("IPv4 header with version 6", E(ETH_IP4, ip4(17, u, version=6)), "bad_ipv4_version")
    add("IPv4 IHL 4", E(ETH_IP4, ip4(17, u, ihl=4, opts=b"")), "bad_ipv4_hlen")
    add("IPv4 IHL 0", E(ETH_IP4, ip4(17, u, ihl=0, opts=b"")), "bad_ipv4_hlen")
    add("IPv4 IHL 15, frame ends after 24 bytes",
        E(ETH_IP4, ip4(17, b"", ihl=15, tlen=60, opts=b"")[:20] + b"\x01" * 4), "bad_ipv4_hlen")
    add("IPv4 IHL 4 inside a VLAN tag", E(ETH_IP4, ip4(17, u, ihl=4, opts=b""), ((ETH_VLAN, 7),)),
        "bad_ipv4_hlen")
    add("IPv4 total length 1000 > frame", E(ETH_IP4, ip4(17, u, tlen=1000)), "bad_ipv4_len")
    add("IPv4 total length 10 < IHL", E(ETH_IP4, ip4(17, u, tlen=10)), "bad_ipv4_len")
    add("IPv4 IHL 6, total length 20", E(ETH_IP4, ip4(17, u, ihl=6, tlen=20)), "bad_ipv4_len")
    bad = bytearray(good4)
    bad[10] ^= 0x12
    add("IPv4 bad header checksum", E(ETH_IP4, bytes(bad)), "bad_ipv4_csum")
    add("IPv4 zero header checksum", E(ETH_IP4, ip4(17, u, ck=0)), "bad_ipv4_csum")
    # The af_packet PMD joins its sockets to a PACKET_FANOUT_FLAG_DEFRAG
    # group: the kernel swallows IPv4 fragments for reassembly before
    # rampartd could see them, unless the frame's protocol is not IPv4 once
    # the kernel has taken off the outer VLAN tag. Two tags get them through.
    qq = ((ETH_QINQ, 10), (ETH_VLAN, 20))
    add("IPv4 fragment offset 8191*8 + 16 bytes > 65535 (2 VLAN tags)",
        E(ETH_IP4, ip4(17, u, frag=0x1FFF), qq), "bad_ipv4_frag")
    add("IPv4 MF, offset 8189*8 + 100 bytes (2 VLAN tags)",
        E(ETH_IP4, ip4(17, b"\0" * 100, frag=0x2000 | 8189), qq), "bad_ipv4_frag")
    add("TCP header of 10 bytes", E(ETH_IP4, ip4(6, tcp(1234, 80)[:10])), "short_tcp")
    add("TCP data offset 15, 20-byte segment", E(ETH_IP4, ip4(6, tcp(1234, 80, doff=15))), "short_tcp")
    add("TCP data offset 4", E(ETH_IP4, ip4(6, tcp(1234, 80, doff=4))), "short_tcp")
    add("TCP header in the Ethernet padding (total length 30)",
        E(ETH_IP4, ip4(6, tcp(1234, 80), tlen=30)), "short_tcp")
    add("UDP header of 4 bytes", E(ETH_IP4, ip4(17, u[:4])), "short_udp")
    add("UDP length 100 > datagram", E(ETH_IP4, ip4(17, udp(1, 2, b"x" * 8, length=100))), "short_udp")
    add("UDP length 4", E(ETH_IP4, ip4(17, udp(1, 2, b"x" * 8, length=4))), "short_udp")
    add("ICMP of 4 bytes", E(ETH_IP4, ip4(1, icmp4(8, 0)[:4], dst=GW_IP)), "short_icmp")
    add("ICMP echo to the gateway cut to 6 bytes", E(ETH_IP4, ip4(1, icmp4(8, 0)[:6], dst=GW_IP)),
        "short_icmp")

    # ---- IPv6
    u6 = udp(40000, 33434, b"payload!")
    good6 = ip6(17, u6)
    add("IPv6, 30 bytes", E(ETH_IP6, good6[:30]), "short_ipv6")
    add("IPv6 header with version 4", E(ETH_IP6, ip6(17, u6, version=4)), "bad_ipv6_version")
    add("IPv6 payload length 100 > frame", E(ETH_IP6, ip6(17, u6, plen=100)), "bad_ipv6_len")
    add("IPv6 jumbogram (payload length 0, hop-by-hop)",
        E(ETH_IP6, ip6(0, ext6(17) + u6, plen=0)), "bad_ipv6_len")
    add("IPv6 destination options cut to 4 bytes", E(ETH_IP6, ip6(60, ext6(17)[:4])), "bad_ipv6_exthdr")
    add("IPv6 destination options claiming 88 bytes, 16 present",
        E(ETH_IP6, ip6(60, ext6(17, 10)[:8] + u6)), "bad_ipv6_exthdr")
    add("IPv6 routing header claiming 24 bytes, 8 present",
        E(ETH_IP6, ip6(43, bytes([17, 2, 0, 0]) + b"\0" * 4)), "bad_ipv6_exthdr")
    add("IPv6 AH cut to 6 bytes", E(ETH_IP6, ip6(51, bytes([17, 4]) + b"\0" * 4)), "bad_ipv6_exthdr")
    add("IPv6 two fragment headers",
        E(ETH_IP6, ip6(44, bytes([44, 0, 0, 1, 0, 0, 0, 1]) + bytes([17, 0, 0, 1, 0, 0, 0, 2]) + u6)),
        "bad_ipv6_exthdr")
    add("IPv6 hop-by-hop after destination options",
        E(ETH_IP6, ip6(60, ext6(0) + ext6(17) + u6)), "bad_ipv6_exthdr")
    chain = b"".join(ext6(60) for _ in range(9)) + ext6(17)
    add("IPv6 10 chained destination options", E(ETH_IP6, ip6(60, chain + u6)), "bad_ipv6_exthdr")
    add("IPv6 hop-by-hop with 14 bytes of padding (Linux: 7 at most)",
        E(ETH_IP6, ip6(0, ext6(17, 1, b"\x01\x0c" + b"\0" * 12) + u6)), "bad_ipv6_opts")
    add("IPv6 hop-by-hop PadN not of zeroes",
        E(ETH_IP6, ip6(0, ext6(17, 0, b"\x01\x04\0\0\x07\0") + u6)), "bad_ipv6_opts")
    add("IPv6 hop-by-hop unknown option 0x5e (01: discard)",
        E(ETH_IP6, ip6(0, ext6(17, 0, b"\x5e\x04\0\0\0\0") + u6)), "bad_ipv6_opts")
    add("IPv6 TCP header of 12 bytes", E(ETH_IP6, ip6(6, tcp(1, 2)[:12])), "short_tcp")
    add("IPv6 TCP data offset 15", E(ETH_IP6, ip6(6, tcp(1, 2, doff=15))), "short_tcp")
    add("IPv6 UDP header of 6 bytes", E(ETH_IP6, ip6(17, u6[:6])), "short_udp")
    add("IPv6 UDP behind destination options, length 200",
        E(ETH_IP6, ip6(60, ext6(17) + udp(1, 2, b"z" * 8, length=200))), "short_udp")
    add("ICMPv6 of 4 bytes", E(ETH_IP6, ip6(58, b"\x80\0\0\0", dst=GW_IP6)), "short_icmp6")

    # ---- ARP
    good_arp = arp(sha=me)
    add("ARP of 20 bytes", E(ETH_ARP, good_arp[:20]), "short_arp")
    add("ARP of 27 bytes", E(ETH_ARP, good_arp[:27]), "short_arp")
    add("ARP hlen 8", E(ETH_ARP, arp(hlen=8, sha=me)), "short_arp")
    add("ARP plen 6", E(ETH_ARP, arp(plen=6, sha=me)), "short_arp")
    add("ARP plen 16 (IPv6-sized)", E(ETH_ARP, arp(plen=16, sha=me) + b"\0" * 24), "short_arp")
    add("ARP htype 6", E(ETH_ARP, arp(htype=6, sha=me)), "short_arp")
    add("ARP ptype IPv6", E(ETH_ARP, arp(ptype=0x86DD, sha=me)), "short_arp")

    for desc, frame, reason in items:
        ok = tx.send(frame)
        print("  %-60s %4d bytes -> %s%s" % (desc, len(frame), reason, "" if ok else " (not sent)"))
        if ok:
            expect[reason] = expect.get(reason, 0) + 1
        time.sleep(0.002)

    # ---- neighbour solicitations: rampartd answers a valid one and
    # ignores broken ones (counted as nd_ignored on the control thread)
    fails = nd_checks(tx, rm, me)
    with open(expect_file, "w") as f:
        for reason, n in sorted(expect.items()):
            f.write("%s %d\n" % (reason, n))
    print("battery: %d frames sent, %d refused by the kernel" % (tx.sent, tx.refused))
    return 1 if fails else 0


def ns_frame(src_ip, src_mac, target, opts, bad_ck=False, hlim=255):
    dst = ipaddress.IPv6Address("ff02::1:ff00:0").packed[:13] + target[13:]
    body = b"\0\0\0\0" + target + opts
    m = icmp6(135, 0, body, src_ip, dst)
    if bad_ck:
        m = m[:2] + bytes([m[2] ^ 0x5A, m[3]]) + m[4:]
    dmac = b"\x33\x33" + dst[12:]
    return eth(dmac, src_mac, ETH_IP6, ip6(58, m, src=src_ip, dst=dst, hlim=hlim))


def nd_checks(tx, rm, me):
    cases = [  # (desc, last byte of the fake source, options, bad checksum, hop limit, answered)
        ("valid NS for fd77:1::1", 0x99, None, False, 255, True),
        ("NS with a zero-length option", 0x9A, b"\x01\x00" + b"\0" * 6, False, 255, False),
        ("NS with an option longer than the packet", 0x9B, b"\x01\x04" + b"\0" * 6, False, 255, False),
        ("NS with a bad ICMPv6 checksum", 0x9C, None, True, 255, False),
        ("NS with hop limit 64", 0x9D, None, False, 64, False),
    ]
    wanted = {}
    for desc, b, opts, bad, hlim, answered in cases:
        fake_mac = bytes([0x02, 0, 0, 0, 0, b])
        wanted[fake_mac] = (desc, answered)
    got = set()

    def seen(p):
        raw = bytes(p)
        # an NA (type 136) from rampartd to one of our made-up MACs
        if len(raw) >= 62 and raw[:6] in wanted and raw[12:14] == b"\x86\xdd" and raw[20] == 58 \
                and raw[54] == 136:
            got.add(raw[:6])

    sn = AsyncSniffer(iface=IFACE, prn=seen, store=False)
    sn.start()
    time.sleep(0.5)
    for desc, b, opts, bad, hlim, answered in cases:
        fake_mac = bytes([0x02, 0, 0, 0, 0, b])
        src_ip = LAN_IP6[:15] + bytes([b])
        if opts is None:
            opts = b"\x01\x01" + fake_mac  # source link-layer address option
        tx.send(ns_frame(src_ip, fake_mac, GW_IP6, opts, bad_ck=bad, hlim=hlim))
    time.sleep(1.5)
    sn.stop()
    fails = 0
    for mac, (desc, answered) in wanted.items():
        if (mac in got) == answered:
            print("CHECK ok %s: %s" % (desc, "answered" if answered else "ignored"))
        else:
            fails += 1
            print("CHECK FAIL %s: %s" % (desc, "no NA" if answered else "answered with an NA"))
    return fails


# ---------------------------------------------------------------- fuzz

# IPv4: unicast only. The root namespace's kernel sees every frame too (on
# the rampartd side of the veth, no address, forwarding off); a broadcast or
# multicast destination could reach one of its sockets, whose answer would
# leave through the machine's default route.
ALLOWED4 = [ipaddress.ip_network(n) for n in ("10.77.0.0/16", "10.99.0.0/16", "0.0.0.0/8")]
ALLOWED6 = [ipaddress.ip_network(n) for n in ("fd77::/16", "fd99::/16", "ff00::/8", "fe80::/10",
                                               "::/127")]


def confine(frame, me):
    """Keep the destination address inside the test's ranges (see the
    module doc): rewrite it, and fix the IPv4 header checksum if it was
    right before. And never claim the lan host's own address in ARP with
    another MAC: rampartd would rightly (RFC 826) send its traffic there,
    and the pings after the fuzz would test ARP spoofing instead."""
    f = bytearray(frame)
    off = 12
    while len(f) >= off + 2 and struct.unpack_from("!H", f, off)[0] in (ETH_VLAN, ETH_QINQ):
        off += 4
    if len(f) < off + 2:
        return bytes(f)
    et = struct.unpack_from("!H", f, off)[0]
    l3 = off + 2
    if et == ETH_ARP and len(f) >= l3 + 18 and bytes(f[l3 + 14:l3 + 18]) == LAN_IP:
        f[l3 + 8:l3 + 14] = me
    if et == ETH_IP4 and len(f) >= l3 + 20:
        d = ipaddress.IPv4Address(bytes(f[l3 + 16:l3 + 20]))
        if not any(d in n for n in ALLOWED4):
            ihl = (f[l3] & 0xF) * 4
            was_ok = 20 <= ihl <= len(f) - l3 and csum(bytes(f[l3:l3 + ihl])) == 0
            f[l3 + 16:l3 + 18] = bytes([10, random.choice((77, 99))])
            if was_ok:
                f[l3 + 10:l3 + 12] = b"\0\0"
                f[l3 + 10:l3 + 12] = struct.pack("!H", csum(bytes(f[l3:l3 + ihl])))
    elif et == ETH_IP6 and len(f) >= l3 + 40:
        d = ipaddress.IPv6Address(bytes(f[l3 + 24:l3 + 40]))
        if not any(d in n for n in ALLOWED6):
            f[l3 + 24:l3 + 26] = bytes([0xFD, random.choice((0x77, 0x99))])
    return bytes(f)


def fuzz(router_mac, seed, count):
    rnd = random.Random(seed)
    random.seed(seed)
    rm = mac_bytes(router_mac)
    me = mac_bytes(get_if_hwaddr(IFACE))
    tx = Sender()

    def rbytes(n):
        return bytes(rnd.getrandbits(8) for _ in range(n))

    def a4():
        return rnd.choice([LAN_IP, GW_IP, WAN_IP, bytes([10, 77, 2, 1]), bytes([10, 77, 2, 255]),
                           bytes([10, 99, 0, 1]), bytes([255, 255, 255, 255]), bytes([224, 0, 0, 1]),
                           bytes([0, 0, 0, 0]), bytes([10, 77, 1, 255]), bytes([127, 0, 0, 1]),
                           bytes([10, 77, 2, rnd.randrange(256)])])

    def a6():
        return rnd.choice([LAN_IP6, GW_IP6, WAN_IP6, ipaddress.IPv6Address("fd77:2::1").packed,
                           ipaddress.IPv6Address("fd99::1").packed,
                           ipaddress.IPv6Address("ff02::1").packed,
                           ipaddress.IPv6Address("ff02::1:ff00:1").packed,
                           ipaddress.IPv6Address("fe80::1").packed, b"\0" * 16, b"\0" * 15 + b"\1",
                           ipaddress.IPv6Address("fd77:2::%x" % rnd.randrange(65536)).packed])

    def l4(proto, src, dst, v6):
        n = rnd.randrange(0, 64)
        if proto == 6:
            seg = tcp(rnd.randrange(65536), rnd.choice([22, 80, 443, rnd.randrange(65536)]),
                      doff=rnd.choice([5, 5, 5, 6, 15, rnd.randrange(16)]),
                      flags=rnd.getrandbits(8)) + rbytes(n)
        elif proto == 17:
            seg = udp(rnd.randrange(65536), rnd.choice([9, 53, 33434, rnd.randrange(65536)]),
                      rbytes(n), length=rnd.choice([None, None, rnd.randrange(65536)]))
        elif proto in (1, 58):
            t = rnd.choice([0, 3, 8, 11, 128, 129, 133, 134, 135, 136, 137, 1, 2, 3, 4,
                            rnd.randrange(256)])
            seg = struct.pack("!BBH", t, rnd.choice([0, 0, rnd.randrange(256)]), 0) + rbytes(4 + n)
            ck = l4_ck6(src, dst, 58, seg) if v6 else csum(seg)
            seg = seg[:2] + struct.pack("!H", ck) + seg[4:]
        else:
            seg = rbytes(n)
        return seg

    def v4frame():
        proto = rnd.choice([1, 6, 17, 1, 6, 17, 47, 50, rnd.randrange(256)])
        src, dst = a4(), a4()
        opts = rbytes(4 * rnd.choice([0, 0, 0, 1, 2, 10])) if rnd.random() < 0.3 else b""
        pl = l4(proto, src, dst, False)
        ttl = rnd.choice([64, 1, 2, 0, 255])
        frag = rnd.choice([0, 0, 0, 0x4000, 0x2000, 0x2000 | rnd.randrange(8192), rnd.randrange(65536)])
        p = ip4(proto, pl, src=src, dst=dst, ihl=5 + len(opts) // 4, ttl=ttl, frag=frag, opts=opts)
        return ETH_IP4, p

    def v6frame():
        src, dst = a6(), a6()
        proto = rnd.choice([6, 17, 58, 58, 59, 50, rnd.randrange(256)])
        seg = l4(proto, src, dst, True)
        nh = proto
        hdrs = b""
        for _ in range(rnd.choice([0, 0, 1, 2, 3, 9, 12])):
            kind = rnd.choice([0, 43, 60, 44, 51])
            if kind == 44:
                h = bytes([nh, 0]) + struct.pack("!H", rnd.choice([0, 1, 8, rnd.randrange(65536)])) + rbytes(4)
            elif kind == 51:
                h = bytes([nh, 1]) + rbytes(10)
            else:
                el = rnd.choice([0, 0, 1, 3])
                h = bytes([nh, el]) + rbytes((el + 1) * 8 - 2)
            hdrs = h + hdrs
            nh = kind
        p = ip6(nh, hdrs + seg, src=src, dst=dst, hlim=rnd.choice([64, 255, 1, 0]))
        return ETH_IP6, p

    def arpframe():
        return ETH_ARP, arp(op=rnd.choice([1, 2, 1, 2, 3, rnd.randrange(65536)]),
                            sha=rnd.choice([me, rbytes(6), b"\0" * 6, b"\xff" * 6]),
                            spa=a4(), tpa=a4(), hlen=rnd.choice([6, 6, 6, rnd.randrange(256)]),
                            plen=rnd.choice([4, 4, 4, rnd.randrange(256)]))

    def mutate(b):
        b = bytearray(b)
        for _ in range(rnd.choice([1, 1, 2, 4, 8])):
            if not b:
                break
            i = rnd.randrange(len(b))
            op = rnd.random()
            if op < 0.6:
                b[i] ^= 1 << rnd.randrange(8)
            elif op < 0.8:
                b[i] = rnd.choice([0, 0xFF, 0x7F, 0x80, rnd.randrange(256)])
            else:
                del b[i:]
        return bytes(b)

    kinds = {}
    for i in range(count):
        r = rnd.random()
        et, pl = rnd.choice([v4frame, v4frame, v6frame, v6frame, arpframe])()
        tags = ()
        if rnd.random() < 0.08:
            tags = tuple((rnd.choice([ETH_VLAN, ETH_QINQ]), rnd.randrange(4096))
                         for _ in range(rnd.choice([1, 2, 3])))
        dmac = rnd.choice([rm] * 8 + [b"\xff" * 6, b"\x33\x33\xff\x00\x00\x01", rbytes(6)])
        if r < 0.45:
            kind = "mutated"
            fr = eth(dmac, me, et, mutate(pl), tags)
        elif r < 0.75:
            kind = "truncated"
            fr = eth(dmac, me, et, pl, tags)
            fr = fr[:rnd.randrange(14, len(fr) + 1)]
        elif r < 0.9:
            kind = "random-payload"
            fr = eth(dmac, me, rnd.choice([ETH_IP4, ETH_IP6, ETH_ARP, ETH_VLAN, rnd.randrange(65536)]),
                     rbytes(rnd.randrange(0, 200)), tags)
        else:
            kind = "as-built"
            fr = eth(dmac, me, et, pl, tags)
        kinds[kind] = kinds.get(kind, 0) + 1
        tx.send(confine(fr, me))
        if i % 64 == 63:
            time.sleep(0.01)  # let a sanitized worker keep up
    print("fuzz: seed %d, %d frames sent (%s), %d refused by the kernel"
          % (seed, tx.sent, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), tx.refused))
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "battery":
        return battery(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 5 and sys.argv[1] == "fuzz":
        return fuzz(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
