/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_log: the kernel-format LOG line. The format itself is compared with
 * the kernel's own lines in tests/e2e/test_filter_kernel.sh (kdiff-3);
 * here: exact lines for hand-built packets, the lines Linux wrote for some
 * hundred packet shapes (log_kernel_lines.h: IPv6 extension headers and
 * fragments with and without --log-ip-options, ESP and AH in IPv4 and
 * IPv6, ICMP and ICMPv6 errors with their quoted packets, cut headers),
 * and every truncation of every packet formats without reading past the
 * end (ASan in the sanitizer build), with snprintf semantics for small
 * buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

/* IPv4 TCP SYN with DF, options MSS and window scale */
static const uint8_t tcp4[] = {
    0x45, 0x00, 0x00, 0x30, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x06, 0x00, 0x00, 10,	  0,	0,    1,
    10,	  0,	0,    2,    0x04, 0xd2, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00,
    0x70, 0x02, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07};
/* IPv4 ICMP port unreachable quoting a UDP datagram */
static const uint8_t icmp4[] = {
    0x45, 0xc0, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 10,	  0,
    0,	  2,	10,   0,    0,	  1,	0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x07, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 10,	  0,
    0,	  1,	10,   0,    0,	  2,	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};
/* IPv6 UDP with a hop-by-hop header */
static const uint8_t udp6[] = {
    0x60, 0x01, 0x23, 0x45, 0x00, 0x10, 0x00, 0x40, 0xfd, 0,	0,    0,    0,	  0,
    0,	  0,	0,    0,    0,	  0,	0,    0,    0,	  1,	0xfd, 0,    0,	  0,
    0,	  0,	0,    0,    0,	  0,	0,    0,    0,	  0,	0,    2,    0x11, 0x00,
    0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x13, 0x88, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00};
static const uint8_t mac[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};

/* the kernel's lines (tests/rules/log-kernel-lines.py) */
static const struct kcase {
	const char *name;
	unsigned flags;
	const uint8_t *pkt;
	size_t len;
	const char *line; /* from SRC= on */
} kernel[] = {
#include "log_kernel_lines.h"
};

static void test_lines(void **state)
{
	(void)state;
	char b[1024];
	rules_log_format(b, sizeof(b), "p: ", "lan0", "wan0", mac, tcp4, sizeof(tcp4), RULES_F_V4,
			 RULES_LOG_TCPOPT | RULES_LOG_TCPSEQ, 0);
	assert_string_equal(
	    b, "p: IN=lan0 OUT=wan0 MAC=02:00:00:00:00:02:02:00:00:00:00:01:08:00 "
	       "SRC=10.0.0.1 DST=10.0.0.2 LEN=48 TOS=0x00 PREC=0x00 TTL=63 ID=4660 DF "
	       "PROTO=TCP SPT=1234 DPT=80 SEQ=1000 ACK=0 WINDOW=8192 RES=0x00 SYN URGP=0 "
	       "OPT (020405B401030307) ");
	rules_log_format(b, sizeof(b), "", "", "lan0", NULL, icmp4, sizeof(icmp4), RULES_F_V4, 0, 0);
	assert_string_equal(
	    b, "IN= OUT=lan0 SRC=10.0.0.2 DST=10.0.0.1 LEN=56 TOS=0x00 PREC=0xC0 TTL=64 "
	       "ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.1 DST=10.0.0.2 LEN=28 TOS=0x00 "
	       "PREC=0x00 TTL=64 ID=7 PROTO=UDP SPT=12345 DPT=53 LEN=8 ] ");
	rules_log_format(b, sizeof(b), "six ", "lan0", "wan0", NULL, udp6, sizeof(udp6), RULES_F_V6,
			 0, 0);
	assert_string_equal(b,
			    "six IN=lan0 OUT=wan0 SRC=fd00:0000:0000:0000:0000:0000:0000:0001 "
			    "DST=fd00:0000:0000:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 "
			    "FLOWLBL=74565 PROTO=UDP SPT=5000 DPT=53 LEN=8 ");
	/* a transport header cut off by the snap: counted from the length the
	 * IP header declares, which is the kernel's skb->len */
	rules_log_format(b, sizeof(b), "", "a", "b", NULL, tcp4, 30, RULES_F_V4, 0, 0);
	assert_non_null(strstr(b, "PROTO=TCP INCOMPLETE [28 bytes] "));
	/* Ethernet padding past that length is not the packet's */
	uint8_t padded[sizeof(udp6) + 6] = {0};
	memcpy(padded, udp6, sizeof(udp6));
	padded[5] = 8; /* payload: only the hop-by-hop header */
	rules_log_format(b, sizeof(b), "", "a", "b", NULL, padded, sizeof(padded), RULES_F_V6, 0, 0);
	assert_non_null(strstr(b, "FLOWLBL=74565 PROTO=UDP INCOMPLETE [0 bytes] "));
}

/* MARK=: the packet's mark at the end of the line, the kernel's own lines
 * (Linux 6.18, raw PREROUTING -j MARK then -j LOG, read from dmesg) */
static void test_mark(void **state)
{
	(void)state;
	static const uint8_t m4[] = {
		0x45, 0, 0, 36, 0, 7, 0, 0, 64, 17, 0, 0, 10, 98, 0, 1, 10, 98, 0, 2,
		0x03, 0xe8, 0x07, 0xd0, 0, 16, 0, 0, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x' };
	static const uint8_t m6[] = {
		0x60, 0, 0, 0, 0, 16, 17, 64,
		0xfd, 0x98, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0xfd, 0x98, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0x03, 0xe8, 0x07, 0xd0, 0, 16, 0, 0, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x' };
	char b[512];
	rules_log_format(b, sizeof(b), "mkchk: ", "mkb", "", NULL, m4, sizeof(m4), RULES_F_V4, 0,
			 0x2a);
	assert_string_equal(b, "mkchk: IN=mkb OUT= SRC=10.98.0.1 DST=10.98.0.2 LEN=36 TOS=0x00 "
			       "PREC=0x00 TTL=64 ID=7 PROTO=UDP SPT=1000 DPT=2000 LEN=16 MARK=0x2a ");
	rules_log_format(b, sizeof(b), "mkchk: ", "mkb", "", NULL, m6, sizeof(m6), RULES_F_V6, 0,
			 0x2b);
	assert_string_equal(b, "mkchk: IN=mkb OUT= SRC=fd98:0000:0000:0000:0000:0000:0000:0001 "
			       "DST=fd98:0000:0000:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 "
			       "FLOWLBL=0 PROTO=UDP SPT=1000 DPT=2000 LEN=16 MARK=0x2b ");
	/* a UDP header cut short ends the line before MARK=, as the kernel's
	 * nf_log_dump_udp_header returning 1 */
	rules_log_format(b, sizeof(b), "", "mkb", "", NULL, m4, 24, RULES_F_V4, 0, 0x2a);
	assert_string_equal(b, "IN=mkb OUT= SRC=10.98.0.1 DST=10.98.0.2 LEN=36 TOS=0x00 PREC=0x00 "
			       "TTL=64 ID=7 PROTO=UDP INCOMPLETE [16 bytes] ");
	/* no mark: no MARK= */
	rules_log_format(b, sizeof(b), "", "mkb", "", NULL, m4, sizeof(m4), RULES_F_V4, 0, 0);
	assert_null(strstr(b, "MARK="));
}

static void test_kernel_lines(void **state)
{
	(void)state;
	char b[2048], want[2048];
	int bad = 0;
	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++) {
		const struct kcase *c = &kernel[i];
		int fam = c->pkt[0] >> 4 == 6 ? RULES_F_V6 : RULES_F_V4;
		int n =
		    rules_log_format(b, sizeof(b), "", "", "", NULL, c->pkt, c->len, fam, c->flags, 0);
		snprintf(want, sizeof(want), "IN= OUT= %s", c->line);
		if (strcmp(b, want) != 0) {
			print_error("%s:\n kernel:  %s|\n rampart: %s|\n", c->name, want, b);
			bad++;
		}
		assert_int_equal((size_t)n, strlen(b));
	}
	assert_int_equal(bad, 0);
}

static void test_truncations(void **state)
{
	(void)state;
	const struct {
		const uint8_t *p;
		size_t n;
		int fam;
	} pk[] = {{tcp4, sizeof(tcp4), RULES_F_V4},
		  {icmp4, sizeof(icmp4), RULES_F_V4},
		  {udp6, sizeof(udp6), RULES_F_V6}};
	char b[512];
	const size_t nk = sizeof(kernel) / sizeof(kernel[0]);
	for (size_t k = 0; k < sizeof(pk) / sizeof(pk[0]) + nk; k++) {
		const uint8_t *p = k < nk ? kernel[k].pkt : pk[k - nk].p;
		size_t n = k < nk ? kernel[k].len : pk[k - nk].n;
		int fam = k < nk ? (p[0] >> 4 == 6 ? RULES_F_V6 : RULES_F_V4) : pk[k - nk].fam;
		for (size_t len = 0; len <= n; len++) {
			/* a heap copy of exactly len bytes: ASan sees any overread */
			uint8_t *c = malloc(len ? len : 1);
			memcpy(c, p, len);
			int want =
			    rules_log_format(b, sizeof(b), "t ", "i", "o", mac, c, len, fam, 0xff, 0);
			assert_true(want > 0);
			assert_int_equal(strlen(b),
					 (size_t)want < sizeof(b) ? (size_t)want : sizeof(b) - 1);
			/* snprintf semantics with a small buffer */
			char small[16];
			int w2 = rules_log_format(small, sizeof(small), "t ", "i", "o", mac, c, len,
						  fam, 0xff, 0);
			assert_int_equal(w2, want);
			assert_int_equal(strlen(small), 15);
			free(c);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_mark),
	    cmocka_unit_test(test_kernel_lines),
	    cmocka_unit_test(test_truncations),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
