/* SPDX-License-Identifier: BSD-3-Clause */
/* rules_cls_impl: the classifier's layout, for the inline lookup. */
#ifndef RP_RULES_CLS_IMPL_H
#define RP_RULES_CLS_IMPL_H

#include <stdbool.h>

#define RULES_CLS_LEAF 0x80000000u
#define RULES_CLS_TREES 4

/*
 * 16 bytes. b's low bits select the key's dimension. A binary node splits
 * it at thr (key <= thr goes to child a, else a + 1). A multi-way node
 * (thr all ones, so that the comparison never adds) goes to child
 * a + ((key >> shift) & mask), shift and mask in b (RULES_CLS_SHIFT_OF,
 * RULES_CLS_MASK_OF: mask 0 for binary nodes): it replaces several levels
 * of binary cuts where the rules spread over the bits of one window. A
 * leaf (b & RULES_CLS_LEAF) is its own child: its a is its own index and
 * its dimension a key slot that is always 0 (RULES_CLS_DIM_ZERO), so a
 * step from a leaf stays there and the lookup walks the trees with no
 * branch per node, whose outcome (leaf or not) the CPU could not predict.
 * A leaf's b holds its number of candidates (RULES_CLS_LEAF_N, in the
 * bits of the mask: against a 0 key they add nothing); up to
 * RULES_CLS_INLINE of them are in the leaf itself, in place of thr (no
 * further cache miss), more are in idx[] from in[0] on.
 */
struct rules_cls_node {
	union {
		uint64_t thr;
		uint32_t in[2];
	};
	uint32_t a, b;
};

#define RULES_CLS_INLINE 2
#define RULES_CLS_DIM_MASK 7u
#define RULES_CLS_DIM_ZERO 7u /* the lookup's copy of the key is 0 there */
#define RULES_CLS_SHIFT_OF(b) (((b) >> 3) & 63u)
#define RULES_CLS_MASK_OF(b) (((b) >> 9) & 0xfffu)
#define RULES_CLS_MW(shift, bits) ((shift) << 3 | ((1u << (bits)) - 1) << 9) /* bits <= 12 */
#define RULES_CLS_LEAF_SHIFT 9
#define RULES_CLS_LEAF_MAX (RULES_CLS_LEAF >> RULES_CLS_LEAF_SHIFT) /* exclusive */
#define RULES_CLS_LEAF_N(b) (((b) & ~RULES_CLS_LEAF) >> RULES_CLS_LEAF_SHIFT)

/*
 * A tree may start with a direct-indexed root: 2^rbits buckets selected by
 * bits [rshift, rshift + rbits) of dimension rdim, bucket k's tree rooted
 * at nodes[k] (replacing the top levels of one big tree by one index
 * computation). Without one, rmask is 0: every key starts at nodes[0].
 */
struct rules_cls_tree {
	struct rules_cls_node *nodes; /* NULL: no rule in this tree */
	const struct rules_cls_node *walk; /* nodes, or the classifier's empty leaf */
	uint32_t rmask;
	uint8_t rdim, rshift, rbits;
	uint32_t n_nodes, depth;
};

struct rules_cls {
	struct rules_cls_tree t[RULES_CLS_TREES];
	struct rules_cls_node empty; /* the walk of a tree without rules: no candidate */
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
	 * each other, so the CPU overlaps their cache misses; leaves step onto
	 * themselves, so the only branch is the end of the walk, once all four
	 * are on a leaf */
	const struct rules_cls_node *nd[RULES_CLS_TREES];
	const struct rules_cls_node *base[RULES_CLS_TREES];
	const uint64_t k8[RULES_CLS_DIM_MASK + 1] = {
		key[0], key[1], key[2], key[3], key[4], 0, 0, 0,
	};
	_Static_assert(RULES_CLS_DIMS == 5, "k8 copies the key's dimensions");
	for (unsigned t = 0; t < RULES_CLS_TREES; t++) {
		const struct rules_cls_tree *tr = &c->t[t];
		base[t] = tr->walk;
		nd[t] = &tr->walk[(key[tr->rdim] >> tr->rshift) & tr->rmask];
	}
	for (;;) {
		uint32_t leaf = RULES_CLS_LEAF;
		for (unsigned t = 0; t < RULES_CLS_TREES; t++) {
			const struct rules_cls_node *x = nd[t];
			uint32_t b = x->b;
			uint64_t v = k8[b & RULES_CLS_DIM_MASK];
			leaf &= b;
			nd[t] = &base[t][x->a + (v > x->thr) +
					 (uint32_t)((v >> RULES_CLS_SHIFT_OF(b)) & RULES_CLS_MASK_OF(b))];
		}
		if (leaf)
			break;
	}
	unsigned k = 0;
	for (unsigned t = 0; t < RULES_CLS_TREES; t++) {
		const struct rules_cls_node *x = nd[t];
		uint32_t n = RULES_CLS_LEAF_N(x->b);
		if (n == 0)
			continue;
		cur->p[k] = n <= RULES_CLS_INLINE ? x->in : &c->idx[x->in[0]];
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
