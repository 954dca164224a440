/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cbgen: a ClassBench-like generator of firewall rules and packets, for
 * rampart-bench's filter-N scenarios and the classifier tests. Seeded and
 * reproducible (its own xorshift generator, no libc rand).
 *
 * Rules look like ClassBench's ACL seeds: source and destination prefixes
 * of length 16..32 grown from a limited set of trunk networks (so they nest
 * and overlap), some wildcards (never both addresses and the port at once),
 * mostly TCP and UDP, destination ports exact (well known or not), ranges
 * (1024:65535, 6000:6063, ...) or any, source ports mostly any; ACCEPT,
 * DROP, and some rules without a target (counting only).
 */
#ifndef RP_CBGEN_H
#define RP_CBGEN_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "rules_prog.h"

struct cbgen_rule {
	uint32_t src, dst; /* host order */
	uint8_t splen, dplen;
	uint8_t proto;     /* 0: any */
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;
	uint8_t action;    /* 0 ACCEPT, 1 DROP, 2 none */
};

struct cbgen {
	uint64_t state;
	uint32_t n;
	struct cbgen_rule *r;
};

/* Generate n rules; 0 or -ENOMEM. */
int cbgen_rules(struct cbgen *g, uint64_t seed, uint32_t n);
void cbgen_free(struct cbgen *g);
/* iptables-restore text: *filter, FORWARD policy ACCEPT, the rules. malloc'd. */
char *cbgen_restore_text(const struct cbgen *g, size_t *len);
/* A packet that matches rule i (IPv4, l4 set, ports and addresses inside it). */
void cbgen_packet_in(struct cbgen *g, uint32_t i, struct rules_pkt *p);
/* A packet from address space no rule's prefixes were grown from. */
void cbgen_packet_miss(struct cbgen *g, struct rules_pkt *p);

#endif
