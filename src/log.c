/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log: formats one line per call into a stack buffer and writes it with a
 * single write(2) so concurrent threads never interleave inside a line.
 */
#include "log.h"

#include <stdio.h>
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

void rp_log(enum rp_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rp_vlog(level, module, fmt, ap);
	va_end(ap);
}
