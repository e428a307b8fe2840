/*
 * pg_otp.c — the OTP verbs of the storage port (store/port_otp.h) on
 * PostgreSQL: table otp, one row per user name.
 *
 * load_lock is SELECT ... FOR UPDATE inside the caller's write
 * transaction: a second node verifying the same user's code waits for the
 * first one's commit and then reads its counters, so one TOTP step is
 * accepted once across every node and failures count across all of them
 * (MULTINODE.md §1.4, §3.4).
 */
#include <stdio.h>

#include "store/pg.h"

#define OTP_COLS                                                                           \
	"username, algorithm, digits, period, last_step, failures, locked_until, created_at, " \
	"lockouts"

static crt_status otp_row(const PGresult *res, int i, int first, crt_otp_info *out)
{
	memset(out, 0, sizeof(*out));
	if ((out->user = pg_strdup(res, i, first)) == NULL)
		return CRT_E_NOMEM;
	snprintf(out->algorithm, sizeof(out->algorithm), "%s",
		 pg_null(res, i, first + 1) ? "" : PQgetvalue(res, i, first + 1));
	out->digits = (int)pg_int(res, i, first + 2);
	out->period = (int)pg_int(res, i, first + 3);
	out->last_step = pg_int(res, i, first + 4);
	out->failures = (int)pg_int(res, i, first + 5);
	out->locked_until = pg_int(res, i, first + 6);
	out->created_at = pg_int(res, i, first + 7);
	out->lockouts = (int)pg_int(res, i, first + 8);
	return CRT_OK;
}

static crt_status not_enrolled(crt_ctx *ctx, const char *user)
{
	return ctx_fail(ctx, CRT_E_OTP_NOT_ENROLLED, "no OTP enrolled for %s", user);
}

static crt_status pg_otp_get(crt_ctx *ctx, const char *user, crt_otp_info *out)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	memset(out, 0, sizeof(*out));
	pp_text(&p, user);
	if ((r = pg_exec(ctx, "SELECT " OTP_COLS " FROM otp WHERE username = $1", &p, &res, NULL,
			 "reading OTP record")) != CRT_OK)
		return r;
	r = PQntuples(res) > 0 ? otp_row(res, 0, 0, out) : not_enrolled(ctx, user);
	PQclear(res);
	return r;
}

static crt_status pg_otp_list(crt_ctx *ctx, crt_otp_info **out, size_t *n)
{
	PGresult *res;
	crt_otp_info *list;
	crt_status r;
	int cnt, i;

	*out = NULL;
	*n = 0;
	if ((r = pg_exec(ctx, "SELECT " OTP_COLS " FROM otp ORDER BY username", NULL, &res, NULL,
			 "listing OTP records")) != CRT_OK)
		return r;
	if ((r = pg_rows_alloc(res, sizeof(*list), &list, &cnt)) != CRT_OK) {
		PQclear(res);
		return r;
	}
	for (i = 0; i < cnt; i++)
		if ((r = otp_row(res, i, 0, &list[i])) != CRT_OK)
			break;
	PQclear(res);
	if (r != CRT_OK) {
		crt_otp_list_free(list, (size_t)i);
		return r;
	}
	*out = list;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status pg_otp_insert(crt_ctx *ctx, const store_otp_new *row)
{
	pg_params p = {0};
	crt_status r;

	pp_text(&p, row->user);
	pp_blob(&p, row->sealed, row->sealed_len);
	pp_text(&p, row->algorithm);
	pp_int(&p, row->digits);
	pp_int(&p, row->period);
	pp_int(&p, row->created_at);
	r = pg_exec(ctx,
		    "INSERT INTO otp(username, secret, algorithm, digits, period, created_at) "
		    "VALUES ($1, $2, $3, $4, $5, $6)",
		    &p, NULL, NULL, "storing OTP record");
	if (r == CRT_E_EXISTS)
		return ctx_fail(ctx, CRT_E_EXISTS, "%s already has an OTP", row->user);
	return r;
}

/* A one-row statement bound to user; no row → not enrolled. */
static crt_status one_row(crt_ctx *ctx, const char *sql, const char *user, const char *what)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	pp_text(&p, user);
	if ((r = pg_exec(ctx, sql, &p, NULL, &changes, what)) != CRT_OK)
		return r;
	return changes == 1 ? CRT_OK : not_enrolled(ctx, user);
}

static crt_status pg_otp_remove(crt_ctx *ctx, const char *user)
{
	return one_row(ctx, "DELETE FROM otp WHERE username = $1", user, "otp.remove");
}

static crt_status pg_otp_unlock(crt_ctx *ctx, const char *user)
{
	return one_row(ctx,
		       "UPDATE otp SET failures = 0, locked_until = 0, lockouts = 0 "
		       "WHERE username = $1",
		       user, "otp.unlock");
}

static crt_status pg_otp_load_lock(crt_ctx *ctx, const char *user, store_otp_locked *out)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	memset(out, 0, sizeof(*out));
	if (pg_c(ctx) == NULL || !pg_c(ctx)->in_txn)
		return ctx_fail(ctx, CRT_E_INTERNAL,
				"the OTP row of %s is loaded for a verification outside a write "
				"transaction",
				user);
	pp_text(&p, user);
	if ((r = pg_exec(ctx, "SELECT secret, " OTP_COLS " FROM otp WHERE username = $1 FOR UPDATE",
			 &p, &res, NULL, "reading OTP record")) != CRT_OK)
		return r;
	if (PQntuples(res) == 0) {
		r = not_enrolled(ctx, user);
		goto out;
	}
	if (!pg_null(res, 0, 0)) {
		out->sealed = pg_bytea(res, 0, 0, &out->sealed_len);
		if (out->sealed == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		if (out->sealed_len == 0) {
			free(out->sealed);
			out->sealed = NULL;
		}
	}
	r = otp_row(res, 0, 1, &out->info);
out:
	PQclear(res);
	if (r != CRT_OK)
		store_otp_locked_clear(out);
	return r;
}

static crt_status pg_otp_save(crt_ctx *ctx, const char *user, const store_otp_counters *c)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	pp_int(&p, c->last_step);
	pp_int(&p, c->failures);
	pp_int(&p, c->locked_until);
	pp_int(&p, c->lockouts);
	pp_text(&p, user);
	if ((r = pg_exec(ctx,
			 "UPDATE otp SET last_step = $1, failures = $2, locked_until = $3, "
			 "lockouts = $4 WHERE username = $5",
			 &p, NULL, &changes, "updating OTP record")) != CRT_OK)
		return r;
	return changes == 1 ? CRT_OK : not_enrolled(ctx, user);
}

const struct store_otp_ops pg_otp_ops = {
	.get = pg_otp_get,
	.list = pg_otp_list,
	.insert = pg_otp_insert,
	.remove = pg_otp_remove,
	.unlock = pg_otp_unlock,
	.load_lock = pg_otp_load_lock,
	.save = pg_otp_save,
};
