/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ct: the connection tables seen from the control thread (listing,
 * deletion, flush, statistics), as `conntrack -L/-D/-F/-S/-C` do.
 */
#ifndef RP_DP_CT_H
#define RP_DP_CT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ct.h"
#include "ct_help.h"

struct dp_ctx;
struct json;

/* conntrack's filters, on the original tuple */
struct dp_ct_filter {
	uint8_t fam;   /* 0: both */
	bool has_proto, has_src, has_dst, has_mark;
	uint8_t proto;
	uint8_t src[16], dst[16];
	int sport, dport; /* -1: any */
	int state;        /* --state: enum ct_tcp_state of a TCP connection, -1: none */
	int sctp_state;   /* and enum ct_sctp_state of an SCTP one, -1: none */
	bool has_state;
	uint32_t mark, mask;
	/* the reply direction (-r/--reply-src, -q/--reply-dst,
	 * --reply-port-src/dst) and translation (--src-nat, --dst-nat,
	 * --any-nat, each with an optional address: the translated one) */
	bool has_rsrc, has_rdst;
	uint8_t rsrc[16], rdst[16];
	int rsport, rdport; /* -1: any */
	uint8_t nat;        /* DP_CT_F_SNAT | DP_CT_F_DNAT, ANY: either */
	bool has_snat_addr, has_dnat_addr; /* the address translated to / from */
	uint8_t snat_addr[16], dnat_addr[16];
	/* -w/--zone, --orig-zone, --reply-zone: the zone ids conntrack(8)
	 * compares (ctnetlink's CTA_ZONE for a zone of both directions,
	 * CTA_TUPLE_ZONE of a direction's own; 0 when absent); -1: any */
	int zone, zone_orig, zone_reply;
};
enum { DP_CT_F_SNAT = 1, DP_CT_F_DNAT = 2, DP_CT_F_ANYNAT = 4 };

/* A filter that matches every connection. */
void dp_ct_filter_init(struct dp_ct_filter *f);
/* Parse conntrack-style filter options from argv; *used: how many words. */
int dp_ct_filter_parse(struct dp_ct_filter *f, int argc, char **argv, int *used, char *err,
	size_t errlen);

/* Called with a one-entry view of each matching connection (index 0) and
 * its worker's clock; a negative return stops the walk. */
typedef int (*dp_ct_visit_fn)(void *arg, unsigned worker, const struct ct_table *view,
	uint32_t now);
/* Visit (and with kill, delete) the connections that match f. Returns how
 * many, or -1 with err. */
int dp_ct_walk(struct dp_ctx *dp, const struct dp_ct_filter *f, bool kill, dp_ct_visit_fn fn,
	void *arg, char *err, size_t errlen);
/* conntrack -U: the mark of the connections that match f becomes (mark &
 * ~mask) ^ value; fn visits those it changed (as they are now). Returns
 * how many changed, or -1 with err. */
int dp_ct_update_mark(struct dp_ctx *dp, const struct dp_ct_filter *f, uint32_t value,
	uint32_t mask, dp_ct_visit_fn fn, void *arg, char *err, size_t errlen);
/* Delete every connection; returns how many, or -1 with err. */
int dp_ct_flush(struct dp_ctx *dp, char *err, size_t errlen);
/* Delete the connections whose source was translated to one of port's
 * addresses (MASQUERADE, when the port goes down); how many, -1 if a
 * worker does not answer. */
int dp_ct_flush_snat(struct dp_ctx *dp, uint16_t port);
/* Whether a one-entry view matches f. */
bool dp_ct_match(const struct ct_table *view, const struct dp_ct_filter *f);

/* conntrack -E. A reader more (on) or less (off): with at least one, every
 * worker queues its connections' events (ct.h) for dp_ct_events_drain.
 * -1 with err when the queues cannot be made. */
int dp_ct_events(struct dp_ctx *dp, bool on, char *err, size_t errlen);
/* Called with a one-entry view of the connection as the event saw it, its
 * worker's clock then and the event (CT_EV_*). */
typedef void (*dp_ct_event_fn)(void *arg, unsigned worker, const struct ct_table *view,
	uint32_t now, unsigned type);
/* Hand up to max queued events to fn (NULL: discard them), worker by worker; *lost (if not NULL):
 * events the workers could not queue since the last call. Returns how
 * many were handed. */
unsigned dp_ct_events_drain(struct dp_ctx *dp, dp_ct_event_fn fn, void *arg, unsigned max,
	uint64_t *lost);

/* conntrack -E expect: a reader of the expectations' events more (on) or
 * less (off). -1 with err when the queue cannot be made. */
int dp_ct_exp_events(struct dp_ctx *dp, bool on, char *err, size_t errlen);
typedef void (*dp_ct_exp_event_fn)(void *arg, const struct ct_exp_ev *e);
/* Hand up to max queued expectation events to fn, oldest first; *lost
 * (if not NULL): those not queued since the last call. Returns how many. */
unsigned dp_ct_exp_events_drain(struct dp_ctx *dp, dp_ct_exp_event_fn fn, void *arg,
	unsigned max, uint64_t *lost);
/* An expectation event's fields as JSON members (conntrack -L expect
 * --json's object, -E expect's without "event"). */
void dp_ct_exp_json(struct json *j, const struct ct_exp_ev *e);

/* Per-worker statistics, one line each ("worker=N name=value ..."), or
 * with j (out unused) one JSON array of objects with the same names. */
void dp_ct_stats(struct dp_ctx *dp, FILE *out, struct json *j);
/* The helpers' live expectations (conntrack -L expect), as text lines or
 * JSON objects; returns how many. With flush, they are dropped instead
 * (conntrack -F expect) and nothing is printed. */
int dp_ct_expect_list(struct dp_ctx *dp, FILE *out, struct json *j, bool flush);
/* NAT's per-worker counters, one line each, or a JSON array with j. */
void dp_nat_stats(struct dp_ctx *dp, FILE *out, struct json *j);
/* Live connections of all workers. */
unsigned dp_ct_count(struct dp_ctx *dp);
/* New timeouts (the timeout policies' too, the first p->n_tpol of those
 * the dataplane started with) and TCP options (not sizes), seen by the workers from each
 * entry's next packet; true if anything changed. */
bool dp_ct_set_params(struct dp_ctx *dp, const struct ct_params *p);

#endif
