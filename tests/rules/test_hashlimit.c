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

/* xt_hashlimit's rateinfo for one entry, written from the kernel's code
 * (revision 3, HZ = 250): jiffies of 4 ms, CREDITS_PER_JIFFY 2^39,
 * user2credits() multiplying by 137438953 (wrapping as its u64 does),
 * byte mode's CREDITS_PER_JIFFY_BYTES 2^24 and credit_cap refills. */
#define J_US 4000u
#define M_CPJ (1ull << 39)
#define M_CPJB (1ull << 24)
struct model {
	uint64_t prev, credit, cap, cost;
	uint64_t refills;
	bool bytes;
};

static void model_init(struct model *m, const struct rules_hl_cfg *c, uint64_t now)
{
	memset(m, 0, sizeof(*m));
	m->prev = now / J_US;
	m->bytes = c->bytes;
	if (c->bytes) {
		m->credit = M_CPJB * 250;
		m->cost = (c->avg * (M_CPJB * 250)) >> 32;
		m->refills = c->burst;
	} else {
		m->credit = m->cap = c->avg * c->burst * 137438953ull;
		m->cost = c->avg * 137438953ull;
	}
}

static bool model_charge(struct model *m, uint32_t len, uint64_t now)
{
	uint64_t j = now / J_US, delta = j - m->prev;
	if (delta) {
		m->prev = j;
		if (m->bytes) {
			uint64_t tmp = m->credit;
			m->credit += M_CPJB * delta;
			if (tmp >= m->credit || m->credit > M_CPJB * 250)
				m->credit = M_CPJB * 250;
		} else {
			m->credit += delta * M_CPJ;
			if (m->credit > m->cap)
				m->credit = m->cap;
		}
	}
	uint64_t cost = m->cost;
	if (m->bytes) {
		cost = ((uint64_t)(len >> 4) + 1) * m->cost;
		if (cost > M_CPJB * 250)
			cost = M_CPJB * 250;
		if (m->credit < cost && m->refills) {
			m->refills--;
			m->credit = M_CPJB * 250;
		}
	}
	if (m->credit >= cost) {
		m->credit -= cost;
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
	/* 3/sec burst 5, 100/sec burst 1, 10000/sec burst 5 (above 250 x
	 * burst: the jiffy caps it), 1/min burst 37, 1/hour burst 39 (a
	 * bucket the kernel's u64 wraps: 1 packet), 7/day burst 2 */
	static const uint64_t avgs[] = { 333333, 10000, 100, 60000000, 3600000000ull, 12342857142ull };
	static const uint64_t bursts[] = { 5, 1, 5, 37, 39, 2 };
	for (unsigned v = 0; v < 6; v++) {
		struct rules_hl_cfg c = pkt_cfg(avgs[v], bursts[v], 64, 1000000000u);
		char name[32];
		snprintf(name, sizeof(name), "model-p%u", v);
		struct rules_hl *t = rules_hl_get(name, &c);
		assert_non_null(t);
		uint8_t k[12];
		key4(k, 1);
		struct model m;
		uint64_t now = 5000 * S + 1234;
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
		assert_true(passed > 10 && passed < 20000); /* both answers were exercised */
		rules_hl_put(t, &c);
	}
	/* the kernel's ceiling: 10000/sec burst 5 passes 250 x 5 a second of
	 * a 20000 packets/s flood */
	struct rules_hl_cfg c = pkt_cfg(100, 5, 64, 60000);
	struct rules_hl *t = rules_hl_get("ceiling", &c);
	uint8_t k[12];
	key4(k, 2);
	unsigned passed = 0;
	for (unsigned i = 0; i < 20000; i++)
		passed += rules_hl_charge(t, &c, k, 100, 9000 * S + i * 50ull) == 1;
	assert_true(passed >= 1250 && passed <= 1255);
	rules_hl_put(t, &c);
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
		rules_hl_put(t, &c);
	}
}

/* --hashlimit-rate-match against the kernel's code (rateinfo_init,
 * rateinfo_recalc, hashlimit_mt_common of revision 3): a window of
 * interval seconds counts packets (or bytes); a packet matches while the
 * previous window was not over the rate and this one is within the burst */
struct rm_model {
	uint64_t prev, cur, rate, burst, interval;
	bool win, bytes;
};

static void rm_init(struct rm_model *m, const struct rules_hl_cfg *c, uint64_t now)
{
	memset(m, 0, sizeof(*m));
	m->prev = now / J_US;
	m->bytes = c->bytes;
	if (c->bytes) {
		uint64_t r = UINT32_MAX / c->avg;
		m->rate = (r - 1) << 4;
		m->burst = c->burst ? c->burst * m->rate : m->rate;
	} else {
		m->rate = 1000000u / c->avg;
		m->burst = c->burst + m->rate;
	}
	m->interval = c->interval;
}

static bool rm_charge(struct rm_model *m, uint32_t len, uint64_t now)
{
	uint64_t j = now / J_US, delta = j - m->prev;
	if (delta != 0 && delta >= m->interval * 250) {
		m->prev = j;
		m->win = m->cur * (m->interval * 250) > delta * m->rate;
		m->cur = 0;
	}
	m->cur += m->bytes ? len : 1;
	return !m->win && m->cur <= m->burst;
}

static void test_rate_match(void **st)
{
	(void)st;
	/* 3/sec burst 5 over 5 s windows; 100/sec burst 1 over 1 s; 16kb/s
	 * over 2 s with 2 refills' worth of burst */
	static const uint64_t avgs[] = { 333333, 10000, 4294967295ull / 1025 };
	static const uint64_t bursts[] = { 5, 1, 2 };
	static const uint32_t intervals[] = { 5, 1, 2 };
	for (unsigned v = 0; v < 3; v++) {
		struct rules_hl_cfg c = pkt_cfg(avgs[v], bursts[v], 64, 1000000000u);
		c.bytes = v == 2;
		c.rate_match = 1;
		c.interval = intervals[v];
		char name[32];
		snprintf(name, sizeof(name), "rm%u", v);
		struct rules_hl *t = rules_hl_get(name, &c);
		assert_non_null(t);
		uint8_t k[12];
		key4(k, 4);
		struct rm_model m;
		uint64_t now = 8000 * S + 77;
		rm_init(&m, &c, now);
		unsigned passed = 0, mism = 0;
		for (unsigned i = 0; i < 20000; i++) {
			/* traffic around the rate: bursts, then quiet spells */
			uint64_t r = rnd();
			uint64_t gap = c.bytes ? 20000 : avgs[v];
			now += (r & 7) ? r % (gap / 2 + 1) : r % (gap * 40 + 1);
			uint32_t len = 40 + (uint32_t)(rnd() % 1461);
			bool want = rm_charge(&m, len, now);
			int got = rules_hl_charge(t, &c, k, len, now);
			if ((got == 1) != want)
				mism++;
			passed += want;
		}
		if (mism)
			print_error("rate-match %u: %u of 20000 decisions differ\n", v, mism);
		assert_int_equal(mism, 0);
		assert_true(passed > 10 && passed < 20000);
		rules_hl_put(t, &c);
	}
}

/* Two workers whose clocks read a hair apart charge the same key in turn:
 * the older reading sees no time pass (never negative time), and the key
 * gets what one clock would give it, in both units. */
static void test_clocks_apart(void **st)
{
	(void)st;
	for (unsigned bytes = 0; bytes < 2; bytes++) {
		struct rules_hl_cfg c = pkt_cfg(bytes ? 4294967295ull / 65 : 10000, bytes ? 0 : 3, 64,
						60000);
		c.bytes = (uint8_t)bytes;
		struct rules_hl *t = rules_hl_get("apart", &c);
		assert_non_null(t);
		uint8_t k[12];
		key4(k, 3);
		struct model m;
		uint64_t now = 11000 * S;
		model_init(&m, &c, now);
		unsigned got = 0, want = 0;
		/* 10 s of 1500-byte packets every 100 us, alternately from a
		 * worker 1 us and 5 ms behind */
		for (unsigned i = 0; i < 100000; i++) {
			now += 100;
			uint64_t skew = (i & 1) ? 1 : (i % 4 == 2 ? 5000 : 0);
			got += rules_hl_charge(t, &c, k, 1500, now - skew) == 1;
			want += model_charge(&m, 1500, now);
		}
		/* one clock's answer, give or take the packets of a jiffy */
		if (got > want + 5 || got + 5 < want)
			print_error("%s: %u passed, one clock would pass %u\n", bytes ? "bytes" : "packets",
				    got, want);
		assert_true(got <= want + 5 && got + 5 >= want);
		rules_hl_put(t, &c);
	}
}

/* Each key its own bucket; a full table drops new keys until the garbage
 * collector frees the idle ones; an idle key not yet collected goes on
 * with its bucket, as in the kernel. */
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
	now += 2 * S; /* keys 2-4 idle for 4 s: expired, not collected yet */
	key4(k, 5);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), -1); /* still full */
	key4(k, 2);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1); /* its bucket, refilled */
	rules_hl_gc(now, UINT32_MAX); /* the gc frees 3 and 4 (2 was just seen) */
	rules_hl_info(t, &in);
	assert_int_equal(in.live, 2);
	for (uint8_t a = 5; a <= 6; a++) {
		key4(k, a);
		assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
	}
	key4(k, 7);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), -1);
	/* a collected key comes back with a full bucket */
	now += 10 * S;
	rules_hl_gc(now, UINT32_MAX);
	rules_hl_info(t, &in);
	assert_int_equal(in.live, 0);
	key4(k, 3);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 1);
	assert_int_equal(rules_hl_charge(t, &c, k, 60, now), 0);
	rules_hl_put(t, &c);
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

/* A program swap keeps a table of the same name, family, size and unit
 * with its buckets; another size (or unit) is another table. Taking a
 * table for a program that is only checked (--test) or refused changes
 * nothing the running program sees: not its table, not its expiry. */
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
	/* a checked program with another size, then one with a short expiry */
	struct rules_hl_cfg big = c, quick = c;
	big.max = 32;
	quick.expire_ms = 1000;
	struct rules_hl *tb = rules_hl_get("swap", &big);
	assert_ptr_not_equal(tb, t1);
	rules_hl_put(tb, &big);
	struct rules_hl *tq = rules_hl_get("swap", &quick);
	assert_ptr_equal(tq, t1);
	rules_hl_put(tq, &quick);
	rules_hl_gc(now + 2 * S, UINT32_MAX); /* the running program's 60 s expiry still rules */
	struct rules_hl *t2 = rules_hl_get("swap", &c); /* the next program */
	assert_ptr_equal(t2, t1);
	rules_hl_put(t1, &c); /* the old program goes */
	assert_int_equal(rules_hl_charge(t2, &c, k, 60, now + 2 * S), 1); /* kept: 2 s, 2 credits */
	assert_int_equal(rules_hl_charge(t2, &c, k, 60, now + 2 * S), 1);
	assert_int_equal(rules_hl_charge(t2, &c, k, 60, now + 2 * S), 0);
	struct seen s = { 0 };
	rules_hl_walk(t2, now + 2 * S, seen_fn, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.last, 9);
	assert_true(s.credit < rules_hl_cost(&c));
	/* a reload to a smaller bucket: the credit is capped at the new one
	 * at the next jiffy, never owed */
	struct rules_hl_cfg small = c;
	small.avg = 100000; /* 10/sec burst 3 */
	struct rules_hl *t3 = rules_hl_get("swap", &small);
	assert_ptr_equal(t3, t2);
	rules_hl_put(t2, &c);
	assert_int_equal(rules_hl_charge(t3, &small, k, 60, now + 2 * S + 100000), 1);
	c.fam = 6;
	struct rules_hl *t6 = rules_hl_get("swap", &c); /* another family: another table */
	assert_ptr_not_equal(t6, t3);
	rules_hl_put(t3, &small);
	rules_hl_put(t6, &c);
	for (unsigned i = 0; rules_hl_at(i) != NULL; i++) {
		struct rules_hl_info in;
		rules_hl_info(rules_hl_at(i), &in);
		assert_string_not_equal(in.name, "swap");
	}
}

/* Workers charging the same keys at once: exactly the credit there is
 * passes (the clock stands still), keys added concurrently are held once,
 * and the collector racing them keeps the count right. */
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

static volatile int gc_stop;
static void *collector(void *arg)
{
	(void)arg;
	uint8_t k[12];
	key4(k, 250);
	uint64_t now = 5000 * S + 2000;
	while (!gc_stop) {
		/* keys of 1 ms expiry, collected as soon as they are idle */
		rules_hl_charge(race_t, &race_c, k, 60, 5000 * S);
		rules_hl_gc(now, UINT32_MAX);
		now += 2000; /* past the 1 ms gc interval */
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
	/* 200 keys of 7 packets' credit each: a copy withdrawn after a race
	 * fails its charge, which goes to the copy that stays */
	assert_int_equal(total, 200 * 7);
	struct rules_hl_info in;
	rules_hl_info(race_t, &in);
	assert_int_equal(in.live, 200);
	struct seen s = { 0 };
	rules_hl_walk(race_t, 1000 * S, seen_fn, &s);
	assert_int_equal(s.n, 200);
	rules_hl_put(race_t, &race_c);

	/* the collector against charging workers */
	race_c = pkt_cfg(S, 7, 4096, 1);
	race_c.gc_ms = 1;
	race_t = rules_hl_get("race-gc", &race_c);
	assert_non_null(race_t);
	gc_stop = 0;
	pthread_t gc;
	assert_int_equal(pthread_create(&gc, NULL, collector, NULL), 0);
	uint8_t k[12];
	for (unsigned i = 0; i < 200000; i++) {
		key4(k, (uint8_t)(i % 200));
		assert_true(rules_hl_charge(race_t, &race_c, k, 60, 5000 * S) >= 0);
	}
	gc_stop = 1;
	pthread_join(gc, NULL);
	rules_hl_gc(9000 * S, UINT32_MAX);
	rules_hl_info(race_t, &in);
	assert_int_equal(in.live, 0); /* every slot collected, the count back to 0 */
	rules_hl_put(race_t, &race_c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vs_model_packets),
		cmocka_unit_test(test_vs_model_bytes),
		cmocka_unit_test(test_clocks_apart),
		cmocka_unit_test(test_rate_match),
		cmocka_unit_test(test_keys_expiry_full),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
