/*
 * token_store.c — the admin's operations on the tokens table: create,
 * get, list, update while unused, soft delete, purge. Each change is one
 * write transaction carrying its audit row.
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "internal.h"
#include "rules/paging.h"

void crt_token_clear(crt_token *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->cn);
	free(t->org);
	free(t->ou);
	free(t->owner);
	free(t->reply);
	free(t->serial);
	free(t->created_by);
	free(t->attestation);
	free(t->owner_email);
	free(t->profile);
	free(t->san);
	free(t->ca);
	free(t->pin_mac);
	free(t->description);
	memset(t, 0, sizeof(*t));
}

void crt_token_list_free(crt_token *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		crt_token_clear(&list[i]);
	free(list);
}

/* A row's state at now: the rule (rules/token.h). */
static void set_state(crt_token *t, int64_t now)
{
	t->state = token_state_at(t->used_at, t->deleted_at, t->expires_at, now);
}

crt_status token_load(crt_ctx *ctx, const char *id, int64_t now, crt_token *out)
{
	crt_status r = store_token_by_id(ctx, id, out);
	if (r == CRT_OK)
		set_state(out, now);
	else if (r == CRT_E_TOKEN_NOT_FOUND)
		ctx_fail(ctx, r, "no token with id %s", id);
	return r;
}

crt_status token_load_by_hash(crt_ctx *ctx, const char *hash, int64_t now, crt_token *out)
{
	crt_status r = store_token_by_hash(ctx, hash, out);
	if (r == CRT_OK)
		set_state(out, now);
	return r == CRT_E_TOKEN_NOT_FOUND ? CRT_E_TOKEN_UNKNOWN : r;
}

static char *token_detail(const crt_token *t)
{
	jbuf j;
	char exp[32];
	crt_time_rfc3339(t->expires_at, exp, sizeof(exp));
	jb_begin(&j);
	jb_str(&j, "name", t->name);
	jb_str(&j, "commonName", t->cn);
	jb_str(&j, "organization", t->org);
	jb_str(&j, "organizationalUnit", t->ou);
	jb_str(&j, "owner", t->owner);
	jb_str(&j, "ownerEmail", t->owner_email);
	jb_int(&j, "locked", t->locked);
	jb_int(&j, "opened", t->opened);
	jb_str(&j, "expiresAt", exp);
	if (t->attestation != NULL)
		jb_str(&j, "attestation", t->attestation);
	jb_str(&j, "profile", t->profile);
	if (t->san != NULL)
		jb_str(&j, "san", t->san);
	if (t->valid_days)
		jb_int(&j, "validDays", t->valid_days);
	jb_str(&j, "ca", t->ca);
	if (t->approval == CRT_APPROVAL_REQUIRED)
		jb_str(&j, "approval", "required");
	if (t->pin_mac != NULL)
		jb_str(&j, "pinMac", t->pin_mac);
	jb_str(&j, "description", t->description);
	return jb_end(&j);
}

static const char *nonempty(const char *s)
{
	return (s != NULL && *s != '\0') ? s : NULL;
}

/* What a create checks before any token is made: the spec, its profile
 * (*p), the validity and CA asked for, and the expiry (*exp). */
static crt_status create_checks(crt_ctx *ctx, const crt_token_spec *spec, int64_t now,
                                const crt_cert_profile **p, int64_t *exp)
{
	crt_status r;
	int days;

	if ((r = token_check_spec(ctx, spec, 1)) != CRT_OK ||
	    (r = token_profile(ctx, spec->profile, p)) != CRT_OK ||
	    (r = token_valid_days(ctx, *p, spec->valid_days, &days)) != CRT_OK)
		return r;
	/* The CA is checked before anything is written: an unknown name is
	 * ca_unknown and leaves the store as it was. */
	if ((r = crt_ca_check_name(ctx, spec->ca)) != CRT_OK ||
	    (r = token_ca_bound(ctx, spec->ca, spec->valid_days, now)) != CRT_OK)
		return r;
	return token_expiry(ctx, *p, spec, now, exp);
}

/* The new row *t of a checked spec (profile p, expiry exp), with its token
 * string (token_out) and the string's hash; the checks that depend on the
 * row itself (the name as CN, attestation, SubjectAltNames) included. On
 * failure *t is cleared (token_out is the caller's to wipe). */
static crt_status token_make(crt_ctx *ctx, const crt_token_spec *spec, const crt_cert_profile *p,
                             const char *actor, int64_t now, int64_t exp, crt_token *t,
                             char token_out[CRT_TOKEN_STRLEN + 1], char hash[65])
{
	crt_status r;

	memset(t, 0, sizeof(*t));
	t->expires_at = exp;
	if ((r = make_id("token", t->id)) != CRT_OK ||
	    (r = token_generate(CRT_TOKEN_PREFIX, token_out)) != CRT_OK)
		return r;
	token_hash(token_out, hash);
	t->name = dup_str(spec->name);
	t->cn = dup_str(nonempty(spec->cn));
	t->org = dup_str(nonempty(spec->org));
	t->ou = dup_str(nonempty(spec->ou));
	t->owner = dup_str(nonempty(spec->owner));
	t->owner_email = dup_str(nonempty(spec->owner_email));
	/* The profile's reply attributes and locks unless the spec gives its own. */
	t->reply = dup_str(spec->reply != NULL ? nonempty(spec->reply) : p->reply);
	t->created_by = dup_str(actor);
	t->ca = dup_str(spec->ca != NULL ? spec->ca : CRT_CA_DEFAULT);
	t->locked = spec->set_locked || spec->locked ? spec->locked : p->locked & ~spec->opened;
	t->opened = spec->opened;
	t->profile = dup_str(p->name);
	t->valid_days = spec->valid_days;
	t->approval = p->approval;
	if (spec->approval != NULL && strcmp(spec->approval, "required") == 0)
		t->approval = CRT_APPROVAL_REQUIRED;
	else if (spec->approval != NULL && strcmp(spec->approval, "none") == 0)
		t->approval = CRT_APPROVAL_NONE;
	t->san = dup_str(nonempty(spec->san));
	t->pin_mac = dup_str(spec->pin_mac);
	t->description = dup_str(nonempty(spec->description));
	t->created_at = now;
	t->state = CRT_TOKEN_ACTIVE;
	if (t->name == NULL || t->profile == NULL || t->ca == NULL ||
	    (actor != NULL && t->created_by == NULL) ||
	    (nonempty(spec->cn) != NULL && t->cn == NULL) ||
	    (nonempty(spec->org) != NULL && t->org == NULL) ||
	    (nonempty(spec->ou) != NULL && t->ou == NULL) ||
	    (nonempty(spec->owner) != NULL && t->owner == NULL) ||
	    (nonempty(spec->owner_email) != NULL && t->owner_email == NULL) ||
	    (spec->pin_mac != NULL && t->pin_mac == NULL) ||
	    (spec->reply != NULL && nonempty(spec->reply) != NULL && t->reply == NULL) ||
	    (p->reply != NULL && spec->reply == NULL && t->reply == NULL) ||
	    (nonempty(spec->san) != NULL && t->san == NULL) ||
	    (nonempty(spec->description) != NULL && t->description == NULL))
		r = CRT_E_NOMEM;
	else if ((r = token_check_subject(ctx, t)) == CRT_OK &&
	         (r = token_attest_apply(ctx, spec, t)) == CRT_OK)
		r = token_check_san(ctx, t);
	if (r != CRT_OK)
		crt_token_clear(t);
	return r;
}

/* Inside the caller's write transaction: row t under hash, with its
 * token.create audit row and its token.created event. */
static crt_status token_store_new(crt_ctx *ctx, const crt_token *t, const char *hash,
                                  const char *actor, int64_t now)
{
	char *detail = token_detail(t);
	crt_status r;

	if (detail == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	if ((r = store_token_insert(ctx, t, hash, now)) == CRT_OK &&
	    (r = audit_write(ctx, actor, "token.create", t->id, detail)) == CRT_OK)
		r = event_emit(ctx, "token.created", actor,
		               &(event_subject){.token_id = t->id,
		                                .token_name = t->name,
		                                .owner = t->owner,
		                                .owner_email = t->owner_email},
		               NULL, NULL);
	free(detail);
	return r;
}

crt_status crt_token_create(crt_ctx *ctx, const crt_token_spec *spec, const char *actor,
                            crt_token *out, char token_out[CRT_TOKEN_STRLEN + 1])
{
	crt_token t = {0};
	const crt_cert_profile *p;
	char hash[65];
	crt_status r;
	int64_t now = crt_now(), exp;

	ctx_clear_detail(ctx);
	if ((r = create_checks(ctx, spec, now, &p, &exp)) != CRT_OK)
		return r;
	if ((r = token_make(ctx, spec, p, actor, now, exp, &t, token_out, hash)) != CRT_OK)
		goto out;
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = token_store_new(ctx, &t, hash, actor, now)) != CRT_OK) {
		store_rollback(ctx);
		goto out;
	}
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (out != NULL) {
		*out = t;
		memset(&t, 0, sizeof(t));
	}
out:
	if (r != CRT_OK)
		OPENSSL_cleanse(token_out, CRT_TOKEN_STRLEN + 1);
	crt_token_clear(&t);
	return r;
}

void crt_token_batch_clear(crt_token_batch *b)
{
	if (b == NULL)
		return;
	crt_token_list_free(b->tokens, b->n);
	if (b->strings != NULL)
		OPENSSL_cleanse(b->strings, b->n * sizeof(*b->strings));
	free(b->strings);
	memset(b, 0, sizeof(*b));
}

crt_status crt_token_create_many(crt_ctx *ctx, const crt_token_spec *spec, size_t first,
                                 size_t count, const char *actor, crt_token_batch *out)
{
	crt_token_batch b = {0};
	crt_token_spec one;
	const crt_cert_profile *p;
	char (*hash)[65] = NULL, *name = NULL;
	char (*event_id)[CRT_ID_LEN] = NULL;
	store_token_new *rows = NULL;
	store_event_row *events = NULL;
	size_t namelen = 0, made = 0, failed;
	crt_status r;
	int64_t now = crt_now(), exp;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (count < 1 || count > CRT_BULK_MAX)
		return ctx_fail(ctx, CRT_E_COUNT_INVALID,
		                "the count of tokens must be from 1 to %d (asked for %zu)", CRT_BULK_MAX,
		                count);
	if (first < 1 || first > SIZE_MAX / 2)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "the first number must be 1 or more");
	one = *spec;
	if (spec->name != NULL && *spec->name != '\0') {
		namelen = strlen(spec->name) + 24; /* "-" and the number */
		if ((name = malloc(namelen)) == NULL)
			return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		/* the longest name: the last one has the most digits */
		snprintf(name, namelen, "%s-%zu", spec->name, first + count - 1);
		one.name = name;
	}
	if ((r = create_checks(ctx, &one, now, &p, &exp)) != CRT_OK)
		goto out;
	b.tokens = calloc(count, sizeof(*b.tokens));
	b.strings = calloc(count, sizeof(*b.strings));
	hash = calloc(count, sizeof(*hash));
	rows = calloc(count, sizeof(*rows));
	events = calloc(count, sizeof(*events));
	event_id = calloc(count, sizeof(*event_id));
	if (b.tokens == NULL || b.strings == NULL || hash == NULL || rows == NULL ||
	    events == NULL || event_id == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	/* Every row is made (and checked) before the write transaction begins,
	 * so the writers' lock is held only for the writes. */
	for (made = 0; made < count; made++) {
		snprintf(name, namelen, "%s-%zu", spec->name, first + made);
		if ((r = token_make(ctx, &one, p, actor, now, exp, &b.tokens[made], b.strings[made],
		                    hash[made])) != CRT_OK) {
			char why[sizeof(ctx->detail)];
			snprintf(why, sizeof(why), "%s", ctx->detail);
			ctx_fail(ctx, r, "token number %zu of the bulk (none was made): %s",
			         first + made, why);
			goto out;
		}
	}
	/* ... and so is what goes with each: its audit row and its event. */
	for (size_t i = 0; i < count; i++) {
		const crt_token *t = &b.tokens[i];
		char *body = NULL;
		if ((r = event_make("token.created", actor, now,
		                    &(event_subject){.token_id = t->id,
		                                     .token_name = t->name,
		                                     .owner = t->owner,
		                                     .owner_email = t->owner_email},
		                    event_id[i], &body)) != CRT_OK) {
			ctx_fail(ctx, r, "building the token.created event");
			goto out;
		}
		events[i] = (store_event_row){
		    .id = event_id[i], .type = "token.created", .at = now, .body = body};
		rows[i].token = t;
		rows[i].hash = hash[i];
		rows[i].event = &events[i];
		rows[i].audit.at = now;
		rows[i].audit.actor = actor ? actor : "unknown";
		rows[i].audit.action = "token.create";
		rows[i].audit.object = t->id;
		if ((rows[i].audit.detail = token_detail(t)) == NULL) {
			r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	/* One batch verb: on PostgreSQL one statement for all the rows. */
	if ((r = store_token_insert_many(ctx, rows, count, now, &failed)) != CRT_OK) {
		store_rollback(ctx);
		if (failed < count) {
			char why[sizeof(ctx->detail)];
			snprintf(why, sizeof(why), "%s", ctx->detail);
			ctx_fail(ctx, r, "token number %zu of the bulk (none was made): %s",
			         first + failed, why);
		}
		goto out;
	}
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	b.n = count;
	*out = b;
	memset(&b, 0, sizeof(b));
out:
	if (b.tokens != NULL) {
		b.n = count; /* the rows not made are all zero: clearing them is a no-op */
		crt_token_batch_clear(&b);
	}
	free(b.strings); /* (only when tokens failed to allocate) */
	if (hash != NULL)
		OPENSSL_cleanse(hash, count * sizeof(*hash));
	free(hash);
	for (size_t i = 0; rows != NULL && i < count; i++)
		free((char *)rows[i].audit.detail);
	for (size_t i = 0; events != NULL && i < count; i++)
		free((char *)events[i].body);
	free(rows);
	free(events);
	free(event_id);
	free(name);
	return r;
}

crt_status crt_token_get(crt_ctx *ctx, const char *id, crt_token *out)
{
	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (id == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token id");
	return token_load(ctx, id, crt_now(), out);
}

crt_status crt_token_list(crt_ctx *ctx, int state, crt_token **out, size_t *n)
{
	token_bounds b;
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	/* The store filters on the rule's bounds for the state (rules/token.h). */
	token_state_bounds(state, now, &b);
	if ((r = store_token_list(ctx, &b, out, n)) != CRT_OK)
		return r;
	for (size_t i = 0; i < *n; i++)
		set_state(&(*out)[i], now);
	return CRT_OK;
}

crt_status crt_token_page(crt_ctx *ctx, int state, const crt_page *p, crt_token **out,
			  size_t *n, int64_t *total)
{
	token_bounds b;
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	*total = 0;
	if (!paging_valid(p, crt_token_sort_fields))
		return ctx_fail(ctx, CRT_E_PAGE_INVALID, "not a page crt_page_parse makes");
	token_state_bounds(state, now, &b);
	if ((r = store_token_page(ctx, &b, p, out, n, total)) != CRT_OK)
		return r;
	for (size_t i = 0; i < *n; i++)
		set_state(&(*out)[i], now);
	return CRT_OK;
}

/* Replace *field with a copy of v ("" clears) when v is given. */
static crt_status apply(char **field, const char *v)
{
	if (v == NULL)
		return CRT_OK;
	char *copy = *v ? strdup(v) : NULL;
	if (*v && copy == NULL)
		return CRT_E_NOMEM;
	free(*field);
	*field = copy;
	return CRT_OK;
}

/* Guarded writes that found the row changed since it was read (another
 * writer, on a store without one write lock) read it again this often. */
#define GUARDED_TRIES 3

/* Read token id inside the write transaction and apply change c to it (the
 * checks of crt_token_update included) into *t. */
static crt_status load_changed(crt_ctx *ctx, const char *id, const crt_token_spec *c, int64_t now,
                               crt_token *t)
{
	const crt_cert_profile *p = NULL;
	crt_status r;
	int days;

	crt_token_clear(t);
	if ((r = token_load(ctx, id, now, t)) != CRT_OK)
		return r;
	if (t->state == CRT_TOKEN_USED || t->state == CRT_TOKEN_DELETED)
		return ctx_fail(ctx, CRT_E_TOKEN_NOT_ACTIVE,
		                "token %s is %s and can no longer change", id,
		                crt_token_state_name(t->state));
	if ((r = apply(&t->name, c->name)) != CRT_OK || (r = apply(&t->cn, c->cn)) != CRT_OK ||
	    (r = apply(&t->org, c->org)) != CRT_OK || (r = apply(&t->ou, c->ou)) != CRT_OK ||
	    (r = apply(&t->owner, c->owner)) != CRT_OK ||
	    (r = apply(&t->owner_email, c->owner_email)) != CRT_OK ||
	    (r = apply(&t->reply, c->reply)) != CRT_OK || (r = apply(&t->san, c->san)) != CRT_OK ||
	    (r = apply(&t->description, c->description)) != CRT_OK)
		return r;
	/* Locking a field closes it, opening one unlocks it. */
	if (c->set_locked) {
		t->locked = c->locked;
		t->opened &= ~c->locked;
	}
	if (c->set_opened) {
		t->opened = c->opened;
		t->locked &= ~c->opened;
	}
	if ((r = token_check_subject(ctx, t)) != CRT_OK ||
	    (r = token_attest_apply(ctx, c, t)) != CRT_OK || (r = token_check_san(ctx, t)) != CRT_OK)
		return r;
	if ((c->lifetime || c->expires_at || c->valid_days) &&
	    (r = token_profile(ctx, t->profile, &p)) != CRT_OK)
		return r;
	if ((c->lifetime || c->expires_at) &&
	    (r = token_expiry(ctx, p, c, now, &t->expires_at)) != CRT_OK)
		return r;
	if (c->valid_days && ((r = token_valid_days(ctx, p, c->valid_days, &days)) != CRT_OK ||
	                      (r = token_ca_bound(ctx, t->ca, c->valid_days, now)) != CRT_OK))
		return r;
	if (c->valid_days)
		t->valid_days = c->valid_days;
	return CRT_OK;
}

crt_status crt_token_update(crt_ctx *ctx, const char *id, const crt_token_spec *c,
                            const char *actor, crt_token *out)
{
	crt_token t = {0};
	char *detail = NULL;
	crt_status r;
	int changed = 0;
	int64_t now = crt_now();

	ctx_clear_detail(ctx);
	if (id == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token id");
	if ((r = token_check_spec(ctx, c, 0)) != CRT_OK)
		return r;
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	/* Written only if still as read (version, unused, undeleted). */
	for (int i = 0; !changed; i++) {
		if (i == GUARDED_TRIES) {
			r = ctx_fail(ctx, CRT_E_TOKEN_NOT_ACTIVE,
			             "token %s kept changing while it was being updated", id);
			goto fail;
		}
		if ((r = load_changed(ctx, id, c, now, &t)) != CRT_OK ||
		    (r = store_token_update(ctx, &t, t.version, now, &changed)) != CRT_OK)
			goto fail;
	}
	t.updated_at = now;
	t.version++;
	set_state(&t, now);
	if ((detail = token_detail(&t)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "token.update", t.id, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (out != NULL) {
		*out = t;
		memset(&t, 0, sizeof(t));
	}
	goto out;
fail:
	store_rollback(ctx);
out:
	free(detail);
	crt_token_clear(&t);
	return r;
}

crt_status crt_token_delete(crt_ctx *ctx, const char *id, const char *actor)
{
	crt_token t = {0};
	crt_status r;
	int changed = 0;
	int64_t now = crt_now();

	ctx_clear_detail(ctx);
	if (id == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no token id");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	/* Deleted only if still as read (version, unused, undeleted). */
	for (int i = 0; !changed; i++) {
		if (i == GUARDED_TRIES) {
			r = ctx_fail(ctx, CRT_E_TOKEN_NOT_ACTIVE,
			             "token %s kept changing while it was being deleted", id);
			goto fail;
		}
		crt_token_clear(&t);
		if ((r = token_load(ctx, id, now, &t)) != CRT_OK)
			goto fail;
		if (t.state == CRT_TOKEN_DELETED) {
			r = ctx_fail(ctx, CRT_E_TOKEN_DELETED, "token %s was already deleted", id);
			goto fail;
		}
		if (t.state == CRT_TOKEN_USED) {
			r = ctx_fail(
			    ctx, CRT_E_TOKEN_USED,
			    "token %s was already redeemed; revoke its certificate %s instead", id,
			    t.serial ? t.serial : "");
			goto fail;
		}
		if ((r = store_token_remove(ctx, id, t.version, now, &changed)) != CRT_OK)
			goto fail;
	}
	if ((r = audit_write(ctx, actor, "token.delete", id, NULL)) != CRT_OK ||
	    (r = event_emit(ctx, "token.deleted", actor, &(event_subject){.token_id = t.id,
	                                                                   .token_name = t.name,
	                                                                   .owner = t.owner,
	                                                                   .owner_email = t.owner_email},
	                    NULL, NULL)) != CRT_OK)
		goto fail;
	r = store_commit(ctx);
	goto out;
fail:
	store_rollback(ctx);
out:
	crt_token_clear(&t);
	return r;
}

crt_status crt_token_purge(crt_ctx *ctx, int older_than_days, const char *actor, size_t *purged)
{
	crt_status r;
	jbuf j;
	char *detail = NULL;
	int64_t n = 0;
	int64_t cutoff = crt_now() - (int64_t)older_than_days * 86400;

	ctx_clear_detail(ctx);
	if (purged)
		*purged = 0;
	if (older_than_days < 0)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "days must be 0 or more");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	/* The tokens that ended before the cutoff (token_purgeable). */
	if ((r = store_token_purge(ctx, cutoff, &n)) != CRT_OK)
		goto fail;
	jb_begin(&j);
	jb_int(&j, "purged", n);
	jb_int(&j, "olderThanDays", older_than_days);
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "token.purge", NULL, detail)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) == CRT_OK && purged)
		*purged = (size_t)n;
	goto out;
fail:
	store_rollback(ctx);
out:
	free(detail);
	return r;
}
