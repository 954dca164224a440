/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct.c: the per-worker table: memory, hash, allocation, confirmation, the
 * timer wheel and early drop. The protocol trackers are in ct_proto.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ct.h"
#include "ct_help.h"
#include "ct_priv.h"

const char *const ct_timeout_names[CT_TO_COUNT] = {
	[CT_TO_TCP_SYN_SENT] = "tcp-syn-sent",
	[CT_TO_TCP_SYN_RECV] = "tcp-syn-recv",
	[CT_TO_TCP_ESTABLISHED] = "tcp-established",
	[CT_TO_TCP_FIN_WAIT] = "tcp-fin-wait",
	[CT_TO_TCP_CLOSE_WAIT] = "tcp-close-wait",
	[CT_TO_TCP_LAST_ACK] = "tcp-last-ack",
	[CT_TO_TCP_TIME_WAIT] = "tcp-time-wait",
	[CT_TO_TCP_CLOSE] = "tcp-close",
	[CT_TO_TCP_SYN_SENT2] = "tcp-syn-sent2",
	[CT_TO_TCP_RETRANS] = "tcp-max-retrans",
	[CT_TO_TCP_UNACK] = "tcp-unacknowledged",
	[CT_TO_UDP] = "udp",
	[CT_TO_UDP_STREAM] = "udp-stream",
	[CT_TO_ICMP] = "icmp",
	[CT_TO_ICMPV6] = "icmpv6",
	[CT_TO_GENERIC] = "generic",
	[CT_TO_SCTP_CLOSED] = "sctp-closed",
	[CT_TO_SCTP_COOKIE_WAIT] = "sctp-cookie-wait",
	[CT_TO_SCTP_COOKIE_ECHOED] = "sctp-cookie-echoed",
	[CT_TO_SCTP_ESTABLISHED] = "sctp-established",
	[CT_TO_SCTP_SHUTDOWN_SENT] = "sctp-shutdown-sent",
	[CT_TO_SCTP_SHUTDOWN_RECD] = "sctp-shutdown-recd",
	[CT_TO_SCTP_SHUTDOWN_ACK_SENT] = "sctp-shutdown-ack-sent",
	[CT_TO_SCTP_HEARTBEAT_SENT] = "sctp-heartbeat-sent",
	[CT_TO_GRE] = "gre",
	[CT_TO_GRE_STREAM] = "gre-stream",
};

const char *const ct_tcp_state_names[CT_TCP_MAX] = {
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
};

const char *const ct_sctp_state_names[CT_SCTP_MAX] = {
	"NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED",
	"SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT",
};

const char *ct_state_name(const struct ct_entry *e)
{
	if (e->proto == 6)
		return ct_tcp_state_names[ct_tcp_state(e) < CT_TCP_MAX ? ct_tcp_state(e) : 0];
	if (e->proto == 132)
		return ct_sctp_state_names[ct_sctp_state(e) < CT_SCTP_MAX ? ct_sctp_state(e) : 0];
	return NULL;
}

void ct_params_default(struct ct_params *p)
{
	static const uint32_t def[CT_TO_COUNT] = {
		[CT_TO_TCP_SYN_SENT] = 120,     [CT_TO_TCP_SYN_RECV] = 60,
		[CT_TO_TCP_ESTABLISHED] = 432000, [CT_TO_TCP_FIN_WAIT] = 120,
		[CT_TO_TCP_CLOSE_WAIT] = 60,    [CT_TO_TCP_LAST_ACK] = 30,
		[CT_TO_TCP_TIME_WAIT] = 120,    [CT_TO_TCP_CLOSE] = 10,
		[CT_TO_TCP_SYN_SENT2] = 120,    [CT_TO_TCP_RETRANS] = 300,
		[CT_TO_TCP_UNACK] = 300,        [CT_TO_UDP] = 30,
		[CT_TO_UDP_STREAM] = 120,       [CT_TO_ICMP] = 30,
		[CT_TO_ICMPV6] = 30,            [CT_TO_GENERIC] = 600,
		[CT_TO_SCTP_CLOSED] = 10,       [CT_TO_SCTP_COOKIE_WAIT] = 3,
		[CT_TO_SCTP_COOKIE_ECHOED] = 3, [CT_TO_SCTP_ESTABLISHED] = 210,
		[CT_TO_SCTP_SHUTDOWN_SENT] = 3, [CT_TO_SCTP_SHUTDOWN_RECD] = 3,
		[CT_TO_SCTP_SHUTDOWN_ACK_SENT] = 3, [CT_TO_SCTP_HEARTBEAT_SENT] = 30,
		[CT_TO_GRE] = 30,               [CT_TO_GRE_STREAM] = 180,
	};
	memset(p, 0, sizeof(*p));
	p->max = 262144;
	p->max6 = 65536;
	memcpy(p->to, def, sizeof(def));
	p->tcp_loose = 1;
	p->tcp_max_retrans = 3;
	p->checksum = 1;
}

_Static_assert(sizeof(struct ct_entry) == 64, "ct_entry is one cache line");
_Static_assert(sizeof(union ct_pstate) == 48, "ct_entry and its ct_pstate stay 112 bytes");
_Static_assert(sizeof(struct ct_addr6) == 64, "ct_addr6 is one cache line");
_Static_assert(sizeof(struct ct_bucket) == 64, "a bucket is one cache line");

/* Buckets for 2 nodes per entry filling at most 80% of the slots. */
static uint32_t buckets_for(uint32_t max)
{
	uint64_t n = ((uint64_t)max * 2 * 10 + CT_BSLOTS * 8 - 1) / (CT_BSLOTS * 8);
	return n < 64 ? 64 : (uint32_t)n;
}

static size_t round64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

size_t ct_table_mem(const struct ct_params *p)
{
	return round64(sizeof(struct ct_table)) + round64((size_t)p->max * sizeof(struct ct_entry)) +
		round64((size_t)p->max * sizeof(union ct_pstate)) + round64((size_t)p->max6 * sizeof(struct ct_addr6)) +
		round64((size_t)buckets_for(p->max) * sizeof(struct ct_bucket));
}

struct ct_table *ct_table_create(const struct ct_params *par, uint32_t now,
	void *(*alloc)(size_t), void (*free_fn)(void *))
{
	if (par->max == 0 || par->max >= (1u << 30) || par->max6 > par->max)
		return NULL;
	size_t total = ct_table_mem(par);
	uint8_t *mem = alloc(total);
	if (mem == NULL)
		return NULL;
	struct ct_table *t = (struct ct_table *)mem;
	size_t off = round64(sizeof(*t));
	t->e = (struct ct_entry *)(mem + off);
	off += round64((size_t)par->max * sizeof(struct ct_entry));
	t->px = (union ct_pstate *)(mem + off);
	off += round64((size_t)par->max * sizeof(union ct_pstate));
	t->x6 = par->max6 ? (struct ct_addr6 *)(mem + off) : NULL;
	off += round64((size_t)par->max6 * sizeof(struct ct_addr6));
	t->b = (struct ct_bucket *)(mem + off);
	t->nb = buckets_for(par->max); /* zeroed by alloc: every slot free */
	t->max = par->max;
	t->max6 = par->max6;
	for (uint32_t i = 0; i < par->max; i++)
		t->e[i].tnext = i + 1 < par->max ? i + 1 : CT_NIL;
	t->free = 0;
	t->nfree = par->max;
	for (uint32_t i = 0; i < par->max6; i++) {
		uint32_t nx = i + 1 < par->max6 ? i + 1 : CT_NIL;
		memcpy(t->x6[i].a[0], &nx, 4);
	}
	t->free6 = par->max6 ? 0 : CT_NIL;
	t->pending = CT_NIL;
	t->rnd = 0x2545f491u;
	for (unsigned i = 0; i < CT_WHEEL; i++)
		t->wheel[i] = CT_NIL;
	t->wtick = now;
	t->now = now;
	t->wrest = CT_NIL;
	t->par = par;
	t->mem = total;
	t->free_fn = free_fn;
	t->alloc_fn = alloc;
	return t;
}

void ct_table_destroy(struct ct_table *t)
{
	if (t != NULL) {
		if (t->zn != NULL)
			t->free_fn(t->zn);
		if (t->tp != NULL)
			t->free_fn(t->tp);
		if (t->em != NULL)
			t->free_fn(t->em);
		if (t->ec != NULL)
			t->free_fn(t->ec);
		t->free_fn(t);
	}
}

/* One side array of elem bytes an entry, zeroed (every entry at its
 * default), counted in the table's memory; NULL without memory */
static void *side_alloc(struct ct_table *t, size_t elem)
{
	size_t n = (size_t)t->max * elem;
	void *a = t->alloc_fn(n);
	if (a != NULL)
		t->mem += n;
	return a;
}

/* Give slot p (t->zn, t->tp, t->em) its array if it has none, published
 * with release (zeroed before a worker sees it); false without memory */
#define SIDE_SET(t, p)                                                        \
	({                                                                    \
		__typeof__(*(p)) a_ = *(p) ? *(p) : side_alloc((t), sizeof(**(p))); \
		if (a_ != NULL)                                               \
			__atomic_store_n((p), a_, __ATOMIC_RELEASE);          \
		a_ != NULL;                                                   \
	})

int ct_side_enable(struct ct_table *t, unsigned which)
{
	if (((which & CT_SIDE_ZONES) && !SIDE_SET(t, &t->zn)) ||
	    ((which & CT_SIDE_TPOL) && !SIDE_SET(t, &t->tp)) ||
	    ((which & CT_SIDE_CTEV) && !SIDE_SET(t, &t->em)) ||
	    ((which & CT_SIDE_ECACHE) && !SIDE_SET(t, &t->ec)))
		return -1;
	if (which)
		__atomic_store_n(&t->side, 1, __ATOMIC_RELEASE); /* after the arrays */
	return 0;
}

__attribute__((target("sse4.2"))) uint32_t ct_hash(const struct ct_tuple *k)
{
	return ct_hash_inline(k);
}

void ct_entry_tuple(const struct ct_table *t, uint32_t idx, unsigned dir, struct ct_tuple *k)
{
	const struct ct_entry *e = &t->e[idx];
	memset(k, 0, sizeof(*k));
	if (e->fam == 4) {
		memcpy(k->src, &e->a.a4[2 * dir], 4);
		memcpy(k->dst, &e->a.a4[2 * dir + 1], 4);
	} else {
		const struct ct_addr6 *x = &t->x6[e->a.x6];
		memcpy(k->src, x->a[2 * dir], 16);
		memcpy(k->dst, x->a[2 * dir + 1], 16);
	}
	k->sport = e->port[2 * dir];
	k->dport = e->port[2 * dir + 1];
	k->proto = e->proto;
	k->fam = e->fam;
	uint32_t z = ct_zones_of(t, idx);
	k->zo = (uint16_t)z;
	k->zr = (uint16_t)(z >> 16);
	k->zone = dir ? k->zr : k->zo;
}

uint32_t ct_lookup(const struct ct_table *t, const struct ct_tuple *k, uint32_t h)
{
	uint32_t bi = ct_bucket_of(t, h);
	uint16_t s = ct_sig(h);
	for (uint32_t probe = 0; probe < t->nb; probe++) {
		const struct ct_bucket *b = &t->b[bi];
		for (uint32_t m = ct_bucket_match(b, s); m != 0; m &= m - 1) {
			uint32_t node = b->node[__builtin_ctz(m)];
			if (ct_node_is(t, node, k))
				return node;
		}
		if (b->passed == 0)
			break;
		if (++bi == t->nb)
			bi = 0;
	}
	return CT_NIL;
}

/* Index node under hash h: the first free slot from its bucket on; false
 * if none within CT_MAX_PROBE buckets (the table is pathologically full). */
#define CT_MAX_PROBE 64
static bool index_add(struct ct_table *t, uint32_t node, uint32_t h)
{
	uint32_t home = ct_bucket_of(t, h), bi = home;
	for (uint32_t probe = 0; probe < CT_MAX_PROBE; probe++) {
		struct ct_bucket *b = &t->b[bi];
		for (unsigned i = 0; i < CT_BSLOTS; i++)
			if (b->sig[i] == 0) {
				b->sig[i] = ct_sig(h);
				b->node[i] = node;
				for (uint32_t j = home; j != bi; j = j + 1 == t->nb ? 0 : j + 1)
					t->b[j].passed++;
				return true;
			}
		if (++bi == t->nb)
			bi = 0;
	}
	return false;
}

static void index_del(struct ct_table *t, uint32_t node, uint32_t h)
{
	uint32_t home = ct_bucket_of(t, h), bi = home;
	uint16_t s = ct_sig(h);
	for (uint32_t probe = 0; probe < CT_MAX_PROBE; probe++) {
		struct ct_bucket *b = &t->b[bi];
		for (unsigned i = 0; i < CT_BSLOTS; i++)
			if (b->sig[i] == s && b->node[i] == node) {
				b->sig[i] = 0;
				for (uint32_t j = home; j != bi; j = j + 1 == t->nb ? 0 : j + 1)
					t->b[j].passed--;
				return;
			}
		if (++bi == t->nb)
			bi = 0;
	}
}

static bool hash_add(struct ct_table *t, uint32_t idx, const uint32_t h[2])
{
	if (!index_add(t, idx << 1, h[0]))
		return false;
	if (!index_add(t, idx << 1 | 1, h[1])) {
		index_del(t, idx << 1, h[0]);
		return false;
	}
	return true;
}

static void entry_hashes(const struct ct_table *t, uint32_t idx, uint32_t h[2])
{
	struct ct_tuple k;
	for (unsigned d = 0; d < 2; d++) {
		ct_entry_tuple(t, idx, d, &k);
		h[d] = ct_hash(&k);
	}
}

static void hash_del_h(struct ct_table *t, uint32_t idx, const uint32_t h[2])
{
	index_del(t, idx << 1, h[0]);
	index_del(t, idx << 1 | 1, h[1]);
}

static void hash_del(struct ct_table *t, uint32_t idx)
{
	uint32_t h[2];
	entry_hashes(t, idx, h);
	hash_del_h(t, idx, h);
}

static inline uint32_t slot_of(const struct ct_table *t, uint32_t expire)
{
	/* a time already behind the wheel goes to the next slot it processes */
	uint32_t at = (int32_t)(expire - t->wtick) < 0 ? t->wtick : expire;
	return at & (CT_WHEEL - 1);
}

static inline void wheel_add(struct ct_table *t, uint32_t idx)
{
	uint32_t s = slot_of(t, t->e[idx].expire);
	t->e[idx].tnext = t->wheel[s];
	t->e[idx].status |= CT_S_WHEEL;
	t->wheel[s] = idx;
}

#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* A source-translated connection confirmed (d = 1) or dying (d = -1):
 * its public address's count (the reply tuple's destination). */
static void natc_count(struct ct_table *t, uint32_t idx, int d)
{
	const struct ct_entry *e = &t->e[idx];
	/* the public address in place: the reply tuple's destination */
	uint8_t a[16] = {0};
	if (e->fam == 4)
		memcpy(a, &e->a.a4[3], 4);
	else
		memcpy(a, t->x6[e->a.x6].a[3], 16);
	uint64_t w0, w1;
	memcpy(&w0, a, 8);
	memcpy(&w1, a + 8, 8);
	uint64_t hh = (w0 ^ (w1 * 0x9e3779b97f4a7c15ull) ^ e->proto) * 0xff51afd7ed558ccdull;
	uint32_t h = (uint32_t)(hh >> 40);
	struct ct_natc *c = &t->natc;
	for (unsigned k = 0; k < CT_NATC_SLOTS; k++) {
		struct ct_natc_slot *s = &c->s[(h + k) % CT_NATC_SLOTS];
		if (__atomic_load_n(&s->used, __ATOMIC_RELAXED)) {
			uint64_t s0, s1;
			memcpy(&s0, s->addr, 8);
			memcpy(&s1, s->addr + 8, 8);
			if (s0 == w0 && s1 == w1 && s->proto == e->proto && s->fam == e->fam) {
				s->conns += (uint64_t)(int64_t)d;
				return;
			}
			continue;
		}
		if (d < 0)
			break; /* never counted here */
		s->fam = e->fam;
		s->proto = e->proto;
		memcpy(s->addr, a, 16);
		s->conns = 1;
		__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
		return;
	}
	c->other += (uint64_t)(int64_t)d;
}

/* Entry idx leaves the living: conntrack -E's DESTROY, its NAT usage
 * count, its helper's expectation (every way out of the hash passes
 * here). */
static inline void entry_dying(struct ct_table *t, uint32_t idx)
{
	ct_event(t, idx, CT_EV_DESTROY, CT_IPCT_DESTROY);
	if (unlikely(t->e[idx].status & CT_S_SRC_NAT))
		natc_count(t, idx, -1);
	if (unlikely(ct_helper(&t->e[idx])))
		ct_help_dying(t, idx);
}

/* An IPv6 entry's address record back to its free list. */
static void x6_release(struct ct_table *t, struct ct_entry *e)
{
	if (e->fam == 6 && e->a.x6 != CT_NIL) {
		uint32_t x = e->a.x6;
		memcpy(t->x6[x].a[0], &t->free6, 4);
		t->free6 = x;
		t->live6--;
		e->a.x6 = CT_NIL;
	}
}

/* Give an entry that is not in the hash back: to the free list, or, if it
 * is still on a wheel list, to the wheel, which frees it when it comes by. */
static void entry_free(struct ct_table *t, uint32_t idx)
{
	struct ct_entry *e = &t->e[idx];
	x6_release(t, e);
	if (unlikely(ct_helper(e)))
		ct_help_dying(t, idx); /* never confirmed: a TFTP request's state */
	if (e->status & CT_S_WHEEL) {
		e->status = CT_S_WHEEL | CT_S_DYING;
		return;
	}
	e->fam = 0;
	e->status = 0;
	e->tnext = t->free;
	t->free = idx;
	t->nfree++;
}

static inline bool can_early_drop(const struct ct_entry *e)
{
	if (e->status & CT_S_DYING)
		return true;
	if (!(e->status & CT_S_ASSURED))
		return true;
	if (e->proto == 132) /* sctp_can_early_drop: shutting down */
		return ct_sctp_state(e) >= CT_SCTP_SHUTDOWN_SENT &&
		       ct_sctp_state(e) <= CT_SCTP_SHUTDOWN_ACK_SENT;
	return e->proto == 6 && ct_tcp_state(e) >= CT_TCP_FIN_WAIT && ct_tcp_state(e) <= CT_TCP_CLOSE;
}

/* One early-drop pass over the wheel's lists from slot `from` on (the rest
 * of the list being processed first when from is the current slot), at
 * most 8 entries of a list and 64 in all. The victim leaves its list and
 * is returned for reuse (status 0). */
static uint32_t early_drop_pass(struct ct_table *t, uint32_t from)
{
	unsigned looked = 0;
	for (unsigned l = 0; l <= CT_WHEEL && looked < 64; l++) {
		uint32_t *pp;
		if (l == 0)
			pp = from == t->wtick ? &t->wrest : &t->wheel[from & (CT_WHEEL - 1)];
		else
			pp = &t->wheel[(from + l - (from == t->wtick)) & (CT_WHEEL - 1)];
		for (unsigned here = 0; *pp != CT_NIL && looked < 64 && here < 8; here++) {
			uint32_t idx = *pp;
			struct ct_entry *e = &t->e[idx];
			looked++;
			if (can_early_drop(e)) {
				*pp = e->tnext;
				e->status &= (uint8_t)~CT_S_WHEEL;
				if (!(e->status & CT_S_DYING)) {
					entry_dying(t, idx);
					hash_del(t, idx);
					t->live--;
					t->st.early_drop++;
				}
				x6_release(t, e);
				e->status = 0;
				return idx;
			}
			pp = &e->tnext;
		}
	}
	return CT_NIL;
}


/* Random sampling, as the kernel's early drop: the original-direction
 * entries of 8 random buckets (at most 16), the evictable one expiring
 * soonest. It is taken over where it stands: unhashed, still on its
 * wheel list (CT_S_WHEEL kept), the wheel re-files it by its new time. */
static uint32_t early_drop_sample(struct ct_table *t)
{
	uint32_t best = CT_NIL, looked = 0;
	for (unsigned k = 0; k < 8 && looked < 16; k++) {
		const struct ct_bucket *b = &t->b[rnd_next(t) % t->nb];
		for (unsigned i = 0; i < CT_BSLOTS && looked < 16; i++) {
			if (b->sig[i] == 0 || (b->node[i] & 1))
				continue;
			uint32_t idx = b->node[i] >> 1;
			const struct ct_entry *e = &t->e[idx];
			looked++;
			if (!can_early_drop(e))
				continue;
			if (best == CT_NIL || (int32_t)(e->expire - t->e[best].expire) < 0)
				best = idx;
		}
	}
	if (best != CT_NIL) {
		struct ct_entry *e = &t->e[best];
		entry_dying(t, best);
		hash_del(t, best);
		t->live--;
		t->st.early_drop++;
		x6_release(t, e);
		e->status = CT_S_WHEEL;
	}
	return best;
}

/* Table full: evict an entry that is not assured (or a TCP connection
 * closing). First among those expiring soonest (the wheel in time order;
 * its lists are LIFO, so their heads are the entries filed last), then by
 * random sampling; if both find nothing, the caller drops the packet.
 * Returns the entry to reuse. */
static uint32_t early_drop(struct ct_table *t)
{
	uint32_t v = early_drop_pass(t, t->wtick);
	if (v == CT_NIL)
		v = early_drop_sample(t);
	return v;
}

uint32_t ct_alloc(struct ct_table *t, uint8_t fam)
{
	if (fam == 6 && t->free6 == CT_NIL)
		return CT_NIL;
	uint32_t idx = t->free;
	if (idx != CT_NIL) {
		t->free = t->e[idx].tnext;
		t->nfree--;
		t->e[idx].status = 0;
	} else if ((idx = early_drop(t)) == CT_NIL) {
		return CT_NIL;
	}
	struct ct_entry *e = &t->e[idx];
	/* an entry taken over on its wheel list stays linked there */
	uint8_t wheel = e->status & CT_S_WHEEL;
	uint32_t tnext = wheel ? e->tnext : CT_NIL;
	memset(e, 0, sizeof(*e));
	memset(&t->px[idx], 0, sizeof(t->px[idx]));
	if (unlikely(__atomic_load_n(&t->side, __ATOMIC_ACQUIRE)))
		ct_side_set(t, idx, 0, 0, 0);
	e->fam = fam;
	e->status = wheel;
	e->tnext = tnext;
	if (fam == 6) {
		uint32_t x = t->free6;
		memcpy(&t->free6, t->x6[x].a[0], 4);
		e->a.x6 = x;
		t->live6++;
	}
	return idx;
}

void ct_abort(struct ct_table *t)
{
	if (t->pending != CT_NIL) {
		entry_free(t, t->pending);
		t->pending = CT_NIL;
	}
}

void ct_kill(struct ct_table *t, uint32_t idx)
{
	struct ct_entry *e = &t->e[idx];
	if (e->fam == 0 || (e->status & CT_S_DYING))
		return;
	if (!(e->status & CT_S_CONFIRMED)) {
		if (t->pending == idx)
			t->pending = CT_NIL;
		entry_free(t, idx);
		return;
	}
	entry_dying(t, idx);
	hash_del(t, idx);
	e->status |= CT_S_DYING;
	t->live--;
}

/* ct_confirm could not insert entry idx: freed, the packet INVALID */
static void confirm_fail(struct ct_table *t, struct ct_res *r, uint32_t idx)
{
	t->st.insert_failed++;
	entry_free(t, idx);
	r->idx = CT_NIL;
	r->state = CT_INVALID;
}

bool ct_reply_taken(struct ct_table *t, const struct ct_res *r)
{
	struct ct_tuple rep;
	ct_entry_tuple(t, r->idx, 1, &rep);
	uint32_t n = ct_lookup(t, &rep, r->h[1]);
	if (n != CT_NIL && (int32_t)(t->e[n >> 1].expire - t->now) <= 0) {
		ct_kill(t, n >> 1); /* timed out, not yet reaped */
		t->st.expired++;
		n = CT_NIL;
	}
	return n != CT_NIL;
}

bool ct_confirm(struct ct_table *t, struct ct_res *r)
{
	if (!r->fresh || r->idx == CT_NIL)
		return true;
	uint32_t idx = r->idx;
	r->fresh = 0;
	if (t->pending == idx)
		t->pending = CT_NIL;
	struct ct_entry *e = &t->e[idx];
	if (e->fam == 0)
		return true; /* killed on the way */
	/* A table has one writer and a packet goes through its hooks before
	 * the next one is looked up, so our original tuple cannot have been
	 * inserted since ct_in() missed it. Our reply tuple may be held by
	 * another connection that is not ours: one whose zones differ by
	 * direction, or a translated one whose reply is what we would send
	 * (a client reaching a DNAT backend directly while its translated
	 * connection lives). The kernel finds that clash at confirm: it
	 * drops the packet; the second has been given another source port
	 * by NAT's null binding before (dp_nat_step), unless no port was
	 * free. With neither a translated connection ever made nor zones, no
	 * entry can hold our reply tuple without being found by it: no look
	 * then; nor when NAT's source step has just looked (r->rep_free). */
	if (unlikely((t->may_clash && !r->rep_free) ||
		     __atomic_load_n(&t->zn, __ATOMIC_RELAXED) != NULL)) {
		if (unlikely(ct_reply_taken(t, r))) {
			confirm_fail(t, r, idx);
			return false;
		}
	}
	if (!hash_add(t, idx, r->h)) {
		confirm_fail(t, r, idx); /* the table pathologically full: goes on INVALID */
		return true;
	}
	e->status |= CT_S_CONFIRMED;
	if (!(e->status & CT_S_WHEEL))
		wheel_add(t, idx);
	if (unlikely(e->status & CT_S_SRC_NAT))
		natc_count(t, idx, 1);
	t->live++;
	t->st.new_++;
	/* as the kernel's confirm: NEW (RELATED for an expected one), with
	 * what its first packet did (a TCP or SCTP state, a mark) */
	if (unlikely(__atomic_load_n(&t->evq, __ATOMIC_ACQUIRE) != NULL)) {
		uint16_t *ec = __atomic_load_n(&t->ec, __ATOMIC_ACQUIRE);
		if (ec != NULL)
			ec[idx] = 0; /* its NEW says it all */
		ct_event(t, idx, CT_EV_NEW,
		 (e->status & CT_S_EXPECTED ? CT_IPCT_RELATED : CT_IPCT_NEW) |
		 ((e->proto == 6 || e->proto == 132) ? CT_IPCT_PROTOINFO : 0) |
		 (ct_helper(e) ? CT_IPCT_HELPER : 0) |
		 (ct_mark(t, e) != 0 ? CT_IPCT_MARK : 0));
	}
	return true;
}

unsigned ct_expire(struct ct_table *t, uint32_t now, unsigned budget)
{
	unsigned done = 0;
	t->now = now;
	while (done < budget) {
		if (t->wrest != CT_NIL) {
			/* a few at a time: the buckets of those that expire are
			 * loaded together, not one miss after the other */
			uint32_t batch[8], h[8][2];
			unsigned n = 0;
			while (n < 8 && t->wrest != CT_NIL && done + n < budget) {
				batch[n] = t->wrest;
				t->wrest = t->e[t->wrest].tnext;
				if (t->wrest != CT_NIL)
					ct_prefetch0(&t->e[t->wrest]);
				n++;
			}
			for (unsigned i = 0; i < n; i++) {
				const struct ct_entry *e = &t->e[batch[i]];
				if (!(e->status & CT_S_DYING) && (int32_t)(e->expire - now) <= 0) {
					entry_hashes(t, batch[i], h[i]);
					ct_prefetch(t, h[i][0]);
					ct_prefetch(t, h[i][1]);
				}
			}
			for (unsigned i = 0; i < n; i++) {
				uint32_t idx = batch[i];
				struct ct_entry *e = &t->e[idx];
				e->status &= (uint8_t)~CT_S_WHEEL; /* off its list now */
				if (e->status & CT_S_DYING) {
					entry_free(t, idx);
				} else if ((int32_t)(e->expire - now) <= 0) {
					entry_dying(t, idx);
					hash_del_h(t, idx, h[i]);
					t->live--;
					t->st.expired++;
					entry_free(t, idx);
				} else {
					wheel_add(t, idx);
				}
			}
			done += n;
			continue;
		}
		if ((int32_t)(t->wtick - now) > 0)
			break;
		uint32_t s = t->wtick & (CT_WHEEL - 1);
		t->wrest = t->wheel[s];
		t->wheel[s] = CT_NIL;
		t->wrest_tick = t->wtick;
		t->wtick++;
		done++;
	}
	return done;
}

const char *ct_proto_name(uint8_t p)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	case 136: return "udplite";
	case 132: return "sctp";
	case 33: return "dccp";
	case 47: return "gre";
	default: return "unknown";
	}
}

bool ct_proto_has_ports(uint8_t p)
{
	return p == 6 || p == 17 || p == 136 || p == 132 || p == 33;
}

static int fmt_tuple(const struct ct_tuple *k, const struct ct_entry *e, unsigned dir, bool acct,
	char *b, size_t n)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = k->fam == 4 ? AF_INET : AF_INET6;
	inet_ntop(af, k->src, s, sizeof(s));
	inet_ntop(af, k->dst, d, sizeof(d));
	int w = snprintf(b, n, "src=%s dst=%s ", s, d);
	if (w < 0 || (size_t)w >= n)
		return w;
	int w2;
	if (k->proto == 1 || k->proto == 58)
		w2 = snprintf(b + w, n - (size_t)w, "type=%u code=%u id=%u ", k->dport >> 8,
			k->dport & 0xff, k->sport);
	else if (ct_proto_has_ports(k->proto))
		w2 = snprintf(b + w, n - (size_t)w, "sport=%u dport=%u ", k->sport, k->dport);
	else if (k->proto == 47) /* GRE: the keys (PPTP call ids) */
		w2 = snprintf(b + w, n - (size_t)w, "srckey=0x%x dstkey=0x%x ", k->sport, k->dport);
	else
		w2 = 0;
	if (w2 < 0)
		return w2;
	w += w2;
	/* a zone of this direction alone (conntrack's zone-orig=, zone-reply=;
	 * one of both directions: zone= after the mark) */
	uint16_t zd = dir ? k->zr : k->zo, zx = dir ? k->zo : k->zr;
	if (zd != 0 && zx == 0 && (size_t)w < n) {
		w2 = snprintf(b + w, n - (size_t)w, "zone-%s=%u ", dir ? "reply" : "orig", zd);
		if (w2 < 0)
			return w2;
		w += w2;
	}
	if ((size_t)w >= n || !acct)
		return w;
	w2 = snprintf(b + w, n - (size_t)w, "packets=%llu bytes=%llu ",
		(unsigned long long)ct_pkts(e, dir), (unsigned long long)ct_bytes(e, dir));
	return w2 < 0 ? w2 : w + w2;
}

/* conntrack -L's line (ev 0) or conntrack -E's (ev: CT_EV_*; the
 * kernel's events carry the counters only when the connection dies, the
 * mark only when set, no use count). */
static int format(const struct ct_table *t, uint32_t idx, uint32_t now, unsigned ev, char *buf,
	size_t n)
{
	const struct ct_entry *e = &t->e[idx];
	struct ct_tuple k;
	int32_t left = (int32_t)(e->expire - now);
	unsigned secs = left > 0 ? (unsigned)left / CT_HZ : 0;
	int w = 0;
	bool proto = ev != CT_EV_UPDATE; /* UPDATE: the TCP state if it changed */
	ev &= (unsigned)~CT_EV_PROTO;
	if (ev)
		w = snprintf(buf, n, "%9s ", ev == CT_EV_NEW ? "[NEW]" : ev == CT_EV_UPDATE ? "[UPDATE]"
										: "[DESTROY]");
	if (w >= 0 && (size_t)w < n && ev == CT_EV_DESTROY && secs == 0) /* as ctnetlink: none */
		w += snprintf(buf + w, n - (size_t)w, "%-8s %u ", ct_proto_name(e->proto), e->proto);
	else if (w >= 0 && (size_t)w < n)
		w += snprintf(buf + w, n - (size_t)w, "%-8s %u %u ", ct_proto_name(e->proto), e->proto,
			      secs);
	const char *sn = ct_state_name(e);
	if (sn != NULL && proto && w > 0 && (size_t)w < n)
		w += snprintf(buf + w, n - (size_t)w, "%s ", sn);
	bool acct = ev == 0 || ev == CT_EV_DESTROY;
	for (unsigned d = 0; d < 2 && w > 0 && (size_t)w < n; d++) {
		ct_entry_tuple(t, idx, d, &k);
		int x = fmt_tuple(&k, e, d, acct, buf + w, n - (size_t)w);
		if (x < 0)
			return x;
		w += x;
		if (d == 0 && !(e->status & CT_S_SEEN_REPLY) && (size_t)w < n)
			w += snprintf(buf + w, n - (size_t)w, "[UNREPLIED] ");
	}
	const char *hn = ct_helper(e) && ct_helper(e) < CT_HELPER_MAX ? ct_helper_names[ct_helper(e)]
								      : NULL;
	uint32_t z = ct_zones_of(t, idx);
	char zb[16] = "";
	if ((uint16_t)z != 0 && (uint16_t)z == (uint16_t)(z >> 16))
		snprintf(zb, sizeof(zb), "zone=%u ", (unsigned)(uint16_t)z);
	if (w > 0 && (size_t)w < n && ev == 0)
		w += snprintf(buf + w, n - (size_t)w, "%smark=%u %s%s%s%suse=1",
			(e->status & CT_S_ASSURED) ? "[ASSURED] " : "", ct_mark(t, e), zb,
			hn ? "helper=" : "", hn ? hn : "", hn ? " " : "");
	else if (w > 0 && (size_t)w < n) {
		int x = snprintf(buf + w, n - (size_t)w, "%s", (e->status & CT_S_ASSURED) ? "[ASSURED] " : "");
		if (x > 0)
			w += x;
		uint32_t mk = ct_mark(t, e);
		if (mk && (size_t)w < n && (x = snprintf(buf + w, n - (size_t)w, "mark=%u ", mk)) > 0)
			w += x;
		if (zb[0] && (size_t)w < n && (x = snprintf(buf + w, n - (size_t)w, "%s", zb)) > 0)
			w += x;
		/* ctnetlink's DESTROY carries no helper */
		if (hn && ev != CT_EV_DESTROY && (size_t)w < n &&
		    (x = snprintf(buf + w, n - (size_t)w, "helper=%s ", hn)) > 0)
			w += x;
		if ((size_t)w < n && w > 0)
			buf[--w] = '\0'; /* the last blank */
	}
	return w;
}

int ct_format(const struct ct_table *t, uint32_t idx, uint32_t now, char *buf, size_t n)
{
	return format(t, idx, now, 0, buf, n);
}

int ct_format_event(const struct ct_table *t, uint32_t idx, uint32_t now, unsigned type, char *buf,
	size_t n)
{
	return format(t, idx, now, type, buf, n);
}

void ct_event_put(struct ct_table *t, struct ct_evq *q, uint32_t idx, unsigned type)
{
	uint32_t head = q->head;
	/* the reader's tail read only when the ring looks full: its cache
	 * line does not travel between the cores at every event */
	if (head - q->tail_seen > q->mask &&
	    head - (q->tail_seen = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE)) > q->mask) {
		__atomic_store_n(&q->lost, q->lost + 1, __ATOMIC_RELAXED);
		return;
	}
	struct ct_ev *ev = &q->rec[head & q->mask];
	const struct ct_entry *e = &t->e[idx];
	ev->type = (uint8_t)type;
	ev->now = t->now;
	ct_entry_copy(t, e, &ev->e);
	ev->zn = ct_zones_of(t, idx);
	if (e->fam == 6)
		ev->a6 = t->x6[e->a.x6];
	__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
}

bool ct_event_get(struct ct_evq *q, struct ct_ev *ev)
{
	uint32_t tail = q->tail;
	if (tail == __atomic_load_n(&q->head, __ATOMIC_ACQUIRE))
		return false;
	*ev = q->rec[tail & q->mask];
	__atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}
