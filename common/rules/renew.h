/*
 * rules/renew.h — renewal without a new token, as pure functions of values
 * (no ctx, no store): may the certificate a client presented be renewed
 * now, and is a renewed certificate's predecessor due to be superseded?
 * renew.c (crt_cert_renew, the maintenance run) applies them to what the
 * store holds. Unit-tested without a database: tests/unit/test_rules_renew.c.
 */
#ifndef CRTOKEN_RULES_RENEW_H
#define CRTOKEN_RULES_RENEW_H

#include <stdint.h>

#include "crtoken.h"

/* What the decision looks at: the stored row of the presented certificate
 * and the renewal policy ([renewal] enabled / require_otp, the window and
 * the same-key permission of the certificate's profile). */
typedef struct renew_facts {
	int enabled;          /* renewal is on at all */
	int revoked;          /* the stored certificate is revoked */
	int64_t not_before, not_after;
	int window_days;      /* allowed from this many days before not_after; 0: never */
	int renewed;          /* a renewal of it exists already */
	int same_key;         /* the CSR carries the certificate's own public key */
	int allow_same_key;
	int require_login;    /* the owner must have logged in too */
	const char *owner;    /* the certificate's user (NULL: none) */
	const char *login;    /* who logged in (NULL: nobody) */
} renew_facts;

/*
 * CRT_OK, or the first refusal in this order: CRT_E_RENEWAL_NOT_ALLOWED
 * (renewal off), CRT_E_CERT_REVOKED, CRT_E_CERT_NOT_YET_VALID,
 * CRT_E_CERT_EXPIRED, CRT_E_RENEWAL_NOT_ALLOWED (window_days 0: the
 * profile never renews), CRT_E_RENEWAL_TOO_EARLY (before not_after -
 * window_days), CRT_E_RENEWAL_NOT_ALLOWED (renewed already),
 * CRT_E_AUTH_REQUIRED (login required and none), CRT_E_FORBIDDEN (the login
 * is not the owner, or there is no owner to log in as), CRT_E_SAME_KEY.
 * *why (may be NULL) receives a static explanation ("" on CRT_OK).
 */
crt_status renew_decide(const renew_facts *f, int64_t now, const char **why);

/* The moment the renewal window of a certificate ending at not_after opens. */
int64_t renew_window_opens(int64_t not_after, int window_days);

/*
 * Is the predecessor of a renewal issued at issued_at due to be revoked as
 * superseded at now? Once the renewed certificate has been admitted by
 * RADIUS (first_seen > 0), or grace_days after the renewal.
 */
int renew_supersede_due(int64_t issued_at, int64_t first_seen, int grace_days, int64_t now);

#endif /* CRTOKEN_RULES_RENEW_H */
