/*
 * rules/staleness.h — how far behind its primary a reader may be, a pure
 * function of values (no ctx, no store): the heartbeat the writers keep in
 * meta('heartbeat'), as the reader's copy of the store has it, against the
 * reader's clock and [store] max_staleness. A standby whose replay stopped
 * (a cut WAN link, a paused replay) keeps admitting from what it has until
 * the bound passes, then refuses: a revocation made on the primary can be
 * missed for at most that long. Unit-tested without a database:
 * tests/unit/test_rules_staleness.c.
 */
#ifndef CRTOKEN_RULES_STALENESS_H
#define CRTOKEN_RULES_STALENESS_H

#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

/* What a backend reports when it keeps no heartbeat for this reader (SQLite:
 * the reader reads the file the writers write; a writer session). */
#define HEARTBEAT_NONE (-1)

/* CRT_OK when the reader may answer from its copy; CRT_E_STORE_STALE with
 * why (a sentence) when max_staleness (seconds, > 0) is set and the
 * heartbeat is missing (0: never written) or older than that at now. */
crt_status staleness_decide(int64_t now, int64_t heartbeat, int max_staleness, char *why,
			    size_t n);

#endif /* CRTOKEN_RULES_STALENESS_H */
