/*
 * sqlite_commit.c — writers of one store inside one process: a per-store writer
 * mutex and group commit of redemptions.
 *
 * SQLite admits one writer at a time and makes the others wait in a
 * sleeping busy handler (1, 2, 5, ... 100 ms), which turns a few concurrent
 * redemptions into seconds of tail latency. So every write transaction of a
 * process first takes this process's writer mutex for the store (threads
 * hand over in microseconds); the SQLite lock then only arbitrates between
 * processes (crtokend vs crtoken-admin, pam_crtoken) and between instances
 * opened separately in one process. The mutex and the queue live in the
 * instance (its backend slot), not in a process-wide registry.
 *
 * Redemptions go further: each caller verifies its CSR and signs its
 * certificate on its own thread, then queues the writes as values (a
 * store_redemption of port_tokens.h: the claim, the certificate row, the
 * audit row; the statements are sq_redeem_in_txn's). The first caller
 * to find no active leader commits everything queued (up to BATCH jobs) in
 * one transaction — each job inside its own SAVEPOINT, so one refusal never
 * undoes another — and wakes the others. One fsync then covers many
 * redemptions. The leader's own job is part of the batch it commits.
 * Refusals found before the commit phase (token used, bad CSR, ...) queue
 * just their audit row the same way.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"

#define BATCH 64

/* The writers of one store in one instance (and the instances reopened
 * from it): kept in the instance's backend slot (store_instance_state). */
struct store_shared {
	pthread_mutex_t wlock;   /* the writer mutex */
	pthread_mutex_t qlock;   /* protects the queue fields below */
	pthread_cond_t qcond;
	store_redemption *head, *tail;
	int leading;             /* a leader is committing a batch */
};

static void *shared_new(void)
{
	struct store_shared *s = calloc(1, sizeof(*s));
	if (s != NULL) {
		pthread_mutex_init(&s->wlock, NULL);
		pthread_mutex_init(&s->qlock, NULL);
		pthread_cond_init(&s->qcond, NULL);
	}
	return s;
}

static void shared_free(void *p)
{
	struct store_shared *s = p;
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->qlock);
	pthread_mutex_destroy(&s->wlock);
	free(s);
}

crt_status store_shared_attach(crt_ctx *ctx)
{
	ctx->conn->shared = store_instance_state(ctx, shared_new, shared_free);
	return ctx->conn->shared ? CRT_OK : CRT_E_NOMEM;
}

void store_writer_lock(crt_ctx *ctx)
{
	if (ctx->conn->shared != NULL)
		pthread_mutex_lock(&ctx->conn->shared->wlock);
}

void store_writer_unlock(crt_ctx *ctx)
{
	if (ctx->conn->shared != NULL)
		pthread_mutex_unlock(&ctx->conn->shared->wlock);
}

/* Commit a batch on ctx's connection; sets every job's answers and detail. */
static void run_batch(crt_ctx *ctx, store_redemption *batch)
{
	crt_status r = store_begin_write(ctx), broken = CRT_OK;
	store_redemption *j;

	for (j = batch; j != NULL && r == CRT_OK; j = j->next) {
		ctx_clear_detail(ctx);
		if ((broken = sq_redeem_in_txn(ctx, j)) != CRT_OK)
			break;
		snprintf(j->detail, sizeof(j->detail), "%s", ctx->detail);
	}
	if (r == CRT_OK && broken != CRT_OK) { /* a savepoint failed: undo the batch */
		store_rollback(ctx);
		r = broken;
	}
	if (r != CRT_OK) {
		for (j = batch; j != NULL; j = j->next) {
			j->status = r;
			j->claimed = 0;
			snprintf(j->detail, sizeof(j->detail), "%s", ctx->detail);
		}
		return;
	}
	if ((r = store_commit(ctx)) != CRT_OK)
		for (j = batch; j != NULL; j = j->next)
			if (j->status == CRT_OK && (j->claimed || j->audit_only)) {
				j->status = r; /* store_commit_unknown: claimed stays as it was */
				if (r != CRT_E_STORE_COMMIT_UNKNOWN)
					j->claimed = 0;
				snprintf(j->detail, sizeof(j->detail), "%s", ctx->detail);
			}
}

crt_status sq_group_commit(crt_ctx *ctx, store_redemption *job)
{
	struct store_shared *s = ctx->conn->shared;
	store_redemption *batch, *last;
	int n;

	job->status = CRT_OK;
	job->claimed = 0;
	job->detail[0] = '\0';
	if (s == NULL) { /* a read-only connection */
		job->status = ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE, "the store was opened read-only");
		snprintf(job->detail, sizeof(job->detail), "%s", ctx->detail);
		return job->status;
	}
	job->next = NULL;
	job->done = job->lead = 0;
	pthread_mutex_lock(&s->qlock);
	if (s->tail)
		s->tail->next = job;
	else
		s->head = job;
	s->tail = job;
	if (!s->leading) {
		s->leading = 1;
		job->lead = 1;
	}
	while (!job->done && !job->lead)
		pthread_cond_wait(&s->qcond, &s->qlock);
	if (job->done) {
		pthread_mutex_unlock(&s->qlock);
		snprintf(ctx->detail, sizeof(ctx->detail), "%s", job->detail);
		return job->status;
	}
	/* Lead: take up to BATCH queued jobs (ours is among them). */
	batch = last = s->head;
	for (n = 1; n < BATCH && last->next != NULL; n++)
		last = last->next;
	s->head = last->next;
	if (s->head == NULL)
		s->tail = NULL;
	last->next = NULL;
	pthread_mutex_unlock(&s->qlock);

	run_batch(ctx, batch);

	pthread_mutex_lock(&s->qlock);
	for (store_redemption *j = batch, *nx; j != NULL; j = nx) {
		nx = j->next; /* a finished follower may free its job at once */
		j->done = 1;
	}
	if (s->head != NULL)
		s->head->lead = 1; /* hand over: the next waiter commits the next batch */
	else
		s->leading = 0;
	pthread_cond_broadcast(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	snprintf(ctx->detail, sizeof(ctx->detail), "%s", job->detail);
	return job->status;
}

void group_commit_state(crt_ctx *ctx, int *queued, int *leading)
{
	struct store_shared *s = ctx->conn->shared;
	*queued = *leading = 0;
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->qlock);
	for (store_redemption *j = s->head; j != NULL; j = j->next)
		(*queued)++;
	*leading = s->leading;
	pthread_mutex_unlock(&s->qlock);
}
