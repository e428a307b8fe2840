/*
 * ca_cfssl.h — the remote CA connector for cfssl ([ca] type = cfssl):
 * crtoken decides everything (token, owner, subject, key policy, single
 * use) and stores the result; cfssl's /api/v1/cfssl/authsign only signs.
 * What cfssl returns is checked before it is used (ca_cfssl_check).
 */
#ifndef CRTOKEN_CA_CFSSL_H
#define CRTOKEN_CA_CFSSL_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

/* The connector's settings (the [ca] keys of a cfssl CA section). */
typedef struct ca_cfssl_conf {
	const char *url;           /* https://host[:port], or http:// to a loopback address */
	const char *auth_key_file; /* the profile's "standard" auth key, hex (a secret file) */
	const char *profile;       /* NULL: cfssl's default profile */
	const char *label;         /* NULL: none */
	const char *tls_ca_file;   /* https: the CA(s) of the cfssl server (NULL: system store) */
	int timeout_ms;            /* the whole request, connection included */
} ca_cfssl_conf;

/* An open connector: immutable, shared by the sessions of an instance. */
struct ca_cfssl;

/*
 * Settle a CA section's type (*type NULL: "pkcs11" for a key = pkcs11:...
 * URI, else "local"; malloc'd) and check the keys that go with it
 * (key_given: key was in the file, not defaulted). NULL when acceptable,
 * else the config_invalid message (without the section's name).
 */
const char *ca_type_check(char **type, const char *key, int key_given, const char *pin_file,
			  const char *module, const ca_cfssl_conf *remote);
/* ca_type_check for the [ca] section of cfg; the message, "[ca] ..." in
 * buf, or NULL. */
const char *ca_type_resolve(crt_config *cfg, int key_given, char *buf, size_t n);

/* Whether url is one the connector may use (https anywhere, http only to
 * 127.0.0.0/8, ::1 or localhost; no user name or password, no query);
 * NULL when it is, else why not. */
const char *ca_cfssl_url_refusal(const char *url);

/*
 * Open the connector of conf for the CA certificate ca (which it does not
 * own): the HMAC key is read on its open descriptor with the secret-file
 * checks, decoded, and its text wiped. CRT_E_UNSAFE_PERMISSIONS,
 * CRT_E_CA_MISSING (unreadable), CRT_E_CA_INVALID (not hex, shorter than
 * 16 bytes; ca without a Subject Key Identifier), CRT_E_NOMEM; err says
 * which. *out is freed with ca_cfssl_free (which wipes the key).
 */
crt_status ca_cfssl_open(const ca_cfssl_conf *conf, X509 *ca, struct ca_cfssl **out, char *err,
			 size_t errlen) CRT_MUST_CHECK;
void ca_cfssl_free(struct ca_cfssl *c);

/*
 * The authsign body for a CSR (DER) and the subject crtoken decided
 * (cn/org/ou, NULL or "" for none): {"token": base64(HMAC-SHA256(key,
 * request)), "request": base64(request)}, request being {"certificate_request":
 * PEM, "hosts": [], "subject": {...}, "profile", "label"}. *body is
 * malloc'd (the caller's).
 */
crt_status ca_cfssl_body(const struct ca_cfssl *c, const unsigned char *csr_der, size_t csr_len,
			 const char *cn, const char *org, const char *ou, char **body) CRT_MUST_CHECK;

/*
 * Whether got is a certificate crtoken may hand out as if it had signed it
 * itself: issued by ca (issuer name, Authority Key Identifier = ca's SKI,
 * signature verified with ca's key), for the public key want, with exactly
 * the subject O=org, OU=ou, CN=cn (those given, in that order), no
 * subjectAltName, not a CA, with the clientAuth extended key usage, a
 * positive serial of at most 20 bytes, valid at now (notBefore up to skew
 * seconds ahead) and not outliving ca. CRT_OK, or CRT_E_CA_REJECTED with
 * *why set (a static string).
 */
crt_status ca_cfssl_check(X509 *ca, X509 *got, EVP_PKEY *want, const char *cn, const char *org,
			  const char *ou, int64_t now, int skew, const char **why) CRT_MUST_CHECK;

/*
 * Sign through the connector of ctx's CA: the remote call (no store lock
 * is held: this runs in phase 1 of a redemption, before the claim), the
 * answer parsed and checked (ca_cfssl_check). On CRT_OK *out is the
 * certificate and serial its normalised hex serial (the one cfssl chose).
 * CRT_E_CA_UNAVAILABLE: not reached, timed out, or a 5xx answer;
 * CRT_E_CA_REJECTED: a refusal (4xx, success:false: e.g. a wrong HMAC key)
 * or a certificate the checks refuse; ctx's detail says which.
 */
struct crt_csr;
crt_status ca_cfssl_issue(crt_ctx *ctx, const struct crt_csr *csr, const char *cn,
			  const char *org, const char *ou, int64_t now, X509 **out,
			  char serial[72]) CRT_MUST_CHECK;

/* Free a session's kept libcurl handle (crt_close; NULL is fine). */
void ca_cfssl_session_free(void *handle);

#endif /* CRTOKEN_CA_CFSSL_H */
