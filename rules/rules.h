/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules: the ruleset model with Linux iptables semantics.
 *
 * What it is. A ruleset holds the four netfilter tables (raw, mangle, nat,
 * filter), each with its built-in chains and its user-defined chains; a
 * chain holds an ordered array of rules; a rule holds the base selectors
 * of an ip(6)tables rule (addresses, protocol, interfaces, fragment flag),
 * an array of matches, one optional target and its packet/byte counters.
 * The ruleset also owns the named sets that `-m set` refers to.
 *
 * Families. One ruleset holds IPv4 and IPv6 together, the way an nftables
 * `inet` table does, instead of two parallel trees: every rule carries a
 * family mask (RULES_F_V4, RULES_F_V6 or both). An iptables-save file loads
 * as IPv4 rules, an ip6tables-save file as IPv6 rules, and a native (YAML)
 * rule without family-specific selectors is both. A packet only sees the
 * rules of its family, so a chain shared by name behaves as two chains.
 * What the kernel keeps per family stays per family here: built-in chain
 * policies and their counters (policy[fam], pkts[fam]), whether a table or
 * a user chain exists in that family (present/fam masks: iptables-save and
 * ip6tables-save print only what exists in their family), and validation
 * (jumps, loops and hook restrictions are checked per family). A rule of
 * both families has one set of counters (it counts both families).
 *
 * Matches and targets. Both are `struct rules_ext`: a kind (index into one
 * table of extension descriptors, rules_ext.c), bitmasks of the options
 * given and inverted (RULES_O_*), and a union of small plain structs, one
 * per kind, that the classifier reads directly. The descriptor table
 * (rules_ext.c: names, option lists with value types, families, protocol
 * and hook/table restrictions) drives parsing, validation and printing;
 * value types are parsed and printed in rules_ext_val.c. There is no
 * per-extension parser or printer except where iptables itself has a
 * special format.
 *
 * Ownership and threads. Built, validated and printed on the control thread
 * only (or in offline tools: rampartctl convert, tests, fuzzers). A ruleset
 * is a plain tree of heap objects owned by the ruleset: rules_free() frees
 * everything. Loads are transactional: a failed load leaves the ruleset
 * exactly as it was. The dataplane never reads this tree: a later stage
 * compiles it into an immutable classifier published by pointer swap.
 */
#ifndef RP_RULES_H
#define RP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rules_hashlimit.h"

/* Families (masks). */
#define RULES_F_V4 0x1
#define RULES_F_V6 0x2
#define RULES_F_ALL 0x3

enum rules_table_id { RULES_T_RAW, RULES_T_MANGLE, RULES_T_NAT, RULES_T_FILTER, RULES_T_COUNT };

/* Netfilter hooks; built-in chains are named after them. */
enum rules_hook {
	RULES_H_PREROUTING,
	RULES_H_INPUT,
	RULES_H_FORWARD,
	RULES_H_OUTPUT,
	RULES_H_POSTROUTING,
	RULES_H_COUNT
};

#define RULES_CHAIN_NAME_MAX 28 /* XT_EXTENSION_MAXNAMELEN - 1 */
#define RULES_IFNAME_MAX 15     /* IFNAMSIZ - 1 */

/* Big-endian 16- and 32-bit fields of packet bytes (any alignment). */
static inline uint16_t rules_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rules_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void rules_wr32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}
#define RULES_SET_NAME_MAX 31   /* IPSET_MAXNAMELEN - 1 */
#define RULES_COMMENT_MAX 255
#define RULES_LOG_PREFIX_MAX 29
#define RULES_NFLOG_PREFIX_MAX 127
#define RULES_MPORTS_MAX 15
#define RULES_SET_DIM_MAX 6
#define RULES_ERR_MAX 512

enum rules_policy { RULES_POL_ACCEPT, RULES_POL_DROP };

/* An address of either family: IPv4 in the first 4 bytes, network order. */
struct rules_addr {
	uint8_t b[16];
};

struct rules_prange {
	uint16_t lo, hi;
};

/* ---- per-kind data of matches ---- */

struct rules_m_tcp {
	struct rules_prange sport, dport; /* 0:65535 when not given */
	uint8_t flg_mask, flg_cmp;        /* TCP_FIN 0x01 ... TCP_URG 0x20 */
	uint8_t option;
};

struct rules_m_udp {
	struct rules_prange sport, dport;
};

struct rules_m_icmp { /* icmp and icmp6 */
	uint8_t type;           /* 255 with codes 0:255: "any" (icmp only) */
	uint8_t code_lo, code_hi;
};

struct rules_m_mport {
	uint8_t n;                       /* used entries of port[] */
	uint16_t port[RULES_MPORTS_MAX]; /* a range takes two entries */
	uint16_t range;                  /* bit i: port[i]..port[i+1] is a range */
};

struct rules_m_iprange {
	struct rules_addr src_lo, src_hi, dst_lo, dst_hi;
};

struct rules_m_mac {
	uint8_t mac[6];
};

struct rules_m_range16 {
	uint16_t lo, hi;
};

struct rules_m_ttl { /* ttl and hl: which of eq/lt/gt is in present */
	uint8_t value;
};

struct rules_m_tos {
	uint8_t value, mask;
};

struct rules_m_u8 {
	uint8_t value;
};

struct rules_m_mark {
	uint32_t mark, mask;
};

enum rules_pkttype { RULES_PKT_UNICAST = 0, RULES_PKT_BROADCAST = 1, RULES_PKT_MULTICAST = 2, RULES_PKT_OTHERHOST = 3 };

/* addrtype bits, in the kernel's RTN_* order: 1 << RTN_x */
enum {
	RULES_AT_UNSPEC = 1 << 0,
	RULES_AT_UNICAST = 1 << 1,
	RULES_AT_LOCAL = 1 << 2,
	RULES_AT_BROADCAST = 1 << 3,
	RULES_AT_ANYCAST = 1 << 4,
	RULES_AT_MULTICAST = 1 << 5,
	RULES_AT_BLACKHOLE = 1 << 6,
	RULES_AT_UNREACHABLE = 1 << 7,
	RULES_AT_PROHIBIT = 1 << 8,
	RULES_AT_THROW = 1 << 9,
	RULES_AT_NAT = 1 << 10,
	RULES_AT_XRESOLVE = 1 << 11,
};

struct rules_m_addrtype {
	uint16_t src, dst; /* RULES_AT_* masks */
};

struct rules_m_physdev { /* -m physdev: the bridge ports a bridged packet crossed */
	char in[RULES_IFNAME_MAX + 1], out[RULES_IFNAME_MAX + 1]; /* without a trailing '+' */
	uint8_t in_wild, out_wild; /* the name ended in '+': a prefix */
	uint32_t in_ports, out_ports; /* compiled: bit i, port i is named */
};

/* ipv6header --header bits (the kernel's MASK_*) */
enum {
	RULES_IH_PROTO = 1 << 0, RULES_IH_NONE = 1 << 1, RULES_IH_ESP = 1 << 2, RULES_IH_AH = 1 << 3,
	RULES_IH_FRAG = 1 << 4, RULES_IH_ROUTE = 1 << 5, RULES_IH_DST = 1 << 6, RULES_IH_HOP = 1 << 7,
};
#define RULES_IP6_OPTS_MAX 16 /* hbh/dst --*-opts entries (IP6T_OPTS_OPTSNR) */
#define RULES_IP6_RT_ADDRS 16 /* rt --rt-0-addrs entries (IP6T_RT_HOPS) */
struct rules_m_ip6ext { /* -m frag, rt, hbh, dst, ipv6header */
	uint32_t lo, hi;   /* frag --fragid, rt --rt-segsleft (0:4294967295 when not given) */
	uint32_t len;      /* --fraglen, --rt-len, --hbh-len, --dst-len (bytes) */
	uint32_t type;     /* rt --rt-type */
	uint8_t hdrs;      /* ipv6header --header: RULES_IH_* */
	uint8_t n_opts;    /* hbh/dst --*-opts entries */
	uint16_t opts[RULES_IP6_OPTS_MAX]; /* type << 8 | length (0xff: any length) */
	uint8_t *addrs;    /* rt --rt-0-addrs, owned: [0] the count, then the addresses */
};

#define RULES_U32_MAX 11 /* tests, operands per location, ranges (XT_U32_MAXSIZE + 1) */
enum { RULES_U32_AND, RULES_U32_LEFTSH, RULES_U32_RIGHTSH, RULES_U32_AT };
struct rules_u32 { /* -m u32's program, as xt_u32 keeps it */
	uint8_t ntests;
	struct rules_u32_test {
		uint8_t nnums, nvals;
		uint8_t op[RULES_U32_MAX];   /* before num[i], i >= 1: RULES_U32_* */
		uint32_t num[RULES_U32_MAX];
		uint32_t min[RULES_U32_MAX], max[RULES_U32_MAX];
	} t[RULES_U32_MAX];
};
struct rules_m_u32 { /* -m u32 --u32 */
	struct rules_u32 *p; /* owned */
};

#define RULES_SCTP_FLAGS 4 /* chunk types with flags (XT_NUM_SCTP_FLAGS) */
enum { RULES_SCTP_ANY = 1, RULES_SCTP_ALL = 2, RULES_SCTP_ONLY = 4 }; /* SCTP_CHUNK_MATCH_* */
struct rules_m_sctp { /* -m sctp */
	struct rules_prange sport, dport; /* 0:65535 when not given */
	uint8_t mode;                     /* --chunk-types: RULES_SCTP_* */
	uint8_t n_flags;
	struct {
		uint8_t type;             /* as libxt_sctp stores it: its name table's index */
		uint8_t flag, mask;
	} flags[RULES_SCTP_FLAGS];
	uint32_t map[8];                  /* the chunk types named */
};

struct rules_m_str {
	char *s; /* owned, NUL-terminated */
};

struct rules_m_set {
	char name[RULES_SET_NAME_MAX + 1];
	uint8_t dim;  /* number of src/dst directions given */
	uint8_t dirs; /* bit i set: direction i is src, else dst */
	/* -m set's other options (xt_set revision 4): --return-nomatch,
	 * [!] --update-counters, [!] --update-subcounters, [!] --packets-eq,
	 * --packets-lt, --packets-gt and the same for bytes; which are given
	 * is in the ext's present/invert bits (RULES_O_MS_*) */
	uint64_t packets, bytes;
};

/* conntrack states, as printed in this order */
enum {
	RULES_CT_INVALID = 1 << 0,
	RULES_CT_NEW = 1 << 1,
	RULES_CT_RELATED = 1 << 2,
	RULES_CT_ESTABLISHED = 1 << 3,
	RULES_CT_UNTRACKED = 1 << 4,
	RULES_CT_SNAT = 1 << 5,
	RULES_CT_DNAT = 1 << 6,
};
/* conntrack status bits (the kernel's IPS_*), NONE is 0 */
enum {
	RULES_CTS_EXPECTED = 1 << 0,
	RULES_CTS_SEEN_REPLY = 1 << 1,
	RULES_CTS_ASSURED = 1 << 2,
	RULES_CTS_CONFIRMED = 1 << 3,
};

struct rules_hostmask {
	struct rules_addr addr; /* not masked: the kernel masks both sides */
	uint8_t plen;
};

struct rules_m_conntrack {
	uint16_t state, status;
	uint8_t proto;
	uint8_t dir_reply; /* --ctdir: 0 ORIGINAL, 1 REPLY */
	struct rules_hostmask origsrc, origdst, replsrc, repldst;
	struct rules_prange origsrcport, origdstport, replsrcport, repldstport;
	uint32_t expire_lo, expire_hi;
};

/* connbytes: what and which direction (the kernel's XT_CONNBYTES_*) */
enum { RULES_CB_PKTS, RULES_CB_BYTES, RULES_CB_AVGPKT };
enum { RULES_CB_ORIGINAL, RULES_CB_REPLY, RULES_CB_BOTH };
struct rules_m_connbytes {
	uint64_t from, to;
	uint8_t dir, mode;
};

/* connlimit: connections per (masked) source or destination address */
struct rules_m_connlimit {
	uint32_t limit;
	uint8_t mask;  /* prefix length; 0xff: the family's full length */
	uint8_t daddr; /* count by destination (else source) */
	uint8_t upto;  /* match while count <= limit (else count > limit) */
};

struct rules_m_limit {
	uint32_t avg;   /* as the kernel: 1/10000 s per packet */
	uint32_t burst;
};

/* ---- per-kind data of targets ---- */

/* REJECT codes; the names depend on the family (rules_ext.c) */
enum rules_reject {
	RULES_RJ_DEFAULT, /* port unreachable of the packet's family */
	RULES_RJ_TCP_RESET,
	RULES_RJ_NET_UNREACH,   /* v4 */
	RULES_RJ_HOST_UNREACH,  /* v4 */
	RULES_RJ_PROTO_UNREACH, /* v4 */
	RULES_RJ_PORT_UNREACH,  /* v4 */
	RULES_RJ_NET_PROHIB,    /* v4 */
	RULES_RJ_HOST_PROHIB,   /* v4 */
	RULES_RJ_ADMIN_PROHIB,  /* v4 */
	RULES_RJ6_NO_ROUTE,
	RULES_RJ6_ADM_PROHIB,
	RULES_RJ6_ADDR_UNREACH,
	RULES_RJ6_PORT_UNREACH,
	RULES_RJ6_POLICY_FAIL,
	RULES_RJ6_REJECT_ROUTE,
	RULES_RJ_COUNT
};

struct rules_t_reject {
	uint8_t with; /* enum rules_reject */
};

enum {
	RULES_LOG_TCPSEQ = 1 << 0,
	RULES_LOG_TCPOPT = 1 << 1,
	RULES_LOG_IPOPT = 1 << 2,
	RULES_LOG_UID = 1 << 3,
	RULES_LOG_MACDECODE = 1 << 4,
};

struct rules_t_log {
	char *prefix; /* owned, may be NULL */
	uint8_t level; /* syslog level, 4 (warning) by default */
	uint8_t flags;
};

struct rules_t_xmark { /* MARK: mark = (mark & ~mask) ^ value */
	uint32_t value, mask;
};

struct rules_t_tos { /* TOS: tos = (tos & ~mask) ^ value */
	uint8_t value, mask;
};

struct rules_t_ttl { /* TTL and HL: which of set/dec/inc is in present */
	uint8_t value;
};

enum rules_connmark_mode { RULES_CM_SET, RULES_CM_SAVE, RULES_CM_RESTORE };

struct rules_t_connmark {
	uint8_t mode;
	uint8_t shift_dir; /* 0 left, 1 right */
	uint8_t shift_bits;
	uint32_t ctmark, ctmask, nfmask;
};

struct rules_t_nflog {
	char *prefix; /* owned, may be NULL */
	uint16_t group, threshold;
	uint32_t size; /* snaplen when --nflog-size is given */
};

enum {
	RULES_NAT_MAP_IPS = 1 << 0,
	RULES_NAT_PROTO = 1 << 1,
	RULES_NAT_RANDOM = 1 << 2,
	RULES_NAT_PERSISTENT = 1 << 3,
	RULES_NAT_RANDOM_FULLY = 1 << 4,
	RULES_NAT_OFFSET = 1 << 5,
};

/* CT: --notrack, --helper NAME (a connection tracking helper, as the
 * kernel's: ftp for TCP, tftp for UDP, irc for IPv4 TCP) */
enum { RULES_HELPER_NONE, RULES_HELPER_FTP, RULES_HELPER_TFTP, RULES_HELPER_IRC };
struct rules_t_ct {
	char *helper; /* owned, may be NULL */
	uint8_t helper_id; /* RULES_HELPER_*, set by validation */
	/* --zone, --zone-orig, --zone-reply (libxt_CT's one id and flags:
	 * the last id given, the directions of the options given, mark) */
	uint16_t zone;
	uint8_t zone_flags; /* RULES_CTZ_* */
	char *timeout;    /* --timeout: a timeout policy's name (owned, may be NULL) */
	uint8_t tpol;     /* its id (1-based, rules_timeout_policies), set by
			     validation; 0: none, or no registry */
	/* --ctevents: the events the connection reports (bit i: the
	 * kernel's IPCT_* i, CT_IPCT_* in conntrack/ct.h), 0: all;
	 * --expevents: its expectations' (bit 0, new) */
	uint16_t ctevents, expevents;
};

/*
 * CT --timeout's timeout policies: the names a ruleset may give (the
 * kernel's nfct timeout objects; rampart.yaml's conntrack.timeout-policies),
 * each for one protocol and the families it may serve. Process-wide, set
 * before rulesets are loaded (the daemon, its --check); policy i has id
 * p[i].id, or i + 1 if that is 0. Without a registry (offline tools: rampartctl convert) any name
 * is accepted, with id 0. The array is copied (names included); p NULL:
 * no registry again.
 */
struct rules_tpol {
	char name[32];
	uint8_t fams;  /* RULES_F_V4 | RULES_F_V6: the families it serves */
	uint8_t proto; /* the rule's -p it needs; RULES_TPOL_GENERIC: one
			  without a tracker of its own */
	uint8_t id;    /* its id; 0: its place + 1 */
};
#define RULES_TPOL_GENERIC 255
int rules_timeout_policies(const struct rules_tpol *p, unsigned n);
enum {
	RULES_CTZ_ORIG = 1 << 0,  /* --zone-orig given: the original direction's zone */
	RULES_CTZ_REPLY = 1 << 1, /* --zone-reply given */
	RULES_CTZ_MARK = 1 << 2,  /* "mark": the id is the packet's mark (its low 16 bits) */
};

/* -m policy (xt_policy): the IPsec policy a packet was or will be
 * processed by. Kept whole for printing; this box does no IPsec, so
 * "--pol none" matches every packet and "--pol ipsec" none. */
#define RULES_POLICY_ELEMS 4 /* XT_POLICY_MAX_ELEM */
enum { RULES_PE_REQID = 1, RULES_PE_SPI = 2, RULES_PE_PROTO = 4, RULES_PE_MODE = 8,
	RULES_PE_TSRC = 16, RULES_PE_TDST = 32 };
struct rules_policy_elem {
	uint8_t match, invert; /* RULES_PE_* given, inverted */
	uint8_t proto;         /* IPPROTO_ESP, _AH, _COMP */
	uint8_t mode;          /* 0 transport, 1 tunnel */
	uint32_t reqid, spi;
	struct rules_addr tsrc, tdst;
	uint8_t tsrc_plen, tdst_plen;
};
struct rules_ipsec_pol {
	uint8_t dir;    /* 1 in, 2 out (0: not given) */
	uint8_t none;   /* --pol none (else ipsec, the default) */
	uint8_t pol_given, strict;
	uint8_t len;    /* elements (libxt's info->len once checked) */
	uint8_t cur;    /* the element options go to while parsing */
	struct rules_policy_elem e[RULES_POLICY_ELEMS];
};
struct rules_m_policy {
	struct rules_ipsec_pol *p; /* owned */
};

/* -j SET: the packet's entry added to one set and/or deleted from another
 * (xt_SET revision 3 without --map-set) */
#define RULES_SET_NO_TIMEOUT UINT32_MAX /* --timeout not given: the set's */
struct rules_t_set {
	struct rules_m_set add, del; /* dim 0: not given */
	uint32_t timeout;            /* --timeout, or RULES_SET_NO_TIMEOUT */
	uint32_t add_idx, del_idx;   /* the sets' indexes in the ruleset (compile) */
};

struct rules_m_statistic { /* -m statistic */
	uint8_t mode;         /* RULES_STAT_RANDOM, RULES_STAT_NTH */
	uint32_t probability; /* random: p * 2^31, as xt_statistic */
	uint32_t every;       /* nth: n - 1 */
	uint32_t packet;      /* nth: the match's place in each n, 0 .. n - 1 */
};
enum { RULES_STAT_RANDOM, RULES_STAT_NTH };

struct rules_m_string { /* -m string */
	uint8_t *pat;     /* owned: pat[0] the length (1..128), then the bytes */
	char *algo;       /* owned: bm, kmp, fsm */
	uint16_t from, to; /* offsets from the IP header: the window searched */
	uint8_t icase;
};

struct rules_m_time { /* -m time, as xt_time_info */
	uint32_t date_start, date_stop;       /* UTC seconds (or kernel-zone, --kerneltz) */
	uint32_t daytime_start, daytime_stop; /* seconds of the day, 0 .. 86399 */
	uint32_t monthdays;                   /* bit d: day d of the month (1..31) */
	uint8_t weekdays;                     /* bit d: 1 Monday .. 7 Sunday */
	uint8_t flags;                        /* RULES_TIME_* */
};
enum { RULES_TIME_KERNELTZ = 1, RULES_TIME_CONTIGUOUS = 2 }; /* xt_time's flags */
#define RULES_TIME_ALL_MONTHDAYS 0xfffffffeu
#define RULES_TIME_ALL_WEEKDAYS 0xfeu
#define RULES_TIME_MAX_DAYTIME 86399u
#define RULES_TIME_DATE_MAX 0x7fffffffu /* libxt_time's default --datestop (INT_MAX) */
struct rules_m_ecn { /* -m ecn: which tests are in present */
	uint8_t ect; /* --ecn-ip-ect: the IP header's ECN field, 0..3 */
};

struct rules_m_spi { /* -m esp, -m ah */
	uint32_t lo, hi;  /* --espspi / --ahspi range, 0:0xffffffff when not given */
	uint32_t ahlen;   /* ip6tables' ah --ahlen: the header's length in bytes, 0: any */
};

struct rules_recent;
struct rules_m_recent { /* -m recent */
	char *name;             /* owned; NULL: DEFAULT */
	uint32_t seconds, hitcount;
	struct rules_addr mask; /* all ones unless --mask */
	uint8_t flags;          /* RULES_RECENT_* (rules_recent.h), set by validation */
	struct rules_recent *list; /* the list, set when compiled */
};

struct rules_hl_rate { /* --hashlimit-upto/above */
	uint64_t avg;   /* packets: microseconds per packet (libxt_hashlimit's v2 scale);
			   bytes: the cost of 16 bytes (its bytes_to_cost) */
	uint32_t mult;  /* the rate's unit in seconds: the default expiry */
	uint8_t bytes;  /* "b/s", "kb/s", "mb/s" */
};
struct rules_m_hashlimit { /* -m hashlimit */
	char *name;          /* owned */
	struct rules_hl_rate rate;
	uint64_t burst;      /* packets; byte mode: the refills (validation turns the bytes
				given into them, as libxt_hashlimit) */
	uint32_t size, max, gc_interval, expire; /* htable-*, as the kernel keeps them */
	uint32_t interval;   /* --hashlimit-rate-interval, seconds (rate-match: 0 none) */
	uint8_t mode;        /* RULES_HL_* (rules_hashlimit.h) */
	uint8_t srcmask, dstmask; /* prefix lengths; 0xff: the whole address */
	uint8_t above;       /* set by validation: matches over the limit (kernel's INVERT) */
	uint8_t fam;         /* compiled: 4 or 6 */
	struct rules_hl_cfg cfg; /* compiled: what the table's entries are charged with */
	struct rules_hl *tbl; /* compiled: the table (NULL in a rule that shares an earlier
				 rule's: see tc) */
	const struct rules_m_hashlimit *tc; /* compiled: the rule that made the table, whose
					       config every rule of that name uses */
};

struct rules_quota; /* rules_prog.h */
struct rules_m_quota { /* -m quota */
	uint64_t quota;            /* the bytes configured (what -L, -S and save print) */
	struct rules_quota *left;  /* compiled: the bytes left, shared by the workers */
};

struct rules_m_helper { /* -m helper --helper NAME */
	char *name;    /* owned */
	uint8_t ids;   /* the RULES_HELPER_* it names, as bits (set by validation) */
};

struct rules_t_nat { /* SNAT DNAT MASQUERADE REDIRECT NETMAP */
	uint8_t flags;
	struct rules_addr min, max;
	uint16_t port_lo, port_hi, port_base;
};

/* -j ECN: the TCP ECE and CWR bits to set (0 or 1; --ecn-tcp-remove is
 * both 0) and the IP header's ECN codepoint (0..3), each if given */
struct rules_t_ecn {
	uint8_t ece, cwr, ect;
};

/* -j SNPT/DNPT (ip6t_NPT): the inside and outside prefixes (at most /64,
 * nothing set past their length) and the checksum-neutral adjustment
 * (RFC 6296 3.2), computed at load */
struct rules_t_npt {
	struct rules_hostmask src, dst;
	uint16_t adj;
};

/* -j TEE (xt_TEE): the gateway a copy of the packet is routed to, and the
 * port it must leave by (owned, NULL: any) */
struct rules_t_tee {
	struct rules_addr gw;
	char *oif;
};

union rules_ext_data {
	struct rules_m_tcp tcp;
	struct rules_m_udp udp;
	struct rules_m_icmp icmp;
	struct rules_m_mport mport;
	struct rules_m_iprange iprange;
	struct rules_m_mac mac;
	struct rules_m_range16 length;
	struct rules_m_ttl ttl;
	struct rules_m_tos tos;
	struct rules_m_u8 dscp;
	struct rules_m_mark mark;
	struct rules_m_u8 pkttype;
	struct rules_m_addrtype addrtype;
	struct rules_m_physdev physdev;
	struct rules_m_ip6ext ip6;
	struct rules_m_u32 u32;
	struct rules_m_sctp sctp;
	struct rules_m_str comment;
	struct rules_m_set set;
	struct rules_m_conntrack ct; /* conntrack and state */
	struct rules_m_limit limit;
	struct rules_m_connbytes connbytes;
	struct rules_m_connlimit connlimit;
	struct rules_t_reject reject;
	struct rules_t_log log;
	struct rules_t_xmark xmark;
	struct rules_t_tos settos;
	struct rules_m_u8 setdscp;
	struct rules_t_ttl setttl;
	struct rules_t_connmark connmark;
	struct rules_t_nflog nflog;
	struct rules_t_nat nat;
	struct rules_t_ct ctt;
	struct rules_t_ecn ecnt;
	struct rules_t_npt npt;
	struct rules_t_tee tee;
	struct rules_t_set tset;
	struct rules_m_policy policy;
	struct rules_m_helper helper;
	struct rules_m_statistic stat;
	struct rules_m_recent recent;
	struct rules_m_string str;
	struct rules_m_hashlimit hashlimit;
	struct rules_m_time time;
	struct rules_m_ecn ecn;
	struct rules_m_range16 mss; /* -m tcpmss --mss */
	struct rules_m_spi spi;     /* -m esp, -m ah */
	struct rules_m_quota quota;
	uint16_t setmss; /* TCPMSS --set-mss */
};

/* Extension kinds: matches, then targets with a descriptor. */
enum rules_ext_kind {
	RULES_X_TCP,
	RULES_X_UDP,
	RULES_X_ICMP,
	RULES_X_ICMP6,
	RULES_X_MULTIPORT,
	RULES_X_IPRANGE,
	RULES_X_MAC,
	RULES_X_LENGTH,
	RULES_X_TTL,
	RULES_X_HL,
	RULES_X_TOS,
	RULES_X_DSCP,
	RULES_X_MARK,
	RULES_X_PKTTYPE,
	RULES_X_ADDRTYPE,
	RULES_X_COMMENT,
	RULES_X_SET,
	RULES_X_STATE,
	RULES_X_CONNTRACK,
	RULES_X_LIMIT,
	RULES_X_CONNMARK_M, /* -m connmark */
	RULES_X_CONNBYTES,
	RULES_X_CONNLIMIT,
	RULES_X_HELPER,
	RULES_X_RPFILTER,
	RULES_X_STATISTIC,
	RULES_X_RECENT,
	RULES_X_STRING,
	RULES_X_HASHLIMIT,
	RULES_X_TIME,
	RULES_X_ECN,
	RULES_X_TCPMSS_M, /* -m tcpmss */
	RULES_X_ESP,
	RULES_X_AH,
	RULES_X_QUOTA,
	RULES_X_PHYSDEV,
	RULES_X_FRAG,
	RULES_X_RT,
	RULES_X_HBH,
	RULES_X_DST,
	RULES_X_IPV6HEADER,
	RULES_X_U32,
	RULES_X_EUI64,
	RULES_X_SCTP,
	RULES_X_POLICY,
	RULES_X_MATCH_END,
	RULES_X_REJECT = RULES_X_MATCH_END,
	RULES_X_LOG,
	RULES_X_MARK_T,
	RULES_X_TOS_T,
	RULES_X_DSCP_T,
	RULES_X_TTL_T,
	RULES_X_HL_T,
	RULES_X_NOTRACK,
	RULES_X_CT,
	RULES_X_CONNMARK,
	RULES_X_NFLOG,
	RULES_X_SNAT,
	RULES_X_DNAT,
	RULES_X_MASQUERADE,
	RULES_X_REDIRECT,
	RULES_X_NETMAP,
	RULES_X_TCPMSS,
	RULES_X_CHECKSUM,
	RULES_X_SET_T, /* -j SET */
	RULES_X_ECN_T, /* -j ECN (IPv4, mangle) */
	RULES_X_SNPT,  /* -j SNPT, -j DNPT (IPv6 prefix translation, RFC 6296) */
	RULES_X_DNPT,
	RULES_X_TEE,   /* -j TEE (mangle): a copy to a gateway */
	RULES_X_COUNT
};

/*
 * Option ids: bit numbers in rules_ext.present/invert. A kind with a single
 * option uses id 0; the ids below are those whose presence carries meaning
 * beyond the data (everything else has a neutral default in the data:
 * ports 0:65535, masks 0, ...).
 */
enum { RULES_O_SPORT = 0, RULES_O_DPORT = 1, RULES_O_TCP_OPTION = 2, RULES_O_TCP_FLAGS = 3 }; /* tcp, udp */
enum { RULES_O_SPORTS = 0, RULES_O_DPORTS = 1, RULES_O_PORTS = 2 };   /* multiport */
enum { RULES_O_EQ = 0, RULES_O_GT = 1, RULES_O_LT = 2 };             /* ttl, hl */
enum { RULES_O_SRC = 0, RULES_O_DST = 1,                             /* iprange, addrtype */
	RULES_O_LIMIT_IFACE_IN = 2, RULES_O_LIMIT_IFACE_OUT = 3 };
enum {                                                               /* conntrack (state: id 0) */
	RULES_O_CT_STATE, RULES_O_CT_PROTO, RULES_O_CT_ORIGSRC, RULES_O_CT_ORIGDST,
	RULES_O_CT_REPLSRC, RULES_O_CT_REPLDST, RULES_O_CT_ORIGSRCPORT, RULES_O_CT_ORIGDSTPORT,
	RULES_O_CT_REPLSRCPORT, RULES_O_CT_REPLDSTPORT, RULES_O_CT_STATUS, RULES_O_CT_EXPIRE,
	RULES_O_CT_DIR
};
enum { RULES_O_SET = 0, RULES_O_DEC = 1, RULES_O_INC = 2 };          /* TTL, HL targets */
enum { RULES_O_CB_BYTES, RULES_O_CB_DIR, RULES_O_CB_MODE };          /* connbytes */
enum { RULES_O_CL_UPTO, RULES_O_CL_ABOVE, RULES_O_CL_MASK, RULES_O_CL_SADDR,
	RULES_O_CL_DADDR };                                          /* connlimit */
enum { RULES_O_NFLOG_PREFIX, RULES_O_NFLOG_GROUP, RULES_O_NFLOG_SIZE, RULES_O_NFLOG_THRESHOLD,
	RULES_O_NFLOG_RANGE_ };                                      /* NFLOG */
enum { RULES_O_CT_NOTRACK, RULES_O_CT_HELPER, RULES_O_CT_ZONE, RULES_O_CT_ZONE_ORIG,
       RULES_O_CT_ZONE_REPLY, RULES_O_CT_TIMEOUT, RULES_O_CT_CTEVENTS,
       RULES_O_CT_EXPEVENTS };                       /* CT target */
enum { RULES_O_MSS_SET, RULES_O_MSS_CLAMP };                         /* TCPMSS target */
enum { RULES_O_ECNT_REMOVE, RULES_O_ECNT_CWR, RULES_O_ECNT_ECE, RULES_O_ECNT_ECT }; /* ECN target */
enum { RULES_O_NPT_SRC, RULES_O_NPT_DST };                           /* SNPT, DNPT */
enum { RULES_O_TEE_GW, RULES_O_TEE_OIF };                            /* TEE */
enum { RULES_O_TS_ADD, RULES_O_TS_DEL, RULES_O_TS_EXIST, RULES_O_TS_TIMEOUT }; /* SET target */
enum { /* -m set */
	RULES_O_MS_SET = 0, RULES_O_MS_RETURN_NOMATCH, RULES_O_MS_UPD_COUNTERS,
	RULES_O_MS_UPD_SUBCOUNTERS, RULES_O_MS_PK_EQ, RULES_O_MS_PK_LT, RULES_O_MS_PK_GT,
	RULES_O_MS_BY_EQ, RULES_O_MS_BY_LT, RULES_O_MS_BY_GT
};
enum { RULES_O_ST_MODE, RULES_O_ST_PROB, RULES_O_ST_EVERY, RULES_O_ST_PACKET }; /* statistic */
enum { RULES_O_STR_ALGO, RULES_O_STR_FROM, RULES_O_STR_TO, RULES_O_STR_STRING,
	RULES_O_STR_ICASE };                                         /* string */
enum { RULES_O_RC_SET, RULES_O_RC_CHECK, RULES_O_RC_UPDATE, RULES_O_RC_REMOVE, RULES_O_RC_SECONDS,
	RULES_O_RC_REAP, RULES_O_RC_HITCOUNT, RULES_O_RC_TTL, RULES_O_RC_NAME, RULES_O_RC_MASK,
	RULES_O_RC_RSOURCE, RULES_O_RC_RDEST };                      /* recent */
enum { RULES_O_HL_UPTO, RULES_O_HL_ABOVE, RULES_O_HL_MODE, RULES_O_HL_SRCMASK, RULES_O_HL_DSTMASK,
	RULES_O_HL_NAME, RULES_O_HL_BURST, RULES_O_HL_SIZE, RULES_O_HL_MAX, RULES_O_HL_GC,
	RULES_O_HL_EXPIRE, RULES_O_HL_RATEMATCH, RULES_O_HL_INTERVAL };  /* hashlimit */
enum { RULES_O_TM_DATESTART, RULES_O_TM_DATESTOP, RULES_O_TM_TIMESTART, RULES_O_TM_TIMESTOP,
	RULES_O_TM_CONTIGUOUS, RULES_O_TM_MONTHDAYS, RULES_O_TM_WEEKDAYS, RULES_O_TM_LOCALTZ,
	RULES_O_TM_UTC, RULES_O_TM_KERNELTZ };                       /* time (libxt_time's ids) */
enum { RULES_O_ECN_ECE, RULES_O_ECN_CWR, RULES_O_ECN_IP };          /* ecn */
enum { RULES_O_SPI, RULES_O_AH_LEN, RULES_O_AH_RES };               /* esp, ah */
enum { RULES_O_QUOTA };                                              /* quota */
enum { RULES_O_PD_ISIN, RULES_O_PD_IN, RULES_O_PD_ISOUT, RULES_O_PD_OUT,
	RULES_O_PD_BRIDGED };                                        /* physdev */
enum { RULES_O_FR_IDS, RULES_O_FR_LEN, RULES_O_FR_RES, RULES_O_FR_FIRST, RULES_O_FR_MORE,
	RULES_O_FR_LAST };                                           /* frag */
enum { RULES_O_RT_TYPE, RULES_O_RT_SEGS, RULES_O_RT_LEN, RULES_O_RT_RES, RULES_O_RT_ADDRS,
	RULES_O_RT_NSTRICT };                                        /* rt */
enum { RULES_O_OP_LEN, RULES_O_OP_OPTS };                            /* hbh, dst */
enum { RULES_O_SC_SPORT, RULES_O_SC_DPORT, RULES_O_SC_CHUNKS };      /* sctp */
enum { RULES_O_IH_HEADER, RULES_O_IH_SOFT };                         /* ipv6header */
enum { RULES_O_RPF_LOOSE, RULES_O_RPF_VALIDMARK, RULES_O_RPF_ACCEPT_LOCAL,
	RULES_O_RPF_INVERT };                                        /* rpfilter */

/* A match or a target with options (kind-specific data in u). */
struct rules_ext {
	uint8_t kind; /* enum rules_ext_kind */
	uint32_t present;
	uint32_t invert;
	uint16_t col; /* source column of -m / -j, 0 if unknown */
	union rules_ext_data u;
};

enum rules_verdict {
	RULES_V_NONE,   /* no target: the rule only counts */
	RULES_V_ACCEPT,
	RULES_V_DROP,
	RULES_V_RETURN,
	RULES_V_JUMP,   /* -j chain */
	RULES_V_GOTO,   /* -g chain */
	RULES_V_EXT,    /* target extension in ext */
};

struct rules_target {
	uint8_t verdict;
	char chain[RULES_CHAIN_NAME_MAX + 1]; /* JUMP, GOTO */
	uint16_t col;
	struct rules_ext ext; /* EXT */
};

/* Inversion flags of the base selectors. */
enum {
	RULES_INV_SRC = 1 << 0,
	RULES_INV_DST = 1 << 1,
	RULES_INV_IN = 1 << 2,
	RULES_INV_OUT = 1 << 3,
	RULES_INV_PROTO = 1 << 4,
	RULES_INV_FRAG = 1 << 5,
};

struct rules_rule {
	uint8_t fam;   /* RULES_F_* mask, never 0 */
	uint8_t inv;   /* RULES_INV_* */
	bool has_src, has_dst, frag;
	uint8_t proto; /* 0: any */
	uint8_t src_plen, dst_plen;
	struct rules_addr src, dst; /* masked by the prefix */
	/* Interfaces: "" none; wildcard: prefix match on the name without '+' */
	char iniface[RULES_IFNAME_MAX + 2], outiface[RULES_IFNAME_MAX + 2];
	bool in_wild, out_wild;
	uint8_t n_match;
	struct rules_ext *match; /* owned array of n_match */
	struct rules_target target;
	uint64_t pkts, bytes;
	/* Identity across ruleset updates: a rule keeps its id through copies
	 * (edits work on a clone of the live ruleset), so its counters can be
	 * carried to the next program. 0: new (rules_assign_ids gives one). */
	uint64_t id;
	/* Where the rule came from, for validation errors (0: unknown). */
	int line;
	uint16_t col_in, col_out;
};

struct rules_chain {
	char name[RULES_CHAIN_NAME_MAX + 1];
	int8_t hook;   /* built-in: enum rules_hook; user chain: -1 */
	uint8_t fam;   /* families in which the chain exists */
	uint8_t policy[2];          /* built-in, per family (index fam-1 bit) */
	uint64_t pkts[2], bytes[2]; /* built-in policy counters, per family */
	uint8_t ctr_set;            /* families whose policy counters this change set (restore, -P, -Z) */
	size_t n_rules, cap_rules;
	struct rules_rule *rules; /* owned */
	int line;                 /* declaration, 0 if unknown */
};

struct rules_table {
	uint8_t present;   /* families in which the table exists */
	uint8_t n_builtin; /* chains[0..n_builtin-1] are the built-in ones */
	size_t n_chains, cap_chains;
	struct rules_chain *chains; /* built-ins in hook order, then user chains sorted by name */
};

/* Named sets (ipset). */
enum rules_set_type {
	RULES_SET_HASH_IP,      /* ip */
	RULES_SET_HASH_NET,     /* ip/plen */
	RULES_SET_HASH_IP_PORT, /* ip,[proto:]port */
	RULES_SET_HASH_NET_PORT,/* ip/plen,[proto:]port */
	RULES_SET_BITMAP_PORT,  /* port (in a declared range) */
	RULES_SET_HASH_IP_PORT_IP,  /* ip,[proto:]port,ip */
	RULES_SET_HASH_IP_PORT_NET, /* ip,[proto:]port,ip/plen */
	RULES_SET_BITMAP_IP,        /* ip (in a declared range; plen: the set's netmask) */
	RULES_SET_LIST,             /* list:set: other sets, in order (rules_set_member) */
	RULES_SET_TYPE_COUNT
};
/* Types whose second dimension is a port (ip,port and the like). */
/* -j ECN that does exactly what --ecn-tcp-remove does (ECE and CWR to 0,
 * the codepoint left alone): printed so by save and -L, as libipt_ECN */
static inline bool rules_ecn_t_is_remove(const struct rules_ext *x)
{
	uint32_t tcp = 1u << RULES_O_ECNT_ECE | 1u << RULES_O_ECNT_CWR;
	return (x->present & (tcp | 1u << RULES_O_ECNT_ECT)) == tcp && x->u.ecnt.ece == 0 &&
	       x->u.ecnt.cwr == 0;
}

static inline bool rules_set_type_port(uint8_t type)
{
	return type == RULES_SET_HASH_IP_PORT || type == RULES_SET_HASH_NET_PORT ||
	       type == RULES_SET_HASH_IP_PORT_IP || type == RULES_SET_HASH_IP_PORT_NET;
}
/* Types with a third dimension, an address (addr2, plen2). */
static inline bool rules_set_type_3d(uint8_t type)
{
	return type == RULES_SET_HASH_IP_PORT_IP || type == RULES_SET_HASH_IP_PORT_NET;
}

struct rules_set_entry {
	struct rules_addr addr;
	uint8_t plen;
	uint8_t proto; /* port types: 6 tcp (default), 17 udp, ... */
	uint16_t port_lo, port_hi;
	/* hash:net types: an exception ("nomatch"): a packet whose most
	 * specific entry this is does not match (--return-nomatch: does) */
	uint8_t nomatch;
	uint8_t rsv0;  /* zero: entries are compared with memcmp */
	/* sets with timeout support: when the entry expires on the rules'
	 * clock (rules_clock_us); 0: never (ipset's "timeout 0") */
	uint64_t exp_us;
	/* sets with comment support: the entry's comment, as an offset + 1
	 * into its set's cpool (0: none); the control thread's alone */
	uint32_t cmt;
	uint32_t rsv1; /* zero */
	/* hash:ip,port,ip and hash:ip,port,net: the third dimension */
	struct rules_addr addr2;
	uint8_t plen2;
	uint8_t rsv2[7]; /* zero */
};

struct rules_set {
	char name[RULES_SET_NAME_MAX + 1];
	uint8_t type; /* enum rules_set_type */
	uint8_t fam;  /* RULES_F_V4 or RULES_F_V6; bitmap:port: RULES_F_ALL */
	uint8_t dim;  /* dimensions of the type: 1 or 2 */
	uint32_t hashsize, maxelem;
	uint16_t range_lo, range_hi; /* bitmap:port */
	/* bitmap:ip: its range (host order, widened to whole netmask blocks)
	 * and netmask (32: addresses); maxelem is its number of blocks */
	uint32_t ip_lo, ip_hi;
	uint8_t netmask;
	uint8_t has_timeout; /* created with "timeout N": entries expire */
	uint32_t timeout;    /* the default timeout of an entry, seconds (0: never) */
	uint8_t has_comment; /* created with "comment": entries may carry one */
	size_t n, cap;
	struct rules_set_entry *e; /* owned */
	/* the entries' comments, NUL-terminated one after the other (owned;
	 * rules_set_copy keeps only those of live entries) */
	char *cpool;
	size_t cpool_len, cpool_cap;
};
/* The types whose entries may be exceptions ("nomatch"; ipset's
 * IPSET_TYPE_NOMATCH feature) */
static inline bool rules_set_type_nomatch(uint8_t type)
{
	return type == RULES_SET_HASH_NET || type == RULES_SET_HASH_NET_PORT ||
	       type == RULES_SET_HASH_IP_PORT_NET;
}
/* bitmap:ip: is e one of s's blocks (in its range, on its netmask)? */
static inline bool rules_bitmap_ip_holds(const struct rules_set *s, const struct rules_set_entry *e)
{
	uint32_t x = rules_rd32(e->addr.b);
	return e->plen == s->netmask && x >= s->ip_lo && x <= s->ip_hi &&
	       (x & ~(~0u << (32 - s->netmask))) == 0;
}
/* list:set: the name of the set an entry stands for, kept in its two
 * address fields (31 characters and a NUL: what a set name may be), so
 * that comparing, hashing and copying entries needs nothing else. */
static inline void rules_set_member_put(struct rules_set_entry *e, const char *name)
{
	char b[32] = {0};
	memcpy(b, name, strnlen(name, sizeof(b) - 1));
	memcpy(e->addr.b, b, 16);
	memcpy(e->addr2.b, b + 16, 16);
}
static inline void rules_set_member(const struct rules_set_entry *e, char out[32])
{
	memcpy(out, e->addr.b, 16);
	memcpy(out + 16, e->addr2.b, 16);
	out[31] = '\0';
}
/* An entry's comment ("" for none). */
static inline const char *rules_set_entry_comment(const struct rules_set *s,
	const struct rules_set_entry *e)
{
	return e->cmt && s->cpool && e->cmt <= s->cpool_len ? s->cpool + e->cmt - 1 : "";
}
/* Give e (an entry of s, or about to be) the comment c ("" or NULL: none);
 * -ENOMEM. */
int rules_set_entry_set_comment(struct rules_set *s, struct rules_set_entry *e, const char *c);

struct rules_ruleset {
	struct rules_table tables[RULES_T_COUNT];
	size_t n_sets, cap_sets;
	struct rules_set *sets; /* owned, sorted by name */
};

/* ---- life cycle ---- */

/* A new empty ruleset: all tables absent, built-in chains ACCEPT.
 * NULL and errno on allocation failure. Free with rules_free(). */
struct rules_ruleset *rules_new(void);
void rules_free(struct rules_ruleset *rs);
/* Deep copy; NULL and errno on failure. */
struct rules_ruleset *rules_clone(const struct rules_ruleset *rs);
/* Frees dst's contents, moves src's into dst, frees src (now empty). */
void rules_replace(struct rules_ruleset *dst, struct rules_ruleset *src);

const char *rules_table_name(enum rules_table_id t);
int rules_table_by_name(const char *name); /* -1 if unknown */
const char *rules_hook_name(enum rules_hook h);
struct rules_chain *rules_chain_find(struct rules_ruleset *rs, enum rules_table_id t, const char *name);
const struct rules_set *rules_set_find(const struct rules_ruleset *rs, const char *name);
const char *rules_ext_name(enum rules_ext_kind k);

/* ---- iptables text ---- */

enum {
	RULES_LOAD_NOFLUSH = 1 << 0, /* like iptables-restore -n */
	/* load into rs itself, not a copy: on error rs is left half-changed
	 * (for a caller that throws its private copy away then) */
	RULES_LOAD_INPLACE = 1 << 1,
};

/*
 * Load iptables-restore text (fam RULES_F_V4: iptables, RULES_F_V6:
 * ip6tables) into rs, replacing the tables the text names (unless
 * RULES_LOAD_NOFLUSH). Counters in the text are kept. Transactional: on
 * error nothing changes, -EINVAL (or -ENOMEM) is returned and err holds
 * "name:line:col: message".
 */
int rules_ipt_load(struct rules_ruleset *rs, int fam, const char *buf, size_t len, const char *name,
	unsigned flags, char *err, size_t errlen);

/*
 * Parse one rule written as iptables arguments ("-s 10.0.0.1 -p tcp --dport
 * 22 -j ACCEPT", no command) for chain `chain` of table t, and append it
 * (pos < 0) or insert it before rule pos (0-based). fam is RULES_F_V4,
 * RULES_F_V6 or RULES_F_ALL (the family is then narrowed by addresses and
 * family-specific options). Comma-separated -s/-d lists expand into several
 * rules as in iptables. line/col locate the text in its file for messages
 * ("name:line:col+offset: ..."). Transactional like rules_ipt_load.
 */
int rules_ipt_add_rule(struct rules_ruleset *rs, enum rules_table_id t, const char *chain,
	long pos, int fam, const char *text, const char *name, int line, int col, char *err,
	size_t errlen);

enum {
	RULES_PRINT_COUNTERS = 1 << 0, /* like iptables-save -c */
};

/* iptables-save (fam RULES_F_V4) or ip6tables-save (RULES_F_V6) text of rs,
 * without the "# Generated"/"# Completed" lines. Returns a malloc'd string
 * (caller frees), NULL and errno on failure. */
char *rules_ipt_print(const struct rules_ruleset *rs, int fam, unsigned flags);

/* One rule as iptables arguments, as in "-A CHAIN <this>" (family fam). */
char *rules_ipt_print_rule(const struct rules_rule *r, int fam);

/*
 * Load ipset save text ("create NAME TYPE [family inet|inet6] [hashsize N]
 * [maxelem N] [range A-B]" and "add NAME ENTRY" lines) into rs's sets.
 * Transactional; errors as rules_ipt_load. A set that rules refer to cannot
 * be redefined.
 */
int rules_ipset_load(struct rules_ruleset *rs, const char *buf, size_t len, const char *name,
	char *err, size_t errlen);
/* The loader also reads "del NAME ENTRY" (-D: the entry must be there) and
 * "flush NAME" (-F), and with RULES_IPSET_EXCL refuses to add an entry
 * already there (ipset's "it's already added"; a scan: for single changes). */
#define RULES_IPSET_EXCL 1u
int rules_ipset_change(struct rules_ruleset *rs, const char *buf, size_t len, const char *name,
	unsigned flags, char *err, size_t errlen);
/* `ipset save` text of one set (name) or of all (NULL): "create" and "add"
 * lines, which rules_ipset_load reads back. malloc'd; NULL with errno
 * (ENOENT: no such set). */
char *rules_ipset_print(const struct rules_ruleset *rs, const char *name);
const char *rules_set_type_name(uint8_t type);
/* ipset test: is entry (as ipset writes it) in set name at now -- an
 * address in any prefix that holds it, a prefix exactly? 1 yes, 0 no,
 * -EINVAL with err (no such set, a bad entry). */
int rules_ipset_test(const struct rules_ruleset *rs, const char *name, const char *entry,
	uint64_t now, char *err, size_t errlen);
/* ipset's largest timeout, seconds (IPSET_MAX_TIMEOUT) */
#define RULES_SET_TIMEOUT_MAX 2147483u
/* Do a and b name the same element (prefix, protocol, ports; not the expiry)? */
static inline bool rules_set_entry_same(const struct rules_set_entry *a,
	const struct rules_set_entry *b)
{
	return memcmp(a->addr.b, b->addr.b, 16) == 0 && a->plen == b->plen && a->proto == b->proto &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       memcmp(a->addr2.b, b->addr2.b, 16) == 0 && a->plen2 == b->plen2;
}
/* A hash of e's element (the fields rules_set_entry_same compares, not the
 * struct's padding), FNV-1a continued from seed (0: a fresh one). */
static inline uint64_t rules_set_entry_hash(const struct rules_set_entry *e, uint64_t seed)
{
	uint64_t h = seed ? seed : 0xcbf29ce484222325ull;
	uint8_t k[39];
	memcpy(k, e->addr.b, 16);
	k[16] = e->plen;
	k[17] = e->proto;
	memcpy(k + 18, &e->port_lo, 2);
	memcpy(k + 20, &e->port_hi, 2);
	memcpy(k + 22, e->addr2.b, 16);
	k[38] = e->plen2;
	for (size_t i = 0; i < sizeof(k); i++)
		h = (h ^ k[i]) * 0x100000001b3ull;
	return h;
}
/* Is entry e of a set alive at now (rules_clock_us)? */
static inline bool rules_set_entry_live(const struct rules_set_entry *e, uint64_t now)
{
	return e->exp_us == 0 || now < e->exp_us;
}
/* Whole seconds an entry has left, as ipset lists it (0: never expires; a
 * live entry with less than a second left: 1) */
static inline uint64_t rules_set_entry_left(const struct rules_set_entry *e, uint64_t now)
{
	if (e->exp_us == 0)
		return 0;
	uint64_t s = e->exp_us > now ? (e->exp_us - now) / 1000000u : 0;
	return s ? s : 1;
}
/* When an entry of set s added at now with timeout t (seconds;
 * RULES_SET_NO_TIMEOUT: the set's; at most RULES_SET_TIMEOUT_MAX, as the
 * kernel clamps it) expires: 0 (never) in a set without timeouts or
 * for t 0. */
static inline uint64_t rules_set_exp(const struct rules_set *s, uint32_t t, uint64_t now)
{
	if (!s->has_timeout)
		return 0;
	if (t == RULES_SET_NO_TIMEOUT)
		t = s->timeout;
	if (t > RULES_SET_TIMEOUT_MAX)
		t = RULES_SET_TIMEOUT_MAX;
	return t ? now + (uint64_t)t * 1000000u : 0;
}
/* Entries of timeout sets expired at now: how many there are, and how
 * often they should be taken out (seconds: ipset's garbage collection
 * period, a third of the set's timeout, 1 to 180); 0 when none. */
size_t rules_ipset_expired(const struct rules_ruleset *rs, uint64_t now, uint32_t *period_s);
/* A reload keeps what packets and commands put in timeout sets: each set
 * of dst with timeouts that live has too (same type, family, range) gets
 * live's entries still alive at now that dst does not list (dst's own win;
 * up to maxelem). How many were kept, or -ENOMEM. */
long rules_ipset_keep_live(struct rules_ruleset *dst, const struct rules_ruleset *live,
	uint64_t now);
/* A deep copy of src into dst (0, or -ENOMEM); rules_set_release frees
 * what dst holds. */
int rules_set_copy(struct rules_set *dst, const struct rules_set *src);
void rules_set_release(struct rules_set *s);
/* a and b (sets of one kind) exchange their entries and comments */
static inline void rules_set_swap_entries(struct rules_set *a, struct rules_set *b)
{
	struct rules_set t = *a;
	a->e = b->e;
	a->n = b->n;
	a->cap = b->cap;
	a->cpool = b->cpool;
	a->cpool_len = b->cpool_len;
	a->cpool_cap = b->cpool_cap;
	b->e = t.e;
	b->n = t.n;
	b->cap = t.cap;
	b->cpool = t.cpool;
	b->cpool_len = t.cpool_len;
	b->cpool_cap = t.cpool_cap;
}
/* One set: its entries expired at now taken out (in order); how many. */
size_t rules_set_purge(struct rules_set *set, uint64_t now);
/* e appended to set: its index, -1 when the set holds max entries already
 * (or 2^24) or on OOM. */
long rules_set_append(struct rules_set *set, const struct rules_set_entry *e, size_t max);
/* Take the entries expired at now out of every set; how many. */
size_t rules_ipset_purge(struct rules_ruleset *rs, uint64_t now);

/* The clock of set timeouts (and of the rules' other times), microseconds:
 * fn (the dataplane's, rte_rdtsc() based, as workers read it) once set,
 * else CLOCK_MONOTONIC. Set before rulesets are loaded. */
void rules_clock_set(uint64_t (*fn)(void));
uint64_t rules_clock_us(void);
uint64_t rules_clock_mono_us(void); /* CLOCK_MONOTONIC, the clock before one is set */
/* Expiry times of rs's entries read on a clock that says from_now moved
 * to one that says to_now at the same instant (a ruleset loaded before
 * the dataplane's clock was set). */
void rules_ipset_rebase(struct rules_ruleset *rs, uint64_t from_now, uint64_t to_now);

/* ---- YAML (the native format, docs/rulesets.md) ---- */

/*
 * Load a YAML ruleset (sets, tables, chains, policies, rules as iptables
 * strings or structured maps) into rs, replacing its contents. Both
 * families; transactional; errors "name:line:col: message", -EINVAL.
 */
int rules_yaml_load(struct rules_ruleset *rs, const char *buf, size_t len, const char *name,
	char *err, size_t errlen);
/* The ruleset as YAML (rules as iptables strings); malloc'd, NULL on OOM.
 * rules_yaml_load() of the text gives the same ruleset. */
char *rules_yaml_print(const struct rules_ruleset *rs, unsigned flags);

/* ---- identity of rules across updates (counters survive changes) ---- */

/* Give every rule without an id (new ones) a fresh one from *next. */
void rules_assign_ids(struct rules_ruleset *rs, uint64_t *next);
/* A ruleset loaded from a file: each rule without an id takes the id of a
 * rule of old that prints identically in the same table and chain (the
 * k-th copy of a text takes the k-th copy's), so unchanged rules keep
 * their counters. 0, or -ENOMEM (then some rules simply start from zero). */
int rules_inherit_ids(struct rules_ruleset *rs, const struct rules_ruleset *old);
/* rs replaces old: each rule whose id is in old takes old's counters, and
 * built-in chains take old's policy counters except in the families whose
 * counters this change set (ctr_set, then cleared). old may be NULL. */
void rules_carry_counters(struct rules_ruleset *rs, const struct rules_ruleset *old);

/* Check the whole ruleset (jumps, loops, hook and table restrictions of
 * every rule through the chains that reach it). 0 or -EINVAL with err. */
int rules_validate(const struct rules_ruleset *rs, const char *name, char *err, size_t errlen);

/* ---- LOG ---- */

/*
 * One line as the kernel's LOG target writes it (without the kernel's
 * timestamp): "<prefix>IN=<in> OUT=<out> MAC=... SRC=... DST=... LEN=...".
 * fam RULES_F_V4 or RULES_F_V6; in/out interface names ("" for none); mac
 * the 14-byte Ethernet header or NULL (no MAC= field, as for OUTPUT); ip
 * the IP header with len bytes available (a snap of the packet: the
 * packet's length, for the kernel's "INCOMPLETE [n bytes]" counts, is the
 * one its IP header declares; a header cut off prints what the kernel
 * prints for a packet that short); flags RULES_LOG_*; mark the packet's
 * mark when the LOG rule saw it ("MARK=0x..." at the end, when not 0).
 * snprintf semantics: writes at most
 * size bytes including the NUL, returns the length it wanted. Never reads
 * outside ip[0..len).
 */
int rules_log_format(char *buf, size_t size, const char *prefix, const char *in, const char *out,
	const uint8_t *mac, const uint8_t *ip, size_t len, int fam, unsigned flags, uint32_t mark);

#endif
