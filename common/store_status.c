/*
 * store_status.c — crt_store_status_get: what an admin checks before and
 * after moving a site to several servers: which store, its schema, its
 * replication role and lag, how much it holds, and the one warning that
 * matters most (a primary without a synchronous standby); and the
 * heartbeat the writers keep, which bounds how stale a reader may be.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A standby further behind than this is worth a warning. */
#define LAG_WARN_MS 5000

/* Append one warning (a sentence) to st->warning. */
static void __attribute__((format(printf, 2, 3))) warn(crt_store_status *st, const char *fmt, ...)
{
	size_t used = strlen(st->warning);
	va_list ap;
	if (used > 0 && used + 2 < sizeof(st->warning)) {
		memcpy(st->warning + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(st->warning + used, sizeof(st->warning) - used, fmt, ap);
	va_end(ap);
}

crt_status crt_store_status_get(crt_ctx *ctx, crt_store_status *st)
{
	crt_status r;

	ctx_clear_detail(ctx);
	memset(st, 0, sizeof(*st));
	st->size_bytes = st->replay_lag_ms = -1;
	st->standbys = -1;
	st->tokens = st->certificates = st->revoked = st->otp_users = st->api_keys =
		st->audit_rows = -1;
	if ((r = store_status_read(ctx, st)) != CRT_OK ||
	    (r = store_meta_get_int(ctx, "heartbeat", &st->heartbeat)) != CRT_OK)
		return r;
	if (strcmp(st->role, "primary") == 0 && st->sync_standbys == 0)
		warn(st, "no synchronous standby: if this primary fails, an asynchronous "
			 "failover can lose a redemption (a used token usable again) or undo a "
			 "revocation; set synchronous_standby_names");
	if (ctx->cfg.max_staleness > 0 && crt_now() - st->heartbeat > ctx->cfg.max_staleness)
		warn(st, "the heartbeat is %s: readers with max_staleness = %d s refuse admission "
			 "(store_stale) until a writer refreshes it",
		     st->heartbeat == 0 ? "missing" : "older than max_staleness",
		     ctx->cfg.max_staleness);
	if (strcmp(st->role, "standby") == 0 && st->replay_lag_ms > LAG_WARN_MS)
		warn(st, "this standby replays %lld ms behind its primary",
		     (long long)st->replay_lag_ms);
	return CRT_OK;
}

crt_status crt_store_heartbeat(crt_ctx *ctx)
{
	crt_status r;

	ctx_clear_detail(ctx);
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_meta_set_int(ctx, "heartbeat", crt_now())) != CRT_OK) {
		store_rollback(ctx);
		return r;
	}
	return store_commit(ctx);
}
