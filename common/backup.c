/*
 * backup.c — one file that holds everything an instance needs to be
 * rebuilt elsewhere, and rebuilding it.
 *
 * The backup is a POSIX ustar archive (so `tar tvf` lists it and `tar xf`
 * recovers by hand): a MANIFEST first (format version, time, and each
 * member's name, size and SHA-256), then a consistent online copy of the
 * store (the port's snapshot verb; SQLite takes it with its backup API in one
 * step: one read transaction, so writers — crtokend — carry on), the config,
 * the CA certificate, key and chain, the OTP sealing key and the last CRL. The TLS certificate and key of crtokend
 * are not included: they come from elsewhere and are re-issued, not restored.
 *
 * A restore checks the whole archive (header checksums, the end marker,
 * every member against the manifest) before it writes a byte, builds the new
 * instance in a hidden sibling directory, opens it the normal way (CA and
 * key match, store migrated, permissions) and only then renames it into
 * place: a truncated or corrupt backup leaves nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MANIFEST "MANIFEST"
#define MANIFEST_MAGIC "crtoken-backup 1"
#define BACKUP_MAX_SIZE ((size_t)2 << 30)

/* Members by their fixed names in the archive and the restored instance. */
static const struct member_kind {
	const char *name;
	unsigned mode;
	int required;
} kinds[] = {
	{"crtoken.conf", 0640, 1}, {"crtoken.db", 0640, 1}, {"ca.pem", 0644, 1},
	{"ca.key", 0600, 1},       {"chain.pem", 0644, 0},  {"otp.key", 0600, 1},
	{"crl.pem", 0644, 0},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Config keys that name instance files: commented out on restore, so their
 * defaults (the names above, relative to the new directory) apply. */
static const struct {
	const char *section, *key;
} path_keys[] = {
	{"store", "database"}, {"ca", "certificate"}, {"ca", "key"},      {"ca", "chain"},
	{"ca", "crl_file"},    {"otp", "key_file"},
};

/* ------------------------------------------------------------------ ustar */

struct buf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void buf_put(struct buf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n)
			cap *= 2;
		/* not realloc: the buffer holds keys, wipe what is left behind */
		unsigned char *np = malloc(cap);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL)
			memcpy(np, b->p, b->len);
		crt_freezero(b->p, b->cap);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void tar_member(struct buf *b, const char *name, unsigned mode, const void *data,
		       size_t len, int64_t mtime)
{
	unsigned char h[512] = {0};
	unsigned sum = 0;

	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 108, 8, "%07o", 0u);
	snprintf((char *)h + 116, 8, "%07o", 0u);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)len);
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	snprintf((char *)h + 265, 32, "root");
	snprintf((char *)h + 297, 32, "root");
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	buf_put(b, h, 512);
	buf_put(b, data, len);
	static const unsigned char zero[512];
	if (len % 512)
		buf_put(b, zero, 512 - len % 512);
}

struct member {
	char name[101];
	const unsigned char *data;
	size_t len;
};

static unsigned long long octal(const unsigned char *p, size_t n, int *bad)
{
	unsigned long long v = 0;
	size_t i = 0;
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		v = v * 8 + (p[i] - '0');
	if (i < n && p[i] != '\0' && p[i] != ' ')
		*bad = 1;
	return v;
}

/* Split an archive into members (pointers into data). */
static crt_status tar_parse(const unsigned char *data, size_t len, struct member *m, size_t max,
			    size_t *n, char *err, size_t errlen)
{
	static const unsigned char zero[512];
	size_t off = 0;

	*n = 0;
	for (;;) {
		if (off + 512 > len) {
			snprintf(err, errlen, "the backup is truncated (no end-of-archive marker)");
			return CRT_E_BACKUP_INVALID;
		}
		const unsigned char *h = data + off;
		if (memcmp(h, zero, 512) == 0) {
			if (off + 1024 > len || memcmp(h + 512, zero, 512) != 0) {
				snprintf(err, errlen, "the backup is truncated (end marker cut)");
				return CRT_E_BACKUP_INVALID;
			}
			return CRT_OK;
		}
		int bad = 0;
		unsigned sum = 0;
		unsigned long long want = octal(h + 148, 8, &bad);
		for (int i = 0; i < 512; i++)
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
		unsigned long long size = octal(h + 124, 12, &bad);
		if (bad || sum != want || memcmp(h + 257, "ustar", 5) != 0) {
			snprintf(err, errlen, "the backup is corrupt (bad archive header at byte %zu)",
				 off);
			return CRT_E_BACKUP_INVALID;
		}
		if (h[156] != '0' && h[156] != '\0') {
			snprintf(err, errlen, "the backup holds something that is not a plain file");
			return CRT_E_BACKUP_INVALID;
		}
		off += 512;
		if (size > len - off) {
			snprintf(err, errlen, "the backup is truncated (inside %.100s)",
				 (const char *)h);
			return CRT_E_BACKUP_INVALID;
		}
		if (*n == max) {
			snprintf(err, errlen, "the backup holds too many files");
			return CRT_E_BACKUP_INVALID;
		}
		memcpy(m[*n].name, h, 100);
		m[*n].name[100] = '\0';
		m[*n].data = data + off;
		m[*n].len = (size_t)size;
		(*n)++;
		off += ((size_t)size + 511) / 512 * 512;
		if (off > len)
			off = len;
	}
}

/* ------------------------------------------------------------------ backup */

crt_status crt_backup(crt_ctx *ctx, const char *out_path, const char *actor)
{
	const crt_config *cfg = &ctx->cfg;
	const char *paths[NKINDS] = {cfg->path,     cfg->database, cfg->ca_cert, cfg->ca_key,
				     cfg->ca_chain, cfg->otp_key_file, cfg->crl_file};
	unsigned char *data[NKINDS] = {0};
	size_t lens[NKINDS] = {0};
	char manifest[4096], why[600], hex[65], when[32], err[600];
	struct buf ar = {0};
	size_t mlen;
	crt_status r = CRT_OK;
	int64_t now = crt_now();

	ctx_clear_detail(ctx);
	if (ctx->ca_key == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "backup needs the CA loaded");
	for (size_t i = 0; i < NKINDS; i++) {
		enum crt_trust kind = kinds[i].mode == 0600 ? CRT_TRUST_SECRET : CRT_TRUST_FILE;
		if (i == 1) {
			if ((r = store_snapshot(ctx, &data[i], &lens[i])) != CRT_OK)
				goto out;
			continue;
		}
		if (!kinds[i].required && (paths[i] == NULL || access(paths[i], F_OK) != 0))
			continue;
		r = read_trusted(paths[i], 64 << 20, kind, (char **)&data[i], &lens[i], why,
				     sizeof(why));
		if (r != CRT_OK) {
			r = ctx_fail(ctx, r, "backup: %s", why);
			goto out;
		}
	}
	crt_time_rfc3339(now, when, sizeof(when));
	mlen = (size_t)snprintf(manifest, sizeof(manifest), "%s\ncreated %s\n", MANIFEST_MAGIC,
				when);
	for (size_t i = 0; i < NKINDS; i++) {
		if (data[i] == NULL)
			continue;
		sha256_hex(data[i], lens[i], hex);
		mlen += (size_t)snprintf(manifest + mlen, sizeof(manifest) - mlen,
					 "file %s %zu %s\n", kinds[i].name, lens[i], hex);
	}
	mlen += (size_t)snprintf(manifest + mlen, sizeof(manifest) - mlen, "end\n");
	tar_member(&ar, MANIFEST, 0644, manifest, mlen, now);
	for (size_t i = 0; i < NKINDS; i++)
		if (data[i] != NULL)
			tar_member(&ar, kinds[i].name, kinds[i].mode, data[i], lens[i], now);
	static const unsigned char end[1024];
	buf_put(&ar, end, sizeof(end));
	if (ar.oom) {
		r = CRT_E_NOMEM;
		goto out;
	}
	/* It holds the CA and OTP keys: 0600 from the first byte. */
	if ((r = crt_file_write(out_path, ar.p, ar.len, 0600, CRT_WRITE_REPLACE, err,
				sizeof(err))) != CRT_OK) {
		r = ctx_fail(ctx, r, "%s", err);
		goto out;
	}
	jbuf j;
	jb_begin(&j);
	jb_str(&j, "file", out_path);
	jb_int(&j, "bytes", (int64_t)ar.len);
	char *detail = jb_end(&j);
	if ((r = store_begin_write(ctx)) == CRT_OK) {
		if ((r = audit_write(ctx, actor, "instance.backup", cfg->path, detail)) == CRT_OK)
			r = store_commit(ctx);
		else
			store_rollback(ctx);
	}
	free(detail);
	/* A backup the audit trail does not record is not left behind (unless
	 * the commit's outcome is unknown: then the row may well be there). */
	if (r != CRT_OK && r != CRT_E_STORE_COMMIT_UNKNOWN)
		unlink(out_path);
out:
	for (size_t i = 0; i < NKINDS; i++)
		crt_freezero(data[i], lens[i]);
	crt_freezero(ar.p, ar.cap);
	return r;
}

/* ------------------------------------------------------------------ restore */

/* The manifest's entry for name: 1 and size/hash, or 0. */
static int manifest_entry(const char *manifest, const char *name, size_t *size, char hex[65])
{
	char want[128];
	snprintf(want, sizeof(want), "\nfile %s ", name);
	const char *p = strstr(manifest, want);
	unsigned long long sz;
	if (p == NULL || sscanf(p + strlen(want), "%llu %64[0-9a-f]", &sz, hex) != 2 ||
	    strlen(hex) != 64)
		return 0;
	*size = (size_t)sz;
	return 1;
}

/* The config with its instance-file keys commented out (malloc'd). */
static char *restored_config(const unsigned char *text, size_t len)
{
	struct buf out = {0};
	char section[64] = "";
	size_t i = 0;

	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		const char *l = (const char *)text + i, *end = (const char *)text + e;
		const char *p = l;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		int drop = 0;
		if (p < end && *p == '[') {
			const char *q = memchr(p, ']', (size_t)(end - p));
			if (q != NULL)
				snprintf(section, sizeof(section), "%.*s", (int)(q - p - 1), p + 1);
		} else {
			for (size_t k = 0; k < sizeof(path_keys) / sizeof(path_keys[0]); k++) {
				size_t kl = strlen(path_keys[k].key);
				if (strcmp(section, path_keys[k].section) != 0 ||
				    (size_t)(end - p) < kl || strncmp(p, path_keys[k].key, kl) != 0)
					continue;
				const char *q = p + kl;
				while (q < end && (*q == ' ' || *q == '\t'))
					q++;
				if (q < end && (*q == '=' || *q == ':'))
					drop = 1;
			}
		}
		static const char note[] = "# (restored: the default in this directory applies) ";
		if (drop)
			buf_put(&out, note, sizeof(note) - 1);
		buf_put(&out, l, (size_t)(end - l));
		buf_put(&out, "\n", 1);
		i = e + 1;
	}
	buf_put(&out, "", 1);
	if (out.oom) {
		free(out.p);
		return NULL;
	}
	return (char *)out.p;
}

/* Remove what restore put into tmp (known names only), then tmp. */
static void remove_partial(const char *tmp)
{
	char p[8704];
	for (size_t i = 0; i < NKINDS; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, kinds[i].name);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/crtoken.db-wal", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/crtoken.db-shm", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/crtoken.db-journal", tmp);
	unlink(p);
	rmdir(tmp);
}

crt_status crt_restore(const char *in_path, const char *dir, const char *actor, char *err,
		       size_t errlen)
{
	unsigned char *data = NULL;
	size_t len = 0, n = 0;
	struct member m[16];
	const struct member *found[NKINDS] = {0};
	char manifest[8192], parent[4096], rparent[4096], tmp[8448], path[8704], hex[65];
	char *conf = NULL;
	crt_ctx *ctx = NULL;
	crt_status r;
	struct stat st;
	int made_tmp = 0;
	char dummy[8];

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (in_path == NULL || dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "a backup file and a new instance directory are required");
		return CRT_E_INVALID_ARGUMENT;
	}
	/* The new directory: absent, or an empty directory (rename replaces it). */
	if (lstat(dir, &st) == 0) {
		DIR *dp = S_ISDIR(st.st_mode) ? opendir(dir) : NULL;
		struct dirent *de;
		int empty = dp != NULL;
		while (dp != NULL && (de = readdir(dp)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				empty = 0;
		if (dp != NULL)
			closedir(dp);
		if (!empty) {
			snprintf(err, errlen, "%s already exists%s; restore makes a new instance", dir,
				 S_ISDIR(st.st_mode) ? " and is not empty" : "");
			return CRT_E_EXISTS;
		}
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	while (slash != NULL && slash != parent && slash[1] == '\0') { /* trailing '/' */
		*slash = '\0';
		slash = strrchr(parent, '/');
	}
	const char *base = slash ? slash + 1 : parent;
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		snprintf(err, errlen, "%s: name a new directory", dir);
		return CRT_E_INVALID_ARGUMENT;
	}
	char basename_copy[4096];
	snprintf(basename_copy, sizeof(basename_copy), "%s", base);
	if (slash == NULL)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	if ((r = dir_chain_trusted(parent, rparent, err, errlen)) != CRT_OK)
		return r;

	/* Read and check everything before writing anything. */
	if ((r = read_file(in_path, BACKUP_MAX_SIZE, (char **)&data, &len)) != CRT_OK) {
		snprintf(err, errlen, "%s: cannot read", in_path);
		return r == CRT_E_NOMEM ? r : CRT_E_IO;
	}
	if ((r = tar_parse(data, len, m, sizeof(m) / sizeof(m[0]), &n, err, errlen)) != CRT_OK)
		goto out;
	if (n == 0 || strcmp(m[0].name, MANIFEST) != 0 || m[0].len >= sizeof(manifest) - 1) {
		snprintf(err, errlen, "%s is not a crtoken backup (no manifest)", in_path);
		r = CRT_E_BACKUP_INVALID;
		goto out;
	}
	manifest[0] = '\n';
	memcpy(manifest + 1, m[0].data, m[0].len);
	manifest[m[0].len + 1] = '\0';
	if (strncmp(manifest + 1, MANIFEST_MAGIC "\n", strlen(MANIFEST_MAGIC) + 1) != 0 ||
	    strstr(manifest, "\nend\n") == NULL) {
		snprintf(err, errlen, "%s: unknown backup format or incomplete manifest", in_path);
		r = CRT_E_BACKUP_INVALID;
		goto out;
	}
	for (size_t i = 1; i < n; i++) {
		size_t k, size;
		for (k = 0; k < NKINDS && strcmp(m[i].name, kinds[k].name) != 0; k++)
			;
		if (k == NKINDS || found[k] != NULL) {
			snprintf(err, errlen, "the backup holds an unexpected file %s", m[i].name);
			r = CRT_E_BACKUP_INVALID;
			goto out;
		}
		if (!manifest_entry(manifest, kinds[k].name, &size, hex)) {
			snprintf(err, errlen, "%s is not in the backup's manifest", m[i].name);
			r = CRT_E_BACKUP_INVALID;
			goto out;
		}
		char got[65];
		sha256_hex(m[i].data, m[i].len, got);
		if (size != m[i].len || strcmp(got, hex) != 0) {
			snprintf(err, errlen, "%s in the backup is corrupt (SHA-256 mismatch)",
				 m[i].name);
			r = CRT_E_BACKUP_INVALID;
			goto out;
		}
		found[k] = &m[i];
	}
	for (size_t k = 0; k < NKINDS; k++) {
		size_t size;
		int listed = manifest_entry(manifest, kinds[k].name, &size, hex);
		if ((kinds[k].required || listed) && found[k] == NULL) {
			snprintf(err, errlen, "the backup lacks %s", kinds[k].name);
			r = CRT_E_BACKUP_INVALID;
			goto out;
		}
	}
	if ((conf = restored_config(found[0]->data, found[0]->len)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}

	/* Build it beside the target, check it, then rename it into place. */
	snprintf(tmp, sizeof(tmp), "%s/.%s.restore-XXXXXX", rparent, basename_copy);
	if (mkdtemp(tmp) == NULL) {
		snprintf(err, errlen, "%s: %s", rparent, strerror(errno));
		r = CRT_E_IO;
		goto out;
	}
	made_tmp = 1;
	chmod(tmp, 0750);
	for (size_t k = 0; k < NKINDS; k++) {
		const void *d = k == 0 ? (const void *)conf : found[k] ? found[k]->data : NULL;
		size_t dl = k == 0 ? strlen(conf) : found[k] ? found[k]->len : 0;
		if (d == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, kinds[k].name);
		if ((r = crt_file_write(path, d, dl, kinds[k].mode, 0, err, errlen)) != CRT_OK)
			goto out;
	}
	snprintf(path, sizeof(path), "%s/crtoken.conf", tmp);
	if ((r = crt_open(path, 0, &ctx)) != CRT_OK) {
		snprintf(err, errlen, "the restored instance does not open: %s",
			 crt_errdetail(ctx));
		goto out;
	}
	jbuf j;
	jb_begin(&j);
	jb_str(&j, "from", in_path);
	jb_str(&j, "dir", dir);
	char *detail = jb_end(&j);
	if ((r = store_begin_write(ctx)) == CRT_OK) {
		if ((r = audit_write(ctx, actor, "instance.restore", dir, detail)) == CRT_OK)
			r = store_commit(ctx);
		else
			store_rollback(ctx);
	}
	free(detail);
	if (r != CRT_OK) {
		snprintf(err, errlen, "%s", crt_errdetail(ctx));
		goto out;
	}
	crt_close(ctx);
	ctx = NULL;
	snprintf(path, sizeof(path), "%s/%s", rparent, basename_copy);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", dir,
			 errno == EEXIST || errno == ENOTEMPTY ? "appeared meanwhile" : strerror(errno));
		r = errno == EEXIST || errno == ENOTEMPTY ? CRT_E_EXISTS : CRT_E_IO;
		goto out;
	}
	made_tmp = 0;
	r = CRT_OK;
out:
	crt_close(ctx);
	if (made_tmp)
		remove_partial(tmp);
	free(conf);
	crt_freezero(data, len);
	return r;
}
