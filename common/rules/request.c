/*
 * rules/request.c — the certificate request rules (rules/request.h).
 */
#include <stddef.h>
#include <string.h>

#include "rules/request.h"

static const char *const state_names[] = {
	[CRT_REQUEST_PENDING] = "pending", [CRT_REQUEST_APPROVED] = "approved",
	[CRT_REQUEST_DENIED] = "denied",   [CRT_REQUEST_ISSUED] = "issued",
	[CRT_REQUEST_EXPIRED] = "expired", [CRT_REQUEST_CANCELLED] = "cancelled",
};
#define NSTATES ((int)(sizeof(state_names) / sizeof(state_names[0])))

const char *crt_request_state_name(int state)
{
	return state >= 0 && state < NSTATES ? state_names[state] : "unknown";
}

int crt_request_state_parse(const char *name)
{
	for (int i = 0; name != NULL && i < NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

int request_state_at(int stored, int64_t expires_at, int64_t now)
{
	if (stored == CRT_REQUEST_PENDING && now >= expires_at)
		return CRT_REQUEST_EXPIRED;
	return stored;
}

crt_status request_decide(int stored, int64_t expires_at, int64_t now, int d, int *to,
			  const char **why)
{
	int st = request_state_at(stored, expires_at, now);

	*why = NULL;
	*to = stored;
	if (d == REQUEST_EXPIRE) {
		if (stored == CRT_REQUEST_PENDING && st == CRT_REQUEST_EXPIRED) {
			*to = CRT_REQUEST_EXPIRED;
			return CRT_OK;
		}
		*why = stored == CRT_REQUEST_PENDING ? "it has not expired yet"
						     : "it is no longer pending";
		return CRT_E_REQUEST_STATE;
	}
	switch (st) {
	case CRT_REQUEST_PENDING:
		if (d == REQUEST_APPROVE) {
			*to = CRT_REQUEST_ISSUED;
			return CRT_OK;
		}
		if (d == REQUEST_DENY) {
			*to = CRT_REQUEST_DENIED;
			return CRT_OK;
		}
		if (d == REQUEST_CANCEL) {
			*to = CRT_REQUEST_CANCELLED;
			return CRT_OK;
		}
		*why = "no such decision";
		return CRT_E_INVALID_ARGUMENT;
	case CRT_REQUEST_ISSUED:
	case CRT_REQUEST_APPROVED:
		*why = "it was approved already and its certificate issued";
		break;
	case CRT_REQUEST_DENIED:
		*why = "it was denied";
		break;
	case CRT_REQUEST_EXPIRED:
		*why = "it expired before anyone decided";
		break;
	case CRT_REQUEST_CANCELLED:
		*why = "it was cancelled";
		break;
	default:
		*why = "its stored state is unknown";
		break;
	}
	return CRT_E_REQUEST_STATE;
}

void request_state_bounds(int s, int64_t now, request_bounds *b)
{
	b->stored = -1;
	b->expires_min = INT64_MIN;
	b->expires_max = INT64_MAX;
	switch (s) {
	case -1:
		return;
	case CRT_REQUEST_PENDING: /* pending and not yet at its expiry */
		b->stored = CRT_REQUEST_PENDING;
		b->expires_min = now + 1;
		return;
	case CRT_REQUEST_APPROVED:
	case CRT_REQUEST_ISSUED:
		b->stored = CRT_REQUEST_ISSUED;
		return;
	case CRT_REQUEST_DENIED:
	case CRT_REQUEST_CANCELLED:
		b->stored = s;
		return;
	case CRT_REQUEST_EXPIRED:
		/* expired as stored, or pending past its expiry: the backend
		 * reads stored = EXPIRED_OR_DUE as (expired) or (pending and
		 * expires_at <= expires_max) */
		b->stored = CRT_REQUEST_EXPIRED;
		b->expires_max = now;
		return;
	default: /* no state: nothing */
		b->stored = -2;
		return;
	}
}

int request_bounds_match(const request_bounds *b, int stored, int64_t expires_at)
{
	if (b->stored == -1)
		return 1;
	if (b->stored == CRT_REQUEST_EXPIRED)
		return stored == CRT_REQUEST_EXPIRED ||
		       (stored == CRT_REQUEST_PENDING && expires_at <= b->expires_max);
	return stored == b->stored && expires_at >= b->expires_min &&
	       expires_at <= b->expires_max;
}
