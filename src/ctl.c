/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl: the control socket. See ctl.h for the protocol. Commands today:
 *   conntrack -L|-C|-D [filters], conntrack -F, conntrack -S, show nat,
 *   show version, version
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "dp.h"
#include "dp_ct.h"
#include "log.h"
#include "rampart_version.h"

#define CTL_LINE_MAX 4096
#define CTL_ARGS_MAX 64

struct rp_ctl {
	int fd;
	char path[108];
};

static int mkdirs(const char *path)
{
	char tmp[108];
	snprintf(tmp, sizeof(tmp), "%s", path);
	char *slash = strrchr(tmp, '/');
	if (slash == NULL || slash == tmp)
		return 0;
	*slash = '\0';
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

struct rp_ctl *rp_ctl_open(const char *path)
{
	struct sockaddr_un sa;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		RP_ERR("ctl", "control socket path too long: %s", path);
		return NULL;
	}
	if (mkdirs(path) < 0) {
		RP_ERR("ctl", "cannot create the directory of %s: %s", path, strerror(errno));
		return NULL;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		RP_ERR("ctl", "socket: %s", strerror(errno));
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	/* a socket left by a daemon that died: replace it, unless one answers */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			RP_ERR("ctl", "%s: another rampartd is listening there", path);
			return NULL;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	mode_t old = umask(0117);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 16) < 0) {
		RP_ERR("ctl", "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct rp_ctl *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		unlink(path);
		return NULL;
	}
	c->fd = fd;
	snprintf(c->path, sizeof(c->path), "%s", path);
	RP_INFO("ctl", "control socket %s", path);
	return c;
}

void rp_ctl_close(struct rp_ctl *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	unlink(c->path);
	free(c);
}

/* ---- conntrack ---- */

struct list_arg {
	FILE *out;
	char line[1024];
};

static int print_entry(void *arg, unsigned worker, const struct ct_table *v, uint32_t now)
{
	struct list_arg *a = arg;
	(void)worker;
	ct_format(v, 0, now, a->line, sizeof(a->line));
	return fprintf(a->out, "%s\n", a->line) < 0 ? -1 : 0;
}

static void cmd_conntrack(struct dp_ctx *dp, int argc, char **argv, FILE *out)
{
	char err[256];
	if (argc < 2) {
		fprintf(out, "%%%% error: conntrack needs a command: -L, -C, -D, -F or -S\n");
		return;
	}
	const char *op = argv[1];
	struct dp_ct_filter f;
	int used = 0;
	if (dp_ct_filter_parse(&f, argc - 2, argv + 2, &used, err, sizeof(err)) < 0) {
		fprintf(out, "%%%% error: conntrack: %s\n", err);
		return;
	}
	if (used != argc - 2) {
		fprintf(out, "%%%% error: conntrack: unexpected '%s'\n", argv[2 + used]);
		return;
	}
	bool filtered = argc > 2;
	if (!strcmp(op, "-L") || !strcmp(op, "--dump")) {
		struct list_arg a = { .out = out };
		int n = dp_ct_walk(dp, &f, false, print_entry, &a, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%%%% ok %d flow entries have been shown.\n", n);
	} else if (!strcmp(op, "-C") || !strcmp(op, "--count")) {
		if (!filtered) {
			fprintf(out, "%u\n%%%% ok\n", dp_ct_count(dp));
			return;
		}
		int n = dp_ct_walk(dp, &f, false, NULL, NULL, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%d\n%%%% ok\n", n);
	} else if (!strcmp(op, "-D") || !strcmp(op, "--delete")) {
		struct list_arg a = { .out = out };
		int n = dp_ct_walk(dp, &f, true, print_entry, &a, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%%%% ok %d flow entries have been deleted.\n", n);
	} else if (!strcmp(op, "-F") || !strcmp(op, "--flush")) {
		if (filtered) {
			fprintf(out, "%%%% error: conntrack -F takes no filter (use -D)\n");
			return;
		}
		int n = dp_ct_flush(dp, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%%%% ok connection tracking table has been emptied (%d entries).\n",
				n);
	} else if (!strcmp(op, "-S") || !strcmp(op, "--stats")) {
		dp_ct_stats(dp, out);
		fprintf(out, "%%%% ok\n");
	} else {
		fprintf(out, "%%%% error: conntrack: unknown command '%s' (-L, -C, -D, -F, -S)\n", op);
	}
}

/* ---- show nat ---- */

#define NAT_ADDRS_MAX 256 /* (worker, address, protocol) groups shown */

struct nat_group {
	unsigned worker;
	uint8_t fam, proto;
	bool src;            /* source translation (else destination) */
	uint8_t addr[16];
	uint64_t conns;
	uint32_t ports;      /* distinct ports in use */
	uint8_t *bits;       /* 65536-bit map of the ports (source translations) */
};

struct nat_arg {
	struct nat_group g[NAT_ADDRS_MAX];
	unsigned n;
	bool truncated;
};

static int tally_nat(void *arg, unsigned worker, const struct ct_table *v, uint32_t now)
{
	struct nat_arg *a = arg;
	const struct ct_entry *e = &v->e[0];
	(void)now;
	if (!(e->status & (CT_S_SRC_NAT | CT_S_DST_NAT)))
		return 0;
	struct ct_tuple r;
	ct_entry_tuple(v, 0, 1, &r);
	for (int k = 0; k < 2; k++) {
		bool src = k == 0;
		if (!(e->status & (src ? CT_S_SRC_NAT : CT_S_DST_NAT)))
			continue;
		/* the translated address: the reply's destination (SNAT) or source (DNAT) */
		const uint8_t *addr = src ? r.dst : r.src;
		uint16_t port = e->proto == 1 || e->proto == 58 ? r.sport : src ? r.dport : r.sport;
		struct nat_group *g = NULL;
		for (unsigned i = 0; i < a->n; i++)
			if (a->g[i].worker == worker && a->g[i].src == src && a->g[i].proto == e->proto &&
			    memcmp(a->g[i].addr, addr, 16) == 0) {
				g = &a->g[i];
				break;
			}
		if (g == NULL) {
			if (a->n == NAT_ADDRS_MAX) {
				a->truncated = true;
				continue;
			}
			g = &a->g[a->n++];
			memset(g, 0, sizeof(*g));
			g->worker = worker;
			g->src = src;
			g->fam = e->fam;
			g->proto = e->proto;
			memcpy(g->addr, addr, 16);
			if (src && (g->bits = calloc(1, 65536 / 8)) == NULL)
				return -1;
		}
		g->conns++;
		if (g->bits && !(g->bits[port >> 3] & (1u << (port & 7)))) {
			g->bits[port >> 3] |= (uint8_t)(1u << (port & 7));
			g->ports++;
		}
	}
	return 0;
}

/* Per worker: the addresses connections are translated to, with their
 * connections and (source translations) the ports in use, by protocol;
 * then the binding counters. */
static void cmd_show_nat(struct dp_ctx *dp, FILE *out)
{
	char err[256];
	struct nat_arg *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		return;
	}
	struct dp_ct_filter f;
	memset(&f, 0, sizeof(f));
	f.sport = f.dport = f.state = -1;
	int n = dp_ct_walk(dp, &f, false, tally_nat, a, err, sizeof(err));
	if (n < 0) {
		fprintf(out, "%%%% error: show nat: %s\n", err);
	} else {
		for (unsigned i = 0; i < a->n; i++) {
			const struct nat_group *g = &a->g[i];
			char ab[INET6_ADDRSTRLEN];
			inet_ntop(g->fam == 4 ? AF_INET : AF_INET6, g->addr, ab, sizeof(ab));
			const char *pn = g->proto == 6 ? "tcp" : g->proto == 17 ? "udp" :
				g->proto == 1 ? "icmp" : g->proto == 58 ? "icmpv6" : "other";
			if (g->src)
				fprintf(out, "worker=%u snat address=%s proto=%s connections=%" PRIu64
					" ports=%u\n", g->worker, ab, pn, g->conns, g->ports);
			else
				fprintf(out, "worker=%u dnat address=%s proto=%s connections=%" PRIu64 "\n",
					g->worker, ab, pn, g->conns);
		}
		dp_nat_stats(dp, out);
		if (a->truncated)
			fprintf(out, "%%%% ok only the first %d addresses are shown\n", NAT_ADDRS_MAX);
		else
			fprintf(out, "%%%% ok\n");
	}
	for (unsigned i = 0; i < a->n; i++)
		free(a->g[i].bits);
	free(a);
}

static void cmd_show(struct dp_ctx *dp, int argc, char **argv, FILE *out)
{
	if (argc == 2 && !strcmp(argv[1], "nat"))
		cmd_show_nat(dp, out);
	else if (argc == 2 && !strcmp(argv[1], "version"))
		fprintf(out, "rampartd %s\n%%%% ok\n", RAMPART_VERSION);
	else
		fprintf(out, "%%%% error: show: nat or version\n");
}

void rp_ctl_exec(struct dp_ctx *dp, char *line, FILE *out)
{
	char *argv[CTL_ARGS_MAX + 1];
	int argc = 0;
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			if (*p == '\t') {
				*p = ' ';
				continue;
			}
			fprintf(out, "%%%% error: the request has a control or non-ASCII character\n");
			return;
		}
	for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
		if (argc == CTL_ARGS_MAX) {
			fprintf(out, "%%%% error: too many words in the request\n");
			return;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	if (argc == 0) {
		fprintf(out, "%%%% error: empty request\n");
		return;
	}
	if (!strcmp(argv[0], "conntrack"))
		cmd_conntrack(dp, argc, argv, out);
	else if (!strcmp(argv[0], "show"))
		cmd_show(dp, argc, argv, out);
	else if (!strcmp(argv[0], "version"))
		fprintf(out, "rampartd %s\n%%%% ok\n", RAMPART_VERSION);
	else
		fprintf(out, "%%%% error: unknown command '%s' (conntrack, show, version)\n", argv[0]);
}

int rp_ctl_poll(struct rp_ctl *c, struct dp_ctx *dp)
{
	if (c == NULL)
		return 0;
	int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return 0;
	struct timeval rt = { .tv_sec = 1 }, wt = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
	char line[CTL_LINE_MAX + 1];
	size_t n = 0;
	bool done = false;
	while (n < CTL_LINE_MAX && !done) {
		ssize_t r = read(fd, line + n, CTL_LINE_MAX - n);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (line[n + (size_t)i] == '\n') {
				n += (size_t)i;
				done = true;
				break;
			}
		if (!done)
			n += (size_t)r;
	}
	FILE *out = fdopen(fd, "w");
	if (out == NULL) {
		close(fd);
		return 1;
	}
	if (!done) {
		fprintf(out, "%%%% error: %s\n", n >= CTL_LINE_MAX ? "request line too long (4 KiB at most)"
								 : "no request line (end it with a newline)");
	} else {
		line[n] = '\0';
		RP_DEBUG("ctl", "request: %s", line);
		rp_ctl_exec(dp, line, out);
	}
	fclose(out);
	return 1;
}
