/*
 * denied.c — the answer to a request its API key may not make: 403
 * permission_denied, audited (http.permission_denied) and logged. Apart from
 * auth.c so that the handlers that refuse a key (h_tokens.c: a profile the
 * key is not limited to) link without the login gate (tests/fuzz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crtokend.h"

void auth_denied(struct request *rq, const char *scope, const char *profile)
{
	char msg[160];
	json_t *d;
	char *text;

	d = json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "method", rq->method, "route",
	              rq->route->pattern, "scope", scope, "profile", profile, "remote", rq->remote);
	if (d != NULL && (text = json_dumps(d, JSON_COMPACT)) != NULL) {
		if (crt_audit_event(rq->ctx, rq->actor, "http.permission_denied", rq->apikey.id,
		                    text) != CRT_OK)
			log_msg(LOG_WARNING, "audit http.permission_denied failed: %s",
			        crt_errdetail(rq->ctx));
		free(text);
	}
	json_decref(d);
	log_msg(LOG_NOTICE, "http.permission_denied: %s %s by %s", rq->method, rq->route->pattern,
	        rq->actor);
	if (profile != NULL)
		snprintf(msg, sizeof(msg),
		         "this API key may not create or manage tokens (or their requests) of "
		         "profile \"%s\"",
		         profile);
	else
		snprintf(msg, sizeof(msg), "this API key lacks the scope %s",
		         scope ? scope : "(the route names none)");
	reply_error(rq, CRT_E_FORBIDDEN, msg);
}

/* 0 when the key may act on the token of token_id, else -1 after replying. */
static int key_allows_token(struct request *rq, const char *token_id)
{
	crt_token t;
	crt_status s;
	int ret = 0;

	memset(&t, 0, sizeof(t));
	if ((s = crt_token_get(rq->ctx, token_id, &t)) != CRT_OK) {
		reply_status(rq, s);
		return -1;
	}
	if (!crt_apikey_allows_profile(&rq->apikey, t.profile)) {
		auth_denied(rq, NULL, t.profile ? t.profile : CRT_CERT_PROFILE_DEFAULT);
		ret = -1;
	}
	crt_token_clear(&t);
	return ret;
}

int auth_token_profile(struct request *rq)
{
	if (rq->apikey.profiles == NULL)
		return 0; /* a key of every profile (or no key: a requester) */
	return key_allows_token(rq, rq->param);
}

int auth_request_profile(struct request *rq)
{
	crt_request q;
	crt_status s;
	int ret;

	if (rq->apikey.profiles == NULL)
		return 0;
	memset(&q, 0, sizeof(q));
	if ((s = crt_request_get(rq->ctx, rq->param, &q)) != CRT_OK) {
		reply_status(rq, s);
		return -1;
	}
	ret = key_allows_token(rq, q.token_id);
	crt_request_clear(&q);
	return ret;
}
