/*
 * test_fault_pkcs12.c — the write paths of the kept PKCS#12 ([generate]
 * keep_pkcs12 = yes): keeping it (a GENERATE redemption by the user's
 * login, an admin's token issue for the owner), downloading it (whose
 * change is its audit row: no download without one) and removing it with
 * the revocation — each failed at each of its store calls in turn with
 * store_busy and store_unavailable, and its commit lost
 * (store_commit_unknown). Each time a clear status with the injected cause
 * in the detail and the store exactly as before; for a lost commit exactly
 * the change: the certificate with its kept PKCS#12 and its audit row, or
 * neither — never a certificate of the server's key without its kept
 * PKCS#12, never a kept PKCS#12 of a revoked certificate. The calls are
 * counted first (store_fault_calls), so a store call added to a path is
 * covered without touching this file. Backend-neutral (also run on
 * PostgreSQL by t_pg_units).
 */
#include <limits.h>

#include "testutil.h"
#include "store/port.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAIL (sizeof(failures) / sizeof(failures[0]))

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

typedef struct snapshot {
	long long certs, revoked, kept, audit, events, used;
} snapshot;

static snapshot snap(void)
{
	snapshot s;
	s.certs = q("SELECT count(*) FROM certificates");
	s.revoked = q("SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL");
	s.kept = q("SELECT count(*) FROM kept_pkcs12");
	s.audit = q("SELECT count(*) FROM audit");
	s.events = q("SELECT count(*) FROM events");
	s.used = q("SELECT count(*) FROM tokens WHERE used_at IS NOT NULL");
	return s;
}

static void assert_unchanged(const snapshot *a, const snapshot *b, int call, crt_status s)
{
	if (memcmp(a, b, sizeof(*a)) != 0)
		fail_msg("call %d failed with %s: the store changed (certs %lld→%lld, revoked "
		         "%lld→%lld, kept %lld→%lld, audit %lld→%lld, events %lld→%lld, used "
		         "%lld→%lld)",
		         call, crt_status_name(s), a->certs, b->certs, a->revoked, b->revoked,
		         a->kept, b->kept, a->audit, b->audit, a->events, b->events, a->used,
		         b->used);
}

/* Every certificate here has its key made by the server for a user: valid
 * ones have their kept PKCS#12, revoked ones none. */
static void assert_kept_iff_valid(void)
{
	assert_int_equal(q("SELECT count(*) FROM certificates c WHERE c.revoked_at IS NULL AND "
	                   "NOT EXISTS (SELECT 1 FROM kept_pkcs12 k WHERE k.serial = c.serial)"),
	                 0);
	assert_int_equal(q("SELECT count(*) FROM kept_pkcs12 k WHERE NOT EXISTS (SELECT 1 FROM "
	                   "certificates c WHERE c.serial = k.serial AND c.revoked_at IS NULL)"),
	                 0);
}

static void assert_injected(crt_status got, crt_status want, int call)
{
	if (got != want)
		fail_msg("call %d failed with %s: got %s (%s)", call, crt_status_name(want),
		         crt_status_name(got), crt_errdetail(ti.ctx));
	assert_non_null(strstr(crt_errdetail(ti.ctx), "injected"));
}

static void count_from_here(void)
{
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
}

static int counted(void)
{
	int n = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(n >= 3); /* at least begin, a write, commit */
	return n;
}

static long long audit_rows(const char *action, const char *object)
{
	char sql[300];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE action = '%s' AND object = '%s'", action,
	         object);
	return q(sql);
}

static long long kept_rows(const char *serial)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM kept_pkcs12 WHERE serial = '%s'", serial);
	return q(sql);
}

/* ------------------------------------------------------------ keeping it */

/* A token for owner (NULL: none): its string into tok, its id into id. */
static void token_for(const char *owner, char tok[CRT_TOKEN_STRLEN + 1], char id[CRT_ID_LEN])
{
	crt_token_spec spec = {.name = "kept", .owner = owner};
	crt_token t;

	tu_token(ti.ctx, &spec, tok, &t);
	snprintf(id, CRT_ID_LEN, "%s", t.id);
	crt_token_clear(&t);
}

/* The two ways the server makes a key whose PKCS#12 is kept: a GENERATE
 * redemption by ann's login, and an admin's token issue for owner ann. */
enum keep_path { BY_LOGIN, BY_ADMIN };

static crt_status keep_op(enum keep_path p, const char *tok, const char *id, crt_cert *c,
                          unsigned char **p12, size_t *len)
{
	crt_redeem_req req = {.token = tok, .user = "ann", .actor = "ann"};

	if (p == BY_LOGIN)
		return crt_redeem_generate(ti.ctx, &req, "ec-p256", "pw", c, p12, len, NULL);
	return crt_token_issue(ti.ctx, id, "ec-p256", "pw", CRT_P12_MODERN, "admin:fault", c, p12,
	                       len, NULL);
}

static void keep_fails_cleanly_at_every_store_call(enum keep_path p)
{
	char tok[CRT_TOKEN_STRLEN + 1], id[CRT_ID_LEN];
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c;

	token_for(p == BY_ADMIN ? "ann" : NULL, tok, id);
	count_from_here();
	assert_int_equal(keep_op(p, tok, id, &c, &p12, &len), CRT_OK);
	int n = counted();
	assert_int_equal(kept_rows(c.serial), 1);
	crt_freezero(p12, len);
	crt_cert_clear(&c);
	for (size_t k = 0; k < NFAIL; k++)
		for (int i = 1; i <= n; i++) {
			token_for(p == BY_ADMIN ? "ann" : NULL, tok, id);
			snapshot before = snap();
			p12 = NULL;
			len = 0;
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(keep_op(p, tok, id, &c, &p12, &len), failures[k], i);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			assert_null(p12); /* no PKCS#12 handed out for a certificate not stored */
			snapshot after = snap();
			assert_unchanged(&before, &after, i, failures[k]);
			assert_kept_iff_valid();
			/* nothing held: the same token is redeemed now, kept and all */
			assert_int_equal(keep_op(p, tok, id, &c, &p12, &len), CRT_OK);
			assert_int_equal(kept_rows(c.serial), 1);
			crt_freezero(p12, len);
			crt_cert_clear(&c);
		}
}

static void a_generate_redemption_that_keeps_fails_cleanly_at_every_store_call(void **s)
{
	keep_fails_cleanly_at_every_store_call(BY_LOGIN);
}

static void a_token_issue_that_keeps_fails_cleanly_at_every_store_call(void **s)
{
	keep_fails_cleanly_at_every_store_call(BY_ADMIN);
}

static void a_lost_commit_keeps_the_certificate_with_its_pkcs12(enum keep_path p)
{
	char tok[CRT_TOKEN_STRLEN + 1], id[CRT_ID_LEN], got_serial[72];
	unsigned char *p12 = NULL, *again = NULL;
	size_t len = 0, alen = 0;
	crt_cert c;

	token_for(p == BY_ADMIN ? "ann" : NULL, tok, id);
	snapshot before = snap();
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	/* the token row, read back, says it happened */
	assert_int_equal(keep_op(p, tok, id, &c, &p12, &len), CRT_OK);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	snapshot after = snap();
	assert_int_equal(after.certs, before.certs + 1);
	assert_int_equal(after.kept, before.kept + 1);
	assert_int_equal(after.used, before.used + 1);
	assert_int_equal(after.events, before.events + 1);
	assert_int_equal(audit_rows(p == BY_ADMIN ? "token.issue" : "token.redeem", id), 1);
	assert_int_equal(kept_rows(c.serial), 1);
	assert_kept_iff_valid();
	/* the one kept is the one handed out */
	snprintf(got_serial, sizeof(got_serial), "%s", c.serial);
	assert_int_equal(crt_my_pkcs12(ti.ctx, "ann", got_serial, NULL, &again, &alen), CRT_OK);
	assert_int_equal(alen, len);
	assert_memory_equal(again, p12, len);
	crt_freezero(again, alen);
	crt_freezero(p12, len);
	crt_cert_clear(&c);
}

static void a_generate_redemption_whose_commit_is_lost_keeps_both(void **s)
{
	a_lost_commit_keeps_the_certificate_with_its_pkcs12(BY_LOGIN);
}

static void a_token_issue_whose_commit_is_lost_keeps_both(void **s)
{
	a_lost_commit_keeps_the_certificate_with_its_pkcs12(BY_ADMIN);
}

/* A certificate of ann's with its kept PKCS#12 (issued by an admin). */
static void kept_cert(crt_cert *c)
{
	char tok[CRT_TOKEN_STRLEN + 1], id[CRT_ID_LEN];
	unsigned char *p12 = NULL;
	size_t len = 0;

	token_for("ann", tok, id);
	assert_int_equal(keep_op(BY_ADMIN, tok, id, c, &p12, &len), CRT_OK);
	crt_freezero(p12, len);
	assert_int_equal(kept_rows(c->serial), 1);
}

/* ------------------------------------------------------------ downloading it */

static crt_status download(const char *serial, unsigned char **p12, size_t *len)
{
	*p12 = NULL;
	*len = 0;
	return crt_my_pkcs12(ti.ctx, "ann", serial, "192.0.2.7", p12, len);
}

static void a_download_fails_cleanly_at_every_store_call(void **s)
{
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c;

	kept_cert(&c);
	count_from_here();
	assert_int_equal(download(c.serial, &p12, &len), CRT_OK);
	int n = counted();
	crt_freezero(p12, len);
	for (size_t k = 0; k < NFAIL; k++)
		for (int i = 1; i <= n; i++) {
			long long rows = audit_rows("cert.pkcs12_download", c.serial);
			snapshot before = snap();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(download(c.serial, &p12, &len), failures[k], i);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			/* no download without its audit row */
			assert_null(p12);
			assert_int_equal(len, 0);
			snapshot after = snap();
			assert_unchanged(&before, &after, i, failures[k]);
			assert_int_equal(audit_rows("cert.pkcs12_download", c.serial), rows);
			assert_int_equal(kept_rows(c.serial), 1); /* a read never removes it */
			assert_int_equal(download(c.serial, &p12, &len), CRT_OK);
			assert_int_equal(audit_rows("cert.pkcs12_download", c.serial), rows + 1);
			crt_freezero(p12, len);
		}
	crt_cert_clear(&c);
}

static void a_download_whose_audit_commit_is_lost_hands_out_nothing(void **s)
{
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c;

	kept_cert(&c);
	long long rows = audit_rows("cert.pkcs12_download", c.serial);
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(download(c.serial, &p12, &len), CRT_E_STORE_COMMIT_UNKNOWN, 1);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	/* whether the row is there is not known to the caller, so nothing is
	 * handed out; the row that did commit over-reports, never under */
	assert_null(p12);
	assert_int_equal(len, 0);
	assert_int_equal(audit_rows("cert.pkcs12_download", c.serial), rows + 1);
	assert_int_equal(kept_rows(c.serial), 1);
	crt_cert_clear(&c);
}

/* ------------------------------------------------------------ removing it */

static crt_status my_revoke(const char *serial)
{
	return crt_my_cert_revoke(ti.ctx, "ann", serial, CRT_REASON_KEY_COMPROMISE, NULL);
}

static void a_revocation_that_removes_it_fails_cleanly_at_every_store_call(void **s)
{
	crt_cert c;

	kept_cert(&c);
	count_from_here();
	assert_int_equal(my_revoke(c.serial), CRT_OK);
	int n = counted();
	assert_int_equal(kept_rows(c.serial), 0);
	crt_cert_clear(&c);
	for (size_t k = 0; k < NFAIL; k++)
		for (int i = 1; i <= n; i++) {
			kept_cert(&c);
			snapshot before = snap();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(my_revoke(c.serial), failures[k], i);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			snapshot after = snap();
			assert_unchanged(&before, &after, i, failures[k]);
			assert_int_equal(kept_rows(c.serial), 1); /* still valid, still kept */
			assert_int_equal(audit_rows("cert.revoke", c.serial), 0);
			assert_kept_iff_valid();
			assert_int_equal(my_revoke(c.serial), CRT_OK);
			assert_int_equal(kept_rows(c.serial), 0);
			assert_kept_iff_valid();
			crt_cert_clear(&c);
		}
}

static void a_revocation_whose_commit_is_lost_removes_it_with_the_revocation(void **s)
{
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c, got;

	kept_cert(&c);
	snapshot before = snap();
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(my_revoke(c.serial), CRT_E_STORE_COMMIT_UNKNOWN, 1);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	snapshot after = snap();
	assert_int_equal(after.revoked, before.revoked + 1);
	assert_int_equal(after.kept, before.kept - 1);
	assert_int_equal(kept_rows(c.serial), 0);
	assert_int_equal(audit_rows("cert.revoke", c.serial), 1);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_true(got.revoked);
	crt_cert_clear(&got);
	assert_kept_iff_valid();
	assert_int_equal(download(c.serial, &p12, &len), CRT_E_PKCS12_NOT_KEPT);
	assert_null(p12);
	/* a retry after the unknown outcome is told it is done */
	assert_int_equal(my_revoke(c.serial), CRT_E_CERT_REVOKED);
	crt_cert_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_generate_redemption_that_keeps_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_token_issue_that_keeps_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_generate_redemption_whose_commit_is_lost_keeps_both),
	    cmocka_unit_test(a_token_issue_whose_commit_is_lost_keeps_both),
	    cmocka_unit_test(a_download_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_download_whose_audit_commit_is_lost_hands_out_nothing),
	    cmocka_unit_test(a_revocation_that_removes_it_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_revocation_whose_commit_is_lost_removes_it_with_the_revocation),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
