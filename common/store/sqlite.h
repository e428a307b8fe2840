/*
 * sqlite.h — private to the SQLite backend (store/sqlite*.c): its
 * connection, prepared-statement cache and helpers. Nothing outside
 * common/store/ includes this header.
 */
#ifndef CRTOKEN_STORE_SQLITE_H
#define CRTOKEN_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/port.h"

struct store_shared; /* sqlite_commit.c: the writers of one store in one instance */

struct store_conn {
	sqlite3 *db;
	int in_txn;               /* a write transaction is open */
	int64_t busy_since_us;    /* when the current wait for the write lock began */
	int busy_timeout_ms;
	struct store_shared *shared; /* NULL on a read-only connection */
	/* prepared statement cache, keyed by SQL text (see store_prepare) */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[96];
	int nstmts;
};

static inline sqlite3 *sq_db(const crt_ctx *ctx)
{
	return ctx->conn != NULL ? ctx->conn->db : NULL;
}

/* --- sqlite_schema.c --- */
/* The schema version this build migrates stores to, and the SQL of the
 * migration from version v to v + 1 (NULL beyond; tests build old stores). */
int store_schema_version(void);
const char *store_migration_sql(int v);
/* 1 when migration v needs the certificate key ids back-filled after it. */
int store_migration_backfills_keys(int v);

/* --- sqlite.c --- */
/* Prepared statement from the connection's cache (sqlite3_prepare_v3 with
 * SQLITE_PREPARE_PERSISTENT); the caller must sqlite3_reset() when done
 * (store_done does reset + clear bindings). */
crt_status store_prepare(crt_ctx *ctx, const char *sql, sqlite3_stmt **st)
	__attribute__((warn_unused_result));
void store_done(sqlite3_stmt *st);
/* Map a SQLite result code to a crt_status, setting detail. */
crt_status store_error(crt_ctx *ctx, int rc, const char *what) CRT_MUST_CHECK;
/* Bind helpers: NULL text binds SQL NULL. */
int store_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text as a malloc'd copy, NULL for SQL NULL. */
char *store_col_strdup(sqlite3_stmt *st, int i);

/* --- sqlite_certs.c, sqlite_audit.c (the areas' verb tables) --- */
extern const struct store_cert_ops sqlite_cert_ops;
extern const struct store_audit_ops sqlite_audit_ops;
extern const struct store_otp_ops sqlite_otp_ops;
extern const struct store_apikey_ops sqlite_apikey_ops;
extern const struct store_event_ops sqlite_event_ops;
extern const struct store_copy_ops sqlite_copy_ops;
extern const struct store_request_ops sqlite_request_ops;
extern const struct store_pkcs12_ops sqlite_pkcs12_ops;
/* Fill ski, aki and cert_sha256 of every stored certificate that lacks them
 * from its PEM (migration; inside the migration transaction). */
crt_status sq_cert_backfill_keys(crt_ctx *ctx) CRT_MUST_CHECK;
/* The backend's own audit rows (store.migrate) and the audit verb. */
crt_status sq_audit_append(crt_ctx *ctx, int64_t at, const char *actor, const char *action,
			   const char *object, const char *detail_json) CRT_MUST_CHECK;

/* --- sqlite_list.c: the paged list queries (store/list_sql.h) --- */
struct list_sql;
/* q prepared (not cached: the caller sqlite3_finalize()s *st) and bound. */
crt_status sq_list_prepare(crt_ctx *ctx, const struct list_sql *q, sqlite3_stmt **st)
	CRT_MUST_CHECK;
/* Run q, a count statement: its one value in *total. */
crt_status sq_list_count(crt_ctx *ctx, const struct list_sql *q, int64_t *total) CRT_MUST_CHECK;
/* Decode one row into elem (zeroed); CRT_E_NOMEM when a copy failed (elem
 * is then released with the others). */
typedef crt_status (*sq_list_row)(sqlite3_stmt *st, void *elem);
typedef void (*sq_list_free)(void *list, size_t n);
/* Run the page statement q (its last column the total) into a malloc'd
 * array of at most max elements of size bytes in *(void **)out (NULL when
 * empty; then qcount gives the total). */
crt_status sq_list_page(crt_ctx *ctx, const struct list_sql *q, const struct list_sql *qcount,
			size_t size, int max, sq_list_row row, sq_list_free release, void *out,
			size_t *n, int64_t *total, const char *what) CRT_MUST_CHECK;

/* --- sqlite_commit.c --- */
/* The writer state of ctx's store, from ctx's instance (made on first use). */
crt_status store_shared_attach(crt_ctx *ctx) CRT_MUST_CHECK;
void store_writer_lock(crt_ctx *ctx);
void store_writer_unlock(crt_ctx *ctx);
/* The redeem verb: queue r and return once a batch committed (or refused)
 * it; r's answers are set (port_tokens.h). */
crt_status sq_group_commit(crt_ctx *ctx, store_redemption *r) __attribute__((warn_unused_result));
/* How many redemptions wait in the queue of ctx's store and whether a
 * leader is committing a batch (lets tests order racing redemptions
 * without sleeps). */
void group_commit_state(crt_ctx *ctx, int *queued, int *leading);

/* --- sqlite_tokens.c --- */
extern const struct store_token_ops sqlite_token_ops;
/* Inside the batch transaction: one redemption in its own SAVEPOINT, all or
 * nothing; sets j's answers. Returns non-OK only when the transaction
 * itself is lost (a savepoint statement failed): the batch must roll back. */
crt_status sq_redeem_in_txn(crt_ctx *ctx, store_redemption *j)
	__attribute__((warn_unused_result));

#endif /* CRTOKEN_STORE_SQLITE_H */
