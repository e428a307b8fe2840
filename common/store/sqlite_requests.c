/*
 * sqlite_requests.c — the certificate request verbs of the storage port
 * (store/port_requests.h) on SQLite: table certificate_requests. Unset
 * times and strings are NULL, as in the other tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/sqlite.h"

#define REQUEST_COLS                                                                       \
	"r.id, r.token_id, t.name, r.cn, r.org, r.ou, r.csr, r.requester, r.remote, "       \
	"r.submitted_by, r.attestation, r.created_at, r.expires_at, r.decided_at, "         \
	"r.decided_by, r.reason, r.serial, r.state, r.poll_hash"
#define REQUEST_FROM " FROM certificate_requests r LEFT JOIN tokens t ON t.id = r.token_id"

static int64_t col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

/* Fill r from a row selected with REQUEST_COLS; CRT_E_NOMEM when a copy failed. */
static crt_status row_to_request(sqlite3_stmt *st, crt_request *r)
{
	char **strs[] = {&r->token_name, &r->cn,	  &r->org,	  &r->ou,
			 &r->csr,	 &r->requester,	  &r->remote,	  &r->submitted_by,
			 &r->attestation, &r->decided_by, &r->reason, &r->serial};
	static const int col[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16};

	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(r->token_id, sizeof(r->token_id), "%s", (const char *)sqlite3_column_text(st, 1));
	for (size_t k = 0; k < sizeof(col) / sizeof(col[0]); k++)
		if (sqlite3_column_type(st, col[k]) != SQLITE_NULL &&
		    (*strs[k] = store_col_strdup(st, col[k])) == NULL) {
			crt_request_clear(r);
			return CRT_E_NOMEM;
		}
	r->created_at = col_time(st, 11);
	r->expires_at = col_time(st, 12);
	r->decided_at = col_time(st, 13);
	r->state = sqlite3_column_int(st, 17);
	return CRT_OK;
}

static crt_status sq_request_insert(crt_ctx *ctx, const store_request_row *q)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(
	    ctx,
	    "INSERT INTO certificate_requests(id, token_id, poll_hash, state, cn, org, ou, csr, "
	    "requester, remote, submitted_by, attestation, created_at, expires_at) "
	    "VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	    &st);
	if (r != CRT_OK)
		return r;
	store_bind_text(st, 1, q->id);
	store_bind_text(st, 2, q->token_id);
	store_bind_text(st, 3, q->poll_hash);
	store_bind_text(st, 4, q->cn);
	store_bind_text(st, 5, q->org);
	store_bind_text(st, 6, q->ou);
	store_bind_text(st, 7, q->csr);
	store_bind_text(st, 8, q->requester);
	store_bind_text(st, 9, q->remote);
	store_bind_text(st, 10, q->submitted_by);
	store_bind_text(st, 11, q->attestation);
	sqlite3_bind_int64(st, 12, q->created_at);
	sqlite3_bind_int64(st, 13, q->expires_at);
	int rc = sqlite3_step(st);
	store_done(st);
	if (rc == SQLITE_CONSTRAINT)
		return ctx_fail(ctx, CRT_E_EXISTS, "token %s already has a certificate request",
				q->token_id);
	return rc == SQLITE_DONE ? CRT_OK : store_error(ctx, rc, "storing the certificate request");
}

static crt_status sq_request_get(crt_ctx *ctx, const char *id, crt_request *out,
				 char poll_hash[65], int *found)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(ctx, "SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.id = ?1",
				     &st);
	int rc;

	*found = 0;
	memset(out, 0, sizeof(*out));
	if (poll_hash != NULL)
		poll_hash[0] = '\0';
	if (r != CRT_OK)
		return r;
	store_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((r = row_to_request(st, out)) == CRT_OK) {
			*found = 1;
			if (poll_hash != NULL && sqlite3_column_type(st, 18) != SQLITE_NULL)
				snprintf(poll_hash, 65, "%s", (const char *)sqlite3_column_text(st, 18));
		} else {
			r = ctx_fail(ctx, r, "out of memory");
		}
	} else if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading the certificate request");
	}
	store_done(st);
	return r;
}

static crt_status sq_request_list(crt_ctx *ctx, const request_bounds *b, const char *user,
				  int limit, crt_request **out, size_t *n)
{
	sqlite3_stmt *st;
	crt_request *list = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	/* ?1 = -1: any state; 4 (expired): stored expired or pending past
	 * expires_max (rules/request.h) */
	r = store_prepare(ctx,
			  "SELECT " REQUEST_COLS REQUEST_FROM " WHERE"
			  " (?1 = -1"
			  "  OR (?1 = 4 AND (r.state = 4 OR (r.state = 0 AND r.expires_at <= ?3)))"
			  "  OR (?1 <> 4 AND r.state = ?1 AND r.expires_at BETWEEN ?2 AND ?3))"
			  " AND (?4 IS NULL OR r.requester = ?4)"
			  " ORDER BY r.created_at DESC, r.id LIMIT ?5",
			  &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int(st, 1, b->stored);
	sqlite3_bind_int64(st, 2, b->expires_min);
	sqlite3_bind_int64(st, 3, b->expires_max);
	store_bind_text(st, 4, user);
	sqlite3_bind_int(st, 5, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, cnt, sizeof(*list)) != 0 ||
		    row_to_request(st, &list[cnt]) != CRT_OK) {
			r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
			goto out;
		}
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing certificate requests");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
	cnt = 0;
out:
	store_done(st);
	crt_request_list_free(list, cnt);
	return r;
}

static crt_status request_row(sqlite3_stmt *st, void *elem)
{
	return row_to_request(st, elem);
}

static void request_free(void *list, size_t n)
{
	crt_request_list_free(list, n);
}

static crt_status sq_request_page(crt_ctx *ctx, const request_bounds *b, const char *user,
				  const crt_page *p, crt_request **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_requests(&q, 0, REQUEST_COLS, REQUEST_FROM, b, user, p, 0) != 0 ||
	    list_sql_requests(&qc, 0, REQUEST_COLS, REQUEST_FROM, b, user, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the request list query did not fit");
	return sq_list_page(ctx, &q, &qc, sizeof(**out), p->size, request_row, request_free, out,
			    n, total, "listing certificate requests");
}

static crt_status sq_request_decide(crt_ctx *ctx, const store_request_change *c, int *changed)
{
	sqlite3_stmt *st;
	crt_status r = store_prepare(
	    ctx,
	    "UPDATE certificate_requests SET state = ?1, decided_at = ?2, decided_by = ?3, "
	    "reason = ?4, serial = ?5 WHERE id = ?6 AND state = 0 "
	    "AND ((?7 = 0 AND expires_at > ?2) OR (?7 = 1 AND expires_at <= ?2))",
	    &st);
	*changed = 0;
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int(st, 1, c->to);
	sqlite3_bind_int64(st, 2, c->now);
	store_bind_text(st, 3, c->decided_by);
	store_bind_text(st, 4, c->reason);
	store_bind_text(st, 5, c->serial);
	store_bind_text(st, 6, c->id);
	sqlite3_bind_int(st, 7, c->expire ? 1 : 0);
	int rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "deciding the certificate request");
	*changed = sqlite3_changes(sq_db(ctx));
	return CRT_OK;
}

const struct store_request_ops sqlite_request_ops = {
    .insert = sq_request_insert,
    .get = sq_request_get,
    .list = sq_request_list,
    .page = sq_request_page,
    .decide = sq_request_decide,
};
