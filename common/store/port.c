/*
 * port.c — choosing the backend named by [store] backend, and the core
 * dispatchers of the storage port (each through the fault seam).
 */
#include <string.h>

#include "store/port.h"

extern const store_ops store_sqlite_ops; /* store/sqlite.c */
#ifdef CRT_HAVE_LIBPQ
extern const store_ops store_pg_ops; /* store/pg.c */
#endif

static const store_ops *const backends[] = {
	&store_sqlite_ops,
#ifdef CRT_HAVE_LIBPQ
	&store_pg_ops,
#endif
};

const store_ops *store_backend(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

crt_status store_open(crt_ctx *ctx)
{
	const char *name = ctx->cfg.backend ? ctx->cfg.backend : "sqlite";
	if ((ctx->ops = store_backend(name)) == NULL)
		return ctx_fail(ctx, CRT_E_CONFIG,
				strcmp(name, "postgresql") == 0
					? "[store] backend = %s: crtoken was built without libpq "
					  "(install libpq-dev and rebuild)"
					: "[store] backend = %s: this build does not know it",
				name);
	return ctx->ops->open(ctx);
}

void store_close(crt_ctx *ctx)
{
	if (ctx->ops != NULL)
		ctx->ops->close(ctx);
}

crt_status store_begin_write(crt_ctx *ctx)
{
	if (store_fault_hit(ctx, 0))
		return store_fault_fail(ctx, "begin_write");
	return ctx->ops->begin_write(ctx);
}

crt_status store_commit(crt_ctx *ctx)
{
	if (store_fault_hit(ctx, 1)) {
		if (ctx->fault.status != CRT_E_STORE_COMMIT_UNKNOWN) {
			ctx->ops->rollback(ctx);
			return store_fault_fail(ctx, "commit");
		}
		crt_status r = ctx->ops->commit(ctx);
		return r != CRT_OK ? r : store_fault_fail(ctx, "commit");
	}
	return ctx->ops->commit(ctx);
}

void store_rollback(crt_ctx *ctx)
{
	ctx->ops->rollback(ctx);
}

int store_writable(const crt_ctx *ctx)
{
	return ctx->ops != NULL && ctx->ops->writable(ctx);
}

crt_status store_meta_get_int(crt_ctx *ctx, const char *key, int64_t *v)
{
	if (store_fault_hit(ctx, 0))
		return store_fault_fail(ctx, "meta_get");
	return ctx->ops->meta_get(ctx, key, v);
}

crt_status store_meta_set_int(crt_ctx *ctx, const char *key, int64_t v)
{
	if (store_fault_hit(ctx, 0))
		return store_fault_fail(ctx, "meta_set");
	return ctx->ops->meta_set(ctx, key, v);
}

crt_status store_meta_bump(crt_ctx *ctx, const char *key, int64_t *v)
{
	if (store_fault_hit(ctx, 0))
		return store_fault_fail(ctx, "meta_bump");
	return ctx->ops->meta_bump(ctx, key, v);
}

crt_status store_snapshot(crt_ctx *ctx, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (store_fault_hit(ctx, 0))
		return store_fault_fail(ctx, "snapshot");
	return ctx->ops->snapshot(ctx, out, len);
}
