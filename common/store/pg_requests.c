/*
 * pg_requests.c — the certificate request verbs of the storage port
 * (store/port_requests.h) on PostgreSQL: table certificate_requests. The
 * decision is one conditional UPDATE at READ COMMITTED: of two admins
 * deciding at once, the second blocks on the row lock, re-evaluates
 * state = pending on the committed row and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/pg.h"

#define REQUEST_COLS                                                                       \
	"r.id, r.token_id, t.name, r.cn, r.org, r.ou, r.csr, r.requester, r.remote, "       \
	"r.submitted_by, r.attestation, r.created_at, r.expires_at, r.decided_at, "         \
	"r.decided_by, r.reason, r.serial, r.state, r.poll_hash"
#define REQUEST_FROM " FROM certificate_requests r LEFT JOIN tokens t ON t.id = r.token_id"

/* Row i into r; 0 when a copy failed (r is then cleared). */
static int row_to_request(const PGresult *res, int i, crt_request *r)
{
	char **strs[] = {&r->token_name, &r->cn,	  &r->org,	  &r->ou,
			 &r->csr,	 &r->requester,	  &r->remote,	  &r->submitted_by,
			 &r->attestation, &r->decided_by, &r->reason, &r->serial};
	static const int col[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16};

	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", PQgetvalue(res, i, 0));
	snprintf(r->token_id, sizeof(r->token_id), "%s", PQgetvalue(res, i, 1));
	for (size_t k = 0; k < sizeof(col) / sizeof(col[0]); k++)
		if (!pg_null(res, i, col[k]) && (*strs[k] = pg_strdup(res, i, col[k])) == NULL) {
			crt_request_clear(r);
			return 0;
		}
	r->created_at = pg_int(res, i, 11);
	r->expires_at = pg_int(res, i, 12);
	r->decided_at = pg_int(res, i, 13);
	r->state = (int)pg_int(res, i, 17);
	return 1;
}

static crt_status pg_request_insert(crt_ctx *ctx, const store_request_row *q)
{
	pg_params p = {0};
	crt_status r;

	pp_text(&p, q->id);
	pp_text(&p, q->token_id);
	pp_text(&p, q->poll_hash);
	pp_text(&p, q->cn);
	pp_text(&p, q->org);
	pp_text(&p, q->ou);
	pp_text(&p, q->csr);
	pp_text(&p, q->requester);
	pp_text(&p, q->remote);
	pp_text(&p, q->submitted_by);
	pp_text(&p, q->attestation);
	pp_int(&p, q->created_at);
	pp_int(&p, q->expires_at);
	r = pg_exec(ctx,
		    "INSERT INTO certificate_requests(id, token_id, poll_hash, state, cn, org, ou, "
		    "csr, requester, remote, submitted_by, attestation, created_at, expires_at) "
		    "VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
		    &p, NULL, NULL, "storing the certificate request");
	if (r == CRT_E_EXISTS)
		return ctx_fail(ctx, r, "token %s already has a certificate request", q->token_id);
	return r;
}

static crt_status pg_request_get(crt_ctx *ctx, const char *id, crt_request *out,
				 char poll_hash[65], int *found)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	*found = 0;
	memset(out, 0, sizeof(*out));
	if (poll_hash != NULL)
		poll_hash[0] = '\0';
	pp_text(&p, id);
	if ((r = pg_exec(ctx, "SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.id = $1", &p, &res,
			 NULL, "reading the certificate request")) != CRT_OK)
		return r;
	if (PQntuples(res) > 0) {
		if (!row_to_request(res, 0, out)) {
			r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		} else {
			*found = 1;
			if (poll_hash != NULL && !pg_null(res, 0, 18))
				snprintf(poll_hash, 65, "%s", PQgetvalue(res, 0, 18));
		}
	}
	PQclear(res);
	return r;
}

static crt_status pg_request_list(crt_ctx *ctx, const request_bounds *b, const char *user,
				  int limit, crt_request **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	crt_request *list;
	crt_status r;
	int cnt, i;

	*out = NULL;
	*n = 0;
	pp_int(&p, b->stored);
	pp_int(&p, b->expires_min);
	pp_int(&p, b->expires_max);
	pp_text(&p, user);
	pp_int(&p, limit);
	/* $1 = -1: any state; 4 (expired): stored expired or pending past
	 * expires_max (rules/request.h) */
	if ((r = pg_exec(ctx,
			 "SELECT " REQUEST_COLS REQUEST_FROM " WHERE"
			 " (CAST($1 AS integer) = -1"
			 "  OR ($1 = 4 AND (r.state = 4 OR (r.state = 0 AND r.expires_at <= $3)))"
			 "  OR ($1 <> 4 AND r.state = $1 AND r.expires_at BETWEEN $2 AND $3))"
			 " AND (CAST($4 AS text) IS NULL OR r.requester = $4)"
			 " ORDER BY r.created_at DESC, r.id LIMIT $5",
			 &p, &res, NULL, "listing certificate requests")) != CRT_OK)
		return r;
	if ((r = pg_rows_alloc(res, sizeof(*list), &list, &cnt)) != CRT_OK) {
		PQclear(res);
		return r;
	}
	for (i = 0; i < cnt; i++)
		if (!row_to_request(res, i, &list[i]))
			break;
	PQclear(res);
	if (i < cnt) {
		crt_request_list_free(list, (size_t)i);
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	}
	*out = list;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status request_row(const PGresult *res, int i, void *elem)
{
	return row_to_request(res, i, elem) ? CRT_OK : CRT_E_NOMEM;
}

static void request_free(void *list, size_t n)
{
	crt_request_list_free(list, n);
}

static crt_status pg_request_page(crt_ctx *ctx, const request_bounds *b, const char *user,
				  const crt_page *p, crt_request **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_requests(&q, 1, REQUEST_COLS, REQUEST_FROM, b, user, p, 0) != 0 ||
	    list_sql_requests(&qc, 1, REQUEST_COLS, REQUEST_FROM, b, user, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the request list query did not fit");
	return pg_list_page(ctx, &q, &qc, sizeof(**out), request_row, request_free, out, n, total,
			    "listing certificate requests");
}

static crt_status pg_request_decide(crt_ctx *ctx, const store_request_change *c, int *changed)
{
	pg_params p = {0};
	int64_t rows = 0;
	crt_status r;

	pp_int(&p, c->to);
	pp_int(&p, c->now);
	pp_text(&p, c->decided_by);
	pp_text(&p, c->reason);
	pp_text(&p, c->serial);
	pp_text(&p, c->id);
	pp_int(&p, c->expire ? 1 : 0);
	r = pg_exec(ctx,
		    "UPDATE certificate_requests SET state = $1, decided_at = $2, decided_by = $3, "
		    "reason = $4, serial = $5 WHERE id = $6 AND state = 0 "
		    "AND ((CAST($7 AS integer) = 0 AND expires_at > $2) "
		    "OR ($7 = 1 AND expires_at <= $2))",
		    &p, NULL, &rows, "deciding the certificate request");
	*changed = r == CRT_OK ? (int)rows : 0;
	return r;
}

const struct store_request_ops pg_request_ops = {
    .insert = pg_request_insert,
    .get = pg_request_get,
    .list = pg_request_list,
    .page = pg_request_page,
    .decide = pg_request_decide,
};
