/*
 * token_format.c — the certificate request token string: prefix, 256 random
 * bits in base64url, and a CRC-32 checksum that catches every
 * single-character typo and adjacent transposition without a store lookup.
 * Client-side too (libcrtoken-client: crtoken-enroll checks a token before
 * sending it). Only the SHA-256 of a token string is ever stored (token_hash).
 */
#include <openssl/crypto.h>
#include <string.h>

#include "internal.h"

#define BODY_BYTES 32
#define BODY_CHARS 43
#define SUM_CHARS 6
#define PREFIX_LEN 4

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* Checksum chars for the first PREFIX_LEN + BODY_CHARS chars of s. CRC-32
 * detects every burst error up to 32 bits: a changed character (8 bits) or
 * two swapped neighbours (16 bits) always changes it. */
static void checksum(const char *s, char out[SUM_CHARS + 1])
{
	uint32_t c = crc32((const unsigned char *)s, PREFIX_LEN + BODY_CHARS);
	unsigned char b[4] = {(unsigned char)(c >> 24), (unsigned char)(c >> 16),
			      (unsigned char)(c >> 8), (unsigned char)c};
	b64url_encode(b, 4, out);
}

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

crt_status crt_token_check_format(const char *token)
{
	char sum[SUM_CHARS + 1];
	if (token == NULL || strncmp(token, CRT_TOKEN_PREFIX, PREFIX_LEN) != 0)
		return CRT_E_TOKEN_MALFORMED;
	if (strlen(token) != CRT_TOKEN_STRLEN)
		return CRT_E_TOKEN_MISTYPED;
	for (const char *p = token + PREFIX_LEN; *p; p++)
		if (!is_b64url(*p))
			return CRT_E_TOKEN_MISTYPED;
	checksum(token, sum);
	if (memcmp(sum, token + PREFIX_LEN + BODY_CHARS, SUM_CHARS) != 0)
		return CRT_E_TOKEN_MISTYPED;
	return CRT_OK;
}

/* Make a fresh token string with the given prefix ("crt_", "crk_"). */
crt_status token_generate(const char *prefix, char out[CRT_TOKEN_STRLEN + 1])
{
	unsigned char body[BODY_BYTES];
	crt_status r = random_bytes(body, sizeof(body));
	if (r != CRT_OK)
		return r;
	memcpy(out, prefix, PREFIX_LEN);
	b64url_encode(body, sizeof(body), out + PREFIX_LEN);
	checksum(out, out + PREFIX_LEN + BODY_CHARS);
	OPENSSL_cleanse(body, sizeof(body));
	return CRT_OK;
}

void token_hash(const char *token, char out[65])
{
	sha256_hex(token, strlen(token), out);
}
