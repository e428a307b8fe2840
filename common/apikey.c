/*
 * apikey.c — API keys for crtokend's admin endpoints.
 *
 * A key is "crk_" followed by 256 CSPRNG bits in base64url. It is shown once
 * at creation; the store keeps only its SHA-256 (hex) in api_keys.hash, so a
 * key is verified by one indexed lookup of its hash. Creation and revocation
 * are single transactions that also write their audit row.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/scope.h"
#include "store/port.h"

#define APIKEY_PREFIX "crk_"
#define APIKEY_RANDOM_BYTES 32
#define APIKEY_STRLEN 47 /* "crk_" + 43 base64url characters */
#define APIKEY_NAME_MAX 128
/* Verification is on every admin request; last_used_at is refreshed at most
 * this often per key so that the hot path stays a read. */
#define APIKEY_TOUCH_SECONDS 300

void crt_apikey_clear(crt_apikey *k)
{
	if (k == NULL)
		return;
	free(k->name);
	free(k->profiles);
	memset(k, 0, sizeof(*k));
}

void crt_apikey_list_free(crt_apikey *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		crt_apikey_clear(&list[i]);
	free(list);
}

/*
 * Create a key named name. key_out receives the key (NUL-terminated); the
 * caller shows it once and wipes it. out (may be NULL) receives the record.
 */
crt_status crt_apikey_create(crt_ctx *ctx, const char *name, const char *actor, crt_apikey *out,
                             char key_out[CRT_TOKEN_STRLEN + 1])
{
	crt_apikey_spec spec = {.name = name, .scopes = CRT_SCOPE_ALL, .profiles = NULL};

	return crt_apikey_create_scoped(ctx, &spec, actor, out, key_out);
}

/* Every entry of list a profile of ctx's config: CRT_OK or profile_unknown. */
static crt_status profiles_known(crt_ctx *ctx, const char *list)
{
	char name[65];
	const char *p = list;
	size_t n;

	for (;;) {
		n = strcspn(p, ",");
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		if (crt_cert_profile_find(crt_get_config(ctx), name) == NULL)
			return ctx_fail(ctx, CRT_E_PROFILE_UNKNOWN,
			                "profiles: no certificate profile \"%s\" in the config", name);
		if (p[n] == '\0')
			return CRT_OK;
		p += n + 1;
	}
}

/*
 * Create a key as spec says. key_out receives the key (NUL-terminated); the
 * caller shows it once and wipes it. out (may be NULL) receives the record.
 * Nothing is written when the name, scopes or profiles are refused.
 */
crt_status crt_apikey_create_scoped(crt_ctx *ctx, const crt_apikey_spec *spec, const char *actor,
                                    crt_apikey *out, char key_out[CRT_TOKEN_STRLEN + 1])
{
	unsigned char rnd[APIKEY_RANDOM_BYTES];
	char hash[65], id[CRT_ID_LEN], scopes[160];
	jbuf j;
	char *detail = NULL;
	const char *why = NULL, *name;
	unsigned mask;
	crt_apikey row;
	int64_t now = crt_now();
	int in_txn = 0, committed = 0;
	crt_status r;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ctx == NULL || key_out == NULL || spec == NULL)
		return CRT_E_INVALID_ARGUMENT;
	ctx_clear_detail(ctx);
	key_out[0] = '\0';
	name = spec->name;
	mask = spec->scopes == 0 ? CRT_SCOPE_ALL : spec->scopes;
	if (name == NULL || *name == '\0')
		return ctx_fail(ctx, CRT_E_NAME_REQUIRED, "an API key needs a name");
	if (field_check(name, APIKEY_NAME_MAX) != CRT_OK)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
		                "name: printable text of at most %d bytes", APIKEY_NAME_MAX);
	if ((mask & ~CRT_SCOPE_ALL) != 0)
		return ctx_fail(ctx, CRT_E_SCOPE_UNKNOWN, "scopes: a bit that names no scope");
	if (crt_scopes_format(mask, scopes, sizeof(scopes)) != CRT_OK)
		return ctx_fail(ctx, CRT_E_INTERNAL, "scopes do not fit");
	if (spec->profiles != NULL) {
		if (scope_profiles_check(spec->profiles, &why) != CRT_OK)
			return ctx_fail(ctx, CRT_E_FIELD_INVALID, "profiles: %s", why);
		if ((r = profiles_known(ctx, spec->profiles)) != CRT_OK)
			return r;
	}

	if ((r = random_bytes(rnd, sizeof(rnd))) != CRT_OK) {
		ctx_fail(ctx, r, "no randomness for the API key");
		goto out;
	}
	memcpy(key_out, APIKEY_PREFIX, sizeof(APIKEY_PREFIX) - 1);
	b64url_encode(rnd, sizeof(rnd), key_out + sizeof(APIKEY_PREFIX) - 1);
	sha256_hex(key_out, strlen(key_out), hash);
	if ((r = make_id("apikey", id)) != CRT_OK) {
		ctx_fail(ctx, r, "cannot make an id");
		goto out;
	}
	jb_begin(&j);
	jb_str(&j, "name", name);
	jb_str(&j, "scopes", scopes);
	jb_str(&j, "profiles", spec->profiles);
	if ((detail = jb_end(&j)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}

	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	in_txn = 1;
	row = (crt_apikey){.name = (char *)name,
	                   .created_at = now,
	                   .scopes = mask,
	                   .profiles = (char *)spec->profiles};
	snprintf(row.id, sizeof(row.id), "%s", id);
	/* Every scope is stored as NULL, like the keys made before scopes: it
	 * also grants scopes a later build adds. */
	if ((r = store_apikey_insert(ctx, &row, hash, mask == CRT_SCOPE_ALL ? NULL : scopes)) !=
	    CRT_OK)
		goto out;
	if ((r = audit_write(ctx, actor, "apikey.create", id, detail)) != CRT_OK)
		goto out;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	in_txn = 0;
	committed = 1;

	if (out != NULL) {
		snprintf(out->id, sizeof(out->id), "%s", id);
		out->created_at = now;
		out->scopes = mask;
		if ((out->name = dup_str(name)) == NULL ||
		    (spec->profiles != NULL && (out->profiles = dup_str(spec->profiles)) == NULL)) {
			/* Committed: the caller still gets the key, just not the record. */
			r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
			goto out;
		}
	}
	r = CRT_OK;
out:
	if (in_txn)
		store_rollback(ctx);
	if (r != CRT_OK && !committed)
		explicit_bzero(key_out, CRT_TOKEN_STRLEN + 1);
	explicit_bzero(rnd, sizeof(rnd));
	free(detail);
	return r;
}

/* All keys, revoked ones included, oldest first. *out is freed with
 * crt_apikey_list_free. */
crt_status crt_apikey_list(crt_ctx *ctx, crt_apikey **out, size_t *n)
{
	if (ctx == NULL || out == NULL || n == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*out = NULL;
	*n = 0;
	ctx_clear_detail(ctx);
	return store_apikey_list(ctx, out, n);
}

/*
 * Revoke key id: CRT_OK (also when it was already revoked: nothing changes
 * and nothing is audited), CRT_E_APIKEY_NOT_FOUND, or a store error.
 */
crt_status crt_apikey_revoke(crt_ctx *ctx, const char *id, const char *actor)
{
	int in_txn = 0, revoked = 0;
	crt_status r;

	if (ctx == NULL || id == NULL)
		return CRT_E_INVALID_ARGUMENT;
	ctx_clear_detail(ctx);
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	in_txn = 1;
	if ((r = store_apikey_revoke(ctx, id, crt_now(), &revoked)) == CRT_E_APIKEY_NOT_FOUND) {
		r = ctx_fail(ctx, CRT_E_APIKEY_NOT_FOUND, "no API key with id %s", id);
		goto out;
	} else if (r != CRT_OK || !revoked) {
		goto out; /* a store failure, or already revoked (nothing to audit) */
	}
	if ((r = audit_write(ctx, actor, "apikey.revoke", id, NULL)) != CRT_OK)
		goto out;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	in_txn = 0;
	r = CRT_OK;
out:
	if (in_txn)
		store_rollback(ctx);
	return r;
}

/*
 * Check key: CRT_OK and *out (when non-NULL) filled for a known, unrevoked
 * key; CRT_E_APIKEY_INVALID for anything else (malformed, unknown, revoked —
 * deliberately not told apart); or a store error.
 *
 * last_used_at is refreshed at most every APIKEY_TOUCH_SECONDS, by a
 * conditional write that skips a row another writer refreshed meanwhile;
 * best effort: a failed refresh never refuses a valid key (it only delays
 * the record, and *out then reports the stored time).
 */
crt_status crt_apikey_verify(crt_ctx *ctx, const char *key, crt_apikey *out)
{
	crt_apikey k;
	char hash[65];
	crt_status r;
	int64_t now;
	int touched = 0;

	memset(&k, 0, sizeof(k));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ctx == NULL || key == NULL)
		return CRT_E_INVALID_ARGUMENT;
	ctx_clear_detail(ctx);
	if (strlen(key) != APIKEY_STRLEN ||
	    strncmp(key, APIKEY_PREFIX, sizeof(APIKEY_PREFIX) - 1) != 0)
		return ctx_fail(ctx, CRT_E_APIKEY_INVALID, "not an API key");
	sha256_hex(key, strlen(key), hash);
	if ((r = store_apikey_find_by_hash(ctx, hash, &k)) == CRT_E_APIKEY_NOT_FOUND) {
		r = ctx_fail(ctx, CRT_E_APIKEY_INVALID, "unknown API key");
		goto out;
	} else if (r != CRT_OK) {
		goto out;
	}
	if (k.revoked_at != 0) {
		r = ctx_fail(ctx, CRT_E_APIKEY_INVALID, "revoked API key");
		goto out;
	}
	now = crt_now();
	if (now - k.last_used_at >= APIKEY_TOUCH_SECONDS) {
		if (store_apikey_touch(ctx, k.id, now, now - APIKEY_TOUCH_SECONDS, &touched) ==
		    CRT_OK)
			k.last_used_at = now; /* by us, or by another writer moments ago */
		else
			ctx_clear_detail(ctx);
	}
	if (out != NULL) {
		*out = k;
		memset(&k, 0, sizeof(k));
	}
	r = CRT_OK;
out:
	crt_apikey_clear(&k);
	return r;
}
