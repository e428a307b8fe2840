/*
 * cmd_apikey.c — `crtoken-admin apikey`: create, list and revoke the API
 * keys that crtokend's admin endpoints accept (Authorization: Bearer).
 *
 * The key is shown exactly once, at creation; the store keeps only its
 * SHA-256. Everything else is libcrtoken's (common/apikey.c). Each action
 * takes only its own options (action.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"

int cmd_apikey(admin_env *env, int argc, char **argv);

static const char apikey_usage[] =
    "usage: crtoken-admin apikey create --name NAME [--scope S,...] [--profiles P,...] [--json]\n"
    "       crtoken-admin apikey list [--json]\n"
    "       crtoken-admin apikey show ID [--json]\n"
    "       crtoken-admin apikey revoke ID [--json]\n"
    "\n"
    "API keys for crtokend's admin endpoints (Authorization: Bearer KEY).\n"
    "  create   make a key; it is printed once and only its hash is stored\n"
    "           (--json prints {\"id\",\"name\",\"key\",\"scopes\",\"profiles\"})\n"
    "           --scope: what it may do, comma-separated: tokens:read, tokens:write,\n"
    "           certs:read, certs:revoke, requests:read, requests:approve, audit:read,\n"
    "           or all (the default)\n"
    "           --profiles: the certificate profiles it may create tokens of\n"
    "           (default: all)\n"
    "  list     all keys with creation, last use and revocation times, scopes\n"
    "  show     one key\n"
    "  revoke   stop accepting the key with this id\n"
    "Each action takes only the options shown for it; any other is a usage error.\n";

/* admin_fail with a detail of our own (the failure is the CLI's, not the library's). */
static int fail_with(crt_status s, const char *detail)
{
	fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(s),
	        crt_status_message(s), detail);
	return admin_exit_for(s);
}

/* The key's scopes as their canonical text ("all", "tokens:read,..."). */
static const char *scopes_text(const crt_apikey *k, char *buf, size_t len)
{
	if (crt_scopes_format(k->scopes, buf, len) != CRT_OK)
		snprintf(buf, len, "?");
	return buf;
}

static json_t *key_json(const crt_apikey *k)
{
	json_t *o = json_object();
	char sc[160];

	json_object_set_new(o, "id", json_string(k->id));
	json_object_set_new(o, "name", admin_json_str(k->name));
	json_object_set_new(o, "createdAt", admin_json_time(k->created_at));
	json_object_set_new(o, "lastUsedAt", admin_json_time(k->last_used_at));
	json_object_set_new(o, "revokedAt", admin_json_time(k->revoked_at));
	json_object_set_new(o, "scopes", json_string(scopes_text(k, sc, sizeof(sc))));
	json_object_set_new(o, "profiles", admin_json_str(k->profiles));
	return o;
}

static int do_create(admin_env *env, const crt_apikey_spec *spec)
{
	char key[CRT_TOKEN_STRLEN + 1], sc[160];
	crt_apikey k;
	crt_status r;
	int rc;

	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_apikey_create_scoped(env->ctx, spec, admin_actor(), &k, key)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		admin_json_print(json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", k.id, "name", k.name,
		                           "key", key, "scopes", scopes_text(&k, sc, sizeof(sc)),
		                           "profiles", admin_json_str(k.profiles)));
	} else {
		printf("id:       %s\nname:     %s\nscopes:   %s\nprofiles: %s\nkey:      %s\n\n"
		       "The key is shown only now; store it where the client can read it.\n",
		       k.id, k.name, scopes_text(&k, sc, sizeof(sc)), k.profiles ? k.profiles : "all",
		       key);
	}
	explicit_bzero(key, sizeof(key));
	crt_apikey_clear(&k);
	return EXIT_OK;
}

static int do_list(admin_env *env)
{
	crt_apikey *list = NULL;
	char a[32], b[32], c[32], sc[160];
	size_t n = 0, i;
	json_t *arr;
	crt_status r;
	int rc;

	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_apikey_list(env->ctx, &list, &n)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, key_json(&list[i]));
		admin_json_print(arr);
	} else {
		printf("%-44s %-20s %-20s %-20s %-24s %s\n", "ID", "CREATED", "LAST USED", "REVOKED",
		       "NAME", "SCOPES");
		for (i = 0; i < n; i++)
			printf("%-44s %-20s %-20s %-20s %-24s %s%s%s\n", list[i].id,
			       admin_time(list[i].created_at, a),
			       admin_time(list[i].last_used_at, b),
			       admin_time(list[i].revoked_at, c), list[i].name,
			       scopes_text(&list[i], sc, sizeof(sc)),
			       list[i].profiles ? " profiles=" : "",
			       list[i].profiles ? list[i].profiles : "");
	}
	crt_apikey_list_free(list, n);
	return EXIT_OK;
}

static int do_show(admin_env *env, const char *id)
{
	crt_apikey *list = NULL, *k = NULL;
	char a[32], sc[160];
	size_t n = 0, i;
	crt_status r;
	int rc;

	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_apikey_list(env->ctx, &list, &n)) != CRT_OK)
		return admin_fail(env, r);
	for (i = 0; i < n && k == NULL; i++)
		if (strcmp(list[i].id, id) == 0)
			k = &list[i];
	if (k == NULL) {
		char msg[CRT_ID_LEN + 64];
		snprintf(msg, sizeof(msg), "no API key with id %.*s", CRT_ID_LEN, id);
		crt_apikey_list_free(list, n);
		return fail_with(CRT_E_APIKEY_NOT_FOUND, msg);
	}
	if (env->json) {
		admin_json_print(key_json(k));
	} else {
		printf("id:         %s\nname:       %s\n", k->id, k->name);
		printf("created:    %s\n", admin_time(k->created_at, a));
		printf("last used:  %s\n", admin_time(k->last_used_at, a));
		printf("revoked:    %s\n", admin_time(k->revoked_at, a));
		printf("scopes:     %s\n", scopes_text(k, sc, sizeof(sc)));
		printf("profiles:   %s\n", k->profiles ? k->profiles : "all");
	}
	crt_apikey_list_free(list, n);
	return EXIT_OK;
}

static int do_revoke(admin_env *env, const char *id)
{
	crt_status r;
	int rc;

	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_apikey_revoke(env->ctx, id, admin_actor())) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		admin_json_print(json_pack("{s:s, s:b}", "id", id, "revoked", 1));
	else
		printf("revoked %s\n", id);
	return EXIT_OK;
}

/* Short letters as before: -n NAME, -j, -h. */
static const struct option create_opts[] = {
	{"name", required_argument, NULL, 'n'},
	{"scope", required_argument, NULL, 's'},
	{"profiles", required_argument, NULL, 'p'},
	{"json", no_argument, NULL, 'j'},
	{NULL, 0, NULL, 0},
};
static const struct option json_opts[] = {
	{"json", no_argument, NULL, 'j'},
	{NULL, 0, NULL, 0},
};

static int apikey_create(admin_env *env, admin_call *call)
{
	crt_apikey_spec spec = {.name = NULL, .scopes = CRT_SCOPE_ALL, .profiles = NULL};
	const char *scope = NULL;
	int c;

	while ((c = admin_getopt(call)) > 0) {
		if (c == 'n')
			spec.name = optarg;
		else if (c == 's')
			scope = optarg;
		else if (c == 'p')
			spec.profiles = optarg;
		else if (c == 'j')
			env->json = 1;
	}
	if (c < 0)
		return call->exit;
	if (spec.name == NULL || optind != call->argc)
		return admin_usage_error(call->cmd, "needs --name NAME");
	if (scope != NULL && crt_scopes_parse(scope, &spec.scopes) != CRT_OK)
		return fail_with(CRT_E_SCOPE_UNKNOWN,
		                 "--scope: use tokens:read, tokens:write, certs:read, certs:revoke, "
		                 "requests:read, requests:approve, audit:read or all");
	return do_create(env, &spec);
}

static int apikey_list(admin_env *env, admin_call *call)
{
	int c;

	while ((c = admin_getopt(call)) > 0)
		if (c == 'j')
			env->json = 1;
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	return do_list(env);
}

static int apikey_show(admin_env *env, admin_call *call)
{
	int c;

	while ((c = admin_getopt(call)) > 0)
		if (c == 'j')
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "exactly one ID") != 0)
		return call->exit;
	return do_show(env, call->argv[optind]);
}

static int apikey_revoke(admin_env *env, admin_call *call)
{
	int c;

	while ((c = admin_getopt(call)) > 0)
		if (c == 'j')
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "exactly one ID") != 0)
		return call->exit;
	return do_revoke(env, call->argv[optind]);
}

static const admin_action create_action = {
	.name = "create", .opts = create_opts, .shortopts = "n:s:p:jh", .run = apikey_create};
static const admin_action show_action = {
	.name = "show", .opts = json_opts, .shortopts = "jh", .run = apikey_show};
static const admin_action list_action = {
	.name = "list", .opts = json_opts, .shortopts = "jh", .run = apikey_list};
static const admin_action revoke_action = {
	.name = "revoke", .opts = json_opts, .shortopts = "jh", .run = apikey_revoke};
static const admin_action *const apikey_actions[] = {&create_action, &list_action, &show_action,
						     &revoke_action, NULL};
static const admin_group apikey_group = {
	.name = "apikey", .help = apikey_usage, .actions = apikey_actions};

int cmd_apikey(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &apikey_group, argc, argv);
}
