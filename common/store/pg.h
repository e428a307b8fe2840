/*
 * pg.h — private to the PostgreSQL backend (store/pg*.c): its connection,
 * the lazily prepared statements and the exec / parameter / result
 * helpers. Built only when pkg-config finds libpq (CRT_HAVE_LIBPQ).
 *
 * ctx->conn is a struct store_conn * in internal.h; this backend keeps its
 * own struct pg_conn behind it (pg_c(ctx)), never the SQLite one.
 */
#ifndef CRTOKEN_STORE_PG_H
#define CRTOKEN_STORE_PG_H

#include <libpq-fe.h>
#include <stdint.h>

#include "store/port.h"

#define PG_MAX_STMTS 64
#define PG_MAX_PARAMS 24

struct pg_conn {
	PGconn *pg;       /* NULL: dropped (no answer in time), reopened from ci */
	const char *ci;   /* the conninfo it was opened with (the config's) */
	int readonly;     /* a read-only session (never writes, never migrates) */
	int in_txn;       /* a write transaction is open */
	int broken;       /* reconnect before the next statement (outside a transaction) */
	/* a writer's server session (pg_stat_activity: pid, backend_start in
	 * µs), and the one whose COMMIT went unanswered: ended on the server
	 * before the next statement, so that a read-back of the outcome is
	 * final (pg.c, lost_commit_settle) */
	int self_pid, lost_pid;
	int64_t self_start, lost_start;
	int settling;     /* lost_commit_settle's own statement is running */
	/* statements prepared on this connection, keyed by their SQL text's
	 * address (the texts are static); prepared as "s<index>" */
	const char *stmts[PG_MAX_STMTS];
	int nstmts;
};

static inline struct pg_conn *pg_c(const crt_ctx *ctx)
{
	return (struct pg_conn *)(void *)ctx->conn;
}

/* Parameters of one statement: text values (NULL = SQL NULL), integers
 * formatted into buf, bytea passed binary. */
typedef struct pg_params {
	int n;
	const char *v[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS];
	int fmt[PG_MAX_PARAMS];
	char buf[PG_MAX_PARAMS][24];
} pg_params;

void pp_text(pg_params *p, const char *s);
void pp_int(pg_params *p, int64_t i);
void pp_blob(pg_params *p, const void *b, size_t n);

/* Run the static statement sql with p (NULL: none), prepared on first use
 * on this connection. *res (when res is non-NULL) is the result, which the
 * caller PQclear()s; *changes (when non-NULL) the row count
 * (PQcmdTuples). Errors map through pg_error. */
crt_status pg_exec(crt_ctx *ctx, const char *sql, const pg_params *p, PGresult **res,
		   int64_t *changes, const char *what) __attribute__((warn_unused_result));
/* pg_exec for a statement whose text varies (a paged list's, built per
 * call: store/list_sql.h): sent unprepared, never cached by its address. */
crt_status pg_exec_once(crt_ctx *ctx, const char *sql, const pg_params *p, PGresult **res,
			const char *what) __attribute__((warn_unused_result));
/* Map a failed result (or a lost connection, res NULL) to a crt_status with
 * detail (MULTINODE.md §4.1):
 *   class 08, 57P01-57P03, 53300  store_unavailable (reconnect)
 *   40001, 40P01, 55P03, 57014    store_busy
 *   25006                         store_readonly (reconnect: a multi-host
 *                                 conninfo then finds the primary)
 *   23505                         already_exists
 *   anything else                 store_error */
crt_status pg_error(crt_ctx *ctx, PGresult *res, const char *what);

/* Result cells: integer (SQL NULL reads 0), whether NULL, a malloc'd copy
 * (NULL for SQL NULL), bytea decoded into a malloc'd buffer. */
int64_t pg_int(const PGresult *r, int row, int col);
int pg_null(const PGresult *r, int row, int col);
char *pg_strdup(const PGresult *r, int row, int col);
unsigned char *pg_bytea(const PGresult *r, int row, int col, size_t *len);
/* An array of zeroed size-byte elements, one per row of r, in *list (NULL
 * when r has no rows) and the row count in *cnt: what every list verb fills.
 * CRT_E_NOMEM when out of memory. r stays the caller's. */
crt_status pg_rows_alloc(const PGresult *r, size_t size, void *list, int *cnt);

/* --- pg_list.c: the paged list queries (store/list_sql.h) --- */
struct list_sql;
/* Run q (built with dollar = 1); *res is the caller's to PQclear(). */
crt_status pg_list_exec(crt_ctx *ctx, const struct list_sql *q, PGresult **res, const char *what)
	__attribute__((warn_unused_result));
/* Run q, a count statement: its one value in *total. */
crt_status pg_list_count(crt_ctx *ctx, const struct list_sql *q, int64_t *total)
	__attribute__((warn_unused_result));
/* Decode row i into elem (zeroed); CRT_E_NOMEM when a copy failed (elem is
 * then released with the others). */
typedef crt_status (*pg_list_row)(const PGresult *res, int i, void *elem);
typedef void (*pg_list_free)(void *list, size_t n);
/* Run the page statement q (its last column the total) into a malloc'd
 * array of size-byte elements in *(void **)out (NULL when empty; then
 * qcount gives the total). */
crt_status pg_list_page(crt_ctx *ctx, const struct list_sql *q, const struct list_sql *qcount,
			size_t size, pg_list_row row, pg_list_free release, void *out, size_t *n,
			int64_t *total, const char *what) __attribute__((warn_unused_result));

/* --- pg_schema.c --- */
/* The schema version of this build on PostgreSQL: always the SQLite one
 * (store_schema_version), checked at open. */
int pg_schema_version(void);
/* Bring the store to pg_schema_version() under pg_advisory_xact_lock (a
 * reader only checks the version). */
crt_status pg_migrate(crt_ctx *ctx);

/* --- the areas --- */
extern const struct store_token_ops pg_token_ops;
extern const struct store_otp_ops pg_otp_ops;
extern const struct store_cert_ops pg_cert_ops;
extern const struct store_apikey_ops pg_apikey_ops;
extern const struct store_audit_ops pg_audit_ops;
extern const struct store_event_ops pg_event_ops;
extern const struct store_copy_ops pg_copy_ops;
extern const struct store_request_ops pg_request_ops;
extern const struct store_pkcs12_ops pg_pkcs12_ops;
crt_status pg_audit_append(crt_ctx *ctx, int64_t at, const char *actor, const char *action,
			   const char *object, const char *detail_json);
crt_status pg_begin_write(crt_ctx *ctx);
/* sql (simple protocol, several statements allowed, no parameters) that
 * must answer COMMAND_OK, within the session's deadline like pg_exec. */
crt_status pg_simple(crt_ctx *ctx, const char *sql, const char *what)
	__attribute__((warn_unused_result));
crt_status pg_commit(crt_ctx *ctx);
void pg_rollback(crt_ctx *ctx);

#endif /* CRTOKEN_STORE_PG_H */
