/*
 * seal.c — sealing at rest with the instance's OTP sealing key ([otp]
 * key_file): AES-256-GCM, a random 96-bit nonce,
 *
 *     blob = 0x01 (version) || nonce (12) || ciphertext || tag (16)
 *
 * with AAD = label || 0x01 || bind, binding the blob to what it is (e.g.
 * "crtoken-otp" and the user of an OTP secret, "crtoken-pkcs12" and the
 * serial and owner of a kept PKCS#12), so a blob copied to another row does
 * not open. The one implementation: the OTP secrets (otp.c) and the kept
 * PKCS#12 ([generate] keep_pkcs12) both go through seal_aead/unseal_aead;
 * each caller says in its own words what failed.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BLOB_VERSION 0x01
#define NONCE_LEN 12
#define TAG_LEN 16

static unsigned char *make_aad(const char *label, const char *bind, size_t *len)
{
	size_t l = strlen(label), b = strlen(bind);
	unsigned char *a = malloc(l + 1 + b);

	if (a != NULL) {
		memcpy(a, label, l);
		a[l] = BLOB_VERSION;
		memcpy(a + l + 1, bind, b);
		*len = l + 1 + b;
	}
	return a;
}

crt_status seal_aead(crt_ctx *ctx, const char *label, const char *bind, const unsigned char *pt,
                     size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char key[CRT_OTP_KEY_LEN], *aad = NULL, *blob = NULL;
	size_t aadlen = 0, bloblen = 1 + NONCE_LEN + n + TAG_LEN;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0;
	crt_status r;

	*out = NULL;
	*outlen = 0;
	if (n > (size_t)INT32_MAX - 64)
		return CRT_E_SEAL;
	if ((r = instance_otp_key(ctx, key)) != CRT_OK)
		return r;
	if ((aad = make_aad(label, bind, &aadlen)) == NULL || (blob = malloc(bloblen)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	blob[0] = BLOB_VERSION;
	if ((r = random_bytes(blob + 1, NONCE_LEN)) != CRT_OK)
		goto out;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, blob + 1) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, aad, (int)aadlen) != 1 ||
	    EVP_EncryptUpdate(c, blob + 1 + NONCE_LEN, &len, pt, (int)n) != 1 || (size_t)len != n ||
	    EVP_EncryptFinal_ex(c, blob + 1 + NONCE_LEN + n, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, blob + 1 + NONCE_LEN + n) != 1) {
		r = CRT_E_SEAL;
		goto out;
	}
	*out = blob;
	*outlen = bloblen;
	blob = NULL;
	r = CRT_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(c);
	free(aad);
	crt_freezero(blob, bloblen);
	return r;
}

crt_status unseal_aead(crt_ctx *ctx, const char *label, const char *bind, const unsigned char *blob,
                       size_t bloblen, size_t max, unsigned char **pt, size_t *n, int *malformed)
{
	unsigned char key[CRT_OTP_KEY_LEN], tag[TAG_LEN], *aad = NULL, *out = NULL;
	size_t aadlen = 0, ctlen = 0;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0;
	crt_status r;

	*pt = NULL;
	*n = 0;
	*malformed = 0;
	if (blob == NULL || bloblen <= 1 + NONCE_LEN + TAG_LEN || blob[0] != BLOB_VERSION ||
	    bloblen > (size_t)INT32_MAX || (max > 0 && bloblen - (1 + NONCE_LEN + TAG_LEN) > max)) {
		*malformed = 1;
		return CRT_E_SEAL;
	}
	ctlen = bloblen - (1 + NONCE_LEN + TAG_LEN);
	if ((r = instance_otp_key(ctx, key)) != CRT_OK)
		return r;
	if ((aad = make_aad(label, bind, &aadlen)) == NULL || (out = malloc(ctlen)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(tag, blob + 1 + NONCE_LEN + ctlen, TAG_LEN);
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, blob + 1) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &len, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(c, out, &len, blob + 1 + NONCE_LEN, (int)ctlen) != 1 ||
	    (size_t)len != ctlen ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(c, out + len, &len) != 1) {
		r = CRT_E_SEAL;
		goto out;
	}
	*pt = out;
	*n = ctlen;
	out = NULL;
	r = CRT_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(c);
	free(aad);
	crt_freezero(out, ctlen);
	return r;
}

crt_status seal_blob(crt_ctx *ctx, const char *label, const char *bind, const unsigned char *pt,
                     size_t n, unsigned char **out, size_t *outlen)
{
	crt_status r;

	*out = NULL;
	*outlen = 0;
	if (n == 0 || n > (size_t)INT32_MAX - 64)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "nothing to seal");
	if ((r = seal_aead(ctx, label, bind, pt, n, out, outlen)) == CRT_E_SEAL)
		return ctx_fail(ctx, r, "cannot seal the %s", label);
	return r;
}

crt_status unseal_blob(crt_ctx *ctx, const char *label, const char *bind, const unsigned char *blob,
                       size_t bloblen, unsigned char **pt, size_t *n)
{
	int malformed;
	crt_status r = unseal_aead(ctx, label, bind, blob, bloblen, 0, pt, n, &malformed);

	if (r == CRT_E_SEAL)
		return malformed
		           ? ctx_fail(ctx, r, "the sealed %s is malformed", label)
		           : ctx_fail(ctx, r, "the sealed %s does not open with this key", label);
	return r;
}
