/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * route_ctl: builds the routing state on the control thread before the
 * workers start: the IPv4 and IPv6 LPM tables (our addresses as local host
 * routes, subnet broadcasts, connected subnets, static routes) and the next
 * hop table that gateways and neighbours share. Workers only read it.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "dp_priv.h"

int dp_nh_get(struct dp_ctx *dp, uint8_t family, const uint8_t *addr, uint16_t port, bool create)
{
	struct dp_nh_key k;
	dp_nh_key_make(&k, family, addr, port);
	void *data;
	if (rte_hash_lookup_data(dp->nh_hash, &k, &data) >= 0)
		return (int)(uintptr_t)data;
	if (!create)
		return -ENOENT;
	if (dp->nh_used >= dp->nh_max)
		return -ENOSPC;
	uint32_t idx = dp->nh_used;
	struct dp_nh *nh = &dp->nh[idx];
	memset(nh, 0, sizeof(*nh));
	nh->port = port;
	nh->family = family;
	memcpy(nh->addr, k.addr, 16);
	/* the entry is complete before the key becomes visible to workers;
	 * rte_hash's lock-free add publishes it with release semantics */
	int rc = rte_hash_add_key_data(dp->nh_hash, &k, (void *)(uintptr_t)idx);
	if (rc < 0)
		return rc;
	dp->nh_used++;
	return (int)idx;
}

int dp_addr_is_local6(const struct dp_ctx *dp, uint16_t port, const uint8_t *a)
{
	const struct dp_port *p = &dp->ports[port];
	for (unsigned i = 0; i < p->n6; i++)
		if (memcmp(p->ip6[i], a, 16) == 0)
			return 1;
	return 0;
}

int dp_port_src6(const struct dp_port *p, const uint8_t *dst, uint8_t out[16])
{
	bool ll = dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80;
	if (p->n6 == 0)
		return -1;
	/* the link-local address is last */
	unsigned pick = ll || p->n6 == 1 ? p->n6 - 1 : 0;
	memcpy(out, p->ip6[pick], 16);
	return 0;
}

static uint32_t be32(const uint8_t *a)
{
	uint32_t v;
	memcpy(&v, a, 4);
	return rte_be_to_cpu_32(v);
}

static int add4(struct dp_ctx *dp, const uint8_t *addr, uint8_t plen, uint32_t nhv, bool replace,
		char *err, size_t errlen)
{
	uint32_t ip = be32(addr);
	uint32_t old;
	if (!replace && rte_lpm_is_rule_present(dp->lpm4, ip, plen, &old) == 1)
		return 0;
	int rc = rte_lpm_add(dp->lpm4, ip, plen, nhv);
	if (rc < 0)
		snprintf(err, errlen, "cannot add IPv4 route %u.%u.%u.%u/%u: %s", addr[0], addr[1],
			 addr[2], addr[3], plen, rte_strerror(-rc));
	return rc;
}

static int add6(struct dp_ctx *dp, const uint8_t *addr, uint8_t plen, uint32_t nhv, bool replace,
		char *err, size_t errlen)
{
	uint32_t old;
	if (!replace && rte_lpm6_is_rule_present(dp->lpm6, addr, plen, &old) == 1)
		return 0;
	int rc = rte_lpm6_add(dp->lpm6, addr, plen, nhv);
	if (rc < 0)
		snprintf(err, errlen, "cannot add IPv6 route (/%u): %s", plen, rte_strerror(-rc));
	return rc;
}

int dp_routes_build(struct dp_ctx *dp, const struct cfg *c, char *err, size_t errlen)
{
	unsigned n_addr = 0;
	for (unsigned i = 0; i < c->n_ports; i++)
		n_addr += c->ports[i].n_addrs + 1;
	struct rte_lpm_config l4 = {
		.max_rules = 3 * n_addr + c->n_routes + 16,
		.number_tbl8s = 2 * n_addr + c->n_routes + 64,
	};
	dp->lpm4 = rte_lpm_create("rp_lpm4", (int)rte_socket_id(), &l4);
	struct rte_lpm6_config l6 = {
		.max_rules = 2 * n_addr + c->n_routes + 16,
		.number_tbl8s = 16 * (2 * n_addr + c->n_routes) + 64,
	};
	dp->lpm6 = rte_lpm6_create("rp_lpm6", (int)rte_socket_id(), &l6);
	if (dp->lpm4 == NULL || dp->lpm6 == NULL) {
		snprintf(err, errlen, "cannot create route tables: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}

	/* local addresses first: nothing may override them */
	dp->n_local4 = 0;
	dp->local4_bloom = 0;
	for (unsigned i = 0; i < c->n_ports; i++) {
		const struct dp_port *p = &dp->ports[i];
		for (unsigned j = 0; j < p->n4; j++) {
			dp->local4[dp->n_local4++] = p->ip4[j];
			dp->local4_bloom |= 1ull << (rte_be_to_cpu_32(p->ip4[j]) & 63);
		}
		for (unsigned j = 0; j < p->n4; j++)
			if (add4(dp, (const uint8_t *)&p->ip4[j], 32, DP_NHV(DP_NHV_LOCAL, i), true,
				 err, errlen) < 0)
				return -1;
		for (unsigned j = 0; j < p->n6; j++)
			if (add6(dp, p->ip6[j], 128, DP_NHV(DP_NHV_LOCAL, i), true, err, errlen) < 0)
				return -1;
	}
	/* connected subnets and their broadcast addresses */
	for (unsigned i = 0; i < c->n_ports; i++) {
		const struct cfg_port *cp = &c->ports[i];
		for (unsigned j = 0; j < cp->n_addrs; j++) {
			const struct cfg_prefix *pf = &cp->addrs[j];
			if (pf->family == 4) {
				if (pf->plen == 32)
					continue;
				uint32_t ip = be32(pf->addr);
				uint32_t mask = pf->plen ? ~0u << (32 - pf->plen) : 0;
				uint32_t net = rte_cpu_to_be_32(ip & mask);
				uint32_t bc = rte_cpu_to_be_32(ip | ~mask);
				if (add4(dp, (uint8_t *)&net, pf->plen, DP_NHV(DP_NHV_CONN, i), false,
					 err, errlen) < 0)
					return -1;
				if (pf->plen <= 30 &&
				    add4(dp, (uint8_t *)&bc, 32, DP_NHV(DP_NHV_BCAST, 0), false, err,
					 errlen) < 0)
					return -1;
			} else if (pf->plen < 128) {
				uint8_t net[16];
				memcpy(net, pf->addr, 16);
				for (unsigned b = pf->plen; b < 128; b++)
					net[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
				if (add6(dp, net, pf->plen, DP_NHV(DP_NHV_CONN, i), false, err,
					 errlen) < 0)
					return -1;
			}
		}
	}
	/* static routes. rte_lpm and rte_lpm6 take depths from 1: a default
	 * route (/0) is its two halves, /1 each, which a /1 route of the
	 * config (a longer prefix than the default's) replaces, before or
	 * after it */
	bool def[2] = { false, false };        /* by family: a default route was added */
	bool def_half[2][2] = { { false } };  /* by family, half: its /1 is the default's */
	for (unsigned r = 0; r < c->n_routes; r++) {
		const struct cfg_route *rt = &c->routes[r];
		uint32_t nhv;
		char pfx[64];
		cfg_format_prefix(&rt->dst, pfx, sizeof(pfx));
		if (rt->has_via) {
			int nh = dp_nh_get(dp, rt->dst.family, rt->via, (uint16_t)rt->port, true);
			if (nh < 0) {
				snprintf(err, errlen, "%s:%d:%d: route to %s: next hop table full",
					 c->path, rt->line, rt->col, pfx);
				return -1;
			}
			nhv = DP_NHV(DP_NHV_GW, (uint32_t)nh);
		} else {
			nhv = DP_NHV(DP_NHV_CONN, (uint32_t)rt->port);
		}
		unsigned fi = rt->dst.family == 4 ? 0 : 1;
		if (rt->dst.plen == 0) {
			if (def[fi]) {
				snprintf(err, errlen, "%s:%d:%d: route to %s duplicates an earlier route",
					 c->path, rt->line, rt->col, pfx);
				return -1;
			}
			def[fi] = true;
			for (unsigned half = 0; half < 2; half++) {
				uint8_t a[16] = { (uint8_t)(half << 7) };
				uint32_t old;
				int present = fi == 0
					? rte_lpm_is_rule_present(dp->lpm4, be32(a), 1, &old)
					: rte_lpm6_is_rule_present(dp->lpm6, a, 1, &old);
				if (present == 1)
					continue; /* the config's /1 */
				int rc = fi == 0 ? add4(dp, a, 1, nhv, true, err, errlen)
						 : add6(dp, a, 1, nhv, true, err, errlen);
				if (rc < 0)
					return -1;
				def_half[fi][half] = true;
			}
			continue;
		}
		uint32_t old;
		int present = rt->dst.family == 4
			? rte_lpm_is_rule_present(dp->lpm4, be32(rt->dst.addr), rt->dst.plen, &old)
			: rte_lpm6_is_rule_present(dp->lpm6, rt->dst.addr, rt->dst.plen, &old);
		if (present == 1 && rt->dst.plen == 1 && def_half[fi][rt->dst.addr[0] >> 7]) {
			def_half[fi][rt->dst.addr[0] >> 7] = false; /* replaces the default's half */
			present = 0;
		}
		if (present == 1) {
			snprintf(err, errlen,
				 "%s:%d:%d: route to %s duplicates an earlier route or a port's "
				 "own address/subnet", c->path, rt->line, rt->col, pfx);
			return -1;
		}
		int rc = rt->dst.family == 4
			? add4(dp, rt->dst.addr, rt->dst.plen, nhv, true, err, errlen)
			: add6(dp, rt->dst.addr, rt->dst.plen, nhv, true, err, errlen);
		if (rc < 0)
			return -1;
	}
	return 0;
}

void dp_routes_free(struct dp_ctx *dp)
{
	rte_lpm_free(dp->lpm4);
	rte_lpm6_free(dp->lpm6);
	dp->lpm4 = NULL;
	dp->lpm6 = NULL;
}
