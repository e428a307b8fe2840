/*
 * h_redeem.c — POST /client-certificates/token/{token}, the redemption,
 * and POST /certificate-request-tokens/preview, what it would issue.
 *
 *   {"type":"CSR","value":"<PEM>", "attestation"?, "commonName"?, "organization"?,
 *    "organizationalUnit"?}
 *   (attestation: the YubiKey PIV attestation of the CSR's key, PEM — the
 *   attestation certificate followed by the device's f9 intermediate)
 *   {"type":"GENERATE","keyType"?, "passphrase"?, "pkcs12Form"?, <same overrides>}
 *   (pkcs12Form "legacy": PBE-SHA1-3DES + SHA-1 MAC, for Apple profiles and
 *   older Windows; default "modern")
 *   {"type":"CERTIFICATE","value":"<PEM>"}
 *   (an upload of an existing certificate, import.c: no key, no overrides —
 *   the subject is the certificate's and must be what the token allows)
 *
 * The login gate already ran (auth.c); the user it authenticated goes to
 * libcrtoken for the owner check. With require_login = no the gate still
 * reserved an attempt for the address: a refused redemption counts as a
 * failure, so an anonymous client writes at most rate_limit_failures
 * refusal audit rows per window before it is answered 429. Everything else — token state, CSR
 * policy, locked fields, single use — is crt_redeem's. The response is made
 * only after the certificate is committed.
 *
 * A token that requires approval (crt_redeem_submit) answers 202 Accepted
 * with the stored request — {"requestId","state":"pending","pollSecret",...}
 * — and Location: /certificate-requests/{id}, which the requester polls
 * with "Authorization: Bearer <pollSecret>" (h_requests.c) until an admin
 * approved (the certificate is in the answer) or denied it. The poll secret
 * is shown here only; the store keeps its SHA-256.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crtokend.h"

static const char *const redeem_keys[] = {
    "type",    "value",      "commonName", "organization", "organizationalUnit",
    "keyType", "passphrase", "pkcs12Form", "attestation", NULL,
};

/* Base64 (standard alphabet, no line breaks) of data; malloc'd. */
static char *b64(const unsigned char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/*
 * 201 for a certificate just issued: its JSON (with the PEM), and with a
 * PKCS#12 (p12 not NULL: GENERATE, token issue) that in base64 and the
 * passphrase made for it, if any; Location /client-certificates/SERIAL. A
 * response that cannot be built is logged and answered 201 without a body:
 * the certificate is issued and stored either way.
 */
void reply_issued(struct request *rq, const crt_cert *c, const unsigned char *p12,
                  size_t p12_len, const char *pass)
{
	json_t *out = crt_cert_json(c, 1);
	char *p12_b64 = NULL, loc[128];

	if (out != NULL && p12 != NULL &&
	    ((p12_b64 = b64(p12, p12_len)) == NULL ||
	     json_object_set_new(out, "pkcs12", json_string(p12_b64)) != 0 ||
	     (pass != NULL && json_object_set_new(out, "passphrase", json_string(pass)) != 0))) {
		json_decref(out);
		out = NULL;
	}
	if (out == NULL)
		log_msg(LOG_ERR, "certificate %s issued but the response could not be built",
		        c->serial);
	reply_json(rq, 201, out);
	snprintf(loc, sizeof(loc), "/client-certificates/%s", c->serial);
	reply_header(rq, MHD_HTTP_HEADER_LOCATION, loc);
	if (p12_b64 != NULL)
		crt_strfree_secret(p12_b64);
}

void h_redeem(struct request *rq)
{
	const char *type = NULL, *value = NULL, *key_type = NULL, *pass = NULL, *form = NULL,
	           *att = NULL;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	char *pass_out = NULL, loc[128], poll[CRT_TOKEN_STRLEN + 1] = "";
	crt_redeem_req req;
	crt_request pending;
	crt_cert c;
	json_t *obj, *out = NULL;
	crt_status s;
	int generate, upload;

	memset(&c, 0, sizeof(c));
	memset(&req, 0, sizeof(req));
	memset(&pending, 0, sizeof(pending));
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (req_only_keys(rq, obj, redeem_keys) != 0 || req_str(rq, obj, "type", &type, NULL) ||
	    req_str(rq, obj, "value", &value, NULL) ||
	    req_str(rq, obj, "keyType", &key_type, NULL) ||
	    req_str(rq, obj, "passphrase", &pass, NULL) ||
	    req_str(rq, obj, "pkcs12Form", &form, NULL) ||
	    req_str(rq, obj, "attestation", &att, NULL) ||
	    req_str(rq, obj, "commonName", &req.cn, NULL) ||
	    req_str(rq, obj, "organization", &req.org, NULL) ||
	    req_str(rq, obj, "organizationalUnit", &req.ou, NULL))
		goto out;
	if (type == NULL || (strcasecmp(type, "CSR") != 0 && strcasecmp(type, "GENERATE") != 0 &&
			     strcasecmp(type, "CERTIFICATE") != 0)) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "\"type\" must be \"CSR\", \"GENERATE\" or \"CERTIFICATE\"");
		goto out;
	}
	generate = strcasecmp(type, "GENERATE") == 0;
	upload = strcasecmp(type, "CERTIFICATE") == 0;
	if (upload && (value == NULL || key_type != NULL || pass != NULL || form != NULL ||
	               att != NULL || req.cn != NULL || req.org != NULL || req.ou != NULL)) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "type CERTIFICATE takes \"value\" (the PEM certificate) alone: its "
		            "subject is the certificate's, and no key is sent");
		goto out;
	}
	if (form != NULL && strcmp(form, "modern") != 0 && strcmp(form, "legacy") != 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "\"pkcs12Form\" is \"modern\" or \"legacy\"");
		goto out;
	}
	if (!generate && (value == NULL || key_type != NULL || pass != NULL || form != NULL)) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "type CSR takes \"value\" (the PEM CSR), not keyType, passphrase or "
		            "pkcs12Form");
		goto out;
	}
	if (generate && (value != NULL || att != NULL)) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "type GENERATE makes the key on the server: no \"value\" and no "
		            "\"attestation\"");
		goto out;
	}
	req.token = rq->param;
	req.user = rq->user[0] ? rq->user : NULL;
	req.actor = rq->actor;
	req.remote = rq->remote;
	if (upload) {
		req.cert = (const unsigned char *)value;
		req.cert_len = strlen(value);
		s = crt_redeem(rq->ctx, &req, &c);
	} else if (!generate) {
		req.csr = (const unsigned char *)value;
		req.csr_len = strlen(value);
		req.attestation = (const unsigned char *)att;
		req.attestation_len = att != NULL ? strlen(att) : 0;
		s = crt_redeem_submit(rq->ctx, &req, &c, &pending, poll);
	} else {
		s = crt_redeem_generate_form(
		    rq->ctx, &req, key_type ? key_type : "ec-p256", pass,
		    form != NULL && strcmp(form, "legacy") == 0 ? CRT_P12_LEGACY : CRT_P12_MODERN, &c,
		    &p12, &p12_len, &pass_out);
	}
	/* Without a login the attempt reserved by auth.c ends here: a refusal
	 * (audited by libcrtoken) counts against the address. */
	auth_attempt_done(rq, s != CRT_OK);
	if (s == CRT_E_STORE_COMMIT_UNKNOWN) {
		/* The store was lost during the commit and could not say whether
		 * it happened. A redemption may be sent again (single use
		 * decides): 503, the retry answers 201 or token_used. */
		reply_error_http(rq, 503, s, crt_errdetail(rq->ctx));
		goto out;
	}
	if (s != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	if (pending.id[0] != '\0') {
		if ((out = crt_request_json(&pending, 0)) != NULL &&
		    json_object_set_new(out, "pollSecret", json_string(poll)) != 0) {
			json_decref(out);
			out = NULL;
		}
		if (out == NULL)
			log_msg(LOG_ERR, "request %s stored but the response could not be built",
			        pending.id);
		reply_json(rq, 202, out);
		snprintf(loc, sizeof(loc), "/certificate-requests/%s", pending.id);
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, loc);
		goto out;
	}
	reply_issued(rq, &c, generate ? p12 : NULL, p12_len, pass_out);
out:
	crt_freezero(p12, p12_len);
	crt_strfree_secret(pass_out);
	explicit_bzero(poll, sizeof(poll));
	crt_request_clear(&pending);
	crt_cert_clear(&c);
	json_decref(obj); /* strings wiped by the jansson allocator (main.c) */
}

static const char *const preview_keys[] = {
    "token", "commonName", "organization", "organizationalUnit", NULL,
};

/*
 * POST /certificate-request-tokens/preview
 *   {"token", "commonName"?, "organization"?, "organizationalUnit"?}
 *   → 200 crt_preview_json + "network" (network_summary)
 * Behind the same login gate as the redemption (R_REDEEM: the PAM login,
 * or with require_login = no the per-address attempt) and refused with the
 * same codes; it issues and consumes nothing (crt_redeem_preview). A
 * refusal counts against the address like a refused redemption. The token
 * travels in the body, so it is in no URL and no log line.
 */
void h_preview(struct request *rq)
{
	crt_redeem_req req;
	crt_preview p;
	json_t *obj, *out = NULL;
	crt_status s;

	memset(&req, 0, sizeof(req));
	memset(&p, 0, sizeof(p));
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (req_only_keys(rq, obj, preview_keys) != 0 ||
	    req_str(rq, obj, "token", &req.token, NULL) ||
	    req_str(rq, obj, "commonName", &req.cn, NULL) ||
	    req_str(rq, obj, "organization", &req.org, NULL) ||
	    req_str(rq, obj, "organizationalUnit", &req.ou, NULL))
		goto out;
	if (req.token == NULL) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "\"token\" is required");
		goto out;
	}
	req.user = rq->user[0] ? rq->user : NULL;
	req.actor = rq->actor;
	req.remote = rq->remote;
	s = crt_redeem_preview(rq->ctx, &req, &p);
	auth_attempt_done(rq, s != CRT_OK);
	if (s != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	if ((out = crt_preview_json(&p)) != NULL &&
	    json_object_set_new(out, "network", network_summary(rq->cfg)) != 0) {
		json_decref(out);
		out = NULL;
	}
	reply_json(rq, 200, out);
out:
	crt_preview_clear(&p);
	json_decref(obj);
}
