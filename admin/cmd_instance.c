/*
 * cmd_instance.c — `crtoken-admin init` (a new self-contained instance) and
 * `crtoken-admin ca show|import`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_init(admin_env *env, int argc, char **argv);
int cmd_ca(admin_env *env, int argc, char **argv);

static const char init_help[] =
	"usage: crtoken-admin init --dir DIR [--ca-key ec-p256|ec-p384|rsa-3072]\n"
	"                          [--ca-subject \"/CN=.../O=...\"] [--ca-days N] [--json]\n"
	"       crtoken-admin init --dir DIR --import-cert FILE --import-key FILE\n"
	"                          [--import-chain FILE] [--json]\n\n"
	"Create a self-contained instance in DIR: crtoken.conf (paths relative to it),\n"
	"the store crtoken.db, the CA (ca.pem, ca.key 0600; generated, or imported e.g.\n"
	"as an intermediate with its chain) and the OTP sealing key otp.key.\n"
	"Then use it with --config DIR/crtoken.conf or CRTOKEN_CONF=DIR/crtoken.conf.\n";

static int print_ca(admin_env *env, const char *dir)
{
	crt_ca_info ci;
	crt_status r = crt_ca_get(env->ctx, &ci);
	char a[32], b[32];
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *o = json_object();
		if (dir != NULL) {
			json_object_set_new(o, "dir", json_string(dir));
			json_object_set_new(o, "config",
					    json_string(crt_get_config(env->ctx)->path));
		}
		json_object_set_new(o, "subject", json_string(ci.subject));
		json_object_set_new(o, "keyType", json_string(ci.key_type));
		json_object_set_new(o, "serial", json_string(ci.serial));
		json_object_set_new(o, "notBefore", admin_json_time(ci.not_before));
		json_object_set_new(o, "notAfter", admin_json_time(ci.not_after));
		json_object_set_new(o, "fingerprintSha256", json_string(ci.fingerprint));
		json_object_set_new(o, "certificate", json_string(ci.pem));
		json_object_set_new(o, "chain", json_string(ci.chain_pem));
		admin_json_print(o);
	} else {
		printf("subject:     %s\nkey type:    %s\nserial:      %s\nvalid:       %s .. %s\n"
		       "fingerprint: SHA256 %s\n",
		       ci.subject, ci.key_type, ci.serial, admin_time(ci.not_before, a),
		       admin_time(ci.not_after, b), ci.fingerprint);
	}
	crt_ca_info_clear(&ci);
	return EXIT_OK;
}

int cmd_init(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"ca-key", required_argument, NULL, 'k'},
		{"ca-subject", required_argument, NULL, 's'},
		{"ca-days", required_argument, NULL, 'D'},
		{"import-cert", required_argument, NULL, 'C'},
		{"import-key", required_argument, NULL, 'K'},
		{"import-chain", required_argument, NULL, 'H'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	crt_init_opts o = {0};
	char err[512], conf[4096];
	crt_status r;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'k': o.ca_key_type = optarg; break;
		case 's': o.ca_subject = optarg; break;
		case 'D':
			o.ca_days = atoi(optarg);
			if (o.ca_days <= 0 || o.ca_days > 36500)
				return admin_usage_error("init", "--ca-days must be 1..36500");
			break;
		case 'C': o.import_cert = optarg; break;
		case 'K': o.import_key = optarg; break;
		case 'H': o.import_chain = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(init_help, stdout); return EXIT_OK;
		default: return admin_usage_error("init", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("init", "unexpected argument '%s'", argv[optind]);
	if (o.dir == NULL)
		return admin_usage_error("init", "--dir DIR is required");
	if (o.import_cert && (o.ca_key_type || o.ca_subject))
		return admin_usage_error("init", "--import-* and --ca-key/--ca-subject exclude each other");
	r = crt_init(&o, err, sizeof(err));
	if (r != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s%s%s\n", crt_status_name(r),
			crt_status_message(r), err[0] ? ": " : "", err);
		return admin_exit_for(r);
	}
	snprintf(conf, sizeof(conf), "%s/crtoken.conf", o.dir);
	env->config = conf;
	if ((c = admin_open(env, 0)) != EXIT_OK)
		return c;
	if (!env->json)
		printf("Created a crtoken instance in %s\n  config: %s\n\n", o.dir,
		       crt_get_config(env->ctx)->path);
	c = print_ca(env, o.dir);
	if (c == EXIT_OK && !env->json)
		printf("\nUse it with: export CRTOKEN_CONF=%s\n", crt_get_config(env->ctx)->path);
	env->config = NULL;
	return c;
}

static const char ca_help[] =
	"usage: crtoken-admin ca show [--json]\n"
	"       crtoken-admin ca import --cert FILE --key FILE [--chain FILE]\n\n"
	"show:   the CA's subject, key type, validity and SHA-256 fingerprint.\n"
	"import: replace the CA with an existing certificate + unencrypted key (e.g. an\n"
	"        intermediate issued by your organisation's root), with its chain.\n"
	"        Certificates issued before keep working only if the issuer name stays\n"
	"        the same.\n";

int cmd_ca(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"cert", required_argument, NULL, 'C'},
		{"key", required_argument, NULL, 'K'},
		{"chain", required_argument, NULL, 'H'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cert = NULL, *key = NULL, *chain = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'C': cert = optarg; break;
		case 'K': key = optarg; break;
		case 'H': chain = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(ca_help, stdout); return EXIT_OK;
		default: return admin_usage_error("ca", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return admin_usage_error("ca", "expected one action: show or import");
	if (strcmp(argv[optind], "show") == 0) {
		if ((rc = admin_open(env, 0)) != EXIT_OK)
			return rc;
		return print_ca(env, NULL);
	}
	if (strcmp(argv[optind], "import") != 0)
		return admin_usage_error("ca", "unknown action '%s'", argv[optind]);
	if (cert == NULL || key == NULL)
		return admin_usage_error("ca", "import needs --cert and --key");
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	crt_status r = crt_ca_import(env->ctx, cert, key, chain, admin_actor());
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (!env->json)
		printf("Imported the CA.\n");
	return print_ca(env, NULL);
}
