/*
 * port_apikeys.h — the API key verbs of the storage port: one row per key
 * (id, name, SHA-256 of the key, created/revoked/last used). Included at
 * the end of store/port.h; the SQLite implementation is
 * store/sqlite_apikeys.c.
 *
 * Every verb reports store failures as a crt_status with the detail set
 * (store_busy, store_unavailable, ...).
 */
#ifndef CRTOKEN_STORE_PORT_APIKEYS_H
#define CRTOKEN_STORE_PORT_APIKEYS_H

struct store_apikey_ops {
	/* Insert key k (k->id, k->name, k->created_at, k->profiles; not
	 * revoked, never used) whose key hashes to hash (hex SHA-256), with
	 * scopes, the canonical text of its scopes (NULL: every scope). Rows
	 * read back carry k->scopes (rules/scope.h scope_from_stored) and
	 * k->profiles (malloc'd, NULL: all). */
	crt_status (*insert)(crt_ctx *ctx, const crt_apikey *k, const char *hash,
			     const char *scopes);
	/* Every key, revoked ones included, oldest first (created_at, id);
	 * *out freed with crt_apikey_list_free. */
	crt_status (*list)(crt_ctx *ctx, crt_apikey **out, size_t *n);
	/* The key whose hash is hash into *out (out->name malloc'd:
	 * crt_apikey_clear); CRT_E_APIKEY_NOT_FOUND if none. */
	crt_status (*find_by_hash)(crt_ctx *ctx, const char *hash, crt_apikey *out);
	/* Revoke key id at now, guarded by "not revoked yet" in the statement
	 * itself: *revoked = 1 when this call revoked it, 0 when it already was;
	 * CRT_E_APIKEY_NOT_FOUND if there is no such key. */
	crt_status (*revoke)(crt_ctx *ctx, const char *id, int64_t now, int *revoked);
	/* Set last_used_at = now only where the key was never used or last
	 * used at or before due, in one conditional statement (writers on
	 * several nodes skip a row another one just touched). *touched = 1
	 * when the row was written. */
	crt_status (*touch)(crt_ctx *ctx, const char *id, int64_t now, int64_t due, int *touched);
};

__attribute__((warn_unused_result)) static inline crt_status
store_apikey_insert(crt_ctx *ctx, const crt_apikey *k, const char *hash, const char *scopes)
{
	return STORE_CALL(ctx, apikeys, insert, k, hash, scopes);
}

__attribute__((warn_unused_result)) static inline crt_status
store_apikey_list(crt_ctx *ctx, crt_apikey **out, size_t *n)
{
	return STORE_CALL(ctx, apikeys, list, out, n);
}

__attribute__((warn_unused_result)) static inline crt_status
store_apikey_find_by_hash(crt_ctx *ctx, const char *hash, crt_apikey *out)
{
	return STORE_CALL(ctx, apikeys, find_by_hash, hash, out);
}

__attribute__((warn_unused_result)) static inline crt_status
store_apikey_revoke(crt_ctx *ctx, const char *id, int64_t now, int *revoked)
{
	return STORE_CALL(ctx, apikeys, revoke, id, now, revoked);
}

__attribute__((warn_unused_result)) static inline crt_status
store_apikey_touch(crt_ctx *ctx, const char *id, int64_t now, int64_t due, int *touched)
{
	return STORE_CALL(ctx, apikeys, touch, id, now, due, touched);
}

#endif /* CRTOKEN_STORE_PORT_APIKEYS_H */
