/*
 * test_instance.c — instances and sessions: an instance lives as long as
 * its last reference (the sessions made from it included), a swap (what
 * crtokend's reload does) leaves the sessions of the old instance working
 * until they close, instances reopened from one another share the store's
 * writer state, and sessions open and close concurrently over one instance.
 * Uses the internal layout (internal.h) to read reference counts and which
 * writer state a connection uses.
 */
#include "testutil.h"
#include "internal.h"
#include "store/sqlite.h" /* the connection's writer state */
#include <pthread.h>

static int refs(const crt_instance *inst)
{
	return __atomic_load_n(&inst->refs, __ATOMIC_ACQUIRE);
}

static crt_instance *open_inst(const char *conf, unsigned flags)
{
	crt_instance *inst = NULL;
	char err[640];
	crt_status r = crt_instance_open(conf, flags, &inst, err, sizeof(err));
	if (r != CRT_OK)
		fail_msg("instance open: %s: %s", crt_status_name(r), err);
	assert_non_null(inst);
	return inst;
}

static crt_ctx *open_session(crt_instance *inst, unsigned flags)
{
	crt_ctx *ctx = NULL;
	crt_status r = crt_session_open(inst, flags, &ctx);
	if (r != CRT_OK)
		fail_msg("session open: %s: %s", crt_status_name(r), crt_errdetail(ctx));
	return ctx;
}

/* A write and a read through ctx: the session works. */
static void use(crt_ctx *ctx, const char *name)
{
	crt_token_spec spec = {.name = name};
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, g;
	tu_token(ctx, &spec, tok, &t);
	assert_int_equal(crt_token_get(ctx, t.id, &g), CRT_OK);
	assert_string_equal(g.name, name);
	crt_token_clear(&g);
	crt_token_clear(&t);
}

static void every_session_holds_a_reference_and_the_last_one_frees_the_instance(void **s)
{
	crt_instance *inst = open_inst(ti.conf, 0);
	assert_int_equal(refs(inst), 1);
	crt_ctx *a = open_session(inst, 0), *b = open_session(inst, CRT_OPEN_READONLY);
	assert_int_equal(refs(inst), 3);
	assert_ptr_equal(crt_session_instance(a), inst);
	assert_ptr_equal(crt_instance_ref(inst), inst);
	assert_int_equal(refs(inst), 4);
	crt_instance_unref(inst);
	/* The opener lets go: the sessions keep it, config and CA included. */
	crt_instance_unref(inst);
	assert_int_equal(refs(inst), 2);
	use(a, "after-the-opener-let-go");
	assert_string_equal(crt_get_config(b)->database, crt_instance_config(inst)->database);
	assert_non_null(strstr(crt_instance_ca_pem(inst), "BEGIN CERTIFICATE"));
	crt_close(b);
	assert_int_equal(refs(inst), 1);
	crt_close(a); /* frees the instance (ASan: no leak, no use after free) */
}

static void a_session_reads_config_and_ca_from_its_instance_not_a_copy(void **s)
{
	crt_instance *inst = open_inst(ti.conf, 0);
	crt_ctx *a = open_session(inst, 0), *b = open_session(inst, 0);
	/* One parsed config and one CA key for both sessions. */
	assert_ptr_equal(crt_get_config(a)->database, inst->cfg.database);
	assert_ptr_equal(crt_get_config(b)->database, inst->cfg.database);
	assert_ptr_equal(a->ca_key, inst->cas[0].key);
	assert_ptr_equal(b->ca_key, inst->cas[0].key);
	assert_non_null(inst->cas[0].key);
	/* ... and one writer queue for the store. */
	assert_non_null(a->conn->shared);
	assert_ptr_equal(a->conn->shared, b->conn->shared);
	crt_close(a);
	crt_close(b);
	crt_instance_unref(inst);
}

static void crt_open_makes_an_instance_its_session_alone_holds(void **s)
{
	crt_ctx *ctx;
	assert_int_equal(crt_open(ti.conf, 0, &ctx), CRT_OK);
	assert_int_equal(refs(crt_session_instance(ctx)), 1);
	use(ctx, "crt-open");
	crt_close(ctx);
}

/*
 * The reload: a new instance is opened from the current one and swapped in;
 * the old one is released by the swapper. A session of the old instance on
 * loan at that moment finishes its work with the old instance, which is
 * freed when that session closes; the writer state both generations queue
 * in stays until the last of them.
 */
static void sessions_outlive_a_swap_and_the_last_one_frees_the_old_instance(void **s)
{
	char err[640];
	crt_instance *cur = open_inst(ti.conf, 0), *old, *fresh = NULL;
	crt_ctx *on_loan = open_session(cur, 0);
	struct store_slot *slot = cur->slot;

	assert_int_equal(crt_instance_reopen(cur, &fresh, err, sizeof(err)), CRT_OK);
	old = cur;
	cur = fresh; /* the swap */
	crt_instance_unref(old);
	assert_int_equal(refs(old), 1); /* only the session on loan holds it */
	assert_ptr_equal(cur->slot, slot);
	assert_int_equal(slot->refs, 2);

	crt_ctx *next = open_session(cur, 0);
	assert_ptr_equal(crt_session_instance(next), cur);
	assert_ptr_equal(next->conn->shared, on_loan->conn->shared);
	use(on_loan, "old-generation");
	use(next, "new-generation");
	assert_ptr_equal(crt_get_config(on_loan)->database, old->cfg.database);

	crt_close(on_loan); /* the old instance goes here ... */
	assert_int_equal(slot->refs, 1); /* ... and the shared writer state stays */
	use(next, "after-the-old-generation-went");
	crt_close(next);
	crt_instance_unref(cur);
}

static void a_reopened_instance_on_another_store_has_writer_state_of_its_own(void **s)
{
	test_instance other;
	char err[640];
	crt_instance *a, *b = NULL;
	tu_instance_init(&other, NULL);
	a = open_inst(ti.conf, 0);
	/* Point ti's config at other's store, reopen, put it back. */
	char conf_copy[400], cmd[2000];
	snprintf(conf_copy, sizeof(conf_copy), "%s.orig", ti.conf);
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s' && sed -i 's|^;database = .*|database = %s/crtoken.db|' '%s'",
		 ti.conf, conf_copy, other.dir, ti.conf);
	assert_int_equal(system(cmd), 0);
	crt_status r = crt_instance_reopen(a, &b, err, sizeof(err));
	assert_int_equal(rename(conf_copy, ti.conf), 0);
	if (r != CRT_OK)
		fail_msg("reopen: %s: %s", crt_status_name(r), err);
	assert_ptr_not_equal(a->slot, b->slot);
	crt_ctx *sa = open_session(a, 0), *sb = open_session(b, 0);
	assert_ptr_not_equal(sa->conn->shared, sb->conn->shared);
	crt_close(sa);
	crt_close(sb);
	crt_instance_unref(a);
	crt_instance_unref(b);
	tu_instance_free(&other);
}

static void an_instance_opens_with_the_checks_and_detail_of_crt_open(void **s)
{
	crt_instance *inst = (crt_instance *)&inst;
	char err[640];
	crt_ctx *ctx;
	assert_int_equal(crt_instance_open("/nonexistent/crtoken.conf", 0, &inst, err, sizeof(err)),
	                 CRT_E_CONFIG_NOT_FOUND);
	assert_null(inst);
	assert_int_equal(crt_open("/nonexistent/crtoken.conf", 0, &ctx), CRT_E_CONFIG_NOT_FOUND);
	assert_string_equal(err, crt_errdetail(ctx));
	crt_close(ctx);
	/* Flags belong to one or the other. */
	assert_int_equal(crt_instance_open(ti.conf, CRT_OPEN_READONLY, &inst, err, sizeof(err)),
	                 CRT_E_INVALID_ARGUMENT);
	assert_null(inst);
	inst = open_inst(ti.conf, CRT_OPEN_NO_CA);
	assert_int_equal(inst->ncas, 0); /* no CA, so no key */
	assert_string_equal(crt_instance_ca_pem(inst), "");
	assert_int_equal(crt_session_open(inst, CRT_OPEN_NO_CA, &ctx), CRT_E_INVALID_ARGUMENT);
	assert_non_null(strstr(crt_errdetail(ctx), "not session flags"));
	crt_close(ctx);
	assert_int_equal(refs(inst), 1);
	crt_instance_unref(inst);
}

/* The OTP sealing key is read when the instance opens, not at every use. */
static void the_otp_key_is_read_once_per_instance(void **s)
{
	test_instance t;
	char key[600], *uri = NULL, *secret = NULL;
	tu_instance(&t);
	crt_instance *inst = open_inst(t.conf, 0);
	crt_ctx *ctx = open_session(inst, 0);
	snprintf(key, sizeof(key), "%s/otp.key", t.dir);
	assert_int_equal(unlink(key), 0);
	assert_int_equal(crt_otp_enroll(ctx, "alice", NULL, 0, 0, NULL, "test", &uri, &secret),
	                 CRT_OK);
	crt_strfree_secret(uri);
	crt_strfree_secret(secret);
	crt_close(ctx);
	crt_instance_unref(inst);
	/* A new instance finds it gone. */
	inst = open_inst(t.conf, 0);
	ctx = open_session(inst, 0);
	uri = secret = NULL;
	assert_int_equal(crt_otp_enroll(ctx, "bob", NULL, 0, 0, NULL, "test", &uri, &secret),
	                 CRT_E_IO);
	assert_non_null(strstr(crt_errdetail(ctx), "cannot read OTP key file"));
	assert_null(secret);
	crt_close(ctx);
	crt_instance_unref(inst);
	tu_instance_free(&t);
}

/* crt_ca_import moves its own session onto a new instance with the new CA;
 * the other sessions of the old instance keep the CA they had. */
static void a_ca_import_moves_only_its_own_session_to_a_new_instance(void **s)
{
	test_instance t, other;
	char cert2[600], key2[600];
	crt_ca_info before, after, kept;
	tu_instance(&t);
	tu_instance_init(&other, "ec-p384");
	snprintf(cert2, sizeof(cert2), "%s/ca.pem", other.dir);
	snprintf(key2, sizeof(key2), "%s/ca.key", other.dir);
	crt_instance *inst = open_inst(t.conf, 0);
	crt_ctx *importer = open_session(inst, 0), *bystander = open_session(inst, 0);
	assert_int_equal(crt_ca_get(importer, &before), CRT_OK);
	assert_int_equal(crt_ca_import(importer, cert2, key2, NULL, "test"), CRT_OK);
	assert_ptr_not_equal(crt_session_instance(importer), inst);
	assert_ptr_equal(crt_session_instance(importer)->slot, inst->slot);
	assert_int_equal(crt_ca_get(importer, &after), CRT_OK);
	assert_int_equal(crt_ca_get(bystander, &kept), CRT_OK);
	assert_string_not_equal(after.fingerprint, before.fingerprint);
	assert_string_equal(kept.fingerprint, before.fingerprint);
	assert_string_equal(after.key_type, "ec-p384");
	assert_int_equal(refs(inst), 2); /* the opener and the bystander */
	crt_ca_info_clear(&before);
	crt_ca_info_clear(&after);
	crt_ca_info_clear(&kept);
	crt_close(importer);
	crt_close(bystander);
	crt_instance_unref(inst);
	tu_instance_free(&other);
	tu_instance_free(&t);
}

/*
 * Concurrency: threads take the current instance (a reference under the
 * swapper's mutex, as crtokend's pool does), open a session over it, write,
 * close, again and again, while the main thread swaps in reopened instances.
 * Every write lands, and every instance but the current one is gone at the
 * end (ASan: no leak, no use after free; refcounts exact).
 */
#define THREADS 8
#define ROUNDS 12
#define SWAPS 10

static pthread_mutex_t cur_mu = PTHREAD_MUTEX_INITIALIZER;
static crt_instance *cur;
static pthread_barrier_t go;

static crt_instance *take_current(void)
{
	pthread_mutex_lock(&cur_mu);
	crt_instance *i = crt_instance_ref(cur);
	pthread_mutex_unlock(&cur_mu);
	return i;
}

static void *opener(void *arg)
{
	int *ok = arg;
	pthread_barrier_wait(&go);
	for (int i = 0; i < ROUNDS; i++) {
		crt_instance *inst = take_current();
		crt_ctx *ctx = NULL;
		crt_token_spec spec = {.name = "concurrent"};
		char tok[CRT_TOKEN_STRLEN + 1];
		crt_token t;
		crt_status r = crt_session_open(inst, 0, &ctx);
		crt_instance_unref(inst); /* the session holds its own */
		if (r == CRT_OK &&
		    crt_token_create(ctx, &spec, "test", &t, tok) == CRT_OK) {
			(*ok)++;
			crt_token_clear(&t);
		}
		crt_close(ctx);
	}
	return NULL;
}

static void sessions_open_and_close_concurrently_while_instances_are_swapped(void **s)
{
	pthread_t th[THREADS];
	int ok[THREADS] = {0}, total = 0;
	char err[640], db[512];
	long long before;
	tu_db_path(&ti, db, sizeof(db));
	before = tu_sql_int(db, "SELECT count(*) FROM tokens WHERE name = 'concurrent'");
	cur = open_inst(ti.conf, 0);
	struct store_slot *slot = cur->slot;
	pthread_barrier_init(&go, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, opener, &ok[i]), 0);
	pthread_barrier_wait(&go);
	for (int i = 0; i < SWAPS; i++) {
		crt_instance *fresh = NULL, *old;
		assert_int_equal(crt_instance_reopen(cur, &fresh, err, sizeof(err)), CRT_OK);
		pthread_mutex_lock(&cur_mu);
		old = cur;
		cur = fresh;
		pthread_mutex_unlock(&cur_mu);
		crt_instance_unref(old);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		total += ok[i];
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(total, THREADS * ROUNDS);
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM tokens WHERE name = 'concurrent'"),
	                 before + THREADS * ROUNDS);
	assert_int_equal(refs(cur), 1);
	assert_ptr_equal(cur->slot, slot);
	assert_int_equal(slot->refs, 1); /* every older generation is gone */
	crt_instance_unref(cur);
	cur = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_session_holds_a_reference_and_the_last_one_frees_the_instance),
	    cmocka_unit_test(a_session_reads_config_and_ca_from_its_instance_not_a_copy),
	    cmocka_unit_test(crt_open_makes_an_instance_its_session_alone_holds),
	    cmocka_unit_test(sessions_outlive_a_swap_and_the_last_one_frees_the_old_instance),
	    cmocka_unit_test(a_reopened_instance_on_another_store_has_writer_state_of_its_own),
	    cmocka_unit_test(an_instance_opens_with_the_checks_and_detail_of_crt_open),
	    cmocka_unit_test(the_otp_key_is_read_once_per_instance),
	    cmocka_unit_test(a_ca_import_moves_only_its_own_session_to_a_new_instance),
	    cmocka_unit_test(sessions_open_and_close_concurrently_while_instances_are_swapped),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
