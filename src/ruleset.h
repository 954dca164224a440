/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ruleset: load the ruleset files rampart.yaml names (YAML or
 * iptables-save text, ip6tables-save text, ipset save text) into one
 * validated model. Control thread (and rampartd --check) only.
 */
#ifndef RP_RULESET_H
#define RP_RULESET_H

#include <stddef.h>

#include "cfg.h"
#include "rules.h"

/* Read the files of c->ruleset*, c->ipsets. 0 and *out (caller frees with
 * rules_free) or -1 with "file:line:col: message" in err. A config without
 * a ruleset gives 0 and *out = NULL. */
int rp_ruleset_load(const struct cfg *c, struct rules_ruleset **out, char *err, size_t errlen);

/* Whether text looks like iptables-save output rather than YAML: its first
 * line that is neither blank nor a comment starts with '*'. */
int rp_ruleset_is_iptables(const char *buf, size_t len);

/* Read a whole file (at most 256 MiB) into a NUL-terminated buffer. */
char *rp_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
