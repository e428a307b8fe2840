/*
 * sqlite_tokens.c — the token verbs of the storage port (port_tokens.h) on
 * SQLite, and the statements of one redemption inside a group-commit batch
 * (sqlite_commit.c runs the batch).
 *
 * An unset time is stored as NULL (never 0), so "set" in the rules
 * (rules/token.h) is IS NOT NULL here. Predicates on token state come from
 * the rule as bounds (token_state_bounds), not restated: the list, the
 * claim; the purge uses the rule's end time, COALESCE(deleted_at, used_at,
 * expires_at) (token_ended_at).
 */
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/sqlite.h"

#define TOKEN_COLUMNS                                                                              \
	"id, name, cn, org, ou, owner, locked, reply, created_at, expires_at, used_at, "           \
	"deleted_at, serial, created_by, updated_at, version, attestation, owner_email, "         \
	"profile, san, valid_days, ca, approval, pin_mac, description"

/* The tokens.locked column holds the whole per-field override policy: the
 * locked fields in bits 0-2, the opened ones in bits 3-5. */
#define POLICY_OPENED_SHIFT 3
static int policy_column(const crt_token *t)
{
	return (int)((t->locked & CRT_FIELD_ALL) | (t->opened & CRT_FIELD_ALL)
	                                               << POLICY_OPENED_SHIFT);
}

static void row_to_token(sqlite3_stmt *st, crt_token *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", (const char *)sqlite3_column_text(st, 0));
	t->name = store_col_strdup(st, 1);
	t->cn = store_col_strdup(st, 2);
	t->org = store_col_strdup(st, 3);
	t->ou = store_col_strdup(st, 4);
	t->owner = store_col_strdup(st, 5);
	t->locked = (unsigned)sqlite3_column_int(st, 6) & CRT_FIELD_ALL;
	t->opened = ((unsigned)sqlite3_column_int(st, 6) >> POLICY_OPENED_SHIFT) & CRT_FIELD_ALL;
	t->reply = store_col_strdup(st, 7);
	t->created_at = sqlite3_column_int64(st, 8);
	t->expires_at = sqlite3_column_int64(st, 9);
	t->used_at = sqlite3_column_int64(st, 10);
	t->deleted_at = sqlite3_column_int64(st, 11);
	t->serial = store_col_strdup(st, 12);
	t->created_by = store_col_strdup(st, 13);
	t->updated_at = sqlite3_column_int64(st, 14);
	t->version = sqlite3_column_int64(st, 15);
	t->attestation = store_col_strdup(st, 16);
	t->owner_email = store_col_strdup(st, 17);
	t->profile = store_col_strdup(st, 18);
	t->san = store_col_strdup(st, 19);
	t->valid_days = sqlite3_column_int(st, 20);
	t->ca = store_col_strdup(st, 21);
	t->approval = sqlite3_column_int(st, 22);
	t->pin_mac = store_col_strdup(st, 23);
	t->description = store_col_strdup(st, 24);
}

/* Whether every text column a row had came out (strdup may fail). */
static int row_complete(sqlite3_stmt *st, const crt_token *t)
{
	char *const got[] = {t->name,   t->cn,     t->org,        t->ou,
	                     t->owner,  t->reply,  t->serial,     t->created_by,
	                     t->attestation, t->owner_email, t->profile, t->san, t->ca,
	                     t->pin_mac, t->description};
	const int col[] = {1, 2, 3, 4, 5, 7, 12, 13, 16, 17, 18, 19, 21, 23, 24};
	for (size_t i = 0; i < sizeof(col) / sizeof(col[0]); i++)
		if (got[i] == NULL && sqlite3_column_type(st, col[i]) != SQLITE_NULL)
			return 0;
	return 1;
}

static crt_status load_one(crt_ctx *ctx, const char *sql, const char *key, crt_token *out)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx, sql, &st);
	int rc;
	if (r != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_token(st, out);
		if (!row_complete(st, out)) {
			crt_token_clear(out);
			r = CRT_E_NOMEM;
		}
	} else if (rc == SQLITE_DONE) {
		r = CRT_E_TOKEN_NOT_FOUND;
	} else {
		r = store_error(ctx, rc, "reading the token");
	}
	store_done(st);
	return r;
}

static crt_status sq_by_id(crt_ctx *ctx, const char *id, crt_token *out)
{
	return load_one(ctx, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?", id, out);
}

static crt_status sq_by_hash(crt_ctx *ctx, const char *hash, crt_token *out)
{
	return load_one(ctx, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?", hash, out);
}

static crt_status sq_insert(crt_ctx *ctx, const crt_token *t, const char *hash, int64_t now)
{
	sqlite3_stmt *st;
	crt_status r =
	    store_prepare(ctx,
	                  "INSERT INTO tokens(id, hash, name, cn, org, ou, owner, locked, "
	                  "reply, created_at, expires_at, updated_at, created_by, attestation, "
	                  "owner_email, profile, san, valid_days, ca, approval, pin_mac, "
	                  "description) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                  &st);
	if (r != CRT_OK)
		return r;
	store_bind_text(st, 1, t->id);
	store_bind_text(st, 2, hash);
	store_bind_text(st, 3, t->name);
	store_bind_text(st, 4, t->cn);
	store_bind_text(st, 5, t->org);
	store_bind_text(st, 6, t->ou);
	store_bind_text(st, 7, t->owner);
	sqlite3_bind_int(st, 8, policy_column(t));
	store_bind_text(st, 9, t->reply);
	sqlite3_bind_int64(st, 10, t->created_at);
	sqlite3_bind_int64(st, 11, t->expires_at);
	sqlite3_bind_int64(st, 12, now);
	store_bind_text(st, 13, t->created_by);
	store_bind_text(st, 14, t->attestation);
	store_bind_text(st, 15, t->owner_email);
	store_bind_text(st, 16, t->profile);
	store_bind_text(st, 17, t->san);
	if (t->valid_days > 0)
		sqlite3_bind_int(st, 18, t->valid_days);
	store_bind_text(st, 19, t->ca != NULL ? t->ca : CRT_CA_DEFAULT);
	sqlite3_bind_int(st, 20, t->approval);
	store_bind_text(st, 21, t->pin_mac);
	store_bind_text(st, 22, t->description);
	int rc = sqlite3_step(st);
	store_done(st);
	return rc == SQLITE_DONE ? CRT_OK : store_error(ctx, rc, "storing the token");
}

static crt_status sq_list(crt_ctx *ctx, const token_bounds *b, crt_token **out, size_t *n)
{
	sqlite3_stmt *st;
	crt_token *list = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	r = store_prepare(ctx,
	                  "SELECT " TOKEN_COLUMNS " FROM tokens WHERE"
	                  " (?1 < 0 OR (deleted_at IS NOT NULL) = ?1)"
	                  " AND (?2 < 0 OR (used_at IS NOT NULL) = ?2)"
	                  " AND expires_at BETWEEN ?3 AND ?4"
	                  " ORDER BY created_at DESC, id",
	                  &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int(st, 1, b->deleted);
	sqlite3_bind_int(st, 2, b->used);
	sqlite3_bind_int64(st, 3, b->expires_min);
	sqlite3_bind_int64(st, 4, b->expires_max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		row_to_token(st, &list[cnt++]);
		if (!row_complete(st, &list[cnt - 1])) {
			r = CRT_E_NOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing tokens");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
	cnt = 0;
out:
	store_done(st);
	crt_token_list_free(list, cnt);
	return r;
}

static crt_status token_row(sqlite3_stmt *st, void *elem)
{
	row_to_token(st, elem);
	return row_complete(st, elem) ? CRT_OK : CRT_E_NOMEM;
}

static void token_free(void *list, size_t n)
{
	crt_token_list_free(list, n);
}

static crt_status sq_page(crt_ctx *ctx, const token_bounds *b, const crt_page *p,
			  crt_token **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_tokens(&q, 0, TOKEN_COLUMNS, b, p, 0) != 0 ||
	    list_sql_tokens(&qc, 0, TOKEN_COLUMNS, b, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the token list query did not fit");
	return sq_list_page(ctx, &q, &qc, sizeof(**out), p->size, token_row, token_free, out, n,
			    total, "listing tokens");
}

/* Step a guarded write; *changed = its row count. */
static crt_status step_changes(crt_ctx *ctx, sqlite3_stmt *st, const char *what, int *changed)
{
	int rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, what);
	*changed = sqlite3_changes(sq_db(ctx));
	return CRT_OK;
}

static crt_status sq_update(crt_ctx *ctx, const crt_token *t, int64_t version, int64_t now,
                            int *changed)
{
	sqlite3_stmt *st;
	crt_status r =
	    store_prepare(ctx,
	                  "UPDATE tokens SET name = ?, cn = ?, org = ?, ou = ?, owner = ?, "
	                  "locked = ?, reply = ?, expires_at = ?, updated_at = ?, attestation = ?, "
	                  "owner_email = ?, san = ?, valid_days = ?, description = ?, "
	                  "version = version + 1 WHERE id = ? AND version = ? "
	                  "AND used_at IS NULL AND deleted_at IS NULL",
	                  &st);
	*changed = 0;
	if (r != CRT_OK)
		return r;
	store_bind_text(st, 1, t->name);
	store_bind_text(st, 2, t->cn);
	store_bind_text(st, 3, t->org);
	store_bind_text(st, 4, t->ou);
	store_bind_text(st, 5, t->owner);
	sqlite3_bind_int(st, 6, policy_column(t));
	store_bind_text(st, 7, t->reply);
	sqlite3_bind_int64(st, 8, t->expires_at);
	sqlite3_bind_int64(st, 9, now);
	store_bind_text(st, 10, t->attestation);
	store_bind_text(st, 11, t->owner_email);
	store_bind_text(st, 12, t->san);
	if (t->valid_days > 0)
		sqlite3_bind_int(st, 13, t->valid_days);
	store_bind_text(st, 14, t->description);
	store_bind_text(st, 15, t->id);
	sqlite3_bind_int64(st, 16, version);
	return step_changes(ctx, st, "updating the token", changed);
}

static crt_status sq_remove(crt_ctx *ctx, const char *id, int64_t version, int64_t now,
                            int *changed)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx,
	                             "UPDATE tokens SET deleted_at = ?1, updated_at = ?1, "
	                             "version = version + 1 WHERE id = ?2 AND version = ?3 "
	                             "AND used_at IS NULL AND deleted_at IS NULL",
	                             &st);
	*changed = 0;
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	sqlite3_bind_int64(st, 3, version);
	return step_changes(ctx, st, "deleting the token", changed);
}

static crt_status sq_purge(crt_ctx *ctx, int64_t cutoff, int64_t *n)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(
	    ctx,
	    "DELETE FROM tokens WHERE COALESCE(deleted_at, used_at, expires_at) < ?1 "
	    "AND id NOT IN (SELECT token_id FROM certificate_requests WHERE state = 0)",
	    &st);
	*n = 0;
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, cutoff);
	int rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "purging tokens");
	*n = sqlite3_changes64(sq_db(ctx));
	return CRT_OK;
}

static crt_status sq_claim(crt_ctx *ctx, const store_claim *c, int *won)
{
	sqlite3_stmt *st;
	token_bounds active;
	crt_status r =
	    store_prepare(ctx,
	                  "UPDATE tokens SET used_at = ?1, updated_at = ?1, serial = ?2, "
	                  "version = version + 1 "
	                  "WHERE id = ?3 AND version = ?4 AND used_at IS NULL "
	                  "AND deleted_at IS NULL AND expires_at BETWEEN ?5 AND ?6",
	                  &st);
	*won = 0;
	if (r != CRT_OK)
		return r;
	token_state_bounds(CRT_TOKEN_ACTIVE, c->now, &active);
	sqlite3_bind_int64(st, 1, c->now);
	sqlite3_bind_text(st, 2, c->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->token_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->version);
	sqlite3_bind_int64(st, 5, active.expires_min);
	sqlite3_bind_int64(st, 6, active.expires_max);
	return step_changes(ctx, st, "claiming the token", won);
}

static crt_status sq_seen(crt_ctx *ctx, const char *id, token_seen *out)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx,
	                             "SELECT used_at, deleted_at, version, expires_at FROM tokens "
	                             "WHERE id = ?",
	                             &st);
	memset(out, 0, sizeof(*out));
	if (r != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->present = 1;
		out->used_at = sqlite3_column_int64(st, 0);
		out->deleted_at = sqlite3_column_int64(st, 1);
		out->version = sqlite3_column_int64(st, 2);
		out->expires_at = sqlite3_column_int64(st, 3);
	}
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(ctx, rc, "reading the token");
	return CRT_OK;
}

/* The audit row of a redemption (sqlite_audit.c writes it). */
static crt_status audit_row(crt_ctx *ctx, const store_redemption *j)
{
	return sq_audit_append(ctx, j->audit.at, j->audit.actor ? j->audit.actor : "unknown",
	                       j->audit.action, j->audit.object, j->audit.detail);
}

/* A step of the batch passes the fault seam like a dispatcher call. */
static crt_status seam(crt_ctx *ctx, const char *what)
{
	return store_fault_hit(ctx, 0) ? store_fault_fail(ctx, what) : CRT_OK;
}

static crt_status __attribute__((warn_unused_result)) savepoint(crt_ctx *ctx, const char *sql)
{
	crt_status r = seam(ctx, sql);
	if (r != CRT_OK)
		return r;
	int rc = sqlite3_exec(sq_db(ctx), sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CRT_OK : store_error(ctx, rc, sql);
}

crt_status sq_redeem_in_txn(crt_ctx *ctx, store_redemption *j)
{
	crt_status r, b;
	int won = 0;

	j->claimed = 0;
	if (j->audit_only) { /* one statement: all or nothing by itself */
		if ((r = seam(ctx, "audit insert")) == CRT_OK)
			r = audit_row(ctx, j);
		j->status = r;
		return CRT_OK;
	}
	if ((j->status = savepoint(ctx, "SAVEPOINT job")) != CRT_OK)
		return CRT_OK; /* nothing written */
	/* Claim first: the row count says whether this redemption won. */
	if ((r = seam(ctx, "claim")) == CRT_OK)
		r = sq_claim(ctx, &j->claim, &won);
	if (r == CRT_OK && !won && (r = seam(ctx, "seen")) == CRT_OK)
		r = sq_seen(ctx, j->claim.token_id, &j->seen);
	if (r == CRT_OK && won && (r = seam(ctx, "certificate insert")) == CRT_OK)
		r = sqlite_cert_ops.insert(ctx, j->cert);
	if (r == CRT_OK && won && (r = seam(ctx, "audit insert")) == CRT_OK)
		r = audit_row(ctx, j);
	if (r == CRT_OK && won && j->event != NULL && (r = seam(ctx, "event insert")) == CRT_OK) {
		int added;
		r = sqlite_event_ops.append(ctx, j->event, &added);
	}
	if (r == CRT_OK && won && j->kept != NULL && (r = seam(ctx, "pkcs12 insert")) == CRT_OK)
		r = sqlite_pkcs12_ops.put(ctx, j->kept);
	if (r != CRT_OK && (b = savepoint(ctx, "ROLLBACK TO job")) != CRT_OK)
		return b; /* the transaction is in no known state: the batch fails */
	j->status = r;
	j->claimed = r == CRT_OK && won;
	/* Release folds the job into the batch; if that fails, so does the batch. */
	return savepoint(ctx, "RELEASE job");
}

/* A bulk inside the caller's transaction: the prepared inserts of each row
 * in turn (SQLite answers in-process: no round trips to save). */
static crt_status sq_insert_many(crt_ctx *ctx, const store_token_new *rows, size_t n,
                                 int64_t now, size_t *failed)
{
	crt_status r = CRT_OK;
	size_t i;
	int added;

	for (i = 0; i < n && r == CRT_OK; i++) {
		const store_token_new *t = &rows[i];
		if ((r = seam(ctx, "token insert")) != CRT_OK ||
		    (r = sq_insert(ctx, t->token, t->hash, now)) != CRT_OK ||
		    (r = seam(ctx, "audit insert")) != CRT_OK ||
		    (r = sq_audit_append(ctx, t->audit.at, t->audit.actor ? t->audit.actor : "unknown",
		                         t->audit.action, t->audit.object, t->audit.detail)) !=
		        CRT_OK)
			break;
		if (t->event != NULL && ((r = seam(ctx, "event insert")) != CRT_OK ||
		                         (r = sqlite_event_ops.append(ctx, t->event, &added)) != CRT_OK))
			break;
	}
	if (r == CRT_E_STORE && (sqlite3_extended_errcode(sq_db(ctx)) == SQLITE_CONSTRAINT_UNIQUE ||
	                         sqlite3_extended_errcode(sq_db(ctx)) == SQLITE_CONSTRAINT_PRIMARYKEY)) {
		/* a unique key already stored: already_exists, as on PostgreSQL */
		char why[sizeof(ctx->detail)];
		snprintf(why, sizeof(why), "%s", ctx->detail);
		r = ctx_fail(ctx, CRT_E_EXISTS, "%s", why);
	}
	/* a row the store refused (a constraint) is named; a busy or lost store is not the row's */
	*failed = r == CRT_E_EXISTS || r == CRT_E_STORE ? i : n;
	return r;
}

const struct store_token_ops sqlite_token_ops = {
    .insert = sq_insert,
    .insert_many = sq_insert_many,
    .by_id = sq_by_id,
    .by_hash = sq_by_hash,
    .list = sq_list,
    .page = sq_page,
    .update = sq_update,
    .remove = sq_remove,
    .purge = sq_purge,
    .claim = sq_claim,
    .seen = sq_seen,
    .redeem = sq_group_commit,
};
