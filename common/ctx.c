/*
 * ctx.c — instances and sessions.
 *
 * An instance (crt_instance) is one configuration loaded once: the parsed
 * config, the CA certificate, key and chain, the OTP sealing key, and the
 * slot where the storage backend keeps what its writers of one store share
 * inside the process. It is immutable after crt_instance_open returns and
 * reference-counted with atomics, so threads share it without a lock.
 *
 * A session (crt_ctx) is one store connection over an instance plus the
 * detail of its last failure; it holds a reference to its instance, so the
 * instance lives as long as its last session. crt_open is both in one call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>

#include "attest.h"
#include "internal.h"

crt_status ctx_fail(crt_ctx *ctx, crt_status s, const char *fmt, ...)
{
	va_list ap;
	if (ctx == NULL)
		return s;
	va_start(ap, fmt);
	vsnprintf(ctx->detail, sizeof(ctx->detail), fmt, ap);
	va_end(ap);
	return s;
}

void ctx_clear_detail(crt_ctx *ctx)
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

/* ------------------------------------------------------------ the backend slot */

static crt_status slot_attach(crt_instance *inst, const crt_instance *prev)
{
	const crt_config *c = &inst->cfg;
	struct store_slot *s;
	size_t n = strlen(c->backend ? c->backend : "") + strlen(c->database ? c->database : "") + 2;
	char *key = malloc(n);

	if (key == NULL)
		return CRT_E_NOMEM;
	snprintf(key, n, "%s\n%s", c->backend ? c->backend : "", c->database ? c->database : "");
	if (prev != NULL && prev->slot != NULL && strcmp(prev->slot->key, key) == 0) {
		free(key);
		__atomic_add_fetch(&prev->slot->refs, 1, __ATOMIC_RELAXED);
		inst->slot = prev->slot;
		return CRT_OK;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		free(key);
		return CRT_E_NOMEM;
	}
	s->refs = 1;
	s->key = key;
	inst->slot = s;
	return CRT_OK;
}

static void slot_unref(struct store_slot *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (s->state != NULL)
		s->state_free(s->state);
	pthread_mutex_destroy(&s->mu);
	free(s->key);
	free(s);
}

void *store_instance_state(crt_ctx *ctx, void *(*make)(void), void (*free_fn)(void *))
{
	struct store_slot *s = ctx->inst->slot;
	void *state;

	pthread_mutex_lock(&s->mu);
	if (s->state == NULL && (s->state = make()) != NULL)
		s->state_free = free_fn;
	state = s->state;
	pthread_mutex_unlock(&s->mu);
	return state;
}

/* ------------------------------------------------------------ the OTP sealing key */

/* Read [otp] key_file into inst: the key, or the status and message the OTP
 * calls report when they need it (so an instance without a usable key still
 * opens, as before: only OTP fails). */
static void otp_key_load(crt_instance *inst)
{
	const char *path = inst->cfg.otp_key_file;
	char *d = inst->otp_key_detail, *data = NULL, why[600];
	size_t dn = sizeof(inst->otp_key_detail), len = 0;
	crt_status r;

	if (path == NULL || *path == '\0') {
		inst->otp_key_status = CRT_E_CONFIG;
		snprintf(d, dn, "[otp] key_file is not set");
		return;
	}
	if ((r = read_trusted(path, 4096, CRT_TRUST_SECRET, &data, &len, why, sizeof(why))) !=
	    CRT_OK) {
		if (r == CRT_E_UNSAFE_PERMISSIONS) {
			inst->otp_key_status = r;
			snprintf(d, dn, "OTP key file: %s", why);
		} else {
			inst->otp_key_status = r == CRT_E_NOMEM ? r : CRT_E_IO;
			snprintf(d, dn, "cannot read OTP key file: %s", why);
		}
		return;
	}
	if (len != CRT_OTP_KEY_LEN) {
		inst->otp_key_status = CRT_E_SEAL;
		snprintf(d, dn, "OTP key file %s must hold exactly %d bytes", path, CRT_OTP_KEY_LEN);
	} else {
		memcpy(inst->otp_key, data, CRT_OTP_KEY_LEN);
		inst->otp_key_status = CRT_OK;
	}
	crt_freezero(data, len);
}

crt_status instance_otp_key(crt_ctx *ctx, unsigned char key[CRT_OTP_KEY_LEN])
{
	const crt_instance *inst = ctx->inst;
	if (inst->otp_key_status != CRT_OK)
		return ctx_fail(ctx, inst->otp_key_status, "%s", inst->otp_key_detail);
	memcpy(key, inst->otp_key, CRT_OTP_KEY_LEN);
	return CRT_OK;
}

/* ------------------------------------------------------------ instances */

static void instance_free(crt_instance *inst)
{
	ocsp_signer_free(inst);
	sk_X509_pop_free(inst->attest_roots, X509_free);
	sk_X509_pop_free(inst->import_issuers, X509_free);
	ca_free(inst);
	crt_config_clear(&inst->cfg);
	slot_unref(inst->slot);
	OPENSSL_cleanse(inst, sizeof(*inst));
	free(inst);
}

crt_instance *crt_instance_ref(crt_instance *inst)
{
	if (inst != NULL)
		__atomic_add_fetch(&inst->refs, 1, __ATOMIC_RELAXED);
	return inst;
}

void crt_instance_unref(crt_instance *inst)
{
	if (inst != NULL && __atomic_sub_fetch(&inst->refs, 1, __ATOMIC_ACQ_REL) == 0)
		instance_free(inst);
}

const crt_config *crt_instance_config(const crt_instance *inst)
{
	return &inst->cfg;
}

const char *crt_instance_ca_pem(const crt_instance *inst)
{
	return inst->cas_pem ? inst->cas_pem : "";
}

crt_status instance_open(const char *path, unsigned flags, const crt_instance *prev,
			 crt_instance **out, char *err, size_t errlen)
{
	crt_instance *inst = calloc(1, sizeof(*inst));
	crt_ctx *tmp = NULL;
	char dummy[8];
	crt_status r;

	*out = NULL;
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (inst == NULL)
		return CRT_E_NOMEM;
	inst->refs = 1;
	inst->flags = flags;
	if ((r = crt_config_load(path, &inst->cfg, err, errlen)) != CRT_OK ||
	    (r = slot_attach(inst, prev)) != CRT_OK)
		goto out;
	if (flags & CRT_OPEN_NO_OTP_KEY) {
		inst->otp_key_status = CRT_E_CONFIG;
		snprintf(inst->otp_key_detail, sizeof(inst->otp_key_detail),
			 "the OTP sealing key is not loaded: opened read-only or without it");
	} else {
		otp_key_load(inst);
	}
	if (!(flags & CRT_OPEN_NO_CA)) {
		/* The CA loader reports through a session: one without a store. */
		if ((tmp = calloc(1, sizeof(*tmp))) == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		session_rebind(tmp, crt_instance_ref(inst));
		tmp->flags = flags;
		if ((r = ca_load(tmp)) != CRT_OK)
			snprintf(err, errlen, "%s", tmp->detail);
		else
			ocsp_signer_load(tmp);
		crt_close(tmp);
		/* the attestation roots: only redemption (which needs the CA) uses them */
		if (r == CRT_OK && inst->cfg.attest_roots != NULL &&
		    (r = attest_roots_load(inst->cfg.attest_roots, &inst->attest_roots, err,
		                           errlen)) == CRT_E_IO)
			r = CRT_E_CONFIG;
		/* the trusted issuers of uploads: only what signs (and so has the CA) uses them */
		if (r == CRT_OK && inst->cfg.import_issuers != NULL &&
		    (r = import_issuers_load(inst->cfg.import_issuers, &inst->import_issuers, err,
					     errlen)) == CRT_E_IO)
			r = CRT_E_CONFIG;
	}
out:
	if (r != CRT_OK)
		crt_instance_unref(inst);
	else
		*out = inst;
	return r;
}

crt_status crt_instance_open(const char *config_path, unsigned flags, crt_instance **out,
			     char *err, size_t errlen)
{
	if (flags & ~(unsigned)(CRT_OPEN_NO_CA | CRT_OPEN_NO_OTP_KEY)) {
		*out = NULL;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "crt_instance_open: flags %#x are not instance flags",
				 flags);
		return CRT_E_INVALID_ARGUMENT;
	}
	return instance_open(config_path, flags, NULL, out, err, errlen);
}

crt_status crt_instance_reopen(const crt_instance *prev, crt_instance **out, char *err,
			       size_t errlen)
{
	return instance_open(prev->cfg.path, prev->flags & ~(unsigned)CRT_OPEN_CREATE, prev, out,
			     err, errlen);
}

/* An instance over another store: src's config (read again from its file)
 * with [store] pointing at backend/where, without CA or OTP key, creating
 * the store (a copy's target). */
crt_status instance_open_store(const crt_instance *src, const char *backend, const char *where,
			       crt_instance **out, char *err, size_t errlen)
{
	crt_instance *inst = calloc(1, sizeof(*inst));
	crt_config *c;
	crt_status r;

	*out = NULL;
	if (inst == NULL)
		return CRT_E_NOMEM;
	inst->refs = 1;
	inst->flags = CRT_OPEN_NO_CA | CRT_OPEN_NO_OTP_KEY | CRT_OPEN_CREATE;
	c = &inst->cfg;
	if ((r = crt_config_load(src->cfg.path, c, err, errlen)) != CRT_OK)
		goto out;
	free(c->backend);
	free(c->database);
	free(c->conninfo);
	free(c->read_conninfo);
	c->database = c->conninfo = c->read_conninfo = NULL;
	c->backend = strdup(backend);
	if (strcmp(backend, "sqlite") == 0)
		c->database = strdup(where);
	else
		c->conninfo = strdup(where);
	if (c->backend == NULL || (c->database == NULL && c->conninfo == NULL)) {
		r = CRT_E_NOMEM;
		goto out;
	}
	r = slot_attach(inst, NULL);
	inst->otp_key_status = CRT_E_CONFIG;
	snprintf(inst->otp_key_detail, sizeof(inst->otp_key_detail),
		 "the OTP sealing key is not loaded: a copy target");
out:
	if (r != CRT_OK)
		crt_instance_unref(inst);
	else
		*out = inst;
	return r;
}

/* ------------------------------------------------------------ sessions */

void session_rebind(crt_ctx *ctx, crt_instance *inst)
{
	crt_instance *old = ctx->inst;

	ctx->inst = inst;
	/* cfg is const to the domain; only this function writes the view. */
	memcpy((void *)&ctx->cfg, &inst->cfg, sizeof(ctx->cfg));
	ca_select_default(ctx);
	crt_instance_unref(old);
}

crt_instance *crt_session_instance(const crt_ctx *ctx)
{
	return ctx->inst;
}

/* Start ctx as a session over inst, which the caller's reference passes to. */
static crt_status session_start(crt_ctx *ctx, crt_instance *inst, unsigned flags)
{
	session_rebind(ctx, inst);
	ctx->flags = inst->flags | flags;
	return store_open(ctx);
}

crt_status crt_session_open(crt_instance *inst, unsigned flags, crt_ctx **out)
{
	crt_ctx *ctx = calloc(1, sizeof(*ctx));

	*out = ctx;
	if (ctx == NULL)
		return CRT_E_NOMEM;
	if (inst == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "crt_session_open: no instance");
	if (flags & ~(unsigned)CRT_OPEN_READONLY)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
				"crt_session_open: flags %#x are not session flags", flags);
	return session_start(ctx, crt_instance_ref(inst), flags);
}

crt_status crt_open(const char *config_path, unsigned flags, crt_ctx **out)
{
	crt_ctx *ctx = calloc(1, sizeof(*ctx));
	crt_instance *inst;
	crt_status r;

	*out = ctx;
	if (ctx == NULL)
		return CRT_E_NOMEM;
	/* A read-only session never seals nor opens an OTP secret: a read-only
	 * reader (rlm_crtoken) does not hold the key. */
	unsigned iflags = flags & (CRT_OPEN_NO_CA | CRT_OPEN_NO_OTP_KEY | CRT_OPEN_CREATE);
	if (flags & CRT_OPEN_READONLY)
		iflags |= CRT_OPEN_NO_OTP_KEY;
	r = instance_open(config_path, iflags, NULL, &inst, ctx->detail, sizeof(ctx->detail));
	if (r != CRT_OK)
		return r;
	/* The session holds the instance's only reference: crt_close frees both. */
	return session_start(ctx, inst, flags & (CRT_OPEN_READONLY | CRT_OPEN_CREATE));
}

void crt_close(crt_ctx *ctx)
{
	if (ctx == NULL)
		return;
	OSSL_DECODER_CTX_free(ctx->spki_decoder);
	EVP_PKEY_free(ctx->spki_out);
	ca_cfssl_session_free(ctx->remote_http);
	store_close(ctx);
	crt_instance_unref(ctx->inst);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}
