/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_prog: compile a validated ruleset into the immutable program the
 * workers run (rules_prog.h), and fold worker counters back into a ruleset.
 *
 * Control thread only. Compilation walks the model twice per family: the
 * first pass numbers the chains that exist in the family (so jumps can be
 * resolved to indexes), the second flattens their rules. Counter ids follow
 * the model (table, chain, rule), so a rule of both families has one id,
 * and policies get one id per family, as the model keeps them.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"
#include "rules_prog.h"
#include "rules_hashlimit.h"
#include "rules_recent.h"

struct cctx {
	const struct rules_ruleset *rs;
	struct rules_prog *p;
	const char *const *ports;
	unsigned n_ports;
	unsigned flags;
	char *err;
	size_t errlen;
	/* per model (table, chain): counter id of rule 0 and of the policies */
	uint32_t *rule_ctr0[RULES_T_COUNT];
	uint32_t *pol_ctr[RULES_T_COUNT]; /* two per chain: [2*c + fi] */
	int32_t *cidx[RULES_T_COUNT];     /* compiled chain index in the current family */
	size_t ext_used; /* exts (and setrefs, parallel) filled so far */
	const struct rules_prog *prev; /* the program replaced: classifiers to reuse */
};

/* The classifier of prev's chain (table, name) in family fi if the new
 * chain (ids, n rules) starts with the rules it was built for and adds at
 * most RULES_TAIL_MAX after them; NULL otherwise. */
static struct rules_cls *reusable_cls(const struct rules_prog *prev, int fi, uint8_t table,
	const char *name, const uint64_t *ids, uint32_t n)
{
	if (prev == NULL)
		return NULL;
	const struct rules_fprog *pf = &prev->f[fi];
	for (uint32_t k = 0; pf->meta && k < pf->n_chains; k++) {
		const struct rules_cmeta *m = &pf->meta[k];
		if (m->table != table || strcmp(m->name, name) != 0)
			continue;
		struct rules_cls *cls = pf->chains[k].cls;
		if (cls == NULL || cls->n_rules > n || n - cls->n_rules > RULES_TAIL_MAX)
			return NULL;
		for (uint32_t i = 0; i < cls->n_rules; i++)
			if (ids[i] == 0 || ids[i] != m->ids[i])
				return NULL;
		return cls;
	}
	return NULL;
}

static int cerr(struct cctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cerr(struct cctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (c->err && c->errlen)
		vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static uint32_t iface_mask(const struct cctx *c, const char *name, bool wild)
{
	uint32_t m = 0;
	size_t len = strlen(name);
	for (unsigned i = 0; i < c->n_ports; i++) {
		if (wild ? strncmp(c->ports[i], name, len) == 0 : strcmp(c->ports[i], name) == 0)
			m |= 1u << i;
	}
	return m;
}

static void mask_of(int fam, uint8_t plen, struct rules_addr *m)
{
	memset(m, 0, sizeof(*m));
	unsigned bits = fam == RULES_F_V4 ? 32 : 128;
	if (plen > bits)
		plen = (uint8_t)bits;
	for (unsigned i = 0; i < plen / 8; i++)
		m->b[i] = 0xff;
	if (plen % 8)
		m->b[plen / 8] = (uint8_t)(0xff00 >> (plen % 8));
}

static uint64_t addr_key(int fam, const struct rules_addr *a)
{
	uint64_t v = 0;
	unsigned n = fam == RULES_F_V4 ? 4 : 8;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | a->b[i];
	return v;
}

/* The classifier's view of one rule: what it selects, widened where it
 * cannot be expressed as one range per dimension. */
static void project(int fam, const struct rules_crule *cr, struct rules_cls_range *rg)
{
	for (int d = 0; d < RULES_CLS_DIMS; d++) {
		rg->lo[d] = 0;
		rg->hi[d] = UINT64_MAX;
	}
	const struct rules_addr *a[2] = {&cr->src, &cr->dst};
	const struct rules_addr *m[2] = {&cr->smask, &cr->dmask};
	const uint8_t f[2] = {RULES_CF_SRC, RULES_CF_DST};
	const uint8_t iv[2] = {RULES_INV_SRC, RULES_INV_DST};
	for (int i = 0; i < 2; i++) {
		if (!(cr->flags & f[i]) || (cr->inv & iv[i]))
			continue;
		uint64_t lo = addr_key(fam, a[i]), mk = addr_key(fam, m[i]);
		uint64_t full = fam == RULES_F_V4 ? 0xffffffffull : UINT64_MAX;
		rg->lo[i] = lo & mk;
		rg->hi[i] = (lo & mk) | (full & ~mk);
	}
	if ((cr->flags & RULES_CF_PROTO) && !(cr->inv & RULES_INV_PROTO))
		rg->lo[RULES_CLS_PROTO] = rg->hi[RULES_CLS_PROTO] = cr->proto;
	for (unsigned i = 0; i < cr->n_match; i++) {
		const struct rules_ext *x = &cr->match[i];
		if (x->kind != RULES_X_TCP && x->kind != RULES_X_UDP)
			continue;
		const struct rules_prange *pr[2] = {&x->u.tcp.sport, &x->u.tcp.dport};
		const int dim[2] = {RULES_CLS_SPORT, RULES_CLS_DPORT};
		const uint32_t bit[2] = {1u << RULES_O_SPORT, 1u << RULES_O_DPORT};
		for (int k = 0; k < 2; k++) {
			if (!(x->present & bit[k]) || (x->invert & bit[k]))
				continue;
			/* several port matches in one rule: intersect */
			if (pr[k]->lo > rg->lo[dim[k]])
				rg->lo[dim[k]] = pr[k]->lo;
			if (pr[k]->hi < rg->hi[dim[k]])
				rg->hi[dim[k]] = pr[k]->hi;
		}
		if (rg->lo[RULES_CLS_SPORT] > rg->hi[RULES_CLS_SPORT] ||
			rg->lo[RULES_CLS_DPORT] > rg->hi[RULES_CLS_DPORT]) {
			/* can never match: keep it a candidate nowhere useful but valid */
			rg->lo[RULES_CLS_DPORT] = rg->hi[RULES_CLS_DPORT] = 0;
			rg->lo[RULES_CLS_SPORT] = rg->hi[RULES_CLS_SPORT] = 0;
		}
	}
}

/* A contiguous IPv4 prefix mask (host order), with no bit of net outside it. */
static bool v4_prefix(const struct rules_addr *net, const struct rules_addr *mask)
{
	uint32_t n = (uint32_t)addr_key(RULES_F_V4, net), m = (uint32_t)addr_key(RULES_F_V4, mask);
	return ((~m + 1) & ~m) == 0 && (n & ~m) == 0;
}

/*
 * Whether the quick check of cr (its projection) is its whole match, so
 * that the evaluator need not read the rule to know that it matches:
 * IPv4, addresses as prefixes, protocol, and at most one -m tcp/udp with
 * plain port ranges (comments aside), nothing inverted. rule_match() is
 * what this must agree with; test_evaldiff compares the two paths.
 */
static enum rules_qx quick_exact(int fam, const struct rules_crule *cr)
{
	if (fam != RULES_F_V4 || cr->inv != 0 ||
		(cr->flags & ~(RULES_CF_SRC | RULES_CF_DST | RULES_CF_PROTO)) != 0)
		return RULES_QX_NO;
	if ((cr->flags & RULES_CF_SRC) && !v4_prefix(&cr->src, &cr->smask))
		return RULES_QX_NO;
	if ((cr->flags & RULES_CF_DST) && !v4_prefix(&cr->dst, &cr->dmask))
		return RULES_QX_NO;
	enum rules_qx qx = RULES_QX_YES;
	for (unsigned i = 0; i < cr->n_match; i++) {
		const struct rules_ext *x = &cr->match[i];
		if (x->kind == RULES_X_COMMENT)
			continue;
		if ((x->kind != RULES_X_TCP && x->kind != RULES_X_UDP) || qx != RULES_QX_YES)
			return RULES_QX_NO;
		/* the ext checks the packet's protocol itself: the projection
		 * does so only through -p */
		if (!(cr->flags & RULES_CF_PROTO) || cr->proto != (x->kind == RULES_X_TCP ? 6 : 17))
			return RULES_QX_NO;
		if (x->invert != 0 || (x->present & ~((1u << RULES_O_SPORT) | (1u << RULES_O_DPORT))) != 0)
			return RULES_QX_NO;
		/* an empty range matches nothing; its projection is not empty */
		if (((x->present & (1u << RULES_O_SPORT)) && x->u.tcp.sport.lo > x->u.tcp.sport.hi) ||
			((x->present & (1u << RULES_O_DPORT)) && x->u.tcp.dport.lo > x->u.tcp.dport.hi))
			return RULES_QX_NO;
		/* the key's ports are 0 without an L4 header, the ext never
		 * matches then: exact only for packets that have one */
		qx = RULES_QX_L4;
	}
	return qx;
}

/* ---- sets ---- */

static int ent_cmp(const void *a, const void *b)
{
	const struct rules_set_entry *x = a, *y = b;
	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1;
	/* the address as memcmp orders it: two big-endian 64-bit halves */
	uint64_t ka[2], kb[2];
	memcpy(ka, x->addr.b, 16);
	memcpy(kb, y->addr.b, 16);
	for (int i = 0; i < 2; i++) {
		uint64_t u = be64toh(ka[i]), v = be64toh(kb[i]);
		if (u != v)
			return u < v ? -1 : 1;
	}
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port_lo != y->port_lo)
		return x->port_lo < y->port_lo ? -1 : 1;
	/* hash:ip,port,net: the longest third prefix first (it decides) */
	if (x->plen2 != y->plen2)
		return x->plen2 > y->plen2 ? -1 : 1;
	int c = memcmp(x->addr2.b, y->addr2.b, sizeof(x->addr2.b));
	if (c)
		return c < 0 ? -1 : 1;
	return x->port_hi < y->port_hi ? -1 : x->port_hi > y->port_hi;
}

static int idx_cmp(const void *a, const void *b, void *arg)
{
	const struct rules_set_entry *e = arg;
	return ent_cmp(&e[*(const uint32_t *)a], &e[*(const uint32_t *)b]);
}

long rules_cset_find(const struct rules_cset *cs, const struct rules_set_entry *e, uint64_t now,
	bool *live, uint32_t *pos)
{
	*live = false;
	if (cs->src == NULL)
		return -1;
	for (unsigned g = 0; g < cs->n_groups; g++) {
		if (cs->g[g].plen != e->plen)
			continue;
		uint32_t lo = cs->g[g].first, hi = lo + cs->g[g].n, end = hi;
		while (lo < hi) { /* the element's place in the set's whole order */
			uint32_t mid = lo + (hi - lo) / 2;
			if (ent_cmp(&cs->e[mid], e) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (uint32_t i = lo; i < end && !ent_cmp(&cs->e[i], e); i++) {
			const struct rules_set_entry *x = &cs->e[i];
			if (!rules_set_entry_same(x, e))
				continue;
			/* the live one of duplicates (a file may add one twice) */
			bool alive = rules_set_entry_live(x, now);
			if (!alive && i + 1 < end && !ent_cmp(x, &cs->e[i + 1]))
				continue;
			*live = alive;
			*pos = i;
			return (long)cs->src[i];
		}
		return -1;
	}
	return -1;
}

void rules_cset_free(struct rules_cset *cs)
{
	if (cs == NULL)
		return;
	free(cs->e);
	free(cs->ports);
	free(cs->pexp);
	free(cs->src);
	free(cs->mem);
	free(cs);
}

static int compile_set(struct rules_cset *cs, const struct rules_set *s);

/* list:set: its members in order, each with where its compiled set is */
static int compile_list(struct rules_cset *cs, const struct rules_set *s,
	const struct rules_ruleset *rs, const struct rules_cset_slot *slots)
{
	cs->e = malloc((s->n ? s->n : 1) * sizeof(*cs->e));
	cs->mem = calloc(s->n ? s->n : 1, sizeof(*cs->mem));
	if (!cs->e || !cs->mem)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		cs->e[i] = s->e[i];
		char name[32];
		rules_set_member(&s->e[i], name);
		const struct rules_set *m = rs ? rules_set_find(rs, name) : NULL;
		if (m != NULL && slots != NULL && m->type != RULES_SET_LIST)
			cs->mem[i] = &slots[m - rs->sets];
	}
	return 0;
}

struct rules_cset *rules_cset_build(const struct rules_set *s, const struct rules_ruleset *rs,
	const struct rules_cset_slot *slots)
{
	struct rules_cset *cs = malloc(sizeof(*cs));
	if (cs == NULL)
		return NULL;
	if (compile_set(cs, s) < 0 ||
	    (s->type == RULES_SET_LIST && compile_list(cs, s, rs, slots) < 0)) {
		rules_cset_free(cs);
		return NULL;
	}
	return cs;
}

static int compile_set(struct rules_cset *cs, const struct rules_set *s)
{
	memset(cs, 0, sizeof(*cs));
	cs->type = s->type;
	cs->fam = s->fam;
	cs->n = (uint32_t)s->n;
	cs->has_timeout = s->has_timeout;
	cs->netmask = s->netmask;
	cs->ip_lo = s->ip_lo;
	cs->ip_hi = s->ip_hi;
	if (s->type == RULES_SET_BITMAP_PORT && s->has_timeout) {
		cs->range_lo = s->range_lo;
		cs->range_hi = s->range_hi;
		cs->pexp = calloc((size_t)s->range_hi - s->range_lo + 1, sizeof(*cs->pexp));
		if (!cs->pexp)
			return -ENOMEM;
		for (size_t i = 0; i < s->n; i++)
			for (uint32_t p = s->e[i].port_lo; p <= s->e[i].port_hi; p++) {
				uint64_t x = s->e[i].exp_us ? s->e[i].exp_us : UINT64_MAX;
				uint64_t *d = &cs->pexp[p - s->range_lo];
				if (x > *d) /* the longest lived of overlapping ranges */
					*d = x;
			}
		return 0;
	}
	if (s->type == RULES_SET_BITMAP_PORT) {
		cs->ports = calloc(65536 / 8, 1);
		if (!cs->ports)
			return -ENOMEM;
		for (size_t i = 0; i < s->n; i++)
			for (uint32_t p = s->e[i].port_lo; p <= s->e[i].port_hi; p++)
				cs->ports[p / 8] |= (uint8_t)(1u << (p % 8));
		return 0;
	}
	if (s->type == RULES_SET_LIST)
		return 0; /* compile_list */
	cs->e = malloc((s->n ? s->n : 1) * sizeof(*cs->e));
	cs->src = malloc((s->n ? s->n : 1) * sizeof(*cs->src));
	if (!cs->e || !cs->src)
		return -ENOMEM; /* freed by rules_cset_build */
	/* sorted through their indexes, which -j SET's lookups keep (src) */
	for (uint32_t i = 0; i < s->n; i++)
		cs->src[i] = i;
	qsort_r(cs->src, s->n, sizeof(*cs->src), idx_cmp, (void *)s->e);
	for (uint32_t i = 0; i < s->n; i++) {
		cs->e[i] = s->e[cs->src[i]];
		if (cs->e[i].plen2 > cs->plen2_max)
			cs->plen2_max = cs->e[i].plen2;
	}
	/* groups of one prefix length, longest first */
	for (uint32_t i = 0; i < cs->n;) {
		uint32_t j = i;
		while (j < cs->n && cs->e[j].plen == cs->e[i].plen)
			j++;
		if (cs->n_groups < RULES_CSET_GROUPS) {
			cs->g[cs->n_groups].first = i;
			cs->g[cs->n_groups].n = j - i;
			cs->g[cs->n_groups].plen = cs->e[i].plen;
			cs->n_groups++;
		}
		i = j;
	}
	return 0;
}

/* What the packet's view must hold for set s: the time (entries expire),
 * the datagram (SCTP and UDP-Lite ports of port sets); a list:set, what
 * any member might. */
static void set_needs(struct rules_prog *p, const struct rules_set *s)
{
	if (s->has_timeout)
		p->need_clock = true; /* entries expire */
	if (rules_set_type_port(s->type))
		p->need_payload = true;
	if (s->type == RULES_SET_LIST) {
		/* its members may change with the list alone (no new program):
		 * whatever any set might need */
		p->need_clock = true;
		p->need_payload = true;
	}
}

/* ---- chains ---- */

/* Longest run of jumps (pushes) from chain ci; -1 on a loop. */
static int depth_of(const struct rules_fprog *fp, uint32_t ci, int8_t *memo, int guard)
{
	if (memo[ci] >= 0)
		return memo[ci];
	if (memo[ci] == -2 || guard > (int)fp->n_chains)
		return -1;
	memo[ci] = -2;
	int best = 0;
	const struct rules_cchain *ch = &fp->chains[ci];
	for (uint32_t i = 0; i < ch->n; i++) {
		const struct rules_crule *r = &fp->rules[ch->first + i];
		if (r->kind != RULES_CK_JUMP && r->kind != RULES_CK_GOTO)
			continue;
		int d = depth_of(fp, r->arg, memo, guard + 1);
		if (d < 0)
			return -1;
		d += r->kind == RULES_CK_JUMP;
		if (d > best)
			best = d;
	}
	memo[ci] = (int8_t)(best > 100 ? 100 : best);
	return best;
}

/* -m hashlimit: the table of the match's name and family. The first rule
 * of a name (in the program's order) makes it and gives it its config;
 * later rules of that name use that config (the kernel's hinfo->cfg) and
 * only their own direction. */
static int compile_hashlimit(struct cctx *c, int fam, struct rules_ext *x)
{
	struct rules_m_hashlimit *h = &x->u.hashlimit;
	h->fam = fam == RULES_F_V6 ? 6 : 4;
	h->tbl = NULL;
	h->tc = NULL;
	for (size_t i = 0; i + 1 < c->ext_used; i++) {
		const struct rules_ext *o = &c->p->exts[i];
		if (o->kind == RULES_X_HASHLIMIT && o->u.hashlimit.fam == h->fam &&
		    strcmp(o->u.hashlimit.name, h->name) == 0) {
			h->tc = o->u.hashlimit.tc;
			return 0;
		}
	}
	unsigned full = h->fam == 6 ? 128 : 32;
	if (h->srcmask == 0xff)
		h->srcmask = (uint8_t)full;
	if (h->dstmask == 0xff)
		h->dstmask = (uint8_t)full;
	uint32_t size = h->size ? h->size : 8192u; /* the kernel's size on a box of > 1 GiB */
	struct rules_hl_cfg hc = {
		.avg = h->rate.avg,
		.burst = h->burst,
		.max = h->max ? (h->max < size ? size : h->max) : 8u * size,
		.expire_ms = h->expire,
		.gc_ms = h->gc_interval,
		.bytes = h->rate.bytes,
		.fam = h->fam,
		.rate_match = (x->present & (1u << RULES_O_HL_RATEMATCH)) != 0,
		.interval = h->interval,
	};
	h->tbl = rules_hl_get(h->name, &hc);
	if (h->tbl == NULL)
		return cerr(c, "hashlimit: cannot make table \"%s\" (%u entries): out of memory",
			    h->name, hc.max);
	h->cfg = hc;
	h->tc = h;
	return 0;
}

/* -m quota: x's own budget, the whole quota left (rules_prog_quota_adopt
 * may exchange it for the one of the program replaced). */
static int compile_quota(struct rules_prog *p, struct rules_ext *x, const struct rules_rule *r,
	int fam, uint8_t nth)
{
	struct rules_quota *q = aligned_alloc(_Alignof(struct rules_quota), sizeof(*q));
	x->u.quota.left = q;
	if (q == NULL)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->left = x->u.quota.quota;
	q->rule_id = r->id;
	q->quota = x->u.quota.quota;
	q->refs = 1;
	q->fam = (uint8_t)fam;
	q->nth = nth;
	q->inv = (uint8_t)((x->invert >> RULES_O_QUOTA) & 1u);
	p->quota_n++;
	p->mem += sizeof(*q);
	return 0;
}

static void quota_put(struct rules_quota *q)
{
	if (q != NULL && --q->refs == 0)
		free(q);
}

static int quota_cmp(const void *a, const void *b)
{
	const struct rules_quota *x = *(const struct rules_quota *const *)a,
				 *y = *(const struct rules_quota *const *)b;
	if (x->rule_id != y->rule_id)
		return x->rule_id < y->rule_id ? -1 : 1;
	if (x->fam != y->fam)
		return x->fam < y->fam ? -1 : 1;
	return (int)x->nth - (int)y->nth;
}

int rules_prog_quota_adopt(struct rules_prog *p, const struct rules_prog *old)
{
	if (old == NULL || old->quota_n == 0 || p->quota_n == 0)
		return 0;
	struct rules_quota **v = malloc(old->quota_n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < old->n_exts && n < old->quota_n; i++)
		if (old->exts[i].kind == RULES_X_QUOTA && old->exts[i].u.quota.left->rule_id != 0)
			v[n++] = old->exts[i].u.quota.left;
	qsort(v, n, sizeof(*v), quota_cmp);
	for (size_t i = 0; i < p->n_exts; i++) {
		struct rules_ext *x = &p->exts[i];
		if (x->kind != RULES_X_QUOTA)
			continue;
		struct rules_quota *q = x->u.quota.left;
		if (q->rule_id == 0)
			continue;
		struct rules_quota **hit = bsearch(&q, v, n, sizeof(*v), quota_cmp);
		/* an equal id means the same rule text (-R and -Z give new
		 * ids); amount and "!" are compared anyway, a cheap guard */
		if (hit == NULL || *hit == q || (*hit)->quota != q->quota || (*hit)->inv != q->inv)
			continue;
		(*hit)->refs++;
		quota_put(q);
		x->u.quota.left = *hit;
	}
	free(v);
	return 0;
}

static int compile_rule(struct cctx *c, int fam, enum rules_table_id t, const struct rules_rule *r,
	struct rules_crule *cr)
{
	struct rules_prog *p = c->p;
	memset(cr, 0, sizeof(*cr));
	cr->inv = r->inv;
	if (r->has_src) {
		cr->flags |= RULES_CF_SRC;
		cr->src = r->src;
		mask_of(fam, r->src_plen, &cr->smask);
	}
	if (r->has_dst) {
		cr->flags |= RULES_CF_DST;
		cr->dst = r->dst;
		mask_of(fam, r->dst_plen, &cr->dmask);
	}
	if (r->proto) {
		cr->flags |= RULES_CF_PROTO;
		cr->proto = r->proto;
	}
	if (r->iniface[0]) {
		cr->flags |= RULES_CF_IN;
		cr->in_ports = iface_mask(c, r->iniface, r->in_wild);
	}
	if (r->outiface[0]) {
		cr->flags |= RULES_CF_OUT;
		cr->out_ports = iface_mask(c, r->outiface, r->out_wild);
	}
	if (r->frag)
		cr->flags |= RULES_CF_FRAG;

	/* matches: copies owned by the program; the comment match is dropped */
	struct rules_ext *mx = &p->exts[c->ext_used];
	const struct rules_cset_slot **sr = &p->setrefs[c->ext_used];
	unsigned n = 0;
	uint8_t n_quota = 0;
	for (unsigned i = 0; i < r->n_match; i++) {
		const struct rules_ext *x = &r->match[i];
		if (x->kind == RULES_X_COMMENT)
			continue;
		if (rules_ext_copy(&mx[n], x) < 0)
			return -ENOMEM;
		c->ext_used++;
		sr[n] = NULL;
		switch (x->kind) {
		case RULES_X_SET: {
			const struct rules_set *s = rules_set_find(c->rs, x->u.set.name);
			if (!s)
				return cerr(c, "rule %d: set \"%s\" does not exist", r->line, x->u.set.name);
			sr[n] = &p->csets[s - c->rs->sets];
			set_needs(p, s);
			break;
		}
		case RULES_X_ADDRTYPE:
			p->need_addrtype = true;
			break;
		case RULES_X_PHYSDEV:
			mx[n].u.physdev.in_ports = iface_mask(c, x->u.physdev.in, x->u.physdev.in_wild);
			mx[n].u.physdev.out_ports = iface_mask(c, x->u.physdev.out, x->u.physdev.out_wild);
			break;
		case RULES_X_MAC:
		case RULES_X_EUI64:
			p->need_mac = true;
			break;
		case RULES_X_LIMIT:
			p->need_clock = true;
			break;
		case RULES_X_TCP:
			if (x->present & (1u << RULES_O_TCP_OPTION))
				p->need_tcpopt = true;
			break;
		case RULES_X_TCPMSS_M:
			p->need_tcpopt = true;
			break;
		case RULES_X_ESP:
		case RULES_X_AH:
			p->need_ipsec = true;
			cr->hotdrop = 1; /* a header cut short */
			break;
		case RULES_X_RPFILTER:
			p->need_rpf = true;
			break;
		case RULES_X_STATISTIC:
			p->need_slots = true; /* random: the worker's generator */
			break;
		case RULES_X_QUOTA:
			if (compile_quota(p, &mx[n], r, fam, n_quota++) < 0)
				return -ENOMEM;
			break;
		case RULES_X_RECENT:
			p->need_clock = true; /* hit times */
			break;
		case RULES_X_STRING:
			p->need_payload = true;
			break;
		case RULES_X_FRAG:
		case RULES_X_RT:
		case RULES_X_HBH:
		case RULES_X_DST:
		case RULES_X_IPV6HEADER:
		case RULES_X_U32:
		case RULES_X_SCTP:
			p->need_payload = true; /* the extension headers, u32's bytes */
			cr->hotdrop = 1;        /* one cut short */
			break;
		case RULES_X_HASHLIMIT:
			p->need_clock = true;
			if (x->u.hashlimit.mode & (RULES_HL_SPT | RULES_HL_DPT))
				p->need_payload = true; /* ports of ESP, SCTP, ...; fragments */
			if (compile_hashlimit(c, fam, &mx[n]) < 0)
				return -EINVAL;
			cr->hotdrop = 1;
			break;
		case RULES_X_TIME:
			p->need_wall = true;
			break;
		case RULES_X_STATE:
		case RULES_X_CONNMARK_M:
		case RULES_X_HELPER:
			p->uses_ct = true;
			break;
		case RULES_X_CONNTRACK:
			p->uses_ct = true;
			if (x->present & ~((1u << RULES_O_CT_STATE) | (1u << RULES_O_CT_STATUS) |
					   (1u << RULES_O_CT_DIR)))
				p->need_ct = true;
			break;
		case RULES_X_CONNBYTES:
			p->uses_ct = p->need_ct = true;
			break;
		case RULES_X_CONNLIMIT:
			p->uses_ct = p->need_ct = p->uses_connlimit = true;
			cr->hotdrop = 1;
			break;
		default:
			break;
		}
		n++;
	}
	cr->n_match = (uint8_t)n;
	cr->match = mx;
	cr->sets = sr;

	switch (r->target.verdict) {
	case RULES_V_NONE:
		cr->kind = RULES_CK_NONE;
		break;
	case RULES_V_ACCEPT:
		cr->kind = RULES_CK_ACCEPT;
		break;
	case RULES_V_DROP:
		cr->kind = RULES_CK_DROP;
		break;
	case RULES_V_RETURN:
		cr->kind = RULES_CK_RETURN;
		break;
	case RULES_V_JUMP:
	case RULES_V_GOTO: {
		const struct rules_table *tb = &c->rs->tables[t];
		int32_t ci = -1;
		for (size_t k = 0; k < tb->n_chains; k++)
			if (strcmp(tb->chains[k].name, r->target.chain) == 0)
				ci = c->cidx[t][k];
		if (ci < 0)
			return cerr(c, "%s: chain \"%s\" does not exist", rules_table_name(t), r->target.chain);
		cr->kind = r->target.verdict == RULES_V_JUMP ? RULES_CK_JUMP : RULES_CK_GOTO;
		cr->arg = (uint32_t)ci;
		break;
	}
	case RULES_V_EXT: {
		struct rules_ext *tx = &p->exts[c->ext_used];
		if (rules_ext_copy(tx, &r->target.ext) < 0)
			return -ENOMEM;
		c->ext_used++;
		cr->target = tx;
		switch (tx->kind) {
		case RULES_X_REJECT:
			cr->kind = RULES_CK_REJECT;
			cr->arg = tx->u.reject.with;
			break;
		case RULES_X_LOG:
			cr->kind = RULES_CK_LOG;
			break;
		case RULES_X_SET_T: {
			struct rules_t_set *ts = &tx->u.tset;
			for (int k = 0; k < 2; k++) {
				if (!(tx->present & (1u << (k ? RULES_O_TS_DEL : RULES_O_TS_ADD))))
					continue;
				const char *nm = k ? ts->del.name : ts->add.name;
				const struct rules_set *s = rules_set_find(c->rs, nm);
				if (!s)
					return cerr(c, "rule %d: set \"%s\" does not exist", r->line, nm);
				*(k ? &ts->del_idx : &ts->add_idx) = (uint32_t)(s - c->rs->sets);
				set_needs(p, s);
			}
			cr->kind = RULES_CK_SET;
			p->uses_set_target = true;
			break;
		}
		case RULES_X_MARK_T:
			cr->kind = RULES_CK_MARK;
			break;
		case RULES_X_TOS_T:
			cr->kind = RULES_CK_TOS;
			break;
		case RULES_X_DSCP_T:
			cr->kind = RULES_CK_DSCP;
			break;
		case RULES_X_TTL_T:
		case RULES_X_HL_T:
			cr->kind = RULES_CK_TTL;
			break;
		case RULES_X_TCPMSS:
			cr->kind = RULES_CK_TCPMSS;
			break;
		case RULES_X_ECN_T:
			cr->kind = RULES_CK_ECN;
			break;
		case RULES_X_TEE:
			/* xt_TEE: an --oif that is no port here, or empty,
			 * leaves the copy's route free (nf_dup_ipv4/6's oif
			 * -1, since Linux 4.3) */
			cr->kind = RULES_CK_TEE;
			cr->arg = RULES_PORT_NONE;
			if ((tx->present & (1u << RULES_O_TEE_OIF)) && tx->u.tee.oif != NULL &&
			    tx->u.tee.oif[0] != '\0') {
				uint32_t m = iface_mask(c, tx->u.tee.oif, false);
				if (m)
					cr->arg = (uint32_t)__builtin_ctz(m);
			}
			p->uses_tee = true;
			break;
		case RULES_X_SNPT:
			cr->kind = RULES_CK_SNPT;
			p->uses_npt = true;
			break;
		case RULES_X_DNPT:
			cr->kind = RULES_CK_DNPT;
			p->uses_npt = true;
			break;
		case RULES_X_NOTRACK:
			cr->kind = RULES_CK_NOTRACK;
			p->uses_ct = true;
			break;
		case RULES_X_CT:
			/* --notrack wins over --helper and --zone, as in xt_CT */
			cr->kind = (tx->present & (1u << RULES_O_CT_NOTRACK)) ? RULES_CK_NOTRACK
									      : RULES_CK_CT;
			p->uses_ct = true;
			if (cr->kind == RULES_CK_CT &&
			    (tx->u.ctt.zone != 0 || (tx->u.ctt.zone_flags & RULES_CTZ_MARK)))
				p->uses_zones = true;
			if (cr->kind == RULES_CK_CT && tx->u.ctt.tpol != 0)
				p->uses_tpol = true;
			if (cr->kind == RULES_CK_CT &&
			    (tx->u.ctt.ctevents != 0 || tx->u.ctt.expevents != 0))
				p->uses_ctev = true;
			break;
		case RULES_X_CONNMARK:
			cr->kind = RULES_CK_CONNMARK;
			p->uses_ct = true;
			break;
		case RULES_X_SNAT:
		case RULES_X_DNAT:
		case RULES_X_MASQUERADE:
		case RULES_X_REDIRECT:
		case RULES_X_NETMAP:
			/* a binding for the connection's first packet (nat table only) */
			cr->kind = RULES_CK_NAT;
			p->uses_ct = p->uses_nat = true;
			break;
		case RULES_X_NFLOG:
			/* as LOG: a record for the control thread, which writes the
			 * packet into the group's capture */
			cr->kind = RULES_CK_LOG;
			break;
		default:
			cr->kind = RULES_CK_NONE;
			break;
		}
		break;
	}
	default:
		return cerr(c, "rule %d: unknown verdict", r->line);
	}
	return 0;
}

static int compile_family(struct cctx *c, int fam)
{
	const struct rules_ruleset *rs = c->rs;
	struct rules_prog *p = c->p;
	int fi = fam == RULES_F_V6;
	struct rules_fprog *fp = &p->f[fi];
	uint32_t nch = 0, nr = 0, maxn = 0;

	for (int h = 0; h < RULES_H_COUNT; h++)
		for (int t = 0; t < RULES_T_COUNT; t++)
			fp->hook_chain[h][t] = -1;
	for (int t = 0; t < RULES_T_COUNT; t++) {
		const struct rules_table *tb = &rs->tables[t];
		for (size_t k = 0; k < tb->n_chains; k++) {
			const struct rules_chain *ch = &tb->chains[k];
			bool exists = (tb->present & fam) && (ch->hook >= 0 || (ch->fam & fam));
			c->cidx[t][k] = exists ? (int32_t)nch++ : -1;
			if (!exists)
				continue;
			uint32_t n = 0;
			for (size_t i = 0; i < ch->n_rules; i++)
				n += (ch->rules[i].fam & fam) != 0;
			nr += n;
			if (n > maxn)
				maxn = n;
		}
	}
	fp->chains = calloc(nch ? nch : 1, sizeof(*fp->chains));
	fp->rules = calloc(nr ? nr : 1, sizeof(*fp->rules));
	fp->meta = calloc(nch ? nch : 1, sizeof(*fp->meta));
	if (!fp->chains || !fp->rules || !fp->meta)
		return -ENOMEM;
	fp->n_chains = nch;
	p->mem += nch * sizeof(*fp->chains) + nr * sizeof(*fp->rules);

	uint32_t at = 0;
	for (int t = 0; t < RULES_T_COUNT; t++) {
		const struct rules_table *tb = &rs->tables[t];
		for (size_t k = 0; k < tb->n_chains; k++) {
			if (c->cidx[t][k] < 0)
				continue;
			const struct rules_chain *ch = &tb->chains[k];
			struct rules_cchain *cc = &fp->chains[c->cidx[t][k]];
			struct rules_cmeta *meta = &fp->meta[c->cidx[t][k]];
			meta->table = (uint8_t)t;
			snprintf(meta->name, sizeof(meta->name), "%s", ch->name);
			meta->ids = malloc((ch->n_rules ? ch->n_rules : 1) * sizeof(uint64_t));
			if (!meta->ids)
				return -ENOMEM;
			cc->first = at;
			cc->hook = ch->hook;
			if (ch->hook >= 0) {
				cc->policy = ch->policy[fi];
				cc->policy_ctr = c->pol_ctr[t][2 * k + fi];
				fp->hook_chain[ch->hook][t] = c->cidx[t][k];
			}
			for (size_t i = 0; i < ch->n_rules; i++) {
				const struct rules_rule *r = &ch->rules[i];
				if (!(r->fam & fam))
					continue;
				struct rules_crule *cr = &fp->rules[at];
				int rc = compile_rule(c, fam, (enum rules_table_id)t, r, cr);
				if (rc < 0)
					return rc;
				meta->ids[at - cc->first] = r->id;
				cr->ctr = c->rule_ctr0[t][k] + (uint32_t)i;
				at++;
			}
			cc->n = at - cc->first;
		}
	}
	fp->n_rules = at;

	/* jump depth: the evaluator's stack is fixed */
	int8_t *memo = malloc(nch ? nch : 1);
	if (!memo)
		return -ENOMEM;
	memset(memo, -1, nch ? nch : 1);
	for (uint32_t ci = 0; ci < nch; ci++) {
		int d = depth_of(fp, ci, memo, 0);
		if (d < 0 || d >= RULES_MAX_DEPTH) {
			free(memo);
			return cerr(c, "chains nest %s (at most %d levels of -j)",
				d < 0 ? "in a loop" : "too deep", RULES_MAX_DEPTH - 1);
		}
	}
	free(memo);

	/* which hooks have a table to traverse, in the kernel's priority
	 * order: raw, mangle, nat, filter, except at INPUT where nat (SNAT,
	 * priority 100) comes after filter. The nat table is traversed by the
	 * first packet of a connection only (rules_pkt.nat_new); hook_active
	 * says whether any other table is there. An empty chain with an ACCEPT
	 * policy still counts its packets. */
	static const uint8_t order[RULES_T_COUNT] = {RULES_T_RAW, RULES_T_MANGLE, RULES_T_NAT,
		RULES_T_FILTER};
	static const uint8_t order_in[RULES_T_COUNT] = {RULES_T_RAW, RULES_T_MANGLE, RULES_T_FILTER,
		RULES_T_NAT};
	for (int h = 0; h < RULES_H_COUNT; h++) {
		const uint8_t *ord = h == RULES_H_INPUT ? order_in : order;
		unsigned others = 0;
		fp->hook_n[h] = 0;
		fp->hook_raw[h] = 0;
		fp->hook_nat[h] = 0;
		for (int k = 0; k < RULES_T_COUNT; k++) {
			int t = ord[k];
			if (fp->hook_chain[h][t] < 0)
				continue;
			if (t == RULES_T_RAW)
				fp->hook_raw[h] = 1;
			if (t == RULES_T_NAT)
				fp->hook_nat[h] = (uint8_t)(fp->hook_n[h] + 1);
			else
				others++;
			fp->hook_seq[h][fp->hook_n[h]++] = (uint32_t)fp->hook_chain[h][t];
		}
		fp->hook_active[h] = others > 0;
		fp->hook_empty[h] = 0;
		for (unsigned part = 0; part < 3; part++) {
			unsigned first = 0, end = fp->hook_n[h];
			if (part == RULES_PART_RAW)
				end = fp->hook_raw[h];
			else if (part == RULES_PART_REST)
				first = fp->hook_raw[h];
			bool empty = true;
			for (unsigned i = first; i < end; i++) {
				const struct rules_cchain *ch = &fp->chains[fp->hook_seq[h][i]];
				if (i + 1 != fp->hook_nat[h] && (ch->n != 0 || ch->policy != RULES_POL_ACCEPT))
					empty = false;
			}
			if (empty)
				fp->hook_empty[h] |= (uint8_t)(1u << part);
		}
		fp->est_mask[h] = 0;
		/* the shortcut: nat sees no ESTABLISHED or RELATED packet */
		if (others == 1) {
			uint32_t only = fp->hook_seq[h][fp->hook_nat[h] == 1 ? 1 : 0];
			const struct rules_cchain *ch = &fp->chains[only];
			const struct rules_crule *cr = ch->n ? &fp->rules[ch->first] : NULL;
			const struct rules_ext *x = cr && cr->n_match == 1 ? &cr->match[0] : NULL;
			uint16_t st = 0;
			if (x && x->kind == RULES_X_STATE && !x->invert)
				st = x->u.ct.state;
			else if (x && x->kind == RULES_X_CONNTRACK && x->present == 1u << RULES_O_CT_STATE &&
				 !x->invert)
				st = x->u.ct.state;
			if (cr && cr->flags == 0 && cr->kind == RULES_CK_ACCEPT && st &&
			    !(st & ~(RULES_CT_ESTABLISHED | RULES_CT_RELATED))) {
				fp->est_mask[h] = st;
				fp->est_ctr[h] = cr->ctr;
			}
		}
	}

	/* classifiers, and the quick check of every rule */
	if (!(c->flags & RULES_COMPILE_LINEAR)) {
		struct rules_cls_range *rg = malloc((maxn ? maxn : 1) * sizeof(*rg));
		fp->quick = calloc(fp->n_rules ? fp->n_rules : 1, sizeof(*fp->quick));
		if (!rg || !fp->quick) {
			free(rg);
			return -ENOMEM;
		}
		p->mem += fp->n_rules * sizeof(*fp->quick);
		unsigned sh = fam == RULES_F_V4 ? 0 : 32;
		/* a table with SNPT/DNPT changes the packet's address under its
		 * own traversal: its chains go without classifiers (their
		 * candidates would be the old address's) */
		unsigned npt_tables = 0;
		for (uint32_t ci = 0; ci < nch; ci++)
			for (uint32_t i = 0; i < fp->chains[ci].n; i++) {
				unsigned k = fp->rules[fp->chains[ci].first + i].kind;
				if (k == RULES_CK_SNPT || k == RULES_CK_DNPT)
					npt_tables |= 1u << fp->meta[ci].table;
			}
		for (uint32_t ci = 0; ci < nch; ci++) {
			struct rules_cchain *cc = &fp->chains[ci];
			for (uint32_t i = 0; i < cc->n; i++) {
				struct rules_cls_range r1;
				project(fam, &fp->rules[cc->first + i], &r1);
				struct rules_quick *q = &fp->quick[cc->first + i];
				q->src_lo = (uint32_t)(r1.lo[RULES_CLS_SRC] >> sh);
				q->src_hi = (uint32_t)(r1.hi[RULES_CLS_SRC] >> sh);
				q->dst_lo = (uint32_t)(r1.lo[RULES_CLS_DST] >> sh);
				q->dst_hi = (uint32_t)(r1.hi[RULES_CLS_DST] >> sh);
				q->sp_lo = (uint16_t)r1.lo[RULES_CLS_SPORT];
				q->sp_hi = (uint16_t)(r1.hi[RULES_CLS_SPORT] > 0xffff ? 0xffff : r1.hi[RULES_CLS_SPORT]);
				q->dp_lo = (uint16_t)r1.lo[RULES_CLS_DPORT];
				q->dp_hi = (uint16_t)(r1.hi[RULES_CLS_DPORT] > 0xffff ? 0xffff : r1.hi[RULES_CLS_DPORT]);
				q->pr_lo = (uint8_t)r1.lo[RULES_CLS_PROTO];
				q->pr_hi = (uint8_t)(r1.hi[RULES_CLS_PROTO] > 0xff ? 0xff : r1.hi[RULES_CLS_PROTO]);
				q->kind = fp->rules[cc->first + i].kind;
				q->ctr = fp->rules[cc->first + i].ctr;
				q->exact = (uint8_t)quick_exact(fam, &fp->rules[cc->first + i]);
			}
			if (cc->n < RULES_CLS_MIN_RULES || (npt_tables & (1u << fp->meta[ci].table)))
				continue;
			struct rules_cls *old = reusable_cls(c->prev, fi, fp->meta[ci].table,
				fp->meta[ci].name, fp->meta[ci].ids, cc->n);
			if (old != NULL) {
				cc->cls = rules_cls_ref(old);
				p->has_tail |= cc->n > old->n_rules;
				continue; /* shared: its memory is counted by its first owner */
			}
			for (uint32_t i = 0; i < cc->n; i++)
				project(fam, &fp->rules[cc->first + i], &rg[i]);
			cc->cls = rules_cls_build(rg, cc->n);
			if (!cc->cls) {
				free(rg);
				return cerr(c, "cannot build the classifier of a chain of %u rules: %s", cc->n,
					strerror(errno));
			}
			p->mem += rules_cls_mem(cc->cls);
		}
		free(rg);
	}
	if (maxn > p->n_ident)
		p->n_ident = maxn;
	return 0;
}

struct rules_prog *rules_prog_compile(const struct rules_ruleset *rs, const char *const *ports,
	unsigned n_ports, unsigned flags, char *err, size_t errlen)
{
	return rules_prog_compile_from(rs, ports, n_ports, flags, NULL, err, errlen);
}

struct rules_prog *rules_prog_compile_from(const struct rules_ruleset *rs,
	const char *const *ports, unsigned n_ports, unsigned flags, const struct rules_prog *prev,
	char *err, size_t errlen)
{
	struct cctx c = {.rs = rs, .ports = ports, .n_ports = n_ports, .flags = flags, .err = err,
		.errlen = errlen, .prev = prev};
	int rc = -ENOMEM;
	if (err && errlen)
		err[0] = '\0';
	if (n_ports > RULES_PORTS_MAX) {
		cerr(&c, "too many ports (%u, at most %d)", n_ports, RULES_PORTS_MAX);
		return NULL;
	}
	struct rules_prog *p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	c.p = p;
	p->limit_share = 1;

	/* counter ids and storage sizes */
	size_t n_ext = 0;
	uint32_t nctr = 0;
	for (int t = 0; t < RULES_T_COUNT; t++) {
		const struct rules_table *tb = &rs->tables[t];
		size_t nc = tb->n_chains ? tb->n_chains : 1;
		c.rule_ctr0[t] = calloc(nc, sizeof(uint32_t));
		c.pol_ctr[t] = calloc(2 * nc, sizeof(uint32_t));
		c.cidx[t] = calloc(nc, sizeof(int32_t));
		if (!c.rule_ctr0[t] || !c.pol_ctr[t] || !c.cidx[t])
			goto fail;
		for (size_t k = 0; k < tb->n_chains; k++) {
			const struct rules_chain *ch = &tb->chains[k];
			c.rule_ctr0[t][k] = nctr;
			nctr += (uint32_t)ch->n_rules;
			for (size_t i = 0; i < ch->n_rules; i++)
				n_ext += 2 * ((size_t)ch->rules[i].n_match + 1); /* both families */
			if (ch->hook >= 0) {
				c.pol_ctr[t][2 * k] = nctr++;
				c.pol_ctr[t][2 * k + 1] = nctr++;
			}
		}
	}
	p->n_ctr = nctr;
	p->ctr_src = calloc(nctr ? nctr : 1, sizeof(*p->ctr_src));
	p->ctr_ext = calloc(nctr ? nctr : 1, sizeof(*p->ctr_ext));
	p->exts = calloc(n_ext ? n_ext : 1, sizeof(*p->exts));
	p->setrefs = calloc(n_ext ? n_ext : 1, sizeof(*p->setrefs));
	p->csets = calloc(rs->n_sets ? rs->n_sets : 1, sizeof(*p->csets));
	if (!p->ctr_src || !p->ctr_ext || !p->exts || !p->setrefs || !p->csets)
		goto fail;
	p->mem += sizeof(*p) + nctr * (sizeof(*p->ctr_src) + sizeof(*p->ctr_ext)) +
		n_ext * (sizeof(*p->exts) + sizeof(*p->setrefs));
	for (int t = 0; t < RULES_T_COUNT; t++) {
		const struct rules_table *tb = &rs->tables[t];
		for (size_t k = 0; k < tb->n_chains; k++) {
			const struct rules_chain *ch = &tb->chains[k];
			for (size_t i = 0; i < ch->n_rules; i++) {
				struct rules_ctr_src *s = &p->ctr_src[c.rule_ctr0[t][k] + i];
				s->table = (uint8_t)t;
				snprintf(s->chain, sizeof(s->chain), "%s", ch->name);
				s->rule = (uint32_t)i;
				s->fam = ch->rules[i].fam;
			}
			if (ch->hook >= 0)
				for (int fi = 0; fi < 2; fi++) {
					struct rules_ctr_src *s = &p->ctr_src[c.pol_ctr[t][2 * k + fi]];
					s->table = (uint8_t)t;
					snprintf(s->chain, sizeof(s->chain), "%s", ch->name);
					s->policy = true;
					s->fam = fi ? RULES_F_V6 : RULES_F_V4;
				}
		}
	}
	for (size_t i = 0; i < rs->n_sets; i++) {
		if ((p->csets[i].cur = rules_cset_build(&rs->sets[i], rs, p->csets)) == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		p->n_csets++;
		p->mem += rs->sets[i].n * sizeof(struct rules_set_entry);
	}
	for (int fam = RULES_F_V4; fam <= RULES_F_V6; fam <<= 1)
		if ((rc = compile_family(&c, fam)) < 0)
			goto fail;
	p->n_exts = c.ext_used;
	p->n_slots = p->n_ctr + (p->need_clock || p->need_slots ? (uint32_t)p->n_exts : 0);
	for (size_t i = 0; i < p->n_exts; i++) {
		struct rules_ext *x = &p->exts[i];
		if (x->kind == RULES_X_RECENT) {
			/* the list by name, kept from one ruleset to the next */
			const char *name = x->u.recent.name ? x->u.recent.name : "DEFAULT";
			x->u.recent.list = rules_recent_get(name);
			if (x->u.recent.list == NULL) {
				rc = cerr(&c, "recent: cannot have list \"%s\": %u lists at most", name,
					  RULES_RECENT_LISTS);
				goto fail;
			}
			continue;
		}
		if (x->kind != RULES_X_STATISTIC || x->u.stat.mode != RULES_STAT_NTH)
			continue;
		if (p->nth == NULL) {
			p->nth = aligned_alloc(64, p->n_exts * sizeof(*p->nth));
			if (p->nth == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			memset(p->nth, 0, p->n_exts * sizeof(*p->nth));
			p->mem += p->n_exts * sizeof(*p->nth);
		}
		/* libxt_statistic starts the count so that packet p of each n
		 * matches */
		p->nth[i].count = x->u.stat.every - x->u.stat.packet;
	}
	for (int fi = 0; fi < 2; fi++)
		for (uint32_t i = 0; i < p->f[fi].n_rules; i++) {
			const struct rules_crule *cr = &p->f[fi].rules[i];
			if (cr->target)
				p->ctr_ext[cr->ctr] = cr->target;
		}
	p->ident = malloc((p->n_ident ? p->n_ident : 1) * sizeof(uint32_t));
	if (!p->ident) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < p->n_ident; i++)
		p->ident[i] = i;
	p->mem += p->n_ident * sizeof(uint32_t);
	for (int t = 0; t < RULES_T_COUNT; t++) {
		free(c.rule_ctr0[t]);
		free(c.pol_ctr[t]);
		free(c.cidx[t]);
	}
	return p;
fail:
	if (rc == -ENOMEM)
		cerr(&c, "out of memory compiling the ruleset");
	if (p)
		p->n_exts = c.ext_used;
	rules_prog_free(p);
	for (int t = 0; t < RULES_T_COUNT; t++) {
		free(c.rule_ctr0[t]);
		free(c.pol_ctr[t]);
		free(c.cidx[t]);
	}
	return NULL;
}

void rules_prog_free(struct rules_prog *p)
{
	if (!p)
		return;
	for (int fi = 0; fi < 2; fi++) {
		struct rules_fprog *fp = &p->f[fi];
		if (fp->chains)
			for (uint32_t i = 0; i < fp->n_chains; i++)
				rules_cls_free(fp->chains[i].cls);
		if (fp->meta)
			for (uint32_t i = 0; i < fp->n_chains; i++)
				free(fp->meta[i].ids);
		free(fp->meta);
		free(fp->chains);
		free(fp->rules);
		free(fp->quick);
	}
	if (p->exts) {
		for (size_t i = 0; i < p->n_exts; i++) {
			if (p->exts[i].kind == RULES_X_HASHLIMIT)
				rules_hl_put(p->exts[i].u.hashlimit.tbl, &p->exts[i].u.hashlimit.cfg);
			if (p->exts[i].kind == RULES_X_QUOTA)
				quota_put(p->exts[i].u.quota.left);
			rules_ext_free(&p->exts[i]);
		}
	}
	free(p->exts);
	free(p->nth);
	for (size_t i = 0; i < p->n_csets; i++)
		rules_cset_free(p->csets[i].cur);
	free(p->csets);
	free(p->setrefs);
	free(p->ctr_src);
	free(p->ctr_ext);
	free(p->ident);
	free(p);
}

void rules_prog_fold(const struct rules_prog *p, struct rules_counter *const *ctr, unsigned nw,
	struct rules_ruleset *rs)
{
	for (uint32_t id = 0; id < p->n_ctr; id++) {
		uint64_t pk = 0, by = 0;
		for (unsigned w = 0; w < nw; w++) {
			pk += ctr[w][id].pkts;
			by += ctr[w][id].bytes;
		}
		if (!pk && !by)
			continue;
		const struct rules_ctr_src *s = &p->ctr_src[id];
		struct rules_chain *ch = rules_chain_find(rs, (enum rules_table_id)s->table, s->chain);
		if (!ch)
			continue;
		if (s->policy) {
			int fi = s->fam == RULES_F_V6;
			ch->pkts[fi] += pk;
			ch->bytes[fi] += by;
		} else if (s->rule < ch->n_rules) {
			ch->rules[s->rule].pkts += pk;
			ch->rules[s->rule].bytes += by;
		}
	}
}
