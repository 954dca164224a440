#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""CT --timeout differential helper (tests/e2e/test_ct_timeout_kernel.sh).

  cttimeout.py serve            (wan) UDP echo on 5353 and 5354 (v4 and v6),
                                TCP on 8080 and 8081 (hold the connection
                                open) and 8082 (close at once)
  cttimeout.py flows V4 V6      (lan) the flows, held open 30 s: UDP
                                answered and still going after 2 s (5353),
                                answered (5354), unanswered (5355); TCP
                                held (8080, 8081), closed by the server
                                (8082); IPv6 UDP (5353, 5355); one ESP
                                and one AH packet (the generic tracker)
  cttimeout.py list FILE        conntrack -L lines made comparable: the
                                protocol, the original destination port (or
                                protocol number: proto50), the
                                state and flags, the timeout as the smallest
                                of the bounds below it is under
"""
import socket
import sys
import threading
import time

BOUNDS = (3, 5, 7, 9, 30, 60, 100, 120, 300, 600, 432000)


def serve():
    def udp(fam, addr, port):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        while True:
            d, a = s.recvfrom(2048)
            s.sendto(d, a)

    def tcp(port, close):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(16)
        held = []
        while True:
            c, _ = s.accept()
            if close:
                c.close()
            else:
                held.append(c)

    for p in (5353, 5354):
        threading.Thread(target=udp, args=(socket.AF_INET, "0.0.0.0", p), daemon=True).start()
        threading.Thread(target=udp, args=(socket.AF_INET6, "::", p), daemon=True).start()
    for p, close in ((8080, False), (8081, False), (8082, True)):
        threading.Thread(target=tcp, args=(p, close), daemon=True).start()
    print("serving", flush=True)
    threading.Event().wait()


def flows(v4, v6):
    keep = []

    def udp(fam, dst, port, answered, again=False):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(b"x", (dst, port))
        if answered:
            s.recvfrom(2048)
        keep.append(s)
        return s

    def tcp(port):
        s = socket.create_connection((v4, port), timeout=3)
        keep.append(s)
        return s

    s = udp(socket.AF_INET, v4, 5353, True)
    time.sleep(2.5)  # still going after 2 s: a stream (ASSURED)
    s.sendto(b"y", (v4, 5353))
    s.recvfrom(2048)
    udp(socket.AF_INET, v4, 5354, True)
    udp(socket.AF_INET, v4, 5355, False)
    udp(socket.AF_INET6, v6, 5353, True)
    udp(socket.AF_INET6, v6, 5355, False)
    tcp(8080)
    tcp(8081)
    c = tcp(8082)
    c.settimeout(3)
    c.recv(16)  # the server's FIN: the connection is in CLOSE_WAIT
    # ESP and AH: the generic tracker's (ESP under a generic policy)
    for proto, body in ((50, b"\0\0\1\0" + b"\0\0\0\1" + b"\0" * 8),
                        (51, bytes([59, 4, 0, 0]) + b"\0\0\1\0" + b"\0\0\0\1" + b"\0" * 12)):
        r = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
        r.sendto(body, (v4, 0))
        keep.append(r)
    time.sleep(0.3)  # our ACK of the server's FIN gone (a delayed ACK: 200 ms at most)
    print("flows", flush=True)
    time.sleep(30)


def listing(path):
    out = []
    for line in open(path):
        t = line.split()
        if len(t) < 4 or not t[2].isdigit():
            continue
        proto, secs = t[0], int(t[2])
        kv = {}
        for w in t:  # the original tuple: the first of each key
            if "=" in w:
                k, v = w.split("=", 1)
                kv.setdefault(k, v)
        dport = kv.get("dport", "-")
        if proto == "unknown":  # "unknown 50 SECS": by its protocol number
            proto, secs = "proto" + t[1], int(t[2])
        if dport not in ("5353", "5354", "5355", "8080", "8081", "8082") and \
                proto not in ("proto50", "proto51"):
            continue
        state = t[3] if "=" not in t[3] else "-"
        fam = "ipv6" if ":" in kv.get("src", "") else "ipv4"
        flags = " ".join(w for w in t if w.startswith("[") and w != "[UNREPLIED]" or w == "[UNREPLIED]")
        bound = next((b for b in BOUNDS if secs <= b), "?")
        out.append("%s %s dport=%s %s timeout<=%s %s" % (fam, proto, dport, state, bound, flags))
    for o in sorted(out):
        print(o)


def main():
    if sys.argv[1] == "serve":
        serve()
    elif sys.argv[1] == "flows":
        flows(sys.argv[2], sys.argv[3])
    else:
        listing(sys.argv[2])


if __name__ == "__main__":
    main()
