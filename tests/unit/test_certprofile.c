/*
 * test_certprofile.c — certificate profiles through the library and the
 * store (either backend: t_pg_units runs it on PostgreSQL): a token's
 * profile, SubjectAltNames and validity are stored and read back, the
 * certificate records its profile, and what the profile says is what the
 * issued certificate carries.
 */
#include "testutil.h"

static const char profiles_conf[] = "\n[profile guest]\n"
                                    "days = 2\n"
                                    "max_days = 10\n"
                                    "vlan = 30\n"
                                    "lock = ou\n"
                                    "lifetime = 1h\n"
                                    "max_lifetime = 1d\n";

static int setup(void **state)
{
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, profiles_conf);
	tu_open(&ti);
	return 0;
}

static void a_token_keeps_its_profile_and_validity(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, got;
	crt_token_spec spec = {.name = "visitor", .profile = "guest", .valid_days = 5};

	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &got), CRT_OK);
	assert_string_equal(got.profile, "guest");
	assert_int_equal(got.valid_days, 5);
	assert_string_equal(got.reply, "Tunnel-Type=VLAN\nTunnel-Medium-Type=IEEE-802\n"
	                               "Tunnel-Private-Group-Id=30");
	assert_int_equal(got.locked, CRT_FIELD_OU);
	assert_true(got.expires_at - got.created_at == 3600);
	crt_token_clear(&got);
	crt_token_clear(&t);
}

static void an_unknown_profile_is_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "x", .profile = "nope"};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_PROFILE_UNKNOWN);
}

static void validity_beyond_the_profile_is_refused_at_create_and_update(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = "x", .profile = "guest", .valid_days = 11};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_VALIDITY);
	spec.valid_days = 0;
	tu_token(ti.ctx, &spec, tok, &t);
	crt_token_spec up = {.valid_days = 11};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", NULL), CRT_E_VALIDITY);
	up.valid_days = 10;
	crt_token got;
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", &got), CRT_OK);
	assert_int_equal(got.valid_days, 10);
	crt_token_clear(&got);
	crt_token_clear(&t);
}

static void a_token_without_profile_is_the_default_ones(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = "plain"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_string_equal(t.profile, CRT_CERT_PROFILE_DEFAULT);
	assert_null(t.reply);
	assert_int_equal(t.valid_days, 0);
	crt_token_clear(&t);
}

static void the_certificate_records_its_profile(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c, got;
	crt_token_spec spec = {.name = "laptop", .profile = "guest"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_string_equal(c.profile, "guest");
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.profile, "guest");
	crt_cert_clear(&got);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_token_keeps_its_profile_and_validity),
	    cmocka_unit_test(an_unknown_profile_is_refused),
	    cmocka_unit_test(validity_beyond_the_profile_is_refused_at_create_and_update),
	    cmocka_unit_test(a_token_without_profile_is_the_default_ones),
	    cmocka_unit_test(the_certificate_records_its_profile),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
