/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_limit: the connection counts of -m connlimit, as the kernel's
 * nf_conncount keeps them: per match and per (masked) address, the list of
 * connections that passed the match, each checked to be still alive (and,
 * for TCP, not closing) when the list is walked; dead ones are dropped on
 * the way.
 *
 * One ct_limit per worker (and ruleset): its lists hold that worker's
 * connections and are written by that worker only. Each key publishes its
 * count under a sequence counter, so the other workers read it without a
 * lock (ct_limit_peek): a match's count is this worker's walk plus the
 * peers' published counts. A peer's count may lag by what died since that
 * peer last walked the key; ct_limit_gc() walks a few keys per loop so
 * that it does not lag long. Two workers admitting a connection for the
 * same key at the same instant may both see the other's count without it.
 *
 * No DPDK here.
 */
#ifndef RP_CT_LIMIT_H
#define RP_CT_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "ct.h"

struct ct_limit_key {
	uint32_t seq;     /* odd while the worker changes the slot */
	uint16_t match;   /* which connlimit match */
	uint8_t fam;
	uint8_t state;    /* 0 empty, 1 in use, 2 deleted (probing goes on) */
	uint32_t key[4];  /* the masked address */
	uint32_t count;   /* live members when last walked */
	uint32_t head;    /* first member, CT_NIL: none */
	uint16_t zone;    /* the connections' zone id (the kernel's key has it) */
	uint16_t pad;
};

struct ct_limit_member {
	uint32_t idx;  /* the connection's entry */
	uint32_t tag;  /* ct_hash of its original tuple: the entry is still it */
	uint32_t next;
};

struct ct_limit {
	uint32_t nkeys, nmem;   /* nkeys: a power of two */
	struct ct_limit_key *k;
	struct ct_limit_member *m;
	uint32_t free;          /* free member list */
	uint32_t gc_key;        /* ct_limit_gc's cursor */
	uint64_t full;          /* counts refused: no key slot or member left */
	void (*free_fn)(void *);
};

/* A table with nkeys key slots (rounded up to a power of two) and nmem
 * members; alloc must return zeroed memory. NULL on failure. */
struct ct_limit *ct_limit_create(uint32_t nkeys, uint32_t nmem, void *(*alloc)(size_t),
	void (*free_fn)(void *));
void ct_limit_destroy(struct ct_limit *l);
size_t ct_limit_mem(uint32_t nkeys, uint32_t nmem);

/*
 * The connections of key in zone (a conntrack zone id: as xt_connlimit's,
 * counts are per zone) for match on this worker, after dropping the dead
 * ones, with connection idx added if it is not there yet (CT_NIL: count
 * only). UINT32_MAX when it could not be added (no room: the caller drops
 * the packet, as the kernel does when it cannot count).
 */
uint32_t ct_limit_count(struct ct_limit *l, const struct ct_table *t, uint16_t match, uint8_t fam,
	const uint8_t key[16], uint16_t zone, uint32_t idx);

/* Another worker's published count for key in zone (a lock-free read). */
uint32_t ct_limit_peek(const struct ct_limit *l, uint16_t match, uint8_t fam, const uint8_t key[16],
	uint16_t zone);

/* Walk the lists of the next few key slots (64 slots, budget members at
 * most), dropping the dead and publishing the counts again. */
void ct_limit_gc(struct ct_limit *l, const struct ct_table *t, unsigned budget);

#endif
