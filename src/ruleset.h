/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ruleset: load the ruleset files rampart.yaml names (YAML or
 * iptables-save text, ip6tables-save text, ipset save text) into one
 * validated model. Control thread (and rampartd --check) only.
 */
#ifndef RP_RULESET_H
#define RP_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"
#include "rules.h"

/* Read the files of c->ruleset*, c->ipsets. 0 and *out (caller frees with
 * rules_free) or -1 with "file:line:col: message" in err. A config without
 * a ruleset gives 0 and *out = NULL. */
int rp_ruleset_load(const struct cfg *c, struct rules_ruleset **out, char *err, size_t errlen);

/*
 * CT --timeout policy ids. Connections hold a policy's id for life, so an
 * id names one policy (name, protocol, families) for the daemon's life:
 * policies keep theirs through reloads that reorder them or change their
 * timeouts, a new one gets an id never given before (at most
 * CT_TPOL_IDS since the start), and a removed one's id, once no rule can
 * name it, lives by the table's timeouts (its connections as the kernel's
 * nf_ct_untimeout leaves them). The first call of rp_ruleset_load (or
 * rp_tpol_start) gives the configuration's policies ids 1..n.
 */
void rp_tpol_start(const struct cfg *c);
/* SIGHUP: the policies of the reloaded configuration n. Fills *p (from
 * n->ct) with every id's timeouts for dp_ct_set_params and points the
 * rules' registry at n's policies; false (warn says why) when they cannot
 * have ids (too many new ones since the start): then *p keeps the
 * running policies and their timeouts. */
bool rp_tpol_reload(const struct cfg *n, struct ct_params *p, char *warn, size_t warnlen);
/* After a ruleset loaded from the files (no rule names a removed policy
 * any more): the removed policies' ids take the table's timeouts. true
 * (and *p, all ids' timeouts) when there were such. */
bool rp_tpol_retire(struct ct_params *p);

/* Whether text looks like iptables-save output rather than YAML: its first
 * line that is neither blank nor a comment starts with '*'. */
int rp_ruleset_is_iptables(const char *buf, size_t len);

/* Read a whole file (at most 256 MiB) into a NUL-terminated buffer. */
char *rp_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
