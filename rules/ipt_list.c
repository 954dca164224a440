/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipt_list: `iptables -L` and `iptables -S` output of the ruleset (see
 * ipt_list.h), byte for byte what iptables 1.8.9 with the nft backend
 * prints, checked against the kernel by tests/rules/kernel-diff.sh and the
 * golden NAME.list / NAME.spec files.
 *
 * -L: a header per chain ("Chain X (policy P ...)" or "(N references)"),
 * the column titles, then one line per rule: counters, target, protocol,
 * fragment flag, interfaces, addresses in fixed-width columns (trailing
 * blanks included), then each match's and the target's "print" form, which
 * is not its save form ("tcp dpt:22", "reject-with ...", "MARK set 0x1").
 * -S: the rules as iptables arguments (ipt_print.c's save text) after
 * "-P"/"-N" lines, with "-c PKTS BYTES" before the target when verbose.
 *
 * Control thread only: getservbyport() and getprotobynumber() are not
 * reentrant. Results are fresh heap strings.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ipt_list.h"
#include "rules_priv.h"

#define BIT(i) (1u << (i))

struct lctx {
	struct rules_buf *b;
	int fam;
	bool numeric;
};

/* ---- values ---- */

/* xtables_print_num(): exact, or abbreviated with K, M, G, T. */
static void print_num(struct rules_buf *b, uint64_t n, bool kmg, bool notable)
{
	static const char units[] = "KMGT";
	unsigned long long v = n;
	if (!kmg) {
		rbuf_printf(b, notable ? "%llu " : "%8llu ", v);
		return;
	}
	if (v <= 99999) {
		rbuf_printf(b, notable ? "%llu " : "%5llu ", v);
		return;
	}
	for (int i = 0;; i++) {
		v = (v + 500) / 1000;
		if (v <= 9999 || units[i] == 'T') {
			rbuf_printf(b, notable ? "%llu%c " : "%4llu%c ", v, units[i]);
			return;
		}
	}
}

/* An option's value as rules_val_print() writes it, without its leading blank. */
static void val_print(struct lctx *c, const struct rules_ext *x, const char *opt, bool lead)
{
	const struct rules_opt *o = rules_ext_opt((enum rules_ext_kind)x->kind, opt);
	struct rules_buf t = {0};
	if (!o)
		return;
	rules_val_print(&t, x, o, c->fam);
	if (t.oom)
		c->b->oom = true;
	else if (t.s)
		rbuf_puts(c->b, t.s + (!lead && t.s[0] == ' '));
	free(t.s);
}

static bool addr_zero(int fam, const struct rules_addr *a)
{
	unsigned n = fam == RULES_F_V6 ? 16 : 4;
	for (unsigned i = 0; i < n; i++)
		if (a->b[i])
			return false;
	return true;
}

/* addr followed by xtables_ip(6)mask_to_numeric(): nothing for a host. */
static void print_prefix(struct rules_buf *b, int fam, const struct rules_addr *a, unsigned plen)
{
	rbuf_addr(b, fam, a);
	if (plen != (fam == RULES_F_V6 ? 128u : 32u))
		rbuf_printf(b, "/%u", plen);
}

static void print_port(struct lctx *c, uint16_t port, const char *proto)
{
	const struct servent *se = c->numeric ? NULL : getservbyport(htons(port), proto);
	if (se)
		rbuf_puts(c->b, se->s_name);
	else
		rbuf_printf(c->b, "%u", port);
}

static void print_tcpflags(struct rules_buf *b, uint8_t f, bool numeric)
{
	static const char *const names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
	bool any = false;
	if (numeric) {
		rbuf_printf(b, "0x%02X", f);
		return;
	}
	for (unsigned i = 0; i < 6; i++)
		if (f & BIT(i)) {
			rbuf_printf(b, "%s%s", any ? "," : "", names[i]);
			any = true;
		}
	if (!any)
		rbuf_puts(b, "NONE");
}

/* ---- matches ---- */

static void print_ports(struct lctx *c, const char *name, const struct rules_prange *p, bool inv,
	const char *proto)
{
	if (p->lo == 0 && p->hi == 0xFFFF && !inv)
		return;
	rbuf_printf(c->b, " %s%s:%s", name, p->lo == p->hi ? "" : "s", inv ? "!" : "");
	print_port(c, p->lo, proto);
	if (p->lo != p->hi) {
		rbuf_putc(c->b, ':');
		print_port(c, p->hi, proto);
	}
}

static void print_tcpudp(struct lctx *c, const struct rules_ext *x0)
{
	struct rules_ext x;
	rules_ext_kernel_view(x0, &x);
	bool tcp = x.kind == RULES_X_TCP;
	const char *proto = tcp ? "tcp" : "udp";
	rbuf_printf(c->b, " %s", proto);
	print_ports(c, "spt", &x.u.tcp.sport, x.invert & BIT(RULES_O_SPORT), proto);
	print_ports(c, "dpt", &x.u.tcp.dport, x.invert & BIT(RULES_O_DPORT), proto);
	if (!tcp)
		return;
	bool oinv = x.invert & BIT(RULES_O_TCP_OPTION), finv = x.invert & BIT(RULES_O_TCP_FLAGS);
	if (x.u.tcp.option || oinv)
		rbuf_printf(c->b, " option=%s%u", oinv ? "!" : "", x.u.tcp.option);
	if (x.u.tcp.flg_mask || finv) {
		rbuf_printf(c->b, " flags:%s", finv ? "!" : "");
		print_tcpflags(c->b, x.u.tcp.flg_mask, c->numeric);
		rbuf_putc(c->b, '/');
		print_tcpflags(c->b, x.u.tcp.flg_cmp, c->numeric);
	}
}

static void print_icmp(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_m_icmp *ic = &x->u.icmp;
	bool inv = x->invert & 1;
	const char *name = c->numeric ? NULL : rules_icmp_name(c->fam, ic->type, ic->code_lo, ic->code_hi);
	rbuf_puts(c->b, x->kind == RULES_X_ICMP6 ? " ipv6-icmp" : " icmp");
	if (name) {
		rbuf_printf(c->b, " %s%s", inv ? "!" : "", name);
		return;
	}
	rbuf_printf(c->b, "%stype %u", inv ? " !" : "", ic->type);
	if (ic->code_lo == ic->code_hi)
		rbuf_printf(c->b, " code %u", ic->code_lo);
	else if (ic->code_lo != 0 || ic->code_hi != 0xFF)
		rbuf_printf(c->b, " codes %u-%u", ic->code_lo, ic->code_hi);
}

static const char *mport_proto(uint8_t proto)
{
	return proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 136 ? "udplite" :
		proto == 132 ? "sctp" : proto == 33 ? "dccp" : NULL;
}

static void print_multiport(struct lctx *c, const struct rules_ext *x, uint8_t proto)
{
	const struct rules_m_mport *m = &x->u.mport;
	const char *what = (x->present & BIT(RULES_O_SPORTS)) ? "sports" :
		(x->present & BIT(RULES_O_DPORTS)) ? "dports" : "ports";
	rbuf_printf(c->b, " multiport %s ", what);
	if (x->invert)
		rbuf_puts(c->b, " !");
	for (unsigned i = 0; i < m->n; i++) {
		if (i)
			rbuf_putc(c->b, ',');
		print_port(c, m->port[i], mport_proto(proto));
		if ((m->range & (1u << i)) && i + 1 < m->n) {
			rbuf_putc(c->b, ':');
			print_port(c, m->port[++i], mport_proto(proto));
		}
	}
}

static void print_iprange(struct lctx *c, const struct rules_ext *x)
{
	static const char *const what[] = {"source", "destination"};
	const struct rules_addr *lohi[] = {&x->u.iprange.src_lo, &x->u.iprange.dst_lo};
	for (unsigned i = 0; i < 2; i++) {
		if (!(x->present & BIT(i)))
			continue;
		rbuf_printf(c->b, " %s IP range%s ", what[i], (x->invert & BIT(i)) ? " !" : "");
		rbuf_addr(c->b, c->fam, &lohi[i][0]);
		rbuf_putc(c->b, '-');
		rbuf_addr(c->b, c->fam, &lohi[i][1]);
	}
}

static void print_ttl(struct lctx *c, const struct rules_ext *x)
{
	bool hl = x->kind == RULES_X_HL;
	const char *op = (x->present & BIT(RULES_O_GT)) ? ">" : (x->present & BIT(RULES_O_LT)) ? "<" :
		(x->invert & BIT(RULES_O_EQ)) ? "!=" : "==";
	rbuf_printf(c->b, hl ? " HL match HL %s %u" : " TTL match TTL %s %u", op, x->u.ttl.value);
}

static const char *tos_symbol(uint8_t value, uint8_t mask)
{
	static const struct {
		uint8_t v;
		const char *name;
	} syms[] = {{0x10, "Minimize-Delay"}, {0x08, "Maximize-Throughput"},
		{0x04, "Maximize-Reliability"}, {0x02, "Minimize-Cost"}, {0x00, "Normal-Service"}};
	if (mask != 0x3F)
		return NULL;
	for (size_t i = 0; i < RULES_ARRAY_SIZE(syms); i++)
		if (syms[i].v == value)
			return syms[i].name;
	return NULL;
}

static void print_tos(struct lctx *c, const struct rules_ext *x)
{
	const char *sym = c->numeric ? NULL : tos_symbol(x->u.tos.value, x->u.tos.mask);
	rbuf_printf(c->b, " tos match%s", (x->invert & 1) ? "!" : "");
	if (sym)
		rbuf_printf(c->b, " %s", sym);
	else
		rbuf_printf(c->b, "0x%02x/0x%02x", x->u.tos.value, x->u.tos.mask);
}

static void print_markmask(struct rules_buf *b, const struct rules_m_mark *m)
{
	if (m->mask != 0xFFFFFFFF)
		rbuf_printf(b, " 0x%x/0x%x", m->mark, m->mask);
	else
		rbuf_printf(b, " 0x%x", m->mark);
}

static void print_addrtype(struct lctx *c, const struct rules_ext *x)
{
	rbuf_puts(c->b, " ADDRTYPE match");
	if (x->u.addrtype.src) {
		rbuf_printf(c->b, " src-type %s", (x->invert & BIT(RULES_O_SRC)) ? "!" : "");
		val_print(c, x, "src-type", false);
	}
	if (x->u.addrtype.dst) {
		rbuf_printf(c->b, " dst-type %s", (x->invert & BIT(RULES_O_DST)) ? "!" : "");
		val_print(c, x, "dst-type", false);
	}
	if (x->present & BIT(RULES_O_LIMIT_IFACE_IN))
		rbuf_puts(c->b, " limit-in");
	if (x->present & BIT(RULES_O_LIMIT_IFACE_OUT))
		rbuf_puts(c->b, " limit-out");
}

static void print_set(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_m_set *s = &x->u.set;
	rbuf_printf(c->b, "%s match-set %s", (x->invert & 1) ? " !" : "", s->name);
	for (unsigned i = 0; i < s->dim; i++)
		rbuf_printf(c->b, "%s%s", i ? "," : " ", (s->dirs & (1u << i)) ? "src" : "dst");
	if (x->present & (1u << RULES_O_MS_RETURN_NOMATCH))
		rbuf_puts(c->b, " return-nomatch");
	rules_set_counters_print(c->b, x, false);
}

/* libxt_SET's set_target_print_v3 */
static void print_set_t(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_t_set *t = &x->u.tset;
	const struct rules_m_set *s[2] = { &t->add, &t->del };
	static const char *const what[2] = { "add-set", "del-set" };
	for (unsigned k = 0; k < 2; k++) {
		if (!(x->present & BIT(k == 0 ? RULES_O_TS_ADD : RULES_O_TS_DEL)))
			continue;
		rbuf_printf(c->b, " %s %s", what[k], s[k]->name);
		for (unsigned i = 0; i < s[k]->dim; i++)
			rbuf_printf(c->b, "%s%s", i ? "," : " ", (s[k]->dirs & (1u << i)) ? "src" : "dst");
	}
	if (x->present & BIT(RULES_O_TS_EXIST))
		rbuf_puts(c->b, " exist");
	if (x->present & BIT(RULES_O_TS_TIMEOUT))
		rbuf_printf(c->b, " timeout %u", t->timeout);
}

static void ct_addr(struct lctx *c, const char *name, const struct rules_ext *x, unsigned id,
	const struct rules_hostmask *h)
{
	if (!(x->present & BIT(id)))
		return;
	rbuf_printf(c->b, "%s %s ", (x->invert & BIT(id)) ? " !" : "", name);
	if (!c->numeric && addr_zero(c->fam, &h->addr))
		rbuf_puts(c->b, "anywhere");
	else
		print_prefix(c->b, c->fam, &h->addr, h->plen);
}

static void ct_port(struct lctx *c, const char *name, const struct rules_ext *x, unsigned id,
	const struct rules_prange *p)
{
	if (!(x->present & BIT(id)))
		return;
	rbuf_printf(c->b, "%s %s %u", (x->invert & BIT(id)) ? " !" : "", name, p->lo);
	if (p->hi != 0 && p->hi != p->lo)
		rbuf_printf(c->b, ":%u", p->hi);
}

/* conntrack_dump() of libxt_conntrack; state is conntrack's alias there. */
static void print_conntrack(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_m_conntrack *ct = &x->u.ct;
	bool state = x->kind == RULES_X_STATE;
	if (state || (x->present & BIT(RULES_O_CT_STATE))) {
		rbuf_printf(c->b, "%s %s", (x->invert & BIT(RULES_O_CT_STATE)) ? " !" : "",
			state ? "state" : "ctstate");
		val_print(c, x, state ? "state" : "ctstate", true);
	}
	if (state)
		return;
	if (x->present & BIT(RULES_O_CT_PROTO))
		rbuf_printf(c->b, "%s ctproto %u", (x->invert & BIT(RULES_O_CT_PROTO)) ? " !" : "",
			ct->proto);
	ct_addr(c, "ctorigsrc", x, RULES_O_CT_ORIGSRC, &ct->origsrc);
	ct_addr(c, "ctorigdst", x, RULES_O_CT_ORIGDST, &ct->origdst);
	ct_addr(c, "ctreplsrc", x, RULES_O_CT_REPLSRC, &ct->replsrc);
	ct_addr(c, "ctrepldst", x, RULES_O_CT_REPLDST, &ct->repldst);
	ct_port(c, "ctorigsrcport", x, RULES_O_CT_ORIGSRCPORT, &ct->origsrcport);
	ct_port(c, "ctorigdstport", x, RULES_O_CT_ORIGDSTPORT, &ct->origdstport);
	ct_port(c, "ctreplsrcport", x, RULES_O_CT_REPLSRCPORT, &ct->replsrcport);
	ct_port(c, "ctrepldstport", x, RULES_O_CT_REPLDSTPORT, &ct->repldstport);
	if (x->present & BIT(RULES_O_CT_STATUS)) {
		rbuf_printf(c->b, "%s ctstatus", (x->invert & BIT(RULES_O_CT_STATUS)) ? " !" : "");
		val_print(c, x, "ctstatus", true);
	}
	if (x->present & BIT(RULES_O_CT_EXPIRE)) {
		rbuf_printf(c->b, "%s ctexpire %u", (x->invert & BIT(RULES_O_CT_EXPIRE)) ? " !" : "",
			ct->expire_lo);
		if (ct->expire_hi != ct->expire_lo)
			rbuf_printf(c->b, ":%u", ct->expire_hi);
	}
	if (x->present & BIT(RULES_O_CT_DIR))
		rbuf_puts(c->b, ct->dir_reply ? " ctdir REPLY" : " ctdir ORIGINAL");
}

static void print_connbytes(struct lctx *c, const struct rules_ext *x)
{
	static const char *const mode[] = {"packets", "bytes", "avgpkt"};
	static const char *const dir[] = {"original", "reply", "both"};
	const struct rules_m_connbytes *cb = &x->u.connbytes;
	rbuf_printf(c->b, "%s connbytes %llu", (x->invert & BIT(RULES_O_CB_BYTES)) ? " !" : "",
		(unsigned long long)cb->from);
	if (cb->to && cb->to < UINT64_MAX)
		rbuf_printf(c->b, ":%llu", (unsigned long long)cb->to);
	rbuf_printf(c->b, " connbytes mode %s connbytes direction %s", mode[cb->mode % 3],
		dir[cb->dir % 3]);
}

/* libip6t_frag/rt's print_ids/print_nums: "id:5", "ids:!5:10" */
static void print_nums(struct lctx *c, const char *name, const struct rules_m_ip6ext *e, bool inv)
{
	if (e->lo == 0 && e->hi == UINT32_MAX && !inv)
		return;
	if (e->lo == e->hi)
		rbuf_printf(c->b, "%s:%s%u", name, inv ? "!" : "", e->lo);
	else
		rbuf_printf(c->b, "%ss:%s%u:%u", name, inv ? "!" : "", e->lo, e->hi);
}

static void print_ip6ext(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_m_ip6ext *e = &x->u.ip6;
#define P(o) (x->present & BIT(o))
#define I(o) ((x->invert & BIT(o)) ? "!" : "")
	switch (x->kind) {
	case RULES_X_FRAG:
		rbuf_puts(c->b, " frag ");
		print_nums(c, "id", e, x->invert & BIT(RULES_O_FR_IDS));
		if (P(RULES_O_FR_LEN))
			rbuf_printf(c->b, " length:%s%u", I(RULES_O_FR_LEN), e->len);
		if (P(RULES_O_FR_RES))
			rbuf_puts(c->b, " reserved");
		if (P(RULES_O_FR_FIRST))
			rbuf_puts(c->b, " first");
		if (P(RULES_O_FR_MORE))
			rbuf_puts(c->b, " more");
		if (P(RULES_O_FR_LAST))
			rbuf_puts(c->b, " last");
		break;
	case RULES_X_RT:
		rbuf_puts(c->b, " rt");
		if (P(RULES_O_RT_TYPE))
			rbuf_printf(c->b, " type:%s%d", I(RULES_O_RT_TYPE), (int32_t)e->type);
		if (e->lo != 0 || e->hi != UINT32_MAX || (x->invert & BIT(RULES_O_RT_SEGS))) {
			rbuf_putc(c->b, ' ');
			print_nums(c, "segsleft", e, x->invert & BIT(RULES_O_RT_SEGS));
		}
		if (P(RULES_O_RT_LEN))
			rbuf_printf(c->b, " length:%s%u", I(RULES_O_RT_LEN), e->len);
		if (P(RULES_O_RT_RES))
			rbuf_puts(c->b, " reserved");
		if (P(RULES_O_RT_ADDRS)) {
			rbuf_puts(c->b, " 0-addrs ");
			rules_ip6addrs_print(c->b, e->addrs);
		}
		if (P(RULES_O_RT_NSTRICT))
			rbuf_puts(c->b, " 0-not-strict");
		break;
	case RULES_X_HBH:
	case RULES_X_DST:
		rbuf_puts(c->b, x->kind == RULES_X_HBH ? " hbh" : " dst");
		if (P(RULES_O_OP_LEN))
			rbuf_printf(c->b, " length:%s%u", I(RULES_O_OP_LEN), e->len);
		if (P(RULES_O_OP_OPTS)) {
			rbuf_puts(c->b, " opts ");
			rules_ip6opts_print(c->b, e);
		}
		break;
	default: /* ipv6header */
		rbuf_printf(c->b, " ipv6header flags:%s", I(RULES_O_IH_HEADER));
		if (c->numeric)
			rbuf_printf(c->b, "0x%02X", e->hdrs);
		else
			rules_ip6hdrs_print(c->b, e->hdrs);
		if (P(RULES_O_IH_SOFT))
			rbuf_puts(c->b, " soft");
		break;
	}
#undef P
#undef I
}

static void print_match(struct lctx *c, const struct rules_ext *x, const struct rules_rule *r)
{
	bool inv = x->invert & 1;
	switch (x->kind) {
	case RULES_X_TCP:
	case RULES_X_UDP:
		print_tcpudp(c, x);
		break;
	case RULES_X_ICMP:
	case RULES_X_ICMP6:
		print_icmp(c, x);
		break;
	case RULES_X_MULTIPORT:
		print_multiport(c, x, r->proto);
		break;
	case RULES_X_IPRANGE:
		print_iprange(c, x);
		break;
	case RULES_X_MAC:
		rbuf_printf(c->b, " MAC %s", inv ? "! " : "");
		val_print(c, x, "mac-source", false);
		break;
	case RULES_X_LENGTH:
		rbuf_printf(c->b, " length %s%u", inv ? "!" : "", x->u.length.lo);
		if (x->u.length.lo != x->u.length.hi)
			rbuf_printf(c->b, ":%u", x->u.length.hi);
		break;
	case RULES_X_TTL:
	case RULES_X_HL:
		print_ttl(c, x);
		break;
	case RULES_X_TOS:
		print_tos(c, x);
		break;
	case RULES_X_DSCP:
		rbuf_printf(c->b, " DSCP match %s0x%02x", inv ? "!" : "", x->u.dscp.value);
		break;
	case RULES_X_MARK:
		rbuf_printf(c->b, " mark match%s", inv ? " !" : "");
		print_markmask(c->b, &x->u.mark);
		break;
	case RULES_X_PKTTYPE:
		rbuf_printf(c->b, " PKTTYPE %s= ", inv ? "!" : "");
		val_print(c, x, "pkt-type", false);
		break;
	case RULES_X_ADDRTYPE:
		print_addrtype(c, x);
		break;
	case RULES_X_FRAG:
	case RULES_X_RT:
	case RULES_X_HBH:
	case RULES_X_DST:
	case RULES_X_IPV6HEADER:
		print_ip6ext(c, x);
		break;
	case RULES_X_SCTP:
		rbuf_puts(c->b, " sctp");
		print_ports(c, "spt", &x->u.sctp.sport, x->invert & BIT(RULES_O_SC_SPORT), "sctp");
		print_ports(c, "dpt", &x->u.sctp.dport, x->invert & BIT(RULES_O_SC_DPORT), "sctp");
		if (x->present & BIT(RULES_O_SC_CHUNKS)) {
			if (x->invert & BIT(RULES_O_SC_CHUNKS))
				rbuf_puts(c->b, " !");
			rules_sctp_chunks_print(c->b, &x->u.sctp, c->numeric);
		}
		break;
	case RULES_X_U32:
		rbuf_puts(c->b, x->invert ? " u32 !" : " u32");
		rules_u32_print(c->b, x->u.u32.p);
		break;
	case RULES_X_PHYSDEV:
		rbuf_puts(c->b, " PHYSDEV match");
		rules_ext_print(c->b, x, c->fam);
		break;
	case RULES_X_POLICY:
		rbuf_puts(c->b, " policy match");
		rules_policy_print(c->b, x, c->fam, true, c->numeric);
		break;
	case RULES_X_COMMENT:
		rbuf_printf(c->b, " /* %s */", x->u.comment.s ? x->u.comment.s : "");
		break;
	case RULES_X_SET:
		print_set(c, x);
		break;
	case RULES_X_STATE:
	case RULES_X_CONNTRACK:
		print_conntrack(c, x);
		break;
	case RULES_X_LIMIT:
		rbuf_puts(c->b, " limit: avg");
		val_print(c, x, "limit", true);
		rbuf_printf(c->b, " burst %u", x->u.limit.burst);
		break;
	case RULES_X_CONNMARK_M:
		rbuf_printf(c->b, " connmark match %s", inv ? "!" : "");
		print_markmask(c->b, &x->u.mark);
		break;
	case RULES_X_STRING: {
		const struct rules_m_string *ms = &x->u.str;
		rbuf_printf(c->b, " STRING match %s", x->invert ? "!" : "");
		rules_string_pattern(c->b, ms);
		rbuf_printf(c->b, " ALGO name %s", ms->algo);
		if (ms->from)
			rbuf_printf(c->b, " FROM %u", ms->from);
		if (ms->to != UINT16_MAX)
			rbuf_printf(c->b, " TO %u", ms->to);
		if (ms->icase)
			rbuf_puts(c->b, " ICASE");
		break;
	}
	case RULES_X_TIME:
		rules_time_list(c->b, x);
		break;
	case RULES_X_RECENT: {
		const struct rules_m_recent *rc = &x->u.recent;
		if (x->invert)
			rbuf_puts(c->b, " !");
		rbuf_puts(c->b, " recent:");
		if (x->present & BIT(RULES_O_RC_SET))
			rbuf_puts(c->b, " SET");
		if (x->present & BIT(RULES_O_RC_CHECK))
			rbuf_puts(c->b, " CHECK");
		if (x->present & BIT(RULES_O_RC_UPDATE))
			rbuf_puts(c->b, " UPDATE");
		if (x->present & BIT(RULES_O_RC_REMOVE))
			rbuf_puts(c->b, " REMOVE");
		if (rc->seconds)
			rbuf_printf(c->b, " seconds: %u", rc->seconds);
		if (x->present & BIT(RULES_O_RC_REAP))
			rbuf_puts(c->b, " reap");
		if (rc->hitcount)
			rbuf_printf(c->b, " hit_count: %u", rc->hitcount);
		if (x->present & BIT(RULES_O_RC_TTL))
			rbuf_puts(c->b, " TTL-Match");
		rbuf_printf(c->b, " name: %s", rc->name ? rc->name : "DEFAULT");
		rbuf_puts(c->b, (x->present & BIT(RULES_O_RC_RDEST)) ? " side: dest" : " side: source");
		rbuf_puts(c->b, " mask: ");
		rbuf_addr(c->b, c->fam, &rc->mask);
		break;
	}
	case RULES_X_HASHLIMIT: {
		const struct rules_m_hashlimit *h = &x->u.hashlimit;
		unsigned dmask = c->fam == RULES_F_V6 ? 128 : 32;
		uint32_t quantum;
		rbuf_puts(c->b, h->above ? " limit: above" : " limit: up to");
		if (h->rate.bytes) {
			quantum = rules_hl_print_bytes(c->b, h->rate.avg, h->burst, "");
		} else {
			/* revision 3's -L: the rate-match interval's share */
			quantum = rules_hl_print_rate(c->b, h->rate.avg * (h->interval ? h->interval : 1));
			rbuf_printf(c->b, " burst %llu", (unsigned long long)h->burst);
		}
		if (h->mode) {
			rbuf_puts(c->b, " mode");
			rules_hl_print_mode(c->b, h->mode, '-');
		}
		if (h->size)
			rbuf_printf(c->b, " htable-size %u", h->size);
		if (h->max)
			rbuf_printf(c->b, " htable-max %u", h->max);
		if (h->gc_interval != 1000)
			rbuf_printf(c->b, " htable-gcinterval %u", h->gc_interval);
		if (h->expire != quantum)
			rbuf_printf(c->b, " htable-expire %u", h->expire);
		if (h->srcmask != 0xff && h->srcmask != dmask)
			rbuf_printf(c->b, " srcmask %u", h->srcmask);
		if (h->dstmask != 0xff && h->dstmask != dmask)
			rbuf_printf(c->b, " dstmask %u", h->dstmask);
		if (x->present & BIT(RULES_O_HL_RATEMATCH)) {
			rbuf_puts(c->b, " rate-match");
			if (h->interval != 1)
				rbuf_printf(c->b, " rate-interval %u", h->interval);
		}
		break;
	}
	case RULES_X_ECN: {
		static const char *const bit[] = { "ECE", "CWR" };
		rbuf_puts(c->b, " ECN match");
		for (unsigned k = RULES_O_ECN_ECE; k <= RULES_O_ECN_CWR; k++)
			if (x->present & BIT(k))
				rbuf_printf(c->b, " %s%s", (x->invert & BIT(k)) ? "!" : "", bit[k]);
		if (x->present & BIT(RULES_O_ECN_IP))
			rbuf_printf(c->b, " %sECT=%u", (x->invert & BIT(RULES_O_ECN_IP)) ? "!" : "",
				x->u.ecn.ect);
		break;
	}
	case RULES_X_TCPMSS_M:
		rbuf_printf(c->b, " tcpmss match %s%u", inv ? "!" : "", x->u.mss.lo);
		if (x->u.mss.lo != x->u.mss.hi)
			rbuf_printf(c->b, ":%u", x->u.mss.hi);
		break;
	case RULES_X_ESP:
	case RULES_X_AH: {
		/* libxt_esp: " esp spi:N"; libipt_ah/libip6t_ah: " ah spi:N"
		 * with no blank after "ah " and none before "length:" */
		const struct rules_m_spi *s = &x->u.spi;
		bool esp = x->kind == RULES_X_ESP, sinv = x->invert & BIT(RULES_O_SPI);
		rbuf_puts(c->b, esp ? " esp" : " ah ");
		if (s->lo != 0 || s->hi != UINT32_MAX || sinv) {
			const char *sp = esp ? " " : "", *iv = sinv ? "!" : "";
			if (s->lo == s->hi)
				rbuf_printf(c->b, "%sspi:%s%u", sp, iv, s->lo);
			else
				rbuf_printf(c->b, "%sspis:%s%u:%u", sp, iv, s->lo, s->hi);
		}
		if (esp)
			break;
		if (s->ahlen != 0 || (x->invert & BIT(RULES_O_AH_LEN)))
			rbuf_printf(c->b, "length:%s%u", (x->invert & BIT(RULES_O_AH_LEN)) ? "!" : "",
				s->ahlen);
		if (x->present & BIT(RULES_O_AH_RES))
			rbuf_puts(c->b, " reserved");
		break;
	}
	case RULES_X_QUOTA:
		/* libxt_quota: the configured amount, never a "!" (the kernel
		 * keeps what is left to itself) */
		rbuf_printf(c->b, " quota: %llu bytes", (unsigned long long)x->u.quota.quota);
		break;
	case RULES_X_STATISTIC: {
		const struct rules_m_statistic *st = &x->u.stat;
		bool sinv = (x->invert & (BIT(RULES_O_ST_PROB) | BIT(RULES_O_ST_EVERY))) != 0;
		if (st->mode == RULES_STAT_RANDOM) {
			rbuf_printf(c->b, " statistic mode random%s probability %.11f", sinv ? " !" : "",
				st->probability / 2147483648.0);
		} else {
			rbuf_printf(c->b, " statistic mode nth%s every %u", sinv ? " !" : "", st->every + 1u);
			if (st->packet)
				rbuf_printf(c->b, " packet %u", st->packet);
		}
		break;
	}
	case RULES_X_RPFILTER: {
		static const char *const f[] = { "loose", "validmark", "accept-local", "invert" };
		rbuf_puts(c->b, " rpfilter");
		for (unsigned i = 0; i < 4; i++)
			if (x->present & BIT(i))
				rbuf_printf(c->b, " %s", f[i]);
		break;
	}
	case RULES_X_HELPER:
		rbuf_printf(c->b, " helper match %s\"%s\"", inv ? "! " : "",
			x->u.helper.name ? x->u.helper.name : "");
		break;
	case RULES_X_CONNBYTES:
		print_connbytes(c, x);
		break;
	case RULES_X_CONNLIMIT: {
		const struct rules_m_connlimit *cl = &x->u.connlimit;
		unsigned mask = cl->mask != 0xff ? cl->mask : c->fam == RULES_F_V6 ? 128 : 32;
		rbuf_printf(c->b, " #conn %s/%u %s %u", cl->daddr ? "dst" : "src", mask,
			cl->upto ? "<=" : ">", cl->limit);
		break;
	}
	default:
		break;
	}
}

/* ---- targets ---- */

/* sprint_range() of libxt_NAT with the print prefix (" to:", ...). */
static void print_nat(struct lctx *c, const struct rules_ext *x, const char *pfx, bool skip_colon)
{
	const struct rules_t_nat *n = &x->u.nat;
	struct rules_buf t = {0};
	rules_nat_range_text(&t, n, c->fam);
	if (t.oom)
		c->b->oom = true;
	else if (t.s && t.len)
		rbuf_printf(c->b, " %s%s", pfx, t.s + (skip_colon && t.s[0] == ':'));
	free(t.s);
	if (n->flags & RULES_NAT_RANDOM)
		rbuf_puts(c->b, " random");
	if (n->flags & RULES_NAT_RANDOM_FULLY)
		rbuf_puts(c->b, " random-fully");
	if (n->flags & RULES_NAT_PERSISTENT)
		rbuf_puts(c->b, " persistent");
}

static void print_netmap(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_t_nat *n = &x->u.nat;
	unsigned plen = 0, bytes = c->fam == RULES_F_V6 ? 16 : 4;
	for (unsigned i = 0; i < bytes; i++) {
		uint8_t same = (uint8_t)~(n->min.b[i] ^ n->max.b[i]);
		while (same & 0x80) {
			plen++;
			same = (uint8_t)(same << 1);
		}
		if (plen < (i + 1) * 8)
			break;
	}
	rbuf_puts(c->b, " to:");
	rbuf_addr(c->b, c->fam, &n->min);
	rbuf_printf(c->b, "/%u", plen);
}

static void print_log(struct lctx *c, const struct rules_ext *x)
{
	static const char *const levels[] = {"emerg", "alert", "crit", "err", "warn", "notice",
		"info", "debug"};
	static const char *const flags[] = {"tcp-sequence", "tcp-options", "ip-options", "uid",
		"macdecode"};
	const struct rules_t_log *l = &x->u.log;
	rbuf_puts(c->b, " LOG");
	if (c->numeric) {
		/* the kernel's XT_LOG_* bits: MACDECODE is 0x20 (0x10 is NFLOG) */
		unsigned kf = (l->flags & 0x0F) | ((l->flags & RULES_LOG_MACDECODE) ? 0x20 : 0);
		rbuf_printf(c->b, " flags %u level %u", kf, l->level);
	} else {
		if (l->level < 8)
			rbuf_printf(c->b, " level %s", levels[l->level]);
		else
			rbuf_printf(c->b, " UNKNOWN level %u", l->level);
		for (unsigned i = 0; i < RULES_ARRAY_SIZE(flags); i++)
			if (l->flags & BIT(i))
				rbuf_printf(c->b, " %s", flags[i]);
	}
	if (l->prefix && l->prefix[0])
		rbuf_printf(c->b, " prefix \"%s\"", l->prefix);
}

/* mark_tg_print() / connmark_tg_print(): the shortest form of (value, mask). */
static void print_xmark(struct rules_buf *b, const char *who, uint32_t v, uint32_t m)
{
	if (v == 0)
		rbuf_printf(b, " %s and 0x%x", who, ~m);
	else if (v == m)
		rbuf_printf(b, " %s or 0x%x", who, v);
	else if (m == 0)
		rbuf_printf(b, " %s xor 0x%x", who, v);
	else if (m == 0xFFFFFFFF)
		rbuf_printf(b, " %s set 0x%x", who, v);
	else
		rbuf_printf(b, " %s xset 0x%x/0x%x", who, v, m);
}

static void print_settos(struct lctx *c, const struct rules_ext *x)
{
	uint8_t v = x->u.settos.value, m = x->u.settos.mask;
	const char *sym = c->numeric ? NULL : tos_symbol(v, m);
	if (c->numeric)
		rbuf_printf(c->b, " TOS set 0x%02x/0x%02x", v, m);
	else if (sym)
		rbuf_printf(c->b, "  TOS set%s", sym); /* tos_try_print_symbolic(" TOS set", ...) */
	else if (v == 0)
		rbuf_printf(c->b, " TOS and 0x%02x", (uint8_t)~m);
	else if (v == m)
		rbuf_printf(c->b, " TOS or 0x%02x", v);
	else if (m == 0)
		rbuf_printf(c->b, " TOS xor 0x%02x", v);
	else
		rbuf_printf(c->b, " TOS set 0x%02x/0x%02x", v, m);
}

static void print_connmark(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_t_connmark *cm = &x->u.connmark;
	const char *mode = cm->mode == RULES_CM_SAVE ? "save" : "restore";
	switch (cm->mode) {
	case RULES_CM_SET:
		print_xmark(c->b, "CONNMARK", cm->ctmark, cm->ctmask);
		break;
	default:
		if (cm->nfmask == UINT32_MAX && cm->ctmask == UINT32_MAX)
			rbuf_printf(c->b, " CONNMARK %s", mode);
		else if (cm->nfmask == cm->ctmask)
			rbuf_printf(c->b, " CONNMARK %s mask 0x%x", mode, cm->nfmask);
		else if (cm->mode == RULES_CM_SAVE)
			rbuf_printf(c->b, " CONNMARK save nfmask 0x%x ctmask ~0x%x", cm->nfmask,
				cm->ctmask);
		else
			rbuf_printf(c->b, " CONNMARK restore ctmask 0x%x nfmask ~0x%x", cm->ctmask,
				cm->nfmask);
		break;
	}
	if (cm->shift_bits)
		rbuf_printf(c->b, " %s %u", cm->shift_dir ? "right-shift-mark" : "left-shift-mark",
			cm->shift_bits);
}

static void print_nflog(struct lctx *c, const struct rules_ext *x)
{
	const struct rules_t_nflog *n = &x->u.nflog;
	if (n->prefix && n->prefix[0]) {
		rbuf_puts(c->b, " nflog-prefix");
		rbuf_save_string(c->b, n->prefix);
	}
	if (n->group)
		rbuf_printf(c->b, " nflog-group %u", n->group);
	if (x->present & BIT(RULES_O_NFLOG_SIZE))
		rbuf_printf(c->b, " nflog-size %u", n->size);
	if (n->threshold)
		rbuf_printf(c->b, " nflog-threshold %u", n->threshold);
}

static void print_target(struct lctx *c, const struct rules_ext *x)
{
	static const char *const ttl_ops[] = {"set to", "decrement by", "increment by"};
	switch (x->kind) {
	case RULES_X_REJECT:
		rbuf_puts(c->b, " reject-with");
		val_print(c, x, "reject-with", true);
		break;
	case RULES_X_LOG:
		print_log(c, x);
		break;
	case RULES_X_MARK_T:
		print_xmark(c->b, "MARK", x->u.xmark.value, x->u.xmark.mask);
		break;
	case RULES_X_TOS_T:
		print_settos(c, x);
		break;
	case RULES_X_DSCP_T:
		rbuf_printf(c->b, " DSCP set 0x%02x", x->u.setdscp.value);
		break;
	case RULES_X_TTL_T:
	case RULES_X_HL_T: {
		unsigned op = (x->present & BIT(RULES_O_DEC)) ? 1 : (x->present & BIT(RULES_O_INC)) ? 2 : 0;
		rbuf_printf(c->b, " %s %s %u", x->kind == RULES_X_HL_T ? "HL" : "TTL", ttl_ops[op],
			x->u.setttl.value);
		break;
	}
	case RULES_X_NOTRACK:
		rbuf_puts(c->b, " NOTRACK");
		break;
	case RULES_X_CT:
		rbuf_puts(c->b, " CT");
		if (x->present & BIT(RULES_O_CT_NOTRACK))
			rbuf_puts(c->b, " notrack");
		if ((x->present & BIT(RULES_O_CT_HELPER)) && x->u.ctt.helper != NULL)
			rbuf_printf(c->b, " helper %s", x->u.ctt.helper);
		if ((x->present & BIT(RULES_O_CT_TIMEOUT)) && x->u.ctt.timeout != NULL)
			rbuf_printf(c->b, " timeout %s", x->u.ctt.timeout);
		if (x->present & BIT(RULES_O_CT_CTEVENTS)) {
			rbuf_puts(c->b, " ctevents");
			rules_val_print(c->b, x, rules_ext_opt(RULES_X_CT, "ctevents"), 0);
		}
		if (x->present & BIT(RULES_O_CT_EXPEVENTS)) {
			rbuf_puts(c->b, " expevents");
			rules_val_print(c->b, x, rules_ext_opt(RULES_X_CT, "expevents"), 0);
		}
		rules_ct_zone_print(c->b, &x->u.ctt, "zone");
		break;
	case RULES_X_CONNMARK:
		print_connmark(c, x);
		break;
	case RULES_X_NFLOG:
		print_nflog(c, x);
		break;
	case RULES_X_SNAT:
	case RULES_X_DNAT:
		print_nat(c, x, "to:", false);
		break;
	case RULES_X_MASQUERADE:
		print_nat(c, x, "masq ports: ", true);
		break;
	case RULES_X_REDIRECT:
		print_nat(c, x, "redir ports ", true);
		break;
	case RULES_X_NETMAP:
		print_netmap(c, x);
		break;
	case RULES_X_CHECKSUM:
		rbuf_puts(c->b, " CHECKSUM fill");
		break;
	case RULES_X_SNPT:
	case RULES_X_DNPT: /* libip6t_NPT's print */
		rbuf_printf(c->b, " %s src-pfx ", x->kind == RULES_X_SNPT ? "SNPT" : "DNPT");
		rbuf_addr(c->b, c->fam, &x->u.npt.src.addr);
		rbuf_printf(c->b, "/%u dst-pfx ", x->u.npt.src.plen);
		rbuf_addr(c->b, c->fam, &x->u.npt.dst.addr);
		rbuf_printf(c->b, "/%u", x->u.npt.dst.plen);
		break;
	case RULES_X_ECN_T: { /* libipt_ECN's print */
		const struct rules_t_ecn *e = &x->u.ecnt;
		rbuf_puts(c->b, " ECN");
		if (rules_ecn_t_is_remove(x)) {
			rbuf_puts(c->b, " TCP remove");
			break;
		}
		if (x->present & BIT(RULES_O_ECNT_ECE))
			rbuf_printf(c->b, " ECE=%u", e->ece);
		if (x->present & BIT(RULES_O_ECNT_CWR))
			rbuf_printf(c->b, " CWR=%u", e->cwr);
		if (x->present & BIT(RULES_O_ECNT_ECT))
			rbuf_printf(c->b, " ECT codepoint=%u", e->ect);
		break;
	}
	case RULES_X_SET_T:
		print_set_t(c, x);
		break;
	case RULES_X_TEE: /* libxt_TEE's print (numeric) */
		rbuf_puts(c->b, " TEE gw:");
		rbuf_addr(c->b, c->fam, &x->u.tee.gw);
		if ((x->present & BIT(RULES_O_TEE_OIF)) && x->u.tee.oif != NULL && x->u.tee.oif[0])
			rbuf_printf(c->b, " oif=%s", x->u.tee.oif);
		break;
	case RULES_X_TCPMSS:
		if (x->present & BIT(RULES_O_MSS_CLAMP))
			rbuf_puts(c->b, " TCPMSS clamp to PMTU");
		else
			rbuf_printf(c->b, " TCPMSS set %u", x->u.setmss);
		break;
	default:
		break;
	}
}

/* ---- rules and chains ---- */

const char *rules_ipt_target_name(const struct rules_rule *r)
{
	switch (r->target.verdict) {
	case RULES_V_ACCEPT:
		return "ACCEPT";
	case RULES_V_DROP:
		return "DROP";
	case RULES_V_RETURN:
		return "RETURN";
	case RULES_V_JUMP:
	case RULES_V_GOTO:
		return r->target.chain;
	case RULES_V_EXT:
		/* NOTRACK is an alias of CT: listed by its real name, printed as itself */
		if (r->target.ext.kind == RULES_X_NOTRACK)
			return "CT";
		return rules_ext_name((enum rules_ext_kind)r->target.ext.kind);
	default:
		return "";
	}
}

static void list_addr(struct lctx *c, const struct rules_addr *a, unsigned plen, bool inv)
{
	struct rules_buf t = {0};
	if (!c->numeric && (c->fam == RULES_F_V6 ? addr_zero(c->fam, a) : plen == 0))
		rbuf_puts(&t, "anywhere");
	else
		print_prefix(&t, c->fam, a, plen);
	if (t.oom)
		c->b->oom = true;
	else
		rbuf_printf(c->b, "%c%-19s ", inv ? '!' : ' ', t.s);
	free(t.s);
}

static void list_iface(struct lctx *c, const char *name, bool wild, bool inv, const char *fmt)
{
	char s[RULES_IFNAME_MAX + 4];
	snprintf(s, sizeof(s), "%s%s%s", inv ? "!" : "", name[0] ? name : c->numeric ? "*" : "any",
		name[0] && wild ? "+" : "");
	rbuf_printf(c->b, fmt, s);
}

static void list_rule(struct lctx *c, const struct rules_rule *r, long num, unsigned flags)
{
	struct rules_buf *b = c->b;
	bool kmg = !(flags & RULES_LIST_EXACT);

	if (flags & RULES_LIST_LINENUMBERS)
		rbuf_printf(b, "%-4ld ", num);
	if (flags & RULES_LIST_VERBOSE) {
		print_num(b, r->pkts, kmg, false);
		print_num(b, r->bytes, kmg, false);
	}
	rbuf_printf(b, "%-9s ", rules_ipt_target_name(r));

	rbuf_putc(b, (r->inv & RULES_INV_PROTO) ? '!' : ' ');
	const char *pname = NULL;
	if (!c->numeric) {
		const struct protoent *pe = r->proto ? getprotobynumber(r->proto) : NULL;
		pname = r->proto == 0 ? "all" : pe ? pe->p_name : rules_proto_name(r->proto);
	}
	if (pname)
		rbuf_printf(b, "%-4s ", pname);
	else
		rbuf_printf(b, "%-4u ", r->proto);

	if (c->fam == RULES_F_V6)
		rbuf_puts(b, "-- ");
	else
		rbuf_printf(b, "%c%c ", (r->inv & RULES_INV_FRAG) ? '!' : '-', r->frag ? 'f' : '-');

	if (flags & RULES_LIST_VERBOSE) {
		list_iface(c, r->iniface, r->in_wild, r->inv & RULES_INV_IN, " %-6s ");
		list_iface(c, r->outiface, r->out_wild, r->inv & RULES_INV_OUT, "%-6s ");
	}
	list_addr(c, &r->src, r->src_plen, r->inv & RULES_INV_SRC);
	list_addr(c, &r->dst, r->dst_plen, r->inv & RULES_INV_DST);
	if (r->target.verdict == RULES_V_GOTO)
		rbuf_puts(b, "[goto] ");
	for (unsigned i = 0; i < r->n_match; i++)
		if (!rules_ext_hidden(&r->match[i]))
			print_match(c, &r->match[i], r);
	if (r->target.verdict == RULES_V_EXT)
		print_target(c, &r->target.ext);
	rbuf_putc(b, '\n');
}

unsigned rules_ipt_chain_refs(const struct rules_table *t, const char *name, int fam)
{
	unsigned n = 0;
	for (size_t i = 0; i < t->n_chains; i++) {
		const struct rules_chain *c = &t->chains[i];
		if (!(c->fam & fam) && c->hook < 0)
			continue;
		for (size_t j = 0; j < c->n_rules; j++) {
			const struct rules_rule *r = &c->rules[j];
			if ((r->fam & fam) &&
				(r->target.verdict == RULES_V_JUMP || r->target.verdict == RULES_V_GOTO) &&
				strcmp(r->target.chain, name) == 0)
				n++;
		}
	}
	return n;
}

static void list_header(struct lctx *c, const struct rules_table *t, const struct rules_chain *ch,
	unsigned flags)
{
	struct rules_buf *b = c->b;
	int fi = FAM_IDX(c->fam);
	bool kmg = !(flags & RULES_LIST_EXACT), verbose = flags & RULES_LIST_VERBOSE;

	rbuf_printf(b, "Chain %s", ch->name);
	if (ch->hook >= 0) {
		rbuf_printf(b, " (policy %s", ch->policy[fi] == RULES_POL_DROP ? "DROP" : "ACCEPT");
		if (verbose) {
			rbuf_putc(b, ' ');
			print_num(b, ch->pkts[fi], kmg, true);
			rbuf_puts(b, "packets, ");
			print_num(b, ch->bytes[fi], kmg, true);
			rbuf_puts(b, "bytes");
		}
		rbuf_puts(b, ")\n");
	} else {
		rbuf_printf(b, " (%u references)\n", rules_ipt_chain_refs(t, ch->name, c->fam));
	}
	if (flags & RULES_LIST_LINENUMBERS)
		rbuf_printf(b, "%-4s ", "num");
	if (verbose)
		rbuf_printf(b, kmg ? "%5s %5s " : "%8s %10s ", "pkts", "bytes");
	rbuf_printf(b, "%-9s  prot opt", "target");
	if (verbose)
		rbuf_printf(b, " %-6s %-6s ", "in", "out");
	rbuf_printf(b, " %-19s  %-19s \n", "source", "destination");
}

bool rules_ipt_chain_listed(const struct rules_chain *ch, int fam)
{
	return ch->hook >= 0 || (ch->fam & fam);
}

/* The chain to print (NULL: all) after checking the arguments; false: errno set. */
static bool find_chain(const struct rules_ruleset *rs, int fam, enum rules_table_id t,
	const char *chain, long rulenum, const struct rules_chain **out)
{
	*out = NULL;
	if (!rs || (fam != RULES_F_V4 && fam != RULES_F_V6) || (unsigned)t >= RULES_T_COUNT ||
		rulenum < 0 || (rulenum > 0 && !chain)) {
		errno = EINVAL;
		return false;
	}
	if (!chain)
		return true;
	const struct rules_table *tb = &rs->tables[t];
	for (size_t i = 0; i < tb->n_chains; i++)
		if (strcmp(tb->chains[i].name, chain) == 0 &&
		    rules_ipt_chain_listed(&tb->chains[i], fam)) {
			*out = &tb->chains[i];
			return true;
		}
	errno = ENOENT;
	return false;
}

/* Rule n (1-based) of ch in family fam, NULL if it has fewer. */
static const struct rules_rule *nth_rule(const struct rules_chain *ch, int fam, long n)
{
	for (size_t j = 0; j < ch->n_rules; j++)
		if ((ch->rules[j].fam & fam) && --n == 0)
			return &ch->rules[j];
	return NULL;
}

static char *finish(struct rules_buf *b)
{
	if (b->oom) {
		free(b->s);
		errno = ENOMEM;
		return NULL;
	}
	return b->s;
}

static void list_chain(struct lctx *c, const struct rules_table *t, const struct rules_chain *ch,
	unsigned flags)
{
	long num = 0;
	list_header(c, t, ch, flags);
	for (size_t j = 0; j < ch->n_rules; j++)
		if (ch->rules[j].fam & c->fam)
			list_rule(c, &ch->rules[j], ++num, flags);
}

char *rules_ipt_list(const struct rules_ruleset *rs, int fam, enum rules_table_id t,
	const char *chain, long rulenum, unsigned flags)
{
	const struct rules_chain *ch;
	struct rules_buf b = {0};
	struct lctx c = {&b, fam, flags & RULES_LIST_NUMERIC};

	if (!find_chain(rs, fam, t, chain, rulenum, &ch))
		return NULL;
	const struct rules_table *tb = &rs->tables[t];
	rbuf_puts(&b, "");
	if (rulenum > 0) {
		const struct rules_rule *r = nth_rule(ch, fam, rulenum);
		if (r)
			list_rule(&c, r, rulenum, flags);
	} else if (ch) {
		list_chain(&c, tb, ch, flags);
	} else {
		bool first = true;
		for (size_t i = 0; i < tb->n_chains; i++) {
			if (!rules_ipt_chain_listed(&tb->chains[i], fam))
				continue;
			if (!first)
				rbuf_putc(&b, '\n');
			first = false;
			list_chain(&c, tb, &tb->chains[i], flags);
		}
	}
	return finish(&b);
}

static void spec_chain_line(struct rules_buf *b, const struct rules_chain *ch, int fam, bool verbose)
{
	int fi = FAM_IDX(fam);
	if (ch->hook < 0) {
		rbuf_printf(b, "-N %s\n", ch->name);
		return;
	}
	rbuf_printf(b, "-P %s %s", ch->name, ch->policy[fi] == RULES_POL_DROP ? "DROP" : "ACCEPT");
	if (verbose)
		rbuf_printf(b, " -c %llu %llu", (unsigned long long)ch->pkts[fi],
			(unsigned long long)ch->bytes[fi]);
	rbuf_putc(b, '\n');
}

static void spec_rule(struct rules_buf *b, const struct rules_chain *ch, const struct rules_rule *r,
	int fam, bool verbose)
{
	rbuf_printf(b, "-A %s", ch->name);
	rules_print_rule_matches(b, r, fam);
	if (verbose)
		rbuf_printf(b, " -c %llu %llu", (unsigned long long)r->pkts,
			(unsigned long long)r->bytes);
	rules_print_rule_target(b, r, fam);
	rbuf_putc(b, '\n');
}

static void spec_rules(struct rules_buf *b, const struct rules_chain *ch, int fam, bool verbose)
{
	for (size_t j = 0; j < ch->n_rules; j++)
		if (ch->rules[j].fam & fam)
			spec_rule(b, ch, &ch->rules[j], fam, verbose);
}

char *rules_ipt_spec(const struct rules_ruleset *rs, int fam, enum rules_table_id t,
	const char *chain, long rulenum, unsigned flags)
{
	const struct rules_chain *ch;
	struct rules_buf b = {0};
	bool verbose = flags & RULES_LIST_VERBOSE;

	if (!find_chain(rs, fam, t, chain, rulenum, &ch))
		return NULL;
	const struct rules_table *tb = &rs->tables[t];
	rbuf_puts(&b, "");
	if (rulenum > 0) {
		const struct rules_rule *r = nth_rule(ch, fam, rulenum);
		if (r)
			spec_rule(&b, ch, r, fam, verbose);
	} else if (ch) {
		spec_chain_line(&b, ch, fam, verbose);
		spec_rules(&b, ch, fam, verbose);
	} else {
		for (size_t i = 0; i < tb->n_chains; i++)
			if (rules_ipt_chain_listed(&tb->chains[i], fam))
				spec_chain_line(&b, &tb->chains[i], fam, verbose);
		for (size_t i = 0; i < tb->n_chains; i++)
			if (rules_ipt_chain_listed(&tb->chains[i], fam))
				spec_rules(&b, &tb->chains[i], fam, verbose);
	}
	return finish(&b);
}
