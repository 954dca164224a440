/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_prog: a ruleset compiled for the dataplane, and its evaluator.
 *
 * rules_prog_compile() turns a validated ruleset (rules.h) into an
 * immutable program: per family, one flat array of compiled rules in which
 * every chain is a contiguous slice, jumps resolved to chain indexes,
 * interface names resolved to port bitmaps, sets turned into sorted
 * lookup arrays, and (unless disabled) one classifier per chain
 * (rules_cls.h). The program owns copies of everything it reads, so the
 * ruleset can change or go away while workers use it; it is published by
 * pointer swap and freed after an RCU grace period.
 *
 * rules_eval_hook() runs one packet through the tables of one hook in the
 * kernel's order (raw, mangle, nat, filter), with the kernel's traversal
 * semantics: first match, non-terminating targets continue, -j pushes a
 * return point, -g does not, RETURN pops (or falls to the built-in chain's
 * policy), ACCEPT ends the table and the next table of the hook runs,
 * DROP and REJECT end the hook. It never allocates, locks or blocks; it
 * touches only the packet view, the program (read-only) and the calling
 * worker's counters.
 *
 * Per-worker counters: the program numbers every rule and every built-in
 * chain policy; a worker owns an array of p->n_slots rules_counter (the
 * counters, then the token buckets of -m limit) and adds to it without
 * atomics; readers sum the arrays of all workers
 * (rules_prog_fold() writes the sums back into a ruleset for printing).
 *
 * Not in this stage: nat chains are compiled but not traversed (NAT
 * translates nothing yet) and -m state/conntrack match the ct_state the
 * caller sets (RULES_CT_UNTRACKED until connection tracking exists).
 */
#ifndef RP_RULES_PROG_H
#define RP_RULES_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "rules_cls.h"

#define RULES_PORTS_MAX 32   /* interfaces the program can name */
#define RULES_PORT_NONE 0xff /* no input / output interface */
#define RULES_MAX_DEPTH 64   /* chain nesting (the jump stack of a packet) */
#define RULES_MAX_LOGS 4     /* LOG targets remembered per packet and hook */

/* What a packet looks like to the rules; filled by the caller. */
/* A packet's connection, as the caller's tracker sees it: what -m conntrack
 * and -m connbytes look at beyond the state (filled when prog->need_ct). */
struct rules_ct {
	uint8_t proto;
	uint32_t expire_s;            /* seconds left */
	struct rules_addr osrc, odst, rsrc, rdst;
	uint16_t osport, odport, rsport, rdport; /* ICMP: id, type << 8 | code */
	uint64_t pkts[2], bytes[2];   /* original, reply */
};

/* rules_pkt.esp, .ah */
enum { RULES_IPSEC_NONE, RULES_IPSEC_WHOLE, RULES_IPSEC_SHORT };

/* -j SET's change of a set, as the traversal found it: the packet's entry
 * (its addresses and port as the set's type and the target's src/dst
 * flags take them: a host prefix in a hash:net set) */
enum { RULES_SETREQ_ADD, RULES_SETREQ_DEL };
struct rules_set_req {
	char name[RULES_SET_NAME_MAX + 1]; /* the set */
	uint8_t op;          /* RULES_SETREQ_* */
	uint8_t exist;       /* --exist: an entry there gets its timeout again */
	uint8_t type, fam;   /* the set's, as the rule knew it (a set recreated since: dropped) */
	uint32_t timeout;    /* --timeout, or RULES_SET_NO_TIMEOUT: the set's */
	struct rules_set_entry e;
};

struct rules_pkt {
	uint8_t fam;       /* RULES_F_V4 or RULES_F_V6 */
	uint8_t proto;     /* upper-layer protocol (IPv6: after extension headers) */
	uint8_t frag;      /* 1: a non-first fragment (what -f matches) */
	uint8_t l4;        /* 1: sport/dport, tcp_flags, icmp_* are valid */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t ttl;       /* TTL or hop limit */
	uint8_t tos;       /* IPv4 TOS / IPv6 traffic class */
	uint8_t pkttype;   /* enum rules_pkttype */
	uint8_t in_port, out_port; /* port index, RULES_PORT_NONE if none */
	uint16_t sport, dport;     /* host order */
	uint16_t len;      /* length of the IP datagram (-m length) */
	uint32_t mark;
	/* first, with the fields above: what every rule looks at (the rest
	 * is read by the matches that need it) */
	struct rules_addr src, dst;
	uint16_t src_type, dst_type; /* RULES_AT_* of the addresses (addrtype) */
	uint16_t ct_state; /* RULES_CT_* (with SNAT/DNAT) */
	uint8_t ct_status; /* RULES_CTS_* */
	uint8_t ct_dir;    /* 0 original, 1 reply */
	uint8_t ct_mhelper; /* RULES_HELPER_* of the connection's master (-m helper), 0: none */
	uint8_t rpf;       /* RULES_RPF_*: the route back to the source (need_rpf) */
	uint8_t tcp_optlen;
	uint8_t phys_in;   /* -m physdev: the bridge port a bridged packet came in by, in
			      every hook (in_port is none in POSTROUTING); RULES_PORT_NONE:
			      not bridged */
	/* -m esp/ah (need_ipsec), each header on its own (an IPv6 packet may
	 * carry AH then ESP): RULES_IPSEC_* (the header is here whole: ESP
	 * 8 bytes, AH 12; or cut short, which drops the packet as the
	 * kernel's hotdrop); the SPIs, and AH's length byte and reserved field */
	uint8_t esp, ah;
	uint8_t ah_hlen;
	uint16_t ah_res;
	uint32_t esp_spi, ah_spi;
	uint32_t ct_mark;  /* the connection's mark (connmark, CONNMARK) */
	const struct rules_ct *ct; /* NULL: no connection (INVALID, UNTRACKED) */
	uint8_t nat_new;   /* the connection's first packet, still without a binding of
			      this hook's kind: the nat table is traversed */
	/* -m connlimit: the caller counts the connections of key (the masked
	 * address) for match (its index in prog->exts), this one included;
	 * UINT32_MAX when it cannot count (the caller then drops the packet,
	 * as the kernel's hotdrop). NULL: connlimit matches nothing. */
	uint32_t (*connlimit)(void *ctx, uint32_t match, uint8_t fam, const struct rules_addr *key);
	void *connlimit_ctx;
	/* -j SET: the change of a set the rule asks for, handed to the caller
	 * (which queues it for the control thread); NULL: -j SET does nothing */
	void (*set_req)(void *ctx, const struct rules_set_req *req);
	void *set_ctx;
	/* -j TEE: the caller copies the packet as the view has it now (its
	 * TOS and TTL) for the target's gateway, by port oif (RULES_PORT_NONE:
	 * any); NULL: -j TEE does nothing */
	void (*tee)(void *ctx, const struct rules_ext *x, uint8_t oif, const struct rules_pkt *pk);
	void *tee_ctx;
	uint64_t now_us;   /* monotonic clock, read when prog->need_clock (-m limit) */
	int64_t wall_s;    /* wall clock, UTC seconds since 1970, when prog->need_wall (-m time) */
	int32_t tz_west_s; /* the kernel's time zone, seconds west of UTC (-m time --kerneltz) */
	const uint8_t *mac_src; /* NULL: no Ethernet header */
	const uint8_t *tcp_opt; /* TCP options, tcp_optlen bytes */
	const uint8_t *l3p;     /* the IP header and what follows, l3cap bytes (need_payload) */
	uint32_t l3cap;
	uint16_t l4_off;        /* need_payload: the upper-layer header's offset in l3p
				   (after IPv6 extension headers; in a non-first fragment,
				   where it would be) */
	/* set to 1 by a match that could not judge the packet and wants it
	 * dropped (the kernel's hotdrop: -m hashlimit's full table); NULL:
	 * nobody listens */
	uint8_t *hotdrop;
};

/* What the route back to a packet's source says (-m rpfilter, as
 * xt_rpfilter's reverse lookup). */
enum rules_rpf {
	RULES_RPF_NONE,        /* no route, or not a unicast one */
	RULES_RPF_TRUE,        /* matches whatever the flags (0.0.0.0 to broadcast, ::) */
	RULES_RPF_SAME,        /* unicast, through the port it came in by */
	RULES_RPF_OTHER,       /* unicast, through another port */
	RULES_RPF_LOCAL_SAME,  /* the box's own address, on the port it came in by */
	RULES_RPF_LOCAL_OTHER, /* the box's own address, on another port */
	RULES_RPF_LOCAL6,      /* IPv6: the box's own address */
};

/* What running a hook decided. */
enum rules_res {
	RULES_R_ACCEPT,
	RULES_R_DROP,
	RULES_R_REJECT,
};

/* Changes made to the packet view that the caller must write back. */
enum {
	RULES_MOD_MARK = 1 << 0,
	RULES_MOD_TOS = 1 << 1,
	RULES_MOD_TTL = 1 << 2,
	RULES_MOD_CTMARK = 1 << 3, /* ct_mark changed (CONNMARK) */
	RULES_MOD_MSS = 1 << 4,    /* TCPMSS: rules_result.mss, mss_clamp */
	RULES_MOD_TCPF = 1 << 5,   /* the TCP flags (ECN's ECE/CWR) */
	RULES_MOD_ADDR = 1 << 6,   /* the IPv6 source or destination (SNPT/DNPT) */
};

#define RULES_CTEV_NONE 0x8000 /* an event mask no event matches (CT_IPCT_NONE) */
#define RULES_CTEV_EXPNEW 0x4000 /* --expevents new (CT_IPEXP_NEW) */

/* What a CT target gives a packet's new connection (xt_CT's template):
 * copied whole from the rules to the tracker and with a hand-off */
struct rules_ct_tmpl {
	uint8_t helper;  /* CT --helper: RULES_HELPER_* */
	uint8_t tpol;    /* CT --timeout: the policy id (rules_t_ct.tpol), 0: none */
	uint16_t ctev;   /* CT --ctevents: the events reported (CT_IPCT_* bits), 0:
			    all; RULES_CTEV_NONE: none (--expevents alone) */
	/* CT --zone*: the id (low 16 bits) and RULES_ZONE_* flags; 0: the
	 * default zone. The tracker resolves it (rules_zone_ids). */
	uint32_t zone;
};

struct rules_result {
	uint8_t res;         /* enum rules_res */
	uint8_t reject_with; /* enum rules_reject, with RULES_R_REJECT */
	uint8_t mods;        /* RULES_MOD_* */
	uint8_t n_log;       /* LOG targets hit (at most RULES_MAX_LOGS kept) */
	uint8_t notrack;     /* NOTRACK or CT --notrack (raw table) */
	uint8_t ct_set;      /* a NOTRACK or CT target ran: later ones do nothing
				(xt_CT: the packet has its template) */
	struct rules_ct_tmpl ct; /* what that CT target said (zeroes: none) */
	const struct rules_ext *nat; /* the nat table's binding target, or NULL */
	/* TCPMSS (RULES_MOD_MSS): the smallest --set-mss of the rules hit
	 * (0xffff: none), and whether one clamps to the path MTU; the
	 * caller lowers the SYN's MSS option to it (never raises it), as the
	 * targets one after the other would */
	uint16_t mss;
	uint8_t mss_clamp;
	uint8_t npt_fail;    /* SNPT/DNPT found no word to adjust: drop (the kernel sends
				a parameter problem too) */
	uint32_t log_rule[RULES_MAX_LOGS]; /* counter ids of the LOG rules */
	uint32_t log_mark[RULES_MAX_LOGS]; /* the packet's mark as each saw it */
};

/* rules_result.ct.zone's flags: the directions the id is given to, and
 * whether the id is the packet's mark when it is tracked (after the raw
 * table, as the kernel's nf_ct_zone_tmpl reads skb->mark) */
#define RULES_ZONE_ORIG (1u << 16)
#define RULES_ZONE_REPLY (1u << 17)
#define RULES_ZONE_MARK (1u << 18)

/* The zone ids (original, reply) of spec for a packet whose mark is mark:
 * the same spec resolved (the id filled in, no RULES_ZONE_MARK) */
static inline uint32_t rules_zone_ids(uint32_t spec, uint32_t mark, uint16_t *zo, uint16_t *zr)
{
	uint16_t id = (spec & RULES_ZONE_MARK) ? (uint16_t)mark : (uint16_t)spec;
	*zo = (spec & RULES_ZONE_ORIG) ? id : 0;
	*zr = (spec & RULES_ZONE_REPLY) ? id : 0;
	return id | (spec & (RULES_ZONE_ORIG | RULES_ZONE_REPLY));
}

struct rules_counter {
	uint64_t pkts, bytes;
};

/* Target kinds of compiled rules. */
enum rules_ck {
	RULES_CK_NONE,   /* no target (counts only) or a target with no effect here */
	RULES_CK_ACCEPT,
	RULES_CK_DROP,
	RULES_CK_RETURN,
	RULES_CK_JUMP,
	RULES_CK_GOTO,
	RULES_CK_REJECT,
	RULES_CK_LOG,
	RULES_CK_MARK,
	RULES_CK_TOS,
	RULES_CK_NOTRACK,
	RULES_CK_CT,     /* CT (not --notrack): a new connection's helper, the zone */
	RULES_CK_CONNMARK,
	RULES_CK_DSCP,
	RULES_CK_TTL,    /* TTL and HL */
	RULES_CK_NAT,    /* SNAT DNAT MASQUERADE REDIRECT NETMAP: the binding */
	RULES_CK_TCPMSS,
	RULES_CK_SET,    /* -j SET: a request to the caller (set_req), then on */
	RULES_CK_ECN,    /* -j ECN: the IP ECN field, the TCP ECE/CWR bits */
	RULES_CK_SNPT,   /* -j SNPT/DNPT: the source / destination prefix */
	RULES_CK_DNPT,
	RULES_CK_TEE,    /* -j TEE: a copy to the caller (tee), then on; arg: the --oif
			    port, RULES_PORT_NONE (none, or not a port here) */
};

/* Base-selector flags of a compiled rule. */
enum {
	RULES_CF_SRC = 1 << 0,
	RULES_CF_DST = 1 << 1,
	RULES_CF_PROTO = 1 << 2,
	RULES_CF_IN = 1 << 3,
	RULES_CF_OUT = 1 << 4,
	RULES_CF_FRAG = 1 << 5,
};

/* A compiled named set: entries sorted by prefix length (longest first),
 * then address, protocol and port; one group per prefix length. */
#define RULES_CSET_GROUPS 129
struct rules_cset_slot;
struct rules_cset {
	uint8_t type; /* enum rules_set_type */
	uint8_t fam;
	uint16_t n_groups;
	uint32_t n;
	uint8_t has_timeout; /* entries' exp_us are read (the packet's now_us) */
	struct rules_set_entry *e;
	uint8_t *ports; /* bitmap:port without timeout: 65536 bits */
	uint32_t *src;  /* hash types: each entry's index in the ruleset's set */
	/* bitmap:port with timeout: per port of the range, when it expires
	 * (0: not in the set, UINT64_MAX: never) */
	uint64_t *pexp;
	uint16_t range_lo, range_hi;
	uint8_t plen2_max; /* hash:ip,port,net: the longest third-dimension prefix (0: none) */
	uint8_t netmask;   /* bitmap:ip: its netmask and range (host order) */
	uint32_t ip_lo, ip_hi;
	/* list:set: e holds its members in order (their expiry in exp_us),
	 * mem[i] where the program keeps member i's compiled set (NULL: none) */
	const struct rules_cset_slot **mem;
	struct {
		uint32_t first, n;
		uint8_t plen;
	} g[RULES_CSET_GROUPS];
};

/* Where a program keeps a compiled set: the set as the workers see it
 * now (read with acquire). A change of a set's entries alone swaps in a
 * new one (rules_cset_build, release store), and the old one is freed once
 * no worker can hold it (RCU): the rest of the program -- counters, limit
 * buckets, connlimit counts -- goes on untouched, as in the kernel, where
 * an ipset change never touches the rules. */
struct rules_cset_slot {
	struct rules_cset *cur;
};

/* A compiled set of s (malloc'd; NULL on OOM); freed with rules_cset_free.
 * A list:set's members are found by name in rs, whose sets' compiled sets
 * the program keeps in slots (in rs's order); other types ignore both. */
struct rules_cset *rules_cset_build(const struct rules_set *s, const struct rules_ruleset *rs,
	const struct rules_cset_slot *slots);
void rules_cset_free(struct rules_cset *cs);

/* Chains shorter than this are walked rule by rule: a classifier would
 * not pay for its lookup. */
#define RULES_CLS_MIN_RULES 12

struct rules_crule {
	uint8_t flags;  /* RULES_CF_* selectors present */
	uint8_t inv;    /* RULES_INV_* */
	uint8_t proto;
	uint8_t kind;   /* enum rules_ck */
	uint8_t n_match;
	uint8_t hotdrop; /* a match that may drop the packet itself (hashlimit, connlimit) */
	uint32_t ctr;   /* counter id */
	uint32_t arg;   /* JUMP/GOTO: chain index; REJECT: code */
	uint32_t in_ports, out_ports; /* bit i: port i matches */
	struct rules_addr src, smask, dst, dmask;
	const struct rules_ext *match;  /* n_match, owned by the program */
	const struct rules_ext *target; /* target extension or NULL */
	const struct rules_cset_slot *const *sets; /* per match: the set of -m set, else NULL */
};

/* The classifier's projection of a rule in 32 bytes (addresses: the upper
 * 32 bits of the projected ranges), checked before the full rule: it
 * rejects most candidates without touching the rule itself. A superset
 * test, like the classifier; for the plain IPv4 rules it is the whole
 * match (exact), and the rule's own record is then read only when it
 * matches with a target that needs more than kind and ctr. */
struct rules_quick {
	uint32_t src_lo, src_hi, dst_lo, dst_hi;
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;
	uint8_t pr_lo, pr_hi;
	uint8_t kind;  /* the rule's kind and counter, copied */
	uint8_t exact; /* enum rules_qx */
	uint32_t ctr;
};

/* When passing the quick check is the rule's full match. */
enum rules_qx {
	RULES_QX_NO,   /* a superset only: check the rule */
	RULES_QX_YES,  /* exact */
	RULES_QX_L4,   /* exact for a packet with its L4 header (-m tcp/udp) */
};

struct rules_cchain {
	uint32_t first, n;  /* slice of the family's rules */
	int8_t hook;        /* built-in: enum rules_hook; user chain: -1 */
	uint8_t policy;     /* built-in: enum rules_policy */
	uint32_t policy_ctr;
	struct rules_cls *cls; /* NULL: walk every rule */
};

/* What the next compile needs to reuse a chain's classifier (cold data,
 * parallel to rules_fprog.chains): the chain's name and its rules' ids. */
struct rules_cmeta {
	uint8_t table;
	char name[RULES_CHAIN_NAME_MAX + 1];
	uint64_t *ids; /* the model rules' ids, in chain order (n of the chain) */
};

struct rules_fprog {
	uint32_t n_rules, n_chains;
	struct rules_crule *rules;
	struct rules_cmeta *meta;
	struct rules_quick *quick; /* parallel to rules; NULL with RULES_COMPILE_LINEAR */
	struct rules_cchain *chains;
	/* chain index of the built-in chain of table t at hook h, -1 if none */
	int32_t hook_chain[RULES_H_COUNT][RULES_T_COUNT];
	/* a hook is active when a table other than nat is loaded there */
	bool hook_active[RULES_H_COUNT];
	/* the built-in chains a hook traverses, in table order (raw, mangle, filter) */
	uint8_t hook_n[RULES_H_COUNT];
	uint8_t hook_raw[RULES_H_COUNT]; /* 1: hook_seq[h][0] is the raw table's */
	uint8_t hook_nat[RULES_H_COUNT]; /* 1 + position of the nat table in hook_seq, 0: none */
	/* bit part (enum rules_part): every chain that part of the hook
	 * traverses has no rule and an ACCEPT policy, the nat table's aside
	 * (rules_empty_shortcut) */
	uint8_t hook_empty[RULES_H_COUNT];
	/*
	 * The shortcut of the classic first rule: when the only table of hook h
	 * begins with a rule that matches nothing but the connection state
	 * (`-m state --state ESTABLISHED[,RELATED] -j ACCEPT`, or the same with
	 * -m conntrack --ctstate), a packet in one of est_mask's states is
	 * accepted by that rule (counter est_ctr) without looking further:
	 * exactly what the traversal would do. est_mask 0: no shortcut.
	 */
	uint16_t est_mask[RULES_H_COUNT];
	uint32_t est_ctr[RULES_H_COUNT];
	uint32_t hook_seq[RULES_H_COUNT][RULES_T_COUNT];
};

/* Where each counter id came from (for folding sums back into a ruleset). */
struct rules_ctr_src {
	uint8_t table;
	uint8_t fam;    /* policy counters: the family */
	bool policy;
	char chain[RULES_CHAIN_NAME_MAX + 1];
	uint32_t rule;  /* position in the model chain */
};

struct rules_prog {
	struct rules_fprog f[2]; /* [0] IPv4, [1] IPv6 */
	uint32_t n_ctr;
	uint32_t n_slots; /* entries of a worker's counter array: n_ctr and limit state */
	struct rules_ctr_src *ctr_src;
	bool need_addrtype; /* some rule uses -m addrtype: the caller fills src/dst_type */
	bool need_rpf;      /* some rule uses -m rpfilter: the caller fills rpf */
	bool need_clock;    /* some rule uses -m limit: the caller fills now_us */
	bool need_slots;    /* some match keeps per-worker state in the counter array */
	bool need_payload;  /* some rule uses -m string: the caller fills l3p, l3cap */
	bool need_wall;     /* some rule uses -m time: the caller fills wall_s, tz_west_s */
	bool need_mac;      /* some rule uses -m mac: the caller fills mac_src */
	bool need_tcpopt;   /* some rule uses --tcp-option: the caller fills tcp_opt */
	bool need_ipsec;    /* some rule uses -m esp/ah: the caller fills esp, ah, *_spi, ah_* */
	bool need_ct;       /* some rule looks into the connection: the caller fills ct */
	bool uses_ct;       /* some rule needs connection tracking (state, NOTRACK, ...) */
	bool uses_zones;    /* some CT target gives a zone (--zone*, not 0) */
	bool uses_tpol;     /* some CT target gives a timeout policy (--timeout) */
	bool uses_ctev;     /* some CT target limits the events (--ctevents) */
	bool uses_nat;      /* some rule translates (the nat table has a NAT target) */
	bool uses_npt;   /* SNPT/DNPT: addresses rewritten (router mode only) */
	bool uses_connlimit; /* some rule has -m connlimit: the caller counts (connlimit) */
	bool uses_set_target; /* some rule has -j SET: the caller takes requests (set_req) */
	bool uses_tee;        /* some rule has -j TEE: the caller takes copies (tee) */
	/* -m limit keeps its token bucket in the worker's counter array (an
	 * extra slot per limit match); each worker gets rate/limit_share, so
	 * the box as a whole keeps the rule's rate. Set before publishing. */
	uint32_t limit_share;
	/* -m statistic --mode nth: one counter per match, shared by the
	 * workers (compare-and-swap, as xt_statistic's atomic), a cache line
	 * each; indexed by the match's place in exts. NULL: none. */
	struct rules_nth {
		uint32_t count;
		uint8_t pad[60];
	} *nth;
	/* -m quota: each match's rules_m_quota.left (compiled) points at a
	 * struct rules_quota; quota_n of them (for rules_prog_quota_adopt). */
	uint32_t quota_n;
	/* per counter id: the rule's target extension (LOG prefix and level), or NULL */
	const struct rules_ext **ctr_ext;
	/* owned storage */
	struct rules_ext *exts;
	size_t n_exts;
	struct rules_cset_slot *csets; /* one per set of the ruleset, in its order */
	size_t n_csets;
	const struct rules_cset_slot **setrefs; /* parallel to exts */
	uint32_t *ident;  /* 0, 1, 2, ...: the candidates of a chain without classifier */
	uint32_t n_ident;
	/* some chain's classifier covers only its first rules, the others
	 * (appended since) are walked in order: rules_prog_compile_from */
	bool has_tail;
	size_t mem; /* bytes, including classifiers */
};

/*
 * -m quota: the bytes one match has left, for the whole box (xt_quota's
 * one counter under a spinlock). Workers take a packet's length with one
 * compare-and-swap of `left` (rules_eval.c); nothing else on it changes
 * after compile. A cache line each, so two quotas never share one.
 *
 * Life cycle: made by the compile (left = the configured quota, refs 1);
 * rules_prog_quota_adopt() lets the program that replaces another take
 * over the object of the same match of the same rule, so that both
 * programs charge one budget while workers move from the old one to the
 * new one (nothing counted twice or lost) and what was spent stays spent
 * through -A, -D, -I, --noflush and reloads that keep the rule. refs
 * counts the programs holding it; control thread only, like compiling
 * and freeing programs.
 */
struct rules_quota {
	_Alignas(64) uint64_t left;
	uint64_t rule_id; /* rules_rule.id; 0: no identity, never adopted */
	uint64_t quota;   /* configured: adopted only by an equal match */
	uint32_t refs;
	uint8_t fam;      /* RULES_F_V4 or RULES_F_V6 (a rule of both has one per family) */
	uint8_t nth;      /* the rule's first, second, ... quota match */
	uint8_t inv;
};

/*
 * Before p is published in place of old (may be NULL): every quota match
 * of p whose rule (same id, family, place in the rule, quota and
 * inversion) was in old shares old's budget instead of a fresh one. 0 or
 * -ENOMEM (then p keeps fresh budgets: still a working program).
 * Control thread.
 */
int rules_prog_quota_adopt(struct rules_prog *p, const struct rules_prog *old);

enum {
	RULES_COMPILE_LINEAR = 1 << 0, /* no classifiers: the reference evaluator */
};

/*
 * Compile rs. ports[i] names port i (n_ports <= RULES_PORTS_MAX); -i/-o
 * naming no port match nothing, as in the kernel. NULL and err on failure
 * (the ruleset must have passed rules_validate()).
 */
struct rules_prog *rules_prog_compile(const struct rules_ruleset *rs, const char *const *ports,
	unsigned n_ports, unsigned flags, char *err, size_t errlen);
/*
 * The same, reusing what it can of prev (the program being replaced; may
 * be NULL): a chain whose first rules are those (same ids) a classifier of
 * prev was built for keeps that classifier (shared, reference-counted);
 * rules appended after them, RULES_TAIL_MAX at most, are walked in order
 * behind its candidates (has_tail). One -A on a big chain then costs no
 * classifier build; the control thread recompiles without prev later.
 */
#define RULES_TAIL_MAX 32
struct rules_prog *rules_prog_compile_from(const struct rules_ruleset *rs,
	const char *const *ports, unsigned n_ports, unsigned flags, const struct rules_prog *prev,
	char *err, size_t errlen);
void rules_prog_free(struct rules_prog *p);

/* The entry e (exactly: prefix, protocol, ports) in compiled set cs: its
 * index in the ruleset's set (cs->src) and in cs->e (*pos), or -1. *live:
 * whether it is alive at now (timeouts). */
long rules_cset_find(const struct rules_cset *cs, const struct rules_set_entry *e, uint64_t now,
	bool *live, uint32_t *pos);

/* Optional trace of the rules whose target ran, for tests. */
struct rules_trace {
	uint32_t n, cap;
	uint32_t *ctr; /* counter ids, in order (policies included) */
};

/*
 * Run pkt through the tables of hook h. ctr: the calling worker's counter
 * array (prog->n_slots entries, zeroed when the program is published). pkt->mark, tos and ttl may change (see
 * res->mods). tr may be NULL.
 */
void rules_eval_hook(const struct rules_prog *p, enum rules_hook h, struct rules_pkt *pkt,
	struct rules_counter *ctr, struct rules_result *res, struct rules_trace *tr);

/* The same in two parts, for connection tracking between them as in Linux:
 * the raw table of the hook, then the tables after it. */
enum rules_part { RULES_PART_ALL, RULES_PART_RAW, RULES_PART_REST };
void rules_eval_part(const struct rules_prog *p, enum rules_hook h, enum rules_part part,
	struct rules_pkt *pkt, struct rules_counter *ctr, struct rules_result *res,
	struct rules_trace *tr);

/* The shortcut (see est_mask): true if the packet is accepted by it, with
 * the rule's counter counted. */
static inline bool rules_est_shortcut(const struct rules_prog *p, int fam, enum rules_hook h,
	uint16_t ct_state, uint32_t len, struct rules_counter *ctr)
{
	const struct rules_fprog *fp = &p->f[fam == RULES_F_V6];
	if (!(fp->est_mask[h] & ct_state))
		return false;
	ctr[fp->est_ctr[h]].pkts++;
	ctr[fp->est_ctr[h]].bytes += len;
	return true;
}

/*
 * The other shortcut: when every chain the part of hook h traverses
 * (tables [first, end), see rules_eval_part) has no rule and an ACCEPT
 * policy -- the nat table's aside, if the packet does not traverse it
 * (nat: it does) -- the traversal would count each policy and accept:
 * done here, without a packet view.
 */
void rules_empty_count(const struct rules_fprog *fp, enum rules_hook h, enum rules_part part,
	uint32_t len, struct rules_counter *ctr);
/* whether the part of hook h has only such chains (the caller's cheap first test) */
static inline bool rules_hook_empty(const struct rules_prog *p, int fam, enum rules_hook h,
	enum rules_part part)
{
	return (p->f[fam == RULES_F_V6].hook_empty[h] >> part) & 1;
}
/* the shortcut, once rules_hook_empty holds */
static inline bool rules_empty_shortcut(const struct rules_prog *p, int fam, enum rules_hook h,
	enum rules_part part, bool nat, uint32_t len, struct rules_counter *ctr)
{
	const struct rules_fprog *fp = &p->f[fam == RULES_F_V6];
	if (nat && fp->hook_nat[h] && (part != RULES_PART_RAW || fp->hook_nat[h] <= fp->hook_raw[h]))
		return false;
	rules_empty_count(fp, h, part, len, ctr);
	return true;
}

static inline bool rules_hook_active(const struct rules_prog *p, int fam, enum rules_hook h)
{
	return p != NULL && p->f[fam == RULES_F_V6].hook_active[h];
}

/*
 * Add the sums of nw counter arrays into rs's rule and policy counters
 * (rs must be the ruleset the program was compiled from, unchanged).
 */
void rules_prog_fold(const struct rules_prog *p, struct rules_counter *const *ctr, unsigned nw,
	struct rules_ruleset *rs);

#endif
