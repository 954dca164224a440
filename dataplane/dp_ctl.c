/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_ctl: creation, start, slow-path polling, stop and statistics of the
 * dataplane. Control thread only. Objects created here live until
 * dp_destroy; workers receive pointers to them and never free anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_ct.h"
#include "dp_priv.h"
#include "log.h"

int dp_worker_main(void *arg);

static uint32_t pool_size(const struct cfg *c)
{
	if (c->mbufs)
		return c->mbufs;
	uint64_t n = 0;
	for (unsigned i = 0; i < c->n_ports; i++)
		n += (uint64_t)c->n_workers * (c->ports[i].rx_desc + c->ports[i].tx_desc +
					       DP_TXBUF);
	n += (uint64_t)c->n_workers * (2 * DP_RING_SIZE + DP_BURST + 512 /* cache */);
	n += c->neigh_queue + 1024;
	if (c->ct_mode != CFG_CT_OFF) /* fragments held for reassembly */
		n += (uint64_t)c->n_workers * DP_FRAG_HELD;
	return (uint32_t)RTE_MIN(n, 16u << 20);
}

static void *ct_mem(size_t n)
{
	return rte_zmalloc_socket("rp_ct", n, RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
}

/*
 * The wall clock of -m time. Workers make no system calls: they add an
 * offset to the rule engine's TSC clock (rte_rdtsc() / tsc_us), and the
 * control thread measures that offset again about once a second, so NTP's
 * slewing and steps and the integer tsc_us reach the workers within a
 * second (between two refreshes the error is tsc_us's rounding, at most
 * a millisecond). The kernel's time zone (--kerneltz) is sys_tz, which
 * gettimeofday still reports; xt_time reads the same.
 */
/* The rules' clock as workers read it (filter_fast.c: rte_rdtsc() /
 * tsc_us), for the control thread's set timeouts: one process, one rate. */
static uint64_t rules_tsc_us = 1;

static uint64_t rules_clock(void)
{
	return rte_rdtsc() / rules_tsc_us;
}

static void wall_refresh(struct dp_ctx *dp)
{
	struct timespec ts;
	struct timeval tv;
	struct timezone tz = { 0, 0 };
	uint64_t t0 = rte_rdtsc();
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t t1 = rte_rdtsc();
	int64_t mono = (int64_t)((t0 / 2 + t1 / 2) / dp->tsc_us); /* the reading's midpoint */
	int64_t real = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	/* the system call itself: some C libraries leave the zone empty */
	if (syscall(SYS_gettimeofday, &tv, &tz) < 0)
		tz.tz_minuteswest = 0;
	/* relaxed: each value stands alone (see dp_priv.h) */
	__atomic_store_n(&dp->wall_off_us, real - mono, __ATOMIC_RELAXED);
	__atomic_store_n(&dp->wall_tz_west_s, (int32_t)tz.tz_minuteswest * 60, __ATOMIC_RELAXED);
	dp->wall_next_tsc = t1 + dp->tsc_hz;
}

int64_t dp_wall_clock_s(const struct dp_ctx *dp)
{
	int64_t us = (int64_t)(rte_rdtsc() / dp->tsc_us) +
		__atomic_load_n(&dp->wall_off_us, __ATOMIC_RELAXED);
	return us / 1000000;
}

void dp_wall_clock_set(struct dp_ctx *dp, int64_t utc_s, int32_t tz_west_s)
{
	dp->wall_pinned = true;
	int64_t mono = (int64_t)(rte_rdtsc() / dp->tsc_us);
	__atomic_store_n(&dp->wall_off_us, utc_s * 1000000 - mono, __ATOMIC_RELAXED);
	__atomic_store_n(&dp->wall_tz_west_s, tz_west_s, __ATOMIC_RELAXED);
}

struct dp_ctx *dp_create(const struct cfg *c, char *err, size_t errlen)
{
	struct dp_ctx *dp = rte_zmalloc("rp_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		snprintf(err, errlen, "out of memory for the dataplane context");
		return NULL;
	}
	dp->mode = c->mode;
	dp->n_workers = c->n_workers;
	dp->nat_rss_steer = c->nat_rss_steer;
	snprintf(dp->nflog_dir, sizeof(dp->nflog_dir), "%s", c->nflog_dir);
	dp->nflog_max = (uint64_t)c->nflog_max_mb << 20;
	dp->tsc0 = rte_rdtsc();
	clock_gettime(CLOCK_REALTIME, &dp->real0);
	memset(dp->link_up, 0xff, sizeof(dp->link_up));
	dp->idle_sleep_us = c->idle_sleep_us;
	dp->tsc_hz = rte_get_tsc_hz();
	dp->tsc_us = RTE_MAX(dp->tsc_hz / 1000000, (uint64_t)1);
	rules_tsc_us = dp->tsc_us;
	rules_clock_set(rules_clock); /* set timeouts: the workers' clock */
	wall_refresh(dp);
	dp->icmp_rate = c->icmp_ratelimit;
	dp->icmp_burst = c->icmp_burst;
	dp->reachable_tsc = (uint64_t)c->neigh_timeout_s * dp->tsc_hz;
	dp->nh_max = c->neigh_max;
	memcpy(dp->worker_lcores, c->worker_lcores, sizeof(dp->worker_lcores));
	/* conntrack.max-entries is for the box: each worker gets its share */
	dp->ct_mode = c->ct_mode;
	dp->ct_par = c->ct;
	dp->ct_par.max = (c->ct.max + c->n_workers - 1) / c->n_workers;
	dp->ct_par.max6 = (c->ct.max6 + c->n_workers - 1) / c->n_workers;
	dp->ct_tsc_tick = RTE_MAX(dp->tsc_hz / CT_HZ, (uint64_t)1);

	uint16_t maxmtu = 0;
	for (unsigned i = 0; i < c->n_ports; i++)
		maxmtu = RTE_MAX(maxmtu, c->ports[i].mtu);
	uint32_t room = RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
				(uint32_t)RTE_PKTMBUF_HEADROOM + maxmtu + RTE_ETHER_HDR_LEN + 8 +
					RTE_ETHER_CRC_LEN);
	uint32_t n = pool_size(c);
	dp->pool = rte_pktmbuf_pool_create("rp_pool", n, 256,
					   RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_CACHE_LINE_SIZE),
					   (uint16_t)room, (int)rte_socket_id());
	if (dp->pool == NULL) {
		snprintf(err, errlen, "cannot create a pool of %u mbufs: %s (size 'mbufs', or give "
				      "EAL more memory)", n, rte_strerror(rte_errno));
		goto fail;
	}

	if (c->ct_mode != CFG_CT_OFF) {
		/* one contiguous buffer per reassembled datagram (the pipeline
		 * works on contiguous packets); 64 KiB - 1 is an mbuf's limit */
		dp->pool_jumbo = rte_pktmbuf_pool_create("rp_jumbo", DP_JUMBO_MBUFS * c->n_workers, 0,
			RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_CACHE_LINE_SIZE), UINT16_MAX,
			(int)rte_socket_id());
		if (dp->pool_jumbo == NULL) {
			snprintf(err, errlen, "cannot create the reassembly buffers: %s",
				 rte_strerror(rte_errno));
			goto fail;
		}
	}

	size_t qsz = rte_rcu_qsbr_get_memsize(c->n_workers);
	dp->qsbr = rte_zmalloc("rp_qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, c->n_workers) != 0) {
		snprintf(err, errlen, "cannot create the RCU state");
		goto fail;
	}

	for (unsigned i = 0; i < c->n_workers; i++) {
		char name[RTE_RING_NAMESIZE];
		struct dp_worker *w = rte_zmalloc("rp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
		if (w == NULL) {
			snprintf(err, errlen, "out of memory for worker %u", i);
			goto fail;
		}
		dp->workers[i] = w;
		w->dp = dp;
		w->id = i;
		w->lcore = c->worker_lcores[i];
		w->q = (uint16_t)i;
		w->nat_share.id = (uint16_t)i;
		w->nat_share.n = (uint16_t)c->n_workers;
		w->nat_rnd = (uint32_t)rte_rand() | 1u;
		w->nat_src.slot = rte_zmalloc("rp_natsrc", DP_NAT_SRCMAP * sizeof(uint64_t),
					      RTE_CACHE_LINE_SIZE);
		w->nat_src.mask = DP_NAT_SRCMAP - 1;
		if (w->nat_src.slot == NULL) {
			snprintf(err, errlen, "out of memory for worker %u's NAT mappings", i);
			goto fail;
		}
		w->icmp_tokens = (uint64_t)dp->icmp_burst * dp->tsc_hz;
		w->icmp_last_tsc = rte_rdtsc();
		snprintf(name, sizeof(name), "rp_punt%u", i);
		w->punt = rte_ring_create(name, DP_RING_SIZE, (int)rte_socket_id(),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rp_inj%u", i);
		w->inject = rte_ring_create(name, DP_RING_SIZE, (int)rte_socket_id(),
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rp_log%u", i);
		w->logq = rte_ring_create_elem(name, sizeof(struct dp_logrec), DP_LOG_RING,
					       (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rp_setq%u", i);
		w->setq = rte_ring_create_elem(name, sizeof(struct rules_set_req), DP_SETQ_RING,
					       (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rp_ho%u", i);
		w->handoff = rte_ring_create(name, DP_RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "rp_trace%u", i);
		w->traceq = rte_ring_create_elem(name, sizeof(struct dp_trace_rec), DP_TRACE_RING,
						 (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		w->cur_origin = (uint8_t)i;
		if (w->punt == NULL || w->inject == NULL || w->logq == NULL || w->handoff == NULL ||
		    w->traceq == NULL || w->setq == NULL) {
			snprintf(err, errlen, "cannot create rings for worker %u: %s", i,
				 rte_strerror(rte_errno));
			goto fail;
		}
		dp_ct_none(w, CT_UNTRACKED);
		if (c->ct_mode != CFG_CT_OFF) {
			uint32_t now = (uint32_t)(rte_rdtsc() / dp->ct_tsc_tick);
			w->ct = ct_table_create(&dp->ct_par, now, ct_mem, rte_free);
			if (w->ct != NULL && dp->ct_exp == NULL)
				dp->ct_exp = ct_expect_create(DP_CT_EXPECT_SLOTS, ct_mem);
			if (w->ct != NULL)
				w->ct->exp = dp->ct_exp;
			if (w->ct == NULL || dp->ct_exp == NULL) {
				snprintf(err, errlen, "cannot allocate worker %u's conntrack table "
						      "(%u entries, %zu MiB): give EAL more memory or "
						      "lower conntrack.max-entries", i, dp->ct_par.max,
					 ct_table_mem(&dp->ct_par) >> 20);
				goto fail;
			}
			w->reasm = reasm_create(DP_FRAG_DATAGRAMS, DP_FRAG_HELD,
						dp->tsc_hz * DP_FRAG_TIMEOUT_S,
						dp->tsc_hz * DP_FRAG6_TIMEOUT_S, rte_rand(),
						dp_reasm_drop, w, ct_mem, rte_free);
			if (w->reasm == NULL) {
				snprintf(err, errlen, "cannot create worker %u's reassembly table", i);
				goto fail;
			}
		}
	}

	struct rte_hash_parameters hp = {
		.name = "rp_nh",
		.entries = RTE_MAX(dp->nh_max, 64u),
		.key_len = sizeof(struct dp_nh_key),
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	dp->nh_hash = rte_hash_create(&hp);
	dp->nh = rte_zmalloc("rp_nh", (size_t)dp->nh_max * sizeof(struct dp_nh),
			     RTE_CACHE_LINE_SIZE);
	if (dp->nh_hash == NULL || dp->nh == NULL) {
		snprintf(err, errlen, "cannot create the neighbour table (%u entries)", dp->nh_max);
		goto fail;
	}
	if (dp_neigh_init(dp, c->neigh_queue) < 0) {
		snprintf(err, errlen, "out of memory for the neighbour queue");
		goto fail;
	}
	if (dp_ports_init(dp, c, err, errlen) < 0)
		goto fail;
	if (dp->mode == CFG_MODE_ROUTER && dp_routes_build(dp, c, err, errlen) < 0)
		goto fail;
	return dp;
fail:
	dp_destroy(dp);
	return NULL;
}

int dp_start(struct dp_ctx *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		unsigned lc = dp->workers[i]->lcore;
		int rc = rte_eal_remote_launch(dp_worker_main, dp->workers[i], lc);
		if (rc < 0) {
			RP_ERR("dp", "cannot launch worker %u on lcore %u: %s", i, lc,
			       rte_strerror(-rc));
			dp->stop = true;
			rte_eal_mp_wait_lcore();
			return rc;
		}
	}
	dp->started = true;
	return 0;
}

/* Link state, twice a second. A port that goes down takes its source
 * translations with it (MASQUERADE's rule: the address they use may not
 * come back), as the kernel's masquerade notifier does. */
static void link_poll(struct dp_ctx *dp)
{
	uint64_t now = rte_rdtsc();
	if (now < dp->link_next_tsc)
		return;
	dp->link_next_tsc = now + dp->tsc_hz / 2;
	/* the helpers' expired expectations are freed here too, so that new
	 * connections stop looking at the table once none is live */
	if (dp->ct_exp != NULL)
		ct_expect_sweep(dp->ct_exp, (uint32_t)(now / dp->ct_tsc_tick));
	for (unsigned p = 0; p < dp->n_ports; p++) {
		struct rte_eth_link l;
		if (rte_eth_link_get_nowait(dp->ports[p].port_id, &l) != 0)
			continue;
		uint8_t up = l.link_status == RTE_ETH_LINK_UP;
		uint8_t was = dp->link_up[p];
		dp->link_up[p] = up;
		if (was == 0xff || was == up)
			continue;
		if (up) {
			RP_INFO("dp", "port %s: link up", dp->ports[p].name);
			continue;
		}
		const struct dp_rules *R = dp->rules;
		int n = R != NULL && R->nat && R->nat_pub.box ? dp_ct_flush_snat(dp, (uint16_t)p) : 0;
		RP_WARN("dp", "port %s: link down; %d connections translated to its addresses dropped",
			dp->ports[p].name, n);
	}
}

unsigned dp_ctl_poll(struct dp_ctx *dp)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned total = 0;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		unsigned n = rte_ring_sc_dequeue_burst(dp->workers[i]->punt, (void **)pkts,
						       DP_BURST, NULL);
		for (unsigned k = 0; k < n; k++)
			dp_neigh_handle(dp, pkts[k]);
		total += n;
	}
	dp_neigh_timers(dp);
	if (!dp->wall_pinned && rte_rdtsc() >= dp->wall_next_tsc)
		wall_refresh(dp);
	total += dp_logs_drain(dp);
	if (dp->trace_list != NULL)
		total += dp_trace_drain(dp);
	link_poll(dp);
	return total;
}

void dp_stop(struct dp_ctx *dp)
{
	/* release: pairs with the workers' relaxed polling of the flag; the
	 * wait below is the real synchronisation point */
	__atomic_store_n(&dp->stop, true, __ATOMIC_RELEASE);
	if (dp->started)
		rte_eal_mp_wait_lcore();
	dp->started = false;
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (dp->workers[i])
			dp_tx_flush(dp->workers[i]);
}

static void free_ring(struct rte_ring *r)
{
	void *m;
	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

void dp_destroy(struct dp_ctx *dp)
{
	if (dp == NULL)
		return;
	if (dp->started)
		dp_stop(dp);
	dp_ports_close(dp);
	dp_neigh_free(dp);
	dp_rules_destroy(dp);
	dp_nflog_close(dp);
	dp_trace_free(dp);
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++) {
		struct dp_worker *w = dp->workers[i];
		if (w == NULL)
			continue;
		free_ring(w->punt);
		free_ring(w->inject);
		free_ring(w->handoff);
		rte_ring_free(w->logq);
		rte_ring_free(w->setq);
		rte_ring_free(w->traceq);
		ct_table_destroy(w->ct);
		if (dp->ct_evq != NULL)
			rte_free(dp->ct_evq[i]);
		if (w->reasm) {
			reasm_destroy(w->reasm);
			w->reasm = NULL;
		}
		for (unsigned p = 0; p < DP_MAX_PORTS; p++)
			for (unsigned k = 0; k < w->tx[p].n; k++)
				rte_pktmbuf_free(w->tx[p].pkts[k]);
		rte_free(w->nat_src.slot);
		rte_free(w);
	}
	free(dp->ct_evq);
	dp_routes_free(dp);
	rte_hash_free(dp->nh_hash);
	rte_free(dp->nh);
	rte_free(dp->qsbr);
	rte_mempool_free(dp->pool);
	rte_mempool_free(dp->pool_jumbo);
	rte_free(dp->ct_exp);
	rte_ring_free(dp->ct_expq);
	rte_free(dp);
}

struct dp_worker *dp_worker_get(struct dp_ctx *dp, unsigned idx)
{
	return idx < dp->n_workers ? dp->workers[idx] : NULL;
}

void dp_bench_set_null(struct dp_ctx *dp, bool on)
{
	dp->null_mode = on;
}

void dp_stats_print(struct dp_ctx *dp, FILE *out)
{
	fprintf(out, "ports:\n");
	for (unsigned p = 0; p < dp->n_ports; p++) {
		struct dp_port_stats s = { 0 };
		for (unsigned i = 0; i < dp->n_workers; i++) {
			const struct dp_port_stats *ws = &dp->workers[i]->st.port[p];
			s.rx_pkts += ws->rx_pkts;
			s.rx_bytes += ws->rx_bytes;
			s.tx_pkts += ws->tx_pkts;
			s.tx_bytes += ws->tx_bytes;
			for (unsigned d = 0; d < DP_DROP_MAX; d++)
				s.drop[d] += ws->drop[d];
		}
		struct rte_eth_stats es;
		memset(&es, 0, sizeof(es));
		rte_eth_stats_get(dp->ports[p].port_id, &es);
		fprintf(out,
			"  %s: rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 " tx_packets=%" PRIu64
			" tx_bytes=%" PRIu64 " nic_missed=%" PRIu64 " nic_rx_errors=%" PRIu64
			" nic_tx_errors=%" PRIu64 "\n",
			dp->ports[p].name, s.rx_pkts, s.rx_bytes, s.tx_pkts, s.tx_bytes, es.imissed,
			es.ierrors, es.oerrors);
		for (unsigned d = 1; d < DP_DROP_MAX; d++)
			if (s.drop[d])
				fprintf(out, "    drop %s=%" PRIu64 "\n", dp_drop_names[d], s.drop[d]);
	}
	fprintf(out, "workers:\n");
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct dp_worker *w = dp->workers[i];
		uint64_t rx = 0;
		for (unsigned p = 0; p < dp->n_ports; p++)
			rx += w->st.port[p].rx_pkts;
		fprintf(out,
			"  worker%u: lcore=%u rx_packets=%" PRIu64 " loops=%" PRIu64
			" busy_loops=%" PRIu64 " punted=%" PRIu64 " injected=%" PRIu64
			" icmp_sent=%" PRIu64 " tcp_rst_sent=%" PRIu64 " local_in=%" PRIu64
			" fragmented=%" PRIu64 " rejects_sent=%" PRIu64 " log_dropped=%" PRIu64
			" handoff_out=%" PRIu64 " handoff_in=%" PRIu64 " handoff_full=%" PRIu64
			" reassembled=%" PRIu64 " frag_failed=%" PRIu64 " mss_rewritten=%" PRIu64 " fast_lane=%" PRIu64
			" established_lane=%" PRIu64 " set_requests=%" PRIu64 " set_requests_lost=%" PRIu64
			" tee_sent=%" PRIu64 " tee_lost=%" PRIu64 " tee_noroute=%" PRIu64 "\n",
			i, w->lcore, rx, w->st.loops, w->st.busy_loops, w->st.punted, w->st.injected,
			w->st.icmp_sent, w->st.tcp_rst_sent, w->st.local_in, w->st.fragmented,
			w->st.rejects_sent, w->st.log_dropped, w->st.handoff_out, w->st.handoff_in,
			w->st.handoff_full, w->st.reassembled, w->st.frag_failed, w->st.mss_rewritten,
			w->st.fast, w->st.fast_est, w->st.set_reqs, w->st.set_reqs_lost, w->st.tee_sent,
			w->st.tee_lost, w->st.tee_noroute);
		if (w->ct) {
			const struct ct_stats *s = &w->ct->st;
			fprintf(out,
				"    conntrack: entries=%u/%u ipv6=%u/%u found=%" PRIu64 " new=%" PRIu64
				" invalid=%" PRIu64 " ignore=%" PRIu64 " related=%" PRIu64
				" untracked=%" PRIu64 " insert_failed=%" PRIu64 " early_drop=%" PRIu64
				" drop=%" PRIu64 " expired=%" PRIu64 "\n",
				w->ct->live, w->ct->max, w->ct->live6, w->ct->max6, s->found, s->new_,
				s->invalid, s->ignore, s->related, s->untracked, s->insert_failed,
				s->early_drop, s->drop, s->expired);
		}
		if (w->reasm) {
			const struct reasm_stats *r = reasm_stats(w->reasm);
			fprintf(out,
				"    reassembly: pending=%u held=%u done=%" PRIu64 " timeout=%" PRIu64
				" evicted=%" PRIu64 " overlap=%" PRIu64 " dup=%" PRIu64 " bad=%" PRIu64
				" oversize=%" PRIu64 " too_many=%" PRIu64 " ecn=%" PRIu64 "\n",
				reasm_held_dgrams(w->reasm), reasm_held_frags(w->reasm), r->done,
				r->timeout, r->evicted, r->overlap, r->dup, r->bad, r->oversize,
				r->too_many, r->ecn);
		}
	}
	fprintf(out, "control:\n  neighbours=%u/%u held=%u logs_written=%" PRIu64 "\n",
		dp->nh_used, dp->nh_max, dp_neigh_held(dp), dp->logs_written);
	for (unsigned d = 1; d < DP_DROP_MAX; d++)
		if (dp->ctl_drop[d])
			fprintf(out, "    drop %s=%" PRIu64 "\n", dp_drop_names[d], dp->ctl_drop[d]);
	fflush(out);
}
