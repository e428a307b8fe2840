/*
 * token_delete.c — `crtoken-admin token delete ID [--json]`: a soft delete
 * (a later redemption reports token_deleted).
 */
#include <stdio.h>

#include "token.h"

static const struct option delete_opts[] = {
    {"json", no_argument, NULL, TOK_JSON},
    {NULL, 0, NULL, 0},
};

static int token_delete(admin_env *env, admin_call *call)
{
	const char *id;
	crt_status r;
	int c, rc;

	while ((c = admin_getopt(call)) > 0)
		if (c == TOK_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "a token id") != 0)
		return call->exit;
	id = call->argv[optind];
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_token_delete(env->ctx, id, admin_actor())) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		return admin_json_print_shape(json_pack("{s:b}", "deleted", 1));
	printf("Deleted %s.\n", id);
	return EXIT_OK;
}

const admin_action token_delete_action = {
    .name = "delete",
    .opts = delete_opts,
    .run = token_delete,
};
