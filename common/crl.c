/*
 * crl.c — the certificate revocation list: signed by the CA with an
 * incrementing CRL number (the store's meta row crl_number, taken by one
 * atomic bump, store_meta_bump, so two writers never share a number),
 * nextUpdate from the config, one entry per revoked certificate with its
 * RFC 5280 reason.
 *
 * The signed CRL is kept in the store (table crl) with what it covers: the
 * newest revocation it lists (certificates.revoked_seq, a counter, so two
 * revocations in one second are told apart) and the CA that signed it.
 * crt_crl_current serves that copy and re-signs only when the freshness
 * rule (crt_crl_stale, rules/crl.c) says so; [ca] crl_file is written whenever a CRL is
 * signed, and a file that cannot be written never causes a re-sign.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/crl.h"

static crt_status add_revoked(X509_CRL *crl, const char *hex, int64_t when, int reason)
{
	X509_REVOKED *rv = X509_REVOKED_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_ENUMERATED *e = NULL;
	crt_status r = CRT_E_INTERNAL;

	if (rv == NULL || t == NULL || !BN_hex2bn(&bn, hex) ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	if (!X509_REVOKED_set_serialNumber(rv, sn) || !ASN1_TIME_set(t, (time_t)when) ||
	    !X509_REVOKED_set_revocationDate(rv, t))
		goto out;
	if (reason != 0) { /* RFC 5280: omit the extension for unspecified */
		if ((e = ASN1_ENUMERATED_new()) == NULL || !ASN1_ENUMERATED_set(e, reason) ||
		    !X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, e, 0, 0))
			goto out;
	}
	if (!X509_CRL_add0_revoked(crl, rv))
		goto out;
	rv = NULL;
	r = CRT_OK;
out:
	X509_REVOKED_free(rv);
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
	return r;
}

static crt_status build_crl(crt_ctx *ctx, int64_t number, int64_t now, X509_CRL **out)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_new(), *next = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	store_revoked *rv = NULL;
	size_t nrv = 0;
	X509V3_CTX v3;
	crt_status r = CRT_E_INTERNAL;
	int rc;

	*out = NULL;
	if (crl == NULL || last == NULL || next == NULL || num == NULL)
		goto out;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ctx->ca_cert)) ||
	    !ASN1_TIME_set(last, (time_t)now) ||
	    !ASN1_TIME_set(next, (time_t)(now + (int64_t)ctx->cfg.crl_days * 86400)) ||
	    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next) ||
	    !ASN1_INTEGER_set_int64(num, number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		goto out;
	X509V3_set_ctx(&v3, ctx->ca_cert, NULL, NULL, crl, 0);
	X509_EXTENSION *aki = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier,
						  "keyid:always");
	if (aki == NULL)
		goto out;
	rc = X509_CRL_add_ext(crl, aki, -1);
	X509_EXTENSION_free(aki);
	if (!rc)
		goto out;
	if ((r = store_cert_revoked(ctx, ctx->ca_name, &rv, &nrv)) != CRT_OK)
		goto out;
	for (size_t i = 0; i < nrv; i++)
		if ((r = add_revoked(crl, rv[i].serial, rv[i].revoked_at, rv[i].reason)) != CRT_OK)
			goto out;
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, ctx->ca_key, ca_sign_digest(ctx->ca_key)) <= 0) {
		r = ctx_fail(ctx, CRT_E_INTERNAL, "signing the CRL failed");
		goto out;
	}
	*out = crl;
	crl = NULL;
	r = CRT_OK;
out:
	free(rv);
	ERR_clear_error();
	X509_CRL_free(crl);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	return r;
}

/* ------------------------------------------------------------------ store */

void crt_crl_clear(crt_crl *c)
{
	if (c == NULL)
		return;
	free(c->pem);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

/* SHA-256 (hex) of the loaded CA certificate, "" when none is loaded. */
static void ca_sha256(crt_ctx *ctx, char out[65])
{
	unsigned char *der = NULL;
	int n;

	out[0] = '\0';
	if (ctx->ca_cert != NULL && (n = i2d_X509(ctx->ca_cert, &der)) > 0)
		sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
}

/*
 * The published CRL's metadata (and, when der != NULL, its DER) plus the
 * newest revocation (store_crl_load with flags). *have is 0 when no CRL was
 * published yet.
 */
static crt_status load_published(crt_ctx *ctx, unsigned flags, crt_crl_meta *m, int *have,
				 int64_t *newest, unsigned char **der, size_t *der_len)
{
	store_crl c;
	crt_status r;

	memset(m, 0, sizeof(*m));
	*have = 0;
	*newest = 0;
	if ((r = store_crl_load(ctx, ctx->ca_name, flags | (der != NULL ? STORE_CRL_DER : 0), &c)) !=
	    CRT_OK)
		return r;
	*m = c.meta;
	*have = c.have;
	*newest = c.newest_revocation;
	if (der != NULL) {
		*der = c.der;
		*der_len = c.der_len;
	}
	return CRT_OK;
}

/* Fill out's pem, der and entries from a signed CRL. */
static crt_status crl_encode(X509_CRL *crl, crt_crl *out)
{
	BIO *b = NULL;
	char *data;
	long n;
	int dl;
	crt_status r = CRT_E_NOMEM;

	if ((dl = i2d_X509_CRL(crl, NULL)) <= 0 || (out->der = malloc((size_t)dl)) == NULL)
		goto out;
	unsigned char *p = out->der;
	out->der_len = (size_t)i2d_X509_CRL(crl, &p);
	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_CRL(b, crl) ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 || (out->pem = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(out->pem, data, (size_t)n);
	out->pem[n] = '\0';
	out->entries = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	r = CRT_OK;
out:
	BIO_free(b);
	return r;
}

/* out (meta filled, der set) from a stored DER. */
static crt_status crl_from_der(crt_crl *out)
{
	const unsigned char *p = out->der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)out->der_len);
	crt_status r;

	if (crl == NULL)
		return CRT_E_STORE;
	free(out->der);
	out->der = NULL;
	r = crl_encode(crl, out);
	X509_CRL_free(crl);
	return r;
}

/* The CRL file of ctx's selected CA ([ca] crl_file or its [ca NAME] one). */
static const char *crl_file_of(const crt_ctx *ctx)
{
	if (ctx->ca != NULL)
		return ctx->ca->crl_file;
	for (size_t i = 0; i < ctx->cfg.ncas; i++)
		if (strcmp(ctx->cfg.cas[i].name, ctx->ca_name) == 0)
			return ctx->cfg.cas[i].crl_file;
	return ctx->cfg.crl_file;
}

crt_status crl_publish_in_txn(crt_ctx *ctx, const char *actor, const char *why, int64_t now,
			      crt_crl *out)
{
	X509_CRL *crl = NULL;
	crt_crl_meta *m = &out->meta;
	char *detail = NULL;
	int64_t newest = 0;
	int have;
	jbuf j;
	crt_status r;
	char key[64];

	crt_crl_clear(out);
	if (ca_is_remote(ctx))
		return ctx_fail(ctx, CRT_E_CRL_REMOTE, "the remote CA signs this CA's CRL");
	if (ctx->ca_key == NULL)
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
	/* The number is taken by its own atomic statement: two writers (two
	 * nodes) never sign two CRLs with one number. */
	if (strcmp(ctx->ca_name, CRT_CA_DEFAULT) == 0)
		snprintf(key, sizeof(key), "crl_number");
	else
		snprintf(key, sizeof(key), "crl_number.%.40s", ctx->ca_name);
	if ((r = load_published(ctx, 0, m, &have, &newest, NULL, NULL)) != CRT_OK ||
	    (r = store_meta_bump(ctx, key, &m->number)) != CRT_OK)
		goto out;
	m->this_update = now;
	m->next_update = now + (int64_t)ctx->cfg.crl_days * 86400;
	m->revocations = newest;
	ca_sha256(ctx, m->ca_sha256);
	if ((r = build_crl(ctx, m->number, now, &crl)) != CRT_OK ||
	    (r = crl_encode(crl, out)) != CRT_OK ||
	    (r = store_crl_save(ctx, ctx->ca_name, m, out->der, out->der_len)) != CRT_OK)
		goto out;
	jb_begin(&j);
	jb_int(&j, "crlNumber", m->number);
	jb_int(&j, "entries", out->entries);
	jb_str(&j, "why", why);
	jb_str(&j, "ca", ctx->ca_name);
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = audit_write(ctx, actor, "crl.generate", crl_file_of(ctx), detail)) != CRT_OK)
		goto out;
	out->resigned = 1;
out:
	if (r != CRT_OK)
		crt_crl_clear(out);
	free(detail);
	X509_CRL_free(crl);
	return r;
}

void crl_write_file(crt_ctx *ctx, crt_crl *c)
{
	c->file_written = 0;
	c->file_status = write_file(crl_file_of(ctx), c->pem, strlen(c->pem), 0644);
	if (c->file_status == CRT_OK)
		c->file_written = 1;
}

crt_status crt_crl_current(crt_ctx *ctx, unsigned flags, const char *actor, crt_crl *out)
{
	crt_crl_meta m;
	char fp[65];
	const char *why = NULL;
	int64_t newest = 0, now = crt_now();
	int have = 0;
	crt_status r;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (ca_is_remote(ctx))
		return ctx_fail(ctx, CRT_E_CRL_REMOTE,
				"[ca] type = %s: the remote CA signs this CA's CRL (and answers "
				"OCSP); revocation still holds in RADIUS admission from the store",
				ctx->cfg.ca_type);
	ca_sha256(ctx, fp);
	/* The common case, a read: the published CRL is still fresh. */
	if ((r = load_published(ctx, 0, &m, &have, &newest, &out->der, &out->der_len)) != CRT_OK)
		goto fail;
	if (!(flags & CRT_CRL_FORCE) &&
	    !crt_crl_stale(have ? &m : NULL, newest, fp[0] ? fp : NULL, now, &why)) {
		out->meta = m;
		if ((r = crl_from_der(out)) != CRT_OK) {
			r = ctx_fail(ctx, r == CRT_E_NOMEM ? r : CRT_E_STORE,
				     "the published CRL does not parse");
			goto fail;
		}
		goto file;
	}
	crt_crl_clear(out);
	if (ctx->ca_key == NULL) {
		r = ctx_fail(ctx, CRT_E_CA_MISSING, "the CRL must be re-signed (%s) and the CA key "
						    "is not loaded",
			     why ? why : "forced");
		goto fail;
	}
	/* Stale: sign under the publication lock, unless another writer just did. */
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto fail;
	if ((r = load_published(ctx, STORE_CRL_LOCK, &m, &have, &newest, &out->der,
				&out->der_len)) != CRT_OK)
		goto rollback;
	if (!(flags & CRT_CRL_FORCE) &&
	    !crt_crl_stale(have ? &m : NULL, newest, fp, now, &why)) {
		store_rollback(ctx);
		out->meta = m;
		if ((r = crl_from_der(out)) != CRT_OK)
			goto fail;
		goto file;
	}
	free(out->der);
	out->der = NULL;
	if ((r = crl_publish_in_txn(ctx, actor, (flags & CRT_CRL_FORCE) ? "forced" : why, now,
				    out)) != CRT_OK)
		goto rollback;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto fail;
file:
	/* After the commit: a lost file only skips a number, never reuses one. */
	if (out->resigned || (flags & CRT_CRL_WRITE_FILE))
		crl_write_file(ctx, out);
	return CRT_OK;
rollback:
	store_rollback(ctx);
fail:
	crt_crl_clear(out);
	return r;
}

crt_status crt_crl_current_ca(crt_ctx *ctx, const char *ca, unsigned flags, const char *actor,
			      crt_crl *out)
{
	crt_status r;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if ((r = ca_select(ctx, ca)) != CRT_OK)
		return r;
	r = crt_crl_current(ctx, flags, actor, out);
	ca_select_default(ctx);
	return r;
}
