/*
 * profile.c — crtoken-enroll --profile FORMAT: after the certificate is
 * saved, ask the service for the network onboarding profile
 * (POST /network-profiles/FORMAT; the rules live in libcrtoken) pointing at
 * the files just written, and write it with the RADIUS server's CA beside
 * them. Formats that carry the PKCS#12 (mobileconfig, eap-config) get one
 * made here, in the form their target imports; the Windows formats get the
 * legacy-form PKCS#12 file that certutil imports on every Windows version.
 */
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enroll.h"

/* Decode standard base64 text; malloc'd, *len set. NULL if not base64. */
static unsigned char *unbase64(const char *s, size_t *len)
{
	size_t n = strlen(s);
	unsigned char *out;
	int got;

	if (n == 0 || n % 4 != 0 || (out = malloc(3 * (n / 4) + 1)) == NULL)
		return NULL;
	if ((got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)) < 0) {
		free(out);
		return NULL;
	}
	while (n > 0 && s[--n] == '=')
		got--;
	*len = (size_t)got;
	return out;
}

static char *base64(const unsigned char *d, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, d, (int)n);
	return out;
}

static void path_of(char *out, size_t len, const char *dir, const char *base, const char *suffix)
{
	snprintf(out, len, "%s/%s%s", dir, base, suffix);
}

int profile_fetch(const struct profile_opts *po, EVP_PKEY *key, const char *cert, const char *chain,
                  const char *friendly)
{
	const crt_profile_format *f = crt_profile_format_find(po->format);
	char absdir[PATH_MAX], ca[PATH_MAX + 200], crt[PATH_MAX + 200], kp[PATH_MAX + 200];
	char err[512], fn[300], *url = NULL, *body = NULL, *p12_b64 = NULL;
	unsigned char *p12 = NULL, *data = NULL;
	size_t p12_len = 0, data_len = 0, n;
	struct http_result res;
	json_t *b = NULL, *v = NULL;
	const char *d, *filename, *ca_pem, *ca_fn;
	int rc = EN_SYSTEM, legacy_file;
	crt_status s;

	memset(&res, 0, sizeof(res));
	if (f == NULL)
		return EN_USAGE;
	if (realpath(po->out_dir, absdir) == NULL) {
		fprintf(stderr, "crtoken-enroll: error: %s: cannot resolve the directory\n",
		        po->out_dir);
		return EN_SYSTEM;
	}
	path_of(ca, sizeof(ca), absdir, po->base, "-radius-ca.pem");
	path_of(crt, sizeof(crt), absdir, po->base, ".crt");
	path_of(kp, sizeof(kp), absdir, po->base, ".key");
	/* Windows imports the PKCS#12 with certutil: the legacy form works everywhere. */
	legacy_file = strcmp(f->name, "windows") == 0 || strcmp(f->name, "netsh") == 0;
	if (f->embeds_p12 || legacy_file) {
		if (po->p12pass == NULL || *po->p12pass == '\0') {
			fprintf(stderr,
			        "crtoken-enroll: error: the %s profile needs a PKCS#12 "
			        "passphrase (CRTOKEN_P12_PASSPHRASE)\n",
			        f->name);
			return EN_USAGE;
		}
		if ((s = crt_pkcs12_make_form(key, cert, chain, friendly, po->p12pass, f->p12_form,
		                              &p12, &p12_len)) != CRT_OK) {
			fprintf(stderr, "crtoken-enroll: error: PKCS#12: %s\n",
			        crt_status_message(s));
			goto out;
		}
	}
	if ((b = json_pack("{s:s, s:s, s:s, s:s, s:s}", "certificate", cert, "name", po->base,
	                   "caPath", ca, "certificatePath", crt, "keyPath", kp)) == NULL)
		goto out;
	if (f->embeds_p12) {
		if ((p12_b64 = base64(p12, p12_len)) == NULL ||
		    json_object_set_new(b, "pkcs12", json_string(p12_b64)) != 0)
			goto out;
	}
	if ((body = json_dumps(b, JSON_COMPACT)) == NULL)
		goto out;
	n = strlen(po->server) + strlen(f->name) + 32;
	if ((url = malloc(n)) == NULL)
		goto out;
	snprintf(url, n, "%s%snetwork-profiles/%s", po->server,
	         po->server[strlen(po->server) - 1] == '/' ? "" : "/", f->name);
	if (http_post_json(url, body, NULL, NULL, po->cacert, &res) != 0) {
		fprintf(stderr, "crtoken-enroll: error: %s: %s\n", po->server, res.error);
		goto out;
	}
	if (res.status != 200) {
		rc = report_server_error(&res);
		goto out;
	}
	v = json_loadb(res.body, res.len, 0, NULL);
	d = json_string_value(json_object_get(v, "data"));
	filename = json_string_value(json_object_get(v, "filename"));
	ca_pem = json_string_value(json_object_get(v, "caCertificate"));
	ca_fn = json_string_value(json_object_get(v, "caFilename"));
	if (d == NULL || filename == NULL || ca_pem == NULL || ca_fn == NULL ||
	    (data = unbase64(d, &data_len)) == NULL) {
		fprintf(stderr,
		        "crtoken-enroll: error: the server's profile answer is malformed\n");
		goto out;
	}
	file_safe_name(filename, fn, sizeof(fn));
	if (file_write(po->out_dir, fn, data, data_len, f->embeds_p12 ? 0600 : 0644, po->force, err,
	               sizeof(err)) != 0)
		goto werr;
	printf("  profile:     %s/%s (%s)\n", po->out_dir, fn, f->title);
	file_safe_name(ca_fn, fn, sizeof(fn));
	if (file_write(po->out_dir, fn, ca_pem, strlen(ca_pem), 0644, po->force, err,
	               sizeof(err)) != 0)
		goto werr;
	printf("  radius CA:   %s/%s\n", po->out_dir, fn);
	if (legacy_file) {
		snprintf(fn, sizeof(fn), "%s-legacy-3des.p12", po->base);
		if (file_write(po->out_dir, fn, p12, p12_len, 0600, po->force, err, sizeof(err)) !=
		    0)
			goto werr;
		printf("  pkcs12:      %s/%s (legacy PBE-SHA1-3DES form, for Windows)\n",
		       po->out_dir, fn);
	}
	rc = EN_OK;
	goto out;
werr:
	fprintf(stderr, "crtoken-enroll: error: %s\n", err);
out:
	crt_freezero(data, data_len);
	crt_freezero(p12, p12_len);
	crt_strfree_secret(p12_b64);
	crt_strfree_secret(body);
	free(url);
	json_decref(b);
	json_decref(v);
	http_result_clear(&res);
	return rc;
}
