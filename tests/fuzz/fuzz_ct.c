/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ct: hostile packet sequences through the connection tracker: TCP
 * options and windows, ICMP errors quoting anything, IPv6 extension
 * headers, a tiny table (early drop, the wheel, kills). The input is a
 * list of records: u16 length, u8 flags (bit 0: IPv6, bit 1: confirm,
 * bits 2-3: advance the clock, bit 4: kill what it found, bit 5: CT_IN_ASK,
 * bits 6-7: the helper a new connection gets (FTP, TFTP, IRC), whose
 * parser then reads the payload of every packet found), then the IP
 * packet. The whole input is also read as an IRC client's segment.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "ct_help.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *zalloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (p)
		memset(p, 0, n);
	return p;
}

/* what the dataplane's parser would give the tracker */
static int mkpkt(const uint8_t *ip, uint32_t len, int v6, struct ct_pkt *p)
{
	memset(p, 0, sizeof(*p));
	if (ct_tuple_from_ip(ip, len, v6 ? 6 : 4, &p->t) < 0)
		return -1;
	uint32_t off;
	uint32_t iplen;
	if (!v6) {
		off = (uint32_t)(ip[0] & 15) * 4;
		iplen = (uint32_t)ip[2] << 8 | ip[3];
	} else {
		off = 40;
		iplen = 40 + ((uint32_t)ip[4] << 8 | ip[5]);
		if (ip[6] != p->t.proto)
			return -1; /* extension headers: keep the offsets simple */
	}
	if (iplen > len || iplen < off)
		iplen = len;
	p->l3 = ip;
	p->l4 = ip + off;
	p->l4_len = iplen - off;
	p->l4_cap = len - off < p->l4_len ? len - off : p->l4_len;
	p->len = iplen;
	p->l4_ok = 1;
	uint8_t pr = p->t.proto;
	if (pr == 6) {
		if (p->l4_cap < 20)
			return -1;
		uint32_t doff = (uint32_t)(p->l4[12] >> 4) * 4;
		if (doff < 20 || doff > p->l4_cap)
			return -1; /* the parser drops these */
		p->tcp_flags = p->l4[13];
	} else if (pr == 1 || pr == 58) {
		if (p->l4_cap < 8)
			return -1;
		p->icmp_type = p->l4[0];
		p->icmp_code = p->l4[1];
		uint8_t t = p->l4[0];
		p->icmp_err = pr == 1 ? (t == 3 || t == 4 || t == 5 || t == 11 || t == 12) : t < 128;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_params par;
	ct_params_default(&par);
	par.max = 64;
	par.max6 = 16;
	/* a timeout policy (CT --timeout): short everywhere */
	par.n_tpol = 1;
	for (unsigned k = 0; k < CT_TO_COUNT; k++)
		par.tpol[0][k] = 1 + k % 3;
	uint32_t dcc_ip, off, dl;
	uint16_t port;
	if (ct_irc_parse(data, (uint32_t)size, NULL, &dcc_ip, &port, &off, &dl) &&
	    (off > size || dl > size - off || port == 0))
		abort(); /* the announcement must lie inside the segment */
	uint32_t now = 1000;
	struct ct_table *t = ct_table_create(&par, now, zalloc, free);
	if (t == NULL)
		return 0;
	t->exp = ct_expect_create(16, zalloc);
	/* zones (CT --zone) from the flags' bits 3-5 */
	if (ct_side_enable(t, CT_SIDE_ZONES | CT_SIDE_TPOL | CT_SIDE_CTEV) < 0) {
		free(t->exp);
		ct_table_destroy(t);
		return 0;
	}
	size_t i = 0;
	while (i + 3 <= size) {
		uint32_t len = (uint32_t)data[i] << 8 | data[i + 1];
		uint8_t fl = data[i + 2];
		i += 3;
		if (len > size - i)
			len = (uint32_t)(size - i);
		/* a copy of exactly len bytes: reads past it are caught */
		uint8_t *ip = malloc(len ? len : 1);
		if (ip == NULL)
			break;
		memcpy(ip, data + i, len);
		i += len;
		struct ct_pkt p;
		if (mkpkt(ip, len, fl & 1, &p) == 0) {
			struct ct_res r;
			p.helper = (uint8_t)((fl >> 6) % CT_HELPER_MAX);
			/* no zone, zone 1 or 2 both ways, or one direction's */
			static const uint16_t zz[8][2] = { { 0, 0 }, { 0, 0 }, { 1, 1 }, { 2, 2 },
							   { 1, 0 }, { 0, 1 }, { 2, 0 }, { 0, 2 } };
			unsigned zi = (fl >> 3) & 7;
			p.t.zo = zz[zi][0];
			p.t.zr = zz[zi][1];
			p.t.zone = p.t.zo;
			p.tpol = (uint8_t)(fl >> 7); /* with the helper's high bit: none or policy 1 */
			ct_in(t, &p, ct_hash(&p.t), now, true, (fl & 0x20) ? CT_IN_ASK : 0, &r);
			if (r.idx != CT_NIL && r.helper && t->e[r.idx].fam) {
				uint32_t h = p.t.proto == 6 ? (uint32_t)(p.l4[12] >> 4) * 4 : 8;
				uint32_t seq = p.t.proto == 6 ? (uint32_t)p.l4[4] << 24 |
					(uint32_t)p.l4[5] << 16 | (uint32_t)p.l4[6] << 8 | p.l4[7] : 0;
				if (h <= p.l4_cap) {
					/* the helper on a copy of the payload with room to
					 * grow; a connection made to look translated (its
					 * tuples stay mirrored: NAT to its own address)
					 * has its announcements rewritten, and every later
					 * segment's numbers adjusted */
					if (fl & 0x08)
						t->e[r.idx].status |= CT_S_SRC_NAT;
					uint32_t n = p.l4_cap - h;
					uint8_t *pl = malloc(n + 64), *th = malloc(h ? h : 1);
					if (pl != NULL && th != NULL) {
						memcpy(pl, p.l4 + h, n);
						struct ct_help_buf b = { pl, n, n + 64 };
						if (ct_help(t, r.idx, r.dir, seq, &b, now) ==
							    CT_HELP_MANGLED &&
						    b.n > n + 64)
							abort();
						memcpy(th, p.l4, h);
						if (p.t.proto == 6)
							ct_seqadj(t, r.idx, r.dir, th, h);
					}
					free(pl);
					free(th);
				}
			}
			if (fl & 2)
				ct_confirm(t, &r);
			if ((fl & 0x10) && r.idx != CT_NIL && !r.fresh)
				ct_kill(t, r.idx);
			if (r.idx != CT_NIL && t->e[r.idx].fam) {
				char buf[512];
				ct_format(t, r.idx, now, buf, sizeof(buf));
			}
		}
		free(ip);
		now += (uint32_t)((fl >> 2) & 3) * 40 * CT_HZ;
		ct_expire(t, now, 64);
	}
	ct_abort(t);
	free(t->exp);
	ct_table_destroy(t);
	return 0;
}
