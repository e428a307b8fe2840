/*
 * pkcs12.c — key, certificate and CA chain wrapped in a PKCS#12, for
 * crtoken-enroll (on the device) and a GENERATE redemption (generate.c).
 * No store, no ctx: part of libcrtoken-client.
 *
 * PKCS#12 format: key and certificate bags encrypted with AES-256-CBC under
 * PBKDF2 (PKCS#5 v2), integrity by an HMAC-SHA-256 MAC — what OpenSSL 3,
 * NetworkManager and wpa_supplicant read without legacy providers.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define P12_ITER PKCS12_DEFAULT_ITER
#define LEGACY_P12_ITER 2048

/* Every certificate in pem, in order, appended to sk. */
static crt_status load_certs(const char *pem, STACK_OF(X509) * sk)
{
	BIO *bio;
	X509 *x;
	crt_status r = CRT_OK;

	if (pem == NULL || *pem == '\0')
		return CRT_OK;
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return CRT_E_NOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = CRT_E_NOMEM;
			break;
		}
	}
	ERR_clear_error(); /* the loop ends on "no start line" */
	BIO_free(bio);
	return r;
}

crt_status crt_pkcs12_make(EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                           const char *friendly, const char *passphrase, unsigned char **der,
                           size_t *len)
{
	return crt_pkcs12_make_form(key, cert_pem, chain_pem, friendly, passphrase, CRT_P12_MODERN,
	                            der, len);
}

/*
 * CRT_P12_LEGACY: both bags PBE-SHA1-3DES, SHA-1 MAC, 2048 iterations — the
 * form iOS / macOS configuration profiles and older Windows import. 3DES is
 * in OpenSSL 3's default provider (RC2-40, the other old default, is not),
 * so both forms are made and read without the legacy provider.
 */
crt_status crt_pkcs12_make_form(EVP_PKEY *key, const char *cert_pem, const char *chain_pem,
                                const char *friendly, const char *passphrase, int form,
                                unsigned char **der, size_t *len)
{
	int legacy = form == CRT_P12_LEGACY;
	int nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
	int iter = legacy ? LEGACY_P12_ITER : P12_ITER;
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	X509 *cert = NULL;
	PKCS12 *p12 = NULL;
	unsigned char *buf = NULL, *p;
	int n;
	crt_status r = CRT_E_INTERNAL;

	if (der != NULL)
		*der = NULL;
	if (len != NULL)
		*len = 0;
	if (key == NULL || cert_pem == NULL || passphrase == NULL || *passphrase == '\0' ||
	    der == NULL || len == NULL || (form != CRT_P12_MODERN && form != CRT_P12_LEGACY))
		return CRT_E_INVALID_ARGUMENT;
	if ((certs = sk_X509_new_null()) == NULL || (chain = sk_X509_new_null()) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = load_certs(cert_pem, certs)) != CRT_OK)
		goto out;
	if (sk_X509_num(certs) < 1) {
		r = CRT_E_INVALID_ARGUMENT;
		goto out;
	}
	cert = sk_X509_value(certs, 0);
	if (X509_check_private_key(cert, key) != 1) {
		r = CRT_E_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = load_certs(chain_pem, chain)) != CRT_OK)
		goto out;
	r = CRT_E_INTERNAL;
	/* mac_iter -1: no MAC here; the SHA-256 MAC is set explicitly below
	 * (PKCS12_create's default MAC digest is SHA-1). */
	p12 = PKCS12_create_ex(passphrase, friendly, key, cert, sk_X509_num(chain) ? chain : NULL,
	                       nid, nid, iter, -1, 0, NULL, NULL);
	if (p12 == NULL)
		goto out;
	if (!PKCS12_set_mac(p12, passphrase, -1, NULL, 0, iter,
	                    legacy ? EVP_sha1() : EVP_sha256()))
		goto out;
	if ((n = i2d_PKCS12(p12, NULL)) <= 0)
		goto out;
	if ((buf = malloc((size_t)n)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	p = buf;
	if (i2d_PKCS12(p12, &p) != n)
		goto out;
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	r = CRT_OK;
out:
	ERR_clear_error();
	free(buf);
	PKCS12_free(p12);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(certs, X509_free);
	return r;
}
