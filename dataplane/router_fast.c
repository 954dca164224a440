/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * router_fast: per-packet work of router and bridge mode on workers.
 *
 * A burst is parsed first (prefetching packet data a few packets ahead),
 * then each packet is classified: slow-path protocols (ARP, neighbour
 * discovery) are punted to the control thread; packets for the box get the
 * local services (echo, ICMP errors); everything else is routed through the
 * LPM tables, its TTL / hop limit decremented (RFC 1624 checksum update) and
 * its Ethernet header rewritten for the next hop. A next hop whose
 * link-layer address is unknown sends the packet to the control thread,
 * which holds it (bounded) while it resolves the neighbour.
 */
#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_prefetch.h>

#include "ct_lane.h"
#include "dp_priv.h"

static inline int nh_lookup(const struct dp_ctx *dp, uint8_t family, const uint8_t *addr,
			    uint16_t port)
{
	struct dp_nh_key k;
	dp_nh_key_make(&k, family, addr, port);
	void *data;
	if (rte_hash_lookup_data(dp->nh_hash, &k, &data) < 0)
		return -1;
	return (int)(uintptr_t)data;
}

#define NHV_MISS UINT32_MAX

_Static_assert(CFG_NEIGH_MAX < (1u << 24) - 1, "a next hop index + 1 fits nhc4's 24 bits");
_Static_assert(DP_MAX_PORTS <= 256, "a port fits nhc4's 8 bits (and dp_nh_key's)");

/* nh_lookup through the worker's memory of it (struct dp_nhc6's
 * comment): a load and a compare instead of a hash table's lookup for a
 * packet to a host on a connected subnet. */
static inline int nh_cached(struct dp_worker *w, bool v6, const uint8_t *addr, uint16_t port)
{
	if (!v6) {
		uint32_t a;
		memcpy(&a, addr, 4);
		uint64_t key = (uint64_t)a | (uint64_t)(uint8_t)port << 32;
		uint32_t slot = dp_nhc4_slot(a, port);
		uint64_t e = w->nhc4[slot];
		if (likely((e & 0xffffffffffull) == key && (e >> 40) != 0))
			return (int)(e >> 40) - 1;
		int nh = nh_lookup(w->dp, 4, addr, port);
		if (nh >= 0)
			w->nhc4[slot] = key | (uint64_t)(nh + 1) << 40;
		return nh;
	}
	struct dp_nhc6 *c = &w->nhc6[dp_nhc6_slot(addr, port)];
	if (likely(c->nh1 != 0 && c->port == port && memcmp(c->addr, addr, 16) == 0))
		return (int)c->nh1 - 1;
	int nh = nh_lookup(w->dp, 6, addr, port);
	if (nh >= 0) {
		memcpy(c->addr, addr, 16);
		c->port = port;
		c->nh1 = (uint32_t)nh + 1;
	}
	return nh;
}

static inline uint32_t lpm4(const struct dp_ctx *dp, const uint8_t *dst)
{
	uint32_t v, d;
	memcpy(&d, dst, 4);
	if (rte_lpm_lookup(dp->lpm4, rte_be_to_cpu_32(d), &v) < 0)
		return NHV_MISS;
	return v;
}

/* A connected destination's next hop: through worker w's memory of them
 * (w: a worker on its own core), or the neighbour table's */
static inline int nh_find(const struct dp_ctx *dp, struct dp_worker *w, bool v6,
			  const uint8_t *addr, uint16_t port)
{
	return w != NULL ? nh_cached(w, v6, addr, port) : nh_lookup(dp, v6 ? 6 : 4, addr, port);
}

/* Decode an LPM result. Returns the nhv kind or -1 (no route); fills the
 * out port and the next hop index (-1: connected destination not yet in
 * the neighbour table). w: see nh_find. */
static inline int route4_decode(const struct dp_ctx *dp, struct dp_worker *w, uint32_t v,
				const uint8_t *dst, uint16_t *port, int *nh)
{
	if (v == NHV_MISS)
		return -1;
	int kind = (int)(v >> DP_NHV_SHIFT);
	uint32_t idx = v & DP_NHV_IDX_MASK;
	if (kind == DP_NHV_GW) {
		*nh = (int)idx;
		*port = dp->nh[idx].port;
	} else if (kind == DP_NHV_CONN) {
		*port = (uint16_t)idx;
		*nh = nh_find(dp, w, false, dst, (uint16_t)idx);
	}
	return kind;
}

static inline int route4(const struct dp_ctx *dp, const uint8_t *dst, uint16_t *port, int *nh)
{
	return route4_decode(dp, NULL, lpm4(dp, dst), dst, port, nh);
}

static inline bool ip6_is_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static inline int route6w(const struct dp_ctx *dp, struct dp_worker *w, const uint8_t *dst,
			  uint16_t in_port, uint16_t *port, int *nh)
{
	uint32_t v;
	if (ip6_is_linklocal(dst)) {
		/* link-local: on the link it came from, or ours */
		if (dp_addr_is_local6(dp, in_port, dst))
			return DP_NHV_LOCAL;
		*port = in_port;
		*nh = nh_find(dp, w, true, dst, in_port);
		return DP_NHV_CONN;
	}
	if (rte_lpm6_lookup(dp->lpm6, dst, &v) < 0)
		return -1;
	int kind = (int)(v >> DP_NHV_SHIFT);
	uint32_t idx = v & DP_NHV_IDX_MASK;
	if (kind == DP_NHV_GW) {
		*nh = (int)idx;
		*port = dp->nh[idx].port;
	} else if (kind == DP_NHV_CONN) {
		*port = (uint16_t)idx;
		*nh = nh_find(dp, w, true, dst, (uint16_t)idx);
	}
	return kind;
}

static inline int route6(const struct dp_ctx *dp, const uint8_t *dst, uint16_t in_port,
			 uint16_t *port, int *nh)
{
	return route6w(dp, NULL, dst, in_port, port, nh);
}

int dp_route_port(const struct dp_ctx *dp, bool v6, const uint8_t *a, uint16_t *port)
{
	uint32_t v;
	if (v6 ? dp->lpm6 == NULL || rte_lpm6_lookup(dp->lpm6, a, &v) < 0 :
		 dp->lpm4 == NULL || (v = lpm4(dp, a)) == NHV_MISS)
		return -1;
	uint32_t kind = v >> DP_NHV_SHIFT, idx = v & DP_NHV_IDX_MASK;
	*port = kind == DP_NHV_GW ? dp->nh[idx].port : (uint16_t)idx; /* LOCAL: the port that has it */
	return (int)kind;
}

uint8_t dp_rpf(const struct dp_ctx *dp, bool v6, const uint8_t *src, const uint8_t *dst,
	uint16_t in)
{
	static const uint8_t zero[16];
	if (v6) {
		if (memcmp(src, zero, 16) == 0)
			return RULES_RPF_TRUE; /* not routable: the forward path decides */
		if (ip6_is_linklocal(src)) /* on the link it came from, or ours */
			return dp_addr_is_local6(dp, in, src) ? RULES_RPF_LOCAL6 : RULES_RPF_SAME;
	} else {
		/* DHCP discovers and the like: 0/8 to the limited broadcast or
		 * a link-local multicast group */
		if (src[0] == 0 && (memcmp(dst, "\xff\xff\xff\xff", 4) == 0 ||
				    (dst[0] == 224 && dst[1] == 0 && dst[2] == 0)))
			return RULES_RPF_TRUE;
		if (src[0] == 127)
			return RULES_RPF_LOCAL_OTHER; /* the kernel's loopback routes */
	}
	uint16_t port = 0;
	switch (dp_route_port(dp, v6, src, &port)) {
	case DP_NHV_LOCAL:
		if (v6)
			return RULES_RPF_LOCAL6;
		return port == in ? RULES_RPF_LOCAL_SAME : RULES_RPF_LOCAL_OTHER;
	case DP_NHV_GW:
	case DP_NHV_CONN:
		return port == in ? RULES_RPF_SAME : RULES_RPF_OTHER;
	default: /* none, or a subnet's broadcast address */
		return RULES_RPF_NONE;
	}
}

#define OUT_NONE UINT16_MAX

/* Put the Ethernet header on and return the egress port for the caller to
 * queue (burst callers batch the tx enqueue), or hand the packet to
 * neighbour resolution and return OUT_NONE. */
static inline uint16_t send_nh(struct dp_worker *w, struct rte_mbuf *m, uint8_t family,
			       const uint8_t *dst, uint16_t in_port, uint16_t out, int nh)
{
	struct dp_ctx *dp = w->dp;
	if (likely(nh >= 0)) {
		/* acquire pairs with the control thread's release store of a
		 * freshly resolved MAC */
		uint64_t mac = __atomic_load_n(&dp->nh[nh].mac, __ATOMIC_ACQUIRE);
		if (likely(mac & DP_NH_VALID)) {
			struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			dp_mac_unpack(mac, &eth->dst_addr);
			rte_ether_addr_copy(&dp->ports[out].mac, &eth->src_addr);
			return out;
		}
		memcpy(dp_priv(m)->addr, dp->nh[nh].addr, 16);
	} else {
		memset(dp_priv(m)->addr, 0, 16);
		memcpy(dp_priv(m)->addr, dst, family == 4 ? 4 : 16);
	}
	struct dp_mbuf_priv *pv = dp_priv(m);
	pv->family = family;
	pv->out_port = out;
	dp_punt(w, m, DP_PUNT_RESOLVE, in_port);
	return OUT_NONE;
}

/* Run hook h (or a part of it) when the published ruleset has anything
 * there. true: go on; false: the packet was dropped or rejected (and is gone). */
static inline bool hook_part(struct dp_worker *w, const struct dp_rules *R, enum rules_hook h,
			     enum rules_part part, struct rte_mbuf *m, struct pkt_meta *pm,
			     uint16_t in, uint16_t out)
{
	if (likely(!dp_hook_on(R, pm->l3, h)) && likely(!dp_nat_on(w, R, pm->l3, h)))
		return true;
	if (part == RULES_PART_RAW && !R->prog->f[pm->l3 == PKT_L3_IPV6].hook_raw[h])
		return true;
	uint8_t with;
	uint8_t v = dp_hook(w, R, h, part, m, pm, in, out, &with);
	if (likely(v == RULES_R_ACCEPT))
		return true;
	if (v == RULES_R_REJECT)
		dp_reject(w, m, pm, with);
	else
		dp_drop_pkt(w, pm->in_port, DP_DROP_FILTER_DROP, m);
	return false;
}

static inline bool hook(struct dp_worker *w, const struct dp_rules *R, enum rules_hook h,
			struct rte_mbuf *m, struct pkt_meta *pm, uint16_t in, uint16_t out)
{
	return hook_part(w, R, h, RULES_PART_ALL, m, pm, in, out);
}

/* PREROUTING as in Linux: the raw table, connection tracking (unless raw
 * said NOTRACK), then the tables after raw. */
static inline bool hook_pre(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
			    struct pkt_meta *pm, uint16_t in)
{
	if (R == NULL || !R->ct)
		return hook(w, R, RULES_H_PREROUTING, m, pm, in, DP_PORT_NONE);
	dp_ct_none(w, CT_INVALID); /* what raw sees: no connection yet */
	w->ct_notrack = 0;
	w->ct_t = w->cur_t; /* handed over: raw ran at its origin */
	w->nat_tg = NULL;
	/* a packet handed over by another worker has been through raw there */
	if (w->cur_hops == 0 &&
	    !hook_part(w, R, RULES_H_PREROUTING, RULES_PART_RAW, m, pm, in, DP_PORT_NONE))
		return false;
	if (w->ct_notrack)
		dp_ct_none(w, CT_UNTRACKED);
	else if (unlikely(w->cur_given != NULL))
		w->ctr = *w->cur_given; /* the established lane tracked it */
	else if (!dp_ct_in(w, R, m, pm, true))
		return false;
	if (unlikely(w->ctr.miss))
		return !dp_ct_handoff(w, m, pm);
	if (!hook_part(w, R, RULES_H_PREROUTING, RULES_PART_REST, m, pm, in, DP_PORT_NONE))
		return false;
	/* destination NAT: the binding on the first packet, then every packet */
	return !R->nat || dp_nat_step(w, R, m, pm, NAT_MANIP_DST, in, DP_PORT_NONE);
}

/* After INPUT or POSTROUTING: source NAT (false: dropped). */
static inline bool nat_src(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
			   struct pkt_meta *pm, uint16_t in, uint16_t out)
{
	return R == NULL || !R->nat || dp_nat_step(w, R, m, pm, NAT_MANIP_SRC, in, out);
}

/* The box answers about the packet at hand: its answer is RELATED to that
 * packet's connection (the kernel's nf_ct_attach). */
static inline void output_about(struct dp_worker *w, struct rte_mbuf *m, uint8_t l3, uint16_t in)
{
	w->out_related = 1;
	dp_output_local(w, m, l3, in);
	w->out_related = 0;
}

static inline void trim_padding(struct rte_mbuf *m, const struct pkt_meta *pm)
{
	uint32_t want = (uint32_t)pm->l3_off + pm->l3_len;
	if (rte_pktmbuf_pkt_len(m) > want)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - want));
}

static void error4(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
		   uint8_t reason, uint8_t type, uint8_t code, uint32_t info)
{
	w->st.port[pm->in_port].drop[reason]++;
	if (dp_icmp4_error(w, m, pm, type, code, info) == 0)
		output_about(w, m, PKT_L3_IPV4, pm->in_port);
	else
		rte_pktmbuf_free(m);
}

static void error6(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
		   uint8_t reason, uint8_t type, uint8_t code, uint32_t info)
{
	w->st.port[pm->in_port].drop[reason]++;
	if (dp_icmp6_error(w, m, pm, type, code, info) == 0)
		output_about(w, m, PKT_L3_IPV6, pm->in_port);
	else
		rte_pktmbuf_free(m);
}

/* TCP to the box: no service listens, answer with a reset as Linux does. */
static void reset(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm, uint8_t l3)
{
	w->st.port[pm->in_port].drop[DP_DROP_LOCAL_UNHANDLED]++;
	if (dp_tcp_reset(w, m, pm) == 0)
		output_about(w, m, l3, pm->in_port);
	else
		rte_pktmbuf_free(m);
}

static void local4(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	w->st.local_in++;
	if (pm->flags & PKT_F_FRAG) {
		dp_drop_pkt(w, pm->in_port, DP_DROP_LOCAL_UNHANDLED, m);
		return;
	}
	switch (pm->l4_proto) {
	case IPPROTO_ICMP:
		if (pm->icmp_type == 8 && pm->icmp_code == 0) {
			trim_padding(m, pm);
			dp_icmp4_echo_reply(m, pm);
			dp_output_local(w, m, PKT_L3_IPV4, pm->in_port);
			return;
		}
		break;
	case IPPROTO_UDP:
		error4(w, m, pm, DP_DROP_LOCAL_UNHANDLED, 3, 3, 0);
		return;
	case IPPROTO_TCP:
		reset(w, m, pm, PKT_L3_IPV4);
		return;
	default:
		error4(w, m, pm, DP_DROP_LOCAL_UNHANDLED, 3, 2, 0);
		return;
	}
	dp_drop_pkt(w, pm->in_port, DP_DROP_LOCAL_UNHANDLED, m);
}

static void local6(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	w->st.local_in++;
	if (pm->flags & PKT_F_FRAG) {
		dp_drop_pkt(w, pm->in_port, DP_DROP_LOCAL_UNHANDLED, m);
		return;
	}
	switch (pm->l4_proto) {
	case IPPROTO_ICMPV6:
		if (pm->icmp_type == 128 && pm->icmp_code == 0) {
			trim_padding(m, pm);
			dp_icmp6_echo_reply(m, pm);
			dp_output_local(w, m, PKT_L3_IPV6, pm->in_port);
			return;
		}
		break;
	case IPPROTO_UDP:
		error6(w, m, pm, DP_DROP_LOCAL_UNHANDLED, 1, 4, 0);
		return;
	case IPPROTO_TCP:
		reset(w, m, pm, PKT_L3_IPV6);
		return;
	default:
		break;
	}
	dp_drop_pkt(w, pm->in_port, DP_DROP_LOCAL_UNHANDLED, m);
}

/* The size a reassembled datagram leaves in: its largest fragment, as the
 * kernel refragments (frag_max_size), not below the minimum MTU every
 * link carries (a sender's 68-byte fragments would make 1 366 of a
 * 64 KiB datagram), not above the port's MTU. */
static inline uint16_t out_mtu(const struct dp_ctx *dp, struct rte_mbuf *m,
			       const struct pkt_meta *pm, uint16_t out)
{
	uint16_t mtu = dp->ports[out].mtu;
	if (likely(!(pm->flags & PKT_F_REASM)))
		return mtu;
	uint16_t fm = RTE_MAX(dp_priv(m)->frag_max, (uint16_t)(pm->l3 == PKT_L3_IPV6 ? 1280 : 576));
	return RTE_MIN(mtu, fm);
}

/* The TTL of the IPv4 header at ip (above 1) one less, the header checksum
 * updated: RFC 1624's HC' = ~(~HC + ~m + m'), where the TTL is the high
 * byte of its word m, so ~m + m' = ~m + m - 0x100 = 0xfeff whatever m is,
 * and one fold ends it (~HC + 0xfeff <= 0x1fefe) -- nat_csum16's answer,
 * bit for bit. One's complement sums commute with swapping bytes:
 * computed on the checksum as loaded (little-endian), 0xfeff swapped. */
static inline void ip4_ttl_dec(uint8_t *ip)
{
	uint16_t c;
	memcpy(&c, ip + 10, 2);
	uint32_t sum = (uint32_t)(uint16_t)~c + rte_cpu_to_be_16(0xfeff);
	sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	ip[8]--;
	memcpy(ip + 10, &c, 2);
}

#define DP_MAX_FRAGS 128 /* 64 KiB down to 576 */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The IPv4 option at or after *at in header ip of hlen bytes, no-ops
 * skipped: its offset (*at moves past it), -1 at the end of the options,
 * -2 when its length runs past the header or is below 2 (*at stays on
 * it). */
static inline int ip4_opt_next(const uint8_t *ip, uint32_t hlen, uint32_t *at)
{
	uint32_t o = *at;
	while (o < hlen && ip[o] == 1)
		o++;
	*at = o;
	if (o >= hlen || ip[o] == 0)
		return -1;
	if (o + 1 >= hlen || ip[o + 1] < 2 || o + ip[o + 1] > hlen)
		return -2;
	*at = o + ip[o + 1];
	return (int)o;
}

/*
 * The IPv4 datagram in m (header at offset 0, one buffer) as fragments of
 * at most mtu bytes into out[] (copies from the packet pool, one buffer
 * each: not every PMD transmits chained mbufs, af_xdp for one). As RFC 791
 * and Linux's ip_fragment: the first fragment carries the whole header,
 * the others only the options whose copied flag is set; a fragment being
 * fragmented again keeps its offset and its MF on the last piece; DF is
 * copied as it is (the caller decided the datagram may be fragmented).
 * Returns the number of fragments or a negative errno.
 */
static int fragment4(struct dp_worker *w, struct rte_mbuf *m, uint16_t mtu, struct rte_mbuf **out,
		     int max)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t have = rte_pktmbuf_data_len(m);
	if (!rte_pktmbuf_is_contiguous(m) || have < 20)
		return -EINVAL;
	uint32_t hlen = (uint32_t)(ip[0] & 15) * 4, total = rd16(ip + 2);
	if (hlen < 20 || total < hlen || total > have)
		return -EINVAL;
	/* the header of the later fragments: the options to copy (no-ops
	 * are not; after a malformed one, nothing more is) */
	uint8_t later[60];
	memcpy(later, ip, 20);
	uint32_t llen = 20, at = 20;
	for (int o; (o = ip4_opt_next(ip, hlen, &at)) >= 0;)
		if (ip[o] & 0x80) {
			memcpy(later + llen, ip + o, ip[o + 1]);
			llen += ip[o + 1];
		}
	while (llen & 3)
		later[llen++] = 0;
	later[0] = (uint8_t)(0x40 | llen / 4);
	uint16_t fo = rd16(ip + 6);
	uint32_t base = (uint32_t)(fo & 0x1fff) * 8, rest = total - hlen, off = 0;
	bool mf = fo & 0x2000;
	uint16_t keep = fo & 0x4000; /* DF, as it is */
	int n = 0;
	while (off < rest) {
		const uint8_t *h = off == 0 ? ip : later;
		uint32_t hl = off == 0 ? hlen : llen;
		uint32_t room = mtu > hl ? (mtu - hl) & ~7u : 0;
		if (room == 0 || n == max) {
			rte_pktmbuf_free_bulk(out, (unsigned)n);
			return room == 0 ? -EINVAL : -E2BIG;
		}
		uint32_t len = RTE_MIN(room, rest - off);
		bool last = off + len == rest;
		struct rte_mbuf *f = rte_pktmbuf_alloc(w->dp->pool);
		uint8_t *p = f && hl + len <= rte_pktmbuf_tailroom(f) ?
				     (uint8_t *)rte_pktmbuf_append(f, (uint16_t)(hl + len)) : NULL;
		if (p == NULL) {
			rte_pktmbuf_free(f);
			rte_pktmbuf_free_bulk(out, (unsigned)n);
			return -ENOMEM;
		}
		memcpy(p, h, hl);
		memcpy(p + hl, ip + hlen + off, len);
		wr16(p + 2, hl + len);
		wr16(p + 6, keep | (!last || mf ? 0x2000u : 0) | ((base + off) / 8));
		struct rte_ipv4_hdr *fh = (struct rte_ipv4_hdr *)p;
		fh->hdr_checksum = 0;
		fh->hdr_checksum = rte_ipv4_cksum(fh);
		out[n++] = f;
		off += len;
	}
	return n;
}

/*
 * The IPv6 datagram in m (IPv6 header at offset 0, one buffer) as
 * fragments of at most mtu bytes into out[] (copies from the packet pool),
 * identification id (a fresh one per datagram, from the worker's random
 * sequence, as Linux's ipv6_select_ident picks a new one: a datagram translated by NAT must not share one with
 * another host's). Unlike DPDK's rte_ipv6_fragment_packet, which puts the
 * fragment header right after the IPv6 header and gives every datagram the
 * identification 0, the unfragmentable part (RFC 8200 4.5: Hop-by-Hop,
 * routing headers, and destination options before a routing header) is
 * repeated in every fragment. Returns the number of fragments or a negative errno.
 */
static int fragment6(struct dp_worker *w, struct rte_mbuf *m, uint16_t mtu, uint32_t id,
		     struct rte_mbuf **out, int max)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t have = rte_pktmbuf_data_len(m);
	if (!rte_pktmbuf_is_contiguous(m) || have < 40)
		return -EINVAL;
	uint32_t total = 40u + rd16(ip + 4);
	if (total > have)
		return -EINVAL;
	uint32_t unf = 40, nh_at = 6;
	uint8_t nh = ip[6];
	while (nh == 0 || nh == 43 || nh == 60) {
		if (unf + 2 > total)
			return -EINVAL;
		uint32_t l = ((uint32_t)ip[unf + 1] + 1) * 8;
		if (unf + l > total)
			return -EINVAL;
		if ((nh == 0 && unf != 40) || (nh == 60 && ip[unf] != 43))
			break; /* the fragmentable part starts here */
		nh_at = unf;
		nh = ip[unf];
		unf += l;
	}
	uint32_t chunk = mtu > unf + 8 + 8 ? (mtu - unf - 8) & ~7u : 0;
	uint32_t rest = total - unf;
	if (chunk == 0 || rest == 0)
		return -EINVAL;
	uint32_t n = (rest + chunk - 1) / chunk;
	if (n > (uint32_t)max)
		return -E2BIG;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = i * chunk, len = RTE_MIN(chunk, rest - off);
		struct rte_mbuf *f = rte_pktmbuf_alloc(w->dp->pool);
		uint8_t *p = f && unf + 8 + len <= rte_pktmbuf_tailroom(f) ?
				     (uint8_t *)rte_pktmbuf_append(f, (uint16_t)(unf + 8 + len)) : NULL;
		if (p == NULL) {
			rte_pktmbuf_free(f);
			rte_pktmbuf_free_bulk(out, i);
			return -ENOMEM;
		}
		memcpy(p, ip, unf);
		p[nh_at] = 44;
		wr16(p + 4, unf - 40 + 8 + len);
		uint8_t *fh = p + unf;
		fh[0] = nh;
		fh[1] = 0;
		wr16(fh + 2, off | (i + 1 < n));
		wr16(fh + 4, id >> 16);
		wr16(fh + 6, id & 0xffff);
		memcpy(fh + 8, ip + unf + off, len);
		out[i] = f;
	}
	return (int)n;
}

/*
 * Send m (IPv4 or IPv6 from l3_off) as fragments that fit port out's MTU:
 * an IPv4 datagram without DF larger than the MTU (RFC 791, as Linux), or a
 * datagram reassembled for connection tracking (IPv6 too: routers never
 * fragment what they did not reassemble), in pieces of at most mtu bytes.
 * fragment4 / fragment6 copy each fragment into one buffer of the packet
 * pool (a rare path; not every PMD sends chained mbufs). Nothing is
 * allocated outside the pool. Router: each fragment gets an Ethernet header
 * and goes to next hop nh; bridge (l2 != NULL): each keeps the frame's own
 * link-layer header (l3_off bytes), as br_netfilter refragments. The TTL was
 * decremented by the caller; the header is copied into every fragment.
 */
static void fragment_out(struct dp_worker *w, struct rte_mbuf *m, bool v6, uint16_t l3_off,
			 uint16_t in, uint16_t out, int nh, const uint8_t *l2, uint16_t mtu,
			 const uint8_t *to)
{
	struct rte_mbuf *frags[DP_MAX_FRAGS];
	uint8_t dst[16];
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, l3_off);
	memcpy(dst, to != NULL ? to : v6 ? l3 + 24 : l3 + 16, v6 ? 16 : 4);
	rte_pktmbuf_adj(m, l3_off);
	/* a reassembled datagram that keeps DF (its largest fragment had it,
	 * and fits) gives it to its fragments, as Linux's IPSKB_FRAG_PMTU */
	int n = v6 ? fragment6(w, m, mtu, dp_rand32(w), frags, DP_MAX_FRAGS)
		   : fragment4(w, m, mtu, frags, DP_MAX_FRAGS);
	rte_pktmbuf_free(m);
	if (n < 0) {
		w->st.port[in].drop[n == -ENOMEM ? DP_DROP_NO_MBUF : DP_DROP_MTU_EXCEEDED]++;
		return;
	}
	w->st.fragmented++;
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *f = frags[i];
		uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(f, l2 ? l3_off : RTE_ETHER_HDR_LEN);
		if (h == NULL) {
			dp_drop_pkt(w, in, DP_DROP_NO_MBUF, f);
			continue;
		}
		if (l2 != NULL) {
			memcpy(h, l2, l3_off);
			dp_tx_enqueue(w, out, f);
			continue;
		}
		/* the MACs are send_nh's, or the control thread's once it has
		 * resolved the next hop: zero until then, not a buffer's past */
		memset(h, 0, 2 * RTE_ETHER_ADDR_LEN);
		((struct rte_ether_hdr *)h)->ether_type =
			rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
		uint16_t o = send_nh(w, f, v6 ? 6 : 4, dst, in, out, nh);
		if (o != OUT_NONE)
			dp_tx_enqueue(w, o, f);
	}
}

/* The IPv4 header's options: DP_DROP_NONE, DP_DROP_SOURCE_ROUTE (a loose
 * or strict source route) or DP_DROP_BAD_IPV4_OPTS (a length that runs past
 * the header or is below 2: Linux's ip_options_compile refuses them; *at
 * is the offending option's offset in the header). */
static uint8_t ip4_opts_check(const uint8_t *ip, uint32_t *at)
{
	uint32_t hlen = (uint32_t)(ip[0] & 15) * 4;
	int o;
	*at = 20;
	while ((o = ip4_opt_next(ip, hlen, at)) >= 0)
		if (ip[o] == 131 || ip[o] == 137)
			return DP_DROP_SOURCE_ROUTE;
	return o == -2 ? DP_DROP_BAD_IPV4_OPTS : DP_DROP_NONE;
}

static inline bool ip4_martian_src(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

/* One of the box's own IPv4 addresses as a packet's source: a martian
 * (Linux's fib_validate_source with accept_local 0), whichever port it
 * came in by. */
static inline bool ip4_src_is_ours(const struct dp_ctx *dp, uint32_t src)
{
	if (!(dp->local4_bloom >> (rte_be_to_cpu_32(src) & 63) & 1))
		return false;
	for (unsigned j = 0; j < dp->n_local4; j++)
		if (dp->local4[j] == src)
			return true;
	return false;
}

static uint16_t in4(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
		    struct pkt_meta *pm, uint32_t v)
{
	struct dp_ctx *dp = w->dp;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, pm->l3_off);
	const uint8_t *src = (const uint8_t *)&ip->src_addr;
	const uint8_t *dst = (const uint8_t *)&ip->dst_addr;
	uint16_t in = pm->in_port, out = 0;
	int nh = -1;
	uint32_t dst0 = ip->dst_addr;

	if (!hook_pre(w, R, m, pm, in))
		return OUT_NONE;
	/* options, after PREROUTING as Linux's ip_rcv_options: source-routed
	 * packets dropped (its default accept_source_route 0; the route is
	 * not followed), malformed options too */
	if (unlikely(pm->flags & PKT_F_IP_OPTS)) {
		uint32_t at = 0;
		uint8_t why = ip4_opts_check((const uint8_t *)ip, &at);
		if (why == DP_DROP_BAD_IPV4_OPTS) {
			/* as ip_options_compile: parameter problem, pointing at it */
			error4(w, m, pm, why, 12, 0, at << 24);
			return OUT_NONE;
		}
		if (why != DP_DROP_NONE) {
			dp_drop_pkt(w, in, why, m);
			return OUT_NONE;
		}
	}
	if (unlikely(ip->dst_addr != dst0))
		v = lpm4(dp, dst); /* DNAT: routed to the new destination */

	if (unlikely(ip4_martian_src(src) || ip4_src_is_ours(dp, ip->src_addr))) {
		dp_drop_pkt(w, in, DP_DROP_MARTIAN_SRC, m);
		return OUT_NONE;
	}
	if (unlikely(dst[0] >= 224 || dst[0] == 0 || dst[0] == 127)) {
		/* multicast, limited broadcast, class E, 0/8; 127/8 as Linux
		 * without route_localnet: not routed */
		dp_drop_pkt(w, in, DP_DROP_MARTIAN_DST, m);
		return OUT_NONE;
	}
	int kind = route4_decode(dp, w, v, dst, &out, &nh);
	if (unlikely(kind < 0)) {
		error4(w, m, pm, DP_DROP_NO_ROUTE, 3, 0, 0);
		return OUT_NONE;
	}
	if (kind == DP_NHV_LOCAL) {
		if (hook(w, R, RULES_H_INPUT, m, pm, in, DP_PORT_NONE) &&
		    nat_src(w, R, m, pm, in, DP_PORT_NONE) && dp_ct_confirm(w, R, m, pm))
			local4(w, m, pm);
		return OUT_NONE;
	}
	if (unlikely(kind == DP_NHV_BCAST)) {
		dp_drop_pkt(w, in, DP_DROP_MARTIAN_DST, m);
		return OUT_NONE;
	}
	if (unlikely(pm->ttl <= 1)) {
		error4(w, m, pm, DP_DROP_TTL_EXPIRED, 11, 0, 0);
		return OUT_NONE;
	}
	uint16_t mtu = out_mtu(dp, m, pm, out);
	bool frag = pm->l3_len > mtu;
	/* with DF, too big for the port (Linux's ip_exceeds_mtu: for a
	 * reassembled datagram, when its largest fragment is) */
	if (unlikely(frag) && (pm->flags & PKT_F_IP_DF) &&
	    (!(pm->flags & PKT_F_REASM) || dp_priv(m)->frag_max > dp->ports[out].mtu)) {
		error4(w, m, pm, DP_DROP_MTU_EXCEEDED, 3, 4, dp->ports[out].mtu);
		return OUT_NONE;
	}
	trim_padding(m, pm);
	/* as in Linux's ip_forward(), the FORWARD chain sees the decremented TTL */
	ip4_ttl_dec((uint8_t *)ip);
	w->nat_nh = kind == DP_NHV_GW ? dp->nh[nh].addr : dst;
	if (!hook(w, R, RULES_H_FORWARD, m, pm, in, out) ||
	    !hook(w, R, RULES_H_POSTROUTING, m, pm, DP_PORT_NONE, out) ||
	    !nat_src(w, R, m, pm, in, out) || !dp_ct_confirm(w, R, m, pm))
		return OUT_NONE;
	if (unlikely(pm->l3_len > mtu) && !frag) {
		/* a helper's rewriting made it too big (an FTP command one
		 * MTU long): fragmented if it may be, else dropped */
		if (pm->flags & PKT_F_IP_DF) {
			dp_drop_pkt(w, in, DP_DROP_MTU_EXCEEDED, m);
			return OUT_NONE;
		}
		frag = true;
	}
	if (unlikely(frag)) {
		fragment_out(w, m, false, pm->l3_off, in, out, nh, NULL, mtu, NULL);
		return OUT_NONE;
	}
	return send_nh(w, m, 4, dst, in, out, nh);
}

static const uint8_t ip6_zero[16];

static uint16_t in6(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
		    struct pkt_meta *pm)
{
	struct dp_ctx *dp = w->dp;
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, pm->l3_off);
	const uint8_t *src = ip6->src_addr;
	const uint8_t *dst = ip6->dst_addr;
	uint16_t in = pm->in_port, out = 0;
	int nh = -1;

	if (!hook_pre(w, R, m, pm, in))
		return OUT_NONE;

	bool nd = pm->l4_proto == IPPROTO_ICMPV6 && pm->icmp_type >= 133 && pm->icmp_type <= 137;
	if (unlikely(src[0] == 0xff)) {
		dp_drop_pkt(w, in, DP_DROP_MARTIAN_SRC, m);
		return OUT_NONE;
	}
	if (dst[0] == 0xff) {
		if (!nd) { /* MLD, mDNS, ...: we are not a multicast router */
			dp_drop_pkt(w, in, DP_DROP_LOCAL_UNHANDLED, m);
			return OUT_NONE;
		}
		/* neighbour discovery to the box crosses INPUT, as in Linux */
		if (hook(w, R, RULES_H_INPUT, m, pm, in, DP_PORT_NONE))
			dp_punt(w, m, DP_PUNT_ND, in);
		return OUT_NONE;
	}
	int kind = route6w(dp, w, dst, in, &out, &nh);
	if (kind == DP_NHV_LOCAL && nd) {
		if (hook(w, R, RULES_H_INPUT, m, pm, in, DP_PORT_NONE))
			dp_punt(w, m, DP_PUNT_ND, in);
		return OUT_NONE;
	}
	if (unlikely(memcmp(src, ip6_zero, 16) == 0 ||
		     (memcmp(src, ip6_zero, 15) == 0 && src[15] == 1) ||
		     (memcmp(dst, ip6_zero, 15) == 0 && dst[15] <= 1))) {
		/* unspecified or loopback where it has no business */
		dp_drop_pkt(w, in, DP_DROP_MARTIAN_SRC, m);
		return OUT_NONE;
	}
	if (unlikely(kind < 0)) {
		error6(w, m, pm, DP_DROP_NO_ROUTE, 1, 0, 0);
		return OUT_NONE;
	}
	if (kind == DP_NHV_LOCAL) {
		if (hook(w, R, RULES_H_INPUT, m, pm, in, DP_PORT_NONE) &&
		    nat_src(w, R, m, pm, in, DP_PORT_NONE) && dp_ct_confirm(w, R, m, pm))
			local6(w, m, pm);
		return OUT_NONE;
	}
	if (unlikely(ip6_is_linklocal(src) || ip6_is_linklocal(dst))) {
		/* link-local scope never crosses a router (RFC 4291 2.5.6) */
		dp_drop_pkt(w, in, DP_DROP_MARTIAN_DST, m);
		return OUT_NONE;
	}
	if (unlikely(pm->ttl <= 1)) {
		error6(w, m, pm, DP_DROP_TTL_EXPIRED, 3, 0, 0);
		return OUT_NONE;
	}
	uint16_t mtu = out_mtu(dp, m, pm, out);
	bool refrag = pm->l3_len > mtu;
	/* too big: routers do not fragment IPv6; a reassembled datagram is
	 * fragmented again as it came, unless its largest fragment does not
	 * fit the port (Linux's ip6_pkt_too_big with frag_max_size) */
	if (unlikely(refrag) &&
	    (!(pm->flags & PKT_F_REASM) || dp_priv(m)->frag_max > dp->ports[out].mtu)) {
		error6(w, m, pm, DP_DROP_MTU_EXCEEDED, 2, 0, dp->ports[out].mtu);
		return OUT_NONE;
	}
	trim_padding(m, pm);
	ip6->hop_limits--;
	w->nat_nh = dst; /* IPv6: the source address is chosen toward the destination */
	if (!hook(w, R, RULES_H_FORWARD, m, pm, in, out) ||
	    !hook(w, R, RULES_H_POSTROUTING, m, pm, DP_PORT_NONE, out) ||
	    !nat_src(w, R, m, pm, in, out) || !dp_ct_confirm(w, R, m, pm))
		return OUT_NONE;
	if (unlikely(pm->l3_len > mtu) && !refrag) {
		/* a helper's rewriting made it too big: routers do not
		 * fragment IPv6 */
		dp_drop_pkt(w, in, DP_DROP_MTU_EXCEEDED, m);
		return OUT_NONE;
	}
	if (unlikely(refrag)) {
		fragment_out(w, m, true, pm->l3_off, in, out, nh, NULL, mtu, NULL);
		return OUT_NONE;
	}
	return send_nh(w, m, 6, dst, in, out, nh);
}

void dp_reasm_drop(void *worker, void *mbuf)
{
	struct dp_worker *w = worker;
	w->st.frag_failed++;
	rte_pktmbuf_free(mbuf);
}

/* The IPv6 datagram in d (copied up to frag_hdr_off of the first fragment,
 * whose frame is f): the next-header field that named the fragment header
 * gets the fragment header's own next header. */
static void unlink_frag_hdr6(uint8_t *d, const uint8_t *f, uint16_t l3_off, uint16_t fh_off)
{
	uint32_t nh = l3_off + 6u, pos = l3_off + 40u;
	while (pos + 1 < fh_off) { /* the chain the parser walked */
		uint8_t type = d[nh];
		nh = pos;
		pos += type == 51 ? ((uint32_t)d[pos + 1] + 2) * 4 /* AH: 4-byte units */
				  : ((uint32_t)d[pos + 1] + 1) * 8;
	}
	d[nh] = f[fh_off];
}

/*
 * Reassemble a fragment before connection tracking, as Linux's nf_defrag
 * does when conntrack is in use: the rules and the tracker then see the
 * whole datagram, and it is fragmented again on the way out. Returns the
 * datagram (one contiguous buffer from the jumbo pool, *pm parsed again,
 * its largest fragment in dp_priv()->frag_max), the packet itself when
 * reassembly lets it go on as a fragment (REASM_PASS; an atomic IPv6
 * fragment is not a fragment to the parser and never comes here), or NULL
 * while fragments are missing or when it was refused (counted). The worker's reasm table holds fragments (reasm.h).
 */
static struct rte_mbuf *defrag(struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *pm)
{
	uint16_t in = pm->in_port;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *ip = p + pm->l3_off;
	bool v6 = pm->l3 == PKT_L3_IPV6;
	struct reasm_key k;
	memset(&k, 0, sizeof(k));
	uint32_t off;
	uint16_t hdr, fo;
	bool more;
	unsigned fl;
	if (!v6) {
		hdr = (uint16_t)((ip[0] & 15) * 4);
		fo = rd16(ip + 6);
		memcpy(k.src, ip + 12, 4);
		memcpy(k.dst, ip + 16, 4);
		k.id = rd16(ip + 4);
		k.proto = ip[9];
		off = (fo & 0x1fffu) * 8;
		more = fo & 0x2000;
		fl = (ip[1] & 3u) | (fo & 0x4000 ? REASM_F_DF : 0);
	} else {
		const uint8_t *fh = p + pm->frag_hdr_off;
		fo = rd16(fh + 2);
		off = fo & ~7u;
		more = fo & 1;
		fl = (ip[1] >> 4) & 3u; /* the traffic class's low bits */
		k.v6 = 1;
		memcpy(k.src, ip + 8, 16);
		memcpy(k.dst, ip + 24, 16);
		k.id = (uint32_t)rd16(fh + 4) << 16 | rd16(fh + 6);
		hdr = (uint16_t)(pm->frag_hdr_off + 8 - pm->l3_off);
	}
	if (unlikely(pm->l3_len < hdr)) {
		dp_drop_pkt(w, in, DP_DROP_FRAG_INVALID, m);
		return NULL;
	}
	struct reasm *r = w->reasm;
	uint32_t dg;
	switch (reasm_add(r, &k, off, (uint32_t)pm->l3_len - hdr, more, fl, pm->l3_len, hdr, m,
			  (uint16_t)(pm->l3_off + hdr), rte_rdtsc(), &dg)) {
	case REASM_HELD:
		return NULL;
	case REASM_DONE:
		break;
	case REASM_PASS:
		return m; /* on as a fragment: INVALID to the tracker */
	default:
		w->st.frag_failed++;
		dp_drop_pkt(w, in, DP_DROP_FRAG_INVALID, m);
		return NULL;
	}

	/* complete: the first fragment's headers (without an IPv6 fragment
	 * header), then every payload in order, into one buffer */
	void *fp;
	uint32_t foff, flen;
	uint16_t fdata;
	int32_t f = reasm_first(r, dg);
	reasm_frag(r, f, &fp, &foff, &flen, &fdata);
	struct rte_mbuf *first = fp;
	const uint8_t *fb = rte_pktmbuf_mtod(first, const uint8_t *);
	struct pkt_meta fm = { 0 };
	pkt_parse(fb, rte_pktmbuf_data_len(first), &fm, 0);
	uint32_t front = v6 ? fm.frag_hdr_off : fdata; /* bytes before the payload */
	uint32_t total = reasm_total(r, dg);
	uint16_t frag_max = reasm_frag_max(r, dg);
	bool keep_df = reasm_df(r, dg);
	uint8_t ecn = reasm_ecn(r, dg);
	struct rte_mbuf *d = rte_pktmbuf_alloc(w->dp->pool_jumbo);
	if (d != NULL) /* headroom for an ICMP error's headers, the rest for the datagram */
		d->data_off = RTE_MIN(d->data_off, (uint16_t)64);
	uint8_t *o = d && front + total <= rte_pktmbuf_tailroom(d) ?
			     (uint8_t *)rte_pktmbuf_append(d, (uint16_t)(front + total)) : NULL;
	if (o != NULL) {
		memcpy(o, fb, front);
		uint8_t *dip = o + fm.l3_off;
		if (!v6) {
			uint16_t tl = (uint16_t)(front - fm.l3_off + total);
			dip[2] = (uint8_t)(tl >> 8);
			dip[3] = (uint8_t)tl;
			dip[6] = keep_df ? 0x40 : 0; /* Linux: DF if the largest fragment had it */
			dip[7] = 0;
			dip[1] |= ecn; /* CE if a fragment had it */
			struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)dip;
			h->hdr_checksum = 0;
			h->hdr_checksum = rte_ipv4_cksum(h);
		} else {
			uint16_t pl = (uint16_t)(front - fm.l3_off - 40 + total);
			dip[4] = (uint8_t)(pl >> 8);
			dip[5] = (uint8_t)pl;
			dip[1] |= (uint8_t)(ecn << 4); /* the traffic class's ECN bits */
			unlink_frag_hdr6(o, fb, fm.l3_off, fm.frag_hdr_off);
		}
	}
	for (; f >= 0; f = reasm_next(r, f)) {
		reasm_frag(r, f, &fp, &foff, &flen, &fdata);
		struct rte_mbuf *fr = fp;
		if (o != NULL)
			memcpy(o + front + foff, rte_pktmbuf_mtod_offset(fr, const uint8_t *, fdata),
			       flen);
		if (fr != m)
			rte_pktmbuf_free(fr);
	}
	reasm_release(r, dg);
	if (o == NULL) {
		rte_pktmbuf_free(d);
		w->st.frag_failed++;
		dp_drop_pkt(w, in, DP_DROP_FRAG_TOO_BIG, m);
		return NULL;
	}
	*dp_priv(d) = *dp_priv(m);
	dp_priv(d)->frag_max = frag_max;
	d->port = m->port;
	rte_pktmbuf_free(m);
	w->st.reassembled++;
	w->cur_hash_ok = 0; /* the burst's hash was the fragment's */
	if (pkt_parse(rte_pktmbuf_mtod(d, const uint8_t *), rte_pktmbuf_data_len(d), pm, 0) !=
	    DP_DROP_NONE) {
		/* malformed as a whole (a UDP length past its end, ...):
		 * dropped as any malformed packet is */
		dp_drop_pkt(w, in, pm->drop, d);
		return NULL;
	}
	pm->in_port = in;
	pm->flags |= PKT_F_REASM;
	return d;
}

/*
 * The Hop-by-Hop options of a received IPv6 packet, checked as Linux's
 * ip6_rcv_core does (ipv6_parse_hopopts, before PREROUTING and before
 * reassembly, on every packet it receives): at most 7 bytes of padding in
 * a row, PadN of zeroes only, at most 8 other options
 * (net.ipv6.max_hbh_opts_number), a Router Alert of 2 bytes, a Jumbo
 * Payload refused (with a parameter problem where Linux sends one), an
 * IOAM option 4n-aligned (IOAM is off: otherwise skipped), a CALIPSO
 * option refused (no DOI is configured); an unknown option by its two
 * high bits (RFC 8200 4.2): 00 skipped, 01 dropped, 10 dropped with a
 * parameter problem (code 2, pointing at it), 11 the same unless the
 * destination is multicast. ip: the IPv6 header, its Hop-by-Hop header
 * whole (the parser checked). Returns 0 to go on, -1 to drop, 1 to drop
 * with a parameter problem of *code pointing at *ptr.
 */
static int hbh_check(const uint8_t *ip, uint8_t *code, uint32_t *ptr)
{
	int32_t len = ((int32_t)ip[41] + 1) * 8 - 2;
	uint32_t off = 42;
	unsigned pad = 0, count = 0;
	while (len > 0) {
		uint8_t t = ip[off];
		if (t == 0) { /* Pad1 */
			if (++pad > 7)
				return -1;
			off++;
			len--;
			continue;
		}
		if (len < 2)
			return -1;
		int32_t olen = (int32_t)ip[off + 1] + 2;
		if (olen > len)
			return -1;
		if (t == 1) { /* PadN */
			pad += (unsigned)olen;
			if (pad > 7)
				return -1;
			for (int32_t i = 2; i < olen; i++)
				if (ip[off + (uint32_t)i] != 0)
					return -1;
		} else {
			if (++count > 8)
				return -1;
			switch (t) {
			case 0x05: /* Router Alert */
				if (ip[off + 1] != 2)
					return -1;
				break;
			case 0xC2: /* Jumbo Payload: not on Ethernet */
				if (ip[off + 1] != 4 || (off & 3) != 2)
					return -1;
				*code = 0;
				/* the length: 65 535 or less points at it, more
				 * at the option (the payload length is not 0) */
				*ptr = rd16(ip + off + 2) == 0 ? off + 2 : off;
				return 1;
			case 0x31: /* IOAM, off here */
				if (off & 3)
					return -1;
				break;
			case 0x07: /* CALIPSO */
				return -1;
			default:
				switch (t >> 6) {
				case 0:
					break;
				case 1:
					return -1;
				case 3:
					if (ip[24] == 0xff)
						return -1;
					/* fallthrough */
				default:
					*code = 2;
					*ptr = off;
					return 1;
				}
			}
			pad = 0;
		}
		off += (uint32_t)olen;
		len -= olen;
	}
	return 0;
}

static inline uint16_t router_one(struct dp_worker *w, const struct dp_rules *R,
				  struct rte_mbuf **mp, struct pkt_meta *pm, uint32_t v4)
{
	struct rte_mbuf *m = *mp;
	uint16_t in = pm->in_port;
	if (unlikely(pm->drop != DP_DROP_NONE)) {
		dp_drop_pkt(w, in, pm->drop, m);
		return OUT_NONE;
	}
	if (unlikely(pm->n_vlan)) {
		dp_drop_pkt(w, in, DP_DROP_VLAN_UNSUPPORTED, m);
		return OUT_NONE;
	}
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ether_addr *mine = &w->dp->ports[in].mac;
	if (unlikely((!(pm->flags & PKT_F_L2_MCAST) && !rte_is_same_ether_addr(&eth->dst_addr, mine)) ||
		     rte_is_same_ether_addr(&eth->src_addr, mine))) {
		/* promiscuous ports see other hosts' unicast, and our own echo */
		dp_drop_pkt(w, in, DP_DROP_NOT_FOR_US, m);
		return OUT_NONE;
	}
	if (unlikely(pm->flags & PKT_F_EXTHDR) && pm->l3 == PKT_L3_IPV6) {
		const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
		uint8_t code;
		uint32_t ptr;
		int r = ip[6] == IPPROTO_HOPOPTS ? hbh_check(ip, &code, &ptr) : 0;
		if (unlikely(r != 0)) {
			/* before PREROUTING (ip6_rcv_core's): no connection yet,
			 * not the previous packet's for the error to be about */
			dp_ct_none(w, CT_INVALID);
			if (r < 0)
				dp_drop_pkt(w, in, DP_DROP_BAD_IPV6_OPTS, m);
			else
				error6(w, m, pm, DP_DROP_BAD_IPV6_OPTS, 4, code, ptr);
			return OUT_NONE;
		}
	}
	if (unlikely(pm->flags & PKT_F_FRAG) && R != NULL && R->ct && w->reasm != NULL &&
	    (pm->l3 == PKT_L3_IPV4 || pm->l3 == PKT_L3_IPV6)) {
		m = defrag(w, m, pm);
		if (m == NULL)
			return OUT_NONE;
		*mp = m;
	}
	switch (pm->l3) {
	case PKT_L3_IPV4:
		return in4(w, R, m, pm, v4);
	case PKT_L3_IPV6:
		return in6(w, R, m, pm);
	case PKT_L3_ARP:
		dp_punt(w, m, DP_PUNT_ARP, in);
		return OUT_NONE;
	default:
		dp_drop_pkt(w, in, DP_DROP_L2_UNSUPPORTED, m);
		return OUT_NONE;
	}
}

/* rampartctl trace: router_one for a packet of a burst that began armed
 * (ticket) or that its origin traced (no ticket). */
static __rte_noinline uint16_t router_one_tr(struct dp_worker *w, const struct dp_rules *R,
					    struct rte_mbuf **mp, struct pkt_meta *pm, uint32_t v4,
					    bool ticket, uint16_t from)
{
	struct dp_trace_pkt tp;
	if (!dp_trace_begin(w, &tp, R, *mp, pm, ticket))
		return router_one(w, R, mp, pm, v4);
	tp.rec.from_worker = from;
	uint16_t out = router_one(w, R, mp, pm, v4);
	dp_trace_end(w, &tp, R, *mp, out);
	return out;
}

static inline void parse_burst(struct rte_mbuf **pkts, uint16_t n, uint16_t in,
			       struct pkt_meta *meta)
{
	for (uint16_t i = 0; i < n && i < DP_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *pm = &meta[i];
		if (i + DP_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DP_PREFETCH], void *));
		pm->in_port = in;
		if (unlikely(!rte_pktmbuf_is_contiguous(m))) {
			pm->drop = DP_DROP_NON_CONTIGUOUS;
			continue;
		}
		uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
		pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), pm,
			  ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD);
		if (unlikely(ck == RTE_MBUF_F_RX_IP_CKSUM_BAD) && pm->l3 == PKT_L3_IPV4 &&
		    pm->drop == DP_DROP_NONE)
			pm->drop = DP_DROP_BAD_IPV4_CSUM;
	}
}

/* dp_router_burst's loop while tracing is armed: each packet is checked
 * against the filter (a copy of it, taken at the burst's start). */
static __rte_noinline void dp_router_burst_tr(struct dp_worker *w, struct rte_mbuf **pkts,
					      struct pkt_meta *meta, uint16_t n,
					      const uint32_t *v4, uint16_t *out,
					      const struct dp_rules *R)
{
	uint32_t h[DP_BURST];
	bool ct = R != NULL && R->ct;
	if (ct)
		dp_ct_prefetch_burst(w, R, pkts, meta, n, h);
	for (uint16_t i = 0; i < n; i++) {
		if (ct) {
			dp_ct_prefetch_ahead(w, h, (uint16_t)(i + DP_CT_AHEAD), n);
			w->cur_hash = h[i];
			w->cur_hrep = w->bhrep[i];
			w->cur_hint = w->bhint[i];
			w->cur_i = i;
			w->cur_hash_ok = 1;
		}
		out[i] = router_one_tr(w, R, &pkts[i], &meta[i], v4[i], true, UINT16_MAX);
	}
	w->cur_hash_ok = 0;
}

/*
 * The fast lane (docs/architecture.md#the-fast-lane): with no rule of its
 * family, no connection tracking or NAT on the forwarding path, the common
 * packet -- unicast to our MAC, IPv4 with a 20-byte header and not a
 * fragment or IPv6 without extension headers, TCP, UDP (or ICMP for IPv4)
 * with a well-formed header, a TTL above 1, a gateway or neighbour whose
 * MAC is known, within the port's MTU -- is checked and forwarded in one
 * pass over its headers, without filling a pkt_meta. Every test here is
 * one the full path (pkt_parse, router_one, in4/in6, send_nh) makes, and
 * a packet that fails any of them goes that way, so what leaves the box is
 * the same byte for byte (test_router's fast-lane differential tests hold
 * the two paths to that).
 */
#define FAST_V4 1
#define FAST_V6 2

/* Which families may take the fast lane (FAST_V4 | FAST_V6), 0: none. */
static inline unsigned fast_on(const struct dp_ctx *dp, const struct dp_rules *R)
{
	if (unlikely(dp->fast_off))
		return 0;
	if (R == NULL)
		return FAST_V4 | FAST_V6;
	return (R->fast[0] ? FAST_V4 : 0) | (R->fast[1] ? FAST_V6 : 0);
}

#define OUT_SLOW (UINT16_MAX - 1)

static inline uint64_t ld64le(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return rte_le_to_cpu_64(v);
}

static inline uint32_t ld32le(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return rte_le_to_cpu_32(v);
}

#define MAC48 0xffffffffffffull

/* First octets neither end of a forwarded IPv4 packet may have: 0/8,
 * 127/8, 224/3 (multicast, class E, broadcast) */
static const uint8_t ip4_martian_first[256] = {
	[0] = 1, [127] = 1, [224 ... 255] = 1,
};

/* The headers: true if the packet may take the fast lane; *dst is its
 * destination (host order), *tlp its total length. Reads nothing past the
 * frame's data_len. */
static inline bool fast4_check(const struct dp_ctx *dp, struct rte_mbuf *m, uint64_t mine,
			       uint32_t *dst, uint32_t *tlp)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	if (unlikely(m->nb_segs != 1 || len < RTE_ETHER_HDR_LEN + 20 + 8))
		return false;
	/* the Ethernet and IPv4 headers in five loads, byte 0 lowest; IPv4
	 * without VLAN tag first (bytes 12-13: 0x08 0x00): an IPv6 packet
	 * goes on to its own checks at once */
	uint64_t s = ld64le(p + 6);
	if ((s >> 48) != 0x0008)
		return false;
	uint64_t d = ld64le(p);
	uint64_t i0 = ld64le(p + 14), i1 = ld64le(p + 22);
	uint32_t i2 = ld32le(p + 30);
	uint32_t tl = __builtin_bswap16((uint16_t)(i0 >> 16));
	/* to us (so not multicast), not from us, no IP options, not a
	 * fragment (DF may be set: 0xff3f is 0x3fff's bytes), a TTL above 1 */
	uint64_t bad = ((d ^ mine) & MAC48) | ((i0 & 0xff) ^ 0x45) | ((i0 >> 48) & 0xff3f);
	if (bad != 0 || ((s ^ mine) & MAC48) == 0 || (i1 & 0xff) <= 1 || tl < 20 + 8 ||
	    tl > len - RTE_ETHER_HDR_LEN)
		return false;
	/* ICMP: its 8 bytes are there (tl >= 28) */
	uint8_t proto = (uint8_t)(i1 >> 8);
	if (proto != IPPROTO_ICMP && !pkt_tcpudp_ok(proto, p + RTE_ETHER_HDR_LEN + 20, tl - 20))
		return false;
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD) {
		/* The one's complement sum of the header is 0xffff: as 2^16 is
		 * 1 modulo 65535, the header read as any words (these 32-bit
		 * ones, in either byte order) sums to a multiple of 65535, and
		 * it is not 0 (the version byte). A multiply and a compare. */
		uint64_t sum = (i0 & 0xffffffff) + (i0 >> 32) + (i1 & 0xffffffff) + (i1 >> 32) + i2;
		if (sum % 0xffff != 0 || ck == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return false;
	}
	uint32_t src = rte_cpu_to_le_32((uint32_t)(i1 >> 32)); /* as in memory */
	uint8_t s0 = (uint8_t)(i1 >> 32), d0 = (uint8_t)i2;
	if ((ip4_martian_first[s0] | ip4_martian_first[d0]) || ip4_src_is_ours(dp, src))
		return false;
	*dst = rte_bswap32(i2);
	*tlp = tl;
	return true;
}

/* The IPv6 headers: true if the packet may take the fast lane -- a
 * unicast frame to us, no VLAN tag, version 6, TCP or UDP right after the
 * fixed header (no extension header) and whole, a hop limit above 1,
 * neither address multicast, link-local, unspecified or loopback. */
static inline bool fast6_check(struct rte_mbuf *m, uint64_t mine, uint32_t *tlp)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	if (unlikely(m->nb_segs != 1 || len < RTE_ETHER_HDR_LEN + 40 + 8))
		return false;
	uint64_t d = ld64le(p), s = ld64le(p + 6);
	/* bytes 12-13: 0x86 0xdd */
	if (((d ^ mine) & MAC48) != 0 || ((s ^ mine) & MAC48) == 0 || (s >> 48) != 0xdd86)
		return false;
	const uint8_t *ip = p + RTE_ETHER_HDR_LEN;
	uint32_t pl = rd16(ip + 4);
	if ((ip[0] >> 4) != 6 || pl < 8 || pl > len - RTE_ETHER_HDR_LEN - 40 || ip[7] <= 1)
		return false;
	if (!pkt_tcpudp_ok(ip[6], ip + 40, pl))
		return false;
	const uint8_t *src = ip + 8, *dst = ip + 24;
	if (src[0] == 0xff || dst[0] == 0xff || ip6_is_linklocal(src) || ip6_is_linklocal(dst))
		return false;
	/* ::, ::1 as either address (the full path: a martian source) */
	uint64_t sh, sl, dh, dl;
	memcpy(&sh, src, 8);
	memcpy(&sl, src + 8, 8);
	memcpy(&dh, dst, 8);
	memcpy(&dl, dst + 8, 8);
	if ((sh == 0 && (sl & ~rte_cpu_to_be_64(1)) == 0) ||
	    (dh == 0 && (dl & ~rte_cpu_to_be_64(1)) == 0))
		return false;
	*tlp = 40 + pl;
	return true;
}

/* The route v (the LPM's answer for dst, the packet's destination or the
 * one NAT gives it) of a datagram of tl bytes (IP header included) decoded: the port the packet leaves by and its next
 * hop's MAC (*mac), or OUT_SLOW (the full path's case: ours,
 * no route, a neighbour not resolved, over the MTU). Changes nothing. */
static inline uint16_t fast_route(const struct dp_ctx *dp, struct dp_worker *w, uint32_t v,
				  uint32_t tl, bool v6, const uint8_t *dst, uint64_t *mac)
{
	uint32_t idx = v & DP_NHV_IDX_MASK;
	uint16_t out;
	int nh;
	switch (v >> DP_NHV_SHIFT) {
	case DP_NHV_GW:
		nh = (int)idx;
		out = dp->nh[idx].port;
		break;
	case DP_NHV_CONN:
		out = (uint16_t)idx;
		nh = nh_cached(w, v6, dst, out);
		if (nh < 0)
			return OUT_SLOW;
		break;
	default: /* ours, a broadcast, no route (NHV_MISS) */
		return OUT_SLOW;
	}
	if (tl > dp->ports[out].mtu)
		return OUT_SLOW;
	/* acquire pairs with the control thread's release store of a freshly
	 * resolved MAC (send_nh) */
	*mac = __atomic_load_n(&dp->nh[nh].mac, __ATOMIC_ACQUIRE);
	if (!(*mac & DP_NH_VALID))
		return OUT_SLOW;
	return out;
}

/* The packet (a datagram of tl bytes) forwarded to port out, next hop
 * mac (fast_route's answer): padding trimmed, TTL or hop limit
 * decremented, MACs rewritten. */
static inline void fast_rewrite(const struct dp_ctx *dp, struct rte_mbuf *m, uint16_t out,
				uint64_t mac, uint32_t tl, bool v6)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = p + RTE_ETHER_HDR_LEN;
	if (rte_pktmbuf_pkt_len(m) > RTE_ETHER_HDR_LEN + tl) { /* Ethernet padding */
		m->data_len = (uint16_t)(RTE_ETHER_HDR_LEN + tl); /* one segment */
		m->pkt_len = RTE_ETHER_HDR_LEN + tl;
	}
	if (v6)
		ip[7]--; /* the hop limit; no header checksum */
	else
		ip4_ttl_dec(ip);
	/* destination then source MAC: 8 + 4 bytes (the 8-byte store's last
	 * two bytes are the source's first two) */
	uint64_t so = dp->ports[out].mac48;
	uint64_t dm = rte_cpu_to_le_64((mac & MAC48) | (so << 48));
	uint32_t sm = rte_cpu_to_le_32((uint32_t)(so >> 16));
	memcpy(p, &dm, 8);
	memcpy(p + 8, &sm, 4);
}

/* Route and rewrite: the packet's port, or OUT_SLOW (nothing was changed). */
static inline uint16_t fast_send(const struct dp_ctx *dp, struct dp_worker *w,
				 struct rte_mbuf *m, uint32_t v, uint32_t tl, bool v6)
{
	uint64_t mac;
	uint16_t out = fast_route(dp, w, v, tl, v6,
				  rte_pktmbuf_mtod_offset(m, const uint8_t *,
							  RTE_ETHER_HDR_LEN + (v6 ? 24 : 16)),
				  &mac);
	if (out != OUT_SLOW)
		fast_rewrite(dp, m, out, mac, tl, v6);
	return out;
}

/* What a lane forwarded, counted: the worker's counter, and the
 * counters of the chains it crossed (policies of empty chains, the
 * ESTABLISHED rule), as the traversal would (IP length: padding was
 * trimmed). nf, bytes: packets and frame bytes by family. */
static inline void fast_count(struct dp_worker *w, const struct dp_rules *R, uint64_t *st,
			      const uint16_t *nf, const uint64_t *bytes)
{
	*st += (uint64_t)nf[0] + nf[1];
	if (R == NULL)
		return;
	struct rules_counter *c = R->ctr[w->id];
	for (unsigned f = 0; f < 2; f++) {
		if (nf[f] == 0)
			continue;
		uint64_t b = bytes[f] - (uint64_t)nf[f] * RTE_ETHER_HDR_LEN;
		for (unsigned j = 0; j < R->fast_n[f]; j++) {
			c[R->fast_ctr[f][j]].pkts += nf[f];
			c[R->fast_ctr[f][j]].bytes += b;
		}
	}
}

/* The slow path of a burst (or of the packets the fast lane left): out[i]
 * is where pkts[i] goes, OUT_NONE if it was consumed. */
static __rte_noinline void router_full(struct dp_worker *w, uint16_t in,
					struct rte_mbuf **pkts, uint16_t n, uint16_t *out,
					const struct dp_rules *R, bool may_trace,
					const struct ct_res *const *given);

/* The end of a lane's burst: ns packets it left (sp[j] is pkts[si[j]],
 * with the tracker's result gp[j] if any) through the full path, their
 * ports in out. Returns the port every packet leaves by when the lane
 * forwarded them all by one (their frames' bytes in *txb), else OUT_NONE. */
static inline uint16_t lane_end(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts,
				uint16_t n, uint16_t *out, const struct dp_rules *R,
				struct rte_mbuf **sp, const uint16_t *si, uint16_t ns,
				const struct ct_res *const *gp, uint64_t bytes, unsigned diff,
				uint64_t *txb)
{
	if (likely(ns == 0)) {
		*txb = bytes;
		return diff == 0 && n > 0 ? out[0] : OUT_NONE;
	}
	uint16_t so[DP_BURST];
	router_full(w, in, sp, ns, so, R, false, gp);
	for (uint16_t j = 0; j < ns; j++) {
		pkts[si[j]] = sp[j];
		out[si[j]] = so[j];
	}
	return OUT_NONE;
}

/* The fast lane without tracking: each packet alone (no state), those it
 * leaves to the full path after (in their order). Returns the port every
 * packet of the burst leaves by, their frames' bytes in *txb, when the
 * lane forwarded them all by one port (the usual burst); else OUT_NONE. */
static inline uint16_t fast_burst(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts,
				  uint16_t n, const struct dp_rules *R, unsigned fam, uint16_t *out,
				  uint64_t *txb)
{
	const struct dp_ctx *dp = w->dp;
	uint64_t mine = dp->ports[in].mac48;
	struct rte_mbuf *sp[DP_BURST];
	uint16_t si[DP_BURST], ns = 0;
	uint16_t nf[2] = { 0, 0 };
	uint64_t bytes[2] = { 0, 0 }; /* by family, frames' lengths */
	unsigned diff = 0; /* not 0: not all by out[0] */
	for (uint16_t i = 0; i < n && i < DP_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + DP_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DP_PREFETCH], void *));
		struct rte_mbuf *m = pkts[i];
		uint32_t v, tl;
		/* each family its own fast_send: v6 a constant in each */
		if ((fam & FAST_V4) && fast4_check(dp, m, mine, &v, &tl)) {
			if (rte_lpm_lookup(dp->lpm4, v, &v) < 0)
				v = NHV_MISS;
			out[i] = fast_send(dp, w, m, v, tl, false);
			if (likely(out[i] != OUT_SLOW)) {
				nf[0]++;
				bytes[0] += rte_pktmbuf_pkt_len(m);
				diff |= (unsigned)(out[i] ^ out[0]);
				continue;
			}
		} else if ((fam & FAST_V6) && fast6_check(m, mine, &tl)) {
			if (rte_lpm6_lookup(dp->lpm6,
					    rte_pktmbuf_mtod_offset(m, const uint8_t *,
								    RTE_ETHER_HDR_LEN + 24),
					    &v) < 0)
				v = NHV_MISS;
			out[i] = fast_send(dp, w, m, v, tl, true);
			if (likely(out[i] != OUT_SLOW)) {
				nf[1]++;
				bytes[1] += rte_pktmbuf_pkt_len(m);
				diff |= (unsigned)(out[i] ^ out[0]);
				continue;
			}
		}
		si[ns] = i;
		sp[ns++] = m;
	}
	fast_count(w, R, &w->st.fast, nf, bytes);
	return lane_end(w, in, pkts, n, out, R, sp, si, ns, NULL, bytes[0] + bytes[1], diff, txb);
}

/* The tracker's tuple of the fast lane's IPv4 (v6 false) or IPv6 packet
 * whose IP header is at ip: addresses at src, the transport header at l4. */
static inline void est_tuple(struct ct_tuple *tp, const uint8_t *ip, bool v6, uint8_t proto)
{
	unsigned alen = v6 ? 16 : 4, src = v6 ? 8 : 12, l4 = v6 ? 40 : 20;
	memset(tp, 0, sizeof(*tp));
	memcpy(tp->src, ip + src, alen);
	memcpy(tp->dst, ip + src + alen, alen);
	tp->sport = rd16(ip + l4);
	tp->dport = rd16(ip + l4 + 2);
	tp->proto = proto;
	tp->fam = v6 ? 6 : 4;
}

/* The established lane's look at packet m ahead of its turn (read only):
 * true if its headers may take the lane, its tuple in *tp, its route (the
 * LPM's answer) in *v, its family in *v6. */
static inline bool est_check(const struct dp_ctx *dp, struct rte_mbuf *m, uint64_t mine,
			     unsigned fam, struct ct_tuple *tp, uint32_t *v, uint8_t *v6)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);
	uint32_t dst, tl;
	if ((fam & FAST_V4) && fast4_check(dp, m, mine, &dst, &tl)) {
		if (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP)
			return false;
		*v6 = 0;
		if (rte_lpm_lookup(dp->lpm4, dst, v) < 0)
			*v = NHV_MISS;
		est_tuple(tp, ip, false, ip[9]);
		return true;
	}
	if ((fam & FAST_V6) && fast6_check(m, mine, &tl)) {
		*v6 = 1;
		if (rte_lpm6_lookup(dp->lpm6, ip + 24, v) < 0)
			*v = NHV_MISS;
		est_tuple(tp, ip, true, ip[6]);
		return true;
	}
	return false;
}

/* The route of the destination dst destination NAT gives a packet (*v:
 * the LPM's answer); false if dst is one the full path refuses to route
 * (in4/in6: multicast, 0/8, 127/8, class E; IPv6 link-local, unspecified,
 * loopback) -- the full path then says so. */
static inline bool est_dnat_route(const struct dp_ctx *dp, const uint8_t *dst, bool v6,
				  uint32_t *v)
{
	if (!v6) {
		if (dst[0] == 0 || dst[0] == 127 || dst[0] >= 224)
			return false;
		uint32_t a;
		memcpy(&a, dst, 4);
		if (rte_lpm_lookup(dp->lpm4, rte_be_to_cpu_32(a), v) < 0)
			*v = NHV_MISS;
		return true;
	}
	uint64_t hi, lo;
	memcpy(&hi, dst, 8);
	memcpy(&lo, dst + 8, 8);
	if (dst[0] == 0xff || ip6_is_linklocal(dst) || (hi == 0 && (lo & ~rte_cpu_to_be_64(1)) == 0))
		return false;
	if (rte_lpm6_lookup(dp->lpm6, dst, v) < 0)
		*v = NHV_MISS;
	return true;
}

/* How far ahead of its turn the established lane looks at a packet (its
 * headers, tuple, hash; its connection's bucket requested), and requests
 * its entry. Far enough for a table in DRAM (with 1M connections and the
 * entry one cache line, 16/8 against 10/5: ct-established 159 -> 146
 * cycles; 20/10 as good, 24/12 worse; performance.md); not much further:
 * the lane stops at its first packet it cannot take, and what it did
 * ahead is then lost (a burst of new connections stops it at once). */
#define EST_AHEAD 16
#define EST_ENTRY_AHEAD 8
/* A burst of EST_COOL_MIN packets or more of which the lane forwarded none
 * (new connections: what it did was in vain) sends the next EST_COOL
 * bursts straight to the full path. */
#define EST_COOL_MIN 8
#define EST_COOL 4

/* Whether the established lane must stop at a new connection it leaves to
 * the full path: when the table may have to evict one for it (early drop:
 * any entry, maybe a later packet's). */
static inline bool est_full(const struct ct_table *t, uint8_t fam)
{
	return t->nfree <= DP_BURST || (fam == 6 && t->max6 - t->live6 <= DP_BURST);
}

enum { EST_FWD, EST_LEFT, EST_STOP };

/* The established lane's turn of packet m (tuple *tup, hash h, the
 * bucket's candidate hint, route: the LPM's answer), of IPv6 if six:
 * EST_FWD, forwarded by port *o; EST_LEFT, left to the full path, with
 * the entry it will work on in *touch (CT_NIL: none) and, if *given, the
 * tracker's result in *res; EST_STOP, the lane stops before it. touched
 * (nt): the entries of the packets left before it. */
static __rte_always_inline int est_one(struct dp_worker *w, const struct dp_rules *R, uint16_t in,
				       struct rte_mbuf *m, const struct ct_tuple *tup, uint32_t h,
				       uint32_t hint, uint32_t route, bool six,
				       const uint32_t *touched, uint16_t nt, uint32_t *touch,
				       struct ct_res *res, bool *given, uint16_t *o)
{
	const struct dp_ctx *dp = w->dp;
	struct ct_table *t = w->ct;
	struct ct_pkt p;
	p.t = *tup;
	p.l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);
	uint32_t hl = six ? 40 : 20;
	p.l4 = p.l3 + hl;
	p.len = six ? 40u + rd16(p.l3 + 4) : rd16(p.l3 + 2);
	p.l4_len = p.len - hl;
	/* fast4/6_check: the datagram is whole in the one segment */
	p.l4_cap = p.l4_len;
	p.tcp_flags = p.t.proto == IPPROTO_TCP ? p.l4[13] : 0;
	p.icmp_type = p.icmp_code = 0;
	p.l4_ok = 1;
	p.icmp_err = 0;
	p.helper = 0;
	p.tpol = 0; /* no raw table: the lane runs without one */
	p.ctev = 0;
	p.h_rep = 0;
	p.hint = CT_NIL;
	/* with several workers and NAT, a packet to a source translation's
	 * address whose ports name another worker goes there untouched
	 * (dp_ct_in's steering) */
	if (R->nat && dp->n_workers > 1) {
		int ow = dp_ct_owner(w, R, &p.t, p.t.sport, p.t.dport, 0);
		if (ow >= 0 && (unsigned)ow != w->id)
			return EST_LEFT;
	}
	p.csum_bad = dp_ct_csum_bad(dp, m, six, p.t.proto, dp->ports[in].sw_l4_csum, p.l3, p.l4,
				    p.l4_len, p.l4_cap);
	uint32_t found;
	uint32_t node = ct_est_find(t, &p, h, hint, w->ct_now, &found);
	if (node == CT_NIL) {
		/* the full path may make a new entry for it (a new connection,
		 * an expired one, a reopened one) */
		if (est_full(t, p.t.fam))
			return EST_STOP;
		*touch = found == CT_NIL ? CT_NIL : found >> 1;
		return EST_LEFT;
	}
	*touch = node >> 1;
	for (uint16_t j = 0; j < nt; j++)
		if (touched[j] == *touch)
			return EST_LEFT;
	/* a connection with a CT --timeout policy: the lane refreshes with
	 * the table's timeouts, the full path with its policy's */
	const uint8_t *tp = __atomic_load_n(&t->tp, __ATOMIC_RELAXED);
	if (unlikely(tp != NULL) && tp[node >> 1] != 0)
		return EST_LEFT;
	/* routed before it is tracked (read only): tracking happens only for
	 * a packet the lane will forward if its connection lets it; on the
	 * destination NAT gives it, if any (in4 routes after PREROUTING) */
	const struct ct_entry *ce = &t->e[node >> 1];
	unsigned dir = node & 1;
	bool dnat = R->nat && nat_needed(ce, dir, NAT_MANIP_DST);
	bool snat = R->nat && nat_needed(ce, dir, NAT_MANIP_SRC);
	const uint8_t *dst = p.l3 + (six ? 24 : 16);
	struct ct_tuple rt;
	if (dnat) {
		ct_entry_tuple(t, node >> 1, !dir, &rt);
		dst = rt.src;
		if (!est_dnat_route(dp, dst, six, &route))
			return EST_LEFT;
	}
	uint64_t mac;
	*o = fast_route(dp, w, route, p.len, six, dst, &mac);
	if (*o == OUT_SLOW)
		return EST_LEFT;
	if (ct_est_track(t, &p, node, h, w->ct_now, res) != CT_EST_OK) {
		*given = true;
		return EST_LEFT;
	}
	/* as the full path: destination NAT (PREROUTING), the TTL (routing),
	 * source NAT (POSTROUTING) */
	struct nat_pkt np = { .l3 = (uint8_t *)(uintptr_t)p.l3,
			      .l4 = (uint8_t *)(uintptr_t)p.l4,
			      .l4_cap = p.l4_cap,
			      .proto = p.t.proto };
	if (dnat)
		nat_manip_packet(t, node >> 1, dir, NAT_MANIP_DST, &np);
	fast_rewrite(dp, m, *o, mac, p.len, six);
	if (snat)
		nat_manip_packet(t, node >> 1, dir, NAT_MANIP_SRC, &np);
	return EST_FWD;
}

/*
 * The established lane: the fast lane with connection tracking. Packets
 * of established connections with nothing to do but be accounted
 * (ct_est_find, ct_est_track) and translated (their NAT binding) cross
 * their chains' ESTABLISHED rules and are forwarded as the fast lane does.
 * The others are left to the full path, after the lane (in their order):
 * so that no connection sees its packets out of order, a packet whose
 * connection's entry one of them will work on is left too (touched), and
 * the lane stops at a packet whose tuple it cannot read (a fragment, ICMP,
 * not IP) or a new connection that may evict another. A packet it tracked
 * and leaves (an out-of-window segment) goes with its result (given).
 * Returns as fast_burst (the port of a burst forwarded whole by one, its
 * bytes in *txb; else OUT_NONE).
 */
static inline uint16_t est_burst(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts,
				 uint16_t n, const struct dp_rules *R, unsigned fam, uint16_t *out,
				 uint64_t *txb)
{
	const struct dp_ctx *dp = w->dp;
	struct ct_table *t = w->ct;
	uint64_t mine = dp->ports[in].mac48;
	uint32_t v[DP_BURST], h[DP_BURST], hint[DP_BURST];
	uint8_t v6[DP_BURST];
	uint16_t k = 0;  /* [0, k): looked at ahead, may take the lane */
	uint16_t pe = 0; /* [0, pe): their entries requested */
	bool stop = false; /* packet k may not */
	uint16_t nf[2] = { 0, 0 };
	uint64_t bytes[2] = { 0, 0 };
	unsigned diff = 0; /* not 0: not all forwarded by out[0] */
	/* left to the full path: sp[j] is pkts[si[j]], given gp[j] */
	struct rte_mbuf *sp[DP_BURST];
	uint16_t si[DP_BURST], ns = 0;
	struct ct_res gv[DP_BURST];
	const struct ct_res *gp[DP_BURST];
	uint32_t touched[DP_BURST];
	uint16_t nt = 0;
	uint16_t i;
	for (i = 0; i < n && i < DP_PREFETCH + EST_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	/* ahead: packet i + EST_AHEAD's headers and bucket, packet i +
	 * EST_ENTRY_AHEAD's entry, the data of those after; first the
	 * packets before them, then one of each per packet */
#define EST_LOOK(k)                                                                              \
	do {                                                                                     \
		if ((k) + DP_PREFETCH + EST_AHEAD < n)                                           \
			rte_prefetch0(rte_pktmbuf_mtod(pkts[(k) + DP_PREFETCH + EST_AHEAD], void *)); \
		if (!est_check(dp, pkts[k], mine, fam, &w->btup[k], &v[k], &v6[k])) {           \
			stop = true;                                                             \
			break;                                                                   \
		}                                                                                \
		h[k] = ct_hash_zone0(&w->btup[k]);                                               \
		ct_prefetch(t, h[k]);                                                            \
		(k)++;                                                                           \
	} while (0)
	while (!stop && k < n && k < EST_AHEAD)
		EST_LOOK(k);
	for (; pe < k && pe < EST_ENTRY_AHEAD; pe++)
		hint[pe] = ct_prefetch_entry(t, h[pe], ct_proto_ps(w->btup[pe].proto));
	for (i = 0;; i++) {
		if (!stop && k < n)
			EST_LOOK(k);
		if (i >= k)
			break;
		if (pe < k) { /* pe > i after this (k > i) */
			hint[pe] = ct_prefetch_entry(t, h[pe], ct_proto_ps(w->btup[pe].proto));
			pe++;
		}
		struct rte_mbuf *m = pkts[i];
		uint32_t touch = CT_NIL; /* the entry the full path will work on */
		bool given = false;
		uint16_t o;
		/* each family its own copy: six a constant in each */
		int r = likely(!v6[i]) ? est_one(w, R, in, m, &w->btup[i], h[i], hint[i], v[i], false,
						  touched, nt, &touch, &gv[ns], &given, &o)
				       : est_one(w, R, in, m, &w->btup[i], h[i], hint[i], v[i], true,
						  touched, nt, &touch, &gv[ns], &given, &o);
		if (likely(r == EST_FWD)) {
			out[i] = o;
			diff |= (unsigned)(o ^ out[0]);
			nf[v6[i]]++;
			bytes[v6[i]] += rte_pktmbuf_pkt_len(m);
			continue;
		}
		if (r == EST_STOP)
			break;
		gp[ns] = given ? &gv[ns] : NULL;
		if (touch != CT_NIL)
			touched[nt++] = touch;
		si[ns] = i;
		sp[ns++] = m;
	}
#undef EST_LOOK
	fast_count(w, R, &w->st.fast_est, nf, bytes);
	if (nf[0] + nf[1] == 0 && n >= EST_COOL_MIN)
		w->est_cool = EST_COOL; /* new connections, most likely */
	for (; i < n; i++) { /* the lane stopped: the rest as they come */
		gp[ns] = NULL;
		si[ns] = i;
		sp[ns++] = pkts[i];
	}
	return lane_end(w, in, pkts, n, out, R, sp, si, ns, gp, bytes[0] + bytes[1], diff, txb);
}

void dp_router_burst(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t out[DP_BURST];
	const struct dp_rules *R = dp_rules_get(w->dp);
	unsigned fam = fast_on(w->dp, R);
	if (unlikely(dp_trace_on(w->dp)) || fam == 0)
		router_full(w, in, pkts, n, out, R, true, NULL);
	else if (R == NULL || !R->ct) {
		/* the lanes; a burst forwarded whole by one port: one copy */
		uint64_t txb;
		uint16_t p = fast_burst(w, in, pkts, n, R, fam, out, &txb);
		if (likely(p != OUT_NONE)) {
			dp_tx_enqueue_run(w, p, pkts, n, txb);
			return;
		}
	} else if (likely(w->est_cool == 0)) {
		uint64_t txb;
		uint16_t p = est_burst(w, in, pkts, n, R, fam, out, &txb);
		if (likely(p != OUT_NONE)) {
			dp_tx_enqueue_run(w, p, pkts, n, txb);
			return;
		}
	} else { /* sitting out: new connections, most likely */
		w->est_cool--;
		router_full(w, in, pkts, n, out, R, false, NULL);
	}
	dp_tx_enqueue_burst(w, pkts, out, n);
}

static __rte_noinline void router_full(struct dp_worker *w, uint16_t in,
					struct rte_mbuf **pkts, uint16_t n, uint16_t *out,
					const struct dp_rules *R, bool may_trace,
					const struct ct_res *const *given)
{
	struct pkt_meta meta[DP_BURST];
	uint32_t v4[DP_BURST];
	parse_burst(pkts, n, in, meta);
	/* all IPv4 route lookups first: independent loads that overlap */
	for (uint16_t i = 0; i < n; i++)
		v4[i] = meta[i].l3 == PKT_L3_IPV4 && meta[i].drop == DP_DROP_NONE
			? lpm4(w->dp, rte_pktmbuf_mtod_offset(pkts[i], const uint8_t *,
							      meta[i].l3_off + 16))
			: NHV_MISS;
	/* rampartctl trace: the one test when nothing is armed (a burst is
	 * traced whole: not the fast lane's leftovers of an untraced one) */
	if (unlikely(may_trace && dp_trace_on(w->dp)) && dp_trace_burst(w)) {
		dp_router_burst_tr(w, pkts, meta, n, v4, out, R);
		return;
	}
	if (R != NULL && R->ct) {
		uint32_t h[DP_BURST];
		dp_ct_prefetch_burst(w, R, pkts, meta, n, h);
		for (uint16_t i = 0; i < n; i++) {
			dp_ct_prefetch_ahead(w, h, (uint16_t)(i + DP_CT_AHEAD), n);
			w->cur_hash = h[i];
			w->cur_hrep = w->bhrep[i];
			w->cur_hint = w->bhint[i];
			w->cur_i = i;
			w->cur_hash_ok = 1; /* until the packet changes (reassembly) */
			w->cur_given = given != NULL ? given[i] : NULL;
			out[i] = router_one(w, R, &pkts[i], &meta[i], v4[i]);
		}
		w->cur_hash_ok = 0;
		w->cur_given = NULL;
	} else {
		for (uint16_t i = 0; i < n; i++)
			out[i] = router_one(w, R, &pkts[i], &meta[i], v4[i]);
	}
	/* the caller queues for tx in a loop of its own: no packet byte
	 * stores in between, so the tx buffer index can stay in a register */
}

/* Bridge mode: a datagram reassembled for connection tracking that does
 * not fit the peer port's MTU leaves as fragments with the frame's own
 * link-layer header. */
static void bridge_fragment(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
			    uint16_t out)
{
	uint8_t l2[RTE_ETHER_HDR_LEN + 8]; /* two VLAN tags at most */
	if (pm->l3_off > sizeof(l2)) {
		dp_drop_pkt(w, pm->in_port, DP_DROP_MTU_EXCEEDED, m);
		return;
	}
	memcpy(l2, rte_pktmbuf_mtod(m, const uint8_t *), pm->l3_off);
	fragment_out(w, m, pm->l3 == PKT_L3_IPV6, pm->l3_off, pm->in_port, out, -1, l2,
		     out_mtu(w->dp, m, pm, out), NULL);
}

/* One frame of a bridge burst: the port it leaves by or OUT_NONE. */
static inline uint16_t bridge_one(struct dp_worker *w, const struct dp_rules *R,
				  struct rte_mbuf **mp, struct pkt_meta *pm, uint16_t in, uint16_t peer)
{
	/* the frame crosses unchanged; only malformed IP is refused, as
	 * a firewall cannot judge what it cannot parse */
	if (unlikely(pm->drop != DP_DROP_NONE)) {
		dp_drop_pkt(w, in, pm->drop, *mp);
		return OUT_NONE;
	}
	/* IP frames cross the hooks as with bridge-nf-call-iptables:
	 * -i and -o are the bridge ports */
	if (R != NULL && (pm->l3 == PKT_L3_IPV4 || pm->l3 == PKT_L3_IPV6)) {
		if (unlikely(pm->flags & PKT_F_FRAG) && R->ct && w->reasm != NULL) {
			struct rte_mbuf *d = defrag(w, *mp, pm);
			if (d == NULL)
				return OUT_NONE;
			*mp = d;
		}
		if (!hook_pre(w, R, *mp, pm, in) ||
		    !hook(w, R, RULES_H_FORWARD, *mp, pm, in, peer) ||
		    !hook(w, R, RULES_H_POSTROUTING, *mp, pm, DP_PORT_NONE, peer) ||
		    !dp_ct_confirm(w, R, *mp, pm))
			return OUT_NONE;
		if (unlikely(pm->flags & PKT_F_REASM) && pm->l3_len > out_mtu(w->dp, *mp, pm, peer)) {
			/* its largest fragment does not fit the peer port: dropped,
			 * as br_netfilter's br_nf_ip_fragment (a bridge sends no
			 * ICMP) */
			if (dp_priv(*mp)->frag_max > w->dp->ports[peer].mtu) {
				dp_drop_pkt(w, in, DP_DROP_MTU_EXCEEDED, *mp);
				return OUT_NONE;
			}
			bridge_fragment(w, *mp, pm, peer);
			return OUT_NONE;
		}
	}
	return peer;
}

static __rte_noinline uint16_t bridge_one_tr(struct dp_worker *w, const struct dp_rules *R,
					    struct rte_mbuf **mp, struct pkt_meta *pm, uint16_t in,
					    uint16_t peer, bool ticket, uint16_t from)
{
	struct dp_trace_pkt tp;
	if (!dp_trace_begin(w, &tp, R, *mp, pm, ticket))
		return bridge_one(w, R, mp, pm, in, peer);
	tp.rec.from_worker = from;
	uint16_t out = bridge_one(w, R, mp, pm, in, peer);
	dp_trace_end(w, &tp, R, *mp, out);
	return out;
}

void dp_bridge_burst(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts, uint16_t n)
{
	struct pkt_meta meta[DP_BURST];
	uint16_t peer = w->dp->ports[in].peer;
	parse_burst(pkts, n, in, meta);
	uint16_t out[DP_BURST];
	const struct dp_rules *R = dp_rules_get(w->dp);
	/* rampartctl trace: the one test when nothing is armed */
	bool tr = unlikely(dp_trace_on(w->dp)) && dp_trace_burst(w);
	for (uint16_t i = 0; i < n; i++)
		out[i] = likely(!tr) ? bridge_one(w, R, &pkts[i], &meta[i], in, peer)
				     : bridge_one_tr(w, R, &pkts[i], &meta[i], in, peer, true,
						     UINT16_MAX);
	dp_tx_enqueue_burst(w, pkts, out, n);
}

/* Packets another worker handed over: their connection may be ours. They
 * went through the raw table there; here they continue with conntrack. */
unsigned dp_handoff_drain(struct dp_worker *w)
{
	struct dp_ctx *dp = w->dp;
	struct rte_mbuf *pkts[DP_BURST];
	struct pkt_meta meta[DP_BURST];
	uint32_t h[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, DP_BURST, NULL);
	const struct dp_rules *R = dp_rules_get(dp);
	w->st.handoff_in += n;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_mbuf_priv *pv = dp_priv(m);
		struct pkt_meta *pm = &meta[i];
		pm->in_port = pv->in_port;
		if (pv->in_port >= dp->n_ports || pv->hops >= dp->n_workers) {
			pm->drop = DP_DROP_MAX; /* not ours to count: freed below */
			continue;
		}
		pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), pm, 0);
		if (pv->reasm)
			pm->flags |= PKT_F_REASM;
	}
	/* the burst's lookups overlap here too (hops > 0: no steering) */
	bool pre = R != NULL && R->ct && n > 0;
	if (pre) {
		w->cur_hops = 1;
		dp_ct_prefetch_burst(w, R, pkts, meta, (uint16_t)n, h);
	}
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_meta *pm = &meta[i];
		if (unlikely(pm->drop == DP_DROP_MAX)) {
			rte_pktmbuf_free(m);
			continue;
		}
		struct dp_mbuf_priv *pv = dp_priv(m);
		uint16_t in = pm->in_port;
		w->cur_hops = pv->hops;
		w->cur_origin = pv->origin;
		w->cur_ask_all = pv->ask_all;
		w->cur_create = pv->create;
		w->cur_t = pv->ct;
		if (pre) {
			dp_ct_prefetch_ahead(w, h, (uint16_t)(i + DP_CT_AHEAD), (uint16_t)n);
			w->cur_hash = h[i];
			w->cur_hrep = w->bhrep[i];
			w->cur_hint = w->bhint[i];
			w->cur_i = (uint16_t)i;
			w->cur_hash_ok = h[i] != 0;
		}
		uint16_t out;
		/* rampartctl trace: its origin traced it, so does this worker */
		bool tr = pv->trace;
		if (dp->mode == CFG_MODE_ROUTER) {
			uint32_t v4 = pm->l3 == PKT_L3_IPV4 && pm->drop == DP_DROP_NONE
				? lpm4(dp, rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off + 16))
				: NHV_MISS;
			out = likely(!tr) ? router_one(w, R, &m, pm, v4)
					  : router_one_tr(w, R, &m, pm, v4, false, pv->origin);
		} else {
			uint16_t peer = dp->ports[in].peer;
			out = likely(!tr) ? bridge_one(w, R, &m, pm, in, peer)
					  : bridge_one_tr(w, R, &m, pm, in, peer, false, pv->origin);
		}
		if (out != OUT_NONE)
			dp_tx_enqueue(w, out, m);
	}
	w->cur_hash_ok = 0;
	w->cur_hops = 0;
	w->cur_origin = (uint8_t)w->id;
	w->cur_ask_all = w->cur_create = 0;
	w->cur_t = (struct rules_ct_tmpl){ 0 };
	return n;
}

void dp_unreach_held(struct dp_worker *w, struct rte_mbuf *m)
{
	struct dp_ctx *dp = w->dp;
	struct pkt_meta pm;
	pm.in_port = dp_priv(m)->in_port;
	if (pm.in_port >= dp->n_ports) {
		rte_pktmbuf_free(m);
		return;
	}
	pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &pm, 0);
	int rc = -1;
	if (pm.drop == DP_DROP_NONE && pm.l3 == PKT_L3_IPV4) {
		/* not for the box's own packets: Linux reports those to the socket */
		const uint8_t *src = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm.l3_off + 12);
		uint16_t o;
		int nh;
		if (route4(dp, src, &o, &nh) != DP_NHV_LOCAL)
			rc = dp_icmp4_error(w, m, &pm, 3, 1, 0); /* host unreachable */
	} else if (pm.drop == DP_DROP_NONE && pm.l3 == PKT_L3_IPV6) {
		const uint8_t *src = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm.l3_off + 8);
		bool ours = false;
		for (unsigned p = 0; p < dp->n_ports && !ours; p++)
			ours = dp_addr_is_local6(dp, (uint16_t)p, src);
		if (!ours)
			rc = dp_icmp6_error(w, m, &pm, 1, 3, 0); /* address unreachable */
	}
	if (rc == 0)
		dp_output_local(w, m, pm.l3, pm.in_port);
	else
		rte_pktmbuf_free(m);
}

/* -j TEE: a copy (dp_tee_req made it) sent as nf_dup_ipv4/6 send theirs:
 * routed to its gateway, which becomes its next hop (FLOWI_FLAG_KNOWN_NH:
 * the gateway itself when it is on a connected subnet, else the router
 * the route to it names), through --oif if given (IPv4 with no route
 * that way takes the gateway to be on that link, IPv6 sends no copy);
 * untracked, through OUTPUT and POSTROUTING (the nat table does not
 * see an untracked packet), whose rules copy nothing of it; too big for
 * the port, the sender is told (DF is set: frag needed, or packet too
 * big) and the copy is dropped. */
static void tee_send(struct dp_worker *w, struct rte_mbuf *m)
{
	struct dp_ctx *dp = w->dp;
	struct dp_mbuf_priv *pv = dp_priv(m);
	bool v6 = pv->family == 6;
	uint8_t l3 = v6 ? PKT_L3_IPV6 : PKT_L3_IPV4;
	uint16_t in = pv->in_port, oif = pv->out_port, out = 0;
	uint8_t gw[16];
	memcpy(gw, pv->addr, 16);
	int nh = -1;
	int kind = v6 ? route6(dp, gw, oif != DP_PORT_NONE ? oif : in, &out, &nh)
		      : route4(dp, gw, &out, &nh);
	if (kind >= 0 && kind != DP_NHV_GW && kind != DP_NHV_CONN) {
		/* the box's own address, a broadcast: nothing to send to */
		w->st.tee_noroute++;
		rte_pktmbuf_free(m);
		return;
	}
	if (!v6 && oif != DP_PORT_NONE && (kind < 0 || out != oif)) {
		/* no route by oif: IPv4 takes the gateway to be on oif's
		 * link ("routing tables are wrong", ip_route_output_key) */
		kind = DP_NHV_CONN;
		out = oif;
		nh = nh_lookup(dp, 4, gw, oif);
	}
	if ((kind != DP_NHV_GW && kind != DP_NHV_CONN) || (oif != DP_PORT_NONE && out != oif)) {
		w->st.tee_noroute++;
		rte_pktmbuf_free(m);
		return;
	}
	struct pkt_meta pm;
	pm.in_port = in;
	pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &pm, 0);
	if (unlikely(pm.drop != DP_DROP_NONE || m->nb_segs != 1 || pm.l3 != l3)) {
		/* dp_tee_req copied what the parser had taken: never here */
		w->st.tee_lost++;
		rte_pktmbuf_free(m);
		return;
	}
	pm.mark = pv->mark;
	if (pv->reasm)
		pm.flags |= PKT_F_REASM;
	const struct dp_rules *R = dp_rules_get(dp);
	if (R != NULL && (dp_hook_on(R, l3, RULES_H_OUTPUT) || dp_hook_on(R, l3, RULES_H_POSTROUTING))) {
		struct ct_res about = w->ctr;
		dp_ct_none(w, CT_UNTRACKED);
		uint8_t with, v = RULES_R_ACCEPT;
		if (dp_hook_on(R, l3, RULES_H_OUTPUT))
			v = dp_hook(w, R, RULES_H_OUTPUT, RULES_PART_ALL, m, &pm, DP_PORT_NONE, out, &with);
		if (v == RULES_R_ACCEPT && dp_hook_on(R, l3, RULES_H_POSTROUTING))
			v = dp_hook(w, R, RULES_H_POSTROUTING, RULES_PART_ALL, m, &pm, DP_PORT_NONE, out,
				    &with);
		w->ctr = about;
		if (v != RULES_R_ACCEPT) {
			dp_drop_pkt(w, in, v == RULES_R_REJECT ? DP_DROP_FILTER_REJECT : DP_DROP_FILTER_DROP,
				    m);
			return;
		}
	}
	uint16_t mtu = dp->ports[out].mtu;
	if (pm.l3_len > mtu) {
		/* DF is set; a reassembled datagram whose largest fragment
		 * fits is fragmented again (defrag's ignore_df, frag_max_size) */
		if (pv->reasm && pv->frag_max <= mtu) {
			/* the fragments have DF only if the original's had
			 * (IPSKB_FRAG_PMTU), not the copy's own */
			if (!v6 && !pv->df) {
				struct rte_ipv4_hdr *h = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
										 RTE_ETHER_HDR_LEN);
				h->fragment_offset &= rte_cpu_to_be_16((uint16_t)~RTE_IPV4_HDR_DF_FLAG);
			}
			w->st.tee_sent++;
			fragment_out(w, m, v6, RTE_ETHER_HDR_LEN, in, out, nh, NULL,
				     out_mtu(dp, m, &pm, out), gw);
			return;
		}
		w->st.port[in].drop[DP_DROP_MTU_EXCEEDED]++;
		int rc = v6 ? dp_icmp6_error(w, m, &pm, 2, 0, mtu) : dp_icmp4_error(w, m, &pm, 3, 4, mtu);
		if (rc == 0)
			dp_output_local(w, m, l3, in);
		else
			rte_pktmbuf_free(m);
		return;
	}
	w->st.tee_sent++;
	out = send_nh(w, m, v6 ? 6 : 4, gw, in, out, nh);
	if (out != OUT_NONE)
		dp_tx_enqueue(w, out, m);
}

void dp_tee_flush(struct dp_worker *w)
{
	w->tee_active = 1;
	for (uint16_t i = 0; i < w->n_tee; i++)
		tee_send(w, w->tee_q[i]);
	w->n_tee = 0;
	w->tee_active = 0;
	w->tee_m = NULL;
	w->tee_pm = NULL;
}

void dp_output_local(struct dp_worker *w, struct rte_mbuf *m, uint8_t l3, uint16_t in_port)
{
	struct dp_ctx *dp = w->dp;
	if (unlikely(w->trc != NULL))
		w->trc->answer = 1; /* rampartctl trace: what follows is the box's answer */
	uint16_t out = 0;
	int nh = -1, kind;
	const uint8_t *dst;
	if (l3 == PKT_L3_IPV4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								  RTE_ETHER_HDR_LEN);
		dst = (const uint8_t *)&ip->dst_addr;
		kind = route4(dp, dst, &out, &nh);
	} else {
		struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
								   RTE_ETHER_HDR_LEN);
		dst = ip6->dst_addr;
		kind = route6(dp, dst, in_port, &out, &nh);
	}
	if (kind != DP_NHV_GW && kind != DP_NHV_CONN) {
		dp_drop_pkt(w, in_port, kind < 0 ? DP_DROP_NO_ROUTE : DP_DROP_MARTIAN_DST, m);
		return;
	}
	const struct dp_rules *R = dp_rules_get(dp);
	bool track = R != NULL && R->ct;
	if (track || (R != NULL && (dp_hook_on(R, l3, RULES_H_OUTPUT) ||
				    dp_hook_on(R, l3, RULES_H_POSTROUTING)))) {
		/* the box's own packet: OUTPUT (raw, conntrack, the rest) then
		 * POSTROUTING, after routing as in Linux (so -o works); a REJECT
		 * here only drops (the answer would be for the box itself) */
		struct ct_res about = w->ctr; /* the packet this one answers */
		struct pkt_meta pm;
		pm.in_port = in_port;
		pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &pm, 0);
		uint8_t with, v = RULES_R_ACCEPT;
		bool out_on = dp_hook_on(R, l3, RULES_H_OUTPUT);
		if (track) {
			dp_ct_none(w, CT_INVALID);
			w->ct_notrack = 0;
			w->ct_t = (struct rules_ct_tmpl){ 0 };
			if (out_on && R->prog->f[l3 == PKT_L3_IPV6].hook_raw[RULES_H_OUTPUT])
				v = dp_hook(w, R, RULES_H_OUTPUT, RULES_PART_RAW, m, &pm, DP_PORT_NONE,
					    out, &with);
			if (v == RULES_R_ACCEPT) {
				if (w->ct_notrack) {
					dp_ct_none(w, CT_UNTRACKED);
				} else if (w->out_related && about.idx != CT_NIL) {
					w->ctr = about;
					w->ctr.state = CT_RELATED;
					w->ctr.dir ^= 1;
					w->ctr.fresh = 0;
				} else if (!dp_ct_in(w, R, m, &pm, false)) {
					w->ctr = about;
					return;
				}
			}
			w->nat_tg = NULL;
			if (v == RULES_R_ACCEPT && (out_on || dp_nat_on(w, R, l3, RULES_H_OUTPUT)))
				v = dp_hook(w, R, RULES_H_OUTPUT, RULES_PART_REST, m, &pm, DP_PORT_NONE,
					    out, &with);
			if (v == RULES_R_ACCEPT && R->nat &&
			    !dp_nat_step(w, R, m, &pm, NAT_MANIP_DST, DP_PORT_NONE, out)) {
				w->ctr = about;
				return;
			}
		} else if (out_on) {
			v = dp_hook(w, R, RULES_H_OUTPUT, RULES_PART_ALL, m, &pm, DP_PORT_NONE, out,
				    &with);
		}
		if (v == RULES_R_ACCEPT && (dp_hook_on(R, l3, RULES_H_POSTROUTING) ||
					    dp_nat_on(w, R, l3, RULES_H_POSTROUTING)))
			v = dp_hook(w, R, RULES_H_POSTROUTING, RULES_PART_ALL, m, &pm, DP_PORT_NONE,
				    out, &with);
		w->nat_nh = NULL; /* MASQUERADE: the port's first address */
		if (v == RULES_R_ACCEPT && track && R->nat &&
		    !dp_nat_step(w, R, m, &pm, NAT_MANIP_SRC, DP_PORT_NONE, out)) {
			w->ctr = about;
			return;
		}
		if (v != RULES_R_ACCEPT) {
			w->ctr = about;
			dp_drop_pkt(w, in_port, v == RULES_R_REJECT ? DP_DROP_FILTER_REJECT :
								     DP_DROP_FILTER_DROP, m);
			return;
		}
		bool sent = dp_ct_confirm(w, R, m, &pm);
		w->ctr = about;
		if (!sent)
			return;
	}
	if (l3 == PKT_L3_IPV4) {
		/* an answer to a reassembled datagram (a large echo) may not fit */
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
									RTE_ETHER_HDR_LEN);
		if (rte_be_to_cpu_16(ip->total_length) > dp->ports[out].mtu &&
		    !(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))) {
			fragment_out(w, m, false, RTE_ETHER_HDR_LEN, in_port, out, nh, NULL,
				     dp->ports[out].mtu, NULL);
			return;
		}
	}
	out = send_nh(w, m, l3 == PKT_L3_IPV4 ? 4 : 6, dst, in_port, out, nh);
	if (out != OUT_NONE)
		dp_tx_enqueue(w, out, m);
}
