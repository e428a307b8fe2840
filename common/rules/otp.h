/*
 * rules/otp.h — the OTP decision, stated once as a function of values:
 * one user's stored state, the code typed, the time, the window, the
 * record's parameters and the lockout policy → an outcome and the state to
 * store. No ctx and no store: common/otp.c loads the state (row locked),
 * asks otp_decide and stores what it answers, in one transaction.
 *
 * The rule:
 *  - While locked (locked_until > now) no code is looked at: OTP_LOCKED and
 *    the state stays as it is (nothing to write).
 *  - A lockout that is over starts a fresh series of attempts (failures
 *    back to 0); the lockouts in a row still count.
 *  - A code is well formed when it is exactly `digits` ASCII digits; a
 *    malformed code is a wrong code (counted), and no HMAC is computed.
 *  - The steps now/period - window ... + window are tried nearest first
 *    (0, -1, +1, -2, +2, ...; negative steps skipped). A match on a step
 *    after last_step is OTP_ACCEPTED: last_step becomes that step and the
 *    counters clear. A code that matches only steps at or before last_step
 *    is OTP_REPLAYED (an earlier step in the window as well as the same
 *    one). Anything else is OTP_BAD_CODE.
 *  - A replay or a bad code counts a failure; max_failures in a row lock
 *    the user for lockout_seconds, each further lockout without a success
 *    in between twice as long as the one before, up to lockout_max_seconds
 *    (never less than lockout_seconds).
 */
#ifndef CRTOKEN_RULES_OTP_H
#define CRTOKEN_RULES_OTP_H

#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

typedef struct otp_policy {
	int max_failures;            /* >= 1 */
	int64_t lockout_seconds;     /* the first lockout */
	int64_t lockout_max_seconds; /* the cap of the doubling */
} otp_policy;

/* One user's replay and lockout state, as stored. */
typedef struct otp_state {
	int64_t last_step; /* the last accepted time step, -1 if none */
	crt_otp_lockout lk;
} otp_state;

typedef enum otp_outcome {
	OTP_ACCEPTED,
	OTP_BAD_CODE,
	OTP_REPLAYED,
	OTP_LOCKED,
} otp_outcome;

/* The code of time step `step` for the user's secret, digits + 1 bytes into
 * out (the caller's HMAC: rules never see the secret). Called only when
 * the code is looked at; a failure (its status) aborts the decision. */
typedef crt_status (*otp_code_fn)(void *arg, uint64_t step, char *out, size_t outlen);

typedef struct otp_attempt {
	const char *code; /* as typed: may be NULL or malformed */
	int64_t now;      /* seconds since 1970, >= 0 */
	int window;       /* steps tried either side, >= 0 */
	int digits;       /* of the record: 6 or 8 */
	int period;       /* of the record: seconds, > 0 */
} otp_attempt;

typedef struct otp_verdict {
	otp_outcome outcome;
	otp_state next;          /* the state to store (equal to the input when locked) */
	int write;               /* 1 when next must be stored (every outcome but locked) */
	int offset;              /* the step matched, from now's step (accepted, replayed) */
	int64_t lockout_started; /* seconds of the lockout this attempt started, 0 if none */
} otp_verdict;

/* 1 if counters lk are locked at now. */
int otp_is_locked(const crt_otp_lockout *lk, int64_t now);
/* Apply one attempt made at now while not locked (success: the code
 * matched a fresh step) to lk. Returns the length in seconds of the
 * lockout this attempt started, 0 if none. */
int64_t otp_lockout_step(const otp_policy *p, crt_otp_lockout *lk, int success, int64_t now);
/* 1 if code is exactly digits ASCII digits. */
int otp_code_wellformed(const char *code, int digits);
/*
 * The decision for attempt a on state s under policy p; code_of(arg, ...)
 * computes the expected codes. CRT_OK and *v filled, or the status of a
 * failed code_of (or CRT_E_INVALID_ARGUMENT for an attempt outside the
 * contract above), *v then undefined: nothing must be stored or accepted.
 */
crt_status otp_decide(const otp_state *s, const otp_attempt *a, const otp_policy *p,
		      otp_code_fn code_of, void *arg, otp_verdict *v)
	__attribute__((warn_unused_result));

#endif /* CRTOKEN_RULES_OTP_H */
