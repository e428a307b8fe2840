/*
 * audit.c — the audit trail: one row per state change, written inside the
 * transaction that makes the change (so both commit or neither does), plus
 * listing for the admin CLI and adapter-level events (failed logins).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/audit.h"
#include "rules/paging.h"

crt_status audit_write(crt_ctx *ctx, const char *actor, const char *action, const char *object,
		       const char *detail_json)
{
	return store_audit_append(ctx, crt_now(), actor ? actor : "unknown", action, object,
				  detail_json);
}

crt_status crt_audit_event(crt_ctx *ctx, const char *actor, const char *action,
			   const char *object, const char *detail_json)
{
	crt_status r;
	ctx_clear_detail(ctx);
	if (action == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "audit action missing");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = audit_write(ctx, actor, action, object, detail_json)) != CRT_OK) {
		store_rollback(ctx);
		return r;
	}
	return store_commit(ctx);
}

void crt_audit_list_free(crt_audit_row *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		free(list[i].actor);
		free(list[i].action);
		free(list[i].object);
		free(list[i].detail);
	}
	free(list);
}

/* The action filter is literal and case-sensitive on every backend
 * (port_audit.h; MULTINODE.md §1.2): "token" lists token and token.*, not
 * Token.* nor tokenX. */
crt_status crt_audit_list(crt_ctx *ctx, int limit, const char *action, crt_audit_row **out,
			  size_t *n)
{
	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	return store_audit_list(ctx, limit > 0 ? limit : 100, action, out, n);
}

crt_status crt_audit_page(crt_ctx *ctx, const crt_audit_filter *f, const crt_page *p,
			  crt_audit_row **out, size_t *n, int64_t *total)
{
	const char *why = NULL;
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	*total = 0;
	if (!paging_valid(p, crt_audit_sort_fields))
		return ctx_fail(ctx, CRT_E_PAGE_INVALID, "not a page crt_page_parse makes");
	if ((r = audit_filter_check(f, &why)) != CRT_OK)
		return ctx_fail(ctx, r, "%s", why);
	return store_audit_page(ctx, f, p, out, n, total);
}
