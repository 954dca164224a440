/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_help: FTP and TFTP helpers and the shared expectation table. See
 * ct_help.h.
 */
#include <arpa/inet.h>
#include <string.h>

#include "ct_help.h"
#include "ct_priv.h"

const char *const ct_helper_names[CT_HELPER_MAX] = { "", "ftp", "tftp" };

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
		a->sport == b->sport && memcmp(a->src, b->src, 16) == 0 &&
		memcmp(a->dst, b->dst, 16) == 0;
}

/* Does the connection k match expectation e (its source port open)? */
static bool exp_match(const struct ct_tuple *e, const struct ct_tuple *k)
{
	return e->fam == k->fam && e->proto == k->proto && e->dport == k->dport &&
		(e->sport == 0 || e->sport == k->sport) && memcmp(e->src, k->src, 16) == 0 &&
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
	const struct ct_exp_nat *nat, const void *owner, uint32_t oidx, uint32_t expire)
{
	s->k = *k;
	s->helper = helper;
	if (nat != NULL)
		s->nat = *nat;
	else
		memset(&s->nat, 0, sizeof(s->nat));
	s->owner = owner;
	s->oidx = oidx;
	s->expire = expire;
}

int ct_expect_add(struct ct_expect *x, const struct ct_tuple *k, uint8_t helper,
	const struct ct_exp_nat *nat, const void *owner, uint32_t oidx, uint32_t expire,
	uint32_t now)
{
	uint32_t h = exp_hash(k);
	/* the same announcement again: renewed (by its latest announcer) */
	for (unsigned i = 0; i < PROBES; i++) {
		struct ct_exp_slot *s = &x->s[(h + i) & x->mask];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != CT_EXP_LIVE ||
		    !same_exp(&s->k, k) || !claim(s, CT_EXP_LIVE))
			continue;
		bool same = same_exp(&s->k, k) && !expired(s, now); /* not changed meanwhile */
		if (same)
			fill(s, k, helper, nat, owner, oidx, expire);
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
		if (same)
			return (int)((h + i) & x->mask);
	}
	/* a free slot, or an expired one; what another thread took between
	 * the look and the claim is checked again once ours */
	for (unsigned i = 0; i < PROBES; i++) {
		struct ct_exp_slot *s = &x->s[(h + i) & x->mask];
		uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (st == CT_EXP_FREE) {
			if (!claim(s, CT_EXP_FREE))
				continue;
			fill(s, k, helper, nat, owner, oidx, expire);
			__atomic_fetch_add(&x->live, 1, __ATOMIC_RELAXED);
		} else if (st == CT_EXP_LIVE && expired(s, now)) {
			if (!claim(s, CT_EXP_LIVE))
				continue;
			if (!expired(s, now)) { /* renewed or replaced meanwhile */
				__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
				continue;
			}
			fill(s, k, helper, nat, owner, oidx, expire); /* one goes, one comes: live stays */
		} else {
			continue;
		}
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
		return (int)((h + i) & x->mask);
	}
	return -1;
}

/* Free a slot we hold (busy) that was live. */
static inline void release_live(struct ct_expect *x, struct ct_exp_slot *s)
{
	__atomic_fetch_sub(&x->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->state, CT_EXP_FREE, __ATOMIC_RELEASE);
}

void ct_expect_drop(struct ct_expect *x, uint32_t slot, const void *owner, uint32_t oidx)
{
	struct ct_exp_slot *s = &x->s[slot & x->mask];
	if (!claim(s, CT_EXP_LIVE))
		return; /* taken, flushed, or being changed: not ours any more */
	if (s->owner == owner && s->oidx == oidx)
		release_live(x, s);
	else
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

bool ct_expect_take(struct ct_expect *x, const struct ct_tuple *k, uint32_t now,
	struct ct_exp_nat *nat)
{
	if (__atomic_load_n(&x->live, __ATOMIC_RELAXED) == 0)
		return false;
	/* the place ignores the source port: hash the tuple with sport 0 */
	struct ct_tuple q = *k;
	q.sport = 0;
	uint32_t h = exp_hash(&q);
	for (unsigned i = 0; i < PROBES; i++) {
		struct ct_exp_slot *s = &x->s[(h + i) & x->mask];
		/* a slot busy for a moment (its announcer renewing it on a
		 * retransmitted request, another worker passing by) may be
		 * ours: wait for it, a bounded while */
		uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		for (unsigned spin = 0; st == CT_EXP_BUSY && spin < 1024; spin++) {
			cpu_relax();
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
			release_live(x, s); /* passing by an expired one: free it */
			continue;
		}
		if (exp_match(&s->k, k)) {
			if (nat != NULL)
				*nat = s->nat; /* ours while busy */
			release_live(x, s); /* used once */
			return true;
		}
		__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE); /* reused meanwhile */
	}
	return false;
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
		if (expired(s, now))
			release_live(x, s);
		else
			__atomic_store_n(&s->state, CT_EXP_LIVE, __ATOMIC_RELEASE);
	}
}

void ct_expect_flush(struct ct_expect *x)
{
	for (uint32_t i = 0; i <= x->mask; i++) {
		struct ct_exp_slot *s = &x->s[i];
		if (claim(s, CT_EXP_LIVE))
			release_live(x, s);
	}
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
	uint16_t *port)
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
	uint16_t *port)
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
	return true;
}

/* "(|||port|)" (229, RFC 2428): the port only. */
static bool epsv(const uint8_t *l, uint32_t n, uint32_t i, uint16_t *port)
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
	uint16_t *port)
{
	if (dir == 0) {
		if (fam == 4 && prefix_ci(l, n, "PORT "))
			return rfc959(l, n, skip_spaces(l, n, 5), '\r', addr, port);
		if (prefix_ci(l, n, "EPRT "))
			return eprt(l, n, skip_spaces(l, n, 5), fam, addr, port);
		return false;
	}
	/* 227: the numbers start at the first digit, parentheses or not
	 * (RFC 1123 4.1.2.6; the kernel's try_rfc1123) */
	uint32_t i = 4;
	if (fam == 4 && prefix_ci(l, n, "227 ")) {
		while (i < n && !(l[i] >= '0' && l[i] <= '9'))
			i++;
		return i < n && rfc959(l, n, i, 0, addr, port);
	}
	/* 229: from '(' */
	if (prefix_ci(l, n, "229 ")) {
		while (i < n && l[i] != '(' && l[i] != '\r' && l[i] != '\n')
			i++;
		return i < n && l[i] == '(' && epsv(l, n, i + 1, port);
	}
	return false;
}

/* The helper state of entry idx: its slot of t->help, claimed for it if
 * it has none (another connection's state there is lost: a clash). */
static struct ct_help_state *state_of(struct ct_table *t, uint32_t idx)
{
	struct ct_help_state *h = &t->help[idx & (CT_HELP_MAP - 1)];
	if (h->idx1 != idx + 1) {
		memset(h, 0, sizeof(*h));
		h->idx1 = idx + 1;
	}
	return h;
}

void ct_help_dying(struct ct_table *t, uint32_t idx)
{
	struct ct_help_state *h = &t->help[idx & (CT_HELP_MAP - 1)];
	if (h->idx1 != idx + 1)
		return;
	if (h->slot1 && t->exp != NULL)
		ct_expect_drop(t->exp, h->slot1 - 1, t, idx);
	memset(h, 0, sizeof(*h));
}

/* Entry idx's helper announces a connection to addr:port from the other
 * side (the kernel's tuplehash[!dir].src), which must come from where the
 * announcing side is (tuplehash[dir].src: no PORT bounce to a third host;
 * addr NULL: nothing to check), expected at tuplehash[!dir].dst after any
 * translation. It replaces the connection's previous expectation (the
 * kernel's max_expected of 1 for both helpers). */
static void expect(struct ct_table *t, uint32_t idx, unsigned dir, uint8_t proto,
	const uint8_t *addr, uint16_t port, uint8_t helper, const struct ct_exp_nat *nat,
	uint32_t now)
{
	struct ct_tuple me, other, k;
	ct_entry_tuple(t, idx, dir, &me);
	ct_entry_tuple(t, idx, !dir, &other);
	if (addr != NULL && memcmp(addr, me.src, 16) != 0) {
		t->st.expect_refused++;
		return;
	}
	memset(&k, 0, sizeof(k));
	k.fam = me.fam;
	k.proto = proto;
	memcpy(k.src, other.src, 16);
	memcpy(k.dst, other.dst, 16);
	k.sport = 0;
	k.dport = port;
	if (t->exp == NULL) {
		t->st.expect_full++;
		return;
	}
	struct ct_help_state *h = state_of(t, idx);
	if (h->slot1) {
		ct_expect_drop(t->exp, h->slot1 - 1, t, idx);
		h->slot1 = 0;
	}
	int slot = ct_expect_add(t->exp, &k, helper, nat, t, idx,
				 now + ct_ticks(CT_EXPECT_TIMEOUT_S), now);
	if (slot < 0) {
		t->st.expect_full++;
		return;
	}
	h->slot1 = (uint32_t)slot + 1;
	t->st.expect_new++;
}

/* FTP: one line per segment, read only if the segment starts right after
 * the last newline seen in its direction, as the kernel's (a segment that
 * starts mid-line, or the first one of each direction, is not read; it
 * only tells where the next line starts). */
static void ftp_help(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq,
	const uint8_t *pl, uint32_t n, uint32_t now)
{
	const struct ct_entry *e = &t->e[idx];
	if (!(e->status & CT_S_SEEN_REPLY))
		return; /* established packets only, as the kernel's */
	struct ct_help_state *h = state_of(t, idx);
	bool at_line = h->nl_ok[dir] && h->nl[dir] == seq;
	if (n > 0 && pl[n - 1] == '\n') {
		h->nl[dir] = seq + n;
		h->nl_ok[dir] = 1;
	}
	if (!at_line)
		return;
	uint32_t end = 0;
	while (end < n && pl[end] != '\n')
		end++;
	if (end == n)
		return;
	uint8_t addr[16];
	struct ct_tuple me;
	ct_entry_tuple(t, idx, dir, &me);
	memcpy(addr, me.src, 16); /* EPSV: the sender's address */
	uint16_t port;
	if (ct_ftp_parse(pl, end + 1, dir, e->fam, addr, &port))
		expect(t, idx, dir, 6, addr, port, CT_HELPER_FTP, NULL, now);
}

/* TFTP: a read or write request from the client; the server answers from
 * another port to the client's (nf_conntrack_tftp). */
static void tftp_help(struct ct_table *t, uint32_t idx, const uint8_t *pl, uint32_t n,
	uint32_t now)
{
	if (n < 2 || pl[0] != 0 || (pl[1] != 1 && pl[1] != 2))
		return;
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
	expect(t, idx, 0, 17, NULL, rep.dport, CT_HELPER_TFTP, nat.on ? &nat : NULL, now);
}

void ct_help(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq, const uint8_t *pl,
	uint32_t n, uint32_t now)
{
	const struct ct_entry *e = &t->e[idx];
	switch (ct_helper(e)) {
	case CT_HELPER_FTP:
		if (e->proto == 6 && n > 0)
			ftp_help(t, idx, dir, seq, pl, n, now);
		break;
	case CT_HELPER_TFTP:
		if (e->proto == 17)
			tftp_help(t, idx, pl, n, now);
		break;
	default:
		break;
	}
}
