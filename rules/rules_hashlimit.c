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

/* One key's bucket, in the kernel's own terms (xt_hashlimit's rateinfo on
 * a 250 Hz kernel). w0 and w1 change together (16-byte compare-and-swap):
 * w0 the credit (packets: credits, RULES_HL_CPJ per jiffy; bytes: the
 * credit in the low half, the refills left, credit_cap, in the high
 * half), w1 the slot word the entry was published with (high half) and
 * the jiffy of its last recalculation (low half, rateinfo.prev). */
struct entry {
	uint64_t w0;
	uint64_t w1;
	uint32_t sv;   /* FREE/BUSY/LIVE (low 2 bits) and a version (atomic) */
	uint32_t hash;
	uint64_t last; /* the latest packet, microseconds (atomic): expiry */
	uint8_t key[];
};

#define REFS_MAX 8 /* programs using a table at once (live, retired, being built) */

struct rules_hl {
	char name[RULES_HL_NAME_MAX + 1];
	uint8_t fam, bytes, rate_match;
	uint32_t max;
	/* the configs of the programs using the table, oldest first: the
	 * newest one's expiry and gc interval rule the collector and the
	 * listings (control thread) */
	struct rules_hl_cfg refs[REFS_MAX];
	uint32_t nrefs;
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

/* ---- the kernel's arithmetic (xt_hashlimit revision 3, HZ = 250) ---- */

#define HZ 250u
#define US_PER_JIFFY (1000000u / HZ)
/* CREDITS_PER_JIFFY: the power of two below 2^64 / (HZ * 86400) */
#define CPJ (1ull << 39)
/* CREDITS_PER_JIFFY_BYTES: the power of two below 2^32 / HZ */
#define CPJ_BYTES (1ull << 24)

static inline uint32_t jiffy(uint64_t now_us)
{
	return (uint32_t)(now_us / US_PER_JIFFY);
}

/* user2credits(): HZ * CPJ / XT_HASHLIMIT_SCALE_v2 credits per microsecond
 * of the rate's interval, wrapping as the kernel's u64 does */
static inline uint64_t user2credits(uint64_t user)
{
	return user * (HZ * CPJ / 1000000u);
}

static inline uint64_t byte_cost(const struct rules_hl_cfg *c)
{
	return (c->avg * (HZ * CPJ_BYTES)) >> 32; /* user2credits_byte() */
}

uint64_t rules_hl_cost(const struct rules_hl_cfg *c)
{
	return c->bytes ? byte_cost(c) : user2credits(c->avg);
}

uint64_t rules_hl_cap(const struct rules_hl_cfg *c)
{
	return c->bytes ? RULES_HL_BYTE_FULL : user2credits(c->avg * c->burst);
}

/* rateinfo_init() as the pair (w0, w1 without the version); rate-match:
 * no packets counted yet, the previous window not over the rate */
static inline uint64_t init_w0(const struct rules_hl_cfg *c)
{
	if (c->rate_match)
		return 0;
	return c->bytes ? (uint64_t)(uint32_t)c->burst << 32 | RULES_HL_BYTE_FULL : rules_hl_cap(c);
}

/* Rate-match's rate and burst (rateinfo_init, revision 3): packets or
 * bytes a second, and what a window may count before it is over */
static inline uint64_t rm_rate(const struct rules_hl_cfg *c)
{
	if (c->bytes) { /* user2rate_bytes() */
		uint64_t r = c->avg ? UINT32_MAX / c->avg : UINT32_MAX;
		return (r - 1) << 4;
	}
	return c->avg ? 1000000u / c->avg : 0; /* user2rate() */
}

static inline uint64_t rm_burst(const struct rules_hl_cfg *c)
{
	uint64_t rate = rm_rate(c);
	if (c->bytes)
		return c->burst ? c->burst * rate : rate;
	return c->burst + rate;
}

#define RM_WINDOW (1ull << 63) /* w0's top bit: prev_window; the rest current_rate */

/* rateinfo_recalc(): the credit at jiffy j */
static inline uint64_t recalc(const struct rules_hl_cfg *c, uint64_t w0, uint32_t prev, uint32_t j)
{
	int32_t delta = (int32_t)(j - prev);
	if (delta <= 0 || c->rate_match)
		return w0; /* this jiffy already (or a worker's clock a hair behind) */
	if (c->bytes) {
		uint64_t credit = (uint32_t)w0, refills = w0 >> 32;
		credit += CPJ_BYTES * (uint64_t)delta;
		if (credit > RULES_HL_BYTE_FULL)
			credit = RULES_HL_BYTE_FULL;
		return refills << 32 | credit;
	}
	uint64_t credit = w0 + (uint64_t)delta * CPJ, cap = rules_hl_cap(c);
	return credit > cap ? cap : credit;
}

/* ---- tables (control thread) ---- */

struct rules_hl *rules_hl_get(const char *name, const struct rules_hl_cfg *c)
{
	if (strlen(name) > RULES_HL_NAME_MAX || c->max == 0 || c->max > RULES_HL_MAX_ENTRIES)
		return NULL;
	/* a table of that name, family, size and unit is the same table: its
	 * buckets carry over. Nothing else about it changes here, so that a
	 * program that is only checked (--test) or refused leaves the running
	 * one's table as it was. */
	for (struct rules_hl *t = tables; t != NULL; t = t->next)
		if (t->fam == c->fam && t->max == c->max && t->bytes == c->bytes &&
		    t->rate_match == c->rate_match && t->nrefs < REFS_MAX &&
		    strcmp(t->name, name) == 0) {
			t->refs[t->nrefs++] = *c;
			return t;
		}
	struct rules_hl *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	strcpy(t->name, name);
	t->fam = c->fam;
	t->bytes = c->bytes;
	t->rate_match = c->rate_match;
	t->max = c->max;
	t->refs[0] = *c;
	t->nrefs = 1;
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

void rules_hl_put(struct rules_hl *t, const struct rules_hl_cfg *c)
{
	if (t == NULL)
		return;
	/* this program's config leaves the list (the latest equal one) */
	for (uint32_t i = t->nrefs; i-- > 0;)
		if (memcmp(&t->refs[i], c, sizeof(*c)) == 0) {
			memmove(&t->refs[i], &t->refs[i + 1], (t->nrefs - i - 1) * sizeof(*c));
			break;
		}
	if (--t->nrefs > 0)
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

static inline const struct rules_hl_cfg *newest(const struct rules_hl *t)
{
	return &t->refs[t->nrefs - 1];
}

void rules_hl_info(const struct rules_hl *t, struct rules_hl_info *info)
{
	info->name = t->name;
	info->cfg = *newest(t);
	info->live = __atomic_load_n(&t->live, __ATOMIC_RELAXED);
	info->full = __atomic_load_n(&t->full, __ATOMIC_RELAXED);
}

static inline bool expired(uint64_t last, uint64_t now_us, uint32_t expire_ms)
{
	return now_us > last && now_us - last >= (uint64_t)expire_ms * 1000u;
}

/* ---- the workers' side ---- */

static struct entry *lookup(struct rules_hl *t, uint32_t h, const uint8_t *key, uint32_t *wp)
{
	for (uint32_t k = 0; k < PROBES; k++) {
		struct entry *e = slot(t, h + k);
		uint32_t w = word(e);
		if ((w & 3) != LIVE || e->hash != h || memcmp(e->key, key, t->klen) != 0)
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (word(e) == w) { /* the key read was this entry's */
			*wp = w;
			return e;
		}
	}
	return NULL;
}

/* Give up a slot we hold (busy, claimed from w): its pair gets a version
 * no charge holds, so a worker still charging the old entry fails. The
 * credit it had last (w0) is returned. */
static uint64_t release(struct rules_hl *t, struct entry *e, uint32_t w)
{
	uint32_t free_w = next_word(w, FREE);
	uint64_t o0 = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
	uint64_t o1 = __atomic_load_n(&e->w1, __ATOMIC_RELAXED);
	while (!cas16(&e->w0, &o0, &o1, 0, (uint64_t)free_w << 32))
		;
	__atomic_fetch_sub(&t->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->sv, free_w, __ATOMIC_RELEASE);
	return o0;
}

/* Two copies of one key, both from a full bucket: what was taken from the
 * withdrawn one (its last credit, gone) is taken from the one that stays
 * too, so the key gets its burst once. */
static void merge_into(struct entry *e, uint32_t w, uint64_t gone, const struct rules_hl_cfg *c)
{
	uint64_t full = c->bytes ? RULES_HL_BYTE_FULL : rules_hl_cap(c);
	uint64_t used = full - ((c->bytes ? (uint32_t)gone : gone) < full ? (c->bytes ? (uint32_t)gone : gone) : full);
	uint64_t o0 = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
	uint64_t o1 = __atomic_load_n(&e->w1, __ATOMIC_RELAXED);
	for (;;) {
		if ((uint32_t)(o1 >> 32) != w)
			return; /* that one went too */
		uint64_t credit = c->bytes ? (uint32_t)o0 : o0, n0;
		credit = credit > used ? credit - used : 0;
		if (c->bytes) {
			uint64_t r = o0 >> 32, rg = gone >> 32;
			n0 = (r < rg ? r : rg) << 32 | credit;
		} else {
			n0 = credit;
		}
		if (cas16(&e->w0, &o0, &o1, n0, o1))
			return;
	}
}

/* Withdraw the live entry whose word is w, if it still is; its credit
 * goes into keep (with word kw) when keep is given. */
static bool remove_entry(struct rules_hl *t, struct entry *e, uint32_t w, struct entry *keep,
	uint32_t kw, const struct rules_hl_cfg *c)
{
	if (!claim(e, w))
		return false;
	uint64_t gone = release(t, e, w);
	if (keep != NULL)
		merge_into(keep, kw, gone, c);
	return true;
}

/* A slot for a new key: a free one while the table has room (the kernel:
 * dsthash_alloc_init refuses once count reaches max, until its gc runs). */
static struct entry *insert(struct rules_hl *t, const struct rules_hl_cfg *c, uint32_t h,
	const uint8_t *key, uint64_t now, uint32_t *wp)
{
	struct entry *mine = NULL;
	uint32_t at = 0, mw = 0;
	if (__atomic_load_n(&t->live, __ATOMIC_RELAXED) >= c->max)
		return NULL;
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
	if (mine == NULL)
		return NULL; /* 32 slots in a row taken: as full */
	uint32_t live = next_word(mw, LIVE);
	/* the pair first, with the new version: rateinfo_init() */
	uint64_t o0 = __atomic_load_n(&mine->w0, __ATOMIC_RELAXED);
	uint64_t o1 = __atomic_load_n(&mine->w1, __ATOMIC_RELAXED);
	while (!cas16(&mine->w0, &o0, &o1, init_w0(c), (uint64_t)live << 32 | jiffy(now)))
		;
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
			/* theirs stays; ours goes (or went: they withdrew it) */
			remove_entry(t, mine, live, e, w, c);
			*wp = w;
			return e;
		}
		remove_entry(t, e, w, mine, live, c);
	}
	*wp = live;
	return mine;
}

/* Charge e (live with word w): 1 under, 0 over, -2 if e is no longer the
 * entry that was looked up. hashlimit_mt_common() on the pair: the credit
 * recalculated to this jiffy, then the packet's cost taken if there is
 * enough (byte mode: a refill first when there is not and refills are
 * left). */
static int charge(struct entry *e, uint32_t w, const struct rules_hl_cfg *c, uint32_t len,
	uint64_t now)
{
	uint32_t j = jiffy(now);
	uint64_t o0 = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
	uint64_t o1 = __atomic_load_n(&e->w1, __ATOMIC_RELAXED);
	int ret = 0;
	for (;;) {
		/* o0/o1 may be torn here: the swap checks them */
		if ((uint32_t)(o1 >> 32) != w)
			return -2;
		uint64_t n0 = recalc(c, o0, (uint32_t)o1, j);
		uint32_t prev = (int32_t)(j - (uint32_t)o1) > 0 ? j : (uint32_t)o1;
		if (c->rate_match) {
			/* rateinfo_recalc's rate-match window, then hashlimit_mt_common's
			 * count: the window is over once interval seconds have passed */
			int32_t delta = (int32_t)(j - (uint32_t)o1);
			uint64_t interval = (uint64_t)c->interval * HZ, cur = o0 & ~RM_WINDOW;
			bool win = (o0 & RM_WINDOW) != 0;
			prev = (uint32_t)o1;
			if (delta > 0 && (uint64_t)delta >= interval) {
				prev = j;
				win = cur * interval > (uint64_t)delta * rm_rate(c);
				cur = 0;
			}
			cur = (cur + (c->bytes ? len : 1)) & ~RM_WINDOW;
			ret = !win && cur <= rm_burst(c);
			n0 = cur | (win ? RM_WINDOW : 0);
		} else if (c->bytes) {
			uint64_t credit = (uint32_t)n0, refills = n0 >> 32;
			/* hashlimit_byte_cost(): 16-byte chunks, a second's credit at most */
			uint64_t need = ((uint64_t)(len >> 4) + 1) * byte_cost(c);
			if (need > RULES_HL_BYTE_FULL)
				need = RULES_HL_BYTE_FULL;
			if (credit < need && refills > 0) {
				refills--;
				credit = RULES_HL_BYTE_FULL;
			}
			ret = credit >= need;
			if (ret)
				credit -= need;
			n0 = refills << 32 | credit;
		} else {
			uint64_t cost = user2credits(c->avg);
			ret = n0 >= cost;
			if (ret)
				n0 -= cost;
		}
		/* always swapped, even unchanged: the swap is what checks that
		 * the pair was read whole */
		uint64_t n1 = (o1 & ~0xffffffffull) | prev;
		if (cas16(&e->w0, &o0, &o1, n0, n1))
			break;
	}
	/* every packet keeps its key alive, over the limit or not */
	uint64_t last = __atomic_load_n(&e->last, __ATOMIC_RELAXED);
	if (last < now)
		__atomic_store_n(&e->last, now, __ATOMIC_RELAXED);
	return ret;
}

int rules_hl_charge(struct rules_hl *t, const struct rules_hl_cfg *c, const uint8_t *key,
	uint32_t len, uint64_t now_us)
{
	uint32_t h = hash(t, key);
	for (unsigned attempt = 0; attempt < 16; attempt++) {
		uint32_t w = 0;
		struct entry *e = lookup(t, h, key, &w);
		if (e == NULL && (e = insert(t, c, h, key, now_us, &w)) == NULL) {
			__atomic_fetch_add(&t->full, 1, __ATOMIC_RELAXED);
			return -1;
		}
		int r = charge(e, w, c, len, now_us);
		if (r >= 0)
			return r;
		/* the entry went (collected, or a duplicate withdrawn) between
		 * the lookup and the charge: look again */
	}
	return 0; /* the slot changed hands 16 times in a row: over, never uncharged */
}

/* ---- control thread ---- */

void rules_hl_gc(uint64_t now_us, uint32_t budget)
{
	unsigned n = 0;
	for (struct rules_hl *t = tables; t != NULL; t = t->next)
		n++;
	if (n == 0)
		return;
	/* a share of the budget each, so a big table does not starve the others */
	uint32_t share = budget / n > 1024 ? budget / n : 1024;
	for (struct rules_hl *t = tables; t != NULL; t = t->next) {
		if (t->gc_cursor == 0 && now_us < t->gc_next_us)
			continue;
		uint32_t expire_ms = newest(t)->expire_ms;
		for (uint32_t left = share; left > 0 && t->gc_cursor < t->nslots; left--) {
			struct entry *e = slot(t, t->gc_cursor++);
			uint32_t w = word(e);
			/* the kernel's select_gc: expires (the last packet plus
			 * the expiry) reached */
			if ((w & 3) != LIVE ||
			    !expired(__atomic_load_n(&e->last, __ATOMIC_RELAXED), now_us, expire_ms))
				continue;
			if (!claim(e, w))
				continue;
			if (!expired(__atomic_load_n(&e->last, __ATOMIC_RELAXED), now_us, expire_ms)) {
				__atomic_store_n(&e->sv, w, __ATOMIC_RELEASE); /* a packet meanwhile */
				continue;
			}
			(void)release(t, e, w);
		}
		if (t->gc_cursor >= t->nslots) {
			t->gc_cursor = 0;
			t->gc_next_us = now_us + (uint64_t)newest(t)->gc_ms * 1000u;
		}
	}
}

void rules_hl_walk(const struct rules_hl *t, uint64_t now_us,
	void (*fn)(void *arg, const uint8_t *key, uint64_t expires_us, uint64_t credit,
		uint64_t refills),
	void *arg)
{
	const struct rules_hl_cfg *c = newest(t);
	for (uint32_t i = 0; i < t->nslots; i++) {
		const struct entry *e = slot(t, i);
		uint32_t w = word(e);
		if ((w & 3) != LIVE)
			continue;
		uint8_t key[RULES_HL_KEY_MAX];
		memcpy(key, e->key, t->klen);
		uint64_t w0 = __atomic_load_n(&e->w0, __ATOMIC_RELAXED);
		uint64_t w1 = __atomic_load_n(&e->w1, __ATOMIC_RELAXED);
		uint64_t last = __atomic_load_n(&e->last, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (word(e) != w || (uint32_t)(w1 >> 32) != w)
			continue; /* changed while read */
		/* as the kernel's listing: recalculated to now first */
		w0 = recalc(c, w0, (uint32_t)w1, jiffy(now_us));
		uint64_t exp = last + (uint64_t)c->expire_ms * 1000u;
		if (c->rate_match) /* the count of the window, and whether the last was over */
			fn(arg, key, exp > now_us ? exp - now_us : 0, w0 & ~RM_WINDOW, w0 >> 63);
		else
			fn(arg, key, exp > now_us ? exp - now_us : 0, c->bytes ? (uint32_t)w0 : w0,
			   c->bytes ? w0 >> 32 : 0);
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
