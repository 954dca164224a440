/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_fast: the worker's side of connection tracking. dp_ct_in() turns the
 * parser's metadata into the tracker's view of a packet and runs it through
 * this worker's table; dp_ct_serve() answers the control thread's requests
 * on the table (listing, deletion, flush) a bounded slice at a time, so a
 * listing of millions of entries never stalls the packets.
 */
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_priv.h"

/* The tracker's tuple of a parsed IPv4/IPv6 packet; false if it has no
 * usable L4 (fragments are not reassembled yet: the tracker sees them as
 * untrackable, INVALID, never as a connection of their own). */
static inline bool tuple_of(const struct rte_mbuf *m, const struct pkt_meta *pm, struct ct_tuple *t)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
	memset(t, 0, sizeof(*t));
	if (pm->l3 == PKT_L3_IPV4) {
		t->fam = 4;
		memcpy(t->src, l3 + 12, 4);
		memcpy(t->dst, l3 + 16, 4);
	} else {
		t->fam = 6;
		memcpy(t->src, l3 + 8, 16);
		memcpy(t->dst, l3 + 24, 16);
	}
	t->proto = pm->l4_proto;
	bool ok = (pm->flags & PKT_F_L4) && !(pm->flags & PKT_F_FRAG);
	if (ok) {
		switch (pm->l4_proto) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
		case IPPROTO_ICMP:
		case IPPROTO_ICMPV6:
			t->sport = pm->sport;
			t->dport = pm->dport;
			break;
		case IPPROTO_SCTP:
		case IPPROTO_UDPLITE:
			/* ports (nf_ct_get_tuple: none readable, no tuple); DCCP
			 * has none since Linux 6.16 dropped its tracker */
			if (rte_pktmbuf_data_len(m) < (uint32_t)pm->l4_off + 4)
				return false;
			t->sport = pm->sport;
			t->dport = pm->dport;
			break;
		case IPPROTO_GRE: {
			uint32_t end = rte_pktmbuf_data_len(m);
			uint32_t cap = end > pm->l4_off ? end - pm->l4_off : 0;
			if (!ct_gre_keys(l3 - pm->l3_off + pm->l4_off, cap, &t->sport, &t->dport))
				return false;
			break;
		}
		default:
			break;
		}
	}
	return ok;
}

static int steer_of(struct dp_worker *w, const struct dp_rules *R, const struct pkt_meta *pm,
	const struct ct_tuple *t);

/*
 * nf_conntrack_checksum in software, for what the NIC did not check: ICMP
 * and ICMPv6 always (NICs do not), TCP and UDP on ports without receive
 * checksum offload (dp_port.sw_l4_csum) and in reassembled datagrams (their
 * buffer was never a NIC's). As the kernel: a UDP checksum of 0 means none,
 * UDP-Lite's partial coverage is not checked, and a packet whose L4 bytes
 * are not all in the buffer is not judged.
 */
static inline bool sw_csum_wanted(const struct dp_ctx *dp, const struct pkt_meta *pm)
{
	switch (pm->l4_proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
	case IPPROTO_SCTP: /* few NICs check its CRC32c */
		return true;
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		return dp->ports[pm->in_port].sw_l4_csum || (pm->flags & PKT_F_REASM);
	default:
		return false;
	}
}

/* 1: bad, 0: good, -1: not judged (a UDP checksum of 0, bytes missing) */
static int l4_csum_bad(bool v6, uint8_t proto, const uint8_t *l3, const uint8_t *l4, uint32_t len,
		       uint32_t cap)
{
	if (cap < len || len < 4)
		return -1;
	if (proto == IPPROTO_SCTP) { /* CRC32c, no pseudo-header */
		if (len < 12)
			return -1;
		uint8_t want[4];
		nat_sctp_csum(l4, len, want);
		return memcmp(want, l4 + 8, 4) != 0;
	}
	if (proto == IPPROTO_UDP && (len < 8 || (l4[6] == 0 && l4[7] == 0)))
		return -1;
	uint32_t sum = pkt_cksum(l4, len);
	if (proto != IPPROTO_ICMP) { /* the pseudo-header */
		sum += v6 ? pkt_cksum(l3 + 8, 32) : pkt_cksum(l3 + 12, 8);
		sum += rte_cpu_to_be_16((uint16_t)proto);
		sum += rte_cpu_to_be_16((uint16_t)len);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum != 0xffff;
}

bool dp_ct_csum_sw(struct rte_mbuf *m, bool v6, uint8_t proto, const uint8_t *l3,
		   const uint8_t *l4, uint32_t len, uint32_t cap)
{
	int v = l4_csum_bad(v6, proto, l3, l4, len, cap);
	/* as a NIC would have said: a worker it is handed to, or the full
	 * path after the established lane, does not check it again */
	if (v >= 0)
		m->ol_flags |= v ? RTE_MBUF_F_RX_L4_CKSUM_BAD : RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return v > 0;
}

void dp_ct_prefetch_burst(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf **pkts,
	struct pkt_meta *meta, uint16_t n, uint32_t *hash)
{
	const struct ct_table *t = w->ct;
	bool steering = R->nat && w->dp->n_workers > 1 && w->cur_hops == 0;
	for (uint16_t i = 0; i < n; i++) {
		const struct pkt_meta *pm = &meta[i];
		w->bhrep[i] = 0;
		w->bhint[i] = CT_NIL;
		w->bsteer[i] = -1;
		if (pm->drop != DP_DROP_NONE || (pm->l3 != PKT_L3_IPV4 && pm->l3 != PKT_L3_IPV6)) {
			hash[i] = 0;
			continue;
		}
		w->bl4ok[i] = tuple_of(pkts[i], pm, &w->btup[i]);
		if (unlikely(steering)) {
			/* a translated connection's reply owned by another worker:
			 * nothing to look up here */
			int o = steer_of(w, R, pm, &w->btup[i]);
			w->bsteer[i] = (int8_t)o;
			if (o >= 0 && (unsigned)o != w->id) {
				hash[i] = 0;
				continue;
			}
		}
		hash[i] = ct_hash_zone0(&w->btup[i]);
		ct_prefetch(t, hash[i]);
	}
	/* the entries the signatures point to are prefetched a few packets
	 * ahead of their turn (dp_ct_prefetch_ahead): all at once would
	 * overflow the core's outstanding misses, and the first ones would
	 * not have arrived when their packet comes */
	for (uint16_t i = 0; i < n && i < DP_CT_AHEAD; i++)
		dp_ct_prefetch_ahead(w, hash, i, n);
}

static bool natset_has(const struct dp_natset *s, const struct dp_ctx *dp, uint8_t fam,
	const uint8_t *a)
{
	if (s->all)
		return true;
	unsigned alen = fam == 4 ? 4 : 16;
	for (unsigned i = 0; i < s->n; i++)
		if (s->r[i].fam == fam && memcmp(a, s->r[i].lo, alen) >= 0 &&
		    memcmp(a, s->r[i].hi, alen) <= 0)
			return true;
	if (s->box)
		for (unsigned p = 0; p < dp->n_ports; p++) {
			const struct dp_port *pt = &dp->ports[p];
			if (fam == 4) {
				for (unsigned j = 0; j < pt->n4; j++)
					if (memcmp(a, &pt->ip4[j], 4) == 0)
						return true;
			} else {
				for (unsigned j = 0; j < pt->n6; j++)
					if (memcmp(a, pt->ip6[j], 16) == 0)
						return true;
			}
		}
	return false;
}

/*
 * With several workers, where the packet's connection may live and what
 * this worker may decide (the ct_in flags). A packet addressed to a
 * source translation's address goes straight to the worker its ports name
 * (nat_owner), which decides alone. Others are looked up here; on a miss,
 * a packet that cannot start a connection (and, from a destination
 * translation's target, any packet: a reply may look like a new
 * connection) is asked around the workers in turn; when nobody has it, the
 * last one judges, or for a packet that could start a connection, hands it
 * back to the worker that received it, which creates it.
 */
/* The owner of a packet addressed to a source translation's address, by
 * its ports; -1 if it is not one (or says nothing). */
static int steer_of(struct dp_worker *w, const struct dp_rules *R, const struct pkt_meta *pm,
	const struct ct_tuple *t)
{
	if (!(pm->flags & PKT_F_L4) || (pm->flags & PKT_F_ICMP_ERR))
		return -1;
	return dp_ct_owner(w, R, t, pm->sport, pm->dport, pm->icmp_type);
}

int dp_ct_owner(const struct dp_worker *w, const struct dp_rules *R, const struct ct_tuple *t,
	uint16_t sport, uint16_t dport, uint8_t icmp_type)
{
	if (!natset_has(&R->nat_pub, w->dp, t->fam, t->dst))
		return -1;
	return nat_owner(t->proto, sport, dport, icmp_type, w->dp->n_workers);
}

static unsigned ask_flags(struct dp_worker *w, const struct dp_rules *R, const struct pkt_meta *pm,
	const struct ct_tuple *t, bool cached, bool *steered)
{
	const struct dp_ctx *dp = w->dp;
	unsigned n = dp->n_workers, hops = w->cur_hops;
	bool all;
	*steered = false;
	if (w->cur_create)
		return 0;
	if (hops == 0) {
		all = false;
		if (R->nat) {
			/* the burst's pass knows already */
			int o = cached ? w->bsteer[w->cur_i] : steer_of(w, R, pm, t);
			if (o >= 0) {
				if ((unsigned)o == w->id)
					return 0; /* ours, or nobody's */
				w->ho_dest = (uint8_t)o;
				w->ho_hops = (uint8_t)(n - 1); /* the owner decides */
				w->ho_all = 0;
				w->ho_create = 0;
				*steered = true;
				return 0;
			}
			all = natset_has(&R->nat_priv, dp, t->fam, t->src) ||
			      (R->follow_udp && t->proto == IPPROTO_UDP);
		}
	} else {
		all = w->cur_ask_all;
	}
	if (hops + 1 < n) {
		w->ho_dest = (uint8_t)((w->id + 1) % n);
		w->ho_hops = (uint8_t)(hops + 1);
		w->ho_all = all;
		w->ho_create = 0;
		return CT_IN_ASK | (all ? CT_IN_ASK_ALL : 0);
	}
	if (!all)
		return 0;
	/* the last one asked: back to the origin, which creates it */
	w->ho_dest = w->cur_origin;
	w->ho_hops = (uint8_t)(n - 1);
	w->ho_all = 0;
	w->ho_create = 1;
	return CT_IN_ASK_ALL;
}

bool dp_ct_in(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
	const struct pkt_meta *pm, bool prerouting)
{
	struct ct_pkt p;
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off);
	/* the burst's pass has the tuple already (until the packet changes;
	 * hashed in zone 0) */
	bool cached = prerouting && w->cur_hash_ok && w->ct_t.zone == 0;
	if (cached) {
		p.t = w->btup[w->cur_i];
		p.l4_ok = w->bl4ok[w->cur_i];
	} else {
		p.l4_ok = tuple_of(m, pm, &p.t);
	}
	if (unlikely(w->ct_t.zone != 0)) {
		/* CT --zone: looked up in its zone ("mark": the mark it has
		 * now, after the raw table); a hand-off carries it resolved */
		w->ct_t.zone = rules_zone_ids(w->ct_t.zone, pm->mark, &p.t.zo, &p.t.zr);
		p.t.zone = p.t.zo;
	}
	unsigned flags = 0;
	if (prerouting && w->dp->n_workers > 1) {
		bool steered;
		flags = ask_flags(w, R, pm, &p.t, cached, &steered);
		if (steered) {
			dp_ct_none(w, CT_INVALID);
			w->ctr.miss = 1;
			return true;
		}
	}
	uint32_t hdr = (uint32_t)(pm->l4_off - pm->l3_off);
	p.l3 = l3;
	p.l4 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l4_off);
	p.l4_len = pm->l3_len > hdr ? pm->l3_len - hdr : 0;
	uint32_t avail = pm->pkt_len > pm->l4_off ? pm->pkt_len - pm->l4_off : 0;
	p.l4_cap = avail < p.l4_len ? avail : p.l4_len;
	p.len = pm->l3_len;
	p.tcp_flags = pm->tcp_flags;
	p.icmp_type = pm->icmp_type;
	p.icmp_code = pm->icmp_code;
	p.icmp_err = (pm->flags & PKT_F_ICMP_ERR) != 0;
	p.csum_bad = dp_ct_csum_bad(w->dp, m, pm->l3 == PKT_L3_IPV6, pm->l4_proto,
				    prerouting && p.l4_ok && sw_csum_wanted(w->dp, pm), l3, p.l4,
				    p.l4_len, p.l4_cap);
	/* CT --helper, --timeout, --ctevents, for a new connection */
	p.helper = w->ct_t.helper;
	p.tpol = w->ct_t.tpol;
	p.ctev = w->ct_t.ctev;
	uint32_t h = cached ? w->cur_hash : ct_hash_inline(&p.t);
	p.h_rep = cached ? w->cur_hrep : 0;
	p.hint = cached ? w->cur_hint : CT_NIL;
	ct_in(w->ct, &p, h, w->ct_now, prerouting, flags, &w->ctr);
	if (unlikely(w->ctr.drop)) {
		dp_drop_pkt(w, pm->in_port, DP_DROP_CT_FULL, m);
		return false;
	}
	return true;
}

/* The L4 checksum of a TCP segment NAT rewrote, computed again. */
static void tcp_csum_fill(const struct pkt_meta *pm, const uint8_t *l3, uint8_t *l4, uint32_t len)
{
	l4[16] = l4[17] = 0;
	uint32_t sum = pkt_cksum(l4, len);
	sum += pm->l3 == PKT_L3_IPV4 ? pkt_cksum(l3 + 12, 8) : pkt_cksum(l3 + 8, 32);
	sum += rte_cpu_to_be_16((uint16_t)IPPROTO_TCP);
	sum += rte_cpu_to_be_16((uint16_t)len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	uint16_t ck = (uint16_t)~sum;
	memcpy(l4 + 16, &ck, 2);
}

/* The helper of the packet's connection reads its payload (an accepted
 * packet: after the filter, as the kernel's helper hook), may rewrite it
 * (NAT), and the sequence numbers follow what NAT changed before. */
bool dp_ct_help(struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *pm)
{
	if (!(pm->flags & PKT_F_L4) || (pm->flags & PKT_F_ICMP_ERR) ||
	    (pm->l4_proto != IPPROTO_TCP && pm->l4_proto != IPPROTO_UDP) ||
	    !rte_pktmbuf_is_contiguous(m))
		return true;
	bool tcp = pm->l4_proto == IPPROTO_TCP;
	uint8_t *l4 = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l4_off);
	uint32_t end = (uint32_t)pm->l3_off + pm->l3_len, have = rte_pktmbuf_data_len(m);
	if (end > have)
		end = have;
	uint32_t hl = tcp ? (uint32_t)(l4[12] >> 4) * 4 : 8;
	uint32_t off = (uint32_t)pm->l4_off + hl;
	if (off > end)
		return true;
	uint32_t seq = tcp ? (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7] :
			     0;
	/* room to grow: the padding after the datagram and the tailroom */
	struct ct_help_buf b = { .pl = l4 + hl, .n = end - off,
				 .room = have - off + rte_pktmbuf_tailroom(m) };
	enum ct_help_verdict v = ct_help(w->ct, w->ctr.idx, w->ctr.dir, seq, &b, w->ct_now);
	if (unlikely(v == CT_HELP_DROP)) {
		dp_drop_pkt(w, pm->in_port, DP_DROP_HELPER, m);
		return false;
	}
	if (!tcp)
		return true;
	bool adj = ct_seqadj(w->ct, w->ctr.idx, w->ctr.dir, l4, hl);
	if (v == CT_HELP_MANGLED && b.n != end - off) {
		/* a new length: the frame, the IP header, the parse */
		uint32_t flen = off + b.n;
		if (flen > have)
			rte_pktmbuf_append(m, (uint16_t)(flen - have)); /* within the room */
		else
			rte_pktmbuf_trim(m, (uint16_t)(have - flen));
		pm->l3_len = (uint16_t)(flen - pm->l3_off);
		pm->pkt_len = flen;
		uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l3_off);
		if (pm->l3 == PKT_L3_IPV4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
			ip->total_length = rte_cpu_to_be_16(pm->l3_len);
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			((struct rte_ipv6_hdr *)l3)->payload_len =
				rte_cpu_to_be_16((uint16_t)(pm->l3_len - 40));
		}
	}
	if (v == CT_HELP_MANGLED)
		tcp_csum_fill(pm, rte_pktmbuf_mtod_offset(m, const uint8_t *, pm->l3_off), l4,
			      off + b.n - pm->l4_off);
	if (adj || v == CT_HELP_MANGLED)
		w->cur_hash_ok = 0;
	return true;
}

bool dp_ct_handoff(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	struct dp_ctx *dp = w->dp;
	struct dp_mbuf_priv *pv = dp_priv(m);
	pv->hops = w->ho_hops;
	pv->origin = w->cur_origin;
	pv->ask_all = w->ho_all;
	pv->create = w->ho_create;
	pv->in_port = pm->in_port;
	pv->reasm = (pm->flags & PKT_F_REASM) != 0;
	pv->trace = w->trc != NULL; /* rampartctl trace: the next worker traces it too */
	pv->ct = w->ct_t;
	if (rte_ring_mp_enqueue(dp->workers[w->ho_dest]->handoff, m) != 0) {
		w->st.handoff_full++;
		dp_drop_pkt(w, pm->in_port, DP_DROP_HANDOFF_FULL, m);
		return true;
	}
	w->st.handoff_out++;
	return true;
}

#define SERVE_SCAN 4096 /* entries looked at per loop iteration */

void dp_ct_serve(struct dp_worker *w)
{
	struct dp_ctmsg *q = __atomic_load_n(&w->ctl, __ATOMIC_ACQUIRE);
	if (q == NULL)
		return;
	struct ct_table *t = w->ct;
	q->now = w->ct_now;
	if (t == NULL) {
		q->cursor = UINT32_MAX;
		goto done;
	}
	switch (q->op) {
	case DP_CT_LIST: {
		uint32_t end = q->cursor + SERVE_SCAN < t->max ? q->cursor + SERVE_SCAN : t->max;
		uint32_t i = q->cursor;
		q->n = 0;
		for (; i < end && q->n < q->max; i++) {
			if (!ct_entry_live(t, i))
				continue;
			struct dp_ctsnap *s = &q->out[q->n++];
			s->idx = i;
			ct_entry_copy(t, &t->e[i], &s->e);
			s->zn = ct_zones_of(t, i);
			if (s->e.fam == 6)
				s->a6 = t->x6[s->e.a.x6];
		}
		q->cursor = i >= t->max ? UINT32_MAX : i;
		break;
	}
	case DP_CT_KILL:
	case DP_CT_MARK: {
		/* the entry listed, not whatever reused its slot since */
		struct ct_entry *e = q->cursor < t->max ? &t->e[q->cursor] : NULL;
		const struct ct_entry *was = q->out ? &q->out->e : NULL;
		if (!(e && was && ct_entry_live(t, q->cursor) && e->fam == was->fam &&
		      e->proto == was->proto && memcmp(e->port, was->port, sizeof(e->port)) == 0 &&
		      memcmp(&e->a, &was->a, sizeof(e->a)) == 0 &&
		      ct_zones_of(t, q->cursor) == q->out->zn))
			break;
		/* IPv6: the same record index says little (a freed slot and its
		 * record are handed out again together): its addresses */
		if (e->fam == 6 && memcmp(&t->x6[e->a.x6], &q->out->a6, sizeof(q->out->a6)) != 0)
			break;
		if (q->op == DP_CT_KILL) {
			ct_kill(t, q->cursor);
			q->killed = 1;
			break;
		}
		/* conntrack -U: as ctnetlink's change of the mark, an UPDATE
		 * event when it changed (conntrack(8) sends none otherwise) */
		uint32_t m = (ct_mark(t, e) & ~q->mask) ^ q->mark;
		q->mark = m;
		if (m != ct_mark(t, e)) {
			ct_mark_set(t, e, m);
			q->killed = 1;
			if (__atomic_load_n(&t->evq, __ATOMIC_ACQUIRE) != NULL)
				ct_event(t, q->cursor, CT_EV_UPDATE,
					 /* what ctnetlink's change reports */
					 CT_IPCT_REPLY | CT_IPCT_ASSURED | CT_IPCT_HELPER |
					 CT_IPCT_LABEL | CT_IPCT_PROTOINFO | CT_IPCT_SEQADJ |
					 CT_IPCT_MARK);
		}
		break;
	}
	case DP_CT_FLUSH: {
		uint32_t end = q->cursor + SERVE_SCAN < t->max ? q->cursor + SERVE_SCAN : t->max;
		uint32_t i = q->cursor;
		for (; i < end; i++)
			if (ct_entry_live(t, i)) {
				ct_kill(t, i);
				q->killed++;
			}
		q->cursor = i >= t->max ? UINT32_MAX : i;
		break;
	}
	case DP_CT_FLUSH_SNAT: {
		/* MASQUERADE's rule: the port went down, its mappings go */
		const struct dp_port *pt = q->port < w->dp->n_ports ? &w->dp->ports[q->port] : NULL;
		uint32_t end = q->cursor + SERVE_SCAN < t->max ? q->cursor + SERVE_SCAN : t->max;
		uint32_t i = q->cursor;
		for (; i < end && pt != NULL; i++) {
			if (!ct_entry_live(t, i) || !(t->e[i].status & CT_S_SRC_NAT))
				continue;
			struct ct_tuple r;
			ct_entry_tuple(t, i, 1, &r);
			bool mine = false;
			if (r.fam == 4) {
				for (unsigned j = 0; j < pt->n4 && !mine; j++)
					mine = memcmp(r.dst, &pt->ip4[j], 4) == 0;
			} else {
				for (unsigned j = 0; j < pt->n6 && !mine; j++)
					mine = memcmp(r.dst, pt->ip6[j], 16) == 0;
			}
			if (mine) {
				ct_kill(t, i);
				q->killed++;
			}
		}
		q->cursor = i >= t->max || pt == NULL ? UINT32_MAX : i;
		break;
	}
	default:
		break;
	}
done:
	/* the mailbox is emptied before the request is marked done: once the
	 * control thread sees done it may post its next request at once, which
	 * a later clearing would wipe out (it did: conntrack -F hung between
	 * two slices) */
	__atomic_store_n(&w->ctl, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&q->done, 1, __ATOMIC_RELEASE);
}
