/*
 * token_list.c — `crtoken-admin token list [--state STATE] [--json]`.
 */
#include <stdio.h>

#include "token.h"

static const struct option list_opts[] = {
    {"state", required_argument, NULL, TOK_STATE},
    {"json", no_argument, NULL, TOK_JSON},
    {NULL, 0, NULL, 0},
};

static int token_list(admin_env *env, admin_call *call)
{
	crt_token *list = NULL;
	size_t n = 0;
	int state = -1, c, rc;
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
		}
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_token_list(env->ctx, state, &list, &n)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a,
			                      admin_json_or_null(crt_token_json(&list[i], NULL)));
		admin_json_print(a);
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
	}
	crt_token_list_free(list, n);
	return EXIT_OK;
}

const admin_action token_list_action = {
    .name = "list",
    .opts = list_opts,
    .run = token_list,
};
