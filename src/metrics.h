/* SPDX-License-Identifier: BSD-3-Clause */
/* metrics: the Prometheus endpoint (see metrics.c). Control thread only. */
#ifndef RP_METRICS_H
#define RP_METRICS_H

struct dp_ctx;
struct dp_metrics_info;
struct rp_metrics;

/* Listen on "ADDRESS:PORT"; info must outlive the endpoint. NULL (logged)
 * on failure. */
struct rp_metrics *rp_metrics_open(const char *listen, struct dp_ctx *dp,
	const struct dp_metrics_info *info);
/* Serve what is ready, without blocking; 1 if a scrape was answered. */
int rp_metrics_poll(struct rp_metrics *m);
/* Sleep up to usec, or less when the endpoint has something to do (a
 * request, or a reply the socket can take more of). m may be NULL. */
void rp_metrics_wait(struct rp_metrics *m, unsigned usec);
void rp_metrics_close(struct rp_metrics *m);

#endif
