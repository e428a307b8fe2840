/*
 * events.h — what the domain files share to raise an event (events.c):
 * its subject as values and the append inside the caller's transaction.
 */
#ifndef CRTOKEN_EVENTS_H
#define CRTOKEN_EVENTS_H

#include "crtoken.h"

/* What an event is about; NULL / 0 fields are left out of the JSON. */
typedef struct event_subject {
	const char *token_id, *token_name, *owner, *owner_email;
	const char *serial, *common_name, *subject, *user, *reason;
	const char *request_id; /* a certificate request (the approval workflow) */
	int64_t not_after, locked_until;
} event_subject;

/* The body of a new event of type by actor at at: a fresh id (into id)
 * and the JSON (*body, malloc'd). */
crt_status event_make(const char *type, const char *actor, int64_t at, const event_subject *s,
		      char id[CRT_ID_LEN], char **body) CRT_MUST_CHECK;
/* Append a new event inside the caller's write transaction. dedup: NULL,
 * or a key no other event carries (then *added says whether it was new;
 * added may be NULL). */
crt_status event_emit(crt_ctx *ctx, const char *type, const char *actor, const event_subject *s,
		      const char *dedup, int *added) CRT_MUST_CHECK;

/*
 * crt_events_check_expiring for the scheduled run (maintain.c): the same
 * check, once per certificate whatever the number of runs or nodes (the
 * event's dedup key is unique in the outbox); audit_none = 0 writes no
 * events.check_expiring row when nothing was raised (an hourly run would
 * otherwise add one every hour).
 */
crt_status events_check_expiring(crt_ctx *ctx, int64_t window, const char *actor,
				 int audit_none, size_t *raised) CRT_MUST_CHECK;

#endif /* CRTOKEN_EVENTS_H */
