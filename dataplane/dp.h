/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp: the dataplane's public API, used by rampartd's main and control
 * thread and by rampart-bench. Life cycle:
 *   dp_create(cfg)  - after rte_eal_init: mempool, ports, tables, workers
 *   dp_start()      - launch one worker per configured lcore
 *   dp_ctl_poll()   - called in a loop by the control thread (slow path)
 *   dp_stop()       - workers leave their loop; ports stop and close
 *   dp_destroy()
 * Only the control thread calls these.
 */
#ifndef RP_DP_H
#define RP_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"

struct dp_ctx;
struct dp_worker;
struct rules_set_req;
struct rules_set_entry;
struct rules_set;

struct dp_ctx *dp_create(const struct cfg *c, char *err, size_t errlen);
int dp_start(struct dp_ctx *dp);
/* Slow path work: ARP/ND, neighbour resolution, held packets, timers.
 * Returns the number of items handled (0: idle). */
unsigned dp_ctl_poll(struct dp_ctx *dp);
void dp_stop(struct dp_ctx *dp);
void dp_destroy(struct dp_ctx *dp);

/*
 * Rulesets. dp_rules_install() compiles rs against the ports and publishes
 * it atomically (workers see the old or the new program, never a mix);
 * on success the dataplane owns rs, on failure nothing changed and the
 * caller still owns rs (err says why). Counters start at zero.
 * dp_rules_save() prints the live ruleset as iptables-save (fam RULES_F_V4)
 * or ip6tables-save (RULES_F_V6) text with flags RULES_PRINT_*; malloc'd,
 * NULL if no ruleset is installed.
 */
struct rules_ruleset;
int dp_rules_install(struct dp_ctx *dp, struct rules_ruleset *rs, char *err, size_t errlen);
/* What a box of this mode (enum cfg_mode) and conntrack.mode (enum
 * cfg_ct_mode) cannot run of compiled program p, said as an error; NULL if
 * it can (dp_rules_install refuses the rest, rampartd --check says it
 * before the EAL starts). */
struct rules_prog;
const char *dp_rules_refused(const struct rules_prog *p, unsigned mode, unsigned ct_mode);
char *dp_rules_save(struct dp_ctx *dp, int fam, unsigned flags);
/* Whether rs would install (compiles for these ports and modes); nothing
 * changes. 0 or -EINVAL with err. */
int dp_rules_check(struct dp_ctx *dp, struct rules_ruleset *rs, char *err, size_t errlen);
/*
 * Replace the live ruleset by rs (a change: an edited copy of
 * dp_rules_snapshot(), or a ruleset read from a file with inherit set so
 * that rules printing as before keep their identity). Rules without an id
 * get one; after the swap, every rule that existed before keeps its
 * counters and built-in chains keep their policy counters unless the
 * change set them (rules_carry_counters). Ownership and errors as
 * dp_rules_install. *us: microseconds from the call until every worker
 * runs the new program (may be NULL).
 */
int dp_rules_update(struct dp_ctx *dp, struct rules_ruleset *rs, bool inherit, char *err,
	size_t errlen, uint64_t *us);
/* A copy of the live ruleset to change and give to dp_rules_update (caller
 * frees it otherwise); its counters are not the live ones (the update
 * carries those); an empty ruleset if none is installed; NULL on OOM. */
struct rules_ruleset *dp_rules_snapshot(struct dp_ctx *dp);
/* Whether the live program walks rules appended since its classifiers
 * were built (a change reused them); dp_rules_rebuild() then compiles the
 * same ruleset again in full and swaps it in (counters carried). */
bool dp_rules_tailed(const struct dp_ctx *dp);
int dp_rules_rebuild(struct dp_ctx *dp, char *err, size_t errlen);
/* Call fn with the live ruleset, its live counters in it, without copying
 * it (listings, save): fn only reads and keeps no pointer. 0 or -ENOMEM. */
int dp_rules_view(struct dp_ctx *dp, void (*fn)(const struct rules_ruleset *rs, void *arg),
	void *arg);
/* The live ruleset's generation (0: none yet). */
uint32_t dp_rules_generation(const struct dp_ctx *dp);
/* The rule engine's clock (microseconds, the workers' now_us): the time
 * base of -m limit and -m recent. */
uint64_t dp_rules_clock_us(const struct dp_ctx *dp);
/* -j SET: up to max requests the workers queued (control thread). */
unsigned dp_set_reqs_drain(struct dp_ctx *dp, struct rules_set_req *out, unsigned max);
/* The entry of request q in the live set it names: its index in the live
 * ruleset's set, -1 if it is not there, -2 if there is no such set (or it
 * is no longer of q's type and family); *live: not expired. */
long dp_set_lookup(struct dp_ctx *dp, const struct rules_set_req *q, uint64_t now, bool *live);
/* -j SET --exist of q's entry, live in the live set q names: in a set with
 * timeouts it gets its timeout again (q->timeout seconds,
 * RULES_SET_NO_TIMEOUT: the set's), in place (no change of the program:
 * workers see it at once); true when that was all there was to do. False
 * when the entry must be made again as a change of the set: it is an
 * exception (nomatch), which the kernel's add --exist makes a plain
 * entry. */
bool dp_set_renew(struct dp_ctx *dp, const struct rules_set_req *q, uint64_t now);
/* A deep copy of the live set name into out (0; -ENOENT, -ENOMEM). */
int dp_set_copy(struct dp_ctx *dp, const char *name, struct rules_set *out);
/* The live sets named as sets[0..n) take their entries: each whose entries
 * differ is compiled again and swapped in alone (RCU), the rest of the
 * program untouched (counters, limits, connlimit); the ruleset generation
 * stays. The entries change hands: sets[k] gets the old ones (the caller
 * frees them). Nothing changes on error (a set of another type, family,
 * timeout or range: the ruleset changed since the copy; OOM). *us: the
 * time it took. */
int dp_sets_commit(struct dp_ctx *dp, struct rules_set *sets, size_t n, uint64_t *us, char *err,
	size_t errlen);
/* The wall clock of -m time as the workers read it: UTC seconds since 1970. */
int64_t dp_wall_clock_s(const struct dp_ctx *dp);
/* Tests and rampart-bench: from now on the workers' wall clock reads utc_s
 * (and runs on with the TSC) and the kernel's time zone is tz_west_s
 * seconds west of UTC; the control thread stops following the system's. */
void dp_wall_clock_set(struct dp_ctx *dp, int64_t utc_s, int32_t tz_west_s);

/* Human-readable counters (ports, workers, drops by reason). */
void dp_stats_print(struct dp_ctx *dp, FILE *out);

/* Bench and tests: drive one worker in the calling thread. */
struct dp_worker *dp_worker_get(struct dp_ctx *dp, unsigned idx);
unsigned dp_worker_poll(struct dp_worker *w);
uint64_t dp_worker_drops(const struct dp_worker *w, unsigned reason);
uint64_t dp_worker_tx(const struct dp_worker *w);
/* rampart-bench floor: workers move rx to tx on the same port untouched. */
void dp_bench_set_null(struct dp_ctx *dp, bool on);

#endif
