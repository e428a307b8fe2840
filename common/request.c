/*
 * request.c — the approval workflow on the domain side (crtoken.h,
 * "certificate requests"): the request a redemption of a token that
 * requires approval stores, and the decisions on it — approve (the stored
 * CSR signed as the redemption would have: redeem_sign), deny, expire, and
 * the requester's cancel.
 * Each change is one write transaction with its audit row and event; the
 * state transitions are the pure rule of rules/request.c; every write is a
 * guarded verb of the store area (store/port_requests.h) whose row count is
 * the answer, so two admins (or nodes) deciding at once make one decision.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "internal.h"
#include "rules/paging.h"
#include "rules/request.h"

#define EXPIRE_BATCH 500

void crt_request_clear(crt_request *r)
{
	if (r == NULL)
		return;
	free(r->token_name);
	free(r->cn);
	free(r->org);
	free(r->ou);
	free(r->csr);
	free(r->requester);
	free(r->remote);
	free(r->submitted_by);
	free(r->attestation);
	free(r->decided_by);
	free(r->reason);
	free(r->serial);
	memset(r, 0, sizeof(*r));
}

void crt_request_list_free(crt_request *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		crt_request_clear(&list[i]);
	free(list);
}

/* The state the rule gives r at now. */
static void set_state(crt_request *r, int64_t now)
{
	r->state = request_state_at(r->state, r->expires_at, now);
}

/* The PEM of a CSR csr parsed (its DER), malloc'd; NULL when out of memory. */
static char *csr_pem(const crt_csr *csr)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio(b, PEM_STRING_X509_REQ, "", csr->der, (long)csr->der_len) > 0 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

/* A request's copy of the values it was stored with (out of memory: CRT_E_NOMEM). */
static crt_status fill_submitted(crt_request *out, const store_request_row *q, const crt_token *t)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", q->id);
	snprintf(out->token_id, sizeof(out->token_id), "%s", q->token_id);
	out->state = CRT_REQUEST_PENDING;
	out->created_at = q->created_at;
	out->expires_at = q->expires_at;
	if ((out->token_name = dup_str(t->name)) == NULL ||
	    (q->cn && (out->cn = dup_str(q->cn)) == NULL) ||
	    (q->org && (out->org = dup_str(q->org)) == NULL) ||
	    (q->ou && (out->ou = dup_str(q->ou)) == NULL) ||
	    (out->csr = dup_str(q->csr)) == NULL ||
	    (q->requester && (out->requester = dup_str(q->requester)) == NULL) ||
	    (q->remote && (out->remote = dup_str(q->remote)) == NULL) ||
	    (q->submitted_by && (out->submitted_by = dup_str(q->submitted_by)) == NULL) ||
	    (q->attestation && (out->attestation = dup_str(q->attestation)) == NULL)) {
		crt_request_clear(out);
		return CRT_E_NOMEM;
	}
	return CRT_OK;
}

/* "" → NULL: a field the redemption cleared is absent. */
static const char *present(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* The commit of request id's submission (or decision) was lost: the row says.
 * want: the state the commit leaves it in (pending for the submission). */
static crt_status resolve_lost(crt_ctx *ctx, const char *id, int want, const char *what)
{
	char lost[sizeof(ctx->detail)];
	crt_request q = {0};
	int found = 0;
	crt_status r;

	snprintf(lost, sizeof(lost), "%s", ctx->detail);
	r = store_request_get(ctx, id, &q, NULL, &found);
	if (r == CRT_OK && found && q.state == want) {
		crt_request_clear(&q);
		ctx_clear_detail(ctx);
		return CRT_OK;
	}
	crt_request_clear(&q);
	if (r == CRT_OK)
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
		                "the store was lost while committing the %s of request %s, and it "
		                "did not happen (%s)",
		                what, id, lost);
	return ctx_fail(ctx, CRT_E_STORE_COMMIT_UNKNOWN,
	                "%s; whether the %s of request %s happened is not known (reading it back: "
	                "%s)",
	                lost, what, id, crt_status_name(r));
}

crt_status request_submit(crt_ctx *ctx, const crt_redeem_req *req, const crt_token *t,
                          const crt_csr *csr, const char *cn, const char *org, const char *ou,
                          const char *facts, int64_t now, crt_request *out,
                          char poll_secret[CRT_TOKEN_STRLEN + 1], int *retry)
{
	char id[CRT_ID_LEN], poll_hash[65];
	char *pem = NULL, *subject = NULL, *detail = NULL;
	token_refusal why;
	token_seen seen;
	crt_status r;
	int won = 0;
	jbuf j;

	*retry = 0;
	if ((r = make_id("request", id)) != CRT_OK ||
	    (r = token_generate(CRT_POLL_PREFIX, poll_secret)) != CRT_OK)
		return ctx_fail(ctx, r, "making the request's id and poll secret");
	token_hash(poll_secret, poll_hash);
	if ((pem = csr_pem(csr)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = cert_subject_text(ctx, cn, org, ou, &subject)) != CRT_OK)
		goto out;
	store_request_row q = {.id = id,
	                       .token_id = t->id,
	                       .poll_hash = poll_hash,
	                       .cn = present(cn),
	                       .org = present(org),
	                       .ou = present(ou),
	                       .csr = pem,
	                       .requester = req->user,
	                       .remote = req->remote,
	                       .submitted_by = req->actor,
	                       .attestation = facts,
	                       .created_at = now,
	                       .expires_at = now + ctx->cfg.request_pending_lifetime};
	jb_begin(&j);
	jb_str(&j, "request", id);
	jb_str(&j, "token", t->id);
	jb_str(&j, "subject", subject);
	jb_str(&j, "user", req->user);
	jb_str(&j, "remote", req->remote);
	if (facts != NULL)
		jb_json(&j, "attestation", facts);
	if ((detail = jb_end(&j)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	event_subject es = {.request_id = id,
	                    .token_id = t->id,
	                    .token_name = t->name,
	                    .owner = t->owner,
	                    .owner_email = t->owner_email,
	                    .common_name = present(cn),
	                    .subject = subject,
	                    .user = req->user};

	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	/* The claim first, as for a redemption: the request consumes the token. */
	store_claim claim = {.token_id = t->id, .version = t->version, .serial = NULL, .now = now};
	if ((r = store_token_claim(ctx, &claim, &won)) != CRT_OK)
		goto fail;
	if (!won) {
		if ((r = store_token_seen(ctx, t->id, &seen)) != CRT_OK)
			goto fail;
		store_rollback(ctx);
		r = token_claim_lost(&seen, t->id, t->version, now, retry, &why);
		r = ctx_fail(ctx, r, "%s", why.msg);
		goto out;
	}
	if ((r = store_request_insert(ctx, &q)) != CRT_OK ||
	    (r = audit_write(ctx, req->actor, "request.submit", id, detail)) != CRT_OK ||
	    (r = event_emit(ctx, "request.pending", req->actor, &es, NULL, NULL)) != CRT_OK)
		goto fail;
	r = store_commit(ctx);
	if (r == CRT_E_STORE_COMMIT_UNKNOWN)
		r = resolve_lost(ctx, id, CRT_REQUEST_PENDING, "submission");
	if (r == CRT_OK && (r = fill_submitted(out, &q, t)) != CRT_OK)
		r = ctx_fail(ctx, r, "request %s is stored; out of memory copying it", id);
	goto out;
fail:
	store_rollback(ctx);
out:
	if (r != CRT_OK)
		OPENSSL_cleanse(poll_secret, CRT_TOKEN_STRLEN + 1);
	free(pem);
	free(subject);
	free(detail);
	return r;
}

/* ------------------------------------------------------------ reading */

static crt_status load(crt_ctx *ctx, const char *id, int64_t now, crt_request *out,
                       char poll_hash[65])
{
	int found = 0;
	crt_status r;

	if (id == NULL || *id == '\0')
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no request id");
	if ((r = store_request_get(ctx, id, out, poll_hash, &found)) != CRT_OK)
		return r;
	if (!found)
		return ctx_fail(ctx, CRT_E_REQUEST_UNKNOWN, "no certificate request %.64s", id);
	set_state(out, now);
	return CRT_OK;
}

crt_status crt_request_get(crt_ctx *ctx, const char *id, crt_request *out)
{
	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	return load(ctx, id, crt_now(), out, NULL);
}

crt_status crt_request_poll(crt_ctx *ctx, const char *id, const char *poll_secret,
                            crt_request *out)
{
	char stored[65], given[65];
	crt_status r;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (poll_secret == NULL || strncmp(poll_secret, CRT_POLL_PREFIX, 4) != 0 ||
	    strlen(poll_secret) != CRT_TOKEN_STRLEN)
		return ctx_fail(ctx, CRT_E_AUTH_FAILED, "not a poll secret (" CRT_POLL_PREFIX "...)");
	r = load(ctx, id, crt_now(), out, stored);
	if (r == CRT_E_REQUEST_UNKNOWN || r == CRT_E_INVALID_ARGUMENT)
		r = CRT_E_AUTH_FAILED;
	if (r != CRT_OK)
		goto out;
	token_hash(poll_secret, given);
	if (strlen(stored) != 64 || CRYPTO_memcmp(stored, given, 64) != 0)
		r = CRT_E_AUTH_FAILED;
out:
	OPENSSL_cleanse(given, sizeof(given));
	OPENSSL_cleanse(stored, sizeof(stored));
	if (r == CRT_E_AUTH_FAILED) {
		crt_request_clear(out);
		return ctx_fail(ctx, r, "no request with this id and poll secret");
	}
	if (r != CRT_OK)
		crt_request_clear(out);
	return r;
}

crt_status crt_request_list(crt_ctx *ctx, const crt_request_filter *f, crt_request **out,
                            size_t *n)
{
	request_bounds b;
	int64_t now = crt_now();
	int state = f != NULL ? f->state : -1, limit = f != NULL ? f->limit : 0;
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	if (state < -1 || state > REQUEST_STATE_LAST)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no such request state");
	request_state_bounds(state, now, &b);
	if ((r = store_request_list(ctx, &b, f != NULL ? f->user : NULL, limit > 0 ? limit : 100,
	                            out, n)) != CRT_OK)
		return r;
	for (size_t i = 0; i < *n; i++)
		set_state(&(*out)[i], now);
	return CRT_OK;
}

crt_status crt_request_page(crt_ctx *ctx, const crt_request_filter *f, const crt_page *p,
			    crt_request **out, size_t *n, int64_t *total)
{
	request_bounds b;
	int64_t now = crt_now();
	int state = f != NULL ? f->state : -1;
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	*total = 0;
	if (state < -1 || state > REQUEST_STATE_LAST)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no such request state");
	if (!paging_valid(p, crt_request_sort_fields))
		return ctx_fail(ctx, CRT_E_PAGE_INVALID, "not a page crt_page_parse makes");
	request_state_bounds(state, now, &b);
	if ((r = store_request_page(ctx, &b, f != NULL ? f->user : NULL, p, out, n, total)) !=
	    CRT_OK)
		return r;
	for (size_t i = 0; i < *n; i++)
		set_state(&(*out)[i], now);
	return CRT_OK;
}

/* ------------------------------------------------------------ decisions */

/* The guarded decision c on request id failed to change its row: read it
 * again and let the rule say why (CRT_E_REQUEST_STATE, ...). */
static crt_status lost_decision(crt_ctx *ctx, const char *id, int d, int64_t now)
{
	crt_request q = {0};
	const char *why;
	int to;
	crt_status r = load(ctx, id, now, &q, NULL);

	if (r == CRT_OK) {
		r = request_decide(q.state, q.expires_at, now, d, &to, &why);
		if (r == CRT_OK) /* decided by someone and back? never: fail closed */
			r = ctx_fail(ctx, CRT_E_REQUEST_STATE, "request %s changed meanwhile", id);
		else
			r = ctx_fail(ctx, r, "request %s: %s", id, why);
	}
	crt_request_clear(&q);
	return r;
}

/* Load request id and check that decision d may be made at now. */
static crt_status load_for(crt_ctx *ctx, const char *id, int d, int64_t now, crt_request *q)
{
	const char *why;
	int to;
	crt_status r;

	if ((r = load(ctx, id, now, q, NULL)) != CRT_OK)
		return r;
	if ((r = request_decide(q->state, q->expires_at, now, d, &to, &why)) != CRT_OK)
		return ctx_fail(ctx, r, "request %s: %s", id, why);
	return CRT_OK;
}

/* The token request q consumed, for its owner and ownerEmail in the
 * decision's event (so the e-mail sink's to_owner reaches the requester's
 * owner on a denial or expiry too); *t stays empty when the token is gone. */
static crt_status owner_of(crt_ctx *ctx, const char *token_id, int64_t now, crt_token *t)
{
	crt_status r = token_load(ctx, token_id, now, t);

	if (r == CRT_E_TOKEN_NOT_FOUND) {
		crt_token_clear(t);
		memset(t, 0, sizeof(*t));
		ctx_clear_detail(ctx);
		return CRT_OK;
	}
	return r;
}

crt_status crt_request_approve(crt_ctx *ctx, const char *id, const char *actor, crt_cert *out)
{
	crt_request q = {0};
	crt_token t = {0};
	crt_csr *csr = NULL;
	X509 *x = NULL;
	crt_cert c = {0};
	store_cert_row row;
	char serial[72], *detail = NULL, *facts = NULL;
	int64_t now = crt_now();
	int changed = 0;
	crt_status r;
	jbuf j;

	ctx_clear_detail(ctx);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if ((r = load_for(ctx, id, REQUEST_APPROVE, now, &q)) != CRT_OK)
		goto out;
	if (!ca_can_sign(ctx)) {
		r = ctx_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
		goto out;
	}
	/* The token the request consumed: its CA, profile, reply attributes. */
	if ((r = token_load(ctx, q.token_id, now, &t)) != CRT_OK) {
		if (r == CRT_E_TOKEN_NOT_FOUND)
			r = ctx_fail(ctx, CRT_E_REQUEST_STATE, "request %s: its token %s is gone", id,
			             q.token_id);
		goto out;
	}
	if ((r = csr_load(ctx, (const unsigned char *)q.csr, strlen(q.csr), &csr)) != CRT_OK ||
	    (r = csr_check_key(ctx, csr)) != CRT_OK)
		goto out;
	if (q.attestation != NULL && (facts = strdup(q.attestation)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	/* Signed as the redemption would have signed it (outside the
	 * transaction: a remote CA may take its time). */
	r = redeem_sign(ctx, &t, csr, q.cn, q.org, q.ou, q.requester, now, facts, &x, serial, &c,
	                &row);
	facts = NULL;
	if (r != CRT_OK)
		goto out;
	jb_begin(&j);
	jb_str(&j, "serial", c.serial);
	jb_str(&j, "subject", c.subject);
	jb_str(&j, "token", t.id);
	jb_str(&j, "requester", q.requester);
	if ((detail = jb_end(&j)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	event_subject es = {.request_id = q.id,
	                    .token_id = t.id,
	                    .token_name = t.name,
	                    .owner = t.owner,
	                    .owner_email = t.owner_email,
	                    .serial = c.serial,
	                    .common_name = c.cn,
	                    .subject = c.subject,
	                    .user = q.requester,
	                    .not_after = c.not_after};
	store_request_change ch = {.id = q.id,
	                           .to = CRT_REQUEST_ISSUED,
	                           .now = now,
	                           .decided_by = actor,
	                           .serial = c.serial};

	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = store_request_decide(ctx, &ch, &changed)) != CRT_OK)
		goto fail;
	if (!changed) {
		store_rollback(ctx);
		r = lost_decision(ctx, id, REQUEST_APPROVE, now);
		goto out;
	}
	if ((r = store_cert_insert(ctx, &row)) != CRT_OK ||
	    (r = audit_write(ctx, actor, "request.approve", q.id, detail)) != CRT_OK ||
	    (r = event_emit(ctx, "request.approved", actor, &es, NULL, NULL)) != CRT_OK ||
	    (r = event_emit(ctx, "certificate.issued", actor, &es, NULL, NULL)) != CRT_OK)
		goto fail;
	r = store_commit(ctx);
	if (r == CRT_E_STORE_COMMIT_UNKNOWN)
		r = resolve_lost(ctx, q.id, CRT_REQUEST_ISSUED, "approval");
	if (r == CRT_OK && out != NULL) {
		*out = c;
		memset(&c, 0, sizeof(c));
	}
	goto out;
fail:
	store_rollback(ctx);
out:
	ca_select_default(ctx);
	free(detail);
	free(facts);
	X509_free(x);
	csr_free(csr);
	crt_cert_clear(&c);
	crt_token_clear(&t);
	crt_request_clear(&q);
	return r;
}

/* A denial or cancellation of q (its token t) written (decision d): the
 * guarded state change ch, its audit row (action; the detail names the
 * token, the requester and key: value) and its event (with ch's reason) in
 * one transaction. A row the guard did not change is explained by
 * lost_decision; an unknown commit is read back (what names the change in
 * the answer). */
static crt_status write_decision(crt_ctx *ctx, const crt_request *q, const crt_token *t,
                                 const store_request_change *ch, int d, const char *actor,
                                 const char *action, const char *event, const char *key,
                                 const char *value, const char *what)
{
	event_subject es = {.request_id = q->id,
	                    .token_id = q->token_id,
	                    .token_name = q->token_name,
	                    .owner = t->owner,
	                    .owner_email = t->owner_email,
	                    .common_name = q->cn,
	                    .user = q->requester,
	                    .reason = ch->reason};
	char *detail;
	int changed = 0;
	crt_status r;
	jbuf j;

	jb_begin(&j);
	jb_str(&j, "token", q->token_id);
	jb_str(&j, "requester", q->requester);
	jb_str(&j, key, value);
	if ((detail = jb_end(&j)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = store_request_decide(ctx, ch, &changed)) != CRT_OK)
		goto fail;
	if (!changed) {
		store_rollback(ctx);
		r = lost_decision(ctx, ch->id, d, ch->now);
		goto out;
	}
	if ((r = audit_write(ctx, actor, action, ch->id, detail)) != CRT_OK ||
	    (r = event_emit(ctx, event, actor, &es, NULL, NULL)) != CRT_OK)
		goto fail;
	r = store_commit(ctx);
	if (r == CRT_E_STORE_COMMIT_UNKNOWN)
		r = resolve_lost(ctx, ch->id, ch->to, what);
	goto out;
fail:
	store_rollback(ctx);
out:
	free(detail);
	return r;
}

crt_status crt_request_deny(crt_ctx *ctx, const char *id, const char *reason, const char *actor)
{
	crt_request q = {0};
	crt_token t = {0};
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	if (reason == NULL || *reason == '\0' || field_check(reason, REQUEST_REASON_MAX) != CRT_OK)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
		                "a denial needs a reason: 1-%d bytes of printable UTF-8",
		                REQUEST_REASON_MAX);
	if ((r = load_for(ctx, id, REQUEST_DENY, now, &q)) != CRT_OK ||
	    (r = owner_of(ctx, q.token_id, now, &t)) != CRT_OK)
		goto out;
	store_request_change ch = {
	    .id = q.id, .to = CRT_REQUEST_DENIED, .now = now, .decided_by = actor, .reason = reason};
	r = write_decision(ctx, &q, &t, &ch, REQUEST_DENY, actor, "request.deny", "request.denied",
	                   "reason", reason, "denial");
out:
	crt_token_clear(&t);
	crt_request_clear(&q);
	return r;
}

/* Who may cancel q (crt_request_cancel): the poll secret compared as
 * hashes against stored, or the login against its requester, or an admin.
 * The audit actor into *actor (borrowed from by or q). */
static crt_status cancel_allowed(crt_ctx *ctx, const crt_request_canceller *by,
                                 const crt_request *q, const char *stored, const char **actor)
{
	char given[65];
	int ok;

	if (by->poll_secret != NULL) {
		token_hash(by->poll_secret, given);
		ok = strlen(stored) == 64 && CRYPTO_memcmp(stored, given, 64) == 0;
		OPENSSL_cleanse(given, sizeof(given));
		if (!ok)
			return ctx_fail(ctx, CRT_E_AUTH_FAILED,
			                "no request with this id and poll secret");
		*actor = q->requester != NULL ? q->requester : "requester";
		return CRT_OK;
	}
	if (by->user != NULL) {
		/* another user's request reads like none at all */
		if (q->requester == NULL || strcmp(q->requester, by->user) != 0)
			return ctx_fail(ctx, CRT_E_REQUEST_UNKNOWN, "no certificate request %.64s of %s",
			                q->id, by->user);
		*actor = by->user;
		return CRT_OK;
	}
	*actor = by->actor != NULL ? by->actor : "admin";
	return CRT_OK;
}

crt_status crt_request_cancel(crt_ctx *ctx, const char *id, const crt_request_canceller *by,
                              crt_request *out)
{
	crt_request q = {0};
	crt_token t = {0};
	char stored[65] = "";
	const char *actor = NULL, *why, *how;
	int64_t now = crt_now();
	int to;
	crt_status r;

	ctx_clear_detail(ctx);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (by == NULL || (by->poll_secret != NULL && by->user != NULL))
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "cancel by a poll secret or a login");
	if (by->poll_secret != NULL &&
	    (strncmp(by->poll_secret, CRT_POLL_PREFIX, 4) != 0 ||
	     strlen(by->poll_secret) != CRT_TOKEN_STRLEN))
		return ctx_fail(ctx, CRT_E_AUTH_FAILED, "not a poll secret (" CRT_POLL_PREFIX "...)");
	how = by->poll_secret != NULL ? "pollSecret" : by->user != NULL ? "login" : "admin";
	r = load(ctx, id, now, &q, stored);
	if (by->poll_secret != NULL && (r == CRT_E_REQUEST_UNKNOWN || r == CRT_E_INVALID_ARGUMENT))
		r = ctx_fail(ctx, CRT_E_AUTH_FAILED, "no request with this id and poll secret");
	if (r != CRT_OK || (r = cancel_allowed(ctx, by, &q, stored, &actor)) != CRT_OK)
		goto out;
	if ((r = request_decide(q.state, q.expires_at, now, REQUEST_CANCEL, &to, &why)) != CRT_OK) {
		r = ctx_fail(ctx, r, "request %s: %s", id, why);
		goto out;
	}
	if ((r = owner_of(ctx, q.token_id, now, &t)) != CRT_OK)
		goto out;
	store_request_change ch = {.id = q.id, .to = to, .now = now, .decided_by = actor};
	r = write_decision(ctx, &q, &t, &ch, REQUEST_CANCEL, actor, "request.cancel",
	                   "request.cancelled", "by", how, "cancellation");
	if (r == CRT_OK && out != NULL) {
		q.state = CRT_REQUEST_CANCELLED;
		q.decided_at = now;
		free(q.decided_by);
		if ((q.decided_by = dup_str(actor)) == NULL) {
			r = ctx_fail(ctx, CRT_E_NOMEM, "request %s is cancelled; out of memory copying it",
			             id);
			goto out;
		}
		*out = q;
		memset(&q, 0, sizeof(q));
	}
out:
	OPENSSL_cleanse(stored, sizeof(stored));
	crt_token_clear(&t);
	crt_request_clear(&q);
	return r;
}

crt_status crt_requests_expire(crt_ctx *ctx, const char *actor, size_t *n)
{
	crt_request *due = NULL;
	size_t ndue = 0, count = 0;
	request_bounds b;
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	if (n != NULL)
		*n = 0;
	/* pending with expires_at <= now: what the rule lets expire */
	b.stored = CRT_REQUEST_PENDING;
	b.expires_min = INT64_MIN;
	b.expires_max = now;
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_request_list(ctx, &b, NULL, EXPIRE_BATCH, &due, &ndue)) != CRT_OK)
		goto fail;
	for (size_t i = 0; i < ndue; i++) {
		store_request_change ch = {.id = due[i].id,
		                           .to = CRT_REQUEST_EXPIRED,
		                           .expire = 1,
		                           .now = now,
		                           .decided_by = actor};
		crt_token t = {0};
		char *detail;
		int changed = 0;
		jbuf j;

		if ((r = store_request_decide(ctx, &ch, &changed)) != CRT_OK)
			goto fail;
		if (!changed) /* another node expired it a moment ago */
			continue;
		if ((r = owner_of(ctx, due[i].token_id, now, &t)) != CRT_OK)
			goto fail;
		event_subject es = {.request_id = due[i].id,
		                    .token_id = due[i].token_id,
		                    .token_name = due[i].token_name,
		                    .owner = t.owner,
		                    .owner_email = t.owner_email,
		                    .common_name = due[i].cn,
		                    .user = due[i].requester};
		jb_begin(&j);
		jb_str(&j, "token", due[i].token_id);
		jb_str(&j, "requester", due[i].requester);
		jb_int(&j, "pendingLifetimeSeconds", ctx->cfg.request_pending_lifetime);
		if ((detail = jb_end(&j)) == NULL) {
			crt_token_clear(&t);
			r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
			goto fail;
		}
		r = audit_write(ctx, actor, "request.expire", due[i].id, detail);
		free(detail);
		if (r == CRT_OK)
			r = event_emit(ctx, "request.expired", actor, &es, NULL, NULL);
		crt_token_clear(&t);
		if (r != CRT_OK)
			goto fail;
		count++;
	}
	r = store_commit(ctx);
	if (r == CRT_OK && n != NULL)
		*n = count;
	goto out;
fail:
	store_rollback(ctx);
out:
	crt_request_list_free(due, ndue);
	return r;
}

/* ------------------------------------------------------------ JSON */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jtime(int64_t t)
{
	char buf[32];
	if (t == 0)
		return json_null();
	crt_time_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *crt_request_json(const crt_request *r, int with_csr)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "requestId", json_string(r->id));
	json_object_set_new(o, "state", json_string(crt_request_state_name(r->state)));
	json_object_set_new(o, "tokenId", json_string(r->token_id));
	json_object_set_new(o, "tokenName", jstr(r->token_name));
	json_object_set_new(o, "commonName", jstr(r->cn));
	json_object_set_new(o, "organization", jstr(r->org));
	json_object_set_new(o, "organizationalUnit", jstr(r->ou));
	json_object_set_new(o, "requester", jstr(r->requester));
	json_object_set_new(o, "remote", jstr(r->remote));
	json_object_set_new(o, "createdAt", jtime(r->created_at));
	json_object_set_new(o, "expiresAt", jtime(r->expires_at));
	json_object_set_new(o, "decidedAt", jtime(r->decided_at));
	json_object_set_new(o, "decidedBy", jstr(r->decided_by));
	json_object_set_new(o, "reason", jstr(r->reason));
	json_object_set_new(o, "serial", jstr(r->serial));
	if (r->attestation != NULL)
		json_object_set_new(o, "attestation", json_loads(r->attestation, 0, NULL));
	if (with_csr)
		json_object_set_new(o, "csr", jstr(r->csr));
	return o;
}
