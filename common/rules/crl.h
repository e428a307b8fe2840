/*
 * rules/crl.h — CRL freshness, a pure function of values (no ctx, no
 * store): given what the published CRL covers (crt_crl_meta), the newest
 * revocation in the store, the CA that signs now and the time, must the CRL
 * be re-signed, and why? The public crt_crl_stale (crtoken.h) is this rule;
 * crt_crl_current (crl.c) applies it to what the store holds.
 * Unit-tested without a database: tests/unit/test_rules_crl.c.
 */
#ifndef CRTOKEN_RULES_CRL_H
#define CRTOKEN_RULES_CRL_H

#include "crtoken.h"

/* The reasons crt_crl_stale gives (its *why), as they appear in the
 * crl.generate audit row. */
#define CRL_STALE_NONE "none published"
#define CRL_STALE_OTHER_CA "signed by another CA"
#define CRL_STALE_NEWER_REVOCATION "newer revocation"
#define CRL_STALE_NEXT_UPDATE_NEAR "nextUpdate near"
#define CRL_STALE_FUTURE "thisUpdate in the future"

#endif /* CRTOKEN_RULES_CRL_H */
