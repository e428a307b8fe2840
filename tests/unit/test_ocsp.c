/*
 * test_ocsp.c — the OCSP responder: the status decision as a function of
 * values (rules/ocsp.c, no database), then crt_ocsp_respond on a real
 * instance — good, revoked with time and reason, unknown for a serial never
 * issued and for another issuer's CertID, the nonce echoed, malformed input
 * answered malformedRequest, a busy or unreachable store answered tryLater, a delegated
 * signer made by crt_ocsp_signer_create and used once configured.
 */
#include "testutil.h"
#include <openssl/ocsp.h>

#include "rules/ocsp.h"
#include "store/port.h"

/* ------------------------------------------------------------ the rule */

static void the_rule_answers_good_for_an_unrevoked_row_of_this_ca(void **state)
{
	ocsp_row row = {.found = 1, .issuer = "/CN=A"};
	int64_t at;
	int reason;
	assert_int_equal(ocsp_decide(1, "/CN=A", &row, &at, &reason), OCSP_STATE_GOOD);
}

static void the_rule_answers_revoked_with_time_and_reason(void **state)
{
	ocsp_row row = {.found = 1, .issuer = "/CN=A", .revoked = 1, .revoked_at = 1700000000,
			.reason = 1};
	int64_t at;
	int reason;
	assert_int_equal(ocsp_decide(1, "/CN=A", &row, &at, &reason), OCSP_STATE_REVOKED);
	assert_int_equal(at, 1700000000);
	assert_int_equal(reason, 1);
	row.reason = 0; /* unspecified: omitted, as in the CRL */
	assert_int_equal(ocsp_decide(1, "/CN=A", &row, &at, &reason), OCSP_STATE_REVOKED);
	assert_int_equal(reason, -1);
}

static void ocsp_serial_never_issued_is_unknown_not_good(void **state)
{
	ocsp_row none = {0};
	int64_t at;
	int reason;
	assert_int_equal(ocsp_decide(1, "/CN=A", &none, &at, &reason), OCSP_STATE_UNKNOWN);
	assert_int_equal(ocsp_decide(1, "/CN=A", NULL, &at, &reason), OCSP_STATE_UNKNOWN);
}

static void ocsp_request_for_another_issuers_serial_is_not_answered_good(void **state)
{
	ocsp_row row = {.found = 1, .issuer = "/CN=A"};
	int64_t at;
	int reason;
	/* The CertID's hashes are not this CA's, though the serial is stored. */
	assert_int_equal(ocsp_decide(0, "/CN=A", &row, &at, &reason), OCSP_STATE_UNKNOWN);
	/* A row of an earlier CA of this instance (replaced by a CA import). */
	assert_int_equal(ocsp_decide(1, "/CN=B", &row, &at, &reason), OCSP_STATE_UNKNOWN);
	assert_int_equal(ocsp_decide(1, NULL, &row, &at, &reason), OCSP_STATE_UNKNOWN);
}

static void next_update_is_validity_after_this_update(void **state)
{
	assert_int_equal(ocsp_next_update(1000, 3600), 4600);
}

/* ------------------------------------------------------------ the responder */

static void issue(crt_ctx *ctx, const char *name, crt_cert *c)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = name};
	tu_token(ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ctx, tok, c), CRT_OK);
	crt_token_clear(&t);
}

static X509 *ca_of(test_instance *t)
{
	char path[512], *pem;
	size_t len;
	FILE *f;
	X509 *x;
	snprintf(path, sizeof(path), "%s/ca.pem", t->dir);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(x = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	(void)pem;
	(void)len;
	return x;
}

/* A DER request for serial (hex) of issuer, with a nonce when nonce != 0. */
static unsigned char *request(X509 *issuer, const char *serial, int nonce, size_t *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id;
	ASN1_INTEGER *sn;
	BIGNUM *bn = NULL;
	unsigned char *der = NULL;
	int n;
	assert_true(BN_hex2bn(&bn, serial) > 0);
	sn = BN_to_ASN1_INTEGER(bn, NULL);
	id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
			      X509_get0_pubkey_bitstr(issuer), sn);
	assert_non_null(OCSP_request_add0_id(req, id));
	if (nonce)
		assert_int_equal(OCSP_request_add1_nonce(req, NULL, -1), 1);
	assert_true((n = i2d_OCSP_REQUEST(req, &der)) > 0);
	*len = (size_t)n;
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	OCSP_REQUEST_free(req);
	return der;
}

/* The status of the first SingleResponse, verified with the CA as trusted
 * signer (-VAfile), and its reason / revocation time. */
static int status_of(const crt_ocsp_response *r, X509 *ca, int *reason, int64_t *rev)
{
	const unsigned char *p = r->der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r->der_len);
	OCSP_BASICRESP *bs;
	OCSP_SINGLERESP *one;
	ASN1_GENERALIZEDTIME *revt = NULL, *thisu = NULL, *nextu = NULL;
	STACK_OF(X509) *trust = sk_X509_new_null();
	X509_STORE *st = X509_STORE_new();
	int s;
	assert_non_null(resp);
	assert_int_equal(OCSP_response_status(resp), OCSP_RESPONSE_STATUS_SUCCESSFUL);
	assert_non_null(bs = OCSP_response_get1_basic(resp));
	sk_X509_push(trust, ca);
	X509_STORE_add_cert(st, ca);
	assert_int_equal(OCSP_basic_verify(bs, trust, st, OCSP_TRUSTOTHER), 1);
	one = OCSP_resp_get0(bs, 0);
	s = OCSP_single_get0_status(one, reason, &revt, &thisu, &nextu);
	assert_non_null(thisu);
	assert_non_null(nextu);
	if (revt != NULL) {
		struct tm tm;
		ASN1_TIME_to_tm(revt, &tm);
		*rev = (int64_t)timegm(&tm);
	}
	sk_X509_free(trust);
	X509_STORE_free(st);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return s;
}

static int response_status(const crt_ocsp_response *r)
{
	const unsigned char *p = r->der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r->der_len);
	int s;
	assert_non_null(resp);
	s = OCSP_response_status(resp);
	OCSP_RESPONSE_free(resp);
	return s;
}

static void good_revoked_and_unknown_from_the_store(void **state)
{
	test_instance t;
	crt_cert c = {0};
	crt_ocsp_response r;
	unsigned char *req;
	size_t len;
	int reason = -9;
	int64_t rev = 0;
	X509 *ca;
	tu_instance(&t);
	ca = ca_of(&t);
	issue(t.ctx, "alice", &c);

	req = request(ca, c.serial, 1, &len);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_OK);
	assert_int_equal(status_of(&r, ca, &reason, &rev), V_OCSP_CERTSTATUS_GOOD);
	assert_int_equal(r.first_status, OCSP_STATE_GOOD);
	crt_ocsp_response_clear(&r);

	assert_int_equal(crt_cert_revoke(t.ctx, c.serial, 4, "test", NULL), CRT_OK);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_OK);
	assert_int_equal(status_of(&r, ca, &reason, &rev), V_OCSP_CERTSTATUS_REVOKED);
	assert_int_equal(reason, 4);
	assert_true(rev > 0 && rev <= crt_now());
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);

	req = request(ca, "0badc0ffee", 0, &len);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_OK);
	assert_int_equal(status_of(&r, ca, &reason, &rev), V_OCSP_CERTSTATUS_UNKNOWN);
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);
	crt_cert_clear(&c);
	X509_free(ca);
	tu_instance_free(&t);
}

static void ocsp_request_naming_a_ca_of_the_same_name_with_another_key_is_unknown(void **state)
{
	test_instance t, other;
	crt_cert c = {0};
	crt_ocsp_response r;
	unsigned char *req;
	size_t len;
	int reason;
	int64_t rev;
	X509 *ca, *oca;
	tu_instance(&t);
	tu_instance(&other); /* the same subject, another key */
	ca = ca_of(&t);
	oca = ca_of(&other);
	issue(t.ctx, "alice", &c);
	req = request(oca, c.serial, 1, &len);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_OK);
	assert_int_equal(status_of(&r, ca, &reason, &rev), V_OCSP_CERTSTATUS_UNKNOWN);
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);
	crt_cert_clear(&c);
	X509_free(ca);
	X509_free(oca);
	tu_instance_free(&other);
	tu_instance_free(&t);
}

static void the_nonce_is_echoed(void **state)
{
	test_instance t;
	crt_ocsp_response r;
	const unsigned char *p;
	unsigned char *req;
	size_t len;
	X509 *ca;
	tu_instance(&t);
	ca = ca_of(&t);
	req = request(ca, "01", 1, &len);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_OK);
	p = req;
	OCSP_REQUEST *rq = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	p = r.der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r.der_len);
	OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
	assert_int_equal(OCSP_check_nonce(rq, bs), 1); /* present in both and equal */
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(rq);
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);
	X509_free(ca);
	tu_instance_free(&t);
}

static void ocsp_malformed_requests_are_answered_malformedRequest(void **state)
{
	test_instance t;
	crt_ocsp_response r;
	unsigned char *req, *trail;
	size_t len;
	X509 *ca;
	tu_instance(&t);
	ca = ca_of(&t);
	assert_int_equal(crt_ocsp_respond(t.ctx, (const unsigned char *)"junk", 4, &r), CRT_OK);
	assert_int_equal(response_status(&r), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	crt_ocsp_response_clear(&r);
	assert_int_equal(crt_ocsp_respond(t.ctx, NULL, 0, &r), CRT_OK);
	assert_int_equal(response_status(&r), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	crt_ocsp_response_clear(&r);
	req = request(ca, "01", 1, &len);
	for (size_t cut = 1; cut < len; cut += 7) {
		assert_int_equal(crt_ocsp_respond(t.ctx, req, cut, &r), CRT_OK);
		assert_int_equal(response_status(&r), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
		crt_ocsp_response_clear(&r);
	}
	trail = malloc(len + 1);
	memcpy(trail, req, len);
	trail[len] = 0;
	assert_int_equal(crt_ocsp_respond(t.ctx, trail, len + 1, &r), CRT_OK);
	assert_int_equal(response_status(&r), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	crt_ocsp_response_clear(&r);
	free(trail);
	OPENSSL_free(req);
	X509_free(ca);
	tu_instance_free(&t);
}

static void a_busy_or_unreachable_store_is_answered_tryLater(void **state)
{
	test_instance t;
	crt_ocsp_response r;
	unsigned char *req;
	size_t len;
	X509 *ca;
	tu_instance(&t);
	ca = ca_of(&t);
	req = request(ca, "01", 1, &len);
	store_fault_arm(t.ctx, 1, CRT_E_STORE_BUSY);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_E_STORE_BUSY);
	assert_int_equal(response_status(&r), OCSP_RESPONSE_STATUS_TRYLATER);
	crt_ocsp_response_clear(&r);
	store_fault_arm(t.ctx, 1, CRT_E_STORE_UNAVAILABLE);
	/* Unreachable is transient too (HTTP would say 503): try later. */
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_E_STORE_UNAVAILABLE);
	assert_int_equal(response_status(&r), OCSP_RESPONSE_STATUS_TRYLATER);
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);
	X509_free(ca);
	tu_instance_free(&t);
}

static void the_delegated_signer_signs_once_configured(void **state)
{
	test_instance t;
	crt_cert c = {0};
	crt_ocsp_response r;
	char certf[4096], keyf[4096], serial[72], conf[9000];
	unsigned char *req;
	size_t len;
	X509 *ca, *signer;
	FILE *f;
	tu_instance(&t);
	ca = ca_of(&t);
	issue(t.ctx, "alice", &c);
	assert_int_equal(crt_ocsp_signer_create(t.ctx, 30, "test", certf, keyf, sizeof(certf),
						serial),
			 CRT_OK);
	assert_non_null(f = fopen(certf, "r"));
	assert_non_null(signer = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	assert_true(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN);
	assert_true(X509_get_ext_by_NID(signer, NID_id_pkix_OCSP_noCheck, -1) >= 0);
	assert_int_equal(X509_check_ca(signer), 0);
	crt_close(t.ctx);
	snprintf(conf, sizeof(conf), "[ocsp]\nsigner_cert = %s\nsigner_key = %s\n", certf, keyf);
	tu_config_append(&t, conf);
	tu_open(&t);
	req = request(ca, c.serial, 1, &len);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_OK);
	{
		const unsigned char *p = r.der;
		OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r.der_len);
		OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
		X509_STORE *st = X509_STORE_new();
		X509_STORE_add_cert(st, ca);
		/* Chained to the CA through the signer certificate the response carries. */
		assert_int_equal(OCSP_basic_verify(bs, NULL, st, 0), 1);
		assert_int_equal(X509_cmp(sk_X509_value(OCSP_resp_get0_certs(bs), 0), signer), 0);
		X509_STORE_free(st);
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(resp);
	}
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);
	X509_free(signer);
	crt_cert_clear(&c);
	X509_free(ca);
	tu_instance_free(&t);
}

/*
 * What FreeRADIUS's eap tls ocsp { } check does with the answer:
 * OCSP_basic_verify(bs, NULL, store, 0) — no issuer handed in, so the
 * signer must travel in the response. A CA-signed response without its
 * certificate (OCSP_NOCERTS) failed there with "signer certificate not
 * found" and every certificate was refused.
 */
static void a_ca_signed_answer_verifies_without_the_issuer_as_freeradius_checks_it(void **state)
{
	test_instance t;
	crt_cert c = {0};
	crt_ocsp_response r;
	unsigned char *req;
	size_t len;
	X509 *ca;
	tu_instance(&t);
	ca = ca_of(&t);
	issue(t.ctx, "alice", &c);
	req = request(ca, c.serial, 1, &len);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_OK);
	{
		const unsigned char *p = r.der;
		OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r.der_len);
		OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
		X509_STORE *st = X509_STORE_new();
		X509_STORE_add_cert(st, ca);
		assert_int_equal(OCSP_basic_verify(bs, NULL, st, 0), 1);
		assert_int_equal(X509_cmp(sk_X509_value(OCSP_resp_get0_certs(bs), 0), ca), 0);
		X509_STORE_free(st);
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(resp);
	}
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);
	crt_cert_clear(&c);
	X509_free(ca);
	tu_instance_free(&t);
}

static void ocsp_signer_of_another_ca_is_never_used(void **state)
{
	test_instance t, other;
	char certf[4096], keyf[4096], serial[72], conf[9000];
	crt_ocsp_response r;
	unsigned char *req;
	size_t len;
	X509 *ca;
	tu_instance(&t);
	tu_instance(&other);
	ca = ca_of(&t);
	assert_int_equal(crt_ocsp_signer_create(other.ctx, 30, "test", certf, keyf,
						sizeof(certf), serial),
			 CRT_OK);
	crt_close(t.ctx);
	snprintf(conf, sizeof(conf), "[ocsp]\nsigner_cert = %s\nsigner_key = %s\n", certf, keyf);
	tu_config_append(&t, conf);
	tu_open(&t);
	req = request(ca, "01", 1, &len);
	assert_int_equal(crt_ocsp_respond(t.ctx, req, len, &r), CRT_E_CONFIG);
	assert_int_equal(response_status(&r), OCSP_RESPONSE_STATUS_INTERNALERROR);
	assert_non_null(strstr(crt_errdetail(t.ctx), "not issued by the CA"));
	crt_ocsp_response_clear(&r);
	OPENSSL_free(req);
	X509_free(ca);
	tu_instance_free(&other);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_rule_answers_good_for_an_unrevoked_row_of_this_ca),
	    cmocka_unit_test(the_rule_answers_revoked_with_time_and_reason),
	    cmocka_unit_test(ocsp_serial_never_issued_is_unknown_not_good),
	    cmocka_unit_test(ocsp_request_for_another_issuers_serial_is_not_answered_good),
	    cmocka_unit_test(next_update_is_validity_after_this_update),
	    cmocka_unit_test(good_revoked_and_unknown_from_the_store),
	    cmocka_unit_test(ocsp_request_naming_a_ca_of_the_same_name_with_another_key_is_unknown),
	    cmocka_unit_test(the_nonce_is_echoed),
	    cmocka_unit_test(ocsp_malformed_requests_are_answered_malformedRequest),
	    cmocka_unit_test(a_busy_or_unreachable_store_is_answered_tryLater),
	    cmocka_unit_test(the_delegated_signer_signs_once_configured),
	    cmocka_unit_test(a_ca_signed_answer_verifies_without_the_issuer_as_freeradius_checks_it),
	    cmocka_unit_test(ocsp_signer_of_another_ca_is_never_used),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
