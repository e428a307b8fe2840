/*
 * test_fault_request.c — every write path of the approval workflow (the
 * submission that stores a request and consumes its token, approve, deny,
 * expire, cancel) failed at each of its store calls in turn with store_busy and
 * store_unavailable: a clear status and the store exactly as before; and
 * each commit lost (store_commit_unknown): exactly the change, with its
 * audit row and events. The calls are counted first (store_fault_calls),
 * so a store call added later is covered without touching this file.
 */
#include <limits.h>

#include "testutil.h"
#include "internal.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAIL (sizeof(failures) / sizeof(failures[0]))

typedef struct snapshot {
	long long requests, pending, issued, denied, expired, cancelled, certs, audit, events, used;
} snapshot;

static long long q(const test_instance *t, const char *sql)
{
	char db[512];
	tu_db_path(t, db, sizeof(db));
	return tu_sql_int(db, sql);
}

static snapshot snap(const test_instance *t)
{
	snapshot s;
	s.requests = q(t, "SELECT count(*) FROM certificate_requests");
	s.pending = q(t, "SELECT count(*) FROM certificate_requests WHERE state = 0");
	s.issued = q(t, "SELECT count(*) FROM certificate_requests WHERE state = 3");
	s.denied = q(t, "SELECT count(*) FROM certificate_requests WHERE state = 2");
	s.expired = q(t, "SELECT count(*) FROM certificate_requests WHERE state = 4");
	s.cancelled = q(t, "SELECT count(*) FROM certificate_requests WHERE state = 5");
	s.certs = q(t, "SELECT count(*) FROM certificates");
	s.audit = q(t, "SELECT count(*) FROM audit");
	s.events = q(t, "SELECT count(*) FROM events");
	s.used = q(t, "SELECT count(*) FROM tokens WHERE used_at IS NOT NULL");
	return s;
}

static void assert_unchanged(const snapshot *a, const snapshot *b, int call, crt_status s)
{
	if (memcmp(a, b, sizeof(*a)) != 0)
		fail_msg("call %d failed with %s: the store changed (requests %lld→%lld, pending "
		         "%lld→%lld, certs %lld→%lld, audit %lld→%lld, events %lld→%lld, used "
		         "%lld→%lld)",
		         call, crt_status_name(s), a->requests, b->requests, a->pending, b->pending,
		         a->certs, b->certs, a->audit, b->audit, a->events, b->events, a->used,
		         b->used);
}

static void store_exec(const test_instance *t, const char *sql)
{
#ifdef CRT_HAVE_LIBPQ
	if (t->pg_schema[0]) {
		char buf[1024];
		snprintf(buf, sizeof(buf), "SET search_path = %s; %s", t->pg_schema, sql);
		tu_pg_exec(buf);
		return;
	}
#endif
	char db[512];
	sqlite3 *h;
	tu_db_path(t, db, sizeof(db));
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	sqlite3_close(h);
}

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

static void approval_token(crt_ctx *ctx, char tok[CRT_TOKEN_STRLEN + 1])
{
	crt_token_spec spec = {.name = "faulty", .approval = "required"};
	crt_token t;
	tu_token(ctx, &spec, tok, &t);
	crt_token_clear(&t);
}

static crt_status submit(crt_ctx *ctx, const char *tok, crt_request *out,
                         char poll[CRT_TOKEN_STRLEN + 1])
{
	size_t len;
	char *csr = tu_csr("ec-p256", &len);
	crt_cert c;
	crt_redeem_req req = {.token = tok,
	                      .csr = (unsigned char *)csr,
	                      .csr_len = len,
	                      .admin = 1,
	                      .actor = "test"};
	crt_status r = crt_redeem_submit(ctx, &req, &c, out, poll);
	free(csr);
	crt_cert_clear(&c);
	return r;
}

static void pending(crt_ctx *ctx, char id[CRT_ID_LEN])
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_request r;
	approval_token(ctx, tok);
	assert_int_equal(submit(ctx, tok, &r, poll), CRT_OK);
	snprintf(id, CRT_ID_LEN, "%s", r.id);
	crt_request_clear(&r);
}

/* ------------------------------------------------------------ submission */

static void a_submission_failing_at_any_store_call_stores_nothing_and_keeps_the_token(void **s)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1],
	    zero[CRT_TOKEN_STRLEN + 1] = {0};
	crt_request r;
	tu_instance(&fi);

	approval_token(fi.ctx, tok);
	count_from_here(fi.ctx);
	assert_int_equal(submit(fi.ctx, tok, &r, poll), CRT_OK);
	crt_request_clear(&r);
	int calls = counted(fi.ctx);
	approval_token(fi.ctx, tok);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status got = submit(fi.ctx, tok, &r, poll);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			assert_clear_failure(fi.ctx, got, failures[f], i);
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
			assert_memory_equal(poll, zero, sizeof(poll)); /* no secret handed out */
			assert_string_equal(r.id, "");
		}
	/* the token is still there to be redeemed once */
	assert_int_equal(submit(fi.ctx, tok, &r, poll), CRT_OK);
	crt_request_clear(&r);
	tu_instance_free(&fi);
}

static void a_submission_whose_commit_is_lost_is_stored_whole(void **s)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1], sql[300];
	crt_request r;
	tu_instance(&fi);
	approval_token(fi.ctx, tok);
	snapshot before = snap(&fi);
	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(submit(fi.ctx, tok, &r, poll), CRT_OK); /* the row says it happened */
	store_fault_arm(fi.ctx, 0, CRT_OK);
	snapshot after = snap(&fi);
	assert_int_equal(after.requests, before.requests + 1);
	assert_int_equal(after.used, before.used + 1);
	assert_int_equal(after.events, before.events + 1);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE action = 'request.submit' AND object = '%s'",
	         r.id);
	assert_int_equal(q(&fi, sql), 1);
	char rid[CRT_ID_LEN];
	snprintf(rid, sizeof(rid), "%s", r.id);
	crt_request_clear(&r);
	assert_int_equal(crt_request_poll(fi.ctx, rid, poll, &r), CRT_OK);
	crt_request_clear(&r);
	tu_instance_free(&fi);
}

/* ------------------------------------------------------------ decisions */

static crt_status approve(crt_ctx *ctx, const char *id)
{
	crt_cert c;
	crt_status r = crt_request_approve(ctx, id, "test", &c);
	crt_cert_clear(&c);
	return r;
}

static crt_status deny(crt_ctx *ctx, const char *id)
{
	return crt_request_deny(ctx, id, "not this one", "test");
}

/* An admin's cancel: the same store calls as the requester's (the poll
 * secret is compared in memory). */
static crt_status cancel(crt_ctx *ctx, const char *id)
{
	crt_request_canceller by = {.actor = "test"};
	return crt_request_cancel(ctx, id, &by, NULL);
}

static void fail_every_call_of(crt_status (*decide)(crt_ctx *, const char *))
{
	test_instance fi;
	char id[CRT_ID_LEN];
	crt_request g;
	tu_instance(&fi);

	pending(fi.ctx, id);
	count_from_here(fi.ctx);
	assert_int_equal(decide(fi.ctx, id), CRT_OK);
	int calls = counted(fi.ctx);
	pending(fi.ctx, id);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status r = decide(fi.ctx, id);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			assert_clear_failure(fi.ctx, r, failures[f], i);
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
			assert_int_equal(crt_request_get(fi.ctx, id, &g), CRT_OK);
			assert_int_equal(g.state, CRT_REQUEST_PENDING);
			crt_request_clear(&g);
		}
	assert_int_equal(decide(fi.ctx, id), CRT_OK);
	tu_instance_free(&fi);
}

static void an_approval_failing_at_any_store_call_changes_nothing(void **s)
{
	fail_every_call_of(approve);
}

static void a_denial_failing_at_any_store_call_changes_nothing(void **s)
{
	fail_every_call_of(deny);
}

static void lost_commit_of(crt_status (*decide)(crt_ctx *, const char *), const char *action,
                           int state, int certs)
{
	test_instance fi;
	char id[CRT_ID_LEN], sql[300];
	crt_request g;
	tu_instance(&fi);
	pending(fi.ctx, id);
	snapshot before = snap(&fi);
	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(decide(fi.ctx, id), CRT_OK); /* the row says it happened */
	store_fault_arm(fi.ctx, 0, CRT_OK);
	snapshot after = snap(&fi);
	assert_int_equal(after.certs, before.certs + certs);
	assert_int_equal(after.pending, before.pending - 1);
	assert_int_equal(crt_request_get(fi.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, state);
	crt_request_clear(&g);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = '%s' AND object = '%s'",
	         action, id);
	assert_int_equal(q(&fi, sql), 1);
	tu_instance_free(&fi);
}

static void an_approval_whose_commit_is_lost_is_stored_whole(void **s)
{
	lost_commit_of(approve, "request.approve", CRT_REQUEST_ISSUED, 1);
}

static void a_denial_whose_commit_is_lost_is_stored_whole(void **s)
{
	lost_commit_of(deny, "request.deny", CRT_REQUEST_DENIED, 0);
}

static void a_cancel_failing_at_any_store_call_changes_nothing(void **s)
{
	fail_every_call_of(cancel);
}

static void a_cancel_whose_commit_is_lost_is_stored_whole(void **s)
{
	lost_commit_of(cancel, "request.cancel", CRT_REQUEST_CANCELLED, 0);
}

/* ------------------------------------------------------------ expiry */

static void an_expiry_run_failing_at_any_store_call_changes_nothing(void **s)
{
	test_instance fi;
	char id[CRT_ID_LEN];
	size_t n;
	tu_instance(&fi);

	pending(fi.ctx, id);
	store_exec(&fi, "UPDATE certificate_requests SET expires_at = created_at - 1");
	count_from_here(fi.ctx);
	assert_int_equal(crt_requests_expire(fi.ctx, "test", &n), CRT_OK);
	assert_int_equal(n, 1);
	int calls = counted(fi.ctx);
	pending(fi.ctx, id);
	store_exec(&fi, "UPDATE certificate_requests SET expires_at = created_at - 1 "
	                "WHERE state = 0");
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status r = crt_requests_expire(fi.ctx, "test", &n);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			assert_clear_failure(fi.ctx, r, failures[f], i);
			assert_int_equal(n, 0);
			snapshot after = snap(&fi);
			assert_unchanged(&before, &after, i, failures[f]);
		}
	assert_int_equal(crt_requests_expire(fi.ctx, "test", &n), CRT_OK);
	assert_int_equal(n, 1);
	tu_instance_free(&fi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        a_submission_failing_at_any_store_call_stores_nothing_and_keeps_the_token),
	    cmocka_unit_test(a_submission_whose_commit_is_lost_is_stored_whole),
	    cmocka_unit_test(an_approval_failing_at_any_store_call_changes_nothing),
	    cmocka_unit_test(a_denial_failing_at_any_store_call_changes_nothing),
	    cmocka_unit_test(an_approval_whose_commit_is_lost_is_stored_whole),
	    cmocka_unit_test(a_denial_whose_commit_is_lost_is_stored_whole),
	    cmocka_unit_test(a_cancel_failing_at_any_store_call_changes_nothing),
	    cmocka_unit_test(a_cancel_whose_commit_is_lost_is_stored_whole),
	    cmocka_unit_test(an_expiry_run_failing_at_any_store_call_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
