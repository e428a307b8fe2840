/*
 * seal.c — sealing at rest with the instance's OTP sealing key ([otp]
 * key_file), the same construction as the OTP secrets (otp.c): AES-256-GCM,
 * a random 96-bit nonce, blob = version || nonce || ciphertext || tag, the
 * AAD binding the blob to what it is ("label", version, "bind" — e.g. the
 * serial and owner of a kept PKCS#12), so a blob copied to another row does
 * not open. Used for the kept PKCS#12 ([generate] keep_pkcs12).
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

crt_status seal_blob(crt_ctx *ctx, const char *label, const char *bind, const unsigned char *pt,
                     size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char key[CRT_OTP_KEY_LEN], *aad = NULL, *blob = NULL;
	size_t aadlen = 0, bloblen = 1 + NONCE_LEN + n + TAG_LEN;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0;
	crt_status r;

	*out = NULL;
	*outlen = 0;
	if (n == 0 || n > (size_t)INT32_MAX - 64)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "nothing to seal");
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
		r = ctx_fail(ctx, CRT_E_SEAL, "cannot seal the %s", label);
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

crt_status unseal_blob(crt_ctx *ctx, const char *label, const char *bind,
                       const unsigned char *blob, size_t bloblen, unsigned char **pt, size_t *n)
{
	unsigned char key[CRT_OTP_KEY_LEN], tag[TAG_LEN], *aad = NULL, *out = NULL;
	size_t aadlen = 0, ctlen;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0;
	crt_status r;

	*pt = NULL;
	*n = 0;
	if (blob == NULL || bloblen <= 1 + NONCE_LEN + TAG_LEN || blob[0] != BLOB_VERSION ||
	    bloblen > (size_t)INT32_MAX)
		return ctx_fail(ctx, CRT_E_SEAL, "the sealed %s is malformed", label);
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
	    (size_t)len != ctlen || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(c, out + len, &len) != 1) {
		r = ctx_fail(ctx, CRT_E_SEAL, "the sealed %s does not open with this key", label);
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
