/*
 * sqlite_copy.c — the SQLite backend's copy and status verbs
 * (port_copy.h): tables from sqlite_schema and PRAGMA table_info, values
 * coerced to each column's declared kind, rows in primary key order
 * (BINARY collation: byte order), one read transaction as the snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/sqlite.h"

/* Append "name" (double quotes doubled) to buf. */
static int quote_ident(char *buf, size_t cap, size_t *used, const char *name)
{
	if (*used + 1 >= cap)
		return -1;
	buf[(*used)++] = '"';
	for (const char *p = name; *p; p++) {
		if (*used + 3 >= cap)
			return -1;
		if (*p == '"')
			buf[(*used)++] = '"';
		buf[(*used)++] = *p;
	}
	buf[(*used)++] = '"';
	buf[*used] = '\0';
	return 0;
}

static int append(char *buf, size_t cap, size_t *used, const char *s)
{
	size_t n = strlen(s);
	if (*used + n + 1 > cap)
		return -1;
	memcpy(buf + *used, s, n + 1);
	*used += n;
	return 0;
}

/* The kind of a declared type, by SQLite's affinity rules; REAL and
 * NUMERIC columns are not part of crtoken's schema (-1). */
static int declared_kind(const char *decl)
{
	char up[64];
	size_t i;
	for (i = 0; decl != NULL && decl[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
	up[i] = '\0';
	if (strstr(up, "INT"))
		return COPY_INT;
	if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
		return COPY_TEXT;
	if (strstr(up, "BLOB") || up[0] == '\0')
		return COPY_BLOB;
	return -1;
}

static crt_status describe(crt_ctx *ctx, copy_table *t)
{
	char sql[256];
	size_t used = 0;
	sqlite3_stmt *st = NULL;
	copy_column *cols = NULL;
	int *pk = NULL, n = 0, cap = 0, rc;
	crt_status r = CRT_OK;

	if (append(sql, sizeof(sql), &used, "PRAGMA table_info(") != 0 ||
	    quote_ident(sql, sizeof(sql), &used, t->name) != 0 ||
	    append(sql, sizeof(sql), &used, ")") != 0)
		return ctx_fail(ctx, CRT_E_STORE, "table name too long: %s", t->name);
	if ((rc = sqlite3_prepare_v2(sq_db(ctx), sql, -1, &st, NULL)) != SQLITE_OK)
		return store_error(ctx, rc, "reading the store's columns");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int kind = declared_kind((const char *)sqlite3_column_text(st, 2));
		if (kind < 0) {
			r = ctx_fail(ctx, CRT_E_STORE, "%s.%s: type %s cannot be copied", t->name,
				     name, sqlite3_column_text(st, 2));
			goto out;
		}
		if (n == cap) {
			int nc = cap ? cap * 2 : 16;
			copy_column *c2 = realloc(cols, (size_t)nc * sizeof(*cols));
			int *p2 = c2 ? realloc(pk, (size_t)nc * sizeof(*pk)) : NULL;
			if (c2 != NULL)
				cols = c2;
			if (p2 == NULL) {
				r = CRT_E_NOMEM;
				goto out;
			}
			pk = p2;
			cap = nc;
		}
		if ((cols[n].name = strdup(name ? name : "")) == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		cols[n].kind = (copy_kind)kind;
		pk[n] = sqlite3_column_int(st, 5);
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading the store's columns");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	r = copy_table_finish(t, cols, pk, n);
	cols = NULL;
	n = 0;
out:
	sqlite3_finalize(st);
	for (int i = 0; cols != NULL && i < n; i++)
		free(cols[i].name);
	free(cols);
	free(pk);
	return r;
}

static crt_status sqc_tables(crt_ctx *ctx, copy_table **out, int *n)
{
	static const char sql[] = "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
				  "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
	sqlite3_stmt *st = NULL;
	copy_table *t = NULL;
	int cnt = 0, rc;
	crt_status r = CRT_OK;

	*out = NULL;
	*n = 0;
	if ((rc = sqlite3_prepare_v2(sq_db(ctx), sql, -1, &st, NULL)) != SQLITE_OK)
		return store_error(ctx, rc, "listing the store's tables");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		copy_table *t2 = realloc(t, (size_t)(cnt + 1) * sizeof(*t));
		if (t2 == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		t = t2;
		memset(&t[cnt], 0, sizeof(t[cnt]));
		if ((t[cnt].name = store_col_strdup(st, 0)) == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing the store's tables");
		goto out;
	}
	for (int i = 0; i < cnt; i++)
		if ((r = describe(ctx, &t[i])) != CRT_OK)
			goto out;
out:
	sqlite3_finalize(st);
	if (r != CRT_OK) {
		copy_tables_free(t, cnt);
		return r;
	}
	*out = t;
	*n = cnt;
	return CRT_OK;
}

/* SELECT every column of t FROM t ORDER BY its key (or every column). */
static crt_status select_sql(crt_ctx *ctx, const copy_table *t, const char *extra, char **out)
{
	size_t cap = 256 + strlen(t->name) * 2, used = 0;
	for (int i = 0; i < t->ncols; i++)
		cap += 2 * strlen(t->cols[i].name) + 8;
	char *sql = malloc(cap);
	int bad = sql == NULL;

	bad = bad || append(sql, cap, &used, "SELECT ") != 0;
	for (int i = 0; !bad && i < t->ncols; i++)
		bad = (i && append(sql, cap, &used, ", ") != 0) ||
		      quote_ident(sql, cap, &used, t->cols[i].name) != 0;
	bad = bad || append(sql, cap, &used, " FROM ") != 0 ||
	      quote_ident(sql, cap, &used, t->name) != 0;
	if (extra != NULL) {
		bad = bad || append(sql, cap, &used, extra) != 0;
	} else {
		int nk = t->npk > 0 ? t->npk : t->ncols;
		bad = bad || append(sql, cap, &used, " ORDER BY ") != 0;
		for (int k = 0; !bad && k < nk; k++) {
			int c = t->npk > 0 ? t->pk[k] : k;
			bad = (k && append(sql, cap, &used, ", ") != 0) ||
			      quote_ident(sql, cap, &used, t->cols[c].name) != 0;
		}
	}
	if (bad) {
		free(sql);
		return sql == NULL ? CRT_E_NOMEM : ctx_fail(ctx, CRT_E_STORE, "copy: SQL too long");
	}
	*out = sql;
	return CRT_OK;
}

static crt_status sqc_scan(crt_ctx *ctx, const copy_table *t, copy_row_fn fn, void *arg)
{
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	copy_value *v = calloc((size_t)(t->ncols > 0 ? t->ncols : 1), sizeof(*v));
	crt_status r;
	int rc;

	if (v == NULL)
		return CRT_E_NOMEM;
	if ((r = select_sql(ctx, t, NULL, &sql)) != CRT_OK)
		goto out;
	if ((rc = sqlite3_prepare_v2(sq_db(ctx), sql, -1, &st, NULL)) != SQLITE_OK) {
		r = store_error(ctx, rc, "reading a table to copy");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int c = 0; c < t->ncols; c++) {
			memset(&v[c], 0, sizeof(v[c]));
			if (sqlite3_column_type(st, c) == SQLITE_NULL)
				continue;
			v[c].kind = t->cols[c].kind;
			if (v[c].kind == COPY_INT) {
				v[c].i = sqlite3_column_int64(st, c);
			} else if (v[c].kind == COPY_TEXT) {
				v[c].p = sqlite3_column_text(st, c);
				v[c].len = (size_t)sqlite3_column_bytes(st, c);
			} else {
				v[c].p = sqlite3_column_blob(st, c);
				v[c].len = (size_t)sqlite3_column_bytes(st, c);
			}
		}
		if ((r = fn(arg, v)) != CRT_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? CRT_OK : store_error(ctx, rc, "reading a table to copy");
out:
	sqlite3_finalize(st);
	free(sql);
	free(v);
	return r;
}

static crt_status sqc_any_rows(crt_ctx *ctx, const copy_table *t, int *any)
{
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	crt_status r;
	int rc;

	*any = 0;
	if ((r = select_sql(ctx, t, " LIMIT 1", &sql)) != CRT_OK)
		return r;
	if ((rc = sqlite3_prepare_v2(sq_db(ctx), sql, -1, &st, NULL)) != SQLITE_OK) {
		r = store_error(ctx, rc, "reading the target store");
	} else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*any = 1;
	} else if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading the target store");
	}
	sqlite3_finalize(st);
	free(sql);
	return r;
}

static crt_status sqc_clear(crt_ctx *ctx, const copy_table *t)
{
	char sql[256];
	size_t used = 0;
	int rc;
	if (append(sql, sizeof(sql), &used, "DELETE FROM ") != 0 ||
	    quote_ident(sql, sizeof(sql), &used, t->name) != 0)
		return ctx_fail(ctx, CRT_E_STORE, "table name too long: %s", t->name);
	rc = sqlite3_exec(sq_db(ctx), sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CRT_OK : store_error(ctx, rc, "clearing a table");
}

static crt_status sqc_read_begin(crt_ctx *ctx)
{
	/* A deferred transaction whose first read fixes the snapshot (WAL):
	 * writers of other connections commit meanwhile, unseen. */
	int rc = sqlite3_exec(sq_db(ctx), "BEGIN DEFERRED; SELECT count(*) FROM sqlite_schema",
			      NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		crt_status r = store_error(ctx, rc, "starting the snapshot");
		if (sqlite3_get_autocommit(sq_db(ctx)) == 0)
			sqlite3_exec(sq_db(ctx), "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	return CRT_OK;
}

static void sqc_read_end(crt_ctx *ctx)
{
	if (sq_db(ctx) != NULL && sqlite3_get_autocommit(sq_db(ctx)) == 0)
		sqlite3_exec(sq_db(ctx), "ROLLBACK", NULL, NULL, NULL);
}

static crt_status sqc_load_begin(crt_ctx *ctx, const copy_table *t, void **h)
{
	size_t cap = 64 + 2 * strlen(t->name), used = 0;
	for (int i = 0; i < t->ncols; i++)
		cap += 2 * strlen(t->cols[i].name) + 8;
	char *sql = malloc(cap);
	sqlite3_stmt *st = NULL;
	int bad = sql == NULL, rc;

	*h = NULL;
	bad = bad || append(sql, cap, &used, "INSERT INTO ") != 0 ||
	      quote_ident(sql, cap, &used, t->name) != 0 || append(sql, cap, &used, " (") != 0;
	for (int i = 0; !bad && i < t->ncols; i++)
		bad = (i && append(sql, cap, &used, ", ") != 0) ||
		      quote_ident(sql, cap, &used, t->cols[i].name) != 0;
	bad = bad || append(sql, cap, &used, ") VALUES (") != 0;
	for (int i = 0; !bad && i < t->ncols; i++)
		bad = append(sql, cap, &used, i ? ", ?" : "?") != 0;
	bad = bad || append(sql, cap, &used, ")") != 0;
	if (bad) {
		free(sql);
		return sql == NULL ? CRT_E_NOMEM : ctx_fail(ctx, CRT_E_STORE, "copy: SQL too long");
	}
	rc = sqlite3_prepare_v2(sq_db(ctx), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_error(ctx, rc, "preparing the copy");
	*h = st;
	return CRT_OK;
}

static crt_status sqc_load_row(crt_ctx *ctx, void *h, const copy_value *row)
{
	sqlite3_stmt *st = h;
	int n = sqlite3_bind_parameter_count(st), rc = SQLITE_OK;

	sqlite3_reset(st);
	for (int i = 0; i < n && rc == SQLITE_OK; i++) {
		const copy_value *v = &row[i];
		if (v->kind == COPY_INT)
			rc = sqlite3_bind_int64(st, i + 1, v->i);
		else if (v->kind == COPY_TEXT)
			rc = sqlite3_bind_text(st, i + 1, v->p ? v->p : "", (int)v->len,
					       SQLITE_STATIC);
		else if (v->kind == COPY_BLOB)
			rc = sqlite3_bind_blob(st, i + 1, v->p ? v->p : "", (int)v->len,
					       SQLITE_STATIC);
		else
			rc = sqlite3_bind_null(st, i + 1);
	}
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	return rc == SQLITE_OK ? CRT_OK : store_error(ctx, rc, "loading a row");
}

static crt_status sqc_load_end(crt_ctx *ctx, const copy_table *t, void *h)
{
	(void)ctx;
	(void)t;
	sqlite3_finalize(h); /* INTEGER PRIMARY KEY goes on from the largest one */
	return CRT_OK;
}

static int64_t count_of(crt_ctx *ctx, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(sq_db(ctx), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static crt_status sqc_status(crt_ctx *ctx, crt_store_status *st)
{
	int64_t v;
	crt_status r;

	snprintf(st->backend, sizeof(st->backend), "sqlite");
	snprintf(st->location, sizeof(st->location), "%s", ctx->cfg.database);
	snprintf(st->role, sizeof(st->role), "file");
	snprintf(st->server_version, sizeof(st->server_version), "SQLite %s", sqlite3_libversion());
	st->schema_version = (int)count_of(ctx, "PRAGMA user_version");
	if ((r = ctx->ops->meta_get(ctx, "min_compatible", &v)) != CRT_OK)
		return r;
	st->min_compatible = v;
	int64_t pages = count_of(ctx, "PRAGMA page_count"), psize = count_of(ctx, "PRAGMA page_size");
	st->size_bytes = pages >= 0 && psize > 0 ? pages * psize : -1;
	st->tokens = count_of(ctx, "SELECT count(*) FROM tokens WHERE deleted_at IS NULL");
	st->certificates = count_of(ctx, "SELECT count(*) FROM certificates");
	st->revoked = count_of(ctx, "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL");
	st->otp_users = count_of(ctx, "SELECT count(*) FROM otp");
	st->api_keys = count_of(ctx, "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL");
	st->audit_rows = count_of(ctx, "SELECT count(*) FROM audit");
	return CRT_OK;
}

const struct store_copy_ops sqlite_copy_ops = {
	.tables = sqc_tables,
	.read_begin = sqc_read_begin,
	.read_end = sqc_read_end,
	.scan = sqc_scan,
	.any_rows = sqc_any_rows,
	.clear = sqc_clear,
	.load_begin = sqc_load_begin,
	.load_row = sqc_load_row,
	.load_end = sqc_load_end,
	.status = sqc_status,
};
