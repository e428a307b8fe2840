/*
 * bench_core.c — in-process benchmarks of libcrtoken for `make bench`:
 *
 *   bench_core crypto ec-p256|rsa-2048 THREADS SECONDS
 *       the crypto floor: CSR verify + certificate sign with EVP directly
 *   bench_core redeem full|normal THREADS N [softhsm2|cfssl]
 *       N complete redemptions (P-256 CA and CSRs) through crt_redeem; with
 *       softhsm2 the CA key (P-256) is made in a SoftHSM2 token (a token
 *       directory beside the instance, removed with it) and every
 *       certificate is signed there through the pkcs11 engine; with cfssl
 *       the CA is a remote one ([ca] type = cfssl): every certificate is
 *       signed by the cfssl server at $CFSSL_URL (CA certificate
 *       $CFSSL_CA, auth key file $CFSSL_AUTH_KEY; tests/bench/run.sh
 *       starts it) and checked before it is stored
 *   bench_core lookup ROWS LOOKUPS [postgresql]
 *       a store with ROWS certificates and ROWS tokens (made in batched
 *       transactions): crt_cert_authorize latency by serial (mean, p50,
 *       p99), DB bytes per certificate, time to purge ROWS expired tokens;
 *       with postgresql the store is then copied (crt_store_copy, timed)
 *       into a schema of its own on $BENCH_PG_CONNINFO and looked up and
 *       purged there
 *   bench_core redeem ... postgresql
 *       the redemptions with the store on PostgreSQL ($BENCH_PG_CONNINFO,
 *       a schema of its own, dropped at the end)
 *
 *   bench_core bulk N [postgresql]
 *       N tokens (N <= CRT_BULK_MAX) made by N crt_token_create calls (N
 *       transactions) and by one crt_token_create_many call (one
 *       transaction), each with its audit row and event; durability = full;
 *       with postgresql on $BENCH_PG_CONNINFO (a schema of its own)
 *
 *   bench_core mktokens CONF N FILE
 *       N tokens in the instance CONF, one token string per line in FILE
 *   bench_core mkotp CONF N FILE [AT]
 *       N OTP users (bench0..), "user:code" lines with the code of the time
 *       step of AT (Unix seconds; default now): with the service's window of
 *       one step either side, a code for the middle of a run is accepted
 *       throughout a run of up to a minute
 *
 * Each measurement prints one line "key=value ..." for tests/bench/run.sh.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crtoken.h"

/* A hex key identifier as rlm_eap_tls prints it: "2D:11:...". */
static void colon_hex(const char *hex, char *out, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; hex != NULL && hex[i] && hex[i + 1] && o + 4 < n; i += 2) {
		if (o > 0)
			out[o++] = ':';
		out[o++] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
		out[o++] = (char)(hex[i + 1] >= 'a' ? hex[i + 1] - 32 : hex[i + 1]);
	}
	out[o] = '\0';
}

/* Unix seconds as an ASN.1 UTCTime string "YYMMDDHHMMSSZ". */
static void asn1_time(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, n, "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_core: %s\n", what);
	exit(1);
}

static EVP_PKEY *keygen(const char *type)
{
	EVP_PKEY *k = strcmp(type, "rsa-2048") == 0
			      ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
			      : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (k == NULL)
		die("keygen");
	return k;
}

static X509_REQ *make_req(EVP_PKEY *k)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"bench", -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_NAME_free(n);
	X509_REQ_set_pubkey(req, k);
	if (X509_REQ_sign(req, k, EVP_sha256()) <= 0)
		die("req sign");
	return req;
}

static char *req_pem(X509_REQ *req, size_t *len)
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

/* ---------------------------------------------------------------- crypto */

struct crypto_arg {
	const char *type;
	double seconds;
	long ops;
};

static void *crypto_worker(void *p)
{
	struct crypto_arg *a = p;
	EVP_PKEY *ca = keygen(a->type), *user = keygen(a->type);
	X509_REQ *req = make_req(user);
	X509 *x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_set_subject_name(x, X509_REQ_get_subject_name(req));
	X509_set_issuer_name(x, X509_REQ_get_subject_name(req));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, user);
	double end = now_s() + a->seconds;
	long ops = 0;
	while (now_s() < end) {
		for (int i = 0; i < 16; i++) {
			EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
			if (X509_REQ_verify(req, pk) != 1)
				die("verify");
			ASN1_INTEGER_set(X509_get_serialNumber(x), ops + i + 2);
			if (X509_sign(x, ca, EVP_sha256()) <= 0)
				die("sign");
		}
		ops += 16;
	}
	a->ops = ops;
	X509_free(x);
	X509_REQ_free(req);
	EVP_PKEY_free(ca);
	EVP_PKEY_free(user);
	return NULL;
}

static int cmd_crypto(const char *type, int threads, double seconds)
{
	pthread_t th[64];
	struct crypto_arg args[64];
	long total = 0;
	double t0 = now_s();
	for (int i = 0; i < threads; i++) {
		args[i] = (struct crypto_arg){.type = type, .seconds = seconds};
		pthread_create(&th[i], NULL, crypto_worker, &args[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += args[i].ops;
	}
	double el = now_s() - t0;
	printf("crypto type=%s threads=%d ops=%ld seconds=%.2f per_second=%.0f\n", type, threads,
	       total, el, (double)total / el);
	return 0;
}

/* ---------------------------------------------------------------- instance */

static char inst_dir[256], inst_conf[300];
static char self_path[512]; /* argv[0]: paging runs each variant in a fresh process */

#define SOFTHSM2_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* A SoftHSM2 token labelled crtoken-bench in PARENT/tokens (SOFTHSM2_CONF
 * set for this process) and its PIN in PARENT/pin (0600). */
static void make_softhsm2_token(const char *parent, char *pin_file, size_t n)
{
	char path[400], cmd[700];
	snprintf(path, sizeof(path), "%s/tokens", parent);
	if (mkdir(path, 0700) != 0)
		die("mkdir tokens");
	snprintf(path, sizeof(path), "%s/softhsm2.conf", parent);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		die("softhsm2.conf");
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
		   "log.level = ERROR\n", parent);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(cmd, sizeof(cmd),
		 "softhsm2-util --init-token --free --label crtoken-bench --pin 424242 "
		 "--so-pin 24242424 >/dev/null");
	if (system(cmd) != 0)
		die("softhsm2-util --init-token (install softhsm2)");
	snprintf(pin_file, n, "%s/pin", parent);
	int fd = open(pin_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "424242\n", 7) != 7 || close(fd) != 0)
		die("pin file");
}

enum bench_key { KEY_FILE, KEY_SOFTHSM2, KEY_CFSSL, KEY_FILE_PG };

static void make_instance_key(const char *durability, enum bench_key kind)
{
	char err[512], pin_file[400];
	snprintf(inst_dir, sizeof(inst_dir), "%s/crtoken-bench.XXXXXX",
		 getenv("BENCH_TMPDIR") ? getenv("BENCH_TMPDIR") : "/var/tmp");
	if (mkdtemp(inst_dir) == NULL)
		die("mkdtemp");
	crt_init_opts o = {.dir = inst_dir};
	if (kind == KEY_SOFTHSM2) {
		make_softhsm2_token(inst_dir, pin_file, sizeof(pin_file));
		o.ca_key_uri = "pkcs11:token=crtoken-bench;object=bench-ca";
		o.ca_pin_file = pin_file;
		o.ca_module = SOFTHSM2_MODULE;
	}
	strcat(inst_dir, "/i");
	if (crt_init(&o, err, sizeof(err)) != CRT_OK)
		die(err);
	snprintf(inst_conf, sizeof(inst_conf), "%s/crtoken.conf", inst_dir);
	FILE *f = fopen(inst_conf, "a");
	fprintf(f, "\n[store]\ndurability = %s\n[tokens]\nmax_lifetime = 3650d\n", durability);
	if (kind == KEY_CFSSL) {
		const char *url = getenv("CFSSL_URL"), *ca = getenv("CFSSL_CA"),
			   *key = getenv("CFSSL_AUTH_KEY");
		if (url == NULL || ca == NULL || key == NULL)
			die("redeem ... cfssl needs CFSSL_URL, CFSSL_CA and CFSSL_AUTH_KEY");
		fprintf(f, "[ca]\ntype = cfssl\ncertificate = %s\nurl = %s\nauth_key_file = %s\n",
			ca, url, key);
	}
	fclose(f);
}

static void make_instance(const char *durability)
{
	make_instance_key(durability, KEY_FILE);
}

static void remove_instance(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", inst_dir);
	*strrchr(cmd, '/') = '\0'; /* the mkdtemp parent */
	strcat(cmd, "'");
	if (system(cmd) != 0)
		fprintf(stderr, "bench_core: could not remove %s\n", inst_dir);
}

/* ------------------------------------------------------------- PostgreSQL */

static char pg_schema[64];

static void pg_run(const char *sql)
{
	const char *ci = getenv("BENCH_PG_CONNINFO");
	if (ci == NULL)
		die("postgresql rows need BENCH_PG_CONNINFO");
	PGconn *c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK)
		die(PQerrorMessage(c));
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die(PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* A schema of its own on the bench server, and its conninfo in out. */
static void pg_schema_make(char *out, size_t n)
{
	static int seq;
	char sql[128];
	snprintf(pg_schema, sizeof(pg_schema), "bench_%d_%d", (int)getpid(), ++seq);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", pg_schema);
	pg_run(sql);
	snprintf(out, n, "%s options=-csearch_path=%s", getenv("BENCH_PG_CONNINFO"), pg_schema);
}

static void pg_schema_drop(void)
{
	char sql[128];
	if (pg_schema[0] == '\0')
		return;
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", pg_schema);
	pg_run(sql);
	pg_schema[0] = '\0';
}

/* Point the instance's config at conninfo (the last [store] keys win). */
static void use_pg(const char *conninfo)
{
	FILE *f = fopen(inst_conf, "a");
	if (f == NULL)
		die("config");
	fprintf(f, "\n[store]\nbackend = postgresql\nconninfo = %s\n", conninfo);
	fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static crt_ctx *open_ctx(void)
{
	crt_ctx *ctx;
	if (crt_open(inst_conf, 0, &ctx) != CRT_OK)
		die(crt_errdetail(ctx));
	return ctx;
}

/* ---------------------------------------------------------------- redeem */

struct job {
	char token[CRT_TOKEN_STRLEN + 1];
	char *csr;
	size_t len;
};
static struct job *jobs;
static int njobs, next_job;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static long failures;

/* The workers' sessions share one instance, as crtokend's do (one CA key,
 * one writer queue: group commit across the threads). */
static crt_instance *redeem_inst;

static void *redeem_worker(void *p)
{
	crt_ctx *ctx;
	if (crt_session_open(redeem_inst, 0, &ctx) != CRT_OK)
		die(crt_errdetail(ctx));
	for (;;) {
		pthread_mutex_lock(&job_lock);
		int i = next_job < njobs ? next_job++ : -1;
		pthread_mutex_unlock(&job_lock);
		if (i < 0)
			break;
		crt_cert c;
		crt_redeem_req req = {.token = jobs[i].token, .csr = (unsigned char *)jobs[i].csr,
				      .csr_len = jobs[i].len, .admin = 1, .actor = "bench"};
		crt_status r = crt_redeem(ctx, &req, &c);
		if (r != CRT_OK) {
			pthread_mutex_lock(&job_lock);
			failures++;
			pthread_mutex_unlock(&job_lock);
			fprintf(stderr, "redeem: %s: %s\n", crt_status_name(r), crt_errdetail(ctx));
		}
		crt_cert_clear(&c);
	}
	crt_close(ctx);
	return NULL;
}

static int cmd_redeem(const char *durability, int threads, int n, enum bench_key kind)
{
	pthread_t th[64];
	make_instance_key(durability, kind == KEY_FILE_PG ? KEY_FILE : kind);
	if (kind == KEY_FILE_PG) {
		char ci[512];
		pg_schema_make(ci, sizeof(ci));
		use_pg(ci);
	}
	crt_ctx *ctx = open_ctx();
	jobs = calloc((size_t)n, sizeof(*jobs));
	/* Set-up (not timed): tokens and P-256 CSRs. */
	for (int i = 0; i < n; i++) {
		crt_token_spec spec = {.name = "bench", .cn = "bench-user", .org = "Bench"};
		if (crt_token_create(ctx, &spec, "bench", NULL, jobs[i].token) != CRT_OK)
			die(crt_errdetail(ctx));
		EVP_PKEY *k = keygen("ec-p256");
		X509_REQ *req = make_req(k);
		jobs[i].csr = req_pem(req, &jobs[i].len);
		X509_REQ_free(req);
		EVP_PKEY_free(k);
	}
	crt_close(ctx);
	char err[640];
	if (crt_instance_open(inst_conf, 0, &redeem_inst, err, sizeof(err)) != CRT_OK)
		die(err);
	njobs = n;
	double t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, redeem_worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	double el = now_s() - t0;
	printf("redeem %sdurability=%s threads=%d n=%d failures=%ld seconds=%.2f per_second=%.0f\n",
	       kind == KEY_SOFTHSM2  ? "key=softhsm2 "
	       : kind == KEY_CFSSL   ? "key=cfssl "
	       : kind == KEY_FILE_PG ? "store=postgresql "
				     : "",
	       durability, threads, n, failures, el,
	       (double)(n - failures) / el);
	crt_instance_unref(redeem_inst);
	redeem_inst = NULL;
	for (int i = 0; i < n; i++)
		free(jobs[i].csr);
	free(jobs);
	remove_instance();
	pg_schema_drop();
	return failures != 0;
}

/* ---------------------------------------------------------------- scale */

static int cmd_lookup(long rows, long lookups, int on_pg)
{
	char db[600], *err = NULL;
	sqlite3 *h;
	sqlite3_stmt *ins, *tok;
	struct stat st;
	make_instance("normal");
	snprintf(db, sizeof(db), "%s/crtoken.db", inst_dir);

	/* One real certificate gives the realistic row: its PEM, subject, issuer. */
	crt_ctx *ctx = open_ctx();
	char t[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "template", .cn = "user", .org = "Example Corp"};
	crt_cert real;
	if (crt_token_create(ctx, &spec, "bench", NULL, t) != CRT_OK)
		die("token");
	EVP_PKEY *k = keygen("ec-p256");
	X509_REQ *rq = make_req(k);
	size_t len;
	char *pem = req_pem(rq, &len);
	crt_redeem_req req = {.token = t, .csr = (unsigned char *)pem, .csr_len = len, .admin = 1};
	if (crt_redeem(ctx, &req, &real) != CRT_OK)
		die(crt_errdetail(ctx));
	crt_close(ctx);

	double t0 = now_s();
	if (sqlite3_open(db, &h) != SQLITE_OK)
		die("open");
	sqlite3_exec(h, "PRAGMA synchronous=OFF; PRAGMA journal_mode=WAL; BEGIN", NULL, NULL, &err);
	sqlite3_prepare_v2(h,
			   "INSERT INTO certificates(serial, issuer, token_id, name, subject, cn, "
			   "org, username, reply, key_type, pubkey_sha256, pem, not_before, not_after, "
			   "issued_at, ski, aki, cert_sha256) VALUES (?1, ?2, ?3, 'bench', ?4, 'user', "
			   "'Example Corp', NULL, 'Tunnel-Private-Group-Id=42', 'ec-p256', ?5, ?6, ?7, "
			   "?8, ?7, ?9, ?10, ?5)",
			   -1, &ins, NULL);
	sqlite3_prepare_v2(h,
			   "INSERT INTO tokens(id, hash, name, cn, org, created_at, expires_at, "
			   "updated_at) VALUES (?1, ?2, 'bench', 'user', 'Example Corp', ?3, ?4, ?3)",
			   -1, &tok, NULL);
	unsigned char rnd[48];
	char serial[33], hash[65], id[64];
	int64_t now = crt_now();
	for (long i = 0; i < rows; i++) {
		FILE *ur = fopen("/dev/urandom", "rb");
		if (i % 4096 == 0 && ur == NULL)
			die("urandom");
		if (fread(rnd, 1, sizeof(rnd), ur) != sizeof(rnd))
			die("urandom");
		fclose(ur);
		rnd[0] = (rnd[0] & 0x7f) | 0x01;
		for (int j = 0; j < 16; j++)
			snprintf(serial + 2 * j, 3, "%02x", rnd[j]);
		for (int j = 0; j < 32; j++)
			snprintf(hash + 2 * j, 3, "%02x", rnd[16 + j]);
		snprintf(id, sizeof(id), "token-bench-%ld", i);
		sqlite3_bind_text(ins, 1, serial, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, real.issuer, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, real.subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, real.pem, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 7, real.not_before);
		sqlite3_bind_int64(ins, 8, real.not_after);
		sqlite3_bind_text(ins, 9, real.ski, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 10, real.aki, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die(sqlite3_errmsg(h));
		sqlite3_reset(ins);
		sqlite3_bind_text(tok, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(tok, 2, hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(tok, 3, now - 40 * 86400);
		sqlite3_bind_int64(tok, 4, now - 39 * 86400); /* expired long ago */
		if (sqlite3_step(tok) != SQLITE_DONE)
			die(sqlite3_errmsg(h));
		sqlite3_reset(tok);
		if (i % 50000 == 49999) {
			sqlite3_exec(h, "COMMIT; BEGIN", NULL, NULL, NULL);
		}
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(tok);
	sqlite3_exec(h, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	double gen = now_s() - t0;
	/* Bytes per certificate: the certificates table and its index only. */
	sqlite3_stmt *sz;
	long long cert_bytes = -1;
	if (sqlite3_prepare_v2(h, "SELECT sum(pgsize) FROM dbstat WHERE name IN "
				  "('certificates', 'certificates_not_after')", -1, &sz, NULL) == SQLITE_OK &&
	    sqlite3_step(sz) == SQLITE_ROW)
		cert_bytes = sqlite3_column_int64(sz, 0);
	sqlite3_finalize(sz);
	sqlite3_close(h);
	stat(db, &st);

	/* The serials to look up, read before the store moves. */
	char **serials = calloc((size_t)lookups, sizeof(char *));
	{
		sqlite3 *h2;
		sqlite3_stmt *q;
		sqlite3_open_v2(db, &h2, SQLITE_OPEN_READONLY, NULL);
		sqlite3_prepare_v2(h2, "SELECT serial FROM certificates ORDER BY random() LIMIT ?", -1,
				   &q, NULL);
		sqlite3_bind_int64(q, 1, lookups);
		long i = 0;
		while (sqlite3_step(q) == SQLITE_ROW && i < lookups)
			serials[i++] = strdup((const char *)sqlite3_column_text(q, 0));
		for (; i < lookups; i++)
			serials[i] = strdup(real.serial);
		sqlite3_finalize(q);
		sqlite3_close(h2);
	}

	/* On PostgreSQL: the whole store copied there, as a site migrates. */
	double copy_s = -1;
	if (on_pg) {
		char ci[512];
		crt_copy_report rep;
		pg_schema_make(ci, sizeof(ci));
		ctx = open_ctx();
		double c0 = now_s();
		if (crt_store_copy(ctx, "postgresql", ci, "bench", &rep) != CRT_OK)
			die(crt_errdetail(ctx));
		copy_s = now_s() - c0;
		crt_close(ctx);
		use_pg(ci);
	}

	/* Lookups by serial through the same read path rlm_crtoken uses. */
	crt_ctx *ro;
	if (crt_open(inst_conf, CRT_OPEN_READONLY | CRT_OPEN_NO_CA, &ro) != CRT_OK)
		die(crt_errdetail(ro));
	/* Every row carries the real certificate's key identifiers and validity;
	 * present them as rlm_eap_tls prints them. */
	char p_ski[200], p_aki[200], p_nb[32], p_na[32];
	colon_hex(real.ski, p_ski, sizeof(p_ski));
	colon_hex(real.aki, p_aki, sizeof(p_aki));
	asn1_time(real.not_before, p_nb, sizeof(p_nb));
	asn1_time(real.not_after, p_na, sizeof(p_na));
	crt_presented pres = {.issuer = real.issuer, .ski = p_ski, .aki = p_aki,
			      .not_before = p_nb, .not_after = p_na};
	double *each = calloc((size_t)lookups, sizeof(double));
	double l0 = now_s();
	for (long i = 0; i < lookups; i++) {
		char *reply = NULL;
		double e0 = now_s();
		pres.serial = serials[i];
		if (crt_cert_authorize(ro, &pres, crt_now(), &reply) != CRT_OK)
			die(crt_errdetail(ro));
		free(reply);
		each[i] = (now_s() - e0) * 1e6;
	}
	double lookup_us = (now_s() - l0) / (double)lookups * 1e6;
	qsort(each, (size_t)lookups, sizeof(double), cmp_double);
	double p50 = each[lookups / 2], p99 = each[(lookups * 99) / 100];
	free(each);
	crt_close(ro);
	for (long i = 0; i < lookups; i++)
		free(serials[i]);
	free(serials);

	/* Purge every expired token (rows of them) through the admin path. */
	ctx = open_ctx();
	size_t purged = 0;
	double p0 = now_s();
	if (crt_token_purge(ctx, 30, "bench", &purged) != CRT_OK)
		die(crt_errdetail(ctx));
	double purge_s = now_s() - p0;
	crt_close(ctx);

	printf("lookup %srows=%ld generate_s=%.1f db_bytes=%lld cert_table_bytes_per_cert=%.0f "
	       "lookup_us=%.2f p50_us=%.2f p99_us=%.2f purged=%zu purge_s=%.2f copy_s=%.2f\n",
	       on_pg ? "store=postgresql " : "", rows, gen, (long long)st.st_size,
	       (double)cert_bytes / (double)(rows + 1), lookup_us, p50, p99, purged, purge_s,
	       copy_s);
	crt_cert_clear(&real);
	free(pem);
	X509_REQ_free(rq);
	EVP_PKEY_free(k);
	remove_instance();
	pg_schema_drop();
	return 0;
}

/* ---------------------------------------------------------------- bulk */

static int cmd_bulk(long n, int on_pg)
{
	char conninfo[600], tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec single = {.name = "single", .ou = "Bench"},
	               many = {.name = "bulk", .ou = "Bench"};
	crt_token_batch b;
	crt_ctx *ctx;
	double t0, single_s, many_s;

	if (n < 1 || n > CRT_BULK_MAX)
		die("bulk: N must be 1..CRT_BULK_MAX");
	make_instance("full");
	if (on_pg) {
		pg_schema_make(conninfo, sizeof(conninfo));
		use_pg(conninfo);
	}
	ctx = open_ctx();
	t0 = now_s();
	for (long i = 0; i < n; i++)
		if (crt_token_create(ctx, &single, "bench", NULL, tok) != CRT_OK)
			die(crt_errdetail(ctx));
	single_s = now_s() - t0;
	t0 = now_s();
	if (crt_token_create_many(ctx, &many, 1, (size_t)n, "bench", &b) != CRT_OK)
		die(crt_errdetail(ctx));
	many_s = now_s() - t0;
	crt_token_batch_clear(&b);
	printf("bulk %sn=%ld single_s=%.3f bulk_s=%.3f speedup=%.1f\n",
	       on_pg ? "store=postgresql " : "", n, single_s, many_s, single_s / many_s);
	crt_close(ctx);
	remove_instance();
	pg_schema_drop();
	return 0;
}

/* ---------------------------------------------------------------- route */

/* The routing of N events to their sinks after a bulk of N tokens (N
 * token.created events): one crt_events_deliver pass with two command sinks
 * taking every event and [events] batch = 1, so the pass routes all N (N
 * events marked, 2N deliveries added; a pass routes at most 500) and sends
 * just one (/bin/true). */
static int cmd_route(long n, int on_pg)
{
	char conninfo[600];
	crt_token_spec many = {.name = "routed"};
	crt_token_batch b;
	crt_events_pass pass;
	crt_ctx *ctx;
	double t0, route_s;
	FILE *f;

	if (n < 1 || n > 500)
		die("route: N must be 1..500 (what one pass routes)");
	make_instance("full");
	if ((f = fopen(inst_conf, "a")) == NULL)
		die("config");
	fprintf(f, "\n[events]\nbatch = 1\n"
	           "[events.sink a]\ntype = command\ncommand = /bin/true\n"
	           "[events.sink b]\ntype = command\ncommand = /bin/true\n");
	fclose(f);
	if (on_pg) {
		pg_schema_make(conninfo, sizeof(conninfo));
		use_pg(conninfo);
	}
	ctx = open_ctx();
	if (crt_token_create_many(ctx, &many, 1, (size_t)n, "bench", &b) != CRT_OK)
		die(crt_errdetail(ctx));
	crt_token_batch_clear(&b);
	t0 = now_s();
	if (crt_events_deliver(ctx, "bench", &pass) != CRT_OK)
		die(crt_errdetail(ctx));
	route_s = now_s() - t0;
	if (pass.routed != (size_t)n)
		die("route: not every event was routed");
	printf("route %sn=%ld sinks=2 route_s=%.3f routed=%zu sent=%zu\n",
	       on_pg ? "store=postgresql " : "", n, route_s, pass.routed, pass.attempted);
	crt_close(ctx);
	remove_instance();
	pg_schema_drop();
	return 0;
}

/* ---------------------------------------------------------------- paging */

/*
 * Page 1 (size 50) of ROWS tokens and of ROWS audit rows: "all" reads every
 * row of the list and cuts the page in memory, as crtokend did before the
 * store paged (crt_token_list + sort; crt_audit_list of every row), "page"
 * asks the store for the page (crt_token_page, crt_audit_page: LIMIT/OFFSET
 * and a count). Each variant runs in a fresh process (bench_core
 * paging-one), so its peak RSS is its own.
 */
static int cmp_created(const void *pa, const void *pb)
{
	const crt_token *a = pa, *b = pb;
	if (a->created_at != b->created_at)
		return a->created_at < b->created_at ? -1 : 1;
	return strcmp(a->id, b->id);
}

static int cmd_paging_one(const char *variant, const char *conf, int reps)
{
	crt_ctx *ctx;
	crt_page p = {.page = 1, .size = 50, .sort = 0, .desc = 0};
	size_t got = 0;
	int64_t total = 0;
	double t0;
	struct rusage ru;

	if (crt_open(conf, CRT_OPEN_NO_CA, &ctx) != CRT_OK)
		die(crt_errdetail(ctx));
	t0 = now_s();
	for (int r = 0; r < reps; r++) {
		if (strcmp(variant, "tokens-all") == 0) {
			crt_token *l;
			size_t n;
			if (crt_token_list(ctx, -1, &l, &n) != CRT_OK)
				die(crt_errdetail(ctx));
			if (n > 1)
				qsort(l, n, sizeof(*l), cmp_created);
			got = n < 50 ? n : 50;
			total = (int64_t)n;
			crt_token_list_free(l, n);
		} else if (strcmp(variant, "tokens-page") == 0) {
			crt_token *l;
			if (crt_token_page(ctx, -1, &p, &l, &got, &total) != CRT_OK)
				die(crt_errdetail(ctx));
			crt_token_list_free(l, got);
		} else if (strcmp(variant, "audit-all") == 0) {
			crt_audit_row *l;
			size_t n;
			if (crt_audit_list(ctx, 100000000, NULL, &l, &n) != CRT_OK)
				die(crt_errdetail(ctx));
			got = n < 50 ? n : 50;
			total = (int64_t)n;
			crt_audit_list_free(l, n);
		} else if (strcmp(variant, "audit-page") == 0) {
			crt_audit_row *l;
			p.desc = 1;
			if (crt_audit_page(ctx, NULL, &p, &l, &got, &total) != CRT_OK)
				die(crt_errdetail(ctx));
			crt_audit_list_free(l, got);
		} else if (strcmp(variant, "open") != 0) {
			die("paging-one: tokens-all|tokens-page|audit-all|audit-page|open");
		}
	}
	double ms = (now_s() - t0) * 1000.0 / reps;
	crt_close(ctx);
	getrusage(RUSAGE_SELF, &ru);
	printf("%.3f %ld %zu %lld\n", ms, ru.ru_maxrss, got, (long long)total);
	return 0;
}

/* Run bench_core paging-one VARIANT CONF REPS in a fresh process: its
 * milliseconds per call and peak RSS (KiB). */
static void paging_child(const char *variant, int reps, double *ms, long *rss_kb)
{
	char cmd[1200], line[256];
	long long total = 0;
	size_t got = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' paging-one %s '%s' %d", self_path, variant, inst_conf,
		 reps);
	if ((f = popen(cmd, "r")) == NULL || fgets(line, sizeof(line), f) == NULL)
		die("paging-one");
	if (pclose(f) != 0 || sscanf(line, "%lf %ld %zu %lld", ms, rss_kb, &got, &total) != 4)
		die("paging-one failed");
	if (strcmp(variant, "open") != 0 && got != 50)
		die("paging-one: not a page of 50");
}

static int cmd_paging(long rows, int on_pg)
{
	static const char *const variants[] = {"open", "tokens-all", "tokens-page", "audit-all",
					       "audit-page"};
	char conninfo[600], sql[2048];
	int64_t now = crt_now();
	double ms[5], t0;
	long rss[5];

	make_instance("normal");
	if (on_pg) {
		pg_schema_make(conninfo, sizeof(conninfo));
		use_pg(conninfo);
	}
	crt_close(open_ctx()); /* create and migrate the store */
	t0 = now_s();
	if (on_pg) {
		snprintf(sql, sizeof(sql),
			 "SET search_path = %s;"
			 "INSERT INTO tokens(id, hash, name, cn, org, created_at, expires_at, updated_at)"
			 " SELECT 'token-bench-' || lpad(i::text, 9, '0'), lpad(i::text, 64, '0'),"
			 " 'bench-' || (i %% 997), 'user', 'Example Corp', %lld + i, %lld, %lld + i"
			 " FROM generate_series(1, %ld) i;"
			 "INSERT INTO audit(at, actor, action, object, detail)"
			 " SELECT %lld + i, 'apikey:key-bench', 'token.create',"
			 " 'token-bench-' || lpad(i::text, 9, '0'),"
			 " '{\"name\":\"bench\",\"profile\":\"default\",\"expiresAt\":\"2026-12-31T00:00:00Z\"}'"
			 " FROM generate_series(1, %ld) i;"
			 "ANALYZE tokens; ANALYZE audit;",
			 pg_schema, (long long)(now - rows), (long long)(now + 86400),
			 (long long)(now - rows), rows, (long long)(now - rows), rows);
		pg_run(sql);
	} else {
		char db[600], *err = NULL;
		sqlite3 *h;
		snprintf(db, sizeof(db), "%s/crtoken.db", inst_dir);
		snprintf(sql, sizeof(sql),
			 "BEGIN;"
			 "INSERT INTO tokens(id, hash, name, cn, org, created_at, expires_at, updated_at)"
			 " WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %ld)"
			 " SELECT printf('token-bench-%%09d', i), printf('%%064d', i),"
			 " 'bench-' || (i %% 997), 'user', 'Example Corp', %lld + i, %lld, %lld + i FROM s;"
			 "INSERT INTO audit(at, actor, action, object, detail)"
			 " WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %ld)"
			 " SELECT %lld + i, 'apikey:key-bench', 'token.create',"
			 " printf('token-bench-%%09d', i),"
			 " '{\"name\":\"bench\",\"profile\":\"default\",\"expiresAt\":\"2026-12-31T00:00:00Z\"}'"
			 " FROM s;"
			 "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);",
			 rows, (long long)(now - rows), (long long)(now + 86400), (long long)(now - rows),
			 rows, (long long)(now - rows));
		if (sqlite3_open(db, &h) != SQLITE_OK ||
		    sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
			die(err ? err : "fill");
		sqlite3_close(h);
	}
	double fill_s = now_s() - t0;
	for (int i = 0; i < 5; i++)
		paging_child(variants[i], strstr(variants[i], "all") ? 3 : 50, &ms[i], &rss[i]);
	printf("paging %srows=%ld fill_s=%.1f open_rss_kb=%ld tokens_all_ms=%.2f "
	       "tokens_all_rss_kb=%ld tokens_page_ms=%.3f tokens_page_rss_kb=%ld audit_all_ms=%.2f "
	       "audit_all_rss_kb=%ld audit_page_ms=%.3f audit_page_rss_kb=%ld\n",
	       on_pg ? "store=postgresql " : "", rows, fill_s, rss[0], ms[1], rss[1], ms[2], rss[2],
	       ms[3], rss[3], ms[4], rss[4]);
	remove_instance();
	pg_schema_drop();
	return 0;
}

/* ---------------------------------------------------------------- fixtures */

static int cmd_mktokens(const char *conf, long n, const char *file)
{
	crt_ctx *ctx;
	FILE *f = fopen(file, "w");
	if (f == NULL || crt_open(conf, CRT_OPEN_NO_CA, &ctx) != CRT_OK)
		die("mktokens: open");
	for (long i = 0; i < n; i++) {
		char t[CRT_TOKEN_STRLEN + 1];
		crt_token_spec spec = {.name = "http-bench", .cn = "bench-user", .org = "Bench"};
		if (crt_token_create(ctx, &spec, "bench", NULL, t) != CRT_OK)
			die(crt_errdetail(ctx));
		fprintf(f, "%s\n", t);
	}
	crt_close(ctx);
	return fclose(f) != 0;
}

static size_t b32decode(const char *in, unsigned char *out)
{
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned buf = 0, bits = 0;
	size_t n = 0;
	for (; *in && *in != '='; in++) {
		const char *p = strchr(alpha, *in);
		if (p == NULL)
			die("base32");
		buf = buf << 5 | (unsigned)(p - alpha);
		bits += 5;
		if (bits >= 8) {
			out[n++] = (unsigned char)(buf >> (bits - 8));
			bits -= 8;
		}
	}
	return n;
}

static int cmd_mkotp(const char *conf, long n, const char *file, int64_t at)
{
	crt_ctx *ctx;
	FILE *f = fopen(file, "w");
	if (f == NULL || crt_open(conf, CRT_OPEN_NO_CA, &ctx) != CRT_OK)
		die("mkotp: open");
	for (long i = 0; i < n; i++) {
		char user[32], code[16], *uri = NULL, *secret = NULL;
		unsigned char key[64];
		snprintf(user, sizeof(user), "bench%ld", i);
		if (crt_otp_enroll(ctx, user, "SHA1", 6, 30, "bench", "bench", &uri, &secret) != CRT_OK)
			die(crt_errdetail(ctx));
		size_t kl = b32decode(secret, key);
		if (crt_hotp(key, kl, (uint64_t)(at / 30), "SHA1", 6, code, sizeof(code)) !=
		    CRT_OK)
			die("hotp");
		fprintf(f, "%s:%s\n", user, code);
		free(uri);
		free(secret);
	}
	crt_close(ctx);
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	snprintf(self_path, sizeof(self_path), "%s", argv[0]);
	if (argc == 5 && strcmp(argv[1], "paging-one") == 0)
		return cmd_paging_one(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && strcmp(argv[1], "paging") == 0)
		return cmd_paging(atol(argv[2]), 0);
	if (argc == 4 && strcmp(argv[1], "paging") == 0 && strcmp(argv[3], "postgresql") == 0)
		return cmd_paging(atol(argv[2]), 1);
	if (argc == 5 && strcmp(argv[1], "mktokens") == 0)
		return cmd_mktokens(argv[2], atol(argv[3]), argv[4]);
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "mkotp") == 0)
		return cmd_mkotp(argv[2], atol(argv[3]), argv[4],
		                 argc == 6 ? (int64_t)atoll(argv[5]) : crt_now());
	if (argc == 5 && strcmp(argv[1], "crypto") == 0)
		return cmd_crypto(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc == 5 && strcmp(argv[1], "redeem") == 0)
		return cmd_redeem(argv[2], atoi(argv[3]), atoi(argv[4]), KEY_FILE);
	if (argc == 6 && strcmp(argv[1], "redeem") == 0 && strcmp(argv[5], "softhsm2") == 0)
		return cmd_redeem(argv[2], atoi(argv[3]), atoi(argv[4]), KEY_SOFTHSM2);
	if (argc == 6 && strcmp(argv[1], "redeem") == 0 && strcmp(argv[5], "cfssl") == 0)
		return cmd_redeem(argv[2], atoi(argv[3]), atoi(argv[4]), KEY_CFSSL);
	if (argc == 3 && strcmp(argv[1], "bulk") == 0)
		return cmd_bulk(atol(argv[2]), 0);
	if (argc == 4 && strcmp(argv[1], "bulk") == 0 && strcmp(argv[3], "postgresql") == 0)
		return cmd_bulk(atol(argv[2]), 1);
	if (argc == 3 && strcmp(argv[1], "route") == 0)
		return cmd_route(atol(argv[2]), 0);
	if (argc == 4 && strcmp(argv[1], "route") == 0 && strcmp(argv[3], "postgresql") == 0)
		return cmd_route(atol(argv[2]), 1);
	if (argc == 4 && strcmp(argv[1], "lookup") == 0)
		return cmd_lookup(atol(argv[2]), atol(argv[3]), 0);
	if (argc == 5 && strcmp(argv[1], "lookup") == 0 && strcmp(argv[4], "postgresql") == 0)
		return cmd_lookup(atol(argv[2]), atol(argv[3]), 1);
	if (argc == 6 && strcmp(argv[1], "redeem") == 0 && strcmp(argv[5], "postgresql") == 0)
		return cmd_redeem(argv[2], atoi(argv[3]), atoi(argv[4]), KEY_FILE_PG);
	fprintf(stderr, "usage: bench_core crypto ec-p256|rsa-2048 THREADS SECONDS\n"
			"       bench_core redeem full|normal THREADS N [softhsm2|cfssl]\n"
			"       bench_core lookup ROWS LOOKUPS\n"
			"       bench_core bulk N [postgresql]\n"
			"       bench_core route N [postgresql]\n"
			"       bench_core paging ROWS [postgresql]\n");
	return 2;
}
