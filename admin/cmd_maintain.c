/*
 * cmd_maintain.c — `crtoken-admin maintain`: the scheduled work, for sites
 * without crtokend (which runs it itself every [maintenance] interval);
 * crtoken-maintain.timer runs it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_maintain(admin_env *env, int argc, char **argv);

static const char maintain_help[] =
	"usage: crtoken-admin maintain [--json]\n\n"
	"Run the scheduled work once: re-sign the CRL before its nextUpdate (and\n"
	"write [ca] crl_file), purge tokens that ended [tokens] purge_after ago,\n"
	"revoke as superseded the certificates renewed more than [renewal]\n"
	"grace_days ago, expire the pending certificate requests older than\n"
	"[requests] pending_lifetime, and raise certificate.expiring for the\n"
	"certificates ending within [events] expiring_window (once per\n"
	"certificate). Each step is audited as it acts, the run as maintain.run.\n"
	"Runs on several nodes at once have one effect. A failing step does not\n"
	"stop the others; the exit status is then that of the first failure.\n";

int cmd_maintain(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	crt_maintain_report rep;
	char when[32];
	int c, rc;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': env->json = 1; break;
		case 'h': fputs(maintain_help, stdout); return EXIT_OK;
		default: return admin_usage_error("maintain", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("maintain", "unexpected argument '%s'", argv[optind]);
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	r = crt_maintain(env->ctx, admin_actor(), &rep);
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "crlResigned", json_boolean(rep.crl_resigned));
		json_object_set_new(o, "crlNumber", json_integer(rep.crl_number));
		json_object_set_new(o, "tokensPurged", json_integer((json_int_t)rep.tokens_purged));
		json_object_set_new(o, "superseded", json_integer((json_int_t)rep.superseded));
		json_object_set_new(o, "requestsExpired",
				    json_integer((json_int_t)rep.requests_expired));
		json_object_set_new(o, "expiringRaised",
				    json_integer((json_int_t)rep.expiring_raised));
		json_object_set_new(o, "failedStep",
				    rep.failed_step ? json_string(rep.failed_step) : json_null());
		admin_json_print(o);
	} else {
		crt_time_rfc3339(rep.crl_next_update, when, sizeof(when));
		printf("CRL #%lld %s (nextUpdate %s)\n", (long long)rep.crl_number,
		       rep.crl_resigned ? "signed" : "still fresh", when);
		printf("tokens purged: %zu\nsuperseded:    %zu\nrequests expired: %zu\n"
		       "expiring:      %zu reminder%s raised\n",
		       rep.tokens_purged, rep.superseded, rep.requests_expired, rep.expiring_raised,
		       rep.expiring_raised == 1 ? "" : "s");
	}
	if (rep.crl_file_status != CRT_OK)
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n",
			crt_status_name(rep.crl_file_status), crt_status_message(rep.crl_file_status),
			crt_get_config(env->ctx)->crl_file);
	if (r != CRT_OK)
		return admin_fail(env, r);
	return rep.crl_file_status != CRT_OK ? EXIT_SYSTEM : EXIT_OK;
}
