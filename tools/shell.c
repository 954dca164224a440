/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shell: `rampartctl` with no command. A line editor (libedit) with
 * history (~/.rampartctl_history) and tab completion of commands,
 * iptables options, tables, chains (asked of the daemon when the shell
 * starts and after each change), targets and matches. Each line is split
 * like a shell does ('...', "..." and backslash escapes) and run exactly
 * as the same words would run on the command line. `help`, `quit`/`exit`
 * or end of input (Ctrl-D) leave.
 *
 * Without a terminal (a script piped in), lines are read from standard
 * input without prompt or editing; the exit status is the last command's.
 */
#include <ctype.h>
#include <editline/readline.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rampartctl.h"

#define SHELL_WORDS 512

static const char *const g_commands[] = {
	"conntrack", "convert", "dump", "load", "reload", "recent", "restore", "save", "set", "show",
	"trace", "version",
	"help", "quit", "exit", "-A", "-I", "-D", "-R", "-C", "-N", "-X", "-E", "-F", "-Z", "-P",
	"-L", "-S", "-t", "-4", "-6", NULL,
};
static const char *const g_options[] = {
	"-s", "-d", "-p", "-i", "-o", "-j", "-g", "-m", "-n", "-v", "-x", "--line-numbers", "--json", "-f",
	"--dport", "--sport", "--dports", "--sports", "--state", "--ctstate", "--to-source",
	"--to-destination", "--to-ports", "--reject-with", "--log-prefix", "--log-level",
	"--comment", "--set-mark", "--icmp-type", "--tcp-flags", "--syn", "--notrack", "--helper",
	NULL,
};
static const char *const g_tables[] = { "filter", "nat", "mangle", "raw", NULL };
static const char *const g_targets[] = {
	"ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "NFLOG", "MARK", "CONNMARK", "TOS", "DSCP",
	"TTL", "HL", "NOTRACK", "CT", "SNAT", "DNAT", "MASQUERADE", "REDIRECT", "NETMAP", "TCPMSS", "ECN",
	NULL,
};
static const char *const g_matches[] = {
	"tcp", "udp", "icmp", "icmp6", "multiport", "iprange", "mac", "length", "ttl", "hl", "tos",
	"dscp", "mark", "pkttype", "addrtype", "comment", "set", "state", "conntrack", "limit",
	"connmark", "connbytes", "connlimit", "helper", "rpfilter", "statistic", "recent", "string",
	"hashlimit", "time", "quota", NULL,
};
static const char *const g_show[] = { "nat", "ports", "workers", "sets", "recent", "hashlimit", "version",
	NULL };
static const char *const g_conntrack[] = { "-L", "-C", "-D", "-F", "-S", NULL };
static const char *const g_helpers[] = { "ftp", "tftp", "irc", NULL };
static const char *const g_expect[] = { "expect", NULL };

/* chain names, from the daemon */
static char **g_chains;
static size_t g_n_chains;

static void chains_add(const char *name, size_t len)
{
	for (size_t i = 0; i < g_n_chains; i++)
		if (strlen(g_chains[i]) == len && !memcmp(g_chains[i], name, len))
			return;
	char **n = realloc(g_chains, (g_n_chains + 1) * sizeof(*n));
	if (n == NULL)
		return;
	g_chains = n;
	g_chains[g_n_chains] = strndup(name, len);
	if (g_chains[g_n_chains] != NULL)
		g_n_chains++;
}

/* The chains of every table and family, from `save` (":NAME POLICY" lines). */
static void chains_refresh(void)
{
	for (size_t i = 0; i < g_n_chains; i++)
		free(g_chains[i]);
	g_n_chains = 0;
	for (int six = 0; six < 2; six++) {
		char *argv[] = { (char *)"save", (char *)"-6", NULL };
		char *text = NULL;
		if (ctl_capture(six ? 2 : 1, argv, &text) == 0 && text != NULL)
			for (char *l = text; *l;) {
				char *e = strchr(l, '\n');
				size_t n = e ? (size_t)(e - l) : strlen(l);
				if (l[0] == ':') {
					size_t k = strcspn(l + 1, " \n");
					chains_add(l + 1, k);
				}
				l += n + (e != NULL);
			}
		free(text);
	}
}

static const char *const *g_list;
static bool g_list_chains;

static char *gen(const char *text, int state)
{
	static size_t i, j;
	if (state == 0)
		i = j = 0;
	size_t len = strlen(text);
	if (g_list)
		while (g_list[i]) {
			const char *w = g_list[i++];
			if (!strncmp(w, text, len))
				return strdup(w);
		}
	if (g_list_chains)
		while (j < g_n_chains) {
			const char *w = g_chains[j++];
			if (!strncmp(w, text, len))
				return strdup(w);
		}
	return NULL;
}

/* The word before the one being completed, and how many there are. */
static void context(int start, char *prev, size_t plen, int *nwords, char *first, size_t flen)
{
	const char *b = rl_line_buffer;
	int n = 0;
	prev[0] = first[0] = '\0';
	for (int i = 0; i < start;) {
		while (i < start && isspace((unsigned char)b[i]))
			i++;
		int s = i;
		while (i < start && !isspace((unsigned char)b[i]))
			i++;
		if (i > s) {
			snprintf(prev, plen, "%.*s", i - s, b + s);
			if (n == 0)
				snprintf(first, flen, "%.*s", i - s, b + s);
			n++;
		}
	}
	*nwords = n;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	char prev[64], first[64];
	int n;
	context(start, prev, sizeof(prev), &n, first, sizeof(first));
	g_list = NULL;
	g_list_chains = false;
	if (n == 0)
		g_list = g_commands;
	else if (!strcmp(prev, "-t"))
		g_list = g_tables;
	else if (!strcmp(prev, "-j") || !strcmp(prev, "-g")) {
		g_list = g_targets;
		g_list_chains = true;
	} else if (!strcmp(prev, "-m"))
		g_list = g_matches;
	else if (!strcmp(prev, "--helper"))
		g_list = g_helpers;
	else if (!strcmp(first, "conntrack") && n == 2 &&
		 (!strcmp(prev, "-L") || !strcmp(prev, "-C") || !strcmp(prev, "-F")))
		g_list = g_expect;
	else if (strchr("AIDRCNXEFZPLS", prev[1] ? prev[1] : '?') && prev[0] == '-' && prev[2] == 0)
		g_list_chains = true;
	else if (!strcmp(first, "show") && n == 1)
		g_list = g_show;
	else if (!strcmp(first, "conntrack") && n == 1)
		g_list = g_conntrack;
	else if (first[0] == '-')
		g_list = text[0] == '-' ? g_options : g_commands;
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, gen);
}

/* Split like a shell: blanks separate, '...' and "..." quote, \ escapes. */
static int split(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line, *o = line;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (argc == max)
			return -1;
		argv[argc++] = o;
		char q = 0;
		while (*p && (q || !isspace((unsigned char)*p))) {
			if (q) {
				if (*p == q) {
					q = 0;
					p++;
					continue;
				}
				if (q == '"' && *p == '\\' && p[1]) {
					p++;
				}
				*o++ = *p++;
			} else if (*p == '\'' || *p == '"') {
				q = *p++;
			} else if (*p == '\\' && p[1]) {
				p++;
				*o++ = *p++;
			} else {
				*o++ = *p++;
			}
		}
		if (q)
			return -2;
		if (*p)
			p++;
		*o++ = '\0';
	}
	return argc;
}

static void shell_help(void)
{
	printf("Commands are those of the command line, without `rampartctl`:\n"
	       "  -A INPUT -p tcp --dport 22 -j ACCEPT     -L -n -v     -t nat -S\n"
	       "  save   restore FILE   load FILE.yaml   reload   dump --yaml\n"
	       "  conntrack -L   show nat|ports|version   version   help   quit\n"
	       "Tab completes commands, options, tables, chains, targets and matches.\n");
}

int ctl_shell(void)
{
	bool tty = isatty(0) && isatty(1);
	char hist[512] = "";
	const char *home = getenv("HOME");
	if (tty && home)
		snprintf(hist, sizeof(hist), "%s/.rampartctl_history", home);
	if (tty) {
		rl_readline_name = "rampartctl";
		rl_attempted_completion_function = complete;
		using_history();
		if (hist[0])
			read_history(hist);
		chains_refresh();
		printf("rampartctl: interactive; `help` for help, Tab completes, Ctrl-D leaves\n");
	}
	int rc = 0;
	char *line;
	char *buf = NULL;
	size_t cap = 0;
	for (;;) {
		if (tty) {
			line = readline("rampart> ");
			if (line == NULL)
				break;
		} else {
			if (getline(&buf, &cap, stdin) < 0)
				break;
			buf[strcspn(buf, "\n")] = '\0';
			line = strdup(buf);
			if (line == NULL)
				break;
		}
		char *copy = strdup(line);
		char *argv[SHELL_WORDS + 1];
		int argc = copy ? split(copy, argv, SHELL_WORDS) : -1;
		if (argc > 0 && tty)
			add_history(line);
		free(line);
		if (argc == -2) {
			fprintf(stderr, "rampartctl: unterminated quote\n");
			rc = 2;
		} else if (argc < 0) {
			fprintf(stderr, "rampartctl: too many words\n");
			rc = 2;
		} else if (argc > 0) {
			argv[argc] = NULL;
			if (!strcmp(argv[0], "quit") || !strcmp(argv[0], "exit")) {
				free(copy);
				break;
			}
			if (!strcmp(argv[0], "help")) {
				shell_help();
				rc = 0;
			} else if (!strcmp(argv[0], "conntrack") && argc > 1 &&
				   (!strcmp(argv[1], "-E") || !strcmp(argv[1], "--event"))) {
				/* it follows until interrupted: not here, where an
				 * interrupt would end the shell */
				fprintf(stderr, "rampartctl: conntrack -E follows the events until "
					"interrupted: run it as rampartctl conntrack -E\n");
				rc = 2;
			} else {
				rc = ctl_dispatch(argc, argv);
				fflush(stdout);
				if (tty && argv[0][0] == '-')
					chains_refresh(); /* -N, -X, -E change the names */
			}
		}
		free(copy);
	}
	free(buf);
	if (tty && hist[0])
		write_history(hist);
	if (tty)
		putchar('\n');
	return rc;
}
