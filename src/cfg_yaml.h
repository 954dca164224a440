/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_yaml: a small YAML document tree built with libyaml, every node
 * carrying its line and column so that config and ruleset loaders can name
 * the exact place of an error. Aliases are refused (no billion laughs),
 * depth and node counts are bounded: files are hostile input.
 */
#ifndef RP_CFG_YAML_H
#define RP_CFG_YAML_H

#include <stddef.h>

enum cy_type { CY_SCALAR, CY_SEQ, CY_MAP };

struct cy_node {
	enum cy_type type;
	int line; /* 1-based */
	int col;  /* 1-based */
	char *str;             /* CY_SCALAR: NUL-terminated value */
	size_t n;              /* CY_SEQ: items; CY_MAP: pairs */
	struct cy_node **items; /* CY_SEQ: n items; CY_MAP: 2n, key then value */
};

#define CY_MAX_DEPTH 32
#define CY_MAX_NODES 2000000

/* Parse a whole document. Returns the root (NULL on error with a message
 * "name:line:col: what" in err). An empty document gives an empty map. */
struct cy_node *cy_parse(const char *buf, size_t len, const char *name, char *err, size_t errlen);
struct cy_node *cy_parse_file(const char *path, char *err, size_t errlen);
void cy_free(struct cy_node *n);

/* Map lookup by key; NULL if absent. */
struct cy_node *cy_map_get(const struct cy_node *map, const char *key);
const char *cy_type_name(enum cy_type t);

#endif
