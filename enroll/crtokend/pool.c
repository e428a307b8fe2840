/*
 * pool.c — the instance crtokend serves and the pool of sessions over it.
 *
 * The instance (crt_instance: configuration, CA, OTP sealing key) is loaded
 * once and shared read-only by every thread. A session (crt_ctx: one store
 * connection) is not thread-safe, so a request borrows one for the length
 * of a single libmicrohttpd callback (or less) and gives it back; when all
 * are lent out, the next request waits. The sessions (--workers) are opened
 * up front by the main thread: a request never opens one itself, so a
 * configuration or store broken on disk after start cannot take the service
 * down.
 *
 * A reload (SIGHUP) opens a new instance (crt_instance_reopen: the files are
 * read again; the store's writer queue is shared with the old generation)
 * and a complete set of sessions over it, and swaps both in, under the
 * pool's mutex, only if everything opened. Sessions on loan when the swap
 * happens finish their request on the old instance and are closed as they
 * come back; the last of them frees the old instance.
 *
 * What a request may read without borrowing a session — the configuration
 * and the CA chain — it reads from the instance it took a reference to when
 * it began (pool_instance), valid across reloads until it drops it. So the
 * public routes (/healthz, /ca.pem) and the checks before a request's body
 * is read never wait for a session, however many slow logins or uploads are
 * under way.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

struct pool_entry {
	crt_ctx *ctx;
	unsigned generation;
	struct pool_entry *next;
};

struct ctx_pool {
	unsigned size;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_entry *free;
	unsigned generation;
	crt_instance *inst; /* the current instance (the pool's reference) */
};

static void log_failure(crt_status s, const char *detail)
{
	log_msg(LOG_ERR, "%s: %s%s%s", crt_status_name(s), crt_status_message(s),
	        *detail ? ": " : "", detail);
}

static void entries_close(struct pool_entry *e)
{
	struct pool_entry *next;

	for (; e != NULL; e = next) {
		next = e->next;
		crt_close(e->ctx);
		free(e);
	}
}

/* n fresh sessions over inst, of generation gen, or NULL (logged). */
static struct pool_entry *entries_open(crt_instance *inst, unsigned n, unsigned gen)
{
	struct pool_entry *list = NULL, *e;
	crt_ctx *ctx;
	crt_status s;
	unsigned i;

	for (i = 0; i < n; i++) {
		ctx = NULL;
		s = crt_session_open(inst, 0, &ctx);
		if (s != CRT_OK) {
			log_failure(s, crt_errdetail(ctx));
			crt_close(ctx);
			goto fail;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			crt_close(ctx);
			log_msg(LOG_ERR, "out of memory");
			goto fail;
		}
		e->ctx = ctx;
		e->generation = gen;
		e->next = list;
		list = e;
	}
	return list;
fail:
	entries_close(list);
	return NULL;
}

ctx_pool *pool_open(const char *config, unsigned n)
{
	ctx_pool *p = calloc(1, sizeof(*p));
	char err[640];
	crt_status s;

	if (p == NULL)
		return NULL;
	p->size = n;
	if (pthread_mutex_init(&p->mu, NULL) != 0 || pthread_cond_init(&p->cv, NULL) != 0) {
		free(p);
		return NULL;
	}
	if ((s = crt_instance_open(config, 0, &p->inst, err, sizeof(err))) != CRT_OK) {
		log_failure(s, err);
		goto fail;
	}
	if ((p->free = entries_open(p->inst, n, 0)) == NULL)
		goto fail;
	return p;
fail:
	crt_instance_unref(p->inst);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return NULL;
}

int pool_reload(ctx_pool *p)
{
	struct pool_entry *fresh, *old;
	crt_instance *inst, *old_inst;
	char err[640];
	crt_status s;

	/* Only the main thread reloads: p->inst cannot change under us here. */
	if ((s = crt_instance_reopen(p->inst, &inst, err, sizeof(err))) != CRT_OK) {
		log_failure(s, err);
		return -1;
	}
	if ((fresh = entries_open(inst, p->size, p->generation + 1)) == NULL) {
		crt_instance_unref(inst);
		return -1;
	}
	pthread_mutex_lock(&p->mu);
	old = p->free;
	p->free = fresh;
	p->generation++;
	old_inst = p->inst;
	p->inst = inst;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	entries_close(old);
	crt_instance_unref(old_inst); /* freed with the last session or request on it */
	return 0;
}

crt_instance *pool_instance(ctx_pool *p)
{
	crt_instance *inst;

	pthread_mutex_lock(&p->mu);
	inst = crt_instance_ref(p->inst);
	pthread_mutex_unlock(&p->mu);
	return inst;
}

struct pool_entry *pool_acquire(ctx_pool *p)
{
	struct pool_entry *e;

	pthread_mutex_lock(&p->mu);
	while (p->free == NULL)
		pthread_cond_wait(&p->cv, &p->mu);
	e = p->free;
	p->free = e->next;
	e->next = NULL;
	pthread_mutex_unlock(&p->mu);
	return e;
}

crt_ctx *pool_ctx(const struct pool_entry *e)
{
	return e->ctx;
}

void pool_release(ctx_pool *p, struct pool_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (e->generation == p->generation) {
		e->next = p->free;
		p->free = e;
		e = NULL;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	entries_close(e); /* from before a reload */
}

void pool_close(ctx_pool *p)
{
	if (p == NULL)
		return;
	entries_close(p->free);
	crt_instance_unref(p->inst);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
