/*
 * fuzz_pam_opts.c — pam_crtoken's option parsing: parse_opts (the module
 * arguments from the PAM stack line) and split_forward (forward_pass:
 * password followed by the code). Both are static in pam_crtoken.c, which
 * is therefore compiled into this harness unchanged; a real PAM handle
 * (pam_start on an unconfigured service) takes the module's log lines
 * (masked with setlogmask: syslog stays quiet).
 *
 * Input: the module arguments separated by NUL bytes (at most 32); the
 * whole input as a C string is also what the user typed for split_forward.
 * Properties: parse_opts accepts only known options with valid values and
 * never both *_first_pass options; split_forward cuts exactly the last
 * `digits` characters off as the code.
 */
#include <security/pam_appl.h>
#include <syslog.h>

#include "../../pam_crtoken/pam_crtoken.c"
#include "fuzz.h"

#define MAX_ARGS 32

static pam_handle_t *pamh;

static int no_conv(int n, const struct pam_message **msg, struct pam_response **resp,
		   void *data)
{
	return PAM_CONV_ERR;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct pam_conv conv = {no_conv, NULL};
	setlogmask(LOG_MASK(LOG_EMERG));
	if (pam_start("crtoken-fuzz", "fuzz", &conv, &pamh) != PAM_SUCCESS)
		abort();
	return 0;
}

static int known(const char *a)
{
	static const char *const flags[] = {"debug", "nullok", "use_first_pass", "try_first_pass",
					    "forward_pass"};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(a, flags[i]) == 0)
			return 1;
	return strncmp(a, "config=", 7) == 0 || strncmp(a, "prompt=", 7) == 0 ||
	       strncmp(a, "window=", 7) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *typed;
	const char *argv[MAX_ARGS], *code = NULL;
	struct pam_crt_opts o;
	int argc = 0, r;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size && argc < MAX_ARGS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;

	r = parse_opts(pamh, argc, argv, &o);
	FUZZ_CHECK(r == PAM_SUCCESS || r == PAM_SERVICE_ERR);
	if (r == PAM_SUCCESS) {
		for (int i = 0; i < argc; i++)
			FUZZ_CHECK(known(argv[i]));
		FUZZ_CHECK(o.window >= -1 && o.window <= 10);
		FUZZ_CHECK(!(o.use_first_pass && o.try_first_pass));
		FUZZ_CHECK(o.config == NULL || *o.config != '\0');
		FUZZ_CHECK(o.prompt == NULL || *o.prompt != '\0');
	}

	typed = fuzz_cstr(data, size);
	for (int digits = 6; digits <= 8; digits += 2) {
		size_t n = strlen(typed);
		r = split_forward(pamh, typed, digits, &code);
		/* PAM_AUTHTOK is a module-only item: from this (application) side
		 * libpam refuses it, so only the cut itself is checked. */
		FUZZ_CHECK(r == PAM_SUCCESS || r == PAM_BAD_ITEM);
		FUZZ_CHECK(code >= typed && code <= typed + n);
		FUZZ_CHECK(strlen(code) == (n < (size_t)digits ? n : (size_t)digits));
		FUZZ_CHECK(code == typed + n - strlen(code));
	}
	free(typed);
	free(buf);
	return 0;
}
