/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_trace: `rampartctl trace`, the path of chosen packets through the
 * dataplane (hooks, the rules whose targets ran, conntrack state, NAT, the
 * final fate).
 *
 * Threads and costs:
 *  - The control thread arms tracing (dp_trace_ctl "add"): it writes the
 *    filter under a sequence counter, then stores the number of packets
 *    still to trace (tickets, release). Workers test that number once per
 *    burst (relaxed load of a read-mostly cache line): with nothing armed,
 *    that test is all tracing costs, plus one test of the worker's own
 *    `trc` pointer in dp_hook (always NULL then).
 *  - While armed, a worker copies the filter at the start of a burst
 *    (retrying nothing: a filter being rewritten means no tracing for that
 *    burst), checks each packet against it, and takes a ticket with an
 *    atomic decrement; only a packet that got a ticket is traced. Its record
 *    is built on the worker's stack (fixed size, counter ids and the
 *    ruleset generation, never pointers) and pushed into the worker's
 *    single-producer/single-consumer trace ring; a full ring loses the
 *    record (counted), the worker never waits.
 *  - The control thread drains the rings (dp_ctl_poll, and before
 *    answering "show") into a list that keeps the last DP_TRACE_KEEP.
 */
#ifndef RP_DP_TRACE_H
#define RP_DP_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct dp_ctx;

#define DP_TRACE_MAX 1000  /* packets one `trace add` may ask for */
#define DP_TRACE_KEEP 1000 /* records the control thread keeps */
#define DP_TRACE_EVENTS 40 /* rules and hook verdicts recorded per packet */
#define DP_TRACE_RING 128  /* records in flight per worker */

/* What `trace add` matches (all given must match). */
struct dp_trace_filter {
	uint8_t fam;               /* 0: any, 4, 6 */
	uint8_t has_proto, proto;
	uint8_t src_fam, src_plen; /* src_fam 0: no -s */
	uint8_t dst_fam, dst_plen;
	uint8_t has_sport, has_dport;
	uint16_t sport, dport;
	uint16_t in_port;          /* UINT16_MAX: any */
	uint8_t src[16], dst[16];  /* masked by the prefix length */
};

/* Shared by the control thread (writer) and the workers (readers); lives in
 * struct dp_ctx on a cache line of its own. */
struct dp_trace_arm {
	int32_t left;     /* tickets: > 0 armed (atomic) */
	uint32_t seq;     /* odd while filt / epoch are being written */
	uint32_t epoch;   /* which `trace add` / `trace clear` */
	struct dp_trace_filter filt;
};

/* One event of a traced packet. */
enum dp_trace_ev_kind {
	DP_TEV_RULE = 1, /* ctr: the counter id of a rule or policy whose target ran */
	DP_TEV_HOOK,     /* the verdict of a hook (or its raw part, or the rest) */
};
enum { DP_TEV_F_ANSWER = 1 }; /* about the box's own answer (OUTPUT onwards) */

struct dp_trace_ev {
	uint32_t ctr;
	uint8_t kind;
	uint8_t hook;  /* enum rules_hook */
	uint8_t res;   /* DP_TEV_HOOK: enum rules_res */
	uint8_t part : 4; /* enum rules_part */
	uint8_t flags : 4;
};

/* How a traced packet left. */
enum dp_trace_fate {
	DP_TF_NONE,
	DP_TF_FORWARD,   /* out_port */
	DP_TF_FRAGMENTED, /* forwarded as fragments out out_port */
	DP_TF_LOCAL,     /* delivered to the box (drop: what its services did) */
	DP_TF_DROP,      /* drop: the reason (enum dp_drop) */
	DP_TF_REJECT,
	DP_TF_RESOLVE,   /* handed to the control thread: neighbour resolution */
	DP_TF_PUNT,      /* handed to the control thread (ARP, ND) */
	DP_TF_HANDOFF,   /* out_port: the worker its connection may live on */
	DP_TF_HELD,      /* a fragment held for reassembly */
};

#define DP_TRACE_CT_NONE 0xff

/* A traced packet: built on the worker's stack, copied through the ring. */
struct dp_trace_rec {
	uint64_t tsc;
	uint32_t epoch, gen; /* gen: dp_rules.gen, 0: no ruleset */
	uint16_t worker, in_port;
	uint16_t out_port;   /* DP_TF_FORWARD: port; DP_TF_HANDOFF: worker */
	uint16_t from_worker; /* handed over by that worker, UINT16_MAX: received here */
	uint8_t fate, drop, ct;   /* ct: CT_* state, DP_TRACE_CT_NONE: not tracked */
	uint8_t n_ev, ev_lost;
	uint8_t nat;              /* the headers changed (nsrc.. valid) */
	uint8_t answer;           /* worker: OUTPUT seen, later events are the box's answer */
	/* the packet as received */
	uint8_t l3, proto, tcp_flags, icmp_type, icmp_code, frag, l4;
	uint16_t ethertype, sport, dport, len;
	uint8_t src[16], dst[16];
	/* as it left (nat) */
	uint16_t nsport, ndport;
	uint8_t nsrc[16], ndst[16];
	struct dp_trace_ev ev[DP_TRACE_EVENTS];
};

/* Control thread: execute `trace ...` (argv[0] == "trace"); write the answer
 * lines to out, ending with a last line "%% ok[ message]" or "%% error: message".
 * json: `trace show` writes the records as one JSON array (json.h). */
void dp_trace_ctl(struct dp_ctx *dp, int argc, char **argv, FILE *out, bool json);

/* Control thread: move the workers' records into the kept list (dp_ctl_poll). */
unsigned dp_trace_drain(struct dp_ctx *dp);
/* dp_destroy */
void dp_trace_free(struct dp_ctx *dp);

#endif
