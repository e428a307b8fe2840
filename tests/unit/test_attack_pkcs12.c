/*
 * test_attack_pkcs12.c — the kept PKCS#12 ([generate] keep_pkcs12 = yes)
 * as an attacker with the store's bytes sees it (issue 12's security pass):
 * the row holds no byte sequence of the PKCS#12 (sealed at rest), a sealed
 * row moved to another user's certificate does not open for that user (the
 * seal is bound to serial and owner), every download writes its own audit
 * row, and an administrator's revocation removes it like the owner's.
 * Backend-neutral (also run on PostgreSQL by t_pg_units).
 */
#include "testutil.h"
#include "store/port.h"

static int setup(void **state)
{
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, "\n[generate]\nkeep_pkcs12 = yes\n");
	tu_open(&ti);
	return 0;
}

static long long q(const char *sql)
{
	char db[512];
	tu_db_path(&ti, db, sizeof(db));
	return tu_sql_int(db, sql);
}

/* A certificate for owner made by the server (token issue), its PKCS#12
 * (passphrase "pw") into p12/len. */
static void issued_for(const char *owner, crt_cert *c, unsigned char **p12, size_t *len)
{
	crt_token_spec spec = {.name = "kept", .owner = owner};
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;

	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(crt_token_issue(ti.ctx, t.id, "ec-p256", "pw", CRT_P12_MODERN,
	                                 "admin:test", c, p12, len, NULL),
	                 CRT_OK);
	crt_token_clear(&t);
}

/* Does any window of w bytes of needle occur in hay? */
static int shares_window(const unsigned char *hay, size_t hn, const unsigned char *needle,
                         size_t nn, size_t w)
{
	for (size_t i = 0; i + w <= nn; i++)
		for (size_t k = 0; k + w <= hn; k++)
			if (memcmp(needle + i, hay + k, w) == 0)
				return 1;
	return 0;
}

static long long downloads(const char *serial)
{
	char sql[200];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE action = 'cert.pkcs12_download' AND object = "
	         "'%s'",
	         serial);
	return q(sql);
}

static void attack_kept_pkcs12_read_from_the_store(void **s)
{
	unsigned char *p12 = NULL;
	size_t len = 0;
	store_p12_row row = {.sealed = NULL};
	int found = 0;
	crt_cert c;

	issued_for("alice", &c, &p12, &len);
	assert_int_equal(store_p12_get(ti.ctx, c.serial, &row, &found), CRT_OK);
	assert_int_equal(found, 1);
	assert_string_equal(row.owner, "alice");
	assert_true(row.sealed_len > len); /* nonce and tag beside the ciphertext */
	/* No 12 bytes of the PKCS#12 anywhere in the stored bytes: not its DER
	 * header, not its encrypted key bag, not its certificate. */
	assert_false(shares_window(row.sealed, row.sealed_len, p12, len, 12));
	store_p12_clear(&row);
	crt_freezero(p12, len);
	crt_cert_clear(&c);
}

static void attack_kept_pkcs12_row_moved_to_another_user(void **s)
{
	unsigned char *pa = NULL, *pb = NULL, *got = NULL;
	size_t la = 0, lb = 0, lg = 0;
	store_p12_row ra = {.sealed = NULL}, moved;
	crt_cert a, b;
	int found = 0, wiped = 0;

	issued_for("alice", &a, &pa, &la);
	issued_for("bob", &b, &pb, &lb);
	/* Someone who can write the store puts alice's sealed PKCS#12 under
	 * bob's certificate, owner bob. */
	assert_int_equal(store_p12_get(ti.ctx, a.serial, &ra, &found), CRT_OK);
	assert_int_equal(found, 1);
	moved = ra;
	snprintf(moved.serial, sizeof(moved.serial), "%s", b.serial);
	snprintf(moved.owner, sizeof(moved.owner), "bob");
	assert_int_equal(store_begin_write(ti.ctx), CRT_OK);
	assert_int_equal(store_p12_wipe(ti.ctx, b.serial, &wiped), CRT_OK);
	assert_int_equal(wiped, 1);
	assert_int_equal(store_p12_put(ti.ctx, &moved), CRT_OK);
	assert_int_equal(store_commit(ti.ctx), CRT_OK);
	long long before = downloads(b.serial);
	/* bob downloads "his": the seal is bound to alice's serial and name */
	assert_int_equal(crt_my_pkcs12(ti.ctx, "bob", b.serial, NULL, &got, &lg), CRT_E_SEAL);
	assert_null(got);
	assert_int_equal(lg, 0);
	assert_int_equal(downloads(b.serial), before);
	/* alice's own still opens, for her */
	assert_int_equal(crt_my_pkcs12(ti.ctx, "alice", a.serial, NULL, &got, &lg), CRT_OK);
	assert_int_equal(lg, la);
	assert_memory_equal(got, pa, la);
	crt_freezero(got, lg);
	store_p12_clear(&ra);
	crt_freezero(pa, la);
	crt_freezero(pb, lb);
	crt_cert_clear(&a);
	crt_cert_clear(&b);
}

static void each_download_writes_its_audit_row(void **s)
{
	unsigned char *p12 = NULL, *got = NULL;
	size_t len = 0, lg = 0;
	crt_cert c;

	issued_for("carol", &c, &p12, &len);
	assert_int_equal(downloads(c.serial), 0);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(crt_my_pkcs12(ti.ctx, "carol", c.serial, "192.0.2.7", &got, &lg),
		                 CRT_OK);
		crt_freezero(got, lg);
		got = NULL;
		assert_int_equal(downloads(c.serial), i);
	}
	crt_freezero(p12, len);
	crt_cert_clear(&c);
}

static void an_admin_revocation_removes_the_kept_pkcs12(void **s)
{
	unsigned char *p12 = NULL, *got = NULL;
	size_t len = 0, lg = 0;
	store_p12_row row = {.sealed = NULL};
	int found = 1;
	crt_cert c;
	char sql[200];

	issued_for("dora", &c, &p12, &len);
	assert_int_equal(crt_cert_revoke(ti.ctx, c.serial, CRT_REASON_KEY_COMPROMISE, "admin:test",
	                                 NULL),
	                 CRT_OK);
	assert_int_equal(store_p12_get(ti.ctx, c.serial, &row, &found), CRT_OK);
	assert_int_equal(found, 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM kept_pkcs12 WHERE serial = '%s'",
	         c.serial);
	assert_int_equal(q(sql), 0);
	assert_int_equal(crt_my_pkcs12(ti.ctx, "dora", c.serial, NULL, &got, &lg),
	                 CRT_E_PKCS12_NOT_KEPT);
	assert_null(got);
	crt_freezero(p12, len);
	crt_cert_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(attack_kept_pkcs12_read_from_the_store),
	    cmocka_unit_test(attack_kept_pkcs12_row_moved_to_another_user),
	    cmocka_unit_test(each_download_writes_its_audit_row),
	    cmocka_unit_test(an_admin_revocation_removes_the_kept_pkcs12),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
