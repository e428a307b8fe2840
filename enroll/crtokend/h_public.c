/*
 * h_public.c — endpoints without authentication:
 *   GET /ca.pem   the CA certificate and its chain (PEM)
 *   GET /crl      the current CRL, DER (application/pkix-crl); PEM with
 *                 ?format=pem or Accept: application/x-pem-file
 *   GET /healthz  liveness: the service is up with its contexts open
 * /ca.pem and /healthz use only the pool's snapshot (pool.c): they answer
 * even while every store context is busy.
 * The CRL is served from [ca] crl_file and re-signed only when the file is
 * missing, past its nextUpdate, or older than the newest revocation. Our
 * own revocations re-sign at once (h_certs.c); one made with crtoken-admin
 * does not publish a CRL by itself, so the store is asked for newer
 * revocations — at most every CRL_RECHECK_SECONDS, as the question costs a
 * walk over the revoked certificates and this endpoint is public.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crtokend.h"

#define CRL_RECHECK_SECONDS 10

void h_ca_pem(struct request *rq)
{
	const char *pem = snapshot_ca_pem(rq->snap);

	reply_data(rq, 200, "application/x-pem-file", pem, strlen(pem));
}

/* Was any certificate revoked at or after t? (1 also on error: re-sign.) */
static int revoked_since(crt_ctx *ctx, time_t t)
{
	crt_cert_filter f = {CRT_CERT_REVOKED, NULL, -1};
	crt_cert *list = NULL;
	size_t n = 0, i;
	int newer = 0;

	if (crt_cert_list(ctx, &f, &list, &n) != CRT_OK)
		return 1;
	for (i = 0; i < n && !newer; i++)
		newer = list[i].revoked_at >= (int64_t)t;
	crt_cert_list_free(list, n);
	return newer;
}

/* The CRL in the file if it is still current, else NULL. */
static X509_CRL *current_crl(struct request *rq)
{
	const char *path = rq->cfg->crl_file;
	struct tm tm;
	X509_CRL *crl = NULL;
	const ASN1_TIME *next;
	FILE *f;
	time_t now = time(NULL);
	int64_t checked = __atomic_load_n(&rq->srv->crl_checked_at, __ATOMIC_ACQUIRE);

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return NULL;
	crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	fclose(f);
	if (crl == NULL)
		return NULL;
	next = X509_CRL_get0_nextUpdate(crl);
	if (next == NULL || X509_cmp_time(next, &now) <= 0 ||
	    !ASN1_TIME_to_tm(X509_CRL_get0_lastUpdate(crl), &tm))
		goto stale;
	if (now - checked >= CRL_RECHECK_SECONDS) {
		if (revoked_since(rq->ctx, timegm(&tm)))
			goto stale;
		__atomic_store_n(&rq->srv->crl_checked_at, (int64_t)now, __ATOMIC_RELEASE);
	}
	return crl;
stale:
	X509_CRL_free(crl);
	return NULL;
}

static X509_CRL *crl_from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_CRL *crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return crl;
}

static int wants_pem(struct request *rq)
{
	const char *fmt = req_query(rq, "format"), *accept = req_header(rq, "Accept");

	if (fmt != NULL)
		return strcmp(fmt, "pem") == 0;
	return accept != NULL && strstr(accept, "application/x-pem-file") != NULL;
}

void h_crl(struct request *rq)
{
	const char *fmt = req_query(rq, "format");
	X509_CRL *crl;
	char *pem = NULL;
	unsigned char *der = NULL;
	BIO *b = NULL;
	BUF_MEM *mem;
	crt_status s;
	int n;

	if (fmt != NULL && strcmp(fmt, "pem") != 0 && strcmp(fmt, "der") != 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "format must be der or pem");
		return;
	}
	if ((crl = current_crl(rq)) == NULL) {
		if ((s = crt_crl_generate(rq->ctx, "crtokend", &pem)) != CRT_OK) {
			reply_status(rq, s);
			return;
		}
		crl = crl_from_pem(pem);
		free(pem);
		if (crl == NULL) {
			reply_error(rq, CRT_E_INTERNAL, "fresh CRL does not parse");
			return;
		}
	}
	if (wants_pem(rq)) {
		if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_CRL(b, crl)) {
			reply_error(rq, CRT_E_NOMEM, NULL);
			goto out;
		}
		BIO_get_mem_ptr(b, &mem);
		reply_data(rq, 200, "application/x-pem-file", mem->data, mem->length);
	} else {
		if ((n = i2d_X509_CRL(crl, &der)) <= 0) {
			reply_error(rq, CRT_E_INTERNAL, "CRL does not encode");
			goto out;
		}
		reply_data(rq, 200, "application/pkix-crl", der, (size_t)n);
	}
out:
	OPENSSL_free(der);
	BIO_free(b);
	X509_CRL_free(crl);
}

void h_healthz(struct request *rq)
{
	reply_json(rq, 200, json_pack("{s:s}", "status", "ok"));
}
