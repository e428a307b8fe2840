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
 * certificate on its own thread, then queues the writes. The first caller
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
	redeem_job *head, *tail;
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

static void savepoint(crt_ctx *ctx, const char *sql)
{
	sqlite3_exec(ctx->conn->db, sql, NULL, NULL, NULL);
}

/* Commit a batch on ctx's connection; sets every job's status and detail. */
static void run_batch(crt_ctx *ctx, redeem_job *batch)
{
	crt_status r = store_begin_write(ctx);
	redeem_job *j;

	for (j = batch; j != NULL; j = j->next) {
		if (r != CRT_OK) {
			j->status = r;
		} else if (j->audit_only) {
			redeem_audit_refusal_in_txn(ctx, j); /* j->status is the refusal */
		} else {
			crt_clear_detail(ctx);
			savepoint(ctx, "SAVEPOINT job");
			j->status = redeem_apply(ctx, j);
			if (j->status != CRT_OK)
				savepoint(ctx, "ROLLBACK TO job");
			savepoint(ctx, "RELEASE job");
			if (j->status != CRT_OK && !j->retry)
				redeem_audit_refusal_in_txn(ctx, j);
		}
		snprintf(j->detail, sizeof(j->detail), "%s", ctx->detail);
	}
	if (r != CRT_OK)
		return;
	if ((r = store_commit(ctx)) != CRT_OK)
		for (j = batch; j != NULL; j = j->next)
			if (j->status == CRT_OK) {
				j->status = r;
				snprintf(j->detail, sizeof(j->detail), "%s", ctx->detail);
				crt_cert_clear(j->out);
			}
}

crt_status group_commit(crt_ctx *ctx, redeem_job *job)
{
	struct store_shared *s = ctx->conn->shared;
	redeem_job *batch, *last;
	int n;

	if (s == NULL) /* a read-only connection */
		return crt_fail(ctx, CRT_E_STORE_UNAVAILABLE, "the store was opened read-only");
	job->next = NULL;
	job->done = job->lead = 0;
	/* ctx signed the job's certificate; the leader that stores it may be a
	 * context of another CA generation (after a CA swap and reload). */
	job->chain_pem = ctx->ca_chain_pem;
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
	for (redeem_job *j = batch, *nx; j != NULL; j = nx) {
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
	for (redeem_job *j = s->head; j != NULL; j = j->next)
		(*queued)++;
	*leading = s->leading;
	pthread_mutex_unlock(&s->qlock);
}
