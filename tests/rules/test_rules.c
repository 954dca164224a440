/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of rules/: golden files (our printer against what the kernel's
 * iptables-save printed for the same input, and our -L / -S listings
 * against `iptables -L -n -v -x --line-numbers` / `iptables -S -v`, see
 * make-golden.sh), single-chain and single-rule listings, every
 * validation error with its line:col, transactional loads, the single-rule
 * API with dual-family rules, and a seeded random round trip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "ipt_list.h"
#include "rules.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0, r;
	char *b = malloc(cap + 1);
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(b, (cap *= 2) + 1);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
		}
	}
	fclose(f);
	if (b)
		b[n] = '\0';
	*len = n;
	return b;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Fails with the first differing line of two texts. */
static void assert_same_text(const char *what, const char *want, const char *got)
{
	if (strcmp(want, got) == 0)
		return;
	int line = 1;
	const char *w = want, *g = got;
	while (*w && *w == *g) {
		if (*w == '\n')
			line++;
		w++;
		g++;
	}
	const char *ws = w, *gs = g;
	while (ws > want && ws[-1] != '\n')
		ws--;
	while (gs > got && gs[-1] != '\n')
		gs--;
	print_error("%s: line %d differs\n want: %.*s\n  got: %.*s\n", what, line,
		(int)strcspn(ws, "\n"), ws, (int)strcspn(gs, "\n"), gs);
	fail();
}

static struct rules_ruleset *load_golden(const char *dir, const char *name, const char *ext,
	int fam)
{
	char path[1024], err[RULES_ERR_MAX];
	size_t len;
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	snprintf(path, sizeof(path), "%s/%.*s.ipset", dir, (int)(strlen(name) - strlen(".rules")), name);
	char *sets = slurp(path, &len);
	if (sets) {
		if (rules_ipset_load(rs, sets, len, path, err, sizeof(err)) < 0) {
			print_error("%s\n", err);
			fail();
		}
		free(sets);
	}
	snprintf(path, sizeof(path), "%s/%.*s%s", dir, (int)(strlen(name) - strlen(".rules")), name, ext);
	char *text = slurp(path, &len);
	assert_non_null(text);
	if (rules_ipt_load(rs, fam, text, len, path, 0, err, sizeof(err)) < 0) {
		print_error("%s\n", err);
		fail();
	}
	free(text);
	return rs;
}

static void test_golden(void **state)
{
	DIR *d = opendir(GOLDEN_DIR);
	struct dirent *de;
	int n = 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, ".rules"))
			continue;
		int fam = strstr(de->d_name, "-v6") ? RULES_F_V6 : RULES_F_V4;
		unsigned pf = strstr(de->d_name, "-counters") ? RULES_PRINT_COUNTERS : 0;
		char path[1024];
		size_t len;
		snprintf(path, sizeof(path), "%s/%.*s.save", GOLDEN_DIR,
			(int)(strlen(de->d_name) - strlen(".rules")), de->d_name);
		char *want = slurp(path, &len);
		assert_non_null(want);

		/* input -> print == what the kernel printed */
		struct rules_ruleset *rs = load_golden(GOLDEN_DIR, de->d_name, ".rules", fam);
		char *got = rules_ipt_print(rs, fam, pf);
		assert_non_null(got);
		assert_same_text(de->d_name, want, got);
		/* the other family saw nothing */
		char *other = rules_ipt_print(rs, fam == RULES_F_V4 ? RULES_F_V6 : RULES_F_V4, pf);
		assert_non_null(other);
		assert_string_equal(other, "");
		free(other);
		free(got);
		rules_free(rs);

		/* canonical text -> print is a fixed point */
		rs = load_golden(GOLDEN_DIR, de->d_name, ".save", fam);
		got = rules_ipt_print(rs, fam, pf);
		assert_non_null(got);
		assert_same_text(path, want, got);
		free(got);
		rules_free(rs);
		free(want);
		n++;
	}
	closedir(d);
	assert_true(n >= 6);
}

/* Whether restore text names table `name` on a "*name" line (make-golden.sh's rule). */
static bool text_names_table(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (p[0] == '*' && strncmp(p + 1, name, n) == 0 &&
			(p[1 + n] == '\0' || strchr(" \t\r\n", p[1 + n])))
			return true;
	}
	return false;
}

/* NAME.rules listed with -L -n -v -x --line-numbers / -S -v == NAME.list / NAME.spec. */
static void test_golden_list(void **state)
{
	static const enum rules_table_id order[] = {RULES_T_RAW, RULES_T_MANGLE, RULES_T_NAT,
		RULES_T_FILTER};
	DIR *d = opendir(GOLDEN_DIR);
	struct dirent *de;
	int n = 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, ".rules"))
			continue;
		int fam = strstr(de->d_name, "-v6") ? RULES_F_V6 : RULES_F_V4;
		int stem = (int)(strlen(de->d_name) - strlen(".rules"));
		char path[1024];
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, de->d_name);
		char *text = slurp(path, &len);
		assert_non_null(text);
		struct rules_ruleset *rs = load_golden(GOLDEN_DIR, de->d_name, ".rules", fam);
		for (int spec = 0; spec < 2; spec++) {
			snprintf(path, sizeof(path), "%s/%.*s.%s", GOLDEN_DIR, stem, de->d_name,
				spec ? "spec" : "list");
			char *want = slurp(path, &len);
			assert_non_null(want);
			char *got = NULL;
			size_t got_len = 0;
			FILE *f = open_memstream(&got, &got_len);
			assert_non_null(f);
			for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
				if (!text_names_table(text, rules_table_name(order[k])))
					continue;
				char *out = spec ? rules_ipt_spec(rs, fam, order[k], NULL, 0, RULES_LIST_VERBOSE) :
						   rules_ipt_list(rs, fam, order[k], NULL, 0,
							   RULES_LIST_NUMERIC | RULES_LIST_VERBOSE |
								   RULES_LIST_EXACT | RULES_LIST_LINENUMBERS);
				assert_non_null(out);
				fprintf(f, "# table %s\n%s", rules_table_name(order[k]), out);
				free(out);
			}
			fclose(f);
			assert_same_text(path, want, got);
			free(got);
			free(want);
		}
		rules_free(rs);
		free(text);
		n++;
	}
	closedir(d);
	assert_true(n >= 6);
}

/* Single chains and rules, abbreviated counters, errors. The expected texts
 * are what iptables 1.8.9 (nft) printed for the same ruleset. */
static void test_list_chain(void **state)
{
	static const char in[] = "*filter\n"
				 ":INPUT DROP [123456789:99999]\n"
				 ":FORWARD ACCEPT [100000:9999999999]\n"
				 ":OUTPUT ACCEPT [5:6]\n"
				 ":u - [0:0]\n"
				 "[99999:100000] -A INPUT -i eth0 -j u\n"
				 "[123456789012:12345678901234] -A INPUT -p tcp --dport 64999 -g u\n"
				 "[1:2] -A INPUT ! -i eth+ -j ACCEPT\n"
				 "-A u -j RETURN\n"
				 "-A u -p tcp\n"
				 "COMMIT\n";
	char err[RULES_ERR_MAX];
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, in, strlen(in), "t", 0, err, sizeof(err)), 0);
	static const struct {
		bool spec;
		const char *chain;
		long num;
		unsigned flags;
		const char *want;
	} cases[] = {
		{false, "INPUT", 0, RULES_LIST_VERBOSE | RULES_LIST_NUMERIC,
			"Chain INPUT (policy DROP 123M packets, 99999 bytes)\n"
			" pkts bytes target     prot opt in     out     source               destination         \n"
			"99999  100K u          0    --  eth0   *       0.0.0.0/0            0.0.0.0/0           \n"
			" 123G   12T u          6    --  *      *       0.0.0.0/0            0.0.0.0/0           [goto]  tcp dpt:64999\n"
			"    1     2 ACCEPT     0    --  !eth+  *       0.0.0.0/0            0.0.0.0/0           \n"},
		{false, "FORWARD", 0, RULES_LIST_VERBOSE,
			"Chain FORWARD (policy ACCEPT 100K packets, 10G bytes)\n"
			" pkts bytes target     prot opt in     out     source               destination         \n"},
		{false, "INPUT", 0, RULES_LIST_VERBOSE | RULES_LIST_EXACT,
			"Chain INPUT (policy DROP 123456789 packets, 99999 bytes)\n"
			"    pkts      bytes target     prot opt in     out     source               destination         \n"
			"   99999   100000 u          all  --  eth0   any     anywhere             anywhere            \n"
			"123456789012 12345678901234 u          tcp  --  any    any     anywhere             anywhere            [goto]  tcp dpt:64999\n"
			"       1        2 ACCEPT     all  --  !eth+  any     anywhere             anywhere            \n"},
		{false, "u", 0, 0,
			"Chain u (2 references)\n"
			"target     prot opt source               destination         \n"
			"RETURN     all  --  anywhere             anywhere            \n"
			"           tcp  --  anywhere             anywhere            \n"},
		{false, "u", 0, RULES_LIST_VERBOSE | RULES_LIST_LINENUMBERS,
			"Chain u (2 references)\n"
			"num   pkts bytes target     prot opt in     out     source               destination         \n"
			"1        0     0 RETURN     all  --  any    any     anywhere             anywhere            \n"
			"2        0     0            tcp  --  any    any     anywhere             anywhere            \n"},
		{false, "INPUT", 2, RULES_LIST_VERBOSE | RULES_LIST_NUMERIC,
			" 123G   12T u          6    --  *      *       0.0.0.0/0            0.0.0.0/0           [goto]  tcp dpt:64999\n"},
		{false, "INPUT", 9, 0, ""},
		{true, "u", 0, 0, "-N u\n-A u -j RETURN\n-A u -p tcp\n"},
		{true, "u", 2, 0, "-A u -p tcp\n"},
		{true, "u", 5, 0, ""},
		{true, "INPUT", 2, RULES_LIST_VERBOSE,
			"-A INPUT -p tcp -m tcp --dport 64999 -c 123456789012 12345678901234 -g u\n"},
		{true, "INPUT", 0, RULES_LIST_VERBOSE,
			"-P INPUT DROP -c 123456789 99999\n"
			"-A INPUT -i eth0 -c 99999 100000 -j u\n"
			"-A INPUT -p tcp -m tcp --dport 64999 -c 123456789012 12345678901234 -g u\n"
			"-A INPUT ! -i eth+ -c 1 2 -j ACCEPT\n"},
		{true, NULL, 0, 0,
			"-P INPUT DROP\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N u\n"
			"-A INPUT -i eth0 -j u\n"
			"-A INPUT -p tcp -m tcp --dport 64999 -g u\n"
			"-A INPUT ! -i eth+ -j ACCEPT\n"
			"-A u -j RETURN\n"
			"-A u -p tcp\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = cases[i].spec ?
			rules_ipt_spec(rs, RULES_F_V4, RULES_T_FILTER, cases[i].chain, cases[i].num,
				cases[i].flags) :
			rules_ipt_list(rs, RULES_F_V4, RULES_T_FILTER, cases[i].chain, cases[i].num,
				cases[i].flags);
		assert_non_null(got);
		assert_same_text(cases[i].chain ? cases[i].chain : "(all)", cases[i].want, got);
		free(got);
	}
	/* errors: unknown chain, chain of the other family, bad arguments */
	errno = 0;
	assert_null(rules_ipt_list(rs, RULES_F_V4, RULES_T_FILTER, "nosuch", 0, 0));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(rules_ipt_spec(rs, RULES_F_V6, RULES_T_FILTER, "u", 0, 0));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(rules_ipt_list(rs, RULES_F_V4, RULES_T_NAT, "FORWARD", 0, 0));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(rules_ipt_list(rs, RULES_F_V4, RULES_T_FILTER, NULL, 1, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(rules_ipt_spec(rs, RULES_F_ALL, RULES_T_FILTER, NULL, 0, 0));
	assert_int_equal(errno, EINVAL);
	/* built-in chains of the other family exist (empty, ACCEPT) */
	char *got = rules_ipt_list(rs, RULES_F_V6, RULES_T_FILTER, "INPUT", 0, RULES_LIST_NUMERIC);
	assert_non_null(got);
	assert_string_equal(got, "Chain INPUT (policy ACCEPT)\n"
				 "target     prot opt source               destination         \n");
	free(got);
	rules_free(rs);
}

struct err_case {
	int fam;
	const char *in;
	const char *expect; /* after "t:" */
};

static const struct err_case err_cases[] = {
	/* -m quota: libxt_quota's --quota is mandatory, a uint64 in any base */
	{RULES_F_V4, "*filter\n-A INPUT -m quota -j DROP\nCOMMIT\n",
		"2:13: quota: option --quota must be specified"},
	{RULES_F_V4, "*filter\n-A INPUT -m quota --quota 18446744073709551616\nCOMMIT\n",
		"2:27: invalid value \"18446744073709551616\" for --quota (0-18446744073709551615)"},
	{RULES_F_V4, "*filter\n-A INPUT -m quota --quota -1\nCOMMIT\n",
		"2:27: invalid value \"-1\" for --quota (0-18446744073709551615)"},
	{RULES_F_V4, "*filter\n-A INPUT -m quota --quota 10k\nCOMMIT\n",
		"2:27: invalid value \"10k\" for --quota (0-18446744073709551615)"},
	{RULES_F_V6, "*filter\n-A INPUT -m quota --quota 0x\nCOMMIT\n",
		"2:27: invalid value \"0x\" for --quota (0-18446744073709551615)"},
	{RULES_F_V4, "*filter\n-A INPUT -m quota --quota +-1\nCOMMIT\n",
		"2:27: invalid value \"+-1\" for --quota (0-18446744073709551615)"},
	{RULES_F_V4, "*filter\n-A INPUT -m quota --quota 08\nCOMMIT\n",
		"2:27: invalid value \"08\" for --quota (0-18446744073709551615)"},
	{RULES_F_V4, "*filter\n-A INPUT -m quota --quota 1 --quota 2\nCOMMIT\n",
		"2:29: quota: only one of --quota may be given"},
	{RULES_F_V4, "*filter\n-A INPUT -m quota --quota\nCOMMIT\n",
		"2:19: option \"--quota\" requires an argument"},
	/* -m time: libxt_time's words, the column of the value (or of "time") */
	{RULES_F_V4, "*filter\n-A INPUT -m time --weekdays 0\nCOMMIT\n",
		"2:29: No, the week does NOT begin with Sunday."},
	{RULES_F_V4, "*filter\n-A INPUT -m time --weekdays Mo,Xy\nCOMMIT\n",
		"2:29: Xy is not a valid day specifier"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --weekdays mon\nCOMMIT\n",
		"2:29: mon is not a valid day specifier"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --weekdays Mon,,Tue\nCOMMIT\n",
		"2:29: No, the week does NOT begin with Sunday."},
	{RULES_F_V4, "*filter\n-A INPUT -m time --weekdays 8\nCOMMIT\n",
		"2:29: 8 is not a valid day specifier (1 Monday to 7 Sunday)"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --monthdays 1-5\nCOMMIT\n",
		"2:30: 1- is not a valid day for --monthdays"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --monthdays 32\nCOMMIT\n",
		"2:30: 32 is not a valid day for --monthdays"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --monthdays 0x1f\nCOMMIT\n",
		"2:30: 0x is not a valid day for --monthdays"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --timestart 12:60\nCOMMIT\n",
		"2:30: invalid time \"60\" specified, should be hh:mm[:ss] format and within the boundaries"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --timestop 25:00\nCOMMIT\n",
		"2:29: invalid time \"25:00\" specified, should be hh:mm[:ss] format and within the boundaries"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --timestart 12\nCOMMIT\n",
		"2:30: invalid time \"12\" specified, should be hh:mm[:ss] format and within the boundaries"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --datestart 2039\nCOMMIT\n",
		"2:30: Invalid date \"2039\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --datestop 2024-01-01T24\nCOMMIT\n",
		"2:29: Invalid date \"2024-01-01T24\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --datestart 2024-01-32\nCOMMIT\n",
		"2:30: Invalid date \"2024-01-32\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --datestart 2024-01-01X\nCOMMIT\n",
		"2:30: Invalid date \"2024-01-01X\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --datestart 1970-00\nCOMMIT\n",
		"2:30: Invalid date \"1970-00\" specified: before 1970-01-01 (mktime returned an error)"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --contiguous\nCOMMIT\n",
		"2:13: time: --contiguous only makes sense when stoptime is smaller than starttime"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --timestart 01:00 --timestop 02:00 --contiguous\nCOMMIT\n",
		"2:13: time: --contiguous only makes sense when stoptime is smaller than starttime"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --utc --kerneltz\nCOMMIT\n",
		"2:24: time: option --kerneltz cannot be used together with --utc"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --localtz --utc\nCOMMIT\n",
		"2:28: time: option --utc cannot be used together with --localtz"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --weekdays Mon --weekdays Tue\nCOMMIT\n",
		"2:33: time: only one of --weekdays may be given"},
	{RULES_F_V4, "*filter\n-A INPUT -m time ! --timestart 10:00\nCOMMIT\n",
		"2:20: time: option --timestart cannot be inverted"},
	{RULES_F_V4, "*filter\n-A INPUT -m time ! --weekdays Mon,Tue,Wed,Thu,Fri,Sat,Sun\nCOMMIT\n",
		"2:13: time: --weekdays leaves no day of the week: the rule could never match"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --monthdays 0\nCOMMIT\n",
		"2:13: time: --monthdays leaves no day of the month: the rule could never match"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --datestop 1970\nCOMMIT\n",
		"2:13: time: --datestop 1970-01-01T00:00:00 could only match in the first second of 1970 "
		"(and iptables-save leaves it out)"},
	{RULES_F_V4, "*filter\n-A INPUT -m time --timestart\nCOMMIT\n",
		"2:18: option \"--timestart\" requires an argument"},
	{RULES_F_V6, "*filter\n-A INPUT -m esp --espspi 1\nCOMMIT\n",
		"2:13: esp match requires \"-p esp\""},
	{RULES_F_V4, "*filter\n-A INPUT -m ah --ahspi 1\nCOMMIT\n",
		"2:13: ah match requires \"-p ah\" in IPv4 rules"},
	{RULES_F_V4, "*filter\n-A INPUT -p ah -m ah --ahlen 24\nCOMMIT\n",
		"2:19: ah: --ahlen and --ahres are ip6tables options (iptables' ah has --ahspi only)"},
	{RULES_F_V4, "*filter\n-A INPUT -p esp -m esp --espspi 4294967296\nCOMMIT\n",
		"2:33: invalid value \"4294967296\" for --espspi (0-4294967295)"},
	{RULES_F_V6, "*filter\n-A INPUT -m ah --ahspi -1\nCOMMIT\n",
		"2:24: invalid value \"-1\" for --ahspi (0-4294967295)"},
	{RULES_F_V4, "*filter\n-A INPUT -m tcpmss --mss 42\nCOMMIT\n",
		"2:13: tcpmss match requires \"-p tcp\""},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -m tcpmss\nCOMMIT\n",
		"2:20: tcpmss: option --mss must be specified"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -m tcpmss --mss 65535:1000\nCOMMIT\n",
		"2:20: tcpmss: invalid range given"},
	{RULES_F_V6, "*filter\n-A INPUT -p tcp -m tcpmss ! --mss 42:65536\nCOMMIT\n",
		"2:35: invalid value \"42:65536\" for --mss (0-65535)"},
	{RULES_F_V4, "*filter\n-A INPUT -m ecn\nCOMMIT\n", "2:13: ECN match: some option required"},
	{RULES_F_V4, "*filter\n-A INPUT -m ecn --ecn-tcp-cwr\nCOMMIT\n",
		"2:13: ecn: --ecn-tcp-ece and --ecn-tcp-cwr need \"-p tcp\" (the kernel refuses TCP bits "
		"in a rule for non-TCP packets)"},
	{RULES_F_V6, "*filter\n-A INPUT ! -p tcp -m ecn --ecn-tcp-ece\nCOMMIT\n",
		"2:22: ecn: --ecn-tcp-ece and --ecn-tcp-cwr need \"-p tcp\" (the kernel refuses TCP bits "
		"in a rule for non-TCP packets)"},
	{RULES_F_V4, "*filter\n-A INPUT -m ecn --ecn-ip-ect 4\nCOMMIT\n", "2:30: invalid value \"4\" for --ecn-ip-ect (0-3)"},
	{RULES_F_V4, "*filter\n-A INPUT -m recent --rcheck --hitcount 40\nCOMMIT\n",
		"2:13: recent: --hitcount 40: at most 32 hits per address are kept (the kernel keeps up to 255)"},
	{RULES_F_V4, "*filter\n-A INPUT -m recent --set --name a/b\nCOMMIT\n",
		"2:13: recent: bad list name \"a/b\""},
	{RULES_F_V4, "*filter\n-A INPUT -m recent --set --seconds 5\nCOMMIT\n",
		"2:13: recent: --seconds, --hitcount, --rttl and --reap go with --rcheck or --update only"},
	{RULES_F_V4, "*filter\n-A INPUT -m recent --name x\nCOMMIT\n",
		"2:13: recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec\nCOMMIT\n",
		"2:13: hashlimit: option --hashlimit-name must be specified"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-name x\nCOMMIT\n",
		"2:13: hashlimit: you have to specify --hashlimit-upto or --hashlimit-above"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-burst 0\nCOMMIT\n",
		"2:83: bad value for option \"--hashlimit-burst\", or out of range (1-1000000)"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-burst 1000001\nCOMMIT\n",
		"2:83: bad value for option \"--hashlimit-burst\", or out of range (1-1000000)"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-burst 2000k\nCOMMIT\n",
		"2:13: bad value for option \"--hashlimit-burst\", or out of range (1-1000000)"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-mode foo\nCOMMIT\n",
		"2:82: invalid value \"foo\" for --hashlimit-mode: dstip, srcip, srcport, dstport"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-srcmask 255.0.255.0\nCOMMIT\n",
		"2:85: invalid value \"255.0.255.0\" for --hashlimit-srcmask: not a prefix mask (the kernel refuses it)"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-srcmask 33\nCOMMIT\n",
		"2:13: hashlimit: --hashlimit-srcmask 33 is longer than an address (32)"},
	{RULES_F_V6, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-dstmask 129\nCOMMIT\n",
		"2:85: invalid value \"129\" for --hashlimit-dstmask: a prefix length or a netmask"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 0/sec --hashlimit-name x\nCOMMIT\n",
		"2:40: invalid value \"0/sec\" for --hashlimit-upto"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto abc --hashlimit-name x\nCOMMIT\n",
		"2:40: invalid value \"abc\" for --hashlimit-upto"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/fortnight --hashlimit-name x\nCOMMIT\n",
		"2:40: invalid value \"3/fortnight\" for --hashlimit-upto"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/ --hashlimit-name x\nCOMMIT\n",
		"2:40: invalid value \"3/\" for --hashlimit-upto"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 2000000/sec --hashlimit-name x\nCOMMIT\n",
		"2:40: rate too fast \"2000000/sec\""},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 1/hour --hashlimit-burst 38 --hashlimit-name x\nCOMMIT\n",
		"2:13: hashlimit: overflow, try a lower rate or burst (the kernel refuses it)"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 1mb/s --hashlimit-burst 1kb --hashlimit-name x\nCOMMIT\n",
		"2:13: hashlimit: burst cannot be smaller than 1048576b"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 10kb/s --hashlimit-burst 100 --hashlimit-name x\nCOMMIT\n",
		"2:13: hashlimit: burst cannot be smaller than 10240b"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-htable-expire 0\nCOMMIT\n",
		"2:13: hashlimit: --hashlimit-htable-gcinterval and --hashlimit-htable-expire must be more than 0"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-htable-gcinterval 0\nCOMMIT\n",
		"2:13: hashlimit: --hashlimit-htable-gcinterval and --hashlimit-htable-expire must be more than 0"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name a/b\nCOMMIT\n",
		"2:13: hashlimit: bad table name \"a/b\""},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name ..\nCOMMIT\n",
		"2:13: hashlimit: bad table name \"..\""},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/s --hashlimit-above 4/s --hashlimit-name x\nCOMMIT\n",
		"2:44: hashlimit: option --hashlimit-above cannot be used together with --hashlimit-upto"},
	{RULES_F_V4, "*filter\n-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-name x --hashlimit-mode srcip --hashlimit-mode dstip\nCOMMIT\n",
		"2:88: hashlimit: only one of --hashlimit-mode may be given"},
	{RULES_F_V4, "*filter\n-A INPUT -m statistic --mode random\nCOMMIT\n",
		"2:13: statistic: --probability must be specified when using random mode"},
	{RULES_F_V4, "*filter\n-A INPUT -m statistic --mode nth --every 3\nCOMMIT\n",
		"2:13: statistic: option \"--every\" also requires \"--packet\""},
	{RULES_F_V4, "*filter\n-A INPUT -m statistic --mode nth --every 3 --packet 3\nCOMMIT\n",
		"2:13: statistic: the --packet p must be 0 <= p <= n-1"},
	{RULES_F_V4, "*filter\n-A INPUT -m statistic --mode bogus\nCOMMIT\n",
		"2:30: statistic: bad mode \"bogus\" (random or nth)"},
	{RULES_F_V4, "*filter\n-A INPUT -m statistic --mode random --probability 1.5\nCOMMIT\n",
		"2:51: invalid value \"1.5\" for --probability (a probability, 0 to 1)"},
	{RULES_F_V4, "*filter\n-A INPUT -m statistic --mode random --every 2 --packet 0\nCOMMIT\n",
		"2:13: statistic: --probability must be specified when using random mode"},
	{RULES_F_V4, "*filter\n-A INPUT -m rpfilter -j DROP\nCOMMIT\n",
		"2:13: rpfilter match is not allowed in the filter table (only in raw, mangle)"},
	{RULES_F_V4, "*mangle\n-A FORWARD -m rpfilter -j DROP\nCOMMIT\n",
		"2:15: rpfilter is not allowed in FORWARD (only in PREROUTING)"},
	{RULES_F_V4, "*raw\n-A PREROUTING -m rpfilter ! --loose -j DROP\nCOMMIT\n",
		"2:29: rpfilter: option --loose cannot be inverted"},
	{RULES_F_V4, "*mangle\n-A FORWARD -p udp -j TCPMSS --set-mss 5\nCOMMIT\n",
		"2:22: TCPMSS target requires \"-p tcp\""},
	{RULES_F_V4, "*mangle\n-A FORWARD -p tcp -j TCPMSS\nCOMMIT\n",
		"2:22: TCPMSS target: At least one parameter is required"},
	{RULES_F_V4, "*mangle\n-A FORWARD -p tcp -j TCPMSS --set-mss 65516\nCOMMIT\n",
		"2:39: invalid value \"65516\" for --set-mss (0-65515)"},
	{RULES_F_V6, "*mangle\n-A FORWARD -p tcp -j TCPMSS --set-mss 65496\nCOMMIT\n",
		"2:22: TCPMSS: bad value for option \"--set-mss\", or out of range (0-65495)"},
	{RULES_F_V4, "*mangle\n-A FORWARD -p tcp -j TCPMSS --set-mss 5 --set-mss 6\nCOMMIT\n",
		"2:41: TCPMSS: only one of --set-mss may be given"},
	{RULES_F_V4, "*mangle\n-A PREROUTING -p tcp -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n",
		"2:25: TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING "
		"hooks, not in PREROUTING (chain PREROUTING)"},
	{RULES_F_V4, "*mangle\n:c - [0:0]\n-A INPUT -j c\n-A c -p tcp -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n",
		"4:16: TCPMSS: path-MTU clamping only supported in FORWARD, OUTPUT and POSTROUTING "
		"hooks, not in INPUT (chain c)"},
	{RULES_F_V4, "*filter\n-A INPUT --foo\nCOMMIT\n",
		"2:10: unknown option \"--foo\""},
	{RULES_F_V4, "*filter\n-A INPUT --dport 22\nCOMMIT\n",
		"2:10: unknown option \"--dport\""},
	{RULES_F_V4, "*filter\n-A INPUT -m tcp --dport 22\nCOMMIT\n",
		"2:13: tcp match requires \"-p tcp\""},
	{RULES_F_V4, "*filter\n-A INPUT ! -p tcp -m tcp --dport 22\nCOMMIT\n",
		"2:22: tcp match requires \"-p tcp\""},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --dport 99999\nCOMMIT\n",
		"2:25: invalid value \"99999\" for --dport: invalid port/service"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --dport 2:1\nCOMMIT\n",
		"2:25: invalid value \"2:1\" for --dport: invalid port range (min > max)"},
	{RULES_F_V4, "*filter\n-A INPUT -s 1.2.3.4/255.0.255.0\nCOMMIT\n",
		"2:13: non-contiguous mask \"255.0.255.0\" is not supported"},
	{RULES_F_V4, "*filter\n-A INPUT -s example.com\nCOMMIT\n",
		"2:13: invalid address \"example.com\" (numeric addresses only, host names are refused)"},
	{RULES_F_V4, "*filter\n-A INPUT -s 1.2.3.4/33\nCOMMIT\n",
		"2:13: invalid mask \"33\" (prefix length 0-32 or dotted mask)"},
	{RULES_F_V4, "*filter\n-A INPUT -d 2001:db8::1\nCOMMIT\n",
		"2:13: IPv6 address \"2001:db8::1\" in an IPv4 rule"},
	{RULES_F_V6, "*filter\n-A INPUT -d 10.0.0.1\nCOMMIT\n",
		"2:13: IPv4 address \"10.0.0.1\" in an IPv6 rule"},
	{RULES_F_V4, "*filter\n-A INPUT ! -s 0.0.0.0/0\nCOMMIT\n",
		"2:15: \"! -s\" with a /0 prefix never matches"},
	{RULES_F_V4, "*filter\n-A INPUT -s 1.1.1.1,2.2.2.2 ! -d 3.3.3.3\nCOMMIT\n",
		"2:13: ! not allowed with multiple source or destination IP addresses"},
	{RULES_F_V4, "*filter\n-A INPUT -j nope\nCOMMIT\n",
		"2:13: chain 'nope' does not exist"},
	{RULES_F_V4, "*filter\n-A INPUT -j OUTPUT\nCOMMIT\n",
		"2:13: cannot jump to built-in chain OUTPUT"},
	{RULES_F_V4, "*filter\n-A INPUT -g ACCEPT\nCOMMIT\n",
		"2:13: -g needs a user-defined chain, ACCEPT is a target"},
	{RULES_F_V4, "*filter\n:a - [0:0]\n:b - [0:0]\n-A a -j b\n-A b -j a\nCOMMIT\n",
		"5:9: jump to chain 'a' creates a loop: a -> b -> a"},
	{RULES_F_V4, "*filter\n:a - [0:0]\n-A a -g a\nCOMMIT\n",
		"3:9: jump to chain 'a' creates a loop: a -> a"},
	{RULES_F_V4, "*filter\n:a - [0:0]\n:b - [0:0]\n:c - [0:0]\n-A INPUT -j a\n-A a -j b\n-A b -j c\n-A c -j a\nCOMMIT\n",
		"8:9: jump to chain 'a' creates a loop: a -> b -> c -> a"},
	{RULES_F_V4, "*mangle\n-A INPUT -j REJECT\nCOMMIT\n",
		"2:13: REJECT target is not allowed in the mangle table"},
	{RULES_F_V4, "*filter\n-A INPUT -j TOS --set-tos 1\nCOMMIT\n",
		"2:13: TOS target is not allowed in the filter table"},
	{RULES_F_V4, "*mangle\n-A PREROUTING -j NOTRACK\nCOMMIT\n",
		"2:18: NOTRACK target is not allowed in the mangle table"},
	{RULES_F_V4, "*filter\n-A INPUT -j DNAT --to-destination 1.2.3.4\nCOMMIT\n",
		"2:13: DNAT target is not allowed in the filter table"},
	{RULES_F_V4, "*nat\n-A POSTROUTING -j DNAT --to-destination 1.2.3.4\nCOMMIT\n",
		"2:19: DNAT is not allowed in POSTROUTING (only in PREROUTING, OUTPUT)"},
	{RULES_F_V4, "*nat\n:x - [0:0]\n-A x -j DNAT --to-destination 1.2.3.4\n-A POSTROUTING -j x\nCOMMIT\n",
		"3:9: DNAT is not allowed in chain x: it is reached from POSTROUTING (only PREROUTING, OUTPUT allowed)"},
	{RULES_F_V4, "*nat\n-A PREROUTING -j MASQUERADE\nCOMMIT\n",
		"2:18: MASQUERADE is not allowed in PREROUTING (only in POSTROUTING)"},
	{RULES_F_V4, "*nat\n-A OUTPUT -j SNAT --to-source 1.2.3.4\nCOMMIT\n",
		"2:14: SNAT is not allowed in OUTPUT (only in INPUT, POSTROUTING)"},
	{RULES_F_V4, "*filter\n-A INPUT -o eth0\nCOMMIT\n",
		"2:13: can't use -o with INPUT"},
	{RULES_F_V4, "*filter\n:x - [0:0]\n-A x -o eth0\n-A INPUT -j x\nCOMMIT\n",
		"3:9: can't use -o in chain x: it is reached from INPUT"},
	{RULES_F_V4, "*mangle\n-A OUTPUT -i eth0\nCOMMIT\n",
		"2:14: can't use -i with OUTPUT"},
	{RULES_F_V4, "*nat\n:x - [0:0]\n:y - [0:0]\n-A y -i eth0\n-A x -g y\n-A POSTROUTING -j x\nCOMMIT\n",
		"4:9: can't use -i in chain y: it is reached from POSTROUTING"},
	{RULES_F_V4, "*filter\n:x - [0:0]\n-A x -m mac --mac-source 00:11:22:33:44:55\n-A OUTPUT -j x\nCOMMIT\n",
		"3:9: mac is not allowed in chain x: it is reached from OUTPUT (only PREROUTING, INPUT, FORWARD allowed)"},
	{RULES_F_V4, "*filter\n-A INPUT -m addrtype --src-type LOCAL --limit-iface-out\nCOMMIT\n",
		"2:13: addrtype: interface limitation not valid in INPUT (chain INPUT)"},
	{RULES_F_V4, "*filter\n:INPUT REJECT [0:0]\nCOMMIT\n",
		"2:8: bad policy name \"REJECT\" (ACCEPT or DROP)"},
	{RULES_F_V4, "*filter\n:foo ACCEPT [0:0]\nCOMMIT\n",
		"2:6: user-defined chain 'foo' cannot have a policy (use \"-\")"},
	{RULES_F_V4, "*filter\n:foo - [0:0]\n:foo - [0:0]\nCOMMIT\n",
		"3:2: chain 'foo' already exists"},
	{RULES_F_V4, "*filter\n:INPUT ACCEPT [0:0]\n:INPUT DROP [0:0]\nCOMMIT\n",
		"3:2: chain 'INPUT' declared twice"},
	{RULES_F_V4, "*filter\n:foo - [0:0]\n-N foo\nCOMMIT\n",
		"3:4: chain 'foo' already exists"},
	{RULES_F_V4, "*filter\n:abcdefghijklmnopqrstuvwxyz123 - [0:0]\nCOMMIT\n",
		"2:2: chain name too long (must be under 29 chars): \"abcdefghijklmnopqrstuvwxyz123\""},
	{RULES_F_V4, "*filter\n:LOG - [0:0]\nCOMMIT\n",
		"2:2: chain name may not clash with a target name: \"LOG\""},
	{RULES_F_V4, "*filter\n-N -x\nCOMMIT\n",
		"2:4: chain name may not start with '-' or '!': \"-x\""},
	{RULES_F_V4, "*nat\n:PREROUTING DROP [0:0]\nCOMMIT\n",
		"2:13: the \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited"},
	{RULES_F_V4, "*nat\n-A PREROUTING -j DROP\nCOMMIT\n",
		"2:18: the \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited"},
	{RULES_F_V4, "*nat\n-P OUTPUT DROP\nCOMMIT\n",
		"2:11: the \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited"},
	{RULES_F_V4, "*filter\n-A INPUT -s 1.2.3.4 -s 5.6.7.8\nCOMMIT\n",
		"2:21: multiple -s flags not allowed"},
	{RULES_F_V4, "*filter\n-A INPUT -j ACCEPT -g foo\nCOMMIT\n",
		"2:23: multiple -j flags not allowed"},
	{RULES_F_V4, "*filter\n-A INPUT ! -m tcp\nCOMMIT\n",
		"2:10: unexpected ! flag before --match"},
	{RULES_F_V4, "*filter\n-A INPUT ! -j ACCEPT\nCOMMIT\n",
		"2:10: cannot have ! before -j"},
	{RULES_F_V4, "*filter\n-A INPUT ! ! -s 1.2.3.4\nCOMMIT\n",
		"2:12: multiple consecutive ! not allowed"},
	{RULES_F_V4, "*filter\n-A INPUT -s 1.2.3.4 !\nCOMMIT\n",
		"2:21: nothing appropriate following !"},
	{RULES_F_V4, "*filter\n-A INPUT ! -p all\nCOMMIT\n",
		"2:12: rule would never match protocol"},
	{RULES_F_V4, "*filter\n-A INPUT -p foo\nCOMMIT\n",
		"2:13: unknown protocol \"foo\" specified"},
	{RULES_F_V4, "*filter\n-A INPUT -m foo\nCOMMIT\n",
		"2:13: unknown match \"foo\""},
	{RULES_F_V4, "*raw\n-A OUTPUT -j TRACE\nCOMMIT\n",
		"2:14: target TRACE is not supported"},
	{RULES_F_V4, "*filter\n-A INPUT -m hl --hl-eq 1\nCOMMIT\n",
		"2:13: hl match is IPv6 only"},
	{RULES_F_V6, "*filter\n-A INPUT -m ttl --ttl-eq 1\nCOMMIT\n",
		"2:13: ttl match is IPv4 only"},
	{RULES_F_V6, "*filter\n-A INPUT -f\nCOMMIT\n",
		"2:10: -f is not supported in IPv6, use -m frag instead"},
	{RULES_F_V6, "*filter\n-A INPUT -p icmp --icmp-type 8\nCOMMIT\n",
		"2:18: unknown option \"--icmp-type\""},
	{RULES_F_V4, "*filter\n-A INPUT -s\nCOMMIT\n",
		"2:10: option \"-s\" requires an argument"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --tcp-flags SYN\nCOMMIT\n",
		"2:17: --tcp-flags requires two arguments"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --tcp-flags SYN,FOO SYN\nCOMMIT\n",
		"2:29: unknown TCP flag \"FOO\""},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\nCOMMIT\n",
		"2:39: invalid value \"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\" for --dports: too many ports specified (15 at most, a range counts as two)"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16\nCOMMIT\n",
		"2:39: invalid value \"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16\" for --dports: too many ports specified (15 at most, a range counts as two)"},
	{RULES_F_V4, "*filter\n-A INPUT -m multiport --dports 1\nCOMMIT\n",
		"2:13: multiport needs \"-p tcp\", \"-p udp\", \"-p udplite\", \"-p sctp\" or \"-p dccp\""},
	{RULES_F_V4, "*filter\n-A INPUT -p icmp -m multiport --dports 1\nCOMMIT\n",
		"2:21: multiport needs \"-p tcp\", \"-p udp\", \"-p udplite\", \"-p sctp\" or \"-p dccp\""},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -m multiport --dports 1 --sports 2\nCOMMIT\n",
		"2:41: multiport: option --sports cannot be used together with --dports"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -m multiport --dports 5:5\nCOMMIT\n",
		"2:39: invalid value \"5:5\" for --dports: invalid port range"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -m multiport\nCOMMIT\n",
		"2:20: multiport: one of --sports, --dports or --ports is required"},
	{RULES_F_V4, "*filter\n-A INPUT -p icmp --icmp-type echo\nCOMMIT\n",
		"2:30: ambiguous ICMP type \"echo\": \"echo-reply\" or \"echo-request\"?"},
	{RULES_F_V4, "*filter\n-A INPUT -p icmp --icmp-type bogus\nCOMMIT\n",
		"2:30: unknown ICMP type \"bogus\""},
	{RULES_F_V4, "*filter\n-A INPUT -p icmp --icmp-type 3:4\nCOMMIT\n",
		"2:30: ICMP type range not supported"},
	{RULES_F_V4, "*filter\n-A INPUT -p icmp -m icmp\nCOMMIT\n",
		"2:21: icmp: option --icmp-type must be specified"},
	{RULES_F_V4, "*filter\n-A INPUT -j LOG --log-prefix 123456789012345678901234567890\nCOMMIT\n",
		"2:30: --log-prefix: argument too long (30 characters, max 29)"},
	{RULES_F_V4, "*filter\n-A INPUT -j LOG --log-prefix \"\"\nCOMMIT\n",
		"2:30: --log-prefix: argument must not be empty"},
	{RULES_F_V4, "*filter\n-A INPUT -j LOG --log-level 8\nCOMMIT\n",
		"2:29: log level \"8\" unknown"},
	{RULES_F_V4, "*filter\n-A INPUT -j LOG --log-level warn\nCOMMIT\n",
		"2:29: log level \"warn\" unknown"},
	{RULES_F_V4, "*filter\n-A INPUT -m comment --comment \"\x01\"\nCOMMIT\n",
		"2:31: --comment: control characters are not allowed"},
	{RULES_F_V4, "*filter\n-A INPUT -m limit --limit 3/fortnight\nCOMMIT\n",
		"2:27: bad rate \"3/fortnight\""},
	{RULES_F_V4, "*filter\n-A INPUT -m limit --limit 20000/s\nCOMMIT\n",
		"2:27: rate too fast \"20000/s\""},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --dport 22 -m tcp --sport 80\nCOMMIT\n",
		"2:31: tcp match given twice in one rule"},
	{RULES_F_V4, "*filter\n-A INPUT -m limit --limit-burst 10001\nCOMMIT\n",
		"2:33: invalid value \"10001\" for --limit-burst (0-10000)"},
	{RULES_F_V4, "*filter\n-A INPUT -m limit ! --limit 1/s\nCOMMIT\n",
		"2:21: limit: option --limit cannot be inverted"},
	{RULES_F_V4, "*filter\n-A INPUT -m conntrack\nCOMMIT\n",
		"2:13: conntrack: at least one option is required"},
	{RULES_F_V4, "*filter\n-A INPUT -m state --state SNAT\nCOMMIT\n",
		"2:27: unknown value \"SNAT\" in --state"},
	{RULES_F_V4, "*filter\n-A INPUT -m conntrack --ctstate NEW,,ESTABLISHED\nCOMMIT\n",
		"2:33: invalid value \"NEW,,ESTABLISHED\" for --ctstate: empty element (lists have no spaces, e.g. A,B)"},
	{RULES_F_V4, "*filter\n-A INPUT -m conntrack --ctdir SIDEWAYS\nCOMMIT\n",
		"2:31: unknown --ctdir \"SIDEWAYS\" (ORIGINAL or REPLY)"},
	{RULES_F_V4, "*filter\n-A INPUT -m conntrack ! --ctdir REPLY\nCOMMIT\n",
		"2:25: conntrack: option --ctdir cannot be inverted"},
	{RULES_F_V4, "*filter\n-A INPUT -m conntrack ! --ctproto 0\nCOMMIT\n",
		"2:13: conntrack: rule would never match protocol"},
	{RULES_F_V4, "*filter\n-A INPUT -m set --match-set nosuch src\nCOMMIT\n",
		"2:29: set nosuch doesn't exist"},
	{RULES_F_V4, "*filter\n-A INPUT -m set --match-set v6set src\nCOMMIT\n",
		"2:29: the protocol family of set v6set is IPv6, which is not applicable"},
	{RULES_F_V4, "*filter\n-A INPUT -m set --match-set ipport src\nCOMMIT\n",
		"2:36: set ipport has 2 dimensions, 1 src/dst given"},
	{RULES_F_V4, "*filter\n-A INPUT -m set --match-set v4set sideways\nCOMMIT\n",
		"2:35: you must specify (the comma separated list of) 'src' or 'dst'"},
	{RULES_F_V4, "*filter\n-A INPUT -m set --match-set v4set\nCOMMIT\n",
		"2:17: --match-set requires two arguments"},
	{RULES_F_V4, "*filter\n-A INPUT -p udp -j REJECT --reject-with tcp-reset\nCOMMIT\n",
		"2:20: REJECT --reject-with tcp-reset needs \"-p tcp\""},
	{RULES_F_V4, "*mangle\n-A FORWARD -p udp -j ECN --ecn-tcp-remove\nCOMMIT\n",
		"2:22: ECN target: cannot use operation on non-tcp rule"},
	{RULES_F_V4, "*mangle\n-A FORWARD -p tcp -j ECN\nCOMMIT\n",
		"2:22: ECN target: An operation is required"},
	{RULES_F_V4, "*mangle\n-A FORWARD -p tcp -j ECN --ecn-tcp-remove --ecn-tcp-cwr 1\nCOMMIT\n",
		"2:43: ECN: option --ecn-tcp-cwr cannot be used together with --ecn-tcp-remove"},
	{RULES_F_V4, "*mangle\n-A FORWARD -j ECN --ecn-ip-ect 4\nCOMMIT\n",
		"2:32: invalid value \"4\" for --ecn-ip-ect (0-3)"},
	{RULES_F_V6, "*mangle\n-A FORWARD -p tcp -j ECN --ecn-tcp-remove\nCOMMIT\n",
		"2:22: ECN target is IPv4 only"},
	{RULES_F_V4, "*filter\n-A FORWARD -p tcp -j ECN --ecn-tcp-remove\nCOMMIT\n",
		"2:22: ECN target is not allowed in the filter table"},
	{RULES_F_V6, "*mangle\n-A POSTROUTING -j SNPT --src-pfx fd00::1/64 --dst-pfx 2001:db8::/64\nCOMMIT\n",
		"2:19: SNPT: --src-pfx has bits set past its /64"},
	{RULES_F_V6, "*mangle\n-A POSTROUTING -j SNPT --src-pfx fd00::/96 --dst-pfx 2001:db8::/96\nCOMMIT\n",
		"2:19: SNPT: --src-pfx longer than /64"},
	{RULES_F_V4, "*filter\n-A FORWARD -j TEE --gateway 10.0.0.1\nCOMMIT\n", "2:15: TEE target is not allowed in the filter table"},
	{RULES_F_V4, "*mangle\n-A FORWARD -j TEE --oif wan0\nCOMMIT\n", "2:15: TEE: option --gateway must be specified"},
	{RULES_F_V4, "*mangle\n-A FORWARD -j TEE --gateway fd00::1\nCOMMIT\n", "2:29: IPv6 address \"fd00::1\" in an IPv4 rule"},
	{RULES_F_V4, "*mangle\n-A FORWARD -j TEE --gateway gw.example\nCOMMIT\n", "2:29: invalid address \"gw.example\" (numeric addresses only, host names are refused)"},
	{RULES_F_V4, "*mangle\n-A FORWARD -j TEE --gateway 10.0.0.1 --oif abcdefghijklmnop\nCOMMIT\n",
		"2:44: --oif: argument too long (16 characters, max 15)"},
	{RULES_F_V4, "*mangle\n-A FORWARD -j TEE --gateway 0.0.0.0\nCOMMIT\n",
		"2:15: TEE: --gateway must not be the unspecified address"},
	{RULES_F_V6, "*mangle\n-A FORWARD -j TEE --gateway ::\nCOMMIT\n",
		"2:15: TEE: --gateway must not be the unspecified address"},
	{RULES_F_V6, "*mangle\n-A FORWARD -j TEE --gateway 10.0.0.1\nCOMMIT\n", "2:29: IPv4 address \"10.0.0.1\" in an IPv6 rule"},
	{RULES_F_V6, "*mangle\n-A PREROUTING -j SNPT --src-pfx fd00::/64 --dst-pfx 2001:db8::/64\nCOMMIT\n",
		"2:18: SNPT is not allowed in PREROUTING (only in INPUT, POSTROUTING)"},
	{RULES_F_V6, "*raw\n-A PREROUTING -j DNPT --src-pfx fd00::/64 --dst-pfx 2001:db8::/64\nCOMMIT\n",
		"2:18: DNPT target is not allowed in the raw table"},
	{RULES_F_V4, "*mangle\n-A POSTROUTING -j SNPT --src-pfx fd00::/64 --dst-pfx 2001:db8::/64\nCOMMIT\n",
		"2:34: IPv6 address \"fd00::/64\" in an IPv4 rule"},
	{RULES_F_V4, "*raw\n-A PREROUTING -p udp -j CT --helper ftp\nCOMMIT\n",
		"2:25: CT --helper ftp needs \"-p tcp\""},
	{RULES_F_V4, "*raw\n-A PREROUTING -j CT --ctevents bogus\nCOMMIT\n",
		"2:32: CT --ctevents: unknown event type \"bogus\""},
	{RULES_F_V4, "*raw\n-A PREROUTING -j CT --ctevents new,,destroy\nCOMMIT\n",
		"2:32: CT --ctevents: unknown event type \"\""},
	{RULES_F_V4, "*raw\n-A PREROUTING -j CT --ctevents New\nCOMMIT\n",
		"2:32: CT --ctevents: unknown event type \"New\""},
	{RULES_F_V4, "*raw\n-A PREROUTING -j CT --expevents destroy\nCOMMIT\n",
		"2:33: CT --expevents: unknown event type \"destroy\""},
	{RULES_F_V4, "*raw\n-A PREROUTING -j CT --helper tftp\nCOMMIT\n",
		"2:18: CT --helper tftp needs \"-p udp\""},
	{RULES_F_V4, "*raw\n-A PREROUTING -p tcp -j CT --helper sip\nCOMMIT\n",
		"2:25: CT: unknown helper \"sip\" (ftp, tftp, irc)"},
	{RULES_F_V4, "*raw\n-A PREROUTING -p udp -j CT --helper irc\nCOMMIT\n",
		"2:25: CT --helper irc needs \"-p tcp\""},
	{RULES_F_V6, "*raw\n-A PREROUTING -p tcp -j CT --helper irc\nCOMMIT\n",
		"2:25: CT --helper irc: the kernel has it for IPv4 only"},
	{RULES_F_V4, "*filter\n-A INPUT -j REJECT --reject-with icmp6-no-route\nCOMMIT\n",
		"2:34: unknown reject type \"icmp6-no-route\""},
	{RULES_F_V6, "*filter\n-A INPUT -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n",
		"2:34: unknown reject type \"icmp-host-prohibited\""},
	{RULES_F_V4, "*nat\n-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4:1-2/3\nCOMMIT\n",
		"2:43: shifted port ranges (/base) are only supported by DNAT"},
	{RULES_F_V4, "*nat\n-A POSTROUTING -j SNAT --to-source 1.2.3.4:80\nCOMMIT\n",
		"2:19: SNAT: need TCP, UDP, SCTP or DCCP with port specification"},
	{RULES_F_V4, "*nat\n-A POSTROUTING -p tcp -j MASQUERADE --to-ports 80:90\nCOMMIT\n",
		"2:48: invalid port:port syntax \"80:90\", use a dash"},
	{RULES_F_V4, "*nat\n-A POSTROUTING -j SNAT\nCOMMIT\n",
		"2:19: SNAT: option --to-source must be specified"},
	{RULES_F_V4, "*nat\n-A POSTROUTING -j SNAT --to-source 1.2.3\nCOMMIT\n",
		"2:36: bad IP address \"1.2.3\""},
	{RULES_F_V4, "*nat\n-A POSTROUTING -j NETMAP --to 1.2.3.4/255.0.255.0\nCOMMIT\n",
		"2:31: non-contiguous mask \"255.0.255.0\" is not supported"},
	{RULES_F_V4, "*mangle\n-A INPUT -j CONNMARK\nCOMMIT\n",
		"2:13: CONNMARK target: no operation specified"},
	{RULES_F_V4, "*mangle\n-A INPUT -j CONNMARK --save-mark --restore-mark\nCOMMIT\n",
		"2:34: CONNMARK: option --restore-mark cannot be used together with --save-mark"},
	{RULES_F_V4, "*mangle\n-A INPUT -j CONNMARK --save-mark --mask 1 --nfmask 2\nCOMMIT\n",
		"2:43: CONNMARK: option --nfmask cannot be used together with --mask"},
	{RULES_F_V4, "*mangle\n-A INPUT -j MARK\nCOMMIT\n",
		"2:13: MARK: option --set-xmark must be specified"},
	{RULES_F_V4, "*mangle\n-A INPUT -j MARK --set-mark 1 --and-mark 2\nCOMMIT\n",
		"2:31: MARK: only one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark may be given"},
	{RULES_F_V4, "*mangle\n-A INPUT -j TTL\nCOMMIT\n",
		"2:13: TTL: an action option is required"},
	{RULES_F_V4, "*mangle\n-A INPUT -j TTL --ttl-dec 0\nCOMMIT\n",
		"2:27: invalid value \"0\" for --ttl-dec (1-255)"},
	{RULES_F_V4, "*mangle\n-A INPUT -j TTL --ttl-set 1 --ttl-inc 2\nCOMMIT\n",
		"2:29: TTL: option --ttl-inc cannot be used together with --ttl-set"},
	{RULES_F_V4, "*mangle\n-A INPUT -j NFLOG --nflog-range 5\nCOMMIT\n",
		"2:19: NFLOG: --nflog-range is not supported: it never worked in the kernel, use --nflog-size"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --dport 1 --dport 2\nCOMMIT\n",
		"2:27: tcp: only one of --dport, --destination-port may be given"},
	{RULES_F_V4, "*filter\n-A INPUT -m ttl ! --ttl-gt 2\nCOMMIT\n",
		"2:19: ttl: option --ttl-gt cannot be inverted"},
	{RULES_F_V4, "*filter\n-A INPUT -m ttl --ttl-eq 1 --ttl-gt 2\nCOMMIT\n",
		"2:28: ttl: option --ttl-gt cannot be used together with --ttl-eq"},
	{RULES_F_V4, "*filter\n-A INPUT -m ttl\nCOMMIT\n",
		"2:13: ttl: at least one option is required"},
	{RULES_F_V4, "*filter\n-A INPUT -m tos --tos Fast\nCOMMIT\n",
		"2:23: symbolic TOS name \"Fast\" is unknown"},
	{RULES_F_V4, "*filter\n-A INPUT -m dscp --dscp 64\nCOMMIT\n",
		"2:25: invalid value \"64\" for --dscp (0-63)"},
	{RULES_F_V4, "*filter\n-A INPUT -m mark --mark 1/2/3\nCOMMIT\n",
		"2:25: invalid value \"1/2/3\" for --mark: trailing garbage"},
	{RULES_F_V4, "*filter\n-A INPUT -m mac --mac-source 00:11:22:33:44\nCOMMIT\n",
		"2:30: invalid MAC address \"00:11:22:33:44\""},
	{RULES_F_V4, "*filter\n-A INPUT -m pkttype --pkt-type anycast\nCOMMIT\n",
		"2:32: bad packet type \"anycast\""},
	{RULES_F_V4, "*filter\n-A INPUT -m addrtype --src-type LOCALX\nCOMMIT\n",
		"2:33: unknown value \"LOCALX\" in --src-type"},
	{RULES_F_V4, "*filter\n-A INPUT -m addrtype\nCOMMIT\n",
		"2:13: addrtype: you must specify --src-type or --dst-type"},
	{RULES_F_V6, "*filter\n-A INPUT -m frag --fragmore --fraglast\nCOMMIT\n",
		"2:29: frag: option --fraglast cannot be used together with --fragmore"},
	{RULES_F_V6, "*filter\n-A INPUT -m frag ! --fragres\nCOMMIT\n",
		"2:20: frag: option --fragres cannot be inverted"},
	{RULES_F_V4, "*filter\n-A INPUT -m frag --fragmore\nCOMMIT\n",
		"2:13: frag match is IPv6 only"},
	{RULES_F_V6, "*filter\n-A INPUT -m frag --fragid 4294967296\nCOMMIT\n",
		"2:27: invalid value \"4294967296\" for --fragid (0-4294967295)"},
	{RULES_F_V6, "*filter\n-A INPUT -m rt --rt-0-res\nCOMMIT\n",
		"2:16: rt: \"--rt-type 0\" required before \"--rt-0-res\""},
	{RULES_F_V6, "*filter\n-A INPUT -m rt --rt-0-res --rt-type 0\nCOMMIT\n",
		"2:16: rt: \"--rt-type 0\" required before \"--rt-0-res\""},
	{RULES_F_V6, "*filter\n-A INPUT -m rt ! --rt-type 0 --rt-0-addrs ::1\nCOMMIT\n",
		"2:30: rt: \"--rt-type 0\" required before \"--rt-0-addrs\""},
	{RULES_F_V6, "*filter\n-A INPUT -m rt --rt-type 0 --rt-0-not-strict\nCOMMIT\n",
		"2:28: rt: \"--rt-0-addrs\" required before \"--rt-0-not-strict\""},
	{RULES_F_V6, "*filter\n-A INPUT -m ipv6header --header 0x2c\nCOMMIT\n",
		"2:33: unknown header \"0x2c\" specified"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0=&&0=1\"\nCOMMIT\n",
		"2:23: u32: at char 3: value spec missing"},
	{RULES_F_V6, "*filter\n-A INPUT -m rt --rt-type 0 --rt-0-addrs 10.0.0.1\nCOMMIT\n",
		"2:41: bad address: 10.0.0.1"},
	{RULES_F_V6, "*filter\n-A INPUT -m rt --rt-type 0 --rt-0-addrs fe80::1/64\nCOMMIT\n",
		"2:41: bad address: fe80::1/64"},
	{RULES_F_V6, "*filter\n-A INPUT -m rt --rt-type 0 --rt-0-addrs "
		"::1,::2,::3,::4,::5,::6,::7,::8,::9,::10,::11,::12,::13,::14,::15,::16,::17\nCOMMIT\n",
		"2:41: too many addresses specified"},
	{RULES_F_V6, "*filter\n-A INPUT -m hbh --hbh-opts 0:3\nCOMMIT\n",
		"2:28: PAD0 has not got length"},
	{RULES_F_V6, "*filter\n-A INPUT -m hbh --hbh-opts 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\nCOMMIT\n",
		"2:28: --hbh-opts: too many options specified (max 16)"},
	{RULES_F_V6, "*filter\n-A INPUT -m hbh --hbh-opts 1,\nCOMMIT\n",
		"2:28: no valid digits in opt \"\""},
	{RULES_F_V6, "*filter\n-A INPUT -m dst --dst-opts 1:x\nCOMMIT\n",
		"2:28: no valid digits in length \"x\""},
	{RULES_F_V6, "*filter\n-A INPUT -m hbh ! --hbh-opts 5\nCOMMIT\n",
		"2:19: hbh: option --hbh-opts cannot be inverted"},
	{RULES_F_V6, "*filter\n-A INPUT -m ipv6header --header tcp\nCOMMIT\n",
		"2:33: unknown header \"tcp\" specified"},
	{RULES_F_V6, "*filter\n-A INPUT -m ipv6header --soft\nCOMMIT\n",
		"2:13: ipv6header: option --header must be specified"},
	{RULES_F_V6, "*filter\n-A INPUT -m ipv6header --header frag ! --soft\nCOMMIT\n",
		"2:40: ipv6header: option --soft cannot be inverted"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0>>22\"\nCOMMIT\n",
		"2:23: u32: abrupt end of input after location specifier"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0=\"\nCOMMIT\n",
		"2:23: u32: test ended with no value specified"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"=5\"\nCOMMIT\n",
		"2:23: u32: at char 0: location spec missing"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0>5=1\"\nCOMMIT\n",
		"2:23: u32: at char 2: a second '>' was expected"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0 1=1\"\nCOMMIT\n",
		"2:23: u32: at char 2: operator expected"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0=1&2=3\"\nCOMMIT\n",
		"2:23: u32: at char 4: a second '&' was expected"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0=1 2\"\nCOMMIT\n",
		"2:23: u32: at char 4: expected \",\" or \"&&\""},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0=4294967296\"\nCOMMIT\n",
		"2:23: u32: at char 2: not a number or out of range"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0&1&2&3&4&5&6&7&8&9&10=1\"\nCOMMIT\n",
		"2:23: u32: at char 22: too many operators"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 \"0=1,2,3,4,5,6,7,8,9,10,11\"\nCOMMIT\n",
		"2:23: u32: at char 25: too many \",\"s"},
	{RULES_F_V4, "*filter\n-A INPUT -m u32 --u32 "
		"\"0=0&&0=0&&0=0&&0=0&&0=0&&0=0&&0=0&&0=0&&0=0&&0=0&&0=0\"\nCOMMIT\n",
		"2:23: u32: at char 53: too many \"&&\"s"},
	{RULES_F_V6, "*filter\n-A OUTPUT -m eui64\nCOMMIT\n",
		"2:14: eui64 is not allowed in OUTPUT (only in PREROUTING, INPUT, FORWARD)"},
	{RULES_F_V4, "*filter\n-A INPUT -m eui64\nCOMMIT\n",
		"2:13: eui64 match is IPv6 only"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --pol ipsec\nCOMMIT\n",
		"2:13: policy match: neither --dir in nor --dir out specified"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --proto esp --next --proto ah\nCOMMIT\n",
		"2:13: policy: option \"--next\" also requires \"--strict\""},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --pol none --strict\nCOMMIT\n",
		"2:13: policy match: policy none but --strict given"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --tunnel-src 1.2.3.4\nCOMMIT\n",
		"2:13: policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --proto esp --proto ah\nCOMMIT\n",
		"2:49: policy match: double --proto option"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --proto tcp\nCOMMIT\n",
		"2:37: policy match: protocol must be ah/esp/ipcomp"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir sideways\nCOMMIT\n",
		"2:26: policy_match: invalid dir \"sideways\""},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --pol maybe\nCOMMIT\n",
		"2:35: policy match: invalid policy \"maybe\""},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --strict --strict --spi 1\nCOMMIT\n",
		"2:38: policy: option \"--strict\" can only be used once."},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --strict\nCOMMIT\n",
		"2:13: policy match: empty policy element 0. --strict is in effect, but at least one of "
		"reqid, spi, tunnel-src, tunnel-dst, proto or mode is required."},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --strict --spi 1 --next\nCOMMIT\n",
		"2:13: policy match: empty policy element 1. --strict is in effect, but at least one of "
		"reqid, spi, tunnel-src, tunnel-dst, proto or mode is required."},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in ! --mode tunnel --tunnel-src 1.2.3.4\nCOMMIT\n",
		"2:13: policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in ! --strict\nCOMMIT\n",
		"2:31: policy: option --strict cannot be inverted"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir in --strict --next --next --next --next\nCOMMIT\n",
		"2:59: policy match: maximum policy depth reached"},
	{RULES_F_V4, "*filter\n-A OUTPUT -m policy --dir in --pol none\nCOMMIT\n",
		"2:14: policy: input policy not valid in OUTPUT (chain OUTPUT)"},
	{RULES_F_V4, "*filter\n-A INPUT -m policy --dir out --pol none\nCOMMIT\n",
		"2:13: policy: output policy not valid in INPUT (chain INPUT)"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET\nCOMMIT\n",
		"2:13: SET: you must specify either --add-set or --del-set (--map-set is not supported)"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --del-set v4set src --exist\nCOMMIT\n",
		"2:13: SET: flag --exist can be used with --add-set only"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --del-set v4set src --timeout 5\nCOMMIT\n",
		"2:13: SET: option --timeout can be used with --add-set only"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --add-set nosuch src\nCOMMIT\n",
		"2:27: set nosuch doesn't exist"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --add-set bports src\nCOMMIT\n",
		"2:27: SET: set bports is a bitmap:port set: -j SET adds to and deletes from hash and bitmap:ip sets only"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --add-set v4set src --add-set ipport src\nCOMMIT\n",
		"2:37: SET: only one of --add-set may be given"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --add-set v4set src --timeout 4294967295\nCOMMIT\n",
		"2:47: invalid value \"4294967295\" for --timeout (0-4294967294)"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --add-set v4set foo\nCOMMIT\n",
		"2:33: you must specify (the comma separated list of) 'src' or 'dst'"},
	{RULES_F_V4, "*filter\n-A INPUT -j SET --map-set v4set src\nCOMMIT\n",
		"2:17: unknown option \"--map-set\""},
	{RULES_F_V6, "*filter\n-A INPUT -j SET --add-set v4set src\nCOMMIT\n",
		"2:27: the protocol family of set v4set is IPv4, which is not applicable"},
	{RULES_F_V4, "*mangle\n-A POSTROUTING -j CHECKSUM\nCOMMIT\n",
		"2:19: CHECKSUM: option --checksum-fill must be specified"},
	{RULES_F_V4, "*filter\n-A FORWARD -j CHECKSUM --checksum-fill\nCOMMIT\n",
		"2:15: CHECKSUM target is not allowed in the filter table"},
	{RULES_F_V4, "*filter\n-A INPUT -p sctp -m sctp --chunk-types any INIT:X\nCOMMIT\n",
		"2:44: Invalid flags for chunk type 1"},
	{RULES_F_V4, "*filter\n-A INPUT -p sctp -m sctp --chunk-types bogus INIT\nCOMMIT\n",
		"2:40: Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\""},
	{RULES_F_V4, "*filter\n-A INPUT -p sctp -m sctp --chunk-types any 5\nCOMMIT\n",
		"2:44: Unknown sctp chunk \"5\""},
	{RULES_F_V4, "*filter\n-A INPUT -p sctp -m sctp --dport 100:50\nCOMMIT\n",
		"2:34: invalid value \"100:50\" for --dport: invalid port range (min > max)"},
	{RULES_F_V4, "*filter\n-A INPUT -p sctp -m sctp --dport http\nCOMMIT\n",
		"2:34: invalid value \"http\" for --dport: invalid port/service"},
	{RULES_F_V4, "*filter\n-A INPUT -m sctp --dport 5\nCOMMIT\n",
		"2:13: sctp match requires \"-p sctp\""},
	{RULES_F_V4, "*filter\n-A FORWARD -m physdev\nCOMMIT\n",
		"2:15: physdev: no physdev option specified"},
	{RULES_F_V4, "*filter\n-A FORWARD -m physdev --physdev-in 0123456789abcdef\nCOMMIT\n",
		"2:36: interface name \"0123456789abcdef\" must be shorter than IFNAMSIZ (15)"},
	{RULES_F_V4, "*filter\n-A FORWARD -m physdev --physdev-in \"\"\nCOMMIT\n",
		"2:36: empty interface is likely to be undesired"},
	{RULES_F_V4, "*filter\n-A FORWARD -m physdev --physdev-in a --physdev-in b\nCOMMIT\n",
		"2:38: physdev: only one of --physdev-in may be given"},
	{RULES_F_V4, "*filter\n-A OUTPUT -m physdev --physdev-out wan0\nCOMMIT\n",
		"2:14: physdev: --physdev-out and --physdev-is-out only supported in the FORWARD and "
		"POSTROUTING chains with bridged traffic, not in OUTPUT (chain OUTPUT)"},
	{RULES_F_V4, "*filter\n:x - [0:0]\n-A OUTPUT -j x\n-A x -m physdev --physdev-is-out ! --physdev-is-bridged\nCOMMIT\n",
		"4:9: physdev: --physdev-out and --physdev-is-out only supported in the FORWARD and "
		"POSTROUTING chains with bridged traffic, not in OUTPUT (chain x)"},
	{RULES_F_V6, "*filter\n-A INPUT -m addrtype --dst-type BROADCAST\nCOMMIT\n",
		"2:13: addrtype: IPv6 does not support BROADCAST matching"},
	{RULES_F_V4, "*filter\n-A INPUT -m iprange --src-range 1.2.3.4-foo\nCOMMIT\n",
		"2:33: invalid value \"1.2.3.4-foo\" for --src-range: numeric address or address-address expected"},
	{RULES_F_V4, "*filter\n-A INPUT -m length --length 1:2:3\nCOMMIT\n",
		"2:29: invalid value \"1:2:3\" for --length: too many components (max: 2)"},
	{RULES_F_V4, "*filter\n-I INPUT 2 -j ACCEPT\nCOMMIT\n",
		"2:4: index of insertion too big"},
	{RULES_F_V4, "*filter\n:x - [0:0]\n-A INPUT -j x\n-X x\nCOMMIT\n",
		"4:4: chain 'x' is still referenced by rules"},
	{RULES_F_V4, "*filter\n:x - [0:0]\n-A x -j ACCEPT\n-X x\nCOMMIT\n",
		"4:4: chain 'x' is not empty (flush it first)"},
	{RULES_F_V4, "*filter\n-X INPUT\nCOMMIT\n",
		"2:4: cannot delete built-in chain INPUT"},
	{RULES_F_V4, "*filter\n:x - [0:0]\n-P x DROP\nCOMMIT\n",
		"3:4: -P is only for built-in chains ('x')"},
	{RULES_F_V4, "*filter\n-F nope\nCOMMIT\n",
		"2:4: chain 'nope' does not exist"},
	{RULES_F_V4, "*filter\n-A INPUT -j ACCEPT\n",
		"3: COMMIT expected at end of input (table 'filter' opened at line 1)"},
	{RULES_F_V4, "*filter\n*nat\nCOMMIT\n",
		"2:1: COMMIT expected before a new table (table 'filter' opened at line 1)"},
	{RULES_F_V4, "-A INPUT -j ACCEPT\n",
		"1:1: rule or chain outside of a table (missing *table line?)"},
	{RULES_F_V4, "*security\nCOMMIT\n",
		"1:2: table 'security' is not supported"},
	{RULES_F_V4, "*bogus\nCOMMIT\n",
		"1:2: table 'bogus' invalid"},
	{RULES_F_V4, "*filter\n[a:b] -A INPUT\nCOMMIT\n",
		"2:1: packet counter \"a\" is not numeric"},
	{RULES_F_V4, "*filter\n:INPUT ACCEPT [1:x]\nCOMMIT\n",
		"2:15: byte counter \"x\" is not numeric"},
	{RULES_F_V4, "*filter\n-A INPUT -m comment --comment \"abc\nCOMMIT\n",
		"2:31: unterminated quoted string"},
	{RULES_F_V4, "*filter\n-A INPUT -i 0123456789abcdef\nCOMMIT\n",
		"2:13: interface name \"0123456789abcdef\" must be shorter than IFNAMSIZ (15)"},
	{RULES_F_V4, "*filter\n-A INPUT -i \"\"\nCOMMIT\n",
		"2:13: empty interface is likely to be undesired"},
	{RULES_F_V4, "*filter\n-A INPUT ! -i +\nCOMMIT\n",
		"2:15: \"! -i +\" never matches"},
	{RULES_F_V4, "*filter\n-s 1.2.3.4\nCOMMIT\n",
		"2: no command specified"},
	{RULES_F_V4, "*filter\n-A INPUT -t nat\nCOMMIT\n",
		"2:10: the -t option cannot be used here"},
	{RULES_F_V4, "*filter\n-D INPUT 1\nCOMMIT\n",
		"2:10: index of deletion too big"},
	{RULES_F_V4, "*filter\n-L INPUT\nCOMMIT\n",
		"2:1: command -L is not supported here"},
	{RULES_F_V4, "*filter\n-A INPUT -I INPUT\nCOMMIT\n",
		"2:10: cannot use -I with -A"},
	{RULES_F_V4, "*filter\n-A INPUT foo\nCOMMIT\n",
		"2:10: bad argument \"foo\""},
	{RULES_F_V4, "*filter\n-N x -j ACCEPT\nCOMMIT\n",
		"2:1: illegal option with -N"},
	{RULES_F_V4, "*filter\n-A INPUT -c 1\nCOMMIT\n",
		"2:10: -c requires packet and byte counter"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp -j REJECT --reject-with bogus\nCOMMIT\n",
		"2:41: unknown reject type \"bogus\""},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --syn --tcp-flags ALL NONE\nCOMMIT\n",
		"2:23: tcp: only one of --tcp-flags, --syn may be given"},
	{RULES_F_V4, "*filter\n-A INPUT -p tcp --tcp-option 0\nCOMMIT\n",
		"2:30: invalid value \"0\" for --tcp-option (1-255)"},
};

static const char err_sets[] = "create v4set hash:ip\n"
			       "create v6set hash:ip family inet6\n"
			       "create ipport hash:ip,port\n"
			       "create bports bitmap:port range 1-100\n";

/* A ruleset with content in both families: failed loads must not touch it. */
static struct rules_ruleset *baseline(char **p4, char **p6)
{
	static const char v4[] = "*filter\n:INPUT DROP [1:2]\n:keep - [0:0]\n"
				 "-A INPUT -p tcp --dport 22 -j keep\n-A keep -j ACCEPT\nCOMMIT\n"
				 "*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n";
	static const char v6[] = "*filter\n:keep6 - [0:0]\n-A INPUT -j keep6\nCOMMIT\n";
	char err[RULES_ERR_MAX];
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	assert_int_equal(rules_ipset_load(rs, err_sets, strlen(err_sets), "sets", err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, v4, strlen(v4), "b4", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_load(rs, RULES_F_V6, v6, strlen(v6), "b6", 0, err, sizeof(err)), 0);
	*p4 = rules_ipt_print(rs, RULES_F_V4, RULES_PRINT_COUNTERS);
	*p6 = rules_ipt_print(rs, RULES_F_V6, RULES_PRINT_COUNTERS);
	assert_non_null(*p4);
	assert_non_null(*p6);
	return rs;
}

static void assert_unchanged(const struct rules_ruleset *rs, const char *p4, const char *p6)
{
	char *n4 = rules_ipt_print(rs, RULES_F_V4, RULES_PRINT_COUNTERS);
	char *n6 = rules_ipt_print(rs, RULES_F_V6, RULES_PRINT_COUNTERS);
	assert_non_null(n4);
	assert_non_null(n6);
	assert_same_text("after a failed load (v4)", p4, n4);
	assert_same_text("after a failed load (v6)", p6, n6);
	free(n4);
	free(n6);
}

static void test_errors(void **state)
{
	char *p4, *p6, err[RULES_ERR_MAX], want[RULES_ERR_MAX];
	struct rules_ruleset *rs = baseline(&p4, &p6);
	int bad = 0;

	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		int rc = rules_ipt_load(rs, c->fam, c->in, strlen(c->in), "t", 0, err, sizeof(err));
		snprintf(want, sizeof(want), "t:%s", c->expect);
		if (rc != -EINVAL || strcmp(err, want) != 0) {
			print_error("case %zu: input:\n%s want: %s\n got (%d): %s\n", i, c->in, want, rc, err);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	assert_unchanged(rs, p4, p6);
	free(p4);
	free(p6);
	rules_free(rs);
}

static void expect_err(struct rules_ruleset *rs, int fam, const char *in, size_t len, const char *want)
{
	char err[RULES_ERR_MAX];
	assert_int_equal(rules_ipt_load(rs, fam, in, len, "t", 0, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want)) {
		print_error("want \"%s\" in \"%s\"\n", want, err);
		fail();
	}
}

/* CT --timeout against a registry of policies (the daemon's
 * conntrack.timeout-policies), as xt_CT's nf_ct_set_timeout refuses: no
 * or an inverted -p, another protocol, another family, an unknown name;
 * without a registry (offline tools) any name, id 0. Full line:col. */
static void test_ct_timeout(void **state)
{
	(void)state;
	struct rules_tpol p[2] = { { .name = "dns", .fams = RULES_F_V4 | RULES_F_V6, .proto = 17 },
				   { .name = "web4", .fams = RULES_F_V4, .proto = 6 } };
	assert_int_equal(rules_timeout_policies(p, 2), 0);
	struct rules_ruleset *rs = rules_new();
	static const struct { int fam; const char *in, *want; } bad[] = {
		{ RULES_F_V4, "*raw\n-A PREROUTING -j CT --timeout dns\nCOMMIT\n",
		  "t:2:18: CT --timeout dns: the policy is for udp: the rule needs \"-p udp\"" },
		{ RULES_F_V4, "*raw\n-A PREROUTING ! -p udp -j CT --timeout dns\nCOMMIT\n",
		  "the rule needs \"-p udp\" (not inverted)" },
		{ RULES_F_V4, "*raw\n-A PREROUTING -p tcp -j CT --timeout dns\nCOMMIT\n",
		  "the policy is for udp" },
		{ RULES_F_V6, "*raw\n-A PREROUTING -p tcp -j CT --timeout web4\nCOMMIT\n",
		  "t:2:25: CT --timeout web4: the policy is for IPv4 only" },
		{ RULES_F_V4, "*raw\n-A PREROUTING -p udp -j CT --timeout DNS\nCOMMIT\n",
		  "no timeout policy \"DNS\" (conntrack.timeout-policies in rampart.yaml)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_err(rs, bad[i].fam, bad[i].in, strlen(bad[i].in), bad[i].want);
	static const char good[] = "*raw\n-A PREROUTING -p tcp -j CT --helper ftp --timeout web4 "
				   "--zone 3\n-A PREROUTING -p udp -j CT --timeout dns\nCOMMIT\n";
	char err[RULES_ERR_MAX];
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, good, strlen(good), "t", 0, err, sizeof(err)), 0);
	const struct rules_chain *c = rules_chain_find(rs, RULES_T_RAW, "PREROUTING");
	assert_non_null(c);
	assert_int_equal(c->n_rules, 2);
	assert_int_equal(c->rules[0].target.ext.u.ctt.tpol, 2);
	assert_int_equal(c->rules[1].target.ext.u.ctt.tpol, 1);
	/* a generic policy (nfct's l4proto 255): for a -p that falls to the
	 * generic tracker, as xt_CT checks it */
	struct rules_tpol g[1] = { { .name = "gen", .fams = RULES_F_V4 | RULES_F_V6,
				     .proto = RULES_TPOL_GENERIC, .id = 7 } };
	assert_int_equal(rules_timeout_policies(g, 1), 0);
	static const char *const gbad[] = {
		"*raw\n-A PREROUTING -p udp -j CT --timeout gen\nCOMMIT\n",
		"*raw\n-A PREROUTING -p gre -j CT --timeout gen\nCOMMIT\n",
		"*raw\n-A PREROUTING -j CT --timeout gen\nCOMMIT\n",
		"*raw\n-A PREROUTING ! -p esp -j CT --timeout gen\nCOMMIT\n",
	};
	for (size_t i = 0; i < sizeof(gbad) / sizeof(gbad[0]); i++)
		expect_err(rs, RULES_F_V4, gbad[i], strlen(gbad[i]), "the policy is generic");
	static const char ggood[] = "*raw\n-A PREROUTING -p esp -j CT --timeout gen\n"
				    "-A PREROUTING -p dccp -j CT --timeout gen\nCOMMIT\n";
	struct rules_ruleset *gs = rules_new();
	assert_int_equal(rules_ipt_load(gs, RULES_F_V4, ggood, strlen(ggood), "t", 0, err, sizeof(err)), 0);
	c = rules_chain_find(gs, RULES_T_RAW, "PREROUTING");
	assert_int_equal(c->rules[0].target.ext.u.ctt.tpol, 7);
	assert_int_equal(c->rules[1].target.ext.u.ctt.tpol, 7);
	rules_free(gs);
	assert_int_equal(rules_timeout_policies(p, 2), 0);
	/* --notrack: nothing else is looked at (xt_ct_tg_check) */
	static const char nt[] = "*raw\n-A PREROUTING -j CT --notrack --timeout nosuch\nCOMMIT\n";
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, nt, strlen(nt), "t", 0, err, sizeof(err)), 0);
	/* offline: any name */
	rules_timeout_policies(NULL, 0);
	static const char any[] = "*raw\n-A PREROUTING -p tcp -j CT --timeout whatever\nCOMMIT\n";
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, any, strlen(any), "t", 0, err, sizeof(err)), 0);
	rules_free(rs);
}

/* Inputs that cannot be written as C string literals in the table. */
static void test_errors_bounds(void **state)
{
	char *p4, *p6;
	struct rules_ruleset *rs = baseline(&p4, &p6);
	static const char nul[] = "*filter\n-A INPUT -j ACCEPT\0 -j DROP\nCOMMIT\n";
	expect_err(rs, RULES_F_V4, nul, sizeof(nul) - 1, "t:2: NUL byte in input");

	size_t n = 20000;
	char *big = malloc(n + 64);
	assert_non_null(big);
	strcpy(big, "*filter\n-A INPUT -m comment --comment ");
	size_t o = strlen(big);
	memset(big + o, 'a', n);
	strcpy(big + o + n, "\nCOMMIT\n");
	expect_err(rs, RULES_F_V4, big, strlen(big), "t:2: line too long");

	/* one argument over iptables' 1023 characters */
	o = strlen("*filter\n-A INPUT -m comment --comment ");
	strcpy(big + o + 1024, "\nCOMMIT\n");
	expect_err(rs, RULES_F_V4, big, strlen(big), "t:2:31: argument too long");

	/* too many arguments */
	strcpy(big, "*filter\n-A INPUT");
	for (int i = 0; i < 300; i++)
		strcat(big, " !");
	strcat(big, "\nCOMMIT\n");
	expect_err(rs, RULES_F_V4, big, strlen(big), "too many arguments");

	/* a comment of 256 characters */
	strcpy(big, "*filter\n-A INPUT -m comment --comment ");
	o = strlen(big);
	memset(big + o, 'c', 256);
	strcpy(big + o + 256, "\nCOMMIT\n");
	expect_err(rs, RULES_F_V4, big, strlen(big), "argument too long (256 characters, max 255)");
	big[o + 255] = '\n';
	strcpy(big + o + 256, "COMMIT\n");
	char err[RULES_ERR_MAX];
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, big, strlen(big), "t", 0, err, sizeof(err)), 0);
	free(big);
	free(p4);
	free(p6);
	rules_free(rs);
}

static char *print4(const struct rules_ruleset *rs, int fam)
{
	char *p = rules_ipt_print(rs, fam, 0);
	assert_non_null(p);
	return p;
}

static void test_add_rule(void **state)
{
	char err[RULES_ERR_MAX];
	static const char v4[] = "*filter\n:svc - [0:0]\n:v4only - [0:0]\nCOMMIT\n";
	static const char v6[] = "*filter\n:svc - [0:0]\nCOMMIT\n";
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, v4, strlen(v4), "a", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_load(rs, RULES_F_V6, v6, strlen(v6), "a", 0, err, sizeof(err)), 0);

	const enum rules_table_id F = RULES_T_FILTER;
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-p tcp --dport 22 -j ACCEPT",
				 "y", 1, 1, err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-s 10.0.0.0/8 -j svc", "y",
				 2, 1, err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-p icmp --icmp-type 8", "y",
				 3, 1, err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL,
				 "-p ipv6-icmp --icmpv6-type echo-request", "y", 4, 1, err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-j REJECT", "y", 5, 1, err,
				 sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", 0, RULES_F_ALL, "-i lo -j ACCEPT", "y", 6, 1,
				 err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "FORWARD", -1, RULES_F_ALL,
				 "-s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j DROP", "y", 7, 1, err, sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "FORWARD", -1, RULES_F_ALL, "-j REJECT --reject-with tcp-reset -p tcp",
				 "y", 8, 1, err, sizeof(err)), 0);

	char *a = print4(rs, RULES_F_V4), *b = print4(rs, RULES_F_V6);
	static const char want4[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
				    ":svc - [0:0]\n:v4only - [0:0]\n"
				    "-A INPUT -i lo -j ACCEPT\n"
				    "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
				    "-A INPUT -s 10.0.0.0/8 -j svc\n"
				    "-A INPUT -p icmp -m icmp --icmp-type 8\n"
				    "-A INPUT -j REJECT --reject-with icmp-port-unreachable\n"
				    "-A FORWARD -s 1.1.1.1/32 -d 3.3.3.3/32 -j DROP\n"
				    "-A FORWARD -s 1.1.1.1/32 -d 4.4.4.4/32 -j DROP\n"
				    "-A FORWARD -s 2.2.2.2/32 -d 3.3.3.3/32 -j DROP\n"
				    "-A FORWARD -s 2.2.2.2/32 -d 4.4.4.4/32 -j DROP\n"
				    "-A FORWARD -p tcp -j REJECT --reject-with tcp-reset\n"
				    "COMMIT\n";
	static const char want6[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
				    ":svc - [0:0]\n"
				    "-A INPUT -i lo -j ACCEPT\n"
				    "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
				    "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128\n"
				    "-A INPUT -j REJECT --reject-with icmp6-port-unreachable\n"
				    "-A FORWARD -p tcp -j REJECT --reject-with tcp-reset\n"
				    "COMMIT\n";
	assert_same_text("v4 view", want4, a);
	assert_same_text("v6 view", want6, b);
	free(a);
	free(b);

	/* errors name the file, the line and the column inside it */
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-p tcp --dport x", "rules.yaml",
				 7, 12, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rules.yaml:7:27: invalid value \"x\" for --dport: invalid port/service");
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-j v4only", "y", 9, 1, err,
				 sizeof(err)), -EINVAL);
	assert_string_equal(err, "y:9:4: chain 'v4only' does not exist");
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_V4, "-j v4only", "y", 9, 1, err,
				 sizeof(err)), 0);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-s 10.0.0.1 -d ::1", "y", 10,
				 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "y:10:16: IPv6 address \"::1\" in an IPv4 rule");
	assert_int_equal(rules_ipt_add_rule(rs, F, "OUTPUT", -1, RULES_F_ALL, "-i eth0", "y", 11, 1, err,
				 sizeof(err)), -EINVAL);
	assert_string_equal(err, "y:11:4: can't use -i with OUTPUT");
	assert_int_equal(rules_ipt_add_rule(rs, F, "nope", -1, RULES_F_ALL, "-j ACCEPT", "y", 12, 1, err,
				 sizeof(err)), -EINVAL);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", 99, RULES_F_ALL, "-j ACCEPT", "y", 13, 1, err,
				 sizeof(err)), -EINVAL);
	assert_int_equal(rules_ipt_add_rule(rs, F, "INPUT", -1, RULES_F_ALL, "-A INPUT -j ACCEPT", "y", 14,
				 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "y:14:1: a command (-A) is not allowed in a rule");
	assert_int_equal(rules_validate(rs, "y", err, sizeof(err)), 0);

	/* one rule as "rampartctl -S" would show it */
	struct rules_chain *in = rules_chain_find(rs, F, "INPUT");
	assert_non_null(in);
	char *one = rules_ipt_print_rule(&in->rules[1], RULES_F_V6);
	assert_non_null(one);
	assert_string_equal(one, "-p tcp -m tcp --dport 22 -j ACCEPT");
	free(one);
	one = rules_ipt_print_rule(&in->rules[5], RULES_F_V6);
	assert_non_null(one);
	assert_string_equal(one, "-j REJECT --reject-with icmp6-port-unreachable");
	free(one);
	assert_int_equal(in->rules[5].fam, RULES_F_ALL);
	assert_int_equal(in->rules[2].fam, RULES_F_V4);
	rules_free(rs);
}

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
	return fake_now;
}

static char *set_text(const struct rules_ruleset *rs, const char *name)
{
	char *t = rules_ipset_print(rs, name);
	assert_non_null(t);
	return t;
}

#define SET_IS(rs, name, want) \
	do { \
		char *_t = set_text(rs, name); \
		if (strcmp(_t, want)) \
			fail_msg("set %s:\n%s\nwant:\n%s", name, _t, want); \
		free(_t); \
	} while (0)

static int set_do(struct rules_ruleset *rs, const char *line, unsigned flags, char *err)
{
	return rules_ipset_change(rs, line, strlen(line), "s", flags, err, RULES_ERR_MAX);
}

/* ipset's timeouts: defaults, per entry, 0 = never, -exist, expiry, purge,
 * the listing's remaining seconds (as the kernel's ipset 7.17 prints them) */
static void test_set_timeouts(void **state)
{
	(void)state;
	char err[RULES_ERR_MAX];
	fake_now = 5000000000ull;
	rules_clock_set(fake_clock);
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	static const char sets[] = "create t hash:ip timeout 300\nadd t 1.2.3.4\n"
				   "add t 1.2.3.5 timeout 0\nadd t 1.2.3.6 timeout 2\n"
				   "create z hash:ip timeout 0\nadd z 10.0.0.1\n"
				   "create b bitmap:port range 1-100 timeout 10\nadd b 5 timeout 3\n"
				   "create p hash:ip\nadd p 9.9.9.9\n";
	assert_int_equal(rules_ipset_load(rs, sets, strlen(sets), "s", err, sizeof(err)), 0);
	SET_IS(rs, "t", "create t hash:ip family inet hashsize 1024 maxelem 65536 timeout 300\n"
			"add t 1.2.3.4 timeout 300\nadd t 1.2.3.5 timeout 0\nadd t 1.2.3.6 timeout 2\n");
	SET_IS(rs, "z", "create z hash:ip family inet hashsize 1024 maxelem 65536 timeout 0\n"
			"add z 10.0.0.1 timeout 0\n");
	SET_IS(rs, "b", "create b bitmap:port range 1-100 timeout 10\nadd b 5 timeout 3\n");
	SET_IS(rs, "p", "create p hash:ip family inet hashsize 1024 maxelem 65536\nadd p 9.9.9.9\n");
	/* whole seconds left, rounded down; under one second: 1 */
	fake_now += 1500000;
	SET_IS(rs, "t", "create t hash:ip family inet hashsize 1024 maxelem 65536 timeout 300\n"
			"add t 1.2.3.4 timeout 298\nadd t 1.2.3.5 timeout 0\nadd t 1.2.3.6 timeout 1\n");
	/* an entry that is there: an error, unless -exist (which renews it) */
	assert_int_equal(set_do(rs, "add t 1.2.3.4\n", RULES_IPSET_EXCL, err), -EINVAL);
	assert_string_equal(err, "s:1:7: element cannot be added to set t: it's already added");
	assert_int_equal(set_do(rs, "add t 1.2.3.4 timeout 50 -exist\n", RULES_IPSET_EXCL, err), 0);
	assert_int_equal(set_do(rs, "-exist add t 1.2.3.9\n", RULES_IPSET_EXCL, err), 0);
	assert_int_equal(set_do(rs, "add p 9.9.9.9 -!\n", RULES_IPSET_EXCL, err), 0);
	assert_int_equal(set_do(rs, "create t hash:ip timeout 300 -exist\n", 0, err), 0);
	assert_int_equal(set_do(rs, "create t hash:ip timeout 30 -exist\n", 0, err), -EINVAL);
	assert_string_equal(err, "s:1:8: set t already exists");
	/* 1.2.3.6 expires: no longer listed, may be added again, not deleted */
	fake_now += 500000;
	SET_IS(rs, "t", "create t hash:ip family inet hashsize 1024 maxelem 65536 timeout 300\n"
			"add t 1.2.3.4 timeout 49\nadd t 1.2.3.5 timeout 0\nadd t 1.2.3.9 timeout 299\n");
	uint32_t period = 0;
	assert_int_equal(rules_ipset_expired(rs, fake_now, &period), 1);
	assert_int_equal(period, 100); /* a third of 300 s */
	assert_int_equal(set_do(rs, "del t 1.2.3.6\n", 0, err), -EINVAL);
	assert_string_equal(err, "s:1:7: element cannot be deleted from set t: it's not added");
	assert_int_equal(set_do(rs, "del t 1.2.3.6 -exist\n", 0, err), 0);
	assert_int_equal(set_do(rs, "add t 1.2.3.6 timeout 7\n", RULES_IPSET_EXCL, err), 0);
	assert_int_equal(rules_ipset_expired(rs, fake_now, NULL), 0);
	SET_IS(rs, "t", "create t hash:ip family inet hashsize 1024 maxelem 65536 timeout 300\n"
			"add t 1.2.3.4 timeout 49\nadd t 1.2.3.5 timeout 0\nadd t 1.2.3.6 timeout 7\n"
			"add t 1.2.3.9 timeout 299\n");
	/* the purge takes out what expired, nothing else */
	fake_now += 10000000;
	const struct rules_set *t = rules_set_find(rs, "t");
	assert_int_equal(t->n, 4);
	assert_int_equal(rules_ipset_expired(rs, fake_now, &period), 2); /* 1.2.3.6, b's 5 */
	assert_int_equal(period, 3); /* b: a third of 10 s */
	assert_int_equal(rules_ipset_purge(rs, fake_now), 2);
	assert_int_equal(t->n, 3);
	assert_int_equal(rules_ipset_expired(rs, fake_now, NULL), 0);
	/* a full set makes room by dropping what expired */
	static const char small[] = "create s hash:ip maxelem 2 timeout 1\nadd s 1.1.1.1\n"
				    "add s 1.1.1.2\n";
	assert_int_equal(rules_ipset_load(rs, small, strlen(small), "s", err, sizeof(err)), 0);
	assert_int_equal(set_do(rs, "add s 1.1.1.3\n", RULES_IPSET_EXCL, err), -EINVAL);
	assert_string_equal(err, "s:1:7: set s is full (maxelem 2)");
	fake_now += 1000000;
	assert_int_equal(set_do(rs, "add s 1.1.1.3\n", RULES_IPSET_EXCL, err), 0);
	SET_IS(rs, "s", "create s hash:ip family inet hashsize 1024 maxelem 2 timeout 1\n"
			"add s 1.1.1.3 timeout 1\n");
	/* a ruleset read before the dataplane's clock: its expiries moved to
	 * the new clock, what was left kept */
	{
		const struct rules_set *ss = rules_set_find(rs, "s");
		uint64_t left = ss->e[0].exp_us - fake_now;
		rules_ipset_rebase(rs, fake_now, 7);
		assert_int_equal(ss->e[0].exp_us, 7 + left);
		rules_ipset_rebase(rs, 7, fake_now);
		assert_int_equal(ss->e[0].exp_us, fake_now + left);
	}
	assert_int_equal(set_do(rs, "create s hash:ip maxelem 3 timeout 1 -exist\n", 0, err), -EINVAL);
	assert_int_equal(set_do(rs, "create s hash:ip maxelem 2 timeout 1 -exist\n", 0, err), 0);
	/* a reload keeps a timeout set's live entries the file does not list */
	{
		struct rules_ruleset *fresh = rules_new();
		static const char file[] = "create s hash:ip maxelem 2 timeout 1\nadd s 1.1.1.7\n"
					   "create t hash:ip family inet6 timeout 300\n";
		assert_non_null(fresh);
		assert_int_equal(rules_ipset_load(fresh, file, strlen(file), "f", err, sizeof(err)), 0);
		assert_int_equal(rules_ipset_keep_live(fresh, rs, fake_now), 1); /* 1.1.1.3; t: IPv6 now */
		SET_IS(fresh, "s", "create s hash:ip family inet hashsize 1024 maxelem 2 timeout 1\n"
				   "add s 1.1.1.7 timeout 1\nadd s 1.1.1.3 timeout 1\n");
		assert_int_equal(rules_ipset_keep_live(fresh, rs, fake_now), 0); /* there already */
		rules_free(fresh);
	}
	/* the YAML dump keeps the timeouts, and loads back */
	char *y = rules_yaml_print(rs, 0);
	assert_non_null(y);
	if (!strstr(y, "  s:\n    type: hash:ip\n    family: inet\n    maxelem: 2\n    timeout: 1\n"
		       "    elements:\n      - \"1.1.1.3 timeout 1\"\n"))
		fail_msg("%s", y);
	struct rules_ruleset *back = rules_new();
	assert_non_null(back);
	assert_int_equal(rules_yaml_load(back, y, strlen(y), "y", err, sizeof(err)), 0);
	char *a = rules_ipset_print(rs, NULL), *bb = rules_ipset_print(back, NULL);
	assert_string_equal(a, bb);
	free(a);
	free(bb);
	free(y);
	rules_free(back);
	rules_free(rs);
	rules_clock_set(NULL);
}

/* ipset's nomatch (exceptions of hash:net types) and comments: loaded,
 * printed as `ipset save` prints them, made again by -exist, kept by
 * copies and reloads; ipset test answers with the most specific entry */
static void test_set_nomatch_comment(void **state)
{
	(void)state;
	char err[RULES_ERR_MAX];
	fake_now = 5000000000ull;
	rules_clock_set(fake_clock);
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	static const char sets[] =
		"create n hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x6b5c0858\n"
		"add n 10.0.0.0/8\nadd n 10.1.0.0/16 nomatch\nadd n 10.1.2.0/24\n"
		"create c hash:ip comment\n"
		"add c 1.2.3.4 comment \"hello world\"\nadd c 1.2.3.5\nadd c 1.2.3.6 comment one\n"
		"add c 1.2.3.7 comment \"tab\tx\"\nadd c 1.2.3.8 comment \"\"\n"
		"create t hash:net timeout 100 comment\n"
		"add t 10.0.0.0/8 nomatch timeout 50 comment \"a b\"\n"
		"add t 11.0.0.0/8 comment \"c\" timeout 0\n"
		"create np hash:net,port\nadd np 10.0.0.0/8,80 nomatch\nadd np 10.0.0.0/8,81\n";
	assert_int_equal(rules_ipset_load(rs, sets, strlen(sets), "s", err, sizeof(err)), 0);
	SET_IS(rs, "n", "create n hash:net family inet hashsize 1024 maxelem 65536\n"
			"add n 10.0.0.0/8\nadd n 10.1.0.0/16 nomatch\nadd n 10.1.2.0/24\n");
	SET_IS(rs, "c", "create c hash:ip family inet hashsize 1024 maxelem 65536 comment\n"
			"add c 1.2.3.4 comment \"hello world\"\nadd c 1.2.3.5\n"
			"add c 1.2.3.6 comment \"one\"\nadd c 1.2.3.7 comment \"tab\tx\"\nadd c 1.2.3.8\n");
	SET_IS(rs, "t", "create t hash:net family inet hashsize 1024 maxelem 65536 timeout 100 comment\n"
			"add t 10.0.0.0/8 timeout 50 nomatch comment \"a b\"\n"
			"add t 11.0.0.0/8 timeout 0 comment \"c\"\n");
	SET_IS(rs, "np", "create np hash:net,port family inet hashsize 1024 maxelem 65536\n"
			 "add np 10.0.0.0/8,tcp:80 nomatch\nadd np 10.0.0.0/8,tcp:81\n");
	/* the most specific entry decides */
	assert_int_equal(rules_ipset_test(rs, "n", "10.9.9.9", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "n", "10.1.9.9", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "n", "10.1.2.9", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "n", "10.1.0.0/16", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "np", "10.1.1.1,80", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "np", "10.1.1.1,81", 0, err, sizeof(err)), 1);
	/* a copy (every change is made on one) keeps comments, and only the
	 * live entries' */
	assert_int_equal(set_do(rs, "del c 1.2.3.4\nadd c 1.2.3.9 comment nine\n", RULES_IPSET_EXCL, err), 0);
	struct rules_ruleset *cl = rules_clone(rs);
	assert_non_null(cl);
	SET_IS(cl, "c", "create c hash:ip family inet hashsize 1024 maxelem 65536 comment\n"
			"add c 1.2.3.8\nadd c 1.2.3.5\nadd c 1.2.3.6 comment \"one\"\n"
			"add c 1.2.3.7 comment \"tab\tx\"\nadd c 1.2.3.9 comment \"nine\"\n");
	const struct rules_set *cs = rules_set_find(cl, "c");
	assert_int_equal(cs->cpool_len, strlen("nine one tab\tx") + 1);
	rules_free(cl);
	/* -exist makes an element again, as the kernel: flags and comment
	 * are those given, else none */
	assert_int_equal(set_do(rs, "add t 10.0.0.0/8 -exist\nadd c 1.2.3.6 comment two -exist\n",
				RULES_IPSET_EXCL, err), 0);
	SET_IS(rs, "t", "create t hash:net family inet hashsize 1024 maxelem 65536 timeout 100 comment\n"
			"add t 10.0.0.0/8 timeout 100\nadd t 11.0.0.0/8 timeout 0 comment \"c\"\n");
	assert_int_equal(set_do(rs, "-exist add n 10.1.2.0/24 nomatch\n", RULES_IPSET_EXCL, err), 0);
	assert_int_equal(rules_ipset_test(rs, "n", "10.1.2.9", 0, err, sizeof(err)), 0);
	/* a reload keeps a timeout set's live entries with their comments */
	struct rules_ruleset *re = rules_new();
	assert_non_null(re);
	static const char again[] = "create t hash:net timeout 100 comment\nadd t 12.0.0.0/8\n";
	assert_int_equal(rules_ipset_load(re, again, strlen(again), "s", err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_keep_live(re, rs, fake_now), 2);
	SET_IS(re, "t", "create t hash:net family inet hashsize 1024 maxelem 65536 timeout 100 comment\n"
			"add t 12.0.0.0/8 timeout 100\nadd t 10.0.0.0/8 timeout 100\n"
			"add t 11.0.0.0/8 timeout 0 comment \"c\"\n");
	rules_free(re);
	/* three dimensions: loaded, printed, tested (the most specific third
	 * prefix decides), refused when they do not fit */
	static const char three[] =
		"create pip hash:ip,port,ip\nadd pip 1.1.1.1,tcp:80,2.2.2.2\nadd pip 1.1.1.1,udp:53,2.2.2.3\n"
		"create pin hash:ip,port,net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x5e3f2d68\n"
		"add pin 1.1.1.1,udp:53,10.0.0.0/8\nadd pin 1.1.1.1,udp:53,10.1.0.0/16 nomatch\n"
		"create pin6 hash:ip,port,net family inet6\nadd pin6 2001:db8::1,tcp:443,2001:db8:1::/48\n";
	assert_int_equal(rules_ipset_load(rs, three, strlen(three), "s", err, sizeof(err)), 0);
	SET_IS(rs, "pip", "create pip hash:ip,port,ip family inet hashsize 1024 maxelem 65536\n"
			  "add pip 1.1.1.1,tcp:80,2.2.2.2\nadd pip 1.1.1.1,udp:53,2.2.2.3\n");
	SET_IS(rs, "pin", "create pin hash:ip,port,net family inet hashsize 1024 maxelem 65536\n"
			  "add pin 1.1.1.1,udp:53,10.0.0.0/8\nadd pin 1.1.1.1,udp:53,10.1.0.0/16 nomatch\n");
	SET_IS(rs, "pin6", "create pin6 hash:ip,port,net family inet6 hashsize 1024 maxelem 65536\n"
			   "add pin6 2001:db8::1,tcp:443,2001:db8:1::/48\n");
	assert_int_equal(rules_ipset_test(rs, "pip", "1.1.1.1,tcp:80,2.2.2.2", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "pip", "1.1.1.1,tcp:80,2.2.2.3", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "pin", "1.1.1.1,udp:53,10.2.0.1", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "pin", "1.1.1.1,udp:53,10.1.0.1", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "pin", "1.1.1.1,udp:53,10.0.0.0/8", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "pin", "1.1.1.1,tcp:53,10.2.0.1", 0, err, sizeof(err)), 0);
	static const struct {
		const char *in, *want;
	} bad3[] = {
		{"add pip 1.1.1.1,tcp:80\n", "s:1:9: entry \"1.1.1.1,tcp:80\" does not fit the set's type"},
		{"add pip 1.1.1.1,tcp:80,2.2.2.0/24\n",
		 "s:1:9: entry \"1.1.1.1,tcp:80,2.2.2.0/24\": no prefixes in a hash:ip,port,ip set"},
		{"add pin 1.1.1.0/24,tcp:80,2.2.2.0/24\n",
		 "s:1:9: entry \"1.1.1.0/24,tcp:80,2.2.2.0/24\": no prefixes in a hash:ip,port,net set"},
		{"add pin 1.1.1.1,tcp:80,0.0.0.0/0\n", "s:1:9: entry \"1.1.1.1,tcp:80,0.0.0.0/0\": zero prefix length"},
		{"add pip 1.1.1.1,tcp:80,2.2.2.2,3.3.3.3\n", NULL},
		{"add pip 1.1.1.1,tcp:80,2.2.2.2 nomatch\n", "s:1:32: nomatch cannot be used: set pip is of type hash:ip,port,ip"},
	};
	for (size_t i = 0; i < sizeof(bad3) / sizeof(bad3[0]); i++) {
		if (rules_ipset_load(rs, bad3[i].in, strlen(bad3[i].in), "s", err, sizeof(err)) != -EINVAL)
			fail_msg("3d case %zu loaded", i);
		if (bad3[i].want && strcmp(err, bad3[i].want))
			fail_msg("3d case %zu: want %s\n got %s", i, bad3[i].want, err);
	}
	/* ports of other protocols, as ipset 7.17 reads and prints them */
	static const char px[] =
		"create px hash:ip,port\nadd px 1.1.1.1,icmp:ping\nadd px 1.1.1.1,icmp:3/1\n"
		"add px 1.1.1.1,icmp:7/7\nadd px 1.1.1.1,sctp:80\nadd px 1.1.1.1,udplite:5\n"
		"add px 1.1.1.1,gre:0\nadd px 1.1.1.1,47:0\nadd px 1.1.1.1,esp:0\n"
		"create px6 hash:ip,port family inet6\nadd px6 ::1,icmpv6:ping\nadd px6 ::1,ipv6-icmp:1/3\n";
	assert_int_equal(rules_ipset_load(rs, px, strlen(px), "s", err, sizeof(err)), 0);
	SET_IS(rs, "px", "create px hash:ip,port family inet hashsize 1024 maxelem 65536\n"
			 "add px 1.1.1.1,icmp:echo-request\nadd px 1.1.1.1,icmp:host-unreachable\n"
			 "add px 1.1.1.1,icmp:7/7\nadd px 1.1.1.1,sctp:80\nadd px 1.1.1.1,udplite:5\n"
			 "add px 1.1.1.1,gre:0\nadd px 1.1.1.1,esp:0\n"); /* 47:0 is gre:0: kept once */
	SET_IS(rs, "px6", "create px6 hash:ip,port family inet6 hashsize 1024 maxelem 65536\n"
			  "add px6 ::1,ipv6-icmp:echo-request\nadd px6 ::1,ipv6-icmp:address-unreachable\n");
	static const struct {
		const char *in, *want;
	} badx[] = {
		{"add px 1.1.1.1,gre:5\n", "s:1:8: protocol gre can be used with pseudo port value 0 only"},
		{"add px 1.1.1.1,icmpv6:ping\n", "s:1:8: protocol ICMPv6 can be used with family inet6 only"},
		{"add px6 ::1,icmp:8/0\n", "s:1:9: protocol ICMP can be used with family inet only"},
		{"add px 1.1.1.1,icmp:300/0\n", "s:1:8: cannot parse \"icmp:300/0\" as an ICMP type/code"},
		{"add px 1.1.1.1,icmp:destination-unreachable\n",
		 "s:1:8: cannot parse \"icmp:destination-unreachable\" as an ICMP type/code"},
		{"add px 1.1.1.1,0:0\n", "s:1:8: unknown protocol \"0\""},
	};
	for (size_t i = 0; i < sizeof(badx) / sizeof(badx[0]); i++) {
		if (rules_ipset_load(rs, badx[i].in, strlen(badx[i].in), "s", err, sizeof(err)) != -EINVAL)
			fail_msg("port case %zu loaded", i);
		if (strcmp(err, badx[i].want))
			fail_msg("port case %zu: want %s\n got %s", i, badx[i].want, err);
	}
	/* port ranges: one element per port, added and deleted port by port,
	 * as ipset 7.17 lists them */
	static const char rng[] = "create rp bitmap:port range 1-100\nadd rp 5-8\n"
				  "create rq hash:ip,port\nadd rq 1.1.1.1,tcp:80-82\n"
				  "create rr hash:net,port\nadd rr 10.0.0.0/30,tcp:5-6\n"
				  "create rt hash:ip,port maxelem 2\n";
	assert_int_equal(rules_ipset_load(rs, rng, strlen(rng), "s", err, sizeof(err)), 0);
	assert_int_equal(set_do(rs, "add rp 7\n", RULES_IPSET_EXCL, err), -EINVAL);
	assert_string_equal(err, "s:1:8: element cannot be added to set rp: it's already added");
	assert_int_equal(set_do(rs, "add rp 8-9\n", RULES_IPSET_EXCL, err), -EINVAL);
	assert_int_equal(set_do(rs, "-exist add rp 8-9\ndel rp 6-7\ndel rq 1.1.1.1,tcp:81-82\n",
				RULES_IPSET_EXCL, err), 0);
	SET_IS(rs, "rp", "create rp bitmap:port range 1-100\nadd rp 5\nadd rp 8\nadd rp 9\n");
	SET_IS(rs, "rq", "create rq hash:ip,port family inet hashsize 1024 maxelem 65536\n"
			 "add rq 1.1.1.1,tcp:80\n");
	SET_IS(rs, "rr", "create rr hash:net,port family inet hashsize 1024 maxelem 65536\n"
			 "add rr 10.0.0.0/30,tcp:5\nadd rr 10.0.0.0/30,tcp:6\n");
	assert_int_equal(set_do(rs, "del rq 1.1.1.1,tcp:80-81\n", RULES_IPSET_EXCL, err), -EINVAL);
	assert_string_equal(err, "s:1:8: element cannot be deleted from set rq: it's not added");
	assert_int_equal(set_do(rs, "add rt 1.1.1.1,1-5\n", RULES_IPSET_EXCL, err), -EINVAL);
	assert_string_equal(err, "s:1:8: set rt is full (maxelem 2)");
	assert_int_equal(rules_ipset_test(rs, "rr", "10.0.0.1,6", 0, err, sizeof(err)), 1);
	/* list:set: members in order, before/after, as ipset 7.17 saves them
	 * (lists after the other sets, so that they load back) */
	static const char ls[] = "create la list:set size 4\n"
				 "create lm4 hash:net\nadd lm4 10.0.0.0/8\ncreate lm6 hash:net family inet6\n"
				 "create lmp hash:ip,port\nadd la lm4\nadd la lmp\nadd la lm6 before lmp\n";
	assert_int_equal(rules_ipset_load(rs, ls, strlen(ls), "s", err, sizeof(err)), 0);
	SET_IS(rs, "la", "create la list:set size 4\nadd la lm4\nadd la lm6\nadd la lmp\n");
	assert_int_equal(rules_ipset_test(rs, "la", "lm6", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "la", "rp", 0, err, sizeof(err)), 0);
	assert_int_equal(set_do(rs, "del la lm6\nadd la rp after lm4\n", RULES_IPSET_EXCL, err), 0);
	SET_IS(rs, "la", "create la list:set size 4\nadd la lm4\nadd la rp\nadd la lmp\n");
	/* size: at least 4, and not a limit (as the kernel's) */
	assert_int_equal(set_do(rs, "create lz list:set size 2\nadd lz lm4\nadd lz lm6\nadd lz lmp\n"
				    "add lz rp\nadd lz rq\n", RULES_IPSET_EXCL, err), 0);
	SET_IS(rs, "lz", "create lz list:set size 4\nadd lz lm4\nadd lz lm6\nadd lz lmp\nadd lz rp\n"
			 "add lz rq\n");
	char *all = rules_ipset_print(rs, NULL);
	assert_non_null(all);
	char *lpos = strstr(all, "create la list:set");
	assert_non_null(lpos);
	assert_null(strstr(lpos, "create lm4")); /* the list after its members */
	free(all);
	static const struct {
		const char *in, *want;
	} badl[] = {
		{"add la nosuch\n", "s:1:8: set nosuch to be added/deleted/tested as element does not exist"},
		{"create lb list:set\nadd la lb\n", "s:2:8: sets with list:set type cannot be added to the set"},
		{"add la lm4\n", "s:1:8: element cannot be added to set la: it's already added"},
		{"add la lm6 after nosuch\n", "s:1:18: set nosuch is not in list la"},

		{"create lm4 hash:ip\n", "s:1:8: set lm4 is in use by rules and cannot be recreated"},
		{"add rq 1.1.1.1,tcp:9 before x\n", "s:1:29: before/after: set rq is not a list:set"},
	};
	for (size_t i = 0; i < sizeof(badl) / sizeof(badl[0]); i++) {
		if (set_do(rs, badl[i].in, RULES_IPSET_EXCL, err) != -EINVAL)
			fail_msg("list case %zu loaded", i);
		if (strcmp(err, badl[i].want))
			fail_msg("list case %zu: want %s\n got %s", i, badl[i].want, err);
	}
	/* a reload keeps a timeout list's live members that still exist */
	struct rules_ruleset *lv = rules_new(), *nw = rules_new();
	assert_non_null(lv);
	assert_non_null(nw);
	static const char lv_t[] = "create A hash:ip\ncreate B hash:ip\ncreate L list:set timeout 600\n"
				   "add L A\nadd L B\n";
	static const char nw_t[] = "create B hash:ip\ncreate L list:set timeout 600\n";
	assert_int_equal(rules_ipset_load(lv, lv_t, strlen(lv_t), "s", err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_load(nw, nw_t, strlen(nw_t), "s", err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_keep_live(nw, lv, fake_now), 1);
	SET_IS(nw, "L", "create L list:set size 8 timeout 600\nadd L B timeout 600\n");
	/* ... all of them: a list's size is no limit */
	static const char lv2[] = "create C hash:ip\ncreate D hash:ip\ncreate E hash:ip\ncreate F hash:ip\n"
				  "create G list:set size 4 timeout 600\nadd G A\nadd G B\nadd G C\nadd G D\n"
				  "add G E\nadd G F\n";
	static const char nw2[] = "create G list:set size 4 timeout 600\n";
	assert_int_equal(rules_ipset_load(lv, lv2, strlen(lv2), "s", err, sizeof(err)), 0);
	static const char nw3[] = "create A hash:ip\ncreate C hash:ip\ncreate D hash:ip\n"
				  "create E hash:ip\ncreate F hash:ip\n";
	assert_int_equal(rules_ipset_load(nw, nw3, strlen(nw3), "s", err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_load(nw, nw2, strlen(nw2), "s", err, sizeof(err)), 0);
	/* L gets A back (it exists now), G all six */
	assert_int_equal(rules_ipset_keep_live(nw, lv, fake_now), 7);
	SET_IS(nw, "G", "create G list:set size 4 timeout 600\nadd G A timeout 600\nadd G B timeout 600\n"
			"add G C timeout 600\nadd G D timeout 600\nadd G E timeout 600\nadd G F timeout 600\n");
	rules_free(lv);
	rules_free(nw);
	/* a load that adds an element twice: a del takes every copy, an
	 * -exist add is the last line (as the kernel would do with one copy) */
	static const char twice[] =
		"create tb bitmap:ip range 10.0.0.0/24\nadd tb 10.0.0.1\nadd tb 10.0.0.1\ndel tb 10.0.0.1\n"
		"create th hash:ip\nadd th 1.1.1.1\nadd th 1.1.1.1\ndel th 1.1.1.1\n"
		"create tr hash:ip,port\nadd tr 1.1.1.1,80-81\nadd tr 1.1.1.1,80-81\ndel tr 1.1.1.1,80-81\n"
		"create tn hash:net\nadd tn 10.0.0.0/24\nadd tn 10.0.0.0/24\nadd tn 10.0.0.0/24 nomatch -exist\n";
	assert_int_equal(rules_ipset_load(rs, twice, strlen(twice), "s", err, sizeof(err)), 0);
	SET_IS(rs, "tb", "create tb bitmap:ip range 10.0.0.0-10.0.0.255\n");
	SET_IS(rs, "th", "create th hash:ip family inet hashsize 1024 maxelem 65536\n");
	SET_IS(rs, "tr", "create tr hash:ip,port family inet hashsize 1024 maxelem 65536\n");
	SET_IS(rs, "tn", "create tn hash:net family inet hashsize 1024 maxelem 65536\n"
			 "add tn 10.0.0.0/24 nomatch\n");
	/* a load keeps an element's last line (here: the exception) */
	static const char dup[] = "create dn hash:net\nadd dn 10.0.0.0/8\nadd dn 10.1.0.0/16\n"
				  "add dn 10.0.0.0/8 nomatch\n# a \"quote in a comment\n";
	assert_int_equal(rules_ipset_load(rs, dup, strlen(dup), "s", err, sizeof(err)), 0);
	SET_IS(rs, "dn", "create dn hash:net family inet hashsize 1024 maxelem 65536\n"
			 "add dn 10.1.0.0/16\nadd dn 10.0.0.0/8 nomatch\n");
	/* bitmap:ip as the kernel's ipset 7.17 takes and prints it: the range
	 * widened to the netmask's blocks, ranges and prefixes added block by
	 * block, elements listed in order */
	static const char bm[] =
		"create bc bitmap:ip range 10.0.0.0/16 netmask 24 timeout 10 comment\n"
		"add bc 10.0.5.7 comment \"x\"\nadd bc 10.0.6.0/23\n"
		"create be bitmap:ip range 10.0.0.20-10.0.0.1\n"
		"create bj bitmap:ip range 10.0.0.1-10.0.0.9 netmask 30\nadd bj 10.0.0.9\nadd bj 10.0.0.0\n"
		"create bk bitmap:ip range 10.0.0.1-10.0.0.9\nadd bk 10.0.0.3-10.0.0.4\n";
	assert_int_equal(rules_ipset_load(rs, bm, strlen(bm), "s", err, sizeof(err)), 0);
	SET_IS(rs, "bc", "create bc bitmap:ip range 10.0.0.0-10.0.255.255 netmask 24 timeout 10 comment\n"
			"add bc 10.0.5.0 timeout 10 comment \"x\"\nadd bc 10.0.6.0 timeout 10\n"
			"add bc 10.0.7.0 timeout 10\n");
	SET_IS(rs, "be", "create be bitmap:ip range 10.0.0.1-10.0.0.20\n");
	SET_IS(rs, "bj", "create bj bitmap:ip range 10.0.0.0-10.0.0.11 netmask 30\nadd bj 10.0.0.0\nadd bj 10.0.0.8\n");
	SET_IS(rs, "bk", "create bk bitmap:ip range 10.0.0.1-10.0.0.9\nadd bk 10.0.0.3\nadd bk 10.0.0.4\n");
	/* a range that starts inside a block steps by blocks from there (the
	 * kernel's walk): 10.0.8.200 + 256 is past 10.0.9.100 */
	assert_int_equal(set_do(rs, "add bc 10.0.8.200-10.0.9.100\n", RULES_IPSET_EXCL, err), 0);
	assert_int_equal(rules_ipset_test(rs, "bc", "10.0.8.1", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "bc", "10.0.9.1", 0, err, sizeof(err)), 0);
	assert_int_equal(set_do(rs, "del bc 10.0.8.0\n", RULES_IPSET_EXCL, err), 0);
	assert_int_equal(set_do(rs, "add bc 0.0.0.0/0\n", RULES_IPSET_EXCL, err), -EINVAL);
	assert_string_equal(err, "s:1:8: entry \"0.0.0.0/0\": zero prefix length");
	assert_int_equal(rules_ipset_test(rs, "bc", "10.0.7.9", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "bc", "10.0.8.9", 0, err, sizeof(err)), 0);
	assert_int_equal(set_do(rs, "del bk 10.0.0.3-10.0.0.4\nadd bk 10.0.0.9\n", RULES_IPSET_EXCL, err), 0);
	SET_IS(rs, "bk", "create bk bitmap:ip range 10.0.0.1-10.0.0.9\nadd bk 10.0.0.9\n");
	static const struct {
		const char *in, *want;
	} badb[] = {
		{"create ba bitmap:ip range 10.0.0.0/8\n",
		 "s:1:27: the range you specified exceeds the size limit of the set type (65536 elements)"},
		{"create ba bitmap:ip range 10.0.0.0/15\n",
		 "s:1:27: the range you specified exceeds the size limit of the set type (65536 elements)"},
		{"add bc 10.1.0.0\n", "s:1:8: element \"10.1.0.0\" is out of the range of set bc"},
		{"add bc 10.0.6.3\n", "s:1:8: element cannot be added to set bc: it's already added"},
		{"add bk 10.0.0.7-10.0.0.10\n", "s:1:8: element \"10.0.0.7-10.0.0.10\" is out of the range of set bk"},
		{"del bk 10.0.0.8-10.0.0.9\n", "s:1:8: element cannot be deleted from set bk: it's not added"},
		{"create bd bitmap:ip range 10.0.0.1-10.0.0.20 family inet6\n",
		 "s:1:46: set option \"family\" is not supported"},
		{"create bf bitmap:ip\n", "s:1:11: bitmap:ip needs \"range FROM-TO\""},
		{"create bg bitmap:ip range 10.0.0.0/24 netmask 33\n", "s:1:47: '33' is out of range 1-32"},
		{"create bh bitmap:ip range 10.0.0.0/24 netmask 8\n",
		 "s:1:27: netmask 8 is not longer than the range's prefix /8"},
		{"create bi bitmap:ip range 10.0.0.0/16 maxelem 5\n", "s:1:39: set option \"maxelem\" is not supported"},
		{"create bi bitmap:ip range 10.0.0.0/16\nadd bi 10.0.0.1 nomatch\n",
		 "s:2:17: nomatch cannot be used: set bi is of type bitmap:ip"},
	};
	for (size_t i = 0; i < sizeof(badb) / sizeof(badb[0]); i++) {
		if (set_do(rs, badb[i].in, RULES_IPSET_EXCL, err) != -EINVAL)
			fail_msg("bitmap case %zu loaded", i);
		if (strcmp(err, badb[i].want))
			fail_msg("bitmap case %zu: want %s\n got %s", i, badb[i].want, err);
	}
	rules_free(rs);
	rules_clock_set(NULL);
}

static void test_clone_and_sets(void **state)
{
	char err[RULES_ERR_MAX];
	static const char sets[] = "create allow hash:net family inet\nadd allow 10.0.0.0/8\n"
				   "create svc hash:ip,port\nadd svc 10.0.0.1,udp:53\nadd svc 10.0.0.2,80-81\n"
				   "create p bitmap:port range 1000-2000\nadd p 1500\n";
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	assert_int_equal(rules_ipset_load(rs, sets, strlen(sets), "s", err, sizeof(err)), 0);
	const struct rules_set *s = rules_set_find(rs, "svc");
	assert_non_null(s);
	assert_int_equal(s->n, 3); /* 80-81: one element per port, as the kernel's */
	assert_int_equal(s->e[0].proto, 17);
	assert_int_equal(s->e[1].port_lo, 80);
	assert_int_equal(s->e[2].port_lo, 81);
	assert_int_equal(s->e[2].port_hi, 81);
	/* ipset test: an address in a prefix, a prefix exactly, ports */
	assert_int_equal(rules_ipset_test(rs, "allow", "10.1.2.3", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "allow", "10.0.0.0/8", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "allow", "10.0.0.0/9", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "allow", "11.0.0.1", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "svc", "10.0.0.1,udp:53", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "svc", "10.0.0.1,53", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "svc", "10.0.0.2,81", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "p", "1500", 0, err, sizeof(err)), 1);
	assert_int_equal(rules_ipset_test(rs, "p", "1501", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_test(rs, "nope", "1.2.3.4", 0, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "test:1: set nope doesn't exist");
	assert_int_equal(rules_ipset_test(rs, "allow", "1.2.3.4/33", 0, err, sizeof(err)), -EINVAL);
	static const char r[] = "*filter\n-A INPUT -m set --match-set allow src -j ACCEPT\nCOMMIT\n";
	assert_int_equal(rules_ipt_load(rs, RULES_F_V4, r, strlen(r), "r", 0, err, sizeof(err)), 0);

	static const struct {
		const char *in, *want;
	} bad[] = {
		{"create allow hash:ip\n", "s:1:8: set allow is in use by rules and cannot be recreated"},
		{"create x hash:ip\ncreate x hash:ip\n", "s:2:8: set x already exists"},
		{"create x hash:mac\n", "s:1:10: set type \"hash:mac\" is not supported"},
		{"create x hash:ip counters\n", "s:1:18: set option \"counters\" is not supported"},
		{"create x hash:ip timeout 2147484\n", "s:1:26: '2147484' is out of range 0-2147483"},
		{"create x hash:ip timeout -1\n", "s:1:26: '-1' is out of range 0-2147483"},
		{"create x hash:ip timeout abc\n", "s:1:26: 'abc' is invalid as number"},
		{"create x hash:ip timeout\n", "s:1:18: timeout needs a value"},
		{"add allow 1.2.3.4 timeout 5\n", "s:1:11: timeout cannot be used: set allow was created without timeout support"},
		{"add svc 10.0.0.9,80 nomatch\n", "s:1:21: nomatch cannot be used: set svc is of type hash:ip,port"},
		{"add allow 1.2.3.4 comment x\n", "s:1:27: comment cannot be used: set allow was created without comment support"},
		{"create c hash:net comment\nadd c 1.0.0.0/8 comment \"a\"b\"\n", "s:2:25: \" character is not permitted in comments"},
		{"create c hash:net comment\nadd c 1.0.0.0/8 comment \"ab\n", "s:2:25: missing close-quote"},
		{"create c hash:net comment\nadd c 1.0.0.0/8 comment\n", "s:2:17: comment needs a value"},
		{"create c hash:net comment\nadd c 1.0.0.0/8 comment a comment b\n", "s:2:27: comment already specified"},
		{"create c hash:net timeout 5\nadd c 1.0.0.0/8 timeout 1 timeout 2\n", "s:2:27: timeout already specified"},
		{"create c hash:ip comment\nadd c 1.2.3.4 comment \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345\"\n", "s:2:23: comment is longer than the maximum allowed 255 characters"},
		{"add allow\n", "s:1:1: add needs a set name and an entry"},
		{"del allow -exist\n", "s:1:1: del needs a set name and an entry"},
		{"del allow 1.2.3.4 timeout 5\n", "s:1:19: entry option \"timeout\" is not supported"},
		{"create x bitmap:port\n", "s:1:10: bitmap:port needs \"range FROM-TO\""},
		{"add p 3000\n", "s:1:7: port \"3000\" outside the set's range 1000-2000"},
		{"add nope 1.2.3.4\n", "s:1:5: set nope doesn't exist"},
		{"add allow 1.2.3.4,80\n", "s:1:11: entry \"1.2.3.4,80\" does not fit the set's type"},
		{"create x hash:ip family inet6\nadd x 1.2.3.4\n", "s:2:7: IPv4 address \"1.2.3.4\" in an IPv6 rule"},
		{"flush\n", "s:1:1: flush needs a set name"},
		{"destroy x\n", "s:1:1: unknown ipset command \"destroy\""},
		{"del nosuch 1.2.3.4\n", "s:1:5: set nosuch doesn't exist"},
		{"create a\"b hash:ip\n", "s:1:8: invalid set name \"a\"b\""},
	};
	char *before = rules_ipt_print(rs, RULES_F_V4, 0);
	size_t nsets = rs->n_sets;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rules_ipset_load(rs, bad[i].in, strlen(bad[i].in), "s", err, sizeof(err)) != -EINVAL) {
			print_error("ipset case %zu: loaded, want %s\n", i, bad[i].want);
			fail();
		}
		if (strcmp(err, bad[i].want)) {
			print_error("ipset case %zu: want %s\n got %s\n", i, bad[i].want, err);
			fail();
		}
		assert_int_equal(rs->n_sets, nsets);
	}

	struct rules_ruleset *c = rules_clone(rs);
	assert_non_null(c);
	char *after = rules_ipt_print(c, RULES_F_V4, 0);
	assert_string_equal(before, after);
	assert_int_equal(c->n_sets, rs->n_sets);
	free(before);
	free(after);
	rules_free(c);
	rules_free(rs);
}

/* ---- seeded random rulesets ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static const char *const base4[] = {"", "-s 10.1.2.3", "! -s 10.0.0.0/8", "-d 192.168.0.0/16",
	"-s 172.16.0.0/255.240.0.0", "! -d 1.2.3.4/32", "-i eth0", "-i eth+", "! -i lo", "-o ppp+",
	"! -o wan0", "-f", "! -f", "-p gre", "! -p udp"};
static const char *const base6[] = {"", "-s 2001:db8::1", "! -s 2001:db8::/32", "-d fe80::/10",
	"-i eth0", "-o eth+", "! -i lo"};
static const char *const matches_any[] = {"-p tcp --dport %u", "-p tcp ! --sport %u:%u",
	"-p tcp --tcp-flags SYN,ACK SYN", "-p tcp --syn", "-p tcp -m multiport --dports %u,%u:%u",
	"-p udp -m multiport ! --ports %u", "-p udp --sport %u", "-m conntrack --ctstate NEW,RELATED",
	"-m conntrack ! --ctstatus ASSURED --ctexpire %u:%u", "-m state --state ESTABLISHED",
	"-m limit --limit %u/min --limit-burst %u", "-m comment --comment \"c %u\"", "-m mark --mark %u/0xff",
	"-m mark ! --mark %u", "-m length --length %u:%u", "-m tos --tos %u", "-m dscp ! --dscp %u",
	"-m pkttype --pkt-type multicast", "-m addrtype --dst-type LOCAL", "-m mac --mac-source 0:1:2:3:4:%x",
	"-m iprange --src-range %s", "-m set --match-set s%u src", "-m comment --comment it's"};
static const char *const match4[] = {"-p icmp --icmp-type %u", "-m ttl --ttl-gt %u", "-p icmp ! --icmp-type echo-reply"};
static const char *const match6[] = {"-p ipv6-icmp --icmpv6-type %u", "-m hl --hl-lt %u"};
static const char *const targets[] = {"", "-j ACCEPT", "-j DROP", "-j RETURN", "-j LOG --log-prefix \"p %u\"",
	"-j NFLOG --nflog-group %u", "-j MARK --set-mark %u", "-j CONNMARK --save-mark", "-j REJECT",
	"-j MARK --or-mark %u", "-j CONNMARK --restore-mark --mask %u", "-c %u %u -j ACCEPT"};

static void add_fmt(char *buf, size_t len, const char *fmt, int fam)
{
	char tmp[256];
	uint32_t a = rnd(60000) + 1, b = a + rnd(5000), c = b + rnd(10) + 1;
	if (strstr(fmt, "%s"))
		snprintf(tmp, sizeof(tmp), fmt, fam == 6 ? "2001:db8::1-2001:db8::9" : "10.0.0.1-10.0.0.9");
	else if (strstr(fmt, "tos") || strstr(fmt, "dscp") || strstr(fmt, "icmp") || strstr(fmt, "ttl") ||
		 strstr(fmt, "hl-") || strstr(fmt, "mac") || strstr(fmt, "s%u"))
		snprintf(tmp, sizeof(tmp), fmt, rnd(strstr(fmt, "dscp") ? 64 : strstr(fmt, "s%u") ? 3 : 255));
	else if (strstr(fmt, "limit"))
		snprintf(tmp, sizeof(tmp), fmt, rnd(1000) + 1, rnd(10000) + 1);
	else
		snprintf(tmp, sizeof(tmp), fmt, a, b, c);
	strncat(buf, " ", len - strlen(buf) - 1);
	strncat(buf, tmp, len - strlen(buf) - 1);
}

static char *random_ruleset(int fam)
{
	size_t cap = 1 << 18;
	char *t = calloc(1, cap);
	int nchains = (int)rnd(6);
	assert_non_null(t);
	strcat(t, "*filter\n:FORWARD DROP [0:0]\n");
	for (int i = 0; i < nchains; i++)
		snprintf(t + strlen(t), cap - strlen(t), ":u%d - [0:0]\n", i);
	int nrules = (int)rnd(60) + 1;
	for (int i = 0; i < nrules; i++) {
		char rule[1024] = "";
		int chain = (int)rnd((uint32_t)nchains + 1) - 1; /* -1: FORWARD */
		const char *const *base = fam == 6 ? base6 : base4;
		size_t nb = fam == 6 ? sizeof(base6) / sizeof(*base6) : sizeof(base4) / sizeof(*base4);
		const char *bf = base[rnd((uint32_t)nb)];
		if (*bf) {
			strcat(rule, " ");
			strcat(rule, bf);
		}
		bool proto = strstr(rule, "-p ") != NULL;
		int nm = (int)rnd(4);
		for (int m = 0; m < nm; m++) {
			const char *f;
			if (rnd(4) == 0)
				f = fam == 6 ? match6[rnd(2)] : match4[rnd(3)];
			else
				f = matches_any[rnd(sizeof(matches_any) / sizeof(*matches_any))];
			if (strstr(f, "-p ") && (proto || strstr(rule, "-f")))
				continue;
			proto |= strstr(f, "-p ") != NULL;
			add_fmt(rule, sizeof(rule), f, fam);
		}
		const char *tg = targets[rnd(sizeof(targets) / sizeof(*targets))];
		if (strstr(tg, "MARK") && rnd(2))
			tg = "";
		if (nchains > chain + 1 && rnd(3) == 0) {
			/* jumps only to later chains: no loops */
			int to = chain + 1 + (int)rnd((uint32_t)(nchains - chain - 1));
			snprintf(rule + strlen(rule), sizeof(rule) - strlen(rule), " -%c u%d", rnd(2) ? 'j' : 'g', to);
		} else if (*tg) {
			add_fmt(rule, sizeof(rule), tg, fam);
		}
		if (chain < 0)
			snprintf(t + strlen(t), cap - strlen(t), "-A FORWARD%s\n", rule);
		else
			snprintf(t + strlen(t), cap - strlen(t), "-A u%d%s\n", chain, rule);
	}
	strcat(t, "COMMIT\n");
	return t;
}

static void test_random_roundtrip(void **state)
{
	static const char sets4[] = "create s0 hash:ip\ncreate s1 hash:net\ncreate s2 hash:ip\n";
	static const char sets6[] = "create s0 hash:ip family inet6\ncreate s1 hash:net family inet6\n"
				    "create s2 hash:ip family inet6\n";
	char err[RULES_ERR_MAX];
	rng_state = 0x9E3779B97F4A7C15ull;
	for (int iter = 0; iter < 300; iter++) {
		int fam = iter % 2 ? 6 : 4;
		int f = fam == 6 ? RULES_F_V6 : RULES_F_V4;
		const char *sets = fam == 6 ? sets6 : sets4;
		char *text = random_ruleset(fam);
		struct rules_ruleset *a = rules_new(), *b = rules_new();
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(rules_ipset_load(a, sets, strlen(sets), "s", err, sizeof(err)), 0);
		assert_int_equal(rules_ipset_load(b, sets, strlen(sets), "s", err, sizeof(err)), 0);
		if (rules_ipt_load(a, f, text, strlen(text), "random", 0, err, sizeof(err)) < 0) {
			print_error("iteration %d: %s\n%s", iter, err, text);
			fail();
		}
		for (unsigned pf = 0; pf <= RULES_PRINT_COUNTERS; pf += RULES_PRINT_COUNTERS) {
			char *p1 = rules_ipt_print(a, f, pf);
			assert_non_null(p1);
			struct rules_ruleset *c = rules_clone(b);
			assert_non_null(c);
			if (rules_ipt_load(c, f, p1, strlen(p1), "print", 0, err, sizeof(err)) < 0) {
				print_error("iteration %d: reparse: %s\n%s", iter, err, p1);
				fail();
			}
			char *p2 = rules_ipt_print(c, f, pf);
			assert_non_null(p2);
			assert_same_text("print -> parse -> print", p1, p2);
			free(p1);
			free(p2);
			rules_free(c);
		}
		rules_free(a);
		rules_free(b);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_golden_list),
		cmocka_unit_test(test_list_chain),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_bounds),
		cmocka_unit_test(test_ct_timeout),
		cmocka_unit_test(test_add_rule),
		cmocka_unit_test(test_clone_and_sets),
		cmocka_unit_test(test_set_timeouts),
		cmocka_unit_test(test_set_nomatch_comment),
		cmocka_unit_test(test_random_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
