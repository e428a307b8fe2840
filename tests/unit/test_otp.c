/*
 * test_otp.c — specification of libcrtoken's one-time passwords: RFC 4226
 * and RFC 6238 vectors, enrollment, sealing at rest, verification window,
 * replay refusal, lockout and the admin changes.
 *
 * Each stateful test gets a fresh instance (crt_init in a temp dir) and
 * drives time through crt_otp_verify's `now`.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "crtoken.h"
#include "internal.h" /* unseal_blob: the kept PKCS#12 vector */

#define T0 1800000015LL /* middle of time step 60000000 (30 s) */

/* ------------------------------------------------------------------ vectors */

static const unsigned char rfc_key20[] = "12345678901234567890";
static const unsigned char rfc_key32[] = "12345678901234567890123456789012";
static const unsigned char rfc_key64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

static void test_hotp_matches_rfc4226_appendix_d(void **state)
{
	static const char *want[] = {"755224", "287082", "359152", "969429", "338314",
	                             "254676", "287922", "162583", "399871", "520489"};
	char out[16];
	for (uint64_t c = 0; c < 10; c++) {
		assert_int_equal(crt_hotp(rfc_key20, 20, c, "SHA1", 6, out, sizeof(out)), CRT_OK);
		assert_string_equal(out, want[c]);
	}
}

static void test_totp_matches_rfc6238_appendix_b_for_all_algorithms(void **state)
{
	static const struct {
		int64_t t;
		const char *sha1, *sha256, *sha512;
	} v[] = {
	    {59, "94287082", "46119246", "90693936"},
	    {1111111109, "07081804", "68084774", "25091201"},
	    {1111111111, "14050471", "67062674", "99943326"},
	    {1234567890, "89005924", "91819424", "93441116"},
	    {2000000000, "69279037", "90698825", "38618901"},
	    {20000000000LL, "65353130", "77737706", "47863826"},
	};
	char out[16];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t step = (uint64_t)(v[i].t / 30);
		assert_int_equal(crt_hotp(rfc_key20, 20, step, "SHA1", 8, out, sizeof(out)),
		                 CRT_OK);
		assert_string_equal(out, v[i].sha1);
		assert_int_equal(crt_hotp(rfc_key32, 32, step, "SHA256", 8, out, sizeof(out)),
		                 CRT_OK);
		assert_string_equal(out, v[i].sha256);
		assert_int_equal(crt_hotp(rfc_key64, 64, step, "SHA512", 8, out, sizeof(out)),
		                 CRT_OK);
		assert_string_equal(out, v[i].sha512);
	}
}

static void test_hotp_refuses_bad_parameters(void **state)
{
	char out[16];
	assert_int_equal(crt_hotp(rfc_key20, 20, 1, "MD5", 6, out, sizeof(out)),
	                 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_hotp(rfc_key20, 20, 1, "SHA1", 5, out, sizeof(out)),
	                 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_hotp(rfc_key20, 20, 1, "SHA1", 9, out, sizeof(out)),
	                 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_hotp(rfc_key20, 20, 1, "SHA1", 8, out, 8), CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_hotp(rfc_key20, 0, 1, "SHA1", 6, out, sizeof(out)),
	                 CRT_E_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------ fixture */

typedef struct fx {
	char dir[256];
	char conf[300];
	crt_ctx *ctx;
	unsigned char secret[64]; /* alice's, decoded from the enrollment */
	size_t secret_len;
	char alg[8];
	int digits, period;
} fx;

/* RFC 4648 base32 decode (upper case, no padding) for checking enrollments. */
static size_t b32_decode(const char *s, unsigned char *out, size_t max)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (; *s; s++) {
		const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
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

static void rm_rf(const char *dir)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void fx_open(fx *f)
{
	assert_int_equal(crt_open(f->conf, CRT_OPEN_NO_CA, &f->ctx), CRT_OK);
}

/* Close and open again (a new instance: the files are read anew). */
static void fx_reopen(fx *f)
{
	crt_close(f->ctx);
	fx_open(f);
}

/* Enroll user with the given parameters, remembering the secret in f. */
static void fx_enroll(fx *f, const char *user, const char *alg, int digits)
{
	char *uri = NULL, *b32 = NULL;
	crt_status s = crt_otp_enroll(f->ctx, user, alg, digits, 0, NULL, "test", &uri, &b32);
	if (s != CRT_OK)
		fail_msg("enroll %s: %s: %s", user, crt_status_name(s), crt_errdetail(f->ctx));
	f->secret_len = b32_decode(b32, f->secret, sizeof(f->secret));
	assert_true(f->secret_len > 0);
	snprintf(f->alg, sizeof(f->alg), "%s", alg ? alg : "SHA1");
	f->digits = digits ? digits : 6;
	f->period = 30;
	crt_strfree_secret(uri);
	crt_strfree_secret(b32);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	char err[256] = "";
	crt_init_opts o;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/crtoken-otp.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	rm_rf(f->dir); /* crt_init creates it */
	memset(&o, 0, sizeof(o));
	o.dir = f->dir;
	if (crt_init(&o, err, sizeof(err)) != CRT_OK)
		fail_msg("crt_init: %s", err);
	snprintf(f->conf, sizeof(f->conf), "%s/crtoken.conf", f->dir);
	fx_open(f);
	fx_enroll(f, "alice", NULL, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	crt_close(f->ctx);
	rm_rf(f->dir);
	memset(f, 0, sizeof(*f));
	free(f);
	return 0;
}

/* alice's code for time t (+ steps). */
static const char *code_at(fx *f, int64_t t, int steps)
{
	static char out[16];
	assert_int_equal(crt_hotp(f->secret, f->secret_len, (uint64_t)(t / f->period + steps),
	                          f->alg, f->digits, out, sizeof(out)),
	                 CRT_OK);
	return out;
}

static crt_status verify(fx *f, const char *user, const char *code, int64_t now)
{
	return crt_otp_verify(f->ctx, user, code, now, "test", "192.0.2.1", NULL);
}

/* A code that is certainly wrong for alice at t (differs from all window codes). */
static const char *wrong_code(fx *f, int64_t t)
{
	static char w[16];
	for (int c = 0; c < 1000000; c++) {
		snprintf(w, sizeof(w), "%06d", c);
		int hit = 0;
		for (int k = -2; k <= 2; k++)
			hit |= strcmp(w, code_at(f, t, k)) == 0;
		if (!hit)
			return w;
	}
	fail();
	return NULL;
}

static int audit_count(fx *f, const char *action)
{
	crt_audit_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(crt_audit_list(f->ctx, 1000, action, &rows, &n), CRT_OK);
	crt_audit_list_free(rows, n);
	return (int)n;
}

/* ------------------------------------------------------------------ enrollment */

static void test_enroll_uri_carries_issuer_user_and_parameters(void **state)
{
	fx *f = *state;
	char *uri = NULL, *b32 = NULL;
	char want[256];

	assert_int_equal(crt_otp_enroll(f->ctx, "bob@example.org", "SHA256", 8, 60, "Acme Corp",
	                                "test", &uri, &b32),
	                 CRT_OK);
	snprintf(want, sizeof(want),
	         "otpauth://totp/Acme%%20Corp:bob%%40example.org?secret=%s&issuer=Acme%%20Corp"
	         "&algorithm=SHA256&digits=8&period=60",
	         b32);
	assert_string_equal(uri, want);
	unsigned char sec[64];
	assert_int_equal(b32_decode(b32, sec, sizeof(sec)), 32);
	crt_strfree_secret(uri);
	crt_strfree_secret(b32);
}

static void test_enroll_defaults_come_from_config(void **state)
{
	fx *f = *state;
	crt_otp_info o;
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_string_equal(o.user, "alice");
	assert_string_equal(o.algorithm, "SHA1");
	assert_int_equal(o.digits, 6);
	assert_int_equal(o.period, 30);
	assert_int_equal(o.last_step, -1);
	assert_int_equal(o.failures, 0);
	assert_int_equal(o.locked_until, 0);
	assert_int_equal(f->secret_len, 20);
	crt_otp_info_clear(&o);
}

static void test_enroll_twice_is_refused(void **state)
{
	fx *f = *state;
	char *uri = NULL, *b32 = NULL;
	assert_int_equal(crt_otp_enroll(f->ctx, "alice", NULL, 0, 0, NULL, "test", &uri, &b32),
	                 CRT_E_EXISTS);
	assert_null(uri);
	assert_null(b32);
}

static void test_enroll_refuses_bad_parameters(void **state)
{
	fx *f = *state;
	char *uri = NULL, *b32 = NULL;
	assert_int_equal(crt_otp_enroll(f->ctx, "u1", "MD5", 0, 0, NULL, "t", &uri, &b32),
	                 CRT_E_OTP_PARAMS);
	assert_int_equal(crt_otp_enroll(f->ctx, "u1", NULL, 7, 0, NULL, "t", &uri, &b32),
	                 CRT_E_OTP_PARAMS);
	assert_int_equal(crt_otp_enroll(f->ctx, "u1", NULL, 0, 5, NULL, "t", &uri, &b32),
	                 CRT_E_OTP_PARAMS);
	assert_int_equal(crt_otp_enroll(f->ctx, "a:b", NULL, 0, 0, NULL, "t", &uri, &b32),
	                 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_otp_enroll(f->ctx, "", NULL, 0, 0, NULL, "t", &uri, &b32),
	                 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_otp_enroll(f->ctx, "u\n1", NULL, 0, 0, NULL, "t", &uri, &b32),
	                 CRT_E_INVALID_ARGUMENT);
	crt_otp_info o;
	assert_int_equal(crt_otp_get(f->ctx, "u1", &o), CRT_E_OTP_NOT_ENROLLED);
}

static void test_enroll_is_audited(void **state)
{
	fx *f = *state;
	assert_int_equal(audit_count(f, "otp.enroll"), 1);
}

/* ------------------------------------------------------------------ sealing */

/* Run sql on the instance's database directly (the attacker's view). */
static void db_exec(fx *f, const char *sql)
{
	char path[300];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/crtoken.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

static void test_secret_is_not_stored_in_clear(void **state)
{
	fx *f = *state;
	char path[300];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof(path), "%s/crtoken.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT secret FROM otp WHERE username='alice'", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *blob = sqlite3_column_blob(st, 0);
	int n = sqlite3_column_bytes(st, 0);
	assert_int_equal(n, 1 + 12 + 20 + 16);
	assert_null(memmem(blob, (size_t)n, f->secret, f->secret_len));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_sealed_secret_moved_to_another_user_does_not_open(void **state)
{
	fx *f = *state;
	char *uri = NULL, *b32 = NULL;
	assert_int_equal(crt_otp_enroll(f->ctx, "mallory", NULL, 0, 0, NULL, "t", &uri, &b32),
	                 CRT_OK);
	crt_strfree_secret(uri);
	crt_strfree_secret(b32);
	db_exec(f, "UPDATE otp SET secret = (SELECT secret FROM otp WHERE username='alice') "
	           "WHERE username='mallory'");
	/* any well-formed code makes it open the secret */
	assert_int_equal(verify(f, "mallory", "123456", T0), CRT_E_SEAL);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
}

static void test_otp_key_readable_by_others_is_refused(void **state)
{
	fx *f = *state;
	char key[300];
	snprintf(key, sizeof(key), "%s/otp.key", f->dir);
	/* The key is read once, when the instance opens: reopen after each change. */
	assert_int_equal(chmod(key, 0604), 0);
	fx_reopen(f);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_E_UNSAFE_PERMISSIONS);
	assert_int_equal(chmod(key, 0600), 0);
	fx_reopen(f);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
}

static void test_wrong_sealing_key_fails_closed(void **state)
{
	fx *f = *state;
	char key[300];
	snprintf(key, sizeof(key), "%s/otp.key", f->dir);
	FILE *k = fopen(key, "w");
	assert_non_null(k);
	fputs("0123456789abcdef0123456789abcdef", k);
	fclose(k);
	/* Read once per instance: the open session still holds the right key. */
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
	fx_reopen(f);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 1), T0 + 30), CRT_E_SEAL);
}

/* Blobs sealed by the code before otp.c and seal.c became one
 * implementation (the same key, AAD and layout): what is stored keeps
 * opening. Made with [otp] key_file = VECTOR_KEY: alice's enrollment (her
 * secret VECTOR_B32, SHA1, 6 digits) and seal_blob of VECTOR_P12 bound to
 * "0A1B2C:alice". */
#define VECTOR_KEY "crtoken-otp-vector-key-32-bytes!"
#define VECTOR_B32 "JZ2WVIFORATQGEVRBLDP4NIEQHMQA5AQ"
#define VECTOR_OTP_SEALED                                                                          \
	"01F3E068BA3AC449F6C7930EDFFA7221CAEAFF8C88C3918389D593956D421A1B554C0D4CE9F9EEBA2A9C6F" \
	"B670C98136D5"
#define VECTOR_P12 "a kept PKCS#12, sealed"
#define VECTOR_P12_SEALED                                                                          \
	"01A74B45F85AF59820F8EBE848448F4FDF09BAEFA3DFB67B70A97854A78AD6F95CB9FDD05C551FBB01E490" \
	"6972F3ED168B8C0F"

static void use_vector_key(fx *f)
{
	char key[300];
	snprintf(key, sizeof(key), "%s/otp.key", f->dir);
	FILE *k = fopen(key, "w"); /* keeps its 0600 */
	assert_non_null(k);
	fputs(VECTOR_KEY, k);
	fclose(k);
	fx_reopen(f);
}

static size_t unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = 0;
	for (; h[0] && h[1] && n < max; h += 2)
		sscanf(h, "%2hhx", &out[n++]);
	return n;
}

static void test_otp_secret_sealed_by_the_earlier_code_still_opens(void **state)
{
	fx *f = *state;
	use_vector_key(f);
	db_exec(f, "UPDATE otp SET secret = X'" VECTOR_OTP_SEALED "' WHERE username='alice'");
	f->secret_len = b32_decode(VECTOR_B32, f->secret, sizeof(f->secret));
	assert_int_equal(f->secret_len, 20);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
	/* and bound to its user, as before */
	db_exec(f, "UPDATE otp SET username = 'bob' WHERE username='alice'");
	assert_int_equal(verify(f, "bob", code_at(f, T0, 1), T0 + 30), CRT_E_SEAL);
	assert_string_equal(crt_errdetail(f->ctx),
	                    "sealed OTP secret of bob does not open with this key");
}

static void test_otp_secret_longer_than_the_maximum_is_malformed(void **state)
{
	fx *f = *state;
	/* 1 + 12 + 65 + 16 bytes: one byte over OTP_SECRET_MAX, never opened */
	char sql[400] = "UPDATE otp SET secret = X'01";
	for (int i = 0; i < 12 + 65 + 16; i++)
		strcat(sql, "00");
	strcat(sql, "' WHERE username='alice'");
	db_exec(f, sql);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_E_SEAL);
	assert_string_equal(crt_errdetail(f->ctx), "sealed OTP secret of alice is malformed");
}

static void test_kept_pkcs12_sealed_by_the_earlier_code_still_opens(void **state)
{
	fx *f = *state;
	unsigned char blob[128], *pt = NULL;
	size_t n = unhex(VECTOR_P12_SEALED, blob, sizeof(blob)), len = 0;
	use_vector_key(f);
	assert_int_equal(unseal_blob(f->ctx, P12_SEAL_LABEL, "0A1B2C:alice", blob, n, &pt, &len),
	                 CRT_OK);
	assert_int_equal(len, strlen(VECTOR_P12));
	assert_memory_equal(pt, VECTOR_P12, len);
	crt_freezero(pt, len);
	assert_int_equal(unseal_blob(f->ctx, P12_SEAL_LABEL, "0A1B2C:mallory", blob, n, &pt, &len),
	                 CRT_E_SEAL);
	assert_string_equal(crt_errdetail(f->ctx),
	                    "the sealed crtoken-pkcs12 does not open with this key");
	blob[0] = 0x02;
	assert_int_equal(unseal_blob(f->ctx, P12_SEAL_LABEL, "0A1B2C:alice", blob, n, &pt, &len),
	                 CRT_E_SEAL);
	assert_string_equal(crt_errdetail(f->ctx), "the sealed crtoken-pkcs12 is malformed");
}

/* ------------------------------------------------------------------ verification */

static void test_right_code_is_accepted_and_recorded(void **state)
{
	fx *f = *state;
	int offset = 99;
	crt_otp_info o;
	assert_int_equal(
	    crt_otp_verify(f->ctx, "alice", code_at(f, T0, 0), T0, "svc", NULL, &offset), CRT_OK);
	assert_int_equal(offset, 0);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.last_step, T0 / 30);
	crt_otp_info_clear(&o);
	assert_int_equal(audit_count(f, "otp.success"), 1);
}

static void test_eight_digit_sha512_code_is_accepted(void **state)
{
	fx *f = *state;
	fx_enroll(f, "dave", "SHA512", 8);
	assert_int_equal(f->secret_len, 64);
	assert_int_equal(strlen(code_at(f, T0, 0)), 8);
	assert_int_equal(verify(f, "dave", code_at(f, T0, 0), T0), CRT_OK);
}

static void test_wrong_code_is_refused_and_counted(void **state)
{
	fx *f = *state;
	crt_otp_info o;
	assert_int_equal(verify(f, "alice", wrong_code(f, T0), T0), CRT_E_OTP_BAD_CODE);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.failures, 1);
	assert_int_equal(o.last_step, -1);
	crt_otp_info_clear(&o);
	assert_int_equal(audit_count(f, "otp.failure"), 1);
}

static void test_malformed_codes_are_refused(void **state)
{
	fx *f = *state;
	char longer[32];
	snprintf(longer, sizeof(longer), "%s0", code_at(f, T0, 0));
	assert_int_equal(verify(f, "alice", "", T0), CRT_E_OTP_BAD_CODE);
	assert_int_equal(verify(f, "alice", "12a456", T0), CRT_E_OTP_BAD_CODE);
	assert_int_equal(verify(f, "alice", longer, T0), CRT_E_OTP_BAD_CODE);
	assert_int_equal(verify(f, "alice", NULL, T0), CRT_E_OTP_BAD_CODE);
}

static void test_same_code_twice_is_a_replay(void **state)
{
	fx *f = *state;
	char code[16];
	snprintf(code, sizeof(code), "%s", code_at(f, T0, 0));
	assert_int_equal(verify(f, "alice", code, T0), CRT_OK);
	assert_int_equal(verify(f, "alice", code, T0 + 1), CRT_E_OTP_REPLAY);
	assert_int_equal(audit_count(f, "otp.replay"), 1);
}

static void test_code_of_an_earlier_step_after_a_later_success_is_a_replay(void **state)
{
	fx *f = *state;
	char prev[16];
	snprintf(prev, sizeof(prev), "%s", code_at(f, T0, -1));
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
	assert_int_equal(verify(f, "alice", prev, T0), CRT_E_OTP_REPLAY);
}

static void test_next_steps_code_is_fresh_after_a_success(void **state)
{
	fx *f = *state;
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 1), T0 + 30), CRT_OK);
}

static void test_window_edges_accept_one_step_and_refuse_two(void **state)
{
	fx *f = *state;
	int offset = 0;
	assert_int_equal(verify(f, "alice", code_at(f, T0, -2), T0), CRT_E_OTP_BAD_CODE);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 2), T0), CRT_E_OTP_BAD_CODE);
	assert_int_equal(
	    crt_otp_verify(f->ctx, "alice", code_at(f, T0, -1), T0, "t", NULL, &offset), CRT_OK);
	assert_int_equal(offset, -1);
	assert_int_equal(crt_otp_verify(f->ctx, "alice", code_at(f, T0, 1), T0, "t", NULL, &offset),
	                 CRT_OK);
	assert_int_equal(offset, 1);
}

static void test_explicit_window_zero_refuses_neighbour_steps(void **state)
{
	fx *f = *state;
	assert_int_equal(
	    crt_otp_verify_window(f->ctx, "alice", code_at(f, T0, -1), T0, 0, "t", NULL, NULL),
	    CRT_E_OTP_BAD_CODE);
	assert_int_equal(
	    crt_otp_verify_window(f->ctx, "alice", code_at(f, T0, 0), T0, 0, "t", NULL, NULL),
	    CRT_OK);
	assert_int_equal(
	    crt_otp_verify_window(f->ctx, "alice", code_at(f, T0, 3), T0, 3, "t", NULL, NULL),
	    CRT_OK);
	assert_int_equal(
	    crt_otp_verify_window(f->ctx, "alice", code_at(f, T0, 0), T0, 11, "t", NULL, NULL),
	    CRT_E_INVALID_ARGUMENT);
}

static void test_unknown_user_is_not_enrolled_and_audited(void **state)
{
	fx *f = *state;
	assert_int_equal(verify(f, "nobody", "123456", T0), CRT_E_OTP_NOT_ENROLLED);
	assert_int_equal(audit_count(f, "otp.failure"), 1);
}

/* ------------------------------------------------------------------ lockout */

static void fail_n(fx *f, int n, int64_t t)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(verify(f, "alice", wrong_code(f, t), t), CRT_E_OTP_BAD_CODE);
}

static void test_five_failures_lock_even_the_right_code(void **state)
{
	fx *f = *state;
	crt_otp_info o;
	fail_n(f, 5, T0);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0 + 1), CRT_E_OTP_LOCKED);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.locked_until, T0 + 300);
	assert_int_equal(o.last_step, -1);
	crt_otp_info_clear(&o);
	assert_int_equal(audit_count(f, "otp.locked"), 1);
}

static void test_lockout_ends_after_lockout_seconds(void **state)
{
	fx *f = *state;
	int64_t later = T0 + 300;
	fail_n(f, 5, T0);
	assert_int_equal(verify(f, "alice", code_at(f, later - 1, 0), later - 1), CRT_E_OTP_LOCKED);
	assert_int_equal(verify(f, "alice", code_at(f, later, 0), later), CRT_OK);
}

static void test_success_resets_the_failure_counter(void **state)
{
	fx *f = *state;
	crt_otp_info o;
	fail_n(f, 4, T0);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
	fail_n(f, 4, T0 + 30);
	assert_int_equal(verify(f, "alice", code_at(f, T0 + 30, 1), T0 + 30), CRT_OK);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.failures, 0);
	crt_otp_info_clear(&o);
}

static void test_replays_count_towards_lockout(void **state)
{
	fx *f = *state;
	char code[16];
	snprintf(code, sizeof(code), "%s", code_at(f, T0, 0));
	assert_int_equal(verify(f, "alice", code, T0), CRT_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(verify(f, "alice", code, T0), CRT_E_OTP_REPLAY);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 1), T0), CRT_E_OTP_LOCKED);
}

/* The newest audit row of action: its detail (malloc'd). */
static char *last_detail(fx *f, const char *action)
{
	crt_audit_row *rows = NULL;
	size_t n = 0;
	char *d;
	assert_int_equal(crt_audit_list(f->ctx, 1, action, &rows, &n), CRT_OK);
	assert_int_equal(n, 1);
	d = strdup(rows[0].detail ? rows[0].detail : "");
	crt_audit_list_free(rows, n);
	return d;
}

static void test_a_second_lockout_in_a_row_lasts_twice_as_long_and_the_audit_says_so(void **state)
{
	fx *f = *state;
	crt_otp_info o;
	char *d;
	int64_t t1 = T0 + 300;
	fail_n(f, 5, T0);
	d = last_detail(f, "otp.failure");
	assert_non_null(strstr(d, "\"lockout_seconds\":300"));
	assert_non_null(strstr(d, "\"lockouts\":1"));
	free(d);
	/* waited out; five more wrong guesses */
	fail_n(f, 5, t1);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.locked_until, t1 + 600);
	assert_int_equal(o.lockouts, 2);
	crt_otp_info_clear(&o);
	d = last_detail(f, "otp.failure");
	assert_non_null(strstr(d, "\"lockout_seconds\":600"));
	assert_non_null(strstr(d, "\"lockouts\":2"));
	free(d);
	assert_int_equal(verify(f, "alice", code_at(f, t1 + 599, 0), t1 + 599), CRT_E_OTP_LOCKED);
	d = last_detail(f, "otp.locked");
	assert_non_null(strstr(d, "\"lockouts\":2"));
	free(d);
	/* a success ends the escalation: the next lockout is the short one again */
	assert_int_equal(verify(f, "alice", code_at(f, t1 + 600, 0), t1 + 600), CRT_OK);
	fail_n(f, 5, t1 + 630);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.locked_until, t1 + 630 + 300);
	assert_int_equal(o.lockouts, 1);
	crt_otp_info_clear(&o);
}

static void test_unlock_clears_lockout(void **state)
{
	fx *f = *state;
	crt_otp_info o;
	fail_n(f, 5, T0);
	fail_n(f, 5, T0 + 300);
	assert_int_equal(crt_otp_unlock(f->ctx, "alice", "test"), CRT_OK);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.lockouts, 0);
	assert_int_equal(o.failures, 0);
	crt_otp_info_clear(&o);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_OK);
	assert_int_equal(audit_count(f, "otp.unlock"), 1);
	assert_int_equal(crt_otp_unlock(f->ctx, "nobody", "test"), CRT_E_OTP_NOT_ENROLLED);
}

/* ------------------------------------------------------------------ lockout rule (pure) */

static crt_config rule_cfg(int max_failures, int lockout, int lockout_max)
{
	crt_config c;
	memset(&c, 0, sizeof(c));
	c.otp_max_failures = max_failures;
	c.otp_lockout_seconds = lockout;
	c.otp_lockout_max_seconds = lockout_max;
	return c;
}

/* max_failures - 1 wrong guesses, then the one that locks: its length. */
static int64_t lock_once(const crt_config *cfg, crt_otp_lockout *c, int64_t now)
{
	for (int i = 1; i < cfg->otp_max_failures; i++)
		assert_int_equal(crt_otp_lockout_apply(cfg, c, 0, now), 0);
	return crt_otp_lockout_apply(cfg, c, 0, now);
}

static void test_lockout_rule_doubles_each_consecutive_lockout_up_to_the_cap(void **state)
{
	crt_config cfg = rule_cfg(5, 300, 86400);
	crt_otp_lockout c = {0};
	static const int64_t want[] = {300,   600,   1200,  2400,  4800, 9600,
	                               19200, 38400, 76800, 86400, 86400};
	int64_t now = T0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_false(crt_otp_locked(&c, now));
		assert_int_equal(lock_once(&cfg, &c, now), want[i]);
		assert_int_equal(c.lockouts, (int)i + 1);
		assert_int_equal(c.locked_until, now + want[i]);
		assert_true(crt_otp_locked(&c, now + want[i] - 1));
		now += want[i];
	}
}

static void test_lockout_rule_success_clears_failures_and_lockouts(void **state)
{
	crt_config cfg = rule_cfg(5, 300, 86400);
	crt_otp_lockout c = {0};
	assert_int_equal(lock_once(&cfg, &c, T0), 300);
	assert_int_equal(lock_once(&cfg, &c, T0 + 300), 600);
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0 + 900), 0); /* 1 failure */
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 1, T0 + 901), 0);
	assert_int_equal(c.failures, 0);
	assert_int_equal(c.lockouts, 0);
	assert_int_equal(c.locked_until, 0);
	assert_int_equal(lock_once(&cfg, &c, T0 + 902), 300);
}

static void test_lockout_rule_needs_max_failures_in_a_row(void **state)
{
	crt_config cfg = rule_cfg(3, 60, 600);
	crt_otp_lockout c = {0};
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0), 0);
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0), 0);
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 1, T0), 0);
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0), 0);
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0), 0);
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0), 60);
}

static void test_lockout_rule_a_cap_below_the_first_lockout_keeps_the_first(void **state)
{
	crt_config cfg = rule_cfg(1, 300, 10);
	crt_otp_lockout c = {0};
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0), 300);
	assert_int_equal(crt_otp_lockout_apply(&cfg, &c, 0, T0 + 300), 300);
}

/*
 * The attack: guess, wait out the lockout, guess again, forever. Without
 * escalation that is 5 guesses per 300 s — 525,600 a year, about 79 % to hit
 * one of the 3 codes a window of 1 accepts out of 10^6. With doubling up to a
 * day it is 5 a day once the cap is reached.
 */
static void test_a_guesser_who_waits_out_every_lockout_gets_few_guesses_a_year(void **state)
{
	crt_config cfg = rule_cfg(5, 300, 86400);
	crt_otp_lockout c = {0};
	int64_t now = T0, end = T0 + 365LL * 86400;
	long guesses = 0;
	while (now < end) {
		if (crt_otp_locked(&c, now)) {
			now = c.locked_until;
			continue;
		}
		crt_otp_lockout_apply(&cfg, &c, 0, now);
		guesses++;
	}
	/* 9 lockouts to reach the cap (~1.8 days), then 5 a day */
	assert_true(guesses < 5 * 375);
}

/* ------------------------------------------------------------------ admin */

static void test_remove_deletes_the_otp(void **state)
{
	fx *f = *state;
	crt_otp_info o;
	assert_int_equal(crt_otp_remove(f->ctx, "alice", "test"), CRT_OK);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_E_OTP_NOT_ENROLLED);
	assert_int_equal(verify(f, "alice", code_at(f, T0, 0), T0), CRT_E_OTP_NOT_ENROLLED);
	assert_int_equal(crt_otp_remove(f->ctx, "alice", "test"), CRT_E_OTP_NOT_ENROLLED);
	assert_int_equal(audit_count(f, "otp.remove"), 1);
}

static void test_list_returns_users_in_order(void **state)
{
	fx *f = *state;
	crt_otp_info *l = NULL;
	size_t n = 0;
	fx_enroll(f, "zed", NULL, 0);
	fx_enroll(f, "bob", NULL, 0);
	assert_int_equal(crt_otp_list(f->ctx, &l, &n), CRT_OK);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].user, "alice");
	assert_string_equal(l[1].user, "bob");
	assert_string_equal(l[2].user, "zed");
	crt_otp_list_free(l, n);
}

/* ------------------------------------------------------------------ concurrent sessions */

/*
 * Many sessions (threads with their own ctx, or processes: the analogue of
 * several nodes) verify alice's one code at the same moment. The row is
 * loaded locked for each verification, so exactly one accepts it; the
 * others see it as already used (replays, counting towards the lockout,
 * which then refuses the rest). Whatever the order, the counts are fixed.
 */
#define RACERS 8
static pthread_barrier_t race_barrier;
static struct {
	const char *conf, *code;
} race;

static crt_status race_once(void)
{
	crt_ctx *ctx = NULL;
	crt_status r = crt_open(race.conf, CRT_OPEN_NO_CA, &ctx);
	if (r == CRT_OK)
		r = crt_otp_verify(ctx, "alice", race.code, T0, "test", NULL, NULL);
	crt_close(ctx);
	return r;
}

static void *race_thread(void *arg)
{
	pthread_barrier_wait(&race_barrier);
	*(crt_status *)arg = race_once();
	return NULL;
}

static void race_counts(fx *f, const crt_status *res, int n)
{
	int ok = 0, replay = 0, locked = 0;
	crt_otp_info o;
	for (int i = 0; i < n; i++) {
		ok += res[i] == CRT_OK;
		replay += res[i] == CRT_E_OTP_REPLAY;
		locked += res[i] == CRT_E_OTP_LOCKED;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(replay, 5); /* [otp] max_failures */
	assert_int_equal(locked, n - 6);
	assert_int_equal(audit_count(f, "otp.success"), 1);
	assert_int_equal(crt_otp_get(f->ctx, "alice", &o), CRT_OK);
	assert_int_equal(o.last_step, T0 / 30);
	assert_int_equal(o.lockouts, 1);
	crt_otp_info_clear(&o);
}

static void test_one_code_verified_by_eight_sessions_at_once_is_accepted_once(void **state)
{
	fx *f = *state;
	pthread_t th[RACERS];
	crt_status res[RACERS];
	char code[16];
	snprintf(code, sizeof(code), "%s", code_at(f, T0, 0));
	race.conf = f->conf;
	race.code = code;
	pthread_barrier_init(&race_barrier, NULL, RACERS);
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_thread, &res[i]), 0);
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&race_barrier);
	race_counts(f, res, RACERS);
}

static void test_one_code_verified_by_eight_processes_at_once_is_accepted_once(void **state)
{
	fx *f = *state;
	pid_t pid[RACERS];
	crt_status res[RACERS];
	int go[2];
	char code[16];
	snprintf(code, sizeof(code), "%s", code_at(f, T0, 0));
	race.conf = f->conf;
	race.code = code;
	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < RACERS; i++) {
		assert_true((pid[i] = fork()) >= 0);
		if (pid[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) != 1) /* all start together */
				_exit(255);
			_exit((int)race_once());
		}
	}
	close(go[0]);
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	for (int i = 0; i < RACERS; i++) {
		int st = 0;
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st));
		res[i] = (crt_status)WEXITSTATUS(st);
	}
	race_counts(f, res, RACERS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hotp_matches_rfc4226_appendix_d),
	    cmocka_unit_test(test_totp_matches_rfc6238_appendix_b_for_all_algorithms),
	    cmocka_unit_test(test_hotp_refuses_bad_parameters),
#define FX(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	    FX(test_enroll_uri_carries_issuer_user_and_parameters),
	    FX(test_enroll_defaults_come_from_config),
	    FX(test_enroll_twice_is_refused),
	    FX(test_enroll_refuses_bad_parameters),
	    FX(test_enroll_is_audited),
	    FX(test_secret_is_not_stored_in_clear),
	    FX(test_sealed_secret_moved_to_another_user_does_not_open),
	    FX(test_otp_key_readable_by_others_is_refused),
	    FX(test_wrong_sealing_key_fails_closed),
	    FX(test_otp_secret_sealed_by_the_earlier_code_still_opens),
	    FX(test_otp_secret_longer_than_the_maximum_is_malformed),
	    FX(test_kept_pkcs12_sealed_by_the_earlier_code_still_opens),
	    FX(test_right_code_is_accepted_and_recorded),
	    FX(test_eight_digit_sha512_code_is_accepted),
	    FX(test_wrong_code_is_refused_and_counted),
	    FX(test_malformed_codes_are_refused),
	    FX(test_same_code_twice_is_a_replay),
	    FX(test_code_of_an_earlier_step_after_a_later_success_is_a_replay),
	    FX(test_next_steps_code_is_fresh_after_a_success),
	    FX(test_window_edges_accept_one_step_and_refuse_two),
	    FX(test_explicit_window_zero_refuses_neighbour_steps),
	    FX(test_unknown_user_is_not_enrolled_and_audited),
	    FX(test_five_failures_lock_even_the_right_code),
	    FX(test_lockout_ends_after_lockout_seconds),
	    FX(test_success_resets_the_failure_counter),
	    FX(test_replays_count_towards_lockout),
	    FX(test_unlock_clears_lockout),
	    FX(test_a_second_lockout_in_a_row_lasts_twice_as_long_and_the_audit_says_so),
	    cmocka_unit_test(test_lockout_rule_doubles_each_consecutive_lockout_up_to_the_cap),
	    cmocka_unit_test(test_lockout_rule_success_clears_failures_and_lockouts),
	    cmocka_unit_test(test_lockout_rule_needs_max_failures_in_a_row),
	    cmocka_unit_test(test_lockout_rule_a_cap_below_the_first_lockout_keeps_the_first),
	    cmocka_unit_test(test_a_guesser_who_waits_out_every_lockout_gets_few_guesses_a_year),
	    FX(test_remove_deletes_the_otp),
	    FX(test_list_returns_users_in_order),
	    FX(test_one_code_verified_by_eight_sessions_at_once_is_accepted_once),
	    FX(test_one_code_verified_by_eight_processes_at_once_is_accepted_once),
#undef FX
	};
	return cmocka_run_group_tests_name("otp", tests, NULL, NULL);
}
