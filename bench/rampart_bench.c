/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampart-bench: runs the real worker pipeline (dp_worker_poll: rx burst,
 * parse, route, rewrite, tx burst) in this process on one core, over
 * ring-backed ethdevs fed with pre-built packets that are recycled from the
 * tx rings back to the rx ring. Only the worker's poll call is timed (TSC);
 * restoring the packets between passes is not. Prints packets/s and
 * cycles/packet per scenario.
 *
 *   rampart-bench [--json] [--packets N] SCENARIO... | all
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "cfg.h"
#include "dp.h"
#include "dp_priv.h"
#include "dp_ct.h"
#include "cbgen.h"
#include "rules.h"
#include "rules_prog.h"

#define NPKT 1024 /* packets in flight, like one NIC rx ring */
#define RING_SZ 4096
#define FRAME_LEN 64
#define CBGEN_SEED 20261124
#define CBGEN_SEED_CT 20261205

struct bench {
	const char *name;
	const char *desc;
	bool null_mode;
	bool ipv6;
	uint32_t rules; /* a FORWARD chain of this many rules that only count */
	const char *text; /* or this iptables-restore text */
	const char *sets; /* ipset text loaded first (-m set, -j SET) */
};

static const struct bench scenarios[] = {
	{ "null", "rx -> tx on the same port, no processing (the floor)", true, false, 0, NULL, NULL },
	{ "router", "IPv4 parse + LPM route (16 prefixes, 2 gateways) + TTL + L2 rewrite", false,
	  false, 0, NULL, NULL },
	{ "router6", "IPv6 parse + LPM route + hop limit + L2 rewrite", false, true, 0, NULL, NULL },
	{ "router-connected", "router to 64 resolved hosts of wan0's connected subnet (the next hop "
	  "looked up by address)", false, false, 0, NULL, NULL },
	{ "router-filter-10", "router + filter FORWARD of 10 ClassBench-like rules (no verdict: all tried)",
	  false, false, 10, NULL, NULL },
	{ "router-filter-10000", "router + filter FORWARD of 10000 ClassBench-like rules (no verdict)",
	  false, false, 10000, NULL, NULL },
	{ "router-hashlimit", "router + one FORWARD -m hashlimit rule keyed by source and "
	  "destination (1024 keys, every packet under the limit)", false, false, 0,
	  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	  "-A FORWARD -m hashlimit --hashlimit-upto 1000000/sec --hashlimit-burst 1000000 "
	  "--hashlimit-mode srcip,dstip --hashlimit-name bench -j ACCEPT\nCOMMIT\n", NULL },
	{ "router-u32", "router + one FORWARD -m u32 rule: the L4 source port through the header "
	  "length (0>>22&0x3C@0>>16), every packet accepted by it", false, false, 0,
	  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	  "-A FORWARD -m u32 --u32 \"6&0xFF=6,17&&0>>22&0x3C@0>>16=1:65535\" -j ACCEPT\nCOMMIT\n", NULL },
	{ "router6-ext", "router6 + one FORWARD -m ipv6header rule (the header chain walked; "
	  "every packet accepted by it)", false, true, 0,
	  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	  "-A FORWARD -m ipv6header --header protocol -j ACCEPT\nCOMMIT\n", NULL },
	{ "router-set", "router + one FORWARD -j SET --add-set (every packet queues a request; "
	  "the queue emptied between polls, untimed)", false, false, 0,
	  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	  "-A FORWARD -j SET --add-set seen dst --exist\n-A FORWARD -j ACCEPT\nCOMMIT\n",
	  "create seen hash:ip family inet timeout 600\n" },
	{ "router-tee", "router + one mangle PREROUTING -j TEE to a gateway on wan0: every packet "
	  "copied (its copy through OUTPUT and POSTROUTING, untracked) and forwarded", false, false, 0,
	  "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
	  ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
	  "-A PREROUTING -i lan0 -j TEE --gateway 10.77.2.254\nCOMMIT\n", NULL },
	{ "router-set-ports", "router + one FORWARD -m set rule on a hash:ip,port set holding 32768 "
	  "ports of one source (a port range: one element each), 1 packet in 64 from it", false, false, 0,
	  "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	  "-A FORWARD -m set --match-set hp src,src -j ACCEPT\n-A FORWARD -j ACCEPT\nCOMMIT\n",
	  "create hp hash:ip,port family inet\nadd hp 10.77.1.2,udp:1024-33791\n"
	  "add hp 10.77.1.3,tcp:80\n" },
};

static const char cfg_fmt[] =
	"mode: router\n"
	"workers: {main_lcore: 0, lcores: %s}\n"
	"ports:\n"
	"  - {name: lan0, device: net_ring_b%u_0, addresses: [10.77.1.1/24, fd77:1::1/64]}\n"
	"  - {name: wan0, device: net_ring_b%u_1, addresses: [10.77.2.1/24, fd77:2::1/64]}\n"
	"routes:\n%s%s";

static struct rte_mempool *g_pool;
/* nat-handoff: two workers, so every port has a second queue (worker 1's) */
static unsigned g_nq = 1;
static struct rte_ring *g_rxq1[2], *g_txq1[2];
static uint8_t g_tmpl[NPKT][FRAME_LEN + 16];
static uint16_t g_tlen[NPKT];

static void put_arp_request(struct rte_ring *rx, const struct rte_ether_addr *to,
			    const uint8_t sip[4], const uint8_t tip[4], uint8_t macid)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
	uint8_t *buf = (uint8_t *)rte_pktmbuf_append(m, 60);
	if (buf == NULL)
		return;
	memset(buf, 0, 60);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	memset(&eth->dst_addr, 0xff, 6);
	struct rte_ether_addr src = { { 0x02, 0, 0, 0, 0x77, macid } };
	eth->src_addr = src;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	a->arp_hardware = rte_cpu_to_be_16(1);
	a->arp_protocol = rte_cpu_to_be_16(0x0800);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(1);
	a->arp_data.arp_sha = src;
	memcpy(&a->arp_data.arp_sip, sip, 4);
	memcpy(&a->arp_data.arp_tip, tip, 4);
	(void)to;
	rte_ring_enqueue(rx, m);
}

static void put_ns(struct rte_ring *rx, const uint8_t src[16], const uint8_t target[16],
		   uint8_t macid)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 14 + 40 + 32);
	if (p == NULL)
		return;
	memset(p, 0, 14 + 40 + 32);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ether_addr s = { { 0x02, 0, 0, 0, 0x66, macid } };
	struct rte_ether_addr d = { { 0x33, 0x33, 0xff, target[13], target[14], target[15] } };
	eth->src_addr = s;
	eth->dst_addr = d;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(32);
	ip6->proto = 58;
	ip6->hop_limits = 255;
	memcpy(ip6->src_addr, src, 16);
	static const uint8_t sn[13] = { 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };
	memcpy(ip6->dst_addr, sn, 13);
	memcpy(ip6->dst_addr + 13, target + 13, 3);
	uint8_t *icmp = (uint8_t *)(ip6 + 1);
	icmp[0] = 135;
	memcpy(icmp + 8, target, 16);
	icmp[24] = 1;
	icmp[25] = 1;
	memcpy(icmp + 26, &s, 6);
	uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
	memcpy(icmp + 2, &ck, 2);
	rte_ring_enqueue(rx, m);
}

/* router-connected's hosts: 10.77.2.2 .. 10.77.2.(2 + N_HOSTS - 1) on wan0 */
#define N_HOSTS 64

static bool connected(const struct bench *b)
{
	return strcmp(b->name, "router-connected") == 0;
}

static void build_templates(const struct dp_ctx *dp, bool v6, bool hosts)
{
	for (unsigned i = 0; i < NPKT; i++) {
		uint8_t *p = g_tmpl[i];
		memset(p, 0, sizeof(g_tmpl[i]));
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
		eth->dst_addr = dp->ports[0].mac;
		struct rte_ether_addr s = { { 0x02, 0, 0, 0, 0x01, 0x02 } };
		eth->src_addr = s;
		uint32_t r = (uint32_t)rte_rand();
		if (!v6) {
			eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
			ip->version_ihl = 0x45;
			ip->total_length = rte_cpu_to_be_16(FRAME_LEN - 14);
			ip->time_to_live = 64;
			ip->next_proto_id = IPPROTO_UDP;
			ip->src_addr = rte_cpu_to_be_32(0x0a4d0100 | (2 + (r & 0x3f)));
			/* 16 routed /16s, spread over two gateways */
			ip->dst_addr = rte_cpu_to_be_32(0xc0000000u | ((r >> 8) & 0x0f) << 16 |
							((r >> 12) & 0xffff));
			if (hosts)
				ip->dst_addr = rte_cpu_to_be_32(0x0a4d0202u + (r >> 8) % N_HOSTS);
			ip->hdr_checksum = rte_ipv4_cksum(ip);
			struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
			u->src_port = rte_cpu_to_be_16((uint16_t)(1024 + (r & 0x7fff)));
			u->dst_port = rte_cpu_to_be_16(53);
			u->dgram_len = rte_cpu_to_be_16(FRAME_LEN - 14 - 20);
		} else {
			eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
			struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);
			ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
			ip6->payload_len = rte_cpu_to_be_16(FRAME_LEN + 16 - 14 - 40);
			ip6->proto = IPPROTO_UDP;
			ip6->hop_limits = 64;
			static const uint8_t s6[16] = { 0xfd, 0x77, 0, 1, [15] = 2 };
			memcpy(ip6->src_addr, s6, 16);
			ip6->dst_addr[0] = 0x20;
			ip6->dst_addr[1] = 0x01;
			ip6->dst_addr[2] = 0x0d;
			ip6->dst_addr[3] = (uint8_t)(r & 0x0f);
			memcpy(ip6->dst_addr + 8, &r, 4);
			struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip6 + 1);
			u->src_port = rte_cpu_to_be_16((uint16_t)(1024 + (r & 0x7fff)));
			u->dst_port = rte_cpu_to_be_16(53);
			u->dgram_len = rte_cpu_to_be_16(FRAME_LEN + 16 - 14 - 40);
		}
		g_tlen[i] = v6 ? FRAME_LEN + 16 : FRAME_LEN;
	}
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
	return x < y ? -1 : x > y;
}

static void refill(struct rte_mbuf *m, unsigned i)
{
	rte_pktmbuf_reset(m);
	memcpy(rte_pktmbuf_append(m, g_tlen[i]), g_tmpl[i], g_tlen[i]);
}

/* The FORWARD hook in the real pipeline: cbgen rules without targets
 * (they count; the policy accepts), so every packet crosses the whole chain
 * and is still forwarded. */
static int install_text(struct dp_ctx *dp, const char *text, bool v6, const char *sets)
{
	char err[512];
	struct rules_ruleset *rs = rules_new();
	if (!rs || (sets && rules_ipset_load(rs, sets, strlen(sets), "bench", err, sizeof(err)) < 0) ||
	    rules_ipt_load(rs, v6 ? RULES_F_V6 : RULES_F_V4, text, strlen(text), "bench", 0, err,
			   sizeof(err)) < 0 ||
	    dp_rules_install(dp, rs, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampart-bench: ruleset: %s\n", rs ? err : "out of memory");
		rules_free(rs);
		return -1;
	}
	return 0;
}

static int install_rules(struct dp_ctx *dp, uint32_t n)
{
	struct cbgen g;
	if (cbgen_rules(&g, 20261124, n) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		g.r[i].action = 2;
	size_t len;
	char *text = cbgen_restore_text(&g, &len);
	cbgen_free(&g);
	char err[512];
	struct rules_ruleset *rs = rules_new();
	if (!text || !rs || rules_ipt_load(rs, RULES_F_V4, text, len, "bench", 0, err, sizeof(err)) < 0 ||
	    dp_rules_install(dp, rs, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampart-bench: ruleset: %s\n", text && rs ? err : "out of memory");
		free(text);
		rules_free(rs);
		return -1;
	}
	free(text);
	return 0;
}

/* What the box answered while it learnt its neighbours, freed; the
 * number of next hops it has resolved. */
static unsigned drain_resolved(const struct dp_ctx *dp, struct rte_ring *tx[2])
{
	struct rte_mbuf *junk[64];
	for (int p = 0; p < 2; p++) {
		unsigned n;
		while ((n = rte_ring_dequeue_burst(tx[p], (void **)junk, 64, NULL)) > 0)
			rte_pktmbuf_free_bulk(junk, n);
	}
	unsigned resolved = 0;
	for (uint32_t i = 0; i < dp->nh_used; i++)
		resolved += (dp->nh[i].mac & DP_NH_VALID) != 0;
	return resolved;
}

/* Two ring ports and a router dataplane (extra: more of rampart.yaml),
 * with its gateways resolved. NULL on failure (reported). */
static struct dp_ctx *setup(unsigned seq, const char *extra, struct rte_ring *rx[2],
			    struct rte_ring *tx[2])
{
	char name[64];
	for (int p = 0; p < 2; p++) {
		snprintf(name, sizeof(name), "b%u_rx%d", seq, p);
		rx[p] = rte_ring_create(name, RING_SZ, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "b%u_tx%d", seq, p);
		tx[p] = rte_ring_create(name, RING_SZ, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		/* the ring PMD names the ethdev "net_ring_" + name */
		snprintf(name, sizeof(name), "b%u_%d", seq, p);
		struct rte_ring *rq[2] = { rx[p], NULL }, *tq[2] = { tx[p], NULL };
		if (g_nq == 2) {
			char q1[64];
			snprintf(q1, sizeof(q1), "b%u_rxq1_%d", seq, p);
			rq[1] = g_rxq1[p] = rte_ring_create(q1, RING_SZ, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(q1, sizeof(q1), "b%u_txq1_%d", seq, p);
			tq[1] = g_txq1[p] = rte_ring_create(q1, RING_SZ, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (rq[1] == NULL || tq[1] == NULL)
				return NULL;
		}
		if (rx[p] == NULL || tx[p] == NULL ||
		    rte_eth_from_rings(name, rq, g_nq, tq, g_nq, 0) < 0) {
			fprintf(stderr, "rampart-bench: cannot create ring port %s\n", name);
			return NULL;
		}
	}
	char routes[2048] = "";
	size_t off = 0;
	for (unsigned i = 0; i < 16; i++)
		off += (size_t)snprintf(routes + off, sizeof(routes) - off,
					"  - {to: 192.%u.0.0/16, via: 10.77.2.%u}\n", i,
					i % 2 ? 254 : 253);
	for (unsigned i = 0; i < 16; i++)
		off += (size_t)snprintf(routes + off, sizeof(routes) - off,
					"  - {to: \"2001:d%02x::/32\", via: \"fd77:2::%x\"}\n", i,
					i % 2 ? 0xfe : 0xfd);
	char ybuf[4096];
	int ylen = snprintf(ybuf, sizeof(ybuf), cfg_fmt, g_nq == 2 ? "[1, 2]" : "[1]", seq, seq,
			    routes, extra);
	struct cfg c;
	char err[CFG_ERR_MAX];
	if (cfg_load_buf(ybuf, (size_t)ylen, "bench.yaml", &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampart-bench: %s\n", err);
		return NULL;
	}
	c.icmp_ratelimit = 0;
	struct dp_ctx *dp = dp_create(&c, err, sizeof(err));
	cfg_free(&c);
	if (dp == NULL) {
		fprintf(stderr, "rampart-bench: %s\n", err);
		return NULL;
	}
	struct dp_worker *w = dp_worker_get(dp, 0);

	/* resolve the gateways the way the box would: they ask for us */
	static const uint8_t us4[4] = { 10, 77, 2, 1 };
	for (uint8_t g = 253; g <= 254; g++) {
		uint8_t gw4[4] = { 10, 77, 2, g };
		uint8_t gw6[16] = { 0xfd, 0x77, 0, 2, [15] = g };
		uint8_t us6[16] = { 0xfd, 0x77, 0, 2, [15] = 1 };
		put_arp_request(rx[1], NULL, gw4, us4, g);
		put_ns(rx[1], gw6, us6, g);
	}
	for (int k = 0; k < 4; k++) {
		dp_worker_poll(w);
		dp_ctl_poll(dp);
	}
	dp_worker_poll(w);
	unsigned resolved = drain_resolved(dp, tx);
	if (resolved < 4) {
		fprintf(stderr, "rampart-bench: gateways not resolved (%u/4)\n", resolved);
		dp_destroy(dp);
		return NULL;
	}
	return dp;
}

static void teardown(struct dp_ctx *dp, struct rte_ring *rx[2], struct rte_ring *tx[2])
{
	dp_destroy(dp);
	for (int p = 0; p < 2; p++) {
		struct rte_mbuf *m;
		while (rte_ring_dequeue(rx[p], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		while (rte_ring_dequeue(tx[p], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(rx[p]);
		rte_ring_free(tx[p]);
		struct rte_ring *q1[2] = { g_rxq1[p], g_txq1[p] };
		for (int k = 0; k < 2; k++) {
			if (q1[k] == NULL)
				continue;
			while (rte_ring_dequeue(q1[k], (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(q1[k]);
		}
		g_rxq1[p] = g_txq1[p] = NULL;
	}
}

/* router-connected's hosts ask for us, as the gateways did: the box
 * learns them (a next hop each, resolved) */
static int resolve_hosts(struct dp_ctx *dp, struct rte_ring *rx[2], struct rte_ring *tx[2])
{
	static const uint8_t us4[4] = { 10, 77, 2, 1 };
	struct dp_worker *w = dp_worker_get(dp, 0);
	for (unsigned h = 0; h < N_HOSTS; h++) {
		uint8_t ip[4] = { 10, 77, 2, (uint8_t)(2 + h) };
		put_arp_request(rx[1], NULL, ip, us4, (uint8_t)(2 + h));
		if (h % 16 == 15)
			for (int k = 0; k < 4; k++) {
				dp_worker_poll(w);
				dp_ctl_poll(dp);
			}
	}
	unsigned resolved = drain_resolved(dp, tx);
	if (resolved < 4 + N_HOSTS) {
		fprintf(stderr, "rampart-bench: hosts not resolved (%u/%u)\n", resolved - 4, N_HOSTS);
		return -1;
	}
	return 0;
}

static int run(const struct bench *b, unsigned seq, uint64_t target, bool json)
{
	struct rte_ring *rx[2], *tx[2];
	struct dp_ctx *dp = setup(seq, "", rx, tx);
	if (dp == NULL)
		return -1;
	struct dp_worker *w = dp_worker_get(dp, 0);

	dp_bench_set_null(dp, b->null_mode);
	if ((b->rules && install_rules(dp, b->rules) < 0) || (b->text && install_text(dp, b->text, b->ipv6, b->sets) < 0)) {
		teardown(dp, rx, tx);
		return -1;
	}
	if (connected(b) && resolve_hosts(dp, rx, tx) < 0) {
		teardown(dp, rx, tx);
		return -1;
	}
	build_templates(dp, b->ipv6, connected(b));
	struct rte_mbuf *all[NPKT];
	if (rte_pktmbuf_alloc_bulk(g_pool, all, NPKT) != 0) {
		fprintf(stderr, "rampart-bench: out of mbufs\n");
		teardown(dp, rx, tx);
		return -1;
	}
	for (unsigned i = 0; i < NPKT; i++) {
		refill(all[i], i);
		dp_priv(all[i])->worker = (uint16_t)i; /* template index travels with it */
	}
	rte_ring_enqueue_bulk(rx[0], (void **)all, NPKT, NULL);
	/* the frames that circulate; anything else sent (-j TEE's copies)
	 * is freed on its way back, untimed */
	struct rte_mbuf *orig[NPKT];
	memcpy(orig, all, sizeof(orig));
	qsort(orig, NPKT, sizeof(orig[0]), ptr_cmp);
	uint64_t copies = 0;

	uint64_t cycles = 0, pkts = 0, tx0 = dp_worker_tx(w);
	uint64_t drop0 = 0, setreqs = 0;
	for (unsigned d = 1; d < DP_DROP_MAX; d++)
		drop0 += dp_worker_drops(w, d);
	while (pkts < target) {
		uint64_t t0 = rte_rdtsc_precise();
		unsigned n = dp_worker_poll(w);
		uint64_t t1 = rte_rdtsc_precise();
		cycles += t1 - t0;
		pkts += n;
		if (b->sets) { /* -j SET: the control thread's drain, untimed */
			static struct rules_set_req q[DP_BURST * 2];
			unsigned k;
			while ((k = dp_set_reqs_drain(dp, q, RTE_DIM(q))) > 0)
				setreqs += k;
		}
		struct rte_mbuf *back[64];
		for (int p = 0; p < 2; p++) {
			unsigned k;
			while ((k = rte_ring_dequeue_burst(tx[p], (void **)back, 64, NULL)) > 0) {
				unsigned keep = 0;
				for (unsigned i = 0; i < k; i++) {
					if (bsearch(&back[i], orig, NPKT, sizeof(orig[0]), ptr_cmp) == NULL) {
						rte_pktmbuf_free(back[i]);
						copies++;
						continue;
					}
					uint16_t t = dp_priv(back[i])->worker;
					refill(back[i], t);
					dp_priv(back[i])->worker = t;
					back[keep++] = back[i];
				}
				rte_ring_enqueue_bulk(rx[0], (void **)back, keep, NULL);
			}
		}
		if (n == 0) {
			fprintf(stderr, "rampart-bench: %s: pipeline stalled\n", b->name);
			break;
		}
	}
	uint64_t drops = 0;
	for (unsigned d = 1; d < DP_DROP_MAX; d++)
		drops += dp_worker_drops(w, d);
	drops -= drop0;
	uint64_t sent = dp_worker_tx(w) - tx0 - copies;
	double cpp = pkts ? (double)cycles / (double)pkts : 0;
	double pps = cycles ? (double)pkts * (double)rte_get_tsc_hz() / (double)cycles : 0;
	if (json)
		printf("{\"scenario\":\"%s\",\"pps\":%.0f,\"cycles_per_packet\":%.1f,\"packets\":%" PRIu64
		       ",\"forwarded\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"tsc_hz\":%" PRIu64 "}\n",
		       b->name, pps, cpp, pkts, sent, drops, rte_get_tsc_hz());
	else
		printf("%-8s %-70s %7.2f Mpps %7.1f cyc/pkt  scenario=%s pps=%.0f cycles_per_packet=%.1f\n",
		       b->name, b->desc, pps / 1e6, cpp, b->name, pps, cpp);
	fflush(stdout);
	teardown(dp, rx, tx);
	/* a TEE rule copies every packet: each copy is sent (and freed here) */
	if (b->text && strstr(b->text, "-j TEE") && copies < pkts) {
		fprintf(stderr, "rampart-bench: %s: %" PRIu64 " copies for %" PRIu64 " packets\n",
			b->name, copies, pkts);
		return -1;
	}
	/* a -j SET rule queues a request per packet (-m set alone: none) */
	if (b->sets && strstr(b->text, "-j SET") && setreqs < pkts) {
		fprintf(stderr, "rampart-bench: %s: %" PRIu64 " set requests for %" PRIu64 " packets\n",
			b->name, setreqs, pkts);
		return -1;
	}
	if (drops || sent < pkts) {
		fprintf(stderr, "rampart-bench: %s: %" PRIu64 " drops, %" PRIu64 " of %" PRIu64
				" forwarded: the scenario is not measuring what it claims\n",
			b->name, drops, sent, pkts);
		return -1;
	}
	return 0;
}

/* ---- ct-*: connection tracking in the whole pipeline ------------------- */

struct ctbench {
	const char *name;
	const char *desc;
	uint32_t flows;    /* established connections set up before timing */
	unsigned new_per4; /* of every 4 packets timed, how many start a connection */
	uint32_t max;      /* conntrack.max-entries */
	uint32_t rules;    /* ClassBench-like count-only rules between ESTABLISHED and NEW */
	bool nat;          /* SNAT to one address (CT_NAT_ADDR) on the way out */
	/* 0: one worker; 1: worker 0 of 2, 250 clients (nat-new's traffic as
	 * one of two workers would see it); 2: the same with wan0's RSS
	 * known, so the ports chosen follow it */
	uint8_t two;
	/* the packets' UDP checksums vouched for as a NIC's receive offload
	 * does (RTE_MBUF_F_RX_L4_CKSUM_GOOD): the ring PMD has none, so
	 * without it conntrack checks each one in software */
	bool l4good;
	/* conntrack -E following: the worker queues an event per connection
	 * made and per connection expired; the queue is emptied between
	 * polls, outside the timed part, without reading the events (their
	 * reading and formatting is the control thread's work, on another
	 * core in production) */
	bool events;
	/* SCTP associations instead of UDP flows: set up with the four-packet
	 * handshake, then DATA chunks, each with its CRC32c checked in
	 * software (few NICs check it) */
	bool sctp;
	/* TCP connections instead of UDP flows: set up with the three-way
	 * handshake (window scaling 7 both ways), then data segments of 10
	 * bytes from the client, each at the connection's next sequence
	 * number, in the window the server offered: window tracking's whole
	 * work for an in-window segment */
	bool tcp;
};

static const struct ctbench ctscenarios[] = {
	{ "ct-established", "1M UDP connections, packets of existing ones (ESTABLISHED first rule)",
	  1u << 20, 0, 1u << 20, 0, false, 0, false, false, false, false },
	{ "ct-established-64k", "64k UDP connections (a table that fits in cache), existing ones",
	  1u << 16, 0, 1u << 16, 0, false, 0, false, false, false, false },
	{ "ct-established-1k", "1k UDP connections in the core's cache, checksums vouched for by offload: the lane's work without memory stalls",
	  1u << 10, 0, 1u << 10, 0, false, 0, true, false, false, false },
	{ "ct-established-offload", "ct-established, the NIC's receive offload vouching for the UDP checksums",
	  1u << 20, 0, 1u << 20, 0, false, 0, true, false, false, false },
	{ "ct-established-64k-offload", "ct-established-64k, the NIC's receive offload vouching for the UDP checksums",
	  1u << 16, 0, 1u << 16, 0, false, 0, true, false, false, false },
	{ .name = "ct-established-tcp-64k", .desc = "64k TCP connections (after their handshakes), data segments of existing ones in the window, checksums checked",
	  .flows = 1u << 16, .max = 1u << 16, .tcp = true },
	{ .name = "ct-established-tcp-1k", .desc = "1k TCP connections in the core's cache, data segments, checksums vouched for by offload",
	  .flows = 1u << 10, .max = 1u << 10, .l4good = true, .tcp = true },
	{ .name = "ct-sctp-64k", .desc = "64k SCTP associations (after their handshakes), DATA chunks of existing ones, CRC32c checked",
	  .flows = 1u << 16, .max = 1u << 16, .sctp = true },
	{ "ct-new", "every packet a new UDP connection, 1000-rule FORWARD, entries expiring (1 s)",
	  0, 4, 4u << 20, 1000, false, 0, false, false, false, false },
	{ "ct-new-events", "ct-new with conntrack -E following (NEW and DESTROY events queued)",
	  0, 4, 4u << 20, 1000, false, 0, false, true, false, false },
	{ "ct-mix", "1M established connections, 1 packet in 4 a new one (1000-rule FORWARD)",
	  1u << 20, 1, 4u << 20, 1000, false, 0, false, false, false, false },
	{ "nat-established", "1M SNATed UDP connections, packets of existing ones (translated)",
	  1u << 20, 0, 1u << 20, 0, true, 0, false, false, false, false },
	{ "nat-new", "every packet a new UDP connection SNATed to one address, 1000-rule FORWARD",
	  0, 4, 4u << 20, 1000, true, 0, false, false, false, false },
	{ "nat-new-2w", "nat-new from 250 clients on worker 0 of 2, wan0's RSS unknown",
	  0, 4, 4u << 20, 1000, true, 1, false, false, false, false },
	{ "nat-new-rss", "nat-new-2w with wan0's RSS known: replies steered by the port choice",
	  0, 4, 4u << 20, 1000, true, 2, false, false, false, false },
};

#define CT_NAT_ADDR 0x0a4d0264u /* 10.77.2.100: the SNAT address */

#define CT_LAN_HOST 0x0a4d0102u /* 10.77.1.2 */

/* Flow f: 10.77.1.2:sport -> 192.x.y.z:53, 2^35 of them. */
static void ct_flow_pkt(struct rte_mbuf *m, const struct dp_ctx *dp, uint64_t f, bool reply,
			bool nat)
{
	rte_pktmbuf_reset(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, FRAME_LEN);
	memset(p, 0, FRAME_LEN);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	eth->dst_addr = dp->ports[reply ? 1 : 0].mac;
	struct rte_ether_addr s = { { 0x02, 0, 0, 0, 0x01, reply ? 0xfd : 0x02 } };
	eth->src_addr = s;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(FRAME_LEN - 14);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	uint32_t far = 0xc0000000u | (uint32_t)((f >> 15) & 0xf) << 16 | (uint32_t)((f >> 19) & 0xffff);
	uint16_t sport = (uint16_t)(1024 + (f & 0x7fff));
	ip->src_addr = rte_cpu_to_be_32(reply ? far : CT_LAN_HOST);
	ip->dst_addr = rte_cpu_to_be_32(reply ? (nat ? CT_NAT_ADDR : CT_LAN_HOST) : far);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	u->src_port = rte_cpu_to_be_16(reply ? 53 : sport);
	u->dst_port = rte_cpu_to_be_16(reply ? sport : 53);
	u->dgram_len = rte_cpu_to_be_16(FRAME_LEN - 14 - 20);
	/* a real checksum, as most UDP carries: the ring PMD has no receive
	 * checksum offload, so conntrack checks it in software */
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
}

/* Association f's packet of the handshake (phase 0 INIT, 1 INIT_ACK, 2
 * COOKIE_ECHO, 3 COOKIE_ACK) or, phase 4, a DATA chunk of it: between
 * ct_flow_pkt's addresses and ports, under the tags the handshake gave,
 * with its CRC32c. */
#define SCTP_FRAME 82
static void ct_sctp_pkt(struct rte_mbuf *m, const struct dp_ctx *dp, uint64_t f, unsigned phase)
{
	bool reply = phase == 1 || phase == 3;
	ct_flow_pkt(m, dp, f, reply, false); /* addresses, ports, lengths as UDP's */
	if (rte_pktmbuf_append(m, SCTP_FRAME - FRAME_LEN) == NULL)
		return;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  sizeof(struct rte_ether_hdr));
	uint8_t *l4 = (uint8_t *)(ip + 1);
	uint32_t l4len = SCTP_FRAME - 14 - 20;
	memset(l4 + 4, 0, l4len - 4); /* the ports stay */
	ip->next_proto_id = IPPROTO_SCTP;
	ip->total_length = rte_cpu_to_be_16(SCTP_FRAME - 14);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	uint32_t ctag = (uint32_t)(f * 2654435761u) | 1, stag = ctag ^ 0x5a5a5a5au;
	static const uint8_t type[5] = { 1, 2, 10, 11, 0 };
	uint32_t vtag = phase == 0 ? 0 : reply ? ctag : stag;
	uint8_t *c = l4 + 12;
	uint32_t clen = l4len - 12;
	c[0] = type[phase];
	c[2] = (uint8_t)(clen >> 8);
	c[3] = (uint8_t)clen;
	if (phase <= 1) { /* the initiate tag, a_rwnd, streams, TSN */
		uint32_t it = phase == 0 ? ctag : stag;
		c[4] = (uint8_t)(it >> 24), c[5] = (uint8_t)(it >> 16), c[6] = (uint8_t)(it >> 8),
		c[7] = (uint8_t)it;
		c[8] = c[9] = 0xff, c[13] = c[15] = 1;
	}
	l4[4] = (uint8_t)(vtag >> 24), l4[5] = (uint8_t)(vtag >> 16), l4[6] = (uint8_t)(vtag >> 8),
	l4[7] = (uint8_t)vtag;
	nat_sctp_csum(l4, l4len, l4 + 8);
}

/* Connection f's TCP segment: phase 0 the SYN, 1 the SYN/ACK, 2 the ACK
 * (each with a window scale option on SYNs), 3 a data segment of 10 bytes
 * at sequence offset off (from the client). ct_flow_pkt's addresses and
 * ports; the checksum computed. */
#define TCP_ISN(f) ((uint32_t)((f) * 2654435761u))
#define TCP_RISN(f) ((uint32_t)((f) * 40503u + 77))
static void ct_tcp_pkt(struct rte_mbuf *m, const struct dp_ctx *dp, uint64_t f, unsigned phase,
		       uint32_t off)
{
	bool reply = phase == 1;
	ct_flow_pkt(m, dp, f, reply, false); /* 64 bytes: 20 of TCP header, 10 of data */
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
							  sizeof(struct rte_ether_hdr));
	uint8_t *t = (uint8_t *)(ip + 1);
	memset(t + 4, 0, FRAME_LEN - 14 - 20 - 4); /* the ports stay */
	ip->next_proto_id = IPPROTO_TCP;
	uint32_t isn = TCP_ISN(f), risn = TCP_RISN(f);
	uint32_t seq = phase == 0 ? isn : phase == 1 ? risn : isn + 1 + off;
	uint32_t ack = phase == 0 ? 0 : phase == 1 ? isn + 1 : risn + 1;
	uint8_t flags = phase == 0 ? 0x02 : phase == 1 ? 0x12 : phase == 2 ? 0x10 : 0x18;
	unsigned hl = phase <= 1 ? 24 : 20, data = phase == 3 ? 10 : 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + hl + data));
	rte_pktmbuf_trim(m, (uint16_t)(FRAME_LEN - 14 - 20 - hl - data));
	t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8),
	t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24), t[9] = (uint8_t)(ack >> 16), t[10] = (uint8_t)(ack >> 8),
	t[11] = (uint8_t)ack;
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = flags;
	t[14] = 0xff, t[15] = 0xff; /* window 65535 (<< 7 after the SYNs) */
	if (hl == 24) /* window scale 7 */
		t[20] = 3, t[21] = 3, t[22] = 7, t[23] = 1;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	t[16] = t[17] = 0;
	uint16_t ck = rte_ipv4_udptcp_cksum(ip, t);
	memcpy(t + 16, &ck, 2);
}

/* ESTABLISHED,RELATED accepted first, n ClassBench-like rules that only
 * count, NEW accepted, policy DROP. */
static int install_ct_rules(struct dp_ctx *dp, uint32_t n, bool nat)
{
	struct cbgen g;
	if (cbgen_rules(&g, CBGEN_SEED_CT, n) < 0)
		return -1;
	for (uint32_t i = 0; i < g.n; i++)
		g.r[i].action = 2;
	size_t len;
	char *cb = cbgen_restore_text(&g, &len);
	cbgen_free(&g);
	if (cb == NULL)
		return -1;
	/* cb is a whole *filter table with a FORWARD chain: wrap its rules */
	size_t cap = len + 512;
	char *text = malloc(cap);
	if (text == NULL) {
		free(cb);
		return -1;
	}
	size_t off = 0;
	if (nat) /* the source port stays (minimal mangling): every tuple differs */
		off = (size_t)snprintf(text, cap, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
				       ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
				       "-A POSTROUTING -o wan0 -j SNAT --to-source 10.77.2.100\nCOMMIT\n");
	off += (size_t)snprintf(text + off, cap - off, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n"
				":OUTPUT ACCEPT [0:0]\n"
				"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
	for (char *line = strtok(cb, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "-A FORWARD ", 11) == 0)
			off += (size_t)snprintf(text + off, cap - off, "%s\n", line);
	off += (size_t)snprintf(text + off, cap - off,
				"-A FORWARD -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n");
	free(cb);
	char err[512];
	struct rules_ruleset *rs = rules_new();
	int rc = 0;
	if (!rs || rules_ipt_load(rs, RULES_F_V4, text, off, "bench-ct", 0, err, sizeof(err)) < 0 ||
	    dp_rules_install(dp, rs, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampart-bench: ct ruleset: %s\n", rs ? err : "out of memory");
		rules_free(rs);
		rc = -1;
	}
	free(text);
	return rc;
}

/* The LAN host asks for us (as the gateways did), so the box knows it;
 * then nothing is left in the tx rings. */
static void learn_lan_host(struct dp_ctx *dp, struct dp_worker *w, struct rte_ring *rx[2],
			   struct rte_ring *tx[2])
{
	static const uint8_t us4[4] = { 10, 77, 1, 1 }, host[4] = { 10, 77, 1, 2 };
	put_arp_request(rx[0], NULL, host, us4, 2);
	for (int k = 0; k < 4; k++) {
		dp_worker_poll(w);
		dp_ctl_poll(dp);
	}
	struct rte_mbuf *m[DP_BURST];
	for (int p = 0; p < 2; p++) {
		unsigned n;
		while ((n = rte_ring_dequeue_burst(tx[p], (void **)m, DP_BURST, NULL)) > 0)
			rte_pktmbuf_free_bulk(m, n);
	}
}

/* Push one burst through the worker; true if all n were forwarded. */
static bool ct_push(struct dp_worker *w, struct rte_ring *rx, struct rte_ring *tx[2],
		    struct rte_mbuf **m, unsigned n)
{
	rte_ring_enqueue_bulk(rx, (void **)m, n, NULL);
	dp_worker_poll(w);
	unsigned got = 0, k;
	for (int p = 0; p < 2; p++)
		while ((k = rte_ring_dequeue_burst(tx[p], (void **)m + got, n - got, NULL)) > 0)
			got += k;
	return got == n;
}

static int run_ct(const struct ctbench *b, unsigned seq, uint64_t target, bool json)
{
	struct rte_ring *rx[2], *tx[2];
	char extra[256];
	/* a short UDP timeout: the new connections expire while we measure */
	snprintf(extra, sizeof(extra),
		 "conntrack: {max-entries: %u, max-ipv6: 0, timeouts: {udp: 1, udp-stream: 1}}\n", b->max);
	if (b->flows)
		snprintf(extra, sizeof(extra), "conntrack: {max-entries: %u, max-ipv6: 0, timeouts: "
			 "{udp: 3600, udp-stream: 3600, sctp-cookie-wait: 3600, "
			 "sctp-cookie-echoed: 3600, sctp-established: 3600}}\n", b->max);
	if (b->two) /* each worker gets half the entries: the same share as nat-new */
		snprintf(extra, sizeof(extra), "conntrack: {max-entries: %u, max-ipv6: 0, timeouts: "
			 "{udp: 1, udp-stream: 1}}\n", 2 * b->max);
	g_nq = b->two ? 2 : 1;
	struct dp_ctx *dp = setup(seq, extra, rx, tx);
	g_nq = 1;
	if (dp == NULL)
		return -1;
	struct dp_worker *w = dp_worker_get(dp, 0);
	if (b->two == 2) {
		/* what port.c would read from a NIC: rampartd's symmetric key,
		 * a 128-entry redirection table over the two queues */
		uint8_t key[40];
		uint16_t reta[128];
		dp_sym_rss_key(key, sizeof(key));
		for (unsigned i = 0; i < 128; i++)
			reta[i] = (uint16_t)(i % 2);
		if (dp_port_rss_steer(dp, 1, key, 40, reta, 128, RTE_ETH_RSS_NONFRAG_IPV4_UDP) < 0) {
			fprintf(stderr, "rampart-bench: %s: cannot model the RSS\n", b->name);
			teardown(dp, rx, tx);
			return -1;
		}
	}
	learn_lan_host(dp, w, rx, tx);
	struct rte_mbuf *m[DP_BURST];
	if (install_ct_rules(dp, b->rules, b->nat) < 0) {
		teardown(dp, rx, tx);
		return -1;
	}
	if (rte_pktmbuf_alloc_bulk(g_pool, m, DP_BURST) != 0) {
		teardown(dp, rx, tx);
		return -1;
	}
	int rc = 0;
	/* set up the established connections: a packet each way
	 * (ESTABLISHED), then one more 2 s later, which makes each a stream
	 * (ASSURED), as connections that live longer than that are: the
	 * steady state of established traffic */
	for (int ph = 0; ph < (b->sctp ? 4 : 3) && rc == 0; ph++) {
		if (ph == 2 && !b->sctp && !b->tcp && b->flows) {
			struct timespec ts = { 2, 100 * 1000 * 1000 };
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		for (uint64_t f = 0; f < b->flows && rc == 0; f += DP_BURST) {
			int dir = ph & 1;
			for (unsigned i = 0; i < DP_BURST; i++) {
				if (b->sctp)
					ct_sctp_pkt(m[i], dp, f + i, (unsigned)ph);
				else if (b->tcp)
					ct_tcp_pkt(m[i], dp, f + i, (unsigned)ph, 0);
				else
					ct_flow_pkt(m[i], dp, f + i, dir == 1, b->nat);
			}
			if (!ct_push(w, rx[dir], tx, m, DP_BURST)) {
				fprintf(stderr, "rampart-bench: %s: set-up packets lost\n", b->name);
				rc = -1;
			}
		}
	}
	/* what the set-up claims (the established scenarios have one worker) */
	if (rc == 0 && b->flows && !b->sctp && !b->tcp) {
		uint32_t assured = 0;
		for (uint32_t i = 0; i < w->ct->max; i++)
			assured += w->ct->e[i].fam != 0 && (w->ct->e[i].status & CT_S_ASSURED);
		if (assured != b->flows) {
			fprintf(stderr, "rampart-bench: %s: %u of %u connections are streams\n",
				b->name, assured, b->flows);
			rc = -1;
		}
	}
	uint64_t cycles = 0, pkts = 0, fresh = 1ull << 34, k = 0;
	uint64_t tx0 = dp_worker_tx(w), drop0 = 0;
	for (unsigned d = 1; d < DP_DROP_MAX; d++)
		drop0 += dp_worker_drops(w, d);
	uint64_t mask = b->flows ? b->flows - 1 : 0;
	/* TCP: each connection's bytes sent so far (its next sequence number) */
	uint32_t *tcp_sent = b->tcp ? calloc(b->flows, sizeof(uint32_t)) : NULL;
	if (b->tcp && tcp_sent == NULL)
		rc = -1;
	uint64_t est0 = w->st.fast_est;
	/* the handshakes' last bursts (none of them the lane's) made the lane
	 * sit out the next few (est_cool): the timed part starts afresh */
	w->est_cool = 0;
	uint64_t events = 0, ev_lost = 0;
	if (b->events) {
		char err[128];
		if (dp_ct_events(dp, true, err, sizeof(err)) < 0) {
			fprintf(stderr, "rampart-bench: %s: %s\n", b->name, err);
			rc = -1;
		}
	}
	while (rc == 0 && pkts < target) {
		for (unsigned i = 0; i < DP_BURST; i++, k++) {
			if ((k & 3) < b->new_per4 && b->two) {
				/* a quarter of a client's ports per server (the
				 * other worker would get about half of them, and
				 * a worker's steered ports toward one server are
				 * a quarter of the range), 250 clients in turn (a
				 * client port comes back after 2M connections,
				 * when its last mapping has expired: a live one
				 * would be kept, steered or not) */
				ct_flow_pkt(m[i], dp, 4 * fresh, false, b->nat);
				struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m[i],
					struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
				ip->src_addr = rte_cpu_to_be_32(CT_LAN_HOST + (uint32_t)((fresh >> 13) % 250));
				ip->hdr_checksum = 0;
				ip->hdr_checksum = rte_ipv4_cksum(ip);
				struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
				u->dgram_cksum = 0;
				u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
				fresh++;
			} else if ((k & 3) < b->new_per4)
				ct_flow_pkt(m[i], dp, fresh++, false, b->nat);
			else if (b->sctp)
				ct_sctp_pkt(m[i], dp, (k * 0x9e3779b1ull) & mask, 4);
			else if (b->tcp) {
				uint64_t f = (k * 0x9e3779b1ull) & mask;
				ct_tcp_pkt(m[i], dp, f, 3, tcp_sent[f]);
				tcp_sent[f] += 10;
			}
			else /* an odd stride: every flow in turn, cache-unfriendly order */
				ct_flow_pkt(m[i], dp, (k * 0x9e3779b1ull) & mask, false, b->nat);
			if (b->l4good)
				m[i]->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		}
		rte_ring_enqueue_bulk(rx[0], (void **)m, DP_BURST, NULL);
		uint64_t t0 = rte_rdtsc_precise();
		unsigned n = dp_worker_poll(w);
		cycles += rte_rdtsc_precise() - t0;
		pkts += n;
		if (b->events) {
			uint64_t l = 0;
			events += dp_ct_events_drain(dp, NULL, NULL, UINT32_MAX, &l);
			ev_lost += l;
		}
		unsigned got = 0, g;
		for (int p = 0; p < 2; p++)
			while ((g = rte_ring_dequeue_burst(tx[p], (void **)m + got, DP_BURST - got, NULL)) > 0)
				got += g;
		if (got != DP_BURST) {
			fprintf(stderr, "rampart-bench: %s: %u of %u packets lost in the pipeline:", b->name,
				DP_BURST - got, DP_BURST);
			for (unsigned d = 1; d < DP_DROP_MAX; d++)
				if (dp_worker_drops(w, d))
					fprintf(stderr, " %s=%" PRIu64, dp_drop_names[d], dp_worker_drops(w, d));
			fprintf(stderr, "\n");
			rc = -1;
			if (got < DP_BURST) /* what was dropped is gone: refill */
				if (rte_pktmbuf_alloc_bulk(g_pool, m + got, DP_BURST - got) != 0)
					break;
		}
	}
	uint64_t drops = 0;
	for (unsigned d = 1; d < DP_DROP_MAX; d++)
		drops += dp_worker_drops(w, d);
	drops -= drop0;
	uint64_t sent = dp_worker_tx(w) - tx0;
	free(tcp_sent);
	/* TCP: what it claims is the established lane's work for segments */
	if (rc == 0 && b->tcp && w->st.fast_est - est0 < pkts) {
		fprintf(stderr, "rampart-bench: %s: %" PRIu64 " of %" PRIu64 " segments took the "
			"established lane\n", b->name, w->st.fast_est - est0, pkts);
		rc = -1;
	}
	if (rc == 0 && b->two == 2) {
		/* the hash of each reply is checked in test_nat and test_router;
		 * here, that the choice was the steered one */
		uint64_t st = w->nst.rss_steered, all = w->nst.bind_src;
		printf("%-15s %" PRIu64 " of %" PRIu64 " bindings steered (%.3f %%), %" PRIu64
		       " left to the hand-off\n", b->name, st, all, all ? 100.0 * (double)st / (double)all : 0,
		       w->nst.rss_unsteered);
		if (st + w->nst.rss_unsteered != all || st < all - all / 100) {
			fprintf(stderr, "rampart-bench: %s: too few bindings steered\n", b->name);
			rc = -1;
		}
	}
	const struct ct_table *t = w->ct;
	char evs[64];
	double bpe = t->live ? (double)t->mem / (double)t->live : 0;
	double cpp = pkts ? (double)cycles / (double)pkts : 0;
	double pps = cycles ? (double)pkts * (double)rte_get_tsc_hz() / (double)cycles : 0;
	double nps = pps * (double)b->new_per4 / 4;
	if (rc == 0 && json)
		printf("{\"scenario\":\"%s\",\"pps\":%.0f,\"cycles_per_packet\":%.1f,\"packets\":%" PRIu64
		       ",\"new_per_s\":%.0f,\"live_entries\":%u,\"table_bytes\":%zu,\"bytes_per_entry\":%.1f,"
		       "\"expired\":%" PRIu64 ",\"early_drop\":%" PRIu64 "%s}\n",
		       b->name, pps, cpp, pkts, nps, t->live, t->mem, bpe, t->st.expired, t->st.early_drop,
		       b->events ? (snprintf(evs, sizeof(evs), ",\"events\":%" PRIu64 ",\"events_lost\":%"
					     PRIu64, events, ev_lost), evs) : "");
	else if (rc == 0)
		printf("%-15s %-75s %7.2f Mpps %7.1f cyc/pkt  new/s=%.2fM live=%u bytes_per_entry=%.1f "
		       "expired=%" PRIu64 " early_drop=%" PRIu64 "%s%s  scenario=%s pps=%.0f "
		       "cycles_per_packet=%.1f\n",
		       b->name, b->desc, pps / 1e6, cpp, nps / 1e6, t->live, bpe, t->st.expired,
		       t->st.early_drop, b->events ? " events=" : "",
		       b->events ? (snprintf(evs, sizeof(evs), "%" PRIu64 " lost=%" PRIu64, events, ev_lost),
				    evs) : "",
		       b->name, pps, cpp);
	if (b->events) {
		dp_ct_events(dp, false, NULL, 0);
		if (rc == 0 && (ev_lost || events < pkts)) {
			fprintf(stderr, "rampart-bench: %s: %" PRIu64 " events for %" PRIu64 " connections, "
				"%" PRIu64 " lost\n", b->name, events, pkts, ev_lost);
			rc = -1;
		}
	}
	fflush(stdout);
	rte_pktmbuf_free_bulk(m, DP_BURST);
	teardown(dp, rx, tx);
	if (rc == 0 && (drops || sent < pkts)) {
		fprintf(stderr, "rampart-bench: %s: %" PRIu64 " drops, %" PRIu64 " of %" PRIu64
				" forwarded: the scenario is not measuring what it claims\n",
			b->name, drops, sent, pkts);
		rc = -1;
	}
	return rc;
}

/* ---- nat-handoff: the cost of a reply that reaches the wrong worker ----- */

/* Time one burst through worker w (and then worker w2, when not NULL, as
 * the packets it was handed); returns the cycles, or 0 if packets were
 * lost. */
static uint64_t handoff_push(struct dp_worker *w, struct dp_worker *w2, struct rte_ring *rx,
			     struct rte_ring *out, struct rte_mbuf **m, unsigned n)
{
	rte_ring_enqueue_bulk(rx, (void **)m, n, NULL);
	uint64_t t0 = rte_rdtsc_precise();
	dp_worker_poll(w);
	if (w2 != NULL)
		dp_worker_poll(w2);
	uint64_t c = rte_rdtsc_precise() - t0;
	unsigned got = 0, k;
	while ((k = rte_ring_dequeue_burst(out, (void **)m + got, n - got, NULL)) > 0)
		got += k;
	if (got < n && rte_pktmbuf_alloc_bulk(g_pool, m + got, n - got) != 0)
		return 0;
	return got == n ? c : 0;
}

/*
 * 1M connections SNATed by worker 0 (source ports of worker 0's share, so
 * they are kept), then their replies: first on worker 0's own queue (the
 * owner: lookup, un-NAT, forward), then on worker 1's queue, which steers
 * each to worker 0 through the hand-off ring (both workers' time counted).
 * The difference is what a reply on the wrong worker costs.
 */
static int run_handoff(unsigned seq, uint64_t target, bool json)
{
	struct rte_ring *rx[2], *tx[2];
	const uint32_t flows = 1u << 20;
	g_nq = 2;
	struct dp_ctx *dp = setup(seq, "conntrack: {max-entries: 2097152, max-ipv6: 0, timeouts: "
				  "{udp: 3600, udp-stream: 3600}}\n", rx, tx);
	g_nq = 1;
	if (dp == NULL)
		return -1;
	struct dp_worker *w0 = dp_worker_get(dp, 0), *w1 = dp_worker_get(dp, 1);
	learn_lan_host(dp, w0, rx, tx);
	struct rte_mbuf *m[DP_BURST];
	if (install_ct_rules(dp, 0, true) < 0 || rte_pktmbuf_alloc_bulk(g_pool, m, DP_BURST) != 0) {
		teardown(dp, rx, tx);
		return -1;
	}
	int rc = 0;
	/* flow 2i+1: an odd source port, kept by worker 0 ((port + 53) even) */
	for (int dir = 0; dir < 2 && rc == 0; dir++)
		for (uint64_t f = 0; f < flows && rc == 0; f += DP_BURST) {
			for (unsigned i = 0; i < DP_BURST; i++)
				ct_flow_pkt(m[i], dp, 2 * (f + i) + 1, dir == 1, true);
			if (!ct_push(w0, rx[dir], tx, m, DP_BURST)) {
				fprintf(stderr, "rampart-bench: nat-handoff: set-up packets lost\n");
				rc = -1;
			}
		}
	uint64_t cyc[2] = { 0, 0 }, pkts[2] = { 0, 0 }, k = 0;
	uint64_t h0 = w0->st.handoff_in;
	for (int phase = 0; phase < 2 && rc == 0; phase++)
		while (pkts[phase] < target / 2) {
			for (unsigned i = 0; i < DP_BURST; i++, k++)
				ct_flow_pkt(m[i], dp, 2 * ((k * 0x9e3779b1ull) & (flows - 1)) + 1, true, true);
			uint64_t c = phase == 0 ? handoff_push(w0, NULL, rx[1], tx[0], m, DP_BURST)
						: handoff_push(w1, w0, g_rxq1[1], tx[0], m, DP_BURST);
			if (c == 0) {
				fprintf(stderr, "rampart-bench: nat-handoff: replies lost (phase %d)\n", phase);
				rc = -1;
				break;
			}
			cyc[phase] += c;
			pkts[phase] += DP_BURST;
		}
	uint64_t handed = w0->st.handoff_in - h0;
	if (rc == 0 && handed != pkts[1]) {
		fprintf(stderr, "rampart-bench: nat-handoff: %" PRIu64 " of %" PRIu64
				" replies were handed over\n", handed, pkts[1]);
		rc = -1;
	}
	double own = pkts[0] ? (double)cyc[0] / (double)pkts[0] : 0;
	double other = pkts[1] ? (double)cyc[1] / (double)pkts[1] : 0;
	if (rc == 0 && json)
		printf("{\"scenario\":\"nat-handoff\",\"cycles_per_packet_owner\":%.1f,"
		       "\"cycles_per_packet_handed\":%.1f,\"handoff_cycles\":%.1f,\"packets\":%" PRIu64 "}\n",
		       own, other, other - own, pkts[0] + pkts[1]);
	else if (rc == 0)
		printf("%-15s %-75s %7.1f cyc/pkt on the owner, %7.1f handed over: hand-off %.1f cyc/pkt  "
		       "scenario=nat-handoff cycles_per_packet=%.1f handoff_cycles=%.1f\n",
		       "nat-handoff", "replies of 1M SNATed connections on the owner, then on the other worker",
		       own, other, other - own, other, other - own);
	fflush(stdout);
	rte_pktmbuf_free_bulk(m, DP_BURST);
	teardown(dp, rx, tx);
	return rc;
}

/* ---- filter-N: the rule engine alone ---------------------------------- */

struct fbench {
	const char *name;
	uint32_t n_rules;
	bool linear;
	bool in_all;
};

static const struct fbench fscenarios[] = {
	{ "filter-10", 10, false, true },
	{ "filter-1000", 1000, false, true },
	{ "filter-10000", 10000, false, true },
	{ "filter-100000", 100000, false, true },
	{ "filter-10-linear", 10, true, false },
	{ "filter-1000-linear", 1000, true, false },
	{ "filter-10000-linear", 10000, true, false },
};

#define FPKTS 4096

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/*
 * N ClassBench-like rules in FORWARD (policy ACCEPT); 4096 packets, half
 * built inside one of the last 10% of the rules (they match late: the
 * first rule that matches may be earlier, as with real overlaps), half
 * from address space no rule covers (they match nothing and meet the
 * policy). Cycles per packet of rules_eval_hook(FORWARD) on packet views,
 * so the figure is the rule engine's own cost.
 */
static int run_filter(const struct fbench *b, uint64_t target, bool json)
{
	struct cbgen g;
	if (cbgen_rules(&g, CBGEN_SEED, b->n_rules) < 0)
		return -1;
	size_t len;
	char *text = cbgen_restore_text(&g, &len);
	char err[512];
	struct rules_ruleset *rs = rules_new();
	if (!text || !rs || rules_ipt_load(rs, RULES_F_V4, text, len, b->name, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampart-bench: %s: %s\n", b->name, text && rs ? err : "out of memory");
		free(text);
		rules_free(rs);
		cbgen_free(&g);
		return -1;
	}
	free(text);
	static const char *const ports[] = { "lan0", "wan0" };
	long rss0 = rss_kib();
	double t0 = now_ms();
	struct rules_prog *p = rules_prog_compile(rs, ports, 2, b->linear ? RULES_COMPILE_LINEAR : 0,
						  err, sizeof(err));
	double compile_ms = now_ms() - t0;
	long rss1 = rss_kib();
	if (!p) {
		fprintf(stderr, "rampart-bench: %s: %s\n", b->name, err);
		rules_free(rs);
		cbgen_free(&g);
		return -1;
	}
	static struct rules_pkt pk[FPKTS];
	for (unsigned i = 0; i < FPKTS; i++) {
		if (i % 2 && g.n >= 1) {
			uint32_t late = g.n - 1 - (uint32_t)(rte_rand() % (g.n / 10 + 1));
			cbgen_packet_in(&g, late, &pk[i]);
		} else {
			cbgen_packet_miss(&g, &pk[i]);
		}
	}
	struct rules_counter *ctr = calloc(p->n_slots + 1, sizeof(*ctr));
	if (!ctr) {
		rules_prog_free(p);
		rules_free(rs);
		cbgen_free(&g);
		return -1;
	}
	/* enough rounds for a stable figure, bounded in time for big chains */
	uint64_t pkts = 0, cycles = 0, accepted = 0;
	double tstart = now_ms();
	while (pkts < target / 4 && now_ms() - tstart < 1500) {
		uint64_t c0 = rte_rdtsc();
		for (unsigned i = 0; i < FPKTS; i++) {
			struct rules_result res;
			rules_eval_hook(p, RULES_H_FORWARD, &pk[i], ctr, &res, NULL);
			accepted += res.res == RULES_R_ACCEPT;
		}
		cycles += rte_rdtsc() - c0;
		pkts += FPKTS;
	}
	double cpp = (double)cycles / (double)pkts;
	double pps = (double)pkts * (double)rte_get_tsc_hz() / (double)cycles;
	uint64_t hits = 0;
	for (uint32_t i = 0; i < p->n_ctr; i++)
		hits += ctr[i].pkts;
	long drss = rss1 >= 0 && rss0 >= 0 ? rss1 - rss0 : -1;
	if (json)
		printf("{\"scenario\":\"%s\",\"pps\":%.0f,\"cycles_per_packet\":%.1f,\"packets\":%" PRIu64
		       ",\"rules\":%u,\"compile_ms\":%.1f,\"mem_bytes\":%zu,\"rss_delta_kib\":%ld,"
		       "\"accepted\":%" PRIu64 "}\n",
		       b->name, pps, cpp, pkts, b->n_rules, compile_ms, p->mem, drss, accepted);
	else
		printf("%-19s %6u rules, compile %8.1f ms, %9.1f KiB (rss +%ld KiB) %7.2f Mpps %7.1f cyc/pkt  "
		       "scenario=%s pps=%.0f cycles_per_packet=%.1f compile_ms=%.1f mem_bytes=%zu\n",
		       b->name, b->n_rules, compile_ms, (double)p->mem / 1024, drss, pps / 1e6, cpp, b->name,
		       pps, cpp, compile_ms, p->mem);
	fflush(stdout);
	free(ctr);
	rules_prog_free(p);
	rules_free(rs);
	cbgen_free(&g);
	/* every packet went through the chain: counters must add up */
	if (hits < pkts) {
		fprintf(stderr, "rampart-bench: %s: counters saw %" PRIu64 " of %" PRIu64 " packets\n",
			b->name, hits, pkts);
		return -1;
	}
	return 0;
}

/* iptables-restore text of n ClassBench-like FORWARD rules; NULL on failure */
static char *cb_text(uint32_t n, size_t *len)
{
	struct cbgen g;
	if (cbgen_rules(&g, CBGEN_SEED, n) < 0)
		return NULL;
	char *t = cbgen_restore_text(&g, len);
	cbgen_free(&g);
	return t;
}

/*
 * apply-set: what a change of a set costs the control thread, on a
 * 10 000-rule ruleset whose first FORWARD rule matches a hash:ip set of
 * 65 536 entries with timeouts: one entry added to a copy of the set and
 * the set alone swapped in (dp_sets_commit: what rampartctl set add and
 * a batch of -j SET do), against the same change made as a whole-ruleset
 * change (snapshot, change, dp_rules_update); and an entry's renewal in
 * place (-j SET --exist of an entry that is there: dp_set_renew).
 */
static int run_apply_set(unsigned seq, bool json)
{
	struct rte_ring *rx[2], *tx[2];
	struct dp_ctx *dp = setup(seq, "", rx, tx);
	if (dp == NULL)
		return -1;
	enum { NRULES = 10000, NSET = 65536, ROUNDS = 10 };
	int rc = -1;
	size_t len;
	char *text = cb_text(NRULES, &len);
	char err[512];
	struct rules_ruleset *rs = rules_new();
	size_t cap = (size_t)NSET * 40 + 128, n = 0;
	char *sets = malloc(cap);
	static const char first[] = "*filter\n-I FORWARD 1 -m set --match-set big src -j DROP\nCOMMIT\n";
	if (!text || !rs || !sets) {
		fprintf(stderr, "rampart-bench: apply-set: out of memory\n");
		goto fail;
	}
	n += (size_t)snprintf(sets + n, cap - n, "create big hash:ip maxelem 131072 timeout 3600\n");
	for (unsigned i = 0; i < NSET; i++)
		n += (size_t)snprintf(sets + n, cap - n, "add big 198.%u.%u.%u\n", 18 + (i >> 16),
				      (i >> 8) & 255, i & 255);
	if (rules_ipset_load(rs, sets, n, "bench", err, sizeof(err)) < 0 ||
	    rules_ipt_load(rs, RULES_F_V4, text, len, "bench", 0, err, sizeof(err)) < 0 ||
	    rules_ipt_load(rs, RULES_F_V4, first, strlen(first), "bench", RULES_LOAD_NOFLUSH, err,
			   sizeof(err)) < 0 ||
	    dp_rules_update(dp, rs, false, err, sizeof(err), NULL) < 0) {
		fprintf(stderr, "rampart-bench: apply-set: %s\n", err);
		goto fail; /* rs is still ours: freed there */
	}
	rs = NULL;
	double set_ms = 0, set_min = 1e18, full_ms = 0, full_min = 1e18;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t now = rules_clock_us();
		struct rules_set_entry e;
		memset(&e, 0, sizeof(e));
		e.addr.b[0] = 203;
		e.addr.b[1] = 0;
		e.addr.b[2] = 113;
		e.addr.b[3] = (uint8_t)i;
		e.plen = 32;
		e.exp_us = now + 60000000;
		/* the set alone */
		double t0 = now_ms();
		struct rules_set c;
		if (dp_set_copy(dp, "big", &c) < 0 || rules_set_append(&c, &e, SIZE_MAX) < 0 ||
		    dp_sets_commit(dp, &c, 1, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "rampart-bench: apply-set: %s\n", err);
			rules_set_release(&c);
			goto fail;
		}
		rules_set_release(&c);
		double t1 = now_ms();
		/* the whole ruleset */
		e.addr.b[2] = 114;
		struct rules_ruleset *w = dp_rules_snapshot(dp);
		struct rules_set *ws = w ? (struct rules_set *)rules_set_find(w, "big") : NULL;
		if (ws == NULL || rules_set_append(ws, &e, SIZE_MAX) < 0 ||
		    dp_rules_update(dp, w, false, err, sizeof(err), NULL) < 0) {
			fprintf(stderr, "rampart-bench: apply-set: whole: %s\n", ws ? err : "no set");
			rules_free(w);
			goto fail;
		}
		double t2 = now_ms();
		set_ms += t1 - t0;
		full_ms += t2 - t1;
		if (t1 - t0 < set_min)
			set_min = t1 - t0;
		if (t2 - t1 < full_min)
			full_min = t2 - t1;
		dp_worker_poll(dp_worker_get(dp, 0));
	}
	/* renewals in place: each a lookup and a store */
	enum { RENEW = 100000 };
	uint64_t c0 = rte_rdtsc(), now = rules_clock_us();
	unsigned ok = 0;
	for (unsigned i = 0; i < RENEW; i++) {
		struct rules_set_req q;
		memset(&q, 0, sizeof(q));
		snprintf(q.name, sizeof(q.name), "big");
		q.type = RULES_SET_HASH_IP;
		q.fam = RULES_F_V4;
		q.op = RULES_SETREQ_ADD;
		q.exist = 1;
		q.timeout = 3600;
		unsigned k = (i * 40503u) % NSET;
		q.e.addr.b[0] = 198;
		q.e.addr.b[1] = (uint8_t)(18 + (k >> 16));
		q.e.addr.b[2] = (uint8_t)((k >> 8) & 255);
		q.e.addr.b[3] = (uint8_t)(k & 255);
		q.e.plen = 32;
		ok += dp_set_renew(dp, &q, now);
	}
	double renew_cyc = (double)(rte_rdtsc() - c0) / RENEW;
	if (ok != RENEW) {
		fprintf(stderr, "rampart-bench: apply-set: %u of %u renewed\n", ok, RENEW);
		goto fail;
	}
	if (json)
		printf("{\"scenario\":\"apply-set\",\"set_ms\":%.3f,\"set_min_ms\":%.3f,"
		       "\"whole_ms\":%.3f,\"whole_min_ms\":%.3f,\"renew_cycles\":%.0f}\n",
		       set_ms / ROUNDS, set_min, full_ms / ROUNDS, full_min, renew_cyc);
	else
		printf("%-19s one entry into a 65536-entry set on 10000 rules: the set alone %.2f ms "
		       "(min %.2f), as a whole-ruleset change %.2f ms (min %.2f); a renewal in place "
		       "%.0f cycles  scenario=apply-set set_ms=%.3f whole_ms=%.3f renew_cycles=%.0f\n",
		       "apply-set", set_ms / ROUNDS, set_min, full_ms / ROUNDS, full_min, renew_cyc,
		       set_ms / ROUNDS, full_ms / ROUNDS, renew_cyc);
	fflush(stdout);
	rc = 0;
fail:
	free(text);
	free(sets);
	rules_free(rs);
	teardown(dp, rx, tx);
	return rc;
}

/*
 * apply-N: the control plane's cost of one change (rampartctl -A) on an
 * N-rule ClassBench-like ruleset in a live dataplane, phase by phase:
 * snapshot (copy of the live ruleset with its counters), parse (one
 * iptables-restore line), validate, update (compile, publish, fold and
 * carry the counters), as rampartd's control thread does it: the change
 * reuses the chain's classifier and walks the appended rules after it
 * (rules_prog_compile_from); then the full rebuild the control thread
 * runs once changes pause (dp_rules_rebuild) is timed too. One worker,
 * polled by this thread between changes (the RCU wait of a real daemon, a
 * worker loop, is not included).
 */
static int run_apply(uint32_t n, unsigned seq, bool json)
{
	struct rte_ring *rx[2], *tx[2];
	struct dp_ctx *dp = setup(seq, "", rx, tx);
	if (dp == NULL)
		return -1;
	int rc = -1;
	size_t len;
	char *text = cb_text(n, &len);
	char err[512];
	struct rules_ruleset *rs = rules_new();
	if (!text || !rs || rules_ipt_load(rs, RULES_F_V4, text, len, "bench", 0, err, sizeof(err)) < 0 ||
	    dp_rules_update(dp, rs, false, err, sizeof(err), NULL) < 0) {
		fprintf(stderr, "rampart-bench: apply: %s\n", text && rs ? err : "out of memory");
		free(text);
		rules_free(rs);
		teardown(dp, rx, tx);
		return -1;
	}
	free(text);
	enum { ROUNDS = 10 };
	double t[4] = { 0 }, tot_min = 1e18;
	for (int i = 0; i < ROUNDS; i++) {
		char line[160];
		snprintf(line, sizeof(line), "*filter\n-A FORWARD -p tcp --dport %d -j DROP\nCOMMIT\n",
			 20000 + i);
		double t0 = now_ms();
		struct rules_ruleset *c = dp_rules_snapshot(dp);
		double t1 = now_ms();
		int r = c ? rules_ipt_load(c, RULES_F_V4, line, strlen(line), "request",
					   RULES_LOAD_NOFLUSH | RULES_LOAD_INPLACE, err, sizeof(err)) : -1;
		double t2 = now_ms();
		r = r < 0 ? r : rules_validate(c, "request", err, sizeof(err));
		double t3 = now_ms();
		r = r < 0 ? r : dp_rules_update(dp, c, false, err, sizeof(err), NULL);
		double t4 = now_ms();
		if (r < 0) {
			fprintf(stderr, "rampart-bench: apply: %s\n", err);
			rules_free(c);
			goto out;
		}
		t[0] += t1 - t0;
		t[1] += t2 - t1;
		t[2] += t3 - t2;
		t[3] += t4 - t3;
		if (t4 - t0 < tot_min)
			tot_min = t4 - t0;
		dp_worker_poll(dp_worker_get(dp, 0));
	}
	double r0 = now_ms();
	if (dp_rules_rebuild(dp, err, sizeof(err)) < 0) {
		fprintf(stderr, "rampart-bench: apply: rebuild: %s\n", err);
		goto out;
	}
	double rebuild = now_ms() - r0;
	double total = (t[0] + t[1] + t[2] + t[3]) / ROUNDS;
	char name[32];
	snprintf(name, sizeof(name), "apply-%u", n);
	if (json)
		printf("{\"scenario\":\"%s\",\"rules\":%u,\"apply_ms\":%.2f,\"apply_min_ms\":%.2f,"
		       "\"snapshot_ms\":%.2f,\"parse_ms\":%.2f,\"validate_ms\":%.2f,\"update_ms\":%.2f,"
		       "\"rebuild_ms\":%.2f}\n",
		       name, n, total, tot_min, t[0] / ROUNDS, t[1] / ROUNDS, t[2] / ROUNDS, t[3] / ROUNDS,
		       rebuild);
	else
		printf("%-19s one -A on %u rules: %.2f ms (min %.2f): snapshot %.2f, parse %.2f, validate "
		       "%.2f, compile+publish+carry %.2f; full rebuild %.2f  scenario=%s apply_ms=%.2f "
		       "rebuild_ms=%.2f\n",
		       name, n, total, tot_min, t[0] / ROUNDS, t[1] / ROUNDS, t[2] / ROUNDS, t[3] / ROUNDS,
		       rebuild, name, total, rebuild);
	fflush(stdout);
	rc = 0;
out:
	teardown(dp, rx, tx);
	return rc;
}

/* ---- frag-ct: fragmented datagrams through connection tracking --------- */

#define FRAG_DGRAM 2000 /* UDP header and payload: 1480 + 520 bytes in two fragments */

/* Fragment k (0, 1) of datagram id of flow f (10.77.1.2:sport -> 192.0.x.y:53),
 * its UDP checksum over the whole datagram. */
static void frag_pkt(struct rte_mbuf *m, const struct dp_ctx *dp, uint32_t f, uint16_t id,
		     unsigned k)
{
	static uint8_t whole[20 + FRAG_DGRAM];
	struct rte_ipv4_hdr *wi = (struct rte_ipv4_hdr *)whole;
	memset(whole, 0, sizeof(whole));
	wi->version_ihl = 0x45;
	wi->total_length = rte_cpu_to_be_16(sizeof(whole));
	wi->time_to_live = 64;
	wi->next_proto_id = IPPROTO_UDP;
	wi->src_addr = rte_cpu_to_be_32(CT_LAN_HOST);
	wi->dst_addr = rte_cpu_to_be_32(0xc0000000u | (f & 0xffff));
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(wi + 1);
	u->src_port = rte_cpu_to_be_16((uint16_t)(1024 + (f >> 16)));
	u->dst_port = rte_cpu_to_be_16(53);
	u->dgram_len = rte_cpu_to_be_16(FRAG_DGRAM);
	for (unsigned i = 8; i < FRAG_DGRAM; i++)
		((uint8_t *)u)[i] = (uint8_t)i;
	u->dgram_cksum = rte_ipv4_udptcp_cksum(wi, u);
	unsigned off = k ? 1480 : 0, len = k ? FRAG_DGRAM - 1480 : 1480;
	rte_pktmbuf_reset(m);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + len));
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	eth->dst_addr = dp->ports[0].mac;
	struct rte_ether_addr src = { { 0x02, 0, 0, 0, 0x01, 0x02 } };
	eth->src_addr = src;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	*ip = *wi;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16((uint16_t)((k ? 0 : RTE_IPV4_HDR_MF_FLAG) | off / 8));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(ip + 1, whole + 20 + off, len);
}

/*
 * Datagrams of 2000 bytes in two fragments (1500 and 540 bytes), of 64
 * flows, through the whole pipeline with connection tracking (ESTABLISHED
 * first, NEW accepted): reassembled (the table, the copy into one buffer,
 * the software UDP checksum over the datagram), tracked, routed, and
 * fragmented again (two copies). Cycles per datagram.
 */
static int run_frag(unsigned seq, uint64_t target, bool json)
{
	struct rte_ring *rx[2], *tx[2];
	struct dp_ctx *dp = setup(seq, "conntrack: {max-entries: 65536, max-ipv6: 0}\n", rx, tx);
	if (dp == NULL)
		return -1;
	struct dp_worker *w = dp_worker_get(dp, 0);
	learn_lan_host(dp, w, rx, tx);
	if (install_ct_rules(dp, 0, false) < 0) {
		teardown(dp, rx, tx);
		return -1;
	}
	struct rte_mbuf *m[DP_BURST];
	uint64_t cycles = 0, dgrams = 0, r0 = w->st.reassembled, drop0 = 0;
	for (unsigned d = 1; d < DP_DROP_MAX; d++)
		drop0 += dp_worker_drops(w, d);
	uint16_t id = 0;
	int rc = 0;
	uint64_t want = RTE_MAX(target / 16, (uint64_t)10000);
	while (rc == 0 && dgrams < want) {
		if (rte_pktmbuf_alloc_bulk(g_pool, m, DP_BURST) != 0) {
			fprintf(stderr, "rampart-bench: frag-ct: out of mbufs\n");
			rc = -1;
			break;
		}
		for (unsigned i = 0; i < DP_BURST; i += 2, id++)
			for (unsigned k = 0; k < 2; k++)
				frag_pkt(m[i + k], dp, (uint32_t)(id % 64) * 0x10001u, id, k);
		rte_ring_enqueue_bulk(rx[0], (void **)m, DP_BURST, NULL);
		uint64_t before = w->st.reassembled, fr0 = w->st.fragmented;
		uint64_t t0 = rte_rdtsc_precise();
		dp_worker_poll(w);
		cycles += rte_rdtsc_precise() - t0;
		dgrams = w->st.reassembled - r0;
		if (w->st.reassembled - before != DP_BURST / 2 ||
		    w->st.fragmented - fr0 != DP_BURST / 2) {
			fprintf(stderr, "rampart-bench: frag-ct: %" PRIu64 " datagrams reassembled and %"
					PRIu64 " fragmented of %u\n", w->st.reassembled - before,
				w->st.fragmented - fr0, DP_BURST / 2);
			rc = -1;
		}
		unsigned g, got = 0;
		struct rte_mbuf *out[64];
		for (int p = 0; p < 2; p++)
			while ((g = rte_ring_dequeue_burst(tx[p], (void **)out, 64, NULL)) > 0) {
				rte_pktmbuf_free_bulk(out, g);
				got += g;
			}
		if (got != DP_BURST) {
			fprintf(stderr, "rampart-bench: frag-ct: %u fragments out of %u in\n", got,
				DP_BURST);
			rc = -1;
		}
	}
	uint64_t drops = 0;
	for (unsigned d = 1; d < DP_DROP_MAX; d++)
		drops += dp_worker_drops(w, d);
	drops -= drop0;
	teardown(dp, rx, tx);
	if (rc == 0 && drops) {
		fprintf(stderr, "rampart-bench: frag-ct: %" PRIu64 " drops\n", drops);
		rc = -1;
	}
	if (rc < 0)
		return -1;
	double cpd = dgrams ? (double)cycles / (double)dgrams : 0;
	double dps = cycles ? (double)dgrams * (double)rte_get_tsc_hz() / (double)cycles : 0;
	if (json)
		printf("{\"scenario\":\"frag-ct\",\"datagrams_per_s\":%.0f,\"cycles_per_datagram\":%.1f}\n",
		       dps, cpd);
	else
		printf("frag-ct  2000-byte UDP datagrams in 2 fragments, reassembled, tracked, fragmented "
		       "again %7.2f M datagrams/s %7.1f cyc/datagram  scenario=frag-ct "
		       "datagrams_per_s=%.0f cycles_per_datagram=%.1f\n",
		       dps / 1e6, cpd, dps, cpd);
	fflush(stdout);
	return 0;
}

/* ---- reasm: the reassembly table alone --------------------------------- */

static void reasm_noop(void *ctx, void *pkt)
{
	(void)ctx;
	(void)pkt;
}

static void *reasm_zalloc(size_t n)
{
	return calloc(1, n);
}

/*
 * Datagrams of REASM_MAX_PER_DG 8-byte fragments (the most a datagram may
 * have, the longest list a fragment can walk) through a worker's table, in
 * three arrival orders: in order; the last first, then the rest in order
 * (FragmentSmack's pattern: each lands before the tail); alternating from
 * both ends (each walk starts far from its place). Cycles per fragment.
 */
static int run_reasm(uint64_t target, bool json)
{
	struct reasm *r = reasm_create(DP_FRAG_DATAGRAMS, DP_FRAG_HELD, UINT64_MAX / 4,
				       UINT64_MAX / 4, 1, reasm_noop, NULL, reasm_zalloc, free);
	if (r == NULL)
		return -1;
	const unsigned n = REASM_MAX_PER_DG;
	uint64_t dgs = RTE_MAX(target / n / 8, (uint64_t)1000);
	double cyc[3];
	static const char *const names[3] = { "in-order", "last-first", "alternating" };
	for (int pat = 0; pat < 3; pat++) {
		struct reasm_key k;
		memset(&k, 0, sizeof(k));
		k.src[0] = 10;
		uint64_t t0 = rte_rdtsc_precise(), frags = 0;
		for (uint64_t d = 0; d < dgs; d++) {
			k.id = (uint32_t)d;
			for (unsigned i = 0; i < n; i++) {
				unsigned j = pat == 0 ? i : pat == 1 ? (i ? i - 1 : n - 1)
					     : (i & 1 ? n - 1 - i / 2 : i / 2);
				uint32_t dg;
				enum reasm_res res = reasm_add(r, &k, j * 8, 8, j + 1 < n, 0, 28, 20,
							       (void *)1, 34, 0, &dg);
				frags++;
				if (res == REASM_DONE)
					reasm_release(r, dg);
				else if (res != REASM_HELD) {
					fprintf(stderr, "rampart-bench: reasm: fragment refused\n");
					reasm_destroy(r);
					return -1;
				}
			}
		}
		cyc[pat] = (double)(rte_rdtsc_precise() - t0) / (double)frags;
	}
	reasm_destroy(r);
	if (json)
		printf("{\"scenario\":\"reasm\",\"cycles_per_fragment\":%.1f,\"in_order\":%.1f,"
		       "\"last_first\":%.1f,\"alternating\":%.1f}\n",
		       cyc[2], cyc[0], cyc[1], cyc[2]);
	else
		printf("reasm    %u-fragment datagrams through the reassembly table: %s %.1f, %s %.1f, "
		       "%s %.1f cyc/fragment  scenario=reasm cycles_per_fragment=%.1f\n",
		       n, names[0], cyc[0], names[1], cyc[1], names[2], cyc[2], cyc[2]);
	fflush(stdout);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: rampart-bench [--json] [--hugepages] [--packets N] [--lcore N] SCENARIO...|all\n"
		   "  --hugepages  EAL memory from hugepages (reserve them first), as on a real box;\n"
		   "               without it, anonymous memory (--no-huge)\n"
		   "  --lcore N    run on CPU N (default 0): an isolated core, as a worker's\nscenarios:\n");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, "  %-19s %s\n", scenarios[i].name, scenarios[i].desc);

	for (size_t i = 0; i < sizeof(ctscenarios) / sizeof(ctscenarios[0]); i++)
		fprintf(f, "  %-19s %s\n", ctscenarios[i].name, ctscenarios[i].desc);
	fprintf(f, "  %-19s %s\n", "nat-handoff",
		"replies of SNATed connections on their owner, then handed over by the other worker");
	fprintf(f, "  %-19s %s\n", "apply-10000",
		"one rampartctl -A on a 10000-rule ruleset: snapshot, parse, validate, compile+publish");
	fprintf(f, "  %-19s %s\n", "apply-1000", "the same on 1000 rules");
	fprintf(f, "  %-19s %s\n", "apply-set", "one entry into a 65536-entry set: the set alone "
		"against a whole-ruleset change; renewals in place (not in 'all')");
	fprintf(f, "  %-19s %s\n", "frag-ct",
		"2000-byte UDP datagrams in 2 fragments through conntrack: reassembled, fragmented again");
	fprintf(f, "  %-19s %s\n", "reasm",
		"the reassembly table alone: 128-fragment datagrams in three arrival orders");
	for (size_t i = 0; i < sizeof(fscenarios) / sizeof(fscenarios[0]); i++)
		fprintf(f, "  %-19s FORWARD chain of %u ClassBench-like rules%s, packets matching late or "
			   "not at all\n", fscenarios[i].name, fscenarios[i].n_rules,
			fscenarios[i].linear ? ", linear reference evaluator" : "");
}

int main(int argc, char **argv)
{
	bool json = false, huge = false;
	uint64_t target = 50000000;
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "packets", required_argument, NULL, 'n' },
		{ "lcore", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	char lcore[16] = "0";
	while ((o = getopt_long(argc, argv, "jHn:l:h", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = true;
			break;
		case 'H':
			huge = true;
			break;
		case 'n':
			target = strtoull(optarg, NULL, 10);
			if (target == 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'l': {
			char *end;
			unsigned long c = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || c >= RTE_MAX_LCORE) {
				usage(stderr);
				return 2;
			}
			snprintf(lcore, sizeof(lcore), "%lu", c);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=rampart-bench-%d", (int)getpid());
	/* hugepages when asked (as production runs), else anonymous memory */
	char *eargv[] = { argv[0], huge ? (char *)"--in-memory" : (char *)"--no-huge",
			  (char *)"--no-pci", (char *)"--no-shconf", prefix, (char *)"-m",
			  (char *)"2048", (char *)"-l", lcore, (char *)"--log-level=error", NULL };
	if (rte_eal_init(10, eargv) < 0) {
		fprintf(stderr, "rampart-bench: EAL init failed\n");
		return 1;
	}
	g_pool = rte_pktmbuf_pool_create("bench_pool", NPKT * 2 + 1023, 256,
					 RTE_ALIGN(sizeof(struct dp_mbuf_priv), RTE_CACHE_LINE_SIZE),
					 RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (g_pool == NULL) {
		fprintf(stderr, "rampart-bench: cannot create the mbuf pool\n");
		return 1;
	}
	int rc = 0;
	unsigned seq = 0;
	for (int a = optind; a < argc; a++) {
		bool all = strcmp(argv[a], "all") == 0, found = all;
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
			if (all || strcmp(argv[a], scenarios[i].name) == 0) {
				found = true;
				if (run(&scenarios[i], seq++, target, json) < 0)
					rc = 1;
			}
		}
		for (size_t i = 0; i < sizeof(ctscenarios) / sizeof(ctscenarios[0]); i++) {
			if (all || strcmp(argv[a], ctscenarios[i].name) == 0) {
				found = true;
				if (run_ct(&ctscenarios[i], seq++, target, json) < 0)
					rc = 1;
			}
		}
		if (all || strcmp(argv[a], "nat-handoff") == 0) {
			found = true;
			if (run_handoff(seq++, target, json) < 0)
				rc = 1;
		}
		if (all || strcmp(argv[a], "apply-1000") == 0) {
			found = true;
			if (run_apply(1000, seq++, json) < 0)
				rc = 1;
		}
		if (all || strcmp(argv[a], "frag-ct") == 0) {
			found = true;
			if (run_frag(seq++, target, json) < 0)
				rc = 1;
		}
		if (all || strcmp(argv[a], "reasm") == 0) {
			found = true;
			if (run_reasm(target, json) < 0)
				rc = 1;
		}
		if (strcmp(argv[a], "apply-set") == 0) {
			found = true;
			if (run_apply_set(seq++, json) < 0)
				rc = 1;
		}
		if (strcmp(argv[a], "apply-10000") == 0) {
			found = true;
			if (run_apply(10000, seq++, json) < 0)
				rc = 1;
		}
		for (size_t i = 0; i < sizeof(fscenarios) / sizeof(fscenarios[0]); i++) {
			if ((all && fscenarios[i].in_all) || strcmp(argv[a], fscenarios[i].name) == 0) {
				found = true;
				if (run_filter(&fscenarios[i], target, json) < 0)
					rc = 1;
			}
		}
		if (!found) {
			fprintf(stderr, "rampart-bench: unknown scenario '%s'\n", argv[a]);
			usage(stderr);
			rc = 2;
		}
	}
	rte_mempool_free(g_pool);
	rte_eal_cleanup();
	return rc;
}
