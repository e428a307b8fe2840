/*
 * csr.c — certificate signing requests: parse (PEM or DER, strict DER
 * structure), verify the signature (proof of possession of the private key)
 * and apply the key policy: RSA 2048..8192 bits, EC P-256 / P-384 (named
 * curves), Ed25519, each a valid public key (no "key" whose signatures can be
 * made from public data: RSA e = 1, a prime modulus, a small-order Ed25519
 * point), signed with SHA-256, SHA-384 or SHA-512 (Ed25519: pure EdDSA).
 * Runs before any store lock is taken. Only the public key is used; the
 * subject and any requested extensions are ignored.
 *
 * Why not d2i_X509_REQ: in OpenSSL 3.0 it builds a fresh decoder context for
 * the public key on every call (~100 µs, more than the signature check).
 * This file walks the PKCS#10 structure itself and decodes the key with a
 * decoder context cached per crt_ctx; the differential fuzz harness checks
 * that it accepts exactly what OpenSSL's own parser accepts and verifies.
 */
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#include "internal.h"

#define CSR_MAX_BYTES (64 * 1024)

void csr_free(crt_csr *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->pkey);
	X509_ALGOR_free(c->key_alg);
	ASN1_BIT_STRING_free(c->key_bits);
	free(c->der);
	free(c);
}

static int looks_like_pem(const unsigned char *d, size_t n)
{
	while (n > 0 && (*d == ' ' || *d == '\t' || *d == '\r' || *d == '\n'))
		d++, n--;
	return n >= 10 && memcmp(d, "-----BEGIN", 10) == 0;
}

/* PEM → DER (malloc'd by OpenSSL). Refuses PEM blocks of other types. */
static crt_status pem_to_der(crt_ctx *ctx, const unsigned char *data, size_t len,
			     unsigned char **der, long *derlen)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	char *name = NULL, *header = NULL;
	crt_status r = CRT_OK;

	if (b == NULL)
		return CRT_E_NOMEM;
	if (!PEM_read_bio(b, &name, &header, der, derlen)) {
		r = ctx_fail(ctx, CRT_E_CSR_MALFORMED, "the PEM CSR is damaged or truncated");
	} else if (strcmp(name, PEM_STRING_X509_REQ) != 0 &&
		   strcmp(name, PEM_STRING_X509_REQ_OLD) != 0) {
		r = ctx_fail(ctx, CRT_E_CSR_MALFORMED, "expected a CERTIFICATE REQUEST, got a PEM %.40s",
			     name);
	} else if (header != NULL && *header != '\0') {
		r = ctx_fail(ctx, CRT_E_CSR_MALFORMED, "encrypted or annotated PEM is not a CSR");
	}
	if (r != CRT_OK) {
		OPENSSL_free(*der);
		*der = NULL;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(b);
	ERR_clear_error();
	return r;
}

/*
 * One DER TLV at *p (not beyond end) with the given tag, class and form;
 * definite length only. On success the content is [*c, *c + *clen) and *p
 * moves past the element.
 */
static int tlv(const unsigned char **p, const unsigned char *end, int tag, int cls, int cons,
	       const unsigned char **c, long *clen)
{
	const unsigned char *q = *p;
	long len;
	int t, k;
	if (end <= q)
		return 0;
	int ret = ASN1_get_object(&q, &len, &t, &k, end - q);
	if ((ret & 0x80) || (ret & 0x01) || t != tag || k != cls ||
	    ((ret & V_ASN1_CONSTRUCTED) != 0) != cons || len > end - q)
		return 0;
	*c = q;
	*clen = len;
	*p = q + len;
	return 1;
}

/* Parse the DER structure; fills tbs (the signed bytes), the SPKI, the
 * signature algorithm and the signature. Returns 1 if well formed. */
struct parts {
	const unsigned char *tbs, *spki;
	long tbslen, spkilen;
	X509_ALGOR *sigalg;
	ASN1_BIT_STRING *sig;
	X509_ALGOR *keyalg;
	ASN1_BIT_STRING *keybits;
};

static int parse_der(const unsigned char *der, long len, struct parts *pt)
{
	const unsigned char *p = der, *end = der + len, *c, *ic, *s;
	long clen, iclen, tmp;

	/* CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature } */
	if (!tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &c, &clen) || p != end)
		return 0;
	p = c;
	end = c + clen;
	pt->tbs = p;
	if (!tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &ic, &iclen))
		return 0;
	pt->tbslen = p - pt->tbs;
	s = p;
	if (!tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &c, &tmp) ||
	    (pt->sigalg = d2i_X509_ALGOR(NULL, &s, p - s)) == NULL || s != p)
		return 0;
	s = p;
	if (!tlv(&p, end, V_ASN1_BIT_STRING, V_ASN1_UNIVERSAL, 0, &c, &tmp) ||
	    (pt->sig = d2i_ASN1_BIT_STRING(NULL, &s, p - s)) == NULL || s != p || p != end)
		return 0;

	/* CertificationRequestInfo ::= SEQUENCE { version 0, subject, SPKI, [0] attributes } */
	p = ic;
	end = ic + iclen;
	if (!tlv(&p, end, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, 0, &c, &clen) || clen != 1 || c[0] != 0)
		return 0;
	if (!tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &c, &clen)) /* subject: unused */
		return 0;
	pt->spki = p;
	if (!tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &ic, &iclen))
		return 0;
	pt->spkilen = p - pt->spki;
	if (p != end && (!tlv(&p, end, 0, V_ASN1_CONTEXT_SPECIFIC, 1, &c, &clen) || p != end))
		return 0;

	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING } */
	p = ic;
	end = ic + iclen;
	s = p;
	if (!tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &c, &clen) ||
	    (pt->keyalg = d2i_X509_ALGOR(NULL, &s, p - s)) == NULL || s != p)
		return 0;
	s = p;
	if (!tlv(&p, end, V_ASN1_BIT_STRING, V_ASN1_UNIVERSAL, 0, &c, &clen) ||
	    (pt->keybits = d2i_ASN1_BIT_STRING(NULL, &s, p - s)) == NULL || s != p || p != end)
		return 0;
	return 1;
}

/* Decode an SPKI with the ctx's cached decoder (one per connection). */
static EVP_PKEY *decode_spki(crt_ctx *ctx, const unsigned char *der, long len)
{
	const unsigned char *p = der;
	size_t left = (size_t)len;
	EVP_PKEY *pk;

	if (ctx->spki_decoder == NULL) {
		ctx->spki_decoder = OSSL_DECODER_CTX_new_for_pkey(
			&ctx->spki_out, "DER", "SubjectPublicKeyInfo", NULL, EVP_PKEY_PUBLIC_KEY,
			NULL, NULL);
		if (ctx->spki_decoder == NULL)
			return NULL;
	}
	ctx->spki_out = NULL;
	if (!OSSL_DECODER_from_data(ctx->spki_decoder, &p, &left) || left != 0) {
		EVP_PKEY_free(ctx->spki_out);
		ctx->spki_out = NULL;
		return NULL;
	}
	pk = ctx->spki_out;
	ctx->spki_out = NULL;
	return pk;
}

/*
 * The Ed25519 points no private key stands behind: the 8-torsion (the
 * identity among them), whose "signatures" anyone can make, compared with
 * the sign bit ignored, and every encoding with y >= p (non-canonical).
 * The same two checks as libsodium's crypto_sign_verify_detached.
 */
int csr_ed25519_point_ok(const unsigned char a[32])
{
	static const unsigned char small_order[][32] = {
		{0x00}, /* y = 0, order 4 */
		{0x01}, /* y = 1, the identity */
		{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
		 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
		 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05}, /* order 8 */
		{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
		 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
		 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}, /* order 8 */
		{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, /* y = -1, order 2 */
	};
	int high = 1;

	for (int i = 1; i < 31; i++)
		high &= a[i] == 0xff;
	if (high && (a[31] & 0x7f) == 0x7f && a[0] >= 0xed) /* y >= 2^255 - 19 */
		return 0;
	for (size_t k = 0; k < sizeof(small_order) / sizeof(small_order[0]); k++)
		if (memcmp(a, small_order[k], 31) == 0 && (a[31] & 0x7f) == small_order[k][31])
			return 0;
	return 1;
}

/* An RSA exponent of at least 65537 and a sound Ed25519 point; the RSA
 * modulus is checked later (csr_check_key), once the token is known. */
static crt_status key_valid(crt_ctx *ctx, EVP_PKEY *pk, const unsigned char *bits,
			    int bitslen)
{
	EVP_PKEY_CTX *pc;
	BIGNUM *e = NULL;
	int ok;

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e))
			return ctx_fail(ctx, CRT_E_CSR_WEAK_KEY, "the RSA key has no exponent");
		ok = BN_is_odd(e) && BN_get_word(e) >= 65537;
		BN_free(e);
		return ok ? CRT_OK
			  : ctx_fail(ctx, CRT_E_CSR_WEAK_KEY,
				     "RSA public exponent must be odd and at least 65537");
	case EVP_PKEY_ED25519:
		if (bitslen != 32 || !csr_ed25519_point_ok(bits))
			return ctx_fail(ctx, CRT_E_CSR_WEAK_KEY,
					"the Ed25519 public key is a small-order or "
					"non-canonical point (no private key behind it)");
		return CRT_OK;
	}
	/* EC: in range and on the curve; the full check adds [n]Q = O, implied
	 * on P-256/P-384 (cofactor 1). */
	if ((pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
		return CRT_E_NOMEM;
	ok = EVP_PKEY_public_check_quick(pc) == 1;
	EVP_PKEY_CTX_free(pc);
	ERR_clear_error();
	return ok ? CRT_OK : ctx_fail(ctx, CRT_E_CSR_WEAK_KEY, "the EC public key is not valid");
}

/* SP 800-56B for an RSA key (other keys pass): an odd composite modulus
 * without small factors. One Miller-Rabin round: ~4 ms for 2048 bits. */
static crt_status rsa_modulus_valid(crt_ctx *ctx, EVP_PKEY *pk)
{
	EVP_PKEY_CTX *pc;
	int ok;

	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return CRT_OK;
	if ((pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
		return CRT_E_NOMEM;
	ok = EVP_PKEY_public_check(pc) == 1;
	EVP_PKEY_CTX_free(pc);
	ERR_clear_error();
	if (!ok)
		return ctx_fail(ctx, CRT_E_CSR_WEAK_KEY,
				"the RSA public key is not valid (its modulus is prime or has "
				"small factors: the private key follows from the public one)");
	return CRT_OK;
}

crt_status csr_check_key(crt_ctx *ctx, crt_csr *c)
{
	crt_status r;

	/* The costly part, which is why it waits for a live token. */
	if (c->key_checked)
		return CRT_OK;
	if ((r = rsa_modulus_valid(ctx, c->pkey)) != CRT_OK)
		return r;
	c->key_checked = 1;
	return CRT_OK;
}

static crt_status key_policy(crt_ctx *ctx, EVP_PKEY *pk, const X509_ALGOR *alg,
			     const unsigned char *keybits, int keylen)
{
	char group[64];
	size_t glen = 0;
	int bits = EVP_PKEY_get_bits(pk), ptype;

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (bits < 2048)
			return ctx_fail(ctx, CRT_E_CSR_WEAK_KEY,
					"RSA key of %d bits; at least 2048 are required", bits);
		if (bits > 8192)
			return ctx_fail(ctx, CRT_E_CSR_KEY_TYPE,
					"RSA key of %d bits; at most 8192 are accepted", bits);
		break;
	case EVP_PKEY_EC:
		/* Named curves only: explicit parameters (even P-256's own) are
		 * refused by verifiers of the certificate, `openssl verify` included. */
		X509_ALGOR_get0(NULL, &ptype, NULL, alg);
		if (ptype != V_ASN1_OBJECT ||
		    !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), &glen))
			return ctx_fail(ctx, CRT_E_CSR_KEY_TYPE,
					"EC key with explicit parameters; use the named curve "
					"P-256 or P-384");
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0)
			break;
		if (bits < 256)
			return ctx_fail(ctx, CRT_E_CSR_WEAK_KEY,
					"EC curve %s (%d bits); use P-256 or P-384", group, bits);
		return ctx_fail(ctx, CRT_E_CSR_KEY_TYPE, "EC curve %s; use P-256 or P-384", group);
	case EVP_PKEY_ED25519:
		break;
	default:
		return ctx_fail(ctx, CRT_E_CSR_KEY_TYPE,
				"key type %s; use RSA >= 2048, EC P-256/P-384 or Ed25519",
				OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
	}
	return key_valid(ctx, pk, keybits, keylen);
}

crt_status csr_key_policy(crt_ctx *ctx, EVP_PKEY *pk, const X509_PUBKEY *spki)
{
	const unsigned char *bits = NULL;
	X509_ALGOR *alg = NULL;
	int bitslen = 0;
	crt_status r;

	if (!X509_PUBKEY_get0_param(NULL, &bits, &bitslen, &alg, spki))
		return ctx_fail(ctx, CRT_E_CSR_KEY_TYPE, "the public key cannot be read");
	if ((r = key_policy(ctx, pk, alg, bits, bitslen)) != CRT_OK)
		return r;
	return rsa_modulus_valid(ctx, pk);
}

static crt_status verify(crt_ctx *ctx, const struct parts *pt, EVP_PKEY *pk)
{
	const ASN1_OBJECT *oid;
	int mdnid, pknid, ok = 0;
	EVP_MD_CTX *md = NULL;

	X509_ALGOR_get0(&oid, NULL, NULL, pt->sigalg);
	if (!OBJ_find_sigid_algs(OBJ_obj2nid(oid), &mdnid, &pknid))
		return ctx_fail(ctx, CRT_E_CSR_MALFORMED, "unknown signature algorithm");
	if (pknid != EVP_PKEY_get_base_id(pk))
		return ctx_fail(ctx, CRT_E_CSR_BAD_SIGNATURE,
				"the signature algorithm does not match the key");
	/* Collisions in MD5 and SHA-1 let one signature cover two requests. */
	if (pknid == EVP_PKEY_ED25519 ? mdnid != NID_undef
				      : mdnid != NID_sha256 && mdnid != NID_sha384 &&
					mdnid != NID_sha512)
		return ctx_fail(ctx, CRT_E_CSR_WEAK_DIGEST,
				"the CSR is signed with %s; use SHA-256, SHA-384 or SHA-512",
				mdnid == NID_undef ? "an unknown digest" : OBJ_nid2sn(mdnid));
	if (pt->sig->flags & 0x07) /* unused bits in the signature */
		return ctx_fail(ctx, CRT_E_CSR_BAD_SIGNATURE, "malformed signature");
	if ((md = EVP_MD_CTX_new()) == NULL)
		return CRT_E_NOMEM;
	ok = EVP_DigestVerifyInit_ex(md, NULL, mdnid == NID_undef ? NULL : OBJ_nid2sn(mdnid), NULL,
				     NULL, pk, NULL) == 1 &&
	     EVP_DigestVerify(md, pt->sig->data, (size_t)pt->sig->length, pt->tbs,
			      (size_t)pt->tbslen) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok ? CRT_OK
		  : ctx_fail(ctx, CRT_E_CSR_BAD_SIGNATURE,
			     "the CSR's signature does not match its public key");
}

crt_status csr_load(crt_ctx *ctx, const unsigned char *data, size_t len, crt_csr **out)
{
	struct parts pt = {0};
	unsigned char *pem_der = NULL;
	const unsigned char *der = data;
	long derlen = (long)len;
	crt_csr *c = NULL;
	crt_status r;

	*out = NULL;
	if (data == NULL || len == 0)
		return ctx_fail(ctx, CRT_E_CSR_MALFORMED, "the CSR is empty");
	if (len > CSR_MAX_BYTES)
		return ctx_fail(ctx, CRT_E_CSR_TOO_LARGE, "the CSR is %zu bytes; the limit is %d",
				len, CSR_MAX_BYTES);
	if (looks_like_pem(data, len)) {
		if ((r = pem_to_der(ctx, data, len, &pem_der, &derlen)) != CRT_OK)
			return r;
		der = pem_der;
	}
	if (!parse_der(der, derlen, &pt)) {
		r = ctx_fail(ctx, CRT_E_CSR_MALFORMED,
			     "not a PEM or DER certificate signing request (PKCS#10)");
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((c->pkey = decode_spki(ctx, pt.spki, pt.spkilen)) == NULL) {
		r = ctx_fail(ctx, CRT_E_CSR_KEY_TYPE, "the CSR's public key could not be decoded");
		goto out;
	}
	if ((r = key_policy(ctx, c->pkey, pt.keyalg, pt.keybits->data, pt.keybits->length)) !=
		    CRT_OK ||
	    (r = verify(ctx, &pt, c->pkey)) != CRT_OK)
		goto out;
	if ((c->der = malloc((size_t)derlen)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(c->der, der, (size_t)derlen);
	c->der_len = (size_t)derlen;
	c->key_alg = pt.keyalg;
	c->key_bits = pt.keybits;
	pt.keyalg = NULL;
	pt.keybits = NULL;
	*out = c;
	c = NULL;
	r = CRT_OK;
out:
	ERR_clear_error();
	csr_free(c);
	X509_ALGOR_free(pt.sigalg);
	ASN1_BIT_STRING_free(pt.sig);
	X509_ALGOR_free(pt.keyalg);
	ASN1_BIT_STRING_free(pt.keybits);
	OPENSSL_free(pem_der);
	return r;
}
