/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_drop: the one list of reasons a packet leaves the dataplane without
 * being sent. The X-macro generates the enum, the names shown by the CLI and
 * metrics, and the size of the per-worker, per-port counter arrays.
 */
#ifndef RP_DP_DROP_H
#define RP_DP_DROP_H

#define DP_DROP_REASONS(X)                                                                 \
	X(NONE, "none")                                                                    \
	X(SHORT_L2, "short_l2")              /* shorter than an Ethernet header */         \
	X(VLAN_DEPTH, "vlan_depth")          /* more than two 802.1Q tags */               \
	X(SHORT_ARP, "short_arp")            /* truncated or unsupported ARP */            \
	X(SHORT_IPV4, "short_ipv4")          /* truncated IPv4 header */                   \
	X(BAD_IPV4_VERSION, "bad_ipv4_version")                                            \
	X(BAD_IPV4_HLEN, "bad_ipv4_hlen")    /* IHL < 5 or beyond the packet */            \
	X(BAD_IPV4_LEN, "bad_ipv4_len")      /* total length < IHL or > frame */           \
	X(BAD_IPV4_CSUM, "bad_ipv4_csum")                                                  \
	X(BAD_IPV4_FRAG, "bad_ipv4_frag")    /* fragment offset overflows 64 KiB */        \
	X(SHORT_IPV6, "short_ipv6")                                                        \
	X(BAD_IPV6_VERSION, "bad_ipv6_version")                                            \
	X(BAD_IPV6_LEN, "bad_ipv6_len")      /* payload length beyond the frame */         \
	X(BAD_IPV6_EXTHDR, "bad_ipv6_exthdr") /* truncated or too long header chain */     \
	X(SHORT_TCP, "short_tcp")            /* truncated TCP header / bad data offset */  \
	X(SHORT_UDP, "short_udp")            /* truncated UDP header / bad length */       \
	X(SHORT_ICMP, "short_icmp")                                                        \
	X(SHORT_ICMP6, "short_icmp6")                                                      \
	X(MARTIAN_SRC, "martian_src")        /* source multicast, broadcast, loopback.. */ \
	X(MARTIAN_DST, "martian_dst")        /* destination we must not forward to */      \
	X(TTL_EXPIRED, "ttl_expired")        /* TTL/hop limit exhausted (ICMP sent) */     \
	X(NO_ROUTE, "no_route")              /* no route (ICMP unreachable sent) */        \
	X(MTU_EXCEEDED, "mtu_exceeded")      /* too big for the egress port */             \
	X(NEIGH_QUEUE_FULL, "neigh_queue_full") /* awaiting resolution, queue full */      \
	X(NEIGH_FAILED, "neigh_failed")      /* next hop did not answer ARP/NDP */         \
	X(PUNT_RING_FULL, "punt_ring_full")  /* slow-path ring to the control thread */    \
	X(ARP_IGNORED, "arp_ignored")        /* ARP not for us / invalid */                \
	X(ND_IGNORED, "nd_ignored")          /* ND not for us / invalid */                 \
	X(LOCAL_UNHANDLED, "local_unhandled") /* to the box, no local service */           \
	X(VLAN_UNSUPPORTED, "vlan_unsupported") /* tagged frame in router mode */          \
	X(L2_UNSUPPORTED, "l2_unsupported")  /* non-IP, non-ARP frame in router mode */    \
	X(NOT_FOR_US, "not_for_us")          /* unicast frame to another MAC (router) */   \
	X(ICMP_RATELIMIT, "icmp_ratelimit")  /* ICMP error suppressed by the rate limit */ \
	X(TX_FULL, "tx_full")                /* the tx queue did not take the packet */    \
	X(NON_CONTIGUOUS, "non_contiguous")  /* chained mbuf where a linear one is needed */ \
	X(NO_MBUF, "no_mbuf")                /* mempool exhausted */                       \
	X(FILTER_DROP, "filter_drop")        /* a rule or policy said DROP */              \
	X(FILTER_REJECT, "filter_reject")    /* a REJECT rule (response sent if allowed) */ \
	X(CT_FULL, "conntrack_full")         /* new connection, table full, nothing evictable */ \
	X(CT_CLASH, "conntrack_clash")       /* new connection whose reply tuple another has (zones) */ \
	X(HANDOFF_FULL, "handoff_full")      /* the next worker's hand-off ring was full */ \
	X(FRAG_TOO_BIG, "frag_too_big")      /* a reassembled datagram with no buffer to hold it */ \
	X(FRAG_INVALID, "frag_invalid")      /* a fragment reassembly refused (overlap, length, duplicate) */ \
	X(SOURCE_ROUTE, "source_route")      /* IPv4 LSRR/SSRR option (accept_source_route 0) */ \
	X(BAD_IPV4_OPTS, "bad_ipv4_opts")    /* IPv4 options whose lengths do not add up (router) */ \
	X(NAT_FAIL, "nat_fail")              /* no free tuple (port) for a new connection's NAT */ \
	X(HELPER, "helper")                  /* a helper could not rewrite a translated announcement */ \
	X(BAD_IPV6_OPTS, "bad_ipv6_opts")    /* a Hop-by-Hop option Linux refuses (router) */

enum dp_drop {
#define DP_DROP_ENUM(name, str) DP_DROP_##name,
	DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	DP_DROP_MAX
};

extern const char *const dp_drop_names[DP_DROP_MAX];

#endif
