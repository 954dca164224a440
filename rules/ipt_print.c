/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipt_print: the ruleset as iptables-save / ip6tables-save text, byte for
 * byte what iptables 1.8 (nft backend) prints for the same rules: tables in
 * the order mangle, raw, filter, nat (only those that exist in the
 * family), built-in chains in hook order then user chains sorted by name,
 * the base selectors in the order -s -d -i -o -p -f, matches in rule order,
 * then the target. Built-in chain counters are always printed (as
 * iptables-save does), rule counters only with RULES_PRINT_COUNTERS.
 * Control thread only; the result is a fresh heap string.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"

static void print_addr(struct rules_buf *b, char letter, int fam, const struct rules_addr *a,
	uint8_t plen, bool inv)
{
	rbuf_printf(b, "%s -%c ", inv ? " !" : "", letter);
	rbuf_addr(b, fam, a);
	rbuf_printf(b, "/%u", plen);
}

static void print_iface(struct rules_buf *b, char letter, const char *name, bool wild, bool inv)
{
	if (!name[0])
		return; /* "-i +" matches everything: iptables prints nothing */
	rbuf_printf(b, "%s -%c %s%s", inv ? " !" : "", letter, name, wild ? "+" : "");
}

void rules_print_rule_matches(struct rules_buf *b, const struct rules_rule *r, int fam)
{
	if (r->has_src)
		print_addr(b, 's', fam, &r->src, r->src_plen, r->inv & RULES_INV_SRC);
	if (r->has_dst)
		print_addr(b, 'd', fam, &r->dst, r->dst_plen, r->inv & RULES_INV_DST);
	print_iface(b, 'i', r->iniface, r->in_wild, r->inv & RULES_INV_IN);
	print_iface(b, 'o', r->outiface, r->out_wild, r->inv & RULES_INV_OUT);
	if (r->proto) {
		const char *pn = rules_proto_name(r->proto);
		if (r->inv & RULES_INV_PROTO)
			rbuf_puts(b, " !");
		if (pn)
			rbuf_printf(b, " -p %s", pn);
		else
			rbuf_printf(b, " -p %u", r->proto);
	}
	if (r->frag)
		rbuf_puts(b, r->inv & RULES_INV_FRAG ? " ! -f" : " -f");
	for (unsigned i = 0; i < r->n_match; i++) {
		if (rules_ext_hidden(&r->match[i]))
			continue;
		rbuf_printf(b, " -m %s", rules_ext_name((enum rules_ext_kind)r->match[i].kind));
		rules_ext_print(b, &r->match[i], fam);
	}
}

void rules_print_rule_target(struct rules_buf *b, const struct rules_rule *r, int fam)
{
	switch (r->target.verdict) {
	case RULES_V_ACCEPT:
		rbuf_puts(b, " -j ACCEPT");
		break;
	case RULES_V_DROP:
		rbuf_puts(b, " -j DROP");
		break;
	case RULES_V_RETURN:
		rbuf_puts(b, " -j RETURN");
		break;
	case RULES_V_JUMP:
		rbuf_printf(b, " -j %s", r->target.chain);
		break;
	case RULES_V_GOTO:
		rbuf_printf(b, " -g %s", r->target.chain);
		break;
	case RULES_V_EXT:
		rbuf_printf(b, " -j %s", rules_ext_name((enum rules_ext_kind)r->target.ext.kind));
		rules_ext_print(b, &r->target.ext, fam);
		break;
	default:
		break;
	}
}

void rules_print_rule(struct rules_buf *b, const struct rules_rule *r, int fam)
{
	rules_print_rule_matches(b, r, fam);
	rules_print_rule_target(b, r, fam);
}

char *rules_ipt_print_rule(const struct rules_rule *r, int fam)
{
	struct rules_buf b = {0};
	rules_print_rule(&b, r, fam);
	if (b.oom || !b.s) {
		free(b.s);
		if (!b.oom)
			return strdup("");
		errno = ENOMEM;
		return NULL;
	}
	/* drop the leading blank of the first option */
	memmove(b.s, b.s + (b.s[0] == ' '), b.len + (b.s[0] == ' ' ? 0 : 1));
	return b.s;
}

char *rules_ipt_print(const struct rules_ruleset *rs, int fam, unsigned flags)
{
	static const enum rules_table_id order[] = {RULES_T_MANGLE, RULES_T_RAW, RULES_T_FILTER,
		RULES_T_NAT};
	struct rules_buf b = {0};
	int fi = FAM_IDX(fam);

	if (fam != RULES_F_V4 && fam != RULES_F_V6) {
		errno = EINVAL;
		return NULL;
	}
	rbuf_puts(&b, "");
	for (size_t k = 0; k < RULES_ARRAY_SIZE(order); k++) {
		const struct rules_table *t = &rs->tables[order[k]];
		if (!(t->present & fam))
			continue;
		rbuf_printf(&b, "*%s\n", rules_table_name(order[k]));
		for (size_t i = 0; i < t->n_chains; i++) {
			const struct rules_chain *c = &t->chains[i];
			if (c->hook >= 0)
				rbuf_printf(&b, ":%s %s [%llu:%llu]\n", c->name,
					c->policy[fi] == RULES_POL_DROP ? "DROP" : "ACCEPT",
					(unsigned long long)c->pkts[fi], (unsigned long long)c->bytes[fi]);
			else if (c->fam & fam)
				rbuf_printf(&b, ":%s - [0:0]\n", c->name);
		}
		for (size_t i = 0; i < t->n_chains; i++) {
			const struct rules_chain *c = &t->chains[i];
			if (!(c->fam & fam))
				continue;
			for (size_t j = 0; j < c->n_rules; j++) {
				const struct rules_rule *r = &c->rules[j];
				if (!(r->fam & fam))
					continue;
				if (flags & RULES_PRINT_COUNTERS)
					rbuf_printf(&b, "[%llu:%llu] ", (unsigned long long)r->pkts,
						(unsigned long long)r->bytes);
				rbuf_printf(&b, "-A %s", c->name);
				rules_print_rule(&b, r, fam);
				rbuf_putc(&b, '\n');
			}
		}
		rbuf_puts(&b, "COMMIT\n");
	}
	if (b.oom) {
		free(b.s);
		errno = ENOMEM;
		return NULL;
	}
	return b.s;
}
