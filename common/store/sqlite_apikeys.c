/*
 * sqlite_apikeys.c — the API key verbs of the storage port
 * (store/port_apikeys.h) on SQLite: table api_keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/scope.h"
#include "store/sqlite.h"

#define KEY_COLS "id, name, created_at, revoked_at, last_used_at, scopes, profiles"

static int64_t col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

/* Fill k from a row selected with KEY_COLS. */
static crt_status row_to_key(sqlite3_stmt *st, crt_apikey *k)
{
	const unsigned char *id = sqlite3_column_text(st, 0);

	memset(k, 0, sizeof(*k));
	if (id != NULL)
		snprintf(k->id, sizeof(k->id), "%s", (const char *)id);
	if ((k->name = store_col_strdup(st, 1)) == NULL)
		return CRT_E_NOMEM;
	k->created_at = col_time(st, 2);
	k->revoked_at = col_time(st, 3);
	k->last_used_at = col_time(st, 4);
	k->scopes = scope_from_stored((const char *)sqlite3_column_text(st, 5));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL && (k->profiles = store_col_strdup(st, 6)) == NULL)
		return CRT_E_NOMEM;
	return CRT_OK;
}

static crt_status sq_apikey_insert(crt_ctx *ctx, const crt_apikey *k, const char *hash,
				   const char *scopes)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	if ((r = store_prepare(ctx,
			       "INSERT INTO api_keys(id, name, hash, created_at, scopes, profiles) "
			       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, k->id);
	store_bind_text(st, 2, k->name);
	store_bind_text(st, 3, hash);
	sqlite3_bind_int64(st, 4, k->created_at);
	store_bind_text(st, 5, scopes);
	store_bind_text(st, 6, k->profiles);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "insert api key");
	return CRT_OK;
}

static crt_status sq_apikey_list(crt_ctx *ctx, crt_apikey **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	crt_apikey *list = NULL;
	size_t len = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx, "SELECT " KEY_COLS " FROM api_keys ORDER BY created_at, id",
			       &st)) != CRT_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, len, sizeof(*list)) != 0) {
			r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
			goto out;
		}
		if ((r = row_to_key(st, &list[len])) != CRT_OK) {
			crt_apikey_clear(&list[len]);
			ctx_fail(ctx, r, "out of memory");
			goto out;
		}
		len++;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "list api keys");
		goto out;
	}
	*out = list;
	*n = len;
	list = NULL;
	len = 0;
	r = CRT_OK;
out:
	store_done(st);
	crt_apikey_list_free(list, len);
	return r;
}

static crt_status sq_apikey_find_by_hash(crt_ctx *ctx, const char *hash, crt_apikey *out)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(ctx, "SELECT " KEY_COLS " FROM api_keys WHERE hash = ?1", &st)) !=
	    CRT_OK)
		return r;
	store_bind_text(st, 1, hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = ctx_fail(ctx, CRT_E_APIKEY_NOT_FOUND, "no API key with this hash");
	else if (rc != SQLITE_ROW)
		r = store_error(ctx, rc, "look up api key");
	else if ((r = row_to_key(st, out)) != CRT_OK)
		ctx_fail(ctx, r, "out of memory");
	store_done(st);
	if (r != CRT_OK)
		crt_apikey_clear(out);
	return r;
}

static crt_status sq_apikey_revoke(crt_ctx *ctx, const char *id, int64_t now, int *revoked)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	*revoked = 0;
	if ((r = store_prepare(ctx,
			       "UPDATE api_keys SET revoked_at = ?1 "
			       "WHERE id = ?2 AND revoked_at IS NULL",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "revoke api key");
	if (sqlite3_changes(sq_db(ctx)) == 1) {
		*revoked = 1;
		return CRT_OK;
	}
	/* nothing changed: already revoked, or no such key */
	if ((r = store_prepare(ctx, "SELECT 1 FROM api_keys WHERE id = ?1", &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc == SQLITE_DONE)
		return ctx_fail(ctx, CRT_E_APIKEY_NOT_FOUND, "no API key with id %s", id);
	if (rc != SQLITE_ROW)
		return store_error(ctx, rc, "look up api key");
	return CRT_OK;
}

static crt_status sq_apikey_touch(crt_ctx *ctx, const char *id, int64_t now, int64_t due,
				  int *touched)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	*touched = 0;
	if ((r = store_prepare(ctx,
			       "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND "
			       "(last_used_at IS NULL OR last_used_at <= ?3)",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	sqlite3_bind_int64(st, 3, due);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "touch api key");
	*touched = sqlite3_changes(sq_db(ctx)) == 1;
	return CRT_OK;
}

const struct store_apikey_ops sqlite_apikey_ops = {
	.insert = sq_apikey_insert,
	.list = sq_apikey_list,
	.find_by_hash = sq_apikey_find_by_hash,
	.revoke = sq_apikey_revoke,
	.touch = sq_apikey_touch,
};
