/*
 * test_csr.c — which CSRs redemption accepts and how it refuses the rest.
 * Each refusal leaves the token unused.
 */
#include "testutil.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

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

/* ------------------------------------------------------------ forged keys
 * CSRs whose "proof of possession" needs no private key, built by hand. */

/* Sign req's current to-be-signed bytes with raw signature bytes sig under
 * the signature algorithm nid (parameters NULL for RSA, absent otherwise). */
static void set_raw_signature(X509_REQ *req, int nid, const unsigned char *sig, size_t n)
{
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();
	assert_non_null(alg);
	assert_non_null(bs);
	assert_true(X509_ALGOR_set0(alg, OBJ_nid2obj(nid),
				    nid == NID_ED25519 ? V_ASN1_UNDEF : V_ASN1_NULL, NULL));
	assert_true(ASN1_BIT_STRING_set(bs, (unsigned char *)sig, (int)n));
	bs->flags &= ~0x07;
	bs->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	assert_true(X509_REQ_set1_signature_algo(req, alg));
	X509_REQ_set0_signature(req, bs);
	X509_ALGOR_free(alg);
}

/* A CSR for the public key pk (subject CN=forged) and its DER tbs bytes. */
static X509_REQ *unsigned_req(EVP_PKEY *pk, unsigned char **tbs, int *tbslen)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	assert_non_null(req);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"forged", -1, -1,
				   0);
	assert_true(X509_REQ_set_subject_name(req, n));
	X509_NAME_free(n);
	assert_true(X509_REQ_set_pubkey(req, pk));
	*tbs = NULL;
	assert_true((*tbslen = i2d_re_X509_REQ_tbs(req, tbs)) > 0);
	return req;
}

/* Redeem the DER of req; returns the status. */
static crt_status redeem_req(X509_REQ *req)
{
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	crt_status r = redeem_with(der, (size_t)n);
	OPENSSL_free(der);
	return r;
}

static EVP_PKEY *rsa_public(const BIGNUM *n, const BIGNUM *e)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *p;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e));
	assert_non_null(p = OSSL_PARAM_BLD_to_param(b));
	assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
	assert_int_equal(EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, p), 1);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(pc);
	return pk;
}

/*
 * RSA with e = 1: s^e mod n = s, so the "signature" is the PKCS#1 v1.5
 * encoding of the digest itself — anyone can make it from public data.
 */
static void csr_rsa_exponent_one_rejected(void **s)
{
	static const unsigned char sha256_info[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
						    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
						    0x01, 0x05, 0x00, 0x04, 0x20};
	EVP_PKEY *real = tu_key("rsa-2048"), *pk;
	BIGNUM *n = NULL, *e = BN_new();
	unsigned char *tbs, em[256];
	int tbslen;
	assert_int_equal(EVP_PKEY_get_bn_param(real, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_true(BN_set_word(e, 1));
	pk = rsa_public(n, e);
	X509_REQ *req = unsigned_req(pk, &tbs, &tbslen);
	/* EM = 00 01 FF..FF 00 DigestInfo(SHA-256(tbs)) */
	size_t k = sizeof(em), tl = sizeof(sha256_info) + 32;
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - tl - 3);
	em[k - tl - 1] = 0x00;
	memcpy(em + k - tl, sha256_info, sizeof(sha256_info));
	SHA256(tbs, (size_t)tbslen, em + k - 32);
	set_raw_signature(req, NID_sha256WithRSAEncryption, em, k);
	assert_int_equal(redeem_req(req), CRT_E_CSR_WEAK_KEY);
	OPENSSL_free(tbs);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(real);
	BN_free(n);
	BN_free(e);
}

/* A genuine key pair with a small exponent (e = 3): below the policy's 65537. */
static void csr_rsa_exponent_three_rejected(void **s)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *e = BN_new();
	assert_true(BN_set_word(e, 3));
	assert_int_equal(EVP_PKEY_keygen_init(pc), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_keygen_bits(pc, 2048) > 0);
	assert_true(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pc, e) > 0);
	assert_int_equal(EVP_PKEY_keygen(pc, &k), 1);
	X509_REQ *req = tu_req(k, "small-e", 0);
	assert_int_equal(redeem_req(req), CRT_E_CSR_WEAK_KEY);
	assert_non_null(strstr(last_detail, "exponent"));
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(pc);
	BN_free(e);
}

/*
 * RSA with a prime modulus: d = e^-1 mod (n - 1) follows from the public
 * key, so anyone holding the certificate can sign for it. The signer here
 * knows only (n, e, d) — exactly what an attacker can compute.
 */
static void csr_rsa_prime_modulus_rejected(void **s)
{
	BIGNUM *n = BN_new(), *e = BN_new(), *d = BN_new(), *n1 = BN_new();
	BN_CTX *bc = BN_CTX_new();
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *p;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	assert_true(BN_set_word(e, 65537));
	do
		assert_true(BN_generate_prime_ex(n, 2048, 0, NULL, NULL, NULL));
	while (!BN_sub(n1, n, BN_value_one()) || BN_mod_inverse(d, e, n1, bc) == NULL);
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e));
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_D, d));
	assert_non_null(p = OSSL_PARAM_BLD_to_param(b));
	assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
	assert_int_equal(EVP_PKEY_fromdata(pc, &k, EVP_PKEY_KEYPAIR, p), 1);
	X509_REQ *req = tu_req(k, "prime-n", 0);
	assert_int_equal(redeem_req(req), CRT_E_CSR_WEAK_KEY);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	BN_CTX_free(bc);
	BN_free(n);
	BN_free(e);
	BN_free(d);
	BN_free(n1);
}

/*
 * Ed25519 public key A = the identity point: [S]B = R + [h]A holds for
 * R = identity, S = 0 and every message, so (R, S) "signs" anything.
 */
static crt_status redeem_ed25519_forgery(const unsigned char pub[32])
{
	unsigned char sig[64] = {0x01}; /* R = identity (canonical), S = 0 */
	unsigned char *tbs;
	int tbslen;
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	assert_non_null(pk);
	X509_REQ *req = unsigned_req(pk, &tbs, &tbslen);
	set_raw_signature(req, NID_ED25519, sig, sizeof(sig));
	crt_status r = redeem_req(req);
	OPENSSL_free(tbs);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	return r;
}

static void csr_ed25519_identity_point_rejected(void **s)
{
	unsigned char pub[32] = {0x01}; /* y = 1, x = 0 */
	assert_int_equal(redeem_ed25519_forgery(pub), CRT_E_CSR_WEAK_KEY);
}

/* The identity again, encoded non-canonically as y = p + 1. */
static void csr_ed25519_noncanonical_identity_rejected(void **s)
{
	unsigned char pub[32];
	memset(pub, 0xff, sizeof(pub));
	pub[0] = 0xee;
	pub[31] = 0x7f;
	assert_int_equal(redeem_ed25519_forgery(pub), CRT_E_CSR_WEAK_KEY);
}

/* P-256 spelled out as explicit parameters: would be issued, then fail
 * `openssl verify` (and burn the token). */
static void csr_ec_explicit_parameters_rejected(void **s)
{
	EVP_PKEY *k = tu_key("ec-p256");
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_ENCODING,
							 OSSL_PKEY_EC_ENCODING_EXPLICIT),
			 1);
	X509_REQ *req = tu_req(k, "explicit", 0);
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	/* prime-field OID 1.2.840.10045.1.1 appears only in explicit parameters */
	static const unsigned char prime_field[] = {0x06, 0x07, 0x2a, 0x86, 0x48,
						    0xce, 0x3d, 0x01, 0x01};
	assert_non_null(memmem(der, (size_t)n, prime_field, sizeof(prime_field)));
	assert_int_equal(redeem_with(der, (size_t)n), CRT_E_CSR_KEY_TYPE);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
}

/* A CSR of key type signed with digest md. */
static crt_status redeem_signed_with(const char *type, const EVP_MD *md)
{
	EVP_PKEY *k = tu_key(type);
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"md", -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_NAME_free(n);
	X509_REQ_set_pubkey(req, k);
	assert_true(X509_REQ_sign(req, k, md) > 0);
	crt_status r = redeem_req(req);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return r;
}

static void csr_signed_with_sha1_rejected(void **s)
{
	assert_int_equal(redeem_signed_with("ec-p256", EVP_sha1()), CRT_E_CSR_WEAK_DIGEST);
	assert_int_equal(redeem_signed_with("rsa-2048", EVP_sha1()), CRT_E_CSR_WEAK_DIGEST);
}

static void csr_signed_with_md5_rejected(void **s)
{
	assert_int_equal(redeem_signed_with("rsa-2048", EVP_md5()), CRT_E_CSR_WEAK_DIGEST);
}

static void sha384_and_sha512_signatures_are_accepted(void **s)
{
	assert_int_equal(redeem_signed_with("ec-p384", EVP_sha384()), CRT_OK);
	assert_int_equal(redeem_signed_with("rsa-2048", EVP_sha512()), CRT_OK);
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
		cmocka_unit_test(csr_rsa_exponent_one_rejected),
		cmocka_unit_test(csr_rsa_exponent_three_rejected),
		cmocka_unit_test(csr_rsa_prime_modulus_rejected),
		cmocka_unit_test(csr_ed25519_identity_point_rejected),
		cmocka_unit_test(csr_ed25519_noncanonical_identity_rejected),
		cmocka_unit_test(csr_ec_explicit_parameters_rejected),
		cmocka_unit_test(csr_signed_with_sha1_rejected),
		cmocka_unit_test(csr_signed_with_md5_rejected),
		cmocka_unit_test(sha384_and_sha512_signatures_are_accepted),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
