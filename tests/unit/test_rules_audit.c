/*
 * test_rules_audit.c — the audit list's filter and RFC 3339 times
 * (common/rules/audit.c) on values alone: what crt_time_parse takes and
 * refuses, round trips with crt_time_rfc3339, and the filter rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/audit.h"

static int64_t parsed(const char *s)
{
	int64_t t = -1;
	if (crt_time_parse(s, &t) != CRT_OK)
		fail_msg("\"%s\" was refused", s);
	return t;
}

static void utc_times_are_read_as_unix_seconds(void **s)
{
	assert_int_equal(parsed("2026-11-22T07:34:32Z"), 1795332872);
	assert_int_equal(parsed("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parsed("2024-02-29T23:59:59Z"), 1709251199);
	assert_int_equal(parsed("2000-03-01T00:00:00Z"), 951868800);
	assert_int_equal(parsed("9999-12-31T23:59:59Z"), 253402300799LL);
}

static void the_other_spellings_rfc_3339_allows_for_utc_are_taken(void **s)
{
	assert_int_equal(parsed("2026-11-22t07:34:32z"), 1795332872);
	assert_int_equal(parsed("2026-11-22 07:34:32Z"), 1795332872);
	assert_int_equal(parsed("2026-11-22T07:34:32+00:00"), 1795332872);
	assert_int_equal(parsed("2026-11-22T07:34:32-00:00"), 1795332872);
	assert_int_equal(parsed("2026-11-22T07:34:32.999999Z"), 1795332872);
	assert_int_equal(parsed("2026-11-22T07:34:32.5+00:00"), 1795332872);
	/* a leap second reads as the next minute's first */
	assert_int_equal(parsed("2016-12-31T23:59:60Z"), parsed("2017-01-01T00:00:00Z"));
}

static void times_that_are_not_rfc_3339_utc_are_refused(void **s)
{
	static const char *const bad[] = {
	    "",
	    "yesterday",
	    "2026-11-22",
	    "2026-11-22T07:34:32",         /* no zone */
	    "2026-11-22T07:34:32+02:00",   /* not UTC */
	    "2026-11-22T07:34:32+0000",
	    "2026-11-22T07:34Z",
	    "2026-11-22T07:34:32.Z",       /* a point without digits */
	    "2026-11-22T07:34:32Zjunk",
	    "2026-11-22T07:34:32Z ",
	    " 2026-11-22T07:34:32Z",
	    "2026-13-01T00:00:00Z",
	    "2026-00-01T00:00:00Z",
	    "2026-02-29T00:00:00Z",        /* not a leap year */
	    "1900-02-29T00:00:00Z",
	    "2026-04-31T00:00:00Z",
	    "2026-11-00T00:00:00Z",
	    "2026-11-22T24:00:00Z",
	    "2026-11-22T07:60:00Z",
	    "2026-11-22T07:34:61Z",
	    "1969-12-31T23:59:59Z",        /* before 1970 */
	    "+2026-11-22T07:34:32Z",
	    "2026-1-22T07:34:32Z",
	    "2026/11/22T07:34:32Z",
	    "20261122T073432Z",
	    NULL,
	};
	int64_t t;
	for (size_t i = 0; bad[i] != NULL; i++) {
		if (crt_time_parse(bad[i], &t) != CRT_E_TIME_INVALID)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(t, 0);
	}
	assert_int_equal(crt_time_parse(NULL, &t), CRT_E_TIME_INVALID);
}

static void what_crt_time_rfc3339_writes_reads_back(void **s)
{
	char buf[32];
	for (int64_t t = 0; t < 253402300799LL; t += 86400LL * 97 + 3607) {
		crt_time_rfc3339(t, buf, sizeof(buf));
		if (parsed(buf) != t)
			fail_msg("%s read back as %lld, not %lld", buf, (long long)parsed(buf),
				 (long long)t);
	}
}

static void absent_filter_values_select_everything(void **s)
{
	crt_audit_filter f;
	assert_int_equal(crt_audit_filter_parse(NULL, NULL, NULL, NULL, NULL, &f, NULL), CRT_OK);
	assert_null(f.actor);
	assert_null(f.action);
	assert_null(f.object);
	assert_int_equal(f.since, 0);
	assert_int_equal(f.until, 0);
	assert_int_equal(audit_filter_check(NULL, NULL), CRT_OK);
}

static void filter_values_are_taken_as_given(void **s)
{
	const char *actor = "o'brien", *action = "token.", *object = "50%_off";
	crt_audit_filter f;
	assert_int_equal(crt_audit_filter_parse(actor, action, object, "2026-11-22T07:34:32Z",
						"2026-11-22T07:34:33Z", &f, NULL),
			 CRT_OK);
	assert_ptr_equal(f.actor, actor);
	assert_ptr_equal(f.action, action);
	assert_ptr_equal(f.object, object);
	assert_int_equal(f.since, 1795332872);
	assert_int_equal(f.until, 1795332873);
	/* an empty window is a window */
	assert_int_equal(crt_audit_filter_parse(NULL, NULL, NULL, "2026-11-22T07:34:32Z",
						"2026-11-22T07:34:32Z", &f, NULL),
			 CRT_OK);
}

static void filter_strings_empty_long_or_with_control_characters_are_refused(void **s)
{
	char longest[AUDIT_FILTER_MAX + 2];
	const char *why;
	crt_audit_filter f;

	memset(longest, 'a', sizeof(longest));
	longest[AUDIT_FILTER_MAX] = '\0';
	assert_int_equal(crt_audit_filter_parse(longest, NULL, NULL, NULL, NULL, &f, NULL), CRT_OK);
	longest[AUDIT_FILTER_MAX] = 'a';
	longest[AUDIT_FILTER_MAX + 1] = '\0';
	assert_int_equal(crt_audit_filter_parse(longest, NULL, NULL, NULL, NULL, &f, &why),
			 CRT_E_FILTER_INVALID);
	assert_non_null(strstr(why, "actor"));
	assert_int_equal(crt_audit_filter_parse(NULL, "", NULL, NULL, NULL, &f, &why),
			 CRT_E_FILTER_INVALID);
	assert_non_null(strstr(why, "action"));
	assert_int_equal(crt_audit_filter_parse(NULL, NULL, "a\nb", NULL, NULL, &f, &why),
			 CRT_E_FILTER_INVALID);
	assert_non_null(strstr(why, "object"));
	assert_int_equal(crt_audit_filter_parse("a\x7f", NULL, NULL, NULL, NULL, &f, NULL),
			 CRT_E_FILTER_INVALID);
	assert_null(f.actor); /* nothing of a refused filter is handed out */
}

static void bad_times_and_since_after_until_are_time_invalid(void **s)
{
	const char *why;
	crt_audit_filter f;
	assert_int_equal(crt_audit_filter_parse(NULL, NULL, NULL, "now", NULL, &f, &why),
			 CRT_E_TIME_INVALID);
	assert_non_null(strstr(why, "since"));
	assert_int_equal(crt_audit_filter_parse(NULL, NULL, NULL, NULL, "2026-11-22", &f, &why),
			 CRT_E_TIME_INVALID);
	assert_non_null(strstr(why, "until"));
	assert_int_equal(crt_audit_filter_parse(NULL, NULL, NULL, "2026-11-22T07:34:33Z",
						"2026-11-22T07:34:32Z", &f, &why),
			 CRT_E_TIME_INVALID);
	assert_non_null(strstr(why, "after"));
	/* 1970-01-01T00:00:00Z would be "no bound": refused rather than ignored */
	assert_int_equal(crt_audit_filter_parse(NULL, NULL, NULL, "1970-01-01T00:00:00Z", NULL, &f,
						NULL),
			 CRT_E_TIME_INVALID);
	f = (crt_audit_filter){.since = -5};
	assert_int_equal(audit_filter_check(&f, NULL), CRT_E_TIME_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(utc_times_are_read_as_unix_seconds),
	    cmocka_unit_test(the_other_spellings_rfc_3339_allows_for_utc_are_taken),
	    cmocka_unit_test(times_that_are_not_rfc_3339_utc_are_refused),
	    cmocka_unit_test(what_crt_time_rfc3339_writes_reads_back),
	    cmocka_unit_test(absent_filter_values_select_everything),
	    cmocka_unit_test(filter_values_are_taken_as_given),
	    cmocka_unit_test(filter_strings_empty_long_or_with_control_characters_are_refused),
	    cmocka_unit_test(bad_times_and_since_after_until_are_time_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
