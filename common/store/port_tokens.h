/*
 * port_tokens.h — the storage port's token verbs: the tokens table and the
 * redemption commit. No SQL and no backend type here; the SQLite
 * implementation is store/sqlite_tokens.c (+ its group commit,
 * store/sqlite_commit.c). Included at the end of store/port.h.
 *
 * A token row travels as a crt_token (its columns; 0 / NULL = not set).
 * Its state is not a column: the domain computes it with the rule
 * (rules/token.h, token_state_at). Rows that another writer may change
 * between a read and a write are written by guarded verbs whose row count
 * is the answer (0: someone else changed it — read again).
 */
#ifndef CRTOKEN_STORE_PORT_TOKENS_H
#define CRTOKEN_STORE_PORT_TOKENS_H

#include <stdio.h>

#include "rules/token.h"
#include "store/port_certs.h" /* store_cert_row: computed by the domain (cert_make) */

/* The claim of a redemption: token id, still at version (the row phase 1
 * read), unused, undeleted and active at now (token_state_bounds) becomes
 * used at now by the certificate serial; its version is bumped. */
typedef struct store_claim {
	const char *token_id;
	int64_t version;
	const char *serial;
	int64_t now;
} store_claim;

/*
 * One redemption handed to the store as values: the claim, the certificate
 * row stored with it and the audit row of the success, all in one
 * transaction — or, with audit_only, just an audit row (a refusal).
 * The backend may commit many of them together (SQLite: group commit, one
 * SAVEPOINT each); each one is all or nothing.
 */
typedef struct store_redemption {
	int audit_only;
	store_claim claim;          /* unless audit_only */
	const store_cert_row *cert; /* unless audit_only */
	struct {                    /* the audit row: at, actor, action, object, detail */
		int64_t at;
		const char *actor, *action, *object, *detail;
	} audit;
	/* The event of the success (certificate.issued), stored with it; NULL
	 * for none (port_events.h). Unless audit_only. */
	const struct store_event_row *event;
	/* A kept PKCS#12 of the certificate ([generate] keep_pkcs12), stored
	 * with it; NULL for none (port_pkcs12.h). Unless audit_only. */
	const struct store_p12_row *kept;
	/* Answers. status: the store's (CRT_OK when the transaction committed;
	 * store_commit_unknown: the outcome is not known — read the token
	 * again). claimed: the claim won a row (then the certificate and the
	 * audit row are stored with it); 0 with CRT_OK: nothing was written and
	 * seen holds the token's columns as the same transaction read them. */
	crt_status status;
	int claimed;
	token_seen seen;
	char detail[512]; /* crt_errdetail of a failed status */
	/* the backend's queue links (SQLite group commit) */
	struct store_redemption *next;
	int done, lead;
} store_redemption;

/* One new token of a bulk, handed down as values: the row (as insert
 * stores it) under hash, its audit row and its event (NULL for none;
 * port_events.h). */
typedef struct store_token_new {
	const crt_token *token;
	const char *hash;
	struct { /* the audit row: at, actor, action, object, detail */
		int64_t at;
		const char *actor, *action, *object, *detail;
	} audit;
	const struct store_event_row *event;
} store_token_new;

struct store_token_ops {
	/* Store the new row t (id, fields, policy, reply, created_at,
	 * expires_at, created_by; updated_at = now, version 0) under hash. */
	crt_status (*insert)(crt_ctx *ctx, const crt_token *t, const char *hash, int64_t now);
	/* Store the n rows of a bulk (each as insert does, with its audit row
	 * and its event) inside the caller's write transaction: all, or a
	 * failure (the caller rolls back). *failed = the index of the row the
	 * store refused when it can tell (a row already stored with its id or
	 * hash: already_exists; another constraint: store_error), else n (a
	 * busy or lost store is no row's failure). The backend's steps for each row
	 * (token insert, audit insert, event insert) pass the fault seam, as a
	 * redemption's do, however few statements it sends (PostgreSQL: one
	 * statement for the whole bulk; SQLite: the prepared inserts). */
	crt_status (*insert_many)(crt_ctx *ctx, const store_token_new *rows, size_t n, int64_t now,
				  size_t *failed);
	/* The row with id / with token hash into *out (crt_token_clear it;
	 * out->state is left ACTIVE: the caller applies the rule).
	 * CRT_E_TOKEN_NOT_FOUND, without detail, when there is none. */
	crt_status (*by_id)(crt_ctx *ctx, const char *id, crt_token *out);
	crt_status (*by_hash)(crt_ctx *ctx, const char *hash, crt_token *out);
	/* The rows within b (rules/token.h), newest first (created_at
	 * descending, then id); *out is the caller's (crt_token_list_free). */
	crt_status (*list)(crt_ctx *ctx, const token_bounds *b, crt_token **out, size_t *n);
	/* One page of the rows within b in page p's order (crt_token_sort_fields,
	 * the id breaking ties), cut by the store (LIMIT/OFFSET, store/list_sql.h);
	 * *total = how many rows are within b. *out NULL when the page is empty. */
	crt_status (*page)(crt_ctx *ctx, const token_bounds *b, const crt_page *p, crt_token **out,
			   size_t *n, int64_t *total);
	/* Guarded writes of row t->id, only if it is still at version and
	 * neither used nor deleted; *changed = the row count (0 or 1).
	 * update writes t's fields, policy, reply and expires_at; remove sets
	 * deleted_at; both set updated_at = now and bump the version. */
	crt_status (*update)(crt_ctx *ctx, const crt_token *t, int64_t version, int64_t now,
	                     int *changed);
	crt_status (*remove)(crt_ctx *ctx, const char *id, int64_t version, int64_t now,
	                     int *changed);
	/* Delete the rows token_purgeable at cutoff — but a token whose
	 * certificate request is still pending (its approval needs the
	 * token's CA and profile); *n = how many. */
	crt_status (*purge)(crt_ctx *ctx, int64_t cutoff, int64_t *n);
	/* The claim alone (inside the caller's write transaction); *won = the
	 * row count (0 or 1). */
	crt_status (*claim)(crt_ctx *ctx, const store_claim *c, int *won);
	/* The columns the claim rule looks at, for one token id. */
	crt_status (*seen)(crt_ctx *ctx, const char *id, token_seen *out);
	/* Commit one redemption (its own transaction; returns when it is
	 * committed or refused; answers in *r, the return value is r->status). */
	crt_status (*redeem)(crt_ctx *ctx, store_redemption *r);
};

static inline crt_status __attribute__((warn_unused_result))
store_token_insert(crt_ctx *ctx, const crt_token *t, const char *hash, int64_t now)
{
	return STORE_CALL(ctx, tokens, insert, t, hash, now);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_insert_many(crt_ctx *ctx, const store_token_new *rows, size_t n, int64_t now,
			size_t *failed)
{
	*failed = n;
	return STORE_CALL(ctx, tokens, insert_many, rows, n, now, failed);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_by_id(crt_ctx *ctx, const char *id, crt_token *out)
{
	return STORE_CALL(ctx, tokens, by_id, id, out);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_by_hash(crt_ctx *ctx, const char *hash, crt_token *out)
{
	return STORE_CALL(ctx, tokens, by_hash, hash, out);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_list(crt_ctx *ctx, const token_bounds *b, crt_token **out, size_t *n)
{
	return STORE_CALL(ctx, tokens, list, b, out, n);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_page(crt_ctx *ctx, const token_bounds *b, const crt_page *p, crt_token **out,
		 size_t *n, int64_t *total)
{
	return STORE_CALL(ctx, tokens, page, b, p, out, n, total);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_update(crt_ctx *ctx, const crt_token *t, int64_t version, int64_t now, int *changed)
{
	return STORE_CALL(ctx, tokens, update, t, version, now, changed);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_remove(crt_ctx *ctx, const char *id, int64_t version, int64_t now, int *changed)
{
	return STORE_CALL(ctx, tokens, remove, id, version, now, changed);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_purge(crt_ctx *ctx, int64_t cutoff, int64_t *n)
{
	return STORE_CALL(ctx, tokens, purge, cutoff, n);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_claim(crt_ctx *ctx, const store_claim *c, int *won)
{
	return STORE_CALL(ctx, tokens, claim, c, won);
}
static inline crt_status __attribute__((warn_unused_result))
store_token_seen(crt_ctx *ctx, const char *id, token_seen *out)
{
	return STORE_CALL(ctx, tokens, seen, id, out);
}
/* The backend's own steps inside it (its transaction, each statement) pass
 * the fault seam too, so a test can fail each of them in turn. */
static inline crt_status __attribute__((warn_unused_result))
store_token_redeem(crt_ctx *ctx, store_redemption *r)
{
	if (store_fault_hit(ctx, 0)) { /* failed before the backend saw it */
		r->status = store_fault_fail(ctx, "redeem");
		r->claimed = 0;
		snprintf(r->detail, sizeof(r->detail), "%s", ctx->detail);
		return r->status;
	}
	return ctx->ops->tokens->redeem(ctx, r);
}

#endif /* CRTOKEN_STORE_PORT_TOKENS_H */
