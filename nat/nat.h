/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat: network address translation on top of connection tracking, with
 * Linux's nf_nat semantics.
 *
 * A binding is made once, on a connection's first packet, by the nat
 * table's target at its hook (DNAT/REDIRECT at PREROUTING and OUTPUT: a
 * destination manip; SNAT/MASQUERADE at POSTROUTING and INPUT: a source
 * manip; NETMAP at either): nat_bind() rewrites the reply tuple of the
 * still unconfirmed entry, so the reply is recognised as such, and sets
 * CT_S_SRC_NAT / CT_S_DST_NAT. Every packet of the connection, both
 * directions, is then rewritten from its entry alone (nat_manip_packet):
 * destinations at PREROUTING/OUTPUT, sources at POSTROUTING/INPUT, as the
 * kernel does, so FORWARD rules see translated destinations and original
 * sources.
 *
 * Ports: each worker owns a disjoint share of every address's ports (see
 * struct nat_share), so the reply to a source-translated connection,
 * addressed to that port, names the worker that owns it. A
 * worker allocates only ports of its share, keeping the original port
 * when it is in the range, free and its own (minimal mangling), then the
 * original address with another port... as nf_nat's get_unique_tuple(),
 * with the addresses of a range tried in turn before a port is changed.
 * "Free" is checked against this worker's table: by construction a
 * translated tuple with a port of this worker's share lives nowhere else.
 *
 * Checksums are updated incrementally (RFC 1624): IPv4 header, TCP, UDP
 * (a zero UDP checksum stays zero), ICMP (the echo id), ICMPv6 and the
 * pseudo-headers. ICMP errors about a translated connection are translated
 * outside and inside (nat_manip_icmp_error), as nf_nat_icmp_reply_translation.
 *
 * No DPDK here: unit tests drive it with synthetic packets.
 */
#ifndef RP_NAT_H
#define RP_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "ct.h"

enum nat_manip { NAT_MANIP_SRC, NAT_MANIP_DST };

/* range flags (as NF_NAT_RANGE_*) */
enum {
	NAT_R_PROTO = 1 << 0,        /* ports given (--to-ports, a:p-q) */
	NAT_R_RANDOM = 1 << 1,       /* --random: random port offset */
	NAT_R_RANDOM_FULLY = 1 << 2, /* --random-fully: never keep the port */
	NAT_R_PERSISTENT = 1 << 3,   /* same client, same address */
	NAT_R_OFFSET = 1 << 4,       /* DNAT a:p-q/base: shifted ports */
	NAT_R_NULL = 1 << 5,         /* the null binding (no NAT target): no
					free tuple is no failure of its own */
};

/* What a NAT target resolved to for one connection (the caller fills in
 * the port's address for MASQUERADE/REDIRECT and the mapped address of
 * NETMAP). Addresses in network order, IPv4 in the first 4 bytes. */
struct nat_range {
	uint8_t flags;
	uint8_t min[16], max[16];
	uint16_t port_lo, port_hi, port_base; /* host order */
};

/* The worker's share of the port space: for a source translation toward
 * server port s, port p is worker ((p + s) mod n)'s, so the reply, from s
 * to p, names its owner in its ports (nat_owner); ICMP echo ids: id mod n.
 * A port range needs at least n ports for every worker to have a share. */
struct nat_share {
	uint16_t id, n; /* worker id, number of workers (>= 1) */
};

/* The worker that owns the connection of a packet addressed to a source
 * translation's address: TCP, UDP, SCTP, UDP-Lite by its ports,
 * ICMP echo by id; -1 when
 * the packet does not say (ICMP errors, other protocols). */
static inline int nat_owner(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t icmp_type,
	unsigned n)
{
	if (ct_port_proto(proto))
		return (int)(((uint32_t)sport + dport) % n);
	if ((proto == 1 && (icmp_type == 0 || icmp_type == 8)) ||
	    (proto == 58 && (icmp_type == 128 || icmp_type == 129)))
		return (int)(sport % n); /* the echo id */
	return -1;
}

/*
 * The receive-side scaling of the port a source translation's replies come
 * in by, when the NIC hashes with a known Toeplitz key and redirection
 * table: a reply's queue (= worker) can then be computed before the port
 * is chosen, and nat_bind() prefers ports whose reply the NIC itself
 * hands to the worker that owns the connection (no hand-off). The hash is
 * linear over GF(2), so it is kept as the contribution of each input byte
 * (IPv4: source, destination, source port, destination port = 12 bytes;
 * IPv6: 36), a table of 256 words per byte position. Built on the control
 * thread (nat_rss_init), read-only to the workers.
 */
#define NAT_RSS_RETA_MAX 512
enum { NAT_RSS_TCP4 = 1, NAT_RSS_UDP4 = 2, NAT_RSS_TCP6 = 4, NAT_RSS_UDP6 = 8 };
struct nat_rss {
	uint8_t hashes;     /* NAT_RSS_*: flows the NIC hashes with their ports */
	uint16_t reta_mask; /* redirection table entries - 1 (a power of two) */
	uint16_t reta[NAT_RSS_RETA_MAX]; /* queue of each entry */
	uint32_t t[36][256]; /* contribution of byte i of the input with value v */
};

/* Fill r from the NIC's key (klen >= 40 bytes, the first 40 are used),
 * redirection table (reta_size a power of two <= NAT_RSS_RETA_MAX) and
 * the NAT_RSS_* flows it hashes with ports. -1 if these cannot be used. */
int nat_rss_init(struct nat_rss *r, const uint8_t *key, unsigned klen, const uint16_t *reta,
	unsigned reta_size, uint8_t hashes);

/* The Toeplitz hash of a TCP/UDP packet from src:sport to dst:dport (fam
 * 4 or 6, addresses in network order, ports in host order), as r's NIC
 * computes it. */
uint32_t nat_rss_hash(const struct nat_rss *r, uint8_t fam, const uint8_t *src,
	const uint8_t *dst, uint16_t sport, uint16_t dport);

/* Does r hash proto (6, 17) of family fam with its ports? */
static inline bool nat_rss_covers(const struct nat_rss *r, uint8_t fam, uint8_t proto)
{
	uint8_t bit = proto == 6 ? (fam == 4 ? NAT_RSS_TCP4 : NAT_RSS_TCP6) :
		proto == 17 ? (fam == 4 ? NAT_RSS_UDP4 : NAT_RSS_UDP6) : 0;
	return r != NULL && (r->hashes & bit) != 0;
}

struct nat_stats {
	uint64_t bind_src, bind_dst; /* bindings made */
	/* source bindings on a port with a known RSS hash (nat_rss): replies
	 * steered to this worker by the NIC, or left to the hand-off (no
	 * steered port was free, or the client's mapping was kept) */
	uint64_t rss_steered, rss_unsteered;
	uint64_t port_changed;       /* bindings that had to change the port */
	uint64_t alloc_fail;         /* no free tuple: the packet is dropped */
	uint64_t tried;              /* tuples looked up while allocating */
	uint64_t icmp_err;           /* ICMP errors translated */
};

/*
 * The source mappings made lately, by client address and port (a
 * direct-mapped cache of entry indexes + 1): a client's next connection
 * reuses its current mapping when it fits and is free, as the kernel's
 * find_appropriate_src() does (endpoint-independent mapping, which NAT
 * traversal relies on). A lost slot only costs that reuse. mask + 1 slots,
 * a power of two. A slot also holds its key's hash (upper 32 bits), so a
 * slot taken by another client is recognised without reading its entry
 * (a cache miss of its own).
 */
struct nat_srcmap {
	uint64_t *slot;
	uint32_t mask;
};

/* The cache's key: client address, port, protocol and zone (of an
 * original tuple: the kernel's nf_nat_bysource hashes the zone in). */
static inline uint32_t nat_srckey(const struct ct_tuple *o)
{
	uint32_t h = 0x2545f491u ^ ((uint32_t)o->proto << 16 | o->sport) ^
		     (uint32_t)o->zo * 0x85ebca6bu;
	for (unsigned i = 0; i < 16; i += 4) {
		uint32_t w = (uint32_t)o->src[i] << 24 | (uint32_t)o->src[i + 1] << 16 |
			(uint32_t)o->src[i + 2] << 8 | o->src[i + 3];
		h ^= w;
		h *= 0x9e3779b1u;
		h ^= h >> 15;
	}
	return h;
}

/*
 * Bind the unconfirmed entry r->idx (fresh, the connection's first
 * packet): choose the tuple for manip m in rg and rewrite the entry's
 * reply tuple; r->h[1] gets its new hash. sm (may be NULL): the worker's
 * source mappings. rss (may be NULL): the hash of the port the replies of
 * a source translation come in by; with several workers, ports whose
 * reply that hash gives to this worker are tried first. rnd: a random
 * number (the port offset, as the kernel's get_random_u16()). false: no
 * free tuple in the range (counted; drop the packet), or, for the null
 * binding (NAT_R_NULL), none other than the taken one (not counted: the
 * entry is left as it was, and ct_confirm finds the clash). A destination
 * binding never fails, as the kernel's get_unique_tuple: with no free
 * tuple it keeps a taken one, and the source binding that follows (a
 * SNAT, or the null binding) gives the connection another source port.
 */
bool nat_bind(struct ct_table *t, struct ct_res *r, enum nat_manip m, const struct nat_range *rg,
	const struct nat_share *sh, struct nat_srcmap *sm, const struct nat_rss *rss, uint32_t rnd,
	struct nat_stats *st);

/* Does a packet of direction dir of entry e need manip m? (the kernel's
 * statusbit test) */
static inline bool nat_needed(const struct ct_entry *e, unsigned dir, enum nat_manip m)
{
	uint8_t bit = m == NAT_MANIP_SRC ? CT_S_SRC_NAT : CT_S_DST_NAT;
	if (dir)
		bit = bit == CT_S_SRC_NAT ? CT_S_DST_NAT : CT_S_SRC_NAT;
	return (e->status & bit) != 0;
}

/* A packet: IP header at l3 (version from its first nibble), L4 header at
 * l4 with l4_cap bytes present. */
struct nat_pkt {
	uint8_t *l3, *l4;
	uint32_t l4_cap;
	uint8_t proto;
};

/* Rewrite packet p (direction dir of entry idx) for manip m: its
 * destination (DST) or source (SRC) address and port become those of the
 * inverted tuple of the other direction. Checksums follow. */
void nat_manip_packet(const struct ct_table *t, uint32_t idx, unsigned dir, enum nat_manip m,
	const struct nat_pkt *p);

/* The same for an ICMP/ICMPv6 error RELATED to entry idx (dir: the
 * error's direction): the quoted packet gets the opposite manip with the
 * other direction's tuple, the outer header manip m, and the ICMP
 * checksum is recomputed over the message. false if the quoted packet is
 * too short to rewrite (left as it is). */
bool nat_manip_icmp_error(const struct ct_table *t, uint32_t idx, unsigned dir, enum nat_manip m,
	const struct nat_pkt *p, uint32_t l4_len);

/* RFC 1624 incremental update of a one's complement checksum (host order
 * words) for a 16-bit field going from old to new_ (the dataplane's TTL,
 * TOS and ICMP rewrites use it too). */
static inline uint16_t nat_csum16(uint16_t ck, uint16_t old, uint16_t new_)
{
	uint32_t s = (uint16_t)~ck + (uint32_t)(uint16_t)~old + new_;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One's complement sum of n bytes (network order words), folded, not
 * complemented; seed added. */
uint16_t nat_csum_raw(const uint8_t *b, uint32_t n, uint32_t seed);

/* SCTP's checksum of the packet at l4 (len >= 12 bytes): the CRC32c of
 * RFC 9260 appendix B, its checksum field taken as zero, as the four
 * bytes to store there (little-endian); SSE4.2's crc32 instruction. */
void nat_sctp_csum(const uint8_t *l4, uint32_t len, uint8_t out[4]);

#endif
