/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_recent: the lists of -m recent, shared by the workers without a
 * lock. See rules_recent.h.
 */
#include <stdlib.h>
#include <string.h>

#include "rules_recent.h"

enum { FREE, BUSY, LIVE };
#define PROBES 16u /* slots looked at from an address's place */

static struct rules_recent *lists[RULES_RECENT_LISTS];
static unsigned n_lists;

const struct rules_recent *rules_recent_at(unsigned i)
{
	return i < n_lists ? lists[i] : NULL;
}

struct rules_recent *rules_recent_find(const char *name)
{
	for (unsigned i = 0; i < n_lists; i++)
		if (strcmp(lists[i]->name, name) == 0)
			return lists[i];
	return NULL;
}

struct rules_recent *rules_recent_get(const char *name)
{
	struct rules_recent *l = rules_recent_find(name);
	if (l != NULL || n_lists == RULES_RECENT_LISTS || strlen(name) > RULES_RECENT_NAME_MAX)
		return l;
	l = aligned_alloc(64, (sizeof(*l) + 63) & ~(size_t)63);
	if (l == NULL)
		return NULL;
	memset(l, 0, sizeof(*l));
	strcpy(l->name, name);
	lists[n_lists++] = l;
	return l;
}

void rules_recent_reset_all(void)
{
	for (unsigned i = 0; i < n_lists; i++)
		rules_recent_flush(lists[i]);
}

static uint32_t hash(uint8_t fam, const uint8_t *a)
{
	uint32_t h = 0x811c9dc5u ^ fam;
	for (unsigned i = 0; i < (fam == 4 ? 4u : 16u); i++)
		h = (h ^ a[i]) * 0x01000193u;
	return h ^ (h >> 16);
}

static inline bool claim(struct rules_recent_entry *e, uint32_t from)
{
	return __atomic_compare_exchange_n(&e->state, &from, BUSY, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline bool same_key(const struct rules_recent_entry *e, uint8_t fam, const uint8_t *a)
{
	return e->fam == fam && memcmp(e->addr, a, 16) == 0;
}

/* The live entry of (fam, a) around h whose TTL agrees (ttl 0 or its own
 * 0: any), NULL if none. The version read before and after the key makes
 * a slot being given to another address at that moment a miss. */
static struct rules_recent_entry *lookup(struct rules_recent *l, uint32_t h, uint8_t fam,
	const uint8_t *a, uint8_t ttl)
{
	for (uint32_t k = 0; k < PROBES; k++) {
		struct rules_recent_entry *e = &l->e[(h + k) & (RULES_RECENT_SLOTS - 1)];
		uint32_t v = __atomic_load_n(&e->version, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != LIVE || !same_key(e, fam, a))
			continue;
		if (ttl != 0 && e->ttl != 0 && e->ttl != ttl)
			continue;
		if (__atomic_load_n(&e->version, __ATOMIC_ACQUIRE) == v)
			return e;
	}
	return NULL;
}

static void hit(struct rules_recent_entry *e, uint64_t now)
{
	uint32_t i = __atomic_fetch_add(&e->head, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->stamps[i % RULES_RECENT_STAMPS], now, __ATOMIC_RELAXED);
	__atomic_store_n(&e->last, now, __ATOMIC_RELAXED);
}

/* A slot we hold (busy) gets the address and its first hit. */
static void fill(struct rules_recent_entry *e, uint8_t fam, const uint8_t *a, uint8_t ttl,
	uint64_t now)
{
	__atomic_fetch_add(&e->version, 1, __ATOMIC_RELEASE);
	e->fam = fam;
	e->ttl = ttl;
	memcpy(e->addr, a, 16);
	memset(e->stamps, 0, sizeof(e->stamps));
	e->stamps[0] = now;
	e->last = now;
	__atomic_store_n(&e->head, 1, __ATOMIC_RELAXED);
}

/* Give up a live slot we now hold (busy). */
static void release(struct rules_recent *l, struct rules_recent_entry *e)
{
	__atomic_fetch_add(&e->version, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&l->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->state, FREE, __ATOMIC_RELEASE);
}

static void remove_entry(struct rules_recent *l, struct rules_recent_entry *e)
{
	if (claim(e, LIVE))
		release(l, e);
}

/* Add (fam, a): a free slot while the list has room, else the least
 * recently seen address around h gives its slot. */
static void insert(struct rules_recent *l, uint32_t h, uint8_t fam, const uint8_t *a, uint8_t ttl,
	uint64_t now)
{
	struct rules_recent_entry *mine = NULL;
	uint32_t at = 0;
	if (__atomic_load_n(&l->live, __ATOMIC_RELAXED) < RULES_RECENT_ENTRIES)
		for (uint32_t k = 0; k < PROBES && mine == NULL; k++) {
			struct rules_recent_entry *e = &l->e[(h + k) & (RULES_RECENT_SLOTS - 1)];
			if (__atomic_load_n(&e->state, __ATOMIC_RELAXED) == FREE && claim(e, FREE)) {
				mine = e;
				at = k;
				__atomic_fetch_add(&l->live, 1, __ATOMIC_RELAXED);
			}
		}
	while (mine == NULL) {
		/* full (or no free slot near): the oldest around gives way */
		struct rules_recent_entry *old = NULL;
		for (uint32_t k = 0; k < PROBES; k++) {
			struct rules_recent_entry *e = &l->e[(h + k) & (RULES_RECENT_SLOTS - 1)];
			if (__atomic_load_n(&e->state, __ATOMIC_RELAXED) == LIVE &&
			    (old == NULL || e->last < old->last)) {
				old = e;
				at = k;
			}
		}
		if (old == NULL)
			return; /* all busy this instant: the address is not added */
		if (claim(old, LIVE))
			mine = old;
	}
	fill(mine, fam, a, ttl, now);
	__atomic_store_n(&mine->state, LIVE, __ATOMIC_SEQ_CST);
	/* another worker added the same address at the same time: the one
	 * nearer its place stays, the other gives way (and its hit goes to
	 * the one that stays) */
	for (uint32_t k = 0; k < at; k++) {
		struct rules_recent_entry *e = &l->e[(h + k) & (RULES_RECENT_SLOTS - 1)];
		if (__atomic_load_n(&e->state, __ATOMIC_SEQ_CST) == LIVE && same_key(e, fam, a)) {
			if (claim(mine, LIVE))
				release(l, mine);
			hit(e, now);
			return;
		}
	}
}

bool rules_recent_match(struct rules_recent *l, uint8_t fam, const uint8_t *a, uint8_t ttl,
	uint8_t flags, uint32_t seconds, uint32_t hitcount, bool invert, uint64_t now_us)
{
	bool ret = invert;
	uint32_t h = hash(fam, a);
	struct rules_recent_entry *e = lookup(l, h, fam, a, (flags & RULES_RECENT_TTL) ? ttl : 0);
	if (e == NULL) {
		if (!(flags & RULES_RECENT_SET))
			return ret;
		insert(l, h, fam, a, ttl, now_us);
		return !ret;
	}
	if (flags & RULES_RECENT_SET) {
		ret = !ret;
	} else if (flags & RULES_RECENT_REMOVE) {
		remove_entry(l, e);
		return !ret;
	} else if (flags & (RULES_RECENT_CHECK | RULES_RECENT_UPDATE)) {
		uint64_t win = (uint64_t)seconds * 1000000u;
		uint64_t since = now_us > win ? now_us - win : 0;
		uint32_t n = __atomic_load_n(&e->head, __ATOMIC_RELAXED), hits = 0;
		if (n > RULES_RECENT_STAMPS)
			n = RULES_RECENT_STAMPS;
		for (uint32_t i = 0; i < n; i++) {
			if (seconds && __atomic_load_n(&e->stamps[i], __ATOMIC_RELAXED) < since)
				continue;
			if (!hitcount || ++hits >= hitcount) {
				ret = !ret;
				break;
			}
		}
		if (flags & RULES_RECENT_REAP) {
			/* the kernel drops the list's oldest address if its last
			 * hit is out of the window; here: those around this one */
			bool keep = (flags & RULES_RECENT_UPDATE) && ret;
			for (uint32_t k = 0; k < PROBES; k++) {
				struct rules_recent_entry *o = &l->e[(h + k) & (RULES_RECENT_SLOTS - 1)];
				if ((o == e && keep) ||
				    __atomic_load_n(&o->state, __ATOMIC_RELAXED) != LIVE ||
				    __atomic_load_n(&o->last, __ATOMIC_RELAXED) >= since)
					continue;
				remove_entry(l, o);
				if (o == e)
					return ret;
			}
		}
	}
	if ((flags & RULES_RECENT_SET) || ((flags & RULES_RECENT_UPDATE) && ret)) {
		hit(e, now_us);
		e->ttl = ttl;
	}
	return ret;
}

void rules_recent_walk(const struct rules_recent *l,
	void (*fn)(void *arg, uint8_t fam, const uint8_t *addr, uint8_t ttl, uint64_t last,
		uint32_t hits),
	void *arg)
{
	for (uint32_t i = 0; i < RULES_RECENT_SLOTS; i++) {
		const struct rules_recent_entry *e = &l->e[i];
		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != LIVE)
			continue;
		uint32_t n = __atomic_load_n(&e->head, __ATOMIC_RELAXED);
		fn(arg, e->fam, e->addr, e->ttl, __atomic_load_n(&e->last, __ATOMIC_RELAXED),
		   n < RULES_RECENT_STAMPS ? n : RULES_RECENT_STAMPS);
	}
}

void rules_recent_flush(struct rules_recent *l)
{
	for (uint32_t i = 0; i < RULES_RECENT_SLOTS; i++)
		remove_entry(l, &l->e[i]);
}
