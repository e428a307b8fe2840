/*
 * port.h — the storage port: what libcrtoken asks of a store, as domain
 * verbs. No SQL and no backend type appears above this header; a backend
 * (store/sqlite*.c today) fills a store_ops table and the domain files call
 * the store_* dispatchers below, never a backend function directly.
 *
 * Rules of the port (docs/ARCHITECTURE.md, "The storage port"):
 *  - A verb that must be atomic on a multi-writer database is atomic by its
 *    own statement (a conditional UPDATE whose row count is the answer, a
 *    row lock, UPDATE ... RETURNING), never by an outer lock the backend
 *    happens to hold.
 *  - Verbs report failures with ctx_fail(ctx, ...) and a crt_status; a
 *    backend maps its own error codes (store_busy, store_unavailable, ...).
 *  - Verbs never call up into the domain (redemption, OTP, CRL): what a
 *    write needs is handed down as values.
 *  - Every dispatcher passes through the fault seam (store/fault.c), so a
 *    test can fail the Nth store call of a ctx with a chosen status.
 *
 * Each area of the domain declares its verbs in its own header
 * (port_<area>.h), included at the end of this one.
 */
#ifndef CRTOKEN_STORE_PORT_H
#define CRTOKEN_STORE_PORT_H

#include "internal.h"

struct store_token_ops;
struct store_otp_ops;
struct store_cert_ops;
struct store_apikey_ops;
struct store_audit_ops;
struct store_event_ops;
struct store_copy_ops;
struct store_request_ops;

typedef struct store_ops {
	const char *name; /* the [store] backend value that selects it */
	/* Connect to the store cfg names, create it when ctx->flags has
	 * CRT_OPEN_CREATE, migrate it forward (never when read-only) and set
	 * ctx->conn. On failure ctx->conn may be set; close releases it. */
	crt_status (*open)(crt_ctx *ctx);
	void (*close)(crt_ctx *ctx);
	/* A write transaction: serialised with every other writer of the
	 * store for the rows it touches. */
	crt_status (*begin_write)(crt_ctx *ctx);
	crt_status (*commit)(crt_ctx *ctx);
	void (*rollback)(crt_ctx *ctx);
	/* Whether this connection may write (read-only readers cannot). */
	int (*writable)(const crt_ctx *ctx);
	/* Integer rows of the meta table; a missing key reads as 0. */
	crt_status (*meta_get)(crt_ctx *ctx, const char *key, int64_t *v);
	crt_status (*meta_set)(crt_ctx *ctx, const char *key, int64_t v);
	/* Add 1 to an integer meta row and return the new value in *v, atomic
	 * by its own statement (UPDATE ... RETURNING): two writers never get
	 * the same value. A missing key is CRT_E_STORE. */
	crt_status (*meta_bump)(crt_ctx *ctx, const char *key, int64_t *v);
	/* A consistent copy of the whole store as one file's bytes (malloc'd;
	 * the caller wipes and frees them), taken while writers carry on. */
	crt_status (*snapshot)(crt_ctx *ctx, unsigned char **out, size_t *len);

	const struct store_token_ops *tokens;
	const struct store_otp_ops *otp;
	const struct store_cert_ops *certs;
	const struct store_apikey_ops *apikeys;
	const struct store_audit_ops *audit;
	const struct store_event_ops *events;
	const struct store_copy_ops *copy;
	const struct store_request_ops *requests;
	const struct store_pkcs12_ops *pkcs12;
} store_ops;

/* The backend named name ("sqlite"), or NULL. */
const store_ops *store_backend(const char *name);

/* --- the fault seam (store/fault.c) ---
 * Arm ctx so that its nth store call from now (1 = the next one) fails
 * with status s, once. s = CRT_E_STORE_COMMIT_UNKNOWN is a lost commit: the
 * nth commit from now really commits and then reports the outcome unknown
 * (as a connection lost during COMMIT would). Only calls through the
 * dispatchers count. n = 0 disarms. */
void store_fault_arm(crt_ctx *ctx, int n, crt_status s);
/* How many store calls ctx made since it was armed (to size loops that
 * fail every call in turn). */
int store_fault_calls(const crt_ctx *ctx);
/* 1 when the call about to be made must fail (its status is then
 * store_fault_status). Called by the dispatchers. */
int store_fault_hit(crt_ctx *ctx, int is_commit);
crt_status store_fault_fail(crt_ctx *ctx, const char *verb);

/* Dispatch verb of the table at (ctx)->ops->area, through the fault seam. */
#define STORE_CALL(ctx, area, verb, ...)                                                \
	(store_fault_hit((ctx), 0) ? store_fault_fail((ctx), #verb)                     \
				   : (ctx)->ops->area->verb((ctx), __VA_ARGS__))

/* --- core dispatchers (store/port.c) --- */
crt_status store_open(crt_ctx *ctx);
void store_close(crt_ctx *ctx);
crt_status store_begin_write(crt_ctx *ctx) __attribute__((warn_unused_result));
crt_status store_commit(crt_ctx *ctx) __attribute__((warn_unused_result));
void store_rollback(crt_ctx *ctx);
int store_writable(const crt_ctx *ctx);
crt_status store_meta_get_int(crt_ctx *ctx, const char *key, int64_t *v)
	__attribute__((warn_unused_result));
crt_status store_meta_set_int(crt_ctx *ctx, const char *key, int64_t v)
	__attribute__((warn_unused_result));
crt_status store_meta_bump(crt_ctx *ctx, const char *key, int64_t *v)
	__attribute__((warn_unused_result));
crt_status store_snapshot(crt_ctx *ctx, unsigned char **out, size_t *len)
	__attribute__((warn_unused_result));

/* --- the areas' verbs and dispatchers --- */
#include "store/port_certs.h"
#include "store/port_tokens.h"
#include "store/port_audit.h"
#include "store/port_otp.h"
#include "store/port_apikeys.h"
#include "store/port_events.h"
#include "store/port_copy.h"
#include "store/port_requests.h"
#include "store/port_pkcs12.h"

#endif /* CRTOKEN_STORE_PORT_H */
