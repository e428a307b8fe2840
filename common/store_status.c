/*
 * store_status.c — crt_store_status_get: what an admin checks before and
 * after moving a site to several servers: which store, its schema, its
 * replication role and lag, how much it holds, and the one warning that
 * matters most (a primary without a synchronous standby).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* A standby further behind than this is worth a warning. */
#define LAG_WARN_MS 5000

crt_status crt_store_status_get(crt_ctx *ctx, crt_store_status *st)
{
	crt_status r;

	ctx_clear_detail(ctx);
	memset(st, 0, sizeof(*st));
	st->size_bytes = st->replay_lag_ms = -1;
	st->standbys = -1;
	st->tokens = st->certificates = st->revoked = st->otp_users = st->api_keys =
		st->audit_rows = -1;
	if ((r = store_status_read(ctx, st)) != CRT_OK)
		return r;
	if (strcmp(st->role, "primary") == 0 && st->sync_standbys == 0)
		snprintf(st->warning, sizeof(st->warning),
			 "no synchronous standby: if this primary fails, an asynchronous "
			 "failover can lose a redemption (a used token usable again) or undo a "
			 "revocation; set synchronous_standby_names");
	else if (strcmp(st->role, "standby") == 0 && st->replay_lag_ms > LAG_WARN_MS)
		snprintf(st->warning, sizeof(st->warning),
			 "this standby replays %lld ms behind its primary",
			 (long long)st->replay_lag_ms);
	return CRT_OK;
}
