/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace_fast: the worker's side of `rampartctl trace` (see dp_trace.h).
 *
 * Runs only in bursts that began while tracing was armed. The packet's
 * path is recorded by dp_hook (the rules whose targets ran, each hook's
 * verdict) through w->trc; its fate is read after the pipeline from what
 * the pipeline already counts (the in port's drop counters, local
 * deliveries, punts, hand-offs), so no drop site carries tracing code.
 * Nothing here allocates, locks or waits: the record lives on the caller's
 * stack and goes to the control thread through the worker's SP/SC ring.
 */
#include <rte_cycles.h>
#include <rte_ring.h>

#include "dp_priv.h"

bool dp_trace_burst(struct dp_worker *w)
{
	const struct dp_trace_arm *a = &w->dp->trace;
	uint32_t s1 = __atomic_load_n(&a->seq, __ATOMIC_ACQUIRE);
	if (s1 & 1)
		return false; /* being rewritten: not this burst */
	memcpy(&w->tf, &a->filt, sizeof(w->tf));
	w->tf_epoch = a->epoch;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&a->seq, __ATOMIC_RELAXED) == s1;
}

static inline bool prefix_ok(const uint8_t *a, const uint8_t *net, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == net[full];
}

static inline bool has_ports(const struct pkt_meta *pm)
{
	return (pm->flags & PKT_F_L4) &&
	       (pm->l4_proto == IPPROTO_TCP || pm->l4_proto == IPPROTO_UDP ||
		pm->l4_proto == IPPROTO_SCTP || pm->l4_proto == IPPROTO_UDPLITE);
}

static bool filter_ok(const struct dp_trace_filter *f, struct rte_mbuf *m,
		      const struct pkt_meta *pm)
{
	if (f->in_port != UINT16_MAX && f->in_port != pm->in_port)
		return false;
	bool ip = pm->drop == DP_DROP_NONE && (pm->l3 == PKT_L3_IPV4 || pm->l3 == PKT_L3_IPV6);
	uint8_t fam = !ip ? 0 : pm->l3 == PKT_L3_IPV4 ? 4 : 6;
	if (f->fam && f->fam != fam)
		return false;
	if (f->has_proto && (!ip || pm->l4_proto != f->proto))
		return false;
	if (f->src_fam || f->dst_fam) {
		const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
		if (f->src_fam && (f->src_fam != fam ||
				   !prefix_ok(fam == 4 ? l3 + 12 : l3 + 8, f->src, f->src_plen)))
			return false;
		if (f->dst_fam && (f->dst_fam != fam ||
				   !prefix_ok(fam == 4 ? l3 + 16 : l3 + 24, f->dst, f->dst_plen)))
			return false;
	}
	if (f->has_sport || f->has_dport) {
		if (!ip || !has_ports(pm))
			return false;
		if (f->has_sport && pm->sport != f->sport)
			return false;
		if (f->has_dport && pm->dport != f->dport)
			return false;
	}
	return true;
}

bool dp_trace_begin(struct dp_worker *w, struct dp_trace_pkt *tp, const struct dp_rules *R,
		    struct rte_mbuf *m, const struct pkt_meta *pm, bool ticket)
{
	struct dp_ctx *dp = w->dp;
	uint32_t epoch = w->tf_epoch;
	if (ticket) {
		if (!filter_ok(&w->tf, m, pm))
			return false;
		/* the shared count: a packet is traced only if it took a ticket */
		if (__atomic_sub_fetch(&dp->trace.left, 1, __ATOMIC_RELAXED) < 0)
			return false;
	} else {
		epoch = __atomic_load_n(&dp->trace.epoch, __ATOMIC_RELAXED);
	}
	struct dp_trace_rec *r = &tp->rec;
	memset(r, 0, offsetof(struct dp_trace_rec, ev));
	r->tsc = rte_rdtsc();
	r->epoch = epoch;
	r->gen = R != NULL ? R->gen : 0;
	r->worker = (uint16_t)w->id;
	r->in_port = pm->in_port;
	r->out_port = UINT16_MAX;
	r->from_worker = UINT16_MAX;
	r->ct = DP_TRACE_CT_NONE;
	r->l3 = pm->drop == DP_DROP_NONE ? pm->l3 : PKT_L3_NONE;
	r->ethertype = pm->ethertype;
	r->len = (uint16_t)RTE_MIN(rte_pktmbuf_pkt_len(m), (uint32_t)UINT16_MAX);
	if (r->l3 == PKT_L3_IPV4 || r->l3 == PKT_L3_IPV6) {
		const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
		if (r->l3 == PKT_L3_IPV4) {
			memcpy(r->src, l3 + 12, 4);
			memcpy(r->dst, l3 + 16, 4);
		} else {
			memcpy(r->src, l3 + 8, 16);
			memcpy(r->dst, l3 + 24, 16);
		}
		r->len = pm->l3_len;
		r->proto = pm->l4_proto;
		r->frag = (pm->flags & PKT_F_FRAG) != 0;
		r->l4 = (pm->flags & PKT_F_L4) != 0;
		r->sport = pm->sport;
		r->dport = pm->dport;
		r->tcp_flags = pm->tcp_flags;
		r->icmp_type = pm->icmp_type;
		r->icmp_code = pm->icmp_code;
	}
	const struct dp_port_stats *ps = &w->st.port[pm->in_port];
	memcpy(tp->drop, ps->drop, sizeof(tp->drop));
	tp->local_in = w->st.local_in;
	tp->punted = w->st.punted;
	tp->handoff_out = w->st.handoff_out;
	tp->handoff_full = w->st.handoff_full;
	tp->fragmented = w->st.fragmented;
	/* the connection state seen after the pipeline is this packet's only
	 * if conntrack set it: mark it unknown (hook_pre resets it first) */
	tp->had_ct = R != NULL && R->ct;
	if (tp->had_ct)
		w->ctr.state = DP_TRACE_CT_NONE;
	w->trc = r;
	return true;
}

/* The packet's own hooks (not the box's answer) decided drop or reject. */
static const struct dp_trace_ev *own_verdict(const struct dp_trace_rec *r)
{
	for (unsigned i = 0; i < r->n_ev; i++) {
		const struct dp_trace_ev *e = &r->ev[i];
		if (e->kind == DP_TEV_HOOK && !(e->flags & DP_TEV_F_ANSWER) && e->res != RULES_R_ACCEPT)
			return e;
	}
	return NULL;
}

void dp_trace_end(struct dp_worker *w, struct dp_trace_pkt *tp, const struct dp_rules *R,
		  struct rte_mbuf *m, uint16_t out)
{
	struct dp_trace_rec *r = &tp->rec;
	w->trc = NULL;
	const struct dp_trace_ev *v = own_verdict(r);
	if (tp->had_ct && w->ctr.state != DP_TRACE_CT_NONE &&
	    !(v != NULL && v->part == RULES_PART_RAW) && !w->ctr.miss)
		r->ct = w->ctr.state;
	const struct dp_port_stats *ps = &w->st.port[r->in_port];
	uint8_t reason = DP_DROP_NONE;
	for (unsigned d = 1; d < DP_DROP_MAX; d++) {
		if (ps->drop[d] == tp->drop[d])
			continue;
		/* the box's answer to it may be dropped too: the packet's own reason first */
		if (reason == DP_DROP_NONE ||
		    (reason == DP_DROP_FILTER_DROP || reason == DP_DROP_FILTER_REJECT))
			reason = (uint8_t)d;
	}
	if (out != UINT16_MAX) {
		r->fate = DP_TF_FORWARD;
		r->out_port = out;
		if (r->l3 == PKT_L3_IPV4 || r->l3 == PKT_L3_IPV6) {
			/* what NAT (or nothing) made of the headers */
			struct pkt_meta pm;
			pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &pm, 0);
			if (pm.drop == DP_DROP_NONE && pm.l3 == r->l3) {
				const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm.l3_off);
				unsigned al = r->l3 == PKT_L3_IPV4 ? 4 : 16;
				memcpy(r->nsrc, r->l3 == PKT_L3_IPV4 ? l3 + 12 : l3 + 8, al);
				memcpy(r->ndst, r->l3 == PKT_L3_IPV4 ? l3 + 16 : l3 + 24, al);
				r->nsport = pm.sport;
				r->ndport = pm.dport;
				r->nat = memcmp(r->nsrc, r->src, al) != 0 ||
					 memcmp(r->ndst, r->dst, al) != 0 ||
					 (r->l4 && (pm.sport != r->sport || pm.dport != r->dport));
			}
		}
	} else if (v != NULL && v->res == RULES_R_REJECT) {
		r->fate = DP_TF_REJECT;
	} else if (v != NULL) {
		r->fate = DP_TF_DROP;
		r->drop = DP_DROP_FILTER_DROP;
	} else if (w->st.local_in != tp->local_in) {
		r->fate = DP_TF_LOCAL;
		r->drop = reason;
	} else if (w->st.fragmented != tp->fragmented) {
		r->fate = DP_TF_FRAGMENTED;
	} else if (reason != DP_DROP_NONE) {
		r->fate = DP_TF_DROP;
		r->drop = reason;
	} else if (w->st.handoff_out != tp->handoff_out) {
		r->fate = DP_TF_HANDOFF;
		r->out_port = w->ho_dest;
	} else if (w->st.punted != tp->punted) {
		r->fate = r->l3 == PKT_L3_IPV4 || r->l3 == PKT_L3_IPV6 ? DP_TF_RESOLVE : DP_TF_PUNT;
	} else if (r->frag) {
		r->fate = DP_TF_HELD;
	}
	if (rte_ring_sp_enqueue_elem(w->traceq, r, sizeof(*r)) != 0)
		w->trace_lost++;
}
