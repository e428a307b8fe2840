/*
 * files.c — writing crtoken-enroll's results. Every file is written to a
 * temporary name in the target directory with its final mode (the key 0600
 * from the first byte), synced, then renamed into place, so a reader never
 * sees a half-written key or certificate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enroll.h"

int file_exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

void file_safe_name(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
	if (out[0] == '.' || out[0] == '\0') /* no hidden files, no "" or ".." */
		out[0] = '_';
	if (i == 0 && len > 1)
		out[1] = '\0';
}

int file_write(const char *dir, const char *name, const void *data, size_t len, unsigned mode,
               int force, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	const char *p = data;
	size_t off = 0;
	ssize_t n;
	int fd = -1, ret = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		return -1;
	}
	if (!force && access(path, F_OK) == 0) {
		snprintf(err, errlen, "%s exists (use --force to replace it)", path);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return ret;
}
