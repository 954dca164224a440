/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipt_conv: test helper. Loads iptables-restore text (and optionally an
 * ipset save file) into a ruleset and prints it back as iptables-save
 * does, or with --list / --spec as `iptables -t T -L` / `iptables -t T -S`
 * print every table the input names ("*table" lines), in the order raw,
 * mangle, nat, filter, each preceded by a line "# table T" (the format of
 * the golden NAME.list / NAME.spec files; a table named but left empty
 * does not exist in the kernel, whose -L still lists its built-in chains). -n -v -x --line-numbers are the
 * iptables flags of those listings. -t TABLE [--chain C [--rule N]]: the
 * listing of one table, chain or rule alone, without the "# table" line.
 * Usage: ipt_conv [-6] [-c] [-s sets.ipset] [--list|--spec] [-n] [-v] [-x]
 *        [--line-numbers] [-t TABLE [--chain C [--rule N]]] < rules
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipt_list.h"
#include "rules.h"

/* Whether the restore text has a line "*name". */
static bool names_table(const char *buf, size_t len, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < len; i++) {
		if ((i == 0 || buf[i - 1] == '\n') && buf[i] == '*' && i + 1 + n <= len &&
			memcmp(buf + i + 1, name, n) == 0 &&
			(i + 1 + n == len || buf[i + 1 + n] == '\n' || buf[i + 1 + n] == ' ' ||
				buf[i + 1 + n] == '\t' || buf[i + 1 + n] == '\r'))
			return true;
	}
	return false;
}

static char *slurp(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = realloc(b, cap *= 2);
			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
		}
	}
	*len = n;
	return b;
}

int main(int argc, char **argv)
{
	int fam = RULES_F_V4;
	unsigned pflags = 0;
	const char *sets = NULL;
	unsigned lflags = 0;
	int mode = 0; /* 0 save, 'L' list, 'S' spec */
	const char *table = NULL, *chain = NULL;
	long rulenum = 0;
	char err[RULES_ERR_MAX];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-6") == 0)
			fam = RULES_F_V6;
		else if (strcmp(argv[i], "-c") == 0)
			pflags |= RULES_PRINT_COUNTERS;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sets = argv[++i];
		else if (strcmp(argv[i], "--list") == 0)
			mode = 'L';
		else if (strcmp(argv[i], "--spec") == 0)
			mode = 'S';
		else if (strcmp(argv[i], "-n") == 0)
			lflags |= RULES_LIST_NUMERIC;
		else if (strcmp(argv[i], "-v") == 0)
			lflags |= RULES_LIST_VERBOSE;
		else if (strcmp(argv[i], "-x") == 0)
			lflags |= RULES_LIST_EXACT;
		else if (strcmp(argv[i], "--line-numbers") == 0)
			lflags |= RULES_LIST_LINENUMBERS;
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			table = argv[++i];
		else if (strcmp(argv[i], "--chain") == 0 && i + 1 < argc)
			chain = argv[++i];
		else if (strcmp(argv[i], "--rule") == 0 && i + 1 < argc)
			rulenum = strtol(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: ipt_conv [-6] [-c] [-s sets] [--list|--spec] [-n] [-v] [-x] "
					"[--line-numbers] [-t table [--chain c [--rule n]]] < rules\n");
			return 2;
		}
	}
	struct rules_ruleset *rs = rules_new();
	size_t len;
	char *buf;
	if (!rs)
		return 1;
	if (sets) {
		FILE *f = fopen(sets, "r");
		if (!f || !(buf = slurp(f, &len))) {
			perror(sets);
			return 1;
		}
		fclose(f);
		if (rules_ipset_load(rs, buf, len, sets, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		free(buf);
	}
	if (!(buf = slurp(stdin, &len)))
		return 1;
	if (rules_ipt_load(rs, fam, buf, len, "<stdin>", 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		free(buf);
		rules_free(rs);
		return 1;
	}
	if (mode && table) {
		int t = rules_table_by_name(table);
		char *out = t < 0 ? NULL :
			mode == 'L' ? rules_ipt_list(rs, fam, (enum rules_table_id)t, chain, rulenum, lflags) :
				      rules_ipt_spec(rs, fam, (enum rules_table_id)t, chain, rulenum, lflags);
		free(buf);
		if (!out) {
			perror(table);
			rules_free(rs);
			return 1;
		}
		fputs(out, stdout);
		free(out);
		rules_free(rs);
		return 0;
	}
	if (mode) {
		static const enum rules_table_id order[] = {RULES_T_RAW, RULES_T_MANGLE, RULES_T_NAT,
			RULES_T_FILTER};
		for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			if (!names_table(buf, len, rules_table_name(order[k])))
				continue;
			char *out = mode == 'L' ? rules_ipt_list(rs, fam, order[k], NULL, 0, lflags) :
						  rules_ipt_spec(rs, fam, order[k], NULL, 0, lflags);
			if (!out)
				return 1;
			printf("# table %s\n%s", rules_table_name(order[k]), out);
			free(out);
		}
		free(buf);
		rules_free(rs);
		return 0;
	}
	free(buf);
	char *out = rules_ipt_print(rs, fam, pflags);
	if (!out)
		return 1;
	fputs(out, stdout);
	free(out);
	rules_free(rs);
	return 0;
}
