/*
 * h_audit.c — the audit trail for admins (scope audit:read):
 *   GET /audit[?actor=&action=&object=&since=&until=&page=&size=&sort=]
 * → {"items":[audit rows],"page","size","total"}, newest first unless sort
 * says otherwise (at, id, actor, action, object; '-' for descending). The
 * filters and their rules are libcrtoken's (crt_audit_filter_parse,
 * rules/audit.c); the page is cut by the store (crt_audit_page).
 */
#include <string.h>

#include "crtokend.h"

void h_audit_list(struct request *rq)
{
	const char *why = NULL;
	crt_audit_filter f;
	crt_audit_row *rows = NULL;
	crt_page pg;
	json_t *arr, *body = NULL;
	size_t n = 0;
	int64_t total = 0;
	crt_status s;

	if ((s = crt_audit_filter_parse(req_query(rq, "actor"), req_query(rq, "action"),
	                                req_query(rq, "object"), req_query(rq, "since"),
	                                req_query(rq, "until"), &f, &why)) != CRT_OK) {
		reply_error(rq, s, why);
		return;
	}
	if ((s = crt_page_parse(req_query(rq, "page"), req_query(rq, "size"),
	                        req_query(rq, "sort"), crt_audit_sort_fields, 1, &pg, &why)) !=
	    CRT_OK) {
		reply_error(rq, s, why);
		return;
	}
	if ((s = crt_audit_page(rq->ctx, &f, &pg, &rows, &n, &total)) != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	if ((arr = json_array()) != NULL)
		for (size_t i = 0; i < n; i++)
			if (json_array_append_new(arr, crt_audit_json(&rows[i])) != 0) {
				json_decref(arr);
				arr = NULL;
				break;
			}
	crt_audit_list_free(rows, n);
	if (arr != NULL)
		body = json_pack("{s:o, s:i, s:i, s:I}", "items", arr, "page", pg.page, "size",
		                 pg.size, "total", (json_int_t)total);
	reply_json(rq, 200, body);
}
