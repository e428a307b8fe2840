/*
 * token_spec.c — the token metadata options that `token create` and
 * `token update` both take (--name, --cn, --org, --ou, --owner, --owner-email,
 * --expires, --lock, --open, --reply, --valid-days, --attestation, --attest-*,
 * --san-email, --san-upn, --san-dns, --san-uri, --description; update:
 * --description '' clears it),
 * parsed into a crt_token_spec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

/* Append "line" to a '\n'-joined list. */
static int append_line(char **list, const char *line)
{
	size_t old = *list ? strlen(*list) : 0;
	char *n = realloc(*list, old + strlen(line) + 2);
	if (n == NULL)
		return -1;
	if (old)
		n[old++] = '\n';
	strcpy(n + old, line);
	*list = n;
	return 0;
}

int token_spec_option(admin_call *call, int c, const char *arg, token_spec_args *a)
{
	crt_token_spec *spec = &a->spec;

	switch (c) {
	case TOK_NAME:
		spec->name = arg;
		return 1;
	case TOK_CN:
		spec->cn = arg;
		return 1;
	case TOK_ORG:
		spec->org = arg;
		return 1;
	case TOK_OU:
		spec->ou = arg;
		return 1;
	case TOK_OWNER:
		spec->owner = arg;
		return 1;
	case TOK_OWNER_EMAIL:
		spec->owner_email = arg;
		return 1;
	case TOK_DESCRIPTION: /* the library's rule decides (description_invalid) */
		spec->description = arg;
		return 1;
	case TOK_EXPIRES:
		if (crt_duration_parse(arg, &spec->lifetime) != CRT_OK) {
			call->exit = admin_usage_error(
			    call->cmd, "--expires '%s': use e.g. 7d, 12h, 30m", arg);
			return -1;
		}
		return 1;
	case TOK_LOCK:
		if (crt_fields_parse(arg, &spec->locked) != CRT_OK) {
			call->exit = admin_usage_error(call->cmd,
			                               "--lock '%s': use a list of cn,org,ou", arg);
			return -1;
		}
		spec->set_locked = 1;
		return 1;
	case TOK_OPEN:
		if (crt_fields_parse(arg, &spec->opened) != CRT_OK) {
			call->exit = admin_usage_error(call->cmd,
			                               "--open '%s': use a list of cn,org,ou", arg);
			return -1;
		}
		spec->set_opened = 1;
		return 1;
	case TOK_VALID_DAYS:
		if (strspn(arg, "0123456789") != strlen(arg) || *arg == '\0' || strlen(arg) > 5 ||
		    (spec->valid_days = atoi(arg)) < 1) {
			call->exit = admin_usage_error(call->cmd, "--valid-days takes 1..36500");
			return -1;
		}
		return 1;
	case TOK_REPLY:
		if (append_line(&a->reply, arg) != 0) {
			fprintf(stderr, "crtoken-admin: error: out_of_memory: out of memory\n");
			call->exit = EXIT_SYSTEM;
			return -1;
		}
		spec->reply = a->reply;
		return 1;
	case TOK_SAN_EMAIL:
	case TOK_SAN_UPN:
	case TOK_SAN_DNS:
	case TOK_SAN_URI: {
		/* repeatable; the library checks every value (san_invalid) */
		const char *kind = c == TOK_SAN_EMAIL ? "email" : c == TOK_SAN_UPN ? "upn"
		                   : c == TOK_SAN_DNS ? "dns" : "uri";
		char *line = malloc(strlen(kind) + strlen(arg) + 2);
		if (line == NULL || strchr(arg, '\n') != NULL) {
			free(line);
			call->exit = admin_usage_error(call->cmd, "--san-%s: one value per option",
			                               kind);
			return -1;
		}
		sprintf(line, "%s=%s", kind, arg);
		int bad = append_line(&a->san, line);
		free(line);
		if (bad) {
			fprintf(stderr, "crtoken-admin: error: out_of_memory: out of memory\n");
			call->exit = EXIT_SYSTEM;
			return -1;
		}
		spec->san = a->san;
		return 1;
	}
	case TOK_ATTEST:
		spec->attest_mode = arg;
		return 1;
	case TOK_ATTEST_PIN:
		spec->attest_pin_policy = arg;
		return 1;
	case TOK_ATTEST_TOUCH:
		spec->attest_touch_policy = arg;
		return 1;
	case TOK_ATTEST_FIRMWARE:
		spec->attest_min_firmware = arg;
		return 1;
	default:
		return 0;
	}
}

void token_spec_args_clear(token_spec_args *a)
{
	free(a->reply);
	free(a->san);
	memset(a, 0, sizeof(*a));
}
