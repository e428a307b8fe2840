/*
 * test_import.c — existing certificates uploaded instead of a CSR (issue
 * 12): crt_cert_import (the admin's upload) and crt_redeem with req.cert
 * (an upload with a token), against a foreign CA made in-process and named
 * in [import] trusted_issuers. What is stored, what admission then does
 * with it, and every refusal (nothing written). Runs on PostgreSQL too
 * (t_pg_units).
 */
#include <openssl/err.h>
#include <sys/stat.h>

#include "testutil.h"
#include "import_util.h"

static char db[512];

static int setup(void **state)
{
	import_instance();
	tu_db_path(&ti, db, sizeof(db));
	return 0;
}

static long long count(const char *sql)
{
	return tu_sql_int(db, sql);
}

static crt_status import_as(const char *pem, const char *name, const char *owner,
			    const char *reply, crt_cert *out)
{
	crt_import_req req = {.pem = (const unsigned char *)pem,
			      .pem_len = strlen(pem),
			      .name = name,
			      .owner = owner,
			      .reply = reply,
			      .actor = "test"};
	return crt_cert_import(ti.ctx, &req, out);
}

static void an_imported_certificate_is_stored_with_its_own_issuer_and_admitted(void **s)
{
	char *pem = client_pem("printer-7");
	crt_cert c = {0}, got = {0};
	tu_presented_buf pb;
	char *reply = NULL;
	long long audits = count("SELECT count(*) FROM audit WHERE action = 'cert.import'");
	long long events = count("SELECT count(*) FROM events WHERE type = 'certificate.issued'");

	assert_int_equal(import_as(pem, "printer", "alice", "Tunnel-Private-Group-Id=42", &c),
			 CRT_OK);
	assert_string_equal(c.ca, CRT_CA_IMPORTED);
	assert_string_equal(c.issuer, "/CN=Partner CA");
	assert_string_equal(c.cn, "printer-7");
	assert_string_equal(c.user, "alice");
	assert_non_null(c.aki);
	assert_non_null(c.ski);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.pem, pem);
	assert_string_equal(got.aki, c.aki);
	assert_string_equal(got.ca, CRT_CA_IMPORTED);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'cert.import'"),
			 audits + 1);
	assert_int_equal(count("SELECT count(*) FROM events WHERE type = 'certificate.issued'"),
			 events + 1);
	/* rlm_crtoken's admission: as for an issued one, with the reply attributes */
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&got, &pb), crt_now(), &reply),
			 CRT_OK);
	assert_string_equal(reply, "Tunnel-Private-Group-Id=42");
	free(reply);
	crt_cert_clear(&got);
	crt_cert_clear(&c);
	free(pem);
}

static void the_same_certificate_twice_is_cert_exists(void **s)
{
	char *pem = client_pem("twice");
	assert_int_equal(import_as(pem, "twice", NULL, NULL, NULL), CRT_OK);
	long long n = count("SELECT count(*) FROM certificates");
	assert_int_equal(import_as(pem, "twice", NULL, NULL, NULL), CRT_E_CERT_EXISTS);
	assert_int_equal(count("SELECT count(*) FROM certificates"), n);
	free(pem);
}

/* A foreign certificate given the serial of one crtoken issued: refused,
 * and ours is still the one admitted under that serial. */
static void attack_upload_cert_of_our_ca_serial(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t = {0};
	crt_cert ours = {0};
	tu_presented_buf pb;
	crt_token_spec spec = {.name = "ours"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &ours), CRT_OK);
	leaf_opts o = {.cn = "ours", .serial_hex = ours.serial};
	char *pem = leaf_pem(&o);
	long long n = count("SELECT count(*) FROM certificates");
	assert_int_equal(import_as(pem, "impostor", NULL, NULL, NULL), CRT_E_SERIAL_CONFLICT);
	assert_int_equal(count("SELECT count(*) FROM certificates"), n);
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&ours, &pb), crt_now(), NULL),
			 CRT_OK);
	crt_cert_clear(&ours);
	crt_token_clear(&t);
	free(pem);
}

/* A self-signed certificate naming the trusted CA as its issuer (and its
 * key id as AKI): the signature does not verify with the CA's key. */
static void attack_upload_self_signed_claiming_trusted_subject(void **s)
{
	leaf_opts o = {.cn = "Partner CA", .self_signed = 1};
	char *pem = leaf_pem(&o);
	assert_int_equal(import_as(pem, "forged", NULL, NULL, NULL), CRT_E_CERT_UNTRUSTED);
	free(pem);
}

/* The trusted issuer itself uploaded as a client certificate. */
static void attack_upload_the_trusted_ca_itself(void **s)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	PEM_write_bio_X509(b, foreign_ca);
	long len = BIO_get_mem_data(b, &data);
	char *pem = strndup(data, (size_t)len);
	BIO_free(b);
	assert_int_equal(import_as(pem, "ca", NULL, NULL, NULL), CRT_E_CERT_IS_CA);
	free(pem);
}

static void each_bad_upload_has_its_code_and_writes_nothing(void **s)
{
	leaf_opts expired = {.cn = "old", .nb = -40 * DAY, .na = -DAY};
	leaf_opts future = {.cn = "new", .nb = 5 * DAY, .na = 40 * DAY};
	leaf_opts ca = {.cn = "sub-ca", .ca = 1};
	leaf_opts server = {.cn = "www", .eku = "serverAuth"};
	leaf_opts noski = {.cn = "noski", .no_ski = 1};
	char *p[] = {leaf_pem(&expired), leaf_pem(&future), leaf_pem(&ca), leaf_pem(&server),
		     leaf_pem(&noski), client_pem("a"), client_pem("b")};
	char *two = malloc(strlen(p[5]) + strlen(p[6]) + 1);
	strcpy(two, p[5]);
	strcat(two, p[6]);
	const char *key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
			  "-----END PRIVATE KEY-----\n";
	char *with_key = malloc(strlen(p[5]) + strlen(key) + 1);
	strcpy(with_key, p[5]);
	strcat(with_key, key);
	struct {
		const char *pem;
		crt_status want;
	} cases[] = {
	    {p[0], CRT_E_CERT_EXPIRED},	       {p[1], CRT_E_CERT_NOT_YET_VALID},
	    {p[2], CRT_E_CERT_IS_CA},	       {p[3], CRT_E_CERT_USAGE},
	    {p[4], CRT_E_CERT_KEY_ID},	       {two, CRT_E_CERT_MULTIPLE},
	    {key, CRT_E_CERT_PRIVATE_KEY},     {with_key, CRT_E_CERT_PRIVATE_KEY},
	    {"not a certificate\n", CRT_E_CERT_MALFORMED},
	    {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", CRT_E_CERT_MALFORMED},
	};
	long long certs = count("SELECT count(*) FROM certificates");
	long long audit = count("SELECT count(*) FROM audit");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		crt_status r = import_as(cases[i].pem, "bad", NULL, NULL, NULL);
		if (r != cases[i].want)
			fail_msg("case %zu: %s, expected %s (%s)", i, crt_status_name(r),
				 crt_status_name(cases[i].want), crt_errdetail(ti.ctx));
	}
	assert_int_equal(count("SELECT count(*) FROM certificates"), certs);
	assert_int_equal(count("SELECT count(*) FROM audit"), audit);
	char *good = client_pem("x");
	assert_int_equal(import_as(good, "", NULL, NULL, NULL), CRT_E_NAME_REQUIRED);
	assert_int_equal(import_as(good, "x", NULL, "no equals sign", NULL), CRT_E_REPLY_ATTR);
	free(good);
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		free(p[i]);
	free(two);
	free(with_key);
}

static void without_an_import_section_uploads_are_refused(void **s)
{
	test_instance t;
	crt_import_req req = {.name = "x", .actor = "test"};
	char *pem = client_pem("x");
	tu_instance(&t);
	req.pem = (const unsigned char *)pem;
	req.pem_len = strlen(pem);
	assert_int_equal(crt_cert_import(t.ctx, &req, NULL), CRT_E_IMPORT_DISABLED);
	tu_instance_free(&t);
	free(pem);
}

static void a_revoked_import_is_refused_by_admission_and_on_no_crl_of_ours(void **s)
{
	char *pem = client_pem("revoke-me");
	crt_cert c = {0}, got = {0};
	crt_crl crl = {0};
	tu_presented_buf pb;
	assert_int_equal(import_as(pem, "revoke-me", NULL, NULL, &c), CRT_OK);
	long long crls = count("SELECT count(*) FROM audit WHERE action LIKE 'crl.%'");
	assert_int_equal(crt_cert_revoke(ti.ctx, c.serial, 1, "test", &crl), CRT_OK);
	assert_int_equal(crl.resigned, 0); /* our CRL does not list it: not re-signed */
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action LIKE 'crl.%'"), crls);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_int_equal(got.revoked, 1);
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&got, &pb), crt_now(), NULL),
			 CRT_E_CERT_REVOKED);
	assert_int_equal(crt_cert_revoke(ti.ctx, c.serial, 1, "test", NULL), CRT_E_CERT_REVOKED);
	crt_crl_clear(&crl);
	crt_cert_clear(&got);
	crt_cert_clear(&c);
	free(pem);
}

static crt_status redeem_upload(const char *tok, const char *pem, const char *user,
				crt_cert *out)
{
	crt_redeem_req req = {.token = tok,
			      .cert = (const unsigned char *)pem,
			      .cert_len = strlen(pem),
			      .user = user,
			      .admin = user == NULL,
			      .actor = "test"};
	return crt_redeem(ti.ctx, &req, out);
}

static void a_token_redeemed_with_a_certificate_stores_it_with_the_tokens_reply(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t = {0}, after = {0};
	crt_cert c = {0};
	tu_presented_buf pb;
	char *reply = NULL;
	crt_token_spec spec = {.name = "bob-laptop", .cn = "bob", .owner = "bob",
			       .reply = "Filter-Id=staff"};
	tu_token(ti.ctx, &spec, tok, &t);
	char *pem = client_pem("bob");
	assert_int_equal(redeem_upload(tok, pem, "bob", &c), CRT_OK);
	assert_string_equal(c.ca, CRT_CA_IMPORTED);
	assert_string_equal(c.token_id, t.id);
	assert_string_equal(c.name, "bob-laptop");
	assert_int_equal(crt_token_get(ti.ctx, t.id, &after), CRT_OK);
	assert_int_equal(after.state, CRT_TOKEN_USED);
	assert_string_equal(after.serial, c.serial);
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&c, &pb), crt_now(), &reply),
			 CRT_OK);
	assert_string_equal(reply, "Filter-Id=staff");
	/* single use holds for uploads too */
	char *again = client_pem("bob");
	assert_int_equal(redeem_upload(tok, again, "bob", NULL), CRT_E_TOKEN_USED);
	free(again);
	free(reply);
	crt_token_clear(&after);
	crt_token_clear(&t);
	crt_cert_clear(&c);
	free(pem);
}

static void an_upload_whose_subject_the_token_does_not_allow_is_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t = {0}, after = {0};
	crt_token_spec spec = {.name = "carol", .cn = "carol", .locked = CRT_FIELD_CN};
	tu_token(ti.ctx, &spec, tok, &t);
	char *pem = client_pem("mallory");
	long long n = count("SELECT count(*) FROM certificates");
	assert_int_equal(redeem_upload(tok, pem, NULL, NULL), CRT_E_CERT_SUBJECT);
	assert_int_equal(count("SELECT count(*) FROM certificates"), n);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &after), CRT_OK);
	assert_int_equal(after.state, CRT_TOKEN_ACTIVE);
	/* and an untrusted one leaves the token unused too */
	leaf_opts forged = {.cn = "carol", .self_signed = 1};
	char *f = leaf_pem(&forged);
	assert_int_equal(redeem_upload(tok, f, NULL, NULL), CRT_E_CERT_UNTRUSTED);
	char *good = client_pem("carol");
	assert_int_equal(redeem_upload(tok, good, NULL, NULL), CRT_OK);
	free(good);
	free(f);
	crt_token_clear(&after);
	crt_token_clear(&t);
	free(pem);
}

/* Even with our own CA in the bundle, a certificate it issued is stored
 * when issued, never uploaded: the one stored is cert_exists. */
static void a_certificate_of_our_own_ca_is_cert_exists_not_a_second_row(void **s)
{
	test_instance t;
	char text[600], tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk = {0};
	crt_cert ours = {0};
	crt_token_spec spec = {.name = "ours"};
	tu_instance_init(&t, NULL);
	snprintf(text, sizeof(text), "[import]\ntrusted_issuers = %s/ca.pem\n", t.dir);
	tu_config_append(&t, text);
	tu_open(&t);
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &ours), CRT_OK);
	crt_import_req req = {.pem = (const unsigned char *)ours.pem,
			      .pem_len = strlen(ours.pem),
			      .name = "again",
			      .actor = "test"};
	assert_int_equal(crt_cert_import(t.ctx, &req, NULL), CRT_E_CERT_EXISTS);
	crt_cert_clear(&ours);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void the_name_imported_is_reserved_for_uploads(void **s)
{
	test_instance t;
	crt_ctx *c = NULL;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[ca imported]\ncertificate = x.pem\nkey = x.key\n");
	assert_int_equal(crt_open(t.conf, CRT_OPEN_NO_CA, &c), CRT_E_CONFIG);
	assert_non_null(strstr(crt_errdetail(c), "reserved"));
	crt_close(c);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(an_imported_certificate_is_stored_with_its_own_issuer_and_admitted),
	    cmocka_unit_test(the_same_certificate_twice_is_cert_exists),
	    cmocka_unit_test(attack_upload_cert_of_our_ca_serial),
	    cmocka_unit_test(attack_upload_self_signed_claiming_trusted_subject),
	    cmocka_unit_test(attack_upload_the_trusted_ca_itself),
	    cmocka_unit_test(each_bad_upload_has_its_code_and_writes_nothing),
	    cmocka_unit_test(without_an_import_section_uploads_are_refused),
	    cmocka_unit_test(a_revoked_import_is_refused_by_admission_and_on_no_crl_of_ours),
	    cmocka_unit_test(a_token_redeemed_with_a_certificate_stores_it_with_the_tokens_reply),
	    cmocka_unit_test(an_upload_whose_subject_the_token_does_not_allow_is_refused),
	    cmocka_unit_test(a_certificate_of_our_own_ca_is_cert_exists_not_a_second_row),
	    cmocka_unit_test(the_name_imported_is_reserved_for_uploads),
	};
	int rc = cmocka_run_group_tests(tests, setup, tu_group_teardown);
	import_util_free();
	return rc;
}
