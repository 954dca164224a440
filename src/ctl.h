/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl: rampartd's control socket (rampartctl's other end). docs/cli.md
 * ("Control protocol") is the reference; in short:
 *
 * Request: one header line of words separated by blanks, at most
 * CTL_HEAD_MAX bytes, ended by '\n'. Inside a word, '%XX' (two hex digits)
 * stands for any byte, so words may hold blanks, quotes or UTF-8; a decoded
 * word may not hold NUL or other control characters. When the last word
 * is "<<N" (N decimal, at most CTL_BODY_MAX), exactly N bytes of body
 * (a ruleset file) follow the header. One request per connection.
 *
 * Answer: text lines (with "--json", one JSON document whose lines never
 * start with '%'), then a last line "%% ok[ message]" or
 * "%% error: message"; then the server closes the connection.
 *
 * Server: the control thread, between its other duties, never blocking on
 * a client: every socket is non-blocking and watched with epoll; at most
 * CTL_CONN_MAX clients at once (more are told so and closed); a client gets
 * CTL_HEAD_MS to send its header, CTL_BODY_MS per MiB of body, and
 * CTL_IDLE_MS without progress while reading the answer, or it is dropped.
 * Answers are built in memory and sent as the client reads them, except
 * connection listings (conntrack -L/-D), which are written as the walk goes
 * (blocking writes with a 5 s timeout per write, like before), and
 * conntrack -E, whose event lines are written as the workers report them
 * (non-blocking, a bounded buffer per reader) until the client closes.
 *
 * Permissions: the socket is created mode 0660, owner root, group
 * control.group; each client's credentials (SO_PEERCRED, SO_PEERGROUPS)
 * decide: root and members of control.group may change state, members of
 * control.readonly-group may only read (listings, save, show). Refusals are
 * answered and logged.
 */
#ifndef RP_CTL_H
#define RP_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CTL_HEAD_MAX 65536u
#define CTL_BODY_MAX (256u << 20)
#define CTL_ARGS_MAX 1024
#define CTL_CONN_MAX 512
#define CTL_HEAD_MS 5000
#define CTL_BODY_MS 5000
#define CTL_IDLE_MS 10000

struct cfg;
struct dp_ctx;
struct dp_metrics_info;
struct rp_ctl;

/* What commands act on. */
struct rp_ctl_env {
	struct dp_ctx *dp;
	const struct cfg *cfg;         /* the ruleset files `reload` reads */
	struct dp_metrics_info *info;  /* last change: time and result */
	uint64_t last_apply_us;        /* the last change: call to live on every worker */
	uint64_t last_change_ms;       /* when (CLOCK_MONOTONIC) */
	uint64_t set_check_ms;         /* timeout sets: last look for expired entries */
	uint64_t set_purge_ms;         /* and last purge */
	/* -j SET: requests that change a set, waiting for the next change */
	struct rules_set_req *set_pend;
	uint64_t *set_keys;            /* hashes of their entries (ctl_cmd.c) */
	uint32_t *set_key_at;          /* the slots those took, to clear them */
	size_t set_n_keys;
	size_t set_n_pend;
	uint64_t set_next_ms;          /* the next change may be made then */
	uint64_t set_dropped;          /* requests dropped: pending list or set full */
	uint64_t set_dropped_logged, set_log_ms; /* last logged: the count, when */
	uint64_t set_changes;          /* changes made for them */
};

/* -j SET: what the workers queued goes in now (before a command or a
 * reload, so that changes keep their order). */
void rp_ctl_set_requests_now(struct rp_ctl_env *env);
/* What the env allocated for -j SET (at exit). */
void rp_ctl_env_release(struct rp_ctl_env *env);

/* Listen on c->ctl_socket (its directory is created if missing) with
 * c's groups; NULL on error (logged). env must outlive the socket. */
struct rp_ctl *rp_ctl_open(const struct cfg *c, struct rp_ctl_env *env);
/* Accept, read, execute and answer what is ready, never waiting.
 * Returns the number of events handled (0: idle). */
int rp_ctl_poll(struct rp_ctl *c);
void rp_ctl_close(struct rp_ctl *c);

/* ---- protocol (ctl_proto.c; pure, fuzzed) ---- */

/*
 * Is a whole request in buf[0..len)? Every out value is set on every
 * return (0 when unknown yet). Returns 0: not yet (need more bytes);
 * 1: complete, *head = length of the header line (without '\n'), the body
 * is buf[*body_off .. *body_off + *body_len) (body_len 0: none) and nothing
 * may follow it; -1: malformed (err says why: header too long, bad body length, ...).
 */
int rp_ctl_frame(const char *buf, size_t len, size_t *head, size_t *body_off, size_t *body_len,
	char *err, size_t errlen);
/* Split a header line (modified in place) into decoded words; the "<<N"
 * word, if any, is dropped. argc, or -1 with err. */
int rp_ctl_decode(char *line, char **argv, int max, char *err, size_t errlen);
/* Encode one word for a request into out (NUL-terminated); returns the
 * length, or (size_t)-1 if it does not fit. */
size_t rp_ctl_encode(const char *word, char *out, size_t outlen);

/* ---- commands (ctl_cmd.c) ---- */

/* Whether a request only reads (allowed to the read-only group). */
bool rp_ctl_readonly(int argc, char **argv);
/* Whether its answer is streamed (written while the command runs). */
bool rp_ctl_streams(int argc, char **argv);
/* Execute one request; write the answer (with its last line) to out.
 * "--json" among the words of a listing (-L/-S, show version|nat,
 * conntrack -L/-S, trace show) makes its answer one JSON document (json.h);
 * readonly/streams judge the request without that word. */
void rp_ctl_exec(struct rp_ctl_env *env, int argc, char **argv, const char *body,
	size_t body_len, FILE *out);
/* conntrack -E: a client's subscription to the connection events. */
struct rp_ctl_events;
struct ct_table;
struct ct_exp_ev;
bool rp_ctl_is_events(int argc, char **argv);
/* Parse the request (-e MASK, conntrack's filters) and turn the workers'
 * events on; NULL with err. */
struct rp_ctl_events *rp_ctl_events_open(struct rp_ctl_env *env, int argc, char **argv, char *err,
	size_t errlen);
void rp_ctl_events_close(struct rp_ctl_env *env, struct rp_ctl_events *s);
/* Whether it follows the expectations (conntrack -E expect). */
bool rp_ctl_events_expect(const struct rp_ctl_events *s);
/* The subscriber's line (text or JSON, '\n' included) for this event
 * (CT_EV_*) of this connection, read at ts; -1 when it does not want it. */
struct timespec;
int rp_ctl_events_line(const struct rp_ctl_events *s, unsigned worker, const struct ct_table *view,
	uint32_t now, unsigned type, const struct timespec *ts, char *buf, size_t n);
/* The line (or JSON object) of expectation event e for reader s (conntrack
 * -E expect); -1 when it does not want it. */
int rp_ctl_exp_events_line(const struct rp_ctl_events *s, const struct ct_exp_ev *e,
	const struct timespec *ts, char *buf, size_t n);

/* Housekeeping between polls (control loop): rebuilds the classifiers a
 * quick change reused once changes pause (dp_rules_rebuild). */
void rp_ctl_tick(struct rp_ctl_env *env);
/* Read the configured ruleset files again and make them live (SIGHUP,
 * `reload`). 0, or -1 with err (the running ruleset stays). */
int rp_ctl_reload(struct rp_ctl_env *env, char *err, size_t errlen);

#endif
