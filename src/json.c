/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json: the streaming JSON writer (json.h).
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Before a value: the separator from the previous element, if any; in
 * an array, an object or array after the first starts a new line. */
static void sep_c(struct json *j, bool container)
{
	if (j->key) {
		j->key = false;
		return;
	}
	if (j->depth == 0)
		return;
	unsigned d = j->depth - 1;
	if (d < JSON_DEPTH_MAX) {
		if (j->more[d])
			fputs(j->arr[d] && container ? ",\n" : ",", j->f);
		j->more[d] = true;
	}
}

static void sep(struct json *j)
{
	sep_c(j, false);
}

static void open_c(struct json *j, char c, bool arr)
{
	sep_c(j, true);
	fputc(c, j->f);
	if (j->depth < JSON_DEPTH_MAX) {
		j->more[j->depth] = false;
		j->arr[j->depth] = arr;
	}
	j->depth++;
}

static void close_c(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	j->key = false;
	fputc(c, j->f);
}

void json_obj(struct json *j)
{
	open_c(j, '{', false);
}

void json_obj_end(struct json *j)
{
	close_c(j, '}');
}

void json_arr(struct json *j)
{
	open_c(j, '[', true);
}

void json_arr_end(struct json *j)
{
	close_c(j, ']');
}

void json_key(struct json *j, const char *k)
{
	sep(j);
	json_escape(j->f, k, strlen(k));
	fputc(':', j->f);
	j->key = true;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0; /* a continuation byte, an overlong lead (c0, c1) or beyond U+10FFFF */
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range, or a UTF-16 surrogate */
	return len;
}

void json_escape(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (l == 0) {
				fputs("\\ufffd", f);
				i++;
			} else {
				fwrite(p + i, 1, l, f);
				i += l;
			}
		}
	}
	fputc('"', f);
}

void json_strn(struct json *j, const char *s, size_t n)
{
	sep(j);
	json_escape(j->f, s, n);
}

void json_str(struct json *j, const char *s)
{
	if (s == NULL)
		json_null(j);
	else
		json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	sep(j);
	fputs("null", j->f);
}

void json_milli(struct json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64 ".%03" PRIu64, v / 1000, v % 1000);
}

void json_kstr(struct json *j, const char *k, const char *s)
{
	json_key(j, k);
	json_str(j, s);
}

void json_ku64(struct json *j, const char *k, uint64_t v)
{
	json_key(j, k);
	json_u64(j, v);
}

void json_kbool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}
