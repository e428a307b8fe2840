/*
 * cmd_audit.c — `crtoken-admin audit`: the audit trail, newest first.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_audit(admin_env *env, int argc, char **argv);

static const char audit_help[] =
	"usage: crtoken-admin audit [--limit N] [--action ACTION] [--json]\n\n"
	"Every state change (token.create, token.redeem, cert.revoke, otp.*, ...) and\n"
	"every refusal (token.redeem_refused, otp.failure, ...) with its actor, object\n"
	"and details. --action token matches all token.* actions.\n";

int cmd_audit(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"limit", required_argument, NULL, 'l'},
		{"action", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *action = NULL;
	int limit = 50, c, rc;
	crt_audit_row *rows = NULL;
	size_t n = 0;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			limit = atoi(optarg);
			if (limit <= 0 || limit > 100000)
				return admin_usage_error("audit", "--limit must be 1..100000");
			break;
		case 'a': action = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(audit_help, stdout); return EXIT_OK;
		default: return admin_usage_error("audit", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_audit_list(env->ctx, limit, action, &rows, &n)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, crt_audit_json(&rows[i]));
		admin_json_print(a);
	} else {
		char b[32];
		for (size_t i = 0; i < n; i++)
			printf("%s  %-22s %-20s %s %s\n", admin_time(rows[i].at, b), rows[i].action,
			       rows[i].actor, rows[i].object ? rows[i].object : "-",
			       rows[i].detail ? rows[i].detail : "");
	}
	crt_audit_list_free(rows, n);
	return EXIT_OK;
}
