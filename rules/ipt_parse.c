/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipt_parse: iptables-restore text and single iptables rules into the
 * ruleset model.
 *
 * Lines are split into arguments exactly as iptables-restore does (blanks
 * separate, "..." quotes with backslash escapes inside quotes), then read
 * like iptables' option parser: base selectors, -m matches whose options
 * follow, -j/-g, and the implicit protocol match (-p tcp --dport 22 loads
 * tcp). Every argument keeps its column so that errors read
 * "name:line:col: message" and name the offending option. Nothing unknown is
 * skipped: an option we do not implement is an error.
 *
 * Loads work on a clone of the ruleset and replace it only when the whole
 * text parsed and validated, so a failed load changes nothing. Control
 * thread only.
 *
 * Where we knowingly differ from iptables-restore 1.8.9 (nft), stricter
 * unless noted: long options must be spelled out (no getopt abbreviations,
 * "--opt=value" is accepted); an unreachable loop, a second declaration of
 * a chain, a policy on a user chain, DROP as a nat policy, -o/-i through
 * user chains reached from INPUT/OUTPUT..., "! -i +", a second tcp/udp match
 * in one rule, non-contiguous masks and host names are refused; service
 * names resolve through /etc/services as in iptables, protocol names
 * through a built-in copy of Debian's /etc/protocols; blank lines made of
 * spaces are accepted (iptables refuses them). --nflog-range is refused
 * (the kernel never used it; iptables-nft silently drops it).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"

#define LINE_MAX_LEN 10240 /* iptables-restore's line buffer */
#define ARG_MAX_LEN 1023   /* iptables' parameter buffer */
#define ARGS_MAX 255       /* iptables' MAX_ARGC */
#define MATCHES_MAX 64
#define EXPAND_MAX 1024    /* rules one -s/-d list may expand into */

struct tok {
	char *s;
	int col;
};

struct toks {
	int n;
	struct tok t[ARGS_MAX];
	char buf[LINE_MAX_LEN + ARGS_MAX];
};

/* add_param_to_argv() of iptables, with columns. */
static int tokenize(struct rules_perr *pe, const char *line, size_t len, struct toks *tv)
{
	size_t used = 0, plen = 0;
	bool quote = false, esc = false, in = false, quoted = false;
	int col = 0;
	tv->n = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? line[i] : '\0';
		bool end_tok = false;
		if (quote && c != '\0') {
			if (esc) {
				esc = false;
			} else if (c == '\\') {
				esc = true;
				continue;
			} else if (c == '"') {
				quote = false;
				end_tok = true;
			}
			if (!end_tok) {
				goto add;
			}
		} else if (c == '"') {
			if (!in) {
				col = (int)i + 1;
				in = true;
			}
			quote = quoted = true;
			continue;
		} else if (c == ' ' || c == '\t' || c == '\0') {
			if (!in)
				continue;
			end_tok = true;
		} else {
			goto add;
		}
		if (quote && c == '\0')
			return rules_errf(pe, col, "unterminated quoted string");
		if (end_tok && in) {
			if (tv->n == ARGS_MAX)
				return rules_errf(pe, col, "too many arguments (max %d)", ARGS_MAX);
			tv->buf[used + plen] = '\0';
			tv->t[tv->n].s = &tv->buf[used];
			tv->t[tv->n].col = col;
			tv->n++;
			used += plen + 1;
			plen = 0;
			in = quoted = false;
		}
		continue;
add:
		if (!in) {
			col = (int)i + 1;
			in = true;
		}
		if (plen >= ARG_MAX_LEN)
			return rules_errf(pe, col, "argument too long (max %d characters)", ARG_MAX_LEN);
		tv->buf[used + plen++] = c;
	}
	(void)quoted;
	return 0;
}

/* ---- one rule ---- */

enum cmd_kind { CMD_NONE, CMD_APPEND = 'A', CMD_INSERT = 'I', CMD_NEW = 'N', CMD_POLICY = 'P',
	CMD_FLUSH = 'F', CMD_DELCHAIN = 'X', CMD_DELETE = 'D', CMD_REPLACE = 'R',
	CMD_RENAME = 'E', CMD_ZERO = 'Z', CMD_CHECK = 'C' };

struct cmd {
	int kind;
	int col;
	const char *chain;
	int chain_col;
	unsigned long num; /* -I/-R/-D/-Z position, 1-based; 0: none given */
	int num_col;
	const char *policy; /* -P policy, -E new name */
	int policy_col;
};

/* Whether a command takes a rule specification. */
static bool cmd_takes_rule(const struct cmd *cmd)
{
	switch (cmd->kind) {
	case CMD_APPEND:
	case CMD_INSERT:
	case CMD_REPLACE:
	case CMD_CHECK:
		return true;
	case CMD_DELETE:
		return cmd->num == 0;
	default:
		return false;
	}
}

struct addr_arg {
	const char *s;
	int col;
	bool inv, given;
};

struct rule_state {
	struct rules_pctx pc;
	enum rules_table_id table;
	struct rules_ruleset *rs;
	struct addr_arg src, dst;
	bool proto_given, implicit_done, jump_given, counters_given, skip;
	int proto_col, jump_col;
	char jump_name[RULES_CHAIN_NAME_MAX + 1];
	bool target_is_chain;
};

static const struct {
	const char *lng;
	char shrt;
} base_opts[] = {
	{"append", 'A'}, {"insert", 'I'}, {"new-chain", 'N'}, {"policy", 'P'}, {"flush", 'F'},
	{"delete-chain", 'X'}, {"delete", 'D'}, {"replace", 'R'}, {"rename-chain", 'E'},
	{"zero", 'Z'}, {"list", 'L'}, {"list-rules", 'S'}, {"check", 'C'}, {"source", 's'},
	{"src", 's'}, {"destination", 'd'}, {"dst", 'd'}, {"protocol", 'p'},
	{"in-interface", 'i'}, {"out-interface", 'o'}, {"fragment", 'f'}, {"jump", 'j'},
	{"goto", 'g'}, {"match", 'm'}, {"set-counters", 'c'}, {"table", 't'}, {"ipv4", '4'},
	{"ipv6", '6'},
};

static bool has_arg(const struct toks *tv, int i)
{
	return i < tv->n && tv->t[i].s[0] != '-' && tv->t[i].s[0] != '!';
}

static int need_arg(struct rule_state *st, const struct toks *tv, int i, const char *opt)
{
	if (i >= tv->n)
		return rules_errf(st->pc.pe, tv->t[i - 1].col, "option \"%s\" requires an argument", opt);
	return 0;
}

static int parse_iface(struct rule_state *st, const char *arg, int col, bool out)
{
	struct rules_rule *r = st->pc.r;
	size_t n = strlen(arg);
	bool wild;
	int rc = rules_parse_ifname(st->pc.pe, col, arg, out ? r->outiface : r->iniface, &wild);
	if (rc < 0)
		return rc;
	if (out) {
		r->out_wild = wild;
		r->col_out = (uint16_t)col;
	} else {
		r->in_wild = wild;
		r->col_in = (uint16_t)col;
	}
	if (wild && n == 1 && (r->inv & (out ? RULES_INV_OUT : RULES_INV_IN)))
		return rules_errf(st->pc.pe, col, "\"! -%c +\" never matches", out ? 'o' : 'i');
	return 0;
}

static int parse_counters(struct rules_perr *pe, int col, const char *p, const char *b,
	uint64_t *pk, uint64_t *by)
{
	for (const char *s = p; *s; s++)
		if (!isdigit((unsigned char)*s))
			return rules_errf(pe, col, "packet counter \"%s\" is not numeric", p);
	for (const char *s = b; *s; s++)
		if (!isdigit((unsigned char)*s))
			return rules_errf(pe, col, "byte counter \"%s\" is not numeric", b);
	if (!*p || !*b || !rules_parse_uint(p[0] == '0' && p[1] ? "0" : p, UINT64_MAX, pk) ||
	    !rules_parse_uint(b[0] == '0' && b[1] ? "0" : b, UINT64_MAX, by))
		return rules_errf(pe, col, "invalid counters \"%s\" \"%s\"", p, b);
	return 0;
}

static struct rules_ext *add_match(struct rule_state *st, int kind, int col)
{
	struct rules_rule *r = st->pc.r;
	if (r->n_match >= MATCHES_MAX) {
		rules_errf(st->pc.pe, col, "too many matches in one rule (max %d)", MATCHES_MAX);
		return NULL;
	}
	struct rules_ext *m = realloc(r->match, (r->n_match + 1u) * sizeof(*m));
	if (!m) {
		rules_errf(st->pc.pe, col, "out of memory");
		return NULL;
	}
	r->match = m;
	rules_ext_init(&m[r->n_match], (enum rules_ext_kind)kind);
	m[r->n_match].col = (uint16_t)col;
	return &m[r->n_match++];
}

static int parse_target(struct rule_state *st, const char *name, int col, bool go)
{
	struct rules_rule *r = st->pc.r;
	size_t n = strlen(name);
	if (st->jump_given)
		return rules_errf(st->pc.pe, col, "multiple -j flags not allowed");
	st->jump_given = true;
	st->jump_col = col;
	r->target.col = (uint16_t)col;
	if (n == 0)
		return rules_errf(st->pc.pe, col, "invalid target name (too short)");
	if (n > RULES_CHAIN_NAME_MAX)
		return rules_errf(st->pc.pe, col, "invalid target name \"%s\" (%d chars max)", name,
			RULES_CHAIN_NAME_MAX);
	if (!go) {
		static const struct {
			const char *n;
			uint8_t v;
		} std[] = {{"ACCEPT", RULES_V_ACCEPT}, {"DROP", RULES_V_DROP}, {"RETURN", RULES_V_RETURN}};
		for (size_t i = 0; i < RULES_ARRAY_SIZE(std); i++)
			if (strcmp(name, std[i].n) == 0) {
				r->target.verdict = std[i].v;
				return 0;
			}
		int k = rules_ext_lookup(name, true);
		if (k >= 0) {
			r->target.verdict = RULES_V_EXT;
			rules_ext_init(&r->target.ext, (enum rules_ext_kind)k);
			r->target.ext.col = (uint16_t)col;
			return 0;
		}
		if (strcmp(name, "QUEUE") == 0 || strcmp(name, "NFQUEUE") == 0 ||
		    strcmp(name, "TRACE") == 0 || strcmp(name, "CLASSIFY") == 0)
			return rules_errf(st->pc.pe, col, "target %s is not supported", name);
	}
	if (go && rules_is_target_name(name))
		return rules_errf(st->pc.pe, col, "-g needs a user-defined chain, %s is a target", name);
	struct rules_chain *c = rules_chain_get(&st->rs->tables[st->table], name);
	if (c && c->hook >= 0)
		return rules_errf(st->pc.pe, col, "cannot %s built-in chain %s", go ? "goto" : "jump to", name);
	if (!c || !(c->fam & r->fam))
		return rules_errf(st->pc.pe, col, "chain '%s' does not exist", name);
	r->target.verdict = go ? RULES_V_GOTO : RULES_V_JUMP;
	snprintf(r->target.chain, sizeof(r->target.chain), "%s", name);
	st->target_is_chain = true;
	return 0;
}

/* The extension instance that owns a long option: the target first, then
 * the most recent match that has it. */
static int find_owner(struct rule_state *st, const char *name, struct rules_ext **x,
	const struct rules_opt **o)
{
	struct rules_rule *r = st->pc.r;
	if (r->target.verdict == RULES_V_EXT && (*o = rules_ext_opt(r->target.ext.kind, name))) {
		*x = &r->target.ext;
		return 0;
	}
	for (int i = r->n_match - 1; i >= 0; i--)
		if ((*o = rules_ext_opt(r->match[i].kind, name))) {
			*x = &r->match[i];
			return 0;
		}
	return -1;
}

static int implicit_match(struct rule_state *st, int col)
{
	struct rules_rule *r = st->pc.r;
	int k = -1;
	if (!st->proto_given || st->implicit_done || (r->inv & RULES_INV_PROTO))
		return -1;
	st->implicit_done = true;
	switch (r->proto) {
	case 6:
		k = RULES_X_TCP;
		break;
	case 17:
		k = RULES_X_UDP;
		break;
	case 132:
		k = RULES_X_SCTP;
		break;
	case 1:
		k = (r->fam & RULES_F_V4) ? RULES_X_ICMP : -1;
		break;
	case 58:
		k = (r->fam & RULES_F_V6) ? RULES_X_ICMP6 : -1;
		break;
	}
	if (k < 0)
		return -1;
	for (unsigned i = 0; i < r->n_match; i++)
		if (r->match[i].kind == k)
			return -1;
	return add_match(st, k, st->proto_col) ? 0 : -EINVAL;
}

static int parse_args(struct rule_state *st, const struct toks *tv, int first, struct cmd *cmd)
{
	struct rules_rule *r = st->pc.r;
	struct rules_perr *pe = st->pc.pe;
	bool inv = false;
	int inv_col = 0, rc;

	for (int i = first; i < tv->n; i++) {
		const char *a = tv->t[i].s;
		int col = tv->t[i].col;
		char shrt = 0;
		const char *lname = NULL, *eqarg = NULL;
		char namebuf[64];

		if (a[0] == '!' && a[1] == '\0') {
			if (inv)
				return rules_errf(pe, col, "multiple consecutive ! not allowed");
			inv = true;
			inv_col = col;
			continue;
		}
		if (a[0] != '-' || a[1] == '\0')
			return rules_errf(pe, col, "bad argument \"%s\"", a);
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t ln = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			if (ln == 0 || ln >= sizeof(namebuf))
				return rules_errf(pe, col, "unknown option \"%s\"", a);
			memcpy(namebuf, a + 2, ln);
			namebuf[ln] = '\0';
			lname = namebuf;
			eqarg = eq ? eq + 1 : NULL;
			for (size_t k = 0; k < RULES_ARRAY_SIZE(base_opts); k++)
				if (strcmp(lname, base_opts[k].lng) == 0)
					shrt = base_opts[k].shrt;
		} else if (a[2] == '\0') {
			shrt = a[1];
		} else {
			return rules_errf(pe, col, "unknown option \"%s\"", a);
		}

		/* an argument: "--opt=value" or the next token */
		const char *arg = NULL;
		int arg_col = col;
#define TAKE_ARG()                                                                               \
	do {                                                                                     \
		if (eqarg) {                                                                     \
			arg = eqarg;                                                             \
		} else {                                                                         \
			if ((rc = need_arg(st, tv, i + 1, a)) < 0)                               \
				return rc;                                                       \
			arg = tv->t[++i].s;                                                      \
			arg_col = tv->t[i].col;                                                  \
		}                                                                                \
	} while (0)

		if (shrt) {
			switch (shrt) {
			case 'A':
			case 'I':
			case 'N':
			case 'P':
			case 'F':
			case 'X':
			case 'D':
			case 'R':
			case 'E':
			case 'Z':
			case 'C':
				if (!cmd)
					return rules_errf(pe, col, "a command (%s) is not allowed in a rule", a);
				if (inv)
					return rules_errf(pe, inv_col, "unexpected ! flag before -%c", shrt);
				if (cmd->kind != CMD_NONE)
					return rules_errf(pe, col, "cannot use -%c with -%c", shrt, cmd->kind);
				cmd->kind = shrt;
				cmd->col = col;
				if (shrt == 'F' || shrt == 'X' || shrt == 'Z') {
					if (eqarg || has_arg(tv, i + 1)) {
						TAKE_ARG();
						cmd->chain = arg;
						cmd->chain_col = arg_col;
					}
				} else {
					TAKE_ARG();
					cmd->chain = arg;
					cmd->chain_col = arg_col;
				}
				/* a rule number: required by -R, optional for -I, -D and -Z */
				if ((shrt == 'I' || shrt == 'R' || shrt == 'D' || shrt == 'Z') && cmd->chain &&
				    has_arg(tv, i + 1) && tv->t[i + 1].s[0] >= '0' && tv->t[i + 1].s[0] <= '9') {
					uint64_t v;
					i++;
					if (!rules_parse_uint(tv->t[i].s, 1u << 30, &v) || v == 0)
						return rules_errf(pe, tv->t[i].col, "invalid rule number \"%s\"",
							tv->t[i].s);
					cmd->num = (unsigned long)v;
					cmd->num_col = tv->t[i].col;
				} else if (shrt == 'R') {
					return rules_errf(pe, col, "-R requires a chain and a rule number");
				}
				if (shrt == 'P' || shrt == 'E') {
					if (!has_arg(tv, i + 1))
						return rules_errf(pe, col, shrt == 'P' ? "-P requires a chain and a policy"
							: "-E requires an old and a new chain name");
					cmd->policy = tv->t[++i].s;
					cmd->policy_col = tv->t[i].col;
				}
				break;
			case 'L':
			case 'S':
				return rules_errf(pe, col, "command -%c is not supported here", shrt);
			case 't':
				return rules_errf(pe, col, "the -t option cannot be used here");
			case 's':
			case 'd': {
				struct addr_arg *aa = shrt == 's' ? &st->src : &st->dst;
				if (aa->given)
					return rules_errf(pe, col, "multiple -%c flags not allowed", shrt);
				TAKE_ARG();
				aa->given = true;
				aa->s = arg;
				aa->col = arg_col;
				aa->inv = inv;
				break;
			}
			case 'p':
				if (st->proto_given)
					return rules_errf(pe, col, "multiple -p flags not allowed");
				TAKE_ARG();
				st->proto_given = true;
				st->proto_col = col;
				if (!rules_parse_proto(arg, &r->proto))
					return rules_errf(pe, arg_col, "unknown protocol \"%s\" specified", arg);
				if (inv)
					r->inv |= RULES_INV_PROTO;
				if (r->proto == 0 && inv)
					return rules_errf(pe, col, "rule would never match protocol");
				break;
			case 'i':
			case 'o':
				if (shrt == 'i' ? (r->iniface[0] || r->in_wild) : (r->outiface[0] || r->out_wild))
					return rules_errf(pe, col, "multiple -%c flags not allowed", shrt);
				TAKE_ARG();
				if (inv)
					r->inv |= shrt == 'i' ? RULES_INV_IN : RULES_INV_OUT;
				if ((rc = parse_iface(st, arg, arg_col, shrt == 'o')) < 0)
					return rc;
				break;
			case 'f':
				if (eqarg)
					return rules_errf(pe, col, "option \"%s\" takes no argument", a);
				if (r->frag)
					return rules_errf(pe, col, "multiple -f flags not allowed");
				if (!(r->fam & RULES_F_V4))
					return rules_errf(pe, col, "-f is not supported in IPv6, use -m frag instead");
				r->fam = RULES_F_V4;
				r->frag = true;
				if (inv)
					r->inv |= RULES_INV_FRAG;
				break;
			case 'j':
			case 'g':
				if (inv)
					return rules_errf(pe, inv_col, "cannot have ! before -%c", shrt);
				TAKE_ARG();
				if ((rc = parse_target(st, arg, arg_col, shrt == 'g')) < 0)
					return rc;
				break;
			case 'm': {
				if (inv)
					return rules_errf(pe, inv_col, "unexpected ! flag before --match");
				TAKE_ARG();
				int k = rules_ext_lookup(arg, false);
				if (k < 0)
					return rules_errf(pe, arg_col, "unknown match \"%s\"", arg);
				if (!add_match(st, k, arg_col))
					return -EINVAL;
				break;
			}
			case 'c': {
				if (inv)
					return rules_errf(pe, inv_col, "cannot have ! before -c");
				if (st->counters_given)
					return rules_errf(pe, col, "multiple -c flags not allowed");
				st->counters_given = true;
				TAKE_ARG();
				char pbuf[64];
				const char *comma = strchr(arg, ',');
				const char *bytes;
				if (comma) {
					size_t lp = (size_t)(comma - arg);
					if (lp >= sizeof(pbuf))
						return rules_errf(pe, arg_col, "invalid counters \"%s\"", arg);
					memcpy(pbuf, arg, lp);
					pbuf[lp] = '\0';
					bytes = comma + 1;
				} else {
					snprintf(pbuf, sizeof(pbuf), "%s", arg);
					if (!has_arg(tv, i + 1))
						return rules_errf(pe, col, "-c requires packet and byte counter");
					bytes = tv->t[++i].s;
				}
				if ((rc = parse_counters(pe, arg_col, pbuf, bytes, &r->pkts, &r->bytes)) < 0)
					return rc;
				break;
			}
			case '4':
			case '6': {
				int f = shrt == '4' ? RULES_F_V4 : RULES_F_V6;
				if (!(r->fam & f))
					st->skip = true; /* iptables-restore ignores the rule */
				else
					r->fam = (uint8_t)f;
				break;
			}
			default:
				return rules_errf(pe, col, "unknown option \"%s\"", a);
			}
			inv = false;
			continue;
		}

		/* an extension option */
		struct rules_ext *x;
		const struct rules_opt *o;
		if (find_owner(st, lname, &x, &o) < 0) {
			rc = implicit_match(st, col);
			if (rc == -EINVAL)
				return rc;
			if (rc < 0 || find_owner(st, lname, &x, &o) < 0)
				return rules_errf(pe, col, "unknown option \"%s\"", a);
		}
		int nargs = rules_opt_nargs(o);
		const char *args[2] = {NULL, NULL};
		int cols[2] = {col, col};
		if (nargs == 0 && eqarg)
			return rules_errf(pe, col, "option \"%s\" takes no argument", a);
		if (nargs >= 1) {
			TAKE_ARG();
			args[0] = arg;
			cols[0] = arg_col;
		}
		if (nargs == 2) {
			if (!has_arg(tv, i + 1))
				return rules_errf(pe, col, "%s requires two arguments", a);
			args[1] = tv->t[++i].s;
			cols[1] = tv->t[i].col;
		}
		if ((rc = rules_ext_parse_opt(&st->pc, x, o, inv, nargs ? args : NULL, cols, col)) < 0)
			return rc;
		inv = false;
#undef TAKE_ARG
	}
	if (inv)
		return rules_errf(pe, inv_col, "nothing appropriate following !");
	return 0;
}

/* Checks after all arguments were read, in iptables' order. */
static int finish_rule(struct rule_state *st)
{
	struct rules_rule *r = st->pc.r;
	struct rules_perr *pe = st->pc.pe;
	int rc;

	for (unsigned i = 0; i < r->n_match; i++) {
		if ((rc = rules_ext_finish(&st->pc, &r->match[i])) < 0)
			return rc;
		/* the nft backend merges a second tcp/udp match into the first */
		for (unsigned j = 0; j < i; j++)
			if (r->match[j].kind == r->match[i].kind &&
			    (r->match[i].kind == RULES_X_TCP || r->match[i].kind == RULES_X_UDP))
				return rules_errf(pe, r->match[i].col, "%s match given twice in one rule",
					rules_ext_name((enum rules_ext_kind)r->match[i].kind));
	}
	if (r->target.verdict == RULES_V_EXT) {
		const struct rules_ext_desc *d = &rules_ext_descs[r->target.ext.kind];
		if ((rc = rules_ext_finish(&st->pc, &r->target.ext)) < 0)
			return rc;
		if (d->tables && !(d->tables & (1u << st->table)))
			return rules_errf(pe, st->jump_col, "%s target is not allowed in the %s table", d->name,
				rules_table_name(st->table));
	}
	if (st->table == RULES_T_NAT && r->target.verdict == RULES_V_DROP)
		return rules_errf(pe, st->jump_col,
			"the \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited");
	if (st->target_is_chain) {
		struct rules_chain *c = rules_chain_get(&st->rs->tables[st->table], r->target.chain);
		if (!c || (c->fam & r->fam) != r->fam)
			return rules_errf(pe, st->jump_col, "chain '%s' does not exist", r->target.chain);
	}
	return 0;
}

/* Parses a comma list of addresses of -s/-d into an array (caller frees). */
static int parse_addr_list(struct rule_state *st, struct addr_arg *aa, struct rules_addr **out,
	uint8_t **plens, size_t *n)
{
	*n = 0;
	*out = NULL;
	*plens = NULL;
	if (!aa->given)
		return 0;
	size_t cnt = 1;
	for (const char *p = aa->s; *p; p++)
		cnt += *p == ',';
	if (cnt > EXPAND_MAX)
		return rules_errf(st->pc.pe, aa->col, "too many addresses (max %d)", EXPAND_MAX);
	*out = calloc(cnt, sizeof(**out));
	*plens = calloc(cnt, 1);
	if (!*out || !*plens)
		return rules_errf(st->pc.pe, aa->col, "out of memory");
	const char *p = aa->s;
	for (size_t k = 0; k < cnt; k++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char buf[128];
		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		if (len == 0 || len >= sizeof(buf))
			return rules_errf(st->pc.pe, aa->col, "invalid address list \"%s\"", aa->s);
		memcpy(buf, p, len);
		buf[len] = '\0';
		int fam = st->pc.r->fam;
		if (fam == RULES_F_ALL)
			fam = st->pc.r->fam = (uint8_t)rules_addr_fam(buf);
		st->pc.col = aa->col;
		int rc = rules_parse_prefix(&st->pc, fam, buf, &(*out)[k], &(*plens)[k]);
		if (rc < 0)
			return rc;
		rules_addr_mask(fam, &(*out)[k], (*plens)[k]);
		if ((*plens)[k] == 0 && aa->inv)
			return rules_errf(st->pc.pe, aa->col, "\"! -%c\" with a /0 prefix never matches",
				aa == &st->src ? 's' : 'd');
		p = comma ? comma + 1 : p + len;
	}
	if (cnt > 1 && (st->src.inv || st->dst.inv))
		return rules_errf(st->pc.pe, aa->col,
			"! not allowed with multiple source or destination IP addresses");
	*n = cnt;
	return 0;
}

/* Position in c's array of the pos-th (0-based) rule of family fam. */
static size_t fam_pos(const struct rules_chain *c, int fam, size_t pos)
{
	size_t seen = 0;
	for (size_t i = 0; i < c->n_rules; i++) {
		if (!(c->rules[i].fam & fam))
			continue;
		if (seen++ == pos)
			return i;
	}
	return c->n_rules;
}

static size_t fam_count(const struct rules_chain *c, int fam)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_rules; i++)
		n += (c->rules[i].fam & fam) != 0;
	return n;
}

/*
 * Parses tv[first..] as one rule for chain c (NULL: command line decides),
 * expands -s/-d lists and inserts the rules into c at pos (family view;
 * -1 appends). Takes no ownership.
 */
static int rule_from_args(struct rules_ruleset *rs, enum rules_table_id t, int fam, const struct toks *tv,
	int first, struct rules_perr *pe, int line, uint64_t pk, uint64_t by, bool has_ctr,
	struct cmd *cmd, struct rules_chain **cp, long *posp)
{
	struct rules_rule r;
	struct rule_state st;
	memset(&r, 0, sizeof(r));
	memset(&st, 0, sizeof(st));
	r.fam = (uint8_t)fam;
	r.line = line;
	st.pc.pe = pe;
	st.pc.rs = rs;
	st.pc.r = &r;
	st.rs = rs;
	st.table = t;

	struct rules_addr *sa = NULL, *da = NULL;
	uint8_t *sp = NULL, *dp = NULL;
	size_t ns = 0, nd = 0;
	int rc = parse_args(&st, tv, first, cmd);
	if (rc == 0 && cmd && cmd->kind == CMD_NONE)
		rc = rules_errf(pe, 0, "no command specified");
	if (rc == 0 && cmd && !cmd_takes_rule(cmd)) {
		/* a chain command: no rule options allowed */
		if (r.n_match || r.target.verdict != RULES_V_NONE || st.src.given || st.dst.given ||
		    st.proto_given || r.iniface[0] || r.outiface[0] || r.frag || st.counters_given)
			rc = rules_errf(pe, cmd->col, "illegal option with -%c", cmd->kind);
		goto out;
	}
	if (rc < 0 || st.skip)
		goto out;
	if (has_ctr && !st.counters_given) {
		r.pkts = pk;
		r.bytes = by;
	}
	if ((rc = parse_addr_list(&st, &st.src, &sa, &sp, &ns)) < 0)
		goto out;
	if ((rc = parse_addr_list(&st, &st.dst, &da, &dp, &nd)) < 0)
		goto out;
	if ((rc = finish_rule(&st)) < 0)
		goto out;
	if (cmd) {
		struct rules_chain *c = rules_chain_get(&rs->tables[t], cmd->chain);
		if (!c || !(c->fam & r.fam)) {
			rc = rules_errf(pe, cmd->chain_col, "chain '%s' does not exist", cmd->chain);
			goto out;
		}
		*cp = c;
		if (cmd->kind == CMD_INSERT) {
			unsigned long num = cmd->num ? cmd->num : 1;
			if (num > fam_count(c, r.fam) + 1) {
				rc = rules_errf(pe, cmd->chain_col, "index of insertion too big");
				goto out;
			}
			*posp = (long)(num - 1);
		} else if (cmd->kind == CMD_REPLACE) {
			if (cmd->num > fam_count(c, r.fam)) {
				rc = rules_errf(pe, cmd->num_col, "index of replacement too big");
				goto out;
			}
			*posp = (long)(cmd->num - 1);
		} else {
			*posp = -1;
		}
	}
	if (cmd && cmd->kind != CMD_APPEND && cmd->kind != CMD_INSERT && (ns > 1 || nd > 1)) {
		rc = rules_errf(pe, ns > 1 ? st.src.col : st.dst.col,
			"-%c takes one source and one destination address", cmd->kind);
		goto out;
	}
	if (ns * (nd ? nd : 1) > EXPAND_MAX) {
		rc = rules_errf(pe, st.src.col, "-s/-d lists expand into too many rules (max %d)", EXPAND_MAX);
		goto out;
	}
	struct rules_chain *c = *cp;
	size_t total = (ns ? ns : 1) * (nd ? nd : 1), done = 0;
	long pos = *posp;
	for (size_t i = 0; i < (ns ? ns : 1); i++) {
		for (size_t j = 0; j < (nd ? nd : 1); j++) {
			struct rules_rule copy;
			if ((rc = rules_rule_copy(&copy, &r)) < 0) {
				rules_errf(pe, 0, "out of memory");
				goto out;
			}
			if (ns) {
				copy.src = sa[i];
				copy.src_plen = sp[i];
				copy.has_src = sp[i] != 0 || st.src.inv;
				if (st.src.inv)
					copy.inv |= RULES_INV_SRC;
			}
			if (nd) {
				copy.dst = da[j];
				copy.dst_plen = dp[j];
				copy.has_dst = dp[j] != 0 || st.dst.inv;
				if (st.dst.inv)
					copy.inv |= RULES_INV_DST;
			}
			size_t at = pos < 0 ? c->n_rules : fam_pos(c, copy.fam, (size_t)pos + done);
			if ((rc = rules_chain_insert(c, at, &copy)) < 0) {
				rules_rule_free(&copy);
				rules_errf(pe, 0, "out of memory");
				goto out;
			}
			done++;
		}
	}
	(void)total;
out:
	free(sa);
	free(da);
	free(sp);
	free(dp);
	rules_rule_free(&r);
	return rc;
}

/* ---- iptables-restore ---- */

struct restore {
	struct rules_ruleset *rs;
	struct rules_perr pe;
	int fam;
	unsigned flags;
	int table; /* -1: none */
	int table_line;
	uint8_t declared_builtin;
	struct toks *tv;
};

static int policy_parse(struct restore *rp, const char *s, int col, uint8_t *pol)
{
	if (strcmp(s, "ACCEPT") == 0)
		*pol = RULES_POL_ACCEPT;
	else if (strcmp(s, "DROP") == 0)
		*pol = RULES_POL_DROP;
	else
		return rules_errf(&rp->pe, col, "bad policy name \"%s\" (ACCEPT or DROP)", s);
	if (*pol == RULES_POL_DROP && rp->table == RULES_T_NAT)
		return rules_errf(&rp->pe, col,
			"the \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited");
	return 0;
}

static int chain_line(struct restore *rp, const char *line, size_t len)
{
	struct toks *tv = rp->tv;
	struct rules_table *t = &rp->rs->tables[rp->table];
	struct rules_perr *pe = &rp->pe;
	const char *why;
	int rc = tokenize(pe, line, len, tv);
	if (rc < 0)
		return rc;
	/* ":name policy [p:b]": the name follows the colon directly */
	if (tv->n == 0 || tv->t[0].col != 1 || tv->t[0].s[0] != ':' || tv->t[0].s[1] == '\0')
		return rules_errf(pe, 1, "chain name invalid");
	const char *name = tv->t[0].s + 1;
	if (!rules_chain_name_ok(name, &why))
		return rules_errf(pe, 2, "%s: \"%s\"", why, name);
	if (tv->n < 2)
		return rules_errf(pe, tv->t[0].col, "policy missing for chain '%s'", name);
	uint64_t pk = 0, by = 0;
	if (tv->n >= 3) {
		const char *c = tv->t[2].s;
		size_t n = strlen(c);
		char p[32], b[32];
		const char *colon = strchr(c, ':');
		if (n < 5 || c[0] != '[' || c[n - 1] != ']' || !colon || (size_t)(colon - c - 1) >= sizeof(p) ||
		    (size_t)(n - 2 - (size_t)(colon - c)) >= sizeof(b))
			return rules_errf(pe, tv->t[2].col, "invalid counters \"%s\" (expected [packets:bytes])", c);
		memcpy(p, c + 1, (size_t)(colon - c - 1));
		p[colon - c - 1] = '\0';
		memcpy(b, colon + 1, n - 2 - (size_t)(colon - c));
		b[n - 2 - (size_t)(colon - c)] = '\0';
		if ((rc = parse_counters(pe, tv->t[2].col, p, b, &pk, &by)) < 0)
			return rc;
	}
	if (tv->n > 3)
		return rules_errf(pe, tv->t[3].col, "unexpected \"%s\" after chain counters", tv->t[3].s);
	struct rules_chain *c = rules_chain_get(t, name);
	if (c && c->hook >= 0) {
		if (rp->declared_builtin & (1u << c->hook))
			return rules_errf(pe, 2, "chain '%s' declared twice", name);
		rp->declared_builtin |= (uint8_t)(1u << c->hook);
		uint8_t pol;
		if ((rc = policy_parse(rp, tv->t[1].s, tv->t[1].col, &pol)) < 0)
			return rc;
		int fi = FAM_IDX(rp->fam);
		c->policy[fi] = pol;
		c->pkts[fi] = pk;
		c->bytes[fi] = by;
		c->ctr_set |= (uint8_t)rp->fam;
		t->present |= (uint8_t)rp->fam;
		return 0;
	}
	if (strcmp(tv->t[1].s, "-") != 0)
		return rules_errf(pe, tv->t[1].col,
			"user-defined chain '%s' cannot have a policy (use \"-\")", name);
	if (c && (c->fam & rp->fam))
		return rules_errf(pe, 2, "chain '%s' already exists", name);
	if (!c && !(c = rules_chain_add(t, name)))
		return rules_errf(pe, 0, "out of memory");
	c->fam |= (uint8_t)rp->fam;
	if (!c->line)
		c->line = pe->line;
	t->present |= (uint8_t)rp->fam;
	return 0;
}

static bool chain_referenced(const struct rules_table *t, const char *name, int fam,
	const struct rules_chain *except)
{
	for (size_t i = 0; i < t->n_chains; i++) {
		const struct rules_chain *c = &t->chains[i];
		if (c == except)
			continue;
		for (size_t j = 0; j < c->n_rules; j++) {
			const struct rules_rule *r = &c->rules[j];
			if ((r->fam & fam) && (r->target.verdict == RULES_V_JUMP ||
						  r->target.verdict == RULES_V_GOTO) &&
			    strcmp(r->target.chain, name) == 0)
				return true;
		}
	}
	return false;
}

static int do_delete_chain(struct restore *rp, struct rules_table *t, struct rules_chain *c, int col)
{
	if (c->hook >= 0)
		return rules_errf(&rp->pe, col, "cannot delete built-in chain %s", c->name);
	if (chain_referenced(t, c->name, rp->fam, c))
		return rules_errf(&rp->pe, col, "chain '%s' is still referenced by rules", c->name);
	if (fam_count(c, rp->fam))
		return rules_errf(&rp->pe, col, "chain '%s' is not empty (flush it first)", c->name);
	c->fam &= (uint8_t)~rp->fam;
	if (!c->fam)
		rules_chain_del(t, c);
	return 0;
}

/* Take rule i of c out of family fam (the rule goes when no family is left). */
static void rule_drop_fam(struct rules_chain *c, size_t i, int fam)
{
	struct rules_rule *r = &c->rules[i];
	r->fam &= (uint8_t)~fam;
	if (r->fam)
		return;
	rules_rule_free(r);
	memmove(r, r + 1, (c->n_rules - i - 1) * sizeof(*r));
	c->n_rules--;
}

/* -D/-C with a rule: the rule was parsed and appended at the end of c; find
 * the first earlier rule of the family that prints the same (iptables
 * compares the whole entry, which the canonical text is here). Returns its
 * index or -1; the appended rule is removed either way. */
static long find_same_rule(struct rules_chain *c, int fam, struct rules_perr *pe, int *rc)
{
	*rc = 0;
	if (c->n_rules == 0)
		return -1;
	size_t last = c->n_rules - 1;
	char *want = rules_ipt_print_rule(&c->rules[last], fam);
	long found = -1;
	if (want == NULL) {
		*rc = rules_errf(pe, 0, "out of memory");
	} else {
		for (size_t i = 0; i < last && found < 0; i++) {
			if (!(c->rules[i].fam & fam))
				continue;
			char *have = rules_ipt_print_rule(&c->rules[i], fam);
			if (have == NULL) {
				*rc = rules_errf(pe, 0, "out of memory");
				break;
			}
			if (strcmp(have, want) == 0)
				found = (long)i;
			free(have);
		}
	}
	free(want);
	rules_rule_free(&c->rules[last]);
	c->n_rules--;
	return *rc < 0 ? -1 : found;
}

static void zero_rule(struct rules_rule *r)
{
	r->pkts = r->bytes = 0;
	r->id = 0; /* a new identity: nothing is carried over to it */
}

static int zero_chain(struct rules_chain *c, int fam)
{
	for (size_t j = 0; j < c->n_rules; j++)
		if (c->rules[j].fam & fam)
			zero_rule(&c->rules[j]);
	if (c->hook >= 0) {
		int fi = FAM_IDX(fam);
		c->pkts[fi] = c->bytes[fi] = 0;
		c->ctr_set |= (uint8_t)fam;
	}
	return 0;
}

/* -E: a user chain of this family gets a new name; rules jumping to it follow. */
static int rename_chain(struct restore *rp, struct rules_table *t, const struct cmd *cmd)
{
	struct rules_perr *pe = &rp->pe;
	const char *why;
	struct rules_chain *c = rules_chain_get(t, cmd->chain);
	if (!c || !(c->fam & rp->fam))
		return rules_errf(pe, cmd->chain_col, "chain '%s' does not exist", cmd->chain);
	if (c->hook >= 0)
		return rules_errf(pe, cmd->chain_col, "cannot rename built-in chain %s", c->name);
	if (!rules_chain_name_ok(cmd->policy, &why))
		return rules_errf(pe, cmd->policy_col, "%s: \"%s\"", why, cmd->policy);
	struct rules_chain *n = rules_chain_get(t, cmd->policy);
	if (n && (n->hook >= 0 || n->fam))
		return rules_errf(pe, cmd->policy_col, "chain '%s' already exists", cmd->policy);
	if (c->fam != rp->fam)
		return rules_errf(pe, cmd->chain_col, "chain '%s' holds IPv4 and IPv6 rules (a YAML "
			"ruleset's chain): rename it in the YAML ruleset", cmd->chain);
	char old[RULES_CHAIN_NAME_MAX + 1];
	snprintf(old, sizeof(old), "%s", cmd->chain);
	if (!n && !(n = rules_chain_add(t, cmd->policy)))
		return rules_errf(pe, 0, "out of memory");
	c = rules_chain_get(t, old); /* the array may have moved */
	n->fam = c->fam;
	n->line = c->line;
	n->rules = c->rules;
	n->n_rules = c->n_rules;
	n->cap_rules = c->cap_rules;
	c->rules = NULL;
	c->n_rules = c->cap_rules = 0;
	c->fam = 0;
	rules_chain_del(t, c);
	for (size_t i = 0; i < t->n_chains; i++)
		for (size_t j = 0; j < t->chains[i].n_rules; j++) {
			struct rules_rule *r = &t->chains[i].rules[j];
			if ((r->target.verdict == RULES_V_JUMP || r->target.verdict == RULES_V_GOTO) &&
			    strcmp(r->target.chain, old) == 0)
				snprintf(r->target.chain, sizeof(r->target.chain), "%s", cmd->policy);
		}
	return 0;
}

static int command_line(struct restore *rp, const char *line, size_t len)
{
	struct rules_perr *pe = &rp->pe;
	struct rules_table *t = &rp->rs->tables[rp->table];
	uint64_t pk = 0, by = 0;
	bool has_ctr = false;
	size_t skip = 0;
	int rc;

	if (line[0] == '[') {
		const char *end = memchr(line, ']', len);
		const char *colon = memchr(line, ':', len);
		char p[32], b[32];
		if (!end || !colon || colon > end || (size_t)(colon - line - 1) >= sizeof(p) ||
		    (size_t)(end - colon - 1) >= sizeof(b))
			return rules_errf(pe, 1, "bad rule counters (expected [packets:bytes])");
		memcpy(p, line + 1, (size_t)(colon - line - 1));
		p[colon - line - 1] = '\0';
		memcpy(b, colon + 1, (size_t)(end - colon - 1));
		b[end - colon - 1] = '\0';
		if ((rc = parse_counters(pe, 1, p, b, &pk, &by)) < 0)
			return rc;
		has_ctr = true;
		skip = (size_t)(end - line) + 1;
	}
	/* tokens keep their columns in the full line */
	pe->col_base += (int)skip;
	rc = tokenize(pe, line + skip, len - skip, rp->tv);
	pe->col_base -= (int)skip;
	if (rc < 0)
		return rc;
	for (int k = 0; k < rp->tv->n; k++)
		rp->tv->t[k].col += (int)skip;
	int first = 0;

	struct cmd cmd = {0};
	struct rules_chain *c = NULL;
	long pos = -1;
	rc = rule_from_args(rp->rs, (enum rules_table_id)rp->table, rp->fam, rp->tv, first, pe,
		pe->line, pk, by, has_ctr, &cmd, &c, &pos);
	if (rc < 0)
		return rc;
	const char *why;
	switch (cmd.kind) {
	case CMD_APPEND:
	case CMD_INSERT:
		break;
	case CMD_REPLACE: {
		/* the new rule went in before the old one; the old one goes */
		size_t at = fam_pos(c, rp->fam, cmd.num);
		if (at < c->n_rules)
			rule_drop_fam(c, at, rp->fam);
		break;
	}
	case CMD_DELETE:
	case CMD_CHECK: {
		long i;
		if (cmd.kind == CMD_DELETE && cmd.num) {
			c = rules_chain_get(t, cmd.chain);
			if (!c || !(c->fam & rp->fam))
				return rules_errf(pe, cmd.chain_col, "chain '%s' does not exist", cmd.chain);
			if (cmd.num > fam_count(c, rp->fam))
				return rules_errf(pe, cmd.num_col, "index of deletion too big");
			i = (long)fam_pos(c, rp->fam, cmd.num - 1);
		} else {
			if (!c)
				return 0; /* a rule of the other family (-4/-6): ignored */
			i = find_same_rule(c, rp->fam, pe, &rc);
			if (rc < 0)
				return rc;
			if (i < 0)
				return rules_errf(pe, cmd.col,
					"Bad rule (does a matching rule exist in that chain?)");
		}
		if (cmd.kind == CMD_DELETE)
			rule_drop_fam(c, (size_t)i, rp->fam);
		break;
	}
	case CMD_RENAME:
		if ((rc = rename_chain(rp, t, &cmd)) < 0)
			return rc;
		break;
	case CMD_ZERO:
		if (cmd.chain) {
			c = rules_chain_get(t, cmd.chain);
			if (!c || !(c->fam & rp->fam))
				return rules_errf(pe, cmd.chain_col, "chain '%s' does not exist", cmd.chain);
			if (cmd.num) {
				if (cmd.num > fam_count(c, rp->fam))
					return rules_errf(pe, cmd.num_col, "index of zero too big");
				zero_rule(&c->rules[fam_pos(c, rp->fam, cmd.num - 1)]);
			} else {
				zero_chain(c, rp->fam);
			}
		} else {
			for (size_t k = 0; k < t->n_chains; k++)
				if (t->chains[k].fam & rp->fam || t->chains[k].hook >= 0)
					zero_chain(&t->chains[k], rp->fam);
		}
		break;
	case CMD_NEW:
		if (!rules_chain_name_ok(cmd.chain, &why))
			return rules_errf(pe, cmd.chain_col, "%s: \"%s\"", why, cmd.chain);
		c = rules_chain_get(t, cmd.chain);
		if (c && (c->hook >= 0 || (c->fam & rp->fam)))
			return rules_errf(pe, cmd.chain_col, "chain '%s' already exists", cmd.chain);
		if (!c && !(c = rules_chain_add(t, cmd.chain)))
			return rules_errf(pe, 0, "out of memory");
		c->fam |= (uint8_t)rp->fam;
		if (!c->line)
			c->line = pe->line;
		break;
	case CMD_POLICY: {
		c = rules_chain_get(t, cmd.chain);
		if (!c || c->hook < 0)
			return rules_errf(pe, cmd.chain_col, "-P is only for built-in chains ('%s')", cmd.chain);
		uint8_t pol;
		if ((rc = policy_parse(rp, cmd.policy, cmd.policy_col, &pol)) < 0)
			return rc;
		/* the nft backend rewrites the chain: its counters restart */
		c->policy[FAM_IDX(rp->fam)] = pol;
		c->pkts[FAM_IDX(rp->fam)] = c->bytes[FAM_IDX(rp->fam)] = 0;
		c->ctr_set |= (uint8_t)rp->fam;
		break;
	}
	case CMD_FLUSH:
		if (cmd.chain) {
			c = rules_chain_get(t, cmd.chain);
			if (!c || !(c->fam & rp->fam))
				return rules_errf(pe, cmd.chain_col, "chain '%s' does not exist", cmd.chain);
			rules_chain_flush(c, rp->fam);
		} else {
			for (size_t i = 0; i < t->n_chains; i++)
				rules_chain_flush(&t->chains[i], rp->fam);
		}
		break;
	case CMD_DELCHAIN:
		if (cmd.chain) {
			c = rules_chain_get(t, cmd.chain);
			if (!c || !(c->fam & rp->fam))
				return rules_errf(pe, cmd.chain_col, "chain '%s' does not exist", cmd.chain);
			if ((rc = do_delete_chain(rp, t, c, cmd.chain_col)) < 0)
				return rc;
		} else {
			/* all user chains of the family; built-ins must not refer to them */
			for (size_t i = 0; i < t->n_builtin; i++)
				for (size_t j = 0; j < t->chains[i].n_rules; j++) {
					const struct rules_rule *r = &t->chains[i].rules[j];
					if ((r->fam & rp->fam) && (r->target.verdict == RULES_V_JUMP ||
								     r->target.verdict == RULES_V_GOTO))
						return rules_errf(pe, cmd.col,
							"chain '%s' is still referenced by rules", r->target.chain);
				}
			for (size_t i = t->n_builtin; i < t->n_chains;) {
				struct rules_chain *u = &t->chains[i];
				rules_chain_flush(u, rp->fam);
				u->fam &= (uint8_t)~rp->fam;
				if (!u->fam)
					rules_chain_del(t, u);
				else
					i++;
			}
		}
		break;
	default:
		return rules_errf(pe, 0, "no command specified");
	}
	t->present |= (uint8_t)rp->fam;
	return 0;
}

static int restore_line(struct restore *rp, const char *line, size_t len)
{
	struct rules_perr *pe = &rp->pe;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	if (rp->table >= 0 && len == 6 && memcmp(line, "COMMIT", 6) == 0) {
		int rc = rules_validate_table(rp->rs, (enum rules_table_id)rp->table, rp->fam, pe);
		rp->table = -1;
		return rc;
	}
	if (line[0] == '*') {
		char name[32];
		size_t n = 1;
		if (rp->table >= 0)
			return rules_errf(pe, 1, "COMMIT expected before a new table (table '%s' opened at line %d)",
				rules_table_name((enum rules_table_id)rp->table), rp->table_line);
		while (n < len && line[n] != ' ' && line[n] != '\t')
			n++;
		if (n == 1 || n - 1 >= sizeof(name))
			return rules_errf(pe, 1, "table name invalid");
		memcpy(name, line + 1, n - 1);
		name[n - 1] = '\0';
		for (size_t k = n; k < len; k++)
			if (line[k] != ' ' && line[k] != '\t')
				return rules_errf(pe, (int)k + 1, "unexpected text after the table name");
		int t = rules_table_by_name(name);
		if (t < 0)
			return rules_errf(pe, 2, "table '%s' %s", name,
				strcmp(name, "security") == 0 ? "is not supported" : "invalid");
		rp->table = t;
		rp->table_line = pe->line;
		rp->declared_builtin = 0;
		if (!(rp->flags & RULES_LOAD_NOFLUSH))
			rules_table_flush(&rp->rs->tables[t], rp->fam);
		return 0;
	}
	if (rp->table < 0)
		return rules_errf(pe, 1, "rule or chain outside of a table (missing *table line?)");
	if (line[0] == ':')
		return chain_line(rp, line, len);
	return command_line(rp, line, len);
}

int rules_ipt_load(struct rules_ruleset *rs, int fam, const char *buf, size_t len, const char *name,
	unsigned flags, char *err, size_t errlen)
{
	struct restore rp = {0};
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	rp.pe.name = name;
	rp.pe.err = err;
	rp.pe.errlen = errlen;
	if (fam != RULES_F_V4 && fam != RULES_F_V6)
		return rules_errf(&rp.pe, 0, "family must be IPv4 or IPv6");
	rp.fam = fam;
	rp.flags = flags;
	rp.table = -1;
	bool inplace = (flags & RULES_LOAD_INPLACE) != 0;
	rp.tv = malloc(sizeof(*rp.tv));
	rp.rs = inplace ? rs : rules_clone(rs);
	if (!rp.tv || !rp.rs) {
		free(rp.tv);
		if (!inplace)
			rules_free(rp.rs);
		rules_errf(&rp.pe, 0, "out of memory");
		return -ENOMEM;
	}
	size_t off = 0;
	int line = 0;
	while (off < len) {
		const char *p = buf + off;
		const char *nl = memchr(p, '\n', len - off);
		size_t l = nl ? (size_t)(nl - p) : len - off;
		off += l + (nl ? 1 : 0);
		rp.pe.line = ++line;
		if (memchr(p, '\0', l)) {
			rc = rules_errf(&rp.pe, 0, "NUL byte in input");
			break;
		}
		if (l && p[l - 1] == '\r')
			l--;
		if (l >= LINE_MAX_LEN) {
			rc = rules_errf(&rp.pe, 0, "line too long (max %d characters)", LINE_MAX_LEN - 1);
			break;
		}
		if ((rc = restore_line(&rp, p, l)) < 0)
			break;
	}
	if (rc == 0 && rp.table >= 0) {
		rp.pe.line = line + 1;
		rc = rules_errf(&rp.pe, 0, "COMMIT expected at end of input (table '%s' opened at line %d)",
			rules_table_name((enum rules_table_id)rp.table), rp.table_line);
	}
	free(rp.tv);
	if (inplace)
		return rc;
	if (rc < 0) {
		rules_free(rp.rs);
		return rc;
	}
	rules_replace(rs, rp.rs);
	return 0;
}

/* Parse one rule into rs itself (no copy). On error rs may hold part of
 * the work: callers either work on a copy (rules_ipt_add_rule) or throw rs
 * away (the YAML loader builds a fresh ruleset and validates it whole). */
static int add_rule_in(struct rules_ruleset *n, enum rules_table_id t, const char *chain, long pos,
	int fam, const char *text, struct rules_perr *pe, int line, bool validate)
{
	int rc;
	if (t >= RULES_T_COUNT || (fam & ~RULES_F_ALL) || !fam)
		return rules_errf(pe, 0, "invalid table or family");
	size_t len = strlen(text);
	if (len >= LINE_MAX_LEN)
		return rules_errf(pe, 0, "rule too long (max %d characters)", LINE_MAX_LEN - 1);
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' || text[i] == '\r')
			return rules_errf(pe, (int)i + 1, "line break in a rule");
	struct toks *tv = malloc(sizeof(*tv));
	if (!tv) {
		rules_errf(pe, 0, "out of memory");
		return -ENOMEM;
	}
	if ((rc = tokenize(pe, text, len, tv)) < 0)
		goto out;
	struct rules_chain *c = rules_chain_get(&n->tables[t], chain);
	if (!c || !(c->fam & fam)) {
		rc = rules_errf(pe, 0, "chain '%s' does not exist in table %s", chain, rules_table_name(t));
		goto out;
	}
	if (pos >= 0 && (size_t)pos > fam_count(c, fam)) {
		rc = rules_errf(pe, 0, "index of insertion too big");
		goto out;
	}
	rc = rule_from_args(n, t, fam, tv, 0, pe, line, 0, 0, false, NULL, &c, &pos);
	if (rc == 0) {
		n->tables[t].present |= (uint8_t)(fam & c->fam);
		if (validate)
			rc = rules_validate_table(n, t, RULES_F_ALL, pe);
	}
out:
	free(tv);
	return rc;
}

int rules_ipt_add_rule(struct rules_ruleset *rs, enum rules_table_id t, const char *chain, long pos,
	int fam, const char *text, const char *name, int line, int col, char *err, size_t errlen)
{
	struct rules_perr pe = {name, line, col > 0 ? col - 1 : 0, err, errlen};
	if (err && errlen)
		err[0] = '\0';
	struct rules_ruleset *n = rules_clone(rs);
	if (!n) {
		rules_errf(&pe, 0, "out of memory");
		return -ENOMEM;
	}
	int rc = add_rule_in(n, t, chain, pos, fam, text, &pe, line, true);
	if (rc < 0) {
		rules_free(n);
		return rc;
	}
	rules_replace(rs, n);
	return 0;
}

int rules_ipt_add_rule_into(struct rules_ruleset *rs, enum rules_table_id t, const char *chain,
	int fam, const char *text, const char *name, int line, int col, char *err, size_t errlen)
{
	struct rules_perr pe = {name, line, col > 0 ? col - 1 : 0, err, errlen};
	if (err && errlen)
		err[0] = '\0';
	return add_rule_in(rs, t, chain, -1, fam, text, &pe, line, false);
}
