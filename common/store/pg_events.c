/*
 * pg_events.c — the PostgreSQL backend's event verbs (port_events.h), the
 * same contracts as store/sqlite_events.c. The claim locks the rows it
 * takes with FOR UPDATE SKIP LOCKED, so claims of several nodes running at
 * once take different deliveries instead of waiting on each other. The
 * rows to take are chosen once (a MATERIALIZED CTE): as a subquery in
 * UPDATE … FROM the planner may scan them again in a join, and each scan
 * SKIPs the rows the statement itself just updated and LIMITs the next
 * ones — a claim of [events] batch = 1 then took every due delivery.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

static crt_status pg_ev_append(crt_ctx *ctx, const store_event_row *e, int *added)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	*added = 0;
	pp_text(&p, e->id);
	pp_text(&p, e->type);
	pp_int(&p, e->at);
	pp_text(&p, e->dedup);
	pp_text(&p, e->body);
	if ((r = pg_exec(ctx,
			 "INSERT INTO events(id, type, at, dedup, body) VALUES ($1, $2, $3, $4, $5) "
			 "ON CONFLICT (dedup) DO NOTHING",
			 &p, NULL, &changes, "writing the event")) != CRT_OK)
		return r;
	*added = changes > 0;
	return CRT_OK;
}

static crt_status pg_ev_unrouted(crt_ctx *ctx, int limit, store_event_ref **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	store_event_ref *rows;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_int(&p, limit);
	if ((r = pg_exec(ctx, "SELECT seq, type FROM events WHERE routed = 0 ORDER BY seq LIMIT $1",
			 &p, &res, NULL, "reading the events to route")) != CRT_OK)
		return r;
	if (pg_rows_alloc(res, sizeof(*rows), &rows, &cnt) != CRT_OK) {
		PQclear(res);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < cnt; i++) {
		rows[i].seq = pg_int(res, i, 0);
		if ((rows[i].type = pg_strdup(res, i, 1)) == NULL)
			r = CRT_E_NOMEM;
	}
	PQclear(res);
	if (r != CRT_OK) {
		store_event_refs_free(rows, (size_t)cnt);
		return r;
	}
	*out = rows;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status pg_ev_route(crt_ctx *ctx, int64_t seq, const char *const *sinks, size_t nsinks,
			      int64_t now, int *changed)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	*changed = 0;
	pp_int(&p, seq);
	if ((r = pg_exec(ctx, "UPDATE events SET routed = 1 WHERE seq = $1 AND routed = 0", &p,
			 NULL, &changes, "routing the event")) != CRT_OK)
		return r;
	if ((*changed = changes > 0) == 0)
		return CRT_OK;
	for (size_t i = 0; i < nsinks; i++) {
		pg_params q = {0};
		pp_int(&q, seq);
		pp_text(&q, sinks[i]);
		pp_int(&q, now);
		if ((r = pg_exec(ctx,
				 "INSERT INTO event_deliveries(event_seq, sink, first_at, next_at) "
				 "VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING",
				 &q, NULL, NULL, "adding a delivery")) != CRT_OK)
			return r;
	}
	return CRT_OK;
}

/* The events to route as one JSON array [{"seq":…,"sinks":[…]}, …]
 * (malloc'd), NULL when out of memory. */
static char *route_json(const store_route *ev, size_t n)
{
	json_t *a = json_array(), *o, *s;
	char *out = NULL;
	int bad = a == NULL;

	for (size_t i = 0; i < n && !bad; i++) {
		if ((o = json_object()) == NULL || (s = json_array()) == NULL) {
			json_decref(o);
			bad = 1;
			break;
		}
		bad |= json_object_set_new(o, "seq", json_integer(ev[i].seq));
		for (size_t k = 0; k < ev[i].nsinks; k++)
			bad |= json_array_append_new(s, json_string(ev[i].sinks[k]));
		bad |= json_object_set_new(o, "sinks", s);
		bad |= json_array_append_new(a, o);
	}
	if (!bad)
		out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

/* Every event of ev in one statement (one round trip): the conditional
 * UPDATE marks those still unrouted (an event another node routed first
 * is not returned: its row lock waited for, routed = 0 no longer holds),
 * and only those get their deliveries. */
static crt_status pg_ev_route_many(crt_ctx *ctx, const store_route *ev, size_t n, int64_t now,
				   size_t *routed)
{
	static const char q[] =
		"WITH x AS MATERIALIZED (SELECT * FROM json_to_recordset(CAST($1 AS json)) "
		"AS x(seq bigint, sinks json)), "
		"u AS (UPDATE events e SET routed = 1 FROM x WHERE e.seq = x.seq AND e.routed = 0 "
		"RETURNING e.seq), "
		"d AS (INSERT INTO event_deliveries(event_seq, sink, first_at, next_at) "
		"SELECT u.seq, s.sink, CAST($2 AS bigint), CAST($2 AS bigint) FROM u "
		"JOIN x ON x.seq = u.seq CROSS JOIN LATERAL json_array_elements_text(x.sinks) "
		"AS s(sink) ORDER BY u.seq ON CONFLICT DO NOTHING) "
		"SELECT count(*) FROM u";
	pg_params p = {0};
	PGresult *res;
	char *json;
	crt_status r;

	for (size_t i = 0; i < n; i++)
		if (store_fault_hit(ctx, 0))
			return store_fault_fail(ctx, "route");
	if (n == 0)
		return CRT_OK;
	if ((json = route_json(ev, n)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	pp_text(&p, json);
	pp_int(&p, now);
	r = pg_exec(ctx, q, &p, &res, NULL, "routing the events");
	free(json);
	if (r != CRT_OK)
		return r;
	*routed = PQntuples(res) == 1 ? (size_t)pg_int(res, 0, 0) : 0;
	PQclear(res);
	return CRT_OK;
}

static crt_status pg_ev_due(crt_ctx *ctx, int64_t now, int *any)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	*any = 0;
	pp_int(&p, now);
	if ((r = pg_exec(ctx,
			 "SELECT EXISTS (SELECT 1 FROM event_deliveries WHERE state = 'pending' "
			 "AND next_at <= $1 AND lease_until <= $1)",
			 &p, &res, NULL, "looking for due deliveries")) != CRT_OK)
		return r;
	*any = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return CRT_OK;
}

static crt_status pg_ev_claim(crt_ctx *ctx, const char *node, int64_t now, int64_t lease_until,
			      int limit, store_delivery_job **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	store_delivery_job *jobs;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_text(&p, node);
	pp_int(&p, lease_until);
	pp_int(&p, now);
	pp_int(&p, limit);
	if ((r = pg_exec(ctx,
			 "WITH c AS MATERIALIZED (SELECT event_seq, sink FROM event_deliveries "
			 " WHERE state = 'pending' AND next_at <= $3 AND lease_until <= $3 "
			 " ORDER BY event_seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
			 "UPDATE event_deliveries d SET lease_owner = $1, lease_until = $2 "
			 "FROM c WHERE d.event_seq = c.event_seq AND d.sink = c.sink "
			 "AND d.state = 'pending' AND d.lease_until <= $3 "
			 "RETURNING d.event_seq, d.sink, d.attempts, d.first_at, "
			 "(SELECT body FROM events e WHERE e.seq = d.event_seq)",
			 &p, &res, NULL, "claiming deliveries")) != CRT_OK)
		return r;
	if (pg_rows_alloc(res, sizeof(*jobs), &jobs, &cnt) != CRT_OK) {
		PQclear(res);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < cnt; i++) {
		jobs[i].seq = pg_int(res, i, 0);
		jobs[i].sink = pg_strdup(res, i, 1);
		jobs[i].attempts = (int)pg_int(res, i, 2);
		jobs[i].first_at = pg_int(res, i, 3);
		jobs[i].body = pg_strdup(res, i, 4);
		if (jobs[i].sink == NULL || jobs[i].body == NULL)
			r = CRT_E_NOMEM;
	}
	PQclear(res);
	if (r != CRT_OK) {
		store_delivery_jobs_free(jobs, (size_t)cnt);
		return r;
	}
	*out = jobs;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status pg_ev_finish(crt_ctx *ctx, const store_attempt *a, int *changed)
{
	pg_params p = {0}, q = {0};
	int64_t changes = 0;
	crt_status r;

	*changed = 0;
	pp_int(&p, a->seq);
	pp_text(&p, a->sink);
	pp_int(&p, a->at);
	pp_text(&p, a->node);
	pp_int(&p, a->ok);
	pp_text(&p, a->result);
	pp_int(&p, a->duration_ms);
	if ((r = pg_exec(ctx,
			 "INSERT INTO event_attempts(event_seq, sink, at, node, ok, result, "
			 "duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			 &p, NULL, NULL, "recording the attempt")) != CRT_OK)
		return r;
	pp_text(&q, a->state);
	pp_int(&q, a->next_at);
	pp_text(&q, a->result);
	pp_int(&q, a->at);
	pp_int(&q, a->seq);
	pp_text(&q, a->sink);
	pp_text(&q, a->node);
	if ((r = pg_exec(ctx,
			 "UPDATE event_deliveries SET state = $1, next_at = $2, "
			 "attempts = attempts + 1, last_result = $3, lease_owner = NULL, "
			 "lease_until = 0, done_at = CASE WHEN $1 = 'pending' THEN NULL ELSE "
			 "CAST($4 AS bigint) END "
			 "WHERE event_seq = $5 AND sink = $6 AND lease_owner = $7 AND state = 'pending'",
			 &q, NULL, &changes, "updating the delivery")) != CRT_OK)
		return r;
	*changed = changes > 0;
	return CRT_OK;
}

static crt_status pg_ev_list(crt_ctx *ctx, int pending_only, int limit, crt_event **out,
			     size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	crt_event *rows;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_int(&p, pending_only);
	pp_int(&p, limit);
	if ((r = pg_exec(ctx,
			 "SELECT seq, id, type, at, body, routed FROM events e "
			 "WHERE CAST($1 AS integer) = 0 OR e.routed = 0 OR EXISTS (SELECT 1 FROM "
			 " event_deliveries d WHERE d.event_seq = e.seq AND d.state = 'pending') "
			 "ORDER BY seq DESC LIMIT $2",
			 &p, &res, NULL, "listing the events")) != CRT_OK)
		return r;
	if (pg_rows_alloc(res, sizeof(*rows), &rows, &cnt) != CRT_OK) {
		PQclear(res);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < cnt; i++) {
		crt_event *e = &rows[i];
		e->seq = pg_int(res, i, 0);
		e->id = pg_strdup(res, i, 1);
		e->type = pg_strdup(res, i, 2);
		e->at = pg_int(res, i, 3);
		e->body = pg_strdup(res, i, 4);
		e->routed = (int)pg_int(res, i, 5);
		if (e->id == NULL || e->type == NULL || e->body == NULL)
			r = CRT_E_NOMEM;
	}
	PQclear(res);
	for (int i = 0; i < cnt && r == CRT_OK; i++) {
		pg_params q = {0};
		int nd;
		pp_int(&q, rows[i].seq);
		if ((r = pg_exec(ctx,
				 "SELECT sink, state, attempts, next_at, done_at, last_result "
				 "FROM event_deliveries WHERE event_seq = $1 ORDER BY sink",
				 &q, &res, NULL, "reading deliveries")) != CRT_OK)
			break;
		if (pg_rows_alloc(res, sizeof(crt_event_delivery), &rows[i].deliveries, &nd) !=
		    CRT_OK) {
			PQclear(res);
			r = CRT_E_NOMEM;
			break;
		}
		rows[i].ndeliveries = (size_t)nd;
		for (int k = 0; k < nd; k++) {
			crt_event_delivery *d = &rows[i].deliveries[k];
			d->sink = pg_strdup(res, k, 0);
			d->state = pg_strdup(res, k, 1);
			d->attempts = (int)pg_int(res, k, 2);
			d->next_at = pg_int(res, k, 3);
			d->done_at = pg_int(res, k, 4);
			d->last_result = pg_strdup(res, k, 5);
		}
		PQclear(res);
	}
	if (r != CRT_OK) {
		crt_event_list_free(rows, (size_t)cnt);
		return r;
	}
	*out = rows;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status pg_ev_attempts(crt_ctx *ctx, const char *id, crt_event_attempt **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	crt_event_attempt *rows;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_text(&p, id);
	if ((r = pg_exec(ctx,
			 "SELECT a.at, a.sink, a.node, a.result, a.ok, a.duration_ms "
			 "FROM event_attempts a JOIN events e ON e.seq = a.event_seq "
			 "WHERE e.id = $1 ORDER BY a.id",
			 &p, &res, NULL, "reading the attempts")) != CRT_OK)
		return r;
	if (pg_rows_alloc(res, sizeof(*rows), &rows, &cnt) != CRT_OK) {
		PQclear(res);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < cnt; i++) {
		rows[i].at = pg_int(res, i, 0);
		rows[i].sink = pg_strdup(res, i, 1);
		rows[i].node = pg_strdup(res, i, 2);
		rows[i].result = pg_strdup(res, i, 3);
		rows[i].ok = (int)pg_int(res, i, 4);
		rows[i].duration_ms = pg_int(res, i, 5);
	}
	PQclear(res);
	*out = rows;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status pg_ev_expiring(crt_ctx *ctx, int64_t now, int64_t until, const char *prefix,
				 int limit, store_expiring **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	store_expiring *rows;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_int(&p, now);
	pp_int(&p, until);
	pp_text(&p, prefix);
	pp_int(&p, limit);
	if ((r = pg_exec(ctx,
			 "SELECT c.serial, c.name, c.cn, c.username, c.token_id, t.owner, "
			 "t.owner_email, c.not_after FROM certificates c "
			 "LEFT JOIN tokens t ON t.id = c.token_id "
			 "WHERE c.revoked_at IS NULL AND c.not_after > $1 AND c.not_after <= $2 "
			 "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.dedup = $3 || c.serial) "
			 "AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.renewed_from = c.serial) "
			 "ORDER BY c.not_after, c.serial LIMIT $4",
			 &p, &res, NULL, "listing expiring certificates")) != CRT_OK)
		return r;
	if (pg_rows_alloc(res, sizeof(*rows), &rows, &cnt) != CRT_OK) {
		PQclear(res);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < cnt; i++) {
		store_expiring *e = &rows[i];
		e->serial = pg_strdup(res, i, 0);
		e->name = pg_strdup(res, i, 1);
		e->cn = pg_strdup(res, i, 2);
		e->user = pg_strdup(res, i, 3);
		e->token_id = pg_strdup(res, i, 4);
		e->owner = pg_strdup(res, i, 5);
		e->owner_email = pg_strdup(res, i, 6);
		e->not_after = pg_int(res, i, 7);
		if (e->serial == NULL)
			r = CRT_E_NOMEM;
	}
	PQclear(res);
	if (r != CRT_OK) {
		store_expiring_free(rows, (size_t)cnt);
		return r;
	}
	*out = rows;
	*n = (size_t)cnt;
	return CRT_OK;
}

const struct store_event_ops pg_event_ops = {
	.append = pg_ev_append,
	.unrouted = pg_ev_unrouted,
	.route = pg_ev_route,
	.route_many = pg_ev_route_many,
	.due = pg_ev_due,
	.claim = pg_ev_claim,
	.finish = pg_ev_finish,
	.list = pg_ev_list,
	.attempts = pg_ev_attempts,
	.expiring = pg_ev_expiring,
};
