/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_parse: libFuzzer target for pkt_parse(), the parser every received
 * frame goes through. The input is the frame, copied into a buffer of
 * exactly its size so ASan sees any read past its end. Beyond "no crash",
 * the result must describe only bytes that exist, parsing must be
 * deterministic, and checking the IPv4 checksum may only turn a pass into
 * DP_DROP_BAD_IPV4_CSUM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "pkt_meta.h"

#define CHECK(c)                                                                           \
	do {                                                                               \
		if (!(c))                                                                  \
			__builtin_trap();                                                  \
	} while (0)

static void check_sane(const struct pkt_meta *m, uint32_t len, uint8_t rc)
{
	CHECK(rc == m->drop && rc < DP_DROP_MAX);
	CHECK(m->pkt_len == len && m->n_vlan <= 2 && m->in_port == 3);
	if (rc != DP_DROP_NONE)
		return;
	CHECK(len >= 14 && m->l3_off == 14 + 4 * m->n_vlan && m->l3_off <= len);
	uint32_t end = len;
	if (m->l3 == PKT_L3_IPV4 || m->l3 == PKT_L3_IPV6) {
		end = (uint32_t)m->l3_off + m->l3_len;
		CHECK(end <= len && m->l3_len >= (m->l3 == PKT_L3_IPV4 ? 20 : 40));
	} else if (m->l3 == PKT_L3_ARP) {
		CHECK((uint32_t)m->l3_off + 28 <= len);
	} else {
		CHECK(m->l3 == PKT_L3_NONE && !(m->flags & (PKT_F_L4 | PKT_F_FRAG)));
	}
	if (m->flags & PKT_F_L4) {
		uint32_t need = m->l4_proto == IPPROTO_TCP ? 20
			: (m->l4_proto == IPPROTO_UDP || m->l4_proto == IPPROTO_ICMP ||
			   m->l4_proto == IPPROTO_ICMPV6)
			? 8
			: 0;
		CHECK(!(m->flags & PKT_F_FRAG_LATER));
		CHECK(m->l4_off >= m->l3_off + (m->l3 == PKT_L3_IPV4 ? 20u : 40u));
		CHECK(m->l4_off + need <= end);
	}
	if (m->flags & PKT_F_FRAG_LATER)
		CHECK((m->flags & PKT_F_FRAG) && m->l4_off <= end);
	if (m->frag_hdr_off)
		CHECK(m->l3 == PKT_L3_IPV6 && m->frag_hdr_off + 8u <= end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UINT16_MAX) /* an mbuf segment holds at most 64 KiB */
		return 0;
	uint8_t *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	uint8_t *frame = size ? buf : buf + 1; /* zero bytes readable */

	struct pkt_meta m0, m1, again;
	memset(&m0, 0xa5, sizeof(m0));
	m0.in_port = 3;
	m1 = m0;
	uint8_t rc0 = pkt_parse(frame, (uint32_t)size, &m0, 0);
	uint8_t rc1 = pkt_parse(frame, (uint32_t)size, &m1, 1);
	check_sane(&m0, (uint32_t)size, rc0);
	check_sane(&m1, (uint32_t)size, rc1);
	if (rc0 != rc1)
		CHECK(rc1 == DP_DROP_BAD_IPV4_CSUM && rc0 != DP_DROP_BAD_IPV4_CSUM);
	else
		CHECK(memcmp(&m0, &m1, sizeof(m0)) == 0);
	memset(&again, 0x5a, sizeof(again));
	again.in_port = 3;
	pkt_parse(frame, (uint32_t)size, &again, 0);
	CHECK(memcmp(&m0, &again, sizeof(m0)) == 0);
	/* the one-pass path for the common frame is the general parser's
	 * answer, field for field */
	for (int v = 0; v < 2; v++) {
		struct pkt_meta g;
		memset(&g, 0x3c, sizeof(g));
		g.in_port = 3;
		uint8_t rcg = pkt_parse_general(frame, (uint32_t)size, &g, v);
		CHECK(rcg == (v ? rc1 : rc0));
		CHECK(memcmp(&g, v ? &m1 : &m0, sizeof(g)) == 0);
	}
	free(buf);
	return 0;
}
