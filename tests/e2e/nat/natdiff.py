#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""NAT differential test helper (tests/e2e/test_nat_kernel.sh).

  natdiff.py events FILE        conntrack -E lines made comparable (below)
  natdiff.py serve PORT...      UDP and TCP echo servers on PORT... (all
                                addresses, v4 and v6): each answers
                                "seen=ADDR:PORT at=PORT"
  natdiff.py udp SRC SPORT DST DPORT
  natdiff.py tcp SRC SPORT DST DPORT
  natdiff.py sctp SRC SPORT DST DPORT
                                one exchange from SRC:SPORT; prints
                                "seen=ADDR:PORT at=PORT from=ADDR:PORT"
                                (the peer the server saw, the server's own
                                port, where the answer came from; SCTP:
                                an INIT answered by an INIT_ACK, with
                                whether each CRC32c arrived right)
  natdiff.py sctp-serve PORT    (scapy: the hosts have no SCTP) answer
                                INITs to PORT

Ports the translation chose are printed as "kept" (the client's own) or by
the class the kernel picks them from (1-511, 600-1023, 1024-65535), so that
the kernel's random choices compare equal to ours.
"""
import socket
import sys
import threading


def norm_addr(a):
    return a[7:] if a.startswith("::ffff:") else a


def port_class(p, own):
    if p == own:
        return "kept"
    if 1 <= p <= 511:
        return "1-511"
    if 600 <= p <= 1023:
        return "600-1023"
    if p >= 1024:
        return "1024-65535"
    return "other(%d)" % p


def serve(ports):
    def udp(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        while True:
            _, a = s.recvfrom(2048)
            s.sendto(("seen=%s:%d at=%d" % (norm_addr(a[0]), a[1], port)).encode(), a)

    def tcp(port):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        s.listen(64)
        while True:
            c, a = s.accept()
            c.sendall(("seen=%s:%d at=%d" % (norm_addr(a[0]), a[1], port)).encode())
            c.close()

    for p in ports:
        threading.Thread(target=udp, args=(p,), daemon=True).start()
        threading.Thread(target=tcp, args=(p,), daemon=True).start()
    print("serving", flush=True)
    threading.Event().wait()


def client(kind, src, sport, dst, dport):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(3)
    s.bind((src, sport))
    try:
        if kind == "udp":
            s.sendto(b"hello", (dst, dport))
            data, a = s.recvfrom(2048)
        else:
            s.connect((dst, dport))
            a = s.getpeername()
            data = s.recv(2048)
    except (socket.timeout, OSError) as e:
        print("failed(%s)" % type(e).__name__)
        return
    seen, at = data.decode().split(" ")
    addr, port = seen.split("=", 1)[1].rsplit(":", 1)
    print("seen=%s:%s %s from=%s:%d" % (addr, port_class(int(port), sport), at, norm_addr(a[0]), a[1]))


def crc32c(b):
    c = 0xffffffff
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
    return c ^ 0xffffffff


def sctp_crc_ok(l4):
    """the SCTP packet's CRC32c (RFC 9260 appendix B) is right"""
    b = bytes(l4)
    return len(b) >= 12 and crc32c(b[:8] + b"\0\0\0\0" + b[12:]).to_bytes(4, "little") == b[8:12]


def sctp_serve(port):
    """answer every SCTP INIT to port with an INIT_ACK whose cookie says
    what was seen: "seen=ADDR:PORT at=PORT crc=ok|bad" (scapy: the host
    has no SCTP)"""
    from scapy.all import IP, IPv6, sniff, conf
    from scapy.layers.sctp import SCTP, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkParamStateCookie
    conf.verb = 0
    out = conf.L3socket()  # one socket for every answer (send() opens one each time)

    def answer(p):
        ip = p[IP] if IP in p else p[IPv6]
        sc = p[SCTP]
        if SCTPChunkInit not in p or sc.dport != port:
            return
        ok = "ok" if sctp_crc_ok(sc) else "bad"
        what = "seen=%s:%d at=%d crc=%s" % (ip.src, sc.sport, port, ok)
        back = IP(src=ip.dst, dst=ip.src) if IP in p else IPv6(src=ip.dst, dst=ip.src)
        out.send(back / SCTP(sport=port, dport=sc.sport, tag=p[SCTPChunkInit].init_tag) /
             SCTPChunkInitAck(init_tag=0x5eed, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1,
                              params=[SCTPChunkParamStateCookie(cookie=what.encode())]))
    sniff(filter="(ip proto 132 or ip6 proto 132) and dst port %d" % port, prn=answer, store=False,
          started_callback=lambda: print("serving", flush=True))


def sctp_client(src, sport, dst, dport):
    """an SCTP INIT from src:sport, its INIT_ACK awaited: what the server
    saw, where the answer came from, whether both CRCs were right"""
    from scapy.all import IP, IPv6, sr1, conf
    from scapy.layers.sctp import SCTP, SCTPChunkInit, SCTPChunkParamStateCookie
    conf.verb = 0
    ip = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
    a = sr1(ip / SCTP(sport=sport, dport=dport, tag=0) /
            SCTPChunkInit(init_tag=0x1234, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1),
            timeout=4, retry=1)  # one INIT again if unanswered (as a stack would)
    if a is None or SCTPChunkParamStateCookie not in a:
        print("failed(no INIT_ACK)")
        return
    seen, at, crc = a[SCTPChunkParamStateCookie].cookie.decode().split(" ")
    addr, port = seen.split("=", 1)[1].rsplit(":", 1)
    fr = a[IP].src if IP in a else a[IPv6].src
    print("seen=%s:%s %s %s from=%s:%d back-crc=%s" % (addr, port_class(int(port), sport), at, crc, fr,
                                                     a[SCTP].sport, "ok" if sctp_crc_ok(a[SCTP]) else "bad"))


TIMEOUTS = (3, 10, 30, 60, 120, 210, 300, 432000)


def events(path):
    """conntrack -E lines (the kernel's or rampartctl's), comparable: the
    timeout as the kernel's timeout it is, the reply's ports as port_class
    of the original's (a translation the kernel picked at random compares
    by its class), no counters, marks, netlink port ids or the program
    that deleted it."""
    for line in open(path):
        t = line.split()
        if len(t) < 4 or t[0] not in ("[NEW]", "[UPDATE]", "[DESTROY]"):
            continue
        out = [t[0], t[1]]
        i = 3
        if t[i].isdigit():
            secs = int(t[i])
            out.append("timeout<=%s" % next((str(c) for c in TIMEOUTS if secs <= c), "?"))
            i += 1
        ports = []
        for w in t[i:]:
            k, _, v = w.partition("=")
            if k in ("packets", "bytes", "mark", "use", "zone", "portid", "progname") or w == "[USERSPACE]":
                continue
            if k in ("sport", "dport"):
                ports.append(int(v))
                if len(ports) == 3:  # the reply's source: the original's destination?
                    w = "sport=" + port_class(ports[2], ports[1])
                elif len(ports) == 4:  # the reply's destination: the original's source?
                    w = "dport=" + port_class(ports[3], ports[0])
            out.append(w)
        print(" ".join(out))


def main():
    if sys.argv[1] == "serve":
        serve([int(p) for p in sys.argv[2:]])
    elif sys.argv[1] == "events":
        events(sys.argv[2])
    elif sys.argv[1] == "sctp-serve":
        sctp_serve(int(sys.argv[2]))
    elif sys.argv[1] == "sctp":
        sctp_client(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    else:
        client(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))


if __name__ == "__main__":
    main()
