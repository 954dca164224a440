/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt_meta: what the one parser learns about a packet. Every later stage
 * (router, rules, conntrack, NAT) reads this and never re-parses headers.
 * Offsets are from the start of the frame; header fields are read through
 * them, so the struct stays small (one cache line).
 */
#ifndef RP_PKT_META_H
#define RP_PKT_META_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dp_drop.h"

enum pkt_l3 {
	PKT_L3_NONE = 0, /* non-IP, non-ARP (passes only in bridge mode) */
	PKT_L3_ARP,
	PKT_L3_IPV4,
	PKT_L3_IPV6,
};

/* flags */
#define PKT_F_FRAG 0x0001      /* part of a fragmented datagram */
#define PKT_F_FRAG_LATER 0x0002 /* a non-first fragment: no L4 header here */
#define PKT_F_IP_OPTS 0x0004   /* IPv4 options present */
#define PKT_F_L4 0x0008        /* l4_off and the L4 fields are valid */
#define PKT_F_L2_BCAST 0x0010  /* Ethernet broadcast */
#define PKT_F_L2_MCAST 0x0020  /* Ethernet multicast (incl. broadcast) */
#define PKT_F_IP_DF 0x0040     /* IPv4 don't fragment */
#define PKT_F_ICMP_ERR 0x0080  /* ICMP/ICMPv6 error message */
#define PKT_F_EXTHDR 0x0100    /* IPv6 extension headers present */
#define PKT_F_REASM 0x0200     /* reassembled from fragments (set by the worker) */

struct pkt_meta {
	uint32_t pkt_len;   /* bytes of frame available */
	uint16_t l3_off;    /* after Ethernet and VLAN tags */
	uint16_t l4_off;    /* valid with PKT_F_L4, or for fragments: upper-layer start */
	uint16_t l3_len;    /* IPv4 total length / IPv6 40 + payload length */
	uint16_t ethertype; /* innermost, host order */
	uint16_t vlan_tci[2];
	uint16_t flags;
	uint16_t sport, dport; /* host order; ICMP: id in sport, type<<8|code in dport */
	uint8_t l3;          /* enum pkt_l3 */
	uint8_t n_vlan;
	uint8_t l4_proto;    /* IPPROTO_*, upper layer after IPv6 extension headers */
	uint8_t ttl;         /* TTL / hop limit as received */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t drop;        /* enum dp_drop: DP_DROP_NONE when well formed */
	uint16_t frag_hdr_off; /* IPv6: offset of the fragment header, 0 if none */
	uint16_t ah_off;     /* IPv6: offset of the first AH extension header, 0 if none */
	uint16_t in_port;    /* ingress port index, set by the worker */
	uint32_t mark;       /* netfilter mark (MARK target), 0 on arrival */
};

/* A TCP or UDP header at l4, whole and consistent within the avail (>= 8)
 * bytes of the datagram after the IP header(s), as the parser requires it
 * (the one-pass paths' test: parse_common4, the router's fast lane). */
static inline bool pkt_tcpudp_ok(uint8_t proto, const uint8_t *l4, uint32_t avail)
{
	if (proto == 17) { /* UDP: its length */
		uint32_t ul = (uint32_t)(l4[4] << 8 | l4[5]);
		return ul >= 8 && ul <= avail;
	}
	if (proto != 6 || avail < 20) /* TCP: its data offset */
		return false;
	uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
	return doff >= 20 && doff <= avail;
}

/* The one's complement sum of len bytes (RFC 1071) folded to 16 bits: the
 * value rte_raw_cksum gives (16-bit words in host order; 0 only for a sum
 * of zeros), eight bytes a step instead of two. */
static inline uint16_t pkt_cksum(const void *buf, uint32_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	uint64_t s = 0;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		s += (v & 0xffffffffu) + (v >> 32);
	}
	if (len >= 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		s += v;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		s += v;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t v = 0;
		memcpy(&v, p, 1); /* the first byte of a word, whatever the byte order */
		s += v;
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * Parse one frame of len bytes. Fills *m and returns m->drop: DP_DROP_NONE
 * for a packet that is well formed as far as this parser looks, else the
 * reason it is malformed. Never reads outside [data, data + len).
 * Checks the IPv4 header checksum when verify_csum is set (software path
 * when the NIC did not check it).
 */
uint8_t pkt_parse(const uint8_t *data, uint32_t len, struct pkt_meta *m, int verify_csum);
/* The same without the one-pass path for the common IPv4 TCP/UDP frame:
 * what pkt_parse must equal on every input (tests and fuzzers compare). */
uint8_t pkt_parse_general(const uint8_t *data, uint32_t len, struct pkt_meta *m,
			  int verify_csum);

#endif
