/*
 * h_me.c — the logged-in user's own certificates (self-service; R_ME:
 * the PAM login is required whatever [server] require_login says):
 *   GET  /me                                {"user", "certificates", "requests"}:
 *                                           both lists with one login (a
 *                                           one-time code works once; the page
 *                                           shows both after one sign-in)
 *   GET  /me/certificates                   serial, name, status, validity,
 *                                           profile, last seen, whether a
 *                                           PKCS#12 is kept (pkcs12Available)
 *   POST /me/certificates/{serial}/revoke   {"reason":"keyCompromise"|
 *                                           "cessationOfOperation"}
 *   GET  /me/certificates/{serial}/pkcs12   the kept PKCS#12 ([generate]
 *                                           keep_pkcs12), under its passphrase
 * Whose certificate is whose, and that another user's serial is answered
 * exactly like one never issued (404 cert_not_found), is libcrtoken's
 * (selfservice.c). The user is the one auth.c authenticated, never a name
 * from the request.
 */
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

static json_t *time_or_null(int64_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	crt_time_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* One certificate as its owner sees it (MyCertificate in openapi.yaml);
 * kept: a PKCS#12 is kept for it (GET /me/certificates/{serial}/pkcs12). */
static json_t *my_cert_json(const crt_cert *c, int kept)
{
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "serial",
	                 c->serial, "name", str_or_null(c->name), "subject", str_or_null(c->subject),
	                 "status", crt_cert_status_name(c->status), "keyType",
	                 str_or_null(c->key_type), "profile",
	                 c->profile ? c->profile : CRT_CERT_PROFILE_DEFAULT, "notBefore",
	                 time_or_null(c->not_before), "notAfter", time_or_null(c->not_after),
	                 "issuedAt", time_or_null(c->issued_at), "revokedAt",
	                 time_or_null(c->revoked_at), "revocationReason",
	                 c->revoked ? json_string(crt_reason_name(c->reason)) : json_null(),
	                 "lastSeen", time_or_null(c->last_seen), "pkcs12Available", kept);
}

/* Is serial among the n kept ones? */
static int is_kept(const char (*kept)[72], size_t n, const char *serial)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(kept[i], serial) == 0)
			return 1;
	return 0;
}

/* The n certificates of list as their owner sees them (kept: the serials
 * whose PKCS#12 is kept); NULL when out of memory. */
static json_t *my_certs_array(const crt_cert *list, size_t n, const char (*kept)[72],
                              size_t nkept)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++) {
		int k = is_kept(kept, nkept, list[i].serial);
		if (json_array_append_new(arr, my_cert_json(&list[i], k)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

/* Without page, size or sort every certificate of the user as a bare
 * array (as before paging); with any of them {"items","page","size","total"},
 * the page cut by the store (crt_my_cert_page; newest first by default). */
void h_me_certs(struct request *rq)
{
	const char *qp = req_query(rq, "page"), *qs = req_query(rq, "size"),
	           *qo = req_query(rq, "sort"), *why = NULL;
	int paged = qp != NULL || qs != NULL || qo != NULL;
	int64_t total = 0;
	crt_page pg;
	crt_cert *list = NULL;
	char(*kept)[72] = NULL;
	json_t *arr;
	size_t n = 0, nkept = 0;
	crt_status s;

	if (paged && (s = crt_page_parse(qp, qs, qo, crt_cert_sort_fields, 1, &pg, &why)) != CRT_OK) {
		reply_error(rq, s, why);
		return;
	}
	s = paged ? crt_my_cert_page(rq->ctx, rq->user, &pg, &list, &n, &total)
	          : crt_my_certs(rq->ctx, rq->user, &list, &n);
	if (s != CRT_OK || (s = crt_my_pkcs12_kept(rq->ctx, rq->user, &kept, &nkept)) != CRT_OK) {
		crt_cert_list_free(list, n);
		reply_status(rq, s);
		return;
	}
	arr = my_certs_array(list, n, (const char(*)[72])kept, nkept);
	crt_cert_list_free(list, n);
	free(kept);
	if (paged && arr != NULL)
		arr = json_pack("{s:o, s:i, s:i, s:I}", "items", arr, "page", pg.page, "size", pg.size,
		                "total", (json_int_t)total);
	reply_json(rq, 200, arr);
}

/*
 * GET /me: the user's certificates (as GET /me/certificates) and their
 * certificate requests (as GET /me/requests: the newest 100) in one
 * answer, so one sign-in — one one-time code — shows both.
 */
void h_me(struct request *rq)
{
	crt_request_filter f = {.state = -1, .user = rq->user, .limit = 100};
	crt_request *reqs = NULL;
	crt_cert *list = NULL;
	char(*kept)[72] = NULL;
	json_t *certs = NULL, *ra = NULL;
	size_t n = 0, nkept = 0, nreq = 0, i;
	crt_status s;

	if ((s = crt_my_certs(rq->ctx, rq->user, &list, &n)) != CRT_OK ||
	    (s = crt_my_pkcs12_kept(rq->ctx, rq->user, &kept, &nkept)) != CRT_OK ||
	    (s = crt_request_list(rq->ctx, &f, &reqs, &nreq)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	certs = my_certs_array(list, n, (const char(*)[72])kept, nkept);
	ra = json_array();
	for (i = 0; ra != NULL && i < nreq; i++)
		if (json_array_append_new(ra, crt_request_json(&reqs[i], 0)) != 0) {
			json_decref(ra);
			ra = NULL;
		}
	if (certs == NULL || ra == NULL) {
		reply_status(rq, CRT_E_NOMEM);
		goto out;
	}
	reply_json(rq, 200,
	           json_pack("{s:s, s:o, s:o}", "user", rq->user, "certificates", certs, "requests",
	                     ra));
	certs = ra = NULL;
out:
	json_decref(certs);
	json_decref(ra);
	crt_request_list_free(reqs, nreq);
	crt_cert_list_free(list, n);
	free(kept);
}

/*
 * GET /me/certificates/{serial}/pkcs12: the kept PKCS#12 ([generate]
 * keep_pkcs12) of the user's own certificate, as application/x-pkcs12,
 * still under its passphrase. Audited by libcrtoken (cert.pkcs12_download).
 */
void h_me_cert_pkcs12(struct request *rq)
{
	unsigned char *p12 = NULL;
	size_t len = 0;
	char disp[128];
	crt_status s;

	if ((s = crt_my_pkcs12(rq->ctx, rq->user, rq->param, rq->remote, &p12, &len)) != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	reply_data(rq, 200, "application/x-pkcs12", p12, len);
	snprintf(disp, sizeof(disp), "attachment; filename=\"%.72s.p12\"", rq->param);
	reply_header(rq, "Content-Disposition", disp);
	reply_header(rq, "Cache-Control", "no-store");
	crt_freezero(p12, len);
}

void h_me_cert_revoke(struct request *rq)
{
	static const char *const keys[] = {"reason", NULL};
	const char *reason_name = NULL;
	json_t *obj;
	crt_cert c;
	crt_crl crl = {0};
	crt_status s;
	int reason;

	memset(&c, 0, sizeof(c));
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (req_only_keys(rq, obj, keys) != 0 || req_str(rq, obj, "reason", &reason_name, NULL) != 0)
		goto out;
	if (reason_name == NULL) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "\"reason\" is required: keyCompromise (the device was lost or stolen) "
		            "or cessationOfOperation (no longer used)");
		goto out;
	}
	if ((reason = crt_reason_parse(reason_name)) < 0)
		reason = -1; /* refused (and audited) by libcrtoken */
	if ((s = crt_my_cert_revoke(rq->ctx, rq->user, rq->param, reason, &crl)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	if (!crl.file_written && crl.resigned)
		log_msg(LOG_ERR, "certificate revoked, CRL #%lld published, but %s was not written: %s",
		        (long long)crl.meta.number, rq->cfg->crl_file, crt_status_name(crl.file_status));
	if ((s = crt_cert_get(rq->ctx, rq->param, &c)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	reply_json(rq, 200, my_cert_json(&c, 0)); /* revoked: its PKCS#12 is removed */
out:
	crt_cert_clear(&c);
	crt_crl_clear(&crl);
	json_decref(obj);
}
