/*
 * h_certs.c — admin endpoints for issued client certificates:
 *   GET  /client-certificates[?status=&expiringWithinDays=&tokenId=&neverSeen=&staleDays=]
 *   GET  /client-certificates/{serial}
 *   POST /client-certificates/{serial}/revoke {"reason"}
 * Revocation goes through libcrtoken, which records it and publishes a fresh
 * CRL in the same call (as crtoken-admin cert revoke does), so /crl and the
 * CRL file show it at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

/* Without page, size or sort: every match as a bare array (as before
 * paging); with any of them {"items","page","size","total"}, the page cut
 * by the store (crt_cert_page). */
void h_cert_list(struct request *rq)
{
	const char *qp = req_query(rq, "page"), *qs = req_query(rq, "size"),
	           *qo = req_query(rq, "sort"), *why = NULL;
	int paged = qp != NULL || qs != NULL || qo != NULL;
	int64_t total = 0;
	crt_page pg;
	const char *status = req_query(rq, "status"), *days = req_query(rq, "expiringWithinDays");
	const char *never = req_query(rq, "neverSeen"), *stale = req_query(rq, "staleDays");
	crt_cert_filter f = {.status = -1, .token_id = NULL, .expiring_within_days = -1};
	crt_cert *list = NULL;
	json_t *arr;
	size_t n = 0, i;
	crt_status s;
	char *end;
	long v;

	if (status != NULL && (f.status = crt_cert_status_parse(status)) < 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "status must be valid, revoked or expired");
		return;
	}
	if (days != NULL) {
		errno = 0;
		v = strtol(days, &end, 10);
		if (*days == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 36500) {
			reply_error(rq, CRT_E_REQUEST_INVALID,
			            "expiringWithinDays must be a number of days (0-36500)");
			return;
		}
		f.expiring_within_days = (int)v;
	}
	if (never != NULL) {
		if (strcmp(never, "true") != 0 && strcmp(never, "false") != 0) {
			reply_error(rq, CRT_E_REQUEST_INVALID, "neverSeen must be true or false");
			return;
		}
		f.never_seen = strcmp(never, "true") == 0;
	}
	if (stale != NULL) {
		errno = 0;
		v = strtol(stale, &end, 10);
		if (*stale == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 36500) {
			reply_error(rq, CRT_E_REQUEST_INVALID,
			            "staleDays must be a number of days (1-36500)");
			return;
		}
		f.stale_days = (int)v;
	}
	f.token_id = req_query(rq, "tokenId");
	if (paged && (s = crt_page_parse(qp, qs, qo, crt_cert_sort_fields, 0, &pg, &why)) != CRT_OK) {
		reply_error(rq, s, why);
		return;
	}
	s = paged ? crt_cert_page(rq->ctx, &f, &pg, &list, &n, &total)
	          : crt_cert_list(rq->ctx, &f, &list, &n);
	if (s != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	if ((arr = json_array()) != NULL) {
		for (i = 0; i < n; i++) {
			if (json_array_append_new(arr, crt_cert_json(&list[i], 0)) != 0) {
				json_decref(arr);
				arr = NULL;
				break;
			}
		}
	}
	crt_cert_list_free(list, n);
	if (paged && arr != NULL)
		arr = json_pack("{s:o, s:i, s:i, s:I}", "items", arr, "page", pg.page, "size", pg.size,
		                "total", (json_int_t)total);
	reply_json(rq, 200, arr);
}

void h_cert_get(struct request *rq)
{
	crt_cert c;
	crt_status s;

	memset(&c, 0, sizeof(c));
	if ((s = crt_cert_get(rq->ctx, rq->param, &c)) != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	reply_json(rq, 200, crt_cert_json(&c, 1));
	crt_cert_clear(&c);
}

void h_cert_revoke(struct request *rq)
{
	static const char *const keys[] = {"reason", NULL};
	const char *reason_name = NULL;
	json_t *obj = NULL;
	crt_cert c;
	crt_crl crl = {0};
	crt_status s;
	int reason = 0;

	memset(&c, 0, sizeof(c));
	if (rq->body_len > 0) {
		if ((obj = req_body_object(rq)) == NULL)
			return;
		if (req_only_keys(rq, obj, keys) != 0 ||
		    req_str(rq, obj, "reason", &reason_name, NULL) != 0)
			goto out;
	}
	if (reason_name != NULL && (reason = crt_reason_parse(reason_name)) < 0) {
		reply_error(rq, CRT_E_REASON_INVALID, reason_name);
		goto out;
	}
	if ((s = crt_cert_revoke(rq->ctx, rq->param, reason, rq->actor, &crl)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	if (!crl.file_written)
		log_msg(LOG_ERR, "certificate revoked, CRL #%lld published, but %s was not written: %s",
		        (long long)crl.meta.number, rq->cfg->crl_file, crt_status_name(crl.file_status));
	if ((s = crt_cert_get(rq->ctx, rq->param, &c)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	reply_json(rq, 200, crt_cert_json(&c, 0));
out:
	crt_cert_clear(&c);
	crt_crl_clear(&crl);
	json_decref(obj);
}
