/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_limit: connlimit's counts. See ct_limit.h.
 */
#include <string.h>

#include "ct_limit.h"

#define PROBES 32 /* key slots looked at before giving up */

size_t ct_limit_mem(uint32_t nkeys, uint32_t nmem)
{
	uint32_t n = 1;
	while (n < nkeys)
		n <<= 1;
	return sizeof(struct ct_limit) + (size_t)n * sizeof(struct ct_limit_key) +
		(size_t)nmem * sizeof(struct ct_limit_member);
}

struct ct_limit *ct_limit_create(uint32_t nkeys, uint32_t nmem, void *(*alloc)(size_t),
	void (*free_fn)(void *))
{
	uint32_t n = 1;
	while (n < nkeys)
		n <<= 1;
	if (nmem == 0 || nmem == CT_NIL)
		return NULL;
	struct ct_limit *l = alloc(sizeof(*l));
	if (l == NULL)
		return NULL;
	l->free_fn = free_fn;
	l->k = alloc((size_t)n * sizeof(*l->k));
	l->m = alloc((size_t)nmem * sizeof(*l->m));
	if (l->k == NULL || l->m == NULL) {
		ct_limit_destroy(l);
		return NULL;
	}
	l->nkeys = n;
	l->nmem = nmem;
	for (uint32_t i = 0; i < nmem; i++)
		l->m[i].next = i + 1 < nmem ? i + 1 : CT_NIL;
	l->free = 0;
	for (uint32_t i = 0; i < n; i++)
		l->k[i].head = CT_NIL;
	return l;
}

void ct_limit_destroy(struct ct_limit *l)
{
	if (l == NULL)
		return;
	l->free_fn(l->k);
	l->free_fn(l->m);
	l->free_fn(l);
}

static uint32_t key_hash(uint16_t match, uint8_t fam, const uint32_t k[4], uint16_t zone)
{
	uint32_t h = 0x811c9dc5u ^ ((uint32_t)match << 8 | fam) ^ ((uint32_t)zone * 0x01000193u);
	for (int i = 0; i < 4; i++) {
		h ^= k[i];
		h *= 0x9e3779b1u;
		h ^= h >> 16;
	}
	return h;
}

/* ---- the owner's writes, under the slot's sequence counter ---- */

static inline void wbegin(struct ct_limit_key *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void wend(struct ct_limit_key *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static inline void publish(struct ct_limit_key *s, uint32_t count)
{
	wbegin(s);
	__atomic_store_n(&s->count, count, __ATOMIC_RELAXED);
	if (count == 0)
		__atomic_store_n(&s->state, 2, __ATOMIC_RELAXED); /* deleted: probing goes on */
	wend(s);
}

/* Is member m still a live connection that counts? */
static bool alive(const struct ct_table *t, const struct ct_limit_member *m)
{
	if (m->idx >= t->max)
		return false;
	const struct ct_entry *e = &t->e[m->idx];
	bool cur = m->idx == t->pending; /* the packet at hand's, not confirmed yet */
	if (e->fam == 0 || (e->status & CT_S_DYING) || (!cur && !(e->status & CT_S_CONFIRMED)))
		return false;
	if (e->proto == 6 && (ct_tcp_state(e) == CT_TCP_TIME_WAIT || ct_tcp_state(e) == CT_TCP_CLOSE))
		return false; /* closing: no longer counted (nf_conncount's already_closed) */
	struct ct_tuple k;
	ct_entry_tuple(t, m->idx, 0, &k);
	return ct_hash(&k) == m->tag;
}

/* Walk slot s's list: drop the dead, count the living; *has: idx is there. */
static uint32_t walk(struct ct_limit *l, const struct ct_table *t, struct ct_limit_key *s,
	uint32_t idx, uint32_t tag, bool *has, unsigned *visited)
{
	uint32_t n = 0, *link = &s->head;
	*has = false;
	while (*link != CT_NIL) {
		struct ct_limit_member *m = &l->m[*link];
		(*visited)++;
		if (!alive(t, m)) {
			uint32_t dead = *link;
			*link = m->next;
			m->next = l->free;
			l->free = dead;
			continue;
		}
		if (m->idx == idx && m->tag == tag)
			*has = true;
		n++;
		link = &m->next;
	}
	return n;
}

uint32_t ct_limit_count(struct ct_limit *l, const struct ct_table *t, uint16_t match, uint8_t fam,
	const uint8_t key[16], uint16_t zone, uint32_t idx)
{
	uint32_t k[4];
	memcpy(k, key, 16);
	uint32_t h = key_hash(match, fam, k, zone), mask = l->nkeys - 1;
	struct ct_limit_key *s = NULL, *hole = NULL;
	for (uint32_t p = 0; p < PROBES && p < l->nkeys; p++) {
		struct ct_limit_key *c = &l->k[(h + p) & mask];
		if (c->state == 1 && c->match == match && c->fam == fam && c->zone == zone &&
		    memcmp(c->key, k, 16) == 0) {
			s = c;
			break;
		}
		if (c->state != 1 && hole == NULL)
			hole = c;
		if (c->state == 0)
			break;
	}
	uint32_t tag = 0;
	if (idx != CT_NIL) {
		struct ct_tuple o;
		ct_entry_tuple(t, idx, 0, &o);
		tag = ct_hash(&o);
	}
	bool has = false;
	unsigned visited = 0;
	uint32_t n = 0;
	if (s != NULL)
		n = walk(l, t, s, idx, tag, &has, &visited);
	if (idx == CT_NIL || has) {
		if (s != NULL)
			publish(s, n);
		return n;
	}
	/* add the connection */
	if (s == NULL) {
		if (hole == NULL) {
			l->full++;
			return UINT32_MAX;
		}
		s = hole;
		wbegin(s);
		s->match = match;
		s->fam = fam;
		s->zone = zone;
		memcpy(s->key, k, 16);
		s->count = 0;
		s->head = CT_NIL;
		__atomic_store_n(&s->state, 1, __ATOMIC_RELAXED);
		wend(s);
	}
	if (l->free == CT_NIL) {
		l->full++;
		publish(s, n);
		return UINT32_MAX;
	}
	uint32_t mi = l->free;
	struct ct_limit_member *m = &l->m[mi];
	l->free = m->next;
	m->idx = idx;
	m->tag = tag;
	m->next = s->head;
	s->head = mi;
	publish(s, n + 1);
	return n + 1;
}

uint32_t ct_limit_peek(const struct ct_limit *l, uint16_t match, uint8_t fam, const uint8_t key[16],
	uint16_t zone)
{
	uint32_t k[4];
	memcpy(k, key, 16);
	uint32_t h = key_hash(match, fam, k, zone), mask = l->nkeys - 1;
	for (uint32_t p = 0; p < PROBES && p < l->nkeys; p++) {
		const struct ct_limit_key *c = &l->k[(h + p) & mask];
		for (int tries = 0; tries < 8; tries++) {
			uint32_t s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
			if (s1 & 1)
				continue; /* being written: a few instructions */
			uint8_t state = __atomic_load_n(&c->state, __ATOMIC_RELAXED);
			uint16_t cm = __atomic_load_n(&c->match, __ATOMIC_RELAXED);
			uint8_t cf = __atomic_load_n(&c->fam, __ATOMIC_RELAXED);
			uint16_t cz = __atomic_load_n(&c->zone, __ATOMIC_RELAXED);
			uint32_t ck[4];
			for (int i = 0; i < 4; i++)
				ck[i] = __atomic_load_n(&c->key[i], __ATOMIC_RELAXED);
			uint32_t count = __atomic_load_n(&c->count, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) != s1)
				continue;
			if (state == 0)
				return 0;
			if (state == 1 && cm == match && cf == fam && cz == zone &&
			    memcmp(ck, k, 16) == 0)
				return count;
			break; /* another key: probe on */
		}
	}
	return 0;
}

void ct_limit_gc(struct ct_limit *l, const struct ct_table *t, unsigned budget)
{
	unsigned visited = 0;
	/* a few slots per call, used or not: a worker loop never scans the
	 * whole table (a sweep takes nkeys / 64 calls) */
	for (uint32_t i = 0; i < 64 && i < l->nkeys && visited < budget; i++) {
		struct ct_limit_key *s = &l->k[l->gc_key];
		l->gc_key = (l->gc_key + 1) & (l->nkeys - 1);
		if (s->state != 1)
			continue;
		bool has;
		uint32_t n = walk(l, t, s, CT_NIL, 0, &has, &visited);
		if (n != s->count)
			publish(s, n);
		visited++;
	}
}
