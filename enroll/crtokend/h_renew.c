/*
 * h_renew.c — POST /client-certificates/renew, renewal without a new token.
 *
 *   {"csr": "<PEM CSR for a new key>"}
 *
 * The client authenticates with its current certificate (TLS client
 * authentication, server.c peer_certificate: no certificate is
 * client_certificate_required before the body is read) and, with
 * [renewal] require_otp, with the owner's login too (auth.c). Whether
 * crtoken issued the certificate, whether it may be renewed now and the new
 * key are crt_cert_renew's to decide; a refusal writes nothing. 201 with
 * the new certificate (renewedFrom = the presented serial) and its chain;
 * 503 with Retry-After when the store was lost during the commit and its
 * outcome stays unknown (store_commit_unknown).
 */
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

static const char *const renew_keys[] = {"csr", NULL};

void h_renew(struct request *rq)
{
	const char *csr = NULL;
	crt_renew_req req;
	crt_cert c;
	json_t *obj, *out;
	char loc[128];
	crt_status s;

	memset(&c, 0, sizeof(c));
	memset(&req, 0, sizeof(req));
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (req_only_keys(rq, obj, renew_keys) != 0 || req_str(rq, obj, "csr", &csr, NULL))
		goto out;
	if (csr == NULL) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "\"csr\" (the PEM CSR of a new key) is required");
		goto out;
	}
	if (rq->actor[0] == '\0')
		snprintf(rq->actor, sizeof(rq->actor), "http:client-certificate");
	req.cert = rq->peer_cert;
	req.cert_len = rq->peer_cert_len;
	req.csr = (const unsigned char *)csr;
	req.csr_len = strlen(csr);
	req.user = rq->user[0] ? rq->user : NULL;
	req.actor = rq->actor;
	req.remote = rq->remote;
	s = crt_cert_renew(rq->ctx, &req, &c);
	if (s == CRT_E_STORE_COMMIT_UNKNOWN) {
		/* The store was lost during the commit and could not say whether
		 * it happened (crt_cert_renew read it back). A renewal may be sent
		 * again, as a redemption may: 503, and the retry answers 201 or
		 * 403 renewal_not_allowed ("renewed already", naming the new serial). */
		reply_error_http(rq, 503, s, crt_errdetail(rq->ctx));
		goto out;
	}
	if (s != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	if ((out = crt_cert_json(&c, 1)) == NULL)
		log_msg(LOG_ERR, "certificate %s renewed but the response could not be built",
		        c.serial);
	reply_json(rq, 201, out);
	snprintf(loc, sizeof(loc), "/client-certificates/%s", c.serial);
	reply_header(rq, MHD_HTTP_HEADER_LOCATION, loc);
	log_msg(LOG_NOTICE, "%s: certificate %s renewed as %s", rq->remote,
	        c.renewed_from ? c.renewed_from : "-", c.serial);
out:
	crt_cert_clear(&c);
	json_decref(obj);
}
