/*
 * test_store.c — opening an instance: config parsing, store creation and
 * migration, permission rules for the DB and the CA key, failure modes.
 */
#include "testutil.h"
#include "internal.h"
#include "store/sqlite.h" /* builds old-schema stores */
#include <sys/stat.h>

/* Undo the migrations after schema 6 (newest first), to stage older stores. */
#define UNDO_AFTER_6                                                                     \
	"DROP INDEX tokens_created; DROP INDEX certificates_issued;"                   \
	"DROP INDEX certificate_requests_created;" /* 17 */                             \
	"ALTER TABLE certificates DROP COLUMN pin_mac; ALTER TABLE tokens DROP COLUMN pin_mac;" \
	/* 16 */                                                                        \
	"DROP TABLE kept_pkcs12; DROP INDEX certificates_username;" /* 15 */            \
	"DROP INDEX audit_at; DROP INDEX audit_object; DROP INDEX audit_actor;"        \
	"ALTER TABLE tokens DROP COLUMN description;"                                   \
	"ALTER TABLE api_keys DROP COLUMN scopes;" /* 14 */                             \
	"DROP TABLE certificate_requests; ALTER TABLE tokens DROP COLUMN approval;" /* 13 */ \
	"DROP TABLE ca_crl; DROP INDEX certificates_ca_revoked_seq;"                   \
	"ALTER TABLE certificates DROP COLUMN ca; ALTER TABLE tokens DROP COLUMN ca;"  \
	/* 12 */                                                                        \
	"ALTER TABLE tokens DROP COLUMN profile; ALTER TABLE tokens DROP COLUMN san;"          \
	"ALTER TABLE tokens DROP COLUMN valid_days; ALTER TABLE certificates DROP COLUMN "    \
	"profile; ALTER TABLE api_keys DROP COLUMN profiles;" /* 11 */                          \
	"DROP INDEX certificates_renewed_from;"                                        \
	"ALTER TABLE certificates DROP COLUMN renewed_from;" /* 10 */                   \
	"ALTER TABLE tokens DROP COLUMN attestation;" /* 8 */                           \
	"ALTER TABLE certificates DROP COLUMN attestation;"                             \
	"DROP TABLE cert_seen;" /* 9 */                                                  \
	"DROP TABLE event_attempts; DROP TABLE event_deliveries; DROP TABLE events;"   \
	"ALTER TABLE tokens DROP COLUMN owner_email;" /* 7 */

static crt_status open_status(test_instance *ti, unsigned flags, char *detail, size_t n)
{
	crt_ctx *ctx;
	crt_status r = crt_open(ti->conf, flags, &ctx);
	if (detail)
		snprintf(detail, n, "%s", crt_errdetail(ctx));
	crt_close(ctx);
	return r;
}

static void init_creates_a_migrated_store_with_safe_modes(void **s)
{
	test_instance ti;
	char db[512];
	struct stat st;
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	char key[512];
	snprintf(key, sizeof(key), "%s/ca.key", ti.dir);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(key, sizeof(key), "%s/otp.key", ti.dir);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tu_sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM audit WHERE action = 'instance.init'"), 1);
	tu_instance_free(&ti);
}

static void an_empty_store_file_is_migrated_forward(void **s)
{
	test_instance ti;
	char db[512];
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	unlink(db);
	FILE *f = fopen(db, "w"); /* an empty file: SQLite treats it as a new DB */
	fclose(f);
	chmod(db, 0600);
	assert_int_equal(open_status(&ti, 0, NULL, 0), CRT_OK);
	assert_int_equal(tu_sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM audit WHERE action = 'store.migrate'"), 1);
	tu_instance_free(&ti);
}

/* A store made by the first release (schema 1) with an unused token: opening
 * migrates it forward, and the token's version starts at 0. */
static void a_schema_1_store_gains_token_versions(void **s)
{
	test_instance ti;
	char db[512];
	sqlite3 *h;
	char *err = NULL;
	crt_token got;
	crt_token_spec change = {.ou = "x"};
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	unlink(db);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	if (sqlite3_exec(h, store_migration_sql(0), NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(h,
			 "PRAGMA user_version = 1;"
			 "INSERT INTO tokens(id, hash, name, created_at, expires_at, updated_at)"
			 " VALUES ('token-old', 'h', 'old', 1, 4000000000, 1)",
			 NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s", err);
	sqlite3_close(h);
	chmod(db, 0600);
	tu_open(&ti);
	assert_int_equal(tu_sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(crt_token_get(ti.ctx, "token-old", &got), CRT_OK);
	assert_int_equal(got.version, 0);
	crt_token_clear(&got);
	assert_int_equal(crt_token_update(ti.ctx, "token-old", &change, "t", &got), CRT_OK);
	assert_int_equal(got.version, 1);
	crt_token_clear(&got);
	tu_instance_free(&ti);
}

/* Roll the store at db back to the schema before the key identifiers
 * migration (as a release before it left the store), running extra SQL
 * first. Migrations appended after that one must be undone here too. */
static void before_key_identifiers(const char *db, const char *extra)
{
	sqlite3 *h;
	char *err = NULL;
	char sql[4096];
	int v = 0;
	while (v < store_schema_version() && !strstr(store_migration_sql(v), "ADD COLUMN ski"))
		v++;
	assert_true(v < store_schema_version());
	snprintf(sql, sizeof(sql),
		 "%s " UNDO_AFTER_6 "ALTER TABLE certificates RENAME COLUMN username TO user;" /* 6 */
		 "ALTER TABLE otp RENAME COLUMN username TO user;"
		 "DELETE FROM meta WHERE key = 'min_compatible';"
		 "ALTER TABLE certificates DROP COLUMN ski;"
		 "ALTER TABLE certificates DROP COLUMN aki;"
		 "ALTER TABLE certificates DROP COLUMN cert_sha256;"
		 "ALTER TABLE certificates ADD COLUMN last_seen INTEGER;"
		 /* and before the later migrations (5: revocation numbers, crl) */
		 "DROP INDEX certificates_revoked_seq;"
		 "ALTER TABLE certificates DROP COLUMN revoked_seq;"
		 "DROP TABLE crl;"
		 "PRAGMA user_version = %d;",
		 extra ? extra : "", v);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s", err);
	sqlite3_close(h);
}

static void a_store_before_key_identifiers_is_migrated_and_back_filled(void **s)
{
	test_instance ti;
	char db[512], tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c, bad, got;
	crt_token_spec spec = {.name = "old"}, spec2 = {.name = "garbled"};
	tu_presented_buf pb;
	char sql[512];

	tu_instance(&ti);
	tu_db_path(&ti, db, sizeof(db));
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	crt_token_clear(&t);
	tu_token(ti.ctx, &spec2, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &bad), CRT_OK);
	crt_token_clear(&t);
	crt_close(ti.ctx);
	ti.ctx = NULL;

	/* Back to the schema before key identifiers, with one unreadable PEM. */
	snprintf(sql, sizeof(sql),
		 "UPDATE certificates SET pem = 'not a certificate' WHERE serial = '%s';",
		 bad.serial);
	before_key_identifiers(db, sql);

	/* A read-only reader (rlm_crtoken) does not migrate; a writer does. */
	assert_int_equal(open_status(&ti, CRT_OPEN_READONLY | CRT_OPEN_NO_CA, NULL, 0),
			 CRT_E_STORE_VERSION);
	tu_open(&ti);
	assert_int_equal(tu_sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM pragma_table_info('certificates')"
					" WHERE name = 'last_seen'"),
			 0);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.ski, c.ski);
	assert_string_equal(got.aki, c.aki);
	assert_string_equal(got.cert_sha256, c.cert_sha256);
	crt_cert_clear(&got);
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&c, &pb), crt_now(), NULL), CRT_OK);
	/* A row whose PEM cannot be read keeps no key identifiers: never admitted. */
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&bad, &pb), crt_now(), NULL),
			 CRT_E_CERT_MISMATCH);
	crt_cert_clear(&c);
	crt_cert_clear(&bad);
	tu_instance_free(&ti);
}

static void a_store_from_a_newer_crtoken_is_refused(void **s)
{
	test_instance ti;
	char db[512];
	sqlite3 *h;
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	/* (a newer crtoken that also says its store is not for older builds) */
	sqlite3_exec(h, "PRAGMA user_version = 99; UPDATE meta SET value = 99 WHERE key = 'min_compatible'",
		     NULL, NULL, NULL);
	sqlite3_close(h);
	assert_int_equal(open_status(&ti, 0, NULL, 0), CRT_E_STORE_VERSION);
	tu_instance_free(&ti);
}

/* A store one schema ahead of this build (a node upgraded first in a
 * rolling upgrade) stays usable while its min_compatible says an expand-only
 * migration made it; it is refused once a contracting one raised it. */
static void set_future_schema(const char *db, int64_t min_compatible)
{
	sqlite3 *h;
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "PRAGMA user_version = %d; UPDATE meta SET value = %lld WHERE key = 'min_compatible'",
		 store_schema_version() + 1, (long long)min_compatible);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static void a_newer_store_whose_min_compatible_allows_this_build_is_used(void **s)
{
	test_instance ti;
	char db[512];
	crt_token_spec spec = {.name = "rolling"};
	crt_token t;
	char tok[CRT_TOKEN_STRLEN + 1];
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	set_future_schema(db, store_schema_version());
	tu_open(&ti);
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", &t, tok), CRT_OK);
	crt_token_clear(&t);
	/* never migrated "back" or forward by the older build */
	assert_int_equal(tu_sql_int(db, "PRAGMA user_version"), store_schema_version() + 1);
	tu_instance_free(&ti);
}

static void a_newer_store_whose_min_compatible_is_beyond_this_build_is_refused(void **s)
{
	test_instance ti;
	char db[512];
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	set_future_schema(db, store_schema_version() + 1);
	assert_int_equal(open_status(&ti, 0, NULL, 0), CRT_E_STORE_VERSION);
	assert_int_equal(open_status(&ti, CRT_OPEN_READONLY | CRT_OPEN_NO_CA, NULL, 0),
			 CRT_E_STORE_VERSION);
	tu_instance_free(&ti);
}

/* Schema 6 renames the two columns called user (reserved in PostgreSQL):
 * the rows keep their values and every reader finds them. */
static void the_user_columns_become_username_and_keep_their_values(void **s)
{
	test_instance ti;
	char db[512];
	sqlite3 *h;
	crt_otp_info o;
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	tu_open(&ti);
	char *uri = NULL, *b32 = NULL;
	assert_int_equal(crt_otp_enroll(ti.ctx, "alice", NULL, 0, 0, NULL, "t", &uri, &b32), CRT_OK);
	free(uri);
	free(b32);
	crt_close(ti.ctx);
	ti.ctx = NULL;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
				      UNDO_AFTER_6 "ALTER TABLE otp RENAME COLUMN username TO user;"
				      "ALTER TABLE certificates RENAME COLUMN username TO user;"
				      "DELETE FROM meta WHERE key = 'min_compatible';"
				      "PRAGMA user_version = 5",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	tu_open(&ti);
	assert_int_equal(tu_sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM otp WHERE username = 'alice'"), 1);
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM pragma_table_info('otp') "
					"WHERE name = 'user'"),
			 0);
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM pragma_table_info('certificates') "
					"WHERE name = 'user'"),
			 0);
	assert_int_equal(tu_sql_int(db, "SELECT value FROM meta WHERE key = 'min_compatible'"), 6);
	assert_int_equal(crt_otp_get(ti.ctx, "alice", &o), CRT_OK);
	assert_string_equal(o.user, "alice");
	crt_otp_info_clear(&o);
	tu_instance_free(&ti);
}

static void a_missing_store_is_unavailable_not_silently_created(void **s)
{
	test_instance ti;
	char db[512];
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	unlink(db);
	assert_int_equal(open_status(&ti, 0, NULL, 0), CRT_E_STORE_UNAVAILABLE);
	assert_int_not_equal(access(db, F_OK), 0);
	tu_instance_free(&ti);
}

static void a_world_writable_store_is_refused(void **s)
{
	test_instance ti;
	char db[512];
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	chmod(db, 0666);
	assert_int_equal(open_status(&ti, 0, NULL, 0), CRT_E_UNSAFE_PERMISSIONS);
	tu_instance_free(&ti);
}

static void a_ca_key_readable_by_others_is_refused(void **s)
{
	test_instance ti;
	char key[512], detail[512];
	tu_instance_init(&ti, NULL);
	snprintf(key, sizeof(key), "%s/ca.key", ti.dir);
	chmod(key, 0644);
	assert_int_equal(open_status(&ti, 0, detail, sizeof(detail)), CRT_E_UNSAFE_PERMISSIONS);
	assert_non_null(strstr(detail, "ca.key"));
	chmod(key, 0640); /* group-readable is refused too */
	assert_int_equal(open_status(&ti, 0, NULL, 0), CRT_E_UNSAFE_PERMISSIONS);
	/* ... but components that never touch the CA key still open. */
	assert_int_equal(open_status(&ti, CRT_OPEN_NO_CA, NULL, 0), CRT_OK);
	tu_instance_free(&ti);
}

static void a_key_that_does_not_match_the_ca_is_refused(void **s)
{
	test_instance a, b;
	char src[512], dst[512], cmd[1100];
	tu_instance_init(&a, NULL);
	tu_instance_init(&b, NULL);
	snprintf(src, sizeof(src), "%s/ca.key", b.dir);
	snprintf(dst, sizeof(dst), "%s/ca.key", a.dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(open_status(&a, 0, NULL, 0), CRT_E_CA_KEY_MISMATCH);
	tu_instance_free(&a);
	tu_instance_free(&b);
}

static void init_refuses_to_overwrite_an_instance(void **s)
{
	test_instance ti;
	char err[256];
	tu_instance_init(&ti, NULL);
	crt_init_opts o = {.dir = ti.dir};
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_E_EXISTS);
	tu_instance_free(&ti);
}

static void init_with_a_bad_subject_leaves_nothing_behind(void **s)
{
	char dir[256], err[256];
	snprintf(dir, sizeof(dir), "%s/crtoken-unit.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	crt_init_opts o = {.dir = dir, .ca_subject = "no-slash"};
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_E_INVALID_ARGUMENT);
	o.ca_subject = NULL;
	o.ca_key_type = "dsa-1024";
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_E_KEY_TYPE);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
	assert_int_equal(system(cmd), 0);
	tu_rmrf(dir);
}

static void init_can_import_an_existing_ca_with_its_chain(void **s)
{
	test_instance src, dst;
	char err[512], cert[512], key[512], chain[512];
	tu_instance_init(&src, "ec-p384");
	snprintf(cert, sizeof(cert), "%s/ca.pem", src.dir);
	snprintf(key, sizeof(key), "%s/ca.key", src.dir);
	snprintf(chain, sizeof(chain), "%s/ca.pem", src.dir); /* any PEM chain */
	memset(&dst, 0, sizeof(dst));
	snprintf(dst.dir, sizeof(dst.dir), "%s/crtoken-unit.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dst.dir));
	strcat(dst.dir, "/i");
	snprintf(dst.conf, sizeof(dst.conf), "%s/crtoken.conf", dst.dir);
	crt_init_opts o = {.dir = dst.dir, .import_cert = cert, .import_key = key,
			   .import_chain = chain};
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_OK);
	tu_open(&dst);
	crt_ca_info ci;
	assert_int_equal(crt_ca_get(dst.ctx, &ci), CRT_OK);
	assert_string_equal(ci.key_type, "ec-p384");
	assert_string_equal(ci.subject, "/CN=Unit Test CA/O=crtoken tests");
	/* chain = our CA followed by the imported chain */
	char *second = strstr(ci.chain_pem + 10, "BEGIN CERTIFICATE");
	assert_non_null(second);
	crt_ca_info_clear(&ci);
	tu_instance_free(&src);
	tu_instance_free(&dst);
}

/* What make_ca_files leaves out of the crtoken CA profile. */
enum { CA_NO_SKI = 1, CA_NO_BASIC_CONSTRAINTS = 2, CA_NO_CRL_SIGN = 4, CA_EXPIRED = 8 };

static void add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A self-signed CA "/CN=Imported CA" with a keytype key (tu_key), written
 * to dir/imported.pem and dir/imported.key (0600): the crtoken CA profile
 * but for what leave_out takes away. */
static void make_ca_files(const char *dir, const char *keytype, unsigned leave_out, char *cert,
			  char *key, size_t n)
{
	EVP_PKEY *k = tu_key(keytype);
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	FILE *f;

	assert_non_null(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"Imported CA",
				   -1, -1, 0);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_gmtime_adj(X509_getm_notBefore(x), (leave_out & CA_EXPIRED) ? -10 * 86400L : -300);
	X509_gmtime_adj(X509_getm_notAfter(x), (leave_out & CA_EXPIRED) ? -86400L : 365 * 86400L);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (!(leave_out & CA_NO_BASIC_CONSTRAINTS))
		add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, &v3, NID_key_usage,
		(leave_out & CA_NO_CRL_SIGN) ? "critical,keyCertSign" : "critical,keyCertSign,cRLSign");
	if (!(leave_out & CA_NO_SKI))
		add_ext(x, &v3, NID_subject_key_identifier, "hash");
	int id = EVP_PKEY_get_base_id(k);
	assert_true(X509_sign(x, k, id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL
										    : EVP_sha256()) > 0);
	snprintf(cert, n, "%s/imported.pem", dir);
	snprintf(key, n, "%s/imported.key", dir);
	assert_non_null(f = fopen(cert, "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	assert_non_null(f = fopen(key, "w"));
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* crt_ca_import of such a CA into a fresh instance: the status, the detail
 * holding want, and the instance's own CA left in place on refusal. */
static crt_status import_made_ca(const char *keytype, unsigned leave_out, const char *want)
{
	test_instance ti;
	char cert[512], key[512];
	crt_ca_info ci;
	tu_instance_init(&ti, NULL);
	tu_open(&ti);
	make_ca_files(ti.dir, keytype, leave_out, cert, key, sizeof(cert));
	crt_status r = crt_ca_import(ti.ctx, cert, key, NULL, "test");
	if (want != NULL && strstr(crt_errdetail(ti.ctx), want) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", crt_errdetail(ti.ctx), want);
	assert_int_equal(crt_ca_get(ti.ctx, &ci), CRT_OK);
	assert_string_equal(ci.subject, r == CRT_OK ? "/CN=Imported CA"
						   : "/CN=Unit Test CA/O=crtoken tests");
	crt_ca_info_clear(&ci);
	tu_instance_free(&ti);
	return r;
}

static void import_of_a_well_formed_ca_is_accepted(void **s)
{
	assert_int_equal(import_made_ca("ec-p256", 0, NULL), CRT_OK);
	assert_int_equal(import_made_ca("rsa-2048", 0, NULL), CRT_OK);
	assert_int_equal(import_made_ca("ed25519", 0, NULL), CRT_OK);
}

static void import_of_a_ca_without_subject_key_identifier_is_refused(void **s)
{
	assert_int_equal(import_made_ca("ec-p256", CA_NO_SKI, "no Subject Key Identifier"),
			 CRT_E_CA_INVALID);
}

/* keyUsage keyCertSign without basicConstraints: X509_check_ca alone takes it. */
static void import_of_a_non_ca_certificate_is_refused(void **s)
{
	assert_int_equal(import_made_ca("ec-p256", CA_NO_BASIC_CONSTRAINTS,
					"no basicConstraints CA:TRUE"),
			 CRT_E_CA_INVALID);
}

static void import_of_a_ca_whose_key_usage_lacks_crl_sign_is_refused(void **s)
{
	assert_int_equal(import_made_ca("ec-p256", CA_NO_CRL_SIGN, "lacks cRLSign"),
			 CRT_E_CA_INVALID);
}

static void import_of_an_expired_ca_is_refused(void **s)
{
	assert_int_equal(import_made_ca("ec-p256", CA_EXPIRED, "has expired"), CRT_E_CA_INVALID);
}

static void import_of_a_1024_bit_rsa_ca_is_refused(void **s)
{
	assert_int_equal(import_made_ca("rsa-1024", 0, "RSA key of 1024 bits"), CRT_E_CA_INVALID);
}

static void import_of_a_ca_on_a_curve_other_than_p256_or_p384_is_refused(void **s)
{
	assert_int_equal(import_made_ca("ec-secp256k1", 0, "use P-256 or P-384"), CRT_E_CA_INVALID);
	assert_int_equal(import_made_ca("ed448", 0, "key type"), CRT_E_CA_INVALID);
}

/* crtoken-admin init --import-cert/--import-key holds the CA to the same rules. */
static void init_importing_a_ca_without_subject_key_identifier_is_refused(void **s)
{
	test_instance src;
	char err[512], cert[512], key[512], dir[600];
	tu_instance_init(&src, NULL);
	make_ca_files(src.dir, "ec-p256", CA_NO_SKI, cert, key, sizeof(cert));
	snprintf(dir, sizeof(dir), "%s/new", src.dir);
	crt_init_opts o = {.dir = dir, .import_cert = cert, .import_key = key};
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_E_CA_INVALID);
	assert_non_null(strstr(err, "no Subject Key Identifier"));
	make_ca_files(src.dir, "rsa-1024", 0, cert, key, sizeof(cert));
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_E_CA_INVALID);
	assert_non_null(strstr(err, "RSA key of 1024 bits"));
	make_ca_files(src.dir, "rsa-2048", 0, cert, key, sizeof(cert));
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_OK);
	tu_instance_free(&src);
}

static void unknown_config_keys_are_errors(void **s)
{
	test_instance ti;
	char detail[512];
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, "[ca]\ncert_dayz = 10\n");
	assert_int_equal(open_status(&ti, 0, detail, sizeof(detail)), CRT_E_CONFIG);
	assert_non_null(strstr(detail, "cert_dayz"));
	tu_instance_free(&ti);
}

static void out_of_range_config_values_are_errors(void **s)
{
	const char *bad[] = {
		"[ca]\ncert_days = 0\n",		"[ca]\ncert_days = ten\n",
		"[store]\ndurability = sometimes\n",	"[tokens]\nlifetime = 100d\n",
		"[otp]\ndigits = 7\n",			"[server]\nplain_http = maybe\n",
		"[server]\ntls_cert = a.pem\n",		"[otp]\nalgorithm = MD5\n",
		"[nosuchsection]\nx = 1\n",		"this is not ini\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_instance ti;
		tu_instance_init(&ti, NULL);
		tu_config_append(&ti, bad[i]);
		assert_int_equal(open_status(&ti, 0, NULL, 0), CRT_E_CONFIG);
		tu_instance_free(&ti);
	}
}

static void a_missing_config_is_reported_as_such(void **s)
{
	crt_ctx *ctx;
	assert_int_equal(crt_open("/nonexistent/crtoken.conf", 0, &ctx), CRT_E_CONFIG_NOT_FOUND);
	assert_non_null(strstr(crt_errdetail(ctx), "/nonexistent/crtoken.conf"));
	crt_close(ctx);
}

static void relative_paths_resolve_against_the_config_directory(void **s)
{
	test_instance ti;
	tu_instance(&ti);
	const crt_config *cfg = crt_get_config(ti.ctx);
	char want[600];
	snprintf(want, sizeof(want), "%s/crtoken.db", cfg->dir);
	assert_string_equal(cfg->database, want);
	assert_int_equal(cfg->cert_days, 365);
	assert_int_equal(cfg->token_lifetime, 7 * 86400);
	assert_int_equal(cfg->require_login, 1);
	assert_int_equal(cfg->plain_http, 0);
	tu_instance_free(&ti);
}

static void crtoken_conf_environment_variable_selects_the_config(void **s)
{
	test_instance ti;
	crt_ctx *ctx;
	tu_instance_init(&ti, NULL);
	setenv("CRTOKEN_CONF", ti.conf, 1);
	assert_string_equal(crt_config_default_path(), ti.conf);
	assert_int_equal(crt_open(NULL, 0, &ctx), CRT_OK);
	crt_close(ctx);
	unsetenv("CRTOKEN_CONF");
	tu_instance_free(&ti);
}

static void a_read_only_connection_can_look_up_but_not_write(void **s)
{
	test_instance ti;
	crt_ctx *ro;
	char tok[CRT_TOKEN_STRLEN + 1];
	tu_instance(&ti);
	assert_int_equal(crt_open(ti.conf, CRT_OPEN_READONLY | CRT_OPEN_NO_CA, &ro), CRT_OK);
	crt_token_spec spec = {.name = "ro"};
	assert_int_equal(crt_token_create(ro, &spec, "t", NULL, tok), CRT_E_STORE_UNAVAILABLE);
	crt_token *list;
	size_t n;
	assert_int_equal(crt_token_list(ro, -1, &list, &n), CRT_OK);
	crt_token_list_free(list, n);
	crt_close(ro);
	tu_instance_free(&ti);
}

static void every_status_has_a_unique_machine_name_and_a_message(void **s)
{
	for (int i = 0; i < CRT_STATUS_COUNT; i++) {
		const char *n = crt_status_name((crt_status)i);
		assert_true(strlen(n) > 1);
		assert_true(strlen(crt_status_message((crt_status)i)) > 3);
		assert_int_equal(crt_status_from_name(n), i);
		for (int j = i + 1; j < CRT_STATUS_COUNT; j++)
			assert_string_not_equal(n, crt_status_name((crt_status)j));
	}
	assert_string_equal(crt_status_name(CRT_E_TOKEN_EXPIRED), "token_expired");
	assert_string_equal(crt_status_name(CRT_E_TOKEN_USED), "token_used");
	assert_string_equal(crt_status_name(CRT_E_TOKEN_MISTYPED), "token_mistyped");
	assert_string_equal(crt_status_name(CRT_E_CSR_BAD_SIGNATURE), "csr_bad_signature");
	assert_string_equal(crt_status_name(CRT_E_CSR_WEAK_KEY), "csr_weak_key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_creates_a_migrated_store_with_safe_modes),
		cmocka_unit_test(an_empty_store_file_is_migrated_forward),
		cmocka_unit_test(a_schema_1_store_gains_token_versions),
		cmocka_unit_test(a_store_before_key_identifiers_is_migrated_and_back_filled),
		cmocka_unit_test(a_store_from_a_newer_crtoken_is_refused),
		cmocka_unit_test(a_newer_store_whose_min_compatible_allows_this_build_is_used),
		cmocka_unit_test(a_newer_store_whose_min_compatible_is_beyond_this_build_is_refused),
		cmocka_unit_test(the_user_columns_become_username_and_keep_their_values),
		cmocka_unit_test(a_missing_store_is_unavailable_not_silently_created),
		cmocka_unit_test(a_world_writable_store_is_refused),
		cmocka_unit_test(a_ca_key_readable_by_others_is_refused),
		cmocka_unit_test(a_key_that_does_not_match_the_ca_is_refused),
		cmocka_unit_test(init_refuses_to_overwrite_an_instance),
		cmocka_unit_test(init_with_a_bad_subject_leaves_nothing_behind),
		cmocka_unit_test(init_can_import_an_existing_ca_with_its_chain),
		cmocka_unit_test(import_of_a_well_formed_ca_is_accepted),
		cmocka_unit_test(import_of_a_ca_without_subject_key_identifier_is_refused),
		cmocka_unit_test(import_of_a_non_ca_certificate_is_refused),
		cmocka_unit_test(import_of_a_ca_whose_key_usage_lacks_crl_sign_is_refused),
		cmocka_unit_test(import_of_an_expired_ca_is_refused),
		cmocka_unit_test(import_of_a_1024_bit_rsa_ca_is_refused),
		cmocka_unit_test(import_of_a_ca_on_a_curve_other_than_p256_or_p384_is_refused),
		cmocka_unit_test(init_importing_a_ca_without_subject_key_identifier_is_refused),
		cmocka_unit_test(unknown_config_keys_are_errors),
		cmocka_unit_test(out_of_range_config_values_are_errors),
		cmocka_unit_test(a_missing_config_is_reported_as_such),
		cmocka_unit_test(relative_paths_resolve_against_the_config_directory),
		cmocka_unit_test(crtoken_conf_environment_variable_selects_the_config),
		cmocka_unit_test(a_read_only_connection_can_look_up_but_not_write),
		cmocka_unit_test(every_status_has_a_unique_machine_name_and_a_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
