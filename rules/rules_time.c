/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rules_time: the options of -m time as iptables 1.8.9's libxt_time reads
 * and prints them, into the kernel's struct xt_time_info (rules_m_time).
 *
 * Reading follows libxt_time byte for byte where a ruleset could tell the
 * difference: numbers as strtoul reads them (blanks and a sign before
 * them, base 10 in dates, base 0 in day lists), a date's missing parts
 * 1 or 0 and its out-of-range days carried into the next month as mktime
 * does (2023-02-31 is 2023-03-03, 2024-01-00 is 2023-12-31), a day list's
 * items cut to 2 (month days) or 3 (weekdays) characters, weekday names
 * told apart by their first two letters, '!' inverting the day set.
 * Rampart refuses two things iptables takes and the kernel can do nothing
 * useful with: a weekday number above 7 (libxt_time shifts by it, which
 * is undefined; on x86 "--weekdays 33" is a Monday) and a day list that
 * leaves no day at all, or a --datestop of 1970-01-01T00:00:00 (the rule
 * could never match, and iptables-save prints it as "--weekdays
 * --datestop ..." or leaves the date out: text that no iptables reads
 * back, or reads as another rule).
 *
 * Control thread only. The match itself is in rules_time.h.
 */
#include <stdlib.h>
#include <string.h>

#include "rules_priv.h"
#include "rules_time.h"

#define BIT(i) (1u << (i))

static const char *const week_days[8] = { NULL, "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

/* strtoul as libxt_time calls it, kept in an unsigned int as it does */
static unsigned num(const char *s, char **end, int base)
{
	return (unsigned)strtoul(s, end, base);
}

/* YYYY[-MM[-DD[Thh[:mm[:ss]]]]] (libxt_time's time_parse_date): seconds
 * since 1970 in UTC; libxt_time hands mktime a UTC zone. */
static int parse_date(struct rules_pctx *pc, const char *arg, uint32_t *out)
{
	static const char sep[6] = { '-', '-', 'T', ':', ':', '\0' };
	static const unsigned hi[6] = { 2038, 12, 31, 23, 59, 59 };
	unsigned v[6] = { 0, 1, 1, 0, 0, 0 };
	const char *s = arg;
	for (unsigned i = 0; i < 6; i++) {
		char *e;
		v[i] = num(s, &e, 10);
		if ((*e != sep[i] && *e != '\0') || v[i] > hi[i] || (i == 0 && v[i] < 1970))
			return rules_errf(pc->pe, pc->col,
				"Invalid date \"%s\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]", arg);
		if (*e == '\0')
			break;
		s = e + 1;
	}
	/* month 0 is December of the year before, as mktime reads tm_mon -1 */
	int64_t y = v[0];
	unsigned m = v[1];
	if (m == 0) {
		y--;
		m = 12;
	}
	int64_t t = rules_time_days(y, m, v[2]) * RULES_TIME_DAY + v[3] * 3600 + v[4] * 60 + v[5];
	if (t < 0) /* 1970-00, 1970-01-00: mktime fails, iptables with it */
		return rules_errf(pc->pe, pc->col,
			"Invalid date \"%s\" specified: before 1970-01-01 (mktime returned an error)", arg);
	*out = (uint32_t)t; /* at most 2038-12-31T23:59:59: fits */
	return 0;
}

/* hh:mm[:ss] (time_parse_minutes); the message quotes the part that
 * failed, as libxt_time's does. */
static int parse_daytime(struct rules_pctx *pc, const char *arg, uint32_t *out)
{
	const char *s = arg;
	char *e;
	unsigned h = num(s, &e, 10), m, sec = 0;
	if (*e != ':' || h > 23)
		goto bad;
	s = e + 1;
	m = num(s, &e, 10);
	if ((*e != ':' && *e != '\0') || m > 59)
		goto bad;
	if (*e == ':') {
		s = e + 1;
		sec = num(s, &e, 10);
		if (*e != '\0' || sec > 59)
			goto bad;
	}
	*out = h * 3600 + m * 60 + sec;
	return 0;
bad:
	return rules_errf(pc->pe, pc->col,
		"invalid time \"%s\" specified, should be hh:mm[:ss] format and within the boundaries", s);
}

/* The next comma-separated item of *arg cut to room - 1 characters
 * (libxt_time's my_strseg with its fixed buffers); false at the end. */
static bool next_item(const char **arg, char *buf, size_t room)
{
	if (*arg == NULL || **arg == '\0')
		return false;
	const char *comma = strchr(*arg, ',');
	size_t n = comma ? (size_t)(comma - *arg) : strlen(*arg);
	size_t k = n < room - 1 ? n : room - 1;
	memcpy(buf, *arg, k);
	buf[k] = '\0';
	*arg = comma ? comma + 1 : NULL;
	return true;
}

static int parse_monthdays(struct rules_pctx *pc, const char *arg, uint32_t *out)
{
	char day[3];
	uint32_t mask = 0;
	while (next_item(&arg, day, sizeof(day))) {
		char *e;
		unsigned d = num(day, &e, 0);
		if (*e != '\0' || d > 31)
			return rules_errf(pc->pe, pc->col, "%s is not a valid day for --monthdays", day);
		mask |= BIT(d); /* 0 is taken and never matches, as in the kernel */
	}
	*out = mask;
	return 0;
}

static int parse_weekdays(struct rules_pctx *pc, const char *arg, uint8_t *out)
{
	char day[4];
	unsigned mask = 0;
	while (next_item(&arg, day, sizeof(day))) {
		char *e;
		unsigned d = num(day, &e, 0);
		if (*e == '\0') {
			if (d == 0)
				return rules_errf(pc->pe, pc->col, "No, the week does NOT begin with Sunday.");
			if (d > 7)
				return rules_errf(pc->pe, pc->col,
					"%s is not a valid day specifier (1 Monday to 7 Sunday)", day);
			mask |= BIT(d);
			continue;
		}
		bool found = false;
		for (unsigned i = 1; i < 8; i++)
			if (strncmp(day, week_days[i], 2) == 0) {
				mask |= BIT(i);
				found = true;
			}
		if (!found)
			return rules_errf(pc->pe, pc->col, "%s is not a valid day specifier", day);
	}
	*out = (uint8_t)mask;
	return 0;
}

int rules_time_parse(struct rules_pctx *pc, const struct rules_opt *o, const char *arg, void *f)
{
	switch (o->type) {
	case RV_DATE:
		return parse_date(pc, arg, f);
	case RV_DAYTIME:
		return parse_daytime(pc, arg, f);
	case RV_MONTHDAYS:
		return parse_monthdays(pc, arg, f);
	case RV_WEEKDAYS:
		return parse_weekdays(pc, arg, f);
	default:
		return rules_errf(pc->pe, pc->col, "internal: --%s is not a time option", o->name);
	}
}

/* libxt_time's time_check, and the inversions its parser applies at once
 * (folded here: the ! comes before the option, the data after). */
int rules_time_check(struct rules_perr *pe, int col, struct rules_ext *x, const struct rules_rule *r)
{
	(void)r;
	struct rules_m_time *t = &x->u.time;
	if (x->invert & BIT(RULES_O_TM_MONTHDAYS))
		t->monthdays ^= RULES_TIME_ALL_MONTHDAYS;
	if (x->invert & BIT(RULES_O_TM_WEEKDAYS))
		t->weekdays ^= RULES_TIME_ALL_WEEKDAYS;
	/* the masks carry the inversion now: the kernel keeps no ! either */
	x->invert &= ~(BIT(RULES_O_TM_MONTHDAYS) | BIT(RULES_O_TM_WEEKDAYS));
	if (x->present & (BIT(RULES_O_TM_LOCALTZ) | BIT(RULES_O_TM_KERNELTZ)))
		t->flags |= RULES_TIME_KERNELTZ;
	if (x->present & BIT(RULES_O_TM_CONTIGUOUS))
		t->flags |= RULES_TIME_CONTIGUOUS;
	if ((t->flags & RULES_TIME_CONTIGUOUS) && t->daytime_start < t->daytime_stop)
		return rules_errf(pe, col,
			"time: --contiguous only makes sense when stoptime is smaller than starttime");
	if ((x->present & BIT(RULES_O_TM_MONTHDAYS)) && !(t->monthdays & RULES_TIME_ALL_MONTHDAYS))
		return rules_errf(pe, col, "time: --monthdays leaves no day of the month: the rule "
					   "could never match");
	if ((x->present & BIT(RULES_O_TM_WEEKDAYS)) && !(t->weekdays & RULES_TIME_ALL_WEEKDAYS))
		return rules_errf(pe, col, "time: --weekdays leaves no day of the week: the rule "
					   "could never match");
	if (t->date_stop == 0)
		return rules_errf(pe, col, "time: --datestop 1970-01-01T00:00:00 could only match in the "
					   "first second of 1970 (and iptables-save leaves it out)");
	return 0;
}

static void daytime(struct rules_buf *b, const char *what, uint32_t s)
{
	rbuf_printf(b, " %s %02u:%02u:%02u", what, s / 3600, s / 60 % 60, s % 60);
}

/* time_print_date: " YYYY-MM-DDThh:mm:ss" ("T" in save, a blank in the
 * listing); nothing for 0 (nor LONG_MAX, which a u32 never is) */
static void date(struct rules_buf *b, uint32_t t, char sep)
{
	if (t == 0)
		return;
	int64_t y;
	unsigned m, d, s = t % RULES_TIME_DAY;
	rules_time_civil(t / RULES_TIME_DAY, &y, &m, &d);
	rbuf_printf(b, " %04u-%02u-%02u%c%02u:%02u:%02u", (unsigned)y, m, d, sep, s / 3600,
		s / 60 % 60, s % 60);
}

static void monthdays(struct rules_buf *b, uint32_t mask, bool ordinal)
{
	static const char *const suffix[10] = { "th", "st", "nd", "rd", "th", "th", "th", "th", "th",
		"th" };
	unsigned n = 0;
	rbuf_putc(b, ' ');
	for (unsigned i = 1; i <= 31; i++)
		if (mask & BIT(i))
			/* libxt_time's suffix goes by the last digit: 11st, 12nd, 13rd */
			rbuf_printf(b, "%s%u%s", n++ ? "," : "", i, ordinal ? suffix[i % 10] : "");
}

static void weekdays(struct rules_buf *b, uint8_t mask)
{
	unsigned n = 0;
	rbuf_putc(b, ' ');
	for (unsigned i = 1; i <= 7; i++)
		if (mask & BIT(i))
			rbuf_printf(b, "%s%s", n++ ? "," : "", week_days[i]);
}

static bool daytime_set(const struct rules_m_time *t)
{
	return t->daytime_start != 0 || t->daytime_stop != RULES_TIME_MAX_DAYTIME;
}

/* time_save: the default --datestop (INT_MAX) is printed, datestart 0 not */
void rules_time_save(struct rules_buf *b, const struct rules_ext *x, int fam)
{
	(void)fam;
	const struct rules_m_time *t = &x->u.time;
	if (daytime_set(t)) {
		daytime(b, "--timestart", t->daytime_start);
		daytime(b, "--timestop", t->daytime_stop);
	}
	if (t->monthdays != RULES_TIME_ALL_MONTHDAYS) {
		rbuf_puts(b, " --monthdays");
		monthdays(b, t->monthdays, false);
	}
	if (t->weekdays != RULES_TIME_ALL_WEEKDAYS) {
		rbuf_puts(b, " --weekdays");
		weekdays(b, t->weekdays);
	}
	if (t->date_start != 0) {
		rbuf_puts(b, " --datestart");
		date(b, t->date_start, 'T');
	}
	rbuf_puts(b, " --datestop"); /* never 0: refused by rules_time_check */
	date(b, t->date_stop, 'T');
	if (t->flags & RULES_TIME_KERNELTZ)
		rbuf_puts(b, " --kerneltz");
	if (t->flags & RULES_TIME_CONTIGUOUS)
		rbuf_puts(b, " --contiguous");
}

/* time_print (-L): weekdays before month days, no default --datestop */
void rules_time_list(struct rules_buf *b, const struct rules_ext *x)
{
	const struct rules_m_time *t = &x->u.time;
	rbuf_puts(b, " TIME");
	if (daytime_set(t)) {
		daytime(b, "from", t->daytime_start);
		daytime(b, "to", t->daytime_stop);
	}
	if (t->weekdays != RULES_TIME_ALL_WEEKDAYS) {
		rbuf_puts(b, " on");
		weekdays(b, t->weekdays);
	}
	if (t->monthdays != RULES_TIME_ALL_MONTHDAYS) {
		rbuf_puts(b, " on");
		monthdays(b, t->monthdays, true);
	}
	if (t->date_start != 0) {
		rbuf_puts(b, " starting from");
		date(b, t->date_start, ' ');
	}
	if (t->date_stop != RULES_TIME_DATE_MAX) {
		rbuf_puts(b, " until date");
		date(b, t->date_stop, ' ');
	}
	if (!(t->flags & RULES_TIME_KERNELTZ))
		rbuf_puts(b, " UTC");
	if (t->flags & RULES_TIME_CONTIGUOUS)
		rbuf_puts(b, " contiguous");
}
