/*
 * port_requests.h — the storage port's certificate request verbs (the
 * approval workflow, request.c): table certificate_requests. Included by
 * store/port.h; implemented by store/sqlite_requests.c and
 * store/pg_requests.c. No SQL here.
 *
 * A request row is written once at submission (inside the transaction that
 * claims its token) and changed once by a decision: a guarded UPDATE whose
 * row count is the answer (0: someone else decided first, or the expiry
 * came — read it again and let the rule say why). The stored state is
 * enum crt_request_state; the rule (rules/request.h) says what it means
 * at a time.
 */
#ifndef CRTOKEN_STORE_PORT_REQUESTS_H
#define CRTOKEN_STORE_PORT_REQUESTS_H

#include "rules/request.h"

/* A new request (state pending). Strings borrowed; NULL stores SQL NULL. */
typedef struct store_request_row {
	const char *id, *token_id;
	const char *poll_hash; /* hex SHA-256 of the poll secret */
	const char *cn, *org, *ou, *csr;
	const char *requester, *remote, *submitted_by, *attestation;
	int64_t created_at, expires_at;
} store_request_row;

/* One decision on request id: stored state pending -> to, only while it
 * is still pending and, for approve/deny (expire = 0), before its expiry
 * (expires_at > now) — for expire (expire = 1), at or after it. */
typedef struct store_request_change {
	const char *id;
	int to;              /* enum crt_request_state */
	int expire;
	int64_t now;         /* decided_at */
	const char *decided_by, *reason, *serial; /* NULL stores SQL NULL */
} store_request_change;

struct store_request_ops {
	/* Insert r inside the caller's write transaction; CRT_E_EXISTS when
	 * its token already has a request. */
	crt_status (*insert)(crt_ctx *ctx, const store_request_row *r);
	/* The row id into *out (crt_request_clear; out->state as stored, the
	 * token's name joined when the token is still there) and, when
	 * poll_hash is non-NULL, its stored poll hash ("" if none). *found = 0
	 * without one. */
	crt_status (*get)(crt_ctx *ctx, const char *id, crt_request *out, char poll_hash[65],
			  int *found);
	/* The rows within b (rules/request.h) whose requester is user (NULL:
	 * any), newest first (created_at descending, then id), at most limit. */
	crt_status (*list)(crt_ctx *ctx, const request_bounds *b, const char *user, int limit,
			   crt_request **out, size_t *n);
	/* One page of the rows within b whose requester is user (NULL: any) in
	 * page p's order (crt_request_sort_fields, the id breaking ties), cut
	 * by the store (store/list_sql.h); *total = how many there are. */
	crt_status (*page)(crt_ctx *ctx, const request_bounds *b, const char *user,
			   const crt_page *p, crt_request **out, size_t *n, int64_t *total);
	/* The guarded decision c; *changed = the row count (0 or 1). */
	crt_status (*decide)(crt_ctx *ctx, const store_request_change *c, int *changed);
};

static inline crt_status __attribute__((warn_unused_result))
store_request_insert(crt_ctx *ctx, const store_request_row *r)
{
	return STORE_CALL(ctx, requests, insert, r);
}
static inline crt_status __attribute__((warn_unused_result))
store_request_get(crt_ctx *ctx, const char *id, crt_request *out, char poll_hash[65], int *found)
{
	return STORE_CALL(ctx, requests, get, id, out, poll_hash, found);
}
static inline crt_status __attribute__((warn_unused_result))
store_request_list(crt_ctx *ctx, const request_bounds *b, const char *user, int limit,
		   crt_request **out, size_t *n)
{
	return STORE_CALL(ctx, requests, list, b, user, limit, out, n);
}
static inline crt_status __attribute__((warn_unused_result))
store_request_page(crt_ctx *ctx, const request_bounds *b, const char *user, const crt_page *p,
		   crt_request **out, size_t *n, int64_t *total)
{
	return STORE_CALL(ctx, requests, page, b, user, p, out, n, total);
}
static inline crt_status __attribute__((warn_unused_result))
store_request_decide(crt_ctx *ctx, const store_request_change *c, int *changed)
{
	return STORE_CALL(ctx, requests, decide, c, changed);
}

#endif /* CRTOKEN_STORE_PORT_REQUESTS_H */
