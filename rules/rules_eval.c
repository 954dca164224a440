/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_eval: run a packet through the compiled program of one hook.
 *
 * The traversal is the kernel's ipt_do_table(): within a chain, rules are
 * tried in order; a matching rule's counters go up before its target runs;
 * a jump pushes the position after the rule, a goto does not; RETURN, or
 * falling off the end of a user chain, pops; when the stack is empty the
 * built-in chain's policy applies (and its counter goes up). ACCEPT ends
 * the table (the hook's next table runs), DROP and REJECT end the hook.
 *
 * With a classifier, a chain is not walked rule by rule: its candidate
 * list (ascending positions of the rules that may match) is walked instead,
 * and each candidate is checked in full. The jump stack keeps the
 * position in the caller's candidate list, so returning resumes exactly
 * where the kernel would. Both paths share this code: without a classifier
 * the candidate list is the identity 0..n-1.
 *
 * Worker context: no allocation, no locks, no system calls.
 */
#include <string.h>

#include "rules_prog.h"
#include "rules_recent.h"
#include "rules_time.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline bool addr_in(int fam, const struct rules_addr *a, const struct rules_addr *net,
	const struct rules_addr *mask)
{
	if (fam == RULES_F_V4)
		return (ld32(a->b) & ld32(mask->b)) == ld32(net->b);
	return ((ld64(a->b) & ld64(mask->b)) == ld64(net->b)) &&
		((ld64(a->b + 8) & ld64(mask->b + 8)) == ld64(net->b + 8));
}

static inline bool prange_in(const struct rules_prange *r, uint16_t v)
{
	return v >= r->lo && v <= r->hi;
}

/* x ^ inv on option bit id */
#define BIT(i) (1u << (i))
#define INV(x, id) (((x)->invert >> (id)) & 1u)

/* the first plen bits of a and b are equal (the kernel masks both) */
static bool prefix_eq(const struct rules_addr *a, const struct rules_addr *b, unsigned plen)
{
	unsigned i = 0;
	for (; plen >= 8; plen -= 8, i++)
		if (a->b[i] != b->b[i])
			return false;
	if (plen == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - plen));
	return ((a->b[i] ^ b->b[i]) & m) == 0;
}

#define CT_HAS(pk) (((pk)->ct_state & (RULES_CT_NEW | RULES_CT_ESTABLISHED | RULES_CT_RELATED)) != 0)

/* -m conntrack, as xt_conntrack (revision 3) */
static bool conntrack_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const struct rules_m_conntrack *m = &x->u.ct;
	uint32_t pr = x->present;
	if ((pr & (1u << RULES_O_CT_STATE)) &&
		((pk->ct_state & m->state) != 0) == INV(x, RULES_O_CT_STATE))
		return false;
	if (!CT_HAS(pk))
		return (pr & (1u << RULES_O_CT_STATE)) != 0;
	if ((pr & (1u << RULES_O_CT_DIR)) && (pk->ct_dir == 1) != (m->dir_reply != 0))
		return false;
	if ((pr & (1u << RULES_O_CT_STATUS)) &&
		((pk->ct_status & m->status) != 0) == INV(x, RULES_O_CT_STATUS))
		return false;
	const struct rules_ct *c = pk->ct;
	if (!(pr & ~((1u << RULES_O_CT_STATE) | (1u << RULES_O_CT_DIR) | (1u << RULES_O_CT_STATUS))))
		return true;
	if (c == NULL)
		return false; /* the caller did not fill it: never with need_ct */
#define HM(id, f, a) \
	if ((pr & (1u << (id))) && prefix_eq(&c->a, &m->f.addr, m->f.plen) == INV(x, id)) \
		return false;
	HM(RULES_O_CT_ORIGSRC, origsrc, osrc)
	HM(RULES_O_CT_ORIGDST, origdst, odst)
	HM(RULES_O_CT_REPLSRC, replsrc, rsrc)
	HM(RULES_O_CT_REPLDST, repldst, rdst)
#undef HM
	if ((pr & (1u << RULES_O_CT_PROTO)) && (c->proto == m->proto) == INV(x, RULES_O_CT_PROTO))
		return false;
#define PR(id, f, v) \
	if ((pr & (1u << (id))) && prange_in(&m->f, c->v) == INV(x, id)) \
		return false;
	PR(RULES_O_CT_ORIGSRCPORT, origsrcport, osport)
	PR(RULES_O_CT_ORIGDSTPORT, origdstport, odport)
	PR(RULES_O_CT_REPLSRCPORT, replsrcport, rsport)
	PR(RULES_O_CT_REPLDSTPORT, repldstport, rdport)
#undef PR
	if ((pr & (1u << RULES_O_CT_EXPIRE)) &&
		(c->expire_s >= m->expire_lo && c->expire_s <= m->expire_hi) == INV(x, RULES_O_CT_EXPIRE))
		return false;
	return true;
}

/* -m connbytes, as xt_connbytes */
/* rare: kept out of the traversal's loop */
static __attribute__((noinline)) bool connbytes_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const struct rules_m_connbytes *m = &x->u.connbytes;
	const struct rules_ct *c = pk->ct;
	if (!CT_HAS(pk) || c == NULL)
		return false;
	uint64_t p = 0, b = 0, what;
	if (m->dir != RULES_CB_REPLY) {
		p += c->pkts[0];
		b += c->bytes[0];
	}
	if (m->dir != RULES_CB_ORIGINAL) {
		p += c->pkts[1];
		b += c->bytes[1];
	}
	what = m->mode == RULES_CB_PKTS ? p : m->mode == RULES_CB_BYTES ? b : (p ? b / p : 0);
	uint64_t from = m->from, to = m->to;
	if (INV(x, RULES_O_CB_BYTES)) { /* iptables stores "! a:b" as from b to a */
		from = m->to;
		to = m->from;
	}
	if (to >= from)
		return what >= from && what <= to;
	return what < to || what > from;
}

/* -m connlimit, as xt_connlimit: the key is the connection's original
 * source (or destination) under the mask, or the packet's own addresses
 * when it has no connection */
/* src's first bytes with only the first plen bits kept (a masked address) */
static inline void mask_prefix(uint8_t *dst, const uint8_t *src, unsigned bytes, unsigned plen)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bit = i * 8;
		dst[i] = plen >= bit + 8 ? src[i] : plen <= bit ? 0 : (uint8_t)(src[i] & (0xff << (8 - (plen - bit))));
	}
}

/* rare: kept out of the traversal's loop */
static __attribute__((noinline)) bool connlimit_match(const struct rules_prog *p, const struct rules_ext *x,
	const struct rules_pkt *pk)
{
	const struct rules_m_connlimit *c = &x->u.connlimit;
	if (pk->connlimit == NULL)
		return false;
	const struct rules_addr *a = pk->ct ? (c->daddr ? &pk->ct->odst : &pk->ct->osrc) :
		(c->daddr ? &pk->dst : &pk->src);
	unsigned full = pk->fam == RULES_F_V6 ? 128 : 32;
	unsigned plen = c->mask == 0xff || c->mask > full ? full : c->mask;
	struct rules_addr k;
	memset(&k, 0, sizeof(k));
	mask_prefix(k.b, a->b, full / 8, plen);
	uint32_t n = pk->connlimit(pk->connlimit_ctx, (uint32_t)(x - p->exts), pk->fam, &k);
	if (n == UINT32_MAX)
		return false; /* not counted: the caller drops the packet */
	return c->upto ? n <= c->limit : n > c->limit;
}

static bool tcp_has_option(const struct rules_pkt *pk, uint8_t opt)
{
	const uint8_t *o = pk->tcp_opt;
	unsigned n = pk->tcp_optlen, i = 0;
	if (!o)
		return false;
	while (i < n) {
		if (o[i] == opt)
			return true;
		if (o[i] == 0) /* end of options */
			return false;
		if (o[i] == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2)
			return false;
		i += o[i + 1];
	}
	return false;
}

/*
 * The MSS option's value as xt_tcpmss finds it: the first kind 2 of
 * length 4 wholly inside the options; a kind 0 or 1 is one byte (the end
 * of the list does not stop the walk), any other kind its length (a zero
 * length counts one). -1: none. (A data offset under 5 or options beyond
 * the segment, which the kernel drops, never get here: the parser drops
 * them first.)
 */
static int tcp_mss_opt(const struct rules_pkt *pk)
{
	const uint8_t *o = pk->tcp_opt;
	unsigned n = o ? pk->tcp_optlen : 0, i = 0;
	while (i < n) {
		if (o[i] == 2 && n - i >= 4 && o[i + 1] == 4)
			return o[i + 2] << 8 | o[i + 3];
		if (o[i] < 2)
			i++;
		else if (i + 1 >= n)
			break;
		else
			i += o[i + 1] ? o[i + 1] : 1;
	}
	return -1;
}

static int addr_cmp(int fam, const struct rules_addr *a, const struct rules_addr *b)
{
	return memcmp(a->b, b->b, fam == RULES_F_V4 ? 4 : 16);
}

static bool mport_match(const struct rules_m_mport *m, uint16_t sp, uint16_t dp, unsigned which)
{
	/* entries: a port, or a range taking two slots (bit i of m->range) */
	unsigned n = m->n < RULES_MPORTS_MAX ? m->n : RULES_MPORTS_MAX;
	bool want_s = which != RULES_O_DPORTS, want_d = which != RULES_O_SPORTS;
	unsigned i = 0;
	while (i < n) {
		uint16_t lo = m->port[i], hi = lo;
		unsigned step = 1;
		if (((unsigned)m->range >> i) & 1u) {
			if (i + 1 >= n)
				break;
			hi = m->port[i + 1];
			step = 2;
		}
		if ((want_s && sp >= lo && sp <= hi) || (want_d && dp >= lo && dp <= hi))
			return true;
		i += step;
	}
	return false;
}

/* What a set answers for a packet's element: no entry holds it, an entry
 * does, or the most specific entry that holds it is an exception
 * (nomatch) -- the kernel's 0, 1 and -ENOTEMPTY. */
enum { SET_NONE, SET_IN, SET_NOMATCH };

/* out: a's first alen bytes kept to prefix length pl, the rest zero */
static inline void addr_masked(struct rules_addr *out, const struct rules_addr *a, unsigned alen,
	unsigned pl)
{
	struct rules_addr m; /* out may be a */
	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < alen; i++) {
		unsigned bits = pl >= 8 * (i + 1) ? 8 : pl > 8 * i ? pl - 8 * i : 0;
		m.b[i] = (uint8_t)(a->b[i] & (uint8_t)(0xff00u >> bits));
	}
	*out = m;
}

/* Is compiled entry e before key (k, proto, port) in the set's order
 * (address, then protocol and port when with_port)? */
static inline bool set_key_below(const struct rules_set_entry *e, const struct rules_addr *k,
	bool with_port, uint8_t proto, uint16_t port)
{
	int c = memcmp(e->addr.b, k->b, sizeof(k->b));
	if (c || !with_port)
		return c < 0;
	return e->proto != proto ? e->proto < proto : e->port_lo < port;
}

/* The first entry of group g at or after key (k, proto, port): a binary
 * search -- a port range is one entry per port, an address may have
 * thousands. */
static uint32_t set_lower_bound(const struct rules_cset *cs, unsigned g, const struct rules_addr *k,
	bool with_port, uint8_t proto, uint16_t port)
{
	uint32_t lo = cs->g[g].first, hi = lo + cs->g[g].n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (set_key_below(&cs->e[mid], k, with_port, proto, port))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int set_has(const struct rules_cset *cs, int fam, const struct rules_addr *a, uint8_t proto,
	uint16_t port, bool with_port, uint64_t now)
{
	if (cs->pexp) /* bitmap:port with timeout */
		return port >= cs->range_lo && port <= cs->range_hi &&
		       now < cs->pexp[port - cs->range_lo];
	if (cs->type == RULES_SET_BITMAP_PORT)
		return (cs->ports[port / 8] >> (port % 8)) & 1u;
	if (cs->fam != fam)
		return SET_NONE;
	unsigned alen = fam == RULES_F_V4 ? 4 : 16;
	for (unsigned g = 0; g < cs->n_groups; g++) {
		struct rules_addr k;
		addr_masked(&k, a, alen, cs->g[g].plen);
		uint32_t lo = set_lower_bound(cs, g, &k, with_port, proto, port);
		uint32_t end = cs->g[g].first + cs->g[g].n;
		for (uint32_t i = lo; i < end && memcmp(cs->e[i].addr.b, k.b, sizeof(k.b)) == 0; i++) {
			if (with_port && (cs->e[i].proto != proto || cs->e[i].port_lo != port))
				break; /* past this address's entries of the port */
			if (cs->has_timeout) {
				/* one load: the control thread may renew it meanwhile */
				uint64_t exp = __atomic_load_n(&cs->e[i].exp_us, __ATOMIC_RELAXED);
				if (exp != 0 && now >= exp)
					continue;
			}
			/* groups go from the longest prefix down: the first entry
			 * found is the most specific, and decides */
			return cs->e[i].nomatch ? SET_NOMATCH : SET_IN;
		}
	}
	return SET_NONE;
}

/* rare: kept out of the traversal's loop */
/* xt_physdev's physdev_mt: phys_in is the bridge port a bridged packet
 * came in by, out_port the one it leaves by (known from FORWARD on). */
static __attribute__((noinline)) bool physdev_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const struct rules_m_physdev *d = &x->u.physdev;
	uint32_t pr = x->present, iv = x->invert;
#define PD(o) (1u << RULES_O_PD_##o)
	if (pk->phys_in == RULES_PORT_NONE)
		/* no bridge: matches only when every option given is inverted */
		return (pr & ~iv) == 0;
	bool out = pk->out_port != RULES_PORT_NONE;
	if ((pr & PD(BRIDGED)) && out == ((iv & PD(BRIDGED)) != 0))
		return false;
	if ((pr & PD(ISIN)) && (iv & PD(ISIN)))
		return false; /* always came in by a bridge port */
	if ((pr & PD(ISOUT)) && out == ((iv & PD(ISOUT)) != 0))
		return false;
	if ((pr & PD(IN)) &&
	    (pk->phys_in < 32 && ((d->in_ports >> pk->phys_in) & 1)) == ((iv & PD(IN)) != 0))
		return false;
	if (!(pr & PD(OUT)))
		return true;
	if (!out)
		return false; /* not known yet: neither the name nor its inverse */
	return (pk->out_port < 32 && ((d->out_ports >> pk->out_port) & 1)) != ((iv & PD(OUT)) != 0);
#undef PD
}

/* ---- IPv6 extension headers (-m frag, rt, hbh, dst, ipv6header) ----
 * Walked over the datagram's bytes (l3p, l3cap: the kernel's skb->len) as
 * the kernel's ipv6_find_hdr and ip6t_ipv6header walk them. */

enum { IP6_HOP = 0, IP6_ROUTE = 43, IP6_FRAG = 44, IP6_ESP = 50, IP6_AUTH = 51, IP6_NONE = 59,
	IP6_DST = 60 };

static bool ip6_ext(uint8_t n) /* ipv6_ext_hdr() */
{
	return n == IP6_HOP || n == IP6_ROUTE || n == IP6_FRAG || n == IP6_AUTH || n == IP6_NONE ||
		n == IP6_DST;
}

static void hotdrop(const struct rules_pkt *pk)
{
	if (pk->hotdrop)
		*pk->hotdrop = 1;
}

/* ipv6_find_hdr(skb, &off, target, NULL, NULL): 1 and *at when found, 0
 * when absent (-ENOENT), -1 when a header is cut short (-EBADMSG: the
 * matches then drop the packet) */
static int ip6_find(const struct rules_pkt *pk, uint8_t target, uint32_t *at)
{
	const uint8_t *p = pk->l3p;
	uint32_t cap = pk->l3cap, start = 40;
	if (p == NULL || cap < 40)
		return -1;
	uint8_t next = p[6];
	for (;;) {
		bool found = next == target;
		if (!ip6_ext(next) || next == IP6_NONE)
			return found ? 1 : 0; /* (target NONE is never searched for) */
		if (start + 2 > cap)
			return -1;
		uint32_t hlen;
		if (next == IP6_ROUTE && start + 4 > cap)
			return -1;
		if (next == IP6_FRAG) {
			if (start + 4 > cap)
				return -1;
			if (rules_rd16(p + start + 2) & ~7u) {
				if (!found) /* a non-first fragment: nothing further is a header */
					return 0;
				break;
			}
			hlen = 8;
		} else if (next == IP6_AUTH) {
			hlen = ((uint32_t)p[start + 1] + 2) << 2;
		} else {
			hlen = ((uint32_t)p[start + 1] + 1) << 3;
		}
		if (found)
			break;
		next = p[start];
		start += hlen;
	}
	*at = start;
	return 1;
}

static bool frag_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const struct rules_m_ip6ext *e = &x->u.ip6;
	uint32_t at;
	int r = ip6_find(pk, IP6_FRAG, &at);
	if (r <= 0 || at + 8 > pk->l3cap) {
		if (r != 0)
			hotdrop(pk); /* cut short */
		return false;
	}
	const uint8_t *f = pk->l3p + at;
	uint32_t id = rules_rd32(f + 4);
	uint16_t fo = rules_rd16(f + 2);
	/* --fraglen is printed, never matched (only in the kernel's debug output) */
	return ((id >= e->lo && id <= e->hi) != INV(x, RULES_O_FR_IDS)) &&
		!((x->present & BIT(RULES_O_FR_RES)) && (f[1] || (fo & 6))) &&
		!((x->present & BIT(RULES_O_FR_FIRST)) && (fo & ~7u)) &&
		!((x->present & BIT(RULES_O_FR_MORE)) && !(fo & 1)) &&
		!((x->present & BIT(RULES_O_FR_LAST)) && (fo & 1));
}

/* The extension header which (hbh, dst, rt: 8-byte units), found and
 * whole: *at its offset, *hlen its length. A chain cut short before it
 * drops the packet (hotdrop); a header longer than the datagram does not
 * match (the kernel's "packet smaller than its length field"). */
static bool ip6_header(const struct rules_pkt *pk, uint8_t which, uint32_t *at, uint32_t *hlen)
{
	int r = ip6_find(pk, which, at);
	if (r <= 0) {
		if (r < 0)
			hotdrop(pk);
		return false;
	}
	*hlen = ((uint32_t)pk->l3p[*at + 1] + 1) << 3;
	return pk->l3cap - *at >= *hlen;
}

/* ip6t_hbh's hbh_mt6 for -m hbh and -m dst */
static bool opts_match(const struct rules_ext *x, const struct rules_pkt *pk, uint8_t which)
{
	const struct rules_m_ip6ext *e = &x->u.ip6;
	uint32_t at, hlen;
	if (!ip6_header(pk, which, &at, &hlen))
		return false;
	const uint8_t *p = pk->l3p;
	uint32_t cap = pk->l3cap;
	bool ret = !(x->present & BIT(RULES_O_OP_LEN)) || ((e->len == hlen) != INV(x, RULES_O_OP_LEN));
	if (!(x->present & BIT(RULES_O_OP_OPTS)))
		return ret;
	uint32_t ptr = at + 2;
	int32_t left = (int32_t)hlen - 2;
	unsigned i;
	for (i = 0; i < e->n_opts; i++) {
		if (left < 1 || ptr + 1 > cap)
			break;
		uint8_t t = p[ptr];
		if (t != e->opts[i] >> 8)
			return false;
		uint32_t olen;
		if (t) {
			if (left < 2 || ptr + 2 > cap)
				break;
			uint8_t l = p[ptr + 1], spec = (uint8_t)(e->opts[i] & 0xFF);
			if (spec != 0xFF && spec != l)
				return false;
			olen = (uint32_t)l + 2;
		} else {
			olen = 1; /* Pad1 */
		}
		if ((ptr > cap - olen || left < (int32_t)olen) && i + 1 < e->n_opts)
			break;
		ptr += olen;
		left -= (int32_t)olen;
	}
	return i == e->n_opts && ret;
}

/* ip6t_rt's rt_mt6 */
static bool rt_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const struct rules_m_ip6ext *e = &x->u.ip6;
	uint32_t at, hlen;
	if (!ip6_header(pk, IP6_ROUTE, &at, &hlen))
		return false;
	const uint8_t *p = pk->l3p;
	uint32_t cap = pk->l3cap;
	uint8_t type = p[at + 2], segs = p[at + 3];
	bool ret = ((segs >= e->lo && segs <= e->hi) != INV(x, RULES_O_RT_SEGS)) &&
		(!(x->present & BIT(RULES_O_RT_LEN)) || ((e->len == hlen) != INV(x, RULES_O_RT_LEN))) &&
		(!(x->present & BIT(RULES_O_RT_TYPE)) || ((e->type == type) != INV(x, RULES_O_RT_TYPE)));
	if (ret && (x->present & BIT(RULES_O_RT_RES)))
		ret = p[at + 4] == 0 && p[at + 5] == 0 && p[at + 6] == 0 && p[at + 7] == 0;
	if (!(x->present & BIT(RULES_O_RT_ADDRS)))
		return ret;
	const uint8_t *want = e->addrs;
	unsigned n = want ? want[0] : 0, room = (hlen - 8) / 16;
	if (n > room)
		return false;
	if (x->present & BIT(RULES_O_RT_NSTRICT)) {
		/* in order, others between them */
		unsigned i = 0;
		for (unsigned k = 0; k < room && i < n; k++) {
			if (at + 8 + 16 * (k + 1) > cap) {
				hotdrop(pk);
				break;
			}
			if (memcmp(p + at + 8 + 16 * k, want + 1 + 16 * i, 16) == 0)
				i++;
		}
		return i == n && ret;
	}
	unsigned k;
	for (k = 0; k < n; k++) {
		if (at + 8 + 16 * (k + 1) > cap) {
			hotdrop(pk);
			break;
		}
		if (memcmp(p + at + 8 + 16 * k, want + 1 + 16 * k, 16) != 0)
			break;
	}
	return k == n && k == room && ret;
}

/* ip6t_ipv6header's ipv6header_mt6 */
static bool ipv6header_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const uint8_t *p = pk->l3p;
	uint32_t cap = pk->l3cap;
	if (p == NULL || cap < 40)
		return false;
	uint8_t next = p[6], seen = 0;
	uint32_t ptr = 40;
	int32_t len = (int32_t)cap - 40;
	while (ip6_ext(next) || next == IP6_ESP) {
		if (next == IP6_NONE) {
			seen |= RULES_IH_NONE;
			break;
		}
		if (len < 2)
			return false;
		if (next == IP6_ESP) {
			seen |= RULES_IH_ESP;
			break;
		}
		if (ptr + 2 > cap) {
			hotdrop(pk);
			return false;
		}
		uint32_t hlen = next == IP6_FRAG ? 8 :
			next == IP6_AUTH ? ((uint32_t)p[ptr + 1] + 2) << 2 : ((uint32_t)p[ptr + 1] + 1) << 3;
		seen |= next == IP6_HOP ? RULES_IH_HOP : next == IP6_ROUTE ? RULES_IH_ROUTE :
			next == IP6_FRAG ? RULES_IH_FRAG : next == IP6_AUTH ? RULES_IH_AH : RULES_IH_DST;
		next = p[ptr];
		len -= (int32_t)hlen;
		ptr += hlen;
		if (ptr > cap)
			break;
	}
	if (next != IP6_NONE && next != IP6_ESP)
		seen |= RULES_IH_PROTO;
	uint8_t want = x->u.ip6.hdrs, inv = INV(x, RULES_O_IH_HEADER) ? 0xFF : 0;
	if (x->present & BIT(RULES_O_IH_SOFT))
		return !((seen ^ want ^ inv) & want);
	return inv ? seen != want : seen == want;
}

/* xt_u32's u32_match_it over the datagram (l3p, l3cap: skb->len) */
static bool u32_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const struct rules_u32 *d = x->u.u32.p;
	const uint8_t *p = pk->l3p;
	uint32_t len = pk->l3cap;
	bool ok = true;
	for (unsigned k = 0; ok && d != NULL && k < d->ntests; k++) {
		const struct rules_u32_test *t = &d->t[k];
		uint32_t at = 0, pos = t->num[0];
		if (p == NULL || len < 4 || pos > len - 4) {
			ok = false;
			break;
		}
		uint32_t val = rules_rd32(p + pos);
		for (unsigned i = 1; ok && i < t->nnums; i++) {
			uint32_t n = t->num[i];
			switch (t->op[i]) {
			case RULES_U32_AND:
				val &= n;
				break;
			/* a count of 32 or more: what the kernel's shift does on
			 * x86 (the count taken modulo 32) */
			case RULES_U32_LEFTSH:
				val <<= n & 31;
				break;
			case RULES_U32_RIGHTSH:
				val >>= n & 31;
				break;
			default: /* @ */
				if (at + val < at) {
					ok = false;
					break;
				}
				at += val;
				pos = n;
				if (at + 4 < at || len < at + 4 || pos > len - at - 4) {
					ok = false;
					break;
				}
				val = rules_rd32(p + at + pos);
				break;
			}
		}
		if (!ok)
			break;
		unsigned i;
		for (i = 0; i < t->nvals; i++)
			if (t->min[i] <= val && val <= t->max[i])
				break;
		ok = i < t->nvals;
	}
	return ok != INV(x, 0);
}

/* xt_sctp's sctp_mt and match_packet over the datagram */
static bool sctp_flags_ok(const struct rules_m_sctp *m, uint8_t type, uint8_t flags)
{
	for (unsigned i = 0; i < m->n_flags; i++)
		if (m->flags[i].type == type)
			return (flags & m->flags[i].mask) == m->flags[i].flag;
	return true;
}

static bool sctp_chunks(const struct rules_m_sctp *m, const uint8_t *p, uint32_t off, uint32_t len,
	const struct rules_pkt *pk)
{
	uint32_t left[8];
	memcpy(left, m->map, sizeof(left));
	do {
		if (off + 4 > len || (p[off + 2] == 0 && p[off + 3] == 0)) {
			hotdrop(pk); /* a chunk header cut short, or of length 0 */
			return false;
		}
		uint8_t type = p[off], flags = p[off + 1];
		uint32_t clen = rules_rd16(p + off + 2);
		off += (clen + 3) & ~3u;
		if (m->map[type / 32] & (1u << (type % 32))) {
			bool ok = sctp_flags_ok(m, type, flags);
			if (m->mode == RULES_SCTP_ANY && ok)
				return true;
			if (m->mode == RULES_SCTP_ALL && ok)
				left[type / 32] &= ~(1u << (type % 32));
			if (m->mode == RULES_SCTP_ONLY && !ok)
				return false;
		} else if (m->mode == RULES_SCTP_ONLY) {
			return false;
		}
	} while (off < len);
	if (m->mode == RULES_SCTP_ALL) {
		for (unsigned i = 0; i < 8; i++)
			if (left[i])
				return false;
		return true;
	}
	return m->mode == RULES_SCTP_ONLY;
}

static bool sctp_match(const struct rules_ext *x, const struct rules_pkt *pk)
{
	const struct rules_m_sctp *m = &x->u.sctp;
	if (pk->frag)
		return false;
	const uint8_t *p = pk->l3p;
	uint32_t len = pk->l3cap, at = pk->l4_off;
	if (p == NULL || at + 12 > len) {
		hotdrop(pk);
		return false;
	}
	uint16_t sp = rules_rd16(p + at), dp = rules_rd16(p + at + 2);
	if ((x->present & BIT(RULES_O_SC_SPORT)) &&
	    (sp >= m->sport.lo && sp <= m->sport.hi) == INV(x, RULES_O_SC_SPORT))
		return false;
	if ((x->present & BIT(RULES_O_SC_DPORT)) &&
	    (dp >= m->dport.lo && dp <= m->dport.hi) == INV(x, RULES_O_SC_DPORT))
		return false;
	if (!(x->present & BIT(RULES_O_SC_CHUNKS)))
		return true;
	return sctp_chunks(m, p, at + 12, len, pk) != INV(x, RULES_O_SC_CHUNKS);
}

/* hash:ip,port,ip and hash:ip,port,net: of the entries of address a and
 * the packet's port whose third dimension holds a2, the most specific
 * decides. */
static int set_has3(const struct rules_cset *cs, int fam, const struct rules_addr *a,
	uint8_t proto, uint16_t port, const struct rules_addr *a2, uint64_t now)
{
	if (cs->fam != fam || cs->n_groups == 0)
		return SET_NONE;
	unsigned alen = fam == RULES_F_V4 ? 4 : 16;
	struct rules_addr k;
	addr_masked(&k, a, alen, 8 * alen);
	uint32_t lo = set_lower_bound(cs, 0, &k, true, proto, port);
	uint32_t end = cs->g[0].first + cs->g[0].n;
	const struct rules_set_entry *best = NULL;
	for (uint32_t i = lo; i < end && memcmp(cs->e[i].addr.b, k.b, sizeof(k.b)) == 0; i++) {
		const struct rules_set_entry *e = &cs->e[i];
		if (e->proto != proto || e->port_lo != port)
			break; /* the run of this address and port is over */
		if (cs->has_timeout) {
			uint64_t exp = __atomic_load_n(&e->exp_us, __ATOMIC_RELAXED);
			if (exp != 0 && now >= exp)
				continue;
		}
		struct rules_addr m2;
		addr_masked(&m2, a2, alen, e->plen2);
		if (memcmp(m2.b, e->addr2.b, sizeof(m2.b)) == 0 && (best == NULL || e->plen2 > best->plen2))
			best = e;
	}
	return best == NULL ? SET_NONE : best->nomatch ? SET_NOMATCH : SET_IN;
}

/* The packet's "port" for a port set, as the kernel's
 * ip_set_get_ip4_port/ip6_port take it: TCP, UDP, SCTP and UDP-Lite ports
 * (src: the source's), ICMP (IPv4) and ICMPv6 (IPv6) as type << 8 | code
 * whatever the direction, any other protocol the pseudo port 0; false
 * when there is none (a later fragment of a protocol with ports, any later
 * IPv6 fragment, a header cut short). */
static bool set_pkt_port(const struct rules_pkt *pk, bool src, uint16_t *port)
{
	switch (pk->proto) {
	case 6:
	case 17:
		if (!pk->l4)
			return false;
		*port = src ? pk->sport : pk->dport;
		return true;
	case 132:
	case 136: /* the whole header there, as the kernel's skb_header_pointer */
		if (pk->frag || pk->l3p == NULL || pk->l4_off + (pk->proto == 132 ? 12u : 8u) > pk->l3cap)
			return false;
		*port = rules_rd16(pk->l3p + pk->l4_off + (src ? 0 : 2));
		return true;
	case 1:
	case 58:
		if ((pk->proto == 58) != (pk->fam == RULES_F_V6))
			break; /* ICMP in IPv6, ICMPv6 in IPv4: a protocol without ports */
		if (!pk->l4)
			return false;
		*port = (uint16_t)(pk->icmp_type << 8 | pk->icmp_code);
		return true;
	case 0:
		if (pk->fam == RULES_F_V4)
			return false; /* ip_set_get_ip4_port: protocol <= 0 */
		break;
	default:
		break;
	}
	/* ip_set_get_ip6_port refuses any later fragment; IPv4's takes those
	 * of protocols without ports */
	if (pk->frag && pk->fam == RULES_F_V6)
		return false;
	*port = 0;
	return true;
}

static int set_lookup(const struct rules_cset *cs, const struct rules_m_set *m,
	const struct rules_pkt *pk)
{
	uint16_t port;
	bool src0 = m->dirs & 1u;
	const struct rules_addr *a = src0 ? &pk->src : &pk->dst;
	switch (cs->type) {
	case RULES_SET_HASH_IP_PORT_IP:
	case RULES_SET_HASH_IP_PORT_NET:
		if (m->dim < 3 || !set_pkt_port(pk, (m->dirs & 2u) != 0, &port))
			return SET_NONE;
		return set_has3(cs, pk->fam, a, pk->proto, port, (m->dirs & 4u) ? &pk->src : &pk->dst,
				pk->now_us);
	case RULES_SET_HASH_IP:
	case RULES_SET_HASH_NET:
	case RULES_SET_BITMAP_IP: /* entries: blocks of its netmask */
		return set_has(cs, pk->fam, a, 0, 0, false, pk->now_us);
	case RULES_SET_BITMAP_PORT:
		if (!pk->l4 || (pk->proto != 6 && pk->proto != 17))
			return SET_NONE;
		return set_has(cs, pk->fam, NULL, pk->proto, src0 ? pk->sport : pk->dport, true, pk->now_us);
	default:
		/* ip,port: the second direction picks the port; fewer directions
		 * than the set has never match (ip_set_test; the loader refuses
		 * such a rule anyway) */
		if (m->dim < 2 || !set_pkt_port(pk, (m->dirs & 2u) != 0, &port))
			return SET_NONE;
		return set_has(cs, pk->fam, a, pk->proto, port, true, pk->now_us);
	}
}

/* ip_set_test: an exception does not match; with --return-nomatch (types
 * that have exceptions) the answer is turned around: an exception matches,
 * an entry does not. The counter options compare nothing: no set here
 * keeps counters, and the kernel compares only in sets that do. */
static bool set_answer(const struct rules_cset *cs, const struct rules_ext *x,
	const struct rules_pkt *pk)
{
	int r = set_lookup(cs, &x->u.set, pk);
	if ((x->present & (1u << RULES_O_MS_RETURN_NOMATCH)) && rules_set_type_nomatch(cs->type))
		return r == SET_NOMATCH;
	return r == SET_IN;
}

/* list:set (list_set_ktest): its live members in order, each asked as
 * -m set would ask it (its family, directions, --return-nomatch); the
 * first that says yes decides. Members are never lists. */
static __attribute__((noinline)) bool set_match(const struct rules_cset *cs, const struct rules_ext *x,
	const struct rules_pkt *pk)
{
	if (cs->type != RULES_SET_LIST)
		return set_answer(cs, x, pk);
	for (uint32_t i = 0; i < cs->n; i++) {
		if (cs->has_timeout) {
			uint64_t exp = __atomic_load_n(&cs->e[i].exp_us, __ATOMIC_RELAXED);
			if (exp != 0 && pk->now_us >= exp)
				continue;
		}
		if (cs->mem[i] == NULL)
			continue;
		const struct rules_cset *m = __atomic_load_n(&cs->mem[i]->cur, __ATOMIC_ACQUIRE);
		if (m->type != RULES_SET_LIST && set_answer(m, x, pk))
			return true;
	}
	return false;
}

/* Token bucket of -m limit, per worker, in microseconds of credit:
 * slot.pkts holds the credit, slot.bytes the time of the last update. */
/* rare: kept out of the traversal's loop */
static __attribute__((noinline)) bool limit_ok(const struct rules_prog *p, const struct rules_m_limit *l, struct rules_counter *slot,
	uint64_t now)
{
	/* avg: 1/10000 s per packet; per worker the interval is share times longer */
	uint64_t cost = (uint64_t)l->avg * 100u * (p->limit_share ? p->limit_share : 1); /* us */
	uint64_t cap = cost * l->burst;
	if (slot->bytes == 0) { /* first use: full bucket */
		slot->pkts = cap;
		slot->bytes = now ? now : 1;
	}
	uint64_t credit = slot->pkts + (now > slot->bytes ? now - slot->bytes : 0);
	slot->bytes = now ? now : 1;
	if (credit > cap)
		credit = cap;
	if (credit >= cost) {
		slot->pkts = credit - cost;
		return true;
	}
	slot->pkts = credit;
	return false;
}

/* The 4 bytes xt_hashlimit reads as a packet's ports (proto_ports_offset:
 * ESP's and AH's SPI, the ports of TCP, UDP, SCTP, DCCP, UDP-Lite; none
 * for other protocols), false when they are not in the packet. */
static bool hl_ports(const struct rules_pkt *pk, uint8_t out[4])
{
	unsigned off;
	if (pk->fam == RULES_F_V6) {
		/* ipv6_skip_exthdr() stops at a non-first fragment's header
		 * (no ports: protocol 44) and fails on No Next Header */
		if (pk->proto == 59)
			return false;
		if (pk->frag) {
			memset(out, 0, 4);
			return true;
		}
	}
	switch (pk->proto) {
	case 6:
	case 17:
		if (pk->l4) {
			out[0] = (uint8_t)(pk->sport >> 8);
			out[1] = (uint8_t)pk->sport;
			out[2] = (uint8_t)(pk->dport >> 8);
			out[3] = (uint8_t)pk->dport;
			return true;
		}
		off = 0; /* a non-first fragment: read where they would be */
		break;
	case 33:  /* DCCP */
	case 50:  /* ESP */
	case 132: /* SCTP */
	case 136: /* UDP-Lite */
		off = 0;
		break;
	case 51: /* AH (IPv4; IPv6 walks past it) */
		off = 4;
		break;
	default:
		memset(out, 0, 4);
		return true;
	}
	if (pk->l3p == NULL || (uint32_t)pk->l4_off + off + 4 > pk->l3cap)
		return false;
	memcpy(out, pk->l3p + pk->l4_off + off, 4);
	return true;
}

/* -m hashlimit (xt_hashlimit's hashlimit_mt_common): the key as the
 * table's config picks it, one charge; a key the table has no room for
 * drops the packet */
/* rare: kept out of the traversal's loop */
static __attribute__((noinline)) bool hashlimit_match(const struct rules_m_hashlimit *h, const struct rules_pkt *pk)
{
	const struct rules_m_hashlimit *tc = h->tc;
	if (tc == NULL || tc->tbl == NULL)
		return false; /* not compiled (cannot happen in a program) */
	unsigned alen = tc->fam == 6 ? 16 : 4;
	uint8_t key[RULES_HL_KEY_MAX];
	memset(key, 0, sizeof(key));
	if (tc->mode & RULES_HL_SIP)
		mask_prefix(key, pk->src.b, alen, tc->srcmask);
	if (tc->mode & RULES_HL_DIP)
		mask_prefix(key + alen, pk->dst.b, alen, tc->dstmask);
	if (tc->mode & (RULES_HL_SPT | RULES_HL_DPT)) {
		uint8_t ports[4];
		if (!hl_ports(pk, ports)) {
			if (pk->hotdrop)
				*pk->hotdrop = 1;
			return false;
		}
		if (tc->mode & RULES_HL_SPT)
			memcpy(key + 2 * alen, ports, 2);
		if (tc->mode & RULES_HL_DPT)
			memcpy(key + 2 * alen + 2, ports + 2, 2);
	}
	int r = rules_hl_charge(tc->tbl, &tc->cfg, key, pk->len, pk->now_us);
	if (r < 0) {
		if (pk->hotdrop)
			*pk->hotdrop = 1;
		return false;
	}
	return (r == 1) != (h->above != 0);
}

/* The kernel's case folding (its ctype: ASCII and Latin-1 letters) */
static inline uint8_t lower(uint8_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7))
		return (uint8_t)(c + 32);
	return c;
}

static bool ext_match(const struct rules_prog *p, const struct rules_crule *cr, unsigned i,
	const struct rules_pkt *pk, struct rules_counter *ctr)
{
	const struct rules_ext *x = &cr->match[i];
	const union rules_ext_data *u = &x->u;
	switch (x->kind) {
	case RULES_X_TCP:
		/* the kernel: a non-first fragment never matches tcp/udp/icmp */
		if (!pk->l4 || pk->proto != 6)
			return false;
		if ((x->present & (1u << RULES_O_SPORT)) &&
			prange_in(&u->tcp.sport, pk->sport) == INV(x, RULES_O_SPORT))
			return false;
		if ((x->present & (1u << RULES_O_DPORT)) &&
			prange_in(&u->tcp.dport, pk->dport) == INV(x, RULES_O_DPORT))
			return false;
		if ((x->present & (1u << RULES_O_TCP_FLAGS)) &&
			(((pk->tcp_flags & u->tcp.flg_mask) == u->tcp.flg_cmp) == INV(x, RULES_O_TCP_FLAGS)))
			return false;
		if ((x->present & (1u << RULES_O_TCP_OPTION)) &&
			tcp_has_option(pk, u->tcp.option) == INV(x, RULES_O_TCP_OPTION))
			return false;
		return true;
	case RULES_X_UDP:
		if (!pk->l4 || pk->proto != 17)
			return false;
		if ((x->present & (1u << RULES_O_SPORT)) &&
			prange_in(&u->udp.sport, pk->sport) == INV(x, RULES_O_SPORT))
			return false;
		if ((x->present & (1u << RULES_O_DPORT)) &&
			prange_in(&u->udp.dport, pk->dport) == INV(x, RULES_O_DPORT))
			return false;
		return true;
	case RULES_X_ICMP:
	case RULES_X_ICMP6: {
		if (!pk->l4 || pk->proto != (x->kind == RULES_X_ICMP ? 1 : 58))
			return false;
		bool hit = (u->icmp.type == 0xff && x->kind == RULES_X_ICMP) ||
			(pk->icmp_type == u->icmp.type && pk->icmp_code >= u->icmp.code_lo &&
				pk->icmp_code <= u->icmp.code_hi);
		return hit != INV(x, 0);
	}
	case RULES_X_MULTIPORT: {
		if (!pk->l4 || (pk->proto != 6 && pk->proto != 17))
			return false;
		unsigned which = (x->present & (1u << RULES_O_SPORTS)) ? RULES_O_SPORTS :
			(x->present & (1u << RULES_O_DPORTS))           ? RULES_O_DPORTS :
									  RULES_O_PORTS;
		return mport_match(&u->mport, pk->sport, pk->dport, which) != INV(x, which);
	}
	case RULES_X_IPRANGE:
		if (x->present & (1u << RULES_O_SRC)) {
			bool in = addr_cmp(pk->fam, &pk->src, &u->iprange.src_lo) >= 0 &&
				addr_cmp(pk->fam, &pk->src, &u->iprange.src_hi) <= 0;
			if (in == INV(x, RULES_O_SRC))
				return false;
		}
		if (x->present & (1u << RULES_O_DST)) {
			bool in = addr_cmp(pk->fam, &pk->dst, &u->iprange.dst_lo) >= 0 &&
				addr_cmp(pk->fam, &pk->dst, &u->iprange.dst_hi) <= 0;
			if (in == INV(x, RULES_O_DST))
				return false;
		}
		return true;
	case RULES_X_MAC:
		if (!pk->mac_src)
			return false;
		return (memcmp(pk->mac_src, u->mac.mac, 6) == 0) != INV(x, 0);
	case RULES_X_LENGTH:
		return (pk->len >= u->length.lo && pk->len <= u->length.hi) != INV(x, 0);
	case RULES_X_TTL:
	case RULES_X_HL:
		if (x->present & (1u << RULES_O_EQ))
			return (pk->ttl == u->ttl.value) != INV(x, RULES_O_EQ);
		if (x->present & (1u << RULES_O_GT))
			return pk->ttl > u->ttl.value;
		return pk->ttl < u->ttl.value;
	case RULES_X_TOS:
		return ((pk->tos & u->tos.mask) == u->tos.value) != INV(x, 0);
	case RULES_X_DSCP:
		return ((pk->tos >> 2) == u->dscp.value) != INV(x, 0);
	case RULES_X_MARK:
		return ((pk->mark & u->mark.mask) == u->mark.mark) != INV(x, 0);
	case RULES_X_PKTTYPE:
		return (pk->pkttype == u->pkttype.value) != INV(x, 0);
	case RULES_X_ADDRTYPE:
		if ((x->present & (1u << RULES_O_SRC)) &&
			((pk->src_type & u->addrtype.src) != 0) == INV(x, RULES_O_SRC))
			return false;
		if ((x->present & (1u << RULES_O_DST)) &&
			((pk->dst_type & u->addrtype.dst) != 0) == INV(x, RULES_O_DST))
			return false;
		return true;
	case RULES_X_COMMENT:
		return true;
	case RULES_X_POLICY:
		/* no packet here was or will be processed by IPsec: xt_policy's
		 * "no secpath / no xfrm" answer, which only --pol none matches */
		return u->policy.p != NULL && u->policy.p->none;
	case RULES_X_PHYSDEV:
		return physdev_match(x, pk);
	case RULES_X_FRAG:
		return frag_match(x, pk);
	case RULES_X_RT:
		return rt_match(x, pk);
	case RULES_X_HBH:
		return opts_match(x, pk, IP6_HOP);
	case RULES_X_DST:
		return opts_match(x, pk, IP6_DST);
	case RULES_X_IPV6HEADER:
		return ipv6header_match(x, pk);
	case RULES_X_U32:
		return u32_match(x, pk);
	case RULES_X_SCTP:
		return sctp_match(x, pk);
	case RULES_X_EUI64: {
		/* ip6t_eui64: the source address's interface identifier is the
		 * modified EUI-64 of the frame's source MAC (RFC 4291 2.5.1) */
		const uint8_t *m = pk->mac_src, *a = pk->src.b + 8;
		if (m == NULL) /* the box's own packet: no frame */
			return false;
		return a[0] == (m[0] ^ 0x02) && a[1] == m[1] && a[2] == m[2] && a[3] == 0xff &&
			a[4] == 0xfe && a[5] == m[3] && a[6] == m[4] && a[7] == m[5];
	}
	case RULES_X_SET: {
		const struct rules_cset *cs = __atomic_load_n(&cr->sets[i]->cur, __ATOMIC_ACQUIRE);
		return set_match(cs, x, pk) != INV(x, 0);
	}
	case RULES_X_STATE:
		return ((pk->ct_state & u->ct.state) != 0) != INV(x, 0);
	case RULES_X_CONNTRACK:
		return conntrack_match(x, pk);
	case RULES_X_CONNMARK_M:
		return CT_HAS(pk) && ((pk->ct_mark & u->mark.mask) == u->mark.mark) != INV(x, 0);
	case RULES_X_STRING: {
		/* xt_string: the pattern wholly inside [from, to) of the packet
		 * from its IP header on; bm and kmp find the same */
		const struct rules_m_string *ms = &u->str;
		uint32_t n = ms->pat[0], end = ms->to < pk->l3cap ? ms->to : pk->l3cap;
		bool found = false;
		if (pk->l3p != NULL && end >= ms->from + n) {
			const uint8_t *pat = ms->pat + 1, *d = pk->l3p;
			for (uint32_t at = ms->from; at + n <= end && !found; at++) {
				uint32_t k = 0;
				if (ms->icase)
					while (k < n && lower(d[at + k]) == lower(pat[k]))
						k++;
				else
					while (k < n && d[at + k] == pat[k])
						k++;
				found = k == n;
			}
		}
		return found != INV(x, RULES_O_STR_STRING);
	}
	case RULES_X_TIME:
		return rules_time_match(&u->time, pk->wall_s, pk->tz_west_s);
	case RULES_X_RECENT: {
		const struct rules_m_recent *rc = &u->recent;
		uint8_t a[16] = { 0 };
		unsigned alen = pk->fam == RULES_F_V4 ? 4 : 16;
		const uint8_t *s = (x->present & (1u << RULES_O_RC_RDEST)) ? pk->dst.b : pk->src.b;
		for (unsigned k = 0; k < alen; k++)
			a[k] = s[k] & rc->mask.b[k];
		/* the TTL as it came in (xt_recent: one more after the
		 * forward path decremented it) */
		uint8_t ttl = (uint8_t)(pk->ttl + (pk->out_port != RULES_PORT_NONE ? 1 : 0));
		uint32_t modes = (1u << RULES_O_RC_SET) | (1u << RULES_O_RC_CHECK) |
			(1u << RULES_O_RC_UPDATE) | (1u << RULES_O_RC_REMOVE);
		return rules_recent_match(rc->list, pk->fam == RULES_F_V4 ? 4 : 6, a, ttl, rc->flags,
			rc->seconds, rc->hitcount, (x->invert & modes) != 0, pk->now_us);
	}
	case RULES_X_ECN: {
		/* xt_ecn: the IP header's ECN field (IPv6: the traffic class's
		 * low bits), then the TCP header's ECE and CWR flags */
		if ((x->present & (1u << RULES_O_ECN_IP)) &&
			((pk->tos & 3) == u->ecn.ect) == INV(x, RULES_O_ECN_IP))
			return false;
		if (!(x->present & ((1u << RULES_O_ECN_ECE) | (1u << RULES_O_ECN_CWR))))
			return true;
		if (!pk->l4 || pk->proto != 6)
			return false; /* a later fragment: no TCP header to read */
		if ((x->present & (1u << RULES_O_ECN_ECE)) &&
			((pk->tcp_flags & 0x40) != 0) == INV(x, RULES_O_ECN_ECE))
			return false;
		if ((x->present & (1u << RULES_O_ECN_CWR)) &&
			((pk->tcp_flags & 0x80) != 0) == INV(x, RULES_O_ECN_CWR))
			return false;
		return true;
	}
	case RULES_X_TCPMSS_M: {
		/* xt_tcpmss: a segment without the option matches only when
		 * inverted; a later fragment (no TCP header here) never */
		if (!pk->l4 || pk->proto != 6)
			return false;
		int mss = tcp_mss_opt(pk);
		if (mss < 0)
			return INV(x, 0);
		return (mss >= u->mss.lo && mss <= u->mss.hi) != INV(x, 0);
	}
	case RULES_X_ESP:
	case RULES_X_AH: {
		/* xt_esp, ipt_ah: never a later fragment; ip6t_ah: the first AH
		 * among the extension headers, only ahead of a later fragment's
		 * header (ipv6_find_hdr). A header cut short drops the packet
		 * (their hotdrop). */
		bool esp = x->kind == RULES_X_ESP;
		uint8_t have = esp ? pk->esp : pk->ah;
		if (have == RULES_IPSEC_SHORT && pk->hotdrop)
			*pk->hotdrop = 1;
		if (have != RULES_IPSEC_WHOLE)
			return false;
		uint32_t spi = esp ? pk->esp_spi : pk->ah_spi;
		if ((spi >= u->spi.lo && spi <= u->spi.hi) == INV(x, RULES_O_SPI))
			return false;
		if (esp)
			return true;
		if (u->spi.ahlen != 0 &&
			(((uint32_t)pk->ah_hlen + 2) * 4 == u->spi.ahlen) == INV(x, RULES_O_AH_LEN))
			return false;
		return !((x->present & (1u << RULES_O_AH_RES)) && pk->ah_res != 0);
	}
	case RULES_X_QUOTA: {
		/* xt_quota: a packet that fits (skb->len, the IP datagram) is
		 * taken from what is left; one that does not ends the quota, so
		 * no later packet fits however small. One budget for all the
		 * workers, charged by compare-and-swap; relaxed: the count
		 * orders no other memory. A spent quota is only read. */
		uint64_t *left = &u->quota.left->left;
		uint64_t o = __atomic_load_n(left, __ATOMIC_RELAXED), n;
		bool fit;
		do {
			fit = o >= pk->len;
			if (!fit && o == 0)
				break;
			n = fit ? o - pk->len : 0;
		} while (!__atomic_compare_exchange_n(left, &o, n, false, __ATOMIC_RELAXED,
						      __ATOMIC_RELAXED));
		return fit != INV(x, RULES_O_QUOTA);
	}
	case RULES_X_STATISTIC: {
		bool inv = (x->invert & ((1u << RULES_O_ST_PROB) | (1u << RULES_O_ST_EVERY))) != 0;
		uint32_t xi = (uint32_t)(x - p->exts);
		if (u->stat.mode == RULES_STAT_RANDOM) {
			/* the worker's own generator (xorshift64*) in its slot */
			uint64_t *s = &ctr[p->n_ctr + xi].pkts;
			if (*s == 0)
				*s = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)s;
			*s ^= *s >> 12;
			*s ^= *s << 25;
			*s ^= *s >> 27;
			uint32_t r = (uint32_t)((*s * 0x2545f4914f6cdd1dull) >> 33);
			return (r < u->stat.probability) != inv;
		}
		uint32_t *cnt = &p->nth[xi].count, o = __atomic_load_n(cnt, __ATOMIC_RELAXED), n;
		do
			n = o == u->stat.every ? 0 : o + 1;
		while (!__atomic_compare_exchange_n(cnt, &o, n, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED));
		return (n == 0) != inv;
	}
	case RULES_X_RPFILTER: {
		bool ok, loose = x->present & (1u << RULES_O_RPF_LOOSE),
			  local = x->present & (1u << RULES_O_RPF_ACCEPT_LOCAL);
		switch (pk->rpf) {
		case RULES_RPF_TRUE:
		case RULES_RPF_SAME:
			ok = true;
			break;
		case RULES_RPF_OTHER:
			ok = loose;
			break;
		case RULES_RPF_LOCAL_SAME:
		case RULES_RPF_LOCAL6:
			ok = local;
			break;
		case RULES_RPF_LOCAL_OTHER:
			ok = local && loose;
			break;
		default:
			ok = false;
			break;
		}
		return ok != ((x->present & (1u << RULES_O_RPF_INVERT)) != 0);
	}
	case RULES_X_HELPER:
		/* xt_helper: no connection, no master, or a master without a
		 * helper: the inversion alone */
		if (pk->ct_mhelper == 0)
			return INV(x, 0);
		return ((u->helper.ids >> pk->ct_mhelper) & 1) != INV(x, 0);
	case RULES_X_CONNBYTES:
		return connbytes_match(x, pk);
	case RULES_X_CONNLIMIT:
		return connlimit_match(p, x, pk);
	case RULES_X_HASHLIMIT:
		return hashlimit_match(&u->hashlimit, pk);
	case RULES_X_LIMIT:
		/* limit state lives past the program's counters, one slot per ext */
		return limit_ok(p, &u->limit, &ctr[p->n_ctr + (uint32_t)(x - p->exts)], pk->now_us);
	default:
		return false;
	}
}

static inline bool rule_match(const struct rules_prog *p, const struct rules_crule *cr,
	const struct rules_pkt *pk, struct rules_counter *ctr)
{
	uint8_t f = cr->flags, inv = cr->inv;
	if (f) {
		if ((f & RULES_CF_SRC) && addr_in(pk->fam, &pk->src, &cr->src, &cr->smask) == !!(inv & RULES_INV_SRC))
			return false;
		if ((f & RULES_CF_DST) && addr_in(pk->fam, &pk->dst, &cr->dst, &cr->dmask) == !!(inv & RULES_INV_DST))
			return false;
		if ((f & RULES_CF_PROTO) && (pk->proto == cr->proto) == !!(inv & RULES_INV_PROTO))
			return false;
		if ((f & RULES_CF_IN) &&
			(pk->in_port < 32 && ((cr->in_ports >> pk->in_port) & 1u)) == !!(inv & RULES_INV_IN))
			return false;
		if ((f & RULES_CF_OUT) &&
			(pk->out_port < 32 && ((cr->out_ports >> pk->out_port) & 1u)) == !!(inv & RULES_INV_OUT))
			return false;
		if ((f & RULES_CF_FRAG) && (pk->frag != 0) == !!(inv & RULES_INV_FRAG))
			return false;
	}
	for (unsigned i = 0; i < cr->n_match; i++)
		if (!ext_match(p, cr, i, pk, ctr))
			return false;
	return true;
}

static inline bool quick_ok(const struct rules_quick *q, const uint64_t *key, uint32_t s32, uint32_t d32)
{
	/* unsigned wrap-around: one compare per range */
	return s32 - q->src_lo <= (uint32_t)(q->src_hi - q->src_lo) &&
		d32 - q->dst_lo <= (uint32_t)(q->dst_hi - q->dst_lo) &&
		(uint32_t)(key[RULES_CLS_DPORT] - q->dp_lo) <= (uint32_t)(q->dp_hi - q->dp_lo) &&
		(uint32_t)(key[RULES_CLS_PROTO] - q->pr_lo) <= (uint32_t)(q->pr_hi - q->pr_lo) &&
		(uint32_t)(key[RULES_CLS_SPORT] - q->sp_lo) <= (uint32_t)(q->sp_hi - q->sp_lo);
}

static void pkt_key(const struct rules_pkt *pk, uint64_t key[RULES_CLS_DIMS])
{
	if (pk->fam == RULES_F_V4) {
		key[RULES_CLS_SRC] = __builtin_bswap32(ld32(pk->src.b));
		key[RULES_CLS_DST] = __builtin_bswap32(ld32(pk->dst.b));
	} else {
		key[RULES_CLS_SRC] = __builtin_bswap64(ld64(pk->src.b));
		key[RULES_CLS_DST] = __builtin_bswap64(ld64(pk->dst.b));
	}
	bool ports = pk->l4 && (pk->proto == 6 || pk->proto == 17);
	key[RULES_CLS_SPORT] = ports ? pk->sport : 0;
	key[RULES_CLS_DPORT] = ports ? pk->dport : 0;
	key[RULES_CLS_PROTO] = pk->proto;
}

/* -j SET: the packet's entry for set cs as xt_SET's kadt takes it (the
 * address of the first direction, the port of the second; in a hash:net
 * set the address masked to the set's longest prefix, a host prefix when
 * the set is empty, as INIT_CIDR(h->nets[0].cidr[0], HOST_MASK)); false
 * when the packet has none (a port type and no TCP/UDP header) or the
 * flags name fewer directions than the set has (ip_set_add's
 * IPSET_ERR_TYPE_MISMATCH: nothing happens). */
static bool set_req_entry(const struct rules_cset *cs, const struct rules_m_set *m,
	const struct rules_pkt *pk, struct rules_set_entry *e)
{
	memset(e, 0, sizeof(*e));
	bool port = rules_set_type_port(cs->type), three = rules_set_type_3d(cs->type);
	if (cs->fam != pk->fam || m->dim < (three ? 3 : port ? 2 : 1))
		return false;
	/* an IPv4 view's address is its first 4 bytes (the rest is not
	 * cleared); set entries hold zeros there */
	unsigned alen = pk->fam == RULES_F_V6 ? 16 : 4;
	memcpy(e->addr.b, ((m->dirs & 1u) ? &pk->src : &pk->dst)->b, alen);
	e->plen = (uint8_t)(alen * 8);
	if (cs->type == RULES_SET_BITMAP_IP) {
		/* the address's block; outside the range: nothing (the kernel's
		 * IPSET_ERR_BITMAP_RANGE) */
		uint32_t x = rules_rd32(e->addr.b);
		if (x < cs->ip_lo || x > cs->ip_hi)
			return false;
		e->plen = cs->netmask;
		addr_masked(&e->addr, &e->addr, 4, e->plen);
		return true;
	}
	if ((cs->type == RULES_SET_HASH_NET || cs->type == RULES_SET_HASH_NET_PORT) && cs->n_groups) {
		e->plen = cs->g[0].plen; /* the longest in the set */
		addr_masked(&e->addr, &e->addr, alen, e->plen);
	}
	if (port) {
		uint16_t pt;
		if (!set_pkt_port(pk, (m->dirs & 2u) != 0, &pt))
			return false;
		e->proto = pk->proto;
		e->port_lo = e->port_hi = pt;
	}
	if (three) {
		memcpy(e->addr2.b, ((m->dirs & 4u) ? &pk->src : &pk->dst)->b, alen);
		e->plen2 = (uint8_t)(alen * 8);
		/* hash:ip,port,net: the set's longest third prefix, as hash:net */
		if (cs->type == RULES_SET_HASH_IP_PORT_NET && cs->plen2_max) {
			e->plen2 = cs->plen2_max;
			addr_masked(&e->addr2, &e->addr2, alen, e->plen2);
		}
	}
	return true;
}

static __attribute__((noinline)) void set_target(const struct rules_prog *p,
	const struct rules_ext *t, const struct rules_pkt *pk)
{
	if (pk->set_req == NULL)
		return;
	const struct rules_t_set *ts = &t->u.tset;
	struct rules_set_req q;
	for (int k = 0; k < 2; k++) {
		if (!(t->present & (1u << (k ? RULES_O_TS_DEL : RULES_O_TS_ADD))))
			continue;
		const struct rules_m_set *m = k ? &ts->del : &ts->add;
		const struct rules_cset *cs =
			__atomic_load_n(&p->csets[k ? ts->del_idx : ts->add_idx].cur, __ATOMIC_ACQUIRE);
		if (!set_req_entry(cs, m, pk, &q.e))
			continue;
		memcpy(q.name, m->name, sizeof(q.name));
		q.type = cs->type;
		q.fam = cs->fam;
		q.op = k ? RULES_SETREQ_DEL : RULES_SETREQ_ADD;
		q.exist = !k && (t->present & (1u << RULES_O_TS_EXIST)) != 0;
		q.timeout = k ? RULES_SET_NO_TIMEOUT : ts->timeout;
		pk->set_req(pk->set_ctx, &q);
	}
}

/* ip6t_npt_map_pfx: the prefix of a replaced by the outside one (the
 * longer of the two lengths), then one 16-bit word adjusted so that the
 * address sums as before (RFC 6296 3.2: checksums stay right): the fourth
 * word up to /48, else the first of the interface identifier that is not
 * 0xffff (none: false) */
static bool npt_map(const struct rules_t_npt *n, struct rules_addr *a)
{
	unsigned plen = n->src.plen > n->dst.plen ? n->src.plen : n->dst.plen;
	for (unsigned i = 0; i < 16 && i * 8 < plen; i++) {
		unsigned keep = plen - i * 8 >= 8 ? 8 : plen - i * 8;
		uint8_t m = (uint8_t)(0xff00u >> keep);
		a->b[i] = (uint8_t)((a->b[i] & ~m) | (n->dst.addr.b[i] & m));
	}
	unsigned w = 3;
	if (plen > 48) {
		for (w = 4; w < 8; w++)
			if (a->b[2 * w] != 0xff || a->b[2 * w + 1] != 0xff)
				break;
		if (w == 8)
			return false;
	}
	uint32_t s = (uint32_t)(a->b[2 * w] << 8 | a->b[2 * w + 1]) + n->adj;
	s = (s & 0xffff) + (s >> 16);
	if (s == 0xffff)
		s = 0;
	a->b[2 * w] = (uint8_t)(s >> 8);
	a->b[2 * w + 1] = (uint8_t)s;
	return true;
}

/* Run one target with a side effect on the packet view. */
static void apply(const struct rules_prog *p, const struct rules_crule *cr, struct rules_pkt *pk,
	struct rules_result *res)
{
	const struct rules_ext *t = cr->target;
	switch (cr->kind) {
	case RULES_CK_SET:
		set_target(p, t, pk);
		break;
	case RULES_CK_TEE:
		if (pk->tee != NULL)
			pk->tee(pk->tee_ctx, t, (uint8_t)cr->arg, pk);
		break;
	case RULES_CK_LOG:
		if (res->n_log < RULES_MAX_LOGS) {
			res->log_rule[res->n_log] = cr->ctr;
			res->log_mark[res->n_log] = pk->mark;
		}
		if (res->n_log < UINT8_MAX)
			res->n_log++;
		break;
	case RULES_CK_MARK:
		pk->mark = (pk->mark & ~t->u.xmark.mask) ^ t->u.xmark.value;
		res->mods |= RULES_MOD_MARK;
		break;
	case RULES_CK_TOS:
		pk->tos = (uint8_t)((pk->tos & ~t->u.settos.mask) ^ t->u.settos.value);
		res->mods |= RULES_MOD_TOS;
		break;
	case RULES_CK_DSCP:
		pk->tos = (uint8_t)((pk->tos & 0x03) | (t->u.setdscp.value << 2));
		res->mods |= RULES_MOD_TOS;
		break;
	case RULES_CK_NOTRACK:
		/* the first NOTRACK or CT a packet meets decides (xt_CT and
		 * notrack_tg leave a packet that has its template alone) */
		if (!res->ct_set) {
			res->ct_set = 1;
			res->notrack = 1;
		}
		break;
	case RULES_CK_CT:
		if (!res->ct_set) {
			const struct rules_t_ct *c = &t->u.ctt;
			uint32_t dirs = (c->zone_flags & RULES_CTZ_ORIG ? RULES_ZONE_ORIG : 0) |
					(c->zone_flags & RULES_CTZ_REPLY ? RULES_ZONE_REPLY : 0);
			if (dirs == 0) /* --zone: both */
				dirs = RULES_ZONE_ORIG | RULES_ZONE_REPLY;
			res->ct_set = 1;
			res->ct.helper = c->helper_id;
			res->ct.tpol = c->tpol;
			/* --expevents alone: the kernel's template has ctmask 0,
			 * its connections report no event (CT_IPCT_NONE);
			 * --ctevents alone: expmask 0, their expectations none
			 * (no RULES_CTEV_EXPNEW) */
			res->ct.ctev = c->ctevents ? c->ctevents : c->expevents ? RULES_CTEV_NONE : 0;
			if (c->expevents & 1)
				res->ct.ctev |= RULES_CTEV_EXPNEW;
			if (c->zone_flags & RULES_CTZ_MARK)
				res->ct.zone = RULES_ZONE_MARK | dirs;
			else if (c->zone != 0)
				res->ct.zone = c->zone | dirs;
		}
		break;
	case RULES_CK_CONNMARK: {
		if (!CT_HAS(pk))
			break;
		const struct rules_t_connmark *c = &t->u.connmark;
		uint32_t v;
		switch (c->mode) {
		case RULES_CM_SET:
			v = (pk->ct_mark & ~c->ctmask) ^ c->ctmark;
			v = c->shift_dir ? v >> c->shift_bits : v << c->shift_bits;
			pk->ct_mark = v;
			res->mods |= RULES_MOD_CTMARK;
			break;
		case RULES_CM_SAVE:
			v = pk->mark & c->nfmask;
			v = c->shift_dir ? v >> c->shift_bits : v << c->shift_bits;
			pk->ct_mark = (pk->ct_mark & ~c->ctmask) ^ v;
			res->mods |= RULES_MOD_CTMARK;
			break;
		default:
			v = pk->ct_mark & c->ctmask;
			v = c->shift_dir ? v >> c->shift_bits : v << c->shift_bits;
			pk->mark = (pk->mark & ~c->nfmask) ^ v;
			res->mods |= RULES_MOD_MARK;
			break;
		}
		break;
	}
	case RULES_CK_TTL: {
		unsigned v = pk->ttl;
		if (t->present & (1u << RULES_O_SET))
			v = t->u.setttl.value;
		else if (t->present & (1u << RULES_O_DEC))
			v = v > t->u.setttl.value ? v - t->u.setttl.value : 0;
		else
			v = v + t->u.setttl.value > 255 ? 255 : v + t->u.setttl.value;
		pk->ttl = (uint8_t)v;
		res->mods |= RULES_MOD_TTL;
		break;
	}
	case RULES_CK_ECN: {
		/* ipt_ECN: the codepoint if it differs; ECE/CWR of a TCP
		 * segment (the rule has -p tcp) if they differ */
		const struct rules_t_ecn *e = &t->u.ecnt;
		if ((t->present & (1u << RULES_O_ECNT_ECT)) && (pk->tos & 3) != e->ect) {
			pk->tos = (uint8_t)((pk->tos & ~3u) | e->ect);
			res->mods |= RULES_MOD_TOS;
		}
		if ((t->present & ((1u << RULES_O_ECNT_ECE) | (1u << RULES_O_ECNT_CWR))) && pk->l4 &&
		    pk->proto == 6) {
			uint8_t f = pk->tcp_flags;
			if (t->present & (1u << RULES_O_ECNT_ECE))
				f = (uint8_t)((f & ~0x40u) | (e->ece ? 0x40 : 0));
			if (t->present & (1u << RULES_O_ECNT_CWR))
				f = (uint8_t)((f & ~0x80u) | (e->cwr ? 0x80 : 0));
			if (f != pk->tcp_flags) {
				pk->tcp_flags = f;
				res->mods |= RULES_MOD_TCPF;
			}
		}
		break;
	}
	case RULES_CK_SNPT:
	case RULES_CK_DNPT:
		if (!npt_map(&t->u.npt, cr->kind == RULES_CK_SNPT ? &pk->src : &pk->dst)) {
			res->npt_fail = 1; /* the caller drops it, as the kernel */
			break;
		}
		res->mods |= RULES_MOD_ADDR;
		break;
	case RULES_CK_TCPMSS:
		if (t->present & (1u << RULES_O_MSS_CLAMP))
			res->mss_clamp = 1;
		else if (t->u.setmss < res->mss)
			res->mss = t->u.setmss;
		res->mods |= RULES_MOD_MSS;
		break;
	default:
		break;
	}
}

struct frame {
	uint32_t chain;
	struct rules_cls_cur cur; /* the chain's candidates still to try */
};

static inline void trace(struct rules_trace *tr, uint32_t id)
{
	if (tr && tr->n < tr->cap)
		tr->ctr[tr->n++] = id;
}

static inline void enter(const struct rules_prog *p, const struct rules_fprog *fp, uint32_t ci,
	const uint64_t *key, struct frame *f)
{
	const struct rules_cchain *ch = &fp->chains[ci];
	f->chain = ci;
	if (ch->cls) {
		rules_cls_lookup(ch->cls, key, &f->cur);
		/* rules appended since the classifier was built, until the
		 * control thread rebuilds it (rules_prog.h: tails) */
		if (unlikely(ch->n > ch->cls->n_rules))
			rules_cls_tail(p->ident, ch->cls->n_rules, ch->n, &f->cur);
	} else
		rules_cls_all(p->ident, ch->n, &f->cur);
}

/* One table's built-in chain: 1 ACCEPT, 0 DROP, -1 REJECT. */
static int run_chain(const struct rules_prog *p, const struct rules_fprog *fp, uint32_t base,
	struct rules_pkt *pk, uint64_t *key, struct rules_counter *ctr, struct rules_result *res,
	struct rules_trace *tr)
{
	struct frame stack[RULES_MAX_DEPTH];
	unsigned sp = 0;
	struct frame *cur = &stack[0];
	const struct rules_quick *quick = fp->quick;
	unsigned sh = pk->fam == RULES_F_V4 ? 0 : 32;
	uint32_t s32 = (uint32_t)(key[RULES_CLS_SRC] >> sh), d32 = (uint32_t)(key[RULES_CLS_DST] >> sh);
	/* the quick check of a -m tcp/udp rule is its whole match only for a
	 * packet with its L4 header (rules_quick) */
	unsigned qx_max = pk->l4 ? RULES_QX_L4 : RULES_QX_YES;
	if (fp->chains[base].n == 0)
		goto policy;
	enter(p, fp, base, key, cur);
	for (;;) {
		const struct rules_cchain *ch = &fp->chains[cur->chain];
		const struct rules_crule *rules = &fp->rules[ch->first];
		const struct rules_quick *q = quick ? &quick[ch->first] : NULL;
		const struct rules_crule *hit = NULL;
		uint32_t pos, hit_ctr = 0;
		unsigned kind = RULES_CK_NONE;
		while (rules_cls_next(&cur->cur, &pos)) {
			const struct rules_crule *cr = &rules[pos];
			if (q) {
				if (!quick_ok(&q[pos], key, s32, d32))
					continue;
				/* exact: the rule's record (a cache miss in a big
				 * chain) is not read */
				if (q[pos].exact != RULES_QX_NO && q[pos].exact <= qx_max) {
					hit = cr;
					hit_ctr = q[pos].ctr;
					kind = q[pos].kind;
					break;
				}
			}
			if (rule_match(p, cr, pk, ctr)) {
				hit = cr;
				hit_ctr = cr->ctr;
				kind = cr->kind;
				break;
			}
			/* a match that could not judge the packet drops it there
			 * (ipt_do_table's hotdrop): no later rule sees it */
			if (__builtin_expect(cr->hotdrop, 0) && pk->hotdrop != NULL && *pk->hotdrop)
				return 0;
		}
		if (hit == NULL) {
			/* end of chain: implicit RETURN, or the policy */
			if (sp == 0)
				goto policy;
			cur = &stack[--sp];
			continue;
		}
		ctr[hit_ctr].pkts++;
		ctr[hit_ctr].bytes += pk->len;
		switch (kind) {
		case RULES_CK_NONE:
			break;
		case RULES_CK_ACCEPT:
			trace(tr, hit_ctr);
			return 1;
		case RULES_CK_DROP:
			trace(tr, hit_ctr);
			return 0;
		case RULES_CK_REJECT:
			trace(tr, hit_ctr);
			res->reject_with = (uint8_t)hit->arg;
			return -1;
		case RULES_CK_NAT:
			/* the binding is made; the nat table is done (NF_ACCEPT) */
			trace(tr, hit_ctr);
			res->nat = hit->target;
			return 1;
		case RULES_CK_RETURN:
			trace(tr, hit_ctr);
			if (sp == 0)
				goto policy;
			cur = &stack[--sp];
			break;
		case RULES_CK_JUMP:
			trace(tr, hit_ctr);
			if (unlikely(sp + 1 >= RULES_MAX_DEPTH))
				return 0; /* compile refuses this; never reached */
			cur = &stack[++sp];
			enter(p, fp, hit->arg, key, cur);
			break;
		case RULES_CK_GOTO:
			trace(tr, hit_ctr);
			enter(p, fp, hit->arg, key, cur);
			break;
		case RULES_CK_SNPT:
		case RULES_CK_DNPT:
			/* the address changed: the rules after it (no
			 * classifier in this table: rules_prog.c) and the next
			 * tables see the new one */
			trace(tr, hit_ctr);
			apply(p, hit, pk, res);
			if (res->npt_fail)
				return 0;
			pkt_key(pk, key);
			s32 = (uint32_t)(key[RULES_CLS_SRC] >> sh);
			d32 = (uint32_t)(key[RULES_CLS_DST] >> sh);
			break;
		default:
			trace(tr, hit_ctr);
			apply(p, hit, pk, res);
			break;
		}
	}
policy: {
	const struct rules_cchain *bc = &fp->chains[base];
	ctr[bc->policy_ctr].pkts++;
	ctr[bc->policy_ctr].bytes += pk->len;
	trace(tr, bc->policy_ctr);
	return bc->policy == RULES_POL_ACCEPT ? 1 : 0;
}
}

/* rules_empty_shortcut's count: the policies of the chains part of hook h
 * traverses, the nat table's aside */
void rules_empty_count(const struct rules_fprog *fp, enum rules_hook h, enum rules_part part,
	uint32_t len, struct rules_counter *ctr)
{
	unsigned first = 0, end = fp->hook_n[h];
	if (part == RULES_PART_RAW)
		end = fp->hook_raw[h];
	else if (part == RULES_PART_REST)
		first = fp->hook_raw[h];
	for (unsigned i = first; i < end; i++) {
		if (i + 1 == fp->hook_nat[h])
			continue;
		const struct rules_cchain *ch = &fp->chains[fp->hook_seq[h][i]];
		ctr[ch->policy_ctr].pkts++;
		ctr[ch->policy_ctr].bytes += len;
	}
}

void rules_eval_part(const struct rules_prog *p, enum rules_hook h, enum rules_part part,
	struct rules_pkt *pk, struct rules_counter *ctr, struct rules_result *res,
	struct rules_trace *tr)
{
	const struct rules_fprog *fp = &p->f[pk->fam == RULES_F_V6];
	uint64_t key[RULES_CLS_DIMS];
	res->res = RULES_R_ACCEPT;
	res->reject_with = 0;
	res->mods = 0;
	res->n_log = 0;
	res->notrack = 0;
	res->ct_set = 0;
	res->ct = (struct rules_ct_tmpl){ 0 };
	res->nat = NULL;
	res->mss = 0xffff;
	res->mss_clamp = 0;
	res->npt_fail = 0;
	unsigned nat = pk->nat_new ? fp->hook_nat[h] : 0;
	if (!fp->hook_active[h] && !nat)
		return;
	unsigned first = 0, end = fp->hook_n[h];
	if (part == RULES_PART_RAW)
		end = fp->hook_raw[h];
	else if (part == RULES_PART_REST)
		first = fp->hook_raw[h];
	if (first >= end)
		return;
	pkt_key(pk, key);
	for (unsigned i = first; i < end; i++) {
		if (i + 1 == fp->hook_nat[h] && !nat)
			continue;
		int v = run_chain(p, fp, fp->hook_seq[h][i], pk, key, ctr, res, tr);
		if (v == 1)
			continue;
		res->res = v == 0 ? RULES_R_DROP : RULES_R_REJECT;
		return;
	}
}

void rules_eval_hook(const struct rules_prog *p, enum rules_hook h, struct rules_pkt *pk,
	struct rules_counter *ctr, struct rules_result *res, struct rules_trace *tr)
{
	rules_eval_part(p, h, RULES_PART_ALL, pk, ctr, res, tr);
}
