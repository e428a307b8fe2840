/*
 * util.c — small helpers shared by libcrtoken's files: strings, the audit
 * JSON builder, randomness, ids, hashing, base64url, whole-file I/O with
 * safe permissions, field validation, times and durations.
 */
#define _GNU_SOURCE /* mkostemp, renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "internal.h"

char *dup_str(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

void crt_freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

void crt_strfree_secret(char *s)
{
	if (s != NULL)
		crt_freezero(s, strlen(s));
}

int64_t crt_now(void)
{
	return (int64_t)time(NULL);
}

int array_grow(void *list, size_t *cap, size_t n, size_t size)
{
	void **lp = list;
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *nl = realloc(*lp, ncap * size);
	if (nl == NULL)
		return -1;
	*lp = nl;
	*cap = ncap;
	return 0;
}

/* ---- JSON detail builder (audit rows; values escaped per RFC 8259) ---- */

static void json_put(jbuf *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 128;
		while (cap < j->len + n + 1)
			cap *= 2;
		char *b = realloc(j->buf, cap);
		if (b == NULL) {
			j->oom = 1;
			return;
		}
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void json_quoted(jbuf *j, const char *s)
{
	json_put(j, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			json_put(j, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			json_put(j, esc, 6);
		} else {
			json_put(j, (const char *)p, 1);
		}
	}
	json_put(j, "\"", 1);
}

static void json_key(jbuf *j, const char *key)
{
	json_put(j, j->n++ ? "," : "{", 1);
	json_quoted(j, key);
	json_put(j, ":", 1);
}

void jb_begin(jbuf *j)
{
	memset(j, 0, sizeof(*j));
}

void jb_str(jbuf *j, const char *key, const char *val)
{
	json_key(j, key);
	if (val == NULL)
		json_put(j, "null", 4);
	else
		json_quoted(j, val);
}

void jb_json(jbuf *j, const char *key, const char *json)
{
	json_key(j, key);
	if (json == NULL)
		json_put(j, "null", 4);
	else
		json_put(j, json, strlen(json));
}

void jb_int(jbuf *j, const char *key, int64_t v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", (long long)v);
	json_key(j, key);
	json_put(j, num, (size_t)n);
}

char *jb_end(jbuf *j)
{
	if (j->n == 0)
		json_put(j, "{", 1);
	json_put(j, "}", 1);
	char *out = j->oom ? NULL : j->buf;
	if (j->oom)
		free(j->buf);
	memset(j, 0, sizeof(*j));
	return out;
}

/* ---- randomness, ids, hashes, encodings ---- */

crt_status random_bytes(unsigned char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = getrandom(buf, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return CRT_E_INTERNAL;
		}
		buf += r;
		n -= (size_t)r;
	}
	return CRT_OK;
}

crt_status make_id(const char *prefix, char out[CRT_ID_LEN])
{
	unsigned char u[16];
	if (random_bytes(u, sizeof(u)) != CRT_OK)
		return CRT_E_INTERNAL;
	u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, CRT_ID_LEN,
		 "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", prefix,
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	return CRT_OK;
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256(data, len, md);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = tbl[v >> 6 & 63];
		out[o++] = tbl[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = tbl[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

/* ---- files ---- */

/* Read all of fd (at most limit bytes) into a malloc'd NUL-terminated buffer. */
static crt_status read_fd(int fd, size_t limit, char **data, size_t *len)
{
	crt_status r = CRT_E_IO;
	char *buf = NULL;
	size_t n = 0, cap = 0;

	*data = NULL;
	if (len)
		*len = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			/* not realloc: the old buffer may hold a key, wipe it */
			size_t ncap = cap ? cap * 2 : 8192;
			char *b = malloc(ncap);
			if (b == NULL) {
				r = CRT_E_NOMEM;
				goto out;
			}
			if (buf != NULL)
				memcpy(b, buf, n);
			crt_freezero(buf, cap);
			buf = b;
			cap = ncap;
		}
		ssize_t got = read(fd, buf + n, 4096);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > limit) /* not the file we expect: a key, a PEM, a config */
			goto out;
	}
	buf[n] = '\0';
	*data = buf;
	buf = NULL;
	if (len)
		*len = n;
	r = CRT_OK;
out:
	if (buf != NULL)
		crt_freezero(buf, cap);
	return r;
}

crt_status read_file(const char *path, size_t limit, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	*data = NULL;
	if (len)
		*len = 0;
	if (fd < 0)
		return CRT_E_IO;
	crt_status r = read_fd(fd, limit, data, len);
	close(fd);
	return r;
}

/* Write all of data to fd. */
static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

crt_status crt_file_write(const char *path, const void *data, size_t len, unsigned mode,
			  unsigned flags, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX], dummy[8];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct stat st;
	int fd = -1, dfd;
	crt_status r = CRT_E_IO;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		snprintf(err, errlen, "%s: not a file name", path);
		return CRT_E_INVALID_ARGUMENT;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s is %s; refusing to write through it", path,
				 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
			return CRT_E_UNSAFE_PERMISSIONS;
		}
		if (!(flags & CRT_WRITE_REPLACE)) {
			snprintf(err, errlen, "%s already exists", path);
			return CRT_E_EXISTS;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return CRT_E_IO;
	}
	if (flags & CRT_WRITE_CHECK)
		return CRT_OK;
	/* A hidden name beside the target: same file system, so rename is atomic. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return CRT_E_IO;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) { /* O_CREAT | O_EXCL: never an existing file */
		snprintf(err, errlen, "%s: cannot create a file there: %s", dir, strerror(errno));
		return CRT_E_IO;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (!(flags & CRT_WRITE_REPLACE)) {
		/* fails if path appeared meanwhile: never replace then (link() where
		 * the file system has no RENAME_NOREPLACE) */
		int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
		if (rc != 0 && errno == EINVAL && (rc = link(tmp, path)) == 0)
			unlink(tmp);
		if (rc != 0) {
			int e = errno;
			snprintf(err, errlen, "%s: %s", path,
				 e == EEXIST ? "already exists" : strerror(e));
			r = e == EEXIST ? CRT_E_EXISTS : CRT_E_IO;
			goto out;
		}
	} else if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd); /* the new name survives a crash */
		close(dfd);
	}
	r = CRT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (r != CRT_OK && tmp[0] != '\0')
		unlink(tmp);
	return r;
}

crt_status write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	return crt_file_write(path, data, len, mode, CRT_WRITE_REPLACE, NULL, 0);
}

/* ---- files libcrtoken trusts (config, store, keys) ---- */

/* The system user crtokend and crtoken-crl.service run as (enroll/
 * crtoken.sysusers). It owns the instance it writes, so the store's other
 * users (radiusd as freerad, root's crtoken-admin, PAM in su) trust its
 * files as they trust root's: it already writes what they read. */
#define CRT_SERVICE_USER "crtoken"

/* May a file or directory owned by uid be trusted: root, the user this runs
 * as, or the crtoken service user (looked up in the passwd database, never
 * in the environment). */
static int owner_trusted(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (uid == 0 || uid == geteuid())
		return 1;
	return getpwnam_r(CRT_SERVICE_USER, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
	       res->pw_uid == uid;
}

/* The refusal of a file or directory someone untrusted owns. */
static crt_status owner_refused(const char *what, const char *path, uid_t uid, char *why,
				size_t n)
{
	snprintf(why, n,
		 "%s%s is owned by uid %u; it must belong to root, to uid %u (the user this "
		 "runs as) or to the " CRT_SERVICE_USER " user",
		 what, path, (unsigned)uid, (unsigned)geteuid());
	return CRT_E_UNSAFE_PERMISSIONS;
}

crt_status fd_trusted(int fd, const char *path, enum crt_trust kind, char *why, size_t n)
{
	struct stat st;
	mode_t bad;
	const char *use;

	if (fstat(fd, &st) != 0) {
		snprintf(why, n, "%s: %s", path, strerror(errno));
		return CRT_E_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, n, "%s is %s", path,
			 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		return CRT_E_UNSAFE_PERMISSIONS;
	}
	if (!owner_trusted(st.st_uid))
		return owner_refused("", path, st.st_uid, why, n);
	switch (kind) {
	case CRT_TRUST_SECRET: /* a private key is for its owner only */
		bad = S_IRWXG | S_IRWXO;
		use = "chmod 600";
		break;
	case CRT_TRUST_STORE: /* token hashes, certificates, sealed secrets */
		bad = S_IWGRP | S_IRWXO;
		use = "use 0600 or 0640";
		break;
	default:
		bad = S_IWGRP | S_IWOTH;
		use = "it must not be writable by group or others";
		break;
	}
	if (st.st_mode & bad) {
		snprintf(why, n, "%s is accessible to others (mode %04o); %s", path,
			 (unsigned)(st.st_mode & 07777), use);
		return CRT_E_UNSAFE_PERMISSIONS;
	}
	return CRT_OK;
}

crt_status open_trusted(const char *path, int oflags, enum crt_trust kind, int *fd,
			    char *why, size_t n)
{
	/* O_NONBLOCK: a FIFO planted at the path must not hang us; harmless for files. */
	int f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | oflags);
	crt_status r;

	*fd = -1;
	if (f < 0) {
		int e = errno;
		if (e == ELOOP && (oflags & O_NOFOLLOW)) {
			snprintf(why, n, "%s is a symbolic link", path);
			return CRT_E_UNSAFE_PERMISSIONS;
		}
		snprintf(why, n, "%s: %s", path, strerror(e));
		errno = e;
		return CRT_E_IO;
	}
	if ((r = fd_trusted(f, path, kind, why, n)) != CRT_OK) {
		close(f);
		return r;
	}
	*fd = f;
	return CRT_OK;
}

crt_status read_trusted(const char *path, size_t limit, enum crt_trust kind, char **data,
			    size_t *len, char *why, size_t n)
{
	int fd;
	crt_status r;

	*data = NULL;
	if (len)
		*len = 0;
	if ((r = open_trusted(path, 0, kind, &fd, why, n)) != CRT_OK)
		return r;
	if ((r = read_fd(fd, limit, data, len)) != CRT_OK)
		snprintf(why, n, "%s: %s", path,
			 r == CRT_E_NOMEM ? "out of memory" : "cannot read (or too large)");
	close(fd);
	return r;
}

/* One directory on the way to a store: owned by root or us, and not
 * writable by others unless sticky (then others cannot replace our entries;
 * the store's own directory gets no such exception: SQLite creates its
 * -wal, -shm and -journal files there). */
static crt_status dir_trusted(const char *dir, int holds_store, char *why, size_t n)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		snprintf(why, n, "%s: %s", dir, strerror(errno));
		return CRT_E_IO;
	}
	if (!owner_trusted(st.st_uid))
		return owner_refused("directory ", dir, st.st_uid, why, n);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (holds_store || !(st.st_mode & S_ISVTX))) {
		snprintf(why, n, "directory %s is writable by others (mode %04o)", dir,
			 (unsigned)(st.st_mode & 07777));
		return CRT_E_UNSAFE_PERMISSIONS;
	}
	return CRT_OK;
}

crt_status dir_chain_trusted(const char *dir, char resolved[PATH_MAX], char *why, size_t n)
{
	char buf[PATH_MAX], *slash;
	crt_status r;

	if (realpath(dir, resolved) == NULL) {
		snprintf(why, n, "%s: %s", dir, strerror(errno));
		return CRT_E_IO;
	}
	if ((r = dir_trusted(resolved, 1, why, n)) != CRT_OK)
		return r;
	snprintf(buf, sizeof(buf), "%s", resolved);
	while ((slash = strrchr(buf, '/')) != NULL && slash != buf) {
		*slash = '\0';
		if ((r = dir_trusted(buf, 0, why, n)) != CRT_OK)
			return r;
	}
	return strcmp(resolved, "/") == 0 ? CRT_OK : dir_trusted("/", 0, why, n);
}

size_t crt_utf8_next(const unsigned char *p, size_t avail, uint32_t *cp)
{
	uint32_t c, min;
	size_t n;

	if (avail == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (i >= avail || (p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* The len bytes at value: valid UTF-8 without control characters (C0, DEL, C1). */
static crt_status utf8_check(const char *value, size_t len)
{
	const unsigned char *p = (const unsigned char *)value, *end = p + len;
	uint32_t cp;
	size_t n;

	for (; p < end; p += n)
		if ((n = crt_utf8_next(p, (size_t)(end - p), &cp)) == 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp < 0xa0))
			return CRT_E_FIELD_INVALID;
	return CRT_OK;
}

crt_status field_check(const char *value, size_t maxlen)
{
	if (strlen(value) > maxlen)
		return CRT_E_FIELD_INVALID;
	return utf8_check(value, strlen(value));
}

crt_status field_check_n(const char *value, size_t len)
{
	return utf8_check(value, len);
}

/* ---- times ---- */

void crt_time_rfc3339(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "invalid");
}

crt_status crt_duration_parse(const char *s, int64_t *seconds)
{
	char *end = NULL;
	long long v;
	int64_t mult = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return CRT_E_INVALID_ARGUMENT;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return CRT_E_INVALID_ARGUMENT;
	if (*end != '\0') {
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return CRT_E_INVALID_ARGUMENT;
		}
		if (end[1] != '\0')
			return CRT_E_INVALID_ARGUMENT;
	}
	if (v <= 0 || v > INT64_MAX / mult / 2)
		return CRT_E_INVALID_ARGUMENT;
	*seconds = (int64_t)v * mult;
	return CRT_OK;
}
