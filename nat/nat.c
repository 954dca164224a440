/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat: bindings (tuple choice) and header rewriting. See nat.h.
 */
#include <string.h>
#include <nmmintrin.h>

#include "nat.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132
#define IPPROTO_UDPLITE_ 136

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t nat_csum_raw(const uint8_t *b, uint32_t n, uint32_t seed)
{
	uint64_t s = seed;
	uint32_t i = 0;
	for (; i + 1 < n; i += 2)
		s += rd16(b + i);
	if (i < n)
		s += (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* ---- receive-side scaling ---- */

/* The 32 key bits from bit s on (bit 0: the first byte's top bit). */
static uint32_t key_window(const uint8_t *key, unsigned s)
{
	unsigned b = s / 8;
	uint64_t v = (uint64_t)key[b] << 32 | (uint64_t)key[b + 1] << 24 |
		(uint64_t)key[b + 2] << 16 | (uint64_t)key[b + 3] << 8 | key[b + 4];
	return (uint32_t)(v >> (8 - s % 8));
}

int nat_rss_init(struct nat_rss *r, const uint8_t *key, unsigned klen, const uint16_t *reta,
	unsigned reta_size, uint8_t hashes)
{
	/* 36 input bytes use key bits up to 36 * 8 + 31: 40 bytes */
	if (klen < 40 || reta_size == 0 || reta_size > NAT_RSS_RETA_MAX ||
	    (reta_size & (reta_size - 1)) != 0)
		return -1;
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < 36; i++) {
		uint32_t bit[8];
		for (unsigned j = 0; j < 8; j++)
			bit[j] = key_window(key, i * 8 + j);
		for (unsigned v = 0; v < 256; v++) {
			uint32_t h = 0;
			for (unsigned j = 0; j < 8; j++)
				if (v & (0x80u >> j))
					h ^= bit[j];
			r->t[i][v] = h;
		}
	}
	for (unsigned i = 0; i < reta_size; i++)
		r->reta[i] = reta[i];
	r->reta_mask = (uint16_t)(reta_size - 1);
	r->hashes = hashes;
	return 0;
}

uint32_t nat_rss_hash(const struct nat_rss *r, uint8_t fam, const uint8_t *src,
	const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	unsigned alen = fam == 4 ? 4 : 16;
	uint32_t h = 0;
	for (unsigned i = 0; i < alen; i++)
		h ^= r->t[i][src[i]] ^ r->t[alen + i][dst[i]];
	unsigned p = 2 * alen;
	return h ^ r->t[p][sport >> 8] ^ r->t[p + 1][sport & 0xff] ^ r->t[p + 2][dport >> 8] ^
		r->t[p + 3][dport & 0xff];
}

/* The queue the NIC gives a packet with hash base (its destination port
 * left out: 0) and destination port dport, at input byte dpos. */
static inline uint16_t rss_queue(const struct nat_rss *r, uint32_t base, unsigned dpos,
	uint16_t dport)
{
	uint32_t h = base ^ r->t[dpos][dport >> 8] ^ r->t[dpos + 1][dport & 0xff];
	return r->reta[h & r->reta_mask];
}

/* CRC32c (reflected, polynomial 0x82F63B78, no final inversion) with the
 * SSE4.2 crc32 instruction, which the tracker's hash needs already
 * (ct_hash): 8 bytes an instruction. */
__attribute__((target("sse4.2"))) static uint32_t crc32c(uint32_t c, const uint8_t *p, uint32_t n)
{
	uint64_t c64 = c;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c64 = _mm_crc32_u64(c64, v);
	}
	c = (uint32_t)c64;
	while (n--)
		c = _mm_crc32_u8(c, *p++);
	return c;
}

void nat_sctp_csum(const uint8_t *l4, uint32_t len, uint8_t out[4])
{
	static const uint8_t zero[4];
	uint32_t c = crc32c(0xffffffffu, l4, 8);
	c = crc32c(c, zero, 4);
	c = ~crc32c(c, l4 + 12, len - 12);
	out[0] = (uint8_t)c;
	out[1] = (uint8_t)(c >> 8);
	out[2] = (uint8_t)(c >> 16);
	out[3] = (uint8_t)(c >> 24);
}

/* ---- tuple choice ---- */

static bool is_icmp_query(const struct ct_tuple *k)
{
	return k->proto == IPPROTO_ICMP_ || k->proto == IPPROTO_ICMPV6_;
}

static bool has_ports(const struct ct_tuple *k)
{
	return ct_port_proto(k->proto) || is_icmp_query(k);
}

/* The address slot of a reply tuple that manip m changes, and its port. */
static uint8_t *side_addr(struct ct_tuple *rep, enum nat_manip m)
{
	return m == NAT_MANIP_SRC ? rep->dst : rep->src;
}

static uint16_t *side_port(struct ct_tuple *rep, enum nat_manip m)
{
	if (is_icmp_query(rep))
		return &rep->sport; /* the echo id, in both directions */
	return m == NAT_MANIP_SRC ? &rep->dport : &rep->sport;
}

static uint32_t ld_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void st_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Addresses of a range: the last 32 bits vary (an IPv6 range wider than
 * that is treated as its first 2^32 addresses). */
static uint64_t range_count(const struct nat_range *rg, unsigned alen)
{
	unsigned off = alen - 4;
	if (memcmp(rg->min, rg->max, off) != 0)
		return 1ull << 32;
	uint32_t lo = ld_be32(rg->min + off), hi = ld_be32(rg->max + off);
	return hi >= lo ? (uint64_t)hi - lo + 1 : 1;
}

static void range_addr(const struct nat_range *rg, unsigned alen, uint64_t i, uint8_t *out)
{
	unsigned off = alen - 4;
	memcpy(out, rg->min, alen);
	st_be32(out + off, ld_be32(rg->min + off) + (uint32_t)i);
}

static bool addr_in_range(const struct nat_range *rg, unsigned alen, const uint8_t *a)
{
	return memcmp(a, rg->min, alen) >= 0 && memcmp(a, rg->max, alen) <= 0;
}

/* A hash of the client (and server, unless persistent), as
 * find_best_ips_proto() spreads clients over a range's addresses. */
static uint32_t client_hash(const struct ct_tuple *o, bool persistent)
{
	uint32_t h = 0x9e3779b9u;
	for (unsigned i = 0; i < 16; i += 4) {
		h ^= ld_be32(o->src + i);
		h *= 0x85ebca6bu;
		h ^= h >> 13;
		if (!persistent) {
			h ^= ld_be32(o->dst + i);
			h *= 0xc2b2ae35u;
			h ^= h >> 16;
		}
	}
	return h;
}

/* Is tuple k taken? *h: its hash (the binding's reply hash when it is not). */
static bool used(const struct ct_table *t, const struct ct_tuple *k, uint32_t *h,
	struct nat_stats *st)
{
	st->tried++;
	*h = ct_hash(k);
	return ct_lookup(t, k, *h) != CT_NIL;
}

/* The ports p of [lo, lo + size) that the share owns ((p + salt) mod n is
 * its id): first, count, step. */
static void share_ports(const struct nat_share *sh, uint32_t salt, uint32_t lo, uint32_t size,
	uint32_t *first, uint32_t *count, uint32_t *step)
{
	uint32_t n = sh->n ? sh->n : 1;
	uint32_t f = lo + ((sh->id % n) + 2 * n - (lo + salt) % n) % n;
	*step = n;
	if (f >= lo + size) {
		*first = lo;
		*count = 0; /* a range smaller than the workers: none of it here */
		return;
	}
	*first = f;
	*count = (lo + size - f + n - 1) / n;
}

static bool port_ours(const struct nat_share *sh, uint32_t salt, uint32_t port)
{
	uint32_t n = sh->n ? sh->n : 1;
	return (port + salt) % n == sh->id % n;
}

#define SRCMAP_REUSE 0x80000000u /* a slot's mapping differs from a fresh choice */

/* The reply's hash without its destination port, for the address the
 * binding is trying (the reply's destination): kept for the last address,
 * as steps 1-3 try the same one in turn (12-36 table reads each). */
struct rss_memo {
	uint8_t addr[16];
	uint32_t base;
	bool ok;
};

static uint32_t rss_base(const struct nat_rss *rss, struct rss_memo *mo, const struct ct_tuple *rep)
{
	if (!mo->ok || memcmp(mo->addr, rep->dst, 16) != 0) {
		memcpy(mo->addr, rep->dst, 16);
		mo->base = nat_rss_hash(rss, rep->fam, rep->src, rep->dst, rep->sport, 0);
		mo->ok = true;
	}
	return mo->base;
}

/* Would the NIC hand the reply rep (to the candidate port rep->dport) to
 * worker me? */
static inline bool steered_here(const struct nat_rss *rss, struct rss_memo *mo,
	const struct ct_tuple *rep, unsigned dpos, uint16_t me)
{
	return rss_queue(rss, rss_base(rss, mo, rep), dpos, rep->dport) == me;
}

/* Unsteered candidates passed over, at most, while looking for a port
 * whose reply the NIC steers here, before any port will do. */
#define RSS_SKIPS 512

bool nat_bind(struct ct_table *t, struct ct_res *r, enum nat_manip m, const struct nat_range *rg,
	const struct nat_share *sh, struct nat_srcmap *sm, const struct nat_rss *rss, uint32_t rnd,
	struct nat_stats *st)
{
	uint32_t idx = r->idx;
	struct ct_entry *e = &t->e[idx];
	struct ct_tuple o, rep;
	ct_entry_tuple(t, idx, 0, &o);
	ct_entry_tuple(t, idx, 1, &rep);
	unsigned alen = o.fam == 4 ? 4 : 16;
	bool ports = has_ports(&o);
	bool proto_given = (rg->flags & NAT_R_PROTO) && ports;
	bool random_all = (rg->flags & (NAT_R_RANDOM | NAT_R_RANDOM_FULLY)) != 0;
	uint8_t *a = side_addr(&rep, m);
	uint16_t *pp = side_port(&rep, m);
	uint16_t orig_port = *pp;
	uint64_t n_addr = range_count(rg, alen);
	bool found = false;
	bool src_share = m == NAT_MANIP_SRC;
	uint32_t hrep = 0;

	/* the port interval to choose from (nf_nat_l4proto_unique_tuple) */
	uint32_t lo, size;
	if (proto_given) {
		lo = rg->port_lo;
		size = (uint32_t)rg->port_hi - rg->port_lo + 1;
	} else if (is_icmp_query(&o)) {
		lo = 0;
		size = 65536;
	} else if (orig_port < 512) {
		lo = 1;
		size = 511;
	} else if (orig_port < 1024) {
		lo = 600;
		size = 424;
	} else {
		lo = 1024;
		size = 64512;
	}
	struct nat_share whole = {.id = 0, .n = 1};
	const struct nat_share *share = src_share ? sh : &whole;
	/* the reply (server port -> this port) must reach this worker:
	 * nat_owner() steers it by the sum of its ports */
	uint32_t salt = is_icmp_query(&o) ? 0 : o.dport;
	bool port_ok = !ports || !proto_given || (orig_port >= lo && orig_port - lo < size);
	if (ports && src_share && !port_ours(share, salt, orig_port))
		port_ok = false;

	/* With a known RSS hash on the replies' port and several workers, a
	 * first pass takes only ports whose reply the NIC gives this worker
	 * (steered); if none is free, a second pass takes any port of the
	 * share (its replies come through the hand-off). The client's
	 * existing mapping (1b) is kept either way: endpoint-independent
	 * mapping comes before speed. */
	bool steer = m == NAT_MANIP_SRC && sh->n > 1 && nat_rss_covers(rss, o.fam, o.proto);
	bool want = steer, kept_map = false;
	struct rss_memo memo = { .ok = false };
	unsigned dpos = 2 * alen + 2; /* the reply's destination port in the hash input */
	uint16_t me = sh->id;
again:
	/* 1. the original tuple, if it is in the range and free (SNAT) */
	if (m == NAT_MANIP_SRC && !random_all && port_ok && addr_in_range(rg, alen, a) &&
	    (!want || steered_here(rss, &memo, &rep, dpos, me)) &&
	    !used(t, &rep, &hrep, st)) {
		found = true;
		goto done;
	}
	/* 1b. the mapping this client's address and port already have (the
	 *     kernel's find_appropriate_src: one mapping per endpoint) */
	if (m == NAT_MANIP_SRC && want == steer && !random_all && sm != NULL &&
	    !addr_in_range(rg, alen, a)) {
		/* only mappings that step 2 would not find again are kept (see
		 * below): a single address with the port kept needs no look */
		uint32_t hk = nat_srckey(&o);
		uint64_t s64 = sm->slot[hk & sm->mask];
		uint32_t s = (uint32_t)s64;
		uint32_t j = (s & ~SRCMAP_REUSE) - 1;
		if ((s & SRCMAP_REUSE) && (uint32_t)(s64 >> 32) == hk && j != idx && j < t->max) {
			const struct ct_entry *x = &t->e[j];
			struct ct_tuple xo, xr;
			if (x->fam == o.fam && x->proto == o.proto && (x->status & CT_S_SRC_NAT) &&
			    !(x->status & CT_S_DYING)) {
				ct_entry_tuple(t, j, 0, &xo);
				ct_entry_tuple(t, j, 1, &xr);
				uint16_t xp = *side_port(&xr, m);
				/* same_src() in the connection's zone (the
				 * original direction's id: nf_ct_zone_equal) */
				if (memcmp(xo.src, o.src, 16) == 0 && xo.sport == o.sport &&
				    xo.zo == o.zo &&
				    addr_in_range(rg, alen, xr.dst) &&
				    (!proto_given || (xp >= lo && xp - lo < size)) &&
				    (!ports || port_ours(share, salt, xp))) {
					memcpy(a, xr.dst, alen);
					*pp = xp;
					if (!used(t, &rep, &hrep, st)) {
						found = true;
						kept_map = true;
						if (xp != orig_port)
							st->port_changed++;
						goto done;
					}
					memcpy(a, o.src, alen); /* as it was */
					*pp = orig_port;
				}
			}
		}
	}
	/* 2. the original port with the range's addresses, the client's hashed
	 *    address first, then the others in turn (SNAT; a destination
	 *    keeps the hashed one, as the kernel's find_best_ips_proto) */
	uint64_t start = n_addr > 1 ? client_hash(&o, rg->flags & NAT_R_PERSISTENT) % n_addr : 0;
	if (!ports || (!random_all && port_ok)) { /* no ports: random has nothing to draw */
		uint64_t tries = m == NAT_MANIP_DST ? 1 : n_addr < 16 ? n_addr : 16;
		for (uint64_t i = 0; i < tries; i++) {
			range_addr(rg, alen, (start + i) % n_addr, a);
			if (proto_given && m == NAT_MANIP_DST && rg->port_lo == rg->port_hi)
				*pp = rg->port_lo;
			if ((!want || steered_here(rss, &memo, &rep, dpos, me)) &&
			    !used(t, &rep, &hrep, st)) {
				found = true;
				goto done;
			}
			*pp = orig_port;
		}
	}
	if (!ports || (m == NAT_MANIP_DST && !proto_given))
		goto done; /* nothing else to change */
	/* 3. another port of the share, from an offset (random for SNAT, as
	 *    the kernel's; 0 or the shifted port for DNAT), a bounded number
	 *    of lookups per round, halved each round, on the first few
	 *    addresses; in the steered pass, ports the NIC would give another
	 *    worker are passed over without a lookup (at most RSS_SKIPS) */
	{
		uint32_t first, count, step, skips = 0;
		share_ports(share, salt, lo, size, &first, &count, &step);
		uint64_t addrs = m == NAT_MANIP_DST ? 1 : n_addr < 4 ? n_addr : 4;
		for (uint64_t ai = 0; ai < addrs && !found && skips <= RSS_SKIPS; ai++) {
			range_addr(rg, alen, (start + ai) % n_addr, a);
			uint32_t base = want ? rss_base(rss, &memo, &rep) : 0;
			uint32_t off;
			if (rg->flags & NAT_R_OFFSET)
				off = (uint32_t)(uint16_t)(orig_port - rg->port_base);
			else if (random_all || m == NAT_MANIP_SRC)
				off = rnd;
			else
				off = 0;
			uint32_t attempts = count < 128 ? count : 128;
			for (; count > 0;) {
				uint32_t probes = 0;
				for (uint32_t i = 0; i < count && probes < attempts; i++) {
					*pp = (uint16_t)(first + ((off + i) % count) * step);
					if (want && rss_queue(rss, base, dpos, *pp) != me) {
						if (++skips > RSS_SKIPS)
							break;
						continue;
					}
					probes++;
					if (!used(t, &rep, &hrep, st)) {
						found = true;
						break;
					}
				}
				if (found || attempts >= count || attempts < 16 || skips > RSS_SKIPS)
					break;
				attempts /= 2;
				off = off * 2654435761u + 0x9e37u; /* another region */
			}
		}
		if (found && *pp != orig_port)
			st->port_changed++;
	}
	if (!found && want) {
		want = false; /* any port of the share, then */
		memcpy(a, m == NAT_MANIP_SRC ? o.src : o.dst, alen);
		*pp = orig_port;
		goto again;
	}
done:
	if (!found && m == NAT_MANIP_DST) {
		/* as the kernel's get_unique_tuple: the range's first choice,
		 * taken (its hashed address; the original port, else the
		 * shifted one, else the range's first); the source binding
		 * finds the connection a port */
		uint64_t first_addr = n_addr > 1 ?
			client_hash(&o, rg->flags & NAT_R_PERSISTENT) % n_addr : 0;
		range_addr(rg, alen, first_addr, a);
		if (!proto_given || (!(rg->flags & NAT_R_OFFSET) && orig_port >= lo &&
				     orig_port - lo < size))
			*pp = orig_port;
		else if (rg->flags & NAT_R_OFFSET)
			*pp = (uint16_t)(lo + (uint16_t)(orig_port - rg->port_base) % size);
		else
			*pp = (uint16_t)lo;
		hrep = ct_hash(&rep);
		found = true;
	}
	if (!found) {
		if (!(rg->flags & NAT_R_NULL))
			st->alloc_fail++;
		return false;
	}
	/* the entry is not in the hash yet: its reply tuple can change */
	if (o.fam == 4) {
		memcpy(&e->a.a4[2], rep.src, 4);
		memcpy(&e->a.a4[3], rep.dst, 4);
	} else {
		struct ct_addr6 *x = &t->x6[e->a.x6];
		memcpy(x->a[2], rep.src, 16);
		memcpy(x->a[3], rep.dst, 16);
	}
	e->port[2] = rep.sport;
	e->port[3] = rep.dport;
	/* translated only if the tuple changed, as the kernel sets
	 * IPS_SRC_NAT/IPS_DST_NAT (MASQUERADE to the address a packet
	 * already has is no translation: nothing to rewrite, no helper
	 * rewriting, no SNAT in --ctstate) */
	const uint8_t *oa = m == NAT_MANIP_SRC ? o.src : o.dst;
	uint16_t op = m == NAT_MANIP_SRC ? o.sport : o.dport;
	if (memcmp(a, oa, alen) != 0 || *pp != op) {
		e->status |= m == NAT_MANIP_SRC ? CT_S_SRC_NAT : CT_S_DST_NAT;
		t->may_clash = 1; /* a translated reply tuple: ct_confirm looks */
	}
	r->h[1] = hrep;
	if (m == NAT_MANIP_SRC && sm != NULL) {
		/* worth finding again only if the next connection would not get
		 * it anyway: the port changed, or the range has a choice of
		 * addresses (picked by client and server) */
		bool reuse = (ports && *pp != orig_port) || n_addr > 1;
		uint32_t hk = nat_srckey(&o);
		uint64_t *slot = &sm->slot[hk & sm->mask];
		if (reuse)
			*slot = (uint64_t)hk << 32 | (idx + 1) | SRCMAP_REUSE;
		else if (*slot != 0 && (((uint32_t)*slot & ~SRCMAP_REUSE) - 1) == idx)
			*slot = 0;
	}
	if (m == NAT_MANIP_SRC)
		st->bind_src++;
	else
		st->bind_dst++;
	if (steer) {
		/* found in the steered pass: steered by construction */
		if ((want && !kept_map) || steered_here(rss, &memo, &rep, dpos, me))
			st->rss_steered++;
		else
			st->rss_unsteered++;
	}
	return true;
}

/* ---- header rewriting ---- */

/* Fold a change of n bytes (a multiple of 2) from old to new_ into ck. */
static uint16_t csum_bytes(uint16_t ck, const uint8_t *old, const uint8_t *new_, unsigned n)
{
	for (unsigned i = 0; i < n; i += 2)
		ck = nat_csum16(ck, rd16(old + i), rd16(new_ + i));
	return ck;
}

/*
 * Set the source (SRC) or destination (DST) address and port of the
 * packet at l3/l4. port < 0: leave ports (and echo ids) alone. The L4
 * checksum is updated only when its header is all there (a quoted packet
 * in an ICMP error may hold 8 bytes of it: the ports, not TCP's checksum).
 */
static void manip_hdr(uint8_t *l3, uint8_t *l4, uint32_t cap, uint8_t proto, enum nat_manip m,
	const uint8_t *addr, int port, bool l4_csum)
{
	bool v4 = (l3[0] >> 4) == 4;
	unsigned alen = v4 ? 4 : 16;
	uint8_t *ap = l3 + (v4 ? (m == NAT_MANIP_SRC ? 12 : 16) : (m == NAT_MANIP_SRC ? 8 : 24));
	uint8_t old[16];
	memcpy(old, ap, alen);
	bool addr_changes;
	if (v4) { /* four bytes: one compare, not a call */
		uint32_t o32, n32;
		memcpy(&o32, old, 4);
		memcpy(&n32, addr, 4);
		addr_changes = o32 != n32;
	} else {
		addr_changes = memcmp(old, addr, 16) != 0;
	}
	if (addr_changes) {
		memcpy(ap, addr, alen);
		if (v4)
			wr16(l3 + 10, csum_bytes(rd16(l3 + 10), old, addr, 4));
	}
	if (l4 == NULL)
		return;
	uint8_t *ck = NULL;  /* L4 checksum, if covered and present */
	uint8_t *pf = NULL;  /* the port (or echo id) to change */
	bool pseudo = true;  /* the checksum covers the addresses */
	switch (proto) {
	case IPPROTO_TCP_:
		if (cap >= 4)
			pf = l4 + (m == NAT_MANIP_SRC ? 0 : 2);
		if (cap >= 18)
			ck = l4 + 16;
		break;
	case IPPROTO_UDP_:
		if (cap >= 4)
			pf = l4 + (m == NAT_MANIP_SRC ? 0 : 2);
		if (cap >= 8 && !(v4 && rd16(l4 + 6) == 0)) /* no checksum (IPv4): stays so */
			ck = l4 + 6;
		break;
	case IPPROTO_UDPLITE_: /* its checksum is never "none" */
		if (cap >= 4)
			pf = l4 + (m == NAT_MANIP_SRC ? 0 : 2);
		if (cap >= 8)
			ck = l4 + 6;
		break;
	case IPPROTO_SCTP_:
		/* as sctp_manip_pkt: the port, then the CRC32c computed again
		 * over what is there (a quoted packet: to the end of the ICMP
		 * message), whatever changed */
		if (cap >= 4 && port >= 0)
			wr16(l4 + (m == NAT_MANIP_SRC ? 0 : 2), (uint16_t)port);
		if (l4_csum && cap >= 12)
			nat_sctp_csum(l4, cap, l4 + 8);
		return;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_: {
		pseudo = proto == IPPROTO_ICMPV6_;
		bool echo = cap >= 8 && (proto == IPPROTO_ICMP_ ? (l4[0] == 8 || l4[0] == 0) :
								 (l4[0] == 128 || l4[0] == 129));
		if (echo)
			pf = l4 + 4;
		if (cap >= 4)
			ck = l4 + 2;
		break;
	}
	default:
		return;
	}
	if (!l4_csum)
		ck = NULL;
	uint16_t c = ck ? rd16(ck) : 0;
	if (ck && pseudo && addr_changes)
		c = csum_bytes(c, old, addr, alen);
	if (pf && port >= 0 && rd16(pf) != (uint16_t)port) {
		if (ck)
			c = nat_csum16(c, rd16(pf), (uint16_t)port);
		wr16(pf, (uint16_t)port);
	}
	if (ck) {
		if ((proto == IPPROTO_UDP_ || proto == IPPROTO_UDPLITE_) && c == 0)
			c = 0xffff; /* 0 means "no checksum" (CSUM_MANGLED_0) */
		wr16(ck, c);
	}
}

void nat_manip_packet(const struct ct_table *t, uint32_t idx, unsigned dir, enum nat_manip m,
	const struct nat_pkt *p)
{
	/* the target is the other direction's tuple, inverted */
	int port;
	const uint8_t *addr;
	const struct ct_entry *e = &t->e[idx];
	if (e->fam == 4 && (e->proto == IPPROTO_TCP_ || e->proto == IPPROTO_UDP_)) {
		/* an IPv4 TCP or UDP connection (most): the other direction's
		 * address and port read where they lie, as ct_entry_tuple would
		 * give them */
		unsigned od = !dir, k = m == NAT_MANIP_SRC ? 2 * od + 1 : 2 * od;
		manip_hdr(p->l3, p->l4, p->l4_cap, p->proto, m, (const uint8_t *)&e->a.a4[k],
			  e->port[k], true);
		return;
	}
	struct ct_tuple o;
	ct_entry_tuple(t, idx, !dir, &o);
	if (m == NAT_MANIP_SRC) {
		addr = o.dst;
		port = is_icmp_query(&o) ? o.sport : o.dport;
	} else {
		addr = o.src;
		port = o.sport;
	}
	if (!has_ports(&o))
		port = -1;
	manip_hdr(p->l3, p->l4, p->l4_cap, p->proto, m, addr, port, true);
}

bool nat_manip_icmp_error(const struct ct_table *t, uint32_t idx, unsigned dir, enum nat_manip m,
	const struct nat_pkt *p, uint32_t l4_len)
{
	if (p->l4 == NULL || p->l4_cap < l4_len || l4_len < 8 + 20)
		return false;
	uint8_t *in3 = p->l4 + 8;
	uint32_t in_cap = l4_len - 8, ihl;
	uint8_t in_proto;
	bool v4 = (p->l3[0] >> 4) == 4;
	if (v4) {
		ihl = (uint32_t)(in3[0] & 0x0f) * 4;
		if ((in3[0] >> 4) != 4 || ihl < 20 || ihl > in_cap)
			return false;
		in_proto = in3[9];
	} else {
		ihl = 40;
		if ((in3[0] >> 4) != 6 || in_cap < 40)
			return false;
		in_proto = in3[6]; /* extension headers: addresses only */
		if (in_proto != IPPROTO_TCP_ && in_proto != IPPROTO_UDP_ && in_proto != IPPROTO_ICMPV6_ &&
		    in_proto != IPPROTO_SCTP_ && in_proto != IPPROTO_UDPLITE_)
			in_proto = 0;
	}
	/* the quoted packet travelled the other way: the opposite manip, with
	 * the other direction's tuple as it is */
	struct ct_tuple o;
	ct_entry_tuple(t, idx, !dir, &o);
	enum nat_manip im = m == NAT_MANIP_SRC ? NAT_MANIP_DST : NAT_MANIP_SRC;
	const uint8_t *iaddr = im == NAT_MANIP_SRC ? o.src : o.dst;
	int iport = has_ports(&o) ? (is_icmp_query(&o) ? o.sport :
				im == NAT_MANIP_SRC ? o.sport : o.dport) : -1;
	uint8_t *in4 = in_cap > ihl ? in3 + ihl : NULL;
	uint32_t in4_cap = in_cap > ihl ? in_cap - ihl : 0;
	/* a quoted TCP header is usually cut short: ports, not checksum */
	bool full = !(in_proto == IPPROTO_TCP_ && in4_cap < 20);
	manip_hdr(in3, in4, in4_cap, in_proto, im, iaddr, iport, full);
	/* the outer header: the address only; the ICMP checksum is summed
	 * again over the whole message */
	const uint8_t *oaddr = m == NAT_MANIP_SRC ? o.dst : o.src;
	manip_hdr(p->l3, NULL, 0, 0, m, oaddr, -1, false);
	wr16(p->l4 + 2, 0);
	uint32_t seed = 0;
	if (!v4) {
		uint8_t ph[40];
		memcpy(ph, p->l3 + 8, 32);
		st_be32(ph + 32, l4_len);
		st_be32(ph + 36, IPPROTO_ICMPV6_);
		seed = nat_csum_raw(ph, 40, 0);
	}
	wr16(p->l4 + 2, (uint16_t)~nat_csum_raw(p->l4, l4_len, seed));
	return true;
}
