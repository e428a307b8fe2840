/*
 * test_fault_bulk.c — bulk token creation (crt_token_create_many) failed at
 * each of its store calls in turn (the fault seam, store/port.h) with
 * store_busy and store_unavailable, and its commit lost
 * (store_commit_unknown): a clear status, and the store holds either none of
 * the tokens (no token row, no token.create audit row, no token.created
 * event) or exactly all of them, each with its audit row and event.
 * Backend-neutral (also run on PostgreSQL by t_pg_units).
 *
 * A bulk that fails in the middle on the real store is stored as none of
 * it too: a token number 500 already stored by a concurrent writer (a unique
 * key), and on PostgreSQL a bulk whose statement the server cancels
 * (statement_timeout) while another writer holds a table it writes.
 *
 * The calls of one run are counted first (store_fault_calls), so a store
 * call added later is covered without touching this file.
 */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>

#include "testutil.h"
#include "internal.h"

#define BULK 3

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAIL (sizeof(failures) / sizeof(failures[0]))

typedef struct snapshot {
	long long tokens, audit, created, events;
} snapshot;

static long long q(const test_instance *t, const char *sql)
{
	char db[512];
	tu_db_path(t, db, sizeof(db));
	return tu_sql_int(db, sql);
}

static snapshot snap(const test_instance *t)
{
	return (snapshot){q(t, "SELECT count(*) FROM tokens"), q(t, "SELECT count(*) FROM audit"),
	                  q(t, "SELECT count(*) FROM audit WHERE action = 'token.create'"),
	                  q(t, "SELECT count(*) FROM events WHERE type = 'token.created'")};
}

static void assert_batch_empty(const crt_token_batch *b)
{
	assert_null(b->tokens);
	assert_null(b->strings); /* no token string handed out */
	assert_int_equal(b->n, 0);
}

static void a_bulk_failing_at_any_store_call_stores_none_of_its_tokens(void **state)
{
	test_instance fi;
	crt_token_spec spec = {.name = "faulty", .description = "bulk"};
	crt_token_batch b;
	tu_instance(&fi);

	store_fault_arm(fi.ctx, INT_MAX, CRT_E_STORE_BUSY); /* count, fail nothing */
	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, BULK, "test", &b), CRT_OK);
	int calls = store_fault_calls(fi.ctx);
	store_fault_arm(fi.ctx, 0, CRT_OK);
	crt_token_batch_clear(&b);
	/* a begin, a commit and three writes per token at least */
	assert_true(calls >= 2 + 3 * BULK);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			snapshot before = snap(&fi);
			store_fault_arm(fi.ctx, i, failures[f]);
			crt_status r = crt_token_create_many(fi.ctx, &spec, 1, BULK, "test", &b);
			store_fault_arm(fi.ctx, 0, CRT_OK);
			if (r != failures[f])
				fail_msg("call %d failed with %s: got %s (%s)", i,
				         crt_status_name(failures[f]), crt_status_name(r),
				         crt_errdetail(fi.ctx));
			assert_true(crt_errdetail(fi.ctx)[0] != '\0');
			assert_batch_empty(&b);
			snapshot after = snap(&fi);
			if (after.tokens != before.tokens || after.audit != before.audit ||
			    after.events != before.events)
				fail_msg("call %d failed with %s: tokens %lld→%lld, audit %lld→%lld, "
				         "events %lld→%lld",
				         i, crt_status_name(failures[f]), before.tokens, after.tokens,
				         before.audit, after.audit, before.events, after.events);
		}
	/* and after all that, the bulk still goes through, whole */
	snapshot before = snap(&fi);
	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, BULK, "test", &b), CRT_OK);
	snapshot after = snap(&fi);
	assert_int_equal(after.tokens, before.tokens + BULK);
	crt_token_batch_clear(&b);
	tu_instance_free(&fi);
}

static void a_bulk_whose_commit_is_lost_is_stored_whole_with_every_audit_row_and_event(void **s)
{
	test_instance fi;
	crt_token_spec spec = {.name = "lost"};
	crt_token_batch b;
	tu_instance(&fi);
	snapshot before = snap(&fi);

	store_fault_arm(fi.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, BULK, "test", &b),
	                 CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(fi.ctx, 0, CRT_OK);
	assert_batch_empty(&b);
	snapshot after = snap(&fi);
	assert_int_equal(after.tokens, before.tokens + BULK);
	assert_int_equal(after.created, before.created + BULK);
	assert_int_equal(after.events, before.events + BULK);
	assert_int_equal(q(&fi, "SELECT count(*) FROM tokens WHERE name IN ('lost-1', 'lost-2', "
	                        "'lost-3')"),
	                 BULK);
	tu_instance_free(&fi);
}

/* Two bulks at the same time, each from its own thread and connection:
 * both are made whole (the store serialises the two transactions), and
 * every name and token string of both is there once. */
struct bulk_job {
	crt_ctx *ctx;
	const char *name;
	crt_status r;
};

static void *bulk_thread(void *p)
{
	struct bulk_job *j = p;
	crt_token_spec spec = {.name = j->name};
	crt_token_batch b;
	j->r = crt_token_create_many(j->ctx, &spec, 1, 200, "test", &b);
	crt_token_batch_clear(&b);
	return NULL;
}

static void two_bulks_at_the_same_time_are_each_whole(void **s)
{
	test_instance fi;
	struct bulk_job left = {.name = "left"}, right = {.name = "right"};
	pthread_t tl, tr;
	tu_instance(&fi);
	left.ctx = fi.ctx;
	assert_int_equal(crt_open(fi.conf, 0, &right.ctx), CRT_OK);

	assert_int_equal(pthread_create(&tl, NULL, bulk_thread, &left), 0);
	assert_int_equal(pthread_create(&tr, NULL, bulk_thread, &right), 0);
	pthread_join(tl, NULL);
	pthread_join(tr, NULL);
	assert_int_equal(left.r, CRT_OK);
	assert_int_equal(right.r, CRT_OK);
	assert_int_equal(q(&fi, "SELECT count(*) FROM tokens WHERE name LIKE 'left-%'"), 200);
	assert_int_equal(q(&fi, "SELECT count(*) FROM tokens WHERE name LIKE 'right-%'"), 200);
	assert_int_equal(q(&fi, "SELECT count(DISTINCT hash) FROM tokens"), 400);
	assert_int_equal(q(&fi, "SELECT count(DISTINCT name) FROM tokens"), 400);
	assert_int_equal(q(&fi, "SELECT count(*) FROM events WHERE type = 'token.created'"), 400);
	crt_close(right.ctx);
	tu_instance_free(&fi);
}

/* Another writer on the instance's store: its own connection (PostgreSQL:
 * the instance's schema on the test server; SQLite: the file). */
typedef struct writer {
	sqlite3 *db;
#ifdef CRT_HAVE_LIBPQ
	PGconn *pg;
#endif
} writer;

static void writer_exec(writer *w, const char *sql)
{
#ifdef CRT_HAVE_LIBPQ
	if (w->pg != NULL) {
		PGresult *r = PQexec(w->pg, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(w->pg));
		PQclear(r);
		return;
	}
#endif
	if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(w->db));
}

static void writer_open(const test_instance *t, writer *w)
{
	memset(w, 0, sizeof(*w));
#ifdef CRT_HAVE_LIBPQ
	if (t->pg_schema[0]) {
		char set[128];
		w->pg = PQconnectdb(getenv("CRTOKEN_TEST_CONNINFO"));
		if (PQstatus(w->pg) != CONNECTION_OK)
			fail_msg("connecting to the test PostgreSQL: %s", PQerrorMessage(w->pg));
		snprintf(set, sizeof(set), "SET search_path = %s", t->pg_schema);
		writer_exec(w, set);
		return;
	}
#endif
	char db[512];
	tu_db_path(t, db, sizeof(db));
	assert_int_equal(sqlite3_open_v2(db, &w->db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(w->db, 5000);
}

static void writer_close(writer *w)
{
#ifdef CRT_HAVE_LIBPQ
	if (w->pg != NULL)
		PQfinish(w->pg);
#endif
	if (w->db != NULL)
		sqlite3_close(w->db);
	memset(w, 0, sizeof(*w));
}

struct big_bulk {
	crt_ctx *ctx;
	const char *name;
	crt_status r;
	char detail[512];
};

static void *big_bulk_thread(void *p)
{
	struct big_bulk *j = p;
	crt_token_spec spec = {.name = j->name};
	crt_token_batch b;
	j->r = crt_token_create_many(j->ctx, &spec, 1, CRT_BULK_MAX, "test", &b);
	snprintf(j->detail, sizeof(j->detail), "%s", crt_errdetail(j->ctx));
	if (j->r != CRT_OK)
		assert_batch_empty(&b);
	crt_token_batch_clear(&b);
	return NULL;
}

/* A concurrent writer's transaction stores a token named like number 500
 * of the bulk (under a unique index on the name, planted for the test) and
 * commits while the bulk runs (PostgreSQL: the bulk's insert waits for it;
 * SQLite: its write lock does): the bulk fails as already_exists naming
 * number 500, and the store holds only the writer's row. Either order of
 * the two gives the same answer. */
static void a_bulk_meeting_a_concurrent_writers_token_halfway_stores_none_and_names_it(void **s)
{
	test_instance fi;
	writer w;
	pthread_t th;
	struct big_bulk job = {.name = "planted"};
	tu_instance(&fi);
	writer_open(&fi, &w);
	writer_exec(&w, "CREATE UNIQUE INDEX planted_name ON tokens(name)");
	snapshot before = snap(&fi);

	writer_exec(&w, w.db != NULL ? "BEGIN IMMEDIATE" : "BEGIN");
	writer_exec(&w, "INSERT INTO tokens(id, hash, name, created_at, expires_at, updated_at) "
	                "VALUES ('token-planted', 'planted-hash', 'planted-500', 1, 1, 1)");
	job.ctx = fi.ctx;
	assert_int_equal(pthread_create(&th, NULL, big_bulk_thread, &job), 0);
	writer_exec(&w, "COMMIT");
	pthread_join(th, NULL);
	if (job.r != CRT_E_EXISTS)
		fail_msg("got %s (%s)", crt_status_name(job.r), job.detail);
	if (strstr(job.detail, "token number 500 of the bulk (none was made)") == NULL)
		fail_msg("the detail does not name token number 500: %s", job.detail);
	snapshot after = snap(&fi);
	assert_int_equal(after.tokens, before.tokens + 1); /* the writer's */
	assert_int_equal(after.audit, before.audit);
	assert_int_equal(after.events, before.events);
	assert_int_equal(q(&fi, "SELECT count(*) FROM tokens WHERE name LIKE 'planted-%'"), 1);
	/* the name free again, the bulk goes through whole */
	writer_exec(&w, "DELETE FROM tokens WHERE id = 'token-planted'");
	big_bulk_thread(&job);
	assert_int_equal(job.r, CRT_OK);
	assert_int_equal(q(&fi, "SELECT count(*) FROM tokens WHERE name LIKE 'planted-%'"),
	                 CRT_BULK_MAX);
	writer_close(&w);
	tu_instance_free(&fi);
}

/* Another writer holds a table the bulk writes (PostgreSQL: the events
 * table, locked; SQLite: the write lock) past the store's wait: the bulk
 * fails as store_busy (PostgreSQL: its one statement cancelled by the
 * server's statement_timeout, tokens and audit rows already inserted in it)
 * and nothing of it is stored; once the writer is done it goes through. */
/* Replace the text from by to in the config file at path (once). */
static void conf_replace(const char *path, const char *from, const char *to)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *at = strstr(buf, from);
	assert_non_null(at);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(buf, 1, (size_t)(at - buf), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	assert_int_equal(fclose(f), 0);
}

static void a_bulk_held_up_by_another_writer_past_the_timeout_stores_none(void **s)
{
	test_instance fi;
	writer w;
	struct big_bulk job = {.name = "held"};
	tu_instance_init(&fi, NULL);
	tu_config_append(&fi, "[store]\nstatement_timeout_ms = 300\nbusy_timeout_ms = 300\n");
	tu_open(&fi);
	writer_open(&fi, &w);
	snapshot before = snap(&fi);

	if (w.db != NULL)
		writer_exec(&w, "BEGIN IMMEDIATE");
	else
		writer_exec(&w, "BEGIN; LOCK TABLE events IN EXCLUSIVE MODE");
	job.ctx = fi.ctx;
	big_bulk_thread(&job);
	writer_exec(&w, "ROLLBACK");
	if (job.r != CRT_E_STORE_BUSY)
		fail_msg("got %s (%s)", crt_status_name(job.r), job.detail);
	assert_true(job.detail[0] != '\0');
	snapshot after = snap(&fi);
	assert_int_equal(after.tokens, before.tokens);
	assert_int_equal(after.audit, before.audit);
	assert_int_equal(after.events, before.events);
	/* The same bulk with the writer gone, under the usual timeouts (300 ms
	 * is too little for a whole bulk under ASan on a loaded machine). */
	crt_close(fi.ctx);
	conf_replace(fi.conf, "statement_timeout_ms = 300\nbusy_timeout_ms = 300\n",
	             "statement_timeout_ms = 30000\nbusy_timeout_ms = 30000\n");
	tu_open(&fi);
	job.ctx = fi.ctx;
	big_bulk_thread(&job);
	if (job.r != CRT_OK)
		fail_msg("got %s (%s)", crt_status_name(job.r), job.detail);
	assert_int_equal(snap(&fi).tokens, before.tokens + CRT_BULK_MAX);
	assert_int_equal(snap(&fi).events, before.events + CRT_BULK_MAX);
	writer_close(&w);
	tu_instance_free(&fi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_bulk_failing_at_any_store_call_stores_none_of_its_tokens),
	    cmocka_unit_test(
	        a_bulk_whose_commit_is_lost_is_stored_whole_with_every_audit_row_and_event),
	    cmocka_unit_test(two_bulks_at_the_same_time_are_each_whole),
	    cmocka_unit_test(
	        a_bulk_meeting_a_concurrent_writers_token_halfway_stores_none_and_names_it),
	    cmocka_unit_test(a_bulk_held_up_by_another_writer_past_the_timeout_stores_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
