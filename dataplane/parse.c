/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse: the one packet parser. Runs on workers for every received frame,
 * and in unit tests and fuzzers on plain buffers (no EAL needed). Every read
 * is preceded by a bounds check against the frame length, and the L4 checks
 * are bounded by the IP datagram's own length so Ethernet padding is never
 * mistaken for payload. Malformed packets get a drop reason, never a crash.
 */
#include "pkt_meta.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>

const char *const dp_drop_names[DP_DROP_MAX] = {
#define DP_DROP_NAME(name, str) [DP_DROP_##name] = str,
	DP_DROP_REASONS(DP_DROP_NAME)
#undef DP_DROP_NAME
};

#define IPV6_MAX_EXTHDRS 8

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* One's complement sum of an IPv4 header is 0xffff when its checksum is
 * right. 32-bit words into a 64-bit accumulator, folded once at the end. */
static inline bool ip4_csum_ok(const uint8_t *h, uint32_t hlen)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < hlen; i += 4) {
		uint32_t w;
		memcpy(&w, h + i, 4);
		s += w;
	}
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* more_frags: a first fragment, whose UDP length is the whole datagram's */
static inline uint8_t parse_l4(const uint8_t *data, uint32_t end, struct pkt_meta *m, uint32_t off,
			       bool more_frags)
{
	uint32_t avail = end > off ? end - off : 0;
	const uint8_t *p = data + off;

	m->l4_off = (uint16_t)off;
	switch (m->l4_proto) {
	case IPPROTO_TCP: {
		if (avail < 20)
			return DP_DROP_SHORT_TCP;
		uint32_t doff = (uint32_t)(p[12] >> 4) * 4;
		if (doff < 20 || doff > avail)
			return DP_DROP_SHORT_TCP;
		m->sport = rd16(p);
		m->dport = rd16(p + 2);
		m->tcp_flags = p[13];
		break;
	}
	case IPPROTO_UDP: {
		if (avail < 8)
			return DP_DROP_SHORT_UDP;
		uint16_t ulen = rd16(p + 4);
		if (ulen < 8 || (ulen > avail && !more_frags))
			return DP_DROP_SHORT_UDP;
		m->sport = rd16(p);
		m->dport = rd16(p + 2);
		break;
	}
	case IPPROTO_ICMP:
		if (avail < 8)
			return DP_DROP_SHORT_ICMP;
		m->icmp_type = p[0];
		m->icmp_code = p[1];
		if (p[0] == 3 || p[0] == 4 || p[0] == 5 || p[0] == 11 || p[0] == 12)
			m->flags |= PKT_F_ICMP_ERR;
		m->sport = rd16(p + 4);
		m->dport = (uint16_t)(p[0] << 8 | p[1]);
		break;
	case IPPROTO_ICMPV6:
		if (avail < 8)
			return DP_DROP_SHORT_ICMP6;
		m->icmp_type = p[0];
		m->icmp_code = p[1];
		if (p[0] < 128)
			m->flags |= PKT_F_ICMP_ERR;
		m->sport = rd16(p + 4);
		m->dport = (uint16_t)(p[0] << 8 | p[1]);
		break;
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
		/* ports first: connection tracking keys SCTP's and UDP-Lite's
		 * by them (a header too short for them has none: the tracker
		 * says INVALID), rampartctl trace filters all three by them */
		if (avail >= 4) {
			m->sport = rd16(p);
			m->dport = rd16(p + 2);
		}
		break;
	default:
		break; /* other protocols: address pair and protocol only */
	}
	m->flags |= PKT_F_L4;
	return DP_DROP_NONE;
}

static uint8_t parse_ipv4(const uint8_t *data, uint32_t len, struct pkt_meta *m, int verify_csum)
{
	uint32_t off = m->l3_off;
	if (len - off < sizeof(struct rte_ipv4_hdr))
		return DP_DROP_SHORT_IPV4;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(data + off);
	if ((ip->version_ihl >> 4) != 4)
		return DP_DROP_BAD_IPV4_VERSION;
	uint32_t hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (hlen < 20 || hlen > len - off)
		return DP_DROP_BAD_IPV4_HLEN;
	uint32_t tlen = rte_be_to_cpu_16(ip->total_length);
	if (tlen < hlen || tlen > len - off)
		return DP_DROP_BAD_IPV4_LEN;
	if (verify_csum && !ip4_csum_ok((const uint8_t *)ip, hlen))
		return DP_DROP_BAD_IPV4_CSUM;
	m->l3 = PKT_L3_IPV4;
	m->l3_len = (uint16_t)tlen;
	m->ttl = ip->time_to_live;
	m->l4_proto = ip->next_proto_id;
	if (hlen > 20)
		m->flags |= PKT_F_IP_OPTS;
	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (frag & RTE_IPV4_HDR_DF_FLAG)
		m->flags |= PKT_F_IP_DF;
	uint32_t foff = (uint32_t)(frag & RTE_IPV4_HDR_OFFSET_MASK) * 8;
	if (foff + (tlen - hlen) > 65535)
		return DP_DROP_BAD_IPV4_FRAG;
	if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		m->flags |= PKT_F_FRAG;
	if (foff != 0) {
		/* no transport header in a later fragment */
		m->flags |= PKT_F_FRAG_LATER;
		m->l4_off = (uint16_t)(off + hlen);
		return DP_DROP_NONE;
	}
	return parse_l4(data, off + tlen, m, off + hlen, (frag & RTE_IPV4_HDR_MF_FLAG) != 0);
}

static uint8_t parse_ipv6(const uint8_t *data, uint32_t len, struct pkt_meta *m)
{
	uint32_t off = m->l3_off;
	if (len - off < sizeof(struct rte_ipv6_hdr))
		return DP_DROP_SHORT_IPV6;
	const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(data + off);
	if ((data[off] >> 4) != 6)
		return DP_DROP_BAD_IPV6_VERSION;
	uint32_t plen = rte_be_to_cpu_16(ip6->payload_len);
	if (plen == 0 && ip6->proto == IPPROTO_HOPOPTS)
		return DP_DROP_BAD_IPV6_LEN; /* jumbograms are not for Ethernet */
	if (40 + plen > len - off)
		return DP_DROP_BAD_IPV6_LEN;
	m->l3 = PKT_L3_IPV6;
	m->l3_len = (uint16_t)(40 + plen);
	m->ttl = ip6->hop_limits;
	uint32_t end = off + 40 + plen;
	uint32_t cur = off + 40;
	uint8_t nh = ip6->proto;
	bool more_frags = false;

	for (int i = 0;; i++) {
		uint32_t hl;
		switch (nh) {
		case IPPROTO_HOPOPTS:
			if (i != 0) /* RFC 8200 4.1: only right after the IPv6 header */
				return DP_DROP_BAD_IPV6_EXTHDR;
			/* fallthrough */
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (end - cur < 8)
				return DP_DROP_BAD_IPV6_EXTHDR;
			hl = ((uint32_t)data[cur + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (end - cur < 8)
				return DP_DROP_BAD_IPV6_EXTHDR;
			hl = ((uint32_t)data[cur + 1] + 2) * 4;
			if (m->ah_off == 0) /* ip6t_ah looks at the first one */
				m->ah_off = (uint16_t)cur;
			break;
		case IPPROTO_FRAGMENT: {
			if (end - cur < 8 || m->frag_hdr_off != 0)
				return DP_DROP_BAD_IPV6_EXTHDR;
			uint16_t fo = rd16(data + cur + 2);
			m->frag_hdr_off = (uint16_t)cur;
			/* an atomic fragment (offset 0, M clear: RFC 6946) is a
			 * whole packet: tracked as one, as the kernel does */
			if (fo & 0xfff9)
				m->flags |= PKT_F_FRAG;
			more_frags = (fo & 1) != 0;
			hl = 8;
			if ((fo & 0xfff8) != 0) {
				m->flags |= PKT_F_FRAG_LATER | PKT_F_EXTHDR;
				m->l4_proto = data[cur];
				m->l4_off = (uint16_t)(cur + 8);
				return DP_DROP_NONE;
			}
			if ((fo & 1) == 0 && (fo & 0xfff8) == 0) {
				/* atomic fragment (RFC 6946): a whole packet */
			}
			break;
		}
		default:
			m->l4_proto = nh;
			if (nh == IPPROTO_NONE || nh == IPPROTO_ESP) {
				m->l4_off = (uint16_t)cur;
				m->flags |= PKT_F_L4;
				return DP_DROP_NONE;
			}
			return parse_l4(data, end, m, cur, more_frags);
		}
		if (i >= IPV6_MAX_EXTHDRS || hl > end - cur)
			return DP_DROP_BAD_IPV6_EXTHDR;
		m->flags |= PKT_F_EXTHDR;
		nh = data[cur];
		cur += hl;
	}
}

/*
 * The common frame in one pass: untagged, unicast, IPv4 with a 20-byte
 * header, not a fragment, TCP or UDP whose header is whole and consistent.
 * Fills *m exactly as the general parser below would (test_parse and
 * fuzz_parse compare the two on every input) and returns true; false (m
 * untouched) for anything else, which the general parser then takes.
 */
static inline bool parse_common4(const uint8_t *data, uint32_t len, struct pkt_meta *m,
				 int verify_csum)
{
	if (len < RTE_ETHER_HDR_LEN + 20 + 8 || (data[0] & 1) || rd16(data + 12) != 0x0800 ||
	    data[14] != 0x45)
		return false;
	const uint8_t *ip = data + RTE_ETHER_HDR_LEN;
	uint32_t tl = rd16(ip + 2);
	uint16_t frag = rd16(ip + 6);
	if (tl < 20 + 8 || tl > len - RTE_ETHER_HDR_LEN || (frag & 0x3fff) != 0)
		return false;
	const uint8_t *l4 = ip + 20;
	uint32_t avail = tl - 20;
	uint8_t proto = ip[9];
	if (!pkt_tcpudp_ok(proto, l4, avail))
		return false;
	uint8_t tcp_flags = proto == IPPROTO_TCP ? l4[13] : 0;
	if (verify_csum && !ip4_csum_ok(ip, 20))
		return false; /* the general parser names the drop */
	*m = (struct pkt_meta){
		.pkt_len = len,
		.l3_off = RTE_ETHER_HDR_LEN,
		.l4_off = RTE_ETHER_HDR_LEN + 20,
		.l3_len = (uint16_t)tl,
		.ethertype = RTE_ETHER_TYPE_IPV4,
		.flags = (uint16_t)(PKT_F_L4 | (frag & RTE_IPV4_HDR_DF_FLAG ? PKT_F_IP_DF : 0)),
		.sport = rd16(l4),
		.dport = rd16(l4 + 2),
		.l3 = PKT_L3_IPV4,
		.l4_proto = proto,
		.ttl = ip[8],
		.tcp_flags = tcp_flags,
		.drop = DP_DROP_NONE,
		.in_port = m->in_port,
	};
	return true;
}

uint8_t pkt_parse(const uint8_t *data, uint32_t len, struct pkt_meta *m, int verify_csum)
{
	if (likely(parse_common4(data, len, m, verify_csum)))
		return DP_DROP_NONE;
	return pkt_parse_general(data, len, m, verify_csum);
}

uint8_t pkt_parse_general(const uint8_t *data, uint32_t len, struct pkt_meta *m, int verify_csum)
{
	uint16_t in_port = m->in_port;
	memset(m, 0, sizeof(*m));
	m->in_port = in_port;
	m->pkt_len = len;
	if (len < RTE_ETHER_HDR_LEN)
		return m->drop = DP_DROP_SHORT_L2;
	if (data[0] & 1) {
		m->flags |= PKT_F_L2_MCAST;
		if (memcmp(data, "\xff\xff\xff\xff\xff\xff", 6) == 0)
			m->flags |= PKT_F_L2_BCAST;
	}
	uint32_t off = 12;
	uint16_t et = rd16(data + off);
	off += 2;
	while (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) {
		if (m->n_vlan == 2)
			return m->drop = DP_DROP_VLAN_DEPTH;
		if (len - off < 4)
			return m->drop = DP_DROP_SHORT_L2;
		m->vlan_tci[m->n_vlan++] = rd16(data + off);
		et = rd16(data + off + 2);
		off += 4;
	}
	m->ethertype = et;
	m->l3_off = (uint16_t)off;
	switch (et) {
	case RTE_ETHER_TYPE_IPV4:
		m->drop = parse_ipv4(data, len, m, verify_csum);
		break;
	case RTE_ETHER_TYPE_IPV6:
		m->drop = parse_ipv6(data, len, m);
		break;
	case RTE_ETHER_TYPE_ARP:
		/* Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4 */
		if (len - off < 28 || rd16(data + off) != 1 || rd16(data + off + 2) != 0x0800 ||
		    data[off + 4] != 6 || data[off + 5] != 4)
			m->drop = DP_DROP_SHORT_ARP;
		else
			m->l3 = PKT_L3_ARP;
		break;
	default:
		m->l3 = PKT_L3_NONE;
		break;
	}
	return m->drop;
}
