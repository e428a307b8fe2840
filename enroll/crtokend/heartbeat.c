/*
 * heartbeat.c — on PostgreSQL, keep the store's heartbeat fresh: every
 * HEARTBEAT_SECONDS one write of meta('heartbeat') = now through a session
 * of this thread's own (never one a request waits for), so readers on
 * standbys ([store] max_staleness) can tell a live primary from a
 * replication that stopped. On SQLite there is nothing to do: readers read
 * the writers' file. Follows reloads: a new instance gets a new session.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "crtokend.h"

#define HEARTBEAT_SECONDS 2

static struct {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, stop;
	ctx_pool *pool;
} hb = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int on_postgresql(const crt_instance *inst)
{
	const char *b = crt_instance_config(inst)->backend;
	return b != NULL && strcmp(b, "postgresql") == 0;
}

static void *heartbeat_main(void *arg)
{
	crt_instance *cur = NULL;
	crt_ctx *ctx = NULL;
	crt_status last = CRT_OK;

	(void)arg;
	pthread_mutex_lock(&hb.mu);
	while (!hb.stop) {
		pthread_mutex_unlock(&hb.mu);
		crt_instance *inst = pool_instance(hb.pool);
		if (inst != cur) { /* first tick, or reloaded */
			crt_close(ctx);
			ctx = NULL;
			crt_instance_unref(cur);
			cur = inst;
		} else {
			crt_instance_unref(inst);
		}
		if (on_postgresql(cur)) {
			crt_status r = ctx ? CRT_OK : crt_session_open(cur, 0, &ctx);
			if (r == CRT_OK)
				r = crt_store_heartbeat(ctx);
			if (r != CRT_OK && r != last)
				log_msg(LOG_WARNING, "heartbeat: %s: %s", crt_status_name(r),
				        ctx ? crt_errdetail(ctx) : "");
			else if (r == CRT_OK && last != CRT_OK)
				log_msg(LOG_NOTICE, "heartbeat written again");
			if (r != CRT_OK) { /* a fresh connection next time */
				crt_close(ctx);
				ctx = NULL;
			}
			last = r;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += HEARTBEAT_SECONDS;
		pthread_mutex_lock(&hb.mu);
		while (!hb.stop && pthread_cond_timedwait(&hb.cv, &hb.mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&hb.mu);
	crt_close(ctx);
	crt_instance_unref(cur);
	return NULL;
}

int heartbeat_start(ctx_pool *pool)
{
	hb.pool = pool;
	hb.stop = 0;
	if (pthread_create(&hb.th, NULL, heartbeat_main, NULL) != 0) {
		log_msg(LOG_ERR, "heartbeat: cannot start its thread");
		return -1;
	}
	hb.running = 1;
	return 0;
}

void heartbeat_stop(void)
{
	if (!hb.running)
		return;
	pthread_mutex_lock(&hb.mu);
	hb.stop = 1;
	pthread_cond_signal(&hb.cv);
	pthread_mutex_unlock(&hb.mu);
	pthread_join(hb.th, NULL);
	hb.running = 0;
}
