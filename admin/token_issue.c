/*
 * token_issue.c — `crtoken-admin token issue ID --generate KEYTYPE --p12 FILE
 * [--passphrase-file F] [--legacy] [--json]`: a key generated on behalf of
 * the token's owner (crt_token_issue), no end-user login. The PKCS#12 goes
 * to FILE (mode 0600, never over an existing file or through a link); the
 * passphrase comes from a file (never argv), or a generated one is printed
 * once. Everything that can be refused locally (FILE, the passphrase file)
 * is checked before the token is spent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static const struct option issue_opts[] = {
    {"generate", required_argument, NULL, TOK_GENERATE},
    {"p12", required_argument, NULL, TOK_P12},
    {"passphrase-file", required_argument, NULL, TOK_PASS_FILE},
    {"legacy", no_argument, NULL, TOK_LEGACY},
    {"json", no_argument, NULL, TOK_JSON},
    {NULL, 0, NULL, 0},
};

/* The passphrase in path: its first line (a final "\n" or "\r\n" dropped).
 * 0, or an exit status after the error was printed. *out malloc'd. */
static int read_passphrase(const char *path, char **out)
{
	char *data = NULL;
	size_t len = 0;
	crt_status r;

	*out = NULL;
	if ((r = admin_read_file(path, 4096, &data, &len)) != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(r),
		        r == CRT_E_CSR_TOO_LARGE ? "the passphrase file is over 4096 bytes"
		                                 : crt_status_message(r),
		        path);
		crt_freezero(data, len);
		return r == CRT_E_CSR_TOO_LARGE ? EXIT_USAGE : admin_exit_for(r);
	}
	if (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (len > 0 && data[len - 1] == '\r')
		data[--len] = '\0';
	if (len == 0 || strlen(data) != len || strchr(data, '\n') != NULL) {
		fprintf(stderr, "crtoken-admin: error: invalid_argument: %s: the passphrase file "
		                "holds one non-empty line\n",
		        path);
		crt_freezero(data, len + 1);
		return EXIT_USAGE;
	}
	*out = data;
	return 0;
}

static int write_p12(const char *path, const unsigned char *p12, size_t len, int check)
{
	char err[600];
	crt_status r;

	r = crt_file_write(path, p12, check ? 0 : len, 0600, check ? CRT_WRITE_CHECK : 0, err,
	                   sizeof(err));
	if (r != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s\n", crt_status_name(r), err);
		return admin_exit_for(r);
	}
	return 0;
}

static int token_issue(admin_env *env, admin_call *call)
{
	const char *key_type = NULL, *p12_path = NULL, *pass_file = NULL;
	char *pass = NULL, *pass_out = NULL;
	unsigned char *p12 = NULL;
	size_t p12_len = 0;
	crt_cert cert = {0};
	int c, rc, legacy = 0;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case TOK_GENERATE: key_type = optarg; break;
		case TOK_P12: p12_path = optarg; break;
		case TOK_PASS_FILE: pass_file = optarg; break;
		case TOK_LEGACY: legacy = 1; break;
		case TOK_JSON: env->json = 1; break;
		}
	}
	if (c < 0 || admin_operands(call, 1, "a token id") != 0)
		return call->exit;
	if (key_type == NULL)
		return admin_usage_error(call->cmd, "--generate KEYTYPE is required (ec-p256, "
		                                    "ec-p384, rsa-2048, rsa-3072, ed25519)");
	if (p12_path == NULL || strcmp(p12_path, "-") == 0)
		return admin_usage_error(call->cmd, "--p12 FILE is required (a file, not stdout)");
	if (pass_file != NULL && (rc = read_passphrase(pass_file, &pass)) != 0)
		return rc;
	if ((rc = write_p12(p12_path, NULL, 0, 1)) != 0)
		goto out;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		goto out;
	r = crt_token_issue(env->ctx, call->argv[optind], key_type, pass,
	                    legacy ? CRT_P12_LEGACY : CRT_P12_MODERN, admin_actor(), &cert, &p12,
	                    &p12_len, pass_out == NULL && pass == NULL ? &pass_out : NULL);
	if (r != CRT_OK) {
		rc = admin_fail(env, r);
		goto out;
	}
	rc = EXIT_OK;
	if (write_p12(p12_path, p12, p12_len, 0) != 0) {
		fprintf(stderr, "crtoken-admin: the certificate %s was issued and stored, but its "
		                "PKCS#12 is lost: revoke it (crtoken-admin cert revoke %s) and issue "
		                "a new token\n",
		        cert.serial, cert.serial);
		rc = EXIT_SYSTEM;
	}
	if (env->json) {
		json_t *j = crt_cert_json(&cert, 0);
		if (j != NULL && (json_object_set_new(j, "pkcs12File", json_string(p12_path)) != 0 ||
		                  (pass_out != NULL &&
		                   json_object_set_new(j, "passphrase", json_string(pass_out)) != 0))) {
			json_decref(j);
			j = NULL;
		}
		if (admin_json_print_shape(j) != EXIT_OK)
			rc = EXIT_SYSTEM;
	} else if (rc == EXIT_OK) {
		printf("Issued certificate %s for \"%s\"%s%s\n  subject: %s\n  PKCS#12: %s\n",
		       cert.serial, cert.name, cert.user ? " owned by " : "",
		       cert.user ? cert.user : "", cert.subject, p12_path);
		if (pass_out != NULL)
			printf("  passphrase (shown only now; give it to the user): %s\n", pass_out);
	}
out:
	crt_freezero(p12, p12_len);
	crt_strfree_secret(pass);
	crt_strfree_secret(pass_out);
	crt_cert_clear(&cert);
	return rc;
}

const admin_action token_issue_action = {
    .name = "issue",
    .opts = issue_opts,
    .help = NULL,
    .run = token_issue,
};
