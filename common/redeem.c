/*
 * redeem.c — single-use redemption, the heart of crtoken (DESIGN.md
 * "Redemption"): the CSR is parsed and verified before the write lock; then
 * one BEGIN IMMEDIATE transaction finds the token by hash, checks its state,
 * applies the allowed overrides, signs, stores the certificate, marks the
 * token used and writes the audit row. The certificate is handed out only
 * after COMMIT succeeded. Refusals are audited in a transaction of their own.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The value a field takes: the redeemer's override when allowed. */
static crt_status pick(crt_ctx *ctx, const char *what, unsigned bit, unsigned locked,
		       const char *token_value, const char *override, const char **out)
{
	*out = token_value;
	if (override == NULL)
		return CRT_OK;
	if (token_value != NULL && strcmp(token_value, override) == 0)
		return CRT_OK;
	if (locked & bit)
		return crt_fail(ctx, CRT_E_FIELD_LOCKED, "%s is locked by the administrator", what);
	*out = *override ? override : NULL;
	return CRT_OK;
}

static void audit_refusal(crt_ctx *ctx, const crt_redeem_req *req, const char *object,
			  crt_status why)
{
	crt_json j;
	char *detail;
	char saved[sizeof(ctx->detail)];

	/* Busy/unavailable stores can't take the row either; don't mask the cause. */
	if (why == CRT_E_STORE_BUSY || why == CRT_E_STORE_UNAVAILABLE || why == CRT_E_NOMEM)
		return;
	memcpy(saved, ctx->detail, sizeof(saved));
	json_begin(&j);
	json_str(&j, "code", crt_status_name(why));
	json_str(&j, "user", req->user);
	json_str(&j, "remote", req->remote);
	if ((detail = json_end(&j)) != NULL) {
		(void)crt_audit_event(ctx, req->actor, "token.redeem_refused", object, detail);
		free(detail);
	}
	memcpy(ctx->detail, saved, sizeof(saved));
}

static crt_status mark_used(crt_ctx *ctx, const char *id, const char *serial, int64_t now)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx,
				     "UPDATE tokens SET used_at = ?1, updated_at = ?1, serial = ?2 "
				     "WHERE id = ?3 AND used_at IS NULL AND deleted_at IS NULL",
				     &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "marking the token used");
	/* Belt and braces: under BEGIN IMMEDIATE nobody else can have won. */
	if (sqlite3_changes(ctx->db) != 1)
		return crt_fail(ctx, CRT_E_TOKEN_USED, "the token was used concurrently");
	return CRT_OK;
}

crt_status crt_redeem(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out)
{
	crt_csr *csr = NULL;
	X509 *x = NULL;
	crt_token t = {0};
	crt_cert c = {0};
	char hash[65], serial[72], object[80];
	const char *cn, *org, *ou;
	char *detail = NULL;
	crt_json j;
	crt_status r;
	int64_t now = crt_now();

	crt_clear_detail(ctx);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (req == NULL || req->token == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token given");
	snprintf(object, sizeof(object), "token");

	/* 1. Everything that needs no lock: token syntax, fields, the CSR. */
	if ((r = crt_token_check_format(req->token)) != CRT_OK) {
		crt_fail(ctx, r, r == CRT_E_TOKEN_MALFORMED
				     ? "a token starts with " CRT_TOKEN_PREFIX
				     : "check the token for typos (its checksum does not match)");
		goto refused;
	}
	if ((req->cn && *req->cn && crt_field_check(req->cn, 64) != CRT_OK) ||
	    (req->org && *req->org && crt_field_check(req->org, 64) != CRT_OK) ||
	    (req->ou && *req->ou && crt_field_check(req->ou, 64) != CRT_OK)) {
		r = crt_fail(ctx, CRT_E_FIELD_INVALID,
			     "overrides must be at most 64 bytes of printable UTF-8");
		goto refused;
	}
	if ((r = csr_load(ctx, req->csr, req->csr_len, &csr)) != CRT_OK)
		goto refused;
	token_hash(req->token, hash);

	/* 2. The single transaction. */
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = token_load_by_hash(ctx, hash, now, &t)) != CRT_OK) {
		if (r == CRT_E_TOKEN_UNKNOWN)
			crt_fail(ctx, r, "no such token (never issued, or purged)");
		goto fail;
	}
	snprintf(object, sizeof(object), "%s", t.id);
	switch (t.state) {
	case CRT_TOKEN_DELETED:
		r = crt_fail(ctx, CRT_E_TOKEN_DELETED, "token %s was deleted", t.id);
		goto fail;
	case CRT_TOKEN_USED:
		r = crt_fail(ctx, CRT_E_TOKEN_USED, "token %s was already used", t.id);
		goto fail;
	case CRT_TOKEN_EXPIRED:
		r = crt_fail(ctx, CRT_E_TOKEN_EXPIRED, "token %s has expired", t.id);
		goto fail;
	case CRT_TOKEN_ACTIVE:
		break;
	}
	if (!req->admin && t.owner != NULL &&
	    (req->user == NULL || strcmp(req->user, t.owner) != 0)) {
		r = crt_fail(ctx, CRT_E_TOKEN_OWNER, "token %s belongs to another user", t.id);
		goto fail;
	}
	if ((r = pick(ctx, "commonName", CRT_FIELD_CN, t.locked, t.cn ? t.cn : t.name, req->cn,
		      &cn)) != CRT_OK ||
	    (r = pick(ctx, "organization", CRT_FIELD_O, t.locked, t.org, req->org, &org)) !=
		    CRT_OK ||
	    (r = pick(ctx, "organizationalUnit", CRT_FIELD_OU, t.locked, t.ou, req->ou, &ou)) !=
		    CRT_OK)
		goto fail;
	if ((r = cert_issue(ctx, csr, cn, org, ou, now, &x, serial)) !=
	    CRT_OK)
		goto fail;
	if ((r = cert_insert(ctx, x, csr->pkey, serial, t.name, t.id, req->user, t.reply, now, &c)) != CRT_OK)
		goto fail;
	if ((r = mark_used(ctx, t.id, serial, now)) != CRT_OK)
		goto fail;
	json_begin(&j);
	json_str(&j, "serial", serial);
	json_str(&j, "subject", c.subject);
	json_str(&j, "user", req->user);
	json_str(&j, "remote", req->remote);
	if ((detail = json_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, req->actor, "token.redeem", t.id, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (out != NULL) {
		*out = c;
		memset(&c, 0, sizeof(c));
	}
	goto out;
fail:
	store_rollback(ctx);
refused:
	audit_refusal(ctx, req, object, r);
out:
	free(detail);
	X509_free(x);
	csr_free(csr);
	crt_token_clear(&t);
	crt_cert_clear(&c);
	return r;
}
