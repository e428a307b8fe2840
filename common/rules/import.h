/*
 * rules/import.h — the upload of an existing certificate (issue 12) as pure
 * functions of values (no ctx, no store, no OpenSSL objects): what was
 * pasted (one certificate, several, a private key, nothing usable), whether
 * the parsed leaf may become a client certificate here, and whether its
 * subject is what a token allows. import.c parses the PEM, verifies the
 * chain against [import] trusted_issuers (X509_verify_cert) and applies
 * these to what it found. Unit-tested without a database:
 * tests/unit/test_rules_import.c.
 */
#ifndef CRTOKEN_RULES_IMPORT_H
#define CRTOKEN_RULES_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

/* The shape of an upload's text: CRT_OK when it holds exactly one PEM
 * CERTIFICATE block (text around it is allowed, as openssl prints it);
 * CRT_E_CERT_PRIVATE_KEY when any PEM private key block is in it (whatever
 * else is), CRT_E_CERT_MULTIPLE for several certificates, CRT_E_CERT_MALFORMED
 * for none (or a NUL byte). *why: a static reason. */
crt_status import_pem_shape(const char *text, size_t len, const char **why) CRT_MUST_CHECK;

/* keyUsage bits the rule looks at (RFC 5280 order) */
enum { IMPORT_KU_DIGITAL_SIGNATURE = 1 << 0, IMPORT_KU_KEY_CERT_SIGN = 1 << 5 };

/* What the rule knows of the parsed leaf and its verification. */
typedef struct import_facts {
	int chain_ok;          /* X509_verify_cert succeeded against the trusted issuers
				  (the leaf's own validity period aside) */
	int is_ca;             /* basicConstraints CA:TRUE */
	int has_key_usage;     /* a keyUsage extension is present ... */
	unsigned key_usage;    /* ... with these IMPORT_KU_* bits */
	int has_eku;           /* an extendedKeyUsage extension is present ... */
	int eku_client_auth;   /* ... listing id-kp-clientAuth ... */
	int eku_any;           /* ... or anyExtendedKeyUsage */
	int has_ski, has_aki;  /* Subject / Authority Key Identifier (keyid) */
	int64_t not_before, not_after;
} import_facts;

/* May this leaf be stored as a client certificate at now? CRT_OK, or in
 * this order: CRT_E_CERT_UNTRUSTED, CRT_E_CERT_IS_CA (CA:TRUE, or keyUsage
 * keyCertSign), CRT_E_CERT_EXPIRED, CRT_E_CERT_NOT_YET_VALID,
 * CRT_E_CERT_USAGE (EKU without clientAuth/anyExtendedKeyUsage, or keyUsage
 * without digitalSignature), CRT_E_CERT_KEY_ID (RADIUS admission binds to
 * both identifiers). *why: a static reason ("" on CRT_OK). */
crt_status import_leaf_decide(const import_facts *f, int64_t now, const char **why) CRT_MUST_CHECK;

/* The subject fields of the uploaded certificate: the first value of each
 * and how many there were. */
typedef struct import_subject {
	const char *cn, *org, *ou; /* NULL when absent */
	int ncn, norg, nou;
} import_subject;

/* Does the certificate's subject match what token t allows? "Matches" is
 * the CSR redemption's own rule (rules/token.h, token_redeem_decide) with
 * the certificate's CN, O and OU taken as the redeemer's choices: a field
 * the token fixes must be exactly the token's value (absent when the token
 * has none), a field the token leaves open may be anything the subject
 * field rule accepts, and there must be a CN. Each of CN, O and OU at most
 * once; other attributes (C, L, emailAddress, ...) are not compared.
 * req carries the token state checks too (user, admin: owner check). CRT_OK,
 * the token's own refusal (token_used, token_expired, token_owner_mismatch,
 * ...), or CRT_E_CERT_SUBJECT with why->msg saying which field. */
crt_status import_subject_decide(const crt_token *t, const crt_redeem_req *req,
				 const import_subject *s, int64_t now, char *why, size_t whylen)
	CRT_MUST_CHECK;

#endif /* CRTOKEN_RULES_IMPORT_H */
