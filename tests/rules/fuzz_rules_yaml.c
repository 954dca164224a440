/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the YAML ruleset loader and printer. Invariants: no
 * crash or leak on any input; a ruleset that loads prints as YAML, the
 * printed YAML loads again and prints identically, and it compiles.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[RULES_ERR_MAX];
	if (size > 1 << 16)
		return 0;
	struct rules_ruleset *rs = rules_new();
	if (!rs)
		abort();
	if (rules_yaml_load(rs, (const char *)data, size, "fuzz.yaml", err, sizeof(err)) == 0) {
		char *p1 = rules_yaml_print(rs, 0);
		if (!p1)
			abort();
		struct rules_ruleset *b = rules_new();
		if (!b || rules_yaml_load(b, p1, strlen(p1), "print.yaml", err, sizeof(err)) < 0) {
			fprintf(stderr, "printed YAML does not load: %s\n%s", err, p1);
			abort();
		}
		char *p2 = rules_yaml_print(b, 0);
		if (!p2 || strcmp(p1, p2) != 0) {
			fprintf(stderr, "YAML print is not a fixed point:\n%s---\n%s", p1, p2 ? p2 : "");
			abort();
		}
		static const char *const ports[] = {"lan0", "wan0"};
		struct rules_prog *p = rules_prog_compile(b, ports, 2, 0, err, sizeof(err));
		rules_prog_free(p);
		free(p1);
		free(p2);
		rules_free(b);
	}
	rules_free(rs);
	return 0;
}
