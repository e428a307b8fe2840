/*
 * test_csr.c — which CSRs redemption accepts and how it refuses the rest.
 * Each refusal leaves the token unused.
 */
#include "testutil.h"

static char last_detail[512]; /* crt_errdetail of the last redemption */

/* Redeem a fresh token with (csr, len); returns the status. */
static crt_status redeem_with(const void *csr, size_t len)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "csr-test"};
	crt_token t;
	crt_cert c;
	tu_token(ti.ctx, &spec, tok, &t);
	crt_redeem_req req = {.token = tok, .csr = csr, .csr_len = len, .admin = 1, .actor = "t"};
	crt_status r = crt_redeem(ti.ctx, &req, &c);
	snprintf(last_detail, sizeof(last_detail), "%s", crt_errdetail(ti.ctx));
	crt_token u;
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, r == CRT_OK ? CRT_TOKEN_USED : CRT_TOKEN_ACTIVE);
	crt_token_clear(&u);
	crt_token_clear(&t);
	crt_cert_clear(&c);
	return r;
}

static crt_status redeem_key(const char *type)
{
	size_t len;
	char *csr = tu_csr(type, &len);
	crt_status r = redeem_with(csr, len);
	free(csr);
	return r;
}

static void ec_p256_is_accepted(void **s) { assert_int_equal(redeem_key("ec-p256"), CRT_OK); }
static void ec_p384_is_accepted(void **s) { assert_int_equal(redeem_key("ec-p384"), CRT_OK); }
static void rsa_2048_is_accepted(void **s) { assert_int_equal(redeem_key("rsa-2048"), CRT_OK); }
static void ed25519_is_accepted(void **s) { assert_int_equal(redeem_key("ed25519"), CRT_OK); }

static void rsa_1024_is_a_weak_key(void **s)
{
	assert_int_equal(redeem_key("rsa-1024"), CRT_E_CSR_WEAK_KEY);
}

static void p224_is_a_weak_key(void **s)
{
	assert_int_equal(redeem_key("ec-p224"), CRT_E_CSR_WEAK_KEY);
}

static void other_curves_are_unsupported(void **s)
{
	assert_int_equal(redeem_key("ec-secp256k1"), CRT_E_CSR_KEY_TYPE);
	assert_int_equal(redeem_key("ec-p521"), CRT_E_CSR_KEY_TYPE);
	assert_int_equal(redeem_key("ed448"), CRT_E_CSR_KEY_TYPE);
}

static void a_tampered_signature_is_refused(void **s)
{
	EVP_PKEY *k = tu_key("ec-p256");
	X509_REQ *req = tu_req(k, "x", 0);
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	/* Flip a bit inside the subject (signed data) without breaking DER. */
	unsigned char *p = memmem(der, (size_t)n, "x", 1);
	assert_non_null(p);
	*p = 'y';
	assert_int_equal(redeem_with(der, (size_t)n), CRT_E_CSR_BAD_SIGNATURE);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}

static void a_csr_signed_by_another_key_is_refused(void **s)
{
	EVP_PKEY *k1 = tu_key("ec-p256"), *k2 = tu_key("ec-p256");
	X509_REQ *req = tu_req(k1, "x", 0);
	X509_REQ_set_pubkey(req, k2); /* claims k2, signature by k1 */
	size_t len;
	char *pem = tu_req_pem(req, &len);
	assert_int_equal(redeem_with(pem, len), CRT_E_CSR_BAD_SIGNATURE);
	free(pem);
	X509_REQ_free(req);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void der_csrs_are_accepted(void **s)
{
	EVP_PKEY *k = tu_key("ec-p256");
	X509_REQ *req = tu_req(k, "x", 0);
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	assert_int_equal(redeem_with(der, (size_t)n), CRT_OK);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}

static void garbage_is_malformed(void **s)
{
	assert_int_equal(redeem_with("hello world", 11), CRT_E_CSR_MALFORMED);
	assert_int_equal(redeem_with("\x30\x82\x01\x00garbage", 11), CRT_E_CSR_MALFORMED);
	assert_int_equal(redeem_with("", 0), CRT_E_CSR_MALFORMED);
}

static void truncated_pem_is_malformed(void **s)
{
	size_t len;
	char *pem = tu_csr("ec-p256", &len);
	assert_int_equal(redeem_with(pem, len / 2), CRT_E_CSR_MALFORMED);
	free(pem);
}

static void a_certificate_instead_of_a_csr_is_malformed(void **s)
{
	crt_ca_info ci;
	assert_int_equal(crt_ca_get(ti.ctx, &ci), CRT_OK);
	assert_int_equal(redeem_with(ci.pem, strlen(ci.pem)), CRT_E_CSR_MALFORMED);
	assert_non_null(strstr(last_detail, "got a PEM CERTIFICATE"));
	crt_ca_info_clear(&ci);
}

static void oversized_csrs_are_refused_as_too_large(void **s)
{
	size_t n = 70 * 1024;
	char *big = malloc(n);
	memset(big, 'A', n);
	memcpy(big, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
	assert_int_equal(redeem_with(big, n), CRT_E_CSR_TOO_LARGE);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ec_p256_is_accepted),
		cmocka_unit_test(ec_p384_is_accepted),
		cmocka_unit_test(rsa_2048_is_accepted),
		cmocka_unit_test(ed25519_is_accepted),
		cmocka_unit_test(rsa_1024_is_a_weak_key),
		cmocka_unit_test(p224_is_a_weak_key),
		cmocka_unit_test(other_curves_are_unsupported),
		cmocka_unit_test(a_tampered_signature_is_refused),
		cmocka_unit_test(a_csr_signed_by_another_key_is_refused),
		cmocka_unit_test(der_csrs_are_accepted),
		cmocka_unit_test(garbage_is_malformed),
		cmocka_unit_test(truncated_pem_is_malformed),
		cmocka_unit_test(a_certificate_instead_of_a_csr_is_malformed),
		cmocka_unit_test(oversized_csrs_are_refused_as_too_large),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
