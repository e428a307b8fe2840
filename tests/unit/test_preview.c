/*
 * test_preview.c — crt_redeem_preview: what a redemption would issue, with
 * the redemption's own refusals, consuming and issuing nothing, audited.
 * Backend-neutral (also run on PostgreSQL by t_pg_units).
 */
#include "testutil.h"

static char *tok_for(const crt_token_spec *spec, crt_token *t)
{
	static char tok[CRT_TOKEN_STRLEN + 1];
	tu_token(ti.ctx, spec, tok, t);
	return tok;
}

static crt_status preview_as(const char *tok, const char *user, const char *org, crt_preview *p)
{
	crt_redeem_req req = {.token = tok, .user = user, .org = org, .actor = user ? user : "t",
			      .remote = "192.0.2.7"};
	return crt_redeem_preview(ti.ctx, &req, p);
}

static int audit_count(const char *action, const char *object)
{
	char db[512], sql[256];
	tu_db_path(&ti, db, sizeof(db));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = '%s' AND object = '%s'",
		 action, object);
	return tu_sql_int(db, sql);
}

static void the_preview_shows_what_the_redemption_issues(void **s)
{
	crt_token t;
	crt_preview p;
	crt_cert c;
	crt_token_spec spec = {.name = "laptop", .cn = "alice-laptop", .org = "Example"};
	char *tok = tok_for(&spec, &t);

	assert_int_equal(preview_as(tok, NULL, NULL, &p), CRT_OK);
	assert_string_equal(p.token_id, t.id);
	assert_string_equal(p.name, "laptop");
	assert_string_equal(p.cn, "alice-laptop");
	assert_string_equal(p.org, "Example");
	assert_null(p.ou);
	assert_null(p.owner);
	assert_int_equal(p.may_change, crt_token_overridable(&t));
	assert_int_equal(p.cert_days, 365);
	assert_int_equal(p.token_expires_at, t.expires_at);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_string_equal(c.subject, p.subject);
	/* the same validity rule (back-dated, cert_days, never past the CA) */
	assert_true(c.not_after >= p.not_after && c.not_after - p.not_after < 60);
	assert_true(c.not_before >= p.not_before && c.not_before - p.not_before < 60);
	crt_cert_clear(&c);
	crt_preview_clear(&p);
	crt_token_clear(&t);
}

static void a_preview_consumes_nothing(void **s)
{
	crt_token t, after;
	crt_preview p;
	crt_token_spec spec = {.name = "twice"};
	char *tok = tok_for(&spec, &t);

	for (int i = 0; i < 3; i++) {
		assert_int_equal(preview_as(tok, NULL, NULL, &p), CRT_OK);
		crt_preview_clear(&p);
	}
	assert_int_equal(crt_token_get(ti.ctx, t.id, &after), CRT_OK);
	assert_int_equal(after.state, CRT_TOKEN_ACTIVE);
	assert_int_equal(after.version, t.version);
	assert_null(after.serial);
	crt_token_clear(&after);
	crt_token_clear(&t);
}

static void an_allowed_override_shows_and_a_forbidden_one_is_refused(void **s)
{
	crt_token t;
	crt_preview p;
	crt_token_spec spec = {.name = "ovr", .cn = "bob-phone", .owner = "bob"};
	char *tok = tok_for(&spec, &t);

	assert_int_equal(preview_as(tok, "bob", "Lab", &p), CRT_OK);
	assert_string_equal(p.subject, "/O=Lab/CN=bob-phone");
	assert_string_equal(p.owner, "bob");
	assert_false(p.may_change & CRT_FIELD_CN); /* an owner's CN is fixed */
	assert_true(p.may_change & CRT_FIELD_O);
	crt_preview_clear(&p);
	crt_redeem_req req = {.token = tok, .user = "bob", .cn = "mallory", .actor = "bob"};
	assert_int_equal(crt_redeem_preview(ti.ctx, &req, &p), CRT_E_FIELD_LOCKED);
	assert_null(p.subject);
	crt_token_clear(&t);
}

static void the_preview_refuses_with_the_redemptions_codes(void **s)
{
	crt_token used, owned, gone;
	crt_preview p;
	crt_cert c;
	crt_token_spec s1 = {.name = "used"}, s2 = {.name = "owned", .owner = "alice"},
		       s3 = {.name = "gone"};
	char tused[CRT_TOKEN_STRLEN + 1], towned[CRT_TOKEN_STRLEN + 1], tgone[CRT_TOKEN_STRLEN + 1];

	tu_token(ti.ctx, &s1, tused, &used);
	tu_token(ti.ctx, &s2, towned, &owned);
	tu_token(ti.ctx, &s3, tgone, &gone);
	assert_int_equal(tu_redeem(ti.ctx, tused, &c), CRT_OK);
	crt_cert_clear(&c);
	assert_int_equal(crt_token_delete(ti.ctx, gone.id, "t"), CRT_OK);

	assert_int_equal(preview_as(tused, NULL, NULL, &p), CRT_E_TOKEN_USED);
	assert_int_equal(preview_as(tgone, NULL, NULL, &p), CRT_E_TOKEN_DELETED);
	assert_int_equal(preview_as(towned, "bob", NULL, &p), CRT_E_TOKEN_OWNER);
	assert_int_equal(preview_as(towned, NULL, NULL, &p), CRT_E_TOKEN_OWNER);
	assert_int_equal(preview_as("crt_nope", NULL, NULL, &p), CRT_E_TOKEN_MISTYPED);
	assert_int_equal(preview_as("hello", NULL, NULL, &p), CRT_E_TOKEN_MALFORMED);
	towned[20] = towned[20] == 'A' ? 'B' : 'A';
	assert_int_equal(preview_as(towned, "alice", NULL, &p), CRT_E_TOKEN_MISTYPED);
	assert_null(p.name);
	/* each refusal has its own row, named for the preview */
	assert_int_equal(audit_count("token.preview_refused", used.id), 1);
	assert_int_equal(audit_count("token.preview_refused", gone.id), 1);
	assert_int_equal(audit_count("token.preview_refused", owned.id), 2);
	assert_int_equal(audit_count("token.redeem_refused", owned.id), 0);
	crt_token_clear(&used);
	crt_token_clear(&owned);
	crt_token_clear(&gone);
}

static void a_preview_is_audited_with_user_and_address(void **s)
{
	crt_token t;
	crt_preview p;
	crt_token_spec spec = {.name = "seen", .owner = "carol"};
	char *tok = tok_for(&spec, &t);
	char db[512], sql[320];

	assert_int_equal(preview_as(tok, "carol", NULL, &p), CRT_OK);
	crt_preview_clear(&p);
	tu_db_path(&ti, db, sizeof(db));
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM audit WHERE action = 'token.preview' AND object = '%s'"
		 " AND actor = 'carol' AND detail LIKE '%%\"user\":\"carol\"%%'"
		 " AND detail LIKE '%%\"remote\":\"192.0.2.7\"%%'",
		 t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	crt_token_clear(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_preview_shows_what_the_redemption_issues),
		cmocka_unit_test(a_preview_consumes_nothing),
		cmocka_unit_test(an_allowed_override_shows_and_a_forbidden_one_is_refused),
		cmocka_unit_test(the_preview_refuses_with_the_redemptions_codes),
		cmocka_unit_test(a_preview_is_audited_with_user_and_address),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
