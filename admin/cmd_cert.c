/*
 * cmd_cert.c — `crtoken-admin redeem` (local redemption), `cert
 * list|show|revoke` and `crl`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_redeem(admin_env *env, int argc, char **argv);
int cmd_cert(admin_env *env, int argc, char **argv);
int cmd_crl(admin_env *env, int argc, char **argv);

/* Write an output file (crt_file_write: never through a symlink, an
 * existing regular file replaced by a new one) or stdout for "-". With
 * check set, only report whether it could be written. 0 or an exit code. */
static int write_out(const char *path, const char *data, int check)
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

static void print_cert_text(admin_env *env, const crt_cert *c)
{
	char a[32], b[32], d[32];
	crt_status adm = crt_cert_check_status(c, crt_now(), NULL);
	printf("serial:   %s\nname:     %s\nstatus:   %s\nsubject:  %s\nissuer:   %s\n",
	       c->serial, c->name, crt_cert_status_name(c->status), c->subject, c->issuer);
	printf("valid:    %s .. %s\nkey:      %s (SHA-256 %s)\ntoken:    %s\nuser:     %s\n",
	       admin_time(c->not_before, a), admin_time(c->not_after, b), c->key_type,
	       c->pubkey_sha256, c->token_id[0] ? c->token_id : "-", c->user ? c->user : "-");
	printf("keyids:   subject %s, authority %s\ncert:     SHA-256 %s\n",
	       c->ski ? c->ski : "-", c->aki ? c->aki : "-", c->cert_sha256 ? c->cert_sha256 : "-");
	if (c->revoked)
		printf("revoked:  %s (%s)\n", admin_time(c->revoked_at, d),
		       crt_reason_name(c->reason));
	printf("RADIUS:   %s\n", adm == CRT_OK ? "admitted" : crt_status_name(adm));
	if (c->reply)
		printf("reply attributes:\n  %s\n", c->reply);
}

static const char redeem_help[] =
	"usage: crtoken-admin redeem TOKEN --csr FILE [--cn CN] [--org O] [--ou OU]\n"
	"                            [--user USER] [--out FILE] [--chain-out FILE] [--json]\n\n"
	"Redeem a certificate request token locally with a CSR (PEM or DER). The\n"
	"certificate is signed by the CA, stored, and the token is used up. --cn/--org/\n"
	"--ou set fields the token leaves open (see token --help). Without --user\n"
	"this is an admin redemption (the owner check is skipped); with --user the\n"
	"token's owner must match. --out writes the certificate (PEM), --chain-out the\n"
	"CA chain; --json prints the certificate record with both.\n";

int cmd_redeem(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"csr", required_argument, NULL, 'r'},  {"cn", required_argument, NULL, 'n'},
		{"org", required_argument, NULL, 'o'},  {"ou", required_argument, NULL, 'u'},
		{"user", required_argument, NULL, 'U'}, {"out", required_argument, NULL, 'O'},
		{"chain-out", required_argument, NULL, 'H'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	{NULL, 0, NULL, 0},
	};
	crt_redeem_req req = {0};
	crt_cert cert = {0};
	const char *csr_file = NULL, *out = NULL, *chain_out = NULL;
	char *csr = NULL;
	size_t csr_len = 0;
	int c, rc;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': csr_file = optarg; break;
		case 'n': req.cn = optarg; break;
		case 'o': req.org = optarg; break;
		case 'u': req.ou = optarg; break;
		case 'U': req.user = optarg; break;
		case 'O': out = optarg; break;
		case 'H': chain_out = optarg; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(redeem_help, stdout); return EXIT_OK;
		default: return admin_usage_error("redeem", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return admin_usage_error("redeem", "expected exactly one TOKEN");
	if (csr_file == NULL)
		return admin_usage_error("redeem", "--csr FILE is required");
	req.token = argv[optind];
	req.admin = req.user == NULL;
	req.actor = admin_actor();
	r = admin_read_file(csr_file, 1 << 20, &csr, &csr_len);
	if (r != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(r),
			crt_status_message(r), csr_file);
		return admin_exit_for(r);
	}
	req.csr = (const unsigned char *)csr;
	req.csr_len = csr_len;
	/* refuse a bad --out before the token is spent */
	if ((out && (rc = write_out(out, "", 1)) != 0) ||
	    (chain_out && (rc = write_out(chain_out, "", 1)) != 0))
		goto out;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		goto out;
	if ((r = crt_redeem(env->ctx, &req, &cert)) != CRT_OK) {
		rc = admin_fail(env, r);
		goto out;
	}
	rc = EXIT_OK;
	if ((out && write_out(out, cert.pem, 0) != 0) ||
	    (chain_out && write_out(chain_out, cert.chain_pem, 0) != 0)) {
		fprintf(stderr, "crtoken-admin: the certificate %s was issued and stored; "
				"get it with: crtoken-admin cert show %s --json\n",
			cert.serial, cert.serial);
		rc = EXIT_SYSTEM;
	}
	if (env->json)
		admin_json_print_shape(crt_cert_json(&cert, 1));
	else if (rc == EXIT_OK && (out == NULL || strcmp(out, "-") != 0))
		printf("Issued certificate %s for \"%s\"\n  subject: %s\n", cert.serial, cert.name,
		       cert.subject);
out:
	free(csr);
	crt_cert_clear(&cert);
	return rc;
}

static const char cert_help[] =
	"usage: crtoken-admin cert list [--status valid|revoked|expired] [--token ID]\n"
	"                               [--expiring-within DAYS] [--json]\n"
	"       crtoken-admin cert show SERIAL [--pem] [--json]\n"
	"       crtoken-admin cert revoke SERIAL [--reason keyCompromise] [--json]\n\n"
	"Serials are hex (colons and upper case accepted). Revocation is live for\n"
	"rlm_crtoken: the next EAP-TLS authentication of the certificate is rejected;\n"
	"a fresh CRL listing it is signed and written to [ca] crl_file at once.\n"
	"Reasons (RFC 5280): unspecified, keyCompromise, cACompromise,\n"
	"affiliationChanged, superseded, cessationOfOperation, certificateHold,\n"
	"privilegeWithdrawn, aACompromise.\n";

int cmd_cert(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"status", required_argument, NULL, 's'},
		{"token", required_argument, NULL, 't'},
		{"expiring-within", required_argument, NULL, 'e'},
		{"reason", required_argument, NULL, 'r'},
		{"pem", no_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	crt_cert_filter f = {.status = -1, .token_id = NULL, .expiring_within_days = -1};
	int reason = 0, pem = 0, c, rc;
	const char *action;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if ((f.status = crt_cert_status_parse(optarg)) < 0)
				return admin_usage_error("cert", "--status: valid, revoked or expired");
			break;
		case 't': f.token_id = optarg; break;
		case 'e':
			f.expiring_within_days = atoi(optarg);
			if (f.expiring_within_days < 0 ||
			    strspn(optarg, "0123456789") != strlen(optarg))
				return admin_usage_error("cert", "--expiring-within takes days");
			break;
		case 'r':
			if ((reason = crt_reason_parse(optarg)) < 0) {
				fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n",
					crt_status_name(CRT_E_REASON_INVALID),
					crt_status_message(CRT_E_REASON_INVALID), optarg);
				return EXIT_USAGE;
			}
			break;
		case 'p': pem = 1; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(cert_help, stdout); return EXIT_OK;
		default: return admin_usage_error("cert", "unknown option");
		}
	}
	if (optind >= argc)
		return admin_usage_error("cert", "expected an action: list, show or revoke");
	action = argv[optind++];
	if (strcmp(action, "list") == 0) {
		if (optind != argc)
			return admin_usage_error("cert", "unexpected argument '%s'", argv[optind]);
		if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
			return rc;
		crt_cert *list = NULL;
		size_t n = 0;
		if ((r = crt_cert_list(env->ctx, &f, &list, &n)) != CRT_OK)
			return admin_fail(env, r);
		if (env->json) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, admin_json_or_null(crt_cert_json(&list[i], 0)));
			admin_json_print(a);
		} else {
			char b[32];
			printf("%-32s %-8s %-20s %s\n", "SERIAL", "STATUS", "NOT AFTER", "NAME / SUBJECT");
			for (size_t i = 0; i < n; i++)
				printf("%-32s %-8s %-20s %s  %s\n", list[i].serial,
				       crt_cert_status_name(list[i].status),
				       admin_time(list[i].not_after, b), list[i].name, list[i].subject);
		}
		crt_cert_list_free(list, n);
		return EXIT_OK;
	}
	if (strcmp(action, "show") != 0 && strcmp(action, "revoke") != 0)
		return admin_usage_error("cert", "unknown action '%s'", action);
	if (optind + 1 != argc)
		return admin_usage_error("cert", "%s needs exactly one SERIAL", action);
	int revoke = strcmp(action, "revoke") == 0;
	crt_crl crl = {0};
	/* revoke publishes the CRL, so it needs the CA key */
	if ((rc = admin_open(env, revoke ? 0 : CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if (revoke && (r = crt_cert_revoke(env->ctx, argv[optind], reason, admin_actor(), &crl)) !=
			      CRT_OK)
		return admin_fail(env, r);
	if (revoke && !crl.file_written)
		fprintf(stderr,
			"crtoken-admin: warning: %s: the CRL #%lld listing the revocation is in the "
			"store but %s could not be written\n",
			crt_status_name(crl.file_status), (long long)crl.meta.number,
			crt_get_config(env->ctx)->crl_file);
	crt_cert cert;
	if ((r = crt_cert_get(env->ctx, argv[optind], &cert)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		rc = admin_json_print_shape(crt_cert_json(&cert, 1));
	else if (pem)
		fputs(cert.pem, stdout);
	else {
		if (revoke)
			printf("Revoked. CRL #%lld published%s%s.\n\n", (long long)crl.meta.number,
			       crl.file_written ? " to " : "",
			       crl.file_written ? crt_get_config(env->ctx)->crl_file : "");
		print_cert_text(env, &cert);
	}
	crt_cert_clear(&cert);
	crt_crl_clear(&crl);
	return rc;
}

static const char crl_help[] =
	"usage: crtoken-admin crl [--force] [--out FILE|-] [--json]\n\n"
	"Publish the current CRL: the one kept in the store, re-signed (CRL number\n"
	"incremented, nextUpdate from [ca] crl_days) when it is stale — a newer\n"
	"revocation, another CA, or in the last quarter before its nextUpdate — or\n"
	"with --force. It is written to [ca] crl_file, and optionally a copy to\n"
	"FILE (- for stdout). Run it from a timer so the CRL never expires; GET /crl\n"
	"on crtokend applies the same rule.\n";

int cmd_crl(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'O'},
		{"force", no_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	crt_crl crl = {0};
	unsigned flags = CRT_CRL_WRITE_FILE;
	int c, rc;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'O': out = optarg; break;
		case 'f': flags |= CRT_CRL_FORCE; break;
		case 'j': env->json = 1; break;
		case 'h': fputs(crl_help, stdout); return EXIT_OK;
		default: return admin_usage_error("crl", "unknown option");
		}
	}
	if (optind != argc)
		return admin_usage_error("crl", "unexpected argument '%s'", argv[optind]);
	if (out && (rc = write_out(out, "", 1)) != 0)
		return rc;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	if ((r = crt_crl_current(env->ctx, flags, admin_actor(), &crl)) != CRT_OK)
		return admin_fail(env, r);
	const char *file = crt_get_config(env->ctx)->crl_file;
	if (!crl.file_written) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(crl.file_status),
			crt_status_message(crl.file_status), file);
		rc = EXIT_SYSTEM;
	}
	if (out && write_out(out, crl.pem, 0) != 0)
		rc = EXIT_SYSTEM;
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "file", json_string(file));
		json_object_set_new(o, "crlNumber", json_integer(crl.meta.number));
		json_object_set_new(o, "resigned", json_boolean(crl.resigned));
		json_object_set_new(o, "crl", json_string(crl.pem));
		admin_json_print(o);
	} else if ((out == NULL || strcmp(out, "-") != 0) && crl.file_written) {
		printf("%s CRL #%lld to %s\n", crl.resigned ? "Signed and wrote" : "Wrote the current",
		       (long long)crl.meta.number, file);
	}
	crt_crl_clear(&crl);
	return rc;
}
