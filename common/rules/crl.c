/*
 * rules/crl.c — the CRL freshness rule (rules/crl.h, crt_crl_stale in
 * crtoken.h). A published CRL is re-signed when none exists, when another
 * CA signed it, when it misses a newer revocation (revocations are numbered
 * by certificates.revoked_seq, so two in one second are told apart), once
 * the last quarter before its nextUpdate has begun, or when its thisUpdate
 * lies in the future (a clock set back).
 */
#include <string.h>

#include "rules/crl.h"

int crt_crl_stale(const crt_crl_meta *m, int64_t newest_revocation, const char *ca_sha256,
		  int64_t now, const char **why)
{
	const char *w = NULL;

	if (m == NULL || m->number <= 0)
		w = CRL_STALE_NONE;
	else if (ca_sha256 != NULL && strcmp(ca_sha256, m->ca_sha256) != 0)
		w = CRL_STALE_OTHER_CA;
	else if (newest_revocation > m->revocations)
		w = CRL_STALE_NEWER_REVOCATION;
	else if (now >= m->next_update - (m->next_update - m->this_update) / 4)
		w = CRL_STALE_NEXT_UPDATE_NEAR;
	else if (now < m->this_update)
		w = CRL_STALE_FUTURE;
	if (why != NULL)
		*why = w;
	return w != NULL;
}
