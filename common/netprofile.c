/*
 * netprofile.c — network onboarding profiles: the [network] section and an
 * issued certificate rendered as the file a device imports (wpa_supplicant
 * block, NetworkManager keyfile and nmcli recipe, Windows WLAN/LAN profile
 * and netsh commands, Apple .mobileconfig, geteduroam eap-config).
 *
 * Pure functions of values: the config, the certificate, the paths or the
 * PKCS#12 the device will use. Every value that lands in a profile is
 * checked against what its format can carry (no control characters
 * anywhere, no quote in wpa_supplicant strings, DNS names for the server
 * names) and escaped for the format (XML, shell, keyfile); a value that
 * cannot be carried is refused, never silently altered.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_NAMES 8
#define MAX_CAS 8
#define CA_FILE_LIMIT (256 * 1024)
#define DEFAULT_DIR "/etc/crtoken/network"
#define SIGNER_FILE_LIMIT (256 * 1024)

/* ------------------------------------------------------------ text buffer */

struct sb {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_addn(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_add(struct sb *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		sb_addn(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_addn(b, big, (size_t)n);
	free(big);
}

/* XML character data / attribute value. */
static void sb_xml(struct sb *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sb_add(b, "&amp;");
			break;
		case '<':
			sb_add(b, "&lt;");
			break;
		case '>':
			sb_add(b, "&gt;");
			break;
		case '"':
			sb_add(b, "&quot;");
			break;
		case '\'':
			sb_add(b, "&apos;");
			break;
		default:
			sb_addn(b, s, 1);
		}
	}
}

/* One POSIX shell word: '...' with ' as '\''. */
static void sb_shell(struct sb *b, const char *s)
{
	sb_add(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			sb_add(b, "'\\''");
		else
			sb_addn(b, s, 1);
	}
	sb_add(b, "'");
}

/* A GKeyFile value (NetworkManager keyfile): \s for a leading space, \\ and
 * the control escapes (none reach here: values are checked first). */
static void sb_keyfile(struct sb *b, const char *s)
{
	if (*s == ' ') {
		sb_add(b, "\\s");
		s++;
	}
	for (; *s; s++) {
		if (*s == '\\')
			sb_add(b, "\\\\");
		else
			sb_addn(b, s, 1);
	}
}

/* Standard base64 of data, in lines of 64 characters each ending in nl. */
static void sb_base64(struct sb *b, const unsigned char *data, size_t len, const char *indent)
{
	unsigned char out[4 * 48 / 3 + 1];
	size_t i;

	for (i = 0; i < len; i += 48) {
		size_t n = len - i < 48 ? len - i : 48;
		EVP_EncodeBlock(out, data + i, (int)n);
		sb_add(b, indent);
		sb_add(b, (const char *)out);
		sb_add(b, "\n");
	}
}

/* base64 in one line. */
static void sb_base64_line(struct sb *b, const unsigned char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 48) {
		unsigned char out[4 * 48 / 3 + 1];
		size_t n = len - i < 48 ? len - i : 48;
		EVP_EncodeBlock(out, data + i, (int)n);
		sb_add(b, (const char *)out);
	}
}

/* ------------------------------------------------------------ the network */

struct net {
	int wired;
	const char *ssid, *identity, *conn_name, *base;
	const char *names[MAX_NAMES];
	size_t nnames;
	char *names_buf;
	X509 *cas[MAX_CAS];
	size_t ncas;
	char *ca_pem;
	/* the client certificate */
	X509 *cert;
	char *cn;
	char serial[72];
	const char *ca_path, *cert_path, *key_path, *key_password;
	char *paths[3]; /* defaults made here */
};

static void net_free(struct net *n)
{
	size_t i;

	for (i = 0; i < n->ncas; i++)
		X509_free(n->cas[i]);
	X509_free(n->cert);
	free(n->names_buf);
	free(n->ca_pem);
	free(n->cn);
	for (i = 0; i < 3; i++)
		free(n->paths[i]);
	memset(n, 0, sizeof(*n));
}

/* Printable UTF-8 without control characters, 1..max bytes. */
static int text_ok(const char *s, size_t max)
{
	return s != NULL && *s != '\0' && strlen(s) <= max && field_check(s, max) == CRT_OK;
}

/* A DNS name (or a leading "*." wildcard is NOT allowed: suppliants differ). */
static int dns_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static crt_status bad(char *err, size_t errlen, crt_status s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static crt_status bad(char *err, size_t errlen, crt_status s, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return s;
}

/* The CN of the certificate (malloc'd) or NULL. */
static char *cert_cn(X509 *x)
{
	X509_NAME *nm = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *out = NULL;
	int n;

	if (i < 0)
		return NULL;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)));
	if (n >= 0 && utf8 != NULL && strlen((char *)utf8) == (size_t)n)
		out = strdup((char *)utf8);
	OPENSSL_free(utf8);
	return out;
}

static crt_status load_cas(struct net *n, const char *path, char *err, size_t errlen)
{
	char *pem = NULL;
	size_t len;
	BIO *bio = NULL;
	X509 *x;
	crt_status r;

	if ((r = read_file(path, CA_FILE_LIMIT, &pem, &len)) != CRT_OK)
		return bad(err, errlen, r == CRT_E_NOMEM ? r : CRT_E_IO,
		           "[network] ca_file %s cannot be read", path);
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		free(pem);
		return CRT_E_NOMEM;
	}
	while (n->ncas < MAX_CAS && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		n->cas[n->ncas++] = x;
	ERR_clear_error();
	BIO_free(bio);
	n->ca_pem = pem;
	if (n->ncas == 0)
		return bad(err, errlen, CRT_E_NETWORK_CONFIG,
		           "[network] ca_file %s holds no PEM certificate", path);
	return CRT_OK;
}

static char *join_path(const char *dir, const char *base, const char *suffix)
{
	size_t len = strlen(dir) + strlen(base) + strlen(suffix) + 2;
	char *p = malloc(len);

	if (p != NULL)
		snprintf(p, len, "%s/%s%s", dir, base, suffix);
	return p;
}

/* A path a profile may reference: absolute, printable, no quote. */
static int path_ok(const char *p)
{
	return text_ok(p, 1024) && p[0] == '/' && strchr(p, '"') == NULL;
}

static crt_status net_load(const crt_config *cfg, const crt_profile_req *req, struct net *n,
                           char *err, size_t errlen)
{
	char *save = NULL, *tok;
	BIO *bio;
	crt_status r;

	memset(n, 0, sizeof(*n));
	/* The network. */
	if (cfg->net_type != NULL && strcmp(cfg->net_type, "wired") == 0)
		n->wired = 1;
	else if (cfg->net_type != NULL && strcmp(cfg->net_type, "wifi") != 0)
		return bad(err, errlen, CRT_E_NETWORK_CONFIG,
		           "[network] type must be wifi or wired, not \"%s\"", cfg->net_type);
	n->ssid = cfg->net_ssid;
	if (!n->wired && n->ssid == NULL)
		return bad(err, errlen, CRT_E_NETWORK_CONFIG, "[network] ssid is not set");
	/* An SSID is 1..32 octets; quotes would break wpa_supplicant's syntax
	 * and are written as hex there, so only control characters are refused. */
	if (!n->wired && (strlen(n->ssid) > 32 || !text_ok(n->ssid, 32)))
		return bad(err, errlen, CRT_E_NETWORK_CONFIG,
		           "[network] ssid must be 1 to 32 bytes of printable text");
	if (cfg->net_ca_file == NULL)
		return bad(err, errlen, CRT_E_NETWORK_CONFIG,
		           "[network] ca_file (the RADIUS server certificate's CA) is not set");
	if (cfg->net_server_names == NULL)
		return bad(err, errlen, CRT_E_NETWORK_CONFIG,
		           "[network] server_names (the RADIUS server's names) is not set");
	if ((n->names_buf = strdup(cfg->net_server_names)) == NULL)
		return CRT_E_NOMEM;
	for (tok = strtok_r(n->names_buf, ", ", &save); tok != NULL;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (!dns_name_ok(tok))
			return bad(err, errlen, CRT_E_NETWORK_CONFIG,
			           "[network] server_names: \"%s\" is not a DNS name", tok);
		if (n->nnames == MAX_NAMES)
			return bad(err, errlen, CRT_E_NETWORK_CONFIG,
			           "[network] server_names: at most %d names", MAX_NAMES);
		n->names[n->nnames++] = tok;
	}
	if (n->nnames == 0)
		return bad(err, errlen, CRT_E_NETWORK_CONFIG, "[network] server_names is empty");
	n->conn_name = cfg->net_name ? cfg->net_name : "crtoken";
	if (!text_ok(n->conn_name, 64) || strchr(n->conn_name, '"') != NULL)
		return bad(err, errlen, CRT_E_NETWORK_CONFIG,
		           "[network] name must be printable text without quotes (64 bytes)");
	if ((r = load_cas(n, cfg->net_ca_file, err, errlen)) != CRT_OK)
		return r;

	/* The certificate. */
	if (req == NULL || req->cert_pem == NULL)
		return bad(err, errlen, CRT_E_INVALID_ARGUMENT, "no certificate");
	if ((bio = BIO_new_mem_buf(req->cert_pem, -1)) == NULL)
		return CRT_E_NOMEM;
	n->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (n->cert == NULL)
		return bad(err, errlen, CRT_E_INVALID_ARGUMENT, "the certificate is not PEM");
	n->cn = cert_cn(n->cert);
	{
		const ASN1_INTEGER *sn = X509_get0_serialNumber(n->cert);
		BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;

		r = hex ? crt_serial_normalize(hex, n->serial, sizeof(n->serial)) : CRT_E_NOMEM;
		OPENSSL_free(hex);
		BN_free(bn);
		if (r != CRT_OK)
			return bad(err, errlen, CRT_E_INVALID_ARGUMENT, "certificate serial");
	}
	n->identity = cfg->net_identity ? cfg->net_identity : n->cn;
	if (n->identity == NULL || !text_ok(n->identity, 253) || strchr(n->identity, '"') != NULL)
		return bad(err, errlen, CRT_E_INVALID_ARGUMENT,
		           "the EAP identity (the certificate's CN or [network] identity) must be "
		           "printable text without quotes");
	n->base = req->name ? req->name : n->cn ? n->cn : n->serial;
	if (!text_ok(n->base, 128) || strpbrk(n->base, "/\\\"'") != NULL || n->base[0] == '.')
		return bad(err, errlen, CRT_E_INVALID_ARGUMENT,
		           "the profile name must be printable text without / \\ or quotes");

	/* Where the device keeps its files. */
	n->ca_path = req->ca_path;
	n->cert_path = req->cert_path;
	n->key_path = req->key_path;
	if (n->ca_path == NULL &&
	    (n->ca_path = n->paths[0] = join_path(DEFAULT_DIR, n->base, "-radius-ca.pem")) == NULL)
		return CRT_E_NOMEM;
	if (n->cert_path == NULL &&
	    (n->cert_path = n->paths[1] = join_path(DEFAULT_DIR, n->base, ".crt")) == NULL)
		return CRT_E_NOMEM;
	if (n->key_path == NULL &&
	    (n->key_path = n->paths[2] = join_path(DEFAULT_DIR, n->base, ".key")) == NULL)
		return CRT_E_NOMEM;
	if (!path_ok(n->ca_path) || !path_ok(n->cert_path) || !path_ok(n->key_path))
		return bad(err, errlen, CRT_E_INVALID_ARGUMENT,
		           "file paths must be absolute, printable and without quotes");
	n->key_password = req->key_password;
	if (n->key_password != NULL &&
	    (!text_ok(n->key_password, 1024) || strchr(n->key_password, '"') != NULL))
		return bad(err, errlen, CRT_E_INVALID_ARGUMENT,
		           "the key passphrase cannot be written into a profile (quotes or "
		           "control characters)");
	return CRT_OK;
}

/* A UUID (RFC 4122 form, version 4 bits) derived from the certificate and a
 * label, so the same certificate always yields the same profile. */
static void net_uuid(const struct net *n, const char *label, char out[37])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char msg[200];
	int i, o = 0;

	snprintf(msg, sizeof(msg), "%s|%s", n->serial, label);
	if (!EVP_Digest(msg, strlen(msg), md, NULL, EVP_sha256(), NULL))
		memset(md, 0, sizeof(md));
	md[6] = (md[6] & 0x0f) | 0x40;
	md[8] = (md[8] & 0x3f) | 0x80;
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		o += snprintf(out + o, 3, "%02X", md[i]);
	}
	out[o] = '\0';
}

/* DER of x (OPENSSL_malloc'd). */
static int der_of(X509 *x, unsigned char **der)
{
	*der = NULL;
	return i2d_X509(x, der);
}

/* ------------------------------------------------------------ formats */

static crt_status r_wpa(const struct net *n, const crt_profile_req *req, struct sb *b)
{
	size_t i;

	sb_printf(b, "# crtoken: %s — EAP-TLS %s network for %s\n", n->conn_name,
	          n->wired ? "wired (IEEE 802.1X)" : "Wi-Fi", n->identity);
	if (n->wired)
		sb_add(b,
		       "# wired: run wpa_supplicant -D wired with ap_scan=0 in the global part\n");
	sb_add(b, "network={\n");
	if (!n->wired) {
		/* Hex: any octets, no quoting rules. */
		sb_add(b, "\tssid=");
		for (i = 0; n->ssid[i]; i++)
			sb_printf(b, "%02x", (unsigned char)n->ssid[i]);
		sb_printf(b, "\n\tscan_ssid=1\n\tkey_mgmt=WPA-EAP\n\tproto=RSN\n\tpairwise=CCMP\n");
	} else {
		sb_add(b, "\tkey_mgmt=IEEE8021X\n\teapol_flags=0\n");
	}
	sb_add(b, "\teap=TLS\n");
	sb_printf(b, "\tidentity=\"%s\"\n", n->identity);
	sb_printf(b, "\tca_cert=\"%s\"\n", n->ca_path);
	sb_printf(b, "\tclient_cert=\"%s\"\n", n->cert_path);
	sb_printf(b, "\tprivate_key=\"%s\"\n", n->key_path);
	if (n->key_password != NULL)
		sb_printf(b, "\tprivate_key_passwd=\"%s\"\n", n->key_password);
	/* Full-name match of the server certificate's DNS SAN (";" = any of). */
	sb_add(b, "\tdomain_match=\"");
	for (i = 0; i < n->nnames; i++)
		sb_printf(b, "%s%s", i ? ";" : "", n->names[i]);
	sb_add(b, "\"\n}\n");
	return CRT_OK;
}

static crt_status r_nm(const struct net *n, const crt_profile_req *req, struct sb *b)
{
	char uuid[37];
	size_t i;

	net_uuid(n, "networkmanager", uuid);
	for (i = 0; uuid[i]; i++) /* NetworkManager writes them in lower case */
		if (uuid[i] >= 'A' && uuid[i] <= 'F')
			uuid[i] = (char)(uuid[i] - 'A' + 'a');
	sb_add(b, "[connection]\nid=");
	sb_keyfile(b, n->conn_name);
	sb_printf(b, "\nuuid=%s\ntype=%s\n", uuid, n->wired ? "ethernet" : "wifi");
	if (n->wired) {
		sb_add(b, "\n[ethernet]\n");
	} else {
		/* The list form: bytes, whatever the SSID holds. */
		sb_add(b, "\n[wifi]\nmode=infrastructure\nssid=");
		for (i = 0; n->ssid[i]; i++)
			sb_printf(b, "%u;", (unsigned char)n->ssid[i]);
		sb_add(b, "\n\n[wifi-security]\nkey-mgmt=wpa-eap\n");
	}
	sb_add(b, "\n[802-1x]\neap=tls;\nidentity=");
	sb_keyfile(b, n->identity);
	sb_add(b, "\nca-cert=");
	sb_keyfile(b, n->ca_path);
	sb_add(b, "\nclient-cert=");
	sb_keyfile(b, n->cert_path);
	sb_add(b, "\nprivate-key=");
	sb_keyfile(b, n->key_path);
	if (n->key_password != NULL) {
		sb_add(b, "\nprivate-key-password=");
		sb_keyfile(b, n->key_password);
	} else {
		sb_add(b, "\nprivate-key-password-flags=4"); /* not required: PEM in clear */
	}
	sb_add(b, "\ndomain-match=");
	for (i = 0; i < n->nnames; i++)
		sb_printf(b, "%s%s", i ? ";" : "", n->names[i]);
	sb_add(b, "\n\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n");
	return CRT_OK;
}

static crt_status r_nmcli(const struct net *n, const crt_profile_req *req, struct sb *b)
{
	size_t i;

	sb_printf(b,
	          "#!/bin/sh\n# crtoken: add the %s connection \"%s\" to NetworkManager.\n"
	          "# The files must be in place first: %s, %s, %s.\nset -e\n",
	          n->wired ? "wired 802.1X" : "Wi-Fi", n->conn_name, n->ca_path, n->cert_path,
	          n->key_path);
	sb_add(b, "nmcli connection add type ");
	sb_add(b, n->wired ? "ethernet" : "wifi");
	sb_add(b, " con-name ");
	sb_shell(b, n->conn_name);
	sb_add(b, " ifname '*'");
	if (!n->wired) {
		sb_add(b, " ssid ");
		sb_shell(b, n->ssid);
		sb_add(b, " wifi-sec.key-mgmt wpa-eap");
	}
	sb_add(b, " 802-1x.eap tls 802-1x.identity ");
	sb_shell(b, n->identity);
	sb_add(b, " 802-1x.ca-cert ");
	sb_shell(b, n->ca_path);
	sb_add(b, " 802-1x.client-cert ");
	sb_shell(b, n->cert_path);
	sb_add(b, " 802-1x.private-key ");
	sb_shell(b, n->key_path);
	if (n->key_password != NULL) {
		sb_add(b, " 802-1x.private-key-password ");
		sb_shell(b, n->key_password);
	} else {
		/* An unencrypted key: no password to store or ask for. */
		sb_add(b, " 802-1x.private-key-password-flags 4");
	}
	sb_add(b, " 802-1x.domain-match '");
	for (i = 0; i < n->nnames; i++)
		sb_printf(b, "%s%s", i ? ";" : "", n->names[i]);
	sb_add(b, "'\n");
	return CRT_OK;
}

/* SHA-1 thumbprint "aa bb cc ..." as Windows' TrustedRootCA wants it. */
static void thumbprint(X509 *x, char out[60])
{
	unsigned char md[20];
	unsigned len = 0;
	int i, o = 0;

	X509_digest(x, EVP_sha1(), md, &len);
	for (i = 0; i < 20; i++)
		o += snprintf(out + o, 4, "%s%02x", i ? " " : "", md[i]);
}

static crt_status r_windows(const struct net *n, const crt_profile_req *req, struct sb *b)
{
	size_t i;

	sb_add(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (n->wired) {
		sb_add(b,
		       "<LANProfile xmlns=\"http://www.microsoft.com/networking/LAN/profile/v1\">\n"
		       "  <MSM>\n    <security>\n      <OneXEnforced>false</OneXEnforced>\n"
		       "      <OneXEnabled>true</OneXEnabled>\n");
	} else {
		sb_add(
		    b,
		    "<WLANProfile xmlns=\"http://www.microsoft.com/networking/WLAN/profile/v1\">\n"
		    "  <name>");
		sb_xml(b, n->conn_name);
		sb_add(b, "</name>\n  <SSIDConfig>\n    <SSID>\n      <hex>");
		for (i = 0; n->ssid[i]; i++)
			sb_printf(b, "%02X", (unsigned char)n->ssid[i]);
		sb_add(b, "</hex>\n      <name>");
		sb_xml(b, n->ssid);
		sb_add(b, "</name>\n    </SSID>\n  </SSIDConfig>\n"
		          "  <connectionType>ESS</connectionType>\n"
		          "  <connectionMode>auto</connectionMode>\n"
		          "  <MSM>\n    <security>\n      <authEncryption>\n"
		          "        <authentication>WPA2</authentication>\n"
		          "        <encryption>AES</encryption>\n"
		          "        <useOneX>true</useOneX>\n      </authEncryption>\n");
	}
	sb_add(
	    b,
	    "      <OneX xmlns=\"http://www.microsoft.com/networking/OneX/v1\">\n"
	    "        <authMode>user</authMode>\n"
	    "        <EAPConfig>\n"
	    "          <EapHostConfig "
	    "xmlns=\"http://www.microsoft.com/provisioning/EapHostConfig\">\n"
	    "            <EapMethod>\n"
	    "              <Type "
	    "xmlns=\"http://www.microsoft.com/provisioning/EapCommon\">13</Type>\n"
	    "              <VendorId "
	    "xmlns=\"http://www.microsoft.com/provisioning/EapCommon\">0</VendorId>\n"
	    "              <VendorType "
	    "xmlns=\"http://www.microsoft.com/provisioning/EapCommon\">0</VendorType>\n"
	    "              <AuthorId "
	    "xmlns=\"http://www.microsoft.com/provisioning/EapCommon\">0</AuthorId>\n"
	    "            </EapMethod>\n"
	    "            <Config xmlns=\"http://www.microsoft.com/provisioning/EapHostConfig\">\n"
	    "              <Eap "
	    "xmlns=\"http://www.microsoft.com/provisioning/BaseEapConnectionPropertiesV1\">\n"
	    "                <Type>13</Type>\n"
	    "                <EapType "
	    "xmlns=\"http://www.microsoft.com/provisioning/EapTlsConnectionPropertiesV1\">\n"
	    "                  <CredentialsSource>\n"
	    "                    <CertificateStore>\n"
	    "                      <SimpleCertSelection>true</SimpleCertSelection>\n"
	    "                    </CertificateStore>\n"
	    "                  </CredentialsSource>\n"
	    "                  <ServerValidation>\n"
	    "                    "
	    "<DisableUserPromptForServerValidation>true</DisableUserPromptForServerValidation>\n"
	    "                    <ServerNames>");
	for (i = 0; i < n->nnames; i++) {
		sb_add(b, i ? ";" : "");
		sb_xml(b, n->names[i]);
	}
	sb_add(b, "</ServerNames>\n");
	for (i = 0; i < n->ncas; i++) {
		char tp[60];

		thumbprint(n->cas[i], tp);
		sb_printf(b, "                    <TrustedRootCA>%s</TrustedRootCA>\n", tp);
	}
	sb_add(b, "                  </ServerValidation>\n"
	          "                  <DifferentUsername>false</DifferentUsername>\n"
	          "                  <PerformServerValidation "
	          "xmlns=\"http://www.microsoft.com/provisioning/"
	          "EapTlsConnectionPropertiesV2\">true</PerformServerValidation>\n"
	          "                  <AcceptServerName "
	          "xmlns=\"http://www.microsoft.com/provisioning/"
	          "EapTlsConnectionPropertiesV2\">true</AcceptServerName>\n"
	          "                </EapType>\n"
	          "              </Eap>\n"
	          "            </Config>\n"
	          "          </EapHostConfig>\n"
	          "        </EAPConfig>\n"
	          "      </OneX>\n"
	          "    </security>\n"
	          "  </MSM>\n");
	sb_add(b, n->wired ? "</LANProfile>\n" : "</WLANProfile>\n");
	return CRT_OK;
}

static crt_status r_netsh(const struct net *n, const crt_profile_req *req, struct sb *b)
{
	/* cmd.exe quoting: the name holds no quote (checked), and % ^ & | < >
	 * would be interpreted: refuse them for this format. */
	if (strpbrk(n->base, "%^&|<>!") != NULL || strpbrk(n->conn_name, "%^&|<>!") != NULL)
		return CRT_E_INVALID_ARGUMENT;
	sb_printf(b,
	          "@echo off\r\n"
	          "rem crtoken: install the %s network \"%s\" on Windows.\r\n"
	          "rem Run in the folder that holds %s-radius-ca.pem, %s-legacy-3des.p12 and "
	          "%s.xml.\r\n"
	          "rem The PKCS#12 is the legacy PBE-SHA1-3DES form, which every Windows "
	          "version imports.\r\n"
	          "certutil -user -addstore Root \"%s-radius-ca.pem\"\r\n"
	          "certutil -user -importPFX \"%s-legacy-3des.p12\"\r\n",
	          n->wired ? "wired 802.1X" : "Wi-Fi", n->conn_name, n->base, n->base, n->base,
	          n->base, n->base);
	if (n->wired)
		sb_printf(b, "netsh lan add profile filename=\"%s.xml\" interface=\"Ethernet\"\r\n",
		          n->base);
	else
		sb_printf(b, "netsh wlan add profile filename=\"%s.xml\" user=current\r\n",
		          n->base);
	return CRT_OK;
}

static void plist_str(struct sb *b, const char *indent, const char *key, const char *val)
{
	sb_printf(b, "%s<key>%s</key>\n%s<string>", indent, key, indent);
	sb_xml(b, val);
	sb_add(b, "</string>\n");
}

static crt_status r_mobileconfig(const struct net *n, const crt_profile_req *req, struct sb *b)
{
	char top[37], p12u[37], netu[37], cau[MAX_CAS][37], label[32], ident[200];
	const char *in = "\t\t\t";
	size_t i;

	net_uuid(n, "mobileconfig", top);
	net_uuid(n, "mobileconfig-pkcs12", p12u);
	net_uuid(n, "mobileconfig-network", netu);
	snprintf(ident, sizeof(ident), "crtoken.%s", n->conn_name);
	for (char *p = ident; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '-';
	sb_add(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	          "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
	          "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	          "<plist version=\"1.0\">\n<dict>\n\t<key>PayloadContent</key>\n\t<array>\n");
	for (i = 0; i < n->ncas; i++) {
		unsigned char *der = NULL;
		int len;

		snprintf(label, sizeof(label), "ca%zu", i);
		net_uuid(n, label, cau[i]);
		if ((len = der_of(n->cas[i], &der)) <= 0)
			return CRT_E_NOMEM;
		sb_add(b, "\t\t<dict>\n");
		sb_printf(b,
		          "%s<key>PayloadCertificateFileName</key>\n%s<string>radius-ca-%zu.cer"
		          "</string>\n%s<key>PayloadContent</key>\n%s<data>\n",
		          in, in, i, in, in);
		sb_base64(b, der, (size_t)len, in);
		OPENSSL_free(der);
		sb_printf(b, "%s</data>\n", in);
		plist_str(b, in, "PayloadDisplayName", "RADIUS server CA");
		sb_printf(b, "%s<key>PayloadIdentifier</key>\n%s<string>%s.ca%zu</string>\n", in,
		          in, ident, i);
		plist_str(b, in, "PayloadType", "com.apple.security.root");
		plist_str(b, in, "PayloadUUID", cau[i]);
		sb_printf(b, "%s<key>PayloadVersion</key>\n%s<integer>1</integer>\n\t\t</dict>\n",
		          in, in);
	}
	/* The identity. */
	sb_add(b, "\t\t<dict>\n");
	sb_printf(b, "%s<key>PayloadCertificateFileName</key>\n%s<string>", in, in);
	sb_xml(b, n->base);
	sb_printf(b, "-legacy-3des.p12</string>\n%s<key>PayloadContent</key>\n%s<data>\n", in, in);
	sb_base64(b, req->p12, req->p12_len, in);
	sb_printf(b, "%s</data>\n", in);
	plist_str(b, in, "PayloadDisplayName", n->base);
	sb_printf(b, "%s<key>PayloadIdentifier</key>\n%s<string>%s.identity</string>\n", in, in,
	          ident);
	plist_str(b, in, "PayloadType", "com.apple.security.pkcs12");
	plist_str(b, in, "PayloadUUID", p12u);
	sb_printf(b, "%s<key>PayloadVersion</key>\n%s<integer>1</integer>\n", in, in);
	if (n->key_password != NULL)
		plist_str(b, in, "Password", n->key_password);
	sb_add(b, "\t\t</dict>\n");
	/* The network. */
	sb_add(b, "\t\t<dict>\n");
	if (!n->wired)
		sb_printf(b, "%s<key>AutoJoin</key>\n%s<true/>\n", in, in);
	sb_printf(b, "%s<key>EAPClientConfiguration</key>\n%s<dict>\n", in, in);
	sb_printf(b,
	          "%s\t<key>AcceptEAPTypes</key>\n%s\t<array>\n%s\t\t<integer>13</integer>\n"
	          "%s\t</array>\n",
	          in, in, in, in);
	sb_printf(b, "%s\t<key>PayloadCertificateAnchorUUID</key>\n%s\t<array>\n", in, in);
	for (i = 0; i < n->ncas; i++)
		sb_printf(b, "%s\t\t<string>%s</string>\n", in, cau[i]);
	sb_printf(b, "%s\t</array>\n%s\t<key>TLSTrustedServerNames</key>\n%s\t<array>\n", in, in,
	          in);
	for (i = 0; i < n->nnames; i++)
		sb_printf(b, "%s\t\t<string>%s</string>\n", in, n->names[i]);
	sb_printf(b, "%s\t</array>\n", in);
	sb_printf(b, "%s\t<key>UserName</key>\n%s\t<string>", in, in);
	sb_xml(b, n->identity);
	sb_printf(b, "</string>\n%s</dict>\n", in);
	if (!n->wired) {
		plist_str(b, in, "EncryptionType", "WPA2");
		sb_printf(b, "%s<key>HIDDEN_NETWORK</key>\n%s<false/>\n", in, in);
	}
	plist_str(b, in, "PayloadCertificateUUID", p12u);
	plist_str(b, in, "PayloadDisplayName", n->conn_name);
	sb_printf(b, "%s<key>PayloadIdentifier</key>\n%s<string>%s.network</string>\n", in, in,
	          ident);
	plist_str(b, in, "PayloadType",
	          n->wired ? "com.apple.firstactiveethernet.managed" : "com.apple.wifi.managed");
	plist_str(b, in, "PayloadUUID", netu);
	sb_printf(b, "%s<key>PayloadVersion</key>\n%s<integer>1</integer>\n", in, in);
	if (!n->wired)
		plist_str(b, in, "SSID_STR", n->ssid);
	sb_add(b, "\t\t</dict>\n\t</array>\n");
	plist_str(b, "\t", "PayloadDescription",
	          n->wired ? "Wired 802.1X (EAP-TLS) with a crtoken certificate"
	                   : "Wi-Fi (WPA2-Enterprise, EAP-TLS) with a crtoken certificate");
	plist_str(b, "\t", "PayloadDisplayName", n->conn_name);
	sb_printf(b, "\t<key>PayloadIdentifier</key>\n\t<string>%s</string>\n", ident);
	sb_add(b, "\t<key>PayloadRemovalDisallowed</key>\n\t<false/>\n");
	plist_str(b, "\t", "PayloadType", "Configuration");
	plist_str(b, "\t", "PayloadUUID", top);
	sb_add(b, "\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n</dict>\n</plist>\n");
	return CRT_OK;
}

static crt_status r_eapconfig(const struct net *n, const crt_profile_req *req, struct sb *b)
{
	size_t i;

	sb_add(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	          "<EAPIdentityProviderList "
	          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	          "xsi:noNamespaceSchemaLocation=\"eap-metadata.xsd\">\n"
	          "  <EAPIdentityProvider ID=\"");
	sb_xml(b, n->conn_name);
	sb_add(b, "\" namespace=\"urn:UUID\" version=\"1\">\n"
	          "    <AuthenticationMethods>\n      <AuthenticationMethod>\n"
	          "        <EAPMethod>\n          <Type>13</Type>\n        </EAPMethod>\n"
	          "        <ServerSideCredential>\n");
	for (i = 0; i < n->ncas; i++) {
		unsigned char *der = NULL;
		int len = der_of(n->cas[i], &der);

		if (len <= 0)
			return CRT_E_NOMEM;
		sb_add(b, "          <CA format=\"X.509\" encoding=\"base64\">");
		sb_base64_line(b, der, (size_t)len);
		OPENSSL_free(der);
		sb_add(b, "</CA>\n");
	}
	for (i = 0; i < n->nnames; i++)
		sb_printf(b, "          <ServerID>%s</ServerID>\n", n->names[i]);
	sb_add(b, "        </ServerSideCredential>\n        <ClientSideCredential>\n"
	          "          <UserName>");
	sb_xml(b, n->identity);
	sb_add(b,
	       "</UserName>\n          <ClientCertificate format=\"PKCS12\" encoding=\"base64\">");
	sb_base64_line(b, req->p12, req->p12_len);
	sb_add(b, "</ClientCertificate>\n");
	if (n->key_password != NULL) {
		sb_add(b, "          <Passphrase>");
		sb_xml(b, n->key_password);
		sb_add(b, "</Passphrase>\n");
	}
	sb_add(b, "        </ClientSideCredential>\n      </AuthenticationMethod>\n"
	          "    </AuthenticationMethods>\n    <CredentialApplicability>\n");
	if (n->wired) {
		sb_add(b, "      <IEEE8023>\n        <NetworkID>");
		sb_xml(b, n->conn_name);
		sb_add(b, "</NetworkID>\n      </IEEE8023>\n");
	} else {
		sb_add(b, "      <IEEE80211>\n        <SSID>");
		sb_xml(b, n->ssid);
		sb_add(b, "</SSID>\n        <MinRSNProto>CCMP</MinRSNProto>\n      </IEEE80211>\n");
	}
	sb_add(b, "    </CredentialApplicability>\n    <ProviderInfo>\n      <DisplayName>");
	sb_xml(b, n->conn_name);
	sb_add(b, "</DisplayName>\n    </ProviderInfo>\n  </EAPIdentityProvider>\n"
	          "</EAPIdentityProviderList>\n");
	return CRT_OK;
}

/* ------------------------------------------------------------ signing */

/* Every PEM certificate of the file at path (CRT_TRUST_FILE) onto *sk. */
static crt_status read_certs(const char *path, const char *key, STACK_OF(X509) **sk, char *err,
                             size_t errlen)
{
	char *pem = NULL, why[256];
	size_t len;
	BIO *bio;
	X509 *x;
	crt_status r;

	if ((r = read_trusted(path, SIGNER_FILE_LIMIT, CRT_TRUST_FILE, &pem, &len, why,
	                          sizeof(why))) != CRT_OK)
		return r == CRT_E_NOMEM ? r
		                        : bad(err, errlen, r, "[network] %s: %s", key, why);
	if (*sk == NULL && (*sk = sk_X509_new_null()) == NULL) {
		free(pem);
		return CRT_E_NOMEM;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		free(pem);
		return CRT_E_NOMEM;
	}
	r = CRT_OK;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(*sk, x)) {
			X509_free(x);
			r = CRT_E_NOMEM;
			break;
		}
	ERR_clear_error();
	BIO_free(bio);
	free(pem);
	if (r == CRT_OK && sk_X509_num(*sk) == 0)
		r = bad(err, errlen, CRT_E_CONFIG, "[network] %s %s holds no PEM certificate", key,
		        path);
	return r;
}

/*
 * Replace the profile in *b by a CMS SignedData (DER) over it: content
 * attached, SHA-256, the signer certificate and the chain included — what
 * iOS and macOS install as a signed configuration profile. The key file is a
 * secret (CRT_TRUST_SECRET) and must match the certificate.
 */
static crt_status sign_profile(const crt_config *cfg, struct sb *b, char *err, size_t errlen)
{
	STACK_OF(X509) *signer = NULL, *chain = NULL;
	char *kpem = NULL, why[256];
	size_t klen = 0;
	EVP_PKEY *key = NULL;
	BIO *in = NULL, *bio = NULL;
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL, *p;
	int dlen, i;
	crt_status r;

	if ((r = read_certs(cfg->net_mc_signer_cert, "mobileconfig_signer_cert", &signer, err,
	                    errlen)) != CRT_OK)
		goto out;
	if (cfg->net_mc_signer_chain != NULL &&
	    (r = read_certs(cfg->net_mc_signer_chain, "mobileconfig_signer_chain", &chain, err,
	                    errlen)) != CRT_OK)
		goto out;
	if ((r = read_trusted(cfg->net_mc_signer_key, SIGNER_FILE_LIMIT, CRT_TRUST_SECRET,
	                          &kpem, &klen, why, sizeof(why))) != CRT_OK) {
		if (r != CRT_E_NOMEM)
			bad(err, errlen, r, "[network] mobileconfig_signer_key: %s", why);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(kpem, (int)klen)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ERR_clear_error();
	if (key == NULL) {
		r = bad(err, errlen, CRT_E_CONFIG,
		        "[network] mobileconfig_signer_key %s is not an unencrypted PEM private key",
		        cfg->net_mc_signer_key);
		goto out;
	}
	if (X509_check_private_key(sk_X509_value(signer, 0), key) != 1) {
		ERR_clear_error();
		r = bad(err, errlen, CRT_E_CONFIG,
		        "[network] mobileconfig_signer_key does not match mobileconfig_signer_cert");
		goto out;
	}
	/* Further certificates in the signer file count as its chain. */
	if (chain == NULL && (chain = sk_X509_new_null()) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	while (sk_X509_num(signer) > 1)
		if (!sk_X509_push(chain, sk_X509_pop(signer))) {
			r = CRT_E_NOMEM;
			goto out;
		}
	r = CRT_E_INTERNAL;
	if ((in = BIO_new_mem_buf(b->p, (int)b->len)) == NULL ||
	    (cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_BINARY | CMS_PARTIAL)) == NULL ||
	    CMS_add1_signer(cms, sk_X509_value(signer, 0), key, EVP_sha256(),
	                    CMS_BINARY | CMS_NOSMIMECAP) == NULL)
		goto cms_fail;
	for (i = 0; i < sk_X509_num(chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(chain, i)))
			goto cms_fail;
	if (!CMS_final(cms, in, NULL, CMS_BINARY) || (dlen = i2d_CMS_ContentInfo(cms, NULL)) <= 0 ||
	    (der = malloc((size_t)dlen + 1)) == NULL)
		goto cms_fail;
	p = der;
	if (i2d_CMS_ContentInfo(cms, &p) != dlen)
		goto cms_fail;
	der[dlen] = '\0';
	crt_freezero(b->p, b->cap);
	b->p = (char *)der;
	b->len = b->cap = (size_t)dlen;
	der = NULL;
	r = CRT_OK;
	goto out;
cms_fail:
	ERR_clear_error();
	r = bad(err, errlen, CRT_E_INTERNAL, "signing the mobileconfig failed");
out:
	free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(bio);
	EVP_PKEY_free(key);
	crt_freezero(kpem, klen);
	sk_X509_pop_free(signer, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

/* ------------------------------------------------------------ table */

/* The formats themselves (name, suffix, ...) are netprofile_formats.c. */
typedef crt_status (*render_fn)(const struct net *, const crt_profile_req *, struct sb *);

static const struct {
	const char *name;
	render_fn fn;
} renderers[] = {
    {"wpa_supplicant", r_wpa}, {"networkmanager", r_nm},         {"nmcli", r_nmcli},
    {"windows", r_windows},    {"netsh", r_netsh},               {"mobileconfig", r_mobileconfig},
    {"eap-config", r_eapconfig},
};

static render_fn renderer_of(const char *name)
{
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		if (strcmp(renderers[i].name, name) == 0)
			return renderers[i].fn;
	return NULL;
}

void crt_profile_clear(crt_profile *p)
{
	if (p == NULL)
		return;
	crt_freezero(p->data, p->len); /* may embed a PKCS#12 and a passphrase */
	free(p->filename);
	free(p->ca_pem);
	free(p->ca_filename);
	memset(p, 0, sizeof(*p));
}

crt_status crt_profile_make(const crt_config *cfg, const crt_profile_req *req, crt_profile *out,
                            char *err, size_t errlen)
{
	struct net n;
	struct sb b = {0};
	const crt_profile_format *f;
	render_fn fn = NULL;
	size_t fnlen;
	crt_status r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || cfg == NULL || req == NULL)
		return CRT_E_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if ((f = crt_profile_format_find(req->format)) != NULL)
		fn = renderer_of(f->name);
	if (fn == NULL)
		return bad(err, errlen, CRT_E_PROFILE_FORMAT,
		           "formats: wpa_supplicant, "
		           "networkmanager, nmcli, windows, "
		           "netsh, mobileconfig, eap-config");
	if ((r = net_load(cfg, req, &n, err, errlen)) != CRT_OK)
		goto out;
	if (f->embeds_p12 && (req->p12 == NULL || req->p12_len == 0)) {
		r = bad(err, errlen, CRT_E_INVALID_ARGUMENT,
		        "the %s profile carries the PKCS#12: none was given", req->format);
		goto out;
	}
	if ((r = fn(&n, req, &b)) != CRT_OK) {
		if (r == CRT_E_INVALID_ARGUMENT)
			bad(err, errlen, r, "the name cannot be written into a %s profile",
			    req->format);
		goto out;
	}
	if (b.oom) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if (strcmp(f->name, "mobileconfig") == 0 && cfg->net_mc_signer_cert != NULL &&
	    (r = sign_profile(cfg, &b, err, errlen)) != CRT_OK)
		goto out;
	fnlen = strlen(n.base) + 32;
	if ( (out->filename = malloc(fnlen)) == NULL ||
	    (out->ca_filename = malloc(fnlen)) == NULL ||
	    (out->ca_pem = strdup(n.ca_pem)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	snprintf(out->filename, fnlen, "%s%s", n.base, f->suffix);
	snprintf(out->ca_filename, fnlen, "%s-radius-ca.pem", n.base);
	out->data = b.p;
	out->len = b.len;
	out->content_type = f->content_type;
	b.p = NULL;
	r = CRT_OK;
out:
	if (r != CRT_OK)
		crt_profile_clear(out);
	crt_freezero(b.p, b.cap);
	net_free(&n);
	return r;
}

crt_status crt_profile_for_cert(crt_ctx *ctx, const crt_profile_req *req, crt_profile *out)
{
	crt_cert stored;
	BIO *bio = NULL;
	X509 *given = NULL, *mine = NULL;
	char serial[72];
	crt_status r;

	memset(&stored, 0, sizeof(stored));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	ctx_clear_detail(ctx);
	if (req == NULL || req->cert_pem == NULL || out == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no certificate");
	if (crt_profile_format_find(req->format) == NULL)
		return ctx_fail(ctx, CRT_E_PROFILE_FORMAT, "no format \"%.40s\"",
		                req->format ? req->format : "");
	if ((bio = BIO_new_mem_buf(req->cert_pem, -1)) == NULL)
		return CRT_E_NOMEM;
	given = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (given == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "the certificate is not PEM");
	{
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(given), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;

		r = hex ? crt_serial_normalize(hex, serial, sizeof(serial)) : CRT_E_NOMEM;
		OPENSSL_free(hex);
		BN_free(bn);
		if (r != CRT_OK)
			goto out;
	}
	if ((r = crt_cert_get(ctx, serial, &stored)) != CRT_OK)
		goto out;
	bio = BIO_new_mem_buf(stored.pem, -1);
	mine = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	if (mine == NULL || X509_cmp(mine, given) != 0) {
		r = ctx_fail(ctx, CRT_E_CERT_NOT_FOUND, "not a certificate this service issued");
		goto out;
	}
	r = crt_profile_make(&ctx->cfg, req, out, ctx->detail, sizeof(ctx->detail));
out:
	X509_free(mine);
	X509_free(given);
	crt_cert_clear(&stored);
	return r;
}
