/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_ctl: rulesets on the control thread: compile and publish, print
 * with the workers' counters, and write the records of LOG targets.
 *
 * Publishing is RCU: the new struct dp_rules is stored with release
 * semantics; workers load the pointer once per burst and report a
 * quiescent state after every loop, so once rte_rcu_qsbr_synchronize()
 * returns no worker can still hold the previous program. The previous one
 * is then kept (not freed) until the next install, so that LOG records it
 * queued can still be formatted with its rule's prefix; it is freed when a
 * third program replaces it, by which time its records are long drained.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_priv.h"
#include "log.h"

static void rules_obj_free(struct dp_rules *R)
{
	if (R == NULL)
		return;
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++) {
		free(R->ctr[i]);
		ct_limit_destroy(R->climit[i]);
	}
	rules_prog_free(R->prog);
	rules_free(R->rs);
	free(R);
}

static void *zcalloc(size_t n)
{
	return calloc(1, n);
}

static void natset_add(struct dp_natset *s, int fam, const struct rules_addr *lo,
	const struct rules_addr *hi)
{
	if (s->n >= DP_NATSET_MAX) {
		s->all = true; /* too many to test: ask for every packet */
		return;
	}
	s->r[s->n].fam = fam == RULES_F_V6 ? 6 : 4;
	memcpy(s->r[s->n].lo, lo->b, 16);
	memcpy(s->r[s->n].hi, hi->b, 16);
	s->n++;
}

/* Which packets may belong to a translated connection living on another
 * worker: those addressed to a source translation's addresses (nat_pub:
 * steered by their ports, nat_owner) and those coming from a destination
 * translation's targets (nat_priv: asked around before they start a
 * connection). With the TFTP helper and NAT in one ruleset, an expected
 * connection may be translated back to any host (nf_nat_follow_master: a
 * TFTP answer to a client behind MASQUERADE lives on the worker the
 * server's packet reached, which the client's next packet may not reach):
 * every UDP packet that could start a connection is asked around first
 * (follow_udp). */
static void build_natsets(struct dp_rules *R)
{
	memset(&R->nat_pub, 0, sizeof(R->nat_pub));
	memset(&R->nat_priv, 0, sizeof(R->nat_priv));
	bool tftp = false, nat = false;
	for (int f = 0; f < 2; f++) {
		const struct rules_fprog *fp = &R->prog->f[f];
		int fam = f ? RULES_F_V6 : RULES_F_V4;
		for (uint32_t i = 0; i < fp->n_rules; i++) {
			const struct rules_crule *cr = &fp->rules[i];
			tftp |= cr->kind == RULES_CK_CT &&
				cr->target->u.ctt.helper_id == RULES_HELPER_TFTP;
			if (cr->kind != RULES_CK_NAT)
				continue;
			nat = true;
			const struct rules_ext *t = cr->target;
			const struct rules_t_nat *n = &t->u.nat;
			bool ips = (n->flags & RULES_NAT_MAP_IPS) != 0;
			switch (t->kind) {
			case RULES_X_MASQUERADE:
				R->nat_pub.box = true;
				break;
			case RULES_X_SNAT:
				if (ips)
					natset_add(&R->nat_pub, fam, &n->min, &n->max);
				else
					R->nat_priv.all = true;
				break;
			case RULES_X_DNAT:
				if (ips)
					natset_add(&R->nat_priv, fam, &n->min, &n->max);
				else
					R->nat_priv.all = true;
				break;
			case RULES_X_NETMAP:
				natset_add(&R->nat_pub, fam, &n->min, &n->max);
				natset_add(&R->nat_priv, fam, &n->min, &n->max);
				break;
			default: /* REDIRECT: to the box itself */
				break;
			}
		}
	}
	R->follow_udp = tftp && nat;
}

static struct dp_rules *rules_build(struct dp_ctx *dp, struct rules_ruleset *rs,
	const struct rules_prog *prev, char *err, size_t errlen);

int dp_rules_check(struct dp_ctx *dp, struct rules_ruleset *rs, char *err, size_t errlen)
{
	struct dp_rules *R = rules_build(dp, rs, NULL, err, errlen);
	if (R == NULL)
		return -EINVAL;
	R->rs = NULL; /* the caller's */
	rules_obj_free(R);
	return 0;
}

static int install(struct dp_ctx *dp, struct rules_ruleset *rs, bool reuse, char *err,
	size_t errlen)
{
	struct dp_rules *R = rules_build(dp, rs, reuse && dp->rules ? dp->rules->prog : NULL, err,
		errlen);
	if (R == NULL)
		return -EINVAL;
	/* CT --zone, --timeout, --ctevents: the tables keep each
	 * connection's zones (4 bytes), timeout policy (1), event mask (2)
	 * from now on, zeroed (the connections so far: zone 0, no policy,
	 * every event), before the ruleset runs */
	unsigned side = R->ct ? (R->prog->uses_zones ? CT_SIDE_ZONES : 0) |
		(R->prog->uses_tpol ? CT_SIDE_TPOL : 0) | (R->prog->uses_ctev ? CT_SIDE_CTEV : 0) : 0;
	for (unsigned i = 0; side && i < dp->n_workers; i++) {
		struct ct_table *t = dp->workers[i]->ct;
		if (t != NULL && ct_side_enable(t, side) < 0) {
			snprintf(err, errlen, "CT --zone/--timeout/--ctevents: cannot allocate worker "
				 "%u's per-connection state (%zu KiB): give EAL more memory", i,
				 ((size_t)t->max * ct_side_bytes(side)) >> 10);
			rules_obj_free(R); /* R->rs is still NULL: rs stays the caller's */
			return -ENOMEM;
		}
	}
	/* -m quota: what the rules kept spent stays spent (one budget for
	 * both programs while the workers move over) */
	if (rules_prog_quota_adopt(R->prog, dp->rules ? dp->rules->prog : NULL) < 0) {
		rules_obj_free(R); /* R->rs is still NULL: rs stays the caller's */
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	R->rs = rs;
	R->gen = ++dp->rules_gen;
	struct dp_rules *old = dp->rules;
	__atomic_store_n(&dp->rules, R, __ATOMIC_RELEASE);
	if (dp->started)
		rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	/* no worker uses `old` now: keep it for the records it queued (their
	 * prefixes and NFLOG groups), write them, then free the one before */
	struct dp_rules *older = dp->rules_old;
	dp->rules_old = old;
	dp_logs_drain(dp);
	rules_obj_free(older);
	RP_INFO("rules", "ruleset %" PRIu32 " installed: %" PRIu32 " IPv4 and %" PRIu32
		" IPv6 rules, %zu KiB%s", R->gen, R->prog->f[0].n_rules, R->prog->f[1].n_rules,
		R->prog->mem / 1024, R->prog->has_tail ? " (appended rules walked in order until "
		"the next rebuild)" : "");
	return 0;
}

int dp_rules_install(struct dp_ctx *dp, struct rules_ruleset *rs, char *err, size_t errlen)
{
	return install(dp, rs, false, err, errlen);
}

/* A rule whose one match is the connection's state: -m state --state or
 * -m conntrack --ctstate alone, not inverted, no other selector. Its
 * state bits in *st. */
static bool state_only(const struct rules_crule *cr, uint32_t *st)
{
	if (cr->flags != 0 || cr->inv != 0 || cr->proto != 0 || cr->n_match != 1 || cr->hotdrop)
		return false;
	const struct rules_ext *x = &cr->match[0];
	if (x->invert != 0 || (x->kind != RULES_X_STATE &&
			       (x->kind != RULES_X_CONNTRACK || x->present != (1u << RULES_O_CT_STATE))))
		return false;
	*st = x->u.ct.state;
	return true;
}

/* The rule of chain ch that decides every packet of an established
 * connection, if the chain's rules before it cannot match one: those
 * match by state alone, without ESTABLISHED, SNAT or DNAT (-m conntrack
 * --ctstate INVALID -j DROP, say); it accepts by state alone, with
 * ESTABLISHED.
 * Its index in the family's rules, -1 if there is none. */
static int64_t est_rule(const struct rules_fprog *fp, const struct rules_cchain *ch)
{
	for (uint32_t j = 0; j < ch->n; j++) {
		const struct rules_crule *cr = &fp->rules[ch->first + j];
		uint32_t st;
		if (!state_only(cr, &st))
			return -1;
		if (st & RULES_CT_ESTABLISHED)
			return cr->kind == RULES_CK_ACCEPT ? (int64_t)ch->first + j : -1;
		/* --ctstate SNAT/DNAT: an established translated connection's
		 * packets have them too */
		if (st & (RULES_CT_SNAT | RULES_CT_DNAT))
			return -1;
	}
	return -1;
}

/* Compile rs for this dataplane with its per-worker state; NULL with err. */
static struct dp_rules *rules_build(struct dp_ctx *dp, struct rules_ruleset *rs,
	const struct rules_prog *prev, char *err, size_t errlen)
{
	const char *names[DP_MAX_PORTS];
	for (unsigned i = 0; i < dp->n_ports; i++)
		names[i] = dp->ports[i].name;
	struct dp_rules *R = calloc(1, sizeof(*R));
	if (R == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	R->prog = rules_prog_compile_from(rs, names, dp->n_ports, 0, prev, err, errlen);
	if (R->prog == NULL) {
		free(R);
		return NULL;
	}
	R->prog->limit_share = dp->n_workers ? dp->n_workers : 1;
	/* what this box cannot run */
	const char *refused = dp_rules_refused(R->prog, dp->mode, dp->ct_mode);
	if (refused != NULL) {
		rules_prog_free(R->prog);
		free(R);
		snprintf(err, errlen, "%s", refused);
		return NULL;
	}
	R->ct = dp->ct_mode == CFG_CT_ON || (dp->ct_mode == CFG_CT_AUTO && R->prog->uses_ct);
	R->nat = R->prog->uses_nat;
	if (R->nat)
		build_natsets(R);
	/* the router's fast lane: forwarding that crosses no rule, only
	 * empty chains whose ACCEPT policy counts it (the nat table's
	 * chains see only tracked connections: without tracking, none).
	 * With tracking, the established lane: a chain may also have a rule
	 * that accepts ESTABLISHED first, or after rules that match other
	 * states only (est_rule); it counts the packets of established
	 * connections (the raw table's runs before tracking: it must be
	 * empty); it applies their NAT bindings (the nat table's chains see
	 * only new connections). */
	static const enum rules_hook fwd_hooks[3] = { RULES_H_PREROUTING, RULES_H_FORWARD,
						      RULES_H_POSTROUTING };
	for (unsigned f = 0; f < 2; f++) {
		const struct rules_fprog *fp = &R->prog->f[f];
		R->fast[f] = dp->mode == CFG_MODE_ROUTER;
		R->fast_n[f] = 0;
		for (unsigned k = 0; k < 3 && R->fast[f]; k++) {
			enum rules_hook h = fwd_hooks[k];
			for (unsigned i = 0; i < fp->hook_n[h]; i++) {
				if (i + 1 == fp->hook_nat[h])
					continue;
				const struct rules_cchain *ch = &fp->chains[fp->hook_seq[h][i]];
				bool raw = i == 0 && fp->hook_raw[h];
				int64_t e;
				if (ch->n == 0 && ch->policy == RULES_POL_ACCEPT) {
					R->fast_ctr[f][R->fast_n[f]++] = ch->policy_ctr;
				} else if (R->ct && !raw && (e = est_rule(fp, ch)) >= 0) {
					R->fast_ctr[f][R->fast_n[f]++] = fp->rules[e].ctr;
				} else {
					R->fast[f] = false;
					break;
				}
			}
		}
	}
	for (unsigned i = 0; i < dp->n_workers; i++) {
		/* own cache lines per worker: no false sharing between counters */
		size_t sz = RTE_ALIGN_CEIL((size_t)(R->prog->n_slots ? R->prog->n_slots : 1) *
						   sizeof(struct rules_counter),
					   RTE_CACHE_LINE_SIZE);
		R->ctr[i] = aligned_alloc(RTE_CACHE_LINE_SIZE, sz);
		if (R->ctr[i] == NULL) {
			R->rs = NULL;
			rules_obj_free(R);
			snprintf(err, errlen, "out of memory for rule counters");
			return NULL;
		}
		memset(R->ctr[i], 0, sz);
		if (R->prog->uses_connlimit) {
			/* the connections that passed a connlimit match, by key */
			R->climit[i] = ct_limit_create(DP_CLIMIT_KEYS, DP_CLIMIT_MEMBERS, zcalloc, free);
			if (R->climit[i] == NULL) {
				R->rs = NULL;
				rules_obj_free(R);
				snprintf(err, errlen, "out of memory for connlimit's counts");
				return NULL;
			}
		}
	}
	return R;
}

/* Fold a retired program's per-worker counters into its model (no worker
 * writes them any more) and zero them, so that they count only once. */
static void fold_retired(struct dp_ctx *dp, struct dp_rules *R)
{
	rules_prog_fold(R->prog, R->ctr, dp->n_workers, R->rs);
	size_t sz = (size_t)(R->prog->n_slots ? R->prog->n_slots : 1) * sizeof(struct rules_counter);
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (R->ctr[i] != NULL)
			memset(R->ctr[i], 0, sz);
}

int dp_rules_update(struct dp_ctx *dp, struct rules_ruleset *rs, bool inherit, char *err,
	size_t errlen, uint64_t *us)
{
	uint64_t t0 = rte_get_timer_cycles();
	struct dp_rules *old = dp->rules;
	if (inherit && old != NULL) {
		(void)rules_inherit_ids(rs, old->rs); /* on OOM: counters restart, nothing worse */
		/* a file read again: its chains' [p:b] were for a fresh start,
		 * the running policy counters go on */
		for (int t = 0; t < RULES_T_COUNT; t++)
			for (size_t i = 0; i < rs->tables[t].n_chains; i++)
				rs->tables[t].chains[i].ctr_set = 0;
	}
	rules_assign_ids(rs, &dp->rule_ids);
	int rc = install(dp, rs, true, err, errlen);
	if (rc < 0)
		return rc;
	if (us != NULL)
		*us = (rte_get_timer_cycles() - t0) * 1000000 / rte_get_timer_hz();
	if (old != NULL) {
		/* old is dp->rules_old now: retired, no worker holds it */
		fold_retired(dp, old);
		rules_carry_counters(rs, old->rs);
	} else {
		rules_carry_counters(rs, NULL);
	}
	return 0;
}

struct rules_ruleset *dp_rules_snapshot(struct dp_ctx *dp)
{
	const struct dp_rules *R = dp->rules;
	if (R == NULL)
		return rules_new();
	/* the counters need no folding: dp_rules_update carries the final ones */
	return rules_clone(R->rs);
}

bool dp_rules_tailed(const struct dp_ctx *dp)
{
	return dp->rules && dp->rules->prog->has_tail;
}

int dp_rules_rebuild(struct dp_ctx *dp, char *err, size_t errlen)
{
	if (dp->rules == NULL)
		return 0;
	struct rules_ruleset *rs = dp_rules_snapshot(dp);
	if (rs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct dp_rules *old = dp->rules;
	int rc = install(dp, rs, false, err, errlen); /* the same rules, every classifier built */
	if (rc < 0) {
		rules_free(rs);
		return rc;
	}
	fold_retired(dp, old);
	rules_carry_counters(rs, old->rs);
	return 0;
}

int dp_rules_view(struct dp_ctx *dp, void (*fn)(const struct rules_ruleset *rs, void *arg),
	void *arg)
{
	struct dp_rules *R = dp->rules;
	if (R == NULL) {
		struct rules_ruleset *e = rules_new();
		if (e == NULL)
			return -ENOMEM;
		fn(e, arg);
		rules_free(e);
		return 0;
	}
	uint32_t n = R->prog->n_ctr;
	struct rules_counter *sum = calloc(n ? n : 1, sizeof(*sum));
	if (sum == NULL)
		return -ENOMEM;
	for (unsigned w = 0; w < dp->n_workers; w++)
		for (uint32_t i = 0; i < n; i++) {
			sum[i].pkts += R->ctr[w][i].pkts;
			sum[i].bytes += R->ctr[w][i].bytes;
		}
	/* in, look, out again: exactly what was added is taken away (the
	 * workers never read the model; this thread is its only user) */
	struct rules_counter *one = sum;
	rules_prog_fold(R->prog, &one, 1, R->rs);
	fn(R->rs, arg);
	for (uint32_t i = 0; i < n; i++) {
		sum[i].pkts = (uint64_t)0 - sum[i].pkts;
		sum[i].bytes = (uint64_t)0 - sum[i].bytes;
	}
	rules_prog_fold(R->prog, &one, 1, R->rs);
	free(sum);
	return 0;
}

uint32_t dp_rules_generation(const struct dp_ctx *dp)
{
	return dp->rules ? dp->rules->gen : 0;
}

uint64_t dp_rules_clock_us(const struct dp_ctx *dp)
{
	return rte_rdtsc() / dp->tsc_us;
}

void dp_rules_destroy(struct dp_ctx *dp)
{
	dp_logs_drain(dp);
	rules_obj_free(dp->rules);
	rules_obj_free(dp->rules_old);
	dp->rules = dp->rules_old = NULL;
}

char *dp_rules_save(struct dp_ctx *dp, int fam, unsigned flags)
{
	const struct dp_rules *R = dp->rules;
	if (R == NULL)
		return NULL;
	struct rules_ruleset *copy = rules_clone(R->rs);
	if (copy == NULL)
		return NULL;
	if (flags & RULES_PRINT_COUNTERS)
		rules_prog_fold(R->prog, R->ctr, dp->n_workers, copy);
	char *s = rules_ipt_print(copy, fam, flags);
	rules_free(copy);
	return s;
}

static void write_log(struct dp_ctx *dp, const struct dp_logrec *rec)
{
	const struct dp_rules *R = dp->rules && dp->rules->gen == rec->gen ? dp->rules :
		dp->rules_old && dp->rules_old->gen == rec->gen         ? dp->rules_old :
									  NULL;
	const char *prefix = "";
	unsigned level = 4, flags = 0;
	if (R && rec->ctr < R->prog->n_ctr && R->prog->ctr_ext[rec->ctr]) {
		const struct rules_ext *x = R->prog->ctr_ext[rec->ctr];
		if (x->kind == RULES_X_NFLOG) {
			dp_nflog_write(dp, &x->u.nflog, rec);
			dp->logs_written++;
			return;
		}
		if (x->kind == RULES_X_LOG) {
			prefix = x->u.log.prefix ? x->u.log.prefix : "";
			level = x->u.log.level;
			flags = x->u.log.flags;
		}
	}
	const char *in = rec->in_port < dp->n_ports ? dp->ports[rec->in_port].name : "";
	const char *out = rec->out_port < dp->n_ports ? dp->ports[rec->out_port].name : "";
	/* a deep packet's copy, when it came along (filter_fast.c) */
	const uint8_t *data = rec->data;
	uint32_t caplen = rec->caplen;
	uint8_t deep[DP_LOG_DEEP];
	if (rec->copy != NULL) {
		uint32_t l = RTE_MIN(rte_pktmbuf_pkt_len(rec->copy), (uint32_t)sizeof(deep));
		const uint8_t *p = rte_pktmbuf_read(rec->copy, 0, l, deep);
		if (p != NULL) {
			data = p;
			caplen = l;
		}
	}
	char line[1024];
	rules_log_format(line, sizeof(line), prefix, in, out, rec->has_mac ? rec->mac : NULL,
			 data, caplen, rec->fam, flags, rec->mark);
	rp_pktlog(level, line);
	dp->logs_written++;
}

unsigned dp_set_reqs_drain(struct dp_ctx *dp, struct rules_set_req *out, unsigned max)
{
	unsigned total = 0;
	for (unsigned i = 0; i < dp->n_workers && total < max; i++) {
		struct dp_worker *w = dp->workers[i];
		if (w == NULL || w->setq == NULL)
			continue;
		total += rte_ring_sc_dequeue_burst_elem(w->setq, out + total, sizeof(*out),
							max - total, NULL);
	}
	return total;
}

/* The live set q names, if it is still of q's type and family (a set made
 * again under the name since the request: NULL). */
static struct rules_set *req_set(struct dp_ctx *dp, const struct rules_set_req *q)
{
	struct dp_rules *R = dp->rules;
	struct rules_set *s = R ? (struct rules_set *)rules_set_find(R->rs, q->name) : NULL;
	return s && s->type == q->type && s->fam == q->fam ? s : NULL;
}

long dp_set_lookup(struct dp_ctx *dp, const struct rules_set_req *q, uint64_t now, bool *live)
{
	*live = false;
	struct rules_set *s = req_set(dp, q);
	if (s == NULL)
		return -2;
	struct dp_rules *R = dp->rules;
	uint32_t pos;
	return rules_cset_find(R->prog->csets[s - R->rs->sets].cur, &q->e, now, live, &pos);
}

bool dp_set_renew(struct dp_ctx *dp, const struct rules_set_req *q, uint64_t now)
{
	struct rules_set *s = req_set(dp, q);
	if (s == NULL)
		return true; /* no such set any more: nothing to do */
	struct dp_rules *R = dp->rules;
	struct rules_cset *cs = R->prog->csets[s - R->rs->sets].cur;
	bool live;
	uint32_t pos;
	long i = rules_cset_find(cs, &q->e, now, &live, &pos);
	if (i < 0 || !live)
		return true;
	/* xt_SET's add --exist makes an exception a plain entry (its comment
	 * stays, as the kernel's): a change of the set, not a renewal in
	 * place */
	if (cs->e[pos].nomatch)
		return false;
	if (!s->has_timeout)
		return true;
	uint64_t exp_us = rules_set_exp(s, q->timeout, now);
	/* an aligned 8-byte store: a worker reads the old time or the new,
	 * never a mix; the ruleset this thread keeps gets the same */
	__atomic_store_n(&cs->e[pos].exp_us, exp_us, __ATOMIC_RELAXED);
	s->e[i].exp_us = exp_us;
	return true;
}

int dp_set_copy(struct dp_ctx *dp, const char *name, struct rules_set *out)
{
	struct dp_rules *R = dp->rules;
	const struct rules_set *s = R ? rules_set_find(R->rs, name) : NULL;
	if (s == NULL)
		return -ENOENT;
	return rules_set_copy(out, s);
}

static bool same_entries(const struct rules_set *a, const struct rules_set *b)
{
	if (a->n != b->n)
		return false;
	/* entries field for field but the comment's offset (pools are
	 * compacted by copies), then the comments' text */
	const size_t c0 = offsetof(struct rules_set_entry, cmt), c1 = c0 + sizeof(a->e[0].cmt);
	for (size_t i = 0; i < a->n; i++) {
		const char *x = (const char *)&a->e[i], *y = (const char *)&b->e[i];
		if (memcmp(x, y, c0) != 0 || memcmp(x + c1, y + c1, sizeof(a->e[0]) - c1) != 0 ||
		    strcmp(rules_set_entry_comment(a, &a->e[i]), rules_set_entry_comment(b, &b->e[i])) != 0)
			return false;
	}
	return true;
}

int dp_sets_commit(struct dp_ctx *dp, struct rules_set *sets, size_t n, uint64_t *us, char *err,
	size_t errlen)
{
	struct dp_rules *R = dp->rules;
	uint64_t t0 = rte_rdtsc();
	if (R == NULL) {
		snprintf(err, errlen, "no ruleset is installed");
		return -EINVAL;
	}
	struct rules_cset **built = calloc(n ? n : 1, sizeof(*built));
	size_t *at = calloc(n ? n : 1, sizeof(*at));
	if (built == NULL || at == NULL) {
		free(built);
		free(at);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++) {
		const struct rules_set *live = rules_set_find(R->rs, sets[k].name);
		if (live == NULL || live->type != sets[k].type || live->fam != sets[k].fam ||
		    live->has_timeout != sets[k].has_timeout || live->has_comment != sets[k].has_comment ||
		    live->range_lo != sets[k].range_lo || live->ip_lo != sets[k].ip_lo ||
		    live->ip_hi != sets[k].ip_hi || live->netmask != sets[k].netmask ||
		    live->range_hi != sets[k].range_hi) {
			snprintf(err, errlen, "set %s is not the live one (the ruleset changed)",
				sets[k].name);
			rc = -EINVAL;
			break;
		}
		at[k] = (size_t)(live - R->rs->sets);
		if (same_entries(live, &sets[k]))
			continue;
		if ((built[k] = rules_cset_build(&sets[k], R->rs, R->prog->csets)) == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc < 0) {
		for (size_t k = 0; k < n; k++)
			rules_cset_free(built[k]);
		free(built);
		free(at);
		return rc;
	}
	/* publish every new one, then wait once: no worker holds an old one */
	bool any = false;
	for (size_t k = 0; k < n; k++) {
		if (built[k] == NULL)
			continue;
		any = true;
		struct rules_cset_slot *slot = &R->prog->csets[at[k]];
		struct rules_cset *old = slot->cur;
		__atomic_store_n(&slot->cur, built[k], __ATOMIC_RELEASE);
		built[k] = old;
		/* the entries change hands: the live ruleset gets the new ones,
		 * the caller's copy the old ones (freed with it) */
		rules_set_swap_entries(&R->rs->sets[at[k]], &sets[k]);
	}
	if (any && dp->started)
		rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	for (size_t k = 0; k < n; k++)
		rules_cset_free(built[k]);
	free(built);
	free(at);
	if (us)
		*us = (rte_rdtsc() - t0) / dp->tsc_us;
	return 0;
}

unsigned dp_logs_drain(struct dp_ctx *dp)
{
	unsigned total = 0;
	struct dp_logrec recs[8];
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = dp->workers[i];
		if (w == NULL || w->logq == NULL)
			continue;
		/* bounded per call: logging must not starve ARP/ND handling */
		for (unsigned round = 0; round < 8; round++) {
			unsigned n = rte_ring_sc_dequeue_burst_elem(w->logq, recs, sizeof(recs[0]),
								    RTE_DIM(recs), NULL);
			for (unsigned k = 0; k < n; k++) {
				write_log(dp, &recs[k]);
				rte_pktmbuf_free(recs[k].copy); /* an NFLOG copy, if any */
			}
			total += n;
			if (n < RTE_DIM(recs))
				break;
		}
	}
	return total;
}

const char *dp_rules_refused(const struct rules_prog *p, unsigned mode, unsigned ct_mode)
{
	if (p->uses_ct && ct_mode == CFG_CT_OFF)
		return "the ruleset uses connection tracking (state, conntrack, connmark, connbytes, "
		       "helper, NOTRACK, CT or CONNMARK) but conntrack.mode is off";
	if (mode != CFG_MODE_BRIDGE)
		return NULL;
	if (p->uses_nat)
		return "the nat table translates in router mode only (this box is a bridge)";
	if (p->uses_npt)
		return "SNPT and DNPT translate addresses in router mode only (this box is a bridge)";
	if (p->uses_tee)
		return "-j TEE routes its copies to a gateway: router mode only (this box is a bridge)";
	if (p->need_rpf)
		return "-m rpfilter looks up routes: router mode only (this box is a bridge)";
	return NULL;
}
