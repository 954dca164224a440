/* SPDX-License-Identifier: BSD-3-Clause */
#include "cfg_yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct cy_builder {
	yaml_parser_t parser;
	const char *name;
	char *err;
	size_t errlen;
	size_t nodes;
};

static void cy_err(struct cy_builder *b, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cy_err(struct cy_builder *b, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(b->err, b->errlen, "%s:%d:%d: %s", b->name, line, col, msg);
}

const char *cy_type_name(enum cy_type t)
{
	switch (t) {
	case CY_SCALAR:
		return "a scalar";
	case CY_SEQ:
		return "a list";
	case CY_MAP:
		return "a mapping";
	}
	return "?";
}

void cy_free(struct cy_node *n)
{
	if (n == NULL)
		return;
	if (n->type == CY_SEQ || n->type == CY_MAP) {
		size_t cnt = n->type == CY_MAP ? 2 * n->n : n->n;
		for (size_t i = 0; i < cnt; i++)
			cy_free(n->items[i]);
		free(n->items);
	}
	free(n->str);
	free(n);
}

static struct cy_node *cy_new(struct cy_builder *b, enum cy_type t, const yaml_mark_t *m)
{
	if (++b->nodes > CY_MAX_NODES) {
		cy_err(b, (int)m->line + 1, (int)m->column + 1, "document too large (more than %d nodes)",
		       CY_MAX_NODES);
		return NULL;
	}
	struct cy_node *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		cy_err(b, (int)m->line + 1, (int)m->column + 1, "out of memory");
		return NULL;
	}
	n->type = t;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

static bool cy_next(struct cy_builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev)) {
		cy_err(b, (int)b->parser.problem_mark.line + 1, (int)b->parser.problem_mark.column + 1,
		       "YAML syntax error: %s%s%s", b->parser.problem ? b->parser.problem : "unknown",
		       b->parser.context ? " " : "", b->parser.context ? b->parser.context : "");
		return false;
	}
	return true;
}

static int cy_append(struct cy_node *c, struct cy_node *item, size_t *count, size_t *cap)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct cy_node **ni = realloc(c->items, ncap * sizeof(*ni));
		if (ni == NULL)
			return -ENOMEM;
		c->items = ni;
		*cap = ncap;
	}
	c->items[(*count)++] = item;
	return 0;
}

/* Build the node that starts with event ev (already consumed). */
static struct cy_node *cy_build(struct cy_builder *b, yaml_event_t *ev, int depth)
{
	const yaml_mark_t *m = &ev->start_mark;
	if (depth > CY_MAX_DEPTH) {
		cy_err(b, (int)m->line + 1, (int)m->column + 1, "nesting deeper than %d levels",
		       CY_MAX_DEPTH);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		struct cy_node *n = cy_new(b, CY_SCALAR, m);
		if (n == NULL)
			return NULL;
		if (memchr(ev->data.scalar.value, 0, ev->data.scalar.length) != NULL) {
			cy_err(b, n->line, n->col, "NUL byte in a scalar");
			free(n);
			return NULL;
		}
		n->str = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (n->str == NULL) {
			free(n);
			cy_err(b, (int)m->line + 1, (int)m->column + 1, "out of memory");
			return NULL;
		}
		return n;
	}
	case YAML_ALIAS_EVENT:
		cy_err(b, (int)m->line + 1, (int)m->column + 1,
		       "YAML aliases (*name) are not supported");
		return NULL;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool is_map = ev->type == YAML_MAPPING_START_EVENT;
		yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
		struct cy_node *n = cy_new(b, is_map ? CY_MAP : CY_SEQ, m);
		if (n == NULL)
			return NULL;
		size_t count = 0, cap = 0;
		for (;;) {
			yaml_event_t cev;
			if (!cy_next(b, &cev)) {
				n->n = is_map ? count / 2 : count;
				if (is_map && count % 2)
					cy_free(n->items[--count]), n->n = count / 2;
				cy_free(n);
				return NULL;
			}
			if (cev.type == end) {
				yaml_event_delete(&cev);
				break;
			}
			if (is_map && count % 2 == 0 && cev.type != YAML_SCALAR_EVENT &&
			    cev.type != YAML_ALIAS_EVENT) {
				cy_err(b, (int)cev.start_mark.line + 1, (int)cev.start_mark.column + 1,
				       "mapping keys must be plain scalars");
				yaml_event_delete(&cev);
				n->n = count / 2;
				if (count % 2)
					cy_free(n->items[--count]);
				n->n = count / 2;
				cy_free(n);
				return NULL;
			}
			struct cy_node *child = cy_build(b, &cev, depth + 1);
			yaml_event_delete(&cev);
			if (child == NULL || cy_append(n, child, &count, &cap) < 0) {
				if (child != NULL) {
					cy_err(b, child->line, child->col, "out of memory");
					cy_free(child);
				}
				if (is_map && count % 2)
					cy_free(n->items[--count]);
				n->n = is_map ? count / 2 : count;
				cy_free(n);
				return NULL;
			}
			if (is_map && count % 2 == 0) {
				/* duplicate keys are a classic source of silent mistakes */
				struct cy_node *key = n->items[count - 2];
				for (size_t i = 0; i + 2 < count; i += 2) {
					if (strcmp(n->items[i]->str, key->str) == 0) {
						cy_err(b, key->line, key->col,
						       "duplicate key '%s' (first at line %d)", key->str,
						       n->items[i]->line);
						n->n = count / 2;
						cy_free(n);
						return NULL;
					}
				}
			}
		}
		n->n = is_map ? count / 2 : count;
		return n;
	}
	default:
		cy_err(b, (int)m->line + 1, (int)m->column + 1, "unexpected YAML event");
		return NULL;
	}
}

struct cy_node *cy_parse(const char *buf, size_t len, const char *name, char *err, size_t errlen)
{
	struct cy_builder b = { .name = name, .err = err, .errlen = errlen };
	struct cy_node *root = NULL;
	yaml_event_t ev;
	bool done = false, have_doc = false;

	err[0] = '\0';
	if (!yaml_parser_initialize(&b.parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", name);
		return NULL;
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)buf, len);
	while (!done) {
		if (!cy_next(&b, &ev))
			goto fail;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (have_doc) {
				cy_err(&b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				       "only one YAML document is allowed");
				yaml_event_delete(&ev);
				goto fail;
			}
			have_doc = true;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			if (root != NULL) {
				cy_err(&b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				       "unexpected content");
				yaml_event_delete(&ev);
				goto fail;
			}
			root = cy_build(&b, &ev, 0);
			if (root == NULL) {
				yaml_event_delete(&ev);
				goto fail;
			}
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&b.parser);
	if (root == NULL) {
		yaml_mark_t m = { 0 };
		b.nodes = 0;
		b.err = err;
		root = cy_new(&b, CY_MAP, &m);
	}
	return root;
fail:
	yaml_parser_delete(&b.parser);
	cy_free(root);
	if (err[0] == '\0')
		snprintf(err, errlen, "%s: invalid YAML", name);
	return NULL;
}

struct cy_node *cy_parse_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= (64u << 20)) {
				snprintf(err, errlen, "%s: file larger than 64 MiB", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	struct cy_node *root = cy_parse(buf ? buf : "", len, path, err, errlen);
	free(buf);
	return root;
}

struct cy_node *cy_map_get(const struct cy_node *map, const char *key)
{
	if (map == NULL || map->type != CY_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->items[2 * i]->str, key) == 0)
			return map->items[2 * i + 1];
	return NULL;
}
