/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log: formats one line per call into a stack buffer and writes it with a
 * single write(2) so concurrent threads never interleave inside a line.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum rp_log_level g_level = RP_LOG_INFO;
static bool g_stderr = true;
static bool g_syslog;

static const char *const level_names[] = {
	[RP_LOG_ERR] = "err",
	[RP_LOG_WARNING] = "warning",
	[RP_LOG_NOTICE] = "notice",
	[RP_LOG_INFO] = "info",
	[RP_LOG_DEBUG] = "debug",
};

void rp_log_setup(enum rp_log_level level, bool to_stderr, bool to_syslog)
{
	g_level = level;
	g_stderr = to_stderr;
	if (to_syslog && !g_syslog)
		openlog("rampartd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!to_syslog && g_syslog)
		closelog();
	g_syslog = to_syslog;
}

int rp_log_level_parse(const char *s)
{
	for (int i = RP_LOG_ERR; i <= RP_LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "error") == 0)
		return RP_LOG_ERR;
	if (strcmp(s, "warn") == 0)
		return RP_LOG_WARNING;
	return -1;
}

const char *rp_log_level_name(enum rp_log_level level)
{
	if (level < RP_LOG_ERR || level > RP_LOG_DEBUG)
		return "?";
	return level_names[level];
}

void rp_vlog(enum rp_log_level level, const char *module, const char *fmt, va_list ap)
{
	if (level > g_level)
		return;
	char msg[1024];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (g_syslog)
		syslog((int)level, "%s: %s", module, msg);
	if (g_stderr) {
		char line[1200];
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		int len = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: %s\n",
				   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				   tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
				   rp_log_level_name(level), module, msg);
		if (len > (int)sizeof(line) - 1)
			len = sizeof(line) - 1;
		if (len > 0 && write(STDERR_FILENO, line, (size_t)len) < 0) {
			/* nowhere left to report it */
		}
	}
}

static struct {
	bool daemon_log;
	int facility;
	int fd;
	char *path;
} g_pkt = { true, -1, -1, NULL };

int rp_log_facility_parse(const char *s)
{
	static const struct {
		const char *name;
		int f;
	} fac[] = { {"user", LOG_USER}, {"daemon", LOG_DAEMON}, {"local0", LOG_LOCAL0},
		{"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
		{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
		{"local7", LOG_LOCAL7} };
	for (size_t i = 0; i < sizeof(fac) / sizeof(fac[0]); i++)
		if (strcmp(s, fac[i].name) == 0)
			return fac[i].f;
	return -1;
}

static int pkt_open(void)
{
	if (g_pkt.path == NULL)
		return 0;
	g_pkt.fd = open(g_pkt.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (g_pkt.fd < 0) {
		RP_ERR("log", "cannot open the packet log %s: %s", g_pkt.path, strerror(errno));
		return -1;
	}
	return 0;
}

int rp_pktlog_setup(bool to_daemon_log, int facility, const char *file)
{
	if (g_pkt.fd >= 0)
		close(g_pkt.fd);
	g_pkt.fd = -1;
	free(g_pkt.path);
	g_pkt.path = file && file[0] ? strdup(file) : NULL;
	g_pkt.daemon_log = to_daemon_log;
	g_pkt.facility = facility;
	if (facility >= 0 && !g_syslog)
		openlog("rampartd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return pkt_open();
}

void rp_pktlog_reopen(void)
{
	if (g_pkt.path == NULL)
		return;
	if (g_pkt.fd >= 0)
		close(g_pkt.fd);
	g_pkt.fd = -1;
	pkt_open();
}

void rp_pktlog(unsigned level, const char *line)
{
	if (level > 7)
		level = 7;
	if (g_pkt.daemon_log)
		rp_log((enum rp_log_level)level, "fw", "%s", line);
	if (g_pkt.facility >= 0)
		syslog(g_pkt.facility | (int)level, "%s", line);
	if (g_pkt.fd >= 0) {
		char buf[1200];
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		int len = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s\n",
				   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				   tm.tm_sec, ts.tv_nsec / 1000, line);
		if (len > (int)sizeof(buf) - 1)
			len = sizeof(buf) - 1;
		if (len > 0 && write(g_pkt.fd, buf, (size_t)len) < 0) {
			/* counted nowhere: the file system is full or gone */
		}
	}
}

void rp_log(enum rp_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rp_vlog(level, module, fmt, ap);
	va_end(ap);
}
