/*
 * auth.c — who is calling.
 *
 * Admin endpoints take "Authorization: Bearer <API key>" (crtoken-admin
 * apikey create). Redemption passes the login gate when the config says
 * require_login = yes: HTTP Basic credentials checked through PAM (see
 * pamgate.c); the token's owner check is then done by libcrtoken with the
 * authenticated user. Every attempt is reserved in the per-address limiter
 * before it is evaluated (ratelimit.c), failed ones are audited with the
 * remote address and counted; too many answer 429 with Retry-After before
 * any credential is looked at. Credentials are wiped from memory after use,
 * including the header copy inside libmicrohttpd's connection buffer.
 *
 * A login holds no store context while PAM runs (a failing PAM stack may
 * sleep for seconds; the contexts serve everyone else), and at most
 * [server] max_logins run at once: one more is answered 503 store_busy with
 * Retry-After at once rather than queued. The audit row of a failure
 * borrows a context for just that write.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crtokend.h"


/* Wipe a header value in place once it has served its purpose. */
static void wipe_header(const char *value)
{
	if (value != NULL)
		explicit_bzero((char *)value, strlen(value));
}

static void audit(struct request *rq, const char *action, const char *object, json_t *extra)
{
	json_t *d = extra ? extra : json_object();
	char *text;
	int borrowed = 0;

	if (d == NULL)
		return;
	json_object_set_new(d, "remote", json_string(rq->remote));
	if ((text = json_dumps(d, JSON_COMPACT)) != NULL) {
		if (rq->ctx == NULL) {
			request_borrow(rq);
			borrowed = 1;
		}
		if (crt_audit_event(rq->ctx, "anonymous", action, object, text) != CRT_OK)
			log_msg(LOG_WARNING, "audit %s failed: %s", action, crt_errdetail(rq->ctx));
		if (borrowed)
			request_give_back(rq);
		free(text);
	}
	json_decref(d);
}

/*
 * Reserve an attempt for rq->remote: 0 if it may try to authenticate (the
 * attempt then counts until auth_attempt_done), else replies 429 and
 * returns -1.
 */
static int rate_gate(struct request *rq)
{
	char buf[16];
	int first, wait;

	wait = ratelimit_reserve(rq->srv->rl, rq->remote, rq->cfg->rate_limit_failures,
	                         rq->cfg->rate_limit_seconds, crt_now(), &first);
	if (wait == 0) {
		rq->attempt_reserved = 1;
		return 0;
	}
	if (first)
		audit(rq, "http.rate_limited", rq->remote, json_pack("{s:i}", "retryAfter", wait));
	reply_error(rq, CRT_E_RATE_LIMITED, "too many failed attempts from this address");
	snprintf(buf, sizeof(buf), "%d", wait);
	reply_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, buf);
	return -1;
}

static void failed(struct request *rq, const char *action, const char *object, json_t *extra)
{
	auth_attempt_done(rq, 1);
	audit(rq, action, object, extra);
	log_msg(LOG_NOTICE, "%s: %s from %s", action, object, rq->remote);
}

/* The credentials after "Scheme " in Authorization, or NULL. */
static const char *auth_param(const char *header, const char *scheme)
{
	size_t n = strlen(scheme);

	if (header == NULL || strncasecmp(header, scheme, n) != 0 || header[n] != ' ')
		return NULL;
	header += n;
	while (*header == ' ')
		header++;
	return *header ? header : NULL;
}

int auth_is_basic(struct request *rq)
{
	return auth_param(req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION), "Basic") != NULL;
}

int auth_admin(struct request *rq)
{
	const char *hdr, *key;
	crt_apikey k;
	crt_status s;

	if (rate_gate(rq) != 0)
		return -1;
	hdr = req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	if ((key = auth_param(hdr, "Bearer")) == NULL) {
		auth_attempt_done(rq, 0);
		reply_error(rq, CRT_E_AUTH_REQUIRED, "send Authorization: Bearer <API key>");
		reply_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"crtoken\"");
		return -1;
	}
	s = crt_apikey_verify(rq->ctx, key, &k);
	wipe_header(hdr);
	if (s == CRT_E_APIKEY_INVALID) {
		failed(rq, "http.apikey_failed", "apikey", NULL);
		reply_error(rq, CRT_E_AUTH_FAILED, "the API key is not valid");
		reply_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		             "Bearer realm=\"crtoken\", error=\"invalid_token\"");
		return -1;
	}
	auth_attempt_done(rq, 0);
	if (s != CRT_OK) {
		reply_status(rq, s);
		return -1;
	}
	snprintf(rq->actor, sizeof(rq->actor), "apikey:%s", k.id);
	crt_apikey_clear(&rq->apikey);
	rq->apikey = k;
	/* The route's scope (routes.c); a route naming none is no one's. */
	if (rq->route->scope == 0 || (k.scopes & rq->route->scope) != rq->route->scope) {
		auth_denied(rq, crt_scope_name(rq->route->scope), NULL);
		return -1;
	}
	return 0;
}

int auth_poll(struct request *rq)
{
	const char *hdr = req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *key = auth_param(hdr, "Bearer");

	if (key == NULL || strncmp(key, CRT_POLL_PREFIX, strlen(CRT_POLL_PREFIX)) != 0)
		return auth_admin(rq);
	/* A wrong secret counts against the address like a failed login
	 * (the handler ends the attempt once libcrtoken compared it). */
	if (rate_gate(rq) != 0)
		return -1;
	if (strlen(key) >= sizeof(rq->poll)) {
		wipe_header(hdr);
		failed(rq, "http.poll_failed", rq->param, NULL);
		reply_error(rq, CRT_E_AUTH_FAILED, "not a poll secret");
		return -1;
	}
	snprintf(rq->poll, sizeof(rq->poll), "%s", key);
	wipe_header(hdr);
	snprintf(rq->actor, sizeof(rq->actor), "requester");
	return 0;
}

/* Decode Basic credentials into a malloc'd "user:password"; NULL if malformed. */
static char *basic_decode(const char *b64, size_t *outlen)
{
	size_t n = strlen(b64), pad = 0;
	unsigned char *buf;
	int len;

	if (n == 0 || n % 4 != 0 || n > 8192)
		return NULL;
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n)) < 0) {
		crt_freezero(buf, n / 4 * 3 + 1);
		return NULL;
	}
	if (b64[n - 1] == '=')
		pad++;
	if (b64[n - 2] == '=')
		pad++;
	*outlen = (size_t)len - pad;
	buf[*outlen] = '\0';
	return (char *)buf;
}

static void need_login(struct request *rq, crt_status s, const char *detail)
{
	reply_error(rq, s, detail);
	reply_header(rq, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	             "Basic realm=\"crtoken\", charset=\"UTF-8\"");
}

int auth_redeemer(struct request *rq)
{
	const char *hdr, *b64, *why = NULL;
	char *cred = NULL, *colon;
	size_t credlen = 0;
	crt_status s;
	int ret = -1;

	/* Without a login the redemption itself is the attempt: it is
	 * reserved here and counted by h_redeem (every refusal writes an
	 * audit row, so junk must hit the limit, not the store). */
	if (rate_gate(rq) != 0)
		return -1;
	/* A renewal asks for the login whenever [renewal] require_otp says so. */
	/* Self-service has no "me" without the login. */
	if (!rq->cfg->require_login && !(rq->route->flags & (R_RENEW | R_ME))) {
		snprintf(rq->actor, sizeof(rq->actor), "http:anonymous");
		return 0;
	}
	hdr = req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	if ((b64 = auth_param(hdr, "Basic")) == NULL) {
		auth_attempt_done(rq, 0);
		need_login(rq, CRT_E_AUTH_REQUIRED,
		           "log in with HTTP Basic (user, one-time password)");
		return -1;
	}
	cred = basic_decode(b64, &credlen);
	wipe_header(hdr);
	if (cred == NULL || (colon = strchr(cred, ':')) == NULL || strlen(cred) != credlen) {
		failed(rq, "http.login_failed", "(malformed)", NULL);
		need_login(rq, CRT_E_AUTH_FAILED, "malformed Basic credentials");
		goto out;
	}
	*colon = '\0';
	if (crt_user_name_check(cred) != CRT_OK) {
		failed(rq, "http.login_failed", "(invalid user name)", NULL);
		need_login(rq, CRT_E_AUTH_FAILED, NULL);
		goto out;
	}
	if (__atomic_add_fetch(&rq->srv->logins, 1, __ATOMIC_ACQ_REL) > rq->cfg->max_logins) {
		__atomic_sub_fetch(&rq->srv->logins, 1, __ATOMIC_ACQ_REL);
		reply_error(rq, CRT_E_STORE_BUSY, "too many logins in progress; try again shortly");
		reply_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		goto out;
	}
	s = pam_gate(rq->cfg->pam_service, cred, colon + 1, rq->remote, &why);
	__atomic_sub_fetch(&rq->srv->logins, 1, __ATOMIC_ACQ_REL);
	if (s == CRT_E_AUTH_FAILED) {
		failed(rq, "http.login_failed", cred,
		       json_pack("{s:s}", "service", rq->cfg->pam_service));
		need_login(rq, CRT_E_AUTH_FAILED, NULL);
		goto out;
	}
	if (s == CRT_E_OTP_LOCKED) {
		/* A failed login like any other (counted, audited), answered
		 * 429 otp_locked: see pamgate.c for what that reveals. */
		failed(rq, "http.login_failed", cred,
		       json_pack("{s:s, s:s}", "service", rq->cfg->pam_service, "reason",
		                 crt_status_name(s)));
		reply_error(rq, s, NULL);
		goto out;
	}
	auth_attempt_done(rq, 0);
	if (s == CRT_E_SEAL) {
		/* This node's OTP key is not the one that sealed the secret
		 * (pamgate.c): 503 seal_error, the why in the log only; another
		 * node may have the right key. */
		reply_error_http(rq, 503, s, why);
		goto out;
	}
	if (s != CRT_OK) {
		reply_error(rq, s, why);
		goto out;
	}
	snprintf(rq->user, sizeof(rq->user), "%s", cred);
	snprintf(rq->actor, sizeof(rq->actor), "%s", cred);
	ret = 0;
out:
	auth_attempt_done(rq, 0); /* every path not yet counted */
	if (cred != NULL)
		crt_freezero(cred, credlen + 1);
	return ret;
}
