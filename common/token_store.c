/*
 * token_store.c — the admin's operations on the tokens table: create,
 * get, list, update while unused, soft delete, purge. Each change is one
 * write transaction carrying its audit row.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "store/sqlite.h" /* until this file's SQL moves behind the port */

#define TOKEN_COLUMNS                                                                        \
	"id, name, cn, org, ou, owner, locked, reply, created_at, expires_at, used_at, "     \
	"deleted_at, serial, created_by, updated_at, version"

/* The tokens.locked column holds the whole per-field override policy: the
 * locked fields in bits 0-2, the opened ones in bits 3-5. */
#define POLICY_OPENED_SHIFT 3
static int policy_column(const crt_token *t)
{
	return (int)((t->locked & CRT_FIELD_ALL) | (t->opened & CRT_FIELD_ALL) << POLICY_OPENED_SHIFT);
}

void crt_token_clear(crt_token *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->cn);
	free(t->org);
	free(t->ou);
	free(t->owner);
	free(t->reply);
	free(t->serial);
	free(t->created_by);
	memset(t, 0, sizeof(*t));
}

void crt_token_list_free(crt_token *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		crt_token_clear(&list[i]);
	free(list);
}

static crt_token_state state_of(const crt_token *t, int64_t now)
{
	if (t->deleted_at)
		return CRT_TOKEN_DELETED;
	if (t->used_at)
		return CRT_TOKEN_USED;
	if (now >= t->expires_at)
		return CRT_TOKEN_EXPIRED;
	return CRT_TOKEN_ACTIVE;
}

static void row_to_token(sqlite3_stmt *st, int64_t now, crt_token *t)
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
	t->state = state_of(t, now);
}

static crt_status load_one(crt_ctx *ctx, const char *sql, const char *key, int64_t now,
			   crt_token *out, crt_status notfound)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx, sql, &st);
	int rc;
	if (r != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_token(st, now, out);
	else if (rc == SQLITE_DONE)
		r = notfound;
	else
		r = store_error(ctx, rc, "reading the token");
	store_done(st);
	return r;
}

crt_status token_load(crt_ctx *ctx, const char *id, int64_t now, crt_token *out)
{
	crt_status r = load_one(ctx, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?", id, now,
				out, CRT_E_TOKEN_NOT_FOUND);
	if (r == CRT_E_TOKEN_NOT_FOUND)
		crt_fail(ctx, r, "no token with id %s", id);
	return r;
}

crt_status token_load_by_hash(crt_ctx *ctx, const char *hash, int64_t now, crt_token *out)
{
	return load_one(ctx, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?", hash, now, out,
			CRT_E_TOKEN_UNKNOWN);
}

static char *token_detail(const crt_token *t)
{
	crt_json j;
	char exp[32];
	crt_time_rfc3339(t->expires_at, exp, sizeof(exp));
	json_begin(&j);
	json_str(&j, "name", t->name);
	json_str(&j, "commonName", t->cn);
	json_str(&j, "organization", t->org);
	json_str(&j, "organizationalUnit", t->ou);
	json_str(&j, "owner", t->owner);
	json_int(&j, "locked", t->locked);
	json_int(&j, "opened", t->opened);
	json_str(&j, "expiresAt", exp);
	return json_end(&j);
}

static const char *nonempty(const char *s)
{
	return (s != NULL && *s != '\0') ? s : NULL;
}

crt_status crt_token_create(crt_ctx *ctx, const crt_token_spec *spec, const char *actor,
			    crt_token *out, char token_out[CRT_TOKEN_STRLEN + 1])
{
	sqlite3_stmt *st;
	crt_token t = {0};
	char hash[65];
	char *detail = NULL;
	crt_status r;
	int rc;
	int64_t now = crt_now();

	crt_clear_detail(ctx);
	if ((r = token_check_spec(ctx, spec, 1)) != CRT_OK)
		return r;
	if ((r = token_expiry(ctx, spec, now, &t.expires_at)) != CRT_OK)
		return r;
	if ((r = crt_make_id("token", t.id)) != CRT_OK ||
	    (r = token_generate(CRT_TOKEN_PREFIX, token_out)) != CRT_OK)
		return r;
	token_hash(token_out, hash);
	t.name = crt_strdup(spec->name);
	t.cn = crt_strdup(nonempty(spec->cn));
	t.org = crt_strdup(nonempty(spec->org));
	t.ou = crt_strdup(nonempty(spec->ou));
	t.owner = crt_strdup(nonempty(spec->owner));
	t.reply = crt_strdup(nonempty(spec->reply));
	t.created_by = crt_strdup(actor);
	t.locked = spec->locked;
	t.opened = spec->opened;
	t.created_at = now;
	t.state = CRT_TOKEN_ACTIVE;
	if ((r = token_check_subject(ctx, &t)) != CRT_OK)
		goto out;
	if ((detail = token_detail(&t)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = store_prepare(ctx,
			       "INSERT INTO tokens(id, hash, name, cn, org, ou, owner, locked, "
			       "reply, created_at, expires_at, updated_at, created_by) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       &st)) != CRT_OK)
		goto fail;
	store_bind_text(st, 1, t.id);
	store_bind_text(st, 2, hash);
	store_bind_text(st, 3, t.name);
	store_bind_text(st, 4, t.cn);
	store_bind_text(st, 5, t.org);
	store_bind_text(st, 6, t.ou);
	store_bind_text(st, 7, t.owner);
	sqlite3_bind_int(st, 8, policy_column(&t));
	store_bind_text(st, 9, t.reply);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, t.expires_at);
	sqlite3_bind_int64(st, 12, now);
	store_bind_text(st, 13, actor);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "storing the token");
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "token.create", t.id, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (out != NULL) {
		*out = t;
		memset(&t, 0, sizeof(t));
	}
	goto out;
fail:
	store_rollback(ctx);
out:
	if (r != CRT_OK)
		OPENSSL_cleanse(token_out, CRT_TOKEN_STRLEN + 1);
	free(detail);
	crt_token_clear(&t);
	return r;
}

crt_status crt_token_get(crt_ctx *ctx, const char *id, crt_token *out)
{
	crt_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (id == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token id");
	return token_load(ctx, id, crt_now(), out);
}

crt_status crt_token_list(crt_ctx *ctx, int state, crt_token **out, size_t *n)
{
	sqlite3_stmt *st;
	crt_token *list = NULL;
	size_t cnt = 0, cap = 0;
	int64_t now = crt_now();
	crt_status r;
	int rc;

	crt_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	r = store_prepare(ctx,
			  "SELECT " TOKEN_COLUMNS " FROM tokens WHERE ?1 < 0"
			  " OR (?1 = 3 AND deleted_at IS NOT NULL)"
			  " OR (?1 = 1 AND deleted_at IS NULL AND used_at IS NOT NULL)"
			  " OR (?1 = 2 AND deleted_at IS NULL AND used_at IS NULL AND expires_at <= ?2)"
			  " OR (?1 = 0 AND deleted_at IS NULL AND used_at IS NULL AND expires_at > ?2)"
			  " ORDER BY created_at DESC, id",
			  &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int(st, 1, state);
	sqlite3_bind_int64(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (crt_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		row_to_token(st, now, &list[cnt++]);
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

/* Replace *field with a copy of v ("" clears) when v is given. */
static crt_status apply(char **field, const char *v)
{
	if (v == NULL)
		return CRT_OK;
	char *copy = *v ? strdup(v) : NULL;
	if (*v && copy == NULL)
		return CRT_E_NOMEM;
	free(*field);
	*field = copy;
	return CRT_OK;
}

crt_status crt_token_update(crt_ctx *ctx, const char *id, const crt_token_spec *c,
			    const char *actor, crt_token *out)
{
	sqlite3_stmt *st;
	crt_token t = {0};
	char *detail = NULL;
	crt_status r;
	int rc;
	int64_t now = crt_now();

	crt_clear_detail(ctx);
	if (id == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token id");
	if ((r = token_check_spec(ctx, c, 0)) != CRT_OK)
		return r;
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = token_load(ctx, id, now, &t)) != CRT_OK)
		goto fail;
	if (t.state == CRT_TOKEN_USED || t.state == CRT_TOKEN_DELETED) {
		r = crt_fail(ctx, CRT_E_TOKEN_NOT_ACTIVE, "token %s is %s and can no longer change",
			     id, crt_token_state_name(t.state));
		goto fail;
	}
	if ((r = apply(&t.name, c->name)) != CRT_OK || (r = apply(&t.cn, c->cn)) != CRT_OK ||
	    (r = apply(&t.org, c->org)) != CRT_OK || (r = apply(&t.ou, c->ou)) != CRT_OK ||
	    (r = apply(&t.owner, c->owner)) != CRT_OK || (r = apply(&t.reply, c->reply)) != CRT_OK)
		goto fail;
	/* Locking a field closes it, opening one unlocks it. */
	if (c->set_locked) {
		t.locked = c->locked;
		t.opened &= ~c->locked;
	}
	if (c->set_opened) {
		t.opened = c->opened;
		t.locked &= ~c->opened;
	}
	if ((r = token_check_subject(ctx, &t)) != CRT_OK)
		goto fail;
	if ((c->lifetime || c->expires_at) &&
	    (r = token_expiry(ctx, c, now, &t.expires_at)) != CRT_OK)
		goto fail;
	if ((r = store_prepare(ctx,
			       "UPDATE tokens SET name = ?, cn = ?, org = ?, ou = ?, owner = ?, "
			       "locked = ?, reply = ?, expires_at = ?, updated_at = ?, "
			       "version = version + 1 WHERE id = ?",
			       &st)) != CRT_OK)
		goto fail;
	store_bind_text(st, 1, t.name);
	store_bind_text(st, 2, t.cn);
	store_bind_text(st, 3, t.org);
	store_bind_text(st, 4, t.ou);
	store_bind_text(st, 5, t.owner);
	sqlite3_bind_int(st, 6, policy_column(&t));
	store_bind_text(st, 7, t.reply);
	sqlite3_bind_int64(st, 8, t.expires_at);
	sqlite3_bind_int64(st, 9, now);
	store_bind_text(st, 10, t.id);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "updating the token");
		goto fail;
	}
	t.updated_at = now;
	t.version++;
	t.state = state_of(&t, now);
	if ((detail = token_detail(&t)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "token.update", t.id, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (out != NULL) {
		*out = t;
		memset(&t, 0, sizeof(t));
	}
	goto out;
fail:
	store_rollback(ctx);
out:
	free(detail);
	crt_token_clear(&t);
	return r;
}

crt_status crt_token_delete(crt_ctx *ctx, const char *id, const char *actor)
{
	sqlite3_stmt *st;
	crt_token t = {0};
	crt_status r;
	int rc;
	int64_t now = crt_now();

	crt_clear_detail(ctx);
	if (id == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token id");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = token_load(ctx, id, now, &t)) != CRT_OK)
		goto fail;
	if (t.state == CRT_TOKEN_DELETED) {
		r = crt_fail(ctx, CRT_E_TOKEN_DELETED, "token %s was already deleted", id);
		goto fail;
	}
	if (t.state == CRT_TOKEN_USED) {
		r = crt_fail(ctx, CRT_E_TOKEN_USED,
			     "token %s was already redeemed; revoke its certificate %s instead", id,
			     t.serial ? t.serial : "");
		goto fail;
	}
	if ((r = store_prepare(ctx, "UPDATE tokens SET deleted_at = ?1, updated_at = ?1, "
				    "version = version + 1 WHERE id = ?2",
			       &st)) != CRT_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "deleting the token");
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "token.delete", id, NULL)) != CRT_OK)
		goto fail;
	r = store_commit(ctx);
	goto out;
fail:
	store_rollback(ctx);
out:
	crt_token_clear(&t);
	return r;
}

crt_status crt_token_purge(crt_ctx *ctx, int older_than_days, const char *actor, size_t *purged)
{
	sqlite3_stmt *st;
	crt_status r;
	crt_json j;
	char *detail = NULL;
	int rc;
	int64_t cutoff = crt_now() - (int64_t)older_than_days * 86400;

	crt_clear_detail(ctx);
	if (purged)
		*purged = 0;
	if (older_than_days < 0)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "days must be 0 or more");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_prepare(ctx,
			       "DELETE FROM tokens WHERE"
			       " (deleted_at IS NOT NULL AND deleted_at < ?1)"
			       " OR (deleted_at IS NULL AND used_at IS NOT NULL AND used_at < ?1)"
			       " OR (deleted_at IS NULL AND used_at IS NULL AND expires_at < ?1)",
			       &st)) != CRT_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, cutoff);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "purging tokens");
		goto fail;
	}
	int64_t n = sqlite3_changes64(sq_db(ctx));
	json_begin(&j);
	json_int(&j, "purged", n);
	json_int(&j, "olderThanDays", older_than_days);
	if ((detail = json_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "token.purge", NULL, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) == CRT_OK && purged)
		*purged = (size_t)n;
	goto out;
fail:
	store_rollback(ctx);
out:
	free(detail);
	return r;
}
