/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cbgen: ClassBench-like rules and packets (see cbgen.h). The trunks are
 * /16 networks inside 10.0.0.0/8 and 172.16.0.0/12; packets that should
 * match nothing come from 100.64.0.0/10, where no prefix grows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbgen.h"

#define N_TRUNKS 64

static uint32_t rnd(struct cbgen *g)
{
	uint64_t x = g->state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	g->state = x;
	return (uint32_t)(x >> 11);
}

static uint32_t trunk(struct cbgen *g, unsigned i)
{
	/* deterministic per index: 10.x.0.0/16 or 172.(16+y).x.0/24-ish */
	(void)g;
	return i % 2 ? (10u << 24) | ((i * 37u) & 0xff) << 16 : (172u << 24) | ((16u + i % 16) << 16) | ((i * 11u) & 0xff) << 8;
}

static void prefix(struct cbgen *g, uint32_t *a, uint8_t *plen)
{
	uint32_t base = trunk(g, rnd(g) % N_TRUNKS);
	unsigned r = rnd(g) % 100;
	uint8_t pl = r < 30 ? 24 : r < 55 ? 32 : r < 70 ? (uint8_t)(16 + rnd(g) % 8) : (uint8_t)(25 + rnd(g) % 7);
	uint32_t mask = pl ? ~0u << (32 - pl) : 0;
	uint32_t fill = rnd(g) & 0xffff;
	*a = (base | fill) & mask;
	*plen = pl;
}

static const uint16_t well_known[] = {20, 21, 22, 23, 25, 53, 80, 110, 123, 135, 137, 139,
	143, 161, 389, 443, 445, 465, 514, 587, 636, 993, 995, 1433, 1521, 3306, 3389, 5060,
	5432, 8080, 8443};

int cbgen_rules(struct cbgen *g, uint64_t seed, uint32_t n)
{
	g->state = seed ? seed : 1;
	g->n = n;
	g->r = calloc(n ? n : 1, sizeof(*g->r));
	if (!g->r)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct cbgen_rule *r = &g->r[i];
		bool swild = rnd(g) % 100 < 10, dwild = !swild && rnd(g) % 100 < 5;
		if (!swild)
			prefix(g, &r->src, &r->splen);
		if (!dwild)
			prefix(g, &r->dst, &r->dplen);
		unsigned p = rnd(g) % 100;
		r->proto = p < 60 ? 6 : p < 85 ? 17 : p < 90 ? 1 : 0;
		r->sp_lo = 0;
		r->sp_hi = 65535;
		r->dp_lo = 0;
		r->dp_hi = 65535;
		if (r->proto == 6 || r->proto == 17) {
			unsigned d = rnd(g) % 100;
			if (d < 55 || swild || dwild) {
				r->dp_lo = r->dp_hi = d % 3 ? well_known[rnd(g) % (sizeof(well_known) / 2)]
							    : (uint16_t)(1024 + rnd(g) % 30000);
			} else if (d < 70) {
				static const uint16_t rg[][2] = {{1024, 65535}, {6000, 6063}, {8000, 8999},
					{49152, 65535}, {137, 139}};
				unsigned k = rnd(g) % 5;
				r->dp_lo = rg[k][0];
				r->dp_hi = rg[k][1];
			}
			if (rnd(g) % 100 < 10) {
				r->sp_lo = 1024;
				r->sp_hi = 65535;
			}
		}
		unsigned a = rnd(g) % 100;
		r->action = a < 45 ? 0 : a < 90 ? 1 : 2;
	}
	return 0;
}

void cbgen_free(struct cbgen *g)
{
	free(g->r);
	g->r = NULL;
	g->n = 0;
}

char *cbgen_restore_text(const struct cbgen *g, size_t *len)
{
	size_t cap = 128 + (size_t)g->n * 160, n = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	n += (size_t)snprintf(s + n, cap - n, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
	for (uint32_t i = 0; i < g->n; i++) {
		const struct cbgen_rule *r = &g->r[i];
		n += (size_t)snprintf(s + n, cap - n, "-A FORWARD");
		if (r->splen)
			n += (size_t)snprintf(s + n, cap - n, " -s %u.%u.%u.%u/%u", r->src >> 24, (r->src >> 16) & 255,
				(r->src >> 8) & 255, r->src & 255, r->splen);
		if (r->dplen)
			n += (size_t)snprintf(s + n, cap - n, " -d %u.%u.%u.%u/%u", r->dst >> 24, (r->dst >> 16) & 255,
				(r->dst >> 8) & 255, r->dst & 255, r->dplen);
		if (r->proto)
			n += (size_t)snprintf(s + n, cap - n, " -p %s", r->proto == 6 ? "tcp" : r->proto == 17 ? "udp" : "icmp");
		if (r->proto == 6 || r->proto == 17) {
			bool sp = r->sp_lo != 0 || r->sp_hi != 65535, dp = r->dp_lo != 0 || r->dp_hi != 65535;
			if (sp || dp)
				n += (size_t)snprintf(s + n, cap - n, " -m %s", r->proto == 6 ? "tcp" : "udp");
			if (sp)
				n += (size_t)snprintf(s + n, cap - n, " --sport %u:%u", r->sp_lo, r->sp_hi);
			if (dp && r->dp_lo == r->dp_hi)
				n += (size_t)snprintf(s + n, cap - n, " --dport %u", r->dp_lo);
			else if (dp)
				n += (size_t)snprintf(s + n, cap - n, " --dport %u:%u", r->dp_lo, r->dp_hi);
		}
		n += (size_t)snprintf(s + n, cap - n, "%s\n", r->action == 0 ? " -j ACCEPT" : r->action == 1 ? " -j DROP" : "");
	}
	n += (size_t)snprintf(s + n, cap - n, "COMMIT\n");
	*len = n;
	return s;
}

static void put_addr(struct rules_addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->b[0] = (uint8_t)(v >> 24);
	a->b[1] = (uint8_t)(v >> 16);
	a->b[2] = (uint8_t)(v >> 8);
	a->b[3] = (uint8_t)v;
}

static uint32_t inside(struct cbgen *g, uint32_t a, uint8_t plen)
{
	if (plen == 0)
		return (100u << 24) | (rnd(g) & 0xffffff);
	uint32_t host = plen >= 32 ? 0 : rnd(g) & (~0u >> plen);
	return a | host;
}

static void base_pkt(struct rules_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->fam = RULES_F_V4;
	p->l4 = 1;
	p->ttl = 63;
	p->len = 60;
	p->in_port = 0;
	p->out_port = 1;
	p->ct_state = RULES_CT_UNTRACKED;
	p->tcp_flags = 0x02;
}

void cbgen_packet_in(struct cbgen *g, uint32_t i, struct rules_pkt *p)
{
	const struct cbgen_rule *r = &g->r[i];
	base_pkt(p);
	put_addr(&p->src, inside(g, r->src, r->splen));
	put_addr(&p->dst, inside(g, r->dst, r->dplen));
	p->proto = r->proto ? r->proto : 6;
	p->sport = (uint16_t)(r->sp_lo + rnd(g) % ((uint32_t)r->sp_hi - r->sp_lo + 1));
	p->dport = (uint16_t)(r->dp_lo + rnd(g) % ((uint32_t)r->dp_hi - r->dp_lo + 1));
	if (p->proto == 1)
		p->icmp_type = 8;
}

void cbgen_packet_miss(struct cbgen *g, struct rules_pkt *p)
{
	base_pkt(p);
	put_addr(&p->src, (100u << 24) | (64u << 16) | (rnd(g) & 0x3fffff));
	put_addr(&p->dst, (100u << 24) | (96u << 16) | (rnd(g) & 0x1fffff));
	p->proto = rnd(g) % 2 ? 6 : 17;
	p->sport = (uint16_t)(1024 + rnd(g) % 60000);
	p->dport = (uint16_t)(rnd(g) % 65536);
}
