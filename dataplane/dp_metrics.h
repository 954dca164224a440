/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_metrics: the dataplane's counters in Prometheus' text exposition
 * format (docs/metrics.md lists them). Control thread only.
 */
#ifndef RP_DP_METRICS_H
#define RP_DP_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct dp_ctx;

/* What the daemon knows beyond the dataplane. */
struct dp_metrics_info {
	const char *version;
	bool reload_ok;       /* the last ruleset load or reload succeeded */
	uint64_t reload_time; /* when it was attempted (Unix time, seconds) */
	/* -j SET on the control thread: changes of sets made, requests dropped
	 * (a set full, too many waiting) */
	uint64_t set_changes, set_dropped;
};

void dp_metrics_write(struct dp_ctx *dp, FILE *out, const struct dp_metrics_info *info);

#endif
