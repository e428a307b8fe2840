/*
 * rules/profile.h — certificate profiles ([profile NAME] sections of the
 * config, crt_cert_profile in crtoken.h) as functions of values: reading
 * one key of a section, resolving and checking a whole profile, and the
 * questions issuance asks of it (may this key type be used, how long may
 * the certificate be valid). No ctx, no store, no file: config.c feeds the
 * keys in, cert.c and token_store.c ask. Unit-tested without a database
 * (tests/unit/test_rules_profile.c).
 */
#ifndef CRTOKEN_RULES_PROFILE_H
#define CRTOKEN_RULES_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

/* A profile name: 1-64 of a-z 0-9 '-' '_'. 1 if name is one. */
int certprof_name_ok(const char *name);

/* A fresh profile called name (copied): every value unset, to be filled by
 * certprof_set and resolved by certprof_finish. 0, or -1 out of memory. */
int certprof_init(crt_cert_profile *p, const char *name);
void certprof_clear(crt_cert_profile *p);

/*
 * Apply `key = value` of its section to p. Keys (crtoken.conf documents
 * them): description, days, max_days, key_usage, extended_key_usage,
 * key_types, san_email, san_upn, san_dns, san_uri, reply (repeatable: one
 * attribute each), vlan (the three Tunnel-* attributes), lock, lifetime,
 * max_lifetime, approval, renew_days, allow_same_key, pin_mac,
 * session_timeout, crl_url, ca_issuers_url, ocsp_url. A key given twice is
 * refused (but reply). 0, or -1 with the reason in err.
 */
int certprof_set(crt_cert_profile *p, const char *key, const char *value, char *err,
                size_t errlen);

/* What the rest of the config supplies to a profile that leaves it out. */
typedef struct certprof_defaults {
	int days;                         /* [ca] cert_days */
	int64_t token_lifetime, token_max_lifetime; /* [tokens] */
	const char *crl_url, *ca_issuers_url, *ocsp_url; /* [ca] */
	int pin_mac;                      /* [radius] pin_mac */
	int renew_days;                   /* [renewal] window_days */
	int allow_same_key;               /* [renewal] allow_same_key */
	int64_t session_timeout;          /* [radius] max_session_timeout */
} certprof_defaults;

/*
 * Resolve p against d (unset values inherited) and check the whole:
 * days <= max_days, lifetime <= max_lifetime, renew_days below the
 * validity (approval = required makes it the default of its tokens). 0, or -1 with the reason in err.
 */
int certprof_finish(crt_cert_profile *p, const certprof_defaults *d, char *err, size_t errlen);

/*
 * Whether a CSR key of key_type (as ca_key_type_name names it: "rsa-2048",
 * "ec-p256", "ed25519") is one p->key_types allows: "rsa" any RSA key,
 * "rsa-N" RSA of N bits or more, "ec" any curve, "ec-p256" / "ec-p384" that
 * curve, "ed25519". 1 allowed, 0 not.
 */
int certprof_key_allowed(const crt_cert_profile *p, const char *key_type);

/*
 * The validity in days of a certificate of p when the token asks for
 * asked days (0: the profile's own): asked beyond max_days is refused
 * (CRT_E_VALIDITY with why), never clamped, so an admin learns at once
 * that the request was not granted. CRT_OK with *days set.
 */
crt_status certprof_valid_days(const crt_cert_profile *p, int asked, int *days, const char **why)
    __attribute__((warn_unused_result));

/* An http://, https:// or ldap:// URL fit for a CRL distribution point or
 * an AIA entry (printable ASCII, no spaces, quotes or angle brackets). */
int certprof_url_ok(const char *url);

/* A SubjectAltName template's placeholders are all known ({owner} {cn}
 * {name} {org} {ou}) and its braces balanced: 1, else 0 with *why. */
int certprof_template_ok(const char *tmpl, const char **why);

#endif /* CRTOKEN_RULES_PROFILE_H */
