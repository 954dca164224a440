/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_ipset: the named sets that `-m set --match-set` refers to, loaded
 * from `ipset save` text. Supported types: hash:ip, hash:net, hash:ip,port,
 * hash:net,port, hash:ip,port,ip, hash:ip,port,net (each IPv4 or IPv6),
 * bitmap:ip (IPv4, a range and a netmask) and bitmap:port: the ones
 * firewall rulesets and kube-proxy use for address blocklists and service
 * lists; each maps to a sorted array or bitmap in the compiled program. Timeouts are supported
 * as ipset has them: "create ... timeout N" gives a set whose entries
 * expire (N seconds by default, "add ... timeout M" for one entry, 0:
 * never); an expired entry no longer matches, is not listed and may be
 * added again; the control thread takes expired entries out from time to
 * time (rules_ipset_purge). Exceptions ("nomatch", hash:net types: the
 * most specific entry decides) and comments (a pool of strings per set)
 * are kept as ipset keeps them. Other options (counters, skbinfo,
 * forceadd, netmask) are refused with an error rather than ignored.
 *
 * Transactional like the iptables loader; control thread only.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"

#define SET_ENTRIES_MAX (1u << 24)
/* -exist on the line (or the change): no error for what is already so,
 * an add renews the entry's timeout */
#define IPSET_EXIST (1u << 8)

static const struct {
	const char *name;
	uint8_t type, dim;
} set_types[] = {
	{"hash:ip", RULES_SET_HASH_IP, 1},
	{"hash:net", RULES_SET_HASH_NET, 1},
	{"hash:ip,port", RULES_SET_HASH_IP_PORT, 2},
	{"hash:net,port", RULES_SET_HASH_NET_PORT, 2},
	{"bitmap:port", RULES_SET_BITMAP_PORT, 1},
	{"hash:ip,port,ip", RULES_SET_HASH_IP_PORT_IP, 3},
	{"hash:ip,port,net", RULES_SET_HASH_IP_PORT_NET, 3},
	{"bitmap:ip", RULES_SET_BITMAP_IP, 1},
	{"list:set", RULES_SET_LIST, 1},
};

/* ipset's bitmap types hold at most this many elements */
#define BITMAP_MAX 65536u

/* An IPv4 address, range "a-b" or prefix "a/n" into [*lo, *hi] (host
 * order): bitmap:ip's ranges and entries. */
static int parse_ip4_range(struct rules_pctx *pc, const char *s, uint32_t *lo, uint32_t *hi,
	bool entry)
{
	char buf[64];
	if (strlen(s) >= sizeof(buf))
		return rules_errf(pc->pe, pc->col, "invalid address range \"%s\"", s);
	snprintf(buf, sizeof(buf), "%s", s);
	char *dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	struct rules_addr a;
	uint8_t plen;
	int rc = rules_parse_prefix(pc, RULES_F_V4, buf, &a, &plen);
	if (rc < 0)
		return rc;
	if (entry && plen == 0) /* the kernel's !cidr */
		return rules_errf(pc->pe, pc->col, "entry \"%s\": zero prefix length", s);
	uint32_t x = rules_rd32(a.b);
	uint32_t mask = plen ? ~0u << (32 - plen) : 0;
	*lo = x & mask;
	*hi = x | ~mask;
	if (dash) {
		if (plen != 32)
			return rules_errf(pc->pe, pc->col, "invalid address range \"%s\"", s);
		if ((rc = rules_parse_prefix(pc, RULES_F_V4, dash, &a, &plen)) < 0)
			return rc;
		if (plen != 32)
			return rules_errf(pc->pe, pc->col, "invalid address range \"%s\"", s);
		uint32_t y = rules_rd32(a.b);
		*lo = x < y ? x : y; /* ipset takes a reversed range */
		*hi = x < y ? y : x;
	}
	return 0;
}

static void ip4_put(struct rules_addr *a, uint32_t x)
{
	memset(a, 0, sizeof(*a));
	rules_wr32(a->b, x);
}

/* bitmap:ip's range and netmask as the kernel's bitmap_ip_create takes
 * them: the range widened to whole blocks, at most BITMAP_MAX of them. */
static int bitmap_ip_range(struct rules_pctx *pc, struct rules_set *ns, int col)
{
	uint32_t nm = ns->netmask;
	uint32_t mask = ~0u << (32 - nm);
	uint32_t lo = ns->ip_lo & mask, hi = ns->ip_hi | ~mask;
	uint64_t count;
	if (nm == 32) {
		count = (uint64_t)hi - lo + 1;
	} else {
		/* the kernel counts the blocks of the smallest prefix holding
		 * the range, and wants the netmask longer than it */
		unsigned bits = 32;
		uint32_t m = 0xfffffffeu;
		while (--bits > 0 && m && (hi & m) != lo)
			m <<= 1;
		if ((!m && (lo || hi != ~0u)) || nm <= bits)
			return rules_errf(pc->pe, col, "netmask %u is not longer than the range's prefix /%u",
				nm, bits);
		count = 1ull << (nm - bits);
	}
	if (count > BITMAP_MAX)
		return rules_errf(pc->pe, col,
			"the range you specified exceeds the size limit of the set type (%u elements)",
			BITMAP_MAX);
	ns->ip_lo = lo;
	ns->ip_hi = hi;
	ns->maxelem = (uint32_t)count;
	return 0;
}

static struct rules_set *set_get(struct rules_ruleset *rs, const char *name)
{
	return (struct rules_set *)rules_set_find(rs, name);
}

static bool set_used(const struct rules_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_sets; i++) /* a member of a list:set */
		if (rs->sets[i].type == RULES_SET_LIST)
			for (size_t j = 0; j < rs->sets[i].n; j++) {
				char m[32];
				rules_set_member(&rs->sets[i].e[j], m);
				if (strcmp(m, name) == 0)
					return true;
			}
	for (int t = 0; t < RULES_T_COUNT; t++)
		for (size_t i = 0; i < rs->tables[t].n_chains; i++) {
			const struct rules_chain *c = &rs->tables[t].chains[i];
			for (size_t j = 0; j < c->n_rules; j++) {
				const struct rules_rule *r = &c->rules[j];
				for (unsigned m = 0; m < r->n_match; m++)
					if (r->match[m].kind == RULES_X_SET &&
					    strcmp(r->match[m].u.set.name, name) == 0)
						return true;
				const struct rules_ext *x = &r->target.ext;
				if (r->target.verdict == RULES_V_EXT && x->kind == RULES_X_SET_T &&
				    (((x->present & (1u << RULES_O_TS_ADD)) && !strcmp(x->u.tset.add.name, name)) ||
				     ((x->present & (1u << RULES_O_TS_DEL)) && !strcmp(x->u.tset.del.name, name))))
					return true;
			}
		}
	return false;
}

/* ICMP and ICMPv6 type/code pairs by the names ipset 7.17 reads and
 * prints them (ping and pong read as aliases) */
static const struct {
	uint8_t v6, type, code;
	const char *name;
} icmp_names[] = {
	{0, 0, 0, "echo-reply"}, {0, 3, 0, "network-unreachable"}, {0, 3, 1, "host-unreachable"},
	{0, 3, 2, "protocol-unreachable"}, {0, 3, 3, "port-unreachable"},
	{0, 3, 4, "fragmentation-needed"}, {0, 3, 5, "source-route-failed"},
	{0, 3, 6, "network-unknown"}, {0, 3, 7, "host-unknown"}, {0, 3, 9, "network-prohibited"},
	{0, 3, 10, "host-prohibited"}, {0, 3, 11, "TOS-network-unreachable"},
	{0, 3, 12, "TOS-host-unreachable"}, {0, 3, 13, "communication-prohibited"},
	{0, 3, 14, "host-precedence-violation"}, {0, 3, 15, "precedence-cutoff"},
	{0, 4, 0, "source-quench"}, {0, 5, 0, "network-redirect"}, {0, 5, 1, "host-redirect"},
	{0, 5, 2, "TOS-network-redirect"}, {0, 5, 3, "TOS-host-redirect"},
	{0, 8, 0, "echo-request"}, {0, 9, 0, "router-advertisement"},
	{0, 10, 0, "router-solicitation"}, {0, 11, 0, "ttl-zero-during-transit"},
	{0, 11, 1, "ttl-zero-during-reassembly"}, {0, 12, 0, "ip-header-bad"},
	{0, 12, 1, "required-option-missing"}, {0, 13, 0, "timestamp-request"},
	{0, 14, 0, "timestamp-reply"}, {0, 17, 0, "address-mask-request"},
	{0, 18, 0, "address-mask-reply"}, {0, 8, 0, "ping"}, {0, 0, 0, "pong"},
	{1, 1, 0, "no-route"}, {1, 1, 1, "communication-prohibited"},
	{1, 1, 3, "address-unreachable"}, {1, 1, 4, "port-unreachable"},
	{1, 2, 0, "packet-too-big"}, {1, 3, 0, "ttl-zero-during-transit"},
	{1, 3, 1, "ttl-zero-during-reassembly"}, {1, 4, 0, "bad-header"},
	{1, 4, 1, "unknown-header-type"}, {1, 4, 2, "unknown-option"},
	{1, 128, 0, "echo-request"}, {1, 129, 0, "echo-reply"},
	{1, 133, 0, "router-solicitation"}, {1, 134, 0, "router-advertisement"},
	{1, 135, 0, "neighbour-solicitation"}, {1, 136, 0, "neighbour-advertisement"},
	{1, 137, 0, "redirect"}, {1, 128, 0, "ping"}, {1, 129, 0, "pong"},
};

/* The "[proto:]port" part of an entry, as ipset reads it: TCP (the
 * default) and UDP ports or ranges (service names too), SCTP and
 * UDP-Lite ports, ICMP (inet) and ICMPv6 (inet6) as NAME or TYPE/CODE,
 * kept as type << 8 | code; any other protocol with the pseudo port 0.
 * fam: the set's family (RULES_F_ALL: bitmap:port, plain ports only). */
static int parse_port_part(struct rules_pctx *pc, const char *s, struct rules_set_entry *e,
	int fam)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *colon = strchr(buf, ':');
	const char *port = buf;
	e->proto = 6;
	if (colon) {
		*colon = '\0';
		if (!rules_parse_proto(buf, &e->proto) || e->proto == 0)
			return rules_errf(pc->pe, pc->col, "unknown protocol \"%s\"", buf);
		port = colon + 1;
	}
	if (e->proto == 1 || e->proto == 58) {
		bool v6 = e->proto == 58;
		if (fam != (v6 ? RULES_F_V6 : RULES_F_V4))
			return rules_errf(pc->pe, pc->col, "protocol %s can be used with family %s only",
				v6 ? "ICMPv6" : "ICMP", v6 ? "inet6" : "inet");
		for (size_t i = 0; i < RULES_ARRAY_SIZE(icmp_names); i++)
			if (icmp_names[i].v6 == v6 && strcmp(icmp_names[i].name, port) == 0) {
				e->port_lo = e->port_hi =
					(uint16_t)(icmp_names[i].type << 8 | icmp_names[i].code);
				return 0;
			}
		char *slash = strchr(port, '/');
		uint64_t t, c;
		if (slash)
			*slash++ = '\0';
		if (!slash || !rules_parse_uint(port, 255, &t) || !rules_parse_uint(slash, 255, &c))
			return rules_errf(pc->pe, pc->col, "cannot parse \"%s\" as an %s type/code", s,
				v6 ? "ICMPv6" : "ICMP");
		e->port_lo = e->port_hi = (uint16_t)(t << 8 | c);
		return 0;
	}
	char *dash = strchr(port, '-');
	if (dash)
		*dash++ = '\0';
	if (e->proto != 6 && e->proto != 17 && e->proto != 132 && e->proto != 136) {
		/* no ports: the pseudo port 0 */
		uint64_t z;
		if (dash || !rules_parse_uint(port, 0, &z))
			return rules_errf(pc->pe, pc->col,
				"protocol %s can be used with pseudo port value 0 only", buf);
		e->port_lo = e->port_hi = 0;
		return 0;
	}
	const char *pn = e->proto == 17 ? "udp" : "tcp";
	if (!rules_parse_port(port, pn, &e->port_lo) || (dash && !rules_parse_port(dash, pn, &e->port_hi)))
		return rules_errf(pc->pe, pc->col, "invalid port \"%s\"", s);
	if (!dash)
		e->port_hi = e->port_lo;
	if (e->port_hi < e->port_lo)
		return rules_errf(pc->pe, pc->col, "invalid port range \"%s\"", s);
	return 0;
}

/* ICMP(v6) "port" printed as ipset prints it: its name, else TYPE/CODE */
static void icmp_port_print(struct rules_buf *t, bool v6, uint16_t port)
{
	for (size_t i = 0; i < RULES_ARRAY_SIZE(icmp_names); i++)
		if (icmp_names[i].v6 == v6 && icmp_names[i].type == port >> 8 &&
		    icmp_names[i].code == (port & 0xff)) {
			rbuf_puts(t, icmp_names[i].name);
			return;
		}
	rbuf_printf(t, "%u/%u", port >> 8, port & 0xff);
}

static int parse_entry(struct rules_pctx *pc, struct rules_set *set, const char *s,
	struct rules_set_entry *e)
{
	char buf[160];
	memset(e, 0, sizeof(*e));
	if (strlen(s) >= sizeof(buf))
		return rules_errf(pc->pe, pc->col, "entry too long");
	snprintf(buf, sizeof(buf), "%s", s);
	if (set->type == RULES_SET_BITMAP_PORT) {
		int rc = parse_port_part(pc, buf, e, RULES_F_ALL);
		if (rc < 0)
			return rc;
		if (strchr(buf, ':'))
			return rules_errf(pc->pe, pc->col, "bitmap:port entries are plain ports");
		if (e->port_lo < set->range_lo || e->port_hi > set->range_hi)
			return rules_errf(pc->pe, pc->col, "port \"%s\" outside the set's range %u-%u", s,
				set->range_lo, set->range_hi);
		return 0;
	}
	if (set->type == RULES_SET_LIST) { /* a set's name */
		const struct rules_set *m = pc->rs ? rules_set_find(pc->rs, buf) : NULL;
		if (m == NULL)
			return rules_errf(pc->pe, pc->col,
				"set %s to be added/deleted/tested as element does not exist", buf);
		if (m->type == RULES_SET_LIST)
			return rules_errf(pc->pe, pc->col,
				"sets with list:set type cannot be added to the set");
		rules_set_member_put(e, buf);
		return 0;
	}
	if (set->type == RULES_SET_BITMAP_IP) { /* one address (ranges: bitmap_ip_each) */
		uint32_t lo, hi;
		int rc = parse_ip4_range(pc, buf, &lo, &hi, true);
		if (rc < 0)
			return rc;
		if (lo != hi)
			return rules_errf(pc->pe, pc->col, "entry \"%s\": one address here", s);
		if (lo < set->ip_lo || lo > set->ip_hi)
			return rules_errf(pc->pe, pc->col,
				"element \"%s\" is out of the range of set %s", s, set->name);
		ip4_put(&e->addr, lo & (~0u << (32 - set->netmask)));
		e->plen = set->netmask;
		return 0;
	}
	char *comma = strchr(buf, ',');
	bool with_port = rules_set_type_port(set->type), three = rules_set_type_3d(set->type);
	char *third = comma ? strchr(comma + 1, ',') : NULL;
	if (!!comma != with_port || !!third != three)
		return rules_errf(pc->pe, pc->col, "entry \"%s\" does not fit the set's type", s);
	if (comma)
		*comma++ = '\0';
	if (third)
		*third++ = '\0';
	bool net = set->type == RULES_SET_HASH_NET || set->type == RULES_SET_HASH_NET_PORT;
	if (!net && strchr(buf, '/'))
		return rules_errf(pc->pe, pc->col, "entry \"%s\": no prefixes in a %s set", s,
			rules_set_type_name(set->type));
	int rc = rules_parse_prefix(pc, set->fam, buf, &e->addr, &e->plen);
	if (rc < 0)
		return rc;
	if (net && e->plen == 0)
		return rules_errf(pc->pe, pc->col, "entry \"%s\": zero prefix length", s);
	rules_addr_mask(set->fam, &e->addr, e->plen);
	if (comma && (rc = parse_port_part(pc, comma, e, set->fam)) < 0)
		return rc;
	if (third) {
		bool net2 = set->type == RULES_SET_HASH_IP_PORT_NET;
		if (!net2 && strchr(third, '/'))
			return rules_errf(pc->pe, pc->col, "entry \"%s\": no prefixes in a %s set", s,
				rules_set_type_name(set->type));
		if ((rc = rules_parse_prefix(pc, set->fam, third, &e->addr2, &e->plen2)) < 0)
			return rc;
		if (net2 && e->plen2 == 0)
			return rules_errf(pc->pe, pc->col, "entry \"%s\": zero prefix length", s);
		rules_addr_mask(set->fam, &e->addr2, e->plen2);
	}
	return 0;
}

static int opt_uint(struct rules_pctx *pc, const char *name, const char *v, uint64_t max, uint32_t *out)
{
	uint64_t x;
	if (!v || !rules_parse_uint(v, max, &x))
		return rules_errf(pc->pe, pc->col, "invalid value for %s", name);
	*out = (uint32_t)x;
	return 0;
}

/* ipset's timeout value: 0 to 2147483 seconds, its messages */
static int opt_timeout(struct rules_pctx *pc, const char *v, uint32_t *out)
{
	uint64_t x;
	if (!v)
		return rules_errf(pc->pe, pc->col, "timeout needs a value");
	if (!rules_parse_uint(v, UINT32_MAX, &x)) {
		if (v[0] == '-' && rules_parse_uint(v + 1, UINT64_MAX, &x))
			return rules_errf(pc->pe, pc->col, "'%s' is out of range 0-%u", v,
				RULES_SET_TIMEOUT_MAX);
		return rules_errf(pc->pe, pc->col, "'%s' is invalid as number", v);
	}
	if (x > RULES_SET_TIMEOUT_MAX)
		return rules_errf(pc->pe, pc->col, "'%s' is out of range 0-%u", v, RULES_SET_TIMEOUT_MAX);
	*out = (uint32_t)x;
	return 0;
}

static int do_create(struct rules_pctx *pc, struct rules_ruleset *rs, char **tok, const int *col, int n,
	unsigned flags)
{
	const char *name = tok[1];
	size_t type = RULES_ARRAY_SIZE(set_types);
	if (n < 3)
		return rules_errf(pc->pe, col[0], "create needs a name and a type");
	if (strlen(name) > RULES_SET_NAME_MAX || !name[0] || strpbrk(name, "\"'\\,!") ||
	    name[0] == '-')
		return rules_errf(pc->pe, col[1], "invalid set name \"%s\"", name);
	for (size_t i = 0; i < RULES_ARRAY_SIZE(set_types); i++)
		if (strcmp(tok[2], set_types[i].name) == 0)
			type = i;
	if (type == RULES_ARRAY_SIZE(set_types))
		return rules_errf(pc->pe, col[2], "set type \"%s\" is not supported", tok[2]);
	struct rules_set ns = {0};
	snprintf(ns.name, sizeof(ns.name), "%s", name);
	ns.type = set_types[type].type;
	ns.dim = set_types[type].dim;
	bool list = ns.type == RULES_SET_LIST;
	ns.fam = ns.type == RULES_SET_BITMAP_PORT || list ? RULES_F_ALL : RULES_F_V4;
	ns.hashsize = 1024;
	ns.maxelem = list ? 8 : 65536; /* list:set: its size */
	ns.netmask = 32;
	bool have_range = false,
	     bitmap = ns.type == RULES_SET_BITMAP_PORT || ns.type == RULES_SET_BITMAP_IP || list;
	int col_range = col[2];
	for (int i = 3; i < n; i += 2) {
		const char *v = i + 1 < n ? tok[i + 1] : NULL;
		pc->col = i + 1 < n ? col[i + 1] : col[i];
		int rc = 0;
		if (strcmp(tok[i], "comment") == 0) { /* a flag: no value */
			ns.has_comment = 1;
			i--;
			continue;
		}
		if (strcmp(tok[i], "family") == 0 && !bitmap) {
			if (v && strcmp(v, "inet") == 0)
				ns.fam = RULES_F_V4;
			else if (v && strcmp(v, "inet6") == 0)
				ns.fam = RULES_F_V6;
			else
				rc = rules_errf(pc->pe, pc->col, "family must be inet or inet6");
		} else if (strcmp(tok[i], "hashsize") == 0 && !bitmap) {
			rc = opt_uint(pc, "hashsize", v, 1u << 30, &ns.hashsize);
		} else if (strcmp(tok[i], "maxelem") == 0 && !bitmap) {
			rc = opt_uint(pc, "maxelem", v, SET_ENTRIES_MAX, &ns.maxelem);
		} else if ((strcmp(tok[i], "bucketsize") == 0 || strcmp(tok[i], "initval") == 0) &&
			   !bitmap) {
			/* what `ipset save` writes since ipset 7.11: the kernel hash's
			 * bucket size and seed. Checked, and of no use here (a set is
			 * a sorted array): not kept, not printed */
			uint32_t ignored;
			rc = opt_uint(pc, tok[i], v, tok[i][0] == 'b' ? 255 : UINT32_MAX, &ignored);
		} else if (strcmp(tok[i], "timeout") == 0) {
			rc = opt_timeout(pc, v, &ns.timeout);
			ns.has_timeout = 1;
		} else if (strcmp(tok[i], "size") == 0 && list) {
			/* kept and printed, at least 4 as the kernel makes it; the
			 * kernel does not hold a list to it, nor does Rampart */
			rc = opt_uint(pc, "size", v, SET_ENTRIES_MAX, &ns.maxelem);
			if (rc == 0 && ns.maxelem < 4)
				ns.maxelem = 4;
		} else if (strcmp(tok[i], "range") == 0 && ns.type == RULES_SET_BITMAP_IP) {
			rc = v ? parse_ip4_range(pc, v, &ns.ip_lo, &ns.ip_hi, false) :
				 rules_errf(pc->pe, pc->col, "range needs a value");
			have_range = true;
			col_range = pc->col;
		} else if (strcmp(tok[i], "netmask") == 0 && ns.type == RULES_SET_BITMAP_IP) {
			uint32_t nm = 0;
			rc = opt_uint(pc, "netmask", v, 255, &nm);
			if (rc == 0 && (nm < 1 || nm > 32))
				rc = rules_errf(pc->pe, pc->col, "'%s' is out of range 1-32", v);
			ns.netmask = (uint8_t)nm;
		} else if (strcmp(tok[i], "range") == 0 && ns.type == RULES_SET_BITMAP_PORT) {
			struct rules_set_entry e = {0};
			rc = v ? parse_port_part(pc, v, &e, RULES_F_ALL) :
				 rules_errf(pc->pe, pc->col, "range needs a value");
			ns.range_lo = e.port_lo;
			ns.range_hi = e.port_hi;
			have_range = true;
		} else {
			rc = rules_errf(pc->pe, col[i], "set option \"%s\" is not supported", tok[i]);
		}
		if (rc < 0)
			return rc;
	}
	if (bitmap && !list && !have_range)
		return rules_errf(pc->pe, col[2], "%s needs \"range FROM-TO\"", tok[2]);
	if (ns.type == RULES_SET_BITMAP_IP) {
		int rc = bitmap_ip_range(pc, &ns, col_range);
		if (rc < 0)
			return rc;
	}
	const struct rules_set *old = set_get(rs, name);
	if (old && (flags & IPSET_EXIST) && old->type == ns.type && old->fam == ns.fam &&
	    old->has_timeout == ns.has_timeout && old->timeout == ns.timeout &&
	    old->has_comment == ns.has_comment &&
	    old->maxelem == ns.maxelem && old->hashsize == ns.hashsize &&
	    old->range_lo == ns.range_lo && old->range_hi == ns.range_hi &&
	    old->ip_lo == ns.ip_lo && old->ip_hi == ns.ip_hi && old->netmask == ns.netmask)
		return 0; /* ipset create -exist: the same set is there */
	if (old) {
		if (set_used(rs, name))
			return rules_errf(pc->pe, col[1], "set %s is in use by rules and cannot be recreated", name);
		return rules_errf(pc->pe, col[1], "set %s already exists", name);
	}
	if (rs->n_sets == rs->cap_sets) {
		size_t cap = rs->cap_sets ? rs->cap_sets * 2 : 8;
		struct rules_set *s = realloc(rs->sets, cap * sizeof(*s));
		if (!s)
			return rules_errf(pc->pe, 0, "out of memory");
		rs->sets = s;
		rs->cap_sets = cap;
	}
	size_t pos = 0;
	while (pos < rs->n_sets && strcmp(rs->sets[pos].name, name) < 0)
		pos++;
	memmove(&rs->sets[pos + 1], &rs->sets[pos], (rs->n_sets - pos) * sizeof(*rs->sets));
	rs->sets[pos] = ns;
	rs->n_sets++;
	return 0;
}

static long entry_find(const struct rules_set *set, const struct rules_set_entry *e)
{
	for (size_t i = 0; i < set->n; i++)
		if (rules_set_entry_same(&set->e[i], e))
			return (long)i;
	return -1;
}

/* The words after an add's entry: "timeout N", "nomatch", "comment STR". */
struct entry_opts {
	bool has_timeout, nomatch;
	uint32_t timeout;
	const char *comment; /* NULL: none given */
	int col_comment, col_nomatch;
	const char *ref; /* list:set: "before REF" (ref_after false) or "after REF" */
	bool ref_after;
	int col_ref;
};

/* ipset's own limit on a comment (IPSET_MAX_COMMENT_SIZE) */
#define SET_COMMENT_MAX 255

static int entry_opts(struct rules_pctx *pc, char **tok, const int *col, int n, bool add,
	struct entry_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (n < 3)
		return rules_errf(pc->pe, col[0], "%s needs a set name and an entry", add ? "add" : "del");
	for (int i = 3; i < n; i++) {
		if (add && !strcmp(tok[i], "timeout")) {
			if (o->has_timeout)
				return rules_errf(pc->pe, col[i], "timeout already specified");
			pc->col = i + 1 < n ? col[i + 1] : col[i];
			int rc = opt_timeout(pc, i + 1 < n ? tok[i + 1] : NULL, &o->timeout);
			if (rc < 0)
				return rc;
			o->has_timeout = true;
			i++;
			continue;
		}
		if (add && (!strcmp(tok[i], "before") || !strcmp(tok[i], "after"))) {
			if (o->ref)
				return rules_errf(pc->pe, col[i], "before/after already specified");
			if (i + 1 >= n)
				return rules_errf(pc->pe, col[i], "%s needs a set name", tok[i]);
			o->ref_after = tok[i][0] == 'a';
			o->ref = tok[++i];
			o->col_ref = col[i];
			if (strlen(o->ref) > RULES_SET_NAME_MAX)
				return rules_errf(pc->pe, col[i], "set name \"%s\" too long", o->ref);
			continue;
		}
		if (add && !strcmp(tok[i], "nomatch")) {
			o->nomatch = true;
			o->col_nomatch = col[i];
			continue;
		}
		if (add && !strcmp(tok[i], "comment")) {
			if (o->comment)
				return rules_errf(pc->pe, col[i], "comment already specified");
			if (i + 1 >= n)
				return rules_errf(pc->pe, col[i], "comment needs a value");
			const char *c = tok[++i];
			size_t l = strlen(c);
			o->col_comment = col[i];
			if (l >= 2 && c[0] == '"' && c[l - 1] == '"') { /* the tokenizer kept the quotes */
				tok[i][l - 1] = '\0';
				c++;
				l -= 2;
			}
			if (strchr(c, '"'))
				return rules_errf(pc->pe, col[i], "\" character is not permitted in comments");
			if (l > SET_COMMENT_MAX)
				return rules_errf(pc->pe, col[i],
					"comment is longer than the maximum allowed %u characters",
					SET_COMMENT_MAX);
			o->comment = c;
			continue;
		}
		return rules_errf(pc->pe, col[i], "entry option \"%s\" is not supported", tok[i]);
	}
	return 0;
}

/* Take out the entries marked in drop, the others keeping their order. */
static void set_drop(struct rules_set *s, const uint8_t *drop)
{
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!drop[i])
			s->e[w++] = s->e[i];
	s->n = w;
}

/* A set's elements by key, for changes of many elements (port ranges):
 * open addressing over entry indexes (-1: empty). */
struct kix {
	size_t cap;
	long *slot;
};

static void kix_put(struct kix *k, const struct rules_set *s, size_t i)
{
	size_t at = rules_set_entry_hash(&s->e[i], 0) & (k->cap - 1);
	while (k->slot[at] >= 0)
		at = (at + 1) & (k->cap - 1);
	k->slot[at] = (long)i;
}

/* room for the set's entries and `more` */
static int kix_build(struct kix *k, const struct rules_set *s, size_t more)
{
	k->cap = 16;
	while (k->cap < 2 * (s->n + more))
		k->cap <<= 1;
	k->slot = malloc(k->cap * sizeof(*k->slot));
	if (k->slot == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < k->cap; i++)
		k->slot[i] = -1;
	for (size_t i = 0; i < s->n; i++)
		kix_put(k, s, i);
	return 0;
}

static long kix_find(const struct kix *k, const struct rules_set *s, const struct rules_set_entry *e)
{
	size_t at = rules_set_entry_hash(e, 0) & (k->cap - 1);
	for (; k->slot[at] >= 0; at = (at + 1) & (k->cap - 1))
		if (rules_set_entry_same(&s->e[k->slot[at]], e))
			return k->slot[at];
	return -1;
}

/* bitmap:ip's entry spec (an address, a range or a prefix) as the kernel's
 * bitmap_ip_uadt walks it: from its first address, one step of the
 * netmask's block size at a time while within it -- the block of each
 * step (a range that starts inside a block may miss the last block it
 * reaches into, as in the kernel): *lo, and *steps of them. */
static int bitmap_ip_spec(struct rules_pctx *pc, const struct rules_set *set, const char *spec,
	uint32_t *lo, uint64_t *steps)
{
	uint32_t hi;
	int rc = parse_ip4_range(pc, spec, lo, &hi, true);
	if (rc < 0)
		return rc;
	if (*lo < set->ip_lo || hi > set->ip_hi)
		return rules_errf(pc->pe, pc->col, "element \"%s\" is out of the range of set %s", spec,
			set->name);
	uint64_t hosts = 1ull << (32u - set->netmask);
	*steps = ((uint64_t)hi - *lo) / hosts + 1;
	return 0;
}

/* the block (index from the range's start) of step k from lo */
static size_t bitmap_ip_block(const struct rules_set *set, uint32_t lo, uint64_t k)
{
	uint64_t x = (uint64_t)lo + (k << (32u - set->netmask));
	return (size_t)((x - set->ip_lo) >> (32u - set->netmask));
}

/* the set's entries by block (malloc'd; -1: none) */
static long *bitmap_ip_index(const struct rules_set *set)
{
	unsigned sh = 32u - set->netmask;
	size_t nb = ((size_t)(set->ip_hi - set->ip_lo) >> sh) + 1;
	long *at = malloc(nb * sizeof(*at));
	if (at == NULL)
		return NULL;
	for (size_t b = 0; b < nb; b++)
		at[b] = -1;
	for (size_t i = 0; i < set->n; i++) {
		uint32_t x = rules_rd32(set->e[i].addr.b);
		if (x >= set->ip_lo && ((size_t)(x - set->ip_lo) >> sh) < nb)
			at[(x - set->ip_lo) >> sh] = (long)i;
	}
	return at;
}

static int do_del(struct rules_pctx *pc, struct rules_ruleset *rs, char **tok, const int *col, int n,
	unsigned flags)
{
	struct entry_opts o;
	const int at[2] = {1, 2};
	int rc = entry_opts(pc, tok, col, n, false, &o);
	if (rc < 0)
		return rc;
	struct rules_set *set = set_get(rs, tok[at[0]]);
	if (!set)
		return rules_errf(pc->pe, col[at[0]], "set %s doesn't exist", tok[at[0]]);
	pc->col = col[at[1]];
	if (set->type == RULES_SET_BITMAP_IP) { /* each block of a range or prefix */
		uint32_t lo;
		uint64_t steps;
		uint64_t now = rules_clock_us();
		if ((rc = bitmap_ip_spec(pc, set, tok[at[1]], &lo, &steps)) < 0)
			return rc;
		long *where = bitmap_ip_index(set);
		uint8_t *gone = calloc(set->n ? set->n : 1, 1);
		if (where == NULL || gone == NULL) {
			free(where);
			free(gone);
			return rules_errf(pc->pe, 0, "out of memory");
		}
		for (uint64_t k = 0; rc == 0 && k < steps; k++) {
			long i = where[bitmap_ip_block(set, lo, k)];
			if (i >= 0 && !gone[i] && rules_set_entry_live(&set->e[i], now))
				gone[i] = 1;
			else if (!(flags & IPSET_EXIST))
				rc = rules_errf(pc->pe, col[at[1]],
					"element cannot be deleted from set %s: it's not added", set->name);
		}
		if (rc == 0) { /* compacted at the end: the indexes held till then;
				  a load's second copy of a block goes with it */
			for (size_t i = 0; i < set->n; i++) {
				long c = where[(rules_rd32(set->e[i].addr.b) - set->ip_lo) >> (32u - set->netmask)];
				gone[i] |= c >= 0 && gone[c];
			}
			set_drop(set, gone);
		}
		free(where);
		free(gone);
		return rc;
	}
	struct rules_set_entry e;
	rc = parse_entry(pc, set, tok[at[1]], &e);
	if (rc < 0)
		return rc;
	if (e.port_hi != e.port_lo) { /* a port range: each port's element */
		struct kix k = {0};
		uint8_t *gone = calloc(set->n ? set->n : 1, 1);
		uint64_t now = rules_clock_us();
		if (gone == NULL || kix_build(&k, set, 0) < 0) {
			free(gone);
			return rules_errf(pc->pe, 0, "out of memory");
		}
		for (uint32_t pt = e.port_lo; rc == 0 && pt <= e.port_hi; pt++) {
			struct rules_set_entry x = e;
			x.port_lo = x.port_hi = (uint16_t)pt;
			long i = kix_find(&k, set, &x);
			if (i >= 0 && !gone[i] && rules_set_entry_live(&set->e[i], now))
				gone[i] = 1;
			else if (!(flags & IPSET_EXIST))
				rc = rules_errf(pc->pe, col[at[1]],
					"element cannot be deleted from set %s: it's not added", set->name);
		}
		if (rc == 0) { /* a load's second copy of an element goes with it */
			for (size_t i = 0; i < set->n; i++) {
				long c = kix_find(&k, set, &set->e[i]);
				gone[i] |= c >= 0 && gone[c];
			}
			set_drop(set, gone);
		}
		free(gone);
		free(k.slot);
		return rc;
	}
	long i = entry_find(set, &e);
	if (i < 0 || !rules_set_entry_live(&set->e[i], rules_clock_us())) {
		if (flags & IPSET_EXIST)
			return 0;
		return rules_errf(pc->pe, col[at[1]],
			"element cannot be deleted from set %s: it's not added", set->name);
	}
	do { /* every copy (a load may have added the element twice) */
		if (set->type == RULES_SET_LIST) /* in order */
			memmove(&set->e[i], &set->e[i + 1], (set->n - (size_t)i - 1) * sizeof(set->e[0]));
		else
			set->e[i] = set->e[set->n - 1];
		set->n--;
	} while (!(flags & RULES_IPSET_EXCL) && (i = entry_find(set, &e)) >= 0);
	return 0;
}

static int do_flush(struct rules_pctx *pc, struct rules_ruleset *rs, char **tok, const int *col, int n)
{
	if (n != 2)
		return rules_errf(pc->pe, col[0], "flush needs a set name");
	struct rules_set *set = set_get(rs, tok[1]);
	if (!set)
		return rules_errf(pc->pe, col[1], "set %s doesn't exist", tok[1]);
	set->n = 0;
	return 0;
}

size_t rules_set_purge(struct rules_set *set, uint64_t now)
{
	size_t k = 0;
	for (size_t i = 0; i < set->n; i++)
		if (rules_set_entry_live(&set->e[i], now))
			set->e[k++] = set->e[i];
	size_t gone = set->n - k;
	set->n = k;
	return gone;
}

/* Add entry e (parsed, its options o) to set: a single change (EXCL) or
 * -exist looks for it first (where: its index, -1: absent, -2: not looked
 * up yet). */
static int add_one(struct rules_pctx *pc, struct rules_set *set, struct rules_set_entry e,
	const struct entry_opts *o, unsigned flags, int col_e, long where, bool may_purge)
{
	bool exist = (flags & IPSET_EXIST) != 0;
	uint64_t now = set->has_timeout ? rules_clock_us() : 0;
	e.exp_us = rules_set_exp(set, o->has_timeout ? o->timeout : RULES_SET_NO_TIMEOUT, now);
	e.nomatch = o->nomatch;
	/* a load (no EXCL) takes the file's lines as they come, without a
	 * scan per line (an element added again, -exist or not, is the last
	 * line's: sets_dedup); a single change looks for the entry */
	if (flags & RULES_IPSET_EXCL) {
		long i = where == -2 ? entry_find(set, &e) : where;
		if (i >= 0) {
			if (!exist && rules_set_entry_live(&set->e[i], now))
				return rules_errf(pc->pe, col_e,
					"element cannot be added to set %s: it's already added", set->name);
			/* expired, or -exist: made again, as the kernel overwrites
			 * an element's flags and extensions (its timeout, nomatch,
			 * comment: those given, else none) */
			set->e[i].exp_us = e.exp_us;
			set->e[i].nomatch = e.nomatch;
			if (rules_set_entry_set_comment(set, &set->e[i], o->comment) < 0)
				return rules_errf(pc->pe, 0, "out of memory");
			return 0;
		}
	}
	if (o->comment && o->comment[0] && rules_set_entry_set_comment(set, &e, o->comment) < 0)
		return rules_errf(pc->pe, 0, "out of memory");
	if (set->n >= set->maxelem && set->has_timeout && may_purge)
		rules_set_purge(set, now);
	if ((set->n >= set->maxelem && set->type != RULES_SET_LIST) || set->n >= SET_ENTRIES_MAX)
		return rules_errf(pc->pe, col_e, "set %s is full (maxelem %u)", set->name,
			set->maxelem);
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct rules_set_entry *ne = realloc(set->e, cap * sizeof(*ne));
		if (!ne)
			return rules_errf(pc->pe, 0, "out of memory");
		set->e = ne;
		set->cap = cap;
	}
	set->e[set->n++] = e;
	return 0;
}


/* list:set: a member, at the end or before/after another (its order is
 * the order sets are tried in) */
static int list_add(struct rules_pctx *pc, struct rules_set *set, const char *name,
	const struct entry_opts *o, unsigned flags, int col_e)
{
	struct rules_set_entry e;
	int rc = parse_entry(pc, set, name, &e);
	if (rc < 0)
		return rc;
	if (set->has_timeout) /* list_set_uadd: expired members out first */
		rules_set_purge(set, rules_clock_us());
	struct rules_set_entry r;
	memset(&r, 0, sizeof(r));
	if (o->ref) {
		rules_set_member_put(&r, o->ref);
		long i = entry_find(set, &r);
		if (i < 0 || !rules_set_entry_live(&set->e[i], rules_clock_us()))
			return rules_errf(pc->pe, o->col_ref, "set %s is not in list %s", o->ref,
				set->name);
	}

	bool fresh = entry_find(set, &e) < 0; /* appended by add_one */
	/* a list is short: always looked up (a member is there once) */
	if ((rc = add_one(pc, set, e, o, flags | RULES_IPSET_EXCL, col_e, -2, true)) < 0)
		return rc;
	long ref = o->ref ? entry_find(set, &r) : -1; /* after add_one: a purge moves entries */
	if (fresh && ref >= 0) { /* new, last: moved to its place */
		size_t to = (size_t)ref + (o->ref_after ? 1 : 0);
		struct rules_set_entry x = set->e[set->n - 1];
		memmove(&set->e[to + 1], &set->e[to], (set->n - 1 - to) * sizeof(x));
		set->e[to] = x;
	}
	return 0;
}

static int do_add(struct rules_pctx *pc, struct rules_ruleset *rs, char **tok, const int *col, int n,
	unsigned flags)
{
	struct entry_opts o;
	const int at[2] = {1, 2};
	int rc = entry_opts(pc, tok, col, n, true, &o);
	if (rc < 0)
		return rc;
	struct rules_set *set = set_get(rs, tok[at[0]]);
	if (!set)
		return rules_errf(pc->pe, col[at[0]], "set %s doesn't exist", tok[at[0]]);
	if (o.has_timeout && !set->has_timeout)
		return rules_errf(pc->pe, col[at[1]],
			"timeout cannot be used: set %s was created without timeout support", set->name);
	if (o.nomatch && !rules_set_type_nomatch(set->type))
		return rules_errf(pc->pe, o.col_nomatch, "nomatch cannot be used: set %s is of type %s",
			set->name, rules_set_type_name(set->type));
	if (o.comment && !set->has_comment)
		return rules_errf(pc->pe, o.col_comment,
			"comment cannot be used: set %s was created without comment support", set->name);
	if (o.ref && set->type != RULES_SET_LIST)
		return rules_errf(pc->pe, o.col_ref, "before/after: set %s is not a list:set", set->name);
	pc->col = col[at[1]];
	if (set->type == RULES_SET_LIST)
		return list_add(pc, set, tok[at[1]], &o, flags, col[at[1]]);
	if (set->type == RULES_SET_BITMAP_IP) {
		/* a range or a prefix: each block of the netmask it steps on */
		uint32_t lo;
		uint64_t steps;
		if ((rc = bitmap_ip_spec(pc, set, tok[at[1]], &lo, &steps)) < 0)
			return rc;
		bool scan = (flags & RULES_IPSET_EXCL) != 0; /* a load: sets_dedup's last line */
		long *where = NULL;
		if (scan) { /* expired entries out first: the indexes must hold */
			if (set->has_timeout)
				rules_set_purge(set, rules_clock_us());
			if ((where = bitmap_ip_index(set)) == NULL)
				return rules_errf(pc->pe, 0, "out of memory");
		}
		for (uint64_t k = 0; rc == 0 && k < steps; k++) {
			size_t b = bitmap_ip_block(set, lo, k);
			struct rules_set_entry e;
			memset(&e, 0, sizeof(e));
			ip4_put(&e.addr, set->ip_lo + (uint32_t)(b << (32u - set->netmask)));
			e.plen = set->netmask;
			size_t n0 = set->n;
			rc = add_one(pc, set, e, &o, flags, col[at[1]], scan ? where[b] : -1, !scan);
			if (rc == 0 && scan && set->n > n0)
				where[b] = (long)set->n - 1;
		}
		free(where);
		return rc;
	}
	struct rules_set_entry e;
	rc = parse_entry(pc, set, tok[at[1]], &e);
	if (rc < 0)
		return rc;
	if (e.port_hi == e.port_lo)
		return add_one(pc, set, e, &o, flags, col[at[1]], -2, true);
	/* a port range: one element per port, as the kernel stores them */
	bool scan = (flags & RULES_IPSET_EXCL) != 0; /* a load: sets_dedup's last line */
	struct kix k = {0};
	if (set->has_timeout)
		rules_set_purge(set, rules_clock_us()); /* the indexes below must hold */
	if (scan && kix_build(&k, set, (size_t)e.port_hi - e.port_lo + 1) < 0)
		return rules_errf(pc->pe, 0, "out of memory");
	for (uint32_t pt = e.port_lo; rc == 0 && pt <= e.port_hi; pt++) {
		struct rules_set_entry x = e;
		x.port_lo = x.port_hi = (uint16_t)pt;
		size_t n0 = set->n;
		rc = add_one(pc, set, x, &o, flags, col[at[1]], scan ? kix_find(&k, set, &x) : -1, false);
		if (rc == 0 && scan && set->n > n0)
			kix_put(&k, set, set->n - 1);
	}
	free(k.slot);
	return rc;
}

int rules_set_entry_set_comment(struct rules_set *s, struct rules_set_entry *e, const char *c)
{
	e->cmt = 0;
	if (c == NULL || c[0] == '\0')
		return 0;
	size_t l = strlen(c) + 1;
	if (s->cpool_len + l > UINT32_MAX - 1)
		return -ENOMEM;
	if (s->cpool_len + l > s->cpool_cap) {
		size_t cap = s->cpool_cap ? s->cpool_cap : 256;
		while (cap < s->cpool_len + l)
			cap *= 2;
		char *np = realloc(s->cpool, cap);
		if (np == NULL)
			return -ENOMEM;
		s->cpool = np;
		s->cpool_cap = cap;
	}
	memcpy(s->cpool + s->cpool_len, c, l);
	e->cmt = (uint32_t)s->cpool_len + 1;
	s->cpool_len += l;
	return 0;
}

int rules_set_copy(struct rules_set *dst, const struct rules_set *src)
{
	*dst = *src;
	dst->cpool = NULL;
	dst->cpool_len = dst->cpool_cap = 0;
	dst->e = malloc((src->n ? src->n : 1) * sizeof(*dst->e));
	if (dst->e == NULL) {
		dst->n = dst->cap = 0;
		return -ENOMEM;
	}
	if (src->n)
		memcpy(dst->e, src->e, src->n * sizeof(*dst->e));
	dst->cap = src->n ? src->n : 1;
	/* the comments of the entries there (what deletions left behind in
	 * src's pool is not copied) */
	for (size_t i = 0; i < dst->n; i++)
		if (dst->e[i].cmt &&
		    rules_set_entry_set_comment(dst, &dst->e[i], rules_set_entry_comment(src, &src->e[i])) < 0) {
			rules_set_release(dst);
			return -ENOMEM;
		}
	return 0;
}

void rules_set_release(struct rules_set *s)
{
	free(s->e);
	free(s->cpool);
	s->e = NULL;
	s->cpool = NULL;
	s->n = s->cap = 0;
	s->cpool_len = s->cpool_cap = 0;
}

long rules_set_append(struct rules_set *set, const struct rules_set_entry *e, size_t max)
{
	if (set->n >= max || set->n >= SET_ENTRIES_MAX)
		return -1;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct rules_set_entry *ne = realloc(set->e, cap * sizeof(*ne));
		if (!ne)
			return -1;
		set->e = ne;
		set->cap = cap;
	}
	set->e[set->n] = *e;
	return (long)set->n++;
}

long rules_ipset_keep_live(struct rules_ruleset *dst, const struct rules_ruleset *live,
	uint64_t now)
{
	long kept = 0;
	for (size_t i = 0; i < dst->n_sets; i++) {
		struct rules_set *d = &dst->sets[i];
		const struct rules_set *l = rules_set_find(live, d->name);
		if (!d->has_timeout || l == NULL || !l->has_timeout || l->type != d->type ||
		    l->has_comment != d->has_comment || l->ip_lo != d->ip_lo || l->ip_hi != d->ip_hi ||
		    l->netmask != d->netmask ||
		    l->fam != d->fam || l->range_lo != d->range_lo || l->range_hi != d->range_hi)
			continue;
		/* the new set's entries by key: those win */
		size_t cap = 16;
		while (cap < 2 * (d->n + l->n))
			cap <<= 1;
		size_t *tab = malloc(cap * sizeof(*tab));
		if (tab == NULL)
			return -ENOMEM;
		for (size_t k = 0; k < cap; k++)
			tab[k] = SIZE_MAX;
		for (size_t j = 0; j < d->n; j++) {
			size_t at = rules_set_entry_hash(&d->e[j], 0) & (cap - 1);
			while (tab[at] != SIZE_MAX)
				at = (at + 1) & (cap - 1);
			tab[at] = j;
		}
		for (size_t j = 0; j < l->n; j++) {
			const struct rules_set_entry *e = &l->e[j];
			if (!rules_set_entry_live(e, now))
				continue;
			if (d->type == RULES_SET_LIST) { /* a member the new ruleset still has */
				char m[32];
				rules_set_member(e, m);
				const struct rules_set *ms = rules_set_find(dst, m);
				if (ms == NULL || ms->type == RULES_SET_LIST)
					continue;
			}
			size_t at = rules_set_entry_hash(e, 0) & (cap - 1);
			bool there = false;
			while (tab[at] != SIZE_MAX && !there) {
				there = rules_set_entry_same(&d->e[tab[at]], e);
				at = (at + 1) & (cap - 1);
			}
			if (there)
				continue;
			if (d->n >= d->maxelem && d->type != RULES_SET_LIST)
				break; /* full: the file's entries first, then as many as fit */
			long k = rules_set_append(d, e, d->type == RULES_SET_LIST ? SIZE_MAX : d->maxelem);
			if (k < 0 || (d->e[k].cmt && rules_set_entry_set_comment(d, &d->e[k],
						rules_set_entry_comment(l, e)) < 0)) {
				free(tab);
				return -ENOMEM;
			}
			at = rules_set_entry_hash(e, 0) & (cap - 1);
			while (tab[at] != SIZE_MAX)
				at = (at + 1) & (cap - 1);
			tab[at] = (size_t)k;
			kept++;
		}
		free(tab);
	}
	return kept;
}

void rules_ipset_rebase(struct rules_ruleset *rs, uint64_t from_now, uint64_t to_now)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		for (size_t j = 0; j < rs->sets[i].n; j++) {
			uint64_t *x = &rs->sets[i].e[j].exp_us;
			if (*x == 0)
				continue;
			/* what was left, on the new clock; gone: long expired */
			*x = *x > from_now ? to_now + (*x - from_now) : 1;
		}
}

size_t rules_ipset_purge(struct rules_ruleset *rs, uint64_t now)
{
	size_t gone = 0;
	for (size_t i = 0; i < rs->n_sets; i++)
		if (rs->sets[i].has_timeout)
			gone += rules_set_purge(&rs->sets[i], now);
	return gone;
}

size_t rules_ipset_expired(const struct rules_ruleset *rs, uint64_t now, uint32_t *period_s)
{
	size_t n = 0;
	uint32_t period = 0;
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct rules_set *s = &rs->sets[i];
		if (!s->has_timeout)
			continue;
		size_t k = 0;
		for (size_t j = 0; j < s->n; j++)
			k += !rules_set_entry_live(&s->e[j], now);
		if (k == 0)
			continue;
		/* the kernel's IPSET_GC_PERIOD: a third of the timeout, 1 s to 3 min */
		uint32_t p = s->timeout / 3 ? (s->timeout / 3 < 180 ? s->timeout / 3 : 180) : 1;
		if (period == 0 || p < period)
			period = p;
		n += k;
	}
	if (period_s)
		*period_s = period;
	return n;
}

/* element order for finding duplicates: the fields rules_set_entry_same
 * compares, then the position */
static int dup_cmp(const void *a, const void *b, void *arg)
{
	const struct rules_set_entry *e = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct rules_set_entry *x = &e[i], *y = &e[j];
	int c = memcmp(x->addr.b, y->addr.b, 16);
	if (c == 0)
		c = memcmp(x->addr2.b, y->addr2.b, 16);
	if (c == 0)
		c = (int)x->plen - (int)y->plen;
	if (c == 0)
		c = (int)x->plen2 - (int)y->plen2;
	if (c == 0)
		c = (int)x->proto - (int)y->proto;
	if (c == 0)
		c = (int)x->port_lo - (int)y->port_lo;
	if (c == 0)
		c = (int)x->port_hi - (int)y->port_hi;
	if (c == 0)
		c = i < j ? -1 : i > j;
	return c;
}

/* A file's lines are taken without a scan each (a load of 100k entries
 * would be quadratic): an element added twice -- maybe once as an
 * exception, once not -- keeps its last line, as -exist would, so that
 * what it means does not hang on the compiled set's order. */
static int sets_dedup(struct rules_ruleset *rs)
{
	for (size_t k = 0; k < rs->n_sets; k++) {
		struct rules_set *s = &rs->sets[k];
		if (s->n < 2)
			continue;
		size_t *ix = malloc(s->n * sizeof(*ix));
		uint8_t *drop = calloc(s->n, 1);
		if (ix == NULL || drop == NULL) {
			free(ix);
			free(drop);
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->n; i++)
			ix[i] = i;
		qsort_r(ix, s->n, sizeof(*ix), dup_cmp, s->e);
		size_t gone = 0;
		for (size_t i = 0; i + 1 < s->n; i++)
			if (rules_set_entry_same(&s->e[ix[i]], &s->e[ix[i + 1]])) {
				drop[ix[i]] = 1; /* a later line has it */
				gone++;
			}
		if (gone)
			set_drop(s, drop);
		free(ix);
		free(drop);
	}
	return 0;
}

int rules_ipset_load(struct rules_ruleset *rs, const char *buf, size_t len, const char *name,
	char *err, size_t errlen)
{
	return rules_ipset_change(rs, buf, len, name, 0, err, errlen);
}

int rules_ipset_change(struct rules_ruleset *rs, const char *buf, size_t len, const char *name,
	unsigned flags, char *err, size_t errlen)
{
	struct rules_perr pe = {name, 0, 0, err, errlen};
	struct rules_rule dummy = {.fam = RULES_F_ALL};
	struct rules_pctx pc = {&pe, NULL, &dummy, 0};
	struct rules_ruleset *n = rules_clone(rs);
	int rc = 0, line = 0;
	size_t off = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!n)
		return rules_errf(&pe, 0, "out of memory"), -ENOMEM;
	pc.rs = n;
	while (off < len && rc == 0) {
		const char *p = buf + off;
		const char *nl = memchr(p, '\n', len - off);
		size_t l = nl ? (size_t)(nl - p) : len - off;
		char copy[1024], *tok[16];
		int col[16], nt = 0;
		off += l + (nl ? 1 : 0);
		pe.line = ++line;
		if (memchr(p, '\0', l)) {
			rc = rules_errf(&pe, 0, "NUL byte in input");
			break;
		}
		if (l >= sizeof(copy)) {
			rc = rules_errf(&pe, 0, "line too long");
			break;
		}
		memcpy(copy, p, l);
		copy[l] = '\0';
		/* a blank or "#" line is skipped before it is cut into words, as
		 * ipset restore does: its quotes and length do not matter */
		size_t lead = strspn(copy, " \t\r");
		if (lead == l || copy[lead] == '#')
			continue;
		for (size_t i = 0; i < l && nt <= 15;) {
			while (i < l && (copy[i] == ' ' || copy[i] == '\t' || copy[i] == '\r'))
				copy[i++] = '\0';
			if (i >= l)
				break;
			if (nt == 15) {
				rc = rules_errf(&pe, (int)i + 1, "too many words");
				break;
			}
			tok[nt] = &copy[i];
			col[nt++] = (int)i + 1;
			if (copy[i] == '"') { /* a quoted word (a comment): blanks kept */
				const char *q = memchr(&copy[i + 1], '"', l - i - 1);
				if (q == NULL) {
					rc = rules_errf(&pe, (int)i + 1, "missing close-quote");
					break;
				}
				i = (size_t)(q - copy) + 1;
			}
			while (i < l && copy[i] != ' ' && copy[i] != '\t' && copy[i] != '\r')
				i++;
		}
		if (rc < 0 || nt == 0 || tok[0][0] == '#')
			continue;
		unsigned lf = flags;
		int k = 0;
		for (int i = 0; i < nt; i++) {
			if (!strcmp(tok[i], "-exist") || !strcmp(tok[i], "--exist") || !strcmp(tok[i], "-!")) {
				lf |= IPSET_EXIST;
				continue;
			}
			tok[k] = tok[i];
			col[k++] = col[i];
		}
		if ((nt = k) == 0)
			continue;
		if (strcmp(tok[0], "create") == 0 || strcmp(tok[0], "-N") == 0)
			rc = do_create(&pc, n, tok, col, nt, lf);
		else if (strcmp(tok[0], "add") == 0 || strcmp(tok[0], "-A") == 0)
			rc = do_add(&pc, n, tok, col, nt, lf);
		else if (strcmp(tok[0], "del") == 0 || strcmp(tok[0], "-D") == 0)
			rc = do_del(&pc, n, tok, col, nt, lf);
		else if (strcmp(tok[0], "flush") == 0 || strcmp(tok[0], "-F") == 0)
			rc = do_flush(&pc, n, tok, col, nt);
		else
			rc = rules_errf(&pe, col[0], "unknown ipset command \"%s\"", tok[0]);
	}
	if (rc == 0 && !(flags & RULES_IPSET_EXCL) && sets_dedup(n) < 0)
		rc = rules_errf(&pe, 0, "out of memory");
	if (rc < 0) {
		rules_free(n);
		return rc;
	}
	rules_replace(rs, n);
	return 0;
}

int rules_ipset_test(const struct rules_ruleset *rs, const char *name, const char *entry,
	uint64_t now, char *err, size_t errlen)
{
	struct rules_perr pe = {"test", 1, 0, err, errlen};
	struct rules_rule dummy = {.fam = RULES_F_ALL};
	struct rules_pctx pc = {&pe, (struct rules_ruleset *)rs, &dummy, 1};
	const struct rules_set *set = rules_set_find(rs, name);
	if (set == NULL)
		return rules_errf(&pe, 0, "set %s doesn't exist", name);
	struct rules_set_entry t;
	int rc = parse_entry(&pc, (struct rules_set *)set, entry, &t);
	if (rc < 0)
		return rc;
	if (set->type == RULES_SET_LIST) { /* is that set in the list? */
		long i = entry_find(set, &t);
		return i >= 0 && rules_set_entry_live(&set->e[i], now);
	}
	unsigned full = set->fam == RULES_F_V6 ? 128 : 32;
	const struct rules_set_entry *best = NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct rules_set_entry *e = &set->e[i];
		if (!rules_set_entry_live(e, now))
			continue;
		/* a range tested: its first port, as the kernel tests it */
		if (set->type == RULES_SET_BITMAP_PORT) {
			if (t.port_lo >= e->port_lo && t.port_lo <= e->port_hi)
				return 1;
			continue;
		}
		/* an address: in any prefix that holds it; a prefix: that one */
		struct rules_addr a = t.addr;
		if (t.plen == full)
			rules_addr_mask(set->fam, &a, e->plen);
		else if (t.plen != e->plen)
			continue;
		if (memcmp(a.b, e->addr.b, 16) != 0)
			continue;
		if (rules_set_type_port(set->type) &&
		    (t.proto != e->proto || t.port_lo < e->port_lo || t.port_lo > e->port_hi))
			continue;
		if (rules_set_type_3d(set->type)) { /* the third dimension the same way */
			struct rules_addr a2 = t.addr2;
			if (t.plen2 == full)
				rules_addr_mask(set->fam, &a2, e->plen2);
			else if (t.plen2 != e->plen2)
				continue;
			if (memcmp(a2.b, e->addr2.b, 16) != 0)
				continue;
		}
		/* the most specific entry decides: an exception ("nomatch")
		 * there means "is NOT in set", as the kernel's test */
		/* ties (port ranges of one prefix) as the compiled set orders
		 * them: the lowest port, then the longest third prefix */
		if (best == NULL || e->plen > best->plen ||
		    (e->plen == best->plen &&
		     (e->port_lo < best->port_lo ||
		      (e->port_lo == best->port_lo && e->plen2 > best->plen2))))
			best = e;
	}
	return best != NULL && !best->nomatch;
}

const char *rules_set_type_name(uint8_t type)
{
	for (size_t i = 0; i < RULES_ARRAY_SIZE(set_types); i++)
		if (set_types[i].type == type)
			return set_types[i].name;
	return "?";
}

void rules_set_entry_print(struct rules_buf *t, const struct rules_set *s,
	const struct rules_set_entry *e)
{
	if (s->type == RULES_SET_LIST) {
		char m[32];
		rules_set_member(e, m);
		rbuf_puts(t, m);
		return;
	}
	if (s->type != RULES_SET_BITMAP_PORT) {
		rbuf_addr(t, s->fam, &e->addr);
		unsigned full = s->fam == RULES_F_V6 ? 128 : 32;
		if (e->plen != full && s->type != RULES_SET_BITMAP_IP) /* bitmap:ip: blocks' addresses */
			rbuf_printf(t, "/%u", e->plen);
	}
	if (rules_set_type_port(s->type)) {
		const char *pn = rules_proto_name(e->proto);
		if (pn)
			rbuf_printf(t, ",%s:", pn);
		else
			rbuf_printf(t, ",%u:", e->proto);
		if (e->proto == 1 || e->proto == 58)
			icmp_port_print(t, e->proto == 58, e->port_lo);
		else
			rbuf_printf(t, "%u", e->port_lo);
		if (e->port_hi != e->port_lo)
			rbuf_printf(t, "-%u", e->port_hi);
		if (rules_set_type_3d(s->type)) {
			rbuf_putc(t, ',');
			rbuf_addr(t, s->fam, &e->addr2);
			if (e->plen2 != (s->fam == RULES_F_V6 ? 128 : 32))
				rbuf_printf(t, "/%u", e->plen2);
		}
	} else if (s->type == RULES_SET_BITMAP_PORT) {
		rbuf_printf(t, "%u", e->port_lo);
		if (e->port_hi != e->port_lo)
			rbuf_printf(t, "-%u", e->port_hi);
	}
}

void rules_set_ip_range_print(struct rules_buf *b, const struct rules_set *s)
{
	struct rules_addr a;
	ip4_put(&a, s->ip_lo);
	rbuf_addr(b, RULES_F_V4, &a);
	rbuf_putc(b, '-');
	ip4_put(&a, s->ip_hi);
	rbuf_addr(b, RULES_F_V4, &a);
}

void rules_set_entry_print_full(struct rules_buf *t, const struct rules_set *s,
	const struct rules_set_entry *e, uint64_t now)
{
	rules_set_entry_print(t, s, e);
	if (s->has_timeout)
		rbuf_printf(t, " timeout %" PRIu64, rules_set_entry_left(e, now));
	if (e->nomatch)
		rbuf_puts(t, " nomatch");
	const char *c = rules_set_entry_comment(s, e);
	if (c[0])
		rbuf_printf(t, " comment \"%s\"", c);
}

/* bitmap elements in the kernel's order: by address, by port */
static int bitmap_cmp(const void *a, const void *b, void *arg)
{
	const struct rules_set_entry *e = arg, *x = &e[*(const size_t *)a], *y = &e[*(const size_t *)b];
	int c = memcmp(x->addr.b, y->addr.b, sizeof(x->addr.b));
	if (c)
		return c;
	return x->port_lo < y->port_lo ? -1 : x->port_lo > y->port_lo;
}

char *rules_ipset_print(const struct rules_ruleset *rs, const char *name)
{
	struct rules_buf b = {0};
	bool found = false;
	uint64_t now = rules_clock_us();
	/* list:set sets after the others: their members must exist when they
	 * are read back */
	for (size_t pass = 0; pass < 2 * rs->n_sets; pass++) {
		size_t i = pass % rs->n_sets;
		const struct rules_set *s = &rs->sets[i];
		if ((s->type == RULES_SET_LIST) != (pass >= rs->n_sets))
			continue;
		if (name && strcmp(s->name, name) != 0)
			continue;
		found = true;
		rbuf_printf(&b, "create %s %s", s->name, rules_set_type_name(s->type));
		if (s->type == RULES_SET_BITMAP_PORT) {
			rbuf_printf(&b, " range %u-%u", s->range_lo, s->range_hi);
		} else if (s->type == RULES_SET_LIST) {
			rbuf_printf(&b, " size %u", s->maxelem);
		} else if (s->type == RULES_SET_BITMAP_IP) {
			rbuf_puts(&b, " range ");
			rules_set_ip_range_print(&b, s);
			if (s->netmask != 32)
				rbuf_printf(&b, " netmask %u", s->netmask);
		} else
			rbuf_printf(&b, " family %s hashsize %u maxelem %u",
				s->fam == RULES_F_V6 ? "inet6" : "inet", s->hashsize, s->maxelem);
		if (s->has_timeout)
			rbuf_printf(&b, " timeout %u", s->timeout);
		if (s->has_comment)
			rbuf_puts(&b, " comment");
		rbuf_putc(&b, '\n');
		/* bitmaps list their elements in order, as the kernel walks them */
		size_t *ord = NULL;
		if ((s->type == RULES_SET_BITMAP_IP || s->type == RULES_SET_BITMAP_PORT) && s->n > 1) {
			ord = malloc(s->n * sizeof(*ord));
			if (ord == NULL) {
				b.oom = true;
				break;
			}
			for (size_t j = 0; j < s->n; j++)
				ord[j] = j;
			qsort_r(ord, s->n, sizeof(*ord), bitmap_cmp, (void *)s->e);
		}
		for (size_t k = 0; k < s->n; k++) {
			size_t j = ord ? ord[k] : k;
			if (!rules_set_entry_live(&s->e[j], now))
				continue;
			rbuf_printf(&b, "add %s ", s->name);
			rules_set_entry_print_full(&b, s, &s->e[j], now);
			rbuf_putc(&b, '\n');
		}
		free(ord);
	}
	if (name && !found) {
		free(b.s);
		errno = ENOENT;
		return NULL;
	}
	if (b.oom || (!b.s && !(b.s = calloc(1, 1)))) {
		free(b.s);
		errno = ENOMEM;
		return NULL;
	}
	return b.s;
}
