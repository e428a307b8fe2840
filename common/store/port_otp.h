/*
 * port_otp.h — the OTP verbs of the storage port: one row per enrolled
 * user (sealed secret, parameters, replay and lockout counters). Included
 * at the end of store/port.h; the SQLite implementation is
 * store/sqlite_otp.c.
 *
 * Every verb reports store failures as a crt_status with the detail set
 * (store_busy, store_unavailable, ...). A user without a row is
 * CRT_E_OTP_NOT_ENROLLED wherever a row is needed.
 */
#ifndef CRTOKEN_STORE_PORT_OTP_H
#define CRTOKEN_STORE_PORT_OTP_H

#include <stdlib.h>
#include <string.h>

/* A new row (store_otp_insert); the counters start cleared (last_step -1). */
typedef struct store_otp_new {
	const char *user;
	const unsigned char *sealed; /* the sealed secret (otp.c), sealed_len bytes */
	size_t sealed_len;
	const char *algorithm; /* SHA1, SHA256, SHA512 */
	int digits, period;
	int64_t created_at;
} store_otp_new;

/* A row loaded for a verification (store_otp_load_lock). */
typedef struct store_otp_locked {
	crt_otp_info info;     /* info.user malloc'd; algorithm "" when the row has none */
	unsigned char *sealed; /* malloc'd, NULL when the row has none */
	size_t sealed_len;
} store_otp_locked;

/* The counters a verification writes back (store_otp_save). */
typedef struct store_otp_counters {
	int64_t last_step;
	int failures;
	int64_t locked_until;
	int lockouts;
} store_otp_counters;

struct store_otp_ops {
	/* user's row into *out (out->user malloc'd: crt_otp_info_clear). */
	crt_status (*get)(crt_ctx *ctx, const char *user, crt_otp_info *out);
	/* Every row, ordered by user name; *out freed with crt_otp_list_free. */
	crt_status (*list)(crt_ctx *ctx, crt_otp_info **out, size_t *n);
	/* Insert a row; CRT_E_EXISTS if the user has one (unique user name). */
	crt_status (*insert)(crt_ctx *ctx, const store_otp_new *row);
	/* Delete user's row. */
	crt_status (*remove)(crt_ctx *ctx, const char *user);
	/* Clear user's failures, lockout and lockouts. */
	crt_status (*unlock)(crt_ctx *ctx, const char *user);
	/* Inside a write transaction only: load user's row and lock it against
	 * every other writer until commit or rollback (a PostgreSQL backend:
	 * SELECT ... FOR UPDATE), so that read, decide and save are one step.
	 * CRT_E_INTERNAL outside a write transaction. */
	crt_status (*load_lock)(crt_ctx *ctx, const char *user, store_otp_locked *out);
	/* Write the counters of user's row (the row load_lock locked). */
	crt_status (*save)(crt_ctx *ctx, const char *user, const store_otp_counters *c);
};

static inline void store_otp_locked_clear(store_otp_locked *l)
{
	crt_otp_info_clear(&l->info);
	crt_freezero(l->sealed, l->sealed_len);
	memset(l, 0, sizeof(*l));
}

__attribute__((warn_unused_result)) static inline crt_status
store_otp_get(crt_ctx *ctx, const char *user, crt_otp_info *out)
{
	return STORE_CALL(ctx, otp, get, user, out);
}

__attribute__((warn_unused_result)) static inline crt_status
store_otp_list(crt_ctx *ctx, crt_otp_info **out, size_t *n)
{
	return STORE_CALL(ctx, otp, list, out, n);
}

__attribute__((warn_unused_result)) static inline crt_status
store_otp_insert(crt_ctx *ctx, const store_otp_new *row)
{
	return STORE_CALL(ctx, otp, insert, row);
}

__attribute__((warn_unused_result)) static inline crt_status
store_otp_remove(crt_ctx *ctx, const char *user)
{
	return STORE_CALL(ctx, otp, remove, user);
}

__attribute__((warn_unused_result)) static inline crt_status
store_otp_unlock(crt_ctx *ctx, const char *user)
{
	return STORE_CALL(ctx, otp, unlock, user);
}

__attribute__((warn_unused_result)) static inline crt_status
store_otp_load_lock(crt_ctx *ctx, const char *user, store_otp_locked *out)
{
	return STORE_CALL(ctx, otp, load_lock, user, out);
}

__attribute__((warn_unused_result)) static inline crt_status
store_otp_save(crt_ctx *ctx, const char *user, const store_otp_counters *c)
{
	return STORE_CALL(ctx, otp, save, user, c);
}

#endif /* CRTOKEN_STORE_PORT_OTP_H */
