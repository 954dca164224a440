/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_eval: every match and target of the evaluator, and the traversal
 * (jumps, gotos, returns, policies, tables of a hook, counters), against
 * the behaviour of the kernel's ip_tables.c / ip6_tables.c and xt_*
 * modules. Every case runs four ways: the linear reference and the
 * classified program, each with the rule alone and behind 14 rules that
 * never match (so that the chain gets a classifier).
 */
#include <pthread.h>
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rules.h"
#include "rules_prog.h"
#include "rules_time.h"

static const char *const ports[] = {"lan0", "wan0", "dmz0", "dmz1"};

static const char sets_text[] = "create ip4 hash:ip\nadd ip4 10.0.0.1\n"
				"create net4 hash:net\nadd net4 10.9.0.0/16\nadd net4 10.0.0.0/30\n"
				"create ipport hash:ip,port\nadd ipport 10.0.0.2,tcp:80\n"
				"create ports bitmap:port range 1-2000\nadd ports 1234\n"
				"create net6 hash:net family inet6\nadd net6 fd00::/64\n"
				/* timeout sets, loaded at FAKE_T0 (the rules' clock) */
				"create tmo hash:ip timeout 300\nadd tmo 10.0.0.1 timeout 10\n"
				"add tmo 10.0.0.2 timeout 0\n"
				"create tnp hash:net,port timeout 5\nadd tnp 10.0.0.0/24,tcp:80\n"
				"create tports bitmap:port range 1-2000 timeout 60\n"
				"add tports 1234 timeout 2\nadd tports 80 timeout 0\n"
				/* exceptions: the most specific entry decides */
				"create exc hash:net comment\nadd exc 10.0.0.0/8 comment any\n"
				"add exc 10.0.0.0/24 nomatch\nadd exc 10.0.0.2/32\n"
				"create excp hash:net,port\nadd excp 10.0.0.0/8,tcp:80\n"
				"add excp 10.0.0.0/30,tcp:80 nomatch\nadd excp 10.0.0.0/30,tcp:1234\n"
				/* an exception that expires: the wider entry again */
				"create texc hash:net timeout 300\nadd texc 10.0.0.0/8\n"
				"add texc 10.0.0.0/24 nomatch timeout 3\n"
				/* three dimensions */
				"create ipi hash:ip,port,ip\nadd ipi 10.0.0.2,tcp:80,10.0.0.1\n"
				"create ipn hash:ip,port,net\nadd ipn 10.0.0.2,tcp:80,10.0.0.0/8\n"
				"add ipn 10.0.0.2,tcp:80,10.0.0.0/24 nomatch\n"
				"add ipn 10.0.0.2,tcp:1234,10.0.0.0/24\n"
				/* bitmap:ip: blocks of its netmask in its range */
				"create bip bitmap:ip range 10.0.0.0/16 netmask 24\nadd bip 10.0.0.77\n"
				"create bip2 bitmap:ip range 10.0.1.0-10.0.1.255\n"
				/* ports of other protocols: ICMP type/code, pseudo port 0 */
				"create ipx hash:ip,port\nadd ipx 10.0.0.2,icmp:ping\nadd ipx 10.0.0.2,gre:0\n"
				"add ipx 10.0.0.2,icmp:3/4\n"
				/* list:set: members of both families, one with exceptions */
				"create lst list:set\nadd lst ip4\nadd lst net6\n"
				"create lexc list:set\nadd lexc exc\nadd lexc ipport\n"
				"create tlst list:set timeout 300\nadd tlst ip4 timeout 3\n";

#define FAKE_T0 1000000000ull /* us */
static uint64_t fake_clock(void)
{
	return FAKE_T0;
}

/* The base packet: IPv4 TCP SYN 10.0.0.1:1234 -> 10.0.0.2:80, lan0 -> wan0. */
static struct rules_pkt base4(void)
{
	struct rules_pkt p;
	memset(&p, 0, sizeof(p));
	p.fam = RULES_F_V4;
	p.proto = 6;
	p.l4 = 1;
	p.tcp_flags = 0x02;
	p.ttl = 64;
	p.len = 60;
	p.in_port = 0;
	p.out_port = 1;
	p.phys_in = RULES_PORT_NONE; /* routed, not bridged */
	p.sport = 1234;
	p.dport = 80;
	p.ct_state = RULES_CT_UNTRACKED;
	p.src_type = RULES_AT_UNICAST;
	p.dst_type = RULES_AT_UNICAST;
	static const uint8_t s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
	memcpy(p.src.b, s, 4);
	memcpy(p.dst.b, d, 4);
	return p;
}

static struct rules_pkt base6(void)
{
	struct rules_pkt p = base4();
	p.fam = RULES_F_V6;
	memset(&p.src, 0, sizeof(p.src));
	memset(&p.dst, 0, sizeof(p.dst));
	p.src.b[0] = p.dst.b[0] = 0xfd;
	p.src.b[15] = 1;
	p.dst.b[15] = 2;
	return p;
}

struct run {
	struct rules_ruleset *rs;
	struct rules_prog *p;
	struct rules_counter *ctr;
};

/* Load v4 (and v6) restore text; compile with flags. */
static void load(struct run *r, const char *v4, const char *v6, unsigned flags)
{
	char err[512];
	r->rs = rules_new();
	assert_non_null(r->rs);
	if (rules_ipset_load(r->rs, sets_text, strlen(sets_text), "sets", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (v4 && rules_ipt_load(r->rs, RULES_F_V4, v4, strlen(v4), "t4", 0, err, sizeof(err)) < 0)
		fail_msg("%s\n%s", err, v4);
	if (v6 && rules_ipt_load(r->rs, RULES_F_V6, v6, strlen(v6), "t6", 0, err, sizeof(err)) < 0)
		fail_msg("%s\n%s", err, v6);
	r->p = rules_prog_compile(r->rs, ports, 4, flags, err, sizeof(err));
	if (!r->p)
		fail_msg("compile: %s", err);
	r->ctr = calloc(r->p->n_slots + 1, sizeof(*r->ctr));
	assert_non_null(r->ctr);
}

static void unload(struct run *r)
{
	free(r->ctr);
	rules_prog_free(r->p);
	rules_free(r->rs);
}

/* FORWARD (policy DROP) with one rule "RULE -j ACCEPT" (padded or not). */
static char *forward_text(const char *rule, bool pad, int fam)
{
	static char buf[8192];
	size_t n = (size_t)snprintf(buf, sizeof(buf),
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n");
	for (int i = 0; pad && i < 14; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "-A FORWARD -s %s%d -p udp -j DROP\n",
			fam == RULES_F_V6 ? "2001:db8::" : "203.0.113.", i + 1);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "-A FORWARD %s -j ACCEPT\nCOMMIT\n", rule);
	return buf;
}

/* Does RULE match packet p? Same answer from all four programs, or fail. */
static bool matches(const char *rule, const struct rules_pkt *p)
{
	int answer = -1;
	for (int k = 0; k < 4; k++) {
		struct run r;
		const char *t = forward_text(rule, k & 1, p->fam);
		load(&r, p->fam == RULES_F_V4 ? t : NULL, p->fam == RULES_F_V6 ? t : NULL,
			(k & 2) ? RULES_COMPILE_LINEAR : 0);
		struct rules_pkt q = *p;
		struct rules_result res;
		rules_eval_hook(r.p, RULES_H_FORWARD, &q, r.ctr, &res, NULL);
		int a = res.res == RULES_R_ACCEPT;
		if (answer >= 0 && a != answer)
			fail_msg("'%s': the four programs disagree (variant %d)", rule, k);
		answer = a;
		unload(&r);
	}
	return answer == 1;
}

#define MATCH(rule, pkt) \
	do { \
		struct rules_pkt _p = (pkt); \
		if (!matches(rule, &_p)) \
			fail_msg("'%s' should match (line %d)", rule, __LINE__); \
	} while (0)
#define NOMATCH(rule, pkt) \
	do { \
		struct rules_pkt _p = (pkt); \
		if (matches(rule, &_p)) \
			fail_msg("'%s' should not match (line %d)", rule, __LINE__); \
	} while (0)

static struct rules_pkt with_frag(struct rules_pkt p)
{
	p.frag = 1;
	p.l4 = 0;
	p.sport = p.dport = 0;
	p.tcp_flags = 0;
	return p;
}

static struct rules_pkt udp(struct rules_pkt p, uint16_t sport, uint16_t dport)
{
	p.proto = 17;
	p.tcp_flags = 0;
	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct rules_pkt icmp(struct rules_pkt p, uint8_t type, uint8_t code)
{
	p.proto = p.fam == RULES_F_V6 ? 58 : 1;
	p.sport = p.dport = 0;
	p.tcp_flags = 0;
	p.icmp_type = type;
	p.icmp_code = code;
	return p;
}

static void test_base_selectors(void **state)
{
	(void)state;
	struct rules_pkt p = base4();
	MATCH("-s 10.0.0.1", p);
	MATCH("-s 10.0.0.0/24", p);
	NOMATCH("! -s 10.0.0.0/24", p);
	NOMATCH("-s 10.0.1.0/24", p);
	MATCH("! -s 10.0.1.0/24", p);
	MATCH("-d 10.0.0.2/32", p);
	MATCH("-d 10.0.0.0/255.255.255.0", p);
	NOMATCH("-d 10.0.0.3", p);
	MATCH("-p tcp", p);
	MATCH("-p 6", p);
	MATCH("-p all", p);
	NOMATCH("-p udp", p);
	MATCH("! -p udp", p);
	MATCH("-i lan0", p);
	NOMATCH("-i wan0", p);
	MATCH("-i la+", p);
	NOMATCH("! -i lan0", p);
	NOMATCH("-i nosuch0", p); /* no such interface: never matches */
	MATCH("! -i nosuch0", p);
	MATCH("-o wan+", p);
	NOMATCH("-o dmz+", p);
	NOMATCH("-f", p);
	MATCH("! -f", p);
	MATCH("-f", with_frag(p));
	struct rules_pkt q = base6();
	MATCH("-s fd00::1/128", q);
	MATCH("-d fd00::/64", q);
	NOMATCH("-d fd01::/64", q);
	MATCH("! -d fd01::/64 -p tcp", q);
}

static void test_tcp_udp(void **state)
{
	(void)state;
	struct rules_pkt p = base4();
	MATCH("-p tcp -m tcp --dport 80", p);
	NOMATCH("-p tcp -m tcp --dport 81", p);
	MATCH("-p tcp -m tcp ! --dport 81", p);
	MATCH("-p tcp -m tcp --dport 70:90", p);
	MATCH("-p tcp -m tcp --sport 1234", p);
	NOMATCH("-p tcp -m tcp --sport :1000", p);
	MATCH("-p tcp -m tcp --sport 1000:", p);
	MATCH("-p tcp -m tcp --sport 1234 --dport 80", p);
	NOMATCH("-p tcp -m tcp --sport 1234 --dport 81", p);
	MATCH("-p tcp -m tcp --tcp-flags SYN,ACK SYN", p);
	MATCH("-p tcp --syn", p);
	NOMATCH("-p tcp ! --syn", p);
	NOMATCH("-p tcp -m tcp --tcp-flags ALL NONE", p);
	struct rules_pkt a = p;
	a.tcp_flags = 0x10;
	MATCH("-p tcp ! --syn", a);
	MATCH("-p tcp -m tcp --tcp-flags ALL ACK", a);
	/* --tcp-option walks the options */
	static const uint8_t opts[] = {1, 1, 2, 4, 5, 180, 4, 2, 3, 3, 7, 0};
	struct rules_pkt o = p;
	o.tcp_opt = opts;
	o.tcp_optlen = sizeof(opts);
	MATCH("-p tcp -m tcp --tcp-option 2", o);
	MATCH("-p tcp -m tcp --tcp-option 3", o);
	NOMATCH("-p tcp -m tcp --tcp-option 8", o);
	MATCH("-p tcp -m tcp ! --tcp-option 8", o);
	/* xt_tcpudp: a non-first fragment never matches, inverted or not */
	NOMATCH("-p tcp -m tcp --dport 80", with_frag(p));
	NOMATCH("-p tcp -m tcp ! --dport 81", with_frag(p));
	struct rules_pkt u = udp(p, 5353, 53);
	MATCH("-p udp -m udp --dport 53", u);
	MATCH("-p udp -m udp --sport 5000:6000 --dport 53", u);
	NOMATCH("-p udp -m udp ! --dport 53", u);
	NOMATCH("-p udp -m udp --dport 53", with_frag(u));
	NOMATCH("-p tcp -m tcp --dport 53", u);
	struct rules_pkt q = base6();
	MATCH("-p tcp -m tcp --dport 80", q);
}

static void test_icmp(void **state)
{
	(void)state;
	struct rules_pkt e = icmp(base4(), 8, 0);
	MATCH("-p icmp -m icmp --icmp-type echo-request", e);
	MATCH("-p icmp -m icmp --icmp-type 8/0", e);
	MATCH("-p icmp -m icmp --icmp-type 8", e);
	NOMATCH("-p icmp -m icmp --icmp-type 0", e);
	MATCH("-p icmp -m icmp ! --icmp-type 0", e);
	MATCH("-p icmp -m icmp --icmp-type any", e);
	struct rules_pkt u = icmp(base4(), 3, 1);
	MATCH("-p icmp -m icmp --icmp-type destination-unreachable", u);
	MATCH("-p icmp -m icmp --icmp-type host-unreachable", u);
	NOMATCH("-p icmp -m icmp --icmp-type port-unreachable", u);
	NOMATCH("-p icmp -m icmp --icmp-type any", with_frag(u));
	struct rules_pkt e6 = icmp(base6(), 128, 0);
	MATCH("-p ipv6-icmp -m icmp6 --icmpv6-type echo-request", e6);
	MATCH("-p ipv6-icmp -m icmp6 --icmpv6-type 128", e6);
	NOMATCH("-p ipv6-icmp -m icmp6 --icmpv6-type 129", e6);
	MATCH("-p ipv6-icmp -m icmp6 ! --icmpv6-type neighbour-solicitation", e6);
}

static void test_other_matches(void **state)
{
	(void)state;
	struct rules_pkt p = base4();
	MATCH("-p tcp -m multiport --dports 22,80", p);
	NOMATCH("-p tcp -m multiport --dports 22,8000:9000", p);
	MATCH("-p tcp -m multiport --dports 22,70:90", p);
	MATCH("-p tcp -m multiport --ports 1234", p);
	NOMATCH("-p tcp -m multiport ! --dports 80", p);
	MATCH("-p tcp -m multiport --sports 1000:2000", p);
	NOMATCH("-p tcp -m multiport --dports 80", with_frag(p));
	MATCH("-m iprange --src-range 10.0.0.0-10.0.0.5", p);
	NOMATCH("-m iprange --dst-range 10.0.0.3-10.0.0.9", p);
	MATCH("-m iprange ! --dst-range 10.0.0.3-10.0.0.9", p);
	MATCH("-m iprange --src-range 10.0.0.1-10.0.0.1 --dst-range 10.0.0.2-10.0.0.2", p);
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct rules_pkt m = p;
	m.mac_src = mac;
	MATCH("-m mac --mac-source 02:00:00:00:00:01", m);
	NOMATCH("-m mac --mac-source 02:00:00:00:00:02", m);
	MATCH("-m mac ! --mac-source 02:00:00:00:00:02", m);
	NOMATCH("-m mac --mac-source 02:00:00:00:00:01", p); /* no Ethernet header */
	/* -m eui64: fd00::ff:fe00:1 has 00:00:00:00:00:01's modified EUI-64
	 * as its interface identifier (the universal/local bit flipped) */
	struct rules_pkt e6 = base6();
	static const uint8_t eui[8] = {0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01};
	static const uint8_t mac0[6] = {2, 0, 0, 0, 0, 1}; /* 02: 00 once flipped */
	memcpy(e6.src.b + 8, eui, 8);
	e6.mac_src = mac0;
	MATCH("-m eui64", e6);
	MATCH("! -s fe80::/64 -m eui64", e6);
	e6.src.b[15] = 2;
	NOMATCH("-m eui64", e6);
	e6.src.b[15] = 1;
	e6.mac_src = NULL;
	NOMATCH("-m eui64", e6); /* no frame */
	MATCH("-m length --length 60", p);
	NOMATCH("-m length --length 61:100", p);
	MATCH("-m length ! --length 61:100", p);
	MATCH("-m ttl --ttl-eq 64", p);
	NOMATCH("-m ttl ! --ttl-eq 64", p);
	NOMATCH("-m ttl --ttl-gt 64", p);
	MATCH("-m ttl --ttl-lt 65", p);
	MATCH("-m hl --hl-eq 64", base6());
	MATCH("-m hl --hl-gt 1", base6());
	struct rules_pkt t = p;
	t.tos = 0x28;
	MATCH("-m dscp --dscp 0x0a", t);
	MATCH("-m dscp --dscp-class AF11", t);
	NOMATCH("-m dscp --dscp 0x0b", t);
	MATCH("-m tos --tos 0x28/0x3f", t); /* 0x28 & 0x3f == 0x28 */
	NOMATCH("-m tos --tos 0x10", t);
	struct rules_pkt k = p;
	k.mark = 5;
	MATCH("-m mark --mark 0x5", k);
	MATCH("-m mark --mark 0x4/0x4", k);
	NOMATCH("-m mark ! --mark 0x5", k);
	NOMATCH("-m mark --mark 0x5", p);
	struct rules_pkt b = p;
	b.pkttype = RULES_PKT_BROADCAST;
	MATCH("-m pkttype --pkt-type broadcast", b);
	NOMATCH("-m pkttype --pkt-type unicast", b);
	MATCH("-m pkttype --pkt-type unicast", p);
	struct rules_pkt l = p;
	l.dst_type = RULES_AT_LOCAL;
	MATCH("-m addrtype --dst-type LOCAL", l);
	NOMATCH("-m addrtype --dst-type LOCAL", p);
	MATCH("-m addrtype ! --dst-type LOCAL --src-type UNICAST", p);
	MATCH("-m comment --comment \"anything at all\"", p);
	MATCH("-m state --state UNTRACKED", p);
	NOMATCH("-m state --state NEW,ESTABLISHED", p);
	MATCH("-m state ! --state NEW", p);
	MATCH("-m conntrack --ctstate UNTRACKED", p);
	NOMATCH("-m conntrack --ctproto tcp", p); /* needs a connection */
	NOMATCH("-m connmark --mark 0", p);
}

/* -m physdev as xt_physdev: a bridged packet's ports (out known from
 * FORWARD on); a packet that crossed no bridge matches only a rule whose
 * every option is inverted */
static void test_physdev(void **state)
{
	(void)state;
	struct rules_pkt b = base4(), pre = base4(), post = base4(), routed = base4();
	b.phys_in = pre.phys_in = post.phys_in = 0;
	pre.out_port = RULES_PORT_NONE; /* PREROUTING: not known yet */
	post.in_port = RULES_PORT_NONE; /* POSTROUTING: no -i, but the bridge port is known */
	MATCH("-m physdev --physdev-in lan0", b);
	MATCH("-m physdev --physdev-in la+", b);
	NOMATCH("-m physdev --physdev-in wan0", b);
	MATCH("-m physdev ! --physdev-in wan0", b);
	NOMATCH("-m physdev ! --physdev-in lan0", b);
	MATCH("-m physdev --physdev-out wan0", b);
	NOMATCH("-m physdev --physdev-out dmz+", b);
	MATCH("-m physdev ! --physdev-out dmz+", b);
	MATCH("-m physdev --physdev-in lan0 --physdev-out wan0 --physdev-is-bridged", b);
	MATCH("-m physdev --physdev-is-in --physdev-is-out --physdev-is-bridged", b);
	NOMATCH("-m physdev ! --physdev-is-bridged", b);
	NOMATCH("-m physdev ! --physdev-is-in", b);
	NOMATCH("-m physdev ! --physdev-is-out", b);
	NOMATCH("-m physdev --physdev-in nosuch0", b);
	MATCH("-m physdev --physdev-in lan0 --physdev-out wan0", post);
	NOMATCH("-m physdev ! --physdev-in lan0", post);
	/* before the bridge decides: no out port; --physdev-out then fails
	 * inverted or not (as in the kernel), and so do -is-bridged/-is-out */
	MATCH("-m physdev --physdev-in lan0", pre);
	NOMATCH("-m physdev --physdev-out dmz0", pre);
	NOMATCH("-m physdev ! --physdev-out wan0", pre);
	NOMATCH("-m physdev --physdev-is-bridged", pre);
	MATCH("-m physdev ! --physdev-is-bridged", pre);
	NOMATCH("-m physdev --physdev-is-out", pre);
	MATCH("-m physdev ! --physdev-is-out --physdev-is-in", pre);
	/* routed, not bridged */
	NOMATCH("-m physdev --physdev-in lan0", routed);
	NOMATCH("-m physdev --physdev-is-in", routed);
	NOMATCH("-m physdev ! --physdev-in wan0 --physdev-is-bridged", routed);
	MATCH("-m physdev ! --physdev-in wan0", routed);
	MATCH("-m physdev ! --physdev-in lan0", routed); /* whatever the name */
	MATCH("-m physdev ! --physdev-is-bridged ! --physdev-is-in ! --physdev-out x", routed);
}

/* An IPv6 datagram: the header, then chain (n bytes) after next header nh. */
static uint8_t ext6_buf[8][256];
static struct rules_pkt ext6(int slot, uint8_t nh, const uint8_t *chain, size_t n, size_t cap)
{
	struct rules_pkt p = base6();
	uint8_t *b = ext6_buf[slot];
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (uint8_t)(n >> 8);
	b[5] = (uint8_t)n;
	b[6] = nh;
	b[7] = 64;
	memcpy(b + 40, chain, n);
	p.l3p = b;
	p.l3cap = (uint32_t)(40 + (cap < n ? cap : n));
	p.len = (uint16_t)(40 + n);
	p.proto = 17;
	return p;
}

/* -m ipv6header, frag, rt, hbh, dst as ip6t_ipv6header, ip6t_frag,
 * ip6t_rt and ip6t_hbh walk the headers (the kernel's ipv6_find_hdr) */
static void test_ip6ext(void **state)
{
	(void)state;
	static const uint8_t addr[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
	uint8_t c[128], *q = c;
	/* Hop-by-Hop (PadN of 4) -> Destination options (type 5 length 2,
	 * PadN 0) -> Routing type 0, 1 segment left, one address -> Fragment
	 * (first, more, id 5) -> UDP */
	const uint8_t hbh[8] = {60, 0, 1, 4, 0, 0, 0, 0};
	const uint8_t dst[8] = {43, 0, 5, 2, 0xaa, 0xbb, 1, 0};
	const uint8_t rt[8] = {44, 2, 0, 1, 0, 0, 0, 0};
	const uint8_t fr[8] = {17, 0, 0x00, 0x01, 0, 0, 0, 5};
	const uint8_t udp[8] = {0x04, 0xd2, 0, 53, 0, 8, 0, 0};
	memcpy(q, hbh, 8), q += 8;
	memcpy(q, dst, 8), q += 8;
	memcpy(q, rt, 8), q += 8;
	memcpy(q, addr, 16), q += 16;
	memcpy(q, fr, 8), q += 8;
	memcpy(q, udp, 8), q += 8;
	uint8_t hd = 0;
	struct rules_pkt all = ext6(0, 0, c, (size_t)(q - c), 999);
	all.hotdrop = &hd;

	MATCH("-m ipv6header --header hop,dst,route,frag,prot", all);
	NOMATCH("-m ipv6header --header hop,dst,route,frag", all);
	NOMATCH("-m ipv6header ! --header hop,dst,route,frag,prot", all);
	MATCH("-m ipv6header --header frag --soft", all);
	MATCH("-m ipv6header --header frag,route --soft", all);
	NOMATCH("-m ipv6header --header frag,esp --soft", all);
	NOMATCH("-m ipv6header ! --header frag --soft", all);
	MATCH("-m ipv6header ! --header esp,ah --soft", all);

	MATCH("-m frag --fragid 5", all);
	NOMATCH("-m frag --fragid 6", all);
	MATCH("-m frag ! --fragid 6:9", all);
	MATCH("-m frag --fragfirst --fragmore --fragres", all);
	NOMATCH("-m frag --fraglast", all);
	MATCH("-m frag --fraglen 99", all); /* printed, never matched (as the kernel) */

	MATCH("-m rt --rt-type 0 --rt-segsleft 1 --rt-len 24", all);
	NOMATCH("-m rt ! --rt-len 24", all);
	NOMATCH("-m rt --rt-type 2", all);
	MATCH("-m rt --rt-segsleft 1:3", all);
	NOMATCH("-m rt ! --rt-segsleft 0:1", all);
	MATCH("-m rt --rt-type 0 --rt-0-res --rt-0-addrs 2001:db8::9", all);
	NOMATCH("-m rt --rt-type 0 --rt-0-addrs 2001:db8::8", all);
	NOMATCH("-m rt --rt-type 0 --rt-0-addrs 2001:db8::9,::1", all); /* more than it holds */
	MATCH("-m rt --rt-type 0 --rt-0-addrs 2001:db8::9 --rt-0-not-strict", all);

	MATCH("-m hbh --hbh-len 8", all);
	NOMATCH("-m hbh --hbh-len 16", all);
	MATCH("-m hbh ! --hbh-len 16", all);
	NOMATCH("-m hbh --hbh-len 0", all); /* given: compared, and no header is 0 bytes long */
	MATCH("-m hbh ! --hbh-len 0", all);
	MATCH("-m hbh --hbh-opts 1:4", all);
	MATCH("-m hbh --hbh-opts 1", all);
	NOMATCH("-m hbh --hbh-opts 1:3", all);
	NOMATCH("-m hbh --hbh-opts 1,1", all); /* no second option */
	MATCH("-m dst --dst-opts 5:2,1:0 --dst-len 8", all);
	NOMATCH("-m dst --dst-opts 5:3", all);
	NOMATCH("-m dst --dst-opts 1", all);
	assert_int_equal(hd, 0);

	/* a non-first fragment: nothing after the fragment header is a header */
	const uint8_t late[16] = {0, 0, 0x00, 0x08 | 0, 0, 0, 0, 7, 1, 0, 0, 0, 0, 0, 0, 0};
	uint8_t c2[24];
	memcpy(c2, late, 8);
	c2[0] = 60; /* "Destination options" follow, in the fragmented part */
	memcpy(c2 + 8, late + 8, 8);
	memcpy(c2 + 16, udp, 8);
	struct rules_pkt nf = ext6(1, 44, c2, sizeof(c2), 999);
	nf.hotdrop = &hd;
	MATCH("-m frag --fragid 7 --fraglast", nf);
	NOMATCH("-m frag --fragfirst", nf);
	NOMATCH("-m dst", nf);
	NOMATCH("-m dst ! --dst-len 8", nf);
	MATCH("-m ipv6header --header frag,dst,prot", nf); /* ip6t_ipv6header walks on */
	assert_int_equal(hd, 0);

	/* cut short: a Hop-by-Hop header longer than the datagram */
	const uint8_t longh[8] = {43, 1, 1, 4, 0, 0, 0, 0};
	struct rules_pkt cut = ext6(2, 0, longh, 8, 999);
	cut.hotdrop = &hd;
	NOMATCH("-m hbh", cut); /* shorter than its length field: no match */
	assert_int_equal(hd, 0);
	NOMATCH("-m rt", cut); /* the next header is past the end: dropped */
	assert_int_equal(hd, 1);
	hd = 0;
	/* ip6t_ipv6header stops at the end instead; the header after it
	 * counts as the protocol */
	MATCH("-m ipv6header --header hop,prot", cut);
	assert_int_equal(hd, 0);
	const uint8_t two[10] = {43, 0, 1, 4, 0, 0, 0, 0, 17, 0};
	struct rules_pkt cut2 = ext6(6, 0, two, 9, 999); /* 1 byte of the routing header */
	cut2.hotdrop = &hd;
	NOMATCH("-m ipv6header --header hop,route,prot", cut2); /* too short to judge */
	assert_int_equal(hd, 0);

	/* ESP first; then no extension header at all */
	struct rules_pkt esp = ext6(3, 50, udp, 8, 999);
	esp.hotdrop = &hd;
	MATCH("-m ipv6header --header esp", esp);
	NOMATCH("-m frag", esp);
	struct rules_pkt plain = ext6(4, 17, udp, 8, 999);
	plain.hotdrop = &hd;
	MATCH("-m ipv6header --header protocol", plain);
	MATCH("-m ipv6header ! --header hop", plain);
	NOMATCH("-m frag", plain);
	NOMATCH("-m hbh", plain);
	const uint8_t none[8] = {0};
	struct rules_pkt nonxt = ext6(5, 59, none, 8, 999);
	MATCH("-m ipv6header --header none", nonxt);
	assert_int_equal(hd, 0);
}

/* -m u32 as xt_u32: big-endian words of the datagram, "&", shifts, "@"
 * hops, ranges, every test of "&&"; a word past the end fails the match */
static void test_u32(void **state)
{
	(void)state;
	static uint8_t d[44] = {
		0x45, 0x10, 0x00, 0x2c, 0x12, 0x34, 0x40, 0x00, 64, 6, 0, 0, /* IPv4, TOS 0x10, DF */
		10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0, /* TCP SYN */
		'a', 'b', 'c', 'd',
	};
	struct rules_pkt p = base4();
	p.l3p = d;
	p.l3cap = sizeof(d);
	p.len = sizeof(d);
	MATCH("-m u32 --u32 \"0>>28=4\"", p);
	MATCH("-m u32 --u32 \"0>>22&0x3C@0>>16=1234\"", p);          /* the TCP source port */
	NOMATCH("-m u32 --u32 \"0>>22&0x3C@0>>16=81:90\"", p);
	MATCH("-m u32 --u32 \"0>>22&0x3C@0&0xFFFF=1:100,0x50\"", p);
	MATCH("-m u32 --u32 \"8&0xFF0000>>16=6:17,64\"", p);       /* TTL 64 */
	MATCH("-m u32 --u32 \"6&0xFF=6&&4&0x3FFF=0\"", p);           /* TCP, not a fragment */
	NOMATCH("-m u32 --u32 \"6&0xFF=6&&4&0x3FFF=1\"", p);
	MATCH("-m u32 ! --u32 \"6&0xFF=6&&4&0x3FFF=1\"", p);
	/* payload: the data offset, then the first word of data */
	MATCH("-m u32 --u32 \"0>>22&0x3C@12>>26&0x3C@0=0x61626364\"", p);
	MATCH("-m u32 --u32 \"40=0x61626364\"", p);                 /* the last whole word */
	NOMATCH("-m u32 --u32 \"41=0:0xffffffff\"", p);             /* past the end: no match */
	MATCH("-m u32 ! --u32 \"41=0:0xffffffff\"", p);
	NOMATCH("-m u32 --u32 \"0>>22&0x3C@24=0:0xffffffff\"", p);  /* a hop past the end */
	MATCH("-m u32 --u32 \"0<<32=0x45100000:0x4510ffff\"", p); /* counts taken modulo 32 */
	struct rules_pkt none = base4(); /* no bytes at all */
	NOMATCH("-m u32 --u32 \"0=0:0xffffffff\"", none);
}

/* -m sctp as xt_sctp: ports, and the chunks walked in their three modes
 * with flags; a chunk of length 0 or cut short drops the packet */
static void test_sctp(void **state)
{
	(void)state;
	static uint8_t d[20 + 12 + 16 + 8 + 4] = {
		0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 132, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x0b, 0x59, 0x0f, 0x1c, 0, 0, 0, 1, 0, 0, 0, 0, /* 2905 -> 3868 */
		0, 0x03, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* DATA, flags B E, 16 bytes */
		3, 0, 0, 8, 0, 0, 0, 0,                             /* SACK */
		6, 1, 0, 4,                                          /* ABORT, T */
	};
	uint8_t hd = 0;
	struct rules_pkt p = base4();
	p.proto = 132;
	p.l3p = d;
	p.l3cap = sizeof(d);
	p.l4_off = 20;
	p.len = sizeof(d);
	p.hotdrop = &hd;
	MATCH("-p sctp -m sctp --dport 3868", p);
	MATCH("-p sctp --sport 2900:2910", p);
	NOMATCH("-p sctp -m sctp ! --sport 2900:2910", p);
	MATCH("-p sctp -m sctp --chunk-types any SACK", p);
	NOMATCH("-p sctp -m sctp --chunk-types any INIT,COOKIE_ECHO", p);
	MATCH("-p sctp -m sctp ! --chunk-types any INIT", p);
	MATCH("-p sctp -m sctp --chunk-types all DATA,SACK,ABORT", p);
	NOMATCH("-p sctp -m sctp --chunk-types all DATA,SACK,INIT", p);
	MATCH("-p sctp -m sctp --chunk-types only DATA,SACK,ABORT,INIT", p);
	NOMATCH("-p sctp -m sctp --chunk-types only DATA,SACK", p);
	MATCH("-p sctp -m sctp --chunk-types any DATA:BE", p);
	NOMATCH("-p sctp -m sctp --chunk-types any DATA:b", p);
	MATCH("-p sctp -m sctp --chunk-types all DATA:BEiu,ABORT:T", p);
	NOMATCH("-p sctp -m sctp --chunk-types all ABORT:t", p);
	MATCH("-p sctp -m sctp --chunk-types any ALL", p);
	NOMATCH("-p sctp -m sctp --chunk-types all ALL", p);
	NOMATCH("-p sctp -m sctp --chunk-types any NONE", p);
	MATCH("-p sctp -m sctp --chunk-types all NONE", p);
	NOMATCH("-p sctp -m sctp --dport 3868", with_frag(p)); /* a later fragment: never */
	assert_int_equal(hd, 0);
	/* the last chunk cut short: dropped, inverted or not */
	struct rules_pkt cut = p;
	cut.l3cap = sizeof(d) - 2;
	NOMATCH("-p sctp -m sctp --chunk-types all ABORT", cut);
	assert_int_equal(hd, 1);
	hd = 0;
	MATCH("-p sctp -m sctp --dport 3868", cut); /* ports only: no chunk is read */
	assert_int_equal(hd, 0);
}

/* -m conntrack's options, connmark, connbytes: as xt_conntrack (rev 3),
 * xt_connmark and xt_connbytes look at the packet's connection */
static void test_connection(void **state)
{
	(void)state;
	static struct rules_ct ct;
	memset(&ct, 0, sizeof(ct));
	struct rules_pkt p = base4();
	ct.proto = 6;
	ct.expire_s = 100;
	ct.osrc = p.src;
	ct.odst = p.dst;
	ct.rsrc = p.dst;
	ct.rdst = p.src;
	ct.rdst.b[3] = 77; /* as if SNATed to 10.0.0.77 */
	ct.osport = 1234;
	ct.odport = 80;
	ct.rsport = 80;
	ct.rdport = 61000;
	ct.pkts[0] = 10;
	ct.bytes[0] = 1000;
	ct.pkts[1] = 5;
	ct.bytes[1] = 7500;
	p.ct = &ct;
	p.ct_state = RULES_CT_ESTABLISHED | RULES_CT_SNAT;
	p.ct_status = RULES_CTS_SEEN_REPLY | RULES_CTS_ASSURED | RULES_CTS_CONFIRMED;
	p.ct_dir = 0;
	p.ct_mark = 0x25;
	MATCH("-m state --state ESTABLISHED", p);
	MATCH("-m conntrack --ctstate SNAT", p);
	NOMATCH("-m conntrack --ctstate DNAT,NEW", p);
	MATCH("-m conntrack --ctproto tcp --ctdir ORIGINAL", p);
	NOMATCH("-m conntrack --ctdir REPLY", p);
	MATCH("-m conntrack --ctstatus ASSURED", p);
	NOMATCH("-m conntrack ! --ctstatus ASSURED,EXPECTED", p);
	MATCH("-m conntrack --ctorigsrc 10.0.0.0/24 --ctorigdst 10.0.0.2 --ctrepldst 10.0.0.77", p);
	NOMATCH("-m conntrack --ctrepldst 10.0.0.1", p);
	MATCH("-m conntrack ! --ctrepldst 10.0.0.1", p);
	MATCH("-m conntrack --ctreplsrc 10.0.0.2/255.255.255.255", p);
	MATCH("-m conntrack --ctorigsrcport 1234 --ctorigdstport 80 --ctrepldstport 60000:62000", p);
	NOMATCH("-m conntrack --ctreplsrcport 81:90", p);
	MATCH("-m conntrack --ctexpire 50:100", p);
	NOMATCH("-m conntrack --ctexpire 101:200", p);
	MATCH("-m conntrack ! --ctexpire 0:99", p);
	MATCH("-m connmark --mark 0x5/0xf", p);
	NOMATCH("-m connmark --mark 0x25/0xf", p);
	MATCH("-m connmark ! --mark 0x1", p);
	MATCH("-m connbytes --connbytes 15 --connbytes-mode packets --connbytes-dir both", p);
	NOMATCH("-m connbytes --connbytes 16 --connbytes-mode packets --connbytes-dir both", p);
	MATCH("-m connbytes --connbytes 0:1000 --connbytes-mode bytes --connbytes-dir original", p);
	NOMATCH("-m connbytes ! --connbytes 0:1000 --connbytes-mode bytes --connbytes-dir original", p);
	MATCH("-m connbytes --connbytes 1500 --connbytes-mode avgpkt --connbytes-dir reply", p);
	NOMATCH("-m connbytes --connbytes 600 --connbytes-mode avgpkt --connbytes-dir both", p);
	/* no connection: xt_conntrack looks at --ctstate only, and without
	 * --ctstate nothing matches */
	p.ct = NULL;
	p.ct_state = RULES_CT_INVALID;
	MATCH("-m conntrack --ctstate INVALID", p);
	MATCH("-m conntrack --ctstate INVALID --ctproto udp", p);
	NOMATCH("-m conntrack --ctproto tcp", p);
	NOMATCH("-m connbytes --connbytes 0 --connbytes-mode packets --connbytes-dir both", p);
}

/* The compiled shortcut of a first "ESTABLISHED -j ACCEPT" rule: only when
 * that rule looks at nothing else and its table is alone at the hook. */
static void test_est_shortcut(void **state)
{
	(void)state;
	static const struct {
		const char *first;
		bool mangle;
		uint16_t mask;
	} cases[] = {
		{ "-m state --state RELATED,ESTABLISHED -j ACCEPT", false,
		  RULES_CT_ESTABLISHED | RULES_CT_RELATED },
		{ "-m conntrack --ctstate ESTABLISHED -j ACCEPT", false, RULES_CT_ESTABLISHED },
		{ "-m conntrack --ctstate ESTABLISHED -j ACCEPT", true, 0 },
		{ "-i lan0 -m conntrack --ctstate ESTABLISHED -j ACCEPT", false, 0 },
		{ "-m conntrack ! --ctstate ESTABLISHED -j ACCEPT", false, 0 },
		{ "-m conntrack --ctstate ESTABLISHED,NEW -j ACCEPT", false, 0 },
		{ "-m conntrack --ctstate ESTABLISHED --ctdir REPLY -j ACCEPT", false, 0 },
		{ "-m conntrack --ctstate ESTABLISHED -j DROP", false, 0 },
		{ "-p tcp -m state --state ESTABLISHED -j ACCEPT", false, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text),
			 "%s*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
			 "-A FORWARD %s\n-A FORWARD -j ACCEPT\nCOMMIT\n",
			 cases[i].mangle ? "*mangle\n:FORWARD ACCEPT [0:0]\nCOMMIT\n" : "", cases[i].first);
		struct run r;
		load(&r, text, NULL, 0);
		if (r.p->f[0].est_mask[RULES_H_FORWARD] != cases[i].mask)
			fail_msg("'%s'%s: est_mask 0x%x, expected 0x%x", cases[i].first,
				 cases[i].mangle ? " (with mangle)" : "",
				 r.p->f[0].est_mask[RULES_H_FORWARD], cases[i].mask);
		if (cases[i].mask) {
			/* and it counts as the rule would */
			struct rules_counter *c = r.ctr;
			assert_true(rules_est_shortcut(r.p, RULES_F_V4, RULES_H_FORWARD,
						       RULES_CT_ESTABLISHED, 100, c));
			assert_false(rules_est_shortcut(r.p, RULES_F_V4, RULES_H_FORWARD, RULES_CT_NEW,
							100, c));
			assert_int_equal(c[r.p->f[0].est_ctr[RULES_H_FORWARD]].pkts, 1);
			assert_int_equal(c[r.p->f[0].est_ctr[RULES_H_FORWARD]].bytes, 100);
			assert_int_equal(r.p->f[0].est_mask[RULES_H_INPUT], 0);
		}
		unload(&r);
	}
}

/* The nat table: traversed by a connection's first packet only, in the
 * kernel's place at each hook (after filter at INPUT); its targets give the
 * binding and end the table; it does not hide the ESTABLISHED shortcut. */
static void test_nat_table(void **state)
{
	(void)state;
	struct run r;
	load(&r, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		 ":POSTROUTING ACCEPT [0:0]\n"
		 "-A PREROUTING -p tcp --dport 8888 -j DNAT --to-destination 10.0.0.5:80\n"
		 "-A PREROUTING -p tcp --dport 8888 -j DNAT --to-destination 10.0.0.6:80\n"
		 "-A INPUT -p udp -j SNAT --to-source 10.9.9.9\n"
		 "-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n"
		 "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		 "-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n"
		 "-A FORWARD -j ACCEPT\nCOMMIT\n", NULL, 0);
	assert_true(r.p->uses_nat);
	assert_true(r.p->uses_ct);
	const struct rules_fprog *fp = &r.p->f[0];
	assert_int_equal(fp->hook_nat[RULES_H_PREROUTING], 1);
	assert_int_equal(fp->hook_nat[RULES_H_POSTROUTING], 1);
	assert_int_equal(fp->hook_nat[RULES_H_INPUT], 2); /* after filter */
	assert_int_equal(fp->hook_nat[RULES_H_FORWARD], 0);
	assert_false(fp->hook_active[RULES_H_PREROUTING]); /* nat alone */
	assert_true(fp->hook_active[RULES_H_INPUT]);
	assert_int_equal(fp->est_mask[RULES_H_FORWARD], RULES_CT_ESTABLISHED);

	/* not the first packet: the nat table is not looked at */
	struct rules_pkt p = base4();
	p.dport = 8888;
	p.ct_state = RULES_CT_NEW;
	struct rules_result res;
	rules_eval_hook(r.p, RULES_H_PREROUTING, &p, r.ctr, &res, NULL);
	assert_null(res.nat);
	/* the first: the first DNAT wins and ends the table */
	p.nat_new = 1;
	rules_eval_hook(r.p, RULES_H_PREROUTING, &p, r.ctr, &res, NULL);
	assert_non_null(res.nat);
	assert_int_equal(res.nat->kind, RULES_X_DNAT);
	assert_int_equal(res.nat->u.nat.min.b[3], 5);
	assert_int_equal(res.res, RULES_R_ACCEPT);
	/* no rule: the policy, no binding */
	p.dport = 22;
	rules_eval_hook(r.p, RULES_H_PREROUTING, &p, r.ctr, &res, NULL);
	assert_null(res.nat);
	/* INPUT: filter's DROP policy comes first, the nat table never runs */
	p = udp(base4(), 1, 2);
	p.nat_new = 1;
	rules_eval_hook(r.p, RULES_H_INPUT, &p, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_DROP);
	assert_null(res.nat);
	/* POSTROUTING: MASQUERADE by output port */
	p = base4();
	p.nat_new = 1;
	p.out_port = 1; /* wan0 */
	rules_eval_hook(r.p, RULES_H_POSTROUTING, &p, r.ctr, &res, NULL);
	assert_non_null(res.nat);
	assert_int_equal(res.nat->kind, RULES_X_MASQUERADE);
	p.out_port = 0;
	rules_eval_hook(r.p, RULES_H_POSTROUTING, &p, r.ctr, &res, NULL);
	assert_null(res.nat);
	unload(&r);
}

/* -m connlimit asks the caller for the count of the masked address */
static uint32_t cl_count;
static struct rules_addr cl_key;
static uint32_t cl_match;
static uint32_t fake_connlimit(void *ctx, uint32_t match, uint8_t fam, const struct rules_addr *key)
{
	(void)ctx;
	(void)fam;
	cl_key = *key;
	cl_match = match;
	return cl_count;
}

static void test_connlimit(void **state)
{
	(void)state;
	struct rules_pkt p = base4(); /* 10.0.0.1 -> 10.0.0.2 */
	p.connlimit = fake_connlimit;
	cl_count = 3;
	assert_true(matches("-m connlimit --connlimit-above 2", &p));
	assert_false(matches("-m connlimit --connlimit-above 3", &p));
	assert_true(matches("-m connlimit --connlimit-upto 3", &p));
	assert_true(matches("-m connlimit ! --connlimit-above 3", &p));
	assert_true(matches("-m connlimit --connlimit-above 2 --connlimit-mask 8", &p));
	assert_int_equal(cl_key.b[0], 10);
	assert_int_equal(cl_key.b[3], 0); /* masked to 10.0.0.0/8 */
	assert_true(matches("-m connlimit --connlimit-above 2 --connlimit-daddr", &p));
	assert_int_equal(cl_key.b[3], 2); /* the destination */
	/* the connection's original addresses, when there is one */
	struct rules_ct c;
	memset(&c, 0, sizeof(c));
	c.osrc.b[0] = 192;
	p.ct = &c;
	assert_true(matches("-m connlimit --connlimit-above 2", &p));
	assert_int_equal(cl_key.b[0], 192);
	/* cannot count: no match (the caller drops the packet) */
	cl_count = UINT32_MAX;
	assert_false(matches("-m connlimit --connlimit-upto 100", &p));
	/* no counter: nothing matches */
	p.connlimit = NULL;
	cl_count = 3;
	assert_false(matches("-m connlimit --connlimit-above 0", &p));
}

/* NOTRACK and CONNMARK set what the caller writes back */
static void test_ct_targets(void **state)
{
	(void)state;
	struct run r;
	load(&r, "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		 "-A PREROUTING -p udp -j CT --notrack\nCOMMIT\n"
		 "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
		 ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
		 "-A PREROUTING -m mark --mark 0x7 -j CONNMARK --save-mark\n"
		 "-A PREROUTING -m mark --mark 0 -j CONNMARK --restore-mark --mask 0xff\n"
		 "-A FORWARD -j CONNMARK --set-xmark 0x100/0xf00\nCOMMIT\n", NULL, 0);
	assert_true(r.p->uses_ct);
	struct rules_pkt p = udp(base4(), 1, 2);
	struct rules_result res;
	rules_eval_part(r.p, RULES_H_PREROUTING, RULES_PART_RAW, &p, r.ctr, &res, NULL);
	assert_int_equal(res.notrack, 1);
	p = base4();
	rules_eval_part(r.p, RULES_H_PREROUTING, RULES_PART_RAW, &p, r.ctr, &res, NULL);
	assert_int_equal(res.notrack, 0);
	/* the rest of the hook: mangle; restore the connection's low byte */
	p.ct_state = RULES_CT_ESTABLISHED;
	p.ct_mark = 0x1234;
	rules_eval_part(r.p, RULES_H_PREROUTING, RULES_PART_REST, &p, r.ctr, &res, NULL);
	assert_int_equal(p.mark, 0x34);
	assert_true(res.mods & RULES_MOD_MARK);
	p.mark = 0x7;
	rules_eval_part(r.p, RULES_H_PREROUTING, RULES_PART_REST, &p, r.ctr, &res, NULL);
	assert_int_equal(p.ct_mark, 0x7);
	assert_true(res.mods & RULES_MOD_CTMARK);
	rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
	assert_int_equal(p.ct_mark, 0x107);
	/* no connection: CONNMARK does nothing */
	p.ct_state = RULES_CT_UNTRACKED;
	rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
	assert_int_equal(res.mods, 0);
	unload(&r);
}

static void test_sets(void **state)
{
	(void)state;
	struct rules_pkt p = base4();
	MATCH("-m set --match-set ip4 src", p);
	NOMATCH("-m set --match-set ip4 dst", p);
	MATCH("-m set ! --match-set ip4 dst", p);
	MATCH("-m set --match-set net4 src", p);
	MATCH("-m set --match-set net4 dst", p);
	MATCH("-m set --match-set ipport dst,dst", p);
	NOMATCH("-m set --match-set ipport dst,src", p);
	NOMATCH("-m set --match-set ipport dst,dst", udp(p, 1234, 80)); /* tcp:80 only */
	MATCH("-m set --match-set ports src", p);
	NOMATCH("-m set --match-set ports dst", p);
	struct rules_pkt f = p;
	f.src.b[1] = 9;
	f.src.b[2] = 200;
	MATCH("-m set --match-set net4 src", f);
	f.src.b[1] = 8;
	NOMATCH("-m set --match-set net4 src", f);
	MATCH("-m set --match-set net6 src", base6());
}

/* hash:ip,port,ip and hash:ip,port,net: address, port, address */
static void test_set_3d(void **state)
{
	(void)state;
	struct rules_pkt p = base4(); /* 10.0.0.1:1234 -> 10.0.0.2:80 */
	MATCH("-m set --match-set ipi dst,dst,src", p);
	NOMATCH("-m set --match-set ipi dst,dst,dst", p);
	NOMATCH("-m set --match-set ipi dst,src,src", p);  /* port 1234 */
	NOMATCH("-m set --match-set ipi src,dst,dst", p);
	NOMATCH("-m set --match-set ipi dst,dst,src", udp(p, 1234, 80)); /* tcp only */
	MATCH("-m set --match-set ipi dst,dst,src,src", p); /* extra directions: ignored */
	/* the most specific third prefix decides */
	NOMATCH("-m set --match-set ipn dst,dst,src", p);   /* 10.0.0.0/24 nomatch */
	MATCH("-m set --match-set ipn dst,dst,src --return-nomatch", p);
	MATCH("-m set --match-set ipn dst,src,src", p);     /* tcp:1234 */
	struct rules_pkt q = p;
	q.src.b[1] = 7; /* 10.7.0.1: the /8 */
	MATCH("-m set --match-set ipn dst,dst,src", q);
	q.src.b[0] = 11;
	NOMATCH("-m set --match-set ipn dst,dst,src", q);
	/* bitmap:ip: the address's block */
	MATCH("-m set --match-set bip src", p);
	MATCH("-m set --match-set bip dst", p);
	q = p;
	q.src.b[2] = 1; /* 10.0.1.1: another block */
	NOMATCH("-m set --match-set bip src", q);
	q.src.b[1] = 9; /* out of the range */
	NOMATCH("-m set --match-set bip src", q);
	NOMATCH("-m set --match-set bip2 src", p);
	/* ICMP: type and code, whichever direction; other protocols: port 0 */
	MATCH("-m set --match-set ipx dst,dst", icmp(base4(), 8, 0));
	MATCH("-m set --match-set ipx dst,src", icmp(base4(), 3, 4));
	NOMATCH("-m set --match-set ipx dst,dst", icmp(base4(), 0, 0));
	NOMATCH("-m set --match-set ipx dst,dst", icmp(base4(), 8, 1));
	NOMATCH("-m set --match-set ipx dst,dst", p); /* tcp:80 */
	q = base4();
	q.proto = 47;
	q.l4 = 0;
	MATCH("-m set --match-set ipx dst,dst", q);
	q.frag = 1; /* a later fragment: no ports needed */
	MATCH("-m set --match-set ipx dst,dst", q);
	/* list:set: the members in order, each of its own family */
	MATCH("-m set --match-set lst src", p);
	NOMATCH("-m set --match-set lst dst", p);
	MATCH("-m set --match-set lst src", base6());
	MATCH("-m set ! --match-set lst dst", p);
	/* each member asked as -m set asks it: exceptions, --return-nomatch,
	 * directions (ipport needs two) */
	NOMATCH("-m set --match-set lexc src", p);
	MATCH("-m set --match-set lexc src --return-nomatch", p);
	MATCH("-m set --match-set lexc dst", p);           /* exc's 10.0.0.2/32 */
	MATCH("-m set --match-set lexc dst,dst", p);       /* and ipport's 10.0.0.2,tcp:80 */
	NOMATCH("-m set --match-set lexc dst,src --return-nomatch", p);
}

/* hash:net exceptions (nomatch), --return-nomatch, and the counter options,
 * which compare nothing in sets without counters (all of them here) */
static void test_set_nomatch(void **state)
{
	(void)state;
	struct rules_pkt p = base4(); /* 10.0.0.1:1234 -> 10.0.0.2:80 */
	NOMATCH("-m set --match-set exc src", p);  /* 10.0.0.0/24 nomatch */
	MATCH("-m set ! --match-set exc src", p);
	MATCH("-m set --match-set exc dst", p);    /* 10.0.0.2/32 */
	MATCH("-m set --match-set exc src --return-nomatch", p);
	NOMATCH("-m set --match-set exc dst --return-nomatch", p);
	NOMATCH("-m set ! --match-set exc src --return-nomatch", p);
	struct rules_pkt q = p;
	q.src.b[1] = 5; /* 10.5.0.1: the /8 alone */
	MATCH("-m set --match-set exc src", q);
	NOMATCH("-m set --match-set exc src --return-nomatch", q);
	q.src.b[0] = 11; /* in no entry: neither */
	NOMATCH("-m set --match-set exc src", q);
	NOMATCH("-m set --match-set exc src --return-nomatch", q);
	MATCH("-m set ! --match-set exc src --return-nomatch", q);
	/* net,port: the most specific entry of the packet's port */
	NOMATCH("-m set --match-set excp dst,dst", p);              /* /30,80 nomatch */
	MATCH("-m set --match-set excp dst,dst --return-nomatch", p);
	MATCH("-m set --match-set excp dst,src", p);               /* /30,1234 */
	q = p;
	q.dst.b[3] = 9; /* 10.0.0.9:80: the /8 */
	MATCH("-m set --match-set excp dst,dst", q);
	/* --return-nomatch does nothing to a type without exceptions */
	MATCH("-m set --match-set ip4 src --return-nomatch", p);
	/* counter options: no set here has counters; the kernel compares only
	 * in sets that do */
	MATCH("-m set --match-set exc dst --packets-gt 5 ! --bytes-eq 0", p);
	MATCH("-m set --match-set exc dst ! --update-counters ! --update-subcounters --packets-lt 0", p);
	NOMATCH("-m set --match-set exc src --packets-eq 0", p);
}

/* -m policy: no packet here is IPsec's, as xt_policy without a secpath */
static void test_policy(void **state)
{
	(void)state;
	MATCH("-m policy --dir in --pol none", base4());
	MATCH("-m policy --dir out --pol none", base6());
	NOMATCH("-m policy --dir in --pol ipsec", base4());
	NOMATCH("-m policy --dir in", base4()); /* ipsec by default */
	NOMATCH("-m policy --dir out --pol ipsec ! --proto esp ! --mode tunnel", base6());
	NOMATCH("-m policy --dir in --pol ipsec --strict --proto esp --next --proto ah", base4());
}

/* Entries of timeout sets match until they expire, on the packet's clock. */
static void test_set_timeouts(void **state)
{
	(void)state;
	struct rules_pkt p = base4();
	p.now_us = FAKE_T0 + 1999999;
	MATCH("-m set --match-set tports src", p); /* 1234: 2 s */
	p.now_us = FAKE_T0 + 9999999; /* 10.0.0.1: 10 s */
	MATCH("-m set --match-set tmo src", p);
	MATCH("-m set --match-set tmo dst", p); /* 10.0.0.2: never expires */
	NOMATCH("-m set --match-set tnp dst,dst", p); /* 5 s */
	NOMATCH("-m set --match-set tports src", p);
	MATCH("-m set --match-set tports dst", p);  /* 80: never */
	NOMATCH("-m set --match-set tports dst", udp(p, 1234, 81));
	p.now_us = FAKE_T0 + 10000000;
	NOMATCH("-m set --match-set tmo src", p);
	MATCH("-m set ! --match-set tmo src", p);
	MATCH("-m set --match-set tmo dst", p);
	NOMATCH("-m set --match-set tports src", p);
	MATCH("-m set --match-set tports dst", p);
	p.now_us = FAKE_T0 + 4999999;
	MATCH("-m set --match-set tnp dst,dst", p);
	p.now_us = FAKE_T0 + 2000000;
	NOMATCH("-m set --match-set tports src", p);
	/* an exception holds until it expires, then the wider entry decides */
	p.now_us = FAKE_T0 + 2999999;
	NOMATCH("-m set --match-set texc src", p);
	p.now_us = FAKE_T0 + 3000000;
	MATCH("-m set --match-set texc src", p);
	/* a list's member that expires is no longer asked */
	p.now_us = FAKE_T0 + 2999999;
	MATCH("-m set --match-set tlst src", p);
	p.now_us = FAKE_T0 + 3000000;
	NOMATCH("-m set --match-set tlst src", p);
	/* a program with a timeout set reads the clock */
	struct run r;
	load(&r, forward_text("-m set --match-set tmo src", false, RULES_F_V4), NULL, 0);
	assert_true(r.p->need_clock);
	unload(&r);
	load(&r, forward_text("-m set --match-set ip4 src", false, RULES_F_V4), NULL, 0);
	assert_false(r.p->need_clock);
	unload(&r);
}

static struct rules_set_req got[8];
static unsigned n_got;
static void take_req(void *ctx, const struct rules_set_req *q)
{
	(void)ctx;
	if (n_got < 8)
		got[n_got] = *q;
	n_got++;
}

static void want_req(unsigned i, const char *set, uint8_t op, const char *addr, uint8_t plen,
	uint8_t proto, uint16_t port, uint8_t exist, uint32_t timeout)
{
	assert_true(i < n_got);
	const struct rules_set_req *q = &got[i];
	assert_string_equal(q->name, set);
	assert_int_equal(q->op, op);
	struct rules_addr a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(inet_pton(strchr(addr, ':') ? AF_INET6 : AF_INET, addr, a.b), 1);
	assert_memory_equal(q->e.addr.b, a.b, 16);
	assert_int_equal(q->e.plen, plen);
	assert_int_equal(q->e.proto, proto);
	assert_int_equal(q->e.port_lo, port);
	assert_int_equal(q->e.port_hi, port);
	assert_int_equal(q->e.exp_us, 0);
	assert_int_equal(q->exist, exist);
	assert_int_equal(q->timeout, timeout);
}

/* -j SET: the request each rule makes of the packet (xt_SET's kadt), and
 * the traversal goes on after it */
static void test_set_target(void **state)
{
	(void)state;
	static const char t4[] =
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -j SET --add-set ip4 src\n"
		"-A FORWARD -j SET --add-set net4 dst --exist --timeout 5\n"
		"-A FORWARD -j SET --add-set ipport src,src --del-set ipport dst,dst\n"
		"-A FORWARD -j SET --add-set ipport dst\n"
		"-A FORWARD -j SET --add-set tmo src --timeout 4294967294\n"
		"-A FORWARD -j SET --add-set ipn dst,dst,src\n"
		"-A FORWARD -j SET --add-set ipi dst,dst\n"
		"-A FORWARD -j SET --add-set bip2 src\n-A FORWARD -j SET --add-set bip dst\n"
		"-A FORWARD -j ACCEPT\nCOMMIT\n";
	static const char t6[] =
		"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		"-A FORWARD -j SET --del-set net6 src\n-A FORWARD -j ACCEPT\nCOMMIT\n";
	for (int k = 0; k < 2; k++) {
		struct run r;
		load(&r, t4, t6, k ? RULES_COMPILE_LINEAR : 0);
		assert_true(r.p->uses_set_target);
		struct rules_pkt p = base4();
		memset(p.src.b + 4, 0xee, 12); /* not cleared in the workers' views */
		memset(p.dst.b + 4, 0xee, 12);
		p.set_req = take_req;
		n_got = 0;
		struct rules_result res;
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		/* hash:net: the set's longest prefix (10.0.0.0/30 and 10.9.0.0/16 in
		 * it: /30), as the kernel's INIT_CIDR; ipport with one direction
		 * named: nothing (the kernel's type mismatch) */
		assert_int_equal(n_got, 7);
		want_req(0, "ip4", RULES_SETREQ_ADD, "10.0.0.1", 32, 0, 0, 0, RULES_SET_NO_TIMEOUT);
		want_req(1, "net4", RULES_SETREQ_ADD, "10.0.0.0", 30, 0, 0, 1, 5);
		want_req(2, "ipport", RULES_SETREQ_ADD, "10.0.0.1", 32, 6, 1234, 0, RULES_SET_NO_TIMEOUT);
		want_req(3, "ipport", RULES_SETREQ_DEL, "10.0.0.2", 32, 6, 80, 0, RULES_SET_NO_TIMEOUT);
		want_req(4, "tmo", RULES_SETREQ_ADD, "10.0.0.1", 32, 0, 0, 0, 4294967294u);
		/* hash:ip,port,net: the third address to the set's longest
		 * third prefix (/24); ipi with two directions: nothing */
		want_req(5, "ipn", RULES_SETREQ_ADD, "10.0.0.2", 32, 6, 80, 0, RULES_SET_NO_TIMEOUT);
		assert_int_equal(got[5].e.plen2, 24);
		assert_int_equal(got[5].e.addr2.b[0], 10);
		assert_int_equal(got[5].e.addr2.b[3], 0);
		assert_int_equal(got[5].e.addr2.b[4], 0);
		/* bitmap:ip: out of bip2's range, nothing; bip: the /24 block */
		want_req(6, "bip", RULES_SETREQ_ADD, "10.0.0.0", 24, 0, 0, 0, RULES_SET_NO_TIMEOUT);
		assert_int_equal(got[0].type, RULES_SET_HASH_IP);
		assert_int_equal(got[0].fam, RULES_F_V4);
		/* ICMP: its type and code are the port (ip_set_get_ip4_port),
		 * whichever direction is named */
		p = icmp(base4(), 8, 0);
		p.set_req = take_req;
		n_got = 0;
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(n_got, 7);
		want_req(2, "ipport", RULES_SETREQ_ADD, "10.0.0.1", 32, 1, 8 << 8, 0, RULES_SET_NO_TIMEOUT);
		want_req(3, "ipport", RULES_SETREQ_DEL, "10.0.0.2", 32, 1, 8 << 8, 0, RULES_SET_NO_TIMEOUT);
		want_req(4, "tmo", RULES_SETREQ_ADD, "10.0.0.1", 32, 0, 0, 0, 4294967294u);
		want_req(5, "ipn", RULES_SETREQ_ADD, "10.0.0.2", 32, 1, 8 << 8, 0, RULES_SET_NO_TIMEOUT);
		want_req(6, "bip", RULES_SETREQ_ADD, "10.0.0.0", 24, 0, 0, 0, RULES_SET_NO_TIMEOUT);
		/* a protocol without ports: the pseudo port 0 */
		p = base4();
		p.proto = 47;
		p.l4 = 0;
		p.set_req = take_req;
		n_got = 0;
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(n_got, 7);
		want_req(2, "ipport", RULES_SETREQ_ADD, "10.0.0.1", 32, 47, 0, 0, RULES_SET_NO_TIMEOUT);
		/* nobody listening: nothing happens, the traversal goes on */
		p = base4();
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		p = base6();
		p.set_req = take_req;
		n_got = 0;
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(n_got, 1);
		want_req(0, "net6", RULES_SETREQ_DEL, "fd00::", 64, 0, 0, 0, RULES_SET_NO_TIMEOUT);
		unload(&r);
	}
}

static void test_limit(void **state)
{
	(void)state;
	struct run r;
	load(&r, forward_text("-m limit --limit 2/sec --limit-burst 3", false, RULES_F_V4), NULL, 0);
	struct rules_pkt p = base4();
	int ok = 0;
	p.now_us = 1000000;
	for (int i = 0; i < 10; i++) {
		struct rules_result res;
		struct rules_pkt q = p;
		rules_eval_hook(r.p, RULES_H_FORWARD, &q, r.ctr, &res, NULL);
		ok += res.res == RULES_R_ACCEPT;
	}
	assert_int_equal(ok, 3); /* the burst */
	p.now_us += 500000;      /* one more token at 2/s */
	struct rules_result res;
	rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_ACCEPT);
	rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_DROP);
	unload(&r);
}

/* ---- -m time (xt_time) with the clock the caller gives ---- */

static int64_t utc(int y, int mo, int d, int h, int mi, int sec)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
		.tm_min = mi, .tm_sec = sec };
	return (int64_t)timegm(&tm);
}

static struct rules_pkt at(int64_t t)
{
	struct rules_pkt p = base4();
	p.wall_s = t;
	return p;
}

/* The calendar arithmetic against libc's for every day of 1969..2040. */
static void test_time_calendar(void **state)
{
	(void)state;
	for (int64_t day = -365; day < 25600; day++) {
		time_t t = (time_t)(day * 86400);
		struct tm tm;
		gmtime_r(&t, &tm);
		int64_t y;
		unsigned m, d;
		rules_time_civil(day, &y, &m, &d);
		assert_int_equal(y, tm.tm_year + 1900);
		assert_int_equal(m, tm.tm_mon + 1);
		assert_int_equal(d, tm.tm_mday);
		assert_int_equal(rules_time_days(y, m, d), day);
		/* one weekday rule per day: exactly tm's day matches */
		struct rules_m_time mt = { .date_stop = RULES_TIME_DATE_MAX,
			.daytime_stop = RULES_TIME_MAX_DAYTIME, .monthdays = RULES_TIME_ALL_MONTHDAYS,
			.weekdays = (uint8_t)(1u << (tm.tm_wday == 0 ? 7 : tm.tm_wday)) };
		if (day >= 0 && day * 86400 + 43200 <= RULES_TIME_DATE_MAX) {
			assert_true(rules_time_match(&mt, day * 86400 + 43200, 0));
			mt.weekdays = (uint8_t)(RULES_TIME_ALL_WEEKDAYS & ~mt.weekdays);
			assert_false(rules_time_match(&mt, day * 86400 + 43200, 0));
		}
	}
	/* mktime's carries, as libxt_time's dates get them */
	assert_int_equal(rules_time_days(2023, 2, 31), rules_time_days(2023, 3, 3));
	assert_int_equal(rules_time_days(2024, 1, 0), rules_time_days(2023, 12, 31));
}

static void test_time(void **state)
{
	(void)state;
	int64_t mon = utc(2024, 3, 4, 0, 0, 0); /* a Monday */
	/* a window in the day: both ends included */
	const char *office = "-m time --timestart 08:00 --timestop 17:00";
	MATCH(office, at(mon + 12 * 3600));
	MATCH(office, at(mon + 8 * 3600));
	MATCH(office, at(mon + 17 * 3600));
	NOMATCH(office, at(mon + 17 * 3600 + 1));
	NOMATCH(office, at(mon + 8 * 3600 - 1));
	/* past midnight: the evening and the morning of every day */
	const char *night = "-m time --timestart 22:00 --timestop 06:00";
	MATCH(night, at(mon + 23 * 3600));
	MATCH(night, at(mon + 3 * 3600));
	MATCH(night, at(mon + 22 * 3600));
	MATCH(night, at(mon + 6 * 3600));
	NOMATCH(night, at(mon + 6 * 3600 + 1));
	NOMATCH(night, at(mon + 22 * 3600 - 1));
	NOMATCH(night, at(mon + 12 * 3600));
	/* equal ends: the kernel's test lets the whole day through */
	MATCH("-m time --timestart 12:00 --timestop 12:00", at(mon + 3 * 3600));
	/* weekdays, names and numbers, inverted */
	MATCH("-m time --weekdays Mon", at(mon + 3600));
	MATCH("-m time --weekdays 1", at(mon + 3600));
	NOMATCH("-m time --weekdays Tue", at(mon + 3600));
	NOMATCH("-m time ! --weekdays Mon", at(mon + 3600));
	MATCH("-m time ! --weekdays Mon", at(mon - 3600));
	MATCH("-m time --weekdays Sun", at(mon - 1));
	MATCH("-m time --weekdays 7", at(mon - 86400));
	/* a wrapped window on a Monday: without --contiguous the hours after
	 * midnight are Monday's own; with it they belong to the day before */
	const char *mon_night = "-m time --timestart 23:00 --timestop 01:00 --weekdays Mon";
	MATCH(mon_night, at(mon + 1800));
	NOMATCH(mon_night, at(mon + 86400 + 1800));
	MATCH(mon_night, at(mon + 23 * 3600 + 1800));
	const char *mon_cont = "-m time --timestart 23:00 --timestop 01:00 --weekdays Mon --contiguous";
	NOMATCH(mon_cont, at(mon + 1800));
	MATCH(mon_cont, at(mon + 86400 + 1800));
	MATCH(mon_cont, at(mon + 86400 + 3600));
	NOMATCH(mon_cont, at(mon + 86400 + 3601));
	MATCH(mon_cont, at(mon + 23 * 3600));
	/* month days: a leap day, month ends, the year's end */
	int64_t leap = utc(2024, 2, 29, 10, 0, 0);
	MATCH("-m time --monthdays 29", at(leap));
	NOMATCH("-m time --monthdays 28", at(leap));
	NOMATCH("-m time ! --monthdays 29", at(leap));
	MATCH("-m time --monthdays 1", at(leap + 86400));
	MATCH("-m time --monthdays 31 --weekdays Tue", at(utc(2024, 12, 31, 23, 59, 59)));
	MATCH("-m time --monthdays 29", at(utc(2000, 2, 29, 0, 0, 0)));
	/* --contiguous across a month and a year */
	const char *nye = "-m time --timestart 23:00 --timestop 02:00 --contiguous --monthdays 31";
	MATCH(nye, at(utc(2025, 1, 1, 1, 0, 0)));
	NOMATCH(nye, at(utc(2024, 12, 31, 1, 0, 0)));
	NOMATCH("-m time --timestart 23:00 --timestop 02:00 --monthdays 31",
		at(utc(2025, 1, 1, 1, 0, 0)));
	/* dates: both ends included, every ISO 8601 length */
	const char *range = "-m time --datestart 2024-03-04T12:00:00 --datestop 2024-03-04T12:00:10";
	MATCH(range, at(mon + 12 * 3600));
	MATCH(range, at(mon + 12 * 3600 + 10));
	NOMATCH(range, at(mon + 12 * 3600 - 1));
	NOMATCH(range, at(mon + 12 * 3600 + 11));
	MATCH("-m time --datestart 2024-03", at(utc(2024, 3, 1, 0, 0, 0)));
	NOMATCH("-m time --datestart 2024-03", at(utc(2024, 2, 29, 23, 59, 59)));
	NOMATCH("-m time --datestop 2024-03-04T10", at(mon + 10 * 3600 + 1));
	MATCH("-m time --datestart 2023-02-31", at(utc(2023, 3, 3, 0, 0, 0)));
	NOMATCH("-m time --datestart 2023-02-31", at(utc(2023, 3, 2, 23, 59, 59)));
	/* the default --datestop is INT_MAX, as libxt_time's: the kernel's
	 * rules stop then too */
	MATCH("-m time", at(RULES_TIME_DATE_MAX));
	NOMATCH("-m time", at((int64_t)RULES_TIME_DATE_MAX + 1));
	MATCH("-m time --datestop 2038-12-31T23:59:59", at((int64_t)RULES_TIME_DATE_MAX + 1));
	/* --kerneltz: the kernel's zone, here UTC+1 (minuteswest -60) */
	struct rules_pkt p = at(mon + 23 * 3600 + 1800); /* Monday 23:30 UTC, Tuesday 00:30 there */
	p.tz_west_s = -3600;
	MATCH("-m time --kerneltz --weekdays Tue", p);
	MATCH("-m time --localtz --timestart 00:00 --timestop 01:00", p);
	NOMATCH("-m time --weekdays Tue", p);
	MATCH("-m time --utc --weekdays Mon", p);
	NOMATCH("-m time --kerneltz --datestop 2024-03-04T23:59:59", p);
	MATCH("-m time --datestop 2024-03-04T23:59:59", p);
}

/* ---- targets and traversal ---- */

static const char trav4[] =
	"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
	":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
	"-A FORWARD -p udp -m udp --dport 1 -j DROP\n"
	"-A FORWARD -p udp -m udp --dport 2 -j MARK --set-xmark 0x10/0xff\n"
	"-A FORWARD -p udp -m udp --dport 2 -j ACCEPT\n"
	"-A FORWARD -p udp -m udp --dport 2 -j MARK --set-xmark 0x20/0xff\n"
	"-A FORWARD -p udp -m udp --dport 11 -j TOS --set-tos 0x10/0x3f\n"
	"-A FORWARD -p udp -m udp --dport 11 -j DSCP --set-dscp 0x0a\n"
	"-A FORWARD -p udp -m udp --dport 11 -j TTL --ttl-dec 3\n"
	"-A FORWARD -p udp -m udp --dport 11 -j MARK --or-mark 0x100\n"
	"-A FORWARD -p tcp -m tcp --dport 13 -j ECN --ecn-tcp-remove\n"
	"-A FORWARD -p tcp -m tcp --dport 13 -j ECN --ecn-ip-ect 1\n"
	"COMMIT\n"
	"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
	":a - [0:0]\n:b - [0:0]\n:c - [0:0]\n"
	"-A FORWARD -m mark --mark 0x10/0xff -p udp -m udp --dport 2 -j ACCEPT\n"
	"-A FORWARD -p udp -j a\n"
	"-A FORWARD -p udp -m udp --dport 7 -j LOG --log-prefix \"seven \"\n"
	"-A FORWARD -p udp -m udp --dport 7 -j ACCEPT\n"
	"-A FORWARD -p udp -m udp --dport 8 -j RETURN\n"
	"-A FORWARD -p tcp -m tcp --dport 9 -j REJECT --reject-with tcp-reset\n"
	"-A FORWARD -p udp -m udp --dport 10 -j REJECT --reject-with icmp-host-prohibited\n"
	"-A FORWARD -p udp -m udp --dport 11 -m mark --mark 0x100/0x100 -j ACCEPT\n"
	"-A FORWARD -p udp -m udp --dport 12 -g c\n"
	"-A FORWARD -p udp\n"
	"-A FORWARD -p tcp -m tcp --dport 13 -m ecn ! --ecn-tcp-ece ! --ecn-tcp-cwr --ecn-ip-ect 1 -j ACCEPT\n"
	"-A a -p udp -m udp --dport 3 -j ACCEPT\n"
	"-A a -p udp -m udp --dport 4 -j b\n"
	"-A a -p udp -m udp --dport 4 -j ACCEPT\n"
	"-A a -p udp -m udp --dport 5 -j RETURN\n"
	"-A a -p udp -m udp --dport 5 -j ACCEPT\n"
	"-A a -p udp -m udp --dport 12 -j c\n"
	"-A a -p udp -m udp --dport 12 -j ACCEPT\n"
	"-A b -p udp -m udp --dport 4 -j RETURN\n"
	"-A b -j DROP\n"
	"-A c -p udp -m udp --dport 12 -g b\n"
	"COMMIT\n";

static struct rules_result eval_port(struct run *r, uint16_t dport, uint8_t proto, struct rules_pkt *out,
	struct rules_trace *tr)
{
	struct rules_pkt p = base4();
	p = proto == 6 ? p : udp(p, 1000, dport);
	p.dport = dport;
	struct rules_result res;
	rules_eval_hook(r->p, RULES_H_FORWARD, &p, r->ctr, &res, tr);
	if (out)
		*out = p;
	return res;
}

static void test_traversal(void **state)
{
	(void)state;
	for (unsigned flags = 0; flags <= RULES_COMPILE_LINEAR; flags += RULES_COMPILE_LINEAR) {
		struct run r;
		load(&r, trav4, NULL, flags);
		struct rules_pkt p;
		uint32_t tv[64];
		struct rules_trace tr = {0, 64, tv};
		/* mangle DROP ends the hook: filter never runs */
		assert_int_equal(eval_port(&r, 1, 17, NULL, NULL).res, RULES_R_DROP);
		/* mangle ACCEPT ends mangle only; filter sees the mark it set */
		struct rules_result res = eval_port(&r, 2, 17, &p, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		assert_int_equal(p.mark, 0x10);
		assert_true(res.mods & RULES_MOD_MARK);
		/* jump, ACCEPT in the user chain */
		assert_int_equal(eval_port(&r, 3, 17, NULL, NULL).res, RULES_R_ACCEPT);
		/* a -> b, RETURN from b back into a, then ACCEPT in a */
		assert_int_equal(eval_port(&r, 4, 17, NULL, NULL).res, RULES_R_ACCEPT);
		/* RETURN from a: back to FORWARD, to the rule without target, then the policy */
		tr.n = 0;
		assert_int_equal(eval_port(&r, 5, 17, NULL, &tr).res, RULES_R_DROP);
		assert_int_equal(tr.n, 4); /* mangle policy, -j a, RETURN, filter policy */
		assert_int_equal(tr.ctr[tr.n - 1], r.p->f[0].chains[r.p->f[0].hook_chain[RULES_H_FORWARD][RULES_T_FILTER]].policy_ctr);
		/* falling off the end of a user chain returns (then policy) */
		assert_int_equal(eval_port(&r, 6, 17, NULL, NULL).res, RULES_R_DROP);
		/* LOG is not terminating */
		res = eval_port(&r, 7, 17, NULL, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		assert_int_equal(res.n_log, 1);
		const struct rules_ext *lx = r.p->ctr_ext[res.log_rule[0]];
		assert_non_null(lx);
		assert_string_equal(lx->u.log.prefix, "seven ");
		/* RETURN in a built-in chain: the policy */
		assert_int_equal(eval_port(&r, 8, 17, NULL, NULL).res, RULES_R_DROP);
		/* REJECT codes */
		res = eval_port(&r, 9, 6, NULL, NULL);
		assert_int_equal(res.res, RULES_R_REJECT);
		assert_int_equal(res.reject_with, RULES_RJ_TCP_RESET);
		res = eval_port(&r, 10, 17, NULL, NULL);
		assert_int_equal(res.res, RULES_R_REJECT);
		assert_int_equal(res.reject_with, RULES_RJ_HOST_PROHIB);
		/* TOS, DSCP, TTL, MARK --or-mark, then a match on the new mark */
		res = eval_port(&r, 11, 17, &p, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		assert_int_equal(p.tos, 0x28);
		assert_int_equal(p.ttl, 61);
		assert_int_equal(p.mark, 0x100);
		assert_int_equal(res.mods, RULES_MOD_TOS | RULES_MOD_TTL | RULES_MOD_MARK);
		/* ECN: ECE and CWR cleared, the codepoint set; filter's -m ecn
		 * sees both */
		p = base4();
		p.dport = 13;
		p.tcp_flags = 0xd0; /* CWR ECE ACK */
		p.tos = 0x02;
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		assert_int_equal(p.tcp_flags, 0x10);
		assert_int_equal(p.tos, 0x01);
		assert_int_equal(res.mods, RULES_MOD_TCPF | RULES_MOD_TOS);
		/* nothing to change: nothing written back */
		p = base4();
		p.dport = 13;
		p.tcp_flags = 0x10;
		p.tos = 0x01;
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		assert_int_equal(res.mods, 0);
		/* goto: a -j c, c -g b, b DROPs (12 != 4): ... and -g c from FORWARD:
		 * FORWARD's -g c comes after a's ACCEPT, so: a -> c -> goto b -> DROP */
		assert_int_equal(eval_port(&r, 12, 17, NULL, NULL).res, RULES_R_DROP);
		/* counters: the rule without target counted packets 5 and 6 */
		uint64_t none_rule = 0;
		for (uint32_t i = 0; i < r.p->n_ctr; i++)
			if (!r.p->ctr_src[i].policy && strcmp(r.p->ctr_src[i].chain, "FORWARD") == 0 &&
				r.p->ctr_src[i].table == RULES_T_FILTER && r.p->ctr_src[i].rule == 9)
				none_rule = r.ctr[i].pkts;
		assert_int_equal(none_rule, 2);
		unload(&r);
	}
}

/* SNPT/DNPT: ip6t_NPT's mapping (the vectors checked against the kernel by
 * tests/e2e/test_npt_kernel.sh's calculator), a word of 0xffff skipped, an
 * address with nothing to adjust dropped; the rules after it and the next
 * table see the new address (a table of 10 rules: no classifier there) */
static void test_npt(void **state)
{
	(void)state;
	static const char v6[] =
		"*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
		"-A POSTROUTING -s fd00:1::/48 -j SNPT --src-pfx fd00:1::/48 --dst-pfx 2001:db8:1::/48\n"
		"-A POSTROUTING -s fd77:1::/64 -j SNPT --src-pfx fd77:1::/64 --dst-pfx fd99:1::/64\n"
		"-A POSTROUTING -s fd99:1::/64 -j MARK --set-mark 7\n"
		"-A POSTROUTING -s fd00:1::/48 -j MARK --set-mark 1\n"
		"-A POSTROUTING -s 2001:db8:1::/48 -j MARK --set-mark 2\n"
		"-A POSTROUTING -s fd00:9::/64 -j MARK --set-mark 9\n"
		"-A POSTROUTING -s fd00:a::/64 -j MARK --set-mark 10\n"
		"-A POSTROUTING -s fd00:b::/64 -j MARK --set-mark 11\n"
		"-A POSTROUTING -s fd00:c::/64 -j MARK --set-mark 12\n"
		"-A POSTROUTING -s fd00:d::/64 -j MARK --set-mark 13\n"
		"COMMIT\n"
		"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
		":POSTROUTING ACCEPT [0:0]\n"
		"-A POSTROUTING -s fd77:1::/64 -j MASQUERADE\n"
		"COMMIT\n";
	static const struct {
		const char *in, *out;
		uint32_t mark;
	} v[] = {
		{ "fd00:1:0:5::1", "2001:db8:1:cf4c::1", 2 },
		{ "fd77:1::2", "fd99:1::ffdd:0:0:2", 7 },
		{ "fd77:1::ffff:0:0:2", "fd99:1::ffff:ffdd:0:2", 7 },
	};
	for (unsigned flags = 0; flags <= RULES_COMPILE_LINEAR; flags += RULES_COMPILE_LINEAR) {
		struct run r;
		load(&r, NULL, v6, flags);
		for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			struct rules_pkt p = base6();
			inet_pton(AF_INET6, v[i].in, p.src.b);
			p.nat_new = 1;
			struct rules_result res;
			rules_eval_hook(r.p, RULES_H_POSTROUTING, &p, r.ctr, &res, NULL);
			char mapped[64];
			inet_ntop(AF_INET6, p.src.b, mapped, sizeof(mapped));
			assert_string_equal(mapped, v[i].out);
			assert_true(res.mods & RULES_MOD_ADDR);
			assert_int_equal(p.mark, v[i].mark);
			/* nat sees the new source: the MASQUERADE of the inside
			 * prefix no longer applies */
			assert_null(res.nat);
		}
		struct rules_pkt p = base6();
		inet_pton(AF_INET6, "fd77:1::ffff:ffff:ffff:ffff", p.src.b);
		struct rules_result res;
		rules_eval_hook(r.p, RULES_H_POSTROUTING, &p, r.ctr, &res, NULL);
		assert_int_equal(res.res, RULES_R_DROP);
		unload(&r);
	}
}

/* goto from a user chain returns to the caller of the chain that went. */
static void test_goto_returns_to_caller(void **state)
{
	(void)state;
	static const char t[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
				":a - [0:0]\n:b - [0:0]\n"
				"-A FORWARD -j a\n"
				"-A FORWARD -j ACCEPT\n"
				"-A a -g b\n"
				"-A a -j DROP\n"
				"-A b -p tcp -m tcp --dport 81 -j DROP\n"
				"COMMIT\n";
	for (unsigned flags = 0; flags <= RULES_COMPILE_LINEAR; flags += RULES_COMPILE_LINEAR) {
		struct run r;
		load(&r, t, NULL, flags);
		struct rules_pkt p = base4();
		struct rules_result res;
		/* b ends without verdict: back to FORWARD after "-j a", not into a */
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(res.res, RULES_R_ACCEPT);
		p.dport = 81;
		rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
		assert_int_equal(res.res, RULES_R_DROP);
		unload(&r);
	}
	/* a goto from a built-in chain ends in the policy */
	static const char t2[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
				 ":b - [0:0]\n-A FORWARD -g b\n-A FORWARD -j ACCEPT\nCOMMIT\n";
	struct run r;
	load(&r, t2, NULL, 0);
	struct rules_pkt p = base4();
	struct rules_result res;
	rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_DROP);
	unload(&r);
}

/* Families, hooks and tables; counters folded into the ruleset. */
static void test_families_and_counters(void **state)
{
	(void)state;
	static const char v4[] = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
				 "-A PREROUTING -p udp -j DROP\nCOMMIT\n"
				 "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
				 "-A INPUT -p tcp -j ACCEPT\n-A FORWARD -p tcp\nCOMMIT\n";
	static const char v6[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
				 "COMMIT\n";
	struct run r;
	load(&r, v4, v6, 0);
	struct rules_pkt p = base4();
	struct rules_result res;
	rules_eval_hook(r.p, RULES_H_FORWARD, &p, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_ACCEPT); /* v4 FORWARD policy */
	struct rules_pkt q = base6();
	rules_eval_hook(r.p, RULES_H_FORWARD, &q, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_DROP); /* v6 FORWARD policy */
	struct rules_pkt u = udp(base4(), 1, 2);
	rules_eval_hook(r.p, RULES_H_PREROUTING, &u, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_DROP); /* raw */
	rules_eval_hook(r.p, RULES_H_INPUT, &u, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_DROP); /* INPUT policy */
	rules_eval_hook(r.p, RULES_H_INPUT, &p, r.ctr, &res, NULL);
	assert_int_equal(res.res, RULES_R_ACCEPT);
	/* two workers' arrays folded */
	struct rules_counter *c2 = calloc(r.p->n_slots + 1, sizeof(*c2));
	memcpy(c2, r.ctr, r.p->n_slots * sizeof(*c2));
	struct rules_counter *both[2] = {r.ctr, c2};
	rules_prog_fold(r.p, both, 2, r.rs);
	char *s = rules_ipt_print(r.rs, RULES_F_V4, RULES_PRINT_COUNTERS);
	assert_non_null(s);
	if (!strstr(s, ":FORWARD ACCEPT [2:120]") || !strstr(s, "[2:120] -A FORWARD -p tcp\n") ||
		!strstr(s, ":INPUT DROP [2:120]") || !strstr(s, "[2:120] -A INPUT -p tcp -j ACCEPT") ||
		!strstr(s, "[2:120] -A PREROUTING -p udp -j DROP"))
		fail_msg("counters:\n%s", s);
	free(s);
	s = rules_ipt_print(r.rs, RULES_F_V6, RULES_PRINT_COUNTERS);
	if (!strstr(s, ":FORWARD DROP [2:120]"))
		fail_msg("v6 counters:\n%s", s);
	free(s);
	free(c2);
	unload(&r);
}

static void test_compile_errors(void **state)
{
	(void)state;
	char err[512];
	struct rules_ruleset *rs = rules_new();
	/* 70 chains, each jumping to the next: deeper than the jump stack */
	char *t = malloc(65536);
	size_t n = (size_t)sprintf(t, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
	for (int i = 0; i < 70; i++)
		n += (size_t)sprintf(t + n, ":c%02d - [0:0]\n", i);
	n += (size_t)sprintf(t + n, "-A FORWARD -j c00\n");
	for (int i = 0; i < 69; i++)
		n += (size_t)sprintf(t + n, "-A c%02d -j c%02d\n", i, i + 1);
	n += (size_t)sprintf(t + n, "COMMIT\n");
	if (rules_ipt_load(rs, RULES_F_V4, t, n, "deep", 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct rules_prog *p = rules_prog_compile(rs, ports, 4, 0, err, sizeof(err));
	assert_null(p);
	assert_non_null(strstr(err, "too deep"));
	/* too many ports */
	static const char *many[40];
	for (int i = 0; i < 40; i++)
		many[i] = "x";
	p = rules_prog_compile(rs, many, 40, 0, err, sizeof(err));
	assert_null(p);
	assert_non_null(strstr(err, "too many ports"));
	free(t);
	rules_free(rs);
}

/* -m quota charged by two workers at once (each with its own counters, as
 * the dataplane's): exactly the budget passes, never more, and once a
 * packet did not fit nothing does */
struct qworker {
	const struct rules_prog *p;
	struct rules_counter *ctr;
	unsigned accepted, refused_then_accepted;
};

static void *quota_worker(void *arg)
{
	struct qworker *q = arg;
	struct rules_pkt pk = udp(base4(), 1000, 53);
	pk.len = 100;
	bool refused = false;
	for (unsigned i = 0; i < 20000; i++) {
		struct rules_pkt v = pk;
		struct rules_result res;
		rules_eval_hook(q->p, RULES_H_FORWARD, &v, q->ctr, &res, NULL);
		if (res.res == RULES_R_ACCEPT) {
			q->accepted++;
			q->refused_then_accepted += refused;
		} else {
			refused = true;
		}
	}
	return NULL;
}

static void test_quota_threads(void **state)
{
	(void)state;
	struct run r;
	load(&r, forward_text("-p udp -m quota --quota 1000000", false, RULES_F_V4), NULL, 0);
	struct qworker q[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		q[i] = (struct qworker){ .p = r.p, .ctr = calloc(r.p->n_slots + 1, sizeof(*r.ctr)) };
		assert_non_null(q[i].ctr);
		assert_int_equal(pthread_create(&th[i], NULL, quota_worker, &q[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* 1 000 000 bytes of 100-byte datagrams: 10 000 of the 40 000 */
	assert_int_equal(q[0].accepted + q[1].accepted, 10000);
	assert_int_equal(q[0].refused_then_accepted + q[1].refused_then_accepted, 0);
	for (int i = 0; i < 2; i++)
		free(q[i].ctr);
	unload(&r);
}

int main(void)
{
	rules_clock_set(fake_clock);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_selectors),
		cmocka_unit_test(test_quota_threads),
		cmocka_unit_test(test_tcp_udp),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_other_matches),
		cmocka_unit_test(test_physdev),
		cmocka_unit_test(test_ip6ext),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_sctp),
		cmocka_unit_test(test_connection),
		cmocka_unit_test(test_ct_targets),
		cmocka_unit_test(test_nat_table),
		cmocka_unit_test(test_connlimit),
		cmocka_unit_test(test_est_shortcut),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_set_nomatch),
		cmocka_unit_test(test_set_3d),
		cmocka_unit_test(test_set_timeouts),
		cmocka_unit_test(test_set_target),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_time_calendar),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_traversal),
		cmocka_unit_test(test_npt),
		cmocka_unit_test(test_goto_returns_to_caller),
		cmocka_unit_test(test_families_and_counters),
		cmocka_unit_test(test_compile_errors),
	};
	return cmocka_run_group_tests_name("eval", tests, NULL, NULL);
}
