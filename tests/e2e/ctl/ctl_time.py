#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# ctl_time.py SOCKET N WORD...: send the request (the words, percent-encoded
# as src/ctl_proto.c expects, with "{i}" in a word replaced by the round
# number) N times over rampartd's control socket and print the time from
# sending the request to the end of the answer, in microseconds, one line
# per round; exit 1 if an answer is not "%% ok".
import socket, sys, time

def enc(w):
    out = ""
    for b in w.encode():
        c = chr(b)
        out += "%%%02X" % b if b <= 0x20 or b >= 0x7f or c in "%<" else c
    return out or "%00"

path, n, words = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for i in range(n):
    req = (" ".join(enc(w.replace("{i}", str(i))) for w in words) + "\n").encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    t0 = time.monotonic()
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)
    ans = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        ans += b
    t1 = time.monotonic()
    s.close()
    last = ans.decode(errors="replace").strip().splitlines()[-1] if ans.strip() else ""
    if not last.startswith("%% ok"):
        print("request failed:", last, file=sys.stderr)
        sys.exit(1)
    print(int((t1 - t0) * 1e6))
