/*
 * ctx.c — opening and closing an instance (config → store → CA) and the
 * per-ctx failure detail that accompanies every status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>

#include "internal.h"

crt_status crt_fail(crt_ctx *ctx, crt_status s, const char *fmt, ...)
{
	va_list ap;
	if (ctx == NULL)
		return s;
	va_start(ap, fmt);
	vsnprintf(ctx->detail, sizeof(ctx->detail), fmt, ap);
	va_end(ap);
	return s;
}

void crt_clear_detail(crt_ctx *ctx)
{
	ctx->detail[0] = '\0';
}

const char *crt_errdetail(const crt_ctx *ctx)
{
	return ctx == NULL ? "" : ctx->detail;
}

const crt_config *crt_get_config(const crt_ctx *ctx)
{
	return &ctx->cfg;
}

crt_status crt_open(const char *config_path, unsigned flags, crt_ctx **out)
{
	crt_ctx *ctx = calloc(1, sizeof(*ctx));
	crt_status r;

	*out = ctx;
	if (ctx == NULL)
		return CRT_E_NOMEM;
	ctx->flags = flags;
	if ((r = crt_config_load(config_path, &ctx->cfg, ctx->detail, sizeof(ctx->detail))) !=
	    CRT_OK)
		return r;
	if ((r = store_open(ctx)) != CRT_OK)
		return r;
	if (!(flags & CRT_OPEN_NO_CA) && (r = ca_load(ctx)) != CRT_OK)
		return r;
	return CRT_OK;
}

void crt_close(crt_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ca_free(ctx);
	OSSL_DECODER_CTX_free(ctx->spki_decoder);
	EVP_PKEY_free(ctx->spki_out);
	store_close(ctx);
	crt_config_clear(&ctx->cfg);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}
