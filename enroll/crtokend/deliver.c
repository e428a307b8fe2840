/*
 * deliver.c — crtokend's event delivery thread: one session of its own over
 * the current instance (followed across reloads), a crt_events_deliver pass
 * whenever a request that may have changed something completes
 * (deliverer_wake), when a retry falls due, and at least every
 * [events] poll_interval (events of other nodes and of crtoken-admin).
 * Several crtokend nodes on one store share the work through the delivery
 * lease (port_events.h); delivery is at least once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crtokend.h"

struct deliverer {
	ctx_pool *pool;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int wake, stop;
};

static void wait_until(struct deliverer *d, int64_t until)
{
	struct timespec ts = {.tv_sec = (time_t)until, .tv_nsec = 0};
	pthread_mutex_lock(&d->mu);
	while (!d->wake && !d->stop) {
		if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) == ETIMEDOUT)
			break;
	}
	d->wake = 0;
	pthread_mutex_unlock(&d->mu);
}

static void *run(void *arg)
{
	struct deliverer *d = arg;
	crt_ctx *ctx = NULL;
	crt_instance *cur = NULL;
	int failing = 0;

	for (;;) {
		pthread_mutex_lock(&d->mu);
		int stop = d->stop;
		d->wake = 0; /* a pass starts now: it sees what was woken for */
		pthread_mutex_unlock(&d->mu);
		if (stop)
			break;
		crt_instance *inst = pool_instance(d->pool);
		if (inst != cur || ctx == NULL) { /* a reload: a session over the new instance */
			crt_close(ctx);
			ctx = NULL;
			crt_instance_unref(cur);
			cur = inst;
			if (crt_session_open(cur, 0, &ctx) != CRT_OK) {
				log_msg(LOG_ERR, "events: no store session: %s",
				        ctx ? crt_errdetail(ctx) : "out of memory");
				crt_close(ctx);
				ctx = NULL;
			}
		} else {
			crt_instance_unref(inst);
		}
		const crt_config *cfg = crt_instance_config(cur);
		int64_t next = crt_now() + cfg->events_poll;
		crt_events_pass p = {0};
		crt_status s = ctx ? crt_events_deliver(ctx, NULL, &p) : CRT_E_STORE_UNAVAILABLE;
		if (s != CRT_OK) {
			if (!failing)
				log_msg(LOG_WARNING, "events: delivery pass: %s: %s", crt_status_name(s),
				        ctx ? crt_errdetail(ctx) : "");
			failing = 1;
		} else {
			failing = 0;
			if (p.attempted > 0)
				log_msg(LOG_INFO,
				        "events: %zu attempted: %zu delivered, %zu to retry, %zu failed",
				        p.attempted, p.delivered, p.retrying, p.failed);
			/* a full batch: more may be due at once */
			if (p.attempted >= (size_t)cfg->events_batch || p.routed >= 500)
				continue;
			if (p.next_due != 0 && p.next_due < next)
				next = p.next_due;
		}
		wait_until(d, next);
	}
	crt_close(ctx);
	crt_instance_unref(cur);
	return NULL;
}

struct deliverer *deliverer_start(ctx_pool *pool)
{
	struct deliverer *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;

	if (d == NULL)
		return NULL;
	d->pool = pool;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->thread, NULL, run, d) != 0) {
		pthread_cond_destroy(&d->cv);
		pthread_mutex_destroy(&d->mu);
		free(d);
		return NULL;
	}
	return d;
}

void deliverer_wake(struct deliverer *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->wake = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

void deliverer_stop(struct deliverer *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
