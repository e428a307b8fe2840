/*
 * rules/scope.h — what an API key may do, pure functions of values (no
 * ctx, no store): scope names ↔ the enum crt_scope mask, whether a mask
 * grants what a route needs, and the profile list a key may be limited to.
 * Unit-tested without a database: tests/unit/test_rules_scope.c.
 */
#ifndef CRTOKEN_RULES_SCOPE_H
#define CRTOKEN_RULES_SCOPE_H

#include <stddef.h>

#include "crtoken.h"

/* Does a key holding mask have need (one or more bits, all required)? A
 * need of 0 is granted to no one: a route that names no scope fails closed. */
int scope_grants(unsigned mask, unsigned need);

/*
 * The stored form of a key's scopes (api_keys.scopes) → mask: NULL (a key
 * made before scopes existed) is every scope; otherwise crt_scopes_parse.
 * A stored name this build does not know is dropped (a newer build's
 * scope grants nothing here), never an error.
 */
unsigned scope_from_stored(const char *text);

/*
 * A key's profile list ("a,b"): CRT_OK when every entry is a profile
 * name (1-64 of a-z 0-9 - _), no entry empty or repeated;
 * CRT_E_FIELD_INVALID otherwise with *why a static explanation.
 */
crt_status scope_profiles_check(const char *list, const char **why) CRT_MUST_CHECK;

/* Is profile (NULL or "": "default") an entry of list (NULL: every profile
 * is)? 1 or 0. */
int scope_profile_allowed(const char *list, const char *profile);

#endif /* CRTOKEN_RULES_SCOPE_H */
