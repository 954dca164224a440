/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_lane: the tracker's part of the established lane (router_fast.c),
 * inline there: finding a packet's entry and judging it (ct_est_find), a
 * UDP datagram's tracking and a plain in-window TCP segment's (ct_est_track,
 * ct_est_tcp). A call into ct_proto.c for each cost the lane about 60
 * instructions a packet of saved registers and arguments (a TCP segment's
 * ~200 more in generic steps); ct_proto.c's ct_in and tcp_in_window use
 * the same pieces, so the lane and the full path cannot drift apart.
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
static inline void ct_udp_packet(const uint32_t *tos, struct ct_entry *e, uint32_t now)
{
	uint32_t to = tos[CT_TO_UDP];
	if (e->status & CT_S_ASSURED) {
		to = tos[CT_TO_UDP_STREAM];
	} else if ((e->status & CT_S_SEEN_REPLY) && (int32_t)(now - e->mts) > 0) {
		to = tos[CT_TO_UDP_STREAM];
		e->status |= CT_S_ASSURED;
	}
	ct_refresh(e, now, to);
}

/* ---- TCP: what the full path (ct_proto.c) and the lane share ---- */

/* header fields (network order) */
static inline uint32_t ct_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t ct_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* sequence space */
static inline bool ct_seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool ct_seq_after(uint32_t a, uint32_t b)
{
	return ct_seq_before(b, a);
}

/* The next option of a TCP option list, NOPs skipped: its kind in *op, its
 * size in *sz, its data returned; NULL at the end, or at a malformed option
 * (where the kernel stops too). */
static inline const uint8_t *ct_tcp_opt_next(const uint8_t **o, int *len, uint8_t *op, int *sz)
{
	while (*len > 0) {
		uint8_t kind = (*o)[0];
		if (kind == 0)
			return NULL;
		if (kind == 1) {
			(*o)++;
			(*len)--;
			continue;
		}
		if (*len < 2)
			return NULL;
		int size = (*o)[1];
		if (size < 2 || size > *len)
			return NULL;
		const uint8_t *data = *o + 2;
		*o += size;
		*len -= size;
		*op = kind;
		*sz = size;
		return data;
	}
	return NULL;
}

/* The highest right edge of the SACK blocks in a segment's options (opt,
 * optlen bytes), if after *sack (the kernel's tcp_sack: the first SACK
 * option only; timestamps alone, as stacks send them, at a glance) */
static inline void ct_tcp_sack(const uint8_t *opt, unsigned optlen, uint32_t *sack)
{
	const uint8_t *o = opt, *d;
	int len = (int)optlen, sz;
	uint8_t op;
	if (len == 12 && o[0] == 1 && o[1] == 1 && o[2] == 8 && o[3] == 10)
		return;
	while ((d = ct_tcp_opt_next(&o, &len, &op, &sz)) != NULL) {
		if (op == 5 && sz >= 10 && (sz - 2) % 8 == 0) {
			for (int i = 0; i < sz - 2; i += 8) {
				uint32_t edge = ct_rd32(d + i + 4);
				if (ct_seq_after(edge, *sack))
					*sack = edge;
			}
			return;
		}
	}
}

/* A segment's kind (tcp_index): the rows of the state table */
enum { I_SYN, I_SYNACK, I_FIN, I_ACK, I_RST, I_NONE };

/* struct ct_tcp's last: last_dir:1 | last_index:3 | retrans:4 */
static inline unsigned ct_tcp_last_dir(const struct ct_tcp *s)
{
	return s->last & 1;
}
static inline unsigned ct_tcp_last_index(const struct ct_tcp *s)
{
	return (s->last >> 1) & 7;
}
static inline unsigned ct_tcp_retrans(const struct ct_tcp *s)
{
	return s->last >> 4;
}
static inline void ct_tcp_set_last(struct ct_tcp *s, unsigned dir, unsigned index)
{
	s->last = (uint8_t)((s->last & 0xf0) | (index << 1) | dir);
}
static inline void ct_tcp_set_retrans(struct ct_tcp *s, unsigned r)
{
	s->last = (uint8_t)((s->last & 0x0f) | ((r > 15 ? 15 : r) << 4));
}

static inline uint32_t ct_tcp_maxackwindow(const struct ct_tcp *st, unsigned dir)
{
	return st->maxwin[dir] > 66000 ? st->maxwin[dir] : 66000;
}

/* tcp_in_window's four tests of a segment of direction dir (seq, end;
 * sack: its acknowledgement, SACK blocks taken), in the kernel's order:
 * CT_TW_OK, or the first that failed */
enum { CT_TW_OK, CT_TW_SEQ_OVER, CT_TW_ACK_UNSEEN, CT_TW_OLD_DATA, CT_TW_ACK_BELOW };
static inline int ct_tcp_window_test(const struct ct_tcp *st, unsigned dir, uint32_t seq,
				     uint32_t end, uint32_t sack)
{
	unsigned r = !dir;
	if (!ct_seq_before(seq, st->maxend[dir] + 1))
		return CT_TW_SEQ_OVER; /* over the upper bound */
	if (!ct_seq_before(sack, st->end[r] + 1))
		return CT_TW_ACK_UNSEEN; /* acknowledges data not seen yet */
	if (st->maxwin[r] && !ct_seq_after(end, st->end[dir] - st->maxwin[r] - 1))
		return CT_TW_OLD_DATA; /* old data retransmitted */
	if (!ct_seq_after(sack, st->end[r] - ct_tcp_maxackwindow(st, dir) - 1))
		return CT_TW_ACK_BELOW; /* acknowledges far below the window */
	return CT_TW_OK;
}

/* tcp_in_window's bookkeeping of a segment that passed: flags, its window
 * as in the header (hwin), ack and sack as the tests took them; is_ack:
 * its kind is I_ACK */
static inline void ct_tcp_window_take(struct ct_tcp *st, unsigned dir, uint8_t flags, bool is_ack,
				      uint32_t ack, uint32_t sack, uint32_t end, uint16_t hwin)
{
	unsigned r = !dir;
	uint32_t win = hwin;
	if (!(flags & TH_SYN))
		win <<= st->scale[dir];
	uint32_t swin = win + (sack - ack);
	if (st->maxwin[dir] < swin)
		st->maxwin[dir] = swin;
	if (ct_seq_after(end, st->end[dir])) {
		st->end[dir] = end;
		st->flags[dir] |= CT_TF_DATA_UNACK;
	}
	if (flags & TH_ACK) {
		if (!(st->flags[dir] & CT_TF_MAXACK_SET)) {
			st->maxack[dir] = ack;
			st->flags[dir] |= CT_TF_MAXACK_SET;
		} else if (ct_seq_after(ack, st->maxack[dir])) {
			st->maxack[dir] = ack;
		}
	}
	if (st->maxwin[r] != 0 && ct_seq_after(end, st->maxend[dir]))
		st->maxwin[r] += end - st->maxend[dir];
	if (ct_seq_after(sack + win, st->maxend[r] - 1)) {
		st->maxend[r] = sack + win;
		if (win == 0)
			st->maxend[r]++;
	}
	if (ack == st->end[r])
		st->flags[r] &= (uint8_t)~CT_TF_DATA_UNACK;

	if (is_ack) {
		if (ct_tcp_last_dir(st) == dir && st->last_ack == ack && st->last_end == end &&
		    st->last_win == hwin) {
			ct_tcp_set_retrans(st, ct_tcp_retrans(st) + 1);
		} else {
			ct_tcp_set_last(st, dir, ct_tcp_last_index(st));
			st->last_ack = ack;
			st->last_end = end;
			st->last_win = hwin;
			ct_tcp_set_retrans(st, 0);
		}
	}
}

/* The timeout of a connection whose segment (an RST if rst) left it in
 * state ns (tcp_packet's choice, as the kernel's) */
static inline uint32_t ct_tcp_timeout(const struct ct_params *par, const uint32_t *to,
				      const struct ct_tcp *st, unsigned ns, bool rst)
{
	uint32_t ts = to[CT_TO_TCP_SYN_SENT + ns - 1];
	if (ct_tcp_retrans(st) >= par->tcp_max_retrans && ts > to[CT_TO_TCP_RETRANS])
		return to[CT_TO_TCP_RETRANS];
	if (rst)
		return to[CT_TO_TCP_CLOSE];
	if (((st->flags[0] | st->flags[1]) & CT_TF_DATA_UNACK) && ts > to[CT_TO_TCP_UNACK])
		return to[CT_TO_TCP_UNACK];
	if (st->last_win == 0 && ts > to[CT_TO_TCP_RETRANS])
		return to[CT_TO_TCP_RETRANS];
	return ts;
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

/* ct_est_track for what it does not take inline (ct_proto.c) */
int ct_est_track_full(struct ct_table *t, const struct ct_pkt *p, uint32_t n, uint32_t h,
	uint32_t now, struct ct_res *r);

/* A plain segment of an ESTABLISHED, ASSURED connection without a helper
 * (ct_est_find: no SYN, FIN or RST), nobody following events: an ACK
 * (I_ACK) inside the window, its acknowledgement read with its SACK blocks
 * (when the other side allowed them) as tcp_in_window reads it. What tcp_packet and
 * tcp_in_window do with it, step for step: the window's tests and
 * bookkeeping, the state (ESTABLISHED stays), the timeout, accounting.
 * false, having changed nothing: anything else (ct_proto.c decides). */
static inline bool ct_est_tcp(struct ct_table *t, struct ct_entry *e, unsigned dir,
			      const struct ct_pkt *p, uint32_t now)
{
	const uint8_t *th = p->l4;
	uint8_t fl = th[13];
	unsigned doff = (unsigned)(th[12] >> 4) * 4;
	struct ct_tcp *st = &ct_ps(t, e)->tcp;
	if ((fl & (TH_ACK | TH_SYN | TH_FIN | TH_RST)) != TH_ACK ||
	    (e->status & (CT_S_SEEN_REPLY | CT_S_ASSURED)) != (CT_S_SEEN_REPLY | CT_S_ASSURED) ||
	    ct_helper(e) != 0 /* CT_HELPER_NONE */ || st->maxwin[dir] == 0)
		return false;
	uint32_t seq = ct_rd32(th + 4), ack = ct_rd32(th + 8), sack = ack;
	if ((st->flags[!dir] & CT_TF_SACK_PERM) && doff > 20)
		ct_tcp_sack(th + 20, doff - 20, &sack); /* doff: within the segment */
	uint32_t end = seq + (p->l4_len - doff);
	if (ct_tcp_window_test(st, dir, seq, end, sack) != CT_TW_OK)
		return false;
	ct_tcp_window_take(st, dir, fl, true, ack, sack, end, ct_rd16(th + 14));
	ct_tcp_set_last(st, dir, I_ACK);
	t->st.found++;
	ct_refresh(e, now, ct_tcp_timeout(t->par, t->par->to, st, CT_TCP_ESTABLISHED, false));
	ct_acct(e, dir, p->len);
	return true;
}

/* See ct.h. A datagram of an answered UDP flow, or a plain segment of an
 * established TCP connection (ct_est_tcp), nobody following events: what
 * track() does for it, without a result (the caller reads r only when the
 * answer is not CT_EST_OK); the rest in ct_proto.c. */
static inline int ct_est_track(struct ct_table *t, const struct ct_pkt *p, uint32_t n, uint32_t h,
			       uint32_t now, struct ct_res *r)
{
	unsigned dir = n & 1;
	struct ct_entry *e = &t->e[n >> 1];
	if (p->t.proto == 6 && __atomic_load_n(&t->evq, __ATOMIC_RELAXED) == NULL &&
	    ct_est_tcp(t, e, dir, p, now))
		return CT_EST_OK;
	if (p->t.proto == 17 && (dir || (e->status & CT_S_SEEN_REPLY)) && /* ct_est_find: UDP, TCP */
	    __builtin_expect(__atomic_load_n(&t->evq, __ATOMIC_RELAXED) == NULL, 1)) {
		t->st.found++;
		ct_udp_packet(t->par->to, e, now);
		ct_acct(e, dir, p->len);
		if (dir)
			e->status |= CT_S_SEEN_REPLY;
		return CT_EST_OK;
	}
	return ct_est_track_full(t, p, n, h, now, r);
}

#endif
