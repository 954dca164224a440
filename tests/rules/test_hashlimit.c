/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_hashlimit: the -m hashlimit tables (rules/rules_hashlimit.c).
 *
 * The charging is compared with a model of xt_hashlimit's own arithmetic
 * (credits per jiffy, credit_cap, the byte mode's refills; here with a
 * jiffy of one microsecond and the credits of a HZ=250 kernel's byte
 * mode) over random sequences of packets, since the table keeps its
 * buckets in another form (the time the credit is full again). Then: keys
 * kept apart, expiry, a full table (hotdrop) and its garbage collection,
 * tables kept or replaced across programs, and threads charging the same
 * keys at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules_hashlimit.h"

#define S 1000000ull /* a second in microseconds */

static struct rules_hl_cfg pkt_cfg(uint64_t avg, uint64_t burst, uint32_t max, uint32_t expire_ms)
{
	struct rules_hl_cfg c = { .avg = avg, .burst = burst, .max = max, .expire_ms = expire_ms,
				  .gc_ms = 1000, .fam = 4 };
	return c;
}

static void key4(uint8_t k[12], uint8_t last)
{
	memset(k, 0, 12);
	k[0] = 10;
	k[3] = last;
}

/* xt_hashlimit's rateinfo for one entry, as the kernel computes it, with
 * time in microseconds (one credit unit per microsecond in packet mode) */
struct model {
	uint64_t prev, credit, cap, cost;
	uint32_t refills;
	bool bytes;
};

static void model_init(struct model *m, const struct rules_hl_cfg *c, uint64_t now)
{
	memset(m, 0, sizeof(*m));
	m->prev = now;
	m->bytes = c->bytes;
	if (c->bytes) {
		m->credit = RULES_HL_BYTE_FULL;
		m->cost = (c->avg * RULES_HL_BYTE_FULL) >> 32;
		m->refills = (uint32_t)c->burst;
	} else {
		m->credit = m->cap = c->avg * c->burst;
		m->cost = c->avg;
	}
}

static bool model_charge(struct model *m, uint32_t len, uint64_t now)
{
	uint64_t delta = now - m->prev;
	m->prev = now;
	if (m->bytes) {
		/* CREDITS_PER_JIFFY_BYTES per jiffy: a second's credits per second */
		m->credit += delta * RULES_HL_BYTE_FULL / S; /* delta < 1 s in the test */
		if (m->credit > RULES_HL_BYTE_FULL)
			m->credit = RULES_HL_BYTE_FULL;
		uint64_t need = ((uint64_t)(len >> 4) + 1) * m->cost;
		if (need > RULES_HL_BYTE_FULL)
			need = RULES_HL_BYTE_FULL;
		if (m->credit < need && m->refills) {
			m->refills--;
			m->credit = RULES_HL_BYTE_FULL;
		}
		if (m->credit >= need) {
			m->credit -= need;
			return true;
		}
		return false;
	}
	m->credit += delta;
	if (m->credit > m->cap)
		m->credit = m->cap;
	if (m->credit >= m->cost) {
		m->credit -= m->cost;
		return true;
	}
	return false;
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_vs_model_packets(void **st)
{
	(void)st;
	/* 3/sec burst 5, 100/sec burst 1, 1/min burst 37, 7/day burst 2 */
	static const uint64_t avgs[] = { 333333, 10000, 60000000, 12342857142ull };
	static const uint64_t bursts[] = { 5, 1, 37, 2 };
	for (unsigned v = 0; v < 4; v++) {
		struct rules_hl_cfg c = pkt_cfg(avgs[v], bursts[v], 64, 1000000000u);
		char name[32];
		snprintf(name, sizeof(name), "model-p%u", v);
		struct rules_hl *t = rules_hl_get(name, &c);
		assert_non_null(t);
		uint8_t k[12];
		key4(k, 1);
		struct model m;
		uint64_t now = 5000 * S;
		model_init(&m, &c, now);
		unsigned passed = 0, mism = 0;
		for (unsigned i = 0; i < 20000; i++) {
			/* bursts of back-to-back packets, then pauses around the rate */
			uint64_t r = rnd();
			now += (r & 3) ? r % (avgs[v] / 8 + 1) : r % (avgs[v] * 3 + 1);
			bool want = model_charge(&m, 100, now);
			int got = rules_hl_charge(t, &c, k, 100, now);
			assert_true(got == 0 || got == 1);
			if ((got == 1) != want)
				mism++;
			passed += want;
		}
		if (mism)
			print_error("rate %u: %u of 20000 decisions differ from the kernel's\n", v, mism);
		assert_int_equal(mism, 0);
		assert_true(passed > 100 && passed < 20000); /* both answers were exercised */
		rules_hl_put(t);
	}
}

static void test_vs_model_bytes(void **st)
{
	(void)st;
	/* libxt_hashlimit's costs of 1kb/s, 16kb/s and 96b/s; 0, 3, 1 refills */
	static const uint64_t avgs[] = { 4294967295ull / 65, 4294967295ull / 1025, 4294967295ull / 7 };
	static const uint64_t refills[] = { 0, 3, 1 };
	for (unsigned v = 0; v < 3; v++) {
		struct rules_hl_cfg c = pkt_cfg(avgs[v], refills[v], 64, 1000000000u);
		c.bytes = 1;
		char name[32];
		snprintf(name, sizeof(name), "model-b%u", v);
		struct rules_hl *t = rules_hl_get(name, &c);
		assert_non_null(t);
		uint8_t k[12];
		key4(k, 2);
		struct model m;
		uint64_t now = 7000 * S;
		model_init(&m, &c, now);
		unsigned passed = 0, mism = 0;
		for (unsigned i = 0; i < 20000; i++) {
			uint64_t r = rnd();
			now += r % 40000; /* up to 40 ms */
			uint32_t len = 40 + (uint32_t)(rnd() % 1461);
			bool want = model_charge(&m, len, now);
			int got = rules_hl_charge(t, &c, k, len, now);
			if ((got == 1) != want)
				mism++;
			passed += want;
		}
		if (mism)
			print_error("byte rate %u: %u of 20000 decisions differ\n", v, mism);
		assert_int_equal(mism, 0);
		assert_true(passed > 100 && passed < 20000);
		rules_hl_put(t);
	}
}

/* Each key its own bucket; an idle key expires and comes back full; a
 * full table drops new keys until one expires or the gc frees room. */
static void test_keys_expiry_full(void **st)
{
	(void)st;
	struct rules_hl_cfg c = pkt_cfg(S, 2, 4, 3000); /* 1/sec burst 2, 4 keys, 3 s */
	struct rules_hl *t = rules_hl_get("keys", &c);
	assert_non_null(t);
	uint64_t now = 100 * S;
	uint8_t k[12];
	for (uint8_t a = 1; a <= 4; a++) {
		key4(k, a);
		assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
		assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
		assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 0);
	}
	struct rules_hl_info in;
	rules_hl_info(t, &in);
	assert_int_equal(in.live, 4);
	key4(k, 5);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), -1); /* no room: hotdrop */
	rules_hl_info(t, &in);
	assert_int_equal(in.full, 1);
	/* key 1 keeps its entry alive (over the limit counts too) */
	key4(k, 1);
	now += 2 * S;
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1); /* 2 s: two credits back */
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 0);
	now += 2 * S; /* keys 2-4 idle for 4 s: expired */
	key4(k, 5);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1); /* took an expired slot */
	/* the gc frees the other expired ones */
	rules_hl_gc(now, UINT32_MAX);
	rules_hl_info(t, &in);
	assert_int_equal(in.live, 2); /* keys 1 and 5 */
	for (uint8_t a = 6; a <= 7; a++) {
		key4(k, a);
		assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
	}
	key4(k, 8);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), -1);
	/* an expired key that was not collected yet starts again full */
	now += 10 * S;
	key4(k, 6);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 0);
	rules_hl_put(t);
}

struct seen {
	unsigned n;
	uint8_t last;
	uint64_t credit;
};
static void seen_fn(void *arg, const uint8_t *key, uint64_t expires_us, uint64_t credit,
	uint64_t refills)
{
	(void)expires_us;
	(void)refills;
	struct seen *s = arg;
	s->n++;
	s->last = key[3];
	s->credit = credit;
}

/* A program swap keeps a table of the same name, family and size with its
 * buckets; another size (or unit) is a new table, the old one lives until
 * its programs are gone. */
static void test_tables(void **st)
{
	(void)st;
	struct rules_hl_cfg c = pkt_cfg(S, 3, 16, 60000);
	struct rules_hl *t1 = rules_hl_get("swap", &c);
	assert_non_null(t1);
	uint8_t k[12];
	key4(k, 9);
	uint64_t now = 300 * S;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rules_hl_charge(t1, &c, k, 60, now), 1);
	struct rules_hl *t2 = rules_hl_get("swap", &c); /* the next program */
	assert_ptr_equal(t2, t1);
	rules_hl_put(t1); /* the old program goes */
	assert_int_equal(rules_hl_charge(t2, &c, k, 60, now), 0); /* the bucket was kept */
	struct seen s = { 0 };
	rules_hl_walk(t2, now, seen_fn, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.last, 9);
	assert_int_equal(s.credit, 0);
	c.fam = 6;
	struct rules_hl *t6 = rules_hl_get("swap", &c); /* another family: another table */
	assert_ptr_not_equal(t6, t2);
	c.fam = 4;
	c.max = 32;
	struct rules_hl *t3 = rules_hl_get("swap", &c); /* another size: a new one */
	assert_ptr_not_equal(t3, t2);
	assert_int_equal(rules_hl_charge(t3, &c, k, 60, now), 1);
	struct rules_hl *t4 = rules_hl_get("swap", &c);
	assert_ptr_equal(t4, t3);
	rules_hl_put(t2);
	rules_hl_put(t3);
	rules_hl_put(t4);
	rules_hl_put(t6);
	for (unsigned i = 0; rules_hl_at(i) != NULL; i++) {
		struct rules_hl_info in;
		rules_hl_info(rules_hl_at(i), &in);
		assert_string_not_equal(in.name, "swap");
	}
}

/* Workers charging the same keys at once: exactly the credit there is
 * passes (the clock stands still), and keys added concurrently are held
 * once. */
#define THREADS 4
static struct rules_hl *race_t;
static struct rules_hl_cfg race_c;
static pthread_barrier_t bar;
static unsigned race_pass[THREADS];

static void *racer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint8_t k[12];
	pthread_barrier_wait(&bar);
	for (unsigned i = 0; i < 4000; i++) {
		key4(k, (uint8_t)(i % 50));
		k[2] = (uint8_t)(i / 50 % 4);
		if (rules_hl_charge(race_t, &race_c, k, 60, 1000 * S) == 1)
			race_pass[id]++;
	}
	return NULL;
}

static void test_race(void **st)
{
	(void)st;
	race_c = pkt_cfg(S, 7, 1024, 60000);
	race_t = rules_hl_get("race", &race_c);
	assert_non_null(race_t);
	pthread_t th[THREADS];
	pthread_barrier_init(&bar, NULL, THREADS);
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	unsigned total = 0;
	for (unsigned i = 0; i < THREADS; i++)
		total += race_pass[i];
	/* 200 keys of 7 packets' credit each. Two workers adding one key at
	 * the same instant keep one copy; the charge to the withdrawn one is
	 * lost, so a key may pass one packet more: at most one per key. */
	assert_true(total >= 200 * 7 && total <= 200 * 8);
	struct rules_hl_info in;
	rules_hl_info(race_t, &in);
	assert_int_equal(in.live, 200);
	struct seen s = { 0 };
	rules_hl_walk(race_t, 1000 * S, seen_fn, &s);
	assert_int_equal(s.n, 200);
	rules_hl_put(race_t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vs_model_packets),
		cmocka_unit_test(test_vs_model_bytes),
		cmocka_unit_test(test_keys_expiry_full),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
