/*
 * cert_list.c — `crtoken-admin cert list [--status S] [--token ID]
 * [--expiring-within DAYS] [--never-seen] [--stale-days N] [--page N]
 * [--size N] [--sort FIELD] [--json]`: every match, or with any of --page,
 * --size, --sort one page cut by the store (crt_cert_page).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"

static const struct option list_opts[] = {
    {"status", required_argument, NULL, CERT_STATUS},
    {"token", required_argument, NULL, CERT_TOKEN},
    {"expiring-within", required_argument, NULL, CERT_EXPIRING},
    {"never-seen", no_argument, NULL, CERT_NEVER_SEEN},
    {"stale-days", required_argument, NULL, CERT_STALE},
    {"json", no_argument, NULL, CERT_JSON},
    ADMIN_PAGE_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int cert_list(admin_env *env, admin_call *call)
{
	crt_cert_filter f = {.status = -1, .token_id = NULL, .expiring_within_days = -1};
	crt_cert *list = NULL;
	size_t n = 0;
	admin_paging pp = {0};
	crt_page pg;
	int64_t total = 0;
	crt_status r;
	int c, rc;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case CERT_STATUS:
			if ((f.status = crt_cert_status_parse(optarg)) < 0)
				return admin_usage_error(call->cmd,
				                         "--status: valid, revoked or expired");
			break;
		case CERT_TOKEN:
			f.token_id = optarg;
			break;
		case CERT_EXPIRING:
			f.expiring_within_days = atoi(optarg);
			if (f.expiring_within_days < 0 ||
			    strspn(optarg, "0123456789") != strlen(optarg))
				return admin_usage_error(call->cmd, "--expiring-within takes days");
			break;
		case CERT_NEVER_SEEN:
			f.never_seen = 1;
			break;
		case CERT_STALE:
			f.stale_days = atoi(optarg);
			if (f.stale_days < 1 || f.stale_days > 36500 ||
			    strspn(optarg, "0123456789") != strlen(optarg))
				return admin_usage_error(call->cmd,
				                         "--stale-days takes days (1-36500)");
			break;
		case CERT_JSON:
			env->json = 1;
			break;
		default:
			admin_paging_opt(&pp, c, optarg);
			break;
		}
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if (admin_paging_given(&pp) &&
	    (rc = admin_paging_parse(call->cmd, &pp, crt_cert_sort_fields, 0, 0, &pg)) != 0)
		return rc;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	r = admin_paging_given(&pp) ? crt_cert_page(env->ctx, &f, &pg, &list, &n, &total)
	                            : crt_cert_list(env->ctx, &f, &list, &n);
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, admin_json_or_null(crt_cert_json(&list[i], 0)));
		admin_json_print(admin_paging_given(&pp) ? admin_page_json(a, &pg, total) : a);
	} else {
		char b[32];
		char l[32];
		printf("%-32s %-8s %-20s %-20s %s\n", "SERIAL", "STATUS", "NOT AFTER", "LAST SEEN",
		       "NAME / SUBJECT");
		for (size_t i = 0; i < n; i++)
			printf("%-32s %-8s %-20s %-20s %s  %s\n", list[i].serial,
			       crt_cert_status_name(list[i].status),
			       admin_time(list[i].not_after, b),
			       list[i].last_seen ? admin_time(list[i].last_seen, l) : "never",
			       list[i].name, list[i].subject);
		if (admin_paging_given(&pp))
			admin_page_footer(&pg, n, total);
	}
	crt_cert_list_free(list, n);
	return EXIT_OK;
}

const admin_action cert_list_action = {
    .name = "list",
    .opts = list_opts,
    .run = cert_list,
};
