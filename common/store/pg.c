/*
 * pg.c — the PostgreSQL backend of the storage port: connecting (libpq,
 * with timeouts and keepalives unless the conninfo sets its own), session
 * settings, write transactions at READ COMMITTED, the per-connection
 * lazily prepared statements, the SQLSTATE map and the meta verbs.
 *
 * Atomicity across nodes is never the transaction's: every verb that must
 * not race is one conditional statement or takes a row lock (see the area
 * files). One transaction per redemption, no SAVEPOINT batching
 * (MULTINODE.md §1.2).
 *
 * A connection found broken (connection-class SQLSTATE, admin shutdown, a
 * read-only server) is reset before its next statement outside a
 * transaction; inside one the transaction is lost and the caller sees
 * store_unavailable (or store_commit_unknown when it was the COMMIT).
 *
 * Every statement is sent without blocking and waited for until a deadline
 * on the client side (readers: READER_WAIT_MS; writers: [store]
 * write_timeout_ms); a connection that got no answer in time is dropped
 * (closed at once, reopened before the next statement outside a
 * transaction).
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/pg.h"

/*
 * A read-only session (rlm_crtoken's, on a RADIUS thread) waits at most
 * READER_WAIT_MS for an answer (less when [store] statement_timeout_ms is
 * lower), and the server cancels its side at the same time (its
 * statement_timeout). A server that cannot answer at all — its backend
 * stopped or hung, the host gone without a reset — is not helped by
 * statement_timeout (the server enforces it), nor by TCP keepalives or
 * tcp_user_timeout (the kernel keeps acknowledging): only a deadline on
 * the client side bounds the wait, after which the connection is dropped
 * (store_unavailable; the next statement reconnects).
 *
 * A writer (crtokend, crtoken-admin, pam_crtoken, rlm_crtoken's MAC pin)
 * waits at most [store] write_timeout_ms, never less than the server's
 * statement_timeout + WRITER_MARGIN_MS: a statement the server is still
 * running (a lock wait, a slow plan) is cancelled by the server first,
 * with a clear answer (store_busy), and only a server that cannot answer
 * meets the client's deadline. Then the connection is dropped: the
 * statement fails with store_unavailable, and the transaction with it (the
 * server rolls back a transaction whose connection is gone) — unless it
 * was the COMMIT, whose outcome is then not known (store_commit_unknown:
 * the callers read it back). 0: no deadline (wait for the server).
 */
#define READER_WAIT_MS 1000
#define WRITER_MARGIN_MS 1000

static int reader_wait_ms(const crt_ctx *ctx)
{
	int t = ctx->cfg.statement_timeout_ms;
	return t > 0 && t < READER_WAIT_MS ? t : READER_WAIT_MS;
}

static int writer_wait_ms(const crt_ctx *ctx)
{
	int w = ctx->cfg.write_timeout_ms, st = ctx->cfg.statement_timeout_ms;
	if (w <= 0)
		return 0;
	return st > 0 && st > w - WRITER_MARGIN_MS ? st + WRITER_MARGIN_MS : w;
}

/* This session's wait for one answer in ms; 0: none. */
static int wait_ms(const crt_ctx *ctx)
{
	return pg_c(ctx)->readonly ? reader_wait_ms(ctx) : writer_wait_ms(ctx);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline (CLOCK_MONOTONIC ms) of a wait of ms from now; ms 0: none. */
static int64_t deadline_in(int ms)
{
	return ms > 0 ? mono_ms() + ms : INT64_MAX;
}

/* The result of the command just sent (PQsendPrepare / PQsendQueryPrepared
 * / PQsendQueryParams / PQsendQuery), waited for until deadline
 * (CLOCK_MONOTONIC ms, INT64_MAX: none): the last result, as PQexec would
 * answer. NULL with *timed_out set when the deadline passed first; NULL
 * alone when the connection failed. */
static PGresult *wait_result(PGconn *pg, int64_t deadline, int *timed_out)
{
	PGresult *last = NULL, *r;

	*timed_out = 0;
	for (;;) {
		while (!PQisBusy(pg)) {
			if ((r = PQgetResult(pg)) == NULL)
				return last;
			PQclear(last);
			last = r;
			if (PQstatus(pg) != CONNECTION_OK)
				return last;
		}
		int64_t left = deadline == INT64_MAX ? -1 : deadline - mono_ms();
		if (deadline != INT64_MAX && left <= 0) {
			PQclear(last);
			*timed_out = 1;
			return NULL;
		}
		struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
		int n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0 && errno != EINTR) {
			PQclear(last);
			return NULL;
		}
		if (n > 0 && !PQconsumeInput(pg))
			return last != NULL ? last : PQgetResult(pg);
	}
}

void pp_text(pg_params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void pp_int(pg_params *p, int64_t i)
{
	snprintf(p->buf[p->n], sizeof(p->buf[0]), "%" PRId64, i);
	pp_text(p, p->buf[p->n]);
}

void pp_blob(pg_params *p, const void *b, size_t n)
{
	p->v[p->n] = b != NULL ? b : "";
	p->len[p->n] = (int)n;
	p->fmt[p->n] = 1;
	p->n++;
}

int64_t pg_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int pg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

char *pg_strdup(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

crt_status pg_rows_alloc(const PGresult *r, size_t size, void *list, int *cnt)
{
	void **l = list;
	*l = NULL;
	if ((*cnt = PQntuples(r)) == 0)
		return CRT_OK;
	return (*l = calloc((size_t)*cnt, size)) == NULL ? CRT_E_NOMEM : CRT_OK;
}

unsigned char *pg_bytea(const PGresult *r, int row, int col, size_t *len)
{
	*len = 0;
	if (PQgetisnull(r, row, col))
		return NULL;
	unsigned char *t = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), len);
	if (t == NULL)
		return NULL;
	unsigned char *out = malloc(*len ? *len : 1);
	if (out != NULL)
		memcpy(out, t, *len);
	explicit_bzero(t, *len);
	PQfreemem(t);
	return out;
}

static int state_is(const char *st, const char *code)
{
	return st != NULL && strcmp(st, code) == 0;
}

crt_status pg_error(crt_ctx *ctx, PGresult *res, const char *what)
{
	struct pg_conn *c = pg_c(ctx);
	const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *m = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char msg[300];
	crt_status s = CRT_E_STORE;

	snprintf(msg, sizeof(msg), "%s", m != NULL ? m : c && c->pg ? PQerrorMessage(c->pg) : "");
	msg[strcspn(msg, "\n")] = '\0';
	if (c == NULL || c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK ||
	    (st != NULL && (strncmp(st, "08", 2) == 0 || state_is(st, "57P01") ||
			    state_is(st, "57P02") || state_is(st, "57P03") ||
			    state_is(st, "53300")))) {
		s = CRT_E_STORE_UNAVAILABLE;
		if (c != NULL)
			c->broken = 1;
	} else if (state_is(st, "40001") || state_is(st, "40P01") || state_is(st, "55P03") ||
		   state_is(st, "57014")) {
		s = CRT_E_STORE_BUSY;
	} else if (state_is(st, "25006")) {
		s = CRT_E_STORE_READONLY;
		c->broken = 1;
	} else if (state_is(st, "23505")) {
		s = CRT_E_EXISTS;
	}
	return ctx_fail(ctx, s, "%s: %s%s%s%s", what, msg[0] ? msg : "no answer from the server",
			st ? " (SQLSTATE " : "", st ? st : "", st ? ")" : "");
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* the library never prints (NOTICEs included) */
}

/* Drop the connection at once: a server that did not answer is not waited
 * for again (non-blocking, so not even the Terminate message can block the
 * close). The next statement outside a transaction opens a new one. */
static void pg_drop(struct pg_conn *c)
{
	if (c->pg != NULL) {
		(void)PQsetnonblocking(c->pg, 1);
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->nstmts = 0;
	c->broken = 1;
}

/* The connection of a session that got no answer in time: dropped. */
static crt_status timed_out(crt_ctx *ctx, const char *what)
{
	struct pg_conn *c = pg_c(ctx);
	pg_drop(c);
	if (c->readonly)
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
				"%s: no answer from PostgreSQL within %d ms (the connection is "
				"dropped)",
				what, reader_wait_ms(ctx));
	return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
			"%s: no answer from PostgreSQL within %d ms ([store] write_timeout_ms; the "
			"connection is dropped)",
			what, writer_wait_ms(ctx));
}

/* sql (simple protocol; several statements allowed) sent and waited for
 * within the session's wait: *res the last result (NULL when the connection
 * failed: PQresultStatus says PGRES_FATAL_ERROR), CRT_OK; or a status when
 * it timed out (the connection dropped). */
static crt_status simple_exec(crt_ctx *ctx, const char *sql, PGresult **res, const char *what)
{
	struct pg_conn *c = pg_c(ctx);
	int late;

	*res = NULL;
	if (c->pg == NULL || !PQsendQuery(c->pg, sql))
		return CRT_OK;
	*res = wait_result(c->pg, deadline_in(wait_ms(ctx)), &late);
	return late ? timed_out(ctx, what) : CRT_OK;
}

crt_status pg_simple(crt_ctx *ctx, const char *sql, const char *what)
{
	PGresult *res;
	crt_status r = simple_exec(ctx, sql, &res, what);
	if (r == CRT_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pg_error(ctx, res, what);
	PQclear(res);
	return r;
}

/* Session settings of a fresh (or reset) connection; a writer learns which
 * server session it has (one round trip all the same). */
static crt_status session_setup(crt_ctx *ctx)
{
	struct pg_conn *c = pg_c(ctx);
	char sql[400];
	PGresult *res;
	crt_status r;

	PQsetNoticeProcessor(c->pg, quiet, NULL);
	snprintf(sql, sizeof(sql),
		 "SET statement_timeout = %d; SET synchronous_commit = %s%s",
		 c->readonly ? reader_wait_ms(ctx) : ctx->cfg.statement_timeout_ms,
		 ctx->cfg.durability == CRT_DURABILITY_NORMAL ? "off" : "on",
		 c->readonly ? "; SET default_transaction_read_only = on"
			     : "; SELECT pid, (extract(epoch FROM backend_start) * 1000000)::bigint "
			       "FROM pg_stat_activity WHERE pid = pg_backend_pid()");
	c->nstmts = 0; /* a new server session has no prepared statements */
	c->self_pid = 0;
	if (c->readonly)
		return pg_simple(ctx, sql, "setting up the store session");
	if ((r = simple_exec(ctx, sql, &res, "setting up the store session")) != CRT_OK)
		return r;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		r = pg_error(ctx, res, "setting up the store session");
	else if (PQntuples(res) == 1) {
		c->self_pid = (int)pg_int(res, 0, 0);
		c->self_start = pg_int(res, 0, 1);
	}
	PQclear(res);
	return r;
}

/* The COMMIT of this writer's server session went unanswered: remember the
 * session, ended before the outcome is read back. */
static void lost_commit(struct pg_conn *c)
{
	if (c->self_pid != 0) {
		c->lost_pid = c->self_pid;
		c->lost_start = c->self_start;
	}
}

/*
 * On a new connection after a COMMIT that went unanswered: the server
 * session that received it may still be running it (frozen until now, or
 * waiting for a synchronous standby), and could commit after a read-back
 * found nothing. End it first (pg_terminate_backend waits until it is gone;
 * identified by pid and start time, so never another session) — from then
 * on the outcome is final, and what a read-back finds is the answer. A
 * session that does not end in time keeps the connection failing
 * (store_unavailable) so no read-back is trusted; on another server (a
 * failover) nothing matches and nothing is done.
 */
static crt_status lost_commit_settle(crt_ctx *ctx)
{
	static const char q[] = "SELECT pg_terminate_backend(pid, $3) FROM pg_stat_activity "
				"WHERE pid = $1 AND "
				"(extract(epoch FROM backend_start) * 1000000)::bigint = $2";
	struct pg_conn *c = pg_c(ctx);
	int w = writer_wait_ms(ctx);
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	if (c->lost_pid == 0 || c->readonly || c->settling)
		return CRT_OK;
	c->settling = 1; /* its own statement does not settle again */
	pp_int(&p, c->lost_pid);
	pp_int(&p, c->lost_start);
	pp_int(&p, w > 0 ? (w / 2 > 100 ? w / 2 : 100) : 1000);
	r = pg_exec(ctx, q, &p, &res, NULL, "ending the session of the lost COMMIT");
	c->settling = 0;
	if (r != CRT_OK) {
		if (r != CRT_E_STORE_UNAVAILABLE)
			c->lost_pid = 0; /* not allowed or not there: nothing to wait for */
		return r == CRT_E_STORE_UNAVAILABLE ? r : CRT_OK;
	}
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
				"the server session of the lost COMMIT (pid %d) is still running",
				c->lost_pid);
	}
	PQclear(res);
	c->lost_pid = 0;
	return CRT_OK;
}

static crt_status pg_connect(crt_ctx *ctx, const char *ci)
{
	struct pg_conn *c = pg_c(ctx);
	/* Defaults first, the configured string last (dbname, expanded): what
	 * the conninfo sets wins (libpq: the last value processed is kept). */
	static const char *const kw[] = {"connect_timeout", "tcp_user_timeout", "keepalives",
					 "keepalives_idle", "keepalives_interval",
					 "keepalives_count", "application_name", "dbname",
					 NULL};
	const char *val[] = {"3",
			     "3000",
			     "1",
			     "10",
			     "5",
			     "3",
			     program_invocation_short_name[0] ? program_invocation_short_name
							      : "crtoken",
			     ci,
			     NULL};
	c->pg = PQconnectdbParams(kw, val, 1);
	if (c->pg == NULL)
		return CRT_E_NOMEM;
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->pg));
		msg[strcspn(msg, "\n")] = '\0';
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE, "connecting to PostgreSQL: %s", msg);
	}
	return session_setup(ctx);
}

/* Before a statement outside a transaction: reconnect a broken (or
 * dropped) connection. */
static crt_status ensure_connected(crt_ctx *ctx)
{
	struct pg_conn *c = pg_c(ctx);
	crt_status r;

	if (c == NULL || (c->pg == NULL && c->ci == NULL))
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE, "the store is not connected");
	if (c->pg != NULL && !c->broken && PQstatus(c->pg) == CONNECTION_OK)
		return c->lost_pid != 0 && !c->in_txn ? lost_commit_settle(ctx) : CRT_OK;
	if (c->in_txn)
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
				"the connection to PostgreSQL was lost in a transaction");
	if (c->pg == NULL) {
		if ((r = pg_connect(ctx, c->ci)) != CRT_OK)
			return r;
	} else {
		PQreset(c->pg);
		if (PQstatus(c->pg) != CONNECTION_OK) {
			char msg[400];
			snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c->pg));
			msg[strcspn(msg, "\n")] = '\0';
			return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
					"reconnecting to PostgreSQL: %s", msg);
		}
		if ((r = session_setup(ctx)) != CRT_OK)
			return r;
	}
	c->broken = 0;
	return lost_commit_settle(ctx);
}

static crt_status exec_result(crt_ctx *ctx, PGresult *res, PGresult **out, int64_t *changes,
			      const char *what);

/* The statement sql (prepared as name, index i, on first use), sent
 * without blocking and waited for until the session's deadline (one
 * deadline for the prepare and the execution). */
static crt_status timed_exec(crt_ctx *ctx, const char *sql, const char *name, int i,
			     const pg_params *p, PGresult **out, int64_t *changes, const char *what)
{
	struct pg_conn *c = pg_c(ctx);
	int64_t deadline = deadline_in(wait_ms(ctx));
	PGresult *res;
	crt_status r;
	int late;

	if (i == c->nstmts && i < PG_MAX_STMTS) {
		if (!PQsendPrepare(c->pg, name, sql, 0, NULL))
			return pg_error(ctx, NULL, what);
		res = wait_result(c->pg, deadline, &late);
		if (late)
			return timed_out(ctx, what);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			r = pg_error(ctx, res, what);
			PQclear(res);
			return r;
		}
		PQclear(res);
		c->stmts[c->nstmts++] = sql;
	}
	if (i < PG_MAX_STMTS ? !PQsendQueryPrepared(c->pg, name, p ? p->n : 0, p ? p->v : NULL,
						    p ? p->len : NULL, p ? p->fmt : NULL, 0)
			     : !PQsendQueryParams(c->pg, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
						  p ? p->len : NULL, p ? p->fmt : NULL, 0))
		return pg_error(ctx, NULL, what);
	res = wait_result(c->pg, deadline, &late);
	if (late)
		return timed_out(ctx, what);
	return exec_result(ctx, res, out, changes, what);
}

crt_status pg_exec(crt_ctx *ctx, const char *sql, const pg_params *p, PGresult **out,
		   int64_t *changes, const char *what)
{
	struct pg_conn *c = pg_c(ctx);
	char name[16];
	int i;
	crt_status r;

	if (out != NULL)
		*out = NULL;
	if ((r = ensure_connected(ctx)) != CRT_OK)
		return r;
	for (i = 0; i < c->nstmts && c->stmts[i] != sql; i++)
		;
	snprintf(name, sizeof(name), "s%d", i);
	return timed_exec(ctx, sql, name, i, p, out, changes, what);
}

crt_status pg_exec_once(crt_ctx *ctx, const char *sql, const pg_params *p, PGresult **out,
			const char *what)
{
	crt_status r;

	if (out != NULL)
		*out = NULL;
	if ((r = ensure_connected(ctx)) != CRT_OK)
		return r;
	/* PG_MAX_STMTS: timed_exec's unprepared path (PQsendQueryParams),
	 * within the session's deadline like every statement */
	return timed_exec(ctx, sql, "", PG_MAX_STMTS, p, out, NULL, what);
}

/* What pg_exec answers for res (a result of sql, or NULL). */
static crt_status exec_result(crt_ctx *ctx, PGresult *res, PGresult **out, int64_t *changes,
			      const char *what)
{
	crt_status r;
	ExecStatusType es = PQresultStatus(res);
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		r = pg_error(ctx, res, what);
		PQclear(res);
		return r;
	}
	if (changes != NULL) {
		const char *t = PQcmdTuples(res);
		*changes = t[0] ? strtoll(t, NULL, 10) : 0;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return CRT_OK;
}

crt_status pg_begin_write(crt_ctx *ctx)
{
	struct pg_conn *c = pg_c(ctx);
	crt_status r;
	if (c->readonly)
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
				"a write on a read-only store session");
	if ((r = ensure_connected(ctx)) != CRT_OK)
		return r;
	if ((r = pg_simple(ctx, "BEGIN", "starting a transaction")) != CRT_OK)
		return r;
	c->in_txn = 1;
	return CRT_OK;
}

crt_status pg_commit(crt_ctx *ctx)
{
	struct pg_conn *c = pg_c(ctx);
	PGresult *res = NULL;
	ExecStatusType es;
	crt_status r = CRT_OK;
	int late = 0;

	c->in_txn = 0;
	if (c->pg == NULL) /* dropped in the transaction: no COMMIT was sent */
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
				"committing: the connection to PostgreSQL was lost in the "
				"transaction");
	if (PQsendQuery(c->pg, "COMMIT"))
		res = wait_result(c->pg, deadline_in(wait_ms(ctx)), &late);
	if (late) {
		/* Sent, never answered: committed or not, the server may say
		 * later; the caller reads the outcome back. */
		lost_commit(c);
		pg_drop(c);
		return ctx_fail(ctx, CRT_E_STORE_COMMIT_UNKNOWN,
				"no answer to COMMIT from PostgreSQL within %d ms ([store] "
				"write_timeout_ms; the connection is dropped)",
				writer_wait_ms(ctx));
	}
	es = PQresultStatus(res);
	if (res == NULL || PQstatus(c->pg) != CONNECTION_OK ||
	    (es != PGRES_COMMAND_OK && PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL)) {
		/* The server may or may not have committed: never guess. */
		lost_commit(c);
		c->broken = 1;
		r = ctx_fail(ctx, CRT_E_STORE_COMMIT_UNKNOWN,
			     "the connection to PostgreSQL was lost during COMMIT");
	} else if (es != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (strncmp(st, "08", 2) == 0 || state_is(st, "57P01") || state_is(st, "57P02") ||
		    state_is(st, "57P03")) {
			lost_commit(c);
			c->broken = 1;
			r = ctx_fail(ctx, CRT_E_STORE_COMMIT_UNKNOWN,
				     "the server went away during COMMIT (SQLSTATE %s)", st);
		} else {
			r = pg_error(ctx, res, "committing");
		}
	} else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* A statement of the transaction had failed: the server rolled
		 * it back instead (its answer to COMMIT is ROLLBACK). */
		r = ctx_fail(ctx, CRT_E_STORE, "committing: the transaction had failed and was "
					       "rolled back");
	}
	PQclear(res);
	return r;
}

/* Never sets the context's detail: the caller's failure is what it says. */
void pg_rollback(crt_ctx *ctx)
{
	struct pg_conn *c = pg_c(ctx);
	PGresult *res;
	int late = 0;

	if (c == NULL)
		return;
	c->in_txn = 0;
	if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) == PQTRANS_IDLE || !PQsendQuery(c->pg, "ROLLBACK"))
		return;
	res = wait_result(c->pg, deadline_in(wait_ms(ctx)), &late);
	if (late)
		pg_drop(c);
	PQclear(res);
}

static crt_status pgb_open(crt_ctx *ctx)
{
	int readonly = (ctx->flags & CRT_OPEN_READONLY) != 0;
	const char *ci = readonly && ctx->cfg.read_conninfo ? ctx->cfg.read_conninfo
							    : ctx->cfg.conninfo;
	struct pg_conn *c;
	crt_status r;

	if (ci == NULL)
		return ctx_fail(ctx, CRT_E_CONFIG, "[store] backend = postgresql needs conninfo");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CRT_E_NOMEM;
	c->readonly = readonly;
	c->ci = ci; /* the config's: lives as long as ctx */
	ctx->conn = (struct store_conn *)(void *)c;
	if ((r = pg_connect(ctx, ci)) != CRT_OK)
		return r;
	return pg_migrate(ctx);
}

static void pgb_close(crt_ctx *ctx)
{
	struct pg_conn *c = pg_c(ctx);
	if (c == NULL)
		return;
	if (c->pg != NULL)
		PQfinish(c->pg);
	free(c);
	ctx->conn = NULL;
}

static int pgb_writable(const crt_ctx *ctx)
{
	return pg_c(ctx) != NULL && !pg_c(ctx)->readonly;
}

/* Inside a write transaction the row is locked (FOR UPDATE) until commit:
 * a read-increment-write of a counter (the CRL number) is then one step
 * across every node. */
static crt_status pgb_meta_get(crt_ctx *ctx, const char *key, int64_t *v)
{
	static const char q[] = "SELECT value FROM meta WHERE key = $1";
	static const char ql[] = "SELECT value FROM meta WHERE key = $1 FOR UPDATE";
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	pp_text(&p, key);
	if ((r = pg_exec(ctx, pg_c(ctx)->in_txn ? ql : q, &p, &res, NULL, "reading meta")) !=
	    CRT_OK)
		return r;
	*v = PQntuples(res) > 0 ? pg_int(res, 0, 0) : 0;
	PQclear(res);
	return CRT_OK;
}

static crt_status pgb_meta_set(crt_ctx *ctx, const char *key, int64_t v)
{
	pg_params p = {0};
	pp_text(&p, key);
	pp_int(&p, v);
	return pg_exec(ctx,
		       "INSERT INTO meta(key, value) VALUES ($1, $2) "
		       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		       &p, NULL, NULL, "writing meta");
}

static crt_status pgb_meta_bump(crt_ctx *ctx, const char *key, int64_t *v)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	pp_text(&p, key);
	if ((r = pg_exec(ctx, "UPDATE meta SET value = value + 1 WHERE key = $1 RETURNING value", &p,
			 &res, NULL, "writing meta")) != CRT_OK)
		return r;
	if (PQntuples(res) == 1)
		*v = pg_int(res, 0, 0);
	else
		r = ctx_fail(ctx, CRT_E_STORE, "meta %s is missing", key);
	PQclear(res);
	return r;
}

/* A backup file is a copy of a SQLite store; a PostgreSQL store is backed
 * up by PostgreSQL's own tools, which also cover its standbys. */
static crt_status pgb_snapshot(crt_ctx *ctx, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	return ctx_fail(ctx, CRT_E_STORE,
			"crtoken-admin backup copies SQLite stores; back up a PostgreSQL store "
			"with pg_dump or pg_basebackup");
}

const store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pgb_open,
	.close = pgb_close,
	.begin_write = pg_begin_write,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.writable = pgb_writable,
	.meta_get = pgb_meta_get,
	.meta_set = pgb_meta_set,
	.meta_bump = pgb_meta_bump,
	.snapshot = pgb_snapshot,
	.tokens = &pg_token_ops,
	.certs = &pg_cert_ops,
	.audit = &pg_audit_ops,
	.otp = &pg_otp_ops,
	.apikeys = &pg_apikey_ops,
	.events = &pg_event_ops,
	.copy = &pg_copy_ops,
	.requests = &pg_request_ops,
	.pkcs12 = &pg_pkcs12_ops,
};
