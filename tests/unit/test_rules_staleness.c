/*
 * test_rules_staleness.c — the staleness bound of a store reader
 * (rules/staleness.c), on values alone.
 */
#include "testutil.h"
#include "rules/staleness.h"

#define NOW 1800000000LL

static crt_status decide(int64_t hb, int max)
{
	char why[256] = "";
	crt_status r = staleness_decide(NOW, hb, max, why, sizeof(why));
	if (r != CRT_OK)
		assert_true(why[0] != '\0');
	return r;
}

static void off_when_no_bound_is_set(void **state)
{
	assert_int_equal(decide(NOW - 100000, 0), CRT_OK);
	assert_int_equal(decide(0, 0), CRT_OK);
}

static void a_backend_without_heartbeat_is_never_stale(void **state)
{
	assert_int_equal(decide(HEARTBEAT_NONE, 5), CRT_OK);
}

static void fresh_within_the_bound_and_at_it(void **state)
{
	assert_int_equal(decide(NOW, 5), CRT_OK);
	assert_int_equal(decide(NOW - 5, 5), CRT_OK);
	/* a writer's clock slightly ahead of the reader's */
	assert_int_equal(decide(NOW + 3, 5), CRT_OK);
}

static void stale_past_the_bound(void **state)
{
	assert_int_equal(decide(NOW - 6, 5), CRT_E_STORE_STALE);
	assert_int_equal(decide(NOW - 901, 900), CRT_E_STORE_STALE);
}

static void never_written_is_stale(void **state)
{
	char why[256];
	assert_int_equal(staleness_decide(NOW, 0, 5, why, sizeof(why)), CRT_E_STORE_STALE);
	assert_non_null(strstr(why, "never written"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(off_when_no_bound_is_set),
		cmocka_unit_test(a_backend_without_heartbeat_is_never_stale),
		cmocka_unit_test(fresh_within_the_bound_and_at_it),
		cmocka_unit_test(stale_past_the_bound),
		cmocka_unit_test(never_written_is_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
