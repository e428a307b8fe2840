/*
 * generate.c — server-side key generation ("GENERATE" redemption) and the
 * key, CSR and PKCS#12 helpers it shares with the end-user client.
 *
 * GENERATE makes a key pair, redeems the token with a CSR signed by that key
 * (so it takes exactly the same path as a device's own CSR), and wraps key,
 * certificate and CA chain in a PKCS#12 protected by the caller's passphrase
 * or by a generated one. The private key exists only in memory and inside
 * the returned PKCS#12; it is never stored.
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

#define GENERATED_PASS_BYTES 18 /* 24 base64url characters, 144 bits */
#define PASSPHRASE_MAX 1024
#define P12_ITER PKCS12_DEFAULT_ITER
#define LEGACY_P12_ITER 2048

/* The key types GENERATE and crtoken-enroll make (crtoken.h, README,
 * crtoken-enroll --help, openapi.yaml): nothing slower, nothing weaker. */
static const char *const key_types[] = {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072",
					"ed25519"};

crt_status crt_key_generate(const char *key_type, EVP_PKEY **out)
{
	if (out == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*out = NULL;
	for (size_t i = 0; key_type != NULL && i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strcmp(key_type, key_types[i]) == 0)
			return ca_keygen(key_type, out);
	return CRT_E_KEY_TYPE;
}

/* Ed25519/Ed448 sign without a separate digest. */
static const EVP_MD *sign_md(const EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? NULL : EVP_sha256();
}

crt_status crt_csr_make(EVP_PKEY *key, const char *cn, char **pem)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	crt_status r = CRT_E_INTERNAL;

	if (key == NULL || pem == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*pem = NULL;
	if (cn == NULL || *cn == '\0')
		cn = "crtoken";
	if ((req = X509_REQ_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if (!X509_REQ_set_version(req, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, key) ||
	    X509_REQ_sign(req, key, sign_md(key)) <= 0 || !PEM_write_bio_X509_REQ(bio, req))
		goto out;
	BIO_get_mem_ptr(bio, &mem);
	if ((*pem = malloc(mem->length + 1)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(*pem, mem->data, mem->length);
	(*pem)[mem->length] = '\0';
	r = CRT_OK;
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return r;
}

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

/* A random passphrase (base64url), malloc'd. */
static crt_status make_passphrase(char **out)
{
	unsigned char rnd[GENERATED_PASS_BYTES];
	char *s;
	crt_status r;

	*out = NULL;
	if ((s = malloc(4 * GENERATED_PASS_BYTES / 3 + 4)) == NULL)
		return CRT_E_NOMEM;
	if ((r = crt_random(rnd, sizeof(rnd))) != CRT_OK) {
		free(s);
		return r;
	}
	crt_b64url(rnd, sizeof(rnd), s);
	explicit_bzero(rnd, sizeof(rnd));
	*out = s;
	return CRT_OK;
}

/*
 * See crtoken.h. Everything that can be refused (key type, passphrase) is
 * checked before the token is spent; after crt_redeem commits, only an
 * out-of-memory can still fail, and then the certificate stays issued (and
 * revocable) without a usable PKCS#12.
 */
crt_status crt_redeem_generate(crt_ctx *ctx, const crt_redeem_req *req, const char *key_type,
                               const char *passphrase, crt_cert *out, unsigned char **p12,
                               size_t *p12_len, char **pass_out)
{
	return crt_redeem_generate_form(ctx, req, key_type, passphrase, CRT_P12_MODERN, out, p12,
	                                p12_len, pass_out);
}

crt_status crt_redeem_generate_form(crt_ctx *ctx, const crt_redeem_req *req,
                                    const char *key_type, const char *passphrase, int form,
                                    crt_cert *out, unsigned char **p12, size_t *p12_len,
                                    char **pass_out)
{
	EVP_PKEY *key = NULL;
	char *csr = NULL, *pass = NULL;
	crt_redeem_req r2;
	crt_cert cert;
	crt_status r;

	memset(&cert, 0, sizeof(cert));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (p12 != NULL)
		*p12 = NULL;
	if (p12_len != NULL)
		*p12_len = 0;
	if (pass_out != NULL)
		*pass_out = NULL;
	if (ctx == NULL || req == NULL || out == NULL || p12 == NULL || p12_len == NULL)
		return CRT_E_INVALID_ARGUMENT;
	crt_clear_detail(ctx);
	if (passphrase == NULL && pass_out == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT,
		                "no passphrase and no way to return one");
	if (passphrase != NULL && (*passphrase == '\0' || strlen(passphrase) > PASSPHRASE_MAX))
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "the passphrase must be 1 to %d bytes",
		                PASSPHRASE_MAX);
	if (form != CRT_P12_MODERN && form != CRT_P12_LEGACY)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "unknown PKCS#12 form");
	if (key_type == NULL)
		key_type = "ec-p256";
	/* Refuse a bad, used or foreign token, or one whose subject can't be
	 * signed, before spending a key generation (RSA takes up to a second);
	 * crt_redeem checks it all again. */
	if ((r = redeem_precheck(ctx, req)) != CRT_OK)
		goto out;

	if ((r = crt_key_generate(key_type, &key)) != CRT_OK) {
		if (r == CRT_E_KEY_TYPE)
			crt_fail(ctx, r,
				 "unknown key type \"%.32s\"; use ec-p256, ec-p384, rsa-2048, "
				 "rsa-3072 or ed25519",
				 key_type);
		else
			crt_fail(ctx, r, "key generation failed");
		goto out;
	}
	if ((r = crt_csr_make(key, "crtoken-generated", &csr)) != CRT_OK) {
		crt_fail(ctx, r, "cannot build the CSR");
		goto out;
	}
	if (passphrase == NULL) {
		if ((r = make_passphrase(&pass)) != CRT_OK) {
			crt_fail(ctx, r, "cannot make a passphrase");
			goto out;
		}
		passphrase = pass;
	}

	r2 = *req;
	r2.csr = (const unsigned char *)csr;
	r2.csr_len = strlen(csr);
	if ((r = crt_redeem(ctx, &r2, &cert)) != CRT_OK)
		goto out; /* detail set by crt_redeem */

	if ((r = crt_pkcs12_make_form(key, cert.pem, cert.chain_pem, cert.name, passphrase, form, p12,
	                         p12_len)) != CRT_OK) {
		crt_fail(ctx, r, "certificate %s issued but the PKCS#12 could not be built",
		         cert.serial);
		goto out;
	}
	*out = cert;
	memset(&cert, 0, sizeof(cert));
	if (pass != NULL) {
		*pass_out = pass;
		pass = NULL;
	}
	r = CRT_OK;
out:
	crt_cert_clear(&cert);
	crt_strfree_secret(pass);
	free(csr);
	EVP_PKEY_free(key); /* OpenSSL clears private key material on free */
	return r;
}
