/*
 * cert_show.c — `crtoken-admin cert show SERIAL [--pem] [--json]`, and the
 * output of one certificate that revoke prints too.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cert.h"

/* The attested facts (JSON) as one line: "serial 12345678, firmware 5.4.3, ..." */
static void print_attestation(const char *facts)
{
	static const char *const keys[][2] = {
	    {"serial", "device serial"},   {"firmware", "firmware"},
	    {"pinPolicy", "PIN policy"},   {"touchPolicy", "touch policy"},
	    {"formFactor", "form factor"}, {"slot", "slot"}};
	json_t *o = json_loads(facts, 0, NULL), *v;
	const char *sep = "";

	if (o == NULL) {
		printf("attested: %s\n", facts);
		return;
	}
	printf("attested: ");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = json_object_get(o, keys[i][0])) == NULL)
			continue;
		if (json_is_integer(v))
			printf("%s%s %lld", sep, keys[i][1], (long long)json_integer_value(v));
		else if (json_is_string(v))
			printf("%s%s %s", sep, keys[i][1], json_string_value(v));
		sep = ", ";
	}
	if (json_integer_value(json_object_get(o, "fips")))
		printf("%sFIPS", sep);
	if ((v = json_object_get(o, "root")) != NULL && json_is_string(v))
		printf("\n          (root SHA-256 %s)", json_string_value(v));
	printf("\n");
	json_decref(o);
}

static void print_cert_text(admin_env *env, const crt_cert *c)
{
	char a[32], b[32], d[32];
	crt_status adm = crt_cert_check_status(c, crt_now(), NULL);
	printf("serial:   %s\nname:     %s\nstatus:   %s\nsubject:  %s\nissuer:   %s\n", c->serial,
	       c->name, crt_cert_status_name(c->status), c->subject, c->issuer);
	printf("CA:       %s\n", c->ca ? c->ca : CRT_CA_DEFAULT);
	char *san = crt_cert_san_text(c->pem);
	if (san != NULL)
		admin_print_san(san);
	free(san);
	printf("valid:    %s .. %s\nkey:      %s (SHA-256 %s)\ntoken:    %s\nuser:     %s\n",
	       admin_time(c->not_before, a), admin_time(c->not_after, b), c->key_type,
	       c->pubkey_sha256, c->token_id[0] ? c->token_id : "-", c->user ? c->user : "-");
	printf("keyids:   subject %s, authority %s\ncert:     SHA-256 %s\n", c->ski ? c->ski : "-",
	       c->aki ? c->aki : "-", c->cert_sha256 ? c->cert_sha256 : "-");
	if (c->renewed_from)
		printf("renewed:  from %s\n", c->renewed_from);
	if (c->pin_mac)
		printf("pin MAC:  %s (its token's)\n", c->pin_mac);
	if (c->revoked)
		printf("revoked:  %s (%s)\n", admin_time(c->revoked_at, d),
		       crt_reason_name(c->reason));
	printf("RADIUS:   %s\n", adm == CRT_OK ? "admitted" : crt_status_name(adm));
	if (c->attestation)
		print_attestation(c->attestation);
	if (c->first_seen) {
		char f[32], l[32];
		printf("seen:     first %s from %s, last %s\n", admin_time(c->first_seen, f),
		       c->first_mac ? c->first_mac : "-", admin_time(c->last_seen, l));
		printf("session:  NAS %s (%s), MAC %s, user %s, Acct-Session-Id %s\n",
		       c->nas_ip ? c->nas_ip : "-", c->nas_id ? c->nas_id : "-",
		       c->last_mac ? c->last_mac : "-", c->seen_user ? c->seen_user : "-",
		       c->acct_session_id ? c->acct_session_id : "-");
	} else {
		printf("seen:     never\n");
	}
	if (c->reply)
		printf("reply attributes:\n  %s\n", c->reply);
}

int cert_print(admin_env *env, const crt_cert *c)
{
	if (env->json)
		return admin_json_print_shape(crt_cert_json(c, 1));
	print_cert_text(env, c);
	return EXIT_OK;
}

static const struct option show_opts[] = {
    {"pem", no_argument, NULL, CERT_PEM},
    {"json", no_argument, NULL, CERT_JSON},
    {NULL, 0, NULL, 0},
};

static int cert_show(admin_env *env, admin_call *call)
{
	crt_cert cert;
	crt_status r;
	int pem = 0, c, rc;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case CERT_PEM:
			pem = 1;
			break;
		case CERT_JSON:
			env->json = 1;
			break;
		}
	}
	if (c < 0 || admin_operands(call, 1, "exactly one SERIAL") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_cert_get(env->ctx, call->argv[optind], &cert)) != CRT_OK)
		return admin_fail(env, r);
	if (pem && !env->json) {
		fputs(cert.pem, stdout);
		rc = EXIT_OK;
	} else {
		rc = cert_print(env, &cert);
	}
	crt_cert_clear(&cert);
	return rc;
}

const admin_action cert_show_action = {
    .name = "show",
    .opts = show_opts,
    .run = cert_show,
};
