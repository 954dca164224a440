/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_recent: the lists of -m recent, shared by the workers without a
 * lock. See rules_recent.h.
 */
#include <stdlib.h>
#include <string.h>

#include "rules_recent.h"
#include "rp_cpu.h"

enum { FREE, BUSY, LIVE };
#define PROBES 16u /* slots looked at from an address's place */
#define MASK (RULES_RECENT_SLOTS - 1)

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

void (*rules_recent_test_published)(struct rules_recent *l, uint32_t place);

uint32_t rules_recent_place(uint8_t fam, const uint8_t *a)
{
	return hash(fam, a) & MASK;
}

static inline uint32_t word(const struct rules_recent_entry *e)
{
	return __atomic_load_n(&e->sv, __ATOMIC_ACQUIRE);
}

/* The word once its slot is not busy (a bounded wait: a slot is busy for
 * the few stores of a fill). */
static uint32_t settled(const struct rules_recent_entry *e)
{
	uint32_t w = __atomic_load_n(&e->sv, __ATOMIC_SEQ_CST);
	for (unsigned spin = 0; (w & 3) == BUSY && spin < 1024; spin++) {
		rp_cpu_relax();
		w = __atomic_load_n(&e->sv, __ATOMIC_SEQ_CST);
	}
	return w;
}

/* Claim a slot whose word is still w (-> busy, same version). */
static inline bool claim(struct rules_recent_entry *e, uint32_t w)
{
	return __atomic_compare_exchange_n(&e->sv, &w, (w & ~3u) | BUSY, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/* Leave busy (claimed from w) as state st, the version advanced. */
static inline void publish(struct rules_recent_entry *e, uint32_t w, uint32_t st)
{
	__atomic_store_n(&e->sv, (w & ~3u) + 4u + st, __ATOMIC_SEQ_CST);
}

static inline bool same_key(const struct rules_recent_entry *e, uint8_t fam, const uint8_t *a)
{
	return e->fam == fam && memcmp(e->addr, a, 16) == 0;
}

/* The live entry of (fam, a) around h whose TTL agrees (ttl 0 or its own
 * 0: any), and its word; NULL if none. */
static struct rules_recent_entry *lookup(struct rules_recent *l, uint32_t h, uint8_t fam,
	const uint8_t *a, uint8_t ttl, uint32_t *wp)
{
	for (uint32_t k = 0; k < PROBES; k++) {
		struct rules_recent_entry *e = &l->e[(h + k) & MASK];
		uint32_t w = word(e);
		if ((w & 3) != LIVE || !same_key(e, fam, a))
			continue;
		uint8_t et = __atomic_load_n(&e->ttl, __ATOMIC_RELAXED);
		if (ttl != 0 && et != 0 && et != ttl)
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (word(e) == w) { /* the key read was this entry's */
			*wp = w;
			return e;
		}
	}
	return NULL;
}

/* A hit time carries the version of the entry it was made for (high 24
 * bits; the time in milliseconds below): a hit that raced the slot's
 * reuse lands with the old version and is ignored by the new address. */
#define STAMP_T ((1ull << 40) - 1)
static inline uint64_t stamp(uint32_t w, uint64_t now_us)
{
	return (uint64_t)((w >> 2) & 0xffffff) << 40 | ((now_us / 1000) & STAMP_T);
}

static void hit(struct rules_recent_entry *e, uint32_t w, uint64_t now)
{
	uint64_t i = __atomic_fetch_add(&e->head, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->stamps[i % RULES_RECENT_STAMPS], stamp(w, now), __ATOMIC_RELAXED);
	__atomic_store_n(&e->last, now, __ATOMIC_RELAXED);
}

/* A slot we hold (busy, claimed from w) gets the address and its first
 * hit, stamped with the version it is published with. */
static void fill(struct rules_recent_entry *e, uint32_t w, uint8_t fam, const uint8_t *a,
	uint8_t ttl, uint64_t now)
{
	uint32_t live = (w & ~3u) + 4u + LIVE;
	e->fam = fam;
	__atomic_store_n(&e->ttl, ttl, __ATOMIC_RELAXED);
	memcpy(e->addr, a, 16);
	for (unsigned i = 0; i < RULES_RECENT_STAMPS; i++)
		__atomic_store_n(&e->stamps[i], i == 0 ? stamp(live, now) : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&e->last, now, __ATOMIC_RELAXED);
	__atomic_store_n(&e->head, 1, __ATOMIC_RELAXED);
}

/* Remove the entry whose word was w, if it still is. */
static bool remove_entry(struct rules_recent *l, struct rules_recent_entry *e, uint32_t w)
{
	if (!claim(e, w))
		return false; /* taken or changed meanwhile: not that entry any more */
	__atomic_fetch_sub(&l->live, 1, __ATOMIC_RELAXED);
	publish(e, w, FREE);
	return true;
}

/* Add (fam, a): a free slot while the list has room, else the least
 * recently seen address around h gives its slot. Then the neighbourhood
 * is looked at again: a copy another worker added at the same time in a
 * slot nearer the place wins, a copy farther is withdrawn. */
static void insert(struct rules_recent *l, uint32_t h, uint8_t fam, const uint8_t *a, uint8_t ttl,
	uint64_t now)
{
	struct rules_recent_entry *mine = NULL;
	uint32_t at = 0, mw = 0;
	if (__atomic_load_n(&l->live, __ATOMIC_RELAXED) < RULES_RECENT_ENTRIES)
		for (uint32_t k = 0; k < PROBES && mine == NULL; k++) {
			struct rules_recent_entry *e = &l->e[(h + k) & MASK];
			uint32_t w = word(e);
			if ((w & 3) == FREE && claim(e, w)) {
				mine = e;
				at = k;
				mw = w;
				__atomic_fetch_add(&l->live, 1, __ATOMIC_RELAXED);
			}
		}
	for (unsigned tries = 0; mine == NULL && tries < 8; tries++) {
		/* full (or no free slot near): the oldest around gives way */
		struct rules_recent_entry *old = NULL;
		uint32_t ow = 0;
		for (uint32_t k = 0; k < PROBES; k++) {
			struct rules_recent_entry *e = &l->e[(h + k) & MASK];
			uint32_t w = word(e);
			if ((w & 3) == LIVE && (old == NULL || __atomic_load_n(&e->last, __ATOMIC_RELAXED) <
								 __atomic_load_n(&old->last, __ATOMIC_RELAXED))) {
				old = e;
				ow = w;
				at = k;
			}
		}
		if (old != NULL && claim(old, ow)) {
			mine = old;
			mw = ow;
		}
	}
	if (mine == NULL)
		return; /* every slot around busy this instant: not added */
	fill(mine, mw, fam, a, ttl, now);
	publish(mine, mw, LIVE);
	uint32_t myw = (mw & ~3u) + 4u + LIVE;
	if (rules_recent_test_published != NULL)
		rules_recent_test_published(l, h & MASK);
	for (uint32_t k = 0; k < PROBES; k++) {
		if (k == at)
			continue;
		struct rules_recent_entry *e = &l->e[(h + k) & MASK];
		uint32_t w = settled(e);
		if ((w & 3) != LIVE || !same_key(e, fam, a))
			continue;
		if (k < at) { /* theirs stays: ours goes, its hit to theirs */
			if (remove_entry(l, mine, myw))
				hit(e, w, now);
			return;
		}
		if (remove_entry(l, e, w)) /* ours stays: theirs goes, its hit to ours */
			hit(mine, myw, now);
	}
}

bool rules_recent_match(struct rules_recent *l, uint8_t fam, const uint8_t *a, uint8_t ttl,
	uint8_t flags, uint32_t seconds, uint32_t hitcount, bool invert, uint64_t now_us)
{
	bool ret = invert;
	uint32_t h = hash(fam, a), w = 0;
	struct rules_recent_entry *e = lookup(l, h, fam, a, (flags & RULES_RECENT_TTL) ? ttl : 0, &w);
	if (e == NULL) {
		if (!(flags & RULES_RECENT_SET))
			return ret;
		insert(l, h, fam, a, ttl, now_us);
		return !ret;
	}
	if (flags & RULES_RECENT_SET) {
		ret = !ret;
	} else if (flags & RULES_RECENT_REMOVE) {
		remove_entry(l, e, w);
		return !ret;
	} else if (flags & (RULES_RECENT_CHECK | RULES_RECENT_UPDATE)) {
		uint64_t win = (uint64_t)seconds * 1000000u;
		uint64_t since = now_us > win ? now_us - win : 0;
		uint64_t since_ms = since / 1000 + (since % 1000 != 0); /* a stamp is whole ms */
		uint64_t ver = (w >> 2) & 0xffffff;
		uint32_t hits = 0;
		for (uint32_t i = 0; i < RULES_RECENT_STAMPS; i++) {
			uint64_t s = __atomic_load_n(&e->stamps[i], __ATOMIC_RELAXED);
			if (s == 0 || (s >> 40) != ver)
				continue; /* no hit there, or another address's */
			if (seconds && (s & STAMP_T) < since_ms)
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
				struct rules_recent_entry *o = &l->e[(h + k) & MASK];
				uint32_t ow = word(o);
				if ((o == e && keep) || (ow & 3) != LIVE ||
				    __atomic_load_n(&o->last, __ATOMIC_RELAXED) >= since)
					continue;
				if (!claim(o, ow))
					continue;
				if (__atomic_load_n(&o->last, __ATOMIC_RELAXED) >= since) {
					/* hit meanwhile: left as it was */
					__atomic_store_n(&o->sv, ow, __ATOMIC_RELEASE);
					continue;
				}
				__atomic_fetch_sub(&l->live, 1, __ATOMIC_RELAXED);
				publish(o, ow, FREE);
				if (o == e)
					return ret;
			}
		}
	}
	if ((flags & RULES_RECENT_SET) || ((flags & RULES_RECENT_UPDATE) && ret)) {
		hit(e, w, now_us); /* a stale one carries the old version: ignored */
		if (word(e) == w)
			__atomic_store_n(&e->ttl, ttl, __ATOMIC_RELAXED);
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
		uint32_t w = word(e);
		if ((w & 3) != LIVE)
			continue;
		uint8_t fam = e->fam, ttl = __atomic_load_n(&e->ttl, __ATOMIC_RELAXED), addr[16];
		memcpy(addr, e->addr, 16);
		uint64_t n = __atomic_load_n(&e->head, __ATOMIC_RELAXED);
		uint64_t last = __atomic_load_n(&e->last, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (word(e) != w)
			continue; /* changed while read */
		fn(arg, fam, addr, ttl, last, n < RULES_RECENT_STAMPS ? (uint32_t)n : RULES_RECENT_STAMPS);
	}
}

void rules_recent_flush(struct rules_recent *l)
{
	for (uint32_t i = 0; i < RULES_RECENT_SLOTS; i++) {
		uint32_t w = word(&l->e[i]);
		if ((w & 3) == LIVE)
			remove_entry(l, &l->e[i], w);
	}
}
