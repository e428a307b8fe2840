/*
 * h_public.c — endpoints without authentication:
 *   GET /ca.pem   every CA certificate of the instance and its chain (PEM),
 *                 the default CA first
 *   GET /crl      the current CRL, DER (application/pkix-crl); PEM with
 *                 ?format=pem or Accept: application/x-pem-file; the
 *                 default CA's, or with ?ca=NAME that of [ca NAME]
 *   GET /healthz  liveness: the service is up with its contexts open
 * /ca.pem and /healthz use only the request's instance (pool.c): they answer
 * even while every store context is busy.
 * /crl is crt_crl_current: the CRL kept in the store, re-signed only when
 * the library's freshness rule says so (a newer revocation, another CA,
 * nextUpdate near) — never because crl_file cannot be written — so this
 * public endpoint writes nothing while the CRL is fresh.
 */
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

void h_ca_pem(struct request *rq)
{
	const char *pem = crt_instance_ca_pem(rq->inst);

	reply_data(rq, 200, "application/x-pem-file", pem, strlen(pem));
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
	const char *fmt = req_query(rq, "format"), *ca = req_query(rq, "ca");
	crt_crl crl = {0};
	crt_status s;

	if (fmt != NULL && strcmp(fmt, "pem") != 0 && strcmp(fmt, "der") != 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "format must be der or pem");
		return;
	}
	if ((s = crt_crl_current_ca(rq->ctx, ca, 0, "crtokend", &crl)) != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	if (crl.resigned && !crl.file_written)
		log_msg(LOG_ERR, "CRL #%lld of CA %s re-signed but its crl_file was not written: %s",
		        (long long)crl.meta.number, ca != NULL ? ca : CRT_CA_DEFAULT,
		        crt_status_name(crl.file_status));
	if (wants_pem(rq))
		reply_data(rq, 200, "application/x-pem-file", crl.pem, strlen(crl.pem));
	else
		reply_data(rq, 200, "application/pkix-crl", crl.der, crl.der_len);
	crt_crl_clear(&crl);
}

void h_healthz(struct request *rq)
{
	reply_json(rq, 200, json_pack("{s:s}", "status", "ok"));
}
