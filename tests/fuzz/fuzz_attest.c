/*
 * fuzz_attest.c — the attestation parser (attest.c) on hostile bytes:
 * attest_chain_parse (the PEM chain as crtokend and crtoken-admin hand it
 * over: raw bytes, not NUL-terminated, exact-size copy) and, for every leaf
 * it accepts — or for input that is one DER certificate, so mutations reach
 * the extensions directly — attest_extensions_parse.
 *
 * Properties: only CRT_OK, CRT_E_ATTEST_MALFORMED or CRT_E_NOMEM; a reason
 * on every refusal; an accepted chain has a leaf and 1-3 more certificates;
 * accepted facts are within their ranges; no OpenSSL error left queued.
 */
#include <openssl/err.h>

#include "attest.h"
#include "internal.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void facts_of(const X509 *leaf)
{
	attest_facts f;
	char why[256];
	crt_status r = attest_extensions_parse(leaf, &f, why, sizeof(why));
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_ATTEST_MALFORMED);
	FUZZ_CHECK(r == CRT_OK || why[0] != '\0');
	FUZZ_CHECK(ERR_peek_error() == 0);
	if (r != CRT_OK)
		return;
	FUZZ_CHECK(f.serial >= -1);
	FUZZ_CHECK(f.firmware <= 0xffffff);
	FUZZ_CHECK(f.pin_policy == 0 ||
	           (f.pin_policy >= ATTEST_PIN_NEVER && f.pin_policy <= ATTEST_PIN_ALWAYS));
	FUZZ_CHECK(f.touch_policy == 0 ||
	           (f.touch_policy >= ATTEST_TOUCH_NEVER && f.touch_policy <= ATTEST_TOUCH_CACHED));
	FUZZ_CHECK(f.form_factor >= -1 && f.form_factor <= 15);
	FUZZ_CHECK(strlen(f.slot) == 0 || strlen(f.slot) == 2);
	char *j = attest_facts_json(&f);
	FUZZ_CHECK(j != NULL && j[0] == '{');
	free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	char why[256];
	crt_status r;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	r = attest_chain_parse(copy, size, &leaf, &chain, why, sizeof(why));
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_ATTEST_MALFORMED || r == CRT_E_NOMEM);
	FUZZ_CHECK((r == CRT_OK) == (leaf != NULL));
	FUZZ_CHECK(r == CRT_OK || r == CRT_E_NOMEM || why[0] != '\0');
	FUZZ_CHECK(ERR_peek_error() == 0);
	if (r == CRT_OK) {
		FUZZ_CHECK(sk_X509_num(chain) >= 1 && sk_X509_num(chain) <= ATTEST_MAX_CERTS - 1);
		facts_of(leaf);
	} else if (size > 0 && copy[0] == 0x30) {
		const unsigned char *p = copy;
		X509 *x = d2i_X509(NULL, &p, (long)size);
		ERR_clear_error();
		if (x != NULL)
			facts_of(x);
		X509_free(x);
	}
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	free(copy);
	return 0;
}
