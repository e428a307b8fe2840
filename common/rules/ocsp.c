/*
 * rules/ocsp.c — the OCSP status decision (see rules/ocsp.h).
 */
#include <string.h>

#include "rules/ocsp.h"

ocsp_state ocsp_decide(int issuer_ours, const char *ca_issuer, const ocsp_row *row,
		       int64_t *revoked_at, int *reason)
{
	*revoked_at = 0;
	*reason = -1;
	if (!issuer_ours || row == NULL || !row->found)
		return OCSP_STATE_UNKNOWN;
	if (ca_issuer == NULL || row->issuer == NULL || strcmp(ca_issuer, row->issuer) != 0)
		return OCSP_STATE_UNKNOWN;
	if (row->revoked) {
		*revoked_at = row->revoked_at;
		*reason = row->reason > 0 ? row->reason : -1;
		return OCSP_STATE_REVOKED;
	}
	return OCSP_STATE_GOOD;
}

int64_t ocsp_next_update(int64_t now, int64_t validity)
{
	return validity > 0 ? now + validity : now;
}
