/*
 * port_events.h — the storage port's event verbs: the outbox (one row per
 * event, appended inside the transaction of the change it reports), its
 * routing to sinks, the delivery lease and every attempt. Included by
 * store/port.h; implemented by store/sqlite_events.c and store/pg_events.c.
 *
 * At-least-once: a delivery is claimed with a lease (a conditional UPDATE
 * of rows whose lease ran out: two nodes never hold one at a time); a node
 * that dies while sending leaves the lease to run out and another sends it
 * again. Only the holder of the lease may finish it.
 */
#ifndef CRTOKEN_STORE_PORT_EVENTS_H
#define CRTOKEN_STORE_PORT_EVENTS_H

/* One event to append: the domain built every value (body: the JSON sent). */
typedef struct store_event_row {
	const char *id;    /* "event-<uuid>" */
	const char *type;  /* "token.created" ... */
	int64_t at;
	const char *dedup; /* NULL, or a key no second event may carry */
	const char *body;
} store_event_row;

/* An event not yet routed to its sinks. */
typedef struct store_event_ref {
	int64_t seq;
	char *type;
} store_event_ref;

/* One event to route (route_many): its sequence number and the names of
 * the sinks whose filter takes it. */
typedef struct store_route {
	int64_t seq;
	const char *const *sinks;
	size_t nsinks;
} store_route;

/* A delivery this node holds the lease of, with what it needs to send. */
typedef struct store_delivery_job {
	int64_t seq;
	char *sink;
	int attempts;     /* made before this one */
	int64_t first_at; /* when the delivery was routed (the give-up clock) */
	char *body;
} store_delivery_job;
void store_delivery_jobs_free(store_delivery_job *j, size_t n);
void store_event_refs_free(store_event_ref *r, size_t n);

/* The outcome of one attempt, and what becomes of the delivery. */
typedef struct store_attempt {
	int64_t seq;
	const char *sink;
	const char *node;
	int64_t at;
	int ok;
	const char *result;  /* "HTTP 200", "exit 0", "connect: refused" ... */
	int64_t duration_ms;
	const char *state;   /* "pending" (retry at next_at), "delivered", "failed" */
	int64_t next_at;
} store_attempt;

/* A certificate the daily check may raise certificate.expiring for. */
typedef struct store_expiring {
	char *serial, *name, *cn, *user, *token_id, *owner, *owner_email;
	int64_t not_after;
} store_expiring;
void store_expiring_free(store_expiring *e, size_t n);

struct store_event_ops {
	/* Append e inside the caller's write transaction. *added: 1, or 0 when
	 * e->dedup is taken (nothing written). */
	crt_status (*append)(crt_ctx *ctx, const store_event_row *e, int *added);
	/* Up to limit events never routed, oldest first. */
	crt_status (*unrouted)(crt_ctx *ctx, int limit, store_event_ref **out, size_t *n);
	/* Mark event seq routed — only if it was not (*changed = the row
	 * count) — and, when it was this call that did, add one pending
	 * delivery per sink name (due at now). Inside a write transaction. */
	crt_status (*route)(crt_ctx *ctx, int64_t seq, const char *const *sinks, size_t nsinks,
			    int64_t now, int *changed);
	/* route for each of the n events in turn (inside the caller's write
	 * transaction); *routed = how many this call routed (an event another
	 * writer routed first adds nothing). PostgreSQL: one statement for
	 * them all. Each event passes the fault seam ("route"). */
	crt_status (*route_many)(crt_ctx *ctx, const store_route *ev, size_t n, int64_t now,
				 size_t *routed);
	/* *any = 1 when some pending delivery is due at now with its lease run
	 * out (a read: lets a pass with nothing to do skip the write). */
	crt_status (*due)(crt_ctx *ctx, int64_t now, int *any);
	/* Take the lease (node, until lease_until) of up to limit pending
	 * deliveries due at now whose lease ran out, oldest event first, in one
	 * statement; *out the jobs (store_delivery_jobs_free). */
	crt_status (*claim)(crt_ctx *ctx, const char *node, int64_t now, int64_t lease_until,
			    int limit, store_delivery_job **out, size_t *n);
	/* Record attempt a and set the delivery's state, next_at, attempts + 1,
	 * releasing the lease — the state only while a->node still holds the
	 * lease (*changed = 0: another node took it over; the attempt is
	 * recorded all the same). Inside a write transaction. */
	crt_status (*finish)(crt_ctx *ctx, const store_attempt *a, int *changed);
	/* Newest first, at most limit; pending_only: events not routed yet or
	 * with a delivery still pending. With their deliveries. */
	crt_status (*list)(crt_ctx *ctx, int pending_only, int limit, crt_event **out, size_t *n);
	/* The attempts of the event with id, oldest first (none: *n = 0). */
	crt_status (*attempts)(crt_ctx *ctx, const char *id, crt_event_attempt **out, size_t *n);
	/* Unrevoked certificates with now < not_after <= until, not renewed
	 * (no certificate names them in renewed_from: the successor is the one
	 * to remind of) and no event whose dedup is dedup_prefix + serial,
	 * with their token's owner. */
	crt_status (*expiring)(crt_ctx *ctx, int64_t now, int64_t until, const char *dedup_prefix,
			       int limit, store_expiring **out, size_t *n);
};

static inline crt_status __attribute__((warn_unused_result))
store_event_append(crt_ctx *ctx, const store_event_row *e, int *added)
{
	return STORE_CALL(ctx, events, append, e, added);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_unrouted(crt_ctx *ctx, int limit, store_event_ref **out, size_t *n)
{
	return STORE_CALL(ctx, events, unrouted, limit, out, n);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_route(crt_ctx *ctx, int64_t seq, const char *const *sinks, size_t nsinks, int64_t now,
		  int *changed)
{
	return STORE_CALL(ctx, events, route, seq, sinks, nsinks, now, changed);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_route_many(crt_ctx *ctx, const store_route *ev, size_t n, int64_t now, size_t *routed)
{
	*routed = 0;
	return STORE_CALL(ctx, events, route_many, ev, n, now, routed);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_due(crt_ctx *ctx, int64_t now, int *any)
{
	return STORE_CALL(ctx, events, due, now, any);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_claim(crt_ctx *ctx, const char *node, int64_t now, int64_t lease_until, int limit,
		  store_delivery_job **out, size_t *n)
{
	return STORE_CALL(ctx, events, claim, node, now, lease_until, limit, out, n);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_finish(crt_ctx *ctx, const store_attempt *a, int *changed)
{
	return STORE_CALL(ctx, events, finish, a, changed);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_list(crt_ctx *ctx, int pending_only, int limit, crt_event **out, size_t *n)
{
	return STORE_CALL(ctx, events, list, pending_only, limit, out, n);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_attempts(crt_ctx *ctx, const char *id, crt_event_attempt **out, size_t *n)
{
	return STORE_CALL(ctx, events, attempts, id, out, n);
}
static inline crt_status __attribute__((warn_unused_result))
store_event_expiring(crt_ctx *ctx, int64_t now, int64_t until, const char *dedup_prefix,
		     int limit, store_expiring **out, size_t *n)
{
	return STORE_CALL(ctx, events, expiring, now, until, dedup_prefix, limit, out, n);
}
#endif /* CRTOKEN_STORE_PORT_EVENTS_H */
