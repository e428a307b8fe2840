/*
 * pg_audit.c — the PostgreSQL backend's audit verbs (port_audit.h): append
 * and list. The backend's own rows (store.migrate) use pg_audit_append too.
 * The action filter is literal and case-sensitive, as on SQLite (substr
 * compares bytes: the column is COLLATE "C").
 */
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/pg.h"

crt_status pg_audit_append(crt_ctx *ctx, int64_t at, const char *actor, const char *action,
			   const char *object, const char *detail_json)
{
	pg_params p = {0};
	pp_int(&p, at);
	pp_text(&p, actor);
	pp_text(&p, action);
	pp_text(&p, object);
	pp_text(&p, detail_json);
	return pg_exec(ctx,
		       "INSERT INTO audit(at, actor, action, object, detail) "
		       "VALUES ($1, $2, $3, $4, $5)",
		       &p, NULL, NULL, "writing the audit row");
}

static crt_status pg_audit_list(crt_ctx *ctx, int limit, const char *action, crt_audit_row **out,
				size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	crt_audit_row *rows;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_text(&p, action);
	pp_int(&p, limit);
	if ((r = pg_exec(ctx,
			 "SELECT id, at, actor, action, object, detail FROM audit "
			 "WHERE CAST($1 AS text) IS NULL OR action = $1"
			 " OR substr(action, 1, length($1) + 1) = $1 || '.' "
			 "ORDER BY id DESC LIMIT $2",
			 &p, &res, NULL, "listing the audit trail")) != CRT_OK)
		return r;
	if (pg_rows_alloc(res, sizeof(*rows), &rows, &cnt) != CRT_OK) {
		PQclear(res);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < cnt; i++) {
		crt_audit_row *a = &rows[i];
		a->id = pg_int(res, i, 0);
		a->at = pg_int(res, i, 1);
		a->actor = pg_strdup(res, i, 2);
		a->action = pg_strdup(res, i, 3);
		a->object = pg_strdup(res, i, 4);
		a->detail = pg_strdup(res, i, 5);
	}
	PQclear(res);
	*out = rows;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status audit_row(const PGresult *res, int i, void *elem)
{
	crt_audit_row *a = elem;
	a->id = pg_int(res, i, 0);
	a->at = pg_int(res, i, 1);
	a->actor = pg_strdup(res, i, 2);
	a->action = pg_strdup(res, i, 3);
	a->object = pg_strdup(res, i, 4);
	a->detail = pg_strdup(res, i, 5);
	return a->actor == NULL || a->action == NULL ||
		       (a->object == NULL && !pg_null(res, i, 4)) ||
		       (a->detail == NULL && !pg_null(res, i, 5))
		   ? CRT_E_NOMEM
		   : CRT_OK;
}

static void audit_free(void *list, size_t n)
{
	crt_audit_list_free(list, n);
}

static crt_status pg_audit_page(crt_ctx *ctx, const crt_audit_filter *f, const crt_page *p,
				crt_audit_row **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_audit(&q, 1, f, p, 0) != 0 || list_sql_audit(&qc, 1, f, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the audit list query did not fit");
	return pg_list_page(ctx, &q, &qc, sizeof(**out), audit_row, audit_free, out, n, total,
			    "listing the audit trail");
}

const struct store_audit_ops pg_audit_ops = {
	.append = pg_audit_append,
	.list = pg_audit_list,
	.page = pg_audit_page,
};
