/*
 * test_fault_otp.c — every write path of OTP and API keys, failed at each
 * of its store calls in turn (the fault seam, store/port.h) with
 * store_busy, store_unavailable and, on commits, store_commit_unknown (a
 * commit that happened but whose answer was lost). Each time: the status
 * is the injected one; the store is exactly as before (failure) or exactly
 * the committed change (lost commit); the audit row is there iff the change
 * is; and the ctx still works. For verification, no injected failure is
 * ever an acceptance.
 *
 * The loops count the calls of a clean run (store_fault_calls), so calls a
 * path gains later are covered without editing this file. The assertions
 * read the store only through the library, so they hold on any backend.
 */
#include <limits.h>

#include "testutil.h"
#include "store/port.h"

#define T0 1800000015LL /* middle of a 30 s step */
#define STEP (T0 / 30)

static const crt_status busy_or_down[] = {CRT_E_STORE_BUSY, CRT_E_STORE_UNAVAILABLE};

/* ------------------------------------------------------------------ helpers */

static int audit_count(const char *action)
{
	crt_audit_row *rows = NULL;
	size_t n = 0;
	crt_status r = crt_audit_list(ti.ctx, 100000, action, &rows, &n);
	if (r != CRT_OK)
		fail_msg("audit list: %s: %s", crt_status_name(r), crt_errdetail(ti.ctx));
	crt_audit_list_free(rows, n);
	return (int)n;
}

/* The whole OTP table and the audit trail's length: what "nothing
 * half-written" compares. */
typedef struct otp_snap {
	crt_otp_info *rows;
	size_t n;
	int audits;
} otp_snap;

static void otp_snap_take(otp_snap *s)
{
	crt_status r = crt_otp_list(ti.ctx, &s->rows, &s->n);
	if (r != CRT_OK)
		fail_msg("otp list: %s: %s", crt_status_name(r), crt_errdetail(ti.ctx));
	s->audits = audit_count(NULL);
}

static void otp_snap_free(otp_snap *s)
{
	crt_otp_list_free(s->rows, s->n);
	memset(s, 0, sizeof(*s));
}

static void otp_row_equal(const crt_otp_info *a, const crt_otp_info *b)
{
	assert_string_equal(a->user, b->user);
	assert_string_equal(a->algorithm, b->algorithm);
	assert_int_equal(a->digits, b->digits);
	assert_int_equal(a->period, b->period);
	assert_int_equal(a->last_step, b->last_step);
	assert_int_equal(a->failures, b->failures);
	assert_int_equal(a->locked_until, b->locked_until);
	assert_int_equal(a->created_at, b->created_at);
	assert_int_equal(a->lockouts, b->lockouts);
}

/* The store holds exactly what before held. */
static void otp_snap_unchanged(const otp_snap *before)
{
	otp_snap now;
	otp_snap_take(&now);
	assert_int_equal(now.n, before->n);
	for (size_t i = 0; i < now.n; i++)
		otp_row_equal(&now.rows[i], &before->rows[i]);
	assert_int_equal(now.audits, before->audits);
	otp_snap_free(&now);
}

static void otp_get_ok(const char *user, crt_otp_info *o)
{
	crt_status r = crt_otp_get(ti.ctx, user, o);
	if (r != CRT_OK)
		fail_msg("otp get %s: %s: %s", user, crt_status_name(r), crt_errdetail(ti.ctx));
}

/* The failure detail names the injected fault (a clear status, not a
 * generic one). */
static void injected(crt_status want, crt_status got)
{
	if (got != want)
		fail_msg("want %s, got %s: %s", crt_status_name(want), crt_status_name(got),
			 crt_errdetail(ti.ctx));
	assert_non_null(strstr(crt_errdetail(ti.ctx), "injected"));
}

static size_t b32_decode(const char *s, unsigned char *out, size_t max)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (; *s; s++) {
		const char *p = strchr(alpha, *s);
		if (p == NULL)
			return 0;
		acc = (acc << 5) | (uint32_t)(p - alpha);
		bits += 5;
		if (bits >= 8) {
			if (n == max)
				return 0;
			out[n++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return n;
}

/* One enrolled user per iteration, with its secret to compute codes. */
typedef struct user {
	char name[32];
	unsigned char secret[64];
	size_t secret_len;
	char key_id[CRT_ID_LEN]; /* API key paths: the key made by prep */
} user;

static void user_name(user *u, const char *path, int i)
{
	snprintf(u->name, sizeof(u->name), "%s-%d", path, i);
}

static void enroll(user *u)
{
	char *uri = NULL, *b32 = NULL;
	crt_status r = crt_otp_enroll(ti.ctx, u->name, "SHA1", 6, 30, NULL, "test", &uri, &b32);
	if (r != CRT_OK)
		fail_msg("enroll %s: %s: %s", u->name, crt_status_name(r), crt_errdetail(ti.ctx));
	u->secret_len = b32_decode(b32, u->secret, sizeof(u->secret));
	assert_true(u->secret_len > 0);
	crt_strfree_secret(uri);
	crt_strfree_secret(b32);
}

static const char *code_of(const user *u, int64_t step)
{
	static char out[16];
	assert_int_equal(crt_hotp(u->secret, u->secret_len, (uint64_t)step, "SHA1", 6, out,
				  sizeof(out)),
			 CRT_OK);
	return out;
}

/* A code that matches none of the steps around STEP. */
static const char *wrong_code(const user *u)
{
	static char w[16];
	for (int c = 0;; c++) {
		int hit = 0;
		snprintf(w, sizeof(w), "%06d", c);
		for (int k = -2; k <= 2; k++)
			hit |= strcmp(w, code_of(u, STEP + k)) == 0;
		if (!hit)
			return w;
	}
}

/* ------------------------------------------------------------------ the driver */

/*
 * A write path: prep sets up iteration i (unarmed), run performs the path
 * once and returns its status, check asserts the committed change (the
 * status of the run is passed: CRT_OK on a clean run, store_commit_unknown
 * on a lost commit).
 */
typedef struct path {
	const char *name;
	void (*prep)(user *u);
	crt_status (*run)(user *u);
	crt_status clean;       /* the status of a clean run */
	int commits;            /* commits a clean run makes */
	void (*check)(user *u, crt_status r);
	/* after a failed run: what the OTP snapshot does not cover is as
	 * prep left it (NULL: nothing else) */
	void (*unchanged)(user *u);
} path;

static int calls_of(const path *p, int *iter)
{
	user u;
	int calls;
	user_name(&u, p->name, (*iter)++);
	p->prep(&u);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY); /* count, never fail */
	crt_status r = p->run(&u);
	calls = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	if (r != p->clean)
		fail_msg("%s clean run: %s: %s", p->name, crt_status_name(r), crt_errdetail(ti.ctx));
	p->check(&u, r);
	assert_true(calls >= 1);
	return calls;
}

static void each_fault(const path *p)
{
	int iter = 0, calls = calls_of(p, &iter);

	for (size_t k = 0; k < sizeof(busy_or_down) / sizeof(busy_or_down[0]); k++)
		for (int n = 1; n <= calls; n++) {
			user u;
			otp_snap before;
			user_name(&u, p->name, iter++);
			p->prep(&u);
			otp_snap_take(&before);
			store_fault_arm(ti.ctx, n, busy_or_down[k]);
			crt_status r = p->run(&u);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			injected(busy_or_down[k], r);
			otp_snap_unchanged(&before);
			otp_snap_free(&before);
			if (p->unchanged != NULL)
				p->unchanged(&u);
		}
	/* lost commits: the nth commit from now really commits */
	int lost = 0;
	for (int n = 1;; n++) {
		user u;
		otp_snap before;
		user_name(&u, p->name, iter++);
		p->prep(&u);
		otp_snap_take(&before);
		store_fault_arm(ti.ctx, n, CRT_E_STORE_COMMIT_UNKNOWN);
		crt_status r = p->run(&u);
		store_fault_arm(ti.ctx, 0, CRT_OK);
		if (r != CRT_E_STORE_COMMIT_UNKNOWN) { /* no nth commit: a clean run */
			assert_int_equal(r, p->clean);
			otp_snap_free(&before);
			break;
		}
		injected(CRT_E_STORE_COMMIT_UNKNOWN, r);
		assert_int_equal(audit_count(NULL), before.audits + 1);
		p->check(&u, r);
		otp_snap_free(&before);
		lost++;
	}
	assert_int_equal(lost, p->commits);
	/* the ctx still works after all that */
	user u;
	user_name(&u, p->name, iter++);
	p->prep(&u);
	assert_int_equal(p->run(&u), p->clean);
}

/* ------------------------------------------------------------------ OTP paths */

static void prep_nothing(user *u)
{
	(void)u;
}

static void prep_enrolled(user *u)
{
	enroll(u);
}

static void prep_locked(user *u)
{
	enroll(u);
	for (int i = 0; i < ti.ctx->cfg.otp_max_failures; i++)
		assert_int_equal(crt_otp_verify(ti.ctx, u->name, wrong_code(u), T0, "test", NULL,
						NULL),
				 CRT_E_OTP_BAD_CODE);
}

static crt_status run_enroll(user *u)
{
	char *uri = (char *)"unset", *b32 = (char *)"unset";
	crt_status r = crt_otp_enroll(ti.ctx, u->name, "SHA1", 6, 30, NULL, "test", &uri, &b32);
	if (r != CRT_OK) {
		/* nothing handed out that the store does not hold */
		assert_null(uri);
		assert_null(b32);
		return r;
	}
	u->secret_len = b32_decode(b32, u->secret, sizeof(u->secret));
	crt_strfree_secret(uri);
	crt_strfree_secret(b32);
	return r;
}

static void check_enrolled(user *u, crt_status r)
{
	crt_otp_info o;
	otp_get_ok(u->name, &o);
	assert_int_equal(o.last_step, -1);
	crt_otp_info_clear(&o);
}

static crt_status run_remove(user *u)
{
	return crt_otp_remove(ti.ctx, u->name, "test");
}

static void check_removed(user *u, crt_status r)
{
	crt_otp_info o;
	assert_int_equal(crt_otp_get(ti.ctx, u->name, &o), CRT_E_OTP_NOT_ENROLLED);
}

static crt_status run_unlock(user *u)
{
	return crt_otp_unlock(ti.ctx, u->name, "test");
}

static void check_unlocked(user *u, crt_status r)
{
	crt_otp_info o;
	otp_get_ok(u->name, &o);
	assert_int_equal(o.failures, 0);
	assert_int_equal(o.locked_until, 0);
	assert_int_equal(o.lockouts, 0);
	crt_otp_info_clear(&o);
	assert_int_equal(crt_otp_verify(ti.ctx, u->name, code_of(u, STEP), T0, "test", NULL, NULL),
			 CRT_OK);
}

static crt_status run_verify_right(user *u)
{
	int off = 99;
	crt_status r = crt_otp_verify(ti.ctx, u->name, code_of(u, STEP), T0, "test", NULL, &off);
	if (r != CRT_OK)
		assert_int_equal(off, 0); /* no acceptance leaks out of a failure */
	return r;
}

static void check_accepted(user *u, crt_status r)
{
	crt_otp_info o;
	otp_get_ok(u->name, &o);
	assert_int_equal(o.last_step, STEP);
	crt_otp_info_clear(&o);
	/* committed means committed: the same code again is a replay */
	assert_int_equal(crt_otp_verify(ti.ctx, u->name, code_of(u, STEP), T0 + 1, "test", NULL,
					NULL),
			 CRT_E_OTP_REPLAY);
}

static crt_status run_verify_wrong(user *u)
{
	return crt_otp_verify(ti.ctx, u->name, wrong_code(u), T0, "test", NULL, NULL);
}

static void check_one_failure(user *u, crt_status r)
{
	crt_otp_info o;
	otp_get_ok(u->name, &o);
	assert_int_equal(o.failures, 1);
	assert_int_equal(o.last_step, -1);
	crt_otp_info_clear(&o);
}

static crt_status run_verify_while_locked(user *u)
{
	return crt_otp_verify(ti.ctx, u->name, code_of(u, STEP), T0 + 1, "test", NULL, NULL);
}

static void check_still_locked(user *u, crt_status r)
{
	crt_otp_info o;
	otp_get_ok(u->name, &o);
	assert_true(o.locked_until > T0 + 1);
	assert_int_equal(o.last_step, -1);
	crt_otp_info_clear(&o);
}

static crt_status run_verify_not_enrolled(user *u)
{
	return crt_otp_verify(ti.ctx, u->name, "123456", T0, "test", NULL, NULL);
}

static void check_not_enrolled_audited(user *u, crt_status r)
{
	crt_otp_info o;
	assert_int_equal(crt_otp_get(ti.ctx, u->name, &o), CRT_E_OTP_NOT_ENROLLED);
}

static void test_otp_enroll_under_every_store_fault(void **state)
{
	const path p = {"enroll", prep_nothing, run_enroll, CRT_OK, 1, check_enrolled, NULL};
	int before = audit_count("otp.enroll");
	each_fault(&p);
	assert_true(audit_count("otp.enroll") > before);
}

static void test_otp_remove_under_every_store_fault(void **state)
{
	const path p = {"remove", prep_enrolled, run_remove, CRT_OK, 1, check_removed, NULL};
	each_fault(&p);
}

static void test_otp_unlock_under_every_store_fault(void **state)
{
	const path p = {"unlock", prep_locked, run_unlock, CRT_OK, 1, check_unlocked, NULL};
	each_fault(&p);
}

static void test_otp_verify_success_under_every_store_fault_is_never_an_acceptance(void **state)
{
	const path p = {"verify-ok", prep_enrolled, run_verify_right, CRT_OK, 1, check_accepted, NULL};
	each_fault(&p);
}

static void test_otp_verify_failure_under_every_store_fault(void **state)
{
	const path p = {"verify-bad", prep_enrolled, run_verify_wrong, CRT_E_OTP_BAD_CODE, 1,
			check_one_failure, NULL};
	each_fault(&p);
}

static void test_otp_verify_while_locked_under_every_store_fault(void **state)
{
	const path p = {"verify-locked", prep_locked, run_verify_while_locked, CRT_E_OTP_LOCKED, 1,
			check_still_locked, NULL};
	each_fault(&p);
}

static void test_otp_verify_of_an_unknown_user_under_every_store_fault(void **state)
{
	const path p = {"verify-nobody", prep_nothing, run_verify_not_enrolled,
			CRT_E_OTP_NOT_ENROLLED, 1, check_not_enrolled_audited, NULL};
	each_fault(&p);
}

/* ------------------------------------------------------------------ API key paths */

/* The API key of an iteration: its name is u->name, its key kept here. */
static char key_of[64][CRT_TOKEN_STRLEN + 1];
static int key_slot;

static crt_apikey *find_key(crt_apikey *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

/* The key named name as the store holds it (found 0 if none). */
static crt_apikey key_row(const char *name, int *found)
{
	crt_apikey *list = NULL, k = {0};
	size_t n = 0;
	assert_int_equal(crt_apikey_list(ti.ctx, &list, &n), CRT_OK);
	crt_apikey *p = find_key(list, n, name);
	*found = p != NULL;
	if (p != NULL) {
		k = *p;
		k.name = NULL;
	}
	crt_apikey_list_free(list, n);
	return k;
}

static void prep_key(user *u)
{
	crt_apikey k;
	key_slot = (key_slot + 1) % 64;
	assert_int_equal(crt_apikey_create(ti.ctx, u->name, "test", &k, key_of[key_slot]), CRT_OK);
	snprintf(u->key_id, sizeof(u->key_id), "%s", k.id);
	crt_apikey_clear(&k);
}

static crt_status run_key_create(user *u)
{
	char key[CRT_TOKEN_STRLEN + 1];
	crt_apikey k;
	memset(key, 'x', sizeof(key));
	crt_status r = crt_apikey_create(ti.ctx, u->name, "test", &k, key);
	if (r != CRT_OK) {
		/* a key that was not surely stored is not handed out */
		for (size_t i = 0; i < sizeof(key); i++)
			assert_int_equal(key[i], 0);
		return r;
	}
	crt_apikey_clear(&k);
	return r;
}

static void check_key_created(user *u, crt_status r)
{
	int found;
	crt_apikey k = key_row(u->name, &found);
	assert_true(found);
	assert_int_equal(k.revoked_at, 0);
}

static crt_status run_key_revoke(user *u)
{
	return crt_apikey_revoke(ti.ctx, u->key_id, "test");
}

static void check_key_revoked(user *u, crt_status r)
{
	int found;
	crt_apikey k = key_row(u->name, &found);
	assert_true(found);
	assert_true(k.revoked_at != 0);
	assert_int_equal(crt_apikey_verify(ti.ctx, key_of[key_slot], NULL), CRT_E_APIKEY_INVALID);
}

/* The snapshot of the driver covers OTP rows and the audit trail; the API
 * key paths add their own table to it through these checks. */
static void key_unchanged_since_prep(user *u)
{
	int found;
	crt_apikey k = key_row(u->name, &found);
	assert_true(found);
	assert_int_equal(k.revoked_at, 0);
	assert_int_equal(k.last_used_at, 0);
}

static void key_absent(user *u)
{
	int found;
	key_row(u->name, &found);
	assert_false(found);
}

static void test_apikey_create_under_every_store_fault(void **state)
{
	const path p = {"key-create", prep_nothing, run_key_create, CRT_OK, 1, check_key_created,
			key_absent};
	each_fault(&p);
}

static void test_apikey_revoke_under_every_store_fault(void **state)
{
	const path p = {"key-revoke", prep_key, run_key_revoke, CRT_OK, 1, check_key_revoked,
			key_unchanged_since_prep};
	each_fault(&p);
}

/* Verification writes only last_used_at, best effort: a failed lookup is
 * the store's status (never an acceptance); a failed refresh still admits
 * the valid key and leaves the stored time alone. */
static void test_apikey_verify_under_every_store_fault(void **state)
{
	user u;
	int iter = 0, calls;
	crt_apikey out;

	user_name(&u, "key-verify", iter++);
	prep_key(&u);
	store_fault_arm(ti.ctx, INT_MAX, CRT_E_STORE_BUSY);
	assert_int_equal(crt_apikey_verify(ti.ctx, key_of[key_slot], &out), CRT_OK);
	calls = store_fault_calls(ti.ctx);
	store_fault_arm(ti.ctx, 0, CRT_OK);
	assert_true(out.last_used_at != 0);
	crt_apikey_clear(&out);
	assert_int_equal(calls, 2); /* the lookup and the refresh */

	for (size_t k = 0; k < sizeof(busy_or_down) / sizeof(busy_or_down[0]); k++)
		for (int n = 1; n <= calls; n++) {
			int audits, found;
			user_name(&u, "key-verify", iter++);
			prep_key(&u);
			audits = audit_count(NULL);
			store_fault_arm(ti.ctx, n, busy_or_down[k]);
			crt_status r = crt_apikey_verify(ti.ctx, key_of[key_slot], &out);
			store_fault_arm(ti.ctx, 0, CRT_OK);
			if (n == 1) {
				injected(busy_or_down[k], r);
			} else {
				assert_int_equal(r, CRT_OK);
				assert_int_equal(out.last_used_at, 0); /* what the store holds */
				crt_apikey_clear(&out);
			}
			crt_apikey row = key_row(u.name, &found);
			assert_true(found);
			assert_int_equal(row.last_used_at, 0);
			assert_int_equal(audit_count(NULL), audits);
		}
	/* no commit to lose */
	user_name(&u, "key-verify", iter++);
	prep_key(&u);
	store_fault_arm(ti.ctx, 1, CRT_E_STORE_COMMIT_UNKNOWN);
	assert_int_equal(crt_apikey_verify(ti.ctx, key_of[key_slot], NULL), CRT_OK);
	store_fault_arm(ti.ctx, 0, CRT_OK);
}

/* ------------------------------------------------------------------ the verbs' own guards */

/* The refresh is one conditional write: a row touched at 1000 is not
 * touched again by a writer whose due time is before 1000 (another node
 * refreshed it meanwhile), and is at due = 1000. */
static void test_apikey_touch_skips_a_row_refreshed_since_it_was_due(void **state)
{
	user u;
	int touched = -1, found;
	user_name(&u, "touch", 0);
	prep_key(&u);
	const char *id = u.key_id;
	assert_int_equal(store_apikey_touch(ti.ctx, id, 1000, 700, &touched), CRT_OK);
	assert_int_equal(touched, 1);
	assert_int_equal(store_apikey_touch(ti.ctx, id, 1100, 999, &touched), CRT_OK);
	assert_int_equal(touched, 0);
	assert_int_equal(key_row(u.name, &found).last_used_at, 1000);
	assert_int_equal(store_apikey_touch(ti.ctx, id, 1300, 1000, &touched), CRT_OK);
	assert_int_equal(touched, 1);
	assert_int_equal(key_row(u.name, &found).last_used_at, 1300);
	assert_int_equal(store_apikey_touch(ti.ctx, "apikey_nosuch", 1300, 1000, &touched), CRT_OK);
	assert_int_equal(touched, 0);
}

static void test_apikey_revoke_twice_audits_once(void **state)
{
	user u;
	user_name(&u, "revoke-twice", 0);
	prep_key(&u);
	int before = audit_count("apikey.revoke");
	assert_int_equal(crt_apikey_revoke(ti.ctx, u.key_id, "test"), CRT_OK);
	assert_int_equal(crt_apikey_revoke(ti.ctx, u.key_id, "test"), CRT_OK);
	assert_int_equal(audit_count("apikey.revoke"), before + 1);
	assert_int_equal(crt_apikey_revoke(ti.ctx, "apikey_nosuch", "test"), CRT_E_APIKEY_NOT_FOUND);
	assert_int_equal(audit_count("apikey.revoke"), before + 1);
}

/* Loading a row "for update" outside a write transaction would lock
 * nothing: the verb refuses. */
static void test_otp_load_lock_outside_a_write_transaction_is_refused(void **state)
{
	user u;
	store_otp_locked row;
	user_name(&u, "load-lock", 0);
	enroll(&u);
	assert_int_equal(store_otp_load_lock(ti.ctx, u.name, &row), CRT_E_INTERNAL);
	assert_null(row.sealed);
	assert_int_equal(store_begin_write(ti.ctx), CRT_OK);
	assert_int_equal(store_otp_load_lock(ti.ctx, u.name, &row), CRT_OK);
	assert_non_null(row.sealed);
	assert_string_equal(row.info.user, u.name);
	store_otp_locked_clear(&row);
	store_rollback(ti.ctx);
}

static void test_otp_remove_and_unlock_of_a_missing_user_are_not_enrolled(void **state)
{
	int before = audit_count(NULL);
	assert_int_equal(crt_otp_remove(ti.ctx, "nobody-here", "test"), CRT_E_OTP_NOT_ENROLLED);
	assert_int_equal(crt_otp_unlock(ti.ctx, "nobody-here", "test"), CRT_E_OTP_NOT_ENROLLED);
	assert_int_equal(audit_count(NULL), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_otp_enroll_under_every_store_fault),
	    cmocka_unit_test(test_otp_remove_under_every_store_fault),
	    cmocka_unit_test(test_otp_unlock_under_every_store_fault),
	    cmocka_unit_test(test_otp_verify_success_under_every_store_fault_is_never_an_acceptance),
	    cmocka_unit_test(test_otp_verify_failure_under_every_store_fault),
	    cmocka_unit_test(test_otp_verify_while_locked_under_every_store_fault),
	    cmocka_unit_test(test_otp_verify_of_an_unknown_user_under_every_store_fault),
	    cmocka_unit_test(test_apikey_create_under_every_store_fault),
	    cmocka_unit_test(test_apikey_revoke_under_every_store_fault),
	    cmocka_unit_test(test_apikey_verify_under_every_store_fault),
	    cmocka_unit_test(test_apikey_touch_skips_a_row_refreshed_since_it_was_due),
	    cmocka_unit_test(test_apikey_revoke_twice_audits_once),
	    cmocka_unit_test(test_otp_load_lock_outside_a_write_transaction_is_refused),
	    cmocka_unit_test(test_otp_remove_and_unlock_of_a_missing_user_are_not_enrolled),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
