/*
 * routes.c — crtokend's route table: every endpoint, its method, its
 * authentication and body rules, and its handler. The table is the single
 * source of truth: `crtokend --routes` prints it and the OpenAPI test
 * compares enroll/openapi.yaml with that output.
 */
#include <stdio.h>
#include <string.h>

#include "crtokend.h"

/*
 * Admin routes (R_ADMIN) name the scope an API key needs in their last
 * column; routes_check refuses a table where one does not, and auth_admin
 * answers such a route 403 anyway (fail closed).
 */
static const struct route routes[] = {
    /* Admin (Bearer API key). */
    {"POST", "/certificate-request-tokens", h_token_create, R_ADMIN | R_BODY, CRT_SCOPE_TOKENS_WRITE},
    /* What a redemption would issue (login gate, like the redemption). */
    {"POST", "/certificate-request-tokens/preview", h_preview, R_REDEEM | R_BODY, 0},
    {"GET", "/certificate-request-tokens", h_token_list, R_ADMIN, CRT_SCOPE_TOKENS_READ},
    {"GET", "/certificate-request-tokens/{id}", h_token_get, R_ADMIN, CRT_SCOPE_TOKENS_READ},
    {"PATCH", "/certificate-request-tokens/{id}", h_token_update, R_ADMIN | R_BODY,
     CRT_SCOPE_TOKENS_WRITE},
    {"DELETE", "/certificate-request-tokens/{id}", h_token_delete, R_ADMIN, CRT_SCOPE_TOKENS_WRITE},
    /* A key generated on behalf of the owner (h_issue.c): it uses the token up. */
    {"POST", "/certificate-request-tokens/{id}/issue", h_token_issue, R_ADMIN | R_BODY,
     CRT_SCOPE_TOKENS_WRITE},
    /* Certificate requests, the approval workflow (h_requests.c): admins
     * list and decide; the requester polls its own with the poll secret. */
    {"GET", "/certificate-requests", h_request_list, R_ADMIN, CRT_SCOPE_REQUESTS_READ},
    {"GET", "/certificate-requests/{id}", h_request_get, R_ADMIN | R_POLL,
     CRT_SCOPE_REQUESTS_READ},
    {"POST", "/certificate-requests/{id}/approve", h_request_approve, R_ADMIN | R_BODY_OPT,
     CRT_SCOPE_REQUESTS_APPROVE},
    {"POST", "/certificate-requests/{id}/deny", h_request_deny, R_ADMIN | R_BODY,
     CRT_SCOPE_REQUESTS_APPROVE},
    /* The requester cancels its pending request: the poll secret, or the
     * PAM login that submitted it (HTTP Basic: R_ME), or an admin key. */
    {"POST", "/certificate-requests/{id}/cancel", h_request_cancel,
     R_ADMIN | R_POLL | R_ME | R_BODY_OPT, CRT_SCOPE_REQUESTS_APPROVE},
    /* The audit trail (h_audit.c): filters and pages. */
    {"GET", "/audit", h_audit_list, R_ADMIN, CRT_SCOPE_AUDIT_READ},
    /* The logged-in user's own requests (login gate). */
    {"GET", "/me/requests", h_me_requests, R_REDEEM, 0},
    /* Certificate profiles (h_certprofiles.c). */
    {"GET", "/profiles", h_cert_profile_list, R_ADMIN, CRT_SCOPE_TOKENS_READ},
    {"GET", "/profiles/{name}", h_cert_profile_get, R_ADMIN, CRT_SCOPE_TOKENS_READ},
    /* Redemption (login gate). Listed before {serial} routes on purpose. */
    {"POST", "/client-certificates/token/{token}", h_redeem, R_REDEEM | R_BODY, 0},
    /* Renewal (TLS client certificate, h_renew.c). */
    {"POST", "/client-certificates/renew", h_renew, R_RENEW | R_BODY, 0},
    {"GET", "/client-certificates", h_cert_list, R_ADMIN, CRT_SCOPE_CERTS_READ},
    {"GET", "/client-certificates/{serial}", h_cert_get, R_ADMIN, CRT_SCOPE_CERTS_READ},
    {"POST", "/client-certificates/{serial}/revoke", h_cert_revoke, R_ADMIN | R_BODY_OPT,
     CRT_SCOPE_CERTS_REVOKE},
    /* Self-service: the logged-in user's own certificates (h_me.c). */
    {"GET", "/me", h_me, R_ME, 0},
    {"GET", "/me/certificates", h_me_certs, R_ME, 0},
    {"POST", "/me/certificates/{serial}/revoke", h_me_cert_revoke, R_ME | R_BODY, 0},
    {"GET", "/me/certificates/{serial}/pkcs12", h_me_cert_pkcs12, R_ME, 0},
    /* Public. */
    {"GET", "/ca.pem", h_ca_pem, R_NO_CTX, 0},
    {"GET", "/crl", h_crl, 0, 0},
    {"GET", "/healthz", h_healthz, R_NO_CTX, 0},
    /* OCSP (h_ocsp.c): public, like /crl. */
    {"POST", "/ocsp", h_ocsp_post, R_OCSP, 0},
    {"GET", "/ocsp/{request}", h_ocsp_get, R_REST, 0},
    /* Onboarding profiles (h_profiles.c). */
    {"GET", "/network-profiles", h_profile_list, R_NO_CTX, 0},
    {"POST", "/network-profiles/{format}", h_profile_make, R_BODY, 0},
    /* The self-service page (h_portal.c). */
    {"GET", "/enroll", h_portal_page, R_NO_CTX, 0},
    {"GET", "/enroll/app.js", h_portal_js, R_NO_CTX, 0},
    {"GET", "/enroll/app.css", h_portal_css, R_NO_CTX, 0},
    {"GET", "/enroll/portal.json", h_portal_settings, R_NO_CTX, 0},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Does path match pattern? Copies the placeholder segment into param. */
static int path_matches(const char *pattern, const char *path, int rest, char *param,
                        size_t plen)
{
	const char *p = pattern, *s = path;

	while (*p != '\0') {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			size_t n = rest && pend != NULL && pend[1] == '\0' ? strlen(s) : strcspn(s, "/");
			if (pend == NULL || n == 0 || n >= plen)
				return 0;
			memcpy(param, s, n);
			param[n] = '\0';
			p = pend + 1;
			s += n;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}

const struct route *route_match(const char *method, const char *path, char *param, size_t plen,
                                unsigned *status, char *allow, size_t alen)
{
	char scratch[sizeof(((struct request *)0)->param)];
	int known = 0, literal = 0;
	size_t i;
	int head = strcmp(method, "HEAD") == 0;

	if (alen > 0)
		allow[0] = '\0';
	param[0] = '\0';
	/* A literal path wins over a template that also matches it
	 * (/certificate-request-tokens/preview is no token {id}). */
	for (i = 0; i < NROUTES; i++)
		if (strchr(routes[i].pattern, '{') == NULL && strcmp(routes[i].pattern, path) == 0)
			literal = 1;
	for (i = 0; i < NROUTES; i++) {
		if (literal && strchr(routes[i].pattern, '{') != NULL)
			continue;
		if (!path_matches(routes[i].pattern, path, (routes[i].flags & R_REST) != 0, scratch,
		                  sizeof(scratch)))
			continue;
		if (strcmp(routes[i].method, method) == 0 ||
		    (head && strcmp(routes[i].method, "GET") == 0)) {
			snprintf(param, plen, "%s", scratch);
			if (strlen(scratch) >= plen)
				break; /* cannot happen: same buffer size */
			*status = 200;
			return &routes[i];
		}
		/* Path known, method not: collect the Allow list. */
		if (strstr(allow, routes[i].method) == NULL) {
			size_t used = strlen(allow);
			snprintf(allow + used, alen - used, "%s%s%s", used ? ", " : "",
			         routes[i].method,
			         strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
		}
		known = 1;
	}
	*status = known ? 405 : 404;
	return NULL;
}

void routes_print(int scopes)
{
	size_t i;
	const char *sc;

	for (i = 0; i < NROUTES; i++) {
		if (!scopes) {
			printf("%s %s\n", routes[i].method, routes[i].pattern);
			continue;
		}
		sc = (routes[i].flags & R_ADMIN) ? crt_scope_name(routes[i].scope) : "-";
		printf("%s %s %s\n", routes[i].method, routes[i].pattern, sc ? sc : "(none)");
	}
}

int routes_check(void)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < NROUTES; i++)
		if ((routes[i].flags & R_ADMIN) && crt_scope_name(routes[i].scope) == NULL) {
			log_msg(LOG_ERR, "route %s %s names no API key scope", routes[i].method,
			        routes[i].pattern);
			ret = -1;
		}
	return ret;
}
