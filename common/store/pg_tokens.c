/*
 * pg_tokens.c — the token verbs of the storage port (port_tokens.h) on
 * PostgreSQL, and the redemption commit.
 *
 * Single use across nodes is the claim: one conditional UPDATE (id,
 * version, unused, undeleted, active) at READ COMMITTED whose row count is
 * the answer. A second claimer blocks on the row lock, re-evaluates the
 * WHERE on the committed row and gets 0 rows (MULTINODE.md §3.3). Each
 * redemption is its own transaction: PostgreSQL already batches WAL
 * flushes across backends, and SAVEPOINT batching would pile up
 * subtransactions (MULTINODE.md §1.2).
 *
 * An unset time is stored as NULL (never 0), as on SQLite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/pg.h"

#define TOKEN_COLUMNS                                                                        \
	"id, name, cn, org, ou, owner, locked, reply, created_at, expires_at, used_at, "     \
	"deleted_at, serial, created_by, updated_at, version, attestation, owner_email, profile, " \
	"san, valid_days, ca, approval, pin_mac, description"

/* tokens.locked: locked fields in bits 0-2, opened ones in bits 3-5 (as on SQLite). */
#define POLICY_OPENED_SHIFT 3
static int policy_column(const crt_token *t)
{
	return (int)((t->locked & CRT_FIELD_ALL) |
		     (t->opened & CRT_FIELD_ALL) << POLICY_OPENED_SHIFT);
}

/* Row i into t; 0 when a copy failed (t is then cleared). */
static int row_to_token(const PGresult *res, int i, crt_token *t)
{
	char **strs[] = {&t->name,   &t->cn,	 &t->org,	  &t->ou,	   &t->owner,
			 &t->reply,  &t->serial, &t->created_by, &t->attestation, &t->owner_email,
			 &t->profile, &t->san, &t->ca, &t->pin_mac, &t->description};
	static const int col[] = {1, 2, 3, 4, 5, 7, 12, 13, 16, 17, 18, 19, 21, 23, 24};
	unsigned policy = (unsigned)pg_int(res, i, 6);

	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(res, i, 0));
	for (size_t k = 0; k < sizeof(col) / sizeof(col[0]); k++)
		if (!pg_null(res, i, col[k]) && (*strs[k] = pg_strdup(res, i, col[k])) == NULL) {
			crt_token_clear(t);
			return 0;
		}
	t->locked = policy & CRT_FIELD_ALL;
	t->opened = (policy >> POLICY_OPENED_SHIFT) & CRT_FIELD_ALL;
	t->created_at = pg_int(res, i, 8);
	t->expires_at = pg_int(res, i, 9);
	t->used_at = pg_int(res, i, 10);
	t->deleted_at = pg_int(res, i, 11);
	t->updated_at = pg_int(res, i, 14);
	t->version = pg_int(res, i, 15);
	t->valid_days = (int)pg_int(res, i, 20);
	t->approval = (int)pg_int(res, i, 22);
	return 1;
}

static crt_status load_one(crt_ctx *ctx, const char *sql, const char *key, crt_token *out)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	pp_text(&p, key);
	if ((r = pg_exec(ctx, sql, &p, &res, NULL, "reading the token")) != CRT_OK)
		return r;
	if (PQntuples(res) == 0)
		r = CRT_E_TOKEN_NOT_FOUND;
	else if (!row_to_token(res, 0, out))
		r = CRT_E_NOMEM;
	PQclear(res);
	return r;
}

static crt_status pg_by_id(crt_ctx *ctx, const char *id, crt_token *out)
{
	return load_one(ctx, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = $1", id, out);
}

static crt_status pg_by_hash(crt_ctx *ctx, const char *hash, crt_token *out)
{
	return load_one(ctx, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = $1", hash, out);
}

/* A step of a redemption or a bulk passes the fault seam like a dispatcher
 * call. */
static crt_status seam(crt_ctx *ctx, const char *what)
{
	return store_fault_hit(ctx, 0) ? store_fault_fail(ctx, what) : CRT_OK;
}

static crt_status pg_insert(crt_ctx *ctx, const crt_token *t, const char *hash, int64_t now)
{
	pg_params p = {0};
	pp_text(&p, t->id);
	pp_text(&p, hash);
	pp_text(&p, t->name);
	pp_text(&p, t->cn);
	pp_text(&p, t->org);
	pp_text(&p, t->ou);
	pp_text(&p, t->owner);
	pp_int(&p, policy_column(t));
	pp_text(&p, t->reply);
	pp_int(&p, t->created_at);
	pp_int(&p, t->expires_at);
	pp_int(&p, now);
	pp_text(&p, t->created_by);
	pp_text(&p, t->attestation);
	pp_text(&p, t->owner_email);
	pp_text(&p, t->profile);
	pp_text(&p, t->san);
	pp_int(&p, t->valid_days);
	pp_text(&p, t->ca != NULL ? t->ca : CRT_CA_DEFAULT);
	pp_int(&p, t->approval);
	pp_text(&p, t->pin_mac);
	pp_text(&p, t->description);
	return pg_exec(ctx,
		       "INSERT INTO tokens(id, hash, name, cn, org, ou, owner, locked, reply, "
		       "created_at, expires_at, updated_at, created_by, attestation, owner_email, "
		       "profile, san, valid_days, ca, approval, pin_mac, description) VALUES ($1, $2, "
		       "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
		       "NULLIF(CAST($18 AS integer), 0), $19, $20, $21, $22)",
		       &p, NULL, NULL, "storing the token");
}

/* Row i of a bulk as one JSON object of the bulk statement's record (its
 * keys the record's columns; absent or null: SQL NULL). NULL when out of
 * memory. */
static char *bulk_row_json(const store_token_new *t, size_t i)
{
	const crt_token *k = t->token;
	jbuf j;

	jb_begin(&j);
	jb_int(&j, "n", (int64_t)i);
	jb_str(&j, "id", k->id);
	jb_str(&j, "hash", t->hash);
	jb_str(&j, "name", k->name);
	jb_str(&j, "cn", k->cn);
	jb_str(&j, "org", k->org);
	jb_str(&j, "ou", k->ou);
	jb_str(&j, "owner", k->owner);
	jb_int(&j, "locked", policy_column(k));
	jb_str(&j, "reply", k->reply);
	jb_int(&j, "created_at", k->created_at);
	jb_int(&j, "expires_at", k->expires_at);
	jb_str(&j, "created_by", k->created_by);
	jb_str(&j, "attestation", k->attestation);
	jb_str(&j, "owner_email", k->owner_email);
	jb_str(&j, "profile", k->profile);
	jb_str(&j, "san", k->san);
	jb_int(&j, "valid_days", k->valid_days);
	jb_str(&j, "ca", k->ca != NULL ? k->ca : CRT_CA_DEFAULT);
	jb_int(&j, "approval", k->approval);
	jb_str(&j, "pin_mac", k->pin_mac);
	jb_str(&j, "description", k->description);
	jb_int(&j, "a_at", t->audit.at);
	jb_str(&j, "a_actor", t->audit.actor ? t->audit.actor : "unknown");
	jb_str(&j, "a_action", t->audit.action);
	jb_str(&j, "a_object", t->audit.object);
	jb_str(&j, "a_detail", t->audit.detail);
	if (t->event != NULL) {
		jb_str(&j, "e_id", t->event->id);
		jb_str(&j, "e_type", t->event->type);
		jb_int(&j, "e_at", t->event->at);
		jb_str(&j, "e_dedup", t->event->dedup);
		jb_str(&j, "e_body", t->event->body);
	}
	return jb_end(&j);
}

/* The rows of a bulk as one JSON array (malloc'd; wipe and free it), NULL
 * when out of memory. */
static char *bulk_json(const store_token_new *rows, size_t n)
{
	char **one = calloc(n, sizeof(*one)), *out = NULL;
	size_t len = 2, at = 0, i;

	if (one == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((one[i] = bulk_row_json(&rows[i], i)) == NULL)
			goto out;
		len += strlen(one[i]) + 1;
	}
	if ((out = malloc(len + 1)) == NULL)
		goto out;
	out[at++] = '[';
	for (i = 0; i < n; i++) {
		size_t l = strlen(one[i]);
		if (i > 0)
			out[at++] = ',';
		memcpy(out + at, one[i], l);
		at += l;
	}
	out[at++] = ']';
	out[at] = '\0';
out:
	for (i = 0; i < n && one[i] != NULL; i++) {
		explicit_bzero(one[i], strlen(one[i]));
		free(one[i]);
	}
	free(one);
	return out;
}

/*
 * A bulk in one statement, one round trip however many rows: the rows
 * travel as one JSON array (json_to_recordset), and data-modifying CTEs
 * insert the tokens, the audit rows and the events in the rows' order (the
 * audit ids and event sequence numbers as one insert after the other would
 * give them). A token whose id or hash is already stored (by a concurrent
 * writer too: ON CONFLICT waits for its transaction) is skipped by ON
 * CONFLICT, and the answer is the first row that was skipped: the caller
 * then rolls the whole bulk back. One statement: the write deadline
 * ([store] write_timeout_ms) and the server's statement_timeout bound the
 * bulk as a whole.
 */
static crt_status pg_insert_many(crt_ctx *ctx, const store_token_new *rows, size_t n, int64_t now,
				 size_t *failed)
{
	static const char q[] =
		"WITH x AS MATERIALIZED (SELECT * FROM json_to_recordset(CAST($1 AS json)) AS x("
		"n integer, id text, hash text, name text, cn text, org text, ou text, owner text, "
		"locked bigint, reply text, created_at bigint, expires_at bigint, created_by text, "
		"attestation text, owner_email text, profile text, san text, valid_days integer, "
		"ca text, approval integer, pin_mac text, description text, a_at bigint, "
		"a_actor text, a_action text, a_object text, a_detail text, e_id text, e_type text, "
		"e_at bigint, e_dedup text, e_body text)), "
		"t AS (INSERT INTO tokens(id, hash, name, cn, org, ou, owner, locked, reply, "
		"created_at, expires_at, updated_at, created_by, attestation, owner_email, profile, "
		"san, valid_days, ca, approval, pin_mac, description) "
		"SELECT id, hash, name, cn, org, ou, owner, locked, reply, created_at, expires_at, "
		"CAST($2 AS bigint), created_by, attestation, owner_email, profile, san, "
		"NULLIF(valid_days, 0), ca, approval, pin_mac, description FROM x ORDER BY n "
		"ON CONFLICT DO NOTHING RETURNING id), "
		"a AS (INSERT INTO audit(at, actor, action, object, detail) "
		"SELECT a_at, a_actor, a_action, a_object, a_detail FROM x ORDER BY n), "
		"e AS (INSERT INTO events(id, type, at, dedup, body) "
		"SELECT e_id, e_type, e_at, e_dedup, e_body FROM x WHERE e_id IS NOT NULL ORDER BY n "
		"ON CONFLICT (dedup) DO NOTHING) "
		"SELECT min(n) FROM x WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.id = x.id)";
	pg_params p = {0};
	PGresult *res;
	char *json;
	crt_status r;

	/* the steps of each row pass the seam as separate inserts would */
	for (size_t i = 0; i < n; i++)
		if ((r = seam(ctx, "token insert")) != CRT_OK ||
		    (r = seam(ctx, "audit insert")) != CRT_OK ||
		    (rows[i].event != NULL && (r = seam(ctx, "event insert")) != CRT_OK))
			return r;
	if ((json = bulk_json(rows, n)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	pp_text(&p, json);
	pp_int(&p, now);
	r = pg_exec(ctx, q, &p, &res, NULL, "storing the tokens of the bulk");
	explicit_bzero(json, strlen(json));
	free(json);
	if (r != CRT_OK)
		return r;
	if (PQntuples(res) == 1 && !pg_null(res, 0, 0)) {
		int64_t i = pg_int(res, 0, 0);
		*failed = i >= 0 && (size_t)i < n ? (size_t)i : n;
		r = ctx_fail(ctx, CRT_E_EXISTS,
			     "storing the token: a row already stored has one of its unique keys");
	}
	PQclear(res);
	return r;
}

static crt_status pg_list(crt_ctx *ctx, const token_bounds *b, crt_token **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	crt_token *list;
	crt_status r;
	int cnt, i;

	*out = NULL;
	*n = 0;
	pp_int(&p, b->deleted);
	pp_int(&p, b->used);
	pp_int(&p, b->expires_min);
	pp_int(&p, b->expires_max);
	if ((r = pg_exec(ctx,
			 "SELECT " TOKEN_COLUMNS " FROM tokens WHERE"
			 " (CAST($1 AS integer) < 0 OR (deleted_at IS NOT NULL) = ($1 = 1))"
			 " AND (CAST($2 AS integer) < 0 OR (used_at IS NOT NULL) = ($2 = 1))"
			 " AND expires_at BETWEEN $3 AND $4"
			 " ORDER BY created_at DESC, id",
			 &p, &res, NULL, "listing tokens")) != CRT_OK)
		return r;
	if ((r = pg_rows_alloc(res, sizeof(*list), &list, &cnt)) != CRT_OK) {
		PQclear(res);
		return r;
	}
	for (i = 0; i < cnt; i++)
		if (!row_to_token(res, i, &list[i]))
			break;
	PQclear(res);
	if (i < cnt) {
		crt_token_list_free(list, (size_t)i);
		return CRT_E_NOMEM;
	}
	*out = list;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status token_row(const PGresult *res, int i, void *elem)
{
	return row_to_token(res, i, elem) ? CRT_OK : CRT_E_NOMEM;
}

static void token_free(void *list, size_t n)
{
	crt_token_list_free(list, n);
}

static crt_status pg_page(crt_ctx *ctx, const token_bounds *b, const crt_page *p,
			  crt_token **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_tokens(&q, 1, TOKEN_COLUMNS, b, p, 0) != 0 ||
	    list_sql_tokens(&qc, 1, TOKEN_COLUMNS, b, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the token list query did not fit");
	return pg_list_page(ctx, &q, &qc, sizeof(**out), token_row, token_free, out, n, total,
			    "listing tokens");
}

static crt_status changes_of(crt_ctx *ctx, const char *sql, const pg_params *p, const char *what,
			     int *changed)
{
	int64_t c = 0;
	crt_status r = pg_exec(ctx, sql, p, NULL, &c, what);
	*changed = r == CRT_OK ? (int)c : 0;
	return r;
}

static crt_status pg_update(crt_ctx *ctx, const crt_token *t, int64_t version, int64_t now,
			    int *changed)
{
	pg_params p = {0};
	pp_text(&p, t->name);
	pp_text(&p, t->cn);
	pp_text(&p, t->org);
	pp_text(&p, t->ou);
	pp_text(&p, t->owner);
	pp_int(&p, policy_column(t));
	pp_text(&p, t->reply);
	pp_int(&p, t->expires_at);
	pp_int(&p, now);
	pp_text(&p, t->id);
	pp_int(&p, version);
	pp_text(&p, t->attestation);
	pp_text(&p, t->owner_email);
	pp_text(&p, t->san);
	pp_int(&p, t->valid_days);
	pp_text(&p, t->description);
	return changes_of(ctx,
			  "UPDATE tokens SET name = $1, cn = $2, org = $3, ou = $4, owner = $5, "
			  "locked = $6, reply = $7, expires_at = $8, updated_at = $9, "
			  "attestation = $12, owner_email = $13, san = $14, "
			  "valid_days = NULLIF(CAST($15 AS integer), 0), description = $16, "
			  "version = version + 1 WHERE id = $10 AND version = $11 "
			  "AND used_at IS NULL AND deleted_at IS NULL",
			  &p, "updating the token", changed);
}

static crt_status pg_remove(crt_ctx *ctx, const char *id, int64_t version, int64_t now,
			    int *changed)
{
	pg_params p = {0};
	pp_int(&p, now);
	pp_text(&p, id);
	pp_int(&p, version);
	return changes_of(ctx,
			  "UPDATE tokens SET deleted_at = $1, updated_at = $1, "
			  "version = version + 1 WHERE id = $2 AND version = $3 "
			  "AND used_at IS NULL AND deleted_at IS NULL",
			  &p, "deleting the token", changed);
}

static crt_status pg_purge(crt_ctx *ctx, int64_t cutoff, int64_t *n)
{
	pg_params p = {0};
	pp_int(&p, cutoff);
	*n = 0;
	return pg_exec(ctx,
		       "DELETE FROM tokens WHERE COALESCE(deleted_at, used_at, expires_at) < $1 "
		       "AND id NOT IN (SELECT token_id FROM certificate_requests WHERE state = 0)",
		       &p, NULL, n, "purging tokens");
}

static crt_status pg_claim(crt_ctx *ctx, const store_claim *c, int *won)
{
	pg_params p = {0};
	token_bounds active;

	token_state_bounds(CRT_TOKEN_ACTIVE, c->now, &active);
	pp_int(&p, c->now);
	pp_text(&p, c->serial);
	pp_text(&p, c->token_id);
	pp_int(&p, c->version);
	pp_int(&p, active.expires_min);
	pp_int(&p, active.expires_max);
	return changes_of(ctx,
			  "UPDATE tokens SET used_at = $1, updated_at = $1, serial = $2, "
			  "version = version + 1 "
			  "WHERE id = $3 AND version = $4 AND used_at IS NULL "
			  "AND deleted_at IS NULL AND expires_at BETWEEN $5 AND $6",
			  &p, "claiming the token", won);
}

static crt_status pg_seen(crt_ctx *ctx, const char *id, token_seen *out)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	memset(out, 0, sizeof(*out));
	pp_text(&p, id);
	if ((r = pg_exec(ctx,
			 "SELECT used_at, deleted_at, version, expires_at FROM tokens WHERE id = $1",
			 &p, &res, NULL, "reading the token")) != CRT_OK)
		return r;
	if (PQntuples(res) > 0) {
		out->present = 1;
		out->used_at = pg_int(res, 0, 0);
		out->deleted_at = pg_int(res, 0, 1);
		out->version = pg_int(res, 0, 2);
		out->expires_at = pg_int(res, 0, 3);
	}
	PQclear(res);
	return CRT_OK;
}

/* One redemption, one transaction: claim first (the row count says whether
 * it won), then the certificate and the audit row; or just the audit row
 * of a refusal. */
static crt_status pg_redeem(crt_ctx *ctx, store_redemption *j)
{
	crt_status r;
	int won = 0;

	j->status = CRT_OK;
	j->claimed = 0;
	j->detail[0] = '\0';
	ctx_clear_detail(ctx);
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if (j->audit_only) {
		if ((r = seam(ctx, "audit insert")) == CRT_OK)
			r = pg_audit_append(ctx, j->audit.at, j->audit.actor ? j->audit.actor : "unknown",
					    j->audit.action, j->audit.object, j->audit.detail);
	} else {
		if ((r = seam(ctx, "claim")) == CRT_OK)
			r = pg_claim(ctx, &j->claim, &won);
		if (r == CRT_OK && !won && (r = seam(ctx, "seen")) == CRT_OK)
			r = pg_seen(ctx, j->claim.token_id, &j->seen);
		if (r == CRT_OK && won && (r = seam(ctx, "certificate insert")) == CRT_OK)
			r = pg_cert_ops.insert(ctx, j->cert);
		if (r == CRT_OK && won && (r = seam(ctx, "audit insert")) == CRT_OK)
			r = pg_audit_append(ctx, j->audit.at, j->audit.actor ? j->audit.actor : "unknown",
					    j->audit.action, j->audit.object, j->audit.detail);
		if (r == CRT_OK && won && j->event != NULL &&
		    (r = seam(ctx, "event insert")) == CRT_OK) {
			int added;
			r = pg_event_ops.append(ctx, j->event, &added);
		}
		if (r == CRT_OK && won && j->kept != NULL &&
		    (r = seam(ctx, "pkcs12 insert")) == CRT_OK)
			r = pg_pkcs12_ops.put(ctx, j->kept);
	}
	if (r != CRT_OK) {
		store_rollback(ctx);
		goto out;
	}
	if (!won && !j->audit_only) { /* nothing written: seen is the answer */
		store_rollback(ctx);
		goto out;
	}
	j->claimed = won;
	if ((r = store_commit(ctx)) != CRT_OK && r != CRT_E_STORE_COMMIT_UNKNOWN)
		j->claimed = 0; /* store_commit_unknown: claimed stays as it was */
out:
	j->status = r;
	if (r != CRT_OK)
		snprintf(j->detail, sizeof(j->detail), "%s", ctx->detail);
	return r;
}

const struct store_token_ops pg_token_ops = {
	.insert = pg_insert,
	.insert_many = pg_insert_many,
	.by_id = pg_by_id,
	.by_hash = pg_by_hash,
	.list = pg_list,
	.page = pg_page,
	.update = pg_update,
	.remove = pg_remove,
	.purge = pg_purge,
	.claim = pg_claim,
	.seen = pg_seen,
	.redeem = pg_redeem,
};
