/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics: the Prometheus scrape endpoint, served by libmicrohttpd from the
 * control thread's loop (MHD_run, no thread of its own): the exposition is
 * built where the ruleset pointer may be read (see dataplane/metrics_ctl.c),
 * and a scrape never touches a worker.
 *
 * GET (or HEAD) /metrics: the counters (text format 0.0.4); GET /: a page
 * linking to it; other paths 404, other methods 405. A request with a body,
 * more than 16 KiB of headers, or idle for 5 s is cut off by the library;
 * at most 16 connections at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <microhttpd.h>

#include "cfg.h"
#include "dp_metrics.h"
#include "log.h"
#include "metrics.h"

struct rp_metrics {
	struct MHD_Daemon *d;
	struct dp_ctx *dp;
	const struct dp_metrics_info *info;
	unsigned served;
};

static const char index_page[] =
	"<html><head><title>rampartd</title></head><body><h1>rampartd</h1>"
	"<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
	size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
	const char *method, const char *version, const char *upload, size_t *upload_size,
	void **state)
{
	struct rp_metrics *m = cls;
	(void)version;
	(void)upload;
	static int first, with_body;
	if (*state == NULL) { /* headers only so far */
		*state = &first;
		return MHD_YES;
	}
	if (*upload_size != 0) { /* a body: read and ignored, then refused */
		*upload_size = 0;
		*state = &with_body;
		return MHD_YES;
	}
	static const char text[] = "text/plain; charset=utf-8";
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!get || *state == &with_body) {
		static char msg[] = "405 method not allowed: GET /metrics\n";
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, msg, sizeof(msg) - 1,
			MHD_RESPMEM_PERSISTENT);
	}
	if (strcmp(url, "/metrics") == 0) {
		char *buf = NULL;
		size_t len = 0;
		FILE *o = open_memstream(&buf, &len);
		if (o == NULL)
			return MHD_NO;
		dp_metrics_write(m->dp, o, m->info);
		if (fclose(o) != 0) {
			free(buf);
			return MHD_NO;
		}
		m->served++;
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len,
			MHD_RESPMEM_MUST_FREE);
	}
	if (strcmp(url, "/") == 0)
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)index_page,
			sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	static char nf[] = "404 not found: GET /metrics\n";
	return reply(c, MHD_HTTP_NOT_FOUND, text, nf, sizeof(nf) - 1, MHD_RESPMEM_PERSISTENT);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	RP_INFO("metrics", "%s", line);
}

struct rp_metrics *rp_metrics_open(const char *listen, struct dp_ctx *dp,
	const struct dp_metrics_info *info)
{
	struct sockaddr_storage ss;
	if (cfg_parse_listen(listen, &ss) < 0) {
		RP_ERR("metrics", "metrics.listen '%s' is not ADDRESS:PORT", listen);
		return NULL;
	}
	struct rp_metrics *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->dp = dp;
	m->info = info;
	unsigned flags = MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	uint16_t port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	m->d = MHD_start_daemon(flags, port, NULL, NULL, handle, m,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)5,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_END);
	if (m->d == NULL) {
		RP_ERR("metrics", "cannot listen on %s for metrics: %s", listen, strerror(errno));
		free(m);
		return NULL;
	}
	/* the port really bound (":0" asks for any) */
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned bound = port;
	if (di != NULL && getsockname(di->listen_fd, (struct sockaddr *)&got, &gl) == 0) {
		if (got.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&got)->sin6_addr, host, sizeof(host));
			bound = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&got)->sin_addr, host, sizeof(host));
			bound = ntohs(((struct sockaddr_in *)&got)->sin_port);
		}
	}
	RP_NOTICE("metrics", "metrics on http://%s%s%s:%u/metrics", got.ss_family == AF_INET6 ? "[" : "",
		host, got.ss_family == AF_INET6 ? "]" : "", bound);
	return m;
}

int rp_metrics_poll(struct rp_metrics *m)
{
	if (m == NULL)
		return 0;
	unsigned before = m->served;
	MHD_run(m->d);
	return m->served != before;
}

void rp_metrics_wait(struct rp_metrics *m, unsigned usec)
{
	fd_set rs, ws, es;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	MHD_socket max = MHD_INVALID_SOCKET;
	struct timeval tv = { .tv_sec = 0, .tv_usec = (suseconds_t)usec };
	if (m == NULL || MHD_get_fdset2(m->d, &rs, &ws, &es, &max, FD_SETSIZE) != MHD_YES ||
	    max == MHD_INVALID_SOCKET) {
		select(0, NULL, NULL, NULL, &tv);
		return;
	}
	/* a reply being sent wakes us as soon as the socket takes more */
	select(max + 1, &rs, &ws, &es, &tv);
}

void rp_metrics_close(struct rp_metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
