/*
 * test_events.c — the event outbox (common/events.c, events_deliver.c,
 * store/sqlite_events.c, pg_events.c): each change writes its event in its own transaction,
 * the body holds no secret, the daily expiring check raises an event once
 * per certificate, routing follows the sink filters, a delivery lease is
 * held by one node at a time, and a command sink is run with the event on
 * stdin (retried with backoff, given up, killed after its timeout).
 * Backend-neutral (runs on PostgreSQL too: t_pg_units.sh).
 */
#include <pthread.h>
#include <sys/stat.h>

#include "testutil.h"
#include "internal.h"

static long long q(const test_instance *t, const char *sql)
{
	char db[512];
	tu_db_path(t, db, sizeof(db));
	return tu_sql_int(db, sql);
}

static long long events_of(const test_instance *t, const char *type)
{
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE type = '%s'", type);
	return q(t, sql);
}

/* The newest event's body (crt_event_list), malloc'd. */
static char *newest_body(crt_ctx *ctx, const char *type)
{
	crt_event *ev = NULL;
	size_t n = 0;
	char *b = NULL;
	assert_int_equal(crt_event_list(ctx, 0, 100, &ev, &n), CRT_OK);
	for (size_t i = 0; i < n && b == NULL; i++)
		if (strcmp(ev[i].type, type) == 0)
			b = strdup(ev[i].body);
	crt_event_list_free(ev, n);
	assert_non_null(b);
	return b;
}

static void a_token_create_writes_token_created_without_the_token_string(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_token_spec spec = {.name = "laptop", .owner = "alice"};
	tu_instance(&t);
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(events_of(&t, "token.created"), 1);
	char *b = newest_body(t.ctx, "token.created");
	assert_non_null(strstr(b, tk.id));
	assert_non_null(strstr(b, "\"tokenName\":\"laptop\""));
	assert_non_null(strstr(b, "\"owner\":\"alice\""));
	assert_non_null(strstr(b, "\"actor\":\"test\""));
	assert_null(strstr(b, tok));              /* never the token string */
	assert_null(strstr(b, CRT_TOKEN_PREFIX)); /* nor any part of one */
	free(b);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void an_owner_email_is_kept_validated_and_carried_by_the_events(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk, got;
	crt_token_spec spec = {.name = "mailed", .owner = "dora", .owner_email = "dora@example.org"};
	tu_instance(&t);
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(crt_token_get(t.ctx, tk.id, &got), CRT_OK);
	assert_string_equal(got.owner_email, "dora@example.org");
	crt_token_clear(&got);
	char *b = newest_body(t.ctx, "token.created");
	assert_non_null(strstr(b, "\"ownerEmail\":\"dora@example.org\""));
	free(b);
	/* changed and cleared by update */
	crt_token_spec ch = {.owner_email = "d.ora+wifi@mail.example.org"};
	assert_int_equal(crt_token_update(t.ctx, tk.id, &ch, "test", &got), CRT_OK);
	assert_string_equal(got.owner_email, "d.ora+wifi@mail.example.org");
	crt_token_clear(&got);
	ch.owner_email = "";
	assert_int_equal(crt_token_update(t.ctx, tk.id, &ch, "test", &got), CRT_OK);
	assert_null(got.owner_email);
	crt_token_clear(&got);
	static const char *const bad[] = {
	    "dora",       "@example.org",          "dora@",          "dora@example",
	    "a b@x.org",  "dora@exa_mple.org",     "<dora@x.org>",   "dora@x.org, eve@y.org",
	    "d@x.org\r\nRCPT TO:<eve@y.org>", "dora@-x.org", ".dora@x.org", "do..ra@x.org",
	    "Dora <dora@x.org>", "dora@x..org", "d\xc3\xb6ra@x.org"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		crt_token_spec s = {.name = "bad", .owner_email = bad[i]};
		crt_token x;
		if (crt_token_create(t.ctx, &s, "test", &x, tok) != CRT_E_FIELD_INVALID)
			fail_msg("ownerEmail \"%s\" was accepted", bad[i]);
		ch.owner_email = bad[i];
		assert_int_equal(crt_token_update(t.ctx, tk.id, &ch, "test", NULL),
				 CRT_E_FIELD_INVALID);
	}
	assert_int_equal(events_of(&t, "token.created"), 1);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void a_token_delete_writes_token_deleted(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_token_spec spec = {.name = "gone"};
	tu_instance(&t);
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(crt_token_delete(t.ctx, tk.id, "test"), CRT_OK);
	assert_int_equal(events_of(&t, "token.deleted"), 1);
	/* a refused delete (already deleted) writes none */
	assert_int_equal(crt_token_delete(t.ctx, tk.id, "test"), CRT_E_TOKEN_DELETED);
	assert_int_equal(events_of(&t, "token.deleted"), 1);
	char *b = newest_body(t.ctx, "token.deleted");
	assert_non_null(strstr(b, tk.id));
	free(b);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void a_redemption_writes_certificate_issued_and_a_refusal_writes_nothing(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_cert c;
	crt_token_spec spec = {.name = "phone"};
	tu_instance(&t);
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &c), CRT_OK);
	assert_int_equal(events_of(&t, "certificate.issued"), 1);
	char *b = newest_body(t.ctx, "certificate.issued");
	assert_non_null(strstr(b, c.serial));
	assert_non_null(strstr(b, tk.id));
	assert_non_null(strstr(b, "\"notAfter\":"));
	assert_null(strstr(b, "BEGIN")); /* no PEM, no key */
	free(b);
	crt_cert_clear(&c);
	assert_int_equal(tu_redeem(t.ctx, tok, &c), CRT_E_TOKEN_USED);
	assert_int_equal(events_of(&t, "certificate.issued"), 1);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void a_revocation_writes_certificate_revoked_with_its_reason(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_cert c;
	crt_token_spec spec = {.name = "lost", .owner = "bob"};
	tu_instance(&t);
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &c), CRT_OK);
	assert_int_equal(crt_cert_revoke(t.ctx, c.serial, 1, "test", NULL), CRT_OK);
	assert_int_equal(crt_cert_revoke(t.ctx, c.serial, 1, "test", NULL), CRT_E_CERT_REVOKED);
	assert_int_equal(events_of(&t, "certificate.revoked"), 1);
	char *b = newest_body(t.ctx, "certificate.revoked");
	assert_non_null(strstr(b, c.serial));
	assert_non_null(strstr(b, "\"reason\":\"keyCompromise\""));
	assert_non_null(strstr(b, "\"owner\":\"bob\""));
	free(b);
	crt_cert_clear(&c);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void the_attempt_that_locks_a_user_writes_otp_locked_once(void **state)
{
	test_instance t;
	char *uri = NULL, *b32 = NULL;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[otp]\nmax_failures = 3\n");
	tu_open(&t);
	assert_int_equal(crt_otp_enroll(t.ctx, "carol", "SHA1", 6, 30, NULL, "test", &uri, &b32),
			 CRT_OK);
	crt_strfree_secret(uri);
	crt_strfree_secret(b32);
	int64_t now = crt_now();
	/* malformed codes are wrong codes that can never match by chance */
	for (int i = 0; i < 2; i++)
		assert_int_equal(crt_otp_verify(t.ctx, "carol", "x", now, "t", NULL, NULL),
				 CRT_E_OTP_BAD_CODE);
	assert_int_equal(events_of(&t, "otp.locked"), 0);
	assert_int_equal(crt_otp_verify(t.ctx, "carol", "x", now, "t", NULL, NULL),
			 CRT_E_OTP_BAD_CODE);
	assert_int_equal(events_of(&t, "otp.locked"), 1);
	/* attempts while locked are refused without a new event */
	assert_int_equal(crt_otp_verify(t.ctx, "carol", "x", now, "t", NULL, NULL),
			 CRT_E_OTP_LOCKED);
	assert_int_equal(events_of(&t, "otp.locked"), 1);
	char *b = newest_body(t.ctx, "otp.locked");
	assert_non_null(strstr(b, "\"user\":\"carol\""));
	assert_non_null(strstr(b, "\"lockedUntil\":"));
	free(b);
	tu_instance_free(&t);
}

static void the_expiring_check_raises_once_per_certificate_within_the_window(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_cert c1, c2;
	size_t raised = 99;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[ca]\ncert_days = 10\n");
	tu_open(&t);
	crt_token_spec a = {.name = "soon"}, b = {.name = "revoked"};
	tu_token(t.ctx, &a, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &c1), CRT_OK);
	crt_token_clear(&tk);
	tu_token(t.ctx, &b, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &c2), CRT_OK);
	assert_int_equal(crt_cert_revoke(t.ctx, c2.serial, 4, "test", NULL), CRT_OK);
	/* 10 days left: outside a 5-day window */
	assert_int_equal(crt_events_check_expiring(t.ctx, 5 * 86400, "test", &raised), CRT_OK);
	assert_int_equal(raised, 0);
	/* inside the default 14 days: the valid one only, and only once */
	assert_int_equal(crt_events_check_expiring(t.ctx, 0, "test", &raised), CRT_OK);
	assert_int_equal(raised, 1);
	assert_int_equal(crt_events_check_expiring(t.ctx, 0, "test", &raised), CRT_OK);
	assert_int_equal(raised, 0);
	assert_int_equal(events_of(&t, "certificate.expiring"), 1);
	assert_int_equal(q(&t, "SELECT count(*) FROM audit WHERE action = 'events.check_expiring'"),
			 3);
	char *body = newest_body(t.ctx, "certificate.expiring");
	assert_non_null(strstr(body, c1.serial));
	free(body);
	crt_cert_clear(&c1);
	crt_cert_clear(&c2);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

/* The scheduled run (crt_maintain, what crtoken-admin maintain and
 * crtokend's maintenance run call) raises the reminders with the configured
 * window: once per certificate, however many runs on however many nodes
 * (two ctx on one store stand for two nodes). */
static void the_scheduled_run_raises_each_reminder_once_across_runs_and_nodes(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_cert c;
	crt_ctx *other;
	crt_maintain_report rep;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[ca]\ncert_days = 10\n");
	tu_open(&t);
	assert_int_equal(crt_open(t.conf, 0, &other), CRT_OK);
	crt_token_spec a = {.name = "soon"};
	tu_token(t.ctx, &a, tok, &tk);
	assert_int_equal(tu_redeem(t.ctx, tok, &c), CRT_OK);
	long long checks = q(&t, "SELECT count(*) FROM audit WHERE action = 'events.check_expiring'");
	assert_int_equal(crt_maintain(t.ctx, "node-a", &rep), CRT_OK);
	assert_int_equal(rep.expiring_raised, 1);
	assert_int_equal(crt_maintain(other, "node-b", &rep), CRT_OK);
	assert_int_equal(rep.expiring_raised, 0);
	assert_int_equal(crt_maintain(t.ctx, "node-a", &rep), CRT_OK);
	assert_int_equal(rep.expiring_raised, 0);
	assert_int_equal(events_of(&t, "certificate.expiring"), 1);
	/* audited when it raised one; the runs that found nothing add no row */
	assert_int_equal(q(&t, "SELECT count(*) FROM audit WHERE action = 'events.check_expiring'"),
			 checks + 1);
	char *body = newest_body(t.ctx, "certificate.expiring");
	assert_non_null(strstr(body, c.serial));
	free(body);
	crt_close(other);
	crt_cert_clear(&c);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

/* A command sink: a script that appends its stdin (and a newline) to
 * DIR/got and exits with the status in DIR/exit (0 when absent). */
static void command_sink(test_instance *t, const char *events, const char *extra)
{
	char path[400], conf[1200];
	snprintf(path, sizeof(path), "%s/sink.sh", t->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\ncat >> %s/got\necho >> %s/got\n"
		"[ -f %s/sleep ] && sleep 5\n"
		"[ -f %s/exit ] && exit $(cat %s/exit)\nexit 0\n",
		t->dir, t->dir, t->dir, t->dir, t->dir);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(conf, sizeof(conf),
		 "[events.sink run]\ntype = command\ncommand = %s\nevents = %s\n"
		 "timeout = 1s\nretry_base = 10s\nretry_max = 40s\ngive_up_after = 60s\n%s",
		 path, events, extra ? extra : "");
	tu_config_append(t, conf);
}

static void set_file(const test_instance *t, const char *name, const char *text)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	if (text == NULL) {
		unlink(path);
		return;
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static long long got_lines(const test_instance *t)
{
	char path[400], line[4096];
	long long n = 0;
	snprintf(path, sizeof(path), "%s/got", t->dir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, "\"id\":\"event-") != NULL;
	fclose(f);
	return n;
}

static void a_command_sink_gets_the_events_its_filter_takes_on_stdin(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_events_pass p;
	tu_instance_init(&t, NULL);
	command_sink(&t, "token.deleted", NULL);
	tu_open(&t);
	crt_token_spec spec = {.name = "x"};
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(crt_token_delete(t.ctx, tk.id, "test"), CRT_OK);
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.routed, 2);
	assert_int_equal(p.attempted, 1); /* token.created is not for this sink */
	assert_int_equal(p.delivered, 1);
	assert_int_equal(got_lines(&t), 1);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries"), 1);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_attempts WHERE ok = 1"), 1);
	/* a second pass sends nothing again */
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.attempted, 0);
	assert_int_equal(got_lines(&t), 1);
	crt_event *ev = NULL;
	size_t n = 0;
	assert_int_equal(crt_event_list(t.ctx, 1, 0, &ev, &n), CRT_OK);
	assert_int_equal(n, 0); /* nothing pending */
	crt_event_list_free(ev, n);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void a_failing_command_is_retried_with_backoff_then_given_up(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_events_pass p;
	tu_instance_init(&t, NULL);
	command_sink(&t, "*", NULL);
	tu_open(&t);
	set_file(&t, "exit", "3\n");
	crt_token_spec spec = {.name = "x"};
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.retrying, 1);
	assert_true(p.next_due >= crt_now() + 9);
	assert_int_equal(q(&t, "SELECT attempts FROM event_deliveries"), 1);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries WHERE state = 'pending'"), 1);
	/* not due yet: nothing is attempted */
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.attempted, 0);
	crt_event *ev = NULL;
	size_t n = 0;
	assert_int_equal(crt_event_list(t.ctx, 1, 0, &ev, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].deliveries[0].last_result, "exit 3");
	/* its routing was long ago: the next failure lies past give_up_after */
	char sql[300];
	crt_event_list_free(ev, n);
	snprintf(sql, sizeof(sql), "UPDATE event_deliveries SET next_at = 0, first_at = %lld",
		 (long long)(crt_now() - 3600));
#ifdef CRT_HAVE_LIBPQ
	if (t.pg_schema[0]) {
		char full[500];
		snprintf(full, sizeof(full), "SET search_path = %s; %s", t.pg_schema, sql);
		tu_pg_exec(full);
	} else
#endif
	{
		char db[512];
		sqlite3 *h;
		tu_db_path(&t, db, sizeof(db));
		assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
		assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	}
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.failed, 1);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries WHERE state = 'failed'"), 1);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_attempts"), 2);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void a_command_past_its_timeout_is_killed_and_counted_as_failed(void **state)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_events_pass p;
	tu_instance_init(&t, NULL);
	command_sink(&t, "*", NULL);
	tu_open(&t);
	set_file(&t, "sleep", "");
	crt_token_spec spec = {.name = "x"};
	tu_token(t.ctx, &spec, tok, &tk);
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.retrying, 1);
	crt_event *ev = NULL;
	size_t n = 0;
	assert_int_equal(crt_event_list(t.ctx, 1, 0, &ev, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_non_null(strstr(ev[0].deliveries[0].last_result, "killed"));
	crt_event_list_free(ev, n);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

/* A pass claims at most [events] batch deliveries however many are due
 * (on PostgreSQL the claim once took every due delivery: its subquery's
 * LIMIT ... SKIP LOCKED was scanned again in the join, each scan skipping
 * the rows just claimed), and a second pass the next ones. */
static void a_pass_claims_at_most_its_batch_of_the_due_deliveries(void **state)
{
	test_instance t;
	crt_token_batch b;
	crt_events_pass p;
	tu_instance_init(&t, NULL);
	command_sink(&t, "token.created", "[events]\nbatch = 3\n");
	tu_open(&t);
	crt_token_spec spec = {.name = "many"};
	assert_int_equal(crt_token_create_many(t.ctx, &spec, 1, 300, "test", &b), CRT_OK);
	crt_token_batch_clear(&b);
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.routed, 300);
	assert_int_equal(p.attempted, 3);
	assert_int_equal(p.delivered, 3);
	assert_int_equal(got_lines(&t), 3);
	assert_int_equal(crt_events_deliver(t.ctx, "unit", &p), CRT_OK);
	assert_int_equal(p.attempted, 3);
	assert_int_equal(got_lines(&t), 6);
	assert_int_equal(q(&t, "SELECT count(DISTINCT event_seq) FROM event_attempts"), 6);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries WHERE state = 'pending'"),
			 294);
	tu_instance_free(&t);
}

/* Two nodes route the same 200 events, the second while the first's
 * transaction is still open (PostgreSQL: its one statement waits on the
 * rows; SQLite: on the write lock): every event is routed by the first
 * alone, and each gets its one delivery per sink, never two. */
struct route_job {
	crt_ctx *ctx;
	const store_route *ev;
	size_t n, routed;
	crt_status r;
};

static void *route_thread(void *p)
{
	struct route_job *j = p;
	if ((j->r = store_begin_write(j->ctx)) != CRT_OK)
		return NULL;
	if ((j->r = store_event_route_many(j->ctx, j->ev, j->n, crt_now(), &j->routed)) != CRT_OK) {
		store_rollback(j->ctx);
		return NULL;
	}
	j->r = store_commit(j->ctx);
	return NULL;
}

static void two_nodes_routing_the_same_events_at_once_add_each_delivery_once(void **state)
{
	test_instance t;
	crt_ctx *other = NULL;
	crt_token_batch b;
	store_event_ref *refs = NULL;
	store_route ev[200];
	size_t nr = 0, routed = 0;
	const char *sinks[] = {"one", "two"};
	pthread_t th;
	tu_instance(&t);
	assert_int_equal(crt_session_open(crt_session_instance(t.ctx), 0, &other), CRT_OK);
	crt_token_spec spec = {.name = "routed"};
	assert_int_equal(crt_token_create_many(t.ctx, &spec, 1, 200, "test", &b), CRT_OK);
	crt_token_batch_clear(&b);
	assert_int_equal(store_event_unrouted(t.ctx, 500, &refs, &nr), CRT_OK);
	assert_int_equal(nr, 200);
	for (size_t i = 0; i < nr; i++)
		ev[i] = (store_route){.seq = refs[i].seq, .sinks = sinks, .nsinks = 2};
	assert_int_equal(store_begin_write(t.ctx), CRT_OK);
	assert_int_equal(store_event_route_many(t.ctx, ev, nr, crt_now(), &routed), CRT_OK);
	assert_int_equal(routed, 200);
	struct route_job j = {.ctx = other, .ev = ev, .n = nr};
	assert_int_equal(pthread_create(&th, NULL, route_thread, &j), 0);
	assert_int_equal(store_commit(t.ctx), CRT_OK);
	pthread_join(th, NULL);
	assert_int_equal(j.r, CRT_OK);
	assert_int_equal(j.routed, 0);
	assert_int_equal(q(&t, "SELECT count(*) FROM events WHERE routed = 1"), 200);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries"), 400);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries WHERE sink = 'two'"), 200);
	/* and routing them once more (a stale read) adds nothing either */
	route_thread(&j);
	assert_int_equal(j.r, CRT_OK);
	assert_int_equal(j.routed, 0);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries"), 400);
	store_event_refs_free(refs, nr);
	crt_close(other);
	tu_instance_free(&t);
}

static void a_delivery_lease_is_held_by_one_node_until_it_runs_out(void **state)
{
	test_instance t;
	crt_ctx *other = NULL;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_events_pass p;
	store_delivery_job *ja = NULL, *jb = NULL;
	size_t na = 0, nb = 0;
	int changed = -1;
	tu_instance_init(&t, NULL);
	command_sink(&t, "*", NULL);
	tu_open(&t);
	assert_int_equal(crt_session_open(crt_session_instance(t.ctx), 0, &other), CRT_OK);
	crt_token_spec spec = {.name = "x"};
	tu_token(t.ctx, &spec, tok, &tk);
	/* route only: nothing is due yet for this pass's claim (batch) */
	int64_t now = crt_now();
	assert_int_equal(store_begin_write(t.ctx), CRT_OK);
	store_event_ref *refs = NULL;
	size_t nr = 0;
	assert_int_equal(store_event_unrouted(t.ctx, 10, &refs, &nr), CRT_OK);
	assert_int_equal(nr, 1);
	const char *sinks[] = {"run"};
	assert_int_equal(store_event_route(t.ctx, refs[0].seq, sinks, 1, now, &changed), CRT_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(store_commit(t.ctx), CRT_OK);
	/* routing twice (another node) adds nothing */
	assert_int_equal(store_begin_write(other), CRT_OK);
	assert_int_equal(store_event_route(other, refs[0].seq, sinks, 1, now, &changed), CRT_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(store_commit(other), CRT_OK);
	store_event_refs_free(refs, nr);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries"), 1);
	/* node a claims; node b finds nothing while a's lease holds */
	assert_int_equal(store_event_claim(t.ctx, "a", now, now + 60, 10, &ja, &na), CRT_OK);
	assert_int_equal(na, 1);
	assert_non_null(strstr(ja[0].body, "token.created"));
	assert_int_equal(store_event_claim(other, "b", now + 59, now + 120, 10, &jb, &nb), CRT_OK);
	assert_int_equal(nb, 0);
	/* a's lease ran out (a died): b takes it over */
	assert_int_equal(store_event_claim(other, "b", now + 60, now + 120, 10, &jb, &nb), CRT_OK);
	assert_int_equal(nb, 1);
	/* a comes back: its attempt is recorded, but the delivery is b's */
	store_attempt at = {.seq = ja[0].seq, .sink = "run", .node = "a", .at = now, .ok = 1,
			    .result = "exit 0", .state = "delivered"};
	assert_int_equal(store_begin_write(t.ctx), CRT_OK);
	assert_int_equal(store_event_finish(t.ctx, &at, &changed), CRT_OK);
	assert_int_equal(store_commit(t.ctx), CRT_OK);
	assert_int_equal(changed, 0);
	at.node = "b";
	assert_int_equal(store_begin_write(other), CRT_OK);
	assert_int_equal(store_event_finish(other, &at, &changed), CRT_OK);
	assert_int_equal(store_commit(other), CRT_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_attempts"), 2);
	assert_int_equal(q(&t, "SELECT count(*) FROM event_deliveries WHERE state = 'delivered'"),
			 1);
	/* delivered: no one claims it again */
	store_delivery_jobs_free(jb, nb);
	assert_int_equal(store_event_claim(other, "b", now + 600, now + 700, 10, &jb, &nb), CRT_OK);
	assert_int_equal(nb, 0);
	assert_int_equal(crt_events_deliver(t.ctx, "c", &p), CRT_OK);
	assert_int_equal(p.attempted, 0);
	store_delivery_jobs_free(ja, na);
	store_delivery_jobs_free(jb, nb);
	crt_close(other);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

/* crt_open of the instance with extra config: the status and detail. */
static crt_status open_with(const char *extra, char *detail, size_t len)
{
	test_instance t;
	crt_ctx *c = NULL;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, extra);
	crt_status r = crt_open(t.conf, 0, &c);
	snprintf(detail, len, "%s", c ? crt_errdetail(c) : "");
	crt_close(c);
	tu_instance_free(&t);
	return r;
}

static void bad_sink_configurations_are_refused_at_load_with_the_reason(void **state)
{
	static const struct {
		const char *conf, *why;
	} bad[] = {
	    {"[events.sink h]\ntype = webhook\nurl = http://hooks.example.org/x\n"
	     "secret_file = k\n",
	     "must be https://"},
	    {"[events.sink h]\ntype = webhook\nurl = https://hooks.example.org/x\n", "secret_file"},
	    {"[events.sink m]\ntype = email\nsmtp_url = smtp://127.0.0.1:25\nfrom = a@b\n"
	     "to = c@d\nsubject = {type} {password}\nbody = x\n",
	     "unknown placeholder {password}"},
	    {"[events.sink m]\ntype = email\nsmtp_url = smtp://relay.example.org\nfrom = a@b\n"
	     "to = c@d\nsubject = s\nbody = b\n",
	     "starttls"},
	    {"[events.sink c]\ntype = command\ncommand = /bin/true\nevents = token.created, "
	     "token.expired\n",
	     "unknown event type \"token.expired\""},
	    {"[events.sink c]\ntype = command\ncommand = true\n", "absolute path"},
	    {"[events.sink c]\ntype = pager\n", "webhook, email or command"},
	    {"[events.sink c]\ncommand = /bin/true\n", "needs type"},
	    {"[events.sink c d]\ntype = command\ncommand = /bin/true\n", "sink name"},
	    {"[events.sink c]\ntype = command\ncommand = /bin/true\nretry = 5\n", "unknown key"},
	};
	char detail[600];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		crt_status r = open_with(bad[i].conf, detail, sizeof(detail));
		if (r != CRT_E_CONFIG || strstr(detail, bad[i].why) == NULL)
			fail_msg("case %zu: %s: %s (wanted config_invalid with \"%s\")", i,
				 crt_status_name(r), detail, bad[i].why);
	}
	/* and a good one of each kind loads */
	assert_int_equal(open_with("[events.sink h]\ntype = webhook\nurl = https://h.example/x\n"
				   "secret_file = k\n[events.sink m]\ntype = email\n"
				   "smtp_url = smtp://relay.example.org\nstarttls = yes\n"
				   "from = a@b\nto_owner = yes\nsubject = [crtoken] {type}\n"
				   "body = {tokenName}\\n{serial}\n[events.sink c]\n"
				   "type = command\ncommand = /bin/true -x\nevents = certificate.*\n",
				   detail, sizeof(detail)),
			 CRT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_token_create_writes_token_created_without_the_token_string),
	    cmocka_unit_test(an_owner_email_is_kept_validated_and_carried_by_the_events),
	    cmocka_unit_test(a_token_delete_writes_token_deleted),
	    cmocka_unit_test(a_redemption_writes_certificate_issued_and_a_refusal_writes_nothing),
	    cmocka_unit_test(a_revocation_writes_certificate_revoked_with_its_reason),
	    cmocka_unit_test(the_attempt_that_locks_a_user_writes_otp_locked_once),
	    cmocka_unit_test(the_expiring_check_raises_once_per_certificate_within_the_window),
	    cmocka_unit_test(the_scheduled_run_raises_each_reminder_once_across_runs_and_nodes),
	    cmocka_unit_test(a_command_sink_gets_the_events_its_filter_takes_on_stdin),
	    cmocka_unit_test(a_failing_command_is_retried_with_backoff_then_given_up),
	    cmocka_unit_test(a_command_past_its_timeout_is_killed_and_counted_as_failed),
	    cmocka_unit_test(a_pass_claims_at_most_its_batch_of_the_due_deliveries),
	    cmocka_unit_test(two_nodes_routing_the_same_events_at_once_add_each_delivery_once),
	    cmocka_unit_test(a_delivery_lease_is_held_by_one_node_until_it_runs_out),
	    cmocka_unit_test(bad_sink_configurations_are_refused_at_load_with_the_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
