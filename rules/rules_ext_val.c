/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_ext_val: the value types of extension options: one parser and one
 * printer per type (ports, port lists, ICMP types, addresses and ranges,
 * marks, name lists, rates, NAT ranges, ...), with the name tables iptables
 * uses (ICMP types, TCP flags, address types, conntrack states, REJECT
 * codes). Parsing follows libxtables (base-0 numbers, prefix-matched names
 * where iptables prefix-matches them); printing is iptables-save's format.
 * Control thread only; const tables, no state.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_hashlimit.h"
#include "rules_priv.h"

#define BIT(i) (1u << (i))
#define LIMIT_SCALE 10000u

/* ---- name tables ---- */

struct icmp_name {
	const char *name;
	uint8_t type, lo, hi;
};

static const struct icmp_name icmp4_names[] = {
	{"any", 0xFF, 0, 0xFF}, {"echo-reply", 0, 0, 0xFF}, {"pong", 0, 0, 0xFF},
	{"destination-unreachable", 3, 0, 0xFF}, {"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1}, {"protocol-unreachable", 3, 2, 2}, {"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4}, {"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6}, {"host-unknown", 3, 7, 7}, {"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10}, {"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12}, {"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14}, {"precedence-cutoff", 3, 15, 15},
	{"source-quench", 4, 0, 0xFF}, {"redirect", 5, 0, 0xFF}, {"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1}, {"TOS-network-redirect", 5, 2, 2}, {"TOS-host-redirect", 5, 3, 3},
	{"echo-request", 8, 0, 0xFF}, {"ping", 8, 0, 0xFF}, {"router-advertisement", 9, 0, 0xFF},
	{"router-solicitation", 10, 0, 0xFF}, {"time-exceeded", 11, 0, 0xFF},
	{"ttl-exceeded", 11, 0, 0xFF}, {"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1}, {"parameter-problem", 12, 0, 0xFF},
	{"ip-header-bad", 12, 0, 0}, {"required-option-missing", 12, 1, 1},
	{"timestamp-request", 13, 0, 0xFF}, {"timestamp-reply", 14, 0, 0xFF},
	{"address-mask-request", 17, 0, 0xFF}, {"address-mask-reply", 18, 0, 0xFF},
};

static const struct icmp_name icmp6_names[] = {
	{"destination-unreachable", 1, 0, 0xFF}, {"no-route", 1, 0, 0},
	{"communication-prohibited", 1, 1, 1}, {"beyond-scope", 1, 2, 2},
	{"address-unreachable", 1, 3, 3}, {"port-unreachable", 1, 4, 4}, {"failed-policy", 1, 5, 5},
	{"reject-route", 1, 6, 6}, {"packet-too-big", 2, 0, 0xFF}, {"time-exceeded", 3, 0, 0xFF},
	{"ttl-exceeded", 3, 0, 0xFF}, {"ttl-zero-during-transit", 3, 0, 0},
	{"ttl-zero-during-reassembly", 3, 1, 1}, {"parameter-problem", 4, 0, 0xFF},
	{"bad-header", 4, 0, 0}, {"unknown-header-type", 4, 1, 1}, {"unknown-option", 4, 2, 2},
	{"echo-request", 128, 0, 0xFF}, {"ping", 128, 0, 0xFF}, {"echo-reply", 129, 0, 0xFF},
	{"pong", 129, 0, 0xFF}, {"router-solicitation", 133, 0, 0xFF},
	{"router-advertisement", 134, 0, 0xFF}, {"neighbour-solicitation", 135, 0, 0xFF},
	{"neighbor-solicitation", 135, 0, 0xFF}, {"neighbour-advertisement", 136, 0, 0xFF},
	{"neighbor-advertisement", 136, 0, 0xFF}, {"redirect", 137, 0, 0xFF},
};

struct bit_name {
	const char *name;
	uint32_t bit;
};

static const struct bit_name tcp_flag_names[] = {{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04},
	{"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20}, {"ALL", 0x3F}, {"NONE", 0}};

static const char *const addrtype_names[] = {"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST",
	"MULTICAST", "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"};

/* CT --ctevents' names, bit i the kernel's IPCT_* i (--expevents: "new") */
static const char *const ctevent_names[] = {"new", "related", "destroy", "reply", "assured",
	"protoinfo", "helper", "mark", "natseqinfo", "secmark"};

/* parse order of iptables (prefix match, first wins); print order is bit order */
static const struct bit_name ct_state_names[] = {{"INVALID", RULES_CT_INVALID},
	{"NEW", RULES_CT_NEW}, {"ESTABLISHED", RULES_CT_ESTABLISHED}, {"RELATED", RULES_CT_RELATED},
	{"UNTRACKED", RULES_CT_UNTRACKED}, {"SNAT", RULES_CT_SNAT}, {"DNAT", RULES_CT_DNAT}};
static const char *const ct_state_print[] = {"INVALID", "NEW", "RELATED", "ESTABLISHED",
	"UNTRACKED", "SNAT", "DNAT"};
static const struct bit_name ct_status_names[] = {{"NONE", 0}, {"EXPECTED", RULES_CTS_EXPECTED},
	{"SEEN_REPLY", RULES_CTS_SEEN_REPLY}, {"ASSURED", RULES_CTS_ASSURED},
	{"CONFIRMED", RULES_CTS_CONFIRMED}};

static const struct bit_name pkttype_names[] = {{"unicast", RULES_PKT_UNICAST},
	{"broadcast", RULES_PKT_BROADCAST}, {"multicast", RULES_PKT_MULTICAST},
	{"otherhost", RULES_PKT_OTHERHOST}, {"bcast", RULES_PKT_BROADCAST},
	{"mcast", RULES_PKT_MULTICAST}, {"host", RULES_PKT_UNICAST}};

static const struct bit_name tos_names[] = {{"Minimize-Delay", 0x10},
	{"Maximize-Throughput", 0x08}, {"Maximize-Reliability", 0x04}, {"Minimize-Cost", 0x02},
	{"Normal-Service", 0x00}};

static const struct bit_name dscp_classes[] = {{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10},
	{"CS3", 0x18}, {"CS4", 0x20}, {"CS5", 0x28}, {"CS6", 0x30}, {"CS7", 0x38}, {"BE", 0x00},
	{"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e}, {"AF21", 0x12}, {"AF22", 0x14},
	{"AF23", 0x16}, {"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e}, {"AF41", 0x22},
	{"AF42", 0x24}, {"AF43", 0x26}, {"EF", 0x2e}};

static const struct bit_name log_levels[] = {{"alert", 1}, {"crit", 2}, {"debug", 7},
	{"emerg", 0}, {"error", 3}, {"info", 6}, {"notice", 5}, {"panic", 0}, {"warning", 4}};

/* REJECT names per family, in the kernel's code order (prefix match, first wins). */
struct reject_name {
	const char *name, *alias;
	uint8_t code;
};
static const struct reject_name reject4[] = {
	{"icmp-net-unreachable", "net-unreach", RULES_RJ_NET_UNREACH},
	{"icmp-host-unreachable", "host-unreach", RULES_RJ_HOST_UNREACH},
	{"icmp-proto-unreachable", "proto-unreach", RULES_RJ_PROTO_UNREACH},
	{"icmp-port-unreachable", "port-unreach", RULES_RJ_PORT_UNREACH},
	{"icmp-net-prohibited", "net-prohib", RULES_RJ_NET_PROHIB},
	{"icmp-host-prohibited", "host-prohib", RULES_RJ_HOST_PROHIB},
	{"tcp-reset", "tcp-rst", RULES_RJ_TCP_RESET},
	{"icmp-admin-prohibited", "admin-prohib", RULES_RJ_ADMIN_PROHIB},
};
static const struct reject_name reject6[] = {
	{"icmp6-no-route", "no-route", RULES_RJ6_NO_ROUTE},
	{"icmp6-adm-prohibited", "adm-prohibited", RULES_RJ6_ADM_PROHIB},
	{"icmp6-addr-unreachable", "addr-unreach", RULES_RJ6_ADDR_UNREACH},
	{"icmp6-port-unreachable", "port-unreach", RULES_RJ6_PORT_UNREACH},
	{"tcp-reset", "tcp-reset", RULES_RJ_TCP_RESET},
	{"icmp6-policy-fail", "policy-fail", RULES_RJ6_POLICY_FAIL},
	{"icmp6-reject-route", "reject-route", RULES_RJ6_REJECT_ROUTE},
};

/* ---- value parsers ---- */

/* A number at the start of s (base 0 as strtoul); *end after it. */
static bool uint_prefix(const char *s, uint64_t max, uint64_t *v, const char **end)
{
	size_t n = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		for (n = 2; isxdigit((unsigned char)s[n]); n++)
			;
	else
		for (; isdigit((unsigned char)s[n]); n++)
			;
	if (n == 0 || n > 24)
		return false;
	char tmp[32];
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!rules_parse_uint(tmp, max, v))
		return false;
	*end = s + n;
	return true;
}

static int bad(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, const char *what)
{
	return rules_errf(pc->pe, pc->col, "invalid value \"%s\" for --%s%s%s", arg, o->name,
		what ? ": " : "", what ? what : "");
}

static int parse_uint_opt(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	uint32_t *out)
{
	uint64_t v;
	uint64_t max = o->max ? o->max : UINT32_MAX;
	if (!rules_parse_uint(arg, max, &v) || v < o->min) {
		return rules_errf(pc->pe, pc->col, "invalid value \"%s\" for --%s (%u-%llu)", arg, o->name,
			o->min, (unsigned long long)max);
	}
	*out = (uint32_t)v;
	return 0;
}

static const char *proto_str(const struct rules_rule *r)
{
	return r->proto == 6 ? "tcp" : r->proto == 17 ? "udp" : r->proto == 132 ? "sctp" :
		r->proto == 33 ? "dccp" : r->proto == 136 ? "udplite" : NULL;
}

static int parse_prange(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_prange *p)
{
	char buf[128];
	size_t n = strlen(arg);
	if (n >= sizeof(buf))
		return bad(pc, o, arg, "too long");
	memcpy(buf, arg, n + 1);
	char *colon = strchr(buf, ':');
	const char *pn = proto_str(pc->r);
	if (!colon) {
		if (!rules_parse_port(buf, pn, &p->lo))
			return bad(pc, o, arg, "invalid port/service");
		p->hi = p->lo;
		return 0;
	}
	*colon = '\0';
	p->lo = 0;
	p->hi = 0xFFFF;
	if (buf[0] && !rules_parse_port(buf, pn, &p->lo))
		return bad(pc, o, arg, "invalid port/service");
	if (colon[1] && !rules_parse_port(colon + 1, pn, &p->hi))
		return bad(pc, o, arg, "invalid port/service");
	if (p->lo > p->hi)
		return bad(pc, o, arg, "invalid port range (min > max)");
	return 0;
}

static int parse_ctports(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_prange *p)
{
	char buf[128];
	size_t n = strlen(arg);
	if (n >= sizeof(buf))
		return bad(pc, o, arg, "too long");
	memcpy(buf, arg, n + 1);
	char *colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (strchr(colon + 1, ':'))
			return bad(pc, o, arg, "too many components (max: 2)");
	}
	uint16_t v[2] = {0, 0xFFFF};
	if (buf[0] && !rules_parse_port_gai(buf, &v[0]))
		return bad(pc, o, arg, "port does not resolve to anything");
	if (colon && colon[1] && !rules_parse_port_gai(colon + 1, &v[1]))
		return bad(pc, o, arg, "port does not resolve to anything");
	p->lo = v[0];
	p->hi = colon ? v[1] : v[0];
	return 0;
}

static int parse_mint(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	uint64_t max, uint64_t out[2])
{
	const char *colon = strchr(arg, ':');
	char a[32], b[32];
	size_t la = colon ? (size_t)(colon - arg) : strlen(arg);
	if (la >= sizeof(a) || (colon && strlen(colon + 1) >= sizeof(b)))
		return bad(pc, o, arg, "too long");
	memcpy(a, arg, la);
	a[la] = '\0';
	if (colon && strchr(colon + 1, ':'))
		return bad(pc, o, arg, "too many components (max: 2)");
	out[0] = 0;
	out[1] = max;
	if (la && !rules_parse_uint(a, max, &out[0]))
		return rules_errf(pc->pe, pc->col, "invalid value \"%s\" for --%s (0-%llu)", arg, o->name,
			(unsigned long long)max);
	if (!colon) {
		if (!la)
			return bad(pc, o, arg, NULL);
		out[1] = out[0];
		return 0;
	}
	snprintf(b, sizeof(b), "%s", colon + 1);
	if (b[0] && !rules_parse_uint(b, max, &out[1]))
		return rules_errf(pc->pe, pc->col, "invalid value \"%s\" for --%s (0-%llu)", arg, o->name,
			(unsigned long long)max);
	return 0;
}

static int parse_icmp(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, bool v6,
	struct rules_m_icmp *ic)
{
	const struct icmp_name *t = v6 ? icmp6_names : icmp4_names;
	size_t n = v6 ? RULES_ARRAY_SIZE(icmp6_names) : RULES_ARRAY_SIZE(icmp4_names);
	size_t len = strlen(arg), match = n;
	const char *what = v6 ? "ICMPv6" : "ICMP";

	for (size_t i = 0; len && i < n; i++) {
		if (strncasecmp(t[i].name, arg, len))
			continue;
		if (match != n)
			return rules_errf(pc->pe, pc->col, "ambiguous %s type \"%s\": \"%s\" or \"%s\"?",
				what, arg, t[match].name, t[i].name);
		match = i;
	}
	if (match < n) {
		ic->type = t[match].type;
		ic->code_lo = t[match].lo;
		ic->code_hi = t[match].hi;
		return 0;
	}
	uint64_t ty[2], co[2] = {0, 255};
	const char *end;
	if (!uint_prefix(arg, 255, &ty[0], &end))
		goto unknown;
	ty[1] = ty[0];
	if (*end == ':' && !uint_prefix(end + 1, 255, &ty[1], &end))
		goto unknown;
	if (*end == '/') {
		if (!uint_prefix(end + 1, 255, &co[0], &end))
			goto unknown;
		co[1] = co[0];
		if (*end == ':' && !uint_prefix(end + 1, 255, &co[1], &end))
			goto unknown;
	}
	if (*end)
		goto unknown;
	if (ty[0] != ty[1])
		return rules_errf(pc->pe, pc->col, "%s type range not supported", what);
	ic->type = (uint8_t)ty[0];
	ic->code_lo = (uint8_t)co[0];
	ic->code_hi = (uint8_t)co[1];
	return 0;
unknown:
	return rules_errf(pc->pe, pc->col, "unknown %s type \"%s\"", what, arg);
}

static int parse_mports(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_m_mport *m)
{
	char buf[512];
	size_t n = strlen(arg);
	if (n == 0 || n >= sizeof(buf))
		return bad(pc, o, arg, n ? "too long" : NULL);
	memcpy(buf, arg, n + 1);
	memset(m, 0, sizeof(*m));
	const char *pn = proto_str(pc->r);
	char *cp = buf;
	while (cp) {
		char *next = strchr(cp, ',');
		if (next)
			*next++ = '\0';
		char *range = strchr(cp, ':');
		if (range)
			*range++ = '\0';
		if (m->n + (range ? 2 : 1) > RULES_MPORTS_MAX)
			return bad(pc, o, arg, "too many ports specified (15 at most, a range counts as two)");
		uint16_t lo, hi;
		if (!rules_parse_port(cp, pn, &lo) || (range && !rules_parse_port(range, pn, &hi)))
			return bad(pc, o, arg, "invalid port/service");
		if (range) {
			if (lo >= hi)
				return bad(pc, o, arg, "invalid port range");
			m->range |= (uint16_t)(1u << m->n);
			m->port[m->n++] = lo;
			m->port[m->n++] = hi;
		} else {
			m->port[m->n++] = lo;
		}
		cp = next;
	}
	return 0;
}

/* The family an address argument is parsed with; narrows a dual-family rule. */
static int addr_family(struct rules_pctx *pc, const char *arg, int *fam)
{
	int f = rules_addr_fam(arg);
	if (pc->r->fam == RULES_F_ALL) {
		pc->r->fam = (uint8_t)f;
	} else if (!(pc->r->fam & f)) {
		return rules_errf(pc->pe, pc->col, "%s address \"%s\" in an %s rule",
			f == RULES_F_V6 ? "IPv6" : "IPv4", arg, f == RULES_F_V6 ? "IPv4" : "IPv6");
	}
	*fam = pc->r->fam;
	return 0;
}

static int parse_iprange(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_addr *lohi)
{
	char buf[128];
	int fam = RULES_F_V4, rc;
	size_t n = strlen(arg);
	if (n >= sizeof(buf))
		return bad(pc, o, arg, "too long");
	if ((rc = addr_family(pc, arg, &fam)) < 0)
		return rc;
	memcpy(buf, arg, n + 1);
	char *dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	if (!rules_parse_addr(fam, buf, &lohi[0]) || !rules_parse_addr(fam, dash ? dash : buf, &lohi[1]))
		return bad(pc, o, arg, "numeric address or address-address expected");
	return 0;
}

static int parse_mac(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, uint8_t *mac)
{
	const char *p = arg;
	for (int i = 0; i < 6; i++) {
		int n = 0;
		unsigned v = 0;
		while (isxdigit((unsigned char)p[n]) && n < 3) {
			v = v * 16 + (unsigned)(isdigit((unsigned char)p[n]) ? p[n] - '0' :
								tolower((unsigned char)p[n]) - 'a' + 10);
			n++;
		}
		if (n == 0 || n > 2 || p[n] != (i == 5 ? '\0' : ':'))
			return rules_errf(pc->pe, pc->col, "invalid MAC address \"%s\"", arg);
		mac[i] = (uint8_t)v;
		p += n + 1;
	}
	return 0;
}

static int parse_valmask(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	uint64_t max, uint32_t *val, uint32_t *mask, bool *has_mask)
{
	uint64_t v, m = max;
	const char *end;
	*has_mask = false;
	if (!uint_prefix(arg, max, &v, &end))
		return bad(pc, o, arg, NULL);
	if (*end == '/') {
		*has_mask = true;
		if (!uint_prefix(end + 1, max, &m, &end))
			return bad(pc, o, arg, NULL);
	}
	if (*end)
		return bad(pc, o, arg, "trailing garbage");
	*val = (uint32_t)v;
	*mask = (uint32_t)m;
	return 0;
}

static int parse_tos(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	uint8_t *value, uint8_t *mask)
{
	if (isdigit((unsigned char)arg[0])) {
		uint32_t v, m;
		bool hm;
		int rc = parse_valmask(pc, o, arg, 0xFF, &v, &m, &hm);
		if (rc < 0)
			return rc;
		*value = (uint8_t)v;
		*mask = (uint8_t)m;
		return 0;
	}
	for (size_t i = 0; i < RULES_ARRAY_SIZE(tos_names); i++)
		if (strcasecmp(arg, tos_names[i].name) == 0) {
			*value = (uint8_t)tos_names[i].bit;
			*mask = (uint8_t)o->max;
			return 0;
		}
	return rules_errf(pc->pe, pc->col, "symbolic TOS name \"%s\" is unknown", arg);
}

/* Comma list of names; each element is a case-insensitive prefix of a name
 * (first in table order wins), as iptables' addrtype and conntrack parse. */
static int parse_name_list(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	const char *const *names, const uint32_t *bits, size_t n, uint32_t allowed, uint32_t *out)
{
	const char *p = arg;
	*out = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		size_t i;
		if (len == 0)
			return bad(pc, o, arg, "empty element (lists have no spaces, e.g. A,B)");
		for (i = 0; i < n; i++)
			if ((allowed & BIT(i)) && len <= strlen(names[i]) && strncasecmp(p, names[i], len) == 0)
				break;
		if (i == n)
			return rules_errf(pc->pe, pc->col, "unknown value \"%.*s\" in --%s", (int)len, p,
				o->name);
		*out |= bits[i];
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int parse_string(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, char **out)
{
	size_t n = strlen(arg);
	if (n < o->min)
		return rules_errf(pc->pe, pc->col, "--%s: argument must not be empty", o->name);
	if (n > o->max)
		return rules_errf(pc->pe, pc->col, "--%s: argument too long (%zu characters, max %u)",
			o->name, n, o->max);
	for (const char *p = arg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return rules_errf(pc->pe, pc->col, "--%s: control characters are not allowed",
				o->name);
	char *s = strdup(arg);
	if (!s)
		return -ENOMEM;
	free(*out);
	*out = s;
	return 0;
}

/* An interface name as xtables_parse_interface takes it ("eth+": every
 * name starting with "eth"); empty and kernel-invalid names refused as -i
 * refuses them. */
int rules_parse_ifname(struct rules_perr *pe, int col, const char *arg, char *name, bool *wild)
{
	size_t n = strlen(arg);
	if (n == 0)
		return rules_errf(pe, col, "empty interface is likely to be undesired");
	if (n > RULES_IFNAME_MAX)
		return rules_errf(pe, col, "interface name \"%s\" must be shorter than IFNAMSIZ (%d)", arg,
			RULES_IFNAME_MAX);
	for (const char *p = arg; *p; p++)
		if (*p == '/' || isspace((unsigned char)*p) || !isprint((unsigned char)*p) || *p == '"' ||
		    *p == '\'' || *p == '\\')
			return rules_errf(pe, col, "invalid character in interface name \"%s\"", arg);
	*wild = arg[n - 1] == '+';
	memset(name, 0, RULES_IFNAME_MAX + 1);
	memcpy(name, arg, n - *wild);
	return 0;
}

/* ipv6header's header names, in its print order (libip6t_ipv6header):
 * the name printed, the short one, the protocol number (the exact
 * decimal string) and the other names /etc/protocols gives it, all
 * accepted as written (getprotobyname is case-sensitive) */
static const struct {
	const char *name, *alias, *num, *proto[4];
	uint8_t bit;
} ip6hdr_names[] = {
	{"hop-by-hop", "hop", "0", {"ip", "IP", "hopopt", "HOPOPT"}, RULES_IH_HOP},
	{"ipv6-opts", "dst", "60", {"IPv6-Opts"}, RULES_IH_DST},
	{"ipv6-route", "route", "43", {"IPv6-Route"}, RULES_IH_ROUTE},
	{"ipv6-frag", "frag", "44", {"IPv6-Frag"}, RULES_IH_FRAG},
	{"ah", "auth", "51", {"IPSEC-AH"}, RULES_IH_AH},
	{"esp", "esp", "50", {"IPSEC-ESP"}, RULES_IH_ESP},
	{"ipv6-nonxt", "none", "59", {"IPv6-NoNxt"}, RULES_IH_NONE},
	{"protocol", "prot", "255", {NULL}, RULES_IH_PROTO},
};

static int parse_ip6hdrs(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, uint8_t *out)
{
	char buf[256];
	if (strlen(arg) >= sizeof(buf))
		return bad(pc, o, arg, "too long");
	snprintf(buf, sizeof(buf), "%s", arg);
	uint8_t m = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i, n = RULES_ARRAY_SIZE(ip6hdr_names);
		for (i = 0; i < n; i++) {
			bool hit = strcmp(t, ip6hdr_names[i].name) == 0 ||
				strcmp(t, ip6hdr_names[i].alias) == 0 || strcmp(t, ip6hdr_names[i].num) == 0;
			for (size_t j = 0; !hit && j < 4 && ip6hdr_names[i].proto[j]; j++)
				hit = strcmp(t, ip6hdr_names[i].proto[j]) == 0;
			if (hit)
				break;
		}
		if (i == n)
			return rules_errf(pc->pe, pc->col, "unknown header \"%s\" specified", t);
		m |= ip6hdr_names[i].bit;
	}
	if (!m)
		return rules_errf(pc->pe, pc->col, "ip6t_ipv6header: cannot parse header names");
	*out = m;
	return 0;
}

/* hbh/dst options as libip6t_hbh's parse_options: "type[:length],...",
 * numbers in C notation cut to 8 bits, at most 16 */
static int parse_opt_num(struct rules_pctx *pc, const char *what, const char *s, uint16_t *v)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(s, &end, 0);
	if (end == s)
		return rules_errf(pc->pe, pc->col, "no valid digits in %s \"%s\"", what, s);
	if (errno == ERANGE)
		return rules_errf(pc->pe, pc->col, "%s \"%s\" specified too big: would overflow", what, s);
	if (*end != '\0')
		return rules_errf(pc->pe, pc->col, "error parsing %s \"%s\"", what, s);
	*v = (uint16_t)(n & 0xFF);
	return 0;
}

static int parse_ip6opts(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_m_ip6ext *e)
{
	char buf[512];
	if (strlen(arg) >= sizeof(buf))
		return bad(pc, o, arg, "too long");
	snprintf(buf, sizeof(buf), "%s", arg);
	unsigned i = 0;
	char *cp = buf, *next;
	for (; cp && i < RULES_IP6_OPTS_MAX; cp = next, i++) {
		next = strchr(cp, ',');
		if (next)
			*next++ = '\0';
		char *range = strchr(cp, ':');
		if (range) {
			if (i == RULES_IP6_OPTS_MAX - 1)
				return rules_errf(pc->pe, pc->col, "--%s: too many options specified (max %u)",
					o->name, RULES_IP6_OPTS_MAX);
			*range++ = '\0';
		}
		uint16_t t, l = 0xFF;
		int rc = parse_opt_num(pc, "opt", cp, &t);
		if (rc < 0)
			return rc;
		if (range) {
			if (t == 0)
				return rules_errf(pc->pe, pc->col, "PAD0 has not got length");
			if ((rc = parse_opt_num(pc, "length", range, &l)) < 0)
				return rc;
		}
		e->opts[i] = (uint16_t)(t << 8 | l);
	}
	if (cp)
		return rules_errf(pc->pe, pc->col, "--%s: too many options specified (max %u)", o->name,
			RULES_IP6_OPTS_MAX);
	e->n_opts = (uint8_t)i;
	return 0;
}

/* rt --rt-0-addrs: up to 16 IPv6 addresses, no prefixes */
static int parse_ip6addrs(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	uint8_t **out)
{
	char buf[RULES_IP6_RT_ADDRS * 48];
	uint8_t a[1 + RULES_IP6_RT_ADDRS * 16];
	if (strlen(arg) >= sizeof(buf))
		return rules_errf(pc->pe, pc->col, "too many addresses specified");
	snprintf(buf, sizeof(buf), "%s", arg);
	unsigned n = 0;
	char *cp = buf, *next;
	for (; cp; cp = next) {
		next = strchr(cp, ',');
		if (next)
			*next++ = '\0';
		if (n == RULES_IP6_RT_ADDRS)
			return rules_errf(pc->pe, pc->col, "too many addresses specified");
		if (inet_pton(AF_INET6, cp, a + 1 + 16 * n) != 1)
			return rules_errf(pc->pe, pc->col, "bad address: %s", cp);
		n++;
	}
	(void)o;
	a[0] = (uint8_t)n;
	uint8_t *c = malloc(1 + 16u * n);
	if (!c)
		return -ENOMEM;
	memcpy(c, a, 1 + 16u * n);
	free(*out);
	*out = c;
	return 0;
}

/* libxt_sctp's chunk names, in its order (its flag records keep the
 * index into this table, not the chunk type: an I_DATA flag applies to
 * type 15, as with iptables) */
static const struct {
	const char *name;
	uint8_t type;
	char flags[9]; /* the flag letters, bit 7 first */
} sctp_chunks[] = {
	{"DATA", 0, "----IUBE"}, {"INIT", 1, "--------"}, {"INIT_ACK", 2, "--------"},
	{"SACK", 3, "--------"}, {"HEARTBEAT", 4, "--------"}, {"HEARTBEAT_ACK", 5, "--------"},
	{"ABORT", 6, "-------T"}, {"SHUTDOWN", 7, "--------"}, {"SHUTDOWN_ACK", 8, "--------"},
	{"ERROR", 9, "--------"}, {"COOKIE_ECHO", 10, "--------"}, {"COOKIE_ACK", 11, "--------"},
	{"ECN_ECNE", 12, "--------"}, {"ECN_CWR", 13, "--------"},
	{"SHUTDOWN_COMPLETE", 14, "-------T"}, {"I_DATA", 64, "----IUBE"},
	{"RE_CONFIG", 130, "--------"}, {"PAD", 132, "--------"}, {"ASCONF", 193, "--------"},
	{"ASCONF_ACK", 128, "--------"}, {"FORWARD_TSN", 192, "--------"},
	{"I_FORWARD_TSN", 194, "--------"},
};

static int parse_sctpchunks(struct rules_pctx *pc, const char *const *args, const int *cols,
	struct rules_m_sctp *m)
{
	const char *mode = args[0];
	if (strcasecmp(mode, "any") == 0)
		m->mode = RULES_SCTP_ANY;
	else if (strcasecmp(mode, "all") == 0)
		m->mode = RULES_SCTP_ALL;
	else if (strcasecmp(mode, "only") == 0)
		m->mode = RULES_SCTP_ONLY;
	else
		return rules_errf(pc->pe, cols ? cols[0] : pc->col,
			"Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\"");
	int col = cols ? cols[1] : pc->col;
	memset(m->map, 0, sizeof(m->map));
	m->n_flags = 0;
	if (strcasecmp(args[1], "ALL") == 0) {
		memset(m->map, 0xff, sizeof(m->map));
		return 0;
	}
	if (strcasecmp(args[1], "NONE") == 0)
		return 0;
	char buf[512];
	if (strlen(args[1]) >= sizeof(buf))
		return rules_errf(pc->pe, col, "--chunk-types: too long");
	snprintf(buf, sizeof(buf), "%s", args[1]);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *fl = strchr(t, ':');
		if (fl)
			*fl++ = '\0';
		size_t i, n = RULES_ARRAY_SIZE(sctp_chunks);
		for (i = 0; i < n && strcasecmp(sctp_chunks[i].name, t) != 0; i++)
			;
		if (i == n)
			return rules_errf(pc->pe, col, "Unknown sctp chunk \"%s\"", t);
		m->map[sctp_chunks[i].type / 32] |= 1u << (sctp_chunks[i].type % 32);
		for (; fl && *fl; fl++) {
			const char *at = strchr(sctp_chunks[i].flags, toupper((unsigned char)*fl));
			if (at == NULL) /* ('-' is a letter too, for the unnamed bits) */
				return rules_errf(pc->pe, col, "Invalid flags for chunk type %zu", i);
			uint8_t bit = (uint8_t)(1u << (7 - (at - sctp_chunks[i].flags)));
			unsigned k;
			for (k = 0; k < m->n_flags && m->flags[k].type != i; k++)
				;
			if (k == m->n_flags) {
				if (m->n_flags == RULES_SCTP_FLAGS)
					return rules_errf(pc->pe, col,
						"--chunk-types: flags for at most %u chunk types",
						RULES_SCTP_FLAGS);
				m->flags[k].type = (uint8_t)i;
				m->flags[k].flag = m->flags[k].mask = 0;
				m->n_flags++;
			}
			m->flags[k].mask |= bit;
			if (isupper((unsigned char)*fl))
				m->flags[k].flag |= bit;
		}
	}
	return 0;
}

void rules_sctp_chunks_print(struct rules_buf *b, const struct rules_m_sctp *m, bool numeric)
{
	rbuf_puts(b, m->mode == RULES_SCTP_ALL ? " all" : m->mode == RULES_SCTP_ONLY ? " only" : " any");
	bool none = true, all = true;
	for (unsigned i = 0; i < 8; i++) {
		none &= m->map[i] == 0;
		all &= m->map[i] == UINT32_MAX;
	}
	if (none || all) {
		rbuf_puts(b, none ? " NONE" : " ALL");
		return;
	}
	const char *sep = " ";
	for (unsigned t = 0; t < 256; t++) {
		if (!(m->map[t / 32] & (1u << (t % 32))))
			continue;
		rbuf_puts(b, sep);
		sep = ",";
		const char *name = NULL;
		for (size_t i = 0; i < RULES_ARRAY_SIZE(sctp_chunks); i++)
			if (sctp_chunks[i].type == t)
				name = sctp_chunks[i].name;
		if (numeric || name == NULL)
			rbuf_printf(b, "0x%04X", t);
		else
			rbuf_puts(b, name);
		/* libxt_sctp looks the flags up by the chunk type where it
		 * stored the name's index: only DATA, ABORT and
		 * SHUTDOWN_COMPLETE (index = type) show theirs */
		for (unsigned k = 0; k < m->n_flags; k++) {
			if (m->flags[k].type != t || !m->flags[k].mask || t >= RULES_ARRAY_SIZE(sctp_chunks))
				continue;
			rbuf_putc(b, ':');
			for (int bit = 7; bit >= 0; bit--)
				if (m->flags[k].mask & (1u << bit)) {
					char c = sctp_chunks[t].flags[7 - bit];
					rbuf_putc(b, (m->flags[k].flag & (1u << bit)) ? c :
											(char)tolower((unsigned char)c));
				}
		}
	}
}

/* -m u32's tests, as libxt_u32's u32_parse reads them: "location=ranges"
 * joined by "&&"; a location is a number, then "&", "<<", ">>" or "@"
 * and a number, again; ranges "a[:b]" joined by ","; numbers in C
 * notation up to 2^32-1; blanks anywhere between. */
static int u32_number(struct rules_pctx *pc, const char **s, unsigned pos, uint32_t *v)
{
	const char *p = *s;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+') /* strtoumax's sign; a '-' is refused */
		p++;
	if (!isdigit((unsigned char)*p))
		return rules_errf(pc->pe, pc->col, "u32: at char %u: not a number or out of range", pos);
	char *end;
	errno = 0;
	unsigned long long n = strtoull(p, &end, 0);
	if (end == p || errno == ERANGE || n > UINT32_MAX)
		return rules_errf(pc->pe, pc->col, "u32: at char %u: not a number or out of range", pos);
	*v = (uint32_t)n;
	*s = end;
	return 0;
}

static int parse_u32spec(struct rules_pctx *pc, const char *arg, struct rules_u32 **out)
{
	struct rules_u32 *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	unsigned test = 0, loc = 0, val = 0;
	int state = 0, rc = 0;
	const char *a = arg;
#define AT ((unsigned)(a - arg))
#define FAIL(...) do { rc = rules_errf(pc->pe, pc->col, __VA_ARGS__); goto out; } while (0)
	for (;;) {
		struct rules_u32_test *t = &d->t[test];
		while (isspace((unsigned char)*a))
			a++;
		if (*a == '\0') {
			if (state == 0)
				FAIL("u32: abrupt end of input after location specifier");
			if (val == 0)
				FAIL("u32: test ended with no value specified");
			t->nnums = (uint8_t)loc;
			t->nvals = (uint8_t)val;
			d->ntests = (uint8_t)(test + 1);
			if (d->ntests >= RULES_U32_MAX)
				FAIL("u32: at char %u: too many \"&&\"s", AT);
			break;
		}
		if (state == 0) {
			if (*a == '=') {
				if (loc == 0)
					FAIL("u32: at char %u: location spec missing", AT);
				a++;
				state = 1;
				continue;
			}
			if (loc != 0) {
				switch (*a) {
				case '&':
					t->op[loc] = RULES_U32_AND;
					break;
				case '<':
					if (*++a != '<')
						FAIL("u32: at char %u: a second '<' was expected", AT);
					t->op[loc] = RULES_U32_LEFTSH;
					break;
				case '>':
					if (*++a != '>')
						FAIL("u32: at char %u: a second '>' was expected", AT);
					t->op[loc] = RULES_U32_RIGHTSH;
					break;
				case '@':
					t->op[loc] = RULES_U32_AT;
					break;
				default:
					FAIL("u32: at char %u: operator expected", AT);
				}
				a++;
			}
			if ((rc = u32_number(pc, &a, AT, &t->num[loc])) < 0)
				goto out;
			if (++loc >= RULES_U32_MAX)
				FAIL("u32: at char %u: too many operators", AT);
		} else if (*a == '&') {
			if (*++a != '&')
				FAIL("u32: at char %u: a second '&' was expected", AT);
			if (val == 0)
				FAIL("u32: at char %u: value spec missing", AT);
			t->nnums = (uint8_t)loc;
			t->nvals = (uint8_t)val;
			if (++test >= RULES_U32_MAX)
				FAIL("u32: at char %u: too many \"&&\"s", AT);
			a++;
			state = 0;
			loc = val = 0;
		} else {
			if (val > 0) {
				if (*a != ',')
					FAIL("u32: at char %u: expected \",\" or \"&&\"", AT);
				a++;
			}
			if ((rc = u32_number(pc, &a, AT, &t->min[val])) < 0)
				goto out;
			while (isspace((unsigned char)*a))
				a++;
			if (*a == ':') {
				a++;
				if ((rc = u32_number(pc, &a, AT, &t->max[val])) < 0)
					goto out;
			} else {
				t->max[val] = t->min[val];
			}
			if (++val >= RULES_U32_MAX)
				FAIL("u32: at char %u: too many \",\"s", AT);
		}
	}
#undef AT
#undef FAIL
	free(*out);
	*out = d;
	return 0;
out:
	free(d);
	return rc;
}

void rules_u32_print(struct rules_buf *b, const struct rules_u32 *d)
{
	static const char *const ops[] = {"&", "<<", ">>", "@"};
	rbuf_puts(b, " \"");
	for (unsigned k = 0; d && k < d->ntests && k < RULES_U32_MAX; k++) {
		const struct rules_u32_test *t = &d->t[k];
		if (k)
			rbuf_puts(b, "&&");
		rbuf_printf(b, "0x%x", t->num[0]);
		for (unsigned i = 1; i < t->nnums && i < RULES_U32_MAX; i++)
			rbuf_printf(b, "%s0x%x", ops[t->op[i] & 3], t->num[i]);
		rbuf_putc(b, '=');
		for (unsigned i = 0; i < t->nvals && i < RULES_U32_MAX; i++) {
			if (i)
				rbuf_putc(b, ',');
			if (t->min[i] == t->max[i])
				rbuf_printf(b, "0x%x", t->min[i]);
			else
				rbuf_printf(b, "0x%x:0x%x", t->min[i], t->max[i]);
		}
	}
	rbuf_putc(b, '"');
}

/* -m string's pattern: --string as it is, --hex-string with "|41 42|"
 * runs of hex bytes and "\\" escaping the next character outside them
 * (libxt_string's parse_hex_string). Stored as [length, bytes...]. */
static int parse_bytes(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, bool hex,
	uint8_t **out)
{
	uint8_t b[256];
	size_t n = 0, len = strlen(arg);
	if (!hex) {
		if (len > o->max)
			return rules_errf(pc->pe, pc->col, "STRING too long \"%s\"", arg);
		memcpy(b, arg, len);
		n = len;
	} else {
		/* libxt_string's parse_hex_string, quirks and all: a '|'
		 * toggles hex mode and the character after it is read in the
		 * same step; one space may follow a hex byte; "\\" takes the
		 * next character literally outside hex */
		bool in_hex = false;
		size_t i = 0;
		while (i < len) {
			if (n >= o->max)
				return rules_errf(pc->pe, pc->col, "STRING too long \"%s\"", arg);
			bool literal = false;
			if (arg[i] == '\\' && !in_hex)
				literal = true;
			else if (arg[i] == '\\')
				return rules_errf(pc->pe, pc->col, "Cannot include literals in hex data");
			else if (arg[i] == '|') {
				if (in_hex) {
					in_hex = false;
				} else {
					in_hex = true;
					while (arg[i + 1] == ' ')
						i++;
				}
				if (i + 1 >= len)
					break;
				i++;
			}
			if (literal) {
				if (i + 1 >= len)
					return rules_errf(pc->pe, pc->col,
						"Bad literal placement at end of string");
				b[n++] = (uint8_t)arg[i + 1];
				i += 2;
			} else if (in_hex) {
				if (i + 1 >= len)
					return rules_errf(pc->pe, pc->col, "Odd number of hex digits");
				if (i + 2 >= len)
					return rules_errf(pc->pe, pc->col, "Invalid hex block");
				if (!isxdigit((unsigned char)arg[i]) || !isxdigit((unsigned char)arg[i + 1]))
					return rules_errf(pc->pe, pc->col, "Invalid hex char '%c'",
						isxdigit((unsigned char)arg[i]) ? arg[i + 1] : arg[i]);
				char hx[3] = { arg[i], arg[i + 1], 0 };
				b[n++] = (uint8_t)strtoul(hx, NULL, 16);
				i += arg[i + 2] == ' ' ? 3 : 2;
			} else {
				b[n++] = (uint8_t)arg[i++];
			}
		}
	}
	if (n == 0)
		return rules_errf(pc->pe, pc->col, "--%s: the pattern must not be empty", o->name);
	uint8_t *p = malloc(n + 1);
	if (p == NULL)
		return -ENOMEM;
	p[0] = (uint8_t)n;
	memcpy(p + 1, b, n);
	free(*out);
	*out = p;
	return 0;
}

static int parse_set(struct rules_pctx *pc, const struct rules_opt *o, const char *const *args,
	const int *cols, struct rules_m_set *s)
{
	const char *name = args[0], *dirs = args[1];
	if (strlen(name) > RULES_SET_NAME_MAX)
		return rules_errf(pc->pe, pc->col, "set name \"%s\" too long, max %d characters", name,
			RULES_SET_NAME_MAX);
	const struct rules_set *set = rules_set_find(pc->rs, name);
	bool target = o->dflt != 0; /* -j SET's --add-set/--del-set */
	if (!set)
		return rules_errf(pc->pe, pc->col, "set %s doesn't exist", name);
	if (target && (set->type == RULES_SET_BITMAP_PORT || set->type == RULES_SET_LIST))
		return rules_errf(pc->pe, pc->col,
			"SET: set %s is a %s set: -j SET adds to and deletes from hash and bitmap:ip sets only",
			name, set->type == RULES_SET_LIST ? "list:set" : "bitmap:port");
	if (!(pc->r->fam & set->fam))
		return rules_errf(pc->pe, pc->col,
			"the protocol family of set %s is %s, which is not applicable", name,
			set->fam == RULES_F_V4 ? "IPv4" : "IPv6");
	pc->r->fam &= set->fam;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->dim = 0;
	s->dirs = 0;
	const char *p = dirs;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (s->dim == RULES_SET_DIM_MAX)
			return rules_errf(pc->pe, cols[1], "can't be more src/dst options than %d",
				RULES_SET_DIM_MAX);
		if (len == 3 && strncmp(p, "src", 3) == 0)
			s->dirs |= (uint8_t)(1u << s->dim);
		else if (!(len == 3 && strncmp(p, "dst", 3) == 0))
			return rules_errf(pc->pe, cols[1],
				"you must specify (the comma separated list of) 'src' or 'dst'");
		s->dim++;
		if (!comma)
			break;
		p = comma + 1;
	}
	/* -j SET takes fewer: the kernel's target then does nothing (its
	 * ip_set_add refuses a type mismatch at run time) */
	if (s->dim < set->dim && !target)
		return rules_errf(pc->pe, cols[1], "set %s has %u dimensions, %u src/dst given", name,
			set->dim, s->dim);
	return 0;
}

static int parse_hostmask(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_hostmask *h)
{
	int fam = RULES_F_V4, rc;
	if ((rc = addr_family(pc, arg, &fam)) < 0)
		return rc;
	/* like -s, but the address is kept unmasked (iptables prints it so) and
	 * an IPv4 address is read by getaddrinfo(), i.e. inet_aton(): "10" is
	 * 0.0.0.10 here, not 10.0.0.0 as in -s */
	int rc2 = rules_parse_prefix(pc, fam, arg, &h->addr, &h->plen);
	if (rc2 < 0 || fam != RULES_F_V4)
		return rc2;
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", arg);
	buf[strcspn(buf, "/")] = '\0';
	struct in_addr ia;
	if (inet_aton(buf, &ia) == 0)
		return rules_errf(pc->pe, pc->col, "invalid address \"%s\"", buf);
	memcpy(h->addr.b, &ia, 4);
	return 0;
}

/* A rate's unit after '/', any prefix of second, minute, hour or day (as
 * libxt_limit and libxt_hashlimit read it): its length in seconds, 0 if
 * none of them */
static uint32_t rate_unit(const char *u, size_t lu)
{
	static const struct {
		const char *name;
		uint32_t s;
	} units[] = {{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}};
	for (size_t i = 0; i < RULES_ARRAY_SIZE(units); i++)
		if (lu <= strlen(units[i].name) && strncasecmp(u, units[i].name, lu) == 0)
			return units[i].s;
	return 0;
}

static int parse_rate(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, uint32_t *avg)
{
	const char *slash = strchr(arg, '/');
	uint32_t mult = 1;
	uint64_t r;
	char num[24];
	size_t ln = slash ? (size_t)(slash - arg) : strlen(arg);
	if (ln == 0 || ln >= sizeof(num))
		return rules_errf(pc->pe, pc->col, "bad rate \"%s\"", arg);
	memcpy(num, arg, ln);
	num[ln] = '\0';
	for (size_t i = 0; i < ln; i++)
		if (!isdigit((unsigned char)num[i]))
			return rules_errf(pc->pe, pc->col, "bad rate \"%s\"", arg);
	if (!rules_parse_uint(num[0] == '0' && ln > 1 ? num + 1 : num, UINT32_MAX, &r) || r == 0)
		return rules_errf(pc->pe, pc->col, "bad rate \"%s\"", arg);
	if (slash) {
		const char *u = slash + 1;
		size_t lu = strlen(u);
		if (lu == 0)
			return rules_errf(pc->pe, pc->col, "bad rate \"%s\"", arg);
		if ((mult = rate_unit(u, lu)) == 0)
			return rules_errf(pc->pe, pc->col, "bad rate \"%s\"", arg);
	}
	uint32_t v = (uint32_t)(LIMIT_SCALE * mult / r);
	if (v == 0)
		return rules_errf(pc->pe, pc->col, "rate too fast \"%s\"", arg);
	*avg = v;
	return 0;
}

/* -m hashlimit's rate, as libxt_hashlimit reads it: "N[kb|mb|b]/s" is a
 * byte rate (atoll's number: trailing characters ignored), else
 * "N[/second|minute|hour|day]" (prefixes allowed) in microseconds per
 * packet */
static int parse_hlrate(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_hl_rate *r)
{
	const char *b = strstr(arg, "b/s");
	if (b != NULL && b != arg) {
		long long v = strtoll(arg, NULL, 10);
		if (v != 0) {
			uint64_t f = b[-1] == 'm' ? 1048576u : b[-1] == 'k' ? 1024u : 1u;
			uint64_t bytes = (uint64_t)v * f;
			uint32_t chunks = (uint32_t)(bytes >> 4);
			uint64_t cost = chunks == UINT32_MAX ? 0 : UINT32_MAX / (chunks + 1u);
			if (cost == 0)
				return rules_errf(pc->pe, pc->col, "rate too high \"%s\"", arg);
			r->avg = cost;
			r->bytes = 1;
			r->mult = 15; /* XT_HASHLIMIT_BYTE_EXPIRE */
			return 0;
		}
	}
	uint32_t mult = 1;
	const char *slash = strchr(arg, '/');
	if (slash) {
		const char *u = slash + 1;
		size_t lu = strlen(u);
		if (lu == 0)
			return bad(pc, o, arg, NULL);
		if ((mult = rate_unit(u, lu)) == 0)
			return bad(pc, o, arg, NULL);
	}
	long long v = strtoll(arg, NULL, 10);
	if (v == 0)
		return bad(pc, o, arg, NULL);
	uint64_t avg = 1000000ull * mult / (uint64_t)v; /* a negative rate: 0, too fast */
	if (avg == 0)
		return rules_errf(pc->pe, pc->col, "rate too fast \"%s\"", arg);
	r->avg = avg;
	r->bytes = 0;
	r->mult = mult;
	return 0;
}

/* --hashlimit-burst: xtables_strtoul's number (any base, trailing text
 * allowed), at most 1000000 without a suffix, "k" and "m" multiply */
static int parse_hlburst(struct rules_pctx *pc, const char *arg, uint64_t *out)
{
	const char *p = arg;
	while (isspace((unsigned char)*p))
		p++;
	char *end;
	errno = 0;
	unsigned long long v = *p == '-' ? 0 : strtoull(arg, &end, 0);
	if (*p == '-' || end == arg || errno == ERANGE || v < 1 || (*end == '\0' && v > 1000000u))
		return rules_errf(pc->pe, pc->col,
			"bad value for option \"--hashlimit-burst\", or out of range (1-1000000)");
	*out = (uint64_t)v * (*end == 'm' ? 1048576u : *end == 'k' ? 1024u : 1u);
	return 0;
}

/* --hashlimit-mode: names separated by ',' or '|' (none: no key at all) */
static int parse_hlmode(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	uint8_t *mode)
{
	static const struct {
		const char *n;
		uint8_t bit;
	} names[] = {{"dstip", RULES_HL_DIP}, {"srcip", RULES_HL_SIP}, {"srcport", RULES_HL_SPT},
		     {"dstport", RULES_HL_DPT}};
	uint8_t m = 0;
	const char *s = arg;
	while (*s) {
		size_t n = strcspn(s, ",|");
		if (n > 0) {
			size_t i = 0;
			while (i < RULES_ARRAY_SIZE(names) &&
			       !(strlen(names[i].n) == n && strncmp(names[i].n, s, n) == 0))
				i++;
			if (i == RULES_ARRAY_SIZE(names))
				return bad(pc, o, arg, "dstip, srcip, srcport, dstport");
			m |= names[i].bit;
		}
		s += n;
		if (*s)
			s++;
	}
	*mode = m;
	return 0;
}

/* libxtables' XTTYPE_PLEN: a number (any base), or a netmask, which
 * becomes its prefix length */
static int parse_plen(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, uint8_t *out)
{
	uint64_t v;
	if (rules_parse_uint(arg, 128, &v)) {
		*out = (uint8_t)v;
		return 0;
	}
	uint8_t m[16];
	unsigned n = 0;
	if (inet_pton(AF_INET, arg, m) == 1)
		n = 4;
	else if (inet_pton(AF_INET6, arg, m) == 1)
		n = 16;
	if (n == 0)
		return bad(pc, o, arg, "a prefix length or a netmask");
	unsigned plen = 0;
	while (plen < n * 8 && (m[plen / 8] & (0x80 >> (plen % 8))))
		plen++;
	for (unsigned b = plen; b < n * 8; b++)
		if (m[b / 8] & (0x80 >> (b % 8)))
			return bad(pc, o, arg, "not a prefix mask (the kernel refuses it)");
	*out = (uint8_t)plen;
	return 0;
}

static int parse_reject(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	uint8_t *with)
{
	size_t len = strlen(arg);
	int m4 = -1, m6 = -1;
	if (len == 0)
		return rules_errf(pc->pe, pc->col, "unknown reject type \"\"");
	for (size_t i = 0; m4 < 0 && i < RULES_ARRAY_SIZE(reject4); i++)
		if (strncasecmp(reject4[i].name, arg, len) == 0 || strncasecmp(reject4[i].alias, arg, len) == 0)
			m4 = reject4[i].code;
	for (size_t i = 0; m6 < 0 && i < RULES_ARRAY_SIZE(reject6); i++)
		if (strncasecmp(reject6[i].name, arg, len) == 0 || strncasecmp(reject6[i].alias, arg, len) == 0)
			m6 = reject6[i].code;
	uint8_t fam = pc->r->fam;
	if (fam == RULES_F_V4 && m4 >= 0) {
		*with = (uint8_t)m4;
		return 0;
	}
	if (fam == RULES_F_V6 && m6 >= 0) {
		*with = (uint8_t)m6;
		return 0;
	}
	if (fam == RULES_F_ALL) {
		if (m4 >= 0 && m4 == m6) {
			*with = (uint8_t)m4;
			return 0;
		}
		if (m4 >= 0 && m6 >= 0)
			return rules_errf(pc->pe, pc->col,
				"reject type \"%s\" is ambiguous in a rule for both families: use an icmp- or icmp6- name",
				arg);
		if (m4 >= 0 || m6 >= 0) {
			pc->r->fam = m4 >= 0 ? RULES_F_V4 : RULES_F_V6;
			*with = (uint8_t)(m4 >= 0 ? m4 : m6);
			return 0;
		}
	}
	return rules_errf(pc->pe, pc->col, "unknown reject type \"%s\"", arg);
}

static int parse_nat_ports(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_t_nat *n, bool base_ok)
{
	uint64_t a, b;
	const char *end;
	uint16_t port;
	n->flags |= RULES_NAT_PROTO;
	if (!uint_prefix(arg, 0xFFFF, &a, &end)) {
		if (!rules_parse_port(arg, NULL, &port))
			return rules_errf(pc->pe, pc->col, "port \"%s\" not valid", arg);
		n->port_lo = n->port_hi = port;
		return 0;
	}
	if (*end == '\0') {
		n->port_lo = n->port_hi = (uint16_t)a;
		return 0;
	}
	if (*end == ':')
		return rules_errf(pc->pe, pc->col, "invalid port:port syntax \"%s\", use a dash", arg);
	if (*end != '-')
		return rules_errf(pc->pe, pc->col, "garbage after port value \"%s\"", end);
	if (!uint_prefix(end + 1, 0xFFFF, &b, &end))
		return rules_errf(pc->pe, pc->col, "port \"%s\" not valid", arg);
	if (b < a)
		return rules_errf(pc->pe, pc->col, "port range \"%s\" is reversed", arg);
	n->port_lo = (uint16_t)a;
	n->port_hi = (uint16_t)b;
	if (*end == '\0')
		return 0;
	if (*end != '/')
		return rules_errf(pc->pe, pc->col, "garbage after port range \"%s\"", end);
	if (!base_ok)
		return rules_errf(pc->pe, pc->col, "shifted port ranges (/base) are only supported by DNAT");
	if (!rules_parse_port(end + 1, NULL, &port) || port == 0)
		return rules_errf(pc->pe, pc->col, "port \"%s\" not valid", end + 1);
	n->port_base = port;
	n->flags |= RULES_NAT_OFFSET;
	return 0;
}

static int parse_nat_range(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_t_nat *n)
{
	char buf[160];
	size_t len = strlen(arg);
	if (len == 0 || len >= sizeof(buf))
		return bad(pc, o, arg, len ? "too long" : NULL);
	memcpy(buf, arg, len + 1);
	char *start = strchr(buf, '['), *colon, *end;
	int fam = pc->r->fam;
	if (!start) {
		start = buf;
		colon = strchr(buf, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;
	} else {
		start++;
		end = strchr(start, ']');
		if (!end || pc->r->fam == RULES_F_V4)
			return bad(pc, o, arg, "invalid address format");
		*end = '\0';
		colon = strchr(end + 1, ':');
		fam = RULES_F_V6;
	}
	if (colon) {
		int rc = parse_nat_ports(pc, o, colon + 1, n, o->max == 1);
		if (rc < 0)
			return rc;
		if (colon == buf || colon == buf + 2)
			return 0;
		*colon = '\0';
	}
	if (fam == RULES_F_ALL)
		fam = rules_addr_fam(start);
	if (!(pc->r->fam & fam))
		return bad(pc, o, arg, fam == RULES_F_V6 ? "IPv6 address in an IPv4 rule" :
							  "IPv4 address in an IPv6 rule");
	pc->r->fam = (uint8_t)fam;
	n->flags |= RULES_NAT_MAP_IPS;
	char *dash = strchr(start, '-');
	if (dash)
		*dash++ = '\0';
	/* inet_pton as libxt_NAT: no short IPv4 forms here */
	int af = fam == RULES_F_V6 ? AF_INET6 : AF_INET;
	memset(&n->min, 0, sizeof(n->min));
	if (inet_pton(af, start, n->min.b) != 1)
		return rules_errf(pc->pe, pc->col, "bad IP address \"%s\"", start);
	n->max = n->min;
	if (dash && inet_pton(af, dash, n->max.b) != 1)
		return rules_errf(pc->pe, pc->col, "bad IP address \"%s\"", dash);
	return 0;
}

static int parse_netmap(struct rules_pctx *pc, const struct rules_opt *o, const char *arg,
	struct rules_t_nat *n)
{
	struct rules_hostmask h;
	int rc = parse_hostmask(pc, o, arg, &h);
	if (rc < 0)
		return rc;
	int fam = pc->r->fam;
	n->flags |= RULES_NAT_MAP_IPS;
	n->min = h.addr;
	rules_addr_mask(fam, &n->min, h.plen);
	n->max = n->min;
	unsigned bytes = fam == RULES_F_V6 ? 16 : 4;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bit = i * 8;
		uint8_t host = h.plen <= bit ? 0xFF : (h.plen - bit >= 8 ? 0 : (uint8_t)(0xFF >> (h.plen - bit)));
		n->max.b[i] |= host;
	}
	return 0;
}

static int lookup_name(const struct bit_name *t, size_t n, const char *arg, bool icase, uint32_t *v)
{
	for (size_t i = 0; i < n; i++)
		if ((icase ? strcasecmp(arg, t[i].name) : strcmp(arg, t[i].name)) == 0) {
			*v = t[i].bit;
			return 0;
		}
	return -1;
}

int rules_val_parse(struct rules_pctx *pc, struct rules_ext *x, const struct rules_opt *o,
	const char *const *args, const int *cols, int opt_col)
{
	void *f = (char *)&x->u + o->off;
	const char *arg = args ? args[0] : NULL;
	uint32_t u = 0, m = 0;
	bool hm;
	int rc = 0;

	/* libip6t_rt: the type-0 options only after "--rt-type 0", and
	 * --rt-0-not-strict only after --rt-0-addrs */
	if (x->kind == RULES_X_RT && (o->id == RULES_O_RT_RES || o->id == RULES_O_RT_ADDRS) &&
	    (!(x->present & (1u << RULES_O_RT_TYPE)) || x->u.ip6.type != 0 ||
	     (x->invert & (1u << RULES_O_RT_TYPE))))
		return rules_errf(pc->pe, opt_col, "rt: \"--rt-type 0\" required before \"--%s\"", o->name);
	if (x->kind == RULES_X_RT && o->id == RULES_O_RT_NSTRICT &&
	    !(x->present & (1u << RULES_O_RT_ADDRS)))
		return rules_errf(pc->pe, opt_col, "rt: \"--rt-0-addrs\" required before \"--%s\"", o->name);
	switch (o->type) {
	case RV_NONE:
	case RV_SYN:
		if (o->type == RV_SYN) {
			x->u.tcp.flg_mask = 0x17;
			x->u.tcp.flg_cmp = 0x02;
		}
		break;
	case RV_PORTRANGE:
	case RV_SCTPPORTS:
		rc = parse_prange(pc, o, arg, f);
		break;
	case RV_CTPORTS:
	case RV_UDPPORTS:
		rc = parse_ctports(pc, o, arg, f);
		break;
	case RV_TCPFLAGS: {
		uint32_t v[2] = {0, 0};
		for (int k = 0; k < 2; k++) {
			char buf[128];
			snprintf(buf, sizeof(buf), "%s", args[k]);
			char *save = NULL;
			for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				uint32_t bit;
				if (lookup_name(tcp_flag_names, RULES_ARRAY_SIZE(tcp_flag_names), t, true, &bit))
					return rules_errf(pc->pe, cols[k], "unknown TCP flag \"%s\"", t);
				v[k] |= bit;
			}
		}
		x->u.tcp.flg_mask = (uint8_t)v[0];
		x->u.tcp.flg_cmp = (uint8_t)v[1];
		break;
	}
	case RV_U8:
	case RV_U8HEX:
		if ((rc = parse_uint_opt(pc, o, arg, &u)) == 0)
			*(uint8_t *)f = (uint8_t)u;
		break;
	case RV_U16:
		if ((rc = parse_uint_opt(pc, o, arg, &u)) == 0)
			*(uint16_t *)f = (uint16_t)u;
		break;
	case RV_U32:
		if ((rc = parse_uint_opt(pc, o, arg, &u)) == 0)
			*(uint32_t *)f = u;
		break;
	case RV_U64: {
		/* strtoumax's leading blanks and '+', as xtables_strtoul takes them */
		const char *a = arg;
		while (isspace((unsigned char)*a))
			a++;
		if (*a == '+')
			a++;
		if (!rules_parse_uint(a, UINT64_MAX, (uint64_t *)f))
			return rules_errf(pc->pe, pc->col, "invalid value \"%s\" for --%s (0-%llu)",
				arg, o->name, (unsigned long long)UINT64_MAX);
		break;
	}
	case RV_DSCPCLASS:
		if (lookup_name(dscp_classes, RULES_ARRAY_SIZE(dscp_classes), arg, true, &u))
			return rules_errf(pc->pe, pc->col, "invalid DSCP class \"%s\"", arg);
		*(uint8_t *)f = (uint8_t)u;
		break;
	case RV_U16RANGE:
	case RV_U32RANGE: {
		uint64_t v[2];
		uint64_t max = o->type == RV_U16RANGE ? UINT16_MAX : UINT32_MAX;
		if ((rc = parse_mint(pc, o, arg, max, v)) < 0)
			return rc;
		if (o->type == RV_U16RANGE) {
			((uint16_t *)f)[0] = (uint16_t)v[0];
			((uint16_t *)f)[1] = (uint16_t)v[1];
		} else {
			((uint32_t *)f)[0] = (uint32_t)v[0];
			((uint32_t *)f)[1] = (uint32_t)v[1];
		}
		break;
	}
	case RV_ICMP4:
	case RV_ICMP6:
		rc = parse_icmp(pc, o, arg, o->type == RV_ICMP6, f);
		break;
	case RV_MPORTS:
		rc = parse_mports(pc, o, arg, f);
		break;
	case RV_IPRANGE_SRC:
	case RV_IPRANGE_DST:
		rc = parse_iprange(pc, o, arg, o->type == RV_IPRANGE_SRC ? &x->u.iprange.src_lo :
									&x->u.iprange.dst_lo);
		break;
	case RV_MAC:
		rc = parse_mac(pc, o, arg, f);
		break;
	case RV_TOSMASK:
		rc = parse_tos(pc, o, arg, &((struct rules_m_tos *)f)->value, &((struct rules_m_tos *)f)->mask);
		break;
	case RV_MARKMASK:
	case RV_XMARK:
	case RV_SETMARK:
		if ((rc = parse_valmask(pc, o, arg, UINT32_MAX, &u, &m, &hm)) < 0)
			return rc;
		((uint32_t *)f)[0] = u;
		((uint32_t *)f)[1] = o->type == RV_SETMARK ? (u | m) : m;
		break;
	case RV_ANDMARK:
	case RV_ORMARK:
	case RV_XORMARK: {
		uint64_t v;
		if (!rules_parse_uint(arg, UINT32_MAX, &v))
			return bad(pc, o, arg, NULL);
		u = (uint32_t)v;
		((uint32_t *)f)[0] = o->type == RV_ANDMARK ? 0 : u;
		((uint32_t *)f)[1] = o->type == RV_ANDMARK ? ~u : o->type == RV_ORMARK ? u : 0;
		break;
	}
	case RV_SETTOS:
		rc = parse_tos(pc, o, arg, &x->u.settos.value, &x->u.settos.mask);
		break;
	case RV_ANDTOS:
	case RV_ORTOS:
	case RV_XORTOS: {
		uint64_t v;
		if (!rules_parse_uint(arg, 0xFF, &v))
			return bad(pc, o, arg, NULL);
		uint8_t b8 = (uint8_t)v;
		x->u.settos.value = o->type == RV_ANDTOS ? 0 : b8;
		x->u.settos.mask = o->type == RV_ANDTOS ? (uint8_t)~b8 : o->type == RV_ORTOS ? b8 : 0;
		break;
	}
	case RV_PKTTYPE:
		if (lookup_name(pkttype_names, RULES_ARRAY_SIZE(pkttype_names), arg, true, &u))
			return rules_errf(pc->pe, pc->col, "bad packet type \"%s\"", arg);
		*(uint8_t *)f = (uint8_t)u;
		break;
	case RV_ADDRTYPES: {
		uint32_t bits[RULES_ARRAY_SIZE(addrtype_names)];
		for (size_t i = 0; i < RULES_ARRAY_SIZE(addrtype_names); i++)
			bits[i] = BIT(i);
		rc = parse_name_list(pc, o, arg, addrtype_names, bits, RULES_ARRAY_SIZE(addrtype_names),
			0xFFF, &u);
		if (rc == 0)
			*(uint16_t *)f = (uint16_t)u;
		break;
	}
	case RV_CTSTATES:
	case RV_CTSTATUS: {
		const struct bit_name *t = o->type == RV_CTSTATES ? ct_state_names : ct_status_names;
		size_t n = o->type == RV_CTSTATES ? RULES_ARRAY_SIZE(ct_state_names) :
						     RULES_ARRAY_SIZE(ct_status_names);
		const char *names[8];
		uint32_t bits[8], allowed = 0;
		for (size_t i = 0; i < n; i++) {
			names[i] = t[i].name;
			bits[i] = t[i].bit;
			if (o->type == RV_CTSTATUS || (t[i].bit & o->max))
				allowed |= BIT(i);
		}
		rc = parse_name_list(pc, o, arg, names, bits, n, allowed, &u);
		if (rc == 0)
			*(uint16_t *)f = (uint16_t)u;
		break;
	}
	case RV_STRING:
		rc = parse_string(pc, o, arg, (char **)f);
		break;
	case RV_IP6HDRS:
		rc = parse_ip6hdrs(pc, o, arg, f);
		break;
	case RV_U32SPEC:
		rc = parse_u32spec(pc, arg, (struct rules_u32 **)f);
		break;
	case RV_SCTPCHUNKS:
		rc = parse_sctpchunks(pc, args, cols, &x->u.sctp);
		break;
	case RV_IP6OPTS:
		rc = parse_ip6opts(pc, o, arg, &x->u.ip6);
		break;
	case RV_IP6ADDRS:
		rc = parse_ip6addrs(pc, o, arg, (uint8_t **)f);
		break;
	case RV_IFNAME: {
		bool wild;
		if ((rc = rules_parse_ifname(pc->pe, pc->col, arg, f, &wild)) == 0)
			*((uint8_t *)f + o->dflt) = wild;
		break;
	}
	case RV_BYTES:
	case RV_HEXBYTES:
		rc = parse_bytes(pc, o, arg, o->type == RV_HEXBYTES, (uint8_t **)f);
		break;
	case RV_SET:
		rc = parse_set(pc, o, args, cols, f);
		break;
	case RV_PROTO:
		if (!rules_parse_proto(arg, (uint8_t *)f))
			return rules_errf(pc->pe, pc->col, "unknown protocol \"%s\"", arg);
		break;
	case RV_HOSTMASK:
		rc = parse_hostmask(pc, o, arg, f);
		break;
	case RV_U64RANGE: {
		uint64_t v[2];
		if ((rc = parse_mint(pc, o, arg, UINT64_MAX, v)) < 0)
			return rc;
		if (strchr(arg, ':') == NULL)
			v[1] = UINT64_MAX; /* "--connbytes N": N and up */
		((uint64_t *)f)[0] = v[0];
		((uint64_t *)f)[1] = v[1];
		break;
	}
	case RV_CBDIR:
		if (strcmp(arg, "original") == 0)
			*(uint8_t *)f = RULES_CB_ORIGINAL;
		else if (strcmp(arg, "reply") == 0)
			*(uint8_t *)f = RULES_CB_REPLY;
		else if (strcmp(arg, "both") == 0)
			*(uint8_t *)f = RULES_CB_BOTH;
		else
			return rules_errf(pc->pe, pc->col,
				"unknown --connbytes-dir \"%s\" (original, reply or both)", arg);
		break;
	case RV_CBMODE:
		if (strcmp(arg, "packets") == 0)
			*(uint8_t *)f = RULES_CB_PKTS;
		else if (strcmp(arg, "bytes") == 0)
			*(uint8_t *)f = RULES_CB_BYTES;
		else if (strcmp(arg, "avgpkt") == 0)
			*(uint8_t *)f = RULES_CB_AVGPKT;
		else
			return rules_errf(pc->pe, pc->col,
				"unknown --connbytes-mode \"%s\" (packets, bytes or avgpkt)", arg);
		break;
	case RV_ADDRMASK: {
		int fam = RULES_F_V4;
		if ((rc = addr_family(pc, arg, &fam)) < 0)
			return rc;
		struct rules_addr *am = f;
		memset(am, 0, sizeof(*am));
		if (inet_pton(fam == RULES_F_V6 ? AF_INET6 : AF_INET, arg, am->b) != 1)
			return rules_errf(pc->pe, pc->col, "invalid %s \"%s\"%s",
				strcmp(o->name, "mask") == 0 ? "mask" : "address", arg,
				strcmp(o->name, "mask") == 0 ? "" :
				" (numeric addresses only, host names are refused)");
		break;
	}
	case RV_DATE:
	case RV_DAYTIME:
	case RV_MONTHDAYS:
	case RV_WEEKDAYS:
		rc = rules_time_parse(pc, o, arg, f);
		break;
	case RV_STATMODE:
		if (strcmp(arg, "random") == 0)
			*(uint8_t *)f = RULES_STAT_RANDOM;
		else if (strcmp(arg, "nth") == 0)
			*(uint8_t *)f = RULES_STAT_NTH;
		else
			return rules_errf(pc->pe, pc->col, "statistic: bad mode \"%s\" (random or nth)", arg);
		break;
	case RV_PROB: {
		char *end;
		errno = 0;
		double v = strtod(arg, &end);
		if (errno || end == arg || *end != '\0' || !(v >= 0.0 && v <= 1.0))
			return rules_errf(pc->pe, pc->col,
				"invalid value \"%s\" for --%s (a probability, 0 to 1)", arg, o->name);
		/* libxt_statistic's scale, rounded as its lround() */
		*(uint32_t *)f = (uint32_t)(2147483648.0 * v + 0.5);
		break;
	}
	case RV_EVERY:
		if ((rc = parse_uint_opt(pc, o, arg, &u)) == 0)
			*(uint32_t *)f = u - 1;
		break;
	case RV_CTDIR:
		if (strcasecmp(arg, "ORIGINAL") == 0)
			*(uint8_t *)f = 0;
		else if (strcasecmp(arg, "REPLY") == 0)
			*(uint8_t *)f = 1;
		else
			return rules_errf(pc->pe, pc->col, "unknown --ctdir \"%s\" (ORIGINAL or REPLY)", arg);
		break;
	case RV_RATE:
		rc = parse_rate(pc, o, arg, f);
		break;
	case RV_HLRATE:
		rc = parse_hlrate(pc, o, arg, f);
		break;
	case RV_HLBURST:
		rc = parse_hlburst(pc, arg, f);
		break;
	case RV_HLMODE:
		rc = parse_hlmode(pc, o, arg, f);
		break;
	case RV_PLEN:
		rc = parse_plen(pc, o, arg, f);
		break;
	case RV_LOGLEVEL: {
		uint64_t v;
		if (rules_parse_uint(arg, 7, &v))
			u = (uint32_t)v;
		else if (lookup_name(log_levels, RULES_ARRAY_SIZE(log_levels), arg, false, &u))
			return rules_errf(pc->pe, pc->col, "log level \"%s\" unknown", arg);
		*(uint8_t *)f = (uint8_t)u;
		break;
	}
	case RV_LOGFLAG:
		*(uint8_t *)f |= (uint8_t)o->dflt;
		break;
	case RV_REJECT:
		rc = parse_reject(pc, o, arg, f);
		break;
	case RV_CM_MODE:
		x->u.connmark.mode = (uint8_t)o->dflt;
		break;
	case RV_CM_MASK: {
		uint64_t v;
		if (!rules_parse_uint(arg, UINT32_MAX, &v))
			return bad(pc, o, arg, NULL);
		x->u.connmark.nfmask = x->u.connmark.ctmask = (uint32_t)v;
		break;
	}
	case RV_CM_SHIFT:
		if ((rc = parse_uint_opt(pc, o, arg, &u)) == 0) {
			x->u.connmark.shift_dir = (uint8_t)o->dflt;
			x->u.connmark.shift_bits = (uint8_t)u;
		}
		break;
	case RV_NATRANGE:
		rc = parse_nat_range(pc, o, arg, f);
		break;
	case RV_NATPORTS:
		rc = parse_nat_ports(pc, o, arg, f, false);
		break;
	case RV_NATFLAG:
		x->u.nat.flags |= (uint8_t)o->dflt;
		break;
	case RV_NETMAP:
		rc = parse_netmap(pc, o, arg, f);
		break;
	case RV_CTEVENTS: {
		/* libxt_CT's ct_parse_events: exact names, comma-separated */
		uint32_t mask = 0;
		const char *p = arg;
		for (;;) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			size_t i = 0;
			while (i < RULES_ARRAY_SIZE(ctevent_names) &&
			       !((o->max & BIT(i)) && strlen(ctevent_names[i]) == len &&
				 strncmp(p, ctevent_names[i], len) == 0))
				i++;
			if (i == RULES_ARRAY_SIZE(ctevent_names))
				return rules_errf(pc->pe, pc->col, "CT --%s: unknown event type \"%.*s\"",
					o->name, (int)len, p);
			mask |= BIT(i);
			if (!comma)
				break;
			p = comma + 1;
		}
		*(uint16_t *)f = (uint16_t)mask;
		break;
	}
	case RV_CTZONE: {
		/* libxt_CT's ct_parse_zone_id: the direction flags add up, the
		 * id is the last one given ("mark": the packet's mark) */
		struct rules_t_ct *c = f;
		uint64_t v;
		c->zone_flags |= (uint8_t)o->dflt;
		c->zone = 0;
		if (strcasecmp(arg, "mark") == 0)
			c->zone_flags |= RULES_CTZ_MARK;
		else if (!rules_parse_uint(arg, UINT16_MAX, &v))
			return rules_errf(pc->pe, pc->col, "CT: cannot parse \"%s\" as a zone ID "
				"(0-65535 or mark)", arg);
		else
			c->zone = (uint16_t)v;
		break;
	}
	default:
		return rules_errf(pc->pe, opt_col, "internal error: option type %u", o->type);
	}
	return rc;
}

/* ---- printing ---- */

/* " A,B,...": the names of v's bits (bit i: names[i]) */
static void print_name_bits(struct rules_buf *b, const char *const *names, size_t n, uint32_t v)
{
	const char *sep = " ";
	for (size_t i = 0; i < n; i++)
		if (v & BIT(i)) {
			rbuf_printf(b, "%s%s", sep, names[i]);
			sep = ",";
		}
}

const char *rules_icmp_name(int fam, uint8_t type, uint8_t code_lo, uint8_t code_hi)
{
	const struct icmp_name *t = fam == RULES_F_V6 ? icmp6_names : icmp4_names;
	size_t n = fam == RULES_F_V6 ? RULES_ARRAY_SIZE(icmp6_names) : RULES_ARRAY_SIZE(icmp4_names);
	for (size_t i = 0; i < n; i++) /* canonical names come before their aliases */
		if (t[i].type == type && t[i].lo == code_lo && t[i].hi == code_hi)
			return t[i].name;
	return NULL;
}

static void print_flags(struct rules_buf *b, uint8_t f)
{
	bool any = false;
	while (f) {
		size_t i = 0;
		while (!(f & tcp_flag_names[i].bit))
			i++;
		rbuf_printf(b, "%s%s", any ? "," : "", tcp_flag_names[i].name);
		any = true;
		f &= (uint8_t)~tcp_flag_names[i].bit;
	}
	if (!any)
		rbuf_puts(b, "NONE");
}

/* print_rate() of libxt_limit after the nft backend's round trip through
 * a (rate, unit) pair, which is what iptables-save shows. */
static void print_rate(struct rules_buf *b, uint32_t avg)
{
	static const uint32_t mult[] = {LIMIT_SCALE * 86400, LIMIT_SCALE * 3600, LIMIT_SCALE * 60,
		LIMIT_SCALE};
	static const char *const names[] = {"day", "hour", "min", "sec"};
	size_t i;
	for (i = 1; i < 4; i++)
		if (avg > mult[i] || mult[i] / avg < mult[i] % avg)
			break;
	uint64_t rate = mult[i - 1] / avg, unit = mult[i - 1] / LIMIT_SCALE;
	uint32_t period = rate ? (uint32_t)(LIMIT_SCALE * unit / rate) : 0;
	if (period == 0) {
		rbuf_puts(b, " inf");
		return;
	}
	for (i = 1; i < 4; i++)
		if (period > mult[i] || mult[i] / period < mult[i] % period)
			break;
	rbuf_printf(b, " %u/%s", mult[i - 1] / period, names[i - 1]);
}

static const char *reject_name(uint8_t with, int fam)
{
	if (with == RULES_RJ_DEFAULT)
		return fam == RULES_F_V6 ? "icmp6-port-unreachable" : "icmp-port-unreachable";
	const struct reject_name *t = fam == RULES_F_V6 ? reject6 : reject4;
	size_t n = fam == RULES_F_V6 ? RULES_ARRAY_SIZE(reject6) : RULES_ARRAY_SIZE(reject4);
	for (size_t i = 0; i < n; i++)
		if (t[i].code == with)
			return t[i].name;
	return "?";
}

static uint32_t int_value(const void *f, enum rv_type t)
{
	switch (t) {
	case RV_U16:
		return *(const uint16_t *)f;
	case RV_U32:
		return *(const uint32_t *)f;
	default:
		return *(const uint8_t *)f;
	}
}

void rules_ip6hdrs_print(struct rules_buf *b, uint8_t m)
{
	const char *sep = "";
	for (size_t i = 0; i < RULES_ARRAY_SIZE(ip6hdr_names); i++)
		if (m & ip6hdr_names[i].bit) {
			rbuf_printf(b, "%s%s", sep, ip6hdr_names[i].name);
			sep = ",";
		}
}

void rules_ip6opts_print(struct rules_buf *b, const struct rules_m_ip6ext *e)
{
	for (unsigned i = 0; i < e->n_opts && i < RULES_IP6_OPTS_MAX; i++) {
		rbuf_printf(b, "%s%u", i ? "," : "", e->opts[i] >> 8);
		if ((e->opts[i] & 0xFF) != 0xFF)
			rbuf_printf(b, ":%u", e->opts[i] & 0xFF);
	}
}

void rules_ip6addrs_print(struct rules_buf *b, const uint8_t *a)
{
	struct rules_addr ad;
	for (unsigned i = 0; a && i < a[0]; i++) {
		memcpy(ad.b, a + 1 + 16 * i, 16);
		if (i)
			rbuf_putc(b, ',');
		rbuf_addr(b, RULES_F_V6, &ad);
	}
}

bool rules_val_omit(const struct rules_ext *x, const struct rules_opt *o)
{
	const void *f = (const char *)&x->u + o->off;
	if (o->type == RV_PORTRANGE || o->type == RV_UDPPORTS) {
		const struct rules_prange *p = f;
		return p->lo == 0 && p->hi == 0xFFFF;
	}
	if (o->type == RV_TCPFLAGS)
		return x->u.tcp.flg_mask == 0;
	if (o->type == RV_U32RANGE && (o->flags & RO_OMIT_DFLT)) {
		const uint32_t *v = f; /* frag --fragid, rt --rt-segsleft */
		return v[0] == 0 && v[1] == UINT32_MAX;
	}
	if (o->flags & RO_OMIT_DFLT)
		return int_value(f, (enum rv_type)o->type) == o->dflt;
	return false;
}

void rules_val_print(struct rules_buf *b, const struct rules_ext *x, const struct rules_opt *o,
	int fam)
{
	const void *f = (const char *)&x->u + o->off;
	switch (o->type) {
	case RV_PORTRANGE:
	case RV_UDPPORTS:
	case RV_CTPORTS:
	case RV_SCTPPORTS: {
		const struct rules_prange *p = f;
		if (p->lo == p->hi)
			rbuf_printf(b, " %u", p->lo);
		else
			rbuf_printf(b, " %u:%u", p->lo, p->hi);
		break;
	}
	case RV_TCPFLAGS:
		rbuf_putc(b, ' ');
		print_flags(b, x->u.tcp.flg_mask);
		rbuf_putc(b, ' ');
		print_flags(b, x->u.tcp.flg_cmp);
		break;
	case RV_U8:
	case RV_U16:
	case RV_U32:
	case RV_LOGLEVEL:
	case RV_PROTO:
		rbuf_printf(b, " %u", int_value(f, (enum rv_type)o->type));
		break;
	case RV_U8HEX:
		rbuf_printf(b, " 0x%02x", *(const uint8_t *)f);
		break;
	case RV_U64:
		rbuf_printf(b, " %llu", (unsigned long long)*(const uint64_t *)f);
		break;
	case RV_U16RANGE: {
		const uint16_t *v = f;
		if (v[0] == v[1])
			rbuf_printf(b, " %u", v[0]);
		else
			rbuf_printf(b, " %u:%u", v[0], v[1]);
		break;
	}
	case RV_U32RANGE: {
		const uint32_t *v = f;
		if (v[0] == v[1])
			rbuf_printf(b, " %u", v[0]);
		else
			rbuf_printf(b, " %u:%u", v[0], v[1]);
		break;
	}
	case RV_ICMP4:
	case RV_ICMP6: {
		const struct rules_m_icmp *ic = f;
		if (o->type == RV_ICMP4 && ic->type == 0xFF) {
			rbuf_puts(b, " any");
			break;
		}
		rbuf_printf(b, " %u", ic->type);
		if (ic->code_lo != 0 || ic->code_hi != 0xFF)
			rbuf_printf(b, "/%u", ic->code_lo);
		break;
	}
	case RV_MPORTS: {
		const struct rules_m_mport *m = f;
		for (unsigned i = 0; i < m->n; i++) {
			rbuf_printf(b, "%s%u", i ? "," : " ", m->port[i]);
			if ((m->range & (1u << i)) && i + 1 < m->n)
				rbuf_printf(b, ":%u", m->port[++i]);
		}
		break;
	}
	case RV_IPRANGE_SRC:
	case RV_IPRANGE_DST: {
		const struct rules_addr *a = o->type == RV_IPRANGE_SRC ? &x->u.iprange.src_lo :
									   &x->u.iprange.dst_lo;
		rbuf_putc(b, ' ');
		rbuf_addr(b, fam, &a[0]);
		rbuf_putc(b, '-');
		rbuf_addr(b, fam, &a[1]);
		break;
	}
	case RV_MAC: {
		const uint8_t *m = f;
		rbuf_printf(b, " %02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		break;
	}
	case RV_TOSMASK:
	case RV_SETTOS: {
		const struct rules_m_tos *t = f;
		rbuf_printf(b, " 0x%02x/0x%02x", t->value, t->mask);
		break;
	}
	case RV_MARKMASK: {
		const struct rules_m_mark *mk = f;
		rbuf_printf(b, " 0x%x", mk->mark);
		if (mk->mask != 0xFFFFFFFF)
			rbuf_printf(b, "/0x%x", mk->mask);
		break;
	}
	case RV_XMARK: {
		const uint32_t *v = f;
		rbuf_printf(b, " 0x%x/0x%x", v[0], v[1]);
		break;
	}
	case RV_PKTTYPE:
		rbuf_printf(b, " %s", pkttype_names[*(const uint8_t *)f & 3].name);
		break;
	case RV_CTEVENTS:
		print_name_bits(b, ctevent_names, RULES_ARRAY_SIZE(ctevent_names), *(const uint16_t *)f);
		break;
	case RV_ADDRTYPES:
		print_name_bits(b, addrtype_names, RULES_ARRAY_SIZE(addrtype_names),
			*(const uint16_t *)f);
		break;
	case RV_STRING: {
		const char *s = *(char *const *)f;
		rbuf_save_string(b, s ? s : "");
		break;
	}
	case RV_IP6HDRS:
		rbuf_putc(b, ' ');
		rules_ip6hdrs_print(b, *(const uint8_t *)f);
		break;
	case RV_IP6OPTS:
		rbuf_putc(b, ' ');
		rules_ip6opts_print(b, &x->u.ip6);
		break;
	case RV_U32SPEC:
		rules_u32_print(b, *(struct rules_u32 *const *)f);
		break;
	case RV_SCTPCHUNKS:
		rules_sctp_chunks_print(b, &x->u.sctp, false);
		break;
	case RV_IP6ADDRS:
		rbuf_putc(b, ' ');
		rules_ip6addrs_print(b, *(uint8_t *const *)f);
		break;
	case RV_IFNAME:
		rbuf_printf(b, " %s%s", (const char *)f, *((const uint8_t *)f + o->dflt) ? "+" : "");
		break;
	case RV_SET: {
		const struct rules_m_set *s = f;
		rbuf_printf(b, " %s", s->name);
		for (unsigned i = 0; i < s->dim; i++)
			rbuf_printf(b, "%s%s", i ? "," : " ", (s->dirs & (1u << i)) ? "src" : "dst");
		break;
	}
	case RV_CTSTATES: {
		uint16_t v = *(const uint16_t *)f;
		const char *sep = " ";
		for (size_t i = 0; i < RULES_ARRAY_SIZE(ct_state_print); i++)
			if (v & BIT(i)) {
				rbuf_printf(b, "%s%s", sep, ct_state_print[i]);
				sep = ",";
			}
		break;
	}
	case RV_CTSTATUS: {
		uint16_t v = *(const uint16_t *)f;
		const char *sep = " ";
		for (size_t i = 1; i < RULES_ARRAY_SIZE(ct_status_names); i++)
			if (v & ct_status_names[i].bit) {
				rbuf_printf(b, "%s%s", sep, ct_status_names[i].name);
				sep = ",";
			}
		if (!v)
			rbuf_puts(b, " NONE");
		break;
	}
	case RV_HOSTMASK: {
		const struct rules_hostmask *h = f;
		rbuf_putc(b, ' ');
		rbuf_addr(b, fam, &h->addr);
		if (h->plen != (fam == RULES_F_V6 ? 128 : 32))
			rbuf_printf(b, "/%u", h->plen);
		break;
	}
	case RV_CTDIR:
		rbuf_puts(b, *(const uint8_t *)f ? " REPLY" : " ORIGINAL");
		break;
	case RV_U64RANGE: {
		const uint64_t *v = f;
		if (v[1] == UINT64_MAX)
			rbuf_printf(b, " %llu", (unsigned long long)v[0]);
		else
			rbuf_printf(b, " %llu:%llu", (unsigned long long)v[0], (unsigned long long)v[1]);
		break;
	}
	case RV_CBDIR: {
		static const char *const n[] = {"original", "reply", "both"};
		rbuf_printf(b, " %s", n[*(const uint8_t *)f % 3]);
		break;
	}
	case RV_CBMODE: {
		static const char *const n[] = {"packets", "bytes", "avgpkt"};
		rbuf_printf(b, " %s", n[*(const uint8_t *)f % 3]);
		break;
	}
	case RV_RATE:
		print_rate(b, *(const uint32_t *)f);
		break;
	case RV_REJECT:
		rbuf_printf(b, " %s", reject_name(*(const uint8_t *)f, fam));
		break;
	default:
		break;
	}
}

