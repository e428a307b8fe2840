/*
 * cmd_backup.c — `crtoken-admin backup` (one file with everything an
 * instance needs, taken online) and `crtoken-admin restore` (a new instance
 * from it). The work is crt_backup / crt_restore.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_backup(admin_env *env, int argc, char **argv);
int cmd_restore(admin_env *env, int argc, char **argv);

static const char backup_help[] =
	"usage: crtoken-admin backup --out FILE [--json]\n\n"
	"Write FILE (mode 0600, a tar archive): a consistent copy of the store taken\n"
	"while crtokend keeps running, the config, the CA certificate, key and chain,\n"
	"the OTP sealing key and the CRL, with a manifest of their SHA-256. It holds\n"
	"the CA and OTP keys: keep it as safe as the instance itself. crtokend's TLS\n"
	"certificate and key are not included.\n";

static const char restore_help[] =
	"usage: crtoken-admin restore --in FILE --dir DIR [--json]\n\n"
	"Make a new instance in DIR (which must not exist, or be empty) from a backup.\n"
	"The whole backup is checked first; a truncated or corrupt one is refused\n"
	"(backup_invalid) and nothing is written. The config's store, CA, OTP key and\n"
	"CRL paths are reset to the files in DIR. Then use --config DIR/crtoken.conf.\n";

int cmd_backup(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	int c, rc;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(backup_help, stdout); return EXIT_OK;
		default: return admin_usage_error("backup", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("backup", "unexpected argument '%s'", argv[optind]);
	if (out == NULL || strcmp(out, "-") == 0)
		return admin_usage_error("backup", "--out FILE is required (not stdout: it holds keys)");
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	if ((r = crt_backup(env->ctx, out, admin_actor())) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "file", json_string(out));
		json_object_set_new(o, "config", json_string(crt_get_config(env->ctx)->path));
		admin_json_print(o);
	} else {
		printf("Backed up %s to %s\n", crt_get_config(env->ctx)->path, out);
	}
	return EXIT_OK;
}

int cmd_restore(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"in", required_argument, NULL, 'i'},
		{"dir", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *in = NULL, *dir = NULL;
	char err[1024];
	int c;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'd': dir = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(restore_help, stdout); return EXIT_OK;
		default: return admin_usage_error("restore", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("restore", "unexpected argument '%s'", argv[optind]);
	if (in == NULL || dir == NULL)
		return admin_usage_error("restore", "--in FILE and --dir DIR are required");
	if ((r = crt_restore(in, dir, admin_actor(), err, sizeof(err))) != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s%s%s\n", crt_status_name(r),
			crt_status_message(r), err[0] ? ": " : "", err);
		return admin_exit_for(r);
	}
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "dir", json_string(dir));
		admin_json_print(o);
	} else {
		printf("Restored into %s\n  config: %s/crtoken.conf\n", dir, dir);
	}
	return EXIT_OK;
}
