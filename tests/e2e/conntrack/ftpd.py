#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small FTP and TFTP server for the helper tests (tests/e2e/test_helpers.sh).

    ftpd.py DIR PIDFILE

Serves the files of DIR read-only, anonymously: FTP on port 21 (IPv4 and
IPv6; passive PASV/EPSV and active PORT/EPRT data connections, what curl
uses) and TFTP read requests on UDP port 69 (IPv4; each transfer from a
new port, as RFC 1350 says, which is what the kernel's tftp helper
expects). Writes its pid to PIDFILE once both listen. Only what the tests
need: no writes, no directory listings, one file per RETR.
"""
import os
import socket
import struct
import sys
import threading

ROOT = sys.argv[1]


def reply(c, text):
    c.sendall((text + "\r\n").encode())


def ftp_session(c):
    pasv = None   # listening socket of a passive transfer
    active = None  # (addr, port) of an active one
    try:
        reply(c, "220 rampart test ftpd")
        f = c.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                return
            cmd, _, arg = line.decode(errors="replace").strip().partition(" ")
            cmd = cmd.upper()
            if cmd == "USER":
                reply(c, "331 any password")
            elif cmd == "PASS":
                reply(c, "230 logged in")
            elif cmd == "PWD":
                reply(c, '257 "/"')
            elif cmd in ("CWD", "TYPE", "MODE", "STRU"):
                reply(c, "200 ok")
            elif cmd == "SYST":
                reply(c, "215 UNIX Type: L8")
            elif cmd == "SIZE":
                p = os.path.join(ROOT, os.path.basename(arg))
                if os.path.isfile(p):
                    reply(c, "213 %d" % os.path.getsize(p))
                else:
                    reply(c, "550 no such file")
            elif cmd in ("PASV", "EPSV"):
                fam = c.family
                if cmd == "PASV" and fam != socket.AF_INET:
                    reply(c, "522 use EPSV")
                    continue
                pasv = socket.socket(fam, socket.SOCK_STREAM)
                pasv.bind((c.getsockname()[0], 0))
                pasv.listen(1)
                port = pasv.getsockname()[1]
                if cmd == "PASV":
                    a = c.getsockname()[0].replace(".", ",")
                    reply(c, "227 Entering Passive Mode (%s,%d,%d)." % (a, port >> 8, port & 255))
                else:
                    reply(c, "229 Entering Extended Passive Mode (|||%d|)" % port)
            elif cmd == "PORT":
                n = [int(x) for x in arg.split(",")]
                active = (".".join(map(str, n[:4])), n[4] << 8 | n[5])
                reply(c, "200 PORT ok")
            elif cmd == "EPRT":
                d = arg[0]
                _, af, addr, port, _ = arg.split(d)
                active = (addr, int(port))
                reply(c, "200 EPRT ok")
            elif cmd == "RETR":
                p = os.path.join(ROOT, os.path.basename(arg))
                if not os.path.isfile(p):
                    reply(c, "550 no such file")
                    continue
                data = open(p, "rb").read()
                if pasv is not None:
                    reply(c, "150 opening data connection")
                    pasv.settimeout(10)
                    try:
                        d, _ = pasv.accept()
                    except OSError:
                        reply(c, "425 no data connection")
                        pasv.close()
                        pasv = None
                        continue
                    pasv.close()
                    pasv = None
                elif active is not None:
                    reply(c, "150 opening data connection")
                    fam = socket.AF_INET6 if ":" in active[0] else socket.AF_INET
                    d = socket.socket(fam, socket.SOCK_STREAM)
                    d.settimeout(10)
                    try:
                        d.connect(active)
                    except OSError:
                        reply(c, "425 cannot connect")
                        d.close()
                        active = None
                        continue
                    active = None
                else:
                    reply(c, "425 use PASV or PORT first")
                    continue
                d.sendall(data)
                d.close()
                reply(c, "226 transfer complete")
            elif cmd == "QUIT":
                reply(c, "221 bye")
                return
            else:
                reply(c, "502 not implemented")
    except OSError:
        pass
    finally:
        c.close()


def ftp_server():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 21))
    s.listen(16)
    return s


def ftp_loop(s):
    while True:
        c, _ = s.accept()
        # an IPv4 client arrives as ::ffff:a.b.c.d: answer in its family
        if c.getsockname()[0].startswith("::ffff:"):
            fd = c.detach()
            c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, fileno=fd)
            c = Mapped(c)
        threading.Thread(target=ftp_session, args=(c,), daemon=True).start()


class Mapped:
    """An IPv4-mapped connection seen as IPv4 (addresses without ::ffff:)."""

    def __init__(self, s):
        self.s = s
        self.family = socket.AF_INET

    def getsockname(self):
        a = self.s.getsockname()
        return (a[0][7:], a[1])

    def __getattr__(self, name):
        return getattr(self.s, name)


def tftp_transfer(client, data):
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.bind(("0.0.0.0", 0))  # a new port for the transfer (RFC 1350)
    t.settimeout(1)
    block = 1
    while True:
        chunk = data[(block - 1) * 512:block * 512]
        pkt = struct.pack("!HH", 3, block & 0xFFFF) + chunk
        for _ in range(5):
            t.sendto(pkt, client)
            try:
                ack, frm = t.recvfrom(516)
            except socket.timeout:
                continue
            if frm == client and len(ack) >= 4 and struct.unpack("!HH", ack[:4]) == (4, block & 0xFFFF):
                break
        else:
            t.close()
            return
        if len(chunk) < 512:
            t.close()
            return
        block += 1


def tftp_loop(u):
    while True:
        req, client = u.recvfrom(1024)
        if len(req) < 4 or struct.unpack("!H", req[:2])[0] != 1:
            continue
        name = req[2:].split(b"\0")[0].decode(errors="replace")
        p = os.path.join(ROOT, os.path.basename(name))
        if not os.path.isfile(p):
            u.sendto(struct.pack("!HH", 5, 1) + b"not found\0", client)
            continue
        data = open(p, "rb").read()
        threading.Thread(target=tftp_transfer, args=(client, data), daemon=True).start()


def main():
    s = ftp_server()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 69))
    threading.Thread(target=tftp_loop, args=(u,), daemon=True).start()
    with open(sys.argv[2], "w") as f:
        f.write("%d\n" % os.getpid())
    ftp_loop(s)


if __name__ == "__main__":
    main()
