/*
 * fuzz_csr.c — CSR parsing and validation: csr_load (PEM or DER, strict
 * PKCS#10 structure, signature verification, key policy) exactly as
 * crt_redeem calls it, on the raw bytes (no terminating NUL: csr_load takes
 * data + len; the copy is exact-size so ASan sees any read past len).
 *
 * Differential against OpenSSL's own parser (PEM_read_bio_X509_REQ /
 * d2i_X509_REQ + X509_REQ_verify):
 *  - whatever csr_load accepts, OpenSSL parses and verifies too, with the
 *    same public key, of an allowed type;
 *  - whatever OpenSSL accepts as canonical DER (re-encoding gives the input
 *    back) with a verifying signature, a version-0 request and a key the
 *    policy allows, csr_load accepts.
 * A zeroed crt_ctx is enough: csr_load writes the failure detail and caches
 * its key decoder there.
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "internal.h"
#include "fuzz.h"

static crt_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		abort();
	return 0;
}

static int looks_like_pem(const uint8_t *d, size_t n)
{
	while (n > 0 && (*d == ' ' || *d == '\t' || *d == '\r' || *d == '\n'))
		d++, n--;
	return n >= 10 && memcmp(d, "-----BEGIN", 10) == 0;
}

/* The policy of csr.c restated: RSA 2048..8192 with e odd >= 65537, EC
 * P-256/P-384 as a named curve and a valid point, Ed25519 but for small-order
 * or non-canonical points; signed with SHA-256/384/512 (Ed25519: pure). */
static int policy_allows(X509_REQ *req, EVP_PKEY *pk)
{
	char group[64];
	unsigned char raw[32];
	size_t glen = 0, rawlen = sizeof(raw);
	int bits = EVP_PKEY_get_bits(pk), ptype, mdnid, pknid, ok;
	const X509_ALGOR *sigalg;
	X509_ALGOR *keyalg;
	const ASN1_OBJECT *oid;
	BIGNUM *e = NULL;
	EVP_PKEY_CTX *pc;

	X509_REQ_get0_signature(req, NULL, &sigalg);
	X509_ALGOR_get0(&oid, NULL, NULL, sigalg);
	if (!OBJ_find_sigid_algs(OBJ_obj2nid(oid), &mdnid, &pknid))
		return 0;
	if (pknid == EVP_PKEY_ED25519 ? mdnid != NID_undef
				      : mdnid != NID_sha256 && mdnid != NID_sha384 &&
					mdnid != NID_sha512)
		return 0;
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (bits < 2048 || bits > 8192 ||
		    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e))
			return 0;
		ok = BN_is_odd(e) && BN_get_word(e) >= 65537;
		BN_free(e);
		return ok;
	case EVP_PKEY_EC:
		if (!X509_PUBKEY_get0_param(NULL, NULL, NULL, &keyalg, X509_REQ_get_X509_PUBKEY(req)))
			return 0;
		X509_ALGOR_get0(NULL, &ptype, NULL, keyalg);
		if (ptype != V_ASN1_OBJECT ||
		    !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), &glen) ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0) ||
		    (pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
			return 0;
		ok = EVP_PKEY_public_check_quick(pc) == 1;
		EVP_PKEY_CTX_free(pc);
		return ok;
	case EVP_PKEY_ED25519:
		return EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) && rawlen == 32 &&
		       csr_ed25519_point_ok(raw);
	default:
		return 0;
	}
}

/* OpenSSL's reading of the input; *canonical set for DER that re-encodes to itself. */
static X509_REQ *reference(const uint8_t *data, size_t size, int *canonical)
{
	X509_REQ *req = NULL;

	*canonical = 0;
	if (size == 0 || size > 64 * 1024)
		return NULL;
	if (looks_like_pem(data, size)) {
		BIO *b = BIO_new_mem_buf(data, (int)size);
		if (b != NULL)
			req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		const unsigned char *p = data;
		unsigned char *der = NULL;
		int n;
		req = d2i_X509_REQ(NULL, &p, (long)size);
		if (req != NULL && p != data + size) {
			X509_REQ_free(req);
			req = NULL;
		}
		if (req != NULL && (n = i2d_X509_REQ(req, &der)) > 0)
			*canonical = (size_t)n == size && memcmp(der, data, size) == 0;
		OPENSSL_free(der);
	}
	ERR_clear_error();
	return req;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	crt_csr *csr = NULL;
	X509_REQ *ref;
	EVP_PKEY *refkey = NULL;
	int canonical, ref_ok;
	crt_status r;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	r = csr_load(ctx, copy, size, &csr);
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_CSR_MALFORMED || r == CRT_E_CSR_TOO_LARGE ||
		   r == CRT_E_CSR_WEAK_KEY || r == CRT_E_CSR_KEY_TYPE ||
		   r == CRT_E_CSR_BAD_SIGNATURE || r == CRT_E_CSR_WEAK_DIGEST || r == CRT_E_NOMEM);
	FUZZ_CHECK((r == CRT_OK) == (csr != NULL));
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_NOMEM || ctx->detail[0] != '\0');
	FUZZ_CHECK(ERR_peek_error() == 0); /* no OpenSSL errors left queued */

	ref = reference(data, size, &canonical);
	if (ref != NULL)
		refkey = X509_REQ_get0_pubkey(ref);
	ref_ok = refkey != NULL && X509_REQ_verify(ref, refkey) == 1;
	ERR_clear_error();
	if (csr != NULL) {
		FUZZ_CHECK(ref_ok);
		FUZZ_CHECK(EVP_PKEY_eq(csr->pkey, refkey) == 1);
		FUZZ_CHECK(policy_allows(ref, csr->pkey));
		FUZZ_CHECK(csr->key_alg != NULL && csr->key_bits != NULL);
	} else if (ref_ok && canonical && X509_REQ_get_version(ref) == 0 &&
		   policy_allows(ref, refkey)) {
		fprintf(stderr, "csr_load refused (%s: %s) what OpenSSL accepts\n",
			crt_status_name(r), ctx->detail);
		FUZZ_CHECK(csr != NULL);
	}
	ERR_clear_error();
	X509_REQ_free(ref);
	csr_free(csr);
	ctx->detail[0] = '\0';
	free(copy);
	return 0;
}
