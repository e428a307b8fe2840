/*
 * cmd_profile.c — `crtoken-admin profile list|show NAME [--json]`: the
 * certificate profiles of the configuration ([profile NAME] sections; the
 * default one always among them), as libcrtoken resolved them.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"

int cmd_profile(admin_env *env, int argc, char **argv);

enum { PROF_JSON = 1100 };

static const char profile_help[] =
    "usage: crtoken-admin profile list [--json]\n"
    "       crtoken-admin profile show NAME [--json]\n\n"
    "The certificate profiles of crtoken.conf ([profile NAME] sections), with every\n"
    "value resolved ([ca] and [tokens] supply what a section leaves out). A token\n"
    "names its profile (token create --profile NAME); the default profile, implied\n"
    "when none is configured, issues the certificate crtoken always issued.\n"
    "An unknown NAME is profile_unknown (exit status 3).\n";

static const struct option json_opts[] = {
    {"json", no_argument, NULL, PROF_JSON},
    {NULL, 0, NULL, 0},
};

static void print_list(const char *label, const char *v)
{
	printf("%-20s %s\n", label, v && *v ? v : "-");
}

static void print_profile(const crt_cert_profile *p)
{
	char buf[64];
	print_list("name:", p->name);
	print_list("description:", p->description);
	snprintf(buf, sizeof(buf), "%d days (tokens may ask up to %d)", p->days, p->max_days);
	print_list("validity:", buf);
	print_list("key usage:", p->key_usage ? p->key_usage : "auto (by key type)");
	print_list("extended key usage:", p->ext_key_usage);
	print_list("key types:", p->key_types);
	print_list("SAN email:", p->san_email);
	print_list("SAN UPN:", p->san_upn);
	print_list("SAN DNS:", p->san_dns);
	print_list("SAN URI:", p->san_uri);
	printf("%-20s %s%s%s%s\n", "locked fields:", p->locked & CRT_FIELD_CN ? "cn " : "",
	       p->locked & CRT_FIELD_O ? "org " : "", p->locked & CRT_FIELD_OU ? "ou" : "",
	       p->locked ? "" : "-");
	snprintf(buf, sizeof(buf), "%llds (at most %llds)", (long long)p->token_lifetime,
	         (long long)p->token_max_lifetime);
	print_list("token lifetime:", buf);
	print_list("approval:", p->approval == CRT_APPROVAL_REQUIRED ? "required" : "none");
	snprintf(buf, sizeof(buf), "%d days before expiry%s", p->renew_days,
	         p->allow_same_key ? ", same key allowed" : "");
	print_list("renewal:", p->renew_days ? buf : "never");
	print_list("pin MAC:", p->pin_mac == CRT_PIN_MAC_FIRST ? "first" : "off");
	snprintf(buf, sizeof(buf), "%llds", (long long)p->session_timeout);
	print_list("session timeout cap:", p->session_timeout ? buf : "-");
	print_list("CRL URL:", p->crl_url);
	print_list("CA issuers URL:", p->ca_issuers_url);
	print_list("OCSP URL:", p->ocsp_url);
	if (p->reply) {
		printf("reply attributes:\n");
		for (const char *s = p->reply; *s;) {
			size_t n = strcspn(s, "\n");
			printf("  %.*s\n", (int)n, s);
			s += n + (s[n] ? 1 : 0);
		}
	}
}

static int profile_list(admin_env *env, admin_call *call)
{
	const crt_config *cfg;
	int c, rc;

	while ((c = admin_getopt(call)) > 0)
		if (c == PROF_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	cfg = crt_get_config(env->ctx);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < cfg->nprofiles; i++)
			json_array_append_new(a,
			                      admin_json_or_null(crt_cert_profile_json(&cfg->profiles[i])));
		return admin_json_print_shape(a);
	}
	for (size_t i = 0; i < cfg->nprofiles; i++)
		printf("%-24s %d days  %s\n", cfg->profiles[i].name, cfg->profiles[i].days,
		       cfg->profiles[i].description ? cfg->profiles[i].description : "");
	return EXIT_OK;
}

static int profile_show(admin_env *env, admin_call *call)
{
	const crt_cert_profile *p;
	int c, rc;

	while ((c = admin_getopt(call)) > 0)
		if (c == PROF_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "a profile name") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((p = crt_cert_profile_find(crt_get_config(env->ctx), call->argv[optind])) == NULL) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n",
		        crt_status_name(CRT_E_PROFILE_UNKNOWN),
		        crt_status_message(CRT_E_PROFILE_UNKNOWN), call->argv[optind]);
		return admin_exit_for(CRT_E_PROFILE_UNKNOWN);
	}
	if (env->json)
		return admin_json_print_shape(crt_cert_profile_json(p));
	print_profile(p);
	return EXIT_OK;
}

static const admin_action profile_list_action = {
    .name = "list",
    .opts = json_opts,
    .run = profile_list,
};
static const admin_action profile_show_action = {
    .name = "show",
    .opts = json_opts,
    .run = profile_show,
};
static const admin_action *const profile_actions[] = {
    &profile_list_action,
    &profile_show_action,
    NULL,
};
static const admin_group profile_group = {
    .name = "profile",
    .help = profile_help,
    .actions = profile_actions,
};

int cmd_profile(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &profile_group, argc, argv);
}
