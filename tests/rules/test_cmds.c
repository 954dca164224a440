/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cmds: iptables commands inside restore text (-D by rule and by
 * number, -R, -E, -Z, -C, beside -A/-I/-N/-X/-F/-P), as rampartctl's
 * one-shot commands use them, and the identity of rules across changes
 * (ids, counters carried over, rules of a reloaded file inheriting the ids
 * of the rules they print like).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

static const char base[] = "*filter\n"
			   ":INPUT ACCEPT [0:0]\n"
			   ":FORWARD DROP [0:0]\n"
			   ":OUTPUT ACCEPT [0:0]\n"
			   ":web - [0:0]\n"
			   "-A FORWARD -p tcp -m tcp --dport 80 -j web\n"
			   "-A FORWARD -p tcp -m tcp --dport 22 -j ACCEPT\n"
			   "-A FORWARD -p udp -m udp --dport 53 -j ACCEPT\n"
			   "-A web -s 10.0.0.0/8 -j ACCEPT\n"
			   "COMMIT\n";

static struct rules_ruleset *load(const char *text)
{
	char err[RULES_ERR_MAX];
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	int rc = rules_ipt_load(rs, RULES_F_V4, text, strlen(text), "t", 0, err, sizeof(err));
	if (rc < 0)
		fail_msg("load: %s", err);
	return rs;
}

/* Apply one command line as rampartctl does; 0 or -1 (err filled). */
static int cmd(struct rules_ruleset *rs, const char *table, const char *line, char *err,
	size_t errlen)
{
	char text[1024];
	snprintf(text, sizeof(text), "*%s\n%s\nCOMMIT\n", table, line);
	return rules_ipt_load(rs, RULES_F_V4, text, strlen(text), "request", RULES_LOAD_NOFLUSH, err,
		errlen) < 0 ? -1 : 0;
}

static void ok(struct rules_ruleset *rs, const char *line)
{
	char err[RULES_ERR_MAX];
	if (cmd(rs, "filter", line, err, sizeof(err)) < 0)
		fail_msg("%s: %s", line, err);
}

static void refused(struct rules_ruleset *rs, const char *line, const char *want)
{
	char err[RULES_ERR_MAX];
	char *before = rules_ipt_print(rs, RULES_F_V4, RULES_PRINT_COUNTERS);
	if (cmd(rs, "filter", line, err, sizeof(err)) == 0)
		fail_msg("%s: accepted", line);
	if (strstr(err, want) == NULL)
		fail_msg("%s: error '%s' does not say '%s'", line, err, want);
	char *after = rules_ipt_print(rs, RULES_F_V4, RULES_PRINT_COUNTERS);
	assert_string_equal(before, after); /* nothing changed */
	free(before);
	free(after);
}

static char *chain_text(struct rules_ruleset *rs)
{
	return rules_ipt_print(rs, RULES_F_V4, 0);
}

static void expect_rules(struct rules_ruleset *rs, const char *want_rules)
{
	char *s = chain_text(rs);
	/* only the -A lines */
	char got[4096] = "";
	for (char *l = s; *l;) {
		char *e = strchr(l, '\n');
		if (strncmp(l, "-A ", 3) == 0)
			strncat(got, l, (size_t)(e - l + 1));
		l = e + 1;
	}
	free(s);
	assert_string_equal(want_rules, got);
}

static void test_delete_replace(void **state)
{
	(void)state;
	struct rules_ruleset *rs = load(base);
	ok(rs, "-D FORWARD -p tcp --dport 22 -j ACCEPT");
	expect_rules(rs, "-A FORWARD -p tcp -m tcp --dport 80 -j web\n"
			 "-A FORWARD -p udp -m udp --dport 53 -j ACCEPT\n"
			 "-A web -s 10.0.0.0/8 -j ACCEPT\n");
	refused(rs, "-D FORWARD -p tcp --dport 22 -j ACCEPT", "Bad rule (does a matching rule exist");
	refused(rs, "-D FORWARD 3", "index of deletion too big");
	ok(rs, "-D FORWARD 2");
	expect_rules(rs, "-A FORWARD -p tcp -m tcp --dport 80 -j web\n"
			 "-A web -s 10.0.0.0/8 -j ACCEPT\n");
	ok(rs, "-R web 1 -s 192.168.0.0/16 -j DROP");
	expect_rules(rs, "-A FORWARD -p tcp -m tcp --dport 80 -j web\n"
			 "-A web -s 192.168.0.0/16 -j DROP\n");
	refused(rs, "-R web 2 -j DROP", "index of replacement too big");
	refused(rs, "-R web -j DROP", "-R requires a chain and a rule number");
	refused(rs, "-R web 1 -s 1.1.1.1,2.2.2.2 -j DROP", "one source and one destination");
	ok(rs, "-I FORWARD 1 -p icmp -j ACCEPT");
	ok(rs, "-C FORWARD -p icmp -j ACCEPT");
	refused(rs, "-C FORWARD -p icmp -j DROP", "Bad rule");
	/* -D with a list of addresses deletes each expansion */
	ok(rs, "-A FORWARD -s 1.1.1.1,2.2.2.2 -j DROP");
	ok(rs, "-D FORWARD -s 1.1.1.1 -j DROP");
	expect_rules(rs, "-A FORWARD -p icmp -j ACCEPT\n"
			 "-A FORWARD -p tcp -m tcp --dport 80 -j web\n"
			 "-A FORWARD -s 2.2.2.2/32 -j DROP\n"
			 "-A web -s 192.168.0.0/16 -j DROP\n");
	rules_free(rs);
}

static void test_rename_zero(void **state)
{
	(void)state;
	struct rules_ruleset *rs = load(base);
	ok(rs, "-E web www");
	expect_rules(rs, "-A FORWARD -p tcp -m tcp --dport 80 -j www\n"
			 "-A FORWARD -p tcp -m tcp --dport 22 -j ACCEPT\n"
			 "-A FORWARD -p udp -m udp --dport 53 -j ACCEPT\n"
			 "-A www -s 10.0.0.0/8 -j ACCEPT\n");
	assert_null(rules_chain_find(rs, RULES_T_FILTER, "web"));
	refused(rs, "-E www FORWARD", "already exists");
	refused(rs, "-E FORWARD x", "cannot rename built-in chain");
	refused(rs, "-E nope x", "does not exist");
	refused(rs, "-X www", "still referenced");
	/* counters: -Z chain N, -Z chain, -Z */
	uint64_t next = 0;
	rules_assign_ids(rs, &next);
	struct rules_chain *fw = rules_chain_find(rs, RULES_T_FILTER, "FORWARD");
	for (size_t i = 0; i < fw->n_rules; i++)
		fw->rules[i].pkts = 10 + i;
	fw->pkts[0] = 7;
	ok(rs, "-Z FORWARD 2");
	fw = rules_chain_find(rs, RULES_T_FILTER, "FORWARD");
	assert_int_equal(fw->rules[0].pkts, 10);
	assert_int_equal(fw->rules[1].pkts, 0);
	assert_int_equal(fw->rules[1].id, 0); /* a new identity: nothing carried */
	assert_int_equal(fw->pkts[0], 7);
	ok(rs, "-Z FORWARD");
	fw = rules_chain_find(rs, RULES_T_FILTER, "FORWARD");
	assert_int_equal(fw->rules[0].pkts, 0);
	assert_int_equal(fw->pkts[0], 0);
	assert_true(fw->ctr_set & RULES_F_V4);
	refused(rs, "-Z FORWARD 9", "index of zero too big");
	ok(rs, "-Z");
	ok(rs, "-F www");
	ok(rs, "-D FORWARD 1");
	ok(rs, "-X www");
	assert_null(rules_chain_find(rs, RULES_T_FILTER, "www"));
	rules_free(rs);
}

static void test_carry(void **state)
{
	(void)state;
	uint64_t next = 0;
	struct rules_ruleset *old = load(base);
	rules_assign_ids(old, &next);
	struct rules_chain *fw = rules_chain_find(old, RULES_T_FILTER, "FORWARD");
	for (size_t i = 0; i < fw->n_rules; i++) {
		fw->rules[i].pkts = 100 * (i + 1);
		fw->rules[i].bytes = 1000 * (i + 1);
	}
	fw->pkts[0] = 5;
	/* an edit: a copy, one rule inserted at the top, one deleted */
	struct rules_ruleset *n = rules_clone(old);
	ok(n, "-I FORWARD 1 -p icmp -j ACCEPT");
	ok(n, "-D FORWARD 3");
	rules_assign_ids(n, &next);
	rules_carry_counters(n, old);
	struct rules_chain *c = rules_chain_find(n, RULES_T_FILTER, "FORWARD");
	assert_int_equal(c->n_rules, 3);
	assert_int_equal(c->rules[0].pkts, 0);   /* new */
	assert_int_equal(c->rules[1].pkts, 100); /* --dport 80, was first */
	assert_int_equal(c->rules[2].pkts, 300); /* --dport 53, was third */
	assert_int_equal(c->rules[2].bytes, 3000);
	assert_int_equal(c->pkts[0], 5); /* the policy's */
	/* -P sets the policy counters: not carried */
	ok(n, "-P FORWARD ACCEPT");
	rules_carry_counters(n, old);
	c = rules_chain_find(n, RULES_T_FILTER, "FORWARD");
	assert_int_equal(c->pkts[0], 0);
	assert_int_equal(c->ctr_set, 0); /* cleared after the carry */
	rules_free(n);

	/* a reload: the file again with one rule changed and a duplicate */
	struct rules_ruleset *r = load("*filter\n:FORWARD DROP [0:0]\n:web - [0:0]\n"
				       "-A FORWARD -p tcp -m tcp --dport 80 -j web\n"
				       "-A FORWARD -p tcp -m tcp --dport 2222 -j ACCEPT\n"
				       "-A FORWARD -p udp -m udp --dport 53 -j ACCEPT\n"
				       "-A FORWARD -p udp -m udp --dport 53 -j ACCEPT\n"
				       "-A web -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n");
	assert_int_equal(rules_inherit_ids(r, old), 0);
	rules_assign_ids(r, &next);
	rules_carry_counters(r, old);
	c = rules_chain_find(r, RULES_T_FILTER, "FORWARD");
	assert_int_equal(c->rules[0].pkts, 100); /* unchanged */
	assert_int_equal(c->rules[1].pkts, 0);   /* changed */
	assert_int_equal(c->rules[2].pkts, 300); /* unchanged */
	assert_int_equal(c->rules[3].pkts, 0);   /* the second copy: new */
	assert_true(c->rules[2].id != c->rules[3].id);
	rules_free(r);
	rules_free(old);
}

static void test_sets(void **state)
{
	(void)state;
	char err[RULES_ERR_MAX];
	struct rules_ruleset *rs = rules_new();
	static const char def[] = "create bl hash:net family inet\nadd bl 10.0.0.0/8\n"
				  "create svc hash:ip,port\nadd svc 1.2.3.4,tcp:80\n";
	assert_int_equal(rules_ipset_load(rs, def, strlen(def), "s", err, sizeof(err)), 0);
	static const char add[] = "add bl 192.168.1.0/24\n";
	assert_int_equal(rules_ipset_change(rs, add, strlen(add), "x", RULES_IPSET_EXCL, err,
		sizeof(err)), 0);
	assert_int_equal(rules_ipset_change(rs, add, strlen(add), "x", RULES_IPSET_EXCL, err,
		sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "already added"));
	char *p = rules_ipset_print(rs, "bl");
	assert_string_equal(p, "create bl hash:net family inet hashsize 1024 maxelem 65536\n"
			       "add bl 10.0.0.0/8\nadd bl 192.168.1.0/24\n");
	free(p);
	static const char del[] = "del bl 10.0.0.0/8\n";
	assert_int_equal(rules_ipset_change(rs, del, strlen(del), "x", 0, err, sizeof(err)), 0);
	assert_int_equal(rules_ipset_change(rs, del, strlen(del), "x", 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "it's not added"));
	static const char fl[] = "flush svc\n";
	assert_int_equal(rules_ipset_change(rs, fl, strlen(fl), "x", 0, err, sizeof(err)), 0);
	p = rules_ipset_print(rs, NULL);
	assert_string_equal(p, "create bl hash:net family inet hashsize 1024 maxelem 65536\n"
			       "add bl 192.168.1.0/24\n"
			       "create svc hash:ip,port family inet hashsize 1024 maxelem 65536\n");
	/* what it prints loads back the same */
	struct rules_ruleset *again = rules_new();
	assert_int_equal(rules_ipset_load(again, p, strlen(p), "p", err, sizeof(err)), 0);
	char *q = rules_ipset_print(again, NULL);
	assert_string_equal(p, q);
	free(p);
	free(q);
	assert_null(rules_ipset_print(rs, "nosuch"));
	rules_free(again);
	rules_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delete_replace),
		cmocka_unit_test(test_rename_zero),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
