/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipt_list: the ruleset as `iptables -L` and `iptables -S` (and ip6tables)
 * print it, byte for byte what iptables 1.8.9 (nft backend) prints for the
 * same rules: the chain headers, the column layout with its padding and
 * trailing blanks, counters abbreviated (K, M, G, T) unless exact, and the
 * matches' and targets' "print" forms (not their save forms), with the
 * nft backend's quirks (native tcp/udp matches read back from the kernel,
 * NOTRACK listed as target CT).
 *
 * One difference from iptables, on purpose: without RULES_LIST_NUMERIC,
 * iptables resolves addresses to host and network names (reverse DNS,
 * /etc/networks). We never do: addresses always print numerically; only
 * "anywhere" (a /0 IPv4 prefix, the IPv6 address ::), "any" (no interface),
 * protocol names (/etc/protocols) and service names (/etc/services, for
 * tcp/udp/multiport ports) replace numbers, as in iptables.
 *
 * Control thread only (getservbyport/getprotobynumber are not reentrant);
 * the result is a fresh heap string the caller frees.
 */
#ifndef RP_IPT_LIST_H
#define RP_IPT_LIST_H

#include "rules.h"

enum {
	RULES_LIST_NUMERIC = 1 << 0,     /* -n */
	RULES_LIST_VERBOSE = 1 << 1,     /* -v */
	RULES_LIST_EXACT = 1 << 2,       /* -x */
	RULES_LIST_LINENUMBERS = 1 << 3, /* --line-numbers */
};

/*
 * `iptables -t T -L [CHAIN [RULENUM]] [flags]` (fam RULES_F_V4) or
 * ip6tables (RULES_F_V6). chain NULL: every chain of the table, built-in
 * chains in hook order then user chains by name, separated by blank lines
 * (a table absent in the family lists its built-in chains, ACCEPT, as
 * iptables-nft does). rulenum 0: the whole chain with its header; N > 0
 * (needs chain): rule N of the chain alone, without header ("" when the
 * chain has fewer rules, as iptables 1.8.9 prints nothing). Counters are
 * the model's (rule pkts/bytes, chain policy pkts/bytes: the caller folds
 * live counters in first). Returns malloc'd text; NULL with errno ENOENT
 * when the chain does not exist in that family and table, EINVAL for a bad
 * family, table or rulenum, ENOMEM on OOM.
 */
char *rules_ipt_list(const struct rules_ruleset *rs, int fam, enum rules_table_id t,
	const char *chain, long rulenum, unsigned flags);

/*
 * `iptables -t T -S [CHAIN [RULENUM]]`: "-P CHAIN POLICY" for built-in
 * chains, "-N CHAIN" for user chains, then the rules as "-A CHAIN ...".
 * With RULES_LIST_VERBOSE (-S -v) policies and rules carry "-c PKTS BYTES"
 * where iptables prints it (after the matches, before the target). Other
 * flags are ignored. Same conventions as rules_ipt_list().
 */
char *rules_ipt_spec(const struct rules_ruleset *rs, int fam, enum rules_table_id t,
	const char *chain, long rulenum, unsigned flags);

/* What the listings show, for other renderings of the same data (rampartd's
 * `-L --json`): */
/* A rule's target column: ACCEPT, DROP, RETURN, the chain jumped or gone
 * to, the target extension's name (NOTRACK as CT); "" without a target. */
const char *rules_ipt_target_name(const struct rules_rule *r);
/* "(N references)" of a user chain: jumps and gotos to it in family fam. */
unsigned rules_ipt_chain_refs(const struct rules_table *t, const char *name, int fam);
/* Whether -L/-S list chain ch in family fam (built-ins always). */
bool rules_ipt_chain_listed(const struct rules_chain *ch, int fam);

#endif
