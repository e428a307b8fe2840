/*
 * test_rules_scope.c — API key scopes and profile lists (common/rules/scope.c)
 * on values alone, without a database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/scope.h"

static void each_scope_name_parses_to_its_bit(void **s)
{
	static const struct {
		const char *name;
		unsigned bit;
	} want[] = {
	    {"tokens:read", CRT_SCOPE_TOKENS_READ},     {"tokens:write", CRT_SCOPE_TOKENS_WRITE},
	    {"certs:read", CRT_SCOPE_CERTS_READ},       {"certs:revoke", CRT_SCOPE_CERTS_REVOKE},
	    {"requests:read", CRT_SCOPE_REQUESTS_READ}, {"requests:approve", CRT_SCOPE_REQUESTS_APPROVE},
	    {"audit:read", CRT_SCOPE_AUDIT_READ},
	};
	unsigned m, all = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(crt_scopes_parse(want[i].name, &m), CRT_OK);
		assert_int_equal(m, want[i].bit);
		assert_string_equal(crt_scope_name(want[i].bit), want[i].name);
		all |= m;
	}
	assert_int_equal(all, CRT_SCOPE_ALL);
}

static void a_list_with_blanks_is_the_union(void **s)
{
	unsigned m;
	assert_int_equal(crt_scopes_parse(" tokens:read , certs:read,audit:read ", &m), CRT_OK);
	assert_int_equal(m, CRT_SCOPE_TOKENS_READ | CRT_SCOPE_CERTS_READ | CRT_SCOPE_AUDIT_READ);
	assert_int_equal(crt_scopes_parse("all", &m), CRT_OK);
	assert_int_equal(m, CRT_SCOPE_ALL);
	assert_int_equal(crt_scopes_parse("tokens:read,all", &m), CRT_OK);
	assert_int_equal(m, CRT_SCOPE_ALL);
}

static void unknown_empty_or_misspelt_scopes_are_refused(void **s)
{
	static const char *const bad[] = {"",          ",",           "tokens:read,",
					  "tokens",    "Tokens:Read", "tokens:readx",
					  "audit:write", "tokens:read,,certs:read", "*", NULL};
	unsigned m = 7;
	for (size_t i = 0; bad[i] != NULL; i++) {
		if (crt_scopes_parse(bad[i], &m) != CRT_E_SCOPE_UNKNOWN)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(m, 0);
	}
	assert_int_equal(crt_scopes_parse(NULL, &m), CRT_E_SCOPE_UNKNOWN);
}

static void the_canonical_text_reads_back_to_the_same_mask(void **s)
{
	char buf[160];
	unsigned m;
	for (unsigned mask = 1; mask <= CRT_SCOPE_ALL; mask++) {
		assert_int_equal(crt_scopes_format(mask, buf, sizeof(buf)), CRT_OK);
		assert_int_equal(crt_scopes_parse(buf, &m), CRT_OK);
		assert_int_equal(m, mask);
	}
	assert_int_equal(crt_scopes_format(CRT_SCOPE_ALL, buf, sizeof(buf)), CRT_OK);
	assert_string_equal(buf, "all");
	assert_int_equal(
	    crt_scopes_format(CRT_SCOPE_CERTS_READ | CRT_SCOPE_TOKENS_READ, buf, sizeof(buf)), CRT_OK);
	assert_string_equal(buf, "tokens:read,certs:read");
	assert_int_equal(crt_scopes_format(CRT_SCOPE_TOKENS_READ | CRT_SCOPE_TOKENS_WRITE, buf, 12),
			 CRT_E_NOMEM);
}

static void a_grant_needs_every_bit_and_no_need_is_granted_to_no_one(void **s)
{
	assert_true(scope_grants(CRT_SCOPE_ALL, CRT_SCOPE_AUDIT_READ));
	assert_true(scope_grants(CRT_SCOPE_TOKENS_READ, CRT_SCOPE_TOKENS_READ));
	assert_false(scope_grants(CRT_SCOPE_TOKENS_READ, CRT_SCOPE_TOKENS_WRITE));
	assert_false(scope_grants(CRT_SCOPE_TOKENS_READ, CRT_SCOPE_TOKENS_READ | CRT_SCOPE_CERTS_READ));
	assert_false(scope_grants(CRT_SCOPE_ALL, 0));
}

static void a_key_stored_before_scopes_has_every_scope(void **s)
{
	assert_int_equal(scope_from_stored(NULL), CRT_SCOPE_ALL);
	assert_int_equal(scope_from_stored("all"), CRT_SCOPE_ALL);
	assert_int_equal(scope_from_stored("certs:read"), CRT_SCOPE_CERTS_READ);
}

static void a_stored_scope_this_build_does_not_know_grants_nothing(void **s)
{
	assert_int_equal(scope_from_stored("certs:read,events:read"), CRT_SCOPE_CERTS_READ);
	assert_int_equal(scope_from_stored("events:read"), 0);
	assert_int_equal(scope_from_stored(""), 0);
}

static void profile_lists_are_names_without_repeats(void **s)
{
	static const char *const good[] = {"default", "guest,staff", "a-1,b_2,c", NULL};
	static const char *const bad[] = {"", ",", "guest,", ",guest", "guest,,staff", "Guest",
					  "guest staff", "guest,guest", "g\xc3\xa4st", NULL};
	const char *why;
	for (size_t i = 0; good[i] != NULL; i++)
		assert_int_equal(scope_profiles_check(good[i], &why), CRT_OK);
	for (size_t i = 0; bad[i] != NULL; i++) {
		if (scope_profiles_check(bad[i], &why) != CRT_E_FIELD_INVALID)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(why);
	}
	assert_int_equal(scope_profiles_check(NULL, &why), CRT_E_FIELD_INVALID);
}

static void a_profile_is_allowed_only_when_listed(void **s)
{
	crt_apikey k = {.profiles = "guest,staff"};
	assert_true(scope_profile_allowed("guest,staff", "staff"));
	assert_true(scope_profile_allowed("guest,staff", "guest"));
	assert_false(scope_profile_allowed("guest,staff", "gues"));
	assert_false(scope_profile_allowed("guest,staff", "guest,staff"));
	assert_false(scope_profile_allowed("guest,staff", "admin"));
	assert_false(crt_apikey_allows_profile(&k, "default"));
	assert_true(crt_apikey_allows_profile(&k, "guest"));
}

static void no_profile_named_means_the_default_profile(void **s)
{
	assert_true(scope_profile_allowed("default", NULL));
	assert_true(scope_profile_allowed("guest,default", ""));
	assert_false(scope_profile_allowed("guest", NULL));
}

static void a_key_without_a_list_allows_every_profile(void **s)
{
	crt_apikey k = {.profiles = NULL};
	assert_true(scope_profile_allowed(NULL, "anything"));
	assert_true(crt_apikey_allows_profile(&k, NULL));
	assert_false(crt_apikey_allows_profile(NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(each_scope_name_parses_to_its_bit),
	    cmocka_unit_test(a_list_with_blanks_is_the_union),
	    cmocka_unit_test(unknown_empty_or_misspelt_scopes_are_refused),
	    cmocka_unit_test(the_canonical_text_reads_back_to_the_same_mask),
	    cmocka_unit_test(a_grant_needs_every_bit_and_no_need_is_granted_to_no_one),
	    cmocka_unit_test(a_key_stored_before_scopes_has_every_scope),
	    cmocka_unit_test(a_stored_scope_this_build_does_not_know_grants_nothing),
	    cmocka_unit_test(profile_lists_are_names_without_repeats),
	    cmocka_unit_test(a_profile_is_allowed_only_when_listed),
	    cmocka_unit_test(no_profile_named_means_the_default_profile),
	    cmocka_unit_test(a_key_without_a_list_allows_every_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
