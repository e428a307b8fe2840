/*
 * redeem.c — single-use redemption, the heart of crtoken (DESIGN.md
 * "Redemption").
 *
 * Phase 1, on the caller's thread and without the write lock: token syntax,
 * field checks, CSR parse + signature + key policy, the token row (read),
 * its state, the allowed overrides, and signing the certificate.
 * Phase 2, in one BEGIN IMMEDIATE transaction (group-committed with other
 * redemptions, see commit.c): the token row is read again and must be
 * unchanged and still active; then the certificate is stored, the token
 * marked used and the audit row written. The certificate is handed out only
 * after COMMIT succeeded; a certificate signed in phase 1 whose token was
 * used meanwhile is discarded — never stored, never returned, and never
 * admitted by rlm_crtoken, which admits only stored serials. Racing
 * redeemers of one token: exactly one wins. Refusals are audited.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "store/sqlite.h" /* until this file's SQL moves behind the port */

/* The value a field takes: the redeemer's override when the token allows it
 * (may: crt_token_overridable). "" clears the field. */
static crt_status pick(crt_ctx *ctx, const char *what, unsigned bit, unsigned may,
		       const char *token_value, const char *override, const char **out)
{
	*out = token_value;
	if (override == NULL)
		return CRT_OK;
	if (token_value != NULL && strcmp(token_value, override) == 0)
		return CRT_OK;
	if (!(may & bit))
		return crt_fail(ctx, CRT_E_FIELD_LOCKED,
				"%s is fixed by the token (filled in by the administrator, or the "
				"commonName of an owner's token); the administrator may open it",
				what);
	*out = *override ? override : NULL;
	return CRT_OK;
}

/* Each field of the subject about to be signed obeys the subject field rule
 * (tokens stored before the rule included), and there is a CN. */
static crt_status check_subject(crt_ctx *ctx, const char *cn, const char *org, const char *ou)
{
	const char *names[] = {"commonName", "organization", "organizationalUnit"};
	const char *v[] = {cn, org, ou};
	const char *why;

	if (cn == NULL)
		return crt_fail(ctx, CRT_E_FIELD_INVALID,
				"the commonName cannot be empty (a certificate needs a subject)");
	for (int i = 0; i < 3; i++)
		if (v[i] != NULL && subject_field_check(v[i], &why) != CRT_OK)
			return crt_fail(ctx, CRT_E_FIELD_INVALID, "%s %s", names[i], why);
	return CRT_OK;
}

static char *refusal_detail(const crt_redeem_req *req, crt_status why)
{
	crt_json j;
	json_begin(&j);
	json_str(&j, "code", crt_status_name(why));
	/* a name the user-name rule refuses is not written: audit rows stay UTF-8 JSON */
	json_str(&j, "user",
		 req->user == NULL || crt_user_name_check(req->user) == CRT_OK
			 ? req->user
			 : "(invalid user name)");
	json_str(&j, "remote", req->remote);
	return json_end(&j);
}

static void audit_refusal(crt_ctx *ctx, const crt_redeem_req *req, const char *object,
			  crt_status why)
{
	char saved[sizeof(ctx->detail)];

	/* Busy/unavailable stores can't take the row either; don't mask the cause. */
	if (why == CRT_E_STORE_BUSY || why == CRT_E_STORE_UNAVAILABLE || why == CRT_E_NOMEM ||
	    why == CRT_E_STORE || why == CRT_E_INTERNAL || !store_writable(ctx))
		return;
	memcpy(saved, ctx->detail, sizeof(saved));
	redeem_job job = {.req = req, .token_id = object, .status = why, .audit_only = 1};
	(void)group_commit(ctx, &job);
	memcpy(ctx->detail, saved, sizeof(saved));
}

static crt_status mark_used(crt_ctx *ctx, const char *id, const char *serial, int64_t now)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx,
				     "UPDATE tokens SET used_at = ?1, updated_at = ?1, serial = ?2, "
				     "version = version + 1 "
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
	if (sqlite3_changes(sq_db(ctx)) != 1)
		return crt_fail(ctx, CRT_E_TOKEN_USED, "the token was used concurrently");
	return CRT_OK;
}

/* The audit detail of a successful redemption. */
static char *success_detail(const redeem_job *j, const char *subject)
{
	crt_json js;
	json_begin(&js);
	json_str(&js, "serial", j->serial);
	json_str(&js, "subject", subject);
	json_str(&js, "user", j->req->user);
	json_str(&js, "remote", j->req->remote);
	return json_end(&js);
}

crt_status redeem_apply(crt_ctx *ctx, redeem_job *j)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;
	int64_t used = 0, deleted = 0, version = 0, expires = 0;
	char *detail = NULL;

	/* The token again, under the write lock: it must be as phase 1 saw it. */
	if ((r = store_prepare(ctx,
			       "SELECT used_at, deleted_at, version, expires_at FROM tokens "
			       "WHERE id = ?",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, j->token_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		used = sqlite3_column_int64(st, 0);
		deleted = sqlite3_column_int64(st, 1);
		version = sqlite3_column_int64(st, 2);
		expires = sqlite3_column_int64(st, 3);
	}
	store_done(st);
	if (rc == SQLITE_DONE)
		return crt_fail(ctx, CRT_E_TOKEN_UNKNOWN, "token %s was purged", j->token_id);
	if (rc != SQLITE_ROW)
		return store_error(ctx, rc, "reading the token");
	if (deleted)
		return crt_fail(ctx, CRT_E_TOKEN_DELETED, "token %s was deleted", j->token_id);
	if (used)
		return crt_fail(ctx, CRT_E_TOKEN_USED, "token %s was already used", j->token_id);
	if (version != j->token_version) {
		j->retry = 1; /* an admin changed it meanwhile: redo phase 1 */
		return crt_fail(ctx, CRT_E_TOKEN_NOT_ACTIVE, "token %s changed", j->token_id);
	}
	if (j->now >= expires)
		return crt_fail(ctx, CRT_E_TOKEN_EXPIRED, "token %s has expired", j->token_id);
	if ((r = cert_insert(ctx, j->cert, j->pkey, j->chain_pem, j->serial, j->name, j->token_id,
			     j->req->user, j->reply, j->now, j->out)) != CRT_OK ||
	    (r = mark_used(ctx, j->token_id, j->serial, j->now)) != CRT_OK)
		goto fail;
	if ((detail = success_detail(j, j->out ? j->out->subject : NULL)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	r = audit_write(ctx, j->req->actor, "token.redeem", j->token_id, detail);
	free(detail);
	if (r == CRT_OK)
		return CRT_OK;
fail:
	crt_cert_clear(j->out);
	return r;
}

void redeem_audit_refusal_in_txn(crt_ctx *ctx, redeem_job *j)
{
	char *detail = refusal_detail(j->req, j->status);
	if (detail != NULL)
		(void)audit_write(ctx, j->req->actor, "token.redeem_refused", j->token_id, detail);
	free(detail);
}

/* Read the token by hash and check it against req: state, owner, allowed
 * overrides (the subject policy, crtoken.h), the subject field rule. On CRT_OK, cn/org/ou are the subject fields to sign (pointing
 * into t or req). */
static crt_status check_token(crt_ctx *ctx, const crt_redeem_req *req, const char *hash,
			      int64_t now, crt_token *t, char object[80], const char **cn,
			      const char **org, const char **ou)
{
	crt_status r;
	unsigned may;

	crt_token_clear(t);
	if ((r = token_load_by_hash(ctx, hash, now, t)) != CRT_OK) {
		if (r == CRT_E_TOKEN_UNKNOWN)
			crt_fail(ctx, r, "no such token (never issued, or purged)");
		return r;
	}
	snprintf(object, 80, "%s", t->id);
	switch (t->state) {
	case CRT_TOKEN_DELETED:
		return crt_fail(ctx, CRT_E_TOKEN_DELETED, "token %s was deleted", t->id);
	case CRT_TOKEN_USED:
		return crt_fail(ctx, CRT_E_TOKEN_USED, "token %s was already used", t->id);
	case CRT_TOKEN_EXPIRED:
		return crt_fail(ctx, CRT_E_TOKEN_EXPIRED, "token %s has expired", t->id);
	case CRT_TOKEN_ACTIVE:
		break;
	}
	if (!req->admin && t->owner != NULL &&
	    (req->user == NULL || strcmp(req->user, t->owner) != 0))
		return crt_fail(ctx, CRT_E_TOKEN_OWNER, "token %s belongs to another user", t->id);
	may = crt_token_overridable(t);
	if ((r = pick(ctx, "commonName", CRT_FIELD_CN, may, t->cn ? t->cn : t->name, req->cn,
		      cn)) != CRT_OK ||
	    (r = pick(ctx, "organization", CRT_FIELD_O, may, t->org, req->org, org)) != CRT_OK ||
	    (r = pick(ctx, "organizationalUnit", CRT_FIELD_OU, may, t->ou, req->ou, ou)) != CRT_OK)
		return r;
	return check_subject(ctx, *cn, *org, *ou);
}

/* Token syntax and override fields: the checks that need neither store nor CSR. */
static crt_status check_request(crt_ctx *ctx, const crt_redeem_req *req)
{
	crt_status r;
	if ((r = crt_token_check_format(req->token)) != CRT_OK)
		return crt_fail(ctx, r, r == CRT_E_TOKEN_MALFORMED
						? "a token starts with " CRT_TOKEN_PREFIX
						: "check the token for typos (its checksum does not "
						  "match)");
	const char *names[] = {"commonName", "organization", "organizationalUnit"};
	const char *v[] = {req->cn, req->org, req->ou};
	const char *why;
	if (req->user != NULL && crt_user_name_check(req->user) != CRT_OK)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT,
				"the user name must be " CRT_USER_NAME_RULE);
	for (int i = 0; i < 3; i++) /* "" asks to clear the field */
		if (v[i] != NULL && *v[i] != '\0' && subject_field_check(v[i], &why) != CRT_OK)
			return crt_fail(ctx, CRT_E_FIELD_INVALID, "the %s override %s", names[i],
					why);
	return CRT_OK;
}

crt_status redeem_precheck(crt_ctx *ctx, const crt_redeem_req *req)
{
	crt_token t = {0};
	char hash[65], object[80] = "token";
	const char *cn, *org, *ou;
	crt_status r;

	crt_clear_detail(ctx);
	if (req == NULL || req->token == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token given");
	if ((r = check_request(ctx, req)) == CRT_OK) {
		token_hash(req->token, hash);
		r = check_token(ctx, req, hash, crt_now(), &t, object, &cn, &org, &ou);
	}
	if (r != CRT_OK)
		audit_refusal(ctx, req, object, r);
	crt_token_clear(&t);
	return r;
}

/* Phase 1 for one attempt: read the token, check it, sign. On CRT_OK the
 * job is ready for group_commit; x and t belong to the caller. */
static crt_status prepare(crt_ctx *ctx, const crt_redeem_req *req, const char *hash,
			  crt_csr *csr, int64_t now, crt_token *t, X509 **x, char serial[72],
			  char object[80])
{
	const char *cn, *org, *ou;
	crt_status r;

	X509_free(*x);
	*x = NULL;
	if ((r = check_token(ctx, req, hash, now, t, object, &cn, &org, &ou)) != CRT_OK ||
	    (r = csr_check_key(ctx, csr)) != CRT_OK)
		return r;
	return cert_issue(ctx, csr, cn, org, ou, now, x, serial);
}

crt_status crt_redeem(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out)
{
	crt_csr *csr = NULL;
	X509 *x = NULL;
	crt_token t = {0};
	crt_cert c = {0};
	char hash[65], serial[72], object[80];
	crt_status r;
	int64_t now = crt_now();

	crt_clear_detail(ctx);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (req == NULL || req->token == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token given");
	if (ctx->ca_key == NULL)
		return crt_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
	snprintf(object, sizeof(object), "token");

	/* Phase 1: everything that needs no lock. */
	if ((r = check_request(ctx, req)) != CRT_OK)
		goto refused;
	if ((r = csr_load(ctx, req->csr, req->csr_len, &csr)) != CRT_OK)
		goto refused;
	token_hash(req->token, hash);

	for (int attempt = 0;; attempt++) {
		if ((r = prepare(ctx, req, hash, csr, now, &t, &x, serial, object)) != CRT_OK)
			goto refused;
		/* Phase 2: the writes, group-committed. */
		redeem_job job = {.req = req, .token_id = t.id, .token_version = t.version,
				  .name = t.name, .reply = t.reply, .cert = x, .pkey = csr->pkey,
				  .serial = serial, .now = now, .out = &c};
		r = group_commit(ctx, &job);
		if (!job.retry || attempt == 3)
			break; /* refusals in phase 2 were audited in the batch */
	}
	if (r == CRT_OK && out != NULL) {
		*out = c;
		memset(&c, 0, sizeof(c));
	}
	goto out;
refused:
	audit_refusal(ctx, req, object, r);
out:
	X509_free(x);
	csr_free(csr);
	crt_token_clear(&t);
	crt_cert_clear(&c);
	return r;
}
