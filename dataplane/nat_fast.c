/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nat_fast: the worker's side of NAT. After the nat table of a hook,
 * dp_nat_step() turns the target the table chose (SNAT, DNAT, MASQUERADE,
 * REDIRECT, NETMAP) into a range for this connection (the port's address
 * for MASQUERADE and REDIRECT, the mapped address for NETMAP), makes the
 * binding with this worker's port share, and rewrites the packet (and an
 * ICMP error's quoted packet) from the connection's tuples. Destinations
 * are rewritten at PREROUTING and OUTPUT, sources at POSTROUTING and INPUT.
 */
#include <rte_mbuf.h>

#include "dp_priv.h"

/* Does a lie in the plen-bit prefix of b? */
static bool same_prefix(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned n = plen / 8, r = plen % 8;
	if (memcmp(a, b, n) != 0)
		return false;
	return r == 0 || ((a[n] ^ b[n]) & (uint8_t)(0xff00 >> r)) == 0;
}

/* The port's configured address of the family on toward's subnet, else its
 * first one (the kernel's inet_select_addr: the primary address that
 * shares the next hop's subnet); false if it has none. toward may be NULL.
 * The IPv6 link-local address is never chosen. */
static bool port_addr(const struct dp_ctx *dp, uint16_t port, bool v6, const uint8_t *toward,
	uint8_t *a)
{
	if (port >= dp->n_ports)
		return false;
	const struct dp_port *p = &dp->ports[port];
	memset(a, 0, 16);
	unsigned n = v6 ? (p->n6 > 0 ? p->n6 - 1u : 0) : p->n4, k = 0;
	if (n == 0)
		return false;
	for (unsigned j = 0; toward != NULL && j < n; j++)
		if (v6 ? same_prefix(toward, p->ip6[j], p->plen6[j]) :
			 same_prefix(toward, (const uint8_t *)&p->ip4[j], p->plen4[j])) {
			k = j;
			break;
		}
	if (v6)
		memcpy(a, p->ip6[k], 16);
	else
		memcpy(a, &p->ip4[k], 4);
	return true;
}

/* The range target tg gives this connection; false if it gives none (no
 * address on the port). */
static bool target_range(struct dp_worker *w, const struct rules_ext *tg, enum nat_manip mp,
	bool v6, uint16_t in, uint16_t out, struct nat_range *rg)
{
	const struct rules_t_nat *n = &tg->u.nat;
	unsigned alen = v6 ? 16 : 4;
	memset(rg, 0, sizeof(*rg));
	if (n->flags & RULES_NAT_PROTO) {
		rg->flags |= NAT_R_PROTO;
		rg->port_lo = n->port_lo;
		rg->port_hi = n->port_hi;
	}
	if (n->flags & RULES_NAT_OFFSET) {
		rg->flags |= NAT_R_OFFSET;
		rg->port_base = n->port_base;
	}
	if (n->flags & RULES_NAT_RANDOM)
		rg->flags |= NAT_R_RANDOM;
	if (n->flags & RULES_NAT_RANDOM_FULLY)
		rg->flags |= NAT_R_RANDOM_FULLY;
	if (n->flags & RULES_NAT_PERSISTENT)
		rg->flags |= NAT_R_PERSISTENT;
	switch (tg->kind) {
	case RULES_X_MASQUERADE:
		if (!port_addr(w->dp, out, v6, w->nat_nh, rg->min))
			return false;
		memcpy(rg->max, rg->min, 16);
		return true;
	case RULES_X_REDIRECT:
		if (!port_addr(w->dp, in, v6, NULL, rg->min))
			return false;
		memcpy(rg->max, rg->min, 16);
		return true;
	case RULES_X_NETMAP: {
		/* the host part of the original address under the new prefix */
		struct ct_tuple o;
		ct_entry_tuple(w->ct, w->ctr.idx, 0, &o);
		const uint8_t *a = mp == NAT_MANIP_SRC ? o.src : o.dst;
		for (unsigned i = 0; i < alen; i++) {
			uint8_t host = n->min.b[i] ^ n->max.b[i];
			rg->min[i] = (uint8_t)((a[i] & host) | n->min.b[i]);
		}
		memcpy(rg->max, rg->min, 16);
		return true;
	}
	default: /* SNAT, DNAT */
		if (n->flags & RULES_NAT_MAP_IPS) {
			memcpy(rg->min, n->min.b, alen);
			memcpy(rg->max, n->max.b, alen);
		} else {
			/* ports only (DNAT --to-destination :p): the address stays */
			struct ct_tuple o;
			ct_entry_tuple(w->ct, w->ctr.idx, 0, &o);
			memcpy(rg->min, mp == NAT_MANIP_SRC ? o.src : o.dst, alen);
			memcpy(rg->max, rg->min, alen);
		}
		return true;
	}
}

/* The follow-master translation of hook manip mp for the fresh expected
 * connection at hand; false if it has none for that manip. */
static bool follow_range(const struct dp_worker *w, enum nat_manip mp, struct nat_range *rg)
{
	const struct ct_res *c = &w->ctr;
	memset(rg, 0, sizeof(*rg));
	if (mp == NAT_MANIP_DST && (c->follow & CT_EXP_NAT_DST)) {
		memcpy(rg->min, c->follow_addr, 16);
		memcpy(rg->max, c->follow_addr, 16);
		rg->flags = NAT_R_PROTO;
		rg->port_lo = rg->port_hi = c->follow_port;
		return true;
	}
	if (mp == NAT_MANIP_SRC && (c->follow & CT_EXP_NAT_SRC)) {
		memcpy(rg->min, c->follow_src, 16);
		memcpy(rg->max, c->follow_src, 16);
		return true;
	}
	return false;
}

bool dp_nat_step(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
	struct pkt_meta *pm, enum nat_manip mp, uint16_t in, uint16_t out)
{
	const struct rules_ext *tg = w->nat_tg;
	w->nat_tg = NULL;
	if (!R->nat || w->ctr.idx == CT_NIL)
		return true;
	bool v6 = pm->l3 == PKT_L3_IPV6;
	/* the first packet binds: to where an expected connection's master's
	 * peer is (a TFTP answer to a client behind MASQUERADE, as
	 * nf_nat_follow_master; the nat table was skipped), or as the nat
	 * table's target said */
	struct nat_range rg;
	bool bind = false, ok = true;
	if (w->ctr.fresh) {
		if (unlikely(w->ctr.follow)) {
			bind = follow_range(w, mp, &rg);
		} else if (unlikely(tg != NULL)) {
			bind = true;
			ok = target_range(w, tg, mp, v6, in, out, &rg);
			if (!ok)
				w->nst.alloc_fail++; /* MASQUERADE/REDIRECT on a port without address */
		}
	}
	if (mp == NAT_MANIP_SRC && w->ctr.fresh && !bind &&
	    unlikely(w->ct->may_clash || __atomic_load_n(&w->ct->zn, __ATOMIC_RELAXED) != NULL)) {
		/* No source translation: the kernel's null binding, which keeps
		 * the tuple unless another connection holds its reply (a client
		 * reaching a DNAT backend directly while its translated
		 * connection lives, or a DNAT whose backend's reply was taken):
		 * then another source port of the same address. */
		if (!ct_reply_taken(w->ct, &w->ctr)) {
			w->ctr.rep_free = 1;
		} else {
			struct ct_tuple o;
			ct_entry_tuple(w->ct, w->ctr.idx, 0, &o);
			memset(&rg, 0, sizeof(rg));
			rg.flags = NAT_R_NULL;
			memcpy(rg.min, o.src, 16);
			memcpy(rg.max, o.src, 16);
			bind = true;
		}
	}
	if (bind) {
		bool null = (rg.flags & NAT_R_NULL) != 0;
		if (ok) /* (a null binding is no client mapping to remember) */
			ok = nat_bind(w->ct, &w->ctr, mp, &rg, &w->nat_share, null ? NULL : &w->nat_src,
				      mp == NAT_MANIP_SRC && out < w->dp->n_ports ?
					      w->dp->ports[out].nat_rss : NULL,
				      dp_rand32(w), &w->nst);
		if (unlikely(!ok)) {
			if (null)
				return true; /* no other port: ct_confirm drops it (a clash) */
			dp_drop_pkt(w, pm->in_port, DP_DROP_NAT_FAIL, m);
			return false;
		}
		if (mp == NAT_MANIP_SRC)
			w->ctr.rep_free = 1; /* the binding found its reply tuple free */
		if (mp == NAT_MANIP_SRC && !null) {
			/* the next source translation's public address, to
			 * prefetch (dp_ct_prefetch_ahead) */
			struct ct_tuple r;
			ct_entry_tuple(w->ct, w->ctr.idx, 1, &r);
			memcpy(w->nat_hint, r.dst, 16);
			w->nat_hint_fam = r.fam;
		}
	}
	const struct ct_entry *e = &w->ct->e[w->ctr.idx];
	if (likely(!nat_needed(e, w->ctr.dir, mp)))
		return true;
	if (unlikely(!rte_pktmbuf_is_contiguous(m)))
		return true; /* a reassembled datagram is one buffer; nothing else is chained */
	struct nat_pkt np;
	np.l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l3_off);
	np.proto = pm->l4_proto;
	if (pm->flags & PKT_F_L4) {
		np.l4 = rte_pktmbuf_mtod_offset(m, uint8_t *, pm->l4_off);
		uint32_t avail = rte_pktmbuf_data_len(m) > pm->l4_off ?
			rte_pktmbuf_data_len(m) - pm->l4_off : 0;
		uint32_t l4_len = (uint32_t)pm->l3_off + pm->l3_len > pm->l4_off ?
			(uint32_t)pm->l3_off + pm->l3_len - pm->l4_off : 0;
		np.l4_cap = avail < l4_len ? avail : l4_len;
		if (unlikely(w->ctr.state == CT_RELATED && (pm->flags & PKT_F_ICMP_ERR))) {
			if (nat_manip_icmp_error(w->ct, w->ctr.idx, w->ctr.dir, mp, &np, l4_len))
				w->nst.icmp_err++;
			return true;
		}
	} else {
		np.l4 = NULL;
		np.l4_cap = 0;
	}
	nat_manip_packet(w->ct, w->ctr.idx, w->ctr.dir, mp, &np);
	if (np.l4 != NULL && np.l4_cap >= 4) {
		/* later hooks (FORWARD's --dport after DNAT) see the new ports */
		if (pm->l4_proto == IPPROTO_TCP || pm->l4_proto == IPPROTO_UDP ||
		    pm->l4_proto == IPPROTO_SCTP || pm->l4_proto == IPPROTO_UDPLITE) {
			pm->sport = (uint16_t)(np.l4[0] << 8 | np.l4[1]);
			pm->dport = (uint16_t)(np.l4[2] << 8 | np.l4[3]);
		} else if ((pm->l4_proto == IPPROTO_ICMP || pm->l4_proto == IPPROTO_ICMPV6) &&
			   np.l4_cap >= 8) {
			pm->sport = (uint16_t)(np.l4[4] << 8 | np.l4[5]);
		}
	}
	w->cur_hash_ok = 0;
	return true;
}
