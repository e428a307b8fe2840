/*
 * token_list.c — `crtoken-admin token list [--state STATE] [--page N]
 * [--size N] [--sort FIELD] [--json]`: every token, or with any of --page,
 * --size, --sort one page cut by the store (crt_token_page).
 */
#include <stdio.h>

#include "token.h"

static const struct option list_opts[] = {
    {"state", required_argument, NULL, TOK_STATE},
    {"json", no_argument, NULL, TOK_JSON},
    ADMIN_PAGE_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int token_list(admin_env *env, admin_call *call)
{
	crt_token *list = NULL;
	size_t n = 0;
	int state = -1, c, rc;
	admin_paging pp = {0};
	crt_page pg;
	int64_t total = 0;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case TOK_STATE:
			if ((state = crt_token_state_parse(optarg)) < 0)
				return admin_usage_error(
				    call->cmd,
				    "--state '%s': use active, used, expired or "
				    "deleted",
				    optarg);
			break;
		case TOK_JSON:
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
	    (rc = admin_paging_parse(call->cmd, &pp, crt_token_sort_fields, 0, 0, &pg)) != 0)
		return rc;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	r = admin_paging_given(&pp) ? crt_token_page(env->ctx, state, &pg, &list, &n, &total)
	                            : crt_token_list(env->ctx, state, &list, &n);
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a,
			                      admin_json_or_null(crt_token_json(&list[i], NULL)));
		admin_json_print(admin_paging_given(&pp) ? admin_page_json(a, &pg, total) : a);
	} else {
		char b[32];
		printf("%-43s %-8s %-20s %-20s %-12s %s\n", "ID", "STATE", "EXPIRES", "OWNER", "CA",
		       "NAME");
		for (size_t i = 0; i < n; i++)
			printf("%-43s %-8s %-20s %-20s %-12s %s\n", list[i].id,
			       crt_token_state_name(list[i].state),
			       admin_time(list[i].expires_at, b),
			       list[i].owner ? list[i].owner : "-",
			       list[i].ca ? list[i].ca : CRT_CA_DEFAULT, list[i].name);
		if (admin_paging_given(&pp))
			admin_page_footer(&pg, n, total);
	}
	crt_token_list_free(list, n);
	return EXIT_OK;
}

const admin_action token_list_action = {
    .name = "list",
    .opts = list_opts,
    .run = token_list,
};
