/*
 * test_fault_seen.c — the write paths of what RADIUS saw (the batched
 * record crt_cert_seen_record, the MAC pin crt_cert_pin_claim), failed at
 * each of their store calls in turn through the fault seam: store_busy and
 * store_unavailable at every call, store_commit_unknown at the commit.
 * Each time: the injected status, and the store exactly as before — or,
 * for a lost commit, exactly the committed change with its audit rows.
 * The loops run over store_fault_calls(), so a store call added to a path
 * is covered without touching this file. (SQLite: the dump reads the file.)
 */
#include "testutil.h"
#include <limits.h>

#include "store/port.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAILURES (sizeof(failures) / sizeof(failures[0]))

/* cert_seen and the audit trail, as one string. */
static char *store_dump(void)
{
	static const char *const q[] = {
		"SELECT group_concat(serial || ':' || first_seen || ':' || last_seen || ':' ||"
		" coalesce(first_mac, '-') || ':' || coalesce(last_mac, '-') || ':' ||"
		" coalesce(nas_ip, '-'), ',') FROM (SELECT * FROM cert_seen ORDER BY serial)",
		"SELECT group_concat(id || ':' || action || ':' || coalesce(object, '-') || ':' ||"
		" coalesce(detail, '-'), ',') FROM (SELECT * FROM audit ORDER BY id)",
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

static void assert_injected(crt_status got, crt_status s)
{
	if (got != s)
		fail_msg("%s, not %s: %s", crt_status_name(got), crt_status_name(s),
			 crt_errdetail(ti.ctx));
	assert_non_null(strstr(crt_errdetail(ti.ctx), "injected"));
}

/* A batch of three: two new certificates, one seen before. */
typedef struct batch {
	crt_cert c[3];
	crt_sighting v[3];
} batch;

static void batch_make(batch *b)
{
	for (int i = 0; i < 3; i++) {
		issue(&b->c[i]);
		b->v[i] = (crt_sighting){.first_at = 100 + i, .last_at = 200 + i};
		memcpy(b->v[i].serial, b->c[i].serial, sizeof(b->v[i].serial));
		snprintf(b->v[i].first_mac, sizeof(b->v[i].first_mac), "aa:aa:aa:aa:aa:0%d", i);
		snprintf(b->v[i].mac, sizeof(b->v[i].mac), "aa:aa:aa:aa:aa:0%d", i);
		snprintf(b->v[i].nas_ip, sizeof(b->v[i].nas_ip), "10.0.0.%d", i);
	}
	assert_int_equal(crt_cert_seen_record(ti.ctx, &b->v[2], 1), CRT_OK);
	b->v[2].last_at = 900;
}

static void batch_free(batch *b)
{
	for (int i = 0; i < 3; i++)
		crt_cert_clear(&b->c[i]);
}

static void a_batch_fails_cleanly_at_every_store_call(void **s)
{
	batch b;
	batch_make(&b);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(crt_cert_seen_record(ti.ctx, b.v, 3), CRT_OK);
	int n = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(n >= 5); /* begin, three merges, audit rows, commit */
	batch_free(&b);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			batch_make(&b);
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(crt_cert_seen_record(ti.ctx, b.v, 3), failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
			/* the next flush of the same batch goes through */
			assert_int_equal(crt_cert_seen_record(ti.ctx, b.v, 3), CRT_OK);
			batch_free(&b);
		}
}

static void a_lost_batch_commit_leaves_exactly_the_batch(void **s)
{
	batch b;
	char q[300];
	batch_make(&b);
	long long audits = sql("SELECT count(*) FROM audit");
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(crt_cert_seen_record(ti.ctx, b.v, 3), CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	/* two first sightings audited, the third was seen before */
	assert_int_equal(sql("SELECT count(*) FROM audit"), audits + 2);
	snprintf(q, sizeof(q), "SELECT last_seen FROM cert_seen WHERE serial = '%s'",
		 b.c[2].serial);
	assert_int_equal(sql(q), 900);
	/* flushing it again (a retry) changes nothing more */
	assert_int_equal(crt_cert_seen_record(ti.ctx, b.v, 3), CRT_OK);
	assert_int_equal(sql("SELECT count(*) FROM audit"), audits + 2);
	batch_free(&b);
}

static void a_pin_fails_cleanly_at_every_store_call(void **s)
{
	crt_cert c;
	issue(&c);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:01", 100), CRT_OK);
	int n = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(n >= 3);
	crt_cert_clear(&c);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			issue(&c);
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:01", 100),
					failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
			assert_int_equal(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:01", 100),
					 CRT_OK);
			crt_cert_clear(&c);
		}
}

static void a_lost_pin_commit_leaves_exactly_the_pin(void **s)
{
	crt_cert c;
	char q[300];
	issue(&c);
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_injected(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:07", 100),
			CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	snprintf(q, sizeof(q),
		 "SELECT count(*) FROM audit WHERE action = 'cert.pin' AND object = '%s'", c.serial);
	assert_int_equal(sql(q), 1);
	/* the retry finds its own MAC pinned: admitted, no second row */
	assert_int_equal(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:07", 101), CRT_OK);
	assert_int_equal(sql(q), 1);
	crt_cert_clear(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_batch_fails_cleanly_at_every_store_call),
		cmocka_unit_test(a_lost_batch_commit_leaves_exactly_the_batch),
		cmocka_unit_test(a_pin_fails_cleanly_at_every_store_call),
		cmocka_unit_test(a_lost_pin_commit_leaves_exactly_the_pin),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
