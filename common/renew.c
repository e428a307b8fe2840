/*
 * renew.c — renewal without a new token (crt_cert_renew) and the supersede
 * step of the scheduled run (renew_supersede).
 *
 * The client proves it holds a certificate this CA issued by TLS client
 * authentication (the adapter hands the peer's certificate down, the TLS
 * handshake having proved possession of its key). Phase 1 without a write
 * lock: the presented certificate must be signed by this CA and be the
 * stored one byte for byte (its SHA-256); the CSR parses, verifies and
 * passes the key policy; the renewal rule (rules/renew.h) decides. Phase 2,
 * one write transaction: the publication lock first (every revocation takes
 * it, so no revocation of the old certificate can commit between the
 * re-check and the insert), the row read again and decided again, then the
 * new row (renewed_from = the old serial; unique, so a second renewal of
 * one certificate fails even across nodes) and its audit row. Refusals
 * write nothing.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/renew.h"
#include "store/port.h"

/* The presented certificate, DER or PEM, as an X509. */
static crt_status parse_presented(crt_ctx *ctx, const unsigned char *data, size_t len, X509 **out)
{
	const unsigned char *p = data;
	BIO *b;

	*out = NULL;
	if (data == NULL || len == 0)
		return ctx_fail(ctx, CRT_E_CLIENT_CERT_REQUIRED,
				"no client certificate was presented");
	if (len > 64 * 1024)
		return ctx_fail(ctx, CRT_E_CERT_MISMATCH, "the presented certificate is too large");
	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		if ((b = BIO_new_mem_buf(data, (int)len)) == NULL)
			return CRT_E_NOMEM;
		*out = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		*out = d2i_X509(NULL, &p, (long)len);
	}
	ERR_clear_error();
	if (*out == NULL)
		return ctx_fail(ctx, CRT_E_CERT_MISMATCH, "the presented certificate does not parse");
	return CRT_OK;
}

/* The stored row of the presented certificate x: signed by this CA, and the
 * very certificate stored under its serial. */
static crt_status identify(crt_ctx *ctx, X509 *x, crt_cert *stored)
{
	unsigned char *der = NULL;
	char hex[80], norm[72], fp[65];
	BIGNUM *bn = NULL;
	char *bhex = NULL;
	int n, found = 0;
	crt_status r;

	memset(stored, 0, sizeof(*stored));
	if (X509_check_issued(ctx->ca_cert, x) != X509_V_OK ||
	    X509_verify(x, X509_get0_pubkey(ctx->ca_cert)) != 1) {
		ERR_clear_error();
		return ctx_fail(ctx, CRT_E_CERT_WRONG_ISSUER,
				"the presented certificate was not issued by this CA");
	}
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (bhex = BN_bn2hex(bn)) == NULL) {
		BN_free(bn);
		return CRT_E_NOMEM;
	}
	snprintf(hex, sizeof(hex), "%s", bhex);
	OPENSSL_free(bhex);
	BN_free(bn);
	if (crt_serial_normalize(hex, norm, sizeof(norm)) != CRT_OK)
		return ctx_fail(ctx, CRT_E_SERIAL_INVALID, "the presented serial is not usable");
	if ((r = store_cert_get(ctx, norm, stored, &found)) != CRT_OK)
		return r;
	if (!found)
		return ctx_fail(ctx, CRT_E_CERT_NOT_FOUND, "serial %s was never issued by crtoken",
				norm);
	if ((n = i2d_X509(x, &der)) <= 0) {
		crt_cert_clear(stored);
		return CRT_E_NOMEM;
	}
	sha256_hex(der, (size_t)n, fp);
	OPENSSL_free(der);
	if (stored->cert_sha256 == NULL || strcmp(stored->cert_sha256, fp) != 0) {
		crt_cert_clear(stored);
		return ctx_fail(ctx, CRT_E_CERT_MISMATCH,
				"the presented certificate is not the one stored as %s", norm);
	}
	return CRT_OK;
}

/* The profile the stored certificate was issued under: its renewal window
 * and same-key permission apply. A profile no longer in the config fails
 * closed (profile_unknown) rather than falling back to another's policy. */
static crt_status profile_of(crt_ctx *ctx, const crt_cert *stored, const crt_cert_profile **out)
{
	const char *name = stored->profile ? stored->profile : CRT_CERT_PROFILE_DEFAULT;

	if ((*out = crt_cert_profile_find(&ctx->cfg, name)) != NULL)
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_PROFILE_UNKNOWN,
			"%s was issued under profile %s, which is no longer configured: renewal "
			"needs it",
			stored->serial, name);
}

/* The rule's facts about stored (and the request) under the current policy. */
static void facts_of(crt_ctx *ctx, const crt_cert_profile *prof, const crt_cert *stored,
		     int renewed, int same_key, const crt_renew_req *req, renew_facts *f)
{
	*f = (renew_facts){
		.enabled = ctx->cfg.renew_enabled,
		.revoked = stored->revoked,
		.not_before = stored->not_before,
		.not_after = stored->not_after,
		.window_days = prof->renew_days,
		.renewed = renewed,
		.same_key = same_key,
		.allow_same_key = prof->allow_same_key,
		.require_login = ctx->cfg.renew_require_otp,
		.owner = stored->user,
		.login = req->user,
	};
}

static crt_status decide(crt_ctx *ctx, const crt_cert *stored, int renewed, const char *child,
			 int same_key, const crt_renew_req *req, int64_t now)
{
	const crt_cert_profile *prof;
	renew_facts f;
	const char *why;
	char at[32];
	crt_status r;

	if ((r = profile_of(ctx, stored, &prof)) != CRT_OK)
		return r;
	facts_of(ctx, prof, stored, renewed, same_key, req, &f);
	if ((r = renew_decide(&f, now, &why)) == CRT_OK)
		return CRT_OK;
	if (r == CRT_E_RENEWAL_TOO_EARLY) {
		crt_time_rfc3339(renew_window_opens(stored->not_after, f.window_days), at,
				 sizeof(at));
		return ctx_fail(ctx, r, "%s: renewal of %s opens at %s (profile %s: renew_days = %d)",
				why, stored->serial, at, prof->name, f.window_days);
	}
	if (r == CRT_E_CERT_REVOKED)
		return ctx_fail(ctx, r, "%s was revoked (%s)", stored->serial,
				crt_reason_name(stored->reason));
	if (renewed && r == CRT_E_RENEWAL_NOT_ALLOWED)
		return ctx_fail(ctx, r, "%s was renewed already (as %s)", stored->serial, child);
	if (r == CRT_E_SAME_KEY || f.window_days <= 0)
		return ctx_fail(ctx, r, "%s (%s, profile %s)", why, stored->serial, prof->name);
	return ctx_fail(ctx, r, "%s (%s)", why, stored->serial);
}

static char *renew_detail(const crt_renew_req *req, const crt_cert *old, const crt_cert *c)
{
	jbuf j;
	jb_begin(&j);
	jb_str(&j, "renewedFrom", old->serial);
	jb_str(&j, "subject", c->subject);
	jb_str(&j, "user", c->user);
	jb_str(&j, "login", req->user);
	jb_str(&j, "remote", req->remote);
	return jb_end(&j);
}

/* The commit's outcome is unknown: the new row says. */
static crt_status resolve_lost_commit(crt_ctx *ctx, const char *serial)
{
	char lost[sizeof(ctx->detail)];
	crt_cert c;
	int found = 0;
	crt_status r;

	snprintf(lost, sizeof(lost), "%s", ctx->detail);
	r = store_cert_get(ctx, serial, &c, &found);
	crt_cert_clear(&c);
	if (r == CRT_OK && found) {
		ctx_clear_detail(ctx);
		return CRT_OK;
	}
	if (r == CRT_OK)
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
				"the store was lost while committing the renewal, and %s was not "
				"stored (%s)",
				serial, lost);
	return ctx_fail(ctx, CRT_E_STORE_COMMIT_UNKNOWN,
			"%s; whether renewal %s was stored is not known (reading it back: %s)", lost,
			serial, crt_status_name(r));
}

crt_status crt_cert_renew(crt_ctx *ctx, const crt_renew_req *req, crt_cert *out)
{
	X509 *old = NULL, *x = NULL;
	crt_csr *csr = NULL;
	crt_cert stored = {0}, again = {0}, c = {0};
	cert_shape shape = {0};
	store_cert_row row;
	store_crl lock;
	char serial[72], child[72] = "";
	char *detail = NULL;
	int renewed = 0, same_key, found;
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (req == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no renewal request");
	if (!ca_can_sign(ctx))
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
	if (req->user != NULL && crt_user_name_check(req->user) != CRT_OK)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
				"the user name must be " CRT_USER_NAME_RULE);
	if (!ctx->cfg.renew_enabled)
		return ctx_fail(ctx, CRT_E_RENEWAL_NOT_ALLOWED,
				"renewal is not enabled ([renewal] enabled)");

	/* Phase 1: who is asking, and may they? */
	if ((r = parse_presented(ctx, req->cert, req->cert_len, &old)) != CRT_OK ||
	    (r = identify(ctx, old, &stored)) != CRT_OK ||
	    (r = store_cert_renewal_of(ctx, stored.serial, child, &renewed)) != CRT_OK)
		goto out;
	if ((r = csr_load(ctx, req->csr, req->csr_len, &csr)) != CRT_OK)
		goto out;
	same_key = EVP_PKEY_eq(X509_get0_pubkey(old), csr->pkey) == 1;
	ERR_clear_error();
	if ((r = decide(ctx, &stored, renewed, child, same_key, req, now)) != CRT_OK ||
	    (r = csr_check_key(ctx, csr)) != CRT_OK)
		goto out;
	/* The CA that issued it signs the renewal (back to the default after). */
	if ((r = ca_select(ctx, stored.ca)) != CRT_OK)
		goto out;
	if (!ca_can_sign(ctx)) {
		r = ctx_fail(ctx, CRT_E_CA_MISSING, "the key of CA %s is not loaded", ctx->ca_name);
		goto out;
	}
	/* The same subject, reply attributes, owner and name; the new key; the
	 * profile the certificate was issued under (its usages, key types and
	 * validity as the config says now); the same subjectAltName. */
	if ((r = cert_shape_for(ctx, stored.profile, 0, &shape)) != CRT_OK)
		goto out;
	/* its subjectAltName as it is (a remote CA signs none) */
	shape.san_of = old;
	if ((r = cert_issue(ctx, csr, stored.cn, stored.org, stored.ou, &shape, now, &x,
			    serial)) != CRT_OK)
		goto out;
	if ((r = cert_make(x, csr->pkey, ctx->ca_chain_pem, serial, stored.name, NULL, stored.user,
			   stored.reply, now, &c)) != CRT_OK) {
		r = ctx_fail(ctx, r, "building the certificate row");
		goto out;
	}
	/* the renewal keeps the profile it was issued under */
	if ((c.renewed_from = strdup(stored.serial)) == NULL ||
	    (c.profile = strdup(stored.profile ? stored.profile : CRT_CERT_PROFILE_DEFAULT)) ==
		NULL ||
	    (c.ca = strdup(ctx->ca_name)) == NULL ||
	    (stored.pin_mac != NULL && (c.pin_mac = strdup(stored.pin_mac)) == NULL) ||
	    (detail = renew_detail(req, &stored, &c)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	cert_row_of(&c, &row);

	/* Phase 2: under the publication lock, decided again, stored with its audit row. */
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	/* (the default CA's lock: every revocation takes it first) */
	if ((r = store_crl_load(ctx, CRT_CA_DEFAULT, STORE_CRL_LOCK, &lock)) != CRT_OK ||
	    (r = store_cert_get(ctx, stored.serial, &again, &found)) != CRT_OK ||
	    (r = store_cert_renewal_of(ctx, stored.serial, child, &renewed)) != CRT_OK)
		goto rollback;
	if (!found) { /* never deleted; fail closed all the same */
		r = ctx_fail(ctx, CRT_E_CERT_NOT_FOUND, "%s is gone", stored.serial);
		goto rollback;
	}
	if ((r = decide(ctx, &again, renewed, child, same_key, req, now)) != CRT_OK)
		goto rollback;
	if ((r = store_cert_insert(ctx, &row)) != CRT_OK) {
		if (r == CRT_E_EXISTS) /* another node renewed it a moment earlier */
			r = ctx_fail(ctx, CRT_E_RENEWAL_NOT_ALLOWED, "%s was renewed already",
				     stored.serial);
		goto rollback;
	}
	if ((r = audit_write(ctx, req->actor, "cert.renew", c.serial, detail)) != CRT_OK)
		goto rollback;
	r = store_commit(ctx);
	if (r == CRT_E_STORE_COMMIT_UNKNOWN)
		r = resolve_lost_commit(ctx, c.serial);
	if (r == CRT_OK && out != NULL) {
		*out = c;
		memset(&c, 0, sizeof(c));
	}
	goto out;
rollback:
	store_rollback(ctx);
out:
	ca_select_default(ctx);
	cert_shape_clear(&shape);
	free(detail);
	X509_free(old);
	X509_free(x);
	csr_free(csr);
	crt_cert_clear(&stored);
	crt_cert_clear(&again);
	crt_cert_clear(&c);
	return r;
}

crt_status renew_supersede(crt_ctx *ctx, const char *actor, int64_t now, size_t *done)
{
	store_renewal *due = NULL;
	size_t n = 0;
	int64_t grace = (int64_t)ctx->cfg.renew_grace_days * 86400;
	crt_status r, first = CRT_OK;

	*done = 0;
	/* Candidates past the grace period or admitted by RADIUS (the rule
	 * decides each one). */
	if ((r = store_cert_supersede_due(ctx, now - grace, &due, &n)) != CRT_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!renew_supersede_due(due[i].issued_at, due[i].first_seen, ctx->cfg.renew_grace_days, now))
			continue;
		/* The guarded revoke: of two nodes superseding it, one does. */
		r = crt_cert_revoke(ctx, due[i].renewed_from, 4 /* superseded */, actor, NULL);
		if (r == CRT_OK)
			(*done)++;
		else if (r != CRT_E_CERT_REVOKED && first == CRT_OK)
			first = r;
	}
	free(due);
	return first;
}
