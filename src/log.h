/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log: the daemon's one logging module.
 *
 * Control, logging and start-up code log through here; workers never do
 * (they count drops, and the packet trace facility explains single packets).
 * Output goes to stderr and/or syslog, filtered by level. Thread safe: one
 * write(2)/syslog(3) per line, no shared buffers.
 */
#ifndef RP_LOG_H
#define RP_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum rp_log_level {
	RP_LOG_ERR = 3,
	RP_LOG_WARNING = 4,
	RP_LOG_NOTICE = 5,
	RP_LOG_INFO = 6,
	RP_LOG_DEBUG = 7,
};

/* Configure output. Called at start and when the config is reloaded. */
void rp_log_setup(enum rp_log_level level, bool to_stderr, bool to_syslog);
/* Parse "err", "warning", "notice", "info", "debug"; returns -1 if unknown. */
int rp_log_level_parse(const char *s);
const char *rp_log_level_name(enum rp_log_level level);

void rp_log(enum rp_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rp_vlog(enum rp_log_level level, const char *module, const char *fmt, va_list ap);

/*
 * The packet log (LOG target lines, formatted as the kernel's). By default
 * the lines go to the daemon log at the rule's --log-level (filtered by
 * log.level); with log.packets they go, unfiltered as the kernel's do, to
 * syslog with the given facility (LOG_LOCAL0 ..., -1: not to syslog)
 * and/or appended to a file (NULL: none). -1 if the file cannot be opened.
 */
int rp_pktlog_setup(bool to_daemon_log, int facility, const char *file);
/* Close and open the file again (log rotation: SIGHUP). */
void rp_pktlog_reopen(void);
void rp_pktlog(unsigned level, const char *line);
/* A syslog facility by name (user, daemon, local0 .. local7), -1 if unknown. */
int rp_log_facility_parse(const char *s);

#define RP_ERR(mod, ...) rp_log(RP_LOG_ERR, mod, __VA_ARGS__)
#define RP_WARN(mod, ...) rp_log(RP_LOG_WARNING, mod, __VA_ARGS__)
#define RP_NOTICE(mod, ...) rp_log(RP_LOG_NOTICE, mod, __VA_ARGS__)
#define RP_INFO(mod, ...) rp_log(RP_LOG_INFO, mod, __VA_ARGS__)
#define RP_DEBUG(mod, ...) rp_log(RP_LOG_DEBUG, mod, __VA_ARGS__)

#endif
