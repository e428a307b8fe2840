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
