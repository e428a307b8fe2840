/*
 * cmd_audit.c — `crtoken-admin audit`: the audit trail, newest first.
 * With no filter but --action, the newest --limit rows (as always); with
 * --actor, --subject, --since, --until, --page, --size or --sort one page
 * cut by the store (crt_audit_page), the filters as GET /audit takes them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_audit(admin_env *env, int argc, char **argv);

static const char audit_help[] =
	"usage: crtoken-admin audit [--limit N] [--action ACTION] [--actor ACTOR]\n"
	"                           [--subject OBJECT] [--since TIME] [--until TIME]\n"
	"                           [--page N] [--size N] [--sort FIELD] [--json]\n\n"
	"Every state change (token.create, token.redeem, cert.revoke, otp.*, ...) and\n"
	"every refusal (token.redeem_refused, otp.failure, ...) with its actor, object\n"
	"and details, newest first. --action token matches token and all token.*\n"
	"actions (token. only token.*); --actor and --subject (the object: a token id,\n"
	"serial, user, ...) match exactly; all compare literally. --since (inclusive) and\n"
	"--until (exclusive) are RFC 3339 UTC times (2026-11-22T07:34:32Z). --page,\n"
	"--size (1-500; --limit in their place) and --sort (at, id, actor, action,\n"
	"object; '-' in front for descending; default -at) choose one page of the\n"
	"filtered rows, cut by the store; with any of them --json prints\n"
	"{\"items\",\"page\",\"size\",\"total\"} and the text ends with a page line on stderr.\n";

static void print_rows(const crt_audit_row *rows, size_t n)
{
	char b[32];
	for (size_t i = 0; i < n; i++)
		printf("%s  %-22s %-20s %s %s\n", admin_time(rows[i].at, b), rows[i].action,
		       rows[i].actor, rows[i].object ? rows[i].object : "-",
		       rows[i].detail ? rows[i].detail : "");
}

int cmd_audit(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"limit", required_argument, NULL, 'l'},
		{"action", required_argument, NULL, 'a'},
		{"actor", required_argument, NULL, 'A'},
		{"subject", required_argument, NULL, 'o'},
		{"object", required_argument, NULL, 'o'},
		{"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		ADMIN_PAGE_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	const char *action = NULL, *actor = NULL, *object = NULL, *since = NULL, *until = NULL;
	const char *why = NULL;
	int limit = 0, c, rc, filtered;
	admin_paging pp = {0};
	crt_audit_filter f;
	crt_audit_row *rows = NULL;
	crt_page pg;
	int64_t total = 0;
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
		case 'A': actor = optarg; break;
		case 'o': object = optarg; break;
		case 's': since = optarg; break;
		case 'u': until = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(audit_help, stdout); return EXIT_OK;
		default:
			if (!admin_paging_opt(&pp, c, optarg))
				return admin_usage_error("audit", "unknown option");
			break;
		}
	}
	if (optind != argc)
		return admin_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	filtered = actor != NULL || object != NULL || since != NULL || until != NULL ||
		   admin_paging_given(&pp);
	if (filtered) {
		if ((r = crt_audit_filter_parse(actor, action, object, since, until, &f, &why)) !=
		    CRT_OK) {
			fprintf(stderr, "crtoken-admin audit: error: %s: %s%s%s\n",
				crt_status_name(r), crt_status_message(r), why ? ": " : "",
				why ? why : "");
			return EXIT_USAGE;
		}
		if (limit > 0 && pp.size != NULL)
			return admin_usage_error("audit", "--limit and --size: give one");
		if (limit > CRT_PAGE_SIZE_MAX)
			return admin_usage_error("audit", "--limit with a filter or a page: 1..%d",
						 CRT_PAGE_SIZE_MAX);
		if ((rc = admin_paging_parse("audit", &pp, crt_audit_sort_fields, 1,
					     limit > 0 ? limit : 50, &pg)) != 0)
			return rc;
	}
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	r = filtered ? crt_audit_page(env->ctx, &f, &pg, &rows, &n, &total)
		     : crt_audit_list(env->ctx, limit > 0 ? limit : 50, action, &rows, &n);
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, crt_audit_json(&rows[i]));
		admin_json_print(admin_paging_given(&pp) ? admin_page_json(a, &pg, total) : a);
	} else {
		print_rows(rows, n);
		if (admin_paging_given(&pp))
			admin_page_footer(&pg, n, total);
	}
	crt_audit_list_free(rows, n);
	return EXIT_OK;
}
