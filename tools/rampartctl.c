/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartctl: Rampart's command-line tool.
 *
 * Subcommands are a table: each has a name, a one-line summary and a
 * function taking its own argv. `convert` (offline, no daemon) translates
 * rulesets between iptables-save, ip6tables-save and YAML with full
 * validation. `conntrack` talks to rampartd over its control socket
 * (-s PATH or $RAMPART_SOCKET, default /run/rampart/rampart.sock; the
 * protocol is in src/ctl.h): -L/-C/-D/-U/-F/-S as conntrack(8).
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

#include <signal.h>
#include <stdbool.h>

#include "ctl.h"
#include "rampartctl.h"
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

/* Connect to rampartd's control socket; -1 (message printed) if it cannot. */
static int ctl_connect(void)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(g_socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "rampartctl: socket path too long: %s\n", g_socket);
		return -1;
	}
	memcpy(sa.sun_path, g_socket, strlen(g_socket));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "rampartctl: cannot reach rampartd at %s: %s (is it running? -s PATH "
				"names another socket)\n", g_socket, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Print-the-ok-message policy: iptables is silent on success. */
static bool g_quiet_ok;

/*
 * Send argv (encoded words, ctl.h) and an optional body to rampartd and
 * print its answer; the last line ("%% ok ..." or "%% error: ...") becomes
 * the exit status. out receives the answer's text lines.
 */
static int daemon_request_to(int argc, char **argv, const char *body, size_t blen, FILE *outf)
{
	size_t cap = 256, n = 0;
	for (int i = 0; i < argc; i++)
		cap += strlen(argv[i]) * 3 + 4;
	char *line = malloc(cap + 32);
	if (line == NULL) {
		fprintf(stderr, "rampartctl: out of memory\n");
		return EXIT_INVALID;
	}
	for (int i = 0; i < argc; i++) {
		if (i)
			line[n++] = ' ';
		n += rp_ctl_encode(argv[i], line + n, cap - n);
	}
	if (body != NULL)
		n += (size_t)snprintf(line + n, 32, " <<%zu", blen);
	line[n++] = '\n';
	if (n > CTL_HEAD_MAX) {
		fprintf(stderr, "rampartctl: request too long\n");
		free(line);
		return EXIT_USAGE;
	}
	int fd = ctl_connect();
	if (fd < 0) {
		free(line);
		return EXIT_UNREACHABLE;
	}
	signal(SIGPIPE, SIG_IGN);
	int wr = write_all(fd, line, n);
	free(line);
	if (wr == 0 && body != NULL)
		wr = write_all(fd, body, blen);
	/* a refusal may come before the whole body is sent: read the answer anyway */
	shutdown(fd, SHUT_WR);
	FILE *in = fdopen(fd, "r");
	if (in == NULL) {
		close(fd);
		return EXIT_UNREACHABLE;
	}
	char *buf = NULL;
	size_t bcap = 0;
	ssize_t len;
	int rc = -1, werr = 0;
	while ((len = getline(&buf, &bcap, in)) > 0) {
		if (strncmp(buf, "%% warning: ", 12) == 0) { /* conntrack -E: lost events */
			fflush(outf);
			fprintf(stderr, "rampartctl: %s", buf + 3);
			continue;
		}
		if (strncmp(buf, "%% ", 3) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			fflush(outf); /* the listing before its summary */
			if (strncmp(buf + 3, "ok", 2) == 0) {
				rc = 0;
				if (buf[5] == ' ' && !g_quiet_ok)
					fprintf(stderr, "rampartctl: %s\n", buf + 6);
			} else {
				rc = EXIT_INVALID;
				fprintf(stderr, "rampartctl: %s\n", buf + 3);
			}
			continue;
		}
		if (fputs(buf, outf) == EOF || ferror(outf)) {
			werr = errno ? errno : EIO;
			break; /* the output is gone (conntrack -E | head): stop reading */
		}
	}
	free(buf);
	fclose(in);
	if (werr == 0 && fflush(outf) != 0)
		werr = errno;
	if (werr != 0) {
		fprintf(stderr, "rampartctl: write error: %s\n", strerror(werr));
		return EXIT_INVALID;
	}
	if (rc < 0) {
		fprintf(stderr, "rampartctl: the answer from rampartd ended early%s\n",
			wr < 0 ? " (it closed the connection while the request was sent)" : "");
		return EXIT_UNREACHABLE;
	}
	return rc;
}

static int daemon_request(int argc, char **argv)
{
	return daemon_request_to(argc, argv, NULL, 0, stdout);
}

static int cmd_conntrack(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(f, "usage: rampartctl conntrack -L|-C|-D [FILTERS]   list, count, delete\n"
			   "       rampartctl conntrack -U [FILTERS] -m MARK[/MASK]\n"
			   "                 set the mark of those that match (the bits of MASK)\n"
			   "       rampartctl conntrack -F                 delete every connection\n"
			   "       rampartctl conntrack -S                 per-worker statistics\n"
			   "       rampartctl conntrack -E [-e EVENTS] [-o timestamp] [--json] [FILTERS]\n"
			   "                 follow the events (NEW,UPDATE,DESTROY) until interrupted\n"
			   "       rampartctl conntrack -L|-C|-F expect    the helpers' expectations: list, "
			   "count, drop\n"
			   "       rampartctl conntrack -E expect [-e EVENTS] [-o timestamp] [--json]\n"
			   "                 follow the expectations' events (NEW,DESTROY)\n"
			   "filters, as conntrack(8):\n"
			   "  -p PROTO  -s ADDR  -d ADDR  --sport N  --dport N  --state STATE (TCP, SCTP)\n"
			   "  -r ADDR  -q ADDR  --reply-port-src N  --reply-port-dst N  (reply direction)\n"
			   "  --src-nat[=ADDR]  --dst-nat[=ADDR]  --any-nat[=ADDR]  -m MARK[/MASK]  -f ipv4|ipv6\n"
			   "--json (-L, -S): a JSON array of objects instead\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "-E") || !strcmp(argv[1], "--event"))
		setvbuf(stdout, NULL, _IOLBF, 0); /* each event as it comes */
	return daemon_request(argc, argv);
}

static bool want_help(int argc, char **argv);

static int cmd_show(int argc, char **argv)
{
	/* --json (nat, version) goes to the daemon with the rest */
	int words = argc;
	for (int i = 1; i < argc; i++)
		words -= !strcmp(argv[i], "--json");
	if (words != 2 || want_help(argc, argv)) {
		FILE *f = words != 2 ? stderr : stdout;
		fprintf(f, "usage: rampartctl show nat       addresses in use by NAT, per worker; "
			   "binding counters\n"
			   "       rampartctl show ports     per port and per worker counters (also: workers)\n"
			   "       rampartctl show sets      the named sets and their sizes\n"
			   "       rampartctl show recent    the -m recent lists and their addresses\n"
			   "       rampartctl show hashlimit the -m hashlimit tables and their entries\n"
			   "       rampartctl show version   the daemon's version, ruleset generation, last change\n"
			   "--json (nat, version): one JSON document instead\n");
		return words != 2 ? EXIT_USAGE : 0;
	}
	return daemon_request(argc, argv);
}

static bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static int cmd_save(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		printf("usage: rampartctl save [-t TABLE] [-c] [-6]\n"
		       "  the live ruleset as iptables-save (-6: ip6tables-save) prints it;\n"
		       "  -c with the counters, -t one table only\n");
		return 0;
	}
	return daemon_request(argc, argv);
}

static int cmd_restore(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		printf("usage: rampartctl restore [-n|--noflush] [-t|--test] [-c|--counters] [-6]\n"
		       "                          [-T TABLE] [FILE]\n"
		       "  iptables-restore (-6: ip6tables-restore) text from FILE or standard input,\n"
		       "  applied as one transaction: all of it or nothing. --noflush keeps the rules\n"
		       "  of the tables the file names; --test only validates; -c takes the counters.\n");
		return 0;
	}
	const char *file = NULL;
	char *words[64];
	int n = 0;
	for (int i = 0; i < argc && n < 63; i++) {
		if (i > 0 && argv[i][0] != '-' && (i < 2 || strcmp(argv[i - 1], "-T") != 0) &&
		    strcmp(argv[i - 1], "--table") != 0) {
			file = argv[i];
			continue;
		}
		words[n++] = argv[i];
	}
	FILE *f = file ? fopen(file, "rb") : stdin;
	if (f == NULL) {
		fprintf(stderr, "rampartctl: %s: %s\n", file, strerror(errno));
		return EXIT_INVALID;
	}
	size_t len;
	char *body = slurp(f, &len);
	if (file)
		fclose(f);
	if (body == NULL)
		return EXIT_INVALID;
	int rc = daemon_request_to(n, words, body, len, stdout);
	free(body);
	return rc;
}

static int cmd_load(int argc, char **argv)
{
	if (want_help(argc, argv) || argc < 2) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: rampartctl load [--test] FILE.yaml\n"
			"  replace the whole live ruleset by a YAML ruleset (docs/rulesets.md); rules\n"
			"  that did not change keep their counters; --test only validates\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *file = NULL;
	bool test = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--test") || !strcmp(argv[i], "-t"))
			test = true;
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else {
			fprintf(stderr, "rampartctl: load: unexpected '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "rampartctl: load: which file?\n");
		return EXIT_USAGE;
	}
	FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
	if (f == NULL) {
		fprintf(stderr, "rampartctl: %s: %s\n", file, strerror(errno));
		return EXIT_INVALID;
	}
	size_t len;
	char *body = slurp(f, &len);
	if (f != stdin)
		fclose(f);
	if (body == NULL)
		return EXIT_INVALID;
	char *words[3] = { (char *)"load", (char *)file, (char *)"--test" };
	int rc = daemon_request_to(test ? 3 : 2, words, body, len, stdout);
	free(body);
	return rc;
}

static int cmd_simple(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		if (!strcmp(argv[0], "reload"))
			printf("usage: rampartctl reload\n  read the configured ruleset files again "
			       "(as SIGHUP); unchanged rules keep their counters\n");
		else if (!strcmp(argv[0], "dump"))
			printf("usage: rampartctl dump [--yaml]\n  the live ruleset as YAML that "
			       "`rampartctl load` accepts\n");
		else
			printf("usage: rampartctl %s\n", argv[0]);
		return 0;
	}
	return daemon_request(argc, argv);
}

static int cmd_set(int argc, char **argv)
{
	if (argc < 2 || want_help(argc, argv)) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: rampartctl set add [-exist] NAME ENTRY [timeout N] [nomatch] [comment TEXT]\n"
			"                                       add an entry to a named set (-m set);\n"
			"                                       timeout: its seconds to live (0: never);\n"
			"                                       nomatch: an exception (hash:net types);\n"
			"                                       comment: sets created with comment;\n"
			"                                       a list:set: ENTRY is a set's name,\n"
			"                                       [before|after OTHER] its place\n"
			"       rampartctl set del [-exist] NAME ENTRY   remove it\n"
			"       rampartctl set test NAME ENTRY  exit 0 if it is in the set, 1 if not\n"
			"       rampartctl set flush NAME       remove every entry\n"
			"       rampartctl set list [NAME]      the sets as `ipset save` prints them\n"
			"ENTRY as ipset writes it: 10.0.0.1, 10.0.0.0/8, 10.0.0.1,tcp:80, 8080-8090\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	return daemon_request(argc, argv);
}

static int cmd_recent(int argc, char **argv)
{
	if (argc != 3 || want_help(argc, argv)) {
		fprintf(argc != 3 ? stderr : stdout,
			"usage: rampartctl recent NAME +ADDR   add ADDR to the -m recent list NAME\n"
			"                                     (a hit if it is there)\n"
			"       rampartctl recent NAME -ADDR   remove it\n"
			"       rampartctl recent NAME /       empty the list\n"
			"as writing to /proc/net/xt_recent/NAME; rampartctl show recent lists them\n");
		return argc != 3 ? EXIT_USAGE : 0;
	}
	return daemon_request(argc, argv);
}

static int cmd_trace(int argc, char **argv)
{
	if (argc < 2 || want_help(argc, argv)) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: rampartctl trace add N [FILTER]   trace the next N packets (1-1000) that match\n"
			"       rampartctl trace show             the packets traced so far\n"
			"       rampartctl trace clear            stop and forget\n"
			"FILTER (all must match): -s ADDR[/PLEN] -d ADDR[/PLEN] -p PROTO --sport N --dport N\n"
			"                         -i PORT -4 -6\n"
			"trace show --json: the records as a JSON array\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	return daemon_request(argc, argv);
}

static void ipt_usage(FILE *f)
{
	fprintf(f,
		"usage: rampartctl [-4|-6] [-t TABLE] COMMAND [CHAIN] [RULE] [OPTIONS]\n"
		"iptables' own commands, applied to the live ruleset as one atomic change:\n"
		"  -A CHAIN RULE          append            -I CHAIN [N] RULE   insert (N from 1)\n"
		"  -D CHAIN RULE|N        delete            -R CHAIN N RULE     replace\n"
		"  -C CHAIN RULE          check it exists   -N CHAIN / -X [CHAIN]  new / delete chain\n"
		"  -E OLD NEW             rename a chain    -F [CHAIN] / -Z [CHAIN [N]]  flush / zero\n"
		"  -P CHAIN POLICY        built-in chain's policy\n"
		"  -L [CHAIN [N]]         list (-n numeric, -v verbose, -x exact, --line-numbers)\n"
		"  -S [CHAIN [N]]         list as rules (-v with counters)\n"
		"  -L/-S ... --json       one JSON document: chains, policies, rules, exact counters\n"
		"RULE is written as for iptables (-s, -d, -p, -i, -o, -m MATCH ..., -j/-g TARGET).\n"
		"-6 works on the IPv6 rules (ip6tables); -t defaults to filter.\n");
}

static int cmd_ipt(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		ipt_usage(stdout);
		return 0;
	}
	bool verbose = false;
	for (int i = 0; i < argc; i++)
		verbose |= !strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose");
	g_quiet_ok = !verbose;
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
	{"show", "nat, ports, workers, version: the daemon's state (rampartd)", cmd_show},
	{"save", "the live ruleset as iptables-save text (rampartd)", cmd_save},
	{"restore", "apply iptables-restore text as one transaction (rampartd)", cmd_restore},
	{"load", "replace the live ruleset by a YAML file (rampartd)", cmd_load},
	{"reload", "read the configured ruleset files again, as SIGHUP (rampartd)", cmd_simple},
	{"dump", "the live ruleset as YAML (rampartd)", cmd_simple},
	{"version", "the daemon's version (rampartd)", cmd_simple},
	{"set", "named sets: add|del NAME ENTRY, flush NAME, list [NAME] (rampartd)", cmd_set},
	{"recent", "-m recent lists: NAME +ADDR, NAME -ADDR, NAME / (rampartd)", cmd_recent},
	{"trace", "trace the next packets through the pipeline: add N [FILTER], show, clear (rampartd)",
	 cmd_trace},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rampartctl [-s SOCKET] COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "  -A, -I, -D, -R, -C, -N, -X, -E, -F, -Z, -P, -L, -S: iptables' own commands "
		   "(rampartctl -h -A)\n"
		   "With no command: an interactive shell.\n"
		   "rampartctl COMMAND --help for a command's options.\n");
}

int ctl_dispatch(int argc, char **argv)
{
	if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
		if (argc > 1)
			ipt_usage(stdout);
		else
			usage(stdout);
		return 0;
	}
	g_quiet_ok = false;
	if (argv[0][0] == '-')
		return cmd_ipt(argc, argv);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	fprintf(stderr, "rampartctl: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return EXIT_USAGE;
}

int ctl_capture(int argc, char **argv, char **text)
{
	size_t len = 0;
	*text = NULL;
	FILE *f = open_memstream(text, &len);
	if (f == NULL)
		return EXIT_INVALID;
	bool q = g_quiet_ok;
	g_quiet_ok = true;
	FILE *saved = stderr;
	FILE *null = fopen("/dev/null", "w");
	if (null)
		stderr = null;
	int rc = daemon_request_to(argc, argv, NULL, 0, f);
	if (null) {
		stderr = saved;
		fclose(null);
	}
	g_quiet_ok = q;
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	const char *env = getenv("RAMPART_SOCKET");
	if (env && *env)
		g_socket = env;
	/* -s SOCKET (a path: iptables' -s ADDRESS never starts with '/' or '.') */
	while (argc >= 3 && (!strcmp(argv[1], "--socket") ||
			     (!strcmp(argv[1], "-s") && (argv[2][0] == '/' || argv[2][0] == '.')))) {
		g_socket = argv[2];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2)
		return ctl_shell();
	return ctl_dispatch(argc - 1, argv + 1);
}
