/*
 * cmd_crl.c — `crtoken-admin crl`: publish the current CRL.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_crl(admin_env *env, int argc, char **argv);

static const char crl_help[] =
	"usage: crtoken-admin crl [--ca NAME] [--force] [--out FILE|-] [--json]\n\n"
	"Publish the current CRL: the one kept in the store, re-signed (CRL number\n"
	"incremented, nextUpdate from [ca] crl_days) when it is stale — a newer\n"
	"revocation, another CA, or in the last quarter before its nextUpdate — or\n"
	"with --force. It is written to [ca] crl_file, and optionally a copy to\n"
	"FILE (- for stdout). Run it from a timer so the CRL never expires; GET /crl\n"
	"on crtokend applies the same rule. Each CA has its own CRL, CRL numbers and\n"
	"crl_file: --ca NAME publishes the CRL of [ca NAME] (GET /crl?ca=NAME);\n"
	"without it, the default CA's ([ca]).\n";

int cmd_crl(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'O'},
		{"force", no_argument, NULL, 'f'},
		{"ca", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *ca = NULL;
	crt_crl crl = {0};
	unsigned flags = CRT_CRL_WRITE_FILE;
	int c, rc;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'O': out = optarg; break;
		case 'f': flags |= CRT_CRL_FORCE; break;
		case 'C': ca = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(crl_help, stdout); return EXIT_OK;
		default: return admin_usage_error("crl", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("crl", "unexpected argument '%s'", argv[optind]);
	if (out && (rc = admin_write_out(out, "", 1)) != 0)
		return rc;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	if ((r = crt_crl_current_ca(env->ctx, ca, flags, admin_actor(), &crl)) != CRT_OK)
		return admin_fail(env, r);
	const crt_config *cfg = crt_get_config(env->ctx);
	const char *file = cfg->crl_file;
	for (size_t i = 0; ca != NULL && i < cfg->ncas; i++)
		if (strcmp(cfg->cas[i].name, ca) == 0)
			file = cfg->cas[i].crl_file;
	if (!crl.file_written) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(crl.file_status),
			crt_status_message(crl.file_status), file);
		rc = EXIT_SYSTEM;
	}
	if (out && admin_write_out(out, crl.pem, 0) != 0)
		rc = EXIT_SYSTEM;
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "ca", json_string(ca != NULL ? ca : CRT_CA_DEFAULT));
		json_object_set_new(o, "file", json_string(file));
		json_object_set_new(o, "crlNumber", json_integer(crl.meta.number));
		json_object_set_new(o, "resigned", json_boolean(crl.resigned));
		json_object_set_new(o, "crl", json_string(crl.pem));
		admin_json_print(o);
	} else if ((out == NULL || strcmp(out, "-") != 0) && crl.file_written) {
		printf("%s CRL #%lld to %s\n", crl.resigned ? "Signed and wrote" : "Wrote the current",
		       (long long)crl.meta.number, file);
	}
	crt_crl_clear(&crl);
	return rc;
}
