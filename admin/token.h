/*
 * token.h — what the files of `crtoken-admin token` share: the actions
 * (one file each: token_create.c, token_list.c, token_show.c,
 * token_update.c, token_delete.c, token_purge.c, token_issue.c; the group in cmd_token.c),
 * the metadata options create and update both take (token_spec.c) and the
 * output of one token (token_show.c).
 */
#ifndef CRTOKEN_ADMIN_TOKEN_H
#define CRTOKEN_ADMIN_TOKEN_H

#include "admin.h"

extern const admin_action token_create_action, token_list_action, token_show_action,
    token_update_action, token_delete_action, token_purge_action, token_issue_action;

/* Option values of the token actions (unique across the group). */
enum {
	TOK_NAME = 1000,
	TOK_CN,
	TOK_ORG,
	TOK_OU,
	TOK_OWNER,
	TOK_EXPIRES,
	TOK_LOCK,
	TOK_OPEN,
	TOK_REPLY,
	TOK_CLEAR_REPLY,
	TOK_STATE,
	TOK_OLDER,
	TOK_COUNT,
	TOK_JSON,
	TOK_ATTEST,
	TOK_ATTEST_PIN,
	TOK_ATTEST_TOUCH,
	TOK_ATTEST_FIRMWARE,
	TOK_OWNER_EMAIL,
	TOK_PROFILE,
	TOK_VALID_DAYS,
	TOK_CA,
	TOK_GENERATE,
	TOK_P12,
	TOK_PASS_FILE,
	TOK_LEGACY,
	TOK_APPROVAL,
	TOK_SAN_EMAIL,
	TOK_SAN_UPN,
	TOK_SAN_DNS,
	TOK_SAN_URI,
	TOK_CLEAR_SAN,
	TOK_PIN_MAC,
	TOK_DESCRIPTION,
};

/* The metadata options of create and update, in their option tables. */
// clang-format off
#define TOKEN_SPEC_OPTIONS                                     \
	{"name", required_argument, NULL, TOK_NAME},           \
	{"cn", required_argument, NULL, TOK_CN},               \
	{"org", required_argument, NULL, TOK_ORG},             \
	{"ou", required_argument, NULL, TOK_OU},               \
	{"owner", required_argument, NULL, TOK_OWNER},         \
	{"owner-email", required_argument, NULL, TOK_OWNER_EMAIL}, \
	{"expires", required_argument, NULL, TOK_EXPIRES},     \
	{"lock", required_argument, NULL, TOK_LOCK},           \
	{"open", required_argument, NULL, TOK_OPEN},           \
	{"reply", required_argument, NULL, TOK_REPLY},         \
	{"attestation", required_argument, NULL, TOK_ATTEST},  \
	{"attest-pin-policy", required_argument, NULL, TOK_ATTEST_PIN}, \
	{"attest-touch-policy", required_argument, NULL, TOK_ATTEST_TOUCH}, \
	{"attest-min-firmware", required_argument, NULL, TOK_ATTEST_FIRMWARE}, \
	{"valid-days", required_argument, NULL, TOK_VALID_DAYS}, \
	{"san-email", required_argument, NULL, TOK_SAN_EMAIL}, \
	{"san-upn", required_argument, NULL, TOK_SAN_UPN},     \
	{"san-dns", required_argument, NULL, TOK_SAN_DNS},     \
	{"san-uri", required_argument, NULL, TOK_SAN_URI},     \
	{"description", required_argument, NULL, TOK_DESCRIPTION}
// clang-format on

/* A crt_token_spec as the options fill it; reply owns the joined lines. */
typedef struct token_spec_args {
	crt_token_spec spec;
	char *reply; /* --reply lines, '\n'-joined (malloc'd) */
	char *san;   /* --san-* values as "kind=value" lines (malloc'd) */
} token_spec_args;

/* Apply metadata option c (value arg) to a. 1 if c is one, 0 if not, -1
 * after a usage error (call->exit). */
int token_spec_option(admin_call *call, int c, const char *arg, token_spec_args *a);
void token_spec_args_clear(token_spec_args *a);

/* Print t (with --json its JSON shape); token_string is shown once, right
 * after creation (NULL otherwise). Returns the exit status. */
int token_print(admin_env *env, const crt_token *t, const char *token_string);

#endif
