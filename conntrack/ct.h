/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct: connection tracking with Linux nf_conntrack's semantics, one table per
 * worker core.
 *
 * A table belongs to one worker: lookups, inserts, the trackers and expiry
 * run on that worker only, without locks or atomics. The control thread
 * reads tables (listing, statistics) only through the owning worker (a
 * message on its ring), never directly.
 *
 * Entries live in one array of cache lines (struct ct_entry, 64 bytes),
 * their protocols' state (union ct_pstate: TCP's window, SCTP's tags, 48
 * bytes) in another, so that a packet that needs no window (UDP, and
 * whatever finds no entry) reads one line of its entry; both directions
 * are indexed (node = index << 1 | direction) in an array of 64-byte
 * buckets of 10 slots, each a 16-bit signature of the hash and a node, with
 * linear probing to the next bucket when one is full (each bucket counts
 * the nodes that went past it, so lookups stop early and deletions need no
 * tombstones). A lookup reads one bucket line and, through the signature,
 * only the entry line that matches: no chain of entries to walk. The buckets are
 * sized for 80% of the slots at most, 16 bytes per connection: with the
 * entry's 112, 128 bytes. IPv4 addresses are in the entry; IPv6 ones in a side
 * array of 64-byte records (struct ct_addr6).
 *
 * Time is in ticks of 1/16 s (CT_HZ), a 32-bit count that wraps after 8.5
 * years. Expiry uses a timer wheel of CT_WHEEL slots (64 s): an entry sits
 * in the slot of its expiry time modulo the wheel; a refreshed entry stays
 * where it is and is moved when its slot comes up (lazy, so a packet never
 * touches the wheel). ct_expire() does a bounded amount of that work per
 * call. Deleted entries leave the hash at once and are reclaimed by the
 * wheel (or by early drop when the table is full).
 *
 * A packet's way: ct_in() at PREROUTING (after the raw table) or OUTPUT
 * looks the packet up, runs the protocol tracker and gives the state rules
 * see. A first packet gets an unconfirmed entry, not yet in the hash;
 * ct_confirm() at the end of POSTROUTING or INPUT inserts it, as the kernel
 * confirms there. A packet dropped on the way leaves its unconfirmed entry
 * behind: the next ct_in() (or ct_abort()) frees it.
 *
 * No DPDK here: unit tests drive it with synthetic packets.
 */
#ifndef RP_CT_H
#define RP_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct ct_expect;

#define CT_HZ 16u
#define CT_HELP_MAP 4096u /* helper state slots per table (3/4 usable) */
#define CT_HELP_EXP_MAX 8u /* expectations a control connection holds at most
			      (IRC's max_dcc_channels; FTP, TFTP: 1) */
#define CT_WHEEL 1024u /* slots of one tick: a 64 s wheel */
#define CT_NIL UINT32_MAX

/* TCP states, as the kernel numbers and names them */
enum ct_tcp_state {
	CT_TCP_NONE,
	CT_TCP_SYN_SENT,
	CT_TCP_SYN_RECV,
	CT_TCP_ESTABLISHED,
	CT_TCP_FIN_WAIT,
	CT_TCP_CLOSE_WAIT,
	CT_TCP_LAST_ACK,
	CT_TCP_TIME_WAIT,
	CT_TCP_CLOSE,
	CT_TCP_SYN_SENT2,
	CT_TCP_MAX,
	CT_TCP_IGNORE = CT_TCP_MAX, /* transition results, never stored */
	CT_TCP_INVALID,
};

/* timeouts, in seconds; index into struct ct_params.to */
enum ct_timeout {
	CT_TO_TCP_SYN_SENT,
	CT_TO_TCP_SYN_RECV,
	CT_TO_TCP_ESTABLISHED,
	CT_TO_TCP_FIN_WAIT,
	CT_TO_TCP_CLOSE_WAIT,
	CT_TO_TCP_LAST_ACK,
	CT_TO_TCP_TIME_WAIT,
	CT_TO_TCP_CLOSE,
	CT_TO_TCP_SYN_SENT2,
	CT_TO_TCP_RETRANS,
	CT_TO_TCP_UNACK,
	CT_TO_UDP,
	CT_TO_UDP_STREAM,
	CT_TO_ICMP,
	CT_TO_ICMPV6,
	CT_TO_GENERIC,
	/* SCTP, by state (CT_TO_SCTP_CLOSED + state - CT_SCTP_CLOSED) */
	CT_TO_SCTP_CLOSED,
	CT_TO_SCTP_COOKIE_WAIT,
	CT_TO_SCTP_COOKIE_ECHOED,
	CT_TO_SCTP_ESTABLISHED,
	CT_TO_SCTP_SHUTDOWN_SENT,
	CT_TO_SCTP_SHUTDOWN_RECD,
	CT_TO_SCTP_SHUTDOWN_ACK_SENT,
	CT_TO_SCTP_HEARTBEAT_SENT,
	CT_TO_GRE,        /* unreplied */
	CT_TO_GRE_STREAM, /* replied (ASSURED) */
	CT_TO_COUNT
};

/* SCTP association states, as the kernel numbers and names them
 * (nf_conntrack_proto_sctp.c); kept where TCP keeps its state */
enum ct_sctp_state {
	CT_SCTP_NONE,
	CT_SCTP_CLOSED,
	CT_SCTP_COOKIE_WAIT,
	CT_SCTP_COOKIE_ECHOED,
	CT_SCTP_ESTABLISHED,
	CT_SCTP_SHUTDOWN_SENT,
	CT_SCTP_SHUTDOWN_RECD,
	CT_SCTP_SHUTDOWN_ACK_SENT,
	CT_SCTP_HEARTBEAT_SENT,
	CT_SCTP_MAX,
};

/* Tunables. The control thread may change timeouts and flags while workers
 * run (single 32-bit stores); a change applies from each entry's next
 * packet, as a sysctl change does in Linux. */
#define CT_TPOL_MAX 16 /* CT --timeout policies at a time */
#define CT_TPOL_IDS 64 /* policy ids since the start (each a policy for good) */
#define CT_TPOL_GENERIC 255 /* a policy's protocol: those without a tracker (nfct's generic) */
struct ct_params {
	uint32_t max;          /* entries per table */
	uint32_t max6;         /* IPv6 address records per table */
	uint32_t to[CT_TO_COUNT];
	uint8_t tcp_loose;      /* pick up established connections */
	uint8_t tcp_be_liberal; /* only out-of-window RSTs are INVALID */
	uint8_t tcp_max_retrans;
	uint8_t tcp_ignore_invalid_rst;
	uint8_t checksum;       /* bad L4 checksums are INVALID (PREROUTING) */
	/* CT --timeout's policies (conntrack.timeout-policies; the kernel's
	 * nfct timeout objects): policy id i + 1's timeouts, all of them,
	 * those the policy does not give taken from to[] as it loads (a
	 * configuration's: its policy i is ct.tpol[i]; the dataplane's: ids
	 * as rp_tpol_reload gives them, a removed policy's the table's);
	 * last, so that the fields above share their cache lines */
	uint32_t n_tpol;
	uint32_t tpol[CT_TPOL_IDS][CT_TO_COUNT];
};

/* The kernel's defaults (nf_conntrack_*_timeout). */
void ct_params_default(struct ct_params *p);
extern const char *const ct_timeout_names[CT_TO_COUNT]; /* "tcp-established", ... */
extern const char *const ct_tcp_state_names[CT_TCP_MAX]; /* "ESTABLISHED", ... */
extern const char *const ct_sctp_state_names[CT_SCTP_MAX]; /* "COOKIE_WAIT", ... */

/* status bits (the kernel's IPS_*; the first four as RULES_CTS_*) */
enum {
	CT_S_EXPECTED = 1 << 0,
	CT_S_SEEN_REPLY = 1 << 1,
	CT_S_ASSURED = 1 << 2,
	CT_S_CONFIRMED = 1 << 3,
	CT_S_SRC_NAT = 1 << 4,
	CT_S_DST_NAT = 1 << 5,
	CT_S_WHEEL = 1 << 6, /* on a wheel list (internal) */
	CT_S_DYING = 1 << 7, /* out of the hash, waiting for the wheel */
};

/* packet states (as RULES_CT_*) */
enum {
	CT_INVALID = 1 << 0,
	CT_NEW = 1 << 1,
	CT_RELATED = 1 << 2,
	CT_ESTABLISHED = 1 << 3,
	CT_UNTRACKED = 1 << 4,
};

/* TCP per-direction flags (the kernel's IP_CT_TCP_FLAG_*) */
enum {
	CT_TF_WINDOW_SCALE = 0x01,
	CT_TF_SACK_PERM = 0x02,
	CT_TF_CLOSE_INIT = 0x04,
	CT_TF_BE_LIBERAL = 0x08,
	CT_TF_DATA_UNACK = 0x10,
	CT_TF_MAXACK_SET = 0x20,
};

struct ct_tcp {
	uint32_t end[2], maxend[2], maxwin[2], maxack[2];
	uint32_t last_end, last_ack;
	uint16_t last_win;
	uint8_t scale[2], flags[2];
	uint8_t last;   /* last_dir:1 | last_index:3 << 1 | retrans:4 << 4 */
	uint8_t last_x; /* last_wscale:4 | last_flags:4 << 4 */
};

/* SCTP: the verification tags each direction's packets carry (network
 * order), the INITs seen, a HEARTBEAT whose tag did not match. */
struct ct_sctp {
	uint32_t vtag[2];
	uint8_t init;     /* bit d: an INIT seen in direction d */
	uint8_t hb_fail;  /* the kernel's SCTP_FLAG_HEARTBEAT_VTAG_FAILED */
	uint8_t last_dir; /* of that HEARTBEAT */
};

/* The part of a connection's state that its protocol's tracking alone
 * reads (48 bytes): in its own array (ct_table.px, ct_ps()), so that
 * struct ct_entry is one cache line. */
union ct_pstate {
	struct ct_tcp tcp;
	struct ct_sctp sctp;
	struct {
		uint32_t mark; /* UDP, UDP-Lite: the connmark (ct_mark()) */
	} udp;
};

/* One connection: both tuples, state, accounting -- one cache line (64
 * bytes, aligned), all that the established lane reads and writes of a
 * UDP stream (and of a TCP connection but its window: ct_ps()). With its
 * 48 bytes of union ct_pstate, 112 bytes. */
struct ct_entry {
	union {
		uint32_t a4[4]; /* orig src, orig dst, reply src, reply dst (network order) */
		uint32_t x6;    /* IPv6: index of the struct ct_addr6 */
	} a __attribute__((aligned(64)));
	uint16_t port[4];   /* orig sport, dport, reply sport, dport (host order);
			       ICMP: id, type << 8 | code */
	uint8_t proto, fam, status;
	uint8_t ps;         /* TCP: enum ct_tcp_state, SCTP: enum ct_sctp_state
			       (low 4 bits); the helper
			       (enum ct_helper, bits 4-5) and the master's helper
			       (bits 6-7): ct_tcp_state(), ct_helper(),
			       ct_master_helper() */
	uint32_t expire;    /* tick */
	uint32_t tnext;     /* wheel slot list / free list */
	/* the connmark; UDP and UDP-Lite: the tick after which the flow is
	 * a stream (stream_ts), their connmark in the ct_pstate, which the
	 * established lane never reads. Read with ct_mark() (set with
	 * ct_mark_set()); in a copy (an event's, a listing's), the mark
	 * (ct_entry_copy()). */
	uint32_t mts;
	uint32_t pk_lo[2];  /* accounting per direction: packets (40 bits) */
	uint64_t by[2];     /* bytes (low 56 bits) | packets >> 32 << 56 */
};

#define CT_BSLOTS 10
struct ct_bucket {
	uint16_t sig[CT_BSLOTS];   /* 0: free slot */
	uint32_t node[CT_BSLOTS];
	uint32_t passed;           /* nodes stored beyond this bucket that probed it */
};

struct ct_addr6 {
	uint8_t a[4][16]; /* orig src, orig dst, reply src, reply dst */
};

/* A packet's tuple: what the hash indexes. Addresses in network order (v4
 * in the first 4 bytes, the rest zero), ports in host order.
 *
 * Zones (-j CT --zone, --zone-orig, --zone-reply: nf_conntrack_zones):
 * zo and zr are the zone ids the packet's connection has in its original
 * and reply directions (0: the default zone; --zone N gives N to both,
 * --zone-orig N to the original direction only); zone is the id this
 * tuple is hashed and compared with. A node (entry, direction d) holds
 * tuple k when the addresses, ports and protocol are equal and the entry's
 * id in direction d, the key's id for d (zo or zr) and k's zone are one
 * (the kernel's nf_ct_key_equal; a key with zo != zr is looked up twice,
 * with zone = zo, then zr, as resolve_normal_ct does). All three 0 when
 * no zone is in use. */
struct ct_tuple {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto, fam;
	uint16_t zone, zo, zr;
};

/* An entry's zones as ct_table.zn keeps them */
static inline uint32_t ct_zone_pack(uint16_t zo, uint16_t zr)
{
	return (uint32_t)zo | (uint32_t)zr << 16;
}

/* The zone id of k's connection, whichever direction has it (an
 * expectation's: the kernel's nf_ct_zone_equal_any) */
static inline uint16_t ct_zone_id(const struct ct_tuple *k)
{
	return k->zo ? k->zo : k->zr;
}

/* What the tracker needs of a packet; the caller fills it from its parser. */
struct ct_pkt {
	struct ct_tuple t;
	const uint8_t *l3;    /* IP header */
	const uint8_t *l4;    /* L4 header (TCP: at least 20 bytes present) */
	uint32_t l4_len;      /* L4 bytes in the datagram (from the IP length) */
	uint32_t l4_cap;      /* L4 bytes present in the buffer */
	uint32_t len;         /* IP datagram length, for accounting */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t l4_ok;        /* ports/flags/types valid (not a non-first fragment) */
	uint8_t icmp_err;     /* an ICMP/ICMPv6 error: inner packet at l4 + 8 */
	uint8_t csum_bad;     /* the caller found the L4 checksum wrong */
	uint8_t helper;       /* enum ct_helper for a new connection (CT --helper) */
	uint8_t tpol;         /* CT --timeout: a new connection's policy id, 0 none */
	uint16_t ctev;        /* CT --ctevents: a new connection's CT_IPCT_* mask, 0 all */
	uint32_t h_rep;       /* ct_hash_reply(&t) if the caller has it, else 0 */
	uint32_t hint;        /* a node that may hold the tuple (ct_prefetch_entry's
				 candidate), taken if it does (ct_hint_holds): any
				 value is safe, CT_NIL none */
};

/* What ct_in decided. */
struct ct_res {
	uint32_t idx;   /* entry, CT_NIL: none (INVALID, UNTRACKED) */
	uint8_t dir;    /* 0 original, 1 reply */
	uint8_t state;  /* CT_NEW ... */
	uint8_t fresh;  /* the entry is unconfirmed: ct_confirm() inserts it */
	uint8_t drop;   /* table full: drop the packet (counted) */
	uint8_t miss;   /* with CT_IN_ASK: no entry here and the packet cannot
			   start one: its connection may live on another worker */
	uint8_t helper; /* the entry's helper (enum ct_helper): ct_help() reads
			   its accepted packets */
	uint8_t follow; /* fresh and expected by a translated control
			   connection (nf_nat_follow_master; no nat table):
			   1: destination NAT to follow_addr:follow_port,
			   2: source NAT to follow_src (bits) */
	uint8_t rep_free; /* fresh: NAT's source step found its reply tuple
			     free (ct_reply_taken, or a binding's look), so
			     ct_confirm need not look again */
	uint16_t follow_port;
	uint32_t h[2];  /* fresh: the hashes of both tuples, for ct_confirm */
	uint8_t follow_addr[16];
	uint8_t follow_src[16];
};

/* ct_in flags */
#define CT_IN_ASK 1u /* other workers may hold the connection: report misses
			of packets that cannot start one (replies, ICMP errors,
			TCP segments other than a SYN) instead of judging them */
#define CT_IN_ASK_ALL 2u /* report the miss of a packet that could start a
			    connection too (a NAT reply may look like one) */

struct ct_stats {
	uint64_t found, new_, invalid, ignore, insert_failed, early_drop, drop, expired,
		related, untracked;
	/* helpers: expectations made, not made (no free slot), refused (an
	 * address that is not the announcing side's), used by a connection */
	uint64_t expect_new, expect_full, expect_refused, expect_match;
	/* helpers: no room for a connection's state; NAT rewrote an
	 * announcement (nf_nat_ftp); a packet dropped because it could not
	 * be (no room in the buffer, no free port) */
	uint64_t help_full, help_mangled, help_drop;
};

/*
 * Live source-translated connections per public address and protocol,
 * kept as connections are confirmed and die (the metrics' NAT usage
 * without walking the table). The table's writer is its only writer; a
 * slot's key is written before `used` (release), readers load `used`
 * (acquire) first. Addresses beyond CT_NATC_SLOTS are counted in `other`.
 */
#define CT_NATC_SLOTS 64
struct ct_natc_slot {
	uint8_t used, fam, proto, pad;
	uint8_t addr[16];
	uint64_t conns;
};
struct ct_natc {
	struct ct_natc_slot s[CT_NATC_SLOTS];
	uint64_t other;
};

/*
 * Connection events, as the kernel's ctnetlink events (conntrack -E): NEW
 * when an entry is confirmed, UPDATE when a packet changes its TCP state
 * or its SEEN_REPLY/ASSURED bits, DESTROY when it leaves the table
 * (expiry, early drop, deletion, a reopened connection). Off unless a
 * reader attached a queue (t->evq, control thread); the worker then
 * copies the entry into the queue, a ring with one writer (the worker)
 * and one reader (the control thread). A full ring loses the event and
 * counts it (lost), as the kernel's socket buffer does (ENOBUFS).
 */
enum { CT_EV_NEW = 1, CT_EV_UPDATE = 2, CT_EV_DESTROY = 4,
       CT_EV_PROTO = 0x80 /* with UPDATE: the TCP state changed (shown) */ };
/* What an event reports, as the kernel's IPCT_* bits (CT --ctevents'
 * names in this order: new, related, destroy, reply, assured, protoinfo,
 * helper, mark, natseqinfo, secmark): a connection whose mask (CT
 * --ctevents) has none of an event's bits does not report it, as
 * nf_conntrack_eventmask_report */
enum {
	CT_IPCT_NEW = 1 << 0, CT_IPCT_RELATED = 1 << 1, CT_IPCT_DESTROY = 1 << 2,
	CT_IPCT_REPLY = 1 << 3, CT_IPCT_ASSURED = 1 << 4, CT_IPCT_PROTOINFO = 1 << 5,
	CT_IPCT_HELPER = 1 << 6, CT_IPCT_MARK = 1 << 7, CT_IPCT_SEQADJ = 1 << 8,
	CT_IPCT_SECMARK = 1 << 9, CT_IPCT_LABEL = 1 << 10,
	/* CT --expevents new: its expectations report NEW (and no DESTROY:
	 * the kernel's expmask); not an IPCT bit, never in an event's */
	CT_IPEXP_NEW = 1 << 14,
	/* a mask no event matches: CT --expevents without --ctevents (the
	 * kernel's ctmask 0 then: the connection reports nothing) */
	CT_IPCT_NONE = 1 << 15,
};
struct ct_ev {
	uint8_t type;
	uint32_t now;      /* the worker's tick: the timeout left */
	uint32_t zn;       /* its zones (ct_zones_of) */
	struct ct_entry e; /* as it was */
	struct ct_addr6 a6;
};
struct ct_evq {
	uint32_t head __attribute__((aligned(64))); /* the worker's */
	uint32_t tail_seen;                          /* the worker's copy of tail */
	uint64_t lost;                               /* the worker's */
	uint32_t tail __attribute__((aligned(64))); /* the reader's */
	uint32_t mask;
	struct ct_ev rec[] __attribute__((aligned(64)));
};

struct ct_table {
	/* the first cache line: what every packet reads */
	struct ct_entry *e;
	union ct_pstate *px;  /* entry i's protocol state: px[i] (ct_ps()) */
	struct ct_addr6 *x6;
	struct ct_bucket *b;
	struct ct_evq *evq;  /* events on (the control thread sets it), else NULL */
	uint32_t nb;          /* buckets */
	uint32_t max, live, free;
	uint32_t nfree;       /* entries on the free list (none: early drop) */
	uint32_t pending;    /* unconfirmed entry of the current packet */
	/* entry i's zones: zn[i] = ct_zone_pack(original's id, reply's id);
	 * NULL until a ruleset uses zones (ct_side_enable; the control
	 * thread sets it before such a ruleset runs): every entry in zone 0 */
	uint32_t *zn;
	/* entry i's CT --timeout policy id (ct_params.tpol, 0: none): NULL
	 * until a ruleset gives one (ct_side_enable) */
	uint8_t *tp;
	/* entry i's CT --ctevents mask (CT_IPCT_*, 0: every event): NULL
	 * until a ruleset gives one (ct_side_enable) */
	uint16_t *em;
	/* entry i's events not yet reported (CT_IPCT_*: the kernel's ecache
	 * cache), for the packet at hand to report as one UPDATE once it
	 * passes confirmation (ct_event_cache, ct_event_deliver): NULL until
	 * conntrack -E first listens (ct_side_enable) */
	uint16_t *ec;
	/* one of zn, tp, em, ec exists: entry creation and reuse look at them
	 * (one predicted branch without) */
	uint8_t side;
	void *(*alloc_fn)(size_t);
	/* a translated connection was made: a new one's reply tuple may be
	 * held by another (ct_confirm looks; with zones too). Never cleared. */
	uint8_t may_clash;
	uint32_t max6, live6, free6;
	uint32_t wheel[CT_WHEEL];
	uint32_t now;        /* the worker's tick, for the events (ct_expire, the loop) */
	uint32_t wtick;      /* next tick to process */
	uint32_t wrest;      /* the rest of tick wtick - 1's detached list */
	uint32_t wrest_tick;
	uint32_t rnd;        /* early drop's second look */
	const struct ct_params *par;
	struct ct_stats st;
	size_t mem;          /* bytes held */
	void (*free_fn)(void *);
	struct ct_natc natc; /* live SNAT connections per address (cold) */
	struct ct_expect *exp; /* the helpers' expectations, shared by the workers
				  (ct_help.h); NULL: none */
	/* the helpers' state of their control connections, by entry index
	 * (open addressing, ct_help.c); a connection that finds the map
	 * full has none (counted: help_full): its lines are not read */
	uint32_t help_n;
	struct ct_help_state {
		uint32_t idx1;  /* entry index + 1, 0: free */
		/* its expectations' slots + 1, oldest first (0: none; the
		 * helper's limit: one for FTP and TFTP, CT_HELP_EXP_MAX for
		 * IRC, the kernel's max_expected). A slot a connection took
		 * since stays listed until pruned (it is no longer ours:
		 * ct_expect_drop leaves it alone) */
		uint32_t slot1[CT_HELP_EXP_MAX];
		/* per direction: the last two sequence numbers after a
		 * newline (the kernel's NUM_SEQ_TO_REMEMBER: a retransmitted
		 * command is read again) */
		uint32_t nl[2][2];
		uint8_t nl_n[2];
		uint8_t sa_on; /* sa holds an adjustment */
		/* per direction: the payload length NAT changed (the
		 * kernel's nf_ct_seqadj): sequence numbers after pos move by
		 * after, those up to it by before */
		struct ct_seqadj {
			uint32_t pos;
			int32_t before, after;
		} sa[2];
	} help[CT_HELP_MAP];
};

/* Entry e's protocol state */
static inline union ct_pstate *ct_ps(const struct ct_table *t, const struct ct_entry *e)
{
	return &t->px[e - t->e];
}

static inline bool ct_udp_like(const struct ct_entry *e)
{
	return e->proto == 17 || e->proto == 136;
}

/* Entry e's connmark, and setting it (t: a worker's table; or the control
 * thread's one-entry view of a copy, with no px, whose mts is the mark) */
static inline uint32_t ct_mark(const struct ct_table *t, const struct ct_entry *e)
{
	return ct_udp_like(e) && t->px != NULL ? ct_ps(t, e)->udp.mark : e->mts;
}
static inline void ct_mark_set(const struct ct_table *t, struct ct_entry *e, uint32_t m)
{
	if (ct_udp_like(e))
		ct_ps(t, e)->udp.mark = m;
	else
		e->mts = m;
}

/* A copy of entry e for the control thread (an event, a listing): its
 * mts is its connmark */
static inline void ct_entry_copy(const struct ct_table *t, const struct ct_entry *e,
				 struct ct_entry *c)
{
	*c = *e;
	c->mts = ct_mark(t, e);
}

static inline unsigned ct_tcp_state(const struct ct_entry *e)
{
	return e->ps & 0x0f;
}
static inline unsigned ct_sctp_state(const struct ct_entry *e)
{
	return e->ps & 0x0f;
}
/* Whether the tracker keys protocol p by its ports (TCP, UDP, UDP-Lite,
 * SCTP; DCCP has none since Linux 6.16 dropped its tracker): the tuple,
 * NAT's port choice and the reply steering all go by it. */
static inline bool ct_port_proto(uint8_t p)
{
	return p == 6 || p == 17 || p == 136 || p == 132;
}
/* The protocol state conntrack -L shows (TCP, SCTP), else NULL. */
const char *ct_state_name(const struct ct_entry *e);
static inline unsigned ct_helper(const struct ct_entry *e)
{
	return (e->ps >> 4) & 3;
}
/* The helper of the connection that announced this one (EXPECTED): what
 * -m helper matches (the kernel's ct->master's helper), 0 if none. */
static inline unsigned ct_master_helper(const struct ct_entry *e)
{
	return e->ps >> 6;
}

/* Bytes a table of these parameters holds (entries, IPv6 records, buckets). */
size_t ct_table_mem(const struct ct_params *p);
/* Build a table; alloc must return zeroed, 64-byte aligned memory (or NULL).
 * par must outlive the table. NULL on failure. */
struct ct_table *ct_table_create(const struct ct_params *par, uint32_t now,
	void *(*alloc)(size_t), void (*free_fn)(void *));
void ct_table_destroy(struct ct_table *t);

/* A prefetch the compiler keeps: GCC's vectoriser drops __builtin_prefetch
 * from the loops it vectorises (it did so in ct_prefetch_entry's). */
static inline void ct_prefetch0(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetcht0 %0" : : "m"(*(const volatile char *)p));
#else
	__builtin_prefetch(p);
#endif
}

/* Hash of the tuple a reply to k would have; 0 if k has no reply. */
uint32_t ct_hash_reply(const struct ct_tuple *k);

/* Hash of a tuple; ct_prefetch() starts loading its bucket, then
 * ct_prefetch_entry() (once the bucket is there) the entries whose
 * signature matches. CRC32-C over the tuple (SSE 4.2, as DPDK's
 * rte_hash_crc; DPDK needs it anyway): cheap, and its low bits, which pick
 * the bucket, are well mixed. ct_hash_inline() is the same, for callers
 * built for SSE 4.2 (the dataplane's, -march): no call on the lane. */
__attribute__((target("sse4.2"), always_inline)) static inline uint32_t
ct_hash_zone(const struct ct_tuple *k, uint16_t zone)
{
	uint32_t h = 0x9747b28cu;
	if (k->fam == 4) {
		uint32_t s, d;
		memcpy(&s, k->src, 4);
		memcpy(&d, k->dst, 4);
		h = (uint32_t)__builtin_ia32_crc32di(h, (uint64_t)s | (uint64_t)d << 32);
	} else {
		uint64_t w[4];
		memcpy(w, k->src, 16);
		memcpy(w + 2, k->dst, 16);
		for (int i = 0; i < 4; i++)
			h = (uint32_t)__builtin_ia32_crc32di(h, w[i]);
	}
	uint64_t rest = (uint64_t)zone << 48 | (uint64_t)k->sport << 32 |
		(uint64_t)k->dport << 16 | (uint64_t)k->proto << 8 | k->fam;
	return (uint32_t)__builtin_ia32_crc32di(h, rest);
}
__attribute__((target("sse4.2"), always_inline)) static inline uint32_t
ct_hash_inline(const struct ct_tuple *k)
{
	return ct_hash_zone(k, k->zone);
}
/* ... of a tuple the caller knows to be in zone 0 (a packet before its
 * raw table ran: the lanes' look-ahead) */
__attribute__((target("sse4.2"), always_inline)) static inline uint32_t
ct_hash_zone0(const struct ct_tuple *k)
{
	return ct_hash_zone(k, 0);
}
uint32_t ct_hash(const struct ct_tuple *k);
/* GRE's tuple keys (nf_conntrack_proto_gre's gre_pkt_to_tuple) from its
 * header at l4 (cap bytes): none (0) but for PPTP's enhanced GRE (version
 * 1), whose call id is the destination key; false for a version 1 packet
 * that is not PPP (no tuple: INVALID). */
bool ct_gre_keys(const uint8_t *l4, uint32_t cap, uint16_t *src, uint16_t *dst);
static inline uint32_t ct_bucket_of(const struct ct_table *t, uint32_t h)
{
	return (uint32_t)(((uint64_t)h * t->nb) >> 32);
}
static inline uint16_t ct_sig(uint32_t h)
{
	uint16_t s = (uint16_t)h;
	return s ? s : 1;
}
static inline void ct_prefetch(const struct ct_table *t, uint32_t h)
{
	ct_prefetch0(&t->b[ct_bucket_of(t, h)]);
}
/* The slots of bucket b whose signature is s, as bits (slot i: bit i).
 * All ten compared at once: a loop over them would mispredict its exit on
 * most lookups (the match sits anywhere). */
static inline uint32_t ct_bucket_match(const struct ct_bucket *b, uint16_t s)
{
#if defined(__SSE2__)
	__m128i k = _mm_set1_epi16((short)s);
	__m128i lo = _mm_loadu_si128((const __m128i *)(const void *)b->sig);
	uint32_t hi;
	memcpy(&hi, &b->sig[8], 4);
	/* slots 8 and 9; the zeros above them never match (a signature is
	 * never 0) */
	__m128i m = _mm_packs_epi16(_mm_cmpeq_epi16(lo, k),
				    _mm_cmpeq_epi16(_mm_cvtsi32_si128((int)hi), k));
	return (uint32_t)_mm_movemask_epi8(m);
#else
	uint32_t m = 0;
	for (unsigned i = 0; i < CT_BSLOTS; i++)
		m |= (uint32_t)(b->sig[i] == s) << i;
	return m;
#endif
}

/* The timeouts entry idx lives by: its CT --timeout policy's (the
 * kernel's nf_ct_timeout_lookup), else the table's */
static inline const uint32_t *ct_to(const struct ct_table *t, uint32_t idx)
{
	const uint8_t *tp = __atomic_load_n(&t->tp, __ATOMIC_ACQUIRE);
	if (__builtin_expect(tp == NULL, 1))
		return t->par->to;
	uint32_t id = tp[idx];
	/* acquire: a new id's timeouts are stored before n_tpol grows */
	return id != 0 && id <= __atomic_load_n(&t->par->n_tpol, __ATOMIC_ACQUIRE)
		? t->par->tpol[id - 1] : t->par->to;
}

/* Entry idx's side arrays (those that exist): its zones (ct_zone_pack),
 * its CT --timeout policy, its CT --ctevents mask */
static inline void ct_side_set(struct ct_table *t, uint32_t idx, uint32_t zones, uint8_t tpol,
	uint16_t ctev)
{
	uint32_t *zn = __atomic_load_n(&t->zn, __ATOMIC_ACQUIRE);
	if (zn != NULL)
		zn[idx] = zones;
	uint8_t *tp = __atomic_load_n(&t->tp, __ATOMIC_ACQUIRE);
	if (tp != NULL)
		tp[idx] = tpol;
	uint16_t *em = __atomic_load_n(&t->em, __ATOMIC_ACQUIRE);
	if (em != NULL)
		em[idx] = ctev;
	uint16_t *ec = __atomic_load_n(&t->ec, __ATOMIC_ACQUIRE);
	if (ec != NULL)
		ec[idx] = 0;
}

/* Entry idx's zone ids (ct_zone_pack), 0 when zones are not in use */
static inline uint32_t ct_zones_of(const struct ct_table *t, uint32_t idx)
{
	const uint32_t *zn = __atomic_load_n(&t->zn, __ATOMIC_ACQUIRE);
	return zn != NULL ? zn[idx] : 0;
}

/* Whether node (index << 1 | direction) holds tuple k. */
static inline bool ct_node_is(const struct ct_table *t, uint32_t node, const struct ct_tuple *k)
{
	const struct ct_entry *e = &t->e[node >> 1];
	unsigned d = node & 1;
	if (e->port[2 * d] != k->sport || e->port[2 * d + 1] != k->dport || e->proto != k->proto ||
	    e->fam != k->fam)
		return false;
	/* zones: none in use (zn NULL) means every entry and every key in
	 * zone 0 (ct_side_enable runs before a ruleset that gives zones) */
	const uint32_t *zn = __atomic_load_n(&t->zn, __ATOMIC_ACQUIRE);
	if (__builtin_expect(zn != NULL, 0)) {
		uint32_t z = zn[node >> 1];
		if ((uint16_t)(d ? z >> 16 : z) != k->zone || (d ? k->zr : k->zo) != k->zone)
			return false;
	}
	if (k->fam == 4) {
		uint32_t s, dd;
		memcpy(&s, k->src, 4);
		memcpy(&dd, k->dst, 4);
		return e->a.a4[2 * d] == s && e->a.a4[2 * d + 1] == dd;
	}
	const struct ct_addr6 *x = &t->x6[e->a.x6];
	return memcmp(x->a[2 * d], k->src, 16) == 0 && memcmp(x->a[2 * d + 1], k->dst, 16) == 0;
}

/* Whether node, a hint, is the hashed entry of tuple k: in the hash
 * (confirmed, not dying) and holding k. A tuple is hashed once, so such a
 * node is what ct_lookup would find; any value of node is safe here. */
static inline bool ct_hint_holds(const struct ct_table *t, uint32_t node, const struct ct_tuple *k)
{
	if (node == CT_NIL || (node >> 1) >= t->max)
		return false;
	const struct ct_entry *e = &t->e[node >> 1];
	return (e->status & (CT_S_CONFIRMED | CT_S_DYING)) == CT_S_CONFIRMED && ct_node_is(t, node, k);
}

/* Starts loading the entries whose signature matches h's in its home
 * bucket (which must be there already) and returns the first one's node:
 * the likely answer of the lookup (ct_est_find takes it as a hint), CT_NIL
 * when none matched (a new connection, most likely). An entry is one
 * cache line; its protocol state (ps: a TCP or SCTP packet's, whose
 * tracking reads it) one or two more. */
static inline uint32_t ct_prefetch_entry(const struct ct_table *t, uint32_t h, bool ps)
{
	const struct ct_bucket *b = &t->b[ct_bucket_of(t, h)];
	uint32_t m = ct_bucket_match(b, ct_sig(h));
	for (uint32_t x = m; x != 0; x &= x - 1) {
		uint32_t i = b->node[__builtin_ctz(x)] >> 1;
		ct_prefetch0(&t->e[i]);
		if (ps) {
			const char *q = (const char *)&t->px[i];
			ct_prefetch0(q);
			ct_prefetch0(q + sizeof(union ct_pstate) - 1);
		}
	}
	return m ? b->node[__builtin_ctz(m)] : CT_NIL;
}

/* Whether the established lane's packet of protocol proto reads its
 * entry's union ct_pstate (TCP's window, SCTP's tags; not UDP: its
 * stream_ts is in the entry, its connmark unread) */
static inline bool ct_proto_ps(uint8_t proto)
{
	return proto != 17 && proto != 136;
}

/* Track one packet (see the header comment). h: ct_hash(&p->t). */
void ct_in(struct ct_table *t, const struct ct_pkt *p, uint32_t h, uint32_t now, bool prerouting,
	unsigned flags, struct ct_res *r);
/*
 * The established lane's tracking (router_fast.c): ct_in at PREROUTING, in
 * two steps, for a UDP packet, or a TCP segment without SYN, FIN or RST of
 * an ESTABLISHED connection, whose connection's entry is here (not
 * expired) and has no helper, its own or its master's: one that changes
 * no state other packets' processing reads.
 * ct_est_find: its node (idx << 1 | dir), or CT_NIL when it is not such a
 * packet (nothing was done: ct_in will judge it); *found: the lookup's
 * answer all the same (CT_NIL: no entry). hint: ct_prefetch_entry's
 * candidate (or CT_NIL), taken when it holds the tuple (the bucket is not
 * searched again). ct_est_track then tracks
 * it exactly as ct_in would; r is ct_in's result: CT_EST_OK when that is
 * ESTABLISHED on the entry (the packet may cross the rules that accept
 * ESTABLISHED), CT_EST_DONE otherwise (INVALID: the full path goes on
 * from r). It refreshes with the table's timeouts: a connection with a
 * timeout policy (t->tp) is not for the lane.
 */
enum { CT_EST_NONE = -1, CT_EST_DONE = 0, CT_EST_OK = 1 };
/* ct_est_find and ct_est_track are inline: ct_lane.h */
/* The packet passed every hook: insert its new entry. false when the
 * packet must be dropped: its reply tuple is another connection's (the
 * kernel's clash at confirm: zones that differ by direction, a translated
 * connection; counted as insert_failed, and r says INVALID). */
bool ct_confirm(struct ct_table *t, struct ct_res *r);
/* Is the reply tuple of r's fresh entry (hash r->h[1]) held by another
 * connection? A holder that timed out but is not reaped yet is reaped
 * (and holds nothing). NAT's null binding asks before confirm does. */
bool ct_reply_taken(struct ct_table *t, const struct ct_res *r);
/* Free the unconfirmed entry of a packet that was dropped. */
void ct_abort(struct ct_table *t);

/* Expire entries due by now, at most budget wheel items. Returns the items
 * done (0: nothing due). */
unsigned ct_expire(struct ct_table *t, uint32_t now, unsigned budget);

/* Lookup only: node (idx << 1 | dir) of a tuple, CT_NIL when absent. */
uint32_t ct_lookup(const struct ct_table *t, const struct ct_tuple *k, uint32_t h);
/* The tuple of direction dir of entry idx. */
void ct_entry_tuple(const struct ct_table *t, uint32_t idx, unsigned dir, struct ct_tuple *k);
/* Remove an entry now (listing's -D, -F). */
void ct_kill(struct ct_table *t, uint32_t idx);
/* Give the table the side arrays which names (CT_SIDE_*), zeroed (every
 * entry in zone 0, without a timeout policy, reporting every event): the
 * control thread, before a ruleset that uses them runs; those it has
 * stay. 0, or -1 when the memory cannot be had (those allocated stay). */
enum { CT_SIDE_ZONES = 1, CT_SIDE_TPOL = 2, CT_SIDE_CTEV = 4, CT_SIDE_ECACHE = 8 };
int ct_side_enable(struct ct_table *t, unsigned which);
/* Its memory: bytes per entry of the side arrays which names */
static inline size_t ct_side_bytes(unsigned which)
{
	return (which & CT_SIDE_ZONES ? sizeof(uint32_t) : 0) +
	       (which & CT_SIDE_TPOL ? sizeof(uint8_t) : 0) +
	       (which & CT_SIDE_CTEV ? sizeof(uint16_t) : 0) +
	       (which & CT_SIDE_ECACHE ? sizeof(uint16_t) : 0);
}
static inline bool ct_entry_live(const struct ct_table *t, uint32_t idx)
{
	const struct ct_entry *e = &t->e[idx];
	return e->fam != 0 && !(e->status & CT_S_DYING) && (e->status & CT_S_CONFIRMED);
}
static inline uint64_t ct_pkts(const struct ct_entry *e, unsigned dir)
{
	return (uint64_t)e->pk_lo[dir] | (e->by[dir] >> 56 << 32);
}
static inline uint64_t ct_bytes(const struct ct_entry *e, unsigned dir)
{
	return e->by[dir] & ((1ull << 56) - 1);
}

/* Build a tuple from an IP packet (used for ICMP errors' inner packet and
 * by tests): fills *k and returns 0, or -1 if too short or not trackable. */
int ct_tuple_from_ip(const uint8_t *ip, uint32_t cap, uint8_t fam, struct ct_tuple *k);

/* The protocol's name as conntrack -L prints it ("tcp", ..., "unknown"). */
const char *ct_proto_name(uint8_t p);
/* Whether conntrack -L shows sport/dport for the protocol (else ICMP's
 * type/code/id, or nothing). */
bool ct_proto_has_ports(uint8_t p);
/* Text of one entry in conntrack -L's format, into buf. Returns the length. */
int ct_format(const struct ct_table *t, uint32_t idx, uint32_t now, char *buf, size_t n);
/* Text of one event in conntrack -E's format ("    [NEW] tcp      6 120
 * SYN_SENT src=..."; DESTROY with the counters), into buf. */
int ct_format_event(const struct ct_table *t, uint32_t idx, uint32_t now, unsigned type, char *buf,
	size_t n);

void ct_event_put(struct ct_table *t, struct ct_evq *q, uint32_t idx, unsigned type);
/* conntrack -E: event type (CT_EV_*) of entry idx, reporting ipct
 * (CT_IPCT_*): queued unless the connection's mask has none of them */
static inline void ct_event(struct ct_table *t, uint32_t idx, unsigned type, unsigned ipct)
{
	struct ct_evq *q = __atomic_load_n(&t->evq, __ATOMIC_ACQUIRE); /* its set-up seen */
	if (__builtin_expect(q != NULL, 0)) {
		const uint16_t *em = __atomic_load_n(&t->em, __ATOMIC_ACQUIRE);
		if (em != NULL && em[idx] != 0 && !(em[idx] & ipct))
			return;
		ct_event_put(t, q, idx, type);
	}
}
/* conntrack -E: what the packet at hand changed of confirmed entry idx
 * (ipct: its state, SEEN_REPLY, ASSURED, its mark), to be reported with
 * all else it changes as one UPDATE once it passes confirmation
 * (ct_event_deliver), as the kernel's nf_conntrack_event_cache and
 * nf_ct_deliver_cached_events; a packet dropped before leaves it for the
 * connection's next one. At once while the table has no cache yet. */
static inline void ct_event_cache(struct ct_table *t, uint32_t idx, unsigned ipct)
{
	if (__builtin_expect(__atomic_load_n(&t->evq, __ATOMIC_ACQUIRE) == NULL, 1))
		return;
	uint16_t *ec = __atomic_load_n(&t->ec, __ATOMIC_ACQUIRE);
	if (ec != NULL)
		ec[idx] = (uint16_t)(ec[idx] | ipct);
	else
		ct_event(t, idx, CT_EV_UPDATE | (ipct & CT_IPCT_PROTOINFO ? CT_EV_PROTO : 0), ipct);
}
/* The packet of entry idx passed confirmation: what it and those before
 * it changed, as one UPDATE (shown with the TCP state if that changed) */
static inline void ct_event_deliver(struct ct_table *t, uint32_t idx)
{
	uint16_t *ec = __atomic_load_n(&t->ec, __ATOMIC_ACQUIRE);
	/* not of an unconfirmed entry (an answer of the box's to a new
	 * connection's first packet, REJECT's, confirms nothing): the
	 * kernel's nf_ct_deliver_cached_events neither */
	if (ec == NULL || ec[idx] == 0 || !(t->e[idx].status & CT_S_CONFIRMED))
		return;
	unsigned ipct = ec[idx];
	ec[idx] = 0;
	if (!(t->e[idx].status & CT_S_DYING))
		ct_event(t, idx, CT_EV_UPDATE | (ipct & CT_IPCT_PROTOINFO ? CT_EV_PROTO : 0), ipct);
}
/* Take the oldest event of q into *ev (reader side). false: none. */
bool ct_event_get(struct ct_evq *q, struct ct_ev *ev);

#endif
