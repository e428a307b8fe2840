/*
 * pg_copy.c — the PostgreSQL backend's copy and status verbs
 * (port_copy.h): tables of the current schema from the catalog, values
 * read through a cursor (a million certificates never sit in memory at
 * once), text keys ordered COLLATE "C" (byte order, as SQLite's BINARY),
 * the snapshot a REPEATABLE READ READ ONLY transaction, identity columns
 * loaded with their values and their sequences moved past them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define FETCH_ROWS "2000"
#define LOAD_STMT "crtoken_copy_load"

/* A statement built at run time (never through pg_exec, whose cache is
 * keyed by the address of static texts). */
static crt_status run(crt_ctx *ctx, const char *sql, int n, const char *const *v, const int *len,
		      const int *fmt, PGresult **out, const char *what)
{
	PGconn *pg = pg_c(ctx)->pg;
	PGresult *res;
	ExecStatusType es;

	if (out != NULL)
		*out = NULL;
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK)
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE, "%s: the connection to PostgreSQL "
							      "was lost", what);
	res = PQexecParams(pg, sql, n, NULL, v, len, fmt, 0);
	es = PQresultStatus(res);
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		crt_status r = pg_error(ctx, res, what);
		PQclear(res);
		return r;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return CRT_OK;
}

static int kind_of(const char *type)
{
	if (strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 ||
	    strcmp(type, "smallint") == 0)
		return COPY_INT;
	if (strcmp(type, "text") == 0 || strncmp(type, "character", 9) == 0)
		return COPY_TEXT;
	if (strcmp(type, "bytea") == 0)
		return COPY_BLOB;
	return -1;
}

static crt_status describe(crt_ctx *ctx, copy_table *t, const char *oid)
{
	static const char q[] =
		"SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
		" COALESCE((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY k(att, n)"
		"  WHERE k.att = a.attnum), 0)"
		" FROM pg_attribute a LEFT JOIN pg_index i"
		"  ON i.indrelid = a.attrelid AND i.indisprimary"
		" WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped";
	pg_params p = {0};
	PGresult *res;
	copy_column *cols = NULL;
	int *pk = NULL, n;
	crt_status r;

	pp_text(&p, oid);
	if ((r = pg_exec(ctx, q, &p, &res, NULL, "reading the store's columns")) != CRT_OK)
		return r;
	n = PQntuples(res);
	if ((cols = calloc((size_t)(n > 0 ? n : 1), sizeof(*cols))) == NULL ||
	    (pk = calloc((size_t)(n > 0 ? n : 1), sizeof(*pk))) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int kind = kind_of(PQgetvalue(res, i, 1));
		if (kind < 0) {
			r = ctx_fail(ctx, CRT_E_STORE, "%s.%s: type %s cannot be copied", t->name,
				     PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
			goto out;
		}
		if ((cols[i].name = pg_strdup(res, i, 0)) == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		cols[i].kind = (copy_kind)kind;
		pk[i] = (int)pg_int(res, i, 2);
	}
	r = copy_table_finish(t, cols, pk, n);
	cols = NULL;
out:
	for (int i = 0; cols != NULL && i < n; i++)
		free(cols[i].name);
	free(cols);
	free(pk);
	PQclear(res);
	return r;
}

static crt_status pgc_tables(crt_ctx *ctx, copy_table **out, int *n)
{
	static const char q[] = "SELECT c.oid::text, c.relname FROM pg_class c"
				" JOIN pg_namespace s ON s.oid = c.relnamespace"
				" WHERE c.relkind IN ('r', 'p') AND s.nspname = current_schema()"
				" ORDER BY c.relname COLLATE \"C\"";
	PGresult *res;
	copy_table *t;
	int cnt;
	crt_status r;

	*out = NULL;
	*n = 0;
	if ((r = pg_exec(ctx, q, NULL, &res, NULL, "listing the store's tables")) != CRT_OK)
		return r;
	cnt = PQntuples(res);
	if ((t = calloc((size_t)(cnt > 0 ? cnt : 1), sizeof(*t))) == NULL) {
		PQclear(res);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < cnt && r == CRT_OK; i++) {
		if ((t[i].name = pg_strdup(res, i, 1)) == NULL)
			r = CRT_E_NOMEM;
		else
			r = describe(ctx, &t[i], PQgetvalue(res, i, 0));
	}
	PQclear(res);
	if (r != CRT_OK) {
		copy_tables_free(t, cnt);
		return r;
	}
	*out = t;
	*n = cnt;
	return CRT_OK;
}

/* A growing SQL text; on failure it is freed and set to NULL. */
typedef struct sqlbuf {
	char *s;
	size_t len, cap;
} sqlbuf;

static void put(sqlbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->s == NULL && b->cap != 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char *s2 = realloc(b->s, nc);
		if (s2 == NULL) {
			free(b->s);
			b->s = NULL;
			b->cap = 1;
			return;
		}
		b->s = s2;
		b->cap = nc;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static void put_ident(sqlbuf *b, PGconn *pg, const char *name)
{
	char *q = PQescapeIdentifier(pg, name, strlen(name));
	if (q == NULL) {
		free(b->s);
		b->s = NULL;
		b->cap = 1;
		return;
	}
	put(b, q);
	PQfreemem(q);
}

static char *select_sql(crt_ctx *ctx, const copy_table *t, const char *head, const char *tail)
{
	PGconn *pg = pg_c(ctx)->pg;
	sqlbuf b = {0};
	int nk = t->npk > 0 ? t->npk : t->ncols;

	put(&b, head);
	put(&b, "SELECT ");
	for (int i = 0; i < t->ncols; i++) {
		if (i)
			put(&b, ", ");
		put_ident(&b, pg, t->cols[i].name);
	}
	put(&b, " FROM ");
	put_ident(&b, pg, t->name);
	if (tail != NULL) {
		put(&b, tail);
		return b.s;
	}
	put(&b, " ORDER BY ");
	for (int k = 0; k < nk; k++) {
		int c = t->npk > 0 ? t->pk[k] : k;
		if (k)
			put(&b, ", ");
		put_ident(&b, pg, t->cols[c].name);
		if (t->cols[c].kind == COPY_TEXT)
			put(&b, " COLLATE \"C\"");
		put(&b, " NULLS FIRST"); /* SQLite's order */
	}
	return b.s;
}

static crt_status emit_rows(crt_ctx *ctx, const copy_table *t, PGresult *res, copy_value *v,
			    copy_row_fn fn, void *arg)
{
	crt_status r = CRT_OK;
	for (int row = 0; row < PQntuples(res) && r == CRT_OK; row++) {
		unsigned char *blobs[COPY_MAX_COLS];
		for (int c = 0; c < t->ncols; c++) {
			blobs[c] = NULL;
			memset(&v[c], 0, sizeof(v[c]));
			if (PQgetisnull(res, row, c))
				continue;
			v[c].kind = t->cols[c].kind;
			if (v[c].kind == COPY_INT) {
				v[c].i = strtoll(PQgetvalue(res, row, c), NULL, 10);
			} else if (v[c].kind == COPY_TEXT) {
				v[c].p = PQgetvalue(res, row, c);
				v[c].len = (size_t)PQgetlength(res, row, c);
			} else {
				size_t n = 0;
				blobs[c] = PQunescapeBytea(
					(const unsigned char *)PQgetvalue(res, row, c), &n);
				if (blobs[c] == NULL)
					r = CRT_E_NOMEM;
				v[c].p = blobs[c];
				v[c].len = n;
			}
		}
		if (r == CRT_OK)
			r = fn(arg, v);
		for (int c = 0; c < t->ncols; c++)
			if (blobs[c] != NULL) {
				memset(blobs[c], 0, v[c].len); /* OTP secrets are sealed, still */
				PQfreemem(blobs[c]);
			}
	}
	return r;
}

static crt_status pgc_scan(crt_ctx *ctx, const copy_table *t, copy_row_fn fn, void *arg)
{
	char *sql = select_sql(ctx, t, "DECLARE crtoken_copy NO SCROLL CURSOR FOR ", NULL);
	copy_value *v = calloc((size_t)(t->ncols > 0 ? t->ncols : 1), sizeof(*v));
	PGresult *res = NULL;
	int own_txn = 0;
	crt_status r;

	if (sql == NULL || v == NULL) {
		free(sql);
		free(v);
		return CRT_E_NOMEM;
	}
	/* A cursor lives in a transaction: a scan outside one gets its own. */
	if (PQtransactionStatus(pg_c(ctx)->pg) == PQTRANS_IDLE) {
		if ((r = run(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL,
			     NULL, NULL, "reading a table to copy")) != CRT_OK)
			goto out;
		own_txn = 1;
	}
	if ((r = run(ctx, sql, 0, NULL, NULL, NULL, NULL, "reading a table to copy")) != CRT_OK)
		goto out;
	for (;;) {
		if ((r = run(ctx, "FETCH " FETCH_ROWS " FROM crtoken_copy", 0, NULL, NULL,
			     NULL, &res, "reading a table to copy")) != CRT_OK)
			goto out;
		if (PQntuples(res) == 0)
			break;
		if ((r = emit_rows(ctx, t, res, v, fn, arg)) != CRT_OK)
			goto out;
		PQclear(res);
		res = NULL;
	}
	r = run(ctx, "CLOSE crtoken_copy", 0, NULL, NULL, NULL, NULL, "reading a table to copy");
out:
	if (own_txn)
		PQclear(PQexec(pg_c(ctx)->pg, "ROLLBACK"));
	PQclear(res);
	free(sql);
	free(v);
	return r;
}

static crt_status pgc_any_rows(crt_ctx *ctx, const copy_table *t, int *any)
{
	char *sql = select_sql(ctx, t, "", " LIMIT 1");
	PGresult *res;
	crt_status r;

	*any = 0;
	if (sql == NULL)
		return CRT_E_NOMEM;
	r = run(ctx, sql, 0, NULL, NULL, NULL, &res, "reading the target store");
	free(sql);
	if (r == CRT_OK) {
		*any = PQntuples(res) > 0;
		PQclear(res);
	}
	return r;
}

static crt_status pgc_clear(crt_ctx *ctx, const copy_table *t)
{
	sqlbuf b = {0};
	crt_status r;
	put(&b, "DELETE FROM ");
	put_ident(&b, pg_c(ctx)->pg, t->name);
	if (b.s == NULL)
		return CRT_E_NOMEM;
	r = run(ctx, b.s, 0, NULL, NULL, NULL, NULL, "clearing a table");
	free(b.s);
	return r;
}

static crt_status pgc_read_begin(crt_ctx *ctx)
{
	struct pg_conn *c = pg_c(ctx);
	crt_status r = run(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL,
			   NULL, NULL, "starting the snapshot");
	if (r == CRT_OK)
		c->in_txn = 1; /* no silent reconnect inside the snapshot */
	return r;
}

static void pgc_read_end(crt_ctx *ctx)
{
	pg_rollback(ctx);
}

/* Rows go out in libpq's pipeline mode: up to PIPE_ROWS inserts in flight
 * before one sync collects their answers (one round trip per batch, not
 * per row). */
#define PIPE_ROWS 1000

typedef struct pg_load {
	int n;
	const copy_table *t;
	int pending;      /* inserts sent since the last sync */
	crt_status first; /* the first failure of the load (CRT_OK so far) */
} pg_load;

/* Send a sync and read every answer up to it; the first error wins. */
static crt_status pipe_sync(crt_ctx *ctx, pg_load *ld)
{
	PGconn *pg = pg_c(ctx)->pg;
	PGresult *res;

	if (PQpipelineSync(pg) != 1)
		return ld->first != CRT_OK ? ld->first : pg_error(ctx, NULL, "loading rows");
	for (;;) {
		res = PQgetResult(pg);
		if (res == NULL) { /* the end of one query's results */
			if (PQstatus(pg) != CONNECTION_OK) {
				if (ld->first == CRT_OK)
					ld->first = pg_error(ctx, NULL, "loading rows");
				break;
			}
			continue;
		}
		ExecStatusType es = PQresultStatus(res);
		if (es == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (es != PGRES_COMMAND_OK && es != PGRES_PIPELINE_ABORTED && ld->first == CRT_OK)
			ld->first = pg_error(ctx, res, "loading a row");
		PQclear(res);
		if (PQstatus(pg) != CONNECTION_OK) {
			if (ld->first == CRT_OK)
				ld->first = pg_error(ctx, NULL, "loading rows");
			break;
		}
	}
	ld->pending = 0;
	return ld->first;
}

static crt_status pgc_load_begin(crt_ctx *ctx, const copy_table *t, void **h)
{
	PGconn *pg = pg_c(ctx)->pg;
	sqlbuf b = {0};
	char num[16];
	pg_load *ld;
	PGresult *res;
	crt_status r = CRT_OK;

	*h = NULL;
	put(&b, "INSERT INTO ");
	put_ident(&b, pg, t->name);
	put(&b, " (");
	for (int i = 0; i < t->ncols; i++) {
		if (i)
			put(&b, ", ");
		put_ident(&b, pg, t->cols[i].name);
	}
	put(&b, ") OVERRIDING SYSTEM VALUE VALUES (");
	for (int i = 0; i < t->ncols; i++) {
		snprintf(num, sizeof(num), "%s$%d", i ? ", " : "", i + 1);
		put(&b, num);
	}
	put(&b, ")");
	if (b.s == NULL || (ld = calloc(1, sizeof(*ld))) == NULL) {
		free(b.s);
		return CRT_E_NOMEM;
	}
	res = PQprepare(pg, LOAD_STMT, b.s, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pg_error(ctx, res, "preparing the copy");
	PQclear(res);
	free(b.s);
	if (r != CRT_OK) {
		free(ld);
		return r;
	}
	ld->n = t->ncols;
	ld->t = t;
	ld->first = CRT_OK;
	if (PQenterPipelineMode(pg) != 1) {
		free(ld);
		PQclear(PQexec(pg, "DEALLOCATE " LOAD_STMT));
		return ctx_fail(ctx, CRT_E_STORE, "the PostgreSQL connection cannot pipeline");
	}
	*h = ld;
	return CRT_OK;
}

static crt_status pgc_load_row(crt_ctx *ctx, void *h, const copy_value *row)
{
	pg_load *ld = h;
	const char *v[COPY_MAX_COLS];
	int len[COPY_MAX_COLS], fmt[COPY_MAX_COLS];
	char nums[COPY_MAX_COLS][24];
	PGresult *res;
	crt_status r = CRT_OK;

	for (int i = 0; i < ld->n; i++) {
		v[i] = NULL;
		len[i] = 0;
		fmt[i] = 0;
		if (row[i].kind == COPY_INT) {
			snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)row[i].i);
			v[i] = nums[i];
		} else if (row[i].kind != COPY_NULL) {
			/* text and bytea both travel as their raw bytes (binary) */
			v[i] = row[i].p ? row[i].p : "";
			len[i] = (int)row[i].len;
			fmt[i] = 1;
		}
	}
	(void)res;
	if (ld->first != CRT_OK)
		return ld->first;
	if (PQsendQueryPrepared(pg_c(ctx)->pg, LOAD_STMT, ld->n, v, len, fmt, 0) != 1)
		return ld->first = pg_error(ctx, NULL, "sending a row");
	if (++ld->pending >= PIPE_ROWS)
		r = pipe_sync(ctx, ld);
	return r;
}

/* Move every identity sequence of t past the largest value loaded. */
static crt_status pgc_load_end(crt_ctx *ctx, const copy_table *t, void *h)
{
	static const char q[] = "SELECT a.attname FROM pg_attribute a"
				" JOIN pg_class c ON c.oid = a.attrelid"
				" JOIN pg_namespace s ON s.oid = c.relnamespace"
				" WHERE s.nspname = current_schema() AND c.relname = $1"
				" AND a.attidentity <> ''";
	PGconn *pg = pg_c(ctx)->pg;
	pg_params p = {0};
	PGresult *res = NULL;
	crt_status r;

	pg_load *ld = h;
	if (ld == NULL)
		return CRT_OK;
	r = pipe_sync(ctx, ld);
	PQexitPipelineMode(pg);
	free(ld);
	PQclear(PQexec(pg, "DEALLOCATE " LOAD_STMT));
	if (r != CRT_OK)
		return r;
	pp_text(&p, t->name);
	if ((r = pg_exec(ctx, q, &p, &res, NULL, "reading identity columns")) != CRT_OK)
		return r;
	for (int i = 0; i < PQntuples(res) && r == CRT_OK; i++) {
		sqlbuf b = {0};
		const char *col = PQgetvalue(res, i, 0);
		char *lit = PQescapeLiteral(pg, t->name, strlen(t->name));
		char *clit = PQescapeLiteral(pg, col, strlen(col));
		put(&b, "SELECT setval(pg_get_serial_sequence(quote_ident(current_schema()) || '.' "
			"|| quote_ident(");
		put(&b, lit ? lit : "''");
		put(&b, "), ");
		put(&b, clit ? clit : "''");
		put(&b, "), COALESCE((SELECT max(");
		put_ident(&b, pg, col);
		put(&b, ") FROM ");
		put_ident(&b, pg, t->name);
		put(&b, "), 0) + 1, false)");
		PQfreemem(lit);
		PQfreemem(clit);
		r = b.s == NULL || lit == NULL || clit == NULL
			    ? CRT_E_NOMEM
			    : run(ctx, b.s, 0, NULL, NULL, NULL, NULL, "moving an identity sequence");
		free(b.s);
	}
	PQclear(res);
	return r;
}

static int64_t count_of(crt_ctx *ctx, const char *sql)
{
	PGresult *res;
	int64_t n = -1;
	if (pg_exec(ctx, sql, NULL, &res, NULL, "counting rows") != CRT_OK)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		n = pg_int(res, 0, 0);
	PQclear(res);
	return n;
}

static crt_status replication(crt_ctx *ctx, crt_store_status *st)
{
	static const char q[] =
		"SELECT COALESCE(application_name, ''), COALESCE(client_addr::text, 'local'),"
		" COALESCE(state, '?'), COALESCE(sync_state, '?'),"
		" COALESCE((extract(epoch FROM replay_lag) * 1000)::bigint::text, '-')"
		" FROM pg_stat_replication ORDER BY 1, 2";
	PGresult *res;
	crt_status r;
	size_t used = 0;

	if ((r = pg_exec(ctx, q, NULL, &res, NULL, "reading pg_stat_replication")) != CRT_OK)
		return r;
	st->standbys = PQntuples(res);
	st->sync_standbys = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *sync = PQgetvalue(res, i, 3);
		if (strcmp(sync, "sync") == 0 || strcmp(sync, "quorum") == 0)
			st->sync_standbys++;
		if (used < sizeof(st->standby_detail))
			used += (size_t)snprintf(st->standby_detail + used,
						 sizeof(st->standby_detail) - used,
						 "%s %s %s %s lag_ms=%s\n", PQgetvalue(res, i, 0),
						 PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), sync,
						 PQgetvalue(res, i, 4));
	}
	PQclear(res);
	return CRT_OK;
}

static crt_status pgc_status(crt_ctx *ctx, crt_store_status *st)
{
	PGconn *pg = pg_c(ctx)->pg;
	const char *ver = PQparameterStatus(pg, "server_version");
	int64_t v;
	crt_status r;

	snprintf(st->backend, sizeof(st->backend), "postgresql");
	snprintf(st->location, sizeof(st->location), "%s:%s/%s", PQhost(pg), PQport(pg), PQdb(pg));
	snprintf(st->server_version, sizeof(st->server_version), "PostgreSQL %s",
		 ver ? ver : "?");
	if ((r = ctx->ops->meta_get(ctx, "schema_version", &v)) != CRT_OK)
		return r;
	st->schema_version = (int)v;
	if ((r = ctx->ops->meta_get(ctx, "min_compatible", &v)) != CRT_OK)
		return r;
	st->min_compatible = v;
	st->size_bytes = count_of(ctx, "SELECT pg_database_size(current_database())");
	if (count_of(ctx, "SELECT pg_is_in_recovery()::int") == 1) {
		snprintf(st->role, sizeof(st->role), "standby");
		st->replay_lag_ms = count_of(
			ctx, "SELECT (extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
			     " * 1000)::bigint");
	} else {
		snprintf(st->role, sizeof(st->role), "primary");
		if ((r = replication(ctx, st)) != CRT_OK)
			return r;
	}
	st->tokens = count_of(ctx, "SELECT count(*) FROM tokens WHERE deleted_at IS NULL");
	st->certificates = count_of(ctx, "SELECT count(*) FROM certificates");
	st->revoked = count_of(ctx, "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL");
	st->otp_users = count_of(ctx, "SELECT count(*) FROM otp");
	st->api_keys = count_of(ctx, "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL");
	st->audit_rows = count_of(ctx, "SELECT count(*) FROM audit");
	return CRT_OK;
}

const struct store_copy_ops pg_copy_ops = {
	.tables = pgc_tables,
	.read_begin = pgc_read_begin,
	.read_end = pgc_read_end,
	.scan = pgc_scan,
	.any_rows = pgc_any_rows,
	.clear = pgc_clear,
	.load_begin = pgc_load_begin,
	.load_row = pgc_load_row,
	.load_end = pgc_load_end,
	.status = pgc_status,
};
