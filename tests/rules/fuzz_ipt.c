/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the iptables-restore parser and printer.
 * Input: one flag byte (bit 0: IPv6, bit 1: also try the single-rule
 * parser, bit 2: print counters), then restore text. Invariants checked:
 * no crash or leak on any input; whatever loads prints, and the printed
 * text loads again and prints identically (print is a fixed point); and
 * it compiles, both as the linear reference and with classifiers, and the
 * two give the same verdicts and counters for packets made of the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rules_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sets4[] = "create s4 hash:ip\ncreate n4 hash:net\ncreate ip4 hash:ip,port\n"
			    "create p bitmap:port range 1-1024\n"
			    "create t4 hash:ip timeout 5\nadd t4 10.0.0.1\nadd t4 10.0.0.2 timeout 0\n"
			    "create tp hash:net,port timeout 1\nadd tp 10.0.0.0/8,udp:53\n"
			    "add tp 10.1.0.0/16,udp:53 nomatch\nadd n4 10.0.0.0/8\n"
			    "add n4 10.1.0.0/16 nomatch\nadd n4 10.1.2.0/24\n"
			    "create b4 bitmap:ip range 10.0.0.0/16 netmask 24\nadd b4 10.0.0.0/23\n"
			    "create pn4 hash:ip,port,net\nadd pn4 10.0.0.1,tcp:80,10.0.0.0/8\n"
			    "add pn4 10.0.0.1,tcp:80,10.0.1.0/24 nomatch\n"
			    "create l4 list:set\nadd l4 n4\nadd l4 s4\nadd l4 tp\n";
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

/* -j SET's requests: the same from both programs (a count and a checksum) */
static uint64_t req_sum[2];
static void take_req(void *ctx, const struct rules_set_req *q)
{
	uint64_t *sum = ctx;
	const uint8_t *b = (const uint8_t *)q;
	uint64_t h = *sum + 1;
	for (size_t i = 0; i < sizeof(*q); i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	*sum = h;
}

/* Compile rs twice and run packets built from data through every hook. */
static void eval_both(const struct rules_ruleset *rs, const uint8_t *data, size_t size)
{
	static const char *const ports[] = {"lan0", "wan0", "dmz1"};
	char err[RULES_ERR_MAX];
	struct rules_prog *lin = rules_prog_compile(rs, ports, 3, RULES_COMPILE_LINEAR, err, sizeof(err));
	struct rules_prog *cls = rules_prog_compile(rs, ports, 3, 0, err, sizeof(err));
	if (!lin != !cls) {
		fprintf(stderr, "one compile failed: %s\n", err);
		abort();
	}
	if (!lin)
		return;
	struct rules_counter *c1 = calloc(lin->n_slots + 1, sizeof(*c1));
	struct rules_counter *c2 = calloc(cls->n_slots + 1, sizeof(*c2));
	if (!c1 || !c2)
		abort();
	for (size_t off = 0; off + 48 <= size && off < 48 * 16; off += 48) {
		const uint8_t *d = data + off;
		struct rules_pkt a;
		memset(&a, 0, sizeof(a));
		a.fam = (d[0] & 1) ? RULES_F_V6 : RULES_F_V4;
		a.proto = d[1] % 4 == 0 ? 6 : d[1] % 4 == 1 ? 17 : d[1] % 4 == 2 ? (a.fam == RULES_F_V6 ? 58 : 1) : d[1];
		a.l4 = !(d[0] & 2);
		a.frag = !a.l4 && (d[0] & 4);
		a.tcp_flags = d[2];
		a.icmp_type = d[3];
		a.icmp_code = d[4];
		a.ttl = d[5];
		a.tos = d[6];
		a.pkttype = d[7] % 4;
		a.in_port = d[8] % 5 < 3 ? d[8] % 5 : RULES_PORT_NONE;
		a.out_port = d[9] % 5 < 3 ? d[9] % 5 : RULES_PORT_NONE;
		a.phys_in = (d[0] & 8) ? a.in_port : RULES_PORT_NONE;
		a.sport = (uint16_t)(d[10] << 8 | d[11]);
		a.dport = (uint16_t)(d[12] << 8 | d[13]);
		a.len = (uint16_t)(d[14] << 8 | d[15]);
		a.src_type = (uint16_t)(1u << (d[16] % 12));
		a.dst_type = (uint16_t)(1u << (d[17] % 12));
		a.ct_state = (uint16_t)(1u << (d[18] % 7));
		a.mark = (uint32_t)d[19] << 24 | d[20];
		a.now_us = (uint64_t)off * 1000;
		a.mac_src = d + 21;
		a.tcp_opt = d + 27;
		a.tcp_optlen = d[26] % 5;
		memcpy(a.src.b, d + 32, a.fam == RULES_F_V6 ? 16 : 4);
		memcpy(a.dst.b, d + 16, a.fam == RULES_F_V6 ? 16 : 4);
		for (int h = 0; h < RULES_H_COUNT; h++) {
			struct rules_pkt b = a;
			struct rules_pkt a2 = a;
			struct rules_result r1, r2;
			a2.set_req = b.set_req = take_req;
			a2.set_ctx = &req_sum[0];
			b.set_ctx = &req_sum[1];
			rules_eval_hook(lin, (enum rules_hook)h, &a2, c1, &r1, NULL);
			rules_eval_hook(cls, (enum rules_hook)h, &b, c2, &r2, NULL);
			if (req_sum[0] != req_sum[1] || r1.res != r2.res || r1.reject_with != r2.reject_with || r1.mods != r2.mods ||
			    r1.n_log != r2.n_log || a2.mark != b.mark || a2.tos != b.tos || a2.ttl != b.ttl) {
				fprintf(stderr, "linear and classified evaluation differ (hook %d)\n", h);
				abort();
			}
		}
	}
	if (lin->n_ctr != cls->n_ctr || memcmp(c1, c2, lin->n_ctr * sizeof(*c1)) != 0) {
		fprintf(stderr, "linear and classified counters differ\n");
		abort();
	}
	free(c1);
	free(c2);
	rules_prog_free(lin);
	rules_prog_free(cls);
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
		eval_both(rs, data, size);
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
