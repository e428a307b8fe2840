/*
 * fault.c — the fault seam: fail the Nth store call of one ctx with a
 * chosen status, so tests reach every store-failure path of the domain
 * deterministically, on whichever backend is behind the port.
 */
#include "store/port.h"

void store_fault_arm(crt_ctx *ctx, int n, crt_status s)
{
	ctx->fault.countdown = n;
	ctx->fault.status = s;
	ctx->fault.calls = 0;
}

int store_fault_calls(const crt_ctx *ctx)
{
	return ctx->fault.calls;
}

int store_fault_hit(crt_ctx *ctx, int is_commit)
{
	if (ctx->fault.countdown <= 0)
		return 0;
	/* a lost commit waits for a commit to be the nth call */
	if (ctx->fault.status == CRT_E_STORE_COMMIT_UNKNOWN && !is_commit) {
		ctx->fault.calls++;
		return 0;
	}
	ctx->fault.calls++;
	if (--ctx->fault.countdown > 0)
		return 0;
	return 1;
}

crt_status store_fault_fail(crt_ctx *ctx, const char *verb)
{
	crt_status s = ctx->fault.status;
	ctx->fault.countdown = 0;
	return ctx_fail(ctx, s, "injected %s on store call %d (%s)", crt_status_name(s),
			ctx->fault.calls, verb);
}
