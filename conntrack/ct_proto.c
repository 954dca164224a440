/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_proto.c: the protocol trackers and ct_in(), with the semantics of
 * Linux's nf_conntrack_core.c and nf_conntrack_proto_{tcp,udp,icmp,icmpv6,
 * generic}.c: which packets may start a connection, the TCP state machine
 * with window tracking ("Real Stateful TCP Packet Filtering in IP Filter",
 * van Rooij, with the kernel's RFC 793 bounds), RELATED ICMP errors and the
 * timeouts of each state.
 *
 * One deliberate difference: the kernel remembers the last segment's
 * (seq, ack, end, win) to count retransmissions; the entry keeps (ack, end,
 * win) only, so a retransmission is a segment repeating those three.
 */
#include <string.h>

#include "ct.h"
#include "ct_help.h"
#include "ct_lane.h"
#include "ct_priv.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum { V_ACCEPT, V_INVALID, V_IGNORE, V_REPEAT };


/* ---- tuples ---- */

/* ICMP query types and their answers; 0: not a query/answer pair */
static uint8_t icmp_inverse(uint8_t fam, uint8_t type)
{
	if (fam == 4) {
		switch (type) {
		case 8: return 0 + 1; /* echo -> echo reply (stored + 1: 0 is "none") */
		case 0: return 8 + 1;
		case 13: return 14 + 1;
		case 14: return 13 + 1;
		case 15: return 16 + 1;
		case 16: return 15 + 1;
		case 17: return 18 + 1;
		case 18: return 17 + 1;
		default: return 0;
		}
	}
	switch (type) {
	case 128: return 129 + 1;
	case 129: return 128 + 1;
	case 139: return 140 + 1;
	case 140: return 139 + 1;
	default: return 0;
	}
}

static inline bool icmp_proto(uint8_t p)
{
	return p == 1 || p == 58;
}

/* The tuple a reply to k has; false if k has no reply (an ICMP type that is
 * not a query or its answer). */
static bool tuple_invert(const struct ct_tuple *k, struct ct_tuple *r)
{
	memcpy(r->src, k->dst, 16);
	memcpy(r->dst, k->src, 16);
	r->proto = k->proto;
	r->fam = k->fam;
	r->zo = k->zo; /* the reply of k's connection: hashed in its reply zone */
	r->zr = k->zr;
	r->zone = k->zr;
	if (icmp_proto(k->proto)) {
		uint8_t inv = icmp_inverse(k->fam, (uint8_t)(k->dport >> 8));
		if (inv == 0)
			return false;
		r->sport = k->sport;
		r->dport = (uint16_t)((inv - 1) << 8 | (k->dport & 0xff));
	} else if (ct_port_proto(k->proto) || k->proto == 47) { /* GRE: its keys */
		r->sport = k->dport;
		r->dport = k->sport;
	} else {
		r->sport = r->dport = 0;
	}
	return true;
}

bool ct_gre_keys(const uint8_t *l4, uint32_t cap, uint16_t *src, uint16_t *dst)
{
	*src = *dst = 0;
	if (cap < 4 || (l4[1] & 7) != 1 || cap < 8)
		return true; /* not PPTP's: as the generic tracker, no keys */
	if (ct_rd16(l4 + 2) != 0x880b)
		return false; /* version 1 carries PPP only */
	*dst = ct_rd16(l4 + 6); /* the call id; the source key comes from the
				PPTP helper's keymap, which there is none of */
	return true;
}

uint32_t ct_hash_reply(const struct ct_tuple *k)
{
	struct ct_tuple r;
	return tuple_invert(k, &r) ? ct_hash(&r) : 0;
}

int ct_tuple_from_ip(const uint8_t *ip, uint32_t cap, uint8_t fam, struct ct_tuple *k)
{
	memset(k, 0, sizeof(*k));
	k->fam = fam;
	uint32_t off;
	uint8_t proto;
	if (fam == 4) {
		if (cap < 20 || (ip[0] >> 4) != 4)
			return -1;
		off = (uint32_t)(ip[0] & 15) * 4;
		if (off < 20 || off > cap)
			return -1;
		if (ct_rd16(ip + 6) & 0x1fff)
			return -1; /* a later fragment: no ports */
		proto = ip[9];
		memcpy(k->src, ip + 12, 4);
		memcpy(k->dst, ip + 16, 4);
	} else {
		if (cap < 40 || (ip[0] >> 4) != 6)
			return -1;
		memcpy(k->src, ip + 8, 16);
		memcpy(k->dst, ip + 24, 16);
		proto = ip[6];
		off = 40;
		for (int n = 0; n < 8; n++) {
			if (proto == 0 || proto == 43 || proto == 60) {
				if (off + 8 > cap)
					return -1;
				proto = ip[off];
				off += (uint32_t)(ip[off + 1] + 1) * 8;
			} else if (proto == 44) {
				if (off + 8 > cap)
					return -1;
				if (ct_rd16(ip + off + 2) & 0xfff8)
					return -1;
				proto = ip[off];
				off += 8;
			} else {
				break;
			}
		}
		if (off > cap)
			return -1;
	}
	k->proto = proto;
	const uint8_t *l4 = ip + off;
	uint32_t left = cap - off;
	if (icmp_proto(proto)) {
		if (left < 8)
			return -1;
		k->sport = ct_rd16(l4 + 4);
		k->dport = (uint16_t)(l4[0] << 8 | l4[1]);
	} else if (ct_port_proto(proto)) {
		if (left < 4)
			return -1;
		k->sport = ct_rd16(l4);
		k->dport = ct_rd16(l4 + 2);
	} else if (proto == 47) {
		return ct_gre_keys(l4, left, &k->sport, &k->dport) ? 0 : -1;
	}
	return 0;
}

static void entry_set_tuples(struct ct_table *t, struct ct_entry *e, const struct ct_tuple *o,
	const struct ct_tuple *r)
{
	e->proto = o->proto;
	if (o->fam == 4) {
		memcpy(&e->a.a4[0], o->src, 4);
		memcpy(&e->a.a4[1], o->dst, 4);
		memcpy(&e->a.a4[2], r->src, 4);
		memcpy(&e->a.a4[3], r->dst, 4);
	} else {
		struct ct_addr6 *x = &t->x6[e->a.x6];
		memcpy(x->a[0], o->src, 16);
		memcpy(x->a[1], o->dst, 16);
		memcpy(x->a[2], r->src, 16);
		memcpy(x->a[3], r->dst, 16);
	}
	e->port[0] = o->sport;
	e->port[1] = o->dport;
	e->port[2] = r->sport;
	e->port[3] = r->dport;
}

/* ---- TCP ---- */

#define sNO CT_TCP_NONE
#define sSS CT_TCP_SYN_SENT
#define sSR CT_TCP_SYN_RECV
#define sES CT_TCP_ESTABLISHED
#define sFW CT_TCP_FIN_WAIT
#define sCW CT_TCP_CLOSE_WAIT
#define sLA CT_TCP_LAST_ACK
#define sTW CT_TCP_TIME_WAIT
#define sCL CT_TCP_CLOSE
#define sS2 CT_TCP_SYN_SENT2
#define sIV CT_TCP_INVALID
#define sIG CT_TCP_IGNORE

/* next state by [direction][segment kind][state], as Linux's table */
static const uint8_t tcp_next[2][6][CT_TCP_MAX] = {
	{ /* original */
	/*           sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
	/*syn*/    { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },
	/*synack*/ { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },
	/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
	/*ack*/    { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },
	/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
	/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	},
	{ /* reply */
	/*           sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
	/*syn*/    { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },
	/*synack*/ { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },
	/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
	/*ack*/    { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },
	/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
	/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	},
};

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

/* last_flags (4 bits) */
#define LF_WS 1
#define LF_SACK 2
#define LF_CHALLENGE 4
#define LF_SIMOPEN 8

static inline unsigned last_wscale(const struct ct_tcp *s) { return s->last_x & 15; }
static inline unsigned last_flags(const struct ct_tcp *s) { return s->last_x >> 4; }
static inline void set_last_x(struct ct_tcp *s, unsigned ws, unsigned fl)
{
	s->last_x = (uint8_t)((ws & 15) | (fl << 4));
}

static unsigned tcp_index(uint8_t f)
{
	if (f & TH_RST)
		return I_RST;
	if (f & TH_SYN)
		return (f & TH_ACK) ? I_SYNACK : I_SYN;
	if (f & TH_FIN)
		return I_FIN;
	if (f & TH_ACK)
		return I_ACK;
	return I_NONE;
}

struct seg {
	uint32_t seq, ack, end;
	uint16_t win;
	uint8_t flags;
	const uint8_t *opt;
	unsigned optlen;
};

static void seg_read(const struct ct_pkt *p, struct seg *s)
{
	const uint8_t *th = p->l4;
	unsigned doff = (unsigned)(th[12] >> 4) * 4;
	s->seq = ct_rd32(th + 4);
	s->ack = ct_rd32(th + 8);
	s->win = ct_rd16(th + 14);
	s->flags = th[13];
	s->opt = th + 20;
	s->optlen = doff > 20 ? doff - 20 : 0;
	s->end = s->seq + (p->l4_len - doff) + ((s->flags & TH_SYN) ? 1 : 0) +
		((s->flags & TH_FIN) ? 1 : 0);
}

/* window scale and SACK-permitted of a SYN's options */
static void tcp_options(const struct seg *s, uint8_t *scale, uint8_t *flags)
{
	const uint8_t *o = s->opt, *d;
	int len = (int)s->optlen, sz;
	uint8_t op;
	if (len == 0)
		return;
	*scale = 0;
	*flags &= CT_TF_BE_LIBERAL;
	while ((d = ct_tcp_opt_next(&o, &len, &op, &sz)) != NULL) {
		if (op == 4 && sz == 2) {
			*flags |= CT_TF_SACK_PERM;
		} else if (op == 3 && sz == 3) {
			*scale = *d > 14 ? 14 : *d;
			*flags |= CT_TF_WINDOW_SCALE;
		}
	}
}

static void tcp_init_sender(struct ct_tcp *st, unsigned dir, const struct seg *s)
{
	unsigned r = !dir;
	st->end[dir] = st->maxend[dir] = s->end;
	st->maxwin[dir] = s->win == 0 ? 1 : s->win;
	tcp_options(s, &st->scale[dir], &st->flags[dir]);
	/* RFC 1323: scaling only when both sides offered it */
	if (dir == 1 && !((st->flags[dir] & CT_TF_WINDOW_SCALE) &&
			  (st->flags[r] & CT_TF_WINDOW_SCALE))) {
		st->scale[dir] = 0;
		st->scale[r] = 0;
	}
}

static int tcp_in_window(const struct ct_table *t, struct ct_entry *e, unsigned dir,
	unsigned index, const struct seg *s)
{
	struct ct_tcp *st = &ct_ps(t, e)->tcp;
	unsigned r = !dir;
	bool liberal = (st->flags[dir] & CT_TF_BE_LIBERAL) || t->par->tcp_be_liberal;
	uint32_t seq = s->seq, ack = s->ack, sack = s->ack, end = s->end, win = s->win;

	if (st->flags[r] & CT_TF_SACK_PERM)
		ct_tcp_sack(s->opt, s->optlen, &sack);
	/* NAT changed the lengths of the other direction's segments
	 * (nf_nat_ftp, nf_nat_irc): its acknowledgements go back to the
	 * numbers this tracker saw, as the kernel's receiver_offset */
	if (unlikely(ct_helper_seqadj(ct_helper(e)))) {
		int32_t ro = ct_seq_offset(t, (uint32_t)(e - t->e), r, ack - 1);
		ack -= (uint32_t)ro;
		sack -= (uint32_t)ro;
	}

	if (st->maxwin[dir] == 0) {
		if (s->flags & TH_SYN) {
			tcp_init_sender(st, dir, s);
			if (!(s->flags & TH_ACK))
				return V_ACCEPT; /* simultaneous open */
		} else {
			/* mid-connection: take what this segment says */
			st->end[dir] = end;
			uint32_t swin = win << st->scale[dir];
			st->maxwin[dir] = swin == 0 ? 1 : swin;
			st->maxend[dir] = end + st->maxwin[dir];
			if (st->maxwin[r] == 0)
				st->end[r] = st->maxend[r] = sack;
			else if (sack == st->end[r] + 1)
				st->end[r]++; /* a keepalive's answer */
		}
	} else if ((s->flags & TH_SYN) && ct_seq_after(end, st->end[dir]) &&
		   (ct_tcp_state(e) == CT_TCP_SYN_SENT || ct_tcp_state(e) == CT_TCP_SYN_RECV)) {
		/* a reinitialised SYN (RFC 793): start this direction again */
		tcp_init_sender(st, dir, s);
		if (dir == 1 && !(s->flags & TH_ACK))
			return V_ACCEPT;
	}

	if (!(s->flags & TH_ACK))
		ack = sack = st->end[r];
	else if ((s->flags & (TH_ACK | TH_RST)) == (TH_ACK | TH_RST) && ack == 0)
		ack = sack = st->end[r]; /* broken stacks: RST|ACK with ack 0 */

	if ((s->flags & TH_RST) && seq == 0 && ct_tcp_state(e) == CT_TCP_SYN_SENT)
		seq = end = st->end[dir]; /* RST answering a SYN */

	switch (ct_tcp_window_test(st, dir, seq, end, sack)) {
	case CT_TW_OK:
		break;
	case CT_TW_SEQ_OVER: {
		uint32_t overshot = end - st->maxend[dir] + 1;
		bool ack_ok = ct_seq_after(sack, st->end[r] - ct_tcp_maxackwindow(st, dir) - 1);
		bool in_recv = st->maxwin[r] && ct_seq_after(end, st->end[dir] - st->maxwin[r] - 1);
		if (in_recv && ack_ok && overshot <= st->maxwin[r] && ct_seq_before(sack, st->end[r] + 1)) {
			/* more than the window allowed, but acceptable: remember it */
			st->end[dir] = end;
			st->flags[dir] |= CT_TF_DATA_UNACK;
			return liberal ? V_ACCEPT : V_IGNORE;
		}
		return liberal ? V_ACCEPT : V_INVALID; /* SEQ over the upper bound */
	}
	case CT_TW_ACK_UNSEEN:
		return liberal ? V_ACCEPT : V_INVALID; /* ACK of data not seen yet */
	case CT_TW_OLD_DATA:
		return liberal ? V_ACCEPT : V_IGNORE; /* old data retransmitted */
	default: /* CT_TW_ACK_BELOW */
		return liberal ? V_ACCEPT : V_IGNORE; /* ACK far below the window */
	}
	ct_tcp_window_take(st, dir, s->flags, index == I_ACK, ack, sack, end, s->win);
	return V_ACCEPT;
}

/* an invalid FIN/RST of an assured connection shortens its timeout */
static void tcp_handle_invalid(const struct ct_table *t, struct ct_entry *e, unsigned dir,
	unsigned index, uint32_t now)
{
	struct ct_tcp *st = &ct_ps(t, e)->tcp;
	if (!(e->status & CT_S_ASSURED) || (index != I_RST && index != I_FIN))
		return;
	if (ct_tcp_last_dir(st) != dir && (ct_tcp_last_index(st) == I_FIN || ct_tcp_last_index(st) == I_RST)) {
		int32_t left = (int32_t)(e->expire - now);
		if (left < (int32_t)ct_ticks(120))
			return;
		uint32_t to = ct_ticks(ct_to(t, (uint32_t)(e - t->e))[CT_TO_TCP_UNACK]);
		if ((uint32_t)left > to)
			e->expire = now + to;
	} else {
		ct_tcp_set_last(st, dir, index);
	}
}

static bool tcp_new(const struct ct_table *t, struct ct_entry *e, const struct seg *s)
{
	unsigned index = tcp_index(s->flags);
	uint8_t ns = tcp_next[0][index][CT_TCP_NONE];
	struct ct_tcp *st = &ct_ps(t, e)->tcp;
	if (ns >= CT_TCP_MAX)
		return false;
	memset(st, 0, sizeof(*st));
	st->end[0] = s->end;
	st->maxwin[0] = s->win == 0 ? 1 : s->win;
	if (ns == CT_TCP_SYN_SENT) {
		st->maxend[0] = st->end[0];
		tcp_options(s, &st->scale[0], &st->flags[0]);
	} else {
		if (!t->par->tcp_loose)
			return false;
		st->maxend[0] = st->end[0] + st->maxwin[0];
		/* picked up: assume SACK and be liberal (window scale unknown) */
		st->flags[0] = st->flags[1] = CT_TF_SACK_PERM | CT_TF_BE_LIBERAL;
	}
	ct_tcp_set_last(st, 0, I_NONE);
	return true;
}

static inline bool tcp_established(const struct ct_entry *e)
{
	return ct_tcp_state(e) == CT_TCP_ESTABLISHED;
}

/* Not inlined into track(): GCC otherwise may, and then no longer inlines
 * track() into its callers, whose UDP packets (the established lane's)
 * then pay a call to a frame sized for TCP (ct-established-64k about 10 %
 * slower when the event hook tipped GCC's balance that way). */
static __attribute__((noinline)) int tcp_packet(struct ct_table *t, struct ct_entry *e,
	uint32_t idx, unsigned dir, const struct seg *s, uint32_t now, uint32_t len)
{
	struct ct_tcp *st = &ct_ps(t, e)->tcp;
	const struct ct_params *par = t->par;
	unsigned index = tcp_index(s->flags);
	unsigned old = ct_tcp_state(e);
	unsigned ns = tcp_next[dir][index][old];

	switch (ns) {
	case CT_TCP_SYN_SENT:
		if (old < CT_TCP_TIME_WAIT)
			break;
		/* reopening a closed or aborted connection: start again */
		if (((st->flags[dir] | st->flags[!dir]) & CT_TF_CLOSE_INIT) ||
		    (ct_tcp_last_dir(st) == dir && ct_tcp_last_index(st) == I_RST)) {
			ct_kill(t, idx);
			return V_REPEAT;
		}
		/* fall through */
	case CT_TCP_IGNORE:
		if (index == I_SYNACK && ct_tcp_last_index(st) == I_SYN && ct_tcp_last_dir(st) != dir &&
		    s->ack == st->last_end) {
			/* this SYN/ACK answers a SYN we ignored: both ends are in
			 * sync, we are not; take the SYN's annotated values */
			unsigned ld = ct_tcp_last_dir(st);
			old = CT_TCP_SYN_SENT;
			ns = CT_TCP_SYN_RECV;
			st->end[ld] = st->maxend[ld] = st->last_end;
			st->maxwin[ld] = st->last_win == 0 ? 1 : st->last_win;
			st->scale[ld] = (uint8_t)last_wscale(st);
			unsigned lf = last_flags(st) & ~LF_CHALLENGE;
			set_last_x(st, last_wscale(st), lf);
			st->flags[ld] = (uint8_t)(((lf & LF_WS) ? CT_TF_WINDOW_SCALE : 0) |
						  ((lf & LF_SACK) ? CT_TF_SACK_PERM : 0));
			st->end[dir] = st->maxend[dir] = st->maxwin[dir] = st->maxack[dir] = 0;
			st->scale[dir] = 0;
			st->flags[dir] &= CT_TF_BE_LIBERAL;
			break;
		}
		ct_tcp_set_last(st, dir, index);
		st->last_end = s->end;
		st->last_win = s->win;
		if (index == I_SYN && dir == 0) {
			uint8_t scale = 0, fl = 0;
			tcp_options(s, &scale, &fl);
			unsigned lf = 0;
			if (fl & CT_TF_WINDOW_SCALE)
				lf |= LF_WS;
			else
				scale = 0;
			if (fl & CT_TF_SACK_PERM)
				lf |= LF_SACK;
			if (old == CT_TCP_LAST_ACK)
				lf |= LF_CHALLENGE;
			set_last_x(st, scale, lf);
		}
		if (old == CT_TCP_SYN_SENT && index == I_ACK && dir == 1)
			st->last_ack = s->ack; /* a possible challenge ACK */
		return V_IGNORE;
	case CT_TCP_INVALID:
		return V_INVALID;
	case CT_TCP_TIME_WAIT:
		if (old == CT_TCP_LAST_ACK && index == I_ACK && ct_tcp_last_dir(st) != dir &&
		    ct_tcp_last_index(st) == I_SYN && (last_flags(st) & LF_CHALLENGE)) {
			/* an RFC 5961 challenge ACK, not the last ACK */
			set_last_x(st, last_wscale(st), last_flags(st) & ~LF_CHALLENGE);
			return V_IGNORE;
		}
		break;
	case CT_TCP_SYN_SENT2:
		set_last_x(st, last_wscale(st), last_flags(st) | LF_SIMOPEN);
		break;
	case CT_TCP_SYN_RECV:
		if (dir == 1 && index == I_ACK && (last_flags(st) & LF_SIMOPEN))
			ns = CT_TCP_ESTABLISHED;
		break;
	case CT_TCP_CLOSE:
		if (index != I_RST)
			break;
		if (old >= CT_TCP_FIN_WAIT && old <= CT_TCP_CLOSE)
			goto in_window; /* closing: the tuple may be reused already */
		if ((st->flags[!dir] & CT_TF_MAXACK_SET) && ct_tcp_last_index(st) != I_SYN) {
			if (s->seq == 0 && !tcp_established(e))
				break;
			if (ct_seq_before(s->seq, st->maxack[!dir]) && !par->tcp_ignore_invalid_rst)
				return V_INVALID; /* RST below what was acknowledged */
			if (!tcp_established(e) || s->seq == st->maxack[!dir])
				break;
			if (ct_tcp_last_index(st) == I_ACK && ct_tcp_last_dir(st) == dir && s->seq == st->last_end)
				break; /* an RST at the end of a train of data */
			ns = old; /* inexact: keep the state for a challenge ACK */
		}
		/* RST to a SYN or ACK we let through. A SYN's answer comes
		 * from the other side: the kernel (6.18 here) takes an RST
		 * from the SYN's own side through the window check, as
		 * test_ct_random.sh found (a simultaneous open, then an RST
		 * from the second SYN's sender) */
		if ((((e->status & CT_S_SEEN_REPLY) && ct_tcp_last_index(st) == I_SYN &&
		      ct_tcp_last_dir(st) != dir) ||
		     (!(e->status & CT_S_ASSURED) && ct_tcp_last_index(st) == I_ACK)) &&
		    s->ack == st->last_end)
			goto in_window;
		if (old == CT_TCP_SYN_SENT && ct_tcp_last_index(st) == I_ACK && ct_tcp_last_dir(st) == 1 &&
		    s->seq == st->last_ack)
			goto in_window; /* RST after a challenge ACK */
		break;
	default:
		break;
	}

	switch (tcp_in_window(t, e, dir, index, s)) {
	case V_IGNORE:
		return V_IGNORE;
	case V_INVALID:
		tcp_handle_invalid(t, e, dir, index, now);
		return V_INVALID;
	default:
		break;
	}
in_window:
	ct_tcp_set_last(st, dir, index);
	e->ps = (uint8_t)((e->ps & 0xf0) | ns);
	if (old != ns && ns == CT_TCP_FIN_WAIT)
		st->flags[dir] |= CT_TF_CLOSE_INIT;

	const uint32_t *to = ct_to(t, idx);
	uint32_t timeout = ct_tcp_timeout(par, to, st, ns, index == I_RST);

	if (!(e->status & CT_S_SEEN_REPLY)) {
		if (s->flags & TH_RST) {
			/* the only answer is a reset: no connection */
			ct_acct(e, dir, len);
			ct_kill(t, idx);
			return V_ACCEPT;
		}
		if (index == I_SYN && old == CT_TCP_SYN_SENT) {
			ct_acct(e, dir, len); /* a retransmitted SYN does not extend */
			return V_ACCEPT;
		}
		if (ns == CT_TCP_ESTABLISHED && timeout > to[CT_TO_TCP_UNACK])
			timeout = to[CT_TO_TCP_UNACK];
	} else if (!(e->status & CT_S_ASSURED) &&
		   (old == CT_TCP_SYN_RECV || old == CT_TCP_ESTABLISHED) &&
		   ns == CT_TCP_ESTABLISHED) {
		e->status |= CT_S_ASSURED;
	}
	ct_refresh(e, now, timeout);
	ct_acct(e, dir, len);
	return V_ACCEPT;
}

/* ---- SCTP ---- */

/* chunk types (RFC 9260) */
enum {
	SC_DATA, SC_INIT, SC_INIT_ACK, SC_SACK, SC_HEARTBEAT, SC_HEARTBEAT_ACK, SC_ABORT,
	SC_SHUTDOWN, SC_SHUTDOWN_ACK, SC_ERROR, SC_COOKIE_ECHO, SC_COOKIE_ACK, SC_ECNE, SC_CWR,
	SC_SHUTDOWN_COMPLETE,
};
#define SC_FLAG_T 0x01 /* ABORT, SHUTDOWN_COMPLETE: the tag is the peer's */
#define SC_BIT(c) (1u << (c))

#define aNO CT_SCTP_NONE
#define aCL CT_SCTP_CLOSED
#define aCW CT_SCTP_COOKIE_WAIT
#define aCE CT_SCTP_COOKIE_ECHOED
#define aES CT_SCTP_ESTABLISHED
#define aSS CT_SCTP_SHUTDOWN_SENT
#define aSR CT_SCTP_SHUTDOWN_RECD
#define aSA CT_SCTP_SHUTDOWN_ACK_SENT
#define aHS CT_SCTP_HEARTBEAT_SENT
#define aIV CT_SCTP_MAX

/* next state by [direction][chunk][state], as Linux's table (the rows:
 * INIT, INIT_ACK, ABORT, SHUTDOWN, SHUTDOWN_ACK, ERROR, COOKIE_ECHO,
 * COOKIE_ACK, SHUTDOWN_COMPLETE, HEARTBEAT, HEARTBEAT_ACK). An INIT that
 * starts a connection leaves it CLOSED: COOKIE_WAIT comes with the INIT_ACK. */
static const uint8_t sctp_next[2][11][CT_SCTP_MAX] = {
	{ /* original */
	/*            aNO  aCL  aCW  aCE  aES  aSS  aSR  aSA  aHS */
	/*init*/    { aCL, aCL, aCW, aCE, aES, aCL, aCL, aSA, aCW },
	/*initack*/ { aCL, aCL, aCW, aCE, aES, aSS, aSR, aSA, aCL },
	/*abort*/   { aCL, aCL, aCL, aCL, aCL, aCL, aCL, aCL, aCL },
	/*shut*/    { aCL, aCL, aCW, aCE, aSS, aSS, aSR, aSA, aCL },
	/*shutack*/ { aSA, aCL, aCW, aCE, aES, aSA, aSA, aSA, aSA },
	/*error*/   { aCL, aCL, aCW, aCE, aES, aSS, aSR, aSA, aCL },
	/*echo*/    { aCL, aCL, aCE, aCE, aES, aSS, aSR, aSA, aCL },
	/*ack*/     { aCL, aCL, aCW, aES, aES, aSS, aSR, aSA, aCL },
	/*shutcpl*/ { aCL, aCL, aCW, aCE, aES, aSS, aSR, aCL, aCL },
	/*hb*/      { aHS, aCL, aCW, aCE, aES, aSS, aSR, aSA, aHS },
	/*hback*/   { aCL, aCL, aCW, aCE, aES, aSS, aSR, aSA, aHS },
	},
	{ /* reply */
	/*            aNO  aCL  aCW  aCE  aES  aSS  aSR  aSA  aHS */
	/*init*/    { aIV, aCL, aCW, aCE, aES, aSS, aSR, aSA, aIV },
	/*initack*/ { aIV, aCW, aCW, aCE, aES, aSS, aSR, aSA, aIV },
	/*abort*/   { aIV, aCL, aCL, aCL, aCL, aCL, aCL, aCL, aIV },
	/*shut*/    { aIV, aCL, aCW, aCE, aSR, aSS, aSR, aSA, aIV },
	/*shutack*/ { aIV, aCL, aCW, aCE, aES, aSA, aSA, aSA, aIV },
	/*error*/   { aIV, aCL, aCW, aCL, aES, aSS, aSR, aSA, aIV },
	/*echo*/    { aIV, aCL, aCE, aCE, aES, aSS, aSR, aSA, aIV },
	/*ack*/     { aIV, aCL, aCW, aES, aES, aSS, aSR, aSA, aIV },
	/*shutcpl*/ { aIV, aCL, aCW, aCE, aES, aSS, aSR, aCL, aIV },
	/*hb*/      { aIV, aCL, aCW, aCE, aES, aSS, aSR, aSA, aHS },
	/*hback*/   { aIV, aCL, aCW, aCE, aES, aSS, aSR, aSA, aES },
	},
};

/* The state a chunk of this type leaves the connection in; other chunks
 * (DATA, SACK, ...) change nothing. */
static unsigned sctp_next_state(unsigned dir, unsigned cur, uint8_t type)
{
	static const int8_t row[SC_SHUTDOWN_COMPLETE + 1] = {
		[SC_DATA] = -1, [SC_INIT] = 0, [SC_INIT_ACK] = 1, [SC_SACK] = -1,
		[SC_HEARTBEAT] = 9, [SC_HEARTBEAT_ACK] = 10, [SC_ABORT] = 2, [SC_SHUTDOWN] = 3,
		[SC_SHUTDOWN_ACK] = 4, [SC_ERROR] = 5, [SC_COOKIE_ECHO] = 6, [SC_COOKIE_ACK] = 7,
		[SC_ECNE] = -1, [SC_CWR] = -1, [SC_SHUTDOWN_COMPLETE] = 8,
	};
	if (type > SC_SHUTDOWN_COMPLETE || row[type] < 0 || cur >= CT_SCTP_MAX)
		return cur;
	return sctp_next[dir][row[type]][cur];
}

/* A verification tag or an initiate tag, as it is on the wire. */
static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Where the chunks end: the datagram's end, or the buffer's if it holds
 * less. */
static inline uint32_t sctp_end(const struct ct_pkt *p)
{
	return p->l4_len < p->l4_cap ? p->l4_len : p->l4_cap;
}

/* The next chunk header at *off (advanced past the chunk), as the kernel
 * walks them: NULL when none is whole before end. */
static inline const uint8_t *sctp_chunk(const struct ct_pkt *p, uint32_t end, uint32_t *off)
{
	if (*off >= end || end - *off < 4)
		return NULL;
	const uint8_t *c = p->l4 + *off;
	*off += (ct_rd16(c + 2) + 3u) & ~3u;
	return c;
}

/* do_basic_checks: false if a COOKIE_ECHO or COOKIE_ACK is not the first
 * chunk, an INIT, INIT_ACK or SHUTDOWN_COMPLETE not the only one, a chunk
 * has length 0, or there is none; *map: the types seen (bit per type
 * below 32, those that matter). */
static bool sctp_chunks_ok(const struct ct_pkt *p, uint32_t *map)
{
	uint32_t end = sctp_end(p), off = 12, m = 0;
	unsigned count = 0;
	bool alone = false;
	for (const uint8_t *c; (c = sctp_chunk(p, end, &off)) != NULL; count++) {
		uint8_t type = c[0];
		if (type == SC_INIT || type == SC_INIT_ACK || type == SC_SHUTDOWN_COMPLETE)
			alone = true;
		if (((type == SC_COOKIE_ACK || type == SC_COOKIE_ECHO || alone) && count != 0) ||
		    ct_rd16(c + 2) == 0)
			return false;
		if (type < 32)
			m |= SC_BIT(type);
	}
	*map = m;
	return count != 0;
}

/* sctp_new: a first packet must be made of chunks that may open an
 * association (DATA or SACK may not); the tags it announces noted. */
static bool sctp_new(const struct ct_table *t, struct ct_entry *e, const struct ct_pkt *p)
{
	memset(&ct_ps(t, e)->sctp, 0, sizeof(struct ct_sctp));
	uint32_t end = sctp_end(p), off = 12, vtag = ld32(p->l4 + 4);
	for (const uint8_t *c; (c = sctp_chunk(p, end, &off)) != NULL;) {
		unsigned ns = sctp_next_state(0, CT_SCTP_NONE, c[0]);
		if (ns == CT_SCTP_NONE || ns == CT_SCTP_MAX)
			return false;
		if (c[0] == SC_INIT) {
			/* RFC 9260 8.5.1 (A): an INIT carries tag 0; its
			 * initiate tag is what the answers will carry */
			if (vtag != 0 || (size_t)(c - p->l4) + 20 > end)
				return false;
			ct_ps(t, e)->sctp.vtag[1] = ld32(c + 4);
		} else if (c[0] == SC_HEARTBEAT) {
			ct_ps(t, e)->sctp.vtag[0] = vtag; /* a secondary path's */
		} else if (c[0] == SC_SHUTDOWN_ACK) {
			ct_ps(t, e)->sctp.vtag[1] = vtag; /* out of the blue: a SHUTDOWN_COMPLETE answers */
		}
	}
	e->ps &= 0xf0; /* NONE */
	return true;
}

static inline void sctp_set_state(struct ct_entry *e, unsigned st)
{
	e->ps = (uint8_t)((e->ps & 0xf0) | st);
}

/* nf_conntrack_sctp_packet: the chunks through the state machine, the
 * verification tags checked (RFC 9260 8.5), the timeout of the state the
 * last chunk left. A retransmitted INIT of a closed association is let
 * through without refreshing it (a client reusing its port cannot keep a
 * stale entry, its NAT binding with it, alive). */
static int sctp_packet(const struct ct_table *t, struct ct_entry *e, unsigned dir,
	const struct ct_pkt *p, bool fresh, uint32_t now)
{
	uint32_t map;
	if (!sctp_chunks_ok(p, &map))
		return V_INVALID;
	if (fresh) {
		/* out of the blue: these are answered by nothing (8.4) */
		if (map & (SC_BIT(SC_ABORT) | SC_BIT(SC_SHUTDOWN_COMPLETE) | SC_BIT(SC_COOKIE_ACK)))
			return V_INVALID;
		if (!sctp_new(t, e, p))
			return V_INVALID;
	}
	struct ct_sctp *sc = &ct_ps(t, e)->sctp;
	uint32_t vtag = ld32(p->l4 + 4);
	const uint32_t own_check = SC_BIT(SC_INIT) | SC_BIT(SC_SHUTDOWN_COMPLETE) |
		SC_BIT(SC_COOKIE_ECHO) | SC_BIT(SC_ABORT) | SC_BIT(SC_SHUTDOWN_ACK) |
		SC_BIT(SC_HEARTBEAT) | SC_BIT(SC_HEARTBEAT_ACK);
	if (!(map & own_check) && vtag != sc->vtag[dir])
		return V_INVALID;
	unsigned ns = CT_SCTP_NONE;
	bool ignore = false;
	uint32_t end = sctp_end(p), off = 12;
	for (const uint8_t *c; (c = sctp_chunk(p, end, &off)) != NULL;) {
		uint8_t type = c[0];
		bool tflag = (c[1] & SC_FLAG_T) != 0;
		switch (type) {
		case SC_INIT:
			if (vtag != 0)
				return V_INVALID;
			break;
		case SC_ABORT:
		case SC_SHUTDOWN_COMPLETE:
			/* the sender's tag, or with T its peer's */
			if (vtag != sc->vtag[tflag ? !dir : dir])
				return V_INVALID;
			break;
		case SC_COOKIE_ECHO:
			if (vtag != sc->vtag[dir])
				return V_INVALID;
			break;
		case SC_COOKIE_ACK:
			sc->init = 0;
			break;
		case SC_HEARTBEAT:
			if (sc->vtag[dir] == 0) {
				sc->vtag[dir] = vtag;
			} else if (vtag != sc->vtag[dir]) {
				if ((map & SC_BIT(SC_DATA)) || ignore)
					return V_INVALID;
				/* maybe a restarted peer: its HEARTBEAT_ACK decides */
				sc->hb_fail = 1;
				sc->last_dir = (uint8_t)dir;
				ignore = true;
				continue;
			} else {
				sc->hb_fail = 0;
			}
			break;
		case SC_HEARTBEAT_ACK:
			if (sc->vtag[dir] == 0) {
				sc->vtag[dir] = vtag;
			} else if (vtag != sc->vtag[dir]) {
				if ((map & SC_BIT(SC_DATA)) || ignore || !sc->hb_fail ||
				    sc->last_dir == dir)
					return V_INVALID;
				sc->hb_fail = 0;
				sc->vtag[dir] = vtag;
				sc->vtag[!dir] = 0;
			} else {
				sc->hb_fail = 0;
			}
			break;
		default:
			break;
		}
		unsigned old = ct_sctp_state(e);
		ns = sctp_next_state(dir, old, type);
		if (ns == CT_SCTP_MAX)
			return V_INVALID;
		if (type == SC_INIT || type == SC_INIT_ACK) {
			if ((size_t)(c - p->l4) + 20 > end)
				return V_INVALID; /* no initiate tag */
			uint32_t itag = ld32(c + 4);
			if (type == SC_INIT) {
				/* an INIT that repeats the peer's tag is stale or
				 * retransmitted: not noted as a new one */
				if (old == CT_SCTP_NONE || sc->vtag[!dir] != itag) {
					if ((sc->init & (1u << dir)) && (sc->init & (1u << !dir)))
						sc->init &= (uint8_t)~(1u << !dir);
					sc->init |= (uint8_t)(1u << dir);
				}
				if (ns == CT_SCTP_CLOSED && old == CT_SCTP_CLOSED && !fresh)
					ignore = true;
			} else {
				uint32_t want = sc->vtag[!dir];
				if (!(sc->init & (1u << !dir)) && want != 0 && want != itag)
					return V_INVALID;
				if ((sc->init & (1u << dir)) && (sc->init & (1u << !dir)) && want != itag)
					return V_INVALID; /* a collision lost */
			}
			sc->vtag[!dir] = itag;
		}
		sctp_set_state(e, ns);
		if (ns == CT_SCTP_ESTABLISHED && old != ns)
			e->status |= CT_S_ASSURED;
	}
	if (ignore)
		return V_ACCEPT; /* neither refreshed nor counted */
	ct_refresh(e, now, ct_to(t, (uint32_t)(e - t->e))[ns == CT_SCTP_NONE ? CT_TO_SCTP_CLOSED :
				   CT_TO_SCTP_CLOSED + ns - CT_SCTP_CLOSED]);
	ct_acct(e, dir, p->len);
	return V_ACCEPT;
}

/* ---- ct_in ---- */

static bool icmp6_untracked(uint8_t type)
{
	return (type >= 130 && type <= 136) || type == 143;
}

static void related(struct ct_table *t, const struct ct_pkt *p, unsigned flags, struct ct_res *r)
{
	struct ct_tuple in, inv;
	r->state = CT_INVALID;
	if (p->l4_cap < 8 || ct_tuple_from_ip(p->l4 + 8, p->l4_cap - 8, p->t.fam, &in) < 0) {
		t->st.invalid++;
		return;
	}
	if (icmp_proto(in.proto)) {
		/* no errors about errors */
		uint8_t ty = (uint8_t)(in.dport >> 8);
		if (in.fam == 4 ? (ty == 3 || ty == 4 || ty == 5 || ty == 11 || ty == 12) : ty < 128) {
			t->st.invalid++;
			return;
		}
	}
	if (!tuple_invert(&in, &inv)) {
		t->st.invalid++;
		return;
	}
	/* in the error's zone (its original direction's id, as the kernel's
	 * nf_conntrack_find_get: one lookup) */
	inv.zo = p->t.zo;
	inv.zr = p->t.zr;
	inv.zone = p->t.zo;
	uint32_t n = ct_lookup(t, &inv, ct_hash(&inv));
	if (n == CT_NIL) {
		if (flags & CT_IN_ASK)
			r->miss = 1;
		else
			t->st.invalid++;
		return;
	}
	/* the error must travel to the connection's end it is about */
	struct ct_tuple k;
	ct_entry_tuple(t, n >> 1, n & 1, &k);
	if (memcmp(k.dst, p->t.dst, 16) != 0) {
		t->st.invalid++;
		return;
	}
	r->idx = n >> 1;
	r->dir = (uint8_t)(n & 1);
	r->state = CT_RELATED;
	t->st.related++;
}

static void res_init(struct ct_res *r)
{
	memset(r, 0, sizeof(*r));
	r->idx = CT_NIL;
	r->state = CT_INVALID;
}

/* What ct_in judges before any lookup: PKT_OK, or that the packet is
 * PKT_INVALID or PKT_UNTRACKED (not counted here). */
enum { PKT_OK, PKT_INVALID, PKT_UNTRACKED };
static int pkt_judge(const struct ct_table *t, const struct ct_pkt *p, bool prerouting)
{
	if (unlikely(!p->l4_ok))
		return PKT_INVALID; /* a later fragment: not reassembled */
	uint8_t proto = p->t.proto;
	if (proto == 6 || proto == 17)
		return ct_tcpudp_ok(t, p, prerouting) ? PKT_OK : PKT_INVALID;
	bool csum_bad = prerouting && p->csum_bad && t->par->checksum;
	if (icmp_proto(proto)) {
		if (proto == 58 && icmp6_untracked(p->icmp_type))
			return PKT_UNTRACKED;
	} else if (proto == 132) {
		if (p->l4_len < 12 || p->l4_cap < 12)
			return PKT_INVALID; /* no common header */
	} else if (proto == 136) {
		/* udplite_error: a header, a coverage of the header or more
		 * within the datagram (0: all), a checksum (mandatory) */
		if (p->l4_len < 8 || p->l4_cap < 8)
			return PKT_INVALID;
		uint16_t cov = ct_rd16(p->l4 + 4);
		if ((cov != 0 && (cov < 8 || cov > p->l4_len)) || ct_rd16(p->l4 + 6) == 0)
			return PKT_INVALID;
	} else if (proto != 136) {
		csum_bad = false; /* not checked */
	}
	return csum_bad ? PKT_INVALID : PKT_OK;
}

/* pkt_judge, counted: false if the packet is INVALID or UNTRACKED
 * (r->state says which). */
static bool pkt_ok(struct ct_table *t, const struct ct_pkt *p, bool prerouting, struct ct_res *r)
{
	switch (pkt_judge(t, p, prerouting)) {
	case PKT_UNTRACKED:
		r->state = CT_UNTRACKED;
		t->st.untracked++;
		return false;
	case PKT_INVALID:
		t->st.invalid++;
		return false;
	default:
		return true;
	}
}

/* The packet on its entry idx (found, or fresh), direction dir: the
 * protocol's state machine, accounting, the result in r. Returns V_REPEAT
 * when the entry was killed and the packet must be looked up again. */
/* conntrack -E's UPDATE for what a packet changed (was: the TCP state and
 * the SEEN_REPLY/ASSURED bits before it), as the kernel: none when it
 * killed the connection (an RST the only answer: its DESTROY is all), the
 * TCP state in it only when that changed. Out of line: events are rare. */
static __attribute__((noinline, cold)) void track_event(struct ct_table *t, uint32_t idx,
	unsigned was)
{
	const struct ct_entry *e = &t->e[idx];
	if (e->status & CT_S_DYING)
		return;
	unsigned is = (e->ps & 0x0f) | (e->status & (CT_S_SEEN_REPLY | CT_S_ASSURED)) << 4;
	unsigned ch = is ^ was;
	if (ch)
		ct_event_cache(t, idx, (ch & 0x0f ? CT_IPCT_PROTOINFO : 0) |
				       (ch & CT_S_SEEN_REPLY << 4 ? CT_IPCT_REPLY : 0) |
				       (ch & CT_S_ASSURED << 4 ? CT_IPCT_ASSURED : 0));
}

/* Inlined into its two callers (ct_in, the established lane's
 * ct_est_track): a call here costs the lane ~10 % (see tcp_packet). */
static inline __attribute__((always_inline)) int track(struct ct_table *t, const struct ct_pkt *p,
	const struct seg *s, uint32_t idx, unsigned dir, bool fresh, uint32_t h, uint32_t now,
	struct ct_res *r)
{
	uint8_t proto = p->t.proto;
	struct ct_entry *e = &t->e[idx];
	/* what an UPDATE event reports a change of */
	unsigned was = (e->ps & 0x0f) | (e->status & (CT_S_SEEN_REPLY | CT_S_ASSURED)) << 4;
	uint8_t state = dir ? CT_ESTABLISHED :
		(e->status & CT_S_SEEN_REPLY) ? CT_ESTABLISHED :
		(e->status & CT_S_EXPECTED)   ? CT_RELATED : CT_NEW;
	int v;
	switch (proto) {
	case 6:
		v = tcp_packet(t, e, idx, dir, s, now, p->len);
		break;
	case 17:
	case 136:
		ct_udp_packet(ct_to(t, idx), e, now);
		ct_acct(e, dir, p->len);
		v = V_ACCEPT;
		break;
	case 132:
		v = sctp_packet(t, e, dir, p, fresh, now);
		break;
	case 47:
		/* nf_conntrack_proto_gre: answered (before this packet), the
		 * stream timeout and ASSURED; else the short one */
		if (e->status & CT_S_SEEN_REPLY) {
			e->status |= CT_S_ASSURED;
			ct_refresh(e, now, ct_to(t, idx)[CT_TO_GRE_STREAM]);
		} else {
			ct_refresh(e, now, ct_to(t, idx)[CT_TO_GRE]);
		}
		ct_acct(e, dir, p->len);
		v = V_ACCEPT;
		break;
	case 1:
	case 58:
		ct_refresh(e, now, ct_to(t, idx)[proto == 1 ? CT_TO_ICMP : CT_TO_ICMPV6]);
		ct_acct(e, dir, p->len);
		v = V_ACCEPT;
		break;
	default:
		ct_refresh(e, now, ct_to(t, idx)[CT_TO_GENERIC]);
		ct_acct(e, dir, p->len);
		v = V_ACCEPT;
		break;
	}
	if (v == V_REPEAT)
		return V_REPEAT;
	if (v == V_INVALID) {
		if (fresh)
			ct_abort(t);
		else if (unlikely(__atomic_load_n(&t->evq, __ATOMIC_ACQUIRE) != NULL))
			track_event(t, idx, was); /* an SCTP chunk before the failing one
						     changed the state: the kernel
						     keeps that, and its event */
		t->st.invalid++;
		return V_INVALID;
	}
	if (v == V_IGNORE)
		t->st.ignore++;
	if (dir == 1)
		e->status |= CT_S_SEEN_REPLY;
	if (e->fam == 0) {
		r->state = state; /* freed by its own packet */
		return v;
	}
	/* conntrack -E following: what the packet changed */
	if (!fresh && unlikely(__atomic_load_n(&t->evq, __ATOMIC_ACQUIRE) != NULL))
		track_event(t, idx, was);
	r->idx = idx;
	r->dir = (uint8_t)dir;
	r->state = state;
	r->fresh = fresh;
	r->rep_free = 0;
	r->helper = (uint8_t)ct_helper(e);
	if (fresh) {
		/* ct_confirm indexes both directions: start loading the
		 * reply's bucket now, the rules run meanwhile */
		r->h[0] = h;
		if (p->h_rep) {
			r->h[1] = p->h_rep; /* its bucket was prefetched */
		} else {
			struct ct_tuple rep;
			ct_entry_tuple(t, idx, 1, &rep);
			r->h[1] = ct_hash(&rep);
			ct_prefetch(t, r->h[1]);
		}
	}
	return v;
}

void ct_in(struct ct_table *t, const struct ct_pkt *p, uint32_t h, uint32_t now, bool prerouting,
	unsigned flags, struct ct_res *r)
{
	const struct ct_tuple *k = &p->t;
	res_init(r);
	t->now = now; /* ct_confirm's: the worker's tick */
	if (unlikely(t->pending != CT_NIL))
		ct_abort(t); /* the previous packet did not get through */
	if (!pkt_ok(t, p, prerouting, r))
		return;
	uint8_t proto = k->proto;
	if (icmp_proto(proto) && p->icmp_err) {
		related(t, p, flags, r);
		return;
	}

	struct seg s = {0};
	if (proto == 6)
		seg_read(p, &s);

	for (int attempt = 0; attempt < 2; attempt++) {
		/* the prefetch's candidate spares the bucket search (once: a
		 * second attempt follows a kill) */
		uint32_t n = attempt == 0 && ct_hint_holds(t, p->hint, k) ? p->hint : ct_lookup(t, k, h);
		if (unlikely(n == CT_NIL && k->zo != k->zr)) {
			/* a zone in one direction only: the reply's zone too
			 * (resolve_normal_ct's second lookup) */
			struct ct_tuple kr = *k;
			kr.zone = k->zr;
			n = ct_lookup(t, &kr, ct_hash(&kr));
		}
		uint32_t idx;
		unsigned dir;
		bool fresh = false;
		if (n != CT_NIL && (int32_t)(t->e[n >> 1].expire - now) <= 0) {
			ct_kill(t, n >> 1); /* timed out, not yet reaped */
			t->st.expired++;
			n = CT_NIL;
		}
		if (n == CT_NIL) {
			struct ct_tuple rep;
			if (!tuple_invert(k, &rep) ||
			    (icmp_proto(proto) && icmp_inverse(k->fam, p->icmp_type) == 0)) {
				t->st.invalid++; /* an ICMP type without a query/answer pair */
				return;
			}
			if (icmp_proto(proto)) {
				/* only queries start a connection */
				uint8_t ty = p->icmp_type;
				bool q = k->fam == 4 ? (ty == 8 || ty == 13 || ty == 15 || ty == 17)
						     : (ty == 128 || ty == 139);
				if (!q) {
					if (flags & CT_IN_ASK)
						r->miss = 1;
					else
						t->st.invalid++;
					return;
				}
			}
			if (proto == 6 && (flags & CT_IN_ASK) &&
			    (p->tcp_flags & (0x02 | 0x10 | 0x04)) != 0x02) {
				/* only a SYN surely starts a connection here */
				r->miss = 1;
				return;
			}
			if (proto == 132 && (flags & CT_IN_ASK) && p->l4_cap > 12 &&
			    p->l4[12] != SC_INIT) {
				r->miss = 1; /* nor anything but an INIT */
				return;
			}
			if (flags & CT_IN_ASK_ALL) {
				r->miss = 1;
				return;
			}
			idx = ct_alloc(t, k->fam);
			if (idx == CT_NIL) {
				t->st.drop++;
				r->drop = 1;
				return;
			}
			struct ct_entry *e = &t->e[idx];
			entry_set_tuples(t, e, k, &rep);
			/* zones, timeout policy (before the tracker's first
			 * refresh), event mask */
			if (unlikely(__atomic_load_n(&t->side, __ATOMIC_ACQUIRE)))
				ct_side_set(t, idx, ct_zone_pack(k->zo, k->zr), p->tpol, p->ctev);
			t->pending = idx;
			if (proto == 6 && !tcp_new(t, e, &s)) {
				ct_abort(t);
				t->st.invalid++;
				return;
			}
			if (proto == 17 || proto == 136)
				e->mts = now + ct_ticks(2); /* stream_ts */
			if (p->helper)
				e->ps = (uint8_t)((e->ps & 0xcf) | (p->helper & 3) << 4);
			/* a connection a helper announced (ct_help.h) */
			struct ct_exp_nat xn;
			uint8_t mh = 0;
			if (t->exp != NULL && ct_expect_take(t->exp, k, now, &xn, &mh)) {
				e->status |= CT_S_EXPECTED;
				/* its master's helper, not the raw table's (the
				 * kernel assigns a template's helper only to a
				 * connection nobody expected) */
				e->ps = (uint8_t)((e->ps & 0x0f) | (mh & 3) << 6);
				t->st.expect_match++;
				if (xn.on) {
					r->follow = xn.on;
					r->follow_port = xn.port;
					memcpy(r->follow_addr, xn.addr, 16);
					memcpy(r->follow_src, xn.src_addr, 16);
				}
			}
			fresh = true;
			dir = 0;
		} else {
			idx = n >> 1;
			dir = n & 1;
			t->st.found++;
		}
		if (track(t, p, &s, idx, dir, fresh, h, now, r) != V_REPEAT)
			return;
	}
	t->st.invalid++;
}

int ct_est_track_full(struct ct_table *t, const struct ct_pkt *p, uint32_t n, uint32_t h,
	uint32_t now, struct ct_res *r)
{
	res_init(r);
	t->st.found++;
	struct seg s = {0};
	if (p->t.proto == 6)
		seg_read(p, &s);
	/* what ct_in does with a found entry; without a SYN, no V_REPEAT */
	track(t, p, &s, n >> 1, n & 1, false, h, now, r);
	if (r->idx == CT_NIL || r->state != CT_ESTABLISHED)
		return CT_EST_DONE;
	/* the lane forwards it without a confirmation: what it changed is
	 * reported now (the inline tracking above changes nothing reported) */
	if (unlikely(__atomic_load_n(&t->evq, __ATOMIC_ACQUIRE) != NULL))
		ct_event_deliver(t, n >> 1);
	return CT_EST_OK;
}
