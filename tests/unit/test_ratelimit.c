/*
 * test_ratelimit.c — crtokend's per-address login limiter (issue 9, M4):
 * the check and the reservation are one step, so parallel attempts cannot
 * overrun the limit; IPv6 addresses count per /64. The limiter is
 * crtokend's own file, compiled into this test.
 */
#include "testutil.h"

#include <pthread.h>

#include "../../enroll/crtokend/ratelimit.c"

enum { MAX = 5, WINDOW = 60, NOW = 1000000 };

/* The attack: 100 attempts from one address all start before any fails. */
static void parallel_attempts_from_one_address_reserve_at_most_the_limit(void **state)
{
	ratelimit *rl = ratelimit_new();
	int admitted = 0;

	assert_non_null(rl);
	for (int i = 0; i < 100; i++)
		if (ratelimit_reserve(rl, "192.0.2.7", MAX, WINDOW, NOW, NULL) == 0)
			admitted++;
	assert_int_equal(admitted, MAX);
	ratelimit_free(rl);
}

struct racer {
	ratelimit *rl;
	pthread_barrier_t *go;
	int admitted;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->admitted = ratelimit_reserve(r->rl, "192.0.2.8", MAX, WINDOW, NOW, NULL) == 0;
	return NULL;
}

static void threads_racing_on_one_address_get_at_most_the_limit(void **state)
{
	enum { N = 64 };
	ratelimit *rl = ratelimit_new();
	pthread_barrier_t go;
	pthread_t th[N];
	struct racer r[N];
	int admitted = 0;

	pthread_barrier_init(&go, NULL, N);
	for (int i = 0; i < N; i++) {
		r[i] = (struct racer){rl, &go, 0};
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		admitted += r[i].admitted;
	}
	assert_int_equal(admitted, MAX);
	pthread_barrier_destroy(&go);
	ratelimit_free(rl);
}

static void successful_attempts_do_not_count_failures_do(void **state)
{
	ratelimit *rl = ratelimit_new();
	int first = 0;

	for (int i = 0; i < 3 * MAX; i++) {
		assert_int_equal(ratelimit_reserve(rl, "192.0.2.9", MAX, WINDOW, NOW, NULL), 0);
		ratelimit_release(rl, "192.0.2.9", 0);
	}
	for (int i = 0; i < MAX; i++) {
		assert_int_equal(ratelimit_reserve(rl, "192.0.2.9", MAX, WINDOW, NOW + 1, NULL), 0);
		ratelimit_release(rl, "192.0.2.9", 1);
	}
	assert_true(ratelimit_reserve(rl, "192.0.2.9", MAX, WINDOW, NOW + 2, &first) > 0);
	assert_int_equal(first, 1);
	assert_true(ratelimit_reserve(rl, "192.0.2.9", MAX, WINDOW, NOW + 3, &first) > 0);
	assert_int_equal(first, 0); /* reported once per window */
	ratelimit_free(rl);
}

static void blocked_only_by_attempts_in_flight_retries_after_one_second(void **state)
{
	ratelimit *rl = ratelimit_new();
	int first = 1;

	for (int i = 0; i < MAX; i++)
		assert_int_equal(ratelimit_reserve(rl, "192.0.2.10", MAX, WINDOW, NOW, NULL), 0);
	assert_int_equal(ratelimit_reserve(rl, "192.0.2.10", MAX, WINDOW, NOW, &first), 1);
	assert_int_equal(first, 0); /* not a block by failures: not audited */
	ratelimit_release(rl, "192.0.2.10", 0);
	assert_int_equal(ratelimit_reserve(rl, "192.0.2.10", MAX, WINDOW, NOW, NULL), 0);
	ratelimit_free(rl);
}

static void the_window_ends_and_the_address_may_try_again(void **state)
{
	ratelimit *rl = ratelimit_new();

	for (int i = 0; i < MAX; i++) {
		assert_int_equal(ratelimit_reserve(rl, "192.0.2.11", MAX, WINDOW, NOW, NULL), 0);
		ratelimit_release(rl, "192.0.2.11", 1);
	}
	assert_int_equal(ratelimit_reserve(rl, "192.0.2.11", MAX, WINDOW, NOW + 10, NULL),
	                 WINDOW - 10);
	assert_int_equal(ratelimit_reserve(rl, "192.0.2.11", MAX, WINDOW, NOW + WINDOW, NULL), 0);
	ratelimit_free(rl);
}

/* The attack: one host with a /64 rotates through its addresses. */
static void ipv6_addresses_of_one_64_share_one_limit(void **state)
{
	ratelimit *rl = ratelimit_new();
	char addr[64];
	int admitted = 0;

	for (int i = 0; i < 100; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:1:2:%x:%x::%x", i, i * 7, i + 1);
		if (ratelimit_reserve(rl, addr, MAX, WINDOW, NOW, NULL) == 0) {
			admitted++;
			ratelimit_release(rl, addr, 1);
		}
	}
	assert_int_equal(admitted, MAX);
	/* The next /64 is another network. */
	assert_int_equal(ratelimit_reserve(rl, "2001:db8:1:3::1", MAX, WINDOW, NOW, NULL), 0);
	ratelimit_free(rl);
}

static void the_counting_key_groups_ipv6_by_64_and_unmaps_ipv4(void **state)
{
	char k[64];

	ratelimit_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof(k));
	assert_string_equal(k, "2001:db8:1:2::/64");
	ratelimit_key("fe80::1%eth0", k, sizeof(k));
	assert_string_equal(k, "fe80::/64");
	ratelimit_key("::ffff:192.0.2.1", k, sizeof(k));
	assert_string_equal(k, "192.0.2.1");
	ratelimit_key("192.0.2.1", k, sizeof(k));
	assert_string_equal(k, "192.0.2.1");
	ratelimit_key("unknown", k, sizeof(k));
	assert_string_equal(k, "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parallel_attempts_from_one_address_reserve_at_most_the_limit),
	    cmocka_unit_test(threads_racing_on_one_address_get_at_most_the_limit),
	    cmocka_unit_test(successful_attempts_do_not_count_failures_do),
	    cmocka_unit_test(blocked_only_by_attempts_in_flight_retries_after_one_second),
	    cmocka_unit_test(the_window_ends_and_the_address_may_try_again),
	    cmocka_unit_test(ipv6_addresses_of_one_64_share_one_limit),
	    cmocka_unit_test(the_counting_key_groups_ipv6_by_64_and_unmaps_ipv4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
