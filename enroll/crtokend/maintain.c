/*
 * maintain.c — crtokend's scheduled work: a thread that runs crt_maintain
 * (CRL before nextUpdate, token purge, superseded certificates, expired
 * certificate requests, expiry reminders) every [maintenance] interval, and
 * at once on SIGUSR1 (main.c). It borrows a session from the pool like a
 * request, so it shares the instance's writer queue and follows reloads
 * (interval and enabled are read from the current instance before every
 * wait). Other nodes and crtoken-admin maintain may run at the same moment:
 * crt_maintain has one effect.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crtokend.h"

struct maintainer {
	server *srv;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kicked, stopping;
};

static void run_once(struct maintainer *m)
{
	struct pool_entry *pe = pool_acquire(m->srv->pool);
	crt_maintain_report rep;
	crt_ctx *ctx = pool_ctx(pe);
	crt_status s = crt_maintain(ctx, "crtokend", &rep);

	if (s != CRT_OK)
		log_msg(LOG_ERR, "scheduled work: %s: %s", crt_status_name(s), crt_errdetail(ctx));
	else
		log_msg(LOG_INFO,
		        "scheduled work: CRL #%lld%s, %zu tokens purged, %zu certificates superseded, "
		        "%zu certificate requests expired, %zu expiry reminders raised",
		        (long long)rep.crl_number, rep.crl_resigned ? " signed" : " fresh",
		        rep.tokens_purged, rep.superseded, rep.requests_expired, rep.expiring_raised);
	pool_release(m->srv->pool, pe);
}

static void *loop(void *arg)
{
	struct maintainer *m = arg;
	struct timespec due;
	crt_instance *inst;
	int64_t interval;
	int enabled, run;

	pthread_mutex_lock(&m->mu);
	while (!m->stopping) {
		inst = pool_instance(m->srv->pool);
		interval = crt_instance_config(inst)->maintain_interval;
		enabled = crt_instance_config(inst)->maintain_enabled;
		crt_instance_unref(inst);
		clock_gettime(CLOCK_MONOTONIC, &due);
		due.tv_sec += (time_t)interval;
		while (!m->stopping && !m->kicked &&
		       pthread_cond_timedwait(&m->cv, &m->mu, &due) == 0)
			;
		if (m->stopping)
			break;
		run = m->kicked || enabled;
		m->kicked = 0;
		if (!run)
			continue;
		pthread_mutex_unlock(&m->mu);
		run_once(m);
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

maintainer *maintainer_start(server *srv)
{
	struct maintainer *m = calloc(1, sizeof(*m));
	pthread_condattr_t ca;
	crt_instance *inst;

	if (m == NULL)
		return NULL;
	m->srv = srv;
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&m->thread, NULL, loop, m) != 0) {
		pthread_cond_destroy(&m->cv);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return NULL;
	}
	inst = pool_instance(srv->pool);
	if (crt_instance_config(inst)->maintain_enabled)
		log_msg(LOG_NOTICE, "scheduled work every %lld s (SIGUSR1: now)",
		        (long long)crt_instance_config(inst)->maintain_interval);
	else
		log_msg(LOG_NOTICE, "scheduled work off ([maintenance] enabled = no; SIGUSR1: now)");
	crt_instance_unref(inst);
	return m;
}

void maintainer_kick(maintainer *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->kicked = 1;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

void maintainer_stop(maintainer *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stopping = 1;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}
