/*
 * test_files.c — the files libcrtoken trusts: who may own the config, the
 * store (and the directories above it, and its -wal/-shm) and the keys, and
 * what happens when someone else does or can write them; config lines inih
 * would split; writing output files (crt_file_write). Ownership cases chown to `nobody`, so they need root (they
 * are skipped otherwise).
 */
#include "testutil.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define NOBODY 65534

static crt_status open_status(const char *conf, unsigned flags, char *detail, size_t n)
{
	crt_ctx *ctx;
	crt_status r = crt_open(conf, flags, &ctx);
	if (detail)
		snprintf(detail, n, "%s", crt_errdetail(ctx));
	crt_close(ctx);
	return r;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* In ti's directory: path of name. */
static void in_dir(const test_instance *ti, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", ti->dir, name);
}

/* Open ti and expect unsafe_permissions with needle in the detail. */
static void expect_unsafe(const test_instance *ti, unsigned flags, const char *needle)
{
	char detail[600];
	crt_status r = open_status(ti->conf, flags, detail, sizeof(detail));
	if (r != CRT_E_UNSAFE_PERMISSIONS || strstr(detail, needle) == NULL)
		fail_msg("expected unsafe_permissions mentioning \"%s\", got %s: %s", needle,
			 crt_status_name(r), detail);
}

/* ---------------------------------------------------------------- config */

static void a_config_owned_by_another_user_is_refused(void **s)
{
	test_instance ti;
	need_root();
	tu_instance_init(&ti, NULL);
	assert_int_equal(chown(ti.conf, NOBODY, NOBODY), 0);
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "owned by uid 65534");
	tu_instance_free(&ti);
}

static void a_group_or_world_writable_config_is_refused(void **s)
{
	test_instance ti;
	tu_instance_init(&ti, NULL);
	chmod(ti.conf, 0660);
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "crtoken.conf is accessible to others (mode 0660)");
	chmod(ti.conf, 0646);
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "crtoken.conf");
	chmod(ti.conf, 0644); /* readable is fine: it holds no secret */
	assert_int_equal(open_status(ti.conf, CRT_OPEN_NO_CA, NULL, 0), CRT_OK);
	tu_instance_free(&ti);
}

static void a_config_symlink_to_another_users_file_is_refused(void **s)
{
	test_instance ti;
	char other[600], link[600];
	need_root();
	tu_instance_init(&ti, NULL);
	in_dir(&ti, "other.conf", other, sizeof(other));
	in_dir(&ti, "link.conf", link, sizeof(link));
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", ti.conf, other);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chown(other, NOBODY, NOBODY), 0);
	assert_int_equal(symlink(other, link), 0);
	/* checked on what was opened, not on the name given */
	char detail[600];
	assert_int_equal(open_status(link, CRT_OPEN_NO_CA, detail, sizeof(detail)),
			 CRT_E_UNSAFE_PERMISSIONS);
	assert_non_null(strstr(detail, "owned by uid 65534"));
	tu_instance_free(&ti);
}

/* L11: inih reads lines into a 200-byte buffer and parses what is left of
 * a longer line as a new line, so a comment's tail became a key. */
static void a_key_hidden_in_the_tail_of_a_long_comment_line_is_refused(void **s)
{
	test_instance ti;
	char line[400], detail[600];
	tu_instance_init(&ti, NULL);
	memset(line, 0, sizeof(line));
	strcpy(line, "\n[server]\n# ");
	size_t n = strlen(line);
	memset(line + n, 'x', 199 - 2); /* the comment fills inih's buffer ... */
	strcat(line, "require_login = no\n"); /* ... and this tail would be a key */
	tu_config_append(&ti, line);
	assert_int_equal(open_status(ti.conf, CRT_OPEN_NO_CA, detail, sizeof(detail)),
			 CRT_E_CONFIG);
	assert_non_null(strstr(detail, "is longer than 198 bytes"));
	tu_instance_free(&ti);
}

static void a_config_line_of_198_bytes_is_read_whole(void **s)
{
	test_instance ti;
	char line[400] = {0};
	crt_ctx *ctx;
	tu_instance_init(&ti, NULL);
	/* a value of exactly the longest allowed line: "issuer = " + 189 */
	strcpy(line, "\n[otp]\nissuer = ");
	size_t n = strlen(line);
	memset(line + n, 'i', 198 - 9);
	strcat(line, "\n");
	tu_config_append(&ti, line);
	assert_int_equal(crt_open(ti.conf, CRT_OPEN_NO_CA, &ctx), CRT_OK);
	assert_int_equal(strlen(crt_get_config(ctx)->otp_issuer), 198 - 9);
	crt_close(ctx);
	tu_instance_free(&ti);
}

static void a_nul_byte_in_the_config_is_refused(void **s)
{
	test_instance ti;
	char detail[600];
	tu_instance_init(&ti, NULL);
	FILE *f = fopen(ti.conf, "a");
	assert_non_null(f);
	fputs("# x", f);
	fputc('\0', f);
	fputs("\n[server]\nrequire_login = no\n", f);
	fclose(f);
	assert_int_equal(open_status(ti.conf, CRT_OPEN_NO_CA, detail, sizeof(detail)),
			 CRT_E_CONFIG);
	assert_non_null(strstr(detail, "NUL"));
	tu_instance_free(&ti);
}

/* ---------------------------------------------------------------- store */

static void a_store_owned_by_another_user_is_refused(void **s)
{
	test_instance ti;
	char db[600];
	need_root();
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	assert_int_equal(chown(db, NOBODY, NOBODY), 0);
	expect_unsafe(&ti, CRT_OPEN_NO_CA | CRT_OPEN_READONLY, "crtoken.db is owned by uid 65534");
	tu_instance_free(&ti);
}

static void a_store_wal_file_owned_by_another_user_is_refused(void **s)
{
	test_instance ti;
	char wal[600];
	need_root();
	tu_instance_init(&ti, NULL);
	in_dir(&ti, "crtoken.db-wal", wal, sizeof(wal));
	assert_int_equal(access(wal, F_OK), 0); /* kept: PERSIST_WAL */
	assert_int_equal(chown(wal, NOBODY, NOBODY), 0);
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "crtoken.db-wal is owned by uid 65534");
	tu_instance_free(&ti);
}

static void a_store_that_is_a_symlink_is_refused(void **s)
{
	test_instance ti;
	char db[600], real[600];
	tu_instance_init(&ti, NULL);
	tu_db_path(&ti, db, sizeof(db));
	in_dir(&ti, "real.db", real, sizeof(real));
	assert_int_equal(rename(db, real), 0);
	assert_int_equal(symlink(real, db), 0);
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "crtoken.db is a symbolic link");
	tu_instance_free(&ti);
}

static void a_store_in_a_directory_others_can_write_is_refused(void **s)
{
	test_instance ti;
	tu_instance_init(&ti, NULL);
	chmod(ti.dir, 0770); /* group members could swap the store or plant its -wal */
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "is writable by others (mode 0770)");
	chmod(ti.dir, 01777); /* sticky does not help for the store's own directory */
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "is writable by others (mode 1777)");
	chmod(ti.dir, 0755);
	assert_int_equal(open_status(ti.conf, CRT_OPEN_NO_CA, NULL, 0), CRT_OK);
	tu_instance_free(&ti);
}

static void a_store_below_a_directory_owned_by_another_user_is_refused(void **s)
{
	test_instance ti;
	char parent[300];
	need_root();
	tu_instance_init(&ti, NULL);
	snprintf(parent, sizeof(parent), "%s", ti.dir);
	*strrchr(parent, '/') = '\0';
	/* nobody could rename the instance directory away and put their own */
	assert_int_equal(chown(parent, NOBODY, NOBODY), 0);
	expect_unsafe(&ti, CRT_OPEN_NO_CA, "owned by uid 65534");
	assert_int_equal(chown(parent, 0, 0), 0);
	assert_int_equal(open_status(ti.conf, CRT_OPEN_NO_CA, NULL, 0), CRT_OK);
	tu_instance_free(&ti);
}

/* ---------------------------------------------------------------- keys */

static void a_ca_key_owned_by_another_user_is_refused(void **s)
{
	test_instance ti;
	char key[600];
	need_root();
	tu_instance_init(&ti, NULL);
	in_dir(&ti, "ca.key", key, sizeof(key));
	assert_int_equal(chown(key, NOBODY, NOBODY), 0);
	expect_unsafe(&ti, 0, "ca.key is owned by uid 65534");
	tu_instance_free(&ti);
}

static void a_ca_certificate_others_can_write_is_refused(void **s)
{
	test_instance ti;
	char cert[600];
	tu_instance_init(&ti, NULL);
	in_dir(&ti, "ca.pem", cert, sizeof(cert));
	chmod(cert, 0666);
	expect_unsafe(&ti, 0, "ca.pem is accessible to others");
	tu_instance_free(&ti);
}

static void an_otp_key_owned_by_another_user_is_refused(void **s)
{
	test_instance ti;
	char key[600];
	char *uri = NULL, *secret = NULL;
	need_root();
	tu_instance(&ti);
	in_dir(&ti, "otp.key", key, sizeof(key));
	assert_int_equal(chown(key, NOBODY, NOBODY), 0);
	crt_close(ti.ctx); /* the key is read when the instance opens */
	assert_int_equal(crt_open(ti.conf, 0, &ti.ctx), CRT_OK);
	crt_status r = crt_otp_enroll(ti.ctx, "alice", NULL, 0, 0, NULL, "test", &uri, &secret);
	assert_int_equal(r, CRT_E_UNSAFE_PERMISSIONS);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "otp.key is owned by uid 65534"));
	assert_null(secret);
	tu_instance_free(&ti);
}

/* ---------------------------------------------------------------- init */

static void init_into_a_directory_owned_by_another_user_is_refused(void **s)
{
	char base[256], dir[300], err[600], path[400];
	crt_init_opts o = {0};
	need_root();
	snprintf(base, sizeof(base), "%s/crtoken-unit.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/i", base);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
	o.dir = dir;
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_E_UNSAFE_PERMISSIONS);
	assert_non_null(strstr(err, "owned by uid 65534"));
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	assert_int_equal(access(path, F_OK), -1); /* nothing written there */
	tu_rmrf(base);
}

static void init_into_a_world_writable_directory_is_refused(void **s)
{
	char base[256], dir[300], err[600], path[400];
	crt_init_opts o = {0};
	snprintf(base, sizeof(base), "%s/crtoken-unit.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/i", base);
	assert_int_equal(mkdir(dir, 0700), 0);
	chmod(dir, 01777);
	o.dir = dir;
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_E_UNSAFE_PERMISSIONS);
	assert_non_null(strstr(err, "writable by others"));
	snprintf(path, sizeof(path), "%s/otp.key", dir);
	assert_int_equal(access(path, F_OK), -1);
	tu_rmrf(base);
}

/* ---------------------------------------------------------------- output files */

static void scratch(char *dir, size_t n)
{
	snprintf(dir, n, "%s/crtoken-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void an_output_path_that_is_a_symlink_to_a_victim_file_is_not_followed(void **s)
{
	char d[256], victim[300], out[300], err[600];
	scratch(d, sizeof(d));
	snprintf(victim, sizeof(victim), "%s/victim", d);
	snprintf(out, sizeof(out), "%s/out.pem", d);
	FILE *f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(symlink(victim, out), 0);
	assert_int_equal(crt_file_write(out, "CERT\n", 5, 0644, CRT_WRITE_REPLACE, err, sizeof(err)),
			 CRT_E_UNSAFE_PERMISSIONS);
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_string_equal(slurp(victim), "precious\n");
	/* a dangling one (pointing where a file would be created) neither */
	assert_int_equal(unlink(victim), 0);
	assert_int_equal(crt_file_write(out, "CERT\n", 5, 0644, CRT_WRITE_REPLACE, err, sizeof(err)),
			 CRT_E_UNSAFE_PERMISSIONS);
	assert_int_equal(access(victim, F_OK), -1);
	tu_rmrf(d);
}

static void an_existing_file_is_replaced_by_a_new_inode_it_never_receives_the_data(void **s)
{
	char d[256], out[300], keep[300], err[600];
	struct stat st;
	scratch(d, sizeof(d));
	snprintf(out, sizeof(out), "%s/qr.png", d);
	snprintf(keep, sizeof(keep), "%s/keep", d);
	/* someone else's file, world-readable, with a second name to watch it */
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0666);
	assert_true(fd >= 0);
	close(fd);
	chmod(out, 0666);
	assert_int_equal(link(out, keep), 0);
	assert_int_equal(crt_file_write(out, "SECRET", 6, 0600, CRT_WRITE_REPLACE, err, sizeof(err)),
			 CRT_OK);
	assert_string_equal(slurp(out), "SECRET");
	assert_string_equal(slurp(keep), ""); /* the old inode got nothing */
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_nlink, 1);
	tu_rmrf(d);
}

static void without_replace_an_existing_file_is_kept_and_reported(void **s)
{
	char d[256], out[300], err[600];
	scratch(d, sizeof(d));
	snprintf(out, sizeof(out), "%s/a.key", d);
	assert_int_equal(crt_file_write(out, "one", 3, 0600, 0, err, sizeof(err)), CRT_OK);
	assert_int_equal(crt_file_write(out, "two", 3, 0600, 0, err, sizeof(err)), CRT_E_EXISTS);
	assert_non_null(strstr(err, "already exists"));
	assert_string_equal(slurp(out), "one");
	tu_rmrf(d);
}

static void a_written_file_has_its_mode_whatever_the_umask_and_no_temporary_is_left(void **s)
{
	char d[256], out[300], err[600], cmd[400];
	struct stat st;
	scratch(d, sizeof(d));
	snprintf(out, sizeof(out), "%s/x", d);
	mode_t old = umask(0);
	assert_int_equal(crt_file_write(out, "k", 1, 0600, 0, err, sizeof(err)), CRT_OK);
	umask(old);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", d);
	assert_int_equal(system(cmd), 0);
	/* a directory that does not exist: an error, nothing created */
	snprintf(out, sizeof(out), "%s/no/such", d);
	assert_int_equal(crt_file_write(out, "k", 1, 0600, 0, err, sizeof(err)), CRT_E_IO);
	assert_non_null(strstr(err, "cannot create"));
	tu_rmrf(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_config_owned_by_another_user_is_refused),
		cmocka_unit_test(a_group_or_world_writable_config_is_refused),
		cmocka_unit_test(a_config_symlink_to_another_users_file_is_refused),
		cmocka_unit_test(a_key_hidden_in_the_tail_of_a_long_comment_line_is_refused),
		cmocka_unit_test(a_config_line_of_198_bytes_is_read_whole),
		cmocka_unit_test(a_nul_byte_in_the_config_is_refused),
		cmocka_unit_test(a_store_owned_by_another_user_is_refused),
		cmocka_unit_test(a_store_wal_file_owned_by_another_user_is_refused),
		cmocka_unit_test(a_store_that_is_a_symlink_is_refused),
		cmocka_unit_test(a_store_in_a_directory_others_can_write_is_refused),
		cmocka_unit_test(a_store_below_a_directory_owned_by_another_user_is_refused),
		cmocka_unit_test(a_ca_key_owned_by_another_user_is_refused),
		cmocka_unit_test(a_ca_certificate_others_can_write_is_refused),
		cmocka_unit_test(an_otp_key_owned_by_another_user_is_refused),
		cmocka_unit_test(init_into_a_directory_owned_by_another_user_is_refused),
		cmocka_unit_test(init_into_a_world_writable_directory_is_refused),
		cmocka_unit_test(an_output_path_that_is_a_symlink_to_a_victim_file_is_not_followed),
		cmocka_unit_test(an_existing_file_is_replaced_by_a_new_inode_it_never_receives_the_data),
		cmocka_unit_test(without_replace_an_existing_file_is_kept_and_reported),
		cmocka_unit_test(a_written_file_has_its_mode_whatever_the_umask_and_no_temporary_is_left),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
