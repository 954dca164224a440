/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_help: connection tracking helpers (FTP, TFTP, IRC) and their
 * expectations, as Linux's nf_conntrack_ftp / nf_conntrack_tftp /
 * nf_conntrack_irc.
 *
 * A helper is given to a connection by `-t raw ... -j CT --helper NAME`
 * (as the kernel since 4.7: no automatic assignment by port). It reads the
 * connection's packets after the filter has accepted them and, when one
 * announces another connection (FTP's PORT/EPRT commands and 227/229
 * passive-mode replies, a TFTP read or write request, an IRC client's DCC
 * offer), records an
 * expectation: the tuple that connection will have, its source port left
 * open. The first packet of a new connection that matches an expectation
 * takes it (an expectation is used once): the connection gets the
 * EXPECTED status and its packets are RELATED until the reply, as in
 * Linux.
 *
 * The expected connection may arrive on any worker (its tuple hashes
 * anywhere), so expectations live in one table shared by the workers, not
 * in a worker's connection table: open addressing over slots that a
 * writer claims with a compare-and-swap (free or expired -> busy), fills
 * and publishes (-> live, release); a new connection claims a matching
 * live slot (live -> busy), checks it again and frees it. No lock; the
 * only shared writes are these slot states and the live count, and only
 * when an expectation is made or used. A new connection looks at the
 * table only while it holds live expectations.
 *
 * No DPDK here: unit tests drive it with synthetic packets.
 */
#ifndef RP_CT_HELP_H
#define RP_CT_HELP_H

#include <stdbool.h>
#include <stdint.h>

#include "ct.h"

enum ct_helper { CT_HELPER_NONE, CT_HELPER_FTP, CT_HELPER_TFTP, CT_HELPER_IRC, CT_HELPER_MAX };
_Static_assert(CT_HELPER_MAX <= 4, "a helper id takes two bits of ct_entry.ps");
extern const char *const ct_helper_names[CT_HELPER_MAX]; /* "", "ftp", "tftp", "irc" */
/* Whether NAT may change the length of helper h's segments (FTP's and
 * IRC's announcements): their sequence numbers then follow (ct_seqadj). */
static inline bool ct_helper_seqadj(unsigned h)
{
	return h == CT_HELPER_FTP || h == CT_HELPER_IRC;
}
/* The helper named s, CT_HELPER_NONE if none has that name. */
enum ct_helper ct_helper_by_name(const char *s);

/* How long an expectation waits for its connection (the kernel's
 * expect policy of the three helpers: 5 minutes; IRC's dcc_timeout), in
 * seconds. */
#define CT_EXPECT_TIMEOUT_S 300

enum { CT_EXP_FREE, CT_EXP_BUSY, CT_EXP_LIVE };

/* The expected connection of a translated control connection is
 * translated too, to the addresses its master's peers really have (the
 * kernel's nf_nat_follow_master): with dst, its destination becomes
 * addr:port; with src, its source becomes src_addr. */
struct ct_exp_nat {
	uint8_t on;      /* 0, or CT_EXP_NAT_DST | CT_EXP_NAT_SRC */
	uint16_t port;   /* host order */
	uint8_t addr[16];
	uint8_t src_addr[16];
};
#define CT_EXP_NAT_DST 1
#define CT_EXP_NAT_SRC 2
struct ct_exp_slot {
	uint32_t state; /* CT_EXP_* (atomic) */
	uint32_t expire; /* tick */
	/* the expected original tuple; sport 0: any source port; src all
	 * zero: any source address (IRC's DCC: the peer may be anyone) */
	struct ct_tuple k;
	uint8_t helper;  /* the helper that made it */
	struct ct_exp_nat nat; /* the expected connection's translation */
	uint32_t oidx;   /* its control connection: entry oidx of table owner */
	const void *owner;
	struct ct_tuple mt; /* its control connection's original tuple (events, -L) */
	uint8_t evm;     /* the events it reports: CT_EXP_EV_NEW | CT_EXP_EV_DESTROY */
};

/*
 * Expectation events (conntrack -E expect), as the kernel's ctnetlink
 * expectation events: NEW when an expectation is recorded, DESTROY when it
 * goes (used by its connection, replaced, evicted, expired, its control
 * connection gone, flushed), as nf_ct_expect_event_report reports them.
 * Which ones an expectation reports is its control connection's (CT
 * --expevents: NEW only; --ctevents alone: none; neither: both). The
 * table hands them to ev (set with the table, any thread may call it: the
 * dataplane queues them in one ring) while ev_on is set. A NEW is handed
 * before its slot is published, so whoever ends the expectation hands its
 * DESTROY after.
 */
#define CT_EXP_EV_NEW 1
#define CT_EXP_EV_DESTROY 2
struct ct_exp_ev {
	uint8_t type;   /* CT_EV_NEW or CT_EV_DESTROY */
	uint8_t helper;
	uint8_t pad[2];
	uint32_t expire; /* tick */
	uint32_t now;    /* tick (filled by ev's owner) */
	struct ct_tuple k;  /* the expected tuple (sport 0, src all zero: any) */
	struct ct_tuple mt; /* its control connection's original tuple */
};
typedef void (*ct_exp_ev_fn)(void *arg, struct ct_exp_ev *e);
/* The events an expectation of a control connection with CT --ctevents
 * mask em (ct_table.em; 0: every event) reports. */
static inline uint8_t ct_exp_evmask(uint16_t em)
{
	if (em == 0)
		return CT_EXP_EV_NEW | CT_EXP_EV_DESTROY;
	return (em & CT_IPEXP_NEW) ? CT_EXP_EV_NEW : 0;
}

struct ct_expect {
	uint32_t live; /* live expectations (atomic) */
	uint32_t mask; /* slots - 1 */
	/* live expectations of any source address (atomic): while there are,
	 * a new connection that matches none where its own source puts it
	 * looks again where such ones lie (its source zeroed) */
	uint32_t any_src;
	uint32_t ev_on;   /* expectation events wanted (atomic) */
	ct_exp_ev_fn ev;  /* where they go (set before the table is shared) */
	void *ev_arg;
	struct ct_exp_slot s[];
};

/* A table of slots slots (a power of two); alloc must return zeroed
 * memory. NULL on failure. */
struct ct_expect *ct_expect_create(uint32_t slots, void *(*alloc)(size_t));
size_t ct_expect_mem(uint32_t slots);

/* The event of slot s as it is (type 0: a listing's), at tick now. */
void ct_exp_ev_of(const struct ct_exp_slot *s, uint8_t type, uint32_t now, struct ct_exp_ev *e);
/* What conntrack -L expect prints of an expectation, as conntrack-tools
 * does ("300 proto=6 src=... dst=... sport=0 dport=N mask-src=...
 * mask-dst=... sport=0 dport=65535 master-src=... master-dst=... sport=N
 * dport=21 class=0 helper=ftp"; its seconds left rounded down, as the
 * kernel's), and with an event type (CT_EV_NEW, CT_EV_DESTROY) what
 * conntrack -E expect does ("    [NEW] 300 ..."), into buf; no newline.
 * Returns the length (snprintf's). */
int ct_format_expect(const struct ct_exp_ev *e, char *buf, size_t n);
/* Its masks, as the kernel dumps them: the source address all ones unless
 * any source (all zero), the source port 0 (any) unless given. */
void ct_exp_mask(const struct ct_exp_ev *e, uint8_t *msrc, uint8_t *mdst, uint16_t *msport,
	uint16_t *mdport);

/* Record an expectation for tuple k (k->sport 0: any source port; k->src
 * all zero: any source address) until
 * tick expire, made by entry oidx of table owner (NULL: none) whose
 * original tuple is mt (NULL: none known) and which reports events evm
 * (CT_EXP_EV_*), the
 * expected connection translated as nat says (NULL: not). An identical
 * live one is renewed, unless excl is set and another connection made it.
 * Returns its slot; -1: no free slot near its place (counted by the
 * caller); -2 (excl): the same expectation is another connection's (the
 * kernel's -EBUSY, on which NAT tries another port). */
int ct_expect_add(struct ct_expect *x, const struct ct_tuple *k, uint8_t helper,
	const struct ct_exp_nat *nat, const void *owner, uint32_t oidx,
	const struct ct_tuple *mt, uint8_t evm, uint32_t expire, uint32_t now, bool excl);
/* Drop slot's expectation if entry oidx of table owner made it. */
void ct_expect_drop(struct ct_expect *x, uint32_t slot, const void *owner, uint32_t oidx);
/* Free the expired slots (the control thread, now and then): until then
 * they count as live and new connections look at the table. */
void ct_expect_sweep(struct ct_expect *x, uint32_t now);
/* Does a new connection with original tuple k match a live expectation?
 * If so, the expectation is used up, its translation copied to *nat and
 * the helper that made it to *helper (each if not NULL) and true
 * returned. */
bool ct_expect_take(struct ct_expect *x, const struct ct_tuple *k, uint32_t now,
	struct ct_exp_nat *nat, uint8_t *helper);
/* Drop every expectation (conntrack -F). */
void ct_expect_flush(struct ct_expect *x);

/* The packet a helper reads, which it may rewrite: its L4 payload (TCP
 * after its header, UDP after its 8 bytes) is pl[0..n), writable up to
 * pl[room). */
struct ct_help_buf {
	uint8_t *pl;
	uint32_t n, room;
};
enum ct_help_verdict {
	CT_HELP_PASS,    /* payload unchanged */
	CT_HELP_MANGLED, /* payload rewritten, its length now b->n: the caller
			    fixes the IP length and the checksums */
	CT_HELP_DROP,    /* drop the packet (the kernel's NF_DROP: a
			    translated announcement that could not be
			    rewritten, no port to expect it on) */
};

/* Run the helper of entry idx on a packet of direction dir; seq: the TCP
 * segment's sequence number as received. Only packets of an established
 * connection are read (the caller's state), as in the kernel. As the
 * kernel's, an FTP or TFTP control connection has one expectation at a
 * time (a new one replaces it), an IRC one up to CT_HELP_EXP_MAX (the
 * oldest goes for a ninth), and loses them when it dies (ct_help_dying).
 * Expectations go to t->exp; counted in t->st (expect_new, expect_full,
 * expect_refused).
 *
 * As the kernel's, an announcement whose expectation another connection
 * already made is dropped (nf_ct_expect_related's -EBUSY: "cannot add
 * expectation"; NAT first tries other ports). Unlike the kernel, one that
 * finds no room is let through without its expectation (the kernel drops
 * it: our table may be full near its place before it is full). A connection at
 * its helper's limit loses its oldest expectation before the new one is
 * tried, but only once no other connection holds the new one (the
 * kernel's clash check first): a refused announcement costs it nothing.
 *
 * IRC: a client's DCC announcement (ct_irc_parse) of its own address
 * (before or after NAT) and a port other than 0 makes an expectation of a
 * TCP connection from anywhere to that address and port (the reply
 * tuple's destination); a translated IRC connection's announcement is
 * rewritten to that address and the port expected (nf_nat_irc), the
 * connection translated back to the client, its source made the IRC
 * server's address (nf_nat_follow_master).
 *
 * A translated FTP control connection (SNAT, DNAT, MASQUERADE) has its
 * announcements rewritten as nf_nat_ftp does: the address and port the
 * other side must use (the connection's translated address; the same
 * port if no other connection expects it there, else another), the data
 * connection expected there and translated back (nf_nat_follow_master).
 * A change of length is remembered per direction and applied to every
 * later segment by ct_seqadj (nf_ct_seqadj). */
enum ct_help_verdict ct_help(struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq,
	struct ct_help_buf *b, uint32_t now);
/* Entry idx (with a helper) dies: its expectation and state go. */
void ct_help_dying(struct ct_table *t, uint32_t idx);

/* Sequence adjustment (nf_ct_seq_adjust): after ct_help, the TCP segment
 * of direction dir whose header is th[0..cap) (cap >= its data offset)
 * gets its sequence number moved by what NAT added to its direction
 * before it, its acknowledgement number and SACK blocks by what NAT added
 * to the other; the checksum follows (RFC 1624). false: nothing to do. */
bool ct_seqadj(struct ct_table *t, uint32_t idx, unsigned dir, uint8_t *th, uint32_t cap);
/* The offset NAT added to direction dir's sequence numbers at seq (the
 * kernel's nf_ct_seq_offset; the window tracker takes it off the other
 * direction's acknowledgements). */
int32_t ct_seq_offset(const struct ct_table *t, uint32_t idx, unsigned dir, uint32_t seq);

/* FTP command/response parsing, exposed for tests and fuzzing: does line
 * l[0..n) (dir 0: from the client, 1: from the server) announce a data
 * connection? Fills the address (family fam, network order, 16 bytes;
 * EPSV leaves it untouched: the caller preset the sender's address), the
 * port and, if mt is not NULL, what NAT rewrites: the kind of
 * announcement and where its address/port text is (the kernel's
 * matchoff/matchlen). */
enum ct_ftp_type { CT_FTP_PORT, CT_FTP_EPRT, CT_FTP_PASV, CT_FTP_EPSV };
struct ct_ftp_match {
	uint8_t type; /* enum ct_ftp_type */
	uint32_t off, len;
};
bool ct_ftp_parse(const uint8_t *l, uint32_t n, unsigned dir, uint8_t fam, uint8_t *addr,
	uint16_t *port, struct ct_ftp_match *mt);
/* The text NAT puts in place of an announcement of type type (PORT and
 * 227: "a,b,c,d,p1,p2"; EPRT: "|1|a.b.c.d|port|" or "|2|v6|port|"; EPSV:
 * "|||port|") into out[0..cap); returns its length, 0 if it does not fit. */
uint32_t ct_ftp_format(uint8_t type, uint8_t fam, const uint8_t *addr, uint16_t port, char *out,
	uint32_t cap);

/* IRC (nf_conntrack_irc), exposed for tests and fuzzing: does the payload
 * pl[0..n) of a segment from the client announce a DCC connection? As the
 * kernel reads it: the first 4095 bytes, blanks and line ends skipped,
 * then "PRIVMSG " (any case; not required of a payload of 10 bytes or
 * less), then at the first " :" "\1DCC " and one of "SEND ", "CHAT ",
 * "MOVE ", "TSEND ", "SCHAT ", a word (the file name), the address as a
 * decimal number (host order, the kernel's simple_strtoul cut to 32 bits),
 * blanks, the port (cut to 16 bits), with a newline somewhere after the
 * word. An announcement of port 0 or of an address other than ok[0] and
 * ok[1] (host order; ok NULL: any) is passed over (the kernel's "Forged
 * DCC command") and the reading goes on. Fills *ip (host order), *port
 * and, as the kernel's matchoff and matchlen, where the address and port
 * text lies (*off, *len). */
bool ct_irc_parse(const uint8_t *pl, uint32_t n, const uint32_t *ok, uint32_t *ip,
	uint16_t *port, uint32_t *off, uint32_t *len);

#endif
