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
#include "store/sqlite.h" /* until this file's SQL moves behind the port */

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

static int64_t col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

/* Fill k from a row (id, name, created_at, revoked_at, last_used_at). */
static crt_status row_to_key(sqlite3_stmt *st, crt_apikey *k)
{
	const unsigned char *id = sqlite3_column_text(st, 0);

	memset(k, 0, sizeof(*k));
	if (id != NULL)
		snprintf(k->id, sizeof(k->id), "%s", (const char *)id);
	if ((k->name = store_col_strdup(st, 1)) == NULL)
		return CRT_E_NOMEM;
	k->created_at = col_time(st, 2);
	k->revoked_at = col_time(st, 3);
	k->last_used_at = col_time(st, 4);
	return CRT_OK;
}

/*
 * Create a key named name. key_out receives the key (NUL-terminated); the
 * caller shows it once and wipes it. out (may be NULL) receives the record.
 */
crt_status crt_apikey_create(crt_ctx *ctx, const char *name, const char *actor, crt_apikey *out,
                             char key_out[CRT_TOKEN_STRLEN + 1])
{
	unsigned char rnd[APIKEY_RANDOM_BYTES];
	char hash[65], id[CRT_ID_LEN];
	crt_json j;
	char *detail = NULL;
	sqlite3_stmt *st = NULL;
	int64_t now = crt_now();
	int in_txn = 0, committed = 0, rc;
	crt_status r;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ctx == NULL || key_out == NULL)
		return CRT_E_INVALID_ARGUMENT;
	crt_clear_detail(ctx);
	key_out[0] = '\0';
	if (name == NULL || *name == '\0')
		return crt_fail(ctx, CRT_E_NAME_REQUIRED, "an API key needs a name");
	if (crt_field_check(name, APIKEY_NAME_MAX) != CRT_OK)
		return crt_fail(ctx, CRT_E_FIELD_INVALID,
		                "name: printable text of at most %d bytes", APIKEY_NAME_MAX);

	if ((r = crt_random(rnd, sizeof(rnd))) != CRT_OK) {
		crt_fail(ctx, r, "no randomness for the API key");
		goto out;
	}
	memcpy(key_out, APIKEY_PREFIX, sizeof(APIKEY_PREFIX) - 1);
	crt_b64url(rnd, sizeof(rnd), key_out + sizeof(APIKEY_PREFIX) - 1);
	crt_sha256_hex(key_out, strlen(key_out), hash);
	if ((r = crt_make_id("apikey", id)) != CRT_OK) {
		crt_fail(ctx, r, "cannot make an id");
		goto out;
	}
	json_begin(&j);
	json_str(&j, "name", name);
	if ((detail = json_end(&j)) == NULL) {
		r = crt_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}

	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	in_txn = 1;
	if ((r = store_prepare(ctx,
	                       "INSERT INTO api_keys(id, name, hash, created_at) "
	                       "VALUES(?1, ?2, ?3, ?4)",
	                       &st)) != CRT_OK)
		goto out;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, name);
	store_bind_text(st, 3, hash);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st);
	store_done(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "insert api key");
		goto out;
	}
	if ((r = audit_write(ctx, actor, "apikey.create", id, detail)) != CRT_OK)
		goto out;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	in_txn = 0;
	committed = 1;

	if (out != NULL) {
		snprintf(out->id, sizeof(out->id), "%s", id);
		out->created_at = now;
		if ((out->name = crt_strdup(name)) == NULL) {
			/* Committed: the caller still gets the key, just not the record. */
			r = crt_fail(ctx, CRT_E_NOMEM, "out of memory");
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
	sqlite3_stmt *st = NULL;
	crt_apikey *list = NULL;
	size_t len = 0, cap = 0;
	crt_status r;
	int rc;

	if (ctx == NULL || out == NULL || n == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*out = NULL;
	*n = 0;
	crt_clear_detail(ctx);
	if ((r = store_prepare(ctx,
	                       "SELECT id, name, created_at, revoked_at, last_used_at "
	                       "FROM api_keys ORDER BY created_at, id",
	                       &st)) != CRT_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (crt_grow(&list, &cap, len, sizeof(*list)) != 0) {
			r = crt_fail(ctx, CRT_E_NOMEM, "out of memory");
			goto out;
		}
		if ((r = row_to_key(st, &list[len])) != CRT_OK) {
			crt_apikey_clear(&list[len]);
			crt_fail(ctx, r, "out of memory");
			goto out;
		}
		len++;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "list api keys");
		goto out;
	}
	*out = list;
	*n = len;
	list = NULL;
	len = 0;
	r = CRT_OK;
out:
	if (st != NULL)
		store_done(st);
	crt_apikey_list_free(list, len);
	return r;
}

/*
 * Revoke key id: CRT_OK (also when it was already revoked: nothing changes
 * and nothing is audited), CRT_E_APIKEY_NOT_FOUND, or a store error.
 */
crt_status crt_apikey_revoke(crt_ctx *ctx, const char *id, const char *actor)
{
	sqlite3_stmt *st = NULL;
	int64_t now = crt_now();
	int in_txn = 0, rc, changed, exists;
	crt_status r;

	if (ctx == NULL || id == NULL)
		return CRT_E_INVALID_ARGUMENT;
	crt_clear_detail(ctx);
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	in_txn = 1;
	if ((r = store_prepare(ctx,
	                       "UPDATE api_keys SET revoked_at = ?1 "
	                       "WHERE id = ?2 AND revoked_at IS NULL",
	                       &st)) != CRT_OK)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	rc = sqlite3_step(st);
	store_done(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "revoke api key");
		goto out;
	}
	changed = sqlite3_changes(sq_db(ctx));
	if (!changed) {
		if ((r = store_prepare(ctx, "SELECT 1 FROM api_keys WHERE id = ?1", &st)) != CRT_OK)
			goto out;
		store_bind_text(st, 1, id);
		rc = sqlite3_step(st);
		store_done(st);
		st = NULL;
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			r = store_error(ctx, rc, "look up api key");
			goto out;
		}
		exists = rc == SQLITE_ROW;
		if (!exists) {
			r = crt_fail(ctx, CRT_E_APIKEY_NOT_FOUND, "no API key with id %s", id);
			goto out;
		}
		r = CRT_OK; /* already revoked */
		goto out;
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

/* Refresh last_used_at; best effort (a busy store only delays the record). */
static void touch_key(crt_ctx *ctx, const char *id, int64_t now)
{
	sqlite3_stmt *st = NULL;

	if (store_prepare(ctx, "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2", &st) !=
	    CRT_OK) {
		crt_clear_detail(ctx);
		return;
	}
	sqlite3_bind_int64(st, 1, now);
	store_bind_text(st, 2, id);
	(void)sqlite3_step(st);
	store_done(st);
}

/*
 * Check key: CRT_OK and *out (when non-NULL) filled for a known, unrevoked
 * key; CRT_E_APIKEY_INVALID for anything else (malformed, unknown, revoked —
 * deliberately not told apart); or a store error.
 */
crt_status crt_apikey_verify(crt_ctx *ctx, const char *key, crt_apikey *out)
{
	sqlite3_stmt *st = NULL;
	crt_apikey k;
	char hash[65];
	crt_status r;
	int rc;
	int64_t now;

	memset(&k, 0, sizeof(k));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ctx == NULL || key == NULL)
		return CRT_E_INVALID_ARGUMENT;
	crt_clear_detail(ctx);
	if (strlen(key) != APIKEY_STRLEN ||
	    strncmp(key, APIKEY_PREFIX, sizeof(APIKEY_PREFIX) - 1) != 0)
		return crt_fail(ctx, CRT_E_APIKEY_INVALID, "not an API key");
	crt_sha256_hex(key, strlen(key), hash);
	if ((r = store_prepare(ctx,
	                       "SELECT id, name, created_at, revoked_at, last_used_at "
	                       "FROM api_keys WHERE hash = ?1",
	                       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = crt_fail(ctx, CRT_E_APIKEY_INVALID, "unknown API key");
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_error(ctx, rc, "look up api key");
		goto out;
	}
	if ((r = row_to_key(st, &k)) != CRT_OK) {
		crt_fail(ctx, r, "out of memory");
		goto out;
	}
	store_done(st);
	st = NULL;
	if (k.revoked_at != 0) {
		r = crt_fail(ctx, CRT_E_APIKEY_INVALID, "revoked API key");
		goto out;
	}
	now = crt_now();
	if (now - k.last_used_at >= APIKEY_TOUCH_SECONDS) {
		touch_key(ctx, k.id, now);
		k.last_used_at = now;
	}
	if (out != NULL) {
		*out = k;
		memset(&k, 0, sizeof(k));
	}
	r = CRT_OK;
out:
	if (st != NULL)
		store_done(st);
	crt_apikey_clear(&k);
	return r;
}
