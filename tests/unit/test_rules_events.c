/*
 * test_rules_events.c — the event rules (common/rules/events.h) as
 * functions of values: types, filters, the retry schedule, templates and
 * webhook URLs. No store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules/events.h"

static void every_issue_event_type_is_known(void **state)
{
	const char *want[] = {"token.created",       "token.deleted",        "request.pending",
			      "request.approved",    "request.denied",       "certificate.issued",
			      "certificate.revoked", "certificate.expiring", "otp.locked",
			      "request.expired",     "request.cancelled"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_true(event_type_known(want[i]));
	assert_false(event_type_known("token.create"));
	assert_false(event_type_known("request.cancel"));
	assert_false(event_type_known("Token.created"));
	assert_false(event_type_known(""));
	assert_false(event_type_known(NULL));
}

static void a_filter_takes_listed_types_areas_and_the_star(void **state)
{
	assert_true(event_filter_match(NULL, "otp.locked"));
	assert_true(event_filter_match("", "otp.locked"));
	assert_true(event_filter_match("*", "otp.locked"));
	assert_true(event_filter_match("token.created, otp.locked", "otp.locked"));
	assert_false(event_filter_match("token.created, otp.locked", "token.deleted"));
	assert_true(event_filter_match("certificate.*", "certificate.expiring"));
	assert_false(event_filter_match("certificate.*", "token.created"));
	/* a type is never matched by a prefix of it */
	assert_false(event_filter_match("token.create", "token.created"));
	assert_false(event_filter_match("certificate", "certificate.issued"));
}

static void a_filter_naming_an_unknown_type_is_refused_with_the_item(void **state)
{
	char bad[64];
	assert_int_equal(event_filter_check("token.created,certificate.*,*", bad, sizeof(bad)), 0);
	assert_int_equal(event_filter_check(" token.created , otp.locked ", bad, sizeof(bad)), 0);
	assert_int_equal(event_filter_check("token.created, token.craeted", bad, sizeof(bad)), -1);
	assert_string_equal(bad, "token.craeted");
	assert_int_equal(event_filter_check("cert.*", bad, sizeof(bad)), -1);
	assert_string_equal(bad, "cert.*");
	assert_int_equal(event_filter_check("token.created,,otp.locked", bad, sizeof(bad)), -1);
	assert_string_equal(bad, "");
}

static void retries_back_off_doubling_up_to_the_cap(void **state)
{
	int64_t next = 0;
	assert_int_equal(event_retry_at(1, 1000, 1000, 10, 100, 86400, &next), 1);
	assert_int_equal(next, 1010);
	assert_int_equal(event_retry_at(2, 1000, 1000, 10, 100, 86400, &next), 1);
	assert_int_equal(next, 1020);
	assert_int_equal(event_retry_at(3, 1000, 1000, 10, 100, 86400, &next), 1);
	assert_int_equal(next, 1040);
	assert_int_equal(event_retry_at(5, 1000, 1000, 10, 100, 86400, &next), 1);
	assert_int_equal(next, 1100); /* 160 capped at 100 */
	assert_int_equal(event_retry_at(60, 1000, 1000, 10, 100, 86400, &next), 1);
	assert_int_equal(next, 1100); /* no overflow after many attempts */
}

static void a_retry_beyond_the_give_up_time_gives_up(void **state)
{
	int64_t next = 0;
	/* routed at 0, give up after 60: a retry due at 50 is made, at 70 not */
	assert_int_equal(event_retry_at(1, 40, 0, 10, 100, 60, &next), 1);
	assert_int_equal(next, 50);
	next = -1;
	assert_int_equal(event_retry_at(3, 30, 0, 10, 100, 60, &next), 0);
	assert_int_equal(next, -1);
}

static const char *lookup(const char *name, void *arg)
{
	if (strcmp(name, "type") == 0)
		return "token.created";
	if (strcmp(name, "tokenName") == 0)
		return arg;
	return NULL;
}

static void a_template_renders_its_placeholders(void **state)
{
	char *s = event_template_render("[{type}] {tokenName} {{literal} {owner}.", lookup,
					"laptop", 0);
	assert_non_null(s);
	assert_string_equal(s, "[token.created] laptop {literal} .");
	free(s);
}

static void a_header_template_cannot_be_broken_by_a_value_with_a_line_break(void **state)
{
	char *s = event_template_render("Subject {tokenName}", lookup, "x\r\nBcc: evil@example.org",
					1);
	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	assert_null(strchr(s, '\r'));
	free(s);
	s = event_template_render("{tokenName}", lookup, "two\nlines", 0);
	assert_string_equal(s, "two\nlines"); /* a body keeps them */
	free(s);
}

static void a_template_with_an_unknown_placeholder_is_refused(void **state)
{
	char bad[64];
	assert_int_equal(event_template_check("{type} {serial} {notAfter}", bad, sizeof(bad)), 0);
	/* a request's events: its id and a denial's reason */
	assert_int_equal(event_template_check("{requestId} {reason} {ownerEmail}", bad, sizeof(bad)),
	                 0);
	assert_int_equal(event_template_check("{requestid}", bad, sizeof(bad)), -1);
	assert_int_equal(event_template_check("{pollSecret}", bad, sizeof(bad)), -1);
	assert_int_equal(event_template_check("hello {password}", bad, sizeof(bad)), -1);
	assert_string_equal(bad, "{password}");
	assert_int_equal(event_template_check("hello {type", bad, sizeof(bad)), -1);
	assert_string_equal(bad, "unclosed {");
	assert_null(event_template_render("{token}", lookup, NULL, 0));
}

static void a_webhook_url_is_https_or_plain_http_to_loopback_only(void **state)
{
	const char *why;
	assert_int_equal(event_url_check("https://hooks.example.org/crtoken", &why), 0);
	assert_int_equal(event_url_check("https://[2001:db8::1]:8443/x", &why), 0);
	assert_int_equal(event_url_check("http://127.0.0.1:18850/hook", &why), 0);
	assert_int_equal(event_url_check("http://localhost/hook", &why), 0);
	assert_int_equal(event_url_check("http://[::1]:80/", &why), 0);
	assert_int_equal(event_url_check("http://hooks.example.org/crtoken", &why), -1);
	assert_non_null(strstr(why, "https"));
	/* names that only look like loopback */
	assert_int_equal(event_url_check("http://127.0.0.1.evil.example/", &why), -1);
	assert_int_equal(event_url_check("http://localhost.evil.example/", &why), -1);
	assert_int_equal(event_url_check("ftp://127.0.0.1/", &why), -1);
	assert_int_equal(event_url_check("https://user:pw@hooks.example.org/", &why), -1);
	assert_int_equal(event_url_check("http://127.0.0.1@evil.example/", &why), -1);
	assert_int_equal(event_url_check("https://hooks.example.org/a b", &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_issue_event_type_is_known),
	    cmocka_unit_test(a_filter_takes_listed_types_areas_and_the_star),
	    cmocka_unit_test(a_filter_naming_an_unknown_type_is_refused_with_the_item),
	    cmocka_unit_test(retries_back_off_doubling_up_to_the_cap),
	    cmocka_unit_test(a_retry_beyond_the_give_up_time_gives_up),
	    cmocka_unit_test(a_template_renders_its_placeholders),
	    cmocka_unit_test(a_header_template_cannot_be_broken_by_a_value_with_a_line_break),
	    cmocka_unit_test(a_template_with_an_unknown_placeholder_is_refused),
	    cmocka_unit_test(a_webhook_url_is_https_or_plain_http_to_loopback_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
