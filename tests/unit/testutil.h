/*
 * testutil.h — helpers for the cmocka unit suites: throw-away instances,
 * CSRs of every key type made in-process, and small file utilities.
 * Header-only; every helper is static.
 */
#ifndef CRTOKEN_TESTUTIL_H
#define CRTOKEN_TESTUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define TU static __attribute__((unused))

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>
#include <unistd.h>

#include "crtoken.h"
#ifdef CRT_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

typedef struct test_instance {
	char dir[256];
	char conf[300];
	crt_ctx *ctx;
	char pg_schema[64]; /* CRTOKEN_TEST_BACKEND=postgresql: the instance's own schema */
} test_instance;

/* The backend the suites run against: CRTOKEN_TEST_BACKEND (sqlite by
 * default; postgresql needs CRTOKEN_TEST_CONNINFO, see t_pg_units.sh). */
TU int tu_backend_pg(void)
{
	const char *b = getenv("CRTOKEN_TEST_BACKEND");
	return b != NULL && strcmp(b, "postgresql") == 0;
}

#ifdef CRT_HAVE_LIBPQ
#include <pthread.h>
/* A connection to the test server (CRTOKEN_TEST_CONNINFO) for the test's
 * own queries, kept open by the thread that first made one: a fault test's
 * snapshot reads a dozen counts per injected call, and a new connection (a
 * forked server backend) for each was most of t_pg_units' time. Autocommit,
 * so every statement sees what was committed before it. Another thread, or
 * a forked child, gets a connection of its own for the one statement (a
 * libpq connection is not to be shared, and the parent's socket is not the
 * child's to close). */
static PGconn *tu_pg_c;
static pid_t tu_pg_pid;
static pthread_t tu_pg_thread;
static char tu_pg_path[64]; /* the kept connection's search_path ("": default) */

/* The connection for one statement with search_path = schema ("": the
 * server's default); give it back with tu_pg_done. */
TU PGconn *tu_pg_take(const char *schema)
{
	char set[600];
	PGconn *c;
	int kept = tu_pg_c == NULL ||
	           (tu_pg_pid == getpid() && pthread_equal(tu_pg_thread, pthread_self()));

	if (kept && tu_pg_c != NULL && PQstatus(tu_pg_c) != CONNECTION_OK) {
		PQfinish(tu_pg_c);
		tu_pg_c = NULL;
	}
	if (kept && tu_pg_c != NULL) {
		c = tu_pg_c;
	} else {
		c = PQconnectdb(getenv("CRTOKEN_TEST_CONNINFO"));
		if (PQstatus(c) != CONNECTION_OK)
			fail_msg("connecting to the test PostgreSQL: %s", PQerrorMessage(c));
		PQclear(PQexec(c, "SET client_min_messages = warning"));
		if (kept) {
			tu_pg_c = c;
			tu_pg_pid = getpid();
			tu_pg_thread = pthread_self();
			tu_pg_path[0] = '\0';
		}
	}
	if (c != tu_pg_c || strcmp(tu_pg_path, schema) != 0) {
		if (schema[0])
			snprintf(set, sizeof(set), "SET search_path = %s", schema);
		else
			snprintf(set, sizeof(set), "RESET search_path");
		PGresult *r = PQexec(c, set);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail_msg("%s: %s", set, PQerrorMessage(c));
		PQclear(r);
		if (c == tu_pg_c)
			snprintf(tu_pg_path, sizeof(tu_pg_path), "%s", schema);
	}
	return c;
}

TU void tu_pg_done(PGconn *c)
{
	if (c != tu_pg_c)
		PQfinish(c);
}

/* Run sql on the test server (CRTOKEN_TEST_CONNINFO); fails the test on error. */
TU void tu_pg_exec(const char *sql)
{
	PGconn *c = tu_pg_take("");
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	tu_pg_done(c);
}
#endif

/* On PostgreSQL: a schema of the instance's own on the test server, and
 * the [store] section that points the instance at it (each instance starts
 * from an empty store, as with a fresh SQLite file). */
TU void tu_pg_store(test_instance *ti)
{
#ifdef CRT_HAVE_LIBPQ
	static int seq;
	char sql[128], text[512];
	const char *ci = getenv("CRTOKEN_TEST_CONNINFO");
	if (ci == NULL)
		fail_msg("CRTOKEN_TEST_BACKEND=postgresql needs CRTOKEN_TEST_CONNINFO");
	snprintf(ti->pg_schema, sizeof(ti->pg_schema), "tu_%d_%d", (int)getpid(), ++seq);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", ti->pg_schema);
	tu_pg_exec(sql);
	snprintf(text, sizeof(text),
		 "[store]\nbackend = postgresql\nconninfo = %s options=-csearch_path=%s\n", ci,
		 ti->pg_schema);
	FILE *f = fopen(ti->conf, "a");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
#else
	fail_msg("CRTOKEN_TEST_BACKEND=postgresql in a build without libpq");
#endif
}

/* Remove a directory tree (test scratch only). */
TU void tu_rmrf(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
}

/* Append extra config lines (e.g. "[ca]\ncert_days = 2\n") to the instance's config. */
TU void tu_config_append(test_instance *ti, const char *text)
{
	FILE *f = fopen(ti->conf, "a");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A fresh instance with an EC P-256 CA; opened unless extra config is
 * wanted first (then call tu_open). */
TU void tu_instance_init(test_instance *ti, const char *ca_key)
{
	char err[512];
	crt_init_opts o = {0};
	memset(ti, 0, sizeof(*ti));
	snprintf(ti->dir, sizeof(ti->dir), "%s/crtoken-unit.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(ti->dir));
	strcat(ti->dir, "/i");
	snprintf(ti->conf, sizeof(ti->conf), "%s/crtoken.conf", ti->dir);
	o.dir = ti->dir;
	o.ca_key_type = ca_key;
	o.ca_subject = "/CN=Unit Test CA/O=crtoken tests";
	crt_status r = crt_init(&o, err, sizeof(err));
	if (r != CRT_OK)
		fail_msg("init: %s: %s", crt_status_name(r), err);
	if (tu_backend_pg())
		tu_pg_store(ti);
}

TU void tu_open(test_instance *ti)
{
	crt_status r = crt_open(ti->conf, 0, &ti->ctx);
	if (r != CRT_OK)
		fail_msg("open: %s: %s", crt_status_name(r), crt_errdetail(ti->ctx));
}

TU void tu_instance(test_instance *ti)
{
	tu_instance_init(ti, NULL);
	tu_open(ti);
}

TU void tu_instance_free(test_instance *ti)
{
	char parent[256];
	crt_close(ti->ctx);
	ti->ctx = NULL;
#ifdef CRT_HAVE_LIBPQ
	if (ti->pg_schema[0]) {
		char sql[128];
		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", ti->pg_schema);
		tu_pg_exec(sql);
		ti->pg_schema[0] = '\0';
	}
#endif
	snprintf(parent, sizeof(parent), "%s", ti->dir);
	*strrchr(parent, '/') = '\0';
	tu_rmrf(parent);
}

/* The instance a test group shares: cmocka group setup and teardown. */
static test_instance ti __attribute__((unused));
TU int tu_group_setup(void **state)
{
	tu_instance(&ti);
	return 0;
}
TU int tu_group_teardown(void **state)
{
	tu_instance_free(&ti);
	return 0;
}

/* Key of a named type: "ec-p256", "ec-p384", "ec-p224", "ec-secp256k1",
 * "rsa-1024", "rsa-2048", "ed25519", "ed448". */
TU EVP_PKEY *tu_key(const char *type)
{
	EVP_PKEY *k = NULL;
	if (strcmp(type, "ec-p256") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "ec-p384") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(type, "ec-p224") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-224");
	else if (strcmp(type, "ec-p521") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	else if (strcmp(type, "ec-secp256k1") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	else if (strcmp(type, "rsa-1024") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	else if (strcmp(type, "rsa-2048") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(type, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (strcmp(type, "ed448") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	assert_non_null(k);
	return k;
}

/* A CSR for key with subject CN=cn; ca_true adds basicConstraints CA:TRUE. */
TU X509_REQ *tu_req(EVP_PKEY *k, const char *cn, int ca_true)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	int id = EVP_PKEY_get_base_id(k);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_NAME_free(n);
	X509_REQ_set_pubkey(req, k);
	if (ca_true) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
								 "critical,CA:TRUE"));
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, k, (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448)
						  ? NULL
						  : EVP_sha256()) > 0);
	return req;
}

/* PEM of req, malloc'd; *len set. */
TU char *tu_req_pem(X509_REQ *req, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s;
	PEM_write_bio_X509_REQ(b, req);
	long n = BIO_get_mem_data(b, &data);
	s = malloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return s;
}

/* A PEM CSR for a fresh key of type (see tu_key). */
TU char *tu_csr(const char *type, size_t *len)
{
	EVP_PKEY *k = tu_key(type);
	X509_REQ *req = tu_req(k, "from-the-csr", 0);
	char *pem = tu_req_pem(req, len);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return pem;
}

/* Create a token with a name and optional overrides; token string to out. */
TU void tu_token(crt_ctx *ctx, const crt_token_spec *spec, char out[CRT_TOKEN_STRLEN + 1],
		     crt_token *t)
{
	crt_status r = crt_token_create(ctx, spec, "test", t, out);
	if (r != CRT_OK)
		fail_msg("token create: %s: %s", crt_status_name(r), crt_errdetail(ctx));
}

/* Redeem token with a fresh P-256 CSR. */
TU crt_status tu_redeem(crt_ctx *ctx, const char *token, crt_cert *out)
{
	size_t len;
	char *csr = tu_csr("ec-p256", &len);
	crt_redeem_req req = {.token = token, .csr = (unsigned char *)csr, .csr_len = len,
			      .admin = 1, .actor = "test"};
	crt_status r = crt_redeem(ctx, &req, out);
	free(csr);
	return r;
}

/* Parse a PEM certificate. */
TU X509 *tu_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	return x;
}

/* A SQL query's single integer result (-1: no row), on the instance's store:
 * dbpath is tu_db_path's ("pg:<schema>" on PostgreSQL). */
#include <sqlite3.h>
TU long long tu_sql_int(const char *dbpath, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;
#ifdef CRT_HAVE_LIBPQ
	if (strncmp(dbpath, "pg:", 3) == 0) { /* tu_db_path of a PostgreSQL instance */
		PGconn *c = tu_pg_take(dbpath + 3);
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		tu_pg_done(c);
		return v;
	}
#endif
	assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The instance's store for tu_sql_int: its SQLite file, or "pg:<schema>"
 * with CRTOKEN_TEST_BACKEND=postgresql. */
TU void tu_db_path(const test_instance *ti, char *out, size_t n)
{
	if (ti->pg_schema[0])
		snprintf(out, n, "pg:%s", ti->pg_schema);
	else
		snprintf(out, n, "%s/crtoken.db", ti->dir);
}

/* A stored certificate as rlm_eap_tls presents it: TLS-Client-Cert-*
 * strings (key identifiers "2D:11:...", times "YYMMDDHHMMSSZ"). */
typedef struct tu_presented_buf {
	char ski[200], aki[200], nb[32], na[32];
	crt_presented p;
} tu_presented_buf;

TU void tu_colon_hex(const char *hex, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; hex != NULL && hex[i] && hex[i + 1] && o + 4 < n; i += 2) {
		if (o > 0)
			out[o++] = ':';
		out[o++] = (char)toupper((unsigned char)hex[i]);
		out[o++] = (char)toupper((unsigned char)hex[i + 1]);
	}
	out[o] = '\0';
}

TU void tu_asn1_time(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	if (tm.tm_year + 1900 < 2050)
		snprintf(out, n, "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(out, n, "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

TU crt_presented *tu_presented(const crt_cert *c, tu_presented_buf *b)
{
	tu_colon_hex(c->ski, b->ski, sizeof(b->ski));
	tu_colon_hex(c->aki, b->aki, sizeof(b->aki));
	tu_asn1_time(c->not_before, b->nb, sizeof(b->nb));
	tu_asn1_time(c->not_after, b->na, sizeof(b->na));
	b->p = (crt_presented){.serial = c->serial,
			       .issuer = c->issuer,
			       .ski = b->ski,
			       .aki = b->aki,
			       .not_before = b->nb,
			       .not_after = b->na};
	return &b->p;
}

#endif
