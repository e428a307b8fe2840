/*
 * test_request.c — the approval workflow through the library: tokens that
 * require approval, the pending request their redemption stores (the token
 * consumed with it), approve / deny / expire and their refusals, the poll
 * secret, listing. Backend-neutral: runs on PostgreSQL too (t_pg_units).
 */
#include "testutil.h"
#include "internal.h"
#include <pthread.h>

static long long count(const test_instance *t, const char *sql)
{
	char db[512];
	tu_db_path(t, db, sizeof(db));
	return tu_sql_int(db, sql);
}

/* Run a statement on the instance's store (test set-up only: moving a
 * request's expiry into the past instead of waiting for it). */
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

static void approval_token(crt_ctx *ctx, const char *name, char tok[CRT_TOKEN_STRLEN + 1],
                           crt_token *t)
{
	crt_token_spec spec = {.name = name, .approval = "required"};
	tu_token(ctx, &spec, tok, t);
}

/* Submit tok with a fresh CSR as user (NULL: admin) asking for cn. */
static crt_status submit(crt_ctx *ctx, const char *tok, const char *user, const char *cn,
                         crt_cert *c, crt_request *q, char poll[CRT_TOKEN_STRLEN + 1])
{
	size_t len;
	char *csr = tu_csr("ec-p256", &len);
	crt_redeem_req req = {.token = tok,
	                      .csr = (unsigned char *)csr,
	                      .csr_len = len,
	                      .cn = cn,
	                      .user = user,
	                      .admin = user == NULL,
	                      .actor = user ? user : "test",
	                      .remote = "192.0.2.7"};
	crt_status r = crt_redeem_submit(ctx, &req, c, q, poll);
	free(csr);
	return r;
}

/* A pending request of a fresh approval token; its id into id. */
static void pending_request(crt_ctx *ctx, const char *name, char id[CRT_ID_LEN])
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_request q;
	approval_token(ctx, name, tok, &t);
	assert_int_equal(submit(ctx, tok, NULL, NULL, &c, &q, poll), CRT_OK);
	snprintf(id, CRT_ID_LEN, "%s", q.id);
	crt_request_clear(&q);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void a_token_needs_no_approval_unless_asked(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "plain"};
	crt_token t;
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(t.approval, CRT_APPROVAL_NONE);
	crt_token_clear(&t);
	approval_token(ti.ctx, "needs", tok, &t);
	assert_int_equal(t.approval, CRT_APPROVAL_REQUIRED);
	crt_token u;
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.approval, CRT_APPROVAL_REQUIRED);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

static void an_approval_other_than_required_or_none_is_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "odd", .approval = "maybe"};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_FIELD_INVALID);
}

static void the_approval_cannot_change_after_creation(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	approval_token(ti.ctx, "fixed", tok, &t);
	crt_token_spec ch = {.approval = "none"};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &ch, "test", NULL), CRT_E_FIELD_INVALID);
	crt_token_clear(&t);
}

static void a_plain_redemption_of_an_approval_token_is_refused_and_spends_nothing(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, u;
	crt_cert c;
	approval_token(ti.ctx, "plainly", tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_APPROVAL_REQUIRED);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_ACTIVE);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

static void a_generate_redemption_of_an_approval_token_is_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], *pass = NULL;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	crt_token t, u;
	crt_cert c;
	approval_token(ti.ctx, "generated", tok, &t);
	crt_redeem_req req = {.token = tok, .admin = 1, .actor = "test"};
	assert_int_equal(crt_redeem_generate(ti.ctx, &req, "ec-p256", NULL, &c, &p12, &p12_len,
	                                     &pass),
	                 CRT_E_APPROVAL_REQUIRED);
	assert_null(p12);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_ACTIVE);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

static void a_submission_stores_a_pending_request_and_consumes_the_token(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1], sql[300];
	crt_token t, u;
	crt_cert c;
	crt_request q, g;
	approval_token(ti.ctx, "submitted", tok, &t);
	long long events = count(&ti, "SELECT count(*) FROM events WHERE type = 'request.pending'");

	assert_int_equal(submit(ti.ctx, tok, NULL, "laptop-7", &c, &q, poll), CRT_OK);
	assert_string_equal(c.serial, ""); /* nothing issued */
	assert_null(c.pem);
	assert_int_equal(q.state, CRT_REQUEST_PENDING);
	assert_string_equal(q.token_id, t.id);
	assert_string_equal(q.cn, "laptop-7");
	assert_int_equal(strncmp(poll, CRT_POLL_PREFIX, 4), 0);
	assert_true(q.expires_at - q.created_at == 7 * 86400); /* [requests] pending_lifetime */
	assert_non_null(strstr(q.csr, "BEGIN CERTIFICATE REQUEST"));

	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_USED);
	crt_token_clear(&u);
	assert_int_equal(crt_request_get(ti.ctx, q.id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_PENDING);
	assert_string_equal(g.token_name, "submitted");
	assert_string_equal(g.remote, "192.0.2.7");
	crt_request_clear(&g);
	assert_int_equal(count(&ti, "SELECT count(*) FROM events WHERE type = 'request.pending'"),
	                 events + 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = 'request.submit' "
	                           "AND object = '%s'", q.id);
	assert_int_equal(count(&ti, sql), 1);
	/* the poll secret itself is not stored */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM certificate_requests WHERE poll_hash = '%s'",
	         poll);
	assert_int_equal(count(&ti, sql), 0);
	crt_request_clear(&q);
	crt_token_clear(&t);
}

static void a_second_redemption_of_a_requested_token_is_token_used(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_request q;
	approval_token(ti.ctx, "twice", tok, &t);
	assert_int_equal(submit(ti.ctx, tok, NULL, NULL, &c, &q, poll), CRT_OK);
	crt_request_clear(&q);
	assert_int_equal(submit(ti.ctx, tok, NULL, NULL, &c, &q, poll), CRT_E_TOKEN_USED);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_TOKEN_USED);
	crt_token_clear(&t);
}

static void the_owner_check_applies_at_submission(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "owned", .owner = "alice", .approval = "required"};
	crt_token t;
	crt_cert c;
	crt_request q;
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(submit(ti.ctx, tok, "mallory", NULL, &c, &q, poll), CRT_E_TOKEN_OWNER);
	assert_int_equal(submit(ti.ctx, tok, "alice", NULL, &c, &q, poll), CRT_OK);
	assert_string_equal(q.requester, "alice");
	crt_request_clear(&q);
	crt_token_clear(&t);
}

static void approval_issues_the_certificate_the_redemption_would_have(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "approved",
	                       .org = "Example",
	                       .reply = "Tunnel-Private-Group-Id=42",
	                       .approval = "required"};
	crt_token t, u;
	crt_cert c, got;
	crt_request q, g;
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(submit(ti.ctx, tok, NULL, "printer-3", &c, &q, poll), CRT_OK);
	long long issued = count(&ti, "SELECT count(*) FROM events WHERE type = 'certificate.issued'");

	assert_int_equal(crt_request_approve(ti.ctx, q.id, "admin:test", &c), CRT_OK);
	assert_string_equal(c.cn, "printer-3");
	assert_string_equal(c.org, "Example");
	assert_string_equal(c.token_id, t.id);
	assert_string_equal(c.reply, "Tunnel-Private-Group-Id=42");
	assert_non_null(c.pem);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.pem, c.pem);
	crt_cert_clear(&got);
	assert_int_equal(crt_request_get(ti.ctx, q.id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_ISSUED);
	assert_string_equal(g.serial, c.serial);
	assert_string_equal(g.decided_by, "admin:test");
	crt_request_clear(&g);
	assert_int_equal(count(&ti, "SELECT count(*) FROM events WHERE type = 'certificate.issued'"),
	                 issued + 1);
	assert_true(count(&ti, "SELECT count(*) FROM events WHERE type = 'request.approved'") >= 1);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_USED);
	crt_token_clear(&u);
	crt_cert_clear(&c);
	crt_request_clear(&q);
	crt_token_clear(&t);
}

static void approving_twice_is_request_state_and_issues_nothing_more(void **s)
{
	char id[CRT_ID_LEN];
	crt_cert c;
	pending_request(ti.ctx, "approve-twice", id);
	assert_int_equal(crt_request_approve(ti.ctx, id, "test", &c), CRT_OK);
	crt_cert_clear(&c);
	long long certs = count(&ti, "SELECT count(*) FROM certificates");
	assert_int_equal(crt_request_approve(ti.ctx, id, "test", &c), CRT_E_REQUEST_STATE);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "approved already"));
	assert_int_equal(count(&ti, "SELECT count(*) FROM certificates"), certs);
}

static void denying_an_issued_request_is_request_state(void **s)
{
	char id[CRT_ID_LEN];
	crt_cert c;
	crt_request g;
	pending_request(ti.ctx, "deny-issued", id);
	assert_int_equal(crt_request_approve(ti.ctx, id, "test", &c), CRT_OK);
	crt_cert_clear(&c);
	assert_int_equal(crt_request_deny(ti.ctx, id, "too late", "test"), CRT_E_REQUEST_STATE);
	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_ISSUED);
	assert_null(g.reason);
	crt_request_clear(&g);
}

static void a_denied_request_keeps_its_reason_and_cannot_be_approved(void **s)
{
	char id[CRT_ID_LEN], sql[300];
	crt_cert c;
	crt_request g;
	pending_request(ti.ctx, "denied", id);
	long long certs = count(&ti, "SELECT count(*) FROM certificates");
	assert_int_equal(crt_request_deny(ti.ctx, id, "unknown device", "admin:test"), CRT_OK);
	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_DENIED);
	assert_string_equal(g.reason, "unknown device");
	crt_request_clear(&g);
	assert_int_equal(crt_request_approve(ti.ctx, id, "test", &c), CRT_E_REQUEST_STATE);
	assert_int_equal(crt_request_deny(ti.ctx, id, "again", "test"), CRT_E_REQUEST_STATE);
	assert_int_equal(count(&ti, "SELECT count(*) FROM certificates"), certs);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = 'request.deny' AND "
	                           "object = '%s'", id);
	assert_int_equal(count(&ti, sql), 1);
	assert_true(count(&ti, "SELECT count(*) FROM events WHERE type = 'request.denied'") >= 1);
}

static void a_denial_without_a_reason_is_refused_and_changes_nothing(void **s)
{
	char id[CRT_ID_LEN];
	crt_request g;
	pending_request(ti.ctx, "no-reason", id);
	assert_int_equal(crt_request_deny(ti.ctx, id, "", "test"), CRT_E_FIELD_INVALID);
	assert_int_equal(crt_request_deny(ti.ctx, id, NULL, "test"), CRT_E_FIELD_INVALID);
	assert_int_equal(crt_request_deny(ti.ctx, id, "bad\x01", "test"), CRT_E_FIELD_INVALID);
	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_PENDING);
	crt_request_clear(&g);
}

static void an_unknown_request_is_request_unknown(void **s)
{
	crt_cert c;
	crt_request g;
	const char *id = "request-00000000-0000-4000-8000-000000000000";
	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_E_REQUEST_UNKNOWN);
	assert_int_equal(crt_request_approve(ti.ctx, id, "test", &c), CRT_E_REQUEST_UNKNOWN);
	assert_int_equal(crt_request_deny(ti.ctx, id, "x", "test"), CRT_E_REQUEST_UNKNOWN);
}

static void the_poll_secret_reads_its_own_request_only(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1], other[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_request q, r, g;
	approval_token(ti.ctx, "polled", tok, &t);
	assert_int_equal(submit(ti.ctx, tok, NULL, NULL, &c, &q, poll), CRT_OK);
	crt_token_clear(&t);
	approval_token(ti.ctx, "polled-2", tok, &t);
	assert_int_equal(submit(ti.ctx, tok, NULL, NULL, &c, &r, other), CRT_OK);

	assert_int_equal(crt_request_poll(ti.ctx, q.id, poll, &g), CRT_OK);
	assert_string_equal(g.id, q.id);
	crt_request_clear(&g);
	/* another request's secret, a mistyped one, an unknown id: one answer */
	assert_int_equal(crt_request_poll(ti.ctx, q.id, other, &g), CRT_E_AUTH_FAILED);
	poll[10] = poll[10] == 'A' ? 'B' : 'A';
	assert_int_equal(crt_request_poll(ti.ctx, q.id, poll, &g), CRT_E_AUTH_FAILED);
	assert_int_equal(crt_request_poll(ti.ctx, "request-nope", other, &g), CRT_E_AUTH_FAILED);
	assert_int_equal(crt_request_poll(ti.ctx, q.id, "", &g), CRT_E_AUTH_FAILED);
	crt_request_clear(&q);
	crt_request_clear(&r);
	crt_token_clear(&t);
}

/* request.denied and request.expired name the token's owner and ownerEmail
 * like request.pending does, so an e-mail sink's to_owner reaches them. */
static void a_denial_and_an_expiry_tell_the_tokens_owner(void **s)
{
	crt_token_spec spec = {.name = "owned-request",
	                       .approval = "required",
	                       .owner = "olga",
	                       .owner_email = "olga@example.org"};
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1], sql[600];
	const char *const types[] = {"request.denied", "request.expired"};
	crt_token t;
	crt_cert c;
	crt_request q;
	size_t n = 0;

	for (int k = 0; k < 2; k++) {
		tu_token(ti.ctx, &spec, tok, &t);
		assert_int_equal(submit(ti.ctx, tok, "olga", NULL, &c, &q, poll), CRT_OK);
		if (k == 0) {
			assert_int_equal(crt_request_deny(ti.ctx, q.id, "not now", "admin:test"),
			                 CRT_OK);
		} else {
			snprintf(sql, sizeof(sql),
			         "UPDATE certificate_requests SET expires_at = created_at - 1 WHERE "
			         "id = '%s'",
			         q.id);
			store_exec(&ti, sql);
			assert_int_equal(crt_requests_expire(ti.ctx, "maintain", &n), CRT_OK);
		}
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM events WHERE type = '%s' AND body LIKE "
		         "'%%\"requestId\":\"%s\"%%' AND body LIKE '%%\"owner\":\"olga\"%%' AND "
		         "body LIKE '%%\"ownerEmail\":\"olga@example.org\"%%'",
		         types[k], q.id);
		assert_int_equal(count(&ti, sql), 1);
		crt_request_clear(&q);
		crt_cert_clear(&c);
		crt_token_clear(&t);
	}
}

static void a_pending_request_past_its_expiry_reads_expired_and_maintain_marks_it(void **s)
{
	char id[CRT_ID_LEN], sql[400];
	crt_cert c;
	crt_request g;
	size_t n = 0;
	pending_request(ti.ctx, "expiring", id);
	snprintf(sql, sizeof(sql),
	         "UPDATE certificate_requests SET expires_at = created_at - 1 WHERE id = '%s'", id);
	store_exec(&ti, sql);

	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_EXPIRED);
	crt_request_clear(&g);
	assert_int_equal(crt_request_approve(ti.ctx, id, "test", &c), CRT_E_REQUEST_STATE);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "expired"));

	assert_int_equal(crt_requests_expire(ti.ctx, "maintain", &n), CRT_OK);
	assert_true(n >= 1);
	snprintf(sql, sizeof(sql), "SELECT state FROM certificate_requests WHERE id = '%s'", id);
	assert_int_equal(count(&ti, sql), CRT_REQUEST_EXPIRED);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = 'request.expire' AND "
	                           "object = '%s'", id);
	assert_int_equal(count(&ti, sql), 1);
	assert_true(count(&ti, "SELECT count(*) FROM events WHERE type = 'request.expired'") >= 1);
	/* a second run finds nothing more */
	assert_int_equal(crt_requests_expire(ti.ctx, "maintain", &n), CRT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(count(&ti, sql), 1);
	assert_int_equal(crt_request_deny(ti.ctx, id, "late", "test"), CRT_E_REQUEST_STATE);
}

static void maintain_expires_pending_requests_and_reports_them(void **s)
{
	char id[CRT_ID_LEN], sql[400];
	crt_maintain_report rep;
	pending_request(ti.ctx, "maintained", id);
	snprintf(sql, sizeof(sql),
	         "UPDATE certificate_requests SET expires_at = created_at - 1 WHERE id = '%s'", id);
	store_exec(&ti, sql);
	assert_int_equal(crt_maintain(ti.ctx, "maintain", &rep), CRT_OK);
	assert_true(rep.requests_expired >= 1);
	snprintf(sql, sizeof(sql), "SELECT state FROM certificate_requests WHERE id = '%s'", id);
	assert_int_equal(count(&ti, sql), CRT_REQUEST_EXPIRED);
}

static void listing_filters_by_state_and_requester(void **s)
{
	test_instance li;
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1], id[CRT_ID_LEN];
	crt_token_spec spec = {.name = "bob-1", .owner = "bob", .approval = "required"};
	crt_token t;
	crt_cert c;
	crt_request q, *list;
	size_t n;
	tu_instance(&li);
	tu_token(li.ctx, &spec, tok, &t);
	assert_int_equal(submit(li.ctx, tok, "bob", NULL, &c, &q, poll), CRT_OK);
	crt_request_clear(&q);
	crt_token_clear(&t);
	pending_request(li.ctx, "admin-1", id);
	assert_int_equal(crt_request_deny(li.ctx, id, "no", "test"), CRT_OK);

	crt_request_filter all = {.state = -1};
	assert_int_equal(crt_request_list(li.ctx, &all, &list, &n), CRT_OK);
	assert_int_equal(n, 2);
	crt_request_list_free(list, n);
	crt_request_filter bobs = {.state = -1, .user = "bob"};
	assert_int_equal(crt_request_list(li.ctx, &bobs, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].requester, "bob");
	crt_request_list_free(list, n);
	crt_request_filter pending = {.state = CRT_REQUEST_PENDING};
	assert_int_equal(crt_request_list(li.ctx, &pending, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].state, CRT_REQUEST_PENDING);
	crt_request_list_free(list, n);
	crt_request_filter denied = {.state = CRT_REQUEST_DENIED};
	assert_int_equal(crt_request_list(li.ctx, &denied, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, id);
	crt_request_list_free(list, n);
	crt_request_filter issued = {.state = CRT_REQUEST_APPROVED};
	assert_int_equal(crt_request_list(li.ctx, &issued, &list, &n), CRT_OK);
	assert_int_equal(n, 0);
	crt_request_list_free(list, n);
	tu_instance_free(&li);
}

static void a_profile_with_approval_required_makes_it_its_tokens_default(void **s)
{
	test_instance pi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	tu_instance_init(&pi, NULL);
	tu_config_append(&pi, "[profile guarded]\napproval = required\n");
	tu_open(&pi);
	crt_token_spec spec = {.name = "g", .profile = "guarded"};
	tu_token(pi.ctx, &spec, tok, &t);
	assert_int_equal(t.approval, CRT_APPROVAL_REQUIRED);
	crt_token_clear(&t);
	crt_token_spec waived = {.name = "w", .profile = "guarded", .approval = "none"};
	tu_token(pi.ctx, &waived, tok, &t);
	assert_int_equal(t.approval, CRT_APPROVAL_NONE);
	crt_token_clear(&t);
	tu_instance_free(&pi);
}

static void a_key_the_profile_refuses_is_refused_at_submission_not_at_approval(void **s)
{
	test_instance pi;
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_token t, u;
	crt_cert c;
	crt_request q;
	tu_instance_init(&pi, NULL);
	tu_config_append(&pi, "[profile rsa-only]\nkey_types = rsa\napproval = required\n");
	tu_open(&pi);
	crt_token_spec spec = {.name = "rsa", .profile = "rsa-only"};
	tu_token(pi.ctx, &spec, tok, &t);
	assert_int_equal(submit(pi.ctx, tok, NULL, NULL, &c, &q, poll), CRT_E_CSR_KEY_TYPE);
	assert_string_equal(q.id, "");
	assert_int_equal(count(&pi, "SELECT count(*) FROM certificate_requests"), 0);
	assert_int_equal(crt_token_get(pi.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_ACTIVE);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&pi);
}

static void a_purge_keeps_the_token_of_a_pending_request(void **s)
{
	test_instance pi;
	char id[CRT_ID_LEN], sql[300], tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "plain"};
	crt_token t;
	crt_cert c;
	size_t purged = 0;
	tu_instance(&pi);
	pending_request(pi.ctx, "kept", id);
	tu_token(pi.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(pi.ctx, tok, &c), CRT_OK);
	crt_cert_clear(&c);
	crt_token_clear(&t);
	/* both tokens were used two days ago */
	store_exec(&pi, "UPDATE tokens SET used_at = used_at - 172800");
	assert_int_equal(crt_token_purge(pi.ctx, 1, "test", &purged), CRT_OK);
	assert_int_equal(purged, 1); /* the plain one */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens t JOIN certificate_requests r "
	                           "ON r.token_id = t.id WHERE r.id = '%s'", id);
	assert_int_equal(count(&pi, sql), 1);
	assert_int_equal(crt_request_approve(pi.ctx, id, "test", &c), CRT_OK);
	crt_cert_clear(&c);
	tu_instance_free(&pi);
}

/* ------------------------------------------------------------ cancel */

/* A pending request of a fresh approval token submitted by user (NULL:
 * admin); id and poll secret out. */
static void pending_of(crt_ctx *ctx, const char *name, const char *user, char id[CRT_ID_LEN],
                       char poll[CRT_TOKEN_STRLEN + 1])
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_request q;
	approval_token(ctx, name, tok, &t);
	assert_int_equal(submit(ctx, tok, user, NULL, &c, &q, poll), CRT_OK);
	snprintf(id, CRT_ID_LEN, "%s", q.id);
	crt_request_clear(&q);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static long long rows_for(const char *table_where, const char *id)
{
	char sql[400];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s '%%%s%%'", table_where, id);
	return count(&ti, sql);
}

static void the_requester_cancels_with_the_poll_secret(void **s)
{
	char id[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1], sql[300];
	crt_request out, g;
	crt_token u;
	pending_of(ti.ctx, "cancel-poll", "alice", id, poll);
	long long certs = count(&ti, "SELECT count(*) FROM certificates");
	crt_request_canceller by = {.poll_secret = poll};

	assert_int_equal(crt_request_cancel(ti.ctx, id, &by, &out), CRT_OK);
	assert_int_equal(out.state, CRT_REQUEST_CANCELLED);
	assert_string_equal(out.decided_by, "alice");
	assert_true(out.decided_at > 0);
	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_CANCELLED);
	assert_string_equal(g.decided_by, "alice");
	assert_null(g.serial);
	/* the token stays used: single use */
	assert_int_equal(crt_token_get(ti.ctx, g.token_id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_USED);
	crt_token_clear(&u);
	crt_request_clear(&g);
	crt_request_clear(&out);
	assert_int_equal(count(&ti, "SELECT count(*) FROM certificates"), certs);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = 'request.cancel' AND "
	                           "object = '%s' AND actor = 'alice' AND detail LIKE "
	                           "'%%\"by\":\"pollSecret\"%%'", id);
	assert_int_equal(count(&ti, sql), 1);
	assert_int_equal(rows_for("events WHERE type = 'request.cancelled' AND body LIKE", id), 1);
	/* the poll secret still reads it, now cancelled */
	assert_int_equal(crt_request_poll(ti.ctx, id, poll, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_CANCELLED);
	crt_request_clear(&g);
}

static void a_cancelled_request_cannot_be_approved_or_denied(void **s)
{
	char id[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1];
	crt_request_canceller by = {.poll_secret = poll};
	crt_cert c;
	pending_of(ti.ctx, "cancel-then-approve", NULL, id, poll);
	assert_int_equal(crt_request_cancel(ti.ctx, id, &by, NULL), CRT_OK);
	long long certs = count(&ti, "SELECT count(*) FROM certificates");
	assert_int_equal(crt_request_approve(ti.ctx, id, "admin:test", &c), CRT_E_REQUEST_STATE);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "cancelled"));
	assert_int_equal(crt_request_deny(ti.ctx, id, "no", "admin:test"), CRT_E_REQUEST_STATE);
	assert_int_equal(count(&ti, "SELECT count(*) FROM certificates"), certs);
	assert_int_equal(rows_for("audit WHERE action IN ('request.approve', 'request.deny') AND "
	                          "object LIKE", id),
	                 0);
}

static void the_login_that_submitted_it_cancels_it_and_no_other(void **s)
{
	char id[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1];
	crt_request g;
	pending_of(ti.ctx, "cancel-login", "carol", id, poll);
	crt_request_canceller bob = {.user = "bob"}, carol = {.user = "carol"};

	/* another user's request reads like none */
	assert_int_equal(crt_request_cancel(ti.ctx, id, &bob, NULL), CRT_E_REQUEST_UNKNOWN);
	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_PENDING);
	crt_request_clear(&g);
	assert_int_equal(crt_request_cancel(ti.ctx, id, &carol, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_CANCELLED);
	assert_string_equal(g.decided_by, "carol");
	crt_request_clear(&g);
	assert_int_equal(rows_for("audit WHERE action = 'request.cancel' AND actor = 'carol' AND "
	                          "detail LIKE '%\"by\":\"login\"%' AND object LIKE",
	                          id),
	                 1);
	/* a request an admin submitted has no login to cancel it */
	pending_of(ti.ctx, "cancel-login-admin", NULL, id, poll);
	assert_int_equal(crt_request_cancel(ti.ctx, id, &carol, NULL), CRT_E_REQUEST_UNKNOWN);
}

static void attack_cancel_with_another_requests_poll_secret(void **s)
{
	char id[CRT_ID_LEN], other[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1],
	    poll2[CRT_TOKEN_STRLEN + 1];
	crt_request g;
	pending_of(ti.ctx, "cancel-attack-1", NULL, id, poll);
	pending_of(ti.ctx, "cancel-attack-2", NULL, other, poll2);
	crt_request_canceller wrong = {.poll_secret = poll2};
	assert_int_equal(crt_request_cancel(ti.ctx, id, &wrong, NULL), CRT_E_AUTH_FAILED);
	crt_request_canceller junk = {.poll_secret = "crq_nope"};
	assert_int_equal(crt_request_cancel(ti.ctx, id, &junk, NULL), CRT_E_AUTH_FAILED);
	/* an unknown id with a secret: the same answer as a wrong secret */
	crt_request_canceller mine = {.poll_secret = poll};
	assert_int_equal(crt_request_cancel(ti.ctx, "request-nope", &mine, NULL), CRT_E_AUTH_FAILED);
	assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
	assert_int_equal(g.state, CRT_REQUEST_PENDING);
	crt_request_clear(&g);
	assert_int_equal(rows_for("audit WHERE action = 'request.cancel' AND object LIKE", id), 0);
}

static void an_admin_cancels_as_itself(void **s)
{
	char id[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1];
	crt_request_canceller admin = {.actor = "apikey:test"};
	crt_request g;
	pending_of(ti.ctx, "cancel-admin", "dave", id, poll);
	assert_int_equal(crt_request_cancel(ti.ctx, id, &admin, &g), CRT_OK);
	assert_string_equal(g.decided_by, "apikey:test");
	crt_request_clear(&g);
	assert_int_equal(rows_for("audit WHERE action = 'request.cancel' AND actor = "
	                          "'apikey:test' AND object LIKE",
	                          id),
	                 1);
}

/* issued, denied, expired (stored or only due), cancelled: request_state,
 * and not a row changed. */
static void cancelling_a_request_no_longer_pending_is_request_state_and_changes_nothing(void **s)
{
	char id[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1], sql[300];
	crt_request_canceller by = {.poll_secret = poll};
	crt_request g;
	crt_cert c;
	size_t n;
	for (int k = 0; k < 5; k++) {
		pending_of(ti.ctx, "cancel-late", NULL, id, poll);
		int want = CRT_REQUEST_ISSUED;
		if (k == 0) {
			assert_int_equal(crt_request_approve(ti.ctx, id, "test", &c), CRT_OK);
			crt_cert_clear(&c);
		} else if (k == 1) {
			assert_int_equal(crt_request_deny(ti.ctx, id, "no", "test"), CRT_OK);
			want = CRT_REQUEST_DENIED;
		} else if (k == 2 || k == 3) {
			snprintf(sql, sizeof(sql),
			         "UPDATE certificate_requests SET expires_at = created_at - 1 WHERE "
			         "id = '%s'",
			         id);
			store_exec(&ti, sql);
			if (k == 3)
				assert_int_equal(crt_requests_expire(ti.ctx, "maintain", &n), CRT_OK);
			want = CRT_REQUEST_EXPIRED;
		} else {
			assert_int_equal(crt_request_cancel(ti.ctx, id, &by, NULL), CRT_OK);
			want = CRT_REQUEST_CANCELLED;
		}
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM certificate_requests WHERE id = '%s' AND state = %d", id,
		         k == 2 ? CRT_REQUEST_PENDING : want);
		long long audit = count(&ti, "SELECT count(*) FROM audit"),
		          events = count(&ti, "SELECT count(*) FROM events");
		assert_int_equal(crt_request_cancel(ti.ctx, id, &by, NULL), CRT_E_REQUEST_STATE);
		assert_int_equal(count(&ti, sql), 1);
		assert_int_equal(count(&ti, "SELECT count(*) FROM audit"), audit);
		assert_int_equal(count(&ti, "SELECT count(*) FROM events"), events);
		assert_int_equal(crt_request_get(ti.ctx, id, &g), CRT_OK);
		assert_int_equal(g.state, want);
		crt_request_clear(&g);
	}
}

static void listing_by_cancelled_lists_the_cancelled_ones(void **s)
{
	test_instance li;
	char id[CRT_ID_LEN], other[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1];
	crt_request_canceller by = {.poll_secret = poll};
	crt_request *list;
	size_t n;
	int64_t total;
	tu_instance(&li);
	pending_of(li.ctx, "c-1", "erin", other, poll);
	pending_of(li.ctx, "c-2", "erin", id, poll);
	assert_int_equal(crt_request_cancel(li.ctx, id, &by, NULL), CRT_OK);
	crt_request_filter f = {.state = CRT_REQUEST_CANCELLED};
	assert_int_equal(crt_request_list(li.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, id);
	assert_int_equal(list[0].state, CRT_REQUEST_CANCELLED);
	crt_request_list_free(list, n);
	crt_page pg;
	const char *why;
	assert_int_equal(crt_page_parse("1", "10", NULL, crt_request_sort_fields, 1, &pg, &why),
	                 CRT_OK);
	f.user = "erin";
	assert_int_equal(crt_request_page(li.ctx, &f, &pg, &list, &n, &total), CRT_OK);
	assert_int_equal(total, 1);
	assert_string_equal(list[0].id, id);
	crt_request_list_free(list, n);
	crt_request_filter p = {.state = CRT_REQUEST_PENDING};
	assert_int_equal(crt_request_list(li.ctx, &p, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, other);
	crt_request_list_free(list, n);
	crt_request_filter bad = {.state = REQUEST_STATE_LAST + 1};
	assert_int_equal(crt_request_list(li.ctx, &bad, &list, &n), CRT_E_INVALID_ARGUMENT);
	tu_instance_free(&li);
}

/* The store's guarded change: of two decisions on one pending row, made
 * from two sessions, the second changes nothing. */
static void the_second_decision_on_a_row_changes_nothing_in_the_store(void **s)
{
	char id[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1];
	crt_ctx *other;
	int changed = -1;
	pending_of(ti.ctx, "guarded", NULL, id, poll);
	assert_int_equal(crt_open(ti.conf, 0, &other), CRT_OK);
	store_request_change cancel = {.id = id, .to = CRT_REQUEST_CANCELLED, .now = crt_now(),
	                               .decided_by = "a"};
	store_request_change approve = {.id = id, .to = CRT_REQUEST_ISSUED, .now = crt_now(),
	                                .decided_by = "b", .serial = "00"};
	assert_int_equal(store_begin_write(other), CRT_OK);
	assert_int_equal(store_request_decide(other, &cancel, &changed), CRT_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(store_commit(other), CRT_OK);
	assert_int_equal(store_begin_write(ti.ctx), CRT_OK);
	assert_int_equal(store_request_decide(ti.ctx, &approve, &changed), CRT_OK);
	assert_int_equal(changed, 0);
	store_rollback(ti.ctx);
	crt_close(other);
}

#define RACES 12
static pthread_barrier_t race_barrier;
struct racer {
	const char *conf, *id, *poll;
	int cancel;
	crt_status r;
};

static void *race_one(void *arg)
{
	struct racer *a = arg;
	crt_ctx *ctx = NULL;
	crt_cert c;
	crt_status r = crt_open(a->conf, 0, &ctx);
	pthread_barrier_wait(&race_barrier);
	if (r == CRT_OK) {
		if (a->cancel) {
			crt_request_canceller by = {.poll_secret = a->poll};
			r = crt_request_cancel(ctx, a->id, &by, NULL);
		} else {
			r = crt_request_approve(ctx, a->id, "admin:race", &c);
			crt_cert_clear(&c);
		}
	}
	crt_close(ctx);
	a->r = r;
	return NULL;
}

/* Approve and cancel at once, each from its own session, RACES times:
 * every time exactly one wins, the other is request_state, and the store
 * holds the winner's change only (a certificate iff approve won). */
static void racing_approve_and_cancel_exactly_one_wins(void **s)
{
	char id[CRT_ID_LEN], poll[CRT_TOKEN_STRLEN + 1], sql[400];
	int approvals = 0;
	long long certs = count(&ti, "SELECT count(*) FROM certificates");
	for (int i = 0; i < RACES; i++) {
		pthread_t th[2];
		struct racer a[2];
		pending_of(ti.ctx, "race", NULL, id, poll);
		pthread_barrier_init(&race_barrier, NULL, 2);
		for (int k = 0; k < 2; k++) {
			a[k] = (struct racer){.conf = ti.conf, .id = id, .poll = poll, .cancel = k};
			assert_int_equal(pthread_create(&th[k], NULL, race_one, &a[k]), 0);
		}
		for (int k = 0; k < 2; k++)
			pthread_join(th[k], NULL);
		pthread_barrier_destroy(&race_barrier);
		if (!((a[0].r == CRT_OK && a[1].r == CRT_E_REQUEST_STATE) ||
		      (a[1].r == CRT_OK && a[0].r == CRT_E_REQUEST_STATE)))
			fail_msg("race %d: approve %s, cancel %s", i, crt_status_name(a[0].r),
			         crt_status_name(a[1].r));
		approvals += a[0].r == CRT_OK;
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM certificate_requests WHERE id = '%s' AND state = %d", id,
		         a[0].r == CRT_OK ? CRT_REQUEST_ISSUED : CRT_REQUEST_CANCELLED);
		assert_int_equal(count(&ti, sql), 1);
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM audit WHERE object = '%s' AND action IN "
		         "('request.approve', 'request.cancel')",
		         id);
		assert_int_equal(count(&ti, sql), 1);
	}
	assert_int_equal(count(&ti, "SELECT count(*) FROM certificates"), certs + approvals);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_token_needs_no_approval_unless_asked),
	    cmocka_unit_test(an_approval_other_than_required_or_none_is_refused),
	    cmocka_unit_test(the_approval_cannot_change_after_creation),
	    cmocka_unit_test(a_plain_redemption_of_an_approval_token_is_refused_and_spends_nothing),
	    cmocka_unit_test(a_generate_redemption_of_an_approval_token_is_refused),
	    cmocka_unit_test(a_submission_stores_a_pending_request_and_consumes_the_token),
	    cmocka_unit_test(a_second_redemption_of_a_requested_token_is_token_used),
	    cmocka_unit_test(the_owner_check_applies_at_submission),
	    cmocka_unit_test(approval_issues_the_certificate_the_redemption_would_have),
	    cmocka_unit_test(approving_twice_is_request_state_and_issues_nothing_more),
	    cmocka_unit_test(denying_an_issued_request_is_request_state),
	    cmocka_unit_test(a_denied_request_keeps_its_reason_and_cannot_be_approved),
	    cmocka_unit_test(a_denial_and_an_expiry_tell_the_tokens_owner),
	    cmocka_unit_test(a_denial_without_a_reason_is_refused_and_changes_nothing),
	    cmocka_unit_test(an_unknown_request_is_request_unknown),
	    cmocka_unit_test(the_poll_secret_reads_its_own_request_only),
	    cmocka_unit_test(a_pending_request_past_its_expiry_reads_expired_and_maintain_marks_it),
	    cmocka_unit_test(maintain_expires_pending_requests_and_reports_them),
	    cmocka_unit_test(listing_filters_by_state_and_requester),
	    cmocka_unit_test(a_profile_with_approval_required_makes_it_its_tokens_default),
	    cmocka_unit_test(a_key_the_profile_refuses_is_refused_at_submission_not_at_approval),
	    cmocka_unit_test(a_purge_keeps_the_token_of_a_pending_request),
	    cmocka_unit_test(the_requester_cancels_with_the_poll_secret),
	    cmocka_unit_test(a_cancelled_request_cannot_be_approved_or_denied),
	    cmocka_unit_test(the_login_that_submitted_it_cancels_it_and_no_other),
	    cmocka_unit_test(attack_cancel_with_another_requests_poll_secret),
	    cmocka_unit_test(an_admin_cancels_as_itself),
	    cmocka_unit_test(cancelling_a_request_no_longer_pending_is_request_state_and_changes_nothing),
	    cmocka_unit_test(listing_by_cancelled_lists_the_cancelled_ones),
	    cmocka_unit_test(the_second_decision_on_a_row_changes_nothing_in_the_store),
	    cmocka_unit_test(racing_approve_and_cancel_exactly_one_wins),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
