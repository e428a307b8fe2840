/*
 * test_cert.c — issued certificates after redemption: serial normalisation,
 * the admission rule (crt_cert_authorize) used by rlm_crtoken, revocation,
 * listing filters and the CRL.
 */
#include "testutil.h"
#include <ctype.h>
#include <jansson.h>
#include <openssl/x509v3.h>


static void issue(const char *name, crt_cert *c)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = name};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, c), CRT_OK);
	crt_token_clear(&t);
}

static void serials_normalise_to_the_freeradius_form(void **s)
{
	char out[72];
	assert_int_equal(crt_serial_normalize("0A:1b:FF", out, sizeof(out)), CRT_OK);
	assert_string_equal(out, "0a1bff");
	assert_int_equal(crt_serial_normalize("0x102", out, sizeof(out)), CRT_OK);
	assert_string_equal(out, "0102");
	assert_int_equal(crt_serial_normalize("00:80:01", out, sizeof(out)), CRT_OK);
	assert_string_equal(out, "8001"); /* DER sign padding dropped */
	assert_int_equal(crt_serial_normalize("00", out, sizeof(out)), CRT_OK);
	assert_string_equal(out, "00");
	assert_int_equal(crt_serial_normalize("xyz", out, sizeof(out)), CRT_E_SERIAL_INVALID);
	assert_int_equal(crt_serial_normalize("", out, sizeof(out)), CRT_E_SERIAL_INVALID);
	assert_int_equal(crt_serial_normalize("12'; DROP TABLE x;--", out, sizeof(out)),
			 CRT_E_SERIAL_INVALID);
	char longhex[200];
	memset(longhex, 'a', sizeof(longhex) - 1);
	longhex[sizeof(longhex) - 1] = '\0';
	assert_int_equal(crt_serial_normalize(longhex, out, sizeof(out)), CRT_E_SERIAL_INVALID);
}

static crt_status authorize(const crt_presented *p, int64_t now)
{
	return crt_cert_authorize(ti.ctx, p, now, NULL);
}

static void an_issued_certificate_is_admitted(void **s)
{
	crt_cert c;
	tu_presented_buf pb;
	issue("admit", &c);
	crt_presented *p = tu_presented(&c, &pb);
	assert_int_equal(authorize(p, crt_now()), CRT_OK);
	char upper[80];
	for (size_t i = 0; i <= strlen(c.serial); i++)
		upper[i] = (char)toupper((unsigned char)c.serial[i]);
	p->serial = upper;
	p->issuer = NULL; /* the module's issuer_attribute = "" */
	assert_int_equal(authorize(p, crt_now()), CRT_OK);
	crt_cert_clear(&c);
}

static void issued_certificates_store_their_key_identifiers(void **s)
{
	crt_cert c, again;
	issue("keyids", &c);
	X509 *x = tu_x509(c.pem);
	char *ski = NULL;
	const ASN1_OCTET_STRING *id = X509_get0_subject_key_id(x);
	assert_non_null(id);
	ski = OPENSSL_buf2hexstr(ASN1_STRING_get0_data(id), ASN1_STRING_length(id));
	char plain[200];
	size_t o = 0;
	for (const char *q = ski; *q; q++)
		if (*q != ':')
			plain[o++] = (char)tolower((unsigned char)*q);
	plain[o] = '\0';
	assert_string_equal(c.ski, plain);
	assert_non_null(c.aki);
	assert_int_equal(strlen(c.cert_sha256), 64);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &again), CRT_OK);
	assert_string_equal(again.ski, c.ski);
	assert_string_equal(again.aki, c.aki);
	assert_string_equal(again.cert_sha256, c.cert_sha256);
	OPENSSL_free(ski);
	X509_free(x);
	crt_cert_clear(&again);
	crt_cert_clear(&c);
}

static void unknown_serials_are_not_found(void **s)
{
	crt_presented p = {.serial = "0102030405", .ski = "AA", .aki = "BB",
			   .not_before = "260101000000Z", .not_after = "270101000000Z"};
	assert_int_equal(authorize(&p, crt_now()), CRT_E_CERT_NOT_FOUND);
	p.serial = "zz";
	assert_int_equal(authorize(&p, crt_now()), CRT_E_SERIAL_INVALID);
	p.serial = NULL;
	assert_int_equal(authorize(&p, crt_now()), CRT_E_SERIAL_INVALID);
	assert_int_equal(authorize(NULL, crt_now()), CRT_E_SERIAL_INVALID);
}

static void another_issuer_is_rejected(void **s)
{
	crt_cert c;
	tu_presented_buf pb;
	issue("issuer", &c);
	crt_presented *p = tu_presented(&c, &pb);
	p->issuer = "/CN=Evil CA";
	assert_int_equal(authorize(p, crt_now()), CRT_E_CERT_WRONG_ISSUER);
	crt_cert_clear(&c);
}

static void expiry_and_not_yet_valid_are_rejected(void **s)
{
	crt_cert c;
	tu_presented_buf pb;
	issue("time", &c);
	crt_presented *p = tu_presented(&c, &pb);
	assert_int_equal(authorize(p, c.not_after + 1), CRT_E_CERT_EXPIRED);
	assert_int_equal(authorize(p, c.not_before - 1), CRT_E_CERT_NOT_YET_VALID);
	crt_cert_clear(&c);
}

/* ---- the admission rule on values (no store): crt_cert_admit */

/* A stored row as cert.c keeps it, and what FreeRADIUS presents of it. */
static crt_cert stored_row(void)
{
	crt_cert c;
	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "%s", "63164eb03d168f4463adc3cb2ac572c1");
	c.issuer = "/CN=crtoken CA/O=Corp";
	c.ski = "2d11240918ebfa57cce718ec3d61a41406fe0a1f";
	c.aki = "a7611319f5a810b5500c90f8692fff78b2ff999d";
	c.not_before = 1796116353; /* 2026-12-01T09:12:33Z */
	c.not_after = 1827652653;  /* 2027-12-01T09:17:33Z */
	return c;
}
static crt_presented presented_row(void)
{
	return (crt_presented){
		.serial = "63164eb03d168f4463adc3cb2ac572c1",
		.issuer = "/CN=crtoken CA/O=Corp",
		.ski = "2D:11:24:09:18:EB:FA:57:CC:E7:18:EC:3D:61:A4:14:06:FE:0A:1F",
		.aki = "A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99:9D",
		.not_before = "261201091233Z",
		.not_after = "271201091733Z",
	};
}
#define NOW 1800000000 /* inside the row's validity */

static void the_stored_certificate_as_freeradius_presents_it_is_admitted(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	const char *why = "x";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, &why), CRT_OK);
	assert_string_equal(why, "");
	/* Other spellings of the same identifiers and times. */
	p.aki = "keyid:A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99:9D\n";
	p.ski = "2d11240918ebfa57cce718ec3d61a41406fe0a1f";
	p.not_after = "20271201091733Z";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_OK);
}

/* H1: a sub-CA under a sibling intermediate with crtoken's CA DN signs a
 * certificate with a stored serial. Name and serial match; the key that
 * signed it does not. */
static void forged_sibling_intermediate_same_dn_and_serial_rejected(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	const char *why = NULL;
	p.aki = "5E:9A:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:02";
	p.ski = "0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, &why), CRT_E_CERT_WRONG_ISSUER);
	assert_non_null(strstr(why, "Authority Key Identifier"));
	/* Even when the stored certificate was revoked: the forgery is told
	 * apart first and learns nothing of the victim's state. */
	c.revoked = 1;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_WRONG_ISSUER);
}

static void copied_serial_and_issuer_key_with_another_subject_key_rejected(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	p.ski = "0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F:0F";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
}

static void missing_key_identifiers_fail_closed(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	const char *why = NULL;
	p.aki = NULL;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, &why), CRT_E_CERT_MISMATCH);
	assert_non_null(strstr(why, "no Authority Key Identifier"));
	p = presented_row();
	p.ski = NULL;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, &why), CRT_E_CERT_MISMATCH);
	assert_non_null(strstr(why, "no Subject Key Identifier"));
	p = presented_row();
	p.not_before = NULL;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
	p = presented_row();
	p.not_after = NULL;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
	p = presented_row();
	p.ski = "";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
}

static void a_stored_row_without_key_identifiers_admits_nothing(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	c.ski = NULL;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
	assert_int_equal(crt_cert_check_status(&c, NOW, NULL), CRT_E_CERT_MISMATCH);
	c = stored_row();
	c.aki = NULL;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
}

static void key_identifiers_that_are_not_plain_key_ids_are_refused(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	/* An AKI that also names an issuer and serial, a prefix of the right
	 * one, a trailing colon, junk after it. */
	const char *bad[] = {
		"keyid:A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99:9D, "
		"DirName:/CN=Corp Root, serial:01",
		"A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99",
		"A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99:9D:",
		"A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99:9D0",
		"A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99:9D x",
		"A7::61",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.aki = bad[i];
		assert_int_not_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_OK);
	}
}

static void a_validity_other_than_the_stored_one_is_refused(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	p.not_before = "261201091234Z";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
	p = presented_row();
	p.not_after = "991231235959Z";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
	p = presented_row();
	p.not_after = "tomorrow";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_MISMATCH);
}

static void the_stored_status_decides_after_the_match(void **s)
{
	crt_cert c = stored_row();
	crt_presented p = presented_row();
	assert_int_equal(crt_cert_admit(&p, &c, c.not_before - 1, NULL), CRT_E_CERT_NOT_YET_VALID);
	assert_int_equal(crt_cert_admit(&p, &c, c.not_after + 1, NULL), CRT_E_CERT_EXPIRED);
	c.revoked = 1;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_REVOKED);
	p.serial = "63164eb03d168f4463adc3cb2ac572c2";
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_NOT_FOUND);
}

static void revocation_is_immediate_and_recorded(void **s)
{
	crt_cert c, again;
	issue("revoke", &c);
	assert_int_equal(crt_cert_revoke(ti.ctx, c.serial, crt_reason_parse("keyCompromise"), "t", NULL),
			 CRT_OK);
	tu_presented_buf pb;
	assert_int_equal(authorize(tu_presented(&c, &pb), crt_now()), CRT_E_CERT_REVOKED);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "keyCompromise"));
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &again), CRT_OK);
	assert_int_equal(again.status, CRT_CERT_REVOKED);
	assert_int_equal(again.reason, 1);
	assert_int_equal(crt_cert_revoke(ti.ctx, c.serial, 0, "t", NULL), CRT_E_CERT_REVOKED);
	assert_int_equal(crt_cert_revoke(ti.ctx, "abcdef", 0, "t", NULL), CRT_E_CERT_NOT_FOUND);
	assert_int_equal(crt_cert_revoke(ti.ctx, c.serial, 7, "t", NULL), CRT_E_REASON_INVALID);
	crt_cert_clear(&again);
	crt_cert_clear(&c);
}

static void reason_names_follow_rfc5280(void **s)
{
	assert_int_equal(crt_reason_parse("unspecified"), 0);
	assert_int_equal(crt_reason_parse("keyCompromise"), 1);
	assert_int_equal(crt_reason_parse("superseded"), 4);
	assert_int_equal(crt_reason_parse("privilegeWithdrawn"), 9);
	assert_int_equal(crt_reason_parse("removeFromCRL"), -1);
	assert_int_equal(crt_reason_parse("bogus"), -1);
	assert_string_equal(crt_reason_name(5), "cessationOfOperation");
}

static void listing_filters_by_status_token_and_expiry(void **s)
{
	test_instance li;
	crt_ctx *saved = ti.ctx;
	tu_instance(&li);
	ti.ctx = li.ctx;
	crt_cert a, b;
	issue("one", &a);
	issue("two", &b);
	assert_int_equal(crt_cert_revoke(li.ctx, b.serial, 0, "t", NULL), CRT_OK);
	crt_cert *list;
	size_t n;
	crt_cert_filter f = {.status = -1, .expiring_within_days = -1};
	assert_int_equal(crt_cert_list(li.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 2);
	crt_cert_list_free(list, n);
	f.status = CRT_CERT_VALID;
	assert_int_equal(crt_cert_list(li.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].serial, a.serial);
	crt_cert_list_free(list, n);
	f.status = CRT_CERT_REVOKED;
	assert_int_equal(crt_cert_list(li.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].serial, b.serial);
	crt_cert_list_free(list, n);
	f.status = -1;
	f.token_id = a.token_id;
	assert_int_equal(crt_cert_list(li.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	crt_cert_list_free(list, n);
	f.token_id = NULL;
	f.expiring_within_days = 30;
	assert_int_equal(crt_cert_list(li.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 0);
	crt_cert_list_free(list, n);
	f.expiring_within_days = 400;
	assert_int_equal(crt_cert_list(li.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 1); /* the valid one; revoked ones never "expire soon" */
	crt_cert_list_free(list, n);
	crt_cert_clear(&a);
	crt_cert_clear(&b);
	ti.ctx = saved;
	tu_instance_free(&li);
}

static X509_CRL *crl_from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(crl);
	return crl;
}

static long crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_non_null(n);
	long v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v;
}

static void the_crl_is_signed_numbered_and_lists_revocations(void **s)
{
	crt_cert c;
	crt_crl c1, c2;
	issue("crl", &c);
	assert_int_equal(crt_crl_current(ti.ctx, CRT_CRL_FORCE, "t", &c1), CRT_OK);
	assert_int_equal(crt_cert_revoke(ti.ctx, c.serial, 4, "t", &c2), CRT_OK);
	X509_CRL *a = crl_from_pem(c1.pem), *b = crl_from_pem(c2.pem);
	assert_int_equal(crl_number(b), crl_number(a) + 1);
	crt_ca_info ci;
	assert_int_equal(crt_ca_get(ti.ctx, &ci), CRT_OK);
	X509 *ca = tu_x509(ci.pem);
	assert_int_equal(X509_CRL_verify(b, X509_get0_pubkey(ca)), 1);
	/* our serial is listed with reason superseded */
	int found = 0;
	STACK_OF(X509_REVOKED) *rv = X509_CRL_get_REVOKED(b);
	for (int i = 0; i < sk_X509_REVOKED_num(rv); i++) {
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rv, i));
		BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
		char *hex = BN_bn2hex(bn);
		for (char *p = hex; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(hex, c.serial) == 0) {
			ASN1_ENUMERATED *r = X509_REVOKED_get_ext_d2i(sk_X509_REVOKED_value(rv, i),
								      NID_crl_reason, NULL, NULL);
			assert_non_null(r);
			assert_int_equal(ASN1_ENUMERATED_get(r), 4);
			ASN1_ENUMERATED_free(r);
			found = 1;
		}
		OPENSSL_free(hex);
		BN_free(bn);
	}
	assert_true(found);
	/* nextUpdate = lastUpdate + 7 days */
	int days, secs;
	ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(b), X509_CRL_get0_nextUpdate(b));
	assert_int_equal(days, 7);
	X509_free(ca);
	crt_ca_info_clear(&ci);
	X509_CRL_free(a);
	X509_CRL_free(b);
	crt_crl_clear(&c1);
	crt_crl_clear(&c2);
	crt_cert_clear(&c);
}

static void json_shapes_use_frontdoor_field_names(void **s)
{
	crt_cert c;
	issue("json", &c);
	json_t *o = crt_cert_json(&c, 1);
	char *j = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_non_null(strstr(j, "\"serial\":\""));
	assert_non_null(strstr(j, "\"certificate\":\"-----BEGIN CERTIFICATE-----"));
	assert_non_null(strstr(j, "\"chain\":"));
	assert_non_null(strstr(j, "\"notAfter\":\"20"));
	free(j);
	crt_token t;
	assert_int_equal(crt_token_get(ti.ctx, c.token_id, &t), CRT_OK);
	o = crt_token_json(&t, NULL);
	j = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_null(strstr(j, "\"token\""));
	assert_non_null(strstr(j, "\"state\":\"used\""));
	free(j);
	crt_token_clear(&t);
	crt_cert_clear(&c);
}

/* The audit filter is literal and case-sensitive on every backend
 * (MULTINODE.md §1.2: SQLite's LIKE folded case and read % and _ as
 * wildcards, PostgreSQL's LIKE does not fold case). */
static void the_audit_filter_is_literal_and_case_sensitive(void **s)
{
	static const char *const actions[] = {"probe", "probe.a", "Probe.b", "probeX.c", "pr_be.d",
					       "pro%.e"};
	crt_audit_row *rows;
	size_t n;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		assert_int_equal(crt_audit_event(ti.ctx, "t", actions[i], NULL, NULL), CRT_OK);
	assert_int_equal(crt_audit_list(ti.ctx, 100, "probe", &rows, &n), CRT_OK);
	assert_int_equal(n, 2); /* probe and probe.a, newest first */
	assert_string_equal(rows[0].action, "probe.a");
	assert_string_equal(rows[1].action, "probe");
	crt_audit_list_free(rows, n);
	assert_int_equal(crt_audit_list(ti.ctx, 100, "pr_be", &rows, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].action, "pr_be.d");
	crt_audit_list_free(rows, n);
	assert_int_equal(crt_audit_list(ti.ctx, 100, "pro%", &rows, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].action, "pro%.e");
	crt_audit_list_free(rows, n);
	assert_int_equal(crt_audit_list(ti.ctx, 100, "PROBE", &rows, &n), CRT_OK);
	assert_int_equal(n, 0);
	crt_audit_list_free(rows, n);
	/* the limit holds */
	assert_int_equal(crt_audit_list(ti.ctx, 1, NULL, &rows, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].action, "pro%.e");
	crt_audit_list_free(rows, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serials_normalise_to_the_freeradius_form),
		cmocka_unit_test(an_issued_certificate_is_admitted),
		cmocka_unit_test(issued_certificates_store_their_key_identifiers),
		cmocka_unit_test(unknown_serials_are_not_found),
		cmocka_unit_test(another_issuer_is_rejected),
		cmocka_unit_test(expiry_and_not_yet_valid_are_rejected),
		cmocka_unit_test(the_stored_certificate_as_freeradius_presents_it_is_admitted),
		cmocka_unit_test(forged_sibling_intermediate_same_dn_and_serial_rejected),
		cmocka_unit_test(copied_serial_and_issuer_key_with_another_subject_key_rejected),
		cmocka_unit_test(missing_key_identifiers_fail_closed),
		cmocka_unit_test(a_stored_row_without_key_identifiers_admits_nothing),
		cmocka_unit_test(key_identifiers_that_are_not_plain_key_ids_are_refused),
		cmocka_unit_test(a_validity_other_than_the_stored_one_is_refused),
		cmocka_unit_test(the_stored_status_decides_after_the_match),
		cmocka_unit_test(revocation_is_immediate_and_recorded),
		cmocka_unit_test(reason_names_follow_rfc5280),
		cmocka_unit_test(listing_filters_by_status_token_and_expiry),
		cmocka_unit_test(the_crl_is_signed_numbered_and_lists_revocations),
		cmocka_unit_test(json_shapes_use_frontdoor_field_names),
		cmocka_unit_test(the_audit_filter_is_literal_and_case_sensitive),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
