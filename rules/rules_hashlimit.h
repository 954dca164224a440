/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_hashlimit: the tables of -m hashlimit (the kernel's xt_hashlimit),
 * shared by the workers without a lock.
 *
 * A table is named, one per family, and lives while a program refers to
 * it: a ruleset swap that still names it keeps its entries, as the kernel
 * keeps a table while a rule uses it. Each entry is one key (the masked
 * addresses and the ports the mode picks) with its token bucket.
 *
 * Each entry holds the kernel's own bucket state for its key, as
 * xt_hashlimit (revision 3) keeps it on a 250 Hz kernel (Debian's): the
 * credit, refilled by whole jiffies of 4 ms, the jiffy it was last
 * recalculated, and in byte mode the refills left (credit_cap), so that a
 * packet gets the kernel's answer, quirks included (at most burst packets
 * per jiffy: 250 x burst a second whatever the rate). The credit and the
 * jiffy change together with one 16-byte compare-and-swap that also
 * covers the entry's version: no lock, and a worker that raced the
 * entry's reuse by another key fails its swap instead of charging the
 * other key. A worker whose clock reads a hair behind another's sees no
 * time passing, never negative time.
 *
 * Entries live in an open-addressed array twice the table's maximum, so
 * that a key's place and the few slots after it nearly always have room;
 * a new key claims a free slot with a compare-and-swap of the slot's state
 * word (free -> busy -> live, a version advanced at every step) as the -m
 * recent lists do. The control thread's rules_hl_gc() frees the entries
 * idle for the expiry time every gc interval (the kernel's htable_gc); a
 * table holding its maximum refuses new keys until then: the packet is
 * dropped, as the kernel's hotdrop, and counted.
 */
#ifndef RP_RULES_HASHLIMIT_H
#define RP_RULES_HASHLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RULES_HL_NAME_MAX 254u       /* xt_hashlimit_mtinfo3's name[NAME_MAX] */
#define RULES_HL_MAX_ENTRIES 8388608u /* refused above (8 x the kernel's largest size) */
#define RULES_HL_KEY_MAX 36u          /* IPv6: source, destination, ports */

/* --hashlimit-mode bits (the kernel's XT_HASHLIMIT_HASH_*) */
enum { RULES_HL_DIP = 1, RULES_HL_DPT = 2, RULES_HL_SIP = 4, RULES_HL_SPT = 8 };

/* The byte credits of one second in byte mode: a HZ=250 kernel's
 * CREDITS_PER_JIFFY_BYTES * HZ (Debian's kernels run at 250 Hz) */
#define RULES_HL_BYTE_FULL 4194304000ull

/* What a table's entries are charged with (the config of the rule that
 * made the table, as the kernel uses the creating rule's for every rule
 * of that name). */
struct rules_hl_cfg {
	uint64_t avg;       /* packets: microseconds per packet; bytes: the cost of 16 bytes,
			       in 1/2^32 of a second's credits (libxt's bytes_to_cost) */
	uint64_t burst;     /* packets: the bucket in packets; bytes: refills */
	uint32_t max;       /* entries at most */
	uint32_t expire_ms; /* an entry idle this long is gone */
	uint32_t gc_ms;     /* rules_hl_gc's interval for the table */
	uint8_t bytes;      /* byte mode */
	uint8_t fam;        /* 4 or 6 */
	uint8_t rate_match; /* --hashlimit-rate-match: measure the rate, limit nothing */
	uint32_t interval;  /* its window, seconds */
};

struct rules_hl;

/* The table called name for family c->fam, for a program about to use it
 * with config c: the one other programs already use when its size and
 * unit agree (its entries are kept), else a new one. Changes nothing a
 * running program sees. NULL when out of memory. Control thread. */
struct rules_hl *rules_hl_get(const char *name, const struct rules_hl_cfg *c);
/* A program that had the table from rules_hl_get() with config c is gone
 * (after the RCU grace period): the last one frees it. Control thread. */
void rules_hl_put(struct rules_hl *t, const struct rules_hl_cfg *c);
/* The kernel's cost of a packet (bytes: of 16 bytes) and the bucket's
 * capacity, in its credits (the /proc listing's columns). */
uint64_t rules_hl_cost(const struct rules_hl_cfg *c);
uint64_t rules_hl_cap(const struct rules_hl_cfg *c);

/* Key bytes of a family: source, destination (4 or 16 each), ports. */
static inline unsigned rules_hl_keylen(uint8_t fam)
{
	return fam == 6 ? 36u : 12u;
}

/* Charge one packet of len IP bytes to key's bucket at time now_us (the
 * workers' clock): 1 under the limit (charged), 0 over it, -1 when the
 * key is new and the table has no room (the kernel's hotdrop). c is the
 * config the table's rules use. Workers; lock-free. */
int rules_hl_charge(struct rules_hl *t, const struct rules_hl_cfg *c, const uint8_t *key,
	uint32_t len, uint64_t now_us);

/* Free the entries idle past their expiry in every table whose gc
 * interval is due (at most budget slots looked at per call, resumed on
 * the next). Control thread, any time. */
void rules_hl_gc(uint64_t now_us, uint32_t budget);

/* Listings: the i-th live table (NULL past the last), its name, family,
 * config, live entries and the packets refused for want of room. */
const struct rules_hl *rules_hl_at(unsigned i);
struct rules_hl_info {
	const char *name;
	struct rules_hl_cfg cfg;
	uint32_t live;
	uint64_t full;
};
void rules_hl_info(const struct rules_hl *t, struct rules_hl_info *info);
/* Calls fn for every live entry: its key, the microseconds until it
 * expires, its credit in the kernel's credits (recalculated to now_us, as
 * the kernel's listing does) and in byte mode the refills left. */
void rules_hl_walk(const struct rules_hl *t, uint64_t now_us,
	void (*fn)(void *arg, const uint8_t *key, uint64_t expires_us, uint64_t credit,
		uint64_t refills),
	void *arg);

/* Tests: every table emptied. */
void rules_hl_reset_all(void);

#endif
