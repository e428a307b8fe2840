/*
 * token_update.c — `crtoken-admin token update ID [metadata]
 * [--clear-reply] [--clear-san] [--json]`: change an unused token (an empty
 * value clears a field; --san-* replace all its SubjectAltNames).
 */
#include <stdio.h>
#include <string.h>

#include "token.h"

static const struct option update_opts[] = {
    TOKEN_SPEC_OPTIONS,
    {"clear-reply", no_argument, NULL, TOK_CLEAR_REPLY},
    {"clear-san", no_argument, NULL, TOK_CLEAR_SAN},
    {"json", no_argument, NULL, TOK_JSON},
    {NULL, 0, NULL, 0},
};

static int token_update(admin_env *env, admin_call *call)
{
	token_spec_args a = {0};
	crt_token t = {0};
	int clear_reply = 0, clear_san = 0, c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		int spec = token_spec_option(call, c, optarg, &a);
		if (spec < 0)
			goto out;
		if (spec > 0)
			continue;
		switch (c) {
		case TOK_CLEAR_REPLY:
			clear_reply = 1;
			break;
		case TOK_CLEAR_SAN:
			clear_san = 1;
			break;
		case TOK_JSON:
			env->json = 1;
			break;
		}
	}
	if (c < 0 || admin_operands(call, 1, "a token id") != 0)
		goto out;
	if (clear_reply)
		a.spec.reply = "";
	if (clear_san && a.spec.san != NULL) {
		call->exit = admin_usage_error(call->cmd, "--clear-san with --san-*: choose one");
		goto out;
	}
	if (clear_san)
		a.spec.san = "";
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		call->exit = rc;
	else if ((r = crt_token_update(env->ctx, call->argv[optind], &a.spec, admin_actor(), &t)) !=
	         CRT_OK)
		call->exit = admin_fail(env, r);
	else
		call->exit = token_print(env, &t, NULL);
out:
	crt_token_clear(&t);
	token_spec_args_clear(&a);
	return call->exit;
}

const admin_action token_update_action = {
    .name = "update",
    .opts = update_opts,
    .run = token_update,
};
