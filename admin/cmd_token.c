/*
 * cmd_token.c — `crtoken-admin token create|list|show|update|delete|purge`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_token(admin_env *env, int argc, char **argv);

static const char token_help[] =
	"usage: crtoken-admin token create --name NAME [--cn CN] [--org O] [--ou OU]\n"
	"                                  [--owner USER] [--expires 7d|12h|30m]\n"
	"                                  [--lock cn,org,ou] [--open cn,org,ou]\n"
	"                                  [--reply 'Attribute=value']... [--count N] [--json]\n"
	"       crtoken-admin token list [--state active|used|expired|deleted] [--json]\n"
	"       crtoken-admin token show ID [--json]\n"
	"       crtoken-admin token update ID [--name N] [--cn CN] [--org O] [--ou OU]\n"
	"                                  [--owner USER] [--expires DURATION] [--lock LIST]\n"
	"                                  [--open LIST]\n"
	"                                  [--reply 'Attribute=value']... [--clear-reply] [--json]\n"
	"       crtoken-admin token delete ID\n"
	"       crtoken-admin token purge [--older-than DAYS]\n\n"
	"A certificate request token pre-approves one client certificate: its name, CN,\n"
	"O, OU, optional owner (the only user allowed to redeem it) and RADIUS reply\n"
	"attributes (e.g. --reply Tunnel-Private-Group-Id=42). The token string is shown\n"
	"once at creation; only its SHA-256 is stored. Subject policy: the redeemer may\n"
	"set only the fields left empty, except the CN of a token with an owner (its\n"
	"name when no --cn is given); --open lets the redeemer change a field anyway,\n"
	"--lock forbids one even when empty. An empty value (--cn '') clears a field\n"
	"on update. delete is soft: a later redemption reports token_deleted.\n"
	"--count N makes N tokens with the same metadata (names NAME-1..NAME-N), one\n"
	"token string per line (a JSON array with --json), e.g. for a classroom.\n"
	"purge removes expired, used and deleted tokens older than DAYS (default 0);\n"
	"certificates are kept.\n";

enum { O_NAME = 1000, O_CN, O_ORG, O_OU, O_OWNER, O_EXPIRES, O_LOCK, O_REPLY, O_CLEAR_REPLY,
       O_STATE, O_OLDER, O_COUNT, O_JSON, O_HELP, O_OPEN };

static const struct option opts[] = {
	{"name", required_argument, NULL, O_NAME},
	{"cn", required_argument, NULL, O_CN},
	{"org", required_argument, NULL, O_ORG},
	{"ou", required_argument, NULL, O_OU},
	{"owner", required_argument, NULL, O_OWNER},
	{"expires", required_argument, NULL, O_EXPIRES},
	{"lock", required_argument, NULL, O_LOCK},
	{"open", required_argument, NULL, O_OPEN},
	{"reply", required_argument, NULL, O_REPLY},
	{"clear-reply", no_argument, NULL, O_CLEAR_REPLY},
	{"state", required_argument, NULL, O_STATE},
	{"older-than", required_argument, NULL, O_OLDER},
	{"count", required_argument, NULL, O_COUNT},
	{"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

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

static void print_token_text(const crt_token *t)
{
	char a[32], b[32], c[32];
	printf("id:       %s\nname:     %s\nstate:    %s\n", t->id, t->name,
	       crt_token_state_name(t->state));
	printf("CN:       %s\nO:        %s\nOU:       %s\nowner:    %s\n",
	       t->cn ? t->cn : "(token name)", t->org ? t->org : "-", t->ou ? t->ou : "-",
	       t->owner ? t->owner : "(anyone who logs in)");
	unsigned may = crt_token_overridable(t);
	printf("redeemer may set: %s%s%s%s\n", may & CRT_FIELD_CN ? "cn " : "",
	       may & CRT_FIELD_O ? "org " : "", may & CRT_FIELD_OU ? "ou" : "",
	       may ? "" : "(nothing: the subject is fixed)");
	printf("created:  %s\nexpires:  %s\n", admin_time(t->created_at, a),
	       admin_time(t->expires_at, b));
	if (t->used_at)
		printf("used:     %s -> certificate %s\n", admin_time(t->used_at, c), t->serial);
	if (t->deleted_at)
		printf("deleted:  %s\n", admin_time(t->deleted_at, c));
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

static int show_token(admin_env *env, const crt_token *t, const char *token_string)
{
	if (env->json)
		return admin_json_print_shape(crt_token_json(t, token_string));
	if (token_string != NULL)
		printf("Token (shown only now; give it to the user):\n\n  %s\n\n", token_string);
	print_token_text(t);
	return EXIT_OK;
}

/* token create --count N: N tokens named NAME-1..NAME-N. */
static int create_many(admin_env *env, const crt_token_spec *spec, int count)
{
	crt_token_spec one = *spec;
	char name[160], tok[CRT_TOKEN_STRLEN + 1];
	json_t *all = env->json ? json_array() : NULL;
	int rc = EXIT_OK;

	if (spec->name == NULL || strlen(spec->name) > 120)
		return admin_usage_error("token", "--count needs a --name of at most 120 bytes");
	for (int i = 1; i <= count && rc == EXIT_OK; i++) {
		crt_token t;
		crt_status r;
		snprintf(name, sizeof(name), "%s-%d", spec->name, i);
		one.name = name;
		if ((r = crt_token_create(env->ctx, &one, admin_actor(), &t, tok)) != CRT_OK) {
			rc = admin_fail(env, r);
			break;
		}
		if (all != NULL)
			json_array_append_new(all, admin_json_or_null(crt_token_json(&t, tok)));
		else
			puts(tok);
		explicit_bzero(tok, sizeof(tok));
		crt_token_clear(&t);
	}
	if (all != NULL)
		admin_json_print(all);
	return rc;
}

int cmd_token(admin_env *env, int argc, char **argv)
{
	crt_token_spec spec = {0};
	crt_token t = {0};
	char *reply = NULL;
	char token_string[CRT_TOKEN_STRLEN + 1] = "";
	const char *action, *id = NULL;
	int state = -1, older = 0, clear_reply = 0, count = 0, c, rc = EXIT_USAGE;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_NAME: spec.name = optarg; break;
		case O_CN: spec.cn = optarg; break;
		case O_ORG: spec.org = optarg; break;
		case O_OU: spec.ou = optarg; break;
		case O_OWNER: spec.owner = optarg; break;
		case O_EXPIRES:
			if (crt_duration_parse(optarg, &spec.lifetime) != CRT_OK) {
				rc = admin_usage_error("token", "--expires '%s': use e.g. 7d, 12h, 30m",
						       optarg);
				goto out;
			}
			break;
		case O_LOCK:
			if (crt_fields_parse(optarg, &spec.locked) != CRT_OK) {
				rc = admin_usage_error("token", "--lock '%s': use a list of cn,org,ou",
						       optarg);
				goto out;
			}
			spec.set_locked = 1;
			break;
		case O_OPEN:
			if (crt_fields_parse(optarg, &spec.opened) != CRT_OK) {
				rc = admin_usage_error("token", "--open '%s': use a list of cn,org,ou",
						       optarg);
				goto out;
			}
			spec.set_opened = 1;
			break;
		case O_REPLY:
			if (append_line(&reply, optarg) != 0)
				goto out;
			break;
		case O_CLEAR_REPLY: clear_reply = 1; break;
		case O_STATE:
			if ((state = crt_token_state_parse(optarg)) < 0) {
				rc = admin_usage_error("token", "--state '%s': use active, used, "
								"expired or deleted", optarg);
				goto out;
			}
			break;
		case O_OLDER:
			older = atoi(optarg);
			if (older < 0 || strspn(optarg, "0123456789") != strlen(optarg)) {
				rc = admin_usage_error("token", "--older-than takes a number of days");
				goto out;
			}
			break;
		case O_COUNT:
			count = atoi(optarg);
			if (count < 1 || count > 100000 || strspn(optarg, "0123456789") != strlen(optarg)) {
				rc = admin_usage_error("token", "--count takes 1..100000");
				goto out;
			}
			break;
		case O_JSON: env->json = 1; break;
		case O_HELP: fputs(token_help, stdout); rc = EXIT_OK; goto out;
		default: rc = admin_usage_error("token", "unknown option"); goto out;
		}
	}
	if (optind >= argc) {
		rc = admin_usage_error("token", "expected an action: create, list, show, update, "
						"delete or purge");
		goto out;
	}
	action = argv[optind++];
	if (strcmp(action, "show") == 0 || strcmp(action, "update") == 0 ||
	    strcmp(action, "delete") == 0) {
		if (optind >= argc) {
			rc = admin_usage_error("token", "%s needs a token id", action);
			goto out;
		}
		id = argv[optind++];
	}
	if (optind != argc) {
		rc = admin_usage_error("token", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	spec.reply = clear_reply ? "" : reply;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		goto out;

	if (strcmp(action, "create") == 0 && count > 0) {
		rc = create_many(env, &spec, count);
	} else if (strcmp(action, "create") == 0) {
		if ((r = crt_token_create(env->ctx, &spec, admin_actor(), &t, token_string)) != CRT_OK)
			rc = admin_fail(env, r);
		else
			rc = show_token(env, &t, token_string);
	} else if (strcmp(action, "show") == 0) {
		if ((r = crt_token_get(env->ctx, id, &t)) != CRT_OK)
			rc = admin_fail(env, r);
		else
			rc = show_token(env, &t, NULL);
	} else if (strcmp(action, "update") == 0) {
		if ((r = crt_token_update(env->ctx, id, &spec, admin_actor(), &t)) != CRT_OK)
			rc = admin_fail(env, r);
		else
			rc = show_token(env, &t, NULL);
	} else if (strcmp(action, "delete") == 0) {
		if ((r = crt_token_delete(env->ctx, id, admin_actor())) != CRT_OK)
			rc = admin_fail(env, r);
		else if (env->json)
			rc = admin_json_print_shape(json_pack("{s:b}", "deleted", 1));
		else
			printf("Deleted %s.\n", id), rc = EXIT_OK;
	} else if (strcmp(action, "purge") == 0) {
		size_t n = 0;
		if ((r = crt_token_purge(env->ctx, older, admin_actor(), &n)) != CRT_OK) {
			rc = admin_fail(env, r);
		} else if (env->json) {
			json_t *o = json_object();
			json_object_set_new(o, "purged", json_integer((json_int_t)n));
			admin_json_print(o);
			rc = EXIT_OK;
		} else {
			printf("Purged %zu token%s.\n", n, n == 1 ? "" : "s");
			rc = EXIT_OK;
		}
	} else if (strcmp(action, "list") == 0) {
		crt_token *list = NULL;
		size_t n = 0;
		if ((r = crt_token_list(env->ctx, state, &list, &n)) != CRT_OK) {
			rc = admin_fail(env, r);
			goto out;
		}
		if (env->json) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, admin_json_or_null(crt_token_json(&list[i], NULL)));
			admin_json_print(a);
		} else {
			char b[32];
			printf("%-43s %-8s %-20s %-20s %s\n", "ID", "STATE", "EXPIRES", "OWNER", "NAME");
			for (size_t i = 0; i < n; i++)
				printf("%-43s %-8s %-20s %-20s %s\n", list[i].id,
				       crt_token_state_name(list[i].state),
				       admin_time(list[i].expires_at, b),
				       list[i].owner ? list[i].owner : "-", list[i].name);
		}
		crt_token_list_free(list, n);
		rc = EXIT_OK;
	} else {
		rc = admin_usage_error("token", "unknown action '%s'", action);
	}
out:
	explicit_bzero(token_string, sizeof(token_string));
	crt_token_clear(&t);
	free(reply);
	return rc;
}
