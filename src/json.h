/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json: a small streaming JSON writer (RFC 8259) onto a stdio stream, for
 * the control socket's `--json` listings (ctl_cmd.c, the dataplane's ctl
 * files). The one JSON writer of the code base.
 *
 * Values are written as they come, nothing is buffered: a listing of a
 * million connections is streamed. The writer puts the commas and tracks
 * nesting (at most JSON_DEPTH_MAX levels); the caller pairs json_obj() with
 * json_obj_end() and json_arr() with json_arr_end(), and inside an object
 * gives a key (json_key) before every value. Objects and arrays that are
 * elements of an array start on a new line after the first (",\n"): a
 * long listing stays readable with less and greppable, one connection or
 * rule a line, and no line of a document ever starts with '%' (the
 * control protocol's last line "%% ok" / "%% error" does).
 *
 * Strings: '"', '\\' and the control characters U+0000..U+001F are
 * escaped (\" \\ \u00XX); bytes that are not valid UTF-8 become U+FFFD,
 * so the document is always valid UTF-8 whatever the input. Numbers are
 * exact integers (uint64_t/int64_t printed in full) or fixed-point
 * decimals (json_milli: 1234 -> 1.234); no floating point.
 *
 * Errors of the stream are the stream's (ferror); the writer itself never
 * fails.
 */
#ifndef RP_JSON_H
#define RP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 32

struct json {
	FILE *f;
	unsigned depth;              /* open containers */
	bool key;                    /* a key was written: the value follows */
	bool more[JSON_DEPTH_MAX];   /* the container at that depth has an element */
	bool arr[JSON_DEPTH_MAX];    /* the container at that depth is an array */
};

void json_init(struct json *j, FILE *f);

void json_obj(struct json *j);
void json_obj_end(struct json *j);
void json_arr(struct json *j);
void json_arr_end(struct json *j);
/* The key of the next value (inside an object). */
void json_key(struct json *j, const char *k);

void json_str(struct json *j, const char *s);   /* NULL: null */
void json_strn(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* v / 1000 with three decimals: json_milli(1234) writes 1.234 (exact). */
void json_milli(struct json *j, uint64_t v);

/* key and value in one call */
void json_kstr(struct json *j, const char *k, const char *s);
void json_ku64(struct json *j, const char *k, uint64_t v);
void json_kbool(struct json *j, const char *k, bool v);

/* s[0..n) as a JSON string literal, quotes included, escaped as above. */
void json_escape(FILE *f, const char *s, size_t n);

#endif
