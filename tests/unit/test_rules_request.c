/*
 * test_rules_request.c — the certificate request rules (rules/request.h)
 * as functions of values: state at a time, the decisions each state
 * allows, and the listing bounds agreeing with the state rule. No database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rules/request.h"

static const int64_t NOW = 1800000000;

static void a_pending_request_expires_at_its_expiry_itself(void **s)
{
	assert_int_equal(request_state_at(CRT_REQUEST_PENDING, NOW + 1, NOW), CRT_REQUEST_PENDING);
	assert_int_equal(request_state_at(CRT_REQUEST_PENDING, NOW, NOW), CRT_REQUEST_EXPIRED);
	assert_int_equal(request_state_at(CRT_REQUEST_PENDING, NOW - 1, NOW), CRT_REQUEST_EXPIRED);
}

static void a_decided_request_keeps_its_state_past_the_expiry(void **s)
{
	assert_int_equal(request_state_at(CRT_REQUEST_ISSUED, NOW - 1, NOW), CRT_REQUEST_ISSUED);
	assert_int_equal(request_state_at(CRT_REQUEST_DENIED, NOW - 1, NOW), CRT_REQUEST_DENIED);
	assert_int_equal(request_state_at(CRT_REQUEST_CANCELLED, NOW - 1, NOW),
	                 CRT_REQUEST_CANCELLED);
}

static void approve_and_deny_take_a_pending_request_only(void **s)
{
	int to;
	const char *why;
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW + 10, NOW, REQUEST_APPROVE, &to, &why),
	                 CRT_OK);
	assert_int_equal(to, CRT_REQUEST_ISSUED);
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW + 10, NOW, REQUEST_DENY, &to, &why),
	                 CRT_OK);
	assert_int_equal(to, CRT_REQUEST_DENIED);
	const int refused[] = {CRT_REQUEST_ISSUED, CRT_REQUEST_DENIED, CRT_REQUEST_EXPIRED,
	                       CRT_REQUEST_CANCELLED};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(request_decide(refused[i], NOW + 10, NOW, REQUEST_APPROVE, &to, &why),
		                 CRT_E_REQUEST_STATE);
		assert_non_null(why);
		assert_int_equal(request_decide(refused[i], NOW + 10, NOW, REQUEST_DENY, &to, &why),
		                 CRT_E_REQUEST_STATE);
	}
}

static void cancel_takes_a_pending_request_to_cancelled(void **s)
{
	int to = -1;
	const char *why = "x";
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW + 10, NOW, REQUEST_CANCEL, &to, &why),
	                 CRT_OK);
	assert_int_equal(to, CRT_REQUEST_CANCELLED);
	assert_null(why);
}

static void cancelling_a_request_no_longer_pending_is_a_state_refusal(void **s)
{
	const int refused[] = {CRT_REQUEST_ISSUED, CRT_REQUEST_DENIED, CRT_REQUEST_EXPIRED,
	                       CRT_REQUEST_CANCELLED};
	const char *want[] = {"approved already", "denied", "expired", "cancelled"};
	int to;
	const char *why;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(request_decide(refused[i], NOW + 10, NOW, REQUEST_CANCEL, &to, &why),
		                 CRT_E_REQUEST_STATE);
		assert_int_equal(to, refused[i]);
		assert_non_null(strstr(why, want[i]));
	}
	/* past its expiry, before maintain marked it: expired, not cancelled */
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW, NOW, REQUEST_CANCEL, &to, &why),
	                 CRT_E_REQUEST_STATE);
	assert_non_null(strstr(why, "expired"));
}

static void a_cancelled_request_cannot_be_approved_denied_or_expired(void **s)
{
	int to;
	const char *why;
	assert_int_equal(
	    request_decide(CRT_REQUEST_CANCELLED, NOW + 10, NOW, REQUEST_APPROVE, &to, &why),
	    CRT_E_REQUEST_STATE);
	assert_non_null(strstr(why, "cancelled"));
	assert_int_equal(request_decide(CRT_REQUEST_CANCELLED, NOW + 10, NOW, REQUEST_DENY, &to, &why),
	                 CRT_E_REQUEST_STATE);
	assert_int_equal(request_decide(CRT_REQUEST_CANCELLED, NOW - 5, NOW, REQUEST_EXPIRE, &to, &why),
	                 CRT_E_REQUEST_STATE);
}

static void approving_twice_is_a_state_refusal(void **s)
{
	int to;
	const char *why;
	assert_int_equal(request_decide(CRT_REQUEST_ISSUED, NOW + 10, NOW, REQUEST_APPROVE, &to, &why),
	                 CRT_E_REQUEST_STATE);
	assert_non_null(strstr(why, "approved already"));
}

static void a_request_past_its_expiry_is_not_approved_before_maintain_marks_it(void **s)
{
	int to;
	const char *why;
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW, NOW, REQUEST_APPROVE, &to, &why),
	                 CRT_E_REQUEST_STATE);
	assert_non_null(strstr(why, "expired"));
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW, NOW, REQUEST_DENY, &to, &why),
	                 CRT_E_REQUEST_STATE);
}

static void expire_takes_a_pending_request_at_or_after_its_expiry_only(void **s)
{
	int to;
	const char *why;
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW, NOW, REQUEST_EXPIRE, &to, &why),
	                 CRT_OK);
	assert_int_equal(to, CRT_REQUEST_EXPIRED);
	assert_int_equal(request_decide(CRT_REQUEST_PENDING, NOW + 1, NOW, REQUEST_EXPIRE, &to, &why),
	                 CRT_E_REQUEST_STATE);
	assert_int_equal(request_decide(CRT_REQUEST_ISSUED, NOW - 5, NOW, REQUEST_EXPIRE, &to, &why),
	                 CRT_E_REQUEST_STATE);
	assert_int_equal(request_decide(CRT_REQUEST_EXPIRED, NOW - 5, NOW, REQUEST_EXPIRE, &to, &why),
	                 CRT_E_REQUEST_STATE);
}

static void state_names_round_trip_and_unknown_ones_are_refused(void **s)
{
	for (int i = CRT_REQUEST_PENDING; i <= REQUEST_STATE_LAST; i++)
		assert_int_equal(crt_request_state_parse(crt_request_state_name(i)), i);
	assert_int_equal(crt_request_state_parse("cancelled"), CRT_REQUEST_CANCELLED);
	assert_string_equal(crt_request_state_name(REQUEST_STATE_LAST + 1), "unknown");
	assert_int_equal(crt_request_state_parse("Pending"), -1);
	assert_int_equal(crt_request_state_parse(""), -1);
	assert_int_equal(crt_request_state_parse(NULL), -1);
	assert_string_equal(crt_request_state_name(99), "unknown");
}

/* Every combination of stored state and expiry around now: the bounds of
 * state s select exactly the rows the state rule puts in s. */
static void the_listing_bounds_agree_with_the_state_rule(void **s)
{
	const int stored[] = {CRT_REQUEST_PENDING, CRT_REQUEST_DENIED, CRT_REQUEST_ISSUED,
	                      CRT_REQUEST_EXPIRED, CRT_REQUEST_CANCELLED};
	const int64_t exp[] = {NOW - 100, NOW - 1, NOW, NOW + 1, NOW + 100};
	for (int st = -1; st <= REQUEST_STATE_LAST; st++) {
		request_bounds b;
		request_state_bounds(st, NOW, &b);
		for (size_t i = 0; i < sizeof(stored) / sizeof(stored[0]); i++)
			for (size_t k = 0; k < sizeof(exp) / sizeof(exp[0]); k++) {
				int at = request_state_at(stored[i], exp[k], NOW);
				int want = st == -1 || at == st ||
				           (st == CRT_REQUEST_APPROVED && at == CRT_REQUEST_ISSUED);
				if (request_bounds_match(&b, stored[i], exp[k]) != want)
					fail_msg("state %d, stored %d, expires %+lld: bounds say %d", st,
					         stored[i], (long long)(exp[k] - NOW), !want);
			}
	}
}

static void a_value_that_is_no_state_selects_nothing(void **s)
{
	request_bounds b;
	request_state_bounds(42, NOW, &b);
	assert_false(request_bounds_match(&b, CRT_REQUEST_PENDING, NOW + 5));
	assert_false(request_bounds_match(&b, CRT_REQUEST_ISSUED, NOW + 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_pending_request_expires_at_its_expiry_itself),
	    cmocka_unit_test(a_decided_request_keeps_its_state_past_the_expiry),
	    cmocka_unit_test(approve_and_deny_take_a_pending_request_only),
	    cmocka_unit_test(cancel_takes_a_pending_request_to_cancelled),
	    cmocka_unit_test(cancelling_a_request_no_longer_pending_is_a_state_refusal),
	    cmocka_unit_test(a_cancelled_request_cannot_be_approved_denied_or_expired),
	    cmocka_unit_test(approving_twice_is_a_state_refusal),
	    cmocka_unit_test(a_request_past_its_expiry_is_not_approved_before_maintain_marks_it),
	    cmocka_unit_test(expire_takes_a_pending_request_at_or_after_its_expiry_only),
	    cmocka_unit_test(state_names_round_trip_and_unknown_ones_are_refused),
	    cmocka_unit_test(the_listing_bounds_agree_with_the_state_rule),
	    cmocka_unit_test(a_value_that_is_no_state_selects_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
