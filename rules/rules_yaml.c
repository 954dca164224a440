/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_yaml: the native YAML ruleset format, in and out.
 *
 *   sets:
 *     NAME: {type: hash:net, family: inet, range: "1-1024", elements: [...]}
 *   tables:
 *     filter:
 *       INPUT:   {policy: DROP, rules: [RULE, ...]}
 *       mychain: {rules: [...]}            # any other name: a user chain
 *
 * A RULE is an iptables rule string ("-p tcp --dport 22 -j ACCEPT"), or a
 * map: {rule: "...", family: ipv4|ipv6|both} or structured fields (src,
 * dst, proto, in, out, fragment, sport, dport, icmp-type, state, set, mark,
 * comment, match, action/jump/goto and target options). A structured rule
 * is translated into the same iptables arguments and parsed by the one
 * rule parser (ipt_parse.c), so both spellings mean exactly the same and
 * every error names the YAML line and column.
 *
 * Families: a rule without family-specific selectors applies to IPv4 and
 * IPv6 (like an nftables inet table); addresses or icmp/icmp6 narrow it;
 * `family:` states it. A chain, its policy and the tables exist in both
 * families.
 *
 * Control thread and offline tools only. Loading is transactional: the
 * ruleset is built fresh, validated, and only then replaces the caller's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_yaml.h"
#include "rules_priv.h"

struct yctx {
	const char *name;
	char *err;
	size_t errlen;
	struct rules_ruleset *rs;
};

static int yerr(struct yctx *y, const struct cy_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int yerr(struct yctx *y, const struct cy_node *n, const char *fmt, ...)
{
	char msg[RULES_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (y->err && y->errlen)
		snprintf(y->err, y->errlen, "%s:%d:%d: %s", y->name, n ? n->line : 0, n ? n->col : 0, msg);
	return -EINVAL;
}

static const struct cy_node *key_of(const struct cy_node *map, size_t i)
{
	return map->items[2 * i];
}

static const struct cy_node *val_of(const struct cy_node *map, size_t i)
{
	return map->items[2 * i + 1];
}

static int known(struct yctx *y, const struct cy_node *map, const char *what, const char *const *keys)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct cy_node *k = key_of(map, i);
		bool ok = false;
		for (const char *const *p = keys; *p; p++)
			ok |= strcmp(k->str, *p) == 0;
		if (!ok)
			return yerr(y, k, "unknown key '%s' in %s", k->str, what);
	}
	return 0;
}

static int scalar(struct yctx *y, const struct cy_node *n, const char *what)
{
	if (n->type != CY_SCALAR)
		return yerr(y, n, "%s must be a single value, not %s", what, cy_type_name(n->type));
	return 0;
}

/* ---- building iptables arguments from structured fields ---- */

static void quote(struct rules_buf *b, const char *s)
{
	bool plain = *s != '\0';
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '\'' || *p == '\\' || *p == '\t')
			plain = false;
	if (plain) {
		rbuf_puts(b, s);
		return;
	}
	rbuf_putc(b, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			rbuf_putc(b, '\\');
		rbuf_putc(b, *p);
	}
	rbuf_putc(b, '"');
}

/* " [!] --opt value", the value may start with "!" for inversion */
static void opt_inv(struct rules_buf *b, const char *opt, const char *v)
{
	while (*v == ' ')
		v++;
	if (v[0] == '!') {
		rbuf_puts(b, " !");
		v++;
		while (*v == ' ')
			v++;
	}
	rbuf_printf(b, " %s ", opt);
	quote(b, v);
}

static int ports(struct yctx *y, struct rules_buf *b, const struct cy_node *n, const char *opt,
	const char *mopt)
{
	if (n->type == CY_SCALAR) {
		opt_inv(b, opt, n->str);
		return 0;
	}
	if (n->type != CY_SEQ || n->n == 0)
		return yerr(y, n, "%s must be a port, a range \"a:b\" or a list of them", opt + 2);
	struct rules_buf l = {0};
	for (size_t i = 0; i < n->n; i++) {
		if (scalar(y, n->items[i], opt + 2) < 0) {
			free(l.s);
			return -EINVAL;
		}
		rbuf_printf(&l, "%s%s", i ? "," : "", n->items[i]->str);
	}
	if (l.oom) {
		free(l.s);
		return -ENOMEM;
	}
	rbuf_puts(b, " -m multiport");
	opt_inv(b, mopt, l.s);
	free(l.s);
	return 0;
}

/* Structured rule -> iptables arguments. */
static int structured(struct yctx *y, const struct cy_node *r, struct rules_buf *b, int *fam)
{
	static const char *const keys[] = {"family", "src", "dst", "proto", "in", "out", "fragment",
		"sport", "dport", "icmp-type", "state", "set", "mark", "comment", "match", "action",
		"jump", "goto", "reject-with", "log-prefix", "log-level", "set-mark", "target-options",
		"rule", NULL};
	if (known(y, r, "a rule", keys) < 0)
		return -EINVAL;
	const struct cy_node *f, *proto = cy_map_get(r, "proto");
	if ((f = cy_map_get(r, "family"))) {
		if (scalar(y, f, "family") < 0)
			return -EINVAL;
		if (strcmp(f->str, "ipv4") == 0)
			*fam = RULES_F_V4;
		else if (strcmp(f->str, "ipv6") == 0)
			*fam = RULES_F_V6;
		else if (strcmp(f->str, "both") == 0)
			*fam = RULES_F_ALL;
		else
			return yerr(y, f, "family must be ipv4, ipv6 or both, not '%s'", f->str);
	}
	if ((f = cy_map_get(r, "rule"))) {
		if (scalar(y, f, "rule") < 0)
			return -EINVAL;
		if (r->n != (cy_map_get(r, "family") ? 2u : 1u))
			return yerr(y, r, "a rule given as 'rule:' takes no other field than 'family'");
		rbuf_puts(b, f->str);
		return 0;
	}
	static const struct {
		const char *key, *opt;
	} simple[] = {{"src", "-s"}, {"dst", "-d"}, {"proto", "-p"}, {"in", "-i"}, {"out", "-o"}};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if ((f = cy_map_get(r, simple[i].key))) {
			if (scalar(y, f, simple[i].key) < 0)
				return -EINVAL;
			opt_inv(b, simple[i].opt, f->str);
		}
	if ((f = cy_map_get(r, "fragment"))) {
		if (scalar(y, f, "fragment") < 0)
			return -EINVAL;
		if (strcmp(f->str, "true") == 0 || strcmp(f->str, "yes") == 0)
			rbuf_puts(b, " -f");
		else if (strcmp(f->str, "false") == 0 || strcmp(f->str, "no") == 0)
			rbuf_puts(b, " ! -f");
		else
			return yerr(y, f, "fragment must be true or false, not '%s'", f->str);
	}
	const struct cy_node *sp = cy_map_get(r, "sport"), *dp = cy_map_get(r, "dport");
	if (sp || dp) {
		if (!proto)
			return yerr(y, sp ? sp : dp, "ports need a protocol: add 'proto: tcp' or 'proto: udp'");
		bool list = (sp && sp->type == CY_SEQ) || (dp && dp->type == CY_SEQ);
		if (!list)
			rbuf_printf(b, " -m %s", proto->str);
		if (sp && (list ? ports(y, b, sp, "--sports", "--sports") : ports(y, b, sp, "--sport", NULL)) < 0)
			return -EINVAL;
		if (dp && (list ? ports(y, b, dp, "--dports", "--dports") : ports(y, b, dp, "--dport", NULL)) < 0)
			return -EINVAL;
	}
	if ((f = cy_map_get(r, "icmp-type"))) {
		if (scalar(y, f, "icmp-type") < 0)
			return -EINVAL;
		if (!proto)
			return yerr(y, f, "icmp-type needs 'proto: icmp' or 'proto: ipv6-icmp'");
		bool v6 = strcmp(proto->str, "icmp") != 0;
		rbuf_printf(b, " -m %s", v6 ? "icmp6" : "icmp");
		opt_inv(b, v6 ? "--icmpv6-type" : "--icmp-type", f->str);
	}
	if ((f = cy_map_get(r, "state"))) {
		struct rules_buf l = {0};
		if (f->type == CY_SCALAR) {
			rbuf_puts(&l, f->str);
		} else if (f->type == CY_SEQ && f->n) {
			for (size_t i = 0; i < f->n; i++) {
				if (scalar(y, f->items[i], "state") < 0) {
					free(l.s);
					return -EINVAL;
				}
				rbuf_printf(&l, "%s%s", i ? "," : "", f->items[i]->str);
			}
		} else {
			return yerr(y, f, "state must be a state or a list of states");
		}
		if (l.oom) {
			free(l.s);
			return -ENOMEM;
		}
		rbuf_puts(b, " -m conntrack");
		opt_inv(b, "--ctstate", l.s);
		free(l.s);
	}
	if ((f = cy_map_get(r, "set"))) {
		if (scalar(y, f, "set") < 0)
			return -EINVAL;
		/* "NAME src[,dst]" or "! NAME src" */
		rbuf_puts(b, " -m set");
		const char *v = f->str;
		if (v[0] == '!') {
			rbuf_puts(b, " !");
			v++;
		}
		rbuf_printf(b, " --match-set %s", v);
	}
	if ((f = cy_map_get(r, "mark"))) {
		if (scalar(y, f, "mark") < 0)
			return -EINVAL;
		rbuf_puts(b, " -m mark");
		opt_inv(b, "--mark", f->str);
	}
	if ((f = cy_map_get(r, "match"))) {
		if (scalar(y, f, "match") < 0)
			return -EINVAL;
		rbuf_printf(b, " %s", f->str);
	}
	if ((f = cy_map_get(r, "comment"))) {
		if (scalar(y, f, "comment") < 0)
			return -EINVAL;
		rbuf_puts(b, " -m comment --comment ");
		quote(b, f->str);
	}
	const struct cy_node *act = cy_map_get(r, "action"), *jmp = cy_map_get(r, "jump"),
			     *go = cy_map_get(r, "goto");
	if (!!act + !!jmp + !!go > 1)
		return yerr(y, act ? act : jmp, "give one of action, jump and goto");
	if ((act && scalar(y, act, "action") < 0) || (jmp && scalar(y, jmp, "jump") < 0) ||
	    (go && scalar(y, go, "goto") < 0))
		return -EINVAL;
	if (act || jmp)
		rbuf_printf(b, " -j %s", act ? act->str : jmp->str);
	if (go)
		rbuf_printf(b, " -g %s", go->str);
	static const char *const topts[] = {"reject-with", "log-level", "set-mark"};
	for (size_t i = 0; i < sizeof(topts) / sizeof(topts[0]); i++)
		if ((f = cy_map_get(r, topts[i]))) {
			if (scalar(y, f, topts[i]) < 0)
				return -EINVAL;
			if (!act)
				return yerr(y, f, "%s needs an action", topts[i]);
			rbuf_printf(b, " --%s ", topts[i]);
			quote(b, f->str);
		}
	if ((f = cy_map_get(r, "log-prefix"))) {
		if (scalar(y, f, "log-prefix") < 0)
			return -EINVAL;
		if (!act)
			return yerr(y, f, "log-prefix needs 'action: LOG'");
		rbuf_puts(b, " --log-prefix ");
		quote(b, f->str);
	}
	if ((f = cy_map_get(r, "target-options"))) {
		if (scalar(y, f, "target-options") < 0)
			return -EINVAL;
		if (!act)
			return yerr(y, f, "target-options need an action");
		rbuf_printf(b, " %s", f->str);
	}
	return 0;
}

static int load_rule(struct yctx *y, enum rules_table_id t, const char *chain, int chain_fam,
	const struct cy_node *r)
{
	struct rules_buf b = {0};
	int fam = chain_fam, rc;
	int line = r->line, col = r->col;
	if (r->type == CY_SCALAR) {
		rbuf_puts(&b, r->str);
		/* a plain scalar starts at its node; a quoted one a column later */
		if (r->str[0] && r->col > 0)
			col = r->col;
	} else if (r->type == CY_MAP) {
		if ((rc = structured(y, r, &b, &fam)) < 0) {
			free(b.s);
			return rc;
		}
		const struct cy_node *rr = cy_map_get(r, "rule");
		if (rr) {
			line = rr->line;
			col = rr->col;
		}
	} else {
		return yerr(y, r, "a rule is an iptables rule string or a map, not %s",
			cy_type_name(r->type));
	}
	if (b.oom) {
		free(b.s);
		return -ENOMEM;
	}
	const char *text = b.s ? b.s : "";
	while (*text == ' ')
		text++;
	/* y->rs is a fresh ruleset, validated whole at the end and thrown away
	 * on any error: no per-rule copy (that made loading quadratic) */
	rc = rules_ipt_add_rule_into(y->rs, t, chain, fam, text, y->name, line,
		r->type == CY_SCALAR ? col : 0, y->err, y->errlen);
	if (rc < 0 && r->type == CY_MAP && y->err && y->errlen) {
		/* structured rules: the message names the generated arguments */
		char inner[RULES_ERR_MAX];
		const char *m = y->err;
		for (int k = 0; k < 3 && m; k++) { /* skip "name:line:col: " */
			const char *c = strchr(m, ':');
			m = c ? c + 1 : NULL;
		}
		snprintf(inner, sizeof(inner), "%s", m ? m + (*m == ' ') : y->err);
		yerr(y, r, "%s (rule: \"%s\")", inner, text);
	}
	free(b.s);
	return rc;
}

/* The sets become `ipset save` text, loaded at once (a load per line
 * would copy the ruleset each time); each line remembers its YAML node,
 * where the loader's error is restated ("set 'NAME': what"). */
struct set_lines {
	struct rules_buf b;
	size_t n, cap;
	const struct cy_node **at;
	const char **set;
};

static int set_line(struct set_lines *sl, const struct cy_node *at, const char *set)
{
	if (sl->n == sl->cap) {
		size_t cap = sl->cap ? 2 * sl->cap : 64;
		const struct cy_node **na = realloc(sl->at, cap * sizeof(*na));
		if (na == NULL)
			return -ENOMEM;
		sl->at = na;
		const char **ns = realloc(sl->set, cap * sizeof(*ns));
		if (ns == NULL)
			return -ENOMEM;
		sl->set = ns;
		sl->cap = cap;
	}
	sl->at[sl->n] = at;
	sl->set[sl->n++] = set;
	return 0;
}

/* a value that goes into a line of ipset text: one line (elements, which
 * carry their options); one word (names, types, options) */
static int one_line(struct yctx *y, const struct cy_node *n, const char *what)
{
	if (strpbrk(n->str, "\n\r"))
		return yerr(y, n, "%s must be on one line", what);
	return 0;
}

static int one_word(struct yctx *y, const struct cy_node *n, const char *what)
{
	if (!n->str[0] || strpbrk(n->str, " \t\n\r\"'"))
		return yerr(y, n, "%s must be one word", what);
	return 0;
}

static int load_sets_text(struct yctx *y, const struct cy_node *sets, struct set_lines *sl)
{
	for (size_t i = 0; i < sets->n; i++) {
		const struct cy_node *k = key_of(sets, i), *v = val_of(sets, i);
		static const char *const keys[] = {"type", "family", "range", "netmask", "size",
			"hashsize", "maxelem", "timeout", "comment", "elements", NULL};
		if (v->type != CY_MAP)
			return yerr(y, v, "set '%s' must be a map", k->str);
		if (known(y, v, "a set", keys) < 0)
			return -EINVAL;
		const struct cy_node *ty = cy_map_get(v, "type"), *f;
		if (!ty)
			return yerr(y, v, "set '%s' needs a type", k->str);
		if (scalar(y, ty, "type") < 0 || one_word(y, ty, "type") < 0 || one_word(y, k, "a set name") < 0)
			return -EINVAL;
		struct rules_buf *b = &sl->b;
		rbuf_printf(b, "create %s %s", k->str, ty->str);
		static const char *const cre[] = {"family", "range", "netmask", "size", "hashsize",
			"maxelem", "timeout"};
		for (size_t j = 0; j < RULES_ARRAY_SIZE(cre); j++)
			if ((f = cy_map_get(v, cre[j]))) {
				if (scalar(y, f, cre[j]) < 0 || one_word(y, f, cre[j]) < 0)
					return -EINVAL;
				rbuf_printf(b, " %s %s", cre[j], f->str);
			}
		if ((f = cy_map_get(v, "comment"))) { /* comment: true -- entries may carry one */
			if (scalar(y, f, "comment") < 0)
				return -EINVAL;
			if (strcmp(f->str, "true") == 0 || strcmp(f->str, "yes") == 0)
				rbuf_puts(b, " comment");
			else if (strcmp(f->str, "false") != 0 && strcmp(f->str, "no") != 0)
				return yerr(y, f, "comment must be true or false, not '%s'", f->str);
		}
		rbuf_putc(b, '\n');
		if (set_line(sl, k, k->str) < 0)
			return -ENOMEM;
		const struct cy_node *el = cy_map_get(v, "elements");
		if (!el)
			continue;
		if (el->type != CY_SEQ)
			return yerr(y, el, "elements must be a list");
		for (size_t j = 0; j < el->n; j++) {
			const struct cy_node *e = el->items[j];
			if (scalar(y, e, "a set element") < 0 || one_line(y, e, "a set element") < 0)
				return -EINVAL;
			rbuf_printf(b, "add %s %s\n", k->str, e->str);
			if (set_line(sl, e, k->str) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int load_sets(struct yctx *y, const struct cy_node *sets)
{
	if (sets->type != CY_MAP)
		return yerr(y, sets, "sets must be a map of set names, not %s", cy_type_name(sets->type));
	struct set_lines sl = {0};
	int rc = load_sets_text(y, sets, &sl);
	if (rc == 0 && sl.b.oom)
		rc = -ENOMEM;
	bool loaded = false;
	if (rc == 0 && sl.n) {
		rc = rules_ipset_load(y->rs, sl.b.s, sl.b.len, y->name, y->err, y->errlen);
		loaded = true;
	}
	if (loaded && rc == -EINVAL && strncmp(y->err, y->name, strlen(y->name)) == 0) {
		/* "NAME:LINE:COL: what" from the loader: its line's node */
		const char *p = y->err + strlen(y->name);
		unsigned long line = *p == ':' ? strtoul(p + 1, NULL, 10) : 0;
		if (line >= 1 && line <= sl.n) {
			char inner[RULES_ERR_MAX];
			const char *m = strstr(p, ": ");
			snprintf(inner, sizeof(inner), "%s", m ? m + 2 : y->err);
			yerr(y, sl.at[line - 1], "set '%s': %s", sl.set[line - 1], inner);
		}
	}
	free(sl.b.s);
	free(sl.at);
	free(sl.set);
	return rc;
}

static bool builtin_chain(enum rules_table_id t, const char *name)
{
	uint8_t hooks = rules_table_hooks(t);
	for (int h = 0; h < RULES_H_COUNT; h++)
		if ((hooks & (1u << h)) && strcmp(rules_hook_name((enum rules_hook)h), name) == 0)
			return true;
	return false;
}

static int load_table(struct yctx *y, enum rules_table_id t, const struct cy_node *tn)
{
	if (tn->type != CY_MAP)
		return yerr(y, tn, "table %s must be a map of chains", rules_table_name(t));
	/* declare the table, its policies and user chains in both families;
	 * `policy6` gives IPv6 its own policy (default: `policy`) */
	struct rules_buf b[2] = {{0}, {0}};
	int rc = 0;
	for (int f = 0; f < 2; f++)
		rbuf_printf(&b[f], "*%s\n", rules_table_name(t));
	uint8_t hooks = rules_table_hooks(t);
	for (int h = 0; h < RULES_H_COUNT && rc == 0; h++) {
		if (!(hooks & (1u << h)))
			continue;
		const char *pol[2] = {"ACCEPT", NULL};
		const struct cy_node *c = cy_map_get(tn, rules_hook_name((enum rules_hook)h));
		static const char *const pkey[2] = {"policy", "policy6"};
		for (int f = 0; f < 2 && rc == 0; f++) {
			const struct cy_node *p = c && c->type == CY_MAP ? cy_map_get(c, pkey[f]) : NULL;
			if (!p)
				continue;
			if (scalar(y, p, pkey[f]) < 0 ||
			    (strcmp(p->str, "ACCEPT") != 0 && strcmp(p->str, "DROP") != 0))
				rc = yerr(y, p, "%s must be ACCEPT or DROP", pkey[f]);
			else
				pol[f] = p->str;
		}
		if (!pol[1])
			pol[1] = pol[0];
		for (int f = 0; f < 2; f++)
			rbuf_printf(&b[f], ":%s %s [0:0]\n", rules_hook_name((enum rules_hook)h), pol[f]);
	}
	for (size_t i = 0; i < tn->n && rc == 0; i++) {
		const struct cy_node *k = key_of(tn, i), *v = val_of(tn, i);
		static const char *const keys[] = {"policy", "policy6", "rules", NULL};
		if (v->type != CY_MAP) {
			rc = yerr(y, v, "chain '%s' must be a map (policy, rules)", k->str);
			break;
		}
		if (known(y, v, "a chain", keys) < 0) {
			rc = -EINVAL;
			break;
		}
		if (builtin_chain(t, k->str))
			continue;
		const struct cy_node *pp = cy_map_get(v, "policy") ? cy_map_get(v, "policy") : cy_map_get(v, "policy6");
		if (pp) {
			rc = yerr(y, pp, "'%s' is a user chain of table %s: only built-in chains have a policy",
				k->str, rules_table_name(t));
			break;
		}
		const char *why;
		if (!rules_chain_name_ok(k->str, &why)) {
			rc = yerr(y, k, "invalid chain name '%s': %s", k->str, why);
			break;
		}
		for (int f = 0; f < 2; f++)
			rbuf_printf(&b[f], ":%s - [0:0]\n", k->str);
	}
	for (int f = 0; f < 2; f++)
		rbuf_puts(&b[f], "COMMIT\n");
	if (rc == 0 && (b[0].oom || b[1].oom))
		rc = -ENOMEM;
	for (int f = 0; f < 2 && rc == 0; f++) {
		rc = rules_ipt_load(y->rs, f ? RULES_F_V6 : RULES_F_V4, b[f].s, b[f].len, y->name,
			RULES_LOAD_NOFLUSH, y->err, y->errlen);
		if (rc == -EINVAL)
			rc = yerr(y, tn, "table %s: %s", rules_table_name(t), y->err);
	}
	free(b[0].s);
	free(b[1].s);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < tn->n; i++) {
		const struct cy_node *k = key_of(tn, i), *v = val_of(tn, i);
		const struct cy_node *rl = cy_map_get(v, "rules");
		if (!rl)
			continue;
		if (rl->type != CY_SEQ)
			return yerr(y, rl, "rules must be a list");
		for (size_t j = 0; j < rl->n; j++) {
			rc = load_rule(y, t, k->str, RULES_F_ALL, rl->items[j]);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int rules_yaml_load(struct rules_ruleset *rs, const char *buf, size_t len, const char *name,
	char *err, size_t errlen)
{
	struct yctx y = {.name = name, .err = err, .errlen = errlen};
	if (err && errlen)
		err[0] = '\0';
	struct cy_node *root = cy_parse(buf, len, name, err, errlen);
	if (!root)
		return -EINVAL;
	int rc = -ENOMEM;
	y.rs = rules_new();
	if (!y.rs)
		goto out;
	rc = -EINVAL;
	if (root->type != CY_MAP) {
		yerr(&y, root, "a ruleset is a map with 'sets' and 'tables'");
		goto out;
	}
	static const char *const keys[] = {"sets", "tables", NULL};
	if (known(&y, root, "the ruleset", keys) < 0)
		goto out;
	const struct cy_node *n;
	if ((n = cy_map_get(root, "sets")) && (rc = load_sets(&y, n)) < 0)
		goto out;
	if ((n = cy_map_get(root, "tables"))) {
		if (n->type != CY_MAP) {
			rc = yerr(&y, n, "tables must be a map of table names");
			goto out;
		}
		for (size_t i = 0; i < n->n; i++) {
			const struct cy_node *k = key_of(n, i);
			int t = rules_table_by_name(k->str);
			if (t < 0) {
				rc = yerr(&y, k, "unknown table '%s' (raw, mangle, nat, filter)", k->str);
				goto out;
			}
			if ((rc = load_table(&y, (enum rules_table_id)t, val_of(n, i))) < 0)
				goto out;
		}
	}
	rc = rules_validate(y.rs, name, err, errlen);
	if (rc == 0) {
		rules_replace(rs, y.rs);
		y.rs = NULL;
	}
out:
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory", name);
	rules_free(y.rs);
	cy_free(root);
	return rc;
}

/* ---- printing ---- */

static void yaml_str(struct rules_buf *b, const char *s)
{
	/* double-quoted YAML scalar: always safe */
	rbuf_putc(b, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			rbuf_putc(b, '\\');
		rbuf_putc(b, *p);
	}
	rbuf_putc(b, '"');
}

static void print_entry(struct rules_buf *b, const struct rules_set *s, const struct rules_set_entry *e,
	uint64_t now)
{
	struct rules_buf t = {0};
	rules_set_entry_print_full(&t, s, e, now);
	yaml_str(b, t.s ? t.s : "");
	if (t.oom)
		b->oom = true;
	free(t.s);
}

char *rules_yaml_print(const struct rules_ruleset *rs, unsigned flags)
{
	(void)flags;
	struct rules_buf b = {0};
	uint64_t now = rules_clock_us();
	rbuf_puts(&b, "# Rampart ruleset\n");
	if (rs->n_sets) {
		rbuf_puts(&b, "sets:\n");
		/* list:set sets after the others: their members come first */
		for (size_t k = 0; k < 2 * rs->n_sets; k++) {
			size_t i = k % rs->n_sets;
			const struct rules_set *s = &rs->sets[i];
			if ((s->type == RULES_SET_LIST) != (k >= rs->n_sets))
				continue;
			rbuf_printf(&b, "  %s:\n    type: %s\n", s->name, rules_set_type_name(s->type));
			bool bitmap = s->type == RULES_SET_BITMAP_PORT || s->type == RULES_SET_BITMAP_IP ||
				      s->type == RULES_SET_LIST;
			if (s->type == RULES_SET_BITMAP_PORT) {
				rbuf_printf(&b, "    range: \"%u-%u\"\n", s->range_lo, s->range_hi);
			} else if (s->type == RULES_SET_BITMAP_IP) {
				rbuf_puts(&b, "    range: \"");
				rules_set_ip_range_print(&b, s);
				rbuf_puts(&b, "\"\n");
				if (s->netmask != 32)
					rbuf_printf(&b, "    netmask: %u\n", s->netmask);
			} else if (s->type == RULES_SET_LIST) {
				rbuf_printf(&b, "    size: %u\n", s->maxelem);
			} else {
				rbuf_printf(&b, "    family: %s\n", s->fam == RULES_F_V6 ? "inet6" : "inet");
			}
			if (!bitmap && s->hashsize != 1024)
				rbuf_printf(&b, "    hashsize: %u\n", s->hashsize);
			if (!bitmap && s->maxelem != 65536)
				rbuf_printf(&b, "    maxelem: %u\n", s->maxelem);
			if (s->has_timeout)
				rbuf_printf(&b, "    timeout: %u\n", s->timeout);
			if (s->has_comment)
				rbuf_puts(&b, "    comment: true\n");
			size_t live = 0;
			for (size_t j = 0; j < s->n; j++)
				live += rules_set_entry_live(&s->e[j], now);
			rbuf_puts(&b, "    elements:");
			if (live == 0)
				rbuf_puts(&b, " []");
			rbuf_putc(&b, '\n');
			for (size_t j = 0; j < s->n; j++) {
				if (!rules_set_entry_live(&s->e[j], now))
					continue;
				rbuf_puts(&b, "      - ");
				print_entry(&b, s, &s->e[j], now);
				rbuf_putc(&b, '\n');
			}
		}
	}
	bool any = false;
	for (int t = 0; t < RULES_T_COUNT; t++)
		any |= rs->tables[t].present != 0;
	if (any)
		rbuf_puts(&b, "tables:\n");
	for (int t = 0; t < RULES_T_COUNT; t++) {
		const struct rules_table *tb = &rs->tables[t];
		if (!tb->present)
			continue;
		rbuf_printf(&b, "  %s:\n", rules_table_name((enum rules_table_id)t));
		for (size_t c = 0; c < tb->n_chains; c++) {
			const struct rules_chain *ch = &tb->chains[c];
			rbuf_printf(&b, "    %s:\n", ch->name);
			if (ch->hook >= 0) {
				int fi = (tb->present & RULES_F_V4) ? 0 : 1;
				rbuf_printf(&b, "      policy: %s\n",
					ch->policy[fi] == RULES_POL_DROP ? "DROP" : "ACCEPT");
				if (tb->present == RULES_F_ALL && ch->policy[1] != ch->policy[0])
					rbuf_printf(&b, "      policy6: %s\n",
						ch->policy[1] == RULES_POL_DROP ? "DROP" : "ACCEPT");
			}
			rbuf_puts(&b, "      rules:");
			if (ch->n_rules == 0)
				rbuf_puts(&b, " []");
			rbuf_putc(&b, '\n');
			for (size_t i = 0; i < ch->n_rules; i++) {
				const struct rules_rule *r = &ch->rules[i];
				int pf = (r->fam & RULES_F_V4) ? RULES_F_V4 : RULES_F_V6;
				char *txt = rules_ipt_print_rule(r, pf);
				if (!txt) {
					free(b.s);
					return NULL;
				}
				if (r->fam == RULES_F_ALL) {
					/* REJECT's default code prints as the IPv4 one; written
					 * out it would narrow the rule to IPv4 on reload */
					static const char dflt[] = " --reject-with icmp-port-unreachable";
					size_t tl = strlen(txt), dl = sizeof(dflt) - 1;
					if (r->target.verdict == RULES_V_EXT &&
					    r->target.ext.kind == RULES_X_REJECT &&
					    r->target.ext.u.reject.with == RULES_RJ_DEFAULT && tl >= dl &&
					    strcmp(txt + tl - dl, dflt) == 0)
						txt[tl - dl] = '\0';
					rbuf_puts(&b, "        - ");
					yaml_str(&b, txt);
				} else {
					rbuf_printf(&b, "        - {family: %s, rule: ",
						r->fam == RULES_F_V6 ? "ipv6" : "ipv4");
					yaml_str(&b, txt);
					rbuf_putc(&b, '}');
				}
				rbuf_putc(&b, '\n');
				free(txt);
			}
		}
	}
	if (b.oom) {
		free(b.s);
		errno = ENOMEM;
		return NULL;
	}
	return b.s ? b.s : strdup("");
}
