/*
 * sqlite_otp.c — the OTP verbs of the storage port (store/port_otp.h) on
 * SQLite: table otp, one row per user name.
 *
 * load_lock: a SQLite write transaction (BEGIN IMMEDIATE) already holds
 * the one database write lock, so the row read inside it cannot change
 * before the commit; the verb insists on being called inside one.
 */
#include <stdio.h>

#include "store/sqlite.h"

#define OTP_COLS                                                                           \
	"username, algorithm, digits, period, last_step, failures, locked_until, created_at, " \
	"lockouts"

/* Fill out from a row selected with OTP_COLS starting at column first. */
static crt_status otp_row(sqlite3_stmt *st, int first, crt_otp_info *out)
{
	const char *alg = (const char *)sqlite3_column_text(st, first + 1);

	memset(out, 0, sizeof(*out));
	if ((out->user = store_col_strdup(st, first)) == NULL)
		return CRT_E_NOMEM;
	snprintf(out->algorithm, sizeof(out->algorithm), "%s", alg ? alg : "");
	out->digits = sqlite3_column_int(st, first + 2);
	out->period = sqlite3_column_int(st, first + 3);
	out->last_step = sqlite3_column_int64(st, first + 4);
	out->failures = sqlite3_column_int(st, first + 5);
	out->locked_until = sqlite3_column_int64(st, first + 6);
	out->created_at = sqlite3_column_int64(st, first + 7);
	out->lockouts = sqlite3_column_int(st, first + 8);
	return CRT_OK;
}

static crt_status not_enrolled(crt_ctx *ctx, const char *user)
{
	return ctx_fail(ctx, CRT_E_OTP_NOT_ENROLLED, "no OTP enrolled for %s", user);
}

static crt_status sq_otp_get(crt_ctx *ctx, const char *user, crt_otp_info *out)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(ctx, "SELECT " OTP_COLS " FROM otp WHERE username = ?", &st)) !=
	    CRT_OK)
		return r;
	store_bind_text(st, 1, user);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = otp_row(st, 0, out);
	else if (rc == SQLITE_DONE)
		r = not_enrolled(ctx, user);
	else
		r = store_error(ctx, rc, "reading OTP record");
	store_done(st);
	return r;
}

static crt_status sq_otp_list(crt_ctx *ctx, crt_otp_info **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	crt_otp_info *list = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx, "SELECT " OTP_COLS " FROM otp ORDER BY username", &st)) !=
	    CRT_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		if ((r = otp_row(st, 0, &list[cnt])) != CRT_OK)
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing OTP records");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
	cnt = 0;
	r = CRT_OK;
out:
	store_done(st);
	crt_otp_list_free(list, cnt);
	return r;
}

static crt_status sq_otp_insert(crt_ctx *ctx, const store_otp_new *row)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	if ((r = store_prepare(ctx,
			       "INSERT INTO otp(username, secret, algorithm, digits, period, "
			       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, row->user);
	sqlite3_bind_blob(st, 2, row->sealed, (int)row->sealed_len, SQLITE_STATIC);
	store_bind_text(st, 3, row->algorithm);
	sqlite3_bind_int(st, 4, row->digits);
	sqlite3_bind_int(st, 5, row->period);
	sqlite3_bind_int64(st, 6, row->created_at);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return ctx_fail(ctx, CRT_E_EXISTS, "%s already has an OTP", row->user);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "storing OTP record");
	return CRT_OK;
}

/* Run a one-row statement bound to user; no row → not enrolled. */
static crt_status one_row(crt_ctx *ctx, const char *sql, const char *user, const char *what)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	if ((r = store_prepare(ctx, sql, &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, user);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, what);
	if (sqlite3_changes(sq_db(ctx)) != 1)
		return not_enrolled(ctx, user);
	return CRT_OK;
}

static crt_status sq_otp_remove(crt_ctx *ctx, const char *user)
{
	return one_row(ctx, "DELETE FROM otp WHERE username = ?", user, "otp.remove");
}

static crt_status sq_otp_unlock(crt_ctx *ctx, const char *user)
{
	return one_row(ctx,
		       "UPDATE otp SET failures = 0, locked_until = 0, lockouts = 0 "
		       "WHERE username = ?",
		       user, "otp.unlock");
}

static crt_status sq_otp_load_lock(crt_ctx *ctx, const char *user, store_otp_locked *out)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ctx->conn == NULL || !ctx->conn->in_txn)
		return ctx_fail(ctx, CRT_E_INTERNAL,
				"the OTP row of %s is loaded for a verification outside a write "
				"transaction",
				user);
	if ((r = store_prepare(ctx, "SELECT secret, " OTP_COLS " FROM otp WHERE username = ?",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, user);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = not_enrolled(ctx, user);
		goto out;
	} else if (rc != SQLITE_ROW) {
		r = store_error(ctx, rc, "reading OTP record");
		goto out;
	}
	const void *b = sqlite3_column_blob(st, 0);
	int blen = sqlite3_column_bytes(st, 0);
	if (b != NULL && blen > 0) {
		if ((out->sealed = malloc((size_t)blen)) == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		memcpy(out->sealed, b, (size_t)blen);
		out->sealed_len = (size_t)blen;
	}
	r = otp_row(st, 1, &out->info);
out:
	store_done(st);
	if (r != CRT_OK)
		store_otp_locked_clear(out);
	return r;
}

static crt_status sq_otp_save(crt_ctx *ctx, const char *user, const store_otp_counters *c)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	if ((r = store_prepare(ctx,
			       "UPDATE otp SET last_step = ?, failures = ?, locked_until = ?, "
			       "lockouts = ? WHERE username = ?",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, c->last_step);
	sqlite3_bind_int(st, 2, c->failures);
	sqlite3_bind_int64(st, 3, c->locked_until);
	sqlite3_bind_int(st, 4, c->lockouts);
	store_bind_text(st, 5, user);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "updating OTP record");
	if (sqlite3_changes(sq_db(ctx)) != 1)
		return not_enrolled(ctx, user);
	return CRT_OK;
}

const struct store_otp_ops sqlite_otp_ops = {
	.get = sq_otp_get,
	.list = sq_otp_list,
	.insert = sq_otp_insert,
	.remove = sq_otp_remove,
	.unlock = sq_otp_unlock,
	.load_lock = sq_otp_load_lock,
	.save = sq_otp_save,
};
