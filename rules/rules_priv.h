/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_priv: what only the rules module sees: the extension descriptor
 * table (kinds, options, value types), the parse context and error
 * reporting, a growable text buffer, and the model helpers shared by the
 * parser, the printer and the validator.
 */
#ifndef RP_RULES_PRIV_H
#define RP_RULES_PRIV_H

#include <stdarg.h>
#include <stdio.h>

#include "rules.h"

#define RULES_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FAM_IDX(f) ((f) == RULES_F_V6 ? 1 : 0)

/* ---- text buffer ---- */

struct rules_buf {
	char *s;
	size_t len, cap;
	bool oom;
};

void rbuf_putc(struct rules_buf *b, char c);
void rbuf_puts(struct rules_buf *b, const char *s);
void rbuf_printf(struct rules_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* iptables' xtables_save_string(): " word" or " \"quoted \\\"text\\\"\"" */
void rbuf_save_string(struct rules_buf *b, const char *s);
/* -m string's pattern as libxt_string prints it (quoted, or "|hex|") */
struct rules_m_string;
bool rules_string_is_hex(const uint8_t *p, unsigned n);
void rules_string_pattern(struct rules_buf *b, const struct rules_m_string *s);
void rbuf_addr(struct rules_buf *b, int fam, const struct rules_addr *a);
/* -m time (rules_time.c): libxt_time's save (" --timestart ...") and
 * print ("TIME from ... UTC", without the leading blank's word) texts */
void rules_time_save(struct rules_buf *b, const struct rules_ext *x, int fam);
void rules_time_list(struct rules_buf *b, const struct rules_ext *x);
/* A NAT target's range as libxt_NAT prints it (no option name). */
void rules_nat_range_text(struct rules_buf *t, const struct rules_t_nat *n, int fam);
/* A set element as ipset prints it ("10.0.0.0/8", "1.2.3.4,tcp:80"). */
/* -m set's counter options (after --return-nomatch), as iptables-save
 * (save) or iptables -L prints them. */
void rules_set_counters_print(struct rules_buf *b, const struct rules_ext *x, bool save);
/* bitmap:ip's range, "A-B" */
void rules_set_ip_range_print(struct rules_buf *b, const struct rules_set *s);
void rules_set_entry_print(struct rules_buf *b, const struct rules_set *s,
	const struct rules_set_entry *e);
/* The entry as `ipset save` writes it after "add NAME ": the element, then
 * its timeout left (sets with timeouts), nomatch, comment. */
void rules_set_entry_print_full(struct rules_buf *b, const struct rules_set *s,
	const struct rules_set_entry *e, uint64_t now);

/* ---- errors ---- */

struct rules_perr {
	const char *name; /* file name for messages */
	int line;
	int col_base;     /* added to token columns (single-rule parser) */
	char *err;
	size_t errlen;
};

/* Formats "name:line:col: message" (col 0: "name:line: message"); returns -EINVAL. */
int rules_errf(struct rules_perr *pe, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- value types of extension options ---- */

enum rv_type {
	RV_NONE,        /* flag, no argument */
	RV_PORTRANGE,   /* tcp/udp "a", "a:b", ":b", "a:" */
	RV_CTPORTS,     /* conntrack "a[:b]" */
	RV_UDPPORTS,    /* udp "a", "a:b", ":b", "a:" (getaddrinfo ports, no order check) */
	RV_TCPFLAGS,    /* two arguments: mask comp */
	RV_SYN,         /* --syn */
	RV_U8,          /* decimal print */
	RV_U8HEX,       /* dscp: 0x%02x */
	RV_DSCPCLASS,   /* class name into a u8 */
	RV_U16,
	RV_U32,
	RV_U64,         /* the whole uint64_t range (min and max unused) */
	RV_U16RANGE,    /* "a[:b]" with empty sides */
	RV_U32RANGE,
	RV_ICMP4,
	RV_ICMP6,
	RV_MPORTS,
	RV_IPRANGE_SRC,
	RV_IPRANGE_DST,
	RV_MAC,
	RV_TOSMASK,
	RV_MARKMASK,
	RV_PKTTYPE,
	RV_ADDRTYPES,
	RV_STRING,      /* char * in the data, max length in opt->max */
	RV_IP6OPTS,     /* hbh/dst options "type[:length],...": rules_m_ip6ext.opts, n_opts */
	RV_IP6ADDRS,    /* rt --rt-0-addrs: an owned uint8_t * (count, then addresses) */
	RV_IP6HDRS,     /* ipv6header --header names: a uint8_t of RULES_IH_* */
	RV_SCTPCHUNKS,  /* sctp --chunk-types: two arguments, mode and chunks */
	RV_SCTPPORTS,   /* sctp ports: read as RV_PORTRANGE (xtables_parse_port), printed
			   even when the whole range, as sctp_save prints them */
	RV_U32SPEC,     /* -m u32's tests: an owned struct rules_u32 * */
	RV_IFNAME,      /* an interface name, "+" a prefix: char[16] then, opt->dflt bytes
			   further, a uint8_t wildcard flag */
	RV_STATMODE,    /* statistic --mode random|nth (uint8_t) */
	RV_PROB,        /* a probability 0..1 as p * 2^31 (uint32_t) */
	RV_EVERY,       /* statistic --every n, kept as n - 1 (uint32_t) */
	RV_ADDRMASK,    /* an address of the rule's family (recent --mask), struct rules_addr */
	RV_BYTES,       /* uint8_t *: [0] length, then bytes (string --string, max opt->max) */
	RV_HEXBYTES,    /* the same from --hex-string's "ab|0d 0a|c" */
	RV_DATE,        /* time --datestart/--datestop, ISO 8601 (uint32_t UTC seconds) */
	RV_DAYTIME,     /* time --timestart/--timestop hh:mm[:ss] (uint32_t seconds) */
	RV_MONTHDAYS,   /* time --monthdays 1,15,31 (uint32_t bits) */
	RV_WEEKDAYS,    /* time --weekdays Mon,2 (uint8_t bits) */
	RV_SET,         /* two arguments: name dirs */
	RV_CTSTATES,
	RV_CTSTATUS,
	RV_PROTO,
	RV_HOSTMASK,
	RV_CTDIR,
	RV_U64RANGE,    /* "a[:b]", two uint64_t */
	RV_CBDIR,       /* connbytes original|reply|both */
	RV_CBMODE,      /* connbytes packets|bytes|avgpkt */
	RV_RATE,
	RV_HLRATE,      /* hashlimit "N[/unit]" or "N[k|m]b/s": struct rules_hl_rate */
	RV_HLBURST,     /* hashlimit burst "N[k|m]" (uint64_t) */
	RV_HLMODE,      /* hashlimit mode list (uint8_t RULES_HL_* bits) */
	RV_PLEN,        /* a prefix length, or a netmask turned into one (uint8_t) */
	RV_LOGLEVEL,
	RV_LOGFLAG,     /* sets bit opt->dflt in a u8 */
	RV_REJECT,
	RV_XMARK,       /* MARK/CONNMARK --set-xmark v/m */
	RV_SETMARK,     /* --set-mark v[/m] */
	RV_ANDMARK,
	RV_ORMARK,
	RV_XORMARK,
	RV_SETTOS,      /* TOS --set-tos */
	RV_ANDTOS,
	RV_ORTOS,
	RV_XORTOS,
	RV_CM_MODE,     /* CONNMARK --save-mark/--restore-mark: mode in opt->dflt */
	RV_CM_MASK,     /* CONNMARK --mask */
	RV_CM_SHIFT,    /* CONNMARK --left/right-shift-mark, dir in opt->dflt */
	RV_NATRANGE,
	RV_NATPORTS,
	RV_NATFLAG,     /* sets flag opt->dflt */
	RV_NETMAP,
	RV_POLICY,      /* -m policy --dir: the owned struct rules_policy (one owner) */
	RV_POLICY_OPT,  /* -m policy's other options, into that struct (opt->min arguments) */
	RV_CTZONE,      /* CT --zone/--zone-orig/--zone-reply ID|mark into struct rules_t_ct
			   (the direction flag in opt->dflt) */
	RV_CTEVENTS,    /* CT --ctevents/--expevents: a uint16_t of bits from libxt_CT's
			   names, bit i the kernel's IPCT_* i (opt->max: the bits allowed) */
	RV_TYPE_COUNT
};

/* option flags */
enum {
	RO_INV = 1 << 0,      /* may be inverted with ! */
	RO_ALIAS = 1 << 1,    /* another spelling: parsed, never printed */
	RO_OMIT_DFLT = 1 << 2,/* print only when the value differs from dflt */
	RO_MAND = 1 << 3,     /* must be given */
	RO_NOPRINT = 1 << 4,  /* printed by the kind's own printer */
	RO_ALWAYS = 1 << 5,   /* printed even when not given (its default) */
	RO_REFUSE = 1 << 6,   /* known but refused with an explanation */
	RO_LAST = 1 << 7,     /* the options of excl given before are forgotten, not
				 refused: the last one wins (TCPMSS's two options
				 write one field in libxt) */
};

struct rules_opt {
	const char *name; /* without "--" */
	uint8_t id;       /* bit in rules_ext.present/invert; aliases share it */
	uint8_t type;     /* enum rv_type */
	uint8_t flags;    /* RO_* */
	uint16_t off;     /* offset of the value in union rules_ext_data */
	uint32_t min, max, dflt;
	uint32_t excl;    /* ids that cannot be given together with this one */
};

/* Where a kind may be used. */
struct rules_ext_desc {
	const char *name;
	uint8_t fam;        /* families where it exists */
	uint8_t proto;      /* required protocol (not inverted), 0: none */
	uint8_t tables;     /* mask of 1 << table, 0: any */
	uint8_t hooks;      /* mask of 1 << hook, 0: any */
	bool target;
	const struct rules_opt *opts;
	uint8_t n_opts;
	/* Optional hooks: initial values, final check, special printing. */
	void (*init)(union rules_ext_data *d);
	int (*check)(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r);
	void (*print)(struct rules_buf *b, const struct rules_ext *x, int fam);
};

extern const struct rules_ext_desc rules_ext_descs[RULES_X_COUNT];

/* -m hashlimit's rate, byte rate and mode as libxt_hashlimit prints them
 * (rates: the unit's length in ms returned, the default expiry). */
uint32_t rules_hl_print_rate(struct rules_buf *b, uint64_t period);
uint32_t rules_hl_print_bytes(struct rules_buf *b, uint64_t avg, uint64_t burst, const char *prefix);
void rules_hl_print_mode(struct rules_buf *b, uint8_t mode, char sep);

/* hbh/dst options and rt addresses as ip6tables prints them (no leading blank). */
void rules_ip6opts_print(struct rules_buf *b, const struct rules_m_ip6ext *e);
void rules_ip6addrs_print(struct rules_buf *b, const uint8_t *a);
void rules_ip6hdrs_print(struct rules_buf *b, uint8_t m); /* ipv6header's names, "," between */
/* sctp --chunk-types as libxt_sctp prints it: " any|all|only", then the
 * chunks (names, or 0x%04X when numeric) with their flags */
void rules_sctp_chunks_print(struct rules_buf *b, const struct rules_m_sctp *m, bool numeric);
/* -m u32's tests as libxt_u32 prints them: a blank, then "0x..=0x.." in quotes. */
void rules_u32_print(struct rules_buf *b, const struct rules_u32 *d);

/* Parse context for one rule. */
struct rules_pctx {
	struct rules_perr *pe;
	struct rules_ruleset *rs;
	struct rules_rule *r;
	int col; /* column of the value token */
};

/* Look up an extension by -m/-j name; -1 if unknown. */
int rules_ext_lookup(const char *name, bool target);
/* Find option `name` (without "--") of kind k; NULL if it has none. */
const struct rules_opt *rules_ext_opt(enum rules_ext_kind k, const char *name);
/* Number of arguments the option takes (0, 1 or 2). */
int rules_opt_nargs(const struct rules_opt *o);
/* A tcp/udp match the nft backend leaves out entirely (nothing to match). */
bool rules_ext_hidden(const struct rules_ext *x);
/* Initialise x as a fresh instance of kind k. */
void rules_ext_init(struct rules_ext *x, enum rules_ext_kind k);
/* Parse one option's argument(s) into x. */
int rules_ext_parse_opt(struct rules_pctx *pc, struct rules_ext *x, const struct rules_opt *o,
	bool inv, const char *const *args, const int *cols, int opt_col);
/* The value-type half of rules_ext_parse_opt (rules_ext_val.c). */
int rules_val_parse(struct rules_pctx *pc, struct rules_ext *x, const struct rules_opt *o,
	const char *const *args, const int *cols, int opt_col);
/* Whether iptables-save leaves a (not inverted) option out, and its value text. */
bool rules_val_omit(const struct rules_ext *x, const struct rules_opt *o);
void rules_val_print(struct rules_buf *b, const struct rules_ext *x, const struct rules_opt *o, int fam);
/* -m time's value types (rules_time.c): RV_DATE .. RV_WEEKDAYS into f. */
int rules_time_parse(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, void *f);
/* -m time's final check: inversions folded into the day masks, --contiguous. */
int rules_time_check(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r);
/* Final per-instance checks (mandatory options, kind check). */
int rules_ext_finish(struct rules_pctx *pc, struct rules_ext *x);
/* Append " --opt value ..." of x in iptables-save order. */
void rules_ext_print(struct rules_buf *b, const struct rules_ext *x, int fam);
/* -m policy as iptables-save (list false) or iptables -L [-n] prints it */
void rules_policy_print(struct rules_buf *b, const struct rules_ext *x, int fam, bool list,
	bool numeric);
void rules_ext_free(struct rules_ext *x);
int rules_ext_copy(struct rules_ext *dst, const struct rules_ext *src);

/* ---- scalar parsers shared with the ipset loader ---- */

/* xtables_strtoul semantics: base 0 (0x.., 0..), no sign, whole string. */
bool rules_parse_uint(const char *s, uint64_t max, uint64_t *v);
/* CT's zone options, as libxt_CT prints them (pfx "--zone" or "zone") */
struct rules_t_ct;
void rules_ct_zone_print(struct rules_buf *b, const struct rules_t_ct *c, const char *pfx);
/* Port number or service name of protocol proto ("tcp", NULL for any). */
bool rules_parse_port(const char *s, const char *proto, uint16_t *port);
/* An interface name as xtables_parse_interface takes it, -i's checks
 * (empty, longer than IFNAMSIZ - 1, '/', blanks, quotes refused): name
 * without a trailing '+' (RULES_IFNAME_MAX + 1 bytes written), *wild if
 * it had one (a prefix). */
int rules_parse_ifname(struct rules_perr *pe, int col, const char *arg, char *name, bool *wild);
/* A port as getaddrinfo() reads a service: decimal or a service name. */
bool rules_parse_port_gai(const char *s, uint16_t *port);
/* Protocol number or name (as iptables: numbers, its own names, /etc/protocols). */
bool rules_parse_proto(const char *s, uint8_t *proto);
/* Name iptables-save prints for proto, NULL: print the number. */
const char *rules_proto_name(uint8_t proto);
/* Numeric address of family fam (V4 accepts iptables' short forms "10/8"
 * style "10", "10.1"); no host names. */
bool rules_parse_addr(int fam, const char *s, struct rules_addr *a);
/* "addr[/plen|/mask]" of family fam; non-contiguous masks and names are refused. */
int rules_parse_prefix(struct rules_pctx *pc, int fam, const char *s, struct rules_addr *a,
	uint8_t *plen);
/* Address family of a token: RULES_F_V6 if it has ':', else RULES_F_V4. */
int rules_addr_fam(const char *s);
void rules_addr_mask(int fam, struct rules_addr *a, uint8_t plen);

/* ---- model helpers ---- */

struct rules_chain *rules_chain_get(struct rules_table *t, const char *name);
/* Adds a user chain (sorted position); NULL and errno on allocation failure. */
struct rules_chain *rules_chain_add(struct rules_table *t, const char *name);
void rules_chain_del(struct rules_table *t, struct rules_chain *c);
/* Inserts a copy of *r (ownership of r's arrays moves into the chain). */
int rules_chain_insert(struct rules_chain *c, size_t pos, struct rules_rule *r);
void rules_rule_free(struct rules_rule *r);
int rules_rule_copy(struct rules_rule *dst, const struct rules_rule *src);
/* Family-aware flush of one table (iptables-restore's implicit flush). */
void rules_table_flush(struct rules_table *t, int fam);
/* Removes family fam from the rules of c (rules left without family go). */
void rules_chain_flush(struct rules_chain *c, int fam);
bool rules_chain_name_ok(const char *name, const char **why);
/* Target names that may not be used as chain names. */
bool rules_is_target_name(const char *name);
/* Hooks of the built-in chains of table t (mask of 1 << hook). */
uint8_t rules_table_hooks(enum rules_table_id t);
/* Table index of t within rs (for messages). */
int rules_table_index(const struct rules_ruleset *rs, const struct rules_table *t);

/* Validate one table for the families in fam (after parsing). */
int rules_validate_table(const struct rules_ruleset *rs, enum rules_table_id t, int fam,
	struct rules_perr *pe);

/* rules_ipt_add_rule() without its copy of the ruleset and without the
 * per-rule validation: appends to rs itself, which may hold part of the
 * work after an error. For loaders that build a fresh ruleset, validate it
 * whole and discard it on any error (the YAML loader). */
int rules_ipt_add_rule_into(struct rules_ruleset *rs, enum rules_table_id t, const char *chain,
	int fam, const char *text, const char *name, int line, int col, char *err, size_t errlen);

/* Print helpers shared by ipt_print.c, ipt_list.c and tests: a rule's
 * iptables arguments (leading blank), all of them or the part before the
 * target (selectors and matches) and the target ("-j X ..." / "-g C"). */
void rules_print_rule(struct rules_buf *b, const struct rules_rule *r, int fam);
void rules_print_rule_matches(struct rules_buf *b, const struct rules_rule *r, int fam);
void rules_print_rule_target(struct rules_buf *b, const struct rules_rule *r, int fam);

/* A tcp/udp match as iptables-nft reads it back from the kernel (the native
 * payload form: inverted 0:N ranges become N+1:65535, a full range or an
 * empty flag mask loses its inversion); *out is a shallow copy of x (same
 * for other kinds, unchanged). Returns whether the match is native. */
bool rules_ext_kernel_view(const struct rules_ext *x, struct rules_ext *out);
/* The name iptables prints (-L) for an ICMP (fam RULES_F_V4) or ICMPv6 type
 * and code range, NULL when it has none. */
const char *rules_icmp_name(int fam, uint8_t type, uint8_t code_lo, uint8_t code_hi);

#endif
