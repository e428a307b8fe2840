/*
 * cmd_cert.c — `crtoken-admin cert list|show|revoke`: the group; each
 * action is its own file with its own options (cert.h).
 */
#include "cert.h"

int cmd_cert(admin_env *env, int argc, char **argv);

static const char cert_help[] =
    "usage: crtoken-admin cert list [--status valid|revoked|expired] [--token ID]\n"
    "                               [--expiring-within DAYS] [--never-seen]\n"
    "                               [--stale-days N] [--page N] [--size N]\n"
    "                               [--sort issuedAt|notAfter|name|serial] [--json]\n"
    "       crtoken-admin cert show SERIAL [--pem] [--json]\n"
    "       crtoken-admin cert revoke SERIAL [--reason keyCompromise] [--json]\n"
    "       crtoken-admin cert import FILE --name N [--owner U] [--reply A=v]...\n"
    "                                 [--json]\n\n"
    "Serials are hex (colons and upper case accepted). Revocation is live for\n"
    "rlm_crtoken: the next EAP-TLS authentication of the certificate is rejected;\n"
    "a fresh CRL listing it is signed and written to [ca] crl_file at once, and\n"
    "with [coa] set a Disconnect-Request goes to the NAS of its last session\n"
    "(best effort, audited as cert.disconnect).\n"
    "--never-seen lists certificates RADIUS never admitted; --stale-days N those\n"
    "admitted, but not within N days (rlm_crtoken records admissions in batches).\n"
    "Reasons (RFC 5280): unspecified, keyCompromise, cACompromise,\n"
    "affiliationChanged, superseded, cessationOfOperation, certificateHold,\n"
    "privilegeWithdrawn, aACompromise. Each action takes only the options shown\n"
    "for it; any other is a usage error (exit status 2).\n"
    "import stores an existing client certificate (FILE: one PEM certificate, no\n"
    "key) that chains to [import] trusted_issuers, is a leaf, valid now and\n"
    "usable for client authentication; rlm_crtoken then admits it like one\n"
    "crtoken issued (radiusd's EAP-TLS ca_file must trust its issuer too), until\n"
    "it is revoked here. It is on none of crtoken's CRLs (crtoken's CAs did not\n"
    "issue it).\n";

static const admin_action *const cert_actions[] = {
    &cert_list_action,
    &cert_show_action,
    &cert_revoke_action,
    &cert_import_action,
    NULL,
};

static const admin_group cert_group = {
    .name = "cert",
    .help = cert_help,
    .actions = cert_actions,
};

int cmd_cert(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &cert_group, argc, argv);
}
