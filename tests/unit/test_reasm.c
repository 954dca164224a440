/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reassembly table (dataplane/reasm.c) on its own: packets are integer
 * handles, drops are recorded. Order, many fragments, duplicates, overlaps
 * (IPv4 and IPv6 as the kernel), odd lengths, inconsistent ends, oversized
 * datagrams, timeouts per family, eviction when datagrams or fragment
 * records run out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reasm.h"

#define MAXP 4096
static uint8_t dropped[MAXP]; /* handle -> times dropped by the table */
static unsigned n_dropped;

static void on_drop(void *ctx, void *pkt)
{
	(void)ctx;
	uintptr_t h = (uintptr_t)pkt;
	assert_true(h > 0 && h < MAXP);
	dropped[h]++;
	n_dropped++;
}

static void *zalloc(size_t n)
{
	return calloc(1, n);
}

static struct reasm *mk(uint32_t dg, uint32_t fr)
{
	memset(dropped, 0, sizeof(dropped));
	n_dropped = 0;
	struct reasm *r = reasm_create(dg, fr, 30, 60, 12345, on_drop, NULL, zalloc, free);
	assert_non_null(r);
	return r;
}

static struct reasm_key key4(uint16_t id)
{
	struct reasm_key k;
	memset(&k, 0, sizeof(k));
	k.src[0] = 10, k.src[3] = 1;
	k.dst[0] = 10, k.dst[3] = 2;
	k.id = id;
	k.proto = 17;
	return k;
}

static struct reasm_key key6(uint32_t id)
{
	struct reasm_key k;
	memset(&k, 0, sizeof(k));
	k.src[0] = 0xfd, k.src[15] = 1;
	k.dst[0] = 0xfd, k.dst[15] = 2;
	k.id = id;
	k.v6 = 1;
	return k;
}

static enum reasm_res add(struct reasm *r, const struct reasm_key *k, uint32_t off, uint32_t len,
			  bool more, uintptr_t h, uint64_t now, uint32_t *dg)
{
	uint16_t hdr = k->v6 ? 48 : 20;
	return reasm_add(r, k, off, len, more, 0, (uint16_t)(hdr + len), hdr, (void *)h,
			 (uint16_t)(14 + hdr), now, dg);
}

/* the complete datagram's fragments are contiguous from 0 to its end, in
 * order, and are the handles expected (in order); then it is released */
static void check_done(struct reasm *r, uint32_t dg, uint32_t total, const uintptr_t *hs,
		       unsigned n)
{
	assert_int_equal(reasm_total(r, dg), total);
	uint32_t at = 0;
	unsigned i = 0;
	for (int32_t f = reasm_first(r, dg); f >= 0; f = reasm_next(r, f), i++) {
		void *p;
		uint32_t off, len;
		uint16_t data_off;
		reasm_frag(r, f, &p, &off, &len, &data_off);
		assert_int_equal(off, at);
		assert_true(i < n);
		assert_int_equal((uintptr_t)p, hs[i]);
		at += len;
	}
	assert_int_equal(i, n);
	assert_int_equal(at, total);
	reasm_release(r, dg);
	assert_int_equal(n_dropped, 0);
}

/* A 64 000-byte datagram in 1480-byte fragments (44), in order, reversed
 * and shuffled: no count limit, and the held records all come back. */
static void test_orders(void **state)
{
	(void)state;
	struct reasm *r = mk(16, 256);
	const unsigned n = 44;
	const uint32_t total = 64000, fl = 1480;
	uintptr_t order[64], sorted[64];
	for (unsigned pass = 0; pass < 3; pass++) {
		for (unsigned i = 0; i < n; i++)
			order[i] = i + 1;
		if (pass == 1)
			for (unsigned i = 0; i < n; i++)
				order[i] = n - i;
		if (pass == 2) {
			srand(7);
			for (unsigned i = n - 1; i > 0; i--) {
				unsigned j = (unsigned)rand() % (i + 1);
				uintptr_t t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
		}
		struct reasm_key k = key4((uint16_t)(100 + pass));
		uint32_t dg = UINT32_MAX;
		for (unsigned i = 0; i < n; i++) {
			unsigned idx = (unsigned)order[i] - 1;
			uint32_t off = idx * fl, len = idx == n - 1 ? total - off : fl;
			enum reasm_res res = add(r, &k, off, len, idx != n - 1, order[i], 1, &dg);
			assert_int_equal(res, i == n - 1 ? REASM_DONE : REASM_HELD);
		}
		assert_int_equal(reasm_held_frags(r), n);
		assert_int_equal(reasm_frag_max(r, dg), 20 + fl);
		for (unsigned i = 0; i < n; i++)
			sorted[i] = i + 1;
		check_done(r, dg, total, sorted, n);
		assert_int_equal(reasm_held_frags(r), 0);
		assert_int_equal(reasm_held_dgrams(r), 0);
	}
	assert_int_equal(reasm_stats(r)->done, 3);
	reasm_destroy(r);
}

/* A fragment wholly inside a run of contiguous fragments is a duplicate
 * (dropped, the datagram kept); one that crosses into a gap or past what
 * is there is an overlap: the whole datagram goes, IPv4 and IPv6 alike. */
static void test_dup_overlap(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		struct reasm *r = mk(16, 64);
		struct reasm_key k = v6 ? key6(9) : key4(9);
		uint32_t dg;
		assert_int_equal(add(r, &k, 0, 800, true, 1, 0, &dg), REASM_HELD);
		assert_int_equal(add(r, &k, 800, 800, true, 2, 0, &dg), REASM_HELD);
		/* the same again, and a piece across the two: duplicates */
		assert_int_equal(add(r, &k, 0, 800, true, 3, 0, &dg), REASM_DUP);
		assert_int_equal(add(r, &k, 400, 800, true, 4, 0, &dg), REASM_DUP);
		assert_int_equal(reasm_stats(r)->dup, 2);
		assert_int_equal(n_dropped, 0);
		/* the datagram is still whole: completing it works */
		assert_int_equal(add(r, &k, 1600, 100, false, 5, 0, &dg), REASM_DONE);
		const uintptr_t hs[] = { 1, 2, 5 };
		check_done(r, dg, 1700, hs, 3);

		/* a fragment reaching from the held run into the gap after it */
		k.id = 10;
		assert_int_equal(add(r, &k, 0, 800, true, 6, 0, &dg), REASM_HELD);
		assert_int_equal(add(r, &k, 2400, 800, true, 7, 0, &dg), REASM_HELD);
		assert_int_equal(add(r, &k, 400, 800, true, 8, 0, &dg), REASM_OVERLAP);
		assert_int_equal(dropped[6], 1);
		assert_int_equal(dropped[7], 1);
		assert_int_equal(dropped[8], 0); /* the caller's to drop */
		assert_int_equal(reasm_held_dgrams(r), 0);
		assert_int_equal(reasm_stats(r)->overlap, 1);
		/* a fragment that starts in a gap and reaches into one held */
		k.id = 11;
		assert_int_equal(add(r, &k, 1600, 800, true, 9, 0, &dg), REASM_HELD);
		assert_int_equal(add(r, &k, 800, 1600, true, 10, 0, &dg), REASM_OVERLAP);
		assert_int_equal(dropped[9], 1);
		reasm_destroy(r);
	}
}

/* Ends: a last fragment that disagrees with what is known, data past the
 * end, empty fragments. IPv4 discards the datagram (ip_frag_queue), IPv6
 * drops only the fragment (nf_ct_frag6_queue). Odd lengths: IPv4 cuts the
 * tail to 8 bytes, IPv6 discards the datagram and lets the fragment go on
 * as it is. */
static void test_ends(void **state)
{
	(void)state;
	struct reasm *r = mk(16, 64);
	uint32_t dg;
	struct reasm_key k4 = key4(1), k6 = key6(1);
	for (int v6 = 0; v6 < 2; v6++) {
		struct reasm_key *k = v6 ? &k6 : &k4;
		n_dropped = 0;
		memset(dropped, 0, sizeof(dropped));
		assert_int_equal(add(r, k, 0, 800, true, 1, 0, &dg), REASM_HELD);
		assert_int_equal(add(r, k, 1600, 100, false, 2, 0, &dg), REASM_HELD);
		/* a second last fragment with another end */
		enum reasm_res res = add(r, k, 1600, 200, false, 3, 0, &dg);
		if (!v6) {
			assert_int_equal(res, REASM_OVERLAP);
			assert_int_equal(n_dropped, 2);
			assert_int_equal(reasm_held_dgrams(r), 0);
			continue;
		}
		assert_int_equal(res, REASM_BAD);
		assert_int_equal(n_dropped, 0);
		/* data past the known end */
		assert_int_equal(add(r, k, 1704, 8, true, 4, 0, &dg), REASM_BAD);
		/* an empty last fragment */
		assert_int_equal(add(r, k, 800, 0, false, 5, 0, &dg), REASM_BAD);
		assert_int_equal(reasm_held_frags(r), 2);
		/* the datagram completes with the right middle */
		assert_int_equal(add(r, k, 800, 800, true, 6, 0, &dg), REASM_DONE);
		const uintptr_t hs[] = { 1, 6, 2 };
		check_done(r, dg, 1700, hs, 3);
	}
	/* odd lengths in a non-last fragment */
	k4.id = 2;
	n_dropped = 0;
	assert_int_equal(add(r, &k4, 0, 803, true, 7, 0, &dg), REASM_HELD); /* cut to 800 */
	assert_int_equal(add(r, &k4, 800, 10, false, 8, 0, &dg), REASM_DONE);
	const uintptr_t hs4[] = { 7, 8 };
	check_done(r, dg, 810, hs4, 2);
	k6.id = 2;
	assert_int_equal(add(r, &k6, 0, 800, true, 9, 0, &dg), REASM_HELD);
	/* IPv6: the datagram goes, the fragment is passed on as it is */
	assert_int_equal(add(r, &k6, 800, 803, true, 10, 0, &dg), REASM_PASS);
	assert_int_equal(dropped[9], 1);
	assert_int_equal(dropped[10], 0);
	assert_int_equal(reasm_held_dgrams(r), 0);
	/* an IPv4 fragment shorter than 8 bytes with more to come: nothing
	 * is left of it */
	k4.id = 3;
	assert_int_equal(add(r, &k4, 0, 7, true, 11, 0, &dg), REASM_BAD);
	assert_int_equal(reasm_held_dgrams(r), 0);
	reasm_destroy(r);
}

/* A datagram longer than an IP packet can be is dropped whole when it
 * completes; one exactly at the limit is not. */
static void test_oversize(void **state)
{
	(void)state;
	struct reasm *r = mk(16, 256);
	uint32_t dg;
	struct reasm_key k = key4(5);
	/* 20-byte header + 65 512 + 8 = 65 540 > 65 535 */
	assert_int_equal(add(r, &k, 0, 65512, true, 1, 0, &dg), REASM_HELD);
	assert_int_equal(add(r, &k, 65512, 8, false, 2, 0, &dg), REASM_OVERLAP);
	assert_int_equal(dropped[1], 1);
	assert_int_equal(reasm_stats(r)->oversize, 1);
	k.id = 6; /* 20 + 65 512 + 3 = 65 535 */
	assert_int_equal(add(r, &k, 0, 65512, true, 3, 0, &dg), REASM_HELD);
	assert_int_equal(add(r, &k, 65512, 3, false, 4, 0, &dg), REASM_DONE);
	n_dropped = 0;
	const uintptr_t hs[] = { 3, 4 };
	check_done(r, dg, 65515, hs, 2);
	/* IPv6: the payload length (without the fragment header) counts */
	struct reasm_key k6 = key6(5);
	assert_int_equal(add(r, &k6, 0, 65528, true, 5, 0, &dg), REASM_HELD);
	assert_int_equal(add(r, &k6, 65528, 7, false, 6, 0, &dg), REASM_DONE); /* 65 535 */
	const uintptr_t hs6[] = { 5, 6 };
	check_done(r, dg, 65535, hs6, 2);
	assert_int_equal(add(r, &k6, 65528, 8, false, 7, 0, &dg), REASM_BAD); /* past 65 535 */
	reasm_destroy(r);
}

/* Time: a datagram lives its family's timeout from its first fragment
 * (30 and 60 here), later fragments do not extend it; expiry is bounded
 * by its budget. */
static void test_timeout(void **state)
{
	(void)state;
	struct reasm *r = mk(64, 256);
	uint32_t dg;
	for (uint16_t i = 0; i < 10; i++) {
		struct reasm_key k4 = key4(i), k6 = key6(i);
		assert_int_equal(add(r, &k4, 0, 8, true, 1 + i, 100, &dg), REASM_HELD);
		assert_int_equal(add(r, &k6, 0, 8, true, 101 + i, 100, &dg), REASM_HELD);
	}
	struct reasm_key k = key4(0);
	assert_int_equal(add(r, &k, 16, 8, true, 50, 125, &dg), REASM_HELD);
	assert_int_equal(reasm_expire(r, 129, 100), 0);
	assert_int_equal(reasm_expire(r, 130, 3), 3); /* the budget */
	assert_int_equal(reasm_expire(r, 130, 100), 7);
	assert_int_equal(reasm_held_dgrams(r), 10); /* IPv6 lives on */
	assert_int_equal(dropped[50], 1);
	assert_int_equal(dropped[1], 1);
	assert_int_equal(dropped[101], 0);
	assert_int_equal(reasm_expire(r, 160, 100), 10);
	assert_int_equal(reasm_held_dgrams(r), 0);
	assert_int_equal(reasm_held_frags(r), 0);
	assert_int_equal(reasm_stats(r)->timeout, 20);
	assert_int_equal(n_dropped, 21);
	reasm_destroy(r);
}

/* Out of datagrams or of fragment records: the oldest datagram in
 * progress makes room (so a flood of incomplete datagrams cannot lock
 * out the ones that complete); a datagram larger than the whole table
 * is dropped. */
static void test_evict(void **state)
{
	(void)state;
	struct reasm *r = mk(4, 8);
	uint32_t dg;
	for (uint16_t i = 0; i < 4; i++) {
		struct reasm_key k = key4(i);
		assert_int_equal(add(r, &k, 0, 8, true, 1 + i, i, &dg), REASM_HELD);
	}
	struct reasm_key k = key4(4);
	assert_int_equal(add(r, &k, 0, 8, true, 5, 10, &dg), REASM_HELD);
	assert_int_equal(dropped[1], 1); /* the oldest */
	assert_int_equal(reasm_stats(r)->evicted, 1);
	assert_int_equal(reasm_held_dgrams(r), 4);
	/* a new datagram evicts the oldest again (handle 2); then its 6
	 * fragments need more than the 5 records free: the oldest left
	 * (handle 3) goes too */
	k = key4(5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(add(r, &k, i * 8, 8, true, 10 + i, 20, &dg), REASM_HELD);
	assert_int_equal(dropped[2], 1);
	assert_int_equal(dropped[3], 0);
	assert_int_equal(add(r, &k, 40, 8, false, 15, 20, &dg), REASM_DONE);
	assert_int_equal(dropped[3], 1);
	assert_int_equal(reasm_stats(r)->evicted, 3);
	assert_int_equal(reasm_held_frags(r), 8);
	reasm_release(r, dg);
	assert_int_equal(reasm_held_frags(r), 2);
	/* one datagram wanting more than every record */
	k = key4(6);
	enum reasm_res res = REASM_HELD;
	unsigned i;
	for (i = 0; i < 9 && res == REASM_HELD; i++)
		res = add(r, &k, i * 8, 8, true, 20 + i, 30, &dg);
	assert_int_equal(i, 9);
	assert_int_equal(res, REASM_BAD);
	assert_int_equal(reasm_held_dgrams(r), 0);
	for (unsigned j = 0; j < 8; j++)
		assert_int_equal(dropped[20 + j], 1);
	reasm_destroy(r);
}

/* Many datagrams at once, interleaved: each completes with its own
 * fragments (the hash keeps them apart, IPv4 and IPv6 with equal ids). */
static void test_interleaved(void **state)
{
	(void)state;
	struct reasm *r = mk(512, 4096);
	uint32_t dg;
	const unsigned nd = 400, nf = 3;
	unsigned done = 0;
	for (unsigned f = 0; f < nf; f++)
		for (unsigned d = 0; d < nd; d++) {
			struct reasm_key k = d & 1 ? key6(d / 2) : key4((uint16_t)(d / 2));
			uintptr_t h = 1 + d * nf + f;
			enum reasm_res res = add(r, &k, f * 64, 64, f != nf - 1, h, 0, &dg);
			if (f < nf - 1) {
				assert_int_equal(res, REASM_HELD);
				continue;
			}
			assert_int_equal(res, REASM_DONE);
			uintptr_t hs[3] = { h - 2, h - 1, h };
			n_dropped = 0;
			check_done(r, dg, 64 * nf, hs, nf);
			done++;
		}
	assert_int_equal(done, nd);
	assert_int_equal(reasm_held_dgrams(r), 0);
	reasm_destroy(r);
}

/* The FragmentSmack pattern (the last fragment first, then the rest in
 * order, each insert before the tail): the walk starts after the last one
 * inserted, and the datagram completes; REASM_MAX_PER_DG fragments at most,
 * one more discards the datagram. DF: kept when the largest fragment had
 * it. ECN as the kernel combines it. */
static void test_many_small(void **state)
{
	(void)state;
	struct reasm *r = mk(8, 1024);
	uint32_t dg;
	const unsigned n = REASM_MAX_PER_DG;
	struct reasm_key k = key4(77);
	assert_int_equal(add(r, &k, (n - 1) * 8, 8, false, 1000, 0, &dg), REASM_HELD);
	for (unsigned i = 0; i + 1 < n; i++)
		assert_int_equal(add(r, &k, i * 8, 8, true, 1 + i, 0, &dg),
				 i + 2 < n ? REASM_HELD : REASM_DONE);
	assert_int_equal(reasm_total(r, dg), n * 8);
	assert_false(reasm_df(r, dg));
	reasm_release(r, dg);
	/* one fragment too many */
	k.id = 78;
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(add(r, &k, i * 8, 8, true, 1 + i, 0, &dg), REASM_HELD);
	assert_int_equal(add(r, &k, n * 8, 8, true, 999, 0, &dg), REASM_OVERLAP);
	assert_int_equal(reasm_stats(r)->too_many, 1);
	assert_int_equal(n_dropped, n);
	assert_int_equal(reasm_held_dgrams(r), 0);
	/* DF on the largest fragment: kept; on a smaller one only: not */
	k.id = 79;
	assert_int_equal(reasm_add(r, &k, 0, 800, true, REASM_F_DF, 820, 20, (void *)1, 34, 0, &dg),
			 REASM_HELD);
	assert_int_equal(reasm_add(r, &k, 800, 100, false, 0, 120, 20, (void *)2, 34, 0, &dg),
			 REASM_DONE);
	assert_true(reasm_df(r, dg));
	assert_int_equal(reasm_frag_max(r, dg), 820);
	reasm_release(r, dg);
	k.id = 80;
	assert_int_equal(reasm_add(r, &k, 0, 800, true, 0, 820, 20, (void *)1, 34, 0, &dg),
			 REASM_HELD);
	assert_int_equal(reasm_add(r, &k, 800, 100, false, REASM_F_DF, 120, 20, (void *)2, 34, 0, &dg),
			 REASM_DONE);
	assert_false(reasm_df(r, dg));
	reasm_release(r, dg);

	/* ECN (the kernel's ip_frag_ecn_table): CE on one fragment and ECT
	 * on the others: CE; all ECT(0): nothing to add; not-ECT mixed with
	 * ECN-capable: the datagram is dropped */
	static const struct { unsigned a, b; int want; } ecn[] = {
		{ 2, 3, 3 }, { 3, 1, 3 }, { 2, 2, 0 }, { 0, 0, 0 }, { 0, 3, -1 }, { 1, 0, -1 },
	};
	for (unsigned i = 0; i < sizeof(ecn) / sizeof(ecn[0]); i++) {
		k.id = (uint16_t)(90 + i);
		n_dropped = 0;
		assert_int_equal(reasm_add(r, &k, 0, 800, true, ecn[i].a, 820, 20, (void *)1, 34, 0,
					   &dg), REASM_HELD);
		enum reasm_res res = reasm_add(r, &k, 800, 100, false, ecn[i].b, 120, 20, (void *)2,
					       34, 0, &dg);
		if (ecn[i].want < 0) {
			assert_int_equal(res, REASM_OVERLAP);
			assert_int_equal(n_dropped, 1);
			continue;
		}
		assert_int_equal(res, REASM_DONE);
		assert_int_equal(reasm_ecn(r, dg), ecn[i].want);
		reasm_release(r, dg);
	}
	assert_int_equal(reasm_stats(r)->ecn, 2);
	reasm_destroy(r);
}

/* destroy drops what is still held */
static void test_destroy(void **state)
{
	(void)state;
	struct reasm *r = mk(8, 16);
	uint32_t dg;
	struct reasm_key k = key4(1), k6 = key6(1);
	add(r, &k, 0, 8, true, 1, 0, &dg);
	add(r, &k6, 0, 8, true, 2, 0, &dg);
	reasm_destroy(r);
	assert_int_equal(dropped[1] + dropped[2], 2);
	assert_null(reasm_create(0, 8, 1, 1, 1, on_drop, NULL, zalloc, free));
	assert_null(reasm_create(8, 40000, 1, 1, 1, on_drop, NULL, zalloc, free));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders),   cmocka_unit_test(test_dup_overlap),
		cmocka_unit_test(test_ends),     cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_timeout),  cmocka_unit_test(test_evict),
		cmocka_unit_test(test_interleaved), cmocka_unit_test(test_many_small),
		cmocka_unit_test(test_destroy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
