/*
 * test_cas.c — several CAs per instance: the [ca NAME] sections and their
 * rules, the registry the instance loads (crt_ca_list, crt_ca_create), and
 * which CA a name selects.
 */
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <sys/stat.h>

#include "testutil.h"

/* A fresh instance with extra config appended, opened or refused. */
static crt_status open_with(test_instance *t, const char *extra, crt_ctx **ctx)
{
	tu_instance_init(t, NULL);
	tu_config_append(t, extra);
	return crt_open(t->conf, 0, ctx);
}

/* A [ca lab] section with its CA made by crt_ca_create; t->ctx open on it. */
static void instance_with_lab(test_instance *t)
{
	crt_ctx *c = NULL;
	tu_instance_init(t, NULL);
	tu_config_append(t, "[ca lab]\ncertificate = lab.pem\nkey = lab.key\n");
	assert_int_equal(crt_open(t->conf, CRT_OPEN_NO_CA, &c), CRT_OK);
	crt_ca_create_opts o = {.name = "lab", .subject = "/CN=Lab CA"};
	assert_int_equal(crt_ca_create(c, &o, "test"), CRT_OK);
	crt_close(c);
	tu_open(t);
}

static void a_ca_section_is_parsed_with_its_default_crl_file(void **s)
{
	test_instance t;
	crt_ctx *c = NULL;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[ca lab]\ncertificate = lab.pem\nkey = lab.key\n");
	assert_int_equal(crt_open(t.conf, CRT_OPEN_NO_CA, &c), CRT_OK);
	const crt_config *cfg = crt_get_config(c);
	assert_int_equal(cfg->ncas, 1);
	assert_string_equal(cfg->cas[0].name, "lab");
	assert_non_null(strstr(cfg->cas[0].cert, "/i/lab.pem"));
	assert_non_null(strstr(cfg->cas[0].crl_file, "/i/crl-lab.pem"));
	assert_null(cfg->cas[0].chain);
	crt_close(c);
	tu_instance_free(&t);
}

/* Each bad section: config_invalid, with the detail naming what is wrong. */
static void bad_ca_sections_are_config_invalid_with_the_reason(void **s)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"[ca lab]\ncertificate = lab.pem\n", "[ca lab] needs key"},
	    {"[ca lab]\nkey = lab.key\n", "[ca lab] needs certificate"},
	    {"[ca default]\ncertificate = x.pem\nkey = x.key\n", "the default CA is the [ca]"},
	    {"[ca Lab]\ncertificate = x.pem\nkey = x.key\n", "bad CA name"},
	    {"[ca -x]\ncertificate = x.pem\nkey = x.key\n", "bad CA name"},
	    {"[ca lab]\ncertificate = x.pem\nkey = x.key\ncert_days = 3\n",
	     "applies to every CA: set it in [ca]"},
	    {"[ca lab]\ncertificate = x.pem\nkey = x.key\ncolour = red\n", "unknown key"},
	    {"[ca lab]\ncertificate = x.pem\nkey = ca.key\n", "shares its certificate, key"},
	    {"[ca a]\ncertificate = a.pem\nkey = a.key\n[ca b]\ncertificate = b.pem\nkey = "
	     "b.key\ncrl_file = crl-a.pem\n",
	     "[ca b] shares its certificate, key or crl_file with [ca a]"},
	    {"[ca lab]\ncertificate = x.pem\nkey = x.key\npin_file = pin\n",
	     "pin_file and module_path apply only"},
	    {"[ca lab]\ncertificate = x.pem\nkey = pkcs11:token=t;object=o;pin-value=1\n",
	     "PIN in the pkcs11: URI"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_instance t;
		crt_ctx *c = NULL;
		assert_int_equal(open_with(&t, cases[i].text, &c), CRT_E_CONFIG);
		if (strstr(crt_errdetail(c), cases[i].why) == NULL)
			fail_msg("case %zu: detail \"%s\" lacks \"%s\"", i, crt_errdetail(c),
			         cases[i].why);
		crt_close(c);
		tu_instance_free(&t);
	}
}

static void an_instance_whose_ca_section_has_no_files_does_not_open(void **s)
{
	test_instance t;
	crt_ctx *c = NULL;
	assert_int_equal(open_with(&t, "[ca lab]\ncertificate = lab.pem\nkey = lab.key\n", &c),
	                 CRT_E_CA_MISSING);
	assert_non_null(strstr(crt_errdetail(c), "[ca lab]"));
	crt_close(c);
	tu_instance_free(&t);
}

static void ca_create_makes_the_key_and_certificate_and_the_list_shows_both(void **s)
{
	test_instance t;
	crt_ca_info *l = NULL;
	size_t n = 0;
	char path[400];
	struct stat st;

	instance_with_lab(&t);
	assert_int_equal(crt_ca_list(t.ctx, &l, &n), CRT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].name, "default");
	assert_string_equal(l[1].name, "lab");
	assert_string_equal(l[1].subject, "/CN=Lab CA");
	assert_string_equal(l[1].key_kind, "file");
	assert_int_equal(strlen(l[1].ski), 40);
	assert_string_not_equal(l[0].ski, l[1].ski);
	assert_true(l[1].not_after > crt_now());
	crt_ca_list_free(l, n);
	snprintf(path, sizeof(path), "%s/lab.key", t.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* ca.pem served to clients holds every CA */
	const char *pem = crt_instance_ca_pem(crt_session_instance(t.ctx));
	assert_non_null(strstr(strstr(pem, "BEGIN CERTIFICATE") + 1, "BEGIN CERTIFICATE"));
	tu_instance_free(&t);
}

static void ca_create_refuses_existing_files_and_unknown_names(void **s)
{
	test_instance t;
	instance_with_lab(&t);
	crt_ca_create_opts o = {.name = "lab"};
	assert_int_equal(crt_ca_create(t.ctx, &o, "test"), CRT_E_EXISTS);
	o.name = "nope";
	assert_int_equal(crt_ca_create(t.ctx, &o, "test"), CRT_E_CA_UNKNOWN);
	o.name = "default";
	assert_int_equal(crt_ca_create(t.ctx, &o, "test"), CRT_E_INVALID_ARGUMENT);
	tu_instance_free(&t);
}

static void ca_names_select_their_ca_and_unknown_ones_are_ca_unknown(void **s)
{
	test_instance t;
	crt_ca_info a, b;
	instance_with_lab(&t);
	assert_int_equal(crt_ca_check_name(t.ctx, NULL), CRT_OK);
	assert_int_equal(crt_ca_check_name(t.ctx, "default"), CRT_OK);
	assert_int_equal(crt_ca_check_name(t.ctx, "lab"), CRT_OK);
	assert_int_equal(crt_ca_check_name(t.ctx, "LAB"), CRT_E_CA_UNKNOWN);
	assert_int_equal(crt_ca_check_name(t.ctx, "lab2"), CRT_E_CA_UNKNOWN);
	assert_string_equal(crt_status_name(CRT_E_CA_UNKNOWN), "ca_unknown");
	assert_int_equal(crt_ca_get_named(t.ctx, "lab", &a), CRT_OK);
	assert_int_equal(crt_ca_get(t.ctx, &b), CRT_OK);
	assert_string_equal(a.subject, "/CN=Lab CA");
	assert_string_equal(b.name, "default");
	crt_ca_info_clear(&a);
	crt_ca_info_clear(&b);
	assert_int_equal(crt_ca_get_named(t.ctx, "nope", &a), CRT_E_CA_UNKNOWN);
	tu_instance_free(&t);
}

/* Admission tells CAs apart by key identifier: two CAs on one key would be
 * one CA under two names. */
static void two_cas_with_one_key_are_refused(void **s)
{
	test_instance t;
	crt_ctx *c = NULL;
	char cmd[1200];
	tu_instance_init(&t, NULL);
	snprintf(cmd, sizeof(cmd), "cp -p %s/ca.pem %s/twin.pem && cp -p %s/ca.key %s/twin.key",
	         t.dir, t.dir, t.dir, t.dir);
	assert_int_equal(system(cmd), 0);
	tu_config_append(&t, "[ca twin]\ncertificate = twin.pem\nkey = twin.key\n");
	assert_int_equal(crt_open(t.conf, 0, &c), CRT_E_CA_INVALID);
	assert_non_null(strstr(crt_errdetail(c), "has the key identifier of CA default"));
	crt_close(c);
	tu_instance_free(&t);
}

/* The lowercase hex of x's Authority Key Identifier (must exist). */
static void aki_hex(X509 *x, char out[130])
{
	const ASN1_OCTET_STRING *k = X509_get0_authority_key_id(x);
	assert_non_null(k);
	for (int i = 0; i < k->length; i++)
		snprintf(out + 2 * i, 3, "%02x", k->data[i]);
}

static void a_token_names_its_ca_and_the_certificate_is_signed_and_recorded_by_it(void **s)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1], aki[130];
	crt_token tk = {0}, shown = {0};
	crt_cert c = {0}, got = {0};
	crt_ca_info lab;

	instance_with_lab(&t);
	tu_token(t.ctx, &(crt_token_spec){.name = "on-lab", .ca = "lab"}, tok, &tk);
	assert_string_equal(tk.ca, "lab");
	assert_int_equal(crt_token_get(t.ctx, tk.id, &shown), CRT_OK);
	assert_string_equal(shown.ca, "lab");
	assert_int_equal(tu_redeem(t.ctx, tok, &c), CRT_OK);
	assert_string_equal(c.ca, "lab");
	assert_string_equal(c.issuer, "/CN=Lab CA");
	assert_int_equal(crt_ca_get_named(t.ctx, "lab", &lab), CRT_OK);
	X509 *x = tu_x509(c.pem);
	aki_hex(x, aki);
	assert_string_equal(aki, lab.ski);
	assert_string_equal(c.aki, lab.ski);
	/* the chain handed out is the issuing CA's */
	assert_non_null(strstr(c.chain_pem, lab.pem + 30));
	assert_int_equal(crt_cert_get(t.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.ca, "lab");
	assert_string_equal(got.chain_pem, lab.chain_pem);
	/* and the session went back to the default CA */
	crt_token td = {0};
	crt_cert cd = {0};
	tu_token(t.ctx, &(crt_token_spec){.name = "on-default"}, tok, &td);
	assert_string_equal(td.ca, "default");
	assert_int_equal(tu_redeem(t.ctx, tok, &cd), CRT_OK);
	assert_string_equal(cd.ca, "default");
	assert_string_equal(cd.issuer, "/CN=Unit Test CA/O=crtoken tests");
	assert_string_not_equal(cd.aki, lab.ski);
	X509_free(x);
	crt_ca_info_clear(&lab);
	crt_token_clear(&tk);
	crt_token_clear(&shown);
	crt_token_clear(&td);
	crt_cert_clear(&c);
	crt_cert_clear(&cd);
	crt_cert_clear(&got);
	tu_instance_free(&t);
}

static void a_token_for_an_unknown_ca_is_ca_unknown_and_nothing_is_written(void **s)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token *l = NULL;
	size_t n = 1;
	instance_with_lab(&t);
	assert_int_equal(crt_token_create(t.ctx, &(crt_token_spec){.name = "x", .ca = "nope"},
	                                  "test", NULL, tok),
	                 CRT_E_CA_UNKNOWN);
	assert_non_null(strstr(crt_errdetail(t.ctx), "no CA named \"nope\""));
	assert_int_equal(crt_token_list(t.ctx, -1, &l, &n), CRT_OK);
	assert_int_equal(n, 0);
	crt_token_list_free(l, n);
	tu_instance_free(&t);
}

static void a_tokens_ca_cannot_be_changed_by_an_update(void **s)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk = {0}, after = {0};
	instance_with_lab(&t);
	tu_token(t.ctx, &(crt_token_spec){.name = "x", .ca = "lab"}, tok, &tk);
	assert_int_equal(
	    crt_token_update(t.ctx, tk.id, &(crt_token_spec){.ca = "default"}, "test", NULL),
	    CRT_E_FIELD_INVALID);
	assert_int_equal(crt_token_get(t.ctx, tk.id, &after), CRT_OK);
	assert_string_equal(after.ca, "lab");
	crt_token_clear(&tk);
	crt_token_clear(&after);
	tu_instance_free(&t);
}

/* Serial of the only revoked entry of a PEM CRL, or "" when it lists none. */
static int crl_lists(const char *pem, const char *serial)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	STACK_OF(X509_REVOKED) * rv;
	int found = 0;
	BIO_free(b);
	assert_non_null(crl);
	rv = X509_CRL_get_REVOKED(crl);
	for (int i = 0; i < sk_X509_REVOKED_num(rv); i++) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(
		    X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rv, i)), NULL);
		char *hex = BN_bn2hex(bn);
		for (char *p = hex; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(hex, serial) == 0)
			found = 1;
		OPENSSL_free(hex);
		BN_free(bn);
	}
	X509_CRL_free(crl);
	return found;
}

static int crl_signed_by(const char *pem, const char *ca_pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	X509 *ca = tu_x509(ca_pem);
	int ok = X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1;
	BIO_free(b);
	X509_CRL_free(crl);
	X509_free(ca);
	return ok;
}

static void each_ca_has_its_own_crl_with_its_own_numbers(void **s)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1], path[400];
	crt_token tk = {0};
	crt_cert c = {0};
	crt_crl lab = {0}, dflt = {0}, lab2 = {0};
	crt_ca_info li, di;

	instance_with_lab(&t);
	assert_int_equal(crt_ca_get_named(t.ctx, "lab", &li), CRT_OK);
	assert_int_equal(crt_ca_get(t.ctx, &di), CRT_OK);
	/* the default CA publishes a few first: the lab CA counts its own */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(crt_crl_current(t.ctx, CRT_CRL_FORCE, "test", &dflt), CRT_OK);
		crt_crl_clear(&dflt);
	}
	tu_token(t.ctx, &(crt_token_spec){.name = "x", .ca = "lab"}, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &c), CRT_OK);
	assert_int_equal(crt_cert_revoke(t.ctx, c.serial, 1, "test", &lab), CRT_OK);
	assert_int_equal(lab.meta.number, 1);
	assert_true(crl_lists(lab.pem, c.serial));
	assert_true(crl_signed_by(lab.pem, li.pem));
	snprintf(path, sizeof(path), "%s/crl-lab.pem", t.dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(crt_crl_current_ca(t.ctx, "lab", 0, "test", &lab2), CRT_OK);
	assert_int_equal(lab2.meta.number, 1); /* fresh: served, not re-signed */
	assert_int_equal(lab2.resigned, 0);
	assert_int_equal(crt_crl_current_ca(t.ctx, NULL, 0, "test", &dflt), CRT_OK);
	assert_int_equal(dflt.meta.number, 3); /* a revocation of another CA leaves it fresh */
	assert_false(crl_lists(dflt.pem, c.serial));
	assert_true(crl_signed_by(dflt.pem, di.pem));
	crt_crl_clear(&dflt);
	assert_int_equal(crt_crl_current_ca(t.ctx, "nope", 0, "test", &dflt), CRT_E_CA_UNKNOWN);
	crt_crl_clear(&lab);
	crt_crl_clear(&lab2);
	crt_ca_info_clear(&li);
	crt_ca_info_clear(&di);
	crt_token_clear(&tk);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

/* Ask crtoken about leaf as issued by issuer (the CertID's issuer hashes). */
static void ocsp_ask(crt_ctx *ctx, X509 *leaf, X509 *issuer, crt_ocsp_response *out)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);
	unsigned char *der = NULL;
	int n;
	assert_non_null(id);
	assert_non_null(OCSP_request_add0_id(req, id));
	assert_true((n = i2d_OCSP_REQUEST(req, &der)) > 0);
	assert_int_equal(crt_ocsp_respond(ctx, der, (size_t)n, out), CRT_OK);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
}

/* Did signer's key sign the OCSP response? */
static int ocsp_signed_by(const crt_ocsp_response *o, X509 *signer)
{
	const unsigned char *p = o->der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)o->der_len);
	OCSP_BASICRESP *bs = resp ? OCSP_response_get1_basic(resp) : NULL;
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *st = X509_STORE_new();
	int ok;
	sk_X509_push(certs, signer);
	X509_STORE_add_cert(st, signer);
	ok = bs != NULL && OCSP_basic_verify(bs, certs, st, OCSP_TRUSTOTHER) == 1;
	ERR_clear_error();
	X509_STORE_free(st);
	sk_X509_free(certs);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return ok;
}

static void ocsp_answers_for_the_ca_the_request_names_and_only_for_its_certificates(void **s)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk = {0};
	crt_cert c = {0};
	crt_ca_info li, di;
	crt_ocsp_response o = {0};

	instance_with_lab(&t);
	assert_int_equal(crt_ca_get_named(t.ctx, "lab", &li), CRT_OK);
	assert_int_equal(crt_ca_get(t.ctx, &di), CRT_OK);
	tu_token(t.ctx, &(crt_token_spec){.name = "x", .ca = "lab"}, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &c), CRT_OK);
	X509 *leaf = tu_x509(c.pem), *lab = tu_x509(li.pem), *dflt = tu_x509(di.pem);
	ocsp_ask(t.ctx, leaf, lab, &o);
	assert_int_equal(o.response_status, 0);
	assert_int_equal(o.first_status, V_OCSP_CERTSTATUS_GOOD);
	assert_true(ocsp_signed_by(&o, lab));
	assert_false(ocsp_signed_by(&o, dflt));
	crt_ocsp_response_clear(&o);
	/* the same serial asked of the default CA: not one it issued */
	ocsp_ask(t.ctx, leaf, dflt, &o);
	assert_int_equal(o.first_status, V_OCSP_CERTSTATUS_UNKNOWN);
	assert_true(ocsp_signed_by(&o, dflt));
	crt_ocsp_response_clear(&o);
	assert_int_equal(crt_cert_revoke(t.ctx, c.serial, 1, "test", NULL), CRT_OK);
	ocsp_ask(t.ctx, leaf, lab, &o);
	assert_int_equal(o.first_status, V_OCSP_CERTSTATUS_REVOKED);
	crt_ocsp_response_clear(&o);
	X509_free(leaf);
	X509_free(lab);
	X509_free(dflt);
	crt_ca_info_clear(&li);
	crt_ca_info_clear(&di);
	crt_token_clear(&tk);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_ca_section_is_parsed_with_its_default_crl_file),
	    cmocka_unit_test(bad_ca_sections_are_config_invalid_with_the_reason),
	    cmocka_unit_test(an_instance_whose_ca_section_has_no_files_does_not_open),
	    cmocka_unit_test(ca_create_makes_the_key_and_certificate_and_the_list_shows_both),
	    cmocka_unit_test(ca_create_refuses_existing_files_and_unknown_names),
	    cmocka_unit_test(ca_names_select_their_ca_and_unknown_ones_are_ca_unknown),
	    cmocka_unit_test(two_cas_with_one_key_are_refused),
	    cmocka_unit_test(a_token_names_its_ca_and_the_certificate_is_signed_and_recorded_by_it),
	    cmocka_unit_test(a_token_for_an_unknown_ca_is_ca_unknown_and_nothing_is_written),
	    cmocka_unit_test(a_tokens_ca_cannot_be_changed_by_an_update),
	    cmocka_unit_test(each_ca_has_its_own_crl_with_its_own_numbers),
	    cmocka_unit_test(
	        ocsp_answers_for_the_ca_the_request_names_and_only_for_its_certificates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
