/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nat: NAT bindings and header rewriting on synthetic packets:
 * minimal mangling (port kept, address changed before a port), exhaustion
 * of a small range (dropped and counted, nothing corrupted, reuse after the
 * connection goes), per-worker port shares, persistent and random modes,
 * DNAT, incremental checksums against full recomputation on random
 * packets (IPv4/IPv6, TCP/UDP/ICMP/UDP-Lite), zero UDP checksums,
 * ICMP errors, SCTP's ports with its CRC32c computed again.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ct_help.h"
#include "nat.h"

static struct ct_params par;
static struct ct_table *T;
static uint32_t now = 1000;
static struct nat_stats ST;
static const struct nat_share ONE = {.id = 0, .n = 1};
static uint64_t sm_slots[1024];
static struct nat_srcmap SM0 = {.slot = sm_slots, .mask = 1023};
static struct nat_srcmap *SM = &SM0;
static const struct nat_rss *RSS; /* the replies' port hash, NULL: none */

static void *zalloc64(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (p)
		memset(p, 0, n);
	return p;
}

static int setup(void **st)
{
	(void)st;
	ct_params_default(&par);
	par.max = 4096;
	par.max6 = 4096;
	T = ct_table_create(&par, now, zalloc64, free);
	memset(&ST, 0, sizeof(ST));
	memset(sm_slots, 0, sizeof(sm_slots));
	RSS = NULL;
	return T ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	ct_table_destroy(T);
	return 0;
}

/* ---- packets ---- */

struct pk {
	uint8_t b[512];
	uint32_t l3len;
	struct ct_pkt p;
};

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static void p16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fix(struct pk *k);

/* An ICMP error from s to d quoting qlen bytes of q, its checksums right
 * and its tracker view filled; returns the ICMP header. */
static uint8_t *icmp4_err_pk(struct pk *e, const char *s, const char *d, uint8_t type, uint8_t code,
	const uint8_t *q, uint32_t qlen)
{
	memset(e, 0, sizeof(*e));
	e->b[0] = 0x45;
	e->b[8] = 64;
	e->b[9] = 1;
	inet_pton(AF_INET, s, e->b + 12);
	inet_pton(AF_INET, d, e->b + 16);
	uint8_t *ic = e->b + 20;
	ic[0] = type;
	ic[1] = code;
	memcpy(ic + 8, q, qlen);
	e->l3len = 20 + 8 + qlen;
	e->b[2] = (uint8_t)(e->l3len >> 8);
	e->b[3] = (uint8_t)e->l3len;
	fix(e);
	e->p.t.fam = 4;
	e->p.t.proto = 1;
	memcpy(e->p.t.src, e->b + 12, 4);
	memcpy(e->p.t.dst, e->b + 16, 4);
	e->p.t.dport = (uint16_t)(type << 8 | code);
	e->p.icmp_type = type;
	e->p.icmp_code = code;
	e->p.icmp_err = 1;
	e->p.l3 = e->b;
	e->p.l4 = ic;
	e->p.l4_len = e->p.l4_cap = 8 + qlen;
	e->p.len = e->l3len;
	e->p.l4_ok = 1;
	return ic;
}

/* the full checksums, from scratch */
static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}
static uint64_t sum(const uint8_t *b, uint32_t n)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += g16(b + i);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}
static bool v6(const struct pk *k)
{
	return (k->b[0] >> 4) == 6;
}
static uint32_t hl(const struct pk *k)
{
	return v6(k) ? 40 : (uint32_t)(k->b[0] & 15) * 4;
}
static uint8_t proto(const struct pk *k)
{
	return v6(k) ? k->b[6] : k->b[9];
}
static uint64_t pseudo(const struct pk *k, uint32_t l4len)
{
	if (v6(k))
		return sum(k->b + 8, 32) + l4len + proto(k);
	return sum(k->b + 12, 8) + l4len + proto(k);
}
static uint16_t l4_csum_field(const struct pk *k)
{
	const uint8_t *l4 = k->b + hl(k);
	switch (proto(k)) {
	case 6: return 16;
	case 17: case 136: case 33: return 6; /* UDP, UDP-Lite, DCCP */
	default: return 2;
	}
	(void)l4;
}
/* set every checksum right */
static void fix(struct pk *k)
{
	uint32_t h = hl(k), l4len = k->l3len - h;
	uint8_t *l4 = k->b + h;
	if (!v6(k)) {
		p16(k->b + 10, 0);
		p16(k->b + 10, (uint16_t)~fold(sum(k->b, h)));
	}
	uint16_t f = l4_csum_field(k);
	p16(l4 + f, 0);
	uint64_t s = sum(l4, l4len);
	if (proto(k) != 1)
		s += pseudo(k, l4len);
	uint16_t c = (uint16_t)~fold(s);
	if (proto(k) == 17 && c == 0)
		c = 0xffff;
	p16(l4 + f, c);
}
static bool csum_ok(const struct pk *k)
{
	uint32_t h = hl(k), l4len = k->l3len - h;
	const uint8_t *l4 = k->b + h;
	if (!v6(k) && fold(sum(k->b, h)) != 0xffff)
		return false;
	if (proto(k) == 17 && !v6(k) && g16(l4 + 6) == 0)
		return true;
	uint64_t s = sum(l4, l4len);
	if (proto(k) != 1)
		s += pseudo(k, l4len);
	return fold(s) == 0xffff;
}

static void build(struct pk *k, int fam, const char *s, const char *d, uint8_t pr, uint16_t sp,
	uint16_t dp, uint32_t payload)
{
	memset(k, 0, sizeof(*k));
	uint8_t *b = k->b;
	uint32_t h = fam == 4 ? 20 : 40;
	uint32_t l4 = pr == 6 ? 20 : pr == 33 ? 12 : 8;
	k->l3len = h + l4 + payload;
	if (fam == 4) {
		b[0] = 0x45;
		p16(b + 2, (uint16_t)k->l3len);
		b[8] = 64;
		b[9] = pr;
		inet_pton(AF_INET, s, b + 12);
		inet_pton(AF_INET, d, b + 16);
		memcpy(k->p.t.src, b + 12, 4);
		memcpy(k->p.t.dst, b + 16, 4);
	} else {
		b[0] = 0x60;
		p16(b + 4, (uint16_t)(l4 + payload));
		b[6] = pr;
		b[7] = 64;
		inet_pton(AF_INET6, s, b + 8);
		inet_pton(AF_INET6, d, b + 24);
		memcpy(k->p.t.src, b + 8, 16);
		memcpy(k->p.t.dst, b + 24, 16);
	}
	uint8_t *t = b + h;
	for (uint32_t i = 0; i < payload; i++)
		t[l4 + i] = (uint8_t)(i * 7 + sp);
	k->p.t.fam = (uint8_t)fam;
	k->p.t.proto = pr;
	if (pr == 6 || pr == 17 || pr == 136 || pr == 33) {
		p16(t, sp);
		p16(t + 2, dp);
		k->p.t.sport = sp;
		k->p.t.dport = dp;
	}
	if (pr == 6) {
		t[12] = 5 << 4;
		t[13] = 0x02; /* SYN */
		p16(t + 14, 65535);
		k->p.tcp_flags = 0x02;
	} else if (pr == 17 || pr == 136) {
		p16(t + 4, (uint16_t)(8 + payload)); /* UDP-Lite: the coverage, all */
	} else if (pr == 33) {
		t[4] = 3;           /* data offset, in words; CsCov 0: all covered */
		t[8] = 0 << 1 | 1;  /* type REQUEST, X */
	} else { /* echo request; sp: id */
		t[0] = fam == 4 ? 8 : 128;
		p16(t + 4, sp);
		p16(t + 6, 1);
		k->p.t.sport = sp;
		k->p.t.dport = (uint16_t)(t[0] << 8);
		k->p.icmp_type = t[0];
	}
	k->p.l3 = b;
	k->p.l4 = t;
	k->p.l4_len = k->l3len - h;
	k->p.l4_cap = k->p.l4_len;
	k->p.len = k->l3len;
	k->p.l4_ok = 1;
	fix(k);
}

static struct nat_pkt npk(struct pk *k)
{
	struct nat_pkt n = {.l3 = k->b, .l4 = k->b + hl(k), .l4_cap = k->l3len - hl(k), .proto = proto(k)};
	return n;
}

static void range4(struct nat_range *rg, const char *lo, const char *hi, uint16_t plo, uint16_t phi)
{
	memset(rg, 0, sizeof(*rg));
	inet_pton(AF_INET, lo, rg->min);
	inet_pton(AF_INET, hi ? hi : lo, rg->max);
	if (plo) {
		rg->flags |= NAT_R_PROTO;
		rg->port_lo = plo;
		rg->port_hi = phi;
	}
}

/* a new connection through SNAT (or DNAT): its entry, confirmed; CT_NIL if
 * the binding failed */
static uint32_t open_conn(struct pk *k, enum nat_manip m, const struct nat_range *rg,
	const struct nat_share *sh, uint32_t rnd)
{
	struct ct_res r;
	ct_in(T, &k->p, ct_hash(&k->p.t), now, true, 0, &r);
	if (r.state != CT_NEW)
		fail_msg("not NEW: fam %u proto %u %u>%u", k->p.t.fam, k->p.t.proto, k->p.t.sport, k->p.t.dport);
	assert_true(r.fresh);
	if (!nat_bind(T, &r, m, rg, sh, SM, RSS, rnd, &ST)) {
		ct_abort(T);
		return CT_NIL;
	}
	ct_confirm(T, &r);
	assert_int_not_equal(r.idx, CT_NIL);
	return r.idx;
}

static void reply_tuple(uint32_t idx, struct ct_tuple *k)
{
	ct_entry_tuple(T, idx, 1, k);
}

static uint32_t a4(const char *s)
{
	uint32_t a;
	inet_pton(AF_INET, s, &a);
	return a;
}

/* live SNAT connections the table counts for a public address */
static uint64_t natc_get(const char *addr, uint8_t proto)
{
	uint8_t a[16] = {0};
	inet_pton(AF_INET, addr, a);
	for (unsigned k = 0; k < CT_NATC_SLOTS; k++) {
		const struct ct_natc_slot *s = &T->natc.s[k];
		if (s->used && s->proto == proto && memcmp(s->addr, a, 16) == 0)
			return s->conns;
	}
	return 0;
}

/* ---- tests ---- */

/* Zones (CT --zone): the same translated tuple in another zone is free,
 * as the kernel's nf_nat_used_tuple looks in the connection's zone: a
 * second client in zone 2 keeps the port the first one has in zone 1; a
 * third in zone 1 does not; a client's mapping is remembered per zone. */
static void test_snat_zones(void **st)
{
	(void)st;
	assert_int_equal(ct_side_enable(T, CT_SIDE_ZONES), 0);
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	struct ct_tuple r;
	static const uint16_t zones[3] = { 1, 2, 1 };
	static const char *const client[3] = { "10.0.0.2", "10.0.0.3", "10.0.0.4" };
	uint16_t port[3];
	for (int i = 0; i < 3; i++) {
		build(&k, 4, client[i], "203.0.113.9", 17, 5000, 53, 10);
		k.p.t.zo = k.p.t.zr = k.p.t.zone = zones[i];
		uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 777);
		assert_int_not_equal(idx, CT_NIL);
		reply_tuple(idx, &r);
		port[i] = r.dport;
	}
	assert_int_equal(port[0], 5000);
	assert_int_equal(port[1], 5000); /* another zone: free */
	assert_int_not_equal(port[2], 5000); /* the first one's zone: taken */
	assert_int_equal(ST.port_changed, 1);
	/* a client's mapping is its zone's (nf_nat_bysource, same_src in
	 * the zone): the third client's next connection reuses its changed
	 * port in zone 1, but in zone 2 it is a client without a mapping and
	 * keeps its own port */
	for (int z = 1; z <= 2; z++) {
		build(&k, 4, client[2], "203.0.113.10", 17, 5000, 53, 10);
		k.p.t.zo = k.p.t.zr = k.p.t.zone = (uint16_t)z;
		uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 777);
		assert_int_not_equal(idx, CT_NIL);
		reply_tuple(idx, &r);
		if (z == 1)
			assert_int_equal(r.dport, port[2]);
		else
			assert_int_equal(r.dport, 5000);
	}
}

static void test_snat_keeps_port_then_changes_it(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	build(&k, 4, "10.0.0.2", "203.0.113.9", 17, 5000, 53, 10);
	uint32_t i1 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 777);
	struct ct_tuple r;
	reply_tuple(i1, &r);
	uint32_t d;
	memcpy(&d, r.dst, 4);
	assert_int_equal(d, a4("198.51.100.1"));
	assert_int_equal(r.dport, 5000); /* minimal mangling: the port stays */
	assert_true(T->e[i1].status & CT_S_SRC_NAT);
	/* another client, same port, same server: the tuple is taken */
	build(&k, 4, "10.0.0.3", "203.0.113.9", 17, 5000, 53, 10);
	uint32_t i2 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 777);
	reply_tuple(i2, &r);
	assert_int_not_equal(r.dport, 5000);
	assert_true(r.dport >= 1024); /* the port's class: >= 1024 */
	assert_int_equal(ST.port_changed, 1);
	/* privileged ports stay privileged (< 512, 600-1023) */
	build(&k, 4, "10.0.0.4", "203.0.113.9", 17, 5000, 53, 10);
	build(&k, 4, "10.0.0.5", "203.0.113.9", 6, 700, 22, 0);
	uint32_t i3 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 5);
	build(&k, 4, "10.0.0.6", "203.0.113.9", 6, 700, 22, 0);
	uint32_t i4 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 5);
	reply_tuple(i3, &r);
	assert_int_equal(r.dport, 700);
	reply_tuple(i4, &r);
	assert_true(r.dport >= 600 && r.dport <= 1023 && r.dport != 700);
	/* the reply finds the connection through the translated tuple */
	build(&k, 4, "203.0.113.9", "198.51.100.1", 17, 53, 5000, 4);
	struct ct_res res;
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &res);
	assert_int_equal(res.idx, i1);
	assert_int_equal(res.dir, 1);
	assert_int_equal(res.state, CT_ESTABLISHED);
}

/* one client endpoint, one mapping: its next connection reuses the
 * mapping its first one got, even when that changed the port */
static void test_endpoint_mapping(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	build(&k, 4, "10.0.0.2", "203.0.113.9", 17, 5000, 53, 0);
	open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	build(&k, 4, "10.0.0.3", "203.0.113.9", 17, 5000, 53, 0);
	uint32_t a = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 12345);
	struct ct_tuple ra, rb;
	reply_tuple(a, &ra);
	assert_int_not_equal(ra.dport, 5000);
	/* 10.0.0.3:5000 to another server: the same outside port */
	build(&k, 4, "10.0.0.3", "203.0.113.10", 17, 5000, 53, 0);
	uint32_t b = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 999);
	reply_tuple(b, &rb);
	assert_int_equal(rb.dport, ra.dport);
	/* without the cache, the free original port */
	SM = NULL;
	build(&k, 4, "10.0.0.3", "203.0.113.11", 17, 5000, 53, 0);
	uint32_t c = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 999);
	reply_tuple(c, &rb);
	assert_int_equal(rb.dport, 5000);
	SM = &SM0;
	/* --random: never the endpoint's mapping nor its port */
	rg.flags |= NAT_R_RANDOM;
	build(&k, 4, "10.0.0.3", "203.0.113.12", 17, 5000, 53, 0);
	uint32_t d = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 4242);
	reply_tuple(d, &rb);
	assert_int_not_equal(rb.dport, ra.dport);
}

static void test_exhaustion_and_reuse(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 1000, 1003);
	uint32_t idx[4];
	uint16_t seen = 0;
	for (int i = 0; i < 4; i++) {
		build(&k, 4, "10.0.0.2", "203.0.113.9", 6, (uint16_t)(40000 + i), 80, 0);
		idx[i] = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, (uint32_t)i * 13);
		assert_int_not_equal(idx[i], CT_NIL);
		struct ct_tuple r;
		reply_tuple(idx[i], &r);
		assert_true(r.dport >= 1000 && r.dport <= 1003);
		assert_false(seen & (1u << (r.dport - 1000)));
		seen |= (uint16_t)(1u << (r.dport - 1000));
	}
	assert_int_equal(T->live, 4);
	uint64_t base = natc_get("198.51.100.1", 6);
	assert_true(base >= 4);
	/* the fifth: no tuple left; dropped and counted, nothing changed */
	build(&k, 4, "10.0.0.2", "203.0.113.9", 6, 40009, 80, 0);
	assert_int_equal(open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 3), CT_NIL);
	assert_int_equal(ST.alloc_fail, 1);
	assert_int_equal(T->live, 4);
	/* the same destination port elsewhere is another tuple: it fits */
	build(&k, 4, "10.0.0.2", "203.0.113.10", 6, 40009, 80, 0);
	assert_int_not_equal(open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 3), CT_NIL);
	assert_int_equal(natc_get("198.51.100.1", 6), base + 1); /* counted as confirmed */
	/* one connection goes: its port is free again */
	struct ct_tuple gone;
	reply_tuple(idx[2], &gone);
	ct_kill(T, idx[2]);
	assert_int_equal(natc_get("198.51.100.1", 6), base); /* and uncounted as it dies */
	build(&k, 4, "10.0.0.2", "203.0.113.9", 6, 40010, 80, 0);
	uint32_t n = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 99);
	assert_int_not_equal(n, CT_NIL);
	struct ct_tuple r;
	reply_tuple(n, &r);
	assert_int_equal(r.dport, gone.dport);
}

static void test_shares_are_disjoint(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	struct nat_share w1 = {.id = 1, .n = 2};
	for (int i = 0; i < 200; i++) {
		/* worker 1 of 2 owns the ports p with (p + 53) odd: the reply
		 * from port 53 names its owner (nat_owner) */
		uint16_t sp = (uint16_t)(20000 + i);
		build(&k, 4, "10.0.0.2", "203.0.113.9", 17, sp, 53, 0);
		uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &w1, (uint32_t)i * 7919u);
		struct ct_tuple r;
		reply_tuple(idx, &r);
		assert_int_equal(nat_owner(17, r.sport, r.dport, 0, 2), 1);
		if ((sp + 53) % 2 == 1)
			assert_int_equal(r.dport, sp); /* its own: kept */
		else
			assert_int_not_equal(r.dport, sp);
	}
	/* the same for the ids of pings */
	build(&k, 4, "10.0.0.2", "203.0.113.9", 1, 100, 0, 8);
	uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &w1, 3);
	struct ct_tuple r;
	reply_tuple(idx, &r);
	assert_int_equal(nat_owner(1, r.sport, 0, 0, 2), 1);
	/* a range of one port: the worker it belongs to for this server
	 * port translates, the other cannot (dropped and counted) */
	range4(&rg, "198.51.100.2", NULL, 7000, 7000);
	build(&k, 4, "10.0.0.9", "203.0.113.9", 17, 1234, 53, 0); /* 7000 + 53: odd */
	idx = open_conn(&k, NAT_MANIP_SRC, &rg, &w1, 1);
	reply_tuple(idx, &r);
	assert_int_equal(r.dport, 7000);
	uint64_t fails = ST.alloc_fail;
	build(&k, 4, "10.0.0.9", "203.0.113.9", 17, 1234, 54, 0); /* 7000 + 54: even */
	assert_int_equal(open_conn(&k, NAT_MANIP_SRC, &rg, &w1, 1), CT_NIL);
	assert_int_equal(ST.alloc_fail, fails + 1);
}

/* ---- receive-side scaling ---- */

/* Toeplitz, the textbook way (a bit at a time), to check nat_rss against */
static uint32_t toeplitz(const uint8_t *key, const uint8_t *in, unsigned n)
{
	uint32_t h = 0;
	for (unsigned i = 0; i < n * 8; i++) {
		if (!(in[i / 8] & (0x80 >> (i % 8))))
			continue;
		uint32_t w = 0;
		for (unsigned j = 0; j < 32; j++)
			w = w << 1 | ((key[(i + j) / 8] >> (7 - (i + j) % 8)) & 1);
		h ^= w;
	}
	return h;
}

static uint32_t toeplitz_tuple(const uint8_t *key, const struct ct_tuple *t)
{
	uint8_t in[36];
	unsigned a = t->fam == 4 ? 4 : 16;
	memcpy(in, t->src, a);
	memcpy(in + a, t->dst, a);
	p16(in + 2 * a, t->sport);
	p16(in + 2 * a + 2, t->dport);
	return toeplitz(key, in, 2 * a + 4);
}

/* The verification suite of Microsoft's RSS specification (the key and
 * the TCP 4-tuple hashes it publishes), through nat_rss and the
 * reference above. */
static void test_rss_hash_vectors(void **st)
{
	(void)st;
	static const uint8_t ms_key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa
	};
	static const struct {
		int fam;
		const char *src, *dst;
		uint16_t sport, dport;
		uint32_t hash;
	} v[] = {
		{ 4, "66.9.149.187", "161.142.100.80", 2794, 1766, 0x51ccc178 },
		{ 4, "199.92.111.2", "65.69.140.83", 14230, 4739, 0xc626b0ea },
		{ 4, "24.19.198.95", "12.22.207.184", 12898, 38024, 0x5c2b394a },
		{ 4, "38.27.205.30", "209.142.163.6", 48228, 2217, 0xafc7327f },
		{ 4, "153.39.163.191", "202.188.127.2", 44251, 1303, 0x10e828a2 },
		{ 6, "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766, 0x40207d3d },
		{ 6, "3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739, 0xdde51bbf },
		{ 6, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf", 44251,
		  38024, 0x02d1feef },
	};
	static struct nat_rss r;
	uint16_t reta[128];
	for (unsigned i = 0; i < 128; i++)
		reta[i] = (uint16_t)(i % 4);
	assert_int_equal(nat_rss_init(&r, ms_key, 40, reta, 128, NAT_RSS_TCP4 | NAT_RSS_TCP6), 0);
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ct_tuple t;
		memset(&t, 0, sizeof(t));
		t.fam = (uint8_t)v[i].fam;
		inet_pton(v[i].fam == 4 ? AF_INET : AF_INET6, v[i].src, t.src);
		inet_pton(v[i].fam == 4 ? AF_INET : AF_INET6, v[i].dst, t.dst);
		t.sport = v[i].sport;
		t.dport = v[i].dport;
		assert_int_equal(nat_rss_hash(&r, t.fam, t.src, t.dst, t.sport, t.dport), v[i].hash);
		assert_int_equal(toeplitz_tuple(ms_key, &t), v[i].hash);
	}
	assert_true(nat_rss_covers(&r, 4, 6));
	assert_false(nat_rss_covers(&r, 4, 17));
	assert_false(nat_rss_covers(&r, 6, 1));
	assert_false(nat_rss_covers(NULL, 4, 6));
	/* what cannot be modelled is refused */
	assert_int_equal(nat_rss_init(&r, ms_key, 39, reta, 128, NAT_RSS_TCP4), -1);
	assert_int_equal(nat_rss_init(&r, ms_key, 40, reta, 100, NAT_RSS_TCP4), -1);
	assert_int_equal(nat_rss_init(&r, ms_key, 40, reta, 0, NAT_RSS_TCP4), -1);
}

/* rampartd's symmetric key (port.c) */
static void sym_key(uint8_t *key)
{
	for (unsigned i = 0; i < 40; i += 2) {
		key[i] = 0x6d;
		key[i + 1] = 0x5a;
	}
}

/* With the NIC's hash known, every source binding of worker id of n gets a
 * port whose reply the NIC hands to that worker (checked with the
 * reference Toeplitz and the redirection table) and that is in its share
 * (nat_owner agrees), for TCP and UDP, IPv4 and IPv6, several workers. */
static void test_rss_steered_ports(void **st)
{
	(void)st;
	static struct nat_rss r;
	uint8_t key[40];
	sym_key(key);
	for (unsigned n = 2; n <= 4; n++) {
		uint16_t reta[128];
		for (unsigned i = 0; i < 128; i++)
			reta[i] = (uint16_t)(i % n);
		assert_int_equal(nat_rss_init(&r, key, 40, reta, 128,
					      NAT_RSS_TCP4 | NAT_RSS_UDP4 | NAT_RSS_TCP6 |
						      NAT_RSS_UDP6),
				 0);
		RSS = &r;
		for (unsigned id = 0; id < n; id++) {
			struct nat_share sh = {.id = (uint16_t)id, .n = (uint16_t)n};
			uint64_t steered = ST.rss_steered;
			for (int i = 0; i < 120; i++) {
				struct pk k;
				struct nat_range rg;
				int fam = i % 3 == 2 ? 6 : 4;
				uint8_t pr = i % 2 ? 6 : 17;
				uint16_t sp = (uint16_t)(20000 + (int)n * 5000 + i * 13 + (int)id * 3);
				if (fam == 4) {
					range4(&rg, "198.51.100.1", NULL, 0, 0);
					build(&k, 4, "10.0.0.2", "203.0.113.9", pr, sp,
					      (uint16_t)(80 + n), 0);
				} else {
					memset(&rg, 0, sizeof(rg));
					inet_pton(AF_INET6, "2001:db8:1::1", rg.min);
					memcpy(rg.max, rg.min, 16);
					build(&k, 6, "fd00::2", "2001:db8:2::9", pr, sp,
					      (uint16_t)(80 + n), 0);
				}
				uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &sh,
							 (uint32_t)i * 2654435761u);
				assert_int_not_equal(idx, CT_NIL);
				struct ct_tuple rep;
				reply_tuple(idx, &rep);
				assert_int_equal(reta[toeplitz_tuple(key, &rep) & 127], id);
				assert_int_equal(nat_owner(pr, rep.sport, rep.dport, 0, n), (int)id);
			}
			assert_int_equal(ST.rss_steered - steered, 120);
		}
	}
	assert_int_equal(ST.rss_unsteered, 0);
	assert_int_equal(ST.alloc_fail, 0);
	/* ICMP echo is hashed on addresses only: nothing to steer, not
	 * counted either way */
	struct pk k;
	struct nat_range rg;
	struct nat_share sh = {.id = 1, .n = 2};
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	build(&k, 4, "10.0.0.2", "203.0.113.9", 1, 77, 0, 8);
	uint64_t before = ST.rss_steered + ST.rss_unsteered;
	assert_int_not_equal(open_conn(&k, NAT_MANIP_SRC, &rg, &sh, 5), CT_NIL);
	assert_int_equal(ST.rss_steered + ST.rss_unsteered, before);
}

/* When no steered port is free the binding still succeeds with any port
 * of the share (the hand-off carries its replies), counted as unsteered;
 * a redirection table that never names the worker steers nothing. */
static void test_rss_fallback(void **st)
{
	(void)st;
	static struct nat_rss r;
	uint8_t key[40];
	sym_key(key);
	uint16_t reta[128];
	for (unsigned i = 0; i < 128; i++)
		reta[i] = (uint16_t)(i % 2);
	assert_int_equal(nat_rss_init(&r, key, 40, reta, 128, NAT_RSS_UDP4), 0);
	RSS = &r;
	struct nat_share sh = {.id = 0, .n = 2};
	struct nat_range rg;
	/* 16 ports, 8 of them worker 0's share, some of those steered to it */
	range4(&rg, "198.51.100.7", NULL, 5000, 5015);
	unsigned ok = 0;
	for (int i = 0; i < 12; i++) {
		struct pk k;
		build(&k, 4, "10.0.0.3", "203.0.113.9", 17, (uint16_t)(40000 + i), 53, 0);
		if (open_conn(&k, NAT_MANIP_SRC, &rg, &sh, (uint32_t)i) != CT_NIL)
			ok++;
	}
	assert_int_equal(ok, 8); /* the whole share, then exhaustion */
	assert_int_equal(ST.alloc_fail, 4);
	assert_true(ST.rss_steered >= 1);
	assert_true(ST.rss_unsteered >= 1);
	assert_int_equal(ST.rss_steered + ST.rss_unsteered, 8);
	/* every entry of the table on queue 1: worker 0 is never steered to */
	for (unsigned i = 0; i < 128; i++)
		reta[i] = 1;
	assert_int_equal(nat_rss_init(&r, key, 40, reta, 128, NAT_RSS_UDP4), 0);
	range4(&rg, "198.51.100.8", NULL, 0, 0);
	uint64_t un = ST.rss_unsteered;
	for (int i = 0; i < 10; i++) {
		struct pk k;
		build(&k, 4, "10.0.0.4", "203.0.113.9", 17, (uint16_t)(41000 + i), 53, 0);
		assert_int_not_equal(open_conn(&k, NAT_MANIP_SRC, &rg, &sh, (uint32_t)i), CT_NIL);
	}
	assert_int_equal(ST.rss_unsteered, un + 10);
	/* TCP is not in the hashed flows: not steered, not counted */
	struct pk k;
	build(&k, 4, "10.0.0.4", "203.0.113.9", 6, 42000, 443, 0);
	assert_int_not_equal(open_conn(&k, NAT_MANIP_SRC, &rg, &sh, 1), CT_NIL);
	assert_int_equal(ST.rss_unsteered, un + 10);
}

static void test_addresses_before_ports(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", "198.51.100.3", 0, 0);
	uint32_t used_addrs = 0;
	for (int i = 0; i < 3; i++) {
		build(&k, 4, i == 0 ? "10.0.0.2" : i == 1 ? "10.0.0.3" : "10.0.0.4", "203.0.113.9", 17,
			5000, 53, 0);
		uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
		struct ct_tuple r;
		reply_tuple(idx, &r);
		assert_int_equal(r.dport, 5000);
		used_addrs |= 1u << (r.dst[3] - 1);
	}
	assert_int_equal(used_addrs, 7); /* each address once, no port changed */
	assert_int_equal(ST.port_changed, 0);
	/* the fourth must change its port */
	build(&k, 4, "10.0.0.5", "203.0.113.9", 17, 5000, 53, 0);
	uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	struct ct_tuple r;
	reply_tuple(idx, &r);
	assert_int_not_equal(r.dport, 5000);
}

static void test_persistent_and_random(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.0", "198.51.100.255", 0, 0);
	/* persistent: one client, one address, whatever the server */
	rg.flags |= NAT_R_PERSISTENT;
	uint8_t first = 0;
	for (int i = 0; i < 20; i++) {
		char dst[32];
		snprintf(dst, sizeof(dst), "203.0.113.%d", i + 1);
		build(&k, 4, "10.0.0.2", dst, 17, 5000, 53, 0);
		uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
		struct ct_tuple r;
		reply_tuple(idx, &r);
		if (i == 0)
			first = r.dst[3];
		assert_int_equal(r.dst[3], first);
	}
	/* random-fully: the port changes although it is free */
	range4(&rg, "198.51.100.7", NULL, 0, 0);
	rg.flags |= NAT_R_RANDOM_FULLY;
	int changed = 0;
	for (int i = 0; i < 10; i++) {
		build(&k, 4, "10.0.1.2", "203.0.113.77", 17, (uint16_t)(6000 + i), 53, 0);
		uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, (uint32_t)(i * 40503 + 17));
		struct ct_tuple r;
		reply_tuple(idx, &r);
		changed += r.dport != 6000 + i;
	}
	assert_true(changed >= 9);
}

/* A client reaching the backend directly while its translated connection
 * lives: the new connection's reply tuple is the translated one's. Without
 * the null binding (dp_nat_step: no nat table, or a protocol without
 * ports), a clash at confirm (the kernel's insert failure): the packet
 * dropped, insert_failed counted, the first connection untouched. Once it
 * has expired (not reaped yet), the direct connection is made. With the
 * null binding, another source port; with no ports to change, the null
 * binding fails without counting an allocation failure. */
static void test_clash_with_translated(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "192.168.1.10", NULL, 8080, 8080);
	build(&k, 4, "203.0.113.9", "198.51.100.1", 6, 41000, 80, 0);
	uint32_t idx = open_conn(&k, NAT_MANIP_DST, &rg, &ONE, 5);
	build(&k, 4, "203.0.113.9", "192.168.1.10", 6, 41000, 8080, 0);
	struct ct_res r;
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_NEW);
	uint64_t failed = T->st.insert_failed;
	uint32_t live = T->live;
	assert_false(ct_confirm(T, &r));
	assert_int_equal(r.idx, CT_NIL);
	assert_int_equal(T->st.insert_failed, failed + 1);
	assert_int_equal(T->live, live);
	assert_true(ct_entry_live(T, idx));
	/* the null binding: the same address, another source port */
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_true(ct_reply_taken(T, &r));
	struct nat_range nul;
	range4(&nul, "203.0.113.9", NULL, 0, 0);
	nul.flags = NAT_R_NULL;
	assert_true(nat_bind(T, &r, NAT_MANIP_SRC, &nul, &ONE, SM, RSS, 77, &ST));
	struct ct_tuple rt;
	reply_tuple(r.idx, &rt);
	assert_int_not_equal(rt.dport, 41000);
	assert_true(rt.dport >= 1024);
	assert_false(ct_reply_taken(T, &r));
	assert_true(ct_confirm(T, &r));
	uint32_t direct = r.idx;
	assert_int_not_equal(direct, CT_NIL);
	ct_kill(T, direct);
	now += 200 * CT_HZ; /* the SYN_SENT connection timed out, not reaped */
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_NEW);
	assert_true(ct_confirm(T, &r));
	assert_int_not_equal(r.idx, CT_NIL);
	assert_false(ct_entry_live(T, idx));
	/* a protocol without ports (GRE): nothing the null binding can
	 * change; no allocation failure counted, the clash at confirm */
	range4(&rg, "192.168.1.10", NULL, 0, 0);
	build(&k, 4, "203.0.113.9", "198.51.100.1", 47, 0, 0, 0);
	uint32_t g = open_conn(&k, NAT_MANIP_DST, &rg, &ONE, 5);
	build(&k, 4, "203.0.113.9", "192.168.1.10", 47, 0, 0, 0);
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_NEW);
	assert_true(ct_reply_taken(T, &r));
	uint64_t af = ST.alloc_fail;
	failed = T->st.insert_failed;
	assert_false(nat_bind(T, &r, NAT_MANIP_SRC, &nul, &ONE, SM, RSS, 77, &ST));
	assert_int_equal(ST.alloc_fail, af);
	assert_false(ct_confirm(T, &r));
	assert_int_equal(T->st.insert_failed, failed + 1);
	assert_true(ct_entry_live(T, g));
}

static void test_dnat_and_packet_rewrite(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "192.168.1.10", NULL, 8080, 8080);
	build(&k, 4, "203.0.113.9", "198.51.100.1", 6, 41000, 80, 0);
	uint32_t idx = open_conn(&k, NAT_MANIP_DST, &rg, &ONE, 5);
	struct ct_tuple r;
	reply_tuple(idx, &r);
	uint32_t s;
	memcpy(&s, r.src, 4);
	assert_int_equal(s, a4("192.168.1.10"));
	assert_int_equal(r.sport, 8080);
	assert_true(T->e[idx].status & CT_S_DST_NAT);
	assert_false(nat_needed(&T->e[idx], 0, NAT_MANIP_SRC));
	assert_true(nat_needed(&T->e[idx], 0, NAT_MANIP_DST));
	assert_true(nat_needed(&T->e[idx], 1, NAT_MANIP_SRC));
	/* the original packet at PREROUTING: to 192.168.1.10:8080 */
	struct nat_pkt n = npk(&k);
	nat_manip_packet(T, idx, 0, NAT_MANIP_DST, &n);
	uint32_t d;
	memcpy(&d, k.b + 16, 4);
	assert_int_equal(d, a4("192.168.1.10"));
	assert_int_equal(g16(k.b + 22), 8080);
	assert_true(csum_ok(&k));
	/* the server's reply at POSTROUTING: from 198.51.100.1:80 again */
	build(&k, 4, "192.168.1.10", "203.0.113.9", 6, 8080, 41000, 30);
	struct ct_res res;
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &res);
	assert_int_equal(res.idx, idx);
	assert_int_equal(res.dir, 1);
	n = npk(&k);
	nat_manip_packet(T, idx, 1, NAT_MANIP_SRC, &n);
	memcpy(&s, k.b + 12, 4);
	assert_int_equal(s, a4("198.51.100.1"));
	assert_int_equal(g16(k.b + 20), 80);
	assert_true(csum_ok(&k));
	/* DNAT with the port unchanged to a backend whose reply tuple is
	 * taken: the destination binding keeps it (the kernel's
	 * get_unique_tuple never fails a destination); the null binding
	 * that follows gives the connection another source port */
	range4(&rg, "192.168.1.11", NULL, 0, 0);
	build(&k, 4, "203.0.113.9", "198.51.100.1", 17, 41000, 53, 0);
	uint32_t a = open_conn(&k, NAT_MANIP_DST, &rg, &ONE, 5);
	reply_tuple(a, &r);
	assert_int_equal(r.sport, 53);
	build(&k, 4, "203.0.113.9", "198.51.100.2", 17, 41000, 53, 0);
	struct ct_res c;
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &c);
	assert_true(nat_bind(T, &c, NAT_MANIP_DST, &rg, &ONE, SM, RSS, 5, &ST));
	assert_int_equal(ST.alloc_fail, 0);
	reply_tuple(c.idx, &r);
	memcpy(&s, r.src, 4);
	assert_int_equal(s, a4("192.168.1.11"));
	assert_int_equal(r.sport, 53);
	assert_int_equal(r.dport, 41000);
	assert_true(ct_reply_taken(T, &c));
	struct nat_range nul;
	range4(&nul, "203.0.113.9", NULL, 0, 0);
	nul.flags = NAT_R_NULL;
	uint64_t changed = ST.port_changed;
	assert_true(nat_bind(T, &c, NAT_MANIP_SRC, &nul, &ONE, SM, RSS, 5, &ST));
	reply_tuple(c.idx, &r);
	memcpy(&s, r.dst, 4);
	assert_int_equal(s, a4("203.0.113.9")); /* the address stays */
	assert_int_not_equal(r.dport, 41000);
	assert_true(r.dport >= 1024);
	assert_int_equal(ST.port_changed, changed + 1);
	assert_true((T->e[c.idx].status & (CT_S_SRC_NAT | CT_S_DST_NAT)) ==
		    (CT_S_SRC_NAT | CT_S_DST_NAT));
	assert_false(ct_reply_taken(T, &c));
	assert_true(ct_confirm(T, &c));
	assert_int_not_equal(c.idx, CT_NIL);
	assert_int_equal(ST.alloc_fail, 0);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void test_checksums_against_recomputation(void **st)
{
	(void)st;
	static const uint8_t protos[] = {6, 17, 1, 136};
	for (int it = 0; it < 5000; it++) {
		int fam = (it & 1) ? 6 : 4;
		uint8_t pr = protos[rnd() % 4];
		if (fam == 6 && pr == 1)
			pr = 58;
		char s[64], d[64], ns[64];
		if (fam == 4) {
			snprintf(s, sizeof(s), "10.%u.%u.%u", rnd() % 256, rnd() % 256, rnd() % 256);
			snprintf(d, sizeof(d), "203.0.%u.%u", rnd() % 256, rnd() % 256);
			snprintf(ns, sizeof(ns), "198.51.%u.%u", rnd() % 256, rnd() % 256);
		} else {
			snprintf(s, sizeof(s), "fd00::%x:%x", rnd() % 65536, rnd() % 65536);
			snprintf(d, sizeof(d), "2001:db8::%x", rnd() % 65536);
			snprintf(ns, sizeof(ns), "2001:db8:ff::%x:%x", rnd() % 65536, rnd() % 65536);
		}
		struct pk k;
		build(&k, fam, s, d, pr, (uint16_t)(1 + rnd() % 65535), (uint16_t)(1 + rnd() % 65535), rnd() % 200);
		if (pr == 17 && fam == 4 && rnd() % 4 == 0) {
			p16(k.b + 26, 0); /* no UDP checksum: must stay so */
		}
		struct nat_range rg;
		memset(&rg, 0, sizeof(rg));
		inet_pton(fam == 4 ? AF_INET : AF_INET6, ns, rg.min);
		memcpy(rg.max, rg.min, 16);
		rg.flags = NAT_R_PROTO | NAT_R_RANDOM_FULLY;
		rg.port_lo = (uint16_t)(1 + rnd() % 60000);
		rg.port_hi = (uint16_t)(rg.port_lo + rnd() % 5000);
		enum nat_manip m = rnd() % 2 ? NAT_MANIP_SRC : NAT_MANIP_DST;
		uint8_t ck0[2];
		memcpy(ck0, k.b + 26, 2);
		bool zero_udp = pr == 17 && fam == 4 && g16(ck0) == 0;
		uint32_t idx = open_conn(&k, m, &rg, &ONE, rnd());
		assert_int_not_equal(idx, CT_NIL);
		struct nat_pkt n = npk(&k);
		nat_manip_packet(T, idx, 0, m, &n);
		if (!csum_ok(&k))
			fail_msg("iteration %d: fam %d proto %u manip %d: checksum wrong", it, fam, pr, m);
		if (zero_udp)
			assert_int_equal(g16(k.b + 26), 0);
		ct_kill(T, idx);
	}
}

/* CRC32c bit by bit, as RFC 9260 appendix B defines it */
static uint32_t crc32c_ref(const uint8_t *b, uint32_t n)
{
	uint32_t c = 0xffffffffu;
	for (uint32_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}
static uint32_t sctp_crc_of(const uint8_t *l4, uint32_t n)
{
	uint8_t cp[512];
	memcpy(cp, l4, n);
	memset(cp + 8, 0, 4);
	return crc32c_ref(cp, n);
}
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* an SCTP INIT from s:sp to d:dp with a right CRC32c */
static void sctp_init(struct pk *k, const char *s, const char *d, uint16_t sp, uint16_t dp)
{
	memset(k, 0, sizeof(*k));
	uint8_t *b = k->b, *t = b + 20;
	k->l3len = 20 + 12 + 20 + 37; /* an odd payload: the CRC's tail bytes */
	b[0] = 0x45;
	p16(b + 2, (uint16_t)k->l3len);
	b[8] = 64;
	b[9] = 132;
	inet_pton(AF_INET, s, b + 12);
	inet_pton(AF_INET, d, b + 16);
	p16(t, sp);
	p16(t + 2, dp);
	t[12] = 1; /* INIT, initiate tag 0x01020304 */
	p16(t + 14, 20 + 37);
	t[16] = 1, t[17] = 2, t[18] = 3, t[19] = 4;
	for (unsigned i = 32; i < k->l3len - 20; i++)
		t[i] = (uint8_t)(i * 13);
	uint32_t c = sctp_crc_of(t, k->l3len - 20);
	t[8] = (uint8_t)c, t[9] = (uint8_t)(c >> 8), t[10] = (uint8_t)(c >> 16), t[11] = (uint8_t)(c >> 24);
	k->p.t.fam = 4;
	k->p.t.proto = 132;
	memcpy(k->p.t.src, b + 12, 4);
	memcpy(k->p.t.dst, b + 16, 4);
	k->p.t.sport = sp;
	k->p.t.dport = dp;
	k->p.l3 = b;
	k->p.l4 = t;
	k->p.l4_len = k->p.l4_cap = k->l3len - 20;
	k->p.len = k->l3len;
	k->p.l4_ok = 1;
	p16(b + 10, (uint16_t)~fold(sum(b, 20)));
}

/* SCTP through SNAT: the port kept when free, moved (within its class)
 * when another client holds it, the CRC32c computed again when it moves
 * (against the bit-by-bit reference), the IPv4 header checksum right */
static void test_sctp_ports(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	uint8_t want[4];
	sctp_init(&k, "10.0.0.2", "203.0.113.9", 5000, 38412);
	nat_sctp_csum(k.p.l4, k.p.l4_len, want);
	assert_memory_equal(want, k.p.l4 + 8, 4); /* the same CRC as the reference */
	uint32_t i1 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 3);
	struct nat_pkt n = npk(&k);
	nat_manip_packet(T, i1, 0, NAT_MANIP_SRC, &n);
	assert_int_equal(g16(k.b + 20), 5000);
	assert_int_equal(le32(k.b + 28), sctp_crc_of(k.b + 20, k.l3len - 20));
	assert_int_equal(fold(sum(k.b, 20)), 0xffff);
	sctp_init(&k, "10.0.0.3", "203.0.113.9", 5000, 38412);
	uint32_t i2 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 3);
	struct ct_tuple r;
	reply_tuple(i2, &r);
	assert_int_not_equal(r.dport, 5000);
	assert_true(r.dport >= 1024);
	n = npk(&k);
	nat_manip_packet(T, i2, 0, NAT_MANIP_SRC, &n);
	assert_int_equal(g16(k.b + 20), r.dport);
	assert_int_equal(le32(k.b + 28), sctp_crc_of(k.b + 20, k.l3len - 20));
	assert_int_equal(fold(sum(k.b, 20)), 0xffff);
	/* the answer to the moved port goes back to 5000, its CRC again right */
	sctp_init(&k, "203.0.113.9", "198.51.100.1", 38412, r.dport);
	struct ct_res res;
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &res);
	assert_int_equal(res.idx, i2);
	assert_int_equal(res.dir, 1);
	n = npk(&k);
	nat_manip_packet(T, i2, 1, NAT_MANIP_DST, &n);
	assert_int_equal(g16(k.b + 22), 5000);
	assert_int_equal(le32(k.b + 28), sctp_crc_of(k.b + 20, k.l3len - 20));
	/* a CRC the reference computes for the RFC's test string */
	assert_int_equal(crc32c_ref((const uint8_t *)"123456789", 9), 0xE3069283u);
	/* a wrong CRC through a translation that keeps the port comes out
	 * right: sctp_manip_pkt computes it again whatever changed */
	sctp_init(&k, "10.0.0.2", "203.0.113.9", 5000, 38412);
	k.b[28] ^= 0x5a;
	n = npk(&k);
	nat_manip_packet(T, i1, 0, NAT_MANIP_SRC, &n);
	assert_int_equal(le32(k.b + 28), sctp_crc_of(k.b + 20, k.l3len - 20));
	/* an ICMP error quoting the moved-port packet: the quoted port back,
	 * the quoted CRC computed over the quoted bytes (the kernel's, to the
	 * end of the message), the ICMP checksum right */
	sctp_init(&k, "10.0.0.3", "203.0.113.9", 5000, 38412);
	n = npk(&k);
	nat_manip_packet(T, i2, 0, NAT_MANIP_SRC, &n);
	struct pk e;
	uint8_t *ic = icmp4_err_pk(&e, "203.0.113.9", "198.51.100.1", 3, 3, k.b, 20 + 32);
	ct_in(T, &e.p, ct_hash(&e.p.t), now, true, 0, &res);
	assert_int_equal(res.state, CT_RELATED);
	assert_int_equal(res.idx, i2);
	n = npk(&e);
	assert_true(nat_manip_icmp_error(T, i2, 1, NAT_MANIP_DST, &n, 60));
	assert_int_equal(g16(ic + 8 + 20), 5000);
	assert_int_equal(le32(ic + 8 + 28), sctp_crc_of(ic + 8 + 20, 32));
	assert_true(csum_ok(&e));
}

static void test_icmp_echo_id(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	/* two pings with the same id from two hosts: the second id changes */
	build(&k, 4, "10.0.0.2", "203.0.113.9", 1, 77, 0, 56);
	uint32_t i1 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 9);
	build(&k, 4, "10.0.0.3", "203.0.113.9", 1, 77, 0, 56);
	uint32_t i2 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 9);
	struct ct_tuple r1, r2;
	reply_tuple(i1, &r1);
	reply_tuple(i2, &r2);
	assert_int_equal(r1.sport, 77);
	assert_int_not_equal(r2.sport, 77);
	struct nat_pkt n = npk(&k);
	nat_manip_packet(T, i2, 0, NAT_MANIP_SRC, &n);
	assert_int_equal(g16(k.b + 24), r2.sport);
	assert_true(csum_ok(&k));
	/* the echo reply finds it and gets the original id back */
	build(&k, 4, "203.0.113.9", "198.51.100.1", 1, r2.sport, 0, 56);
	k.b[20] = 0; /* echo reply */
	k.p.t.dport = 0;
	k.p.icmp_type = 0;
	fix(&k);
	struct ct_res res;
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &res);
	assert_int_equal(res.idx, i2);
	n = npk(&k);
	nat_manip_packet(T, i2, 1, NAT_MANIP_DST, &n);
	assert_int_equal(g16(k.b + 24), 77);
	uint32_t d;
	memcpy(&d, k.b + 16, 4);
	assert_int_equal(d, a4("10.0.0.3"));
	assert_true(csum_ok(&k));
}

static void test_icmp_error_translation(void **st)
{
	(void)st;
	struct pk k, q, e;
	struct nat_range rg;
	range4(&rg, "198.51.100.1", NULL, 0, 0);
	/* a client's UDP probe, SNATed (a second client took its port first) */
	build(&k, 4, "10.0.0.9", "203.0.113.9", 17, 33434, 33434, 20);
	open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 3);
	build(&k, 4, "10.0.0.2", "203.0.113.9", 17, 33434, 33434, 20);
	uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 3);
	struct nat_pkt n = npk(&k);
	nat_manip_packet(T, idx, 0, NAT_MANIP_SRC, &n);
	q = k; /* as it left the box */
	uint16_t nport = g16(q.b + 20);
	assert_int_not_equal(nport, 33434);
	/* a router's time exceeded about it, to the NAT address: the quoted
	 * header and 8 + 20 bytes of L4 */
	uint8_t *ic = icmp4_err_pk(&e, "192.0.2.1", "198.51.100.1", 11, 0, q.b, 28 + 20);
	struct ct_res res;
	ct_in(T, &e.p, ct_hash(&e.p.t), now, true, 0, &res);
	assert_int_equal(res.state, CT_RELATED);
	assert_int_equal(res.idx, idx);
	assert_int_equal(res.dir, 1);
	assert_true(nat_needed(&T->e[idx], 1, NAT_MANIP_DST));
	n = npk(&e);
	assert_true(nat_manip_icmp_error(T, idx, 1, NAT_MANIP_DST, &n, 56));
	uint32_t d;
	memcpy(&d, e.b + 16, 4);
	assert_int_equal(d, a4("10.0.0.2"));          /* outer: to the client */
	memcpy(&d, ic + 8 + 12, 4);
	assert_int_equal(d, a4("10.0.0.2"));          /* inner: from the client */
	assert_int_equal(g16(ic + 8 + 20), 33434);     /* with its own port */
	assert_true(csum_ok(&e));                      /* outer IP and ICMP */
	assert_int_equal(fold(sum(ic + 8, 20)), 0xffff); /* inner IP header */
	/* the quoted UDP checksum is right again too */
	struct pk in;
	memset(&in, 0, sizeof(in));
	memcpy(in.b, ic + 8, 48);
	in.l3len = 48;
	assert_true(csum_ok(&in));
	assert_false(nat_manip_icmp_error(T, idx, 1, NAT_MANIP_DST, &n, 20)); /* too short */
}

static void test_ipv6_snat(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	memset(&rg, 0, sizeof(rg));
	inet_pton(AF_INET6, "2001:db8:1::1", rg.min);
	memcpy(rg.max, rg.min, 16);
	build(&k, 6, "fd00::2", "2001:db8:2::9", 6, 50000, 443, 0);
	uint32_t idx = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	struct nat_pkt n = npk(&k);
	nat_manip_packet(T, idx, 0, NAT_MANIP_SRC, &n);
	assert_memory_equal(k.b + 8, rg.min, 16);
	assert_int_equal(g16(k.b + 40), 50000);
	assert_true(csum_ok(&k));
	build(&k, 6, "2001:db8:2::9", "2001:db8:1::1", 6, 443, 50000, 0);
	struct ct_res res;
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &res);
	assert_int_equal(res.idx, idx);
	assert_int_equal(res.dir, 1);
	n = npk(&k);
	nat_manip_packet(T, idx, 1, NAT_MANIP_DST, &n);
	uint8_t want[16];
	inet_pton(AF_INET6, "fd00::2", want);
	assert_memory_equal(k.b + 24, want, 16);
	assert_true(csum_ok(&k));
}

/* A binding that leaves the tuple as it was is no translation (the
 * kernel's IPS_SRC_NAT only when the tuple changed): no status, nothing
 * rewritten. */
static void test_identity_binding(void **st)
{
	(void)st;
	struct pk k;
	struct nat_range rg;
	range4(&rg, "10.0.0.2", NULL, 0, 0);
	build(&k, 4, "10.0.0.2", "203.0.113.9", 6, 40000, 80, 0);
	uint32_t i = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	assert_false(T->e[i].status & (CT_S_SRC_NAT | CT_S_DST_NAT));
	assert_false(nat_needed(&T->e[i], 0, NAT_MANIP_SRC));
	/* the same address, another port (taken): translated */
	build(&k, 4, "10.0.0.3", "203.0.113.9", 6, 40000, 80, 0);
	range4(&rg, "10.0.0.2", NULL, 0, 0);
	uint32_t j = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	assert_true(T->e[j].status & CT_S_SRC_NAT);
}

/* ---- nf_nat_ftp ---- */

/* a TCP segment sp -> dp with flags, seq, ack and payload text (options:
 * opt[0..olen), a multiple of 4) */
static void seg(struct pk *k, const char *s, const char *d, uint16_t sp, uint16_t dp, uint8_t fl,
	uint32_t seq, uint32_t ack, const char *text, const uint8_t *opt, uint32_t olen)
{
	uint32_t n = (uint32_t)strlen(text);
	build(k, 4, s, d, 6, sp, dp, olen + n);
	uint8_t *t = k->b + 20;
	t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24), t[9] = (uint8_t)(ack >> 16), t[10] = (uint8_t)(ack >> 8);
	t[11] = (uint8_t)ack;
	t[12] = (uint8_t)((5 + olen / 4) << 4);
	t[13] = fl;
	if (olen)
		memcpy(t + 20, opt, olen);
	memcpy(t + 20 + olen, text, n);
	k->p.tcp_flags = fl;
	fix(k);
}
static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)g16(p) << 16 | g16(p + 2);
}

/* ct_in, then the helper on a buffer with room bytes of room; the
 * verdict, the payload left in out */
static enum ct_help_verdict through(struct pk *k, uint32_t room, struct ct_res *r, char *out)
{
	ct_in(T, &k->p, ct_hash(&k->p.t), now, true, 0, r);
	assert_int_not_equal(r->idx, CT_NIL);
	uint32_t h = 20 + (uint32_t)(k->b[32] >> 4) * 4;
	struct ct_help_buf b = { k->b + h, k->l3len - h, room ? room : sizeof(k->b) - h };
	enum ct_help_verdict v = ct_help(T, r->idx, r->dir, g32(k->b + 24), &b, now);
	memcpy(out, b.pl, b.n);
	out[b.n] = '\0';
	if (v == CT_HELP_MANGLED) { /* as the dataplane: lengths and checksums */
		k->l3len = h + b.n;
		p16(k->b + 2, (uint16_t)k->l3len);
	}
	ct_seqadj(T, r->idx, r->dir, k->b + 20, h - 20);
	if (v == CT_HELP_MANGLED)
		fix(k); /* the dataplane's part (test_router checks it does it) */
	return v;
}

#define ACK_ 0x10
#define PSH_ 0x08
/* Active FTP from a client behind SNAT that lengthens its address
 * (10,0,0,2 -> 198,51,100,10: 5 bytes more): PORT rewritten, the data
 * connection expected at the public address and translated back, the
 * sequence numbers after the command moved by 5 (and acknowledgements and
 * SACK blocks back), the window tracker not fooled by the server's
 * acknowledgements, a retransmission rewritten again without moving
 * anything twice, a busy port replaced, no room: dropped. */
static void test_ftp_port_through_snat(void **st)
{
	(void)st;
	struct ct_expect *X = ct_expect_create(64, zalloc64);
	assert_non_null(X);
	T->exp = X;
	struct pk k;
	struct ct_res r;
	char out[512];
	struct nat_range rg;
	range4(&rg, "198.51.100.10", NULL, 0, 0);
	const char *C = "10.0.0.2", *S = "203.0.113.9", *P = "198.51.100.10";
	seg(&k, C, S, 40000, 21, 0x02, 1000, 0, "", NULL, 0);
	k.p.helper = CT_HELPER_FTP;
	uint32_t ctl = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	assert_int_equal(ct_helper(&T->e[ctl]), CT_HELPER_FTP);
	seg(&k, S, P, 21, 40000, 0x12, 5000, 1001, "", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_PASS);
	assert_int_equal(r.state, CT_ESTABLISHED);
	seg(&k, C, S, 40000, 21, ACK_, 1001, 5001, "", NULL, 0);
	through(&k, 0, &r, out);
	seg(&k, S, P, 21, 40000, ACK_ | PSH_, 5001, 1001, "220 ready\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_PASS);
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1001, 5012, "USER a\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_PASS);
	/* PORT: rewritten to the public address, the port kept */
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1009, 5012, "PORT 10,0,0,2,195,80\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	assert_string_equal(out, "PORT 198,51,100,10,195,80\r\n");
	assert_int_equal(g32(k.b + 24), 1009); /* the segment itself starts where it did */
	assert_int_equal(T->st.help_mangled, 1);
	assert_int_equal(X->live, 1);
	/* the PORT segment again (a retransmission, its start one of the two
	 * line starts remembered): rewritten the same,
	 * nothing moved twice */
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1009, 5012, "PORT 10,0,0,2,195,80\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	assert_string_equal(out, "PORT 198,51,100,10,195,80\r\n");
	assert_int_equal(g32(k.b + 24), 1009);
	/* the next segment moves by 5 */
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1031, 5012, "RETR x\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_PASS);
	assert_int_equal(g32(k.b + 24), 1036);
	assert_true(csum_ok(&k));
	/* the server acknowledges all of it in its numbering (1044): the
	 * tracker takes that back to 1039, and so does the packet */
	seg(&k, S, P, 21, 40000, ACK_, 5012, 1044, "", NULL, 0);
	through(&k, 0, &r, out);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(g32(k.b + 28), 1039);
	assert_true(csum_ok(&k));
	/* an acknowledgement beyond anything sent is still INVALID */
	seg(&k, S, P, 21, 40000, ACK_, 5012, 1144, "", NULL, 0);
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_INVALID);
	/* SACK blocks: edges after the command move back by 5, before it not */
	static const uint8_t sack[] = { 1, 1, 5, 18, 0, 0, 0x03, 0xf1, 0, 0, 0x04, 0x1e,
		0, 0, 0x04, 0x0f, 0, 0, 0x04, 0x14 }; /* 1009-1054, 1039-1044 */
	seg(&k, S, P, 21, 40000, ACK_, 5012, 1009, "", sack, sizeof(sack));
	through(&k, 0, &r, out);
	assert_int_equal(g32(k.b + 28), 1009);
	assert_int_equal(g32(k.b + 40 + 4), 1009);   /* the command's start: not moved */
	assert_int_equal(g32(k.b + 40 + 8), 1049);   /* 1054 - 5 */
	assert_int_equal(g32(k.b + 40 + 12), 1034);  /* 1039 - 5 */
	assert_int_equal(g32(k.b + 40 + 16), 1039);
	assert_true(csum_ok(&k));
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1039, 5012, "QUIT\r\n", NULL, 0);
	through(&k, 0, &r, out);
	assert_int_equal(g32(k.b + 24), 1044);
	assert_int_equal(ct_seq_offset(T, ctl, 0, 1040), 5);
	assert_int_equal(ct_seq_offset(T, ctl, 0, 1009), 0);
	assert_int_equal(ct_seq_offset(T, ctl, 1, 6000), 0);
	/* the data connection: from the server's port 20 to the public
	 * address, translated back to the client's own address and port */
	build(&k, 4, S, P, 6, 20, 195 * 256 + 80, 0);
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_RELATED);
	assert_true(r.follow & CT_EXP_NAT_DST);
	assert_false(r.follow & CT_EXP_NAT_SRC); /* the server is not translated */
	assert_int_equal(r.follow_port, 195 * 256 + 80);
	uint32_t fa;
	memcpy(&fa, r.follow_addr, 4);
	assert_int_equal(fa, a4(C));
	ct_abort(T);
	/* a second client announcing the same port: expected on another */
	build(&k, 4, "10.0.0.3", S, 6, 40001, 21, 0);
	seg(&k, "10.0.0.3", S, 40001, 21, 0x02, 1000, 0, "", NULL, 0);
	k.p.helper = CT_HELPER_FTP;
	uint32_t ctl2 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	seg(&k, S, P, 21, 40001, 0x12, 5000, 1001, "", NULL, 0);
	through(&k, 0, &r, out);
	seg(&k, "10.0.0.3", S, 40001, 21, ACK_ | PSH_, 1001, 5001, "USER a\r\n", NULL, 0);
	through(&k, 0, &r, out);
	build(&k, 4, S, P, 6, 20, 195 * 256 + 80, 0); /* the first one's, used: announce it again */
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1039, 5012, "PORT 10,0,0,2,195,80\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	seg(&k, "10.0.0.3", S, 40001, 21, ACK_ | PSH_, 1009, 5001, "PORT 10,0,0,3,195,80\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	unsigned a, b_, c, d, p1, p2;
	assert_int_equal(sscanf(out, "PORT %u,%u,%u,%u,%u,%u\r\n", &a, &b_, &c, &d, &p1, &p2), 6);
	assert_true(a == 198 && b_ == 51 && c == 100 && d == 10);
	uint16_t port2 = (uint16_t)(p1 * 256 + p2);
	assert_int_not_equal(port2, 195 * 256 + 80);
	assert_true(port2 > 195 * 256 + 80);
	build(&k, 4, S, P, 6, 20, port2, 0);
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_RELATED);
	assert_int_equal(r.follow_port, 195 * 256 + 80); /* back to the port it announced */
	memcpy(&fa, r.follow_addr, 4);
	assert_int_equal(fa, a4("10.0.0.3"));
	ct_abort(T);
	/* no room to grow: dropped, its expectation gone */
	uint64_t live = X->live;
	seg(&k, "10.0.0.3", S, 40001, 21, ACK_ | PSH_, 1031, 5001, "PORT 10,0,0,3,195,81\r\n", NULL,
	    0);
	assert_int_equal(through(&k, 22, &r, out), CT_HELP_DROP);
	assert_int_equal(T->st.help_drop, 1);
	assert_int_equal(X->live, live); /* the one it made went again */
	/* the control connections die: their state goes */
	ct_kill(T, ctl);
	ct_kill(T, ctl2);
	assert_int_equal(T->help_n, 0);
	assert_int_equal(ct_seq_offset(T, ctl, 0, 1040), 0);
	T->exp = NULL;
	free(X);
}

/* IRC DCC from a client behind SNAT (nf_nat_irc): the announcement
 * rewritten to the public address (one digit longer), the sequence numbers
 * after it moved, the peer's connection (from anywhere) expected at the
 * public address, translated back to the client and made to come from the
 * IRC server (nf_nat_follow_master); a busy port replaced. */
static void test_irc_through_snat(void **st)
{
	(void)st;
	struct ct_expect *X = ct_expect_create(64, zalloc64);
	assert_non_null(X);
	T->exp = X;
	struct pk k;
	struct ct_res r;
	char out[512];
	struct nat_range rg;
	range4(&rg, "198.51.100.10", NULL, 0, 0);
	const char *C = "10.0.0.2", *S = "203.0.113.9", *P = "198.51.100.10";
	seg(&k, C, S, 40000, 6667, 0x02, 1000, 0, "", NULL, 0);
	k.p.helper = CT_HELPER_IRC;
	uint32_t ctl = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	assert_int_equal(ct_helper(&T->e[ctl]), CT_HELPER_IRC);
	seg(&k, S, P, 6667, 40000, 0x12, 5000, 1001, "", NULL, 0);
	through(&k, 0, &r, out);
	seg(&k, C, S, 40000, 6667, ACK_, 1001, 5001, "", NULL, 0);
	through(&k, 0, &r, out);
	static const char dcc[] = "PRIVMSG bob :\1DCC SEND f 167772162 5000 9\1\r\n";
	seg(&k, C, S, 40000, 6667, ACK_ | PSH_, 1001, 5001, dcc, NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	assert_string_equal(out, "PRIVMSG bob :\1DCC SEND f 3325256714 5000 9\1\r\n");
	assert_true(csum_ok(&k));
	uint32_t next = 1001 + (uint32_t)strlen(dcc);
	seg(&k, C, S, 40000, 6667, ACK_ | PSH_, next, 5001, "PING x\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_PASS);
	assert_int_equal(g32(k.b + 24), next + 1);
	/* the server acknowledges in its numbering: back by one */
	seg(&k, S, P, 6667, 40000, ACK_, 5001, next + 1 + 8, "", NULL, 0);
	through(&k, 0, &r, out);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(g32(k.b + 28), next + 8);
	/* a peer that is not the server connects to the public address */
	build(&k, 4, "192.0.2.9", P, 6, 33000, 5000, 0);
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_RELATED);
	assert_int_equal(r.follow, CT_EXP_NAT_DST | CT_EXP_NAT_SRC);
	assert_int_equal(r.follow_port, 5000);
	uint32_t fa;
	memcpy(&fa, r.follow_addr, 4);
	assert_int_equal(fa, a4(C));
	memcpy(&fa, r.follow_src, 4);
	assert_int_equal(fa, a4(S)); /* seen by the client as from the server */
	ct_abort(T);
	/* a second client announcing the same port: another one */
	seg(&k, "10.0.0.3", S, 40001, 6667, 0x02, 1000, 0, "", NULL, 0);
	k.p.helper = CT_HELPER_IRC;
	uint32_t ctl2 = open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	seg(&k, S, P, 6667, 40001, 0x12, 5000, 1001, "", NULL, 0);
	through(&k, 0, &r, out);
	seg(&k, C, S, 40000, 6667, ACK_ | PSH_, next + 8, 5001, dcc, NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	seg(&k, "10.0.0.3", S, 40001, 6667, ACK_ | PSH_, 1001, 5001,
	    "PRIVMSG bob :\1DCC SEND f 167772163 5000 9\1\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	unsigned ip2, port2;
	assert_int_equal(sscanf(out, "PRIVMSG bob :\1DCC SEND f %u %u 9", &ip2, &port2), 2);
	assert_int_equal(ip2, 3325256714u);
	assert_true(port2 > 5000 && port2 <= 65535);
	build(&k, 4, "192.0.2.9", P, 6, 33001, (uint16_t)port2, 0);
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_RELATED);
	assert_int_equal(r.follow_port, 5000);
	memcpy(&fa, r.follow_addr, 4);
	assert_int_equal(fa, a4("10.0.0.3"));
	ct_abort(T);
	ct_kill(T, ctl);
	ct_kill(T, ctl2);
	assert_int_equal(T->help_n, 0);
	T->exp = NULL;
	free(X);
}

/* A server behind DNAT: its 227 answer gives the address the client
 * reached (the reply direction grows), EPSV's port only; the client's
 * connection to the public address is translated to the server. */
static void test_ftp_pasv_through_dnat(void **st)
{
	(void)st;
	struct ct_expect *X = ct_expect_create(64, zalloc64);
	T->exp = X;
	struct pk k;
	struct ct_res r;
	char out[512];
	struct nat_range rg;
	range4(&rg, "192.168.1.10", NULL, 0, 0);
	const char *C = "203.0.113.9", *P = "198.51.100.100", *S = "192.168.1.10";
	seg(&k, C, P, 41000, 21, 0x02, 1000, 0, "", NULL, 0);
	k.p.helper = CT_HELPER_FTP;
	uint32_t ctl = open_conn(&k, NAT_MANIP_DST, &rg, &ONE, 1);
	seg(&k, S, C, 21, 41000, 0x12, 5000, 1001, "", NULL, 0);
	through(&k, 0, &r, out);
	seg(&k, S, C, 21, 41000, ACK_ | PSH_, 5001, 1001, "220 ready\r\n", NULL, 0);
	through(&k, 0, &r, out);
	seg(&k, S, C, 21, 41000, ACK_ | PSH_, 5012, 1001,
	    "227 Entering Passive Mode (192,168,1,10,117,48).\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	assert_string_equal(out, "227 Entering Passive Mode (198,51,100,100,117,48).\r\n");
	/* +2 bytes from here on in the reply direction */
	seg(&k, S, C, 21, 41000, ACK_ | PSH_, 5012 + 50, 1001,
	    "229 Entering Extended Passive Mode (|||40001|)\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_MANGLED);
	assert_string_equal(out, "229 Entering Extended Passive Mode (|||40001|)\r\n");
	assert_int_equal(g32(k.b + 24), 5064);
	/* the client acknowledges in its numbering */
	seg(&k, C, P, 41000, 21, ACK_, 1001, 5064 + 48, "", NULL, 0);
	through(&k, 0, &r, out);
	assert_int_equal(r.state, CT_ESTABLISHED);
	assert_int_equal(g32(k.b + 28), 5062 + 48);
	/* the data connection to the public address and the 229 port */
	build(&k, 4, C, P, 6, 51000, 40001, 0);
	ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
	assert_int_equal(r.state, CT_RELATED);
	uint32_t fa;
	memcpy(&fa, r.follow_addr, 4);
	assert_int_equal(fa, a4(S));
	assert_int_equal(r.follow_port, 40001);
	ct_abort(T);
	(void)ctl;
	T->exp = NULL;
	free(X);
}

/* The announcement texts NAT writes, and where the parser says they are. */
static void test_ftp_format(void **st)
{
	(void)st;
	char b[64];
	uint8_t a[16] = { 198, 51, 100, 10 };
	uint32_t n = ct_ftp_format(CT_FTP_PORT, 4, a, 50000, b, sizeof(b));
	assert_int_equal(n, strlen("198,51,100,10,195,80"));
	assert_memory_equal(b, "198,51,100,10,195,80", n);
	n = ct_ftp_format(CT_FTP_EPRT, 4, a, 50000, b, sizeof(b));
	assert_memory_equal(b, "|1|198.51.100.10|50000|", n);
	n = ct_ftp_format(CT_FTP_EPSV, 4, a, 7, b, sizeof(b));
	assert_memory_equal(b, "|||7|", n);
	uint8_t a6[16];
	inet_pton(AF_INET6, "2001:db8::1", a6);
	n = ct_ftp_format(CT_FTP_EPRT, 6, a6, 65535, b, sizeof(b));
	assert_int_equal(n, strlen("|2|2001:0db8:0000:0000:0000:0000:0000:0001|65535|"));
	assert_memory_equal(b, "|2|2001:0db8:0000:0000:0000:0000:0000:0001|65535|", n);
	assert_int_equal(ct_ftp_format(CT_FTP_PORT, 6, a6, 1, b, sizeof(b)), 0); /* PORT: IPv4 */
	assert_int_equal(ct_ftp_format(CT_FTP_PORT, 4, a, 50000, b, 5), 0);      /* no room */
	static const struct {
		const char *line;
		unsigned dir, fam;
		const char *match;
	} cases[] = {
		{ "PORT 10,0,0,1,195,80\r\n", 0, 4, "10,0,0,1,195,80" },
		{ "PORT   10,0,0,1,195,80\r\n", 0, 4, "10,0,0,1,195,80" },
		{ "EPRT |1|10.0.0.1|50000|\r\n", 0, 4, "|1|10.0.0.1|50000|" },
		{ "EPRT !2!fd00::1!6000!\r\n", 0, 6, "!2!fd00::1!6000!" },
		{ "227 Entering Passive Mode (10,0,1,2,117,48).\r\n", 1, 4, "10,0,1,2,117,48" },
		{ "227 =10,0,1,2,117,48\r\n", 1, 4, "10,0,1,2,117,48" },
		{ "229 Entering Extended Passive Mode (|||40001|)\r\n", 1, 4, "|||40001|" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t ad[16] = { 0 };
		uint16_t port;
		struct ct_ftp_match mt;
		const char *l = cases[i].line;
		assert_true(ct_ftp_parse((const uint8_t *)l, (uint32_t)strlen(l), cases[i].dir,
					 (uint8_t)cases[i].fam, ad, &port, &mt));
		assert_int_equal(mt.len, strlen(cases[i].match));
		assert_memory_equal(l + mt.off, cases[i].match, mt.len);
	}
}

/* The helper state map: more helper connections than it holds; the
 * newest get a state, older ones without a sequence adjustment give
 * theirs up; every removal finds its own (backward-shift deletion). A map
 * full of adjusted connections gives nothing up: a translated FTP
 * announcement that finds no state is dropped, not let out unrewritten. */
static void test_help_map(void **st)
{
	(void)st;
	struct ct_expect *X = ct_expect_create(16384, zalloc64);
	T->exp = X;
	struct pk k;
	struct ct_res r;
	char out[512];
	enum { N = 3500, HELD = CT_HELP_MAP / 4 * 3 };
	static uint32_t idx[N];
	uint8_t rq[] = { 0, 1, 'f', 0, 'o', 'c', 't', 'e', 't', 0 };
	for (unsigned n = 0; n < N; n++) {
		char c[32];
		snprintf(c, sizeof(c), "10.1.%u.%u", n / 250, n % 250 + 1);
		build(&k, 4, c, "203.0.113.9", 17, 1000, 69, 0);
		k.p.helper = CT_HELPER_TFTP;
		ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
		assert_int_equal(r.state, CT_NEW);
		struct ct_help_buf b = { rq, sizeof(rq), sizeof(rq) };
		ct_help(T, r.idx, 0, 0, &b, now);
		ct_confirm(T, &r);
		idx[n] = r.idx;
	}
	assert_int_equal(T->help_n, HELD);
	assert_int_equal(T->st.help_full, 0);
	assert_int_equal(T->st.expect_new, N);
	unsigned gone = 0;
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = pass; i < N; i += 2) {
			uint32_t before = T->help_n;
			ct_kill(T, idx[i]);
			assert_true(T->help_n == before || T->help_n == before - 1);

			gone += before - T->help_n;
		}
	assert_int_equal(gone, HELD);
	assert_int_equal(T->help_n, 0);
	now += 120 * CT_HZ; /* the dead entries go back to the free list */
	ct_expire(T, now, 100000);
	/* full of connections NAT lengthened (made so by hand) */
	for (unsigned n = 0; n < HELD; n++) {
		char c[32];
		snprintf(c, sizeof(c), "10.2.%u.%u", n / 250, n % 250 + 1);
		build(&k, 4, c, "203.0.113.9", 17, 1000, 69, 0);
		k.p.helper = CT_HELPER_TFTP;
		ct_in(T, &k.p, ct_hash(&k.p.t), now, true, 0, &r);
		struct ct_help_buf b = { rq, sizeof(rq), sizeof(rq) };
		ct_help(T, r.idx, 0, 0, &b, now);
		ct_confirm(T, &r);
	}
	assert_int_equal(T->help_n, HELD);
	for (unsigned i = 0; i < CT_HELP_MAP; i++)
		if (T->help[i].idx1)
			T->help[i].sa_on = 1;
	struct nat_range rg;
	range4(&rg, "198.51.100.10", NULL, 0, 0);
	const char *C = "10.0.0.2", *S = "203.0.113.9", *P = "198.51.100.10";
	seg(&k, C, S, 40000, 21, 0x02, 1000, 0, "", NULL, 0);
	k.p.helper = CT_HELPER_FTP;
	open_conn(&k, NAT_MANIP_SRC, &rg, &ONE, 1);
	seg(&k, S, P, 21, 40000, 0x12, 5000, 1001, "", NULL, 0);
	through(&k, 0, &r, out);
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1001, 5001, "USER a\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_PASS);
	assert_true(T->st.help_full > 0);
	seg(&k, C, S, 40000, 21, ACK_ | PSH_, 1009, 5001, "PORT 10,0,0,2,195,80\r\n", NULL, 0);
	assert_int_equal(through(&k, 0, &r, out), CT_HELP_DROP);
	assert_int_equal(T->st.help_drop, 1);
	T->exp = NULL;
	free(X);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snat_keeps_port_then_changes_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snat_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion_and_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shares_are_disjoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses_before_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistent_and_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dnat_and_packet_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clash_with_translated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksums_against_recomputation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sctp_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_echo_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_error_translation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_snat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rss_hash_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rss_steered_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rss_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ftp_port_through_snat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irc_through_snat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ftp_pasv_through_dnat, setup, teardown),
		cmocka_unit_test(test_ftp_format),
		cmocka_unit_test_setup_teardown(test_help_map, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
