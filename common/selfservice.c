/*
 * selfservice.c — what the owner of a certificate does with it after the
 * PAM login (GET /me/certificates, POST /me/certificates/{serial}/revoke,
 * crtoken-enroll list / revoke).
 *
 * "The owner" is the certificate's user column: the PAM login that
 * redeemed it (for a token with an owner, that owner: redemption refuses
 * anyone else), or the token's owner when an admin issued it on their
 * behalf (crt_token_issue). It never changes after the certificate is
 * stored, so the ownership check and the revocation need not share a
 * transaction. A certificate redeemed without a login, or by an admin
 * without --user, belongs to nobody here.
 *
 * Another user's serial and a serial never issued are refused alike
 * (cert_not_found, the same detail), so a user learns nothing about
 * certificates that are not theirs; each such refusal is audited.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The certificate serial if it is user's, into c; cert_not_found (the
 * same for another user's and for none) otherwise. */
static crt_status own_cert(crt_ctx *ctx, const char *serial, const char *user, crt_cert *c)
{
	crt_status r;

	if ((r = crt_cert_get(ctx, serial, c)) == CRT_OK &&
	    (c->user == NULL || strcmp(c->user, user) != 0))
		r = CRT_E_CERT_NOT_FOUND;
	if (r == CRT_E_CERT_NOT_FOUND) {
		crt_cert_clear(c);
		ctx_fail(ctx, r, "you have no certificate with that serial");
	}
	return r;
}

/* Audit a refused self-service action on serial by user (best effort: the
 * refusal stands whether or not the row could be written). */
static void audit_refused(crt_ctx *ctx, const char *user, const char *action, const char *serial,
                          crt_status why)
{
	char saved[sizeof(ctx->detail)];
	char *detail;
	jbuf j;

	if (why == CRT_E_STORE_BUSY || why == CRT_E_STORE_UNAVAILABLE || why == CRT_E_NOMEM ||
	    why == CRT_E_STORE || why == CRT_E_INTERNAL || !store_writable(ctx))
		return;
	jb_begin(&j);
	jb_str(&j, "code", crt_status_name(why));
	jb_str(&j, "user", user);
	if ((detail = jb_end(&j)) == NULL)
		return;
	memcpy(saved, ctx->detail, sizeof(saved));
	/* an unparsable serial is written as such, not as given */
	if (crt_audit_event(ctx, user, action, why == CRT_E_SERIAL_INVALID ? "(invalid serial)" : serial,
	                    detail) != CRT_OK) {
		/* the refusal stands */
	}
	memcpy(ctx->detail, saved, sizeof(saved));
	free(detail);
}

static crt_status check_user(crt_ctx *ctx, const char *user)
{
	if (user == NULL || crt_user_name_check(user) != CRT_OK)
		return ctx_fail(ctx, CRT_E_AUTH_REQUIRED, "self-service needs the user's login");
	return CRT_OK;
}

crt_status crt_my_certs(crt_ctx *ctx, const char *user, crt_cert **out, size_t *n)
{
	crt_cert_filter f = {.status = -1, .expiring_within_days = -1, .user = user};
	crt_status r;

	*out = NULL;
	*n = 0;
	ctx_clear_detail(ctx);
	if ((r = check_user(ctx, user)) != CRT_OK)
		return r;
	return crt_cert_list(ctx, &f, out, n);
}

crt_status crt_my_cert_page(crt_ctx *ctx, const char *user, const crt_page *p, crt_cert **out,
                            size_t *n, int64_t *total)
{
	crt_cert_filter f = {.status = -1, .expiring_within_days = -1, .user = user};
	crt_status r;

	*out = NULL;
	*n = 0;
	*total = 0;
	ctx_clear_detail(ctx);
	if ((r = check_user(ctx, user)) != CRT_OK)
		return r;
	return crt_cert_page(ctx, &f, p, out, n, total);
}

crt_status crt_my_cert_revoke(crt_ctx *ctx, const char *user, const char *serial, int reason,
                              crt_crl *crl)
{
	crt_cert c = {0};
	crt_status r;

	if (crl != NULL)
		memset(crl, 0, sizeof(*crl));
	ctx_clear_detail(ctx);
	if ((r = check_user(ctx, user)) != CRT_OK)
		return r;
	if (reason != CRT_REASON_KEY_COMPROMISE && reason != CRT_REASON_CESSATION) {
		r = ctx_fail(ctx, CRT_E_REASON_INVALID,
		             "a user revokes with keyCompromise or cessationOfOperation");
		goto refused;
	}
	if ((r = own_cert(ctx, serial, user, &c)) != CRT_OK)
		goto refused;
	r = crt_cert_revoke(ctx, c.serial, reason, user, crl);
	if (r == CRT_OK || r == CRT_E_STORE_COMMIT_UNKNOWN)
		goto out;
refused:
	audit_refused(ctx, user, "cert.revoke_refused", serial, r);
out:
	crt_cert_clear(&c);
	return r;
}

crt_status crt_my_pkcs12(crt_ctx *ctx, const char *user, const char *serial, const char *remote,
                         unsigned char **p12, size_t *len)
{
	store_p12_row row = {.sealed = NULL};
	crt_cert c = {0};
	char bind[300];
	char *detail = NULL;
	crt_status r;
	int found = 0;
	jbuf j;

	*p12 = NULL;
	*len = 0;
	ctx_clear_detail(ctx);
	if ((r = check_user(ctx, user)) != CRT_OK)
		return r;
	if ((r = own_cert(ctx, serial, user, &c)) != CRT_OK)
		goto refused;
	if ((r = store_p12_get(ctx, c.serial, &row, &found)) != CRT_OK)
		goto out;
	if (!found || strcmp(row.owner, user) != 0) {
		r = ctx_fail(ctx, CRT_E_PKCS12_NOT_KEPT,
		             c.revoked ? "the certificate is revoked: its PKCS#12 was removed"
		                       : "no PKCS#12 is kept for this certificate (made on the "
		                         "device, or [generate] keep_pkcs12 was off)");
		goto refused;
	}
	p12_seal_bind(c.serial, user, bind, sizeof(bind));
	if ((r = unseal_blob(ctx, P12_SEAL_LABEL, bind, row.sealed, row.sealed_len, p12, len)) !=
	    CRT_OK)
		goto out;
	jb_begin(&j);
	jb_str(&j, "user", user);
	jb_str(&j, "remote", remote);
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	/* Every download is audited; no audit row, no download. */
	r = crt_audit_event(ctx, user, "cert.pkcs12_download", c.serial, detail);
	goto out;
refused:
	audit_refused(ctx, user, "cert.pkcs12_download_refused", serial, r);
out:
	if (r != CRT_OK) {
		crt_freezero(*p12, *len);
		*p12 = NULL;
		*len = 0;
	}
	free(detail);
	store_p12_clear(&row);
	crt_cert_clear(&c);
	return r;
}

crt_status crt_my_pkcs12_kept(crt_ctx *ctx, const char *user, char (**serials)[72], size_t *n)
{
	crt_status r;

	*serials = NULL;
	*n = 0;
	if ((r = check_user(ctx, user)) != CRT_OK)
		return r;
	return store_p12_owned(ctx, user, serials, n);
}
