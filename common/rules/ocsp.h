/*
 * rules/ocsp.h — the OCSP status of one requested certificate, a pure
 * function of values (no ctx, no store, no OpenSSL): whether the request's
 * CertID names this CA (issuerNameHash and issuerKeyHash both match, worked
 * out by ocsp.c), the store's row for the serial (as the admission verb
 * returns it) and the issuer this CA writes into what it signs.
 * crt_ocsp_respond (ocsp.c) applies it to every CertID of a request.
 * Unit-tested without a database: tests/unit/test_ocsp.c.
 */
#ifndef CRTOKEN_RULES_OCSP_H
#define CRTOKEN_RULES_OCSP_H

#include <stdint.h>

/* The values are RFC 6960's CertStatus choices (and OpenSSL's
 * V_OCSP_CERTSTATUS_*). */
typedef enum ocsp_state {
	OCSP_STATE_GOOD = 0,
	OCSP_STATE_REVOKED = 1,
	OCSP_STATE_UNKNOWN = 2,
} ocsp_state;

/* What the store holds for the serial. found = 0: never issued here. */
typedef struct ocsp_row {
	int found;
	const char *issuer; /* oneline issuer name of the stored certificate */
	int revoked;
	int64_t revoked_at;
	int reason; /* RFC 5280 CRLReason */
} ocsp_row;

/*
 * The answer for one CertID:
 *   another issuer (issuer_ours = 0)           unknown (RFC 6960 2.2: the
 *                                              request names an issuer this
 *                                              responder does not serve)
 *   a serial this CA never issued (no row)     unknown — never good
 *   a row issued by another CA (an earlier CA of this instance, replaced
 *   by crt_ca_import: the issuer differs)      unknown
 *   revoked                                    revoked, *revoked_at and
 *                                              *reason (-1: omit the reason,
 *                                              for unspecified, as the CRL does)
 *   otherwise                                  good
 * row may be NULL (not looked up: as not found).
 */
ocsp_state ocsp_decide(int issuer_ours, const char *ca_issuer, const ocsp_row *row,
		       int64_t *revoked_at, int *reason);

/* nextUpdate of a response made at now with [ocsp] validity seconds. */
int64_t ocsp_next_update(int64_t now, int64_t validity);

#endif /* CRTOKEN_RULES_OCSP_H */
