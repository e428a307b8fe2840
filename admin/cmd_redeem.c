/*
 * cmd_redeem.c — `crtoken-admin redeem`: local redemption of a token with a
 * CSR, or with an existing certificate (--cert: an upload, import.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_redeem(admin_env *env, int argc, char **argv);

static const char redeem_help[] =
	"usage: crtoken-admin redeem TOKEN --csr FILE [--attestation FILE] [--cn CN]\n"
	"                            [--org O] [--ou OU] [--user USER] [--out FILE]\n"
	"                            [--chain-out FILE] [--json]\n"
	"       crtoken-admin redeem TOKEN --cert FILE [--user USER] [--json]\n\n"
	"Redeem a certificate request token locally with a CSR (PEM or DER). The\n"
	"certificate is signed by the CA, stored, and the token is used up. --cn/--org/\n"
	"--ou set fields the token leaves open (see token --help). Without --user\n"
	"this is an admin redemption (the owner check is skipped); with --user the\n"
	"token's owner must match. --out writes the certificate (PEM), --chain-out the\n"
	"CA chain; --json prints the certificate record with both. --attestation gives\n"
	"the YubiKey PIV attestation of the CSR's key (PEM: the attestation certificate,\n"
	"yubico-piv-tool -a attest -s 9a, followed by the device's intermediate,\n"
	"yubico-piv-tool -a read-certificate -s f9), checked as the token's attestation\n"
	"policy says.\n"
	"--cert uploads an existing certificate instead (one PEM certificate, no key):\n"
	"it must chain to [import] trusted_issuers, be a client-auth leaf valid now,\n"
	"and its subject must be what the token allows (its CN, O and OU as if they\n"
	"were --cn/--org/--ou); it is stored as it is, with the token's reply\n"
	"attributes. A token that requires approval stores a certificate request\n"
	"instead: its id and poll secret are printed (--json: the request) and the exit\n"
	"status is 5; crtoken-admin request approve ID issues the certificate.\n";

int cmd_redeem(admin_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{"csr", required_argument, NULL, 'r'},  {"cn", required_argument, NULL, 'n'},
		{"org", required_argument, NULL, 'o'},  {"ou", required_argument, NULL, 'u'},
		{"user", required_argument, NULL, 'U'}, {"out", required_argument, NULL, 'O'},
		{"chain-out", required_argument, NULL, 'H'}, {"json", no_argument, NULL, 'j'},
		{"attestation", required_argument, NULL, 'a'},
		{"cert", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},	{NULL, 0, NULL, 0},
	};
	crt_redeem_req req = {0};
	crt_cert cert = {0};
	crt_request pending = {0};
	char poll[CRT_TOKEN_STRLEN + 1] = "";
	const char *csr_file = NULL, *out = NULL, *chain_out = NULL, *att_file = NULL,
		   *cert_file = NULL;
	char *csr = NULL, *att = NULL;
	size_t csr_len = 0, att_len = 0;
	int c, rc;
	crt_status r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': csr_file = optarg; break;
		case 'a': att_file = optarg; break;
		case 'C': cert_file = optarg; break;
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
	if ((csr_file == NULL) == (cert_file == NULL))
		return admin_usage_error("redeem", "--csr FILE or --cert FILE is required (one)");
	if (cert_file != NULL && (att_file || req.cn || req.org || req.ou || chain_out))
		return admin_usage_error("redeem", "--cert takes no --attestation, --cn, --org, "
						   "--ou or --chain-out (the subject is the "
						   "certificate's)");
	req.token = argv[optind];
	req.admin = req.user == NULL;
	req.actor = admin_actor();
	r = admin_read_file(csr_file ? csr_file : cert_file, 1 << 20, &csr, &csr_len);
	if (r != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(r),
			crt_status_message(r), csr_file ? csr_file : cert_file);
		return admin_exit_for(r);
	}
	if (cert_file != NULL) {
		req.cert = (const unsigned char *)csr;
		req.cert_len = csr_len;
	} else {
		req.csr = (const unsigned char *)csr;
		req.csr_len = csr_len;
	}
	if (att_file != NULL &&
	    (r = admin_read_file(att_file, 1 << 20, &att, &att_len)) != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(r),
			crt_status_message(r), att_file);
		rc = admin_exit_for(r);
		goto out;
	}
	req.attestation = (const unsigned char *)att;
	req.attestation_len = att_len;
	/* refuse a bad --out before the token is spent */
	if ((out && (rc = admin_write_out(out, "", 1)) != 0) ||
	    (chain_out && (rc = admin_write_out(chain_out, "", 1)) != 0))
		goto out;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		goto out;
	if ((r = crt_redeem_submit(env->ctx, &req, &cert, &pending, poll)) != CRT_OK) {
		rc = admin_fail(env, r);
		goto out;
	}
	if (pending.id[0] != '\0') {
		if (env->json) {
			json_t *o = crt_request_json(&pending, 0);
			if (o != NULL)
				json_object_set_new(o, "pollSecret", json_string(poll));
			admin_json_print_shape(o);
		} else {
			printf("Certificate request %s is pending approval (token %s)\n"
			       "  poll secret (shown once): %s\n"
			       "  approve with: crtoken-admin request approve %s\n",
			       pending.id, pending.token_id, poll, pending.id);
		}
		rc = EXIT_PENDING;
		goto out;
	}
	rc = EXIT_OK;
	if ((out && admin_write_out(out, cert.pem, 0) != 0) ||
	    (chain_out && admin_write_out(chain_out, cert.chain_pem ? cert.chain_pem : "", 0) != 0)) {
		fprintf(stderr, "crtoken-admin: the certificate %s was issued and stored; "
				"get it with: crtoken-admin cert show %s --json\n",
			cert.serial, cert.serial);
		rc = EXIT_SYSTEM;
	}
	if (env->json)
		admin_json_print_shape(crt_cert_json(&cert, 1));
	else if (rc == EXIT_OK && (out == NULL || strcmp(out, "-") != 0))
		printf("%s certificate %s for \"%s\"\n  subject: %s\n",
		       cert_file ? "Stored uploaded" : "Issued", cert.serial, cert.name, cert.subject);
out:
	if (csr != NULL) /* a pasted private key is refused, but was in this buffer */
		explicit_bzero(csr, csr_len);
	free(csr);
	free(att);
	explicit_bzero(poll, sizeof(poll));
	crt_request_clear(&pending);
	crt_cert_clear(&cert);
	return rc;
}
