/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * filter_fast: the netfilter hooks on the worker.
 *
 * dp_hook() builds the rules' view of a packet (struct rules_pkt) from the
 * parser's metadata and the headers, runs the hook's tables through the
 * published program (rules_eval_hook), writes back what the targets changed
 * (mark, TOS/DSCP, TTL/hop limit with an RFC 1624 checksum update), queues
 * LOG records for the control thread, and returns the verdict. The caller
 * drops or rejects; REJECT responses are built in place in the offending
 * mbuf and sent as the box's own packets (OUTPUT hook).
 *
 * Worker context only: the program is read through the pointer loaded once
 * per burst (RCU: the control thread frees an old program only after every
 * worker has reported a quiescent state), counters are this worker's own.
 */
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_ring.h>

#include "dp_priv.h"


static inline void addr_type4(const struct dp_ctx *dp, const uint8_t *a, uint16_t *t)
{
	if (a[0] >= 224 && a[0] < 240) {
		*t = RULES_AT_MULTICAST;
		return;
	}
	if ((a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)) {
		*t = RULES_AT_BROADCAST;
		return;
	}
	if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0) {
		*t = RULES_AT_UNSPEC;
		return;
	}
	uint32_t d, v;
	memcpy(&d, a, 4);
	if (dp->lpm4 == NULL) { /* a bridge: no addresses, no routes */
		*t = RULES_AT_UNICAST;
		return;
	}
	if (rte_lpm_lookup(dp->lpm4, rte_be_to_cpu_32(d), &v) == 0) {
		unsigned kind = v >> DP_NHV_SHIFT;
		if (kind == DP_NHV_LOCAL) {
			*t = RULES_AT_LOCAL;
			return;
		}
		if (kind == DP_NHV_BCAST) {
			*t = RULES_AT_BROADCAST;
			return;
		}
		*t = RULES_AT_UNICAST;
		return;
	}
	*t = RULES_AT_UNREACHABLE;
}

static inline void addr_type6(const struct dp_ctx *dp, const uint8_t *a, uint16_t *t)
{
	static const uint8_t zero[16];
	if (a[0] == 0xff) {
		*t = RULES_AT_MULTICAST;
		return;
	}
	if (memcmp(a, zero, 16) == 0) {
		*t = RULES_AT_UNSPEC;
		return;
	}
	for (unsigned p = 0; p < dp->n_ports; p++)
		if (dp_addr_is_local6(dp, (uint16_t)p, a)) {
			*t = RULES_AT_LOCAL;
			return;
		}
	*t = RULES_AT_UNICAST;
}

/* The tracker's states and status bits are the rules' own values: the view
 * takes them as they are. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(CT_INVALID, RULES_CT_INVALID) && SAME(CT_NEW, RULES_CT_NEW) &&
		       SAME(CT_RELATED, RULES_CT_RELATED) &&
		       SAME(CT_ESTABLISHED, RULES_CT_ESTABLISHED) &&
		       SAME(CT_UNTRACKED, RULES_CT_UNTRACKED),
	       "conntrack states must equal RULES_CT_*");
_Static_assert((int)RULES_HELPER_FTP == (int)CT_HELPER_FTP &&
		       (int)RULES_HELPER_TFTP == (int)CT_HELPER_TFTP &&
		       (int)RULES_HELPER_IRC == (int)CT_HELPER_IRC,
	       "the rules' helper ids are the tracker's");
_Static_assert(SAME(CT_S_EXPECTED, RULES_CTS_EXPECTED) &&
		       SAME(CT_S_SEEN_REPLY, RULES_CTS_SEEN_REPLY) &&
		       SAME(CT_S_ASSURED, RULES_CTS_ASSURED) &&
		       SAME(CT_S_CONFIRMED, RULES_CTS_CONFIRMED),
	       "conntrack status bits must equal RULES_CTS_*");
#undef SAME

/* The rules' view of connection idx (only when a rule looks into it). */
static const struct rules_ct *dp_ct_view(struct dp_worker *w, uint32_t idx)
{
	struct rules_ct *c = &w->ctv;
	const struct ct_entry *e = &w->ct->e[idx];
	struct ct_tuple o, r;
	ct_entry_tuple(w->ct, idx, 0, &o);
	ct_entry_tuple(w->ct, idx, 1, &r);
	c->proto = e->proto;
	int32_t left = (int32_t)(e->expire - w->ct_now);
	c->expire_s = left > 0 ? (uint32_t)left / CT_HZ : 0;
	memcpy(c->osrc.b, o.src, 16);
	memcpy(c->odst.b, o.dst, 16);
	memcpy(c->rsrc.b, r.src, 16);
	memcpy(c->rdst.b, r.dst, 16);
	c->osport = o.sport;
	c->odport = o.dport;
	c->rsport = r.sport;
	c->rdport = r.dport;
	for (unsigned d = 0; d < 2; d++) {
		c->pkts[d] = ct_pkts(e, d);
		c->bytes[d] = ct_bytes(e, d);
	}
	return c;
}

/* -m connlimit's count: this worker's connections of the key, this one
 * added, and what the other workers published */
static uint32_t dp_connlimit(void *ctx, uint32_t match, uint8_t fam, const struct rules_addr *key)
{
	struct dp_worker *w = ctx;
	const struct dp_rules *R = w->cl_R;
	uint8_t f = fam == RULES_F_V6 ? 6 : 4;
	/* the connection's zone id (xt_connlimit keys on it); 0 untracked */
	uint32_t zp = w->ctr.idx != CT_NIL ? ct_zones_of(w->ct, w->ctr.idx) : 0;
	uint16_t zone = (uint16_t)zp ? (uint16_t)zp : (uint16_t)(zp >> 16);
	uint32_t n = ct_limit_count(R->climit[w->id], w->ct, (uint16_t)match, f, key->b, zone,
		w->ctr.idx);
	if (n == UINT32_MAX) {
		w->cl_hotdrop = 1;
		return n;
	}
	for (unsigned i = 0; i < w->dp->n_workers; i++)
		if (i != w->id)
			n += ct_limit_peek(R->climit[i], (uint16_t)match, f, key->b, zone);
	return n;
}

/* -j SET: the request goes to the control thread, which changes the set
 * (a full ring loses it, counted) */
static void dp_set_req(void *ctx, const struct rules_set_req *req)
{
	struct dp_worker *w = ctx;
	if (rte_ring_sp_enqueue_elem(w->setq, (void *)(uintptr_t)req, sizeof(*req)) != 0) {
		w->st.set_reqs_lost++;
		return;
	}
	w->st.set_reqs++;
}

/* -j TEE (nf_dup_ipv4/6): a copy of the packet as the view has it now
 * (its TOS or traffic class and TTL or hop limit: the hook's own changes
 * are written back after it), its IP datagram under a fresh Ethernet
 * header; IPv4's DF set, the TTL one less in PREROUTING and INPUT (a loop
 * between two boxes dies out), the header checksum made again. It waits
 * for dp_tee_flush, which routes it to the gateway; the gateway, the
 * port (oif) and where it came from ride in its private area. */
static void dp_tee_req(void *ctx, const struct rules_ext *x, uint8_t oif, const struct rules_pkt *pk)
{
	struct dp_worker *w = ctx;
	if (w->tee_active)
		return; /* a copy's own hooks: no copy of a copy */
	const struct pkt_meta *pm = w->tee_pm;
	/* one contiguous buffer, as every packet the pipeline works on: a
	 * reassembled datagram too big for a port buffer goes into a
	 * reassembly one */
	struct rte_mempool *mp = w->dp->pool;
	if ((uint32_t)pm->l3_len + RTE_ETHER_HDR_LEN + RTE_PKTMBUF_HEADROOM >
	    rte_pktmbuf_data_room_size(mp))
		mp = w->dp->pool_jumbo;
	struct rte_mbuf *c;
	if (w->n_tee >= DP_TEE_MAX || mp == NULL ||
	    (c = rte_pktmbuf_copy(w->tee_m, mp, pm->l3_off, pm->l3_len)) == NULL) {
		w->st.tee_lost++;
		return;
	}
	if (c->nb_segs != 1) {
		rte_pktmbuf_free(c);
		w->st.tee_lost++;
		return;
	}
	bool v6 = pm->l3 == PKT_L3_IPV6;
	/* the IP header in the first segment (the parser checked its length) */
	uint32_t hl = v6 ? 40 : (uint32_t)((rte_pktmbuf_mtod(c, const uint8_t *)[0] & 0x0f) * 4);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(c, RTE_ETHER_HDR_LEN);
	if (eth == NULL || rte_pktmbuf_data_len(c) < RTE_ETHER_HDR_LEN + hl) {
		rte_pktmbuf_free(c);
		w->st.tee_lost++;
		return;
	}
	memset(eth, 0, sizeof(*eth));
	eth->ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	uint8_t *ip = (uint8_t *)(eth + 1);
	bool before_routing = w->tee_hook == RULES_H_PREROUTING || w->tee_hook == RULES_H_INPUT;
	if (v6) {
		ip[0] = (uint8_t)(0x60 | pk->tos >> 4);
		ip[1] = (uint8_t)((ip[1] & 0x0f) | (uint8_t)(pk->tos << 4));
		ip[7] = (uint8_t)(pk->ttl - before_routing);
	} else {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;
		h->type_of_service = pk->tos;
		h->time_to_live = (uint8_t)(pk->ttl - before_routing);
		h->fragment_offset |= rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		h->hdr_checksum = 0;
		h->hdr_checksum = rte_ipv4_cksum(h);
	}
	c->ol_flags = 0;
	struct dp_mbuf_priv *pv = dp_priv(c);
	memset(pv, 0, sizeof(*pv));
	pv->family = v6 ? 6 : 4;
	pv->in_port = pm->in_port;
	pv->out_port = oif == RULES_PORT_NONE ? DP_PORT_NONE : oif;
	pv->l3_off = RTE_ETHER_HDR_LEN;
	pv->reasm = (pm->flags & PKT_F_REASM) != 0;
	pv->frag_max = pv->reasm ? dp_priv(w->tee_m)->frag_max : 0;
	pv->mark = pk->mark; /* pskb_copy keeps skb->mark */
	pv->df = (pm->flags & PKT_F_IP_DF) != 0;
	memcpy(pv->addr, x->u.tee.gw.b, v6 ? 16 : 4);
	w->tee_q[w->n_tee++] = c;
}

static inline void fill_view(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
	const struct pkt_meta *pm, enum rules_hook h, uint8_t in, uint8_t out, struct rules_pkt *v)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
	const struct rules_prog *p = R->prog;
	/* every field is set below: no memset of the whole view */
	v->tcp_flags = v->icmp_type = v->icmp_code = 0;
	v->sport = v->dport = 0;
	v->src_type = v->dst_type = 0;
	v->tcp_optlen = 0;
	v->now_us = 0;
	v->mac_src = NULL;
	v->tcp_opt = NULL;
	if (pm->l3 == PKT_L3_IPV4) {
		v->fam = RULES_F_V4;
		memcpy(v->src.b, l3 + 12, 4);
		memcpy(v->dst.b, l3 + 16, 4);
		v->tos = l3[1];
		v->ttl = l3[8];
	} else {
		v->fam = RULES_F_V6;
		memcpy(v->src.b, l3 + 8, 16);
		memcpy(v->dst.b, l3 + 24, 16);
		v->tos = (uint8_t)((l3[0] << 4) | (l3[1] >> 4));
		v->ttl = l3[7];
	}
	v->proto = pm->l4_proto;
	v->frag = (pm->flags & PKT_F_FRAG_LATER) != 0;
	v->l4 = (pm->flags & PKT_F_L4) != 0;
	v->len = pm->l3_len;
	v->in_port = in;
	v->out_port = out;
	/* in bridge mode every packet the hooks see crosses the bridge (the
	 * box sends nothing of its own through them) */
	v->phys_in = w->dp->mode == CFG_MODE_BRIDGE ? pm->in_port : RULES_PORT_NONE;
	v->mark = pm->mark;
	v->ct = NULL;
	v->nat_new = 0;
	v->connlimit = NULL;
	v->hotdrop = &w->cl_hotdrop;
	v->set_req = unlikely(p->uses_set_target) ? dp_set_req : NULL;
	v->set_ctx = w;
	v->tee = NULL;
	if (unlikely(p->uses_tee)) {
		v->tee = dp_tee_req;
		v->tee_ctx = w;
		w->tee_m = m;
		w->tee_pm = pm;
		w->tee_hook = (uint8_t)h;
	}
	v->ct_status = v->ct_dir = v->ct_mhelper = 0;
	v->ct_mark = 0;
	if (!R->ct) {
		v->ct_state = RULES_CT_UNTRACKED; /* no connection tracking */
	} else {
		v->ct_state = w->ctr.state;
		/* an expected connection of a translated one has its
		 * translation already (nf_nat_follow_master): no nat table */
		v->nat_new = w->ctr.fresh && R->nat && !w->ctr.follow;
		if (unlikely(R->climit[w->id] != NULL)) {
			v->connlimit = dp_connlimit;
			v->connlimit_ctx = w;
			w->cl_R = R;
		}
		if (w->ctr.idx != CT_NIL) {
			const struct ct_entry *e = &w->ct->e[w->ctr.idx];
			v->ct_status = e->status & 0x0f;
			v->ct_dir = w->ctr.dir;
			v->ct_mhelper = (uint8_t)ct_master_helper(e);
			v->ct_mark = ct_mark(w->ct, e);
			if (e->status & CT_S_SRC_NAT)
				v->ct_state |= RULES_CT_SNAT;
			if (e->status & CT_S_DST_NAT)
				v->ct_state |= RULES_CT_DNAT;
			if (unlikely(p->need_ct))
				v->ct = dp_ct_view(w, w->ctr.idx);
		}
	}
	/* as skb->pkt_type: a bridge forwards unicast frames addressed to
	 * other hosts (PACKET_OTHERHOST); a router only sees its own */
	v->pkttype = (pm->flags & PKT_F_L2_BCAST) ? RULES_PKT_BROADCAST :
		(pm->flags & PKT_F_L2_MCAST)         ? RULES_PKT_MULTICAST :
		w->dp->mode == CFG_MODE_BRIDGE       ? RULES_PKT_OTHERHOST :
						       RULES_PKT_UNICAST;
	if (v->l4) {
		switch (pm->l4_proto) {
		case IPPROTO_TCP: {
			v->sport = pm->sport;
			v->dport = pm->dport;
			v->tcp_flags = pm->tcp_flags;
			if (unlikely(p->need_tcpopt)) {
				const uint8_t *th = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l4_off);
				unsigned doff = (unsigned)(th[12] >> 4) * 4;
				if (doff > 20) {
					v->tcp_opt = th + 20;
					v->tcp_optlen = (uint8_t)(doff - 20);
				}
			}
			break;
		}
		case IPPROTO_UDP:
			v->sport = pm->sport;
			v->dport = pm->dport;
			break;
		case IPPROTO_ICMP:
		case IPPROTO_ICMPV6:
			v->icmp_type = pm->icmp_type;
			v->icmp_code = pm->icmp_code;
			break;
		default:
			break;
		}
	}
	if (unlikely(p->need_ipsec)) {
		/* -m esp/ah: ESP (8 bytes: SPI, sequence) as the upper layer;
		 * AH (12 bytes) as IPv4's upper layer or IPv6's first AH
		 * extension header; each on its own (AH then ESP in IPv6) */
		uint32_t end = (uint32_t)pm->l3_off + pm->l3_len;
		if (end > rte_pktmbuf_data_len(m))
			end = rte_pktmbuf_data_len(m);
		v->esp = v->ah = RULES_IPSEC_NONE;
		if (pm->l4_proto == IPPROTO_ESP && !(pm->flags & PKT_F_FRAG_LATER)) {
			uint32_t at = pm->l4_off;
			v->esp = at + 8 <= end ? RULES_IPSEC_WHOLE : RULES_IPSEC_SHORT;
			if (v->esp == RULES_IPSEC_WHOLE) {
				const uint8_t *e = rte_pktmbuf_mtod_offset(m, const uint8_t *, at);
				v->esp_spi = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 |
					     (uint32_t)e[2] << 8 | e[3];
			}
		}
		uint32_t at = 0;
		if (v->fam == RULES_F_V4 && pm->l4_proto == IPPROTO_AH && !(pm->flags & PKT_F_FRAG_LATER))
			at = pm->l4_off;
		else if (v->fam == RULES_F_V6 && pm->ah_off != 0)
			at = pm->ah_off;
		if (at != 0) {
			v->ah = at + 12 <= end ? RULES_IPSEC_WHOLE : RULES_IPSEC_SHORT;
			if (v->ah == RULES_IPSEC_WHOLE) {
				const uint8_t *ah = rte_pktmbuf_mtod_offset(m, const uint8_t *, at);
				v->ah_spi = (uint32_t)ah[4] << 24 | (uint32_t)ah[5] << 16 |
					    (uint32_t)ah[6] << 8 | ah[7]; /* bytes: no alignment */
				v->ah_hlen = ah[1];
				v->ah_res = (uint16_t)(ah[2] << 8 | ah[3]);
			}
		}
	}
	if (unlikely(p->need_mac) && in != RULES_PORT_NONE && pm->l3_off >= RTE_ETHER_HDR_LEN)
		v->mac_src = rte_pktmbuf_mtod_offset(m, const uint8_t *, 6);
	if (unlikely(p->need_addrtype)) {
		if (v->fam == RULES_F_V4) {
			addr_type4(w->dp, v->src.b, &v->src_type);
			addr_type4(w->dp, v->dst.b, &v->dst_type);
		} else {
			addr_type6(w->dp, v->src.b, &v->src_type);
			addr_type6(w->dp, v->dst.b, &v->dst_type);
		}
	}
	if (unlikely(p->need_rpf) && h == RULES_H_PREROUTING) /* rpfilter's only hook */
		v->rpf = dp_rpf(w->dp, v->fam == RULES_F_V6, v->src.b, v->dst.b, in);
	if (unlikely(p->need_payload)) {
		uint32_t have = rte_pktmbuf_data_len(m) > pm->l3_off ? rte_pktmbuf_data_len(m) - pm->l3_off : 0;
		v->l3p = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
		v->l3cap = have < pm->l3_len ? have : pm->l3_len;
		v->l4_off = (uint16_t)(pm->l4_off > pm->l3_off ? pm->l4_off - pm->l3_off : 0);
	}
	if (unlikely(p->need_clock | p->need_wall)) {
		v->now_us = rte_rdtsc() / w->dp->tsc_us;
		if (p->need_wall) {
			/* relaxed: the offset and the zone are values of their
			 * own, refreshed by the control thread (dp_priv.h) */
			int64_t off = __atomic_load_n(&w->dp->wall_off_us, __ATOMIC_RELAXED);
			v->wall_s = ((int64_t)v->now_us + off) / 1000000;
			v->tz_west_s = __atomic_load_n(&w->dp->wall_tz_west_s, __ATOMIC_RELAXED);
		}
	}
}

/* The MTU of the port the route to a leads through; UINT32_MAX when there
 * is none (no route, or the box itself). */
static uint32_t route_mtu(const struct dp_ctx *dp, bool v6, const uint8_t *a)
{
	uint16_t port;
	int kind = dp_route_port(dp, v6, a, &port);
	if ((kind != DP_NHV_GW && kind != DP_NHV_CONN) || port >= dp->n_ports)
		return UINT32_MAX; /* no route, the box itself, or a bridge */
	return dp->ports[port].mtu;
}

static inline void csum16(uint8_t *ck, uint16_t old, uint16_t new_)
{
	uint16_t c = nat_csum16((uint16_t)(ck[0] << 8 | ck[1]), old, new_);
	ck[0] = (uint8_t)(c >> 8);
	ck[1] = (uint8_t)c;
}

/*
 * TCPMSS, as xt_TCPMSS's tcpmss_mangle_packet: a segment's MSS option is
 * lowered to res->mss, or with --clamp-mss-to-pmtu to the smaller MTU of
 * the way out and the way back to the source less 40 (IPv6: 60) bytes;
 * never raised. A SYN without the option and without data gets one
 * (at most 536, IPv6 1220: what the peer would assume without it).
 * Checksums follow incrementally (a bad one stays bad). false: drop (a
 * path MTU too small to clamp to, as the kernel).
 */
static bool tcpmss(struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *pm,
	const struct rules_result *res, uint16_t out)
{
	const struct dp_ctx *dp = w->dp;
	if (pm->l4_proto != IPPROTO_TCP || !(pm->flags & PKT_F_L4) || !rte_pktmbuf_is_contiguous(m))
		return true; /* a later fragment, or not TCP (-p tcp says it is) */
	bool v6 = pm->l3 == PKT_L3_IPV6;
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l3_off);
	uint8_t *th = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l4_off);
	uint32_t end = (uint32_t)pm->l3_off + pm->l3_len, have = rte_pktmbuf_data_len(m);
	if (end > have || end < (uint32_t)pm->l4_off + 20)
		return true; /* the parser let nothing like this through */
	uint32_t len = end - pm->l4_off, hl = (uint32_t)(th[12] >> 4) * 4;
	if (hl < 20 || hl > len)
		return true;
	uint32_t minlen = v6 ? 60 : 40, newmss = res->mss;
	if (res->mss_clamp) {
		uint32_t mtu = out < dp->n_ports ? dp->ports[out].mtu : UINT32_MAX;
		uint32_t back = route_mtu(dp, v6, l3 + (v6 ? 8 : 12));
		if (back < mtu)
			mtu = back;
		if (mtu <= minlen)
			return false;
		if (mtu - minlen < newmss)
			newmss = mtu - minlen;
	}
	uint8_t *ck = th + 16;
	for (uint32_t i = 20; i + 4 <= hl; i += (th[i] <= 1 || th[i + 1] == 0) ? 1 : th[i + 1]) {
		if (th[i] != 2 || th[i + 1] != 4)
			continue;
		uint16_t old = (uint16_t)(th[i + 2] << 8 | th[i + 3]);
		if (old <= newmss)
			return true; /* never raised */
		th[i + 2] = (uint8_t)(newmss >> 8);
		th[i + 3] = (uint8_t)newmss;
		csum16(ck, old, (uint16_t)newmss);
		w->st.mss_rewritten++;
		return true;
	}
	/* no MSS option: added before the others if there is room, no data
	 * behind the header and the data offset can grow; not to a first
	 * fragment (without connection tracking nothing is reassembled: its
	 * data would no longer meet the next fragment's) */
	if (len > hl || hl >= 60 || (pm->flags & PKT_F_FRAG))
		return true;
	uint32_t room = have - end + rte_pktmbuf_tailroom(m);
	if (room < 4 || pm->l3_len > UINT16_MAX - 4)
		return true;
	if (have > end)
		rte_pktmbuf_trim(m, (uint16_t)(have - end)); /* Ethernet padding */
	if (rte_pktmbuf_append(m, 4) == NULL)
		return true;
	uint16_t cap = v6 ? 1220 : 536;
	if (newmss > cap)
		newmss = cap;
	uint8_t *opt = th + 20;
	memmove(opt + 4, opt, hl - 20);
	opt[0] = 2;
	opt[1] = 4;
	opt[2] = (uint8_t)(newmss >> 8);
	opt[3] = (uint8_t)newmss;
	/* the checksum: the pseudo-header's length, the new option word,
	 * the data offset (the moved options keep their 16-bit alignment) */
	csum16(ck, (uint16_t)len, (uint16_t)(len + 4));
	csum16(ck, 0, 0x0204);
	csum16(ck, 0, (uint16_t)newmss);
	uint16_t w12 = (uint16_t)(th[12] << 8 | th[13]);
	th[12] = (uint8_t)(th[12] + 0x10);
	csum16(ck, w12, (uint16_t)(th[12] << 8 | th[13]));
	pm->l3_len = (uint16_t)(pm->l3_len + 4);
	pm->pkt_len = end + 4;
	if (v6) {
		uint16_t pl = (uint16_t)(l3[4] << 8 | l3[5]);
		l3[4] = (uint8_t)((pl + 4) >> 8);
		l3[5] = (uint8_t)(pl + 4);
	} else {
		uint16_t tl = (uint16_t)(l3[2] << 8 | l3[3]);
		l3[2] = (uint8_t)((tl + 4) >> 8);
		l3[3] = (uint8_t)(tl + 4);
		csum16(l3 + 10, tl, (uint16_t)(tl + 4));
	}
	w->st.mss_rewritten++;
	return true;
}

/* Write back what the targets changed. */
static void write_back(struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *pm,
	const struct rules_pkt *v, uint8_t mods)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l3_off);
	if (mods & RULES_MOD_MARK)
		pm->mark = v->mark;
	if ((mods & RULES_MOD_CTMARK) && w->ctr.idx != CT_NIL) {
		struct ct_entry *e = &w->ct->e[w->ctr.idx];
		if (unlikely(!w->ctr.fresh) && ct_mark(w->ct, e) != v->ct_mark) {
			ct_mark_set(w->ct, e, v->ct_mark);
			/* CONNMARK changed a confirmed connection's mark: an
			 * UPDATE (the kernel's IPCT_MARK; a new one's NEW has it),
			 * with what else the packet changed */
			ct_event_cache(w->ct, w->ctr.idx, CT_IPCT_MARK);
		} else {
			ct_mark_set(w->ct, e, v->ct_mark);
		}
	}
	if (pm->l3 == PKT_L3_IPV4) {
		if (mods & (RULES_MOD_TOS | RULES_MOD_TTL)) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
			uint16_t w0 = (uint16_t)(l3[0] << 8 | l3[1]), w4 = (uint16_t)(l3[8] << 8 | l3[9]);
			ip->type_of_service = v->tos;
			ip->time_to_live = v->ttl;
			uint16_t n0 = (uint16_t)(l3[0] << 8 | l3[1]), n4 = (uint16_t)(l3[8] << 8 | l3[9]);
			uint16_t ck = rte_be_to_cpu_16(ip->hdr_checksum);
			ck = nat_csum16(ck, w0, n0);
			ck = nat_csum16(ck, w4, n4);
			ip->hdr_checksum = rte_cpu_to_be_16(ck);
			pm->ttl = v->ttl;
		}
		if ((mods & RULES_MOD_TCPF) && pm->l4_proto == IPPROTO_TCP && (pm->flags & PKT_F_L4)) {
			/* ECN's ECE/CWR: the flags' word, RFC 1624 */
			uint8_t *th = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l4_off);
			uint16_t ow = (uint16_t)(th[12] << 8 | th[13]);
			th[13] = v->tcp_flags;
			csum16(th + 16, ow, (uint16_t)(th[12] << 8 | th[13]));
			pm->tcp_flags = v->tcp_flags;
		}
	} else {
		if (mods & RULES_MOD_TOS) {
			l3[0] = (uint8_t)((l3[0] & 0xf0) | (v->tos >> 4));
			l3[1] = (uint8_t)((l3[1] & 0x0f) | (uint8_t)(v->tos << 4));
		}
		if (mods & RULES_MOD_TTL) {
			l3[7] = v->ttl;
			pm->ttl = v->ttl;
		}
		if (mods & RULES_MOD_ADDR) { /* SNPT/DNPT: checksum-neutral */
			memcpy(l3 + 8, v->src.b, 16);
			memcpy(l3 + 24, v->dst.b, 16);
		}
	}
}

static void queue_logs(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
	const struct rules_result *res, enum rules_hook h, uint8_t in, uint8_t out,
	const struct dp_rules *R)
{
	unsigned n = res->n_log < RULES_MAX_LOGS ? res->n_log : RULES_MAX_LOGS;
	for (unsigned i = 0; i < n; i++) {
		struct dp_logrec rec;
		rec.gen = R->gen;
		rec.ctr = res->log_rule[i];
		rec.mark = res->log_mark[i];
		rec.hook = (uint8_t)h;
		rec.tsc = rte_rdtsc();
		rec.fam = pm->l3 == PKT_L3_IPV4 ? RULES_F_V4 : RULES_F_V6;
		rec.in_port = in;
		rec.out_port = out;
		rec.has_mac = in != RULES_PORT_NONE && pm->l3_off >= RTE_ETHER_HDR_LEN;
		if (rec.has_mac)
			memcpy(rec.mac, rte_pktmbuf_mtod(m, const uint8_t *), 14);
		uint32_t avail = rte_pktmbuf_data_len(m) > pm->l3_off ?
			rte_pktmbuf_data_len(m) - pm->l3_off : 0;
		if (avail > pm->l3_len)
			avail = pm->l3_len;
		rec.caplen = (uint16_t)(avail < DP_LOG_SNAP ? avail : DP_LOG_SNAP);
		memcpy(rec.data, rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off), rec.caplen);
		rec.copy = NULL;
		/* NFLOG: the whole packet (or --nflog-size of it), as the kernel
		 * copies it, in an mbuf of our pool; if the pool is short, the
		 * snap above goes alone */
		const struct rules_ext *x = rec.ctr < R->prog->n_ctr ? R->prog->ctr_ext[rec.ctr] : NULL;
		if (x != NULL && x->kind == RULES_X_NFLOG && pm->l3_len > rec.caplen) {
			uint32_t want = (x->present & (1u << RULES_O_NFLOG_SIZE)) ? x->u.nflog.size :
										      pm->l3_len;
			if (want > pm->l3_len)
				want = pm->l3_len;
			if (want > DP_NFLOG_MAX)
				want = DP_NFLOG_MAX;
			if (want > rec.caplen)
				rec.copy = rte_pktmbuf_copy(m, w->dp->pool, pm->l3_off, want);
		} else if (x != NULL && x->kind == RULES_X_LOG && pm->l3_len > rec.caplen &&
			   pm->l4_off > pm->l3_off &&
			   (uint32_t)(pm->l4_off - pm->l3_off) + DP_LOG_L4 > rec.caplen) {
			/* LOG: the transport header (or an ICMP error's inner
			 * packet) lies beyond the snap, behind IPv6 extension
			 * headers or IPv4 options: the packet goes along, up to
			 * DP_LOG_DEEP bytes, so the line names what the
			 * kernel's would (a short pool: the snap alone) */
			uint32_t want = RTE_MIN((uint32_t)pm->l3_len, (uint32_t)DP_LOG_DEEP);
			rec.copy = rte_pktmbuf_copy(m, w->dp->pool, pm->l3_off, want);
		}
		if (rte_ring_sp_enqueue_elem(w->logq, &rec, sizeof(rec)) != 0) {
			w->st.log_dropped++;
			rte_pktmbuf_free(rec.copy);
		}
	}
	if (res->n_log > n)
		w->st.log_dropped += res->n_log - n;
}

/* rampartctl trace: what the hook did, as events of the packet's record */
static void trace_ev(struct dp_trace_rec *r, uint8_t kind, enum rules_hook h,
	enum rules_part part, uint32_t ctr, uint8_t res)
{
	if (h == RULES_H_OUTPUT)
		r->answer = 1; /* a received packet never crosses OUTPUT: the box's answer */
	if (r->n_ev >= DP_TRACE_EVENTS) {
		if (r->ev_lost < UINT8_MAX)
			r->ev_lost++;
		return;
	}
	struct dp_trace_ev *e = &r->ev[r->n_ev++];
	e->ctr = ctr;
	e->kind = kind;
	e->hook = (uint8_t)h;
	e->res = res;
	e->part = part;
	e->flags = r->answer ? DP_TEV_F_ANSWER : 0;
}

/* The hook; trc (a constant NULL on the fast path) records the trace. */
static __rte_always_inline uint8_t hook_run(struct dp_worker *w, const struct dp_rules *R,
	enum rules_hook h, enum rules_part part, struct rte_mbuf *m, struct pkt_meta *pm,
	uint16_t in, uint16_t out, uint8_t *reject_with, struct dp_trace_rec *trc)
{
	struct rules_pkt v;
	struct rules_result res;
	int fam = pm->l3 == PKT_L3_IPV6 ? RULES_F_V6 : RULES_F_V4;
	if (R->ct && part == RULES_PART_ALL &&
	    rules_est_shortcut(R->prog, fam, h, w->ctr.state, pm->l3_len, R->ctr[w->id])) {
		if (trc != NULL) {
			trace_ev(trc, DP_TEV_RULE, h, part, R->prog->f[fam == RULES_F_V6].est_ctr[h], 0);
			trace_ev(trc, DP_TEV_HOOK, h, part, 0, RULES_R_ACCEPT);
		}
		return RULES_R_ACCEPT;
	}
	/* chains without rules: their policies count it (a traced packet
	 * takes the traversal, whose events it records) */
	if (trc == NULL &&
	    unlikely(rules_hook_empty(R->prog, fam, h, part)) &&
	    rules_empty_shortcut(R->prog, fam, h, part,
				 R->ct && w->ctr.fresh && R->nat && !w->ctr.follow, pm->l3_len,
				 R->ctr[w->id]))
		return RULES_R_ACCEPT;
	uint8_t vin = in == DP_PORT_NONE ? RULES_PORT_NONE : (uint8_t)in;
	uint8_t vout = out == DP_PORT_NONE ? RULES_PORT_NONE : (uint8_t)out;
	fill_view(w, R, m, pm, h, vin, vout, &v);
	uint32_t ids[DP_TRACE_EVENTS];
	struct rules_trace tr = { .n = 0, .cap = DP_TRACE_EVENTS, .ctr = ids };
	rules_eval_part(R->prog, h, part, &v, R->ctr[w->id], &res, trc != NULL ? &tr : NULL);
	if (unlikely(res.mods)) {
		write_back(w, m, pm, &v, res.mods);
		if ((res.mods & RULES_MOD_MSS) && res.res == RULES_R_ACCEPT &&
		    !tcpmss(w, m, pm, &res, out))
			res.res = RULES_R_DROP;
	}
	if (unlikely(res.notrack))
		w->ct_notrack = 1;
	_Static_assert(RULES_CTEV_NONE == CT_IPCT_NONE, "the rules' and the tracker's empty mask");
	_Static_assert(RULES_CTEV_EXPNEW == CT_IPEXP_NEW, "the rules' and the tracker's expevents");
	if (unlikely(res.ct_set))
		w->ct_t = res.ct; /* CT (NOTRACK: zeroes, and untracked) */
	if (unlikely(res.nat != NULL))
		w->nat_tg = res.nat;
	if (unlikely(w->cl_hotdrop)) {
		w->cl_hotdrop = 0;
		res.res = RULES_R_DROP; /* connlimit could not count it, hashlimit had no room */
	}
	if (unlikely(res.n_log))
		queue_logs(w, m, pm, &res, h, vin, vout, R);
	if (trc != NULL) {
		for (uint32_t i = 0; i < tr.n; i++)
			trace_ev(trc, DP_TEV_RULE, h, part, ids[i], 0);
		trace_ev(trc, DP_TEV_HOOK, h, part, 0, res.res);
	}
	*reject_with = res.reject_with;
	return res.res;
}

static __rte_noinline uint8_t hook_traced(struct dp_worker *w, const struct dp_rules *R,
	enum rules_hook h, enum rules_part part, struct rte_mbuf *m, struct pkt_meta *pm,
	uint16_t in, uint16_t out, uint8_t *reject_with)
{
	return hook_run(w, R, h, part, m, pm, in, out, reject_with, w->trc);
}

uint8_t dp_hook(struct dp_worker *w, const struct dp_rules *R, enum rules_hook h,
	enum rules_part part, struct rte_mbuf *m, struct pkt_meta *pm, uint16_t in, uint16_t out,
	uint8_t *reject_with)
{
	/* rampartctl trace: set only for a packet being traced */
	if (unlikely(w->trc != NULL))
		return hook_traced(w, R, h, part, m, pm, in, out, reject_with);
	return hook_run(w, R, h, part, m, pm, in, out, reject_with, NULL);
}

/* ICMP type and code of a REJECT, by family; type 0: a TCP reset. */
static void reject_code(uint8_t with, bool v6, uint8_t *type, uint8_t *code)
{
	static const uint8_t c4[RULES_RJ_COUNT][2] = {
		[RULES_RJ_DEFAULT] = {3, 3},        [RULES_RJ_NET_UNREACH] = {3, 0},
		[RULES_RJ_HOST_UNREACH] = {3, 1},   [RULES_RJ_PROTO_UNREACH] = {3, 2},
		[RULES_RJ_PORT_UNREACH] = {3, 3},   [RULES_RJ_NET_PROHIB] = {3, 9},
		[RULES_RJ_HOST_PROHIB] = {3, 10},   [RULES_RJ_ADMIN_PROHIB] = {3, 13},
	};
	static const uint8_t c6[RULES_RJ_COUNT][2] = {
		[RULES_RJ_DEFAULT] = {1, 4},        [RULES_RJ6_NO_ROUTE] = {1, 0},
		[RULES_RJ6_ADM_PROHIB] = {1, 1},    [RULES_RJ6_ADDR_UNREACH] = {1, 3},
		[RULES_RJ6_PORT_UNREACH] = {1, 4},  [RULES_RJ6_POLICY_FAIL] = {1, 5},
		[RULES_RJ6_REJECT_ROUTE] = {1, 6},
	};
	if (with >= RULES_RJ_COUNT)
		with = RULES_RJ_DEFAULT;
	const uint8_t *c = v6 ? c6[with] : c4[with];
	*type = c[0];
	*code = c[1];
	if (with == RULES_RJ_TCP_RESET)
		*type = 0;
	else if (*type == 0) { /* a code of the other family: the family's default */
		*type = v6 ? 1 : 3;
		*code = v6 ? 4 : 3;
	}
}

/* The kernel answers a REJECT only about a packet it can trust: not a
 * later fragment, and one whose transport checksum is right
 * (nf_send_unreach, reject6_csum_ok, nf_reject_ip_tcphdr_get), unless
 * the protocol has none to check (nf_reject_verify_csum: UDP without a
 * checksum, GRE without one, AH, ESP, SCTP, UDP-Lite, DCCP). A first
 * fragment's checksum covers the whole datagram: it fails, and the
 * kernel stays silent about it too. */
static bool reject_csum_ok(const struct rte_mbuf *m, const struct pkt_meta *pm)
{
	if (pm->flags & PKT_F_FRAG_LATER)
		return false;
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return true; /* skb_csum_unnecessary */
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	bool v6 = pm->l3 == PKT_L3_IPV6;
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
	const uint8_t *l4 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l4_off);
	uint32_t hdr = (uint32_t)pm->l4_off - pm->l3_off;
	if (pm->l4_off < pm->l3_off || pm->l3_len <= hdr)
		return !v6; /* IPv6: nothing after the headers (thoff >= skb->len) */
	uint32_t len = pm->l3_len - hdr;
	uint32_t have = rte_pktmbuf_data_len(m) > pm->l4_off ? rte_pktmbuf_data_len(m) - pm->l4_off : 0;
	uint8_t proto = pm->l4_proto;
	switch (proto) {
	case IPPROTO_UDP:
		if (len >= 8 && have >= 8 && l4[6] == 0 && l4[7] == 0)
			return true;
		break;
	case IPPROTO_GRE:
		if (len >= 2 && have >= 2 && (l4[0] & 0x80))
			break; /* a checksum present */
		return true;
	case IPPROTO_AH:
	case IPPROTO_ESP:
	case IPPROTO_SCTP:
	case IPPROTO_UDPLITE:
	case IPPROTO_DCCP:
		return true;
	default:
		break;
	}
	if (have < len)
		return true; /* not all in the buffer: not judged */
	uint32_t sum = rte_raw_cksum(l4, len);
	/* the pseudo-header: IPv6 always, IPv4 for TCP and UDP (nf_ip_checksum) */
	if (v6 || proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		sum += v6 ? rte_raw_cksum(l3 + 8, 32) : rte_raw_cksum(l3 + 12, 8);
		sum += rte_cpu_to_be_16((uint16_t)proto);
		sum += rte_cpu_to_be_16((uint16_t)len);
		if (v6 && len > 0xffff)
			sum += rte_cpu_to_be_16((uint16_t)(len >> 16));
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

void dp_reject(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm, uint8_t with)
{
	uint8_t type, code;
	bool v6 = pm->l3 == PKT_L3_IPV6;
	w->st.port[pm->in_port].drop[DP_DROP_FILTER_REJECT]++;
	if (!reject_csum_ok(m, pm)) {
		rte_pktmbuf_free(m); /* rejected, not answered */
		return;
	}
	reject_code(with, v6, &type, &code);
	int rc;
	if (w->dp->mode == CFG_MODE_BRIDGE) {
		/* a bridge has no address to answer from: only a reset, which
		 * comes "from" the destination, goes back out the ingress port */
		if (type == 0 && dp_tcp_reset(w, m, pm) == 0) {
			w->st.rejects_sent++;
			dp_tx_enqueue(w, pm->in_port, m);
		} else {
			rte_pktmbuf_free(m);
		}
		return;
	}
	if (type == 0)
		rc = dp_tcp_reset(w, m, pm);
	else if (v6)
		rc = dp_icmp6_error(w, m, pm, type, code, 0);
	else
		rc = dp_icmp4_error(w, m, pm, type, code, 0);
	if (rc == 0) {
		w->st.rejects_sent++;
		w->out_related = 1;
		dp_output_local(w, m, v6 ? PKT_L3_IPV6 : PKT_L3_IPV4, pm->in_port);
		w->out_related = 0;
	} else {
		rte_pktmbuf_free(m);
	}
}
