/*
 * ocsp.c — the RFC 6960 OCSP responder: one DER OCSPRequest in, one DER
 * OCSPResponse out, every CertID answered from the store through the
 * admission verb (store_cert_admission_get, so any backend serves it) and
 * the pure rule of rules/ocsp.c. Signed by the CA, or by a delegated
 * OCSP-signing certificate ([ocsp] signer_cert / signer_key, made by
 * crt_ocsp_signer_create) loaded with the instance.
 *
 * Nothing a client sends can make this fail other than as an OCSP answer:
 * bytes that are not exactly one OCSPRequest, no CertID or more than
 * CRT_OCSP_MAX_CERTIDS get malformedRequest; a store that is busy or
 * unreachable (CRT_KIND_BUSY) gets tryLater; anything else on our side internalError (and the status, for
 * the caller's log).
 */
#include <libgen.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/ocsp.h"

void crt_ocsp_response_clear(crt_ocsp_response *r)
{
	if (r == NULL)
		return;
	free(r->der);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ the signer */

void ocsp_signer_free(crt_instance *inst)
{
	X509_free(inst->ocsp_cert);
	EVP_PKEY_free(inst->ocsp_key);
	inst->ocsp_cert = NULL;
	inst->ocsp_key = NULL;
}

static crt_status signer_fail(crt_instance *inst, crt_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static crt_status signer_fail(crt_instance *inst, crt_status s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(inst->ocsp_detail, sizeof(inst->ocsp_detail), fmt, ap);
	va_end(ap);
	inst->ocsp_status = s;
	return s;
}

/* The checks a delegated signer must pass (RFC 6960 4.2.2.2): issued by
 * this CA, OCSPSigning in its extendedKeyUsage, its key the one given. */
static crt_status signer_check(crt_instance *inst, X509 *cert, EVP_PKEY *key, const char *file)
{
	if (X509_check_issued(inst->cas[0].cert, cert) != X509_V_OK ||
	    X509_verify(cert, X509_get0_pubkey(inst->cas[0].cert)) != 1)
		return signer_fail(inst, CRT_E_CONFIG, "[ocsp] signer_cert %s: not issued by the CA",
				   file);
	if (!(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(cert) & XKU_OCSP_SIGN))
		return signer_fail(inst, CRT_E_CONFIG,
				   "[ocsp] signer_cert %s: no extendedKeyUsage OCSPSigning", file);
	if (X509_check_private_key(cert, key) != 1)
		return signer_fail(inst, CRT_E_CONFIG,
				   "[ocsp] signer_key does not match signer_cert %s", file);
	return CRT_OK;
}

void ocsp_signer_load(crt_ctx *ctx)
{
	crt_instance *inst = ctx->inst;
	const crt_config *c = &inst->cfg;
	char why[600], *pem = NULL;
	size_t len = 0;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	BIO *b = NULL;
	crt_status r;

	inst->ocsp_status = CRT_OK;
	inst->ocsp_detail[0] = '\0';
	if (c->ocsp_signer_cert == NULL && c->ocsp_signer_key == NULL)
		return; /* the CA signs */
	if (c->ocsp_signer_cert == NULL || c->ocsp_signer_key == NULL) {
		signer_fail(inst, CRT_E_CONFIG, "[ocsp] signer_cert and signer_key go together");
		return;
	}
	if ((r = read_trusted(c->ocsp_signer_cert, 1 << 20, CRT_TRUST_FILE, &pem, &len, why,
				  sizeof(why))) != CRT_OK) {
		signer_fail(inst, r == CRT_E_UNSAFE_PERMISSIONS ? r : CRT_E_CONFIG,
			    "[ocsp] signer_cert: %s", why);
		goto out;
	}
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		signer_fail(inst, CRT_E_CONFIG, "[ocsp] signer_cert %s: not a PEM certificate",
			    c->ocsp_signer_cert);
		goto out;
	}
	BIO_free(b);
	b = NULL;
	free(pem);
	pem = NULL;
	if ((r = read_trusted(c->ocsp_signer_key, 1 << 20, CRT_TRUST_SECRET, &pem, &len, why,
				  sizeof(why))) != CRT_OK) {
		signer_fail(inst, r == CRT_E_UNSAFE_PERMISSIONS ? r : CRT_E_CONFIG,
			    "[ocsp] signer_key: %s", why);
		goto out;
	}
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
		signer_fail(inst, CRT_E_CONFIG,
			    "[ocsp] signer_key %s: not an unencrypted PEM private key",
			    c->ocsp_signer_key);
		goto out;
	}
	if (signer_check(inst, cert, key, c->ocsp_signer_cert) != CRT_OK)
		goto out;
	inst->ocsp_cert = cert;
	inst->ocsp_key = key;
	cert = NULL;
	key = NULL;
out:
	ERR_clear_error();
	BIO_free(b);
	crt_freezero(pem, len);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* ------------------------------------------------------------ responding */

static crt_status error_response(int status, crt_ocsp_response *out)
{
	OCSP_RESPONSE *resp = OCSP_response_create(status, NULL);
	unsigned char *p;
	int n;

	if (resp == NULL || (n = i2d_OCSP_RESPONSE(resp, NULL)) <= 0 ||
	    (out->der = malloc((size_t)n)) == NULL) {
		OCSP_RESPONSE_free(resp);
		return CRT_E_NOMEM;
	}
	p = out->der;
	out->der_len = (size_t)i2d_OCSP_RESPONSE(resp, &p);
	out->response_status = status;
	OCSP_RESPONSE_free(resp);
	return CRT_OK;
}

/* Does cid name the CA certificate ca (both hashes, with cid's own hash
 * algorithm)? */
static int issuer_is(X509 *ca, OCSP_CERTID *cid)
{
	ASN1_OBJECT *md_oid = NULL;
	const EVP_MD *md;
	OCSP_CERTID *ours;
	int same;

	if (!OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, cid) || md_oid == NULL ||
	    (md = EVP_get_digestbyobj(md_oid)) == NULL)
		return 0;
	if (ca == NULL || (ours = OCSP_cert_to_id(md, NULL, ca)) == NULL)
		return 0;
	same = OCSP_id_issuer_cmp(cid, ours) == 0;
	OCSP_CERTID_free(ours);
	return same;
}

/* Does cid name ctx's selected CA? */
static int issuer_is_ours(crt_ctx *ctx, OCSP_CERTID *cid)
{
	return issuer_is(ctx->ca_cert, cid);
}

/* The CA of the instance that cid names (its issuerNameHash and
 * issuerKeyHash), or NULL. */
static const char *ca_of_certid(const crt_instance *inst, OCSP_CERTID *cid)
{
	for (size_t i = 0; i < inst->ncas; i++)
		if (issuer_is(inst->cas[i].cert, cid))
			return inst->cas[i].name;
	return NULL;
}

/* The stored form of cid's serial; 0 when it has none (negative, too long). */
static int serial_of(OCSP_CERTID *cid, char hex[72])
{
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	char *h = NULL;
	int ok = 0;

	if (!OCSP_id_get0_info(NULL, NULL, NULL, &sn, cid) || sn == NULL ||
	    (bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL || BN_is_negative(bn) ||
	    BN_num_bytes(bn) > 32 || (h = BN_bn2hex(bn)) == NULL)
		goto out;
	ok = crt_serial_normalize(h, hex, 72) == CRT_OK;
out:
	OPENSSL_free(h);
	BN_free(bn);
	return ok;
}

/* The status of one CertID into bs. */
static crt_status answer_one(crt_ctx *ctx, OCSP_BASICRESP *bs, OCSP_CERTID *cid,
			     ASN1_TIME *this_upd, ASN1_TIME *next_upd, int *state_out)
{
	store_cert_admission adm = {0};
	ocsp_row row = {0};
	ASN1_TIME *rev = NULL;
	char serial[72];
	int64_t revoked_at;
	int reason, ours, state;
	crt_status r = CRT_OK;

	ours = issuer_is_ours(ctx, cid);
	if (ours && serial_of(cid, serial)) {
		if ((r = store_cert_admission_get(ctx, serial, &adm, &row.found)) != CRT_OK)
			return r;
		/* A row another CA of the instance issued (same serial space,
		 * perhaps the same name) is not this CA's: the key decides. */
		if (row.found && ctx->ca != NULL &&
		    (adm.aki == NULL || strcmp(adm.aki, ctx->ca->ski) != 0))
			row.found = 0;
		if (row.found) {
			row.issuer = adm.issuer;
			row.revoked = adm.revoked;
			row.revoked_at = adm.revoked_at;
			row.reason = adm.reason;
		}
	}
	state = ocsp_decide(ours, ctx->ca_issuer, ours ? &row : NULL, &revoked_at, &reason);
	free(adm.buf);
	if (state == OCSP_STATE_REVOKED &&
	    (rev = ASN1_TIME_set(NULL, (time_t)revoked_at)) == NULL)
		return CRT_E_NOMEM;
	if (OCSP_basic_add1_status(bs, cid, state, reason, rev, this_upd, next_upd) == NULL)
		r = CRT_E_NOMEM;
	ASN1_TIME_free(rev);
	*state_out = state;
	return r;
}

/* Sign bs with the delegated signer or the CA (its certificate goes into certs). */
static crt_status sign_basic(crt_ctx *ctx, OCSP_BASICRESP *bs)
{
	crt_instance *inst = ctx->inst;
	/* The delegated signer is the default CA's ([ocsp] is issued by it). */
	int delegated = inst->ocsp_cert != NULL && strcmp(ctx->ca_name, CRT_CA_DEFAULT) == 0;
	X509 *signer = delegated ? inst->ocsp_cert : ctx->ca_cert;
	EVP_PKEY *key = delegated ? inst->ocsp_key : ctx->ca_key;
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	crt_status r = CRT_OK;

	/* The signer's certificate travels with the response, the CA's own too
	 * when it signs: a client that verifies without handing in the issuer
	 * (FreeRADIUS's eap tls ocsp { } check: OCSP_basic_verify(bs, NULL,
	 * store, 0)) finds the signer only there. */
	if (mctx == NULL || EVP_DigestSignInit(mctx, NULL, ca_sign_digest(key), NULL, key) != 1 ||
	    OCSP_basic_sign_ctx(bs, signer, mctx, NULL, 0) != 1)
		r = ctx_fail(ctx, CRT_E_INTERNAL, "signing the OCSP response failed");
	EVP_MD_CTX_free(mctx);
	return r;
}

crt_status crt_ocsp_respond(crt_ctx *ctx, const unsigned char *req_der, size_t len,
			    crt_ocsp_response *out)
{
	const unsigned char *p = req_der;
	OCSP_REQUEST *req = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *this_upd = NULL, *next_upd = NULL;
	int64_t now = crt_now();
	int n, state = OCSP_STATE_UNKNOWN, dl;
	crt_status r = CRT_OK, e;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (req_der == NULL || len == 0 || len > LONG_MAX ||
	    (req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL || p != req_der + len ||
	    (n = OCSP_request_onereq_count(req)) < 1 || n > CRT_OCSP_MAX_CERTIDS) {
		ctx_fail(ctx, CRT_E_REQUEST_INVALID,
			 req == NULL ? "not a DER OCSPRequest"
			 : p != req_der + len ? "bytes after the OCSPRequest"
					      : "no CertID or more than 16");
		r = error_response(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, out);
		goto out;
	}
	/* The first CertID's issuer picks the CA that answers (and signs);
	 * CertIDs naming another CA are unknown to it. None of ours: the
	 * default CA answers unknown. */
	const char *ca = ca_of_certid(ctx->inst, OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0)));
	if (ca != NULL && (r = ca_select(ctx, ca)) != CRT_OK)
		goto internal;
	if (ctx->inst->ocsp_status != CRT_OK) {
		r = ctx_fail(ctx, ctx->inst->ocsp_status, "%s", ctx->inst->ocsp_detail);
		goto internal;
	}
	/* A remote CA's key is not here: only a delegated signer it issued
	 * can answer for it; without one this responder is not authoritative. */
	if (ctx->ca_cert != NULL && ctx->ca_key == NULL && ctx->inst->ocsp_key == NULL &&
	    ca_is_remote(ctx)) {
		ctx_fail(ctx, CRT_E_CRL_REMOTE,
			 "[ca] type = %s: OCSP for this CA needs a delegated signer it issued "
			 "([ocsp] signer_cert, signer_key)",
			 ctx->cfg.ca_type);
		r = error_response(OCSP_RESPONSE_STATUS_UNAUTHORIZED, out);
		goto out;
	}
	if (ctx->ca_cert == NULL || (ctx->ca_key == NULL && ctx->inst->ocsp_key == NULL)) {
		r = ctx_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
		goto internal;
	}
	if ((bs = OCSP_BASICRESP_new()) == NULL || (this_upd = ASN1_TIME_new()) == NULL ||
	    (next_upd = ASN1_TIME_new()) == NULL || !ASN1_TIME_set(this_upd, (time_t)now) ||
	    !ASN1_TIME_set(next_upd,
			   (time_t)ocsp_next_update(now, ctx->cfg.ocsp_validity))) {
		r = CRT_E_NOMEM;
		goto internal;
	}
	for (int i = 0; i < n; i++) {
		OCSP_ONEREQ *one = OCSP_request_onereq_get0(req, i);
		int st;
		if ((r = answer_one(ctx, bs, OCSP_onereq_get0_id(one), this_upd, next_upd, &st)) !=
		    CRT_OK) {
			if (r != CRT_E_NOMEM && crt_errdetail(ctx)[0] == '\0')
				ctx_fail(ctx, r, "looking up a serial for OCSP failed");
			if (crt_status_kind(r) == CRT_KIND_BUSY) {
				e = error_response(OCSP_RESPONSE_STATUS_TRYLATER, out);
				if (e != CRT_OK)
					r = e;
				goto out;
			}
			goto internal;
		}
		if (i == 0)
			state = st;
	}
	/* 1: copied, 2: the request had none; anything else a failure. */
	if (OCSP_copy_nonce(bs, req) <= 0) {
		r = CRT_E_NOMEM;
		goto internal;
	}
	if ((r = sign_basic(ctx, bs)) != CRT_OK)
		goto internal;
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) == NULL ||
	    (dl = i2d_OCSP_RESPONSE(resp, NULL)) <= 0 || (out->der = malloc((size_t)dl)) == NULL) {
		r = CRT_E_NOMEM;
		goto internal;
	}
	{
		unsigned char *w = out->der;
		out->der_len = (size_t)i2d_OCSP_RESPONSE(resp, &w);
	}
	out->response_status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
	out->count = n;
	out->first_status = state;
	goto out;
internal:
	crt_ocsp_response_clear(out);
	e = error_response(OCSP_RESPONSE_STATUS_INTERNALERROR, out);
	if (e != CRT_OK)
		r = e;
out:
	ca_select_default(ctx);
	ERR_clear_error();
	ASN1_TIME_free(this_upd);
	ASN1_TIME_free(next_upd);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	/* A malformed request is answered, not failed. */
	return out->response_status == OCSP_RESPONSE_STATUS_MALFORMEDREQUEST && out->der != NULL
		       ? CRT_OK
		       : r;
}

/* ------------------------------------------------------------ the signer's making */

/* path into out: the configured one, else name beside the CA certificate. */
static crt_status signer_path(const crt_ctx *ctx, const char *configured, const char *name,
			      char *out, size_t n)
{
	char dir[PATH_MAX];

	if (configured != NULL) {
		if ((size_t)snprintf(out, n, "%s", configured) >= n)
			return CRT_E_INVALID_ARGUMENT;
		return CRT_OK;
	}
	snprintf(dir, sizeof(dir), "%s", ctx->cfg.ca_cert);
	if ((size_t)snprintf(out, n, "%s/%s", dirname(dir), name) >= n)
		return CRT_E_INVALID_ARGUMENT;
	return CRT_OK;
}

/* The signer's subject: the CA's, its CN (if any) followed by " OCSP". */
static X509_NAME *signer_subject(X509 *ca)
{
	X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(ca));
	int i;
	char cn[80];

	if (nm == NULL)
		return NULL;
	i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
	if (i >= 0) {
		X509_NAME_ENTRY *ent = X509_NAME_delete_entry(nm, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(ent);
		int l = ASN1_STRING_length(v);
		if (l > 59)
			l = 59;
		snprintf(cn, sizeof(cn), "%.*s OCSP", l, (const char *)ASN1_STRING_get0_data(v));
		X509_NAME_ENTRY_free(ent);
	} else {
		snprintf(cn, sizeof(cn), "crtoken OCSP");
	}
	if (!X509_NAME_add_entry_by_NID(nm, NID_commonName, MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0)) {
		X509_NAME_free(nm);
		return NULL;
	}
	return nm;
}

static crt_status pem_of_key(EVP_PKEY *key, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data;
	long n;
	crt_status r = CRT_E_NOMEM;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 || (*out = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	r = CRT_OK;
out:
	BIO_free_all(b); /* secure memory: cleansed when freed */
	return r;
}

crt_status crt_ocsp_signer_create(crt_ctx *ctx, int days, const char *actor, char *cert_path,
				  char *key_path, size_t path_len, char serial[72])
{
	char certf[PATH_MAX], keyf[PATH_MAX], hex[72], *type = NULL, *key_pem = NULL,
							    *cert_pem = NULL, *detail = NULL;
	size_t key_len = 0;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *nm = NULL;
	ASN1_INTEGER *sn = NULL;
	X509V3_CTX v3;
	int64_t now = crt_now(), end, ca_end;
	jbuf j;
	crt_status r;

	ctx_clear_detail(ctx);
	if (ctx->ca_cert == NULL || ctx->ca_key == NULL)
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
	if (days < 1 || days > 36500)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "days must be 1..36500");
	if (signer_path(ctx, ctx->cfg.ocsp_signer_cert, "ocsp-signer.pem", certf, sizeof(certf)) !=
		CRT_OK ||
	    signer_path(ctx, ctx->cfg.ocsp_signer_key, "ocsp-signer.key", keyf, sizeof(keyf)) !=
		CRT_OK)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "the signer's path is too long");
	end = now + (int64_t)days * 86400;
	ca_end = ca_time_unix(X509_get0_notAfter(ctx->ca_cert));
	if (ca_end > 0 && end > ca_end)
		end = ca_end;
	if ((type = ca_key_type_name(ctx->ca_key)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = ca_keygen(type, &key)) != CRT_OK) {
		r = ctx_fail(ctx, r, "cannot make a %s key for the signer", type);
		goto out;
	}
	r = CRT_E_INTERNAL;
	if ((x = X509_new()) == NULL || (nm = signer_subject(ctx->ca_cert)) == NULL ||
	    ca_random_serial(&sn, hex) != CRT_OK || !X509_set_version(x, 2) ||
	    !X509_set_serialNumber(x, sn) || !X509_set_subject_name(x, nm) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ctx->ca_cert)) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x),
			   (time_t)(now - ctx->cfg.clock_skew_seconds)) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)end) || !X509_set_pubkey(x, key))
		goto out;
	X509V3_set_ctx(&v3, ctx->ca_cert, x, NULL, NULL, 0);
	if (ca_add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") != CRT_OK ||
	    ca_add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") != CRT_OK ||
	    ca_add_ext(x, &v3, NID_ext_key_usage, "OCSPSigning") != CRT_OK ||
	    ca_add_ext(x, &v3, NID_id_pkix_OCSP_noCheck, "ignored") != CRT_OK ||
	    ca_add_ext(x, &v3, NID_subject_key_identifier, "hash") != CRT_OK ||
	    ca_add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") != CRT_OK)
		goto out;
	if (X509_sign(x, ctx->ca_key, ca_sign_digest(ctx->ca_key)) <= 0) {
		r = ctx_fail(ctx, CRT_E_INTERNAL, "signing the OCSP signer certificate failed");
		goto out;
	}
	if ((cert_pem = ca_cert_pem(x)) == NULL || pem_of_key(key, &key_pem, &key_len) != CRT_OK) {
		r = CRT_E_NOMEM;
		goto out;
	}
	jb_begin(&j);
	jb_str(&j, "serial", hex);
	jb_str(&j, "certificate", certf);
	jb_int(&j, "notAfter", end);
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	/* The key first (0600), then the certificate: a certificate on disk
	 * always has its key beside it. The audit row commits after both. */
	if ((r = write_file(keyf, key_pem, key_len, 0600)) != CRT_OK) {
		r = ctx_fail(ctx, r, "cannot write %s", keyf);
		goto out;
	}
	if ((r = write_file(certf, cert_pem, strlen(cert_pem), 0644)) != CRT_OK) {
		r = ctx_fail(ctx, r, "cannot write %s", certf);
		goto out;
	}
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = audit_write(ctx, actor, "ocsp.signer.create", hex, detail)) != CRT_OK) {
		store_rollback(ctx);
		goto out;
	}
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (cert_path != NULL)
		snprintf(cert_path, path_len, "%s", certf);
	if (key_path != NULL)
		snprintf(key_path, path_len, "%s", keyf);
	if (serial != NULL)
		snprintf(serial, 72, "%s", hex);
out:
	ERR_clear_error();
	free(type);
	free(cert_pem);
	free(detail);
	crt_freezero(key_pem, key_len);
	EVP_PKEY_free(key);
	X509_free(x);
	X509_NAME_free(nm);
	ASN1_INTEGER_free(sn);
	return r;
}
