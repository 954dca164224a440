/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_ext: the table of match and target extensions and the value types
 * of their options.
 *
 * Each extension kind is one descriptor: its -m/-j name, families,
 * required protocol, the tables and hooks where the kernel accepts it, and
 * its options in iptables-save order. An option names a value type; one
 * parser and one printer per value type (not per extension) turn text into
 * the kind's plain data struct and back, byte for byte as iptables-save 1.8
 * (nft backend) prints it. Aliases (--sport/--source-port, --syn,
 * --set-mark and friends of --set-xmark) share an option id with the
 * canonical spelling and are never printed. A few kinds have their own
 * printer where iptables itself does (NAT ranges, CONNMARK).
 *
 * Control thread only; no state besides the const tables.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_priv.h"
#include "rules_hashlimit.h"
#include "rules_recent.h"

#define OFF(f) ((uint16_t)offsetof(union rules_ext_data, f))
#define BIT(i) (1u << (i))
#define T(t) (1u << (t))
#define H(h) (1u << (h))

#define LIMIT_SCALE 10000u

/* ---- option tables, in iptables-save order ---- */

/* option ids: the public ones are RULES_O_* in rules.h */
enum { O_ANY = 0 };
enum { O_LOGPREFIX, O_LOGLEVEL, O_LOGSEQ, O_LOGTCPOPT, O_LOGIPOPT, O_LOGUID, O_LOGMAC };
enum { O_CMSET, O_CMSAVE, O_CMRESTORE, O_CMMASK, O_CMNF, O_CMCT, O_CMSHIFT };
enum { O_NATTO, O_NATRANDOM, O_NATFULLY, O_NATPERSIST };

#define PORTS(n, i, f, fl) {n, i, RV_PORTRANGE, fl, OFF(f), 0, 0, 0, 0}
static const struct rules_opt tcp_opts[] = {
	PORTS("sport", RULES_O_SPORT, tcp.sport, RO_INV),
	PORTS("source-port", RULES_O_SPORT, tcp.sport, RO_INV | RO_ALIAS),
	PORTS("dport", RULES_O_DPORT, tcp.dport, RO_INV),
	PORTS("destination-port", RULES_O_DPORT, tcp.dport, RO_INV | RO_ALIAS),
	{"tcp-option", RULES_O_TCP_OPTION, RV_U8, RO_INV, OFF(tcp.option), 1, 255, 0, 0},
	{"tcp-flags", RULES_O_TCP_FLAGS, RV_TCPFLAGS, RO_INV, OFF(tcp.flg_mask), 0, 0, 0, 0},
	{"syn", RULES_O_TCP_FLAGS, RV_SYN, RO_INV | RO_ALIAS, OFF(tcp.flg_mask), 0, 0, 0, 0},
};
#define UPORTS(n, i, f, fl) {n, i, RV_UDPPORTS, fl, OFF(f), 0, 0, 0, 0}
static const struct rules_opt udp_opts[] = {
	UPORTS("sport", RULES_O_SPORT, udp.sport, RO_INV),
	UPORTS("source-port", RULES_O_SPORT, udp.sport, RO_INV | RO_ALIAS),
	UPORTS("dport", RULES_O_DPORT, udp.dport, RO_INV),
	UPORTS("destination-port", RULES_O_DPORT, udp.dport, RO_INV | RO_ALIAS),
};
static const struct rules_opt icmp_opts[] = {
	{"icmp-type", O_ANY, RV_ICMP4, RO_INV | RO_MAND, OFF(icmp), 0, 0, 0, 0},
};
static const struct rules_opt icmp6_opts[] = {
	{"icmpv6-type", O_ANY, RV_ICMP6, RO_INV | RO_MAND, OFF(icmp), 0, 0, 0, 0},
};
#define MP_EXCL (BIT(0) | BIT(1) | BIT(2))
static const struct rules_opt mport_opts[] = {
	{"sports", RULES_O_SPORTS, RV_MPORTS, RO_INV, OFF(mport), 0, 0, 0, MP_EXCL},
	{"source-ports", RULES_O_SPORTS, RV_MPORTS, RO_INV | RO_ALIAS, OFF(mport), 0, 0, 0, MP_EXCL},
	{"dports", RULES_O_DPORTS, RV_MPORTS, RO_INV, OFF(mport), 0, 0, 0, MP_EXCL},
	{"destination-ports", RULES_O_DPORTS, RV_MPORTS, RO_INV | RO_ALIAS, OFF(mport), 0, 0, 0, MP_EXCL},
	{"ports", RULES_O_PORTS, RV_MPORTS, RO_INV, OFF(mport), 0, 0, 0, MP_EXCL},
};
static const struct rules_opt iprange_opts[] = {
	{"src-range", RULES_O_SRC, RV_IPRANGE_SRC, RO_INV, OFF(iprange.src_lo), 0, 0, 0, 0},
	{"dst-range", RULES_O_DST, RV_IPRANGE_DST, RO_INV, OFF(iprange.dst_lo), 0, 0, 0, 0},
};
static const struct rules_opt mac_opts[] = {
	{"mac-source", O_ANY, RV_MAC, RO_INV | RO_MAND, OFF(mac), 0, 0, 0, 0},
};
static const struct rules_opt length_opts[] = {
	{"length", O_ANY, RV_U16RANGE, RO_INV | RO_MAND, OFF(length), 0, 0, 0, 0},
};
#define TTL_EXCL (BIT(RULES_O_EQ) | BIT(RULES_O_GT) | BIT(RULES_O_LT))
static const struct rules_opt ttl_opts[] = {
	{"ttl-eq", RULES_O_EQ, RV_U8, RO_INV, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
	{"ttl", RULES_O_EQ, RV_U8, RO_ALIAS, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
	{"ttl-gt", RULES_O_GT, RV_U8, 0, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
	{"ttl-lt", RULES_O_LT, RV_U8, 0, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
};
static const struct rules_opt hl_opts[] = {
	{"hl-eq", RULES_O_EQ, RV_U8, RO_INV, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
	{"hl", RULES_O_EQ, RV_U8, RO_ALIAS, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
	{"hl-gt", RULES_O_GT, RV_U8, 0, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
	{"hl-lt", RULES_O_LT, RV_U8, 0, OFF(ttl.value), 0, 255, 0, TTL_EXCL},
};
static const struct rules_opt tos_opts[] = {
	{"tos", O_ANY, RV_TOSMASK, RO_INV | RO_MAND, OFF(tos), 0, 0x3f, 0, 0},
};
static const struct rules_opt dscp_opts[] = {
	{"dscp", O_ANY, RV_U8HEX, RO_INV | RO_MAND, OFF(dscp.value), 0, 63, 0, 0},
	{"dscp-class", O_ANY, RV_DSCPCLASS, RO_INV | RO_ALIAS, OFF(dscp.value), 0, 63, 0, 0},
};
static const struct rules_opt mark_opts[] = {
	{"mark", O_ANY, RV_MARKMASK, RO_INV | RO_MAND, OFF(mark), 0, 0, 0, 0},
};
static const struct rules_opt pkttype_opts[] = {
	{"pkt-type", O_ANY, RV_PKTTYPE, RO_INV | RO_MAND, OFF(pkttype.value), 0, 0, 0, 0},
};
static const struct rules_opt addrtype_opts[] = {
	{"src-type", RULES_O_SRC, RV_ADDRTYPES, RO_INV, OFF(addrtype.src), 0, 0, 0, 0},
	{"dst-type", RULES_O_DST, RV_ADDRTYPES, RO_INV, OFF(addrtype.dst), 0, 0, 0, 0},
	{"limit-iface-in", RULES_O_LIMIT_IFACE_IN, RV_NONE, 0, 0, 0, 0, 0, BIT(RULES_O_LIMIT_IFACE_OUT)},
	{"limit-iface-out", RULES_O_LIMIT_IFACE_OUT, RV_NONE, 0, 0, 0, 0, 0, BIT(RULES_O_LIMIT_IFACE_IN)},
};
static const struct rules_opt comment_opts[] = {
	{"comment", O_ANY, RV_STRING, RO_MAND, OFF(comment.s), 0, RULES_COMMENT_MAX, 0, 0},
};
static void set_print(struct rules_buf *b, const struct rules_ext *x, int fam);
#define MS(i) BIT(RULES_O_MS_##i)
#define MS_PK (MS(PK_EQ) | MS(PK_LT) | MS(PK_GT))
#define MS_BY (MS(BY_EQ) | MS(BY_LT) | MS(BY_GT))
static const struct rules_opt set_opts[] = {
	{"match-set", RULES_O_MS_SET, RV_SET, RO_INV | RO_MAND, OFF(set), 0, 0, 0, 0},
	{"return-nomatch", RULES_O_MS_RETURN_NOMATCH, RV_NONE, 0, 0, 0, 0, 0, 0},
	/* printed by set_print, in libxt_set's order */
	{"update-counters", RULES_O_MS_UPD_COUNTERS, RV_NONE, RO_INV | RO_NOPRINT, 0, 0, 0, 0, 0},
	{"update-subcounters", RULES_O_MS_UPD_SUBCOUNTERS, RV_NONE, RO_INV | RO_NOPRINT, 0, 0, 0, 0, 0},
	{"packets-eq", RULES_O_MS_PK_EQ, RV_U64, RO_INV | RO_NOPRINT, OFF(set.packets), 0, 0, 0,
	 MS_PK & ~MS(PK_EQ)},
	{"packets-lt", RULES_O_MS_PK_LT, RV_U64, RO_NOPRINT, OFF(set.packets), 0, 0, 0, MS_PK & ~MS(PK_LT)},
	{"packets-gt", RULES_O_MS_PK_GT, RV_U64, RO_NOPRINT, OFF(set.packets), 0, 0, 0, MS_PK & ~MS(PK_GT)},
	{"bytes-eq", RULES_O_MS_BY_EQ, RV_U64, RO_INV | RO_NOPRINT, OFF(set.bytes), 0, 0, 0,
	 MS_BY & ~MS(BY_EQ)},
	{"bytes-lt", RULES_O_MS_BY_LT, RV_U64, RO_NOPRINT, OFF(set.bytes), 0, 0, 0, MS_BY & ~MS(BY_LT)},
	{"bytes-gt", RULES_O_MS_BY_GT, RV_U64, RO_NOPRINT, OFF(set.bytes), 0, 0, 0, MS_BY & ~MS(BY_GT)},
};
static const struct rules_opt state_opts[] = {
	{"state", O_ANY, RV_CTSTATES, RO_INV | RO_MAND, OFF(ct.state), 0, 0x1f, 0, 0},
};
#define HOSTM(n, i, f) {n, i, RV_HOSTMASK, RO_INV, OFF(ct.f), 0, 0, 0, 0}
#define CTPORT(n, i, f) {n, i, RV_CTPORTS, RO_INV, OFF(ct.f), 0, 0, 0, 0}
static const struct rules_opt ct_opts[] = {
	{"ctstate", RULES_O_CT_STATE, RV_CTSTATES, RO_INV, OFF(ct.state), 0, 0x7f, 0, 0},
	{"ctproto", RULES_O_CT_PROTO, RV_PROTO, RO_INV, OFF(ct.proto), 0, 0, 0, 0},
	HOSTM("ctorigsrc", RULES_O_CT_ORIGSRC, origsrc), HOSTM("ctorigdst", RULES_O_CT_ORIGDST, origdst),
	HOSTM("ctreplsrc", RULES_O_CT_REPLSRC, replsrc), HOSTM("ctrepldst", RULES_O_CT_REPLDST, repldst),
	CTPORT("ctorigsrcport", RULES_O_CT_ORIGSRCPORT, origsrcport),
	CTPORT("ctorigdstport", RULES_O_CT_ORIGDSTPORT, origdstport),
	CTPORT("ctreplsrcport", RULES_O_CT_REPLSRCPORT, replsrcport),
	CTPORT("ctrepldstport", RULES_O_CT_REPLDSTPORT, repldstport),
	{"ctstatus", RULES_O_CT_STATUS, RV_CTSTATUS, RO_INV, OFF(ct.status), 0, 0, 0, 0},
	{"ctexpire", RULES_O_CT_EXPIRE, RV_U32RANGE, RO_INV, OFF(ct.expire_lo), 0, 0, 0, 0},
	{"ctdir", RULES_O_CT_DIR, RV_CTDIR, 0, OFF(ct.dir_reply), 0, 0, 0, 0},
};
#define CL_EXCL_N (BIT(RULES_O_CL_UPTO) | BIT(RULES_O_CL_ABOVE))
#define CL_EXCL_A (BIT(RULES_O_CL_SADDR) | BIT(RULES_O_CL_DADDR))
static const struct rules_opt connlimit_opts[] = {
	{"connlimit-upto", RULES_O_CL_UPTO, RV_U32, RO_INV | RO_NOPRINT, OFF(connlimit.limit), 0,
		UINT32_MAX, 0, CL_EXCL_N},
	{"connlimit-above", RULES_O_CL_ABOVE, RV_U32, RO_INV | RO_NOPRINT, OFF(connlimit.limit), 0,
		UINT32_MAX, 0, CL_EXCL_N},
	{"connlimit-mask", RULES_O_CL_MASK, RV_U8, RO_NOPRINT, OFF(connlimit.mask), 0, 128, 0, 0},
	{"connlimit-saddr", RULES_O_CL_SADDR, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, CL_EXCL_A},
	{"connlimit-daddr", RULES_O_CL_DADDR, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, CL_EXCL_A},
};
static const struct rules_opt connmark_m_opts[] = {
	{"mark", O_ANY, RV_MARKMASK, RO_INV | RO_MAND, OFF(mark), 0, 0, 0, 0},
};
static const struct rules_opt connbytes_opts[] = {
	{"connbytes", RULES_O_CB_BYTES, RV_U64RANGE, RO_INV | RO_MAND, OFF(connbytes.from), 0, 0, 0, 0},
	{"connbytes-mode", RULES_O_CB_MODE, RV_CBMODE, RO_MAND, OFF(connbytes.mode), 0, 0, 0, 0},
	{"connbytes-dir", RULES_O_CB_DIR, RV_CBDIR, RO_MAND, OFF(connbytes.dir), 0, 0, 0, 0},
};
static const struct rules_opt string_opts[] = {
	{"algo", RULES_O_STR_ALGO, RV_STRING, RO_NOPRINT, OFF(str.algo), 1, 15, 0, 0},
	{"from", RULES_O_STR_FROM, RV_U16, RO_NOPRINT, OFF(str.from), 0, UINT16_MAX, 0, 0},
	{"to", RULES_O_STR_TO, RV_U16, RO_NOPRINT, OFF(str.to), 0, UINT16_MAX, 0, 0},
	{"string", RULES_O_STR_STRING, RV_BYTES, RO_INV | RO_NOPRINT, OFF(str.pat), 1, 128, 0, 0},
	{"hex-string", RULES_O_STR_STRING, RV_HEXBYTES, RO_INV | RO_NOPRINT | RO_ALIAS, OFF(str.pat), 1,
		128, 0, 0},
	{"icase", RULES_O_STR_ICASE, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, 0},
};
#define RC_MODES (BIT(RULES_O_RC_SET) | BIT(RULES_O_RC_CHECK) | BIT(RULES_O_RC_UPDATE) | \
	BIT(RULES_O_RC_REMOVE))
#define RC_SIDES (BIT(RULES_O_RC_RSOURCE) | BIT(RULES_O_RC_RDEST))
static const struct rules_opt recent_opts[] = {
	{"set", RULES_O_RC_SET, RV_NONE, RO_INV | RO_NOPRINT, 0, 0, 0, 0, RC_MODES},
	{"rcheck", RULES_O_RC_CHECK, RV_NONE, RO_INV | RO_NOPRINT, 0, 0, 0, 0, RC_MODES},
	{"update", RULES_O_RC_UPDATE, RV_NONE, RO_INV | RO_NOPRINT, 0, 0, 0, 0, RC_MODES},
	{"remove", RULES_O_RC_REMOVE, RV_NONE, RO_INV | RO_NOPRINT, 0, 0, 0, 0, RC_MODES},
	{"seconds", RULES_O_RC_SECONDS, RV_U32, RO_NOPRINT, OFF(recent.seconds), 1, UINT32_MAX, 0, 0},
	{"reap", RULES_O_RC_REAP, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, 0},
	{"hitcount", RULES_O_RC_HITCOUNT, RV_U32, RO_NOPRINT, OFF(recent.hitcount), 0, 255, 0, 0},
	{"rttl", RULES_O_RC_TTL, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, 0},
	{"name", RULES_O_RC_NAME, RV_STRING, RO_NOPRINT, OFF(recent.name), 1, 199, 0, 0},
	{"mask", RULES_O_RC_MASK, RV_ADDRMASK, RO_NOPRINT, OFF(recent.mask), 0, 0, 0, 0},
	{"rsource", RULES_O_RC_RSOURCE, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, RC_SIDES},
	{"rdest", RULES_O_RC_RDEST, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, RC_SIDES},
};
static const struct rules_opt statistic_opts[] = {
	{"mode", RULES_O_ST_MODE, RV_STATMODE, RO_MAND | RO_NOPRINT, OFF(stat.mode), 0, 0, 0, 0},
	{"probability", RULES_O_ST_PROB, RV_PROB, RO_INV | RO_NOPRINT, OFF(stat.probability), 0, 0, 0,
		BIT(RULES_O_ST_EVERY)},
	{"every", RULES_O_ST_EVERY, RV_EVERY, RO_INV | RO_NOPRINT, OFF(stat.every), 1, UINT32_MAX, 0,
		BIT(RULES_O_ST_PROB)},
	{"packet", RULES_O_ST_PACKET, RV_U32, RO_NOPRINT, OFF(stat.packet), 0, UINT32_MAX, 0, 0},
};
#define HL(n, i, t, f, fl, lo, hi, ex) {n, i, t, RO_NOPRINT | (fl), OFF(hashlimit.f), lo, hi, 0, ex}
static const struct rules_opt hashlimit_opts[] = {
	HL("hashlimit-upto", RULES_O_HL_UPTO, RV_HLRATE, rate, RO_INV, 0, 0, BIT(RULES_O_HL_ABOVE)),
	HL("hashlimit-above", RULES_O_HL_ABOVE, RV_HLRATE, rate, RO_INV, 0, 0, BIT(RULES_O_HL_UPTO)),
	HL("hashlimit", RULES_O_HL_UPTO, RV_HLRATE, rate, RO_INV | RO_ALIAS, 0, 0, BIT(RULES_O_HL_ABOVE)),
	HL("hashlimit-srcmask", RULES_O_HL_SRCMASK, RV_PLEN, srcmask, 0, 0, 128, 0),
	HL("hashlimit-dstmask", RULES_O_HL_DSTMASK, RV_PLEN, dstmask, 0, 0, 128, 0),
	HL("hashlimit-burst", RULES_O_HL_BURST, RV_HLBURST, burst, 0, 0, 0, 0),
	HL("hashlimit-htable-size", RULES_O_HL_SIZE, RV_U32, size, 0, 0, UINT32_MAX, 0),
	HL("hashlimit-htable-max", RULES_O_HL_MAX, RV_U32, max, 0, 0, UINT32_MAX, 0),
	HL("hashlimit-htable-gcinterval", RULES_O_HL_GC, RV_U32, gc_interval, 0, 0, UINT32_MAX, 0),
	HL("hashlimit-htable-expire", RULES_O_HL_EXPIRE, RV_U32, expire, 0, 0, UINT32_MAX, 0),
	HL("hashlimit-mode", RULES_O_HL_MODE, RV_HLMODE, mode, 0, 0, 0, 0),
	HL("hashlimit-name", RULES_O_HL_NAME, RV_STRING, name, RO_MAND, 1, 1024, 0),
	HL("hashlimit-rate-match", RULES_O_HL_RATEMATCH, RV_NONE, mode, 0, 0, 0, 0),
	HL("hashlimit-rate-interval", RULES_O_HL_INTERVAL, RV_U32, interval, 0, 1, INT32_MAX, 0),
};
#define TM(n, i, t, fl, f, ex) {n, i, t, RO_NOPRINT | (fl), OFF(f), 0, 0, 0, ex}
static const struct rules_opt time_opts[] = { /* printed by rules_time_save */
	TM("datestart", RULES_O_TM_DATESTART, RV_DATE, 0, time.date_start, 0),
	TM("datestop", RULES_O_TM_DATESTOP, RV_DATE, 0, time.date_stop, 0),
	TM("timestart", RULES_O_TM_TIMESTART, RV_DAYTIME, 0, time.daytime_start, 0),
	TM("timestop", RULES_O_TM_TIMESTOP, RV_DAYTIME, 0, time.daytime_stop, 0),
	TM("contiguous", RULES_O_TM_CONTIGUOUS, RV_NONE, 0, time.flags, 0),
	TM("weekdays", RULES_O_TM_WEEKDAYS, RV_WEEKDAYS, RO_INV, time.weekdays, 0),
	TM("monthdays", RULES_O_TM_MONTHDAYS, RV_MONTHDAYS, RO_INV, time.monthdays, 0),
	TM("localtz", RULES_O_TM_LOCALTZ, RV_NONE, 0, time.flags, BIT(RULES_O_TM_UTC)),
	TM("utc", RULES_O_TM_UTC, RV_NONE, 0, time.flags,
		BIT(RULES_O_TM_LOCALTZ) | BIT(RULES_O_TM_KERNELTZ)),
	TM("kerneltz", RULES_O_TM_KERNELTZ, RV_NONE, 0, time.flags, BIT(RULES_O_TM_UTC)),
};
/* libxt_ecn saves ECE before CWR whatever the order given */
static const struct rules_opt ecn_opts[] = {
	{"ecn-tcp-ece", RULES_O_ECN_ECE, RV_NONE, RO_INV, 0, 0, 0, 0, 0},
	{"ecn-tcp-cwr", RULES_O_ECN_CWR, RV_NONE, RO_INV, 0, 0, 0, 0, 0},
	{"ecn-ip-ect", RULES_O_ECN_IP, RV_U8, RO_INV, OFF(ecn.ect), 0, 3, 0, 0},
};
static const struct rules_opt tcpmss_m_opts[] = {
	{"mss", O_ANY, RV_U16RANGE, RO_INV | RO_MAND, OFF(mss), 0, 0, 0, 0},
};
static const struct rules_opt esp_opts[] = {
	{"espspi", RULES_O_SPI, RV_U32RANGE, RO_INV | RO_NOPRINT, OFF(spi.lo), 0, 0, 0, 0},
};
/* --ahlen and --ahres: ip6tables only (libip6t_ah; libipt_ah has --ahspi alone) */
static const struct rules_opt ah_opts[] = {
	{"ahspi", RULES_O_SPI, RV_U32RANGE, RO_INV | RO_NOPRINT, OFF(spi.lo), 0, 0, 0, 0},
	{"ahlen", RULES_O_AH_LEN, RV_U32, RO_INV | RO_NOPRINT, OFF(spi.ahlen), 0, UINT32_MAX, 0, 0},
	{"ahres", RULES_O_AH_RES, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, 0},
};
/* libxt_quota: XTTYPE_UINT64 (xtables_strtoul, any base), mandatory */
static const struct rules_opt quota_opts[] = {
	{"quota", RULES_O_QUOTA, RV_U64, RO_INV | RO_MAND, OFF(quota.quota), 0, 0, 0, 0},
};
#define PD_WILD(f) (OFF(physdev.f##_wild) - OFF(physdev.f))
static const struct rules_opt physdev_opts[] = {
	{"physdev-is-in", RULES_O_PD_ISIN, RV_NONE, RO_INV, 0, 0, 0, 0, 0},
	{"physdev-in", RULES_O_PD_IN, RV_IFNAME, RO_INV, OFF(physdev.in), 0, 0, PD_WILD(in), 0},
	{"physdev-is-out", RULES_O_PD_ISOUT, RV_NONE, RO_INV, 0, 0, 0, 0, 0},
	{"physdev-out", RULES_O_PD_OUT, RV_IFNAME, RO_INV, OFF(physdev.out), 0, 0, PD_WILD(out), 0},
	{"physdev-is-bridged", RULES_O_PD_BRIDGED, RV_NONE, RO_INV, 0, 0, 0, 0, 0},
};
#define IP6(f) OFF(ip6.f)
static const struct rules_opt frag_opts[] = {
	{"fragid", RULES_O_FR_IDS, RV_U32RANGE, RO_INV | RO_OMIT_DFLT, IP6(lo), 0, 0, 0, 0},
	{"fraglen", RULES_O_FR_LEN, RV_U32, RO_INV, IP6(len), 0, 0, 0, 0},
	{"fragres", RULES_O_FR_RES, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"fragfirst", RULES_O_FR_FIRST, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"fragmore", RULES_O_FR_MORE, RV_NONE, 0, 0, 0, 0, 0, BIT(RULES_O_FR_LAST)},
	{"fraglast", RULES_O_FR_LAST, RV_NONE, 0, 0, 0, 0, 0, BIT(RULES_O_FR_MORE)},
};
static const struct rules_opt rt_opts[] = {
	{"rt-type", RULES_O_RT_TYPE, RV_U32, RO_INV, IP6(type), 0, 0, 0, 0},
	{"rt-segsleft", RULES_O_RT_SEGS, RV_U32RANGE, RO_INV | RO_OMIT_DFLT, IP6(lo), 0, 0, 0, 0},
	{"rt-len", RULES_O_RT_LEN, RV_U32, RO_INV, IP6(len), 0, 0, 0, 0},
	{"rt-0-res", RULES_O_RT_RES, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"rt-0-addrs", RULES_O_RT_ADDRS, RV_IP6ADDRS, 0, IP6(addrs), 0, 0, 0, 0},
	{"rt-0-not-strict", RULES_O_RT_NSTRICT, RV_NONE, 0, 0, 0, 0, 0, 0},
};
static const struct rules_opt hbh_opts[] = {
	{"hbh-len", RULES_O_OP_LEN, RV_U32, RO_INV, IP6(len), 0, 0, 0, 0},
	{"hbh-opts", RULES_O_OP_OPTS, RV_IP6OPTS, 0, IP6(opts), 0, 0, 0, 0},
};
static const struct rules_opt dst_opts[] = {
	{"dst-len", RULES_O_OP_LEN, RV_U32, RO_INV, IP6(len), 0, 0, 0, 0},
	{"dst-opts", RULES_O_OP_OPTS, RV_IP6OPTS, 0, IP6(opts), 0, 0, 0, 0},
};
static const struct rules_opt ipv6header_opts[] = {
	{"header", RULES_O_IH_HEADER, RV_IP6HDRS, RO_INV | RO_MAND, IP6(hdrs), 0, 0, 0, 0},
	{"soft", RULES_O_IH_SOFT, RV_NONE, 0, 0, 0, 0, 0, 0},
};
static const struct rules_opt u32_opts[] = {
	{"u32", O_ANY, RV_U32SPEC, RO_INV | RO_MAND, OFF(u32.p), 0, 0, 0, 0},
};
#define SCPORTS(n, i, f, fl) {n, i, RV_SCTPPORTS, fl, OFF(sctp.f), 0, 0, 0, 0}
static const struct rules_opt sctp_opts[] = {
	SCPORTS("sport", RULES_O_SC_SPORT, sport, RO_INV),
	SCPORTS("source-port", RULES_O_SC_SPORT, sport, RO_INV | RO_ALIAS),
	SCPORTS("dport", RULES_O_SC_DPORT, dport, RO_INV),
	SCPORTS("destination-port", RULES_O_SC_DPORT, dport, RO_INV | RO_ALIAS),
	{"chunk-types", RULES_O_SC_CHUNKS, RV_SCTPCHUNKS, RO_INV, OFF(sctp.mode), 0, 0, 0, 0},
};
#define ECNT_TCP (BIT(RULES_O_ECNT_CWR) | BIT(RULES_O_ECNT_ECE))
static const struct rules_opt ecnt_opts[] = {
	{"ecn-tcp-remove", RULES_O_ECNT_REMOVE, RV_NONE, RO_NOPRINT, 0, 0, 0, 0, ECNT_TCP},
	{"ecn-tcp-cwr", RULES_O_ECNT_CWR, RV_U8, RO_NOPRINT, OFF(ecnt.cwr), 0, 1, 0,
		BIT(RULES_O_ECNT_REMOVE)},
	{"ecn-tcp-ece", RULES_O_ECNT_ECE, RV_U8, RO_NOPRINT, OFF(ecnt.ece), 0, 1, 0,
		BIT(RULES_O_ECNT_REMOVE)},
	{"ecn-ip-ect", RULES_O_ECNT_ECT, RV_U8, RO_NOPRINT, OFF(ecnt.ect), 0, 3, 0, 0},
};
static const struct rules_opt tee_opts[] = {
	{"gateway", RULES_O_TEE_GW, RV_ADDRMASK, RO_NOPRINT | RO_MAND, OFF(tee.gw), 0, 0, 0, 0},
	{"oif", RULES_O_TEE_OIF, RV_STRING, RO_NOPRINT, OFF(tee.oif), 0, 15, 0, 0},
};
static const struct rules_opt npt_opts[] = {
	{"src-pfx", RULES_O_NPT_SRC, RV_HOSTMASK, RO_NOPRINT, OFF(npt.src), 0, 0, 0, 0},
	{"dst-pfx", RULES_O_NPT_DST, RV_HOSTMASK, RO_NOPRINT, OFF(npt.dst), 0, 0, 0, 0},
};
static const struct rules_opt checksum_opts[] = {
	{"checksum-fill", O_ANY, RV_NONE, RO_MAND, 0, 0, 0, 0, 0},
};
static const struct rules_opt rpfilter_opts[] = {
	{"loose", RULES_O_RPF_LOOSE, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"validmark", RULES_O_RPF_VALIDMARK, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"accept-local", RULES_O_RPF_ACCEPT_LOCAL, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"invert", RULES_O_RPF_INVERT, RV_NONE, 0, 0, 0, 0, 0, 0},
};
static const struct rules_opt helper_opts[] = {
	{"helper", O_ANY, RV_STRING, RO_INV | RO_MAND, OFF(helper.name), 0, 29, 0, 0},
};
static const struct rules_opt limit_opts[] = {
	{"limit", 0, RV_RATE, RO_ALWAYS, OFF(limit.avg), 0, 0, 0, 0},
	{"limit-burst", 1, RV_U32, RO_OMIT_DFLT, OFF(limit.burst), 0, 10000, 5, 0},
};

static const struct rules_opt reject_opts[] = {
	{"reject-with", O_ANY, RV_REJECT, RO_ALWAYS, OFF(reject.with), 0, 0, 0, 0},
};
static const struct rules_opt log_opts[] = {
	{"log-prefix", O_LOGPREFIX, RV_STRING, 0, OFF(log.prefix), 1, RULES_LOG_PREFIX_MAX, 0, 0},
	{"log-level", O_LOGLEVEL, RV_LOGLEVEL, RO_OMIT_DFLT, OFF(log.level), 0, 7, 4, 0},
	{"log-tcp-sequence", O_LOGSEQ, RV_LOGFLAG, 0, OFF(log.flags), 0, 0, RULES_LOG_TCPSEQ, 0},
	{"log-tcp-options", O_LOGTCPOPT, RV_LOGFLAG, 0, OFF(log.flags), 0, 0, RULES_LOG_TCPOPT, 0},
	{"log-ip-options", O_LOGIPOPT, RV_LOGFLAG, 0, OFF(log.flags), 0, 0, RULES_LOG_IPOPT, 0},
	{"log-uid", O_LOGUID, RV_LOGFLAG, 0, OFF(log.flags), 0, 0, RULES_LOG_UID, 0},
	{"log-macdecode", O_LOGMAC, RV_LOGFLAG, 0, OFF(log.flags), 0, 0, RULES_LOG_MACDECODE, 0},
};
static const struct rules_opt markt_opts[] = {
	{"set-xmark", O_ANY, RV_XMARK, RO_MAND, OFF(xmark), 0, 0, 0, 0},
	{"set-mark", O_ANY, RV_SETMARK, RO_ALIAS, OFF(xmark), 0, 0, 0, 0},
	{"and-mark", O_ANY, RV_ANDMARK, RO_ALIAS, OFF(xmark), 0, 0, 0, 0},
	{"or-mark", O_ANY, RV_ORMARK, RO_ALIAS, OFF(xmark), 0, 0, 0, 0},
	{"xor-mark", O_ANY, RV_XORMARK, RO_ALIAS, OFF(xmark), 0, 0, 0, 0},
};
static const struct rules_opt tost_opts[] = {
	{"set-tos", O_ANY, RV_SETTOS, RO_MAND, OFF(settos), 0, 0x3f, 0, 0},
	{"and-tos", O_ANY, RV_ANDTOS, RO_ALIAS, OFF(settos), 0, 0, 0, 0},
	{"or-tos", O_ANY, RV_ORTOS, RO_ALIAS, OFF(settos), 0, 0, 0, 0},
	{"xor-tos", O_ANY, RV_XORTOS, RO_ALIAS, OFF(settos), 0, 0, 0, 0},
};
static const struct rules_opt dscpt_opts[] = {
	{"set-dscp", O_ANY, RV_U8HEX, RO_MAND, OFF(setdscp.value), 0, 63, 0, 0},
	{"set-dscp-class", O_ANY, RV_DSCPCLASS, RO_ALIAS, OFF(setdscp.value), 0, 63, 0, 0},
};
static const struct rules_opt ttlt_opts[] = {
	{"ttl-set", RULES_O_SET, RV_U8, 0, OFF(setttl.value), 0, 255, 0, 7},
	{"ttl-dec", RULES_O_DEC, RV_U8, 0, OFF(setttl.value), 1, 255, 0, 7},
	{"ttl-inc", RULES_O_INC, RV_U8, 0, OFF(setttl.value), 1, 255, 0, 7},
};
static const struct rules_opt hlt_opts[] = {
	{"hl-set", RULES_O_SET, RV_U8, 0, OFF(setttl.value), 0, 255, 0, 7},
	{"hl-dec", RULES_O_DEC, RV_U8, 0, OFF(setttl.value), 1, 255, 0, 7},
	{"hl-inc", RULES_O_INC, RV_U8, 0, OFF(setttl.value), 1, 255, 0, 7},
};
static const struct rules_opt ct_t_opts[] = {
	{"notrack", RULES_O_CT_NOTRACK, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"helper", RULES_O_CT_HELPER, RV_STRING, 0, OFF(ctt.helper), 1, 15, 0, 0},
	{"timeout", RULES_O_CT_TIMEOUT, RV_STRING, 0, OFF(ctt.timeout), 1, 31, 0, 0},
	{"ctevents", RULES_O_CT_CTEVENTS, RV_CTEVENTS, 0, OFF(ctt.ctevents), 0, 0x3ff, 0, 0},
	{"expevents", RULES_O_CT_EXPEVENTS, RV_CTEVENTS, 0, OFF(ctt.expevents), 0, 0x1, 0, 0},
	{"zone", RULES_O_CT_ZONE, RV_CTZONE, RO_NOPRINT, OFF(ctt), 0, 0, 0, 0},
	{"zone-orig", RULES_O_CT_ZONE_ORIG, RV_CTZONE, RO_NOPRINT, OFF(ctt), 0, 0, RULES_CTZ_ORIG, 0},
	{"zone-reply", RULES_O_CT_ZONE_REPLY, RV_CTZONE, RO_NOPRINT, OFF(ctt), 0, 0, RULES_CTZ_REPLY,
		0},
};
#define CM_OPS (BIT(O_CMSET) | BIT(O_CMSAVE) | BIT(O_CMRESTORE))
static const struct rules_opt connmark_opts[] = {
	{"set-xmark", O_CMSET, RV_XMARK, RO_NOPRINT, OFF(connmark.ctmark), 0, 0, 0, CM_OPS},
	{"set-mark", O_CMSET, RV_SETMARK, RO_ALIAS, OFF(connmark.ctmark), 0, 0, 0, CM_OPS},
	{"and-mark", O_CMSET, RV_ANDMARK, RO_ALIAS, OFF(connmark.ctmark), 0, 0, 0, CM_OPS},
	{"or-mark", O_CMSET, RV_ORMARK, RO_ALIAS, OFF(connmark.ctmark), 0, 0, 0, CM_OPS},
	{"xor-mark", O_CMSET, RV_XORMARK, RO_ALIAS, OFF(connmark.ctmark), 0, 0, 0, CM_OPS},
	{"save-mark", O_CMSAVE, RV_CM_MODE, RO_NOPRINT, OFF(connmark), 0, 0, RULES_CM_SAVE, CM_OPS},
	{"restore-mark", O_CMRESTORE, RV_CM_MODE, RO_NOPRINT, OFF(connmark), 0, 0, RULES_CM_RESTORE,
		CM_OPS},
	{"mask", O_CMMASK, RV_CM_MASK, RO_NOPRINT, OFF(connmark), 0, 0, 0, BIT(O_CMNF) | BIT(O_CMCT)},
	{"nfmask", O_CMNF, RV_U32, RO_NOPRINT, OFF(connmark.nfmask), 0, UINT32_MAX, 0, BIT(O_CMMASK)},
	{"ctmask", O_CMCT, RV_U32, RO_NOPRINT, OFF(connmark.ctmask), 0, UINT32_MAX, 0, BIT(O_CMMASK)},
	{"left-shift-mark", O_CMSHIFT, RV_CM_SHIFT, RO_NOPRINT, OFF(connmark), 0, 32, 0, 0},
	{"right-shift-mark", O_CMSHIFT + 1, RV_CM_SHIFT, RO_NOPRINT, OFF(connmark), 0, 32, 1, 0},
};
static const struct rules_opt nflog_opts[] = {
	{"nflog-prefix", RULES_O_NFLOG_PREFIX, RV_STRING, 0, OFF(nflog.prefix), 1, RULES_NFLOG_PREFIX_MAX, 0, 0},
	{"nflog-group", RULES_O_NFLOG_GROUP, RV_U16, RO_OMIT_DFLT, OFF(nflog.group), 0, UINT16_MAX, 0, 0},
	{"nflog-size", RULES_O_NFLOG_SIZE, RV_U32, 0, OFF(nflog.size), 0, UINT32_MAX, 0, 0},
	{"nflog-threshold", RULES_O_NFLOG_THRESHOLD, RV_U16, RO_OMIT_DFLT, OFF(nflog.threshold), 0, UINT16_MAX, 0, 0},
	{"nflog-range", RULES_O_NFLOG_RANGE_, RV_NONE, RO_REFUSE, 0, 0, 0, 0, 0},
};
#define NATFLAG(n, i, f) {n, i, RV_NATFLAG, RO_NOPRINT, OFF(nat), 0, 0, f, 0}
static const struct rules_opt snat_opts[] = {
	{"to-source", O_NATTO, RV_NATRANGE, RO_MAND | RO_NOPRINT, OFF(nat), 0, 0, 0, 0},
	NATFLAG("random", O_NATRANDOM, RULES_NAT_RANDOM),
	NATFLAG("random-fully", O_NATFULLY, RULES_NAT_RANDOM_FULLY),
	NATFLAG("persistent", O_NATPERSIST, RULES_NAT_PERSISTENT),
};
static const struct rules_opt dnat_opts[] = {
	{"to-destination", O_NATTO, RV_NATRANGE, RO_MAND | RO_NOPRINT, OFF(nat), 0, 1, 0, 0},
	NATFLAG("random", O_NATRANDOM, RULES_NAT_RANDOM),
	NATFLAG("persistent", O_NATPERSIST, RULES_NAT_PERSISTENT),
};
static const struct rules_opt masq_opts[] = {
	{"to-ports", O_NATTO, RV_NATPORTS, RO_NOPRINT, OFF(nat), 0, 0, 0, 0},
	NATFLAG("random", O_NATRANDOM, RULES_NAT_RANDOM),
	NATFLAG("random-fully", O_NATFULLY, RULES_NAT_RANDOM_FULLY),
};
static const struct rules_opt redir_opts[] = {
	{"to-ports", O_NATTO, RV_NATPORTS, RO_NOPRINT, OFF(nat), 0, 0, 0, 0},
	NATFLAG("random", O_NATRANDOM, RULES_NAT_RANDOM),
};
/* --set-mss and --clamp-mss-to-pmtu write one field in libxt_TCPMSS:
 * both may be given, the last one wins */
/* -m policy: every option parsed by policy_opt (dflt says which, min how
 * many arguments), printed by print_policy */
enum { PO_DIR, PO_POL, PO_STRICT, PO_REQID, PO_SPI, PO_PROTO, PO_MODE, PO_TSRC, PO_TDST, PO_NEXT };
#define POL(n, t, f, args, which) {n, 0, t, f | RO_NOPRINT, OFF(policy.p), args, 0, which, 0}
static const struct rules_opt policy_opts[] = {
	POL("dir", RV_POLICY, 0, 1, PO_DIR),
	POL("pol", RV_POLICY_OPT, 0, 1, PO_POL),
	POL("strict", RV_POLICY_OPT, 0, 0, PO_STRICT),
	POL("reqid", RV_POLICY_OPT, RO_INV, 1, PO_REQID),
	POL("spi", RV_POLICY_OPT, RO_INV, 1, PO_SPI),
	POL("proto", RV_POLICY_OPT, RO_INV, 1, PO_PROTO),
	POL("mode", RV_POLICY_OPT, RO_INV, 1, PO_MODE),
	POL("tunnel-src", RV_POLICY_OPT, RO_INV, 1, PO_TSRC),
	POL("tunnel-dst", RV_POLICY_OPT, RO_INV, 1, PO_TDST),
	POL("next", RV_POLICY_OPT, 0, 0, PO_NEXT),
};
static const struct rules_opt set_t_opts[] = {
	{"add-set", RULES_O_TS_ADD, RV_SET, 0, OFF(tset.add), 0, 0, 1, 0},
	{"del-set", RULES_O_TS_DEL, RV_SET, 0, OFF(tset.del), 0, 0, 1, 0},
	{"exist", RULES_O_TS_EXIST, RV_NONE, 0, 0, 0, 0, 0, 0},
	{"timeout", RULES_O_TS_TIMEOUT, RV_U32, 0, OFF(tset.timeout), 0, UINT32_MAX - 1, 0, 0},
};
static const struct rules_opt tcpmss_opts[] = {
	{"set-mss", RULES_O_MSS_SET, RV_U16, RO_LAST, OFF(setmss), 0, UINT16_MAX - 20, 0,
		BIT(RULES_O_MSS_CLAMP)},
	{"clamp-mss-to-pmtu", RULES_O_MSS_CLAMP, RV_NONE, RO_LAST, 0, 0, 0, 0, BIT(RULES_O_MSS_SET)},
};
static const struct rules_opt netmap_opts[] = {
	{"to", O_NATTO, RV_NETMAP, RO_MAND | RO_NOPRINT, OFF(nat), 0, 0, 0, 0},
};

/* ---- kind hooks ---- */

static void init_ports(union rules_ext_data *d)
{
	d->tcp.sport.hi = d->tcp.dport.hi = 0xFFFF; /* tcp and udp share the layout */
}

static void init_limit(union rules_ext_data *d)
{
	d->limit.avg = LIMIT_SCALE * 3600 / 3; /* 3/hour */
	d->limit.burst = 5;
}

static void init_log(union rules_ext_data *d)
{
	d->log.level = 4;
}

static void init_connlimit(union rules_ext_data *d)
{
	d->connlimit.mask = 0xff;
}

static void init_connmark(union rules_ext_data *d)
{
	d->connmark.ctmask = d->connmark.nfmask = 0xFFFFFFFF;
}

static bool proto_is(const struct rules_rule *r, uint8_t p)
{
	return r->proto == p && !(r->inv & RULES_INV_PROTO);
}

static int check_mport(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!(x->present & MP_EXCL))
		return rules_errf(pe, col, "multiport: one of --sports, --dports or --ports is required");
	if (r->inv & RULES_INV_PROTO || !(r->proto == 6 || r->proto == 17 || r->proto == 136 ||
						 r->proto == 132 || r->proto == 33))
		return rules_errf(pe, col,
			"multiport needs \"-p tcp\", \"-p udp\", \"-p udplite\", \"-p sctp\" or \"-p dccp\"");
	return 0;
}

static int check_one(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!x->present)
		return rules_errf(pe, col, "%s: at least one option is required",
			rules_ext_descs[x->kind].name);
	return 0;
}

static void init_sctp(union rules_ext_data *d)
{
	d->sctp.sport.hi = d->sctp.dport.hi = 0xFFFF;
}

static void init_ip6ext(union rules_ext_data *d)
{
	d->ip6.hi = UINT32_MAX; /* --fragid / --rt-segsleft: every value */
}

static int check_physdev(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	if (!x->present)
		return rules_errf(pe, col, "physdev: no physdev option specified");
	return 0;
}

static int check_addrtype(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!(x->present & (BIT(RULES_O_SRC) | BIT(RULES_O_DST))))
		return rules_errf(pe, col, "addrtype: you must specify --src-type or --dst-type");
	if (r->fam & RULES_F_V6) {
		uint16_t m = x->u.addrtype.src | x->u.addrtype.dst;
		const char *why = NULL;
		if (m & RULES_AT_BLACKHOLE)
			why = "BLACKHOLE";
		else if (m >= RULES_AT_PROHIBIT)
			why = "PROHIBIT, THROW, NAT and XRESOLVE";
		else if (m & RULES_AT_BROADCAST)
			why = "BROADCAST";
		if (why)
			return rules_errf(pe, col, "addrtype: IPv6 does not support %s matching", why);
	}
	return 0;
}

static int check_ct(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!x->present)
		return rules_errf(pe, col, "conntrack: at least one option is required");
	if ((x->present & BIT(RULES_O_CT_PROTO)) && x->u.ct.proto == 0 && (x->invert & BIT(RULES_O_CT_PROTO)))
		return rules_errf(pe, col, "conntrack: rule would never match protocol");
	return 0;
}

static int check_limit(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	/* iptables-nft makes this an nft limit; the kernel turns burst 0 into
	 * its default, and has no xt_limit overflow check */
	if (x->u.limit.burst == 0)
		x->u.limit.burst = 5;
	return 0;
}

static int check_reject(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (x->u.reject.with == RULES_RJ_TCP_RESET && !proto_is(r, 6))
		return rules_errf(pe, col, "REJECT --reject-with tcp-reset needs \"-p tcp\"");
	return 0;
}

/* the registry of CT --timeout policies (rules_timeout_policies) */
static struct rules_tpol *tpol_reg;
static unsigned tpol_n;
static bool tpol_set;

int rules_timeout_policies(const struct rules_tpol *p, unsigned n)
{
	struct rules_tpol *c = NULL;
	if (n > 0) {
		c = malloc(n * sizeof(*c));
		if (c == NULL)
			return -1;
		memcpy(c, p, n * sizeof(*c));
	}
	free(tpol_reg);
	tpol_reg = c;
	tpol_n = n;
	tpol_set = p != NULL;
	return 0;
}

/* CT --timeout: a policy the registry has, for the rule's protocol (not
 * inverted) and family, as xt_CT's nf_ct_set_timeout refuses the rule
 * otherwise */
static int check_ct_timeout(struct rules_perr *pe, int col, struct rules_t_ct *c,
	const struct rules_rule *r)
{
	c->tpol = 0;
	if (!tpol_set)
		return 0; /* an offline tool: the name is kept as it is */
	for (unsigned i = 0; i < tpol_n; i++) {
		const struct rules_tpol *t = &tpol_reg[i];
		if (strcmp(t->name, c->timeout) != 0)
			continue;
		if (t->proto == RULES_TPOL_GENERIC) {
			/* xt_CT: the rule's protocol must fall to the generic
			 * tracker (nf_ct_l4proto_find), in either family */
			static const uint8_t tracked[] = { 1, 6, 17, 47, 58, 132, 136 };
			bool ok = r->proto != 0 && !(r->inv & RULES_INV_PROTO);
			for (size_t k = 0; ok && k < sizeof(tracked); k++)
				ok = r->proto != tracked[k];
			if (!ok)
				return rules_errf(pe, col, "CT --timeout %s: the policy is generic: the rule "
					"needs \"-p\" (not inverted) of a protocol without a tracker of its own "
					"(not tcp, udp, udplite, icmp, icmpv6, sctp or gre)", c->timeout);
		} else if (!proto_is(r, t->proto))
			return rules_errf(pe, col, "CT --timeout %s: the policy is for %s: the rule "
				"needs \"-p %s\" (not inverted)", c->timeout, rules_proto_name(t->proto),
				rules_proto_name(t->proto));
		if ((r->fam & t->fams) != r->fam)
			return rules_errf(pe, col, "CT --timeout %s: the policy is for %s only",
				c->timeout, t->fams == RULES_F_V4 ? "IPv4" : "IPv6");
		c->tpol = t->id != 0 ? t->id : (uint8_t)(i + 1);
		return 0;
	}
	return rules_errf(pe, col, "CT --timeout: no timeout policy \"%s\" "
		"(conntrack.timeout-policies in rampart.yaml)", c->timeout);
}

/* CT --helper: a helper the kernel has, for the rule's protocol and
 * family (xt_CT refuses the rule otherwise: "-p tcp" for ftp and irc,
 * "-p udp" for tftp, not inverted; irc for IPv4 only); --timeout:
 * check_ct_timeout */
static int check_ct_t(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	struct rules_t_ct *c = &x->u.ctt;
	c->helper_id = RULES_HELPER_NONE;
	c->tpol = 0;
	if (x->present & BIT(RULES_O_CT_NOTRACK))
		return 0; /* xt_ct_tg_check looks at nothing else then */
	if ((x->present & BIT(RULES_O_CT_TIMEOUT)) && c->timeout != NULL) {
		int rc = check_ct_timeout(pe, col, c, r);
		if (rc < 0)
			return rc;
	}
	if (!(x->present & BIT(RULES_O_CT_HELPER)) || c->helper == NULL)
		return 0;
	static const struct {
		const char *name;
		uint8_t id, proto, fams;
	} helpers[] = { { "ftp", RULES_HELPER_FTP, 6, RULES_F_V4 | RULES_F_V6 },
			{ "tftp", RULES_HELPER_TFTP, 17, RULES_F_V4 | RULES_F_V6 },
			{ "irc", RULES_HELPER_IRC, 6, RULES_F_V4 } };
	for (unsigned i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		if (strcmp(c->helper, helpers[i].name) != 0)
			continue;
		if (!proto_is(r, helpers[i].proto))
			return rules_errf(pe, col, "CT --helper %s needs \"-p %s\"", helpers[i].name,
				helpers[i].proto == 6 ? "tcp" : "udp");
		if ((r->fam & helpers[i].fams) != r->fam)
			return rules_errf(pe, col, "CT --helper %s: the kernel has it for IPv4 only",
				helpers[i].name);
		c->helper_id = helpers[i].id;
		return 0;
	}
	return rules_errf(pe, col, "CT: unknown helper \"%s\" (ftp, tftp, irc)", c->helper);
}

/* libxt_connlimit: one of --connlimit-upto/above; "! --connlimit-upto N"
 * is "--connlimit-above N" and the other way round */
static int check_connlimit(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	struct rules_m_connlimit *c = &x->u.connlimit;
	if (!(x->present & CL_EXCL_N))
		return rules_errf(pe, col, "connlimit: give --connlimit-above or --connlimit-upto");
	bool upto = (x->present & BIT(RULES_O_CL_UPTO)) != 0;
	if (x->invert & CL_EXCL_N)
		upto = !upto;
	c->upto = upto;
	x->present = (x->present & ~CL_EXCL_N) | (upto ? BIT(RULES_O_CL_UPTO) : BIT(RULES_O_CL_ABOVE));
	x->invert &= ~CL_EXCL_N;
	c->daddr = (x->present & BIT(RULES_O_CL_DADDR)) != 0;
	unsigned full = (r->fam & RULES_F_V4) ? 32 : 128;
	if (c->mask != 0xff && c->mask > full)
		return rules_errf(pe, col, "connlimit: --connlimit-mask %u is longer than an address (%u)",
			c->mask, full);
	return 0;
}

/* ECN (ipt_ECN): an operation; --ecn-tcp-remove is ECE and CWR both 0;
 * the TCP bits only in a "-p tcp" rule, as the kernel's checkentry */
static int check_ecn_t(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!x->present)
		return rules_errf(pe, col, "ECN target: An operation is required");
	if (x->present & BIT(RULES_O_ECNT_REMOVE)) {
		x->present = (x->present & ~BIT(RULES_O_ECNT_REMOVE)) | ECNT_TCP;
		x->u.ecnt.ece = x->u.ecnt.cwr = 0;
	}
	if ((x->present & ECNT_TCP) && !proto_is(r, 6))
		return rules_errf(pe, col, "ECN target: cannot use operation on non-tcp rule");
	return 0;
}

/* TEE (tee_tg_check): the gateway is an address, not the unspecified one */
static int check_tee(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	static const struct rules_addr zero;
	if (memcmp(&x->u.tee.gw, &zero, sizeof(zero)) == 0)
		return rules_errf(pe, col, "TEE: --gateway must not be the unspecified address");
	return 0;
}

/* SNPT/DNPT (ip6t_npt_checkentry): prefixes of at most 64 bits with
 * nothing set past their length; the adjustment, the one's complement
 * difference of their sums (RFC 6296 3.2) */
static int check_npt(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	struct rules_t_npt *n = &x->u.npt;
	const struct rules_hostmask *p[2] = { &n->src, &n->dst };
	uint32_t s[2] = { 0, 0 };
	for (int k = 0; k < 2; k++) {
		if (p[k]->plen > 64)
			return rules_errf(pe, col, "%s: --%s longer than /64", rules_ext_descs[x->kind].name,
				k ? "dst-pfx" : "src-pfx");
		struct rules_addr m = p[k]->addr;
		rules_addr_mask(RULES_F_V6, &m, p[k]->plen);
		if (memcmp(&m, &p[k]->addr, sizeof(m)) != 0)
			return rules_errf(pe, col, "%s: --%s has bits set past its /%u",
				rules_ext_descs[x->kind].name, k ? "dst-pfx" : "src-pfx", p[k]->plen);
		for (unsigned i = 0; i < 16; i += 2)
			s[k] += (uint32_t)(p[k]->addr.b[i] << 8 | p[k]->addr.b[i + 1]);
	}
	/* src - dst in one's complement: src + ~dst, folded */
	uint32_t sum = s[0];
	uint32_t t = s[1];
	while (t >> 16)
		t = (t & 0xffff) + (t >> 16);
	sum += (uint16_t)~t;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	n->adj = (uint16_t)sum; /* src - dst: added to a word of an inside address */
	return 0;
}

static int check_connmark(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!(x->present & CM_OPS))
		return rules_errf(pe, col, "CONNMARK target: no operation specified");
	if (x->present & BIT(O_CMSET))
		x->u.connmark.mode = RULES_CM_SET;
	return 0;
}

static int check_required(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!x->present)
		return rules_errf(pe, col, "%s: an action option is required",
			rules_ext_descs[x->kind].name);
	return 0;
}

/* TCPMSS: an option. xt_TCPMSS also wants a tcp match that selects SYN
 * segments, but not through nf_tables (iptables-nft, nft_compat), which
 * is what these rulesets come from: a rule without one is taken, and
 * rewrites whatever TCP segment it hits, as the kernel's. Where
 * --clamp-mss-to-pmtu may go is checked with the hooks
 * (rules_validate.c). */
/* libxt_policy's parse: options of the current element until --next */
static int policy_opt(struct rules_pctx *pc, struct rules_ext *x, const struct rules_opt *o,
	bool inv, const char *arg, int col)
{
	struct rules_ipsec_pol **pp = &x->u.policy.p;
	if (*pp == NULL && (*pp = calloc(1, sizeof(**pp))) == NULL)
		return -ENOMEM;
	struct rules_ipsec_pol *p = *pp;
	struct rules_policy_elem *e = &p->e[p->cur];
	static const uint8_t bit[] = {
		[PO_REQID] = RULES_PE_REQID, [PO_SPI] = RULES_PE_SPI, [PO_PROTO] = RULES_PE_PROTO,
		[PO_MODE] = RULES_PE_MODE, [PO_TSRC] = RULES_PE_TSRC, [PO_TDST] = RULES_PE_TDST,
	};
	uint64_t v;
	x->present |= 1u; /* the match is there */
	switch (o->dflt) {
	case PO_DIR:
		if (p->dir)
			return rules_errf(pc->pe, col, "policy: option \"--dir\" can only be used once.");
		if (!strcmp(arg, "in"))
			p->dir = 1;
		else if (!strcmp(arg, "out"))
			p->dir = 2;
		else
			return rules_errf(pc->pe, col, "policy_match: invalid dir \"%s\"", arg);
		return 0;
	case PO_POL:
		if (p->pol_given)
			return rules_errf(pc->pe, col, "policy: option \"--pol\" can only be used once.");
		if (!strcmp(arg, "none"))
			p->none = 1;
		else if (strcmp(arg, "ipsec") != 0)
			return rules_errf(pc->pe, col, "policy match: invalid policy \"%s\"", arg);
		p->pol_given = 1;
		return 0;
	case PO_STRICT:
		if (p->strict)
			return rules_errf(pc->pe, col, "policy: option \"--strict\" can only be used once.");
		p->strict = 1;
		return 0;
	case PO_NEXT:
		if (p->cur + 1 >= RULES_POLICY_ELEMS)
			return rules_errf(pc->pe, col, "policy match: maximum policy depth reached");
		p->cur++;
		return 0;
	default:
		break;
	}
	uint8_t b = bit[o->dflt];
	if (e->match & b)
		return rules_errf(pc->pe, col, "policy match: double --%s option", o->name);
	switch (o->dflt) {
	case PO_REQID:
	case PO_SPI:
		if (!rules_parse_uint(arg, UINT32_MAX, &v))
			return rules_errf(pc->pe, col, "policy match: invalid value \"%s\" for --%s", arg,
				o->name);
		*(o->dflt == PO_REQID ? &e->reqid : &e->spi) = (uint32_t)v;
		break;
	case PO_PROTO: {
		uint8_t pr;
		if (!rules_parse_proto(arg, &pr) || (pr != 50 && pr != 51 && pr != 108))
			return rules_errf(pc->pe, col, "policy match: protocol must be ah/esp/ipcomp");
		e->proto = pr;
		break;
	}
	case PO_MODE:
		if (!strcmp(arg, "transport"))
			e->mode = 0;
		else if (!strcmp(arg, "tunnel"))
			e->mode = 1;
		else
			return rules_errf(pc->pe, col, "policy match: invalid mode \"%s\"", arg);
		break;
	default: { /* tunnel-src, tunnel-dst */
		int fam = pc->r->fam == RULES_F_V6 ? RULES_F_V6 : RULES_F_V4;
		if (pc->r->fam == RULES_F_ALL)
			fam = rules_addr_fam(arg);
		pc->col = col;
		int rc = rules_parse_prefix(pc, fam, arg, o->dflt == PO_TSRC ? &e->tsrc : &e->tdst,
			o->dflt == PO_TSRC ? &e->tsrc_plen : &e->tdst_plen);
		if (rc < 0)
			return rc;
		pc->r->fam &= (uint8_t)fam;
		break;
	}
	}
	e->match |= b;
	if (inv)
		e->invert |= b;
	return 0;
}

/* libxt_policy's final check */
static int check_policy(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	struct rules_ipsec_pol *p = x->u.policy.p;
	if (p == NULL || p->dir == 0)
		return rules_errf(pe, col, "policy match: neither --dir in nor --dir out specified");
	if (p->cur > 0 && !p->strict)
		return rules_errf(pe, col, "policy: option \"--next\" also requires \"--strict\"");
	if (p->none) {
		if (p->strict)
			return rules_errf(pe, col, "policy match: policy none but --strict given");
		p->len = 0; /* the kernel's: element options of a none policy are left out */
		memset(p->e, 0, sizeof(p->e));
	} else {
		p->len = (uint8_t)(p->cur + 1);
	}
	for (unsigned i = 0; i < p->len; i++) {
		const struct rules_policy_elem *e = &p->e[i];
		if (p->strict && e->match == 0)
			return rules_errf(pe, col, "policy match: empty policy element %u. --strict is in "
						   "effect, but at least one of reqid, spi, tunnel-src, "
						   "tunnel-dst, proto or mode is required.", i);
		/* libxt_policy: transport (the default) not inverted, or tunnel inverted */
		bool inv = (e->invert & RULES_PE_MODE) != 0;
		if ((e->match & (RULES_PE_TSRC | RULES_PE_TDST)) &&
		    ((e->mode == 1 && inv) || (e->mode == 0 && !inv)))
			return rules_errf(pe, col, "policy match: --tunnel-src/--tunnel-dst is only valid "
						   "in tunnel mode");
	}
	return 0;
}

static void policy_elem_print(struct rules_buf *b, const struct rules_policy_elem *e, int fam,
	const char *prefix, bool numeric)
{
	static const char *const pname[] = {[50] = "esp", [51] = "ah", [108] = "ipcomp"};
#define PE_INV(bit) ((e->invert & (bit)) ? "! " : "")
	if (e->match & RULES_PE_REQID)
		rbuf_printf(b, " %s%sreqid %u", PE_INV(RULES_PE_REQID), prefix, e->reqid);
	if (e->match & RULES_PE_SPI)
		rbuf_printf(b, " %s%sspi 0x%x", PE_INV(RULES_PE_SPI), prefix, e->spi);
	if (e->match & RULES_PE_PROTO) {
		if (numeric)
			rbuf_printf(b, " %s%sproto %u", PE_INV(RULES_PE_PROTO), prefix, e->proto);
		else
			rbuf_printf(b, " %s%sproto %s", PE_INV(RULES_PE_PROTO), prefix, pname[e->proto]);
	}
	if (e->match & RULES_PE_MODE)
		rbuf_printf(b, " %s%smode %s", PE_INV(RULES_PE_MODE), prefix,
			e->mode ? "tunnel" : "transport");
	const struct rules_addr *a[2] = { &e->tdst, &e->tsrc };
	const uint8_t pl[2] = { e->tdst_plen, e->tsrc_plen };
	const uint8_t bits[2] = { RULES_PE_TDST, RULES_PE_TSRC };
	for (int k = 0; k < 2; k++) {
		if (!(e->match & bits[k]))
			continue;
		rbuf_printf(b, " %s%stunnel-%s ", PE_INV(bits[k]), prefix, k ? "src" : "dst");
		rbuf_addr(b, fam, a[k]);
		if (pl[k] != (fam == RULES_F_V6 ? 128 : 32))
			rbuf_printf(b, "/%u", pl[k]);
	}
#undef PE_INV
}

void rules_policy_print(struct rules_buf *b, const struct rules_ext *x, int fam, bool list,
	bool numeric)
{
	const struct rules_ipsec_pol *p = x->u.policy.p;
	if (p == NULL)
		return;
	const char *pre = list ? "" : "--";
	rbuf_printf(b, " %sdir %s %spol %s", pre, p->dir == 1 ? "in" : "out", pre,
		p->none ? "none" : "ipsec");
	if (p->strict)
		rbuf_printf(b, " %sstrict", pre);
	for (unsigned i = 0; i < p->len; i++) {
		if (list && p->len > 1)
			rbuf_printf(b, " [%u]", i);
		policy_elem_print(b, &p->e[i], fam, pre, list && numeric);
		if (!list && i + 1 < p->len)
			rbuf_puts(b, " --next");
	}
}

static void print_policy(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	rules_policy_print(b, x, fam, false, false);
}

static void init_set_t(union rules_ext_data *d)
{
	d->tset.timeout = RULES_SET_NO_TIMEOUT;
}

/* libxt_SET's final checks (revision 3) */
static int check_set_t(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	if (!(x->present & (BIT(RULES_O_TS_ADD) | BIT(RULES_O_TS_DEL))))
		return rules_errf(pe, col, "SET: you must specify either --add-set or --del-set "
					   "(--map-set is not supported)");
	if ((x->present & BIT(RULES_O_TS_TIMEOUT)) && !(x->present & BIT(RULES_O_TS_ADD)))
		return rules_errf(pe, col, "SET: option --timeout can be used with --add-set only");
	if ((x->present & BIT(RULES_O_TS_EXIST)) && !(x->present & BIT(RULES_O_TS_ADD)))
		return rules_errf(pe, col, "SET: flag --exist can be used with --add-set only");
	return 0;
}

static int check_tcpmss(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!x->present)
		return rules_errf(pe, col, "TCPMSS target: At least one parameter is required");
	/* the largest MSS less the smallest header: 20 bytes of IPv4, 40 of IPv6 */
	if ((x->present & BIT(RULES_O_MSS_SET)) && (r->fam & RULES_F_V6) && x->u.setmss > 65495)
		return rules_errf(pe, col, "TCPMSS: bad value for option \"--set-mss\", or out of "
					   "range (0-65495)");
	return 0;
}

/* -m ecn: libxt_ecn wants an option; xt_ecn's checkentry refuses the TCP
 * bits unless the rule says -p tcp (not inverted) */
static int check_ecn(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!x->present)
		return rules_errf(pe, col, "ECN match: some option required");
	if ((x->present & (BIT(RULES_O_ECN_ECE) | BIT(RULES_O_ECN_CWR))) && !proto_is(r, 6))
		return rules_errf(pe, col, "ecn: --ecn-tcp-ece and --ecn-tcp-cwr need \"-p tcp\" "
					   "(the kernel refuses TCP bits in a rule for non-TCP packets)");
	return 0;
}

/* -m tcpmss: libxt_tcpmss refuses a range that ends below its start */
static int check_tcpmss_m(struct rules_perr *pe, int col, struct rules_ext *x,
	const struct rules_rule *r)
{
	(void)r;
	if (x->u.mss.hi < x->u.mss.lo)
		return rules_errf(pe, col, "tcpmss: invalid range given");
	return 0;
}

static void init_spi(union rules_ext_data *d)
{
	d->spi.hi = UINT32_MAX;
}

/* -m ah: ipt_ah is registered for protocol 51 (the kernel refuses the rule
 * without -p ah); ip6t_ah finds the header among the extension headers,
 * whatever -p says */
static int check_ah(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if (!(r->fam & RULES_F_V4))
		return 0;
	if (x->present & (BIT(RULES_O_AH_LEN) | BIT(RULES_O_AH_RES)))
		return rules_errf(pe, col, "ah: --ahlen and --ahres are ip6tables options (iptables' ah "
					   "has --ahspi only)");
	if (!proto_is(r, 51))
		return rules_errf(pe, col, "ah match requires \"-p ah\" in IPv4 rules");
	return 0;
}

/* -m esp, -m ah as libxt_esp / libip6t_ah save them: the full range is
 * left out even when inverted */
static void print_spi(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	(void)fam;
	const struct rules_m_spi *s = &x->u.spi;
	if (s->lo != 0 || s->hi != UINT32_MAX) {
		rbuf_printf(b, "%s --%s ", (x->invert & BIT(RULES_O_SPI)) ? " !" : "",
			x->kind == RULES_X_ESP ? "espspi" : "ahspi");
		if (s->lo != s->hi)
			rbuf_printf(b, "%u:%u", s->lo, s->hi);
		else
			rbuf_printf(b, "%u", s->lo);
	}
	if (x->kind != RULES_X_AH)
		return;
	if (s->ahlen != 0 || (x->invert & BIT(RULES_O_AH_LEN)))
		rbuf_printf(b, "%s --ahlen %u", (x->invert & BIT(RULES_O_AH_LEN)) ? " !" : "", s->ahlen);
	if (x->present & BIT(RULES_O_AH_RES))
		rbuf_puts(b, " --ahres");
}

/* -m helper: the helpers the name selects, as xt_helper compares them (a
 * helper whose name begins the given one: "ftp" for "ftp-21"; "" for
 * any). A name no helper has matches nothing, as in the kernel. */
static int check_helper(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)pe, (void)col, (void)r;
	static const struct {
		const char *name;
		uint8_t id;
	} helpers[] = { { "ftp", RULES_HELPER_FTP }, { "tftp", RULES_HELPER_TFTP },
			{ "irc", RULES_HELPER_IRC } };
	const char *n = x->u.helper.name ? x->u.helper.name : "";
	x->u.helper.ids = 0;
	for (unsigned i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (strncmp(helpers[i].name, n, strlen(helpers[i].name)) == 0 || n[0] == '\0')
			x->u.helper.ids |= (uint8_t)(1u << helpers[i].id);
	return 0;
}

static void init_string(union rules_ext_data *d)
{
	d->str.to = UINT16_MAX;
}

/* -m string: libxt_string's and xt_string's checks */
static int check_string(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	struct rules_m_string *s = &x->u.str;
	if (!(x->present & BIT(RULES_O_STR_STRING)))
		return rules_errf(pe, col, "STRING match: You must specify `--string' or `--hex-string'");
	if (!(x->present & BIT(RULES_O_STR_ALGO)))
		return rules_errf(pe, col, "STRING match: You must specify `--algo'");
	if (strcmp(s->algo, "bm") && strcmp(s->algo, "kmp"))
		return rules_errf(pe, col, "STRING match: algorithm \"%s\" is not supported (bm or kmp; "
					   "the kernel's fsm takes token patterns)", s->algo);
	if (s->from > s->to)
		return rules_errf(pe, col, "STRING match: --from %u is after --to %u", s->from, s->to);
	s->icase = (x->present & BIT(RULES_O_STR_ICASE)) != 0;
	return 0;
}

/* libxt_string's is_hex_string: a byte that is not printable, or a
 * backslash at the end (it could not be written back as a string) */
bool rules_string_is_hex(const uint8_t *p, unsigned n)
{
	if (n > 0 && p[n - 1] == '\\')
		return true;
	for (unsigned i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return true;
	return false;
}

void rules_string_pattern(struct rules_buf *b, const struct rules_m_string *s)
{
	const uint8_t *p = s->pat + 1;
	unsigned n = s->pat[0];
	if (rules_string_is_hex(p, n)) {
		rbuf_puts(b, " \"|");
		for (unsigned i = 0; i < n; i++)
			rbuf_printf(b, "%02x", p[i]);
		rbuf_puts(b, "|\"");
		return;
	}
	rbuf_puts(b, " \"");
	for (unsigned i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			rbuf_putc(b, '\\');
		rbuf_putc(b, (char)p[i]);
	}
	rbuf_putc(b, '"');
}

static void print_string_m(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	(void)fam;
	const struct rules_m_string *s = &x->u.str;
	bool inv = (x->invert & BIT(RULES_O_STR_STRING)) != 0;
	rbuf_printf(b, "%s --%s", inv ? " !" : "",
		rules_string_is_hex(s->pat + 1, s->pat[0]) ? "hex-string" : "string");
	rules_string_pattern(b, s);
	rbuf_printf(b, " --algo %s", s->algo);
	if (s->from)
		rbuf_printf(b, " --from %u", s->from);
	if (s->to != UINT16_MAX) /* the default (libxt_string's init) */
		rbuf_printf(b, " --to %u", s->to);
	if (s->icase)
		rbuf_puts(b, " --icase");
}

/* libxt_time's time_init: every day, all day, no date bounds (INT_MAX) */
static void init_time(union rules_ext_data *d)
{
	d->time.monthdays = RULES_TIME_ALL_MONTHDAYS;
	d->time.weekdays = RULES_TIME_ALL_WEEKDAYS;
	d->time.daytime_stop = RULES_TIME_MAX_DAYTIME;
	d->time.date_stop = RULES_TIME_DATE_MAX;
}

static void init_recent(union rules_ext_data *d)
{
	memset(&d->recent.mask, 0xff, sizeof(d->recent.mask));
}

/* -m recent: libxt_recent's and xt_recent's checks; the mode and its
 * modifiers into flags */
static int check_recent(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	struct rules_m_recent *c = &x->u.recent;
	uint32_t has = x->present;
	if (!(has & RC_MODES))
		return rules_errf(pe, col, "recent: you must specify one of `--set', `--rcheck' "
					   "`--update' or `--remove'");
	if ((has & (BIT(RULES_O_RC_SET) | BIT(RULES_O_RC_REMOVE))) &&
	    (has & (BIT(RULES_O_RC_SECONDS) | BIT(RULES_O_RC_HITCOUNT) | BIT(RULES_O_RC_TTL) |
		    BIT(RULES_O_RC_REAP))))
		return rules_errf(pe, col, "recent: --seconds, --hitcount, --rttl and --reap go with "
					   "--rcheck or --update only");
	if ((has & BIT(RULES_O_RC_REAP)) && !(has & BIT(RULES_O_RC_SECONDS)))
		return rules_errf(pe, col, "recent: --reap needs --seconds");
	if (c->hitcount > RULES_RECENT_STAMPS)
		return rules_errf(pe, col, "recent: --hitcount %u: at most %u hits per address are kept "
					   "(the kernel keeps up to 255)", c->hitcount, RULES_RECENT_STAMPS);
	if (c->name && (strchr(c->name, '/') || !strcmp(c->name, ".") || !strcmp(c->name, "..")))
		return rules_errf(pe, col, "recent: bad list name \"%s\"", c->name);
	c->flags = (uint8_t)(((has & BIT(RULES_O_RC_SET)) ? RULES_RECENT_SET : 0) |
		((has & BIT(RULES_O_RC_CHECK)) ? RULES_RECENT_CHECK : 0) |
		((has & BIT(RULES_O_RC_UPDATE)) ? RULES_RECENT_UPDATE : 0) |
		((has & BIT(RULES_O_RC_REMOVE)) ? RULES_RECENT_REMOVE : 0) |
		((has & BIT(RULES_O_RC_TTL)) ? RULES_RECENT_TTL : 0) |
		((has & BIT(RULES_O_RC_REAP)) ? RULES_RECENT_REAP : 0));
	return 0;
}

static void print_recent(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	const struct rules_m_recent *c = &x->u.recent;
	if (x->invert & RC_MODES)
		rbuf_puts(b, " !");
	if (x->present & BIT(RULES_O_RC_SET))
		rbuf_puts(b, " --set");
	if (x->present & BIT(RULES_O_RC_CHECK))
		rbuf_puts(b, " --rcheck");
	if (x->present & BIT(RULES_O_RC_UPDATE))
		rbuf_puts(b, " --update");
	if (x->present & BIT(RULES_O_RC_REMOVE))
		rbuf_puts(b, " --remove");
	if (c->seconds)
		rbuf_printf(b, " --seconds %u", c->seconds);
	if (x->present & BIT(RULES_O_RC_REAP))
		rbuf_puts(b, " --reap");
	if (c->hitcount)
		rbuf_printf(b, " --hitcount %u", c->hitcount);
	if (x->present & BIT(RULES_O_RC_TTL))
		rbuf_puts(b, " --rttl");
	rbuf_printf(b, " --name %s --mask ", c->name ? c->name : "DEFAULT");
	rbuf_addr(b, fam, &c->mask);
	rbuf_puts(b, (x->present & BIT(RULES_O_RC_RDEST)) ? " --rdest" : " --rsource");
}

static void init_hashlimit(union rules_ext_data *d)
{
	d->hashlimit.burst = 5;
	d->hashlimit.gc_interval = 1000;
	d->hashlimit.srcmask = d->hashlimit.dstmask = 0xff;
}

/* libxt_hashlimit's byte cost and back (16-byte chunks) */
static uint64_t hl_cost_to_bytes(uint64_t cost)
{
	uint64_t r = cost ? UINT32_MAX / cost : UINT32_MAX;
	return (r - 1) << 4;
}
static uint64_t hl_bytes_to_cost(uint64_t bytes)
{
	uint32_t r = (uint32_t)(bytes >> 4);
	return UINT32_MAX / ((uint64_t)r + 1);
}

/* The kernel's user2credits() of revision 3 on a 250 Hz kernel: the
 * credits of a packet interval, wrapping as its u64 does */
static uint64_t hl_user2credits(uint64_t user)
{
	/* HZ * CREDITS_PER_JIFFY / XT_HASHLIMIT_SCALE_v2 = 250 * 2^39 / 10^6 */
	return user * 137438953u;
}

/* -m hashlimit: libxt_hashlimit's checks (burst in bytes turned into
 * refills, the default expiry from the rate's unit) and then
 * xt_hashlimit's (hashlimit_mt_check_common); the effective direction */
static int check_hashlimit(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	struct rules_m_hashlimit *h = &x->u.hashlimit;
	uint32_t has = x->present;
	if (!(has & (BIT(RULES_O_HL_UPTO) | BIT(RULES_O_HL_ABOVE))))
		return rules_errf(pe, col, "hashlimit: you have to specify --hashlimit-upto or "
					   "--hashlimit-above");
	bool rm = (has & BIT(RULES_O_HL_RATEMATCH)) != 0;
	bool inv = (x->invert & (BIT(RULES_O_HL_UPTO) | BIT(RULES_O_HL_ABOVE))) != 0;
	h->above = ((has & BIT(RULES_O_HL_ABOVE)) != 0) != inv;
	if (!(has & BIT(RULES_O_HL_EXPIRE)))
		h->expire = h->rate.mult * 1000u;
	if (h->rate.bytes) {
		uint32_t refills = 0; /* libxt_hashlimit's uint32_t */
		if (has & BIT(RULES_O_HL_BURST)) {
			uint64_t unit = hl_cost_to_bytes(h->rate.avg);
			if (h->burst < unit)
				return rules_errf(pe, col, "hashlimit: burst cannot be smaller than %lub",
					(unsigned long)unit);
			refills = (uint32_t)h->burst;
			refills = (uint32_t)(refills / unit);
			if (h->burst % unit)
				refills++;
			if (!(has & BIT(RULES_O_HL_EXPIRE)))
				h->expire = 60000; /* XT_HASHLIMIT_BYTE_EXPIRE_BURST */
		}
		h->burst = refills;
	} else if (h->burst > 1000000u) {
		return rules_errf(pe, col, "bad value for option \"--hashlimit-burst\", or out "
					   "of range (1-1000000)");
	}
	if (rm) {
		/* libxt_hashlimit: a packet rate per second, the interval in
		 * seconds (the rate's unit by default; 1 for bytes) */
		if (!h->rate.bytes)
			h->rate.avg /= h->rate.mult;
		if (h->interval == 0)
			h->interval = h->rate.bytes ? 1 : h->rate.mult;
		if (h->rate.avg == 0 || h->rate.avg > UINT32_MAX)
			return rules_errf(pe, col, "hashlimit: invalid rate for --hashlimit-rate-match "
						   "(the kernel refuses it)");
	} else if (h->rate.bytes) {
		if (((h->rate.avg * RULES_HL_BYTE_FULL) >> 32) == 0)
			return rules_errf(pe, col, "hashlimit: rate too high for the kernel "
						   "(overflow)");
	} else if (hl_user2credits(h->rate.avg * h->burst) < hl_user2credits(h->rate.avg)) {
		return rules_errf(pe, col, "hashlimit: overflow, try a lower rate or burst "
					   "(the kernel refuses it)");
	}
	if (h->gc_interval == 0 || h->expire == 0)
		return rules_errf(pe, col, "hashlimit: --hashlimit-htable-gcinterval and "
					   "--hashlimit-htable-expire must be more than 0");
	unsigned full = (r->fam & RULES_F_V4) ? 32 : 128;
	if (h->srcmask != 0xff && h->srcmask > full)
		return rules_errf(pe, col, "hashlimit: --hashlimit-srcmask %u is longer than an address (%u)",
			h->srcmask, full);
	if (h->dstmask != 0xff && h->dstmask > full)
		return rules_errf(pe, col, "hashlimit: --hashlimit-dstmask %u is longer than an address (%u)",
			h->dstmask, full);
	if (strlen(h->name) > RULES_HL_NAME_MAX)
		return rules_errf(pe, col, "hashlimit: name longer than %u characters", RULES_HL_NAME_MAX);
	if (strchr(h->name, '/') || !strcmp(h->name, ".") || !strcmp(h->name, ".."))
		return rules_errf(pe, col, "hashlimit: bad table name \"%s\"", h->name);
	/* the kernel truncates both (HASHLIMIT_MAX_SIZE); iptables-save shows it */
	if (h->size > 1048576u)
		h->size = 1048576u;
	if (h->max > 1048576u)
		h->max = 1048576u;
	uint32_t size = h->size ? h->size : 8192u;
	uint64_t max = h->max ? (h->max < size ? size : h->max) : 8ull * size;
	if (max > RULES_HL_MAX_ENTRIES)
		return rules_errf(pe, col, "hashlimit: a table of %llu entries: at most %u",
			(unsigned long long)max, RULES_HL_MAX_ENTRIES);
	return 0;
}

static const struct {
	const char *name;
	uint64_t mult;
} hl_rates[] = {{"day", 86400000000ull}, {"hour", 3600000000ull}, {"min", 60000000ull},
		{"sec", 1000000ull}};

uint32_t rules_hl_print_rate(struct rules_buf *b, uint64_t period)
{
	unsigned i;
	for (i = 1; i < RULES_ARRAY_SIZE(hl_rates); i++)
		if (period > hl_rates[i].mult || hl_rates[i].mult / period < hl_rates[i].mult % period)
			break;
	rbuf_printf(b, " %llu/%s", (unsigned long long)(hl_rates[i - 1].mult / period),
		hl_rates[i - 1].name);
	return (uint32_t)(hl_rates[i - 1].mult / 1000u); /* the unit in ms: the default expiry */
}

uint32_t rules_hl_print_bytes(struct rules_buf *b, uint64_t avg, uint64_t burst, const char *prefix)
{
	static const struct {
		const char *n;
		uint64_t thresh;
	} units[] = {{"m", 1048576}, {"k", 1024}, {"", 1}};
	uint64_t r = hl_cost_to_bytes(avg);
	unsigned i;
	for (i = 0; i < 2; i++)
		/* libxt's mask is a uint32_t: the bits above 32 go too */
		if (r >= units[i].thresh &&
		    hl_bytes_to_cost(r & (uint32_t)~(uint32_t)(units[i].thresh - 1)) == avg)
			break;
	rbuf_printf(b, " %llu%sb/s", (unsigned long long)(r / units[i].thresh), units[i].n);
	if (burst == 0)
		return 15000;
	r *= burst;
	rbuf_printf(b, " %sburst", prefix);
	for (i = 0; i < 2; i++)
		if (r >= units[i].thresh)
			break;
	rbuf_printf(b, " %llu%sb", (unsigned long long)(r / units[i].thresh), units[i].n);
	return 60000;
}

void rules_hl_print_mode(struct rules_buf *b, uint8_t mode, char sep)
{
	static const struct {
		uint8_t bit;
		const char *n;
	} order[] = {{RULES_HL_SIP, "srcip"}, {RULES_HL_SPT, "srcport"}, {RULES_HL_DIP, "dstip"},
		     {RULES_HL_DPT, "dstport"}};
	bool first = true;
	rbuf_puts(b, " ");
	for (unsigned i = 0; i < RULES_ARRAY_SIZE(order); i++)
		if (mode & order[i].bit) {
			if (!first)
				rbuf_printf(b, "%c", sep);
			rbuf_puts(b, order[i].n);
			first = false;
		}
}

static void print_hashlimit(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	const struct rules_m_hashlimit *h = &x->u.hashlimit;
	unsigned dmask = fam == RULES_F_V6 ? 128 : 32;
	rbuf_puts(b, h->above ? " --hashlimit-above" : " --hashlimit-upto");
	uint32_t quantum;
	if (h->rate.bytes) {
		quantum = rules_hl_print_bytes(b, h->rate.avg, h->burst, "--hashlimit-");
	} else {
		quantum = rules_hl_print_rate(b, h->rate.avg);
		rbuf_printf(b, " --hashlimit-burst %llu", (unsigned long long)h->burst);
	}
	if (h->mode) {
		rbuf_puts(b, " --hashlimit-mode");
		rules_hl_print_mode(b, h->mode, ',');
	}
	rbuf_printf(b, " --hashlimit-name %s", h->name);
	if (h->size)
		rbuf_printf(b, " --hashlimit-htable-size %u", h->size);
	if (h->max)
		rbuf_printf(b, " --hashlimit-htable-max %u", h->max);
	if (h->gc_interval != 1000)
		rbuf_printf(b, " --hashlimit-htable-gcinterval %u", h->gc_interval);
	if (h->expire != quantum)
		rbuf_printf(b, " --hashlimit-htable-expire %u", h->expire);
	if (h->srcmask != 0xff && h->srcmask != dmask)
		rbuf_printf(b, " --hashlimit-srcmask %u", h->srcmask);
	if (h->dstmask != 0xff && h->dstmask != dmask)
		rbuf_printf(b, " --hashlimit-dstmask %u", h->dstmask);
	if (x->present & BIT(RULES_O_HL_RATEMATCH)) {
		rbuf_puts(b, " --hashlimit-rate-match");
		if (h->interval != 1)
			rbuf_printf(b, " --hashlimit-rate-interval %u", h->interval);
	}
}

/* -m statistic: libxt_statistic's checks (iptables 1.8.9's order and words) */
static int check_statistic(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	const struct rules_m_statistic *s = &x->u.stat;
	uint32_t has = x->present;
	if ((has & BIT(RULES_O_ST_EVERY)) && !(has & BIT(RULES_O_ST_PACKET)))
		return rules_errf(pe, col, "statistic: option \"--every\" also requires \"--packet\"");
	if (s->mode == RULES_STAT_RANDOM && !(has & BIT(RULES_O_ST_PROB)))
		return rules_errf(pe, col, "statistic: --probability must be specified when using random mode");
	if (s->mode == RULES_STAT_NTH && !(has & (BIT(RULES_O_ST_EVERY) | BIT(RULES_O_ST_PACKET))))
		return rules_errf(pe, col,
			"statistic: --every and --packet must be specified when using nth mode");
	if ((has & BIT(RULES_O_ST_PROB)) && s->mode != RULES_STAT_RANDOM)
		return rules_errf(pe, col, "statistic: --probability can only be used in random mode");
	if ((has & BIT(RULES_O_ST_EVERY)) && s->mode != RULES_STAT_NTH)
		return rules_errf(pe, col, "statistic: --every can only be used in nth mode");
	if ((has & BIT(RULES_O_ST_PACKET)) && s->mode != RULES_STAT_NTH)
		return rules_errf(pe, col, "statistic: --packet can only be used in nth mode");
	if (s->packet > s->every) /* also --packet without --every, as libxt_statistic */
		return rules_errf(pe, col, "statistic: the --packet p must be 0 <= p <= n-1");
	return 0;
}

static bool nat_portok(const struct rules_rule *r)
{
	return r->proto == 6 || r->proto == 17 || r->proto == 132 || r->proto == 33 || r->proto == 1;
}

static int check_nat(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	if ((x->u.nat.flags & RULES_NAT_PROTO) && !nat_portok(r))
		return rules_errf(pe, col, "%s: need TCP, UDP, SCTP or DCCP with port specification",
			rules_ext_descs[x->kind].name);
	return 0;
}

/* sprint_range() of libxt_NAT: "a[-b][:p[-q][/base]]", IPv6 addresses in
 * brackets when ports follow; saved (--to-source) and listed (to:) alike */
void rules_nat_range_text(struct rules_buf *t, const struct rules_t_nat *n, int fam)
{
	bool br = fam == RULES_F_V6 && (n->flags & RULES_NAT_PROTO);
	if (n->flags & RULES_NAT_MAP_IPS) {
		if (br)
			rbuf_putc(t, '[');
		rbuf_addr(t, fam, &n->min);
		if (memcmp(&n->min, &n->max, sizeof(n->min))) {
			rbuf_putc(t, '-');
			rbuf_addr(t, fam, &n->max);
		}
		if (br)
			rbuf_putc(t, ']');
	}
	if (n->flags & RULES_NAT_PROTO) {
		rbuf_printf(t, ":%u", n->port_lo);
		if (n->port_hi != n->port_lo)
			rbuf_printf(t, "-%u", n->port_hi);
		if (n->flags & RULES_NAT_OFFSET)
			rbuf_printf(t, "/%u", n->port_base);
	}
}

static void print_nat_range(struct rules_buf *b, const struct rules_t_nat *n, int fam,
	const char *opt, bool skip_colon)
{
	struct rules_buf t = {0};
	rules_nat_range_text(&t, n, fam);
	if (t.s && t.len) {
		const char *s = t.s;
		if (skip_colon && s[0] == ':')
			s++;
		rbuf_printf(b, " --%s %s", opt, s);
	}
	if (t.oom)
		b->oom = true;
	free(t.s);
}

static void print_nat_flags(struct rules_buf *b, const struct rules_t_nat *n)
{
	if (n->flags & RULES_NAT_RANDOM)
		rbuf_puts(b, " --random");
	if (n->flags & RULES_NAT_RANDOM_FULLY)
		rbuf_puts(b, " --random-fully");
	if (n->flags & RULES_NAT_PERSISTENT)
		rbuf_puts(b, " --persistent");
}

static void print_snat(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	print_nat_range(b, &x->u.nat, fam, "to-source", false);
	print_nat_flags(b, &x->u.nat);
}

static void print_dnat(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	print_nat_range(b, &x->u.nat, fam, "to-destination", false);
	print_nat_flags(b, &x->u.nat);
}

static void print_ports_nat(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	print_nat_range(b, &x->u.nat, fam, "to-ports", true);
	print_nat_flags(b, &x->u.nat);
}

static void print_netmap(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	const struct rules_t_nat *n = &x->u.nat;
	unsigned plen = 0, bytes = fam == RULES_F_V6 ? 16 : 4;
	for (unsigned i = 0; i < bytes; i++) {
		uint8_t diff = (uint8_t)~(n->min.b[i] ^ n->max.b[i]);
		while (diff & 0x80) {
			plen++;
			diff = (uint8_t)(diff << 1);
		}
		if (plen < (i + 1) * 8)
			break;
	}
	rbuf_puts(b, " --to ");
	rbuf_addr(b, fam, &n->min);
	rbuf_printf(b, "/%u", plen);
}

static void print_connlimit(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	const struct rules_m_connlimit *c = &x->u.connlimit;
	unsigned mask = c->mask != 0xff ? c->mask : fam == RULES_F_V6 ? 128 : 32;
	rbuf_printf(b, " --connlimit-%s %u --connlimit-mask %u --connlimit-%s", c->upto ? "upto" : "above",
		c->limit, mask, c->daddr ? "daddr" : "saddr");
}

static void print_statistic(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	(void)fam;
	const struct rules_m_statistic *s = &x->u.stat;
	bool inv = (x->invert & (BIT(RULES_O_ST_PROB) | BIT(RULES_O_ST_EVERY))) != 0;
	if (s->mode == RULES_STAT_RANDOM)
		rbuf_printf(b, " --mode random%s --probability %.11f", inv ? " !" : "",
			s->probability / 2147483648.0);
	else
		rbuf_printf(b, " --mode nth%s --every %u --packet %u", inv ? " !" : "", s->every + 1u,
			s->packet);
}

/* as libipt_ECN's save: --ecn-tcp-remove when that is all it does */
static void print_ecn_t(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	const struct rules_t_ecn *e = &x->u.ecnt;
	if (rules_ecn_t_is_remove(x)) {
		rbuf_puts(b, " --ecn-tcp-remove");
		return;
	}
	if (x->present & BIT(RULES_O_ECNT_ECE))
		rbuf_printf(b, " --ecn-tcp-ece %u", e->ece);
	if (x->present & BIT(RULES_O_ECNT_CWR))
		rbuf_printf(b, " --ecn-tcp-cwr %u", e->cwr);
	if (x->present & BIT(RULES_O_ECNT_ECT))
		rbuf_printf(b, " --ecn-ip-ect %u", e->ect);
}

/* as libxt_TEE's save */
static void print_tee(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	rbuf_puts(b, " --gateway ");
	rbuf_addr(b, fam, &x->u.tee.gw);
	if ((x->present & BIT(RULES_O_TEE_OIF)) && x->u.tee.oif != NULL && x->u.tee.oif[0])
		rbuf_printf(b, " --oif %s", x->u.tee.oif);
}

/* as libip6t_NPT's save: a prefix of ::/0 is left out (and read back as
 * ::/0 when missing, which ip6tables' own parser refuses: a saved ruleset
 * with one loads here) */
static void print_npt(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	static const struct rules_addr zero;
	const struct rules_hostmask *p[2] = { &x->u.npt.src, &x->u.npt.dst };
	for (int k = 0; k < 2; k++) {
		if (p[k]->plen == 0 && memcmp(&p[k]->addr, &zero, sizeof(zero)) == 0)
			continue;
		rbuf_printf(b, " --%s ", k ? "dst-pfx" : "src-pfx");
		rbuf_addr(b, fam, &p[k]->addr);
		rbuf_printf(b, "/%u", p[k]->plen);
	}
}

/* CT's zone as libxt_CT saves it (prefix "--zone") and lists it ("zone"):
 * one option, "-orig" or "-reply" when that direction's alone, the id or
 * "mark"; nothing for the default zone */
void rules_ct_zone_print(struct rules_buf *b, const struct rules_t_ct *c, const char *pfx)
{
	if (c->zone == 0 && !(c->zone_flags & RULES_CTZ_MARK))
		return;
	unsigned dirs = c->zone_flags & (RULES_CTZ_ORIG | RULES_CTZ_REPLY);
	rbuf_printf(b, " %s%s", pfx,
		    dirs == RULES_CTZ_ORIG ? "-orig" : dirs == RULES_CTZ_REPLY ? "-reply" : "");
	if (c->zone_flags & RULES_CTZ_MARK)
		rbuf_puts(b, " mark");
	else
		rbuf_printf(b, " %u", c->zone);
}

static void print_ct_t(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	(void)fam;
	rules_ct_zone_print(b, &x->u.ctt, "--zone");
}

static void print_connmark(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	const struct rules_t_connmark *c = &x->u.connmark;
	switch (c->mode) {
	case RULES_CM_SET:
		rbuf_printf(b, " --set-xmark 0x%x/0x%x", c->ctmark, c->ctmask);
		break;
	case RULES_CM_SAVE:
		rbuf_printf(b, " --save-mark --nfmask 0x%x --ctmask 0x%x", c->nfmask, c->ctmask);
		break;
	default:
		rbuf_printf(b, " --restore-mark --nfmask 0x%x --ctmask 0x%x", c->nfmask, c->ctmask);
		break;
	}
	if (c->shift_bits)
		rbuf_printf(b, " --%s %u", c->shift_dir ? "right-shift-mark" : "left-shift-mark",
			c->shift_bits);
}

#define OPTS(a) a, (uint8_t)RULES_ARRAY_SIZE(a)
#define HOOKS_IN (H(RULES_H_PREROUTING) | H(RULES_H_INPUT) | H(RULES_H_FORWARD))
#define FILTER_HOOKS (H(RULES_H_INPUT) | H(RULES_H_FORWARD) | H(RULES_H_OUTPUT))

const struct rules_ext_desc rules_ext_descs[RULES_X_COUNT] = {
	[RULES_X_TCP] = {"tcp", RULES_F_ALL, 6, 0, 0, false, OPTS(tcp_opts), init_ports, NULL, NULL},
	[RULES_X_UDP] = {"udp", RULES_F_ALL, 17, 0, 0, false, OPTS(udp_opts), init_ports, NULL, NULL},
	[RULES_X_ICMP] = {"icmp", RULES_F_V4, 1, 0, 0, false, OPTS(icmp_opts), NULL, NULL, NULL},
	[RULES_X_ICMP6] = {"icmp6", RULES_F_V6, 58, 0, 0, false, OPTS(icmp6_opts), NULL, NULL, NULL},
	[RULES_X_MULTIPORT] = {"multiport", RULES_F_ALL, 0, 0, 0, false, OPTS(mport_opts), NULL,
		check_mport, NULL},
	[RULES_X_IPRANGE] = {"iprange", RULES_F_ALL, 0, 0, 0, false, OPTS(iprange_opts), NULL, NULL, NULL},
	[RULES_X_MAC] = {"mac", RULES_F_ALL, 0, 0, HOOKS_IN, false, OPTS(mac_opts), NULL, NULL, NULL},
	[RULES_X_LENGTH] = {"length", RULES_F_ALL, 0, 0, 0, false, OPTS(length_opts), NULL, NULL, NULL},
	[RULES_X_TTL] = {"ttl", RULES_F_V4, 0, 0, 0, false, OPTS(ttl_opts), NULL, check_one, NULL},
	[RULES_X_HL] = {"hl", RULES_F_V6, 0, 0, 0, false, OPTS(hl_opts), NULL, check_one, NULL},
	[RULES_X_TOS] = {"tos", RULES_F_ALL, 0, 0, 0, false, OPTS(tos_opts), NULL, NULL, NULL},
	[RULES_X_DSCP] = {"dscp", RULES_F_ALL, 0, 0, 0, false, OPTS(dscp_opts), NULL, NULL, NULL},
	[RULES_X_MARK] = {"mark", RULES_F_ALL, 0, 0, 0, false, OPTS(mark_opts), NULL, NULL, NULL},
	[RULES_X_PKTTYPE] = {"pkttype", RULES_F_ALL, 0, 0, 0, false, OPTS(pkttype_opts), NULL, NULL, NULL},
	[RULES_X_ADDRTYPE] = {"addrtype", RULES_F_ALL, 0, 0, 0, false, OPTS(addrtype_opts), NULL,
		check_addrtype, NULL},
	[RULES_X_COMMENT] = {"comment", RULES_F_ALL, 0, 0, 0, false, OPTS(comment_opts), NULL, NULL, NULL},
	[RULES_X_SET] = {"set", RULES_F_ALL, 0, 0, 0, false, OPTS(set_opts), NULL, NULL, set_print},
	[RULES_X_STATE] = {"state", RULES_F_ALL, 0, 0, 0, false, OPTS(state_opts), NULL, NULL, NULL},
	[RULES_X_CONNTRACK] = {"conntrack", RULES_F_ALL, 0, 0, 0, false, OPTS(ct_opts), NULL, check_ct,
		NULL},
	[RULES_X_LIMIT] = {"limit", RULES_F_ALL, 0, 0, 0, false, OPTS(limit_opts), init_limit,
		check_limit, NULL},
	[RULES_X_CONNMARK_M] = {"connmark", RULES_F_ALL, 0, 0, 0, false, OPTS(connmark_m_opts), NULL,
		NULL, NULL},
	[RULES_X_CONNBYTES] = {"connbytes", RULES_F_ALL, 0, 0, 0, false, OPTS(connbytes_opts), NULL,
		NULL, NULL},
	[RULES_X_CONNLIMIT] = {"connlimit", RULES_F_ALL, 0, 0, 0, false, OPTS(connlimit_opts),
		init_connlimit, check_connlimit, print_connlimit},
	[RULES_X_HELPER] = {"helper", RULES_F_ALL, 0, 0, 0, false, OPTS(helper_opts), NULL,
		check_helper, NULL},
	[RULES_X_STRING] = {"string", RULES_F_ALL, 0, 0, 0, false, OPTS(string_opts), init_string,
		check_string, print_string_m},
	[RULES_X_TIME] = {"time", RULES_F_ALL, 0, 0, 0, false, OPTS(time_opts), init_time,
		rules_time_check, rules_time_save},
	[RULES_X_RECENT] = {"recent", RULES_F_ALL, 0, 0, 0, false, OPTS(recent_opts), init_recent,
		check_recent, print_recent},
	[RULES_X_STATISTIC] = {"statistic", RULES_F_ALL, 0, 0, 0, false, OPTS(statistic_opts), NULL,
		check_statistic, print_statistic},
	[RULES_X_HASHLIMIT] = {"hashlimit", RULES_F_ALL, 0, 0, 0, false, OPTS(hashlimit_opts),
		init_hashlimit, check_hashlimit, print_hashlimit},
	[RULES_X_ECN] = {"ecn", RULES_F_ALL, 0, 0, 0, false, OPTS(ecn_opts), NULL, check_ecn, NULL},
	[RULES_X_TCPMSS_M] = {"tcpmss", RULES_F_ALL, 6, 0, 0, false, OPTS(tcpmss_m_opts), NULL,
		check_tcpmss_m, NULL},
	[RULES_X_ESP] = {"esp", RULES_F_ALL, 50, 0, 0, false, OPTS(esp_opts), init_spi, NULL, print_spi},
	[RULES_X_AH] = {"ah", RULES_F_ALL, 0, 0, 0, false, OPTS(ah_opts), init_spi, check_ah, print_spi},
	[RULES_X_QUOTA] = {"quota", RULES_F_ALL, 0, 0, 0, false, OPTS(quota_opts), NULL, NULL,
		NULL},
	[RULES_X_FRAG] = {"frag", RULES_F_V6, 0, 0, 0, false, OPTS(frag_opts), init_ip6ext, NULL, NULL},
	[RULES_X_RT] = {"rt", RULES_F_V6, 0, 0, 0, false, OPTS(rt_opts), init_ip6ext, NULL, NULL},
	[RULES_X_HBH] = {"hbh", RULES_F_V6, 0, 0, 0, false, OPTS(hbh_opts), NULL, NULL, NULL},
	[RULES_X_DST] = {"dst", RULES_F_V6, 0, 0, 0, false, OPTS(dst_opts), NULL, NULL, NULL},
	[RULES_X_IPV6HEADER] = {"ipv6header", RULES_F_V6, 0, 0, 0, false, OPTS(ipv6header_opts), NULL,
		NULL, NULL},
	[RULES_X_U32] = {"u32", RULES_F_ALL, 0, 0, 0, false, OPTS(u32_opts), NULL, NULL, NULL},
	[RULES_X_SCTP] = {"sctp", RULES_F_ALL, 132, 0, 0, false, OPTS(sctp_opts), init_sctp, NULL, NULL},
	[RULES_X_EUI64] = {"eui64", RULES_F_V6, 0, 0, HOOKS_IN, false, NULL, 0, NULL, NULL, NULL},
	[RULES_X_PHYSDEV] = {"physdev", RULES_F_ALL, 0, 0, 0, false, OPTS(physdev_opts), NULL,
		check_physdev, NULL},
	[RULES_X_RPFILTER] = {"rpfilter", RULES_F_ALL, 0, T(RULES_T_RAW) | T(RULES_T_MANGLE),
		H(RULES_H_PREROUTING), false, OPTS(rpfilter_opts), NULL, NULL, NULL},
	[RULES_X_REJECT] = {"REJECT", RULES_F_ALL, 0, T(RULES_T_FILTER), FILTER_HOOKS, true,
		OPTS(reject_opts), NULL, check_reject, NULL},
	[RULES_X_LOG] = {"LOG", RULES_F_ALL, 0, 0, 0, true, OPTS(log_opts), init_log, NULL, NULL},
	[RULES_X_MARK_T] = {"MARK", RULES_F_ALL, 0, 0, 0, true, OPTS(markt_opts), NULL, NULL, NULL},
	[RULES_X_TOS_T] = {"TOS", RULES_F_ALL, 0, T(RULES_T_MANGLE), 0, true, OPTS(tost_opts), NULL, NULL,
		NULL},
	[RULES_X_DSCP_T] = {"DSCP", RULES_F_ALL, 0, T(RULES_T_MANGLE), 0, true, OPTS(dscpt_opts), NULL,
		NULL, NULL},
	[RULES_X_TTL_T] = {"TTL", RULES_F_V4, 0, T(RULES_T_MANGLE), 0, true, OPTS(ttlt_opts), NULL,
		check_required, NULL},
	[RULES_X_HL_T] = {"HL", RULES_F_V6, 0, T(RULES_T_MANGLE), 0, true, OPTS(hlt_opts), NULL,
		check_required, NULL},
	[RULES_X_NOTRACK] = {"NOTRACK", RULES_F_ALL, 0, T(RULES_T_RAW), 0, true, NULL, 0, NULL, NULL, NULL},
	[RULES_X_CT] = {"CT", RULES_F_ALL, 0, T(RULES_T_RAW), 0, true, OPTS(ct_t_opts), NULL, check_ct_t,
		print_ct_t},
	[RULES_X_CONNMARK] = {"CONNMARK", RULES_F_ALL, 0, 0, 0, true, OPTS(connmark_opts), init_connmark,
		check_connmark, print_connmark},
	[RULES_X_NFLOG] = {"NFLOG", RULES_F_ALL, 0, 0, 0, true, OPTS(nflog_opts), NULL, NULL, NULL},
	[RULES_X_SNAT] = {"SNAT", RULES_F_ALL, 0, T(RULES_T_NAT),
		H(RULES_H_POSTROUTING) | H(RULES_H_INPUT), true, OPTS(snat_opts), NULL, check_nat,
		print_snat},
	[RULES_X_DNAT] = {"DNAT", RULES_F_ALL, 0, T(RULES_T_NAT),
		H(RULES_H_PREROUTING) | H(RULES_H_OUTPUT), true, OPTS(dnat_opts), NULL, check_nat,
		print_dnat},
	[RULES_X_MASQUERADE] = {"MASQUERADE", RULES_F_ALL, 0, T(RULES_T_NAT), H(RULES_H_POSTROUTING),
		true, OPTS(masq_opts), NULL, check_nat, print_ports_nat},
	[RULES_X_REDIRECT] = {"REDIRECT", RULES_F_ALL, 0, T(RULES_T_NAT),
		H(RULES_H_PREROUTING) | H(RULES_H_OUTPUT), true, OPTS(redir_opts), NULL, check_nat,
		print_ports_nat},
	[RULES_X_NETMAP] = {"NETMAP", RULES_F_ALL, 0, T(RULES_T_NAT), 0, true, OPTS(netmap_opts), NULL,
		NULL, print_netmap},
	[RULES_X_ECN_T] = {"ECN", RULES_F_V4, 0, T(RULES_T_MANGLE), 0, true, OPTS(ecnt_opts), NULL,
		check_ecn_t, print_ecn_t},
	[RULES_X_SNPT] = {"SNPT", RULES_F_V6, 0, T(RULES_T_MANGLE),
		H(RULES_H_INPUT) | H(RULES_H_POSTROUTING), true, OPTS(npt_opts), NULL, check_npt,
		print_npt},
	[RULES_X_DNPT] = {"DNPT", RULES_F_V6, 0, T(RULES_T_MANGLE),
		H(RULES_H_PREROUTING) | H(RULES_H_OUTPUT), true, OPTS(npt_opts), NULL, check_npt,
		print_npt},
	[RULES_X_TEE] = {"TEE", RULES_F_ALL, 0, T(RULES_T_MANGLE), 0, true, OPTS(tee_opts), NULL,
		check_tee, print_tee},
	[RULES_X_CHECKSUM] = {"CHECKSUM", RULES_F_ALL, 0, T(RULES_T_MANGLE), 0, true, OPTS(checksum_opts),
		NULL, NULL, NULL},
	[RULES_X_TCPMSS] = {"TCPMSS", RULES_F_ALL, 6, 0, 0, true, OPTS(tcpmss_opts), NULL, check_tcpmss,
		NULL},
	[RULES_X_SET_T] = {"SET", RULES_F_ALL, 0, 0, 0, true, OPTS(set_t_opts), init_set_t, check_set_t,
		NULL},
	[RULES_X_POLICY] = {"policy", RULES_F_ALL, 0, 0, 0, false, OPTS(policy_opts), NULL, check_policy,
		print_policy},
};

const char *rules_ext_name(enum rules_ext_kind k)
{
	return k < RULES_X_COUNT ? rules_ext_descs[k].name : "?";
}

int rules_ext_lookup(const char *name, bool target)
{
	if (!target && (strcmp(name, "icmpv6") == 0 || strcmp(name, "ipv6-icmp") == 0))
		return RULES_X_ICMP6;
	for (int k = 0; k < RULES_X_COUNT; k++)
		if (rules_ext_descs[k].target == target && strcmp(rules_ext_descs[k].name, name) == 0)
			return k;
	return -1;
}

const struct rules_opt *rules_ext_opt(enum rules_ext_kind k, const char *name)
{
	const struct rules_ext_desc *d = &rules_ext_descs[k];
	for (unsigned i = 0; i < d->n_opts; i++)
		if (strcmp(d->opts[i].name, name) == 0)
			return &d->opts[i];
	return NULL;
}

int rules_opt_nargs(const struct rules_opt *o)
{
	switch (o->type) {
	case RV_NONE:
	case RV_SYN:
	case RV_LOGFLAG:
	case RV_CM_MODE:
	case RV_NATFLAG:
		return 0;
	case RV_TCPFLAGS:
	case RV_SET:
	case RV_SCTPCHUNKS:
		return 2;
	case RV_POLICY:
	case RV_POLICY_OPT:
		return (int)o->min;
	default:
		return 1;
	}
}

void rules_ext_init(struct rules_ext *x, enum rules_ext_kind k)
{
	memset(x, 0, sizeof(*x));
	x->kind = (uint8_t)k;
	if (rules_ext_descs[k].init)
		rules_ext_descs[k].init(&x->u);
}

static char **str_field(struct rules_ext *x, const struct rules_opt *o)
{
	return (char **)((char *)&x->u + o->off);
}

/* value types whose data is an owned pointer */
static bool owned(const struct rules_opt *o)
{
	return (o->type == RV_STRING || o->type == RV_BYTES || o->type == RV_IP6ADDRS ||
		       o->type == RV_U32SPEC || o->type == RV_POLICY) &&
		!(o->flags & RO_ALIAS);
}

void rules_ext_free(struct rules_ext *x)
{
	const struct rules_ext_desc *d = &rules_ext_descs[x->kind];
	for (unsigned i = 0; i < d->n_opts; i++)
		if (owned(&d->opts[i])) {
			char **p = str_field(x, &d->opts[i]);
			free(*p);
			*p = NULL;
		}
}

int rules_ext_copy(struct rules_ext *dst, const struct rules_ext *src)
{
	const struct rules_ext_desc *d = &rules_ext_descs[src->kind];
	*dst = *src;
	for (unsigned i = 0; i < d->n_opts; i++)
		if (owned(&d->opts[i]))
			*str_field(dst, &d->opts[i]) = NULL;
	for (unsigned i = 0; i < d->n_opts; i++) {
		const struct rules_opt *o = &d->opts[i];
		if (!owned(o))
			continue;
		const char *s = *str_field((struct rules_ext *)src, o);
		if (s == NULL)
			continue;
		size_t n = o->type == RV_BYTES ? 1u + (uint8_t)s[0] :
			o->type == RV_IP6ADDRS ? 1u + 16u * (uint8_t)s[0] :
			o->type == RV_U32SPEC ? sizeof(struct rules_u32) :
			o->type == RV_POLICY ? sizeof(struct rules_ipsec_pol) : strlen(s) + 1;
		char *c = malloc(n);
		if (c == NULL) {
			rules_ext_free(dst);
			return -ENOMEM;
		}
		memcpy(c, s, n);
		*str_field(dst, o) = c;
	}
	return 0;
}

int rules_ext_parse_opt(struct rules_pctx *pc, struct rules_ext *x, const struct rules_opt *o,
	bool inv, const char *const *args, const int *cols, int opt_col)
{
	const struct rules_ext_desc *d = &rules_ext_descs[x->kind];
	int rc;

	if (o->type == RV_POLICY || o->type == RV_POLICY_OPT) { /* options repeat per element */
		if (inv && !(o->flags & RO_INV))
			return rules_errf(pc->pe, opt_col, "%s: option --%s cannot be inverted", d->name,
				o->name);
		return policy_opt(pc, x, o, inv, o->min ? args[0] : NULL, cols ? cols[0] : opt_col);
	}
	if (o->flags & RO_REFUSE)
		return rules_errf(pc->pe, opt_col,
			"%s: --%s is not supported: it never worked in the kernel, use --nflog-size", d->name,
			o->name);
	if (x->present & BIT(o->id)) {
		struct rules_buf names = {0};
		for (unsigned i = 0; i < d->n_opts; i++)
			if (d->opts[i].id == o->id)
				rbuf_printf(&names, "%s--%s", names.len ? ", " : "", d->opts[i].name);
		if (names.oom) {
			free(names.s);
			return -ENOMEM;
		}
		rc = rules_errf(pc->pe, opt_col, "%s: only one of %s may be given", d->name, names.s);
		free(names.s);
		return rc;
	}
	if (o->flags & RO_LAST)
		x->present &= ~(uint32_t)o->excl;
	if (x->present & o->excl) {
		for (unsigned i = 0; i < d->n_opts; i++)
			if ((x->present & o->excl & BIT(d->opts[i].id)) && !(d->opts[i].flags & RO_ALIAS))
				return rules_errf(pc->pe, opt_col,
					"%s: option --%s cannot be used together with --%s", d->name, o->name,
					d->opts[i].name);
	}
	if (inv && !(o->flags & RO_INV))
		return rules_errf(pc->pe, opt_col, "%s: option --%s cannot be inverted", d->name, o->name);
	pc->col = cols ? cols[0] : opt_col;

	rc = rules_val_parse(pc, x, o, args, cols, opt_col);
	if (rc < 0)
		return rc;
	x->present |= BIT(o->id);
	if (inv)
		x->invert |= BIT(o->id);
	/* libipt_ECN assigns the operation for --ecn-tcp-remove: an
	 * --ecn-ip-ect before it is forgotten (one after it is kept) */
	if (x->kind == RULES_X_ECN_T && o->id == RULES_O_ECNT_REMOVE)
		x->present &= ~BIT(RULES_O_ECNT_ECT);
	return 0;
}

int rules_ext_finish(struct rules_pctx *pc, struct rules_ext *x)
{
	const struct rules_ext_desc *d = &rules_ext_descs[x->kind];
	struct rules_rule *r = pc->r;
	int col = x->col;

	for (unsigned i = 0; i < d->n_opts; i++) {
		const struct rules_opt *o = &d->opts[i];
		if ((o->flags & RO_MAND) && !(x->present & BIT(o->id)))
			return rules_errf(pc->pe, col, "%s: option --%s must be specified", d->name, o->name);
	}
	if (!(r->fam & d->fam))
		return rules_errf(pc->pe, col, "%s %s is %s only", d->name, d->target ? "target" : "match",
			d->fam == RULES_F_V4 ? "IPv4" : "IPv6");
	r->fam &= d->fam;
	if (d->proto && !proto_is(r, d->proto)) {
		const char *pn = rules_proto_name(d->proto);
		return rules_errf(pc->pe, col, "%s %s requires \"-p %s\"", d->name,
			d->target ? "target" : "match", pn ? pn : "?");
	}
	if (d->check)
		return d->check(pc->pe, col, x, r);
	return 0;
}

/*
 * iptables-nft turns a tcp/udp match into native payload expressions unless
 * it has nothing at all (then it keeps the xt match: "-m tcp") or uses
 * what nft cannot express (--tcp-option, an inverted option). Natively, a
 * full port range and a zero flag mask generate nothing even when
 * inverted, and are gone when the rule is read back: iptables-save prints
 * what remains, or no "-m tcp" at all.
 */
static bool tcpudp_native(const struct rules_ext *x)
{
	const struct rules_m_tcp *t = &x->u.tcp;
	bool tcp = x->kind == RULES_X_TCP;
	if (x->kind != RULES_X_TCP && x->kind != RULES_X_UDP)
		return false;
	if (tcp && (x->present & BIT(RULES_O_TCP_OPTION)))
		return false;
	bool empty = t->sport.lo == 0 && t->sport.hi == 0xFFFF && t->dport.lo == 0 &&
		t->dport.hi == 0xFFFF && !x->invert && (!tcp || (t->flg_mask == 0 && t->flg_cmp == 0));
	return !empty;
}

bool rules_ext_hidden(const struct rules_ext *x)
{
	if (!tcpudp_native(x))
		return false;
	const struct rules_m_tcp *t = &x->u.tcp;
	return t->sport.lo == 0 && t->sport.hi == 0xFFFF && t->dport.lo == 0 && t->dport.hi == 0xFFFF &&
		(x->kind == RULES_X_UDP || t->flg_mask == 0);
}

/* An inverted native range 0:N comes back from the kernel as N+1:65535. */
static void native_port(struct rules_ext *x, struct rules_prange *p, uint32_t bit)
{
	if ((x->invert & bit) && p->lo == 0 && p->hi < 0xFFFF && p->lo != p->hi) {
		p->lo = (uint16_t)(p->hi + 1);
		p->hi = 0xFFFF;
		x->invert &= ~bit;
	}
}

bool rules_ext_kernel_view(const struct rules_ext *x, struct rules_ext *out)
{
	*out = *x;
	if (!tcpudp_native(x))
		return false;
	native_port(out, &out->u.tcp.sport, BIT(RULES_O_SPORT));
	native_port(out, &out->u.tcp.dport, BIT(RULES_O_DPORT));
	if (out->u.tcp.sport.lo == 0 && out->u.tcp.sport.hi == 0xFFFF)
		out->invert &= ~BIT(RULES_O_SPORT);
	if (out->u.tcp.dport.lo == 0 && out->u.tcp.dport.hi == 0xFFFF)
		out->invert &= ~BIT(RULES_O_DPORT);
	if (x->kind == RULES_X_TCP && out->u.tcp.flg_mask == 0)
		out->invert &= ~BIT(RULES_O_TCP_FLAGS);
	return true;
}

void rules_set_counters_print(struct rules_buf *b, const struct rules_ext *x, bool save)
{
	const char *dd = save ? "--" : "";
	static const struct {
		uint8_t id;
		const char *name;
	} ops[] = {
		{RULES_O_MS_PK_EQ, "packets-eq"}, {RULES_O_MS_PK_LT, "packets-lt"},
		{RULES_O_MS_PK_GT, "packets-gt"}, {RULES_O_MS_BY_EQ, "bytes-eq"},
		{RULES_O_MS_BY_LT, "bytes-lt"}, {RULES_O_MS_BY_GT, "bytes-gt"},
	};
	/* --update-counters is the default: printed only inverted */
	if (x->invert & MS(UPD_COUNTERS))
		rbuf_printf(b, " ! %supdate-counters", dd);
	if (x->invert & MS(UPD_SUBCOUNTERS))
		rbuf_printf(b, " ! %supdate-subcounters", dd);
	for (size_t i = 0; i < RULES_ARRAY_SIZE(ops); i++)
		if (x->present & BIT(ops[i].id))
			rbuf_printf(b, "%s %s%s %llu", (x->invert & BIT(ops[i].id)) ? " !" : "", dd,
				ops[i].name,
				(unsigned long long)(i < 3 ? x->u.set.packets : x->u.set.bytes));
}


static void set_print(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	(void)fam;
	rules_set_counters_print(b, x, true);
}

void rules_ext_print(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	const struct rules_ext_desc *d = &rules_ext_descs[x->kind];
	bool native = tcpudp_native(x);
	struct rules_ext n;
	if (native) {
		n = *x; /* tcp/udp own no strings: a shallow copy is fine */
		native_port(&n, &n.u.tcp.sport, BIT(RULES_O_SPORT));
		native_port(&n, &n.u.tcp.dport, BIT(RULES_O_DPORT));
		x = &n;
	}
	for (unsigned i = 0; i < d->n_opts; i++) {
		const struct rules_opt *o = &d->opts[i];
		if (o->flags & (RO_ALIAS | RO_NOPRINT | RO_REFUSE))
			continue;
		bool pres = x->present & BIT(o->id), inv = x->invert & BIT(o->id);
		if (!pres && !(o->flags & RO_ALWAYS))
			continue;
		/* tcp_save()/udp_save() leave a full port range out even when inverted */
		bool ports = o->type == RV_PORTRANGE || o->type == RV_UDPPORTS ||
			(o->type == RV_U32RANGE && (o->flags & RO_OMIT_DFLT)); /* frag, rt */
		if ((native || !inv || ports) && rules_val_omit(x, o))
			continue;
		if (inv)
			rbuf_puts(b, " !");
		rbuf_printf(b, " --%s", o->name);
		rules_val_print(b, x, o, fam);
	}
	if (d->print)
		d->print(b, x, fam);
}
