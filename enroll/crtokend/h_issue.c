/*
 * h_issue.c — POST /certificate-request-tokens/{id}/issue: a key generated
 * on behalf of the token's owner, by an admin (Bearer API key), without
 * the end user's login.
 *
 *   {"type":"GENERATE", "keyType"?, "passphrase"?, "pkcs12Form"?}
 *   → 201 crt_cert_json + "pkcs12" (base64) [+ "passphrase" when generated]
 *
 * crt_token_issue does the rest: the token is consumed (a second issue is
 * 409 token_used), the certificate belongs to the token's owner, and the
 * audit row (token.issue) names the API key as actor and the owner as user.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crtokend.h"

static const char *const issue_keys[] = {"type", "keyType", "passphrase", "pkcs12Form", NULL};

void h_token_issue(struct request *rq)
{
	const char *type = NULL, *key_type = NULL, *pass = NULL, *form = NULL;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	char *pass_out = NULL;
	crt_cert c;
	json_t *obj;
	crt_status s;

	memset(&c, 0, sizeof(c));
	if (auth_token_profile(rq) != 0)
		return;
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (req_only_keys(rq, obj, issue_keys) != 0 || req_str(rq, obj, "type", &type, NULL) ||
	    req_str(rq, obj, "keyType", &key_type, NULL) ||
	    req_str(rq, obj, "passphrase", &pass, NULL) ||
	    req_str(rq, obj, "pkcs12Form", &form, NULL))
		goto out;
	if (type == NULL || strcasecmp(type, "GENERATE") != 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "\"type\" must be \"GENERATE\" (the key is made on the server)");
		goto out;
	}
	if (form != NULL && strcmp(form, "modern") != 0 && strcmp(form, "legacy") != 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "\"pkcs12Form\" is \"modern\" or \"legacy\"");
		goto out;
	}
	s = crt_token_issue(rq->ctx, rq->param, key_type ? key_type : "ec-p256", pass,
	                    form != NULL && strcmp(form, "legacy") == 0 ? CRT_P12_LEGACY
	                                                                : CRT_P12_MODERN,
	                    rq->actor, &c, &p12, &p12_len, pass == NULL ? &pass_out : NULL);
	if (s != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	reply_issued(rq, &c, p12, p12_len, pass_out);
out:
	crt_freezero(p12, p12_len);
	crt_strfree_secret(pass_out);
	crt_cert_clear(&c);
	json_decref(obj); /* strings wiped by the jansson allocator (main.c) */
}
