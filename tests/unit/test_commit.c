/*
 * test_commit.c — group commit of redemptions: what a batch stores belongs
 * to the job that prepared it, not to the context that happens to lead the
 * batch. Uses the library's internal writer lock and queue state (internal.h)
 * to put racing redemptions in a known order, without sleeps.
 */
#include "testutil.h"
#include "internal.h"
#include "store/sqlite.h" /* the backend's writer lock and queue */
#include <pthread.h>
#include <sys/wait.h>

/* The whole suite runs with the clock frozen (libfaketime; see main): every
 * change happens "in the same second", as it can on a fast machine. */
#define FROZEN_TIME "2026-06-01 12:00:00"

typedef struct racer {
	crt_ctx *ctx;
	char token[CRT_TOKEN_STRLEN + 1];
	crt_cert cert;
	crt_status r;
	pthread_t th;
} racer;

static void *redeem_thread(void *arg)
{
	racer *rc = arg;
	rc->r = tu_redeem(rc->ctx, rc->token, &rc->cert);
	return NULL;
}

/* Wait (bounded) until the store's commit queue is in the wanted state. */
static void wait_queue(crt_ctx *ctx, int want_queued, int want_leading)
{
	int q, l;
	for (int i = 0; i < 200000; i++) {
		group_commit_state(ctx, &q, &l);
		if (q == want_queued && l == want_leading)
			return;
		usleep(100);
	}
	fail_msg("commit queue never reached %d queued / leading %d (now %d / %d)", want_queued,
	         want_leading, q, l);
}

/* A token for rc to redeem on ctx (made before the writer lock is held). */
static void prepare(racer *rc, crt_ctx *ctx, const char *name)
{
	crt_token_spec spec = {.name = name};
	crt_token t;
	memset(rc, 0, sizeof(*rc));
	rc->ctx = ctx;
	tu_token(ctx, &spec, rc->token, &t);
	crt_token_clear(&t);
}

static void start(racer *rc)
{
	assert_int_equal(pthread_create(&rc->th, NULL, redeem_thread, rc), 0);
}

static char *stored_issuer(const char *serial)
{
	char db[512], sql[200];
	sqlite3 *h;
	sqlite3_stmt *st;
	char *v = NULL;
	tu_db_path(&ti, db, sizeof(db));
	snprintf(sql, sizeof(sql), "SELECT issuer FROM certificates WHERE serial = '%s'", serial);
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	assert_non_null(v);
	return v;
}

/*
 * A CA swap + reload: sessions of the instance opened before it sign with
 * the old CA, those of the reloaded instance with the new. A redemption signed by an old context and
 * committed in a batch led by a new one must be stored (and returned) with
 * the old CA's issuer and chain — the ones that actually signed it.
 */
static void a_batch_led_by_the_new_ca_stores_the_old_signers_issuer_and_chain(void **s)
{
	test_instance other;
	crt_init_opts o = {0};
	char err[512], cert2[600], key2[600];
	crt_ctx *old_a, *old_lead, *new_b;
	crt_instance *old_inst, *new_inst;
	crt_ca_info old_ca, new_ca;
	racer lead, b, a;

	/* A second CA to swap in. */
	memset(&other, 0, sizeof(other));
	snprintf(other.dir, sizeof(other.dir), "%s/crtoken-unit.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(other.dir));
	strcat(other.dir, "/i");
	o.dir = other.dir;
	o.ca_subject = "/CN=Second Unit Test CA/O=crtoken tests";
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_OK);
	snprintf(cert2, sizeof(cert2), "%s/ca.pem", other.dir);
	snprintf(key2, sizeof(key2), "%s/ca.key", other.dir);

	/* One instance and its sessions before the swap; the reload's instance
	 * (reopened from it: one writer queue) and its session after. */
	assert_int_equal(crt_instance_open(ti.conf, 0, &old_inst, err, sizeof(err)), CRT_OK);
	assert_int_equal(crt_session_open(old_inst, 0, &old_a), CRT_OK);
	assert_int_equal(crt_session_open(old_inst, 0, &old_lead), CRT_OK);
	assert_int_equal(crt_ca_get(old_a, &old_ca), CRT_OK);
	assert_int_equal(crt_ca_import(ti.ctx, cert2, key2, NULL, "test"), CRT_OK);
	assert_int_equal(crt_instance_reopen(old_inst, &new_inst, err, sizeof(err)), CRT_OK);
	assert_int_equal(crt_session_open(new_inst, 0, &new_b), CRT_OK);
	crt_instance_unref(old_inst); /* the sessions hold theirs */
	crt_instance_unref(new_inst);
	assert_int_equal(crt_ca_get(new_b, &new_ca), CRT_OK);
	assert_string_not_equal(old_ca.subject, new_ca.subject);

	prepare(&lead, old_lead, "lead");
	prepare(&b, new_b, "new");
	prepare(&a, old_a, "old");
	/* Hold the writer lock: the first leader blocks with its batch taken ... */
	store_writer_lock(old_lead);
	start(&lead);
	wait_queue(old_lead, 0, 1);
	/* ... so the new context's job queues first and leads the next batch,
	 * with the old context's job behind it in the same batch. */
	start(&b);
	wait_queue(old_lead, 1, 1);
	start(&a);
	wait_queue(old_lead, 2, 1);
	store_writer_unlock(old_lead);
	pthread_join(lead.th, NULL);
	pthread_join(b.th, NULL);
	pthread_join(a.th, NULL);
	assert_int_equal(lead.r, CRT_OK);
	assert_int_equal(b.r, CRT_OK);
	assert_int_equal(a.r, CRT_OK);

	/* What was returned ... */
	assert_string_equal(a.cert.issuer, old_ca.subject);
	assert_string_equal(a.cert.chain_pem, old_ca.chain_pem);
	assert_string_equal(b.cert.issuer, new_ca.subject);
	assert_string_equal(b.cert.chain_pem, new_ca.chain_pem);
	/* ... and what was stored (what rlm_crtoken compares against). */
	char *ia = stored_issuer(a.cert.serial), *ib = stored_issuer(b.cert.serial);
	assert_string_equal(ia, old_ca.subject);
	assert_string_equal(ib, new_ca.subject);
	free(ia);
	free(ib);

	crt_cert_clear(&lead.cert);
	crt_cert_clear(&a.cert);
	crt_cert_clear(&b.cert);
	crt_ca_info_clear(&old_ca);
	crt_ca_info_clear(&new_ca);
	crt_close(old_a);
	crt_close(old_lead);
	crt_close(new_b);
	other.ctx = NULL;
	tu_instance_free(&other);
}

/*
 * An admin changes a token after a redemption's phase 1 read it and signed,
 * within the same second. The commit-time re-check must see the change (a
 * version counter, not the whole-second updated_at) and redo phase 1, so the
 * certificate carries the admin's new value.
 */
static void an_admin_update_in_the_same_second_as_phase_one_is_seen_by_the_redemption(void **s)
{
	int go[2], done[2];
	crt_token t;
	crt_token_spec spec = {.name = "same-second"};
	racer rd;
	pid_t pid;
	char c = 'g';
	crt_status ur = CRT_E_INTERNAL;

	memset(&rd, 0, sizeof(rd));
	rd.ctx = ti.ctx;
	tu_token(ti.ctx, &spec, rd.token, &t);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	/* The admin: another process (its own writer lock), waiting for "go". */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		crt_ctx *admin;
		crt_token_spec change = {.ou = "Changed by the admin"};
		crt_status r = crt_open(ti.conf, 0, &admin);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		if (r == CRT_OK)
			r = crt_token_update(admin, t.id, &change, "admin", NULL);
		_exit(write(done[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	/* The redemption: phase 1 done, its commit held back by the writer lock. */
	store_writer_lock(ti.ctx);
	start(&rd);
	wait_queue(ti.ctx, 0, 1);
	/* The admin's update commits now, in the same (frozen) second. */
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(read(done[0], &ur, sizeof(ur)), sizeof(ur));
	assert_int_equal(ur, CRT_OK);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	store_writer_unlock(ti.ctx);
	pthread_join(rd.th, NULL);

	assert_int_equal(rd.r, CRT_OK);
	assert_non_null(rd.cert.ou);
	assert_string_equal(rd.cert.ou, "Changed by the admin");
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	crt_cert_clear(&rd.cert);
	crt_token_clear(&t);
}

/*
 * Two redeemers of one token in the same batch: both passed phase 1 (the
 * token was unused when each read it). The first claims it; the second's
 * claim finds no row, the store reports the token as it saw it (used) and
 * the rule refuses it as token_used — audited with its own refusal row,
 * nothing of it stored.
 */
static void the_loser_of_a_claim_in_the_same_batch_is_refused_and_audited(void **s)
{
	crt_instance *inst;
	crt_ctx *lead_ctx, *a_ctx, *b_ctx;
	racer lead, a, b;
	char db[512], sql[300], err[512];
	crt_token t;
	crt_token_spec spec = {.name = "contested"};

	/* three sessions of one instance: one writer queue */
	assert_int_equal(crt_instance_open(ti.conf, 0, &inst, err, sizeof(err)), CRT_OK);
	assert_int_equal(crt_session_open(inst, 0, &lead_ctx), CRT_OK);
	assert_int_equal(crt_session_open(inst, 0, &a_ctx), CRT_OK);
	assert_int_equal(crt_session_open(inst, 0, &b_ctx), CRT_OK);
	crt_instance_unref(inst); /* the sessions hold theirs */
	prepare(&lead, lead_ctx, "lead");
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.ctx = a_ctx;
	b.ctx = b_ctx;
	tu_token(ti.ctx, &spec, a.token, &t);
	memcpy(b.token, a.token, sizeof(b.token));
	tu_db_path(&ti, db, sizeof(db));
	long long refused = tu_sql_int(db, "SELECT count(*) FROM audit WHERE action = "
					   "'token.redeem_refused'");

	/* The first leader blocks with its batch taken; a and b queue behind it
	 * and are committed together in the next batch. */
	store_writer_lock(lead_ctx);
	start(&lead);
	wait_queue(lead_ctx, 0, 1);
	start(&a);
	wait_queue(lead_ctx, 1, 1);
	start(&b);
	wait_queue(lead_ctx, 2, 1);
	store_writer_unlock(lead_ctx);
	pthread_join(lead.th, NULL);
	pthread_join(a.th, NULL);
	pthread_join(b.th, NULL);

	assert_int_equal(lead.r, CRT_OK);
	assert_int_equal(a.r, CRT_OK);
	assert_int_equal(b.r, CRT_E_TOKEN_USED);
	assert_null(b.cert.pem);
	snprintf(sql, sizeof(sql), "token %s was already used", t.id);
	assert_string_equal(crt_errdetail(b_ctx), sql);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM certificates WHERE token_id = '%s'", t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = 'token.redeem' AND "
				   "object = '%s'",
		 t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM audit WHERE action = "
					"'token.redeem_refused' AND detail LIKE '%\"token_used\"%'"),
			 refused + 1);
	crt_cert_clear(&lead.cert);
	crt_cert_clear(&a.cert);
	crt_token_clear(&t);
	crt_close(lead_ctx);
	crt_close(a_ctx);
	crt_close(b_ctx);
}

int main(int argc, char **argv)
{
	/* Re-run under a frozen clock unless already there. */
	if (getenv("FAKETIME") == NULL) {
		setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 1);
		execlp("faketime", "faketime", "-f", FROZEN_TIME, argv[0], (char *)NULL);
		fprintf(stderr, "# cannot run faketime (package faketime): %m\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        an_admin_update_in_the_same_second_as_phase_one_is_seen_by_the_redemption,
	        tu_group_setup, tu_group_teardown),
	    cmocka_unit_test_setup_teardown(
	        a_batch_led_by_the_new_ca_stores_the_old_signers_issuer_and_chain, tu_group_setup,
	        tu_group_teardown),
	    cmocka_unit_test_setup_teardown(
	        the_loser_of_a_claim_in_the_same_batch_is_refused_and_audited, tu_group_setup,
	        tu_group_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
