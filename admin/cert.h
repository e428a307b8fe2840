/*
 * cert.h — what the files of `crtoken-admin cert` share: the actions (one
 * file each: cert_list.c, cert_show.c, cert_revoke.c, cert_import.c; the group in
 * cmd_cert.c) and the output of one certificate (cert_show.c).
 */
#ifndef CRTOKEN_ADMIN_CERT_H
#define CRTOKEN_ADMIN_CERT_H

#include "admin.h"

extern const admin_action cert_list_action, cert_show_action, cert_revoke_action,
    cert_import_action;

/* Option values of the cert actions (unique across the group). */
enum {
	CERT_STATUS = 1000,
	CERT_TOKEN,
	CERT_EXPIRING,
	CERT_REASON,
	CERT_PEM,
	CERT_JSON,
	CERT_NEVER_SEEN,
	CERT_STALE,
	CERT_NAME,
	CERT_OWNER,
	CERT_REPLY,
};

/* Print c as cert show does: JSON with --json (certificate and chain
 * included), else text. Returns the exit status. */
int cert_print(admin_env *env, const crt_cert *c);

#endif
