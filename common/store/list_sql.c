/*
 * list_sql.c — the paged list queries both backends share (list_sql.h).
 */
#include <stdio.h>
#include <string.h>

#include "rules/paging.h"
#include "rules/request.h"
#include "rules/token.h"
#include "store/list_sql.h"

/* Append a constant fragment (no placeholder in it). */
static void add(list_sql *q, const char *fragment)
{
	size_t n = strlen(fragment);

	if (q->overflow || q->len + n >= sizeof(q->sql)) {
		q->overflow = 1;
		return;
	}
	memcpy(q->sql + q->len, fragment, n + 1);
	q->len += n;
}

/* Append the next placeholder. */
static list_param *placeholder(list_sql *q)
{
	char ph[16];

	if (q->n >= LIST_SQL_PARAMS) {
		q->overflow = 1;
		return NULL;
	}
	snprintf(ph, sizeof(ph), "%c%d", q->dollar ? '$' : '?', q->n + 1);
	add(q, ph);
	return q->overflow ? NULL : &q->p[q->n++];
}

static void add_text(list_sql *q, const char *s)
{
	list_param *v = placeholder(q);
	if (v != NULL)
		*v = (list_param){.text = s};
}

static void add_int(list_sql *q, int64_t i)
{
	list_param *v = placeholder(q);
	if (v != NULL)
		*v = (list_param){.is_int = 1, .i = i};
}

static void begin(list_sql *q, int dollar)
{
	q->sql[0] = '\0';
	q->len = 0;
	q->dollar = dollar;
	q->overflow = 0;
	q->n = 0;
}

/* " ORDER BY ... LIMIT ... OFFSET ..." */
static void order_limit(list_sql *q, const crt_page *p, const char *const *columns,
			size_t ncolumns, const char *tiebreak)
{
	char order[256];

	if (paging_order_by(p, columns, ncolumns, tiebreak, order, sizeof(order)) != 0) {
		q->overflow = 1;
		return;
	}
	add(q, " ");
	add(q, order);
	add(q, " LIMIT ");
	add_int(q, p->size);
	add(q, " OFFSET ");
	add_int(q, crt_page_offset(p));
}

/* The columns each list's sort fields (crtoken.h) name, in their order.
 * Text columns sort bytewise on both backends: SQLite's BINARY is its
 * default, PostgreSQL's columns without COLLATE "C" are given it here. */
static const char *const audit_columns[] = {"at", "id", "actor", "action", "object"};
static const char *const audit_columns_pg[] = {"at", "id", "actor COLLATE \"C\"", "action",
					       "object COLLATE \"C\""};
static const char *const token_columns[] = {"created_at", "name", "expires_at", "updated_at"};
static const char *const token_columns_pg[] = {"created_at", "name COLLATE \"C\"", "expires_at",
					       "updated_at"};
static const char *const cert_columns[] = {"c.issued_at", "c.not_after", "c.name", "c.serial"};
static const char *const cert_columns_pg[] = {"c.issued_at", "c.not_after", "c.name COLLATE \"C\"",
					      "c.serial"};
/* decided_at is NULL until decided: 0 sorts it first ascending on both
 * backends (their NULLs sort apart) */
static const char *const request_columns[] = {"r.created_at", "r.expires_at",
					      "coalesce(r.decided_at, 0)"};
#define NCOLS(a) (sizeof(a) / sizeof(a[0]))

/* A list's WHERE clause, built from its filter (each filter value a bound
 * parameter); called once per use, as every use binds its own. */
typedef void list_where(list_sql *q, const void *filter);

/* The skeleton every list shares: "SELECT count(*) FROM ... WHERE ..." when
 * count, else one page of columns with the filtered total as a last column. */
static int paged_select(list_sql *q, int dollar, const char *columns, const char *from,
			list_where *where, const void *filter, const crt_page *p,
			const char *const *sort_columns, size_t nsort, const char *tiebreak, int count)
{
	begin(q, dollar);
	if (count) {
		add(q, "SELECT count(*)");
		add(q, from);
		where(q, filter);
		return q->overflow ? -1 : 0;
	}
	add(q, "SELECT ");
	add(q, columns);
	add(q, ", (SELECT count(*)");
	add(q, from);
	where(q, filter);
	add(q, ")");
	add(q, from);
	where(q, filter);
	order_limit(q, p, sort_columns, nsort, tiebreak);
	return q->overflow ? -1 : 0;
}

static void audit_where(list_sql *q, const void *filter)
{
	const crt_audit_filter *f = filter;

	add(q, " WHERE 1 = 1");
	if (f == NULL)
		return;
	if (f->actor != NULL) {
		add(q, " AND actor = ");
		add_text(q, f->actor);
	}
	if (f->action != NULL) {
		/* action itself, or a dotted action under it: [action + ".", action + "/")
		 * in byte order ('/' follows '.'), which the audit_action index serves
		 * (both backends compare the column bytewise). An action ending in
		 * '.' ("token.") is a prefix only. */
		size_t n = strlen(f->action);
		int dotted = n > 0 && f->action[n - 1] == '.';
		if (n > sizeof(q->scratch[0]) - 2) {
			q->overflow = 1;
			return;
		}
		snprintf(q->scratch[0], sizeof(q->scratch[0]), "%s%s", f->action, dotted ? "" : ".");
		snprintf(q->scratch[1], sizeof(q->scratch[1]), "%.*s/", (int)(n - (size_t)dotted),
			 f->action);
		add(q, dotted ? " AND (" : " AND (action = ");
		if (!dotted) {
			add_text(q, f->action);
			add(q, " OR ");
		}
		add(q, "(action >= ");
		add_text(q, q->scratch[0]);
		add(q, " AND action < ");
		add_text(q, q->scratch[1]);
		add(q, "))");
	}
	if (f->object != NULL) {
		add(q, " AND object = ");
		add_text(q, f->object);
	}
	if (f->since > 0) {
		add(q, " AND at >= ");
		add_int(q, f->since);
	}
	if (f->until > 0) {
		add(q, " AND at < ");
		add_int(q, f->until);
	}
}

int list_sql_audit(list_sql *q, int dollar, const crt_audit_filter *f, const crt_page *p,
		   int count)
{
	return paged_select(q, dollar, "id, at, actor, action, object, detail", " FROM audit",
			    audit_where, f, p, dollar ? audit_columns_pg : audit_columns,
			    NCOLS(audit_columns), "id", count);
}

static void token_where(list_sql *q, const void *filter)
{
	const token_bounds *b = filter;

	add(q, " WHERE 1 = 1");
	/* every expiry (any state, used, deleted): no range for the planner to
	 * prefer over the ORDER BY's index */
	if (b->expires_min != INT64_MIN || b->expires_max != INT64_MAX) {
		add(q, " AND expires_at BETWEEN ");
		add_int(q, b->expires_min);
		add(q, " AND ");
		add_int(q, b->expires_max);
	}
	if (b->deleted >= 0)
		add(q, b->deleted ? " AND deleted_at IS NOT NULL" : " AND deleted_at IS NULL");
	if (b->used >= 0)
		add(q, b->used ? " AND used_at IS NOT NULL" : " AND used_at IS NULL");
}

int list_sql_tokens(list_sql *q, int dollar, const char *columns, const token_bounds *b,
		    const crt_page *p, int count)
{
	return paged_select(q, dollar, columns, " FROM tokens", token_where, b, p,
			    dollar ? token_columns_pg : token_columns, NCOLS(token_columns), "id",
			    count);
}

/* The predicates of the certificate list (port_certs.h list), one per filter given. */
static void cert_where(list_sql *q, const crt_cert_filter *f, int64_t now)
{
	add(q, " WHERE 1 = 1");
	if (f == NULL)
		return;
	switch (f->status) {
	case CRT_CERT_REVOKED:
		add(q, " AND c.revoked_at IS NOT NULL");
		break;
	case CRT_CERT_EXPIRED:
		add(q, " AND c.revoked_at IS NULL AND c.not_after < ");
		add_int(q, now);
		break;
	case CRT_CERT_VALID:
		add(q, " AND c.revoked_at IS NULL AND c.not_after >= ");
		add_int(q, now);
		break;
	default:
		break;
	}
	if (f->token_id != NULL) {
		add(q, " AND c.token_id = ");
		add_text(q, f->token_id);
	}
	if (f->expiring_within_days >= 0) {
		add(q, " AND c.revoked_at IS NULL AND c.not_after >= ");
		add_int(q, now);
		add(q, " AND c.not_after < ");
		add_int(q, now + (int64_t)f->expiring_within_days * 86400);
	}
	if (f->never_seen)
		add(q, " AND s.serial IS NULL");
	if (f->stale_days > 0) {
		add(q, " AND s.last_seen < ");
		add_int(q, now - (int64_t)f->stale_days * 86400);
	}
	if (f->user != NULL) {
		add(q, " AND c.username = ");
		add_text(q, f->user);
	}
}

struct cert_list {
	const crt_cert_filter *f;
	int64_t now;
};

static void cert_list_where(list_sql *q, const void *filter)
{
	const struct cert_list *c = filter;
	cert_where(q, c->f, c->now);
}

int list_sql_certs(list_sql *q, int dollar, const char *columns, const char *from,
		   const crt_cert_filter *f, int64_t now, const crt_page *p, int count)
{
	struct cert_list c = {f, now};
	return paged_select(q, dollar, columns, from, cert_list_where, &c, p,
			    dollar ? cert_columns_pg : cert_columns, NCOLS(cert_columns), "c.serial",
			    count);
}

/* The predicates of the request list (port_requests.h list). */
static void request_where(list_sql *q, const request_bounds *b, const char *user)
{
	add(q, " WHERE 1 = 1");
	if (b->stored == CRT_REQUEST_EXPIRED) {
		/* stored expired, or pending past expires_max (rules/request.h) */
		add(q, " AND (r.state = 4 OR (r.state = 0 AND r.expires_at <= ");
		add_int(q, b->expires_max);
		add(q, "))");
	} else if (b->stored >= 0) {
		add(q, " AND r.state = ");
		add_int(q, b->stored);
		add(q, " AND r.expires_at BETWEEN ");
		add_int(q, b->expires_min);
		add(q, " AND ");
		add_int(q, b->expires_max);
	}
	if (user != NULL) {
		add(q, " AND r.requester = ");
		add_text(q, user);
	}
}

struct request_list {
	const request_bounds *b;
	const char *user;
};

static void request_list_where(list_sql *q, const void *filter)
{
	const struct request_list *r = filter;
	request_where(q, r->b, r->user);
}

int list_sql_requests(list_sql *q, int dollar, const char *columns, const char *from,
		      const request_bounds *b, const char *user, const crt_page *p, int count)
{
	struct request_list r = {b, user};
	return paged_select(q, dollar, columns, from, request_list_where, &r, p, request_columns,
			    NCOLS(request_columns), "r.id", count);
}
