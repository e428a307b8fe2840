/*
 * renew.c — `crtoken-enroll renew --cert C --key K --server URL`: renewal
 * without a new token. A new key and a CSR for it are made here; the request
 * (POST /client-certificates/renew) authenticates with the current
 * certificate and key (TLS client authentication); on 201 the new key and
 * certificate replace K and C — each written whole to a new file beside it
 * first, then renamed over the old one, so until the server answered
 * success the old files are untouched, and a reader sees the old or the new
 * file, never a part. With [renewal] require_otp the owner logs in too
 * (--user, --otp-file or $CRTOKEN_OTP). For periodic use see
 * crtoken-renew.timer: a renewal before the window opens is
 * renewal_too_early (exit 1) and changes nothing.
 */
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enroll.h"

static void renew_usage(FILE *f)
{
	fprintf(f, "usage: crtoken-enroll renew --cert FILE --key FILE --server URL [options]\n"
	           "  --cert FILE       the current certificate (PEM); replaced by the new one\n"
	           "  --key FILE        its private key (PEM); replaced by the new key (0600)\n"
	           "  --server URL      the enrollment service (https://host:8443); --url too\n"
	           "  --cacert FILE     trust this CA for the server's TLS certificate\n"
	           "  --key-type TYPE   the new key: ec-p256 (default), ec-p384, rsa-2048,\n"
	           "                    rsa-3072, ed25519\n"
	           "  --user NAME       log in too (servers with [renewal] require_otp)\n"
	           "  --otp-file FILE   the one-time password for --user ('-': stdin; else\n"
	           "                    $CRTOKEN_OTP)\n");
}

static char *read_small(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char buf[256];
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	char *r = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/* Write data to path through path.new and a rename (crt_file_write). */
static int replace_file(const char *path, const char *data, unsigned mode)
{
	char tmp[4096], err[512];

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -1;
	if (crt_file_write(tmp, data, strlen(data), mode, CRT_WRITE_REPLACE, err, sizeof(err)) !=
	    CRT_OK) {
		fprintf(stderr, "crtoken-enroll: %s\n", err);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		perror("crtoken-enroll: rename");
		unlink(tmp);
		return -1;
	}
	return 0;
}

int renew_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"cert", required_argument, NULL, 'c'},   {"key", required_argument, NULL, 'k'},
	    {"server", required_argument, NULL, 's'}, {"url", required_argument, NULL, 's'},
	    {"cacert", required_argument, NULL, 'A'}, {"key-type", required_argument, NULL, 't'},
	    {"user", required_argument, NULL, 'u'},   {"otp-file", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *cert = NULL, *keyfile = NULL, *server = NULL, *cacert = NULL;
	const char *key_type = "ec-p256", *user = NULL, *otp_file = NULL, *pem;
	char *csr = NULL, *body = NULL, *url = NULL, *otp = NULL, *keytext = NULL;
	struct http_result res;
	EVP_PKEY *key = NULL;
	json_t *req = NULL, *resp = NULL;
	BIO *b = NULL;
	char *data;
	long n;
	int c, rc = EN_SYSTEM;

	memset(&res, 0, sizeof(res));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cert = optarg; break;
		case 'k': keyfile = optarg; break;
		case 's': server = optarg; break;
		case 'A': cacert = optarg; break;
		case 't': key_type = optarg; break;
		case 'u': user = optarg; break;
		case 'o': otp_file = optarg; break;
		case 'h': renew_usage(stdout); return EN_OK;
		default: renew_usage(stderr); return EN_USAGE;
		}
	}
	if (optind != argc || cert == NULL || keyfile == NULL || server == NULL) {
		renew_usage(stderr);
		return EN_USAGE;
	}
	if (access(cert, R_OK) != 0 || access(keyfile, R_OK) != 0) {
		fprintf(stderr, "crtoken-enroll: cannot read %s\n",
		        access(cert, R_OK) != 0 ? cert : keyfile);
		return EN_SYSTEM;
	}
	if (user != NULL) {
		const char *env = getenv("CRTOKEN_OTP");
		otp = otp_file != NULL ? read_small(otp_file)
		      : env != NULL    ? strdup(env)
		                       : prompt_secret("One-time password: ");
		if (otp == NULL) {
			fprintf(stderr, "crtoken-enroll: no one-time password for %s\n", user);
			return EN_USAGE;
		}
	}
	if (crt_key_generate(key_type, &key) != CRT_OK) {
		fprintf(stderr, "crtoken-enroll: unknown key type %s\n", key_type);
		rc = EN_USAGE;
		goto out;
	}
	if (crt_csr_make(key, "renewal", &csr) != CRT_OK ||
	    (req = json_pack("{s:s}", "csr", csr)) == NULL ||
	    (body = json_dumps(req, JSON_COMPACT)) == NULL ||
	    (url = malloc(strlen(server) + 40)) == NULL) {
		fprintf(stderr, "crtoken-enroll: out of memory\n");
		goto out;
	}
	size_t sl = strlen(server);
	while (sl > 0 && server[sl - 1] == '/')
		sl--;
	snprintf(url, sl + 40, "%.*s/client-certificates/renew", (int)sl, server);
	if (http_post_json_tls(url, body, user, otp, cacert, cert, keyfile, &res) != 0) {
		fprintf(stderr, "crtoken-enroll: %s: %s\n", server, res.error);
		goto out;
	}
	if (res.status != 201) {
		rc = report_server_error(&res);
		goto out;
	}
	if ((resp = json_loads(res.body, 0, NULL)) == NULL ||
	    (pem = json_string_value(json_object_get(resp, "certificate"))) == NULL) {
		fprintf(stderr, "crtoken-enroll: the server's answer holds no certificate\n");
		goto out;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 || (keytext = malloc((size_t)n + 1)) == NULL) {
		fprintf(stderr, "crtoken-enroll: cannot encode the new key\n");
		goto out;
	}
	memcpy(keytext, data, (size_t)n);
	keytext[n] = '\0';
	/* The key first: a certificate is useless without it, the key alone harmless. */
	if (replace_file(keyfile, keytext, 0600) != 0 || replace_file(cert, pem, 0644) != 0)
		goto out;
	printf("Renewed: %s (serial %s, renewed from %s)\n", cert,
	       json_string_value(json_object_get(resp, "serial")),
	       json_string_value(json_object_get(resp, "renewedFrom")));
	rc = EN_OK;
out:
	if (b != NULL)
		BIO_free_all(b); /* (a mem BIO: its buffer is freed with it) */
	if (keytext != NULL)
		crt_strfree_secret(keytext);
	crt_strfree_secret(otp);
	free(csr);
	free(url);
	free(body);
	json_decref(req);
	json_decref(resp);
	EVP_PKEY_free(key);
	http_result_clear(&res);
	return rc;
}
