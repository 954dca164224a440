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

int rp_ruleset_load(const struct cfg *c, struct rules_ruleset **out, char *err, size_t errlen)
{
	*out = NULL;
	/* the timeout policies CT --timeout may name, for these rules and
	 * every rule the control socket adds later */
	struct rules_tpol tp[CT_TPOL_MAX];
	for (unsigned i = 0; i < c->ct.n_tpol && i < CT_TPOL_MAX; i++) {
		memcpy(tp[i].name, c->tpol[i].name, sizeof(tp[i].name));
		tp[i].fams = (uint8_t)((c->tpol[i].fams & 1 ? RULES_F_V4 : 0) |
				       (c->tpol[i].fams & 2 ? RULES_F_V6 : 0));
		tp[i].proto = c->tpol[i].proto;
	}
	if (rules_timeout_policies(tp, c->ct.n_tpol) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
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
