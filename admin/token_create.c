/*
 * token_create.c — `crtoken-admin token create --name NAME [metadata]
 * [--count N] [--json]`: one token, or N with the same metadata named
 * NAME-1..NAME-N (one token string per line; a JSON array with --json),
 * made CRT_BULK_MAX per transaction (crt_token_create_many).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static const struct option create_opts[] = {
    TOKEN_SPEC_OPTIONS,
    {"profile", required_argument, NULL, TOK_PROFILE},
    {"count", required_argument, NULL, TOK_COUNT},
    {"ca", required_argument, NULL, TOK_CA},
    {"approval", required_argument, NULL, TOK_APPROVAL},
    {"pin-mac", required_argument, NULL, TOK_PIN_MAC},
    {"json", no_argument, NULL, TOK_JSON},
    {NULL, 0, NULL, 0},
};

static int create_one(admin_env *env, const crt_token_spec *spec)
{
	char tok[CRT_TOKEN_STRLEN + 1] = "";
	crt_token t = {0};
	crt_status r;
	int rc;

	if ((r = crt_token_create(env->ctx, spec, admin_actor(), &t, tok)) != CRT_OK)
		rc = admin_fail(env, r);
	else
		rc = token_print(env, &t, tok);
	explicit_bzero(tok, sizeof(tok));
	crt_token_clear(&t);
	return rc;
}

/* --count N: crt_token_create_many, CRT_BULK_MAX tokens per transaction
 * (all or none up to that; a failure stops at its batch, the batches before
 * it are made and printed). */
static int create_many(admin_env *env, const crt_token_spec *spec, int count)
{
	json_t *all = env->json ? json_array() : NULL;
	int rc = EXIT_OK;

	for (size_t first = 1; first <= (size_t)count && rc == EXIT_OK; first += CRT_BULK_MAX) {
		size_t n = (size_t)count - first + 1 < CRT_BULK_MAX ? (size_t)count - first + 1
		                                                    : CRT_BULK_MAX;
		crt_token_batch b;
		crt_status r;
		if ((r = crt_token_create_many(env->ctx, spec, first, n, admin_actor(), &b)) !=
		    CRT_OK) {
			rc = admin_fail(env, r);
			break;
		}
		for (size_t i = 0; i < b.n; i++)
			if (all != NULL)
				json_array_append_new(
				    all, admin_json_or_null(crt_token_json(&b.tokens[i], b.strings[i])));
			else
				puts(b.strings[i]);
		crt_token_batch_clear(&b);
	}
	if (all != NULL)
		admin_json_print(all);
	return rc;
}

static int token_create(admin_env *env, admin_call *call)
{
	token_spec_args a = {0};
	int count = 0, c, rc;

	while ((c = admin_getopt(call)) > 0) {
		int spec = token_spec_option(call, c, optarg, &a);
		if (spec < 0)
			goto out;
		if (spec > 0)
			continue;
		switch (c) {
		case TOK_COUNT:
			count = atoi(optarg);
			if (count < 1 || count > 100000 ||
			    strspn(optarg, "0123456789") != strlen(optarg)) {
				call->exit =
				    admin_usage_error(call->cmd, "--count takes 1..100000");
				goto out;
			}
			break;
		case TOK_JSON:
			env->json = 1;
			break;
		case TOK_PROFILE:
			a.spec.profile = optarg;
			break;
		case TOK_CA:
			a.spec.ca = optarg;
			break;
		case TOK_APPROVAL:
			if (strcmp(optarg, "required") != 0 && strcmp(optarg, "none") != 0) {
				call->exit = admin_usage_error(
				    call->cmd, "--approval takes required or none");
				goto out;
			}
			a.spec.approval = optarg;
			break;
		case TOK_PIN_MAC: /* first | off; anything else: the library's field_invalid */
			a.spec.pin_mac = optarg;
			break;
		}
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		goto out;
	if (count > 0 && (a.spec.name == NULL || strlen(a.spec.name) > 120)) {
		call->exit =
		    admin_usage_error(call->cmd, "--count needs a --name of at most 120 bytes");
		goto out;
	}
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		call->exit = rc;
	else if (count > 0)
		call->exit = create_many(env, &a.spec, count);
	else
		call->exit = create_one(env, &a.spec);
out:
	token_spec_args_clear(&a);
	return call->exit;
}

const admin_action token_create_action = {
    .name = "create",
    .opts = create_opts,
    .run = token_create,
};
