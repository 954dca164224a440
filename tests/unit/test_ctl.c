/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ctl: the control protocol's framing, word decoding and encoding
 * (src/ctl_proto.c), and which requests are read-only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"
#include "ruleset.h"
#include <stdio.h>

static int frame(const char *s, size_t *head, size_t *off, size_t *blen, char *err)
{
	return rp_ctl_frame(s, strlen(s), head, off, blen, err, 160);
}

static void test_frame(void **state)
{
	(void)state;
	size_t h, o, b;
	char err[160];
	h = o = b = 12345;
	assert_int_equal(frame("show vers", &h, &o, &b, err), 0); /* more to come */
	assert_int_equal(h + o + b, 0); /* nothing known yet, and said so */
	assert_int_equal(frame("show version\n", &h, &o, &b, err), 1);
	assert_int_equal(h, 12);
	assert_int_equal(b, 0);
	assert_int_equal(frame("restore <<5\nab", &h, &o, &b, err), 0);
	assert_int_equal(frame("restore <<5\nabcde", &h, &o, &b, err), 1);
	assert_int_equal(o, 12);
	assert_int_equal(b, 5);
	assert_int_equal(frame("restore <<5\nabcdef", &h, &o, &b, err), -1);
	assert_non_null(strstr(err, "one request per connection"));
	assert_int_equal(frame("version\nversion\n", &h, &o, &b, err), -1);
	assert_int_equal(frame("restore <<99999999999\n", &h, &o, &b, err), -1);
	assert_non_null(strstr(err, "bad body length"));
	assert_int_equal(frame("restore <<12x\n", &h, &o, &b, err), -1);
	assert_int_equal(frame("restore <<0\n", &h, &o, &b, err), 1);
	/* a header that never ends */
	size_t n = CTL_HEAD_MAX + 10;
	char *big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	assert_int_equal(rp_ctl_frame(big, n, &h, &o, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(rp_ctl_frame(big, 100, &h, &o, &b, err, sizeof(err)), 0);
	free(big);
}

static void test_decode(void **state)
{
	(void)state;
	char *argv[8], err[160];
	char l1[] = "  -A FORWARD  -m comment --comment a%20b%25c\t-j %00 ";
	assert_int_equal(rp_ctl_decode(l1, argv, 8, err, sizeof(err)), 8);
	assert_string_equal(argv[0], "-A");
	assert_string_equal(argv[5], "a b%c");
	assert_string_equal(argv[6], "-j");
	assert_string_equal(argv[7], "");
	char l1b[] = "-j %00 x";
	assert_int_equal(rp_ctl_decode(l1b, argv, 8, err, sizeof(err)), 3);
	assert_string_equal(argv[1], "");
	char l2[] = "restore --noflush <<120";
	assert_int_equal(rp_ctl_decode(l2, argv, 8, err, sizeof(err)), 2); /* the marker is not a word */
	char l3[] = "-L %0a";
	assert_int_equal(rp_ctl_decode(l3, argv, 8, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "control character"));
	char l4[] = "-L %g1";
	assert_int_equal(rp_ctl_decode(l4, argv, 8, err, sizeof(err)), -1);
	char l5[] = "-L %4";
	assert_int_equal(rp_ctl_decode(l5, argv, 8, err, sizeof(err)), -1);
	char l6[] = "a b c d e f g h i";
	assert_int_equal(rp_ctl_decode(l6, argv, 8, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many words"));
	char l7[] = "   ";
	assert_int_equal(rp_ctl_decode(l7, argv, 8, err, sizeof(err)), 0);
	char l8[] = "echo <<5 x"; /* not last: an ordinary word */
	assert_int_equal(rp_ctl_decode(l8, argv, 8, err, sizeof(err)), 3);
}

static void test_encode_roundtrip(void **state)
{
	(void)state;
	const char *words[] = { "plain", "with space", "100%", "<<5", "quote\"d", "", "ünïcode",
				"tab\there" };
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char enc[128], *argv[2], err[160];
		size_t n = rp_ctl_encode(words[i], enc, sizeof(enc));
		assert_true(n != (size_t)-1);
		assert_null(strpbrk(enc, " \t\n<"));
		int argc = rp_ctl_decode(enc, argv, 2, err, sizeof(err));
		if (strchr(words[i], '\t')) { /* control characters never reach commands */
			assert_int_equal(argc, -1);
			continue;
		}
		assert_int_equal(argc, 1);
		assert_string_equal(argv[0], words[i]);
	}
	char small[4];
	assert_true(rp_ctl_encode("a b", small, sizeof(small)) == (size_t)-1);
}

static void test_readonly(void **state)
{
	(void)state;
	char *ro[][4] = {
		{ "-L", "-n", NULL }, { "-t", "nat", "-S", NULL }, { "save", NULL }, { "show", "nat", NULL },
		{ "conntrack", "-L", NULL }, { "restore", "--test", NULL }, { "-C", "INPUT", NULL },
		/* --json anywhere in a listing */
		{ "--json", "-L", NULL }, { "show", "version", "--json", NULL },
		{ "conntrack", "--json", "-L", NULL }, { "trace", "--json", "show", NULL },
	};
	char *rw[][4] = {
		{ "-A", "INPUT", NULL }, { "-t", "nat", "-F", NULL }, { "restore", NULL }, { "reload", NULL },
		{ "conntrack", "-F", NULL }, { "load", "x.yaml", NULL }, { "conntrack", "-D", NULL },
		{ "trace", "add", NULL }, { "--json", "-F", NULL }, { "conntrack", "--json", "-D", NULL },
		{ "conntrack", "-U", "-m", NULL }, { "conntrack", "--update", NULL },
	};
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		int argc = 0;
		while (ro[i][argc])
			argc++;
		assert_true(rp_ctl_readonly(argc, ro[i]));
	}
	for (size_t i = 0; i < sizeof(rw) / sizeof(rw[0]); i++) {
		int argc = 0;
		while (rw[i][argc])
			argc++;
		assert_false(rp_ctl_readonly(argc, rw[i]));
	}
}

/* Which answers are streamed: conntrack listings, --json or not. */
static void test_streams(void **state)
{
	(void)state;
	char *yes[][4] = {
		{ "conntrack", "-L", NULL }, { "conntrack", "-D", NULL },
		{ "conntrack", "--json", "-L", NULL }, { "conntrack", "-L", "--json", NULL },
		{ "conntrack", "-U", NULL },
	};
	char *no[][4] = {
		{ "conntrack", "-S", "--json", NULL }, { "-L", "--json", NULL }, { "show", "nat", NULL },
		{ "--json", NULL },
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		int argc = 0;
		while (yes[i][argc])
			argc++;
		assert_true(rp_ctl_streams(argc, yes[i]));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		int argc = 0;
		while (no[i][argc])
			argc++;
		assert_false(rp_ctl_streams(argc, no[i]));
	}
}

/* a configuration whose policies are names[i] (protocol protos[i], UDP's
 * unreplied timeout base + i; the table's own UDP timeout udp) */
static void tpol_cfg(struct cfg *c, unsigned n, const char *const *names, const uint8_t *protos,
	uint32_t base, uint32_t udp)
{
	memset(c, 0, sizeof(*c));
	ct_params_default(&c->ct);
	c->ct.to[CT_TO_UDP] = udp;
	for (unsigned i = 0; i < n; i++) {
		snprintf(c->tpol[i].name, sizeof(c->tpol[i].name), "%s", names[i]);
		c->tpol[i].proto = protos[i];
		c->tpol[i].fams = 3;
		memcpy(c->ct.tpol[i], c->ct.to, sizeof(c->ct.to));
		c->ct.tpol[i][CT_TO_UDP] = base + i;
	}
	c->ct.n_tpol = n;
}

/* the id a rule naming policy name (of protocol proto) gets */
static unsigned tpol_id(const char *name, const char *proto)
{
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	char in[200], err[RULES_ERR_MAX];
	snprintf(in, sizeof(in), "*raw\n-A PREROUTING -p %s -j CT --timeout %s\nCOMMIT\n", proto,
		 name);
	unsigned id = 0;
	if (rules_ipt_load(rs, RULES_F_V4, in, strlen(in), "t", 0, err, sizeof(err)) == 0) {
		const struct rules_chain *c = rules_chain_find(rs, RULES_T_RAW, "PREROUTING");
		id = c->rules[0].target.ext.u.ctt.tpol;
	}
	rules_free(rs);
	return id;
}

/* CT --timeout policies through SIGHUPs: a policy keeps its id when
 * reordered or retimed, a new one takes an id never given before, a
 * removed one's id keeps its timeouts until the ruleset no longer names
 * it and then lives by the table's (and one back before that gets its id
 * back); a changed protocol is a new policy; ids run out after
 * CT_TPOL_IDS, the table's timeouts still reloading */
static void test_tpol_ids(void **state)
{
	(void)state;
	static struct cfg c; /* big: not on the stack */
	static struct ct_params p;
	char warn[400];
	static const char *const n1[] = { "dns", "web", "ntp" };
	static const uint8_t p1[] = { 17, 6, 17 };
	tpol_cfg(&c, 3, n1, p1, 100, 30);
	rp_tpol_start(&c);
	assert_int_equal(tpol_id("dns", "udp"), 1);
	assert_int_equal(tpol_id("web", "tcp"), 2);
	assert_int_equal(tpol_id("ntp", "udp"), 3);
	/* reordered, dns removed, syslog added, all retimed */
	static const char *const n2[] = { "ntp", "syslog", "web" };
	static const uint8_t p2[] = { 17, 17, 6 };
	tpol_cfg(&c, 3, n2, p2, 200, 31);
	assert_true(rp_tpol_reload(&c, &p, warn, sizeof(warn)));
	assert_int_equal(tpol_id("ntp", "udp"), 3);
	assert_int_equal(tpol_id("syslog", "udp"), 4);
	assert_int_equal(tpol_id("web", "tcp"), 2);
	assert_int_equal(tpol_id("dns", "udp"), 0); /* no such policy now */
	assert_int_equal(p.n_tpol, 4);
	assert_int_equal(p.to[CT_TO_UDP], 31);
	assert_int_equal(p.tpol[2][CT_TO_UDP], 200); /* ntp: now first */
	assert_int_equal(p.tpol[3][CT_TO_UDP], 201);
	assert_int_equal(p.tpol[1][CT_TO_UDP], 202);
	assert_int_equal(p.tpol[0][CT_TO_UDP], 100); /* dns: as it was, for now */
	/* dns back before its id retired (the ruleset did not load): its id */
	static const char *const n2b[] = { "ntp", "syslog", "web", "dns" };
	static const uint8_t p2b[] = { 17, 17, 6, 17 };
	tpol_cfg(&c, 4, n2b, p2b, 300, 31);
	assert_true(rp_tpol_reload(&c, &p, warn, sizeof(warn)));
	assert_int_equal(tpol_id("dns", "udp"), 1);
	assert_int_equal(p.tpol[0][CT_TO_UDP], 303);
	assert_false(rp_tpol_retire(&p)); /* nothing retires */
	/* removed again; the ruleset reloaded: dns's connections live by the
	 * table's */
	tpol_cfg(&c, 3, n2, p2, 200, 31);
	assert_true(rp_tpol_reload(&c, &p, warn, sizeof(warn)));
	assert_int_equal(p.tpol[0][CT_TO_UDP], 303);
	assert_true(rp_tpol_retire(&p));
	assert_int_equal(p.tpol[0][CT_TO_UDP], 31);
	assert_int_equal(p.tpol[3][CT_TO_UDP], 201);
	assert_int_equal(p.to[CT_TO_UDP], 31);
	assert_false(rp_tpol_retire(&p)); /* nothing more */
	/* dns back after: a new id (its old connections keep the table's) */
	static const char *const n3[] = { "dns", "web" };
	static const uint8_t p3[] = { 17, 17 }; /* web now UDP: a new policy too */
	tpol_cfg(&c, 2, n3, p3, 400, 32);
	assert_true(rp_tpol_reload(&c, &p, warn, sizeof(warn)));
	assert_int_equal(tpol_id("dns", "udp"), 5);
	assert_int_equal(tpol_id("web", "udp"), 6);
	assert_int_equal(tpol_id("web", "tcp"), 0);
	assert_int_equal(p.n_tpol, 6);
	assert_int_equal(p.tpol[0][CT_TO_UDP], 32); /* retired: the new table's */
	assert_true(rp_tpol_retire(&p)); /* ntp, syslog, web (TCP) */
	for (unsigned id = 1; id <= 4; id++)
		assert_int_equal(p.tpol[id - 1][CT_TO_UDP], 32);
	assert_int_equal(p.tpol[4][CT_TO_UDP], 400);
	assert_int_equal(p.tpol[5][CT_TO_UDP], 401);
	/* ids run out: the running policies stay, the table's timeouts
	 * reload, a later retirement keeps them */
	unsigned made = 0;
	for (unsigned k = 0; k < CT_TPOL_IDS; k++) {
		char nm[32];
		snprintf(nm, sizeof(nm), "p%u", k);
		const char *nn[] = { nm };
		static const uint8_t pp[] = { 17 };
		tpol_cfg(&c, 1, nn, pp, 500, 33);
		if (!rp_tpol_reload(&c, &p, warn, sizeof(warn)))
			break;
		made++;
	}
	assert_int_equal(made, CT_TPOL_IDS - 6);
	assert_non_null(strstr(warn, "more than 64 policies since the start"));
	assert_int_equal(p.n_tpol, CT_TPOL_IDS);
	assert_int_equal(p.to[CT_TO_UDP], 33);
	assert_int_equal(p.tpol[CT_TPOL_IDS - 1][CT_TO_UDP], 500); /* the last one's */
	assert_int_equal(p.tpol[0][CT_TO_UDP], 33);                /* retired */
	assert_int_equal(p.tpol[4][CT_TO_UDP], 400); /* dns: retiring, no ruleset since */
	char last[32];
	snprintf(last, sizeof(last), "p%u", made - 1);
	assert_int_equal(tpol_id(last, "udp"), CT_TPOL_IDS); /* the registry stayed */
	assert_true(rp_tpol_retire(&p)); /* dns, web, p0 .. p(made - 2) */
	assert_int_equal(p.to[CT_TO_UDP], 33);
	assert_int_equal(p.tpol[4][CT_TO_UDP], 33);
	assert_int_equal(p.tpol[CT_TPOL_IDS - 2][CT_TO_UDP], 33);
	assert_int_equal(p.tpol[CT_TPOL_IDS - 1][CT_TO_UDP], 500);
	rules_timeout_policies(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_tpol_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
