/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_proto: the control protocol's framing and word encoding (ctl.h).
 * Pure functions on buffers: the server, rampartctl and the fuzzer share
 * them.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The body length of a "<<N" word, or -1 if w is not one. */
static long long body_word(const char *w, size_t n)
{
	if (n < 3 || w[0] != '<' || w[1] != '<')
		return -1;
	long long v = 0;
	for (size_t i = 2; i < n; i++) {
		if (w[i] < '0' || w[i] > '9' || n - 2 > 10)
			return -2;
		v = v * 10 + (w[i] - '0');
	}
	return v;
}

int rp_ctl_frame(const char *buf, size_t len, size_t *head, size_t *body_off, size_t *body_len,
	char *err, size_t errlen)
{
	*head = *body_off = *body_len = 0; /* defined on every return */
	const char *nl = memchr(buf, '\n', len < CTL_HEAD_MAX + 1 ? len : CTL_HEAD_MAX + 1);
	if (nl == NULL) {
		if (len > CTL_HEAD_MAX) {
			snprintf(err, errlen, "request header longer than %u bytes", CTL_HEAD_MAX);
			return -1;
		}
		return 0;
	}
	size_t h = (size_t)(nl - buf);
	/* the last word */
	size_t e = h;
	while (e > 0 && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r'))
		e--;
	size_t b = e;
	while (b > 0 && buf[b - 1] != ' ' && buf[b - 1] != '\t')
		b--;
	long long n = body_word(buf + b, e - b);
	if (n == -2 || n > (long long)CTL_BODY_MAX) {
		snprintf(err, errlen, "bad body length (\"<<N\", N at most %u)", CTL_BODY_MAX);
		return -1;
	}
	*head = h;
	*body_off = h + 1;
	*body_len = n > 0 ? (size_t)n : 0;
	if (len < *body_off + *body_len)
		return 0;
	if (len > *body_off + *body_len) {
		snprintf(err, errlen, "bytes after the request (one request per connection)");
		return -1;
	}
	return 1;
}

int rp_ctl_decode(char *line, char **argv, int max, char *err, size_t errlen)
{
	int argc = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		char *w = p, *o = p;
		if (p[0] == '<' && p[1] == '<') {
			/* the body marker, as written (an encoded '<' is an argument) */
			size_t n = strcspn(p, " \t\r");
			char *q = p + n;
			while (*q == ' ' || *q == '\t' || *q == '\r')
				q++;
			if (*q == '\0' && body_word(p, n) >= 0)
				break;
		}
		if (p[0] == '%' && p[1] == '0' && p[2] == '0' &&
		    (p[3] == '\0' || p[3] == ' ' || p[3] == '\t' || p[3] == '\r'))
			p += 3; /* "%00" alone: the empty word */
		while (*p && *p != ' ' && *p != '\t' && *p != '\r') {
			unsigned char c = (unsigned char)*p;
			if (c == '%') {
				int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
				if (hi < 0 || lo < 0) {
					snprintf(err, errlen, "word %d: '%%' must be followed by two hex digits",
						 argc + 1);
					return -1;
				}
				c = (unsigned char)(hi << 4 | lo);
				p += 3;
			} else {
				p++;
			}
			if (c < 0x20 || c == 0x7f) {
				snprintf(err, errlen, "word %d: control character 0x%02x", argc + 1, c);
				return -1;
			}
			*o++ = (char)c;
		}
		bool last = *p == '\0';
		if (!last)
			p++;
		*o = '\0';
		if (argc == max) {
			snprintf(err, errlen, "too many words (at most %d)", max);
			return -1;
		}
		argv[argc++] = w;
		if (last)
			break;
	}
	if (argc < max)
		argv[argc] = NULL;
	return argc;
}

size_t rp_ctl_encode(const char *word, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)word; *p; p++) {
		/* what could split, frame or be read as a marker is escaped */
		bool esc = *p <= 0x20 || *p == 0x7f || *p == '%' || *p == '<' || *p >= 0x80;
		if (n + (esc ? 3 : 1) + 1 > outlen)
			return (size_t)-1;
		if (esc) {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		} else {
			out[n++] = (char)*p;
		}
	}
	if (n == 0) { /* an empty word */
		if (outlen < 4)
			return (size_t)-1;
		memcpy(out, "%00", 3);
		n = 3;
	}
	out[n] = '\0';
	return n;
}
