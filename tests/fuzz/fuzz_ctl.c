/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl: control-socket request lines (src/ctl.c's tokenizer, command
 * dispatch and conntrack filter parsing). The dataplane side is stubbed:
 * the walk shows one synthetic IPv4 and one IPv6 connection to the
 * visitor, so the listing code runs too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dp_ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int dp_ct_walk(struct dp_ctx *dp, const struct dp_ct_filter *f, bool kill, dp_ct_visit_fn fn,
	void *arg, char *err, size_t errlen)
{
	(void)dp;
	(void)f;
	(void)kill;
	(void)err;
	(void)errlen;
	static struct ct_entry e[2];
	static struct ct_addr6 a6;
	memset(e, 0, sizeof(e));
	e[0].fam = 4;
	e[0].proto = 6;
	e[0].pstate = CT_TCP_ESTABLISHED;
	e[0].a.a4[0] = 0x0201a8c0;
	e[0].port[0] = 1234;
	e[0].status = CT_S_SRC_NAT | CT_S_CONFIRMED; /* show nat counts it */
	e[0].a.a4[3] = 0x0102000a;
	e[0].port[3] = 40000;
	e[1].fam = 6;
	e[1].proto = 58;
	e[1].port[1] = 128 << 8;
	e[1].status = CT_S_DST_NAT;
	struct ct_table v;
	int n = 0;
	for (int i = 0; i < 2; i++) {
		memset(&v, 0, sizeof(v));
		v.e = &e[i];
		v.x6 = &a6;
		v.max = 1;
		n++;
		if (fn && fn(arg, 0, &v, 0) < 0)
			break;
	}
	return n;
}

int dp_ct_flush(struct dp_ctx *dp, char *err, size_t errlen)
{
	(void)dp;
	(void)err;
	(void)errlen;
	return 0;
}

void dp_ct_stats(struct dp_ctx *dp, FILE *out)
{
	(void)dp;
	fprintf(out, "worker=0 entries=0\n");
}

void dp_nat_stats(struct dp_ctx *dp, FILE *out)
{
	(void)dp;
	fprintf(out, "worker=0 bindings_src=0\n");
}

unsigned dp_ct_count(struct dp_ctx *dp)
{
	(void)dp;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	FILE *out = fopen("/dev/null", "w");
	if (out) {
		rp_ctl_exec(NULL, line, out);
		fclose(out);
	}
	free(line);
	return 0;
}
