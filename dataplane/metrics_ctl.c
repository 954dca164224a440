/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics_ctl: the counters in Prometheus' text exposition format 0.0.4.
 *
 * Control thread only (the ruleset is read through the published pointer,
 * which only the control thread replaces). Worker counters are plain
 * per-worker 64-bit integers: read while the workers run, summed here, as
 * every counter reader does; a scrape never stops or slows a worker.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp_metrics.h"
#include "dp_priv.h"

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *o, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\\\"\n");
		fwrite(s, 1, n, o);
		s += n;
		if (*s == '\0')
			break;
		fputs(*s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", o);
		s++;
	}
}

static void family(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The comment of a rule (-m comment), "" if none. */
static const char *rule_comment(const struct rules_rule *r)
{
	for (unsigned i = 0; i < r->n_match; i++)
		if (r->match[i].kind == RULES_X_COMMENT && r->match[i].u.comment.s)
			return r->match[i].u.comment.s;
	return "";
}

/* Walks the model alongside the counter ids, which follow the model's
 * order (table, chain, rule): each id's rule and its position among its
 * family's rules (1-based, as iptables -L --line-numbers counts) without
 * searching from the start each time. */
struct model_cursor {
	const struct rules_ruleset *rs;
	const struct rules_chain *ch;
	uint8_t table, fam;
	uint32_t rule;  /* last rule counted */
	unsigned pos;
};

static const struct rules_rule *model_rule(struct model_cursor *mc, const struct rules_ctr_src *src,
	unsigned *pos)
{
	if (mc->rs == NULL || src->table >= RULES_T_COUNT)
		return NULL;
	if (mc->ch == NULL || mc->table != src->table || mc->fam != src->fam ||
	    strcmp(mc->ch->name, src->chain) != 0 || src->rule <= mc->rule) {
		const struct rules_table *t = &mc->rs->tables[src->table];
		mc->ch = NULL;
		for (size_t c = 0; c < t->n_chains && mc->ch == NULL; c++)
			if (strcmp(t->chains[c].name, src->chain) == 0)
				mc->ch = &t->chains[c];
		if (mc->ch == NULL)
			return NULL;
		mc->table = src->table;
		mc->fam = src->fam;
		mc->rule = UINT32_MAX; /* before the first */
		mc->pos = 0;
	}
	if (src->rule >= mc->ch->n_rules)
		return NULL;
	const struct rules_rule *r = &mc->ch->rules[src->rule];
	uint8_t fam = src->fam ? src->fam : r->fam;
	for (uint32_t i = mc->rule + 1; i <= src->rule; i++)
		mc->pos += (mc->ch->rules[i].fam & fam) != 0;
	mc->rule = src->rule;
	*pos = mc->pos;
	return r;
}

static void rules_metrics(FILE *o, const struct dp_ctx *dp, const struct dp_rules *R)
{
	if (R == NULL)
		return;
	const struct rules_prog *p = R->prog;
	for (int what = 0; what < 2; what++) {
		const char *name = what ? "rampart_rule_bytes_total" : "rampart_rule_packets_total";
		family(o, name, "counter",
		       what ? "Bytes (IP datagram lengths) that matched the rule (position=\"policy\": "
			      "the built-in chain's policy)"
			    : "Packets that matched the rule (position=\"policy\": the built-in chain's "
			      "policy)");
		struct model_cursor mc = {.rs = R->rs};
		for (uint32_t id = 0; id < p->n_ctr; id++) {
			const struct rules_ctr_src *src = &p->ctr_src[id];
			uint64_t v = 0;
			for (unsigned w = 0; w < dp->n_workers; w++)
				v += what ? R->ctr[w][id].bytes : R->ctr[w][id].pkts;
			unsigned pos = 0;
			const struct rules_rule *r = src->policy ? NULL : model_rule(&mc, src, &pos);
			/* plus what the model holds: counts carried over from earlier
			 * rulesets, or restored with -c */
			if (r != NULL) {
				v += what ? r->bytes : r->pkts;
			} else if (src->policy) {
				const struct rules_chain *ch = rules_chain_find(
					R->rs, (enum rules_table_id)src->table, src->chain);
				int fi = src->fam == RULES_F_V6;
				if (ch != NULL)
					v += what ? ch->bytes[fi] : ch->pkts[fi];
			}
			const char *fam = src->fam == RULES_F_V6 ? "ipv6" : src->fam == RULES_F_V4 ? "ipv4" :
				r && r->fam == RULES_F_V6 ? "ipv6" : r && r->fam == RULES_F_V4 ? "ipv4" : "any";
			fprintf(o, "%s{family=\"%s\",table=\"%s\",chain=\"", name, fam,
				rules_table_name((enum rules_table_id)src->table));
			label(o, src->chain);
			if (src->policy)
				fprintf(o, "\",position=\"policy\",comment=\"\"} %" PRIu64 "\n", v);
			else {
				fprintf(o, "\",position=\"%u\",comment=\"", pos);
				label(o, r ? rule_comment(r) : "");
				fprintf(o, "\"} %" PRIu64 "\n", v);
			}
		}
	}
}

/* A table of per-worker 64-bit counters at offsets of a struct that base()
 * finds for each worker (NULL: that worker has none). */
struct wcounter {
	const char *name, *help;
	size_t off;
};

static void worker_counters(FILE *o, const struct dp_ctx *dp, const struct wcounter *t, size_t n,
	const void *(*base)(const struct dp_worker *w))
{
	for (size_t f = 0; f < n; f++) {
		family(o, t[f].name, "counter", t[f].help);
		for (unsigned i = 0; i < dp->n_workers; i++) {
			const void *b = base(dp->workers[i]);
			if (b == NULL)
				continue;
			uint64_t v;
			memcpy(&v, (const char *)b + t[f].off, sizeof(v));
			fprintf(o, "%s{worker=\"%u\"} %" PRIu64 "\n", t[f].name, i, v);
		}
	}
}

static const void *wstats_of(const struct dp_worker *w)
{
	return &w->st;
}

static const void *natstats_of(const struct dp_worker *w)
{
	return &w->nst;
}

static const void *ctstats_of(const struct dp_worker *w)
{
	return w->ct ? &w->ct->st : NULL;
}

/* Live source-translated connections per public address and protocol,
 * summed over the workers' counts (ct_natc: kept as connections come and
 * go, no table walk). */
static void nat_usage(FILE *o, const struct dp_ctx *dp)
{
	struct usage {
		uint8_t fam, proto, addr[16];
		uint64_t conns;
	} u[CT_NATC_SLOTS * 2];
	unsigned n = 0;
	uint64_t other = 0;
	for (unsigned w = 0; w < dp->n_workers; w++) {
		const struct ct_table *t = dp->workers[w]->ct;
		if (t == NULL)
			continue;
		other += t->natc.other;
		for (unsigned k = 0; k < CT_NATC_SLOTS; k++) {
			const struct ct_natc_slot *s = &t->natc.s[k];
			if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
				continue;
			unsigned j = 0;
			while (j < n && !(u[j].fam == s->fam && u[j].proto == s->proto &&
					  memcmp(u[j].addr, s->addr, 16) == 0))
				j++;
			if (j == n) {
				if (n == RTE_DIM(u)) {
					other += s->conns;
					continue;
				}
				u[n].fam = s->fam;
				u[n].proto = s->proto;
				memcpy(u[n].addr, s->addr, 16);
				u[n++].conns = 0;
			}
			u[j].conns += s->conns;
		}
	}
	family(o, "rampart_nat_connections", "gauge",
	       "Live source-translated (SNAT, MASQUERADE) connections per public address and "
	       "protocol: the address's ports in use (a port serves one connection per "
	       "destination; rampartctl show nat counts distinct ports)");
	for (unsigned j = 0; j < n; j++) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(u[j].fam == 6 ? AF_INET6 : AF_INET, u[j].addr, a, sizeof(a));
		const char *pn = ct_proto_name(u[j].proto);
		if (!strcmp(pn, "unknown"))
			pn = NULL;
		if (pn)
			fprintf(o, "rampart_nat_connections{address=\"%s\",proto=\"%s\"} %" PRIu64 "\n", a,
				pn, u[j].conns);
		else
			fprintf(o, "rampart_nat_connections{address=\"%s\",proto=\"%u\"} %" PRIu64 "\n", a,
				u[j].proto, u[j].conns);
	}
	fprintf(o, "rampart_nat_connections{address=\"other\",proto=\"any\"} %" PRIu64 "\n", other);
}

void dp_metrics_write(struct dp_ctx *dp, FILE *o, const struct dp_metrics_info *info)
{
	family(o, "rampart_build_info", "gauge", "The running rampartd's version");
	fputs("rampart_build_info{version=\"", o);
	label(o, info->version);
	fputs("\"} 1\n", o);

	/* ports: what the workers counted, and what the NIC says */
	static const struct {
		const char *name, *help;
		int which;
	} port_fams[] = {
		{"rampart_port_rx_packets_total", "Packets received on the port (by the workers)", 0},
		{"rampart_port_rx_bytes_total", "Bytes received on the port (by the workers)", 1},
		{"rampart_port_tx_packets_total", "Packets sent on the port (by the workers)", 2},
		{"rampart_port_tx_bytes_total", "Bytes sent on the port (by the workers)", 3},
		{"rampart_port_nic_missed_total", "Packets the NIC dropped for want of rx descriptors", 4},
		{"rampart_port_nic_rx_errors_total", "Erroneous packets the NIC received", 5},
		{"rampart_port_nic_tx_errors_total", "Packets the NIC failed to send", 6},
		{"rampart_port_nic_rx_nombuf_total", "Receive buffer allocation failures", 7},
	};
	for (size_t f = 0; f < RTE_DIM(port_fams); f++) {
		family(o, port_fams[f].name, "counter", port_fams[f].help);
		for (unsigned p = 0; p < dp->n_ports; p++) {
			uint64_t v = 0;
			if (port_fams[f].which < 4) {
				for (unsigned i = 0; i < dp->n_workers; i++) {
					const struct dp_port_stats *s = &dp->workers[i]->st.port[p];
					const uint64_t vals[4] = {s->rx_pkts, s->rx_bytes, s->tx_pkts, s->tx_bytes};
					v += vals[port_fams[f].which];
				}
			} else {
				struct rte_eth_stats es;
				memset(&es, 0, sizeof(es));
				rte_eth_stats_get(dp->ports[p].port_id, &es);
				const uint64_t vals[4] = {es.imissed, es.ierrors, es.oerrors, es.rx_nombuf};
				v = vals[port_fams[f].which - 4];
			}
			fputs(port_fams[f].name, o);
			fputs("{port=\"", o);
			label(o, dp->ports[p].name);
			fprintf(o, "\"} %" PRIu64 "\n", v);
		}
	}
	family(o, "rampart_port_dropped_packets_total", "counter",
	       "Packets dropped, by the port they came in on and the reason");
	for (unsigned p = 0; p < dp->n_ports; p++)
		for (unsigned d = 1; d < DP_DROP_MAX; d++) {
			uint64_t v = 0;
			for (unsigned i = 0; i < dp->n_workers; i++)
				v += dp->workers[i]->st.port[p].drop[d];
			fputs("rampart_port_dropped_packets_total{port=\"", o);
			label(o, dp->ports[p].name);
			fprintf(o, "\",reason=\"%s\"} %" PRIu64 "\n", dp_drop_names[d], v);
		}

	/* workers */
	static const struct wcounter wfams[] = {
#define W(n, f, h) {"rampart_worker_" n, h, offsetof(struct dp_wstats, f)}
		W("loops_total", loops, "Poll loop iterations"),
		W("busy_loops_total", busy_loops, "Poll loop iterations that found work"),
		W("punted_total", punted, "Packets sent to the control thread (ARP, ND, resolution)"),
		W("icmp_sent_total", icmp_sent, "ICMP errors and echo replies the box sent"),
		W("rejects_sent_total", rejects_sent, "REJECT answers sent"),
		W("log_dropped_total", log_dropped, "LOG records lost (the logging ring was full)"),
		W("set_requests_total", set_reqs, "-j SET changes queued for the control thread"),
		W("set_requests_lost_total", set_reqs_lost, "-j SET changes lost (the ring was full)"),
		W("tee_sent_total", tee_sent, "-j TEE copies sent towards their gateway"),
		W("tee_lost_total", tee_lost, "-j TEE copies not made (no mbuf, too many waiting)"),
		W("tee_noroute_total", tee_noroute, "-j TEE copies with no route to their gateway"),
		W("handoff_out_total", handoff_out, "Packets handed to another worker (conntrack, NAT)"),
		W("handoff_in_total", handoff_in, "Packets another worker handed over"),
		W("handoff_full_total", handoff_full, "Hand-offs dropped: the ring was full"),
		W("reassembled_total", reassembled, "Datagrams reassembled from fragments"),
		W("frag_failed_total", frag_failed, "Fragments dropped by reassembly"),
		W("tcpmss_rewritten_total", mss_rewritten,
		  "TCP segments whose MSS option TCPMSS lowered or added"),
		W("fragmented_total", fragmented, "Datagrams fragmented on output"),
		W("fast_lane_packets_total", fast,
		  "Packets the router's fast lane forwarded (no rule on their path)"),
		W("established_lane_packets_total", fast_est,
		  "Packets of established connections the router's established lane forwarded"),
#undef W
	};
	worker_counters(o, dp, wfams, RTE_DIM(wfams), wstats_of);

	/* reassembly (the kernel's ReasmTimeout, ReasmOverlaps, ... of nstat) */
	bool ra = false;
	for (unsigned i = 0; i < dp->n_workers; i++)
		ra |= dp->workers[i]->reasm != NULL;
	if (ra) {
		static const struct {
			const char *name, *help;
			uint32_t (*get)(const struct reasm *r);
		} gauges[] = {
			{ "rampart_reasm_pending_datagrams",
			  "Datagrams being reassembled (fragments missing)", reasm_held_dgrams },
			{ "rampart_reasm_held_fragments", "Fragments held for reassembly",
			  reasm_held_frags },
		};
		for (unsigned g = 0; g < RTE_DIM(gauges); g++) {
			family(o, gauges[g].name, "gauge", gauges[g].help);
			for (unsigned i = 0; i < dp->n_workers; i++)
				if (dp->workers[i]->reasm)
					fprintf(o, "%s{worker=\"%u\"} %u\n", gauges[g].name, i,
						gauges[g].get(dp->workers[i]->reasm));
		}
		family(o, "rampart_reasm_discarded_total", "counter",
		       "Datagrams or fragments reassembly gave up, by reason (timeout, evicted, "
		       "overlap, oversize, too_many, ecn: datagrams; dup, bad: fragments)");
		static const char *const why[] = { "timeout", "evicted", "overlap", "dup", "bad",
						   "oversize", "too_many", "ecn" };
		for (unsigned i = 0; i < dp->n_workers; i++) {
			if (!dp->workers[i]->reasm)
				continue;
			const struct reasm_stats *r = reasm_stats(dp->workers[i]->reasm);
			const uint64_t v[] = { r->timeout, r->evicted, r->overlap, r->dup, r->bad,
					       r->oversize, r->too_many, r->ecn };
			for (unsigned k = 0; k < RTE_DIM(why); k++)
				fprintf(o, "rampart_reasm_discarded_total{worker=\"%u\",reason=\"%s\"} %"
					PRIu64 "\n", i, why[k], v[k]);
		}
	}

	/* connection tracking and NAT */
	bool ct = false;
	for (unsigned i = 0; i < dp->n_workers; i++)
		ct |= dp->workers[i]->ct != NULL;
	if (ct) {
		family(o, "rampart_conntrack_entries", "gauge", "Connections in the worker's table");
		for (unsigned i = 0; i < dp->n_workers; i++)
			if (dp->workers[i]->ct)
				fprintf(o, "rampart_conntrack_entries{worker=\"%u\"} %u\n", i,
					__atomic_load_n(&dp->workers[i]->ct->live, __ATOMIC_RELAXED));
		family(o, "rampart_conntrack_max_entries", "gauge", "Size of the worker's table");
		for (unsigned i = 0; i < dp->n_workers; i++)
			if (dp->workers[i]->ct)
				fprintf(o, "rampart_conntrack_max_entries{worker=\"%u\"} %u\n", i,
					dp->workers[i]->ct->max);
		static const struct wcounter cfams[] = {
#define C(n, f, h) {"rampart_conntrack_" n, h, offsetof(struct ct_stats, f)}
			C("found_total", found, "Packets of known connections"),
			C("new_total", new_, "Connections confirmed"),
			C("invalid_total", invalid, "Packets the tracker found INVALID"),
			C("early_drop_total", early_drop, "Connections evicted to make room"),
			C("table_full_drops_total", drop, "New connections dropped: table full"),
			C("insert_failed_total", insert_failed, "Confirmations that failed"),
			C("expired_total", expired, "Connections that timed out"),
			C("related_total", related, "ICMP errors RELATED to a connection"),
			C("expectations_total", expect_new,
			  "Expectations the helpers (CT --helper ftp, tftp) recorded"),
			C("expected_total", expect_match,
			  "New connections that an expectation made RELATED"),
			C("expectations_failed_total", expect_full,
			  "Expectations not recorded: the shared table had no free slot near"),
			C("helper_rewrites_total", help_mangled,
			  "Announcements of translated FTP connections rewritten (nf_nat_ftp)"),
			C("helper_drops_total", help_drop,
			  "Packets dropped because a translated announcement could not be rewritten"),
			C("helper_state_full_total", help_full,
			  "Packets of helper connections that found no room for a state"),
#undef C
		};
		worker_counters(o, dp, cfams, RTE_DIM(cfams), ctstats_of);
		family(o, "rampart_nat_bindings_total", "counter",
		       "NAT bindings made, by kind (src: SNAT/MASQUERADE, dst: DNAT/REDIRECT)");
		for (unsigned i = 0; i < dp->n_workers; i++) {
			const struct nat_stats *s = &dp->workers[i]->nst;
			fprintf(o, "rampart_nat_bindings_total{worker=\"%u\",kind=\"src\"} %" PRIu64 "\n", i,
				s->bind_src);
			fprintf(o, "rampart_nat_bindings_total{worker=\"%u\",kind=\"dst\"} %" PRIu64 "\n", i,
				s->bind_dst);
		}
		static const struct wcounter nfams[] = {
			{"rampart_nat_port_changed_total", "NAT bindings that had to change the source port",
			 offsetof(struct nat_stats, port_changed)},
			{"rampart_nat_allocation_failures_total",
			 "New connections dropped: no free tuple for their NAT binding",
			 offsetof(struct nat_stats, alloc_fail)},
			{"rampart_nat_rss_steered_total",
			 "Source bindings whose replies the NIC's RSS hands to the owning worker",
			 offsetof(struct nat_stats, rss_steered)},
			{"rampart_nat_rss_unsteered_total",
			 "Source bindings on a port with a known RSS whose replies need the hand-off",
			 offsetof(struct nat_stats, rss_unsteered)},
		};
		worker_counters(o, dp, nfams, RTE_DIM(nfams), natstats_of);
		nat_usage(o, dp);
	}

	family(o, "rampart_log_records_total", "counter",
	       "LOG lines written, and NFLOG packets written to a capture or lost (no "
	       "log.nflog.dir, no FIFO reader, a full disk)");
	fprintf(o, "rampart_log_records_total{target=\"LOG\",result=\"written\"} %" PRIu64 "\n",
		dp->logs_written - dp->nflog_written - dp->nflog_lost);
	fprintf(o, "rampart_log_records_total{target=\"NFLOG\",result=\"written\"} %" PRIu64 "\n",
		dp->nflog_written);
	fprintf(o, "rampart_log_records_total{target=\"NFLOG\",result=\"lost\"} %" PRIu64 "\n",
		dp->nflog_lost);

	/* -m hashlimit's tables (a table lives while a program uses it) */
	const struct rules_hl *hl;
	static const char *const hlf[3] = {
		"# HELP rampart_hashlimit_entries Keys held by a -m hashlimit table\n"
		"# TYPE rampart_hashlimit_entries gauge\n",
		"# HELP rampart_hashlimit_max_entries Keys a -m hashlimit table holds at most\n"
		"# TYPE rampart_hashlimit_max_entries gauge\n",
		"# HELP rampart_hashlimit_full_drops_total Packets dropped because their -m hashlimit "
		"table had no room for a new key (the kernel's hotdrop)\n"
		"# TYPE rampart_hashlimit_full_drops_total counter\n",
	};
	for (unsigned k = 0; k < 3 && rules_hl_at(0) != NULL; k++) {
		fputs(hlf[k], o);
		for (unsigned i = 0; (hl = rules_hl_at(i)) != NULL; i++) {
			struct rules_hl_info in;
			rules_hl_info(hl, &in);
			static const char *const nm[3] = { "rampart_hashlimit_entries",
				"rampart_hashlimit_max_entries", "rampart_hashlimit_full_drops_total" };
			fprintf(o, "%s{table=\"", nm[k]);
			label(o, in.name);
			fprintf(o, "\",family=\"ipv%u\"} %" PRIu64 "\n", in.cfg.fam,
				k == 0 ? (uint64_t)in.live : k == 1 ? (uint64_t)in.cfg.max : in.full);
		}
	}

	/* the ruleset */
	const struct dp_rules *R = dp->rules;
	family(o, "rampart_ruleset_generation", "gauge",
	       "Generation of the published ruleset (counts installs; 0: none)");
	fprintf(o, "rampart_ruleset_generation %u\n", R ? R->gen : 0);
	family(o, "rampart_ruleset_last_reload_success", "gauge",
	       "1 if the last ruleset load or reload succeeded");
	fprintf(o, "rampart_ruleset_last_reload_success %d\n", info->reload_ok ? 1 : 0);
	family(o, "rampart_ruleset_last_reload_timestamp_seconds", "gauge",
	       "Time of the last ruleset load or reload attempt (Unix time)");
	fprintf(o, "rampart_ruleset_last_reload_timestamp_seconds %" PRIu64 "\n", info->reload_time);
	family(o, "rampart_set_target_changes_total", "counter",
	       "Changes of sets made for -j SET (each a batch of requests)");
	fprintf(o, "rampart_set_target_changes_total %" PRIu64 "\n", info->set_changes);
	family(o, "rampart_set_target_dropped_total", "counter",
	       "-j SET requests the control thread dropped (a set full, too many waiting)");
	fprintf(o, "rampart_set_target_dropped_total %" PRIu64 "\n", info->set_dropped);
	rules_metrics(o, dp, R);
}
