/*
 * list_sql.h — the paged list queries both backends share (store-private):
 * one SELECT per list built from constant fragments of standard SQL, the
 * filters as bound parameters only (placeholders in the backend's style:
 * ?N for SQLite, $N for PostgreSQL), the ORDER BY from a whitelisted
 * field's index into a constant column table (rules/paging.h), LIMIT and
 * OFFSET, and the total count of the filtered rows as the last column of
 * every row (an uncorrelated subquery: one statement, so one snapshot).
 * No text from a request is ever copied into the SQL.
 *
 * A page past the end has no row to carry the total: the backend then runs
 * the count statement (list_sql_*_count) on its own.
 */
#ifndef CRTOKEN_STORE_LIST_SQL_H
#define CRTOKEN_STORE_LIST_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

#define LIST_SQL_MAX 4096
#define LIST_SQL_PARAMS 24

typedef struct list_param {
	int is_int;
	const char *text; /* borrowed (the filter's) or one of scratch[] */
	int64_t i;
} list_param;

typedef struct list_sql {
	char sql[LIST_SQL_MAX];
	size_t len;
	int dollar;   /* 1: $N placeholders (PostgreSQL), 0: ?N (SQLite) */
	int overflow; /* the text or the parameters did not fit: do not run it */
	int n;
	list_param p[LIST_SQL_PARAMS];
	char scratch[2][260]; /* the action prefix bounds */
} list_sql;

/*
 * Build the statement for one page of the audit rows f (NULL: all) selects,
 * columns id, at, actor, action, object, detail, total; or (count: 1) the
 * statement for the count alone. 0, or -1 when it did not fit (an internal
 * error: the fragments are constant and the strings are passed as
 * parameters, so only a filter string longer than rules/audit.h allows).
 */
int list_sql_audit(list_sql *q, int dollar, const crt_audit_filter *f, const crt_page *p,
		   int count);

struct token_bounds;
struct request_bounds;

/*
 * The same for the token rows within b (rules/token.h), the certificate
 * rows f (NULL: all) selects at now, and the certificate request rows
 * within b whose requester is user (NULL: any). columns is the backend's
 * own constant column list (what its row decoder reads), followed in each
 * row by the total; from (certificates, requests) its constant FROM with
 * the joins those columns need, aliases c / s and r / t as in the
 * backends. Sorts: crt_token_sort_fields, crt_cert_sort_fields,
 * crt_request_sort_fields; the id (serial) breaks ties.
 */
int list_sql_tokens(list_sql *q, int dollar, const char *columns, const struct token_bounds *b,
		    const crt_page *p, int count);
int list_sql_certs(list_sql *q, int dollar, const char *columns, const char *from,
		   const crt_cert_filter *f, int64_t now, const crt_page *p, int count);
int list_sql_requests(list_sql *q, int dollar, const char *columns, const char *from,
		      const struct request_bounds *b, const char *user, const crt_page *p,
		      int count);

#endif /* CRTOKEN_STORE_LIST_SQL_H */
