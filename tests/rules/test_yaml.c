/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_yaml: the YAML ruleset format. Every schema element, every error
 * with its file:line:col, the round trips YAML -> model -> YAML and
 * YAML -> model -> iptables-save -> model -> YAML, and that a failed load
 * leaves the ruleset as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

static const char full[] =
	"sets:\n"
	"  blocked: {type: hash:net, family: inet, elements: [192.0.2.0/24, 198.51.100.7]}\n"
	"  svc:\n"
	"    type: \"hash:ip,port\"\n"
	"    elements: [\"10.0.0.10,tcp:443\", \"10.0.0.11,udp:53\"]\n"
	"  v6: {type: hash:net, family: inet6, elements: [\"2001:db8::/32\"]}\n"
	"  high: {type: bitmap:port, range: \"1024-65535\", elements: [\"6000-6063\"]}\n"
	"  exc: {type: hash:net, comment: true,\n"
	"        elements: [\"10.0.0.0/8 comment \\\"wide net\\\"\", \"10.1.0.0/16 nomatch\"]}\n"
	"tables:\n"
	"  filter:\n"
	"    INPUT:\n"
	"      policy: DROP\n"
	"      rules:\n"
	"        - \"-p icmp -m icmp --icmp-type 8 -j ACCEPT\"\n"
	"        - {family: ipv6, rule: \"-p ipv6-icmp -j ACCEPT\"}\n"
	"        - {proto: tcp, dport: 22, src: 10.0.0.0/8, action: ACCEPT, comment: ssh}\n"
	"    FORWARD:\n"
	"      policy: DROP\n"
	"      policy6: ACCEPT\n"
	"      rules:\n"
	"        - {set: \"blocked src\", action: DROP}\n"
	"        - {set: \"svc dst,dst\", action: ACCEPT}\n"
	"        - {in: lan0, out: \"wan+\", jump: from-lan}\n"
	"        - {in: wan0, proto: tcp, match: \"! --syn\", action: ACCEPT}\n"
	"        - {src: \"! 10.0.0.0/8\", dst: 192.0.2.1, proto: udp, sport: \"1024:65535\", action: DROP}\n"
	"        - {proto: icmp, icmp-type: echo-request, action: ACCEPT}\n"
	"        - {fragment: true, action: DROP}\n"
	"        - {state: [ESTABLISHED, RELATED], action: ACCEPT}\n"
	"        - {mark: \"0x1/0xff\", goto: from-lan}\n"
	"    from-lan:\n"
	"      rules:\n"
	"        - {proto: tcp, dport: [80, 443, \"8000:8080\"], action: ACCEPT}\n"
	"        - {action: LOG, log-prefix: \"lan drop: \", log-level: info, target-options: \"--log-tcp-options\"}\n"
	"        - {proto: tcp, action: REJECT, reject-with: tcp-reset}\n"
	"        - {action: REJECT}\n"
	"  mangle:\n"
	"    PREROUTING:\n"
	"      rules:\n"
	"        - {in: lan0, action: MARK, set-mark: \"0x1\"}\n"
	"  raw:\n"
	"    PREROUTING: {rules: [\"-p udp -m udp --dport 53 -j NOTRACK\"]}\n";

static struct rules_ruleset *load_ok(const char *y)
{
	char err[512];
	struct rules_ruleset *rs = rules_new();
	assert_non_null(rs);
	if (rules_yaml_load(rs, y, strlen(y), "t.yaml", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return rs;
}

static void test_full(void **state)
{
	(void)state;
	struct rules_ruleset *rs = load_ok(full);
	char *v4 = rules_ipt_print(rs, RULES_F_V4, 0);
	char *v6 = rules_ipt_print(rs, RULES_F_V6, 0);
	static const char *const want4[] = {
		":INPUT DROP [0:0]",
		"-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT",
		"-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment ssh -j ACCEPT",
		"-A FORWARD -m set --match-set blocked src -j DROP",
		"-A FORWARD -m set --match-set svc dst,dst -j ACCEPT",
		"-A FORWARD -i lan0 -o wan+ -j from-lan",
		"-A FORWARD -i wan0 -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT",
		"-A FORWARD ! -s 10.0.0.0/8 -d 192.0.2.1/32 -p udp -m udp --sport 1024:65535 -j DROP",
		"-A FORWARD -f -j DROP",
		"-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"-A FORWARD -m mark --mark 0x1/0xff -g from-lan",
		"-A from-lan -p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT",
		"-A from-lan -j LOG --log-prefix \"lan drop: \" --log-level 6 --log-tcp-options",
		"-A from-lan -p tcp -j REJECT --reject-with tcp-reset",
		"-A PREROUTING -i lan0 -j MARK --set-xmark 0x1/0xffffffff",
		"-A PREROUTING -p udp -m udp --dport 53 -j NOTRACK",
	};
	for (size_t i = 0; i < sizeof(want4) / sizeof(want4[0]); i++)
		if (!strstr(v4, want4[i]))
			fail_msg("missing in iptables-save:\n  %s\n---\n%s", want4[i], v4);
	/* family: the v6 rule only in ip6tables, the v4-only ones not */
	assert_non_null(strstr(v6, "-A INPUT -p ipv6-icmp -j ACCEPT"));
	/* policy6: IPv6's own policy */
	assert_non_null(strstr(v4, ":FORWARD DROP [0:0]"));
	assert_non_null(strstr(v6, ":FORWARD ACCEPT [0:0]"));
	assert_non_null(strstr(v6, ":INPUT DROP [0:0]"));
	assert_null(strstr(v4, "ipv6-icmp"));
	assert_null(strstr(v6, "blocked"));
	assert_non_null(strstr(v6, "-A from-lan -p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT"));
	/* REJECT with the family's default code in each family */
	assert_non_null(strstr(v4, "-A from-lan -j REJECT --reject-with icmp-port-unreachable"));
	assert_non_null(strstr(v6, "-A from-lan -j REJECT --reject-with icmp6-port-unreachable"));
	free(v4);
	free(v6);
	rules_free(rs);
}

/* YAML -> model -> YAML is a fixed point; and via iptables-save text. */
static void test_round_trip(void **state)
{
	(void)state;
	char err[512];
	struct rules_ruleset *rs = load_ok(full);
	char *y1 = rules_yaml_print(rs, 0);
	struct rules_ruleset *b = load_ok(y1);
	char *y2 = rules_yaml_print(b, 0);
	assert_string_equal(y1, y2);
	/* a set with comments and an exception prints as it loads */
	if (!strstr(y1, "  exc:\n    type: hash:net\n    family: inet\n    comment: true\n    elements:\n"
			"      - \"10.0.0.0/8 comment \\\"wide net\\\"\"\n      - \"10.1.0.0/16 nomatch\"\n"))
		fail_msg("the set exc:\n%s", y1);
	/* through iptables-save text and back: the same rules */
	char *v4 = rules_ipt_print(rs, RULES_F_V4, 0);
	char *v6 = rules_ipt_print(rs, RULES_F_V6, 0);
	struct rules_ruleset *c = rules_new();
	static const char sets[] = "create blocked hash:net\ncreate svc hash:ip,port\n"
				   "create v6 hash:net family inet6\ncreate high bitmap:port range 1024-65535\n";
	assert_int_equal(rules_ipset_load(c, sets, strlen(sets), "s", err, sizeof(err)), 0);
	if (rules_ipt_load(c, RULES_F_V4, v4, strlen(v4), "v4", 0, err, sizeof(err)) < 0 ||
		rules_ipt_load(c, RULES_F_V6, v6, strlen(v6), "v6", 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	char *v4b = rules_ipt_print(c, RULES_F_V4, 0), *v6b = rules_ipt_print(c, RULES_F_V6, 0);
	assert_string_equal(v4, v4b);
	assert_string_equal(v6, v6b);
	free(v4b);
	free(v6b);
	free(v4);
	free(v6);
	free(y1);
	free(y2);
	rules_free(c);
	rules_free(b);
	rules_free(rs);
}

struct bad {
	const char *yaml;
	const char *where; /* "t.yaml:L:C:" */
	const char *msg;
};

static const struct bad bads[] = {
	{"tables: {filter: {INPUT: {policy: REJECT}}}\n", "t.yaml:1:35:", "policy must be ACCEPT or DROP"},
	{"tables: {filter: {INPUT: {policy6: MAYBE}}}\n", "t.yaml:1:36:", "policy6 must be ACCEPT or DROP"},
	{"tables:\n  filter:\n    mine: {policy6: DROP}\n", "t.yaml:3:21:", "only built-in chains have a policy"},
	{"tables: {filtre: {}}\n", "t.yaml:1:10:", "unknown table 'filtre'"},
	{"tabels: {}\n", "t.yaml:1:1:", "unknown key 'tabels'"},
	{"tables:\n  filter:\n    mine: {policy: DROP}\n", "t.yaml:3:20:", "only built-in chains have a policy"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - \"-j nosuchchain\"\n", "t.yaml:5:",
	 "nosuchchain"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - {proto: tcp, dport: 99999, action: ACCEPT}\n",
	 "t.yaml:5:11:", "99999"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - {dport: 80, action: ACCEPT}\n",
	 "t.yaml:5:19:", "ports need a protocol"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - {action: ACCEPT, jump: x}\n",
	 "t.yaml:5:20:", "give one of action, jump and goto"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - {prot: tcp}\n", "t.yaml:5:12:",
	 "unknown key 'prot' in a rule"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - {family: ipv5, action: DROP}\n",
	 "t.yaml:5:20:", "family must be ipv4, ipv6 or both"},
	{"tables:\n  nat:\n    PREROUTING:\n      rules: [\"-j REJECT\"]\n", "t.yaml:4:", "REJECT"},
	{"tables:\n  filter:\n    a: {rules: [\"-j b\"]}\n    b: {rules: [\"-j a\"]}\n    FORWARD: {rules: [\"-j a\"]}\n",
	 "t.yaml:", "loop"},
	{"sets:\n  s: {type: hash:foo}\n", "t.yaml:2:3:", "set 's'"},
	{"sets:\n  s: {type: hash:ip, elements: [10.0.0.0/8]}\n", "t.yaml:2:33:", "set 's'"},
	{"sets:\n  s: {elements: []}\n", "t.yaml:2:6:", "needs a type"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - [a, b]\n", "t.yaml:5:11:",
	 "a rule is an iptables rule string or a map"},
	{"tables: [1]\n", "t.yaml:1:9:", "tables must be a map"},
	{"- 1\n", "t.yaml:1:1:", "a ruleset is a map"},
	{"tables: {filter: {FORWARD: {rules: [\"-p tcp --dport 22 -j ACCEPT\"]}}}\ntables: {}\n", "t.yaml:2:1:",
	 "duplicate key"},
	{"tables:\n  filter:\n    FORWARD:\n      rules:\n        - \"-s www.example.com -j DROP\"\n", "t.yaml:5:",
	 "www.example.com"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		char err[512] = "";
		struct rules_ruleset *rs = load_ok("tables: {filter: {FORWARD: {rules: [\"-p tcp -j ACCEPT\"]}}}\n");
		char *before = rules_ipt_print(rs, RULES_F_V4, 0);
		int rc = rules_yaml_load(rs, bads[i].yaml, strlen(bads[i].yaml), "t.yaml", err, sizeof(err));
		if (rc == 0)
			fail_msg("case %zu loaded:\n%s", i, bads[i].yaml);
		if (strncmp(err, bads[i].where, strlen(bads[i].where)) != 0 || !strstr(err, bads[i].msg))
			fail_msg("case %zu:\n  got      '%s'\n  expected '%s ...%s...'", i, err, bads[i].where,
				bads[i].msg);
		/* a failed load changes nothing */
		char *after = rules_ipt_print(rs, RULES_F_V4, 0);
		assert_string_equal(before, after);
		free(before);
		free(after);
		rules_free(rs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
