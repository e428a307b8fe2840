/*
 * pg_list.c — the PostgreSQL backend runs a paged list query
 * (store/list_sql.h): sent unprepared (its text varies with the filters
 * given), its parameters as text values.
 */
#include <stdlib.h>

#include "store/list_sql.h"
#include "store/pg.h"

crt_status pg_list_exec(crt_ctx *ctx, const list_sql *q, PGresult **res, const char *what)
{
	pg_params p = {0};

	*res = NULL;
	if (q->overflow || q->n > PG_MAX_PARAMS)
		return ctx_fail(ctx, CRT_E_INTERNAL, "a list query did not fit its buffer");
	for (int i = 0; i < q->n; i++) {
		if (q->p[i].is_int)
			pp_int(&p, q->p[i].i);
		else
			pp_text(&p, q->p[i].text);
	}
	return pg_exec_once(ctx, q->sql, &p, res, what);
}

crt_status pg_list_count(crt_ctx *ctx, const list_sql *q, int64_t *total)
{
	PGresult *res;
	crt_status r;

	*total = 0;
	if ((r = pg_list_exec(ctx, q, &res, "counting a list")) != CRT_OK)
		return r;
	if (PQntuples(res) == 1)
		*total = pg_int(res, 0, 0);
	PQclear(res);
	return CRT_OK;
}

crt_status pg_list_page(crt_ctx *ctx, const list_sql *q, const list_sql *qcount, size_t size,
			pg_list_row row, pg_list_free release, void *out, size_t *n,
			int64_t *total, const char *what)
{
	PGresult *res;
	char *rows;
	crt_status r;
	int cnt, i, last;

	*(void **)out = NULL;
	*n = 0;
	*total = 0;
	if ((r = pg_list_exec(ctx, q, &res, what)) != CRT_OK)
		return r;
	last = PQnfields(res) - 1; /* the total follows the row's columns */
	if ((r = pg_rows_alloc(res, size, &rows, &cnt)) != CRT_OK) {
		PQclear(res);
		return ctx_fail(ctx, r, "out of memory");
	}
	for (i = 0; i < cnt; i++) {
		if ((r = row(res, i, rows + (size_t)i * size)) != CRT_OK)
			break;
		*total = pg_int(res, i, last);
	}
	PQclear(res);
	if (r != CRT_OK) {
		release(rows, (size_t)(i + 1));
		return ctx_fail(ctx, r, "out of memory");
	}
	if (cnt == 0 && (r = pg_list_count(ctx, qcount, total)) != CRT_OK)
		return r;
	*(void **)out = rows;
	*n = (size_t)cnt;
	return CRT_OK;
}
