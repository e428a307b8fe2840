/*
 * test_fault_renew.c — the renewal write path (crt_cert_renew) failed at
 * each of its store calls in turn through the fault seam: store_busy and
 * store_unavailable at every call leave the store as before (no new
 * certificate, no cert.renew audit row) and a clear status with the
 * injected cause; a lost commit (store_commit_unknown) leaves exactly the
 * renewal and its audit row, and the caller is told it succeeded (the row
 * read back). The calls are counted first (store_fault_calls), so a store
 * call added to the path is covered without touching this file. Either
 * backend (t_pg_units runs it on PostgreSQL).
 */
#include <limits.h>

#include "testutil.h"
#include "renewutil.h"
#include "store/port.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAILURES (sizeof(failures) / sizeof(failures[0]))

static int setup(void **state)
{
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, "\n[ca]\ncert_days = 10\n[renewal]\nenabled = yes\n");
	tu_open(&ti);
	return 0;
}

static long long q(const char *sql)
{
	char db[512];
	tu_db_path(&ti, db, sizeof(db));
	return tu_sql_int(db, sql);
}

typedef struct snapshot {
	long long certs, renewals, audit, renew_audit, revoked;
} snapshot;

static snapshot snap(void)
{
	return (snapshot){q("SELECT count(*) FROM certificates"),
	                  q("SELECT count(*) FROM certificates WHERE renewed_from IS NOT NULL"),
	                  q("SELECT count(*) FROM audit"),
	                  q("SELECT count(*) FROM audit WHERE action = 'cert.renew'"),
	                  q("SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL")};
}

static void assert_same(snapshot a, snapshot b)
{
	assert_int_equal(a.certs, b.certs);
	assert_int_equal(a.renewals, b.renewals);
	assert_int_equal(a.audit, b.audit);
	assert_int_equal(a.renew_audit, b.renew_audit);
	assert_int_equal(a.revoked, b.revoked);
}

static void assert_injected(crt_status got, crt_status s)
{
	if (got != s)
		fail_msg("%s, not %s: %s", crt_status_name(got), crt_status_name(s),
		         crt_errdetail(ti.ctx));
	assert_non_null(strstr(crt_errdetail(ti.ctx), "injected"));
}

/* The store calls of one renewal (counted, not failed). */
static int calls_of_a_renewal(void)
{
	crt_cert c, n;
	EVP_PKEY *k;
	ru_issue(ti.ctx, NULL, &c, &k);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_OK);
	int calls = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(calls >= 5); /* reads, begin, lock, insert, audit, commit */
	crt_cert_clear(&n);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
	return calls;
}

static void a_renewal_fails_cleanly_at_every_store_call(void **s)
{
	int calls = calls_of_a_renewal();
	for (size_t f = 0; f < NFAILURES; f++)
		for (int i = 1; i <= calls; i++) {
			crt_cert c, n;
			EVP_PKEY *k;
			ru_issue(ti.ctx, NULL, &c, &k);
			snapshot before = snap();
			store_fault_arm(ti.ctx, i, failures[f]);
			assert_injected(ru_renew(ti.ctx, &c, NULL, &n), failures[f]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			assert_same(snap(), before);
			/* nothing held, nothing half-done: the same ctx renews it now */
			assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_OK);
			assert_string_equal(n.renewed_from, c.serial);
			crt_cert_clear(&n);
			crt_cert_clear(&c);
			EVP_PKEY_free(k);
		}
}

static void a_lost_renewal_commit_leaves_exactly_the_renewal_and_its_audit_row(void **s)
{
	crt_cert c, n, got;
	EVP_PKEY *k;
	char sql[256];
	ru_issue(ti.ctx, NULL, &c, &k);
	snapshot before = snap();
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	/* the row is read back: the caller learns it is stored */
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &n), CRT_OK);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	snapshot after = snap();
	assert_int_equal(after.certs, before.certs + 1);
	assert_int_equal(after.renewals, before.renewals + 1);
	assert_int_equal(after.audit, before.audit + 1);
	assert_int_equal(after.renew_audit, before.renew_audit + 1);
	assert_int_equal(after.revoked, before.revoked);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE action = 'cert.renew' AND object = '%s'", n.serial);
	assert_int_equal(q(sql), 1);
	assert_int_equal(crt_cert_get(ti.ctx, n.serial, &got), CRT_OK);
	assert_string_equal(got.renewed_from, c.serial);
	/* a retry is told it was renewed already, and writes nothing */
	crt_cert again;
	before = snap();
	assert_int_equal(ru_renew(ti.ctx, &c, NULL, &again), CRT_E_RENEWAL_NOT_ALLOWED);
	assert_same(snap(), before);
	crt_cert_clear(&got);
	crt_cert_clear(&n);
	crt_cert_clear(&c);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_renewal_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_lost_renewal_commit_leaves_exactly_the_renewal_and_its_audit_row),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
