/*
 * pamgate.c — the PAM conversation behind the redemption gate.
 *
 * The redeemer sends HTTP Basic credentials; the password part answers the
 * PAM stack's prompts: with one line it answers the single prompt (OTP, or
 * a password), with "password\nOTP" a stack that asks for both. Prompts are
 * answered in order, echo on or off alike; messages are ignored. Nothing of
 * what PAM says goes back to the client, and every failure is the same 401
 * authentication_failed — unknown user, wrong code, wrong password, replay —
 * so the response never tells whether an account exists.
 *
 * A stack that cannot decide fails closed: 503 store_unavailable, or 503
 * seal_error when pam_crtoken says (CRT_PAM_STATUS_ENV) that the user's
 * sealed secret does not open with this node's OTP key — a misconfigured
 * node, which the admin must hear of and a load balancer may route around.
 * It reveals that the user is enrolled, as the 503 did before: only to a
 * client with a well-formed code, and only on a broken node.
 *
 * One failure is told apart: PAM_MAXTRIES, the stack's "locked out"
 * (pam_crtoken answers it while a user's OTP lockout is in force, and only
 * for an enrolled user), becomes otp_locked, so the page can say "wait or
 * ask your administrator" instead of "try the next code" to a user who
 * cannot succeed. What that reveals is what the lockout itself reveals, and
 * no more: the answer is decided before any code or password is looked at
 * (the same for a right and a wrong code, so it is no guessing oracle); the
 * attempt that starts a lockout still answers authentication_failed; a name
 * without OTP never locks, so learning that a name exists this way costs
 * [otp] max_failures failed logins for that name first (each counted by the
 * per-address limiter and audited), and locks the real user out, which is
 * visible to them and to the administrator.
 *
 * libpam dlopens the modules of a stack at pam_start and dlcloses them at
 * pam_end, so a module that keeps state between logins (pam_crtoken keeps
 * its crtoken instance and store sessions) would be unloaded and set up
 * again whenever no login happens to be under way. The main thread holds one
 * handle of the gate's service open (pam_gate_hold, never authenticated) to
 * keep the stack loaded while crtokend runs; a reload takes a new one.
 */
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

struct conv_state {
	const char *secret; /* remaining lines */
};

/* Copy the next line of the secret, malloc'd; NULL when none is left. */
static char *next_line(struct conv_state *cs)
{
	const char *p = cs->secret, *nl;
	size_t n;
	char *s;

	if (p == NULL)
		return NULL;
	nl = strchr(p, '\n');
	n = nl ? (size_t)(nl - p) : strlen(p);
	if (nl != NULL && n > 0 && p[n - 1] == '\r')
		n--; /* "password\r\nOTP" from clients that send CRLF */
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	cs->secret = nl ? nl + 1 : NULL;
	return s;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct conv_state *cs = data;
	struct pam_response *r;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			if ((r[i].resp = next_line(cs)) == NULL)
				goto fail; /* more prompts than answers */
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		crt_strfree_secret(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

/* pam_crtoken failed closed on a sealed secret (CRT_PAM_STATUS_ENV). */
static int seal_failed(pam_handle_t *ph)
{
	const char *v = pam_getenv(ph, CRT_PAM_STATUS_ENV);
	return v != NULL && strcmp(v, "seal_error") == 0;
}

/* Map a PAM result to the gate's answer. */
static crt_status gate_status(int rc, const char **why)
{
	switch (rc) {
	case PAM_SUCCESS:
		return CRT_OK;
	case PAM_MAXTRIES:
		return CRT_E_OTP_LOCKED; /* see the header comment */
	case PAM_AUTHINFO_UNAVAIL:
		*why = "PAM: authentication information unavailable";
		return CRT_E_STORE_UNAVAILABLE;
	case PAM_SERVICE_ERR:
	case PAM_SYSTEM_ERR:
	case PAM_BUF_ERR:
	case PAM_ABORT:
	case PAM_OPEN_ERR:
	case PAM_SYMBOL_ERR:
		*why = "PAM: service or system error";
		return CRT_E_INTERNAL;
	default:
		return CRT_E_AUTH_FAILED;
	}
}

crt_status pam_gate(const char *service, const char *user, const char *secret, const char *rhost,
                    const char **why)
{
	struct conv_state cs = {secret};
	struct pam_conv pc = {conv, &cs};
	pam_handle_t *ph = NULL;
	crt_status r;
	int rc;

	*why = NULL;
	if (user == NULL || *user == '\0' || secret == NULL)
		return CRT_E_AUTH_FAILED;
	if ((rc = pam_start(service, user, &pc, &ph)) != PAM_SUCCESS) {
		*why = "PAM: pam_start failed";
		return CRT_E_INTERNAL;
	}
	if (rhost != NULL)
		(void)pam_set_item(ph, PAM_RHOST, rhost);
	(void)pam_set_item(ph, PAM_RUSER, user);
	rc = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	r = gate_status(rc, why);
	if (rc == PAM_AUTHINFO_UNAVAIL && seal_failed(ph)) {
		/* This node's OTP key does not open the user's secret: a node
		 * set up with another key than the one that enrolled it. */
		*why = "pam_crtoken: the stored OTP secret does not open with this node's [otp] "
		       "key_file (not the key it was sealed with: every node needs the same "
		       "key)";
		r = CRT_E_SEAL;
	}
	pam_end(ph, rc);
	return r;
}

/* The held handle: only the main thread touches it. */
static pam_handle_t *held;

static int no_conv(int n, const struct pam_message **msg, struct pam_response **resp,
                   void *data)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)data;
	return PAM_CONV_ERR;
}

void pam_gate_hold(const char *service)
{
	static const struct pam_conv pc = {no_conv, NULL};
	pam_handle_t *ph = NULL;

	/* The new stack first, so modules in both never unload in between. */
	if (service != NULL && pam_start(service, "crtokend", &pc, &ph) != PAM_SUCCESS) {
		log_msg(LOG_WARNING, "PAM: pam_start(%s) failed; modules load at each login",
		        service);
		ph = NULL;
	}
	if (held != NULL)
		pam_end(held, PAM_SUCCESS);
	held = ph;
}
