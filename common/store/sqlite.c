/*
 * sqlite.c — the SQLite backend of the storage port: opening with safe
 * permissions and pragmas (WAL, foreign keys, busy timeout, durability),
 * running the migrations of sqlite_schema.c, write transactions and the
 * per-connection prepared statement cache.
 */
#define _GNU_SOURCE /* O_PATH */
#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite.h"

crt_status store_error(crt_ctx *ctx, int rc, const char *what)
{
	crt_status s;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		s = CRT_E_STORE_BUSY;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_FULL:
		s = CRT_E_STORE_UNAVAILABLE;
		break;
	case SQLITE_NOMEM:
		s = CRT_E_NOMEM;
		break;
	default:
		s = CRT_E_STORE;
	}
	return ctx_fail(ctx, s, "%s: %s", what,
			sq_db(ctx) ? sqlite3_errmsg(sq_db(ctx)) : sqlite3_errstr(rc));
}

static crt_status sq_begin_write(crt_ctx *ctx);
static crt_status sq_commit(crt_ctx *ctx);
static void sq_rollback(crt_ctx *ctx);

static crt_status exec(crt_ctx *ctx, const char *sql)
{
	int rc = sqlite3_exec(ctx->conn->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CRT_OK : store_error(ctx, rc, "store");
}

static crt_status user_version(crt_ctx *ctx, int *v)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ctx->conn->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? CRT_OK : store_error(ctx, rc, "reading schema version");
}

/* A store of a newer schema v: usable unless its min_compatible is beyond
 * what this build knows (sqlite_schema.c, "Compatibility"). */
static crt_status newer_store(crt_ctx *ctx, int v)
{
	sqlite3_stmt *st = NULL;
	int64_t min = v; /* no row: assume the worst */
	int rc = sqlite3_prepare_v2(sq_db(ctx), "SELECT value FROM meta WHERE key = 'min_compatible'",
				    -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		min = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(ctx, rc, "reading min_compatible");
	if (min <= store_schema_version())
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_STORE_VERSION,
			"%s has schema %d, usable from version %lld on; this build knows %d",
			ctx->cfg.database, v, (long long)min, store_schema_version());
}

static crt_status migrate(crt_ctx *ctx)
{
	crt_status r;
	int v;
	char sql[64];

	if ((r = user_version(ctx, &v)) != CRT_OK)
		return r;
	if (v == store_schema_version())
		return CRT_OK;
	if (v > store_schema_version())
		return newer_store(ctx, v);
	if (ctx->flags & CRT_OPEN_READONLY)
		return ctx_fail(ctx, CRT_E_STORE_VERSION,
				"%s has schema %d and needs migrating to %d (run crtoken-admin)",
				ctx->cfg.database, v, store_schema_version());
	if ((r = sq_begin_write(ctx)) != CRT_OK)
		return r;
	/* Re-read under the write lock: another process may have migrated. */
	if ((r = user_version(ctx, &v)) != CRT_OK)
		goto fail;
	for (; v < store_schema_version(); v++) {
		if ((r = exec(ctx, store_migration_sql(v))) != CRT_OK)
			goto fail;
		if (store_migration_backfills_keys(v) && (r = sq_cert_backfill_keys(ctx)) != CRT_OK)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((r = exec(ctx, sql)) != CRT_OK)
			goto fail;
	}
	if ((r = sq_audit_append(ctx, crt_now(), "crtoken", "store.migrate", ctx->cfg.database,
				 NULL)) != CRT_OK)
		goto fail;
	return sq_commit(ctx);
fail:
	sq_rollback(ctx);
	return r;
}

/* -wal and -shm beside the store hold its newest pages: the same rule as
 * the store. Missing is fine (SQLite creates them in the checked directory). */
static crt_status check_side_files(crt_ctx *ctx, const char *db)
{
	static const char *const sfx[] = {"-wal", "-shm"};
	char side[PATH_MAX + 8], why[600];
	int fd;
	crt_status r;

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", db, sfx[i]);
		r = open_trusted(side, O_PATH | O_NOFOLLOW, CRT_TRUST_STORE, &fd, why,
				     sizeof(why));
		if (r == CRT_E_IO && errno == ENOENT)
			continue;
		if (r != CRT_OK)
			return ctx_fail(ctx, r == CRT_E_IO ? CRT_E_STORE_UNAVAILABLE : r, "%s", why);
		close(fd);
	}
	return CRT_OK;
}

/*
 * SQLite opens the store by path. So that the file it opens is the one we
 * checked: the directory chain must be trusted (no one else can rename or
 * replace entries there — dir_chain_trusted), the path handed to
 * SQLite is the resolved one, the file itself is opened without following
 * a symlink and checked on that descriptor, and after SQLite opened it the
 * path must still name that same inode. The descriptor is returned in *fd
 * (kept open until then, so the inode cannot be reused). Descriptors on the
 * store's files are O_PATH: closing an ordinary one would drop every POSIX
 * lock this process's other connections hold on the file (fcntl(2)).
 */
static crt_status check_store_file(crt_ctx *ctx, char resolved[PATH_MAX], int *fd)
{
	const char *path = ctx->cfg.database;
	char dir[PATH_MAX], rdir[PATH_MAX], why[600];
	const char *base, *slash = strrchr(path, '/');
	crt_status r;

	*fd = -1;
	if (slash == NULL) { /* config paths are absolute; be safe anyway */
		snprintf(dir, sizeof(dir), ".");
		base = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
		base = slash + 1;
	}
	if (*base == '\0')
		return ctx_fail(ctx, CRT_E_CONFIG, "[store] database %s names a directory", path);
	if ((r = dir_chain_trusted(dir, rdir, why, sizeof(why))) != CRT_OK)
		return ctx_fail(ctx, r == CRT_E_IO ? CRT_E_STORE_UNAVAILABLE : r, "store: %s", why);
	if ((size_t)snprintf(resolved, PATH_MAX, "%s/%s", strcmp(rdir, "/") ? rdir : "", base) >=
	    PATH_MAX)
		return ctx_fail(ctx, CRT_E_CONFIG, "%s: path too long", path);
	r = open_trusted(resolved, O_PATH | O_NOFOLLOW, CRT_TRUST_STORE, fd, why, sizeof(why));
	if (r != CRT_OK)
		return ctx_fail(ctx, r == CRT_E_IO ? CRT_E_STORE_UNAVAILABLE : r, "%s", why);
	return check_side_files(ctx, resolved);
}

/* After SQLite opened path: is it still the inode we checked on fd? */
static crt_status same_store_file(crt_ctx *ctx, const char *path, int fd)
{
	struct stat a, b;
	if (fstat(fd, &a) != 0 || lstat(path, &b) != 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)
		return ctx_fail(ctx, CRT_E_UNSAFE_PERMISSIONS,
				"%s changed while it was being opened", path);
	return CRT_OK;
}

/*
 * Waiting for another process's write lock. SQLite's own busy timeout
 * sleeps 1, 2, 5, 10 ... 100 ms between tries, far longer than our write
 * transactions hold the lock (about a millisecond), so two processes that
 * write together (crtokend and its PAM module's copy of libcrtoken, or the
 * admin CLI) would see tens of milliseconds of idle waiting. Poll briefly
 * first, then back off to 2 ms, up to busy_timeout_ms in all.
 */
static int busy_wait(void *arg, int count)
{
	crt_ctx *ctx = arg;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	if (count == 0)
		ctx->conn->busy_since_us = us;
	else if (us - ctx->conn->busy_since_us >= (int64_t)ctx->cfg.busy_timeout_ms * 1000)
		return 0; /* give up: SQLITE_BUSY → store_busy */
	usleep(count < 20 ? 100 : count < 60 ? 500 : 2000);
	return 1;
}

static crt_status sq_open(crt_ctx *ctx)
{
	const char *path = ctx->cfg.database;
	int readonly = (ctx->flags & CRT_OPEN_READONLY) != 0;
	int oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	char resolved[PATH_MAX];
	crt_status r;
	int rc, fd = -1;
	char pragmas[160];

	if (ctx->flags & CRT_OPEN_CREATE) {
		int cfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (cfd < 0)
			return ctx_fail(ctx, errno == EEXIST ? CRT_E_EXISTS : CRT_E_IO, "%s: %s",
					path, strerror(errno));
		fchmod(cfd, 0640); /* whatever the umask */
		close(cfd);
	}
	if ((ctx->conn = calloc(1, sizeof(*ctx->conn))) == NULL)
		return CRT_E_NOMEM;
	if ((r = check_store_file(ctx, resolved, &fd)) != CRT_OK)
		goto out;
	if (!readonly && (r = store_shared_attach(ctx)) != CRT_OK)
		goto out;
	rc = sqlite3_open_v2(resolved, &ctx->conn->db, oflags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
			     NULL);
	if (rc != SQLITE_OK) {
		r = store_error(ctx, rc, "opening the store");
		goto out;
	}
	if ((r = same_store_file(ctx, resolved, fd)) != CRT_OK)
		goto out;
	close(fd);
	fd = -1;
	sqlite3_extended_result_codes(ctx->conn->db, 1);
	sqlite3_busy_handler(ctx->conn->db, busy_wait, ctx);
	if (!readonly) {
		/* Keep -wal/-shm when the last writer closes: a read-only reader
		 * (rlm_crtoken as freerad) can read them but cannot create them. */
		int persist = 1;
		sqlite3_file_control(ctx->conn->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	}
	if (!readonly && (r = exec(ctx, "PRAGMA journal_mode = WAL")) != CRT_OK)
		goto out;
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA foreign_keys = ON; PRAGMA synchronous = %s; PRAGMA trusted_schema = OFF",
		 ctx->cfg.durability == CRT_DURABILITY_NORMAL ? "NORMAL" : "FULL");
	if ((r = exec(ctx, pragmas)) != CRT_OK)
		goto out;
	r = migrate(ctx);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static void sq_close(crt_ctx *ctx)
{
	if (ctx->conn == NULL)
		return;
	for (int i = 0; i < ctx->conn->nstmts; i++)
		sqlite3_finalize(ctx->conn->stmts[i].st);
	ctx->conn->nstmts = 0;
	if (ctx->conn->db != NULL)
		sqlite3_close_v2(ctx->conn->db);
	free(ctx->conn);
	ctx->conn = NULL;
}

static crt_status sq_begin_write(crt_ctx *ctx)
{
	store_writer_lock(ctx); /* threads of this process queue here, not in SQLite */
	crt_status r = exec(ctx, "BEGIN IMMEDIATE");
	if (r == CRT_OK)
		ctx->conn->in_txn = 1;
	else
		store_writer_unlock(ctx);
	return r;
}

static crt_status sq_commit(crt_ctx *ctx)
{
	crt_status r = exec(ctx, "COMMIT");
	if (r != CRT_OK) {
		sq_rollback(ctx);
		return r;
	}
	if (ctx->conn->in_txn)
		store_writer_unlock(ctx);
	ctx->conn->in_txn = 0;
	return r;
}

static void sq_rollback(crt_ctx *ctx)
{
	if (sqlite3_get_autocommit(ctx->conn->db) == 0)
		sqlite3_exec(ctx->conn->db, "ROLLBACK", NULL, NULL, NULL);
	if (ctx->conn->in_txn)
		store_writer_unlock(ctx);
	ctx->conn->in_txn = 0;
}

crt_status store_prepare(crt_ctx *ctx, const char *sql, sqlite3_stmt **st)
{
	int i, rc;
	for (i = 0; i < ctx->conn->nstmts; i++)
		if (ctx->conn->stmts[i].sql == sql || strcmp(ctx->conn->stmts[i].sql, sql) == 0) {
			*st = ctx->conn->stmts[i].st;
			return CRT_OK;
		}
	rc = sqlite3_prepare_v3(ctx->conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (rc != SQLITE_OK)
		return store_error(ctx, rc, "preparing a statement");
	if (ctx->conn->nstmts < (int)(sizeof(ctx->conn->stmts) / sizeof(ctx->conn->stmts[0]))) {
		ctx->conn->stmts[ctx->conn->nstmts].sql = sql;
		ctx->conn->stmts[ctx->conn->nstmts].st = *st;
		ctx->conn->nstmts++;
	} else {
		/* Cache full: evict the oldest entry (never happens with our fixed SQL). */
		sqlite3_finalize(ctx->conn->stmts[0].st);
		memmove(&ctx->conn->stmts[0], &ctx->conn->stmts[1], sizeof(ctx->conn->stmts[0]) * (size_t)(ctx->conn->nstmts - 1));
		ctx->conn->stmts[ctx->conn->nstmts - 1].sql = sql;
		ctx->conn->stmts[ctx->conn->nstmts - 1].st = *st;
	}
	return CRT_OK;
}

void store_done(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

int store_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s == NULL ? sqlite3_bind_null(st, i) : sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

char *store_col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t == NULL ? NULL : strdup((const char *)t);
}

static crt_status sq_meta_get(crt_ctx *ctx, const char *key, int64_t *v)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx, "SELECT value FROM meta WHERE key = ?", &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*v = 0;
	else
		r = store_error(ctx, rc, "reading meta");
	store_done(st);
	return r;
}

static crt_status sq_meta_set(crt_ctx *ctx, const char *key, int64_t v)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(
		ctx, "INSERT INTO meta(key, value) VALUES (?, ?) "
		     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = store_error(ctx, rc, "writing meta");
	store_done(st);
	return r;
}

static crt_status sq_meta_bump(crt_ctx *ctx, const char *key, int64_t *v)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(
		ctx, "UPDATE meta SET value = value + 1 WHERE key = ? RETURNING value", &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st); /* finish the statement: the update is done at SQLITE_DONE */
	} else if (rc == SQLITE_DONE) {
		r = ctx_fail(ctx, CRT_E_STORE, "meta %s is missing", key);
	}
	if (r == CRT_OK && rc != SQLITE_DONE)
		r = store_error(ctx, rc, "writing meta");
	store_done(st);
	return r;
}

/* Online copy with SQLite's backup API in one step (one read transaction of
 * the source, so writers carry on), serialised from an in-memory database. */
static crt_status sq_snapshot(crt_ctx *ctx, unsigned char **out, size_t *len)
{
	sqlite3 *mem = NULL;
	sqlite3_backup *bk;
	sqlite3_int64 n = 0;
	int rc;

	*out = NULL;
	if ((rc = sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE, NULL)) != SQLITE_OK) {
		sqlite3_close(mem);
		return store_error(ctx, rc, "backup");
	}
	if ((bk = sqlite3_backup_init(mem, "main", sq_db(ctx), "main")) == NULL) {
		crt_status r = ctx_fail(ctx, CRT_E_STORE, "backup: %s", sqlite3_errmsg(mem));
		sqlite3_close(mem);
		return r;
	}
	/* -1: every page in one step, under one read transaction of the source */
	do
		rc = sqlite3_backup_step(bk, -1);
	while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(bk);
	if (rc != SQLITE_DONE) {
		sqlite3_close(mem);
		return store_error(ctx, rc, "copying the store");
	}
	unsigned char *p = sqlite3_serialize(mem, "main", &n, 0);
	if (p == NULL || (*out = malloc((size_t)n)) == NULL) {
		sqlite3_free(p);
		sqlite3_close(mem);
		return CRT_E_NOMEM;
	}
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_cleanse(p, (size_t)n); /* the CA and OTP keys are not in it, the OTP secrets are */
	sqlite3_free(p);
	sqlite3_close(mem);
	return CRT_OK;
}

static int sq_writable(const crt_ctx *ctx)
{
	return ctx->conn != NULL && ctx->conn->shared != NULL;
}

const store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin_write = sq_begin_write,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.writable = sq_writable,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.meta_bump = sq_meta_bump,
	.snapshot = sq_snapshot,
	.tokens = &sqlite_token_ops,
	.certs = &sqlite_cert_ops,
	.audit = &sqlite_audit_ops,
	.otp = &sqlite_otp_ops,
	.apikeys = &sqlite_apikey_ops,
	.events = &sqlite_event_ops,
	.copy = &sqlite_copy_ops,
	.requests = &sqlite_request_ops,
	.pkcs12 = &sqlite_pkcs12_ops,
};
