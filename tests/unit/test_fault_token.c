/*
 * test_fault_token.c — every write path of tokens and redemption, failed at
 * each of its store calls in turn (the fault seam, store/port.h) with
 * store_busy and store_unavailable, and its commit lost
 * (store_commit_unknown): a clear status, nothing half-written, and the
 * audit row present exactly when the change is.
 *
 * The number of calls of each path is counted first (store_fault_calls),
 * so a store call added later is covered without touching this file.
 */
#include <limits.h>

#include "testutil.h"
#include "internal.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAIL (sizeof(failures) / sizeof(failures[0]))

/* What the store holds, as far as these paths can change it. */
typedef struct snapshot {
	long long tokens, certs, audit, used, deleted, versions;
} snapshot;

static snapshot snap(const test_instance *t)
{
	char db[512];
	snapshot s;
	tu_db_path(t, db, sizeof(db));
	s.tokens = tu_sql_int(db, "SELECT count(*) FROM tokens");
	s.certs = tu_sql_int(db, "SELECT count(*) FROM certificates");
	s.audit = tu_sql_int(db, "SELECT count(*) FROM audit");
	s.used = tu_sql_int(db, "SELECT count(*) FROM tokens WHERE used_at IS NOT NULL");
	s.deleted = tu_sql_int(db, "SELECT count(*) FROM tokens WHERE deleted_at IS NOT NULL");
	s.versions = tu_sql_int(db, "SELECT total(version) FROM tokens");
	return s;
}

static long long audit_rows(const test_instance *t, const char *action)
{
	char db[512], sql[200];
	tu_db_path(t, db, sizeof(db));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = '%s'", action);
	return tu_sql_int(db, sql);
}

static void assert_unchanged(const snapshot *a, const snapshot *b, int call, crt_status s)
{
	if (a->tokens != b->tokens || a->certs != b->certs || a->audit != b->audit ||
	    a->used != b->used || a->deleted != b->deleted || a->versions != b->versions)
		fail_msg("call %d failed with %s: the store changed (tokens %lld→%lld, certs "
		         "%lld→%lld, audit %lld→%lld, used %lld→%lld, deleted %lld→%lld)",
		         call, crt_status_name(s), a->tokens, b->tokens, a->certs, b->certs,
		         a->audit, b->audit, a->used, b->used, a->deleted, b->deleted);
}

/* Count the store calls of one run of a path: armed far away, nothing fails. */
static void count_from_here(crt_ctx *ctx)
{
	store_fault_arm(ctx, INT_MAX, CRT_E_STORE_BUSY);
}

static int counted(crt_ctx *ctx)
{
	int n = store_fault_calls(ctx);
	store_fault_arm(ctx, 0, CRT_OK);
	assert_true(n > 0);
	return n;
}

static void assert_clear_failure(crt_ctx *ctx, crt_status got, crt_status want, int call)
{
	if (got != want)
		fail_msg("call %d failed with %s: got %s (%s)", call, crt_status_name(want),
		         crt_status_name(got), crt_errdetail(ctx));
	assert_true(crt_errdetail(ctx)[0] != '\0');
}

static void new_token(crt_ctx *ctx, const char *name, char tok[CRT_TOKEN_STRLEN + 1], crt_token *t)
{
	crt_token_spec spec = {.name = name};
	tu_token(ctx, &spec, tok, t);
}

/* ------------------------------------------------------------- create */

static void a_create_failing_at_any_store_call_stores_nothing(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1], zero[CRT_TOKEN_STRLEN + 1] = {0};
	crt_token_spec spec = {.name = "faulty"};
	crt_token t;
	tu_instance(&fi);

	count_from_here(fi.ctx);
	assert_int_equal(crt_token_create(fi.ctx, &spec, "test", &t, tok), CRT_OK);
	crt_token_clear(&t);
	int calls = counted(fi.ctx);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status r = crt_token_create(fi.ctx, &spec, "test", &t, tok);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			assert_clear_failure(fi.ctx, r, failures[f], i);
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
			assert_memory_equal(tok, zero,
			                    sizeof(tok)); /* no token string handed out */
		}
	tu_instance_free(&fi);
}

static void a_create_whose_commit_is_lost_is_stored_whole_with_its_audit_row(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "lost"};
	crt_token t;
	tu_instance(&fi);

	snapshot before = snap(&fi);
	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(crt_token_create(fi.ctx, &spec, "test", &t, tok),
	                 CRT_E_STORE_COMMIT_UNKNOWN);
	snapshot after = snap(&fi);
	assert_int_equal(after.tokens, before.tokens + 1);
	assert_int_equal(audit_rows(&fi, "token.create"), 1);
	tu_instance_free(&fi);
}

/* ------------------------------------------------------ update, delete */

static crt_status update(crt_ctx *ctx, const char *id)
{
	crt_token_spec ch = {.ou = "changed"};
	return crt_token_update(ctx, id, &ch, "test", NULL);
}

static crt_status delete (crt_ctx *ctx, const char *id)
{
	return crt_token_delete(ctx, id, "test");
}

static void fail_every_call_of(crt_status (*change)(crt_ctx *, const char *))
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, u;
	tu_instance(&fi);

	new_token(fi.ctx, "counted", tok, &t);
	count_from_here(fi.ctx);
	assert_int_equal(change(fi.ctx, t.id), CRT_OK);
	int calls = counted(fi.ctx);
	crt_token_clear(&t);
	new_token(fi.ctx, "faulty", tok, &t);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status r = change(fi.ctx, t.id);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			assert_clear_failure(fi.ctx, r, failures[f], i);
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
			assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
			assert_int_equal(u.state, CRT_TOKEN_ACTIVE);
			assert_null(u.ou);
			crt_token_clear(&u);
		}
	/* and after all that, the change still goes through once */
	assert_int_equal(change(fi.ctx, t.id), CRT_OK);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void an_update_failing_at_any_store_call_changes_nothing(void **state)
{
	fail_every_call_of(update);
}

static void a_delete_failing_at_any_store_call_changes_nothing(void **state)
{
	fail_every_call_of(delete);
}

static void an_update_whose_commit_is_lost_is_stored_whole_with_its_audit_row(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, u;
	tu_instance(&fi);
	new_token(fi.ctx, "lost", tok, &t);

	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(update(fi.ctx, t.id), CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
	assert_string_equal(u.ou, "changed");
	assert_int_equal(u.version, 1);
	assert_int_equal(audit_rows(&fi, "token.update"), 1);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void a_delete_whose_commit_is_lost_is_stored_whole_with_its_audit_row(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, u;
	tu_instance(&fi);
	new_token(fi.ctx, "lost", tok, &t);

	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(delete (fi.ctx, t.id), CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_DELETED);
	assert_int_equal(audit_rows(&fi, "token.delete"), 1);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

/* -------------------------------------------------------------- purge */

/* A token deleted two days ago (time itself is not mocked: the row ages). */
static void old_deleted_token(test_instance *fi)
{
	char tok[CRT_TOKEN_STRLEN + 1], db[512];
	crt_token t;
	sqlite3 *h;
	new_token(fi->ctx, "old", tok, &t);
	assert_int_equal(crt_token_delete(fi->ctx, t.id, "test"), CRT_OK);
	tu_db_path(fi, db, sizeof(db));
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
	                              "UPDATE tokens SET deleted_at = deleted_at - 172800 "
	                              "WHERE deleted_at IS NOT NULL",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(h);
	crt_token_clear(&t);
}

static void a_purge_failing_at_any_store_call_removes_nothing(void **state)
{
	test_instance fi;
	size_t n = 0;
	tu_instance(&fi);

	old_deleted_token(&fi);
	count_from_here(fi.ctx);
	assert_int_equal(crt_token_purge(fi.ctx, 1, "test", &n), CRT_OK);
	assert_int_equal(n, 1);
	int calls = counted(fi.ctx);
	old_deleted_token(&fi);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			n = 99;
			crt_status r = crt_token_purge(fi.ctx, 1, "test", &n);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			assert_clear_failure(fi.ctx, r, failures[f], i);
			assert_int_equal(n, 0);
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
			assert_int_equal(after.tokens, 1);
		}
	tu_instance_free(&fi);
}

static void a_purge_whose_commit_is_lost_is_stored_whole_with_its_audit_row(void **state)
{
	test_instance fi;
	size_t n = 0;
	tu_instance(&fi);
	old_deleted_token(&fi);

	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(crt_token_purge(fi.ctx, 1, "test", &n), CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(snap(&fi).tokens, 0);
	assert_int_equal(audit_rows(&fi, "token.purge"), 1);
	tu_instance_free(&fi);
}

/* ---------------------------------------------------------- redemption */

static void a_redemption_failing_at_any_store_call_leaves_the_token_unused(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, u;
	crt_cert c;
	tu_instance(&fi);

	new_token(fi.ctx, "counted", tok, &t);
	count_from_here(fi.ctx);
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_OK);
	int calls = counted(fi.ctx);
	crt_cert_clear(&c);
	crt_token_clear(&t);
	new_token(fi.ctx, "faulty", tok, &t);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status r = tu_redeem(fi.ctx, tok, &c);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			assert_clear_failure(fi.ctx, r, failures[f], i);
			assert_null(c.pem); /* no certificate handed out */
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
			assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
			assert_int_equal(u.state, CRT_TOKEN_ACTIVE);
			assert_int_equal(u.version, 0);
			crt_token_clear(&u);
		}
	/* the token still redeems, once */
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_OK);
	crt_cert_clear(&c);
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_E_TOKEN_USED);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void a_redemption_whose_commit_is_lost_is_stored_exactly_once_and_returned(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1], db[512], sql[300];
	crt_token t, u;
	crt_cert c;
	tu_instance(&fi);
	tu_db_path(&fi, db, sizeof(db));
	new_token(fi.ctx, "lost", tok, &t);

	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	/* the commit happened; the token says so, and the redeemer gets its certificate */
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_OK);
	assert_non_null(c.pem);
	assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_USED);
	assert_string_equal(u.serial, c.serial);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM certificates WHERE serial = '%s' AND "
	         "token_id = '%s'",
	         c.serial, t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	assert_int_equal(snap(&fi).certs, 1);
	assert_int_equal(audit_rows(&fi, "token.redeem"), 1);
	assert_int_equal(audit_rows(&fi, "token.redeem_refused"), 0);
	crt_cert_clear(&c);
	/* and it stays single-use */
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_E_TOKEN_USED);
	assert_int_equal(snap(&fi).certs, 1);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

/* A refused redemption (its token used already) writes only its refusal
 * row; failing any call of that leaves the refusal as it was, row-less. */
static void a_refusal_whose_audit_fails_at_any_store_call_stays_the_refusal(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	tu_instance(&fi);

	new_token(fi.ctx, "used", tok, &t);
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_OK);
	crt_cert_clear(&c);
	long long refused = audit_rows(&fi, "token.redeem_refused");
	count_from_here(fi.ctx);
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_E_TOKEN_USED);
	int calls = counted(fi.ctx);
	assert_int_equal(audit_rows(&fi, "token.redeem_refused"), refused + 1);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status r = tu_redeem(fi.ctx, tok, &c);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			/* the phase-1 read failing is the store's failure; later ones
			 * are the audit row's, and the refusal stands */
			if (r != failures[f] && r != CRT_E_TOKEN_USED)
				fail_msg("call %d failed with %s: got %s", i,
				         crt_status_name(failures[f]), crt_status_name(r));
			assert_true(crt_errdetail(fi.ctx)[0] != '\0');
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
		}
	/* a lost commit of the refusal row: the row is there, once */
	refused = audit_rows(&fi, "token.redeem_refused");
	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(tu_redeem(fi.ctx, tok, &c), CRT_E_TOKEN_USED);
	store_fault_arm(fi.ctx, 0, CRT_OK);
	assert_int_equal(audit_rows(&fi, "token.redeem_refused"), refused + 1);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_create_failing_at_any_store_call_stores_nothing),
	    cmocka_unit_test(a_create_whose_commit_is_lost_is_stored_whole_with_its_audit_row),
	    cmocka_unit_test(an_update_failing_at_any_store_call_changes_nothing),
	    cmocka_unit_test(an_update_whose_commit_is_lost_is_stored_whole_with_its_audit_row),
	    cmocka_unit_test(a_delete_failing_at_any_store_call_changes_nothing),
	    cmocka_unit_test(a_delete_whose_commit_is_lost_is_stored_whole_with_its_audit_row),
	    cmocka_unit_test(a_purge_failing_at_any_store_call_removes_nothing),
	    cmocka_unit_test(a_purge_whose_commit_is_lost_is_stored_whole_with_its_audit_row),
	    cmocka_unit_test(a_redemption_failing_at_any_store_call_leaves_the_token_unused),
	    cmocka_unit_test(a_redemption_whose_commit_is_lost_is_stored_exactly_once_and_returned),
	    cmocka_unit_test(a_refusal_whose_audit_fails_at_any_store_call_stays_the_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
