/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frame: builds test frames byte by byte (Ethernet, 802.1Q, ARP, IPv4,
 * IPv6 and its extension headers, TCP, UDP, ICMP, ICMPv6) for the parser
 * and dataplane tests, with checksums computed here, independently of the
 * code under test. Header only, no DPDK: shared by test_parse (plain
 * buffers) and test_router (copied into mbufs).
 */
#ifndef RP_TEST_FRAME_H
#define RP_TEST_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FRAME_MAX 4096

struct frame {
	uint32_t n;
	uint8_t b[FRAME_MAX];
};

static inline void fr_put(struct frame *f, const void *p, size_t n)
{
	if (f->n + n > FRAME_MAX)
		__builtin_trap();
	memcpy(f->b + f->n, p, n);
	f->n += (uint32_t)n;
}

static inline void fr_zero(struct frame *f, size_t n)
{
	if (f->n + n > FRAME_MAX)
		__builtin_trap();
	memset(f->b + f->n, 0, n);
	f->n += (uint32_t)n;
}

static inline void fr_u8(struct frame *f, uint8_t v)
{
	fr_put(f, &v, 1);
}

static inline void fr_u16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	fr_put(f, b, 2);
}

static inline void fr_u32(struct frame *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	fr_put(f, b, 4);
}

static inline uint16_t rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 sum of big-endian 16-bit words, not complemented, folded. */
static inline uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static inline uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Checksum of an IPv6 upper-layer message (RFC 8200 8.1), ip6 = header. */
static inline uint16_t csum_ip6_upper(const uint8_t *ip6, uint8_t proto, const uint8_t *l4,
				      uint32_t len)
{
	uint32_t s = csum_add(0, ip6 + 8, 32);
	s += len >> 16;
	s += len & 0xffff;
	s += proto;
	s = csum_add(s, l4, len);
	return csum_fold(s);
}

static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_H1[6] = { 0x02, 0x00, 0x00, 0x77, 0x01, 0x02 };
static const uint8_t MAC_H2[6] = { 0x02, 0x00, 0x00, 0x77, 0x02, 0x02 };
static const uint8_t MAC_OTHER[6] = { 0x02, 0x00, 0x00, 0x55, 0x55, 0x55 };

static inline void fr_eth(struct frame *f, const uint8_t dst[6], const uint8_t src[6],
			  uint16_t type)
{
	fr_put(f, dst, 6);
	fr_put(f, src, 6);
	fr_u16(f, type);
}

/* An 802.1Q/802.1ad tag: TCI, then the next ethertype. The tag's own TPID is
 * the ethertype written before it. */
static inline void fr_vlan(struct frame *f, uint16_t tci, uint16_t next_type)
{
	fr_u16(f, tci);
	fr_u16(f, next_type);
}

static inline void fr_arp(struct frame *f, uint16_t op, const uint8_t sha[6], const uint8_t sip[4],
			  const uint8_t tha[6], const uint8_t tip[4])
{
	fr_u16(f, 1);
	fr_u16(f, 0x0800);
	fr_u8(f, 6);
	fr_u8(f, 4);
	fr_u16(f, op);
	fr_put(f, sha, 6);
	fr_put(f, sip, 4);
	fr_put(f, tha, 6);
	fr_put(f, tip, 4);
}

/* IPv4 header; options (multiple of 4 bytes) follow the fixed part. The
 * total length and checksum are written by fr_ip4_end. Returns the offset. */
static inline uint32_t fr_ip4(struct frame *f, uint8_t proto, uint8_t ttl, uint16_t frag,
			      const uint8_t src[4], const uint8_t dst[4], const uint8_t *opts,
			      uint8_t optlen)
{
	uint32_t off = f->n;
	fr_u8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	fr_u8(f, 0);
	fr_u16(f, 0); /* total length: fr_ip4_end */
	fr_u16(f, 0x1234);
	fr_u16(f, frag);
	fr_u8(f, ttl);
	fr_u8(f, proto);
	fr_u16(f, 0);
	fr_put(f, src, 4);
	fr_put(f, dst, 4);
	if (optlen)
		fr_put(f, opts, optlen);
	return off;
}

static inline void fr_ip4_csum(struct frame *f, uint32_t off)
{
	uint8_t *ip = f->b + off;
	uint32_t hlen = (uint32_t)(ip[0] & 0xf) * 4;
	ip[10] = ip[11] = 0;
	wr_be16(ip + 10, csum_fold(csum_add(0, ip, hlen)));
}

/* Total length = everything after the header's start; checksum. */
static inline void fr_ip4_end(struct frame *f, uint32_t off)
{
	wr_be16(f->b + off + 2, (uint16_t)(f->n - off));
	fr_ip4_csum(f, off);
}

static inline uint32_t fr_ip6(struct frame *f, uint8_t nh, uint8_t hlim, const uint8_t src[16],
			      const uint8_t dst[16])
{
	uint32_t off = f->n;
	fr_u32(f, 0x60000000u);
	fr_u16(f, 0); /* payload length: fr_ip6_end */
	fr_u8(f, nh);
	fr_u8(f, hlim);
	fr_put(f, src, 16);
	fr_put(f, dst, 16);
	return off;
}

static inline void fr_ip6_end(struct frame *f, uint32_t off)
{
	wr_be16(f->b + off + 4, (uint16_t)(f->n - off - 40));
}

/* Hop-by-hop or destination options header of 8 * (hl + 1) bytes, PadN. */
static inline void fr_ip6_opts(struct frame *f, uint8_t nh, uint8_t hl)
{
	fr_u8(f, nh);
	fr_u8(f, hl);
	fr_u8(f, 1); /* PadN */
	fr_u8(f, (uint8_t)(8 * (hl + 1) - 4));
	fr_zero(f, 8u * (hl + 1u) - 4u);
}

/* Routing header (type 0 layout) carrying n addresses. */
static inline void fr_ip6_rh(struct frame *f, uint8_t nh, uint8_t n_addr)
{
	fr_u8(f, nh);
	fr_u8(f, (uint8_t)(2 * n_addr));
	fr_u8(f, 0);      /* routing type */
	fr_u8(f, 0);      /* segments left */
	fr_u32(f, 0);
	for (uint8_t i = 0; i < n_addr; i++) {
		uint8_t a[16] = { 0xfd, 0x00, [15] = (uint8_t)(i + 1) };
		fr_put(f, a, 16);
	}
}

static inline void fr_ip6_frag(struct frame *f, uint8_t nh, uint16_t offset8, bool more)
{
	fr_u8(f, nh);
	fr_u8(f, 0);
	fr_u16(f, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	fr_u32(f, 0xabcdef01u);
}

/* TCP header with data offset doff (words); options zeroed. */
static inline uint32_t fr_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags,
			      uint8_t doff)
{
	uint32_t off = f->n;
	fr_u16(f, sport);
	fr_u16(f, dport);
	fr_u32(f, 1000);
	fr_u32(f, 0);
	fr_u8(f, (uint8_t)(doff << 4));
	fr_u8(f, flags);
	fr_u16(f, 65535);
	fr_u16(f, 0);
	fr_u16(f, 0);
	if (doff > 5)
		fr_zero(f, 4u * (doff - 5u));
	return off;
}

/* UDP header whose length field covers the header and plen payload bytes;
 * the payload is appended (pattern). */
static inline uint32_t fr_udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t plen)
{
	uint32_t off = f->n;
	fr_u16(f, sport);
	fr_u16(f, dport);
	fr_u16(f, (uint16_t)(8 + plen));
	fr_u16(f, 0);
	for (uint16_t i = 0; i < plen; i++)
		fr_u8(f, (uint8_t)(0x30 + i % 64));
	return off;
}

/* ICMP / ICMPv6 header (id, seq in the rest-of-header) + payload pattern;
 * checksum left 0 (fr_icmp4_csum / fr_icmp6_csum). */
static inline uint32_t fr_icmp(struct frame *f, uint8_t type, uint8_t code, uint16_t id,
			       uint16_t seq, uint16_t plen)
{
	uint32_t off = f->n;
	fr_u8(f, type);
	fr_u8(f, code);
	fr_u16(f, 0);
	fr_u16(f, id);
	fr_u16(f, seq);
	for (uint16_t i = 0; i < plen; i++)
		fr_u8(f, (uint8_t)(0x61 + i % 26));
	return off;
}

static inline void fr_icmp4_csum(struct frame *f, uint32_t off)
{
	f->b[off + 2] = f->b[off + 3] = 0;
	wr_be16(f->b + off + 2, csum_fold(csum_add(0, f->b + off, f->n - off)));
}

/* TCP/UDP checksum of an IPv4 packet (header at ip4) whose upper layer
 * starts at l4 and runs to the end of the frame; the checksum field is at
 * l4 + ck_at (TCP 16, UDP 6). */
static inline void fr_ip4_l4_csum(struct frame *f, uint32_t ip4, uint8_t proto, uint32_t l4,
				  uint32_t ck_at)
{
	uint32_t len = f->n - l4;
	f->b[l4 + ck_at] = f->b[l4 + ck_at + 1] = 0;
	uint32_t s = csum_add(0, f->b + ip4 + 12, 8);
	s += proto;
	s += len;
	s = csum_add(s, f->b + l4, len);
	wr_be16(f->b + l4 + ck_at, csum_fold(s));
}

/* L4 checksum of an IPv6 packet whose upper layer starts at l4 and runs to
 * the end of the frame; the checksum field is at l4 + ck_at. */
static inline void fr_ip6_l4_csum(struct frame *f, uint32_t ip6, uint8_t proto, uint32_t l4,
				  uint32_t ck_at)
{
	f->b[l4 + ck_at] = f->b[l4 + ck_at + 1] = 0;
	wr_be16(f->b + l4 + ck_at, csum_ip6_upper(f->b + ip6, proto, f->b + l4, f->n - l4));
}

#endif
