/*
 * maintain.c — the scheduled work (crt_maintain): what crtoken-admin
 * maintain and crtokend's periodic run do.
 *
 * Steps, in order, each its own transaction(s) with its own audit rows:
 *   crl        re-sign the CRL once crt_crl_stale says so (its last quarter
 *              before nextUpdate, a newer revocation, another CA);
 *   purge      remove tokens that ended [tokens] purge_after ago;
 *   supersede  revoke as superseded the predecessors of renewals past
 *              [renewal] grace_days (renew.c);
 *   requests   expire the pending certificate requests past [requests]
 *              pending_lifetime (request.c: a guarded update each);
 *   expiring   raise certificate.expiring for certificates ending within
 *              [events] expiring_window (events.c), once per certificate;
 * then one maintain.run audit row with what each step did.
 *
 * Several nodes may run it at the same moment: every step is atomic by its
 * own statements — the CRL is signed under the publication lock and only
 * when still stale once the lock is held; the purge is one DELETE; a
 * supersede is the guarded revoke; a reminder's event has a unique dedup
 * key — so a concurrent run finds the work done
 * and does nothing (its maintain.run row says so).
 *
 * Later steps (expiring pending requests) are added to the steps[] table below: a
 * function that does its work, audited, and reports a count.
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "internal.h"
#include "store/port.h"

static crt_status step_crl(crt_ctx *ctx, const char *actor, int64_t now, crt_maintain_report *rep)
{
	crt_crl crl;
	crt_status r;

	(void)now;
	if (ca_is_remote(ctx))
		return CRT_OK; /* the remote CA publishes its own CRL */
	if (ctx->ca_key == NULL)
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the CRL cannot be re-signed without the CA key");
	if ((r = crt_crl_current(ctx, 0, actor, &crl)) != CRT_OK)
		return r;
	rep->crl_resigned = crl.resigned;
	rep->crl_number = crl.meta.number;
	rep->crl_next_update = crl.meta.next_update;
	if (crl.resigned && !crl.file_written)
		rep->crl_file_status = crl.file_status;
	crt_crl_clear(&crl);
	return CRT_OK;
}

static crt_status step_purge(crt_ctx *ctx, const char *actor, int64_t now,
			     crt_maintain_report *rep)
{
	int64_t n = 0;
	char *detail;
	jbuf j;
	crt_status r;

	if (ctx->cfg.token_purge_after <= 0)
		return CRT_OK; /* not configured */
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_token_purge(ctx, now - ctx->cfg.token_purge_after, &n)) != CRT_OK)
		goto fail;
	if (n > 0) { /* a run that found nothing to purge leaves no token.purge row */
		jb_begin(&j);
		jb_int(&j, "purged", n);
		jb_int(&j, "purgeAfterSeconds", ctx->cfg.token_purge_after);
		if ((detail = jb_end(&j)) == NULL) {
			r = CRT_E_NOMEM;
			goto fail;
		}
		r = audit_write(ctx, actor, "token.purge", NULL, detail);
		free(detail);
		if (r != CRT_OK)
			goto fail;
	}
	if ((r = store_commit(ctx)) != CRT_OK)
		return r;
	rep->tokens_purged = (size_t)n;
	return CRT_OK;
fail:
	store_rollback(ctx);
	return r;
}

static crt_status step_supersede(crt_ctx *ctx, const char *actor, int64_t now,
				 crt_maintain_report *rep)
{
	return renew_supersede(ctx, actor, now, &rep->superseded);
}

static crt_status step_requests(crt_ctx *ctx, const char *actor, int64_t now,
				crt_maintain_report *rep)
{
	(void)now;
	return crt_requests_expire(ctx, actor, &rep->requests_expired);
}

/* certificate.expiring for what ends within [events] expiring_window: once
 * per certificate (the outbox's unique dedup key), so repeated runs and
 * several nodes raise each reminder once; audited only when it raised any. */
static crt_status step_expiring(crt_ctx *ctx, const char *actor, int64_t now,
				crt_maintain_report *rep)
{
	(void)now;
	return events_check_expiring(ctx, ctx->cfg.events_expiring_window, actor, 0,
				     &rep->expiring_raised);
}

static const struct {
	const char *name;
	crt_status (*run)(crt_ctx *ctx, const char *actor, int64_t now, crt_maintain_report *rep);
} steps[] = {
	{"crl", step_crl},
	{"purge", step_purge},
	{"supersede", step_supersede},
	{"requests", step_requests},
	{"expiring", step_expiring},
};

crt_status crt_maintain(crt_ctx *ctx, const char *actor, crt_maintain_report *rep)
{
	crt_status r, first = CRT_OK;
	char first_detail[sizeof(ctx->detail)] = "";
	const char *failed = NULL;
	int64_t now = crt_now();
	char *detail;
	jbuf j;

	ctx_clear_detail(ctx);
	memset(rep, 0, sizeof(*rep));
	rep->crl_file_status = CRT_OK;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r = steps[i].run(ctx, actor, now, rep);
		if (r != CRT_OK && first == CRT_OK) {
			first = r;
			failed = steps[i].name;
			snprintf(first_detail, sizeof(first_detail), "%s", ctx->detail);
		}
		ctx_clear_detail(ctx);
	}
	rep->failed_step = failed;
	jb_begin(&j);
	jb_int(&j, "crlResigned", rep->crl_resigned);
	jb_int(&j, "crlNumber", rep->crl_number);
	jb_int(&j, "tokensPurged", (int64_t)rep->tokens_purged);
	jb_int(&j, "superseded", (int64_t)rep->superseded);
	jb_int(&j, "requestsExpired", (int64_t)rep->requests_expired);
	jb_int(&j, "expiringRaised", (int64_t)rep->expiring_raised);
	jb_str(&j, "failedStep", failed);
	jb_str(&j, "status", crt_status_name(first));
	if ((detail = jb_end(&j)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	r = crt_audit_event(ctx, actor, "maintain.run", NULL, detail);
	free(detail);
	if (first != CRT_OK)
		return ctx_fail(ctx, first, "%s: %s", failed, first_detail);
	return r;
}
