/*
 * test_fault_cert.c — every write path of certificates, the CRL, the audit
 * trail and backup, failed at each of its store calls in turn through the
 * fault seam (store_fault_arm): store_busy and store_unavailable at every
 * call, store_commit_unknown (a lost commit) at the commit. Each time: a
 * clear status with the injected cause in the detail, and the store exactly
 * as before — or, for a lost commit, exactly the committed change with its
 * audit row. The loops run over store_fault_calls(), so a store call added
 * to a path is covered without touching this file.
 */
#include "testutil.h"
#include <limits.h>
#include <sys/stat.h>

#include "store/port.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAILURES (sizeof(failures) / sizeof(failures[0]))

/* Everything the paths under test may touch, as one string: certificates'
 * revocation columns, the audit trail, meta and the published CRL. */
static char *store_dump(void)
{
	static const char *const q[] = {
		"SELECT group_concat(serial || ':' || coalesce(revoked_at, '-') || ':' ||"
		" coalesce(reason, '-') || ':' || coalesce(revoked_seq, '-'), ',')"
		" FROM (SELECT * FROM certificates ORDER BY serial)",
		"SELECT group_concat(id || ':' || action || ':' || coalesce(object, '-') || ':' ||"
		" coalesce(detail, '-'), ',') FROM (SELECT * FROM audit ORDER BY id)",
		"SELECT group_concat(key || '=' || value, ',') FROM (SELECT * FROM meta ORDER BY key)",
		"SELECT group_concat(number || ':' || this_update || ':' || revocations || ':' ||"
		" ca_sha256 || ':' || hex(der), ',') FROM crl",
	};
	char db[512], *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	sqlite3 *h;

	tu_db_path(&ti, db, sizeof(db));
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(h, q[i], -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		const unsigned char *t = sqlite3_column_text(st, 0);
		fprintf(f, "%s\n", t ? (const char *)t : "");
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	fclose(f);
	return out;
}

static long long sql(const char *q)
{
	char db[512];
	tu_db_path(&ti, db, sizeof(db));
	return tu_sql_int(db, q);
}

static void issue(crt_cert *c)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = "fault"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, c), CRT_OK);
	crt_token_clear(&t);
}

/* The store calls op makes on a fresh object (counted, not failed). */
static int calls_of(crt_status (*op)(void *), void *arg)
{
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(op(arg), CRT_OK);
	int n = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(n >= 3); /* at least begin, a write, commit */
	return n;
}

/* op failed at its call i with s: s itself, the cause in the detail. */
static void assert_injected(crt_status got, crt_status s)
{
	if (got != s)
		fail_msg("%s, not %s: %s", crt_status_name(got), crt_status_name(s),
			 crt_errdetail(ti.ctx));
	assert_non_null(strstr(crt_errdetail(ti.ctx), "injected"));
}

/* ------------------------------------------------------------------ revoke */

static crt_status revoke_op(void *serial)
{
	return crt_cert_revoke(ti.ctx, serial, 1, "fault", NULL);
}

/* Revocation is one transaction: the revoked row, its cert.revoke audit
 * row, the CRL signed under the next number and its crl.generate row. */
static void revoke_fails_cleanly_at_every_store_call(void **s)
{
	crt_cert c;
	issue(&c);
	int n = calls_of(revoke_op, c.serial);
	crt_cert_clear(&c);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			issue(&c);
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(revoke_op(c.serial), failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
			/* nothing held: the same connection revokes it now */
			assert_int_equal(revoke_op(c.serial), CRT_OK);
			crt_cert_clear(&c);
		}
}

static void a_lost_revoke_commit_leaves_exactly_the_revocation(void **s)
{
	crt_cert c, got;
	issue(&c);
	long long audits = sql("SELECT count(*) FROM audit");
	long long number = sql("SELECT value FROM meta WHERE key = 'crl_number'");
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(revoke_op(c.serial), CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_true(got.revoked);
	assert_int_equal(sql("SELECT count(*) FROM audit"), audits + 2);
	char q[200];
	snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE action = 'cert.revoke' AND object = '%s'",
		 c.serial);
	assert_int_equal(sql(q), 1);
	assert_int_equal(sql("SELECT value FROM meta WHERE key = 'crl_number'"), number + 1);
	assert_int_equal(sql("SELECT number FROM crl"), number + 1);
	/* a retry after the unknown outcome is told it is done */
	assert_int_equal(revoke_op(c.serial), CRT_E_CERT_REVOKED);
	crt_cert_clear(&got);
	crt_cert_clear(&c);
}

/*
 * The attack: two nodes revoke one certificate at once. On a store with
 * more than one writer (PostgreSQL at READ COMMITTED) both read the row as
 * valid, and before the row count of the guarded UPDATE was checked both
 * wrote a cert.revoke audit row (and signed a CRL). Here a backend whose
 * read is followed at once by another node's revocation stands for that
 * interleaving: the loser must report already revoked and write nothing.
 */
extern const store_ops store_sqlite_ops;
static struct store_cert_ops racing_certs;
static store_ops racing;

static crt_status get_then_another_node_revokes(crt_ctx *ctx, const char *serial, crt_cert *out,
						int *found)
{
	crt_status r = store_sqlite_ops.certs->get(ctx, serial, out, found);
	int changed = 0;
	if (r == CRT_OK && *found && !out->revoked) {
		assert_int_equal(store_sqlite_ops.certs->revoke(ctx, serial, crt_now(), 4, &changed),
				 CRT_OK);
		assert_int_equal(changed, 1);
	}
	return r;
}

static void two_nodes_revoking_at_once_write_one_cert_revoke_row(void **s)
{
	crt_cert c;
	char q[200];
	issue(&c);
	racing_certs = *store_sqlite_ops.certs;
	racing_certs.get = get_then_another_node_revokes;
	racing = store_sqlite_ops;
	racing.certs = &racing_certs;
	const store_ops *real = ti.ctx->ops;
	char *before = store_dump();
	ti.ctx->ops = &racing;
	crt_status r = revoke_op(c.serial);
	ti.ctx->ops = real;
	assert_int_equal(r, CRT_E_CERT_REVOKED);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "already revoked"));
	/* the loser rolled back: not even the other node's write is left */
	char *after = store_dump();
	assert_string_equal(after, before);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM audit WHERE action = 'cert.revoke' AND object = '%s'", c.serial);
	assert_int_equal(sql(q), 0);
	free(before);
	free(after);
	crt_cert_clear(&c);
}

/*
 * Revocations and publications serialised on every backend: a revocation
 * takes the publication lock before it reads the row, and a re-sign takes
 * it in its transaction before it reads what the published CRL covers.
 * (On SQLite the write lock hides a missing one; on PostgreSQL a CRL could
 * otherwise claim to cover a revocation that commits after it.)
 */
static char calls_seen[256];
static struct store_cert_ops logging_certs;
static store_ops logging;

static crt_status log_crl_load(crt_ctx *ctx, const char *ca, unsigned flags, store_crl *out)
{
	strcat(calls_seen, flags & STORE_CRL_LOCK ? "L" : "l");
	return store_sqlite_ops.certs->crl_load(ctx, ca, flags, out);
}

static crt_status log_get(crt_ctx *ctx, const char *serial, crt_cert *out, int *found)
{
	strcat(calls_seen, "g");
	return store_sqlite_ops.certs->get(ctx, serial, out, found);
}

static crt_status log_revoke(crt_ctx *ctx, const char *serial, int64_t now, int reason,
			     int *changed)
{
	strcat(calls_seen, "r");
	return store_sqlite_ops.certs->revoke(ctx, serial, now, reason, changed);
}

static void revocations_and_publications_take_the_publication_lock_first(void **s)
{
	crt_cert c;
	crt_crl crl;
	issue(&c);
	logging_certs = *store_sqlite_ops.certs;
	logging_certs.crl_load = log_crl_load;
	logging_certs.get = log_get;
	logging_certs.revoke = log_revoke;
	logging = store_sqlite_ops;
	logging.certs = &logging_certs;
	const store_ops *real = ti.ctx->ops;
	ti.ctx->ops = &logging;
	calls_seen[0] = '\0';
	crt_status r = revoke_op(c.serial);
	/* lock, read, guarded write, then the CRL it publishes */
	assert_string_equal(calls_seen, "Lgrl");
	calls_seen[0] = '\0';
	crt_status r2 = crt_crl_current(ti.ctx, CRT_CRL_FORCE, "fault", &crl);
	assert_string_equal(calls_seen, "lLl");
	ti.ctx->ops = real;
	assert_int_equal(r, CRT_OK);
	assert_int_equal(r2, CRT_OK);
	crt_crl_clear(&crl);
	crt_cert_clear(&c);
}

/* The verb answers by its row count: once, then never again. */
static void the_guarded_revoke_changes_a_row_once(void **s)
{
	crt_cert c;
	int changed = -1;
	issue(&c);
	assert_int_equal(store_begin_write(ti.ctx), CRT_OK);
	assert_int_equal(store_cert_revoke(ti.ctx, c.serial, crt_now(), 1, &changed), CRT_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(store_cert_revoke(ti.ctx, c.serial, crt_now(), 1, &changed), CRT_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(store_cert_revoke(ti.ctx, "00", crt_now(), 1, &changed), CRT_OK);
	assert_int_equal(changed, 0);
	store_rollback(ti.ctx);
	crt_cert_clear(&c);
}

/* ------------------------------------------------------------------ CRL */

/* Two writers taking CRL numbers get two numbers: the bump is one
 * statement (UPDATE ... RETURNING), not a read and a later write. */
static void crl_numbers_come_from_one_atomic_bump(void **s)
{
	crt_ctx *other;
	int64_t a = 0, b = 0, c = 0;
	assert_int_equal(crt_open(ti.conf, CRT_OPEN_NO_CA, &other), CRT_OK);
	assert_int_equal(store_begin_write(ti.ctx), CRT_OK);
	assert_int_equal(store_meta_bump(ti.ctx, "crl_number", &a), CRT_OK);
	assert_int_equal(store_commit(ti.ctx), CRT_OK);
	assert_int_equal(store_begin_write(other), CRT_OK);
	assert_int_equal(store_meta_bump(other, "crl_number", &b), CRT_OK);
	assert_int_equal(store_commit(other), CRT_OK);
	assert_int_equal(b, a + 1);
	assert_int_equal(sql("SELECT value FROM meta WHERE key = 'crl_number'"), b);
	/* a key that is not there is an error, never a silent 1 */
	assert_int_equal(store_begin_write(other), CRT_OK);
	assert_int_equal(store_meta_bump(other, "no_such_counter", &c), CRT_E_STORE);
	store_rollback(other);
	crt_close(other);
}


static crt_status crl_force_op(void *unused)
{
	crt_crl crl;
	crt_status r = crt_crl_current(ti.ctx, CRT_CRL_FORCE, "fault", &crl);
	crt_crl_clear(&crl);
	return r;
}

static void crl_generation_fails_cleanly_at_every_store_call(void **s)
{
	int n = calls_of(crl_force_op, NULL);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(crl_force_op(NULL), failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
		}
	assert_int_equal(crl_force_op(NULL), CRT_OK);
}

static void a_lost_crl_commit_leaves_exactly_the_new_crl(void **s)
{
	long long gen = sql("SELECT count(*) FROM audit WHERE action = 'crl.generate'");
	long long number = sql("SELECT value FROM meta WHERE key = 'crl_number'");
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(crl_force_op(NULL), CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_int_equal(sql("SELECT count(*) FROM audit WHERE action = 'crl.generate'"), gen + 1);
	assert_int_equal(sql("SELECT value FROM meta WHERE key = 'crl_number'"), number + 1);
	assert_int_equal(sql("SELECT number FROM crl"), number + 1);
}

/* Serving a fresh CRL is a read: a failed read fails clearly, writes nothing. */
static void serving_a_fresh_crl_fails_cleanly_at_every_store_call(void **s)
{
	crt_crl crl;
	assert_int_equal(crt_crl_current(ti.ctx, 0, "fault", &crl), CRT_OK);
	crt_crl_clear(&crl);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(crt_crl_current(ti.ctx, 0, "fault", &crl), CRT_OK);
	assert_false(crl.resigned);
	crt_crl_clear(&crl);
	int n = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(n >= 1);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(crt_crl_current(ti.ctx, 0, "fault", &crl), failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			assert_null(crl.der);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
		}
}

/* ------------------------------------------------------------------ audit event */

static crt_status event_op(void *unused)
{
	return crt_audit_event(ti.ctx, "fault", "login.failed", "someone", "{\"n\":1}");
}

static void an_audit_event_fails_cleanly_at_every_store_call(void **s)
{
	int n = calls_of(event_op, NULL);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(event_op(NULL), failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
		}
	long long rows = sql("SELECT count(*) FROM audit WHERE action = 'login.failed'");
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(event_op(NULL), CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_int_equal(sql("SELECT count(*) FROM audit WHERE action = 'login.failed'"), rows + 1);
}

/* ------------------------------------------------------------------ backup */

static char backup_path[600];

static crt_status backup_op(void *unused)
{
	return crt_backup(ti.ctx, backup_path, "fault");
}

/* A failed backup leaves no file and no instance.backup row; a lost
 * commit leaves both (the row may be there, so the file stays). */
static void a_backup_fails_cleanly_at_every_store_call(void **s)
{
	struct stat st;
	snprintf(backup_path, sizeof(backup_path), "%s/../fault.backup", ti.dir);
	int n = calls_of(backup_op, NULL);
	assert_int_equal(unlink(backup_path), 0);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(backup_op(NULL), failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			assert_int_not_equal(stat(backup_path, &st), 0);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
		}
	long long rows = sql("SELECT count(*) FROM audit WHERE action = 'instance.backup'");
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(backup_op(NULL), CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_int_equal(sql("SELECT count(*) FROM audit WHERE action = 'instance.backup'"),
			 rows + 1);
	assert_int_equal(stat(backup_path, &st), 0);
	unlink(backup_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(revoke_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_lost_revoke_commit_leaves_exactly_the_revocation),
	    cmocka_unit_test(two_nodes_revoking_at_once_write_one_cert_revoke_row),
	    cmocka_unit_test(the_guarded_revoke_changes_a_row_once),
	    cmocka_unit_test(revocations_and_publications_take_the_publication_lock_first),
	    cmocka_unit_test(crl_numbers_come_from_one_atomic_bump),
	    cmocka_unit_test(crl_generation_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_lost_crl_commit_leaves_exactly_the_new_crl),
	    cmocka_unit_test(serving_a_fresh_crl_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(an_audit_event_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_backup_fails_cleanly_at_every_store_call),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
