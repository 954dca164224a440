/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_parse: pkt_parse() on hand-built frames. Every frame is handed to the
 * parser in a malloc'ed buffer of exactly its length, so that under ASan a
 * read of one byte too many is a failure, not a silent pass. Besides the
 * field-by-field checks of well-formed packets, every valid frame is parsed
 * again at every shorter length, and random frames are thrown at the parser;
 * both only have to produce a drop reason or a self-consistent result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>

#include <rte_ip.h>

#include "frame.h"
#include "pkt_meta.h"

static const uint8_t A1[4] = { 10, 77, 1, 2 };
static const uint8_t A2[4] = { 10, 77, 2, 2 };
static const uint8_t S1[16] = { 0xfd, 0x77, 0, 1, [15] = 2 };
static const uint8_t S2[16] = { 0xfd, 0x77, 0, 2, [15] = 2 };

/* The parser's result must describe only bytes it was given. */
static void check_sane(const struct pkt_meta *m, uint32_t len, uint8_t rc)
{
	assert_int_equal(rc, m->drop);
	assert_true(rc < DP_DROP_MAX);
	assert_int_equal(m->pkt_len, len);
	assert_true(m->n_vlan <= 2);
	if (rc != DP_DROP_NONE)
		return;
	assert_true(len >= 14);
	assert_int_equal(m->l3_off, 14 + 4 * m->n_vlan);
	assert_true(m->l3_off <= len);
	uint32_t end = len;
	switch (m->l3) {
	case PKT_L3_IPV4:
		assert_int_equal(m->ethertype, 0x0800);
		assert_true(m->l3_len >= 20);
		end = (uint32_t)m->l3_off + m->l3_len;
		assert_true(end <= len);
		break;
	case PKT_L3_IPV6:
		assert_int_equal(m->ethertype, 0x86dd);
		assert_true(m->l3_len >= 40);
		end = (uint32_t)m->l3_off + m->l3_len;
		assert_true(end <= len);
		break;
	case PKT_L3_ARP:
		assert_int_equal(m->ethertype, 0x0806);
		assert_true((uint32_t)m->l3_off + 28 <= len);
		break;
	case PKT_L3_NONE:
		assert_int_not_equal(m->ethertype, 0x0800);
		assert_int_not_equal(m->ethertype, 0x86dd);
		assert_int_not_equal(m->ethertype, 0x0806);
		assert_false(m->flags & (PKT_F_L4 | PKT_F_FRAG));
		break;
	default:
		fail_msg("l3 %u", m->l3);
	}
	if (m->flags & PKT_F_L4) {
		assert_true(m->l3 == PKT_L3_IPV4 || m->l3 == PKT_L3_IPV6);
		assert_false(m->flags & PKT_F_FRAG_LATER);
		assert_true(m->l4_off >= m->l3_off + (m->l3 == PKT_L3_IPV4 ? 20 : 40));
		assert_true(m->l4_off <= end);
		uint32_t need = m->l4_proto == IPPROTO_TCP ? 20
			: (m->l4_proto == IPPROTO_UDP || m->l4_proto == IPPROTO_ICMP ||
			   m->l4_proto == IPPROTO_ICMPV6)
			? 8
			: 0;
		assert_true(m->l4_off + need <= end);
	}
	if (m->flags & PKT_F_FRAG_LATER) {
		assert_true(m->flags & PKT_F_FRAG);
		assert_true(m->l4_off <= end);
	}
	if (m->frag_hdr_off) {
		assert_int_equal(m->l3, PKT_L3_IPV6);
		assert_true(m->frag_hdr_off + 8u <= end);
	}
}

/* Parse f->b[0..len) from an exact-size heap copy. */
static uint8_t parse_n(const struct frame *f, uint32_t len, struct pkt_meta *m, int verify)
{
	uint8_t *buf = malloc(len);
	assert_true(buf != NULL || len == 0);
	if (len)
		memcpy(buf, f->b, len);
	memset(m, 0xa5, sizeof(*m)); /* the parser must clear what it does not set */
	m->in_port = 7;
	uint8_t rc = pkt_parse(buf, len, m, verify);
	/* the one-pass path for the common frame is the general parser's
	 * answer, field for field */
	struct pkt_meta g;
	memset(&g, 0x5a, sizeof(g));
	g.in_port = 7;
	uint8_t rcg = pkt_parse_general(buf, len, &g, verify);
	free(buf);
	assert_int_equal(rc, rcg);
	assert_memory_equal(m, &g, sizeof(g));
	assert_int_equal(m->in_port, 7);
	check_sane(m, len, rc);
	return rc;
}

static uint8_t parse(const struct frame *f, struct pkt_meta *m)
{
	return parse_n(f, f->n, m, 1);
}

/* ---- frames ---------------------------------------------------------- */

static void mk_tcp4(struct frame *f)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_TCP, 64, 0x4000, A1, A2, NULL, 0);
	fr_tcp(f, 40000, 80, 0x02, 5);
	fr_put(f, "data", 4);
	fr_ip4_end(f, ip);
}

static void mk_udp4(struct frame *f)
{
	f->n = 0;
	fr_eth(f, MAC_BCAST, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_UDP, 17, 0, A1, A2, NULL, 0);
	fr_udp(f, 5353, 53, 12);
	fr_ip4_end(f, ip);
}

static void mk_icmp4(struct frame *f, uint8_t type, uint8_t code)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_ICMP, 255, 0, A1, A2, NULL, 0);
	uint32_t ic = fr_icmp(f, type, code, 0x4242, 7, 16);
	fr_icmp4_csum(f, ic);
	fr_ip4_end(f, ip);
}

static void mk_opts4(struct frame *f)
{
	/* router alert, NOPs, end of options */
	static const uint8_t opts[8] = { 0x94, 0x04, 0, 0, 1, 1, 1, 0 };
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_UDP, 1, 0, A1, A2, opts, 8);
	fr_udp(f, 1, 2, 3);
	fr_ip4_end(f, ip);
}

static void mk_frag4_first(struct frame *f)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_UDP, 64, 0x2000 /* MF */, A1, A2, NULL, 0);
	fr_u16(f, 1111);
	fr_u16(f, 2222);
	fr_u16(f, 3000); /* UDP length of the whole datagram */
	fr_u16(f, 0);
	fr_zero(f, 24);
	fr_ip4_end(f, ip);
}

static void mk_frag4_later(struct frame *f, bool more)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_TCP, 64, (uint16_t)((more ? 0x2000 : 0) | 185), A1, A2,
			     NULL, 0);
	fr_put(f, "xy", 2); /* shorter than any TCP header: there is none here */
	fr_ip4_end(f, ip);
}

static void mk_vlan(struct frame *f, unsigned tags)
{
	static const uint16_t tpid[3] = { 0x88a8, 0x8100, 0x8100 };
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, tpid[0]);
	for (unsigned i = 0; i < tags; i++)
		fr_vlan(f, (uint16_t)(100 + i), i + 1 < tags ? tpid[i + 1] : 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_UDP, 64, 0, A1, A2, NULL, 0);
	fr_udp(f, 4000, 4001, 0);
	fr_ip4_end(f, ip);
}

static void mk_arp(struct frame *f)
{
	static const uint8_t zero[6];
	f->n = 0;
	fr_eth(f, MAC_BCAST, MAC_H1, 0x0806);
	fr_arp(f, 1, MAC_H1, A1, zero, A2);
}

/* IPv6 + hop-by-hop + routing + destination options + fragment (first) + UDP */
static void mk_ip6_chain(struct frame *f)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(f, IPPROTO_HOPOPTS, 33, S1, S2);
	fr_ip6_opts(f, IPPROTO_ROUTING, 0);
	fr_ip6_rh(f, IPPROTO_DSTOPTS, 1);
	fr_ip6_opts(f, IPPROTO_FRAGMENT, 1);
	fr_ip6_frag(f, IPPROTO_UDP, 0, true);
	fr_udp(f, 547, 546, 10);
	fr_ip6_end(f, ip);
}

static void mk_ip6_frag_later(struct frame *f)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(f, IPPROTO_FRAGMENT, 64, S1, S2);
	fr_ip6_frag(f, IPPROTO_TCP, 100, false);
	fr_put(f, "tail", 4);
	fr_ip6_end(f, ip);
}

static void mk_ip6_icmp(struct frame *f, uint8_t type)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(f, IPPROTO_ICMPV6, 64, S1, S2);
	uint32_t ic = fr_icmp(f, type, 0, 0x77, 1, 8);
	fr_ip6_end(f, ip);
	fr_ip6_l4_csum(f, ip, IPPROTO_ICMPV6, ic, 2);
}

static void mk_ip6_esp(struct frame *f)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(f, IPPROTO_ESP, 64, S1, S2);
	fr_u32(f, 0x1000); /* SPI */
	fr_u32(f, 1);      /* sequence */
	fr_zero(f, 16);
	fr_ip6_end(f, ip);
}

static void mk_ip6_ah_tcp(struct frame *f)
{
	f->n = 0;
	fr_eth(f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(f, IPPROTO_AH, 64, S1, S2);
	/* AH: length in 4-octet units minus 2; 24 bytes = 12-byte ICV */
	fr_u8(f, IPPROTO_TCP);
	fr_u8(f, 4);
	fr_u16(f, 0);
	fr_u32(f, 0x2000);
	fr_u32(f, 5);
	fr_zero(f, 12);
	fr_tcp(f, 179, 50000, 0x18, 6);
	fr_ip6_end(f, ip);
}

static void mk_lldp(struct frame *f)
{
	static const uint8_t lldp_mc[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };
	f->n = 0;
	fr_eth(f, lldp_mc, MAC_H1, 0x88cc);
	fr_zero(f, 46);
}

/* ---- well-formed packets ------------------------------------------- */

static void test_tcp4(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_tcp4(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3, PKT_L3_IPV4);
	assert_int_equal(m.ethertype, 0x0800);
	assert_int_equal(m.l3_off, 14);
	assert_int_equal(m.l4_off, 34);
	assert_int_equal(m.l3_len, 20 + 20 + 4);
	assert_int_equal(m.l4_proto, IPPROTO_TCP);
	assert_int_equal(m.sport, 40000);
	assert_int_equal(m.dport, 80);
	assert_int_equal(m.tcp_flags, 0x02);
	assert_int_equal(m.ttl, 64);
	assert_int_equal(m.flags, PKT_F_L4 | PKT_F_IP_DF);
	assert_int_equal(m.n_vlan, 0);
	assert_int_equal(m.frag_hdr_off, 0);
	assert_int_equal(m.pkt_len, f.n);
}

static void test_udp4_bcast(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_udp4(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_proto, IPPROTO_UDP);
	assert_int_equal(m.l4_off, 34);
	assert_int_equal(m.sport, 5353);
	assert_int_equal(m.dport, 53);
	assert_int_equal(m.ttl, 17);
	assert_int_equal(m.l3_len, 20 + 8 + 12);
	assert_int_equal(m.flags, PKT_F_L4 | PKT_F_L2_BCAST | PKT_F_L2_MCAST);

	/* multicast, not broadcast */
	f.b[0] = 0x01;
	f.b[5] = 0x01;
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.flags, PKT_F_L4 | PKT_F_L2_MCAST);
	/* ff:ff:ff:ff:ff:fe is multicast but not broadcast */
	memcpy(f.b, MAC_BCAST, 6);
	f.b[5] = 0xfe;
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.flags, PKT_F_L4 | PKT_F_L2_MCAST);
}

static void test_icmp4(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_icmp4(&f, 8, 0);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_proto, IPPROTO_ICMP);
	assert_int_equal(m.icmp_type, 8);
	assert_int_equal(m.icmp_code, 0);
	assert_int_equal(m.sport, 0x4242);  /* echo id */
	assert_int_equal(m.dport, 0x0800);  /* type << 8 | code */
	assert_int_equal(m.ttl, 255);
	assert_int_equal(m.flags, PKT_F_L4);

	/* exactly the RFC 792/1812 error types carry the error flag */
	for (unsigned t = 0; t < 256; t++) {
		mk_icmp4(&f, (uint8_t)t, 3);
		assert_int_equal(parse(&f, &m), DP_DROP_NONE);
		bool err = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
		assert_int_equal(!!(m.flags & PKT_F_ICMP_ERR), err);
		assert_int_equal(m.icmp_type, t);
		assert_int_equal(m.icmp_code, 3);
		assert_int_equal(m.dport, t << 8 | 3);
	}
}

static void test_icmp6(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_ip6_icmp(&f, 128);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3, PKT_L3_IPV6);
	assert_int_equal(m.l4_proto, IPPROTO_ICMPV6);
	assert_int_equal(m.l4_off, 54);
	assert_int_equal(m.icmp_type, 128);
	assert_int_equal(m.sport, 0x77);
	assert_int_equal(m.dport, 128 << 8);
	assert_int_equal(m.flags, PKT_F_L4);
	for (unsigned t = 0; t < 256; t++) {
		mk_ip6_icmp(&f, (uint8_t)t);
		assert_int_equal(parse(&f, &m), DP_DROP_NONE);
		assert_int_equal(!!(m.flags & PKT_F_ICMP_ERR), t < 128);
	}
}

static void test_ipv4_options(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_opts4(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_off, 14 + 28);
	assert_int_equal(m.l3_len, 28 + 8 + 3);
	assert_int_equal(m.sport, 1);
	assert_int_equal(m.dport, 2);
	assert_int_equal(m.ttl, 1);
	assert_int_equal(m.flags, PKT_F_L4 | PKT_F_IP_OPTS);

	/* the longest header, 60 bytes, checksum verified over all of it */
	uint8_t opts[40];
	memset(opts, 1, sizeof(opts));
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 9, 0, A1, A2, opts, 40);
	fr_udp(&f, 7, 9, 0);
	fr_ip4_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_off, 14 + 60);
	f.b[ip + 59] ^= 0x10; /* last option byte */
	assert_int_equal(parse_n(&f, f.n, &m, 1), DP_DROP_BAD_IPV4_CSUM);
	assert_int_equal(parse_n(&f, f.n, &m, 0), DP_DROP_NONE);
}

static void test_ipv4_fragments(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;

	mk_frag4_first(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.flags, PKT_F_FRAG | PKT_F_L4);
	assert_int_equal(m.sport, 1111);
	assert_int_equal(m.dport, 2222);
	/* the first fragment's UDP length (3000) is the whole datagram's, not
	 * this fragment's: it must not get the packet dropped; a length below
	 * the UDP header's own still does */
	wr_be16(f.b + 34 + 4, 7);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);

	for (int more = 0; more < 2; more++) {
		mk_frag4_later(&f, more);
		assert_int_equal(parse(&f, &m), DP_DROP_NONE);
		assert_int_equal(m.flags, PKT_F_FRAG | PKT_F_FRAG_LATER);
		assert_int_equal(m.l4_proto, IPPROTO_TCP);
		assert_int_equal(m.l4_off, 34);
		assert_int_equal(m.sport, 0);
		assert_int_equal(m.dport, 0);
		assert_int_equal(m.l3_len, 22);
	}

	/* a datagram may not end beyond 65535: offset 8191 * 8 = 65528 leaves
	 * room for 7 bytes of payload, not 8 */
	for (unsigned plen = 7; plen <= 8; plen++) {
		for (uint16_t fo = 8190; fo <= 8191; fo++) {
			f.n = 0;
			fr_eth(&f, MAC_H2, MAC_H1, 0x0800);
			uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 64, fo, A1, A2, NULL, 0);
			fr_zero(&f, plen);
			fr_ip4_end(&f, ip);
			bool over = fo * 8u + plen > 65535;
			assert_int_equal(parse(&f, &m),
					 over ? DP_DROP_BAD_IPV4_FRAG : DP_DROP_NONE);
		}
	}
}

static void test_vlan(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;

	mk_vlan(&f, 1);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.n_vlan, 1);
	assert_int_equal(m.vlan_tci[0], 100);
	assert_int_equal(m.ethertype, 0x0800);
	assert_int_equal(m.l3_off, 18);
	assert_int_equal(m.l4_off, 38);
	assert_int_equal(m.sport, 4000);

	mk_vlan(&f, 2);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.n_vlan, 2);
	assert_int_equal(m.vlan_tci[0], 100);
	assert_int_equal(m.vlan_tci[1], 101);
	assert_int_equal(m.l3_off, 22);
	assert_int_equal(m.l4_off, 42);
	assert_int_equal(m.dport, 4001);

	mk_vlan(&f, 3);
	assert_int_equal(parse(&f, &m), DP_DROP_VLAN_DEPTH);

	/* a tag cut short */
	mk_vlan(&f, 1);
	assert_int_equal(parse_n(&f, 16, &m, 1), DP_DROP_SHORT_L2);
	/* a tag and nothing after it: a zero-length IPv4 header */
	assert_int_equal(parse_n(&f, 18, &m, 1), DP_DROP_SHORT_IPV4);
}

static void test_arp(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_arp(&f);
	assert_int_equal(f.n, 42);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3, PKT_L3_ARP);
	assert_int_equal(m.l3_off, 14);
	assert_int_equal(m.flags, PKT_F_L2_BCAST | PKT_F_L2_MCAST);

	assert_int_equal(parse_n(&f, 41, &m, 1), DP_DROP_SHORT_ARP);
	assert_int_equal(parse_n(&f, 14, &m, 1), DP_DROP_SHORT_ARP);
	f.b[14 + 1] = 6; /* htype 6 (IEEE 802) */
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_ARP);
	mk_arp(&f);
	wr_be16(f.b + 16, 0x86dd);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_ARP);
	mk_arp(&f);
	f.b[18] = 8; /* hlen */
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_ARP);
	mk_arp(&f);
	f.b[19] = 16; /* plen */
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_ARP);

	/* ARP behind a VLAN tag */
	f.n = 0;
	static const uint8_t zero[6];
	fr_eth(&f, MAC_BCAST, MAC_H1, 0x8100);
	fr_vlan(&f, 5, 0x0806);
	fr_arp(&f, 2, MAC_H1, A1, zero, A2);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3, PKT_L3_ARP);
	assert_int_equal(m.l3_off, 18);
}

static void test_non_ip(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_lldp(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3, PKT_L3_NONE);
	assert_int_equal(m.ethertype, 0x88cc);
	assert_int_equal(m.flags, PKT_F_L2_MCAST);
	/* a bare Ethernet header is a (useless) well-formed frame */
	assert_int_equal(parse_n(&f, 14, &m, 1), DP_DROP_NONE);
	assert_int_equal(parse_n(&f, 13, &m, 1), DP_DROP_SHORT_L2);
	assert_int_equal(parse_n(&f, 0, &m, 1), DP_DROP_SHORT_L2);
}

static void test_ipv6_chain(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_ip6_chain(&f);
	/* 40 + hbh 8 + rh 24 + dst 16 + frag 8 + udp 18 */
	assert_int_equal(f.n, 14 + 40 + 8 + 24 + 16 + 8 + 18);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3, PKT_L3_IPV6);
	assert_int_equal(m.l3_off, 14);
	assert_int_equal(m.l3_len, f.n - 14);
	assert_int_equal(m.ttl, 33);
	assert_int_equal(m.l4_proto, IPPROTO_UDP);
	assert_int_equal(m.frag_hdr_off, 14 + 40 + 8 + 24 + 16);
	assert_int_equal(m.l4_off, 14 + 40 + 8 + 24 + 16 + 8);
	assert_int_equal(m.sport, 547);
	assert_int_equal(m.dport, 546);
	assert_int_equal(m.flags, PKT_F_L4 | PKT_F_EXTHDR | PKT_F_FRAG);

	/* plain IPv6, no extension header */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(&f, IPPROTO_TCP, 64, S1, S2);
	fr_tcp(&f, 22, 1022, 0x10, 5);
	fr_ip6_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_off, 54);
	assert_int_equal(m.flags, PKT_F_L4);
	assert_int_equal(m.tcp_flags, 0x10);

	/* AH in front of TCP */
	mk_ip6_ah_tcp(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_proto, IPPROTO_TCP);
	assert_int_equal(m.l4_off, 54 + 24);
	assert_int_equal(m.sport, 179);
	assert_int_equal(m.flags, PKT_F_L4 | PKT_F_EXTHDR);

	/* no next header after a destination options header */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	ip = fr_ip6(&f, IPPROTO_DSTOPTS, 64, S1, S2);
	fr_ip6_opts(&f, IPPROTO_NONE, 0);
	fr_ip6_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_proto, IPPROTO_NONE);
	assert_int_equal(m.l4_off, 62);
}

static void test_ipv6_frag(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_ip6_frag_later(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.flags, PKT_F_FRAG | PKT_F_FRAG_LATER | PKT_F_EXTHDR);
	assert_int_equal(m.l4_proto, IPPROTO_TCP);
	assert_int_equal(m.frag_hdr_off, 54);
	assert_int_equal(m.l4_off, 62);
	assert_int_equal(m.sport, 0);

	/* two fragment headers */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(&f, IPPROTO_FRAGMENT, 64, S1, S2);
	fr_ip6_frag(&f, IPPROTO_FRAGMENT, 0, true);
	fr_ip6_frag(&f, IPPROTO_UDP, 0, true);
	fr_udp(&f, 1, 2, 0);
	fr_ip6_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV6_EXTHDR);

	/* atomic fragment (offset 0, M clear): a whole packet, L4 parsed, not
	 * a fragment (RFC 6946: connection tracking sees it whole) */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	ip = fr_ip6(&f, IPPROTO_FRAGMENT, 64, S1, S2);
	fr_ip6_frag(&f, IPPROTO_UDP, 0, false);
	fr_udp(&f, 10, 20, 0);
	fr_ip6_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.flags, PKT_F_EXTHDR | PKT_F_L4);
	assert_int_equal(m.frag_hdr_off, 14 + 40);
	assert_int_equal(m.sport, 10);
	/* ... so its UDP length is checked like any whole packet's */
	wr_be16(f.b + 62 + 4, 9);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);

	/* first fragment (M set): the UDP length is the whole datagram's */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	ip = fr_ip6(&f, IPPROTO_FRAGMENT, 64, S1, S2);
	fr_ip6_frag(&f, IPPROTO_UDP, 0, true);
	fr_udp(&f, 4500, 4501, 32);
	fr_ip6_end(&f, ip);
	wr_be16(f.b + 62 + 4, 3000);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.flags, PKT_F_FRAG | PKT_F_EXTHDR | PKT_F_L4);
	assert_int_equal(m.sport, 4500);
	assert_int_equal(m.dport, 4501);
	/* but never shorter than its own header */
	wr_be16(f.b + 62 + 4, 7);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);
}

static void test_ipv6_bad_chains(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;

	/* hop-by-hop must come first */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(&f, IPPROTO_DSTOPTS, 64, S1, S2);
	fr_ip6_opts(&f, IPPROTO_HOPOPTS, 0);
	fr_ip6_opts(&f, IPPROTO_UDP, 0);
	fr_udp(&f, 1, 2, 0);
	fr_ip6_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV6_EXTHDR);

	/* eight extension headers pass, nine do not */
	for (int n = 8; n <= 9; n++) {
		f.n = 0;
		fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
		ip = fr_ip6(&f, IPPROTO_DSTOPTS, 64, S1, S2);
		for (int i = 0; i < n; i++)
			fr_ip6_opts(&f, i + 1 < n ? IPPROTO_DSTOPTS : IPPROTO_UDP, 0);
		fr_udp(&f, 1, 2, 0);
		fr_ip6_end(&f, ip);
		assert_int_equal(parse(&f, &m), n == 8 ? DP_DROP_NONE : DP_DROP_BAD_IPV6_EXTHDR);
		if (n == 8)
			assert_int_equal(m.l4_off, 54 + 8 * 8);
	}

	/* an extension header longer than the payload */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	ip = fr_ip6(&f, IPPROTO_ROUTING, 64, S1, S2);
	fr_ip6_rh(&f, IPPROTO_UDP, 1);
	fr_udp(&f, 1, 2, 0);
	fr_ip6_end(&f, ip);
	f.b[55] = 200; /* routing header length: 1608 bytes */
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV6_EXTHDR);

	/* an extension header that reaches into Ethernet padding only */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	ip = fr_ip6(&f, IPPROTO_DSTOPTS, 64, S1, S2);
	fr_u8(&f, IPPROTO_NONE);
	fr_u8(&f, 1); /* 16 bytes, but only 8 in the payload */
	fr_zero(&f, 6);
	fr_ip6_end(&f, ip);
	fr_zero(&f, 16);
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV6_EXTHDR);

	/* payload length 0 with a hop-by-hop header: a jumbogram */
	mk_ip6_chain(&f);
	wr_be16(f.b + 18, 0);
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV6_LEN);
	/* payload length beyond the frame */
	mk_ip6_chain(&f);
	wr_be16(f.b + 18, (uint16_t)(f.n - 54 + 1));
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV6_LEN);
	/* version */
	mk_ip6_chain(&f);
	f.b[14] = 0x40;
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV6_VERSION);
	assert_int_equal(parse_n(&f, 14 + 39, &m, 1), DP_DROP_SHORT_IPV6);
}

static void test_esp(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_ip6_esp(&f);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_proto, IPPROTO_ESP);
	assert_int_equal(m.l4_off, 54);
	assert_int_equal(m.flags, PKT_F_L4);
	assert_int_equal(m.sport, 0);

	/* ESP over IPv4: protocol and addresses only */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_ESP, 64, 0, A1, A2, NULL, 0);
	fr_u32(&f, 0x1000);
	fr_ip4_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l4_proto, IPPROTO_ESP);
	assert_int_equal(m.l4_off, 34);
	assert_int_equal(m.flags, PKT_F_L4);
}

/* ---- malformed IPv4 and L4 ----------------------------------------- */

static void test_ipv4_bad_header(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;

	mk_tcp4(&f);
	f.b[14] = 0x44; /* IHL 4 */
	fr_ip4_csum(&f, 14);
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV4_HLEN);
	mk_tcp4(&f);
	f.b[14] = 0x4f; /* IHL 15 = 60 bytes, the frame has 44 after Ethernet */
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV4_HLEN);
	mk_tcp4(&f);
	f.b[14] = 0x65;
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV4_VERSION);
	assert_int_equal(parse_n(&f, 14 + 19, &m, 1), DP_DROP_SHORT_IPV4);

	mk_tcp4(&f);
	wr_be16(f.b + 16, 19); /* total length < IHL */
	fr_ip4_csum(&f, 14);
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV4_LEN);
	mk_tcp4(&f);
	wr_be16(f.b + 16, (uint16_t)(f.n - 14 + 1)); /* total length > frame */
	fr_ip4_csum(&f, 14);
	assert_int_equal(parse(&f, &m), DP_DROP_BAD_IPV4_LEN);
	/* total length = IHL: no room for TCP */
	mk_tcp4(&f);
	wr_be16(f.b + 16, 20);
	fr_ip4_csum(&f, 14);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_TCP);
}

static void test_ipv4_checksum(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_tcp4(&f);
	assert_int_equal(parse_n(&f, f.n, &m, 1), DP_DROP_NONE);
	f.b[14 + 10] ^= 0x01;
	assert_int_equal(parse_n(&f, f.n, &m, 1), DP_DROP_BAD_IPV4_CSUM);
	assert_int_equal(parse_n(&f, f.n, &m, 0), DP_DROP_NONE);
	assert_int_equal(m.sport, 40000);

	/* a header whose 32-bit words add up to exactly 0xffffffff: valid, and
	 * the corner case of a word-wise sum's final folds */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x0800);
	uint32_t h = fr_ip4(&f, 253, 64, 0, A1, A2, NULL, 0);
	fr_ip4_end(&f, h);
	f.b[h + 10] = f.b[h + 11] = 0;
	uint32_t wsum = 0, wd;
	for (int i = 0; i < 4; i++) {
		memcpy(&wd, f.b + h + 4 * i, 4);
		wsum += wd;
		assert_true(wsum >= wd); /* no carry: the addresses leave room */
	}
	wd = 0xffffffffu - wsum;
	memcpy(f.b + h + 16, &wd, 4); /* the destination address */
	assert_int_equal(csum_fold(csum_add(0, f.b + h, 20)), 0);
	assert_int_equal(parse_n(&f, f.n, &m, 1), DP_DROP_NONE);
	f.b[h + 16] ^= 0x80;
	assert_int_equal(parse_n(&f, f.n, &m, 1), DP_DROP_BAD_IPV4_CSUM);

	/* every single-bit error in the header is caught; a correct checksum
	 * computed here always passes (random headers, all lengths) */
	uint32_t x = 12345;
	for (int it = 0; it < 2000; it++) {
		uint8_t optlen = (uint8_t)(4 * (it % 11));
		uint8_t opts[40];
		for (unsigned i = 0; i < sizeof(opts); i++)
			opts[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
		uint8_t src[4], dst[4];
		for (int i = 0; i < 4; i++) {
			src[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
			dst[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
		}
		f.n = 0;
		fr_eth(&f, MAC_H2, MAC_H1, 0x0800);
		uint32_t ip = fr_ip4(&f, 253, (uint8_t)(x >> 8), (uint16_t)(x & 0x4000), src, dst,
				     opts, optlen);
		fr_ip4_end(&f, ip);
		assert_int_equal(parse_n(&f, f.n, &m, 1), DP_DROP_NONE);
		unsigned bit = (x >> 3) % ((20u + optlen) * 8u);
		if (bit / 8 == 0 || bit / 8 == 2 || bit / 8 == 3)
			continue; /* version, IHL and length fail their own checks first */
		f.b[ip + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(parse_n(&f, f.n, &m, 1), DP_DROP_BAD_IPV4_CSUM);
		assert_int_equal(parse_n(&f, f.n, &m, 0), DP_DROP_NONE);
	}
}

static void test_tcp_bad_offset(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_tcp4(&f);
	f.b[34 + 12] = 4 << 4; /* data offset 16 bytes */
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_TCP);
	f.b[34 + 12] = 0;
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_TCP);
	f.b[34 + 12] = 6 << 4; /* 24 bytes: the 4 payload bytes as options */
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	f.b[34 + 12] = 7 << 4; /* 28 > 24 available */
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_TCP);
	f.b[34 + 12] = 15 << 4;
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_TCP);
}

static void test_udp_bad_length(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;
	mk_udp4(&f);
	wr_be16(f.b + 34 + 4, 7);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);
	wr_be16(f.b + 34 + 4, 0);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);
	wr_be16(f.b + 34 + 4, 8 + 12 + 1);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);
	wr_be16(f.b + 34 + 4, 8); /* shorter than the IP payload: allowed */
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	/* a UDP header cut by the IP total length */
	mk_udp4(&f);
	wr_be16(f.b + 16, 27);
	fr_ip4_csum(&f, 14);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);
	/* ICMP likewise */
	mk_icmp4(&f, 8, 0);
	wr_be16(f.b + 16, 27);
	fr_ip4_csum(&f, 14);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_ICMP);
	/* ICMPv6 shorter than its 8-byte header */
	mk_ip6_icmp(&f, 128);
	wr_be16(f.b + 18, 7);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_ICMP6);
	/* UDP over IPv6 with a bad length */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(&f, IPPROTO_UDP, 64, S1, S2);
	fr_udp(&f, 1, 2, 4);
	fr_ip6_end(&f, ip);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	wr_be16(f.b + 54 + 4, 13);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);
}

/* Ethernet pads short frames to 60 bytes: L4 checks must stop at the IP
 * datagram's end, not at the frame's. */
static void test_ethernet_padding(void **state)
{
	(void)state;
	struct frame f;
	struct pkt_meta m;

	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 64, 0, A1, A2, NULL, 0);
	fr_udp(&f, 68, 67, 0);
	fr_ip4_end(&f, ip);
	fr_zero(&f, 60 - f.n);
	assert_int_equal(f.n, 60);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3_len, 28);
	assert_int_equal(m.pkt_len, 60);
	/* a UDP length reaching into the padding is wrong */
	wr_be16(f.b + 34 + 4, 8 + 18);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);

	/* TCP header in the padding only */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x0800);
	ip = fr_ip4(&f, IPPROTO_TCP, 64, 0, A1, A2, NULL, 0);
	fr_tcp(&f, 1, 2, 0x10, 5);
	f.n -= 20; /* the IP datagram ends here ... */
	fr_ip4_end(&f, ip);
	f.n += 20; /* ... the TCP header's bytes are padding */
	fr_zero(&f, 6);
	assert_int_equal(f.n, 60);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_TCP);
	/* TCP data offset reaching into the padding */
	mk_tcp4(&f);
	fr_zero(&f, 8);
	f.b[34 + 12] = 7 << 4; /* 28 bytes, datagram has 24, frame 32 */
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_TCP);

	/* IPv6 with padding after its payload */
	f.n = 0;
	fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
	ip = fr_ip6(&f, IPPROTO_UDP, 64, S1, S2);
	fr_udp(&f, 1, 2, 0);
	fr_ip6_end(&f, ip);
	fr_zero(&f, 10);
	assert_int_equal(parse(&f, &m), DP_DROP_NONE);
	assert_int_equal(m.l3_len, 48);
	wr_be16(f.b + 54 + 4, 10);
	assert_int_equal(parse(&f, &m), DP_DROP_SHORT_UDP);
}

/* ---- every truncation of every valid frame --------------------------- */

typedef void (*mk_fn)(struct frame *f);
static void mk_icmp4_echo(struct frame *f) { mk_icmp4(f, 8, 0); }
static void mk_icmp4_err(struct frame *f) { mk_icmp4(f, 11, 0); }
static void mk_frag4_later_more(struct frame *f) { mk_frag4_later(f, true); }
static void mk_vlan1(struct frame *f) { mk_vlan(f, 1); }
static void mk_vlan2(struct frame *f) { mk_vlan(f, 2); }
static void mk_ip6_echo(struct frame *f) { mk_ip6_icmp(f, 128); }

static void test_truncation(void **state)
{
	(void)state;
	static const mk_fn valid[] = {
		mk_tcp4, mk_udp4, mk_icmp4_echo, mk_icmp4_err, mk_opts4, mk_frag4_first,
		mk_frag4_later_more, mk_vlan1, mk_vlan2, mk_arp, mk_ip6_chain, mk_ip6_frag_later,
		mk_ip6_echo, mk_ip6_esp, mk_ip6_ah_tcp,
	};
	struct frame f;
	struct pkt_meta m;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		valid[i](&f);
		for (int verify = 0; verify < 2; verify++) {
			assert_int_equal(parse_n(&f, f.n, &m, verify), DP_DROP_NONE);
			/* no padding in these frames: any cut breaks a length field */
			for (uint32_t len = 0; len < f.n; len++) {
				uint8_t rc = parse_n(&f, len, &m, verify);
				if (rc == DP_DROP_NONE)
					fail_msg("frame %zu cut to %u of %u bytes parsed as valid",
						 i, len, f.n);
			}
		}
	}
	/* a non-IP frame: any length from the Ethernet header on is fine */
	mk_lldp(&f);
	for (uint32_t len = 0; len < f.n; len++)
		assert_int_equal(parse_n(&f, len, &m, 1),
				 len < 14 ? DP_DROP_SHORT_L2 : DP_DROP_NONE);
}

/* The datagram cut instead of the frame: IP lengths consistent, the frame
 * ending exactly where the upper-layer bytes run out, at every length. This
 * is what reaches the L4 and extension header checks (a cut frame mostly
 * stops at the IP length check), and the exact-size buffer makes any read
 * of the first missing byte an ASan error. */
/* An upper-layer message of 24 bytes: TCP header + 4, UDP + 16, ICMP + 16. */
static void mk_upper(struct frame *f, uint8_t proto)
{
	f->n = 0;
	if (proto == IPPROTO_TCP) {
		fr_tcp(f, 1, 2, 0x10, 5);
		fr_zero(f, 4);
	} else if (proto == IPPROTO_UDP) {
		fr_udp(f, 1, 2, 16);
	} else {
		fr_icmp(f, proto == IPPROTO_ICMPV6 ? 128 : 8, 0, 1, 1, 16);
	}
	assert_int_equal(f->n, 24);
}

/* IPv4 or IPv6 (ext: with an option / extension header) carrying the first
 * n bytes of the message up, lengths consistent, nothing after. */
static void mk_cut(struct frame *f, int v6, int ext, uint8_t proto, const struct frame *up,
		   uint32_t n)
{
	static const uint8_t nops[4] = { 1, 1, 1, 1 };
	f->n = 0;
	if (v6) {
		fr_eth(f, MAC_H2, MAC_H1, 0x86dd);
		uint32_t ip = fr_ip6(f, ext ? IPPROTO_DSTOPTS : proto, 64, S1, S2);
		if (ext)
			fr_ip6_opts(f, proto, 1);
		fr_put(f, up->b, n);
		fr_ip6_end(f, ip);
	} else {
		fr_eth(f, MAC_H2, MAC_H1, 0x0800);
		uint32_t ip = fr_ip4(f, proto, 64, 0, A1, A2, nops, ext ? 4 : 0);
		fr_put(f, up->b, n);
		fr_ip4_end(f, ip);
	}
}

static uint8_t cut_verdict(uint8_t proto, uint32_t n)
{
	switch (proto) {
	case IPPROTO_TCP:
		return n < 20 ? DP_DROP_SHORT_TCP : DP_DROP_NONE;
	case IPPROTO_UDP:
		return n < 24 ? DP_DROP_SHORT_UDP : DP_DROP_NONE; /* its length says 24 */
	case IPPROTO_ICMP:
		return n < 8 ? DP_DROP_SHORT_ICMP : DP_DROP_NONE;
	default:
		return n < 8 ? DP_DROP_SHORT_ICMP6 : DP_DROP_NONE;
	}
}

/* The datagram cut instead of the frame: IP lengths consistent, the frame
 * ending exactly where the upper-layer bytes run out, at every length. This
 * is what reaches the L4 and extension header checks (a cut frame mostly
 * stops at the IP length check), and the exact-size buffer makes any read
 * of the first missing byte an ASan error. */
static void test_l4_exact_end(void **state)
{
	(void)state;
	struct frame up, f;
	struct pkt_meta m;
	static const uint8_t protos[2][3] = {
		{ IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP },
		{ IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 },
	};
	for (int v6 = 0; v6 < 2; v6++)
		for (int k = 0; k < 3; k++)
			for (int ext = 0; ext < 2; ext++) {
				uint8_t proto = protos[v6][k];
				mk_upper(&up, proto);
				for (uint32_t n = 0; n <= up.n; n++) {
					mk_cut(&f, v6, ext, proto, &up, n);
					uint8_t rc = parse_n(&f, f.n, &m, 1);
					if (rc != cut_verdict(proto, n))
						fail_msg("v6 %d ext %d proto %u, %u bytes: drop %u",
							 v6, ext, proto, n, rc);
				}
			}

	/* extension headers cut short, payload length consistent */
	static const uint8_t exts[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
					IPPROTO_FRAGMENT, IPPROTO_AH };
	for (size_t k = 0; k < sizeof(exts); k++) {
		up.n = 0;
		if (exts[k] == IPPROTO_ROUTING) {
			fr_ip6_rh(&up, IPPROTO_NONE, 1);
		} else if (exts[k] == IPPROTO_FRAGMENT) {
			fr_ip6_frag(&up, IPPROTO_NONE, 0, false);
		} else if (exts[k] == IPPROTO_AH) {
			fr_u8(&up, IPPROTO_NONE);
			fr_u8(&up, 4); /* (4 + 2) * 4 = 24 bytes */
			fr_zero(&up, 22);
		} else {
			fr_ip6_opts(&up, IPPROTO_NONE, 1);
		}
		for (uint32_t n = 0; n <= up.n; n++) {
			f.n = 0;
			fr_eth(&f, MAC_H2, MAC_H1, 0x86dd);
			uint32_t ip = fr_ip6(&f, exts[k], 64, S1, S2);
			fr_put(&f, up.b, n);
			fr_ip6_end(&f, ip);
			uint8_t rc = parse_n(&f, f.n, &m, 1);
			uint8_t want = n == up.n ? DP_DROP_NONE
				: n == 0 && exts[k] == IPPROTO_HOPOPTS
				? DP_DROP_BAD_IPV6_LEN /* a jumbogram's header */
				: DP_DROP_BAD_IPV6_EXTHDR;
			assert_int_equal(rc, want);
		}
	}
}

/* ---- random frames ------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static void test_random(void **state)
{
	(void)state;
	const char *s = getenv("UT_SEED");
	rng_state = s ? strtoull(s, NULL, 0) : 0x5eed5eedull;
	if (rng_state == 0)
		rng_state = 1;
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x88cc };
	static const uint8_t nhs[] = { 0, 43, 44, 60, 51, 50, 59, 6, 17, 1, 58 };
	struct frame f;
	struct pkt_meta m;
	unsigned valid = 0;
	for (int it = 0; it < 100000; it++) {
		uint32_t len = rnd() % 160;
		f.n = len;
		for (uint32_t i = 0; i < len; i++)
			f.b[i] = (uint8_t)rnd();
		/* steer most frames past the first checks, so deeper code runs */
		uint32_t off = 14;
		if (len >= 14 && rnd() % 4 != 0)
			wr_be16(f.b + 12, types[rnd() % 6]);
		while (len >= off + 4 && (rd_be16(f.b + off - 2) == 0x8100 ||
					  rd_be16(f.b + off - 2) == 0x88a8) && rnd() % 2)
			wr_be16(f.b + off + 2, types[rnd() % 6]), off += 4;
		if (len >= off + 2 && (rd_be16(f.b + off - 2) == 0x8100 ||
				       rd_be16(f.b + off - 2) == 0x88a8))
			off += 4;
		uint16_t et = len >= off ? rd_be16(f.b + off - 2) : 0;
		if (et == 0x0800 && len >= off + 20 && rnd() % 8) {
			uint32_t ihl = 5 + (rnd() % 3 == 0 ? rnd() % 11 : 0);
			f.b[off] = (uint8_t)(0x40 | ihl);
			uint32_t room = len - off;
			wr_be16(f.b + off + 2, (uint16_t)(room - rnd() % 4 * (rnd() % 2)));
			if (rnd() % 2)
				wr_be16(f.b + off + 6, (uint16_t)(rnd() & 0x4000));
			f.b[off + 9] = nhs[rnd() % sizeof(nhs)];
			if (ihl * 4 <= room && rnd() % 4)
				fr_ip4_csum(&f, off);
		} else if (et == 0x86dd && len >= off + 40 && rnd() % 8) {
			f.b[off] = (uint8_t)(0x60 | (f.b[off] & 0xf));
			uint32_t short_by = rnd() % 2 * (rnd() % 8);
			wr_be16(f.b + off + 4, (uint16_t)(len - off - 40 - short_by));
			f.b[off + 6] = nhs[rnd() % sizeof(nhs)];
			for (uint32_t p = off + 40; p + 1 < len; p += 8)
				if (rnd() % 2) {
					f.b[p] = nhs[rnd() % sizeof(nhs)];
					f.b[p + 1] = (uint8_t)(rnd() % 3);
				}
		}
		int verify = (int)(rnd() % 2);
		uint8_t rc = parse_n(&f, len, &m, verify);
		valid += rc == DP_DROP_NONE && (m.flags & PKT_F_L4);
		/* checking the checksum can only turn a pass into BAD_IPV4_CSUM */
		struct pkt_meta m2;
		uint8_t rc2 = parse_n(&f, len, &m2, !verify);
		if (rc != rc2) {
			assert_int_equal(verify ? rc : rc2, DP_DROP_BAD_IPV4_CSUM);
			assert_int_not_equal(verify ? rc2 : rc, DP_DROP_BAD_IPV4_CSUM);
		}
	}
	/* the steering must have reached the L4 parsers now and then */
	assert_true(valid > 1000);
}

/* pkt_cksum is rte_raw_cksum eight bytes a step: the same value for every
 * length and alignment, all-ones and all-zero runs included (the folds'
 * edge: a sum of 0xffff, a sum of nothing). */
static void test_cksum(void **state)
{
	(void)state;
	static uint8_t buf[2100];
	rng_state = 0x5eed;
	for (unsigned k = 0; k < 200000; k++) {
		unsigned kind = rnd() % 8;
		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = kind == 0 ? 0xff : kind == 1 ? 0 : kind == 2 ? (uint8_t)(rnd() % 2 * 0xff)
											  : (uint8_t)rnd();
		uint32_t off = rnd() % 16, len = k < 40 ? k : rnd() % 2 ? rnd() % 64 : rnd() % 2048;
		uint16_t want = rte_raw_cksum(buf + off, len), got = pkt_cksum(buf + off, len);
		if (want != got)
			fail_msg("len %u off %u kind %u: pkt_cksum 0x%04x, rte_raw_cksum 0x%04x", len,
				 off, kind, got, want);
	}
}

/* The one-pass path for untagged IPv4 TCP/UDP (parse_common4) against the
 * general parser (parse_n compares every frame): well-formed frames, then
 * each field the one pass tests made wrong in turn. */
static void test_common4(void **state)
{
	(void)state;
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 192, 168, 1, 9 };
	struct frame f;
	struct pkt_meta m;
	unsigned common = 0;
	rng_state = 0xc0ffee;
	for (int it = 0; it < 200000; it++) {
		f.n = 0;
		uint8_t dmac[6] = { (uint8_t)(rnd() % 8 ? 0x02 : 0x03), 0, 0, 0, 0, 1 };
		fr_eth(&f, dmac, MAC_H1, rnd() % 16 ? 0x0800 : 0x8100);
		bool tcp = rnd() % 2;
		uint16_t frag = (uint16_t)(rnd() % 4 ? (rnd() % 2 ? 0x4000 : 0) : rnd());
		uint32_t ip = fr_ip4(&f, tcp ? IPPROTO_TCP : IPPROTO_UDP, (uint8_t)rnd(), frag, a, b,
				     NULL, 0);
		uint16_t plen = (uint16_t)(rnd() % 64);
		uint32_t l4 = f.n;
		if (tcp) {
			fr_tcp(&f, (uint16_t)rnd(), (uint16_t)rnd(), (uint8_t)rnd(),
			       (uint8_t)(rnd() % 4 ? 5 : rnd() % 16));
			fr_zero(&f, plen);
		} else {
			fr_udp(&f, (uint16_t)rnd(), (uint16_t)rnd(), plen);
		}
		fr_ip4_end(&f, ip);
		switch (rnd() % 12) {
		case 0: f.b[ip] = (uint8_t)rnd(); break;                       /* version, IHL */
		case 1: wr_be16(f.b + ip + 2, (uint16_t)(rnd() % (f.n + 8))); break; /* length */
		case 2: f.b[ip + 10] ^= (uint8_t)(1 + rnd() % 255); break;     /* checksum */
		case 3: f.b[ip + 9] = (uint8_t)rnd(); break;                   /* protocol */
		case 4: f.b[l4 + 4] = (uint8_t)rnd(); f.b[l4 + 5] = (uint8_t)rnd(); break;
		case 5: f.b[l4 + 12] = (uint8_t)rnd(); break;                  /* TCP offset */
		case 6: f.n = (uint32_t)rnd() % (f.n + 1); break;              /* cut short */
		case 7: fr_zero(&f, 1 + rnd() % 20); break;                    /* padding */
		default: break;
		}
		if (rnd() % 2 && f.n >= ip + 20)
			fr_ip4_csum(&f, ip);
		int verify = (int)(rnd() % 2);
		uint8_t rc = parse_n(&f, f.n, &m, verify);
		common += rc == DP_DROP_NONE && m.n_vlan == 0 && !(m.flags & ~(PKT_F_L4 | PKT_F_IP_DF)) &&
			  m.l3 == PKT_L3_IPV4;
	}
	/* most frames were the common kind: the one pass ran, and was compared */
	assert_true(common > 50000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_udp4_bcast),
		cmocka_unit_test(test_icmp4),
		cmocka_unit_test(test_icmp6),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_non_ip),
		cmocka_unit_test(test_ipv6_chain),
		cmocka_unit_test(test_ipv6_frag),
		cmocka_unit_test(test_ipv6_bad_chains),
		cmocka_unit_test(test_esp),
		cmocka_unit_test(test_ipv4_bad_header),
		cmocka_unit_test(test_ipv4_checksum),
		cmocka_unit_test(test_tcp_bad_offset),
		cmocka_unit_test(test_udp_bad_length),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_l4_exact_end),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_common4),
		cmocka_unit_test(test_cksum),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
