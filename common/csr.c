/*
 * csr.c — certificate signing requests: parse (PEM or DER), verify the
 * signature (proof of possession of the private key) and apply the key
 * policy: RSA 2048..8192 bits, EC P-256 / P-384, Ed25519. Runs before any
 * store lock is taken. Nothing else of the CSR (subject, extensions) is used.
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#include "internal.h"

#define CSR_MAX_BYTES (64 * 1024)

static int looks_like_pem(const unsigned char *d, size_t n)
{
	while (n > 0 && (*d == ' ' || *d == '\t' || *d == '\r' || *d == '\n'))
		d++, n--;
	return n >= 10 && memcmp(d, "-----BEGIN", 10) == 0;
}

static crt_status key_policy(crt_ctx *ctx, EVP_PKEY *pk)
{
	char group[64];
	size_t glen = 0;
	int bits = EVP_PKEY_get_bits(pk);

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (bits < 2048)
			return crt_fail(ctx, CRT_E_CSR_WEAK_KEY,
					"RSA key of %d bits; at least 2048 are required", bits);
		if (bits > 8192)
			return crt_fail(ctx, CRT_E_CSR_KEY_TYPE,
					"RSA key of %d bits; at most 8192 are accepted", bits);
		return CRT_OK;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), &glen))
			return crt_fail(ctx, CRT_E_CSR_KEY_TYPE, "EC key with explicit parameters");
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0)
			return CRT_OK;
		if (bits < 256)
			return crt_fail(ctx, CRT_E_CSR_WEAK_KEY,
					"EC curve %s (%d bits); use P-256 or P-384", group, bits);
		return crt_fail(ctx, CRT_E_CSR_KEY_TYPE, "EC curve %s; use P-256 or P-384", group);
	case EVP_PKEY_ED25519:
		return CRT_OK;
	default:
		return crt_fail(ctx, CRT_E_CSR_KEY_TYPE,
				"key type %s; use RSA >= 2048, EC P-256/P-384 or Ed25519",
				OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
	}
}

crt_status csr_load(crt_ctx *ctx, const unsigned char *data, size_t len, X509_REQ **out)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	crt_status r;

	*out = NULL;
	if (data == NULL || len == 0)
		return crt_fail(ctx, CRT_E_CSR_MALFORMED, "the CSR is empty");
	if (len > CSR_MAX_BYTES)
		return crt_fail(ctx, CRT_E_CSR_TOO_LARGE, "the CSR is %zu bytes; the limit is %d",
				len, CSR_MAX_BYTES);
	if (looks_like_pem(data, len)) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		if (b == NULL)
			return CRT_E_NOMEM;
		req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
		BIO_free(b);
		if (req == NULL) {
			const char *what = strstr((const char *)data, "-----BEGIN ");
			char type[40] = "";
			if (what != NULL)
				sscanf(what + 11, "%39[A-Z0-9 ]", type);
			ERR_clear_error();
			if (type[0] && strstr(type, "REQUEST") == NULL)
				return crt_fail(ctx, CRT_E_CSR_MALFORMED,
						"expected a CERTIFICATE REQUEST, got a PEM %s", type);
			return crt_fail(ctx, CRT_E_CSR_MALFORMED, "the PEM CSR is damaged or truncated");
		}
	} else {
		const unsigned char *p = data;
		req = d2i_X509_REQ(NULL, &p, (long)len);
		if (req == NULL || p != data + len) {
			X509_REQ_free(req);
			ERR_clear_error();
			return crt_fail(ctx, CRT_E_CSR_MALFORMED,
					"not a PEM or DER certificate signing request");
		}
	}
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL) {
		r = crt_fail(ctx, CRT_E_CSR_MALFORMED, "the CSR has no usable public key");
		goto fail;
	}
	if ((r = key_policy(ctx, pk)) != CRT_OK)
		goto fail;
	if (X509_REQ_verify(req, pk) != 1) {
		r = crt_fail(ctx, CRT_E_CSR_BAD_SIGNATURE,
			     "the CSR's signature does not match its public key");
		goto fail;
	}
	ERR_clear_error();
	*out = req;
	return CRT_OK;
fail:
	ERR_clear_error();
	X509_REQ_free(req);
	return r;
}
