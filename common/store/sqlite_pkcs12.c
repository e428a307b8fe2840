/*
 * sqlite_pkcs12.c — the kept-PKCS#12 verbs on SQLite (port_pkcs12.h).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"

static crt_status sq_p12_put(crt_ctx *ctx, const store_p12_row *row)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	if ((r = store_prepare(ctx,
	                       "INSERT INTO kept_pkcs12(serial, owner, sealed, created_at) "
	                       "VALUES (?, ?, ?, ?)",
	                       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, row->serial);
	store_bind_text(st, 2, row->owner);
	sqlite3_bind_blob(st, 3, row->sealed, (int)row->sealed_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, row->created_at);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "keeping the PKCS#12");
	return CRT_OK;
}

static crt_status sq_p12_get(crt_ctx *ctx, const char *serial, store_p12_row *out, int *found)
{
	sqlite3_stmt *st = NULL;
	const void *b;
	crt_status r;
	int rc, blen;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if ((r = store_prepare(ctx,
	                       "SELECT owner, sealed, created_at FROM kept_pkcs12 WHERE serial = ?",
	                       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, serial);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		goto out;
	if (rc != SQLITE_ROW) {
		r = store_error(ctx, rc, "reading the kept PKCS#12");
		goto out;
	}
	snprintf(out->serial, sizeof(out->serial), "%s", serial);
	snprintf(out->owner, sizeof(out->owner), "%s", (const char *)sqlite3_column_text(st, 0));
	b = sqlite3_column_blob(st, 1);
	blen = sqlite3_column_bytes(st, 1);
	if (b == NULL || blen <= 0 || (out->sealed = malloc((size_t)blen)) == NULL) {
		r = b == NULL || blen <= 0 ? ctx_fail(ctx, CRT_E_STORE, "kept PKCS#12 is empty")
		                           : CRT_E_NOMEM;
		goto out;
	}
	memcpy(out->sealed, b, (size_t)blen);
	out->sealed_len = (size_t)blen;
	out->created_at = sqlite3_column_int64(st, 2);
	*found = 1;
out:
	store_done(st);
	return r;
}

static crt_status sq_p12_wipe(crt_ctx *ctx, const char *serial, int *wiped)
{
	static const char *const sql[] = {
	    /* the bytes first, so the deleted row's page holds none of them */
	    "UPDATE kept_pkcs12 SET sealed = zeroblob(length(sealed)) WHERE serial = ?",
	    "DELETE FROM kept_pkcs12 WHERE serial = ?",
	};
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	*wiped = 0;
	for (int i = 0; i < 2; i++) {
		if ((r = store_prepare(ctx, sql[i], &st)) != CRT_OK)
			return r;
		store_bind_text(st, 1, serial);
		rc = sqlite3_step(st);
		store_done(st);
		if (rc != SQLITE_DONE)
			return store_error(ctx, rc, "removing the kept PKCS#12");
	}
	*wiped = sqlite3_changes(sq_db(ctx));
	return CRT_OK;
}

static crt_status sq_p12_owned(crt_ctx *ctx, const char *owner, char (**out)[72], size_t *n)
{
	sqlite3_stmt *st = NULL;
	char(*list)[72] = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx, "SELECT serial FROM kept_pkcs12 WHERE owner = ? ORDER BY serial",
	                       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, owner);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		snprintf(list[cnt++], 72, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing kept PKCS#12");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
out:
	store_done(st);
	free(list);
	return r;
}

const struct store_pkcs12_ops sqlite_pkcs12_ops = {
    .put = sq_p12_put,
    .get = sq_p12_get,
    .wipe = sq_p12_wipe,
    .owned = sq_p12_owned,
};
