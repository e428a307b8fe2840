/*
 * test_fault_copy.c — crt_store_copy with each of the source's store calls
 * failed in turn (the fault seam) by store_busy and store_unavailable: the
 * copy reports the injected status, no target file is left, and the
 * source has no store.copy.out row. A lost commit of the source's audit
 * row (store_commit_unknown) is the one outcome where the copy landed: the
 * target is complete and the status says the source's answer was lost.
 * Then the checks a copy makes on its own: a target that exists, a
 * conninfo with a password, an unknown backend.
 */
#include <sys/stat.h>

#include "testutil.h"
#include "store/port.h"

static const crt_status busy_or_down[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};

static int audit_count(crt_ctx *ctx, const char *action)
{
	crt_audit_row *rows = NULL;
	size_t n = 0;
	crt_status r = crt_audit_list(ctx, 100000, action, &rows, &n);
	if (r != CRT_OK)
		fail_msg("audit list: %s: %s", crt_status_name(r), crt_errdetail(ctx));
	crt_audit_list_free(rows, n);
	return (int)n;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void target_path(char *out, size_t n, int i)
{
	snprintf(out, n, "%s/copy-%d.db", ti.dir, i);
}

/* Some rows in every area. */
static void fill(void)
{
	char *uri = NULL, *b32 = NULL, key[CRT_TOKEN_STRLEN + 1];
	crt_apikey k;
	assert_int_equal(crt_otp_enroll(ti.ctx, "alice", "SHA1", 6, 30, NULL, "test", &uri, &b32),
			 CRT_OK);
	free(uri);
	free(b32);
	assert_int_equal(crt_apikey_create(ti.ctx, "ops", "test", &k, key), CRT_OK);
	crt_apikey_clear(&k);
}

static void copy_clean_then_each_call_failed(void **state)
{
	char path[512];
	crt_copy_report rep;
	int calls, i = 0, late = 0;

	fill();
	target_path(path, sizeof(path), i++);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY); /* count only */
	assert_int_equal(crt_store_copy(ti.ctx, "sqlite", path, "test", &rep), CRT_OK);
	calls = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(calls >= 5);
	assert_true(exists(path));
	assert_int_equal(audit_count(ti.ctx, "store.copy.out"), 1);
	assert_true(rep.ntables >= 7);

	for (size_t s = 0; s < sizeof(busy_or_down) / sizeof(busy_or_down[0]); s++)
		for (int n = 1; n <= calls; n++) {
			target_path(path, sizeof(path), i++);
			store_fault_arm(ti.ctx, n, busy_or_down[s]);
			crt_status r = crt_store_copy(ti.ctx, "sqlite", path, "test", &rep);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			if (r != busy_or_down[s])
				fail_msg("call %d/%d: want %s, got %s: %s", n, calls,
					 crt_status_name(busy_or_down[s]), crt_status_name(r),
					 crt_errdetail(ti.ctx));
			assert_non_null(strstr(crt_errdetail(ti.ctx), "injected"));
			/* the target lands before the source's audit row: a failure
			 * there leaves the (complete) target and says so; anywhere
			 * else nothing is left */
			if (exists(path) && strstr(crt_errdetail(ti.ctx), "landed") == NULL)
				fail_msg("call %d: a failed copy left %s: %s", n, path,
					 crt_errdetail(ti.ctx));
			late += exists(path);
			assert_int_equal(audit_count(ti.ctx, "store.copy.out"), 1);
		}

	/* the source's begin, audit row and commit, for each status */
	assert_int_equal(late, 3 * 2);

	target_path(path, sizeof(path), i++);
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(crt_store_copy(ti.ctx, "sqlite", path, "test", &rep),
			 CRT_E_STORE_COMMIT_UNKNOWN);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "may not have happened"));
	assert_true(exists(path));
	assert_int_equal(audit_count(ti.ctx, "store.copy.out"), 2);
}

static void copy_refuses_bad_targets(void **state)
{
	char path[512];
	crt_copy_report rep;
	int before = audit_count(ti.ctx, "store.copy.out");

	snprintf(path, sizeof(path), "%s/there.db", ti.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(crt_store_copy(ti.ctx, "sqlite", path, "test", &rep), CRT_E_EXISTS);
	assert_true(exists(path));
	assert_int_equal(crt_store_copy(ti.ctx, "postgresql", "host=x password=y", "test", &rep),
			 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_store_copy(ti.ctx, "postgresql", "postgresql://u:pw@h/db", "test", &rep),
			 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_store_copy(ti.ctx, "mysql", "x", "test", &rep), CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_store_copy(ti.ctx, "sqlite", "", "test", &rep), CRT_E_INVALID_ARGUMENT);
	assert_int_equal(audit_count(ti.ctx, "store.copy.out"), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copy_clean_then_each_call_failed),
		cmocka_unit_test(copy_refuses_bad_targets),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
