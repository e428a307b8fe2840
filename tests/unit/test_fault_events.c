/*
 * test_fault_events.c — the event outbox under store failures (the fault
 * seam, store/port.h): every change that raises an event, failed at each of
 * its store calls in turn with store_busy and store_unavailable, leaves no
 * event (and no audit row) behind; with its commit lost
 * (store_commit_unknown) the change, its audit row and its event are all
 * there. A delivery pass failed at any call keeps the outbox consistent:
 * an attempt is recorded exactly when its delivery's state moved, and an
 * event is routed exactly when its deliveries exist.
 *
 * Each path's calls are counted first (store_fault_calls), so a store call
 * added later is covered without touching this file.
 */
#include <limits.h>

#include "testutil.h"
#include "internal.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAIL (sizeof(failures) / sizeof(failures[0]))

static long long q(const test_instance *t, const char *sql)
{
	char db[512];
	tu_db_path(t, db, sizeof(db));
	return tu_sql_int(db, sql);
}

typedef struct snapshot {
	long long events, audit, attempts;
} snapshot;

static snapshot snap(const test_instance *t)
{
	return (snapshot){q(t, "SELECT count(*) FROM events"), q(t, "SELECT count(*) FROM audit"),
			  q(t, "SELECT count(*) FROM event_attempts")};
}

/* One path that raises an event: prep makes a fresh target (its own
 * changes happen before the fault is armed), run makes the change. */
typedef struct path {
	const char *type;
	void (*prep)(test_instance *t, char *arg);
	crt_status (*run)(test_instance *t, const char *arg);
} path;

static int seq;

static void prep_name(test_instance *t, char *arg)
{
	snprintf(arg, 128, "t%d", ++seq);
}
static crt_status run_create(test_instance *t, const char *arg)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec s = {.name = arg, .owner_email = "o@example.org"};
	return crt_token_create(t->ctx, &s, "fault", NULL, tok);
}

static void prep_token(test_instance *t, char *arg)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_token_spec s = {.name = "victim"};
	tu_token(t->ctx, &s, tok, &tk);
	snprintf(arg, 128, "%s", tk.id);
	crt_token_clear(&tk);
}
static crt_status run_delete(test_instance *t, const char *arg)
{
	return crt_token_delete(t->ctx, arg, "fault");
}

static void prep_token_string(test_instance *t, char *arg)
{
	crt_token tk;
	crt_token_spec s = {.name = "to-redeem"};
	tu_token(t->ctx, &s, arg, &tk);
	crt_token_clear(&tk);
}
static crt_status run_redeem(test_instance *t, const char *arg)
{
	crt_cert c;
	crt_status r = tu_redeem(t->ctx, arg, &c);
	if (r == CRT_OK)
		crt_cert_clear(&c);
	return r;
}

static void prep_cert(test_instance *t, char *arg)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_cert c;
	crt_token_spec s = {.name = "issued"};
	tu_token(t->ctx, &s, tok, &tk);
	assert_int_equal(tu_redeem(t->ctx, tok, &c), CRT_OK);
	snprintf(arg, 128, "%s", c.serial);
	crt_cert_clear(&c);
	crt_token_clear(&tk);
}
static crt_status run_revoke(test_instance *t, const char *arg)
{
	return crt_cert_revoke(t->ctx, arg, 1, "fault", NULL);
}

static void prep_otp(test_instance *t, char *arg)
{
	char *uri = NULL, *b32 = NULL;
	snprintf(arg, 128, "user%d", ++seq);
	assert_int_equal(crt_otp_enroll(t->ctx, arg, "SHA1", 6, 30, NULL, "t", &uri, &b32), CRT_OK);
	crt_strfree_secret(uri);
	crt_strfree_secret(b32);
}
/* [otp] max_failures = 1: a malformed (never matching) code locks. */
static crt_status run_lock(test_instance *t, const char *arg)
{
	crt_status r = crt_otp_verify(t->ctx, arg, "x", crt_now(), "t", NULL, NULL);
	return r == CRT_E_OTP_BAD_CODE ? CRT_OK : r;
}

static crt_status run_expiring(test_instance *t, const char *arg)
{
	size_t n = 0;
	return crt_events_check_expiring(t->ctx, 0, "fault", &n);
}

static const path paths[] = {
    {"token.created", prep_name, run_create},
    {"token.deleted", prep_token, run_delete},
    {"certificate.issued", prep_token_string, run_redeem},
    {"certificate.revoked", prep_cert, run_revoke},
    {"otp.locked", prep_otp, run_lock},
    {"certificate.expiring", prep_cert, run_expiring},
};

static void instance(test_instance *t)
{
	tu_instance_init(t, NULL);
	tu_config_append(t, "[ca]\ncert_days = 10\n[otp]\nmax_failures = 1\n");
	tu_open(t);
}

static void fail_every_call(const path *p)
{
	test_instance t;
	char arg[128];
	instance(&t);

	p->prep(&t, arg);
	store_fault_arm(t.ctx, INT_MAX, CRT_E_STORE_BUSY);
	snapshot a = snap(&t);
	assert_int_equal(p->run(&t, arg), CRT_OK);
	int calls = store_fault_calls(t.ctx);
	store_fault_arm(t.ctx, 0, CRT_OK);
	snapshot b = snap(&t);
	assert_int_equal(b.events, a.events + 1); /* the change raises its event */
	assert_true(calls > 0);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			p->prep(&t, arg);
			snapshot before = snap(&t);
			store_fault_arm(t.ctx, i, failures[f]);
			crt_status r = p->run(&t, arg);
			store_fault_arm(t.ctx, 0, CRT_OK);
			snapshot after = snap(&t);
			if (r != failures[f])
				fail_msg("%s: call %d of %d failed with %s: got %s (%s)", p->type, i,
					 calls, crt_status_name(failures[f]), crt_status_name(r),
					 crt_errdetail(t.ctx));
			if (after.events != before.events || after.audit != before.audit)
				fail_msg("%s: call %d failed with %s: events %lld→%lld, audit "
					 "%lld→%lld",
					 p->type, i, crt_status_name(failures[f]), before.events,
					 after.events, before.audit, after.audit);
		}
	tu_instance_free(&t);
}

static void lost_commit(const path *p)
{
	test_instance t;
	char arg[128];
	instance(&t);
	p->prep(&t, arg);
	snapshot before = snap(&t);
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE type = '%s'", p->type);
	long long typed = q(&t, sql);
	store_fault_arm(t.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	crt_status r = p->run(&t, arg);
	store_fault_arm(t.ctx, 0, CRT_OK);
	/* a redemption resolves its lost commit by reading the token back */
	if (r != CRT_E_STORE_COMMIT_UNKNOWN && r != CRT_OK)
		fail_msg("%s: a lost commit answered %s", p->type, crt_status_name(r));
	snapshot after = snap(&t);
	assert_int_equal(q(&t, sql), typed + 1);
	assert_true(after.audit > before.audit); /* the change's audit row with it */
	tu_instance_free(&t);
}

static void a_change_failing_at_any_store_call_leaves_no_event(void **state)
{
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		fail_every_call(&paths[i]);
}

static void a_change_whose_commit_is_lost_has_its_event_exactly_when_it_happened(void **state)
{
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		lost_commit(&paths[i]);
}

/* The outbox's own consistency: attempts recorded = attempts counted on the
 * deliveries; routed events = events with deliveries (every sink takes
 * every type here). */
static void assert_consistent(const test_instance *t, const char *when)
{
	long long attempts = q(t, "SELECT count(*) FROM event_attempts");
	long long counted = q(t, "SELECT coalesce(sum(attempts), 0) FROM event_deliveries");
	long long routed = q(t, "SELECT count(*) FROM events WHERE routed = 1");
	long long with = q(t, "SELECT count(DISTINCT event_seq) FROM event_deliveries");
	if (attempts != counted || routed != with)
		fail_msg("%s: %lld attempts recorded, %lld counted; %lld routed, %lld with "
			 "deliveries",
			 when, attempts, counted, routed, with);
}

static void a_delivery_pass_failing_at_any_store_call_keeps_the_outbox_consistent(void **state)
{
	test_instance t;
	char arg[128], when[160];
	crt_events_pass p;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[events.sink ok]\ntype = command\ncommand = /bin/true\n");
	tu_open(&t);

	prep_name(&t, arg);
	assert_int_equal(run_create(&t, arg), CRT_OK);
	store_fault_arm(t.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(crt_events_deliver(t.ctx, "n", &p), CRT_OK);
	int calls = store_fault_calls(t.ctx);
	store_fault_arm(t.ctx, 0, CRT_OK);
	assert_int_equal(p.delivered, 1);
	for (int i = 1; i <= calls; i++)
		for (size_t f = 0; f < NFAIL; f++) {
			prep_name(&t, arg);
			assert_int_equal(run_create(&t, arg), CRT_OK);
			store_fault_arm(t.ctx, i, failures[f]);
			crt_status r = crt_events_deliver(t.ctx, "n", &p);
			store_fault_arm(t.ctx, 0, CRT_OK);
			snprintf(when, sizeof(when), "call %d of %d failed with %s (got %s)", i, calls,
				 crt_status_name(failures[f]), crt_status_name(r));
			/* a pass that found nothing to claim makes fewer calls */
			if (r != failures[f] && r != CRT_OK)
				fail_msg("%s", when);
			assert_consistent(&t, when);
		}
	/* lost commits: the pass reports it, the outbox stays whole */
	for (int i = 1; i <= 3; i++) {
		prep_name(&t, arg);
		assert_int_equal(run_create(&t, arg), CRT_OK);
		store_fault_arm(t.ctx, i, CRT_E_STORE_COMMIT_UNKNOWN);
		crt_status r = crt_events_deliver(t.ctx, "n", &p);
		store_fault_arm(t.ctx, 0, CRT_OK);
		snprintf(when, sizeof(when), "commit %d lost (got %s)", i, crt_status_name(r));
		assert_consistent(&t, when);
	}
	/* every event is delivered in the end (leases left by failed passes run
	 * out; here the next node finds the rest) */
	assert_int_equal(crt_events_deliver(t.ctx, "n", &p), CRT_OK);
	assert_consistent(&t, "after a clean pass");
	assert_true(q(&t, "SELECT count(*) FROM event_deliveries WHERE state = 'delivered'") >= 1);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_change_failing_at_any_store_call_leaves_no_event),
	    cmocka_unit_test(a_change_whose_commit_is_lost_has_its_event_exactly_when_it_happened),
	    cmocka_unit_test(a_delivery_pass_failing_at_any_store_call_keeps_the_outbox_consistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
