/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragment reassembly for connection tracking, as Linux's nf_defrag_ipv4
 * and nf_defrag_ipv6 do it: one table per worker, up to REASM_MAX_PER_DG
 * fragments per datagram (a 64 KiB datagram in 576-byte IPv4 packets is
 * 119; the kernel has no count limit, but a sorted list walked per insert
 * must be short: FragmentSmack, CVE-2018-5391), overlaps discard the
 * datagram (RFC 5722, and Linux for IPv4 since the FragmentSmack fixes), a
 * fragment wholly inside what is already there is a duplicate (dropped, the
 * datagram kept).
 *
 * The table only keeps ranges and opaque packet handles: it neither reads
 * nor copies packets, so it carries no DPDK dependency and is fuzzed on its
 * own. The dataplane (router_fast.c) copies a complete datagram into one
 * buffer by walking its fragments in order (reasm_first / reasm_next) and
 * then releases it (reasm_release).
 *
 * Bounded memory: at most max_dg datagrams and max_frags fragments held;
 * when either is exhausted the oldest datagram in progress is discarded
 * (its fragments dropped and counted), so a flood of incomplete datagrams
 * cannot keep out the datagrams that complete. Datagrams live at most the
 * timeout of their family from their first fragment (not refreshed), like
 * the kernel's ipfrag_time (30 s) and nf_conntrack_frag6_timeout (60 s).
 *
 * Fast path: no allocation, no lock; one table per worker.
 */
#ifndef RAMPART_REASM_H
#define RAMPART_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REASM_MAX_PER_DG 128

/* reasm_add's fl: the fragment's ECN codepoint (the low 2 bits of its
 * TOS / traffic class) and its DF flag */
#define REASM_F_ECN_MASK 0x3
#define REASM_F_DF 0x4

struct reasm_key {
	uint8_t src[16], dst[16]; /* IPv4: first 4 bytes, the rest zero */
	uint32_t id;              /* IPv4: 16 bits */
	uint8_t proto;            /* IPv4 protocol; IPv6: 0 (not part of its key) */
	uint8_t v6;
	uint16_t zero;
};

/* what happened to a fragment given to reasm_add */
enum reasm_res {
	REASM_HELD,    /* kept; the datagram is still incomplete */
	REASM_DONE,    /* kept and the datagram is complete: *dg names it */
	REASM_DUP,     /* not kept: wholly inside what the datagram has (caller drops it) */
	REASM_BAD,     /* not kept: malformed for reassembly (caller drops it) */
	REASM_OVERLAP, /* not kept, and the datagram was discarded (overlap or inconsistent end) */
	REASM_PASS,    /* not kept, the datagram was discarded, the fragment goes on as it is
			  (IPv6, a length not a multiple of 8: nf_ct_frag6_queue's -EPROTO) */
};

struct reasm_stats {
	uint64_t done;     /* datagrams completed */
	uint64_t timeout;  /* datagrams that expired incomplete */
	uint64_t evicted;  /* datagrams discarded to make room */
	uint64_t overlap;  /* datagrams discarded: overlapping or inconsistent fragments */
	uint64_t dup;      /* duplicate fragments */
	uint64_t bad;      /* fragments refused (lengths, offsets) */
	uint64_t oversize; /* datagrams discarded: longer than an IP packet can be */
	uint64_t too_many; /* datagrams discarded: more than REASM_MAX_PER_DG fragments */
	uint64_t ecn;      /* datagrams discarded: ECN-capable and not-ECT fragments mixed */
};

/* called for every held fragment the table discards (timeout, eviction,
 * overlap): the caller frees the packet and counts it */
typedef void (*reasm_drop_fn)(void *ctx, void *pkt);

struct reasm;

/* max_dg datagrams in progress, max_frags fragments held (both at most
 * 32767), timeouts in the caller's clock units, seed keys the hash (a
 * random value, so that senders cannot aim at one chain). NULL if out of
 * memory. alloc must return zeroed memory. */
struct reasm *reasm_create(uint32_t max_dg, uint32_t max_frags, uint64_t timeout4,
			   uint64_t timeout6, uint64_t seed, reasm_drop_fn drop, void *ctx,
			   void *(*alloc)(size_t), void (*free_fn)(void *));
/* drops (through drop) every fragment still held */
void reasm_destroy(struct reasm *r);

/*
 * Add one fragment: off and len are its payload's place in the datagram
 * (bytes), more its MF flag, fl its ECN codepoint and DF flag (REASM_F_*),
 * ip_len its whole length
 * as an IP packet (the largest gives the size to fragment to again), hdr_len the length of the
 * unfragmentable part in front of the payload (IPv4 header; IPv6 header,
 * extension headers before the fragment header and the fragment header).
 * data_off is where the payload starts in pkt, kept for the caller.
 * On REASM_DONE *dg is the complete datagram.
 */
enum reasm_res reasm_add(struct reasm *r, const struct reasm_key *k, uint32_t off, uint32_t len,
			 bool more, unsigned fl, uint16_t ip_len, uint16_t hdr_len, void *pkt,
			 uint16_t data_off, uint64_t now, uint32_t *dg);

/* a complete datagram: total payload length, largest fragment, and its
 * fragments in order (reasm_first, then reasm_next until it returns -1) */
uint32_t reasm_total(const struct reasm *r, uint32_t dg);
uint16_t reasm_frag_max(const struct reasm *r, uint32_t dg);
/* the largest fragment had DF (IPv4): the datagram keeps DF, as Linux's
 * max_df_size == max_size */
bool reasm_df(const struct reasm *r, uint32_t dg);
/* the ECN codepoint to OR into the datagram's header: CE when a fragment
 * had it (the kernel's ip_frag_ecn_table) */
uint8_t reasm_ecn(const struct reasm *r, uint32_t dg);
int32_t reasm_first(const struct reasm *r, uint32_t dg);
int32_t reasm_next(const struct reasm *r, int32_t f);
void reasm_frag(const struct reasm *r, int32_t f, void **pkt, uint32_t *off, uint32_t *len,
		uint16_t *data_off);
/* forget a complete datagram; its packets are the caller's */
void reasm_release(struct reasm *r, uint32_t dg);

/* discard up to budget datagrams whose time is up; returns how many */
unsigned reasm_expire(struct reasm *r, uint64_t now, unsigned budget);

const struct reasm_stats *reasm_stats(const struct reasm *r);
uint32_t reasm_held_frags(const struct reasm *r);
uint32_t reasm_held_dgrams(const struct reasm *r);
size_t reasm_mem(uint32_t max_dg, uint32_t max_frags);

#endif
