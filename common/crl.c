/*
 * crl.c — the certificate revocation list: signed by the CA with an
 * incrementing CRL number (kept in the store's meta table), nextUpdate from
 * the config, one entry per revoked certificate with its RFC 5280 reason.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
	sqlite3_stmt *st = NULL;
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
	if ((r = store_prepare(ctx,
			       "SELECT serial, revoked_at, reason FROM certificates "
			       "WHERE revoked_at IS NOT NULL ORDER BY serial",
			       &st)) != CRT_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = add_revoked(crl, (const char *)sqlite3_column_text(st, 0),
				     sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2))) !=
		    CRT_OK)
			goto out;
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading revocations");
		goto out;
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, ctx->ca_key, ca_sign_digest(ctx->ca_key)) <= 0) {
		r = crt_fail(ctx, CRT_E_INTERNAL, "signing the CRL failed");
		goto out;
	}
	*out = crl;
	crl = NULL;
	r = CRT_OK;
out:
	store_done(st);
	ERR_clear_error();
	X509_CRL_free(crl);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	return r;
}

crt_status crt_crl_generate(crt_ctx *ctx, const char *actor, char **pem)
{
	X509_CRL *crl = NULL;
	BIO *b = NULL;
	char *data, *text = NULL, *detail = NULL;
	long n;
	int64_t number;
	crt_json j;
	crt_status r;

	crt_clear_detail(ctx);
	if (pem)
		*pem = NULL;
	if (ctx->ca_key == NULL)
		return crt_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_meta_get_int(ctx, "crl_number", &number)) != CRT_OK)
		goto fail;
	number++;
	if ((r = build_crl(ctx, number, crt_now(), &crl)) != CRT_OK ||
	    (r = store_meta_set_int(ctx, "crl_number", number)) != CRT_OK)
		goto fail;
	json_begin(&j);
	json_int(&j, "crlNumber", number);
	json_int(&j, "entries", sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
	if ((detail = json_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "crl.generate", ctx->cfg.crl_file, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	/* After the commit: a lost file only skips a number, never reuses one. */
	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_CRL(b, crl) ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 || (text = malloc((size_t)n + 1)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(text, data, (size_t)n);
	text[n] = '\0';
	if ((r = crt_write_file(ctx->cfg.crl_file, text, (size_t)n, 0644)) != CRT_OK) {
		r = crt_fail(ctx, r, "%s: cannot write the CRL", ctx->cfg.crl_file);
		goto out;
	}
	if (pem) {
		*pem = text;
		text = NULL;
	}
	goto out;
fail:
	store_rollback(ctx);
out:
	BIO_free(b);
	free(text);
	free(detail);
	X509_CRL_free(crl);
	return r;
}
