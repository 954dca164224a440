/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_time: -m time (the kernel's xt_time) on a packet: the calendar
 * arithmetic both sides need and the match itself.
 *
 * The match reads one wall-clock second (UTC) that the caller gives with
 * the packet (struct rules_pkt.wall_s, filled when prog->need_wall); the
 * dataplane derives it from the TSC and an offset the control thread
 * publishes (docs/architecture.md, "Wall clock"). --kerneltz subtracts the
 * kernel's time zone (sys_tz.tz_minuteswest, also given with the packet),
 * as xt_time does; everything else is UTC.
 *
 * Pure functions: worker context (no allocation, lock or system call) and
 * control side (printing dates) alike.
 */
#ifndef RP_RULES_TIME_H
#define RP_RULES_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

#define RULES_TIME_DAY 86400

/* Floor division for the seconds and days before 1970 (the kernel never
 * sees them: the date range starts at 0). */
static inline int64_t rules_time_fdiv(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Days since 1970-01-01 of year y, month m (1..12), day 1 of that month
 * plus d - 1 days (d may run past the month's end: mktime's
 * normalisation). Proleptic Gregorian calendar. */
static inline int64_t rules_time_days(int64_t y, unsigned m, int64_t d)
{
	y -= m <= 2;
	int64_t era = rules_time_fdiv(y, 400);
	int64_t yoe = y - era * 400;                                     /* 0..399 */
	int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5; /* from March 1st */
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy + d - 1 - 719468;
}

/* The civil date of day `days` since 1970-01-01 (the inverse of the above). */
static inline void rules_time_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = rules_time_fdiv(z, 146097);
	int64_t doe = z - era * 146097;                                   /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;                                   /* 0..11 */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/*
 * xt_time's time_mt(): the date range, then the time of day (start > stop
 * wraps past midnight; start == stop takes the whole day, as the kernel's
 * test does), then the weekday and the day of the month. --contiguous
 * counts the part of a wrapped window after midnight as the day before, so
 * "Mon 23:00 to 01:00" runs from Monday 23:00 to Tuesday 01:00.
 */
static inline bool rules_time_match(const struct rules_m_time *t, int64_t utc_s, int32_t tz_west_s)
{
	int64_t now = utc_s;
	if (t->flags & RULES_TIME_KERNELTZ)
		now -= tz_west_s;
	if (now < (int64_t)t->date_start || now > (int64_t)t->date_stop)
		return false;
	uint32_t tod = (uint32_t)(now - rules_time_fdiv(now, RULES_TIME_DAY) * RULES_TIME_DAY);
	if (t->daytime_start < t->daytime_stop) {
		if (tod < t->daytime_start || tod > t->daytime_stop)
			return false;
	} else {
		if (tod < t->daytime_start && tod > t->daytime_stop)
			return false;
		if ((t->flags & RULES_TIME_CONTIGUOUS) && tod <= t->daytime_stop)
			now -= RULES_TIME_DAY;
	}
	int64_t days = rules_time_fdiv(now, RULES_TIME_DAY);
	/* 1970-01-01 was a Thursday (4); Monday 1 .. Sunday 7 */
	unsigned wday = (unsigned)(((days + 3) % 7 + 7) % 7) + 1;
	if (!(t->weekdays & (1u << wday)))
		return false;
	if (t->monthdays != RULES_TIME_ALL_MONTHDAYS) {
		int64_t y;
		unsigned m, d;
		rules_time_civil(days, &y, &m, &d);
		if (!(t->monthdays & (1u << d)))
			return false;
	}
	return true;
}

#endif
