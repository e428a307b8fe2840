/*
 * events.c — the event outbox on the domain side: the body of an event
 * (built here from values, never from a secret), its append inside the
 * caller's transaction, the daily certificate.expiring check, and the
 * listing. Delivery is events_deliver.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "internal.h"

void store_event_refs_free(store_event_ref *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++)
		free(r[i].type);
	free(r);
}

void store_delivery_jobs_free(store_delivery_job *j, size_t n)
{
	for (size_t i = 0; j != NULL && i < n; i++) {
		free(j[i].sink);
		free(j[i].body);
	}
	free(j);
}

void store_expiring_free(store_expiring *e, size_t n)
{
	for (size_t i = 0; e != NULL && i < n; i++) {
		free(e[i].serial);
		free(e[i].name);
		free(e[i].cn);
		free(e[i].user);
		free(e[i].token_id);
		free(e[i].owner);
		free(e[i].owner_email);
	}
	free(e);
}

void crt_event_list_free(crt_event *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		free(list[i].id);
		free(list[i].type);
		free(list[i].body);
		for (size_t k = 0; k < list[i].ndeliveries; k++) {
			free(list[i].deliveries[k].sink);
			free(list[i].deliveries[k].state);
			free(list[i].deliveries[k].last_result);
		}
		free(list[i].deliveries);
	}
	free(list);
}

void crt_event_attempts_free(crt_event_attempt *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		free(list[i].sink);
		free(list[i].node);
		free(list[i].result);
	}
	free(list);
}

static int set_str(json_t *o, const char *k, const char *v)
{
	return v == NULL || *v == '\0' ? 0 : json_object_set_new(o, k, json_string(v));
}

static int set_time(json_t *o, const char *k, int64_t t)
{
	char buf[32];
	if (t == 0)
		return 0;
	crt_time_rfc3339(t, buf, sizeof(buf));
	return json_object_set_new(o, k, json_string(buf));
}

crt_status event_make(const char *type, const char *actor, int64_t at, const event_subject *s,
		      char id[CRT_ID_LEN], char **body)
{
	json_t *o = NULL, *sub = NULL;
	crt_status r;
	int bad = 0;

	*body = NULL;
	if ((r = make_id("event", id)) != CRT_OK)
		return r;
	if ((o = json_object()) == NULL || (sub = json_object()) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	bad |= set_str(o, "id", id);
	bad |= set_str(o, "type", type);
	bad |= set_time(o, "time", at);
	bad |= set_str(o, "actor", actor ? actor : "unknown");
	bad |= set_str(sub, "requestId", s->request_id);
	bad |= set_str(sub, "tokenId", s->token_id);
	bad |= set_str(sub, "tokenName", s->token_name);
	bad |= set_str(sub, "owner", s->owner);
	bad |= set_str(sub, "ownerEmail", s->owner_email);
	bad |= set_str(sub, "serial", s->serial);
	bad |= set_str(sub, "commonName", s->common_name);
	bad |= set_str(sub, "subject", s->subject);
	bad |= set_str(sub, "user", s->user);
	bad |= set_time(sub, "notAfter", s->not_after);
	bad |= set_str(sub, "reason", s->reason);
	bad |= set_time(sub, "lockedUntil", s->locked_until);
	bad |= json_object_set(o, "subject", sub);
	if (bad || (*body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		r = CRT_E_NOMEM;
out:
	json_decref(sub);
	json_decref(o);
	return r;
}

crt_status event_emit(crt_ctx *ctx, const char *type, const char *actor, const event_subject *s,
		      const char *dedup, int *added)
{
	char id[CRT_ID_LEN];
	char *body = NULL;
	int dummy;
	int64_t now = crt_now();
	crt_status r;

	if ((r = event_make(type, actor, now, s, id, &body)) != CRT_OK)
		return ctx_fail(ctx, r, "building the %s event", type);
	store_event_row row = {.id = id, .type = type, .at = now, .dedup = dedup, .body = body};
	r = store_event_append(ctx, &row, added ? added : &dummy);
	free(body);
	return r;
}

crt_status crt_event_list(crt_ctx *ctx, int pending_only, int limit, crt_event **out, size_t *n)
{
	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		limit = 100;
	return store_event_list(ctx, pending_only != 0, limit, out, n);
}

crt_status crt_event_attempts(crt_ctx *ctx, const char *id, crt_event_attempt **out, size_t *n)
{
	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	if (id == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no event id");
	return store_event_attempts(ctx, id, out, n);
}

#define EXPIRING_DEDUP "certificate.expiring:"
#define EXPIRING_BATCH 500

crt_status crt_events_check_expiring(crt_ctx *ctx, int64_t window, const char *actor,
				     size_t *raised)
{
	ctx_clear_detail(ctx);
	return events_check_expiring(ctx, window, actor, 1, raised);
}

crt_status events_check_expiring(crt_ctx *ctx, int64_t window, const char *actor,
				 int audit_none, size_t *raised)
{
	store_expiring *rows = NULL;
	size_t n = 0, count = 0;
	char *detail = NULL;
	int64_t now = crt_now();
	crt_status r;
	jbuf j;

	if (raised)
		*raised = 0;
	if (window <= 0)
		window = ctx->cfg.events_expiring_window;
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_event_expiring(ctx, now, now + window, EXPIRING_DEDUP, EXPIRING_BATCH,
				      &rows, &n)) != CRT_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char dedup[128];
		int added = 0;
		event_subject s = {.token_id = rows[i].token_id,
				   .token_name = rows[i].name,
				   .owner = rows[i].owner,
				   .owner_email = rows[i].owner_email,
				   .serial = rows[i].serial,
				   .common_name = rows[i].cn,
				   .user = rows[i].user,
				   .not_after = rows[i].not_after};
		snprintf(dedup, sizeof(dedup), "%s%s", EXPIRING_DEDUP, rows[i].serial);
		if ((r = event_emit(ctx, "certificate.expiring", actor, &s, dedup, &added)) !=
		    CRT_OK)
			goto fail;
		count += (size_t)added;
	}
	jb_begin(&j);
	jb_int(&j, "raised", (int64_t)count);
	jb_int(&j, "windowSeconds", window);
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((count > 0 || audit_none) &&
	    (r = audit_write(ctx, actor, "events.check_expiring", NULL, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (raised)
		*raised = count;
	goto out;
fail:
	store_rollback(ctx);
out:
	free(detail);
	store_expiring_free(rows, n);
	return r;
}

json_t *crt_event_json(const crt_event *e)
{
	json_t *o = json_object(), *d = json_array();
	char at[32];
	int bad = o == NULL || d == NULL;

	crt_time_rfc3339(e->at, at, sizeof(at));
	bad |= json_object_set_new(o, "seq", json_integer(e->seq));
	bad |= json_object_set_new(o, "id", json_string(e->id));
	bad |= json_object_set_new(o, "type", json_string(e->type));
	bad |= json_object_set_new(o, "at", json_string(at));
	bad |= json_object_set_new(o, "routed", json_boolean(e->routed));
	bad |= json_object_set_new(o, "event", json_loads(e->body, 0, NULL));
	for (size_t i = 0; !bad && i < e->ndeliveries; i++) {
		const crt_event_delivery *x = &e->deliveries[i];
		json_t *y = json_object();
		bad |= y == NULL;
		bad |= json_object_set_new(y, "sink", json_string(x->sink));
		bad |= json_object_set_new(y, "state", json_string(x->state));
		bad |= json_object_set_new(y, "attempts", json_integer(x->attempts));
		if (strcmp(x->state, "pending") == 0) {
			crt_time_rfc3339(x->next_at, at, sizeof(at));
			bad |= json_object_set_new(y, "nextAttemptAt", json_string(at));
		} else if (x->done_at) {
			crt_time_rfc3339(x->done_at, at, sizeof(at));
			bad |= json_object_set_new(y, "doneAt", json_string(at));
		}
		bad |= json_object_set_new(y, "lastResult",
					   x->last_result ? json_string(x->last_result) : json_null());
		bad |= json_array_append_new(d, y);
	}
	bad |= json_object_set(o, "deliveries", d);
	json_decref(d);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
