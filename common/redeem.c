/*
 * redeem.c — single-use redemption, the heart of crtoken (docs/ARCHITECTURE.md,
 * "Redemption").
 *
 * Phase 1, on the caller's thread and without the write lock: token syntax,
 * field checks, CSR parse + signature + key policy, the token row (read),
 * the redemption decision (rules/token.h: state, owner, overrides →
 * subject), signing the certificate and computing its row. With a remote
 * CA ([ca] type = cfssl, ca_cfssl.c) signing is the call to it, made here
 * on purpose: no transaction is open and nothing is claimed, so a slow CA
 * never holds the store's write lock and a failed call (ca_unavailable,
 * ca_rejected) leaves the token unused.
 * Phase 2, one redemption handed to the store as values (port_tokens.h;
 * SQLite group-commits many in one transaction): the claim FIRST — a
 * conditional update of the token on id + the version phase 1 read +
 * unused, undeleted, unexpired, whose row count is the answer — then the
 * certificate row and the audit row, all or nothing. A claim that wins no
 * row comes back with the token as the store saw it, and the rule says why
 * (used, deleted, expired, purged; changed since phase 1 → phase 1 again).
 * The certificate is handed out only after COMMIT succeeded (or, when the
 * outcome of the commit is unknown, once the token shows this serial); a
 * certificate signed in phase 1 whose token was used meanwhile is
 * discarded — never stored, never returned, and never admitted by
 * rlm_crtoken, which admits only stored serials. Racing redeemers of one
 * token: exactly one wins. Refusals are audited (their own audit row).
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "attest.h"
#include "internal.h"
#include "rules/profile.h"
#include "rules/import.h"

static char *refusal_detail(const crt_redeem_req *req, crt_status why)
{
	jbuf j;
	jb_begin(&j);
	jb_str(&j, "code", crt_status_name(why));
	/* a name the user-name rule refuses is not written: audit rows stay UTF-8 JSON */
	jb_str(&j, "user",
	         req->user == NULL || crt_user_name_check(req->user) == CRT_OK
	             ? req->user
	             : "(invalid user name)");
	jb_str(&j, "remote", req->remote);
	return jb_end(&j);
}

/* One audit row and nothing else (the redemption verb's audit-only form). */
static crt_status audit_only(crt_ctx *ctx, const crt_redeem_req *req, const char *action,
                             const char *object, const char *detail)
{
	store_redemption job = {.audit_only = 1,
	                        .audit = {.at = crt_now(),
	                                  .actor = req->actor,
	                                  .action = action,
	                                  .object = object,
	                                  .detail = detail}};
	return store_token_redeem(ctx, &job);
}

static void audit_refusal_as(crt_ctx *ctx, const crt_redeem_req *req, const char *action,
                             const char *object, crt_status why)
{
	char saved[sizeof(ctx->detail)];
	char *detail;

	/* Busy/unavailable stores can't take the row either; don't mask the cause. */
	if (why == CRT_E_STORE_BUSY || why == CRT_E_STORE_UNAVAILABLE || why == CRT_E_NOMEM ||
	    why == CRT_E_STORE || why == CRT_E_INTERNAL || why == CRT_E_STORE_COMMIT_UNKNOWN ||
	    !store_writable(ctx))
		return;
	if ((detail = refusal_detail(req, why)) == NULL)
		return;
	memcpy(saved, ctx->detail, sizeof(saved));
	if (audit_only(ctx, req, action, object, detail) != CRT_OK) {
		/* the refusal stands as it is; the store could not take its row */
	}
	memcpy(ctx->detail, saved, sizeof(saved));
	free(detail);
}

static void audit_refusal(crt_ctx *ctx, const crt_redeem_req *req, const char *object,
                          crt_status why)
{
	audit_refusal_as(ctx, req,
	                 req->token_id != NULL ? "token.issue_refused" : "token.redeem_refused",
	                 object, why);
}

/* Whom the certificate is for: the redeemer's login, or, for an admin's
 * issue by id (crt_token_issue), the token's owner (NULL: none). */
static const char *redeem_user(const crt_redeem_req *req, const crt_token *t)
{
	return req->token_id != NULL ? t->owner : req->user;
}

/* The audit detail of a successful redemption (attestation: the attested
 * facts, JSON made by attest_facts_json, or NULL). */
static char *success_detail(const crt_redeem_req *req, const char *user, const char *serial,
                            const char *subject, const char *attestation, int kept)
{
	jbuf js;
	jb_begin(&js);
	jb_str(&js, "serial", serial);
	jb_str(&js, "subject", subject);
	jb_str(&js, "user", user);
	jb_str(&js, "remote", req->remote);
	if (attestation != NULL)
		jb_json(&js, "attestation", attestation);
	if (req->cert != NULL) /* an upload (import.c): the certificate was not signed here */
		jb_json(&js, "upload", "true");
	if (kept)
		jb_json(&js, "pkcs12Kept", "true");
	return jb_end(&js);
}

/* The [attestation] defaults of ctx's config (checked when it was loaded). */
static attest_policy attest_defaults(const crt_config *cfg)
{
	attest_policy d = {0};
	const char *why;
	if (attest_policy_apply(&d, cfg->attest_mode, cfg->attest_pin_policy,
	                        cfg->attest_touch_policy, cfg->attest_min_firmware,
	                        &why) != CRT_OK)
		d.mode = ATTEST_REQUIRE; /* unreachable: crt_config_load refused it; fail closed */
	return d;
}

/* The token's attestation policy (merged with the defaults) applied to
 * req's attestation for the CSR's key: CRT_OK with *facts the JSON to store
 * (NULL when no attestation counted), or the refusal. */
static crt_status check_attestation(crt_ctx *ctx, const crt_redeem_req *req, const crt_token *t,
                                    const crt_csr *csr, int64_t now, char **facts)
{
	attest_policy tp, dp = attest_defaults(&ctx->cfg), p;
	attest_facts f;
	char why[400] = "", rule[400];
	const char *bad;
	crt_status v = CRT_OK, r;
	int present = req->attestation != NULL && req->attestation_len > 0;

	*facts = NULL;
	memset(&f, 0, sizeof(f));
	if (attest_policy_parse(t->attestation, &tp, &bad) != CRT_OK)
		return ctx_fail(ctx, CRT_E_INTERNAL, "token %s: its stored attestation policy: %s",
		                t->id, bad);
	p = attest_policy_merge(&tp, &dp);
	if (attest_needs_verify(&p, present)) {
		v = attest_verify(req->attestation, req->attestation_len, ctx->inst->attest_roots,
		                  csr->pkey, now, &f, why, sizeof(why));
		if (v == CRT_E_NOMEM)
			return ctx_fail(ctx, v, "out of memory");
	}
	if ((r = attest_decide(&p, present, v, &f, rule, sizeof(rule))) != CRT_OK)
		return ctx_fail(ctx, r, "%s", v != CRT_OK ? why : rule);
	if (attest_needs_verify(&p, present) && (*facts = attest_facts_json(&f)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	return CRT_OK;
}

/* Read the token by hash and decide on req (rules/token.h: state, owner,
 * allowed overrides, the subject field rule). On CRT_OK, cn/org/ou are the
 * subject fields to sign (pointing into t or req). */
static crt_status check_token(crt_ctx *ctx, const crt_redeem_req *req, const char *hash,
                              int64_t now, crt_token *t, char object[80], const char **cn,
                              const char **org, const char **ou)
{
	token_refusal why;
	crt_status r;

	crt_token_clear(t);
	if (req->token_id != NULL) /* an admin's issue by id: token_not_found */
		r = token_load(ctx, req->token_id, now, t);
	else if ((r = token_load_by_hash(ctx, hash, now, t)) == CRT_E_TOKEN_UNKNOWN)
		ctx_fail(ctx, r, "no such token (never issued, or purged)");
	if (r != CRT_OK)
		return r;
	snprintf(object, 80, "%s", t->id);
	if ((r = token_redeem_decide(t, req, now, cn, org, ou, &why)) != CRT_OK)
		return ctx_fail(ctx, r, "%s", why.msg);
	return CRT_OK;
}

/* Token syntax and override fields: the checks that need neither store nor CSR. */
static crt_status check_request(crt_ctx *ctx, const crt_redeem_req *req)
{
	crt_status r;
	if (req->token_id != NULL) {
		if (req->token != NULL || !req->admin)
			return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
			                "a token id is an admin's issue, without a token string");
	} else if ((r = crt_token_check_format(req->token)) != CRT_OK)
		return ctx_fail(ctx, r,
		                r == CRT_E_TOKEN_MALFORMED
		                    ? "a token starts with " CRT_TOKEN_PREFIX
		                    : "check the token for typos (its checksum does not "
		                      "match)");
	const char *names[] = {"commonName", "organization", "organizationalUnit"};
	const char *v[] = {req->cn, req->org, req->ou};
	const char *why;
	if (req->user != NULL && crt_user_name_check(req->user) != CRT_OK)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
		                "the user name must be " CRT_USER_NAME_RULE);
	for (int i = 0; i < 3; i++) /* "" asks to clear the field */
		if (v[i] != NULL && *v[i] != '\0' && subject_field_check(v[i], &why) != CRT_OK)
			return ctx_fail(ctx, CRT_E_FIELD_INVALID, "the %s override %s", names[i],
			                why);
	return CRT_OK;
}

crt_status redeem_precheck(crt_ctx *ctx, const crt_redeem_req *req)
{
	crt_token t = {0};
	char hash[65], object[80] = "token";
	const char *cn, *org, *ou;
	crt_status r;

	ctx_clear_detail(ctx);
	if (req == NULL || (req->token == NULL && req->token_id == NULL))
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token given");
	if ((r = check_request(ctx, req)) == CRT_OK) {
		if (req->token != NULL)
			token_hash(req->token, hash);
		r = check_token(ctx, req, hash, crt_now(), &t, object, &cn, &org, &ou);
	}
	if (r == CRT_OK && t.approval == CRT_APPROVAL_REQUIRED)
		r = ctx_fail(ctx, CRT_E_APPROVAL_REQUIRED,
		             "token %s requires approval: a key made on the server cannot wait for "
		             "it; redeem it with a CSR",
		             t.id);
	if (r != CRT_OK)
		audit_refusal(ctx, req, object, r);
	crt_token_clear(&t);
	return r;
}

crt_status redeem_sign(crt_ctx *ctx, const crt_token *t, crt_csr *csr, const char *cn,
                       const char *org, const char *ou, const char *user, int64_t now,
                       char *facts, X509 **x, char serial[72], crt_cert *c, store_cert_row *row)
{
	crt_status r;

	X509_free(*x);
	*x = NULL;
	crt_cert_clear(c);
	/* The token's CA signs (the caller goes back to the default after). */
	if ((r = ca_select(ctx, t->ca)) != CRT_OK) {
		free(facts);
		return r;
	}
	if (!ca_can_sign(ctx)) {
		free(facts);
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the key of CA %s is not loaded", ctx->ca_name);
	}
	/* What the certificate carries: the token's profile, validity, SANs. */
	cert_shape shape;
	if ((r = cert_shape_of_token(ctx, t, cn, org, ou, &shape)) != CRT_OK) {
		free(facts);
		return r;
	}
	r = cert_issue(ctx, csr, cn, org, ou, &shape, now, x, serial);
	cert_shape_clear(&shape);
	if (r != CRT_OK) {
		free(facts);
		return r;
	}
	/* ctx signed it: the row carries ctx's chain, whichever context's batch
	 * stores it (the leader may hold another CA generation). */
	if ((r = cert_make(*x, csr->pkey, ctx->ca_chain_pem, serial, t->name, t->id, user,
	                   t->reply, now, c)) != CRT_OK) {
		free(facts);
		return ctx_fail(ctx, r, "building the certificate row");
	}
	c->attestation = facts;
	if ((c->profile = dup_str(t->profile ? t->profile : CRT_CERT_PROFILE_DEFAULT)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory"); /* facts: c's now */
	if ((c->ca = dup_str(ctx->ca_name)) == NULL ||
	    (t->pin_mac != NULL && (c->pin_mac = dup_str(t->pin_mac)) == NULL))
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	cert_row_of(c, row);
	return CRT_OK;
}

/* What phase 1 decided beyond the token row: the subject fields (pointing
 * into the token or the request), the attested facts (malloc'd) and
 * whether the token holds the redemption for an approval. */
typedef struct decided {
	const char *cn, *org, *ou;
	char *facts;
	int held;
} decided;

/* Phase 1 for one attempt: read the token, check it, sign, and compute the
 * certificate *c and its row (*row borrows c's strings) — or, for a token
 * that requires approval, stop before signing with d->held set (d->facts
 * the caller's then). On CRT_OK the redemption is ready for the store; x,
 * t and c belong to the caller. pending: the caller can store a request. */
static crt_status prepare(crt_ctx *ctx, const crt_redeem_req *req, const char *hash, crt_csr *csr,
                          int64_t now, int pending, crt_token *t, X509 **x, char serial[72],
                          char object[80], crt_cert *c, store_cert_row *row, decided *d)
{
	crt_status r;

	free(d->facts);
	memset(d, 0, sizeof(*d));
	if ((r = check_token(ctx, req, hash, now, t, object, &d->cn, &d->org, &d->ou)) != CRT_OK)
		return r;
	if (t->approval == CRT_APPROVAL_REQUIRED && !pending)
		return ctx_fail(ctx, CRT_E_APPROVAL_REQUIRED,
		                "token %s requires approval: redeem it with a CSR (crtokend or "
		                "crtoken-enroll), then an administrator approves the request",
		                t->id);
	if ((r = csr_check_key(ctx, csr)) != CRT_OK ||
	    (r = check_attestation(ctx, req, t, csr, now, &d->facts)) != CRT_OK)
		return r;
	if (t->approval == CRT_APPROVAL_REQUIRED) {
		/* What the approval will sign is checked now (profile, validity,
		 * SubjectAltNames, key type): a request that can never be issued
		 * is refused while the token is still unused. */
		cert_shape shape;
		if ((r = cert_shape_of_token(ctx, t, d->cn, d->org, d->ou, &shape)) == CRT_OK)
			r = cert_key_allowed(ctx, &shape, csr);
		cert_shape_clear(&shape);
		if (r != CRT_OK)
			return r;
		d->held = 1;
		return CRT_OK;
	}
	r = redeem_sign(ctx, t, csr, d->cn, d->org, d->ou, redeem_user(req, t), now, d->facts, x,
	                serial, c, row);
	d->facts = NULL; /* c's, or freed */
	return r;
}

/* Phase 1 of an upload (req->cert, parsed and checked into ic): the token
 * read and decided with the certificate's subject as the redeemer's choices
 * (rules/import.h), then the row of the certificate as it is, with the
 * token's name and reply attributes. */
static crt_status prepare_upload(crt_ctx *ctx, const crt_redeem_req *req, const char *hash,
				 const import_cert *ic, int64_t now, crt_token *t, char serial[72],
				 char object[80], crt_cert *c, store_cert_row *row)
{
	import_subject s = {.cn = ic->cn,
			    .org = ic->org,
			    .ou = ic->ou,
			    .ncn = ic->ncn,
			    .norg = ic->norg,
			    .nou = ic->nou};
	const char *cn, *org, *ou;
	char why[300];
	crt_status r;

	crt_cert_clear(c);
	if ((r = check_token(ctx, req, hash, now, t, object, &cn, &org, &ou)) != CRT_OK)
		return r;
	if (t->approval == CRT_APPROVAL_REQUIRED) /* an upload has no request to wait in */
		return ctx_fail(ctx, CRT_E_APPROVAL_REQUIRED,
		                "token %s requires approval: redeem it with a CSR; an uploaded "
		                "certificate cannot wait for an administrator",
		                t->id);
	if ((r = import_subject_decide(t, req, &s, now, why, sizeof(why))) != CRT_OK)
		return ctx_fail(ctx, r, "%s", why);
	if ((r = import_make(ctx, ic, t->name, t->id, redeem_user(req, t), t->reply, now, c)) != CRT_OK ||
	    (r = import_not_stored(ctx, c)) != CRT_OK)
		return r;
	snprintf(serial, 72, "%s", c->serial);
	cert_row_of(c, row);
	return CRT_OK;
}

/* The store could not say whether the commit of the redemption of token id
 * with serial happened (the connection was lost during COMMIT): the token
 * says — used by this serial means it did. */
static crt_status resolve_lost_commit(crt_ctx *ctx, const char *id, const char *serial)
{
	char lost[sizeof(ctx->detail)];
	crt_token t = {0};
	crt_status r;

	snprintf(lost, sizeof(lost), "%s", ctx->detail);
	r = store_token_by_id(ctx, id, &t);
	if (r == CRT_OK && t.used_at != 0 && t.serial != NULL && strcmp(t.serial, serial) == 0) {
		ctx_clear_detail(ctx);
	} else if (r == CRT_OK || r == CRT_E_TOKEN_NOT_FOUND) {
		r = ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
		             "the store was lost while committing the redemption, and token %s "
		             "was not redeemed by it (%s)",
		             id, lost);
	} else {
		r = ctx_fail(ctx, CRT_E_STORE_COMMIT_UNKNOWN,
		             "%s; whether token %s was redeemed is not known (reading it back: %s)",
		             lost, id, crt_status_name(r));
	}
	crt_token_clear(&t);
	return r;
}

/* Phase 2 of one attempt: hand the redemption to the store. *retry: the
 * token changed since phase 1 (do it again). */
static crt_status commit(crt_ctx *ctx, const crt_redeem_req *req, const crt_token *t,
                         const char *serial, int64_t now, const store_cert_row *row,
                         const store_p12_row *kept, int *retry)
{
	token_refusal why;
	char *detail, *body = NULL, eid[CRT_ID_LEN];
	crt_status r;
	int64_t at = crt_now();

	*retry = 0;
	if ((detail = success_detail(req, redeem_user(req, t), serial, row->subject,
	                             row->attestation, kept != NULL)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	event_subject es = {.token_id = t->id,
	                    .token_name = t->name,
	                    .owner = t->owner,
	                    .owner_email = t->owner_email,
	                    .serial = serial,
	                    .common_name = row->cn,
	                    .subject = row->subject,
	                    .user = redeem_user(req, t),
	                    .not_after = row->not_after};
	if ((r = event_make("certificate.issued", req->actor, at, &es, eid, &body)) != CRT_OK) {
		free(detail);
		return ctx_fail(ctx, r, "building the certificate.issued event");
	}
	store_event_row ev = {
	    .id = eid, .type = "certificate.issued", .at = at, .dedup = NULL, .body = body};
	store_redemption job = {
	    .claim = {.token_id = t->id, .version = t->version, .serial = serial, .now = now},
	    .cert = row,
	    .audit = {.at = crt_now(),
	              .actor = req->actor,
	              .action = req->token_id != NULL ? "token.issue" : "token.redeem",
	              .object = t->id,
	              .detail = detail},
	    .event = &ev,
	    .kept = kept};
	r = store_token_redeem(ctx, &job);
	free(detail);
	free(body);
	if (r == CRT_E_STORE_COMMIT_UNKNOWN)
		return resolve_lost_commit(ctx, t->id, serial);
	if (r != CRT_OK || job.claimed)
		return r;
	r = token_claim_lost(&job.seen, t->id, t->version, now, retry, &why);
	return ctx_fail(ctx, r, "%s", why.msg);
}

void p12_seal_bind(const char *serial, const char *owner, char *out, size_t len)
{
	snprintf(out, len, "%s:%s", serial, owner);
}

/* For a GENERATE redemption (g): the PKCS#12 of the certificate c signed
 * in phase 1 into g, and with [generate] keep_pkcs12 its sealed copy into
 * *kept for the certificate's user (none when it has no user: nobody could
 * download it). */
static crt_status make_p12(crt_ctx *ctx, const crt_cert *c, redeem_p12 *g, store_p12_row *kept,
                           int *keep)
{
	char bind[300];
	crt_status r;

	*keep = 0;
	crt_freezero(g->p12, g->p12_len);
	g->p12 = NULL;
	g->p12_len = 0;
	store_p12_clear(kept);
	if ((r = crt_pkcs12_make_form(g->key, c->pem, c->chain_pem, c->name, g->passphrase, g->form,
	                              &g->p12, &g->p12_len)) != CRT_OK)
		return ctx_fail(ctx, r, "the PKCS#12 could not be built");
	if (!ctx->cfg.keep_pkcs12 || c->user == NULL)
		return CRT_OK;
	snprintf(kept->serial, sizeof(kept->serial), "%s", c->serial);
	snprintf(kept->owner, sizeof(kept->owner), "%s", c->user);
	kept->created_at = crt_now();
	p12_seal_bind(c->serial, c->user, bind, sizeof(bind));
	if ((r = seal_blob(ctx, P12_SEAL_LABEL, bind, g->p12, g->p12_len, &kept->sealed,
	                   &kept->sealed_len)) != CRT_OK)
		return r;
	*keep = 1;
	return CRT_OK;
}

static crt_status redeem_core(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out,
                              crt_request *pending, char poll_secret[CRT_TOKEN_STRLEN + 1],
                              redeem_p12 *g);

crt_status crt_redeem_submit(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out,
                             crt_request *pending, char poll_secret[CRT_TOKEN_STRLEN + 1])
{
	return redeem_core(ctx, req, out, pending, poll_secret, NULL);
}

crt_status redeem_run(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out, redeem_p12 *g)
{
	return redeem_core(ctx, req, out, NULL, NULL, g);
}

static crt_status redeem_core(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out,
                              crt_request *pending, char poll_secret[CRT_TOKEN_STRLEN + 1],
                              redeem_p12 *g)
{
	store_p12_row kept = {.sealed = NULL};
	int keep = 0;
	crt_csr *csr = NULL;
	import_cert ic = {0};
	X509 *x = NULL;
	crt_token t = {0};
	crt_cert c = {0};
	store_cert_row row;
	decided d = {0};
	char hash[65], serial[72], object[80];
	crt_status r;
	int retry = 0;
	int64_t now = crt_now();

	ctx_clear_detail(ctx);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (pending != NULL)
		memset(pending, 0, sizeof(*pending));
	if (poll_secret != NULL)
		memset(poll_secret, 0, CRT_TOKEN_STRLEN + 1);
	if (req == NULL || (req->token == NULL && req->token_id == NULL))
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token given");
	if (pending != NULL && poll_secret == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no room for the poll secret");
	if (req->cert == NULL && !ca_can_sign(ctx))
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
	snprintf(object, sizeof(object), "token");

	/* Phase 1: everything that needs no lock. */
	if ((r = check_request(ctx, req)) != CRT_OK)
		goto refused;
	if (req->cert != NULL) { /* an upload instead of a CSR (import.c) */
		if (req->csr != NULL || req->attestation != NULL) {
			r = ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
				     "an uploaded certificate comes without a CSR or an attestation");
			goto refused;
		}
		if ((r = import_parse(ctx, req->cert, req->cert_len, now, &ic)) != CRT_OK)
			goto refused;
	} else if ((r = csr_load(ctx, req->csr, req->csr_len, &csr)) != CRT_OK) {
		goto refused;
	}
	if (req->token != NULL)
		token_hash(req->token, hash);

	for (int attempt = 0;; attempt++) {
		if ((r = req->cert != NULL ? prepare_upload(ctx, req, hash, &ic, now, &t, serial,
							    object, &c, &row)
					   : prepare(ctx, req, hash, csr, now, pending != NULL, &t, &x,
						     serial, object, &c, &row, &d)) != CRT_OK)
			goto refused;
		if (g != NULL && !d.held && (r = make_p12(ctx, &c, g, &kept, &keep)) != CRT_OK)
			goto out; /* nothing written: the token stays unused */
		/* Phase 2: the claim and its writes (or the request's). */
		if (d.held)
			r = request_submit(ctx, req, &t, csr, d.cn, d.org, d.ou, d.facts, now,
			                   pending, poll_secret, &retry);
		else
			r = commit(ctx, req, &t, serial, now, &row, keep ? &kept : NULL, &retry);
		if (req->cert != NULL && r == CRT_E_EXISTS) {
			/* an upload whose serial another writer stored since phase 1 */
			crt_status why = import_not_stored(ctx, &c);
			r = why != CRT_OK ? why
					  : ctx_fail(ctx, CRT_E_SERIAL_CONFLICT,
						     "serial %s was just stored", c.serial);
		}
		if (!retry || attempt == 3)
			break;
	}
	if (r == CRT_OK) {
		if (g != NULL)
			g->kept = keep;
		if (out != NULL && !d.held) {
			*out = c;
			memset(&c, 0, sizeof(c));
		}
		goto out;
	}
	if (retry) /* still changing after the last attempt: no refusal row */
		goto out;
refused:
	audit_refusal(ctx, req, object, r);
out:
	if (g != NULL && r != CRT_OK) {
		crt_freezero(g->p12, g->p12_len);
		g->p12 = NULL;
		g->p12_len = 0;
	}
	store_p12_clear(&kept);
	ca_select_default(ctx);
	free(d.facts);
	X509_free(x);
	csr_free(csr);
	import_cert_clear(&ic);
	crt_token_clear(&t);
	crt_cert_clear(&c);
	return r;
}

crt_status crt_redeem(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out)
{
	return crt_redeem_submit(ctx, req, out, NULL, NULL);
}

/* ------------------------------------------------------------------ preview */

void crt_preview_clear(crt_preview *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->cn);
	free(p->org);
	free(p->ou);
	free(p->subject);
	free(p->owner);
	memset(p, 0, sizeof(*p));
}

/* out from the token t and the subject fields the decision picked. */
static crt_status preview_fill(crt_ctx *ctx, const crt_token *t, const char *cn, const char *org,
                               const char *ou, int64_t now, crt_preview *out)
{
	crt_status r;

	snprintf(out->token_id, sizeof(out->token_id), "%s", t->id);
	out->may_change = crt_token_overridable(t);
	out->token_expires_at = t->expires_at;
	/* A remote CA ([ca] type = cfssl) sets the validity by its own profile:
	 * the preview leaves it unknown (0) rather than guess. */
	if (ctx->ca == NULL || ctx->ca->cfssl == NULL) {
		cert_shape shape;
		if ((r = cert_shape_for(ctx, t->profile, t->valid_days, &shape)) != CRT_OK)
			return r;
		out->cert_days = shape.days;
		cert_shape_clear(&shape);
		if ((r = cert_validity(ctx, out->cert_days, now, &out->not_before,
		                       &out->not_after)) != CRT_OK)
			return r;
	}
	if ((r = cert_subject_text(ctx, cn, org, ou, &out->subject)) != CRT_OK)
		return r;
	if ((out->name = dup_str(t->name)) == NULL || (out->cn = dup_str(cn)) == NULL ||
	    (org != NULL && *org != '\0' && (out->org = dup_str(org)) == NULL) ||
	    (ou != NULL && *ou != '\0' && (out->ou = dup_str(ou)) == NULL) ||
	    (t->owner != NULL && (out->owner = dup_str(t->owner)) == NULL))
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	return CRT_OK;
}

crt_status crt_redeem_preview(crt_ctx *ctx, const crt_redeem_req *req, crt_preview *out)
{
	crt_token t = {0};
	char hash[65], object[80] = "token", *detail = NULL;
	const char *cn = NULL, *org = NULL, *ou = NULL;
	int64_t now = crt_now();
	crt_status r;
	jbuf j;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (req == NULL || req->token == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token given");
	if ((r = check_request(ctx, req)) != CRT_OK)
		goto refused;
	token_hash(req->token, hash);
	if ((r = check_token(ctx, req, hash, now, &t, object, &cn, &org, &ou)) != CRT_OK ||
	    (r = preview_fill(ctx, &t, cn, org, ou, now, out)) != CRT_OK)
		goto refused;
	jb_begin(&j);
	jb_str(&j, "subject", out->subject);
	jb_str(&j, "user", req->user);
	jb_str(&j, "remote", req->remote);
	if ((detail = jb_end(&j)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	r = audit_only(ctx, req, "token.preview", t.id, detail);
	goto out;
refused:
	audit_refusal_as(ctx, req, "token.preview_refused", object, r);
out:
	if (r != CRT_OK)
		crt_preview_clear(out);
	free(detail);
	crt_token_clear(&t);
	return r;
}
