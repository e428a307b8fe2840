/*
 * test_staleness.c — [store] max_staleness as a reader meets it. On
 * PostgreSQL a read-only session (rlm_crtoken's) reads the heartbeat with
 * every admission: none written yet, or older than the bound, and an
 * issued certificate is refused with store_stale (a standby whose replay
 * stopped must not keep admitting revoked certificates for ever); a fresh
 * heartbeat admits; a writer's session and a zero bound never look at it.
 * On SQLite a reader reads the writers' own file: the bound never applies.
 * Runs on both backends (t_pg_units.sh for PostgreSQL).
 */
#include "testutil.h"

static crt_cert cert;
static tu_presented_buf pb;

static int setup(void **state)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "stale", .cn = "stale"};
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, "[store]\nmax_staleness = 5\n");
	tu_open(&ti);
	tu_token(ti.ctx, &spec, tok, NULL);
	assert_int_equal(tu_redeem(ti.ctx, tok, &cert), CRT_OK);
	return 0;
}

static int teardown(void **state)
{
	crt_cert_clear(&cert);
	tu_instance_free(&ti);
	return 0;
}

static crt_status admit_readonly(void)
{
	crt_ctx *ro = NULL;
	crt_status r = crt_open(ti.conf, CRT_OPEN_READONLY | CRT_OPEN_NO_CA, &ro);
	if (r != CRT_OK)
		fail_msg("read-only open: %s: %s", crt_status_name(r), crt_errdetail(ro));
	char *reply = NULL;
	r = crt_cert_authorize(ro, tu_presented(&cert, &pb), crt_now(), &reply);
	if (r == CRT_E_STORE_STALE)
		assert_non_null(strstr(crt_errdetail(ro), "max_staleness"));
	free(reply);
	crt_close(ro);
	return r;
}

#ifdef CRT_HAVE_LIBPQ
static void set_heartbeat(long long at)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s.meta(key, value) VALUES ('heartbeat', %lld) "
		 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		 ti.pg_schema, at);
	tu_pg_exec(sql);
}
#endif

static void reader_without_a_heartbeat(void **state)
{
	/* none was ever written */
	assert_int_equal(admit_readonly(), tu_backend_pg() ? CRT_E_STORE_STALE : CRT_OK);
}

static void reader_with_a_fresh_heartbeat_admits(void **state)
{
	assert_int_equal(crt_store_heartbeat(ti.ctx), CRT_OK);
	assert_int_equal(admit_readonly(), CRT_OK);
}

static void reader_past_the_bound_refuses(void **state)
{
	if (!tu_backend_pg()) {
		/* SQLite keeps the heartbeat but its readers never compare it */
		assert_int_equal(admit_readonly(), CRT_OK);
		return;
	}
#ifdef CRT_HAVE_LIBPQ
	set_heartbeat((long long)crt_now() - 60);
	assert_int_equal(admit_readonly(), CRT_E_STORE_STALE);
	set_heartbeat((long long)crt_now() - 3);
	assert_int_equal(admit_readonly(), CRT_OK);
	set_heartbeat((long long)crt_now() - 60);
#endif
}

static void a_writer_session_is_never_stale(void **state)
{
	char *reply = NULL;
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&cert, &pb), crt_now(), &reply),
			 CRT_OK);
	free(reply);
}

static void status_warns_about_an_old_heartbeat(void **state)
{
	crt_store_status st;
	assert_int_equal(crt_store_status_get(ti.ctx, &st), CRT_OK);
	if (tu_backend_pg())
		assert_non_null(strstr(st.warning, "heartbeat"));
	assert_int_equal(crt_store_heartbeat(ti.ctx), CRT_OK);
	assert_int_equal(crt_store_status_get(ti.ctx, &st), CRT_OK);
	assert_true(st.heartbeat >= crt_now() - 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reader_without_a_heartbeat),
		cmocka_unit_test(reader_with_a_fresh_heartbeat_admits),
		cmocka_unit_test(reader_past_the_bound_refuses),
		cmocka_unit_test(a_writer_session_is_never_stale),
		cmocka_unit_test(status_warns_about_an_old_heartbeat),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
