/*
 * files.c — writing crtoken-enroll's results through crt_file_write: a new
 * file in the target directory with its final mode (the key 0600 from the
 * first byte), synced, then renamed into place, so a reader never sees a
 * half-written key or certificate; never written through a symlink.
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
	return lstat(path, &st) == 0; /* a dangling symlink is something there too */
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
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		return -1;
	}
	crt_status r = crt_file_write(path, data, len, mode, force ? CRT_WRITE_REPLACE : 0, err,
	                              errlen);
	if (r == CRT_E_EXISTS)
		snprintf(err, errlen, "%s exists (use --force to replace it)", path);
	return r == CRT_OK ? 0 : -1;
}

void split_path(const char *path, char *dir, size_t len, const char **file)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(dir, len, ".");
		*file = path;
	} else if (slash == path) {
		snprintf(dir, len, "/");
		*file = slash + 1;
	} else {
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
		*file = slash + 1;
	}
}
