/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_reasm: hostile fragment sequences through the reassembly table
 * (dataplane/reasm.c), a small one so that eviction and record exhaustion
 * happen. The input is a list of 6-byte records: u8 flags (bit 0: IPv6,
 * bit 1: more fragments, bits 2-3: which of 4 datagram ids, bits 4-5:
 * advance the clock 0 / 1 / 20 / 70 units, bit 6: run expiry, bit 7: DF), u8 header
 * length / 4 (low 6 bits) and ECN codepoint (high 2), u16 offset (bytes), u16 length.
 *
 * Checked: every fragment handed in is accounted for exactly once (given
 * back to the caller, dropped by the table once, or part of one complete
 * datagram, whose fragments are contiguous from 0 to its length), and the
 * table's counts agree with what it holds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXH 4096
static uint8_t state[MAXH]; /* 0 unseen, 1 held by the table, 2 done with */
static unsigned held;

static void on_drop(void *ctx, void *pkt)
{
	(void)ctx;
	uintptr_t h = (uintptr_t)pkt;
	if (h == 0 || h >= MAXH || state[h] != 1)
		abort(); /* dropped twice, or never held */
	state[h] = 2;
	held--;
}

static void *zalloc(size_t n)
{
	return calloc(1, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(state, 0, sizeof(state));
	held = 0;
	struct reasm *r = reasm_create(4, 24, 30, 60, 99, on_drop, NULL, zalloc, free);
	if (r == NULL)
		return 0;
	uint64_t now = 0;
	uintptr_t next = 1;
	for (size_t i = 0; i + 6 <= size && next < MAXH; i += 6) {
		const uint8_t *p = data + i;
		uint8_t fl = p[0];
		static const uint64_t adv[4] = { 0, 1, 20, 70 };
		now += adv[(fl >> 4) & 3];
		if (fl & 0x40)
			reasm_expire(r, now, 3);
		struct reasm_key k;
		memset(&k, 0, sizeof(k));
		k.v6 = fl & 1;
		k.id = (fl >> 2) & 3;
		k.src[0] = 10;
		uint16_t hdr = (uint16_t)((p[1] & 0x3f) * 4);
		uint32_t off = (uint32_t)p[2] << 8 | p[3];
		uint32_t len = (uint32_t)p[4] << 8 | p[5];
		uintptr_t h = next++;
		uint32_t dg;
		state[h] = 1;
		held++;
		enum reasm_res res = reasm_add(r, &k, off, len, fl & 2,
					       (fl & 0x80 ? REASM_F_DF : 0) | p[1] >> 6,
					       (uint16_t)(hdr + len), hdr, (void *)h, 0, now, &dg);
		if (res == REASM_HELD)
			continue;
		if (res != REASM_DONE) {
			if (state[h] != 1)
				abort(); /* the caller's, yet the table dropped it */
			state[h] = 2;
			held--;
			continue;
		}
		uint32_t at = 0;
		for (int32_t f = reasm_first(r, dg); f >= 0; f = reasm_next(r, f)) {
			void *pk;
			uint32_t o, l;
			uint16_t d;
			reasm_frag(r, f, &pk, &o, &l, &d);
			uintptr_t x = (uintptr_t)pk;
			if (o != at || l == 0 || x == 0 || x >= MAXH || state[x] != 1)
				abort();
			state[x] = 2;
			held--;
			at += l;
		}
		if (at != reasm_total(r, dg) || at > 65535)
			abort();
		reasm_release(r, dg);
		if (reasm_held_frags(r) != held || reasm_held_dgrams(r) > 4)
			abort();
	}
	if (reasm_held_frags(r) != held)
		abort();
	reasm_destroy(r);
	if (held != 0)
		abort();
	return 0;
}
