/*
 * rules/renew.c — the renewal decision and the supersede rule (rules/renew.h).
 */
#include <string.h>

#include "rules/renew.h"

int64_t renew_window_opens(int64_t not_after, int window_days)
{
	return not_after - (int64_t)window_days * 86400;
}

crt_status renew_decide(const renew_facts *f, int64_t now, const char **why)
{
	const char *w = "";
	crt_status r = CRT_OK;

	if (!f->enabled) {
		r = CRT_E_RENEWAL_NOT_ALLOWED;
		w = "renewal is not enabled ([renewal] enabled)";
	} else if (f->revoked) {
		r = CRT_E_CERT_REVOKED;
		w = "the certificate is revoked";
	} else if (now < f->not_before) {
		r = CRT_E_CERT_NOT_YET_VALID;
		w = "the certificate is not valid yet";
	} else if (now > f->not_after) {
		r = CRT_E_CERT_EXPIRED;
		w = "the certificate has expired: a new token is needed";
	} else if (f->window_days <= 0) {
		r = CRT_E_RENEWAL_NOT_ALLOWED;
		w = "the certificate's profile does not allow renewal (renew_days = 0)";
	} else if (now < renew_window_opens(f->not_after, f->window_days)) {
		r = CRT_E_RENEWAL_TOO_EARLY;
		w = "the renewal window has not opened yet";
	} else if (f->renewed) {
		r = CRT_E_RENEWAL_NOT_ALLOWED;
		w = "the certificate was renewed already";
	} else if (f->require_login && f->login == NULL) {
		r = CRT_E_AUTH_REQUIRED;
		w = "renewal needs the owner's login too";
	} else if (f->require_login && f->owner == NULL) {
		r = CRT_E_FORBIDDEN;
		w = "the certificate has no owner to log in as";
	} else if (f->require_login && strcmp(f->owner, f->login) != 0) {
		r = CRT_E_FORBIDDEN;
		w = "the login is not the certificate's owner";
	} else if (f->same_key && !f->allow_same_key) {
		r = CRT_E_SAME_KEY;
		w = "make a new key for the renewal";
	}
	if (why != NULL)
		*why = w;
	return r;
}

int renew_supersede_due(int64_t issued_at, int64_t first_seen, int grace_days, int64_t now)
{
	if (first_seen > 0)
		return 1;
	return now >= issued_at + (int64_t)grace_days * 86400;
}
