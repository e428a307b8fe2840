/*
 * sqlite_audit.c — the SQLite backend's audit verbs (port_audit.h): append,
 * list and page. The backend's own rows (store.migrate) use sq_audit_append too.
 */
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/sqlite.h"

crt_status sq_audit_append(crt_ctx *ctx, int64_t at, const char *actor, const char *action,
			   const char *object, const char *detail_json)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(
		ctx, "INSERT INTO audit(at, actor, action, object, detail) VALUES (?, ?, ?, ?, ?)",
		&st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, at);
	store_bind_text(st, 2, actor);
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, object);
	store_bind_text(st, 5, detail_json);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = store_error(ctx, rc, "writing the audit row");
	store_done(st);
	return r;
}

/*
 * The action filter is case-sensitive and literal on purpose (MULTINODE.md
 * §1.2): SQLite's LIKE folds ASCII case and PostgreSQL's does not, and both
 * read % and _ in the pattern as wildcards. substr() compares the prefix
 * byte for byte on either engine; the audit_action index still serves the
 * exact match.
 */
static crt_status sq_audit_list(crt_ctx *ctx, int limit, const char *action, crt_audit_row **out,
				size_t *n)
{
	sqlite3_stmt *st;
	crt_audit_row *rows = NULL;
	size_t cnt = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	r = store_prepare(ctx,
			  "SELECT id, at, actor, action, object, detail FROM audit "
			  "WHERE ?1 IS NULL OR action = ?1"
			  " OR substr(action, 1, length(?1) + 1) = ?1 || '.' "
			  "ORDER BY id DESC LIMIT ?2",
			  &st);
	if (r != CRT_OK)
		return r;
	store_bind_text(st, 1, action);
	sqlite3_bind_int(st, 2, limit);
	if ((rows = calloc((size_t)limit, sizeof(*rows))) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) { /* LIMIT ?2: at most limit rows */
		crt_audit_row *a = &rows[cnt++];
		a->id = sqlite3_column_int64(st, 0);
		a->at = sqlite3_column_int64(st, 1);
		a->actor = store_col_strdup(st, 2);
		a->action = store_col_strdup(st, 3);
		a->object = store_col_strdup(st, 4);
		a->detail = store_col_strdup(st, 5);
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing the audit trail");
		goto out;
	}
	*out = rows;
	*n = cnt;
	rows = NULL;
out:
	store_done(st);
	crt_audit_list_free(rows, cnt);
	return r;
}

static crt_status audit_row(sqlite3_stmt *st, void *elem)
{
	crt_audit_row *a = elem;
	a->id = sqlite3_column_int64(st, 0);
	a->at = sqlite3_column_int64(st, 1);
	a->actor = store_col_strdup(st, 2);
	a->action = store_col_strdup(st, 3);
	a->object = store_col_strdup(st, 4);
	a->detail = store_col_strdup(st, 5);
	return a->actor == NULL || a->action == NULL ||
		       (a->object == NULL && sqlite3_column_type(st, 4) != SQLITE_NULL) ||
		       (a->detail == NULL && sqlite3_column_type(st, 5) != SQLITE_NULL)
		   ? CRT_E_NOMEM
		   : CRT_OK;
}

static void audit_free(void *list, size_t n)
{
	crt_audit_list_free(list, n);
}

static crt_status sq_audit_page(crt_ctx *ctx, const crt_audit_filter *f, const crt_page *p,
				crt_audit_row **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_audit(&q, 0, f, p, 0) != 0 || list_sql_audit(&qc, 0, f, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the audit list query did not fit");
	return sq_list_page(ctx, &q, &qc, sizeof(**out), p->size, audit_row, audit_free, out, n,
			    total, "listing the audit trail");
}

const struct store_audit_ops sqlite_audit_ops = {
	.append = sq_audit_append,
	.list = sq_audit_list,
	.page = sq_audit_page,
};
