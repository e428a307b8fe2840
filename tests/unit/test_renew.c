/*
 * test_renew.c — renewal without a new token through the library and the
 * store (either backend: t_pg_units runs it on PostgreSQL), under the
 * certificate's profile: its renew_days opens the window ([renewal]
 * window_days when the profile leaves it out; 0 never renews), its
 * allow_same_key decides whether the CSR may keep the key, and the renewal
 * keeps the profile and the token's MAC pin; the expiry reminder goes to
 * the successor only. Refusals write nothing.
 */
#include "testutil.h"
#include "renewutil.h"

/* 10-day certificates; [renewal] window_days 30 (the default) opens the
 * window at once for the default profile. */
static const char renew_conf[] = "\n[ca]\ncert_days = 10\n"
                                 "[renewal]\nenabled = yes\n"
                                 "[profile strict]\nrenew_days = 5\n"
                                 "[profile samekey]\nallow_same_key = yes\n"
                                 "[profile never]\nrenew_days = 0\n";

static int setup(void **state)
{
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, renew_conf);
	tu_open(&ti);
	return 0;
}

static long long q(const char *sql)
{
	char db[512];
	tu_db_path(&ti, db, sizeof(db));
	return tu_sql_int(db, sql);
}

static long long rows(void)
{
	return q("SELECT count(*) FROM certificates") * 1000 + q("SELECT count(*) FROM audit");
}

static void the_default_profile_renews_within_the_renewal_window(void **s)
{
	crt_cert c, n, got;
	EVP_PKEY *k;
	ru_issue(ti.ctx, NULL, &c, &k);
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_OK);
	assert_string_equal(n.renewed_from, c.serial);
	assert_int_equal(crt_cert_get(ti.ctx, n.serial, &got), CRT_OK);
	assert_string_equal(got.profile, "default");
	crt_cert_clear(&got);
	crt_cert_clear(&n);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
}

static void a_renewal_keeps_the_profile_it_was_issued_under(void **s)
{
	crt_cert c, n, got;
	EVP_PKEY *k;
	ru_issue(ti.ctx, "samekey", &c, &k);
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_OK);
	assert_int_equal(crt_cert_get(ti.ctx, n.serial, &got), CRT_OK);
	assert_string_equal(got.profile, "samekey");
	crt_cert_clear(&got);
	crt_cert_clear(&n);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
}

static void before_the_profiles_renew_days_is_too_early(void **s)
{
	crt_cert c, n;
	EVP_PKEY *k;
	ru_issue(ti.ctx, "strict", &c, &k);
	long long before = rows();
	/* a 10-day certificate, renewable 5 days before its notAfter only */
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_E_RENEWAL_TOO_EARLY);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "opens at"));
	assert_non_null(strstr(crt_errdetail(ti.ctx), "profile strict"));
	assert_int_equal(rows(), before);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
}

static void a_profile_with_renew_days_zero_is_never_renewed(void **s)
{
	crt_cert c, n;
	EVP_PKEY *k;
	ru_issue(ti.ctx, "never", &c, &k);
	long long before = rows();
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_E_RENEWAL_NOT_ALLOWED);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "profile never"));
	assert_int_equal(rows(), before);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
}

static void the_same_key_is_refused_unless_the_profile_allows_it(void **s)
{
	crt_cert c, n;
	EVP_PKEY *k;
	ru_issue(ti.ctx, NULL, &c, &k);
	long long before = rows();
	assert_int_equal(ru_renew(ti.ctx, &c, k, &n), CRT_E_SAME_KEY);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "profile default"));
	assert_int_equal(rows(), before);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);

	ru_issue(ti.ctx, "samekey", &c, &k);
	assert_int_equal(ru_renew(ti.ctx, &c, k, &n), CRT_OK);
	assert_string_equal(n.pubkey_sha256, c.pubkey_sha256);
	crt_cert_clear(&n);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
}

static void a_renewal_keeps_the_tokens_mac_pin(void **s)
{
	crt_cert c, n, got;
	EVP_PKEY *k;
	crt_token_spec spec = {.name = "pinned", .cn = "pinned", .pin_mac = "first"};
	ru_issue_spec(ti.ctx, &spec, &c, &k);
	assert_string_equal(c.pin_mac, "first");
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_OK);
	assert_int_equal(crt_cert_get(ti.ctx, n.serial, &got), CRT_OK);
	assert_string_equal(got.pin_mac, "first");
	crt_cert_clear(&got);
	crt_cert_clear(&n);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
}

static long long reminders_of(const char *serial)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE dedup = 'certificate.expiring:%s'",
	         serial);
	return q(sql);
}

/* The expiry reminder is for the certificate in use: one that was renewed
 * already is left out (its successor gets its own in time). */
static void a_renewed_certificate_gets_no_expiry_reminder(void **s)
{
	crt_cert c, n, other;
	EVP_PKEY *k, *k2;
	size_t raised = 0;
	ru_issue(ti.ctx, NULL, &c, &k);
	ru_issue(ti.ctx, NULL, &other, &k2);
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_OK);
	assert_int_equal(crt_events_check_expiring(ti.ctx, 30 * 86400, "test", &raised), CRT_OK);
	assert_true(raised >= 2);
	assert_int_equal(reminders_of(c.serial), 0);
	assert_int_equal(reminders_of(n.serial), 1);
	assert_int_equal(reminders_of(other.serial), 1);
	/* and once per certificate: a second check raises nothing */
	assert_int_equal(crt_events_check_expiring(ti.ctx, 30 * 86400, "test", &raised), CRT_OK);
	assert_int_equal(raised, 0);
	crt_cert_clear(&n);
	crt_cert_clear(&c);
	crt_cert_clear(&other);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_default_profile_renews_within_the_renewal_window),
	    cmocka_unit_test(a_renewal_keeps_the_profile_it_was_issued_under),
	    cmocka_unit_test(before_the_profiles_renew_days_is_too_early),
	    cmocka_unit_test(a_profile_with_renew_days_zero_is_never_renewed),
	    cmocka_unit_test(the_same_key_is_refused_unless_the_profile_allows_it),
	    cmocka_unit_test(a_renewal_keeps_the_tokens_mac_pin),
	    cmocka_unit_test(a_renewed_certificate_gets_no_expiry_reminder),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
