/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipt_conv: test helper. Loads iptables-restore text (and optionally an
 * ipset save file) into a ruleset and prints it back as iptables-save
 * does. Usage: ipt_conv [-6] [-c] [-s sets.ipset] < rules
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

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
	char err[RULES_ERR_MAX];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-6") == 0)
			fam = RULES_F_V6;
		else if (strcmp(argv[i], "-c") == 0)
			pflags |= RULES_PRINT_COUNTERS;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sets = argv[++i];
		else {
			fprintf(stderr, "usage: ipt_conv [-6] [-c] [-s sets] < rules\n");
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
	free(buf);
	char *out = rules_ipt_print(rs, fam, pflags);
	if (!out)
		return 1;
	fputs(out, stdout);
	free(out);
	rules_free(rs);
	return 0;
}
