/*
 * token_purge.c — `crtoken-admin token purge [--older-than DAYS] [--json]`:
 * remove expired, used and deleted tokens (certificates are kept).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static const struct option purge_opts[] = {
    {"older-than", required_argument, NULL, TOK_OLDER},
    {"json", no_argument, NULL, TOK_JSON},
    {NULL, 0, NULL, 0},
};

static int token_purge(admin_env *env, admin_call *call)
{
	size_t n = 0;
	int older = 0, c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case TOK_OLDER:
			older = atoi(optarg);
			if (older < 0 || strspn(optarg, "0123456789") != strlen(optarg))
				return admin_usage_error(call->cmd,
				                         "--older-than takes a number of days");
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
	if ((r = crt_token_purge(env->ctx, older, admin_actor(), &n)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "purged", json_integer((json_int_t)n));
		admin_json_print(o);
	} else {
		printf("Purged %zu token%s.\n", n, n == 1 ? "" : "s");
	}
	return EXIT_OK;
}

const admin_action token_purge_action = {
    .name = "purge",
    .opts = purge_opts,
    .run = token_purge,
};
