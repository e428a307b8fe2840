/*
 * sqlite_list.c — the SQLite backend runs a paged list query
 * (store/list_sql.h): prepared for the one call (its text varies with the
 * filters given, so it is not cached), its parameters bound.
 */
#include "store/list_sql.h"
#include "store/sqlite.h"

crt_status sq_list_prepare(crt_ctx *ctx, const list_sql *q, sqlite3_stmt **st)
{
	int rc;

	*st = NULL;
	if (q->overflow)
		return ctx_fail(ctx, CRT_E_INTERNAL, "a list query did not fit its buffer");
	if ((rc = sqlite3_prepare_v2(sq_db(ctx), q->sql, -1, st, NULL)) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return store_error(ctx, rc, "preparing a list");
	}
	for (int i = 0; i < q->n; i++) {
		rc = q->p[i].is_int ? sqlite3_bind_int64(*st, i + 1, q->p[i].i)
				    : store_bind_text(*st, i + 1, q->p[i].text);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(*st);
			*st = NULL;
			return store_error(ctx, rc, "binding a list's filter");
		}
	}
	return CRT_OK;
}

crt_status sq_list_count(crt_ctx *ctx, const list_sql *q, int64_t *total)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*total = 0;
	if ((r = sq_list_prepare(ctx, q, &st)) != CRT_OK)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*total = sqlite3_column_int64(st, 0);
	else
		r = store_error(ctx, rc, "counting a list");
	sqlite3_finalize(st);
	return r;
}
