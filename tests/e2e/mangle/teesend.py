#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/e2e/test_tee_kernel.sh's helper.
#   teesend.py send: UDP datagrams from the LAN host to the WAN host, to
#     ports 7001..7009 (IPv4) and 7001, 7002, 7004 (IPv6), three each, TTL
#     / hop limit 64, TOS 0, DF clear, fixed IP ids; three datagrams to
#     port 9 go ahead (tee.rules copies them back too): the first UDP
#     datagram a capture should see went missing at times, in both runs
#   (show leaves port 9 out)
#   teesend.py show TAG PCAP: one line per UDP datagram of the capture,
#     what TEE may change (TOS / traffic class, TTL / hop limit, DF,
#     length) and what names it (IP id, ports), prefixed with TAG
import sys
from scapy.all import IP, IPv6, UDP, Raw, send, conf, rdpcap

conf.verb = 0


def do_send():
    pk = [IP(src="10.77.1.2", dst="10.77.2.2", ttl=64) / UDP(sport=40009, dport=9)
          for _ in range(3)]
    for port in range(7001, 7010):
        for i in range(3):
            pk.append(IP(src="10.77.1.2", dst="10.77.2.2", ttl=64, tos=0, flags=0,
                         id=port * 4 + i) / UDP(sport=40000 + i, dport=port) / Raw(b"tee%d" % i))
    for port in (7001, 7002, 7004):
        for i in range(3):
            pk.append(IPv6(src="fd77:1::2", dst="fd77:2::2", hlim=64, tc=0, fl=0) /
                      UDP(sport=40000 + i, dport=port) / Raw(b"tee%d" % i))
    for p in pk:
        send(p)


def show(tag, path):
    for p in rdpcap(path):
        if UDP in p and p[UDP].dport == 9:
            continue
        if IP in p and UDP in p[IP]:
            ip = p[IP]
            print("%s v4 tos=0x%02x ttl=%d id=%d df=%d len=%d %d>%d" %
                  (tag, ip.tos, ip.ttl, ip.id, 1 if ip.flags.DF else 0, ip.len,
                   ip[UDP].sport, ip[UDP].dport))
        elif IPv6 in p and UDP in p[IPv6]:
            ip = p[IPv6]
            print("%s v6 tc=0x%02x hlim=%d plen=%d %d>%d" %
                  (tag, ip.tc, ip.hlim, ip.plen, ip[UDP].sport, ip[UDP].dport))


if __name__ == "__main__":
    if sys.argv[1] == "send":
        do_send()
    else:
        show(sys.argv[2], sys.argv[3])
