/*
 * port_audit.h — the storage port's audit verbs: append one row (inside the
 * caller's write transaction) and list. Included by store/port.h;
 * implemented by store/sqlite_audit.c and store/pg_audit.c.
 */
#ifndef CRTOKEN_STORE_PORT_AUDIT_H
#define CRTOKEN_STORE_PORT_AUDIT_H

struct store_audit_ops {
	/* Append one row; object and detail_json may be NULL. */
	crt_status (*append)(crt_ctx *ctx, int64_t at, const char *actor, const char *action,
			     const char *object, const char *detail_json);
	/* The newest limit rows (limit > 0), newest first; action NULL: all,
	 * else rows whose action is action or starts with action + "." —
	 * compared case-sensitively and literally (no wildcards), the same on
	 * every backend. *out malloc'd (crt_audit_list_free). */
	crt_status (*list)(crt_ctx *ctx, int limit, const char *action, crt_audit_row **out,
			   size_t *n);
	/* One page of the rows f (NULL: all; checked by rules/audit.c) selects,
	 * cut by the store (LIMIT/OFFSET, store/list_sql.h), and in *total how
	 * many f selects. *out malloc'd (crt_audit_list_free), NULL when none. */
	crt_status (*page)(crt_ctx *ctx, const crt_audit_filter *f, const crt_page *p,
			   crt_audit_row **out, size_t *n, int64_t *total);
};

static inline crt_status store_audit_append(crt_ctx *ctx, int64_t at, const char *actor,
					    const char *action, const char *object,
					    const char *detail_json)
{
	return STORE_CALL(ctx, audit, append, at, actor, action, object, detail_json);
}

static inline crt_status store_audit_list(crt_ctx *ctx, int limit, const char *action,
					  crt_audit_row **out, size_t *n)
{
	return STORE_CALL(ctx, audit, list, limit, action, out, n);
}

static inline crt_status store_audit_page(crt_ctx *ctx, const crt_audit_filter *f,
					  const crt_page *p, crt_audit_row **out, size_t *n,
					  int64_t *total)
{
	return STORE_CALL(ctx, audit, page, f, p, out, n, total);
}

#endif /* CRTOKEN_STORE_PORT_AUDIT_H */
