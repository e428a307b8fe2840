/*
 * rules/audit.c — the audit list's filter and RFC 3339 times (rules/audit.h).
 */
#include <string.h>

#include "rules/audit.h"

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

crt_status crt_time_parse(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se;
	const char *p;

	if (out != NULL)
		*out = 0;
	if (s == NULL || out == NULL || strlen(s) < 20)
		return CRT_E_TIME_INVALID;
	/* YYYY-MM-DDTHH:MM:SS */
	if ((y = digits(s, 4)) < 0 || s[4] != '-' || (mo = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    (h = digits(s + 11, 2)) < 0 || s[13] != ':' || (mi = digits(s + 14, 2)) < 0 ||
	    s[16] != ':' || (se = digits(s + 17, 2)) < 0)
		return CRT_E_TIME_INVALID;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 || se > 60)
		return CRT_E_TIME_INVALID;
	p = s + 19;
	if (*p == '.') { /* fractional seconds: at least one digit, dropped */
		if (p[1] < '0' || p[1] > '9')
			return CRT_E_TIME_INVALID;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		;
	else if ((strcmp(p, "+00:00") == 0 || strcmp(p, "-00:00") == 0))
		;
	else
		return CRT_E_TIME_INVALID;
	/* A leap second (:60) reads as the next minute's :00. */
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return CRT_OK;
}

/* 1-AUDIT_FILTER_MAX bytes, no byte below 0x20 nor DEL. */
static int filter_text_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUDIT_FILTER_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

crt_status audit_filter_check(const crt_audit_filter *f, const char **why)
{
	const char *text[3];

	if (why != NULL)
		*why = NULL;
	if (f == NULL)
		return CRT_OK;
	text[0] = f->actor;
	text[1] = f->action;
	text[2] = f->object;
	for (int i = 0; i < 3; i++)
		if (text[i] != NULL && !filter_text_ok(text[i])) {
			if (why != NULL)
				*why = i == 0   ? "actor must be 1-256 bytes without control characters"
				       : i == 1 ? "action must be 1-256 bytes without control characters"
						: "object must be 1-256 bytes without control characters";
			return CRT_E_FILTER_INVALID;
		}
	if (f->since < 0 || f->until < 0) {
		if (why != NULL)
			*why = "since and until must be times after 1970";
		return CRT_E_TIME_INVALID;
	}
	if (f->since > 0 && f->until > 0 && f->since > f->until) {
		if (why != NULL)
			*why = "since must not be after until";
		return CRT_E_TIME_INVALID;
	}
	return CRT_OK;
}

crt_status crt_audit_filter_parse(const char *actor, const char *action, const char *object,
				  const char *since, const char *until, crt_audit_filter *out,
				  const char **why)
{
	crt_audit_filter f = {.actor = actor, .action = action, .object = object};
	crt_status r;

	if (why != NULL)
		*why = NULL;
	if (out == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*out = (crt_audit_filter){0};
	if (since != NULL && (crt_time_parse(since, &f.since) != CRT_OK || f.since == 0)) {
		if (why != NULL)
			*why = "since must be an RFC 3339 time in UTC after 1970, as "
			       "2026-11-22T07:34:32Z";
		return CRT_E_TIME_INVALID;
	}
	if (until != NULL && (crt_time_parse(until, &f.until) != CRT_OK || f.until == 0)) {
		if (why != NULL)
			*why = "until must be an RFC 3339 time in UTC after 1970, as "
			       "2026-11-22T07:34:32Z";
		return CRT_E_TIME_INVALID;
	}
	if ((r = audit_filter_check(&f, why)) != CRT_OK)
		return r;
	*out = f;
	return CRT_OK;
}
