/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * trace_ctl: the control thread's side of `rampartctl trace` (dp_trace.h):
 * parsing the command and its filter, arming and disarming the workers,
 * draining their trace rings into the kept list, printing records.
 *
 * Arming: tickets to 0 (no new ticket), the filter and epoch rewritten
 * under the sequence counter (odd while writing), then the tickets stored
 * with release. A worker that copied the filter while it changed sees the
 * counter move and traces nothing in that burst. No lock, no waiting on
 * either side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "dp_priv.h"
#include "dp_trace.h"
#include "json.h"
#include "rules.h"

struct dp_trace_list {
	struct dp_trace_rec rec[DP_TRACE_KEEP]; /* a circle: oldest at head */
	uint64_t no[DP_TRACE_KEEP];             /* each record's number */
	unsigned head, n;
	uint64_t next_no;    /* number of the next record kept */
	uint32_t keep_epoch; /* records of an older epoch were cleared */
	uint64_t forgotten;  /* older records pushed out of the list */
	uint64_t lost_seen;  /* the workers' trace_lost at the last clear */
};

static struct dp_trace_list *list_get(struct dp_ctx *dp)
{
	if (dp->trace_list == NULL) {
		dp->trace_list = calloc(1, sizeof(*dp->trace_list));
		if (dp->trace_list != NULL)
			dp->trace_list->next_no = 1;
	}
	return dp->trace_list;
}

void dp_trace_free(struct dp_ctx *dp)
{
	free(dp->trace_list);
	dp->trace_list = NULL;
}

static void keep(struct dp_trace_list *l, const struct dp_trace_rec *r)
{
	unsigned i;
	if (l->n < DP_TRACE_KEEP) {
		i = (l->head + l->n++) % DP_TRACE_KEEP;
	} else {
		i = l->head;
		l->head = (l->head + 1) % DP_TRACE_KEEP;
		l->forgotten++;
	}
	l->rec[i] = *r;
	l->no[i] = l->next_no++;
}

unsigned dp_trace_drain(struct dp_ctx *dp)
{
	struct dp_trace_list *l = dp->trace_list;
	struct dp_trace_rec recs[8];
	unsigned total = 0;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];
		if (w == NULL || w->traceq == NULL)
			continue;
		/* a ring holds DP_TRACE_RING records: this ends */
		for (;;) {
			unsigned n = rte_ring_sc_dequeue_burst_elem(w->traceq, recs, sizeof(recs[0]),
								    RTE_DIM(recs), NULL);
			for (unsigned k = 0; k < n; k++)
				if (l != NULL && recs[k].epoch >= l->keep_epoch)
					keep(l, &recs[k]);
			total += n;
			if (n < RTE_DIM(recs))
				break;
		}
	}
	return total;
}

/* ---- arming ---------------------------------------------------------- */

static void arm(struct dp_ctx *dp, const struct dp_trace_filter *f, int32_t n)
{
	struct dp_trace_arm *a = &dp->trace;
	__atomic_store_n(&a->left, 0, __ATOMIC_RELEASE);
	uint32_t s = a->seq;
	__atomic_store_n(&a->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (f != NULL)
		a->filt = *f;
	__atomic_store_n(&a->epoch, a->epoch + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&a->seq, s + 2, __ATOMIC_RELEASE);
	if (n > 0)
		__atomic_store_n(&a->left, n, __ATOMIC_RELEASE);
}

/* ---- the filter ---------------------------------------------------------- */

static int parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || *v > max ? -1 : 0;
}

static int parse_addr(const char *s, uint8_t *fam, uint8_t *a, uint8_t *plen)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1)
		*fam = 4;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		*fam = 6;
	else
		return -1;
	unsigned long max = *fam == 4 ? 32 : 128, p = max;
	if (slash && parse_num(slash, max, &p) < 0)
		return -1;
	*plen = (uint8_t)p;
	for (unsigned b = (unsigned)p; b < max; b++) /* mask the host part */
		a[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
	return 0;
}

static int parse_proto(const char *s, uint8_t *p)
{
	static const struct { const char *name; uint8_t num; } names[] = {
		{ "tcp", IPPROTO_TCP },       { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP },     { "icmpv6", IPPROTO_ICMPV6 },
		{ "ipv6-icmp", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP },
		{ "udplite", IPPROTO_UDPLITE }, { "esp", IPPROTO_ESP },
		{ "ah", IPPROTO_AH },         { "gre", IPPROTO_GRE },
	};
	for (size_t i = 0; i < RTE_DIM(names); i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*p = names[i].num;
			return 0;
		}
	unsigned long v;
	if (parse_num(s, 255, &v) < 0)
		return -1;
	*p = (uint8_t)v;
	return 0;
}

/* Parse FILTER words; -1 with err on a mistake. */
static int parse_filter(struct dp_ctx *dp, int argc, char **argv, struct dp_trace_filter *f,
			char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->in_port = UINT16_MAX;
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];
		bool flag = strcmp(o, "-4") == 0 || strcmp(o, "-6") == 0;
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
		if (!flag && arg == NULL) {
			snprintf(err, errlen, "%s needs a value", o);
			return -1;
		}
		unsigned long v;
		if (flag) {
			uint8_t fam = o[1] == '4' ? 4 : 6;
			if (f->fam && f->fam != fam) {
				snprintf(err, errlen, "-4 and -6 together match nothing");
				return -1;
			}
			f->fam = fam;
			continue;
		}
		i++;
		if (strcmp(o, "-s") == 0 || strcmp(o, "--source") == 0 || strcmp(o, "-d") == 0 ||
		    strcmp(o, "--destination") == 0) {
			bool src = o[1] == 's' || o[2] == 's';
			uint8_t *fam = src ? &f->src_fam : &f->dst_fam;
			if (*fam) {
				snprintf(err, errlen, "%s given twice", o);
				return -1;
			}
			if (parse_addr(arg, fam, src ? f->src : f->dst, src ? &f->src_plen : &f->dst_plen) <
			    0) {
				snprintf(err, errlen, "%s %s: not an address[/prefix length]", o, arg);
				return -1;
			}
		} else if (strcmp(o, "-p") == 0 || strcmp(o, "--protocol") == 0) {
			if (f->has_proto) {
				snprintf(err, errlen, "%s given twice", o);
				return -1;
			}
			if (parse_proto(arg, &f->proto) < 0) {
				snprintf(err, errlen, "-p %s: not tcp, udp, icmp, icmpv6 or a number 0-255",
					 arg);
				return -1;
			}
			f->has_proto = 1;
		} else if (strcmp(o, "--sport") == 0 || strcmp(o, "--dport") == 0 ||
			   strcmp(o, "--source-port") == 0 || strcmp(o, "--destination-port") == 0) {
			bool s = o[2] == 's';
			if (s ? f->has_sport : f->has_dport) {
				snprintf(err, errlen, "%s given twice", o);
				return -1;
			}
			if (parse_num(arg, 65535, &v) < 0) {
				snprintf(err, errlen, "%s %s: not a port number 0-65535", o, arg);
				return -1;
			}
			if (s) {
				f->has_sport = 1;
				f->sport = (uint16_t)v;
			} else {
				f->has_dport = 1;
				f->dport = (uint16_t)v;
			}
		} else if (strcmp(o, "-i") == 0 || strcmp(o, "--in-interface") == 0) {
			unsigned p = 0;
			while (p < dp->n_ports && strcmp(dp->ports[p].name, arg) != 0)
				p++;
			if (p == dp->n_ports) {
				snprintf(err, errlen, "-i %s: no such port", arg);
				return -1;
			}
			f->in_port = (uint16_t)p;
		} else {
			snprintf(err, errlen, "unknown filter word '%s' (-s, -d, -p, --sport, --dport, "
				 "-i, -4, -6)", o);
			return -1;
		}
	}
	if ((f->src_fam && f->fam && f->src_fam != f->fam) ||
	    (f->dst_fam && f->fam && f->dst_fam != f->fam) ||
	    (f->src_fam && f->dst_fam && f->src_fam != f->dst_fam)) {
		snprintf(err, errlen, "addresses of both families: the filter matches nothing");
		return -1;
	}
	if ((f->has_sport || f->has_dport) && f->has_proto && f->proto != IPPROTO_TCP &&
	    f->proto != IPPROTO_UDP && f->proto != IPPROTO_SCTP && f->proto != IPPROTO_UDPLITE) {
		snprintf(err, errlen, "--sport/--dport need -p tcp, udp, sctp or udplite");
		return -1;
	}
	return 0;
}

/* ---- printing -------------------------------------------------------------- */

static const char *ct_name(uint8_t s)
{
	switch (s) {
	case CT_INVALID: return "INVALID";
	case CT_NEW: return "NEW";
	case CT_RELATED: return "RELATED";
	case CT_ESTABLISHED: return "ESTABLISHED";
	case CT_UNTRACKED: return "UNTRACKED";
	default: return "none";
	}
}

static const char *res_name(uint8_t r)
{
	return r == RULES_R_ACCEPT ? "ACCEPT" : r == RULES_R_DROP ? "DROP" : "REJECT";
}

static const char *port_name(const struct dp_ctx *dp, uint16_t p)
{
	return p < dp->n_ports ? dp->ports[p].name : "?";
}

static void addr_str(uint8_t l3, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(l3 == PKT_L3_IPV4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
}

static bool rec_ports(const struct dp_trace_rec *r)
{
	return r->l4 && (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP ||
			 r->proto == IPPROTO_SCTP || r->proto == IPPROTO_UDPLITE);
}

static const char *const tcp_flag_names[8] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE",
						 "CWR" };

static const char *l4_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	default: return NULL;
	}
}

static void print_summary(FILE *o, const struct dp_trace_rec *r)
{
	if (r->l3 != PKT_L3_IPV4 && r->l3 != PKT_L3_IPV6) {
		if (r->ethertype == 0x0806)
			fprintf(o, "arp len %u", r->len);
		else
			fprintf(o, "ethertype 0x%04x len %u", r->ethertype, r->len);
		return;
	}
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	addr_str(r->l3, r->src, s, sizeof(s));
	addr_str(r->l3, r->dst, d, sizeof(d));
	fprintf(o, "%s %s > %s ", r->l3 == PKT_L3_IPV4 ? "ipv4" : "ipv6", s, d);
	if (l4_name(r->proto) != NULL)
		fprintf(o, "%s", l4_name(r->proto));
	else
		fprintf(o, "proto %u", r->proto);
	if (rec_ports(r))
		fprintf(o, " sport %u dport %u", r->sport, r->dport);
	else if (r->l4 && (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6))
		fprintf(o, " type %u code %u", r->icmp_type, r->icmp_code);
	fprintf(o, " len %u", r->len);
	if (r->l4 && r->proto == IPPROTO_TCP) {
		const char *const *fl = tcp_flag_names;
		const char *sep = " flags ";
		for (unsigned b = 0; b < 8; b++)
			if (r->tcp_flags & (1u << b)) {
				fprintf(o, "%s%s", sep, fl[b]);
				sep = ",";
			}
		if (r->tcp_flags == 0)
			fprintf(o, " flags none");
	}
	if (r->frag)
		fprintf(o, " fragment");
}

static void print_endpoint(FILE *o, const struct dp_trace_rec *r, const uint8_t *a, uint16_t port)
{
	char s[INET6_ADDRSTRLEN];
	addr_str(r->l3, a, s, sizeof(s));
	if (!rec_ports(r))
		fprintf(o, "%s", s);
	else if (r->l3 == PKT_L3_IPV6)
		fprintf(o, "[%s]:%u", s, port);
	else
		fprintf(o, "%s:%u", s, port);
}

static const struct dp_rules *rules_of(const struct dp_ctx *dp, uint32_t gen)
{
	if (gen == 0)
		return NULL;
	if (dp->rules != NULL && dp->rules->gen == gen)
		return dp->rules;
	if (dp->rules_old != NULL && dp->rules_old->gen == gen)
		return dp->rules_old;
	return NULL;
}

/* What a counter id of a trace event is: a rule (rule > 0, 1-based, with
 * its text, malloc'd, NULL if out of memory) or a policy (rule 0). */
struct ev_rule {
	const char *table, *chain, *policy;
	unsigned rule;
	char *text; /* "-A CHAIN ..." */
};

/* 0, or -1 when the ruleset was replaced (R NULL) or the id is unknown. */
static int ev_rule(const struct dp_rules *R, const struct dp_trace_rec *r, uint32_t id,
		   struct ev_rule *x)
{
	memset(x, 0, sizeof(*x));
	if (R == NULL || id >= R->prog->n_ctr)
		return -1;
	const struct rules_ctr_src *s = &R->prog->ctr_src[id];
	struct rules_chain *ch = rules_chain_find(R->rs, (enum rules_table_id)s->table, s->chain);
	int fam = r->l3 == PKT_L3_IPV6 ? RULES_F_V6 : RULES_F_V4;
	x->table = rules_table_name((enum rules_table_id)s->table);
	x->chain = s->chain;
	if (s->policy) {
		x->policy = ch == NULL ? "?" :
			ch->policy[fam == RULES_F_V6] == RULES_POL_ACCEPT ? "ACCEPT" : "DROP";
		return 0;
	}
	x->rule = s->rule + 1;
	char *txt = ch != NULL && s->rule < ch->n_rules ? rules_ipt_print_rule(&ch->rules[s->rule], fam)
						       : NULL;
	if (txt != NULL && asprintf(&x->text, "-A %s %s", s->chain, txt) < 0)
		x->text = NULL;
	free(txt);
	return 0;
}

/* One rule or policy whose target ran. */
static void print_rule(FILE *o, const struct dp_rules *R, const struct dp_trace_rec *r,
		       uint32_t id)
{
	struct ev_rule x;
	if (ev_rule(R, r, id, &x) < 0) {
		fprintf(o, "counter %" PRIu32 " (%s)", id, R == NULL ? "ruleset replaced" : "unknown");
		return;
	}
	if (x.policy != NULL)
		fprintf(o, "%s %s policy %s", x.table, x.chain, x.policy);
	else
		fprintf(o, "%s %s rule %u%s%s", x.table, x.chain, x.rule, x.text ? ": " : "",
			x.text ? x.text : "");
	free(x.text);
}

static const char *hook_label(const struct dp_trace_ev *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", rules_hook_name((enum rules_hook)e->hook),
		 e->part == RULES_PART_RAW ? " (raw)" : "",
		 (e->flags & DP_TEV_F_ANSWER) ? " (the box's answer)" : "");
	return buf;
}

/* The first hook verdict that was not ACCEPT (the one the packet's fate
 * comes from), NULL if none. */
static const struct dp_trace_ev *first_verdict(const struct dp_trace_rec *r)
{
	for (unsigned i = 0; i < r->n_ev; i++) {
		const struct dp_trace_ev *e = &r->ev[i];
		if (e->kind != DP_TEV_RULE && e->res != RULES_R_ACCEPT && !(e->flags & DP_TEV_F_ANSWER))
			return e;
	}
	return NULL;
}

/* How the packet left, in words ("forwarded out p1", "dropped (...) in INPUT"). */
static void print_fate(FILE *o, const struct dp_ctx *dp, const struct dp_trace_rec *r,
		       const struct dp_trace_ev *verdict)
{
	const char *by = verdict ? rules_hook_name((enum rules_hook)verdict->hook) : "?";
	switch (r->fate) {
	case DP_TF_FORWARD:
		fprintf(o, "forwarded out %s", port_name(dp, r->out_port));
		break;
	case DP_TF_FRAGMENTED:
		fprintf(o, "forwarded as fragments");
		break;
	case DP_TF_LOCAL:
		if (r->drop == DP_DROP_NONE)
			fprintf(o, "delivered locally");
		else
			fprintf(o, "delivered locally, no local service (%s)", dp_drop_names[r->drop]);
		break;
	case DP_TF_DROP:
		fprintf(o, "dropped (%s)", r->drop < DP_DROP_MAX ? dp_drop_names[r->drop] : "?");
		if (verdict != NULL)
			fprintf(o, " in %s", by);
		break;
	case DP_TF_REJECT:
		fprintf(o, "rejected (filter_reject) in %s", by);
		break;
	case DP_TF_RESOLVE:
		fprintf(o, "to the control thread: waiting for the next hop's link-layer address");
		break;
	case DP_TF_PUNT:
		fprintf(o, "to the control thread (ARP / neighbour discovery)");
		break;
	case DP_TF_HANDOFF:
		fprintf(o, "handed over to worker %u (its connection may live there)", r->out_port);
		break;
	case DP_TF_HELD:
		fprintf(o, "held for reassembly (a fragment)");
		break;
	default:
		fprintf(o, "unknown (consumed without a counted reason)");
		break;
	}
}

static void print_rec(FILE *o, const struct dp_ctx *dp, uint64_t no, const struct dp_trace_rec *r)
{
	const struct dp_rules *R = rules_of(dp, r->gen);
	fprintf(o, "trace %" PRIu64 ": worker %u", no, r->worker);
	if (r->from_worker != UINT16_MAX)
		fprintf(o, " (handed over by worker %u)", r->from_worker);
	fprintf(o, ", in %s, ruleset %" PRIu32 "%s\n", port_name(dp, r->in_port), r->gen,
		r->gen == 0 ? " (none)" : R == NULL ? " (replaced)" : "");
	fprintf(o, "  packet: ");
	print_summary(o, r);
	fprintf(o, "\n  conntrack: %s\n", ct_name(r->ct));
	char hb[64];
	for (unsigned i = 0; i < r->n_ev; i++) {
		const struct dp_trace_ev *e = &r->ev[i];
		fprintf(o, "  %s: ", hook_label(e, hb, sizeof(hb)));
		if (e->kind == DP_TEV_RULE)
			print_rule(o, R, r, e->ctr);
		else
			fprintf(o, "%s", res_name(e->res));
		fputc('\n', o);
	}
	if (r->ev_lost)
		fprintf(o, "  ... %u more steps not recorded\n", r->ev_lost);
	if (r->nat) {
		fprintf(o, "  nat: ");
		print_endpoint(o, r, r->src, r->sport);
		fprintf(o, " > ");
		print_endpoint(o, r, r->dst, r->dport);
		fprintf(o, " became ");
		print_endpoint(o, r, r->nsrc, r->nsport);
		fprintf(o, " > ");
		print_endpoint(o, r, r->ndst, r->ndport);
		fputc('\n', o);
	}
	fprintf(o, "  verdict: ");
	print_fate(o, dp, r, first_verdict(r));
	fputc('\n', o);
}

static const char *const fate_names[] = {
	[DP_TF_NONE] = "unknown", [DP_TF_FORWARD] = "forward", [DP_TF_FRAGMENTED] = "fragmented",
	[DP_TF_LOCAL] = "local", [DP_TF_DROP] = "drop", [DP_TF_REJECT] = "reject",
	[DP_TF_RESOLVE] = "resolve", [DP_TF_PUNT] = "punt", [DP_TF_HANDOFF] = "handoff",
	[DP_TF_HELD] = "held",
};

/* An address and, for protocols with ports, the port. */
static void json_endpoint(struct json *j, const struct dp_trace_rec *r, const char *ka,
			  const uint8_t *a, const char *kp, uint16_t port)
{
	char s[INET6_ADDRSTRLEN];
	addr_str(r->l3, a, s, sizeof(s));
	json_kstr(j, ka, s);
	if (rec_ports(r))
		json_ku64(j, kp, port);
}

/* trace show --json: one record as an object, the facts print_rec words. */
static void json_rec(struct json *j, const struct dp_ctx *dp, uint64_t no,
		     const struct dp_trace_rec *r)
{
	const struct dp_rules *R = rules_of(dp, r->gen);
	json_obj(j);
	json_ku64(j, "trace", no);
	json_ku64(j, "worker", r->worker);
	json_key(j, "handed_over_by");
	if (r->from_worker != UINT16_MAX)
		json_u64(j, r->from_worker);
	else
		json_null(j);
	json_kstr(j, "in", port_name(dp, r->in_port));
	json_ku64(j, "ruleset", r->gen);
	json_kbool(j, "ruleset_replaced", r->gen != 0 && R == NULL);
	json_key(j, "packet");
	json_obj(j);
	if (r->l3 == PKT_L3_IPV4 || r->l3 == PKT_L3_IPV6) {
		json_kstr(j, "family", r->l3 == PKT_L3_IPV4 ? "ipv4" : "ipv6");
		json_endpoint(j, r, "src", r->src, "sport", r->sport);
		json_endpoint(j, r, "dst", r->dst, "dport", r->dport);
		json_key(j, "proto");
		json_str(j, l4_name(r->proto));
		json_ku64(j, "protonum", r->proto);
		if (r->l4 && (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6)) {
			json_ku64(j, "type", r->icmp_type);
			json_ku64(j, "code", r->icmp_code);
		}
		if (r->l4 && r->proto == IPPROTO_TCP) {
			json_key(j, "tcp_flags");
			json_arr(j);
			for (unsigned b = 0; b < 8; b++)
				if (r->tcp_flags & (1u << b))
					json_str(j, tcp_flag_names[b]);
			json_arr_end(j);
		}
		json_kbool(j, "fragment", r->frag);
	} else {
		json_ku64(j, "ethertype", r->ethertype);
	}
	json_ku64(j, "len", r->len);
	json_obj_end(j);
	json_kstr(j, "conntrack", ct_name(r->ct));
	json_key(j, "steps");
	json_arr(j);
	for (unsigned i = 0; i < r->n_ev; i++) {
		const struct dp_trace_ev *e = &r->ev[i];
		json_obj(j);
		json_kstr(j, "hook", rules_hook_name((enum rules_hook)e->hook));
		json_kbool(j, "raw", e->part == RULES_PART_RAW);
		json_kbool(j, "answer", e->flags & DP_TEV_F_ANSWER);
		if (e->kind != DP_TEV_RULE) {
			json_kstr(j, "verdict", res_name(e->res));
		} else {
			struct ev_rule x;
			if (ev_rule(R, r, e->ctr, &x) < 0) {
				json_ku64(j, "counter", e->ctr);
			} else {
				json_kstr(j, "table", x.table);
				json_kstr(j, "chain", x.chain);
				if (x.policy != NULL) {
					json_kstr(j, "policy", x.policy);
				} else {
					json_ku64(j, "rule", x.rule);
					json_kstr(j, "text", x.text);
				}
				free(x.text);
			}
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_ku64(j, "steps_lost", r->ev_lost);
	if (r->nat) {
		json_key(j, "nat");
		json_obj(j);
		json_endpoint(j, r, "src", r->nsrc, "sport", r->nsport);
		json_endpoint(j, r, "dst", r->ndst, "dport", r->ndport);
		json_obj_end(j);
	}
	json_kstr(j, "fate", r->fate < sizeof(fate_names) / sizeof(fate_names[0]) &&
				     fate_names[r->fate] ? fate_names[r->fate] : "unknown");
	if (r->fate == DP_TF_FORWARD)
		json_kstr(j, "out", port_name(dp, r->out_port));
	if (r->drop != DP_DROP_NONE && r->drop < DP_DROP_MAX)
		json_kstr(j, "drop_reason", dp_drop_names[r->drop]);
	char *v = NULL;
	size_t vlen = 0;
	FILE *vf = open_memstream(&v, &vlen);
	if (vf != NULL) {
		print_fate(vf, dp, r, first_verdict(r));
		if (fclose(vf) != 0) {
			free(v);
			v = NULL;
		}
	}
	json_kstr(j, "verdict", v);
	free(v);
	json_obj_end(j);
}

/* ---- the command ------------------------------------------------------------ */

static const char usage[] =
	"usage: trace add N [-s ADDR[/PLEN]] [-d ADDR[/PLEN]] [-p tcp|udp|icmp|icmpv6|NUM] "
	"[--sport N] [--dport N] [-i PORT] [-4|-6] | trace show | trace clear";

static uint64_t lost_total(const struct dp_ctx *dp)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (dp->workers[i] != NULL)
			s += __atomic_load_n(&dp->workers[i]->trace_lost, __ATOMIC_RELAXED);
	return s;
}

void dp_trace_ctl(struct dp_ctx *dp, int argc, char **argv, FILE *out, bool json)
{
	char err[256];
	if (argc < 2) {
		fprintf(out, "%%%% error: %s\n", usage);
		return;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "add") == 0) {
		unsigned long n;
		if (argc < 3 || parse_num(argv[2], ULONG_MAX, &n) < 0) {
			fprintf(out, "%%%% error: trace add N: N is the number of packets to trace (1-%d)\n",
				DP_TRACE_MAX);
			return;
		}
		if (n < 1 || n > DP_TRACE_MAX) {
			fprintf(out, "%%%% error: trace add %s: N must be between 1 and %d\n", argv[2],
				DP_TRACE_MAX);
			return;
		}
		struct dp_trace_filter f;
		if (parse_filter(dp, argc - 3, argv + 3, &f, err, sizeof(err)) < 0) {
			fprintf(out, "%%%% error: %s\n", err);
			return;
		}
		struct dp_trace_list *l = list_get(dp);
		if (l == NULL) {
			fprintf(out, "%%%% error: out of memory for the trace records\n");
			return;
		}
		dp_trace_drain(dp); /* what the previous filter traced stays */
		arm(dp, &f, (int32_t)n);
		fprintf(out, "%%%% ok tracing the next %lu packet%s%s", n, n == 1 ? "" : "s",
			argc > 3 ? " matching" : "");
		for (int i = 3; i < argc; i++)
			fprintf(out, " %s", argv[i]);
		fputc('\n', out);
		return;
	}
	if (strcmp(cmd, "show") == 0 && argc == 2) {
		struct dp_trace_list *l = dp->trace_list;
		if (l == NULL) {
			fprintf(out, "%s%%%% ok nothing traced (trace add N [FILTER] arms tracing)\n",
				json ? "[]\n" : "");
			return;
		}
		dp_trace_drain(dp);
		struct json j;
		json_init(&j, out);
		if (json)
			json_arr(&j);
		for (unsigned i = 0; i < l->n; i++) {
			unsigned k = (l->head + i) % DP_TRACE_KEEP;
			if (json)
				json_rec(&j, dp, l->no[k], &l->rec[k]);
			else
				print_rec(out, dp, l->no[k], &l->rec[k]);
		}
		if (json) {
			json_arr_end(&j);
			fputc('\n', out);
		}
		int32_t left = __atomic_load_n(&dp->trace.left, __ATOMIC_ACQUIRE);
		fprintf(out, "%%%% ok %u packet%s traced", l->n, l->n == 1 ? "" : "s");
		if (l->forgotten)
			fprintf(out, " (%" PRIu64 " older forgotten)", l->forgotten);
		uint64_t lost = lost_total(dp) - l->lost_seen;
		if (lost)
			fprintf(out, ", %" PRIu64 " lost (trace ring full)", lost);
		if (left > 0)
			fprintf(out, ", %d more to trace\n", left);
		else
			fprintf(out, ", tracing done\n");
		return;
	}
	if (strcmp(cmd, "clear") == 0 && argc == 2) {
		arm(dp, NULL, 0);
		struct dp_trace_list *l = dp->trace_list;
		if (l != NULL) {
			l->keep_epoch = dp->trace.epoch;
			dp_trace_drain(dp); /* and forget */
			l->n = l->head = 0;
			l->forgotten = 0;
			l->next_no = 1;
			l->lost_seen = lost_total(dp);
		}
		fprintf(out, "%%%% ok tracing off, records cleared\n");
		return;
	}
	fprintf(out, "%%%% error: %s\n", usage);
}
