/* SPDX-License-Identifier: BSD-3-Clause */
/* ct_priv: between ct.c (table) and ct_proto.c (trackers). */
#ifndef RP_CT_PRIV_H
#define RP_CT_PRIV_H

#include "ct.h"

/* A free entry, zeroed but for fam (and its IPv6 record); CT_NIL when the
 * table is full and nothing can be evicted. */
uint32_t ct_alloc(struct ct_table *t, uint8_t fam);

/* The table's xorshift generator (early drop's second look, the helpers'
 * eviction and NAT port draws). */
static inline uint32_t rnd_next(struct ct_table *t)
{
	t->rnd ^= t->rnd << 13;
	t->rnd ^= t->rnd >> 17;
	t->rnd ^= t->rnd << 5;
	return t->rnd;
}

static inline uint32_t ct_ticks(uint32_t seconds)
{
	return seconds * CT_HZ;
}

#endif
