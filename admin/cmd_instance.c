/*
 * cmd_instance.c — `crtoken-admin init` (a new self-contained instance) and
 * `crtoken-admin ca show|list|create|import` (each action with its own
 * options).
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
	"                          [--import-chain FILE] [--json]\n"
	"       crtoken-admin init --dir DIR --ca-key-uri 'pkcs11:token=T;object=O'\n"
	"                          --pin-file FILE [--module PATH] [--ca-subject ...]\n"
	"                          [--ca-days N] [--json]\n\n"
	"Create a self-contained instance in DIR: crtoken.conf (paths relative to it),\n"
	"the store crtoken.db, the CA (ca.pem, ca.key 0600; generated, or imported e.g.\n"
	"as an intermediate with its chain) and the OTP sealing key otp.key.\n"
	"With --ca-key-uri the CA key (EC P-256, not extractable) is made in the\n"
	"PKCS#11 token through the module (default: the p11-kit proxy) and never\n"
	"leaves it; no ca.key is written; the PIN is read from FILE (mode 0600).\n"
	"Then use it with --config DIR/crtoken.conf or CRTOKEN_CONF=DIR/crtoken.conf.\n";

/* One CA as JSON (the keys ca show and ca list print). */
static json_t *ca_json(const crt_ca_info *ci)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(ci->name));
	json_object_set_new(o, "subject", json_string(ci->subject));
	json_object_set_new(o, "keyType", json_string(ci->key_type));
	json_object_set_new(o, "keyKind", json_string(ci->key_kind));
	json_object_set_new(o, "subjectKeyIdentifier", json_string(ci->ski));
	json_object_set_new(o, "serial", json_string(ci->serial));
	json_object_set_new(o, "notBefore", admin_json_time(ci->not_before));
	json_object_set_new(o, "notAfter", admin_json_time(ci->not_after));
	json_object_set_new(o, "fingerprintSha256", json_string(ci->fingerprint));
	return o;
}

static int print_ca_named(admin_env *env, const char *dir, const char *name)
{
	crt_ca_info ci;
	crt_status r = crt_ca_get_named(env->ctx, name, &ci);
	char a[32], b[32];
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *o = json_object();
		if (name != NULL)
			json_object_set_new(o, "name", json_string(ci.name));
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
		if (name != NULL)
			printf("name:        %s\n", ci.name);
		printf("subject:     %s\nkey type:    %s\nserial:      %s\nvalid:       %s .. %s\n"
		       "fingerprint: SHA256 %s\n",
		       ci.subject, ci.key_type, ci.serial, admin_time(ci.not_before, a),
		       admin_time(ci.not_after, b), ci.fingerprint);
		if (name != NULL)
			printf("key id:      %s\nkey kind:    %s\n", ci.ski, ci.key_kind);
	}
	crt_ca_info_clear(&ci);
	return EXIT_OK;
}

static int print_ca(admin_env *env, const char *dir)
{
	return print_ca_named(env, dir, NULL);
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
		{"ca-key-uri", required_argument, NULL, 'U'},
		{"pin-file", required_argument, NULL, 'P'},
		{"module", required_argument, NULL, 'M'},
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
		case 'U': o.ca_key_uri = optarg; break;
		case 'P': o.ca_pin_file = optarg; break;
		case 'M': o.ca_module = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(init_help, stdout); return EXIT_OK;
		default: return admin_usage_error("init", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("init", "unexpected argument '%s'", argv[optind]);
	if (o.dir == NULL)
		return admin_usage_error("init", "--dir DIR is required");
	/* a generated CA's options do not apply to an imported one */
	if ((o.import_cert || o.import_key || o.import_chain) &&
	    (o.ca_key_type || o.ca_subject || o.ca_days))
		return admin_usage_error("init", "--import-* and --ca-key/--ca-subject/--ca-days "
						 "exclude each other");
	if ((o.import_cert || o.import_key) && o.ca_key_uri)
		return admin_usage_error("init", "--import-* and --ca-key-uri exclude each other");
	if ((o.ca_pin_file || o.ca_module) && o.ca_key_uri == NULL)
		return admin_usage_error("init", "--pin-file and --module apply only to "
						 "--ca-key-uri");
	if (o.ca_key_uri && o.ca_pin_file == NULL)
		return admin_usage_error("init", "--ca-key-uri needs --pin-file FILE");
	if (o.import_chain && o.import_cert == NULL)
		return admin_usage_error("init", "--import-chain does not apply without "
						 "--import-cert and --import-key");
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
	"usage: crtoken-admin ca show [--ca NAME] [--json]\n"
	"       crtoken-admin ca list [--json]\n"
	"       crtoken-admin ca create NAME [--key-type ec-p256|ec-p384|rsa-3072]\n"
	"                               [--subject \"/CN=.../O=...\"] [--days N] [--json]\n"
	"       crtoken-admin ca import --cert FILE --key FILE [--chain FILE] [--json]\n\n"
	"show:   the CA's subject, key type, validity and SHA-256 fingerprint (the\n"
	"        default CA, [ca], unless --ca NAME).\n"
	"list:   every CA of the instance: name, subject, key identifier, notAfter,\n"
	"        where the key is (file or pkcs11).\n"
	"create: make the CA of a [ca NAME] section of crtoken.conf that has none yet:\n"
	"        its key (at key = FILE, 0600; or in the PKCS#11 token of key =\n"
	"        pkcs11:..., with the section's pin_file and module_path) and a\n"
	"        self-signed certificate at certificate = FILE.\n"
	"import: replace the CA with an existing certificate + unencrypted key (e.g. an\n"
	"        intermediate issued by your organisation's root), with its chain.\n"
	"        Certificates issued before keep working only if the issuer name stays\n"
	"        the same.\n"
	"Each action takes only the options shown for it; any other is a usage error.\n";

enum { CA_CERT = 1000, CA_KEY, CA_CHAIN, CA_JSON, CA_NAME, CA_KEY_TYPE, CA_SUBJECT, CA_DAYS };

static const struct option ca_show_opts[] = {
	{"ca", required_argument, NULL, CA_NAME},
	{"json", no_argument, NULL, CA_JSON},
	{NULL, 0, NULL, 0},
};

static int ca_show(admin_env *env, admin_call *call)
{
	const char *name = NULL;
	int c, rc;

	while ((c = admin_getopt(call)) > 0) {
		if (c == CA_JSON)
			env->json = 1;
		else if (c == CA_NAME)
			name = optarg;
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	return print_ca_named(env, NULL, name);
}

static const struct option ca_list_opts[] = {
	{"json", no_argument, NULL, CA_JSON},
	{NULL, 0, NULL, 0},
};

static int ca_list(admin_env *env, admin_call *call)
{
	crt_ca_info *l = NULL;
	size_t n = 0;
	char a[32];
	int c, rc;

	while ((c = admin_getopt(call)) > 0)
		if (c == CA_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	crt_status r = crt_ca_list(env->ctx, &l, &n);
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, ca_json(&l[i]));
		admin_json_print(arr);
	} else {
		printf("%-12s %-7s %-24s %-40s %s\n", "NAME", "KEY", "NOT AFTER",
		       "KEY IDENTIFIER", "SUBJECT");
		for (size_t i = 0; i < n; i++)
			printf("%-12s %-7s %-24s %-40s %s\n", l[i].name, l[i].key_kind,
			       admin_time(l[i].not_after, a), l[i].ski, l[i].subject);
	}
	crt_ca_list_free(l, n);
	return EXIT_OK;
}

static const struct option ca_create_opts[] = {
	{"key-type", required_argument, NULL, CA_KEY_TYPE},
	{"subject", required_argument, NULL, CA_SUBJECT},
	{"days", required_argument, NULL, CA_DAYS},
	{"json", no_argument, NULL, CA_JSON},
	{NULL, 0, NULL, 0},
};

static int ca_create(admin_env *env, admin_call *call)
{
	crt_ca_create_opts o = {0};
	int c, rc;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case CA_KEY_TYPE: o.key_type = optarg; break;
		case CA_SUBJECT: o.subject = optarg; break;
		case CA_DAYS:
			o.days = atoi(optarg);
			if (o.days <= 0 || o.days > 36500)
				return admin_usage_error(call->cmd, "--days must be 1..36500");
			break;
		case CA_JSON: env->json = 1; break;
		}
	}
	if (c < 0 || admin_operands(call, 1, "NAME") != 0)
		return call->exit;
	o.name = call->argv[optind];
	/* The new CA is not there to load yet: open without the CAs. */
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	crt_status r = crt_ca_create(env->ctx, &o, admin_actor());
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (!env->json)
		printf("Created the CA %s.\n", o.name);
	crt_ca_info *l = NULL;
	size_t n = 0;
	if (crt_ca_list(env->ctx, &l, &n) != CRT_OK) { /* another CA still to make */
		if (env->json) {
			json_t *j = json_object();
			json_object_set_new(j, "name", json_string(o.name));
			admin_json_print(j);
		} else {
			printf("The instance opens once every [ca NAME] section has its CA.\n");
		}
		return EXIT_OK;
	}
	crt_ca_list_free(l, n);
	return print_ca_named(env, NULL, o.name);
}

static const struct option ca_import_opts[] = {
	{"cert", required_argument, NULL, CA_CERT},
	{"key", required_argument, NULL, CA_KEY},
	{"chain", required_argument, NULL, CA_CHAIN},
	{"json", no_argument, NULL, CA_JSON},
	{NULL, 0, NULL, 0},
};

static int ca_import(admin_env *env, admin_call *call)
{
	const char *cert = NULL, *key = NULL, *chain = NULL;
	int c, rc;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case CA_CERT: cert = optarg; break;
		case CA_KEY: key = optarg; break;
		case CA_CHAIN: chain = optarg; break;
		case CA_JSON: env->json = 1; break;
		}
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if (cert == NULL || key == NULL)
		return admin_usage_error(call->cmd, "needs --cert and --key");
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	crt_status r = crt_ca_import(env->ctx, cert, key, chain, admin_actor());
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (!env->json)
		printf("Imported the CA.\n");
	return print_ca(env, NULL);
}

static const admin_action ca_show_action = {.name = "show", .opts = ca_show_opts, .run = ca_show};
static const admin_action ca_import_action = {
	.name = "import", .opts = ca_import_opts, .run = ca_import};
static const admin_action ca_list_action = {.name = "list", .opts = ca_list_opts, .run = ca_list};
static const admin_action ca_create_action = {
	.name = "create", .opts = ca_create_opts, .run = ca_create};
static const admin_action *const ca_actions[] = {&ca_show_action, &ca_list_action,
						 &ca_create_action, &ca_import_action, NULL};
static const admin_group ca_group = {.name = "ca", .help = ca_help, .actions = ca_actions};

int cmd_ca(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &ca_group, argc, argv);
}
