/*
 * cmd_ocsp.c — `crtoken-admin ocsp-signer create`: make the delegated
 * OCSP-signing certificate crtokend's responder signs with.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_ocsp_signer(admin_env *env, int argc, char **argv);

static const char ocsp_help[] =
	"usage: crtoken-admin ocsp-signer create [--days N] [--json]\n\n"
	"Make a delegated OCSP-signing certificate: a new key of the CA's key type\n"
	"and a certificate the CA issues for it (extendedKeyUsage OCSPSigning,\n"
	"id-pkix-ocsp-nocheck, CA:FALSE), valid N days (default 365, never past the\n"
	"CA). Written to [ocsp] signer_cert and signer_key, or when those are unset\n"
	"to ocsp-signer.pem and ocsp-signer.key (0600) beside the CA certificate.\n"
	"Responses (POST /ocsp, GET /ocsp/...) are signed with it once [ocsp] names\n"
	"both files and crtokend has reloaded (SIGHUP); until then the CA signs.\n"
	"Run it again before the certificate expires. Audited as ocsp.signer.create.\n";

int cmd_ocsp_signer(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"days", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char certf[4096], keyf[4096], serial[72], *end;
	long days = 365;
	int c, rc;
	crt_status r;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(ocsp_help, stdout);
		return EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "create") != 0)
		return admin_usage_error("ocsp-signer", "expected: ocsp-signer create [--days N]");
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			days = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || days < 1 || days > 36500)
				return admin_usage_error("ocsp-signer", "--days must be 1..36500");
			break;
		case 'j': env->json = 1; break;
		case 'h': fputs(ocsp_help, stdout); return EXIT_OK;
		default: return admin_usage_error("ocsp-signer", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("ocsp-signer", "unexpected argument '%s'", argv[optind]);
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	if ((r = crt_ocsp_signer_create(env->ctx, (int)days, admin_actor(), certf, keyf,
					sizeof(certf), serial)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "serial", json_string(serial));
		json_object_set_new(o, "certificate", json_string(certf));
		json_object_set_new(o, "key", json_string(keyf));
		admin_json_print(o);
	} else {
		printf("Wrote the OCSP signer %s (serial %s) and its key %s\n", certf, serial, keyf);
		printf("Sign responses with it: in crtoken.conf\n  [ocsp]\n  signer_cert = %s\n"
		       "  signer_key = %s\nthen reload crtokend (systemctl reload crtokend).\n",
		       certf, keyf);
	}
	return EXIT_OK;
}
