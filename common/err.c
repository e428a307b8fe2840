/*
 * err.c — the status table: every crt_status with its stable machine name
 * (the contract adapters and scripts match on) and its human message.
 */
#include <string.h>

#include "crtoken.h"

static const struct {
	const char *name;
	const char *message;
} status_table[CRT_STATUS_COUNT] = {
	[CRT_OK] = {"ok", "success"},
	[CRT_E_INTERNAL] = {"internal", "internal error"},
	[CRT_E_NOMEM] = {"out_of_memory", "out of memory"},
	[CRT_E_INVALID_ARGUMENT] = {"invalid_argument", "invalid argument"},
	[CRT_E_CONFIG] = {"config_invalid", "the configuration is invalid"},
	[CRT_E_CONFIG_NOT_FOUND] = {"config_not_found", "the configuration file was not found"},
	[CRT_E_IO] = {"io_error", "a file could not be read or written"},
	[CRT_E_EXISTS] = {"already_exists", "it already exists"},
	[CRT_E_UNSAFE_PERMISSIONS] = {"unsafe_permissions",
				      "a secret file is readable or writable by others"},
	[CRT_E_STORE] = {"store_error", "the certificate store failed"},
	[CRT_E_STORE_BUSY] = {"store_busy", "the certificate store is busy; try again"},
	[CRT_E_STORE_UNAVAILABLE] = {"store_unavailable", "the certificate store is unavailable"},
	[CRT_E_STORE_VERSION] = {"store_version",
				 "the certificate store was made by a newer crtoken"},
	[CRT_E_CA_MISSING] = {"ca_missing", "the CA certificate or key is missing"},
	[CRT_E_CA_INVALID] = {"ca_invalid", "the CA certificate or key is not usable"},
	[CRT_E_CA_KEY_MISMATCH] = {"ca_key_mismatch",
				   "the CA key does not match the CA certificate"},
	[CRT_E_CA_EXPIRED] = {"ca_expired", "the CA certificate has expired"},
	[CRT_E_TOKEN_MALFORMED] = {"token_malformed", "this is not a certificate request token"},
	[CRT_E_TOKEN_MISTYPED] = {"token_mistyped",
				  "the token was mistyped (its checksum does not match)"},
	[CRT_E_TOKEN_UNKNOWN] = {"token_unknown", "no such token"},
	[CRT_E_TOKEN_DELETED] = {"token_deleted", "the token was deleted by an administrator"},
	[CRT_E_TOKEN_USED] = {"token_used", "the token has already been used"},
	[CRT_E_TOKEN_EXPIRED] = {"token_expired", "the token has expired"},
	[CRT_E_TOKEN_OWNER] = {"token_owner_mismatch", "the token belongs to another user"},
	[CRT_E_TOKEN_NOT_FOUND] = {"token_not_found", "no token with this id"},
	[CRT_E_TOKEN_NOT_ACTIVE] = {"token_not_active", "the token is no longer active"},
	[CRT_E_NAME_REQUIRED] = {"name_required", "a name is required"},
	[CRT_E_FIELD_INVALID] = {"field_invalid", "a field has an invalid value"},
	[CRT_E_FIELD_LOCKED] = {"field_locked", "the administrator locked this field"},
	[CRT_E_LIFETIME] = {"lifetime_invalid", "the token lifetime is invalid"},
	[CRT_E_REPLY_ATTR] = {"reply_attribute_invalid",
			      "a reply attribute is not of the form Attribute=value"},
	[CRT_E_CSR_MALFORMED] = {"csr_malformed", "the CSR could not be parsed"},
	[CRT_E_CSR_BAD_SIGNATURE] = {"csr_bad_signature", "the CSR signature does not verify"},
	[CRT_E_CSR_WEAK_KEY] = {"csr_weak_key", "the CSR key is too weak"},
	[CRT_E_CSR_KEY_TYPE] = {"csr_unsupported_key", "the CSR key type is not supported"},
	[CRT_E_CSR_TOO_LARGE] = {"csr_too_large", "the CSR is too large"},
	[CRT_E_CERT_NOT_FOUND] = {"cert_not_found", "no certificate with this serial"},
	[CRT_E_CERT_REVOKED] = {"cert_revoked", "the certificate is revoked"},
	[CRT_E_CERT_EXPIRED] = {"cert_expired", "the certificate has expired"},
	[CRT_E_CERT_NOT_YET_VALID] = {"cert_not_yet_valid", "the certificate is not yet valid"},
	[CRT_E_CERT_WRONG_ISSUER] = {"cert_wrong_issuer", "the certificate is from another CA"},
	[CRT_E_SERIAL_INVALID] = {"serial_invalid", "the serial number is not valid hex"},
	[CRT_E_REASON_INVALID] = {"revocation_reason_invalid",
				  "unknown revocation reason (see RFC 5280)"},
	[CRT_E_OTP_NOT_ENROLLED] = {"otp_not_enrolled", "the user has no one-time password"},
	[CRT_E_OTP_BAD_CODE] = {"otp_bad_code", "the verification code is wrong"},
	[CRT_E_OTP_REPLAY] = {"otp_replayed", "the verification code was already used"},
	[CRT_E_OTP_LOCKED] = {"otp_locked", "too many failures; the user is locked for a while"},
	[CRT_E_OTP_PARAMS] = {"otp_parameters_invalid", "invalid one-time password parameters"},
	[CRT_E_SEAL] = {"seal_error", "a sealed secret could not be opened"},
	[CRT_E_APIKEY_INVALID] = {"apikey_invalid", "the API key is not valid"},
	[CRT_E_APIKEY_NOT_FOUND] = {"apikey_not_found", "no API key with this id"},
	[CRT_E_KEY_TYPE] = {"key_type_invalid", "unknown key type"},
	[CRT_E_AUTH_REQUIRED] = {"authentication_required", "authentication is required"},
	[CRT_E_AUTH_FAILED] = {"authentication_failed", "authentication failed"},
	[CRT_E_FORBIDDEN] = {"permission_denied", "permission denied"},
	[CRT_E_RATE_LIMITED] = {"rate_limited", "too many failed attempts; try again later"},
	[CRT_E_REQUEST_INVALID] = {"request_invalid", "the request is malformed"},
	[CRT_E_REQUEST_TOO_LARGE] = {"request_too_large", "the request body is too large"},
	[CRT_E_MEDIA_TYPE] = {"unsupported_media_type", "the Content-Type is not supported"},
	[CRT_E_NOT_FOUND] = {"not_found", "not found"},
	[CRT_E_METHOD] = {"method_not_allowed", "method not allowed"},
	[CRT_E_CSR_WEAK_DIGEST] = {"csr_weak_digest",
				   "the CSR is signed with a weak digest; use SHA-256 or better"},
	[CRT_E_CERT_MISMATCH] = {"cert_mismatch",
				 "the certificate is not the one crtoken issued with this serial"},
	[CRT_E_BACKUP_INVALID] = {"backup_invalid",
				  "the backup is truncated, corrupt or not a crtoken backup"},
	[CRT_E_PROFILE_FORMAT] = {"profile_format_unknown", "no such network profile format"},
	[CRT_E_NETWORK_CONFIG] = {"network_not_configured",
				  "the network for onboarding profiles is not configured"},
	[CRT_E_STORE_COMMIT_UNKNOWN] = {"store_commit_unknown",
				       "the store lost its connection while committing; the outcome is unknown"},
	[CRT_E_STORE_READONLY] = {"store_readonly",
				  "the certificate store is read-only here; try again"},
	[CRT_E_CA_UNAVAILABLE] = {"ca_unavailable",
				  "the remote CA did not answer; the token is still unused, try again"},
	[CRT_E_CA_REJECTED] = {"ca_rejected",
			       "the remote CA refused to sign, or returned a certificate crtoken "
			       "does not accept; the token is still unused"},
	[CRT_E_CRL_REMOTE] = {"crl_remote",
			      "this CA's CRL is published by the remote CA, not by crtoken"},
	[CRT_E_CA_UNKNOWN] = {"ca_unknown", "no CA of that name in this instance"},
	[CRT_E_ATTEST_MISSING] = {"attestation_missing",
				  "this token requires a key attestation with the CSR"},
	[CRT_E_ATTEST_MALFORMED] = {"attestation_malformed",
				    "the key attestation could not be parsed"},
	[CRT_E_ATTEST_UNTRUSTED] = {"attestation_untrusted",
				    "the key attestation is not from a trusted device maker"},
	[CRT_E_ATTEST_KEY_MISMATCH] = {"attestation_key_mismatch",
				       "the attested key is not the key of the CSR"},
	[CRT_E_ATTEST_POLICY] = {"attestation_policy",
				 "the attested key does not meet the token's attestation policy"},
	[CRT_E_CERT_MAC_PINNED] = {"cert_mac_pinned",
				  "the certificate is pinned to the MAC address it was first used from"},
	[CRT_E_STORE_STALE] = {"store_stale",
			       "the certificate store this server reads is too far behind its primary"},
	[CRT_E_RENEWAL_NOT_ALLOWED] = {"renewal_not_allowed",
				       "this certificate may not be renewed"},
	[CRT_E_RENEWAL_TOO_EARLY] = {"renewal_too_early",
				     "the certificate is not yet within its renewal window"},
	[CRT_E_SAME_KEY] = {"same_key",
			    "a renewal needs a new key; the CSR carries the current one"},
	[CRT_E_CLIENT_CERT_REQUIRED] = {"client_certificate_required",
					"present the current certificate (TLS client authentication)"},
	[CRT_E_PROFILE_UNKNOWN] = {"profile_unknown", "no certificate profile of that name"},
	[CRT_E_SAN_INVALID] = {"san_invalid", "a SubjectAltName value is not valid"},
	[CRT_E_VALIDITY] = {"validity_invalid",
			    "the validity asked for is beyond what the profile allows"},
	[CRT_E_IMPORT_DISABLED] = {"import_not_configured",
				   "this server accepts no certificate uploads ([import] "
				   "trusted_issuers is not set)"},
	[CRT_E_CERT_MALFORMED] = {"cert_malformed", "this is not a PEM certificate"},
	[CRT_E_CERT_MULTIPLE] = {"cert_multiple",
				 "several certificates were given; upload only the client certificate"},
	[CRT_E_CERT_PRIVATE_KEY] = {"cert_private_key",
				    "a private key was given instead of a certificate; never send "
				    "the private key"},
	[CRT_E_CERT_UNTRUSTED] = {"cert_untrusted",
				  "the certificate does not chain to a trusted issuer"},
	[CRT_E_CERT_IS_CA] = {"cert_is_ca", "a CA certificate cannot be a client certificate"},
	[CRT_E_CERT_USAGE] = {"cert_not_client_auth",
			      "the certificate is not usable for client authentication"},
	[CRT_E_CERT_KEY_ID] = {"cert_key_id_missing",
			       "the certificate lacks a Subject or Authority Key Identifier"},
	[CRT_E_CERT_SUBJECT] = {"cert_subject_mismatch",
				"the certificate's subject is not what the token allows"},
	[CRT_E_CERT_EXISTS] = {"cert_exists", "this certificate is stored already"},
	[CRT_E_SERIAL_CONFLICT] = {"serial_conflict",
				   "another stored certificate has the same serial number"},
	[CRT_E_REQUEST_UNKNOWN] = {"request_unknown", "no certificate request with this id"},
	[CRT_E_REQUEST_STATE] = {"request_state", "the certificate request is no longer pending"},
	[CRT_E_APPROVAL_REQUIRED] = {"approval_required",
				     "the token requires an administrator's approval"},
	[CRT_E_SCOPE_UNKNOWN] = {"scope_unknown", "no API key scope of that name"},
	[CRT_E_PAGE_INVALID] = {"page_invalid", "page and size must be numbers within their bounds"},
	[CRT_E_SORT_INVALID] = {"sort_invalid", "this list cannot be sorted by that field"},
	[CRT_E_DESCRIPTION_INVALID] = {"description_invalid",
				       "the description is too long or has control characters"},
	[CRT_E_COUNT_INVALID] = {"count_invalid", "the count of tokens to create is out of bounds"},
	[CRT_E_PKCS12_NOT_KEPT] = {"pkcs12_not_kept",
				   "no PKCS#12 is kept for this certificate"},
	[CRT_E_TIME_INVALID] = {"time_invalid",
				"a time must be RFC 3339 in UTC (2026-11-22T07:34:32Z), since before until"},
	[CRT_E_FILTER_INVALID] = {"filter_invalid",
				  "a list filter must be 1-256 bytes without control characters"},
};

const char *crt_status_name(crt_status s)
{
	if ((unsigned)s >= CRT_STATUS_COUNT || status_table[s].name == NULL)
		return "internal";
	return status_table[s].name;
}

const char *crt_status_message(crt_status s)
{
	if ((unsigned)s >= CRT_STATUS_COUNT || status_table[s].message == NULL)
		return "internal error";
	return status_table[s].message;
}

crt_status crt_status_from_name(const char *name)
{
	if (name == NULL)
		return CRT_STATUS_COUNT;
	for (int i = 0; i < CRT_STATUS_COUNT; i++)
		if (status_table[i].name != NULL && strcmp(status_table[i].name, name) == 0)
			return (crt_status)i;
	return CRT_STATUS_COUNT;
}

crt_kind crt_status_kind(crt_status s)
{
	switch (s) {
	case CRT_OK:
		return CRT_KIND_OK;
	case CRT_E_INVALID_ARGUMENT:
	case CRT_E_REQUEST_INVALID:
	case CRT_E_CSR_MALFORMED:
	case CRT_E_CSR_BAD_SIGNATURE:
	case CRT_E_SERIAL_INVALID:
	case CRT_E_REASON_INVALID:
	case CRT_E_OTP_PARAMS:
	case CRT_E_BACKUP_INVALID:
	case CRT_E_ATTEST_MALFORMED:
	case CRT_E_CERT_MALFORMED:
	case CRT_E_CERT_MULTIPLE:
	case CRT_E_CERT_PRIVATE_KEY:
	case CRT_E_SCOPE_UNKNOWN:
	case CRT_E_PAGE_INVALID:
	case CRT_E_SORT_INVALID:
	case CRT_E_COUNT_INVALID:
	case CRT_E_TIME_INVALID:
	case CRT_E_FILTER_INVALID:
		return CRT_KIND_INVALID;
	case CRT_E_AUTH_REQUIRED:
	case CRT_E_CLIENT_CERT_REQUIRED:
	case CRT_E_AUTH_FAILED:
	case CRT_E_APIKEY_INVALID:
	case CRT_E_OTP_BAD_CODE:
	case CRT_E_OTP_REPLAY:
		return CRT_KIND_AUTH;
	case CRT_E_FORBIDDEN:
	case CRT_E_RENEWAL_NOT_ALLOWED:
	case CRT_E_TOKEN_OWNER:
		return CRT_KIND_FORBIDDEN;
	case CRT_E_NOT_FOUND:
	case CRT_E_TOKEN_MALFORMED:
	case CRT_E_TOKEN_MISTYPED:
	case CRT_E_TOKEN_UNKNOWN:
	case CRT_E_TOKEN_NOT_FOUND:
	case CRT_E_CERT_NOT_FOUND:
	case CRT_E_APIKEY_NOT_FOUND:
	case CRT_E_CA_UNKNOWN:
	case CRT_E_OTP_NOT_ENROLLED:
	case CRT_E_PROFILE_FORMAT:
	case CRT_E_NETWORK_CONFIG:
	case CRT_E_CRL_REMOTE:
	case CRT_E_PROFILE_UNKNOWN:
	case CRT_E_REQUEST_UNKNOWN:
	case CRT_E_PKCS12_NOT_KEPT:
		return CRT_KIND_NOT_FOUND;
	case CRT_E_EXISTS:
	case CRT_E_TOKEN_USED:
	case CRT_E_TOKEN_NOT_ACTIVE:
	case CRT_E_CERT_REVOKED:
	case CRT_E_CERT_EXISTS:
	case CRT_E_SERIAL_CONFLICT:
	case CRT_E_REQUEST_STATE:
		return CRT_KIND_CONFLICT;
	case CRT_E_TOKEN_EXPIRED:
	case CRT_E_TOKEN_DELETED:
		return CRT_KIND_GONE;
	case CRT_E_NAME_REQUIRED:
	case CRT_E_FIELD_INVALID:
	case CRT_E_FIELD_LOCKED:
	case CRT_E_LIFETIME:
	case CRT_E_REPLY_ATTR:
	case CRT_E_CSR_WEAK_KEY:
	case CRT_E_CSR_WEAK_DIGEST:
	case CRT_E_CSR_KEY_TYPE:
	case CRT_E_CSR_TOO_LARGE:
	case CRT_E_CERT_EXPIRED:
	case CRT_E_CERT_NOT_YET_VALID:
	case CRT_E_CERT_WRONG_ISSUER:
	case CRT_E_CERT_MISMATCH:
	case CRT_E_CERT_MAC_PINNED:
	case CRT_E_KEY_TYPE:
	case CRT_E_ATTEST_MISSING:
	case CRT_E_ATTEST_UNTRUSTED:
	case CRT_E_ATTEST_KEY_MISMATCH:
	case CRT_E_ATTEST_POLICY:
	case CRT_E_RENEWAL_TOO_EARLY:
	case CRT_E_SAME_KEY:
	case CRT_E_SAN_INVALID:
	case CRT_E_VALIDITY:
	case CRT_E_IMPORT_DISABLED:
	case CRT_E_CERT_UNTRUSTED:
	case CRT_E_CERT_IS_CA:
	case CRT_E_CERT_USAGE:
	case CRT_E_CERT_KEY_ID:
	case CRT_E_CERT_SUBJECT:
	case CRT_E_APPROVAL_REQUIRED:
	case CRT_E_DESCRIPTION_INVALID:
		return CRT_KIND_REFUSED;
	case CRT_E_RATE_LIMITED:
	case CRT_E_OTP_LOCKED:
		return CRT_KIND_LIMITED;
	case CRT_E_STORE_BUSY:
	case CRT_E_STORE_UNAVAILABLE:
	case CRT_E_STORE_READONLY:
	case CRT_E_STORE_STALE:
	case CRT_E_CA_UNAVAILABLE:
		return CRT_KIND_BUSY;
	case CRT_E_METHOD:
	case CRT_E_REQUEST_TOO_LARGE:
	case CRT_E_MEDIA_TYPE:
		return CRT_KIND_PROTOCOL;
	case CRT_E_INTERNAL:
	case CRT_E_NOMEM:
	case CRT_E_CONFIG:
	case CRT_E_CONFIG_NOT_FOUND:
	case CRT_E_IO:
	case CRT_E_UNSAFE_PERMISSIONS:
	case CRT_E_STORE:
	case CRT_E_STORE_VERSION:
	case CRT_E_STORE_COMMIT_UNKNOWN:
	case CRT_E_CA_MISSING:
	case CRT_E_CA_INVALID:
	case CRT_E_CA_KEY_MISMATCH:
	case CRT_E_CA_EXPIRED:
	case CRT_E_CA_REJECTED:
	case CRT_E_SEAL:
	case CRT_STATUS_COUNT:
		break;
	}
	return CRT_KIND_FAILURE;
}

const char *crt_kind_name(crt_kind k)
{
	static const char *const names[] = {
		[CRT_KIND_OK] = "ok",		    [CRT_KIND_INVALID] = "invalid",
		[CRT_KIND_AUTH] = "auth",	    [CRT_KIND_FORBIDDEN] = "forbidden",
		[CRT_KIND_NOT_FOUND] = "not_found", [CRT_KIND_CONFLICT] = "conflict",
		[CRT_KIND_GONE] = "gone",	    [CRT_KIND_REFUSED] = "refused",
		[CRT_KIND_LIMITED] = "limited",	    [CRT_KIND_BUSY] = "busy",
		[CRT_KIND_FAILURE] = "failure",	    [CRT_KIND_PROTOCOL] = "protocol",
	};
	if ((unsigned)k >= sizeof(names) / sizeof(names[0]))
		return "failure";
	return names[k];
}
