/*
 * h_ocsp.c — the OCSP responder (RFC 6960), public like /crl:
 *   POST /ocsp            body: a DER OCSPRequest, Content-Type
 *                         application/ocsp-request, at most OCSP_MAX_BODY bytes
 *   GET  /ocsp/{request}  the DER request base64-encoded (RFC 6960 A.1),
 *                         URL-encoded: '/' may come as %2F or as a literal
 *                         slash (the route takes the rest of the path), '+'
 *                         as %2B; the base64url alphabet is accepted too
 * The answer is always an OCSP response (application/ocsp-response, HTTP
 * 200): what cannot be read as a request is a malformedRequest response,
 * a busy store tryLater, a failure on our side internalError (logged).
 * crt_ocsp_respond (libcrtoken) decides; this file only moves bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

#define OCSP_TYPE "application/ocsp-response"

static void answer(struct request *rq, const unsigned char *der, size_t len)
{
	crt_ocsp_response resp;
	crt_status s = crt_ocsp_respond(rq->ctx, der, len, &resp);

	if (resp.der == NULL) {
		reply_status(rq, s);
		return;
	}
	if (s != CRT_OK)
		log_msg(LOG_ERR, "OCSP: %s: %s (answered with OCSP status %d)",
		        crt_status_name(s), crt_errdetail(rq->ctx), resp.response_status);
	/* Made per request (nonce, thisUpdate now): reply_data's no-store stands. */
	reply_data(rq, 200, OCSP_TYPE, resp.der, resp.der_len);
	crt_ocsp_response_clear(&resp);
}

void h_ocsp_post(struct request *rq)
{
	answer(rq, (const unsigned char *)rq->body, rq->body ? rq->body_len : 0);
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the path segment: percent-escapes first (libmicrohttpd has usually
 * undone them already), then base64 with or without '=' padding. Returns
 * the length, or -1 when it is not base64 (then a malformedRequest).
 */
static long decode_request(const char *in, unsigned char *out, size_t cap)
{
	unsigned acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0;

	for (const char *p = in; *p != '\0'; p++) {
		int c = (unsigned char)*p, v;
		if (c == '%') {
			int h = hexval((unsigned char)p[1]), l = h < 0 ? -1 : hexval((unsigned char)p[2]);
			if (l < 0)
				return -1;
			c = h * 16 + l;
			p += 2;
		}
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val(c)) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return (long)o;
}

void h_ocsp_get(struct request *rq)
{
	unsigned char der[sizeof(rq->param)];
	long n = decode_request(rq->param, der, sizeof(der));

	/* Not base64: handed on as no request at all, so it is answered
	 * malformedRequest like any other unreadable request. */
	answer(rq, der, n < 0 ? 0 : (size_t)n);
}
