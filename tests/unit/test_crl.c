/*
 * test_crl.c — the CRL as the library publishes it: one call
 * (crt_crl_current) that serves the stored CRL and re-signs only when the
 * freshness rule (crt_crl_stale) says so, revocation publishing in the same
 * call, and the rule itself as a function of values.
 */
#include "testutil.h"
#include <sys/stat.h>

static void issue(crt_ctx *ctx, const char *name, crt_cert *c)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = name};
	tu_token(ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ctx, tok, c), CRT_OK);
	crt_token_clear(&t);
}

static long long db_int(test_instance *t, const char *sql)
{
	char db[512];
	tu_db_path(t, db, sizeof(db));
	return tu_sql_int(db, sql);
}

/* Does the CRL (DER) list serial? */
static int crl_lists(const crt_crl *c, const char *serial)
{
	const unsigned char *p = c->der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)c->der_len);
	STACK_OF(X509_REVOKED) * rv;
	int found = 0;
	assert_non_null(crl);
	rv = X509_CRL_get_REVOKED(crl);
	for (int i = 0; i < sk_X509_REVOKED_num(rv) && !found; i++) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(
		    X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rv, i)), NULL);
		char *hex = BN_bn2hex(bn), norm[72];
		assert_int_equal(crt_serial_normalize(hex, norm, sizeof(norm)), CRT_OK);
		found = strcmp(norm, serial) == 0;
		OPENSSL_free(hex);
		BN_free(bn);
	}
	X509_CRL_free(crl);
	return found;
}

/* ------------------------------------------------------------------ the rule */

static const crt_crl_meta fresh_meta = {.number = 7,
                                        .this_update = 1000000,
                                        .next_update = 1000000 + 7 * 86400,
                                        .revocations = 3,
                                        .ca_sha256 = "aa"};

static void the_rule_keeps_a_fresh_crl(void **s)
{
	const char *why = "x";
	assert_false(crt_crl_stale(&fresh_meta, 3, "aa", 1000000 + 86400, &why));
	assert_null(why);
	assert_false(crt_crl_stale(&fresh_meta, 2, NULL, 1000000, NULL));
}

static void the_rule_re_signs_when_none_was_published(void **s)
{
	const char *why;
	assert_true(crt_crl_stale(NULL, 0, "aa", 1000000, &why));
	assert_string_equal(why, "none published");
}

static void the_rule_re_signs_for_a_newer_revocation(void **s)
{
	const char *why;
	assert_true(crt_crl_stale(&fresh_meta, 4, "aa", 1000001, &why));
	assert_string_equal(why, "newer revocation");
}

static void the_rule_re_signs_a_crl_of_another_ca(void **s)
{
	const char *why;
	assert_true(crt_crl_stale(&fresh_meta, 3, "bb", 1000001, &why));
	assert_string_equal(why, "signed by another CA");
}

static void the_rule_re_signs_in_the_last_quarter_before_next_update(void **s)
{
	const char *why;
	int64_t quarter = (fresh_meta.next_update - fresh_meta.this_update) / 4;
	assert_false(
	    crt_crl_stale(&fresh_meta, 3, "aa", fresh_meta.next_update - quarter - 1, NULL));
	assert_true(crt_crl_stale(&fresh_meta, 3, "aa", fresh_meta.next_update - quarter, &why));
	assert_string_equal(why, "nextUpdate near");
	assert_true(crt_crl_stale(&fresh_meta, 3, "aa", fresh_meta.next_update + 1, NULL));
}

/* ------------------------------------------------------------------ publishing */

/*
 * The attack: GET /crl is public; with crl_file unwritable, every request
 * used to re-sign, bump the CRL number and write an audit row. Now a
 * hundred reads of a fresh CRL change nothing in the store.
 */
static void a_hundred_reads_with_an_unwritable_crl_file_re_sign_nothing(void **s)
{
	test_instance t;
	crt_crl c;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[ca]\ncrl_file = /nonexistent/dir/crl.pem\n");
	tu_open(&t);
	assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &c), CRT_OK);
	assert_true(c.resigned); /* the first one: none was published */
	assert_false(c.file_written);
	assert_int_equal(c.file_status, CRT_E_IO);
	int64_t number = c.meta.number;
	crt_crl_clear(&c);
	long long audits = db_int(&t, "SELECT count(*) FROM audit");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &c), CRT_OK);
		assert_false(c.resigned);
		assert_int_equal(c.meta.number, number);
		assert_non_null(strstr(c.pem, "BEGIN X509 CRL"));
		crt_crl_clear(&c);
	}
	assert_int_equal(db_int(&t, "SELECT value FROM meta WHERE key = 'crl_number'"), number);
	assert_int_equal(db_int(&t, "SELECT count(*) FROM audit"), audits);
	tu_instance_free(&t);
}

static void a_revocation_publishes_a_crl_listing_it_in_the_same_call(void **s)
{
	test_instance t;
	crt_cert c;
	crt_crl pub, cur;
	char file[600];
	tu_instance(&t);
	issue(t.ctx, "revoked", &c);
	assert_int_equal(crt_cert_revoke(t.ctx, c.serial, 1, "admin", &pub), CRT_OK);
	assert_true(pub.resigned);
	assert_true(pub.file_written);
	assert_true(crl_lists(&pub, c.serial));
	/* the file holds it ... */
	snprintf(file, sizeof(file), "%s/crl.pem", t.dir);
	char *data = NULL;
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	size_t cap = 0;
	assert_true(getdelim(&data, &cap, '\0', f) > 0);
	fclose(f);
	assert_string_equal(data, pub.pem);
	free(data);
	/* ... and reading it afterwards re-signs nothing */
	assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &cur), CRT_OK);
	assert_false(cur.resigned);
	assert_int_equal(cur.meta.number, pub.meta.number);
	assert_int_equal(db_int(&t, "SELECT count(*) FROM audit WHERE action = 'crl.generate'"), 1);
	assert_int_equal(db_int(&t, "SELECT count(*) FROM audit WHERE action = 'cert.revoke'"), 1);
	crt_crl_clear(&pub);
	crt_crl_clear(&cur);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

/* A revocation recorded without the CA key (nothing signed) and another in
 * the same second: the next read re-signs once and lists both. */
static void revocations_in_one_second_without_the_ca_key_reach_the_next_crl(void **s)
{
	test_instance t;
	crt_ctx *noca;
	crt_cert a, b;
	crt_crl first, cur;
	tu_instance(&t);
	issue(t.ctx, "a", &a);
	issue(t.ctx, "b", &b);
	assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &first), CRT_OK);
	assert_int_equal(crt_open(t.conf, CRT_OPEN_NO_CA, &noca), CRT_OK);
	assert_int_equal(crt_cert_revoke(noca, a.serial, 0, "admin", NULL), CRT_OK);
	assert_int_equal(crt_cert_revoke(noca, b.serial, 0, "admin", NULL), CRT_OK);
	/* without the key the stale CRL cannot be re-signed: said so, not served stale */
	assert_int_equal(crt_crl_current(noca, 0, "reader", &cur), CRT_E_CA_MISSING);
	assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &cur), CRT_OK);
	assert_true(cur.resigned);
	assert_int_equal(cur.meta.number, first.meta.number + 1);
	assert_true(crl_lists(&cur, a.serial));
	assert_true(crl_lists(&cur, b.serial));
	crt_crl_clear(&cur);
	assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &cur), CRT_OK);
	assert_false(cur.resigned);
	crt_crl_clear(&cur);
	crt_crl_clear(&first);
	crt_close(noca);
	crt_cert_clear(&a);
	crt_cert_clear(&b);
	tu_instance_free(&t);
}

static void a_ca_swap_re_signs_the_crl_with_the_new_ca(void **s)
{
	test_instance t, other;
	crt_crl before, after;
	crt_ca_info ci;
	char cert2[600], key2[600];
	tu_instance(&t);
	tu_instance_init(&other, "ec-p384");
	snprintf(cert2, sizeof(cert2), "%s/ca.pem", other.dir);
	snprintf(key2, sizeof(key2), "%s/ca.key", other.dir);
	assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &before), CRT_OK);
	assert_int_equal(crt_ca_import(t.ctx, cert2, key2, NULL, "admin"), CRT_OK);
	assert_int_equal(crt_crl_current(t.ctx, 0, "reader", &after), CRT_OK);
	assert_true(after.resigned);
	assert_int_equal(after.meta.number, before.meta.number + 1);
	assert_int_equal(crt_ca_get(t.ctx, &ci), CRT_OK);
	X509 *ca = tu_x509(ci.pem);
	const unsigned char *p = after.der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)after.der_len);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	X509_CRL_free(crl);
	X509_free(ca);
	crt_ca_info_clear(&ci);
	crt_crl_clear(&before);
	crt_crl_clear(&after);
	tu_instance_free(&other);
	tu_instance_free(&t);
}

static void force_re_signs_a_fresh_crl(void **s)
{
	test_instance t;
	crt_crl a, b;
	tu_instance(&t);
	assert_int_equal(crt_crl_current(t.ctx, 0, "admin", &a), CRT_OK);
	assert_int_equal(crt_crl_current(t.ctx, CRT_CRL_FORCE, "admin", &b), CRT_OK);
	assert_true(b.resigned);
	assert_int_equal(b.meta.number, a.meta.number + 1);
	crt_crl_clear(&a);
	crt_crl_clear(&b);
	tu_instance_free(&t);
}

/* The freshness question is one step down an index, not a walk over every
 * revoked certificate: the query the library asks, as SQLite plans it. */
static void the_newest_revocation_is_an_indexed_lookup(void **s)
{
	test_instance t;
	char db[512];
	sqlite3 *h;
	sqlite3_stmt *st;
	int indexed = 0;
	tu_instance(&t);
	tu_db_path(&t, db, sizeof(db));
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h,
	                                    "EXPLAIN QUERY PLAN SELECT max(revoked_seq) FROM "
	                                    "certificates",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		if (strstr(d, "USING COVERING INDEX certificates_revoked_seq") != NULL)
			indexed = 1;
		assert_null(strstr(d, "SCAN"));
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	assert_true(indexed);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_rule_keeps_a_fresh_crl),
	    cmocka_unit_test(the_rule_re_signs_when_none_was_published),
	    cmocka_unit_test(the_rule_re_signs_for_a_newer_revocation),
	    cmocka_unit_test(the_rule_re_signs_a_crl_of_another_ca),
	    cmocka_unit_test(the_rule_re_signs_in_the_last_quarter_before_next_update),
	    cmocka_unit_test(a_hundred_reads_with_an_unwritable_crl_file_re_sign_nothing),
	    cmocka_unit_test(a_revocation_publishes_a_crl_listing_it_in_the_same_call),
	    cmocka_unit_test(revocations_in_one_second_without_the_ca_key_reach_the_next_crl),
	    cmocka_unit_test(a_ca_swap_re_signs_the_crl_with_the_new_ca),
	    cmocka_unit_test(force_re_signs_a_fresh_crl),
	    cmocka_unit_test(the_newest_revocation_is_an_indexed_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
