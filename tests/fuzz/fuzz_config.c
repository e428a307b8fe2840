/*
 * fuzz_config.c — the INI configuration parser: the input is written to
 * crtoken.conf in a per-process scratch directory and loaded with
 * crt_config_load, then released with crt_config_clear.
 *
 * Properties: a config status; on success every cross-key rule holds and
 * every path is absolute (relative ones resolved against the file's
 * directory); on failure the error text is set and the struct is zeroed.
 */
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"
#include "fuzz.h"

static char path[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(path, sizeof(path), "%s/crtoken.conf", fuzz_dir());
	return 0;
}

static void write_all(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n <= 0) {
			perror(path);
			abort();
		}
		data += n, size -= (size_t)n;
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	crt_config cfg, zero;
	char err[512];
	crt_status r;

	write_all(data, size);
	memset(&zero, 0, sizeof(zero));
	r = crt_config_load(path, &cfg, err, sizeof(err));
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_CONFIG || r == CRT_E_CONFIG_NOT_FOUND ||
		   r == CRT_E_NOMEM);
	if (r == CRT_OK) {
		const char *paths[] = {cfg.database, cfg.ca_cert, cfg.ca_key, cfg.ca_chain,
				       cfg.crl_file, cfg.otp_key_file};
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			FUZZ_CHECK(paths[i] != NULL && paths[i][0] == '/');
		FUZZ_CHECK(cfg.token_lifetime >= 60 && cfg.token_lifetime <= cfg.token_max_lifetime);
		FUZZ_CHECK(cfg.otp_digits == 6 || cfg.otp_digits == 8);
		FUZZ_CHECK(cfg.otp_period >= 10 && cfg.otp_period <= 300);
		FUZZ_CHECK(cfg.max_body >= 1024);
		FUZZ_CHECK((cfg.tls_cert == NULL) == (cfg.tls_key == NULL));
		FUZZ_CHECK(strcasecmp(cfg.otp_algorithm, "SHA1") == 0 ||
			   strcasecmp(cfg.otp_algorithm, "SHA256") == 0 ||
			   strcasecmp(cfg.otp_algorithm, "SHA512") == 0);
		crt_config_clear(&cfg);
	} else if (r != CRT_E_NOMEM) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(memcmp(&cfg, &zero, sizeof(cfg)) == 0);
	}
	return 0;
}
