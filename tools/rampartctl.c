/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartctl: Rampart's command-line tool.
 *
 * Subcommands are a table: each has a name, a one-line summary and a
 * function taking its own argv. `convert` (offline, no daemon) translates
 * rulesets between iptables-save, ip6tables-save and YAML with full
 * validation. `conntrack` talks to rampartd over its control socket
 * (-s PATH or $RAMPART_SOCKET, default /run/rampart/rampart.sock; the
 * protocol is in src/ctl.h): -L/-C/-D/-F/-S as conntrack(8).
 *
 * Exit status: 0 success, 1 invalid input, refused conversion or an error
 * from the daemon (the message on stderr), 2 usage error, 3 the daemon
 * cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rules.h"
#include "rules_prog.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

static const char *g_socket = "/run/rampart/rampart.sock";
#define INPUT_MAX (256u << 20)

static char *slurp(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap + 1);
	while (b) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			if (cap >= INPUT_MAX) {
				free(b);
				errno = EFBIG;
				return NULL;
			}
			char *nb = realloc(b, cap * 2 + 1);
			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (b && ferror(f)) {
		free(b);
		errno = EIO;
		return NULL;
	}
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

enum fmt { F_NONE, F_IPT4, F_IPT6, F_YAML };

static enum fmt parse_fmt(const char *s)
{
	if (strcmp(s, "iptables") == 0)
		return F_IPT4;
	if (strcmp(s, "ip6tables") == 0)
		return F_IPT6;
	if (strcmp(s, "yaml") == 0)
		return F_YAML;
	return F_NONE;
}

static void convert_usage(FILE *f)
{
	fprintf(f, "usage: rampartctl convert --from iptables|ip6tables|yaml --to iptables|ip6tables|yaml\n"
		   "                          [--ipsets FILE] [-c|--counters] [FILE|-]\n"
		   "Reads FILE (default: standard input), validates it fully as rampartd would load\n"
		   "it (sets, chains, jumps, loops, where targets may be used, compilation) and prints\n"
		   "it in the other format. iptables/ip6tables are iptables-save/ip6tables-save text\n"
		   "(IPv4/IPv6 rules); yaml is Rampart's native format, holding both families.\n"
		   "--ipsets loads `ipset save` text first (for -m set in iptables input).\n"
		   "Exits 1 with file:line:col on stderr for anything iptables would refuse or\n"
		   "Rampart does not support; nothing is ever dropped silently.\n");
}

static int cmd_convert(int argc, char **argv)
{
	enum fmt from = F_NONE, to = F_NONE;
	unsigned pflags = 0;
	const char *sets = NULL;
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
		{"counters", no_argument, NULL, 'c'},   {"ipsets", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "f:t:chs:", opts, NULL)) != -1) {
		switch (o) {
		case 'f':
			if ((from = parse_fmt(optarg)) == F_NONE) {
				fprintf(stderr, "rampartctl convert: unknown format '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			if ((to = parse_fmt(optarg)) == F_NONE) {
				fprintf(stderr, "rampartctl convert: unknown format '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			pflags |= RULES_PRINT_COUNTERS;
			break;
		case 's':
			sets = optarg;
			break;
		case 'h':
			convert_usage(stdout);
			return 0;
		default:
			convert_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (from == F_NONE || to == F_NONE || argc - optind > 1) {
		convert_usage(stderr);
		return EXIT_USAGE;
	}
	const char *path = optind < argc ? argv[optind] : "-";
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "rampartctl: %s: %s\n", path, strerror(errno));
		return EXIT_INVALID;
	}
	size_t len;
	char *buf = slurp(f, &len);
	if (f != stdin)
		fclose(f);
	if (!buf) {
		fprintf(stderr, "rampartctl: %s: %s\n", name, strerror(errno));
		return EXIT_INVALID;
	}
	if (memchr(buf, '\0', len)) {
		fprintf(stderr, "rampartctl: %s: binary data (a NUL byte) in a ruleset\n", name);
		free(buf);
		return EXIT_INVALID;
	}
	char err[RULES_ERR_MAX];
	int rc = 0;
	struct rules_ruleset *rs = rules_new();
	if (!rs) {
		free(buf);
		fprintf(stderr, "rampartctl: out of memory\n");
		return EXIT_INVALID;
	}
	if (sets) {
		FILE *sf = fopen(sets, "rb");
		size_t sl;
		char *sb = sf ? slurp(sf, &sl) : NULL;
		if (sf)
			fclose(sf);
		if (!sb) {
			fprintf(stderr, "rampartctl: %s: %s\n", sets, strerror(errno));
			rc = -1;
		} else {
			rc = rules_ipset_load(rs, sb, sl, sets, err, sizeof(err));
			free(sb);
			if (rc < 0)
				fprintf(stderr, "rampartctl: %s\n", err);
		}
	}
	if (rc == 0) {
		if (from == F_YAML)
			rc = rules_yaml_load(rs, buf, len, name, err, sizeof(err));
		else
			rc = rules_ipt_load(rs, from == F_IPT6 ? RULES_F_V6 : RULES_F_V4, buf, len, name, 0,
				err, sizeof(err));
		if (rc == 0)
			rc = rules_validate(rs, name, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "rampartctl: %s\n", err);
	}
	free(buf);
	if (rc == 0) {
		/* what rampartd would do next: compile (catches nesting limits) */
		struct rules_prog *p = rules_prog_compile(rs, NULL, 0, 0, err, sizeof(err));
		if (!p) {
			fprintf(stderr, "rampartctl: %s: %s\n", name, err);
			rc = -1;
		}
		rules_prog_free(p);
	}
	if (rc == 0 && from == F_YAML && to != F_YAML) {
		/* a YAML ruleset holds both families: say what the other one drops */
		int other = to == F_IPT4 ? RULES_F_V6 : RULES_F_V4;
		size_t lost = 0;
		for (int t = 0; t < RULES_T_COUNT; t++)
			for (size_t c = 0; c < rs->tables[t].n_chains; c++)
				for (size_t i = 0; i < rs->tables[t].chains[c].n_rules; i++)
					lost += rs->tables[t].chains[c].rules[i].fam == other;
		if (lost)
			fprintf(stderr, "rampartctl: note: %zu %s-only rule(s) are not in %s output; "
					"convert with --to %s for them\n", lost,
				other == RULES_F_V6 ? "IPv6" : "IPv4", to == F_IPT4 ? "iptables" : "ip6tables",
				to == F_IPT4 ? "ip6tables" : "iptables");
	}
	if (rc == 0) {
		char *out = to == F_YAML ? rules_yaml_print(rs, pflags)
					 : rules_ipt_print(rs, to == F_IPT6 ? RULES_F_V6 : RULES_F_V4, pflags);
		if (!out) {
			fprintf(stderr, "rampartctl: out of memory\n");
			rc = -1;
		} else {
			fputs(out, stdout);
			free(out);
			if (fflush(stdout) != 0) {
				fprintf(stderr, "rampartctl: write error: %s\n", strerror(errno));
				rc = -1;
			}
		}
	}
	rules_free(rs);
	return rc == 0 ? 0 : EXIT_INVALID;
}

/* Send argv as one request line to rampartd and print its answer; the
 * last line ("%% ok ..." or "%% error: ...") becomes the exit status. */
static int daemon_request(int argc, char **argv)
{
	char line[4096];
	size_t n = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (l == 0 || strpbrk(argv[i], " \t\r\n") != NULL) {
			fprintf(stderr, "rampartctl: argument '%s' is empty or has a blank\n", argv[i]);
			return EXIT_USAGE;
		}
		if (n + l + 2 > sizeof(line)) {
			fprintf(stderr, "rampartctl: request too long\n");
			return EXIT_USAGE;
		}
		if (i)
			line[n++] = ' ';
		memcpy(line + n, argv[i], l);
		n += l;
	}
	line[n++] = '\n';
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(g_socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "rampartctl: socket path too long: %s\n", g_socket);
		return EXIT_USAGE;
	}
	memcpy(sa.sun_path, g_socket, strlen(g_socket));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "rampartctl: cannot reach rampartd at %s: %s (is it running? -s PATH "
				"names another socket)\n", g_socket, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_UNREACHABLE;
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, line + off, n - off);
		if (w <= 0) {
			fprintf(stderr, "rampartctl: write to %s: %s\n", g_socket, strerror(errno));
			close(fd);
			return EXIT_UNREACHABLE;
		}
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	FILE *in = fdopen(fd, "r");
	if (in == NULL) {
		close(fd);
		return EXIT_UNREACHABLE;
	}
	char buf[8192];
	int rc = -1;
	while (fgets(buf, sizeof(buf), in)) {
		if (strncmp(buf, "%% ", 3) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			fflush(stdout); /* the listing before its summary */
			if (strncmp(buf + 3, "ok", 2) == 0) {
				rc = 0;
				if (buf[5] == ' ')
					fprintf(stderr, "rampartctl: %s\n", buf + 6);
			} else {
				rc = EXIT_INVALID;
				fprintf(stderr, "rampartctl: %s\n", buf + 3);
			}
			continue;
		}
		fputs(buf, stdout);
	}
	fclose(in);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "rampartctl: write error: %s\n", strerror(errno));
		return EXIT_INVALID;
	}
	if (rc < 0) {
		fprintf(stderr, "rampartctl: the answer from rampartd ended early\n");
		return EXIT_UNREACHABLE;
	}
	return rc;
}

static int cmd_conntrack(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(f, "usage: rampartctl conntrack -L|-C|-D [FILTERS]   list, count, delete\n"
			   "       rampartctl conntrack -F                 delete every connection\n"
			   "       rampartctl conntrack -S                 per-worker statistics\n"
			   "filters (on the original direction), as conntrack(8):\n"
			   "  -p PROTO  -s ADDR  -d ADDR  --sport N  --dport N  --state TCPSTATE\n"
			   "  -m MARK[/MASK]  -f ipv4|ipv6\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	return daemon_request(argc, argv);
}

static int cmd_show(int argc, char **argv)
{
	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *f = argc != 2 ? stderr : stdout;
		fprintf(f, "usage: rampartctl show nat       addresses in use by NAT, per worker; "
			   "binding counters\n"
			   "       rampartctl show version   the daemon's version\n");
		return argc != 2 ? EXIT_USAGE : 0;
	}
	return daemon_request(argc, argv);
}

static const struct {
	const char *name, *summary;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{"convert", "translate a ruleset between iptables-save, ip6tables-save and YAML (offline)",
	 cmd_convert},
	{"conntrack", "list, count, delete or flush tracked connections; statistics (rampartd)",
	 cmd_conntrack},
	{"show", "show nat: NAT addresses and ports in use, binding counters (rampartd)", cmd_show},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rampartctl [-s SOCKET] COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "rampartctl COMMAND --help for a command's options.\n");
}

int main(int argc, char **argv)
{
	const char *env = getenv("RAMPART_SOCKET");
	if (env && *env)
		g_socket = env;
	while (argc >= 3 && (!strcmp(argv[1], "-s") || !strcmp(argv[1], "--socket"))) {
		g_socket = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "rampartctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
