/*
 * pg_apikeys.c — the API key verbs of the storage port
 * (store/port_apikeys.h) on PostgreSQL: table api_keys. revoke and touch
 * are conditional UPDATEs whose row count is the answer, so two nodes never
 * both revoke (and audit) one key, nor both refresh a row the other just
 * touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/scope.h"
#include "store/pg.h"

#define KEY_COLS "id, name, created_at, revoked_at, last_used_at, scopes, profiles"

static crt_status row_to_key(const PGresult *res, int i, crt_apikey *k)
{
	memset(k, 0, sizeof(*k));
	if (!pg_null(res, i, 0))
		snprintf(k->id, sizeof(k->id), "%s", PQgetvalue(res, i, 0));
	if ((k->name = pg_strdup(res, i, 1)) == NULL)
		return CRT_E_NOMEM;
	k->created_at = pg_int(res, i, 2);
	k->revoked_at = pg_int(res, i, 3);
	k->last_used_at = pg_int(res, i, 4);
	k->scopes = scope_from_stored(pg_null(res, i, 5) ? NULL : PQgetvalue(res, i, 5));
	if (!pg_null(res, i, 6) && (k->profiles = pg_strdup(res, i, 6)) == NULL)
		return CRT_E_NOMEM;
	return CRT_OK;
}

static crt_status pg_apikey_insert(crt_ctx *ctx, const crt_apikey *k, const char *hash,
				   const char *scopes)
{
	pg_params p = {0};
	pp_text(&p, k->id);
	pp_text(&p, k->name);
	pp_text(&p, hash);
	pp_int(&p, k->created_at);
	pp_text(&p, scopes);
	pp_text(&p, k->profiles);
	return pg_exec(ctx,
		       "INSERT INTO api_keys(id, name, hash, created_at, scopes, profiles) "
		       "VALUES ($1, $2, $3, $4, $5, $6)",
		       &p, NULL, NULL, "insert api key");
}

static crt_status pg_apikey_list(crt_ctx *ctx, crt_apikey **out, size_t *n)
{
	PGresult *res;
	crt_apikey *list;
	crt_status r;
	int cnt, i;

	*out = NULL;
	*n = 0;
	if ((r = pg_exec(ctx, "SELECT " KEY_COLS " FROM api_keys ORDER BY created_at, id", NULL,
			 &res, NULL, "list api keys")) != CRT_OK)
		return r;
	if (pg_rows_alloc(res, sizeof(*list), &list, &cnt) != CRT_OK) {
		PQclear(res);
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	}
	for (i = 0; i < cnt; i++)
		if (row_to_key(res, i, &list[i]) != CRT_OK) {
			PQclear(res);
			crt_apikey_list_free(list, (size_t)i + 1);
			return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		}
	PQclear(res);
	*out = list;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status pg_apikey_find_by_hash(crt_ctx *ctx, const char *hash, crt_apikey *out)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	memset(out, 0, sizeof(*out));
	pp_text(&p, hash);
	if ((r = pg_exec(ctx, "SELECT " KEY_COLS " FROM api_keys WHERE hash = $1", &p, &res, NULL,
			 "look up api key")) != CRT_OK)
		return r;
	if (PQntuples(res) == 0)
		r = ctx_fail(ctx, CRT_E_APIKEY_NOT_FOUND, "no API key with this hash");
	else if ((r = row_to_key(res, 0, out)) != CRT_OK)
		ctx_fail(ctx, r, "out of memory");
	PQclear(res);
	if (r != CRT_OK)
		crt_apikey_clear(out);
	return r;
}

static crt_status pg_apikey_revoke(crt_ctx *ctx, const char *id, int64_t now, int *revoked)
{
	pg_params p = {0};
	PGresult *res;
	int64_t changes = 0;
	crt_status r;

	*revoked = 0;
	pp_int(&p, now);
	pp_text(&p, id);
	if ((r = pg_exec(ctx, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
			 &p, NULL, &changes, "revoke api key")) != CRT_OK)
		return r;
	if (changes == 1) {
		*revoked = 1;
		return CRT_OK;
	}
	/* nothing changed: already revoked, or no such key */
	pg_params q = {0};
	pp_text(&q, id);
	if ((r = pg_exec(ctx, "SELECT 1 FROM api_keys WHERE id = $1", &q, &res, NULL,
			 "look up api key")) != CRT_OK)
		return r;
	int found = PQntuples(res) > 0;
	PQclear(res);
	return found ? CRT_OK : ctx_fail(ctx, CRT_E_APIKEY_NOT_FOUND, "no API key with id %s", id);
}

static crt_status pg_apikey_touch(crt_ctx *ctx, const char *id, int64_t now, int64_t due,
				  int *touched)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	*touched = 0;
	pp_int(&p, now);
	pp_text(&p, id);
	pp_int(&p, due);
	if ((r = pg_exec(ctx,
			 "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND "
			 "(last_used_at IS NULL OR last_used_at <= $3)",
			 &p, NULL, &changes, "touch api key")) != CRT_OK)
		return r;
	*touched = changes == 1;
	return CRT_OK;
}

const struct store_apikey_ops pg_apikey_ops = {
	.insert = pg_apikey_insert,
	.list = pg_apikey_list,
	.find_by_hash = pg_apikey_find_by_hash,
	.revoke = pg_apikey_revoke,
	.touch = pg_apikey_touch,
};
