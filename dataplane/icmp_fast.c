/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp_fast: packets the box answers with, built in place in the mbuf that
 * provoked them (no allocation on the worker): ICMP/ICMPv6 errors (time
 * exceeded, destination unreachable, fragmentation needed / packet too big)
 * and echo replies. The rules of RFC 1812 4.3.2.7 / RFC 4443 2.4 decide when
 * an error must not be sent; a per-worker token bucket mirrors the kernel's
 * icmp_msgs_per_sec / icmp_msgs_burst. TCP resets for segments nobody
 * listens to are built here too (the future REJECT --reject-with tcp-reset).
 */
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>

#include "dp_priv.h"

#define ICMP4_ERR_MAX 576  /* RFC 1812 4.3.2.3 */
#define ICMP6_ERR_MAX 1280 /* RFC 4443 2.4 (c) */

bool dp_icmp_ratelimit_ok(struct dp_worker *w)
{
	const struct dp_ctx *dp = w->dp;
	if (dp->icmp_rate == 0)
		return true;
	uint64_t now = rte_rdtsc();
	uint64_t cap = (uint64_t)dp->icmp_burst * dp->tsc_hz;
	uint64_t el = now - w->icmp_last_tsc;
	w->icmp_last_tsc = now;
	if (el >= cap / dp->icmp_rate)
		w->icmp_tokens = cap;
	else if (w->icmp_tokens + el * dp->icmp_rate >= cap)
		w->icmp_tokens = cap;
	else
		w->icmp_tokens += el * dp->icmp_rate;
	if (w->icmp_tokens < dp->tsc_hz)
		return false;
	w->icmp_tokens -= dp->tsc_hz;
	return true;
}

/* Whether a is one of the box's IPv4 addresses (slow path: errors only). */
static bool box_addr4(const struct dp_ctx *dp, const uint8_t *a)
{
	uint32_t v;
	memcpy(&v, a, 4);
	for (unsigned p = 0; p < dp->n_ports; p++)
		for (unsigned i = 0; i < dp->ports[p].n4; i++)
			if (dp->ports[p].ip4[i] == v)
				return true;
	return false;
}

static bool box_addr6(const struct dp_ctx *dp, const uint8_t *a)
{
	for (unsigned p = 0; p < dp->n_ports; p++)
		if (dp_addr_is_local6(dp, (uint16_t)p, a))
			return true;
	return false;
}

static bool ip4_no_error_src(const uint8_t *s)
{
	return s[0] == 0 || s[0] == 127 || s[0] >= 224;
}

int dp_icmp4_error(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
		   uint8_t type, uint8_t code, uint32_t info)
{
	const struct dp_port *port = &w->dp->ports[pm->in_port];
	if (pm->flags & (PKT_F_ICMP_ERR | PKT_F_FRAG_LATER | PKT_F_L2_MCAST))
		return -1;
	uint8_t *orig = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l3_off);
	if (ip4_no_error_src(orig + 12) || orig[16] >= 224 || port->n4 == 0 ||
	    pm->l3_off != RTE_ETHER_HDR_LEN)
		return -1;
	if (!dp_icmp_ratelimit_ok(w)) {
		w->st.port[pm->in_port].drop[DP_DROP_ICMP_RATELIMIT]++;
		return -1;
	}
	const uint16_t hdrs = sizeof(struct rte_ipv4_hdr) + 8;
	uint32_t orig_len = RTE_MIN((uint32_t)pm->l3_len, (uint32_t)(ICMP4_ERR_MAX - hdrs));
	if (rte_pktmbuf_headroom(m) < hdrs)
		return -1;
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - (pm->l3_off + orig_len)));

	struct rte_ether_addr peer;
	rte_ether_addr_copy(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr, &peer);
	uint32_t orig_src, src = port->ip4[0];
	memcpy(&orig_src, orig + 12, 4);
	/* as Linux's icmp_send(): an error about a packet addressed to the box
	 * comes from the address it was sent to, otherwise from the ingress
	 * port's address */
	if (box_addr4(w->dp, orig + 16))
		memcpy(&src, orig + 16, 4);

	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, hdrs);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	rte_ether_addr_copy(&peer, &eth->dst_addr);
	rte_ether_addr_copy(&port->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0xc0; /* internetwork control, as Linux */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(hdrs + orig_len));
	ip->packet_id = rte_cpu_to_be_16(w->ip_id++);
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = src;
	ip->dst_addr = orig_src;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	uint8_t *icmp = (uint8_t *)(ip + 1);
	icmp[0] = type;
	icmp[1] = code;
	icmp[2] = icmp[3] = 0;
	/* frag needed: the next-hop MTU; parameter problem: the pointer << 24 */
	uint32_t inf = rte_cpu_to_be_32(info);
	memcpy(icmp + 4, &inf, 4);
	uint16_t ck = (uint16_t)~rte_raw_cksum(icmp, 8 + orig_len);
	memcpy(icmp + 2, &ck, 2);
	w->st.icmp_sent++;
	return 0;
}

int dp_icmp6_error(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
		   uint8_t type, uint8_t code, uint32_t info)
{
	const struct dp_port *port = &w->dp->ports[pm->in_port];
	uint8_t *orig = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l3_off);
	/* icmp6_send's one exception for multicast: a parameter problem
	 * about an unrecognised option whose type says to answer whatever
	 * the destination (RFC 8200 4.2, action bits 10) */
	bool any_dst = type == 4 && code == 2 && info < pm->l3_len &&
		info + pm->l3_off < rte_pktmbuf_data_len(m) && (orig[info] & 0xC0) == 0x80;
	if (pm->flags & (PKT_F_ICMP_ERR | PKT_F_FRAG_LATER | (any_dst ? 0 : PKT_F_L2_MCAST)))
		return -1;
	static const uint8_t zero[16];
	const uint8_t *osrc = orig + 8, *odst = orig + 24;
	if (osrc[0] == 0xff || (odst[0] == 0xff && !any_dst) || memcmp(osrc, zero, 16) == 0 ||
	    pm->l3_off != RTE_ETHER_HDR_LEN)
		return -1;
	uint8_t src[16];
	if (box_addr6(w->dp, odst))
		memcpy(src, odst, 16); /* as icmp6_send(): from the address it was sent to */
	else if (dp_port_src6(port, osrc, src) < 0)
		return -1;
	if (!dp_icmp_ratelimit_ok(w)) {
		w->st.port[pm->in_port].drop[DP_DROP_ICMP_RATELIMIT]++;
		return -1;
	}
	const uint16_t hdrs = sizeof(struct rte_ipv6_hdr) + 8;
	uint32_t orig_len = RTE_MIN((uint32_t)pm->l3_len, (uint32_t)(ICMP6_ERR_MAX - hdrs));
	if (rte_pktmbuf_headroom(m) < hdrs)
		return -1;
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - (pm->l3_off + orig_len)));

	struct rte_ether_addr peer;
	rte_ether_addr_copy(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr, &peer);
	uint8_t dst[16];
	memcpy(dst, osrc, 16);

	uint8_t *p = (uint8_t *)rte_pktmbuf_prepend(m, hdrs);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	rte_ether_addr_copy(&peer, &eth->dst_addr);
	rte_ether_addr_copy(&port->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);

	struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(p + RTE_ETHER_HDR_LEN);
	dp_ip6_hdr(ip6, (uint16_t)(8 + orig_len), IPPROTO_ICMPV6, 64, src, dst);

	uint8_t *icmp = (uint8_t *)(ip6 + 1);
	icmp[0] = type;
	icmp[1] = code;
	icmp[2] = icmp[3] = 0;
	uint32_t inf = rte_cpu_to_be_32(info); /* packet too big: MTU; param problem: pointer */
	memcpy(icmp + 4, &inf, 4);
	uint16_t ck = rte_ipv6_udptcp_cksum(ip6, icmp);
	memcpy(icmp + 2, &ck, 2);
	w->st.icmp_sent++;
	return 0;
}

void dp_icmp4_echo_reply(struct rte_mbuf *m, const struct pkt_meta *pm)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, pm->l3_off);
	uint32_t t = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = t;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l4_off);
	uint16_t ck;
	memcpy(&ck, icmp + 2, 2);
	icmp[0] = 0; /* echo reply */
	ck = rte_cpu_to_be_16(nat_csum16(rte_be_to_cpu_16(ck), 0x0800, 0x0000));
	memcpy(icmp + 2, &ck, 2);
}

void dp_icmp6_echo_reply(struct rte_mbuf *m, const struct pkt_meta *pm)
{
	struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, pm->l3_off);
	uint8_t t[16];
	memcpy(t, ip6->src_addr, 16);
	memcpy(ip6->src_addr, ip6->dst_addr, 16);
	memcpy(ip6->dst_addr, t, 16);
	ip6->hop_limits = 64;
	/* the pseudo-header sum does not change when src and dst swap */
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l4_off);
	uint16_t ck;
	memcpy(&ck, icmp + 2, 2);
	icmp[0] = 129;
	ck = rte_cpu_to_be_16(nat_csum16(rte_be_to_cpu_16(ck), 0x8000, 0x8100));
	memcpy(icmp + 2, &ck, 2);
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* Turn the segment in m into the RST the kernel would send for it
 * (tcp_v4_send_reset): with an ACK in the segment, seq = its ack and no ACK;
 * otherwise seq 0 and ack = its seq + its length (+1 for SYN and FIN). Never
 * in answer to a RST, a fragment or a link-layer broadcast. */
int dp_tcp_reset(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	if ((pm->flags & (PKT_F_FRAG | PKT_F_L2_MCAST)) || !(pm->flags & PKT_F_L4) ||
	    pm->l4_proto != IPPROTO_TCP || pm->l3_off != RTE_ETHER_HDR_LEN)
		return -1;
	uint8_t *tcp = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l4_off);
	uint8_t flags = tcp[13];
	if (flags & TCP_RST)
		return -1;
	uint32_t doff = (uint32_t)(tcp[12] >> 4) * 4;
	uint32_t seglen = (uint32_t)pm->l3_len - (pm->l4_off - pm->l3_off) - doff;
	uint16_t sport, dport;
	uint32_t seq, ack;
	memcpy(&sport, tcp, 2);
	memcpy(&dport, tcp + 2, 2);
	memcpy(&seq, tcp + 4, 4);
	memcpy(&ack, tcp + 8, 4);
	uint32_t rseq = 0, rack = 0;
	uint8_t rflags;
	if (flags & TCP_ACK) {
		rseq = ack;
		rflags = TCP_RST;
	} else {
		rack = rte_cpu_to_be_32(rte_be_to_cpu_32(seq) + seglen + !!(flags & TCP_SYN) +
					!!(flags & TCP_FIN));
		rflags = TCP_RST | TCP_ACK;
	}

	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr peer = eth->src_addr;
	eth->dst_addr = peer;
	rte_ether_addr_copy(&w->dp->ports[pm->in_port].mac, &eth->src_addr);
	uint8_t *l3 = (uint8_t *)(eth + 1);
	uint8_t *th;
	uint16_t l3len;
	if (pm->l3 == PKT_L3_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		uint32_t a = ip->src_addr, b = ip->dst_addr;
		l3len = sizeof(*ip);
		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(20 + 20);
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = b;
		ip->dst_addr = a;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)l3;
		uint8_t a[16], b[16];
		memcpy(a, ip6->src_addr, 16);
		memcpy(b, ip6->dst_addr, 16);
		l3len = sizeof(*ip6);
		dp_ip6_hdr(ip6, 20, IPPROTO_TCP, 64, b, a);
	}
	th = l3 + l3len;
	memset(th, 0, 20);
	memcpy(th, &dport, 2);
	memcpy(th + 2, &sport, 2);
	memcpy(th + 4, &rseq, 4);
	memcpy(th + 8, &rack, 4);
	th[12] = 5 << 4;
	th[13] = rflags;
	uint16_t ck = pm->l3 == PKT_L3_IPV4 ? rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)l3, th)
					    : rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)l3, th);
	memcpy(th + 16, &ck, 2);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - (RTE_ETHER_HDR_LEN + l3len + 20)));
	w->st.tcp_rst_sent++;
	return 0;
}
