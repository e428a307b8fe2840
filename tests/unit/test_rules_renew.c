/*
 * test_rules_renew.c — the renewal rule and the supersede rule
 * (common/rules/renew.c) as functions of values: the stored certificate,
 * the policy, the request and the time → renew or the refusal and why; a
 * renewal's age and first admission → supersede its predecessor or not.
 * No store, no ctx.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules/renew.h"

#define DAY 86400
#define NB 1000000
#define NA (NB + 365 * DAY)

static renew_facts allowed(void)
{
	return (renew_facts){.enabled = 1,
			     .not_before = NB,
			     .not_after = NA,
			     .window_days = 30,
			     .owner = "alice"};
}

static void within_the_window_a_new_key_renews(void **s)
{
	renew_facts f = allowed();
	const char *why = "x";
	assert_int_equal(renew_decide(&f, NA - 30 * DAY, &why), CRT_OK);
	assert_string_equal(why, "");
	assert_int_equal(renew_decide(&f, NA, NULL), CRT_OK);
}

static void before_the_window_is_too_early(void **s)
{
	renew_facts f = allowed();
	const char *why;
	assert_int_equal(renew_decide(&f, NA - 30 * DAY - 1, &why), CRT_E_RENEWAL_TOO_EARLY);
	assert_true(strlen(why) > 0);
	assert_int_equal(renew_window_opens(NA, 30), NA - 30 * DAY);
}

static void off_revoked_expired_and_not_yet_valid_are_refused(void **s)
{
	renew_facts f = allowed();
	f.enabled = 0;
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_RENEWAL_NOT_ALLOWED);
	f = allowed();
	f.revoked = 1;
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_CERT_REVOKED);
	f = allowed();
	assert_int_equal(renew_decide(&f, NA + 1, NULL), CRT_E_CERT_EXPIRED);
	f.window_days = 3650; /* a window wider than the validity */
	assert_int_equal(renew_decide(&f, NB - 1, NULL), CRT_E_CERT_NOT_YET_VALID);
}

static void a_profile_with_renew_days_zero_never_renews(void **s)
{
	renew_facts f = allowed();
	const char *why;
	f.window_days = 0;
	assert_int_equal(renew_decide(&f, NA - 1, &why), CRT_E_RENEWAL_NOT_ALLOWED);
	assert_non_null(strstr(why, "renew_days = 0"));
	/* revoked and expired still say so first */
	f.revoked = 1;
	assert_int_equal(renew_decide(&f, NA - 1, NULL), CRT_E_CERT_REVOKED);
}

static void a_certificate_renews_once(void **s)
{
	renew_facts f = allowed();
	f.renewed = 1;
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_RENEWAL_NOT_ALLOWED);
}

static void revoked_wins_over_every_other_refusal(void **s)
{
	renew_facts f = allowed();
	f.revoked = f.renewed = f.same_key = 1;
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_CERT_REVOKED);
	/* and a revoked certificate is never "too early" (no hint of the window) */
	assert_int_equal(renew_decide(&f, NB, NULL), CRT_E_CERT_REVOKED);
}

static void the_same_key_is_refused_unless_allowed(void **s)
{
	renew_facts f = allowed();
	f.same_key = 1;
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_SAME_KEY);
	f.allow_same_key = 1;
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_OK);
}

static void require_login_wants_the_owner(void **s)
{
	renew_facts f = allowed();
	f.require_login = 1;
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_AUTH_REQUIRED);
	f.login = "mallory";
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_FORBIDDEN);
	f.login = "alice";
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_OK);
	f.owner = NULL; /* an admin redemption: nobody to log in as */
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_E_FORBIDDEN);
	f.require_login = 0; /* without the requirement, any login is ignored */
	assert_int_equal(renew_decide(&f, NA - DAY, NULL), CRT_OK);
}

static void the_predecessor_is_superseded_after_grace_or_first_admission(void **s)
{
	assert_false(renew_supersede_due(NB, 0, 7, NB + 7 * DAY - 1));
	assert_true(renew_supersede_due(NB, 0, 7, NB + 7 * DAY));
	assert_true(renew_supersede_due(NB, NB + 60, 7, NB + 61));
	assert_true(renew_supersede_due(NB, 0, 0, NB));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(within_the_window_a_new_key_renews),
	    cmocka_unit_test(before_the_window_is_too_early),
	    cmocka_unit_test(off_revoked_expired_and_not_yet_valid_are_refused),
	    cmocka_unit_test(a_profile_with_renew_days_zero_never_renews),
	    cmocka_unit_test(a_certificate_renews_once),
	    cmocka_unit_test(revoked_wins_over_every_other_refusal),
	    cmocka_unit_test(the_same_key_is_refused_unless_allowed),
	    cmocka_unit_test(require_login_wants_the_owner),
	    cmocka_unit_test(the_predecessor_is_superseded_after_grace_or_first_admission),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
