/*
 * ratelimit.c — login attempts per remote address.
 *
 * Each address has a window that starts at its first attempt; max_failures
 * failures inside the window block further attempts from it until the
 * window ends (429 + Retry-After). An attempt is reserved before it is
 * evaluated (PAM, API key) and counts against the limit while it runs, so
 * parallel attempts cannot all pass the check before any of them has
 * failed: at most max_failures are ever evaluated per window. IPv6
 * addresses count per /64 (one host usually holds a whole /64), IPv4-mapped
 * ones as their IPv4 address. The table is bounded: when full, expired
 * windows are reused first, then the oldest one without attempts in flight
 * — so an attacker spraying addresses can dilute the table but never grow
 * memory.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

#define RL_SLOTS 4096

struct rl_entry {
	char addr[64];
	int64_t start; /* window start (first attempt) */
	int failures;
	int pending; /* attempts reserved and not yet released */
	int noted;   /* first refusal of this window already reported */
};

struct ratelimit {
	pthread_mutex_t mu;
	size_t used;
	struct rl_entry e[RL_SLOTS];
};

ratelimit *ratelimit_new(void)
{
	ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl != NULL && pthread_mutex_init(&rl->mu, NULL) != 0) {
		free(rl);
		return NULL;
	}
	return rl;
}

void ratelimit_free(ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

static struct rl_entry *find(ratelimit *rl, const char *addr)
{
	size_t i;

	for (i = 0; i < rl->used; i++)
		if (strcmp(rl->e[i].addr, addr) == 0)
			return &rl->e[i];
	return NULL;
}

void ratelimit_key(const char *addr, char *out, size_t len)
{
	struct in6_addr a6;
	char buf[64], text[INET6_ADDRSTRLEN];

	snprintf(buf, sizeof(buf), "%s", addr);
	buf[strcspn(buf, "%")] = '\0'; /* a zone index is not part of the host */
	if (inet_pton(AF_INET6, buf, &a6) != 1) {
		snprintf(out, len, "%s", addr);
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		if (inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof(text)) != NULL) {
			snprintf(out, len, "%s", text);
			return;
		}
	}
	memset(&a6.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &a6, text, sizeof(text)) == NULL)
		snprintf(out, len, "%s", addr);
	else
		snprintf(out, len, "%s/64", text);
}

/* A slot for a new address: a fresh one, else an expired one, else the
 * oldest without attempts in flight (the oldest of all if every one has). */
static struct rl_entry *take_slot(ratelimit *rl, int window, int64_t now)
{
	struct rl_entry *oldest = NULL, *oldest_idle = NULL;
	size_t i;

	if (rl->used < RL_SLOTS)
		return &rl->e[rl->used++];
	for (i = 0; i < RL_SLOTS; i++) {
		if (now - rl->e[i].start >= window && rl->e[i].pending == 0)
			return &rl->e[i];
		if (oldest == NULL || rl->e[i].start < oldest->start)
			oldest = &rl->e[i];
		if (rl->e[i].pending == 0 &&
		    (oldest_idle == NULL || rl->e[i].start < oldest_idle->start))
			oldest_idle = &rl->e[i];
	}
	return oldest_idle != NULL ? oldest_idle : oldest;
}

int ratelimit_reserve(ratelimit *rl, const char *addr, int max_failures, int window, int64_t now,
                      int *first)
{
	struct rl_entry *e;
	char key[64];
	int wait = 0;

	if (first != NULL)
		*first = 0;
	if (max_failures <= 0 || window <= 0)
		return 0;
	ratelimit_key(addr, key, sizeof(key));
	pthread_mutex_lock(&rl->mu);
	if ((e = find(rl, key)) == NULL) {
		e = take_slot(rl, window, now);
		memset(e, 0, sizeof(*e));
		snprintf(e->addr, sizeof(e->addr), "%s", key);
		e->start = now;
	} else if (now - e->start >= window) {
		e->start = now;
		e->failures = 0;
		e->noted = 0;
	}
	if (e->failures + e->pending >= max_failures) {
		/* Blocked by failures: until the window ends. Only by attempts
		 * still running: they may succeed, so ask again shortly. */
		wait = e->failures >= max_failures ? (int)(e->start + window - now) : 1;
		if (wait < 1)
			wait = 1;
		if (e->failures >= max_failures && !e->noted && first != NULL)
			*first = 1;
		if (e->failures >= max_failures)
			e->noted = 1;
	} else {
		e->pending++;
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

void ratelimit_release(ratelimit *rl, const char *addr, int failed)
{
	struct rl_entry *e;
	char key[64];

	ratelimit_key(addr, key, sizeof(key));
	pthread_mutex_lock(&rl->mu);
	/* Not found: the slot went to another address meanwhile (full table). */
	if ((e = find(rl, key)) != NULL) {
		if (e->pending > 0)
			e->pending--;
		if (failed)
			e->failures++;
	}
	pthread_mutex_unlock(&rl->mu);
}

/* Ends the attempt auth.c reserved for rq (if any): counted as a failure or
 * not. The handlers that finish an attempt (login, unauthenticated
 * redemption) call it; a request never leaves one reserved. */
void auth_attempt_done(struct request *rq, int failed)
{
	if (!rq->attempt_reserved)
		return;
	rq->attempt_reserved = 0;
	ratelimit_release(rq->srv->rl, rq->remote, failed);
}
