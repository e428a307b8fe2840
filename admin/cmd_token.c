/*
 * cmd_token.c — `crtoken-admin token create|list|show|update|delete|purge|issue`:
 * the group; each action is its own file with its own options (token.h).
 */
#include "token.h"

int cmd_token(admin_env *env, int argc, char **argv);

static const char token_help[] =
    "usage: crtoken-admin token create --name NAME [--cn CN] [--org O] [--ou OU]\n"
    "                                  [--owner USER] [--owner-email ADDR]\n"
    "                                  [--expires 7d|12h|30m]\n"
    "                                  [--lock cn,org,ou] [--open cn,org,ou]\n"
    "                                  [--reply 'Attribute=value']... [--profile NAME]\n"
    "                                  [--valid-days N] [--san-email ADDR]...\n"
    "                                  [--san-upn UPN] [--san-dns NAME]... [--san-uri URI]...\n"
    "                                  [--attestation ignore|verify|require]\n"
    "                                  [--attest-pin-policy never|once|always]\n"
    "                                  [--attest-touch-policy never|cached|always]\n"
    "                                  [--attest-min-firmware X.Y.Z] [--count N]\n"
    "                                  [--ca NAME] [--approval required|none]\n"
    "                                  [--pin-mac first|off] [--description TEXT]\n"
    "                                  [--json]\n"
    "       crtoken-admin token list [--state active|used|expired|deleted] [--page N]\n"
    "                                [--size N] [--sort createdAt|name|expiresAt|updatedAt]\n"
    "                                [--json]\n"
    "       crtoken-admin token show ID [--json]\n"
    "       crtoken-admin token update ID [--name N] [--cn CN] [--org O] [--ou OU]\n"
    "                                  [--owner USER] [--owner-email ADDR]\n"
    "                                  [--expires DURATION] [--lock LIST] [--open LIST]\n"
    "                                  [--valid-days N] [--san-* VALUE]... [--clear-san]\n"
    "                                  [--description TEXT]\n"
    "                                  [--attestation MODE] [--attest-* ...]\n"
    "                                  [--reply 'Attribute=value']... [--clear-reply] [--json]\n"
    "       crtoken-admin token delete ID [--json]\n"
    "       crtoken-admin token purge [--older-than DAYS] [--json]\n"
    "       crtoken-admin token issue ID --generate KEYTYPE --p12 FILE\n"
    "                                  [--passphrase-file F] [--legacy] [--json]\n\n"
    "A certificate request token pre-approves one client certificate: its name, CN,\n"
    "O, OU, optional owner (the only user allowed to redeem it) and RADIUS reply\n"
    "attributes (e.g. --reply Tunnel-Private-Group-Id=42). The token string is shown\n"
    "once at creation; only its SHA-256 is stored. Subject policy: the redeemer may\n"
    "set only the fields left empty, except the CN of a token with an owner (its\n"
    "name when no --cn is given); --open lets the redeemer change a field anyway,\n"
    "--lock forbids one even when empty. An empty value (--cn '') clears a field\n"
    "on update. --profile names the certificate profile (crtoken-admin profile\n"
    "list; default: default): it supplies the token's default lifetime, reply\n"
    "attributes and locks, and the certificate's validity, key usage and names;\n"
    "--valid-days asks for a certificate validity up to the profile's max_days.\n"
    "--san-email/--san-upn/--san-dns/--san-uri set the certificate's SubjectAltNames\n"
    "(each value checked: san_invalid; a kind given replaces the profile's template\n"
    "of that kind; never taken from the CSR); on update they replace all of them.\n"
    "delete is soft: a later redemption reports token_deleted.\n"
    "--count N makes N tokens with the same metadata (names NAME-1..NAME-N), one\n"
    "token string per line (a JSON array with --json), e.g. for a classroom.\n"
    "--attestation: whether redeeming needs a YubiKey PIV key attestation (ignore:\n"
    "not looked at; verify: one sent must be valid; require: one must be sent);\n"
    "the --attest-* minimums apply to every verified one. Unset ones (and '' on\n"
    "update) take the [attestation] defaults of crtoken.conf.\n"
    "--ca NAME: the CA that signs the certificate (a [ca NAME] section; default\n"
    "the [ca] CA, \"default\"); an unknown name is ca_unknown, nothing created.\n"
    "--approval required: a redemption stores a certificate request that waits\n"
    "for an administrator (crtoken-admin request approve|deny); the token is used\n"
    "up by the request. Default: the profile's approval (none unless set).\n"
    "--pin-mac first: RADIUS admits the certificate only from the MAC\n"
    "(Calling-Station-Id) of its first admission; off: from any. Unset: the\n"
    "profile's pin_mac ([radius] pin_mac unless the profile sets one).\n"
    "purge removes expired, used and deleted tokens older than DAYS (default 0);\n"
    "certificates are kept.\n"
    "issue generates the key on behalf of the token's owner (no end-user login):\n"
    "KEYTYPE ec-p256, ec-p384, rsa-2048, rsa-3072 or ed25519; the certificate is\n"
    "the owner's (their `crtoken-enroll list`) and the token is used up. The\n"
    "PKCS#12 (key, certificate, CA chain; --legacy: 3DES/SHA-1 for Apple and old\n"
    "Windows) goes to FILE, mode 0600, never over an existing file. Its passphrase\n"
    "is the first line of --passphrase-file F, else a generated one printed once.\n"
    "Each action takes only the options shown for it; any\n"
    "other is a usage error (exit status 2).\n";

static const admin_action *const token_actions[] = {
    &token_create_action,
    &token_list_action,
    &token_show_action,
    &token_update_action,
    &token_delete_action,
    &token_purge_action,
    &token_issue_action,
    NULL,
};

static const admin_group token_group = {
    .name = "token",
    .help = token_help,
    .actions = token_actions,
};

int cmd_token(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &token_group, argc, argv);
}
