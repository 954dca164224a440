/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_json: the JSON writer (src/json.c): string escaping (RFC 8259:
 * quotes, backslash, control characters; invalid UTF-8 replaced), numbers,
 * commas and nesting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* json_escape of s[0..n) as a fresh string. */
static char *esc(const char *s, size_t n)
{
	char *t = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&t, &len);
	assert_non_null(f);
	json_escape(f, s, n);
	assert_int_equal(fclose(f), 0);
	return t;
}

#define ESC(in, want)                                  \
	do {                                           \
		char *got_ = esc(in, sizeof(in) - 1);  \
		assert_string_equal(got_, want);       \
		free(got_);                            \
	} while (0)

static void test_escape_ascii(void **state)
{
	(void)state;
	ESC("", "\"\"");
	ESC("plain text 123", "\"plain text 123\"");
	ESC("say \"hi\"", "\"say \\\"hi\\\"\"");
	ESC("C:\\dir\\", "\"C:\\\\dir\\\\\"");
	ESC("a/b", "\"a/b\""); /* '/' may stay as it is */
	ESC("\x7f", "\"\x7f\""); /* DEL is not a control character for JSON */
}

static void test_escape_control(void **state)
{
	(void)state;
	ESC("line1\nline2", "\"line1\\u000aline2\"");
	ESC("\t\r\b\f", "\"\\u0009\\u000d\\u0008\\u000c\"");
	ESC("\x01\x1f", "\"\\u0001\\u001f\"");
	ESC("\x20", "\" \"");
	/* a NUL inside the given length is a character like the others */
	ESC("a\0b", "\"a\\u0000b\"");
	/* nothing that could end the protocol's line: no raw newline ever */
	char *s = esc("\n%% ok\n", 7);
	assert_null(strchr(s, '\n'));
	free(s);
}

static void test_escape_utf8(void **state)
{
	(void)state;
	ESC("caf\xc3\xa9", "\"caf\xc3\xa9\"");                   /* é, 2 bytes */
	ESC("\xe2\x82\xac", "\"\xe2\x82\xac\"");                 /* €, 3 bytes */
	ESC("\xf0\x9f\x94\xa5", "\"\xf0\x9f\x94\xa5\"");         /* U+1F525, 4 bytes */
	ESC("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");         /* U+10FFFF, the last */
	/* not UTF-8: each bad byte becomes U+FFFD, the rest stays */
	ESC("a\xff" "b", "\"a\\ufffdb\"");
	ESC("\x80", "\"\\ufffd\"");                              /* a lone continuation */
	ESC("\xc3", "\"\\ufffd\"");                              /* cut short at the end */
	ESC("\xc3(", "\"\\ufffd(\"");                            /* cut short by ASCII */
	ESC("\xc0\x80", "\"\\ufffd\\ufffd\"");                   /* overlong NUL */
	ESC("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");        /* overlong '/' */
	ESC("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");        /* a UTF-16 surrogate */
	ESC("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* beyond U+10FFFF */
	ESC("\xe2\x82", "\"\\ufffd\\ufffd\"");                   /* 3-byte cut short */
}

/* A document written by fn, as a string. */
static char *doc(void (*fn)(struct json *j))
{
	char *t = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&t, &len);
	assert_non_null(f);
	struct json j;
	json_init(&j, f);
	fn(&j);
	assert_int_equal(j.depth, 0);
	assert_int_equal(fclose(f), 0);
	return t;
}

static void write_nested(struct json *j)
{
	json_obj(j);
	json_kstr(j, "name", "INPUT");
	json_ku64(j, "max", UINT64_MAX);
	json_key(j, "min");
	json_i64(j, INT64_MIN);
	json_kbool(j, "ok", true);
	json_kbool(j, "bad", false);
	json_kstr(j, "none", NULL);
	json_key(j, "ms");
	json_milli(j, 1234);
	json_key(j, "small");
	json_milli(j, 5);
	json_key(j, "list");
	json_arr(j);
	json_u64(j, 1);
	json_obj(j);
	json_key(j, "k\"ey");
	json_arr(j);
	json_arr_end(j);
	json_obj_end(j);
	json_null(j);
	json_str(j, "s");
	json_arr(j);
	json_arr_end(j);
	json_arr_end(j);
	json_key(j, "empty");
	json_obj(j);
	json_obj_end(j);
	json_obj_end(j);
}

static void test_nesting(void **state)
{
	(void)state;
	char *s = doc(write_nested);
	assert_string_equal(s, "{\"name\":\"INPUT\",\"max\":18446744073709551615,"
			       "\"min\":-9223372036854775808,\"ok\":true,\"bad\":false,"
			       "\"none\":null,\"ms\":1.234,\"small\":0.005,"
			       "\"list\":[1,\n{\"k\\\"ey\":[]},null,\"s\",\n[]],"
			       "\"empty\":{}}");
	free(s);
}

static void write_top_array(struct json *j)
{
	json_arr(j);
	for (int i = 0; i < 3; i++) {
		json_obj(j);
		json_ku64(j, "i", (uint64_t)i);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void write_empty_array(struct json *j)
{
	json_arr(j);
	json_arr_end(j);
}

static void test_arrays(void **state)
{
	(void)state;
	char *s = doc(write_top_array);
	/* objects after the first on their own line: no line starts with '%' */
	assert_string_equal(s, "[{\"i\":0},\n{\"i\":1},\n{\"i\":2}]");
	free(s);
	s = doc(write_empty_array);
	assert_string_equal(s, "[]");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_ascii),
		cmocka_unit_test(test_escape_control),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_arrays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
