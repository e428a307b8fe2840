/*
 * fuzz_serial.c — RADIUS serial normalisation: crt_serial_normalize turns
 * what FreeRADIUS puts in TLS-Client-Cert-Serial ("0x..", colons, spaces,
 * odd digit counts, DER sign padding) into the stored form. rlm_crtoken
 * passes the issuer through unchanged (no helper to fuzz there).
 *
 * The first input byte picks the output buffer size (the callers use 72;
 * smaller sizes probe the bounds); the buffer is exactly that size so ASan
 * sees any overrun. Properties: the result is lowercase hex of even length
 * without leading zero bytes, and normalising it again changes nothing.
 */
#include "crtoken.h"
#include "fuzz.h"

static int is_lower_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t outlen = 72;
	char *in, *out, again[72];
	crt_status r;

	if (size > 0) {
		outlen = data[0] % 80;
		data++, size--;
	}
	in = fuzz_cstr(data, size);
	out = malloc(outlen ? outlen : 1);
	if (out == NULL)
		abort();
	r = crt_serial_normalize(in, out, outlen);
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_SERIAL_INVALID);
	if (r == CRT_OK) {
		size_t n = strlen(out);
		FUZZ_CHECK(n < outlen);
		FUZZ_CHECK(n >= 2 && n % 2 == 0 && is_lower_hex(out));
		FUZZ_CHECK(n == 2 || !(out[0] == '0' && out[1] == '0'));
		FUZZ_CHECK(crt_serial_normalize(out, again, sizeof(again)) == CRT_OK ||
			   n + 2 >= sizeof(again));
		if (n + 2 < sizeof(again))
			FUZZ_CHECK(strcmp(out, again) == 0);
	}
	free(out);
	free(in);
	return 0;
}
