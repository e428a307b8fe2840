/*
 * test_selfservice.c — issue 12: a key generated on behalf of a token's
 * owner (crt_token_issue), the owner's own certificates (crt_my_certs,
 * crt_my_cert_revoke) and the kept PKCS#12 ([generate] keep_pkcs12,
 * crt_my_pkcs12). Backend-neutral (also run on PostgreSQL by t_pg_units).
 * The instance keeps PKCS#12 files: [generate] keep_pkcs12 = yes.
 */
#include "testutil.h"

static int setup(void **state)
{
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, "\n[generate]\nkeep_pkcs12 = yes\n");
	tu_open(&ti);
	return 0;
}

/* A token for owner (NULL: none); its id into id. */
static void token_for(const char *name, const char *owner, char id[CRT_ID_LEN])
{
	crt_token_spec spec = {.name = name, .owner = owner};
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;

	tu_token(ti.ctx, &spec, tok, &t);
	snprintf(id, CRT_ID_LEN, "%s", t.id);
	crt_token_clear(&t);
}

/* Issue token id for its owner with passphrase "pw": serial into serial. */
static crt_status issue(const char *id, crt_cert *c, unsigned char **p12, size_t *len)
{
	return crt_token_issue(ti.ctx, id, "ec-p256", "pw", CRT_P12_MODERN, "admin:test", c, p12,
	                       len, NULL);
}

static void issue_gives_the_certificate_to_the_owner_and_uses_the_token(void **s)
{
	char id[CRT_ID_LEN];
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c;
	crt_token t;

	token_for("issue-1", "alice", id);
	assert_int_equal(issue(id, &c, &p12, &len), CRT_OK);
	assert_non_null(p12);
	assert_string_equal(c.user, "alice");
	assert_int_equal(crt_token_get(ti.ctx, id, &t), CRT_OK);
	assert_int_equal(t.state, CRT_TOKEN_USED);
	assert_string_equal(t.serial, c.serial);
	crt_token_clear(&t);
	crt_freezero(p12, len);
	crt_cert_clear(&c);
}

static void a_used_token_issued_again_is_token_used(void **s)
{
	char id[CRT_ID_LEN];
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c;

	token_for("issue-2", "alice", id);
	assert_int_equal(issue(id, &c, &p12, &len), CRT_OK);
	crt_freezero(p12, len);
	crt_cert_clear(&c);
	assert_int_equal(issue(id, &c, &p12, &len), CRT_E_TOKEN_USED);
	assert_null(p12);
	assert_int_equal(issue("token-nope", &c, &p12, &len), CRT_E_TOKEN_NOT_FOUND);
}

static int has_serial(const crt_cert *list, size_t n, const char *serial)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].serial, serial) == 0)
			return 1;
	return 0;
}

static void my_certs_are_only_the_users_own(void **s)
{
	char a[CRT_ID_LEN], b[CRT_ID_LEN];
	unsigned char *p12 = NULL;
	size_t len = 0, n = 0;
	crt_cert ca, cb, *list = NULL;

	token_for("mine-a", "carol", a);
	token_for("mine-b", "dave", b);
	assert_int_equal(issue(a, &ca, &p12, &len), CRT_OK);
	crt_freezero(p12, len);
	assert_int_equal(issue(b, &cb, &p12, &len), CRT_OK);
	crt_freezero(p12, len);
	assert_int_equal(crt_my_certs(ti.ctx, "carol", &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_true(has_serial(list, n, ca.serial));
	assert_false(has_serial(list, n, cb.serial));
	crt_cert_list_free(list, n);
	assert_int_equal(crt_my_certs(ti.ctx, NULL, &list, &n), CRT_E_AUTH_REQUIRED);
	crt_cert_clear(&ca);
	crt_cert_clear(&cb);
}

/* A page of the user's certificates: the store cuts it, and the total
 * counts only theirs. */
static void my_cert_pages_hold_only_the_users_own(void **s)
{
	char id[CRT_ID_LEN], seen[3][72];
	unsigned char *p12 = NULL;
	size_t len = 0, n = 0, got = 0;
	int64_t total = -1;
	crt_cert c, *list = NULL;
	crt_page pg;

	for (int i = 0; i < 3; i++) {
		token_for("paged", "ida", id);
		assert_int_equal(issue(id, &c, &p12, &len), CRT_OK);
		crt_freezero(p12, len);
		crt_cert_clear(&c);
	}
	token_for("other", "jon", id);
	assert_int_equal(issue(id, &c, &p12, &len), CRT_OK);
	crt_freezero(p12, len);
	for (int page = 1; page <= 2; page++) {
		char num[8];
		snprintf(num, sizeof(num), "%d", page);
		assert_int_equal(crt_page_parse(num, "2", "serial", crt_cert_sort_fields, 1, &pg, NULL),
		                 CRT_OK);
		assert_int_equal(crt_my_cert_page(ti.ctx, "ida", &pg, &list, &n, &total), CRT_OK);
		assert_int_equal(total, 3);
		assert_int_equal(n, page == 1 ? 2 : 1);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(list[i].user, "ida");
			assert_string_not_equal(list[i].serial, c.serial);
			snprintf(seen[got++], sizeof(seen[0]), "%s", list[i].serial);
		}
		crt_cert_list_free(list, n);
	}
	assert_int_equal(got, 3);
	assert_true(strcmp(seen[0], seen[1]) < 0 && strcmp(seen[1], seen[2]) < 0); /* by serial */
	assert_int_equal(crt_my_cert_page(ti.ctx, NULL, &pg, &list, &n, &total), CRT_E_AUTH_REQUIRED);
	crt_cert_clear(&c);
}

static void attack_me_revoke_other_users_cert(void **s)
{
	char a[CRT_ID_LEN], other[sizeof(((crt_cert *)0)->serial) + 64], none[512];
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c, got;

	token_for("victim", "erin", a);
	assert_int_equal(issue(a, &c, &p12, &len), CRT_OK);
	crt_freezero(p12, len);
	assert_int_equal(crt_my_cert_revoke(ti.ctx, "mallory", c.serial, CRT_REASON_KEY_COMPROMISE,
	                                    NULL),
	                 CRT_E_CERT_NOT_FOUND);
	snprintf(other, sizeof(other), "%s", crt_errdetail(ti.ctx));
	assert_int_equal(crt_my_cert_revoke(ti.ctx, "mallory", "0123456789abcdef",
	                                    CRT_REASON_KEY_COMPROMISE, NULL),
	                 CRT_E_CERT_NOT_FOUND);
	snprintf(none, sizeof(none), "%s", crt_errdetail(ti.ctx));
	assert_string_equal(other, none); /* nothing tells the two apart */
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_int_equal(got.revoked, 0);
	crt_cert_clear(&got);
	crt_cert_clear(&c);
}

static void a_user_revokes_their_own_with_two_reasons_only(void **s)
{
	char a[CRT_ID_LEN];
	unsigned char *p12 = NULL;
	size_t len = 0;
	crt_cert c, got;

	token_for("own", "frank", a);
	assert_int_equal(issue(a, &c, &p12, &len), CRT_OK);
	crt_freezero(p12, len);
	assert_int_equal(crt_my_cert_revoke(ti.ctx, "frank", c.serial, 4 /* superseded */, NULL),
	                 CRT_E_REASON_INVALID);
	assert_int_equal(crt_my_cert_revoke(ti.ctx, "frank", c.serial, CRT_REASON_CESSATION, NULL),
	                 CRT_OK);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_int_equal(got.revoked, 1);
	assert_int_equal(got.reason, CRT_REASON_CESSATION);
	crt_cert_clear(&got);
	assert_int_equal(crt_my_cert_revoke(ti.ctx, "frank", c.serial, CRT_REASON_CESSATION, NULL),
	                 CRT_E_CERT_REVOKED);
	crt_cert_clear(&c);
}

static void the_kept_pkcs12_is_downloaded_by_its_owner_only_until_revoked(void **s)
{
	char a[CRT_ID_LEN];
	unsigned char *p12 = NULL, *again = NULL;
	size_t len = 0, alen = 0, n = 0;
	char(*kept)[72] = NULL;
	crt_cert c;

	token_for("kept", "gina", a);
	assert_int_equal(issue(a, &c, &p12, &len), CRT_OK);
	assert_int_equal(crt_my_pkcs12_kept(ti.ctx, "gina", &kept, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(kept[0], c.serial);
	free(kept);
	assert_int_equal(crt_my_pkcs12(ti.ctx, "gina", c.serial, "192.0.2.1", &again, &alen),
	                 CRT_OK);
	assert_int_equal(alen, len);
	assert_memory_equal(again, p12, len);
	crt_freezero(again, alen);
	/* attack_me_download_other_users_pkcs12 */
	assert_int_equal(crt_my_pkcs12(ti.ctx, "mallory", c.serial, NULL, &again, &alen),
	                 CRT_E_CERT_NOT_FOUND);
	assert_null(again);
	assert_int_equal(crt_my_cert_revoke(ti.ctx, "gina", c.serial, CRT_REASON_KEY_COMPROMISE,
	                                    NULL),
	                 CRT_OK);
	assert_int_equal(crt_my_pkcs12(ti.ctx, "gina", c.serial, NULL, &again, &alen),
	                 CRT_E_PKCS12_NOT_KEPT);
	assert_int_equal(crt_my_pkcs12_kept(ti.ctx, "gina", &kept, &n), CRT_OK);
	assert_int_equal(n, 0);
	free(kept);
	crt_freezero(p12, len);
	crt_cert_clear(&c);
}

static void a_csr_redemption_keeps_no_pkcs12(void **s)
{
	crt_token_spec spec = {.name = "csr", .owner = "hank"};
	char tok[CRT_TOKEN_STRLEN + 1], *csr;
	unsigned char *p12 = NULL;
	size_t len, plen = 0;
	crt_token t;
	crt_cert c;

	tu_token(ti.ctx, &spec, tok, &t);
	csr = tu_csr("ec-p256", &len);
	crt_redeem_req req = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
	                      .user = "hank", .actor = "hank"};
	assert_int_equal(crt_redeem(ti.ctx, &req, &c), CRT_OK);
	free(csr);
	assert_int_equal(crt_my_pkcs12(ti.ctx, "hank", c.serial, NULL, &p12, &plen),
	                 CRT_E_PKCS12_NOT_KEPT);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(issue_gives_the_certificate_to_the_owner_and_uses_the_token),
	    cmocka_unit_test(a_used_token_issued_again_is_token_used),
	    cmocka_unit_test(my_certs_are_only_the_users_own),
	    cmocka_unit_test(my_cert_pages_hold_only_the_users_own),
	    cmocka_unit_test(attack_me_revoke_other_users_cert),
	    cmocka_unit_test(a_user_revokes_their_own_with_two_reasons_only),
	    cmocka_unit_test(the_kept_pkcs12_is_downloaded_by_its_owner_only_until_revoked),
	    cmocka_unit_test(a_csr_redemption_keeps_no_pkcs12),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
