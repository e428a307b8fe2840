/*
 * sqlite_events.c — the SQLite backend's event verbs (port_events.h): the
 * outbox, routing, the delivery lease, attempts, and the expiring-
 * certificate query of the daily check.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"

static crt_status sq_ev_append(crt_ctx *ctx, const store_event_row *e, int *added)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*added = 0;
	if ((r = store_prepare(ctx,
			       "INSERT INTO events(id, type, at, dedup, body) VALUES (?, ?, ?, ?, ?) "
			       "ON CONFLICT(dedup) DO NOTHING",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, e->id);
	store_bind_text(st, 2, e->type);
	sqlite3_bind_int64(st, 3, e->at);
	store_bind_text(st, 4, e->dedup);
	store_bind_text(st, 5, e->body);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "writing the event");
	*added = sqlite3_changes(sq_db(ctx));
	return CRT_OK;
}

static crt_status sq_ev_unrouted(crt_ctx *ctx, int limit, store_event_ref **out, size_t *n)
{
	sqlite3_stmt *st;
	store_event_ref *rows = NULL;
	size_t cnt = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx,
			       "SELECT seq, type FROM events WHERE routed = 0 ORDER BY seq LIMIT ?",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int(st, 1, limit);
	if ((rows = calloc((size_t)limit, sizeof(*rows))) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows[cnt].seq = sqlite3_column_int64(st, 0);
		if ((rows[cnt++].type = store_col_strdup(st, 1)) == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading the events to route");
		goto out;
	}
	*out = cnt > 0 ? rows : NULL; /* no rows: NULL, as every list verb answers */
	*n = cnt;
	if (cnt == 0)
		free(rows);
	rows = NULL;
out:
	store_done(st);
	store_event_refs_free(rows, cnt);
	return r;
}

static crt_status sq_ev_route(crt_ctx *ctx, int64_t seq, const char *const *sinks, size_t nsinks,
			      int64_t now, int *changed)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*changed = 0;
	if ((r = store_prepare(ctx, "UPDATE events SET routed = 1 WHERE seq = ? AND routed = 0",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "routing the event");
	if ((*changed = sqlite3_changes(sq_db(ctx))) == 0)
		return CRT_OK;
	for (size_t i = 0; i < nsinks; i++) {
		if ((r = store_prepare(ctx,
				       "INSERT INTO event_deliveries(event_seq, sink, first_at, "
				       "next_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT DO NOTHING",
				       &st)) != CRT_OK)
			return r;
		sqlite3_bind_int64(st, 1, seq);
		store_bind_text(st, 2, sinks[i]);
		sqlite3_bind_int64(st, 3, now);
		rc = sqlite3_step(st);
		store_done(st);
		if (rc != SQLITE_DONE)
			return store_error(ctx, rc, "adding a delivery");
	}
	return CRT_OK;
}

static crt_status sq_ev_route_many(crt_ctx *ctx, const store_route *ev, size_t n, int64_t now,
				   size_t *routed)
{
	crt_status r;
	int changed;

	for (size_t i = 0; i < n; i++) {
		if (store_fault_hit(ctx, 0))
			return store_fault_fail(ctx, "route");
		if ((r = sq_ev_route(ctx, ev[i].seq, ev[i].sinks, ev[i].nsinks, now, &changed)) !=
		    CRT_OK)
			return r;
		*routed += (size_t)changed;
	}
	return CRT_OK;
}

static crt_status sq_ev_due(crt_ctx *ctx, int64_t now, int *any)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*any = 0;
	if ((r = store_prepare(ctx,
			       "SELECT EXISTS (SELECT 1 FROM event_deliveries WHERE state = 'pending' "
			       "AND next_at <= ?1 AND lease_until <= ?1)",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*any = sqlite3_column_int(st, 0);
	store_done(st);
	if (rc != SQLITE_ROW)
		return store_error(ctx, rc, "looking for due deliveries");
	return CRT_OK;
}

static crt_status sq_ev_claim(crt_ctx *ctx, const char *node, int64_t now, int64_t lease_until,
			      int limit, store_delivery_job **out, size_t *n)
{
	sqlite3_stmt *st, *body;
	store_delivery_job *jobs = NULL;
	size_t cnt = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	/* One statement takes the lease: the inner select and the outer guard
	 * both ask for an expired lease, so a row is never held twice. */
	if ((r = store_prepare(ctx,
			       "UPDATE event_deliveries SET lease_owner = ?1, lease_until = ?2 "
			       "WHERE rowid IN (SELECT rowid FROM event_deliveries "
			       " WHERE state = 'pending' AND next_at <= ?3 AND lease_until <= ?3 "
			       " ORDER BY event_seq LIMIT ?4) "
			       "AND state = 'pending' AND lease_until <= ?3 "
			       "RETURNING event_seq, sink, attempts, first_at",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, node);
	sqlite3_bind_int64(st, 2, lease_until);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int(st, 4, limit);
	if ((jobs = calloc((size_t)limit, sizeof(*jobs))) == NULL) {
		store_done(st);
		return CRT_E_NOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && cnt < (size_t)limit) {
		store_delivery_job *j = &jobs[cnt++];
		j->seq = sqlite3_column_int64(st, 0);
		j->sink = store_col_strdup(st, 1);
		j->attempts = sqlite3_column_int(st, 2);
		j->first_at = sqlite3_column_int64(st, 3);
		if (j->sink == NULL)
			r = CRT_E_NOMEM;
	}
	/* RETURNING rows come out while the statement runs: step it to the end. */
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "claiming deliveries");
		goto out;
	}
	if (r != CRT_OK)
		goto out;
	if ((r = store_prepare(ctx, "SELECT body FROM events WHERE seq = ?", &body)) != CRT_OK)
		goto out;
	for (size_t i = 0; i < cnt; i++) {
		sqlite3_bind_int64(body, 1, jobs[i].seq);
		rc = sqlite3_step(body);
		if (rc == SQLITE_ROW)
			jobs[i].body = store_col_strdup(body, 0);
		sqlite3_reset(body);
		if (rc != SQLITE_ROW) {
			r = rc == SQLITE_DONE ? ctx_fail(ctx, CRT_E_STORE, "event %lld has no row",
							 (long long)jobs[i].seq)
					      : store_error(ctx, rc, "reading the event");
			break;
		}
		if (jobs[i].body == NULL) {
			r = CRT_E_NOMEM;
			break;
		}
	}
	store_done(body);
	if (r != CRT_OK)
		goto out;
	*out = cnt > 0 ? jobs : NULL;
	*n = cnt;
	if (cnt == 0)
		free(jobs);
	jobs = NULL;
out:
	store_delivery_jobs_free(jobs, cnt);
	return r;
}

static crt_status sq_ev_finish(crt_ctx *ctx, const store_attempt *a, int *changed)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*changed = 0;
	if ((r = store_prepare(ctx,
			       "INSERT INTO event_attempts(event_seq, sink, at, node, ok, result, "
			       "duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, a->seq);
	store_bind_text(st, 2, a->sink);
	sqlite3_bind_int64(st, 3, a->at);
	store_bind_text(st, 4, a->node);
	sqlite3_bind_int(st, 5, a->ok);
	store_bind_text(st, 6, a->result);
	sqlite3_bind_int64(st, 7, a->duration_ms);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "recording the attempt");
	if ((r = store_prepare(ctx,
			       "UPDATE event_deliveries SET state = ?1, next_at = ?2, "
			       "attempts = attempts + 1, last_result = ?3, lease_owner = NULL, "
			       "lease_until = 0, done_at = CASE WHEN ?1 = 'pending' THEN NULL ELSE ?4 END "
			       "WHERE event_seq = ?5 AND sink = ?6 AND lease_owner = ?7 "
			       "AND state = 'pending'",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, a->state);
	sqlite3_bind_int64(st, 2, a->next_at);
	store_bind_text(st, 3, a->result);
	sqlite3_bind_int64(st, 4, a->at);
	sqlite3_bind_int64(st, 5, a->seq);
	store_bind_text(st, 6, a->sink);
	store_bind_text(st, 7, a->node);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "updating the delivery");
	*changed = sqlite3_changes(sq_db(ctx));
	return CRT_OK;
}

/* The deliveries of events[0..n) (matched by seq). */
static crt_status load_deliveries(crt_ctx *ctx, crt_event *ev, size_t n)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc = SQLITE_DONE;

	if ((r = store_prepare(ctx,
			       "SELECT sink, state, attempts, next_at, done_at, last_result "
			       "FROM event_deliveries WHERE event_seq = ? ORDER BY sink",
			       &st)) != CRT_OK)
		return r;
	for (size_t i = 0; i < n && r == CRT_OK; i++) {
		size_t cap = 0;
		sqlite3_bind_int64(st, 1, ev[i].seq);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (array_grow(&ev[i].deliveries, &cap, ev[i].ndeliveries,
				       sizeof(crt_event_delivery)) != 0) {
				r = CRT_E_NOMEM;
				break;
			}
			crt_event_delivery *d = &ev[i].deliveries[ev[i].ndeliveries++];
			memset(d, 0, sizeof(*d));
			d->sink = store_col_strdup(st, 0);
			d->state = store_col_strdup(st, 1);
			d->attempts = sqlite3_column_int(st, 2);
			d->next_at = sqlite3_column_int64(st, 3);
			d->done_at = sqlite3_column_int64(st, 4);
			d->last_result = store_col_strdup(st, 5);
		}
		sqlite3_reset(st);
		if (r == CRT_OK && rc != SQLITE_DONE)
			r = store_error(ctx, rc, "reading deliveries");
	}
	store_done(st);
	return r;
}

static crt_status sq_ev_list(crt_ctx *ctx, int pending_only, int limit, crt_event **out,
			     size_t *n)
{
	sqlite3_stmt *st;
	crt_event *rows = NULL;
	size_t cnt = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx,
			       "SELECT seq, id, type, at, body, routed FROM events e "
			       "WHERE ?1 = 0 OR e.routed = 0 OR EXISTS (SELECT 1 FROM "
			       " event_deliveries d WHERE d.event_seq = e.seq AND d.state = 'pending') "
			       "ORDER BY seq DESC LIMIT ?2",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int(st, 1, pending_only);
	sqlite3_bind_int(st, 2, limit);
	if ((rows = calloc((size_t)limit, sizeof(*rows))) == NULL) {
		store_done(st);
		return CRT_E_NOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		crt_event *e = &rows[cnt++];
		e->seq = sqlite3_column_int64(st, 0);
		e->id = store_col_strdup(st, 1);
		e->type = store_col_strdup(st, 2);
		e->at = sqlite3_column_int64(st, 3);
		e->body = store_col_strdup(st, 4);
		e->routed = sqlite3_column_int(st, 5);
		if (e->id == NULL || e->type == NULL || e->body == NULL)
			r = CRT_E_NOMEM;
	}
	store_done(st);
	if (rc != SQLITE_DONE)
		r = store_error(ctx, rc, "listing the events");
	if (r == CRT_OK)
		r = load_deliveries(ctx, rows, cnt);
	if (r != CRT_OK) {
		crt_event_list_free(rows, cnt);
		return r;
	}
	*out = cnt > 0 ? rows : NULL;
	*n = cnt;
	if (cnt == 0)
		free(rows);
	return CRT_OK;
}

static crt_status sq_ev_attempts(crt_ctx *ctx, const char *id, crt_event_attempt **out, size_t *n)
{
	sqlite3_stmt *st;
	crt_event_attempt *rows = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx,
			       "SELECT a.at, a.sink, a.node, a.result, a.ok, a.duration_ms "
			       "FROM event_attempts a JOIN events e ON e.seq = a.event_seq "
			       "WHERE e.id = ? ORDER BY a.id",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&rows, &cap, cnt, sizeof(*rows)) != 0) {
			r = CRT_E_NOMEM;
			break;
		}
		crt_event_attempt *a = &rows[cnt++];
		memset(a, 0, sizeof(*a));
		a->at = sqlite3_column_int64(st, 0);
		a->sink = store_col_strdup(st, 1);
		a->node = store_col_strdup(st, 2);
		a->result = store_col_strdup(st, 3);
		a->ok = sqlite3_column_int(st, 4);
		a->duration_ms = sqlite3_column_int64(st, 5);
	}
	store_done(st);
	if (r == CRT_OK && rc != SQLITE_DONE)
		r = store_error(ctx, rc, "reading the attempts");
	if (r != CRT_OK) {
		crt_event_attempts_free(rows, cnt);
		return r;
	}
	*out = rows;
	*n = cnt;
	return CRT_OK;
}

static crt_status sq_ev_expiring(crt_ctx *ctx, int64_t now, int64_t until, const char *prefix,
				 int limit, store_expiring **out, size_t *n)
{
	sqlite3_stmt *st;
	store_expiring *rows = NULL;
	size_t cnt = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx,
			       "SELECT c.serial, c.name, c.cn, c.username, c.token_id, t.owner, "
			       "t.owner_email, c.not_after FROM certificates c "
			       "LEFT JOIN tokens t ON t.id = c.token_id "
			       "WHERE c.revoked_at IS NULL AND c.not_after > ?1 AND c.not_after <= ?2 "
			       "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.dedup = ?3 || c.serial) "
			       "AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.renewed_from = c.serial) "
			       "ORDER BY c.not_after, c.serial LIMIT ?4",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, until);
	store_bind_text(st, 3, prefix);
	sqlite3_bind_int(st, 4, limit);
	if ((rows = calloc((size_t)limit, sizeof(*rows))) == NULL) {
		store_done(st);
		return CRT_E_NOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_expiring *e = &rows[cnt++];
		e->serial = store_col_strdup(st, 0);
		e->name = store_col_strdup(st, 1);
		e->cn = store_col_strdup(st, 2);
		e->user = store_col_strdup(st, 3);
		e->token_id = store_col_strdup(st, 4);
		e->owner = store_col_strdup(st, 5);
		e->owner_email = store_col_strdup(st, 6);
		e->not_after = sqlite3_column_int64(st, 7);
		if (e->serial == NULL)
			r = CRT_E_NOMEM;
	}
	store_done(st);
	if (rc != SQLITE_DONE)
		r = store_error(ctx, rc, "listing expiring certificates");
	if (r != CRT_OK) {
		store_expiring_free(rows, cnt);
		return r;
	}
	*out = cnt > 0 ? rows : NULL;
	*n = cnt;
	if (cnt == 0)
		free(rows);
	return CRT_OK;
}

const struct store_event_ops sqlite_event_ops = {
	.append = sq_ev_append,
	.unrouted = sq_ev_unrouted,
	.route = sq_ev_route,
	.route_many = sq_ev_route_many,
	.due = sq_ev_due,
	.claim = sq_ev_claim,
	.finish = sq_ev_finish,
	.list = sq_ev_list,
	.attempts = sq_ev_attempts,
	.expiring = sq_ev_expiring,
};
