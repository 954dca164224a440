/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cls: the classifier on its own. For seeded random rule ranges
 * (prefix-like, port ranges, wildcards, identical rules, the full 64-bit
 * range) and random keys (inside rules, on their edges, anywhere), the
 * candidates must be ascending, without duplicates, and contain every rule
 * whose ranges hold the key; and the classifier must actually cut (far
 * fewer candidates than rules). Edge cases: 0, 1, all-wildcard and
 * 100 000 rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules_cls.h"

static uint64_t st = 88172645463325252ull;
static uint64_t rnd(void)
{
	st ^= st << 13;
	st ^= st >> 7;
	st ^= st << 17;
	return st;
}

static void rprefix(uint64_t *lo, uint64_t *hi, unsigned bits, unsigned wild_pct)
{
	if (rnd() % 100 < wild_pct) {
		*lo = 0;
		*hi = UINT64_MAX;
		return;
	}
	unsigned plen = 8 + (unsigned)(rnd() % (bits - 7));
	uint64_t full = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
	uint64_t mask = plen >= 64 ? UINT64_MAX : (full & ~(full >> plen));
	uint64_t base = ((rnd() % 64) << (bits - 8)) | (rnd() & (full >> 8));
	*lo = base & mask;
	*hi = *lo | (full & ~mask);
}

static void gen(struct rules_cls_range *r, uint32_t n, unsigned bits)
{
	for (uint32_t i = 0; i < n; i++) {
		rprefix(&r[i].lo[RULES_CLS_SRC], &r[i].hi[RULES_CLS_SRC], bits, 10);
		rprefix(&r[i].lo[RULES_CLS_DST], &r[i].hi[RULES_CLS_DST], bits, 5);
		r[i].lo[RULES_CLS_SPORT] = 0;
		r[i].hi[RULES_CLS_SPORT] = rnd() % 10 ? 65535 : 1023;
		unsigned k = (unsigned)(rnd() % 10);
		r[i].lo[RULES_CLS_DPORT] = k < 3 ? 0 : k < 8 ? rnd() % 1024 : 1024;
		r[i].hi[RULES_CLS_DPORT] = k < 3 ? 65535 : k < 8 ? r[i].lo[RULES_CLS_DPORT] : 65535;
		k = (unsigned)(rnd() % 10);
		r[i].lo[RULES_CLS_PROTO] = k < 6 ? 6 : k < 9 ? 17 : 0;
		r[i].hi[RULES_CLS_PROTO] = k < 9 ? r[i].lo[RULES_CLS_PROTO] : UINT64_MAX;
		if (i > 0 && rnd() % 20 == 0)
			r[i] = r[i - 1]; /* identical rules */
	}
}

static bool inside(const struct rules_cls_range *r, const uint64_t *key)
{
	for (int d = 0; d < RULES_CLS_DIMS; d++)
		if (key[d] < r->lo[d] || key[d] > r->hi[d])
			return false;
	return true;
}

static void pick_key(const struct rules_cls_range *r, uint32_t n, uint64_t *key)
{
	const struct rules_cls_range *x = &r[rnd() % n];
	for (int d = 0; d < RULES_CLS_DIMS; d++) {
		uint64_t w = x->hi[d] - x->lo[d];
		switch (rnd() % 4) {
		case 0:
			key[d] = x->lo[d];
			break;
		case 1:
			key[d] = x->hi[d];
			break;
		case 2:
			key[d] = x->lo[d] + (w == UINT64_MAX ? rnd() : rnd() % (w + 1));
			break;
		default:
			key[d] = rnd() & (d >= RULES_CLS_SPORT ? 0xffff : 0xffffffffffffffffull);
			break;
		}
	}
}

/* Returns the average number of candidates. */
static double check(const struct rules_cls_range *r, uint32_t n, unsigned queries)
{
	struct rules_cls *c = rules_cls_build(r, n);
	assert_non_null(c);
	uint32_t *cand = malloc(((size_t)n + 1) * sizeof(uint32_t));
	uint64_t total = 0;
	for (unsigned q = 0; q < queries; q++) {
		uint64_t key[RULES_CLS_DIMS];
		if (n)
			pick_key(r, n, key);
		else
			memset(key, 0, sizeof(key));
		struct rules_cls_cur cur;
		rules_cls_lookup(c, key, &cur);
		uint32_t m = 0, pos;
		while (rules_cls_next(&cur, &pos)) {
			assert_true(pos < n);
			if (m)
				assert_true(pos > cand[m - 1]); /* ascending, no duplicates */
			cand[m++] = pos;
		}
		total += m;
		uint32_t j = 0;
		for (uint32_t i = 0; i < n; i++) {
			while (j < m && cand[j] < i)
				j++;
			if (inside(&r[i], key) && (j >= m || cand[j] != i))
				fail_msg("rule %u holds the key but is not a candidate (n=%u)", i, n);
		}
	}
	free(cand);
	assert_true(rules_cls_mem(c) > 0);
	rules_cls_free(c);
	return queries ? (double)total / queries : 0;
}

static void test_small(void **state)
{
	(void)state;
	struct rules_cls_range r[2];
	memset(r, 0, sizeof(r));
	check(r, 0, 10);
	gen(r, 1, 32);
	check(r, 1, 200);
	for (int d = 0; d < RULES_CLS_DIMS; d++) {
		r[0].lo[d] = r[1].lo[d] = 0;
		r[0].hi[d] = r[1].hi[d] = UINT64_MAX;
	}
	assert_true(check(r, 2, 200) == 2.0); /* wildcards are always candidates */
}

static void test_random(void **state)
{
	(void)state;
	static const uint32_t sizes[] = {12, 100, 1000, 5000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (unsigned bits = 32; bits <= 64; bits += 32) {
			struct rules_cls_range *r = malloc(sizes[i] * sizeof(*r));
			gen(r, sizes[i], bits);
			double avg = check(r, sizes[i], 2000);
			/* the classifier must cut, not just return everything */
			if (sizes[i] >= 1000 && avg > sizes[i] / 20.0)
				fail_msg("%u rules: %.1f candidates on average", sizes[i], avg);
			free(r);
		}
}

static void test_identical(void **state)
{
	(void)state;
	/* 500 identical rules cannot be separated: one long leaf, still right */
	struct rules_cls_range *r = malloc(500 * sizeof(*r));
	gen(r, 1, 32);
	for (int i = 1; i < 500; i++)
		r[i] = r[0];
	check(r, 500, 100);
	/* and no levels that split nothing: every lookup would walk them */
	struct rules_cls *c = rules_cls_build(r, 500);
	assert_non_null(c);
	for (unsigned t = 0; t < RULES_CLS_TREES; t++)
		assert_true(c->t[t].depth <= 1);
	rules_cls_free(c);
	/* 40 rules alike but for what the classifier does not see (-i, -m
	 * state...): "-p tcp" and "-p tcp -d 10.0.0.1 --dport 22" */
	for (int i = 0; i < 40; i++) {
		for (int d = 0; d < RULES_CLS_DIMS; d++) {
			r[i].lo[d] = 0;
			r[i].hi[d] = UINT64_MAX;
		}
		r[i].lo[RULES_CLS_PROTO] = r[i].hi[RULES_CLS_PROTO] = 6;
	}
	for (int k = 0; k < 2; k++) {
		c = rules_cls_build(r, 40);
		assert_non_null(c);
		for (unsigned t = 0; t < RULES_CLS_TREES; t++)
			assert_true(c->t[t].depth <= 1);
		rules_cls_free(c);
		for (int i = 0; i < 40; i++) {
			r[i].lo[RULES_CLS_DST] = r[i].hi[RULES_CLS_DST] = 0x0a000001;
			r[i].lo[RULES_CLS_DPORT] = r[i].hi[RULES_CLS_DPORT] = 22;
		}
	}
	free(r);
}

static void test_big(void **state)
{
	(void)state;
	uint32_t n = 100000;
	struct rules_cls_range *r = malloc(n * sizeof(*r));
	gen(r, n, 32);
	struct rules_cls *c = rules_cls_build(r, n);
	assert_non_null(c);
	assert_true(rules_cls_mem(c) < 256u << 20);
	rules_cls_free(c);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_big),
	};
	return cmocka_run_group_tests_name("cls", tests, NULL, NULL);
}
