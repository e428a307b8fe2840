/*
 * respond.c — every response crtokend sends: JSON bodies, raw bodies, and
 * errors as {"error":{"code","message"}} with the core's stable codes. The
 * mapping from libcrtoken status to HTTP status lives here and only here.
 *
 * Response bodies may carry secrets (a token shown once, a PKCS#12 and its
 * passphrase), so every body buffer is wiped when libmicrohttpd releases it.
 */
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

unsigned http_status_for(crt_status s)
{
	/* From the library's one classification (crt_status_kind); only the
	 * HTTP request's own statuses are told apart here. */
	switch (crt_status_kind(s)) {
	case CRT_KIND_OK:
		return 200;
	case CRT_KIND_INVALID:
		return 400;
	case CRT_KIND_AUTH:
		return 401;
	case CRT_KIND_FORBIDDEN:
		return 403;
	case CRT_KIND_NOT_FOUND:
		return 404;
	case CRT_KIND_CONFLICT:
		return 409;
	case CRT_KIND_GONE:
		return 410;
	case CRT_KIND_REFUSED:
		return 422;
	case CRT_KIND_LIMITED:
		return 429;
	case CRT_KIND_BUSY:
		return 503;
	case CRT_KIND_PROTOCOL:
		return s == CRT_E_METHOD ? 405 : s == CRT_E_REQUEST_TOO_LARGE ? 413 : 415;
	case CRT_KIND_FAILURE:
		break;
	}
	return 500;
}

/* A response body that is wiped when released. */
struct blob {
	size_t len;
	char data[];
};

static void blob_free(void *cls)
{
	struct blob *b = cls;

	explicit_bzero(b->data, b->len);
	free(b);
}

/* Make the response from len bytes of data (copied). */
static void respond(struct request *rq, unsigned status, const char *content_type, const void *data,
                    size_t len)
{
	struct blob *b;

	if (rq->resp != NULL) {
		MHD_destroy_response(rq->resp);
		rq->resp = NULL;
	}
	if ((b = malloc(sizeof(*b) + len + 1)) == NULL)
		goto oom;
	b->len = len;
	if (len > 0)
		memcpy(b->data, data, len);
	b->data[len] = '\0';
	rq->resp =
	    MHD_create_response_from_buffer_with_free_callback_cls(len, b->data, blob_free, b);
	if (rq->resp == NULL) {
		blob_free(b);
		goto oom;
	}
	rq->http_status = status;
	if (content_type != NULL)
		MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	/* Tokens, certificates and PKCS#12 files must not sit in caches. */
	MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(rq->resp, "X-Content-Type-Options", "nosniff");
	return;
oom:
	/* A static body needs no allocation beyond the response itself. */
	rq->resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	rq->http_status = 500;
	rq->code = "out_of_memory";
}

void reply_data(struct request *rq, unsigned status, const char *content_type, const void *data,
                size_t len)
{
	respond(rq, status, content_type, data, len);
}

void reply_empty(struct request *rq, unsigned status)
{
	respond(rq, status, NULL, "", 0);
}

void reply_json(struct request *rq, unsigned status, json_t *body)
{
	char *text;
	size_t len;

	if (body == NULL) {
		reply_error(rq, CRT_E_NOMEM, NULL);
		return;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		reply_error(rq, CRT_E_NOMEM, NULL);
		return;
	}
	len = strlen(text);
	respond(rq, status, "application/json", text, len);
	explicit_bzero(text, len);
	free(text);
}

void reply_error(struct request *rq, crt_status s, const char *detail)
{
	reply_error_http(rq, http_status_for(s), s, detail);
}

void reply_error_http(struct request *rq, unsigned status, crt_status s, const char *detail)
{
	json_t *err, *body;
	char *text = NULL;

	rq->code = crt_status_name(s);
	if (status >= 500) {
		/* Internals go to the log, never to the client. */
		log_msg(LOG_ERR, "%s %s %s: %s%s%s", rq->remote, rq->method, rq->logpath,
		        crt_status_name(s), detail && *detail ? ": " : "", detail ? detail : "");
		detail = NULL;
	}
	err = json_pack("{s:s, s:s}", "code", crt_status_name(s), "message", crt_status_message(s));
	if (err != NULL && detail != NULL && *detail != '\0')
		json_object_set_new(err, "detail", json_string(detail));
	body = err ? json_pack("{s:o}", "error", err) : NULL;
	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		static const char fallback[] =
		    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}}";
		respond(rq, 500, "application/json", fallback, sizeof(fallback) - 1);
		return;
	}
	respond(rq, status, "application/json", text, strlen(text));
	free(text);
	if (status == 503)
		reply_header(rq, MHD_HTTP_HEADER_RETRY_AFTER, "1");
}

void reply_status(struct request *rq, crt_status s)
{
	reply_error(rq, s, rq->ctx != NULL ? crt_errdetail(rq->ctx) : NULL);
}

void reply_header(struct request *rq, const char *name, const char *value)
{
	if (rq->resp != NULL)
		MHD_add_response_header(rq->resp, name, value);
}
