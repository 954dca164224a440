/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules: the ruleset model's life cycle (create, clone, replace, free),
 * chain and rule bookkeeping, and the scalar parsers (numbers, ports,
 * protocols, addresses) shared by the iptables and ipset parsers.
 *
 * Control thread only. Every object hangs off the ruleset and is freed
 * with it; functions that take ownership of an argument say so.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules_priv.h"

/* ---- text buffer ---- */

static bool rbuf_grow(struct rules_buf *b, size_t add)
{
	if (b->oom)
		return false;
	if (b->len + add + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + add + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void rbuf_putc(struct rules_buf *b, char c)
{
	if (!rbuf_grow(b, 1))
		return;
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

void rbuf_puts(struct rules_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (!rbuf_grow(b, n))
		return;
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void rbuf_printf(struct rules_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		rbuf_puts(b, tmp);
		return;
	}
	if (!rbuf_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void rbuf_save_string(struct rules_buf *b, const char *s)
{
	static const char plain[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t n = strspn(s, plain);
	rbuf_putc(b, ' ');
	if (n > 0 && s[n] == '\0') {
		rbuf_puts(b, s);
		return;
	}
	rbuf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == '\'')
			rbuf_putc(b, '\\');
		rbuf_putc(b, *s);
	}
	rbuf_putc(b, '"');
}

void rbuf_addr(struct rules_buf *b, int fam, const struct rules_addr *a)
{
	char tmp[INET6_ADDRSTRLEN];
	inet_ntop(fam == RULES_F_V6 ? AF_INET6 : AF_INET, a->b, tmp, sizeof(tmp));
	rbuf_puts(b, tmp);
}

/* ---- errors ---- */

int rules_errf(struct rules_perr *pe, int col, const char *fmt, ...)
{
	char msg[RULES_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pe->err && pe->errlen) {
		const char *name = pe->name ? pe->name : "<rules>";
		if (col > 0)
			snprintf(pe->err, pe->errlen, "%s:%d:%d: %s", name, pe->line,
				col + pe->col_base, msg);
		else
			snprintf(pe->err, pe->errlen, "%s:%d: %s", name, pe->line, msg);
	}
	return -EINVAL;
}

/* ---- scalars ---- */

bool rules_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	unsigned base = 10;
	const char *p = s;

	if (*p == '\0')
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (*p == '\0')
			return false;
	} else if (p[0] == '0' && p[1] != '\0') {
		base = 8;
		p++;
	}
	for (; *p; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return false;
		if (d >= base)
			return false;
		if (x > (UINT64_MAX - d) / base)
			return false;
		x = x * base + d;
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

static bool service_port(const char *s, const char *proto, uint16_t *port)
{
	/* Service names as iptables resolves them (/etc/services). */
	if (strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	struct servent se, *res = NULL;
	char buf[1024];
	if (getservbyname_r(s, proto, &se, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	*port = ntohs((uint16_t)res->s_port);
	return true;
}

bool rules_parse_port(const char *s, const char *proto, uint16_t *port)
{
	uint64_t v;
	if (rules_parse_uint(s, UINT16_MAX, &v)) {
		*port = (uint16_t)v;
		return true;
	}
	return service_port(s, proto, port);
}

bool rules_parse_port_gai(const char *s, uint16_t *port)
{
	/* getaddrinfo(NULL, s) as libxtables' xtables_getportbyname(): decimal
	 * digits (leading zeros are decimal) or a service of any protocol */
	size_t n = strlen(s);
	if (n && strspn(s, "0123456789") == n) {
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++) {
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > UINT16_MAX)
				return false;
		}
		*port = (uint16_t)v;
		return true;
	}
	return service_port(s, "tcp", port) || service_port(s, "udp", port);
}

/* iptables' own names first (xtables_chain_protos), then /etc/protocols as
 * shipped by Debian's netbase (IANA names), so that parsing and printing do
 * not depend on the files of the machine we run on. */
static const struct {
	uint8_t num;
	const char *name;
} proto_names[] = {
	{6, "tcp"}, {132, "sctp"}, {17, "udp"}, {136, "udplite"}, {1, "icmp"}, {58, "ipv6-icmp"},
	{58, "icmpv6"}, {50, "esp"}, {51, "ah"}, {135, "mobility-header"}, {135, "ipv6-mh"},
	{135, "mh"}, {0, "all"},
	/* /etc/protocols */
	{0, "ip"}, {0, "hopopt"}, {2, "igmp"}, {3, "ggp"}, {4, "ipencap"}, {5, "st"}, {8, "egp"},
	{9, "igp"}, {12, "pup"}, {20, "hmp"}, {22, "xns-idp"}, {27, "rdp"}, {29, "iso-tp4"},
	{33, "dccp"}, {36, "xtp"}, {37, "ddp"}, {38, "idpr-cmtp"}, {41, "ipv6"}, {43, "ipv6-route"},
	{44, "ipv6-frag"}, {45, "idrp"}, {46, "rsvp"}, {47, "gre"}, {57, "skip"}, {59, "ipv6-nonxt"},
	{60, "ipv6-opts"}, {73, "rspf"}, {81, "vmtp"}, {88, "eigrp"}, {89, "ospf"}, {93, "ax.25"},
	{94, "ipip"}, {97, "etherip"}, {98, "encap"}, {103, "pim"}, {108, "ipcomp"}, {112, "vrrp"},
	{115, "l2tp"}, {124, "isis"}, {133, "fc"}, {137, "mpls-in-ip"}, {138, "manet"}, {139, "hip"},
	{140, "shim6"}, {141, "wesp"}, {142, "rohc"}, {143, "ethernet"},
};

bool rules_parse_proto(const char *s, uint8_t *proto)
{
	uint64_t v;
	char low[32];
	size_t n = strlen(s);

	if (rules_parse_uint(s, UINT8_MAX, &v)) {
		*proto = (uint8_t)v;
		return true;
	}
	if (n == 0 || n >= sizeof(low))
		return false;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	for (size_t i = 0; i < RULES_ARRAY_SIZE(proto_names); i++)
		if (strcmp(low, proto_names[i].name) == 0) {
			*proto = proto_names[i].num;
			return true;
		}
	return false;
}

const char *rules_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < RULES_ARRAY_SIZE(proto_names); i++)
		if (proto_names[i].num == proto)
			return proto_names[i].name;
	return NULL;
}

int rules_addr_fam(const char *s)
{
	return strchr(s, ':') ? RULES_F_V6 : RULES_F_V4;
}

/* iptables' numeric IPv4 parser: 1 to 4 dotted parts, missing trailing
 * parts are zero ("10" is 10.0.0.0), each part base 0 up to 255. */
static bool parse_v4(const char *s, uint8_t out[4], bool is_mask)
{
	char buf[20];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n + 1);
	memset(out, 0, 4);
	char *p = buf;
	for (int i = 0; i < 4; i++) {
		char *q = strchr(p, '.');
		if (q)
			*q = '\0';
		uint64_t v;
		if (!rules_parse_uint(p, 255, &v))
			return false;
		out[i] = (uint8_t)v;
		if (!q)
			return !is_mask || i == 3;
		if (i == 3)
			return false;
		p = q + 1;
	}
	return false;
}

bool rules_parse_addr(int fam, const char *s, struct rules_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (fam == RULES_F_V6)
		return inet_pton(AF_INET6, s, a->b) == 1;
	return parse_v4(s, a->b, false);
}

void rules_addr_mask(int fam, struct rules_addr *a, uint8_t plen)
{
	unsigned bytes = fam == RULES_F_V6 ? 16 : 4;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bit = i * 8;
		if (i >= bytes || plen <= bit)
			a->b[i] = 0;
		else if (plen - bit < 8)
			a->b[i] &= (uint8_t)(0xff << (8 - (plen - bit)));
	}
}

/* Prefix length of a contiguous mask, -1 if it is not contiguous. */
static int mask_plen(const uint8_t *m, unsigned bytes)
{
	int plen = 0;
	unsigned i = 0;
	for (; i < bytes && m[i] == 0xff; i++)
		plen += 8;
	if (i < bytes) {
		uint8_t x = m[i];
		while (x & 0x80) {
			x = (uint8_t)(x << 1);
			plen++;
		}
		if (x)
			return -1;
		for (i++; i < bytes; i++)
			if (m[i])
				return -1;
	}
	return plen;
}

int rules_parse_prefix(struct rules_pctx *pc, int fam, const char *s, struct rules_addr *a,
	uint8_t *plen)
{
	char buf[128];
	unsigned maxlen = fam == RULES_F_V6 ? 128 : 32;
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		return rules_errf(pc->pe, pc->col, "address \"%.40s...\" too long", s);
	memcpy(buf, s, n + 1);
	char *slash = strrchr(buf, '/');
	unsigned pl = maxlen;
	if (slash) {
		*slash++ = '\0';
		uint64_t v;
		struct rules_addr m;
		if (rules_parse_uint(slash, maxlen, &v)) {
			pl = (unsigned)v;
		} else if (fam == RULES_F_V4 ? parse_v4(slash, m.b, true) :
					       inet_pton(AF_INET6, slash, m.b) == 1) {
			int p = mask_plen(m.b, fam == RULES_F_V6 ? 16 : 4);
			if (p < 0)
				return rules_errf(pc->pe, pc->col,
					"non-contiguous mask \"%s\" is not supported", slash);
			pl = (unsigned)p;
		} else {
			return rules_errf(pc->pe, pc->col, "invalid mask \"%s\" (prefix length 0-%u or %s mask)",
				slash, maxlen, fam == RULES_F_V6 ? "IPv6" : "dotted");
		}
	}
	if (!rules_parse_addr(fam, buf, a)) {
		if (fam == RULES_F_V4 && strchr(buf, ':'))
			return rules_errf(pc->pe, pc->col, "IPv6 address \"%s\" in an IPv4 rule", buf);
		if (fam == RULES_F_V6 && !strchr(buf, ':') && strchr(buf, '.'))
			return rules_errf(pc->pe, pc->col, "IPv4 address \"%s\" in an IPv6 rule", buf);
		return rules_errf(pc->pe, pc->col,
			"invalid address \"%s\" (numeric addresses only, host names are refused)", buf);
	}
	*plen = (uint8_t)pl;
	return 0;
}

/* ---- names ---- */

static const char *const table_names[RULES_T_COUNT] = {"raw", "mangle", "nat", "filter"};
static const char *const hook_names[RULES_H_COUNT] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT",
	"POSTROUTING"};
static const uint8_t table_hooks[RULES_T_COUNT] = {
	[RULES_T_RAW] = 1 << RULES_H_PREROUTING | 1 << RULES_H_OUTPUT,
	[RULES_T_MANGLE] = 0x1f,
	[RULES_T_NAT] = 1 << RULES_H_PREROUTING | 1 << RULES_H_INPUT | 1 << RULES_H_OUTPUT |
		1 << RULES_H_POSTROUTING,
	[RULES_T_FILTER] = 1 << RULES_H_INPUT | 1 << RULES_H_FORWARD | 1 << RULES_H_OUTPUT,
};

const char *rules_table_name(enum rules_table_id t)
{
	return t < RULES_T_COUNT ? table_names[t] : "?";
}

int rules_table_by_name(const char *name)
{
	for (int i = 0; i < RULES_T_COUNT; i++)
		if (strcmp(name, table_names[i]) == 0)
			return i;
	return -1;
}

const char *rules_hook_name(enum rules_hook h)
{
	return h < RULES_H_COUNT ? hook_names[h] : "?";
}

uint8_t rules_table_hooks(enum rules_table_id t)
{
	return table_hooks[t];
}

int rules_table_index(const struct rules_ruleset *rs, const struct rules_table *t)
{
	return (int)(t - rs->tables);
}

bool rules_is_target_name(const char *name)
{
	static const char *const std[] = {"ACCEPT", "DROP", "RETURN", "QUEUE", "NFQUEUE"};
	for (size_t i = 0; i < RULES_ARRAY_SIZE(std); i++)
		if (strcmp(name, std[i]) == 0)
			return true;
	return rules_ext_lookup(name, true) >= 0;
}

bool rules_chain_name_ok(const char *name, const char **why)
{
	size_t n = strlen(name);
	if (n == 0) {
		*why = "empty chain name";
		return false;
	}
	if (n > RULES_CHAIN_NAME_MAX) {
		*why = "chain name too long (must be under 29 chars)";
		return false;
	}
	if (name[0] == '-' || name[0] == '!') {
		*why = "chain name may not start with '-' or '!'";
		return false;
	}
	for (const char *p = name; *p; p++)
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p) || *p == '"' ||
		    *p == '\'' || *p == '\\') {
			*why = "invalid character in chain name";
			return false;
		}
	if (rules_is_target_name(name)) {
		*why = "chain name may not clash with a target name";
		return false;
	}
	return true;
}

/* ---- rules and chains ---- */

void rules_rule_free(struct rules_rule *r)
{
	for (unsigned i = 0; i < r->n_match; i++)
		rules_ext_free(&r->match[i]);
	free(r->match);
	r->match = NULL;
	r->n_match = 0;
	if (r->target.verdict == RULES_V_EXT)
		rules_ext_free(&r->target.ext);
	r->target.verdict = RULES_V_NONE;
}

int rules_rule_copy(struct rules_rule *dst, const struct rules_rule *src)
{
	*dst = *src;
	dst->match = NULL;
	dst->n_match = 0;
	dst->target.verdict = RULES_V_NONE;
	if (src->n_match) {
		dst->match = calloc(src->n_match, sizeof(*dst->match));
		if (!dst->match)
			return -ENOMEM;
		for (unsigned i = 0; i < src->n_match; i++) {
			if (rules_ext_copy(&dst->match[i], &src->match[i]) < 0) {
				rules_rule_free(dst);
				return -ENOMEM;
			}
			dst->n_match = (uint8_t)(i + 1);
		}
	}
	dst->target = src->target;
	if (src->target.verdict == RULES_V_EXT &&
	    rules_ext_copy(&dst->target.ext, &src->target.ext) < 0) {
		dst->target.verdict = RULES_V_NONE;
		rules_rule_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static void chain_free(struct rules_chain *c)
{
	for (size_t i = 0; i < c->n_rules; i++)
		rules_rule_free(&c->rules[i]);
	free(c->rules);
	c->rules = NULL;
	c->n_rules = c->cap_rules = 0;
}

int rules_chain_insert(struct rules_chain *c, size_t pos, struct rules_rule *r)
{
	if (pos > c->n_rules)
		return -EINVAL;
	if (c->n_rules == c->cap_rules) {
		size_t cap = c->cap_rules ? c->cap_rules * 2 : 8;
		struct rules_rule *n = realloc(c->rules, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->rules = n;
		c->cap_rules = cap;
	}
	memmove(&c->rules[pos + 1], &c->rules[pos], (c->n_rules - pos) * sizeof(*r));
	c->rules[pos] = *r;
	c->n_rules++;
	memset(r, 0, sizeof(*r));
	return 0;
}

void rules_chain_flush(struct rules_chain *c, int fam)
{
	size_t j = 0;
	for (size_t i = 0; i < c->n_rules; i++) {
		struct rules_rule *r = &c->rules[i];
		r->fam &= (uint8_t)~fam;
		if (r->fam == 0) {
			rules_rule_free(r);
			continue;
		}
		c->rules[j++] = *r;
	}
	c->n_rules = j;
}

static int chain_cmp_user(const struct rules_table *t, const char *name, size_t *pos)
{
	size_t lo = t->n_builtin, hi = t->n_chains;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, t->chains[mid].name);
		if (c == 0) {
			*pos = mid;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*pos = lo;
	return -1;
}

struct rules_chain *rules_chain_get(struct rules_table *t, const char *name)
{
	size_t pos;
	for (size_t i = 0; i < t->n_builtin; i++)
		if (strcmp(t->chains[i].name, name) == 0)
			return &t->chains[i];
	if (chain_cmp_user(t, name, &pos) == 0)
		return &t->chains[pos];
	return NULL;
}

struct rules_chain *rules_chain_add(struct rules_table *t, const char *name)
{
	size_t pos;
	if (chain_cmp_user(t, name, &pos) == 0)
		return &t->chains[pos];
	if (t->n_chains == t->cap_chains) {
		size_t cap = t->cap_chains * 2;
		struct rules_chain *n = realloc(t->chains, cap * sizeof(*n));
		if (!n) {
			errno = ENOMEM;
			return NULL;
		}
		t->chains = n;
		t->cap_chains = cap;
	}
	memmove(&t->chains[pos + 1], &t->chains[pos], (t->n_chains - pos) * sizeof(*t->chains));
	struct rules_chain *c = &t->chains[pos];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->hook = -1;
	t->n_chains++;
	return c;
}

void rules_chain_del(struct rules_table *t, struct rules_chain *c)
{
	size_t pos = (size_t)(c - t->chains);
	chain_free(c);
	memmove(&t->chains[pos], &t->chains[pos + 1], (t->n_chains - pos - 1) * sizeof(*c));
	t->n_chains--;
}

void rules_table_flush(struct rules_table *t, int fam)
{
	for (size_t i = 0; i < t->n_chains;) {
		struct rules_chain *c = &t->chains[i];
		rules_chain_flush(c, fam);
		if (c->hook >= 0) {
			for (int f = 0; f < 2; f++)
				if (fam & (1 << f)) {
					c->policy[f] = RULES_POL_ACCEPT;
					c->pkts[f] = c->bytes[f] = 0;
				}
			i++;
			continue;
		}
		c->fam &= (uint8_t)~fam;
		if (c->fam == 0)
			rules_chain_del(t, c);
		else
			i++;
	}
	t->present &= (uint8_t)~fam;
}

/* ---- ruleset ---- */

static int table_init(struct rules_table *t, enum rules_table_id id)
{
	uint8_t hooks = table_hooks[id];
	t->cap_chains = 8;
	t->chains = calloc(t->cap_chains, sizeof(*t->chains));
	if (!t->chains)
		return -ENOMEM;
	for (int h = 0; h < RULES_H_COUNT; h++) {
		if (!(hooks & (1 << h)))
			continue;
		struct rules_chain *c = &t->chains[t->n_chains++];
		snprintf(c->name, sizeof(c->name), "%s", hook_names[h]);
		c->hook = (int8_t)h;
		c->fam = RULES_F_ALL;
	}
	t->n_builtin = (uint8_t)t->n_chains;
	return 0;
}

static void sets_free(struct rules_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		rules_set_release(&rs->sets[i]);
	free(rs->sets);
	rs->sets = NULL;
	rs->n_sets = rs->cap_sets = 0;
}

static void ruleset_clear(struct rules_ruleset *rs)
{
	for (int i = 0; i < RULES_T_COUNT; i++) {
		struct rules_table *t = &rs->tables[i];
		for (size_t j = 0; j < t->n_chains; j++)
			chain_free(&t->chains[j]);
		free(t->chains);
		memset(t, 0, sizeof(*t));
	}
	sets_free(rs);
}

void rules_free(struct rules_ruleset *rs)
{
	if (!rs)
		return;
	ruleset_clear(rs);
	free(rs);
}

struct rules_ruleset *rules_new(void)
{
	struct rules_ruleset *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	for (int i = 0; i < RULES_T_COUNT; i++)
		if (table_init(&rs->tables[i], (enum rules_table_id)i) < 0) {
			rules_free(rs);
			errno = ENOMEM;
			return NULL;
		}
	return rs;
}

static int chain_copy(struct rules_chain *dst, const struct rules_chain *src)
{
	*dst = *src;
	dst->rules = NULL;
	dst->n_rules = dst->cap_rules = 0;
	if (!src->n_rules)
		return 0;
	dst->rules = calloc(src->n_rules, sizeof(*dst->rules));
	if (!dst->rules)
		return -ENOMEM;
	dst->cap_rules = src->n_rules;
	for (size_t i = 0; i < src->n_rules; i++) {
		if (rules_rule_copy(&dst->rules[i], &src->rules[i]) < 0)
			return -ENOMEM;
		dst->n_rules++;
	}
	return 0;
}

struct rules_ruleset *rules_clone(const struct rules_ruleset *rs)
{
	struct rules_ruleset *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	for (int i = 0; i < RULES_T_COUNT; i++) {
		const struct rules_table *s = &rs->tables[i];
		struct rules_table *d = &n->tables[i];
		d->present = s->present;
		d->n_builtin = s->n_builtin;
		d->cap_chains = s->n_chains > 8 ? s->n_chains : 8;
		d->chains = calloc(d->cap_chains, sizeof(*d->chains));
		if (!d->chains)
			goto fail;
		for (size_t j = 0; j < s->n_chains; j++) {
			int rc = chain_copy(&d->chains[j], &s->chains[j]);
			d->n_chains++;
			if (rc < 0)
				goto fail;
		}
	}
	if (rs->n_sets) {
		n->sets = calloc(rs->n_sets, sizeof(*n->sets));
		if (!n->sets)
			goto fail;
		n->cap_sets = rs->n_sets;
		for (size_t i = 0; i < rs->n_sets; i++) {
			int rc = rules_set_copy(&n->sets[i], &rs->sets[i]);
			n->n_sets++; /* freed with n, whole or emptied */
			if (rc < 0)
				goto fail;
		}
	}
	return n;
fail:
	rules_free(n);
	errno = ENOMEM;
	return NULL;
}

void rules_replace(struct rules_ruleset *dst, struct rules_ruleset *src)
{
	ruleset_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
	free(src);
}

struct rules_chain *rules_chain_find(struct rules_ruleset *rs, enum rules_table_id t, const char *name)
{
	if (t >= RULES_T_COUNT)
		return NULL;
	return rules_chain_get(&rs->tables[t], name);
}

const struct rules_set *rules_set_find(const struct rules_ruleset *rs, const char *name)
{
	size_t lo = 0, hi = rs->n_sets;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, rs->sets[mid].name);
		if (c == 0)
			return &rs->sets[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- rule identity across updates ---- */

void rules_assign_ids(struct rules_ruleset *rs, uint64_t *next)
{
	for (int t = 0; t < RULES_T_COUNT; t++)
		for (size_t i = 0; i < rs->tables[t].n_chains; i++) {
			struct rules_chain *c = &rs->tables[t].chains[i];
			for (size_t j = 0; j < c->n_rules; j++)
				if (c->rules[j].id == 0)
					c->rules[j].id = ++*next;
		}
}

/* An open-addressing map from 64-bit keys to rules (control thread, transient). */
struct idmap {
	size_t mask;
	uint64_t *key; /* 0: empty */
	const struct rules_rule **val;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static int idmap_init(struct idmap *m, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap <<= 1;
	m->mask = cap - 1;
	m->key = calloc(cap, sizeof(*m->key));
	m->val = calloc(cap, sizeof(*m->val));
	if (!m->key || !m->val) {
		free(m->key);
		free(m->val);
		return -ENOMEM;
	}
	return 0;
}

static void idmap_free(struct idmap *m)
{
	free(m->key);
	free(m->val);
}

/* Insert; an existing key keeps its first value. */
static void idmap_put(struct idmap *m, uint64_t k, const struct rules_rule *v)
{
	for (size_t i = mix64(k) & m->mask;; i = (i + 1) & m->mask) {
		if (m->key[i] == k)
			return;
		if (m->key[i] == 0) {
			m->key[i] = k;
			m->val[i] = v;
			return;
		}
	}
}

static const struct rules_rule *idmap_get(const struct idmap *m, uint64_t k)
{
	for (size_t i = mix64(k) & m->mask;; i = (i + 1) & m->mask) {
		if (m->key[i] == k)
			return m->val[i];
		if (m->key[i] == 0)
			return NULL;
	}
}

static size_t count_rules(const struct rules_ruleset *rs)
{
	size_t n = 0;
	for (int t = 0; t < RULES_T_COUNT; t++)
		for (size_t i = 0; i < rs->tables[t].n_chains; i++)
			n += rs->tables[t].chains[i].n_rules;
	return n;
}

void rules_carry_counters(struct rules_ruleset *rs, const struct rules_ruleset *old)
{
	struct idmap m;
	if (old != NULL && idmap_init(&m, count_rules(old)) == 0) {
		for (int t = 0; t < RULES_T_COUNT; t++)
			for (size_t i = 0; i < old->tables[t].n_chains; i++) {
				const struct rules_chain *c = &old->tables[t].chains[i];
				for (size_t j = 0; j < c->n_rules; j++)
					if (c->rules[j].id)
						idmap_put(&m, c->rules[j].id, &c->rules[j]);
			}
		for (int t = 0; t < RULES_T_COUNT; t++)
			for (size_t i = 0; i < rs->tables[t].n_chains; i++) {
				struct rules_chain *c = &rs->tables[t].chains[i];
				for (size_t j = 0; j < c->n_rules; j++) {
					const struct rules_rule *o =
						c->rules[j].id ? idmap_get(&m, c->rules[j].id) : NULL;
					if (o) {
						c->rules[j].pkts = o->pkts;
						c->rules[j].bytes = o->bytes;
					}
				}
			}
		idmap_free(&m);
	}
	for (int t = 0; t < RULES_T_COUNT; t++)
		for (size_t i = 0; i < rs->tables[t].n_builtin; i++) {
			struct rules_chain *c = &rs->tables[t].chains[i];
			const struct rules_chain *o = old && i < old->tables[t].n_builtin ?
				&old->tables[t].chains[i] : NULL;
			for (int fi = 0; fi < 2 && o; fi++)
				if (!(c->ctr_set & (1u << fi))) {
					c->pkts[fi] = o->pkts[fi];
					c->bytes[fi] = o->bytes[fi];
				}
			c->ctr_set = 0;
		}
}

/* The canonical text of a rule with its table, chain and families: rules
 * that print the same are the same rule. */
static char *rule_key(enum rules_table_id t, const char *chain, const struct rules_rule *r)
{
	char *txt = rules_ipt_print_rule(r, r->fam == RULES_F_V6 ? RULES_F_V6 : RULES_F_V4);
	if (txt == NULL)
		return NULL;
	size_t n = strlen(chain) + strlen(txt) + 8;
	char *k = malloc(n);
	if (k != NULL)
		snprintf(k, n, "%d %u %s %s", (int)t, r->fam, chain, txt);
	free(txt);
	return k;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h ? h : 1;
}

int rules_inherit_ids(struct rules_ruleset *rs, const struct rules_ruleset *old)
{
	/* old rules by key hash; equal keys are taken in order (the k-th copy
	 * of a rule inherits from the k-th copy) */
	size_t n = count_rules(old);
	struct ent {
		uint64_t h;
		char *key;
		uint64_t id;
		size_t next; /* same hash chain, SIZE_MAX ends */
		bool used;
	} *e = calloc(n ? n : 1, sizeof(*e));
	struct idmap m = {0};
	int rc = -ENOMEM;
	if (e == NULL || idmap_init(&m, n) < 0)
		goto out;
	size_t k = 0;
	for (int t = 0; t < RULES_T_COUNT; t++)
		for (size_t i = 0; i < old->tables[t].n_chains; i++) {
			const struct rules_chain *c = &old->tables[t].chains[i];
			for (size_t j = 0; j < c->n_rules; j++) {
				if (!c->rules[j].id)
					continue;
				if (!(e[k].key = rule_key((enum rules_table_id)t, c->name, &c->rules[j])))
					goto out;
				e[k].h = str_hash(e[k].key);
				e[k].id = c->rules[j].id;
				e[k].next = SIZE_MAX;
				k++;
			}
		}
	/* chains of equal hashes, kept in order; the map points at each chain's head
	 * through a fake rule pointer (index + 1) */
	for (size_t i = k; i-- > 0;) {
		const struct rules_rule *head = idmap_get(&m, e[i].h);
		e[i].next = head ? (size_t)(uintptr_t)head - 1 : SIZE_MAX;
		/* replace the head */
		for (size_t s = mix64(e[i].h) & m.mask;; s = (s + 1) & m.mask)
			if (m.key[s] == e[i].h || m.key[s] == 0) {
				m.key[s] = e[i].h;
				m.val[s] = (const struct rules_rule *)(uintptr_t)(i + 1);
				break;
			}
	}
	for (int t = 0; t < RULES_T_COUNT; t++)
		for (size_t i = 0; i < rs->tables[t].n_chains; i++) {
			struct rules_chain *c = &rs->tables[t].chains[i];
			for (size_t j = 0; j < c->n_rules; j++) {
				struct rules_rule *r = &c->rules[j];
				if (r->id)
					continue;
				char *key = rule_key((enum rules_table_id)t, c->name, r);
				if (key == NULL)
					goto out;
				uint64_t h = str_hash(key);
				const struct rules_rule *head = idmap_get(&m, h);
				for (size_t x = head ? (size_t)(uintptr_t)head - 1 : SIZE_MAX; x != SIZE_MAX;
				     x = e[x].next)
					if (!e[x].used && strcmp(e[x].key, key) == 0) {
						e[x].used = true;
						r->id = e[x].id;
						break;
					}
				free(key);
			}
		}
	rc = 0;
out:
	if (e != NULL)
		for (size_t i = 0; i < n; i++)
			free(e[i].key);
	free(e);
	idmap_free(&m);
	return rc;
}

/* ---- the clock of set timeouts ---- */

static uint64_t (*clock_fn)(void);

void rules_clock_set(uint64_t (*fn)(void))
{
	clock_fn = fn;
}

uint64_t rules_clock_us(void)
{
	if (clock_fn)
		return clock_fn();
	return rules_clock_mono_us();
}

uint64_t rules_clock_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
