/*
 * test_status.c — the one classification of statuses (crt_status_kind)
 * that the CLI, crtokend, pam_crtoken and rlm_crtoken map from: every
 * status has the kind written here, and nothing is left to a default.
 */
#include "testutil.h"

static const struct {
	crt_status s;
	crt_kind k;
} want[] = {
    {CRT_OK, CRT_KIND_OK},
    {CRT_E_INTERNAL, CRT_KIND_FAILURE},
    {CRT_E_NOMEM, CRT_KIND_FAILURE},
    {CRT_E_INVALID_ARGUMENT, CRT_KIND_INVALID},
    {CRT_E_CONFIG, CRT_KIND_FAILURE},
    {CRT_E_CONFIG_NOT_FOUND, CRT_KIND_FAILURE},
    {CRT_E_IO, CRT_KIND_FAILURE},
    {CRT_E_EXISTS, CRT_KIND_CONFLICT},
    {CRT_E_UNSAFE_PERMISSIONS, CRT_KIND_FAILURE},
    {CRT_E_STORE, CRT_KIND_FAILURE},
    {CRT_E_STORE_BUSY, CRT_KIND_BUSY},
    {CRT_E_STORE_UNAVAILABLE, CRT_KIND_BUSY},
    {CRT_E_STORE_VERSION, CRT_KIND_FAILURE},
    {CRT_E_STORE_COMMIT_UNKNOWN, CRT_KIND_FAILURE},
    {CRT_E_STORE_READONLY, CRT_KIND_BUSY},
    {CRT_E_STORE_STALE, CRT_KIND_BUSY},
    {CRT_E_CA_UNKNOWN, CRT_KIND_NOT_FOUND},
    {CRT_E_CERT_MAC_PINNED, CRT_KIND_REFUSED},
    {CRT_E_CA_MISSING, CRT_KIND_FAILURE},
    {CRT_E_CA_INVALID, CRT_KIND_FAILURE},
    {CRT_E_CA_KEY_MISMATCH, CRT_KIND_FAILURE},
    {CRT_E_CA_EXPIRED, CRT_KIND_FAILURE},
    {CRT_E_TOKEN_MALFORMED, CRT_KIND_NOT_FOUND},
    {CRT_E_TOKEN_MISTYPED, CRT_KIND_NOT_FOUND},
    {CRT_E_TOKEN_UNKNOWN, CRT_KIND_NOT_FOUND},
    {CRT_E_TOKEN_DELETED, CRT_KIND_GONE},
    {CRT_E_TOKEN_USED, CRT_KIND_CONFLICT},
    {CRT_E_TOKEN_EXPIRED, CRT_KIND_GONE},
    {CRT_E_TOKEN_OWNER, CRT_KIND_FORBIDDEN},
    {CRT_E_TOKEN_NOT_FOUND, CRT_KIND_NOT_FOUND},
    {CRT_E_TOKEN_NOT_ACTIVE, CRT_KIND_CONFLICT},
    {CRT_E_NAME_REQUIRED, CRT_KIND_REFUSED},
    {CRT_E_FIELD_INVALID, CRT_KIND_REFUSED},
    {CRT_E_FIELD_LOCKED, CRT_KIND_REFUSED},
    {CRT_E_LIFETIME, CRT_KIND_REFUSED},
    {CRT_E_REPLY_ATTR, CRT_KIND_REFUSED},
    {CRT_E_CSR_MALFORMED, CRT_KIND_INVALID},
    {CRT_E_CSR_BAD_SIGNATURE, CRT_KIND_INVALID},
    {CRT_E_CSR_WEAK_KEY, CRT_KIND_REFUSED},
    {CRT_E_CSR_KEY_TYPE, CRT_KIND_REFUSED},
    {CRT_E_CSR_TOO_LARGE, CRT_KIND_REFUSED},
    {CRT_E_CERT_NOT_FOUND, CRT_KIND_NOT_FOUND},
    {CRT_E_CERT_REVOKED, CRT_KIND_CONFLICT},
    {CRT_E_CERT_EXPIRED, CRT_KIND_REFUSED},
    {CRT_E_CERT_NOT_YET_VALID, CRT_KIND_REFUSED},
    {CRT_E_CERT_WRONG_ISSUER, CRT_KIND_REFUSED},
    {CRT_E_SERIAL_INVALID, CRT_KIND_INVALID},
    {CRT_E_REASON_INVALID, CRT_KIND_INVALID},
    {CRT_E_OTP_NOT_ENROLLED, CRT_KIND_NOT_FOUND},
    {CRT_E_OTP_BAD_CODE, CRT_KIND_AUTH},
    {CRT_E_OTP_REPLAY, CRT_KIND_AUTH},
    {CRT_E_OTP_LOCKED, CRT_KIND_LIMITED},
    {CRT_E_OTP_PARAMS, CRT_KIND_INVALID},
    {CRT_E_SEAL, CRT_KIND_FAILURE},
    {CRT_E_APIKEY_INVALID, CRT_KIND_AUTH},
    {CRT_E_APIKEY_NOT_FOUND, CRT_KIND_NOT_FOUND},
    {CRT_E_KEY_TYPE, CRT_KIND_REFUSED},
    {CRT_E_AUTH_REQUIRED, CRT_KIND_AUTH},
    {CRT_E_AUTH_FAILED, CRT_KIND_AUTH},
    {CRT_E_FORBIDDEN, CRT_KIND_FORBIDDEN},
    {CRT_E_RATE_LIMITED, CRT_KIND_LIMITED},
    {CRT_E_REQUEST_INVALID, CRT_KIND_INVALID},
    {CRT_E_REQUEST_TOO_LARGE, CRT_KIND_PROTOCOL},
    {CRT_E_MEDIA_TYPE, CRT_KIND_PROTOCOL},
    {CRT_E_NOT_FOUND, CRT_KIND_NOT_FOUND},
    {CRT_E_METHOD, CRT_KIND_PROTOCOL},
    {CRT_E_CSR_WEAK_DIGEST, CRT_KIND_REFUSED},
    {CRT_E_CERT_MISMATCH, CRT_KIND_REFUSED},
    {CRT_E_BACKUP_INVALID, CRT_KIND_INVALID},
    {CRT_E_PROFILE_FORMAT, CRT_KIND_NOT_FOUND},
    {CRT_E_NETWORK_CONFIG, CRT_KIND_NOT_FOUND},
    {CRT_E_CA_UNAVAILABLE, CRT_KIND_BUSY},
    {CRT_E_CA_REJECTED, CRT_KIND_FAILURE},
    {CRT_E_CRL_REMOTE, CRT_KIND_NOT_FOUND},
    {CRT_E_ATTEST_MISSING, CRT_KIND_REFUSED},
    {CRT_E_ATTEST_MALFORMED, CRT_KIND_INVALID},
    {CRT_E_ATTEST_UNTRUSTED, CRT_KIND_REFUSED},
    {CRT_E_ATTEST_KEY_MISMATCH, CRT_KIND_REFUSED},
    {CRT_E_ATTEST_POLICY, CRT_KIND_REFUSED},
    {CRT_E_RENEWAL_NOT_ALLOWED, CRT_KIND_FORBIDDEN},
    {CRT_E_RENEWAL_TOO_EARLY, CRT_KIND_REFUSED},
    {CRT_E_SAME_KEY, CRT_KIND_REFUSED},
    {CRT_E_CLIENT_CERT_REQUIRED, CRT_KIND_AUTH},
    {CRT_E_PROFILE_UNKNOWN, CRT_KIND_NOT_FOUND},
    {CRT_E_SAN_INVALID, CRT_KIND_REFUSED},
    {CRT_E_VALIDITY, CRT_KIND_REFUSED},
    {CRT_E_IMPORT_DISABLED, CRT_KIND_REFUSED},
    {CRT_E_CERT_MALFORMED, CRT_KIND_INVALID},
    {CRT_E_CERT_MULTIPLE, CRT_KIND_INVALID},
    {CRT_E_CERT_PRIVATE_KEY, CRT_KIND_INVALID},
    {CRT_E_CERT_UNTRUSTED, CRT_KIND_REFUSED},
    {CRT_E_CERT_IS_CA, CRT_KIND_REFUSED},
    {CRT_E_CERT_USAGE, CRT_KIND_REFUSED},
    {CRT_E_CERT_KEY_ID, CRT_KIND_REFUSED},
    {CRT_E_CERT_SUBJECT, CRT_KIND_REFUSED},
    {CRT_E_CERT_EXISTS, CRT_KIND_CONFLICT},
    {CRT_E_SERIAL_CONFLICT, CRT_KIND_CONFLICT},
};

static void every_status_has_its_kind(void **s)
{
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		crt_kind k = crt_status_kind(want[i].s);
		if (k != want[i].k)
			fail_msg("%s is %s, expected %s", crt_status_name(want[i].s),
			         crt_kind_name(k), crt_kind_name(want[i].k));
	}
}

/* A status added later must be classified here too (and in err.c). */
static void the_table_covers_every_status(void **s)
{
	int seen[CRT_STATUS_COUNT] = {0};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		seen[want[i].s]++;
	for (int i = 0; i < CRT_STATUS_COUNT; i++)
		if (seen[i] != 1)
			fail_msg("%s is listed %d times", crt_status_name((crt_status)i), seen[i]);
}

static void unknown_values_fail_closed(void **s)
{
	assert_int_equal(crt_status_kind(CRT_STATUS_COUNT), CRT_KIND_FAILURE);
	assert_int_equal(crt_status_kind((crt_status)9999), CRT_KIND_FAILURE);
	assert_string_equal(crt_kind_name((crt_kind)99), "failure");
	assert_string_equal(crt_kind_name(CRT_KIND_NOT_FOUND), "not_found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_status_has_its_kind),
	    cmocka_unit_test(the_table_covers_every_status),
	    cmocka_unit_test(unknown_values_fail_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
