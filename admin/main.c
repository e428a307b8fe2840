/*
 * main.c — crtoken-admin: global options, the subcommand table, and the
 * shared helpers declared in admin.h (opening the instance, error output
 * with the stable machine code, JSON printing).
 */
#include <getopt.h>
#include <pwd.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_init(admin_env *env, int argc, char **argv);
int cmd_ca(admin_env *env, int argc, char **argv);
int cmd_token(admin_env *env, int argc, char **argv);
int cmd_profile(admin_env *env, int argc, char **argv);
int cmd_redeem(admin_env *env, int argc, char **argv);
int cmd_request(admin_env *env, int argc, char **argv);
int cmd_cert(admin_env *env, int argc, char **argv);
int cmd_crl(admin_env *env, int argc, char **argv);
int cmd_ocsp_signer(admin_env *env, int argc, char **argv);
int cmd_maintain(admin_env *env, int argc, char **argv);
int cmd_audit(admin_env *env, int argc, char **argv);
int cmd_events(admin_env *env, int argc, char **argv);
int cmd_otp(admin_env *env, int argc, char **argv);
int cmd_apikey(admin_env *env, int argc, char **argv);
int cmd_backup(admin_env *env, int argc, char **argv);
int cmd_restore(admin_env *env, int argc, char **argv);
int cmd_store(admin_env *env, int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(admin_env *, int, char **);
	const char *help;
} commands[] = {
	{"init", cmd_init, "create a new instance (config, store, CA)"},
	{"ca", cmd_ca, "show, list, create or import the CAs"},
	{"token", cmd_token, "create, list, show, update, delete, purge tokens"},
	{"profile", cmd_profile, "list and show the certificate profiles"},
	{"redeem", cmd_redeem, "redeem a token with a CSR locally"},
	{"request", cmd_request, "list, show, approve, deny certificate requests"},
	{"cert", cmd_cert, "list, show, revoke issued certificates"},
	{"crl", cmd_crl, "sign and write a fresh CRL"},
	{"ocsp-signer", cmd_ocsp_signer, "make the delegated OCSP-signing certificate"},
	{"maintain", cmd_maintain, "run the scheduled work once (CRL, purge, supersede)"},
	{"audit", cmd_audit, "show the audit trail"},
	{"events", cmd_events, "the event outbox: list, deliver, check-expiring"},
	{"otp", cmd_otp, "enroll and manage one-time passwords"},
	{"apikey", cmd_apikey, "create, list, revoke API keys for crtokend"},
	{"backup", cmd_backup, "write one file to rebuild the instance from (online)"},
	{"restore", cmd_restore, "make a new instance from a backup"},
	{"store", cmd_store, "show the store's status; copy it to a new store"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: crtoken-admin [--config FILE] [--json] COMMAND [ARGS]\n\n"
		   "Administer a crtoken instance: certificate request tokens, the local CA,\n"
		   "issued certificates and one-time passwords.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nCRTOKEN_CONF=FILE is the same as --config FILE (default "
		   "/etc/crtoken/crtoken.conf).\n"
		   "`crtoken-admin COMMAND --help` describes each command.\n");
}

int admin_exit_for(crt_status s)
{
	/* From the library's one classification (crt_status_kind). */
	switch (crt_status_kind(s)) {
	case CRT_KIND_OK:
		return EXIT_OK;
	case CRT_KIND_NOT_FOUND:
		return EXIT_NOTFOUND;
	case CRT_KIND_FAILURE:
	case CRT_KIND_BUSY:
		return EXIT_SYSTEM;
	default:
		return EXIT_REFUSED;
	}
}

int admin_fail(admin_env *env, crt_status s)
{
	const char *detail = env && env->ctx ? crt_errdetail(env->ctx) : "";
	fprintf(stderr, "crtoken-admin: error: %s: %s%s%s\n", crt_status_name(s),
		crt_status_message(s), *detail ? ": " : "", detail);
	return admin_exit_for(s);
}

int admin_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "crtoken-admin %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'crtoken-admin %s --help'.\n", cmd);
	return EXIT_USAGE;
}

int admin_open(admin_env *env, unsigned flags)
{
	crt_status r;
	if (env->ctx != NULL)
		return EXIT_OK;
	r = crt_open(env->config, flags, &env->ctx);
	if (r != CRT_OK) {
		int code = admin_fail(env, r);
		crt_close(env->ctx);
		env->ctx = NULL;
		return code;
	}
	return EXIT_OK;
}

void admin_json_print(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL) {
		puts(s);
		free(s);
	}
	json_decref(v);
}

json_t *admin_json_time(int64_t t)
{
	char buf[32];
	if (t == 0)
		return json_null();
	crt_time_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

crt_status admin_read_file(const char *path, size_t limit, char **data, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = malloc(limit + 2);
	size_t n;
	*data = NULL;
	*len = 0;
	if (f == NULL || buf == NULL) {
		if (f != NULL && f != stdin)
			fclose(f);
		free(buf);
		return f == NULL ? CRT_E_IO : CRT_E_NOMEM;
	}
	n = fread(buf, 1, limit + 1, f);
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad || n > limit) {
		free(buf);
		return bad ? CRT_E_IO : CRT_E_CSR_TOO_LARGE;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return CRT_OK;
}

json_t *admin_json_or_null(json_t *v)
{
	return v ? v : json_null();
}

int admin_json_print_shape(json_t *v)
{
	if (v == NULL) {
		fprintf(stderr, "crtoken-admin: error: out_of_memory: out of memory\n");
		return EXIT_SYSTEM;
	}
	admin_json_print(v);
	return EXIT_OK;
}

int admin_write_out(const char *path, const char *data, int check)
{
	char err[600];
	crt_status r;

	if (strcmp(path, "-") == 0) {
		if (!check && fputs(data, stdout) == EOF) {
			fprintf(stderr, "crtoken-admin: error: io_error: cannot write to stdout\n");
			return EXIT_SYSTEM;
		}
		return 0;
	}
	r = crt_file_write(path, data, check ? 0 : strlen(data), 0644,
			   CRT_WRITE_REPLACE | (check ? CRT_WRITE_CHECK : 0), err, sizeof(err));
	if (r != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s\n", crt_status_name(r), err);
		return admin_exit_for(r);
	}
	return 0;
}


const char *admin_time(int64_t t, char buf[32])
{
	if (t == 0)
		return "-";
	crt_time_rfc3339(t, buf, 32);
	return buf;
}

void admin_print_san(const char *lines)
{
	for (const char *p = lines; *p;) {
		size_t n = strcspn(p, "\n");
		const char *eq = memchr(p, '=', n);
		if (eq != NULL)
			printf("SAN:      %.*s %.*s\n", (int)(eq - p), p, (int)(n - (size_t)(eq + 1 - p)),
			       eq + 1);
		p += n;
		if (*p == '\n')
			p++;
	}
}

const char *admin_actor(void)
{
	static char actor[300];
	if (actor[0] == '\0') {
		struct passwd *pw = getpwuid(getuid());
		if (pw != NULL)
			snprintf(actor, sizeof(actor), "admin:%s", pw->pw_name);
		else
			snprintf(actor, sizeof(actor), "admin:uid%u", (unsigned)getuid());
	}
	return actor;
}

json_t *admin_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	admin_env env = {0};
	int c, rc;

	while ((c = getopt_long(argc, argv, "+c:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': env.config = optarg; break;
		case 'j': env.json = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': puts("crtoken-admin 0.1"); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		int sub = optind;
		optind = 0; /* full getopt re-initialisation (glibc): permute again */
		rc = commands[i].fn(&env, argc - sub, argv + sub);
		crt_close(env.ctx);
		return rc;
	}
	fprintf(stderr, "crtoken-admin: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
