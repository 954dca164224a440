/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * neigh_ctl: ARP and IPv6 neighbour discovery, on the control thread.
 *
 * Workers punt ARP and ND packets here, and packets whose next hop has no
 * known link-layer address. This file answers requests for our addresses,
 * learns neighbours (RFC 826 merge rule: update known entries, create one
 * when a request is addressed to us), probes unresolved next hops (at most
 * one probe a second, three before giving up), holds waiting packets in one
 * bounded FIFO and releases them, Ethernet header written, through the
 * punting worker's inject ring. Reachable entries are re-confirmed with
 * unicast probes after neighbours.reachable_s and invalidated after three
 * unanswered ones; workers then punt again.
 *
 * Single writer: only this thread writes struct dp_nh and the hash.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "dp_priv.h"
#include "log.h"

#define NEIGH_MAX_PROBES 3

struct dp_pend {
	struct rte_mbuf *m;
	uint64_t since;
	int nh;
};

struct dp_pending {
	uint32_t cap, n;
	struct dp_pend q[];
};

int dp_neigh_init(struct dp_ctx *dp, uint32_t queue_len)
{
	dp->pending = calloc(1, sizeof(*dp->pending) + queue_len * sizeof(struct dp_pend));
	if (dp->pending == NULL)
		return -ENOMEM;
	dp->pending->cap = queue_len;
	return 0;
}

unsigned dp_neigh_held(const struct dp_ctx *dp)
{
	return dp->pending ? dp->pending->n : 0;
}

void dp_neigh_free(struct dp_ctx *dp)
{
	if (dp->pending == NULL)
		return;
	for (uint32_t i = 0; i < dp->pending->n; i++)
		rte_pktmbuf_free(dp->pending->q[i].m);
	free(dp->pending);
	dp->pending = NULL;
}

static void inject(struct dp_ctx *dp, uint16_t worker, struct rte_mbuf *m, uint16_t out)
{
	dp_priv(m)->out_port = out;
	if (worker >= dp->n_workers)
		worker = 0;
	/* single producer: only the control thread enqueues on inject rings */
	if (rte_ring_sp_enqueue(dp->workers[worker]->inject, m) != 0) {
		dp->ctl_drop[DP_DROP_PUNT_RING_FULL]++;
		rte_pktmbuf_free(m);
	}
}

static void fill_eth(struct dp_ctx *dp, struct rte_mbuf *m, uint64_t mac, uint16_t out)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	dp_mac_unpack(mac, &eth->dst_addr);
	rte_ether_addr_copy(&dp->ports[out].mac, &eth->src_addr);
}

static void release_pending(struct dp_ctx *dp, int nh)
{
	struct dp_pending *p = dp->pending;
	uint64_t mac = dp->nh[nh].mac;
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		if (p->q[i].nh == nh) {
			struct rte_mbuf *m = p->q[i].m;
			fill_eth(dp, m, mac, dp->nh[nh].port);
			inject(dp, dp_priv(m)->worker, m, dp->nh[nh].port);
		} else {
			p->q[k++] = p->q[i];
		}
	}
	p->n = k;
}

static void nh_confirm(struct dp_ctx *dp, int idx, const struct rte_ether_addr *mac)
{
	struct dp_nh *nh = &dp->nh[idx];
	uint64_t v = DP_NH_VALID | dp_mac_pack(mac);
	uint64_t now = rte_rdtsc();
	if ((nh->mac & DP_NH_VALID) && nh->mac != v && now > nh->confirmed_tsc &&
	    now - nh->confirmed_tsc < dp->tsc_hz) {
		/* Linux's ARP locktime (1 s): a different MAC right after a
		 * confirmation is more likely a spoof or a race than a move */
		dp->ctl_drop[DP_DROP_ARP_IGNORED]++;
		return;
	}
	if (nh->mac != v)
		RP_DEBUG("neigh", "%s neighbour on %s now %02x:%02x:%02x:%02x:%02x:%02x",
			 nh->family == 4 ? "IPv4" : "IPv6", dp->ports[nh->port].name,
			 mac->addr_bytes[0], mac->addr_bytes[1], mac->addr_bytes[2],
			 mac->addr_bytes[3], mac->addr_bytes[4], mac->addr_bytes[5]);
	/* release: workers that see the valid bit see the whole MAC */
	__atomic_store_n(&nh->mac, v, __ATOMIC_RELEASE);
	nh->confirmed_tsc = now;
	nh->probes = 0;
	release_pending(dp, idx);
}

static bool in_subnet4(const struct dp_port *p, const uint8_t *a, unsigned *which)
{
	uint32_t ip;
	memcpy(&ip, a, 4);
	ip = rte_be_to_cpu_32(ip);
	for (unsigned i = 0; i < p->n4; i++) {
		uint32_t mine = rte_be_to_cpu_32(p->ip4[i]);
		uint32_t mask = p->plen4[i] ? ~0u << (32 - p->plen4[i]) : 0;
		if ((ip & mask) == (mine & mask)) {
			if (which)
				*which = i;
			return true;
		}
	}
	return false;
}

static bool is_mine4(const struct dp_port *p, const uint8_t *a)
{
	for (unsigned i = 0; i < p->n4; i++)
		if (memcmp(&p->ip4[i], a, 4) == 0)
			return true;
	return false;
}

static void handle_arp(struct dp_ctx *dp, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *pv = dp_priv(m);
	uint16_t in = pv->in_port;
	const struct dp_port *port = &dp->ports[in];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *a = &arp->arp_data;
	uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
	uint8_t sip[4], tip[4];
	memcpy(sip, &a->arp_sip, 4);
	memcpy(tip, &a->arp_tip, 4);

	if (rte_is_multicast_ether_addr(&a->arp_sha) || rte_is_zero_ether_addr(&a->arp_sha) ||
	    rte_is_same_ether_addr(&a->arp_sha, &port->mac) ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
		dp->ctl_drop[DP_DROP_ARP_IGNORED]++;
		rte_pktmbuf_free(m);
		return;
	}
	bool for_us = is_mine4(port, tip);
	bool sender_ok = sip[0] != 0 && in_subnet4(port, sip, NULL) && !is_mine4(port, sip);
	if (sender_ok) {
		int nh = dp_nh_get(dp, 4, sip, in, for_us && op == RTE_ARP_OP_REQUEST);
		if (nh >= 0)
			nh_confirm(dp, nh, &a->arp_sha);
	}
	if (op == RTE_ARP_OP_REQUEST && for_us) {
		struct rte_ether_addr sha = a->arp_sha;
		arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		a->arp_tha = sha;
		memcpy(&a->arp_tip, sip, 4);
		rte_ether_addr_copy(&port->mac, &a->arp_sha);
		memcpy(&a->arp_sip, tip, 4);
		rte_ether_addr_copy(&sha, &eth->dst_addr);
		rte_ether_addr_copy(&port->mac, &eth->src_addr);
		/* drop Ethernet padding beyond the ARP payload */
		uint32_t want = RTE_ETHER_HDR_LEN + sizeof(*arp);
		if (rte_pktmbuf_pkt_len(m) > want)
			rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - want));
		inject(dp, pv->worker, m, in);
		return;
	}
	if (!for_us && op == RTE_ARP_OP_REQUEST && !sender_ok)
		dp->ctl_drop[DP_DROP_ARP_IGNORED]++;
	rte_pktmbuf_free(m);
}

/* Find a link-layer address option (type 1 source, 2 target) in ND options. */
static const uint8_t *nd_opt_lla(const uint8_t *opt, uint32_t len, uint8_t type, bool *bad)
{
	const uint8_t *found = NULL;
	while (len >= 2) {
		uint32_t olen = (uint32_t)opt[1] * 8;
		if (olen == 0 || olen > len) {
			*bad = true; /* RFC 4861 7.1.1: silently discard */
			return NULL;
		}
		if (opt[0] == type && olen >= 8)
			found = opt + 2;
		opt += olen;
		len -= olen;
	}
	return found;
}

static void solicited_node(const uint8_t *target, uint8_t out[16], struct rte_ether_addr *mac)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };
	memcpy(out, pfx, 13);
	memcpy(out + 13, target + 13, 3);
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(&mac->addr_bytes[2], out + 12, 4);
}

/* Write an ND message (NS or NA with one link-layer option) into m. */
static void build_nd(struct rte_mbuf *m, const struct rte_ether_addr *eth_dst,
		     const struct rte_ether_addr *eth_src, const uint8_t *src, const uint8_t *dst,
		     uint8_t type, uint32_t flags, const uint8_t *target, uint8_t opt_type)
{
	const uint16_t len = RTE_ETHER_HDR_LEN + 40 + 32;
	rte_pktmbuf_reset_headroom(m);
	m->data_len = len;
	m->pkt_len = len;
	m->nb_segs = 1;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	rte_ether_addr_copy(eth_dst, &eth->dst_addr);
	rte_ether_addr_copy(eth_src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);
	dp_ip6_hdr(ip6, 32, IPPROTO_ICMPV6, 255, src, dst);
	uint8_t *icmp = (uint8_t *)(ip6 + 1);
	memset(icmp, 0, 32);
	icmp[0] = type;
	uint32_t fl = rte_cpu_to_be_32(flags);
	memcpy(icmp + 4, &fl, 4);
	memcpy(icmp + 8, target, 16);
	icmp[24] = opt_type;
	icmp[25] = 1;
	memcpy(icmp + 26, eth_src, 6);
	uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
	memcpy(icmp + 2, &ck, 2);
}

static void handle_nd(struct dp_ctx *dp, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *pv = dp_priv(m);
	uint16_t in = pv->in_port;
	const struct dp_port *port = &dp->ports[in];
	struct pkt_meta pm = { .in_port = in };
	static const uint8_t zero[16];

	pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &pm, 0);
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, pm.l3_off);
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, pm.l4_off);
	uint32_t ilen = (uint32_t)pm.l3_len - (pm.l4_off - pm.l3_off);
	/* RFC 4861 7.1: hop limit 255, code 0, valid checksum, no fragments */
	if (pm.drop != DP_DROP_NONE || pm.l3 != PKT_L3_IPV6 || (pm.flags & PKT_F_FRAG) ||
	    pm.l4_proto != IPPROTO_ICMPV6 || ip6->hop_limits != 255 || icmp[1] != 0 ||
	    pm.l4_off != pm.l3_off + 40 || ilen < 24 ||
	    rte_ipv6_udptcp_cksum_verify(ip6, icmp) != 0)
		goto ignore;

	uint8_t type = icmp[0];
	uint8_t target[16], src[16];
	memcpy(target, icmp + 8, 16);
	memcpy(src, ip6->src_addr, 16);
	bool bad = false;
	if (target[0] == 0xff)
		goto ignore;

	if (type == 135) { /* neighbour solicitation */
		const uint8_t *slla = nd_opt_lla(icmp + 24, ilen - 24, 1, &bad);
		bool dad = memcmp(src, zero, 16) == 0;
		if (bad || (dad && slla) || !dp_addr_is_local6(dp, in, target))
			goto ignore;
		struct rte_ether_addr peer, eth_dst;
		if (!dad) {
			if (slla == NULL) /* unicast NS may omit it; answer to the frame's source */
				rte_ether_addr_copy(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr,
						    &peer);
			else
				memcpy(&peer, slla, 6);
			if (slla != NULL && !rte_is_multicast_ether_addr(&peer)) {
				int nh = dp_nh_get(dp, 6, src, in, true);
				if (nh >= 0)
					nh_confirm(dp, nh, &peer);
			}
			eth_dst = peer;
		}
		static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
		static const struct rte_ether_addr all_nodes_mac = {
			{ 0x33, 0x33, 0, 0, 0, 1 } };
		if (dad)
			eth_dst = all_nodes_mac;
		/* router, solicited (unless DAD), override */
		uint32_t flags = 0x80000000u | (dad ? 0 : 0x40000000u) | 0x20000000u;
		build_nd(m, &eth_dst, &port->mac, target, dad ? all_nodes : src, 136, flags, target,
			 2);
		inject(dp, pv->worker, m, in);
		return;
	}
	if (type == 136) { /* neighbour advertisement */
		const uint8_t *tlla = nd_opt_lla(icmp + 24, ilen - 24, 2, &bad);
		if (bad)
			goto ignore;
		int nh = dp_nh_get(dp, 6, target, in, false);
		if (tlla == NULL) {
			/* RFC 4861 7.2.5: without a target link-layer address a
			 * solicited NA confirms an entry whose address we know.
			 * Linux answers our unicast re-confirmation probes so. */
			if (nh < 0 || !(icmp[4] & 0x40) || !(dp->nh[nh].mac & DP_NH_VALID))
				goto ignore;
			struct rte_ether_addr known;
			dp_mac_unpack(dp->nh[nh].mac, &known);
			nh_confirm(dp, nh, &known);
			rte_pktmbuf_free(m);
			return;
		}
		if (nh >= 0) {
			struct rte_ether_addr mac;
			memcpy(&mac, tlla, 6);
			if (!rte_is_multicast_ether_addr(&mac))
				nh_confirm(dp, nh, &mac);
		}
		rte_pktmbuf_free(m);
		return;
	}
ignore:
	dp->ctl_drop[DP_DROP_ND_IGNORED]++;
	rte_pktmbuf_free(m);
}

/* Send an ARP request or neighbour solicitation for nh (unicast when we
 * are re-confirming a known address). */
static void probe(struct dp_ctx *dp, int idx)
{
	struct dp_nh *nh = &dp->nh[idx];
	const struct dp_port *port = &dp->ports[nh->port];
	nh->probe_tsc = rte_rdtsc();
	nh->probes++;
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	if (m == NULL) {
		dp->ctl_drop[DP_DROP_NO_MBUF]++;
		return;
	}
	struct rte_ether_addr dst;
	bool unicast = (nh->mac & DP_NH_VALID) != 0;
	if (unicast)
		dp_mac_unpack(nh->mac, &dst);
	if (nh->family == 4) {
		unsigned which = 0;
		if (port->n4 == 0) {
			rte_pktmbuf_free(m);
			return;
		}
		in_subnet4(port, nh->addr, &which);
		const uint16_t len = RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr);
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
		if (!unicast)
			memset(&dst, 0xff, sizeof(dst));
		rte_ether_addr_copy(&dst, &eth->dst_addr);
		rte_ether_addr_copy(&port->mac, &eth->src_addr);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
		arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
		arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		arp->arp_hlen = RTE_ETHER_ADDR_LEN;
		arp->arp_plen = 4;
		arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
		rte_ether_addr_copy(&port->mac, &arp->arp_data.arp_sha);
		arp->arp_data.arp_sip = port->ip4[which];
		memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
		memcpy(&arp->arp_data.arp_tip, nh->addr, 4);
	} else {
		uint8_t src[16], dst_ip[16];
		struct rte_ether_addr mc;
		if (dp_port_src6(port, nh->addr, src) < 0) {
			rte_pktmbuf_free(m);
			return;
		}
		solicited_node(nh->addr, dst_ip, &mc);
		if (unicast)
			memcpy(dst_ip, nh->addr, 16);
		else
			dst = mc;
		build_nd(m, &dst, &port->mac, src, dst_ip, 135, 0, nh->addr, 1);
	}
	inject(dp, 0, m, nh->port);
}

static void handle_resolve(struct dp_ctx *dp, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *pv = dp_priv(m);
	if (pv->out_port >= dp->n_ports) {
		rte_pktmbuf_free(m);
		return;
	}
	int nh = dp_nh_get(dp, pv->family, pv->addr, pv->out_port, true);
	if (nh < 0) {
		dp->ctl_drop[DP_DROP_NEIGH_FAILED]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (dp->nh[nh].mac & DP_NH_VALID) { /* resolved while in flight */
		fill_eth(dp, m, dp->nh[nh].mac, pv->out_port);
		inject(dp, pv->worker, m, pv->out_port);
		return;
	}
	struct dp_pending *p = dp->pending;
	if (p->n == p->cap) {
		dp->ctl_drop[DP_DROP_NEIGH_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
	} else {
		p->q[p->n++] = (struct dp_pend){ .m = m, .since = rte_rdtsc(), .nh = nh };
	}
	if (dp->nh[nh].probes == 0 || rte_rdtsc() - dp->nh[nh].probe_tsc > dp->tsc_hz)
		probe(dp, nh);
}

void dp_neigh_handle(struct dp_ctx *dp, struct rte_mbuf *m)
{
	switch (dp_priv(m)->reason) {
	case DP_PUNT_ARP:
		handle_arp(dp, m);
		break;
	case DP_PUNT_ND:
		handle_nd(dp, m);
		break;
	case DP_PUNT_RESOLVE:
		handle_resolve(dp, m);
		break;
	default:
		rte_pktmbuf_free(m);
		break;
	}
}

/* More than d cycles between t and now. probe() stamps entries with a fresh
 * rte_rdtsc(), later than the now of the scan that probed them: such an
 * entry was probed just now, not long ago (now - t would wrap). */
static inline bool tsc_elapsed(uint64_t now, uint64_t t, uint64_t d)
{
	return now > t && now - t > d;
}

void dp_neigh_timers(struct dp_ctx *dp)
{
	uint64_t now = rte_rdtsc();
	if (now - dp->last_scan_tsc < dp->tsc_hz / 10)
		return;
	dp->last_scan_tsc = now;

	/* held packets: re-probe each second, give up after three probes */
	struct dp_pending *p = dp->pending;
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		struct dp_nh *nh = &dp->nh[p->q[i].nh];
		if (nh->probes >= NEIGH_MAX_PROBES && tsc_elapsed(now, nh->probe_tsc, dp->tsc_hz)) {
			/* the worker that punted it answers the sender (it owns
			 * the ICMP rate limit and the IP id counter) */
			struct rte_mbuf *m = p->q[i].m;
			dp->ctl_drop[DP_DROP_NEIGH_FAILED]++;
			dp_priv(m)->reason = DP_INJ_UNREACH;
			inject(dp, dp_priv(m)->worker, m, dp_priv(m)->in_port);
			continue;
		}
		if (tsc_elapsed(now, nh->probe_tsc, dp->tsc_hz))
			probe(dp, p->q[i].nh);
		p->q[k++] = p->q[i];
	}
	p->n = k;
	for (uint32_t i = 0; i < dp->nh_used; i++)
		if (!(dp->nh[i].mac & DP_NH_VALID) && dp->nh[i].probes >= NEIGH_MAX_PROBES &&
		    tsc_elapsed(now, dp->nh[i].probe_tsc, dp->tsc_hz))
			dp->nh[i].probes = 0; /* failed: the next packet starts afresh */

	/* reachable entries: re-confirm after reachable time, drop if silent */
	for (uint32_t i = 0; i < dp->nh_used; i++) {
		struct dp_nh *nh = &dp->nh[i];
		if (!(nh->mac & DP_NH_VALID) || !tsc_elapsed(now, nh->confirmed_tsc, dp->reachable_tsc))
			continue;
		if (nh->probes >= NEIGH_MAX_PROBES && tsc_elapsed(now, nh->probe_tsc, dp->tsc_hz)) {
			RP_INFO("neigh", "neighbour on %s stopped answering; entry invalidated",
				dp->ports[nh->port].name);
			__atomic_store_n(&nh->mac, 0, __ATOMIC_RELEASE);
			nh->probes = 0;
		} else if (nh->probes < NEIGH_MAX_PROBES &&
			   tsc_elapsed(now, nh->probe_tsc, dp->tsc_hz)) {
			probe(dp, (int)i);
		}
	}
}
