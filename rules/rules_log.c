/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_log: one packet as the kernel's LOG target writes it.
 *
 * The format is the one operators grep for in their kernel logs
 * (nf_log_syslog: "IN=... OUT=... MAC=... SRC=... DST=... LEN=..."), field
 * for field, with the same trailing space after every field, the same
 * hexadecimal and decimal choices and the same handling of truncated
 * headers ("INCOMPLETE [n bytes]") and of fragments (no transport fields
 * after the first fragment). ICMP errors print the packet they carry in
 * brackets, once (the kernel does not recurse deeper either). IPv6
 * addresses are printed in full, as the kernel's %pI6 does.
 *
 * Control thread only (formatting is slow work); reads only ip[0..len).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"

struct lbuf {
	char *s;
	size_t size, len; /* len: what would have been written */
};

static void add(struct lbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct lbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = b->len < b->size ? b->size - b->len : 0;
	int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void hex_opts(struct lbuf *b, const uint8_t *p, size_t n)
{
	add(b, "OPT (");
	for (size_t i = 0; i < n; i++)
		add(b, "%02X", p[i]);
	add(b, ") ");
}

static void tcp_fields(struct lbuf *b, const uint8_t *th, size_t avail, unsigned flags)
{
	if (avail < 20) {
		add(b, "INCOMPLETE [%zu bytes] ", avail);
		return;
	}
	add(b, "SPT=%u DPT=%u ", be16(th), be16(th + 2));
	if (flags & RULES_LOG_TCPSEQ)
		add(b, "SEQ=%u ACK=%u ", be32(th + 4), be32(th + 8));
	add(b, "WINDOW=%u ", be16(th + 14));
	/* the 4 reserved bits, as the kernel shifts them out of the flag word */
	add(b, "RES=0x%02x ", (unsigned)((be32(th + 12) & 0x0F000000u) >> 22) & 0xff);
	static const struct {
		uint8_t bit;
		const char *name;
	} fl[] = {{0x80, "CWR "}, {0x40, "ECE "}, {0x20, "URG "}, {0x10, "ACK "},
		  {0x08, "PSH "}, {0x04, "RST "}, {0x02, "SYN "}, {0x01, "FIN "}};
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (th[13] & fl[i].bit)
			add(b, "%s", fl[i].name);
	add(b, "URGP=%u ", be16(th + 18));
	size_t doff = (size_t)(th[12] >> 4) * 4;
	if ((flags & RULES_LOG_TCPOPT) && doff > 20) {
		if (doff > avail)
			add(b, "OPT (INCOMPLETE [%zu bytes]) ", avail);
		else
			hex_opts(b, th + 20, doff - 20);
	}
}

static void udp_fields(struct lbuf *b, const uint8_t *uh, size_t avail)
{
	if (avail < 8) {
		add(b, "INCOMPLETE [%zu bytes] ", avail);
		return;
	}
	add(b, "SPT=%u DPT=%u LEN=%u ", be16(uh), be16(uh + 2), be16(uh + 4));
}

static void dump4(struct lbuf *b, const uint8_t *ip, size_t len, unsigned flags, int depth);
static void dump6(struct lbuf *b, const uint8_t *ip, size_t len, unsigned flags, int depth);

static void icmp4_fields(struct lbuf *b, const uint8_t *ic, size_t avail, unsigned flags, int depth)
{
	/* minimum lengths per type, as the kernel's table */
	static const uint8_t required[19] = {[0] = 8,  [3] = 8 + 20, [4] = 8 + 20, [5] = 8 + 20,
					     [8] = 8,  [11] = 8 + 20, [12] = 8 + 20, [13] = 20,
					     [14] = 20, [15] = 8,  [16] = 8, [17] = 12, [18] = 12};
	if (avail < 4) {
		add(b, "INCOMPLETE [%zu bytes] ", avail);
		return;
	}
	add(b, "TYPE=%u CODE=%u ", ic[0], ic[1]);
	if (ic[0] <= 18 && required[ic[0]] && avail < required[ic[0]]) {
		add(b, "INCOMPLETE [%zu bytes] ", avail);
		return;
	}
	switch (ic[0]) {
	case 0:
	case 8:
		add(b, "ID=%u SEQ=%u ", be16(ic + 4), be16(ic + 6));
		break;
	case 12:
		add(b, "PARAMETER=%u ", ic[4]);
		break;
	case 5:
		add(b, "GATEWAY=%u.%u.%u.%u ", ic[4], ic[5], ic[6], ic[7]);
		/* fall through */
	case 3:
	case 4:
	case 11:
		if (depth == 0) {
			add(b, "[");
			dump4(b, ic + 8, avail - 8, flags, depth + 1);
			add(b, "] ");
		}
		if (ic[0] == 3 && ic[1] == 4)
			add(b, "MTU=%u ", be16(ic + 6));
		break;
	default:
		break;
	}
}

static void dump4(struct lbuf *b, const uint8_t *ip, size_t len, unsigned flags, int depth)
{
	if (len < 20) {
		add(b, "TRUNCATED");
		return;
	}
	add(b, "SRC=%u.%u.%u.%u DST=%u.%u.%u.%u ", ip[12], ip[13], ip[14], ip[15], ip[16], ip[17],
	    ip[18], ip[19]);
	unsigned fo = be16(ip + 6);
	add(b, "LEN=%u TOS=0x%02X PREC=0x%02X TTL=%u ID=%u ", be16(ip + 2), ip[1] & 0x1e,
	    ip[1] & 0xe0, ip[8], be16(ip + 4));
	if (fo & 0x8000)
		add(b, "CE ");
	if (fo & 0x4000)
		add(b, "DF ");
	if (fo & 0x2000)
		add(b, "MF ");
	if (fo & 0x1fff)
		add(b, "FRAG:%u ", fo & 0x1fff);
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if ((flags & RULES_LOG_IPOPT) && ihl > 20) {
		if (ihl > len)
			add(b, "INCOMPLETE [%zu bytes] ", len);
		else
			hex_opts(b, ip + 20, ihl - 20);
	}
	if (ihl < 20 || ihl > len) {
		add(b, "PROTO=%u ", ip[9]);
		return;
	}
	const uint8_t *l4 = ip + ihl;
	size_t avail = len - ihl;
	bool later = (fo & 0x1fff) != 0;
	switch (ip[9]) {
	case 6:
		add(b, "PROTO=TCP ");
		if (!later)
			tcp_fields(b, l4, avail, flags);
		break;
	case 17:
	case 136:
		add(b, "PROTO=%s ", ip[9] == 17 ? "UDP" : "UDPLITE");
		if (!later)
			udp_fields(b, l4, avail);
		break;
	case 1:
		add(b, "PROTO=ICMP ");
		if (!later)
			icmp4_fields(b, l4, avail, flags, depth);
		break;
	case 51:
	case 50:
		add(b, "PROTO=%s ", ip[9] == 51 ? "AH" : "ESP");
		if (!later && avail >= (ip[9] == 51 ? 8u : 4u))
			add(b, "SPI=0x%x ", be32(l4 + (ip[9] == 51 ? 4 : 0)));
		else if (!later)
			add(b, "INCOMPLETE [%zu bytes] ", avail);
		break;
	default:
		add(b, "PROTO=%u ", ip[9]);
		break;
	}
}

static void addr6(struct lbuf *b, const uint8_t *a)
{
	for (int i = 0; i < 16; i += 2)
		add(b, "%s%02x%02x", i ? ":" : "", a[i], a[i + 1]);
}

static void dump6(struct lbuf *b, const uint8_t *ip, size_t len, unsigned flags, int depth)
{
	if (len < 40) {
		add(b, "TRUNCATED");
		return;
	}
	add(b, "SRC=");
	addr6(b, ip + 8);
	add(b, " DST=");
	addr6(b, ip + 24);
	add(b, " ");
	uint32_t w = be32(ip);
	add(b, "LEN=%u TC=%u HOPLIMIT=%u FLOWLBL=%u ", be16(ip + 4) + 40, (w & 0x0ff00000u) >> 20,
	    ip[7], w & 0x000fffffu);
	uint8_t nh = ip[6];
	size_t off = 40;
	bool later = false;
	for (int guard = 0; guard < 16; guard++) {
		if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
			if (len < off + 8) {
				add(b, "INCOMPLETE [%zu bytes] ", len > off ? len - off : 0);
				return;
			}
			size_t hl = nh == 51 ? ((size_t)ip[off + 1] + 2) * 4 : ((size_t)ip[off + 1] + 1) * 8;
			if ((flags & RULES_LOG_IPOPT) && nh != 51)
				add(b, "%s ", nh == 0 ? "HOPOPTS" : nh == 43 ? "ROUTING" : "DSTOPTS");
			if (nh == 51) {
				add(b, "AH ");
				if (flags & RULES_LOG_IPOPT)
					add(b, "SPI=0x%x ", be32(ip + off + 4));
			}
			nh = ip[off];
			off += hl;
			continue;
		}
		if (nh == 44) {
			if (len < off + 8) {
				add(b, "INCOMPLETE [%zu bytes] ", len > off ? len - off : 0);
				return;
			}
			unsigned fo = be16(ip + off + 2);
			add(b, "FRAG:%u ", fo & 0xfff8);
			if (fo & 0x0001)
				add(b, "MF ");
			if (flags & RULES_LOG_IPOPT)
				add(b, "ID:%08x ", be32(ip + off + 4));
			later = (fo & 0xfff8) != 0;
			nh = ip[off];
			off += 8;
			if (later)
				break;
			continue;
		}
		break;
	}
	if (later) {
		add(b, "PROTO=%u ", nh);
		return;
	}
	const uint8_t *l4 = off <= len ? ip + off : ip + len;
	size_t avail = off <= len ? len - off : 0;
	switch (nh) {
	case 6:
		add(b, "PROTO=TCP ");
		tcp_fields(b, l4, avail, flags);
		break;
	case 17:
	case 136:
		add(b, "PROTO=%s ", nh == 17 ? "UDP" : "UDPLITE");
		udp_fields(b, l4, avail);
		break;
	case 58:
		add(b, "PROTO=ICMPv6 ");
		if (avail < 4) {
			add(b, "INCOMPLETE [%zu bytes] ", avail);
			break;
		}
		add(b, "TYPE=%u CODE=%u ", l4[0], l4[1]);
		if (l4[0] == 128 || l4[0] == 129) {
			if (avail >= 8)
				add(b, "ID=%u SEQ=%u ", be16(l4 + 4), be16(l4 + 6));
		} else if (l4[0] >= 1 && l4[0] <= 4) {
			if (depth == 0 && avail > 8) {
				add(b, "[");
				dump6(b, l4 + 8, avail - 8, flags, depth + 1);
				add(b, "] ");
			}
			if (l4[0] == 2 && avail >= 8)
				add(b, "MTU=%u ", be32(l4 + 4));
		}
		break;
	case 59:
		add(b, "PROTO=NONE ");
		break;
	default:
		add(b, "PROTO=%u ", nh);
		break;
	}
}

int rules_log_format(char *buf, size_t size, const char *prefix, const char *in, const char *out,
	const uint8_t *mac, const uint8_t *ip, size_t len, int fam, unsigned flags)
{
	struct lbuf b = {.s = buf, .size = size, .len = 0};
	if (size)
		buf[0] = '\0';
	add(&b, "%sIN=%s OUT=%s ", prefix ? prefix : "", in ? in : "", out ? out : "");
	if (mac) {
		if (flags & RULES_LOG_MACDECODE) {
			add(&b, "MACSRC=%02x:%02x:%02x:%02x:%02x:%02x MACDST=%02x:%02x:%02x:%02x:%02x:%02x "
				"MACPROTO=%04x ",
			    mac[6], mac[7], mac[8], mac[9], mac[10], mac[11], mac[0], mac[1], mac[2], mac[3],
			    mac[4], mac[5], be16(mac + 12));
		} else {
			add(&b, "MAC=");
			for (int i = 0; i < 14; i++)
				add(&b, i ? ":%02x" : "%02x", mac[i]);
			add(&b, " ");
		}
	}
	if (fam == RULES_F_V6)
		dump6(&b, ip, len, flags, 0);
	else
		dump4(&b, ip, len, flags, 0);
	return b.len > (size_t)INT32_MAX ? INT32_MAX : (int)b.len;
}
