/*
 * cert_revoke.c — `crtoken-admin cert revoke SERIAL [--reason R] [--json]`:
 * revoke, publish the fresh CRL in the same step, show the certificate.
 */
#include <stdio.h>

#include "cert.h"

static const struct option revoke_opts[] = {
    {"reason", required_argument, NULL, CERT_REASON},
    {"json", no_argument, NULL, CERT_JSON},
    {NULL, 0, NULL, 0},
};

static int cert_revoke(admin_env *env, admin_call *call)
{
	const char *serial;
	crt_crl crl = {0};
	crt_cert cert;
	int reason = 0, c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case CERT_REASON:
			if ((reason = crt_reason_parse(optarg)) < 0) {
				fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n",
				        crt_status_name(CRT_E_REASON_INVALID),
				        crt_status_message(CRT_E_REASON_INVALID), optarg);
				return EXIT_USAGE;
			}
			break;
		case CERT_JSON:
			env->json = 1;
			break;
		}
	}
	if (c < 0 || admin_operands(call, 1, "exactly one SERIAL") != 0)
		return call->exit;
	serial = call->argv[optind];
	/* revoke publishes the CRL, so it needs the CA key */
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	if ((r = crt_cert_revoke(env->ctx, serial, reason, admin_actor(), &crl)) != CRT_OK)
		return admin_fail(env, r);
	if (!crl.file_written)
		fprintf(
		    stderr,
		    "crtoken-admin: warning: %s: the CRL #%lld listing the revocation is in the "
		    "store but %s could not be written\n",
		    crt_status_name(crl.file_status), (long long)crl.meta.number,
		    crt_get_config(env->ctx)->crl_file);
	if ((r = crt_cert_get(env->ctx, serial, &cert)) != CRT_OK) {
		rc = admin_fail(env, r);
		goto out;
	}
	if (!env->json)
		printf("Revoked. CRL #%lld published%s%s.\n\n", (long long)crl.meta.number,
		       crl.file_written ? " to " : "",
		       crl.file_written ? crt_get_config(env->ctx)->crl_file : "");
	rc = cert_print(env, &cert);
	crt_cert_clear(&cert);
out:
	crt_crl_clear(&crl);
	return rc;
}

const admin_action cert_revoke_action = {
    .name = "revoke",
    .opts = revoke_opts,
    .run = cert_revoke,
};
