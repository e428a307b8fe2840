/*
 * messages.c — what crtoken-enroll tells its user for each error code the
 * server returns (the core's stable names). The cases a person can act on
 * (mistyped, used, expired, deleted, wrong owner, login) get a sentence
 * that says what to do; the rest fall back to the core's own message.
 * Whatever the server sent is shown through safe_text: a hostile server
 * cannot send escape sequences to the user's terminal.
 */
#include <stdio.h>
#include <string.h>

#include "enroll.h"

static const struct {
	const char *code, *text;
} messages[] = {
    {"token_malformed", "this is not a certificate request token (they start with \"crt_\")"},
    {"token_mistyped", "the token is mistyped: its checksum does not match; compare it "
                       "character by character with what you were given"},
    {"token_unknown", "the server does not know this token; check that you copied all of it "
                      "and use the server it was made for"},
    {"token_used", "this token has already been used: each token gives exactly one "
                   "certificate; ask your administrator for a new one"},
    {"token_expired", "this token has expired; ask your administrator for a new one"},
    {"token_deleted", "this token was withdrawn by an administrator; ask for a new one"},
    {"token_owner_mismatch", "this token was made for another user; log in as that user "
                             "(--user)"},
    {"authentication_required", "the server wants you to log in (--user and your one-time "
                                "password)"},
    {"authentication_failed", "login failed: wrong user name or one-time password (a code "
                              "can be used only once; wait for the next one)"},
    {"otp_locked", "login refused: too many wrong one-time passwords, this account is locked "
                   "for a while; try again later or ask your administrator"},
    {"permission_denied", "permission denied"},
    {"rate_limited", "too many failed logins from this address; wait and try again"},
    {"field_locked", "the token does not allow changing that field; drop --cn/--org/--ou"},
    {"field_invalid", "one of --cn/--org/--ou is not acceptable"},
    {"csr_weak_key", "the server refused the key as too weak; try --key-type ec-p256"},
    {"csr_unsupported_key", "the server does not accept this key type; try --key-type "
                            "ec-p256"},
    {"attestation_missing", "this token needs a key made on your YubiKey and its "
                            "attestation: make the CSR there and give --csr and "
                            "--attestation (see crtoken-enroll(1))"},
    {"attestation_untrusted", "the server does not trust this attestation: it does not come "
                              "from a device maker the server knows"},
    {"attestation_key_mismatch", "the attestation is of another key than the CSR's: attest "
                                 "the slot the CSR was made from"},
    {"attestation_policy", "the key's PIN or touch policy or the device's firmware is below "
                           "what this token requires; ask your administrator"},
    {"attestation_malformed", "the attestation file is not the attestation certificate "
                              "followed by the f9 certificate (PEM)"},
    {"store_busy", "the server is busy; try again in a moment"},
    {"store_unavailable", "the server cannot reach its database; try again later"},
    {"internal", "the server had an internal error; try again later or tell your "
                 "administrator"},
    {"request_too_large", "the request was too large for the server"},
    {"not_found", "no enrollment service at that URL (check --server)"},
    {"method_not_allowed", "no enrollment service at that URL (check --server)"},
    {"profile_format_unknown", "the server does not offer that network profile format"},
    {"pkcs12_not_kept", "the server keeps no PKCS#12 for this certificate: only for a key "
                        "it generated while it kept them, and not after a revocation"},
    {"network_not_configured", "the server has no network settings for profiles yet; ask "
                               "your administrator"},
};

const char *message_for(const char *code)
{
	size_t i;
	crt_status s;

	if (code == NULL)
		return "the server gave an unexpected answer";
	for (i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (strcmp(messages[i].code, code) == 0)
			return messages[i].text;
	s = crt_status_from_name(code);
	return s == CRT_STATUS_COUNT ? "the server refused the request" : crt_status_message(s);
}

void safe_text(const char *in, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0, n, i;
	uint32_t cp = 0;

	if (len == 0)
		return;
	while (*p != '\0') {
		n = crt_utf8_next(p, 4, &cp);
		/* C0, DEL, C1 controls and bytes that are not UTF-8: \xNN each. */
		if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			size_t bytes = n == 0 ? 1 : n;
			for (i = 0; i < bytes; i++) {
				if (o + 5 > len)
					goto done;
				snprintf(out + o, 5, "\\x%02x", p[i]);
				o += 4;
			}
			p += bytes;
			continue;
		}
		if (o + n + 1 > len)
			break;
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
done:
	out[o] = '\0';
}
