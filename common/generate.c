/*
 * generate.c — server-side key generation ("GENERATE" redemption).
 *
 * GENERATE makes a key pair, redeems the token with a CSR signed by that key
 * (so it takes exactly the same path as a device's own CSR), and wraps key,
 * certificate and CA chain in a PKCS#12 protected by the caller's passphrase
 * or by a generated one. The private key exists only in memory and inside
 * the returned PKCS#12; it is never stored. The key, CSR and PKCS#12 helpers
 * it shares with the end-user client are keygen.c and pkcs12.c.
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

/* A random passphrase (base64url), malloc'd. */
static crt_status make_passphrase(char **out)
{
	unsigned char rnd[GENERATED_PASS_BYTES];
	char *s;
	crt_status r;

	*out = NULL;
	if ((s = malloc(4 * GENERATED_PASS_BYTES / 3 + 4)) == NULL)
		return CRT_E_NOMEM;
	if ((r = random_bytes(rnd, sizeof(rnd))) != CRT_OK) {
		free(s);
		return r;
	}
	b64url_encode(rnd, sizeof(rnd), s);
	explicit_bzero(rnd, sizeof(rnd));
	*out = s;
	return CRT_OK;
}

/*
 * See crtoken.h. Everything that can be refused (key type, passphrase) is
 * checked before the token is spent; the PKCS#12 is built from the signed
 * certificate before the redemption commits (a failure spends nothing),
 * and with [generate] keep_pkcs12 its sealed copy is stored in the same
 * transaction.
 */
crt_status crt_redeem_generate(crt_ctx *ctx, const crt_redeem_req *req, const char *key_type,
                               const char *passphrase, crt_cert *out, unsigned char **p12,
                               size_t *p12_len, char **pass_out)
{
	return crt_redeem_generate_form(ctx, req, key_type, passphrase, CRT_P12_MODERN, out, p12,
	                                p12_len, pass_out);
}

crt_status crt_token_issue(crt_ctx *ctx, const char *id, const char *key_type,
                           const char *passphrase, int form, const char *actor, crt_cert *out,
                           unsigned char **p12, size_t *p12_len, char **pass_out)
{
	crt_redeem_req req = {.token_id = id, .admin = 1, .actor = actor};

	if (id == NULL || *id == '\0') {
		if (ctx != NULL)
			ctx_clear_detail(ctx);
		return ctx != NULL ? ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token id given")
		                   : CRT_E_INVALID_ARGUMENT;
	}
	return crt_redeem_generate_form(ctx, &req, key_type, passphrase, form, out, p12, p12_len,
	                                pass_out);
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
	redeem_p12 g = {0};
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
	ctx_clear_detail(ctx);
	if (passphrase == NULL && pass_out == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
		                "no passphrase and no way to return one");
	if (passphrase != NULL && (*passphrase == '\0' || strlen(passphrase) > PASSPHRASE_MAX))
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "the passphrase must be 1 to %d bytes",
		                PASSPHRASE_MAX);
	if (form != CRT_P12_MODERN && form != CRT_P12_LEGACY)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "unknown PKCS#12 form");
	if (key_type == NULL)
		key_type = "ec-p256";
	/* Refuse a bad, used or foreign token, or one whose subject can't be
	 * signed, before spending a key generation (RSA takes up to a second);
	 * crt_redeem checks it all again. */
	if ((r = redeem_precheck(ctx, req)) != CRT_OK)
		goto out;

	if ((r = crt_key_generate(key_type, &key)) != CRT_OK) {
		if (r == CRT_E_KEY_TYPE)
			ctx_fail(ctx, r,
				 "unknown key type \"%.32s\"; use ec-p256, ec-p384, rsa-2048, "
				 "rsa-3072 or ed25519",
				 key_type);
		else
			ctx_fail(ctx, r, "key generation failed");
		goto out;
	}
	if ((r = crt_csr_make(key, "crtoken-generated", &csr)) != CRT_OK) {
		ctx_fail(ctx, r, "cannot build the CSR");
		goto out;
	}
	if (passphrase == NULL) {
		if ((r = make_passphrase(&pass)) != CRT_OK) {
			ctx_fail(ctx, r, "cannot make a passphrase");
			goto out;
		}
		passphrase = pass;
	}

	r2 = *req;
	r2.csr = (const unsigned char *)csr;
	r2.csr_len = strlen(csr);
	/* The PKCS#12 is made before the commit (and, with [generate]
	 * keep_pkcs12, kept sealed in the redemption's transaction). */
	g.key = key;
	g.passphrase = passphrase;
	g.form = form;
	if ((r = redeem_run(ctx, &r2, &cert, &g)) != CRT_OK)
		goto out; /* detail set by the redemption */

	*p12 = g.p12;
	*p12_len = g.p12_len;
	g.p12 = NULL;
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
