/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the iptables-restore parser and printer.
 * Input: one flag byte (bit 0: IPv6, bit 1: also try the single-rule
 * parser, bit 2: print counters), then restore text. Invariants checked:
 * no crash or leak on any input; whatever loads prints, and the printed
 * text loads again and prints identically (print is a fixed point).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sets4[] = "create s4 hash:ip\ncreate n4 hash:net\ncreate ip4 hash:ip,port\n"
			    "create p bitmap:port range 1-1024\n";
static const char sets6[] = "create s6 hash:ip family inet6\ncreate n6 hash:net family inet6\n";

static struct rules_ruleset *fresh(void)
{
	char err[RULES_ERR_MAX];
	struct rules_ruleset *rs = rules_new();
	if (!rs)
		abort();
	if (rules_ipset_load(rs, sets4, sizeof(sets4) - 1, "s", err, sizeof(err)) < 0 ||
	    rules_ipset_load(rs, sets6, sizeof(sets6) - 1, "s", err, sizeof(err)) < 0)
		abort();
	return rs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[RULES_ERR_MAX];
	if (size < 1 || size > 1 << 20)
		return 0;
	int fam = (data[0] & 1) ? RULES_F_V6 : RULES_F_V4;
	unsigned pf = (data[0] & 4) ? RULES_PRINT_COUNTERS : 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;

	struct rules_ruleset *rs = fresh();
	if (rules_ipt_load(rs, fam, text, len, "fuzz", 0, err, sizeof(err)) == 0) {
		char *p1 = rules_ipt_print(rs, fam, pf);
		if (!p1)
			abort();
		struct rules_ruleset *b = fresh();
		if (rules_ipt_load(b, fam, p1, strlen(p1), "print", 0, err, sizeof(err)) < 0) {
			fprintf(stderr, "printed text does not load: %s\n%s", err, p1);
			abort();
		}
		char *p2 = rules_ipt_print(b, fam, pf);
		if (!p2 || strcmp(p1, p2) != 0) {
			fprintf(stderr, "print is not a fixed point:\n%s---\n%s", p1, p2 ? p2 : "(null)");
			abort();
		}
		if (rules_validate(b, "print", err, sizeof(err)) < 0) {
			fprintf(stderr, "loaded ruleset does not validate: %s\n", err);
			abort();
		}
		free(p1);
		free(p2);
		rules_free(b);
	}
	if ((data[0] & 2) && len < 4096 && !memchr(text, '\0', len)) {
		char *rule = malloc(len + 1);
		if (!rule)
			abort();
		memcpy(rule, text, len);
		rule[len] = '\0';
		static const int fams[] = {RULES_F_V4, RULES_F_V6, RULES_F_ALL};
		int f = fams[(data[0] >> 3) % 3];
		static const char *const chains[] = {"INPUT", "FORWARD", "OUTPUT"};
		(void)rules_ipt_add_rule(rs, RULES_T_FILTER, chains[(data[0] >> 5) % 3], -1, f, rule, "fuzz",
			1, 1, err, sizeof(err));
		char *p = rules_ipt_print(rs, fam, pf);
		free(p);
		free(rule);
	}
	rules_free(rs);
	return 0;
}
