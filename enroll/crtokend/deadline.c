/*
 * deadline.c — the whole-request deadline.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that
 * sends one header byte every few seconds keeps its connection (and its
 * thread) for ever. Here every connection gets a deadline when it is
 * accepted: the request — TLS handshake, headers and body — must have
 * arrived completely by then. A reaper thread shuts down the socket of any
 * connection past its deadline; libmicrohttpd then sees the connection end
 * and cleans it up in its own thread. While a handler works the deadline
 * is paused (a redemption may wait for the store or PAM: that is the
 * server's time, not the client's) and the pause is added to it; once the
 * response is queued the next deadline starts: for sending the response, then for the next request
 * on a kept-alive connection.
 *
 * The socket is shut down under the table's lock, and a connection leaves
 * the table in libmicrohttpd's "closed" notification, which comes before
 * libmicrohttpd closes the descriptor — so the reaper never touches a
 * descriptor number that was already reused.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "crtokend.h"

struct deadline_conn {
	int fd;
	int64_t due;       /* monotonic seconds */
	int64_t paused_at; /* while a handler works, else 0 */
	int closed;        /* shut down by the reaper */
	char remote[64];   /* for the log line */
	struct deadline_conn *prev, *next;
};

struct deadlines {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t reaper;
	int timeout;
	int stopping;
	struct deadline_conn *head;
};

static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void *reap(void *arg)
{
	deadlines *d = arg;
	struct deadline_conn *c;
	struct timespec ts;
	int64_t now;

	pthread_mutex_lock(&d->mu);
	while (!d->stopping) {
		now = mono_s();
		for (c = d->head; c != NULL; c = c->next) {
			if (c->closed || c->paused_at != 0 || now < c->due)
				continue;
			c->closed = 1;
			(void)shutdown(c->fd, SHUT_RDWR);
			log_msg(LOG_INFO, "%s: request not complete within %d s: connection closed",
			        c->remote, d->timeout);
		}
		/* Half-second steps: a deadline is kept to within a second. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 500 * 1000 * 1000;
		if (ts.tv_nsec >= 1000 * 1000 * 1000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

deadlines *deadlines_start(int timeout)
{
	deadlines *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;

	if (d == NULL)
		return NULL;
	d->timeout = timeout;
	if (pthread_mutex_init(&d->mu, NULL) != 0)
		goto fail_free;
	if (pthread_condattr_init(&ca) != 0)
		goto fail_mu;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&d->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail_mu;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->reaper, NULL, reap, d) != 0)
		goto fail_cv;
	return d;
fail_cv:
	pthread_cond_destroy(&d->cv);
fail_mu:
	pthread_mutex_destroy(&d->mu);
fail_free:
	free(d);
	return NULL;
}

void deadlines_stop(deadlines *d)
{
	struct deadline_conn *c, *next;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->reaper, NULL);
	for (c = d->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

struct deadline_conn *deadline_add(deadlines *d, int fd, const char *remote)
{
	struct deadline_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	snprintf(c->remote, sizeof(c->remote), "%s", remote);
	pthread_mutex_lock(&d->mu);
	c->due = mono_s() + d->timeout;
	c->next = d->head;
	if (d->head != NULL)
		d->head->prev = c;
	d->head = c;
	pthread_mutex_unlock(&d->mu);
	return c;
}

void deadline_remove(deadlines *d, struct deadline_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&d->mu);
	free(c);
}

void deadline_pause(deadlines *d, struct deadline_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	c->paused_at = mono_s();
	pthread_mutex_unlock(&d->mu);
}

void deadline_resume(deadlines *d, struct deadline_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	if (c->paused_at != 0)
		c->due += mono_s() - c->paused_at;
	c->paused_at = 0;
	pthread_mutex_unlock(&d->mu);
}

void deadline_restart(deadlines *d, struct deadline_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	c->due = mono_s() + d->timeout;
	c->paused_at = 0;
	pthread_mutex_unlock(&d->mu);
}
