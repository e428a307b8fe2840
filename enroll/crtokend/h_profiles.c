/*
 * h_profiles.c — network onboarding profiles (public):
 *   GET  /network-profiles           the formats offered ([portal] formats)
 *                                    and whether [network] is configured
 *   POST /network-profiles/{format}  {"certificate": PEM, "pkcs12"?: base64,
 *        "name"?, "caPath"?, "certificatePath"?, "keyPath"?, "keyPassword"?}
 *        → {"format","filename","contentType","data" (base64),
 *           "caCertificate","caFilename"}
 * The certificate must be one this service issued (crt_profile_for_cert);
 * the profile holds nothing the caller did not send but the [network]
 * settings, which are public by nature (devices see them on the air).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

/* Is format listed in [portal] formats? */
static int offered(const crt_config *cfg, const char *format)
{
	const char *p = cfg->portal_formats;
	size_t n = strlen(format);

	while (p != NULL && *p != '\0') {
		p += strspn(p, ", ");
		if (strncmp(p, format, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += strcspn(p, ", ");
	}
	return 0;
}

/* Is [network] complete enough to make profiles? */
static int network_configured(const crt_config *cfg)
{
	return cfg->net_ca_file != NULL && cfg->net_server_names != NULL &&
	       (strcmp(cfg->net_type, "wired") == 0 || cfg->net_ssid != NULL);
}

json_t *network_summary(const crt_config *cfg)
{
	return json_pack("{s:b, s:s, s:s?, s:s?}", "configured", network_configured(cfg), "type",
	                 cfg->net_type, "name", cfg->net_name, "ssid", cfg->net_ssid);
}

void h_profile_list(struct request *rq)
{
	const crt_config *cfg = rq->cfg;
	const crt_profile_format *f;
	json_t *list = json_array(), *out;
	size_t n, i;
	int configured = network_configured(cfg);

	f = crt_profile_formats(&n);
	for (i = 0; list != NULL && i < n; i++) {
		if (!offered(cfg, f[i].name))
			continue;
		json_array_append_new(
		    list,
		    json_pack("{s:s, s:s, s:s, s:b, s:s}", "name", f[i].name, "title", f[i].title,
		              "suffix", f[i].suffix, "embedsPkcs12", f[i].embeds_p12, "pkcs12Form",
		              f[i].p12_form == CRT_P12_LEGACY ? "legacy" : "modern"));
	}
	out = json_pack("{s:b, s:s, s:s?, s:s?, s:s?, s:o}", "configured", configured, "type",
	                cfg->net_type, "ssid", cfg->net_ssid, "name", cfg->net_name, "serverNames",
	                cfg->net_server_names, "formats", list);
	reply_json(rq, 200, out);
}

static const char *const profile_keys[] = {
    "certificate", "pkcs12", "name", "caPath", "certificatePath", "keyPath", "keyPassword", NULL,
};

void h_profile_make(struct request *rq)
{
	const char *p12_b64 = NULL;
	unsigned char *p12 = NULL;
	size_t p12_cap = 0;
	char *data_b64 = NULL;
	crt_profile_req req;
	crt_profile prof;
	json_t *obj, *out;
	crt_status s;

	memset(&req, 0, sizeof(req));
	memset(&prof, 0, sizeof(prof));
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (req_only_keys(rq, obj, profile_keys) != 0 ||
	    req_str(rq, obj, "certificate", &req.cert_pem, NULL) ||
	    req_str(rq, obj, "pkcs12", &p12_b64, NULL) ||
	    req_str(rq, obj, "name", &req.name, NULL) ||
	    req_str(rq, obj, "caPath", &req.ca_path, NULL) ||
	    req_str(rq, obj, "certificatePath", &req.cert_path, NULL) ||
	    req_str(rq, obj, "keyPath", &req.key_path, NULL) ||
	    req_str(rq, obj, "keyPassword", &req.key_password, NULL))
		goto out;
	if (!offered(rq->cfg, rq->param) && crt_profile_format_find(rq->param) != NULL) {
		reply_error(rq, CRT_E_PROFILE_FORMAT, "this service does not offer that format");
		goto out;
	}
	if (req.cert_pem == NULL) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "\"certificate\" (PEM) is required");
		goto out;
	}
	if (p12_b64 != NULL) {
		size_t n = strlen(p12_b64);
		int len;

		p12_cap = 3 * (n / 4) + 3;
		if ((p12 = malloc(p12_cap)) == NULL) {
			reply_error(rq, CRT_E_NOMEM, NULL);
			goto out;
		}
		len = n % 4 == 0 && n > 0
		          ? EVP_DecodeBlock(p12, (const unsigned char *)p12_b64, (int)n)
		          : -1;
		if (len < 0) {
			reply_error(rq, CRT_E_REQUEST_INVALID, "\"pkcs12\" is not base64");
			goto out;
		}
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		while (n > 0 && p12_b64[--n] == '=')
			len--;
		req.p12 = p12;
		req.p12_len = (size_t)len;
	}
	req.format = rq->param;
	if ((s = crt_profile_for_cert(rq->ctx, &req, &prof)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	if ((data_b64 = malloc(4 * ((prof.len + 2) / 3) + 1)) == NULL) {
		reply_error(rq, CRT_E_NOMEM, NULL);
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)data_b64, (const unsigned char *)prof.data, (int)prof.len);
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "format", rq->param, "filename",
	                prof.filename, "contentType", prof.content_type, "data", data_b64,
	                "caCertificate", prof.ca_pem, "caFilename", prof.ca_filename);
	reply_json(rq, 200, out);
out:
	crt_strfree_secret(data_b64);
	crt_freezero(p12, p12_cap);
	crt_profile_clear(&prof);
	json_decref(obj);
}
