/*
 * fuzz.h — what the libFuzzer harnesses share: a NUL-terminated copy of the
 * input, a per-process scratch directory removed at exit, and a check that
 * aborts (so libFuzzer records the input) when a harness's property fails.
 * Header-only; every helper is static.
 */
#ifndef CRTOKEN_FUZZ_H
#define CRTOKEN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FZ static __attribute__((unused))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property of the code under test does not hold: report and abort. */
#define FUZZ_CHECK(cond)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* data[0..size) as a malloc'd C string (stops at the first NUL, as C callers would). */
FZ char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char fuzz_dir_path[256];

static void fuzz_dir_remove(void)
{
	char cmd[300];
	if (fuzz_dir_path[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir_path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fuzz_dir_path);
}

/* A private scratch directory for this process (removed at exit): under
 * $FUZZ_TMPDIR, else /dev/shm when writable (file I/O is most of the cost of
 * the harnesses that write files), else $TMPDIR or /tmp. */
FZ const char *fuzz_dir(void)
{
	const char *tmp = getenv("FUZZ_TMPDIR");
	if (fuzz_dir_path[0] != '\0')
		return fuzz_dir_path;
	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/crtoken-fuzz.XXXXXX",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir_path) == NULL) {
		perror("mkdtemp");
		abort();
	}
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

#endif
