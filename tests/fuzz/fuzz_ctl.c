/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_ctl: control-socket requests (src/ctl_proto.c's framing and word
 * decoding, src/ctl_cmd.c's commands: iptables-style edits, restore and
 * load bodies, conntrack filters). The dataplane side is stubbed: rulesets
 * are kept here as the live one would be, and
 * the walk shows one synthetic IPv4 and one IPv6 connection to the
 * visitor, so the listing code runs too.
 */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "ctl.h"
#include "dp_ct.h"
#include "dp_trace.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int dp_ct_walk(struct dp_ctx *dp, const struct dp_ct_filter *f, bool kill, dp_ct_visit_fn fn,
	void *arg, char *err, size_t errlen)
{
	(void)dp;
	(void)f;
	(void)kill;
	(void)err;
	(void)errlen;
	static struct ct_entry e[2];
	static struct ct_addr6 a6;
	memset(e, 0, sizeof(e));
	e[0].fam = 4;
	e[0].proto = 6;
	e[0].ps = CT_TCP_ESTABLISHED;
	e[0].a.a4[0] = 0x0201a8c0;
	e[0].port[0] = 1234;
	e[0].status = CT_S_SRC_NAT | CT_S_CONFIRMED; /* show nat counts it */
	e[0].a.a4[3] = 0x0102000a;
	e[0].port[3] = 40000;
	e[1].fam = 6;
	e[1].proto = 58;
	e[1].port[1] = 128 << 8;
	e[1].status = CT_S_DST_NAT;
	struct ct_table v;
	int n = 0;
	for (int i = 0; i < 2; i++) {
		memset(&v, 0, sizeof(v));
		v.e = &e[i];
		v.x6 = &a6;
		v.max = 1;
		n++;
		if (fn && fn(arg, 0, &v, 0) < 0)
			break;
	}
	return n;
}

int dp_ct_update_mark(struct dp_ctx *dp, const struct dp_ct_filter *f, uint32_t value,
	uint32_t mask, dp_ct_visit_fn fn, void *arg, char *err, size_t errlen)
{
	(void)value;
	(void)mask;
	return dp_ct_walk(dp, f, false, fn, arg, err, errlen);
}

int dp_ct_flush(struct dp_ctx *dp, char *err, size_t errlen)
{
	(void)dp;
	(void)err;
	(void)errlen;
	return 0;
}

int dp_ct_expect_list(struct dp_ctx *dp, FILE *out, struct json *j, bool flush)
{
	(void)dp;
	if (flush)
		return 1;
	if (j != NULL) {
		json_obj(j);
		json_kstr(j, "helper", "ftp");
		json_obj_end(j);
	} else if (out != NULL) {
		fprintf(out, "300 proto=6 src=10.0.0.1 dst=10.0.0.2 sport=0 dport=1 helper=ftp\n");
	}
	return 1;
}

void dp_ct_stats(struct dp_ctx *dp, FILE *out, struct json *j)
{
	(void)dp;
	if (j != NULL) {
		json_arr(j);
		json_obj(j);
		json_ku64(j, "worker", 0);
		json_obj_end(j);
		json_arr_end(j);
		return;
	}
	fprintf(out, "worker=0 entries=0\n");
}

void dp_nat_stats(struct dp_ctx *dp, FILE *out, struct json *j)
{
	(void)dp;
	if (j != NULL) {
		json_arr(j);
		json_arr_end(j);
		return;
	}
	fprintf(out, "worker=0 bindings_src=0\n");
}

unsigned dp_ct_count(struct dp_ctx *dp)
{
	(void)dp;
	return 0;
}

static int g_ev_readers; /* conntrack -E: opened and not closed */

int dp_ct_events(struct dp_ctx *dp, bool on, char *err, size_t errlen)
{
	(void)dp;
	(void)err;
	(void)errlen;
	g_ev_readers += on ? 1 : -1;
	return 0;
}

int dp_ct_exp_events(struct dp_ctx *dp, bool on, char *err, size_t errlen)
{
	(void)dp;
	(void)err;
	(void)errlen;
	g_ev_readers += on ? 1 : -1;
	return 0;
}

bool dp_ct_set_params(struct dp_ctx *dp, const struct ct_params *p)
{
	(void)dp;
	(void)p;
	return false;
}

void dp_ct_exp_json(struct json *j, const struct ct_exp_ev *e)
{
	json_ku64(j, "dport", e->k.dport);
}

bool dp_ct_match(const struct ct_table *view, const struct dp_ct_filter *f)
{
	return view->e[0].fam == f->fam || f->fam == 0;
}

/* ---- the ruleset side: a small live ruleset kept here ---- */

#include "dp.h"
#include "dp_trace.h"
#include "rules.h"
#include "rules_prog.h"

static struct rules_ruleset *g_live;
static uint64_t g_ids;
static uint32_t g_gen;

static void live_init(void)
{
	static const char text[] = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n:web - [0:0]\n-A FORWARD -p tcp --dport 80 -j web\n"
		"-A web -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n"
		":INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
		"-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n";
	char err[256];
	rules_free(g_live);
	g_live = rules_new();
	static const char sets[] = "create banned hash:ip timeout 60 maxelem 6\nadd banned 10.0.0.1\n"
				   "create svc hash:ip,port maxelem 8\n"
				   "create nets hash:net timeout 60 maxelem 8 comment\n"
				   "add nets 10.0.0.0/8 comment \"wide\"\nadd nets 10.1.0.0/16 nomatch\n"
				   "create blk bitmap:ip range 10.0.0.0/20 netmask 28 timeout 30\n"
				   "create pin hash:ip,port,net maxelem 8\n"
				   "create lst list:set size 4\nadd lst nets\n";
	if (g_live == NULL ||
	    rules_ipset_load(g_live, sets, sizeof(sets) - 1, "seed", err, sizeof(err)) < 0 ||
	    rules_ipt_load(g_live, RULES_F_V4, text, sizeof(text) - 1, "seed", 0, err, sizeof(err)) < 0)
		abort();
	rules_assign_ids(g_live, &g_ids);
}

struct rules_ruleset *dp_rules_snapshot(struct dp_ctx *dp)
{
	(void)dp;
	return rules_clone(g_live);
}

int dp_rules_update(struct dp_ctx *dp, struct rules_ruleset *rs, bool inherit, char *err,
	size_t errlen, uint64_t *us)
{
	(void)dp;
	(void)err;
	(void)errlen;
	if (inherit)
		rules_inherit_ids(rs, g_live);
	rules_assign_ids(rs, &g_ids);
	rules_carry_counters(rs, g_live);
	rules_free(g_live);
	g_live = rs;
	g_gen++;
	if (us)
		*us = 1;
	return 0;
}

void dp_trace_ctl(struct dp_ctx *dp, int argc, char **argv, FILE *out, bool json)
{
	(void)dp;
	(void)json;
	(void)argc;
	(void)argv;
	fprintf(out, "%%%% ok\n");
}

int dp_rules_view(struct dp_ctx *dp, void (*fn)(const struct rules_ruleset *rs, void *arg),
	void *arg)
{
	(void)dp;
	fn(g_live, arg);
	return 0;
}

bool dp_rules_tailed(const struct dp_ctx *dp)
{
	(void)dp;
	return false;
}

int dp_rules_rebuild(struct dp_ctx *dp, char *err, size_t errlen)
{
	(void)dp;
	(void)err;
	(void)errlen;
	return 0;
}

int dp_rules_check(struct dp_ctx *dp, struct rules_ruleset *rs, char *err, size_t errlen)
{
	(void)dp;
	(void)rs;
	(void)err;
	(void)errlen;
	return 0;
}

uint32_t dp_rules_generation(const struct dp_ctx *dp)
{
	(void)dp;
	return g_gen;
}

uint64_t dp_rules_clock_us(const struct dp_ctx *dp)
{
	(void)dp;
	return 1000000;
}

/* -j SET: the "workers" queue requests made of the input's bytes (8
 * each, at most 16 per input), against the live sets "banned" (hash:ip,
 * timeout) and "svc" (hash:ip,port); lookups, renewals and commits work
 * on g_live as the dataplane's do on its live ruleset and program */
static const uint8_t *g_req_data;
static size_t g_req_len;

unsigned dp_set_reqs_drain(struct dp_ctx *dp, struct rules_set_req *out, unsigned max)
{
	(void)dp;
	unsigned n = 0;
	while (n < max && n < 16 && g_req_len >= 8) {
		const uint8_t *b = g_req_data;
		struct rules_set_req *q = &out[n++];
		memset(q, 0, sizeof(*q));
		bool svc = b[1] & 1;
		snprintf(q->name, sizeof(q->name), "%s", svc ? "svc" : "banned");
		q->type = svc ? RULES_SET_HASH_IP_PORT : (b[1] & 2) ? RULES_SET_HASH_NET : RULES_SET_HASH_IP;
		q->fam = RULES_F_V4;
		q->op = b[0] & 1 ? RULES_SETREQ_DEL : RULES_SETREQ_ADD;
		q->exist = (b[0] >> 1) & 1;
		q->timeout = b[2] == 255 ? RULES_SET_NO_TIMEOUT : b[2];
		q->e.addr.b[0] = 10;
		q->e.addr.b[2] = b[3] & 3;
		q->e.addr.b[3] = b[4] & 7;
		q->e.plen = 32;
		if (svc) {
			q->e.proto = b[5] & 1 ? 17 : 6;
			q->e.port_lo = q->e.port_hi = (uint16_t)(b[6] & 3);
		}
		g_req_data += 8;
		g_req_len -= 8;
	}
	return n;
}

static struct rules_set *req_set(const struct rules_set_req *q)
{
	struct rules_set *s = (struct rules_set *)rules_set_find(g_live, q->name);
	return s && s->type == q->type && s->fam == q->fam ? s : NULL;
}

long dp_set_lookup(struct dp_ctx *dp, const struct rules_set_req *q, uint64_t now, bool *live)
{
	(void)dp;
	*live = false;
	struct rules_set *s = req_set(q);
	if (s == NULL)
		return -2;
	struct rules_cset *cs = rules_cset_build(s, NULL, NULL);
	if (cs == NULL)
		abort();
	uint32_t pos;
	long i = rules_cset_find(cs, &q->e, now, live, &pos);
	rules_cset_free(cs);
	return i;
}

bool dp_set_renew(struct dp_ctx *dp, const struct rules_set_req *q, uint64_t now)
{
	bool live;
	struct rules_set *s = req_set(q);
	long i = dp_set_lookup(dp, q, now, &live);
	if (s == NULL || i < 0 || !live)
		return true;
	if (s->e[i].nomatch)
		return false; /* made a plain entry, as a change */
	if (s->has_timeout)
		s->e[i].exp_us = rules_set_exp(s, q->timeout, now);
	return true;
}

int dp_set_copy(struct dp_ctx *dp, const char *name, struct rules_set *out)
{
	(void)dp;
	const struct rules_set *s = rules_set_find(g_live, name);
	return s ? rules_set_copy(out, s) : -ENOENT;
}

/* the live sets take the given entries, which take the old ones */
int dp_sets_commit(struct dp_ctx *dp, struct rules_set *sets, size_t n, uint64_t *us, char *err,
	size_t errlen)
{
	(void)dp;
	for (size_t k = 0; k < n; k++) {
		const struct rules_set *l = rules_set_find(g_live, sets[k].name);
		if (l == NULL || l->type != sets[k].type || l->fam != sets[k].fam ||
		    l->has_timeout != sets[k].has_timeout || l->has_comment != sets[k].has_comment ||
		    l->ip_lo != sets[k].ip_lo || l->ip_hi != sets[k].ip_hi || l->netmask != sets[k].netmask) {
			snprintf(err, errlen, "set %s is not the live one", sets[k].name);
			return -EINVAL;
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct rules_set *l = (struct rules_set *)rules_set_find(g_live, sets[k].name);
		rules_set_swap_entries(l, &sets[k]);
	}
	if (us)
		*us = 1;
	return 0;
}

void dp_stats_print(struct dp_ctx *dp, FILE *out)
{
	(void)dp;
	fprintf(out, "port lan0 rx=0\n");
}

/*
 * One input: a whole connection's bytes. The framing decides (header,
 * body), the header is decoded into words and, if it frames, executed
 * against the small live ruleset (every state change is kept, so a run
 * explores sequences of edits; it is reset every 1000 inputs).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned runs;
	if (g_live == NULL || ++runs % 1000 == 0)
		live_init();
	if (size > (1u << 20))
		return 0;
	char *buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	size_t head, off, blen;
	char err[256];
	int f = rp_ctl_frame(buf, size, &head, &off, &blen, err, sizeof(err));
	if (f <= 0) {
		/* not framed: the decoder still gets the first line */
		char *nl = memchr(buf, '\n', size);
		if (nl)
			*nl = '\0';
		head = strlen(buf);
		off = head;
		blen = 0;
	}
	buf[head] = '\0';
	char *argv[CTL_ARGS_MAX + 1];
	int argc = rp_ctl_decode(buf, argv, CTL_ARGS_MAX, err, sizeof(err));
	if (argc > 0) {
		/* encoding a decoded word and decoding it again gives it back */
		char enc[4096], *one[2];
		if (rp_ctl_encode(argv[0], enc, sizeof(enc)) != (size_t)-1) {
			char copy[4096];
			snprintf(copy, sizeof(copy), "%s", argv[0]);
			if (rp_ctl_decode(enc, one, 1, err, sizeof(err)) != 1 || strcmp(one[0], copy) != 0)
				abort();
		}
	}
	if (f > 0 && argc > 0) {
		static struct cfg nocfg; /* no ruleset files: reload installs an empty ruleset */
		struct rp_ctl_env env = { .cfg = &nocfg };
		g_req_data = data;
		g_req_len = size;
		(void)rp_ctl_readonly(argc, argv);
		FILE *out = fopen("/dev/null", "w");
		if (out) {
			(void)rp_ctl_streams(argc, argv);
			rp_ctl_exec(&env, argc, argv, blen ? buf + off : NULL, blen, out);
			fclose(out);
		}
		if (rp_ctl_is_events(argc, argv)) { /* conntrack -E: the socket's side */
			char e2[256];
			struct rp_ctl_events *ev = rp_ctl_events_open(&env, argc, argv, e2, sizeof(e2));
			if (ev != NULL) {
				struct ct_entry e = { .fam = 4, .proto = 17 };
				struct ct_table v = { .e = &e, .max = 1 };
				char line[512];
				struct timespec ts = { 1, 2 };
				(void)rp_ctl_events_line(ev, 0, &v, 0, CT_EV_UPDATE, &ts, line, sizeof(line));
				rp_ctl_events_close(&env, ev);
			}
			if (g_ev_readers != 0)
				abort(); /* a subscription left open */
		}
		rp_ctl_tick(&env); /* what -j SET requests are left */
		rp_ctl_env_release(&env);
	}
	g_req_len = 0;
	free(buf);
	return 0;
}
