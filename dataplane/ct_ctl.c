/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_ctl: the control thread's side of the workers' connection tables.
 *
 * A table belongs to its worker: the control thread never reads entries
 * directly. It posts a request in the worker's mailbox (struct dp_ctmsg,
 * one at a time) and waits for the worker to do it at the end of a loop:
 * copy up to DP_CT_CHUNK live entries from a cursor, kill one entry, or
 * flush a slice. The worker's share of the work per loop is bounded; the
 * formatting (slow) happens here. Statistics are plain per-worker counters,
 * read directly as all counters are.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_ct.h"
#include "dp_priv.h"
#include "json.h"

#define DP_CT_CHUNK 256
#define DP_CT_WAIT_US 2000000 /* a worker that does not answer in 2 s is stuck */

/* Run q on worker w (in its thread when the dataplane runs, else here). */
static int ask(struct dp_ctx *dp, struct dp_worker *w, struct dp_ctmsg *q)
{
	q->done = 0;
	if (!dp->started) {
		__atomic_store_n(&w->ctl, q, __ATOMIC_RELEASE);
		dp_ct_serve(w);
		return 0;
	}
	__atomic_store_n(&w->ctl, q, __ATOMIC_RELEASE);
	uint64_t end = rte_rdtsc() + DP_CT_WAIT_US * dp->tsc_us;
	while (!__atomic_load_n(&q->done, __ATOMIC_ACQUIRE)) {
		if (rte_rdtsc() > end) {
			/* take the request back if the worker has not started it */
			struct dp_ctmsg *exp = q;
			if (__atomic_compare_exchange_n(&w->ctl, &exp, NULL, false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return -1;
			/* it has: it will finish shortly */
		}
		rte_pause();
	}
	return 0;
}

/* A one-entry table over a snapshot, for the ct_* readers. */
static void view_of(struct ct_table *v, struct dp_ctsnap *s)
{
	memset(v, 0, sizeof(*v));
	v->e = &s->e;
	v->x6 = &s->a6;
	v->zn = &s->zn;
	if (s->e.fam == 6)
		s->e.a.x6 = 0;
	v->max = 1;
}

bool dp_ct_match(const struct ct_table *v, const struct dp_ct_filter *f)
{
	const struct ct_entry *e = &v->e[0];
	struct ct_tuple k;
	ct_entry_tuple(v, 0, 0, &k);
	if (f->fam && e->fam != f->fam)
		return false;
	if (f->has_proto && e->proto != f->proto)
		return false;
	if (f->has_src && memcmp(k.src, f->src, 16) != 0)
		return false;
	if (f->has_dst && memcmp(k.dst, f->dst, 16) != 0)
		return false;
	if (f->sport >= 0 && (e->proto == 1 || e->proto == 58 || k.sport != f->sport))
		return false;
	if (f->dport >= 0 && (e->proto == 1 || e->proto == 58 || k.dport != f->dport))
		return false;
	if (f->has_state && !(e->proto == 6 && (int)ct_tcp_state(e) == f->state) &&
	    !(e->proto == 132 && (int)ct_sctp_state(e) == f->sctp_state))
		return false;
	if (f->has_mark && (ct_mark(v, e) & f->mask) != f->mark)
		return false;
	if (f->zone >= 0 || f->zone_orig >= 0 || f->zone_reply >= 0) {
		/* what ctnetlink reports: one zone for both directions
		 * (CTA_ZONE), or a direction's own (CTA_TUPLE_ZONE); absent
		 * is 0, as conntrack(8) compares */
		uint32_t zp = ct_zones_of(v, 0);
		uint16_t zo = (uint16_t)zp, zr = (uint16_t)(zp >> 16);
		int both = zo == zr ? zo : 0, orig = zo != zr ? zo : 0, reply = zo != zr ? zr : 0;
		if ((f->zone >= 0 && both != f->zone) || (f->zone_orig >= 0 && orig != f->zone_orig) ||
		    (f->zone_reply >= 0 && reply != f->zone_reply))
			return false;
	}
	if (!(f->has_rsrc || f->has_rdst || f->rsport >= 0 || f->rdport >= 0 || f->nat))
		return true;
	struct ct_tuple r;
	ct_entry_tuple(v, 0, 1, &r);
	bool icmp = e->proto == 1 || e->proto == 58;
	if ((f->has_rsrc && memcmp(r.src, f->rsrc, 16) != 0) ||
	    (f->has_rdst && memcmp(r.dst, f->rdst, 16) != 0) ||
	    (f->rsport >= 0 && (icmp || r.sport != f->rsport)) ||
	    (f->rdport >= 0 && (icmp || r.dport != f->rdport)))
		return false;
	if (f->nat == 0)
		return true;
	/* as conntrack(8)'s filter_nat: source NAT shows in the reply's
	 * destination, destination NAT in its source (the address given:
	 * the translated one); --any-nat either, --src-nat with --dst-nat
	 * both */
	bool s = (e->status & CT_S_SRC_NAT) && (!f->has_snat_addr || !memcmp(r.dst, f->snat_addr, 16));
	bool d = (e->status & CT_S_DST_NAT) && (!f->has_dnat_addr || !memcmp(r.src, f->dnat_addr, 16));
	if (f->nat & DP_CT_F_ANYNAT)
		return s || d;
	return (!(f->nat & DP_CT_F_SNAT) || s) && (!(f->nat & DP_CT_F_DNAT) || d);
}

static int walk(struct dp_ctx *dp, const struct dp_ct_filter *f, uint8_t op, uint32_t mark,
	uint32_t mask, dp_ct_visit_fn fn, void *arg, char *err, size_t errlen)
{
	/* aligned as its entries (struct ct_entry is a cache line); its size
	 * is a multiple of that alignment */
	struct dp_ctsnap *buf = aligned_alloc(_Alignof(struct dp_ctsnap), DP_CT_CHUNK * sizeof(*buf));
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int n = 0;
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		struct dp_worker *w = dp->workers[wi];
		if (w->ct == NULL)
			continue;
		struct dp_ctmsg q = { .op = DP_CT_LIST, .cursor = 0, .max = DP_CT_CHUNK, .out = buf };
		while (q.cursor != UINT32_MAX) {
			if (ask(dp, w, &q) < 0) {
				snprintf(err, errlen, "worker %u does not answer", wi);
				free(buf);
				return -1;
			}
			for (uint32_t i = 0; i < q.n; i++) {
				struct ct_table v;
				struct dp_ctsnap snap = buf[i];
				view_of(&v, &snap);
				/* timed out, not yet reaped: gone, as the kernel's
				 * dump skips it (the worker frees it on its own) */
				if ((int32_t)(v.e[0].expire - q.now) <= 0 || !dp_ct_match(&v, f))
					continue;
				if (op != DP_CT_LIST) {
					struct dp_ctmsg kq = { .op = op, .cursor = buf[i].idx,
							       .out = &buf[i], .mark = mark,
							       .mask = mask };
					if (ask(dp, w, &kq) < 0) {
						snprintf(err, errlen, "worker %u does not answer", wi);
						free(buf);
						return -1;
					}
					if (!kq.killed)
						continue; /* gone, replaced meanwhile, or unchanged */
					if (op == DP_CT_MARK)
						snap.e.mts = kq.mark; /* shown as it is now */
				}
				n++;
				if (fn != NULL && fn(arg, wi, &v, q.now) < 0) {
					free(buf);
					return n;
				}
			}
		}
	}
	free(buf);
	return n;
}

int dp_ct_walk(struct dp_ctx *dp, const struct dp_ct_filter *f, bool kill, dp_ct_visit_fn fn,
	void *arg, char *err, size_t errlen)
{
	return walk(dp, f, kill ? DP_CT_KILL : DP_CT_LIST, 0, 0, fn, arg, err, errlen);
}

int dp_ct_update_mark(struct dp_ctx *dp, const struct dp_ct_filter *f, uint32_t value,
	uint32_t mask, dp_ct_visit_fn fn, void *arg, char *err, size_t errlen)
{
	return walk(dp, f, DP_CT_MARK, value, mask, fn, arg, err, errlen);
}

#define DP_CT_EVQ (1u << 13) /* events a worker may have queued */

int dp_ct_events(struct dp_ctx *dp, bool on, char *err, size_t errlen)
{
	if (!on) {
		if (dp->ct_ev_readers > 0 && --dp->ct_ev_readers == 0 && dp->ct_evq != NULL)
			for (unsigned wi = 0; wi < dp->n_workers; wi++)
				if (dp->workers[wi]->ct != NULL)
					__atomic_store_n(&dp->workers[wi]->ct->evq, NULL, __ATOMIC_RELEASE);
		return 0;
	}
	if (dp->ct_evq == NULL && (dp->ct_evq = calloc(DP_MAX_WORKERS, sizeof(*dp->ct_evq))) == NULL) {
		snprintf(err, errlen, "out of memory for the event queues");
		return -1;
	}
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		if (dp->workers[wi]->ct == NULL || dp->ct_evq[wi] != NULL)
			continue;
		size_t sz = sizeof(struct ct_evq) + DP_CT_EVQ * sizeof(struct ct_ev);
		struct ct_evq *q = rte_zmalloc_socket("rp_ctev", sz, RTE_CACHE_LINE_SIZE,
						      (int)rte_socket_id());
		if (q == NULL) {
			snprintf(err, errlen, "out of memory for the event queues");
			return -1;
		}
		q->mask = DP_CT_EVQ - 1;
		/* the events a packet leaves for its confirmation (the
		 * kernel's ecache): 2 bytes an entry from the first listener on */
		if (ct_side_enable(dp->workers[wi]->ct, CT_SIDE_ECACHE) < 0) {
			rte_free(q);
			snprintf(err, errlen, "out of memory for the event cache");
			return -1;
		}
		dp->ct_evq[wi] = q;
	}
	if (dp->ct_ev_readers++ == 0) {
		/* a worker that still saw the last reader's queue may be
		 * caching into ec: done with that packet before ec is cleared */
		if (dp->started)
			rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
		for (unsigned wi = 0; wi < dp->n_workers; wi++) {
			struct ct_evq *q = dp->ct_evq[wi];
			if (q == NULL)
				continue;
			/* what was queued or cached before the last reader left
			 * is stale */
			struct ct_ev ev;
			while (ct_event_get(q, &ev))
				;
			struct ct_table *t = dp->workers[wi]->ct;
			if (t->ec != NULL)
				memset(t->ec, 0, (size_t)t->max * sizeof(t->ec[0]));
			/* release: the worker sees the queue set up */
			__atomic_store_n(&dp->workers[wi]->ct->evq, q, __ATOMIC_RELEASE);
		}
	}
	return 0;
}

unsigned dp_ct_events_drain(struct dp_ctx *dp, dp_ct_event_fn fn, void *arg, unsigned max,
	uint64_t *lost)
{
	unsigned n = 0;
	uint64_t l = 0;
	/* each call starts at the next worker: a budget that runs out is not
	 * always the last workers' loss */
	unsigned first = dp->n_workers ? dp->ct_ev_next++ % dp->n_workers : 0;
	for (unsigned k = 0; k < dp->n_workers && dp->ct_evq != NULL; k++) {
		unsigned wi = (first + k) % dp->n_workers;
		struct ct_evq *q = dp->ct_evq[wi];
		if (q == NULL)
			continue;
		l += __atomic_load_n(&q->lost, __ATOMIC_RELAXED);
		if (fn == NULL) { /* discarded unread (rampart-bench) */
			uint32_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
			uint32_t m = head - q->tail < max - n ? head - q->tail : max - n;
			__atomic_store_n(&q->tail, q->tail + m, __ATOMIC_RELEASE);
			n += m;
			continue;
		}
		struct ct_ev ev;
		while (n < max && ct_event_get(q, &ev)) {
			struct dp_ctsnap snap = { .idx = 0, .zn = ev.zn, .e = ev.e, .a6 = ev.a6 };
			struct ct_table v;
			view_of(&v, &snap);
			fn(arg, wi, &v, ev.now, ev.type);
			n++;
		}
	}
	if (lost != NULL)
		*lost = l - dp->ct_ev_lost_seen;
	dp->ct_ev_lost_seen = l;
	return n;
}

int dp_ct_flush(struct dp_ctx *dp, char *err, size_t errlen)
{
	int n = 0;
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		struct dp_worker *w = dp->workers[wi];
		if (w->ct == NULL)
			continue;
		struct dp_ctmsg q = { .op = DP_CT_FLUSH, .cursor = 0 };
		while (q.cursor != UINT32_MAX) {
			if (ask(dp, w, &q) < 0) {
				snprintf(err, errlen, "worker %u does not answer", wi);
				return -1;
			}
		}
		n += (int)q.killed;
	}
	/* the helpers' expectations go too, as conntrack -F's do (the
	 * table is shared: claimed slot by slot, no worker stops) */
	if (dp->ct_exp != NULL)
		ct_expect_flush(dp->ct_exp);
	return n;
}

int dp_ct_flush_snat(struct dp_ctx *dp, uint16_t port)
{
	int n = 0;
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		struct dp_worker *w = dp->workers[wi];
		if (w->ct == NULL)
			continue;
		struct dp_ctmsg q = { .op = DP_CT_FLUSH_SNAT, .cursor = 0, .port = port };
		while (q.cursor != UINT32_MAX)
			if (ask(dp, w, &q) < 0)
				return -1;
		n += (int)q.killed;
	}
	return n;
}

/* One worker's counters: "worker=N name=value ..." (text) or
 * {"worker":N,"name":value,...} (j). */
struct kv {
	const char *k;
	uint64_t v;
};

static void print_kv(FILE *out, struct json *j, unsigned wi, const struct kv *kv, size_t n)
{
	if (j != NULL) {
		json_obj(j);
		json_ku64(j, "worker", wi);
		for (size_t i = 0; i < n; i++)
			json_ku64(j, kv[i].k, kv[i].v);
		json_obj_end(j);
		return;
	}
	fprintf(out, "worker=%u", wi);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s=%" PRIu64, kv[i].k, kv[i].v);
	fputc('\n', out);
}

void dp_ct_stats(struct dp_ctx *dp, FILE *out, struct json *j)
{
	if (j != NULL)
		json_arr(j);
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		const struct dp_worker *w = dp->workers[wi];
		if (w->ct == NULL) {
			if (j != NULL) {
				json_obj(j);
				json_ku64(j, "worker", wi);
				json_kbool(j, "tracking", false);
				json_obj_end(j);
			} else {
				fprintf(out, "worker=%u tracking=off\n", wi);
			}
			continue;
		}
		const struct ct_stats *s = &w->ct->st;
		const struct kv kv[] = {
			{ "entries", w->ct->live }, { "max", w->ct->max },
			{ "ipv6", w->ct->live6 }, { "max_ipv6", w->ct->max6 },
			{ "found", s->found }, { "new", s->new_ }, { "invalid", s->invalid },
			{ "ignore", s->ignore }, { "related", s->related },
			{ "untracked", s->untracked }, { "insert_failed", s->insert_failed },
			{ "early_drop", s->early_drop }, { "drop", s->drop },
			{ "expired", s->expired }, { "expect_new", s->expect_new },
			{ "expect_match", s->expect_match }, { "expect_full", s->expect_full },
			{ "expect_refused", s->expect_refused }, { "helper_full", s->help_full },
			{ "helper_mangled", s->help_mangled }, { "helper_drop", s->help_drop },
			{ "handoff_out", w->st.handoff_out },
			{ "handoff_in", w->st.handoff_in }, { "nat_src", w->nst.bind_src },
			{ "nat_dst", w->nst.bind_dst }, { "nat_port_changed", w->nst.port_changed },
			{ "nat_fail", w->nst.alloc_fail }, { "nat_icmp", w->nst.icmp_err },
			{ "connlimit_full",
			  dp->rules && dp->rules->climit[wi] ? dp->rules->climit[wi]->full : 0 },
		};
		print_kv(out, j, wi, kv, sizeof(kv) / sizeof(kv[0]));
	}
	if (j != NULL)
		json_arr_end(j);
}

void dp_nat_stats(struct dp_ctx *dp, FILE *out, struct json *j)
{
	if (j != NULL)
		json_arr(j);
	for (unsigned wi = 0; wi < dp->n_workers; wi++) {
		const struct nat_stats *s = &dp->workers[wi]->nst;
		const struct kv kv[] = {
			{ "bindings_src", s->bind_src }, { "bindings_dst", s->bind_dst },
			{ "port_changed", s->port_changed }, { "alloc_fail", s->alloc_fail },
			{ "tuples_tried", s->tried }, { "icmp_errors", s->icmp_err },
			{ "rss_steered", s->rss_steered }, { "rss_unsteered", s->rss_unsteered },
			{ "handoff_out", dp->workers[wi]->st.handoff_out },
			{ "handoff_in", dp->workers[wi]->st.handoff_in },
		};
		print_kv(out, j, wi, kv, sizeof(kv) / sizeof(kv[0]));
	}
	if (j != NULL)
		json_arr_end(j);
}

unsigned dp_ct_count(struct dp_ctx *dp)
{
	unsigned n = 0;
	for (unsigned wi = 0; wi < dp->n_workers; wi++)
		if (dp->workers[wi]->ct)
			n += __atomic_load_n(&dp->workers[wi]->ct->live, __ATOMIC_RELAXED);
	return n;
}

bool dp_ct_set_params(struct dp_ctx *dp, const struct ct_params *p)
{
	struct ct_params *cur = &dp->ct_par;
	bool changed = false;
	/* single aligned stores: a worker reads the old or the new value of
	 * each, and every value alone is valid */
	for (unsigned i = 0; i < CT_TO_COUNT; i++)
		if (cur->to[i] != p->to[i]) {
			__atomic_store_n(&cur->to[i], p->to[i], __ATOMIC_RELAXED);
			changed = true;
		}
	/* the timeout policies' values, by id (rp_tpol_reload: an id is a
	 * policy for good; new ones come with ids after the last) */
	for (unsigned k = 0; k < p->n_tpol && k < CT_TPOL_IDS; k++)
		for (unsigned i = 0; i < CT_TO_COUNT; i++)
			if (cur->tpol[k][i] != p->tpol[k][i]) {
				__atomic_store_n(&cur->tpol[k][i], p->tpol[k][i], __ATOMIC_RELAXED);
				changed = true;
			}
	if (p->n_tpol > cur->n_tpol && p->n_tpol <= CT_TPOL_IDS) {
		/* release: their timeouts before the ids are taken as valid */
		__atomic_store_n(&cur->n_tpol, p->n_tpol, __ATOMIC_RELEASE);
		changed = true;
	}
#define SET(f)                                                              \
	if (cur->f != p->f) {                                               \
		__atomic_store_n(&cur->f, p->f, __ATOMIC_RELAXED);          \
		changed = true;                                             \
	}
	SET(tcp_loose)
	SET(tcp_be_liberal)
	SET(tcp_max_retrans)
	SET(tcp_ignore_invalid_rst)
	SET(checksum)
#undef SET
	return changed;
}

void dp_ct_exp_json(struct json *j, const struct ct_exp_ev *e)
{
	int af = e->k.fam == 4 ? AF_INET : AF_INET6;
	char a[INET6_ADDRSTRLEN];
	uint8_t msrc[16], mdst[16];
	uint16_t msp, mdp;
	ct_exp_mask(e, msrc, mdst, &msp, &mdp);
	int32_t left = (int32_t)(e->expire - e->now);
	json_ku64(j, "timeout", left > 0 ? (unsigned)left / CT_HZ : 0);
	json_kstr(j, "family", e->k.fam == 4 ? "ipv4" : "ipv6");
	json_kstr(j, "proto", ct_proto_name(e->k.proto));
	json_kstr(j, "src", inet_ntop(af, e->k.src, a, sizeof(a)));
	json_kstr(j, "dst", inet_ntop(af, e->k.dst, a, sizeof(a)));
	json_ku64(j, "sport", e->k.sport);
	json_ku64(j, "dport", e->k.dport);
	json_kstr(j, "mask_src", inet_ntop(af, msrc, a, sizeof(a)));
	json_kstr(j, "mask_dst", inet_ntop(af, mdst, a, sizeof(a)));
	json_ku64(j, "mask_sport", msp);
	json_ku64(j, "mask_dport", mdp);
	json_kstr(j, "master_src", inet_ntop(af, e->mt.src, a, sizeof(a)));
	json_kstr(j, "master_dst", inet_ntop(af, e->mt.dst, a, sizeof(a)));
	json_ku64(j, "master_sport", e->mt.sport);
	json_ku64(j, "master_dport", e->mt.dport);
	json_ku64(j, "class", 0);
	json_kstr(j, "helper", e->helper < CT_HELPER_MAX ? ct_helper_names[e->helper] : "?");
}

#define DP_CT_EXPQ 4096u /* expectation events queued at most */
_Static_assert(sizeof(struct ct_exp_ev) % 4 == 0, "an rte_ring element");

/* ct_expect's ev: any thread (workers making and taking expectations,
 * the control thread sweeping and flushing) */
static void exp_ev_put(void *arg, struct ct_exp_ev *e)
{
	struct dp_ctx *dp = arg;
	e->now = dp->ct_clock != 0 ? dp->ct_clock : (uint32_t)(rte_rdtsc() / dp->ct_tsc_tick);
	if (rte_ring_mp_enqueue_elem(dp->ct_expq, e, sizeof(*e)) != 0)
		__atomic_fetch_add(&dp->ct_exp_lost, 1, __ATOMIC_RELAXED);
}

int dp_ct_exp_events(struct dp_ctx *dp, bool on, char *err, size_t errlen)
{
	struct ct_expect *x = dp->ct_exp;
	if (!on) {
		if (dp->ct_exp_readers > 0 && --dp->ct_exp_readers == 0 && x != NULL)
			__atomic_store_n(&x->ev_on, 0, __ATOMIC_RELEASE);
		return 0;
	}
	if (x == NULL) { /* no conntrack: never an event */
		dp->ct_exp_readers++;
		return 0;
	}
	if (dp->ct_expq == NULL) {
		dp->ct_expq = rte_ring_create_elem("rp_ctexp", sizeof(struct ct_exp_ev), DP_CT_EXPQ,
						   (int)rte_socket_id(), RING_F_SC_DEQ);
		if (dp->ct_expq == NULL) {
			snprintf(err, errlen, "cannot create the expectation event queue: %s",
				 rte_strerror(rte_errno));
			return -1;
		}
	}
	if (dp->ct_exp_readers++ == 0) {
		/* what was queued before the last reader left is stale (a
		 * worker that still saw it follow is done with its packet
		 * first), and so are its losses */
		if (dp->started)
			rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
		struct ct_exp_ev e;
		while (rte_ring_sc_dequeue_elem(dp->ct_expq, &e, sizeof(e)) == 0)
			;
		dp->ct_exp_lost_seen = __atomic_load_n(&dp->ct_exp_lost, __ATOMIC_RELAXED);
		if (x->ev == NULL) { /* once: workers read them while ev_on is set */
			x->ev_arg = dp;
			x->ev = exp_ev_put;
		}
		__atomic_store_n(&x->ev_on, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

unsigned dp_ct_exp_events_drain(struct dp_ctx *dp, dp_ct_exp_event_fn fn, void *arg,
	unsigned max, uint64_t *lost)
{
	unsigned n = 0;
	if (dp->ct_expq != NULL) {
		struct ct_exp_ev e;
		while (n < max && rte_ring_sc_dequeue_elem(dp->ct_expq, &e, sizeof(e)) == 0) {
			if (fn != NULL)
				fn(arg, &e);
			n++;
		}
	}
	uint64_t l = __atomic_load_n(&dp->ct_exp_lost, __ATOMIC_RELAXED);
	if (lost != NULL)
		*lost = l - dp->ct_exp_lost_seen;
	dp->ct_exp_lost_seen = l;
	return n;
}

int dp_ct_expect_list(struct dp_ctx *dp, FILE *out, struct json *j, bool flush)
{
	struct ct_expect *x = dp->ct_exp;
	if (x == NULL)
		return 0;
	if (flush) {
		uint32_t live = __atomic_load_n(&x->live, __ATOMIC_RELAXED);
		ct_expect_flush(x);
		return (int)live;
	}
	uint32_t now = (uint32_t)(rte_rdtsc() / dp->ct_tsc_tick);
	int n = 0;
	for (uint32_t i = 0; i <= x->mask; i++) {
		const struct ct_exp_slot *s = &x->s[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != CT_EXP_LIVE)
			continue;
		struct ct_exp_slot c = *s; /* a worker may take it meanwhile: */
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != CT_EXP_LIVE ||
		    (int32_t)(c.expire - now) <= 0)
			continue; /* ... then it is not shown */
		struct ct_exp_ev e;
		ct_exp_ev_of(&c, 0, now, &e);
		if (j != NULL) {
			json_obj(j);
			dp_ct_exp_json(j, &e);
			json_obj_end(j);
		} else if (out != NULL) {
			char line[512];
			ct_format_expect(&e, line, sizeof(line));
			fprintf(out, "%s\n", line);
		}
		n++;
	}
	return n;
}
