#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""IRC server, client and DCC peer for tests/e2e/test_helper_irc.sh.

    irc.py server LOG PIDFILE
        Listens on TCP port 6667, greets each client and appends every line
        it receives to LOG (as received: the address and port a DCC
        announcement names after any NAT rewriting). Writes its pid to
        PIDFILE once it listens.

    irc.py client SERVER FIFO LOG PORT...
        Listens on each PORT (the DCC offers' sockets), connects to SERVER
        port 6667 and waits for the greeting, then sends every line written
        to FIFO as one segment of its own (a helper reads one message per
        segment). Each peer that connects to a PORT gets "hello PORT" and
        is logged to LOG as "PORT PEER-ADDRESS".

    irc.py peer SRC ADDR PORT
        Connects from SRC to ADDR:PORT and prints "ok" if the client
        answered, else "fail".
"""
import os
import select
import socket
import sys
import time


def server(log, pidfile):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", 6667))
    ls.listen(8)
    with open(pidfile, "w") as f:
        f.write("%d\n" % os.getpid())
    conns = []
    bufs = {}
    while True:
        r, _, _ = select.select([ls] + conns, [], [])
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                c.sendall(b":irc.test 001 you :welcome\r\n")
                conns.append(c)
                bufs[c] = b""
                continue
            data = s.recv(65536)
            if not data:
                conns.remove(s)
                s.close()
                continue
            bufs[s] += data
            while b"\n" in bufs[s]:
                line, bufs[s] = bufs[s].split(b"\n", 1)
                with open(log, "ab") as f:
                    f.write(line.rstrip(b"\r") + b"\n")


def client(srv, fifo, log, ports):
    listeners = {}
    for p in ports:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", p))
        ls.listen(4)
        listeners[ls] = p
    c = socket.create_connection((srv, 6667), timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    greeting = b""
    while b"\n" not in greeting:
        d = c.recv(4096)
        if not d:
            sys.exit("irc.py client: the server closed")
        greeting += d
    c.settimeout(None)
    fd = os.open(fifo, os.O_RDWR)  # never sees EOF: the test ends it with a kill
    pending = b""
    while True:
        r, _, _ = select.select([fd, c] + list(listeners), [], [])
        for s in r:
            if s == fd:
                pending += os.read(fd, 65536)
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    # "\1" written as \x01 by the shell's printf; one line a segment
                    c.sendall(line + b"\r\n")
                    time.sleep(0.2)
            elif s is c:
                if not c.recv(65536):
                    return
            else:
                a, peer = s.accept()
                p = listeners[s]
                a.sendall(b"hello %d\n" % p)
                a.close()
                with open(log, "a") as f:
                    f.write("%d %s\n" % (p, peer[0]))


def peer(src, addr, port):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1.5)
        s.bind((src, 0))
        s.connect((addr, port))
        got = s.recv(100)
        print("ok" if got.startswith(b"hello") else "fail")
    except OSError:
        print("fail")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "server":
        server(sys.argv[2], sys.argv[3])
    elif cmd == "client":
        client(sys.argv[2], sys.argv[3], sys.argv[4], [int(p) for p in sys.argv[5:]])
    elif cmd == "peer":
        peer(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("usage: irc.py server|client|peer ...")
