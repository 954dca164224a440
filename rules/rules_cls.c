/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_cls: build the per-chain classifier, a HyperSplit-style decision
 * tree (Qi et al., "Packet classification algorithms: from theory to
 * practice", 2009).
 *
 * Each internal node cuts one dimension at one value; a rule whose range
 * lies on both sides goes to both children. The cut is chosen among a few
 * quantiles of the rules' range endpoints in every dimension, to minimise
 * the larger child; splitting stops at BINTH rules, when no cut makes a
 * child smaller than its parent (identical or all-wildcard rules), at a
 * depth limit, or when replication has used its memory budget: a leaf may
 * then be long, which costs time but never correctness. Leaves keep the
 * rules in chain order, so the evaluator walks candidates in first-match
 * order.
 *
 * Lookup is a root-to-leaf walk of 16-byte nodes in one array (children
 * adjacent), O(depth), independent of the number of rules once the leaves
 * are short.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rules_cls.h"

#define BINTH 2 /* a leaf of up to 2 candidates holds them itself (rules_cls_node) */
#define MAX_DEPTH 48
#define N_CUTS 5 /* candidate cuts per dimension */
#define MW_MIN 32 /* rules under a node before a multi-way cut is considered */
#define MW_BITS 8 /* children of a multi-way node: at most 2^MW_BITS */

struct bld {
	const struct rules_cls_range *r;
	struct rules_cls_node *nodes;
	uint32_t n_nodes, cap_nodes;
	uint32_t *idx; /* shared by the trees */
	size_t n_idx, cap_idx, budget;
	size_t node_budget; /* nodes of this tree, at most (leaves inline use no idx) */
	uint32_t depth;
	int err;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * elem);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void make_leaf(struct bld *b, uint32_t ni, const uint32_t *rs, uint32_t n)
{
	if (n >= RULES_CLS_LEAF_MAX || b->n_idx + n > UINT32_MAX) { /* the fields of a leaf */
		b->err = -E2BIG;
		return;
	}
	/* a leaf is its own child (rules_cls_node) */
	b->nodes[ni].a = ni;
	b->nodes[ni].b = RULES_CLS_LEAF | n << RULES_CLS_LEAF_SHIFT | RULES_CLS_DIM_ZERO;
	b->nodes[ni].thr = 0;
	if (n <= RULES_CLS_INLINE) {
		memcpy(b->nodes[ni].in, rs, n * sizeof(uint32_t));
		return;
	}
	size_t cap = b->cap_idx;
	if (grow((void **)&b->idx, &cap, b->n_idx + n, sizeof(uint32_t)) < 0) {
		b->err = -ENOMEM;
		return;
	}
	b->cap_idx = cap;
	memcpy(b->idx + b->n_idx, rs, n * sizeof(uint32_t));
	b->nodes[ni].in[0] = (uint32_t)b->n_idx;
	b->n_idx += n;
}

/* x log2 x in 16ths (the fraction from the mantissa's top bits): about
 * the levels a subtree over x rules needs, times its rules */
static uint64_t nlog(uint32_t x)
{
	if (x <= 1)
		return 0;
	unsigned l = 31u - (unsigned)__builtin_clz(x);
	unsigned frac = l >= 4 ? (x >> (l - 4)) & 15u : (x << (4 - l)) & 15u;
	return (uint64_t)x * (l * 16u + frac);
}

/* Rule r's range in dimension d within the box; false if it is outside
 * (no key that reaches the node can match it). */
static bool clip(const struct rules_cls_range *r, int d, const uint64_t *lo, const uint64_t *hi,
	uint64_t *l, uint64_t *h)
{
	*l = r->lo[d] > lo[d] ? r->lo[d] : lo[d];
	*h = r->hi[d] < hi[d] ? r->hi[d] : hi[d];
	return *l <= *h;
}

static void root_span(uint64_t lo, uint64_t hi, unsigned shift, unsigned bits, uint32_t *first,
	uint32_t *last);

struct mw {
	int d;
	unsigned shift, bits;
	uint64_t spread, pairs;
};

/*
 * The best multi-way cut of n rules in the box: in each dimension, a
 * window of bits below those the box fixes (so that each child's box is an
 * interval), rules spread over its children as evenly as possible (the
 * least sum of n log n, as choose_root), each rule copied into at most two
 * children on average. cnt: 2^MW_BITS + 1 scratch counters.
 */
static bool mw_choose(const struct bld *b, const uint32_t *rs, uint32_t n, const uint64_t *lo,
	const uint64_t *hi, int64_t *cnt, struct mw *best)
{
	unsigned nb = 2;
	while (nb < MW_BITS && (1u << (nb + 1)) <= n / 2)
		nb++;
	best->d = -1;
	best->spread = UINT64_MAX;
	for (int d = 0; d < RULES_CLS_DIMS; d++) {
		if (lo[d] == hi[d])
			continue;
		unsigned top = 64u - (unsigned)__builtin_clzll(lo[d] ^ hi[d]); /* bits the box lets vary */
		unsigned bits = nb < top ? nb : top;
		if (bits < 2)
			continue;
		uint32_t nbk = 1u << bits;
		for (unsigned sh = top - bits;; sh = sh >= 2 ? sh - 2 : 0) {
			memset(cnt, 0, ((size_t)nbk + 1) * sizeof(*cnt));
			uint64_t pairs = 0;
			for (uint32_t i = 0; i < n; i++) {
				uint64_t l, h;
				if (!clip(&b->r[rs[i]], d, lo, hi, &l, &h))
					continue;
				uint32_t f, e;
				root_span(l, h, sh, bits, &f, &e);
				pairs += (uint64_t)e - f + 1;
				cnt[f]++;
				cnt[e + 1]--;
			}
			if (pairs <= 2 * (uint64_t)n) {
				uint64_t spread = 0;
				int64_t run = 0, most = 0;
				for (uint32_t k = 0; k < nbk; k++) {
					run += cnt[k];
					spread += nlog((uint32_t)run);
					if (run > most)
						most = run;
				}
				/* a window that leaves every rule in one child
				 * splits nothing (rules alike in this dimension):
				 * taken, it would stack useless levels that every
				 * lookup walks */
				if (most < (int64_t)n && spread < best->spread) {
					best->d = d;
					best->shift = sh;
					best->bits = bits;
					best->spread = spread;
					best->pairs = pairs;
				}
			}
			if (sh == 0)
				break;
		}
	}
	return best->d >= 0;
}

static void build(struct bld *b, uint32_t ni, uint32_t *rs, uint32_t n, uint64_t *lo, uint64_t *hi,
	uint32_t depth);

/* Node ni as the multi-way cut m of rules rs[0..n) in the box. */
static void build_mw(struct bld *b, uint32_t ni, const uint32_t *rs, uint32_t n, uint64_t *lo,
	uint64_t *hi, uint32_t depth, const struct mw *m)
{
	uint32_t nbk = 1u << m->bits;
	int d = m->d;
	size_t cap = b->cap_nodes;
	uint32_t *cnt = calloc((size_t)nbk + 1, sizeof(uint32_t));
	uint32_t *sub = malloc(((size_t)m->pairs + 1) * sizeof(uint32_t));
	if (!cnt || !sub || b->n_nodes + (size_t)nbk > UINT32_MAX ||
		grow((void **)&b->nodes, &cap, b->n_nodes + (size_t)nbk, sizeof(*b->nodes)) < 0) {
		free(cnt);
		free(sub);
		b->err = -ENOMEM;
		return;
	}
	b->cap_nodes = (uint32_t)cap;
	uint32_t c0 = b->n_nodes;
	b->n_nodes += nbk;
	b->nodes[ni].thr = UINT64_MAX;
	b->nodes[ni].a = c0;
	b->nodes[ni].b = (uint32_t)d | RULES_CLS_MW(m->shift, m->bits);
	/* the children's lists in one pass (counting sort keeps chain order) */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			uint64_t l, h;
			if (!clip(&b->r[rs[i]], d, lo, hi, &l, &h))
				continue;
			uint32_t f, e;
			root_span(l, h, m->shift, m->bits, &f, &e);
			for (uint32_t k = f; k <= e; k++) {
				if (pass == 0)
					cnt[k + 1]++;
				else
					sub[cnt[k]++] = rs[i];
			}
		}
		if (pass == 0)
			for (uint32_t k = 0; k < nbk; k++)
				cnt[k + 1] += cnt[k];
	}
	/* cnt[k] is now the end of child k's list, cnt[k - 1] its start. A
	 * child's box is an interval when the window is right below the bits
	 * the box fixes; else it keeps the parent's (a superset) */
	uint64_t save_lo = lo[d], save_hi = hi[d];
	unsigned top = 64u - (unsigned)__builtin_clzll(save_lo ^ save_hi);
	bool narrow = m->shift + m->bits == top;
	uint64_t above = top >= 64 ? 0 : save_lo & ~((1ull << top) - 1);
	for (uint32_t k = 0; k < nbk && !b->err; k++) {
		uint32_t start = k ? cnt[k - 1] : 0;
		if (narrow) {
			uint64_t klo = above | (uint64_t)k << m->shift;
			uint64_t khi = klo | ((1ull << m->shift) - 1);
			lo[d] = klo > save_lo ? klo : save_lo;
			hi[d] = khi < save_hi ? khi : save_hi;
		}
		if (lo[d] > hi[d]) /* outside the box: no key comes here */
			make_leaf(b, c0 + k, sub, 0);
		else
			build(b, c0 + k, sub + start, cnt[k] - start, lo, hi, depth + 1);
	}
	lo[d] = save_lo;
	hi[d] = save_hi;
	free(cnt);
	free(sub);
}

/* Build node ni over rules rs[0..n) (ascending) within box [lo, hi]. */
static void build(struct bld *b, uint32_t ni, uint32_t *rs, uint32_t n, uint64_t *lo, uint64_t *hi,
	uint32_t depth)
{
	if (depth > b->depth)
		b->depth = depth;
	if (n <= BINTH || depth >= MAX_DEPTH || b->n_idx + n > b->budget ||
		b->n_nodes > b->node_budget) {
		make_leaf(b, ni, rs, n);
		return;
	}
	/* candidate cuts: quantiles of the endpoints inside the box */
	uint64_t *ep = malloc(2 * (size_t)n * sizeof(uint64_t));
	if (!ep) {
		b->err = -ENOMEM;
		return;
	}
	int best_d = -1;
	uint64_t best_t = 0;
	uint32_t best_max = n, best_sum = 2 * n, best_nl = 0, best_nr = 0;
	for (int d = 0; d < RULES_CLS_DIMS; d++) {
		size_t ne = 0;
		for (uint32_t i = 0; i < n; i++) {
			const struct rules_cls_range *r = &b->r[rs[i]];
			uint64_t l = r->lo[d] > lo[d] ? r->lo[d] : lo[d];
			uint64_t h = r->hi[d] < hi[d] ? r->hi[d] : hi[d];
			if (l > lo[d])
				ep[ne++] = l - 1;
			if (h < hi[d])
				ep[ne++] = h;
		}
		if (ne == 0)
			continue;
		qsort(ep, ne, sizeof(uint64_t), cmp_u64);
		for (int k = 1; k <= N_CUTS; k++) {
			uint64_t t = ep[(ne - 1) * (size_t)k / (N_CUTS + 1)];
			if (t >= hi[d])
				continue;
			uint32_t nl = 0, nr = 0;
			for (uint32_t i = 0; i < n; i++) {
				const struct rules_cls_range *r = &b->r[rs[i]];
				nl += r->lo[d] <= t && r->hi[d] >= lo[d];
				nr += r->hi[d] > t && r->lo[d] <= hi[d];
			}
			uint32_t mx = nl > nr ? nl : nr;
			if (mx < best_max || (mx == best_max && nl + nr < best_sum)) {
				best_max = mx;
				best_sum = nl + nr;
				best_d = d;
				best_t = t;
				best_nl = nl;
				best_nr = nr;
			}
		}
	}
	free(ep);
	/* a multi-way cut where it saves at least a level on average over
	 * the best binary cut (its children: 16ths of a level per rule) */
	if (n >= MW_MIN) {
		struct mw m = {.d = -1};
		int64_t *cnt = malloc(((size_t)1 << MW_BITS) * sizeof(*cnt) + sizeof(*cnt));
		if (!cnt) {
			b->err = -ENOMEM;
			return;
		}
		bool ok = mw_choose(b, rs, n, lo, hi, cnt, &m);
		free(cnt);
		uint64_t bin = best_d < 0 || best_max >= n ? UINT64_MAX : nlog(best_nl) + nlog(best_nr);
		if (ok && (bin == UINT64_MAX || m.spread + 16 * (uint64_t)n <= bin)) {
			build_mw(b, ni, rs, n, lo, hi, depth, &m);
			return;
		}
	}
	if (best_d < 0 || best_max >= n) {
		make_leaf(b, ni, rs, n);
		return;
	}
	/* the two children, adjacent */
	size_t cap = b->cap_nodes;
	if (grow((void **)&b->nodes, &cap, b->n_nodes + 2, sizeof(*b->nodes)) < 0) {
		b->err = -ENOMEM;
		return;
	}
	b->cap_nodes = (uint32_t)cap;
	uint32_t c0 = b->n_nodes;
	b->n_nodes += 2;
	b->nodes[ni].thr = best_t;
	b->nodes[ni].a = c0;
	b->nodes[ni].b = (uint32_t)best_d;

	uint32_t *sub = malloc((size_t)n * sizeof(uint32_t));
	if (!sub) {
		b->err = -ENOMEM;
		return;
	}
	uint32_t m = 0;
	for (uint32_t i = 0; i < n; i++)
		if (b->r[rs[i]].lo[best_d] <= best_t)
			sub[m++] = rs[i];
	uint64_t save = hi[best_d];
	hi[best_d] = best_t;
	build(b, c0, sub, m, lo, hi, depth + 1);
	hi[best_d] = save;
	if (b->err) {
		free(sub);
		return;
	}
	m = 0;
	for (uint32_t i = 0; i < n; i++)
		if (b->r[rs[i]].hi[best_d] > best_t)
			sub[m++] = rs[i];
	save = lo[best_d];
	lo[best_d] = best_t + 1;
	build(b, c0 + 1, sub, m, lo, hi, depth + 1);
	lo[best_d] = save;
	free(sub);
}

/* A rule is "large" in an address dimension when it covers more than a
 * /8 (IPv4) or a /8 of the upper 64 bits (IPv6): such rules would be
 * copied into most leaves of a tree that cuts that dimension. */
static bool large(const struct rules_cls_range *r, int d)
{
	uint64_t w = r->hi[d] - r->lo[d];
	return w >= (1ull << 24) && (w >> 32 == 0 || w >= (1ull << 56));
}

/* Which tree a rule goes to: by whether its source and destination are
 * large (EffiCuts' separation, Vamanan et al., SIGCOMM 2010), so that each
 * tree cuts the dimensions its rules are narrow in. */
static unsigned tree_of(const struct rules_cls_range *r)
{
	return (large(r, RULES_CLS_SRC) ? 1u : 0u) | (large(r, RULES_CLS_DST) ? 2u : 0u);
}

#define ROOT_MAX_BITS 12

/* Buckets [first, last] of rule range [lo, hi] under a root on bits
 * [shift, shift + bits); all of them if the range crosses the bits above. */
static void root_span(uint64_t lo, uint64_t hi, unsigned shift, unsigned bits, uint32_t *first,
	uint32_t *last)
{
	uint64_t mask = (1ull << bits) - 1;
	unsigned top = shift + bits;
	if (top < 64 && (lo >> top) != (hi >> top)) {
		*first = 0;
		*last = (uint32_t)mask;
		return;
	}
	*first = (uint32_t)((lo >> shift) & mask);
	*last = (uint32_t)((hi >> shift) & mask);
}

/* Choose the root that copies rules the least: a dimension among those the
 * tree's rules are narrow in, and a window of bits. Returns the total
 * number of (rule, bucket) pairs, or UINT64_MAX when no root pays. */
static uint64_t choose_root(const struct rules_cls_range *r, const uint32_t *rs, uint32_t m,
	unsigned tree, unsigned *dim, unsigned *shift, unsigned *bits)
{
	unsigned nb = 4;
	while (nb < ROOT_MAX_BITS && (1u << (nb + 1)) <= m / 2)
		nb++;
	if (m < 64)
		return UINT64_MAX;
	static const unsigned dims[4][2] = {
		{RULES_CLS_SRC, RULES_CLS_DST}, /* both narrow */
		{RULES_CLS_DST, RULES_CLS_DST}, /* source large */
		{RULES_CLS_SRC, RULES_CLS_SRC}, /* destination large */
		{RULES_CLS_DPORT, RULES_CLS_DPORT},
	};
	uint64_t best = UINT64_MAX;
	for (unsigned k = 0; k < 2; k++) {
		unsigned d = dims[tree][k];
		unsigned width = d == RULES_CLS_DPORT ? 16 : 32; /* IPv6: within the upper 64 bits */
		bool v6 = false;
		for (uint32_t i = 0; i < m && !v6; i++)
			v6 = (r[rs[i]].hi[d] >> 32) != 0 && d != RULES_CLS_DPORT && r[rs[i]].hi[d] != UINT64_MAX;
		if (v6)
			width = 64;
		for (unsigned sh = 0; sh + nb <= width; sh += 2) {
			uint64_t cost = 0;
			for (uint32_t i = 0; i < m; i++) {
				uint32_t f, l;
				root_span(r[rs[i]].lo[d], r[rs[i]].hi[d], sh, nb, &f, &l);
				cost += (uint64_t)l - f + 1;
			}
			if (cost < best || (cost == best && sh > *shift)) {
				best = cost;
				*dim = d;
				*shift = sh;
				*bits = nb;
			}
		}
	}
	/* worth it only if rules are mostly in few buckets */
	return best <= 3 * (uint64_t)m ? best : UINT64_MAX;
}

struct rules_cls *rules_cls_build(const struct rules_cls_range *r, uint32_t n)
{
	struct rules_cls *c = calloc(1, sizeof(*c));
	uint32_t *all = malloc(((size_t)n + 1) * sizeof(uint32_t));
	struct bld b = {.r = r};
	if (!c || !all)
		goto oom;
	/* no candidate, and a step from it stays on it (rules_cls_node) */
	c->empty.a = 0;
	c->empty.b = RULES_CLS_LEAF | RULES_CLS_DIM_ZERO;
	for (unsigned t = 0; t < RULES_CLS_TREES; t++) {
		c->t[t].walk = &c->empty;
		uint32_t m = 0;
		for (uint32_t i = 0; i < n; i++)
			if (tree_of(&r[i]) == t)
				all[m++] = i;
		if (m == 0)
			continue;
		/* replication budget per tree: beyond it, leaves grow instead */
		b.budget = b.n_idx + 64 * (size_t)m + 1024;
		b.node_budget = 64 * (size_t)m + 4096 + ((size_t)1 << ROOT_MAX_BITS);
		b.nodes = NULL;
		b.cap_nodes = 0;
		b.depth = 0;
		uint64_t lo[RULES_CLS_DIMS] = {0}, hi[RULES_CLS_DIMS];
		for (int d = 0; d < RULES_CLS_DIMS; d++)
			hi[d] = UINT64_MAX;
		unsigned rdim = 0, rshift = 0, rbits = 0;
		uint64_t pairs = choose_root(r, all, m, t, &rdim, &rshift, &rbits);
		if (pairs != UINT64_MAX) {
			uint32_t nbk = 1u << rbits;
			uint32_t *cnt = calloc((size_t)nbk + 1, sizeof(uint32_t));
			uint32_t *sub = malloc(((size_t)pairs + 1) * sizeof(uint32_t));
			size_t cap = 0;
			if (!cnt || !sub || grow((void **)&b.nodes, &cap, nbk, sizeof(*b.nodes)) < 0) {
				free(cnt);
				free(sub);
				free(b.nodes);
				goto oom;
			}
			/* bucket lists in one pass (counting sort keeps chain order) */
			for (uint32_t i = 0; i < m; i++) {
				uint32_t f, l;
				root_span(r[all[i]].lo[rdim], r[all[i]].hi[rdim], rshift, rbits, &f, &l);
				for (uint32_t k = f; k <= l; k++)
					cnt[k + 1]++;
			}
			for (uint32_t k = 0; k < nbk; k++)
				cnt[k + 1] += cnt[k];
			for (uint32_t i = 0; i < m; i++) {
				uint32_t f, l;
				root_span(r[all[i]].lo[rdim], r[all[i]].hi[rdim], rshift, rbits, &f, &l);
				for (uint32_t k = f; k <= l; k++)
					sub[cnt[k]++] = all[i];
			}
			/* cnt[k] is now the end of bucket k, cnt[k - 1] its start */
			b.cap_nodes = (uint32_t)cap;
			b.n_nodes = nbk; /* node k: bucket k's tree root */
			for (uint32_t k = 0; k < nbk && !b.err; k++) {
				uint32_t start = k ? cnt[k - 1] : 0;
				build(&b, k, sub + start, cnt[k] - start, lo, hi, 1);
			}
			free(cnt);
			free(sub);
			if (b.err) {
				free(b.nodes);
				goto oom;
			}
			c->t[t].rdim = (uint8_t)rdim;
			c->t[t].rshift = (uint8_t)rshift;
			c->t[t].rbits = (uint8_t)rbits;
			c->t[t].rmask = nbk - 1;
		} else {
			size_t cap = 0;
			if (grow((void **)&b.nodes, &cap, 1, sizeof(*b.nodes)) < 0)
				goto oom;
			b.cap_nodes = (uint32_t)cap;
			b.n_nodes = 1;
			build(&b, 0, all, m, lo, hi, 0);
			if (b.err) {
				free(b.nodes);
				goto oom;
			}
		}
		c->t[t].nodes = b.nodes;
		c->t[t].walk = b.nodes;
		c->t[t].n_nodes = b.n_nodes;
		c->t[t].depth = b.depth;
	}
	free(all);
	all = NULL;
	c->idx = b.idx ? b.idx : calloc(1, sizeof(uint32_t));
	if (!c->idx)
		goto oom;
	c->n_idx = (uint32_t)b.n_idx;
	c->n_rules = n;
	c->refs = 1;
	return c;
oom:
	free(b.idx);
	free(all);
	if (c)
		for (unsigned t = 0; t < RULES_CLS_TREES; t++) {
			free(c->t[t].nodes);
		}
	free(c);
	errno = b.err == -E2BIG ? E2BIG : ENOMEM;
	return NULL;
}

struct rules_cls *rules_cls_ref(struct rules_cls *c)
{
	c->refs++;
	return c;
}

void rules_cls_free(struct rules_cls *c)
{
	if (!c || --c->refs > 0)
		return;
	for (unsigned t = 0; t < RULES_CLS_TREES; t++) {
		free(c->t[t].nodes);
	}
	free(c->idx);
	free(c);
}

size_t rules_cls_mem(const struct rules_cls *c)
{
	size_t m = sizeof(*c) + (size_t)c->n_idx * sizeof(uint32_t);
	for (unsigned t = 0; t < RULES_CLS_TREES; t++)
		m += (size_t)c->t[t].n_nodes * sizeof(struct rules_cls_node);
	return m;
}
