/*
 * test_rules_crl.c — the CRL freshness rule (common/rules/crl.c) as a
 * function of values: what the published CRL covers, the newest
 * revocation, the signing CA and the time → fresh, or stale and why.
 * No store, no ctx.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rules/crl.h"

#define T0 1000000
#define WEEK (7 * 86400)

static crt_crl_meta published(void)
{
	return (crt_crl_meta){.number = 7,
			      .this_update = T0,
			      .next_update = T0 + WEEK,
			      .revocations = 3,
			      .ca_sha256 = "aa"};
}

static void a_fresh_crl_is_kept_and_gives_no_reason(void **s)
{
	crt_crl_meta m = published();
	const char *why = "x";
	assert_false(crt_crl_stale(&m, 3, "aa", T0, &why));
	assert_null(why);
	/* fewer revocations than it lists (one was never committed): fresh */
	assert_false(crt_crl_stale(&m, 2, "aa", T0 + 86400, NULL));
	/* no CA to compare with (a reader without the CA): not checked */
	assert_false(crt_crl_stale(&m, 3, NULL, T0 + 86400, NULL));
}

static void none_published_is_stale(void **s)
{
	crt_crl_meta m = published();
	const char *why = NULL;
	assert_true(crt_crl_stale(NULL, 0, "aa", T0, &why));
	assert_string_equal(why, CRL_STALE_NONE);
	m.number = 0; /* a row that never got a number */
	assert_true(crt_crl_stale(&m, 0, "aa", T0, &why));
	assert_string_equal(why, "none published");
}

static void another_ca_newer_revocations_and_the_last_quarter_are_stale(void **s)
{
	crt_crl_meta m = published();
	const char *why = NULL;
	int64_t quarter = WEEK / 4;

	assert_true(crt_crl_stale(&m, 3, "bb", T0 + 1, &why));
	assert_string_equal(why, "signed by another CA");
	assert_true(crt_crl_stale(&m, 4, "aa", T0 + 1, &why));
	assert_string_equal(why, "newer revocation");
	assert_false(crt_crl_stale(&m, 3, "aa", m.next_update - quarter - 1, NULL));
	assert_true(crt_crl_stale(&m, 3, "aa", m.next_update - quarter, &why));
	assert_string_equal(why, "nextUpdate near");
	assert_true(crt_crl_stale(&m, 3, "aa", m.next_update + 1, NULL));
}

/* A clock set back (or a CRL signed by a node whose clock ran ahead): a
 * CRL whose thisUpdate lies in the future is re-signed. */
static void a_crl_from_the_future_is_stale(void **s)
{
	crt_crl_meta m = published();
	const char *why = NULL;
	assert_true(crt_crl_stale(&m, 3, "aa", T0 - 1, &why));
	assert_string_equal(why, "thisUpdate in the future");
}

/* One reason, the first that applies: none > CA > revocation > time. */
static void the_first_reason_that_applies_is_given(void **s)
{
	crt_crl_meta m = published();
	const char *why = NULL;
	assert_true(crt_crl_stale(&m, 9, "bb", m.next_update + 1, &why));
	assert_string_equal(why, "signed by another CA");
	assert_true(crt_crl_stale(&m, 9, "aa", m.next_update + 1, &why));
	assert_string_equal(why, "newer revocation");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_fresh_crl_is_kept_and_gives_no_reason),
	    cmocka_unit_test(none_published_is_stale),
	    cmocka_unit_test(another_ca_newer_revocations_and_the_last_quarter_are_stale),
	    cmocka_unit_test(a_crl_from_the_future_is_stale),
	    cmocka_unit_test(the_first_reason_that_applies_is_given),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
