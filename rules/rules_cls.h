/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_cls: the per-chain packet classifier.
 *
 * A chain of N rules is compiled into a structure that, for a packet's key
 * (five dimensions: source and destination address, source and destination
 * port, protocol), yields in ascending order the positions of the rules
 * that MAY match it: a superset of the rules that do. The evaluator then
 * checks each candidate fully, in order, and runs its target; non-terminating
 * targets, jumps and returns simply continue with the next candidate, so
 * first-match order, counters and inversions stay exact: the classifier only
 * removes rules that certainly do not match.
 *
 * Each rule is projected onto the five dimensions as closed ranges
 * [lo, hi]; anything the projection cannot express (an inverted selector,
 * a set, multiport...) is the full range of that dimension, which keeps the
 * superset property. IPv4 addresses are the 32-bit host-order value; IPv6
 * addresses are their upper 64 bits, host order.
 *
 * Built on the control thread; immutable afterwards; lookups are read-only
 * and run on any number of workers at once.
 */
#ifndef RP_RULES_CLS_H
#define RP_RULES_CLS_H

#include <stddef.h>
#include <stdint.h>

enum { RULES_CLS_SRC, RULES_CLS_DST, RULES_CLS_SPORT, RULES_CLS_DPORT, RULES_CLS_PROTO, RULES_CLS_DIMS };

struct rules_cls_range {
	uint64_t lo[RULES_CLS_DIMS], hi[RULES_CLS_DIMS];
};

struct rules_cls;

/*
 * Build the classifier of n rules; r[i] is the projection of the rule at
 * position i. NULL and errno (ENOMEM, E2BIG) on failure.
 */
struct rules_cls *rules_cls_build(const struct rules_cls_range *r, uint32_t n);
/* Another owner for c (programs share the classifiers of unchanged chains);
 * each owner calls rules_cls_free. */
struct rules_cls *rules_cls_ref(struct rules_cls *c);
void rules_cls_free(struct rules_cls *c);
/* Bytes the classifier uses. */
size_t rules_cls_mem(const struct rules_cls *c);

#include "rules_cls_impl.h" /* the inline lookup */

/*
 * void rules_cls_lookup(const struct rules_cls *c, const uint64_t key[RULES_CLS_DIMS],
 *                       struct rules_cls_cur *cur);
 *     Set cur to the candidates for key (a few ascending lists, one per
 *     tree, merged lazily; no allocation).
 * bool rules_cls_next(struct rules_cls_cur *cur, uint32_t *pos);
 *     The next candidate position in ascending order; false at the end.
 * void rules_cls_all(const uint32_t *ident, uint32_t n, struct rules_cls_cur *cur);
 *     A cursor over every position 0..n-1 (ident[i] == i): the same loop
 *     walks chains without a classifier.
 */

#endif
