/*
 * rules/staleness.c — the staleness bound of a store reader (see
 * rules/staleness.h).
 */
#include <stdio.h>

#include "rules/staleness.h"

crt_status staleness_decide(int64_t now, int64_t heartbeat, int max_staleness, char *why,
			    size_t n)
{
	if (max_staleness <= 0 || heartbeat == HEARTBEAT_NONE)
		return CRT_OK;
	if (heartbeat <= 0) {
		snprintf(why, n,
			 "the heartbeat was never written (max_staleness = %d s needs crtokend or "
			 "`crtoken-admin store heartbeat` keeping it fresh)",
			 max_staleness);
		return CRT_E_STORE_STALE;
	}
	if (now - heartbeat > max_staleness) {
		snprintf(why, n,
			 "the store's heartbeat is %lld s old, more than max_staleness = %d s: "
			 "replication from the primary has stopped or lags",
			 (long long)(now - heartbeat), max_staleness);
		return CRT_E_STORE_STALE;
	}
	return CRT_OK;
}
