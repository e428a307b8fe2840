/*
 * audit.c — the audit trail: one row per state change, written inside the
 * transaction that makes the change (so both commit or neither does), plus
 * listing for the admin CLI and adapter-level events (failed logins).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "store/sqlite.h" /* until this file's SQL moves behind the port */

crt_status audit_write(crt_ctx *ctx, const char *actor, const char *action, const char *object,
		       const char *detail_json)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(
		ctx, "INSERT INTO audit(at, actor, action, object, detail) VALUES (?, ?, ?, ?, ?)",
		&st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, crt_now());
	store_bind_text(st, 2, actor ? actor : "unknown");
	store_bind_text(st, 3, action);
	store_bind_text(st, 4, object);
	store_bind_text(st, 5, detail_json);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = store_error(ctx, rc, "writing the audit row");
	store_done(st);
	return r;
}

crt_status crt_audit_event(crt_ctx *ctx, const char *actor, const char *action,
			   const char *object, const char *detail_json)
{
	crt_status r;
	crt_clear_detail(ctx);
	if (action == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "audit action missing");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = audit_write(ctx, actor, action, object, detail_json)) != CRT_OK) {
		store_rollback(ctx);
		return r;
	}
	return store_commit(ctx);
}

void crt_audit_list_free(crt_audit_row *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		free(list[i].actor);
		free(list[i].action);
		free(list[i].object);
		free(list[i].detail);
	}
	free(list);
}

crt_status crt_audit_list(crt_ctx *ctx, int limit, const char *action, crt_audit_row **out,
			  size_t *n)
{
	sqlite3_stmt *st;
	crt_audit_row *rows = NULL;
	size_t cnt = 0;
	crt_status r;
	int rc;

	crt_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	r = store_prepare(ctx,
			  "SELECT id, at, actor, action, object, detail FROM audit "
			  "WHERE ?1 IS NULL OR action = ?1 OR action LIKE ?1 || '.%' "
			  "ORDER BY id DESC LIMIT ?2",
			  &st);
	if (r != CRT_OK)
		return r;
	store_bind_text(st, 1, action);
	sqlite3_bind_int(st, 2, limit > 0 ? limit : 100);
	rows = calloc((size_t)(limit > 0 ? limit : 100), sizeof(*rows));
	if (rows == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
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
