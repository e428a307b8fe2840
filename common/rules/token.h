/*
 * rules/token.h — the token rules, stated once, as functions of values
 * (no ctx, no store): a token's state at a time, which rows a state or a
 * purge selects (as bounds a backend filters on), the redemption decision,
 * and what a lost claim means. Unit-tested without a database
 * (tests/unit/test_rules_token.c).
 *
 * Times are Unix seconds; 0 means "not set" (a NULL column).
 */
#ifndef CRTOKEN_RULES_TOKEN_H
#define CRTOKEN_RULES_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

/*
 * The state of a token at now. Deleted wins over used, used over expired;
 * a token expires at expires_at itself (active while now < expires_at).
 */
crt_token_state token_state_at(int64_t used_at, int64_t deleted_at, int64_t expires_at,
                               int64_t now);

/*
 * When the token stopped being active: its deletion, else its use, else its
 * expiry (the first of deleted_at, used_at, expires_at that is set — a
 * backend may write it as COALESCE(deleted_at, used_at, expires_at)). A
 * token active at now ended after now. Purge removes the tokens that ended
 * before a cutoff (token_purgeable).
 */
int64_t token_ended_at(int64_t used_at, int64_t deleted_at, int64_t expires_at);
int token_purgeable(int64_t used_at, int64_t deleted_at, int64_t expires_at, int64_t cutoff);

/*
 * The rows in state s at now, as bounds on the stored columns, so a backend
 * can filter in its query language without restating token_state_at:
 * deleted / used: -1 either, 0 must be unset (NULL), 1 must be set;
 * expires_at within [expires_min, expires_max]. s < 0 selects every row,
 * a value that is no state none.
 * token_state_bounds_match(b, ...) == (token_state_at(...) == s) for every
 * row (the unit test checks it).
 */
typedef struct token_bounds {
	int deleted, used;
	int64_t expires_min, expires_max;
} token_bounds;
void token_state_bounds(int s, int64_t now, token_bounds *b);
int token_bounds_match(const token_bounds *b, int64_t used_at, int64_t deleted_at,
                       int64_t expires_at);

/* A refusal: its status and the message for the caller (crt_errdetail). */
typedef struct token_refusal {
	crt_status status;
	char msg[256];
} token_refusal;

/*
 * Whether the token t (its stored columns; t->state is ignored) may be
 * redeemed at now by req (its user, admin flag and cn/org/ou overrides),
 * and with which subject. On CRT_OK, *cn / *org / *ou are the subject
 * fields to sign (pointing into t or req; NULL = field absent). Otherwise
 * the refusal, in this order: deleted, used, expired; another user's token;
 * an override of a field the token fixes (crt_token_overridable) as
 * field_locked; a subject the field rule refuses or without CN as
 * field_invalid.
 */
crt_status token_redeem_decide(const crt_token *t, const crt_redeem_req *req, int64_t now,
                               const char **cn, const char **org, const char **ou,
                               token_refusal *why) __attribute__((warn_unused_result));

/* The token columns a store read back when a claim found no row (present
 * = 0: no such row). */
typedef struct token_seen {
	int present;
	int64_t used_at, deleted_at, expires_at, version;
} token_seen;

/*
 * Why the claim of token id at version (the row phase 1 read), at now, won
 * no row, given what the store saw in the same transaction: purged
 * (token_unknown), deleted, used, changed by someone since phase 1 (*retry
 * = 1: read it again and redo phase 1; token_not_active), expired. A row
 * that still looks claimable was changed and changed back: retry too.
 */
crt_status token_claim_lost(const token_seen *seen, const char *id, int64_t version, int64_t now,
                            int *retry, token_refusal *why) __attribute__((warn_unused_result));

/*
 * A token's description (free text saying what the token is for): at most
 * TOKEN_DESCRIPTION_MAX bytes of valid UTF-8 on one line — no control
 * characters at all (C0 including tab, line feed and carriage return, DEL,
 * C1), since `token list` and `token show` print it on one line and a
 * terminal would act on them — and no bidirectional controls (U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which reorder what a
 * terminal shows around them. NULL and "" are no description. CRT_OK, or
 * CRT_E_DESCRIPTION_INVALID with the problem (and its byte offset) in why.
 */
#define TOKEN_DESCRIPTION_MAX 1024
crt_status token_description_check(const char *d, char *why, size_t whylen)
    __attribute__((warn_unused_result));

#endif /* CRTOKEN_RULES_TOKEN_H */
