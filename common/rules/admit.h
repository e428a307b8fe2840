/*
 * rules/admit.h — admission of a presented certificate, a pure function of
 * values (no ctx, no store): the stored row as the admission lookup reads
 * it (store_cert_admission_get) and what FreeRADIUS presents of the
 * certificate (crt_presented) → admitted, or refused with a status and a
 * reason. crt_cert_admit / crt_cert_check_status (crtoken.h) are this rule
 * on a crt_cert; crt_cert_authorize (cert.c) looks the row up and applies
 * it. Unit-tested without a database: tests/unit/test_rules_admit.c.
 */
#ifndef CRTOKEN_RULES_ADMIT_H
#define CRTOKEN_RULES_ADMIT_H

#include "crtoken.h"

/* What admission knows of the stored certificate. Strings may be NULL
 * (key identifiers: the row fails closed). */
typedef struct admit_stored {
	const char *serial;   /* normalised (crt_serial_normalize) */
	const char *issuer;   /* oneline issuer name */
	const char *ski, *aki; /* lowercase hex */
	int64_t not_before, not_after;
	int revoked;
} admit_stored;

/* The rule: CRT_OK, or the refusal of crt_cert_admit (crtoken.h) with
 * *why (if why != NULL) a static reason ("" on CRT_OK). */
crt_status admit_decide(const crt_presented *p, const admit_stored *s, int64_t now,
			const char **why) CRT_MUST_CHECK;
/* The status part alone (the stored row at now): CRT_OK, CRT_E_CERT_MISMATCH
 * (no key identifiers), CRT_E_CERT_REVOKED, _NOT_YET_VALID, _EXPIRED. */
crt_status admit_status(const admit_stored *s, int64_t now, const char **why) CRT_MUST_CHECK;
/* A key identifier as FreeRADIUS prints it ("2D:11:..", "keyid:2D:11:..",
 * optionally with trailing white space) in canonical lowercase hex; -1 for
 * anything else (an AKI that also names an issuer and serial, junk). */
int admit_keyid_canon(const char *in, char *out, size_t outlen);
/* An ASN.1 time string ("YYMMDDHHMMSSZ" or "YYYYMMDDHHMMSSZ") as Unix
 * seconds; -1 when it is not one. */
int admit_asn1_time(const char *s, int64_t *out);

#endif /* CRTOKEN_RULES_ADMIT_H */
