/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_recent: the address lists of -m recent (the kernel's xt_recent),
 * shared by the workers.
 *
 * A list is named and lives as long as the process: a ruleset swap that
 * still names it keeps its addresses, as the kernel keeps a table while a
 * rule refers to it. Each list holds RULES_RECENT_ENTRIES addresses (the
 * kernel's ip_list_tot default) with the times of their last
 * RULES_RECENT_STAMPS hits (ip_pkt_list_tot, rounded up as the kernel
 * does); when it is full the least recently seen address of the new one's
 * neighbourhood makes room (the kernel evicts the list's least recently
 * seen).
 *
 * Workers share a list without a lock: slots in an open-addressed array
 * are claimed with a compare-and-swap (free -> busy), filled and published
 * (-> live, release); the slot's state word carries a version, so that
 * removing, evicting or reaping claims exactly the entry that was looked
 * up, never one that took its slot since. A hit takes the next stamp
 * index with an atomic add. Two workers adding the same address at once:
 * both look again once published, and the copy nearer the address's place
 * stays (the other is withdrawn, its hit moved).
 */
#ifndef RP_RULES_RECENT_H
#define RP_RULES_RECENT_H

#include <stdbool.h>
#include <stdint.h>

#define RULES_RECENT_ENTRIES 100u /* addresses per list (ip_list_tot) */
#define RULES_RECENT_SLOTS 256u   /* open-addressing slots (a power of two) */
#define RULES_RECENT_STAMPS 32u   /* hit times kept per address; --hitcount at most this */
#define RULES_RECENT_NAME_MAX 199u
#define RULES_RECENT_LISTS 64u    /* lists per process */

struct rules_recent_entry {
	/* state (free, busy, live: the low 2 bits) and a version (above)
	 * that every transition out of busy advances, in one word: a claim
	 * is a compare-and-swap of the word seen, so a slot given to another
	 * address since is never taken for the one looked up (atomic) */
	uint32_t sv;
	uint8_t fam, ttl;
	uint8_t addr[16];
	uint64_t head;    /* hits so far (atomic): the next stamp is head % STAMPS */
	uint64_t last;    /* the latest hit, microseconds */
	uint64_t stamps[RULES_RECENT_STAMPS];
};

struct rules_recent {
	char name[RULES_RECENT_NAME_MAX + 1];
	uint32_t live; /* addresses held (atomic) */
	struct rules_recent_entry e[RULES_RECENT_SLOTS];
};

/* The list called name, made empty if there is none yet; NULL when the
 * process already has RULES_RECENT_LISTS lists or no memory (control
 * thread; lists are never freed). */
struct rules_recent *rules_recent_get(const char *name);
/* The i-th list made, NULL past the last (listings). */
const struct rules_recent *rules_recent_at(unsigned i);
/* The list called name, NULL if none. */
struct rules_recent *rules_recent_find(const char *name);
/* Empty every list (tests). */
void rules_recent_reset_all(void);
/* Tests: the slot an address's search starts at, and a hook called when
 * a new address has just been published, before the neighbourhood is
 * looked at again (a race played step by step). NULL in the daemon. */
uint32_t rules_recent_place(uint8_t fam, const uint8_t *a);
extern void (*rules_recent_test_published)(struct rules_recent *l, uint32_t place);

/* What a -m recent match does to a list (the kernel's check_set). */
enum {
	RULES_RECENT_SET = 1 << 0,
	RULES_RECENT_CHECK = 1 << 1,
	RULES_RECENT_UPDATE = 1 << 2,
	RULES_RECENT_REMOVE = 1 << 3,
	RULES_RECENT_TTL = 1 << 4,
	RULES_RECENT_REAP = 1 << 5,
};

/* One -m recent match on address a (fam 4 or 6, already masked) of a
 * packet with TTL ttl at time now_us: the kernel's recent_mt once the
 * address is chosen (seconds 0: any time; hitcount 0: any count). Returns
 * the match's answer, invert applied as recent_mt applies it (an
 * --update refreshes the address only when that answer is true). */
bool rules_recent_match(struct rules_recent *l, uint8_t fam, const uint8_t *a, uint8_t ttl,
	uint8_t flags, uint32_t seconds, uint32_t hitcount, bool invert, uint64_t now_us);

/* Read-only walk for listings: calls fn for every live address with its
 * last hit and its number of kept hits. */
void rules_recent_walk(const struct rules_recent *l,
	void (*fn)(void *arg, uint8_t fam, const uint8_t *addr, uint8_t ttl, uint64_t last,
		uint32_t hits),
	void *arg);
/* Remove every address (the kernel's "echo / > /proc/net/xt_recent/NAME"). */
void rules_recent_flush(struct rules_recent *l);

#endif
