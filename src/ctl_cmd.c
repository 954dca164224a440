/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cmd: what the control socket's requests do (ctl.h). Control thread.
 *
 * Ruleset changes all go the same way: a copy of the live ruleset with
 * its live counters (dp_rules_snapshot), the change applied to the copy
 * with the iptables-restore parser (one-shot commands such as
 * "-t nat -A POSTROUTING ..." become a one-line restore --noflush), the
 * whole copy validated, then dp_rules_update() compiles it, swaps it in
 * with one pointer store and waits for every worker to pass a quiescent
 * state; rules that existed before keep their counters. A change that
 * fails anywhere changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "ct_help.h"
#include "ctl.h"
#include "dp.h"
#include "dp_ct.h"
#include "dp_metrics.h"
#include "dp_trace.h"
#include "json.h"
#include "log.h"
#include "rampart_version.h"
#include "rules.h"
#include "rules_prog.h"
#include "rules_hashlimit.h"
#include "rules_recent.h"
#include "ruleset.h"

/* ---- conntrack ---- */

struct list_arg {
	FILE *out;
	struct json *j; /* --json */
	char line[1024];
};

static const char *const ct_status_names[] = { "EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED",
					       "SRC_NAT", "DST_NAT" };

/* One direction of a connection, as conntrack -L shows it. */
static void json_tuple(struct json *j, const struct ct_table *v, unsigned dir)
{
	const struct ct_entry *e = &v->e[0];
	struct ct_tuple k;
	char a[INET6_ADDRSTRLEN];
	int af = e->fam == 4 ? AF_INET : AF_INET6;
	ct_entry_tuple(v, 0, dir, &k);
	json_obj(j);
	json_kstr(j, "src", inet_ntop(af, k.src, a, sizeof(a)));
	json_kstr(j, "dst", inet_ntop(af, k.dst, a, sizeof(a)));
	if (k.proto == 1 || k.proto == 58) {
		json_ku64(j, "type", k.dport >> 8);
		json_ku64(j, "code", k.dport & 0xff);
		json_ku64(j, "id", k.sport);
	} else if (ct_proto_has_ports(k.proto)) {
		json_ku64(j, "sport", k.sport);
		json_ku64(j, "dport", k.dport);
	} else if (k.proto == 47) {
		json_ku64(j, "srckey", k.sport);
		json_ku64(j, "dstkey", k.dport);
	}
	json_ku64(j, "packets", ct_pkts(e, dir));
	json_ku64(j, "bytes", ct_bytes(e, dir));
	json_obj_end(j);
}

/* conntrack -L --json: one object per connection, the fields of the text
 * (json_entry); conntrack -E --json: one per event (event first). */
static void json_entry_fields(struct json *j, unsigned worker, const struct ct_table *v,
	uint32_t now)
{
	const struct ct_entry *e = &v->e[0];
	int32_t left = (int32_t)(e->expire - now);
	json_kstr(j, "family", e->fam == 4 ? "ipv4" : "ipv6");
	json_kstr(j, "proto", ct_proto_name(e->proto));
	json_ku64(j, "protonum", e->proto);
	json_ku64(j, "timeout", left > 0 ? (unsigned)left / CT_HZ : 0);
	if (ct_state_name(e) != NULL)
		json_kstr(j, "state", ct_state_name(e));
	json_key(j, "original");
	json_tuple(j, v, 0);
	json_key(j, "reply");
	json_tuple(j, v, 1);
	json_key(j, "status");
	json_arr(j);
	for (unsigned b = 0; b < sizeof(ct_status_names) / sizeof(ct_status_names[0]); b++)
		if (e->status & (1u << b))
			json_str(j, ct_status_names[b]);
	json_arr_end(j);
	json_kbool(j, "unreplied", !(e->status & CT_S_SEEN_REPLY));
	json_kbool(j, "assured", e->status & CT_S_ASSURED);
	json_ku64(j, "mark", ct_mark(v, e));
	/* zones (CT --zone): the id of each direction, when not the default */
	uint32_t z = ct_zones_of(v, 0);
	if ((uint16_t)z != 0)
		json_ku64(j, "zone_orig", (uint16_t)z);
	if ((uint16_t)(z >> 16) != 0)
		json_ku64(j, "zone_reply", (uint16_t)(z >> 16));
	if (ct_helper(e) != CT_HELPER_NONE && ct_helper(e) < CT_HELPER_MAX)
		json_kstr(j, "helper", ct_helper_names[ct_helper(e)]);
	json_ku64(j, "worker", worker);
}

static void json_entry(struct json *j, unsigned worker, const struct ct_table *v, uint32_t now)
{
	json_obj(j);
	json_entry_fields(j, worker, v, now);
	json_obj_end(j);
}

static int print_entry(void *arg, unsigned worker, const struct ct_table *v, uint32_t now)
{
	struct list_arg *a = arg;
	if (a->j != NULL) {
		json_entry(a->j, worker, v, now);
		return ferror(a->out) ? -1 : 0;
	}
	ct_format(v, 0, now, a->line, sizeof(a->line));
	return fprintf(a->out, "%s\n", a->line) < 0 ? -1 : 0;
}

static void cmd_conntrack(struct dp_ctx *dp, int argc, char **argv, FILE *out, bool json)
{
	char err[256];
	if (argc < 2) {
		fprintf(out, "%%%% error: conntrack needs a command: -L, -C, -D, -F, -S or -E\n");
		return;
	}
	const char *op = argv[1];
	if (argc == 3 && !strcmp(argv[2], "expect")) {
		/* the helpers' expectations, as conntrack -L/-C/-F expect */
		bool list = !strcmp(op, "-L") || !strcmp(op, "--dump");
		bool count = !strcmp(op, "-C") || !strcmp(op, "--count");
		bool flush = !strcmp(op, "-F") || !strcmp(op, "--flush");
		if (!list && !count && !flush) {
			fprintf(out, "%%%% error: conntrack: expect goes with -L, -C or -F\n");
			return;
		}
		struct json j;
		if (list && json) {
			json_init(&j, out);
			json_arr(&j);
		}
		/* with neither a stream nor flush, it only counts */
		int n = dp_ct_expect_list(dp, list ? out : NULL, list && json ? &j : NULL, flush);
		if (list && json) {
			json_arr_end(&j);
			fputc('\n', out);
		}
		if (list)
			fprintf(out, "%%%% ok %d expectations have been shown.\n", n);
		else if (count)
			fprintf(out, "%d\n%%%% ok\n", n);
		else
			fprintf(out, "%%%% ok expectation table has been emptied (%d entries).\n", n);
		return;
	}
	struct dp_ct_filter f;
	int used = 0;
	if (dp_ct_filter_parse(&f, argc - 2, argv + 2, &used, err, sizeof(err)) < 0) {
		fprintf(out, "%%%% error: conntrack: %s\n", err);
		return;
	}
	if (used != argc - 2) {
		fprintf(out, "%%%% error: conntrack: unexpected '%s'\n", argv[2 + used]);
		return;
	}
	bool filtered = argc > 2;
	if (!strcmp(op, "-L") || !strcmp(op, "--dump")) {
		/* --json: streamed as the walk goes, "[" first and "]" last; a
		 * walk that fails leaves the array open (a truncated listing
		 * must not parse as a whole one) before its error line */
		struct json j;
		struct list_arg a = { .out = out, .j = json ? &j : NULL };
		if (json) {
			json_init(&j, out);
			json_arr(&j);
		}
		int n = dp_ct_walk(dp, &f, false, print_entry, &a, err, sizeof(err));
		if (n < 0) {
			fprintf(out, "%s%%%% error: conntrack: %s\n", json ? "\n" : "", err);
			return;
		}
		if (json) {
			json_arr_end(&j);
			fputc('\n', out);
		}
		fprintf(out, "%%%% ok %d flow entries have been shown.\n", n);
	} else if (!strcmp(op, "-C") || !strcmp(op, "--count")) {
		if (!filtered) {
			fprintf(out, "%u\n%%%% ok\n", dp_ct_count(dp));
			return;
		}
		int n = dp_ct_walk(dp, &f, false, NULL, NULL, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%d\n%%%% ok\n", n);
	} else if (!strcmp(op, "-D") || !strcmp(op, "--delete")) {
		struct list_arg a = { .out = out };
		int n = dp_ct_walk(dp, &f, true, print_entry, &a, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%%%% ok %d flow entries have been deleted.\n", n);
	} else if (!strcmp(op, "-U") || !strcmp(op, "--update")) {
		/* conntrack(8): -m/--mark is the new mark (value[/mask]: the
		 * bits of mask replaced), not a filter */
		if (!f.has_mark) {
			fprintf(out, "%%%% error: conntrack -U needs the new mark: -m MARK[/MASK]\n");
			return;
		}
		uint32_t value = f.mark, mask = f.mask;
		f.has_mark = false;
		struct list_arg a = { .out = out };
		int n = dp_ct_update_mark(dp, &f, value, mask, print_entry, &a, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%%%% ok %d flow entries have been updated.\n", n);
	} else if (!strcmp(op, "-F") || !strcmp(op, "--flush")) {
		if (filtered) {
			fprintf(out, "%%%% error: conntrack -F takes no filter (use -D)\n");
			return;
		}
		int n = dp_ct_flush(dp, err, sizeof(err));
		if (n < 0)
			fprintf(out, "%%%% error: conntrack: %s\n", err);
		else
			fprintf(out, "%%%% ok connection tracking table has been emptied (%d entries).\n",
				n);
	} else if (!strcmp(op, "-S") || !strcmp(op, "--stats")) {
		struct json j;
		json_init(&j, out);
		dp_ct_stats(dp, out, json ? &j : NULL);
		fprintf(out, "%s%%%% ok\n", json ? "\n" : "");
	} else {
		fprintf(out, "%%%% error: conntrack: unknown command '%s' (-L, -C, -D, -U, -F, -S, -E)\n", op);
	}
}

/* ---- show nat ---- */

#define NAT_ADDRS_MAX 256 /* (worker, address, protocol) groups shown */

struct nat_group {
	unsigned worker;
	uint8_t fam, proto;
	bool src;            /* source translation (else destination) */
	uint8_t addr[16];
	uint64_t conns;
	uint32_t ports;      /* distinct ports in use */
	uint8_t *bits;       /* 65536-bit map of the ports (source translations) */
};

struct nat_arg {
	struct nat_group g[NAT_ADDRS_MAX];
	unsigned n;
	bool truncated;
};

static int tally_nat(void *arg, unsigned worker, const struct ct_table *v, uint32_t now)
{
	struct nat_arg *a = arg;
	const struct ct_entry *e = &v->e[0];
	(void)now;
	if (!(e->status & (CT_S_SRC_NAT | CT_S_DST_NAT)))
		return 0;
	struct ct_tuple r;
	ct_entry_tuple(v, 0, 1, &r);
	for (int k = 0; k < 2; k++) {
		bool src = k == 0;
		if (!(e->status & (src ? CT_S_SRC_NAT : CT_S_DST_NAT)))
			continue;
		/* the translated address: the reply's destination (SNAT) or source (DNAT) */
		const uint8_t *addr = src ? r.dst : r.src;
		uint16_t port = e->proto == 1 || e->proto == 58 ? r.sport : src ? r.dport : r.sport;
		struct nat_group *g = NULL;
		for (unsigned i = 0; i < a->n; i++)
			if (a->g[i].worker == worker && a->g[i].src == src && a->g[i].proto == e->proto &&
			    memcmp(a->g[i].addr, addr, 16) == 0) {
				g = &a->g[i];
				break;
			}
		if (g == NULL) {
			if (a->n == NAT_ADDRS_MAX) {
				a->truncated = true;
				continue;
			}
			g = &a->g[a->n++];
			memset(g, 0, sizeof(*g));
			g->worker = worker;
			g->src = src;
			g->fam = e->fam;
			g->proto = e->proto;
			memcpy(g->addr, addr, 16);
			if (src && (g->bits = calloc(1, 65536 / 8)) == NULL)
				return -1;
		}
		g->conns++;
		if (g->bits && !(g->bits[port >> 3] & (1u << (port & 7)))) {
			g->bits[port >> 3] |= (uint8_t)(1u << (port & 7));
			g->ports++;
		}
	}
	return 0;
}

/* Per worker: the addresses connections are translated to, with their
 * connections and (source translations) the ports in use, by protocol;
 * then the binding counters. */
static void cmd_show_nat(struct dp_ctx *dp, FILE *out, bool json)
{
	char err[256];
	struct nat_arg *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		return;
	}
	struct dp_ct_filter f;
	dp_ct_filter_init(&f);
	int n = dp_ct_walk(dp, &f, false, tally_nat, a, err, sizeof(err));
	if (n < 0) {
		fprintf(out, "%%%% error: show nat: %s\n", err);
	} else {
		struct json j;
		json_init(&j, out);
		if (json) {
			json_obj(&j);
			json_key(&j, "addresses");
			json_arr(&j);
		}
		for (unsigned i = 0; i < a->n; i++) {
			const struct nat_group *g = &a->g[i];
			char ab[INET6_ADDRSTRLEN];
			inet_ntop(g->fam == 4 ? AF_INET : AF_INET6, g->addr, ab, sizeof(ab));
			const char *pn = ct_proto_name(g->proto);
			if (!strcmp(pn, "unknown"))
				pn = "other";
			if (json) {
				json_obj(&j);
				json_ku64(&j, "worker", g->worker);
				json_kstr(&j, "type", g->src ? "snat" : "dnat");
				json_kstr(&j, "address", ab);
				json_kstr(&j, "proto", pn);
				json_ku64(&j, "connections", g->conns);
				if (g->src)
					json_ku64(&j, "ports", g->ports);
				json_obj_end(&j);
			} else if (g->src)
				fprintf(out, "worker=%u snat address=%s proto=%s connections=%" PRIu64
					" ports=%u\n", g->worker, ab, pn, g->conns, g->ports);
			else
				fprintf(out, "worker=%u dnat address=%s proto=%s connections=%" PRIu64 "\n",
					g->worker, ab, pn, g->conns);
		}
		if (json) {
			json_arr_end(&j);
			json_kbool(&j, "truncated", a->truncated);
			json_key(&j, "workers");
		}
		dp_nat_stats(dp, out, json ? &j : NULL);
		if (json) {
			json_obj_end(&j);
			fputc('\n', out);
		}
		if (a->truncated)
			fprintf(out, "%%%% ok only the first %d addresses are shown\n", NAT_ADDRS_MAX);
		else
			fprintf(out, "%%%% ok\n");
	}
	for (unsigned i = 0; i < a->n; i++)
		free(a->g[i].bits);
	free(a);
}

/* ---- ruleset changes ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_info(struct rp_ctl_env *env, bool ok)
{
	if (env->info != NULL) {
		env->info->reload_ok = ok;
		env->info->reload_time = (uint64_t)time(NULL);
	}
}

/* Validate and publish rs (taken in every case). 0 or -1 with err. */
static int apply(struct rp_ctl_env *env, struct rules_ruleset *rs, bool inherit, const char *what,
	char *err, size_t errlen)
{
	if (rules_validate(rs, what, err, errlen) < 0) {
		rules_free(rs);
		set_info(env, false);
		return -1;
	}
	uint64_t us = 0;
	if (dp_rules_update(env->dp, rs, inherit, err, errlen, &us) < 0) {
		rules_free(rs);
		set_info(env, false);
		return -1;
	}
	env->last_apply_us = us;
	env->last_change_ms = now_ms();
	set_info(env, true);
	return 0;
}

/* The sets of rs whose entries differ from the live ones made live alone
 * (dp_sets_commit: no ruleset change, nothing else reset); rs freed. */
static int commit_sets(struct rp_ctl_env *env, struct rules_ruleset *rs, uint64_t *us, char *err,
	size_t errlen)
{
	int rc = dp_sets_commit(env->dp, rs->sets, rs->n_sets, us, err, errlen);
	rules_free(rs);
	return rc;
}

/* A ruleset holding copies of the live sets named, nothing else (a change
 * of sets alone costs no copy of the rules); NULL with err. */
static struct rules_ruleset *sets_only(struct rp_ctl_env *env, char *const *names, size_t n,
	char *err, size_t errlen)
{
	struct rules_ruleset *rs = rules_new();
	if (rs == NULL || (n && (rs->sets = calloc(n, sizeof(*rs->sets))) == NULL)) {
		rules_free(rs);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rs->cap_sets = n;
	for (size_t i = 0; i < n; i++) {
		int rc = dp_set_copy(env->dp, names[i], &rs->sets[rs->n_sets]);
		if (rc == -ENOENT) {
			snprintf(err, errlen, "set %s doesn't exist", names[i]);
		} else if (rc < 0) {
			snprintf(err, errlen, "out of memory");
		} else {
			rs->n_sets++;
			continue;
		}
		rules_free(rs);
		return NULL;
	}
	return rs;
}

struct expired_view {
	uint64_t now;
	size_t n;
	uint32_t period_s;
	char **names; /* the timeout sets with expired entries (into the live ruleset) */
	size_t n_names;
};

static void expired_of(const struct rules_ruleset *rs, void *arg)
{
	struct expired_view *v = arg;
	v->n = rules_ipset_expired(rs, v->now, &v->period_s);
	if (v->n == 0 || (v->names = calloc(rs->n_sets, sizeof(*v->names))) == NULL)
		return;
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct rules_set *s = &rs->sets[i];
		bool any = false;
		for (size_t j = 0; s->has_timeout && j < s->n && !any; j++)
			any = !rules_set_entry_live(&s->e[j], v->now);
		if (any)
			v->names[v->n_names++] = (char *)s->name;
	}
}

/* Timeout sets: their expired entries, which match nothing already, leave
 * the sets once per ipset's gc period (the sets alone are swapped). */
static void purge_sets(struct rp_ctl_env *env)
{
	uint64_t ms = now_ms();
	if (ms - env->set_check_ms < 1000)
		return;
	env->set_check_ms = ms;
	struct expired_view v = { .now = rules_clock_us() };
	if (dp_rules_view(env->dp, expired_of, &v) < 0 || v.n == 0 || v.names == NULL ||
	    ms - env->set_purge_ms < (uint64_t)v.period_s * 1000) {
		free(v.names);
		return;
	}
	env->set_purge_ms = ms;
	char err[RULES_ERR_MAX];
	/* the names point into the live ruleset, which nothing changes meanwhile */
	struct rules_ruleset *rs = sets_only(env, v.names, v.n_names, err, sizeof(err));
	free(v.names);
	if (rs == NULL) {
		RP_WARN("ctl", "taking expired set entries out failed: %s", err);
		return;
	}
	size_t gone = rules_ipset_purge(rs, v.now);
	if (commit_sets(env, rs, NULL, err, sizeof(err)) < 0) {
		RP_WARN("ctl", "taking expired set entries out failed: %s", err);
		return;
	}
	RP_INFO("ctl", "%zu expired set entries taken out", gone);
}

/* ---- -j SET ----
 *
 * Workers queue each -j SET they run (dp_set_reqs_drain). Here each is
 * held against the live set: an add of an entry that is there (and not
 * expired) changes nothing, or with --exist gives it its timeout again in
 * place; a delete of an entry that is not there changes nothing. What is
 * left (new entries, deletions) waits in set_pend, in order, and goes in
 * as one change of the sets it touches (copies of them, compiled and
 * swapped alone: dp_sets_commit), at most one per max(2 ms, 10 x the last
 * one's duration): a flood of new addresses costs the control thread a
 * tenth of its time, never the workers'. A request whose entry already
 * waits is not held against the live set (it must come after the waiting
 * one), and everything waiting goes in before any rampartctl command or
 * reload (set_requests_now), so changes keep the order they were made in. */
#define SET_PEND_MAX 65536u
#define SET_DRAIN 256u
#define SET_KEYS (2 * SET_PEND_MAX) /* a power of two */

static uint64_t set_key_hash(const char *name, const struct rules_set_entry *e)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	return rules_set_entry_hash(e, h) | 1; /* 0: a free slot */
}

/* set_keys: the hashes of the waiting requests' entries (open addressing;
 * a hash collision only costs a skipped shortcut) */
static bool set_key_waits(const struct rp_ctl_env *env, uint64_t h)
{
	for (size_t at = h & (SET_KEYS - 1);; at = (at + 1) & (SET_KEYS - 1)) {
		if (env->set_keys[at] == h)
			return true;
		if (env->set_keys[at] == 0)
			return false;
	}
}

/* (at most SET_PEND_MAX keys in twice as many slots: never full) */
static void set_key_add(struct rp_ctl_env *env, uint64_t h)
{
	size_t at = h & (SET_KEYS - 1);
	while (env->set_keys[at] != 0 && env->set_keys[at] != h)
		at = (at + 1) & (SET_KEYS - 1);
	if (env->set_keys[at] == 0) {
		env->set_keys[at] = h;
		env->set_key_at[env->set_n_keys++] = (uint32_t)at;
	}
}

/* All the waiting requests' keys out: the slots they took, as logged */
static void set_keys_clear(struct rp_ctl_env *env)
{
	for (size_t k = 0; k < env->set_n_keys; k++)
		env->set_keys[env->set_key_at[k]] = 0;
	env->set_n_keys = 0;
}

/* a set copied for a batch, with its live entries counted (maxelem) */
struct set_copy {
	struct rules_set s;
	size_t live;
};

struct set_slot {
	uint64_t h;
	long idx;        /* the entry's index in its copy */
	uint32_t copy;   /* which copy */
};

static void set_apply_pending(struct rp_ctl_env *env)
{
	uint64_t t0 = now_ms();
	size_t n_pend = env->set_n_pend;
	env->set_n_pend = 0;
	set_keys_clear(env);
	size_t cap = 2;
	while (cap < 2 * n_pend)
		cap <<= 1;
	struct set_slot *tab = calloc(cap, sizeof(*tab));
	struct set_copy *cp = NULL;
	size_t n_cp = 0, cap_cp = 0, changed = 0;
	if (tab == NULL)
		goto oom;
	uint64_t now = rules_clock_us();
	for (size_t k = 0; k < n_pend; k++) {
		const struct rules_set_req *q = &env->set_pend[k];
		size_t ci = 0;
		while (ci < n_cp && strcmp(cp[ci].s.name, q->name) != 0)
			ci++;
		if (ci == n_cp) {
			if (n_cp == cap_cp) {
				size_t nc = cap_cp ? 2 * cap_cp : 4;
				struct set_copy *x = realloc(cp, nc * sizeof(*cp));
				if (x == NULL)
					goto oom;
				cp = x;
				cap_cp = nc;
			}
			int rc = dp_set_copy(env->dp, q->name, &cp[n_cp].s);
			if (rc == -ENOENT)
				continue; /* gone with a ruleset change */
			if (rc < 0)
				goto oom;
			cp[n_cp].live = 0;
			for (size_t j = 0; j < cp[n_cp].s.n; j++)
				cp[n_cp].live += rules_set_entry_live(&cp[n_cp].s.e[j], now);
			n_cp++;
		}
		struct rules_set *s = &cp[ci].s;
		if (s->type != q->type || s->fam != q->fam)
			continue; /* the set was made again, of another kind */
		if (s->type == RULES_SET_BITMAP_IP) {
			/* made by a worker for the set as it was: it must still be
			 * one of its blocks (a reload may change range or netmask) */
			if (!rules_bitmap_ip_holds(s, &q->e)) {
				env->set_dropped++;
				continue;
			}
		}
		uint64_t h = set_key_hash(q->name, &q->e);
		size_t at = h & (cap - 1);
		long idx = -1;
		while (tab[at].h) {
			if (tab[at].h == h && tab[at].copy == ci && rules_set_entry_same(&s->e[tab[at].idx], &q->e)) {
				idx = tab[at].idx;
				break;
			}
			at = (at + 1) & (cap - 1);
		}
		bool seen = idx >= 0;
		if (!seen) {
			/* not touched by this batch: where the live set has it (the
			 * copy's indexes are the live ones until it appends) */
			bool live;
			idx = dp_set_lookup(env->dp, q, now, &live);
			if (idx < 0)
				idx = -1;
		}
		bool alive = idx >= 0 && rules_set_entry_live(&s->e[idx], now);
		if (q->op == RULES_SETREQ_ADD) {
			if (alive && !q->exist)
				continue;
			if (!alive && cp[ci].live >= s->maxelem) {
				env->set_dropped++; /* full: the kernel's add fails too */
				continue;
			}
			uint64_t exp = rules_set_exp(s, q->timeout, now);
			if (idx >= 0) { /* renewed, or expired/deleted and back: as
					   xt_SET's add overwrites an element, no longer
					   an exception; a live one keeps its comment (what
					   the kernel was seen to do), one that was gone
					   comes back without */
				s->e[idx].exp_us = exp;
				s->e[idx].nomatch = 0;
				if (!alive)
					s->e[idx].cmt = 0;
			} else {
				struct rules_set_entry e = q->e;
				e.exp_us = exp;
				/* past maxelem while dead entries wait for the purge below;
				 * refused only at the loader's bound (or out of memory) */
				if ((idx = rules_set_append(s, &e, SIZE_MAX)) < 0) {
					env->set_dropped++;
					continue;
				}
			}
			cp[ci].live += !alive;
		} else {
			if (!alive)
				continue;
			s->e[idx].exp_us = 1; /* long expired: taken out below */
			cp[ci].live--;
		}
		changed++;
		if (!seen) {
			tab[at].h = h;
			tab[at].copy = (uint32_t)ci;
			tab[at].idx = idx;
		}
	}
	free(tab);
	tab = NULL;
	if (changed) {
		struct rules_set *sets = malloc((n_cp ? n_cp : 1) * sizeof(*sets));
		if (sets == NULL)
			goto oom;
		for (size_t i = 0; i < n_cp; i++) {
			rules_set_purge(&cp[i].s, now);
			sets[i] = cp[i].s;
		}
		char err[RULES_ERR_MAX];
		if (dp_sets_commit(env->dp, sets, n_cp, NULL, err, sizeof(err)) < 0) {
			RP_WARN("ctl", "-j SET: the change failed: %s", err);
			env->set_dropped += changed;
		} else {
			env->set_changes++;
		}
		for (size_t i = 0; i < n_cp; i++)
			cp[i].s = sets[i]; /* the old entries, now the copies' */
		free(sets);
	}
	for (size_t i = 0; i < n_cp; i++)
		rules_set_release(&cp[i].s);
	free(cp);
	uint64_t took = now_ms() - t0;
	env->set_next_ms = now_ms() + (took * 10 > 2 ? took * 10 : 2);
	return;
oom:
	RP_WARN("ctl", "-j SET: out of memory, %zu changes dropped", n_pend);
	env->set_dropped += n_pend;
	free(tab);
	for (size_t i = 0; i < n_cp; i++)
		rules_set_release(&cp[i].s);
	free(cp);
}

/* What the workers queued, taken in; force: what waits goes in now. */
static void set_requests_take(struct rp_ctl_env *env, bool force)
{
	struct rules_set_req q[SET_DRAIN];
	uint64_t now = rules_clock_us();
	for (unsigned round = 0; round < 16; round++) {
		unsigned n = dp_set_reqs_drain(env->dp, q, SET_DRAIN);
		for (unsigned k = 0; k < n; k++) {
			if (env->set_pend == NULL) {
				env->set_pend = malloc(SET_PEND_MAX * sizeof(*env->set_pend));
				env->set_keys = calloc(SET_KEYS, sizeof(*env->set_keys));
				env->set_key_at = malloc(SET_PEND_MAX * sizeof(*env->set_key_at));
				if (env->set_pend == NULL || env->set_keys == NULL ||
				    env->set_key_at == NULL) {
					rp_ctl_env_release(env);
					env->set_dropped++;
					continue;
				}
			}
			uint64_t h = set_key_hash(q[k].name, &q[k].e);
			if (env->set_n_pend == 0 || !set_key_waits(env, h)) {
				bool live;
				long i = dp_set_lookup(env->dp, &q[k], now, &live);
				if (i == -2)
					continue;
				if (q[k].op == RULES_SETREQ_ADD && i >= 0 && live &&
				    (!q[k].exist || dp_set_renew(env->dp, &q[k], now)))
					continue;
				if (q[k].op == RULES_SETREQ_DEL && (i < 0 || !live))
					continue;
			}
			if (env->set_n_pend == SET_PEND_MAX) {
				env->set_dropped++;
				continue;
			}
			env->set_pend[env->set_n_pend++] = q[k];
			set_key_add(env, h);
		}
		if (n < SET_DRAIN)
			break;
	}
	if (env->set_dropped != env->set_dropped_logged && now_ms() - env->set_log_ms >= 1000) {
		env->set_log_ms = now_ms();
		RP_WARN("ctl", "-j SET: %" PRIu64 " changes dropped so far (a set full, or too many "
			       "waiting)", env->set_dropped);
		env->set_dropped_logged = env->set_dropped;
	}
	if (env->set_n_pend && (force || now_ms() >= env->set_next_ms))
		set_apply_pending(env);
	if (env->info != NULL) { /* the metrics' view */
		env->info->set_changes = env->set_changes;
		env->info->set_dropped = env->set_dropped;
	}
}

void rp_ctl_set_requests_now(struct rp_ctl_env *env)
{
	set_requests_take(env, true);
}

void rp_ctl_env_release(struct rp_ctl_env *env)
{
	free(env->set_pend);
	free(env->set_keys);
	free(env->set_key_at);
	env->set_pend = NULL;
	env->set_keys = NULL;
	env->set_key_at = NULL;
	env->set_n_pend = env->set_n_keys = 0;
}

void rp_ctl_tick(struct rp_ctl_env *env)
{
	set_requests_take(env, false);
	/* -m hashlimit: idle entries leave their tables every gc interval */
	rules_hl_gc(dp_rules_clock_us(env->dp), 1u << 16);
	purge_sets(env);
	/* a change that reused classifiers leaves appended rules walked in
	 * order: once changes pause for a second, build them all again */
	if (!dp_rules_tailed(env->dp) || now_ms() - env->last_change_ms < 1000)
		return;
	char err[RULES_ERR_MAX];
	uint64_t t0 = now_ms();
	if (dp_rules_rebuild(env->dp, err, sizeof(err)) < 0) {
		RP_WARN("ctl", "rebuilding the classifiers failed (the running program stays): %s", err);
		env->last_change_ms = now_ms(); /* try again later */
		return;
	}
	RP_INFO("ctl", "classifiers rebuilt after appends: ruleset %" PRIu32 " in %" PRIu64 " ms",
		dp_rules_generation(env->dp), now_ms() - t0);
}

static void answer_applied(struct rp_ctl_env *env, FILE *out)
{
	fprintf(out, "%%%% ok ruleset %" PRIu32 " live on every worker in %" PRIu64 ".%03" PRIu64
		" ms\n", dp_rules_generation(env->dp), env->last_apply_us / 1000,
		env->last_apply_us % 1000);
}

/* "request:2:col: message" -> "message" (one-line requests: the
 * message names the option) */
static const char *strip_where(const char *err)
{
	if (strncmp(err, "request:", 8) != 0)
		return err;
	const char *p = err;
	for (int colons = 0; *p && colons < 3; p++)
		if (*p == ':')
			colons++;
	while (*p == ' ')
		p++;
	return *p ? p : err;
}

/* The end of every change: with --test only check rs (compiled for this
 * dataplane, nothing changes), else make it live; answer either way. rs is
 * taken. */
static void finish(struct rp_ctl_env *env, struct rules_ruleset *rs, bool test, bool inherit,
	const char *name, FILE *out)
{
	char err[RULES_ERR_MAX];
	if (test) {
		int ok = rules_validate(rs, name, err, sizeof(err)) == 0 &&
			dp_rules_check(env->dp, rs, err, sizeof(err)) == 0;
		rules_free(rs);
		if (ok)
			fprintf(out, "%%%% ok %s is valid (nothing changed)\n", name);
		else
			fprintf(out, "%%%% error: %s\n", strip_where(err));
		return;
	}
	if (apply(env, rs, inherit, name, err, sizeof(err)) < 0) {
		fprintf(out, "%%%% error: %s\n", strip_where(err));
		return;
	}
	answer_applied(env, out);
}

/* Rules restored without -c start from zero (the file's counters are
 * ignored, as iptables-restore does), rules kept by --noflush keep theirs. */
static void zero_new_counters(struct rules_ruleset *rs)
{
	for (int t = 0; t < RULES_T_COUNT; t++)
		for (size_t i = 0; i < rs->tables[t].n_chains; i++) {
			struct rules_chain *c = &rs->tables[t].chains[i];
			for (size_t j = 0; j < c->n_rules; j++)
				if (c->rules[j].id == 0)
					c->rules[j].pkts = c->rules[j].bytes = 0;
			for (int fi = 0; fi < 2; fi++)
				if (c->ctr_set & (1u << fi))
					c->pkts[fi] = c->bytes[fi] = 0;
		}
}

/* A word as the iptables-restore tokenizer reads it back. */
static void put_word(FILE *f, const char *w)
{
	if (*w && strpbrk(w, " \t\"\\'") == NULL) {
		fputs(w, f);
		return;
	}
	fputc('"', f);
	for (; *w; w++) {
		if (*w == '"' || *w == '\\')
			fputc('\\', f);
		fputc(*w, f);
	}
	fputc('"', f);
}

static const struct {
	const char *lng;
	char shrt;
} ipt_cmds[] = {
	{ "append", 'A' }, { "insert", 'I' }, { "delete", 'D' }, { "replace", 'R' },
	{ "new-chain", 'N' }, { "delete-chain", 'X' }, { "rename-chain", 'E' }, { "flush", 'F' },
	{ "zero", 'Z' }, { "policy", 'P' }, { "list", 'L' }, { "list-rules", 'S' }, { "check", 'C' },
};

/* The command letter of an iptables-style request, 0 if none. */
static char ipt_command(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			continue;
		if (a[1] == '-') {
			for (size_t k = 0; k < sizeof(ipt_cmds) / sizeof(ipt_cmds[0]); k++)
				if (!strcmp(a + 2, ipt_cmds[k].lng))
					return ipt_cmds[k].shrt;
		} else if (a[1] && !a[2] && strchr("AIDRNXEFZPLSC", a[1])) {
			return a[1];
		}
	}
	return 0;
}

#include "ipt_list.h"

/* A listing of the live ruleset (dp_rules_view: no copy). */
enum view_kind { VIEW_LIST, VIEW_SPEC, VIEW_SAVE, VIEW_YAML, VIEW_SETS, VIEW_SETSUM, VIEW_JSON };
struct view {
	enum view_kind kind;
	int fam, table; /* table -1: all (save) */
	const char *chain;
	long rulenum;
	unsigned flags;
	char *out;
	int err;
};

/*
 * -L/-S --json: {"family","table","chains":[{"name", built-ins: "policy",
 * "packets", "bytes" (the policy's counters); user chains: "references";
 * "rules":[{"num","packets","bytes","rule" (iptables-save text),
 * "target", "goto" (-g), "comment" (-m comment)}]}]}, counters exact.
 * chain NULL: every chain listed; rulenum > 0: that rule of chain alone.
 * Text with its newline, or NULL with errno (ENOENT: no such chain).
 */
static char *ipt_json(const struct rules_ruleset *rs, int fam, int t, const char *chain,
	long rulenum)
{
	const struct rules_table *tb = &rs->tables[t];
	const struct rules_chain *only = NULL;
	if (chain != NULL) {
		for (size_t i = 0; i < tb->n_chains && only == NULL; i++)
			if (!strcmp(tb->chains[i].name, chain) &&
			    rules_ipt_chain_listed(&tb->chains[i], fam))
				only = &tb->chains[i];
		if (only == NULL) {
			errno = ENOENT;
			return NULL;
		}
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	bool oom = false;
	int fi = fam == RULES_F_V6;
	struct json j;
	json_init(&j, f);
	json_obj(&j);
	json_kstr(&j, "family", fam == RULES_F_V6 ? "ipv6" : "ipv4");
	json_kstr(&j, "table", rules_table_name((enum rules_table_id)t));
	json_key(&j, "chains");
	json_arr(&j);
	for (size_t i = 0; i < tb->n_chains; i++) {
		const struct rules_chain *ch = &tb->chains[i];
		if (!rules_ipt_chain_listed(ch, fam) || (only != NULL && ch != only))
			continue;
		json_obj(&j);
		json_kstr(&j, "name", ch->name);
		if (ch->hook >= 0) {
			json_kstr(&j, "policy",
				  ch->policy[fi] == RULES_POL_DROP ? "DROP" : "ACCEPT");
			json_ku64(&j, "packets", ch->pkts[fi]);
			json_ku64(&j, "bytes", ch->bytes[fi]);
		} else {
			json_ku64(&j, "references", rules_ipt_chain_refs(tb, ch->name, fam));
		}
		json_key(&j, "rules");
		json_arr(&j);
		long num = 0;
		for (size_t k = 0; k < ch->n_rules; k++) {
			const struct rules_rule *r = &ch->rules[k];
			if (!(r->fam & fam) || (++num != rulenum && rulenum > 0))
				continue;
			json_obj(&j);
			json_ku64(&j, "num", (uint64_t)num);
			json_ku64(&j, "packets", r->pkts);
			json_ku64(&j, "bytes", r->bytes);
			char *txt = rules_ipt_print_rule(r, fam), *line = NULL;
			if (txt == NULL || asprintf(&line, "-A %s%s%s", ch->name, *txt ? " " : "",
						    txt) < 0) {
				line = NULL;
				oom = true;
			}
			json_kstr(&j, "rule", line);
			free(line);
			free(txt);
			const char *tn = rules_ipt_target_name(r);
			json_kstr(&j, "target", *tn ? tn : NULL);
			if (r->target.verdict == RULES_V_GOTO)
				json_kbool(&j, "goto", true);
			for (unsigned m = 0; m < r->n_match; m++)
				if (r->match[m].kind == RULES_X_COMMENT) {
					json_kstr(&j, "comment", r->match[m].u.comment.s);
					break;
				}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	fputc('\n', f);
	if (fclose(f) != 0 || oom) {
		free(text);
		errno = ENOMEM;
		return NULL;
	}
	return text;
}

static void view_print(const struct rules_ruleset *rs, void *arg)
{
	struct view *v = arg;
	switch (v->kind) {
	case VIEW_LIST:
		v->out = rules_ipt_list(rs, v->fam, (enum rules_table_id)v->table, v->chain, v->rulenum,
			v->flags);
		break;
	case VIEW_SPEC:
		v->out = rules_ipt_spec(rs, v->fam, (enum rules_table_id)v->table, v->chain, v->rulenum,
			v->flags);
		break;
	case VIEW_SAVE: {
		/* one table: the others hidden for the print, then shown again */
		struct rules_ruleset *w = (struct rules_ruleset *)rs;
		uint8_t present[RULES_T_COUNT];
		for (int k = 0; k < RULES_T_COUNT; k++) {
			present[k] = w->tables[k].present;
			if (v->table >= 0 && k != v->table)
				w->tables[k].present = 0;
		}
		v->out = rules_ipt_print(w, v->fam, v->flags);
		for (int k = 0; k < RULES_T_COUNT; k++)
			w->tables[k].present = present[k];
		break;
	}
	case VIEW_YAML:
		v->out = rules_yaml_print(rs, 0);
		break;
	case VIEW_SETS:
		v->out = rules_ipset_print(rs, v->chain);
		break;
	case VIEW_SETSUM: {
		char *s = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&s, &len);
		if (f == NULL)
			break;
		uint64_t now = rules_clock_us();
		for (size_t i = 0; i < rs->n_sets; i++) {
			const struct rules_set *st = &rs->sets[i];
			size_t live = st->n;
			if (st->has_timeout)
				for (size_t j = 0; j < st->n; j++)
					live -= !rules_set_entry_live(&st->e[j], now);
			fprintf(f, "set=%s type=%s family=%s entries=%zu maxelem=%u", st->name,
				rules_set_type_name(st->type),
				st->fam == RULES_F_ALL ? "any" : st->fam == RULES_F_V6 ? "inet6" : "inet",
				live, st->maxelem);
			if (st->has_timeout)
				fprintf(f, " timeout=%u", st->timeout);
			fputc('\n', f);
		}
		v->out = fclose(f) == 0 ? s : (free(s), NULL);
		break;
	}
	case VIEW_JSON:
		v->out = ipt_json(rs, v->fam, v->table, v->chain, v->rulenum);
		break;
	}
	v->err = v->out ? 0 : errno;
}

/* Run a view; its text, or NULL with errno. */
static char *view(struct rp_ctl_env *env, struct view *v)
{
	v->out = NULL;
	v->err = ENOMEM;
	if (dp_rules_view(env->dp, view_print, v) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	errno = v->err;
	return v->out;
}

/* Answer with a view: its text and "%% ok", or the error (missing: what
 * to say when the thing listed does not exist). */
static void answer_view(struct rp_ctl_env *env, struct view *v, const char *missing, FILE *out)
{
	char *s = view(env, v);
	if (s == NULL) {
		fprintf(out, "%%%% error: %s\n", errno == ENOENT && missing ? missing :
			errno == EINVAL ? "invalid rule number" : "out of memory");
		return;
	}
	fputs(s, out);
	free(s);
	fprintf(out, "%%%% ok\n");
}

/*
 * iptables' own command line: [-4|-6] [-t table] COMMAND ... with the
 * listing options -n -v -x --line-numbers. Changes go through the restore
 * parser as a one-line transaction on a copy.
 */
static void cmd_ipt(struct rp_ctl_env *env, int argc, char **argv, FILE *out, bool json)
{
	int fam = RULES_F_V4;
	const char *table = "filter";
	unsigned lflags = 0;
	char cmd = ipt_command(argc, argv);
	if (cmd == 0) {
		fprintf(out, "%%%% error: no command specified (-A, -I, -D, -R, -N, -X, -E, -F, -Z, -P, "
			     "-L, -S, -C)\n");
		return;
	}
	/* what is ours to take out: family, table, listing options */
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		return;
	}
	int nrest = 0;
	const char *chain = NULL;
	long rulenum = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-4") || !strcmp(a, "--ipv4")) {
			fam = RULES_F_V4;
		} else if (!strcmp(a, "-6") || !strcmp(a, "--ipv6")) {
			fam = RULES_F_V6;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--table")) {
			if (i + 1 >= argc) {
				fprintf(out, "%%%% error: option \"%s\" requires an argument\n", a);
				goto out;
			}
			table = argv[++i];
		} else if (!strcmp(a, "-n") || !strcmp(a, "--numeric")) {
			lflags |= RULES_LIST_NUMERIC;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			lflags |= RULES_LIST_VERBOSE;
		} else if (!strcmp(a, "-x") || !strcmp(a, "--exact")) {
			lflags |= RULES_LIST_EXACT;
		} else if (!strcmp(a, "--line-numbers")) {
			lflags |= RULES_LIST_LINENUMBERS;
		} else if (!strcmp(a, "-w") || !strcmp(a, "--wait")) {
			/* iptables' xtables lock: nothing to wait for here */
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
				i++;
		} else {
			rest[nrest++] = argv[i];
		}
	}
	int t = rules_table_by_name(table);
	if (t < 0) {
		fprintf(out, "%%%% error: can't initialize iptables table `%s': Table does not exist\n",
			table);
		goto out;
	}
	if (cmd == 'L' || cmd == 'S') {
		/* -L [chain] / -S [chain [rulenum]] */
		for (int i = 0; i < nrest; i++) {
			const char *a = rest[i];
			if (a[0] == '-' && (!strcmp(a, "-L") || !strcmp(a, "-S") || !strcmp(a, "--list") ||
					    !strcmp(a, "--list-rules"))) {
				if (i + 1 < nrest && rest[i + 1][0] != '-')
					chain = rest[++i];
				if (chain && i + 1 < nrest && rest[i + 1][0] >= '0' &&
				    rest[i + 1][0] <= '9')
					rulenum = strtol(rest[++i], NULL, 10);
				continue;
			}
			fprintf(out, "%%%% error: unexpected \"%s\" with -%c\n", a, cmd);
			goto out;
		}
		/* --json: the same document for -L and -S (-n -v -x ignored: exact) */
		struct view v = { .kind = json ? VIEW_JSON : cmd == 'L' ? VIEW_LIST : VIEW_SPEC,
				  .fam = fam, .table = t, .chain = chain, .rulenum = rulenum,
				  .flags = lflags };
		char missing[96];
		snprintf(missing, sizeof(missing), "%s: No chain/target/match by that name.",
			 chain ? chain : table);
		answer_view(env, &v, missing, out);
		goto out;
	}
	/* a change: one line of iptables-restore --noflush on a copy */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		goto out;
	}
	fprintf(f, "*%s\n", table);
	for (int i = 0; i < nrest; i++) {
		if (i)
			fputc(' ', f);
		put_word(f, rest[i]);
	}
	fputs("\nCOMMIT\n", f);
	if (fclose(f) != 0) {
		free(text);
		fprintf(out, "%%%% error: out of memory\n");
		goto out;
	}
	struct rules_ruleset *n = dp_rules_snapshot(env->dp);
	char err[RULES_ERR_MAX];
	if (n == NULL) {
		free(text);
		fprintf(out, "%%%% error: out of memory\n");
		goto out;
	}
	int rc = rules_ipt_load(n, fam, text, len, "request", RULES_LOAD_NOFLUSH | RULES_LOAD_INPLACE,
		err, sizeof(err));
	free(text);
	if (rc < 0) {
		rules_free(n);
		fprintf(out, "%%%% error: %s\n", strip_where(err));
		goto out;
	}
	/* new rules start at zero unless -c PKTS BYTES said otherwise */
	if (cmd == 'C') { /* the rule exists: nothing to change */
		rules_free(n);
		fprintf(out, "%%%% ok\n");
		goto out;
	}
	finish(env, n, false, false, "request", out);
out:
	free(rest);
}

/* save [-t table] [-c] [-6] */
static void cmd_save(struct rp_ctl_env *env, int argc, char **argv, FILE *out)
{
	int fam = RULES_F_V4, t = -1;
	unsigned flags = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-c") || !strcmp(a, "--counters"))
			flags |= RULES_PRINT_COUNTERS;
		else if (!strcmp(a, "-6") || !strcmp(a, "--ipv6"))
			fam = RULES_F_V6;
		else if (!strcmp(a, "-4") || !strcmp(a, "--ipv4"))
			fam = RULES_F_V4;
		else if ((!strcmp(a, "-t") || !strcmp(a, "--table")) && i + 1 < argc) {
			if ((t = rules_table_by_name(argv[++i])) < 0) {
				fprintf(out, "%%%% error: save: no table '%s'\n", argv[i]);
				return;
			}
		} else {
			fprintf(out, "%%%% error: save: unknown option '%s' (-t TABLE, -c, -6)\n", a);
			return;
		}
	}
	struct view v = { .kind = VIEW_SAVE, .fam = fam, .table = t, .flags = flags };
	char *s = view(env, &v);
	if (s == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		return;
	}
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", localtime_r(&now, &tm));
	fprintf(out, "# Generated by rampartd %s on %s\n%s# Completed on %s\n%%%% ok\n",
		RAMPART_VERSION, when, s, when);
	free(s);
}

/* restore [-n|--noflush] [-t|--test] [-c|--counters] [-6] [-T table] <<body */
static void cmd_restore(struct rp_ctl_env *env, int argc, char **argv, const char *body,
	size_t blen, FILE *out)
{
	int fam = RULES_F_V4, only = -1;
	unsigned flags = 0;
	bool test = false, counters = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-n") || !strcmp(a, "--noflush"))
			flags |= RULES_LOAD_NOFLUSH;
		else if (!strcmp(a, "-t") || !strcmp(a, "--test"))
			test = true;
		else if (!strcmp(a, "-c") || !strcmp(a, "--counters"))
			counters = true;
		else if (!strcmp(a, "-6") || !strcmp(a, "--ipv6"))
			fam = RULES_F_V6;
		else if (!strcmp(a, "-4") || !strcmp(a, "--ipv4"))
			fam = RULES_F_V4;
		else if ((!strcmp(a, "-T") || !strcmp(a, "--table")) && i + 1 < argc) {
			if ((only = rules_table_by_name(argv[++i])) < 0) {
				fprintf(out, "%%%% error: restore: no table '%s'\n", argv[i]);
				return;
			}
		} else {
			fprintf(out, "%%%% error: restore: unknown option '%s' (--noflush, --test, "
				     "--counters, -6, -T TABLE)\n", a);
			return;
		}
	}
	if (body == NULL) {
		fprintf(out, "%%%% error: restore: no input (the ruleset is the request's body)\n");
		return;
	}
	/* -T: only that table is taken from the file (the others are ignored) */
	struct rules_ruleset *n = dp_rules_snapshot(env->dp);
	char err[RULES_ERR_MAX];
	if (n == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		return;
	}
	struct rules_ruleset *before = only >= 0 ? rules_clone(n) : NULL;
	int rc = rules_ipt_load(n, fam, body, blen, "stdin", flags | RULES_LOAD_INPLACE, err,
		sizeof(err));
	if (rc < 0) {
		rules_free(n);
		rules_free(before);
		fprintf(out, "%%%% error: %s\n", err);
		return;
	}
	if (only >= 0 && before != NULL) {
		/* -T: only that table changes (the others as they were) */
		for (int k = 0; k < RULES_T_COUNT; k++)
			if (k != only) {
				struct rules_table tmp = n->tables[k];
				n->tables[k] = before->tables[k];
				before->tables[k] = tmp;
			}
	}
	rules_free(before);
	if (!counters)
		zero_new_counters(n);
	finish(env, n, test, false, "stdin", out);
}

/* load [--test] NAME <<body: a whole YAML ruleset replaces the live one */
struct keep_view {
	struct rules_ruleset *rs;
	long kept;
};

static void keep_of(const struct rules_ruleset *live, void *arg)
{
	struct keep_view *k = arg;
	k->kept = rules_ipset_keep_live(k->rs, live, rules_clock_us());
}

/* A ruleset read again (reload, load) keeps the live entries of its
 * timeout sets, as ipsets outlive an iptables-restore in the kernel. */
static int keep_set_entries(struct rp_ctl_env *env, struct rules_ruleset *rs, char *err,
	size_t errlen)
{
	struct keep_view k = { .rs = rs };
	if (dp_rules_view(env->dp, keep_of, &k) < 0 || k.kept < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (k.kept > 0)
		RP_INFO("ctl", "%ld live entries of timeout sets kept", k.kept);
	return 0;
}

static void cmd_load(struct rp_ctl_env *env, int argc, char **argv, const char *body, size_t blen,
	FILE *out)
{
	bool test = false;
	const char *name = "request";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--test"))
			test = true;
		else if (argv[i][0] != '-')
			name = argv[i];
		else {
			fprintf(out, "%%%% error: load: unknown option '%s' (--test)\n", argv[i]);
			return;
		}
	}
	if (body == NULL) {
		fprintf(out, "%%%% error: load: no input (the ruleset is the request's body)\n");
		return;
	}
	if (rp_ruleset_is_iptables(body, blen)) {
		fprintf(out, "%%%% error: %s: this is iptables-save text: use `rampartctl restore` (or "
			     "`rampartctl convert` it to YAML)\n", name);
		return;
	}
	struct rules_ruleset *n = rules_new();
	char err[RULES_ERR_MAX];
	if (n == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		return;
	}
	if (rules_yaml_load(n, body, blen, name, err, sizeof(err)) < 0 ||
	    keep_set_entries(env, n, err, sizeof(err)) < 0) {
		rules_free(n);
		fprintf(out, "%%%% error: %s\n", err);
		return;
	}
	finish(env, n, test, true, name, out);
}

int rp_ctl_reload(struct rp_ctl_env *env, char *err, size_t errlen)
{
	struct rules_ruleset *rs = NULL;
	if (env->cfg == NULL) {
		snprintf(err, errlen, "no configuration to read the ruleset files from");
		return -1;
	}
	if (rp_ruleset_load(env->cfg, &rs, err, errlen) < 0) {
		set_info(env, false);
		return -1;
	}
	if (rs == NULL)
		rs = rules_new(); /* no ruleset configured: none */
	if (rs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *name = env->cfg->ruleset[0] ? env->cfg->ruleset : env->cfg->ruleset6;
	if (keep_set_entries(env, rs, err, errlen) < 0) {
		rules_free(rs);
		set_info(env, false);
		return -1;
	}
	int rc = apply(env, rs, true, name, err, errlen);
	/* the live rules were all read with the policies the configuration
	 * has now: a removed one's id takes the table's timeouts */
	struct ct_params *p = rc == 0 ? malloc(sizeof(*p)) : NULL;
	if (p != NULL && rp_tpol_retire(p))
		dp_ct_set_params(env->dp, p);
	free(p);
	return rc;
}

static void cmd_reload(struct rp_ctl_env *env, int argc, FILE *out)
{
	char err[CFG_ERR_MAX];
	if (argc != 1) {
		fprintf(out, "%%%% error: reload takes no argument (it reads the configured files)\n");
		return;
	}
	if (rp_ctl_reload(env, err, sizeof(err)) < 0) {
		RP_ERR("ctl", "reload: the running ruleset stays: %s", err);
		fprintf(out, "%%%% error: %s\n", err);
		return;
	}
	RP_NOTICE("ctl", "reload: ruleset %" PRIu32 " live", dp_rules_generation(env->dp));
	answer_applied(env, out);
}

/* dump [--yaml] */
static void cmd_dump(struct rp_ctl_env *env, int argc, char **argv, FILE *out)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--yaml") != 0) {
			fprintf(out, "%%%% error: dump: unknown option '%s' (--yaml)\n", argv[i]);
			return;
		}
	struct view v = { .kind = VIEW_YAML };
	answer_view(env, &v, NULL, out);
}

/* set add|del [-exist] NAME ENTRY [timeout N], set flush NAME, set list
 * [NAME]: named sets, changed live; only the sets change (copy, change,
 * compile the set, swap it in: dp_sets_commit) */
struct set_test {
	const char *name, *entry;
	uint64_t now;
	int rc;
	char err[RULES_ERR_MAX];
};

static void set_test_view(const struct rules_ruleset *rs, void *arg)
{
	struct set_test *t = arg;
	t->rc = rules_ipset_test(rs, t->name, t->entry, t->now, t->err, sizeof(t->err));
}

static void cmd_set(struct rp_ctl_env *env, int argc, char **argv, FILE *out)
{
	const char *op = argc > 1 ? argv[1] : "";
	if (!strcmp(op, "list") && argc <= 3) {
		struct view v = { .kind = VIEW_SETS, .chain = argc == 3 ? argv[2] : NULL };
		answer_view(env, &v, "no such set", out);
		return;
	}
	if (!strcmp(op, "test") && argc == 4) { /* ipset test: exit status 0 or 1 */
		struct set_test t = { .name = argv[2], .entry = argv[3], .now = rules_clock_us() };
		if (dp_rules_view(env->dp, set_test_view, &t) < 0)
			fprintf(out, "%%%% error: out of memory\n");
		else if (t.rc < 0)
			fprintf(out, "%%%% error: %s\n", strip_where(t.err));
		else if (t.rc == 0)
			fprintf(out, "%%%% error: %s is NOT in set %s.\n", argv[3], argv[2]);
		else
			fprintf(out, "%%%% ok %s is in set %s.\n", argv[3], argv[2]);
		return;
	}
	bool add = !strcmp(op, "add"), two = add || !strcmp(op, "del");
	int words = 0;
	for (int i = 2; i < argc; i++)
		words += strcmp(argv[i], "-exist") && strcmp(argv[i], "--exist") && strcmp(argv[i], "-!");
	/* add: the entry's options (timeout N, nomatch, comment TEXT) follow;
	 * the loader judges them */
	bool shape = two ? words == 2 || (add && words > 2 && words <= 9) :
			   !strcmp(op, "flush") && words == 1 && argc == 3;
	if (!shape) {
		fprintf(out, "%%%% error: set add|del [-exist] NAME ENTRY [timeout N] [nomatch] "
			     "[comment TEXT] [before|after SET], set test NAME ENTRY, set flush NAME, "
			     "set list [NAME]\n");
		return;
	}
	/* the words of an ipset line, each one word (op is add, del or flush);
	 * a comment's text quoted, as ipset save quotes it */
	char line[1024];
	size_t len = (size_t)snprintf(line, sizeof(line), "%s", op);
	int entry_at = 2; /* the entry: the second word after the -exist flags */
	for (int k = 0; entry_at < argc; entry_at++)
		if (strcmp(argv[entry_at], "-exist") && strcmp(argv[entry_at], "--exist") &&
		    strcmp(argv[entry_at], "-!") && ++k == 2)
			break;
	bool want_text = false; /* the previous option word was "comment" */
	for (int i = 2; i < argc; i++) {
		size_t wl = strlen(argv[i]);
		bool cmt = add && want_text;
		want_text = add && i > entry_at && !cmt && !strcmp(argv[i], "comment");
		if ((!argv[i][0] && !cmt) || strpbrk(argv[i], cmt ? "\"\n\r" : " \t\n\r") ||
		    wl + 4 >= sizeof(line) - len) {
			fprintf(out, "%%%% error: set: bad set name, entry or comment\n");
			return;
		}
		line[len++] = ' ';
		if (cmt)
			line[len++] = '"';
		memcpy(line + len, argv[i], wl);
		len += wl;
		if (cmt)
			line[len++] = '"';
	}
	line[len++] = '\n';
	line[len] = '\0';
	int ni = 2; /* the set's name */
	while (ni + 1 < argc &&
	       (!strcmp(argv[ni], "-exist") || !strcmp(argv[ni], "--exist") || !strcmp(argv[ni], "-!")))
		ni++;
	char err[RULES_ERR_MAX];
	struct rules_ruleset *rs = sets_only(env, &argv[ni], 1, err, sizeof(err));
	if (rs == NULL) {
		fprintf(out, "%%%% error: %s\n", err);
		return;
	}
	/* a list:set's member is checked against the set it names: a copy
	 * of it comes along (unchanged, so not swapped in again) */
	if (two && rs->n_sets == 1 && rs->sets[0].type == RULES_SET_LIST && entry_at < argc &&
	    strcmp(argv[entry_at], rs->sets[0].name) != 0) {
		struct rules_set m;
		int rc = dp_set_copy(env->dp, argv[entry_at], &m);
		if (rc == 0) {
			struct rules_set *ns = realloc(rs->sets, 2 * sizeof(*ns));
			if (ns == NULL) {
				rules_set_release(&m);
				rules_free(rs);
				fprintf(out, "%%%% error: out of memory\n");
				return;
			}
			rs->sets = ns;
			rs->cap_sets = 2;
			if (strcmp(m.name, ns[0].name) < 0) { /* sorted by name */
				ns[1] = ns[0];
				ns[0] = m;
			} else {
				ns[1] = m;
			}
			rs->n_sets = 2;
		}
	}
	if (rules_ipset_change(rs, line, len, "set", RULES_IPSET_EXCL, err, sizeof(err)) < 0) {
		rules_free(rs);
		fprintf(out, "%%%% error: %s\n", strip_where(err));
		return;
	}
	uint64_t us = 0;
	if (commit_sets(env, rs, &us, err, sizeof(err)) < 0) {
		fprintf(out, "%%%% error: %s\n", strip_where(err));
		return;
	}
	set_info(env, true);
	fprintf(out, "%%%% ok ruleset %" PRIu32 " live on every worker in %" PRIu64 ".%03" PRIu64
		" ms (set %s changed alone)\n", dp_rules_generation(env->dp), us / 1000, us % 1000,
		argv[ni]);
}

static void show_version_json(struct rp_ctl_env *env, FILE *out)
{
	struct json j;
	json_init(&j, out);
	json_obj(&j);
	json_kstr(&j, "version", RAMPART_VERSION);
	json_ku64(&j, "ruleset_generation", dp_rules_generation(env->dp));
	char when[64];
	time_t t = env->info != NULL ? (time_t)env->info->reload_time : 0;
	struct tm tm;
	if (t)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&t, &tm));
	json_kstr(&j, "last_change", t ? when : NULL);
	json_key(&j, "last_change_ok");
	if (env->info != NULL && t)
		json_bool(&j, env->info->reload_ok);
	else
		json_null(&j);
	json_key(&j, "last_apply_ms");
	json_milli(&j, env->last_apply_us);
	json_obj_end(&j);
	fprintf(out, "\n%%%% ok\n");
}

/* ---- show recent ---- */

struct recent_walk {
	FILE *out;
	uint64_t now;
	unsigned n;
};

static void recent_line(void *arg, uint8_t fam, const uint8_t *addr, uint8_t ttl, uint64_t last,
	uint32_t hits)
{
	struct recent_walk *rw = arg;
	char a[INET6_ADDRSTRLEN];
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	uint64_t ago = rw->now > last ? rw->now - last : 0;
	fprintf(rw->out, "src=%s ttl: %u last_seen: %" PRIu64 ".%03" PRIu64 "s ago hits: %" PRIu32 "\n",
		a, ttl, ago / 1000000, ago / 1000 % 1000, hits);
	rw->n++;
}

/* The -m recent lists, as /proc/net/xt_recent/NAME lists them (the time
 * since each address was last seen instead of jiffies). */
static void cmd_show_recent(struct rp_ctl_env *env, FILE *out)
{
	struct recent_walk rw = { .out = out, .now = dp_rules_clock_us(env->dp) };
	unsigned lists = 0;
	for (unsigned i = 0; i < RULES_RECENT_LISTS; i++) {
		const struct rules_recent *l = rules_recent_at(i);
		if (l == NULL)
			break;
		fprintf(out, "list %s: %" PRIu32 " addresses\n", l->name,
			__atomic_load_n(&l->live, __ATOMIC_RELAXED));
		rules_recent_walk(l, recent_line, &rw);
		lists++;
	}
	fprintf(out, "%%%% ok %u lists\n", lists);
}

/* ---- recent: what writing to /proc/net/xt_recent/NAME does ---- */

/* "+ADDR" adds the address (or records a hit if it is there), "-ADDR"
 * removes it, "/" empties the list. The workers use the list meanwhile:
 * the same lock-free operations as a rule's --set and --remove. */
static void cmd_recent(struct rp_ctl_env *env, int argc, char **argv, FILE *out)
{
	if (argc != 3) {
		fprintf(out, "%%%% error: recent NAME +ADDR|-ADDR|/\n");
		return;
	}
	struct rules_recent *l = rules_recent_find(argv[1]);
	if (l == NULL) {
		fprintf(out, "%%%% error: recent: no list \"%s\" (a -m recent rule makes it)\n", argv[1]);
		return;
	}
	const char *op = argv[2];
	if (!strcmp(op, "/")) {
		rules_recent_flush(l);
		fprintf(out, "%%%% ok\n");
		return;
	}
	uint8_t a[16] = { 0 }, fam = 4;
	if ((op[0] != '+' && op[0] != '-') ||
	    (inet_pton(AF_INET, op + 1, a) != 1 && (fam = 6, inet_pton(AF_INET6, op + 1, a) != 1))) {
		fprintf(out, "%%%% error: recent: need +ADDR, -ADDR or / (got \"%s\")\n", op);
		return;
	}
	rules_recent_match(l, fam, a, 0, op[0] == '+' ? RULES_RECENT_SET : RULES_RECENT_REMOVE, 0, 0,
			   false, dp_rules_clock_us(env->dp));
	fprintf(out, "%%%% ok\n");
}

/* ---- show hashlimit ---- */

struct hl_walk {
	FILE *out;
	uint8_t fam, rm;
	uint64_t cap, cost, interval;
};

static void hl_line(void *arg, const uint8_t *key, uint64_t expires_us, uint64_t credit,
	uint64_t refills)
{
	struct hl_walk *hw = arg;
	char s[48], d[48];
	unsigned alen = hw->fam == 6 ? 16 : 4;
	if (hw->fam == 6) { /* all eight groups, as the kernel's %pI6 */
		for (unsigned i = 0, n = 0; i < 16; i += 2, n += 5) {
			snprintf(s + n, sizeof(s) - n, "%02x%02x%s", key[i], key[i + 1], i < 14 ? ":" : "");
			snprintf(d + n, sizeof(d) - n, "%02x%02x%s", key[16 + i], key[17 + i],
				 i < 14 ? ":" : "");
		}
	} else {
		inet_ntop(AF_INET, key, s, sizeof(s));
		inet_ntop(AF_INET, key + alen, d, sizeof(d));
	}
	const uint8_t *p = key + 2 * alen;
	/* rate-match: the kernel's union shows interval, prev_window, current_rate */
	uint64_t c1 = hw->rm ? hw->interval : credit, c2 = hw->rm ? refills : hw->cap ? hw->cap : refills;
	uint64_t c3 = hw->rm ? credit : hw->cost;
	fprintf(hw->out, "%" PRIu64 " %s:%u->%s:%u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		(expires_us + 999999) / 1000000, s, (unsigned)(p[0] << 8 | p[1]), d,
		(unsigned)(p[2] << 8 | p[3]), c1, c2, c3);
}

/* The -m hashlimit tables, as /proc/net/ipt_hashlimit/NAME lists them:
 * seconds until the entry expires, the key, then the credit, its cap and
 * a packet's cost (packet mode: in microseconds of the rate; byte mode:
 * byte credits, the refills left, the cost of 16 bytes). */
static void cmd_show_hashlimit(struct rp_ctl_env *env, FILE *out)
{
	uint64_t now = dp_rules_clock_us(env->dp);
	unsigned n = 0;
	const struct rules_hl *t;
	while ((t = rules_hl_at(n)) != NULL) {
		struct rules_hl_info in;
		rules_hl_info(t, &in);
		fprintf(out, "table %s (IPv%u): %" PRIu32 " of %" PRIu32 " entries, %" PRIu64
			" packets dropped for want of room\n", in.name, in.cfg.fam, in.live, in.cfg.max,
			in.full);
		struct hl_walk hw = { .out = out, .fam = in.cfg.fam, .cost = rules_hl_cost(&in.cfg),
				      .cap = in.cfg.bytes ? 0 : rules_hl_cap(&in.cfg),
				      .rm = in.cfg.rate_match, .interval = in.cfg.interval };
		rules_hl_walk(t, now, hl_line, &hw);
		n++;
	}
	fprintf(out, "%%%% ok %u tables\n", n);
}

static void cmd_show(struct rp_ctl_env *env, int argc, char **argv, FILE *out, bool json)
{
	if (argc == 2 && !strcmp(argv[1], "recent")) {
		cmd_show_recent(env, out);
	} else if (argc == 2 && !strcmp(argv[1], "hashlimit")) {
		cmd_show_hashlimit(env, out);
	} else if (argc == 2 && !strcmp(argv[1], "nat")) {
		cmd_show_nat(env->dp, out, json);
	} else if (argc == 2 && !strcmp(argv[1], "version") && json) {
		show_version_json(env, out);
	} else if (argc == 2 && !strcmp(argv[1], "version")) {
		fprintf(out, "rampartd %s\nruleset_generation %" PRIu32 "\n", RAMPART_VERSION,
			dp_rules_generation(env->dp));
		if (env->info != NULL) {
			char when[64] = "never";
			time_t t = (time_t)env->info->reload_time;
			struct tm tm;
			if (t)
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&t, &tm));
			fprintf(out, "last_change %s %s\n", when, env->info->reload_ok ? "ok" : "failed");
		}
		fprintf(out, "last_apply_ms %" PRIu64 ".%03" PRIu64 "\n%%%% ok\n",
			env->last_apply_us / 1000, env->last_apply_us % 1000);
	} else if (argc == 2 && !strcmp(argv[1], "sets")) {
		struct view v = { .kind = VIEW_SETSUM };
		answer_view(env, &v, NULL, out);
	} else if (argc == 2 && (!strcmp(argv[1], "ports") || !strcmp(argv[1], "workers") ||
				   !strcmp(argv[1], "stats"))) {
		dp_stats_print(env->dp, out);
		fprintf(out, "%%%% ok\n");
	} else {
		fprintf(out, "%%%% error: show: nat, ports, workers, sets, recent, hashlimit or version\n");
	}
}

/* ---- dispatch ---- */

/*
 * "--json", anywhere among the words, asks a listing for one JSON document
 * (then the usual last line). The listings that have one: -L/-S, show
 * version, show nat, conntrack -L/-S, trace show. In any other request the
 * word stays where it was (an iptables comment may be "--json"; elsewhere
 * it is an unknown option, as before).
 */
static bool json_listing(int argc, char **argv)
{
	const char *c = argv[0];
	if (c[0] == '-') {
		char k = ipt_command(argc, argv);
		return k == 'L' || k == 'S';
	}
	if (!strcmp(c, "show"))
		return argc == 2 && (!strcmp(argv[1], "version") || !strcmp(argv[1], "nat"));
	if (!strcmp(c, "conntrack"))
		return argc >= 2 && (!strcmp(argv[1], "-L") || !strcmp(argv[1], "--dump") ||
				     !strcmp(argv[1], "-S") || !strcmp(argv[1], "--stats") ||
				     !strcmp(argv[1], "-E") || !strcmp(argv[1], "--event"));
	if (!strcmp(c, "trace"))
		return argc == 2 && !strcmp(argv[1], "show");
	return false;
}

/* argv without its "--json" words into w (room for argc + 1): the new
 * argc; *json whether that is the request to run (a listing with --json).
 * Otherwise w is argv as it was. */
static int take_json(int argc, char **argv, char **w, bool *json)
{
	int n = 0;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--json") != 0)
			w[n++] = argv[i];
	w[n] = NULL;
	*json = n < argc && n > 0 && json_listing(n, w);
	if (*json)
		return n;
	memcpy(w, argv, (size_t)argc * sizeof(*w));
	w[argc] = NULL;
	return argc;
}

static bool readonly(int argc, char **argv)
{
	const char *c = argv[0];
	if (!strcmp(c, "show") || !strcmp(c, "version") || !strcmp(c, "save") || !strcmp(c, "dump"))
		return true;
	if (!strcmp(c, "conntrack"))
		return argc >= 2 && (!strcmp(argv[1], "-L") || !strcmp(argv[1], "--dump") ||
				     !strcmp(argv[1], "-C") || !strcmp(argv[1], "--count") ||
				     !strcmp(argv[1], "-S") || !strcmp(argv[1], "--stats") ||
				     !strcmp(argv[1], "-E") || !strcmp(argv[1], "--event"));
	if (!strcmp(c, "restore") || !strcmp(c, "load")) { /* --test only reads */
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "--test") || !strcmp(argv[i], "-t"))
				return true;
		return false;
	}
	if (!strcmp(c, "trace"))
		return argc >= 2 && !strcmp(argv[1], "show");
	if (!strcmp(c, "set"))
		return argc >= 2 && (!strcmp(argv[1], "list") || !strcmp(argv[1], "test"));
	if (c[0] == '-') {
		char k = ipt_command(argc, argv);
		return k == 'L' || k == 'S' || k == 'C';
	}
	return false;
}

/* pred on the request's words without --json (false if out of memory) */
static bool without_json(int argc, char **argv, bool (*pred)(int, char **))
{
	char **w = malloc(((size_t)argc + 1) * sizeof(*w));
	if (w == NULL)
		return false;
	bool json;
	bool r = pred(take_json(argc, argv, w, &json), w);
	free(w);
	return r;
}

/* ---- conntrack -E ------------------------------------------------------ */

struct rp_ctl_events {
	struct dp_ct_filter f;
	bool expect;   /* conntrack -E expect: the expectations' events */
	unsigned mask; /* CT_EV_* */
	bool json;      /* --json: one JSON object a line */
	bool timestamp; /* -o timestamp: when the control thread read it */
};

static bool is_events(int argc, char **argv)
{
	return argc >= 2 && !strcmp(argv[0], "conntrack") &&
	       (!strcmp(argv[1], "-E") || !strcmp(argv[1], "--event"));
}

bool rp_ctl_is_events(int argc, char **argv)
{
	return is_events(argc, argv);
}

struct rp_ctl_events *rp_ctl_events_open(struct rp_ctl_env *env, int argc, char **argv, char *err,
	size_t errlen)
{
	struct rp_ctl_events *s = calloc(1, sizeof(*s));
	char **rest = malloc(((size_t)argc + 1) * sizeof(*rest));
	if (s == NULL || rest == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	int n = 0;
	int i0 = 2;
	if (argc > 2 && (!strcmp(argv[2], "expect") || !strcmp(argv[2], "expectation"))) {
		s->expect = true;
		i0 = 3;
	}
	for (int i = i0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			s->json = true;
			continue;
		}
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (++i >= argc) {
				snprintf(err, errlen, "conntrack: option -o needs a value (timestamp)");
				goto fail;
			}
			if (strcmp(argv[i], "timestamp") != 0) {
				snprintf(err, errlen, "conntrack -E: unsupported -o '%s' (only timestamp)",
					 argv[i]);
				goto fail;
			}
			s->timestamp = true;
			continue;
		}
		if (strcmp(argv[i], "-e") != 0 && strcmp(argv[i], "--event-mask") != 0) {
			rest[n++] = argv[i];
			continue;
		}
		if (++i >= argc) {
			snprintf(err, errlen, "conntrack: option -e needs a value (NEW,UPDATE,DESTROY,ALL)");
			goto fail;
		}
		char buf[128];
		if (snprintf(buf, sizeof(buf), "%s", argv[i]) >= (int)sizeof(buf)) {
			snprintf(err, errlen, "conntrack: option -e: too long (NEW,UPDATE,DESTROY,ALL)");
			goto fail;
		}
		char *save = NULL;
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (!strcasecmp(t, "NEW"))
				s->mask |= CT_EV_NEW;
			else if (!strcasecmp(t, "UPDATE"))
				s->mask |= CT_EV_UPDATE;
			else if (!strcasecmp(t, "DESTROY"))
				s->mask |= CT_EV_DESTROY;
			else if (!strcasecmp(t, "ALL"))
				s->mask |= CT_EV_NEW | CT_EV_UPDATE | CT_EV_DESTROY;
			else {
				snprintf(err, errlen, "conntrack: unknown event '%s' (NEW, UPDATE, DESTROY, ALL)",
					 t);
				goto fail;
			}
		}
	}
	if (s->mask == 0)
		s->mask = CT_EV_NEW | CT_EV_UPDATE | CT_EV_DESTROY;
	char e2[200];
	if (s->expect) {
		/* an expectation has no filter of conntrack's here */
		if (n > 0) {
			snprintf(err, errlen, "conntrack -E expect: unexpected '%s' (-e, -o timestamp, "
				 "--json)", rest[0]);
			goto fail;
		}
		if (dp_ct_exp_events(env->dp, true, e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "conntrack: %s", e2);
			goto fail;
		}
		free(rest);
		return s;
	}
	int used = 0;
	if (dp_ct_filter_parse(&s->f, n, rest, &used, e2, sizeof(e2)) < 0) {
		snprintf(err, errlen, "conntrack: %s", e2);
		goto fail;
	}
	if (used != n) {
		snprintf(err, errlen, "conntrack: unexpected '%s'", rest[used]);
		goto fail;
	}
	if (dp_ct_events(env->dp, true, e2, sizeof(e2)) < 0) {
		snprintf(err, errlen, "conntrack: %s", e2);
		goto fail;
	}
	free(rest);
	return s;
fail:
	free(rest);
	free(s);
	return NULL;
}

void rp_ctl_events_close(struct rp_ctl_env *env, struct rp_ctl_events *s)
{
	if (s == NULL)
		return;
	if (s->expect)
		dp_ct_exp_events(env->dp, false, NULL, 0);
	else
		dp_ct_events(env->dp, false, NULL, 0);
	free(s);
}

bool rp_ctl_events_expect(const struct rp_ctl_events *s)
{
	return s->expect;
}

/* One event as a reader follows it: a connection's (view, worker, now) or
 * an expectation's (x) */
struct ev_src {
	const struct ct_exp_ev *x;
	unsigned worker;
	const struct ct_table *view;
	uint32_t now;
	unsigned type; /* CT_EV_* */
};

/* The reader's line for event e: a JSON object ("event", "timestamp_us"
 * with -o timestamp, then the listing's fields) or conntrack's text (the
 * timestamp first, as conntrack's "[%-8ld.%-6ld]" with the microseconds
 * left-aligned, blank-padded), '\n' included; -1 if it does not fit. */
static int event_line(const struct rp_ctl_events *s, const struct ev_src *e,
	const struct timespec *ts, char *buf, size_t n)
{
	if (n < 2)
		return -1;
	int w = 0;
	if (s->json) {
		FILE *f = fmemopen(buf, n - 1, "w");
		if (f == NULL)
			return -1;
		struct json j;
		json_init(&j, f);
		json_obj(&j);
		unsigned t = e->type & (unsigned)~CT_EV_PROTO;
		json_kstr(&j, "event", t == CT_EV_NEW ? "new" : t == CT_EV_UPDATE ? "update" : "destroy");
		if (s->timestamp)
			json_ku64(&j, "timestamp_us",
				  (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_nsec / 1000u);
		if (e->x != NULL)
			dp_ct_exp_json(&j, e->x);
		else
			json_entry_fields(&j, e->worker, e->view, e->now);
		json_obj_end(&j);
		long len = ftell(f);
		bool bad = ferror(f) != 0;
		fclose(f);
		if (bad || len <= 0 || (size_t)len >= n - 1)
			return -1; /* did not fit: never a cut object */
		w = (int)len;
	} else {
		if (s->timestamp)
			w = snprintf(buf, n, "[%-8lld.%-6ld]\t", (long long)ts->tv_sec, ts->tv_nsec / 1000);
		int x = e->x != NULL ? ct_format_expect(e->x, buf + w, n - (size_t)w)
				     : ct_format_event(e->view, 0, e->now, e->type, buf + w, n - (size_t)w);
		if (x < 0)
			return -1;
		w += x;
		if ((size_t)w > n - 2)
			w = (int)n - 2;
	}
	buf[w++] = '\n';
	return w;
}

int rp_ctl_exp_events_line(const struct rp_ctl_events *s, const struct ct_exp_ev *e,
	const struct timespec *ts, char *buf, size_t n)
{
	if (!s->expect || (s->mask & e->type) == 0)
		return -1;
	struct ev_src src = { .x = e, .type = e->type };
	return event_line(s, &src, ts, buf, n);
}

int rp_ctl_events_line(const struct rp_ctl_events *s, unsigned worker, const struct ct_table *view,
	uint32_t now, unsigned type, const struct timespec *ts, char *buf, size_t n)
{
	if (s->expect || (s->mask & type) == 0 || !dp_ct_match(view, &s->f))
		return -1;
	struct ev_src src = { .worker = worker, .view = view, .now = now, .type = type };
	return event_line(s, &src, ts, buf, n);
}

bool rp_ctl_readonly(int argc, char **argv)
{
	return without_json(argc, argv, readonly);
}

static bool streams(int argc, char **argv)
{
	return argc >= 2 && !strcmp(argv[0], "conntrack") &&
	       (!strcmp(argv[1], "-L") || !strcmp(argv[1], "--dump") || !strcmp(argv[1], "-D") ||
		!strcmp(argv[1], "--delete") || !strcmp(argv[1], "-U") || !strcmp(argv[1], "--update"));
}

bool rp_ctl_streams(int argc, char **argv)
{
	return without_json(argc, argv, streams);
}

static void exec(struct rp_ctl_env *env, int argc, char **argv, const char *body,
	size_t body_len, FILE *out, bool json)
{
	const char *c = argv[0];
	if (body != NULL && strcmp(c, "restore") != 0 && strcmp(c, "load") != 0) {
		fprintf(out, "%%%% error: '%s' takes no input\n", c);
		return;
	}
	if (is_events(argc, argv))
		fprintf(out, "%%%% error: conntrack -E: events are streamed on the control socket only\n");
	else if (!strcmp(c, "conntrack"))
		cmd_conntrack(env->dp, argc, argv, out, json);
	else if (!strcmp(c, "show"))
		cmd_show(env, argc, argv, out, json);
	else if (!strcmp(c, "version"))
		fprintf(out, "rampartd %s\n%%%% ok\n", RAMPART_VERSION);
	else if (!strcmp(c, "save"))
		cmd_save(env, argc, argv, out);
	else if (!strcmp(c, "restore"))
		cmd_restore(env, argc, argv, body, body_len, out);
	else if (!strcmp(c, "load"))
		cmd_load(env, argc, argv, body, body_len, out);
	else if (!strcmp(c, "reload"))
		cmd_reload(env, argc, out);
	else if (!strcmp(c, "dump"))
		cmd_dump(env, argc, argv, out);
	else if (!strcmp(c, "trace"))
		dp_trace_ctl(env->dp, argc, argv, out, json);
	else if (!strcmp(c, "set"))
		cmd_set(env, argc, argv, out);
	else if (!strcmp(c, "recent"))
		cmd_recent(env, argc, argv, out);
	else if (c[0] == '-')
		cmd_ipt(env, argc, argv, out, json);
	else
		fprintf(out, "%%%% error: unknown command '%s' (iptables options such as -A or -L, "
			     "save, restore, load, reload, dump, set, recent, trace, conntrack, show, version)\n", c);
}

void rp_ctl_exec(struct rp_ctl_env *env, int argc, char **argv, const char *body,
	size_t body_len, FILE *out)
{
	char **w = malloc(((size_t)argc + 1) * sizeof(*w));
	if (w == NULL) {
		fprintf(out, "%%%% error: out of memory\n");
		return;
	}
	bool json;
	int n = take_json(argc, argv, w, &json);
	/* -j SET's changes made before the command go in before it */
	rp_ctl_set_requests_now(env);
	exec(env, n, w, body, body_len, out, json);
	free(w);
}
