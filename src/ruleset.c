/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ruleset: the files of the `ruleset:` key of rampart.yaml into one model.
 * Order matters: ipsets first (iptables rules refer to sets that must
 * exist), then the main file, then the ip6tables file. Every step is
 * transactional and the whole ruleset is validated at the end, so a failed
 * load hands back nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ruleset.h"

#define RULESET_FILE_MAX (256u << 20)

char *rp_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RULESET_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %u MiB", path,
			 RULESET_FILE_MAX >> 20);
		fclose(f);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(f);
		return NULL;
	}
	size_t n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int rp_ruleset_is_iptables(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
			i++;
		if (i < len && buf[i] == '\n') {
			i++;
			continue;
		}
		if (i < len && buf[i] == '#') {
			while (i < len && buf[i] != '\n')
				i++;
			continue;
		}
		return i < len && buf[i] == '*';
	}
	return 0;
}

static int load_one(struct rules_ruleset *rs, const char *path, int kind, char *err, size_t errlen)
{
	size_t len;
	char *buf = rp_read_file(path, &len, err, errlen);
	if (buf == NULL)
		return -1;
	int rc;
	switch (kind) {
	case 4:
		rc = rules_ipt_load(rs, RULES_F_V4, buf, len, path, 0, err, errlen);
		break;
	case 6:
		rc = rules_ipt_load(rs, RULES_F_V6, buf, len, path, 0, err, errlen);
		break;
	case 's':
		rc = rules_ipset_load(rs, buf, len, path, err, errlen);
		break;
	default:
		rc = rules_yaml_load(rs, buf, len, path, err, errlen);
		break;
	}
	free(buf);
	return rc < 0 ? -1 : 0;
}

/* ---- CT --timeout policy ids (ruleset.h) ---- */

static struct {
	bool on;
	unsigned n; /* live policies, in the configuration's order */
	struct rules_tpol live[CT_TPOL_MAX]; /* with their ids */
	unsigned next;     /* the next id to give */
	struct rules_tpol desc[CT_TPOL_IDS]; /* what each id given names */
	uint64_t retiring; /* ids of removed policies a rule may still name */
	struct ct_params par; /* every id's timeouts, as the dataplane has them */
} g_tp;
_Static_assert(CT_TPOL_IDS <= 64, "g_tp.retiring holds one bit an id");
_Static_assert(CT_TPOL_GENERIC == RULES_TPOL_GENERIC, "the generic policy's protocol, as the rules know it");

static void tpol_of(const struct cfg *c, unsigned i, struct rules_tpol *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->name, c->tpol[i].name, sizeof(t->name));
	t->fams = (uint8_t)((c->tpol[i].fams & 1 ? RULES_F_V4 : 0) |
			    (c->tpol[i].fams & 2 ? RULES_F_V6 : 0));
	t->proto = c->tpol[i].proto;
}

static bool tpol_same(const struct rules_tpol *a, const struct rules_tpol *b)
{
	return !strcmp(a->name, b->name) && a->proto == b->proto && a->fams == b->fams;
}

static void tpol_register(void)
{
	/* a copy of a few dozen bytes: only out of memory fails it, and
	 * then the registry stays the last one */
	(void)rules_timeout_policies(g_tp.live, g_tp.n);
}

void rp_tpol_start(const struct cfg *c)
{
	memset(&g_tp, 0, sizeof(g_tp));
	g_tp.on = true;
	g_tp.n = c->ct.n_tpol < CT_TPOL_MAX ? c->ct.n_tpol : CT_TPOL_MAX;
	for (unsigned i = 0; i < g_tp.n; i++) {
		tpol_of(c, i, &g_tp.live[i]);
		g_tp.live[i].id = (uint8_t)(i + 1);
		g_tp.desc[i] = g_tp.live[i];
	}
	g_tp.next = g_tp.n + 1;
	g_tp.par = c->ct; /* ids 1..n: the configuration's order */
	tpol_register();
}

/* q's timeouts of every id below next: policy i of n at live[i].id, a
 * retiring id's as the dataplane has them, any other (retired, never
 * named again) the table's */
static void tpol_rows(struct ct_params *q, const struct cfg *n, const struct rules_tpol *live,
	unsigned nn, unsigned next, uint64_t retiring)
{
	for (unsigned id = 1; id < next; id++)
		memcpy(q->tpol[id - 1],
		       retiring & (1ull << (id - 1)) ? g_tp.par.tpol[id - 1] : q->to, sizeof(q->to));
	for (unsigned i = 0; i < nn; i++)
		memcpy(q->tpol[live[i].id - 1], n->ct.tpol[i], sizeof(q->to));
	q->n_tpol = next - 1;
}

bool rp_tpol_reload(const struct cfg *n, struct ct_params *p, char *warn, size_t warnlen)
{
	if (!g_tp.on)
		rp_tpol_start(n);
	struct rules_tpol live[CT_TPOL_MAX];
	unsigned nn = n->ct.n_tpol < CT_TPOL_MAX ? n->ct.n_tpol : CT_TPOL_MAX;
	unsigned next = g_tp.next;
	uint64_t kept = 0;
	for (unsigned i = 0; i < nn; i++) {
		tpol_of(n, i, &live[i]);
		/* a live policy, or a removed one a rule may still name (back
		 * before its id retired): the same id */
		for (unsigned j = 0; j < g_tp.n && live[i].id == 0; j++)
			if (tpol_same(&g_tp.live[j], &live[i]))
				live[i].id = g_tp.live[j].id;
		for (unsigned id = 1; id < g_tp.next && live[i].id == 0; id++)
			if ((g_tp.retiring & (1ull << (id - 1))) && tpol_same(&g_tp.desc[id - 1], &live[i]))
				live[i].id = (uint8_t)id;
		if (live[i].id == 0) {
			if (next > CT_TPOL_IDS) {
				snprintf(warn, warnlen, "conntrack.timeout-policies: more than %u "
					 "policies since the start (each new name, protocol or family "
					 "takes one for good): the policies change at the next start only; "
					 "their timeouts not reloaded", CT_TPOL_IDS);
				/* the table's timeouts and options reload all the same;
				 * the running policies keep theirs */
				struct ct_params q = n->ct;
				for (unsigned id = 1; id < g_tp.next; id++)
					memcpy(q.tpol[id - 1], g_tp.par.tpol[id - 1], sizeof(q.to));
				for (unsigned id = 1; id < g_tp.next; id++) {
					bool on = (g_tp.retiring & (1ull << (id - 1))) != 0;
					for (unsigned j = 0; j < g_tp.n && !on; j++)
						on = g_tp.live[j].id == id;
					if (!on) /* retired: the table's, the new table's */
						memcpy(q.tpol[id - 1], q.to, sizeof(q.to));
				}
				q.n_tpol = g_tp.next - 1;
				g_tp.par = q;
				*p = q;
				return false;
			}
			live[i].id = (uint8_t)next++;
			g_tp.desc[live[i].id - 1] = live[i];
		}
		kept |= 1ull << (live[i].id - 1);
	}
	for (unsigned j = 0; j < g_tp.n; j++)
		g_tp.retiring |= 1ull << (g_tp.live[j].id - 1);
	g_tp.retiring &= ~kept; /* removed now, or removed and back */
	struct ct_params q = n->ct;
	tpol_rows(&q, n, live, nn, next, g_tp.retiring);
	memcpy(g_tp.live, live, sizeof(live[0]) * nn);
	g_tp.n = nn;
	g_tp.next = next;
	g_tp.par = q;
	*p = q;
	tpol_register();
	return true;
}

bool rp_tpol_retire(struct ct_params *p)
{
	if (!g_tp.on || g_tp.retiring == 0)
		return false;
	for (unsigned id = 1; id < g_tp.next; id++)
		if (g_tp.retiring & (1ull << (id - 1)))
			memcpy(g_tp.par.tpol[id - 1], g_tp.par.to, sizeof(g_tp.par.to));
	g_tp.retiring = 0;
	*p = g_tp.par;
	return true;
}

int rp_ruleset_load(const struct cfg *c, struct rules_ruleset **out, char *err, size_t errlen)
{
	*out = NULL;
	/* the timeout policies CT --timeout may name, for these rules and
	 * every rule the control socket adds later: the configuration's at
	 * the first load, then what SIGHUP's rp_tpol_reload made them */
	if (!g_tp.on)
		rp_tpol_start(c);
	if (!c->ruleset[0] && !c->ruleset6[0])
		return 0;
	struct rules_ruleset *rs = rules_new();
	if (rs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int kind = 4;
	if (c->ruleset[0]) {
		if (c->ruleset_format == CFG_RS_YAML) {
			kind = 'y';
		} else if (c->ruleset_format == CFG_RS_AUTO) {
			size_t len;
			char *buf = rp_read_file(c->ruleset, &len, err, errlen);
			if (buf == NULL)
				goto fail;
			kind = rp_ruleset_is_iptables(buf, len) ? 4 : 'y';
			free(buf);
		}
	}
	if (kind == 'y' && c->ipsets[0]) {
		snprintf(err, errlen, "%s:%d:%d: ruleset.ipsets goes with iptables files; a YAML "
			 "ruleset declares its sets itself", c->path, c->ruleset_line, c->ruleset_col);
		goto fail;
	}
	if (c->ipsets[0] && load_one(rs, c->ipsets, 's', err, errlen) < 0)
		goto fail;
	if (c->ruleset[0] && load_one(rs, c->ruleset, kind, err, errlen) < 0)
		goto fail;
	if (c->ruleset6[0] && load_one(rs, c->ruleset6, 6, err, errlen) < 0)
		goto fail;
	if (rules_validate(rs, c->ruleset[0] ? c->ruleset : c->ruleset6, err, errlen) < 0)
		goto fail;
	*out = rs;
	return 0;
fail:
	rules_free(rs);
	return -1;
}
