#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed frames of tests/fuzz/corpus/parse/ (plain Python, no
scapy): one well-formed frame per shape the parser knows, plus a few
classic malformations. Re-run after changing it; the files are committed."""
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "parse")

BCAST = b"\xff" * 6
H1 = bytes.fromhex("020000770102")
H2 = bytes.fromhex("020000770202")
A1 = bytes([10, 77, 1, 2])
A2 = bytes([10, 77, 2, 2])
S1 = bytes.fromhex("fd770001000000000000000000000002")
S2 = bytes.fromhex("fd770002000000000000000000000002")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, et, *tags):
    """tags: (tpid, tci) pairs, outermost first; et is the inner type."""
    b = dst + src
    for tpid, tci in tags:
        b += struct.pack("!HH", tpid, tci)
    return b + struct.pack("!H", et)


def ip4(proto, payload, ttl=64, frag=0, opts=b"", src=A1, dst=A2, tlen=None, bad_csum=False):
    ihl = 5 + len(opts) // 4
    tl = 4 * ihl + len(payload) if tlen is None else tlen
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl, 0x1234, frag, ttl, proto, 0, src, dst) + opts
    c = csum(h) ^ (0xFFFF if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def ip6(nh, payload, hlim=64, src=S1, dst=S2, plen=None):
    pl = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, pl, nh, hlim, src, dst) + payload


def tcp(sport=40000, dport=80, flags=0x02, doff=5, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, doff << 4, flags, 65535, 0, 0) + \
        b"\0" * (4 * doff - 20) + data


def udp(sport=5353, dport=53, data=b"", ulen=None):
    return struct.pack("!HHHH", sport, dport, 8 + len(data) if ulen is None else ulen, 0) + data


def icmp(t, code=0, rest=b"\x42\x42\x00\x01", data=b"abcdefgh"):
    b = struct.pack("!BBH", t, code, 0) + rest + data
    return b[:2] + struct.pack("!H", csum(b)) + b[4:]


def opts6(nh, hl=0):
    n = 8 * (hl + 1)
    return bytes([nh, hl, 1, n - 4]) + b"\0" * (n - 4)


def frag6(nh, off=0, more=False):
    return struct.pack("!BBHI", nh, 0, off << 3 | int(more), 0xABCDEF01)


def arp(op=1, tip=A2):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, H1, A1, b"\0" * 6, tip)


def pad(b, n=60):
    return b + b"\0" * max(0, n - len(b))


E4 = eth(H2, H1, 0x0800)
E6 = eth(H2, H1, 0x86DD)

seeds = {
    "tcp4_syn": E4 + ip4(6, tcp()),
    "tcp4_opts_data": E4 + ip4(6, tcp(doff=8, flags=0x18, data=b"GET / HTTP/1.0\r\n\r\n")),
    "udp4_dns": eth(BCAST, H1, 0x0800) + ip4(17, udp(data=b"\x12\x34" + b"\0" * 10)),
    "udp4_padded": pad(E4 + ip4(17, udp(68, 67))),
    "icmp4_echo": E4 + ip4(1, icmp(8)),
    "icmp4_ttl_exceeded": E4 + ip4(1, icmp(11, 0, b"\0" * 4, ip4(17, udp())[:28])),
    "icmp4_frag_needed": E4 + ip4(1, icmp(3, 4, b"\0\0\x05\xdc", ip4(6, tcp())[:28])),
    "ip4_options": E4 + ip4(17, udp(), opts=b"\x94\x04\0\0\x01\x01\x01\x00"),
    "ip4_max_options": E4 + ip4(17, udp(), opts=b"\x01" * 40),
    "ip4_frag_first": E4 + ip4(17, udp(ulen=3000, data=b"\0" * 24), frag=0x2000),
    "ip4_frag_later": E4 + ip4(6, b"xy", frag=185),
    "ip4_frag_overflow": E4 + ip4(17, b"\0" * 8, frag=0x1FFF),
    "ip4_esp": E4 + ip4(50, struct.pack("!II", 0x1000, 1) + b"\0" * 16),
    "ip4_gre": E4 + ip4(47, b"\0\0\x08\x00" + ip4(17, udp())),
    "ip4_bad_csum": E4 + ip4(17, udp(), bad_csum=True),
    "ip4_bad_ihl": E4 + b"\x44" + ip4(17, udp())[1:],
    "ip4_tlen_short": E4 + ip4(17, udp(), tlen=19),
    "ip4_tlen_long": E4 + ip4(17, udp(), tlen=200),
    "tcp4_bad_doff": E4 + ip4(6, tcp(doff=4)),
    "udp4_bad_len": E4 + ip4(17, udp(ulen=7)),
    "vlan1_udp4": eth(H2, H1, 0x0800, (0x8100, 100)) + ip4(17, udp()),
    "vlan2_udp4": eth(H2, H1, 0x0800, (0x88A8, 100), (0x8100, 200)) + ip4(17, udp()),
    "vlan3_udp4": eth(H2, H1, 0x0800, (0x88A8, 1), (0x8100, 2), (0x8100, 3)) + ip4(17, udp()),
    "vlan_arp": eth(BCAST, H1, 0x0806, (0x8100, 5)) + arp(),
    "arp_request": eth(BCAST, H1, 0x0806) + arp(),
    "arp_reply_padded": pad(eth(H2, H1, 0x0806) + arp(2)),
    "arp_truncated": (eth(BCAST, H1, 0x0806) + arp())[:41],
    "lldp": eth(bytes.fromhex("0180c200000e"), H1, 0x88CC) + b"\x02\x07\x04" + H1 + b"\0" * 37,
    "short_eth": eth(H2, H1, 0x0800)[:13],
    "tcp6": E6 + ip6(6, tcp(22, 1022, 0x10)),
    "udp6_padded": pad(E6 + ip6(17, udp()), 80),
    "icmp6_echo": E6 + ip6(58, icmp(128)),
    "icmp6_ns": eth(bytes.fromhex("3333ff000001"), H1, 0x86DD) + ip6(
        58, icmp(135, 0, b"\0" * 4, bytes.fromhex("fd770001000000000000000000000001") + b"\x01\x01" + H1),
        hlim=255, dst=bytes.fromhex("ff0200000000000000000001ff000001")),
    "icmp6_time_exceeded": E6 + ip6(58, icmp(3, 0, b"\0" * 4, ip6(17, udp())[:48])),
    "ip6_ext_chain": E6 + ip6(0, opts6(43) + bytes([60, 2, 0, 0]) + b"\0" * 4 + S2 +
                              opts6(44, 1) + frag6(17, 0, True) + udp(547, 546, b"0123456789")),
    "ip6_frag_later": E6 + ip6(44, frag6(6, 100) + b"tail"),
    "ip6_two_frag_headers": E6 + ip6(44, frag6(44, 0, True) + frag6(17, 0, True) + udp()),
    "ip6_hbh_not_first": E6 + ip6(60, opts6(0) + opts6(17) + udp()),
    "ip6_nine_dstopts": E6 + ip6(60, b"".join(opts6(60) for _ in range(8)) + opts6(17) + udp()),
    "ip6_ah_tcp": E6 + ip6(51, bytes([6, 4, 0, 0]) + struct.pack("!II", 0x2000, 5) + b"\0" * 12 + tcp(179, 50000, 0x18, 6)),
    "ip6_esp": E6 + ip6(50, struct.pack("!II", 0x1000, 1) + b"\0" * 16),
    "ip6_no_next": E6 + ip6(60, opts6(59)),
    "ip6_jumbogram": E6 + ip6(0, opts6(17) + udp(), plen=0),
    "ip6_plen_long": E6 + ip6(17, udp(), plen=500),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, frame in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(frame)
    print("%d seeds in %s" % (len(seeds), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
