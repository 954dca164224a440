/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_priv: dataplane internals shared by its files.
 *
 * Ownership and threads:
 *  - struct dp_ctx is built by the control thread before workers start.
 *    Ports, LPM tables and the neighbour hash's *structure* are then only
 *    read by workers. The control thread is the single writer of the
 *    neighbour table (hash inserts and struct dp_nh.mac); workers read it
 *    lock-free (rte_hash RW_CONCURRENCY_LF; entries are never deleted, an
 *    entry that stops answering is marked invalid and reused for the same
 *    key, so no RCU grace period is needed for the table yet).
 *  - struct dp_worker is private to its worker: tx buffers, ICMP token
 *    bucket, counters (plain increments; readers on other threads may see a
 *    slightly stale value, never a torn 64-bit one on x86-64).
 *  - Slow-path packets travel worker -> control through the worker's punt
 *    ring and control -> worker through its inject ring; both are
 *    single-producer/single-consumer, so neither side ever waits.
 */
#ifndef RP_DP_PRIV_H
#define RP_DP_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cfg.h"
#include "dp.h"
#include "pkt_meta.h"
#include "reasm.h"
#include "ct.h"
#include "ct_help.h"
#include "ct_limit.h"
#include "nat.h"
#include "rules_prog.h"
#include "dp_trace.h"

#define DP_MAX_PORTS CFG_MAX_PORTS
#define DP_MAX_WORKERS CFG_MAX_WORKERS
#define DP_BURST 32
#define DP_TXBUF 64
#define DP_TEE_MAX 64 /* -j TEE copies waiting for the end of a burst */
#define DP_RING_SIZE 1024
#define DP_PREFETCH 4

/* LPM next-hop values: kind in the top bits, index below (fits lpm6's 21). */
#define DP_NHV_SHIFT 19
#define DP_NHV_IDX_MASK ((1u << DP_NHV_SHIFT) - 1)
enum dp_nhv_kind {
	DP_NHV_GW = 0,    /* idx: struct dp_nh index */
	DP_NHV_CONN = 1,  /* idx: port; neighbour = destination */
	DP_NHV_LOCAL = 2, /* one of our addresses */
	DP_NHV_BCAST = 3, /* a connected subnet's broadcast: never forwarded */
};
#define DP_NHV(kind, idx) (((uint32_t)(kind) << DP_NHV_SHIFT) | (idx))

/* A neighbour / next hop. Workers read mac and port only. */
#define DP_NH_VALID (1ull << 63)
struct dp_nh {
	uint64_t mac;  /* DP_NH_VALID | 48-bit MAC (byte 0 lowest); atomic */
	uint16_t port; /* egress port index */
	uint8_t family;
	uint8_t probes; /* control: unanswered probes */
	uint32_t pad;
	/* control thread only below */
	uint8_t addr[16];
	uint64_t confirmed_tsc; /* last proof of reachability */
	uint64_t probe_tsc;     /* last probe sent */
};

struct dp_nh_key {
	uint8_t addr[16];
	uint8_t family;
	uint8_t port;
	uint16_t pad;
};

static inline void dp_nh_key_make(struct dp_nh_key *k, uint8_t family, const uint8_t *addr,
				  uint16_t port)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, addr, family == 4 ? 4 : 16);
	k->family = family;
	k->port = (uint8_t)port;
}

struct dp_port {
	uint16_t port_id; /* ethdev id */
	uint16_t mtu;
	uint16_t peer;    /* bridge mode: the other port of the pair */
	uint16_t nb_q;
	char name[CFG_NAME_MAX];
	struct rte_ether_addr mac;
	uint64_t mac48; /* mac packed as dp_mac_pack (the fast lane's compares) */
	bool rss;
	/* connection tracking checks TCP/UDP checksums in software: the NIC
	 * does not (and the port's rx_checksum is not 'trust') */
	bool sw_l4_csum;
	struct nat_rss *nat_rss; /* the NIC's hash, known: NAT steers replies by it */
	uint8_t n4, n6;
	uint32_t ip4[CFG_MAX_ADDRS]; /* network order */
	uint8_t plen4[CFG_MAX_ADDRS];
	uint8_t ip6[CFG_MAX_ADDRS + 1][16]; /* last configured + link-local */
	uint8_t plen6[CFG_MAX_ADDRS + 1];
};

#define DP_PORT_NONE UINT16_MAX
#define DP_NAT_SRCMAP 65536 /* source mapping cache slots per worker (512 KiB) */
/* -m connlimit per worker and ruleset: addresses counted, connections
 * remembered (a full table drops what it cannot count, counted) */
#define DP_CLIMIT_KEYS 16384
#define DP_CLIMIT_MEMBERS 65536

/* A published ruleset: the compiled program, the model it came from (for
 * printing with counters) and one counter array per worker. Immutable once
 * published, except that each worker adds to its own counter array. */
/* Addresses of one side of the ruleset's NAT bindings, for steering
 * packets to the worker that owns their connection (ct_fast.c). */
#define DP_NATSET_MAX 16
struct dp_natset {
	bool box;   /* the box's own addresses (MASQUERADE) */
	bool all;   /* any address (a binding that keeps the address) */
	uint8_t n;
	struct {
		uint8_t fam; /* 4 or 6 */
		uint8_t lo[16], hi[16];
	} r[DP_NATSET_MAX];
};

struct dp_rules {
	struct rules_prog *prog;
	struct rules_ruleset *rs;
	uint32_t gen;
	bool ct; /* track connections (conntrack.mode, or the ruleset uses them) */
	bool nat; /* the nat table translates (a NAT target is there) */
	struct dp_natset nat_pub;  /* source translations' addresses: replies come to them */
	struct dp_natset nat_priv; /* destination translations' targets: replies come from them */
	bool follow_udp; /* TFTP helper and NAT: new UDP packets are asked around (rules_ctl.c) */
	/* router mode's fast lane (router_fast.c) is open, by family (IPv4,
	 * IPv6): forwarding crosses nothing but empty ACCEPT chains, whose
	 * policy counters (fast_ctr) it counts. With connection tracking (ct),
	 * the established lane: a chain may also have a rule that accepts
	 * ESTABLISHED (-m state/conntrack, nothing else), first or after rules
	 * that match other states only, whose counter (in fast_ctr) counts the
	 * packets of established connections */
	bool fast[2];
	uint8_t fast_n[2];
	uint32_t fast_ctr[2][3 * RULES_T_COUNT];
	struct ct_limit *climit[DP_MAX_WORKERS]; /* -m connlimit's counts, per worker */
	struct rules_counter *ctr[DP_MAX_WORKERS];
};

/* A LOG target's record, worker -> control thread (formatted there). */
#define DP_LOG_SNAP 160 /* bytes of the IP packet kept in a record */
/* LOG: a packet whose transport header starts later than DP_LOG_SNAP -
 * DP_LOG_L4 (the longest TCP header, or an ICMP error's inner headers)
 * travels with its record, up to DP_LOG_DEEP bytes */
#define DP_LOG_L4 128
#define DP_LOG_DEEP 1024
#define DP_NFLOG_MAX 9216 /* an NFLOG copy's largest size (a jumbo frame's IP packet) */
#define DP_LOG_RING 1024
#define DP_SETQ_RING 1024 /* -j SET requests a worker may queue between two control loops */
struct dp_logrec {
	uint32_t gen;  /* dp_rules.gen of the program that logged */
	uint32_t ctr;  /* counter id of the LOG rule */
	uint8_t hook, fam, in_port, out_port;
	uint16_t caplen;
	uint8_t has_mac, pad;
	uint8_t mac[14];
	uint8_t pad2[2];
	uint32_t mark; /* the packet's mark when the LOG rule saw it */
	uint64_t tsc; /* when the worker logged it (rte_rdtsc; dp_tsc_to_real) */
	/* NFLOG wanting more than DP_LOG_SNAP bytes: a copy of the packet from
	 * its IP header (rte_pktmbuf_copy), freed by whoever takes the record
	 * out of the ring; NULL otherwise (data[] holds the snap) */
	struct rte_mbuf *copy;
	uint8_t data[DP_LOG_SNAP];
};

/* Why a packet was handed to the control thread. */
enum dp_punt_reason {
	DP_PUNT_ARP = 1,
	DP_PUNT_ND,
	DP_PUNT_RESOLVE, /* waiting for the next hop's link-layer address */
	/* control -> worker: the next hop never answered; answer the sender
	 * with ICMP host / address unreachable, as Linux does */
	DP_INJ_UNREACH = 16,
};

/* Stored in each mbuf's private area (mempool priv_size). */
struct dp_mbuf_priv {
	uint8_t reason;
	uint8_t family;
	uint16_t in_port;
	uint16_t out_port;
	uint16_t worker;
	uint16_t l3_off;
	uint8_t addr[16]; /* next hop to resolve */
	uint8_t hops;     /* hand-off: workers that looked for its connection */
	uint8_t origin;   /* hand-off: the worker that received it */
	uint8_t reasm;    /* hand-off: reassembled from fragments (PKT_F_REASM) */
	uint8_t ask_all;  /* hand-off: asked although it could start a connection */
	uint8_t create;   /* hand-off: back at its origin, nobody has its connection */
	uint8_t trace;    /* hand-off: traced by its origin, trace it here too */
	/* hand-off: what its origin's raw table's CT said (the zone
	 * resolved) */
	struct rules_ct_tmpl ct;
	uint16_t frag_max; /* reassembled: its largest fragment, the size to fragment to */
	uint32_t mark;     /* -j TEE's copy: the mark its original had at the rule */
	uint8_t df;       /* -j TEE's copy: its IPv4 original had DF (reassembled: kept it) */
};

static inline struct dp_mbuf_priv *dp_priv(struct rte_mbuf *m)
{
	return (struct dp_mbuf_priv *)rte_mbuf_to_priv(m);
}

struct dp_port_stats {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t drop[DP_DROP_MAX];
};

struct dp_wstats {
	uint64_t loops, busy_loops;
	uint64_t punted, injected, icmp_sent, tcp_rst_sent, local_in, fragmented;
	uint64_t rejects_sent, log_dropped;
	uint64_t set_reqs, set_reqs_lost; /* -j SET requests queued, lost (ring full) */
	uint64_t tee_sent;   /* -j TEE copies handed to their gateway's route */
	uint64_t tee_lost;   /* -j TEE copies not made: no mbuf, or DP_TEE_MAX waiting */
	uint64_t tee_noroute; /* -j TEE copies with no route to their gateway (by --oif) */
	uint64_t handoff_out, handoff_in, handoff_full;
	uint64_t reassembled, frag_failed; /* frag_failed: fragments dropped by reassembly */
	uint64_t mss_rewritten; /* TCPMSS: SYNs whose MSS option was lowered or added */
	uint64_t fast; /* packets the router's fast lane forwarded (both families) */
	uint64_t fast_est; /* packets the established lane forwarded (both families) */
	struct dp_port_stats port[DP_MAX_PORTS];
};

struct dp_txq {
	uint16_t n;
	struct rte_mbuf *pkts[DP_TXBUF];
};

/* A worker's memory of connected next hops (the lanes' nh_cached): a
 * neighbour's (address, port) and its next hop index, direct-mapped.
 * dp_nh_get only ever adds next hops, so an index never changes meaning
 * and an entry never goes stale (whether the neighbour is resolved is
 * read from dp->nh at each packet, as before). */
#define DP_NHC4 4096 /* IPv4: address | port << 32 | (index + 1) << 40; 0 empty */
#define DP_NHC6 1024 /* 32 KiB each: a /20 of busy hosts, few collisions */
struct dp_nhc6 {
	uint8_t addr[16];
	uint32_t nh1;  /* index + 1, 0: empty */
	uint16_t port;
	uint16_t pad;
	uint64_t pad2;
};

/* The slot of IPv4 address a (as in memory) on port */
static inline uint32_t dp_nhc4_slot(uint32_t a, uint16_t port)
{
	return (uint32_t)((a ^ port) * 0x9e3779b1u) >> (32 - 12);
}
/* ... of an IPv6 address */
static inline uint32_t dp_nhc6_slot(const uint8_t *addr, uint16_t port)
{
	uint64_t hi, lo;
	memcpy(&hi, addr, 8);
	memcpy(&lo, addr + 8, 8);
	return (uint32_t)(((hi ^ lo ^ port) * 0x9e3779b97f4a7c15ull) >> (64 - 10));
}
_Static_assert(DP_NHC4 == 1 << 12 && DP_NHC6 == 1 << 10, "the slot functions' widths");

struct dp_worker {
	struct dp_ctx *dp;
	unsigned id;
	unsigned lcore;
	uint16_t q; /* rx and tx queue index on every port */
	uint16_t ip_id;
	struct rte_ring *punt;   /* worker -> control */
	struct rte_ring *inject; /* control -> worker */
	struct rte_ring *logq;   /* LOG records, worker -> control */
	struct rte_ring *setq;   /* -j SET requests (struct rules_set_req), worker -> control */
	struct rte_ring *handoff; /* packets whose connection may live here (MP/SC) */
	/* ICMP error token bucket (kernel icmp_msgs_per_sec/burst) */
	uint64_t icmp_tokens;    /* in units of 1/tsc_hz messages */
	uint64_t icmp_last_tsc;
	struct dp_txq tx[DP_MAX_PORTS];
	struct dp_wstats st;
	/* connection tracking: this worker's table and the packet at hand */
	struct ct_table *ct;
	struct ct_res ctr;     /* the current packet's connection */
	uint32_t ct_now;       /* ticks, read once per burst */
	uint8_t ct_notrack;    /* the raw table said NOTRACK */
	/* what the raw table's CT said of the packet's new connection
	 * (rules_result.ct; its zone resolved by dp_ct_in) */
	struct rules_ct_tmpl ct_t;
	struct rules_ct_tmpl cur_t; /* a handed-over packet: its origin's */
	uint8_t out_related;   /* dp_output_local: the packet is about the current one */
	uint8_t cur_hash_ok;   /* cur_hash is the current packet's ct_hash */
	/* the established lane tracked the current packet already: ct_in's
	 * result (router_fast.c), NULL: not */
	const struct ct_res *cur_given;
	uint8_t est_cool;      /* bursts the established lane sits out (router_fast.c) */
	uint32_t cur_hash;
	uint32_t cur_hrep;     /* its reply tuple's hash, 0: not computed */
	uint32_t cur_hint;     /* the node its bucket pointed to first (ct_pkt.hint) */
	uint64_t nhc4[DP_NHC4];           /* connected next hops (DP_NHC4) */
	struct dp_nhc6 nhc6[DP_NHC6];
	struct ct_tuple btup[DP_BURST]; /* the burst's tuples (dp_ct_prefetch_burst) */
	uint8_t bl4ok[DP_BURST];
	int8_t bsteer[DP_BURST]; /* NAT: the worker the packet goes to, -1: this one decides */
	uint32_t bhrep[DP_BURST];
	uint32_t bhint[DP_BURST]; /* ct_prefetch_entry's candidates, CT_NIL: none */
	uint16_t cur_i;        /* with cur_hash_ok: the packet's index in the burst */
	uint8_t cur_hops;      /* the current packet: workers that missed it before */
	uint8_t cur_origin;    /* the current packet: the worker that received it */
	uint8_t cur_ask_all;   /* ... is asked around although it could start a connection */
	uint8_t cur_create;    /* ... came back to its origin: nobody has its connection */
	/* where dp_ct_handoff sends the current packet (set by dp_ct_in) */
	uint8_t ho_dest, ho_hops, ho_all, ho_create;
	struct rules_ct ctv;   /* the rules' view of the connection (need_ct) */
	/* NAT: the binding the last hook's nat table chose, this worker's
	 * share of the ports, its counters */
	const struct rules_ext *nat_tg;
	const struct dp_rules *cl_R; /* -m connlimit: the ruleset of the packet at hand */
	uint8_t cl_hotdrop;          /* a match could not judge (connlimit, hashlimit): drop it */
	/* -j TEE: the packet a hook runs on (the copies are made of it), the
	 * copies waiting for the end of the poll (dp_tee_flush), and whether
	 * one is being sent (its own hooks copy nothing: nf_skb_duplicated) */
	struct rte_mbuf *tee_m;
	const struct pkt_meta *tee_pm;
	uint8_t tee_hook;
	uint8_t tee_active;
	uint16_t n_tee;
	struct rte_mbuf *tee_q[DP_TEE_MAX];
	struct nat_share nat_share;
	struct nat_srcmap nat_src; /* DP_NAT_SRCMAP slots */
	uint32_t nat_rnd;
	/* the address of the last source binding: a new connection's reply
	 * bucket under that binding is prefetched with the burst (the port
	 * is usually kept), as the plain reply's is */
	uint8_t nat_hint_fam;
	uint8_t nat_hint[16];
	/* the next hop of the routed packet at hand (its gateway, or its
	 * destination on a connected subnet): MASQUERADE takes the out
	 * port's address on that subnet, as the kernel's inet_select_addr */
	const uint8_t *nat_nh;
	struct nat_stats nst;
	struct dp_ctmsg *ctl;  /* control's request, NULL: none (atomic) */
	/* IP reassembly before connection tracking (as nf_defrag) */
	struct reasm *reasm;
	/* rampartctl trace (trace_fast.c): the current packet's record, NULL
	 * when it is not traced; the filter as copied at the burst's start */
	struct dp_trace_rec *trc;
	struct rte_ring *traceq; /* records, worker -> control (SP/SC) */
	uint64_t trace_lost;     /* records the full ring refused */
	uint32_t tf_epoch;
	struct dp_trace_filter tf;
} __rte_cache_aligned;

/* The worker's xorshift (seeded at random per worker): NAT's port choice,
 * IPv6 fragment identifications. */
static inline uint32_t dp_rand32(struct dp_worker *w)
{
	uint32_t x = w->nat_rnd;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	w->nat_rnd = x;
	return x;
}

/*
 * Control -> worker requests on its connection table (the table is the
 * worker's alone). The control thread stores the pointer (release), the
 * worker does the work at the end of a loop and sets done (release).
 */
enum dp_ctop { DP_CT_LIST, DP_CT_KILL, DP_CT_FLUSH, DP_CT_PARAMS, DP_CT_FLUSH_SNAT, DP_CT_MARK };
struct dp_ctsnap { /* one listed entry */
	uint32_t idx;
	uint32_t zn; /* its zones (ct_zones_of) */
	struct ct_entry e;
	struct ct_addr6 a6;
};
struct dp_ctmsg {
	uint8_t op;
	uint32_t cursor;         /* LIST: next index; KILL: index */
	uint32_t max;            /* LIST: room in out */
	uint32_t n;              /* LIST: entries written */
	uint32_t killed;         /* FLUSH: entries removed */
	uint16_t port;           /* FLUSH_SNAT: source translations to this port's addresses */
	uint32_t mark, mask;     /* MARK: the mark becomes (mark & ~mask) ^ value (mark: the
				    value in, the new mark out; killed: 1 if it changed) */
	struct dp_ctsnap *out;
	uint32_t now;            /* worker's tick at the time */
	volatile uint32_t done;
};

struct dp_pending; /* control-side held packets, neigh_ctl.c */
struct dp_trace_list; /* trace_ctl.c */
struct dp_nflog;   /* NFLOG captures, nflog_ctl.c */

struct dp_ctx {
	enum cfg_mode mode;
	bool null_mode; /* rampart-bench floor: rx -> tx on the same port */
	bool fast_off;  /* tests: every packet takes the full path (no fast lane) */
	uint32_t ct_clock; /* tests: the connection clock (ticks), 0: the TSC's */
	volatile bool stop;
	unsigned n_ports, n_workers;
	bool nat_rss_steer; /* nat.rss-steering */
	unsigned idle_sleep_us;
	uint64_t tsc_hz;
	uint64_t tsc_us; /* tsc ticks per microsecond */
	/* -m time's wall clock (docs/architecture.md#wall-clock): the system's
	 * realtime clock minus the rule engine's clock (rte_rdtsc() / tsc_us)
	 * in microseconds, and the kernel's time zone (sys_tz, seconds west
	 * of UTC). Written by the control thread about once a second
	 * (dp_ctl_poll), read by a worker for each packet a -m time rule
	 * looks at: two independent values, each a relaxed atomic (no order
	 * between them or with anything else matters). */
	int64_t wall_off_us;
	int32_t wall_tz_west_s;
	struct dp_rules *rules; /* published ruleset, NULL: none (RCU, see filter_fast.c) */
	uint32_t icmp_rate, icmp_burst;
	struct dp_port ports[DP_MAX_PORTS];
	struct rte_mempool *pool;
	struct rte_mempool *pool_jumbo;    /* reassembled datagrams, one buffer each */
	struct ct_expect *ct_exp; /* the helpers' expectations, all workers' (ct_help.h) */
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	/* the box's IPv4 addresses in one line (the martian check of every
	 * packet), network order; router mode */
	uint32_t local4[DP_MAX_PORTS * CFG_MAX_ADDRS];
	uint32_t n_local4;
	/* bit (last octet & 63) set for each of local4: most sources miss it
	 * and skip the walk (ip4_src_is_ours) */
	uint64_t local4_bloom;
	struct rte_hash *nh_hash;
	struct dp_nh *nh;
	uint32_t nh_max, nh_used;
	struct rte_rcu_qsbr *qsbr;
	struct dp_worker *workers[DP_MAX_WORKERS];
	unsigned worker_lcores[DP_MAX_WORKERS];
	/* control thread only */
	struct dp_pending *pending;
	uint64_t reachable_tsc;
	uint64_t last_scan_tsc;
	uint64_t ctl_drop[DP_DROP_MAX];
	bool started;
	struct dp_rules *rules_old; /* retired, kept until its LOG records are drained */
	/* connection tracking: parameters shared by the workers' tables (max is
	 * per worker); timeouts may change while they run (32-bit stores) */
	struct ct_params ct_par;
	uint8_t ct_mode;         /* enum cfg_ct_mode */
	/* conntrack -E: the workers' event queues (made at the first reader,
	 * kept until dp_destroy: a worker may still hold one it was told to
	 * drop), how many readers want them, the losses reported so far */
	struct ct_evq **ct_evq; /* one per worker (NULL until then) */
	unsigned ct_ev_readers;
	/* conntrack -E expect: the expectations' events, from any thread
	 * (multi-producer; NULL until the first reader) */
	struct rte_ring *ct_expq;
	unsigned ct_exp_readers;
	uint64_t ct_exp_lost;      /* not queued: the ring was full (atomic) */
	uint64_t ct_exp_lost_seen; /* the control thread's */
	unsigned ct_ev_next; /* the worker the next drain starts with */
	uint64_t ct_ev_lost_seen;
	uint8_t link_up[DP_MAX_PORTS]; /* last link state seen (dp_ctl_poll), 0xff: unknown */
	/* NFLOG: captures by group (control thread) */
	char nflog_dir[CFG_PATH_MAX];  /* "": NFLOG packets are only counted as lost */
	uint64_t nflog_max;            /* bytes before a capture is rotated */
	struct dp_nflog *nflog;
	uint64_t nflog_written, nflog_lost;
	uint64_t link_next_tsc;        /* next link state poll */
	uint64_t ct_tsc_tick;    /* tsc per conntrack tick */
	uint32_t rules_gen;
	bool wall_pinned;        /* dp_wall_clock_set: the system clock no longer followed */
	uint64_t wall_next_tsc;  /* the wall clock's next refresh */
	/* a TSC reading and the wall clock at the same instant: record times */
	uint64_t tsc0;
	struct timespec real0;
	uint64_t rule_ids; /* the last rule id given (rules_assign_ids) */
	uint64_t logs_written;
	struct dp_trace_list *trace_list; /* control thread: the kept records */
	/* rampartctl trace: read by every worker once per burst, written only
	 * by `trace add` / `trace clear` (a cache line of its own) */
	struct dp_trace_arm trace __rte_cache_aligned;
};

/* filter_fast.c: run hook h (part of it: raw, or the tables after raw);
 * returns enum rules_res (*reject_with for REJECT); NOTRACK sets w->ct_notrack */
uint8_t dp_hook(struct dp_worker *w, const struct dp_rules *R, enum rules_hook h,
	enum rules_part part, struct rte_mbuf *m, struct pkt_meta *pm, uint16_t in, uint16_t out,
	uint8_t *reject_with);
/* Track the packet (after the raw table): sets w->ctr. false: drop it (the
 * table is full, counted). */
/* ct_fast.c: with several workers, the worker that owns the connection of
 * a packet with tuple t addressed to a source translation's address (its
 * ports name it), -1 if it is not one. */
int dp_ct_owner(const struct dp_worker *w, const struct dp_rules *R, const struct ct_tuple *t,
	uint16_t sport, uint16_t dport, uint8_t icmp_type);
/* ct_fast.c: dp_ct_csum_bad's software check (the NIC said nothing) */
bool dp_ct_csum_sw(struct rte_mbuf *m, bool v6, uint8_t proto, const uint8_t *l3,
		   const uint8_t *l4, uint32_t len, uint32_t cap);
/* The L4 checksum of a packet at PREROUTING as conntrack judges it: true
 * if bad. sw: check it in software when the NIC did not. The NIC's
 * verdict inline; the software check out of line. */
static inline bool dp_ct_csum_bad(const struct dp_ctx *dp, struct rte_mbuf *m, bool v6,
				  uint8_t proto, bool sw, const uint8_t *l3, const uint8_t *l4,
				  uint32_t len, uint32_t cap)
{
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ck != RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN || !sw || !dp->ct_par.checksum)
		return ck == RTE_MBUF_F_RX_L4_CKSUM_BAD;
	return dp_ct_csum_sw(m, v6, proto, l3, l4, len, cap);
}
bool dp_ct_in(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
	const struct pkt_meta *pm, bool prerouting);
/* Hash the tuples of a burst and prefetch their buckets, then the entries
 * the buckets point to (DPDK style: the loads of all packets overlap). */
void dp_ct_prefetch_burst(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf **pkts,
	struct pkt_meta *meta, uint16_t n, uint32_t *hash);
/* How many packets ahead the entries are prefetched: call it for packet i
 * before processing packet i - DP_CT_AHEAD. */
#define DP_CT_AHEAD 8
static inline void dp_ct_prefetch_ahead(struct dp_worker *w, const uint32_t *hash,
	uint16_t i, uint16_t n)
{
	if (i >= n || hash[i] == 0)
		return;
	w->bhrep[i] = 0;
	/* the protocol state too: the rules read a UDP flow's connmark there */
	w->bhint[i] = ct_prefetch_entry(w->ct, hash[i], true);
	if (w->bhint[i] == CT_NIL) {
		/* no such connection yet: confirming one will index its reply */
		w->bhrep[i] = ct_hash_reply(&w->btup[i]);
		if (w->bhrep[i])
			ct_prefetch(w->ct, w->bhrep[i]);
		const struct ct_tuple *t = &w->btup[i];
		if (w->nat_hint_fam == t->fam && (t->proto == 6 || t->proto == 17)) {
			struct ct_tuple r;
			memset(&r, 0, sizeof(r)); /* zone 0: before the raw table */
			memcpy(r.src, t->dst, 16);
			memcpy(r.dst, w->nat_hint, 16);
			r.sport = t->dport;
			r.dport = t->sport;
			r.proto = t->proto;
			r.fam = t->fam;
			ct_prefetch(w->ct, ct_hash(&r));
			ct_prefetch0(&w->nat_src.slot[nat_srckey(t) & w->nat_src.mask]);
		}
	}
}
/* Hand a packet whose connection is not here to the next worker (after the
 * raw table): true if it went (or was dropped because that ring is full). */
bool dp_ct_handoff(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm);
/* Take packets handed to this worker. */
unsigned dp_handoff_drain(struct dp_worker *w);
/* Datagrams being reassembled per worker, fragments held per worker (what
 * the packet pool is sized for), and how long fragments wait for the rest
 * (the kernel's ipfrag_time and nf_conntrack_frag6_timeout). */
#define DP_FRAG_DATAGRAMS 1024
#define DP_FRAG_HELD 4096
#define DP_FRAG_TIMEOUT_S 30
#define DP_FRAG6_TIMEOUT_S 60
/* reassembly's drop callback (router_fast.c): frees and counts a fragment */
void dp_reasm_drop(void *worker, void *mbuf);
#define DP_JUMBO_MBUFS 64
#define DP_CT_EXPECT_SLOTS 16384 /* expectations of the helpers, the whole box */
/* ct_fast.c: the connection's helper reads the accepted packet and may
 * rewrite it (NAT: its length, the IP header and pm follow); false: the
 * packet was dropped (freed, counted) */
bool dp_ct_help(struct dp_worker *w, struct rte_mbuf *m, struct pkt_meta *pm);
/* The packet passed POSTROUTING or INPUT: its helper runs (as the
 * kernel's at the same place), its new connection is inserted. false:
 * the helper dropped it (freed, counted). */
void dp_drop_pkt(struct dp_worker *w, uint16_t port, uint8_t reason, struct rte_mbuf *m);
/* The packet passed its hooks: its new connection confirmed. false: the
 * packet was consumed (a helper dropped it, or its connection clashed). */
static inline bool dp_ct_confirm(struct dp_worker *w, const struct dp_rules *R,
	struct rte_mbuf *m, struct pkt_meta *pm)
{
	if (R == NULL || !R->ct)
		return true;
	if (unlikely(w->ctr.helper) && w->ctr.idx != CT_NIL && !dp_ct_help(w, m, pm)) {
		if (w->ctr.fresh)
			ct_abort(w->ct); /* its new connection is not made */
		w->ctr.fresh = 0;
		return false;
	}
	if (w->ctr.fresh && unlikely(!ct_confirm(w->ct, &w->ctr))) {
		/* its reply tuple is another connection's (zones) */
		dp_drop_pkt(w, pm->in_port, DP_DROP_CT_CLASH, m);
		return false;
	}
	/* conntrack -E: what it changed of its connection, as one UPDATE */
	if (unlikely(__atomic_load_n(&w->ct->evq, __ATOMIC_ACQUIRE) != NULL) && w->ctr.idx != CT_NIL)
		ct_event_deliver(w->ct, w->ctr.idx);
	return true;
}
static inline void dp_ct_none(struct dp_worker *w, uint8_t state)
{
	w->ctr.idx = CT_NIL;
	w->ctr.state = state;
	w->ctr.fresh = 0;
	w->ctr.dir = 0;
	w->ctr.drop = 0;
	w->ctr.miss = 0;
}
/* ct_ctl.c: worker side of control requests; control side in dp.h */
void dp_ct_serve(struct dp_worker *w);
/* Answer m as REJECT --reject-with says (or drop it where no answer is allowed). */
void dp_reject(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm, uint8_t with);
static inline const struct dp_rules *dp_rules_get(const struct dp_ctx *dp)
{
	/* acquire pairs with the control thread's release store on publish */
	return __atomic_load_n(&dp->rules, __ATOMIC_ACQUIRE);
}
static inline bool dp_hook_on(const struct dp_rules *R, uint8_t l3, enum rules_hook h)
{
	return R != NULL && R->prog->f[l3 == PKT_L3_IPV6].hook_active[h];
}
/* The hook has a nat table that this packet (a connection's first) traverses. */
static inline bool dp_nat_on(const struct dp_worker *w, const struct dp_rules *R, uint8_t l3,
	enum rules_hook h)
{
	return R != NULL && R->nat && w->ctr.fresh && R->prog->f[l3 == PKT_L3_IPV6].hook_nat[h];
}
/* nat_fast.c: after the nat table of a hook with manip m: make the binding
 * the table chose (first packet), then rewrite the packet if its
 * connection is translated. false: no tuple was free (dropped, counted). */
bool dp_nat_step(struct dp_worker *w, const struct dp_rules *R, struct rte_mbuf *m,
	struct pkt_meta *pm, enum nat_manip mp, uint16_t in, uint16_t out);
/* rules_ctl.c */
unsigned dp_logs_drain(struct dp_ctx *dp);
/* nflog_ctl.c */
/* A worker's TSC reading as wall-clock time (records' timestamps). */
void dp_tsc_to_real(const struct dp_ctx *dp, uint64_t tsc, struct timespec *ts);
void dp_nflog_write(struct dp_ctx *dp, const struct rules_t_nflog *n, const struct dp_logrec *rec);
void dp_nflog_close(struct dp_ctx *dp);
void dp_rules_destroy(struct dp_ctx *dp);

/* trace_fast.c: is tracing armed (one relaxed load, per burst) */
static inline bool dp_trace_on(const struct dp_ctx *dp)
{
	return __atomic_load_n(&dp->trace.left, __ATOMIC_RELAXED) > 0;
}
/* Burst start while armed: copy the filter; false: trace nothing now. */
bool dp_trace_burst(struct dp_worker *w);
/* A traced packet: the record and what its fate is read from. */
struct dp_trace_pkt {
	struct dp_trace_rec rec;
	uint64_t drop[DP_DROP_MAX]; /* the in port's drop counters before */
	uint64_t local_in, punted, handoff_out, fragmented, handoff_full;
	bool had_ct;
};
/* Does the packet match the burst's filter and get a ticket (ticket false:
 * it was traced by the worker that handed it over, no filter, no ticket)?
 * true: tp is filled and w->trc set, the caller runs the pipeline and then
 * calls dp_trace_end. */
bool dp_trace_begin(struct dp_worker *w, struct dp_trace_pkt *tp, const struct dp_rules *R,
	struct rte_mbuf *m, const struct pkt_meta *pm, bool ticket);
/* After the pipeline: out is the port the packet leaves by (m still valid)
 * or UINT16_MAX (consumed; m must not be read). Pushes the record. */
void dp_trace_end(struct dp_worker *w, struct dp_trace_pkt *tp, const struct dp_rules *R,
	struct rte_mbuf *m, uint16_t out);

/* worker_fast.c */
void dp_txq_send(struct dp_worker *w, uint16_t port);
static inline void dp_tx_enqueue(struct dp_worker *w, uint16_t port, struct rte_mbuf *m);
void dp_tx_flush(struct dp_worker *w);
void dp_drop_pkt(struct dp_worker *w, uint16_t port, uint8_t reason, struct rte_mbuf *m);
void dp_punt(struct dp_worker *w, struct rte_mbuf *m, uint8_t reason, uint16_t in_port);

/* router_fast.c */
void dp_router_burst(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts, uint16_t n);
void dp_bridge_burst(struct dp_worker *w, uint16_t in, struct rte_mbuf **pkts, uint16_t n);
/* A held packet whose next hop never answered: ICMP(v6) unreachable to its sender. */
void dp_unreach_held(struct dp_worker *w, struct rte_mbuf *m);
/* Send a packet the box itself built (echo reply, ICMP error): route it on
 * its destination and hand it to tx or to neighbour resolution. */
void dp_output_local(struct dp_worker *w, struct rte_mbuf *m, uint8_t l3, uint16_t in_port);
/* -j TEE (router_fast.c): send the copies the hooks made since the last
 * call, each to its gateway (dp_worker_poll, after each burst) */
void dp_tee_flush(struct dp_worker *w);

/* icmp_fast.c: turn m in place into a reply; return 0 or -1 (m untouched) */
int dp_icmp4_error(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
		   uint8_t type, uint8_t code, uint32_t info);
int dp_icmp6_error(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm,
		   uint8_t type, uint8_t code, uint32_t info);
void dp_icmp4_echo_reply(struct rte_mbuf *m, const struct pkt_meta *pm);
int dp_tcp_reset(struct dp_worker *w, struct rte_mbuf *m, const struct pkt_meta *pm);
void dp_icmp6_echo_reply(struct rte_mbuf *m, const struct pkt_meta *pm);
bool dp_icmp_ratelimit_ok(struct dp_worker *w);

/* route_ctl.c */
int dp_routes_build(struct dp_ctx *dp, const struct cfg *c, char *err, size_t errlen);
void dp_routes_free(struct dp_ctx *dp);
int dp_nh_get(struct dp_ctx *dp, uint8_t family, const uint8_t *addr, uint16_t port,
	      bool create);
int dp_addr_is_local6(const struct dp_ctx *dp, uint16_t port, const uint8_t *a);
/* router_fast.c: the kind (DP_NHV_*) of the route to a and the port it
 * leads out by (for the box's own address: the port that has it); -1: no
 * route, or no route tables (a bridge). */
int dp_route_port(const struct dp_ctx *dp, bool v6, const uint8_t *a, uint16_t *port);
/* router_fast.c: what the route back to src says for a packet to dst that
 * came in by port in (enum rules_rpf, -m rpfilter) */
uint8_t dp_rpf(const struct dp_ctx *dp, bool v6, const uint8_t *src, const uint8_t *dst,
	uint16_t in);
int dp_port_src6(const struct dp_port *p, const uint8_t *dst, uint8_t out[16]);

/* neigh_ctl.c */
int dp_neigh_init(struct dp_ctx *dp, uint32_t queue_len);
void dp_neigh_free(struct dp_ctx *dp);
unsigned dp_neigh_held(const struct dp_ctx *dp);
void dp_neigh_handle(struct dp_ctx *dp, struct rte_mbuf *m);
void dp_neigh_timers(struct dp_ctx *dp);

/* port.c */
int dp_ports_init(struct dp_ctx *dp, const struct cfg *c, char *err, size_t errlen);
void dp_ports_close(struct dp_ctx *dp);
/* rampartd's symmetric Toeplitz key (one 16-bit word repeated), len bytes */
void dp_sym_rss_key(uint8_t *key, unsigned len);
/* Port idx's NIC hashes with key, spreads by reta (queue per entry) and
 * hashes the flows of rss_hf (RTE_ETH_RSS_*): source translations
 * through it choose ports whose replies the NIC gives their worker
 * (nat_rss). -1 (nothing changed) if that cannot be modelled. Called by
 * the port set-up with what the NIC reports; tests call it directly. */
int dp_port_rss_steer(struct dp_ctx *dp, unsigned idx, const uint8_t *key, unsigned klen,
		      const uint16_t *reta, unsigned reta_size, uint64_t rss_hf);

/* Buffer m for tx on port; a full buffer is sent at once. */
static inline void dp_tx_enqueue(struct dp_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct dp_txq *t = &w->tx[port];
	w->st.port[port].tx_bytes += rte_pktmbuf_pkt_len(m);
	t->pkts[t->n++] = m;
	if (unlikely(t->n == DP_TXBUF))
		dp_txq_send(w, port);
}

/* Queue a run of n packets (n <= DP_BURST, bytes: their frames' lengths)
 * on port p; a buffer the run would fill is sent first. */
static inline void dp_tx_enqueue_run(struct dp_worker *w, uint16_t p, struct rte_mbuf **pkts,
				     uint16_t n, uint64_t bytes)
{
	struct dp_txq *t = &w->tx[p];
	/* never left full: dp_tx_enqueue adds one without a look */
	if (unlikely(t->n + n >= DP_TXBUF))
		dp_txq_send(w, p);
	memcpy(&t->pkts[t->n], pkts, n * sizeof(pkts[0]));
	t->n = (uint16_t)(t->n + n);
	w->st.port[p].tx_bytes += bytes;
}

/* Queue pkts[i] on port out[i]; out[i] == UINT16_MAX means consumed. A
 * run of packets to one port (the usual burst: one run) is found first,
 * then copied into the port's buffer in one go, its bytes counted in a
 * register; a buffer the run would overflow is sent first (a run is at
 * most a burst, a buffer holds two). */
static inline void dp_tx_enqueue_burst(struct dp_worker *w, struct rte_mbuf **pkts,
				       const uint16_t *out, uint16_t n)
{
	RTE_BUILD_BUG_ON(DP_TXBUF < DP_BURST);
	uint16_t i = 0;
	while (i < n) {
		uint16_t p = out[i], j = (uint16_t)(i + 1);
		while (j < n && out[j] == p)
			j++;
		if (p != UINT16_MAX) {
			struct dp_txq *t = &w->tx[p];
			/* never left full: dp_tx_enqueue adds one without a look */
			if (unlikely(t->n + (j - i) >= DP_TXBUF))
				dp_txq_send(w, p);
			struct rte_mbuf **to = &t->pkts[t->n], **from = &pkts[i];
			uint16_t run = (uint16_t)(j - i);
			uint64_t bytes = 0;
			for (uint16_t k = 0; k < run; k++) {
				to[k] = from[k];
				bytes += rte_pktmbuf_pkt_len(from[k]);
			}
			t->n = (uint16_t)(t->n + run);
			w->st.port[p].tx_bytes += bytes;
		}
		i = j;
	}
}

/* Write a fixed IPv6 header (traffic class and flow label 0) for a packet
 * the box builds itself. */
static inline void dp_ip6_hdr(struct rte_ipv6_hdr *ip6, uint16_t payload_len, uint8_t proto,
			      uint8_t hop_limit, const uint8_t *src, const uint8_t *dst)
{
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(payload_len);
	ip6->proto = proto;
	ip6->hop_limits = hop_limit;
	memcpy(ip6->src_addr, src, 16);
	memcpy(ip6->dst_addr, dst, 16);
}

static inline uint64_t dp_mac_pack(const struct rte_ether_addr *a)
{
	uint64_t v = 0;
	for (int i = 5; i >= 0; i--)
		v = (v << 8) | a->addr_bytes[i];
	return v;
}

static inline void dp_mac_unpack(uint64_t v, struct rte_ether_addr *a)
{
	for (int i = 0; i < 6; i++, v >>= 8)
		a->addr_bytes[i] = (uint8_t)v;
}

#endif
