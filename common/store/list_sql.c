/*
 * list_sql.c — the paged list queries both backends share (list_sql.h).
 */
#include <stdio.h>
#include <string.h>

#include "rules/paging.h"
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

/* The audit columns crt_audit_sort_fields names, in its order. */
static const char *const audit_columns[] = {"at", "id", "actor", "action", "object"};

static void audit_where(list_sql *q, const crt_audit_filter *f)
{
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
	begin(q, dollar);
	if (count) {
		add(q, "SELECT count(*) FROM audit");
		audit_where(q, f);
		return q->overflow ? -1 : 0;
	}
	add(q, "SELECT id, at, actor, action, object, detail, (SELECT count(*) FROM audit");
	audit_where(q, f);
	add(q, ") FROM audit");
	audit_where(q, f);
	order_limit(q, p, audit_columns, sizeof(audit_columns) / sizeof(audit_columns[0]), "id");
	return q->overflow ? -1 : 0;
}
