/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_lane: the tracker's part of the established lane (router_fast.c),
 * inline there: finding a packet's entry and judging it (ct_est_find), and
 * a UDP datagram's tracking (ct_est_track). A call into ct_proto.c for
 * each cost the lane about 60 instructions a packet of saved registers and
 * arguments; ct_proto.c's ct_in uses the same pieces, so the lane and the
 * full path cannot drift apart.
 */
#ifndef RP_CT_LANE_H
#define RP_CT_LANE_H

#include <netinet/tcp.h>

#include "ct.h"
#include "ct_priv.h"

static inline void ct_refresh(struct ct_entry *e, uint32_t now, uint32_t secs)
{
	e->expire = now + ct_ticks(secs);
}

static inline void ct_acct(struct ct_entry *e, unsigned dir, uint32_t len)
{
	if (++e->pk_lo[dir] == 0)
		e->by[dir] += 1ull << 56;
	e->by[dir] += len;
}

/* UDP (and UDP-Lite) as nf_conntrack_udp_packet: unreplied, the short
 * timeout; answered and still going after 2 s, a stream: ASSURED, the
 * long one (an ASSURED flow is a stream for good: its stream_ts is not
 * read). The caller sets SEEN_REPLY after, for a reply. */
static inline void ct_udp_packet(const struct ct_table *t, struct ct_entry *e, uint32_t now)
{
	uint32_t to = t->par->to[CT_TO_UDP];
	if (e->status & CT_S_ASSURED) {
		to = t->par->to[CT_TO_UDP_STREAM];
	} else if ((e->status & CT_S_SEEN_REPLY) && (int32_t)(now - e->mts) > 0) {
		to = t->par->to[CT_TO_UDP_STREAM];
		e->status |= CT_S_ASSURED;
	}
	ct_refresh(e, now, to);
}

/* The flag combinations nf_conntrack_proto_tcp's tcp_valid_flags lets by */
static inline bool ct_tcp_flags_valid(uint8_t f)
{
	switch (f & (TH_FIN | TH_SYN | TH_RST | TH_ACK | TH_URG)) {
	case TH_SYN:
	case TH_SYN | TH_URG:
	case TH_SYN | TH_ACK:
	case TH_RST:
	case TH_RST | TH_ACK:
	case TH_FIN | TH_ACK:
	case TH_FIN | TH_ACK | TH_URG:
	case TH_ACK:
	case TH_ACK | TH_URG:
		return true;
	default:
		return false;
	}
}

/* What ct_in judges of a whole (l4_ok) TCP segment or UDP datagram before
 * its lookup: true if it is not INVALID (a truncated TCP header, flags no
 * stack sends, a bad checksum at PREROUTING). */
static inline bool ct_tcpudp_ok(const struct ct_table *t, const struct ct_pkt *p, bool prerouting)
{
	if (p->t.proto == 6) {
		unsigned doff = p->l4_cap >= 20 ? (unsigned)(p->l4[12] >> 4) * 4 : 0;
		if (doff < 20 || doff > p->l4_cap || doff > p->l4_len || /* truncated */
		    !ct_tcp_flags_valid(p->tcp_flags))
			return false;
	}
	return !(prerouting && p->csum_bad && t->par->checksum);
}

/* See ct.h (the established lane's tracking). */
static inline uint32_t ct_est_find(struct ct_table *t, const struct ct_pkt *p, uint32_t h,
				   uint32_t hint, uint32_t now, uint32_t *found)
{
	if (__builtin_expect(t->pending != CT_NIL, 0))
		ct_abort(t); /* as ct_in: the previous packet did not get through */
	uint32_t n = __builtin_expect(ct_hint_holds(t, hint, &p->t), 1) ? hint : ct_lookup(t, &p->t, h);
	*found = n;
	if (n == CT_NIL)
		return CT_NIL;
	uint8_t proto = p->t.proto;
	const struct ct_entry *e = &t->e[n >> 1];
	/* expired (ct_in: a new connection); a helper's (after the filter,
	 * the helper reads the packet). TCP: only a segment that leaves an
	 * ESTABLISHED connection ESTABLISHED -- no SYN (it may reopen: a new
	 * entry), FIN or RST (closing, or killed: what -m connlimit counts
	 * and NAT's free ports change under the packets the lane overtakes) */
	if ((proto != 6 && proto != 17) ||
	    (proto == 6 && ((p->tcp_flags & (TH_SYN | TH_FIN | TH_RST)) ||
			    ct_tcp_state(e) != CT_TCP_ESTABLISHED)) ||
	    (int32_t)(e->expire - now) <= 0 || (e->ps & 0xf0) != 0 || !p->l4_ok ||
	    !ct_tcpudp_ok(t, p, true))
		return CT_NIL;
	return n;
}

/* ct_est_track for all but an answered UDP flow's datagram (ct_proto.c) */
int ct_est_track_full(struct ct_table *t, const struct ct_pkt *p, uint32_t n, uint32_t h,
	uint32_t now, struct ct_res *r);

/* See ct.h. A datagram of an answered UDP flow, nobody following events:
 * what track() does for it, without a result (the caller reads r only
 * when the answer is not CT_EST_OK); the rest in ct_proto.c. */
static inline int ct_est_track(struct ct_table *t, const struct ct_pkt *p, uint32_t n, uint32_t h,
			       uint32_t now, struct ct_res *r)
{
	unsigned dir = n & 1;
	struct ct_entry *e = &t->e[n >> 1];
	if (p->t.proto == 17 && (dir || (e->status & CT_S_SEEN_REPLY)) && /* ct_est_find: UDP, TCP */
	    __builtin_expect(__atomic_load_n(&t->evq, __ATOMIC_RELAXED) == NULL, 1)) {
		t->st.found++;
		ct_udp_packet(t, e, now);
		ct_acct(e, dir, p->len);
		if (dir)
			e->status |= CT_S_SEEN_REPLY;
		return CT_EST_OK;
	}
	return ct_est_track_full(t, p, n, h, now, r);
}

#endif
