/*
 * h_requests.c — certificate requests, the approval workflow:
 *   GET  /certificate-requests[?state=&user=&limit=]  admin: list, newest first
 *        (&page=&size=&sort=: one page {"items","page","size","total"})
 *   GET  /certificate-requests/{id}                   admin (API key), or the
 *        requester with "Authorization: Bearer <pollSecret>" (the secret the
 *        202 of the redemption returned once); when issued the answer carries
 *        the certificate with its PEM and chain ("issued")
 *   POST /certificate-requests/{id}/approve           admin: sign it → 200 the certificate
 *   POST /certificate-requests/{id}/deny {"reason"}   admin → 200 the request
 *   POST /certificate-requests/{id}/cancel            the requester (Bearer
 *        <pollSecret>, or the PAM login that submitted it, HTTP Basic) or an
 *        admin (requests:approve) → 200 the cancelled request
 *   GET  /me/requests                                 the logged-in user's own
 * Rules, transactions and refusals (request_state, request_unknown) are
 * libcrtoken's (request.c); this file maps JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

/* The request JSON, with the issued certificate (its PEM and chain) once issued. */
static json_t *request_out(struct request *rq, const crt_request *q)
{
	json_t *o = crt_request_json(q, 0);
	crt_cert c;

	if (o == NULL || q->serial == NULL || q->state != CRT_REQUEST_ISSUED)
		return o;
	memset(&c, 0, sizeof(c));
	if (crt_cert_get(rq->ctx, q->serial, &c) == CRT_OK)
		json_object_set_new(o, "issued", crt_cert_json(&c, 1));
	crt_cert_clear(&c);
	return o;
}

/*
 * The requests of user (NULL: anyone's), newest first. Without page, size
 * or sort (or when paging is 0) at most limit of them as a
 * bare array, as before paging; with any of them one page
 * {"items","page","size","total"} cut by the store (crt_request_page).
 */
static void list_for(struct request *rq, const char *user, int paging)
{
	const char *state = req_query(rq, "state"), *limit = req_query(rq, "limit");
	const char *qp = req_query(rq, "page"), *qs = req_query(rq, "size"),
	           *qo = req_query(rq, "sort"), *why = NULL;
	int paged = paging && (qp != NULL || qs != NULL || qo != NULL);
	crt_request_filter f = {.state = -1, .user = user};
	crt_request *list = NULL;
	crt_page pg;
	json_t *arr;
	size_t n = 0;
	int64_t total = 0;
	crt_status s;

	if (state != NULL && (f.state = crt_request_state_parse(state)) < 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "state must be pending, approved, denied, issued, expired or cancelled");
		return;
	}
	if (limit != NULL && paged) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "limit is for the unpaged list: use size");
		return;
	}
	if (limit != NULL) {
		char *end;
		long v = strtol(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || v < 1 || v > 1000) {
			reply_error(rq, CRT_E_REQUEST_INVALID, "limit must be 1-1000");
			return;
		}
		f.limit = (int)v;
	}
	if (paged &&
	    (s = crt_page_parse(qp, qs, qo, crt_request_sort_fields, 1, &pg, &why)) != CRT_OK) {
		reply_error(rq, s, why);
		return;
	}
	s = paged ? crt_request_page(rq->ctx, &f, &pg, &list, &n, &total)
	          : crt_request_list(rq->ctx, &f, &list, &n);
	if (s != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	if ((arr = json_array()) != NULL)
		for (size_t i = 0; i < n; i++)
			if (json_array_append_new(arr, crt_request_json(&list[i], 0)) != 0) {
				json_decref(arr);
				arr = NULL;
				break;
			}
	crt_request_list_free(list, n);
	if (paged && arr != NULL)
		arr = json_pack("{s:o, s:i, s:i, s:I}", "items", arr, "page", pg.page, "size", pg.size,
		                "total", (json_int_t)total);
	reply_json(rq, 200, arr);
}

void h_request_list(struct request *rq)
{
	list_for(rq, req_query(rq, "user"), 1);
}

void h_me_requests(struct request *rq)
{
	if (rq->user[0] == '\0') {
		/* require_login = no: nobody is logged in, so nothing is theirs */
		reply_error(rq, CRT_E_AUTH_REQUIRED,
		            "/me needs the login ([server] require_login = yes)");
		return;
	}
	if (req_query(rq, "user") != NULL) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "/me/requests lists the logged-in user's own");
		return;
	}
	list_for(rq, rq->user, 1);
}

void h_request_get(struct request *rq)
{
	crt_request q;
	crt_status s;

	memset(&q, 0, sizeof(q));
	if (rq->poll[0] != '\0') {
		s = crt_request_poll(rq->ctx, rq->param, rq->poll, &q);
		explicit_bzero(rq->poll, sizeof(rq->poll));
		auth_attempt_done(rq, s == CRT_E_AUTH_FAILED);
		if (s == CRT_E_AUTH_FAILED) {
			if (crt_audit_event(rq->ctx, "anonymous", "http.poll_failed", rq->param,
			                    NULL) != CRT_OK)
				log_msg(LOG_WARNING, "audit http.poll_failed failed: %s",
				        crt_errdetail(rq->ctx));
		}
	} else {
		s = crt_request_get(rq->ctx, rq->param, &q);
	}
	if (s != CRT_OK) {
		reply_status(rq, s);
		if (s == CRT_E_AUTH_FAILED)
			reply_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			             "Bearer realm=\"crtoken\", error=\"invalid_token\"");
		return;
	}
	reply_json(rq, 200, request_out(rq, &q));
	crt_request_clear(&q);
}

void h_request_approve(struct request *rq)
{
	static const char *const keys[] = {NULL};
	json_t *obj = NULL;
	crt_cert c;
	crt_status s;

	memset(&c, 0, sizeof(c));
	if (auth_request_profile(rq) != 0)
		return; /* a key limited to other profiles */
	if (rq->body_len > 0) {
		if ((obj = req_body_object(rq)) == NULL)
			return;
		if (req_only_keys(rq, obj, keys) != 0)
			goto out;
	}
	if ((s = crt_request_approve(rq->ctx, rq->param, rq->actor, &c)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	reply_json(rq, 200, crt_cert_json(&c, 1));
out:
	crt_cert_clear(&c);
	json_decref(obj);
}

void h_request_deny(struct request *rq)
{
	static const char *const keys[] = {"reason", NULL};
	const char *reason = NULL;
	crt_request q;
	json_t *obj;
	crt_status s;

	memset(&q, 0, sizeof(q));
	if (auth_request_profile(rq) != 0)
		return; /* a key limited to other profiles */
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (req_only_keys(rq, obj, keys) != 0 || req_str(rq, obj, "reason", &reason, NULL) != 0)
		goto out;
	if (reason == NULL) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "\"reason\" is required");
		goto out;
	}
	if ((s = crt_request_deny(rq->ctx, rq->param, reason, rq->actor)) != CRT_OK ||
	    (s = crt_request_get(rq->ctx, rq->param, &q)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	reply_json(rq, 200, crt_request_json(&q, 0));
out:
	crt_request_clear(&q);
	json_decref(obj);
}

void h_request_cancel(struct request *rq)
{
	static const char *const keys[] = {NULL};
	crt_request_canceller by = {.actor = rq->actor};
	json_t *obj = NULL;
	crt_request q;
	crt_status s;

	memset(&q, 0, sizeof(q));
	if (auth_request_profile(rq) != 0)
		return; /* a key limited to other profiles */
	if (rq->body_len > 0) {
		if ((obj = req_body_object(rq)) == NULL || req_only_keys(rq, obj, keys) != 0)
			goto out;
	}
	if (rq->poll[0] != '\0')
		by.poll_secret = rq->poll; /* the requester, by its poll secret */
	else if (rq->user[0] != '\0')
		by.user = rq->user; /* the requester, logged in */
	s = crt_request_cancel(rq->ctx, rq->param, &by, &q);
	if (rq->poll[0] != '\0') {
		explicit_bzero(rq->poll, sizeof(rq->poll));
		auth_attempt_done(rq, s == CRT_E_AUTH_FAILED);
		if (s == CRT_E_AUTH_FAILED &&
		    crt_audit_event(rq->ctx, "anonymous", "http.poll_failed", rq->param, NULL) !=
		        CRT_OK)
			log_msg(LOG_WARNING, "audit http.poll_failed failed: %s", crt_errdetail(rq->ctx));
	}
	if (s != CRT_OK) {
		reply_status(rq, s);
		if (s == CRT_E_AUTH_FAILED)
			reply_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			             "Bearer realm=\"crtoken\", error=\"invalid_token\"");
		goto out;
	}
	reply_json(rq, 200, crt_request_json(&q, 0));
out:
	if (rq->poll[0] != '\0') {
		explicit_bzero(rq->poll, sizeof(rq->poll));
		auth_attempt_done(rq, 0);
	}
	crt_request_clear(&q);
	json_decref(obj);
}
