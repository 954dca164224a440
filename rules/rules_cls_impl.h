/* SPDX-License-Identifier: BSD-3-Clause */
/* rules_cls_impl: the classifier's layout, for the inline lookup. */
#ifndef RP_RULES_CLS_IMPL_H
#define RP_RULES_CLS_IMPL_H

#include <stdbool.h>

#define RULES_CLS_LEAF 0x80000000u
#define RULES_CLS_TREES 4

/* 16 bytes: an internal node splits dimension b at thr (key <= thr goes to
 * child a, else a + 1); a leaf (b & RULES_CLS_LEAF) holds b's low bits
 * candidates from idx[a]. */
struct rules_cls_node {
	uint64_t thr;
	uint32_t a, b;
};

/*
 * A tree may start with a direct-indexed root: 2^rbits buckets selected by
 * bits [rshift, rshift + rbits) of dimension rdim, each the root node of
 * its own binary tree (replacing the top levels of one big tree by one
 * array load).
 */
struct rules_cls_tree {
	struct rules_cls_node *nodes; /* NULL: no rule in this tree */
	uint32_t *root;               /* NULL: the tree starts at nodes[0] */
	uint32_t rmask;
	uint8_t rdim, rshift, rbits;
	uint32_t n_nodes, depth;
};

struct rules_cls {
	struct rules_cls_tree t[RULES_CLS_TREES];
	uint32_t *idx;
	uint32_t n_idx, n_rules; /* n_rules: the chain's first rules it was built for */
	uint32_t refs;           /* programs sharing it (control thread only) */
};

/* Lists a cursor merges: the trees' candidates, and the rules appended to
 * the chain after its classifier was built (walked in order). */
#define RULES_CLS_LISTS (RULES_CLS_TREES + 1)

/* The candidates of a key: up to RULES_CLS_TREES ascending lists, merged
 * on the fly by rules_cls_next(). */
struct rules_cls_cur {
	const uint32_t *p[RULES_CLS_LISTS], *end[RULES_CLS_LISTS];
	unsigned k;
};

static inline void rules_cls_lookup(const struct rules_cls *c, const uint64_t key[RULES_CLS_DIMS],
				    struct rules_cls_cur *cur)
{
	/* the trees are walked in lockstep: their node loads do not depend on
	 * each other, so the CPU overlaps their cache misses */
	const struct rules_cls_node *nd[RULES_CLS_TREES];
	const struct rules_cls_node *base[RULES_CLS_TREES];
	unsigned live = 0;
	for (unsigned t = 0; t < RULES_CLS_TREES; t++) {
		const struct rules_cls_tree *tr = &c->t[t];
		if (tr->nodes == NULL)
			continue;
		base[live] = tr->nodes;
		nd[live++] = tr->root ? &tr->nodes[tr->root[(key[tr->rdim] >> tr->rshift) & tr->rmask]]
				      : tr->nodes;
	}
	for (;;) {
		unsigned moving = 0;
		for (unsigned t = 0; t < live; t++) {
			const struct rules_cls_node *x = nd[t];
			if (!(x->b & RULES_CLS_LEAF)) {
				nd[t] = &base[t][x->a + (key[x->b] > x->thr)];
				moving++;
			}
		}
		if (moving == 0)
			break;
	}
	unsigned k = 0;
	for (unsigned t = 0; t < live; t++) {
		uint32_t n = nd[t]->b & ~RULES_CLS_LEAF;
		if (n == 0)
			continue;
		cur->p[k] = &c->idx[nd[t]->a];
		cur->end[k] = cur->p[k] + n;
		k++;
	}
	cur->k = k;
}

/* Add the positions from..n-1 to a cursor (rules after the classifier's). */
static inline void rules_cls_tail(const uint32_t *ident, uint32_t from, uint32_t n,
				  struct rules_cls_cur *cur)
{
	cur->p[cur->k] = ident + from;
	cur->end[cur->k] = ident + n;
	cur->k++;
}

/* A cursor over the positions 0..n-1 (a chain without classifier). */
static inline void rules_cls_all(const uint32_t *ident, uint32_t n, struct rules_cls_cur *cur)
{
	cur->p[0] = ident;
	cur->end[0] = ident + n;
	cur->k = n ? 1 : 0;
}

/* Next candidate in ascending order; false when none is left. */
static inline bool rules_cls_next(struct rules_cls_cur *cur, uint32_t *pos)
{
	if (cur->k == 1) {
		if (cur->p[0] == cur->end[0])
			return false;
		*pos = *cur->p[0]++;
		return true;
	}
	unsigned best = RULES_CLS_LISTS;
	uint32_t v = UINT32_MAX;
	for (unsigned i = 0; i < cur->k; i++)
		if (cur->p[i] != cur->end[i] && *cur->p[i] < v) {
			v = *cur->p[i];
			best = i;
		}
	if (best == RULES_CLS_LISTS)
		return false;
	cur->p[best]++;
	*pos = v;
	return true;
}

#endif
