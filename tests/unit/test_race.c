/*
 * test_race.c — single use under contention: many threads (each with its own
 * connection) and many processes redeem the same token; exactly one wins and
 * every other attempt is refused as token_used.
 */
#include "testutil.h"
#include <pthread.h>
#include <sys/wait.h>

#define THREADS 32
#define PROCS 8

static char token[CRT_TOKEN_STRLEN + 1];
static pthread_barrier_t barrier;

static void *racer(void *arg)
{
	crt_ctx *ctx;
	crt_cert c;
	crt_status r = crt_open(ti.conf, 0, &ctx);
	if (r == CRT_OK) {
		pthread_barrier_wait(&barrier);
		r = tu_redeem(ctx, token, &c);
		crt_cert_clear(&c);
	} else {
		pthread_barrier_wait(&barrier);
	}
	crt_close(ctx);
	*(crt_status *)arg = r;
	return NULL;
}

static void thirty_two_threads_one_token_one_certificate(void **s)
{
	pthread_t th[THREADS];
	crt_status res[THREADS];
	crt_token t;
	crt_token_spec spec = {.name = "threads"};
	char db[512], sql[200];
	tu_token(ti.ctx, &spec, token, &t);
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, &res[i]), 0);
	int ok = 0, used = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		ok += res[i] == CRT_OK;
		used += res[i] == CRT_E_TOKEN_USED;
	}
	pthread_barrier_destroy(&barrier);
	assert_int_equal(ok, 1);
	assert_int_equal(used, THREADS - 1);
	tu_db_path(&ti, db, sizeof(db));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM certificates WHERE token_id = '%s'", t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	crt_token_clear(&t);
}

static void eight_processes_one_token_one_certificate(void **s)
{
	pid_t pids[PROCS];
	crt_token t;
	crt_token_spec spec = {.name = "processes"};
	char db[512], sql[200];
	int pipefd[2];
	tu_token(ti.ctx, &spec, token, &t);
	assert_int_equal(pipe(pipefd), 0);
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char go;
			crt_ctx *ctx;
			crt_cert c;
			close(pipefd[1]);
			crt_status r = crt_open(ti.conf, 0, &ctx);
			if (read(pipefd[0], &go, 1) < 0) /* wait for the start signal (EOF) */
				_exit(100);
			if (r == CRT_OK)
				r = tu_redeem(ctx, token, &c);
			_exit(r == CRT_OK ? 0 : r == CRT_E_TOKEN_USED ? 1 : 2);
		}
	}
	close(pipefd[0]);
	close(pipefd[1]); /* all children start together */
	int ok = 0, used = 0;
	for (int i = 0; i < PROCS; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		assert_true(WIFEXITED(st));
		ok += WEXITSTATUS(st) == 0;
		used += WEXITSTATUS(st) == 1;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(used, PROCS - 1);
	tu_db_path(&ti, db, sizeof(db));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM certificates WHERE token_id = '%s'", t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	crt_token_clear(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(thirty_two_threads_one_token_one_certificate),
		cmocka_unit_test(eight_processes_one_token_one_certificate),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
