/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragment reassembly table (see reasm.h). A datagram in progress keeps
 * its fragments in a list sorted by offset; fragments almost always come in
 * order, so the common insert is at the tail and costs nothing more. The
 * rules that decide what is kept follow Linux's ip_frag_queue (IPv4) and
 * nf_ct_frag6_queue (IPv6) and its inet_frag_queue_insert (overlaps and
 * duplicates).
 */
#include "reasm.h"

#include <string.h>

#define NIL (-1)
#define IP_MAXPACKET 65535u

struct rfrag {
	void *pkt;
	uint32_t off, len;
	uint16_t data_off;
	int32_t next;
};

struct rdg {
	struct reasm_key k;
	uint64_t t0;          /* first fragment's arrival */
	int32_t head, tail;   /* fragments, sorted by offset */
	int32_t hnext;        /* hash chain; free list */
	int32_t aprev, anext; /* age list of its family */
	uint32_t covered;     /* payload bytes held (no overlaps: sum of lengths) */
	uint32_t end;         /* highest end seen; with last_in, the datagram's length */
	uint16_t frag_max;    /* largest fragment (IP length) */
	uint16_t df_max;      /* largest fragment with DF */
	uint16_t n;           /* fragments held */
	int32_t hint;         /* the last one inserted */
	uint16_t hdr_len;     /* unfragmentable part of the first fragment */
	uint8_t last_in, used;
	uint8_t ecn; /* 1 << codepoint of every fragment (the kernel's IPFRAG_ECN_*) */
};

/* The kernel's ip_frag_ecn_table: what the datagram's ECN field gets from
 * the codepoints its fragments had; 0xff: an invalid mix, dropped. */
static const uint8_t ecn_table[16] = {
	[8 | 4] = 3, [8 | 2] = 3, [8 | 4 | 2] = 3, /* CE and ECT: CE */
	[1 | 8] = 0xff, [1 | 4] = 0xff, [1 | 2] = 0xff, [1 | 4 | 2] = 0xff,
	[1 | 8 | 4] = 0xff, [1 | 8 | 2] = 0xff, [1 | 8 | 4 | 2] = 0xff,
};

struct reasm {
	uint64_t timeout[2], seed;
	reasm_drop_fn drop;
	void *ctx;
	void (*free_fn)(void *);
	uint32_t max_dg, max_frags, mask;
	uint32_t n_dg, n_frags;
	int32_t dg_free, frag_free;
	int32_t age_head[2], age_tail[2]; /* oldest first, per family */
	struct reasm_stats st;
	int32_t *bucket;
	struct rdg *dg;
	struct rfrag *fr;
};

size_t reasm_mem(uint32_t max_dg, uint32_t max_frags)
{
	uint32_t nb = 1;
	while (nb < max_dg)
		nb <<= 1;
	return sizeof(struct reasm) + (size_t)nb * sizeof(int32_t) +
	       (size_t)max_dg * sizeof(struct rdg) + (size_t)max_frags * sizeof(struct rfrag);
}

struct reasm *reasm_create(uint32_t max_dg, uint32_t max_frags, uint64_t timeout4,
			   uint64_t timeout6, uint64_t seed, reasm_drop_fn drop, void *ctx,
			   void *(*alloc)(size_t), void (*free_fn)(void *))
{
	if (max_dg == 0 || max_frags == 0 || max_dg > 32767 || max_frags > 32767)
		return NULL;
	uint32_t nb = 1;
	while (nb < max_dg)
		nb <<= 1;
	struct reasm *r = alloc(reasm_mem(max_dg, max_frags));
	if (r == NULL)
		return NULL;
	r->timeout[0] = timeout4;
	r->timeout[1] = timeout6;
	r->seed = seed | 1;
	r->drop = drop;
	r->ctx = ctx;
	r->free_fn = free_fn;
	r->max_dg = max_dg;
	r->max_frags = max_frags;
	r->mask = nb - 1;
	r->bucket = (int32_t *)(r + 1);
	r->dg = (struct rdg *)(r->bucket + nb);
	r->fr = (struct rfrag *)(r->dg + max_dg);
	for (uint32_t i = 0; i < nb; i++)
		r->bucket[i] = NIL;
	for (uint32_t i = 0; i < max_dg; i++)
		r->dg[i].hnext = i + 1 < max_dg ? (int32_t)i + 1 : NIL;
	for (uint32_t i = 0; i < max_frags; i++)
		r->fr[i].next = i + 1 < max_frags ? (int32_t)i + 1 : NIL;
	r->dg_free = 0;
	r->frag_free = 0;
	r->age_head[0] = r->age_head[1] = r->age_tail[0] = r->age_tail[1] = NIL;
	return r;
}

static uint32_t key_hash(const struct reasm *r, const struct reasm_key *k)
{
	uint32_t w[sizeof(*k) / 4];
	memcpy(w, k, sizeof(w));
	uint64_t h = r->seed;
	for (unsigned i = 0; i < sizeof(w) / 4; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h >> 32);
}

/* take a datagram out of the table; its fragments go to drop (if drop) and
 * their records back to the free list */
static void dg_unlink(struct reasm *r, int32_t d, bool drop)
{
	struct rdg *g = &r->dg[d];
	int32_t *pp = &r->bucket[key_hash(r, &g->k) & r->mask];
	while (*pp != d)
		pp = &r->dg[*pp].hnext;
	*pp = g->hnext;
	int fam = g->k.v6;
	if (g->aprev != NIL)
		r->dg[g->aprev].anext = g->anext;
	else
		r->age_head[fam] = g->anext;
	if (g->anext != NIL)
		r->dg[g->anext].aprev = g->aprev;
	else
		r->age_tail[fam] = g->aprev;
	for (int32_t f = g->head; f != NIL;) {
		int32_t nx = r->fr[f].next;
		if (drop)
			r->drop(r->ctx, r->fr[f].pkt);
		r->fr[f].pkt = NULL;
		r->fr[f].next = r->frag_free;
		r->frag_free = f;
		r->n_frags--;
		f = nx;
	}
	g->used = 0;
	g->hnext = r->dg_free;
	r->dg_free = d;
	r->n_dg--;
}

/* the oldest datagram of both families other than keep, NIL if none */
static int32_t oldest(const struct reasm *r, int32_t keep)
{
	int32_t best = NIL;
	for (int fam = 0; fam < 2; fam++) {
		int32_t d = r->age_head[fam];
		if (d != NIL && d == keep)
			d = r->dg[d].anext;
		if (d != NIL && (best == NIL || r->dg[d].t0 < r->dg[best].t0))
			best = d;
	}
	return best;
}

static int32_t dg_find(struct reasm *r, const struct reasm_key *k, uint64_t now)
{
	uint32_t b = key_hash(r, k) & r->mask;
	for (int32_t d = r->bucket[b]; d != NIL; d = r->dg[d].hnext)
		if (memcmp(&r->dg[d].k, k, sizeof(*k)) == 0)
			return d;
	if (r->dg_free == NIL) {
		/* full: the oldest datagram in progress makes room */
		dg_unlink(r, oldest(r, NIL), true);
		r->st.evicted++;
	}
	int32_t d = r->dg_free;
	struct rdg *g = &r->dg[d];
	r->dg_free = g->hnext;
	memset(g, 0, sizeof(*g));
	g->k = *k;
	g->t0 = now;
	g->head = g->tail = g->hint = NIL;
	g->used = 1;
	g->hnext = r->bucket[b];
	r->bucket[b] = d;
	int fam = k->v6;
	g->anext = NIL;
	g->aprev = r->age_tail[fam];
	if (g->aprev != NIL)
		r->dg[g->aprev].anext = d;
	else
		r->age_head[fam] = d;
	r->age_tail[fam] = d;
	r->n_dg++;
	return d;
}

enum reasm_res reasm_add(struct reasm *r, const struct reasm_key *k, uint32_t off, uint32_t len,
			 bool more, unsigned fl, uint16_t ip_len, uint16_t hdr_len, void *pkt,
			 uint16_t data_off, uint64_t now, uint32_t *dg)
{
	bool v6 = k->v6;
	uint32_t end = off + len;
	if (off > IP_MAXPACKET || len > IP_MAXPACKET || (v6 && end > IP_MAXPACKET)) {
		r->st.bad++;
		return REASM_BAD;
	}
	int32_t d = dg_find(r, k, now);
	struct rdg *g = &r->dg[d];
	/* IPv4 discards the datagram on an inconsistent fragment
	 * (ip_frag_queue's discard_qp); IPv6 drops the fragment
	 * (nf_ct_frag6_queue), except for overlaps and odd lengths */
	bool kill = !v6;
	if (!more) {
		if (end < g->end || (g->last_in && end != g->end))
			goto inconsistent;
		g->last_in = 1;
		g->end = end;
	} else {
		if (end & 7) {
			if (v6) {
				/* the kernel discards the datagram and lets the
				 * fragment go on unreassembled (INVALID to the
				 * tracker) */
				dg_unlink(r, d, true);
				r->st.bad++;
				return REASM_PASS;
			}
			end &= ~7u; /* IPv4: the kernel cuts the odd tail */
			len = end - off;
		}
		if (end > g->end) {
			if (g->last_in)
				goto inconsistent;
			g->end = end;
		}
	}
	if (end <= off)
		goto inconsistent;
	/* where it goes: after prev (NIL: at the head). In order (the usual
	 * case) it goes at the tail; after the last one inserted, the walk
	 * starts there (fragments sent last first, then in order) */
	int32_t prev = NIL;
	if (g->tail != NIL && off >= r->fr[g->tail].off + r->fr[g->tail].len) {
		prev = g->tail;
	} else {
		uint32_t run_s = 0, run_e = 0;
		int32_t f = g->head;
		if (g->hint != NIL && off >= r->fr[g->hint].off + r->fr[g->hint].len) {
			prev = g->hint;
			f = r->fr[prev].next;
			run_s = r->fr[prev].off; /* the run may start earlier: <= off anyway */
			run_e = r->fr[prev].off + r->fr[prev].len;
		}
		for (; f != NIL; prev = f, f = r->fr[f].next) {
			const struct rfrag *F = &r->fr[f];
			if (prev == NIL || F->off != run_e)
				run_s = F->off;
			run_e = F->off + F->len;
			if (end <= F->off)
				break;
			if (off < F->off + F->len) {
				/* it meets F: inside F's run of contiguous fragments
				 * it is a duplicate, else an overlap */
				uint32_t re = run_e;
				for (int32_t c = F->next; c != NIL && r->fr[c].off == re; c = r->fr[c].next)
					re += r->fr[c].len;
				if (off >= run_s && end <= re) {
					r->st.dup++;
					return REASM_DUP;
				}
				kill = true;
				goto inconsistent;
			}
		}
	}
	if (g->n == REASM_MAX_PER_DG) {
		dg_unlink(r, d, true);
		r->st.too_many++;
		return REASM_OVERLAP;
	}
	if (off == 0)
		g->hdr_len = hdr_len;
	uint8_t ecn = (uint8_t)(g->ecn | 1u << (fl & REASM_F_ECN_MASK));
	if (g->last_in && g->covered + len == g->end && ecn_table[ecn] == 0xff) {
		/* complete, but ECN-capable and not-ECT fragments mixed */
		dg_unlink(r, d, true);
		r->st.ecn++;
		return REASM_OVERLAP;
	}
	if (g->last_in && g->covered + len == g->end) {
		/* it completes the datagram (so the first fragment is there):
		 * one longer than an IP packet can be is dropped whole, as the
		 * kernel's "oversized" check at reassembly does (IPv6: without
		 * the fragment header) */
		uint32_t size = (v6 ? g->hdr_len - 48u : g->hdr_len) + g->end;
		if (size > IP_MAXPACKET || (v6 && g->hdr_len < 48)) {
			dg_unlink(r, d, true);
			r->st.oversize++;
			return REASM_OVERLAP;
		}
	}
	if (r->frag_free == NIL) {
		/* all records held: older datagrams make room */
		int32_t o;
		while (r->frag_free == NIL && (o = oldest(r, d)) != NIL) {
			dg_unlink(r, o, true);
			r->st.evicted++;
		}
		if (r->frag_free == NIL) {
			/* this datagram alone holds them all */
			dg_unlink(r, d, true);
			r->st.evicted++;
			return REASM_BAD;
		}
		/* prev is one of d's own records: still valid */
	}
	int32_t f = r->frag_free;
	struct rfrag *F = &r->fr[f];
	r->frag_free = F->next;
	r->n_frags++;
	F->pkt = pkt;
	F->off = off;
	F->len = len;
	F->data_off = data_off;
	if (prev == NIL) {
		F->next = g->head;
		g->head = f;
	} else {
		F->next = r->fr[prev].next;
		r->fr[prev].next = f;
	}
	if (F->next == NIL)
		g->tail = f;
	g->covered += len;
	g->n++;
	g->hint = f;
	if (ip_len > g->frag_max)
		g->frag_max = ip_len;
	if ((fl & REASM_F_DF) && ip_len > g->df_max)
		g->df_max = ip_len;
	g->ecn = ecn;
	if (g->last_in && g->covered == g->end) {
		r->st.done++;
		*dg = (uint32_t)d;
		return REASM_DONE;
	}
	return REASM_HELD;

inconsistent:
	if (kill) {
		bool empty = g->head == NIL;
		dg_unlink(r, d, true);
		if (!empty) {
			r->st.overlap++;
			return REASM_OVERLAP;
		}
	} else if (g->head == NIL) {
		dg_unlink(r, d, false);
	}
	r->st.bad++;
	return REASM_BAD;
}

uint32_t reasm_total(const struct reasm *r, uint32_t dg)
{
	return r->dg[dg].end;
}

uint16_t reasm_frag_max(const struct reasm *r, uint32_t dg)
{
	return r->dg[dg].frag_max;
}

bool reasm_df(const struct reasm *r, uint32_t dg)
{
	return r->dg[dg].df_max != 0 && r->dg[dg].df_max == r->dg[dg].frag_max;
}

uint8_t reasm_ecn(const struct reasm *r, uint32_t dg)
{
	return ecn_table[r->dg[dg].ecn & 15];
}

int32_t reasm_first(const struct reasm *r, uint32_t dg)
{
	return r->dg[dg].head;
}

int32_t reasm_next(const struct reasm *r, int32_t f)
{
	return r->fr[f].next;
}

void reasm_frag(const struct reasm *r, int32_t f, void **pkt, uint32_t *off, uint32_t *len,
		uint16_t *data_off)
{
	const struct rfrag *F = &r->fr[f];
	*pkt = F->pkt;
	*off = F->off;
	*len = F->len;
	*data_off = F->data_off;
}

void reasm_release(struct reasm *r, uint32_t dg)
{
	dg_unlink(r, (int32_t)dg, false);
}

unsigned reasm_expire(struct reasm *r, uint64_t now, unsigned budget)
{
	unsigned n = 0;
	for (int fam = 0; fam < 2; fam++) {
		int32_t d;
		while (n < budget && (d = r->age_head[fam]) != NIL &&
		       now - r->dg[d].t0 >= r->timeout[fam]) {
			dg_unlink(r, d, true);
			r->st.timeout++;
			n++;
		}
	}
	return n;
}

void reasm_destroy(struct reasm *r)
{
	if (r == NULL)
		return;
	for (int fam = 0; fam < 2; fam++)
		while (r->age_head[fam] != NIL)
			dg_unlink(r, r->age_head[fam], true);
	r->free_fn(r);
}

const struct reasm_stats *reasm_stats(const struct reasm *r)
{
	return &r->st;
}

uint32_t reasm_held_frags(const struct reasm *r)
{
	return r->n_frags;
}

uint32_t reasm_held_dgrams(const struct reasm *r)
{
	return r->n_dg;
}
