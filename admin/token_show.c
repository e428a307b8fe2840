/*
 * token_show.c — `crtoken-admin token show ID [--json]`, and the output of
 * one token that create and update print too.
 */
#include <stdio.h>
#include <string.h>

#include "token.h"

static void print_token_text(const crt_token *t)
{
	char a[32], b[32], c[32];
	printf("id:       %s\nname:     %s\nstate:    %s\n", t->id, t->name,
	       crt_token_state_name(t->state));
	if (t->description != NULL)
		printf("description: %s\n", t->description);
	printf("CN:       %s\nO:        %s\nOU:       %s\nowner:    %s\n",
	       t->cn ? t->cn : "(token name)", t->org ? t->org : "-", t->ou ? t->ou : "-",
	       t->owner ? t->owner : "(anyone who logs in)");
	if (t->owner_email)
		printf("owner e-mail: %s\n", t->owner_email);
	printf("CA:       %s\n", t->ca ? t->ca : CRT_CA_DEFAULT);
	unsigned may = crt_token_overridable(t);
	printf("redeemer may set: %s%s%s%s\n", may & CRT_FIELD_CN ? "cn " : "",
	       may & CRT_FIELD_O ? "org " : "", may & CRT_FIELD_OU ? "ou" : "",
	       may ? "" : "(nothing: the subject is fixed)");
	printf("profile:  %s\n", t->profile ? t->profile : CRT_CERT_PROFILE_DEFAULT);
	if (t->valid_days)
		printf("certificate valid: %d days\n", t->valid_days);
	printf("approval: %s\n", t->approval == CRT_APPROVAL_REQUIRED
				       ? "required (a redemption waits for an administrator)"
				       : "none");
	if (t->san != NULL && *t->san != '\0')
		admin_print_san(t->san);
	printf("pin MAC:  %s\n", t->pin_mac ? t->pin_mac : "(the profile's)");
	printf("created:  %s\nexpires:  %s\n", admin_time(t->created_at, a),
	       admin_time(t->expires_at, b));
	if (t->used_at && t->serial != NULL)
		printf("used:     %s -> certificate %s\n", admin_time(t->used_at, c), t->serial);
	else if (t->used_at)
		printf("used:     %s -> a certificate request (crtoken-admin request list)\n",
		       admin_time(t->used_at, c));
	if (t->deleted_at)
		printf("deleted:  %s\n", admin_time(t->deleted_at, c));
	if (t->attestation)
		printf("attestation: %s (the rest: [attestation] defaults)\n", t->attestation);
	if (t->reply) {
		printf("reply attributes:\n");
		for (const char *p = t->reply; *p;) {
			const char *nl = strchr(p, '\n');
			int n = nl ? (int)(nl - p) : (int)strlen(p);
			printf("  %.*s\n", n, p);
			p += n + (nl ? 1 : 0);
		}
	}
}

int token_print(admin_env *env, const crt_token *t, const char *token_string)
{
	if (env->json)
		return admin_json_print_shape(crt_token_json(t, token_string));
	if (token_string != NULL)
		printf("Token (shown only now; give it to the user):\n\n  %s\n\n", token_string);
	print_token_text(t);
	return EXIT_OK;
}

static const struct option show_opts[] = {
    {"json", no_argument, NULL, TOK_JSON},
    {NULL, 0, NULL, 0},
};

static int token_show(admin_env *env, admin_call *call)
{
	crt_token t = {0};
	crt_status r;
	int c, rc;

	while ((c = admin_getopt(call)) > 0)
		if (c == TOK_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "a token id") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_token_get(env->ctx, call->argv[optind], &t)) != CRT_OK)
		return admin_fail(env, r);
	rc = token_print(env, &t, NULL);
	crt_token_clear(&t);
	return rc;
}

const admin_action token_show_action = {
    .name = "show",
    .opts = show_opts,
    .run = token_show,
};
