/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_help: FTP, TFTP and IRC helpers and the shared expectation table. See
 * ct_help.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ct_help.h"
#include "ct_priv.h"
#include "rp_cpu.h"

const char *const ct_helper_names[CT_HELPER_MAX] = { "", "ftp", "tftp", "irc" };

enum ct_helper ct_helper_by_name(const char *s)
{
	for (unsigned i = 1; i < CT_HELPER_MAX; i++)
		if (strcmp(s, ct_helper_names[i]) == 0)
			return (enum ct_helper)i;
	return CT_HELPER_NONE;
}

/* ---- expectations ---- */

#define PROBES 8 /* slots looked at from an expectation's place */

size_t ct_expect_mem(uint32_t slots)
{
	return sizeof(struct ct_expect) + (size_t)slots * sizeof(struct ct_exp_slot);
}

struct ct_expect *ct_expect_create(uint32_t slots, void *(*alloc)(size_t))
{
	if (slots == 0 || (slots & (slots - 1)) != 0)
		return NULL;
	struct ct_expect *x = alloc(ct_expect_mem(slots));
	if (x != NULL)
		x->mask = slots - 1;
	return x;
}

/* The place of an expectation: by what a matching connection surely has
 * (the source port may be anything). */
static uint32_t exp_hash(const struct ct_tuple *k)
{
	uint32_t h = 0x811c9dc5u ^ ((uint32_t)k->proto << 24 | (uint32_t)k->fam << 16 | k->dport);
	for (unsigned i = 0; i < 16; i += 4) {
		uint32_t a, b;
		memcpy(&a, k->src + i, 4);
		memcpy(&b, k->dst + i, 4);
		h = (h ^ a) * 0x9e3779b1u;
		h = (h ^ b) * 0x85ebca6bu;
		h ^= h >> 15;
	}
	return h;
}

static bool same_exp(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return a->fam == b->fam && a->proto == b->proto && a->dport == b->dport &&
		a->zone == b->zone &&
		a->sport == b->sport && memcmp(a->src, b->src, 16) == 0 &&
		memcmp(a->dst, b->dst, 16) == 0;
}

static const uint8_t zero16[16];

/* An expectation of any source address (IRC's DCC)? */
static inline bool is_any_src(const struct ct_tuple *k)
{
	return memcmp(k->src, zero16, 16) == 0;
}

/* Does the connection k match expectation e (its source port open; its
 * source address too if all zero)? */
static bool exp_match(const struct ct_tuple *e, const struct ct_tuple *k)
{
	return e->fam == k->fam && e->proto == k->proto && e->dport == k->dport &&
		e->zone == ct_zone_id(k) &&
		(e->sport == 0 || e->sport == k->sport) &&
		(memcmp(e->src, k->src, 16) == 0 || memcmp(e->src, zero16, 16) == 0) &&
		memcmp(e->dst, k->dst, 16) == 0;
}

static inline bool claim(struct ct_exp_slot *s, uint32_t from)
{
	return __atomic_compare_exchange_n(&s->state, &from, CT_EXP_BUSY, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline bool expired(const struct ct_exp_slot *s, uint32_t now)
{
	return (int32_t)(s->expire - now) <= 0;
}

static void fill(struct ct_exp_slot *s, const struct ct_tuple *k, uint8_t helper,
	const struct ct_exp_nat *nat, const void *owner, uint32_t oidx, const struct ct_tuple *mt,
	uint8_t evm, uint32_t expire)
{
	s->k = *k;
	s->helper = helper;
	if (nat != NULL)
		s->nat = *nat;
	else
		memset(&s->nat, 0, sizeof(s->nat));
	s->owner = owner;
	s->oidx = oidx;
	if (mt != NULL)
		s->mt = *mt;
	else
		memset(&s->mt, 0, sizeof(s->mt));
	s->evm = evm;
	s->expire = expire;
}

/* Expectation event type (CT_EV_NEW, CT_EV_DESTROY) of slot s, which the
 * caller holds (busy) or is about to publish. */
static void exp_event(struct ct_expect *x, const struct ct_exp_slot *s, uint8_t type)
{
	/* acquire: ev and ev_arg, set before it */
	if (__builtin_expect(__atomic_load_n(&x->ev_on, __ATOMIC_ACQUIRE) == 0, 1) ||
	    x->ev == NULL)
		return;
	if (!(s->evm & (type == CT_EV_NEW ? CT_EXP_EV_NEW : CT_EXP_EV_DESTROY)))
		return;
	struct ct_exp_ev e;
	ct_exp_ev_of(s, type, 0, &e); /* now: the queue's owner stamps it */
	x->ev(x->ev_arg, &e);
}

/* A slot's state, waiting a bounded while if it is busy for a moment (its
 * owner filling or renewing it, another worker passing by). */
static inline uint32_t settled(const struct ct_exp_slot *s)
{
	uint32_t st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
	for (unsigned spin = 0; st == CT_EXP_BUSY && spin < 1024; spin++) {
		rp_cpu_relax();
		st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
	}
	return st;
}

/* excl: does another connection than (owner, oidx) hold a live k around h,
 * other than slot mine? */
static bool taken_by_other(struct ct_expect *x, uint32_t h, const struct ct_tuple *k,
	uint32_t mine, const void *owner, uint32_t oidx, uint32_t now)
{
	for (unsigned i = 0; i < PROBES; i++) {
		uint32_t j = (h + i) & x->mask;
		struct ct_exp_slot *s = &x->s[j];
		if (j == mine || settled(s) != CT_EXP_LIVE || !same_exp(&s->k, k) || expired(s, now))
			continue;
		if (s->owner != owner || s->oidx != oidx)
			return true;
	}
	return false;
}

int ct_expect_add(struct ct_expect *x, const struct ct_tuple *k, uint8_t helper,
	const struct ct_exp_nat *nat, const void *owner, uint32_t oidx,
	const struct ct_tuple *mt, uint8_t evm, uint32_t expire, uint32_t now, bool excl)
{
	uint32_t h = exp_hash(k);
	/* the same announcement again: renewed (by its latest announcer),
	 * or, excl, refused if another connection made it */
	for (unsigned i = 0; i < PROBES; i++) {
		struct ct_exp_slot *s = &x->s[(h + i) & x->mask];
		uint32_t st = excl ? settled(s) : __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (st != CT_EXP_LIVE || !same_exp(&s->k, k) || !claim(s, CT_EXP_LIVE))
			continue;
		bool same = same_exp(&s->k, k) && !expired(s, now); /* not changed meanwhile */
		bool busy = same && excl && (s->owner != owner || s->oidx != oidx);
		if (same && !busy) {
			/* as the kernel's: the old one goes, the new one comes */
			exp_event(x, s, CT_EV_DESTROY);
			fill(s, k, helper, nat, owner, oidx, mt, evm, expire);
			exp_event(x, s, CT_EV_NEW);
		}
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
		if (busy)
			return -2;
		if (same)
			return (int)((h + i) & x->mask);
	}
	/* a free slot, or an expired one; what another thread took between
	 * the look and the claim is checked again once ours */
	for (unsigned i = 0; i < PROBES; i++) {
		uint32_t j = (h + i) & x->mask;
		struct ct_exp_slot *s = &x->s[j];
		uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (st == CT_EXP_FREE) {
			if (!claim(s, CT_EXP_FREE))
				continue;
			fill(s, k, helper, nat, owner, oidx, mt, evm, expire);
			__atomic_fetch_add(&x->live, 1, __ATOMIC_RELAXED);
			if (is_any_src(k)) /* counted before it is published */
				__atomic_fetch_add(&x->any_src, 1, __ATOMIC_SEQ_CST);
		} else if (st == CT_EXP_LIVE && expired(s, now)) {
			if (!claim(s, CT_EXP_LIVE))
				continue;
			if (!expired(s, now)) { /* renewed or replaced meanwhile */
				__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
				continue;
			}
			exp_event(x, s, CT_EV_DESTROY); /* its timer's, late */
			bool was = is_any_src(&s->k), is = is_any_src(k);
			if (is && !was)
				__atomic_fetch_add(&x->any_src, 1, __ATOMIC_SEQ_CST);
			/* live stays; excl: silent until sure (below) */
			fill(s, k, helper, nat, owner, oidx, mt, excl ? 0 : evm, expire);
			if (was && !is)
				__atomic_fetch_sub(&x->any_src, 1, __ATOMIC_SEQ_CST);
		} else {
			continue;
		}
		if (!excl) {
			exp_event(x, s, CT_EV_NEW); /* before a taker can see it */
			__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
			return (int)j;
		}
		if (st == CT_EXP_FREE)
			s->evm = 0; /* excl: silent until sure (below) */
		/* excl: another worker may have published the same key in
		 * another free slot meanwhile. Published first, then looked
		 * for (sequentially consistent: of two such writers, at least
		 * one sees the other); if one is there, ours is withdrawn (both
		 * may be: each tries another port) */
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_SEQ_CST);
		if (!taken_by_other(x, h, k, j, owner, oidx, now)) {
			/* reported once sure (a clash is not, as the kernel's
			 * -EBUSY): the slot held again, still ours, gets its
			 * events and its NEW; taken meanwhile (the peer learns
			 * the port only from the announcement this precedes, so
			 * hardly ever), it reported nothing and never will */
			if (evm != 0 && settled(s) == CT_EXP_LIVE && claim(s, CT_EXP_LIVE)) {
				if (s->owner == owner && s->oidx == oidx && same_exp(&s->k, k)) {
					s->evm = evm;
					exp_event(x, s, CT_EV_NEW);
				}
				__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
			}
			return (int)j;
		}
		ct_expect_drop(x, j, owner, oidx); /* silent: evm 0 */
		return -2;
	}
	return -1;
}

/* Free a slot we hold (busy) that was live. */
static inline void release_live(struct ct_expect *x, struct ct_exp_slot *s)
{
	if (is_any_src(&s->k))
		__atomic_fetch_sub(&x->any_src, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&x->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->state, CT_EXP_FREE, __ATOMIC_RELEASE);
}

void ct_expect_drop(struct ct_expect *x, uint32_t slot, const void *owner, uint32_t oidx)
{
	struct ct_exp_slot *s = &x->s[slot & x->mask];
	/* a slot busy for a moment (another worker passing by, dropping a
	 * stale number of its own) may still be ours: wait for it */
	if (settled(s) != CT_EXP_LIVE || !claim(s, CT_EXP_LIVE))
		return; /* taken, flushed, or being changed: not ours any more */
	if (s->owner == owner && s->oidx == oidx) {
		exp_event(x, s, CT_EV_DESTROY);
		release_live(x, s);
	} else
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
}

/* ct_expect_take's look at the slots from place h */
static bool take_at(struct ct_expect *x, uint32_t h, const struct ct_tuple *k, uint32_t now,
	struct ct_exp_nat *nat, uint8_t *helper)
{
	for (unsigned i = 0; i < PROBES; i++) {
		struct ct_exp_slot *s = &x->s[(h + i) & x->mask];
		/* a slot busy for a moment (its announcer renewing it on a
		 * retransmitted request, another worker passing by) may be
		 * ours: wait for it, a bounded while */
		uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		for (unsigned spin = 0; st == CT_EXP_BUSY && spin < 1024; spin++) {
			rp_cpu_relax();
			st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		}
		if (st != CT_EXP_LIVE)
			continue;
		bool dead = expired(s, now);
		if (!dead && !exp_match(&s->k, k))
			continue;
		if (!claim(s, CT_EXP_LIVE))
			continue; /* another thread got there first */
		if (expired(s, now)) {
			exp_event(x, s, CT_EV_DESTROY);
			release_live(x, s); /* passing by an expired one: free it */
			continue;
		}
		if (exp_match(&s->k, k)) {
			if (nat != NULL)
				*nat = s->nat; /* ours while busy */
			if (helper != NULL)
				*helper = s->helper;
			exp_event(x, s, CT_EV_DESTROY);
			release_live(x, s); /* used once */
			return true;
		}
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE); /* reused meanwhile */
	}
	return false;
}

bool ct_expect_take(struct ct_expect *x, const struct ct_tuple *k, uint32_t now,
	struct ct_exp_nat *nat, uint8_t *helper)
{
	if (__atomic_load_n(&x->live, __ATOMIC_RELAXED) == 0)
		return false;
	/* the place ignores the source port: hash the tuple with sport 0 */
	struct ct_tuple q = *k;
	q.sport = 0;
	if (take_at(x, exp_hash(&q), k, now, nat, helper))
		return true;
	if (__atomic_load_n(&x->any_src, __ATOMIC_SEQ_CST) == 0)
		return false;
	/* an expectation of any source lies where the source is zero */
	memset(q.src, 0, sizeof(q.src));
	return take_at(x, exp_hash(&q), k, now, nat, helper);
}

void ct_expect_sweep(struct ct_expect *x, uint32_t now)
{
	if (__atomic_load_n(&x->live, __ATOMIC_RELAXED) == 0)
		return;
	for (uint32_t i = 0; i <= x->mask; i++) {
		struct ct_exp_slot *s = &x->s[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != CT_EXP_LIVE || !expired(s, now))
			continue;
		if (!claim(s, CT_EXP_LIVE))
			continue;
		if (expired(s, now)) {
			exp_event(x, s, CT_EV_DESTROY);
			release_live(x, s);
		} else
			__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
	}
}

void ct_expect_flush(struct ct_expect *x)
{
	for (uint32_t i = 0; i <= x->mask; i++) {
		struct ct_exp_slot *s = &x->s[i];
		/* one busy for a moment (its owner renewing it) is waited for */
		if (settled(s) == CT_EXP_LIVE && claim(s, CT_EXP_LIVE)) {
			exp_event(x, s, CT_EV_DESTROY);
			release_live(x, s);
		}
	}
}

void ct_exp_ev_of(const struct ct_exp_slot *s, uint8_t type, uint32_t now, struct ct_exp_ev *e)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->helper = s->helper;
	e->expire = s->expire;
	e->now = now;
	e->k = s->k;
	e->mt = s->mt;
}

void ct_exp_mask(const struct ct_exp_ev *e, uint8_t *msrc, uint8_t *mdst, uint16_t *msport,
	uint16_t *mdport)
{
	unsigned alen = e->k.fam == 4 ? 4 : 16;
	memset(msrc, 0, 16);
	memset(mdst, 0, 16);
	if (memcmp(e->k.src, zero16, 16) != 0)
		memset(msrc, 0xff, alen);
	memset(mdst, 0xff, alen);
	*msport = e->k.sport != 0 ? 0xffff : 0;
	*mdport = 0xffff;
}

int ct_format_expect(const struct ct_exp_ev *e, char *buf, size_t n)
{
	int af = e->k.fam == 4 ? AF_INET : AF_INET6;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ms[INET6_ADDRSTRLEN],
		md[INET6_ADDRSTRLEN], os[INET6_ADDRSTRLEN], od[INET6_ADDRSTRLEN];
	uint8_t msrc[16], mdst[16];
	uint16_t msp, mdp;
	ct_exp_mask(e, msrc, mdst, &msp, &mdp);
	inet_ntop(af, e->k.src, src, sizeof(src));
	inet_ntop(af, e->k.dst, dst, sizeof(dst));
	inet_ntop(af, msrc, ms, sizeof(ms));
	inet_ntop(af, mdst, md, sizeof(md));
	inet_ntop(af, e->mt.src, os, sizeof(os));
	inet_ntop(af, e->mt.dst, od, sizeof(od));
	int32_t left = (int32_t)(e->expire - e->now);
	unsigned secs = left > 0 ? (unsigned)left / CT_HZ : 0;
	const char *h = e->helper < CT_HELPER_MAX ? ct_helper_names[e->helper] : "?";
	const char *ty = e->type == CT_EV_NEW ? "[NEW]" : e->type == CT_EV_DESTROY ? "[DESTROY]" : NULL;
	return snprintf(buf, n,
			"%*s%s%u proto=%u src=%s dst=%s sport=%u dport=%u mask-src=%s mask-dst=%s "
			"sport=%u dport=%u master-src=%s master-dst=%s sport=%u dport=%u class=0 "
			"helper=%s",
			ty != NULL ? 9 : 0, ty != NULL ? ty : "", ty != NULL ? " " : "", secs,
			e->k.proto, src, dst, e->k.sport, e->k.dport, ms, md, msp, mdp, os, od,
			e->mt.sport, e->mt.dport, h);
}

/* ---- FTP ---- */

static bool prefix_ci(const uint8_t *l, uint32_t n, const char *p)
{
	uint32_t m = (uint32_t)strlen(p);
	if (n < m)
		return false;
	for (uint32_t i = 0; i < m; i++) {
		uint8_t c = l[i];
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 32);
		if (c != (uint8_t)p[i])
			return false;
	}
	return true;
}

/* Decimal number up to max at *i, at least one digit. */
static bool number(const uint8_t *l, uint32_t n, uint32_t *i, uint32_t max, uint32_t *v)
{
	uint32_t x = 0, start = *i;
	while (*i < n && l[*i] >= '0' && l[*i] <= '9') {
		x = x * 10 + (uint32_t)(l[*i] - '0');
		if (x > max)
			return false;
		(*i)++;
	}
	*v = x;
	return *i > start;
}

/* "a1,a2,a3,a4,p1,p2" (PORT, 227): an IPv4 address and a port, comma
 * separated, as the kernel's try_rfc959; with term, the character that
 * must follow (PORT's '\r'). */
static bool rfc959(const uint8_t *l, uint32_t n, uint32_t i, uint8_t term, uint8_t *addr,
	uint16_t *port, uint32_t *endp)
{
	uint32_t v[6];
	for (unsigned j = 0; j < 6; j++) {
		if (!number(l, n, &i, 255, &v[j]))
			return false;
		if (j < 5) {
			if (i >= n || l[i] != ',')
				return false;
			i++;
		}
	}
	if (term && (i >= n || l[i] != term))
		return false;
	*endp = i;
	memset(addr, 0, 16);
	for (unsigned j = 0; j < 4; j++)
		addr[j] = (uint8_t)v[j];
	*port = (uint16_t)(v[4] << 8 | v[5]);
	return *port != 0;
}

/* An IPv4 dotted quad or an IPv6 address (RFC 4291 text) in l[i..end),
 * as the C library reads them (the kernel's in4_pton/in6_pton). */
static bool addr_text(const uint8_t *l, uint32_t i, uint32_t end, uint8_t fam, uint8_t *addr)
{
	char txt[INET6_ADDRSTRLEN];
	if (end - i >= sizeof(txt) || memchr(l + i, '\0', end - i) != NULL)
		return false; /* too long, or cut short for the library */
	memcpy(txt, l + i, end - i);
	txt[end - i] = '\0';
	memset(addr, 0, 16);
	return inet_pton(fam == 4 ? AF_INET : AF_INET6, txt, addr) == 1;
}

/* "|1|a.b.c.d|port|" or "|2|v6|port|" (EPRT, RFC 2428), any delimiter. */
static bool eprt(const uint8_t *l, uint32_t n, uint32_t i, uint8_t fam, uint8_t *addr,
	uint16_t *port, uint32_t *endp)
{
	if (i + 3 > n)
		return false;
	uint8_t d = l[i];
	if (d < 33 || d > 126 || (d >= '0' && d <= '9'))
		return false;
	i++;
	if (i + 1 >= n || l[i] != (fam == 4 ? '1' : '2') || l[i + 1] != d)
		return false; /* one digit, as the kernel's */
	i++;
	uint32_t a0 = ++i;
	while (i < n && l[i] != d)
		i++;
	if (i >= n || !addr_text(l, a0, i, fam, addr))
		return false;
	i++;
	uint32_t p;
	if (!number(l, n, &i, 65535, &p) || i >= n || l[i] != d || p == 0)
		return false;
	if (i + 1 >= n || l[i + 1] != '\r')
		return false; /* the kernel's terminator */
	*port = (uint16_t)p;
	*endp = i + 1;
	return true;
}

/* "(|||port|)" (229, RFC 2428): the port only. */
static bool epsv(const uint8_t *l, uint32_t n, uint32_t i, uint16_t *port, uint32_t *endp)
{
	if (i + 4 > n)
		return false;
	uint8_t d = l[i];
	if (d < 33 || d > 126 || (d >= '0' && d <= '9') || l[i + 1] != d || l[i + 2] != d)
		return false;
	i += 3;
	uint32_t p;
	if (!number(l, n, &i, 65535, &p) || i >= n || l[i] != d || p == 0)
		return false;
	*port = (uint16_t)p;
	*endp = i + 1;
	return true;
}

/* After a command word: the spaces the kernel skips. */
static uint32_t skip_spaces(const uint8_t *l, uint32_t n, uint32_t i)
{
	while (i < n && l[i] == ' ')
		i++;
	return i;
}

bool ct_ftp_parse(const uint8_t *l, uint32_t n, unsigned dir, uint8_t fam, uint8_t *addr,
	uint16_t *port, struct ct_ftp_match *mt)
{
	struct ct_ftp_match m;
	uint32_t end = 0;
	bool ok = false;
	if (dir == 0) {
		if (fam == 4 && prefix_ci(l, n, "PORT ")) {
			m.type = CT_FTP_PORT;
			m.off = skip_spaces(l, n, 5);
			ok = rfc959(l, n, m.off, '\r', addr, port, &end);
		} else if (prefix_ci(l, n, "EPRT ")) {
			m.type = CT_FTP_EPRT;
			m.off = skip_spaces(l, n, 5);
			ok = eprt(l, n, m.off, fam, addr, port, &end);
		}
	} else if (fam == 4 && prefix_ci(l, n, "227 ")) {
		/* the numbers start at the first digit, parentheses or not
		 * (RFC 1123 4.1.2.6; the kernel's try_rfc1123) */
		uint32_t i = 4;
		while (i < n && !(l[i] >= '0' && l[i] <= '9'))
			i++;
		m.type = CT_FTP_PASV;
		m.off = i;
		ok = i < n && rfc959(l, n, i, 0, addr, port, &end);
	} else if (prefix_ci(l, n, "229 ")) {
		/* from '(' */
		uint32_t i = 4;
		while (i < n && l[i] != '(' && l[i] != '\r' && l[i] != '\n')
			i++;
		m.type = CT_FTP_EPSV;
		m.off = i + 1;
		ok = i < n && l[i] == '(' && epsv(l, n, i + 1, port, &end);
	}
	if (ok && mt != NULL) {
		m.len = end - m.off;
		*mt = m;
	}
	return ok;
}

/* Decimal v at p; returns the digits written. */
static uint32_t put_dec(char *p, uint32_t v)
{
	char t[10];
	uint32_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (uint32_t i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

uint32_t ct_ftp_format(uint8_t type, uint8_t fam, const uint8_t *addr, uint16_t port, char *out,
	uint32_t cap)
{
	char b[sizeof("|2||65535|") + INET6_ADDRSTRLEN];
	uint32_t n = 0;
	switch (type) {
	case CT_FTP_PORT:
	case CT_FTP_PASV:
		if (fam != 4)
			return 0;
		for (unsigned i = 0; i < 4; i++) {
			n += put_dec(b + n, addr[i]);
			b[n++] = ',';
		}
		n += put_dec(b + n, port >> 8);
		b[n++] = ',';
		n += put_dec(b + n, port & 0xff);
		break;
	case CT_FTP_EPRT:
		b[n++] = '|';
		b[n++] = fam == 4 ? '1' : '2';
		b[n++] = '|';
		if (fam == 4) {
			for (unsigned i = 0; i < 4; i++) {
				n += put_dec(b + n, addr[i]);
				if (i < 3)
					b[n++] = '.';
			}
		} else {
			/* all eight groups of four digits, as the kernel's %pI6 */
			static const char hex[] = "0123456789abcdef";
			for (unsigned i = 0; i < 16; i++) {
				b[n++] = hex[addr[i] >> 4];
				b[n++] = hex[addr[i] & 15];
				if ((i & 1) && i < 15)
					b[n++] = ':';
			}
		}
		b[n++] = '|';
		n += put_dec(b + n, port);
		b[n++] = '|';
		break;
	case CT_FTP_EPSV:
		memcpy(b, "|||", 3);
		n = 3;
		n += put_dec(b + n, port);
		b[n++] = '|';
		break;
	default:
		return 0;
	}
	if (n > cap)
		return 0;
	memcpy(out, b, n);
	return n;
}

/* ---- IRC ---- */

#define IRC_SEARCH 4095u /* the kernel's MAX_SEARCH_SIZE */

/* simple_strtoul(l + *i, 10): the decimal digits there, as many as there
 * are before n (the value wraps) */
static uint64_t dec_wrap(const uint8_t *l, uint32_t n, uint32_t *i)
{
	uint64_t v = 0;
	while (*i < n && l[*i] >= '0' && l[*i] <= '9')
		v = v * 10 + (uint64_t)(l[(*i)++] - '0');
	return v;
}

/* The kernel's parse_dcc on pl[d..): past a word, the address and port;
 * lim: where the kernel's search ends (data_end), all: the bytes there
 * are (its newline test reads data_end itself). */
static bool parse_dcc(const uint8_t *pl, uint32_t lim, uint32_t all, uint32_t d, uint32_t *ip,
	uint16_t *port, uint32_t *beg, uint32_t *end)
{
	if (d >= all)
		return false; /* (the kernel reads what lies after the payload) */
	/* at least 12 after the word: "AAAAAAAA P\1\n" */
	for (;;) {
		uint8_t c = pl[d++];
		if (c == ' ')
			break;
		if ((int64_t)d > (int64_t)lim - 12)
			return false;
	}
	uint32_t nl = d;
	uint32_t stop = lim + 1 < all ? lim + 1 : all;
	while (nl < stop && pl[nl] != '\n')
		nl++;
	if (nl >= stop)
		return false;
	*beg = d;
	*ip = (uint32_t)dec_wrap(pl, nl, &d);
	while (pl[d] == ' ') {
		if (d >= lim)
			return false;
		d++;
	}
	*port = (uint16_t)dec_wrap(pl, nl, &d);
	*end = d;
	return true;
}

bool ct_irc_parse(const uint8_t *pl, uint32_t n, const uint32_t *ok, uint32_t *ip,
	uint16_t *port, uint32_t *off, uint32_t *len)
{
	static const char *const cmds[] = { "SEND ", "CHAT ", "MOVE ", "TSEND ", "SCHAT " };
	int64_t lim = n < IRC_SEARCH ? n : IRC_SEARCH;
	uint32_t d = 0;
	while (d < lim - 10 && (pl[d] == ' ' || pl[d] == '\r' || pl[d] == '\n'))
		d++;
	if (d < lim - 10) { /* strlen("PRIVMSG x ") */
		if (!prefix_ci(pl + d, (uint32_t)lim - d, "PRIVMSG "))
			return false;
		d += 8;
	}
	/* at least " :\1DCC SEND t AAAAAAAA P\1\n" (26) */
	while (d < lim - 26) {
		if (pl[d] != ' ' || pl[d + 1] != ':') {
			d++;
			continue;
		}
		d += 2;
		if (memcmp(pl + d, "\1DCC ", 5) != 0)
			return false; /* the first message is not a DCC */
		d += 5;
		for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			uint32_t cl = (uint32_t)strlen(cmds[i]);
			if ((uint64_t)d + cl > n || memcmp(pl + d, cmds[i], cl) != 0)
				continue; /* (past the payload: the kernel reads on) */
			d += cl; /* the kernel's cursor stays there for the next ones */
			uint32_t a, beg, end;
			uint16_t p;
			if (!parse_dcc(pl, (uint32_t)lim, n, d, &a, &p, &beg, &end))
				continue;
			if (p == 0 || (ok != NULL && a != ok[0] && a != ok[1]))
				continue; /* "Forged DCC command" */
			*ip = a;
			*port = p;
			*off = beg;
			*len = end - beg;
			return true;
		}
	}
	return false;
}

/* ---- helper state: open addressing by entry index ---- */

#define HBITS 12
#define HMASK (CT_HELP_MAP - 1)
#define HMAX (CT_HELP_MAP / 4 * 3) /* states held at most: probes stay short */
_Static_assert(CT_HELP_MAP == 1u << HBITS, "CT_HELP_MAP is 2^HBITS");

static inline uint32_t hpos(uint32_t idx)
{
	return (idx * 0x9e3779b1u) >> (32 - HBITS);
}

/* Entry idx's state, NULL if it has none. */
static struct ct_help_state *hfind(const struct ct_table *t, uint32_t idx)
{
	for (uint32_t i = hpos(idx);; i = (i + 1) & HMASK) {
		const struct ct_help_state *h = &t->help[i];
		if (h->idx1 == idx + 1)
			return (struct ct_help_state *)h;
		if (h->idx1 == 0)
			return NULL;
	}
}

static void hdel(struct ct_table *t, uint32_t i);

/* The map is full: a state without a sequence adjustment makes room,
 * looked for from a random place (its connection's next line is not read
 * and its expectation only expires, as a clash cost in a direct-mapped
 * table); one whose connection NAT lengthened is never given up. */
static bool hevict(struct ct_table *t)
{
	uint32_t at = rnd_next(t);
	for (uint32_t k = 0; k < 64; k++) {
		uint32_t i = (at + k) & HMASK;
		if (t->help[i].idx1 != 0 && !t->help[i].sa_on) {
			hdel(t, i);
			return true;
		}
	}
	return false;
}

/* Entry idx's state, made if it has none; NULL: the map is full of
 * states that cannot be given up (counted). */
static struct ct_help_state *hget(struct ct_table *t, uint32_t idx)
{
	struct ct_help_state *h = hfind(t, idx);
	if (h != NULL)
		return h;
	if (t->help_n >= HMAX && !hevict(t)) {
		t->st.help_full++;
		return NULL;
	}
	uint32_t i = hpos(idx);
	while (t->help[i].idx1 != 0)
		i = (i + 1) & HMASK;
	h = &t->help[i];
	memset(h, 0, sizeof(*h));
	h->idx1 = idx + 1;
	t->help_n++;
	return h;
}

/* Free slot i, moving later states of its run back so every state stays
 * reachable from its place (no tombstones). */
static void hdel(struct ct_table *t, uint32_t i)
{
	for (uint32_t j = (i + 1) & HMASK;; j = (j + 1) & HMASK) {
		struct ct_help_state *h = &t->help[j];
		if (h->idx1 == 0)
			break;
		uint32_t home = hpos(h->idx1 - 1);
		/* h may fill the hole at i if i lies between its home and j */
		if (((j - home) & HMASK) >= ((j - i) & HMASK)) {
			t->help[i] = *h;
			i = j;
		}
	}
	memset(&t->help[i], 0, sizeof(t->help[i]));
	t->help_n--;
}

void ct_help_dying(struct ct_table *t, uint32_t idx)
{
	struct ct_help_state *h = hfind(t, idx);
	if (h == NULL)
		return;
	for (unsigned i = 0; i < CT_HELP_EXP_MAX && h->slot1[i] && t->exp != NULL; i++)
		ct_expect_drop(t->exp, h->slot1[i] - 1, t, idx);
	hdel(t, (uint32_t)(h - t->help));
}

/* The expectation entry idx's helper announces: a connection to addr:port
 * from the other side (the kernel's tuplehash[!dir].src), which must come
 * from where the announcing side is (tuplehash[dir].src: no PORT bounce to
 * a third host; addr NULL: nothing to check), expected at
 * tuplehash[!dir].dst after any translation. false: refused (counted). */
static bool exp_tuple(struct ct_table *t, uint32_t idx, unsigned dir, uint8_t proto,
	const uint8_t *addr, uint16_t port, struct ct_tuple *k)
{
	struct ct_tuple me, other;
	ct_entry_tuple(t, idx, dir, &me);
	ct_entry_tuple(t, idx, !dir, &other);
	if (addr != NULL && memcmp(addr, me.src, 16) != 0) {
		t->st.expect_refused++;
		return false;
	}
	memset(k, 0, sizeof(*k));
	k->fam = me.fam;
	k->proto = proto;
	memcpy(k->src, other.src, 16);
	memcpy(k->dst, other.dst, 16);
	k->sport = 0;
	k->dport = port;
	/* the master's zone id (either direction's), which the expected
	 * connection's packet must have (nf_ct_zone_equal_any) */
	k->zone = ct_zone_id(&me);
	return true;
}

/* Is listed slot s1 (slot + 1) still entry idx's expectation? (A look
 * without a claim: at worst a wrong answer about which one is oldest.) */
static bool exp_ours(const struct ct_table *t, uint32_t s1, uint32_t idx, uint32_t now)
{
	const struct ct_exp_slot *s = &t->exp->s[(s1 - 1) & t->exp->mask];
	uint32_t st = settled(s);
	if (st == CT_EXP_BUSY)
		return true; /* still busy: kept (a later look decides) */
	return st == CT_EXP_LIVE && s->owner == t && s->oidx == idx && !expired(s, now);
}

/* How many expectations a control connection of helper holds at most
 * (the kernel's max_expected: 1 for FTP and TFTP, IRC's max_dcc_channels) */
static unsigned exp_max(uint8_t helper)
{
	return helper == CT_HELPER_IRC ? CT_HELP_EXP_MAX : 1;
}

/* Record the connection's expectation of k; one more than its helper's
 * limit and the oldest goes first (the kernel's evict_oldest_expect, its
 * DESTROY before the new one's NEW), the same one again is renewed.
 * Returns ct_expect_add's answer (the slot); -1 counted as full. */
static int expect_set(struct ct_table *t, uint32_t idx, struct ct_help_state *h,
	const struct ct_tuple *k, uint8_t helper, const struct ct_exp_nat *nat, bool excl,
	uint32_t now)
{
	if (t->exp == NULL || h == NULL) {
		t->st.expect_full++;
		return -1;
	}
	unsigned max = exp_max(helper);
	/* the list, oldest first, without what connections took since; is
	 * k one of them (renewed in its place: nothing evicted)? */
	unsigned n = 0;
	bool again = false;
	for (unsigned i = 0; i < CT_HELP_EXP_MAX && h->slot1[i]; i++) {
		if (!exp_ours(t, h->slot1[i], idx, now))
			continue;
		h->slot1[n++] = h->slot1[i];
		again |= same_exp(&t->exp->s[(h->slot1[i] - 1) & t->exp->mask].k, k);
	}
	for (unsigned i = n; i < CT_HELP_EXP_MAX; i++)
		h->slot1[i] = 0;
	/* excl: another connection's already? refused before anything is
	 * evicted, as the kernel checks the clash first */
	if (excl && !again && taken_by_other(t->exp, exp_hash(k), k, UINT32_MAX, t, idx, now))
		return -2;
	if (!again && n >= max) {
		ct_expect_drop(t->exp, h->slot1[0] - 1, t, idx);
		memmove(h->slot1, h->slot1 + 1, (n - 1) * sizeof(h->slot1[0]));
		h->slot1[--n] = 0;
	}
	struct ct_tuple mt;
	ct_entry_tuple(t, idx, 0, &mt);
	const uint16_t *em = __atomic_load_n(&t->em, __ATOMIC_ACQUIRE);
	int slot = ct_expect_add(t->exp, k, helper, nat, t, idx, &mt,
				 ct_exp_evmask(em != NULL ? em[idx] : 0),
				 now + ct_ticks(CT_EXPECT_TIMEOUT_S), now, excl);
	if (slot == -1)
		t->st.expect_full++;
	if (slot < 0)
		return slot;
	/* this slot the newest (renewed: moved to the end) */
	uint32_t s1 = (uint32_t)slot + 1;
	unsigned m = 0;
	for (unsigned i = 0; i < n; i++)
		if (h->slot1[i] != s1)
			h->slot1[m++] = h->slot1[i];
	if (m >= max) { /* cannot be (evicted above); kept bounded all the same */
		ct_expect_drop(t->exp, h->slot1[0] - 1, t, idx);
		memmove(h->slot1, h->slot1 + 1, (m - 1) * sizeof(h->slot1[0]));
		m--;
	}
	h->slot1[m++] = s1;
	for (unsigned i = m; i < CT_HELP_EXP_MAX; i++)
		h->slot1[i] = 0;
	t->st.expect_new++;
	return slot;
}

static enum ct_help_verdict expect_k(struct ct_table *t, uint32_t idx, struct ct_tuple *k,
	uint8_t helper, const struct ct_exp_nat *nat, uint32_t now)
{
	if (expect_set(t, idx, hget(t, idx), k, helper, nat, true, now) != -2)
		return CT_HELP_PASS;
	t->st.help_drop++;
	return CT_HELP_DROP;
}

/* An announcement's expectation (not rewritten: FTP and IRC untranslated,
 * TFTP): CT_HELP_DROP when another connection expects the same (the
 * kernel's -EBUSY from nf_ct_expect_related: "cannot add expectation",
 * NF_DROP), else CT_HELP_PASS (also when there is no room: unlike the
 * kernel, the packet passes without it) */
static enum ct_help_verdict expect(struct ct_table *t, uint32_t idx, unsigned dir, uint8_t proto,
	const uint8_t *addr, uint16_t port, uint8_t helper, const struct ct_exp_nat *nat,
	uint32_t now)
{
	struct ct_tuple k;
	if (!exp_tuple(t, idx, dir, proto, addr, port, &k))
		return CT_HELP_PASS;
	return expect_k(t, idx, &k, helper, nat, now);
}

/* The kernel's nf_ct_seqadj_set: a segment of direction dir at seq grew by
 * off bytes; later sequence numbers move by off more than earlier ones (a
 * retransmission of an already adjusted segment changes nothing). */
static void seqadj_set(struct ct_help_state *h, unsigned dir, uint32_t seq, int32_t off)
{
	struct ct_seqadj *a = &h->sa[dir];
	if (off == 0)
		return;
	if (a->before == a->after || (int32_t)(a->pos - seq) < 0) {
		a->pos = seq;
		a->before = a->after;
		a->after += off;
	}
	h->sa_on = 1;
}

/* nf_nat_exp_find_port: expectation k (of translated connection idx, by
 * helper) at the announced port, else at one of up to 128 drawn above it
 * that no other connection expects. The slot, or < 0 ("all ports in use",
 * counted). */
static int nat_exp_port(struct ct_table *t, uint32_t idx, struct ct_help_state *h,
	struct ct_tuple *k, uint8_t helper, const struct ct_exp_nat *nat, uint32_t now)
{
	uint16_t port = k->dport;
	uint32_t range = 65535u - port;
	int left = range < 128 ? (int)range : 128;
	int slot;
	for (;;) {
		slot = expect_set(t, idx, h, k, helper, nat, true, now);
		if (slot != -2 || --left < 0)
			break;
		k->dport = (uint16_t)(port + rnd_next(t) % range);
	}
	if (slot < 0)
		t->st.help_drop++;
	return slot;
}

/* nf_nat_mangle_tcp_packet: text[0..tl) in place of b->pl[off..off+len),
 * in a segment of direction dir at seq; the change of length is
 * remembered for the sequence numbers (nf_ct_seqadj_set). If it does not
 * fit ("cannot mangle packet"), the expectation at slot goes and the
 * packet is dropped. */
static enum ct_help_verdict mangle(struct ct_table *t, uint32_t idx, struct ct_help_state *h,
	unsigned dir, uint32_t seq, struct ct_help_buf *b, uint32_t off, uint32_t len,
	const char *text, uint32_t tl, int slot)
{
	if (tl == 0 || b->n - len + tl > b->room) {
		ct_expect_drop(t->exp, (uint32_t)slot, t, idx);
		t->st.help_drop++;
		return CT_HELP_DROP;
	}
	memmove(b->pl + off + tl, b->pl + off + len, b->n - off - len);
	memcpy(b->pl + off, text, tl);
	int32_t delta = (int32_t)tl - (int32_t)len;
	b->n = (uint32_t)((int32_t)b->n + delta);
	seqadj_set(h, dir, seq, delta);
	t->st.help_mangled++;
	return CT_HELP_MANGLED;
}

/* nf_nat_ftp: the announcement mt of line pl[0..) of translated
 * connection idx becomes the address and port the other side must use:
 * the connection's address as that side sees it (tuplehash[!dir].dst) and
 * the announced port if no other connection expects it there, else one
 * drawn above it; the data connection is expected there and translated
 * back to the announced address and port (nf_nat_follow_master). */
static enum ct_help_verdict nat_ftp(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq,
	struct ct_help_buf *b, const struct ct_ftp_match *mt, const uint8_t *addr, uint16_t port,
	uint32_t now)
{
	struct ct_tuple me, k;
	if (!exp_tuple(t, idx, dir, 6, addr, port, &k))
		return CT_HELP_PASS;
	struct ct_help_state *h = hget(t, idx);
	if (h == NULL) {
		t->st.help_drop++;
		return CT_HELP_DROP; /* no state: a change of length could not be followed */
	}
	ct_entry_tuple(t, idx, dir, &me);
	struct ct_exp_nat nat = { .on = CT_EXP_NAT_DST, .port = port };
	memcpy(nat.addr, me.src, 16);
	if (memcmp(me.dst, k.src, 16) != 0) {
		nat.on |= CT_EXP_NAT_SRC; /* the other side is translated: seen as before */
		memcpy(nat.src_addr, me.dst, 16);
	}
	int slot = nat_exp_port(t, idx, h, &k, CT_HELPER_FTP, &nat, now);
	if (slot < 0)
		return CT_HELP_DROP;
	char text[sizeof("|2||65535|") + 46];
	uint32_t tl = ct_ftp_format(mt->type, k.fam, k.dst, k.dport, text, sizeof(text));
	return mangle(t, idx, h, dir, seq, b, mt->off, mt->len, text, tl, slot);
}

/* Is seq one of the positions after a newline remembered for dir? */
static bool at_nl(const struct ct_help_state *h, unsigned dir, uint32_t seq)
{
	for (unsigned i = 0; i < h->nl_n[dir]; i++)
		if (h->nl[dir][i] == seq)
			return true;
	return false;
}

/* The kernel's update_nl_seq: remember nl, in place of the older of two. */
static void nl_note(struct ct_help_state *h, unsigned dir, uint32_t nl)
{
	if (at_nl(h, dir, nl))
		return;
	if (h->nl_n[dir] < 2) {
		h->nl[dir][h->nl_n[dir]++] = nl;
		return;
	}
	unsigned old = (int32_t)(h->nl[dir][0] - h->nl[dir][1]) < 0 ? 0 : 1;
	if ((int32_t)(nl - h->nl[dir][old]) > 0)
		h->nl[dir][old] = nl;
}

/* FTP: one line per segment, read only if the segment starts right after
 * a newline seen in its direction (the last two are remembered, so a
 * retransmitted command is read again), as the kernel's; a segment that
 * starts mid-line, or the first one of each direction, is not read, it
 * only tells where the next line starts. */
static enum ct_help_verdict ftp_help(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq,
	struct ct_help_buf *b, uint32_t now)
{
	const struct ct_entry *e = &t->e[idx];
	if (!(e->status & CT_S_SEEN_REPLY))
		return CT_HELP_PASS; /* established packets only, as the kernel's */
	struct ct_help_state *h = hget(t, idx);
	const uint8_t *pl = b->pl;
	uint32_t n = b->n;
	bool nat = (e->status & (CT_S_SRC_NAT | CT_S_DST_NAT)) != 0;
	if (h == NULL) {
		/* no state (the map is full of lengthened connections): where
		 * lines start is not known. A translated connection's segment
		 * that reads as an announcement is dropped rather than let out
		 * with the address NAT hides (the kernel would rewrite it) */
		uint8_t a[16];
		uint16_t p;
		uint32_t end = 0;
		while (end < n && pl[end] != '\n')
			end++;
		if (nat && end < n && ct_ftp_parse(pl, end + 1, dir, e->fam, a, &p, NULL)) {
			t->st.help_drop++;
			return CT_HELP_DROP;
		}
		return CT_HELP_PASS;
	}
	bool at_line = at_nl(h, dir, seq);
	if (pl[n - 1] == '\n')
		nl_note(h, dir, seq + n); /* as received: before any rewriting */
	if (!at_line)
		return CT_HELP_PASS;
	uint32_t end = 0;
	while (end < n && pl[end] != '\n')
		end++;
	if (end == n)
		return CT_HELP_PASS;
	uint8_t addr[16];
	struct ct_tuple me;
	ct_entry_tuple(t, idx, dir, &me);
	memcpy(addr, me.src, 16); /* EPSV: the sender's address */
	uint16_t port;
	struct ct_ftp_match mt;
	if (!ct_ftp_parse(pl, end + 1, dir, e->fam, addr, &port, &mt))
		return CT_HELP_PASS;
	if (nat)
		return nat_ftp(t, idx, dir, seq, b, &mt, addr, port, now);
	return expect(t, idx, dir, 6, addr, port, CT_HELPER_FTP, NULL, now);
}

/* TFTP: a read or write request from the client; the server answers from
 * another port to the client's (nf_conntrack_tftp). */
static enum ct_help_verdict tftp_help(struct ct_table *t, uint32_t idx, const uint8_t *pl,
	uint32_t n, uint32_t now)
{
	if (n < 2 || pl[0] != 0 || (pl[1] != 1 && pl[1] != 2))
		return CT_HELP_PASS;
	struct ct_tuple orig, rep;
	ct_entry_tuple(t, idx, 0, &orig);
	ct_entry_tuple(t, idx, 1, &rep);
	/* expected: from the server (reply source), any port, to the
	 * client's address and port as the server sees them (the reply's
	 * destination). When the request was translated (the client behind
	 * SNAT or MASQUERADE), that is the translated address and port: the
	 * answer is translated back to the client's own, as nf_nat_tftp
	 * (nf_nat_follow_master, the saved source port) */
	struct ct_exp_nat nat = { 0 };
	if (memcmp(rep.dst, orig.src, 16) != 0 || rep.dport != orig.sport) {
		nat.on |= CT_EXP_NAT_DST;
		nat.port = orig.sport;
		memcpy(nat.addr, orig.src, 16);
	}
	/* the server behind DNAT: the client hears it from the address it
	 * asked */
	if (memcmp(rep.src, orig.dst, 16) != 0) {
		nat.on |= CT_EXP_NAT_SRC;
		memcpy(nat.src_addr, orig.dst, 16);
	}
	return expect(t, idx, 0, 17, NULL, rep.dport, CT_HELPER_TFTP, nat.on ? &nat : NULL, now);
}

static uint32_t v4_host(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* IRC: a DCC announcement in a segment from the client (nf_conntrack_irc,
 * translated as nf_nat_irc) */
static enum ct_help_verdict irc_help(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq,
	struct ct_help_buf *b, uint32_t now)
{
	const struct ct_entry *e = &t->e[idx];
	if (dir != 0 || !(e->status & CT_S_SEEN_REPLY) || e->fam != 4)
		return CT_HELP_PASS; /* the server's, or before the reply */
	struct ct_tuple me, other;
	ct_entry_tuple(t, idx, 0, &me);
	ct_entry_tuple(t, idx, 1, &other);
	/* the client's address, before or after NAT */
	uint32_t ok[2] = { v4_host(me.src), v4_host(other.dst) };
	uint32_t ip, off, len;
	uint16_t port;
	if (!ct_irc_parse(b->pl, b->n, ok, &ip, &port, &off, &len))
		return CT_HELP_PASS;
	/* from anywhere to the client as the other side sees it */
	struct ct_tuple k;
	if (!exp_tuple(t, idx, 0, 6, NULL, port, &k))
		return CT_HELP_PASS;
	memset(k.src, 0, sizeof(k.src));
	struct ct_help_state *h = hget(t, idx);
	if (!(e->status & (CT_S_SRC_NAT | CT_S_DST_NAT)))
		return expect_k(t, idx, &k, CT_HELPER_IRC, NULL, now);
	if (h == NULL) {
		t->st.help_drop++;
		return CT_HELP_DROP; /* no state: a change of length could not be followed */
	}
	/* nf_nat_irc: the connection translated back to the client's address
	 * and announced port, its source made the address the client talks
	 * to (nf_nat_follow_master with the reply's direction) */
	struct ct_exp_nat nat = { .on = CT_EXP_NAT_DST | CT_EXP_NAT_SRC, .port = port };
	memcpy(nat.addr, me.src, 16);
	memcpy(nat.src_addr, me.dst, 16);
	int slot = nat_exp_port(t, idx, h, &k, CT_HELPER_IRC, &nat, now);
	if (slot < 0)
		return CT_HELP_DROP;
	char text[sizeof("4294967295 65535")];
	uint32_t tl = put_dec(text, v4_host(k.dst));
	text[tl++] = ' ';
	tl += put_dec(text + tl, k.dport);
	return mangle(t, idx, h, 0, seq, b, off, len, text, tl, slot);
}

enum ct_help_verdict ct_help(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq,
	struct ct_help_buf *b, uint32_t now)
{
	const struct ct_entry *e = &t->e[idx];
	switch (ct_helper(e)) {
	case CT_HELPER_FTP:
		if (e->proto == 6 && b->n > 0)
			return ftp_help(t, idx, dir, seq, b, now);
		break;
	case CT_HELPER_TFTP:
		if (e->proto == 17)
			return tftp_help(t, idx, b->pl, b->n, now);
		break;
	case CT_HELPER_IRC:
		if (e->proto == 6 && b->n > 0)
			return irc_help(t, idx, dir, seq, b, now);
		break;
	default:
		break;
	}
	return CT_HELP_PASS;
}

/* ---- sequence adjustment ---- */

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Write v at p, the checksum at ck following (RFC 1624, 16-bit words). */
static void put32_csum(uint8_t *p, uint32_t v, uint8_t *ck)
{
	uint32_t old = rd32(p);
	uint32_t sum = (uint16_t)~((uint32_t)ck[0] << 8 | ck[1]);
	sum += (uint16_t)~(old >> 16) + (uint16_t)~(old & 0xffff);
	sum += (v >> 16) + (v & 0xffff);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	ck[0] = (uint8_t)(sum >> 8);
	ck[1] = (uint8_t)sum;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline int32_t sa_off(const struct ct_seqadj *a, uint32_t seq)
{
	return (int32_t)(seq - a->pos) > 0 ? a->after : a->before;
}

int32_t ct_seq_offset(const struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq)
{
	if (!ct_helper_seqadj(ct_helper(&t->e[idx])))
		return 0;
	const struct ct_help_state *h = hfind(t, idx);
	return h != NULL && h->sa_on ? sa_off(&h->sa[dir], seq) : 0;
}

/* An acknowledged sequence number of the other direction, back in the
 * numbering its sender used (nf_ct_seq_adjust's ack, nf_ct_sack_adjust). */
static inline uint32_t ack_back(const struct ct_seqadj *a, uint32_t v)
{
	return v - sa_off(a, v - (uint32_t)a->before);
}

bool ct_seqadj(struct ct_table *t, uint32_t idx, unsigned dir, uint8_t *th, uint32_t cap)
{
	if (!ct_helper_seqadj(ct_helper(&t->e[idx])) || cap < 20)
		return false;
	const struct ct_help_state *h = hfind(t, idx);
	if (h == NULL || !h->sa_on)
		return false;
	const struct ct_seqadj *me = &h->sa[dir], *other = &h->sa[!dir];
	uint8_t *ck = th + 16;
	uint32_t seq = rd32(th + 4);
	put32_csum(th + 4, seq + (uint32_t)sa_off(me, seq), ck);
	if (!(th[13] & 0x10))
		return true; /* no ACK */
	put32_csum(th + 8, ack_back(other, rd32(th + 8)), ck);
	/* SACK blocks (the kernel's nf_ct_sack_adjust: whole options only) */
	uint32_t end = (uint32_t)(th[12] >> 4) * 4;
	if (end > cap)
		end = cap;
	for (uint32_t o = 20; o < end;) {
		uint8_t kind = th[o];
		if (kind == 0)
			break;
		if (kind == 1) {
			o++;
			continue;
		}
		if (o + 1 >= end || th[o + 1] < 2 || o + th[o + 1] > end)
			break;
		uint8_t len = th[o + 1];
		if (kind == 5 && len >= 10 && (len - 2) % 8 == 0)
			for (uint32_t s = o + 2; s < o + len; s += 4)
				put32_csum(th + s, ack_back(other, rd32(th + s)), ck);
		o += len;
	}
	return true;
}
