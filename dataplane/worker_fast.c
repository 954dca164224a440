/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker_fast: the worker loop. Runs on worker lcores only. Per iteration:
 * one rx burst from its queue of every port, the mode's burst pipeline,
 * packets the control thread injected, one tx flush per port, and a
 * quiescent-state report for RCU. No allocation, lock or syscall here
 * (except the optional idle sleep, which only runs when nothing arrived).
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_priv.h"

/* Hand a port's buffered packets to its tx queue; what it refuses is
 * dropped and counted (never retried in a loop: a stuck NIC must not stall
 * the worker). */
void dp_txq_send(struct dp_worker *w, uint16_t port)
{
	struct dp_txq *t = &w->tx[port];
	uint16_t sent = rte_eth_tx_burst(w->dp->ports[port].port_id, w->q, t->pkts, t->n);
	struct dp_port_stats *ps = &w->st.port[port];
	ps->tx_pkts += sent; /* tx_bytes are counted at enqueue */
	if (unlikely(sent < t->n)) {
		ps->drop[DP_DROP_TX_FULL] += t->n - sent;
		for (uint16_t i = sent; i < t->n; i++) {
			ps->tx_bytes -= rte_pktmbuf_pkt_len(t->pkts[i]);
			rte_pktmbuf_free(t->pkts[i]);
		}
	}
	t->n = 0;
}

void dp_tx_flush(struct dp_worker *w)
{
	for (uint16_t p = 0; p < w->dp->n_ports; p++)
		if (w->tx[p].n)
			dp_txq_send(w, p);
}

void dp_drop_pkt(struct dp_worker *w, uint16_t port, uint8_t reason, struct rte_mbuf *m)
{
	w->st.port[port].drop[reason]++;
	rte_pktmbuf_free(m);
}

void dp_punt(struct dp_worker *w, struct rte_mbuf *m, uint8_t reason, uint16_t in_port)
{
	struct dp_mbuf_priv *pv = dp_priv(m);
	pv->reason = reason;
	pv->in_port = in_port;
	pv->worker = (uint16_t)w->id;
	if (unlikely(rte_ring_sp_enqueue(w->punt, m) != 0)) {
		dp_drop_pkt(w, in_port, DP_DROP_PUNT_RING_FULL, m);
		return;
	}
	w->st.punted++;
}

static void null_burst(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		dp_tx_enqueue(w, in, pkts[i]);
}

static unsigned drain_inject(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->inject, (void **)pkts, DP_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (unlikely(dp_priv(pkts[i])->reason == DP_INJ_UNREACH)) {
			dp_unreach_held(w, pkts[i]);
			continue;
		}
		uint16_t out = dp_priv(pkts[i])->out_port;
		if (unlikely(out >= w->dp->n_ports)) {
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		dp_tx_enqueue(w, out, pkts[i]);
	}
	w->st.injected += n;
	return n;
}

unsigned dp_worker_poll(struct dp_worker *w)
{
	struct dp_ctx *dp = w->dp;
	struct rte_mbuf *pkts[DP_BURST];
	unsigned total = 0;

	if (w->ct)
		w->ct->now = w->ct_now = likely(dp->ct_clock == 0)
					       ? (uint32_t)(rte_rdtsc() / dp->ct_tsc_tick)
					       : dp->ct_clock;
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		uint16_t n = rte_eth_rx_burst(dp->ports[p].port_id, w->q, pkts, DP_BURST);
		if (n == 0)
			continue;
		total += n;
		struct dp_port_stats *ps = &w->st.port[p];
		ps->rx_pkts += n;
		for (uint16_t i = 0; i < n; i++)
			ps->rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		if (dp->null_mode)
			null_burst(w, p, pkts, n);
		else if (dp->mode == CFG_MODE_ROUTER)
			dp_router_burst(w, p, pkts, n);
		else
			dp_bridge_burst(w, p, pkts, n);
		/* -j TEE's copies of the burst (at most DP_TEE_MAX waiting) */
		if (unlikely(w->n_tee))
			dp_tee_flush(w);
	}
	if (unlikely(!rte_ring_empty(w->inject)))
		total += drain_inject(w);
	if (unlikely(!rte_ring_empty(w->handoff)))
		total += dp_handoff_drain(w);
	if (unlikely(w->n_tee)) /* those of the box's own and handed-over packets */
		dp_tee_flush(w);
	dp_tx_flush(w);
	/* a packet that created a connection and was then dropped (the
	 * filter, REJECT) left its entry unconfirmed: freed now, not at this
	 * worker's next packet -- -m connlimit's counts, which other workers
	 * read, must not hold it meanwhile */
	if (w->ct && unlikely(w->ct->pending != CT_NIL))
		ct_abort(w->ct);
	if (w->reasm)
		reasm_expire(w->reasm, rte_rdtsc(), 4); /* bounded, as conntrack's */
	if (w->ct) {
		/* bounded: a mass expiry spreads over many loops */
		ct_expire(w->ct, w->ct_now, 64);
		/* connlimit: the counts other workers read stay fresh */
		const struct dp_rules *R = dp_rules_get(w->dp);
		if (unlikely(R != NULL && R->climit[w->id] != NULL))
			ct_limit_gc(R->climit[w->id], w->ct, 16);
		if (unlikely(__atomic_load_n(&w->ctl, __ATOMIC_RELAXED) != NULL))
			dp_ct_serve(w);
	}
	w->st.loops++;
	if (total)
		w->st.busy_loops++;
	return total;
}

int dp_worker_main(void *arg);
int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_ctx *dp = w->dp;

	rte_rcu_qsbr_thread_register(dp->qsbr, w->id);
	rte_rcu_qsbr_thread_online(dp->qsbr, w->id);
	/* relaxed is enough: the flag only has to be seen eventually, and the
	 * control thread waits for the lcore to return before tearing down */
	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		unsigned n = dp_worker_poll(w);
		rte_rcu_qsbr_quiescent(dp->qsbr, w->id);
		if (n == 0 && dp->idle_sleep_us)
			rte_delay_us_sleep(dp->idle_sleep_us);
	}
	rte_rcu_qsbr_thread_offline(dp->qsbr, w->id);
	rte_rcu_qsbr_thread_unregister(dp->qsbr, w->id);
	return 0;
}

uint64_t dp_worker_drops(const struct dp_worker *w, unsigned reason)
{
	uint64_t s = 0;
	for (unsigned p = 0; p < w->dp->n_ports; p++)
		s += w->st.port[p].drop[reason];
	return s;
}

uint64_t dp_worker_tx(const struct dp_worker *w)
{
	uint64_t s = 0;
	for (unsigned p = 0; p < w->dp->n_ports; p++)
		s += w->st.port[p].tx_pkts;
	return s;
}
