/*
 * pool.c — the crt_ctx pool shared by the connection threads.
 *
 * A crt_ctx is one SQLite connection plus the loaded CA and is not
 * thread-safe, so a request borrows one for the length of a single
 * libmicrohttpd callback (or less) and gives it back; when all are lent
 * out, the next request waits. The pool (--workers contexts) is opened up
 * front by the main thread: a request never opens the instance itself, so a
 * configuration broken on disk after start cannot take the service down. A
 * reload (SIGHUP) opens a complete new set first and swaps it in only if
 * every one opened; contexts on loan when the swap happens are closed as
 * they come back.
 *
 * Beside the contexts the pool keeps a snapshot of what every request may
 * read without borrowing one: the configuration and the CA certificate
 * chain. It is immutable and reference-counted; a reload swaps in a new one
 * and the old one goes when its last request ends. So the public routes
 * (/healthz, /ca.pem) and the checks before a request's body is read never
 * wait for a context, however many slow logins or uploads are under way.
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

struct pool_snapshot {
	crt_ctx *ctx;  /* read-only, no CA key: only its configuration is used */
	char *ca_pem;  /* the CA certificate and its chain */
	unsigned refs; /* under the pool's mutex */
};

struct ctx_pool {
	const char *config;
	unsigned size;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool_entry *free;
	unsigned generation;
	struct pool_snapshot *snap;
};

static void snapshot_free(struct pool_snapshot *s)
{
	if (s == NULL)
		return;
	crt_close(s->ctx);
	free(s->ca_pem);
	free(s);
}

/* A snapshot of config, with the CA chain as loaded by the context `with`. */
static struct pool_snapshot *snapshot_open(const char *config, crt_ctx *with)
{
	struct pool_snapshot *s = calloc(1, sizeof(*s));
	crt_ca_info ci;
	crt_status r;
	const char *pem;

	memset(&ci, 0, sizeof(ci));
	if (s == NULL)
		goto fail;
	s->refs = 1;
	if ((r = crt_open(config, CRT_OPEN_NO_CA | CRT_OPEN_READONLY, &s->ctx)) != CRT_OK) {
		log_msg(LOG_ERR, "%s: %s", crt_status_name(r),
		        s->ctx ? crt_errdetail(s->ctx) : crt_status_message(r));
		goto fail;
	}
	if ((r = crt_ca_get(with, &ci)) != CRT_OK) {
		log_msg(LOG_ERR, "%s: %s", crt_status_name(r), crt_errdetail(with));
		goto fail;
	}
	pem = ci.chain_pem && *ci.chain_pem ? ci.chain_pem : ci.pem;
	if ((s->ca_pem = strdup(pem ? pem : "")) == NULL)
		goto fail;
	crt_ca_info_clear(&ci);
	return s;
fail:
	crt_ca_info_clear(&ci);
	snapshot_free(s);
	return NULL;
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
	if ((p->snap = snapshot_open(config, p->free->ctx)) == NULL) {
		entries_close(p->free);
		free(p);
		return NULL;
	}
	return p;
}

int pool_reload(ctx_pool *p)
{
	struct pool_entry *fresh, *old;
	struct pool_snapshot *snap, *old_snap;

	if ((fresh = entries_open(p->config, p->size, p->generation + 1)) == NULL)
		return -1;
	if ((snap = snapshot_open(p->config, fresh->ctx)) == NULL) {
		entries_close(fresh);
		return -1;
	}
	pthread_mutex_lock(&p->mu);
	old = p->free;
	p->free = fresh;
	p->generation++;
	old_snap = p->snap;
	p->snap = snap;
	if (--old_snap->refs != 0)
		old_snap = NULL; /* the last request using it frees it */
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	entries_close(old);
	snapshot_free(old_snap);
	return 0;
}

const struct pool_snapshot *pool_snapshot_get(ctx_pool *p)
{
	struct pool_snapshot *s;

	pthread_mutex_lock(&p->mu);
	s = p->snap;
	s->refs++;
	pthread_mutex_unlock(&p->mu);
	return s;
}

void pool_snapshot_put(ctx_pool *p, const struct pool_snapshot *cs)
{
	struct pool_snapshot *s = (struct pool_snapshot *)cs;

	if (s == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	if (--s->refs != 0)
		s = NULL;
	pthread_mutex_unlock(&p->mu);
	snapshot_free(s);
}

const crt_config *snapshot_config(const struct pool_snapshot *s)
{
	return crt_get_config(s->ctx);
}

const char *snapshot_ca_pem(const struct pool_snapshot *s)
{
	return s->ca_pem;
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
	if (p->snap != NULL && --p->snap->refs == 0)
		snapshot_free(p->snap);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
