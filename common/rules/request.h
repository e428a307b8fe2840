/*
 * rules/request.h — the certificate request rules (the approval workflow),
 * stated once as functions of values (no ctx, no store): a request's state
 * at a time, which transitions a decision may make, and the bounds a
 * backend filters a listing by. Unit-tested without a database
 * (tests/unit/test_rules_request.c).
 *
 * The stored state is one of pending, issued, denied, expired, cancelled; a pending
 * request whose expires_at has come reads expired before the scheduled
 * run marks it so (a request expires at expires_at itself).
 */
#ifndef CRTOKEN_RULES_REQUEST_H
#define CRTOKEN_RULES_REQUEST_H

#include <stdint.h>

#include "crtoken.h"

/* The state of a request stored as stored (enum crt_request_state) at now. */
int request_state_at(int stored, int64_t expires_at, int64_t now);

/* The decisions on a request. */
enum request_decision {
	REQUEST_APPROVE = 1, /* pending -> issued (the certificate made with it) */
	REQUEST_DENY,        /* pending -> denied */
	REQUEST_EXPIRE,      /* pending past its expiry -> expired */
	REQUEST_CANCEL,      /* pending -> cancelled (by its requester or an admin) */
};

/* The last state of enum crt_request_state (the range a filter may name). */
#define REQUEST_STATE_LAST CRT_REQUEST_CANCELLED

/*
 * May decision d be made on a request stored as stored with expires_at, at
 * now? CRT_OK with *to the state it leaves it in; otherwise
 * CRT_E_REQUEST_STATE and *why a static explanation ("it was denied",
 * "it expired", ...). Approve, deny and cancel need a pending request
 * before its expiry; expire needs a pending one at or after it.
 */
crt_status request_decide(int stored, int64_t expires_at, int64_t now, int d, int *to,
			  const char **why) CRT_MUST_CHECK;

/*
 * The rows a listing by state s (-1: all; approved lists the issued ones)
 * selects at now, as bounds on the stored columns: stored state (-1 any,
 * -2 none) and expires_at within [expires_min, expires_max] — except
 * stored = expired, which selects the rows stored expired OR stored
 * pending with expires_at <= expires_max.
 * request_bounds_match(b, stored, expires_at) == (request_state_at(...) ==
 * s, approved read as issued) for every row (the unit test checks it).
 */
typedef struct request_bounds {
	int stored;
	int64_t expires_min, expires_max;
} request_bounds;
void request_state_bounds(int s, int64_t now, request_bounds *b);
int request_bounds_match(const request_bounds *b, int stored, int64_t expires_at);

/* Deny reasons: 1..REQUEST_REASON_MAX bytes (the field rule checks the
 * characters). */
#define REQUEST_REASON_MAX 512

#endif /* CRTOKEN_RULES_REQUEST_H */
