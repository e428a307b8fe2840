/*
 * fuzz_token.c — the token string and the small text formats admins and
 * clients type: crt_token_check_format (prefix, alphabet, CRC-32 checksum),
 * crt_duration_parse, crt_fields_parse and crt_reply_validate.
 *
 * Besides memory safety it checks the checksum's promise: for a token that
 * passes, every single-character change to another base64url character and
 * every swap of two different neighbours is reported as mistyped.
 */
#include <ctype.h>

#include "crtoken.h"
#include "fuzz.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_typos_caught(const char *token)
{
	char t[CRT_TOKEN_STRLEN + 1];
	size_t n = strlen(token), prefix = strlen(CRT_TOKEN_PREFIX);

	FUZZ_CHECK(n == CRT_TOKEN_STRLEN);
	FUZZ_CHECK(strncmp(token, CRT_TOKEN_PREFIX, prefix) == 0);
	for (size_t i = prefix; i < n; i++) {
		memcpy(t, token, n + 1);
		/* One substitution per position (a fixed, different character). */
		t[i] = t[i] == 'A' ? 'B' : 'A';
		FUZZ_CHECK(crt_token_check_format(t) == CRT_E_TOKEN_MISTYPED);
		if (i + 1 < n && token[i] != token[i + 1]) {
			memcpy(t, token, n + 1);
			t[i] = token[i + 1];
			t[i + 1] = token[i];
			FUZZ_CHECK(crt_token_check_format(t) == CRT_E_TOKEN_MISTYPED);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	int64_t secs = -1;
	unsigned mask = ~0u;
	crt_status r;

	r = crt_token_check_format(s);
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_TOKEN_MALFORMED || r == CRT_E_TOKEN_MISTYPED);
	if (r == CRT_OK) {
		for (const char *p = s; *p; p++)
			FUZZ_CHECK(p < s + 4 || strchr(b64url, *p) != NULL);
		check_typos_caught(s);
	}

	if (crt_duration_parse(s, &secs) == CRT_OK)
		FUZZ_CHECK(secs > 0 && isdigit((unsigned char)s[0]));

	if (crt_fields_parse(s, &mask) == CRT_OK)
		FUZZ_CHECK((mask & ~(unsigned)CRT_FIELD_ALL) == 0);

	if (crt_reply_validate(s) == CRT_OK && *s != '\0')
		FUZZ_CHECK(strchr(s, '=') != NULL && strlen(s) <= 4096);

	free(s);
	return 0;
}
