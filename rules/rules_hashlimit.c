/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_hashlimit: the tables of -m hashlimit, shared by the workers
 * without a lock. See rules_hashlimit.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "rules_hashlimit.h"
#include "rp_cpu.h"

enum { FREE, BUSY, LIVE };
#define PROBES 32u /* slots looked at from a key's place */

/* One key's bucket. tat and vr change together (16-byte compare-and-swap):
 * tat the time the credit is full again (packets: microseconds; bytes:
 * byte credits of the workers' clock, RULES_HL_BYTE_FULL a second), vr the
 * slot word the entry was published with (high half) and the refills left
 * (byte mode, low half). */
struct entry {
	uint64_t tat;
	uint64_t vr;
	uint32_t sv;   /* FREE/BUSY/LIVE (low 2 bits) and a version (atomic) */
	uint32_t hash;
	uint64_t last; /* the latest packet, microseconds (atomic) */
	uint8_t key[];
};

struct rules_hl {
	char name[RULES_HL_NAME_MAX + 1];
	struct rules_hl_cfg cfg; /* of the latest program: gc and listings */
	uint32_t refs;           /* programs using it (control thread) */
	bool current;            /* the one rules_hl_get() hands out for its name */
	uint32_t nslots, stride, klen;
	uint64_t seed;
	uint32_t live;           /* entries held (atomic) */
	uint64_t full;           /* new keys refused: no room (atomic) */
	uint64_t gc_next_us;
	uint32_t gc_cursor;
	uint8_t *slots;
	struct rules_hl *next;
};

static struct rules_hl *tables; /* every table a program uses (control thread) */

static inline struct entry *slot(const struct rules_hl *t, uint32_t i)
{
	return (struct entry *)(t->slots + (size_t)(i & (t->nslots - 1)) * t->stride);
}

static uint32_t hash(const struct rules_hl *t, const uint8_t *k)
{
	/* keyed by the table's random seed: a sender cannot aim keys at one
	 * neighbourhood without knowing it */
	uint64_t h = t->seed;
	unsigned i = 0;
	for (; i + 8 <= t->klen; i += 8) {
		uint64_t v;
		memcpy(&v, k + i, 8);
		h = (h ^ v) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	if (i < t->klen) { /* 12 and 36 bytes: 4 left */
		uint32_t v;
		memcpy(&v, k + i, 4);
		h = (h ^ v) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h >> 32);
}

static inline bool cas16(uint64_t *p, uint64_t *o0, uint64_t *o1, uint64_t n0, uint64_t n1)
{
#if defined(__x86_64__)
	bool ok;
	__asm__ volatile("lock cmpxchg16b %1"
			 : "=@ccz"(ok), "+m"(*(volatile unsigned __int128 *)p), "+a"(*o0), "+d"(*o1)
			 : "b"(n0), "c"(n1)
			 : "memory");
	return ok;
#else
	unsigned __int128 e = (unsigned __int128)*o1 << 64 | *o0;
	unsigned __int128 d = (unsigned __int128)n1 << 64 | n0;
	bool ok = __atomic_compare_exchange_n((unsigned __int128 *)p, &e, d, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST);
	*o0 = (uint64_t)e;
	*o1 = (uint64_t)(e >> 64);
	return ok;
#endif
}

static inline uint32_t word(const struct entry *e)
{
	return __atomic_load_n(&e->sv, __ATOMIC_ACQUIRE);
}

static inline bool claim(struct entry *e, uint32_t w)
{
	return __atomic_compare_exchange_n(&e->sv, &w, (w & ~3u) | BUSY, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline uint32_t next_word(uint32_t w, uint32_t st)
{
	return (w & ~3u) + 4u + st;
}

/* ---- tables (control thread) ---- */

struct rules_hl *rules_hl_get(const char *name, const struct rules_hl_cfg *c)
{
	if (strlen(name) > RULES_HL_NAME_MAX || c->max == 0 || c->max > RULES_HL_MAX_ENTRIES)
		return NULL;
	for (struct rules_hl *t = tables; t != NULL; t = t->next)
		if (t->current && t->cfg.fam == c->fam && strcmp(t->name, name) == 0) {
			if (t->cfg.max == c->max && t->cfg.bytes == c->bytes) {
				t->refs++;
				t->cfg = *c;
				return t;
			}
			t->current = false; /* its programs keep it until they go */
		}
	struct rules_hl *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	strcpy(t->name, name);
	t->cfg = *c;
	t->refs = 1;
	t->current = true;
	t->klen = rules_hl_keylen(c->fam);
	t->stride = (uint32_t)((sizeof(struct entry) + t->klen + 15) & ~(size_t)15);
	t->nslots = 64;
	while (t->nslots < 2 * c->max)
		t->nslots <<= 1;
	/* calloc: a large array is mapped on demand, so memory follows use */
	t->slots = calloc(t->nslots, t->stride);
	if (t->slots == NULL || ((uintptr_t)t->slots & 15) != 0) {
		free(t->slots);
		free(t);
		return NULL;
	}
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x2545f4914f6cdd1dull;
	t->next = tables;
	tables = t;
	return t;
}

void rules_hl_put(struct rules_hl *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	for (struct rules_hl **pp = &tables; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t->slots);
	free(t);
}

const struct rules_hl *rules_hl_at(unsigned i)
{
	const struct rules_hl *t = tables;
	while (t != NULL && i-- > 0)
		t = t->next;
	return t;
}

void rules_hl_info(const struct rules_hl *t, struct rules_hl_info *info)
{
	info->name = t->name;
	info->cfg = t->cfg;
	info->live = __atomic_load_n(&t->live, __ATOMIC_RELAXED);
	info->full = __atomic_load_n(&t->full, __ATOMIC_RELAXED);
}

/* ---- time ---- */

/* The workers' clock in byte credits (a second: RULES_HL_BYTE_FULL). */
static inline uint64_t byte_time(uint64_t now_us)
{
	return now_us / 1000000u * RULES_HL_BYTE_FULL +
		now_us % 1000000u * RULES_HL_BYTE_FULL / 1000000u;
}

static inline bool expired(uint64_t last, uint64_t now_us, uint32_t expire_ms)
{
	return now_us > last && now_us - last >= (uint64_t)expire_ms * 1000u;
}

/* ---- the workers' side ---- */

static struct entry *lookup(struct rules_hl *t, uint32_t h, const uint8_t *key, uint32_t *wp,
	uint32_t *at)
{
	for (uint32_t k = 0; k < PROBES; k++) {
		struct entry *e = slot(t, h + k);
		uint32_t w = word(e);
		if ((w & 3) != LIVE || e->hash != h || memcmp(e->key, key, t->klen) != 0)
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (word(e) == w) { /* the key read was this entry's */
			*wp = w;
			*at = k;
			return e;
		}
	}
	return NULL;
}

/* Give up a slot we hold (busy, claimed from w). */
static void release(struct rules_hl *t, struct entry *e, uint32_t w)
{
	__atomic_fetch_sub(&t->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->sv, next_word(w, FREE), __ATOMIC_RELEASE);
}

/* Withdraw the live entry whose word is w, if it still is. */
static bool remove_entry(struct rules_hl *t, struct entry *e, uint32_t w)
{
	if (!claim(e, w))
		return false;
	release(t, e, w);
	return true;
}

/* A slot for a new key: a free one while the table has room, else an
 * entry that has expired (the kernel's gc would have removed it). */
static struct entry *insert(struct rules_hl *t, const struct rules_hl_cfg *c, uint32_t h,
	const uint8_t *key, uint64_t now, uint32_t *wp)
{
	struct entry *mine = NULL;
	uint32_t at = 0, mw = 0;
	if (__atomic_load_n(&t->live, __ATOMIC_RELAXED) < c->max)
		for (uint32_t k = 0; k < PROBES && mine == NULL; k++) {
			struct entry *e = slot(t, h + k);
			uint32_t w = word(e);
			if ((w & 3) == FREE && claim(e, w)) {
				__atomic_fetch_add(&t->live, 1, __ATOMIC_RELAXED);
				mine = e;
				mw = w;
				at = k;
			}
		}
	for (uint32_t k = 0; k < PROBES && mine == NULL; k++) {
		struct entry *e = slot(t, h + k);
		uint32_t w = word(e);
		if ((w & 3) != LIVE || !expired(__atomic_load_n(&e->last, __ATOMIC_RELAXED), now, c->expire_ms))
			continue;
		if (!claim(e, w))
			continue;
		if (!expired(__atomic_load_n(&e->last, __ATOMIC_RELAXED), now, c->expire_ms)) {
			__atomic_store_n(&e->sv, w, __ATOMIC_RELEASE); /* used meanwhile: left */
			continue;
		}
		mine = e;
		mw = w;
		at = k;
	}
	if (mine == NULL)
		return NULL;
	uint32_t live = next_word(mw, LIVE);
	/* the version first: a worker still charging the slot's previous
	 * key fails its swap from here on */
	__atomic_store_n(&mine->vr, (uint64_t)live << 32 | (c->bytes ? (uint32_t)c->burst : 0),
			 __ATOMIC_SEQ_CST);
	/* a full bucket: its time is now or before (0), burst refills */
	__atomic_store_n(&mine->tat, 0, __ATOMIC_RELAXED);
	memcpy(mine->key, key, t->klen);
	mine->hash = h;
	__atomic_store_n(&mine->last, now, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->sv, live, __ATOMIC_SEQ_CST);
	/* two workers adding the same key at once: the copy nearer the key's
	 * place stays, the other is withdrawn */
	for (uint32_t k = 0; k < PROBES; k++) {
		if (k == at)
			continue;
		struct entry *e = slot(t, h + k);
		uint32_t w = __atomic_load_n(&e->sv, __ATOMIC_SEQ_CST);
		for (unsigned spin = 0; (w & 3) == BUSY && spin < 1024; spin++) {
			rp_cpu_relax();
			w = __atomic_load_n(&e->sv, __ATOMIC_SEQ_CST);
		}
		if ((w & 3) != LIVE || e->hash != h || memcmp(e->key, key, t->klen) != 0)
			continue;
		if (k < at) {
			if (remove_entry(t, mine, live)) {
				*wp = w;
				return e;
			}
			break;
		}
		remove_entry(t, e, w);
	}
	*wp = live;
	return mine;
}

/* Charge e (live with word w): 1 under, 0 over, -2 if e is no longer the
 * entry that was looked up. */
static int charge(struct rules_hl *t, struct entry *e, uint32_t w, const struct rules_hl_cfg *c,
	uint32_t len, uint64_t now)
{
	(void)t;
	uint64_t o0 = __atomic_load_n(&e->tat, __ATOMIC_RELAXED);
	uint64_t o1 = __atomic_load_n(&e->vr, __ATOMIC_RELAXED);
	uint64_t last = __atomic_load_n(&e->last, __ATOMIC_RELAXED);
	bool fresh = expired(last, now, c->expire_ms);
	int ret = 1;
	for (unsigned tries = 0; tries < 64; tries++) {
		/* o0/o1 may be torn here: the swap checks them */
		if ((uint32_t)(o1 >> 32) != w)
			return -2;
		uint64_t tat = fresh ? 0 : o0, n0, n1 = o1;
		if (!c->bytes) {
			uint64_t cap = c->avg * c->burst, base = tat > now ? tat : now;
			if (base - now + c->avg > cap) {
				ret = 0; /* not enough credit: nothing changes */
				break;
			}
			n0 = base + c->avg;
		} else {
			uint64_t tnow = byte_time(now), base = tat > tnow ? tat : tnow;
			uint64_t refills = fresh ? (uint32_t)c->burst : (uint32_t)o1;
			/* xt_hashlimit's hashlimit_byte_cost: 16-byte chunks at
			 * the rate's cost, a second's credit at most */
			uint64_t cost = (c->avg * RULES_HL_BYTE_FULL) >> 32;
			uint64_t need = ((uint64_t)(len >> 4) + 1) * cost;
			if (need > RULES_HL_BYTE_FULL)
				need = RULES_HL_BYTE_FULL;
			if (RULES_HL_BYTE_FULL - (base - tnow) < need && refills > 0) {
				refills--; /* the credit filled again, once of burst */
				base = tnow;
			}
			if (RULES_HL_BYTE_FULL - (base - tnow) < need) {
				ret = 0;
				if (!(fresh || refills != (uint32_t)o1))
					break;
				n0 = base; /* over, but the refills and expiry still change */
			} else {
				n0 = base + need;
			}
			n1 = (o1 & ~0xffffffffull) | refills;
		}
		if (cas16(&e->tat, &o0, &o1, n0, n1))
			break;
		fresh = false; /* someone charged meanwhile: from what they left */
		ret = 1;
	}
	/* every packet keeps its key alive, over the limit or not */
	if (last < now)
		__atomic_store_n(&e->last, now, __ATOMIC_RELAXED);
	return ret;
}

int rules_hl_charge(struct rules_hl *t, const struct rules_hl_cfg *c, const uint8_t *key,
	uint32_t len, uint64_t now_us)
{
	uint32_t h = hash(t, key);
	for (unsigned attempt = 0; attempt < 4; attempt++) {
		uint32_t w = 0, at = 0;
		struct entry *e = lookup(t, h, key, &w, &at);
		if (e == NULL && (e = insert(t, c, h, key, now_us, &w)) == NULL) {
			__atomic_fetch_add(&t->full, 1, __ATOMIC_RELAXED);
			return -1;
		}
		int r = charge(t, e, w, c, len, now_us);
		if (r >= 0)
			return r;
	}
	return 1; /* the slot changed hands four times in a row: let it pass */
}

/* ---- control thread ---- */

void rules_hl_gc(uint64_t now_us, uint32_t budget)
{
	for (struct rules_hl *t = tables; t != NULL && budget > 0; t = t->next) {
		if (t->gc_cursor == 0 && now_us < t->gc_next_us)
			continue;
		while (budget > 0 && t->gc_cursor < t->nslots) {
			struct entry *e = slot(t, t->gc_cursor++);
			budget--;
			uint32_t w = word(e);
			if ((w & 3) != LIVE ||
			    !expired(__atomic_load_n(&e->last, __ATOMIC_RELAXED), now_us, t->cfg.expire_ms))
				continue;
			if (!claim(e, w))
				continue;
			if (!expired(__atomic_load_n(&e->last, __ATOMIC_RELAXED), now_us, t->cfg.expire_ms)) {
				__atomic_store_n(&e->sv, w, __ATOMIC_RELEASE);
				continue;
			}
			release(t, e, w);
		}
		if (t->gc_cursor >= t->nslots) {
			t->gc_cursor = 0;
			t->gc_next_us = now_us + (uint64_t)t->cfg.gc_ms * 1000u;
		}
	}
}

void rules_hl_walk(const struct rules_hl *t, uint64_t now_us,
	void (*fn)(void *arg, const uint8_t *key, uint64_t expires_us, uint64_t credit,
		uint64_t refills),
	void *arg)
{
	const struct rules_hl_cfg *c = &t->cfg;
	for (uint32_t i = 0; i < t->nslots; i++) {
		const struct entry *e = slot(t, i);
		uint32_t w = word(e);
		if ((w & 3) != LIVE)
			continue;
		uint8_t key[RULES_HL_KEY_MAX];
		memcpy(key, e->key, t->klen);
		uint64_t tat = __atomic_load_n(&e->tat, __ATOMIC_RELAXED);
		uint64_t vr = __atomic_load_n(&e->vr, __ATOMIC_RELAXED);
		uint64_t last = __atomic_load_n(&e->last, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (word(e) != w || expired(last, now_us, c->expire_ms))
			continue; /* changed while read, or gone for the matches */
		uint64_t exp = last + (uint64_t)c->expire_ms * 1000u;
		uint64_t credit;
		if (c->bytes) {
			uint64_t tnow = byte_time(now_us);
			credit = RULES_HL_BYTE_FULL - (tat > tnow ? tat - tnow : 0);
		} else {
			uint64_t cap = c->avg * c->burst;
			uint64_t ahead = tat > now_us ? tat - now_us : 0;
			credit = ahead < cap ? cap - ahead : 0;
		}
		fn(arg, key, exp > now_us ? exp - now_us : 0, credit, c->bytes ? (uint32_t)vr : 0);
	}
}

void rules_hl_reset_all(void)
{
	for (struct rules_hl *t = tables; t != NULL; t = t->next) {
		memset(t->slots, 0, (size_t)t->nslots * t->stride);
		t->live = 0;
		t->full = 0;
	}
}
