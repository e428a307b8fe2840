/*
 * ca_cfssl.c — the remote CA connector for cfssl ([ca] type = cfssl): the
 * signature of a client certificate is delegated to a cfssl server over its
 * authenticated API, /api/v1/cfssl/authsign (cfssl's auth package: the
 * token is HMAC-SHA256 of the request bytes under the profile's
 * "standard" auth key; both travel base64-encoded in a JSON object).
 *
 * crtoken still decides everything: the token, its owner, the subject, the
 * key policy, single use. The request carries the subject crtoken computed
 * and "hosts": [] (cfssl then copies no names from the CSR); the
 * certificate that comes back is checked as if crtoken had signed it
 * (ca_cfssl_check) before the redemption stores it, and the serial stored is
 * the one cfssl chose. The call is made in phase 1 of a redemption (see
 * redeem.c): no store lock is held while cfssl works, and nothing is
 * claimed yet, so any failure leaves the token unused.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_cfssl.h"
#include "internal.h"

#define CFSSL_PATH "/api/v1/cfssl/authsign"
#define CFSSL_KEY_FILE_MAX 4096
#define CFSSL_KEY_MIN 16     /* bytes: refuse trivially short HMAC keys */
#define CFSSL_BODY_MAX (256 * 1024)

struct ca_cfssl {
	char *endpoint;      /* url + CFSSL_PATH */
	char *profile;       /* NULL: cfssl's default */
	char *label;
	char *tls_ca_file;
	long timeout_ms;
	unsigned char *key;  /* the HMAC key (wiped when freed) */
	size_t key_len;
};

/* ------------------------------------------------------------ config */

const char *ca_cfssl_url_refusal(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL, *query = NULL,
	     *path = NULL;
	const char *why = NULL;

	if (u == NULL)
		return "out of memory";
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		why = "url is not a URL (https://host[:port])";
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (user != NULL || pass != NULL)
		why = "url must not hold a user name or password (the HMAC key is "
		      "auth_key_file)";
	else if (query != NULL || strchr(url, '#') != NULL)
		why = "url must not have a query or fragment";
	else if (path != NULL && strcmp(path, "/") != 0)
		why = "url is the cfssl server's base URL (https://host[:port]); crtoken "
		      "adds " CFSSL_PATH;
	else if (strcasecmp(scheme, "https") == 0)
		why = NULL;
	else if (strcasecmp(scheme, "http") != 0)
		why = "url must be https:// (or http:// to a loopback address)";
	else {
		struct in_addr a4;
		struct in6_addr a6;
		char h[64];
		size_t n = strlen(host);
		int loop = 0;
		if (strcasecmp(host, "localhost") == 0)
			loop = 1;
		else if (inet_pton(AF_INET, host, &a4) == 1)
			loop = (ntohl(a4.s_addr) >> 24) == 127;
		else if (n > 2 && n < sizeof(h) && host[0] == '[' && host[n - 1] == ']') {
			memcpy(h, host + 1, n - 2);
			h[n - 2] = '\0';
			loop = inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
		}
		if (!loop)
			why = "url: plain http:// is allowed only to a loopback address "
			      "(127.0.0.1, ::1, localhost); use https:// with ca_file";
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	curl_free(query);
	curl_free(path);
	curl_url_cleanup(u);
	return why;
}

const char *ca_type_check(char **type, const char *key, int key_given, const char *pin_file,
			  const char *module, const ca_cfssl_conf *remote)
{
	int remote_keys = remote->url != NULL || remote->auth_key_file != NULL ||
			  remote->profile != NULL || remote->label != NULL ||
			  remote->tls_ca_file != NULL;

	if (*type == NULL && (*type = strdup(ca_is_pkcs11_uri(key) ? "pkcs11" : "local")) == NULL)
		return "out of memory";
	if (strcmp(*type, "cfssl") == 0) {
		if (remote->url == NULL || remote->auth_key_file == NULL)
			return "type = cfssl needs url and auth_key_file";
		if (key_given || pin_file != NULL || module != NULL)
			return "type = cfssl signs on the cfssl server: key, pin_file and "
			       "module_path do not apply";
		return ca_cfssl_url_refusal(remote->url);
	}
	if (strcmp(*type, "local") != 0 && strcmp(*type, "pkcs11") != 0)
		return "type must be local, pkcs11 or cfssl";
	if (remote_keys)
		return "url, auth_key_file, profile, label and ca_file apply only to type = cfssl";
	if (strcmp(*type, "pkcs11") == 0 && !ca_is_pkcs11_uri(key))
		return "type = pkcs11 needs key = pkcs11:token=...;object=...";
	if (strcmp(*type, "local") == 0 && ca_is_pkcs11_uri(key))
		return "type = local needs a key file; a pkcs11: key is type = pkcs11";
	return NULL;
}

const char *ca_type_resolve(crt_config *cfg, int key_given, char *buf, size_t n)
{
	ca_cfssl_conf rc = {.url = cfg->ca_url,
			    .auth_key_file = cfg->ca_auth_key_file,
			    .profile = cfg->ca_profile,
			    .label = cfg->ca_label,
			    .tls_ca_file = cfg->ca_tls_ca_file};
	const char *why =
	    ca_type_check(&cfg->ca_type, cfg->ca_key, key_given, cfg->ca_pin_file, cfg->ca_module, &rc);
	if (why == NULL)
		return NULL;
	snprintf(buf, n, "[ca] %s", why);
	return buf;
}

void ca_cfssl_session_free(void *handle)
{
	if (handle != NULL)
		curl_easy_cleanup(handle);
}

int ca_is_remote(const crt_ctx *ctx)
{
	const char *type = ctx->cfg.ca_type;

	if (ctx->ca != NULL)
		type = ctx->ca->type;
	else if (ctx->ca_name != NULL && strcmp(ctx->ca_name, CRT_CA_DEFAULT) != 0)
		for (size_t i = 0; i < ctx->cfg.ncas; i++)
			if (strcmp(ctx->cfg.cas[i].name, ctx->ca_name) == 0)
				type = ctx->cfg.cas[i].type;
	return type != NULL && strcmp(type, "cfssl") == 0;
}

/* ------------------------------------------------------------ open */

void ca_cfssl_free(struct ca_cfssl *c)
{
	if (c == NULL)
		return;
	if (c->key != NULL)
		crt_freezero(c->key, c->key_len);
	free(c->endpoint);
	free(c->profile);
	free(c->label);
	free(c->tls_ca_file);
	free(c);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The hex text (surrounding white space allowed) → bytes, as cfssl's
 * auth.New reads the key. -1 when it is not hex. */
static int decode_key(const char *text, size_t len, unsigned char *out, size_t *n)
{
	size_t a = 0, b = len;
	while (a < b && strchr(" \t\r\n", text[a]) != NULL)
		a++;
	while (b > a && strchr(" \t\r\n", text[b - 1]) != NULL)
		b--;
	if ((b - a) % 2 != 0 || b == a)
		return -1;
	*n = 0;
	for (size_t i = a; i < b; i += 2) {
		int hi = hexval((unsigned char)text[i]), lo = hexval((unsigned char)text[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[(*n)++] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

crt_status ca_cfssl_open(const ca_cfssl_conf *conf, X509 *ca, struct ca_cfssl **out, char *err,
			 size_t errlen)
{
	struct ca_cfssl *c = NULL;
	char why[600], *text = NULL;
	size_t len = 0, n = strlen(conf->url);
	crt_status r;

	*out = NULL;
	if (X509_get0_subject_key_id(ca) == NULL) {
		snprintf(err, errlen,
			 "the cfssl CA certificate has no Subject Key Identifier; RADIUS admission "
			 "matches a client certificate's Authority Key Identifier to it");
		return CRT_E_CA_INVALID;
	}
	/* Once per process, before any thread makes a handle (thread-safe in
	 * the libcurl of Debian 12 too). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl could not be initialised");
		return CRT_E_INTERNAL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CRT_E_NOMEM;
	while (n > 0 && conf->url[n - 1] == '/')
		n--;
	if ((c->endpoint = malloc(n + sizeof(CFSSL_PATH))) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(c->endpoint, conf->url, n);
	memcpy(c->endpoint + n, CFSSL_PATH, sizeof(CFSSL_PATH));
	c->timeout_ms = conf->timeout_ms;
	if ((conf->profile && (c->profile = strdup(conf->profile)) == NULL) ||
	    (conf->label && (c->label = strdup(conf->label)) == NULL) ||
	    (conf->tls_ca_file && (c->tls_ca_file = strdup(conf->tls_ca_file)) == NULL)) {
		r = CRT_E_NOMEM;
		goto out;
	}
	r = read_trusted(conf->auth_key_file, CFSSL_KEY_FILE_MAX, CRT_TRUST_SECRET, &text, &len,
			 why, sizeof(why));
	if (r != CRT_OK) {
		snprintf(err, errlen, "[ca] auth_key_file: %s", why);
		if (r != CRT_E_UNSAFE_PERMISSIONS && r != CRT_E_NOMEM)
			r = CRT_E_CA_MISSING;
		goto out;
	}
	if ((c->key = malloc(len / 2 + 1)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	c->key_len = len / 2 + 1;
	if (decode_key(text, len, c->key, &n) != 0 || n < CFSSL_KEY_MIN) {
		snprintf(err, errlen,
			 "[ca] auth_key_file %s: not a hex key of at least %d bytes (cfssl's "
			 "auth_keys \"key\" value)",
			 conf->auth_key_file, CFSSL_KEY_MIN);
		r = CRT_E_CA_INVALID;
		goto out;
	}
	explicit_bzero(c->key + n, c->key_len - n);
	c->key_len = n;
	*out = c;
	c = NULL;
	r = CRT_OK;
out:
	if (text != NULL)
		crt_freezero(text, len);
	ca_cfssl_free(c);
	return r;
}

/* ------------------------------------------------------------ request */

static char *b64(const unsigned char *in, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

static char *csr_pem(const unsigned char *der, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (b == NULL)
		return NULL;
	if (PEM_write_bio(b, PEM_STRING_X509_REQ, "", der, (long)len) > 0 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

static int set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(v)) == 0;
}

crt_status ca_cfssl_body(const struct ca_cfssl *c, const unsigned char *csr_der, size_t csr_len,
			 const char *cn, const char *org, const char *ou, char **body)
{
	json_t *req = json_object(), *subj = json_object(), *names = json_array(),
	       *name = json_object(), *outer = NULL;
	unsigned char mac[32];
	size_t maclen = 0;
	char *pem = csr_pem(csr_der, csr_len), *inner = NULL, *tok = NULL, *enc = NULL;
	crt_status r = CRT_E_NOMEM;

	*body = NULL;
	if (req == NULL || subj == NULL || names == NULL || name == NULL || pem == NULL)
		goto out;
	if ((org && *org && !set_str(name, "O", org)) || (ou && *ou && !set_str(name, "OU", ou)))
		goto out;
	if (json_object_size(name) > 0 && json_array_append(names, name) != 0)
		goto out;
	if ((cn && *cn && !set_str(subj, "CN", cn)) || json_object_set(subj, "names", names) != 0)
		goto out;
	/* hosts: [] (not absent) makes cfssl drop the CSR's names */
	if (!set_str(req, "certificate_request", pem) ||
	    json_object_set_new(req, "hosts", json_array()) != 0 ||
	    json_object_set(req, "subject", subj) != 0 ||
	    (c->profile && !set_str(req, "profile", c->profile)) ||
	    (c->label && !set_str(req, "label", c->label)))
		goto out;
	if ((inner = json_dumps(req, JSON_COMPACT)) == NULL)
		goto out;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, c->key, c->key_len,
		      (const unsigned char *)inner, strlen(inner), mac, sizeof(mac),
		      &maclen) == NULL ||
	    maclen != sizeof(mac)) {
		r = CRT_E_INTERNAL;
		goto out;
	}
	if ((tok = b64(mac, maclen)) == NULL ||
	    (enc = b64((const unsigned char *)inner, strlen(inner))) == NULL ||
	    (outer = json_object()) == NULL || !set_str(outer, "token", tok) ||
	    !set_str(outer, "request", enc) || (*body = json_dumps(outer, JSON_COMPACT)) == NULL)
		goto out;
	r = CRT_OK;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	json_decref(req);
	json_decref(subj);
	json_decref(names);
	json_decref(name);
	json_decref(outer);
	free(pem);
	free(inner);
	free(tok);
	free(enc);
	return r;
}

/* ------------------------------------------------------------ checks */

/* Entry i of nm is nid with the UTF-8 value v. */
static int entry_is(const X509_NAME *nm, int i, int nid, const char *v)
{
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(nm, i);
	unsigned char *u = NULL;
	int n, ok;

	if (e == NULL || OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != nid ||
	    X509_NAME_ENTRY_set(e) != i) /* one attribute per RDN */
		return 0;
	if ((n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e))) < 0)
		return 0;
	ok = (size_t)n == strlen(v) && memcmp(u, v, (size_t)n) == 0;
	OPENSSL_free(u);
	return ok;
}

static int subject_is(const X509_NAME *nm, const char *cn, const char *org, const char *ou)
{
	const char *v[3] = {org, ou, cn};
	const int nid[3] = {NID_organizationName, NID_organizationalUnitName, NID_commonName};
	int i = 0;

	for (int k = 0; k < 3; k++) {
		if (v[k] == NULL || *v[k] == '\0')
			continue;
		if (!entry_is(nm, i, nid[k], v[k]))
			return 0;
		i++;
	}
	return i > 0 && X509_NAME_entry_count(nm) == i;
}

crt_status ca_cfssl_check(X509 *ca, X509 *got, EVP_PKEY *want, const char *cn, const char *org,
			  const char *ou, int64_t now, int skew, const char **why)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca),
				*aki = X509_get0_authority_key_id(got);
	const ASN1_INTEGER *sn = X509_get0_serialNumber(got);
	EVP_PKEY *ca_pub = X509_get0_pubkey(ca), *pub = X509_get0_pubkey(got);
	uint32_t xku;
	int64_t nb = ca_time_unix(X509_get0_notBefore(got)),
		na = ca_time_unix(X509_get0_notAfter(got));
	crt_status r = CRT_E_CA_REJECTED;

	*why = NULL;
	/* X509_check_ca and the flags below need the extensions cached */
	if (X509_check_purpose(got, -1, 0) != 1 || (X509_get_extension_flags(got) & EXFLAG_INVALID))
		*why = "its extensions do not parse";
	else if (X509_NAME_cmp(X509_get_issuer_name(got), X509_get_subject_name(ca)) != 0)
		*why = "it names another issuer than the configured CA certificate";
	else if (ski == NULL || aki == NULL || ASN1_OCTET_STRING_cmp(ski, aki) != 0)
		*why = "its Authority Key Identifier is not the configured CA's Subject Key "
		       "Identifier";
	else if (ca_pub == NULL || X509_verify(got, ca_pub) != 1)
		*why = "its signature does not verify with the configured CA certificate's key";
	else if (pub == NULL || want == NULL || EVP_PKEY_eq(pub, want) != 1)
		*why = "it is for another public key than the CSR's";
	else if (!subject_is(X509_get_subject_name(got), cn, org, ou))
		*why = "its subject is not the one crtoken asked for (does the cfssl profile "
		       "copy CSR fields? give it a CSRWhitelist without Subject)";
	else if (X509_get_ext_by_NID(got, NID_subject_alt_name, -1) >= 0)
		*why = "it carries subjectAltName names crtoken did not ask for";
	else if ((X509_get_extension_flags(got) & EXFLAG_CA) || X509_check_ca(got) != 0)
		*why = "it is a CA certificate";
	else if (!(X509_get_extension_flags(got) & EXFLAG_XKUSAGE) ||
		 !((xku = X509_get_extended_key_usage(got)) & XKU_SSL_CLIENT))
		*why = "it lacks the clientAuth extended key usage (cfssl profile usages: "
		       "\"client auth\")";
	else if ((X509_get_extension_flags(got) & EXFLAG_KUSAGE) &&
		 !(X509_get_key_usage(got) & KU_DIGITAL_SIGNATURE))
		*why = "its keyUsage lacks digitalSignature";
	else if (sn == NULL || ASN1_STRING_type(sn) != V_ASN1_INTEGER || ASN1_STRING_length(sn) < 1 ||
		 ASN1_STRING_length(sn) > 20)
		*why = "its serial is not a positive number of at most 20 bytes";
	else if (nb == 0 || na == 0 || nb > now + skew || na <= now)
		*why = "it is not valid now";
	else if (na > ca_time_unix(X509_get0_notAfter(ca)))
		*why = "it outlives the CA certificate";
	else
		r = CRT_OK;
	ERR_clear_error();
	return r;
}

/* ------------------------------------------------------------ the call */

struct answer {
	char *data;
	size_t len;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct answer *a = userp;
	size_t n = size * nmemb;
	char *nb;

	if (n > CFSSL_BODY_MAX - a->len) {
		a->too_big = 1;
		return 0;
	}
	if ((nb = realloc(a->data, a->len + n + 1)) == NULL)
		return 0;
	memcpy(nb + a->len, data, n);
	a->len += n;
	nb[a->len] = '\0';
	a->data = nb;
	return n;
}

/* cfssl's first error message, printable ASCII only, for the detail. */
static void remote_message(json_t *root, char *out, size_t n)
{
	json_t *e = json_array_get(json_object_get(root, "errors"), 0);
	const char *m = json_string_value(json_object_get(e, "message"));
	size_t k = 0;

	out[0] = '\0';
	for (; m != NULL && *m != '\0' && k + 1 < n && k < 160; m++)
		out[k++] = (*m >= 0x20 && *m < 0x7f) ? *m : '?';
	out[k] = '\0';
}

/* The answer's certificate: the first PEM certificate of result.certificate. */
static crt_status parse_answer(crt_ctx *ctx, long http, const struct answer *a, X509 **out)
{
	json_error_t je;
	json_t *root = a->data ? json_loadb(a->data, a->len, 0, &je) : NULL;
	json_t *ok = json_object_get(root, "success");
	const char *pem =
	    json_string_value(json_object_get(json_object_get(root, "result"), "certificate"));
	char msg[200];
	crt_status r;
	BIO *b = NULL;

	*out = NULL;
	remote_message(root, msg, sizeof(msg));
	if (http >= 500) {
		r = ctx_fail(ctx, CRT_E_CA_UNAVAILABLE, "the cfssl server answered HTTP %ld%s%s",
			     http, msg[0] ? ": " : "", msg);
	} else if (http != 200 || !json_is_true(ok)) {
		r = ctx_fail(ctx, CRT_E_CA_REJECTED, "the cfssl server refused to sign (HTTP %ld%s%s)",
			     http, msg[0] ? ": " : "", msg);
	} else if (pem == NULL || (b = BIO_new_mem_buf(pem, -1)) == NULL ||
		   (*out = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		r = ctx_fail(ctx, CRT_E_CA_REJECTED,
			     "the cfssl server's answer holds no PEM certificate");
	} else {
		r = CRT_OK;
	}
	BIO_free(b);
	json_decref(root);
	ERR_clear_error();
	return r;
}

/* The stored form of x's serial (crt_serial_normalize of its hex). */
static crt_status serial_hex(X509 *x, char serial[72])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	crt_status r = hex ? crt_serial_normalize(hex, serial, 72) : CRT_E_NOMEM;
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

crt_status ca_cfssl_issue(crt_ctx *ctx, const crt_csr *csr, const char *cn, const char *org,
			  const char *ou, int64_t now, X509 **out, char serial[72])
{
	const struct ca_cfssl *c = ctx->ca->cfssl;
	struct answer a = {0};
	struct curl_slist *hdrs = NULL;
	char *body = NULL;
	const char *why;
	CURL *h = NULL;
	CURLcode rc;
	long http = 0;
	X509 *x = NULL;
	crt_status r;

	*out = NULL;
	if (ca_time_unix(X509_get0_notAfter(ctx->ca_cert)) <= now)
		return ctx_fail(ctx, CRT_E_CA_EXPIRED, "the CA certificate expired");
	if ((r = ca_cfssl_body(c, csr->der, csr->der_len, cn, org, ou, &body)) != CRT_OK)
		return ctx_fail(ctx, r, "building the cfssl request");
	/* One handle per session, reset per call: its connection (and TLS
	 * session) to the cfssl server is reused by the next redemption. */
	if ((h = ctx->remote_http) != NULL)
		curl_easy_reset(h);
	else if ((h = ctx->remote_http = curl_easy_init()) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	if ((hdrs = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, c->endpoint);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never through an environment proxy */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "crtoken");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->tls_ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->tls_ca_file);
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		if (a.too_big)
			r = ctx_fail(ctx, CRT_E_CA_REJECTED,
				     "the cfssl server's answer is larger than %d bytes",
				     CFSSL_BODY_MAX);
		else
			r = ctx_fail(ctx, CRT_E_CA_UNAVAILABLE, "the cfssl server did not answer: %s",
				     curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	if ((r = parse_answer(ctx, http, &a, &x)) != CRT_OK)
		goto out;
	if ((r = ca_cfssl_check(ctx->ca_cert, x, csr->pkey, cn, org, ou, now,
				ctx->cfg.clock_skew_seconds, &why)) != CRT_OK) {
		r = ctx_fail(ctx, r, "the cfssl server's certificate is refused: %s", why);
		goto out;
	}
	if ((r = serial_hex(x, serial)) != CRT_OK) {
		r = ctx_fail(ctx, r == CRT_E_NOMEM ? r : CRT_E_CA_REJECTED,
			     "the cfssl certificate's serial cannot be read");
		goto out;
	}
	*out = x;
	x = NULL;
	r = CRT_OK;
out:
	X509_free(x);
	curl_slist_free_all(hdrs);
	free(a.data);
	free(body);
	return r;
}
