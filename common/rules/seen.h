/*
 * rules/seen.h — what RADIUS does with a certificate's sessions, pure
 * functions of values (no ctx, no store): the one spelling of a MAC
 * address, the pin_mac = first decision, the Session-Timeout an
 * Access-Accept may carry, and how two sightings of one certificate
 * coalesce in rlm_crtoken's queue. Unit-tested without a database:
 * tests/unit/test_rules_seen.c.
 */
#ifndef CRTOKEN_RULES_SEEN_H
#define CRTOKEN_RULES_SEEN_H

#include "crtoken.h"

/* crt_mac_normalize (crtoken.h). */
crt_status seen_mac_normalize(const char *in, char out[CRT_MAC_MAX]) CRT_MUST_CHECK;

/* The pin: pin (enum crt_pin_mac), the pinned MAC (NULL or "" when none)
 * and the presented one (normalised; "" when absent). CRT_OK with
 * *claim = 1 when the caller must pin mac first, CRT_OK with *claim = 0
 * when admitted as is, CRT_E_CERT_MAC_PINNED (another MAC, or none
 * presented) with *why a static reason. */
crt_status seen_pin_decide(int pin, const char *pinned, const char *mac, int *claim,
			   const char **why) CRT_MUST_CHECK;

/* The pin that applies to a certificate: its own (from its token; -1:
 * none), else its profile's (-1: the profile is no longer configured),
 * else the site's ([radius] pin_mac). enum crt_pin_mac values. */
int seen_pin_effective(int own, int profile, int site);

/* "first" / "off" → enum crt_pin_mac; -1 for NULL or anything else. */
int seen_pin_parse(const char *s);

/* Seconds from now to not_after, capped by cap when cap > 0; at least 1. */
int64_t seen_session_timeout(int64_t not_after, int64_t now, int64_t cap);

/* crt_sighting_merge (crtoken.h). */
void seen_merge(crt_sighting *into, const crt_sighting *newer);

#endif /* CRTOKEN_RULES_SEEN_H */
