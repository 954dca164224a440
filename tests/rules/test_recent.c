/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_recent: the -m recent lists (rules/rules_recent.c) as xt_recent
 * answers: --set, --rcheck, --update, --remove, --seconds, --hitcount,
 * --rttl, --reap, inversion, a list full of addresses, and workers adding
 * and hitting the same addresses at once (threads).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules_recent.h"

#define S 1000000ull /* a second in microseconds */
static const uint8_t A[16] = { 10, 0, 0, 1 }, B[16] = { 10, 0, 0, 2 };

static bool m(struct rules_recent *l, const uint8_t *a, uint8_t ttl, uint8_t fl, uint32_t secs,
	uint32_t hits, bool inv, uint64_t now)
{
	return rules_recent_match(l, 4, a, ttl, fl, secs, hits, inv, now);
}

static void test_modes(void **st)
{
	(void)st;
	struct rules_recent *l = rules_recent_get("modes");
	assert_non_null(l);
	assert_ptr_equal(rules_recent_get("modes"), l); /* one list per name */
	uint64_t t = 1000 * S;
	/* nothing yet: rcheck and update miss, remove misses, set adds */
	assert_false(m(l, A, 64, RULES_RECENT_CHECK, 0, 0, false, t));
	assert_true(m(l, A, 64, RULES_RECENT_CHECK, 0, 0, true, t)); /* ! --rcheck */
	assert_false(m(l, A, 64, RULES_RECENT_UPDATE, 0, 0, false, t));
	assert_false(m(l, A, 64, RULES_RECENT_REMOVE, 0, 0, false, t));
	assert_true(m(l, A, 64, RULES_RECENT_SET, 0, 0, false, t));
	assert_true(m(l, A, 64, RULES_RECENT_CHECK, 0, 0, false, t));
	assert_false(m(l, B, 64, RULES_RECENT_CHECK, 0, 0, false, t));
	assert_false(m(l, A, 64, RULES_RECENT_SET, 0, 0, true, t)); /* ! --set: false, and set */
	/* --seconds: seen within the window */
	assert_true(m(l, A, 64, RULES_RECENT_CHECK, 10, 0, false, t + 5 * S));
	assert_false(m(l, A, 64, RULES_RECENT_CHECK, 10, 0, false, t + 11 * S));
	/* --update refreshes only when it matches: a quiet time is needed */
	assert_false(m(l, A, 64, RULES_RECENT_UPDATE, 10, 0, false, t + 11 * S));
	assert_false(m(l, A, 64, RULES_RECENT_CHECK, 10, 0, false, t + 12 * S));
	assert_true(m(l, A, 64, RULES_RECENT_SET, 0, 0, false, t + 20 * S));
	assert_true(m(l, A, 64, RULES_RECENT_UPDATE, 10, 0, false, t + 25 * S));
	assert_true(m(l, A, 64, RULES_RECENT_UPDATE, 10, 0, false, t + 34 * S)); /* refreshed at 25 */
	/* --remove */
	assert_true(m(l, A, 64, RULES_RECENT_REMOVE, 0, 0, false, t + 35 * S));
	assert_false(m(l, A, 64, RULES_RECENT_CHECK, 0, 0, false, t + 35 * S));
	assert_int_equal(l->live, 0);
}

/* The SSH brute-force pattern: --set, then --update --seconds 60
 * --hitcount 4: the fourth attempt within a minute and every one after
 * it (each refreshing) are caught; a minute of quiet and it starts over. */
static void test_hitcount(void **st)
{
	(void)st;
	struct rules_recent *l = rules_recent_get("ssh");
	uint64_t t = 5000 * S;
	unsigned caught = 0;
	for (unsigned i = 1; i <= 8; i++) {
		m(l, A, 64, RULES_RECENT_SET, 0, 0, false, t + i * S);
		bool c = m(l, A, 64, RULES_RECENT_UPDATE, 60, 4, false, t + i * S);
		assert_int_equal(c, i >= 4);
		caught += c;
	}
	assert_int_equal(caught, 5);
	/* hits older than the window do not count */
	uint64_t later = t + 200 * S;
	m(l, A, 64, RULES_RECENT_SET, 0, 0, false, later);
	assert_false(m(l, A, 64, RULES_RECENT_CHECK, 60, 2, false, later));
	assert_true(m(l, A, 64, RULES_RECENT_CHECK, 0, 2, false, later)); /* any time: all count */
	/* at most RULES_RECENT_STAMPS hits are kept */
	for (unsigned i = 0; i < 100; i++)
		m(l, B, 64, RULES_RECENT_SET, 0, 0, false, later + i);
	assert_true(m(l, B, 64, RULES_RECENT_CHECK, 0, RULES_RECENT_STAMPS, false, later + 100));
	assert_false(m(l, B, 64, RULES_RECENT_CHECK, 0, RULES_RECENT_STAMPS + 1, false, later + 100));
}

/* --rttl: an address set with one TTL is not found with another. */
static void test_rttl(void **st)
{
	(void)st;
	struct rules_recent *l = rules_recent_get("ttl");
	uint64_t t = 9000 * S;
	m(l, A, 64, RULES_RECENT_SET, 0, 0, false, t);
	assert_true(m(l, A, 64, RULES_RECENT_CHECK | RULES_RECENT_TTL, 0, 0, false, t));
	assert_false(m(l, A, 63, RULES_RECENT_CHECK | RULES_RECENT_TTL, 0, 0, false, t));
	assert_true(m(l, A, 63, RULES_RECENT_CHECK, 0, 0, false, t)); /* without --rttl: any */
}

/* --reap takes addresses out of the window away; a full list gives its
 * least recently seen address's slot to a new one. */
static void test_reap_and_full(void **st)
{
	(void)st;
	struct rules_recent *l = rules_recent_get("full");
	uint64_t t = 20000 * S;
	m(l, A, 64, RULES_RECENT_SET, 0, 0, false, t);
	m(l, B, 64, RULES_RECENT_SET, 0, 0, false, t + 100 * S);
	assert_int_equal(l->live, 2);
	/* B is checked with --reap 10 s at t + 105: B (in its window)
	 * stays */
	assert_true(m(l, B, 64, RULES_RECENT_CHECK | RULES_RECENT_REAP, 10, 0, false, t + 105 * S));
	assert_true(m(l, B, 64, RULES_RECENT_CHECK, 0, 0, false, t + 105 * S));
	/* A checked with --reap 10 s: out of its window, it goes */
	assert_false(m(l, A, 64, RULES_RECENT_CHECK | RULES_RECENT_REAP, 10, 0, false, t + 105 * S));
	assert_false(m(l, A, 64, RULES_RECENT_CHECK, 0, 0, false, t + 105 * S));
	/* an address checked with --reap out of its own window is removed */
	assert_false(m(l, B, 64, RULES_RECENT_CHECK | RULES_RECENT_REAP, 1, 0, false, t + 200 * S));
	assert_false(m(l, B, 64, RULES_RECENT_CHECK, 0, 0, false, t + 200 * S));
	rules_recent_flush(l);
	assert_int_equal(l->live, 0);
	/* 1000 addresses into a list of RULES_RECENT_ENTRIES: the newest are
	 * there, the list never holds more */
	uint8_t a[16] = { 192, 168 };
	for (unsigned i = 0; i < 1000; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		assert_true(m(l, a, 64, RULES_RECENT_SET, 0, 0, false, t + i));
		assert_true(l->live <= RULES_RECENT_ENTRIES);
	}
	assert_int_equal(l->live, RULES_RECENT_ENTRIES);
	a[2] = (uint8_t)(999 >> 8);
	a[3] = (uint8_t)999;
	assert_true(m(l, a, 64, RULES_RECENT_CHECK, 0, 0, false, t + 1000));
}

/* Workers at once: four threads add and hit the same 50 addresses; each
 * address ends up once in the list, with every hit counted (up to the
 * stamps kept). */
struct targ {
	struct rules_recent *l;
	unsigned id;
};
static void *worker(void *p)
{
	struct targ *a = p;
	uint8_t ad[16] = { 172, 16 };
	for (unsigned r = 0; r < 200; r++)
		for (unsigned i = 0; i < 50; i++) {
			ad[3] = (uint8_t)i;
			rules_recent_match(a->l, 4, ad, 64, RULES_RECENT_SET, 0, 0, false,
					   30000 * S + r * 50 + i);
		}
	return NULL;
}
static void test_threads(void **st)
{
	(void)st;
	struct rules_recent *l = rules_recent_get("threads");
	pthread_t th[4];
	struct targ ta[4];
	for (unsigned i = 0; i < 4; i++) {
		ta[i] = (struct targ){ l, i };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &ta[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(l->live, 50);
	unsigned found = 0;
	for (unsigned i = 0; i < RULES_RECENT_SLOTS; i++) {
		const struct rules_recent_entry *e = &l->e[i];
		if ((e->sv & 3) != 2)
			continue;
		found++;
		/* 800 hits, less those a copy withdrawn in a race held */
		assert_true(e->head >= 700);
	}
	assert_int_equal(found, 50);
}

/* Four threads add the same new address at the same instant, round after
 * round: one copy stays each time, and one --remove empties the list. */
static pthread_barrier_t bar;
static struct rules_recent *race_l;
static void *racer(void *p)
{
	(void)p;
	uint8_t ad[16] = { 198, 18 };
	for (unsigned r = 0; r < 3000; r++) {
		ad[2] = (uint8_t)(r >> 8);
		ad[3] = (uint8_t)r;
		pthread_barrier_wait(&bar);
		rules_recent_match(race_l, 4, ad, 64, RULES_RECENT_SET, 0, 0, false, 40000 * S + r);
		pthread_barrier_wait(&bar);
		if (p == NULL) { /* thread 0 checks and removes */
			unsigned copies = 0;
			for (unsigned i = 0; i < RULES_RECENT_SLOTS; i++)
				copies += (race_l->e[i].sv & 3) == 2 &&
					  memcmp(race_l->e[i].addr, ad, 16) == 0;
			assert_int_equal(copies, 1);
			assert_true(rules_recent_match(race_l, 4, ad, 64, RULES_RECENT_REMOVE, 0, 0,
						       false, 40000 * S + r));
			assert_false(rules_recent_match(race_l, 4, ad, 64, RULES_RECENT_CHECK, 0, 0,
							false, 40000 * S + r));
		}
		pthread_barrier_wait(&bar);
	}
	return NULL;
}
static void test_same_address_race(void **st)
{
	(void)st;
	race_l = rules_recent_get("race");
	pthread_barrier_init(&bar, NULL, 4);
	pthread_t th[4];
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, (void *)i), 0);
	for (unsigned i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(race_l->live, 0);
}

/* The race of two adds played step by step: a copy of the address
 * appears (another worker's) while ours is being published, once nearer
 * the address's place (ours gives way), once farther (theirs goes); one
 * copy is left, with both hits. */
static const uint8_t X[16] = { 203, 0, 113, 7 };
static unsigned copy_at;
static void plant_copy(struct rules_recent *l, uint32_t place)
{
	struct rules_recent_entry *e = &l->e[(place + copy_at) & (RULES_RECENT_SLOTS - 1)];
	uint32_t w = e->sv & ~3u;
	e->fam = 4;
	memcpy(e->addr, X, 16);
	e->ttl = 64;
	memset(e->stamps, 0, sizeof(e->stamps));
	e->stamps[0] = (uint64_t)(((w + 4u) >> 2) & 0xffffff) << 40 | 123456;
	e->head = 1;
	e->last = 123456000;
	__atomic_fetch_add(&l->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->sv, w + 4u + 2u, __ATOMIC_SEQ_CST); /* live */
}
static unsigned copies_of(const struct rules_recent *l, const uint8_t *a)
{
	unsigned c = 0;
	for (unsigned i = 0; i < RULES_RECENT_SLOTS; i++)
		c += (l->e[i].sv & 3) == 2 && memcmp(l->e[i].addr, a, 16) == 0;
	return c;
}
static void test_dedup_steps(void **st)
{
	(void)st;
	struct rules_recent *l = rules_recent_get("dedup");
	uint32_t place = rules_recent_place(4, X);
	for (unsigned round = 0; round < 2; round++) {
		rules_recent_flush(l);
		/* ours lands one slot on (the first is busy), theirs appears in
		 * the first (nearer) or the third (farther) */
		struct rules_recent_entry *first = &l->e[place];
		if (round == 0)
			first->sv = (first->sv & ~3u) | 1u; /* busy: ours goes one on */
		copy_at = round == 0 ? 0 : 2;
		rules_recent_test_published = plant_copy;
		assert_true(rules_recent_match(l, 4, X, 64, RULES_RECENT_SET, 0, 0, false, 200000 * S));
		rules_recent_test_published = NULL;
		assert_int_equal(copies_of(l, X), 1);
		/* the copy that stayed: the nearer one */
		assert_true((first->sv & 3) == 2 && memcmp(first->addr, X, 16) == 0);
		/* both hits counted in the copy that stayed */
		assert_true(rules_recent_match(l, 4, X, 64, RULES_RECENT_CHECK, 0, 2, false, 200000 * S));
		assert_false(rules_recent_match(l, 4, X, 64, RULES_RECENT_CHECK, 0, 3, false, 200000 * S));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_hitcount),
		cmocka_unit_test(test_rttl),
		cmocka_unit_test(test_reap_and_full),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_same_address_race),
		cmocka_unit_test(test_dedup_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
