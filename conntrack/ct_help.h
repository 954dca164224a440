/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_help: connection tracking helpers (FTP, TFTP) and their expectations,
 * as Linux's nf_conntrack_ftp / nf_conntrack_tftp.
 *
 * A helper is given to a connection by `-t raw ... -j CT --helper NAME`
 * (as the kernel since 4.7: no automatic assignment by port). It reads the
 * connection's packets after the filter has accepted them and, when one
 * announces another connection (FTP's PORT/EPRT commands and 227/229
 * passive-mode replies, a TFTP read or write request), records an
 * expectation: the tuple that connection will have, its source port left
 * open. The first packet of a new connection that matches an expectation
 * takes it (an expectation is used once): the connection gets the
 * EXPECTED status and its packets are RELATED until the reply, as in
 * Linux.
 *
 * The expected connection may arrive on any worker (its tuple hashes
 * anywhere), so expectations live in one table shared by the workers, not
 * in a worker's connection table: open addressing over slots that a
 * writer claims with a compare-and-swap (free or expired -> busy), fills
 * and publishes (-> live, release); a new connection claims a matching
 * live slot (live -> busy), checks it again and frees it. No lock; the
 * only shared writes are these slot states and the live count, and only
 * when an expectation is made or used. A new connection looks at the
 * table only while it holds live expectations.
 *
 * No DPDK here: unit tests drive it with synthetic packets.
 */
#ifndef RP_CT_HELP_H
#define RP_CT_HELP_H

#include <stdbool.h>
#include <stdint.h>

#include "ct.h"

enum ct_helper { CT_HELPER_NONE, CT_HELPER_FTP, CT_HELPER_TFTP, CT_HELPER_MAX };
extern const char *const ct_helper_names[CT_HELPER_MAX]; /* "", "ftp", "tftp" */
/* The helper named s, CT_HELPER_NONE if none has that name. */
enum ct_helper ct_helper_by_name(const char *s);

/* How long an expectation waits for its connection (the kernel's
 * expect policy of both helpers: 5 minutes), in seconds. */
#define CT_EXPECT_TIMEOUT_S 300

enum { CT_EXP_FREE, CT_EXP_BUSY, CT_EXP_LIVE };

/* The expected connection of a translated control connection is
 * translated too, to the addresses its master's peers really have (the
 * kernel's nf_nat_follow_master): with dst, its destination becomes
 * addr:port; with src, its source becomes src_addr. */
struct ct_exp_nat {
	uint8_t on;      /* 0, or CT_EXP_NAT_DST | CT_EXP_NAT_SRC */
	uint16_t port;   /* host order */
	uint8_t addr[16];
	uint8_t src_addr[16];
};
#define CT_EXP_NAT_DST 1
#define CT_EXP_NAT_SRC 2
struct ct_exp_slot {
	uint32_t state; /* CT_EXP_* (atomic) */
	uint32_t expire; /* tick */
	struct ct_tuple k; /* the expected original tuple; sport 0: any */
	uint8_t helper;  /* the helper that made it */
	struct ct_exp_nat nat; /* the expected connection's translation */
	uint32_t oidx;   /* its control connection: entry oidx of table owner */
	const void *owner;
};

struct ct_expect {
	uint32_t live; /* live expectations (atomic) */
	uint32_t mask; /* slots - 1 */
	struct ct_exp_slot s[];
};

/* A table of slots slots (a power of two); alloc must return zeroed
 * memory. NULL on failure. */
struct ct_expect *ct_expect_create(uint32_t slots, void *(*alloc)(size_t));
size_t ct_expect_mem(uint32_t slots);

/* Record an expectation for tuple k (k->sport 0: any source port) until
 * tick expire, made by entry oidx of table owner (NULL: none), the
 * expected connection translated as nat says (NULL: not). An identical
 * live one is renewed. Returns its slot, or -1: no free slot near its
 * place (counted by the caller). */
int ct_expect_add(struct ct_expect *x, const struct ct_tuple *k, uint8_t helper,
	const struct ct_exp_nat *nat, const void *owner, uint32_t oidx, uint32_t expire,
	uint32_t now);
/* Drop slot's expectation if entry oidx of table owner made it. */
void ct_expect_drop(struct ct_expect *x, uint32_t slot, const void *owner, uint32_t oidx);
/* Free the expired slots (the control thread, now and then): until then
 * they count as live and new connections look at the table. */
void ct_expect_sweep(struct ct_expect *x, uint32_t now);
/* Does a new connection with original tuple k match a live expectation?
 * If so, the expectation is used up, its translation copied to *nat (if
 * not NULL) and true returned. */
bool ct_expect_take(struct ct_expect *x, const struct ct_tuple *k, uint32_t now,
	struct ct_exp_nat *nat);
/* Drop every expectation (conntrack -F). */
void ct_expect_flush(struct ct_expect *x);

/* Run the helper of entry idx on a packet of direction dir whose L4
 * payload (TCP after its header, UDP after its 8 bytes) is pl[0..n);
 * seq: the TCP segment's sequence number. Only packets of an established
 * connection are read (the caller's state), as in the kernel. As the
 * kernel's, a control connection has one expectation at a time (a new one
 * replaces it) and loses it when it dies (ct_help_dying). Expectations go
 * to t->exp; counted in t->st (expect_new, expect_full, expect_refused). */
void ct_help(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq, const uint8_t *pl,
	uint32_t n, uint32_t now);
/* Entry idx (with a helper) dies: its expectation goes. */
void ct_help_dying(struct ct_table *t, uint32_t idx);

/* FTP command/response parsing, exposed for tests and fuzzing: does line
 * l[0..n) (dir 0: from the client, 1: from the server) announce a data
 * connection? Fills the address (family fam, network order, 16 bytes;
 * EPSV leaves it untouched: the caller preset the sender's address) and
 * the port. */
bool ct_ftp_parse(const uint8_t *l, uint32_t n, unsigned dir, uint8_t fam, uint8_t *addr,
	uint16_t *port);

#endif
