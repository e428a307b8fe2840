/*
 * messages.c — what crtoken-enroll tells its user for each error code the
 * server returns (the core's stable names). The cases a person can act on
 * (mistyped, used, expired, deleted, wrong owner, login) get a sentence
 * that says what to do; the rest fall back to the core's own message.
 */
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
    {"permission_denied", "permission denied"},
    {"rate_limited", "too many failed logins from this address; wait and try again"},
    {"field_locked", "the token does not allow changing that field; drop --cn/--org/--ou"},
    {"field_invalid", "one of --cn/--org/--ou is not acceptable"},
    {"csr_weak_key", "the server refused the key as too weak; try --key-type ec-p256"},
    {"csr_unsupported_key", "the server does not accept this key type; try --key-type "
                            "ec-p256"},
    {"store_busy", "the server is busy; try again in a moment"},
    {"store_unavailable", "the server cannot reach its database; try again later"},
    {"internal", "the server had an internal error; try again later or tell your "
                 "administrator"},
    {"request_too_large", "the request was too large for the server"},
    {"not_found", "no enrollment service at that URL (check --server)"},
    {"method_not_allowed", "no enrollment service at that URL (check --server)"},
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
