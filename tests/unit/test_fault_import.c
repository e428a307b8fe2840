/*
 * test_fault_import.c — the write paths of uploaded certificates
 * (crt_cert_import; crt_redeem with a certificate) failed at each of their
 * store calls in turn through the fault seam: store_busy and
 * store_unavailable at every call, store_commit_unknown (a lost commit) at
 * the commit. Each time a clear status with the injected cause, and the
 * store exactly as before — or, for a lost commit, exactly the stored
 * certificate with its audit row and event, reported as done (the import
 * reads it back). The loops run over store_fault_calls().
 */
#include "testutil.h"
#include <limits.h>

#include "import_util.h"
#include "store/port.h"

static const crt_status failures[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};
#define NFAILURES (sizeof(failures) / sizeof(failures[0]))

static char db[512];

static long long sql(const char *q)
{
	return tu_sql_int(db, q);
}

/* What the paths may touch: certificates, tokens' use, audit rows, events. */
static char *store_dump(void)
{
	char *out = NULL;
	if (asprintf(&out, "%lld %lld %lld %lld %lld",
		     sql("SELECT count(*) FROM certificates"),
		     sql("SELECT count(*) FROM tokens WHERE used_at IS NOT NULL"),
		     sql("SELECT count(*) FROM audit WHERE action NOT LIKE '%refused'"),
		     sql("SELECT count(*) FROM events"), sql("SELECT count(*) FROM audit")) < 0)
		fail_msg("asprintf");
	return out;
}

static void assert_injected(crt_status got, crt_status s)
{
	if (got != s)
		fail_msg("%s, not %s: %s", crt_status_name(got), crt_status_name(s),
			 crt_errdetail(ti.ctx));
	assert_non_null(strstr(crt_errdetail(ti.ctx), "injected"));
}

static crt_status import_op(const char *pem)
{
	crt_import_req req = {.pem = (const unsigned char *)pem,
			      .pem_len = strlen(pem),
			      .name = "fault",
			      .owner = "alice",
			      .actor = "fault"};
	return crt_cert_import(ti.ctx, &req, NULL);
}

static int calls_of_import(void)
{
	char *pem = client_pem("count");
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(import_op(pem), CRT_OK);
	int n = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	free(pem);
	assert_true(n >= 4); /* begin, the read, the insert, commit */
	return n;
}

static void import_fails_cleanly_at_every_store_call(void **s)
{
	int n = calls_of_import();
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			char *pem = client_pem("fault");
			char *before = store_dump();
			store_fault_arm(ti.ctx, i, failures[k]);
			assert_injected(import_op(pem), failures[k]);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			char *after = store_dump();
			assert_string_equal(after, before);
			free(after);
			free(before);
			/* nothing held: the same connection imports it now */
			assert_int_equal(import_op(pem), CRT_OK);
			free(pem);
		}
}

static void a_lost_import_commit_is_read_back_as_done(void **s)
{
	char *pem = client_pem("lost");
	long long certs = sql("SELECT count(*) FROM certificates");
	long long rows = sql("SELECT count(*) FROM audit WHERE action = 'cert.import'");
	long long events = sql("SELECT count(*) FROM events");
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	crt_status r = import_op(pem);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_int_equal(r, CRT_OK);
	assert_int_equal(sql("SELECT count(*) FROM certificates"), certs + 1);
	assert_int_equal(sql("SELECT count(*) FROM audit WHERE action = 'cert.import'"), rows + 1);
	assert_int_equal(sql("SELECT count(*) FROM events"), events + 1);
	/* a retry is told it is there */
	assert_int_equal(import_op(pem), CRT_E_CERT_EXISTS);
	free(pem);
}

static crt_status upload_op(const char *tok, const char *pem)
{
	crt_redeem_req req = {.token = tok,
			      .cert = (const unsigned char *)pem,
			      .cert_len = strlen(pem),
			      .admin = 1,
			      .actor = "fault"};
	return crt_redeem(ti.ctx, &req, NULL);
}

static void an_upload_by_token_fails_cleanly_at_every_store_call(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t = {0};
	crt_token_spec spec = {.name = "u"};
	char *pem = client_pem("u");
	tu_token(ti.ctx, &spec, tok, &t);
	crt_token_clear(&t);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(upload_op(tok, pem), CRT_OK);
	int n = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	free(pem);
	for (size_t k = 0; k < NFAILURES; k++)
		for (int i = 1; i <= n; i++) {
			tu_token(ti.ctx, &spec, tok, &t);
			crt_token_clear(&t);
			pem = client_pem("u");
			long long certs = sql("SELECT count(*) FROM certificates");
			long long used = sql("SELECT count(*) FROM tokens WHERE used_at IS NOT NULL");
			store_fault_arm(ti.ctx, i, failures[k]);
			crt_status r = upload_op(tok, pem);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			assert_int_equal(r, failures[k]);
			assert_int_equal(sql("SELECT count(*) FROM certificates"), certs);
			assert_int_equal(sql("SELECT count(*) FROM tokens WHERE used_at IS NOT NULL"),
					 used);
			assert_int_equal(upload_op(tok, pem), CRT_OK);
			free(pem);
		}
}

/*
 * Two writers storing one uploaded certificate at once: both read its
 * serial as free, one insert wins. A backend whose first read says "not
 * stored" although it is stands for that interleaving: the loser must say
 * cert_exists (not store_error) and write nothing.
 */
static const struct store_cert_ops *real_certs;
static struct store_cert_ops lying_certs;
static store_ops racing;
static int lies;

static crt_status get_not_yet(crt_ctx *ctx, const char *serial, crt_cert *out, int *found)
{
	if (lies > 0) {
		lies--;
		memset(out, 0, sizeof(*out));
		*found = 0;
		return CRT_OK;
	}
	return real_certs->get(ctx, serial, out, found);
}

static crt_status race(crt_status (*op)(const char *, const char *), const char *tok,
		       const char *pem)
{
	const store_ops *real = ti.ctx->ops;
	racing = *real;
	real_certs = real->certs;
	lying_certs = *real_certs;
	lying_certs.get = get_not_yet;
	racing.certs = &lying_certs;
	lies = 1;
	ti.ctx->ops = &racing;
	crt_status r = op(tok, pem);
	ti.ctx->ops = real;
	return r;
}

static crt_status import_two(const char *unused, const char *pem)
{
	return import_op(pem);
}

static void two_writers_importing_one_certificate_store_it_once(void **s)
{
	char *pem = client_pem("raced");
	assert_int_equal(import_op(pem), CRT_OK); /* the other writer's */
	char *before = store_dump();
	assert_int_equal(race(import_two, NULL, pem), CRT_E_CERT_EXISTS);
	char *after = store_dump();
	assert_string_equal(after, before);
	free(before);
	free(after);
	free(pem);
}

static void two_uploads_of_one_certificate_by_two_tokens_store_it_once(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t = {0};
	crt_token_spec spec = {.name = "raced"};
	char *pem = client_pem("raced");
	assert_int_equal(import_op(pem), CRT_OK); /* the other writer's */
	tu_token(ti.ctx, &spec, tok, &t);
	long long certs = sql("SELECT count(*) FROM certificates");
	long long used = sql("SELECT count(*) FROM tokens WHERE used_at IS NOT NULL");
	assert_int_equal(race(upload_op, tok, pem), CRT_E_CERT_EXISTS);
	assert_int_equal(sql("SELECT count(*) FROM certificates"), certs);
	assert_int_equal(sql("SELECT count(*) FROM tokens WHERE used_at IS NOT NULL"), used);
	crt_token_clear(&t);
	free(pem);
}

static int setup(void **state)
{
	import_instance();
	tu_db_path(&ti, db, sizeof(db));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(import_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(a_lost_import_commit_is_read_back_as_done),
	    cmocka_unit_test(an_upload_by_token_fails_cleanly_at_every_store_call),
	    cmocka_unit_test(two_writers_importing_one_certificate_store_it_once),
	    cmocka_unit_test(two_uploads_of_one_certificate_by_two_tokens_store_it_once),
	};
	int rc = cmocka_run_group_tests(tests, setup, tu_group_teardown);
	import_util_free();
	return rc;
}
