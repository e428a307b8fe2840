/*
 * http.c — crtoken-enroll's one HTTP request: POST a JSON body (or GET), collect the
 * status, the body (bounded) and the headers the client acts on
 * (WWW-Authenticate, Retry-After). TLS is verified against the system trust
 * store or --cacert; there is no switch to turn verification off.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enroll.h"

#define BODY_MAX (1024 * 1024)

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_result *res = userp;
	size_t n = size * nmemb;
	char *nb;

	if (n > BODY_MAX - res->len)
		return 0; /* aborts the transfer */
	if ((nb = malloc(res->len + n + 1)) == NULL)
		return 0;
	if (res->body != NULL) {
		memcpy(nb, res->body, res->len);
		explicit_bzero(res->body, res->len);
		free(res->body);
	}
	memcpy(nb + res->len, data, n);
	res->len += n;
	nb[res->len] = '\0';
	res->body = nb;
	return n;
}

/* Copy the value of header "name:" from a raw header line, trimmed. */
static void take_header(const char *line, size_t len, const char *name, char **dst)
{
	size_t nl = strlen(name), end;

	if (*dst != NULL || len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	line += nl + 1;
	len -= nl + 1;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	end = len;
	while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
		end--;
	if ((*dst = malloc(end + 1)) != NULL) {
		memcpy(*dst, line, end);
		(*dst)[end] = '\0';
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_result *res = userp;
	size_t n = size * nmemb;

	take_header(data, n, "WWW-Authenticate", &res->www_auth);
	take_header(data, n, "Retry-After", &res->retry_after);
	return n;
}

/* What every request of the client sets: the URL (http or https only), the
 * headers, the answer's collectors, timeouts, the user agent, and TLS
 * verification against cacert (NULL: the system's trust store). */
static void set_common(CURL *c, const char *url, struct curl_slist *hdrs, const char *cacert,
                       long timeout, struct http_result *res)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, res);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "crtoken-enroll");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
}

/* Send the request; the status in res->status and a body (empty if none).
 * 0, or -1 with res->error (libcurl's reason, never the URL: it may hold
 * the token). */
static int perform(CURL *c, struct http_result *res)
{
	CURLcode rc;

	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "%s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	if (res->body == NULL && (res->body = calloc(1, 1)) == NULL) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -1;
	}
	return 0;
}

int http_post_json(const char *url, const char *json_body, const char *user, const char *secret,
                   const char *cacert, struct http_result *res)
{
	return http_post_json_tls(url, json_body, user, secret, cacert, NULL, NULL, res);
}

int http_get(const char *url, const char *user, const char *secret, const char *cacert,
             struct http_result *res)
{
	return http_post_json_tls(url, NULL, user, secret, cacert, NULL, NULL, res);
}

int http_post_json_tls(const char *url, const char *json_body, const char *user,
                       const char *secret, const char *cacert, const char *client_cert,
                       const char *client_key, struct http_result *res)
{
	struct curl_slist *hdrs = NULL;
	CURL *c = NULL;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	if ((c = curl_easy_init()) == NULL) {
		snprintf(res->error, sizeof(res->error), "cannot initialise libcurl");
		return -1;
	}
	if (json_body != NULL)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (hdrs == NULL) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	set_common(c, url, hdrs, cacert, 180L, res);
	if (json_body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json_body));
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	if (client_cert != NULL && client_key != NULL) { /* TLS client authentication */
		curl_easy_setopt(c, CURLOPT_SSLCERT, client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, client_key);
	}
	if (user != NULL && secret != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, secret);
	}
	ret = perform(c, res);
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}

/* A GET (json_body NULL) or a POST of json_body with "Authorization: Bearer bearer". */
static int bearer_request(const char *url, const char *bearer, const char *json_body,
                          const char *cacert, struct http_result *res)
{
	struct curl_slist *hdrs = NULL;
	char *auth = NULL;
	CURL *c = NULL;
	int ret = -1;
	size_t n = strlen(bearer) + 32;

	memset(res, 0, sizeof(*res));
	if ((c = curl_easy_init()) == NULL || (auth = malloc(n)) == NULL) {
		snprintf(res->error, sizeof(res->error), "cannot initialise libcurl");
		goto out;
	}
	snprintf(auth, n, "Authorization: Bearer %s", bearer);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (hdrs != NULL && json_body != NULL)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (hdrs == NULL || (hdrs = curl_slist_append(hdrs, auth)) == NULL) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	set_common(c, url, hdrs, cacert, 60L, res);
	if (json_body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json_body));
	}
	ret = perform(c, res);
out:
	curl_slist_free_all(hdrs); /* the list's copy of the header is freed unwiped by
				    * libcurl; ours is wiped */
	if (auth != NULL)
		crt_freezero(auth, n);
	curl_easy_cleanup(c);
	return ret;
}

int http_get_bearer(const char *url, const char *bearer, const char *cacert,
                    struct http_result *res)
{
	return bearer_request(url, bearer, NULL, cacert, res);
}

int http_post_bearer(const char *url, const char *bearer, const char *json_body,
                     const char *cacert, struct http_result *res)
{
	return bearer_request(url, bearer, json_body, cacert, res);
}

void http_result_clear(struct http_result *res)
{
	if (res->body != NULL)
		explicit_bzero(res->body, res->len);
	free(res->body);
	free(res->www_auth);
	free(res->retry_after);
	memset(res, 0, sizeof(*res));
}
