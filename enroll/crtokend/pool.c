/*
 * pool.c — the crt_ctx pool shared by the connection threads.
 *
 * A crt_ctx is one SQLite connection plus the loaded CA and is not
 * thread-safe, so a request borrows one for the length of a single
 * libmicrohttpd callback and gives it back; when all are lent out, the next
 * request waits. The pool (--workers contexts) is opened up front by the
 * main thread: a request never opens the instance itself, so a
 * configuration broken on disk after start cannot take the service down. A reload (SIGHUP) opens a
 * complete new set first and swaps it in only if every one opened; contexts on loan when the swap
 * happens are closed as they come back.
 */
#include <pthread.h>
#include <stdlib.h>

#include "crtokend.h"

struct pool_entry {
	crt_ctx *ctx;
	unsigned generation;
	struct pool_entry *next;
};

struct ctx_pool {
	const char *config;
	unsigned size;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_entry *free;
	unsigned generation;
};

static void entries_close(struct pool_entry *e)
{
	struct pool_entry *next;

	for (; e != NULL; e = next) {
		next = e->next;
		crt_close(e->ctx);
		free(e);
	}
}

/* n freshly opened entries of generation gen, or NULL (logged). */
static struct pool_entry *entries_open(const char *config, unsigned n, unsigned gen)
{
	struct pool_entry *list = NULL, *e;
	crt_ctx *ctx;
	crt_status s;
	unsigned i;

	for (i = 0; i < n; i++) {
		ctx = NULL;
		s = crt_open(config, 0, &ctx);
		if (s != CRT_OK) {
			log_msg(LOG_ERR, "%s: %s%s%s", crt_status_name(s), crt_status_message(s),
			        ctx && *crt_errdetail(ctx) ? ": " : "",
			        ctx ? crt_errdetail(ctx) : "");
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

	if (p == NULL)
		return NULL;
	p->config = config;
	p->size = n;
	if (pthread_mutex_init(&p->mu, NULL) != 0 || pthread_cond_init(&p->cv, NULL) != 0 ||
	    (p->free = entries_open(config, n, 0)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

int pool_reload(ctx_pool *p)
{
	struct pool_entry *fresh, *old;

	if ((fresh = entries_open(p->config, p->size, p->generation + 1)) == NULL)
		return -1;
	pthread_mutex_lock(&p->mu);
	old = p->free;
	p->free = fresh;
	p->generation++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	entries_close(old);
	return 0;
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
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
