/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_log: one packet as the kernel's LOG target writes it.
 *
 * The format is the one operators grep for in their kernel logs
 * (nf_log_syslog: "IN=... OUT=... MAC=... SRC=... DST=... LEN=..."), field
 * for field, with the same trailing space after every field, the same
 * hexadecimal and decimal choices and the same handling of truncated
 * headers ("INCOMPLETE [n bytes]", "TRUNCATED") and of fragments (no
 * transport fields after the first fragment). ICMP errors print the packet
 * they carry in brackets, once (the kernel does not recurse deeper either).
 * IPv6 addresses are printed in full, as the kernel's %pI6 does; IPv6
 * extension headers as nf_log_syslog's dump_ipv6_packet walks them. Each
 * function below is named after the kernel's it follows (Linux 6.18);
 * test_log.c holds lines the kernel wrote for the same packets. Not
 * printed: UID=/GID= (no local sockets). MARK= ends the line of a marked
 * packet, unless a transport header was cut short (the kernel returns
 * before it too).
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

/*
 * The packet as the kernel's skb: len is skb->len (from the network
 * header of the outer packet to its end, the length its IP header
 * declares), cap the bytes we hold (the record's snap: at most len). A
 * header is read, as skb_header_pointer reads it, only when it lies whole
 * within the packet; one that lies within len but past cap (cut by the
 * snap) is treated as missing, with the kernel's counts ("INCOMPLETE [n
 * bytes]" is len - offset, in unsigned 32-bit arithmetic as the kernel's,
 * so an offset past the end prints a wrapped count as it does).
 */
struct pk {
	const uint8_t *p;
	uint32_t cap, len;
	uint32_t mark; /* skb->mark, printed at the end of the outer packet */
};

static const uint8_t *hp(const struct pk *k, uint32_t off, uint32_t n)
{
	return (uint64_t)off + n <= k->cap ? k->p + off : NULL;
}

static void hex_opts(struct lbuf *b, const uint8_t *p, size_t n)
{
	add(b, "OPT (");
	for (size_t i = 0; i < n; i++)
		add(b, "%02X", p[i]);
	add(b, ") ");
}

/* nf_log_dump_tcp_header */
/* true: the line ends here (the kernel's helpers return 1) */
static bool tcp_fields(struct lbuf *b, const struct pk *k, bool fragment, uint32_t off,
		       unsigned flags)
{
	add(b, "PROTO=TCP ");
	if (fragment)
		return false;
	const uint8_t *th = hp(k, off, 20);
	if (th == NULL) {
		add(b, "INCOMPLETE [%u bytes] ", k->len - off);
		return true;
	}
	add(b, "SPT=%u DPT=%u ", rules_rd16(th), rules_rd16(th + 2));
	if (flags & RULES_LOG_TCPSEQ)
		add(b, "SEQ=%u ACK=%u ", rules_rd32(th + 4), rules_rd32(th + 8));
	add(b, "WINDOW=%u ", rules_rd16(th + 14));
	/* TCP_RESERVED_BITS (0x0E000000 of the flag word since AccECN took
	 * its low bit as AE), shifted as the kernel shifts them */
	add(b, "RES=0x%02x ", (unsigned)((rules_rd32(th + 12) & 0x0E000000u) >> 22) & 0xff);
	if (th[12] & 0x01)
		add(b, "AE ");
	static const struct {
		uint8_t bit;
		const char *name;
	} fl[] = {{0x80, "CWR "}, {0x40, "ECE "}, {0x20, "URG "}, {0x10, "ACK "},
		  {0x08, "PSH "}, {0x04, "RST "}, {0x02, "SYN "}, {0x01, "FIN "}};
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (th[13] & fl[i].bit)
			add(b, "%s", fl[i].name);
	add(b, "URGP=%u ", rules_rd16(th + 18));
	uint32_t doff = (uint32_t)(th[12] >> 4) * 4;
	if ((flags & RULES_LOG_TCPOPT) && doff > 20) {
		const uint8_t *op = hp(k, off + 20, doff - 20);
		if (op == NULL) {
			add(b, "OPT (TRUNCATED)");
			return true;
		}
		hex_opts(b, op, doff - 20);
	}
	return false;
}

/* nf_log_dump_udp_header */
static bool udp_fields(struct lbuf *b, const struct pk *k, uint8_t proto, bool fragment,
		       uint32_t off)
{
	add(b, "PROTO=%s ", proto == 17 ? "UDP" : "UDPLITE");
	if (fragment)
		return false;
	const uint8_t *uh = hp(k, off, 8);
	if (uh == NULL) {
		add(b, "INCOMPLETE [%u bytes] ", k->len - off);
		return true;
	}
	add(b, "SPT=%u DPT=%u LEN=%u ", rules_rd16(uh), rules_rd16(uh + 2), rules_rd16(uh + 4));
	return false;
}

/* dump_ipv4_packet: the IPv4 packet at off (0: the outer one, which alone
 * may quote another, as the kernel recurses once) */
static void dump4(struct lbuf *b, const struct pk *k, uint32_t off, unsigned flags)
{
	const uint8_t *ih = hp(k, off, 20);
	if (ih == NULL) {
		add(b, "TRUNCATED");
		return;
	}
	add(b, "SRC=%u.%u.%u.%u DST=%u.%u.%u.%u ", ih[12], ih[13], ih[14], ih[15], ih[16], ih[17],
	    ih[18], ih[19]);
	unsigned fo = rules_rd16(ih + 6);
	add(b, "LEN=%u TOS=0x%02X PREC=0x%02X TTL=%u ID=%u ", rules_rd16(ih + 2), ih[1] & 0x1e,
	    ih[1] & 0xe0, ih[8], rules_rd16(ih + 4));
	if (fo & 0x8000)
		add(b, "CE ");
	if (fo & 0x4000)
		add(b, "DF ");
	if (fo & 0x2000)
		add(b, "MF ");
	if (fo & 0x1fff)
		add(b, "FRAG:%u ", fo & 0x1fff);
	uint32_t ihl = (uint32_t)(ih[0] & 0xf) * 4;
	if ((flags & RULES_LOG_IPOPT) && ihl > 20) {
		const uint8_t *op = hp(k, off + 20, ihl - 20);
		if (op == NULL) {
			add(b, "TRUNCATED");
			return;
		}
		hex_opts(b, op, ihl - 20);
	}
	uint32_t l4 = off + ihl;
	bool later = (fo & 0x1fff) != 0;
	switch (ih[9]) {
	case 6:
		if (tcp_fields(b, k, later, l4, flags))
			return;
		break;
	case 17:
	case 136:
		if (udp_fields(b, k, ih[9], later, l4))
			return;
		break;
	case 1: {
		/* the kernel's required_len[], by type (NR_ICMP_TYPES 18) */
		static const uint8_t required[19] = {
		    [0] = 4,   [3] = 8 + 20,  [4] = 8 + 20,  [5] = 8 + 20,
		    [8] = 4,   [11] = 8 + 20, [12] = 8 + 20, [13] = 20,
		    [14] = 20, [17] = 12,     [18] = 12};
		add(b, "PROTO=ICMP ");
		if (later)
			break;
		const uint8_t *ic = hp(k, l4, 8);
		if (ic == NULL) {
			add(b, "INCOMPLETE [%u bytes] ", k->len - l4);
			break;
		}
		add(b, "TYPE=%u CODE=%u ", ic[0], ic[1]);
		if (ic[0] <= 18 && required[ic[0]] && k->len - l4 < required[ic[0]]) {
			add(b, "INCOMPLETE [%u bytes] ", k->len - l4);
			break;
		}
		switch (ic[0]) {
		case 0:
		case 8:
			add(b, "ID=%u SEQ=%u ", rules_rd16(ic + 4), rules_rd16(ic + 6));
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
			if (off == 0) {
				add(b, "[");
				dump4(b, k, l4 + 8, flags);
				add(b, "] ");
			}
			if (ic[0] == 3 && ic[1] == 4)
				add(b, "MTU=%u ", rules_rd16(ic + 6));
			break;
		default:
			break;
		}
		break;
	}
	case 51: {
		/* a later fragment: not even "PROTO=AH" (the kernel breaks first) */
		if (later)
			break;
		add(b, "PROTO=AH ");
		const uint8_t *ah = hp(k, l4, 12); /* struct ip_auth_hdr */
		if (ah == NULL)
			add(b, "INCOMPLETE [%u bytes] ", k->len - l4);
		else
			add(b, "SPI=0x%x ", rules_rd32(ah + 4));
		break;
	}
	case 50: {
		add(b, "PROTO=ESP ");
		if (later)
			break;
		const uint8_t *eh = hp(k, l4, 8); /* struct ip_esp_hdr */
		if (eh == NULL)
			add(b, "INCOMPLETE [%u bytes] ", k->len - l4);
		else
			add(b, "SPI=0x%x ", rules_rd32(eh));
		break;
	}
	default:
		add(b, "PROTO=%u ", ih[9]);
		break;
	}
	if (off == 0 && k->mark)
		add(b, "MARK=0x%x ", k->mark);
}

static void addr6(struct lbuf *b, const uint8_t *a)
{
	for (int i = 0; i < 16; i += 2)
		add(b, "%s%02x%02x", i ? ":" : "", a[i], a[i + 1]);
}

/*
 * dump_ipv6_packet: the IPv6 packet at off; recurse: the outer one, which
 * alone may quote another. The extension headers are walked as the kernel
 * walks them (nf_ip6_ext_hdr: hop-by-hop, routing, fragment, ESP, AH,
 * destination options; no-next-header stops the walk), with
 * --log-ip-options each inside "OPT ( ... ) ". After a later fragment a
 * hop-by-hop, routing or destination options header ends the line, and the
 * transport prints its PROTO= alone.
 */
static void dump6(struct lbuf *b, const struct pk *k, uint32_t off, unsigned flags, bool recurse)
{
	const bool opt = flags & RULES_LOG_IPOPT;
	const uint8_t *ih = hp(k, off, 40);
	if (ih == NULL) {
		add(b, "TRUNCATED");
		return;
	}
	add(b, "SRC=");
	addr6(b, ih + 8);
	add(b, " DST=");
	addr6(b, ih + 24);
	add(b, " ");
	uint32_t w = rules_rd32(ih);
	add(b, "LEN=%u TC=%u HOPLIMIT=%u FLOWLBL=%u ", rules_rd16(ih + 4) + 40, (w & 0x0ff00000u) >> 20,
	    ih[7], w & 0x000fffffu);
	bool fragment = false;
	uint32_t ptr = off + 40;
	uint8_t cur = ih[6];
	while (cur == 0 || cur == 43 || cur == 44 || cur == 50 || cur == 51 || cur == 60) {
		const uint8_t *h = hp(k, ptr, 2);
		if (h == NULL) {
			add(b, "TRUNCATED");
			return;
		}
		uint32_t hdrlen;
		if (opt)
			add(b, "OPT ( ");
		switch (cur) {
		case 44: {
			add(b, "FRAG:");
			const uint8_t *fh = hp(k, ptr, 8);
			if (fh == NULL) {
				add(b, "TRUNCATED ");
				return;
			}
			unsigned fo = rules_rd16(fh + 2);
			add(b, "%u ", fo & 0xfff8);
			if (fo & 0x0001)
				add(b, "INCOMPLETE ");
			add(b, "ID:%08x ", rules_rd32(fh + 4));
			if (fo & 0xfff8)
				fragment = true;
			hdrlen = 8;
			break;
		}
		case 51:
			if (opt) {
				add(b, "AH ");
				if (fragment) {
					add(b, ")");
					return;
				}
				const uint8_t *ah = hp(k, ptr, 12); /* struct ip_auth_hdr */
				if (ah == NULL) {
					add(b, "INCOMPLETE [%u bytes] )", k->len - ptr);
					return;
				}
				add(b, "SPI=0x%x ", rules_rd32(ah + 4));
			}
			hdrlen = ((uint32_t)h[1] + 2) * 4;
			break;
		case 50:
			/* ESP hides what follows: the line ends here */
			if (opt) {
				add(b, "ESP ");
				if (fragment) {
					add(b, ")");
					return;
				}
				const uint8_t *eh = hp(k, ptr, 8); /* struct ip_esp_hdr */
				if (eh == NULL) {
					add(b, "INCOMPLETE [%u bytes] )", k->len - ptr);
					return;
				}
				add(b, "SPI=0x%x )", rules_rd32(eh));
			}
			return;
		default: /* hop-by-hop, routing, destination options */
			if (fragment) {
				if (opt)
					add(b, ")");
				return;
			}
			hdrlen = ((uint32_t)h[1] + 1) * 8;
			break;
		}
		if (opt)
			add(b, ") ");
		cur = h[0];
		ptr += hdrlen;
	}
	switch (cur) {
	case 6:
		if (tcp_fields(b, k, fragment, ptr, flags))
			return;
		break;
	case 17:
	case 136:
		if (udp_fields(b, k, cur, fragment, ptr))
			return;
		break;
	case 58: {
		add(b, "PROTO=ICMPv6 ");
		if (fragment)
			break;
		const uint8_t *ic = hp(k, ptr, 8);
		if (ic == NULL) {
			add(b, "INCOMPLETE [%u bytes] ", k->len - ptr);
			return;
		}
		add(b, "TYPE=%u CODE=%u ", ic[0], ic[1]);
		switch (ic[0]) {
		case 128:
		case 129:
			add(b, "ID=%u SEQ=%u ", rules_rd16(ic + 4), rules_rd16(ic + 6));
			break;
		case 4: /* parameter problem */
			add(b, "POINTER=%08x ", rules_rd32(ic + 4));
			/* fall through */
		case 1:
		case 2:
		case 3:
			if (recurse) {
				add(b, "[");
				dump6(b, k, ptr + 8, flags, false);
				add(b, "] ");
			}
			if (ic[0] == 2)
				add(b, "MTU=%u ", rules_rd32(ic + 4));
			break;
		default: /* MLD (130-132) and the rest: type and code only */
			break;
		}
		break;
	}
	default:
		add(b, "PROTO=%u ", cur);
		break;
	}
	if (recurse && k->mark)
		add(b, "MARK=0x%x ", k->mark);
}

int rules_log_format(char *buf, size_t size, const char *prefix, const char *in, const char *out,
		     const uint8_t *mac, const uint8_t *ip, size_t len, int fam, unsigned flags,
		     uint32_t mark)
{
	struct lbuf b = {.s = buf, .size = size, .len = 0};
	if (size)
		buf[0] = '\0';
	add(&b, "%sIN=%s OUT=%s ", prefix ? prefix : "", in ? in : "", out ? out : "");
	if (mac) {
		if (flags & RULES_LOG_MACDECODE) {
			add(&b,
			    "MACSRC=%02x:%02x:%02x:%02x:%02x:%02x "
			    "MACDST=%02x:%02x:%02x:%02x:%02x:%02x "
			    "MACPROTO=%04x ",
			    mac[6], mac[7], mac[8], mac[9], mac[10], mac[11], mac[0], mac[1],
			    mac[2], mac[3], mac[4], mac[5], rules_rd16(mac + 12));
		} else {
			add(&b, "MAC=");
			for (int i = 0; i < 14; i++)
				add(&b, i ? ":%02x" : "%02x", mac[i]);
			add(&b, " ");
		}
	}
	/* skb->len: what the IP header declares (the kernel trims the frame to
	 * it on input; a jumbogram's 0 or a header we do not have: what we have) */
	uint32_t declared = 0;
	if (fam == RULES_F_V6 && len >= 6)
		declared = rules_rd16(ip + 4) ? rules_rd16(ip + 4) + 40 : 0;
	else if (fam != RULES_F_V6 && len >= 4)
		declared = rules_rd16(ip + 2);
	uint32_t have = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	struct pk k = {.p = ip, .len = declared ? declared : have, .mark = mark};
	k.cap = have < k.len ? have : k.len;
	if (fam == RULES_F_V6)
		dump6(&b, &k, 0, flags, true);
	else
		dump4(&b, &k, 0, flags);
	return b.len > (size_t)INT32_MAX ? INT32_MAX : (int)b.len;
}
