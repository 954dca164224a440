/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg: walks the YAML tree of rampart.yaml into struct cfg. Unknown keys
 * are errors (a typo must never silently turn a feature off). Semantic
 * checks (port names, address families, routes that reach no port) run
 * here too, so `rampartd --check` catches them before anything starts.
 */
#include "cfg.h"

#include "cfg_yaml.h"
#include "log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *port;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		port = end + 2;
	} else {
		const char *colon = strchr(s, ':');
		if (colon == NULL || strchr(colon + 1, ':') || (size_t)(colon - s) >= sizeof(host))
			return -1; /* IPv6 needs its brackets */
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	char *e;
	errno = 0;
	unsigned long p = strtoul(port, &e, 10);
	if (*port == '\0' || *e != '\0' || errno || p > 65535 || !isdigit((unsigned char)*port))
		return -1;
	struct sockaddr_storage tmp;
	if (ss == NULL)
		ss = &tmp;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		return 0;
	}
	return -1;
}

struct cfg_ctx {
	const char *name;
	char *err;
	size_t errlen;
};

static int fail(struct cfg_ctx *x, const struct cy_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct cfg_ctx *x, const struct cy_node *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s:%d:%d: %s", x->name, n ? n->line : 1, n ? n->col : 1, msg);
	return -1;
}

static int want(struct cfg_ctx *x, const struct cy_node *n, enum cy_type t, const char *what)
{
	if (n->type != t)
		return fail(x, n, "%s must be %s, not %s", what, cy_type_name(t),
			    cy_type_name(n->type));
	return 0;
}

/* Every key of map must be in the NULL-terminated list. */
static int known_keys(struct cfg_ctx *x, const struct cy_node *map, const char *section,
		      const char *const *keys)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct cy_node *k = map->items[2 * i];
		bool ok = false;
		for (const char *const *p = keys; *p; p++)
			if (strcmp(*p, k->str) == 0)
				ok = true;
		if (!ok) {
			char list[256] = "";
			size_t off = 0;
			for (const char *const *p = keys; *p && off < sizeof(list); p++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							p == keys ? "" : ", ", *p);
			return fail(x, k, "unknown key '%s' in %s (expected one of: %s)", k->str,
				    section, list);
		}
	}
	return 0;
}

static int get_uint(struct cfg_ctx *x, const struct cy_node *n, const char *what, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	if (want(x, n, CY_SCALAR, what) < 0)
		return -1;
	const char *s = n->str;
	if (*s == '\0' || !isdigit((unsigned char)*s))
		return fail(x, n, "%s must be an unsigned integer, got '%s'", what, s);
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		return fail(x, n, "%s must be an unsigned integer, got '%s'", what, s);
	if (v < min || v > max)
		return fail(x, n, "%s must be between %llu and %llu, got %llu", what,
			    (unsigned long long)min, (unsigned long long)max, v);
	*out = v;
	return 0;
}

static int get_bool(struct cfg_ctx *x, const struct cy_node *n, const char *what, bool *out)
{
	if (want(x, n, CY_SCALAR, what) < 0)
		return -1;
	const char *s = n->str;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return fail(x, n, "%s must be true or false, got '%s'", what, s);
	return 0;
}

int cfg_parse_addr(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, addr) != 1)
			return -EINVAL;
		*family = 6;
		return 0;
	}
	/* inet_pton refuses shorthand like "10.1" that inet_aton would take */
	if (inet_pton(AF_INET, s, addr) != 1)
		return -EINVAL;
	*family = 4;
	return 0;
}

int cfg_parse_prefix(const char *s, struct cfg_prefix *p, bool allow_host_bits)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (cfg_parse_addr(buf, &p->family, p->addr) < 0)
		return -EINVAL;
	unsigned maxlen = p->family == 4 ? 32 : 128;
	unsigned plen = maxlen;
	if (slash) {
		const char *q = slash + 1;
		if (*q == '\0' || strlen(q) > 3)
			return -EINVAL;
		plen = 0;
		for (; *q; q++) {
			if (!isdigit((unsigned char)*q))
				return -EINVAL;
			plen = plen * 10 + (unsigned)(*q - '0');
		}
		if (plen > maxlen)
			return -ERANGE;
	}
	p->plen = (uint8_t)plen;
	if (!allow_host_bits) {
		unsigned bytes = maxlen / 8;
		for (unsigned i = 0; i < bytes; i++) {
			unsigned bit0 = i * 8;
			uint8_t mask = bit0 >= plen ? 0 : plen >= bit0 + 8 ? 0xff
							     : (uint8_t)(0xff << (8 - (plen - bit0)));
			if (p->addr[i] & ~mask)
				return -EDOM;
		}
	}
	return 0;
}

void cfg_format_prefix(const struct cfg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
}

int cfg_port_index(const struct cfg *c, const char *name)
{
	for (unsigned i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool looks_like_pci(const char *s)
{
	/* DDDD:BB:DD.F or BB:DD.F */
	unsigned d, b, dev, f;
	char tail;
	if (sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &dev, &f, &tail) == 4)
		return true;
	if (sscanf(s, "%2x:%2x.%1x%c", &b, &dev, &f, &tail) == 3)
		return true;
	return false;
}

static bool prefix_contains(const struct cfg_prefix *p, uint8_t family, const uint8_t *a)
{
	if (p->family != family)
		return false;
	unsigned full = p->plen / 8, rem = p->plen % 8;
	if (memcmp(p->addr, a, full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((p->addr[full] & mask) != (a[full] & mask))
			return false;
	}
	return true;
}

static int parse_eal(struct cfg_ctx *x, struct cfg *c, const struct cy_node *n)
{
	if (want(x, n, CY_SEQ, "eal") < 0)
		return -1;
	if (n->n > CFG_MAX_EAL_ARGS)
		return fail(x, n, "eal: at most %d arguments", CFG_MAX_EAL_ARGS);
	for (size_t i = 0; i < n->n; i++) {
		const struct cy_node *a = n->items[i];
		if (want(x, a, CY_SCALAR, "an eal argument") < 0)
			return -1;
		if (strlen(a->str) > 1024)
			return fail(x, a, "eal argument too long");
		c->eal_args[c->n_eal] = strdup(a->str);
		if (c->eal_args[c->n_eal] == NULL)
			return fail(x, a, "out of memory");
		c->n_eal++;
	}
	return 0;
}

static int parse_workers(struct cfg_ctx *x, struct cfg *c, const struct cy_node *n)
{
	static const char *const keys[] = { "lcores", "main_lcore", "idle_sleep_us", NULL };
	uint64_t v;
	if (want(x, n, CY_MAP, "workers") < 0 || known_keys(x, n, "workers", keys) < 0)
		return -1;
	const struct cy_node *l = cy_map_get(n, "lcores");
	if (l == NULL)
		return fail(x, n, "workers: 'lcores' (the list of worker lcore ids) is required");
	if (want(x, l, CY_SEQ, "workers.lcores") < 0)
		return -1;
	if (l->n == 0 || l->n > CFG_MAX_WORKERS)
		return fail(x, l, "workers.lcores: between 1 and %d lcores", CFG_MAX_WORKERS);
	const struct cy_node *m = cy_map_get(n, "main_lcore");
	if (m != NULL) {
		if (get_uint(x, m, "workers.main_lcore", 0, 1023, &v) < 0)
			return -1;
		c->main_lcore = (unsigned)v;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (get_uint(x, l->items[i], "a worker lcore", 0, 1023, &v) < 0)
			return -1;
		if (v == c->main_lcore)
			return fail(x, l->items[i],
				    "lcore %llu is the main (control) lcore; workers need their own",
				    (unsigned long long)v);
		for (unsigned j = 0; j < c->n_workers; j++)
			if (c->worker_lcores[j] == v)
				return fail(x, l->items[i], "lcore %llu listed twice",
					    (unsigned long long)v);
		c->worker_lcores[c->n_workers++] = (unsigned)v;
	}
	const struct cy_node *s = cy_map_get(n, "idle_sleep_us");
	if (s != NULL) {
		if (get_uint(x, s, "workers.idle_sleep_us", 0, 100000, &v) < 0)
			return -1;
		c->idle_sleep_us = (unsigned)v;
	}
	return 0;
}

static int parse_port(struct cfg_ctx *x, struct cfg *c, const struct cy_node *n)
{
	static const char *const keys[] = { "name", "device", "mtu", "rx_queues", "tx_queues",
					    "rx_desc", "tx_desc", "addresses", "rx_checksum", NULL };
	if (want(x, n, CY_MAP, "a port") < 0 || known_keys(x, n, "a port", keys) < 0)
		return -1;
	if (c->n_ports == CFG_MAX_PORTS)
		return fail(x, n, "at most %d ports", CFG_MAX_PORTS);
	struct cfg_port *p = &c->ports[c->n_ports];
	memset(p, 0, sizeof(*p));
	p->line = n->line;
	p->col = n->col;
	p->mtu = 1500;
	p->rx_desc = 1024;
	p->tx_desc = 1024;

	const struct cy_node *name = cy_map_get(n, "name");
	if (name == NULL)
		return fail(x, n, "port: 'name' is required");
	if (want(x, name, CY_SCALAR, "port name") < 0)
		return -1;
	size_t nl = strlen(name->str);
	if (nl == 0 || nl >= CFG_NAME_MAX)
		return fail(x, name, "port name must be 1 to %d characters", CFG_NAME_MAX - 1);
	for (const char *s = name->str; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return fail(x, name, "port name '%s': only letters, digits, '_', '-', '.'",
				    name->str);
	if (cfg_port_index(c, name->str) >= 0)
		return fail(x, name, "port '%s' defined twice", name->str);
	strcpy(p->name, name->str);

	const struct cy_node *dev = cy_map_get(n, "device");
	if (dev == NULL)
		return fail(x, n, "port %s: 'device' (a PCI address or a vdev string) is required",
			    p->name);
	if (want(x, dev, CY_SCALAR, "port device") < 0)
		return -1;
	if (strlen(dev->str) == 0 || strlen(dev->str) >= CFG_DEVICE_MAX)
		return fail(x, dev, "port device must be 1 to %d characters", CFG_DEVICE_MAX - 1);
	strcpy(p->device, dev->str);
	p->is_pci = looks_like_pci(p->device);
	if (!p->is_pci && strncmp(p->device, "net_", 4) != 0)
		return fail(x, dev,
			    "port device '%s' is neither a PCI address (0000:03:00.0) nor a "
			    "vdev string (net_af_packet0,iface=eth1)",
			    p->device);
	for (unsigned i = 0; i < c->n_ports; i++) {
		const char *o = c->ports[i].device;
		size_t l1 = strcspn(o, ","), l2 = strcspn(p->device, ",");
		if (l1 == l2 && strncmp(o, p->device, l1) == 0)
			return fail(x, dev, "device '%.*s' already used by port %s", (int)l2,
				    p->device, c->ports[i].name);
	}

	uint64_t v;
	const struct cy_node *f;
	if ((f = cy_map_get(n, "mtu")) && get_uint(x, f, "mtu", 576, 9000, &v) < 0)
		return -1;
	if (f)
		p->mtu = (uint16_t)v;
	if ((f = cy_map_get(n, "rx_checksum"))) {
		if (want(x, f, CY_SCALAR, "rx_checksum") < 0)
			return -1;
		if (strcmp(f->str, "trust") == 0)
			p->rx_csum_trust = true;
		else if (strcmp(f->str, "auto") != 0)
			return fail(x, f, "rx_checksum: 'auto' or 'trust', not '%s'", f->str);
	}
	if ((f = cy_map_get(n, "rx_queues")) && get_uint(x, f, "rx_queues", 1, 64, &v) < 0)
		return -1;
	if (f)
		p->rx_queues = (uint16_t)v;
	if ((f = cy_map_get(n, "tx_queues")) && get_uint(x, f, "tx_queues", 1, 64, &v) < 0)
		return -1;
	if (f)
		p->tx_queues = (uint16_t)v;
	if ((f = cy_map_get(n, "rx_desc")) && get_uint(x, f, "rx_desc", 64, 16384, &v) < 0)
		return -1;
	if (f)
		p->rx_desc = (uint16_t)v;
	if ((f = cy_map_get(n, "tx_desc")) && get_uint(x, f, "tx_desc", 64, 16384, &v) < 0)
		return -1;
	if (f)
		p->tx_desc = (uint16_t)v;
	if ((p->rx_desc & (p->rx_desc - 1)) || (p->tx_desc & (p->tx_desc - 1)))
		return fail(x, n, "port %s: rx_desc and tx_desc must be powers of two", p->name);

	const struct cy_node *addrs = cy_map_get(n, "addresses");
	if (addrs != NULL) {
		if (want(x, addrs, CY_SEQ, "addresses") < 0)
			return -1;
		if (addrs->n > CFG_MAX_ADDRS)
			return fail(x, addrs, "at most %d addresses per port", CFG_MAX_ADDRS);
		for (size_t i = 0; i < addrs->n; i++) {
			const struct cy_node *a = addrs->items[i];
			if (want(x, a, CY_SCALAR, "an address") < 0)
				return -1;
			struct cfg_prefix *pf = &p->addrs[p->n_addrs];
			int rc = cfg_parse_prefix(a->str, pf, true);
			if (rc < 0)
				return fail(x, a, "'%s' is not an address with a prefix length "
						  "(10.0.0.1/24, fd00::1/64)", a->str);
			if (strchr(a->str, '/') == NULL)
				return fail(x, a, "address '%s' needs a prefix length (e.g. /24)",
					    a->str);
			if ((pf->family == 4 && (pf->plen == 0 || pf->plen > 30) && pf->plen != 32) ||
			    (pf->family == 6 && (pf->plen == 0 || pf->plen > 128)))
				return fail(x, a, "address '%s': unusable prefix length", a->str);
			if (pf->family == 4 && (pf->addr[0] == 0 || pf->addr[0] == 127 ||
						pf->addr[0] >= 224))
				return fail(x, a, "address '%s' is not a unicast host address", a->str);
			if (pf->family == 6 && (pf->addr[0] == 0xff ||
						!memcmp(pf->addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15)))
				return fail(x, a, "address '%s' is not a unicast host address", a->str);
			p->n_addrs++;
		}
	}
	c->n_ports++;
	return 0;
}

static int parse_route(struct cfg_ctx *x, struct cfg *c, const struct cy_node *n)
{
	static const char *const keys[] = { "to", "via", "port", NULL };
	if (want(x, n, CY_MAP, "a route") < 0 || known_keys(x, n, "a route", keys) < 0)
		return -1;
	struct cfg_route *r = &c->routes[c->n_routes];
	memset(r, 0, sizeof(*r));
	r->port = -1;
	r->line = n->line;
	r->col = n->col;
	const struct cy_node *to = cy_map_get(n, "to");
	if (to == NULL)
		return fail(x, n, "route: 'to' (destination prefix, e.g. 0.0.0.0/0) is required");
	if (want(x, to, CY_SCALAR, "route 'to'") < 0)
		return -1;
	int rc = cfg_parse_prefix(to->str, &r->dst, false);
	if (rc == -EDOM)
		return fail(x, to, "route destination '%s' has host bits set", to->str);
	if (rc < 0)
		return fail(x, to, "'%s' is not a prefix (10.0.0.0/8, ::/0)", to->str);
	const struct cy_node *via = cy_map_get(n, "via");
	if (via != NULL) {
		uint8_t fam;
		if (want(x, via, CY_SCALAR, "route 'via'") < 0)
			return -1;
		if (cfg_parse_addr(via->str, &fam, r->via) < 0)
			return fail(x, via, "'%s' is not an IP address", via->str);
		if (fam != r->dst.family)
			return fail(x, via, "gateway %s is not of the route's address family",
				    via->str);
		r->has_via = true;
	}
	const struct cy_node *port = cy_map_get(n, "port");
	if (port != NULL) {
		if (want(x, port, CY_SCALAR, "route 'port'") < 0)
			return -1;
		r->port = cfg_port_index(c, port->str);
		if (r->port < 0)
			return fail(x, port, "unknown port '%s'", port->str);
	}
	if (!r->has_via && r->port < 0)
		return fail(x, n, "route to %s needs 'via' (a gateway), 'port', or both", to->str);
	bool via_ll = r->has_via && r->dst.family == 6 && r->via[0] == 0xfe &&
		      (r->via[1] & 0xc0) == 0x80;
	if (via_ll && r->port < 0)
		return fail(x, via, "link-local gateway %s needs 'port' (the link it is on)",
			    via->str);
	if (r->has_via && !via_ll) {
		/* the gateway must be on a connected subnet (of the given port) */
		int found = -1;
		for (unsigned i = 0; i < c->n_ports && found < 0; i++) {
			if (r->port >= 0 && (unsigned)r->port != i)
				continue;
			for (unsigned j = 0; j < c->ports[i].n_addrs; j++)
				if (prefix_contains(&c->ports[i].addrs[j], r->dst.family, r->via))
					found = (int)i;
		}
		if (found < 0)
			return fail(x, via, "gateway %s is on no connected subnet%s%s", via->str,
				    r->port >= 0 ? " of port " : "",
				    r->port >= 0 ? c->ports[r->port].name : "");
		r->port = found;
	}
	c->n_routes++;
	return 0;
}

static int parse_bridge(struct cfg_ctx *x, struct cfg *c, const struct cy_node *n)
{
	if (want(x, n, CY_SEQ, "bridge") < 0)
		return -1;
	bool used[CFG_MAX_PORTS] = { false };
	for (size_t i = 0; i < n->n; i++) {
		const struct cy_node *pr = n->items[i];
		if (want(x, pr, CY_SEQ, "a bridge pair") < 0)
			return -1;
		if (pr->n != 2)
			return fail(x, pr, "a bridge pair is a list of two port names");
		for (int k = 0; k < 2; k++) {
			const struct cy_node *pn = pr->items[k];
			if (want(x, pn, CY_SCALAR, "a port name") < 0)
				return -1;
			int idx = cfg_port_index(c, pn->str);
			if (idx < 0)
				return fail(x, pn, "unknown port '%s'", pn->str);
			if (used[idx])
				return fail(x, pn, "port '%s' is already in a bridge pair", pn->str);
			used[idx] = true;
			c->pairs[c->n_pairs][k] = (uint8_t)idx;
		}
		c->n_pairs++;
	}
	return 0;
}

/* A path relative to the configuration file's directory. */
static int rel_path(struct cfg_ctx *x, const struct cy_node *n, const char *what, char *out)
{
	if (want(x, n, CY_SCALAR, what) < 0)
		return -1;
	if (n->str[0] == '\0')
		return fail(x, n, "%s must not be empty", what);
	const char *slash = strrchr(x->name, '/');
	int len;
	if (n->str[0] == '/' || slash == NULL)
		len = snprintf(out, CFG_PATH_MAX, "%s", n->str);
	else
		len = snprintf(out, CFG_PATH_MAX, "%.*s/%s", (int)(slash - x->name), x->name, n->str);
	if (len < 0 || len >= CFG_PATH_MAX)
		return fail(x, n, "%s: path too long", what);
	return 0;
}

/* ruleset: FILE, or a map naming the files and the format. */
static int parse_ruleset(struct cfg_ctx *x, struct cfg *c, const struct cy_node *n)
{
	c->ruleset_line = n->line;
	c->ruleset_col = n->col;
	if (n->type == CY_SCALAR)
		return rel_path(x, n, "ruleset", c->ruleset);
	static const char *const keys[] = { "file", "format", "ip6tables", "ipsets", NULL };
	if (want(x, n, CY_MAP, "ruleset (a file name or a map)") < 0 ||
	    known_keys(x, n, "ruleset", keys) < 0)
		return -1;
	const struct cy_node *f;
	if ((f = cy_map_get(n, "file")) && rel_path(x, f, "ruleset.file", c->ruleset) < 0)
		return -1;
	if ((f = cy_map_get(n, "ip6tables")) && rel_path(x, f, "ruleset.ip6tables", c->ruleset6) < 0)
		return -1;
	if ((f = cy_map_get(n, "ipsets")) && rel_path(x, f, "ruleset.ipsets", c->ipsets) < 0)
		return -1;
	if ((f = cy_map_get(n, "format"))) {
		if (want(x, f, CY_SCALAR, "ruleset.format") < 0)
			return -1;
		if (strcmp(f->str, "auto") == 0)
			c->ruleset_format = CFG_RS_AUTO;
		else if (strcmp(f->str, "yaml") == 0)
			c->ruleset_format = CFG_RS_YAML;
		else if (strcmp(f->str, "iptables") == 0)
			c->ruleset_format = CFG_RS_IPTABLES;
		else
			return fail(x, f, "ruleset.format must be auto, yaml or iptables, not '%s'",
				    f->str);
	}
	if (!c->ruleset[0] && !c->ruleset6[0])
		return fail(x, n, "ruleset needs a file (or ip6tables)");
	if (c->ruleset_format == CFG_RS_YAML && c->ruleset6[0])
		return fail(x, n, "ruleset.ip6tables goes with iptables files; a YAML ruleset holds "
				  "IPv6 rules itself");
	return 0;
}

/* conntrack.timeout-policies: CT --timeout's policies, as the kernel's
 * `nfct add timeout NAME inet|inet6 PROTO ATTR SECONDS...`: per name a
 * protocol, the families it serves and the timeouts it sets by nfct's
 * attribute names (dashes or underscores); the others are the table's
 * (conntrack.timeouts) as the policy loads. */
static const struct {
	const char *name;
	uint8_t proto;
	uint8_t fams; /* the families it exists in (bit 0 IPv4, bit 1 IPv6) */
	uint8_t n;
	struct { const char *attr; uint8_t to; } a[11];
} tpol_protos[] = {
	{ "tcp", 6, 3, 11, { { "syn_sent", CT_TO_TCP_SYN_SENT }, { "syn_recv", CT_TO_TCP_SYN_RECV },
		{ "established", CT_TO_TCP_ESTABLISHED }, { "fin_wait", CT_TO_TCP_FIN_WAIT },
		{ "close_wait", CT_TO_TCP_CLOSE_WAIT }, { "last_ack", CT_TO_TCP_LAST_ACK },
		{ "time_wait", CT_TO_TCP_TIME_WAIT }, { "close", CT_TO_TCP_CLOSE },
		{ "syn_sent2", CT_TO_TCP_SYN_SENT2 }, { "retrans", CT_TO_TCP_RETRANS },
		{ "unacknowledged", CT_TO_TCP_UNACK } } },
	{ "udp", 17, 3, 2, { { "unreplied", CT_TO_UDP }, { "replied", CT_TO_UDP_STREAM } } },
	{ "udplite", 136, 3, 2, { { "unreplied", CT_TO_UDP }, { "replied", CT_TO_UDP_STREAM } } },
	{ "icmp", 1, 1, 1, { { "timeout", CT_TO_ICMP } } },
	{ "icmpv6", 58, 2, 1, { { "timeout", CT_TO_ICMPV6 } } },
	{ "sctp", 132, 3, 8, { { "closed", CT_TO_SCTP_CLOSED }, { "cookie_wait", CT_TO_SCTP_COOKIE_WAIT },
		{ "cookie_echoed", CT_TO_SCTP_COOKIE_ECHOED },
		{ "established", CT_TO_SCTP_ESTABLISHED },
		{ "shutdown_sent", CT_TO_SCTP_SHUTDOWN_SENT },
		{ "shutdown_recd", CT_TO_SCTP_SHUTDOWN_RECD },
		{ "shutdown_ack_sent", CT_TO_SCTP_SHUTDOWN_ACK_SENT },
		{ "heartbeat_sent", CT_TO_SCTP_HEARTBEAT_SENT } } },
	{ "gre", 47, 3, 2, { { "unreplied", CT_TO_GRE }, { "replied", CT_TO_GRE_STREAM } } },
	/* the protocols without a tracker of their own (ESP, AH, DCCP, ...):
	 * nfct's l4proto 255 */
	{ "generic", CT_TPOL_GENERIC, 3, 1, { { "timeout", CT_TO_GENERIC } } },
};

/* nfct's attribute name a, written with dashes or underscores */
static bool attr_is(const char *key, const char *a)
{
	for (; *key && *a; key++, a++)
		if (*key != *a && !(*key == '-' && *a == '_'))
			return false;
	return *key == *a;
}

static int parse_tpols(struct cfg_ctx *x, struct cfg *c, const struct cy_node *f)
{
	if (want(x, f, CY_MAP, "conntrack.timeout-policies") < 0)
		return -1;
	if (f->n > CT_TPOL_MAX)
		return fail(x, f->items[2 * CT_TPOL_MAX], "conntrack.timeout-policies: at most %d "
			    "policies", CT_TPOL_MAX);
	for (size_t i = 0; i < f->n; i++) {
		const struct cy_node *k = f->items[2 * i], *p = f->items[2 * i + 1];
		struct cfg_tpol *t = &c->tpol[i];
		char what[96];
		snprintf(what, sizeof(what), "conntrack.timeout-policies.%.40s", k->str);
		size_t nl = strlen(k->str);
		if (nl == 0 || nl >= sizeof(t->name))
			return fail(x, k, "%s: a policy name has 1 to %zu characters", what,
				    sizeof(t->name) - 1);
		if (want(x, p, CY_MAP, what) < 0) /* (a name twice: the YAML parser refuses) */
			return -1;
		memcpy(t->name, k->str, nl + 1);
		const struct cy_node *pr = cy_map_get(p, "protocol");
		if (pr == NULL)
			return fail(x, p, "%s: give its protocol (tcp, udp, udplite, icmp, icmpv6, "
				    "sctp, gre, generic)", what);
		char pw[112];
		snprintf(pw, sizeof(pw), "%s.protocol", what);
		if (want(x, pr, CY_SCALAR, pw) < 0)
			return -1;
		size_t pi = 0;
		while (pi < sizeof(tpol_protos) / sizeof(tpol_protos[0]) &&
		       strcmp(tpol_protos[pi].name, pr->str) != 0)
			pi++;
		if (pi == sizeof(tpol_protos) / sizeof(tpol_protos[0]))
			return fail(x, pr, "%s: protocol '%s' has no timeout policy here (tcp, udp, "
				    "udplite, icmp, icmpv6, sctp, gre, generic)", what, pr->str);
		t->proto = tpol_protos[pi].proto;
		t->fams = tpol_protos[pi].fams;
		const struct cy_node *fa = cy_map_get(p, "family");
		if (fa != NULL) {
			char fw[112];
			snprintf(fw, sizeof(fw), "%s.family", what);
			if (want(x, fa, CY_SCALAR, fw) < 0)
				return -1;
			uint8_t fm = !strcmp(fa->str, "ipv4") ? 1 : !strcmp(fa->str, "ipv6") ? 2 :
				     !strcmp(fa->str, "any") ? 3 : 0;
			if (fm == 0)
				return fail(x, fa, "%s must be ipv4, ipv6 or any, not '%s'", fw, fa->str);
			if ((fm & t->fams) != fm)
				return fail(x, fa, "%s: %s exists in %s only", fw, pr->str,
					    t->fams == 1 ? "ipv4" : "ipv6");
			t->fams = fm;
		}
		uint32_t *to = c->ct.tpol[i];
		memcpy(to, c->ct.to, sizeof(c->ct.to));
		for (size_t a = 0; a < p->n; a++) {
			const struct cy_node *ak = p->items[2 * a], *av = p->items[2 * a + 1];
			if (!strcmp(ak->str, "protocol") || !strcmp(ak->str, "family"))
				continue;
			int hit = -1;
			for (unsigned j = 0; j < tpol_protos[pi].n; j++)
				if (attr_is(ak->str, tpol_protos[pi].a[j].attr))
					hit = tpol_protos[pi].a[j].to;
			if (hit < 0) {
				char list[256] = "";
				size_t off = 0;
				for (unsigned j = 0; j < tpol_protos[pi].n && off < sizeof(list); j++)
					off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						j ? ", " : "", tpol_protos[pi].a[j].attr);
				return fail(x, ak, "%s: unknown key '%s' for %s (protocol, family, %s)",
					    what, ak->str, pr->str, list);
			}
			uint64_t v;
			char aw[160];
			snprintf(aw, sizeof(aw), "%s.%s", what, ak->str);
			if (get_uint(x, av, aw, 1, 30u * 86400, &v) < 0)
				return -1;
			to[hit] = (uint32_t)v;
		}
	}
	c->ct.n_tpol = (uint32_t)f->n;
	return 0;
}

/* conntrack: sizes, TCP tracking options and timeouts (seconds, named as
 * the kernel's nf_conntrack_*_timeout sysctls with dashes). */
static int parse_conntrack(struct cfg_ctx *x, struct cfg *c, const struct cy_node *n)
{
	static const char *const keys[] = { "mode", "max-entries", "max-ipv6", "tcp-loose",
					    "tcp-be-liberal", "tcp-max-retrans",
					    "tcp-ignore-invalid-rst", "checksum", "timeouts",
					    "timeout-policies", NULL };
	const struct cy_node *f;
	uint64_t v;
	bool b;
	if (want(x, n, CY_MAP, "conntrack") < 0 || known_keys(x, n, "conntrack", keys) < 0)
		return -1;
	if ((f = cy_map_get(n, "mode"))) {
		if (want(x, f, CY_SCALAR, "conntrack.mode") < 0)
			return -1;
		if (!strcmp(f->str, "auto"))
			c->ct_mode = CFG_CT_AUTO;
		else if (!strcmp(f->str, "on"))
			c->ct_mode = CFG_CT_ON;
		else if (!strcmp(f->str, "off"))
			c->ct_mode = CFG_CT_OFF;
		else
			return fail(x, f, "conntrack.mode must be auto, on or off, not '%s'", f->str);
	}
	if ((f = cy_map_get(n, "max-entries"))) {
		if (get_uint(x, f, "conntrack.max-entries", 1024, 1u << 30, &v) < 0)
			return -1;
		c->ct.max = (uint32_t)v;
	}
	if ((f = cy_map_get(n, "max-ipv6"))) {
		if (get_uint(x, f, "conntrack.max-ipv6", 0, 1u << 30, &v) < 0)
			return -1;
		c->ct.max6 = (uint32_t)v;
	}
	if (c->ct.max6 > c->ct.max) {
		if (cy_map_get(n, "max-ipv6"))
			return fail(x, cy_map_get(n, "max-ipv6"),
				"conntrack.max-ipv6 (%u) cannot exceed max-entries (%u)", c->ct.max6,
				c->ct.max);
		c->ct.max6 = c->ct.max;
	}
	if ((f = cy_map_get(n, "tcp-loose"))) {
		if (get_bool(x, f, "conntrack.tcp-loose", &b) < 0)
			return -1;
		c->ct.tcp_loose = b;
	}
	if ((f = cy_map_get(n, "tcp-be-liberal"))) {
		if (get_bool(x, f, "conntrack.tcp-be-liberal", &b) < 0)
			return -1;
		c->ct.tcp_be_liberal = b;
	}
	if ((f = cy_map_get(n, "tcp-ignore-invalid-rst"))) {
		if (get_bool(x, f, "conntrack.tcp-ignore-invalid-rst", &b) < 0)
			return -1;
		c->ct.tcp_ignore_invalid_rst = b;
	}
	if ((f = cy_map_get(n, "checksum"))) {
		if (get_bool(x, f, "conntrack.checksum", &b) < 0)
			return -1;
		c->ct.checksum = b;
	}
	if ((f = cy_map_get(n, "tcp-max-retrans"))) {
		if (get_uint(x, f, "conntrack.tcp-max-retrans", 0, 15, &v) < 0)
			return -1;
		c->ct.tcp_max_retrans = (uint8_t)v;
	}
	if ((f = cy_map_get(n, "timeouts"))) {
		if (want(x, f, CY_MAP, "conntrack.timeouts") < 0)
			return -1;
		const char *names[CT_TO_COUNT + 1];
		for (unsigned i = 0; i < CT_TO_COUNT; i++)
			names[i] = ct_timeout_names[i];
		names[CT_TO_COUNT] = NULL;
		if (known_keys(x, f, "conntrack.timeouts", names) < 0)
			return -1;
		for (unsigned i = 0; i < CT_TO_COUNT; i++) {
			const struct cy_node *t = cy_map_get(f, ct_timeout_names[i]);
			char what[64];
			snprintf(what, sizeof(what), "conntrack.timeouts.%s", ct_timeout_names[i]);
			if (t && get_uint(x, t, what, 1, 30u * 86400, &v) < 0)
				return -1;
			if (t)
				c->ct.to[i] = (uint32_t)v;
		}
	}
	if ((f = cy_map_get(n, "timeout-policies")) && parse_tpols(x, c, f) < 0)
		return -1;
	return 0;
}

static int parse_root(struct cfg_ctx *x, struct cfg *c, const struct cy_node *root)
{
	static const char *const keys[] = { "eal", "mode", "workers", "ports", "routes", "bridge",
					    "icmp", "neighbours", "mbufs", "log", "ruleset", "conntrack",
					    "control", "metrics", "nat", NULL };
	uint64_t v;
	if (want(x, root, CY_MAP, "the configuration") < 0 ||
	    known_keys(x, root, "the configuration", keys) < 0)
		return -1;

	c->mode = CFG_MODE_ROUTER;
	c->icmp_ratelimit = 1000; /* kernel: net.ipv4.icmp_msgs_per_sec */
	c->icmp_burst = 50;       /* kernel: net.ipv4.icmp_msgs_burst */
	c->neigh_max = 4096;
	c->neigh_queue = 256;
	c->neigh_timeout_s = 30;
	c->log_level = RP_LOG_INFO;
	c->log_stderr = true;
	ct_params_default(&c->ct);
	snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s", "/run/rampart/rampart.sock");
	c->ctl_gid = c->ctl_ro_gid = -1;
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s", "127.0.0.1:9617");
	c->pktlog_facility = -1;
	c->nflog_max_mb = 64;
	c->nat_rss_steer = true;

	const struct cy_node *n;
	if ((n = cy_map_get(root, "eal")) && parse_eal(x, c, n) < 0)
		return -1;
	if ((n = cy_map_get(root, "mode"))) {
		if (want(x, n, CY_SCALAR, "mode") < 0)
			return -1;
		if (!strcmp(n->str, "router"))
			c->mode = CFG_MODE_ROUTER;
		else if (!strcmp(n->str, "bridge"))
			c->mode = CFG_MODE_BRIDGE;
		else
			return fail(x, n, "mode must be 'router' or 'bridge', not '%s'", n->str);
	}
	n = cy_map_get(root, "workers");
	if (n == NULL)
		return fail(x, root, "'workers' is required (workers: {lcores: [1]})");
	if (parse_workers(x, c, n) < 0)
		return -1;

	n = cy_map_get(root, "ports");
	if (n == NULL)
		return fail(x, root, "'ports' is required");
	if (want(x, n, CY_SEQ, "ports") < 0)
		return -1;
	if (n->n == 0)
		return fail(x, n, "at least one port is required");
	for (size_t i = 0; i < n->n; i++)
		if (parse_port(x, c, n->items[i]) < 0)
			return -1;
	for (unsigned i = 0; i < c->n_ports; i++) {
		struct cfg_port *p = &c->ports[i];
		if (p->rx_queues && p->rx_queues != c->n_workers)
			return fail(x, n->items[i],
				    "port %s: rx_queues (%u) must equal the number of workers (%u): "
				    "each worker polls one rx queue of every port",
				    p->name, p->rx_queues, c->n_workers);
		if (p->tx_queues && p->tx_queues != c->n_workers)
			return fail(x, n->items[i],
				    "port %s: tx_queues (%u) must equal the number of workers (%u)",
				    p->name, p->tx_queues, c->n_workers);
	}

	const struct cy_node *br = cy_map_get(root, "bridge");
	const struct cy_node *rt = cy_map_get(root, "routes");
	if (c->mode == CFG_MODE_BRIDGE) {
		if (br == NULL)
			return fail(x, root, "mode bridge needs 'bridge' (a list of port pairs)");
		if (parse_bridge(x, c, br) < 0)
			return -1;
		if (rt != NULL)
			return fail(x, rt, "'routes' only apply in router mode");
		for (unsigned i = 0; i < c->n_ports; i++) {
			bool paired = false;
			for (unsigned j = 0; j < c->n_pairs; j++)
				paired |= c->pairs[j][0] == i || c->pairs[j][1] == i;
			if (!paired)
				return fail(x, br, "port %s is in no bridge pair", c->ports[i].name);
		}
	} else {
		if (br != NULL)
			return fail(x, br, "'bridge' only applies in bridge mode");
		if (rt != NULL) {
			if (want(x, rt, CY_SEQ, "routes") < 0)
				return -1;
			if (rt->n > CFG_MAX_ROUTES)
				return fail(x, rt, "at most %d static routes", CFG_MAX_ROUTES);
			c->routes = calloc(rt->n ? rt->n : 1, sizeof(*c->routes));
			if (c->routes == NULL)
				return fail(x, rt, "out of memory");
			for (size_t i = 0; i < rt->n; i++)
				if (parse_route(x, c, rt->items[i]) < 0)
					return -1;
		}
		bool any_addr = false;
		for (unsigned i = 0; i < c->n_ports; i++)
			any_addr |= c->ports[i].n_addrs > 0;
		if (!any_addr)
			return fail(x, n, "router mode needs at least one port with addresses");
	}

	if ((n = cy_map_get(root, "icmp"))) {
		static const char *const ik[] = { "ratelimit", "burst", NULL };
		const struct cy_node *f;
		if (want(x, n, CY_MAP, "icmp") < 0 || known_keys(x, n, "icmp", ik) < 0)
			return -1;
		if ((f = cy_map_get(n, "ratelimit"))) {
			if (get_uint(x, f, "icmp.ratelimit", 0, 10000000, &v) < 0)
				return -1;
			c->icmp_ratelimit = (uint32_t)v;
		}
		if ((f = cy_map_get(n, "burst"))) {
			if (get_uint(x, f, "icmp.burst", 1, 1000000, &v) < 0)
				return -1;
			c->icmp_burst = (uint32_t)v;
		}
	}
	if ((n = cy_map_get(root, "neighbours"))) {
		static const char *const nk[] = { "max", "queue", "reachable_s", NULL };
		const struct cy_node *f;
		if (want(x, n, CY_MAP, "neighbours") < 0 || known_keys(x, n, "neighbours", nk) < 0)
			return -1;
		if ((f = cy_map_get(n, "max"))) {
			if (get_uint(x, f, "neighbours.max", 16, CFG_NEIGH_MAX, &v) < 0)
				return -1;
			c->neigh_max = (uint32_t)v;
		}
		if ((f = cy_map_get(n, "queue"))) {
			if (get_uint(x, f, "neighbours.queue", 0, 65536, &v) < 0)
				return -1;
			c->neigh_queue = (uint32_t)v;
		}
		if ((f = cy_map_get(n, "reachable_s"))) {
			if (get_uint(x, f, "neighbours.reachable_s", 1, 86400, &v) < 0)
				return -1;
			c->neigh_timeout_s = (uint32_t)v;
		}
	}
	if ((n = cy_map_get(root, "nat"))) {
		static const char *const nk[] = { "rss-steering", NULL };
		const struct cy_node *f;
		if (want(x, n, CY_MAP, "nat") < 0 || known_keys(x, n, "nat", nk) < 0)
			return -1;
		if ((f = cy_map_get(n, "rss-steering")) &&
		    get_bool(x, f, "nat.rss-steering", &c->nat_rss_steer) < 0)
			return -1;
	}
	if ((n = cy_map_get(root, "mbufs"))) {
		if (get_uint(x, n, "mbufs", 1024, 16u << 20, &v) < 0)
			return -1;
		c->mbufs = (uint32_t)v;
	}
	if ((n = cy_map_get(root, "ruleset")) && parse_ruleset(x, c, n) < 0)
		return -1;
	if ((n = cy_map_get(root, "conntrack")) && parse_conntrack(x, c, n) < 0)
		return -1;
	if ((n = cy_map_get(root, "control"))) {
		static const char *const ck[] = { "socket", "group", "readonly-group", NULL };
		const struct cy_node *f;
		if (want(x, n, CY_MAP, "control") < 0 || known_keys(x, n, "control", ck) < 0)
			return -1;
		if ((f = cy_map_get(n, "socket"))) {
			if (want(x, f, CY_SCALAR, "control.socket") < 0)
				return -1;
			if (f->str[0] == '\0')
				c->ctl_socket[0] = '\0'; /* no control socket */
			else if (rel_path(x, f, "control.socket", c->ctl_socket) < 0)
				return -1;
			else if (strlen(c->ctl_socket) >= 108) /* sockaddr_un.sun_path */
				return fail(x, f, "control.socket: a UNIX socket path has at most 107 "
						  "characters");
		}
		for (int g = 0; g < 2; g++) {
			const char *key = g ? "readonly-group" : "group";
			if (!(f = cy_map_get(n, key)))
				continue;
			char what[40];
			snprintf(what, sizeof(what), "control.%s", key);
			if (want(x, f, CY_SCALAR, what) < 0)
				return -1;
			if (f->str[0] == '\0')
				continue;
			struct group *gr = getgrnam(f->str);
			if (gr == NULL || strlen(f->str) >= sizeof(c->ctl_group))
				return fail(x, f, "%s: no such group '%s' (see /etc/group)", what, f->str);
			snprintf(g ? c->ctl_ro_group : c->ctl_group, sizeof(c->ctl_group), "%s", f->str);
			*(g ? &c->ctl_ro_gid : &c->ctl_gid) = (long)gr->gr_gid;
		}
		if (c->ctl_gid >= 0 && c->ctl_gid == c->ctl_ro_gid)
			return fail(x, n, "control: group and readonly-group are the same group");
	}
	if ((n = cy_map_get(root, "metrics"))) {
		static const char *const mk[] = { "listen", NULL };
		const struct cy_node *f;
		if (want(x, n, CY_MAP, "metrics") < 0 || known_keys(x, n, "metrics", mk) < 0)
			return -1;
		if ((f = cy_map_get(n, "listen"))) {
			if (want(x, f, CY_SCALAR, "metrics.listen") < 0)
				return -1;
			if (f->str[0] != '\0' && cfg_parse_listen(f->str, NULL) < 0)
				return fail(x, f, "metrics.listen: '%s' is not ADDRESS:PORT (an IP "
						  "address, IPv6 in brackets, and a port)", f->str);
			snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s", f->str);
		}
	}
	if ((n = cy_map_get(root, "log"))) {
		static const char *const lk[] = { "level", "stderr", "syslog", "packets", "nflog", NULL };
		const struct cy_node *f;
		if (want(x, n, CY_MAP, "log") < 0 || known_keys(x, n, "log", lk) < 0)
			return -1;
		if ((f = cy_map_get(n, "level"))) {
			if (want(x, f, CY_SCALAR, "log.level") < 0)
				return -1;
			c->log_level = rp_log_level_parse(f->str);
			if (c->log_level < 0)
				return fail(x, f, "log.level must be err, warning, notice, info or "
						  "debug, not '%s'", f->str);
		}
		if ((f = cy_map_get(n, "stderr")) && get_bool(x, f, "log.stderr", &c->log_stderr) < 0)
			return -1;
		if ((f = cy_map_get(n, "syslog")) && get_bool(x, f, "log.syslog", &c->log_syslog) < 0)
			return -1;
		if ((f = cy_map_get(n, "packets"))) {
			static const char *const pk[] = { "syslog", "file", NULL };
			const struct cy_node *g;
			if (want(x, f, CY_MAP, "log.packets") < 0 || known_keys(x, f, "log.packets", pk) < 0)
				return -1;
			c->pktlog_set = true;
			if ((g = cy_map_get(f, "syslog"))) {
				if (want(x, g, CY_SCALAR, "log.packets.syslog") < 0)
					return -1;
				if (strcmp(g->str, "false") == 0 || strcmp(g->str, "no") == 0)
					c->pktlog_facility = -1;
				else if (strcmp(g->str, "kern") == 0)
					return fail(x, g, "log.packets.syslog: a program cannot log with the "
							  "kern facility (syslog turns it into another); use "
							  "local0 .. local7");
				else if ((c->pktlog_facility = rp_log_facility_parse(g->str)) < 0)
					return fail(x, g, "log.packets.syslog must be a facility (user, "
							  "daemon, local0 .. local7) or false, not '%s'", g->str);
			}
			if ((g = cy_map_get(f, "file"))) {
				if (want(x, g, CY_SCALAR, "log.packets.file") < 0 ||
				    rel_path(x, g, "log.packets.file", c->pktlog_file) < 0)
					return -1;
			}
		}
		if ((f = cy_map_get(n, "nflog"))) {
			static const char *const nk[] = { "dir", "max-size-mb", NULL };
			const struct cy_node *g;
			if (want(x, f, CY_MAP, "log.nflog") < 0 || known_keys(x, f, "log.nflog", nk) < 0)
				return -1;
			if ((g = cy_map_get(f, "dir"))) {
				if (want(x, g, CY_SCALAR, "log.nflog.dir") < 0 ||
				    rel_path(x, g, "log.nflog.dir", c->nflog_dir) < 0)
					return -1;
				if (strlen(c->nflog_dir) > CFG_PATH_MAX - 32)
					return fail(x, g, "log.nflog.dir: path too long");
			}
			if ((g = cy_map_get(f, "max-size-mb"))) {
				uint64_t mb;
				if (get_uint(x, g, "log.nflog.max-size-mb", 1, 1u << 20, &mb) < 0)
					return -1;
				c->nflog_max_mb = (uint32_t)mb;
			}
		}
	}
	return 0;
}

void cfg_free(struct cfg *c)
{
	for (unsigned i = 0; i < c->n_eal; i++)
		free(c->eal_args[i]);
	free(c->routes);
	memset(c, 0, sizeof(*c));
}

static int cfg_from_tree(struct cy_node *root, const char *name, struct cfg *c, char *err,
			 size_t errlen)
{
	struct cfg_ctx x = { .name = name, .err = err, .errlen = errlen };
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", name);
	int rc = parse_root(&x, c, root);
	cy_free(root);
	if (rc < 0)
		cfg_free(c);
	return rc;
}

int cfg_load_buf(const char *buf, size_t len, const char *name, struct cfg *c, char *err,
		 size_t errlen)
{
	memset(c, 0, sizeof(*c));
	struct cy_node *root = cy_parse(buf, len, name, err, errlen);
	if (root == NULL)
		return -1;
	return cfg_from_tree(root, name, c, err, errlen);
}

int cfg_load(const char *path, struct cfg *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	struct cy_node *root = cy_parse_file(path, err, errlen);
	if (root == NULL)
		return -1;
	return cfg_from_tree(root, path, c, err, errlen);
}
