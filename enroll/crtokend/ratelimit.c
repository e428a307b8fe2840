/*
 * ratelimit.c — failed logins per remote address.
 *
 * Each address has a window that starts at its first failure; max_failures
 * failures inside the window block further login attempts from it until the
 * window ends (429 + Retry-After). The table is bounded: when full, expired
 * windows are reused first, then the oldest one — so an attacker spraying
 * addresses can dilute the table but never grow memory.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

#define RL_SLOTS 4096

struct rl_entry {
	char addr[64];
	int64_t start; /* window start (first failure) */
	int failures;
	int noted; /* first refusal of this window already reported */
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

/* A slot for a new address: a fresh one, else an expired one, else the oldest. */
static struct rl_entry *take_slot(ratelimit *rl, int window, int64_t now)
{
	struct rl_entry *oldest = NULL;
	size_t i;

	if (rl->used < RL_SLOTS)
		return &rl->e[rl->used++];
	for (i = 0; i < RL_SLOTS; i++) {
		if (now - rl->e[i].start >= window)
			return &rl->e[i];
		if (oldest == NULL || rl->e[i].start < oldest->start)
			oldest = &rl->e[i];
	}
	return oldest;
}

int ratelimit_check(ratelimit *rl, const char *addr, int max_failures, int window, int64_t now,
                    int *first)
{
	struct rl_entry *e;
	int wait = 0;

	if (first != NULL)
		*first = 0;
	if (max_failures <= 0 || window <= 0)
		return 0;
	pthread_mutex_lock(&rl->mu);
	e = find(rl, addr);
	if (e != NULL && now - e->start < window && e->failures >= max_failures) {
		wait = (int)(e->start + window - now);
		if (wait < 1)
			wait = 1;
		if (!e->noted && first != NULL)
			*first = 1;
		e->noted = 1;
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

void ratelimit_fail(ratelimit *rl, const char *addr, int window, int64_t now)
{
	struct rl_entry *e;

	pthread_mutex_lock(&rl->mu);
	if ((e = find(rl, addr)) == NULL) {
		e = take_slot(rl, window, now);
		memset(e, 0, sizeof(*e));
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
		e->start = now;
	} else if (now - e->start >= window) {
		e->start = now;
		e->failures = 0;
		e->noted = 0;
	}
	e->failures++;
	pthread_mutex_unlock(&rl->mu);
}
