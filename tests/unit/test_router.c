/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_router: the dataplane end to end inside one process, on two ethdevs
 * made of DPDK rings (the ring PMD): frames are pushed into a port's rx ring,
 * the worker and the control side are polled by hand in this thread
 * (dp_worker_poll / dp_ctl_poll, no dp_start), and what comes out of the tx
 * rings is checked byte by byte, checksums recomputed here. Each test gets
 * a fresh dataplane; the teardown also proves that every mbuf the test
 * allocated came back to its pool.
 *
 * Slow-path round trips take three polls: the worker punts (ARP, ND, a next
 * hop to resolve), the control thread answers into the worker's inject
 * ring, the worker sends.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include "ctl.h"
#include "ct_limit.h"
#include "dp_ct.h"
#include "dp_metrics.h"
#include "dp.h"
#include "dp_priv.h"
#include "dp_trace.h"
#include "frame.h"
#include "log.h"
#include "rampart_version.h"
#include "rules.h"
#include "rules_recent.h"

#define NPORTS 2
#define POOL_N 4095

static const char *const ring_names[NPORTS] = { "ut0", "ut1" };
/* the ring PMD names the ethdev (and its vdev) "net_ring_" + name */
static const char *const dev_names[NPORTS] = { "net_ring_ut0", "net_ring_ut1" };

static struct rte_mempool *pool;
static struct rte_ring *rxr[NPORTS], *txr[NPORTS];
/* the second queue of each port, for two-worker tests (n_q = 2) */
static struct rte_ring *rxr1[NPORTS], *txr1[NPORTS];
static unsigned n_q = 1;
static struct dp_ctx *dp;
static struct dp_worker *w;

static const uint8_t H1_IP[4] = { 10, 77, 1, 2 };   /* a host on lan0 */
static const uint8_t LAN_IP[4] = { 10, 77, 1, 1 };  /* us on lan0 */
static const uint8_t H2_IP[4] = { 10, 77, 2, 2 };   /* a host on wan0 */
static const uint8_t WAN_IP[4] = { 10, 77, 2, 1 };  /* us on wan0 */
static const uint8_t GW_IP[4] = { 10, 77, 2, 254 }; /* gateway of 192.168.0.0/16 */
static const uint8_t H1_IP6[16] = { 0xfd, 0x77, 0, 1, [15] = 2 };
static const uint8_t LAN_IP6[16] = { 0xfd, 0x77, 0, 1, [15] = 1 };
static const uint8_t H2_IP6[16] = { 0xfd, 0x77, 0, 2, [15] = 2 };
static const uint8_t MAC_GW[6] = { 0x02, 0x00, 0x00, 0x77, 0x02, 0xfe };
static const uint8_t ZERO6[6];

static const char router_yaml[] =
	"mode: router\n"
	"workers: {main_lcore: 0, lcores: [1]}\n"
	"ports:\n"
	"  - name: lan0\n"
	"    device: net_ring_ut0\n"
	"    addresses: [10.77.1.1/24, \"fd77:1::1/64\"]\n"
	"  - name: wan0\n"
	"    device: net_ring_ut1\n"
	"    addresses: [10.77.2.1/24, \"fd77:2::1/64\"]\n"
	"routes:\n"
	"  - to: 192.168.0.0/16\n"
	"    via: 10.77.2.254\n";

static const char bridge_yaml[] =
	"mode: bridge\n"
	"workers: {main_lcore: 0, lcores: [1]}\n"
	"ports:\n"
	"  - {name: lan0, device: net_ring_ut0}\n"
	"  - {name: wan0, device: net_ring_ut1}\n"
	"bridge: [[lan0, wan0]]\n";

/* ---- fixture ------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=ut-router-%d", (int)getpid());
	char *argv[] = { (char *)"test",   (char *)"--no-huge", (char *)"--no-pci",
			 (char *)"--no-shconf", (char *)"-m",     (char *)"256",
			 prefix,               (char *)"--log-level=error", NULL };
	if (rte_eal_init(8, argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return -1;
	}
	rp_log_setup(RP_LOG_ERR, true, false);
	/* the dataplane keeps per-packet state in the mbuf private area */
	pool = rte_pktmbuf_pool_create("ut_pool", POOL_N, 0, 64, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL)
		return -1;
	for (int p = 0; p < NPORTS; p++) {
		char name[32];
		snprintf(name, sizeof(name), "ut_rx%d", p);
		rxr[p] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "ut_tx%d", p);
		txr[p] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "ut_rx%d_1", p);
		rxr1[p] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "ut_tx%d_1", p);
		txr1[p] = rte_ring_create(name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rxr[p] == NULL || txr[p] == NULL || rxr1[p] == NULL || txr1[p] == NULL)
			return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (int p = 0; p < NPORTS; p++) {
		rte_ring_free(rxr[p]);
		rte_ring_free(txr[p]);
		rte_ring_free(rxr1[p]);
		rte_ring_free(txr1[p]);
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

static void drain(struct rte_ring *r)
{
	void *m;
	while (rte_ring_sc_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

static int dp_down(void **state);

static int dp_up(const char *yaml)
{
	for (int p = 0; p < NPORTS; p++) {
		drain(rxr[p]);
		drain(txr[p]);
		drain(rxr1[p]);
		drain(txr1[p]);
		struct rte_ring *rx[2] = { rxr[p], rxr1[p] }, *tx[2] = { txr[p], txr1[p] };
		int pid = rte_eth_from_rings(ring_names[p], rx, n_q, tx, n_q, 0);
		if (pid < 0) {
			fprintf(stderr, "rte_eth_from_rings(%s) failed\n", ring_names[p]);
			dp_down(NULL);
			return -1;
		}
		/* ring ports all have the address 00:00:00:00:00:00 and no
		 * mac_addr_set; adding an address fills that empty default slot.
		 * Distinct locally administered MACs 02:00:00:00:00:1p */
		struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, (uint8_t)(0x10 + p) } };
		if (rte_eth_dev_mac_addr_add((uint16_t)pid, &mac, 0) != 0) {
			fprintf(stderr, "cannot set the MAC of %s\n", dev_names[p]);
			dp_down(NULL);
			return -1;
		}
	}
	struct cfg c;
	char err[CFG_ERR_MAX];
	if (cfg_load_buf(yaml, strlen(yaml), "ut.yaml", &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		dp_down(NULL);
		return -1;
	}
	dp = dp_create(&c, err, sizeof(err));
	cfg_free(&c);
	if (dp == NULL) {
		fprintf(stderr, "dp_create: %s\n", err);
		dp_down(NULL);
		return -1;
	}
	w = dp_worker_get(dp, 0);
	/* the MAC checks below mean something only if the ports' differ */
	if (rte_is_zero_ether_addr(&dp->ports[0].mac) ||
	    rte_is_same_ether_addr(&dp->ports[0].mac, &dp->ports[1].mac)) {
		fprintf(stderr, "ring ports without distinct MAC addresses\n");
		dp_down(NULL);
		return -1;
	}
	return w != NULL ? 0 : -1;
}

static int router_up(unsigned rate, unsigned burst)
{
	char yaml[2048];
	snprintf(yaml, sizeof(yaml), "%sicmp: {ratelimit: %u, burst: %u}\n", router_yaml, rate,
		 burst);
	return dp_up(yaml);
}

static int router_setup(void **state)
{
	(void)state;
	return router_up(0, 50);
}

/* router_yaml's box with a /16 more on wan0 (10.80.0.1/16): hosts of
 * different ports' subnets that share a slot of nh_cached */
static int nh_setup(void **state)
{
	(void)state;
	char yaml[2048];
	snprintf(yaml, sizeof(yaml), "%s", router_yaml);
	static const char after[] = "[10.77.2.1/24, ", more[] = "10.80.0.1/16, ";
	char *at = strstr(yaml, after);
	if (at == NULL)
		return -1;
	at += strlen(after);
	memmove(at + strlen(more), at, strlen(at) + 1);
	memcpy(at, more, strlen(more));
	return dp_up(yaml);
}

static int router_rl_setup(void **state)
{
	(void)state;
	return router_up(1, 1);
}

static int bridge_setup(void **state)
{
	(void)state;
	return dp_up(bridge_yaml);
}

static int dp_down(void **state)
{
	(void)state;
	int rc = 0;
	dp_destroy(dp);
	dp = NULL;
	w = NULL;
	n_q = 1;
	for (int p = 0; p < NPORTS; p++) {
		drain(rxr[p]);
		drain(txr[p]);
		drain(rxr1[p]);
		drain(txr1[p]);
		/* dp_destroy closed (released) the ethdev; drop the vdev so the
		 * next test can create it again under the same name */
		if (rte_eal_hotplug_remove("vdev", dev_names[p]) != 0 && state != NULL) {
			fprintf(stderr, "cannot remove %s\n", dev_names[p]);
			rc = -1;
		}
	}
	/* every mbuf the test allocated is back: nothing leaked on any path */
	unsigned avail = rte_mempool_avail_count(pool);
	if (avail != POOL_N) {
		fprintf(stderr, "mbuf leak: %u of %u mbufs back in the pool\n", avail, POOL_N);
		rc = -1;
	}
	return rc;
}

/* ---- helpers ------------------------------------------------------- */

static const uint8_t *port_mac(int p)
{
	return dp->ports[p].mac.addr_bytes;
}

/* A copy of frame f into rx ring r (a port's queue), with the receive
 * flags a NIC would have set (checksum verdicts). */
static void put_ring_flags(struct rte_ring *r, const struct frame *f, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	char *d = rte_pktmbuf_append(m, (uint16_t)f->n);
	assert_non_null(d);
	memcpy(d, f->b, f->n);
	m->ol_flags |= ol_flags;
	assert_int_equal(rte_ring_sp_enqueue(r, m), 0);
}

static void put_ring(struct rte_ring *r, const struct frame *f)
{
	put_ring_flags(r, f, 0);
}

static void put(int port, const struct frame *f)
{
	put_ring(rxr[port], f);
}

/* put, with the receive flags a NIC would have set (checksum verdicts) */
static void put_flags(int port, const struct frame *f, uint64_t ol_flags)
{
	put_ring_flags(rxr[port], f, ol_flags);
}

/* Take up to max frames from a port's tx ring into out (copies). */
static unsigned take(int port, struct frame *out, unsigned max)
{
	unsigned n = 0;
	void *p;
	while (rte_ring_sc_dequeue(txr[port], &p) == 0) {
		struct rte_mbuf *m = p;
		if (n < max) {
			/* fragments are chains: a header mbuf + the payload by reference */
			assert_true(rte_pktmbuf_pkt_len(m) <= FRAME_MAX);
			out[n].n = rte_pktmbuf_pkt_len(m);
			const void *d = rte_pktmbuf_read(m, 0, out[n].n, out[n].b);
			assert_non_null(d);
			if (d != out[n].b)
				memcpy(out[n].b, d, out[n].n);
		}
		n++;
		rte_pktmbuf_free(m);
	}
	return n;
}

/* Exactly one frame on port, none on the other. */
static void take_one(int port, struct frame *out)
{
	struct frame other[4];
	unsigned n = take(port, out, 1);
	unsigned n_other = take(1 - port, other, 4);
	if (n != 1 || n_other != 0)
		fail_msg("expected 1 frame on port %d and none on port %d, got %u and %u", port,
			 1 - port, n, n_other);
}

static void expect_nothing(void)
{
	struct frame f[4];
	unsigned n0 = take(0, f, 4), n1 = take(1, f, 4);
	if (n0 || n1)
		fail_msg("unexpected frames: %u on port 0, %u on port 1", n0, n1);
}

/* worker -> control -> worker: one slow-path round trip */
static void round_trip(void)
{
	dp_worker_poll(w);
	dp_ctl_poll(dp);
	dp_worker_poll(w);
}

static void mk_arp(struct frame *f, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha,
		   const uint8_t *sip, const uint8_t *tha, const uint8_t *tip)
{
	f->n = 0;
	fr_eth(f, eth_dst, sha, 0x0806);
	fr_arp(f, op, sha, sip, tha, tip);
}

static void mk_udp4(struct frame *f, const uint8_t *eth_dst, const uint8_t *src,
		    const uint8_t *dst, uint8_t ttl, uint16_t frag, uint16_t plen)
{
	f->n = 0;
	fr_eth(f, eth_dst, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_UDP, ttl, frag, src, dst, NULL, 0);
	fr_udp(f, 33434, 53, plen);
	fr_ip4_end(f, ip);
}

/* An IPv6 UDP datagram of plen payload bytes, its checksum right. */
static void udp6_frame(struct frame *f, const uint8_t *eth_dst, const uint8_t *eth_src,
		       const uint8_t *src, const uint8_t *dst, uint8_t hlim, uint16_t sport,
		       uint16_t dport, uint16_t plen)
{
	f->n = 0;
	fr_eth(f, eth_dst, eth_src, 0x86dd);
	uint32_t ip = fr_ip6(f, IPPROTO_UDP, hlim, src, dst);
	uint32_t l4 = fr_udp(f, sport, dport, plen);
	fr_ip6_end(f, ip);
	fr_ip6_l4_csum(f, ip, IPPROTO_UDP, l4, 6);
}

static void mk_udp6(struct frame *f, const uint8_t *eth_dst, const uint8_t *src,
		    const uint8_t *dst, uint8_t hlim, uint16_t plen)
{
	udp6_frame(f, eth_dst, MAC_H1, src, dst, hlim, 33434, 53, plen);
}

/* Neighbour solicitation for target from src, with a source link-layer
 * option unless src is :: (duplicate address detection). */
static void mk_ns_from(struct frame *f, const uint8_t *mac, const uint8_t *src,
		       const uint8_t *target)
{
	static const uint8_t any[16];
	uint8_t snm[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	memcpy(snm + 13, target + 13, 3);
	uint8_t snm_mac[6] = { 0x33, 0x33, 0xff, target[13], target[14], target[15] };
	bool dad = memcmp(src, any, 16) == 0;
	f->n = 0;
	fr_eth(f, snm_mac, mac, 0x86dd);
	uint32_t ip = fr_ip6(f, IPPROTO_ICMPV6, 255, src, snm);
	uint32_t ic = f->n;
	fr_u8(f, 135);
	fr_u8(f, 0);
	fr_u16(f, 0);
	fr_u32(f, 0);
	fr_put(f, target, 16);
	if (!dad) {
		fr_u8(f, 1);
		fr_u8(f, 1);
		fr_put(f, mac, 6);
	}
	fr_ip6_end(f, ip);
	fr_ip6_l4_csum(f, ip, IPPROTO_ICMPV6, ic, 2);
}

static void mk_ns(struct frame *f, const uint8_t *src, const uint8_t *target)
{
	mk_ns_from(f, MAC_H1, src, target);
}

/* Have the box learn H1's IPv4 and IPv6 addresses (they ask for us). */
static void learn_h1(void)
{
	struct frame f, out;
	mk_arp(&f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, LAN_IP);
	put(0, &f);
	mk_ns(&f, H1_IP6, LAN_IP6);
	put(0, &f);
	round_trip();
	struct frame got[4];
	assert_int_equal(take(0, got, 4), 2); /* ARP reply, NA */
	assert_int_equal(take(1, &out, 1), 0);
}

/* And H2's, on wan0. */
static void learn_h2(void)
{
	struct frame f, got[4];
	static const uint8_t wan6[16] = { 0xfd, 0x77, 0, 2, [15] = 1 };
	mk_arp(&f, 1, MAC_BCAST, MAC_H2, H2_IP, ZERO6, WAN_IP);
	put(1, &f);
	mk_ns_from(&f, MAC_H2, H2_IP6, wan6);
	put(1, &f);
	round_trip();
	assert_int_equal(take(1, got, 4), 2);
	assert_int_equal(take(0, got, 4), 0);
}

static void check_ip4_csum(const uint8_t *ip)
{
	uint32_t hlen = (uint32_t)(ip[0] & 0xf) * 4;
	assert_int_equal(csum_fold(csum_add(0, ip, hlen)), 0);
}

static void check_icmp6_csum(const uint8_t *ip6)
{
	uint32_t plen = rd_be16(ip6 + 4);
	assert_int_equal(csum_ip6_upper(ip6, IPPROTO_ICMPV6, ip6 + 40, plen), 0);
}

static uint64_t drops(unsigned reason)
{
	return dp_worker_drops(w, reason);
}

/* ---- ARP and ND ------------------------------------------------------ */

static void test_arp_reply(void **state)
{
	(void)state;
	struct frame f, out;
	/* padded to the Ethernet minimum, as on the wire */
	mk_arp(&f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, LAN_IP);
	fr_zero(&f, 60 - f.n);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing(); /* punted to the control thread */
	assert_int_equal(dp_ctl_poll(dp), 1);
	dp_worker_poll(w);
	take_one(0, &out);

	assert_int_equal(out.n, 42); /* padding dropped */
	assert_memory_equal(out.b, MAC_H1, 6);
	assert_memory_equal(out.b + 6, port_mac(0), 6);
	assert_int_equal(rd_be16(out.b + 12), 0x0806);
	const uint8_t *a = out.b + 14;
	assert_int_equal(rd_be16(a), 1);
	assert_int_equal(rd_be16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(rd_be16(a + 6), 2); /* reply */
	assert_memory_equal(a + 8, port_mac(0), 6);
	assert_memory_equal(a + 14, LAN_IP, 4);
	assert_memory_equal(a + 18, MAC_H1, 6);
	assert_memory_equal(a + 24, H1_IP, 4);

	/* the sender is now a known neighbour of lan0 */
	assert_int_equal(dp_nh_get(dp, 4, H1_IP, 0, false) >= 0, 1);

	/* requests for addresses that are not ours get no answer, nor do
	 * requests for wan0's address arriving on lan0 */
	static const uint8_t other[4] = { 10, 77, 1, 99 };
	mk_arp(&f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, other);
	put(0, &f);
	mk_arp(&f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, WAN_IP);
	put(0, &f);
	round_trip();
	expect_nothing();
	/* a sender claiming our own MAC is ignored */
	uint64_t ign = dp->ctl_drop[DP_DROP_ARP_IGNORED];
	f.n = 0;
	fr_eth(&f, MAC_BCAST, MAC_H1, 0x0806);
	fr_arp(&f, 1, port_mac(0), H1_IP, ZERO6, LAN_IP);
	put(0, &f);
	round_trip();
	expect_nothing();
	assert_int_equal(dp->ctl_drop[DP_DROP_ARP_IGNORED], ign + 1);
	/* a truncated ARP is dropped by the worker's parser */
	mk_arp(&f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, LAN_IP);
	f.n = 41;
	put(0, &f);
	round_trip();
	expect_nothing();
	assert_int_equal(drops(DP_DROP_SHORT_ARP), 1);
}

static void test_nd_advert(void **state)
{
	(void)state;
	struct frame f, out;
	mk_ns(&f, H1_IP6, LAN_IP6);
	put(0, &f);
	round_trip();
	take_one(0, &out);

	assert_int_equal(out.n, 14 + 40 + 32);
	assert_memory_equal(out.b, MAC_H1, 6);
	assert_memory_equal(out.b + 6, port_mac(0), 6);
	assert_int_equal(rd_be16(out.b + 12), 0x86dd);
	const uint8_t *ip6 = out.b + 14;
	assert_int_equal(ip6[0] >> 4, 6);
	assert_int_equal(rd_be16(ip6 + 4), 32);
	assert_int_equal(ip6[6], IPPROTO_ICMPV6);
	assert_int_equal(ip6[7], 255);
	assert_memory_equal(ip6 + 8, LAN_IP6, 16);
	assert_memory_equal(ip6 + 24, H1_IP6, 16);
	const uint8_t *na = ip6 + 40;
	assert_int_equal(na[0], 136);
	assert_int_equal(na[1], 0);
	assert_int_equal(rd_be32(na + 4), 0xe0000000u); /* router, solicited, override */
	assert_memory_equal(na + 8, LAN_IP6, 16);
	assert_int_equal(na[24], 2); /* target link-layer address */
	assert_int_equal(na[25], 1);
	assert_memory_equal(na + 26, port_mac(0), 6);
	check_icmp6_csum(ip6);
	assert_int_equal(dp_nh_get(dp, 6, H1_IP6, 0, false) >= 0, 1);

	/* duplicate address detection: answered to all-nodes, not solicited */
	static const uint8_t any[16];
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	mk_ns(&f, any, LAN_IP6);
	put(0, &f);
	round_trip();
	take_one(0, &out);
	assert_memory_equal(out.b, all_nodes_mac, 6);
	assert_memory_equal(out.b + 14 + 24, all_nodes, 16);
	assert_int_equal(rd_be32(out.b + 14 + 40 + 4), 0xa0000000u);
	check_icmp6_csum(out.b + 14);

	/* our link-local address, modified EUI-64 of the port's MAC */
	const uint8_t *mac = port_mac(0);
	uint8_t ll[16] = { 0xfe, 0x80, [8] = (uint8_t)(mac[0] ^ 2), mac[1], mac[2], 0xff, 0xfe,
			   mac[3], mac[4], mac[5] };
	static const uint8_t h1_ll[16] = { 0xfe, 0x80, [15] = 0x12 };
	mk_ns(&f, h1_ll, ll);
	put(0, &f);
	round_trip();
	take_one(0, &out);
	assert_memory_equal(out.b + 14 + 8, ll, 16);
	assert_memory_equal(out.b + 14 + 24, h1_ll, 16);
	assert_memory_equal(out.b + 54 + 8, ll, 16);
	check_icmp6_csum(out.b + 14);

	/* bad checksum, wrong hop limit, not our target: ignored */
	uint64_t ign = dp->ctl_drop[DP_DROP_ND_IGNORED];
	mk_ns(&f, H1_IP6, LAN_IP6);
	f.b[14 + 40 + 2] ^= 0x55;
	put(0, &f);
	mk_ns(&f, H1_IP6, LAN_IP6);
	f.b[14 + 7] = 64;
	fr_ip6_l4_csum(&f, 14, IPPROTO_ICMPV6, 54, 2);
	put(0, &f);
	mk_ns(&f, H1_IP6, H2_IP6);
	put(0, &f);
	round_trip();
	expect_nothing();
	assert_int_equal(dp->ctl_drop[DP_DROP_ND_IGNORED], ign + 3);
}

/* ---- local services -------------------------------------------------- */

static void test_echo(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();

	for (int pad = 0; pad < 2; pad++) {
		f.n = 0;
		fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
		uint32_t ip = fr_ip4(&f, IPPROTO_ICMP, 9, 0x4000, H1_IP, LAN_IP, NULL, 0);
		uint32_t ic = fr_icmp(&f, 8, 0, 0x1234, (uint16_t)(7 + pad), pad ? 0 : 56);
		fr_icmp4_csum(&f, ic);
		fr_ip4_end(&f, ip);
		uint32_t tlen = f.n - 14;
		if (pad)
			fr_zero(&f, 60 - f.n);
		put(0, &f);
		dp_worker_poll(w);
		take_one(0, &out);

		assert_int_equal(out.n, 14 + tlen);
		assert_memory_equal(out.b, MAC_H1, 6);
		assert_memory_equal(out.b + 6, port_mac(0), 6);
		const uint8_t *r = out.b + 14;
		check_ip4_csum(r);
		assert_int_equal(rd_be16(r + 2), tlen);
		assert_int_equal(r[8], 64);
		assert_int_equal(r[9], IPPROTO_ICMP);
		assert_memory_equal(r + 12, LAN_IP, 4);
		assert_memory_equal(r + 16, H1_IP, 4);
		const uint8_t *icmp = r + 20;
		assert_int_equal(icmp[0], 0);
		assert_int_equal(icmp[1], 0);
		assert_int_equal(csum_fold(csum_add(0, icmp, tlen - 20)), 0);
		/* id, sequence and data come back unchanged */
		assert_memory_equal(icmp + 4, f.b + 34 + 4, tlen - 24);
	}

	/* IPv6 echo */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(&f, IPPROTO_ICMPV6, 64, H1_IP6, LAN_IP6);
	uint32_t ic = fr_icmp(&f, 128, 0, 0x99, 1, 24);
	fr_ip6_end(&f, ip);
	fr_ip6_l4_csum(&f, ip, IPPROTO_ICMPV6, ic, 2);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(out.n, f.n);
	assert_memory_equal(out.b, MAC_H1, 6);
	assert_memory_equal(out.b + 14 + 8, LAN_IP6, 16);
	assert_memory_equal(out.b + 14 + 24, H1_IP6, 16);
	assert_int_equal(out.b[54], 129);
	check_icmp6_csum(out.b + 14);
	assert_memory_equal(out.b + 54 + 4, f.b + 54 + 4, 4 + 24);

	/* UDP to us: port unreachable */
	mk_udp4(&f, port_mac(0), H1_IP, LAN_IP, 64, 0, 4);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(out.b[34], 3);
	assert_int_equal(out.b[35], 3);
	assert_int_equal(drops(DP_DROP_LOCAL_UNHANDLED), 1);
}

/* ---- forwarding -------------------------------------------------------- */

static void check_forwarded4(const struct frame *in, const struct frame *out, const uint8_t *dmac,
			     int out_port)
{
	uint32_t tlen = rd_be16(in->b + 16);
	assert_int_equal(out->n, 14 + tlen);
	assert_memory_equal(out->b, dmac, 6);
	assert_memory_equal(out->b + 6, port_mac(out_port), 6);
	assert_int_equal(rd_be16(out->b + 12), 0x0800);
	const uint8_t *ip = out->b + 14;
	assert_int_equal(ip[8], in->b[14 + 8] - 1);
	/* the incrementally updated checksum equals a full recomputation */
	uint8_t h[60];
	memcpy(h, ip, 20);
	h[10] = h[11] = 0;
	assert_int_equal(rd_be16(ip + 10), csum_fold(csum_add(0, h, 20)));
	/* nothing else changed */
	assert_memory_equal(ip, in->b + 14, 8);
	assert_memory_equal(ip + 9, in->b + 14 + 9, 1);
	assert_memory_equal(ip + 12, in->b + 14 + 12, tlen - 12);
}

static void test_forward4(void **state)
{
	(void)state;
	struct frame f, f2, out;

	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 100);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing(); /* held: 10.77.2.2 is not resolved yet */
	dp_ctl_poll(dp);
	assert_int_equal(dp_neigh_held(dp), 1);
	dp_worker_poll(w);
	take_one(1, &out);

	/* the ARP request for the destination, out of wan0 */
	assert_int_equal(out.n, 42);
	assert_memory_equal(out.b, MAC_BCAST, 6);
	assert_memory_equal(out.b + 6, port_mac(1), 6);
	assert_int_equal(rd_be16(out.b + 12), 0x0806);
	const uint8_t *a = out.b + 14;
	assert_int_equal(rd_be16(a), 1);
	assert_int_equal(rd_be16(a + 2), 0x0800);
	assert_int_equal(rd_be16(a + 6), 1);
	assert_memory_equal(a + 8, port_mac(1), 6);
	assert_memory_equal(a + 14, WAN_IP, 4);
	assert_memory_equal(a + 18, ZERO6, 6);
	assert_memory_equal(a + 24, H2_IP, 4);

	/* the answer releases the held packet */
	mk_arp(&f2, 2, port_mac(1), MAC_H2, H2_IP, port_mac(1), WAN_IP);
	put(1, &f2);
	round_trip();
	take_one(1, &out);
	assert_int_equal(dp_neigh_held(dp), 0);
	check_forwarded4(&f, &out, MAC_H2, 1);

	/* the next packets go straight through, Ethernet padding removed */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 2, 0x4000, 1);
	fr_zero(&f, 60 - f.n);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_forwarded4(&f, &out, MAC_H2, 1);
	/* every TTL, with varying headers: the incremental update must match
	 * a full recomputation in every carry case */
	for (unsigned ttl = 2; ttl < 256; ttl++) {
		mk_udp4(&f, port_mac(0), H1_IP, H2_IP, (uint8_t)ttl, (uint16_t)ttl, 10);
		f.b[14 + 4] = (uint8_t)~ttl; /* vary the id too */
		fr_ip4_csum(&f, 14);
		put(0, &f);
		dp_worker_poll(w);
		take_one(1, &out);
		check_forwarded4(&f, &out, MAC_H2, 1);
	}

	/* a static route: the gateway is resolved, not the destination */
	static const uint8_t far[4] = { 192, 168, 7, 7 };
	mk_udp4(&f, port_mac(0), H1_IP, far, 64, 0, 20);
	put(0, &f);
	round_trip();
	take_one(1, &out);
	assert_int_equal(rd_be16(out.b + 12), 0x0806);
	assert_memory_equal(out.b + 14 + 24, GW_IP, 4);
	mk_arp(&f2, 2, port_mac(1), MAC_GW, GW_IP, port_mac(1), WAN_IP);
	put(1, &f2);
	round_trip();
	take_one(1, &out);
	check_forwarded4(&f, &out, MAC_GW, 1);

	/* IPv6: neighbour solicitation to the solicited-node group */
	struct frame f6;
	mk_udp6(&f6, port_mac(0), H1_IP6, H2_IP6, 64, 30);
	put(0, &f6);
	round_trip();
	take_one(1, &out);
	static const uint8_t snm_mac[6] = { 0x33, 0x33, 0xff, 0, 0, 2 };
	assert_memory_equal(out.b, snm_mac, 6);
	assert_int_equal(out.b[54], 135);
	assert_memory_equal(out.b + 54 + 8, H2_IP6, 16);
	check_icmp6_csum(out.b + 14);
	/* advertisement from H2 */
	f2.n = 0;
	fr_eth(&f2, port_mac(1), MAC_H2, 0x86dd);
	static const uint8_t wan6[16] = { 0xfd, 0x77, 0, 2, [15] = 1 };
	uint32_t ip = fr_ip6(&f2, IPPROTO_ICMPV6, 255, H2_IP6, wan6);
	uint32_t ic = f2.n;
	fr_u8(&f2, 136);
	fr_u8(&f2, 0);
	fr_u16(&f2, 0);
	fr_u32(&f2, 0x60000000u);
	fr_put(&f2, H2_IP6, 16);
	fr_u8(&f2, 2);
	fr_u8(&f2, 1);
	fr_put(&f2, MAC_H2, 6);
	fr_ip6_end(&f2, ip);
	fr_ip6_l4_csum(&f2, ip, IPPROTO_ICMPV6, ic, 2);
	put(1, &f2);
	round_trip();
	take_one(1, &out);
	assert_int_equal(out.n, f6.n);
	assert_memory_equal(out.b, MAC_H2, 6);
	assert_memory_equal(out.b + 6, port_mac(1), 6);
	assert_int_equal(out.b[14 + 7], 63);
	f6.b[14 + 7] = 63;
	assert_memory_equal(out.b + 12, f6.b + 12, f6.n - 12);
}

/* The quoted datagram of an ICMP error: the offending packet as received. */
static void check_icmp4_error(const struct frame *in, const struct frame *out, uint8_t type,
			      uint8_t code, uint16_t mtu)
{
	uint32_t orig = rd_be16(in->b + 16);
	if (orig > 576 - 28)
		orig = 576 - 28;
	assert_int_equal(out->n, 14 + 28 + orig);
	assert_memory_equal(out->b, MAC_H1, 6);
	assert_memory_equal(out->b + 6, port_mac(0), 6);
	assert_int_equal(rd_be16(out->b + 12), 0x0800);
	const uint8_t *ip = out->b + 14;
	assert_int_equal(ip[0], 0x45);
	check_ip4_csum(ip);
	assert_int_equal(rd_be16(ip + 2), 28 + orig);
	assert_int_equal(rd_be16(ip + 6), 0); /* not a fragment */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_ICMP);
	assert_memory_equal(ip + 12, LAN_IP, 4);
	assert_memory_equal(ip + 16, H1_IP, 4);
	const uint8_t *icmp = ip + 20;
	assert_int_equal(icmp[0], type);
	assert_int_equal(icmp[1], code);
	assert_int_equal(csum_fold(csum_add(0, icmp, 8 + orig)), 0);
	assert_int_equal(rd_be16(icmp + 4), 0);
	assert_int_equal(rd_be16(icmp + 6), mtu);
	assert_memory_equal(icmp + 8, in->b + 14, orig);
}

/* The lanes remember a connected neighbour's next hop by address, in a
 * direct-mapped table per worker (router_fast.c's nh_cached). IPv6: 250
 * hosts on wan0 whose addresses fall in 64 of the slots (about four to a
 * slot), each reached in turn three times over, in different orders.
 * IPv4 (the hosts of a /24 never share a slot): a lan0 host and a host of
 * wan0's /16 that share one, reached in turn. Every packet leaves with
 * its own host's MAC. */
static void test_nh_cache(void **state)
{
	(void)state;
	enum { N = 250 };
	static const uint8_t wan6[16] = { 0xfd, 0x77, 0, 2, [15] = 1 };
	struct frame f, got[4], out;
	learn_h1();
	uint8_t ip6[N][16], used[DP_NHC6] = { 0 };
	unsigned shared = 0, cand = 0;
	for (unsigned h = 0; h < N; h++) {
		uint8_t mac[6] = { 0x02, 0, 0, 0x42, 0, (uint8_t)h };
		uint8_t a[16];
		do {
			cand++;
			uint8_t c[16] = { 0xfd, 0x77, 0, 2, [11] = (uint8_t)(cand >> 16),
					  [12] = (uint8_t)(cand * 37), [13] = 0x10,
					  [14] = (uint8_t)(cand >> 8), [15] = (uint8_t)(cand * 11 + 5) };
			memcpy(a, c, 16);
		} while (dp_nhc6_slot(a, 1) >= 64 || (a[15] <= 1 && a[14] == 0 && a[11] == 0));
		memcpy(ip6[h], a, 16);
		shared += used[dp_nhc6_slot(a, 1)]++ != 0;
		mk_ns_from(&f, mac, a, wan6);
		put(1, &f);
		round_trip();
		assert_int_equal(take(1, got, 4), 1); /* NA */
	}
	assert_true(shared > 50);
	for (unsigned round = 0; round < 3; round++)
		for (unsigned k = 0; k < N; k++) {
			unsigned h = round == 1 ? N - 1 - k : (k * 7 + round) % N;
			uint8_t mac[6] = { 0x02, 0, 0, 0x42, 0, (uint8_t)h };
			mk_udp6(&f, port_mac(0), H1_IP6, ip6[h], 64, 20);
			put(0, &f);
			dp_worker_poll(w);
			take_one(1, &out);
			assert_memory_equal(out.b, mac, 6);
			assert_memory_equal(out.b + 38, ip6[h], 16);
		}
	/* IPv4: a host of wan0's /16 in the slot of some lan0 host */
	static const uint8_t wan2[4] = { 10, 80, 0, 1 };
	uint8_t l4[4] = { 10, 77, 1, 0 }, w4[4] = { 10, 80, 0, 0 };
	for (unsigned x = 3; x < 255 && l4[3] == 0; x++) {
		uint8_t c[4] = { 10, 77, 1, (uint8_t)x };
		uint32_t ca;
		memcpy(&ca, c, 4);
		for (unsigned y = 2; y < 0xfffe; y++) {
			uint8_t d[4] = { 10, 80, (uint8_t)(y >> 8), (uint8_t)y };
			uint32_t da;
			memcpy(&da, d, 4);
			if (dp_nhc4_slot(ca, 0) == dp_nhc4_slot(da, 1)) {
				l4[3] = (uint8_t)x;
				memcpy(w4, d, 4);
				break;
			}
		}
	}
	assert_int_not_equal(l4[3], 0);
	/* and another host of the /16 in that slot: the same port */
	uint8_t v4[4] = { 0 };
	uint32_t wa;
	memcpy(&wa, w4, 4);
	for (unsigned y = 2; y < 0xfffe && v4[0] == 0; y++) {
		uint8_t d[4] = { 10, 80, (uint8_t)(y >> 8), (uint8_t)y };
		uint32_t da;
		memcpy(&da, d, 4);
		if (da != wa && dp_nhc4_slot(da, 1) == dp_nhc4_slot(wa, 1))
			memcpy(v4, d, 4);
	}
	assert_int_not_equal(v4[0], 0);
	static const uint8_t mac_l[6] = { 0x02, 0, 0, 0x43, 0, 1 }, mac_w[6] = { 0x02, 0, 0, 0x43, 0, 2 };
	static const uint8_t mac_v[6] = { 0x02, 0, 0, 0x43, 0, 3 };
	mk_arp(&f, 1, MAC_BCAST, mac_l, l4, ZERO6, LAN_IP);
	put(0, &f);
	mk_arp(&f, 1, MAC_BCAST, mac_w, w4, ZERO6, wan2);
	put(1, &f);
	mk_arp(&f, 1, MAC_BCAST, mac_v, v4, ZERO6, wan2);
	put(1, &f);
	round_trip();
	assert_int_equal(take(0, got, 4), 1);
	assert_int_equal(take(1, got, 4), 2);
	for (unsigned k = 0; k < 9; k++) {
		unsigned to = k % 3; /* w4 and v4 on wan0, l4 on lan0 */
		const uint8_t *dst = to == 0 ? w4 : to == 1 ? v4 : l4;
		mk_udp4(&f, port_mac(to < 2 ? 0 : 1), to < 2 ? H1_IP : H2_IP, dst, 64, 0, 20);
		put(to < 2 ? 0 : 1, &f);
		dp_worker_poll(w);
		take_one(to < 2 ? 1 : 0, &out);
		check_forwarded4(&f, &out, to == 0 ? mac_w : to == 1 ? mac_v : mac_l, to < 2 ? 1 : 0);
	}
	assert_true(dp_worker_get(dp, 0)->st.fast >= 3 * N + 9); /* by the fast lane */
}

static void test_ttl_expired(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	for (uint8_t ttl = 0; ttl <= 1; ttl++) {
		mk_udp4(&f, port_mac(0), H1_IP, H2_IP, ttl, 0, 40);
		put(0, &f);
		dp_worker_poll(w);
		take_one(0, &out);
		check_icmp4_error(&f, &out, 11, 0, 0);
	}
	assert_int_equal(drops(DP_DROP_TTL_EXPIRED), 2);
	assert_int_equal(w->st.icmp_sent, 2);
	/* TTL 1 to the box itself is delivered, not expired */
	struct frame e;
	e.n = 0;
	fr_eth(&e, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&e, IPPROTO_ICMP, 1, 0, H1_IP, LAN_IP, NULL, 0);
	fr_icmp4_csum(&e, fr_icmp(&e, 8, 0, 1, 1, 0));
	fr_ip4_end(&e, ip);
	put(0, &e);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(out.b[34], 0);
	/* no error about an ICMP error */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 1, 0, 0);
	e.n = 0;
	fr_eth(&e, port_mac(0), MAC_H1, 0x0800);
	ip = fr_ip4(&e, IPPROTO_ICMP, 1, 0, H1_IP, H2_IP, NULL, 0);
	uint32_t ic = fr_icmp(&e, 3, 1, 0, 0, 0);
	fr_put(&e, f.b + 14, 28);
	fr_icmp4_csum(&e, ic);
	fr_ip4_end(&e, ip);
	put(0, &e);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_TTL_EXPIRED), 3);
}

static void test_no_route(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	static const uint8_t nowhere[4] = { 10, 99, 0, 1 };
	mk_udp4(&f, port_mac(0), H1_IP, nowhere, 64, 0, 12);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_icmp4_error(&f, &out, 3, 0, 0);
	assert_int_equal(drops(DP_DROP_NO_ROUTE), 1);

	/* IPv6 without a route: ICMPv6 destination unreachable, no route */
	static const uint8_t nowhere6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	mk_udp6(&f, port_mac(0), H1_IP6, nowhere6, 64, 12);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(out.b[54], 1);
	assert_int_equal(out.b[55], 0);
	check_icmp6_csum(out.b + 14);
	assert_int_equal(drops(DP_DROP_NO_ROUTE), 2);
}

static void check_icmp6_error(const struct frame *in, const struct frame *out, uint8_t type,
			      uint8_t code, uint32_t info)
{
	uint32_t orig = 40u + rd_be16(in->b + 18);
	if (orig > 1280 - 48)
		orig = 1280 - 48;
	assert_int_equal(out->n, 14 + 48 + orig);
	assert_memory_equal(out->b, MAC_H1, 6);
	assert_memory_equal(out->b + 6, port_mac(0), 6);
	assert_int_equal(rd_be16(out->b + 12), 0x86dd);
	const uint8_t *ip6 = out->b + 14;
	assert_int_equal(ip6[0] >> 4, 6);
	assert_int_equal(rd_be16(ip6 + 4), 8 + orig);
	assert_int_equal(ip6[6], IPPROTO_ICMPV6);
	assert_int_equal(ip6[7], 64);
	assert_memory_equal(ip6 + 8, LAN_IP6, 16);
	assert_memory_equal(ip6 + 24, H1_IP6, 16);
	check_icmp6_csum(ip6);
	const uint8_t *icmp = ip6 + 40;
	assert_int_equal(icmp[0], type);
	assert_int_equal(icmp[1], code);
	assert_int_equal(rd_be32(icmp + 4), info);
	assert_memory_equal(icmp + 8, in->b + 14, orig);
}

static void test_hop_limit6(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 1, 64);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_icmp6_error(&f, &out, 3, 0, 0);
	assert_int_equal(drops(DP_DROP_TTL_EXPIRED), 1);
}

static void test_mtu(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();

	/* 1501 bytes with DF: fragmentation needed, next-hop MTU 1500 */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0x4000, 1501 - 28);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_icmp4_error(&f, &out, 3, 4, 1500);
	assert_int_equal(rd_be16(out.b + 14 + 2), 576); /* RFC 1812: at most 576 bytes */
	assert_int_equal(drops(DP_DROP_MTU_EXCEEDED), 1);

	/* exactly 1500 passes (held for resolution: nothing comes back) */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0x4000, 1500 - 28);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_MTU_EXCEEDED), 1);
	assert_int_equal(w->st.punted, 2 + 1); /* learn_h1's ARP and NS, this one */

	/* IPv6: packet too big, MTU 1500, quoting up to 1280 bytes in all */
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 1600);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_icmp6_error(&f, &out, 2, 0, 1500);
	assert_int_equal(out.n, 14 + 1280);
	assert_int_equal(drops(DP_DROP_MTU_EXCEEDED), 2);
}

/* Source-routed IPv4 (LSRR, SSRR): dropped, as Linux with its default
 * accept_source_route 0; malformed options too; other options pass. */
static void test_source_route(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	static const uint8_t lsrr[8] = { 131, 7, 4, 10, 77, 2, 9, 0 };
	static const uint8_t ssrr[8] = { 1, 137, 7, 4, 10, 77, 2, 9 }; /* after a no-op */
	static const uint8_t ra[4] = { 148, 4, 0, 0 };
	static const uint8_t bad[4] = { 148, 9, 0, 0 }; /* runs past the header */
	const uint8_t *opts[4] = { lsrr, ssrr, ra, bad };
	const uint8_t lens[4] = { 8, 8, 4, 4 };
	for (int k = 0; k < 4; k++) {
		f.n = 0;
		fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
		uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 64, 0, H1_IP, H2_IP, opts[k], lens[k]);
		fr_udp(&f, 33434, 53, 20);
		fr_ip4_end(&f, ip);
		put(0, &f);
		dp_worker_poll(w);
		if (k == 3) { /* parameter problem, pointing at the option */
			take_one(0, &out);
			const uint8_t *icmp = out.b + 14 + 20;
			assert_int_equal(icmp[0], 12);
			assert_int_equal(icmp[1], 0);
			assert_int_equal(icmp[4], 20);
		} else if (k != 2) {
			expect_nothing();
		} else {
			take_one(1, &out);
		}
	}
	assert_int_equal(drops(DP_DROP_SOURCE_ROUTE), 2);
	assert_int_equal(drops(DP_DROP_BAD_IPV4_OPTS), 1);
}

/* IPv6 Hop-by-Hop options as Linux's ipv6_parse_hopopts judges them,
 * before PREROUTING: padding and unknown options by their action bits. */
static void test_hbh_opts(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	static const uint8_t ok_pad[6] = { 1, 4, 0, 0, 0, 0 };       /* PadN of 4 */
	static const uint8_t ra[6] = { 5, 2, 0, 0, 1, 0 };           /* Router Alert, Pad1 */
	static const uint8_t skip[6] = { 0x1e, 2, 'a', 'b', 1, 0 };  /* 00: skipped */
	static const uint8_t big_pad[6] = { 0, 0, 0, 0, 0, 0 };      /* 6 Pad1: fine */
	static const uint8_t dirty[6] = { 1, 4, 0, 9, 0, 0 };        /* PadN not of zeroes */
	static const uint8_t u01[6] = { 0x5e, 4, 0, 0, 0, 0 };       /* 01: dropped */
	static const uint8_t u10[6] = { 0x9e, 4, 0, 0, 0, 0 };       /* 10: parameter problem */
	static const uint8_t u11[6] = { 1, 0, 0xde, 2, 0, 0 };       /* 11, after a PadN */
	static const uint8_t ra3[6] = { 5, 3, 0, 0, 0, 0 };          /* Router Alert of 3 bytes */
	static const uint8_t jumbo[6] = { 0xc2, 4, 0, 0, 1, 0 };     /* Jumbo of 256: refused */
	const uint8_t *opts[] = { ok_pad, ra, skip, big_pad, dirty, u01, u10, u11, ra3, jumbo };
	/* forwarded, or the pointer of a parameter problem (0: dropped) */
	const int want[] = { -1, -1, -1, -1, 0, 0, 42, 44, 0, 44 };
	for (unsigned k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		f.n = 0;
		fr_eth(&f, port_mac(0), MAC_H1, 0x86dd);
		uint32_t ip = fr_ip6(&f, IPPROTO_HOPOPTS, 64, H1_IP6, H2_IP6);
		fr_u8(&f, IPPROTO_UDP);
		fr_u8(&f, 0);
		fr_put(&f, opts[k], 6);
		uint32_t l4 = fr_udp(&f, 5000, 53, 8);
		fr_ip6_end(&f, ip);
		fr_ip6_l4_csum(&f, ip, IPPROTO_UDP, l4, 6);
		put(0, &f);
		dp_worker_poll(w);
		if (want[k] < 0) {
			take_one(1, &out);
		} else if (want[k] == 0) {
			expect_nothing();
		} else {
			take_one(0, &out);
			const uint8_t *icmp = out.b + 14 + 40;
			assert_int_equal(icmp[0], 4);
			assert_int_equal(icmp[1], k == 9 ? 0 : 2);
			assert_int_equal(rd_be32(icmp + 4), (uint32_t)want[k]);
		}
	}
	/* to a multicast group: action 10 still answers (icmp6_send's
	 * exception), 11 does not */
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	for (int k = 0; k < 2; k++) {
		f.n = 0;
		fr_eth(&f, all_nodes_mac, MAC_H1, 0x86dd);
		uint32_t ip = fr_ip6(&f, IPPROTO_HOPOPTS, 64, H1_IP6, all_nodes);
		fr_u8(&f, IPPROTO_UDP);
		fr_u8(&f, 0);
		fr_put(&f, k ? u11 + 2 : u10, 4);
		fr_u8(&f, 1); /* PadN 0 */
		fr_u8(&f, 0);
		uint32_t l4 = fr_udp(&f, 5000, 53, 8);
		fr_ip6_end(&f, ip);
		fr_ip6_l4_csum(&f, ip, IPPROTO_UDP, l4, 6);
		put(0, &f);
		dp_worker_poll(w);
		if (k == 0) {
			take_one(0, &out);
			const uint8_t *icmp = out.b + 14 + 40;
			assert_int_equal(icmp[0], 4);
			assert_int_equal(icmp[1], 2);
			assert_int_equal(rd_be32(icmp + 4), 42);
			assert_memory_equal(out.b + 14 + 24, H1_IP6, 16); /* back to the sender */
		} else {
			expect_nothing();
		}
	}
	assert_int_equal(drops(DP_DROP_BAD_IPV6_OPTS), 8);
}

/* IPv4 without DF, larger than the egress MTU: forwarded as fragments. */
static void test_fragment4(void **state)
{
	(void)state;
	struct frame f, out[4];
	learn_h1();
	learn_h2();
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 1600); /* 1628-byte datagram */
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, out, 4), 2);
	assert_int_equal(take(0, out + 2, 2), 0);
	assert_int_equal(w->st.fragmented, 1);
	assert_int_equal(drops(DP_DROP_MTU_EXCEEDED), 0);
	const uint8_t *in_ip = f.b + 14;
	unsigned payload = rd_be16(in_ip + 2) - 20, got = 0;
	for (int i = 0; i < 2; i++) {
		const uint8_t *ip = out[i].b + 14;
		assert_memory_equal(out[i].b, MAC_H2, 6);
		assert_memory_equal(out[i].b + 6, port_mac(1), 6);
		assert_int_equal(rd_be16(out[i].b + 12), 0x0800);
		check_ip4_csum(ip);
		assert_int_equal(ip[8], 63); /* TTL decremented once */
		assert_memory_equal(ip + 12, in_ip + 12, 8); /* addresses */
		assert_memory_equal(ip + 4, in_ip + 4, 2);   /* same identification */
		uint16_t fo = rd_be16(ip + 6);
		unsigned len = rd_be16(ip + 2) - 20;
		assert_true(rd_be16(ip + 2) <= 1500);
		assert_int_equal((fo & 0x1fff) * 8u, got); /* contiguous offsets */
		assert_int_equal((fo & 0x2000) != 0, i == 0); /* MF on all but the last */
		assert_memory_equal(ip + 20, in_ip + 20 + got, len); /* the payload, in order */
		got += len;
	}
	assert_int_equal(got, payload);

	/* with options: the first fragment has them all, the later ones only
	 * those with the copied flag (RFC 791), here a router alert's 148
	 * kept and a timestamp's 68 and the no-ops not; each fragment's own
	 * header length */
	static const uint8_t opts[16] = { 68, 8, 5, 0, 0, 0, 0, 0, /* timestamp */
					  148, 4, 0, 0,            /* router alert */
					  1, 1, 1, 1 };            /* no-ops */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip0 = fr_ip4(&f, IPPROTO_UDP, 64, 0, H1_IP, H2_IP, opts, sizeof(opts));
	fr_udp(&f, 33434, 53, 1600);
	fr_ip4_end(&f, ip0);
	put(0, &f);
	dp_worker_poll(w);
	unsigned n = take(1, out, 4);
	assert_int_equal(n, 2);
	in_ip = f.b + 14;
	payload = rd_be16(in_ip + 2) - 36;
	got = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *ip = out[i].b + 14;
		check_ip4_csum(ip);
		unsigned hl = (ip[0] & 15u) * 4;
		assert_int_equal(hl, i == 0 ? 36 : 24);
		if (i == 0)
			assert_memory_equal(ip + 20, opts, 16);
		else /* the router alert only */
			assert_memory_equal(ip + 20, opts + 8, 4);
		unsigned len = rd_be16(ip + 2) - hl;
		assert_int_equal((rd_be16(ip + 6) & 0x1fff) * 8u, got);
		assert_memory_equal(ip + hl, in_ip + 36 + got, len);
		got += len;
	}
	assert_int_equal(got, payload);
}


/* TCP to the box: nobody listens, a reset comes back as Linux sends it. */
static uint16_t tcp4_csum(const uint8_t *ip, const uint8_t *tcp, uint32_t len)
{
	uint32_t sum = csum_add(0, ip + 12, 8);
	sum += IPPROTO_TCP + len;
	return csum_fold(csum_add(sum, tcp, len));
}

static void test_tcp_reset(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();

	/* SYN (seq 1000) -> RST|ACK, seq 0, ack 1001 */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_TCP, 64, 0x4000, H1_IP, LAN_IP, NULL, 0);
	uint32_t l4 = fr_tcp(&f, 40000, 22, 0x02, 5);
	fr_ip4_end(&f, ip);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(out.n, 14 + 20 + 20);
	assert_memory_equal(out.b, MAC_H1, 6);
	const uint8_t *oip = out.b + 14, *t = oip + 20;
	check_ip4_csum(oip);
	assert_memory_equal(oip + 12, LAN_IP, 4);
	assert_memory_equal(oip + 16, H1_IP, 4);
	assert_int_equal(oip[9], IPPROTO_TCP);
	assert_int_equal(rd_be16(t), 22);
	assert_int_equal(rd_be16(t + 2), 40000);
	assert_int_equal(rd_be32(t + 4), 0);
	assert_int_equal(rd_be32(t + 8), 1001);
	assert_int_equal(t[13], 0x14); /* RST|ACK */
	assert_int_equal(tcp4_csum(oip, t, 20), 0);
	assert_int_equal(w->st.tcp_rst_sent, 1);
	(void)l4;

	/* ACK with 10 bytes of data (ack field 0 in fr_tcp: set it) -> RST, seq = their ack */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	ip = fr_ip4(&f, IPPROTO_TCP, 64, 0x4000, H1_IP, LAN_IP, NULL, 0);
	l4 = fr_tcp(&f, 40001, 80, 0x10, 5);
	f.b[l4 + 8] = 0x12; f.b[l4 + 9] = 0x34; f.b[l4 + 10] = 0x56; f.b[l4 + 11] = 0x78;
	fr_zero(&f, 10);
	fr_ip4_end(&f, ip);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	t = out.b + 14 + 20;
	assert_int_equal(rd_be32(t + 4), 0x12345678);
	assert_int_equal(t[13], 0x04); /* RST only */
	assert_int_equal(tcp4_csum(out.b + 14, t, 20), 0);

	/* a RST is never answered */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	ip = fr_ip4(&f, IPPROTO_TCP, 64, 0x4000, H1_IP, LAN_IP, NULL, 0);
	fr_tcp(&f, 40002, 80, 0x04, 5);
	fr_ip4_end(&f, ip);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(w->st.tcp_rst_sent, 2);
	assert_int_equal(drops(DP_DROP_LOCAL_UNHANDLED), 3);

	/* IPv6: SYN to fd77:1::1 -> RST|ACK with a valid checksum */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x86dd);
	ip = fr_ip6(&f, IPPROTO_TCP, 64, H1_IP6, LAN_IP6);
	l4 = fr_tcp(&f, 40003, 443, 0x02, 5);
	fr_ip6_end(&f, ip);
	fr_ip6_l4_csum(&f, ip, IPPROTO_TCP, l4, 16);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(out.n, 14 + 40 + 20);
	t = out.b + 14 + 40;
	assert_memory_equal(out.b + 14 + 8, LAN_IP6, 16);
	assert_int_equal(rd_be32(t + 8), 1001);
	assert_int_equal(csum_ip6_upper(out.b + 14, IPPROTO_TCP, t, 20), 0);
}

/* ---- drops ------------------------------------------------------------ */

static void test_martian(void **state)
{
	(void)state;
	struct frame f;
	learn_h1();
	static const uint8_t loopback[4] = { 127, 0, 0, 1 };
	static const uint8_t mcast[4] = { 224, 0, 0, 5 };
	static const uint8_t zero[4] = { 0, 0, 0, 0 };
	mk_udp4(&f, port_mac(0), loopback, H2_IP, 64, 0, 8);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_MARTIAN_SRC), 1);
	mk_udp4(&f, port_mac(0), mcast, H2_IP, 64, 0, 8);
	put(0, &f);
	mk_udp4(&f, port_mac(0), zero, H2_IP, 64, 0, 8);
	put(0, &f);
	/* martian sources get no ICMP error either, even when it has one */
	mk_udp4(&f, port_mac(0), loopback, H2_IP, 1, 0, 8);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_MARTIAN_SRC), 4);
	assert_int_equal(w->st.icmp_sent, 0);
	/* destinations that are never routed */
	mk_udp4(&f, port_mac(0), H1_IP, mcast, 64, 0, 8);
	put(0, &f);
	static const uint8_t bcast[4] = { 10, 77, 2, 255 };
	mk_udp4(&f, port_mac(0), H1_IP, bcast, 64, 0, 8);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_MARTIAN_DST), 2);
}

static void test_l2_drops(void **state)
{
	(void)state;
	struct frame f;
	/* unicast to another MAC (promiscuous port) */
	mk_udp4(&f, MAC_OTHER, H1_IP, H2_IP, 64, 0, 8);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_NOT_FOR_US), 1);
	/* our own frame looping back */
	mk_udp4(&f, MAC_BCAST, H1_IP, H2_IP, 64, 0, 8);
	memcpy(f.b + 6, port_mac(0), 6);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_NOT_FOR_US), 2);

	/* 802.1Q in router mode */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x8100);
	fr_vlan(&f, 42, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 64, 0, H1_IP, H2_IP, NULL, 0);
	fr_udp(&f, 1, 2, 8);
	fr_ip4_end(&f, ip);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_VLAN_UNSUPPORTED), 1);

	/* non-IP, non-ARP */
	static const uint8_t lldp_mc[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };
	f.n = 0;
	fr_eth(&f, lldp_mc, MAC_H1, 0x88cc);
	fr_zero(&f, 46);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_L2_UNSUPPORTED), 1);

	/* malformed IPv4: bad header checksum, checked in software */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 8);
	f.b[14 + 10] ^= 0xff;
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_BAD_IPV4_CSUM), 1);
	/* all counted on lan0 */
	assert_int_equal(w->st.port[0].drop[DP_DROP_NOT_FOR_US], 2);
	assert_int_equal(w->st.port[1].drop[DP_DROP_NOT_FOR_US], 0);
	assert_int_equal(w->st.port[0].rx_pkts, 5);
}

static void test_icmp_ratelimit(void **state)
{
	(void)state;
	struct frame f, out[4];
	learn_h1();
	/* burst 1: the first error goes, the second in a row does not */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 1, 0, 8);
	put(0, &f);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(0, out, 4), 1);
	check_icmp4_error(&f, &out[0], 11, 0, 0);
	assert_int_equal(take(1, out, 4), 0);
	assert_int_equal(drops(DP_DROP_TTL_EXPIRED), 2);
	assert_int_equal(drops(DP_DROP_ICMP_RATELIMIT), 1);
	assert_int_equal(w->st.icmp_sent, 1);
	/* IPv6 errors share the bucket */
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 1, 8);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_ICMP_RATELIMIT), 2);
	/* one token a second */
	usleep(1100 * 1000);
	put(0, &f);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(0, out, 4), 1);
	check_icmp6_error(&f, &out[0], 3, 0, 0);
	assert_int_equal(drops(DP_DROP_ICMP_RATELIMIT), 3);
	assert_int_equal(w->st.icmp_sent, 2);
	/* echo replies are not errors: not limited */
	struct frame e;
	for (int i = 0; i < 3; i++) {
		e.n = 0;
		fr_eth(&e, port_mac(0), MAC_H1, 0x0800);
		uint32_t ip = fr_ip4(&e, IPPROTO_ICMP, 64, 0, H1_IP, LAN_IP, NULL, 0);
		fr_icmp4_csum(&e, fr_icmp(&e, 8, 0, 1, (uint16_t)i, 0));
		fr_ip4_end(&e, ip);
		put(0, &e);
	}
	dp_worker_poll(w);
	assert_int_equal(take(0, out, 4), 3);
}

/* ---- bursts and bounds ------------------------------------------------- */

/* One burst mixing every kind of packet: each must get its own fate, in
 * order, whatever its neighbours in the burst are. */
static void test_mixed_burst(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	static const uint8_t loopback[4] = { 127, 0, 0, 1 };
	static const uint8_t far[4] = { 192, 168, 1, 1 };
	static struct frame in[32];
	for (unsigned i = 0; i < 32; i++) {
		struct frame *f = &in[i];
		switch (i % 8) {
		case 0:
			mk_udp4(f, port_mac(0), H1_IP, H2_IP, 64, 0, (uint16_t)i);
			break;
		case 1:
			mk_udp6(f, port_mac(0), H1_IP6, H2_IP6, 64, (uint16_t)i);
			break;
		case 2:
			f->n = 0;
			fr_eth(f, port_mac(0), MAC_H1, 0x0800);
			uint32_t ip = fr_ip4(f, IPPROTO_ICMP, 64, 0, H1_IP, LAN_IP, NULL, 0);
			fr_icmp4_csum(f, fr_icmp(f, 8, 0, 0x42, (uint16_t)i, 8));
			fr_ip4_end(f, ip);
			break;
		case 3:
			mk_udp4(f, port_mac(0), H1_IP, H2_IP, 1, 0, (uint16_t)i);
			break;
		case 4:
			mk_udp4(f, port_mac(0), loopback, H2_IP, 64, 0, 8);
			break;
		case 5:
			mk_arp(f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, LAN_IP);
			break;
		case 6:
			mk_udp4(f, port_mac(0), H1_IP, far, 64, 0, (uint16_t)i);
			break;
		case 7:
			mk_udp4(f, port_mac(0), H1_IP, H2_IP, 10, 0, 1);
			fr_zero(f, 60 - f->n);
			break;
		}
		put(0, f);
	}
	assert_int_equal(dp_worker_poll(w), 32);

	static struct frame out[40];
	assert_int_equal(take(1, out, 40), 12);
	unsigned k = 0;
	for (unsigned i = 0; i < 32; i++) {
		if (i % 8 == 0 || i % 8 == 7) {
			check_forwarded4(&in[i], &out[k++], MAC_H2, 1);
		} else if (i % 8 == 1) {
			struct frame *o = &out[k++];
			assert_int_equal(o->n, in[i].n);
			assert_memory_equal(o->b, MAC_H2, 6);
			assert_int_equal(o->b[14 + 7], 63);
			assert_memory_equal(o->b + 14 + 8, in[i].b + 14 + 8, in[i].n - 22);
		}
	}
	assert_int_equal(take(0, out, 40), 8);
	for (unsigned j = 0; j < 8; j++) {
		unsigned i = (j / 2) * 8 + 2 + j % 2; /* echo, time exceeded, ... */
		if (j % 2 == 0) {
			assert_int_equal(out[j].b[34], 0); /* echo reply */
			assert_int_equal(rd_be16(out[j].b + 34 + 6), i);
		} else {
			check_icmp4_error(&in[i], &out[j], 11, 0, 0);
		}
	}
	assert_int_equal(drops(DP_DROP_MARTIAN_SRC), 4);
	assert_int_equal(drops(DP_DROP_TTL_EXPIRED), 4);
	assert_int_equal(w->st.punted, 4 + 4 + 4); /* learn_h1/h2, ARP, gateway */
	/* the slow path: four ARP replies, one probe for the gateway */
	dp_ctl_poll(dp);
	dp_worker_poll(w);
	assert_int_equal(take(0, out, 40), 4);
	assert_int_equal(take(1, out, 40), 1);
	assert_memory_equal(out[0].b + 14 + 24, GW_IP, 4);
	assert_int_equal(dp_neigh_held(dp), 4);
}

/* The worker -> control ring and the held-packet queue are bounded: what
 * does not fit is dropped and counted, nothing blocks, nothing leaks. */
static void test_slow_path_bounds(void **state)
{
	(void)state;
	struct frame f, out[64];
	/* 1100 ARP requests with no control poll: the punt ring holds 1023 */
	mk_arp(&f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, LAN_IP);
	for (unsigned i = 0; i < 1100; i++) {
		put(0, &f);
		if (i % 32 == 31)
			dp_worker_poll(w);
	}
	while (dp_worker_poll(w))
		;
	assert_int_equal(drops(DP_DROP_PUNT_RING_FULL), 1100 - 1023);
	unsigned replies = 0, n;
	do {
		n = dp_ctl_poll(dp);
		dp_worker_poll(w);
		replies += take(0, out, 64);
	} while (n);
	assert_int_equal(replies, 1023);
	expect_nothing();

	/* 300 packets for an unresolved neighbour: 256 (neighbours.queue) held */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 8);
	for (unsigned i = 0; i < 300; i++) {
		put(0, &f);
		if (i % 32 == 31)
			dp_worker_poll(w);
	}
	while (dp_worker_poll(w))
		;
	while (dp_ctl_poll(dp))
		;
	assert_int_equal(dp_neigh_held(dp), 256);
	assert_int_equal(dp->ctl_drop[DP_DROP_NEIGH_QUEUE_FULL], 300 - 256);
	dp_worker_poll(w);
	assert_int_equal(take(1, out, 64), 1); /* one probe, not one per packet */
	/* the answer releases all of them, in order of arrival */
	mk_arp(&f, 2, port_mac(1), MAC_H2, H2_IP, port_mac(1), WAN_IP);
	put(1, &f);
	dp_worker_poll(w);
	dp_ctl_poll(dp);
	assert_int_equal(dp_neigh_held(dp), 0);
	unsigned sent = 0;
	while (dp_worker_poll(w))
		sent += take(1, out, 64);
	sent += take(1, out, 64);
	assert_int_equal(sent, 256);
	assert_memory_equal(out[0].b, MAC_H2, 6);
}

/* A next hop that never answers: three probes a second apart, then the
 * held packets are dropped and counted. */
static void test_neigh_failed(void **state)
{
	(void)state;
	struct frame f, out[8];
	learn_h1();
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 8);
	put(0, &f);
	put(0, &f);
	unsigned probes = 0;
	uint64_t start = rte_get_timer_cycles(), hz = rte_get_timer_hz();
	while (dp->ctl_drop[DP_DROP_NEIGH_FAILED] < 2 && rte_get_timer_cycles() - start < 6 * hz) {
		dp_worker_poll(w);
		dp_ctl_poll(dp);
		dp_worker_poll(w);
		unsigned n = take(1, out, 8);
		for (unsigned i = 0; i < n && i < 8; i++) {
			assert_int_equal(rd_be16(out[i].b + 12), 0x0806);
			assert_memory_equal(out[i].b + 14 + 24, H2_IP, 4);
		}
		probes += n;
		usleep(10 * 1000);
	}
	assert_int_equal(dp->ctl_drop[DP_DROP_NEIGH_FAILED], 2);
	assert_int_equal(probes, 3);
	assert_int_equal(dp_neigh_held(dp), 0);
	/* as Linux: the sender hears "host unreachable" from the box, quoting
	 * the datagram as it was forwarded (TTL already decremented) */
	dp_worker_poll(w);
	assert_int_equal(take(0, out, 8), 2);
	for (int i = 0; i < 2; i++) {
		const uint8_t *ip = out[i].b + 14;
		assert_memory_equal(out[i].b, MAC_H1, 6);
		check_ip4_csum(ip);
		assert_int_equal(ip[9], IPPROTO_ICMP);
		assert_memory_equal(ip + 12, LAN_IP, 4);
		assert_memory_equal(ip + 16, H1_IP, 4);
		assert_int_equal(ip[20], 3);
		assert_int_equal(ip[21], 1);
		assert_int_equal(ip[28 + 8], 63);
		assert_memory_equal(ip + 28 + 16, H2_IP, 4);
	}
	expect_nothing();
}

/* A tx queue that refuses packets: dropped, counted, freed. */
static void test_tx_full(void **state)
{
	(void)state;
	struct frame f, out[4];
	learn_h1();
	learn_h2();
	/* fill wan0's tx ring */
	unsigned filled = 0;
	struct rte_mbuf *m;
	while ((m = rte_pktmbuf_alloc(pool)) != NULL && rte_ring_sp_enqueue(txr[1], m) == 0)
		filled++;
	if (m != NULL)
		rte_pktmbuf_free(m);
	assert_int_equal(filled, 1023);
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 8);
	for (int i = 0; i < 5; i++)
		put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(drops(DP_DROP_TX_FULL), 5);
	assert_int_equal(w->st.port[1].tx_pkts, 0 + 2); /* learn_h2's ARP reply and NA */
	assert_int_equal(w->st.port[1].tx_bytes, 42 + 86);
	drain(txr[1]);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, out, 4), 1);
	assert_int_equal(w->st.port[1].tx_pkts, 3);
}

/* dp_create failures clean up after themselves (the next create works). */

/* A config the loader accepts and dp_create refuses (the ports set up and
 * started before it fails, and removed after): the error in err
 * (CFG_ERR_MAX bytes). */
static void create_fails(const char *yaml, char *err)
{
	struct cfg c;
	if (cfg_load_buf(yaml, strlen(yaml), "ut.yaml", &c, err, CFG_ERR_MAX) < 0)
		fail_msg("%s", err);
	for (int p = 0; p < NPORTS; p++)
		assert_true(rte_eth_from_rings(ring_names[p], &rxr[p], 1, &txr[p], 1, 0) >= 0);
	struct dp_ctx *d = dp_create(&c, err, CFG_ERR_MAX);
	cfg_free(&c);
	assert_null(d);
	for (int p = 0; p < NPORTS; p++)
		assert_int_equal(rte_eal_hotplug_remove("vdev", dev_names[p]), 0);
}

static void test_create_errors(void **state)
{
	(void)state;
	/* set up by router_setup: take it down, ports included */
	dp_destroy(dp);
	dp = NULL;
	for (int p = 0; p < NPORTS; p++)
		assert_int_equal(rte_eal_hotplug_remove("vdev", dev_names[p]), 0);
	static const char *const bad[][2] = {
		{ "    port: lan0\n", "route to 10.77.1.0/24 duplicates" },
		{ "    via: 10.77.2.254\n", "route to 10.77.1.0/24 duplicates" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[2048];
		snprintf(yaml, sizeof(yaml), "%s  - to: 10.77.1.0/24\n%s", router_yaml, bad[i][0]);
		char err[CFG_ERR_MAX];
		create_fails(yaml, err);
		if (strstr(err, bad[i][1]) == NULL || strncmp(err, "ut.yaml:13:5: ", 14) != 0)
			fail_msg("unexpected error '%s'", err);
	}
	/* a device that cannot be attached */
	{
		char yaml[2048];
		snprintf(yaml, sizeof(yaml), "%s", router_yaml);
		char *d = strstr(yaml, "net_ring_ut1");
		memcpy(d, "net_nothing0", 12);
		struct cfg c;
		char err[CFG_ERR_MAX];
		assert_int_equal(cfg_load_buf(yaml, strlen(yaml), "ut.yaml", &c, err, sizeof(err)),
				 0);
		assert_true(rte_eth_from_rings(ring_names[0], &rxr[0], 1, &txr[0], 1, 0) >= 0);
		assert_null(dp_create(&c, err, sizeof(err)));
		cfg_free(&c);
		assert_non_null(strstr(err, "port wan0: cannot attach device 'net_nothing0'"));
		assert_int_equal(rte_eal_hotplug_remove("vdev", dev_names[0]), 0);
	}
	/* and after all that, a dataplane comes up as before (dp_down tears
	 * it down) */
	assert_int_equal(router_up(0, 50), 0);
	struct frame f, out;
	mk_arp(&f, 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, LAN_IP);
	put(0, &f);
	round_trip();
	take_one(0, &out);
}

/* ---- bridge ----------------------------------------------------------- */

static void test_bridge(void **state)
{
	(void)state;
	struct frame in[8], out[8];
	unsigned n = 0;
	mk_arp(&in[n++], 1, MAC_BCAST, MAC_H1, H1_IP, ZERO6, H2_IP);
	static const uint8_t lldp_mc[6] = { 0x01, 0x80, 0xc2, 0, 0, 0x0e };
	in[n].n = 0;
	fr_eth(&in[n], lldp_mc, MAC_H1, 0x88cc);
	for (int i = 0; i < 46; i++)
		fr_u8(&in[n], (uint8_t)(i * 7));
	n++;
	mk_udp4(&in[n++], MAC_H2, H1_IP, H2_IP, 64, 0, 100);
	/* TTL 1 crosses a bridge untouched */
	mk_udp4(&in[n++], MAC_H2, H1_IP, H2_IP, 1, 0, 3);
	fr_zero(&in[n - 1], 60 - in[n - 1].n); /* padding kept too */
	mk_udp6(&in[n++], MAC_H2, H1_IP6, H2_IP6, 1, 20);
	/* tagged frames too */
	in[n].n = 0;
	fr_eth(&in[n], MAC_H2, MAC_H1, 0x8100);
	fr_vlan(&in[n], 7, 0x0800);
	uint32_t ip = fr_ip4(&in[n], IPPROTO_TCP, 64, 0, H1_IP, H2_IP, NULL, 0);
	fr_tcp(&in[n], 1, 2, 0x02, 5);
	fr_ip4_end(&in[n], ip);
	n++;
	for (int dir = 0; dir < 2; dir++) {
		for (unsigned i = 0; i < n; i++)
			put(dir, &in[i]);
		dp_worker_poll(w);
		assert_int_equal(take(dir, out, 8), 0);
		assert_int_equal(take(1 - dir, out, 8), n);
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(out[i].n, in[i].n);
			assert_memory_equal(out[i].b, in[i].b, in[i].n);
		}
	}
	/* malformed IP is refused and counted */
	struct frame bad;
	mk_udp4(&bad, MAC_H2, H1_IP, H2_IP, 64, 0, 100);
	bad.b[14 + 10] ^= 1;
	put(0, &bad);
	bad.n = 30;
	put(0, &bad);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_BAD_IPV4_CSUM), 1);
	assert_int_equal(drops(DP_DROP_SHORT_IPV4), 1);
	assert_int_equal(dp_worker_tx(w), 2 * n);
}


/* ---- the rule engine in the pipeline ---------------------------------- */

static void install(const char *v4, const char *v6)
{
	char err[512];
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	if (v4 && rules_ipt_load(rs, RULES_F_V4, v4, strlen(v4), "ut.rules", 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (v6 && rules_ipt_load(rs, RULES_F_V6, v6, strlen(v6), "ut.rules6", 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (dp_rules_install(dp, rs, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void udp4_from(struct frame *f, int port, const uint8_t *src, const uint8_t *dst,
	uint16_t sport, uint16_t dport, uint16_t plen)
{
	f->n = 0;
	fr_eth(f, port_mac(port), port ? MAC_H2 : MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_UDP, 64, 0, src, dst, NULL, 0);
	fr_udp(f, sport, dport, plen);
	fr_ip4_end(f, ip);
}

/* LOG of a packet whose transport header lies beyond the record's snap
 * (behind 200 bytes of IPv6 extension headers): the line still names its
 * protocol and ports, as the kernel's does; and a short one is unchanged. */
static void test_log_deep(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/ut-pktlog-%d.log", (int)getpid());
	unlink(path);
	assert_int_equal(rp_pktlog_setup(false, -1, path), 0);
	learn_h1();
	learn_h2();
	install(NULL, "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j LOG --log-prefix \"deep \"\n"
		      "COMMIT\n");
	struct frame f, out;
	for (int deep = 0; deep < 2; deep++) {
		f.n = 0;
		fr_eth(&f, port_mac(0), MAC_H1, 0x86dd);
		uint32_t ip = fr_ip6(&f, deep ? IPPROTO_DSTOPTS : IPPROTO_UDP, 64, H1_IP6, H2_IP6);
		if (deep) /* 200 bytes of destination options (as Hop-by-Hop, so
			     much padding is refused before the rules) */
			fr_ip6_opts(&f, IPPROTO_UDP, 24);
		uint32_t l4 = fr_udp(&f, 5000 + deep, 53, 16);
		fr_ip6_end(&f, ip);
		fr_ip6_l4_csum(&f, ip, IPPROTO_UDP, l4, 6);
		put(0, &f);
		dp_worker_poll(w);
		take_one(1, &out);
	}
	dp_logs_drain(dp);
	rp_pktlog_setup(false, -1, NULL);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char line[1400];
	unsigned n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *want = n == 0 ? "PROTO=UDP SPT=5000 DPT=53 LEN=24 " :
					    "PROTO=UDP SPT=5001 DPT=53 LEN=24 ";
		if (strstr(line, want) == NULL)
			fail_msg("line %u: no '%s' in %s", n, want, line);
		n++;
	}
	fclose(fp);
	unlink(path);
	assert_int_equal(n, 2);
}

/* Default routes: rte_lpm and rte_lpm6 have no depth 0, so a /0 is two /1
 * halves; a /1 route of the config wins over its half, listed before the
 * default or after it; a second default is refused. */
static void default_route_case(const char *routes)
{
	char yaml[2048];
	static const uint8_t far4[4] = { 8, 8, 8, 8 }, high4[4] = { 200, 1, 1, 1 };
	static const uint8_t far6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t high6[16] = { 0xa0, 0x01, [15] = 1 };
	snprintf(yaml, sizeof(yaml),
		 "mode: router\nworkers: {main_lcore: 0, lcores: [1]}\nports:\n"
		 "  - {name: lan0, device: net_ring_ut0, addresses: [10.77.1.1/24, \"fd77:1::1/64\"]}\n"
		 "  - {name: wan0, device: net_ring_ut1, addresses: [10.77.2.1/24, \"fd77:2::1/64\"]}\n"
		 "routes:\n%s", routes);
	assert_int_equal(dp_up(yaml), 0);
	learn_h1();
	learn_h2();
	struct frame f, out;
	/* the low half: the default, via H2 */
	udp4_from(&f, 0, H1_IP, far4, 1000, 53, 8);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_forwarded4(&f, &out, MAC_H2, 1);
	mk_udp6(&f, port_mac(0), H1_IP6, far6, 64, 8);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_memory_equal(out.b, MAC_H2, 6);
	/* the high half: the config's 128.0.0.0/1 (8000::/1) back to lan0,
	 * via H1 */
	udp4_from(&f, 1, H2_IP, high4, 1000, 53, 8);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_forwarded4(&f, &out, MAC_H1, 0);
	udp6_frame(&f, port_mac(1), MAC_H2, H2_IP6, high6, 64, 1000, 53, 8);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_memory_equal(out.b, MAC_H1, 6);
	dp_down(NULL);
}

static void default_route_case_low(void)
{
	static const uint8_t low4[4] = { 8, 8, 8, 8 }, high4[4] = { 200, 1, 1, 1 };
	assert_int_equal(
		dp_up("mode: router\nworkers: {main_lcore: 0, lcores: [1]}\nports:\n"
		      "  - {name: lan0, device: net_ring_ut0, addresses: [10.77.1.1/24, \"fd77:1::1/64\"]}\n"
		      "  - {name: wan0, device: net_ring_ut1, addresses: [10.77.2.1/24, \"fd77:2::1/64\"]}\n"
		      "routes:\n  - {to: 0.0.0.0/0, via: 10.77.2.2}\n  - {to: 0.0.0.0/1, via: 10.77.1.2}\n"),
		0);
	learn_h1();
	learn_h2();
	struct frame f, out;
	udp4_from(&f, 1, H2_IP, low4, 1000, 53, 8);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_forwarded4(&f, &out, MAC_H1, 0);
	udp4_from(&f, 0, H1_IP, high4, 1000, 53, 8);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_forwarded4(&f, &out, MAC_H2, 1);
	dp_down(NULL);
}

static void test_default_route(void **state)
{
	(void)state;
	static const char defaults[] = "  - {to: 0.0.0.0/0, via: 10.77.2.2}\n"
				       "  - {to: \"::/0\", via: \"fd77:2::2\"}\n";
	static const char halves[] = "  - {to: 128.0.0.0/1, via: 10.77.1.2}\n"
				     "  - {to: \"8000::/1\", via: \"fd77:1::2\"}\n";
	char r[512];
	snprintf(r, sizeof(r), "%s%s", defaults, halves);
	default_route_case(r);
	snprintf(r, sizeof(r), "%s%s", halves, defaults);
	default_route_case(r);
	/* the low half replaced instead: 8.8.8.8 back to lan0, 200.1.1.1 by
	 * the default */
	default_route_case_low();
	/* refused: a second default, a /1 twice (around a default) */
	static const struct {
		const char *routes, *err;
	} bad[] = {
		{ "  - {to: 0.0.0.0/0, via: 10.77.2.2}\n  - {to: 0.0.0.0/0, port: lan0}\n",
		  "ut.yaml:8:5: route to 0.0.0.0/0 duplicates" },
		{ "  - {to: 0.0.0.0/0, via: 10.77.2.2}\n  - {to: 0.0.0.0/1, port: lan0}\n"
		  "  - {to: 0.0.0.0/1, via: 10.77.2.2}\n",
		  "ut.yaml:9:5: route to 0.0.0.0/1 duplicates" },
		{ "  - {to: 128.0.0.0/1, port: lan0}\n  - {to: 0.0.0.0/0, via: 10.77.2.2}\n"
		  "  - {to: 128.0.0.0/1, via: 10.77.2.2}\n",
		  "ut.yaml:9:5: route to 128.0.0.0/1 duplicates" },
		{ "  - {to: 0.0.0.0/0, port: lan0}\n  - {to: 10.0.0.0/8, via: 10.77.2.2}\n"
		  "  - {to: 10.0.0.0/8, port: lan0}\n",
		  "ut.yaml:9:5: route to 10.0.0.0/8 duplicates" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[2048];
		snprintf(yaml, sizeof(yaml),
			 "mode: router\nworkers: {main_lcore: 0, lcores: [1]}\nports:\n"
			 "  - {name: lan0, device: net_ring_ut0, addresses: [10.77.1.1/24]}\n"
			 "  - {name: wan0, device: net_ring_ut1, addresses: [10.77.2.1/24]}\n"
			 "routes:\n%s", bad[i].routes);
		char err[CFG_ERR_MAX];
		create_fails(yaml, err);
		if (strstr(err, bad[i].err) == NULL)
			fail_msg("case %zu: unexpected error '%s'", i, err);
	}
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

/* ---- the fast lane -------------------------------------------------- */

#define FL_BURST 32
#define FL_OUT 80    /* frames one burst may send per port (fragments, errors) */
#define FL_SLOTS 64  /* rule counter slots compared one by one */

/* What one burst did to the box: the frames that left each port (in
 * order), the packets punted to the control thread, the drop counters by
 * port and reason, tx bytes, ICMP errors, every rule counter. */
struct fl_res {
	unsigned n[NPORTS], n_punt;
	struct frame out[NPORTS][FL_OUT];
	struct frame punt[FL_BURST];
	uint64_t drop[NPORTS][DP_DROP_MAX];
	uint64_t tx_bytes[NPORTS];
	uint64_t icmp, fast;
	uint64_t rule[FL_SLOTS][2];
};

static void fl_snap(struct fl_res *r)
{
	for (int p = 0; p < NPORTS; p++) {
		memcpy(r->drop[p], w->st.port[p].drop, sizeof(r->drop[p]));
		r->tx_bytes[p] = w->st.port[p].tx_bytes;
	}
	r->icmp = w->st.icmp_sent;
	r->fast = w->st.fast;
	memset(r->rule, 0, sizeof(r->rule));
	const struct dp_rules *R = dp->rules;
	for (uint32_t i = 0; R != NULL && i < R->prog->n_slots; i++) {
		assert_true(i < FL_SLOTS);
		r->rule[i][0] = R->ctr[w->id][i].pkts;
		r->rule[i][1] = R->ctr[w->id][i].bytes;
	}
}

/* A copy of f as an mbuf: one segment, or (seg > 0) two, the first of seg
 * bytes. */
static struct rte_mbuf *fl_mbuf(const struct frame *f, unsigned seg, uint64_t ol)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	unsigned first = seg > 0 && seg < f->n ? seg : f->n;
	memcpy(rte_pktmbuf_append(m, (uint16_t)first), f->b, first);
	if (first < f->n) {
		struct rte_mbuf *t = rte_pktmbuf_alloc(pool);
		assert_non_null(t);
		memcpy(rte_pktmbuf_append(t, (uint16_t)(f->n - first)), f->b + first, f->n - first);
		assert_int_equal(rte_pktmbuf_chain(m, t), 0);
	}
	m->ol_flags |= ol;
	return m;
}

static void fl_run(const struct frame *f, unsigned nf, int port, const uint64_t *ol,
		   const unsigned *seg, bool fast_off, uint16_t ip_id, struct fl_res *r)
{
	struct fl_res *before = calloc(1, sizeof(*before));
	assert_non_null(before);
	dp->fast_off = fast_off;
	w->ip_id = ip_id; /* ICMP errors number their packets: both runs alike */
	fl_snap(before);
	for (unsigned i = 0; i < nf; i++)
		assert_int_equal(rte_ring_sp_enqueue(rxr[port], fl_mbuf(&f[i], seg[i], ol[i])), 0);
	assert_int_equal(dp_worker_poll(w), nf);
	fl_snap(r);
	for (int p = 0; p < NPORTS; p++) {
		for (unsigned d = 0; d < DP_DROP_MAX; d++)
			r->drop[p][d] -= before->drop[p][d];
		r->tx_bytes[p] -= before->tx_bytes[p];
	}
	r->icmp -= before->icmp;
	r->fast -= before->fast;
	for (unsigned i = 0; i < FL_SLOTS; i++) {
		r->rule[i][0] -= before->rule[i][0];
		r->rule[i][1] -= before->rule[i][1];
	}
	free(before);
	for (int p = 0; p < NPORTS; p++) {
		r->n[p] = take(p, r->out[p], FL_OUT);
		assert_true(r->n[p] <= FL_OUT);
	}
	/* the control thread is not run: what was punted is read and freed */
	void *v;
	r->n_punt = 0;
	while (rte_ring_sc_dequeue(w->punt, &v) == 0) {
		struct rte_mbuf *m = v;
		assert_true(r->n_punt < FL_BURST);
		struct frame *pf = &r->punt[r->n_punt++];
		pf->n = rte_pktmbuf_pkt_len(m);
		assert_int_equal(rte_pktmbuf_data_len(m), pf->n);
		memcpy(pf->b, rte_pktmbuf_mtod(m, const void *), pf->n);
		rte_pktmbuf_free(m);
	}
	dp->fast_off = false;
}

static uint32_t fl_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 11);
}

/* A frame that is usually almost right: the fast lane's every test sees
 * both of its answers. */
/* The Ethernet header: usually to the port's MAC, sometimes broadcast,
 * another host's, from the port itself, or with a VLAN tag. */
static void fl_eth(struct frame *f, uint64_t *x, int port, uint16_t type)
{
	const uint8_t *mine = port_mac(port);
	uint32_t e = fl_rand(x) % 20;
	const uint8_t *edst = e == 0 ? MAC_BCAST : e == 1 ? MAC_OTHER : mine;
	const uint8_t *esrc = e == 2 ? mine : port ? MAC_H2 : MAC_H1;
	f->n = 0;
	bool vlan = fl_rand(x) % 30 == 0;
	fr_eth(f, edst, esrc, vlan ? 0x8100 : type);
	if (vlan)
		fr_vlan(f, 7, type);
}

/* UDP, TCP (its offset now and then wrong) or ICMP (icmp_type) with a
 * payload of *plen bytes, usually small, sometimes around the MTUs;
 * returns where the header starts. */
static uint32_t fl_l4(struct frame *f, uint64_t *x, uint8_t proto, uint8_t icmp_type,
		      uint16_t *plen)
{
	*plen = (uint16_t)(fl_rand(x) % 3 ? fl_rand(x) % 40 : fl_rand(x) % 1500);
	uint32_t l4 = f->n;
	if (proto == IPPROTO_UDP)
		fr_udp(f, 5000, 53, *plen);
	else if (proto == IPPROTO_TCP) {
		fr_tcp(f, 40000, 80, 0x10, (uint8_t)(fl_rand(x) % 8 ? 5 : fl_rand(x) % 16));
		fr_zero(f, *plen);
	} else
		fr_icmp(f, icmp_type, 0, 1, 2, *plen);
	return l4;
}

static void fl_frame6(struct frame *f, uint64_t *x, int port)
{
	static const uint8_t dsts[][16] = {
		{ 0xfd, 0x77, 0, 2, [15] = 2 },          /* H2: connected, resolved */
		{ 0x20, 0x01, 0x0d, 0xb8, [15] = 9 },    /* via H2 */
		{ 0xfd, 0x77, 0, 1, [15] = 2 },          /* H1 */
		{ 0xfd, 0x77, 0, 2, [15] = 0x77 },       /* connected, not resolved */
		{ 0x20, 0x01, 0x0d, 0xb9, [15] = 1 },    /* via a gateway not resolved */
		{ 0xfd, 0x77, 0, 2, [15] = 1 },          /* ours */
		{ 0xfe, 0x80, [15] = 5 },                /* link-local */
		{ 0xff, 0x02, [15] = 1 },                /* multicast */
		{ [15] = 1 },                            /* loopback */
		{ 0 },                                   /* unspecified */
		{ 0x20, 0x02, [15] = 1 },                /* no route */
	};
	static const uint8_t srcs[][16] = {
		{ 0xfd, 0x77, 0, 1, [15] = 2 }, { 0xfd, 0x77, 0, 1, [15] = 9 },
		{ 0xfd, 0x77, 0, 2, [15] = 2 }, { 0 },
		{ [15] = 1 },                   { 0xff, 0x02, [15] = 1 },
		{ 0xfe, 0x80, [15] = 7 },       { 0xfd, 0x77, 0, 1, [15] = 1 },
	};
	static const uint8_t hlims[] = { 0, 1, 2, 64, 255 };
	fl_eth(f, x, port, 0x86dd);
	const uint8_t *dst = dsts[fl_rand(x) % 10 < 7 ? fl_rand(x) % 3 : fl_rand(x) % 11];
	const uint8_t *src = srcs[fl_rand(x) % 3 ? fl_rand(x) % 3 : fl_rand(x) % 8];
	if (port == 1 && src == srcs[0])
		src = srcs[2];
	uint8_t hl = hlims[fl_rand(x) % 4 ? 3 : fl_rand(x) % 5];
	uint32_t pr = fl_rand(x) % 10;
	uint8_t proto = pr < 4 ? IPPROTO_UDP : pr < 7 ? IPPROTO_TCP : pr < 8 ? IPPROTO_ICMPV6
			: pr < 9 ? 0 /* hop-by-hop */ : 44 /* fragment */;
	uint32_t ip = fr_ip6(f, proto, hl, src, dst);
	if (proto == 0) {
		fr_ip6_opts(f, IPPROTO_UDP, 0);
		proto = IPPROTO_UDP;
	} else if (proto == 44) {
		fr_ip6_frag(f, IPPROTO_UDP, 0, fl_rand(x) % 2);
		proto = IPPROTO_UDP;
	}
	uint16_t plen;
	uint32_t l4 = fl_l4(f, x, proto, fl_rand(x) % 2 ? 128 : 135, &plen);
	fr_ip6_end(f, ip);
	if (proto == IPPROTO_ICMPV6)
		fr_ip6_l4_csum(f, ip, proto, l4, 2);
	else
		fr_ip6_l4_csum(f, ip, proto, l4, proto == IPPROTO_UDP ? 6 : 16);
	uint32_t mut = fl_rand(x) % 16;
	if (mut == 0) {
		f->b[fl_rand(x) % (f->n < 80 ? f->n : 80)] ^= (uint8_t)(1u << fl_rand(x) % 8);
	} else if (mut == 1) { /* the payload length */
		wr_be16(f->b + ip + 4, (uint16_t)(rd_be16(f->b + ip + 4) + fl_rand(x) % 41 - 20));
	} else if (mut == 2) { /* the UDP length or the TCP offset */
		if (proto == IPPROTO_UDP)
			wr_be16(f->b + l4 + 4, (uint16_t)(fl_rand(x) % (plen + 24u)));
		else if (proto == IPPROTO_TCP)
			f->b[l4 + 12] = (uint8_t)(fl_rand(x) % 16 << 4);
	} else if (mut == 3 && f->n > 14) { /* cut short */
		f->n = 14 + fl_rand(x) % (f->n - 14);
	} else if (mut == 4) { /* Ethernet padding */
		fr_zero(f, 1 + fl_rand(x) % 30);
	} else if (mut == 5) { /* another version */
		f->b[ip] = (uint8_t)(fl_rand(x) % 2 ? 0x40 : 0x70);
	}
}

static int fl_family; /* 4 or 6: frames of that family only; 0: both */

static void fl_frame(struct frame *f, uint64_t *x, int port, uint64_t *ol, unsigned *seg)
{
	if (fl_family == 6 || (fl_family == 0 && fl_rand(x) % 3 == 0)) {
		*ol = 0;
		fl_frame6(f, x, port);
		*seg = fl_rand(x) % 40 != 0 ? 0 : fl_rand(x) % 2 ? 1 + fl_rand(x) % 60
								  : f->n - 1 - fl_rand(x) % 4;
		return;
	}
	static const uint8_t dsts[][4] = {
		{ 10, 77, 2, 2 },   /* H2: connected, resolved */
		{ 192, 168, 7, 9 }, /* via the gateway, resolved */
		{ 10, 77, 1, 2 },   /* H1, back out of lan0 */
		{ 10, 77, 2, 77 },  /* connected, not resolved */
		{ 172, 20, 1, 1 },  /* via a gateway not resolved */
		{ 10, 77, 2, 1 },   /* ours */
		{ 10, 77, 2, 255 }, /* the subnet's broadcast */
		{ 224, 0, 0, 5 },   { 0, 1, 2, 3 }, { 255, 255, 255, 255 }, { 240, 1, 2, 3 },
		{ 127, 0, 0, 1 },   { 172, 16, 0, 1 }, /* no route */
	};
	static const uint8_t srcs[][4] = {
		{ 10, 77, 1, 2 }, { 10, 9, 9, 9 },   { 10, 77, 2, 2 }, { 127, 0, 0, 1 },
		{ 0, 0, 0, 1 },   { 240, 1, 1, 1 },  { 10, 77, 1, 1 }, { 10, 77, 2, 1 },
		{ 100, 64, 0, 1 }, { 224, 1, 1, 1 },
	};
	static const uint8_t ttls[] = { 0, 1, 2, 64, 255 };
	static const uint16_t frags[] = { 0, 0x4000, 0x2000, 0x0001, 0x4001, 0x8000, 0x6000, 0x0080 };
	static const uint8_t opts[4] = { 1, 1, 1, 0 }; /* NOP NOP NOP EOL */
	static const uint64_t ols[] = { 0, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD,
					RTE_MBUF_F_RX_IP_CKSUM_NONE };
	*ol = ols[fl_rand(x) % 4 == 0 ? fl_rand(x) % 4 : 0];
	fl_eth(f, x, port, 0x0800);
	const uint8_t *dst = dsts[fl_rand(x) % 10 < 7 ? fl_rand(x) % 3 : fl_rand(x) % 13];
	const uint8_t *src = srcs[fl_rand(x) % 3 ? fl_rand(x) % 3 : fl_rand(x) % 10];
	if (port == 1 && src == srcs[0])
		src = srcs[2];
	uint8_t ttl = ttls[fl_rand(x) % 4 ? 3 : fl_rand(x) % 5];
	uint16_t frag = frags[fl_rand(x) % 3 ? fl_rand(x) % 2 : fl_rand(x) % 8];
	uint32_t pr = fl_rand(x) % 10;
	uint8_t proto = pr < 4 ? IPPROTO_UDP : pr < 7 ? IPPROTO_TCP : pr < 9 ? IPPROTO_ICMP
			: (fl_rand(x) % 2 ? 47 : IPPROTO_ICMPV6);
	bool o = fl_rand(x) % 20 == 0;
	uint32_t ip = fr_ip4(f, proto, ttl, frag, src, dst, o ? opts : NULL, o ? 4 : 0);
	/* around both ports' MTUs (1500, 1400) now and then */
	uint16_t plen;
	uint32_t l4 = fl_l4(f, x, proto, 8, &plen);
	fr_ip4_end(f, ip);
	if (proto == IPPROTO_UDP || proto == IPPROTO_TCP)
		fr_ip4_l4_csum(f, ip, proto, l4, proto == IPPROTO_UDP ? 6 : 16);
	/* then, sometimes, something wrong */
	uint32_t mut = fl_rand(x) % 16;
	if (mut == 0) { /* one byte anywhere in the headers */
		f->b[fl_rand(x) % (f->n < 60 ? f->n : 60)] ^= (uint8_t)(1u << fl_rand(x) % 8);
	} else if (mut == 1) { /* the total length */
		wr_be16(f->b + ip + 2, (uint16_t)(rd_be16(f->b + ip + 2) + fl_rand(x) % 41 - 20));
		fr_ip4_csum(f, ip);
	} else if (mut == 2) { /* the UDP length or the TCP offset */
		if (proto == IPPROTO_UDP)
			wr_be16(f->b + l4 + 4, (uint16_t)(fl_rand(x) % (plen + 24u)));
		else if (proto == IPPROTO_TCP)
			f->b[l4 + 12] = (uint8_t)(fl_rand(x) % 16 << 4);
	} else if (mut == 3) { /* the header checksum */
		f->b[ip + 10] ^= 0x40;
	} else if (mut == 4 && f->n > 14) { /* cut short */
		f->n = 14 + fl_rand(x) % (f->n - 14);
	} else if (mut == 5) { /* Ethernet padding */
		fr_zero(f, 1 + fl_rand(x) % 30);
	} else if (mut == 6) { /* another IP version or header length */
		f->b[ip] = (uint8_t)(fl_rand(x) % 2 ? 0x46 : 0x65);
		fr_ip4_csum(f, ip);
	}
	/* two segments: the headers split, or only the last bytes (padding,
	 * if any) in the second */
	*seg = fl_rand(x) % 40 != 0 ? 0 : fl_rand(x) % 2 ? 1 + fl_rand(x) % 40
							  : f->n - 1 - fl_rand(x) % 4;
}

/* router_yaml's box with two more gateways behind wan0 (one never
 * resolved) for each family, any extra routes, ICMP errors unlimited;
 * wan0's MTU 1400 (the ring PMD sets none: the dataplane's own). */
static int fl_up(const char *extra_routes)
{
	char yaml[2048];
	snprintf(yaml, sizeof(yaml),
		 "%s  - {to: 172.20.0.0/16, via: 10.77.2.253}\n"
		 "  - {to: \"2001:db8::/32\", via: \"fd77:2::2\"}\n"
		 "  - {to: \"2001:db9::/32\", via: \"fd77:2::fd\"}\n"
		 "%sicmp: {ratelimit: 0, burst: 50}\n",
		 router_yaml, extra_routes);
	if (dp_up(yaml) < 0)
		return -1;
	dp->ports[1].mtu = 1400;
	return 0;
}

static int fl_setup(void **state)
{
	(void)state;
	return fl_up("");
}

/* With default routes, martian destinations have a route: only the
 * martian tests keep them from being forwarded. */
static int fl_default_setup(void **state)
{
	(void)state;
	return fl_up("  - {to: 0.0.0.0/0, via: 10.77.2.254}\n  - {to: \"::/0\", via: \"fd77:2::2\"}\n");
}

/* The fast lane is an optimisation, never a semantic: bursts of 1 to 32
 * frames, most well formed and some broken in each way the fast lane
 * tests, each burst sent once with the fast lane and once through the full
 * path, must leave the box the same: the same frames in the same order on
 * each port, byte for byte, the same packets punted, and the same counters
 * (drops by port and reason, tx bytes, ICMP errors, every rule counter). */
static void fl_differential(unsigned bursts, uint64_t seed, bool expect_fast, bool expect_count)
{
	static struct frame f[FL_BURST];
	struct frame g;
	learn_h1();
	learn_h2();
	mk_arp(&g, 2, port_mac(1), MAC_GW, GW_IP, port_mac(1), WAN_IP);
	put(1, &g);
	round_trip();
	expect_nothing();
	uint64_t x = seed, fast = 0, slow_fwd = 0, mixed = 0, rule_pkts = 0, total = 0;
	static struct fl_res a, b;
	for (unsigned k = 0; k < bursts; k++) {
		uint64_t ol[FL_BURST];
		unsigned seg[FL_BURST];
		int port = fl_rand(&x) % 8 == 0 ? 1 : 0;
		unsigned nf = fl_rand(&x) % 4 == 0 ? 1 : 1 + fl_rand(&x) % FL_BURST;
		for (unsigned i = 0; i < nf; i++)
			fl_frame(&f[i], &x, port, &ol[i], &seg[i]);
		fl_run(f, nf, port, ol, seg, false, (uint16_t)k, &a);
		fl_run(f, nf, port, ol, seg, true, (uint16_t)k, &b);
		assert_int_equal(b.fast, 0);
		fast += a.fast;
		total += nf;
		uint64_t sent = a.n[0] + a.n[1];
		if (a.fast < sent)
			slow_fwd++;
		if (a.fast && a.fast < nf)
			mixed++;
		for (int p = 0; p < NPORTS; p++) {
			if (a.n[p] != b.n[p])
				fail_msg("burst %u: %u frames on port %d with the fast lane, %u without",
					 k, a.n[p], p, b.n[p]);
			for (unsigned i = 0; i < a.n[p]; i++)
				if (a.out[p][i].n != b.out[p][i].n ||
				    memcmp(a.out[p][i].b, b.out[p][i].b, a.out[p][i].n) != 0)
					fail_msg("burst %u: port %d frame %u differs", k, p, i);
			for (unsigned d = 0; d < DP_DROP_MAX; d++)
				if (a.drop[p][d] != b.drop[p][d])
					fail_msg("burst %u: port %d drop %s %" PRIu64
						 " with the fast lane, %" PRIu64 " without",
						 k, p, dp_drop_names[d], a.drop[p][d], b.drop[p][d]);
			if (a.tx_bytes[p] != b.tx_bytes[p])
				fail_msg("burst %u: port %d tx bytes %" PRIu64 " / %" PRIu64, k, p,
					 a.tx_bytes[p], b.tx_bytes[p]);
		}
		assert_int_equal(a.n_punt, b.n_punt);
		for (unsigned i = 0; i < a.n_punt; i++)
			if (a.punt[i].n != b.punt[i].n ||
			    memcmp(a.punt[i].b, b.punt[i].b, a.punt[i].n) != 0)
				fail_msg("burst %u: punted packet %u differs", k, i);
		assert_int_equal(a.icmp, b.icmp);
		for (unsigned i = 0; i < FL_SLOTS; i++) {
			if (a.rule[i][0] != b.rule[i][0] || a.rule[i][1] != b.rule[i][1])
				fail_msg("burst %u: rule counter %u +%" PRIu64 "/%" PRIu64
					 " with the fast lane, +%" PRIu64 "/%" PRIu64 " without",
					 k, i, a.rule[i][0], a.rule[i][1], b.rule[i][0], b.rule[i][1]);
			rule_pkts += a.rule[i][0];
		}
	}
	if (expect_fast) {
		/* both lanes were taken, often, and in one burst: the
		 * comparison means something */
		if (fast < total / 10 || slow_fwd < bursts / 20 || mixed < bursts / 10)
			fail_msg("fast lane %" PRIu64 " of %" PRIu64 " packets; bursts with "
				 "full-path output %" PRIu64 ", mixed %" PRIu64 " of %u",
				 fast, total, slow_fwd, mixed, bursts);
	} else {
		assert_int_equal(fast, 0);
	}
	/* with rules, the fast lane's packets were counted (by policies) */
	if (expect_count && rule_pkts < fast)
		fail_msg("rule counters +%" PRIu64 " for %" PRIu64 " fast-lane packets", rule_pkts,
			 fast);
}

static void test_fast_lane_differential(void **state)
{
	(void)state;
	fl_differential(3000, 0x9e3779b97f4a7c15ull, true, false);
}

static void test_fast_lane_default_route(void **state)
{
	(void)state;
	fl_differential(1000, 7, true, false);
}

/* The fast lane (which tests IPv4 headers four frames at a time) leaves
 * every fragment to the full path, whichever bit of the offset or MF is
 * set, and takes frames whose flags only have DF or the reserved bit: in
 * bursts of four, all forwarded either way. */
static void test_fast_lane_fragments(void **state)
{
	(void)state;
	static const uint16_t frags[] = { 0x2000, 0x0001, 0x0080, 0x0100, 0x1000, 0x2080,
					  0x0000, 0x4000, 0x8000, 0xc000 };
	struct frame f, got[8];
	learn_h1();
	learn_h2();
	for (unsigned k = 0; k < sizeof(frags) / sizeof(frags[0]); k++) {
		uint64_t fast = w->st.fast;
		for (unsigned j = 0; j < 4; j++) {
			mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, frags[k], (uint16_t)(20 + j));
			put(0, &f);
		}
		dp_worker_poll(w);
		assert_int_equal(take(1, got, 8), 4);
		if (w->st.fast - fast != ((frags[k] & 0x3fff) ? 0 : 4))
			fail_msg("flags/offset 0x%04x: %" PRIu64 " of 4 by the fast lane", frags[k],
				 w->st.fast - fast);
	}
}

/* Rules that forwarded packets do not cross (INPUT, OUTPUT) and empty
 * ACCEPT chains where they do leave the fast lane open, and it counts
 * those chains' policies as the traversal would (the nat table's: not
 * without tracking); a rule, a DROP policy, connection tracking close it. */
static void test_fast_lane_rules(void **state)
{
	(void)state;
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n"
		"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
		"*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n"
		"*mangle\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n",
		"*filter\n:FORWARD ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
		"-A INPUT -p tcp --dport 22 -j DROP\nCOMMIT\n"
		"*mangle\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n");
	fl_differential(600, 42, true, true);
	/* IPv4 closed (a rule, a DROP policy, a mangle rule), IPv6 open */
	static const char *const closed4[] = {
		"*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp --dport 23 -j DROP\nCOMMIT\n",
		"*filter\n:FORWARD DROP [0:0]\nCOMMIT\n",
		("*mangle\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j MARK --set-mark 1\n"
		 "COMMIT\n"),
		"*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p udp -j ACCEPT\nCOMMIT\n",
	};
	for (unsigned i = 0; i < sizeof(closed4) / sizeof(closed4[0]); i++) {
		install(closed4[i], NULL);
		fl_family = 4;
		fl_differential(150, 43 + i, false, true);
		fl_family = 6;
		fl_differential(150, 53 + i, true, false);
		/* the same rules for IPv6: its lane closes, IPv4's opens */
		install(NULL, closed4[i]);
		fl_differential(150, 63 + i, false, true);
		fl_family = 4;
		fl_differential(150, 73 + i, true, false);
		fl_family = 0;
	}
	/* connection tracking (a stateful path: no run is like the last)
	 * closes both, whichever family's rules use it */
	install(NULL, "*filter\n:FORWARD ACCEPT [0:0]\n-A INPUT -m state --state NEW -j ACCEPT\n"
		"COMMIT\n");
	struct frame f, out;
	uint64_t fast = w->st.fast;
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_forwarded4(&f, &out, MAC_H2, 1);
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(w->st.fast, fast);
}

/* ---- the established lane ------------------------------------------ */

static void tcp4_seg(struct frame *f, int port, const uint8_t *src, const uint8_t *dst,
		     uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
		     const char *payload);

/* A connection the established lane's test plays both ends of: client
 * H1 on lan0, server H2 or a host behind a gateway on wan0. TCP: st 0
 * closed, 1 SYN sent, 2 SYN/ACK sent, 3 open; seq: the next sequence
 * number of each end. */
struct el_conn {
	uint8_t proto, v6, far, inb, st;
	uint8_t opt; /* TCP: options (1: SACK permitted, timestamps, window scale
		      * ws; 2: the same without SACK permitted, whose stack
		      * sends SACK blocks all the same) */
	uint8_t ws;
	uint16_t cport;
	uint32_t seq[2];
};
#define EL_CONNS 40
/* the established lane's test with NAT: outbound connections masqueraded,
 * inbound ones (inb) forwarded to H1 by destination NAT */
static bool el_nat;

static uint64_t el_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* A frame of connection c from the end on port (0 the client, 1 the
 * server): mostly what its state calls for, in sequence; now and then out
 * of its window, a FIN, an RST, a new SYN, a wrong checksum (unknown to
 * the NIC, or known bad), a TTL of 1, padding. */
static void el_frame(struct frame *f, uint64_t *x, int wire, struct el_conn *c, uint64_t *ol,
		     bool clean)
{
	static const uint8_t far4[4] = { 192, 168, 7, 9 };
	static const uint8_t far6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	static const uint8_t wan6[16] = { 0xfd, 0x77, 0, 2, [15] = 1 };
	/* port: the end that sends, 0 the client, 1 the server; wire: the
	 * box's port it arrives on */
	int port = c->inb ? !wire : wire;
	uint16_t svc = c->proto == IPPROTO_TCP ? 80 : 53;
	/* addresses as each end sees them: an outbound client H1 (masqueraded
	 * behind wan0's address with el_nat), an inbound client H2 (to wan0's
	 * address, forwarded to H1) */
	const uint8_t *cli = c->inb ? (c->v6 ? H2_IP6 : H2_IP) : (c->v6 ? H1_IP6 : H1_IP);
	const uint8_t *srv = c->inb ? (c->v6 ? H1_IP6 : H1_IP)
				    : c->far ? (c->v6 ? far6 : far4) : (c->v6 ? H2_IP6 : H2_IP);
	const uint8_t *wan = c->v6 ? wan6 : WAN_IP;
	const uint8_t *src = port ? srv : cli;
	const uint8_t *dst = port ? (el_nat && !c->inb ? wan : cli) : (c->inb ? wan : srv);
	uint16_t sp = port ? svc : c->cport;
	uint16_t dp_ = port ? c->cport : c->inb ? 8000 + svc : svc;
	uint16_t plen = (uint16_t)(fl_rand(x) % 4 ? fl_rand(x) % 40 : fl_rand(x) % 1200);
	f->n = 0;
	fr_eth(f, port_mac(wire), wire ? MAC_H2 : MAC_H1, c->v6 ? 0x86dd : 0x0800);
	uint32_t ip = c->v6 ? fr_ip6(f, c->proto, 64, src, dst)
			    : fr_ip4(f, c->proto, 64, 0, src, dst, NULL, 0);
	uint32_t l4;
	/* what may go wrong: not the handshake (the connection would never
	 * open) */
	bool noisy = !clean;
	if (c->proto == IPPROTO_UDP) {
		l4 = fr_udp(f, sp, dp_, plen);
	} else {
		uint8_t fl = 0x10; /* ACK */
		uint32_t r = clean ? 1000 : fl_rand(x) % 1000;
		bool data = false;
		if (c->st == 0) {
			fl = port ? 0x10 : 0x02; /* a SYN (the server: a stray ACK) */
			if (!port) {
				c->st = 1;
				c->seq[0] = fl_rand(x);
				/* half the connections with options, as stacks send
				 * them: window scaling, SACK, timestamps */
				c->opt = fl_rand(x) % 2 ? 0 : fl_rand(x) % 4 ? 1 : 2;
				c->ws = (uint8_t)(fl_rand(x) % 9);
			}
			plen = 0;
		} else if (c->st == 1 && port) {
			fl = 0x12; /* SYN/ACK */
			c->st = 2;
			c->seq[1] = fl_rand(x);
			plen = 0;
		} else if ((c->st == 1 && !port) || (c->st == 2 && port)) {
			fl = port ? 0x12 : 0x02; /* the SYN or SYN/ACK again */
			plen = 0;
			c->seq[port]--;
		} else if (c->st == 2 && !port) {
			c->st = 3;
		} else if (r < 10) {
			fl = 0x02; /* a SYN on the connection: ignored */
			plen = 0;
		} else if (r < 40) {
			/* FIN or RST: the next connection is usually another
			 * one (the client's next port; this one lingers in the
			 * table), else it reopens this one */
			fl = r < 25 ? 0x11 : 0x14;
			c->st = 0;
			if (r % 3)
				c->cport = (uint16_t)(c->cport + EL_CONNS);
		} else {
			data = true;
			if (r < 80)
				fl = 0x18; /* PSH, ACK */
		}
		/* options: a SYN's MSS, SACK permitted, timestamps, window
		 * scale; then timestamps on every segment, or now and then a
		 * SACK block instead (its edges near the acknowledgement or
		 * beyond the data sent: the window's tests read them) */
		bool syn = fl & 0x02;
		unsigned doff = !c->opt ? 5 : syn ? 10 : 8;
		l4 = fr_tcp(f, sp, dp_, fl, (uint8_t)doff);
		uint8_t *o = f->b + l4 + 20;
		uint32_t ack0 = c->seq[!port];
		if (c->opt && syn) {
			static const uint8_t so[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
							0, 0, 0, 0, 1, 3, 3, 0 };
			memcpy(o, so, sizeof(so));
			o[19] = c->ws;
			if (c->opt == 2)
				o[4] = o[5] = 1; /* NOP NOP: no SACK permitted */
		} else if (c->opt && fl_rand(x) % 8 == 0) {
			uint32_t le = ack0 - fl_rand(x) % 2000, re = ack0 + fl_rand(x) % 3000;
			if (fl_rand(x) % 2) {
				/* a hole: the acknowledgement below what the
				 * other end sent, a block above it, its right
				 * edge within what was sent or beyond */
				ack0 -= 1 + fl_rand(x) % 1500;
				le = ack0 + 1 + fl_rand(x) % 200;
				re = le + 1 + fl_rand(x) % 2000;
			}
			uint8_t sk[12] = { 1, 1, 5, 10 };
			for (int b = 0; b < 4; b++) {
				sk[4 + b] = (uint8_t)(le >> (24 - 8 * b));
				sk[8 + b] = (uint8_t)(re >> (24 - 8 * b));
			}
			memcpy(o, sk, sizeof(sk));
		} else if (c->opt) {
			static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1 };
			memcpy(o, ts, sizeof(ts));
		}
		if (noisy && fl_rand(x) % 40 == 0)
			f->b[l4 + 14] = f->b[l4 + 15] = 0; /* a zero window */
		else if (noisy && !syn && fl_rand(x) % 4 == 0)
			f->b[l4 + 14] = (uint8_t)(fl_rand(x) % 256); /* other windows */
		fr_zero(f, plen);
		uint32_t seq = c->seq[port], ack = ack0;
		noisy = noisy && data;
		if (noisy && fl_rand(x) % 25 == 0)
			seq += 0x40000000u; /* far out of the window */
		else if (noisy && fl_rand(x) % 25 == 0)
			seq -= fl_rand(x) % 3000; /* a retransmission, or below it */
		for (int b = 0; b < 4; b++) {
			f->b[l4 + 4 + b] = (uint8_t)(seq >> (24 - 8 * b));
			f->b[l4 + 8 + b] = (fl & 0x10) ? (uint8_t)(ack >> (24 - 8 * b)) : 0;
		}
		c->seq[port] += plen + ((fl & 0x03) ? 1 : 0);
	}
	if (noisy && fl_rand(x) % 50 == 0)
		f->b[ip + (c->v6 ? 7 : 8)] = 1; /* TTL, hop limit */
	if (c->v6) {
		fr_ip6_end(f, ip);
		fr_ip6_l4_csum(f, ip, c->proto, l4, c->proto == IPPROTO_UDP ? 6 : 16);
	} else {
		fr_ip4_end(f, ip);
		fr_ip4_l4_csum(f, ip, c->proto, l4, c->proto == IPPROTO_UDP ? 6 : 16);
	}
	*ol = 0;
	uint32_t mut = noisy ? fl_rand(x) % 30 : 30;
	if (mut == 0)
		f->b[l4 + (c->proto == IPPROTO_UDP ? 6 : 16)] ^= 0x10; /* checksum: the NIC knows nothing */
	else if (mut == 1)
		*ol = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	else if (mut == 2)
		*ol = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	else if (mut == 3)
		fr_zero(f, 1 + fl_rand(x) % 20); /* Ethernet padding */
}

/* The established lane's rulesets: ESTABLISHED accepted (in mangle too,
 * for IPv4; after INVALID dropped, for IPv6), new connections accepted. */
static const char el_rules4[] =
	"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
	"*mangle\n:PREROUTING ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
	":POSTROUTING ACCEPT [0:0]\n"
	"-A FORWARD -m state --state ESTABLISHED -j ACCEPT\nCOMMIT\n"
	"*filter\n:FORWARD DROP [0:0]\n"
	"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
	"-A FORWARD -p tcp --syn -m conntrack --ctstate NEW -j ACCEPT\n"
	"-A FORWARD -p udp -m state --state NEW -j ACCEPT\n"
	"-A FORWARD -p icmp -j ACCEPT\n"
	"COMMIT\n";
static const char el_rules6[] =
	"*filter\n:FORWARD DROP [0:0]\n"
	"-A FORWARD -m state --state INVALID -j DROP\n"
	"-A FORWARD -m state --state ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -m state --state NEW,RELATED -j ACCEPT\n"
	"COMMIT\n";

/* One run of the established lane's test on a fresh box: bursts of frames
 * of the connections (and of fl_frame's, which the lane mostly refuses),
 * the connection clock running (dp->ct_clock). digest[k]: what burst
 * k did (fl_res); *ct: the digest of the table after; lane[0]: the
 * packets the established lane forwarded, lane[1]: the bursts it left
 * part of to the full path. */
static const char *el_yaml = ""; /* more of the box's config */
static unsigned el_fill; /* UDP connections made first (never answered) */
static uint64_t el_early; /* the last run's early drops */

static void el_run(const char *rules4, const char *rules6, unsigned bursts, uint64_t seed,
		   bool fast_off, uint64_t *digest, uint64_t *ct, uint64_t lane[2])
{
	assert_int_equal(fl_up(el_yaml), 0);
	/* the connection clock from the table's own start on: its timer
	 * wheel, and so expiry and early drop, the same in both runs */
	uint32_t base = w->ct->wtick;
	dp->ct_clock = base;
	learn_h1();
	learn_h2();
	struct frame g;
	mk_arp(&g, 2, port_mac(1), MAC_GW, GW_IP, port_mac(1), WAN_IP);
	put(1, &g);
	round_trip();
	expect_nothing();
	install(rules4, rules6);
	assert_true(dp->rules->fast[0] && dp->rules->fast[1]);
	w->nat_rnd = 0x2545f491; /* NAT's port choices: both runs alike */
	for (unsigned i = 0; i < el_fill; i += FL_BURST) {
		for (unsigned j = i; j < i + FL_BURST && j < el_fill; j++) {
			udp4_from(&g, 0, H1_IP, H2_IP, (uint16_t)(50000 + j), 9, 8);
			put(0, &g);
		}
		dp_worker_poll(w);
		struct frame o[FL_BURST];
		while (take(1, o, FL_BURST) > 0)
			;
	}
	struct el_conn c[EL_CONNS];
	uint64_t x = seed;
	for (unsigned i = 0; i < EL_CONNS; i++) {
		c[i] = (struct el_conn){ .proto = i % 2 ? IPPROTO_TCP : IPPROTO_UDP,
					 .v6 = i % 3 == 0, .far = i % 4 == 1,
					 .inb = el_nat && i % 5 == 2,
					 .cport = (uint16_t)(20000 + i) };
	}
	static struct frame f[FL_BURST];
	static struct fl_res r;
	lane[0] = lane[1] = 0;
	for (unsigned k = 0; k < bursts; k++) {
		/* a tick a burst, and now and then 40 s at once: UDP
		 * connections expire, some found so before they are reaped */
		dp->ct_clock = base + k + k / 100 * 40 * CT_HZ;
		uint64_t ol[FL_BURST];
		unsigned seg[FL_BURST];
		int port = (int)(fl_rand(&x) % 2);
		unsigned nf = 1 + fl_rand(&x) % FL_BURST;
		/* half the bursts as the lane likes them, unless a connection
		 * is not open yet */
		bool clean = fl_rand(&x) % 2 == 0;
		for (unsigned i = 0; i < nf; i++) {
			seg[i] = 0;
			if (!clean && fl_rand(&x) % 12 == 0) {
				fl_frame(&f[i], &x, port, &ol[i], &seg[i]);
				continue;
			}
			/* a few connections at a time: several frames of one in a burst */
			struct el_conn *cn = &c[(k / 8 * 5 + fl_rand(&x) % 6) % EL_CONNS];
			el_frame(&f[i], &x, port, cn, &ol[i], clean);
		}
		uint64_t est = w->st.fast_est;
		fl_run(f, nf, port, ol, seg, fast_off, (uint16_t)k, &r);
		est = w->st.fast_est - est;
		lane[0] += est;
		lane[1] += est > 0 && est < nf; /* the lane, then the full path */
		uint64_t d = 0xcbf29ce484222325ull;
		for (int p = 0; p < NPORTS; p++) {
			d = el_fnv(d, &r.n[p], sizeof(r.n[p]));
			for (unsigned i = 0; i < r.n[p]; i++)
				d = el_fnv(d, r.out[p][i].b, r.out[p][i].n);
			d = el_fnv(d, r.drop[p], sizeof(r.drop[p]));
			d = el_fnv(d, &r.tx_bytes[p], sizeof(r.tx_bytes[p]));
		}
		for (unsigned i = 0; i < r.n_punt; i++)
			d = el_fnv(d, r.punt[i].b, r.punt[i].n);
		d = el_fnv(d, &r.icmp, sizeof(r.icmp));
		d = el_fnv(d, r.rule, sizeof(r.rule));
		d = el_fnv(d, &w->ct->st, sizeof(w->ct->st));
		digest[k] = d;
	}
	/* the table: every entry, its times from the run's clock */
	const struct ct_table *t = w->ct;
	uint64_t d = el_fnv(0xcbf29ce484222325ull, &t->live, sizeof(t->live));
	for (uint32_t i = 0; i < t->max; i++) {
		struct ct_entry e = t->e[i];
		if (e.fam == 0)
			continue;
		union ct_pstate ps = t->px[i];
		e.expire -= base;
		if (e.proto == IPPROTO_UDP)
			e.mts -= base; /* stream_ts */
		d = el_fnv(d, &i, sizeof(i));
		d = el_fnv(d, &e, sizeof(e));
		d = el_fnv(d, &ps, sizeof(ps));
	}
	*ct = d;
	el_early = t->st.early_drop;
	dp->ct_clock = 0;
	assert_int_equal(dp_down(NULL), 0);
}

/* The established lane is an optimisation, never a semantic: the same
 * bursts through a fresh box with the lane and through another without
 * it (every packet the full path) must do the same -- the same frames out
 * of each port in the same order, punts, drops, ICMP errors, rule
 * counters, conntrack's statistics after every burst, and the same table
 * at the end, entry for entry (state, windows, counters, timeouts). The
 * bursts mix packets the lane takes with those it must leave: new
 * connections, SYN, FIN, RST, segments out of the window, bad checksums,
 * TTL 1, malformed frames; several packets of one connection in a burst. */
static void el_differential(const char *rules4, const char *rules6, uint64_t seed,
			    uint64_t min_lane, bool nat, const char *yaml, unsigned fill)
{
	el_nat = nat;
	el_yaml = yaml;
	el_fill = fill;
	enum { BURSTS = 700 };
	static uint64_t a[BURSTS], b[BURSTS];
	uint64_t cta, ctb, lane_a[2], lane_b[2];
	el_run(rules4, rules6, BURSTS, seed, false, a, &cta, lane_a);
	el_run(rules4, rules6, BURSTS, seed, true, b, &ctb, lane_b);
	assert_int_equal(lane_b[0], 0);
	for (unsigned k = 0; k < BURSTS; k++)
		if (a[k] != b[k])
			fail_msg("burst %u differs with the established lane", k);
	assert_true(cta == ctb);
	/* the lane was taken, and left: the comparison means something */
	if (lane_a[0] < min_lane || lane_a[1] < 100)
		fail_msg("the established lane took %" PRIu64 " packets, left %" PRIu64 " bursts "
			 "part way", lane_a[0], lane_a[1]);
}

static void test_est_lane_differential(void **state)
{
	(void)state;
	el_differential(el_rules4, el_rules6, 0x5eed1234, 1500, false, "", 0);
}

/* The same with a table smaller than the connections: new ones evict
 * others (early drop), which the lane must not overtake -- it stops at a
 * new connection when the table's free entries may run out. */
static void test_est_lane_full(void **state)
{
	(void)state;
	el_differential(el_rules4, el_rules6, 0x77, 300, false,
			"conntrack: {max-entries: 1024, max-ipv6: 24}\n", 1000);
	assert_true(el_early > 10);
}

/* The early-drop guard, provoked: a full table whose first victim is an
 * answered UDP connection C (not ASSURED, the soonest to expire). In the
 * burst [a new connection N, a packet of C], N evicts C, and C's packet
 * then finds nothing: NEW, which evicts another. Had the lane overtaken
 * N, C's packet would have been ESTABLISHED. In [C, N] it is, and the
 * lane takes it (the lane stops at N only, not at the burst). */
static void test_est_lane_evict(void **state)
{
	(void)state;
	assert_int_equal(fl_up("conntrack: {max-entries: 1024}\n"), 0);
	uint32_t base = w->ct->wtick;
	dp->ct_clock = base;
	learn_h1();
	learn_h2();
	install(el_rules4, el_rules6);
	assert_true(dp->rules->fast[0]);
	struct frame g, o[FL_BURST];
	/* C, answered */
	udp4_from(&g, 0, H1_IP, H2_IP, 40000, 9, 8);
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, FL_BURST), 1);
	udp4_from(&g, 1, H2_IP, H1_IP, 9, 40000, 8);
	put(1, &g);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, FL_BURST), 1);
	/* a second later, the rest of the table: never answered */
	dp->ct_clock = base + CT_HZ;
	const struct ct_table *t = w->ct;
	for (unsigned j = 0; t->live < t->max; j++) {
		udp4_from(&g, 0, H1_IP, H2_IP, (uint16_t)(50000 + j), 9, 8);
		put(0, &g);
		if (j % FL_BURST == FL_BURST - 1 || t->live + j % FL_BURST + 1 >= t->max) {
			dp_worker_poll(w);
			while (take(1, o, FL_BURST) > 0)
				;
		}
	}
	assert_int_equal(t->st.early_drop, 0);
	dp->ct_clock = base + 2 * CT_HZ;
	const struct dp_rules *R = dp->rules;
	__auto_type pf = &R->prog->f[0];
	uint32_t first = pf->chains[pf->hook_chain[RULES_H_FORWARD][RULES_T_FILTER]].first;
	uint32_t est_rule = pf->rules[first].ctr;
	uint32_t new_rule = pf->rules[first + 3].ctr; /* -p udp --state NEW */
	uint64_t est = w->st.fast_est, new_ = t->st.new_;
	uint64_t n_est = R->ctr[w->id][est_rule].pkts, n_new = R->ctr[w->id][new_rule].pkts;
	w->est_cool = 0; /* the filling's bursts made the lane sit out the next ones */
	udp4_from(&g, 0, H1_IP, H2_IP, 40001, 9, 8); /* N */
	put(0, &g);
	udp4_from(&g, 0, H1_IP, H2_IP, 40000, 9, 8); /* C */
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, FL_BURST), 2);
	assert_int_equal(w->st.fast_est, est);
	assert_int_equal(t->st.early_drop, 2);
	assert_int_equal(t->st.new_, new_ + 2);
	assert_int_equal(R->ctr[w->id][new_rule].pkts, n_new + 2);
	assert_int_equal(R->ctr[w->id][est_rule].pkts, n_est);
	/* [C, N]: C (a new entry, answered now) first; N evicts the oldest
	 * of the filling, not C */
	udp4_from(&g, 1, H2_IP, H1_IP, 9, 40000, 8);
	put(1, &g);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, FL_BURST), 1);
	assert_int_equal(t->st.early_drop, 2);
	udp4_from(&g, 0, H1_IP, H2_IP, 40000, 9, 8); /* C */
	put(0, &g);
	udp4_from(&g, 0, H1_IP, H2_IP, 40002, 9, 8); /* N' */
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, FL_BURST), 2);
	assert_int_equal(w->st.fast_est, est + 2); /* the answer, and C */
	assert_int_equal(t->st.early_drop, 3);
	assert_int_equal(t->st.new_, new_ + 3);
	assert_int_equal(R->ctr[w->id][est_rule].pkts, n_est + 2);
	dp->ct_clock = 0;
}

/* The same with NAT: outbound connections masqueraded behind wan0's
 * address, inbound ones to wan0's ports 8080 and 8053 forwarded to H1
 * (destination NAT: the lane routes them on their new destination). */
static void test_est_lane_nat(void **state)
{
	(void)state;
	static const char nat4[] =
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -i wan0 -p tcp --dport 8080 -j DNAT --to-destination 10.77.1.2:80\n"
		"-A PREROUTING -i wan0 -p udp --dport 8053 -j DNAT --to-destination 10.77.1.2:53\n"
		"-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n";
	static const char nat6[] =
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -i wan0 -p tcp --dport 8080 -j DNAT --to-destination [fd77:1::2]:80\n"
		"-A PREROUTING -i wan0 -p udp --dport 8053 -j DNAT --to-destination [fd77:1::2]:53\n"
		"-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n";
	static char r4[2048], r6[2048];
	snprintf(r4, sizeof(r4), "%s%s", nat4, el_rules4);
	snprintf(r6, sizeof(r6), "%s%s", nat6, el_rules6);
	el_differential(r4, r6, 0xabcdef, 1000, true, "", 0);
}

/* A SYN -m connlimit refused: its connection's entry, created for it and
 * never confirmed, is freed at the end of the worker's loop, not left to
 * its next packet -- other workers read this worker's connlimit counts,
 * which would count it meanwhile (an idle worker: for good). */
static void test_connlimit_refused_freed(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install("*filter\n:FORWARD ACCEPT [0:0]\n"
		"-A FORWARD -p tcp --syn -m connlimit --connlimit-above 1 -j REJECT "
		"--reject-with tcp-reset\nCOMMIT\n", NULL);
	struct frame g, o[4];
	tcp4_seg(&g, 0, H1_IP, H2_IP, 40001, 80, 0x02, 1000, 0, "");
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
	tcp4_seg(&g, 0, H1_IP, H2_IP, 40002, 80, 0x02, 1000, 0, "");
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, 4), 1); /* the reset */
	assert_int_equal(w->ct->pending, CT_NIL);
	assert_int_equal(w->ct->live, 1);
	const struct dp_rules *R = dp->rules;
	for (int i = 0; i < 300; i++) /* a whole sweep */
		ct_limit_gc(R->climit[w->id], w->ct, 16);
	uint8_t key[16] = { 0 };
	memcpy(key, H1_IP, 4);
	uint32_t n = 0;
	for (uint16_t match = 0; match < 4; match++) /* the rule's match id */
		n += ct_limit_peek(R->climit[w->id], match, 4, key, 0);
	assert_int_equal(n, 1);
}

/* -m connlimit counts per conntrack zone, as xt_connlimit (its key has the
 * zone id): a SYN in zone 3 is the first of its zone however many zone 0
 * has, and a third SYN in zone 0 is over the limit. */
static void test_connlimit_zones(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install("*raw\n:PREROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -p tcp --sport 40002 -j CT --zone 3\nCOMMIT\n"
		"*filter\n:FORWARD ACCEPT [0:0]\n"
		"-A FORWARD -p tcp --syn -m connlimit --connlimit-above 1 -j REJECT "
		"--reject-with tcp-reset\nCOMMIT\n", NULL);
	struct frame g, o[4];
	tcp4_seg(&g, 0, H1_IP, H2_IP, 40001, 80, 0x02, 1000, 0, "");
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
	tcp4_seg(&g, 0, H1_IP, H2_IP, 40002, 80, 0x02, 1000, 0, "");
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1); /* zone 3's first */
	assert_int_equal(w->ct->live, 2);
	tcp4_seg(&g, 0, H1_IP, H2_IP, 40003, 80, 0x02, 1000, 0, "");
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 0);
	assert_int_equal(take(0, o, 4), 1); /* zone 0's second: the reset */
	assert_int_equal(w->ct->live, 2);
}

/* CT --timeout: a connection the raw table gives a policy lives by its
 * timeouts (conntrack.timeout-policies), one beside it in the same burst
 * by the table's; the rule names a policy of the registry. */
static int tpol_setup(void **state)
{
	(void)state;
	char yaml[2048];
	snprintf(yaml, sizeof(yaml), "%sconntrack:\n  timeout-policies:\n"
		 "    dns: {protocol: udp, unreplied: 5, replied: 9}\n", router_yaml);
	struct rules_tpol p = { .name = "dns", .fams = RULES_F_V4 | RULES_F_V6, .proto = 17 };
	if (rules_timeout_policies(&p, 1) < 0)
		return -1;
	return dp_up(yaml);
}

static int tpol_down(void **state)
{
	rules_timeout_policies(NULL, 0);
	return dp_down(state);
}

/* the seconds entry dport's connection has left, -1 if none */
static int ct_left(uint16_t dport)
{
	const struct ct_table *t = w->ct;
	for (uint32_t i = 0; i < t->max; i++)
		if (t->e[i].fam == 4 && t->e[i].port[1] == dport)
			return (int)((int32_t)(t->e[i].expire - t->now) / CT_HZ);
	return -1;
}

static void test_ct_timeout_policy(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	char err[256];
	struct rules_ruleset *rs = rules_new();
	static const char bad[] = "*raw\n:PREROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -p tcp -j CT --timeout dns\nCOMMIT\n";
	assert_int_not_equal(rules_ipt_load(rs, RULES_F_V4, bad, strlen(bad), "ut", 0, err,
		sizeof(err)), 0);
	assert_non_null(strstr(err, "the policy is for udp"));
	static const char none[] = "*raw\n:PREROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -p udp -j CT --timeout nosuch\nCOMMIT\n";
	assert_int_not_equal(rules_ipt_load(rs, RULES_F_V4, none, strlen(none), "ut", 0, err,
		sizeof(err)), 0);
	assert_non_null(strstr(err, "no timeout policy \"nosuch\""));
	rules_free(rs);
	install("*raw\n:PREROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -p udp --dport 53 -j CT --timeout dns\nCOMMIT\n"
		"*filter\n:FORWARD ACCEPT [0:0]\n"
		"-A FORWARD -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n", NULL);
	struct frame f[3], o[4];
	udp4_from(&f[0], 0, H1_IP, H2_IP, 40000, 53, 8);
	udp4_from(&f[1], 0, H1_IP, H2_IP, 40001, 54, 8); /* after it in the burst */
	udp4_from(&f[2], 0, H1_IP, H2_IP, 40002, 53, 8);
	for (int i = 0; i < 3; i++)
		put(0, &f[i]);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 3);
	assert_true(ct_left(53) >= 4 && ct_left(53) <= 5);
	assert_true(ct_left(54) >= 29 && ct_left(54) <= 30);
	/* answered, then a ruleset that opens the established lane (no raw
	 * table): the connection keeps its policy's timeouts */
	udp4_from(&f[0], 1, H2_IP, H1_IP, 53, 40000, 8);
	put(1, &f[0]);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, 4), 1);
	install("*filter\n:FORWARD DROP [0:0]\n"
		"-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", NULL);
	udp4_from(&f[0], 0, H1_IP, H2_IP, 40000, 53, 8);
	udp4_from(&f[1], 0, H1_IP, H2_IP, 40001, 54, 8);
	put(0, &f[0]);
	put(0, &f[1]);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1); /* 54 was not answered: NEW, dropped */
	assert_true(ct_left(53) >= 4 && ct_left(53) <= 5);
}

/* Which rulesets open the established lane: chains on the forwarding path
 * empty with an ACCEPT policy, or whose first rule an established packet
 * matches accepts ESTABLISHED and says nothing else (before it, rules of
 * other states only); the raw table empty. */
static void test_est_lane_rules(void **state)
{
	(void)state;
	static const struct {
		const char *rules;
		bool open;
	} c[] = {
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", true },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m state --state NEW,ESTABLISHED -j ACCEPT\n-A FORWARD -j DROP\nCOMMIT\n",
		  true },
		{ "*mangle\n:PREROUTING ACCEPT [0:0]\n"
		  "-A PREROUTING -m state --state ESTABLISHED -j ACCEPT\n-A PREROUTING -j MARK "
		  "--set-mark 1\nCOMMIT\n*filter\n:FORWARD ACCEPT [0:0]\n"
		  "-A FORWARD -m state --state ESTABLISHED -j ACCEPT\nCOMMIT\n", true },
		{ "*filter\n:FORWARD DROP [0:0]\n" /* rules no established packet matches first */
		  "-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
		  "-A FORWARD -m state --state NEW,UNTRACKED -j LOG\n"
		  "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n", true },
		{ "*filter\n:FORWARD DROP [0:0]\n" /* an established packet may be DNAT too */
		  "-A FORWARD -m conntrack --ctstate DNAT -j DROP\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m conntrack ! --ctstate NEW -j LOG\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -p tcp -m conntrack --ctstate INVALID -j DROP\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED,INVALID -j LOG\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -p tcp -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -i lan0 -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m conntrack ! --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m conntrack --ctstate RELATED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m state --state NEW,RELATED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED --ctdir REPLY -j ACCEPT\nCOMMIT\n",
		  false },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m conntrack --ctstate ESTABLISHED -j DROP\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n" /* a comment is no match */
		  "-A FORWARD -m state --state ESTABLISHED -m comment --comment x -j ACCEPT\nCOMMIT\n",
		  true },
		{ "*filter\n:FORWARD DROP [0:0]\n"
		  "-A FORWARD -m state --state ESTABLISHED -m mark --mark 1 -j ACCEPT\nCOMMIT\n",
		  false },
		{ "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p udp -j ACCEPT\n"
		  "-A FORWARD -m state --state ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*raw\n:PREROUTING ACCEPT [0:0]\n"
		  "-A PREROUTING -m state --state ESTABLISHED -j ACCEPT\nCOMMIT\n", false },
		{ "*filter\n:FORWARD DROP [0:0]\n" /* NAT: the lane applies the bindings */
		  "-A FORWARD -m state --state ESTABLISHED -j ACCEPT\nCOMMIT\n"
		  "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n",
		  true },
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		install(c[i].rules, NULL);
		assert_true(dp->rules->ct);
		if (dp->rules->fast[0] != c[i].open)
			fail_msg("ruleset %u: the established lane %s", i,
				 c[i].open ? "closed" : "open");
		assert_true(dp->rules->fast[1]); /* IPv6 has no rules */
	}
}

/* The established lane's own cases, one by one: its packets counted by
 * the ESTABLISHED rules; an RST it forwards, then a SYN that reopens the
 * connection (ct_in's: a new entry, not the lane's); a segment out of the
 * window in the middle of a burst (the lane tracked it: the full path
 * drops it as INVALID, and forwards the rest). */
static void test_est_lane_cases(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install(el_rules4, el_rules6);
	el_nat = false;
	struct el_conn c = { .proto = IPPROTO_TCP, .cport = 30000 };
	struct frame f[4], out[4];
	uint64_t x = 99, ol;
	for (int k = 0; k < 3; k++) { /* the handshake: the full path (not ESTABLISHED yet) */
		el_frame(&f[0], &x, k % 2, &c, &ol, true);
		put(k % 2, &f[0]);
		dp_worker_poll(w);
		assert_int_equal(take(k % 2 ? 0 : 1, out, 4), 1);
	}
	assert_int_equal(c.st, 3);
	assert_int_equal(w->st.fast_est, 0);
	/* three segments, the last an RST: the lane forwards the data, the
	 * full path the RST (it closes the connection) */
	for (int i = 0; i < 3; i++) {
		el_frame(&f[i], &x, 0, &c, &ol, true);
		put(0, &f[i]);
	}
	f[2].b[14 + 20 + 13] = 0x14;
	fr_ip4_l4_csum(&f[2], 14, IPPROTO_TCP, 14 + 20, 16);
	/* put again: the ring holds copies */
	struct rte_mbuf *m;
	while (rte_ring_sc_dequeue(rxr[0], (void **)&m) == 0)
		rte_pktmbuf_free(m);
	for (int i = 0; i < 3; i++)
		put(0, &f[i]);
	dp_worker_poll(w);
	assert_int_equal(take(1, out, 4), 3);
	assert_memory_equal(out[2].b + 14 + 20, f[2].b + 14 + 20, 20); /* the RST */
	assert_int_equal(w->st.fast_est, 2);
	const struct dp_rules *R = dp->rules;
	/* mangle's and filter's ESTABLISHED rules counted them (and the
	 * SYN/ACK and ACK before) */
	uint32_t ctr[2] = { R->prog->f[0].rules[R->prog->f[0].chains[R->prog->f[0].hook_chain
				[RULES_H_FORWARD][RULES_T_MANGLE]].first].ctr,
			    R->prog->f[0].rules[R->prog->f[0].chains[R->prog->f[0].hook_chain
				[RULES_H_FORWARD][RULES_T_FILTER]].first].ctr };
	for (int j = 0; j < 2; j++)
		assert_int_equal(R->ctr[w->id][ctr[j]].pkts, 2 + 3);
	/* a SYN on the closed connection's tuple: a new connection */
	c.st = 0;
	el_frame(&f[0], &x, 0, &c, &ol, true);
	put(0, &f[0]);
	dp_worker_poll(w);
	assert_int_equal(take(1, out, 4), 1);
	assert_int_equal(w->st.fast_est, 2);
	assert_int_equal(w->ct->st.new_, 2);
	/* the handshake again, then: data, data out of the window (the lane
	 * tracks it and leaves it: INVALID), data (the same connection: left
	 * too, after it) */
	for (int k = 1; k < 3; k++) {
		el_frame(&f[0], &x, k % 2, &c, &ol, true);
		put(k % 2, &f[0]);
		dp_worker_poll(w);
		assert_int_equal(take(k % 2 ? 0 : 1, out, 4), 1);
	}
	for (int i = 0; i < 3; i++)
		el_frame(&f[i], &x, 0, &c, &ol, true);
	uint8_t *sq = f[1].b + 14 + 20 + 4; /* over the window's upper bound */
	sq[0] = (uint8_t)(sq[0] + 0x20);
	fr_ip4_l4_csum(&f[1], 14, IPPROTO_TCP, 14 + 20, 16);
	uint64_t inval = w->ct->st.invalid, dropped = drops(DP_DROP_FILTER_DROP);
	for (int i = 0; i < 3; i++)
		put(0, &f[i]);
	dp_worker_poll(w);
	assert_int_equal(take(1, out, 4), 2);
	assert_memory_equal(out[1].b + 14 + 20, f[2].b + 14 + 20, 20);
	assert_int_equal(w->st.fast_est, 2 + 1);
	assert_int_equal(w->ct->st.invalid, inval + 1);
	assert_int_equal(drops(DP_DROP_FILTER_DROP), dropped + 1);

	/* an FTP control connection a raw rule gave its helper (the lane
	 * closed); with the lane open again, its packets still go the full
	 * way: the helper reads the PORT command */
	install("*raw\n:PREROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n"
		"*filter\n:FORWARD DROP [0:0]\n"
		"-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n"
		"-A FORWARD -p tcp --dport 21 -j ACCEPT\nCOMMIT\n",
		el_rules6);
	assert_false(dp->rules->fast[0]);
	struct frame g;
	static const struct { int port; uint8_t flags; uint32_t seq, ack; } hs[3] = {
		{ 0, 0x02, 1000, 0 }, { 1, 0x12, 5000, 1001 }, { 0, 0x10, 1001, 5001 }
	};
	for (int k = 0; k < 3; k++) {
		int p = hs[k].port;
		tcp4_seg(&g, p, p ? H2_IP : H1_IP, p ? H1_IP : H2_IP, p ? 21 : 40000, p ? 40000 : 21,
			 hs[k].flags, hs[k].seq, hs[k].ack, "");
		put(p, &g);
		dp_worker_poll(w);
		assert_int_equal(take(!p, out, 4), 1);
	}
	install(el_rules4, el_rules6);
	assert_true(dp->rules->fast[0]);
	uint64_t est = w->st.fast_est;
	tcp4_seg(&g, 0, H1_IP, H2_IP, 40000, 21, 0x18, 1001, 5001, "USER a\r\n");
	put(0, &g);
	tcp4_seg(&g, 0, H1_IP, H2_IP, 40000, 21, 0x18, 1009, 5001, "PORT 10,77,1,2,195,80\r\n");
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, out, 4), 2);
	assert_int_equal(w->ct->st.expect_new, 1);
	assert_int_equal(w->st.fast_est, est);
}

static void mk_tcp4(struct frame *f, const uint8_t *eth_dst, const uint8_t *src, const uint8_t *dst,
		    uint16_t dport, uint8_t flags)
{
	f->n = 0;
	fr_eth(f, eth_dst, MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_TCP, 64, 0x4000, src, dst, NULL, 0);
	uint32_t l4 = fr_tcp(f, 40000, dport, flags, 5);
	fr_ip4_end(f, ip);
	fr_ip4_l4_csum(f, ip, IPPROTO_TCP, l4, 16);
}

static void mk_udp4_port(struct frame *f, const uint8_t *src, const uint8_t *dst, uint16_t dport)
{
	mk_udp4(f, port_mac(0), src, dst, 64, 0, 20);
	wr_be16(f->b + 14 + 20 + 2, dport);
	/* UDP checksum 0: none (IPv4) */
	wr_be16(f->b + 14 + 20 + 6, 0);
}

static const char filter_v4[] =
	"*filter\n"
	":INPUT ACCEPT [0:0]\n"
	":FORWARD DROP [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n"
	":allow - [0:0]\n"
	"-A INPUT -p icmp -m icmp --icmp-type 8 -j DROP\n"
	"-A FORWARD -i lan0 -o wan0 -j allow\n"
	"-A FORWARD -p udp -m udp --dport 54 -j REJECT --reject-with icmp-admin-prohibited\n"
	"-A FORWARD -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset\n"
	"-A allow -p udp -m udp --dport 55 -j LOG --log-prefix \"ut55 \"\n"
	"-A allow -p udp -m multiport --dports 53,55 -j ACCEPT\n"
	"COMMIT\n";

/* REJECT answers only about a packet the kernel would trust: a wrong
 * transport checksum, or the first fragment of a datagram (its checksum
 * covers the whole), gets no ICMP error and no reset (nf_send_unreach,
 * reject6_csum_ok, nf_reject_ip_tcphdr_get); the packet is rejected all
 * the same */
static void test_reject_csum(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install(filter_v4, NULL);
	/* UDP to 54 with a right checksum: answered */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 64, 0, H1_IP, H2_IP, NULL, 0);
	uint32_t l4 = fr_udp(&f, 4000, 54, 12);
	fr_ip4_end(&f, ip);
	fr_ip4_l4_csum(&f, ip, IPPROTO_UDP, l4, 6);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(out.b[14 + 20], 3);
	/* the same with its checksum off by one: rejected, not answered */
	f.b[l4 + 7] ^= 1;
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	/* the first fragment of a datagram: not answered */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	ip = fr_ip4(&f, IPPROTO_UDP, 64, 0x2000, H1_IP, H2_IP, NULL, 0);
	l4 = fr_udp(&f, 4000, 54, 12);
	wr_be16(f.b + l4 + 4, 1000); /* the datagram's UDP length */
	wr_be16(f.b + l4 + 6, 0x1234); /* the datagram's checksum */
	fr_ip4_end(&f, ip);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	/* TCP to 80 with a wrong checksum: no reset */
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 80, 0x02);
	f.b[14 + 20 + 16] ^= 0x40;
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_REJECT), 4);
	assert_int_equal(w->st.rejects_sent, 1);
}

static void test_filter_forward(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install(filter_v4, NULL);

	/* allowed through the user chain: forwarded, TTL decremented */
	mk_udp4_port(&f, H1_IP, H2_IP, 53);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out.b[14 + 8], 63);
	check_ip4_csum(out.b + 14);

	/* LOG then ACCEPT: the record is written on the control thread */
	mk_udp4_port(&f, H1_IP, H2_IP, 55);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	uint64_t logs = dp->logs_written;
	dp_ctl_poll(dp);
	assert_int_equal(dp->logs_written, logs + 1);

	/* not allowed: the policy drops */
	mk_udp4_port(&f, H1_IP, H2_IP, 56);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 1);

	/* wrong direction: wan0 -> lan0 does not reach "allow" */
	f.n = 0;
	fr_eth(&f, port_mac(1), MAC_H2, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 64, 0, H2_IP, H1_IP, NULL, 0);
	fr_udp(&f, 53, 53, 4);
	fr_ip4_end(&f, ip);
	put(1, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 2);

	/* REJECT with an ICMP error: administratively prohibited, from the box */
	mk_udp4_port(&f, H1_IP, H2_IP, 54);
	f.b[14 + 1] = 0; /* keep the header simple */
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	const uint8_t *oip = out.b + 14;
	check_ip4_csum(oip);
	assert_memory_equal(out.b, MAC_H1, 6);
	assert_memory_equal(oip + 12, LAN_IP, 4);
	assert_memory_equal(oip + 16, H1_IP, 4);
	assert_int_equal(oip[9], IPPROTO_ICMP);
	assert_int_equal(oip[20], 3);
	assert_int_equal(oip[21], 13);
	assert_int_equal(csum_fold(csum_add(0, oip + 20, rd_be16(oip + 2) - 20)), 0);
	/* the quoted header is the one FORWARD saw: TTL already decremented */
	assert_int_equal(oip[28 + 8], 63);
	assert_memory_equal(oip + 28 + 12, H1_IP, 4);
	assert_int_equal(drops(DP_DROP_FILTER_REJECT), 1);
	assert_int_equal(w->st.rejects_sent, 1);

	/* REJECT --reject-with tcp-reset: a RST|ACK from the destination */
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 80, 0x02);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	oip = out.b + 14;
	check_ip4_csum(oip);
	assert_int_equal(oip[9], IPPROTO_TCP);
	assert_memory_equal(oip + 12, H2_IP, 4);
	assert_memory_equal(oip + 16, H1_IP, 4);
	assert_int_equal(oip[20 + 13], 0x14);
	assert_int_equal(tcp4_csum(oip, oip + 20, 20), 0);

	/* INPUT: echo requests to the box are dropped, nothing answers */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	ip = fr_ip4(&f, IPPROTO_ICMP, 64, 0, H1_IP, LAN_IP, NULL, 0);
	fr_icmp4_csum(&f, fr_icmp(&f, 8, 0, 1, 1, 0));
	fr_ip4_end(&f, ip);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 3);

	/* counters, as iptables-save -c prints them */
	char *save = dp_rules_save(dp, RULES_F_V4, RULES_PRINT_COUNTERS);
	assert_non_null(save);
	if (!strstr(save, ":FORWARD DROP [2:80]") || !strstr(save, ":OUTPUT ACCEPT [2:116]") ||
	    !strstr(save, "[1:28] -A INPUT -p icmp -m icmp --icmp-type 8 -j DROP") ||
	    !strstr(save, "[2:96] -A allow -p udp -m multiport --dports 53,55 -j ACCEPT") ||
	    !strstr(save, "[5:232] -A FORWARD -i lan0 -o wan0 -j allow") ||
	    !strstr(save, "[1:48] -A allow -p udp -m udp --dport 55 -j LOG"))
		fail_msg("unexpected counters:\n%s", save);
	free(save);
}

/* the mangle table's built-in chains, empty, as a ruleset names them */
#define MANGLE_CHAINS                                                                       \
	"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"      \
	":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"

static const char stateful_v4[] =
	"*filter\n"
	":INPUT ACCEPT [0:0]\n"
	":FORWARD DROP [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n"
	"-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
	"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -i lan0 -o wan0 -m conntrack --ctstate NEW -j ACCEPT\n"
	"COMMIT\n";


/* Connection tracking in the pipeline: replies pass because they are
 * ESTABLISHED, what nobody asked for is dropped. */
static void test_conntrack_forward(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install(stateful_v4, NULL);
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out); /* NEW from the lan */
	udp4_from(&f, 1, H2_IP, H1_IP, 53, 5000, 30);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out); /* its reply: ESTABLISHED */
	udp4_from(&f, 1, H2_IP, H1_IP, 53, 5001, 30);
	put(1, &f);
	dp_worker_poll(w);
	expect_nothing(); /* NEW from the wan: the policy drops it */
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 1);
	assert_int_equal(w->ct->live, 1);
	assert_int_equal(w->ct->st.new_, 1);
	/* the dropped NEW packet left no connection behind */
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(w->ct->live, 1);
}

/* MASQUERADE in the pipeline: the source becomes wan0's address (the port
 * kept), the reply is translated back; when wan0's link goes down, the
 * masqueraded connection goes with it. */
/* The null binding (nf_nat_alloc_null_binding): a client reaching a
 * port forward's backend directly, from the port its forwarded connection
 * uses, gets another source port (the reply tuple is the forwarded one's)
 * and is forwarded, no clash; a second forward to the same backend port
 * from that port too; a protocol without ports (GRE) cannot move and is
 * dropped at confirm (conntrack_clash, not nat_fail). */
static void gre4_from(struct frame *f, int port, const uint8_t *src, const uint8_t *dst)
{
	f->n = 0;
	fr_eth(f, port_mac(port), port ? MAC_H2 : MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, 47, 64, 0, src, dst, NULL, 0);
	fr_u32(f, 0x00000800u); /* GRE: no flags, IPv4 */
	fr_ip4_end(f, ip);
}

static void test_nat_null_binding(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -i wan0 -p udp --dport 8053 -j DNAT --to-destination 10.77.1.2:53\n"
		"-A PREROUTING -i wan0 -p udp --dport 8054 -j DNAT --to-destination 10.77.1.2:53\n"
		"-A PREROUTING -i wan0 -p 47 -d 10.77.2.1 -j DNAT --to-destination 10.77.1.2\n"
		"COMMIT\n", NULL);
	const uint8_t *ip = out.b + 14;
	/* the forward */
	udp4_from(&f, 1, H2_IP, WAN_IP, 40000, 8053, 10);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_memory_equal(ip + 16, H1_IP, 4);
	assert_int_equal(rd_be16(ip + 20), 40000);
	assert_int_equal(rd_be16(ip + 22), 53);
	uint64_t changed = w->nst.port_changed;
	/* the backend directly, from the same port */
	udp4_from(&f, 1, H2_IP, H1_IP, 40000, 53, 10);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_ip4_csum(ip);
	assert_memory_equal(ip + 12, H2_IP, 4);
	uint16_t moved = rd_be16(ip + 20);
	assert_int_not_equal(moved, 40000);
	assert_true(moved >= 1024);
	assert_int_equal(w->nst.port_changed, changed + 1);
	/* its answer goes back to the port the client used */
	udp4_from(&f, 0, H1_IP, H2_IP, 53, moved, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(rd_be16(ip + 22), 40000);
	assert_memory_equal(ip + 12, H1_IP, 4);
	/* a second forward to the same backend port, from the same port */
	udp4_from(&f, 1, H2_IP, WAN_IP, 40000, 8054, 10);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_int_equal(rd_be16(ip + 22), 53);
	assert_int_not_equal(rd_be16(ip + 20), 40000);
	assert_int_not_equal(rd_be16(ip + 20), moved);
	assert_int_equal(dp_ct_count(dp), 3);
	assert_int_equal(w->st.port[1].drop[DP_DROP_CT_CLASH], 0);
	assert_int_equal(w->st.port[1].drop[DP_DROP_NAT_FAIL], 0);
	/* GRE: forwarded, then the backend directly: nothing to move */
	gre4_from(&f, 1, H2_IP, WAN_IP);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_memory_equal(ip + 16, H1_IP, 4);
	gre4_from(&f, 1, H2_IP, H1_IP);
	put(1, &f);
	dp_worker_poll(w);
	assert_int_equal(take(0, &out, 1), 0);
	assert_int_equal(w->st.port[1].drop[DP_DROP_CT_CLASH], 1);
	assert_int_equal(w->st.port[1].drop[DP_DROP_NAT_FAIL], 0);
	assert_int_equal(w->nst.alloc_fail, 0);
}

static void test_nat_masquerade(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
		NULL);
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	const uint8_t *ip = out.b + 14;
	check_ip4_csum(ip);
	assert_memory_equal(ip + 12, WAN_IP, 4);
	assert_memory_equal(ip + 16, H2_IP, 4);
	assert_int_equal(rd_be16(ip + 20), 5000);
	assert_int_equal(w->nst.bind_src, 1);
	udp4_from(&f, 1, H2_IP, WAN_IP, 53, 5000, 30);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_ip4_csum(ip);
	assert_memory_equal(ip + 12, H2_IP, 4);
	assert_memory_equal(ip + 16, H1_IP, 4);
	assert_int_equal(rd_be16(ip + 22), 5000);
	assert_int_equal(dp_ct_count(dp), 1);
	/* the link state is polled by the control loop */
	dp->link_next_tsc = 0;
	dp_ctl_poll(dp);
	assert_int_equal(rte_eth_dev_set_link_down(dp->ports[1].port_id), 0);
	dp->link_next_tsc = 0;
	dp_ctl_poll(dp);
	assert_int_equal(dp_ct_count(dp), 0);
	assert_int_equal(rte_eth_dev_set_link_up(dp->ports[1].port_id), 0);
	dp->link_next_tsc = 0;
	dp_ctl_poll(dp);
}

/* A TCP segment in from port (0: lan0, 1: wan0) with seq, ack, flags and
 * payload text; checksums right. */
static void tcp4_seg(struct frame *f, int port, const uint8_t *src, const uint8_t *dst,
	uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, const char *text)
{
	f->n = 0;
	fr_eth(f, port_mac(port), port ? MAC_H2 : MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_TCP, 64, 0x4000, src, dst, NULL, 0);
	uint32_t l4 = fr_tcp(f, sport, dport, flags, 5);
	wr_be16(f->b + l4 + 4, (uint16_t)(seq >> 16));
	wr_be16(f->b + l4 + 6, (uint16_t)seq);
	wr_be16(f->b + l4 + 8, (uint16_t)(ack >> 16));
	wr_be16(f->b + l4 + 10, (uint16_t)ack);
	for (const char *c = text; *c; c++)
		fr_u8(f, (uint8_t)*c);
	fr_ip4_end(f, ip);
	fr_ip4_l4_csum(f, ip, IPPROTO_TCP, l4, 16);
}

/* The forwarded segment's checksums, sequence and acknowledgement numbers
 * and payload. */
static void check_tcp4(const struct frame *out, uint32_t seq, uint32_t ack, const char *text)
{
	const uint8_t *ip = out->b + 14;
	uint32_t len = rd_be16(ip + 2);
	assert_int_equal(out->n, 14 + len);
	check_ip4_csum(ip);
	const uint8_t *th = ip + 20;
	assert_int_equal(tcp4_csum(ip, th, len - 20), 0);
	assert_int_equal((uint32_t)rd_be16(th + 4) << 16 | rd_be16(th + 6), seq);
	assert_int_equal((uint32_t)rd_be16(th + 8) << 16 | rd_be16(th + 10), ack);
	uint32_t doff = (uint32_t)(th[12] >> 4) * 4;
	assert_int_equal(len - 20 - doff, strlen(text));
	assert_memory_equal(th + doff, text, strlen(text));
}

/* Active FTP through SNAT to an address two characters longer
 * (nf_nat_ftp): the PORT command is rewritten in the pipeline (length,
 * IPv4 header, TCP checksum), the client's later segments move by 2, the
 * server's acknowledgements move back and are not INVALID, and the
 * server's data connection to the public address reaches the client. */
static void test_nat_ftp_port(void **state)
{
	(void)state;
	struct frame f, out;
	static const uint8_t PUB[4] = { 10, 77, 2, 100 };
	learn_h1();
	learn_h2();
	install("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n"
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j SNAT --to-source 10.77.2.100\n"
		"COMMIT\n"
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
		"-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
		"-A FORWARD -i lan0 -p tcp --dport 21 -j ACCEPT\nCOMMIT\n",
		NULL);
	tcp4_seg(&f, 0, H1_IP, H2_IP, 40000, 21, 0x02, 1000, 0, "");
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_memory_equal(out.b + 14 + 12, PUB, 4);
	tcp4_seg(&f, 1, H2_IP, PUB, 21, 40000, 0x12, 5000, 1001, "");
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	tcp4_seg(&f, 0, H1_IP, H2_IP, 40000, 21, 0x10, 1001, 5001, "");
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	tcp4_seg(&f, 0, H1_IP, H2_IP, 40000, 21, 0x18, 1001, 5001, "USER a\r\n");
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_tcp4(&out, 1001, 5001, "USER a\r\n");
	tcp4_seg(&f, 0, H1_IP, H2_IP, 40000, 21, 0x18, 1009, 5001, "PORT 10,77,1,2,195,80\r\n");
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_tcp4(&out, 1009, 5001, "PORT 10,77,2,100,195,80\r\n");
	tcp4_seg(&f, 0, H1_IP, H2_IP, 40000, 21, 0x18, 1031, 5001, "RETR x\r\n");
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_tcp4(&out, 1033, 5001, "RETR x\r\n");
	/* the server has everything up to 1041 in its numbering */
	tcp4_seg(&f, 1, H2_IP, PUB, 21, 40000, 0x10, 5001, 1041, "");
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_tcp4(&out, 5001, 1039, "");
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 0);
	/* the data connection from port 20 to the public address and the
	 * announced port reaches the client's own */
	tcp4_seg(&f, 1, H2_IP, PUB, 20, 195 * 256 + 80, 0x02, 9000, 0, "");
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_memory_equal(out.b + 14 + 16, H1_IP, 4);
	assert_int_equal(rd_be16(out.b + 14 + 22), 195 * 256 + 80);
	assert_int_equal(w->ct->st.help_mangled, 1);
}

/* The IPv4 UDP packet at ip (header checksum checked) goes src:sport ->
 * dst:dport. */
static void check_udp4(const uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint16_t sport,
		       uint16_t dport)
{
	check_ip4_csum(ip);
	assert_memory_equal(ip + 12, src, 4);
	assert_memory_equal(ip + 16, dst, 4);
	assert_int_equal(rd_be16(ip + 20), sport);
	assert_int_equal(rd_be16(ip + 22), dport);
}

/* TFTP through MASQUERADE (nf_nat_tftp): the read request leaves from
 * wan0's address; the server answers from another port to that address,
 * and the answer, expected by the helper, is translated back to the
 * client's own address and port (nf_nat_follow_master), RELATED, without a
 * rule of the nat table; the client's next packet leaves translated too. */
static void test_nat_tftp_follow(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A PREROUTING -p udp -m udp --dport 69 -j CT --helper tftp\nCOMMIT\n"
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n"
		"-A FORWARD -m conntrack --ctstate RELATED -m conntrack --ctstatus EXPECTED -j ACCEPT\n"
		"-A FORWARD -i lan0 -p udp -m udp --dport 69 -m conntrack --ctstate NEW -j ACCEPT\n"
		"COMMIT\n",
		NULL);
	static const uint8_t rrq[10] = { 0, 1, 'f', 0, 'o', 'c', 't', 'e', 't', 0 };
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 69, sizeof(rrq));
	memcpy(f.b + 14 + 20 + 8, rrq, sizeof(rrq));
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	const uint8_t *ip = out.b + 14;
	check_udp4(ip, WAN_IP, H2_IP, 5000, 69);
	assert_int_equal(w->ct->st.expect_new, 1);

	/* the answer, from port 3000 to the translated address and port */
	udp4_from(&f, 1, H2_IP, WAN_IP, 3000, 5000, 30);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	check_udp4(ip, H2_IP, H1_IP, 3000, 5000);
	assert_int_equal(w->ct->st.expect_match, 1);
	/* the client's acknowledgement: out from wan0's address and port */
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 3000, 4);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	check_udp4(ip, WAN_IP, H2_IP, 5000, 3000);
	assert_int_equal(dp_ct_count(dp), 2);
	/* a second answer from yet another port is nobody's (the
	 * expectation was used): addressed to the box, which has no such
	 * service, port unreachable */
	udp4_from(&f, 1, H2_IP, WAN_IP, 3001, 5000, 30);
	put(1, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(ip[9], IPPROTO_ICMP);
	assert_int_equal(ip[20], 3);
	assert_int_equal(ip[21], 3);
	assert_int_equal(dp_ct_count(dp), 3);
}

/* MASQUERADE takes the out port's address on the next hop's subnet (the
 * kernel's inet_select_addr), not just its first: wan0 has 10.77.2.1/24
 * and 10.88.0.1/24, 192.168.0.0/16 is routed via 10.88.0.254. */
static const char masq2_yaml[] =
	"mode: router\n"
	"workers: {main_lcore: 0, lcores: [1]}\n"
	"ports:\n"
	"  - name: lan0\n"
	"    device: net_ring_ut0\n"
	"    addresses: [10.77.1.1/24, \"fd77:1::1/64\"]\n"
	"  - name: wan0\n"
	"    device: net_ring_ut1\n"
	"    addresses: [10.77.2.1/24, 10.88.0.1/24, \"fd77:2::1/64\", \"fd88::1/64\"]\n"
	"routes:\n"
	"  - to: 192.168.0.0/16\n"
	"    via: 10.88.0.254\n"
	"  - to: \"2001:db8::/32\"\n"
	"    via: \"fd88::fe\"\n";

static int masq2_setup(void **state)
{
	(void)state;
	return dp_up(masq2_yaml);
}

static void test_masquerade_address(void **state)
{
	(void)state;
	struct frame f, f2, out;
	static const uint8_t gw[4] = { 10, 88, 0, 254 }, wan2[4] = { 10, 88, 0, 1 };
	static const uint8_t far[4] = { 192, 168, 7, 7 };
	learn_h1();
	learn_h2();
	install("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n",
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n");
	/* on-link destination: the address of that subnet */
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_memory_equal(out.b + 14 + 12, WAN_IP, 4);
	/* via the gateway on the second subnet: the second address */
	udp4_from(&f, 0, H1_IP, far, 5001, 53, 10);
	put(0, &f);
	round_trip();
	take_one(1, &out); /* the gateway's ARP request */
	assert_int_equal(rd_be16(out.b + 12), 0x0806);
	assert_memory_equal(out.b + 14 + 24, gw, 4);
	mk_arp(&f2, 2, port_mac(1), MAC_GW, gw, port_mac(1), wan2);
	put(1, &f2);
	round_trip();
	take_one(1, &out);
	assert_memory_equal(out.b + 14 + 12, wan2, 4);
	assert_memory_equal(out.b + 14 + 16, far, 4);
	/* IPv6: the on-link destination gets fd77:2::1, not the link-local
	 * address that ports also have */
	static const uint8_t wan6[16] = { 0xfd, 0x77, 0, 2, [15] = 1 };
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 30);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(rd_be16(out.b + 12), 0x86dd);
	assert_memory_equal(out.b + 14 + 8, wan6, 16);
}

/* Two workers, two queues per port, and a NIC modelled in this test: it
 * spreads what arrives by the Toeplitz hash of the packet (DPDK's own
 * rte_softrss, not the dataplane's code) over a 128-entry redirection
 * table, as port.c configures a real one (rampartd's symmetric key, queue
 * i mod 2). With the hash known to the dataplane (what port.c reads from
 * the NIC), the replies to 64 masqueraded connections arrive on the worker
 * that owns them: nothing is handed over. Without it, about half the
 * replies land on the other worker and go through the hand-off; every
 * reply is delivered either way. */
static const char nat2_yaml[] =
	"mode: router\n"
	"workers: {main_lcore: 0, lcores: [1, 2]}\n"
	"ports:\n"
	"  - name: lan0\n"
	"    device: net_ring_ut0\n"
	"    addresses: [10.77.1.1/24, \"fd77:1::1/64\"]\n"
	"  - name: wan0\n"
	"    device: net_ring_ut1\n"
	"    addresses: [10.77.2.1/24, \"fd77:2::1/64\"]\n"
	"mbufs: 2048\n"
	"conntrack: {max-entries: 8192, max-ipv6: 1024}\n";

static uint8_t nic_key[40];
static uint16_t nic_reta[128];

/* the queue the modelled NIC gives an IPv4 UDP frame */
static unsigned nic_queue(const struct frame *f)
{
	const uint8_t *ip = f->b + 14, *udp = ip + 20;
	uint32_t t[3] = { (uint32_t)rd_be16(ip + 12) << 16 | rd_be16(ip + 14),
			  (uint32_t)rd_be16(ip + 16) << 16 | rd_be16(ip + 18),
			  (uint32_t)rd_be16(udp) << 16 | rd_be16(udp + 2) };
	return nic_reta[rte_softrss(t, 3, nic_key) & 127];
}

static void nic_put(int port, const struct frame *f)
{
	put_ring(nic_queue(f) ? rxr1[port] : rxr[port], f);
}

/* one frame out of either tx queue of a port */
static bool nic_take(int port, struct frame *out)
{
	void *p;
	if (rte_ring_sc_dequeue(txr[port], &p) != 0 && rte_ring_sc_dequeue(txr1[port], &p) != 0)
		return false;
	struct rte_mbuf *m = p;
	out->n = rte_pktmbuf_pkt_len(m);
	memcpy(out->b, rte_pktmbuf_mtod(m, const void *), out->n);
	rte_pktmbuf_free(m);
	return true;
}

static void nat_two_workers(bool steer, uint64_t *handoffs, uint64_t *steered)
{
	n_q = 2;
	assert_int_equal(dp_up(nat2_yaml), 0);
	struct dp_worker *w1 = dp_worker_get(dp, 1);
	assert_non_null(w1);
	for (unsigned i = 0; i < 40; i += 2) {
		nic_key[i] = 0x6d;
		nic_key[i + 1] = 0x5a;
	}
	for (unsigned i = 0; i < 128; i++)
		nic_reta[i] = (uint16_t)(i % 2);
	if (steer)
		assert_int_equal(dp_port_rss_steer(dp, 1, nic_key, 40, nic_reta, 128,
						   RTE_ETH_RSS_NONFRAG_IPV4_UDP),
				 0);
	assert_null(dp->ports[0].nat_rss);
	learn_h1();
	learn_h2();
	install("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n",
		NULL);
	unsigned delivered = 0;
	for (unsigned c = 0; c < 64; c++) {
		struct frame f, out;
		uint16_t sp = (uint16_t)(33000 + c * 7);
		udp4_from(&f, 0, H1_IP, H2_IP, sp, 53, 10);
		nic_put(0, &f);
		for (int k = 0; k < 3; k++) {
			dp_worker_poll(w);
			dp_worker_poll(w1);
		}
		assert_true(nic_take(1, &out));
		const uint8_t *ip = out.b + 14;
		assert_memory_equal(ip + 12, WAN_IP, 4);
		uint16_t natp = rd_be16(ip + 20);
		udp4_from(&f, 1, H2_IP, WAN_IP, 53, natp, 30);
		nic_put(1, &f);
		for (int k = 0; k < 3; k++) {
			dp_worker_poll(w);
			dp_worker_poll(w1);
		}
		if (nic_take(0, &out)) {
			assert_memory_equal(out.b + 14 + 16, H1_IP, 4);
			assert_int_equal(rd_be16(out.b + 14 + 22), sp);
			delivered++;
		}
	}
	assert_int_equal(delivered, 64);
	*handoffs = w->st.handoff_out + w1->st.handoff_out;
	*steered = w->nst.rss_steered + w1->nst.rss_steered;
	assert_int_equal(w->nst.bind_src + w1->nst.bind_src, 64);
	assert_int_equal(w->nst.alloc_fail + w1->nst.alloc_fail, 0);
	assert_int_equal(dp_down((void **)1), 0);
}

/* The raw table's CT --timeout and --ctevents ride with a packet handed
 * to another worker (dp_mbuf_priv) and reach the connection the worker
 * that makes it creates: an answer-like datagram to the MASQUERADE
 * address whose ports name the worker that did not receive it. */
static void test_handoff_ct_template(void **state)
{
	(void)state;
	n_q = 2;
	char yaml[1024];
	snprintf(yaml, sizeof(yaml), "%.*sconntrack: {max-entries: 8192, max-ipv6: 1024, "
		 "timeout-policies: {dns: {protocol: udp, unreplied: 5}}}\n",
		 (int)(strstr(nat2_yaml, "conntrack:") - nat2_yaml), nat2_yaml);
	struct rules_tpol tp = { .name = "dns", .fams = RULES_F_V4 | RULES_F_V6, .proto = 17 };
	assert_int_equal(rules_timeout_policies(&tp, 1), 0);
	assert_int_equal(dp_up(yaml), 0);
	struct dp_worker *w1 = dp_worker_get(dp, 1);
	assert_non_null(w1);
	for (unsigned i = 0; i < 40; i += 2) {
		nic_key[i] = 0x6d;
		nic_key[i + 1] = 0x5a;
	}
	for (unsigned i = 0; i < 128; i++)
		nic_reta[i] = (uint16_t)(i % 2);
	learn_h1();
	learn_h2();
	install("*raw\n:PREROUTING ACCEPT [0:0]\n"
		"-A PREROUTING -i wan0 -p udp -j CT --timeout dns --ctevents destroy\nCOMMIT\n"
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n", NULL);
	/* a port whose owner (nat_owner) is not the queue the NIC picks */
	struct frame f;
	uint16_t port = 0;
	for (uint16_t p = 40000; p < 40100 && port == 0; p++) {
		udp4_from(&f, 1, H2_IP, WAN_IP, 53, p, 10);
		if (nic_queue(&f) != (unsigned)((53 + p) % 2))
			port = p;
	}
	assert_int_not_equal(port, 0);
	udp4_from(&f, 1, H2_IP, WAN_IP, 53, port, 10);
	nic_put(1, &f);
	for (int k = 0; k < 6; k++) {
		dp_worker_poll(w);
		dp_worker_poll(w1);
	}
	assert_true(w->st.handoff_out + w1->st.handoff_out > 0);
	struct frame out;
	while (nic_take(0, &out) || nic_take(1, &out))
		;
	unsigned found = 0;
	struct dp_worker *ws[2] = { w, w1 };
	for (int i = 0; i < 2; i++) {
		const struct ct_table *t = ws[i]->ct;
		for (uint32_t j = 0; j < t->max; j++)
			if (t->e[j].fam == 4 && t->e[j].proto == 17 && t->e[j].port[1] == port) {
				found++;
				assert_non_null(t->tp);
				assert_non_null(t->em);
				assert_int_equal(t->tp[j], 1);
				assert_int_equal(t->em[j], CT_IPCT_DESTROY);
				assert_true((int32_t)(t->e[j].expire - t->now) <= (int32_t)(5 * CT_HZ));
			}
	}
	assert_int_equal(found, 1);
	rules_timeout_policies(NULL, 0);
	assert_int_equal(dp_down((void **)1), 0);
}

/* a failed assertion leaves the dataplane up */
static int dp_down_if_up(void **state)
{
	return dp != NULL ? dp_down(state) : 0;
}

static void test_nat_rss_steering(void **state)
{
	(void)state;
	uint64_t ho, st;
	nat_two_workers(true, &ho, &st);
	assert_int_equal(st, 64);
	assert_int_equal(ho, 0);
	nat_two_workers(false, &ho, &st);
	assert_int_equal(st, 0);
	assert_true(ho > 0);
}

/* The Prometheus exposition: families with HELP and TYPE, label values
 * escaped, a rule's counter summed over the workers. */
static void test_metrics_exposition(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp -m comment --comment \"a \\\"quoted\\\" one\" -j ACCEPT\nCOMMIT\n",
		NULL);
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	assert_non_null(o);
	struct dp_metrics_info info = { .version = "9.9\"x", .reload_ok = true, .reload_time = 42 };
	dp_metrics_write(dp, o, &info);
	fclose(o);
	assert_non_null(strstr(buf, "# TYPE rampart_rule_packets_total counter\n"));
	assert_non_null(strstr(buf, "rampart_build_info{version=\"9.9\\\"x\"} 1\n"));
	assert_non_null(strstr(buf, "rampart_rule_packets_total{family=\"ipv4\",table=\"filter\","
				    "chain=\"FORWARD\",position=\"1\",comment=\"a \\\"quoted\\\" one\"} 1\n"));
	assert_non_null(strstr(buf, "rampart_rule_bytes_total{family=\"ipv4\",table=\"filter\","
				    "chain=\"FORWARD\",position=\"1\","));
	assert_non_null(strstr(buf, "rampart_port_rx_packets_total{port=\"lan0\"} "));
	assert_non_null(strstr(buf, "rampart_ruleset_last_reload_timestamp_seconds 42\n"));
	/* every sample line belongs to a family declared before it */
	char *save = NULL;
	char declared[64][80];
	unsigned nd = 0;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_true(nd < 64);
			snprintf(declared[nd++], sizeof(declared[0]), "%.*s", (int)strcspn(line + 7, " "),
				 line + 7);
			continue;
		}
		if (line[0] == '#')
			continue;
		size_t n = strcspn(line, "{ ");
		bool ok = false;
		for (unsigned i = 0; i < nd && !ok; i++)
			ok = strlen(declared[i]) == n && strncmp(declared[i], line, n) == 0;
		if (!ok)
			fail_msg("sample of an undeclared family: %s", line);
	}
	free(buf);
}

/* A 2028-byte UDP datagram from H1 to H2 in frame whole (Ethernet dst
 * eth_dst) and its two fragments (1480 payload bytes, then the rest). */
static void mk_frags(struct frame *whole, struct frame frag[2], const uint8_t *eth_dst)
{
	whole->n = 0;
	fr_eth(whole, eth_dst, MAC_H1, 0x0800);
	uint32_t wi = fr_ip4(whole, IPPROTO_UDP, 64, 0, H1_IP, H2_IP, NULL, 0);
	fr_udp(whole, 6000, 7000, 2000);
	fr_ip4_end(whole, wi);
	const uint8_t *wip = whole->b + 14;
	unsigned total = rd_be16(wip + 2), first = 1480;
	for (int i = 0; i < 2; i++) {
		unsigned off = i ? first : 0, len = i ? total - 20 - first : first;
		struct frame *g = &frag[i];
		g->n = 0;
		fr_eth(g, eth_dst, MAC_H1, 0x0800);
		uint32_t ip = fr_ip4(g, IPPROTO_UDP, 64, (uint16_t)((i ? 0 : 0x2000) | off / 8), H1_IP,
				     H2_IP, NULL, 0);
		fr_put(g, wip + 20 + off, len);
		fr_ip4_end(g, ip);
	}
}

/* A fragmented datagram is reassembled before tracking (the rules see it
 * whole, NEW) and leaves as fragments again, byte for byte the same
 * datagram; a lone fragment waits. */
static void test_conntrack_reassembly(void **state)
{
	(void)state;
	struct frame whole, frag[2], out[4];
	learn_h1();
	learn_h2();
	install(stateful_v4, NULL);
	mk_frags(&whole, frag, port_mac(0));
	const uint8_t *wip = whole.b + 14;
	unsigned total = rd_be16(wip + 2);
	/* the second fragment first: held */
	put(0, &frag[1]);
	dp_worker_poll(w);
	expect_nothing();
	put(0, &frag[0]);
	dp_worker_poll(w);
	unsigned n = take(1, out, 4);
	assert_int_equal(n, 2);
	assert_int_equal(w->st.reassembled, 1);
	assert_int_equal(w->st.fragmented, 1);
	assert_int_equal(w->ct->live, 1); /* tracked as one NEW UDP connection */
	unsigned got = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *ip = out[i].b + 14;
		check_ip4_csum(ip);
		assert_int_equal(ip[8], 63);
		uint16_t fo = rd_be16(ip + 6);
		unsigned len = rd_be16(ip + 2) - 20;
		assert_int_equal((fo & 0x1fff) * 8u, got);
		assert_int_equal((fo & 0x2000) != 0, i == 0);
		assert_memory_equal(ip + 20, wip + 20 + got, len);
		got += len;
	}
	assert_int_equal(got, total - 20);
	/* the datagram's connection is the real one: its reply is ESTABLISHED */
	udp4_from(&whole, 1, H2_IP, H1_IP, 7000, 6000, 30);
	put(1, &whole);
	dp_worker_poll(w);
	take_one(0, &out[0]);
	assert_int_equal(w->ct->live, 1);
	/* and the original direction finds it too (indexed under the whole
	 * datagram's tuple, not the fragment's) */
	udp4_from(&whole, 0, H1_IP, H2_IP, 6000, 7000, 30);
	put(0, &whole);
	dp_worker_poll(w);
	take_one(1, &out[0]);
	assert_int_equal(w->ct->live, 1);
	assert_int_equal(w->ct->st.new_, 1);
	/* a lone first fragment stays in the table; nothing goes out */
	put(0, &frag[0]);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(w->st.reassembled, 1);
}

/* -j TEE of a reassembled datagram (2 028 bytes, fragments of 1 500 without
 * DF): the copy is fragmented again, as the original, and its fragments
 * do not have the DF the copy itself got (only a datagram whose
 * fragments had DF keeps it) */
static void test_tee_reassembled(void **state)
{
	(void)state;
	struct frame whole, frag[2], out[4];
	learn_h1();
	learn_h2();
	char rules[1024];
	snprintf(rules, sizeof(rules), "%s-A FORWARD -j TEE --gateway 10.77.1.2\nCOMMIT\n%s",
		 MANGLE_CHAINS, stateful_v4);
	install(rules, NULL);
	mk_frags(&whole, frag, port_mac(0));
	put(0, &frag[0]);
	put(0, &frag[1]);
	dp_worker_poll(w);
	assert_int_equal(w->st.reassembled, 1);
	assert_int_equal(w->st.tee_sent, 1);
	assert_int_equal(take(1, out, 4), 2); /* the original, in two */
	unsigned n = take(0, out, 4);
	assert_int_equal(n, 2); /* the copy, in two */
	unsigned got = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *ip = out[i].b + 14;
		assert_memory_equal(out[i].b, MAC_H1, 6);
		check_ip4_csum(ip);
		assert_int_equal(ip[8], 63);
		uint16_t fo = rd_be16(ip + 6);
		assert_int_equal(fo & 0x4000, 0);
		assert_int_equal((fo & 0x1fff) * 8u, got);
		got += rd_be16(ip + 2) - 20u;
	}
	assert_int_equal(got, rd_be16(whole.b + 14 + 2) - 20u);
}

/* Bridge mode: fragments are reassembled for tracking too, and leave as
 * fragments with their own Ethernet header. */
static void test_conntrack_bridge_reassembly(void **state)
{
	(void)state;
	struct frame whole, frag[2], out[4];
	install(stateful_v4, NULL);
	mk_frags(&whole, frag, MAC_H2);
	const uint8_t *wip = whole.b + 14;
	unsigned total = rd_be16(wip + 2);
	put(0, &frag[0]);
	dp_worker_poll(w);
	expect_nothing();
	put(0, &frag[1]);
	dp_worker_poll(w);
	unsigned n = take(1, out, 4);
	assert_int_equal(n, 2);
	assert_int_equal(w->st.reassembled, 1);
	unsigned got = 0;
	for (unsigned i = 0; i < n; i++) {
		assert_memory_equal(out[i].b, whole.b, 14); /* the frame's own MACs */
		const uint8_t *ip = out[i].b + 14;
		check_ip4_csum(ip);
		assert_int_equal(ip[8], 64); /* a bridge does not touch the TTL */
		unsigned len = rd_be16(ip + 2) - 20;
		assert_int_equal((rd_be16(ip + 6) & 0x1fff) * 8u, got);
		assert_memory_equal(ip + 20, wip + 20 + got, len);
		got += len;
	}
	assert_int_equal(got, total - 20);
	assert_int_equal(w->ct->live, 1);
	/* the peer port's MTU below the largest fragment: dropped (a bridge
	 * sends no ICMP), as br_netfilter */
	dp->ports[1].mtu = 1000;
	uint64_t mtu0 = drops(DP_DROP_MTU_EXCEEDED);
	put(0, &frag[0]);
	put(0, &frag[1]);
	dp_worker_poll(w);
	dp->ports[1].mtu = 1500;
	expect_nothing();
	assert_int_equal(drops(DP_DROP_MTU_EXCEEDED), mtu0 + 1);
	assert_int_equal(w->st.reassembled, 2);
}

static const char stateful_v6[] =
	"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	"-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
	"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -i lan0 -o wan0 -p udp -m conntrack --ctstate NEW -j ACCEPT\n"
	"COMMIT\n";

/* One packet in on lan0: true if it went out wan0. */
static bool crosses(const struct frame *f)
{
	struct frame out[2];
	put(0, f);
	dp_worker_poll(w);
	unsigned n = take(1, out, 2);
	assert_true(n <= 1);
	expect_nothing();
	return n == 1;
}

/* nf_conntrack_checksum: with the ring PMD (no receive checksum offload)
 * TCP and UDP checksums are checked in software, ICMP's always; a bad
 * one makes the packet INVALID (the first rule drops it), a good one or
 * a UDP checksum of 0 passes; a port with rx_checksum: trust skips TCP and
 * UDP (not ICMP). The NIC's verdict, when it gives one, is taken as is. */
static void test_conntrack_checksum(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install(stateful_v4, stateful_v6);
	assert_true(dp->ports[0].sw_l4_csum);
	struct frame f;
	uint64_t inv0 = w->ct->st.invalid;

	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 80, 0x02);
	assert_true(crosses(&f));
	f.b[14 + 20 + 17] ^= 0x01; /* the checksum */
	assert_false(crosses(&f));
	assert_int_equal(w->ct->st.invalid, inv0 + 1);

	/* UDP: a good checksum, none (0), a bad one */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 20);
	fr_ip4_l4_csum(&f, 14, IPPROTO_UDP, 14 + 20, 6);
	assert_true(crosses(&f));
	wr_be16(f.b + 14 + 20 + 6, 0);
	assert_true(crosses(&f));
	wr_be16(f.b + 14 + 20 + 6, 0x1234);
	assert_false(crosses(&f));
	assert_int_equal(w->ct->st.invalid, inv0 + 2);
	/* IPv6 (its pseudo-header) */
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 20);
	assert_true(crosses(&f));
	f.b[f.n - 1] ^= 0x40; /* the payload, not the checksum */
	assert_false(crosses(&f));
	assert_int_equal(w->ct->st.invalid, inv0 + 3);

	/* ICMP echo, good and bad */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_ICMP, 64, 0, H1_IP, H2_IP, NULL, 0);
	uint32_t l4 = fr_icmp(&f, 8, 0, 77, 1, 16);
	fr_ip4_end(&f, ip);
	fr_icmp4_csum(&f, l4);
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
		"-A FORWARD -i lan0 -o wan0 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT\n"
		"COMMIT\n", stateful_v6);
	assert_true(crosses(&f));
	f.b[l4 + 8] ^= 0x01; /* the id */
	assert_false(crosses(&f));
	uint64_t inv1 = w->ct->st.invalid;

	/* rx_checksum: trust: TCP and UDP pass unchecked, ICMP is still read */
	dp->ports[0].sw_l4_csum = false;
	assert_false(crosses(&f));
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 81, 0x02);
	f.b[14 + 20 + 17] ^= 0x01;
	assert_true(crosses(&f));
	/* a NIC that said good is believed, one that said bad too */
	dp->ports[0].sw_l4_csum = true;
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 82, 0x02);
	f.b[14 + 20 + 17] ^= 0x01;
	put_flags(0, &f, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	dp_worker_poll(w);
	struct frame out[2];
	assert_int_equal(take(1, out, 2), 1);
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 83, 0x02);
	put_flags(0, &f, RTE_MBUF_F_RX_L4_CKSUM_BAD);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(w->ct->st.invalid, inv1 + 2);
}

/* The payload of a large datagram, byte i = f(i), UDP header first. */
static uint8_t big_payload[24000];

static void mk_big_payload(unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		big_payload[i] = (uint8_t)(i * 7 + i / 251);
	/* UDP 6000 -> 7000, length, no checksum */
	wr_be16(big_payload, 6000);
	wr_be16(big_payload + 2, 7000);
	wr_be16(big_payload + 4, (uint16_t)len);
	wr_be16(big_payload + 6, 0);
}

/* The fragments that left by port 1 put back together: each fragment's
 * payload at its offset, checked against big_payload; returns how many.
 * IPv6: hbh says the fragments carry a Hop-by-Hop header in front of the
 * fragment header; unfrag_extra bytes of a destination options header lead
 * the fragmentable part; every fragment has the identification of the
 * first, returned in *id. */
static unsigned check_refragmented(unsigned total, bool v6, bool hbh, unsigned unfrag_extra,
				   unsigned max_ip_len, uint32_t *id)
{
	static struct frame out[200];
	unsigned n = take(1, out, 200);
	unsigned got = 0;
	for (unsigned i = 0; i < n && i < 200; i++) {
		const uint8_t *ip = out[i].b + 14;
		unsigned iplen, off, hdr;
		bool more;
		if (!v6) {
			check_ip4_csum(ip);
			iplen = rd_be16(ip + 2);
			hdr = (ip[0] & 15u) * 4;
			off = (rd_be16(ip + 6) & 0x1fffu) * 8;
			more = rd_be16(ip + 6) & 0x2000;
		} else {
			iplen = 40u + rd_be16(ip + 4);
			unsigned fo = 40;
			if (hbh) { /* the Hop-by-Hop header stays in front */
				assert_int_equal(ip[6], 0);
				assert_int_equal(ip[40], 44);
				fo = 48;
			} else {
				assert_int_equal(ip[6], 44);
			}
			const uint8_t *fh = ip + fo;
			hdr = fo + 8;
			off = rd_be16(fh + 2) & ~7u;
			more = rd_be16(fh + 2) & 1;
			uint32_t fid = (uint32_t)rd_be16(fh + 4) << 16 | rd_be16(fh + 6);
			if (i == 0)
				*id = fid;
			assert_int_equal(fid, *id);
		}
		assert_true(iplen <= max_ip_len);
		assert_int_equal(more, i + 1 < n);
		assert_int_equal(off, got);
		unsigned len = iplen - hdr;
		/* IPv6: the options header that was in front of the fragment
		 * header now heads the fragmentable part */
		unsigned skip = off < unfrag_extra ? unfrag_extra - off : 0;
		if (skip)
			assert_int_equal(ip[hdr], IPPROTO_UDP); /* its next header */
		assert_memory_equal(ip + hdr + skip, big_payload + off + skip - unfrag_extra,
				    len - skip);
		got += len;
	}
	assert_int_equal(got, total + unfrag_extra);
	return n;
}

/* Fragment k of a datagram (IPv4) cut into fl-byte pieces from big_payload. */
static void frag4_of(struct frame *f, unsigned k, unsigned fl, unsigned total, uint16_t flags)
{
	unsigned nf = (total + fl - 1) / fl, off = k * fl, len = k + 1 < nf ? fl : total - off;
	f->n = 0;
	fr_eth(f, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, IPPROTO_UDP, 64, (uint16_t)(flags | (k + 1 < nf ? 0x2000 : 0) | off / 8),
			     H1_IP, H2_IP, NULL, 0);
	fr_put(f, big_payload + off, len);
	fr_ip4_end(f, ip);
}

/* More fragments than DPDK's table takes (8): a 20 000-byte UDP datagram in
 * 20 fragments of 1 000 bytes, out of order, one sent twice. It is
 * reassembled (one NEW connection), the duplicate dropped and counted, and
 * it leaves in fragments no larger than the largest that came (the
 * kernel's frag_max_size), not in the 1 500-byte MTU. With DF, a datagram
 * whose fragments do not fit the port gets "fragmentation needed"; without,
 * it leaves in pieces that fit. A datagram malformed as a whole (its UDP
 * length past its end) is dropped as such. */
static void test_conntrack_reassembly_many(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install(stateful_v4, NULL);
	const unsigned total = 20000, fl = 1000, nf = total / fl;
	mk_big_payload(total);
	static const unsigned order[] = { 3,  0,  1,  2,  19, 4,  5,  6,  7,  8, 9,
					  10, 11, 12, 13, 14, 15, 16, 17, 18 };
	struct frame f, out;
	for (unsigned i = 0; i < nf; i++) {
		frag4_of(&f, order[i], fl, total, 0);
		put(0, &f);
		if (i == 6)
			put(0, &f); /* a duplicate */
		dp_worker_poll(w);
		if (i + 1 < nf)
			expect_nothing();
	}
	assert_int_equal(w->st.reassembled, 1);
	assert_int_equal(drops(DP_DROP_FRAG_INVALID), 1);
	assert_int_equal(w->ct->live, 1);
	assert_int_equal(check_refragmented(total, false, false, 0, 20 + fl, NULL), nf);
	assert_int_equal(reasm_held_frags(w->reasm), 0);
	assert_int_equal(reasm_stats(w->reasm)->dup, 1);
	/* in the metrics, as the kernel's Reasm* counters */
	char *buf = NULL;
	size_t blen = 0;
	FILE *o = open_memstream(&buf, &blen);
	assert_non_null(o);
	struct dp_metrics_info info = { .version = "ut" };
	dp_metrics_write(dp, o, &info);
	fclose(o);
	assert_non_null(strstr(buf, "rampart_reasm_discarded_total{worker=\"0\",reason=\"dup\"} 1\n"));
	assert_non_null(strstr(buf, "rampart_reasm_pending_datagrams{worker=\"0\"} 0\n"));
	free(buf);

	/* DF on every fragment, which fit the port: the datagram keeps DF and
	 * leaves as fragments that have it again (DPDK's fragmenter refuses
	 * DF: cleared for it, then set on each) */
	mk_big_payload(3000);
	for (unsigned k = 0; k < 3; k++) {
		frag4_of(&f, k, fl, 3000, 0x4000);
		put(0, &f);
		dp_worker_poll(w);
	}
	struct frame df_out[4];
	assert_int_equal(take(1, df_out, 4), 3);
	for (unsigned i = 0; i < 3; i++) {
		check_ip4_csum(df_out[i].b + 14);
		assert_true(rd_be16(df_out[i].b + 14 + 6) & 0x4000);
		assert_int_equal(rd_be16(df_out[i].b + 14 + 6) & 0x1fff, i * fl / 8);
	}

	/* ECN: ECT(0) fragments, one marked CE on the way: the datagram, and
	 * so every fragment that leaves, is CE (ip_frag_ecn_table) */
	for (unsigned k = 0; k < 3; k++) {
		frag4_of(&f, k, fl, 3000, 0);
		f.b[14 + 1] = k == 1 ? 3 : 2;
		fr_ip4_csum(&f, 14);
		put(0, &f);
		dp_worker_poll(w);
	}
	assert_int_equal(take(1, df_out, 4), 3);
	for (unsigned i = 0; i < 3; i++) {
		check_ip4_csum(df_out[i].b + 14);
		assert_int_equal(df_out[i].b[14 + 1] & 3, 3);
	}

	/* the port's MTU below the fragments (1 020 bytes): with DF on every
	 * fragment (kept on the datagram), fragmentation needed */
	dp->ports[1].mtu = 1000;
	mk_big_payload(3000);
	for (unsigned k = 0; k < 3; k++) {
		frag4_of(&f, k, fl, 3000, 0x4000);
		put(0, &f);
		dp_worker_poll(w);
	}
	take_one(0, &out);
	const uint8_t *icmp = out.b + 14 + 20;
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 4);
	assert_int_equal(rd_be16(icmp + 6), 1000);
	expect_nothing();
	/* without DF: out in pieces of at most 1 000 bytes */
	for (unsigned k = 0; k < 3; k++) {
		frag4_of(&f, k, fl, 3000, 0);
		put(0, &f);
		dp_worker_poll(w);
	}
	assert_int_equal(check_refragmented(3000, false, false, 0, 1000, NULL), 4);
	dp->ports[1].mtu = 1500;

	/* a UDP length longer than the datagram: dropped whole */
	wr_be16(big_payload + 4, 3100);
	uint64_t short0 = drops(DP_DROP_SHORT_UDP);
	for (unsigned k = 0; k < 3; k++) {
		frag4_of(&f, k, fl, 3000, 0);
		put(0, &f);
		dp_worker_poll(w);
	}
	expect_nothing();
	assert_int_equal(drops(DP_DROP_SHORT_UDP), short0 + 1);
	assert_int_equal(w->st.reassembled, 6);
}

/* IPv6 fragments of 1 232 bytes of a 5 000-byte UDP datagram, identification
 * id, sent last first, behind a header ext (60: destination options,
 * fragmentable, so it leads the fragmentable part once reassembled; 0:
 * Hop-by-Hop, unfragmentable, so every fragment carries it); the second
 * fragment overlaps the first by 8 bytes when overlap. */
static void send_frags6(uint8_t ext, uint32_t id, bool overlap)
{
	const unsigned total = 5000, fl = 1232, nf = (total + fl - 1) / fl;
	struct frame f;
	for (unsigned k = nf; k-- > 0;) {
		unsigned off = k * fl, len = k + 1 < nf ? fl : total - off;
		f.n = 0;
		fr_eth(&f, port_mac(0), MAC_H1, 0x86dd);
		uint32_t ip = fr_ip6(&f, ext, 64, H1_IP6, H2_IP6);
		fr_ip6_opts(&f, 44, 0);
		fr_u8(&f, IPPROTO_UDP);
		fr_u8(&f, 0);
		unsigned o = overlap && k == 1 ? off - 8 : off;
		fr_u16(&f, (uint16_t)(o | (k + 1 < nf)));
		fr_u32(&f, id);
		fr_put(&f, big_payload + off, len);
		fr_ip6_end(&f, ip);
		put(0, &f);
		dp_worker_poll(w);
		if (k)
			expect_nothing();
	}
}

/* IPv6: reassembled behind a destination options header or a Hop-by-Hop
 * header (the header before the fragment header takes its next header),
 * one NEW connection, out again in pieces no larger than the largest that
 * came, with a fresh identification and the Hop-by-Hop header in every
 * fragment (DPDK's fragmenter would move it behind the fragment header,
 * and give identification 0). An overlapping fragment discards a
 * datagram. A port whose MTU is below the largest fragment: Packet Too Big,
 * as the kernel (routers do not fragment IPv6). */
static void test_conntrack_reassembly6(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install(stateful_v4, stateful_v6);
	const unsigned total = 5000, fl = 1232;
	mk_big_payload(total);
	send_frags6(60, 0xabc0, false);
	assert_int_equal(w->st.reassembled, 1);
	assert_int_equal(w->ct->live, 1);
	uint32_t id1, id2;
	unsigned n = check_refragmented(total, true, false, 8, 40 + 8 + 8 + fl, &id1);
	assert_int_equal(n, (total + 8 + 1239) / 1240);

	send_frags6(0, 0x12345678, false);
	assert_int_equal(w->st.reassembled, 2);
	/* 56 bytes of headers in every fragment: 1 232 bytes of payload each */
	n = check_refragmented(total, true, true, 0, 40 + 8 + 8 + fl, &id2);
	assert_int_equal(n, (total + 1231) / 1232);
	assert_true(id1 != id2); /* a fresh identification per datagram */

	send_frags6(60, 0xabc1, true);
	expect_nothing();
	assert_int_equal(w->st.reassembled, 2);
	assert_int_equal(reasm_stats(w->reasm)->overlap, 1);
	assert_int_equal(drops(DP_DROP_FRAG_INVALID), 1);
	assert_int_equal(reasm_held_dgrams(w->reasm), 0);

	dp->ports[1].mtu = 1280;
	send_frags6(60, 0xabc2, false);
	dp->ports[1].mtu = 1500;
	struct frame out;
	take_one(0, &out);
	const uint8_t *ip6 = out.b + 14;
	assert_int_equal(ip6[6], IPPROTO_ICMPV6);
	assert_int_equal(ip6[40], 2); /* Packet Too Big */
	assert_int_equal((uint32_t)rd_be16(ip6 + 44) << 16 | rd_be16(ip6 + 46), 1280);
	expect_nothing();
	assert_int_equal(w->st.reassembled, 3);
}

static void test_filter_mangle(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install(MANGLE_CHAINS
		"-A PREROUTING -p udp -m udp --dport 53 -j MARK --set-xmark 0x5/0xffffffff\n"
		"-A FORWARD -p udp -m udp --dport 54 -j TOS --set-tos 0x10/0x3f\n"
		"-A POSTROUTING -p udp -m udp --dport 55 -j TTL --ttl-set 7\n"
		"COMMIT\n"
		"*filter\n"
		":INPUT ACCEPT [0:0]\n"
		":FORWARD ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -m mark --mark 0x5 -j DROP\n"
		"-A OUTPUT -p icmp -m icmp --icmp-type 0 -j DROP\n"
		"COMMIT\n",
		NULL);
	/* the mark set in PREROUTING is seen by FORWARD */
	mk_udp4_port(&f, H1_IP, H2_IP, 53);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 1);
	/* TOS rewritten, checksum still right */
	mk_udp4_port(&f, H1_IP, H2_IP, 54);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out.b[14 + 1] & 0x3f, 0x10);
	check_ip4_csum(out.b + 14);
	/* TTL set in POSTROUTING */
	mk_udp4_port(&f, H1_IP, H2_IP, 55);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out.b[14 + 8], 7);
	check_ip4_csum(out.b + 14);
	/* OUTPUT sees the box's own echo reply */
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_ICMP, 64, 0, H1_IP, LAN_IP, NULL, 0);
	fr_icmp4_csum(&f, fr_icmp(&f, 8, 0, 1, 1, 0));
	fr_ip4_end(&f, ip);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 2);
}

/* Chains without rules count a packet in their policies without a
 * traversal (rules_empty_shortcut): every table's policy counts what the
 * traversal would -- each packet once per hook it crosses, its length --
 * and the nat table (in use: a MASQUERADE that matches nothing here),
 * traversed by a connection's first packet only, counts that one. */
static void test_empty_hooks(void **state)
{
	(void)state;
	struct frame f, got[4];
	learn_h1();
	learn_h2();
	install("*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
		"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n"
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o lan0 -j MASQUERADE\nCOMMIT\n"
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp -m udp --dport 9999 -j DROP\nCOMMIT\n",
		NULL);
	for (int i = 0; i < 5; i++) {
		mk_udp4_port(&f, H1_IP, H2_IP, 53);
		put(0, &f);
		dp_worker_poll(w);
		assert_int_equal(take(1, got, 4), 1);
	}
	const struct dp_rules *R = dp->rules;
	const struct rules_fprog *fp = &R->prog->f[0];
	uint32_t len = rd_be16(got[0].b + 14 + 2);
	static const struct {
		enum rules_hook h;
		int t;
		uint64_t n;
	} want[] = {
		{ RULES_H_PREROUTING, RULES_T_RAW, 5 },   { RULES_H_PREROUTING, RULES_T_MANGLE, 5 },
		{ RULES_H_PREROUTING, RULES_T_NAT, 1 },   { RULES_H_FORWARD, RULES_T_MANGLE, 5 },
		{ RULES_H_FORWARD, RULES_T_FILTER, 5 },   { RULES_H_POSTROUTING, RULES_T_MANGLE, 5 },
		{ RULES_H_POSTROUTING, RULES_T_NAT, 1 },  { RULES_H_INPUT, RULES_T_MANGLE, 0 },
		{ RULES_H_OUTPUT, RULES_T_FILTER, 0 },
	};
	for (size_t k = 0; k < RTE_DIM(want); k++) {
		int32_t ci = fp->hook_chain[want[k].h][want[k].t];
		assert_true(ci >= 0);
		const struct rules_counter *c = &R->ctr[w->id][fp->chains[ci].policy_ctr];
		if (c->pkts != want[k].n || c->bytes != want[k].n * len)
			fail_msg("hook %d table %d: %" PRIu64 " packets %" PRIu64 " bytes, want %" PRIu64,
				 want[k].h, want[k].t, c->pkts, c->bytes, want[k].n);
	}
}

/* dp_tx_enqueue_burst never leaves a port's buffer full: dp_tx_enqueue,
 * which may come next in the same poll (an ICMP error, a TEE copy), adds
 * one before it looks */
static void test_tx_burst_never_full(void **state)
{
	(void)state;
	struct rte_mbuf *m[DP_BURST];
	uint16_t out[DP_BURST];
	for (int r = 0; r < 3; r++) {
		assert_int_equal(rte_pktmbuf_alloc_bulk(dp->pool, m, DP_BURST), 0);
		for (int i = 0; i < DP_BURST; i++) {
			assert_non_null(rte_pktmbuf_append(m[i], 60));
			out[i] = 1;
		}
		dp_tx_enqueue_burst(w, m, out, DP_BURST);
		assert_true(w->tx[1].n < DP_TXBUF);
	}
	dp_tx_flush(w);
	struct frame got[4];
	assert_int_equal(take(1, got, 4), 3 * DP_BURST);
}

/* -j TEE: a copy to the gateway (its MAC), the original forwarded as ever;
 * the copy as the view had it at the rule (an earlier TOS), DF set, the
 * TTL one less in PREROUTING, FORWARD's already decremented one as it is;
 * by --oif or no copy; through OUTPUT's filter (dropped there) and never
 * copied again; an unresolved gateway is resolved first; IPv6 too. */
static void test_tee(void **state)
{
	(void)state;
	struct frame f, got[8];
	learn_h1();
	learn_h2();
	install(MANGLE_CHAINS
		"-A PREROUTING -p udp -m udp --dport 60 -j TEE --gateway 10.77.2.2\n"
		"-A PREROUTING -p udp -m udp --dport 61 -j TOS --set-tos 0x10/0x3f\n"
		"-A PREROUTING -p udp -m udp --dport 61 -j TEE --gateway 10.77.1.2\n"
		"-A PREROUTING -p udp -m udp --dport 61 -j TOS --set-tos 0x08/0x3f\n"
		"-A FORWARD -p udp -m udp --dport 62 -j TEE --gateway 10.77.1.2 --oif wan0\n"
		"-A FORWARD -p udp -m udp --dport 63 -j TEE --gateway 10.77.2.2 --oif wan0\n"
		"-A FORWARD -p udp -m udp --dport 64 -j TEE --gateway 10.77.2.2\n"
		"-A OUTPUT -p udp -m udp --dport 64 -j TEE --gateway 10.77.1.2\n"
		"-A FORWARD -p udp -m udp --dport 65 -j TEE --gateway 10.77.2.9\n"
		"-A FORWARD -p udp -m udp --dport 66 -j TEE --gateway 10.77.2.2 --oif eth9\n"
		"-A FORWARD -p udp -m udp --dport 67 -j TEE --gateway 192.0.2.1\n"
		"COMMIT\n"
		"*filter\n"
		":INPUT ACCEPT [0:0]\n"
		":FORWARD ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		"-A OUTPUT -p udp -m udp --dport 63 -j DROP\n"
		"COMMIT\n",
		MANGLE_CHAINS
		"-A PREROUTING -p udp -m udp --dport 60 -j TEE --gateway fd77:1::2\n"
		"COMMIT\n");
	/* the copy after the original, to H2's MAC, TTL 63 both, DF on the
	 * copy only */
	mk_udp4_port(&f, H1_IP, H2_IP, 60);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, got, 8), 2);
	assert_int_equal(take(0, got + 2, 6), 0);
	assert_memory_equal(got[1].b, MAC_H2, 6);
	assert_int_equal(got[0].b[14 + 8], 63);
	assert_int_equal(got[1].b[14 + 8], 63);
	assert_int_equal(got[0].b[14 + 6] & 0x40, 0);
	assert_int_equal(got[1].b[14 + 6] & 0x40, 0x40);
	check_ip4_csum(got[1].b + 14);
	assert_memory_equal(got[1].b + 14 + 12, got[0].b + 14 + 12, 8 + 8); /* addresses, UDP */
	assert_int_equal(w->st.tee_sent, 1);
	/* the TOS of the moment: 0x10 on the copy (to H1, lan0), 0x08 forwarded */
	mk_udp4_port(&f, H1_IP, H2_IP, 61);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, got, 8), 1);
	assert_int_equal(got[0].b[14 + 1] & 0x3f, 0x08);
	assert_int_equal(take(0, got, 8), 1);
	assert_memory_equal(got[0].b, MAC_H1, 6);
	assert_int_equal(got[0].b[14 + 1] & 0x3f, 0x10);
	assert_int_equal(got[0].b[14 + 8], 63);
	check_ip4_csum(got[0].b + 14);
	/* H1 is not by wan0: IPv4 takes it to be on wan0's link (the copy
	 * waits for an answer to an ARP request there) */
	uint64_t punted = w->st.punted;
	mk_udp4_port(&f, H1_IP, H2_IP, 62);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, got);
	assert_int_equal(w->st.punted, punted + 1);
	assert_int_equal(w->st.tee_noroute, 0);
	/* OUTPUT's filter drops the copy */
	mk_udp4_port(&f, H1_IP, H2_IP, 63);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, got);
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 1);
	/* OUTPUT's TEE does not copy a copy; FORWARD's copy has the TTL
	 * routing already lowered, no lower */
	mk_udp4_port(&f, H1_IP, H2_IP, 64);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, got, 8), 2);
	assert_int_equal(take(0, got + 2, 6), 0);
	assert_int_equal(got[1].b[14 + 8], 63);
	/* an unknown gateway: the copy waits for its resolution */
	punted = w->st.punted;
	mk_udp4_port(&f, H1_IP, H2_IP, 65);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, got);
	assert_int_equal(w->st.punted, punted + 1);
	/* an --oif that is no port here leaves the route free (Linux 4.3+) */
	uint64_t sent = w->st.tee_sent;
	mk_udp4_port(&f, H1_IP, H2_IP, 66);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, got, 8), 2);
	assert_int_equal(w->st.tee_sent, sent + 1);
	/* no route to the gateway: no copy */
	mk_udp4_port(&f, H1_IP, H2_IP, 67);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, got);
	assert_int_equal(w->st.tee_noroute, 1);
	/* IPv6: the copy to H1 on lan0, hop limit one less */
	udp6_frame(&f, port_mac(0), MAC_H1, H1_IP6, H2_IP6, 64, 1000, 60, 8);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, got, 8), 1);
	assert_int_equal(got[0].b[14 + 7], 63);
	assert_int_equal(take(0, got, 8), 1);
	assert_memory_equal(got[0].b, MAC_H1, 6);
	assert_int_equal(got[0].b[14 + 7], 63);
	assert_int_equal(w->st.tee_lost, 0);
}

/* A SYN to dport with an MSS option of mss (0: none) and pad bytes of
 * Ethernet padding after the datagram. */
static void mk_syn(struct frame *f, bool v6, uint16_t dport, uint16_t mss, uint32_t pad)
{
	f->n = 0;
	fr_eth(f, port_mac(0), MAC_H1, v6 ? 0x86dd : 0x0800);
	uint32_t ip = v6 ? fr_ip6(f, IPPROTO_TCP, 64, H1_IP6, H2_IP6) :
			   fr_ip4(f, IPPROTO_TCP, 64, 0x4000, H1_IP, H2_IP, NULL, 0);
	uint32_t l4 = fr_tcp(f, 40000, dport, 0x02, mss ? 7 : 5);
	if (mss) { /* NOP, NOP, SACK permitted, MSS: the MSS is not first */
		uint8_t *o = f->b + l4 + 20;
		o[0] = 1, o[1] = 1, o[2] = 4, o[3] = 2;
		o[4] = 2, o[5] = 4, o[6] = (uint8_t)(mss >> 8), o[7] = (uint8_t)mss;
	}
	if (v6) {
		fr_ip6_end(f, ip);
		fr_ip6_l4_csum(f, ip, IPPROTO_TCP, l4, 16);
	} else {
		fr_ip4_end(f, ip);
		fr_ip4_l4_csum(f, ip, IPPROTO_TCP, l4, 16);
	}
	fr_zero(f, pad);
}

/* The MSS option of a forwarded segment (0: none), its checksums checked. */
static uint16_t out_mss(const struct frame *out, bool v6)
{
	const uint8_t *ip = out->b + 14;
	uint32_t hl = v6 ? 40 : (uint32_t)(ip[0] & 15) * 4;
	uint32_t len = v6 ? rd_be16(ip + 4) : rd_be16(ip + 2) - hl;
	const uint8_t *th = ip + hl;
	assert_int_equal(out->n, 14 + hl + len); /* no padding left behind */
	if (v6) {
		assert_int_equal(csum_ip6_upper(ip, IPPROTO_TCP, th, len), 0);
	} else {
		check_ip4_csum(ip);
		assert_int_equal(tcp4_csum(ip, th, len), 0);
	}
	uint32_t doff = (uint32_t)(th[12] >> 4) * 4;
	for (uint32_t i = 20; i + 4 <= doff; i += th[i] <= 1 ? 1 : th[i + 1])
		if (th[i] == 2 && th[i + 1] == 4)
			return rd_be16(th + i + 2);
	return 0;
}

/* TCPMSS: --set-mss lowers a SYN's MSS and never raises it; a SYN without
 * one gets one (at most 536; 1220 for IPv6); --clamp-mss-to-pmtu takes
 * the smaller MTU of the way out and the way back; two rules on one
 * packet: the smaller wins; segments other than SYNs are not touched. */
static void test_tcpmss(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1(); /* both families */
	learn_h2();
	static const char mangle[] =
		MANGLE_CHAINS
		"-A FORWARD -p tcp -m tcp --dport 81 --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1000\n"
		"-A FORWARD -p tcp -m tcp --dport 82 --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\n"
		"-A FORWARD -p tcp -m tcp --dport 83 --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1300\n"
		"-A POSTROUTING -p tcp -m tcp --dport 83 --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1200\n"
		"COMMIT\n";
	install(mangle, mangle);
	mk_syn(&f, false, 81, 1460, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, false), 1000);
	mk_syn(&f, false, 81, 900, 0); /* never raised */
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, false), 900);
	/* no option, a frame padded to 60 bytes: one is added, the padding
	 * goes */
	mk_syn(&f, false, 81, 0, 6);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, false), 536);
	assert_int_equal(rd_be16(out.b + 14 + 2), 44);
	assert_int_equal(out.b[14 + 20 + 12] >> 4, 6);
	/* the smaller of the two hooks' values */
	mk_syn(&f, false, 83, 1460, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, false), 1200);
	/* clamped: the way out, then the way back when it is smaller */
	dp->ports[1].mtu = 1400;
	mk_syn(&f, false, 82, 1460, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, false), 1360);
	dp->ports[0].mtu = 1300;
	mk_syn(&f, false, 82, 1460, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, false), 1260);
	/* IPv6: 60 bytes of headers */
	mk_syn(&f, true, 82, 1440, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, true), 1240);
	mk_syn(&f, true, 81, 0, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, true), 1000);
	dp->ports[0].mtu = dp->ports[1].mtu = 1500;
	/* not a SYN: left alone */
	mk_syn(&f, false, 81, 1460, 0);
	f.b[14 + 20 + 13] = 0x10;
	fr_ip4_l4_csum(&f, 14, IPPROTO_TCP, 14 + 20, 16);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(out_mss(&out, false), 1460);
	/* a first fragment without the option gets none: its data would no
	 * longer meet the next fragment's */
	mk_syn(&f, false, 81, 0, 0);
	f.b[14 + 6] |= 0x20; /* more fragments */
	fr_ip4_csum(&f, 14);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(rd_be16(out.b + 14 + 2), 40);
	assert_int_equal(w->st.mss_rewritten, 8); /* dport 83: once per hook */
}

/* -m rpfilter in raw PREROUTING, as xt_rpfilter: strict, a source whose
 * route back leaves by another port (or that has none, or is the box's
 * own) fails; --loose takes any route; --accept-local the box's own on
 * the port it came by. */
static void test_rpfilter(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	static const char raw4[] =
		"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A PREROUTING -i lan0 -m rpfilter --accept-local --invert -j DROP\n"
		"-A PREROUTING -i wan0 -m rpfilter --loose --accept-local --invert -j DROP\nCOMMIT\n";
	static const char raw6[] =
		"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A PREROUTING -i lan0 -m rpfilter --invert -j DROP\nCOMMIT\n";
	install(raw4, raw6);
	static const uint8_t WAN_HOST[4] = { 10, 77, 2, 55 }, FAR[4] = { 192, 168, 3, 4 },
			     NOWHERE[4] = { 203, 0, 113, 5 }, OTHER_LAN[4] = { 10, 77, 1, 77 };
	/* from lan0: a LAN source passes, the rest is spoofed; with
	 * --accept-local (strict) the box's address on lan0 passes the match
	 * (and then is a martian), wan0's does not */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	const uint8_t *bad[] = { WAN_HOST, FAR, NOWHERE, WAN_IP };
	for (unsigned i = 0; i < 4; i++) {
		mk_udp4(&f, port_mac(0), bad[i], H2_IP, 64, 0, 10);
		put(0, &f);
		dp_worker_poll(w);
		expect_nothing();
		assert_int_equal(drops(DP_DROP_FILTER_DROP), i + 1);
	}
	uint64_t m0 = drops(DP_DROP_MARTIAN_SRC);
	mk_udp4(&f, port_mac(0), LAN_IP, H2_IP, 64, 0, 10);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 4);
	assert_int_equal(drops(DP_DROP_MARTIAN_SRC), m0 + 1);
	/* from wan0 with --loose: any routed source, and with --accept-local
	 * the box's own on any port (both martians after the match); no
	 * route: dropped */
	const uint8_t *good[] = { OTHER_LAN, FAR, WAN_IP, LAN_IP };
	uint64_t before = drops(DP_DROP_FILTER_DROP);
	uint64_t martians = drops(DP_DROP_MARTIAN_SRC);
	for (unsigned i = 0; i < 4; i++) {
		mk_udp4(&f, port_mac(1), good[i], H1_IP, 64, 0, 10);
		put(1, &f);
		dp_worker_poll(w);
		if (i < 2)
			take_one(0, &out);
		else /* the box's own: past rpfilter, then a martian (the route check) */
			expect_nothing();
	}
	assert_int_equal(drops(DP_DROP_FILTER_DROP), before); /* none of them */
	assert_int_equal(drops(DP_DROP_MARTIAN_SRC), martians + 2);
	mk_udp4(&f, port_mac(1), NOWHERE, H1_IP, 64, 0, 10);
	put(1, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), before + 1);
	/* IPv6: a WAN source on lan0 is spoofed, a LAN one is not */
	static const uint8_t WAN6[16] = { 0xfd, 0x77, 0, 2, [15] = 0x55 };
	mk_udp6(&f, port_mac(0), WAN6, H2_IP6, 64, 10);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), before + 2);
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	/* "::" and a link-local source pass the match (the router drops them
	 * afterwards); the box's own address without --accept-local fails */
	static const uint8_t LL6[16] = { 0xfe, 0x80, [15] = 9 }, ZERO6_[16] = { 0 };
	uint64_t fd = drops(DP_DROP_FILTER_DROP);
	const uint8_t *pass6[] = { ZERO6_, LL6 };
	for (unsigned i = 0; i < 2; i++) {
		mk_udp6(&f, port_mac(0), pass6[i], H2_IP6, 64, 10);
		put(0, &f);
		dp_worker_poll(w);
		expect_nothing();
		assert_int_equal(drops(DP_DROP_FILTER_DROP), fd);
	}
	mk_udp6(&f, port_mac(0), LAN_IP6, H2_IP6, 64, 10);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), fd + 1);
}

/* -m statistic: nth matches packet p of every n (one counter for the
 * rule, whichever worker), random about the share it is given, 0 and 1
 * exactly never and always. */
static void test_statistic(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp --dport 53 -m statistic --mode nth --every 3 --packet 1 -j DROP\n"
		"-A FORWARD -p udp --dport 54 -m statistic --mode random --probability 0.25 -j DROP\n"
		"-A FORWARD -p udp --dport 55 -m statistic --mode random --probability 1 -j DROP\n"
		"-A FORWARD -p udp --dport 56 -m statistic --mode random ! --probability 1 -j DROP\n"
		"COMMIT\n",
		NULL);
	uint64_t d0 = drops(DP_DROP_FILTER_DROP);
	for (unsigned i = 1; i <= 9; i++) {
		mk_udp4_port(&f, H1_IP, H2_IP, 53);
		put(0, &f);
		dp_worker_poll(w);
		if (i % 3 == 2) { /* the second of each three */
			expect_nothing();
		} else {
			take_one(1, &out);
		}
	}
	assert_int_equal(drops(DP_DROP_FILTER_DROP), d0 + 3);
	unsigned dropped = 0;
	for (unsigned i = 0; i < 2000; i++) {
		mk_udp4_port(&f, H1_IP, H2_IP, 54);
		put(0, &f);
		uint64_t before = drops(DP_DROP_FILTER_DROP);
		dp_worker_poll(w);
		if (drops(DP_DROP_FILTER_DROP) != before)
			dropped++;
		else
			take_one(1, &out);
	}
	/* 500 expected; the bounds are 6 standard deviations out */
	assert_true(dropped > 380 && dropped < 620);
	for (unsigned i = 0; i < 50; i++) {
		mk_udp4_port(&f, H1_IP, H2_IP, 55);
		put(0, &f);
		dp_worker_poll(w);
		expect_nothing();
		mk_udp4_port(&f, H1_IP, H2_IP, 56);
		put(0, &f);
		dp_worker_poll(w);
		take_one(1, &out);
	}
}

/* One UDP datagram of len bytes (20 + 8 + payload) from H1 to H2's port
 * dport through the box: whether it came out on the wan side. */
static bool quota_pass4(uint16_t dport, uint16_t len)
{
	struct frame f, out;
	udp4_from(&f, 0, H1_IP, H2_IP, 5300, dport, (uint16_t)(len - 28));
	put(0, &f);
	dp_worker_poll(w);
	return take(1, &out, 1) == 1;
}

/* -m quota: one budget of bytes per match (the IP datagram's length, the
 * kernel's skb->len): a packet passes while it fits, exactly all of it
 * included; the first that does not fit spends the rest, and no later
 * packet matches, even one small enough for what was left; "!" inverts;
 * an IPv6 rule has its own budget; --quota 0 never matches. */
static void test_quota(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp --dport 53 -m quota --quota 200 -j ACCEPT\n"
		"-A FORWARD -p udp --dport 53 -j DROP\n"
		"-A FORWARD -p udp --dport 54 -m quota --quota 150 -j ACCEPT\n"
		"-A FORWARD -p udp --dport 54 -j DROP\n"
		"-A FORWARD -p udp --dport 55 -m quota ! --quota 100 -j DROP\n"
		"-A FORWARD -p udp --dport 56 -m quota --quota 0 -j DROP\n"
		"-A FORWARD -p udp --dport 57 -m quota ! --quota 0 -j DROP\n"
		"COMMIT\n",
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp -m quota --quota 100 -j ACCEPT\n"
		"-A FORWARD -p udp -j DROP\n"
		"COMMIT\n");
	uint64_t d0 = drops(DP_DROP_FILTER_DROP);
	/* 100 + 100 is all of 200: both pass, then nothing is left */
	assert_true(quota_pass4(53, 100));
	assert_true(quota_pass4(53, 100));
	assert_false(quota_pass4(53, 29));
	/* 80 of 150, then 80 does not fit the 70 left: spent, so 29 no
	 * longer passes either */
	assert_true(quota_pass4(54, 80));
	assert_false(quota_pass4(54, 80));
	assert_false(quota_pass4(54, 29));
	assert_false(quota_pass4(54, 29));
	/* inverted: no match (pass) while it fits, DROP once spent */
	assert_true(quota_pass4(55, 80));
	assert_false(quota_pass4(55, 80));
	assert_false(quota_pass4(55, 29));
	assert_true(quota_pass4(56, 28));
	assert_false(quota_pass4(57, 28));
	assert_int_equal(drops(DP_DROP_FILTER_DROP), d0 + 7);
	/* IPv6: 40 + 8 + 30 = 78 of 100, then 78 does not fit */
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 30);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
}

/* -m hashlimit in the pipeline: a key per destination port, --hashlimit-above
 * dropping what exceeds the burst, and a table without room for a new key
 * dropping its packet (the kernel's hotdrop) */
static void test_hashlimit(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp -m hashlimit --hashlimit-above 1/min --hashlimit-burst 2 "
		"--hashlimit-mode dstport --hashlimit-name hl1 -j DROP\n"
		"-A FORWARD -p udp --dport 7000:7100 -m hashlimit --hashlimit-upto 1/hour "
		"--hashlimit-mode srcip,dstport --hashlimit-name hl2 --hashlimit-htable-size 2 "
		"--hashlimit-htable-max 2 -j ACCEPT\n"
		"-A FORWARD -p udp --dport 7002 -m comment --comment after\n"
		"COMMIT\n",
		NULL);
	uint64_t d0 = drops(DP_DROP_FILTER_DROP);
	for (uint16_t port = 1000; port <= 1001; port++)
		for (unsigned i = 0; i < 4; i++) {
			mk_udp4_port(&f, H1_IP, H2_IP, port);
			put(0, &f);
			dp_worker_poll(w);
			if (i < 2)
				take_one(1, &out);
			else
				expect_nothing();
		}
	assert_int_equal(drops(DP_DROP_FILTER_DROP), d0 + 4);
	/* hl2 holds two keys: a third destination port is dropped */
	for (uint16_t port = 7000; port <= 7002; port++) {
		mk_udp4_port(&f, H1_IP, H2_IP, port);
		put(0, &f);
		dp_worker_poll(w);
		if (port < 7002)
			take_one(1, &out);
		else
			expect_nothing();
	}
	assert_int_equal(drops(DP_DROP_FILTER_DROP), d0 + 5);
	/* a known key still passes: over hl2's limit it falls through to the
	 * policy, which accepts */
	mk_udp4_port(&f, H1_IP, H2_IP, 7001);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	/* the tables in the metrics */
	char *buf = NULL;
	size_t blen = 0;
	FILE *o = open_memstream(&buf, &blen);
	assert_non_null(o);
	struct dp_metrics_info info = { .version = "ut" };
	dp_metrics_write(dp, o, &info);
	fclose(o);
	assert_non_null(strstr(buf, "rampart_hashlimit_full_drops_total{table=\"hl2\",family=\"ipv4\"} 1\n"));
	assert_non_null(strstr(buf, "rampart_hashlimit_entries{table=\"hl2\",family=\"ipv4\"} 2\n"));
	assert_non_null(strstr(buf, "rampart_hashlimit_max_entries{table=\"hl1\",family=\"ipv4\"} 65536\n"));
	assert_non_null(strstr(buf, "rampart_hashlimit_entries{table=\"hl1\",family=\"ipv4\"} 5\n"));
	/* the full table's drop ended the traversal there: the rule after
	 * it never saw the packet (ipt_do_table's hotdrop) */
	assert_non_null(strstr(buf, "rampart_rule_packets_total{family=\"ipv4\",table=\"filter\","
				    "chain=\"FORWARD\",position=\"3\",comment=\"after\"} 0\n"));
	free(buf);
}

/* -m string on a routed packet: the pattern wholly inside [from, to) of
 * the datagram from its IP header on, --icase, inversion. */
static void test_string(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp --dport 53 -m string --string \"0123\" --algo bm -j DROP\n"
		"-A FORWARD -p udp --dport 54 -m string --string \"ABCD\" --algo kmp --icase --to 32 -j DROP\n"
		"-A FORWARD -p udp --dport 55 -m string ! --string \"zzz\" --algo bm -j DROP\n"
		"COMMIT\n",
		NULL);
	/* the payload fr_udp writes: 0x30 + i % 64 ("0123...") */
	mk_udp4_port(&f, H1_IP, H2_IP, 53);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 1);
	/* "abcd" sits at payload 49..52 = offset 77 of the datagram: past
	 * --to 32 on a 20-byte payload it is not there, in 60 it is but too
	 * late for the window */
	mk_udp4(&f, port_mac(0), H1_IP, H2_IP, 64, 0, 60);
	wr_be16(f.b + 14 + 20 + 2, 54);
	wr_be16(f.b + 14 + 20 + 6, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	/* in the window: 'A','B','C','D' at offset 28 (payload 0..3) */
	memcpy(f.b + 14 + 28, "aBcD", 4);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 2);
	/* inverted: no "zzz" anywhere, dropped */
	mk_udp4_port(&f, H1_IP, H2_IP, 55);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 3);
}

/* -m ecn: the IPv4 header's and the IPv6 traffic class's ECN field, the
 * TCP ECE and CWR bits, each inverted. */
static void test_ecn(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp --dport 53 -m ecn --ecn-ip-ect 3 -j DROP\n"
		"-A FORWARD -p udp --dport 54 -m ecn ! --ecn-ip-ect 0 -j DROP\n"
		"-A FORWARD -p tcp --dport 80 -m ecn --ecn-tcp-ece ! --ecn-tcp-cwr -j DROP\n"
		"COMMIT\n",
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp -m ecn --ecn-ip-ect 1 -j DROP\n"
		"COMMIT\n");
	static const struct { uint16_t dport; uint8_t tos; bool drop; } u4[] = {
		{53, 0x03, true}, {53, 0xb8 | 0x02, false}, {53, 0x00, false},
		{54, 0x00, false}, {54, 0x01, true}, {54, 0xfe, true},
	};
	uint64_t fd = drops(DP_DROP_FILTER_DROP);
	for (unsigned i = 0; i < sizeof(u4) / sizeof(u4[0]); i++) {
		mk_udp4_port(&f, H1_IP, H2_IP, u4[i].dport);
		f.b[14 + 1] = u4[i].tos;
		fr_ip4_csum(&f, 14);
		put(0, &f);
		dp_worker_poll(w);
		if (u4[i].drop) {
			expect_nothing();
			assert_int_equal(drops(DP_DROP_FILTER_DROP), ++fd);
		} else {
			take_one(1, &out);
			assert_int_equal(out.b[14 + 1], u4[i].tos);
		}
	}
	/* ECN-setup SYN (ECE and CWR) passes; ECE alone is dropped */
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 80, 0x02 | 0x40 | 0x80);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 80, 0x02 | 0x40);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), ++fd);
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 80, 0x02);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	/* IPv6: traffic class 0x01 (ECT(1)) is dropped, 0x04 (ECN 0) and
	 * 0x11 (ECN 1, DSCP 4) as the kernel reads the field */
	static const struct { uint8_t tc; bool drop; } u6[] = { {0x01, true}, {0x04, false}, {0x11, true} };
	for (unsigned i = 0; i < 3; i++) {
		mk_udp6(&f, port_mac(0), LAN_IP6, H2_IP6, 64, 10);
		f.b[14] = (uint8_t)(0x60 | (u6[i].tc >> 4));
		f.b[15] = (uint8_t)((u6[i].tc & 15) << 4 | (f.b[15] & 15));
		put(0, &f);
		dp_worker_poll(w);
		if (u6[i].drop) {
			expect_nothing();
			assert_int_equal(drops(DP_DROP_FILTER_DROP), ++fd);
		} else {
			take_one(1, &out);
		}
	}
}

/* -m tcpmss as xt_tcpmss walks the options: the first MSS option of
 * length 4 counts, an end-of-list byte does not stop the walk, a segment
 * without the option matches only inverted; IPv6 the same. */
static void test_tcpmss_match(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	static const char rules[] =
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p tcp --dport 80 -m tcpmss --mss 1400:1500 -j DROP\n"
		"-A FORWARD -p tcp --dport 81 -m tcpmss ! --mss 536 -j DROP\n"
		"COMMIT\n";
	install(rules, rules);
	static const struct { uint16_t dport, mss; int opt0, opt5; bool drop; } c[] = {
		{80, 1460, -1, -1, true},  {80, 1300, -1, -1, false}, {80, 0, -1, -1, false},
		{81, 0, -1, -1, true},     {81, 536, -1, -1, false},  {81, 1460, -1, -1, true},
		/* EOL first: the kernel walks on and finds the MSS */
		{80, 1460, 0, -1, true},   {81, 536, 0, -1, false},
		/* the MSS option with length 5: no MSS at all */
		{80, 1460, -1, 5, false},  {81, 536, -1, 5, true},
	};
	uint64_t fd = drops(DP_DROP_FILTER_DROP);
	for (unsigned v6 = 0; v6 < 2; v6++)
		for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			mk_syn(&f, v6, c[i].dport, c[i].mss, 0);
			uint32_t th = 14 + (v6 ? 40 : 20);
			if (c[i].opt0 >= 0)
				f.b[th + 20] = (uint8_t)c[i].opt0;
			if (c[i].opt5 >= 0)
				f.b[th + 25] = (uint8_t)c[i].opt5;
			put(0, &f);
			dp_worker_poll(w);
			if (c[i].drop) {
				expect_nothing();
				assert_int_equal(drops(DP_DROP_FILTER_DROP), ++fd);
			} else {
				take_one(1, &out);
			}
		}
}

/* An IPv4 ESP (proto 50) or AH (51, then UDP) packet with spi; frag: the
 * IPv4 fragment field; cut: the IPsec header's bytes kept (0: all). */
static void mk_ipsec4(struct frame *f, uint8_t proto, uint32_t spi, uint16_t frag, uint32_t cut)
{
	f->n = 0;
	fr_eth(f, port_mac(0), MAC_H1, 0x0800);
	uint32_t ip = fr_ip4(f, proto, 64, frag, H1_IP, H2_IP, NULL, 0);
	uint32_t at = f->n;
	if (proto == IPPROTO_AH) {
		fr_u8(f, IPPROTO_UDP);
		fr_u8(f, 4); /* (4 + 2) * 4 = 24 bytes */
		fr_u16(f, 0);
	}
	fr_u32(f, spi);
	fr_u32(f, 1); /* sequence */
	fr_zero(f, proto == IPPROTO_AH ? 12 : 16);
	if (cut)
		f->n = at + cut;
	fr_ip4_end(f, ip);
}

/* IPv6 with an AH extension header (length byte hlen, reserved res) in
 * front of UDP, or an ESP packet (ah false). */
static void mk_ipsec6(struct frame *f, bool ah, uint32_t spi, uint8_t hlen, uint16_t res)
{
	f->n = 0;
	fr_eth(f, port_mac(0), MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(f, ah ? IPPROTO_AH : IPPROTO_ESP, 64, H1_IP6, H2_IP6);
	if (ah) {
		fr_u8(f, IPPROTO_UDP);
		fr_u8(f, hlen);
		fr_u16(f, res);
		fr_u32(f, spi);
		fr_u32(f, 1);
		fr_zero(f, ((uint32_t)hlen + 2) * 4 - 12);
		fr_udp(f, 33434, 53, 8);
	} else {
		fr_u32(f, spi);
		fr_u32(f, 1);
		fr_zero(f, 16);
	}
	fr_ip6_end(f, ip);
}

/* -m esp and -m ah: SPI ranges and inversion, never a later fragment,
 * a header cut short matches nothing; IPv6 AH found among the extension
 * headers with --ahlen and --ahres. */
static void test_esp_ah(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p esp -m esp --espspi 256:511 -j DROP\n"
		"-A FORWARD -p esp -m esp ! --espspi 1000 -j ACCEPT\n"
		"-A FORWARD -p esp -j DROP\n"
		"-A FORWARD -p ah -m ah ! --ahspi 7 -j DROP\n"
		"COMMIT\n",
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p esp -m esp --espspi 5 -j DROP\n"
		"-A FORWARD -m ah --ahspi 1:9 --ahlen 24 -j DROP\n"
		"-A FORWARD -m ah --ahspi 10 --ahres -j DROP\n"
		"COMMIT\n");
	uint64_t fd = drops(DP_DROP_FILTER_DROP);
#define SENT(drop) do { \
		put(0, &f); \
		dp_worker_poll(w); \
		if (drop) { \
			expect_nothing(); \
			assert_int_equal(drops(DP_DROP_FILTER_DROP), ++fd); \
		} else { \
			take_one(1, &out); \
		} \
	} while (0)
	mk_ipsec4(&f, IPPROTO_ESP, 300, 0, 0);
	SENT(true);
	mk_ipsec4(&f, IPPROTO_ESP, 512, 0, 0); /* ! 1000: accepted */
	SENT(false);
	mk_ipsec4(&f, IPPROTO_ESP, 1000, 0, 0); /* on to -p esp -j DROP */
	SENT(true);
	/* a later fragment: neither esp match, so the plain -p esp drops it */
	mk_ipsec4(&f, IPPROTO_ESP, 300, 0x2000 | 0x10, 0);
	f.b[14 + 6] = 0x00; /* offset 128 bytes, no more fragments */
	f.b[14 + 7] = 0x10;
	fr_ip4_csum(&f, 14);
	SENT(true);
	/* 4 bytes of ESP: the SPI is there, the sequence not: no match */
	mk_ipsec4(&f, IPPROTO_ESP, 512, 0, 4);
	SENT(true);
	mk_ipsec4(&f, IPPROTO_AH, 7, 0, 0);
	SENT(false);
	mk_ipsec4(&f, IPPROTO_AH, 8, 0, 0);
	SENT(true);
	/* IPv6 */
	mk_ipsec6(&f, false, 5, 0, 0);
	SENT(true);
	mk_ipsec6(&f, false, 6, 0, 0);
	SENT(false);
	mk_ipsec6(&f, true, 3, 4, 0); /* 24 bytes */
	SENT(true);
	mk_ipsec6(&f, true, 3, 5, 0); /* 28 bytes */
	SENT(false);
	mk_ipsec6(&f, true, 10, 4, 0); /* reserved 0 */
	SENT(true);
	mk_ipsec6(&f, true, 10, 4, 1); /* reserved not 0: --ahres fails */
	SENT(false);
	/* AH then ESP: ip6t_ah still finds the AH (SPI 3, 24 bytes: dropped);
	 * with SPI 30 neither v6 rule holds and it passes */
	for (unsigned k = 0; k < 2; k++) {
		f.n = 0;
		fr_eth(&f, port_mac(0), MAC_H1, 0x86dd);
		uint32_t ip = fr_ip6(&f, IPPROTO_AH, 64, H1_IP6, H2_IP6);
		fr_u8(&f, IPPROTO_ESP);
		fr_u8(&f, 4);
		fr_u16(&f, 0);
		fr_u32(&f, k ? 30 : 3);
		fr_u32(&f, 1);
		fr_zero(&f, 12);
		fr_u32(&f, 77); /* ESP: SPI 77, sequence, payload */
		fr_u32(&f, 1);
		fr_zero(&f, 16);
		fr_ip6_end(&f, ip);
		SENT(k == 0);
	}
	/* a header cut short drops the packet there, whatever follows (the
	 * kernel's hotdrop): an ACCEPT policy and no DROP rule after it */
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p esp -m esp --espspi 5 -j ACCEPT\n"
		"-A FORWARD -p ah -m ah --ahspi 5 -j ACCEPT\n"
		"COMMIT\n",
		NULL);
	mk_ipsec4(&f, IPPROTO_ESP, 512, 0, 4);
	SENT(true);
	mk_ipsec4(&f, IPPROTO_ESP, 512, 0, 0); /* whole: no match, the policy accepts */
	SENT(false);
#undef SENT
}

/* TCPMSS --clamp-mss-to-pmtu on a bridge: no routes to look back along
 * (it crashed on the missing table), the peer port's MTU clamps. */
static void test_tcpmss_bridge(void **state)
{
	(void)state;
	struct frame f, out;
	install("*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
		"-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\n"
		"COMMIT\n",
		NULL);
	dp->ports[1].mtu = 1400;
	mk_syn(&f, false, 80, 1460, 0);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	dp->ports[1].mtu = 1500;
	assert_int_equal(out_mss(&out, false), 1360);
}

/* -m time through the pipeline: the workers read the wall clock the
 * control side publishes (pinned here), and --kerneltz its zone; the
 * control thread's refresh leaves a pinned clock alone. */
static void test_time(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp --dport 53 -m time --timestart 22:00 --timestop 06:00 -j DROP\n"
		"-A FORWARD -p udp --dport 54 -m time --weekdays Tue --kerneltz -j DROP\n"
		"-A FORWARD -p udp --dport 55 -m time --datestart 2024-03-04T23:00 -j DROP\n"
		"COMMIT\n",
		NULL);
	/* unpinned, the workers' clock is the system's (measured against the
	 * TSC when the dataplane was made) */
	int64_t sys = (int64_t)time(NULL), wc = dp_wall_clock_s(dp);
	assert_true(wc >= sys - 2 && wc <= sys + 2);
	static const struct {
		int64_t t;      /* UTC */
		int32_t tz;     /* seconds west */
		uint16_t port;
		bool drop;
	} cases[] = {
		{1709594400, 0, 53, true},     /* Mon 2024-03-04 23:20 UTC: in the night window */
		{1709553600, 0, 53, false},    /* Mon 12:00 */
		{1709553600 + 10 * 3600 - 1, 0, 53, false}, /* 21:59:59 */
		{1709553600 + 10 * 3600, 0, 53, true},      /* 22:00:00 */
		{1709594400, 0, 54, false},    /* Monday in UTC */
		{1709594400, -3600, 54, true}, /* Tuesday 00:20 in UTC+1 */
		{1709594400 - 1200 - 1, 0, 55, false}, /* 22:59:59, before the date */
		{1709594400 - 1200, 0, 55, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dp_wall_clock_set(dp, cases[i].t, cases[i].tz);
		dp_ctl_poll(dp);
		assert_true(dp_wall_clock_s(dp) - cases[i].t <= 1 && dp_wall_clock_s(dp) >= cases[i].t);
		uint64_t d0 = drops(DP_DROP_FILTER_DROP);
		mk_udp4_port(&f, H1_IP, H2_IP, cases[i].port);
		put(0, &f);
		dp_worker_poll(w);
		if (cases[i].drop) {
			expect_nothing();
			assert_int_equal(drops(DP_DROP_FILTER_DROP), d0 + 1);
		} else {
			take_one(1, &out);
		}
	}
}

static void test_filter_ipv6_and_swap(void **state)
{
	(void)state;
	struct frame f, out;
	learn_h1();
	learn_h2();
	install(NULL, "*filter\n"
		      ":INPUT ACCEPT [0:0]\n"
		      ":FORWARD ACCEPT [0:0]\n"
		      ":OUTPUT ACCEPT [0:0]\n"
		      "-A FORWARD -p udp -m udp --dport 53 -j REJECT --reject-with icmp6-adm-prohibited\n"
		      "COMMIT\n");
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 20);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	const uint8_t *ip6 = out.b + 14;
	assert_int_equal(ip6[6], IPPROTO_ICMPV6);
	assert_int_equal(ip6[40], 1);
	assert_int_equal(ip6[41], 1);
	check_icmp6_csum(ip6);
	/* IPv4 is not touched by IPv6 rules */
	mk_udp4_port(&f, H1_IP, H2_IP, 53);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	/* a new ruleset replaces the old one at once */
	install(NULL, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
	mk_udp6(&f, port_mac(0), H1_IP6, H2_IP6, 64, 20);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
}

static void test_filter_bridge(void **state)
{
	(void)state;
	struct frame f, out;
	install("*filter\n"
		":INPUT ACCEPT [0:0]\n"
		":FORWARD ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -i lan0 -p udp -m udp --dport 53 -j DROP\n"
		"-A FORWARD -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset\n"
		"-A FORWARD -p udp -m udp --dport 54 -j REJECT\n"
		"COMMIT\n",
		NULL);
	mk_udp4(&f, MAC_H2, H1_IP, H2_IP, 64, 0, 20);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 1);
	/* the other direction is not -i lan0 */
	f.n = 0;
	fr_eth(&f, MAC_H1, MAC_H2, 0x0800);
	uint32_t ip = fr_ip4(&f, IPPROTO_UDP, 64, 0, H2_IP, H1_IP, NULL, 0);
	fr_udp(&f, 1000, 53, 4);
	fr_ip4_end(&f, ip);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_memory_equal(out.b, f.b, f.n);
	/* tcp-reset goes back out of the ingress port, from the destination */
	mk_tcp4(&f, MAC_H2, H1_IP, H2_IP, 80, 0x02);
	put(0, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	assert_memory_equal(out.b, MAC_H1, 6);
	assert_memory_equal(out.b + 14 + 12, H2_IP, 4);
	assert_int_equal(out.b[14 + 20 + 13], 0x14);
	/* an ICMP REJECT has no address to come from on a bridge: dropped */
	mk_udp4(&f, MAC_H2, H1_IP, H2_IP, 64, 0, 20);
	wr_be16(f.b + 14 + 20 + 2, 54);
	wr_be16(f.b + 14 + 20 + 6, 0);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();
	assert_int_equal(drops(DP_DROP_FILTER_REJECT), 2);
}

/* ---- rampartctl trace ------------------------------------------------ */

/* Split `words` on spaces and run fn on them with an in-memory stream;
 * what fn wrote, malloc'd. */
static char *run_words(const char *words, void (*fn)(void *, int, char **, FILE *), void *arg)
{
	char line[512], *argv[32], *save = NULL;
	int argc = 0;
	snprintf(line, sizeof(line), "%s", words);
	for (char *t = strtok_r(line, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	assert_non_null(o);
	fn(arg, argc, argv, o);
	fclose(o);
	assert_non_null(buf);
	return buf;
}

static void trace_fn(void *arg, int argc, char **argv, FILE *o)
{
	(void)arg;
	dp_trace_ctl(dp, argc, argv, o, false);
}

/* Run `words` through dp_trace_ctl; the answer, malloc'd. */
static char *trace_cmd(const char *words)
{
	return run_words(words, trace_fn, NULL);
}

/* The answer's last line. */
static const char *last_line(const char *s)
{
	size_t n = strlen(s);
	assert_true(n > 0 && s[n - 1] == '\n');
	const char *p = s + n - 1;
	while (p > s && p[-1] != '\n')
		p--;
	return p;
}

static unsigned count_of(const char *s, const char *what)
{
	unsigned n = 0;
	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static void expect_error(const char *words, const char *msg)
{
	char *a = trace_cmd(words);
	if (strncmp(last_line(a), "%% error: ", 10) != 0 || strstr(a, msg) == NULL)
		fail_msg("'%s': expected an error about '%s', got:\n%s", words, msg, a);
	free(a);
}

static const char trace_v4[] =
	"*filter\n"
	":INPUT ACCEPT [0:0]\n"
	":FORWARD DROP [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n"
	"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -s 10.77.1.2/32 -p udp -m udp --dport 53 -j ACCEPT\n"
	"-A FORWARD -p udp -m udp --dport 53 -j DROP\n"
	"-A FORWARD -p tcp -j ACCEPT\n"
	"COMMIT\n";

static void test_trace(void **state)
{
	(void)state;
	static const uint8_t H3_IP[4] = { 10, 77, 1, 3 };
	struct frame f, out;
	learn_h1();
	learn_h2();
	install(trace_v4, NULL);

	/* nothing armed: nothing recorded, the worker's record pointer unused */
	udp4_from(&f, 0, H1_IP, H2_IP, 5300, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	char *a = trace_cmd("trace show");
	assert_string_equal(last_line(a), "%% ok nothing traced (trace add N [FILTER] arms tracing)\n");
	free(a);

	a = trace_cmd("trace add 2 -p udp --dport 53");
	assert_string_equal(a, "%% ok tracing the next 2 packets matching -p udp --dport 53\n");
	free(a);
	/* one burst: a TCP packet (forwarded, not traced, no ticket taken),
	 * UDP/53 from H1 (a new connection, accepted by rule 2), UDP/53 from
	 * H3 (dropped by rule 3), a third UDP/53: the two tickets are gone */
	struct frame got[4];
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 22, 0x02);
	put(0, &f);
	udp4_from(&f, 0, H1_IP, H2_IP, 5301, 53, 10);
	put(0, &f);
	udp4_from(&f, 0, H3_IP, H2_IP, 5302, 53, 10);
	put(0, &f);
	udp4_from(&f, 0, H1_IP, H2_IP, 5303, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	assert_null(w->trc);
	assert_int_equal(take(1, got, 4), 3);
	assert_int_equal(take(0, got, 4), 0);
	assert_int_equal(drops(DP_DROP_FILTER_DROP), 1);
	dp_ctl_poll(dp);

	a = trace_cmd("trace show");
	printf("%s", a); /* docs/cli.md shows this output */
	assert_int_equal(count_of(a, "\ntrace ") + (strncmp(a, "trace ", 6) == 0), 2);
	assert_int_equal(count_of(a, " tcp "), 0);
	assert_int_equal(count_of(a, "sport 5303"), 0);
	const char *must[] = {
		"trace 1: worker 0, in lan0, ruleset 1\n"
		"  packet: ipv4 10.77.1.2 > 10.77.2.2 udp sport 5301 dport 53 len 38\n"
		"  conntrack: NEW\n"
		"  FORWARD: filter FORWARD rule 2: -A FORWARD -s 10.77.1.2/32 -p udp -m udp --dport 53 -j ACCEPT\n"
		"  FORWARD: ACCEPT\n"
		"  verdict: forwarded out wan0\n",
		"trace 2: worker 0, in lan0, ruleset 1\n"
		"  packet: ipv4 10.77.1.3 > 10.77.2.2 udp sport 5302 dport 53 len 38\n"
		"  conntrack: NEW\n"
		"  FORWARD: filter FORWARD rule 3: -A FORWARD -p udp -m udp --dport 53 -j DROP\n"
		"  FORWARD: DROP\n"
		"  verdict: dropped (filter_drop) in FORWARD\n",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (strstr(a, must[i]) == NULL)
			fail_msg("trace show lacks:\n%s\ngot:\n%s", must[i], a);
	assert_string_equal(last_line(a), "%% ok 2 packets traced, tracing done\n");
	free(a);

	/* the reply of the traced connection is ESTABLISHED, with a filter on
	 * the source address and the input port; REJECT-free TCP not matched */
	a = trace_cmd("trace add 5 -s 10.77.2.0/24 -i wan0 -4");
	assert_string_equal(last_line(a), "%% ok tracing the next 5 packets matching -s 10.77.2.0/24 -i wan0 -4\n");
	free(a);
	udp4_from(&f, 1, H2_IP, H1_IP, 53, 5301, 30);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	a = trace_cmd("trace show");
	if (!strstr(a, "trace 3: worker 0, in wan0, ruleset 1\n"
		       "  packet: ipv4 10.77.2.2 > 10.77.1.2 udp sport 53 dport 5301 len 58\n"
		       "  conntrack: ESTABLISHED\n"
		       "  FORWARD: filter FORWARD rule 1: -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
		       "  FORWARD: ACCEPT\n"
		       "  verdict: forwarded out lan0\n"))
		fail_msg("unexpected:\n%s", a);
	assert_string_equal(last_line(a), "%% ok 3 packets traced, 4 more to trace\n");
	free(a);

	/* a new ruleset: older records print what is known */
	install(trace_v4, NULL);
	install(trace_v4, NULL);
	a = trace_cmd("trace show");
	if (!strstr(a, "trace 1: worker 0, in lan0, ruleset 1 (replaced)\n") ||
	    count_of(a, " (ruleset replaced)\n") != 3 || count_of(a, "  FORWARD: counter ") != 3 ||
	    !strstr(a, "  verdict: dropped (filter_drop) in FORWARD\n"))
		fail_msg("unexpected:\n%s", a);
	free(a);

	a = trace_cmd("trace clear");
	assert_string_equal(a, "%% ok tracing off, records cleared\n");
	free(a);
	udp4_from(&f, 1, H2_IP, H1_IP, 53, 5301, 30);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	a = trace_cmd("trace show");
	assert_string_equal(a, "%% ok 0 packets traced, tracing done\n");
	free(a);

	expect_error("trace", "usage: trace add N");
	expect_error("trace frob", "usage: trace add N");
	expect_error("trace add", "N is the number of packets");
	expect_error("trace add 0", "between 1 and 1000");
	expect_error("trace add 1001", "between 1 and 1000");
	expect_error("trace add -3", "N is the number of packets");
	expect_error("trace add 2 --bogus 1", "unknown filter word '--bogus'");
	expect_error("trace add 2 -p", "-p needs a value");
	expect_error("trace add 2 -p xyz", "-p xyz: not tcp");
	expect_error("trace add 2 -s 10.0.0.300", "not an address");
	expect_error("trace add 2 -d 10.0.0.0/33", "not an address");
	expect_error("trace add 2 --dport 70000", "not a port number");
	expect_error("trace add 2 -i eth9", "-i eth9: no such port");
	expect_error("trace add 2 -s 10.0.0.1 -6", "both families");
	expect_error("trace add 2 -p icmp --dport 53", "need -p tcp");
	/* an error arms nothing */
	assert_true(__atomic_load_n(&dp->trace.left, __ATOMIC_RELAXED) <= 0);
}

/* Tracing NAT and a REJECT: the translation and the box's answer. */
static void test_trace_nat_reject(void **state)
{
	(void)state;
	struct frame f, got[4];
	learn_h1();
	learn_h2();
	install("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset\nCOMMIT\n",
		NULL);
	char *a = trace_cmd("trace add 3 -i lan0");
	free(a);
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	mk_tcp4(&f, port_mac(0), H1_IP, H2_IP, 80, 0x02);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(1, got, 4), 1);
	assert_int_equal(take(0, got, 4), 1); /* the reset */
	a = trace_cmd("trace show");
	printf("%s", a);
	const char *must[] = {
		"  POSTROUTING: nat POSTROUTING rule 1: -A POSTROUTING -o wan0 -j MASQUERADE\n"
		"  POSTROUTING: ACCEPT\n"
		"  nat: 10.77.1.2:5000 > 10.77.2.2:53 became 10.77.2.1:5000 > 10.77.2.2:53\n"
		"  verdict: forwarded out wan0\n",
		"  packet: ipv4 10.77.1.2 > 10.77.2.2 tcp sport 40000 dport 80 len 40 flags SYN\n"
		"  conntrack: NEW\n"
		"  PREROUTING: nat PREROUTING policy ACCEPT\n"
		"  PREROUTING: ACCEPT\n"
		"  FORWARD: filter FORWARD rule 1: -A FORWARD -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset\n"
		"  FORWARD: REJECT\n",
		"  OUTPUT (the box's answer): filter OUTPUT policy ACCEPT\n",
		"  verdict: rejected (filter_reject) in FORWARD\n",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (strstr(a, must[i]) == NULL)
			fail_msg("trace show lacks:\n%s\ngot:\n%s", must[i], a);
	assert_string_equal(last_line(a), "%% ok 2 packets traced, 1 more to trace\n");
	free(a);
}

/* ---- rampartctl --json ------------------------------------------------- */

static void ctl_fn(void *env, int argc, char **argv, FILE *o)
{
	rp_ctl_exec(env, argc, argv, NULL, 0, o);
}

/* Run `words` (split on spaces) through rp_ctl_exec, as rampartd does for a
 * request; the answer, malloc'd. */
static char *ctl_cmd(struct rp_ctl_env *env, const char *words)
{
	return run_words(words, ctl_fn, env);
}

/* conntrack -E's events (dp_ct_events): the lines the kernel's ctnetlink
 * gives conntrack -E for the same packets (checked in a namespace: a TCP
 * connection opened, used and closed; a UDP flow answered, a stream, gone). */
struct ev_log {
	char lines[64][400];
	unsigned n;
};

static void ev_take(void *arg, unsigned worker, const struct ct_table *v, uint32_t now,
	unsigned type)
{
	(void)worker;
	struct ev_log *l = arg;
	if (l->n < 64)
		ct_format_event(v, 0, now, type, l->lines[l->n++], sizeof(l->lines[0]));
}

static void ev_expect(const char *const *want, unsigned n)
{
	struct ev_log l = { .n = 0 };
	uint64_t lost = 0;
	dp_ct_events_drain(dp, ev_take, &l, 64, &lost);
	assert_int_equal(lost, 0);
	for (unsigned i = 0; i < l.n || i < n; i++)
		if (i >= l.n || i >= n || strcmp(l.lines[i], want[i]) != 0)
			fail_msg("event %u: got\n%s\nwant\n%s", i, i < l.n ? l.lines[i] : "(none)",
				 i < n ? want[i] : "(none)");
}

/* conntrack -E as the kernel's event cache: what a packet changed is
 * reported when it passes confirmation; a packet dropped after tracking
 * (here by the filter) leaves its change to the connection's next
 * accepted packet, which reports it with its own in one UPDATE. */
static void test_ct_events_cached(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
		"-A FORWARD -p udp -m length --length 37 -j DROP\nCOMMIT\n", NULL);
	char err[128];
	dp->ct_clock = w->ct->wtick;
	assert_int_equal(dp_ct_events(dp, true, err, sizeof(err)), 0);
	struct frame g, o[4];
	udp4_from(&g, 0, H1_IP, H2_IP, 6000, 53, 8);
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
#define U6K "src=10.77.1.2 dst=10.77.2.2 sport=6000 dport=53 "
#define V6K "src=10.77.2.2 dst=10.77.1.2 sport=53 dport=6000"
	static const char *const first[] = { "    [NEW] udp      17 30 " U6K "[UNREPLIED] " V6K };
	ev_expect(first, 1);
	/* the answer is tracked (SEEN_REPLY), then dropped: nothing yet */
	udp4_from(&g, 1, H2_IP, H1_IP, 53, 6000, 9);
	put(1, &g);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, 4), 0);
	ev_expect(NULL, 0);
	/* the client's next datagram passes: the reply's UPDATE with it */
	udp4_from(&g, 0, H1_IP, H2_IP, 6000, 53, 8);
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
	static const char *const next[] = { " [UPDATE] udp      17 30 " U6K V6K };
	ev_expect(next, 1);
	/* and only once */
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
	ev_expect(NULL, 0);
#undef U6K
#undef V6K
	assert_int_equal(dp_ct_events(dp, false, err, sizeof(err)), 0);
}

/* CONNMARK in POSTROUTING on the ICMP answer to a REJECTed new
 * connection: no event, as the kernel's (nf_ct_deliver_cached_events
 * skips an unconfirmed conntrack): the connection never existed */
static void test_ct_events_unconfirmed(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install("*mangle\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j CONNMARK --set-mark 0x1\nCOMMIT\n"
		"*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p udp -j REJECT\nCOMMIT\n", NULL);
	char err[128];
	dp->ct_clock = w->ct->wtick;
	assert_int_equal(dp_ct_events(dp, true, err, sizeof(err)), 0);
	struct frame g, o[4];
	udp4_from(&g, 0, H1_IP, H2_IP, 6000, 53, 8);
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, 4), 1); /* the port unreachable */
	struct ev_log l = { .n = 0 };
	uint64_t lost = 0;
	dp_ct_events_drain(dp, ev_take, &l, 64, &lost);
	assert_int_equal(l.n, 0);
	assert_int_equal(dp_ct_events(dp, false, err, sizeof(err)), 0);
}

/* An IPv6 packet refused for its Hop-by-Hop options (before PREROUTING:
 * not tracked) is answered about no connection: the worker's previous
 * packet's connection keeps its cached change for its own next packet */
static void test_ct_events_hbh_error(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate INVALID -j DROP\n"
		"-A FORWARD -p udp -m length --length 37 -j DROP\nCOMMIT\n", NULL);
	char err[128];
	dp->ct_clock = w->ct->wtick;
	assert_int_equal(dp_ct_events(dp, true, err, sizeof(err)), 0);
	struct frame g, o[4];
	udp4_from(&g, 0, H1_IP, H2_IP, 6000, 53, 8);
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
	struct ev_log l = { .n = 0 };
	uint64_t lost = 0;
	dp_ct_events_drain(dp, ev_take, &l, 64, &lost);
	assert_int_equal(l.n, 1); /* NEW */
	udp4_from(&g, 1, H2_IP, H1_IP, 53, 6000, 9); /* SEEN_REPLY, dropped */
	put(1, &g);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, 4), 0);
	l.n = 0;
	dp_ct_events_drain(dp, ev_take, &l, 64, &lost);
	assert_int_equal(l.n, 0);
	/* an unrelated IPv6 datagram with a Hop-by-Hop option of action 10:
	 * a parameter problem back */
	static const uint8_t u10[6] = { 0x9e, 4, 0, 0, 0, 0 };
	struct frame f;
	f.n = 0;
	fr_eth(&f, port_mac(0), MAC_H1, 0x86dd);
	uint32_t ip = fr_ip6(&f, IPPROTO_HOPOPTS, 64, H1_IP6, H2_IP6);
	fr_u8(&f, IPPROTO_UDP);
	fr_u8(&f, 0);
	fr_put(&f, u10, 6);
	uint32_t l4 = fr_udp(&f, 5000, 53, 8);
	fr_ip6_end(&f, ip);
	fr_ip6_l4_csum(&f, ip, IPPROTO_UDP, l4, 6);
	put(0, &f);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, 4), 1);
	l.n = 0;
	dp_ct_events_drain(dp, ev_take, &l, 64, &lost);
	assert_int_equal(l.n, 0);
	/* the connection's next accepted packet reports it */
	udp4_from(&g, 1, H2_IP, H1_IP, 53, 6000, 8);
	put(1, &g);
	dp_worker_poll(w);
	assert_int_equal(take(0, o, 4), 1);
	l.n = 0;
	dp_ct_events_drain(dp, ev_take, &l, 64, &lost);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.lines[0], "[UPDATE]"));
	assert_int_equal(dp_ct_events(dp, false, err, sizeof(err)), 0);
}

static void test_ct_events(void **state)
{
	(void)state;
	learn_h1();
	learn_h2();
	install(el_rules4, el_rules6);
	char err[128];
	uint32_t base = w->ct->wtick;
	dp->ct_clock = base;
	struct frame g, o[4];
	/* off: nothing queued */
	udp4_from(&g, 0, H1_IP, H2_IP, 999, 53, 8);
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
	assert_int_equal(dp_ct_events(dp, true, err, sizeof(err)), 0);
	ev_expect(NULL, 0);
	static const struct { int port; uint8_t flags; uint32_t seq, ack; const char *data; } tcp[] = {
		{ 0, 0x02, 1000, 0, "" },     { 1, 0x12, 5000, 1001, "" },  { 0, 0x10, 1001, 5001, "" },
		{ 0, 0x18, 1001, 5001, "hi" }, { 1, 0x10, 5001, 1003, "" }, { 0, 0x11, 1003, 5001, "" },
		{ 1, 0x11, 5001, 1004, "" },  { 0, 0x10, 1004, 5002, "" },
	};
	for (unsigned k = 0; k < sizeof(tcp) / sizeof(tcp[0]); k++) {
		int p = tcp[k].port;
		tcp4_seg(&g, p, p ? H2_IP : H1_IP, p ? H1_IP : H2_IP, p ? 80 : 40000, p ? 40000 : 80,
			 tcp[k].flags, tcp[k].seq, tcp[k].ack, tcp[k].data);
		put(p, &g);
		dp_worker_poll(w);
		assert_int_equal(take(!p, o, 4), 1);
	}
#define T4 "src=10.77.1.2 dst=10.77.2.2 sport=40000 dport=80 "
#define R4 "src=10.77.2.2 dst=10.77.1.2 sport=80 dport=40000"
	static const char *const tcp_ev[] = {
		"    [NEW] tcp      6 120 SYN_SENT " T4 "[UNREPLIED] " R4,
		" [UPDATE] tcp      6 60 SYN_RECV " T4 R4,
		" [UPDATE] tcp      6 432000 ESTABLISHED " T4 R4 " [ASSURED]",
		" [UPDATE] tcp      6 120 FIN_WAIT " T4 R4 " [ASSURED]",
		" [UPDATE] tcp      6 30 LAST_ACK " T4 R4 " [ASSURED]",
		" [UPDATE] tcp      6 120 TIME_WAIT " T4 R4 " [ASSURED]",
	};
	ev_expect(tcp_ev, 6);
	/* UDP: new, answered (seen reply), a stream after 2 s (assured),
	 * then gone (30 s later: the wheel's expiry) with its counters */
	udp4_from(&g, 0, H1_IP, H2_IP, 5000, 53, 8);
	put(0, &g);
	dp_worker_poll(w);
	udp4_from(&g, 1, H2_IP, H1_IP, 53, 5000, 8);
	put(1, &g);
	dp_worker_poll(w);
	dp->ct_clock = base + 3 * CT_HZ;
	udp4_from(&g, 0, H1_IP, H2_IP, 5000, 53, 8);
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 2);
	assert_int_equal(take(0, o, 4), 1);
#define U4 "src=10.77.1.2 dst=10.77.2.2 sport=5000 dport=53 "
#define V4 "src=10.77.2.2 dst=10.77.1.2 sport=53 dport=5000"
	static const char *const udp_ev[] = {
		"    [NEW] udp      17 30 " U4 "[UNREPLIED] " V4,
		" [UPDATE] udp      17 30 " U4 V4,
		" [UPDATE] udp      17 120 " U4 V4 " [ASSURED]",
	};
	ev_expect(udp_ev, 3);
	/* the lane forwards an assured stream's packets: no event */
	uint64_t est = w->st.fast_est;
	put(0, &g);
	dp_worker_poll(w);
	assert_int_equal(take(1, o, 4), 1);
	assert_int_equal(w->st.fast_est, est + 1);
	ev_expect(NULL, 0);
	/* conntrack -D: DESTROY with the counters, as the kernel's */
	struct dp_ct_filter f;
	int used;
	char *words[] = { "-p", "udp", "--sport", "5000" };
	assert_int_equal(dp_ct_filter_parse(&f, 4, words, &used, err, sizeof(err)), 0);
	assert_int_equal(dp_ct_walk(dp, &f, true, NULL, NULL, err, sizeof(err)), 1);
	static const char *const del_ev[] = {
		"[DESTROY] udp      17 120 src=10.77.1.2 dst=10.77.2.2 sport=5000 dport=53 packets=3 "
		"bytes=108 src=10.77.2.2 dst=10.77.1.2 sport=53 dport=5000 packets=1 bytes=36 [ASSURED]",
	};
	ev_expect(del_ev, 1);
	/* the first flow (before -E) and the TCP connection expire */
	dp->ct_clock = base + 200 * CT_HZ;
	for (int k = 0; k < 100 && w->ct->live > 0; k++)
		dp_worker_poll(w);
	assert_int_equal(w->ct->live, 0);
	static const char *const exp_ev[] = {
		/* timed out: no timeout in the line, as ctnetlink's (0 is left out) */
		"[DESTROY] udp      17 src=10.77.1.2 dst=10.77.2.2 sport=999 dport=53 packets=1 bytes=36 "
		"[UNREPLIED] src=10.77.2.2 dst=10.77.1.2 sport=53 dport=999 packets=0 bytes=0",
		"[DESTROY] tcp      6 TIME_WAIT " T4 "packets=5 bytes=202 " R4 " packets=3 bytes=120 "
		"[ASSURED]",
	};
	ev_expect(exp_ev, 2);
	/* a full queue loses events, and counts them; the last reader gone,
	 * nothing more is queued */
	for (unsigned j = 0; j < 9000; j++) {
		udp4_from(&g, 0, H1_IP, H2_IP, (uint16_t)(10000 + j), 53, 8);
		put(0, &g);
		if (j % FL_BURST == FL_BURST - 1) {
			dp_worker_poll(w);
			while (take(1, o, 4) > 0)
				;
		}
	}
	struct ev_log *l = malloc(sizeof(*l));
	assert_non_null(l);
	uint64_t lost = 0, got = 0;
	for (;;) {
		l->n = 0;
		uint64_t x = 0;
		unsigned n = dp_ct_events_drain(dp, ev_take, l, 64, &x);
		lost += x;
		if (n == 0)
			break;
		got += n;
	}
	free(l);
	assert_int_equal(got, 8192);
	assert_int_equal(got + lost, 9000 - 9000 % FL_BURST);
	assert_int_equal(dp_ct_events(dp, false, err, sizeof(err)), 0);
	assert_null(w->ct->evq);
	dp->ct_clock = 0;
#undef T4
#undef R4
#undef U4
#undef V4
}

/* Run a request; its answer must be want. */
static void ctl_expect(struct rp_ctl_env *env, const char *words, const char *want)
{
	char *a = ctl_cmd(env, words);
	assert_string_equal(a, want);
	free(a);
}

/* Entries whose time is up but that their worker has not freed yet (its
 * expiry is bounded per loop: a mass expiry spreads over many) are gone
 * for conntrack -L, -C with a filter and -D, as the kernel's dump skips
 * them; the unfiltered count is the table's, as nf_conntrack_count. */
static void test_ctl_ct_expired(void **state)
{
	(void)state;
	struct dp_metrics_info info = { .version = "ut" };
	struct rp_ctl_env env = { .dp = dp, .info = &info };
	learn_h1();
	learn_h2();
	install("*filter\n:FORWARD DROP [0:0]\n"
		"-A FORWARD -m state --state NEW,ESTABLISHED -j ACCEPT\nCOMMIT\n", NULL);
	uint32_t base = w->ct->wtick;
	dp->ct_clock = base;
	struct frame f, o[FL_BURST];
	enum { CONNS = 200 };
	for (unsigned j = 0; j < CONNS; j++) {
		udp4_from(&f, 0, H1_IP, H2_IP, (uint16_t)(30000 + j), 53, 8);
		put(0, &f);
		if (j % FL_BURST == FL_BURST - 1 || j == CONNS - 1) {
			dp_worker_poll(w);
			while (take(1, o, FL_BURST) > 0)
				;
		}
	}
	ctl_expect(&env, "conntrack -C -p udp", "200\n%% ok\n");
	/* 31 s later (unreplied UDP: 30 s), one loop: its expiry's budget
	 * does not reach them (the wheel's 496 ticks first) */
	dp->ct_clock = base + 31 * CT_HZ;
	dp_worker_poll(w);
	uint32_t left = w->ct->live;
	assert_true(left > 0);
	ctl_expect(&env, "conntrack -L", "%% ok 0 flow entries have been shown.\n");
	ctl_expect(&env, "conntrack -C -p udp", "0\n%% ok\n");
	ctl_expect(&env, "conntrack -D -s 10.77.1.2", "%% ok 0 flow entries have been deleted.\n");
	char want[32];
	snprintf(want, sizeof(want), "%u\n%%%% ok\n", left);
	ctl_expect(&env, "conntrack -C", want);
	/* the worker frees them in its own time */
	for (int k = 0; k < 100 && w->ct->live > 0; k++)
		dp_worker_poll(w);
	assert_int_equal(w->ct->live, 0);
	assert_int_equal(w->ct->st.expired, CONNS);
	dp->ct_clock = 0;
}

/* rampartctl recent NAME +ADDR / -ADDR / "/": the kernel's writes to
 * /proc/net/xt_recent/NAME, on a list the workers use */
static void test_ctl_recent(void **state)
{
	(void)state;
	struct frame f, out;
	struct dp_metrics_info info = { .version = "ut" };
	struct rp_ctl_env env = { .dp = dp, .info = &info };
	learn_h1();
	learn_h2();
	install("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -p udp -m recent --rcheck --name ctlbl -j DROP\n"
		"COMMIT\n",
		NULL);
	static const char *const steps[][2] = {
		{ "recent ctlbl +10.77.1.2", "drop" },
		{ "recent ctlbl -10.77.1.2", "pass" },
		{ "recent ctlbl +10.77.1.2", "drop" },
		{ "recent ctlbl /", "pass" },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *a = ctl_cmd(&env, steps[i][0]);
		assert_string_equal(a, "%% ok\n");
		free(a);
		mk_udp4_port(&f, H1_IP, H2_IP, 53);
		put(0, &f);
		dp_worker_poll(w);
		if (!strcmp(steps[i][1], "drop"))
			expect_nothing();
		else
			take_one(1, &out);
	}
	char *a = ctl_cmd(&env, "recent ctlbl +fd77:1::2");
	assert_string_equal(a, "%% ok\n");
	free(a);
	a = ctl_cmd(&env, "show recent");
	assert_non_null(strstr(a, "src=fd77:1::2 ttl: 0 last_seen: "));
	free(a);
	a = ctl_cmd(&env, "recent nosuchlist +10.0.0.1");
	assert_non_null(strstr(a, "%% error: recent: no list \"nosuchlist\""));
	free(a);
	a = ctl_cmd(&env, "recent ctlbl 10.0.0.1");
	assert_non_null(strstr(a, "%% error: recent: need +ADDR, -ADDR or /"));
	free(a);
	a = ctl_cmd(&env, "recent ctlbl +10.0.0.300");
	assert_non_null(strstr(a, "%% error: recent: need +ADDR"));
	free(a);
	rules_recent_reset_all();
}

/* The answer is one JSON document then a "%% ok" line: the document must
 * parse (python3's json module) and the Python expression `check` on it
 * (d) must hold. */
static void json_check(const char *words, const char *answer, const char *check)
{
	const char *last = last_line(answer);
	if (strncmp(last, "%% ok", 5) != 0)
		fail_msg("'%s': not ok:\n%s", words, answer);
	if (answer[0] != '{' && answer[0] != '[')
		fail_msg("'%s': not a JSON document:\n%s", words, answer);
	for (const char *p = answer; p < last; p = strchr(p, '\n') + 1)
		if (*p == '%')
			fail_msg("'%s': a line of the document starts with '%%':\n%s", words, answer);
	char doc[] = "/tmp/rampart-ut-json-XXXXXX", py[] = "/tmp/rampart-ut-py-XXXXXX";
	int fd = mkstemp(doc), fp = mkstemp(py);
	assert_true(fd >= 0 && fp >= 0);
	size_t n = (size_t)(last - answer);
	assert_int_equal(write(fd, answer, n), (ssize_t)n);
	char prog[2048];
	int pl = snprintf(prog, sizeof(prog),
			  "import json, sys\n"
			  "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
			  "if not (%s):\n"
			  "    sys.exit('check failed: %%s' %% json.dumps(d))\n",
			  check);
	assert_true(pl > 0 && (size_t)pl < sizeof(prog));
	assert_int_equal(write(fp, prog, (size_t)pl), pl);
	close(fd);
	close(fp);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "python3 %s %s", py, doc);
	int rc = system(cmd);
	unlink(doc);
	unlink(py);
	if (rc != 0)
		fail_msg("'%s': invalid JSON or check '%s' failed (rc %d):\n%s", words, check, rc,
			 answer);
}

static const char json_v4[] =
	"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
	"*filter\n"
	":INPUT ACCEPT [0:0]\n"
	":FORWARD DROP [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n"
	":lan-out - [0:0]\n"
	"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
	"-A FORWARD -i lan0 -o wan0 -j lan-out\n"
	"-A lan-out -p udp -m udp --dport 53 -m comment --comment \"dns \\\"out\\\"\" -j ACCEPT\n"
	"-A lan-out -p tcp -m comment --comment --json -j ACCEPT\n"
	"COMMIT\n";

/* --json on the listings, through the real command code (src/ctl_cmd.c) on
 * a real dataplane: counters after packets, chains, conntrack, NAT, version,
 * trace; errors stay "%% error"; --json elsewhere is an ordinary word. */
/* A request with a body (restore, load), through the real command code. */
static char *ctl_body(struct rp_ctl_env *env, const char *words, const char *body)
{
	char line[512], *argv[32], *save = NULL;
	int argc = 0;
	snprintf(line, sizeof(line), "%s", words);
	for (char *t = strtok_r(line, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	assert_non_null(o);
	rp_ctl_exec(env, argc, argv, body, strlen(body), o);
	fclose(o);
	assert_non_null(buf);
	return buf;
}

static void expect_ok(char *a, const char *what)
{
	if (strncmp(last_line(a), "%% ok", 5) != 0)
		fail_msg("%s: not ok:\n%s", what, a);
	free(a);
}

static void expect_err(char *a, const char *what, const char *msg)
{
	if (strncmp(last_line(a), "%% error", 8) != 0 || strstr(a, msg) == NULL)
		fail_msg("%s: wanted an error with '%s':\n%s", what, msg, a);
	free(a);
}

static unsigned long generation(struct rp_ctl_env *env)
{
	char *a = ctl_cmd(env, "show version");
	const char *g = strstr(a, "ruleset_generation ");
	unsigned long n = g ? strtoul(g + 19, NULL, 10) : 0;
	free(a);
	return n;
}

/* the packets the DNS rule of lan-out counted, from -L -v -x */
static unsigned long dns_count(struct rp_ctl_env *env)
{
	char *a = ctl_cmd(env, "-L lan-out -v -x -n");
	unsigned long n = 0;
	for (char *l = a; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strstr(l, "udp dpt:53") && strncmp(l, "Chain", 5) != 0)
			n = strtoul(l, NULL, 10);
	free(a);
	return n;
}

/* Every kind of change through the command code (src/ctl_cmd.c) on a live
 * dataplane: counters carried, failures changing nothing. */
static void test_ctl_commands(void **state)
{
	(void)state;
	struct frame f, out;
	struct dp_metrics_info info = { .version = "ut" };
	struct rp_ctl_env env = { .dp = dp, .info = &info };
	learn_h1();
	learn_h2();
	expect_ok(ctl_body(&env, "restore", json_v4), "restore");
	unsigned long g0 = generation(&env);
	udp4_from(&f, 0, H1_IP, H2_IP, 5100, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(dns_count(&env), 1);

	/* one-shot commands; the DNS rule keeps its count through them */
	expect_ok(ctl_cmd(&env, "-I lan-out 1 -p udp --dport 5353 -j DROP"), "-I");
	expect_ok(ctl_cmd(&env, "-A FORWARD -p icmp -j ACCEPT"), "-A");
	expect_ok(ctl_cmd(&env, "-N spare"), "-N");
	expect_ok(ctl_cmd(&env, "-E spare extra"), "-E");
	expect_ok(ctl_cmd(&env, "-X extra"), "-X");
	expect_ok(ctl_cmd(&env, "-D lan-out 1"), "-D by number");
	expect_ok(ctl_cmd(&env, "-C FORWARD -p icmp -j ACCEPT"), "-C");
	expect_ok(ctl_cmd(&env, "-D FORWARD -p icmp -j ACCEPT"), "-D by rule");
	assert_int_equal(dns_count(&env), 1);
	unsigned long g1 = generation(&env);
	assert_int_equal(g1, g0 + 7); /* -C changes nothing */

	/* failures change nothing */
	expect_err(ctl_cmd(&env, "-D FORWARD 9"), "-D 9", "index of deletion too big");
	expect_err(ctl_cmd(&env, "-A nochain -j ACCEPT"), "-A nochain", "does not exist");
	expect_err(ctl_cmd(&env, "-P FORWARD MAYBE"), "-P", "bad policy");
	expect_err(ctl_body(&env, "restore --noflush", "*filter\n-A FORWARD -j NOWHERE\nCOMMIT\n"),
		   "bad restore", "stdin:2:");
	expect_err(ctl_cmd(&env, "set add nosuch 1.2.3.4"), "set add", "doesn't exist");
	expect_err(ctl_cmd(&env, "reload"), "reload without a configuration", "no configuration");
	expect_ok(ctl_body(&env, "restore --test", "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"),
		  "restore --test");
	assert_int_equal(generation(&env), g1);
	assert_int_equal(dns_count(&env), 1);

	/* save: the rules as iptables-save prints them */
	char *a = ctl_cmd(&env, "save -t filter");
	assert_non_null(strstr(a, "-A lan-out -p udp -m udp --dport 53 -m comment"));
	assert_null(strstr(a, "*nat"));
	expect_ok(a, "save");
	/* -Z zeroes, -c sets */
	expect_ok(ctl_cmd(&env, "-Z lan-out 1"), "-Z");
	assert_int_equal(dns_count(&env), 0);
	expect_ok(ctl_body(&env, "restore -c --noflush",
			   "*filter\n[7:700] -A FORWARD -p tcp --dport 9 -j DROP\nCOMMIT\n"), "restore -c");
	a = ctl_cmd(&env, "-S FORWARD -v");
	assert_non_null(strstr(a, "--dport 9 -c 7 700 -j DROP"));
	expect_ok(a, "-S -v");

	/* YAML: dump, load of the dump, dump again: the same */
	char *d1 = ctl_cmd(&env, "dump --yaml");
	const char *end = strstr(d1, "%% ok");
	assert_non_null(end);
	char *yaml = strndup(d1, (size_t)(end - d1));
	expect_ok(ctl_body(&env, "load ut.yaml", yaml), "load");
	char *d2 = ctl_cmd(&env, "dump --yaml");
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	free(yaml);
	expect_err(ctl_body(&env, "load ut.yaml", json_v4), "load iptables text", "restore");
	assert_int_equal(dns_count(&env), 0); /* load kept the (zeroed) rule's identity */
	udp4_from(&f, 0, H1_IP, H2_IP, 5101, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	assert_int_equal(dns_count(&env), 1);
}

/* -m quota through the command code: what a rule has spent stays spent
 * through changes that keep the rule (-I, --noflush, a rebuild), as
 * iptables-nft leaves the rule's xt_quota alone; -Z (a new identity, as
 * iptables-nft replaces the rule to zero it) and a restore that flushes
 * start it again; -S and -L show the configured amount, as the kernel. */
static void test_quota_ctl(void **state)
{
	(void)state;
	struct dp_metrics_info info = { .version = "ut" };
	struct rp_ctl_env env = { .dp = dp, .info = &info };
	static const char rs[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
				 ":OUTPUT ACCEPT [0:0]\n"
				 "-A FORWARD -p udp -m udp --dport 53 -m quota --quota 150 -j ACCEPT\n"
				 "-A FORWARD -p udp -m udp --dport 53 -j DROP\n"
				 "COMMIT\n";
	char err[256];
	learn_h1();
	learn_h2();
	expect_ok(ctl_body(&env, "restore", rs), "restore");
	assert_true(quota_pass4(53, 80)); /* 70 left */
	expect_ok(ctl_cmd(&env, "-I FORWARD 1 -p tcp -j ACCEPT"), "-I");
	assert_false(quota_pass4(53, 80)); /* kept: 80 > 70, spent */
	char *a = ctl_cmd(&env, "-S FORWARD");
	assert_non_null(strstr(a, "-A FORWARD -p udp -m udp --dport 53 -m quota --quota 150 -j ACCEPT\n"));
	expect_ok(a, "-S");
	a = ctl_cmd(&env, "-L FORWARD -v -n -x");
	assert_non_null(strstr(a, "udp dpt:53 quota: 150 bytes\n"));
	expect_ok(a, "-L");
	expect_ok(ctl_cmd(&env, "-Z FORWARD 2"), "-Z");
	assert_true(quota_pass4(53, 80)); /* a fresh 150: 70 left */
	assert_int_equal(dp_rules_rebuild(dp, err, sizeof(err)), 0);
	assert_false(quota_pass4(53, 80)); /* the rebuild kept it */
	expect_ok(ctl_body(&env, "restore --noflush", "*filter\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n"),
		  "restore --noflush");
	assert_false(quota_pass4(53, 29)); /* still spent */
	expect_ok(ctl_body(&env, "restore", rs), "restore again");
	assert_true(quota_pass4(53, 80)); /* new rules, a new budget */
	assert_true(quota_pass4(53, 70)); /* exactly all of it */
	assert_false(quota_pass4(53, 28));
	/* another rule inserted and deleted: kept (spent) */
	expect_ok(ctl_cmd(&env, "-I FORWARD 1 -p tcp -j ACCEPT"), "-I again");
	expect_ok(ctl_cmd(&env, "-D FORWARD 1"), "-D");
	assert_false(quota_pass4(53, 28));
	/* the rule replaced (-R), even by the same text: a new budget, as
	 * iptables-nft's new rule */
	expect_ok(ctl_cmd(&env, "-R FORWARD 1 -p udp -m udp --dport 53 -m quota --quota 150 -j ACCEPT"),
		  "-R");
	assert_true(quota_pass4(53, 80));
	assert_false(quota_pass4(53, 80));
}

static void test_ctl_json(void **state)
{
	(void)state;
	struct frame f, out;
	struct dp_metrics_info info = { .version = "ut", .reload_ok = true,
					.reload_time = 1700000000 };
	struct rp_ctl_env env = { .dp = dp, .info = &info, .last_apply_us = 1234 };
	learn_h1();
	learn_h2();
	install(json_v4, NULL);
	/* a DNS query out (NEW, lan-out rule 1), its answer (ESTABLISHED) and a
	 * second query on the same connection */
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	udp4_from(&f, 1, H2_IP, WAN_IP, 53, 5000, 30);
	put(1, &f);
	dp_worker_poll(w);
	take_one(0, &out);
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	/* not allowed: the policy drops it */
	udp4_from(&f, 0, H1_IP, H2_IP, 5001, 54, 10);
	put(0, &f);
	dp_worker_poll(w);
	expect_nothing();

	char *a = ctl_cmd(&env, "-L FORWARD -n --json");
	printf("%s", a); /* docs/cli.md shows this output */
	assert_true(a[0] == '{');
	assert_non_null(strstr(a, "\"name\":\"FORWARD\",\"policy\":\"DROP\",\"packets\":1,"
				  "\"bytes\":38,"));
	json_check("-L FORWARD --json", a,
		   "d['family'] == 'ipv4' and d['table'] == 'filter' and len(d['chains']) == 1 and "
		   "d['chains'][0]['name'] == 'FORWARD' and d['chains'][0]['policy'] == 'DROP' and "
		   "d['chains'][0]['packets'] == 1 and "
		   "[(r['num'], r['packets'], r['bytes'], r['target']) for r in d['chains'][0]['rules']]"
		   " == [(1, 2, 96, 'ACCEPT'), (2, 2, 76, 'lan-out')] and "
		   "d['chains'][0]['rules'][1]['rule'] == '-A FORWARD -i lan0 -o wan0 -j lan-out'");
	free(a);

	/* every chain; the user chain's references, comments (quotes escaped) */
	a = ctl_cmd(&env, "--json -L");
	printf("%s", a);
	json_check("--json -L", a,
		   "[c['name'] for c in d['chains']] == ['INPUT', 'FORWARD', 'OUTPUT', 'lan-out'] and "
		   "d['chains'][3]['references'] == 1 and 'policy' not in d['chains'][3] and "
		   "d['chains'][3]['rules'][0]['comment'] == 'dns \"out\"' and "
		   "d['chains'][3]['rules'][0]['packets'] == 1 and "
		   "d['chains'][3]['rules'][0]['bytes'] == 38 and "
		   "d['chains'][3]['rules'][1]['comment'] == '--json'");
	free(a);

	/* -S with a rule number, another table */
	a = ctl_cmd(&env, "-S lan-out 2 --json");
	json_check("-S lan-out 2 --json", a,
		   "len(d['chains'][0]['rules']) == 1 and d['chains'][0]['rules'][0]['num'] == 2 and "
		   "d['chains'][0]['rules'][0]['rule'] == "
		   "'-A lan-out -p tcp -m comment --comment --json -j ACCEPT'");
	free(a);
	a = ctl_cmd(&env, "-t nat -L POSTROUTING --json");
	json_check("-t nat -L POSTROUTING --json", a,
		   "d['table'] == 'nat' and d['chains'][0]['rules'][0]['target'] == 'MASQUERADE' and "
		   "d['chains'][0]['rules'][0]['packets'] == 1");
	free(a);
	a = ctl_cmd(&env, "-6 -L --json");
	json_check("-6 -L --json", a, "d['family'] == 'ipv6' and len(d['chains']) == 3");
	free(a);

	/* errors are not JSON */
	a = ctl_cmd(&env, "-L nochain --json");
	assert_string_equal(a, "%% error: nochain: No chain/target/match by that name.\n");
	free(a);
	a = ctl_cmd(&env, "save --json");
	assert_string_equal(a, "%% error: save: unknown option '--json' (-t TABLE, -c, -6)\n");
	free(a);
	/* --json outside a listing is a word like any other: here a comment */
	char cmd[] = "-C lan-out -p tcp -m comment --comment --json -j ACCEPT";
	a = ctl_cmd(&env, cmd);
	assert_string_equal(a, "%% ok\n");
	free(a);

	/* conntrack: the connection, both directions, the translation */
	a = ctl_cmd(&env, "conntrack -L --json");
	printf("%s", a);
	json_check("conntrack -L --json", a,
		   "len(d) == 1 and d[0]['proto'] == 'udp' and d[0]['protonum'] == 17 and "
		   "d[0]['original'] == {'src': '10.77.1.2', 'dst': '10.77.2.2', 'sport': 5000, "
		   "'dport': 53, 'packets': 2, 'bytes': 76} and "
		   "d[0]['reply'] == {'src': '10.77.2.2', 'dst': '10.77.2.1', 'sport': 53, "
		   "'dport': 5000, 'packets': 1, 'bytes': 58} and "
		   "'SRC_NAT' in d[0]['status'] and 'SEEN_REPLY' in d[0]['status'] and "
		   "not d[0]['unreplied'] and d[0]['mark'] == 0 and d[0]['timeout'] > 0");
	assert_string_equal(last_line(a), "%% ok 1 flow entries have been shown.\n");
	free(a);
	a = ctl_cmd(&env, "conntrack --json -L -p tcp");
	assert_string_equal(a, "[]\n%% ok 0 flow entries have been shown.\n");
	free(a);
	a = ctl_cmd(&env, "conntrack -S --json");
	printf("%s", a);
	json_check("conntrack -S --json", a,
		   "len(d) == 1 and d[0]['worker'] == 0 and d[0]['entries'] == 1 and "
		   "d[0]['new'] == 1 and d[0]['nat_src'] == 1");
	free(a);
	/* the text, from the same table of names */
	a = ctl_cmd(&env, "conntrack -S");
	assert_non_null(strstr(a, "worker=0 entries=1 max=262144 ipv6=0 max_ipv6=65536 found=2 new=1 "));
	assert_non_null(strstr(a, " nat_src=1 nat_dst=0 nat_port_changed=0 nat_fail=0 nat_icmp=0 "
				  "connlimit_full=0\n%% ok\n"));
	free(a);
	a = ctl_cmd(&env, "show nat");
	assert_string_equal(a, "worker=0 snat address=10.77.2.1 proto=udp connections=1 ports=1\n"
			       "worker=0 bindings_src=1 bindings_dst=0 port_changed=0 alloc_fail=0 "
			       "tuples_tried=1 icmp_errors=0 rss_steered=0 rss_unsteered=0 handoff_out=0 "
			       "handoff_in=0\n%% ok\n");
	free(a);
	a = ctl_cmd(&env, "conntrack -C --json");
	assert_string_equal(a, "%% error: conntrack: option --json needs a value\n");
	free(a);
	/* the helpers' expectations: conntrack -L/-C/-F expect */
	struct ct_tuple ek;
	memset(&ek, 0, sizeof(ek));
	ek.fam = 4;
	ek.proto = 6;
	memcpy(ek.src, H1_IP, 4);
	memcpy(ek.dst, H2_IP, 4);
	ek.dport = 30000;
	uint32_t tnow = (uint32_t)(rte_rdtsc() / dp->ct_tsc_tick);
	struct ct_tuple mt = ek; /* its control connection */
	mt.sport = 40000;
	mt.dport = 21;
	assert_true(ct_expect_add(dp->ct_exp, &ek, CT_HELPER_FTP, NULL, NULL, 0, &mt, 3,
				  tnow + 300 * CT_HZ, tnow, false) >= 0);
	a = ctl_cmd(&env, "conntrack -L expect");
	/* as conntrack-tools prints the kernel's */
	assert_non_null(strstr(a, " proto=6 src=10.77.1.2 dst=10.77.2.2 sport=0 dport=30000 "
				  "mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 "
				  "dport=65535 master-src=10.77.1.2 master-dst=10.77.2.2 sport=40000 "
				  "dport=21 class=0 helper=ftp\n%% ok 1 expectations have been shown.\n"));
	free(a);
	a = ctl_cmd(&env, "conntrack -L expect --json");
	json_check("conntrack -L expect --json", a,
		   "len(d) == 1 and d[0]['proto'] == 'tcp' and d[0]['dport'] == 30000 and "
		   "d[0]['helper'] == 'ftp' and 295 <= d[0]['timeout'] <= 300 and "
		   "d[0]['mask_src'] == '255.255.255.255' and d[0]['mask_sport'] == 0 and "
		   "d[0]['master_sport'] == 40000 and d[0]['master_dport'] == 21");
	free(a);
	a = ctl_cmd(&env, "conntrack -C expect");
	assert_string_equal(a, "1\n%% ok\n");
	free(a);
	a = ctl_cmd(&env, "conntrack -D expect");
	assert_string_equal(a, "%% error: conntrack: expect goes with -L, -C or -F\n");
	free(a);
	a = ctl_cmd(&env, "conntrack -F expect");
	assert_string_equal(a, "%% ok expectation table has been emptied (1 entries).\n");
	free(a);
	a = ctl_cmd(&env, "conntrack -C expect");
	assert_string_equal(a, "0\n%% ok\n");
	free(a);

	a = ctl_cmd(&env, "show nat --json");
	printf("%s", a);
	json_check("show nat --json", a,
		   "d['addresses'] == [{'worker': 0, 'type': 'snat', 'address': '10.77.2.1', "
		   "'proto': 'udp', 'connections': 1, 'ports': 1}] and not d['truncated'] and "
		   "d['workers'][0]['bindings_src'] == 1");
	free(a);

	a = ctl_cmd(&env, "show version --json");
	printf("%s", a);
	json_check("show version --json", a,
		   "d['version'] == '" RAMPART_VERSION "' and d['ruleset_generation'] == 1 and "
		   "d['last_change'].startswith('2023-11-1') and d['last_change_ok'] is True and "
		   "d['last_apply_ms'] == 1.234");
	free(a);

	/* trace show: the traced packets as an array */
	a = ctl_cmd(&env, "trace show --json");
	assert_string_equal(a, "[]\n%% ok nothing traced (trace add N [FILTER] arms tracing)\n");
	free(a);
	a = ctl_cmd(&env, "trace add 1 -p udp");
	free(a);
	udp4_from(&f, 0, H1_IP, H2_IP, 5000, 53, 10);
	put(0, &f);
	dp_worker_poll(w);
	take_one(1, &out);
	a = ctl_cmd(&env, "trace show --json");
	printf("%s", a);
	json_check("trace show --json", a,
		   "len(d) == 1 and d[0]['trace'] == 1 and d[0]['in'] == 'lan0' and "
		   "d[0]['packet']['sport'] == 5000 and d[0]['packet']['proto'] == 'udp' and "
		   "d[0]['conntrack'] == 'ESTABLISHED' and d[0]['fate'] == 'forward' and "
		   "d[0]['out'] == 'wan0' and d[0]['nat'] == {'src': '10.77.2.1', 'sport': 5000, "
		   "'dst': '10.77.2.2', 'dport': 53} and "
		   "{'hook': 'FORWARD', 'raw': False, 'answer': False, 'table': 'filter', "
		   "'chain': 'FORWARD', 'rule': 1, 'text': "
		   "'-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'} in d[0]['steps']"
		   " and d[0]['verdict'] == 'forwarded out wan0'");
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_reply, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_nd_advert, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_echo, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_forward4, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_nh_cache, nh_setup, dp_down),
		cmocka_unit_test(test_default_route), /* each case brings its own */
		cmocka_unit_test_setup_teardown(test_log_deep, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_fast_lane_differential, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_fast_lane_rules, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_fast_lane_fragments, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_fast_lane_default_route, fl_default_setup,
						dp_down),
		cmocka_unit_test_setup_teardown(test_ttl_expired, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_no_route, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_hop_limit6, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_mtu, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_fragment4, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_source_route, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_hbh_opts, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tcp_reset, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_martian, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_l2_drops, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_mixed_burst, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_slow_path_bounds, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_neigh_failed, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tx_full, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_create_errors, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_icmp_ratelimit, router_rl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_bridge, bridge_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_filter_forward, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_reject_csum, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_trace, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_trace_nat_reject, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_quota_ctl, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ctl_json, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ctl_commands, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ctl_recent, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ctl_ct_expired, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ct_events, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ct_events_cached, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ct_events_unconfirmed, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ct_events_hbh_error, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_filter_mangle, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tee, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tee_reassembled, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_empty_hooks, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tx_burst_never_full, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tcpmss, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_rpfilter, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_statistic, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_quota, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_hashlimit, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_time, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ecn, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tcpmss_match, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_esp_ah, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_string, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_nat_ftp_port, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_conntrack_forward, router_setup, dp_down),
		cmocka_unit_test_teardown(test_est_lane_differential, dp_down_if_up),
		cmocka_unit_test_teardown(test_est_lane_nat, dp_down_if_up),
		cmocka_unit_test_teardown(test_est_lane_full, dp_down_if_up),
		cmocka_unit_test_teardown(test_est_lane_evict, dp_down_if_up),
		cmocka_unit_test_setup_teardown(test_est_lane_cases, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_est_lane_rules, fl_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_connlimit_refused_freed, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_connlimit_zones, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_ct_timeout_policy, tpol_setup, tpol_down),
		cmocka_unit_test_setup_teardown(test_nat_null_binding, router_setup, dp_down),
				cmocka_unit_test_setup_teardown(test_nat_masquerade, router_setup, dp_down),
		cmocka_unit_test_teardown(test_nat_rss_steering, dp_down_if_up),
		cmocka_unit_test_teardown(test_handoff_ct_template, dp_down_if_up),
		cmocka_unit_test_setup_teardown(test_masquerade_address, masq2_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_metrics_exposition, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_conntrack_reassembly, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_filter_ipv6_and_swap, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_filter_bridge, bridge_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_tcpmss_bridge, bridge_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_conntrack_bridge_reassembly, bridge_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_conntrack_reassembly_many, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_conntrack_reassembly6, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_conntrack_checksum, router_setup, dp_down),
		cmocka_unit_test_setup_teardown(test_nat_tftp_follow, router_setup, dp_down),
	};
	return cmocka_run_group_tests_name("router", tests, group_setup, group_teardown);
}
