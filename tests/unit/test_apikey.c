/*
 * test_apikey.c — API key scopes and profile limits through the library
 * and the store (either backend: t_pg_units runs it on PostgreSQL): what a
 * key is created with is what verification hands back, refusals write
 * nothing, and a key from before scopes keeps every power.
 */
#include "testutil.h"

static const char profiles_conf[] = "\n[profile guest]\ndays = 2\n"
                                    "\n[profile staff]\ndays = 30\n";

static int setup(void **state)
{
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, profiles_conf);
	tu_open(&ti);
	return 0;
}

static long long rows(const char *sql)
{
	char db[500];
	tu_db_path(&ti, db, sizeof(db));
	return tu_sql_int(db, sql);
}

/* Run sql on the instance's store, behind the library's back. */
static void store_exec(const char *sql)
{
#ifdef CRT_HAVE_LIBPQ
	if (ti.pg_schema[0]) {
		char both[600];
		snprintf(both, sizeof(both), "SET search_path = %s; %s", ti.pg_schema, sql);
		tu_pg_exec(both);
		return;
	}
#endif
	char db[600];
	sqlite3 *h;
	snprintf(db, sizeof(db), "%s/crtoken.db", ti.dir);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static void a_scoped_key_verifies_with_its_scopes_and_profiles(void **s)
{
	char key[CRT_TOKEN_STRLEN + 1];
	crt_apikey k, v;
	crt_apikey_spec spec = {.name = "reader",
	                        .scopes = CRT_SCOPE_TOKENS_READ | CRT_SCOPE_AUDIT_READ,
	                        .profiles = "guest,staff"};

	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &spec, "test", &k, key), CRT_OK);
	assert_int_equal(k.scopes, CRT_SCOPE_TOKENS_READ | CRT_SCOPE_AUDIT_READ);
	assert_string_equal(k.profiles, "guest,staff");
	assert_int_equal(crt_apikey_verify(ti.ctx, key, &v), CRT_OK);
	assert_string_equal(v.id, k.id);
	assert_int_equal(v.scopes, CRT_SCOPE_TOKENS_READ | CRT_SCOPE_AUDIT_READ);
	assert_string_equal(v.profiles, "guest,staff");
	assert_true(crt_apikey_allows_profile(&v, "guest"));
	assert_false(crt_apikey_allows_profile(&v, NULL));
	crt_apikey_clear(&v);
	crt_apikey_clear(&k);
}

static void a_key_made_without_scopes_has_them_all(void **s)
{
	char key[CRT_TOKEN_STRLEN + 1];
	crt_apikey k, v;

	assert_int_equal(crt_apikey_create(ti.ctx, "full", "test", &k, key), CRT_OK);
	assert_int_equal(crt_apikey_verify(ti.ctx, key, &v), CRT_OK);
	assert_int_equal(v.scopes, CRT_SCOPE_ALL);
	assert_null(v.profiles);
	assert_true(crt_apikey_allows_profile(&v, "staff"));
	/* Stored as NULL, like a key from before the migration. */
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_keys WHERE id = '%s' AND scopes IS NULL",
	         k.id);
	assert_int_equal(rows(sql), 1);
	crt_apikey_clear(&v);
	crt_apikey_clear(&k);
}

static void the_list_shows_each_keys_scopes(void **s)
{
	char key[CRT_TOKEN_STRLEN + 1];
	crt_apikey k, *list = NULL;
	size_t n = 0, i, found = 0;
	crt_apikey_spec spec = {.name = "revoker", .scopes = CRT_SCOPE_CERTS_REVOKE};

	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &spec, "test", &k, key), CRT_OK);
	assert_int_equal(crt_apikey_list(ti.ctx, &list, &n), CRT_OK);
	for (i = 0; i < n; i++)
		if (strcmp(list[i].id, k.id) == 0) {
			assert_int_equal(list[i].scopes, CRT_SCOPE_CERTS_REVOKE);
			assert_null(list[i].profiles);
			found++;
		}
	assert_int_equal(found, 1);
	crt_apikey_list_free(list, n);
	crt_apikey_clear(&k);
}

static void the_audit_row_records_scopes_and_profiles(void **s)
{
	char key[CRT_TOKEN_STRLEN + 1], sql[300];
	crt_apikey k;
	crt_apikey_spec spec = {.name = "audited", .scopes = CRT_SCOPE_AUDIT_READ,
	                        .profiles = "staff"};

	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &spec, "test", &k, key), CRT_OK);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE action = 'apikey.create' AND object = '%s' AND "
	         "detail LIKE '%%\"scopes\":\"audit:read\"%%' AND detail LIKE '%%\"profiles\":\"staff\"%%'",
	         k.id);
	assert_int_equal(rows(sql), 1);
	crt_apikey_clear(&k);
}

static void refused_keys_write_nothing(void **s)
{
	char key[CRT_TOKEN_STRLEN + 1];
	long long keys = rows("SELECT count(*) FROM api_keys");
	long long audit = rows("SELECT count(*) FROM audit");
	crt_apikey_spec unknown_profile = {.name = "x", .profiles = "guest,nope"};
	crt_apikey_spec bad_list = {.name = "x", .profiles = "guest,,staff"};
	crt_apikey_spec bad_bits = {.name = "x", .scopes = 1u << 20};
	crt_apikey_spec no_name = {.name = "", .scopes = CRT_SCOPE_TOKENS_READ};

	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &unknown_profile, "test", NULL, key),
	                 CRT_E_PROFILE_UNKNOWN);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "nope"));
	assert_string_equal(key, "");
	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &bad_list, "test", NULL, key),
	                 CRT_E_FIELD_INVALID);
	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &bad_bits, "test", NULL, key),
	                 CRT_E_SCOPE_UNKNOWN);
	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &no_name, "test", NULL, key),
	                 CRT_E_NAME_REQUIRED);
	assert_int_equal(rows("SELECT count(*) FROM api_keys"), keys);
	assert_int_equal(rows("SELECT count(*) FROM audit"), audit);
}

static void a_key_stored_before_scopes_keeps_every_power(void **s)
{
	char key[CRT_TOKEN_STRLEN + 1];
	crt_apikey k, v;
	crt_apikey_spec spec = {.name = "old", .scopes = CRT_SCOPE_TOKENS_READ};

	assert_int_equal(crt_apikey_create_scoped(ti.ctx, &spec, "test", &k, key), CRT_OK);
	/* What the migration leaves in the rows of keys made before it. */
	char sql[200];
	snprintf(sql, sizeof(sql), "UPDATE api_keys SET scopes = NULL WHERE id = '%s'", k.id);
	store_exec(sql);
	assert_int_equal(crt_apikey_verify(ti.ctx, key, &v), CRT_OK);
	assert_int_equal(v.scopes, CRT_SCOPE_ALL);
	crt_apikey_clear(&v);
	crt_apikey_clear(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_scoped_key_verifies_with_its_scopes_and_profiles),
	    cmocka_unit_test(a_key_made_without_scopes_has_them_all),
	    cmocka_unit_test(the_list_shows_each_keys_scopes),
	    cmocka_unit_test(the_audit_row_records_scopes_and_profiles),
	    cmocka_unit_test(refused_keys_write_nothing),
	    cmocka_unit_test(a_key_stored_before_scopes_keeps_every_power),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
