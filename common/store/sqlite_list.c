/*
 * sqlite_list.c — the SQLite backend runs a paged list query
 * (store/list_sql.h): prepared for the one call (its text varies with the
 * filters given, so it is not cached), its parameters bound.
 */
#include <stdlib.h>

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

crt_status sq_list_page(crt_ctx *ctx, const list_sql *q, const list_sql *qcount, size_t size,
			int max, sq_list_row row, sq_list_free release, void *out, size_t *n,
			int64_t *total, const char *what)
{
	sqlite3_stmt *st = NULL;
	char *rows = NULL;
	size_t cnt = 0;
	crt_status r;
	int rc = SQLITE_DONE, last;

	*(void **)out = NULL;
	*n = 0;
	*total = 0;
	if ((r = sq_list_prepare(ctx, q, &st)) != CRT_OK)
		return r;
	last = sqlite3_column_count(st) - 1; /* the total follows the row's columns */
	if ((rows = calloc((size_t)max, size)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	/* LIMIT max: at most that many rows */
	while (cnt < (size_t)max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row(st, rows + cnt * size)) != CRT_OK) {
			cnt++; /* what row filled is released with the rest */
			r = ctx_fail(ctx, r, "out of memory");
			goto out;
		}
		cnt++;
		*total = sqlite3_column_int64(st, last);
	}
	if (cnt < (size_t)max && rc != SQLITE_DONE) {
		r = store_error(ctx, rc, what);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (cnt == 0) { /* past the end: no row carried the total */
		if ((r = sq_list_count(ctx, qcount, total)) != CRT_OK)
			goto out;
		free(rows);
		rows = NULL;
	}
	*(void **)out = rows;
	*n = cnt;
	rows = NULL;
	cnt = 0;
out:
	sqlite3_finalize(st);
	if (rows != NULL)
		release(rows, cnt);
	return r;
}
