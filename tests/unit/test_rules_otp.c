/*
 * test_rules_otp.c — the OTP decision (common/rules/otp.h) as a function of
 * values: no store, no secret, no HMAC. The codes come from a table the
 * test controls, so collisions and failures can be staged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rules/otp.h"

#define T0 1700000000 /* a multiple of 30 is not needed; step = T0 / 30 */
#define PERIOD 30
#define STEP (T0 / PERIOD)

/* Codes by step: "%06d" of a step-dependent number, unless overridden. */
typedef struct codes {
	int calls;          /* how many codes were asked for */
	int64_t last_asked; /* the last step asked for */
	crt_status fail;    /* answer this instead of a code */
	int64_t same_as_step;  /* steps same_a and same_b share one code */
	int64_t same_a, same_b;
	int digits;         /* of the codes made: 6 unless set */
} codes;

static crt_status code_of(void *arg, uint64_t step, char *out, size_t outlen)
{
	codes *c = arg;
	c->calls++;
	c->last_asked = (int64_t)step;
	if (c->fail != CRT_OK)
		return c->fail;
	if (c->same_as_step && ((int64_t)step == c->same_a || (int64_t)step == c->same_b))
		step = (uint64_t)c->same_a;
	snprintf(out, outlen, "%0*u", c->digits ? c->digits : 6,
		 (unsigned)((step * 7919u + 13u) % (c->digits == 8 ? 100000000u : 1000000u)));
	return CRT_OK;
}

static const char *code_at(int64_t step)
{
	static char buf[16];
	codes c = {0};
	code_of(&c, (uint64_t)step, buf, sizeof(buf));
	return buf;
}

static const otp_policy pol = {.max_failures = 5, .lockout_seconds = 300,
			       .lockout_max_seconds = 86400};

static otp_state fresh(void)
{
	return (otp_state){.last_step = -1};
}

static otp_verdict decide(const otp_state *s, const char *code, int64_t now, int window,
			  codes *c)
{
	otp_verdict v;
	otp_attempt a = {.code = code, .now = now, .window = window, .digits = 6,
			 .period = PERIOD};
	assert_int_equal(otp_decide(s, &a, &pol, code_of, c, &v), CRT_OK);
	return v;
}

static void test_the_current_steps_code_is_accepted_and_becomes_last_step(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	s.lk.failures = 3;
	otp_verdict v = decide(&s, code_at(STEP), T0, 1, &c);
	assert_int_equal(v.outcome, OTP_ACCEPTED);
	assert_int_equal(v.offset, 0);
	assert_true(v.write);
	assert_int_equal(v.next.last_step, STEP);
	assert_int_equal(v.next.lk.failures, 0);
	assert_int_equal(v.lockout_started, 0);
	assert_int_equal(c.calls, 1); /* nearest first: the current step matched at once */
}

static void test_the_same_step_twice_is_a_replay_and_counts_a_failure(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	otp_verdict v = decide(&s, code_at(STEP), T0, 1, &c);
	s = v.next;
	v = decide(&s, code_at(STEP), T0 + 5, 1, &c);
	assert_int_equal(v.outcome, OTP_REPLAYED);
	assert_int_equal(v.offset, 0);
	assert_true(v.write);
	assert_int_equal(v.next.last_step, STEP);
	assert_int_equal(v.next.lk.failures, 1);
}

static void test_a_code_in_the_window_before_last_step_is_a_replay(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	/* the code of the next step was accepted (a fast clock) */
	otp_verdict v = decide(&s, code_at(STEP + 1), T0, 1, &c);
	assert_int_equal(v.outcome, OTP_ACCEPTED);
	assert_int_equal(v.offset, 1);
	s = v.next;
	assert_int_equal(s.last_step, STEP + 1);
	/* now's own step lies before last_step: its code is burnt too */
	v = decide(&s, code_at(STEP), T0, 1, &c);
	assert_int_equal(v.outcome, OTP_REPLAYED);
	/* and so is the previous step's, still in the window */
	v = decide(&s, code_at(STEP - 1), T0, 1, &c);
	assert_int_equal(v.outcome, OTP_REPLAYED);
	assert_int_equal(v.offset, -1);
}

static void test_the_next_steps_code_is_fresh_after_a_success(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	s = decide(&s, code_at(STEP), T0, 1, &c).next;
	otp_verdict v = decide(&s, code_at(STEP + 1), T0 + PERIOD, 1, &c);
	assert_int_equal(v.outcome, OTP_ACCEPTED);
	assert_int_equal(v.next.last_step, STEP + 1);
}

static void test_window_edges_accept_one_step_either_side_and_refuse_two(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	assert_int_equal(decide(&s, code_at(STEP - 1), T0, 1, &c).outcome, OTP_ACCEPTED);
	assert_int_equal(decide(&s, code_at(STEP + 1), T0, 1, &c).outcome, OTP_ACCEPTED);
	assert_int_equal(decide(&s, code_at(STEP - 2), T0, 1, &c).outcome, OTP_BAD_CODE);
	assert_int_equal(decide(&s, code_at(STEP + 2), T0, 1, &c).outcome, OTP_BAD_CODE);
	c.calls = 0;
	assert_int_equal(decide(&s, code_at(STEP + 1), T0, 0, &c).outcome, OTP_BAD_CODE);
	assert_int_equal(c.calls, 1); /* window 0: only now's step */
}

static void test_steps_before_the_epoch_are_never_computed(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	otp_verdict v = decide(&s, "999999", 0, 2, &c);
	assert_int_equal(v.outcome, OTP_BAD_CODE);
	assert_int_equal(c.calls, 3); /* steps 0, 1, 2: not -1, -2 */
}

static void test_a_code_matching_a_used_and_a_fresh_step_is_accepted_at_the_fresh_one(void **state)
{
	codes c = {.same_as_step = 1, .same_a = STEP - 1, .same_b = STEP + 1};
	otp_state s = {.last_step = STEP - 1};
	char code[16];
	snprintf(code, sizeof(code), "%s", code_at(STEP - 1));
	otp_verdict v = decide(&s, code, T0, 1, &c);
	assert_int_equal(v.outcome, OTP_ACCEPTED);
	assert_int_equal(v.offset, 1);
	assert_int_equal(v.next.last_step, STEP + 1);
}

static void test_malformed_codes_are_wrong_codes_and_no_code_is_computed(void **state)
{
	static const char *const bad[] = {"", "12345", "1234567", "12345a", " 123456",
					  "123456 ", "+12345", "-12345", "１２３４５６", "12\x00" "456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		codes c = {0};
		otp_state s = fresh();
		otp_verdict v = decide(&s, bad[i], T0, 1, &c);
		assert_int_equal(v.outcome, OTP_BAD_CODE);
		assert_true(v.write);
		assert_int_equal(v.next.lk.failures, 1);
		assert_int_equal(c.calls, 0);
	}
	codes c = {0};
	otp_state s = fresh();
	otp_verdict v = decide(&s, NULL, T0, 1, &c);
	assert_int_equal(v.outcome, OTP_BAD_CODE);
	assert_int_equal(c.calls, 0);
	assert_true(otp_code_wellformed("000000", 6));
	assert_true(otp_code_wellformed("12345678", 8));
	assert_false(otp_code_wellformed("123456", 8));
}

static void test_max_failures_in_a_row_lock_for_lockout_seconds(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	otp_verdict v;
	for (int i = 1; i < 5; i++) {
		v = decide(&s, "000000", T0, 1, &c);
		assert_int_equal(v.outcome, OTP_BAD_CODE);
		assert_int_equal(v.lockout_started, 0);
		s = v.next;
	}
	v = decide(&s, "000000", T0 + 10, 1, &c);
	assert_int_equal(v.outcome, OTP_BAD_CODE);
	assert_int_equal(v.lockout_started, 300);
	assert_int_equal(v.next.lk.locked_until, T0 + 10 + 300);
	assert_int_equal(v.next.lk.lockouts, 1);
}

static void test_while_locked_even_the_right_code_is_not_looked_at(void **state)
{
	codes c = {0};
	otp_state s = {.last_step = -1, .lk = {.failures = 5, .locked_until = T0 + 1, .lockouts = 1}};
	otp_verdict v = decide(&s, code_at(STEP), T0, 1, &c);
	assert_int_equal(v.outcome, OTP_LOCKED);
	assert_false(v.write);
	assert_int_equal(c.calls, 0);
	assert_memory_equal(&v.next, &s, sizeof(s));
}

static void test_a_lockout_ends_at_locked_until_and_starts_a_fresh_series(void **state)
{
	codes c = {0};
	otp_state s = {.last_step = -1, .lk = {.failures = 5, .locked_until = T0, .lockouts = 2}};
	/* locked_until is the first second that is free again */
	otp_verdict v = decide(&s, "000000", T0, 1, &c);
	assert_int_equal(v.outcome, OTP_BAD_CODE);
	assert_int_equal(v.next.lk.failures, 1);
	assert_int_equal(v.next.lk.locked_until, 0);
	assert_int_equal(v.next.lk.lockouts, 2); /* the lockouts in a row still count */
	s.lk.locked_until = T0 + 1;
	assert_int_equal(decide(&s, "000000", T0, 1, &c).outcome, OTP_LOCKED);
}

static void test_each_lockout_in_a_row_doubles_up_to_the_cap(void **state)
{
	static const int64_t want[] = {300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 76800,
				       86400, 86400};
	codes c = {0};
	otp_state s = fresh();
	int64_t now = T0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		otp_verdict v;
		for (int k = 0; k < 5; k++) {
			v = decide(&s, "000000", now, 1, &c);
			assert_int_equal(v.outcome, OTP_BAD_CODE);
			s = v.next;
		}
		assert_int_equal(v.lockout_started, want[i]);
		assert_int_equal(s.lk.lockouts, (int)i + 1);
		assert_int_equal(decide(&s, "000000", s.lk.locked_until - 1, 1, &c).outcome,
				 OTP_LOCKED);
		now = s.lk.locked_until;
	}
}

static void test_a_cap_below_the_first_lockout_keeps_the_first(void **state)
{
	const otp_policy p = {.max_failures = 1, .lockout_seconds = 300, .lockout_max_seconds = 60};
	crt_otp_lockout lk = {0};
	assert_int_equal(otp_lockout_step(&p, &lk, 0, T0), 300);
	assert_int_equal(otp_lockout_step(&p, &lk, 0, T0 + 300), 300);
}

static void test_a_success_after_lockouts_clears_them(void **state)
{
	codes c = {0};
	otp_state s = {.last_step = STEP - 5, .lk = {.failures = 2, .locked_until = T0 - 1,
						      .lockouts = 4}};
	otp_verdict v = decide(&s, code_at(STEP), T0, 1, &c);
	assert_int_equal(v.outcome, OTP_ACCEPTED);
	assert_int_equal(v.next.lk.failures, 0);
	assert_int_equal(v.next.lk.lockouts, 0);
	assert_int_equal(v.next.lk.locked_until, 0);
}

static void test_replays_count_towards_the_lockout(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	s = decide(&s, code_at(STEP), T0, 1, &c).next;
	otp_verdict v;
	for (int i = 0; i < 5; i++) {
		v = decide(&s, code_at(STEP), T0, 1, &c);
		assert_int_equal(v.outcome, OTP_REPLAYED);
		s = v.next;
	}
	assert_int_equal(v.lockout_started, 300);
}

static void test_a_failed_code_computation_decides_nothing(void **state)
{
	codes c = {.fail = CRT_E_SEAL};
	otp_state s = fresh();
	otp_verdict v;
	otp_attempt a = {.code = "123456", .now = T0, .window = 1, .digits = 6, .period = PERIOD};
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_E_SEAL);
	assert_int_equal(c.calls, 1);
}

static void test_an_attempt_outside_the_contract_is_refused(void **state)
{
	codes c = {0};
	otp_state s = fresh();
	otp_verdict v;
	otp_attempt a = {.code = "123456", .now = T0, .window = 1, .digits = 6, .period = 0};
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_E_INVALID_ARGUMENT);
	a.period = PERIOD;
	a.digits = 7;
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_E_INVALID_ARGUMENT);
	a.digits = 6;
	a.now = -1;
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_E_INVALID_ARGUMENT);
	a.now = T0;
	a.window = -1;
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_E_INVALID_ARGUMENT);
	assert_int_equal(c.calls, 0);
}

static void test_eight_digit_codes_are_compared_over_eight_digits(void **state)
{
	codes c = {.digits = 8};
	otp_state s = fresh();
	char code[16];
	otp_verdict v;
	code_of(&c, STEP, code, sizeof(code));
	otp_attempt a = {.code = code, .now = T0, .window = 1, .digits = 8, .period = PERIOD};
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_OK);
	assert_int_equal(v.outcome, OTP_ACCEPTED);
	code[7] = code[7] == '0' ? '1' : '0'; /* the last digit differs */
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_OK);
	assert_int_equal(v.outcome, OTP_BAD_CODE);
	a.code = "123456"; /* six digits for an eight-digit record */
	c.calls = 0;
	assert_int_equal(otp_decide(&s, &a, &pol, code_of, &c, &v), CRT_OK);
	assert_int_equal(v.outcome, OTP_BAD_CODE);
	assert_int_equal(c.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_current_steps_code_is_accepted_and_becomes_last_step),
	    cmocka_unit_test(test_the_same_step_twice_is_a_replay_and_counts_a_failure),
	    cmocka_unit_test(test_a_code_in_the_window_before_last_step_is_a_replay),
	    cmocka_unit_test(test_the_next_steps_code_is_fresh_after_a_success),
	    cmocka_unit_test(test_window_edges_accept_one_step_either_side_and_refuse_two),
	    cmocka_unit_test(test_steps_before_the_epoch_are_never_computed),
	    cmocka_unit_test(test_a_code_matching_a_used_and_a_fresh_step_is_accepted_at_the_fresh_one),
	    cmocka_unit_test(test_malformed_codes_are_wrong_codes_and_no_code_is_computed),
	    cmocka_unit_test(test_max_failures_in_a_row_lock_for_lockout_seconds),
	    cmocka_unit_test(test_while_locked_even_the_right_code_is_not_looked_at),
	    cmocka_unit_test(test_a_lockout_ends_at_locked_until_and_starts_a_fresh_series),
	    cmocka_unit_test(test_each_lockout_in_a_row_doubles_up_to_the_cap),
	    cmocka_unit_test(test_a_cap_below_the_first_lockout_keeps_the_first),
	    cmocka_unit_test(test_a_success_after_lockouts_clears_them),
	    cmocka_unit_test(test_replays_count_towards_the_lockout),
	    cmocka_unit_test(test_a_failed_code_computation_decides_nothing),
	    cmocka_unit_test(test_an_attempt_outside_the_contract_is_refused),
	    cmocka_unit_test(test_eight_digit_codes_are_compared_over_eight_digits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
