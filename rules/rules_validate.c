/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_validate: whole-table checks that need the chain graph, done per
 * family as the kernel does them when a table is committed:
 *  - every -j/-g names an existing user chain of the rule's family;
 *  - no loops between chains (even unreachable ones: stricter than the
 *    kernel, which only walks from the hooks);
 *  - each user chain inherits the hooks of the built-in chains that reach
 *    it, and every rule is checked against them: -o in PREROUTING/INPUT,
 *    -i in OUTPUT/POSTROUTING, and the hook lists of extensions (REJECT
 *    only from INPUT/FORWARD/OUTPUT, DNAT from PREROUTING/OUTPUT, mac, ...).
 * Errors point at the offending rule and option. Control thread only;
 * iterative walks, so hostile chain depths cannot exhaust the stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"

#define H(h) (1u << (h))

static bool is_jump(const struct rules_rule *r)
{
	return r->target.verdict == RULES_V_JUMP || r->target.verdict == RULES_V_GOTO;
}

static void hook_list(char *buf, size_t len, uint8_t hooks)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int h = 0; h < RULES_H_COUNT; h++)
		if (hooks & H(h))
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? ", " : "",
				rules_hook_name((enum rules_hook)h));
}

static int check_ext_hooks(struct rules_perr *pe, const struct rules_chain *c,
	const struct rules_ext *x, uint8_t hooks)
{
	const struct rules_ext_desc *d = &rules_ext_descs[x->kind];
	uint8_t bad = 0;
	char where[64], allowed[64];

	if (d->hooks)
		bad = hooks & (uint8_t)~d->hooks;
	if (x->kind == RULES_X_ADDRTYPE) {
		if (x->present & (1u << RULES_O_LIMIT_IFACE_IN))
			bad |= hooks & (H(RULES_H_OUTPUT) | H(RULES_H_POSTROUTING));
		if (x->present & (1u << RULES_O_LIMIT_IFACE_OUT))
			bad |= hooks & (H(RULES_H_PREROUTING) | H(RULES_H_INPUT));
	}
	/* xt_physdev's check: a packet the box sends has no bridge port to
	 * leave by yet, unless the rule asks for bridged packets only */
	if (x->kind == RULES_X_PHYSDEV &&
	    (x->present & ((1u << RULES_O_PD_OUT) | (1u << RULES_O_PD_ISOUT))) &&
	    (!(x->present & (1u << RULES_O_PD_BRIDGED)) || (x->invert & (1u << RULES_O_PD_BRIDGED))))
		bad |= hooks & H(RULES_H_OUTPUT);
	/* xt_policy's check: an input policy is not known where the box's own
	 * packets leave, an output one not where packets come in */
	if (x->kind == RULES_X_POLICY && x->u.policy.p != NULL)
		bad |= hooks & (x->u.policy.p->dir == 1 ? H(RULES_H_OUTPUT) | H(RULES_H_POSTROUTING) :
							  H(RULES_H_PREROUTING) | H(RULES_H_INPUT));
	if (x->kind == RULES_X_TCPMSS && (x->present & (1u << RULES_O_MSS_CLAMP)))
		bad |= hooks & (uint8_t)~(H(RULES_H_FORWARD) | H(RULES_H_OUTPUT) | H(RULES_H_POSTROUTING));
	if (!bad)
		return 0;
	hook_list(where, sizeof(where), bad);
	if (x->kind == RULES_X_TCPMSS)
		return rules_errf(pe, x->col, "TCPMSS: path-MTU clamping only supported in FORWARD, "
					      "OUTPUT and POSTROUTING hooks, not in %s (chain %s)",
			where, c->name);
	if (x->kind == RULES_X_PHYSDEV)
		return rules_errf(pe, x->col, "physdev: --physdev-out and --physdev-is-out only supported in "
					      "the FORWARD and POSTROUTING chains with bridged traffic, not "
					      "in %s (chain %s)",
			where, c->name);
	if (x->kind == RULES_X_ADDRTYPE)
		return rules_errf(pe, x->col, "addrtype: interface limitation not valid in %s (chain %s)",
			where, c->name);
	if (x->kind == RULES_X_POLICY)
		return rules_errf(pe, x->col, "policy: %s policy not valid in %s (chain %s)",
			x->u.policy.p->dir == 1 ? "input" : "output", where, c->name);
	hook_list(allowed, sizeof(allowed), d->hooks);
	if (c->hook >= 0)
		return rules_errf(pe, x->col, "%s is not allowed in %s (only in %s)", d->name, where,
			allowed);
	return rules_errf(pe, x->col, "%s is not allowed in chain %s: it is reached from %s (only %s allowed)",
		d->name, c->name, where, allowed);
}

static int check_rule(struct rules_perr *pe, enum rules_table_id t, const struct rules_chain *c,
	const struct rules_rule *r, uint8_t hooks)
{
	char where[64];
	int rc;
	pe->line = r->line;
	if (r->target.verdict == RULES_V_EXT) {
		const struct rules_ext_desc *d = &rules_ext_descs[r->target.ext.kind];
		if (d->tables && !(d->tables & (1u << t)))
			return rules_errf(pe, r->target.col, "%s target is not allowed in the %s table",
				d->name, rules_table_name(t));
	}
	for (unsigned i = 0; i < r->n_match; i++) {
		const struct rules_ext_desc *d = &rules_ext_descs[r->match[i].kind];
		if (d->tables && !(d->tables & (1u << t))) {
			char allowed[64];
			size_t o = 0;
			allowed[0] = '\0';
			for (int k = 0; k < RULES_T_COUNT; k++)
				if (d->tables & (1u << k))
					o += (size_t)snprintf(allowed + o, o < sizeof(allowed) ? sizeof(allowed) - o : 0,
						"%s%s", o ? ", " : "", rules_table_name((enum rules_table_id)k));
			return rules_errf(pe, r->match[i].col,
				"%s match is not allowed in the %s table (only in %s)", d->name,
				rules_table_name(t), allowed);
		}
	}
	if (t == RULES_T_NAT && r->target.verdict == RULES_V_DROP)
		return rules_errf(pe, r->target.col,
			"the \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited");
	if (!hooks)
		return 0;
	uint8_t in_bad = hooks & (H(RULES_H_OUTPUT) | H(RULES_H_POSTROUTING));
	uint8_t out_bad = hooks & (H(RULES_H_PREROUTING) | H(RULES_H_INPUT));
	if (r->outiface[0] && out_bad) {
		hook_list(where, sizeof(where), out_bad);
		return rules_errf(pe, r->col_out, c->hook >= 0 ? "can't use -o with %s" :
							       "can't use -o in chain %2$s: it is reached from %1$s",
			where, c->name);
	}
	if (r->iniface[0] && in_bad) {
		hook_list(where, sizeof(where), in_bad);
		return rules_errf(pe, r->col_in, c->hook >= 0 ? "can't use -i with %s" :
							      "can't use -i in chain %2$s: it is reached from %1$s",
			where, c->name);
	}
	for (unsigned i = 0; i < r->n_match; i++)
		if ((rc = check_ext_hooks(pe, c, &r->match[i], hooks)) < 0)
			return rc;
	if (r->target.verdict == RULES_V_EXT && (rc = check_ext_hooks(pe, c, &r->target.ext, hooks)) < 0)
		return rc;
	return 0;
}

struct frame {
	size_t chain, rule;
};

static int validate_fam(const struct rules_table *tb, enum rules_table_id t, int fam,
	struct rules_perr *pe)
{
	size_t n = tb->n_chains;
	uint8_t *color = calloc(n ? n : 1, 1);
	uint8_t *hooks = calloc(n ? n : 1, 1);
	size_t *target = NULL;
	struct frame *stack = malloc((n ? n : 1) * sizeof(*stack));
	size_t total = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		total += tb->chains[i].n_rules;
	target = malloc((total ? total : 1) * sizeof(*target));
	if (!color || !hooks || !stack || !target) {
		rc = rules_errf(pe, 0, "out of memory");
		goto out;
	}

	/* resolve jumps: target[] holds the chain index per rule, SIZE_MAX if none */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rules_chain *c = &tb->chains[i];
		for (size_t j = 0; j < c->n_rules; j++, k++) {
			const struct rules_rule *r = &c->rules[j];
			target[k] = SIZE_MAX;
			if (!(r->fam & fam) || !is_jump(r))
				continue;
			const struct rules_chain *tc = rules_chain_get((struct rules_table *)tb, r->target.chain);
			pe->line = r->line;
			if (!tc || !(tc->fam & fam)) {
				rc = rules_errf(pe, r->target.col, "chain '%s' does not exist", r->target.chain);
				goto out;
			}
			if (tc->hook >= 0) {
				rc = rules_errf(pe, r->target.col, "cannot jump to built-in chain %s", tc->name);
				goto out;
			}
			target[k] = (size_t)(tc - tb->chains);
		}
	}
	size_t *first = malloc((n ? n : 1) * sizeof(*first));
	if (!first) {
		rc = rules_errf(pe, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0, acc = 0; i < n; i++) {
		first[i] = acc;
		acc += tb->chains[i].n_rules;
	}

	/* loops: iterative DFS, colours 0 new, 1 on the stack, 2 done */
	for (size_t s = 0; s < n && rc == 0; s++) {
		if (color[s] || !(tb->chains[s].fam & fam))
			continue;
		size_t sp = 0;
		stack[sp++] = (struct frame){s, 0};
		color[s] = 1;
		while (sp && rc == 0) {
			struct frame *f = &stack[sp - 1];
			const struct rules_chain *c = &tb->chains[f->chain];
			if (f->rule == c->n_rules) {
				color[f->chain] = 2;
				sp--;
				continue;
			}
			size_t ti = target[first[f->chain] + f->rule];
			const struct rules_rule *r = &c->rules[f->rule++];
			if (ti == SIZE_MAX || color[ti] == 2)
				continue;
			if (color[ti] == 1) {
				struct rules_buf path = {0};
				size_t from = 0;
				while (stack[from].chain != ti)
					from++;
				for (size_t q = from; q < sp; q++)
					rbuf_printf(&path, "%s -> ", tb->chains[stack[q].chain].name);
				rbuf_puts(&path, tb->chains[ti].name);
				pe->line = r->line;
				rc = rules_errf(pe, r->target.col, "jump to chain '%s' creates a loop: %s",
					tb->chains[ti].name, path.s ? path.s : "");
				free(path.s);
				break;
			}
			color[ti] = 1;
			stack[sp++] = (struct frame){ti, 0};
		}
	}

	/* hooks reaching each chain: propagate from the built-ins (the graph is acyclic now) */
	for (size_t b = 0; b < tb->n_builtin && rc == 0; b++) {
		size_t sp = 0;
		memset(color, 0, n);
		hooks[b] |= (uint8_t)H(tb->chains[b].hook);
		stack[sp++] = (struct frame){b, 0};
		color[b] = 1;
		while (sp) {
			struct frame *f = &stack[sp - 1];
			const struct rules_chain *c = &tb->chains[f->chain];
			if (f->rule == c->n_rules) {
				sp--;
				continue;
			}
			size_t ti = target[first[f->chain] + f->rule++];
			if (ti == SIZE_MAX || color[ti])
				continue;
			color[ti] = 1;
			hooks[ti] |= (uint8_t)H(tb->chains[b].hook);
			stack[sp++] = (struct frame){ti, 0};
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct rules_chain *c = &tb->chains[i];
		for (size_t j = 0; j < c->n_rules && rc == 0; j++)
			if (c->rules[j].fam & fam)
				rc = check_rule(pe, t, c, &c->rules[j], hooks[i]);
	}
	free(first);
out:
	free(color);
	free(hooks);
	free(stack);
	free(target);
	return rc;
}

int rules_validate_table(const struct rules_ruleset *rs, enum rules_table_id t, int fam,
	struct rules_perr *pe)
{
	int saved = pe->line, rc = 0;
	for (int f = RULES_F_V4; f <= RULES_F_V6 && rc == 0; f <<= 1)
		if (fam & f)
			rc = validate_fam(&rs->tables[t], t, f, pe);
	if (rc == 0)
		pe->line = saved;
	return rc;
}

int rules_validate(const struct rules_ruleset *rs, const char *name, char *err, size_t errlen)
{
	struct rules_perr pe = {name, 0, 0, err, errlen};
	for (int t = 0; t < RULES_T_COUNT; t++) {
		int rc = rules_validate_table(rs, (enum rules_table_id)t, RULES_F_ALL, &pe);
		if (rc < 0)
			return rc;
	}
	return 0;
}
