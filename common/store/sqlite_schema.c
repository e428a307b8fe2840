/*
 * sqlite_schema.c — the SQLite schema, as forward migrations keyed by
 * PRAGMA user_version. Never edit a released entry; append a new one.
 *
 * Compatibility (docs/ARCHITECTURE.md, "Schema versions"): meta row
 * min_compatible is the oldest schema version whose binaries can still use
 * the store. An expand-only migration (a new table, a new nullable column)
 * leaves it alone, so binaries one version behind keep working during a
 * rolling upgrade; a contracting one (a rename, a drop, a new NOT NULL
 * meaning) raises it to its own version. A binary refuses a store only when
 * min_compatible exceeds the schema version it knows.
 */
#include "store/sqlite.h"

/* Key identifiers and fingerprint per certificate, so RADIUS admission is
 * bound to key material and not to name strings (rows already stored are
 * back-filled from their PEM by sq_cert_backfill_keys in the same transaction);
 * last_seen, which nothing ever wrote, goes. */
static const char migration_cert_keys[] =
	"ALTER TABLE certificates ADD COLUMN ski TEXT;"
	"ALTER TABLE certificates ADD COLUMN aki TEXT;"
	"ALTER TABLE certificates ADD COLUMN cert_sha256 TEXT;"
	"ALTER TABLE certificates DROP COLUMN last_seen;";

/* Migration i brings the schema from version i to i + 1. Never edit a
 * released entry; append a new one. */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE tokens("
	" id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
	" cn TEXT, org TEXT, ou TEXT, owner TEXT, locked INTEGER NOT NULL DEFAULT 0,"
	" reply TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
	" used_at INTEGER, deleted_at INTEGER, updated_at INTEGER NOT NULL,"
	" serial TEXT, created_by TEXT);"
	"CREATE INDEX tokens_expires ON tokens(expires_at);"
	"CREATE TABLE certificates("
	" serial TEXT PRIMARY KEY, issuer TEXT NOT NULL, token_id TEXT UNIQUE,"
	" name TEXT NOT NULL, subject TEXT NOT NULL, cn TEXT, org TEXT, ou TEXT,"
	" user TEXT, reply TEXT, key_type TEXT, pubkey_sha256 TEXT NOT NULL,"
	" pem TEXT NOT NULL, not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
	" issued_at INTEGER NOT NULL, revoked_at INTEGER, reason INTEGER,"
	" last_seen INTEGER) WITHOUT ROWID;"
	"CREATE INDEX certificates_not_after ON certificates(not_after);"
	"CREATE TABLE otp("
	" user TEXT PRIMARY KEY, secret BLOB NOT NULL, algorithm TEXT NOT NULL,"
	" digits INTEGER NOT NULL, period INTEGER NOT NULL,"
	" last_step INTEGER NOT NULL DEFAULT -1, failures INTEGER NOT NULL DEFAULT 0,"
	" locked_until INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
	"CREATE TABLE api_keys("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
	" created_at INTEGER NOT NULL, revoked_at INTEGER, last_used_at INTEGER);"
	"CREATE TABLE audit("
	" id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
	" action TEXT NOT NULL, object TEXT, detail TEXT);"
	"CREATE INDEX audit_action ON audit(action, id);"
	"INSERT INTO meta(key, value) VALUES ('crl_number', 0);",
	/* 2: tokens.version, bumped by every change of the row: the redemption's
	 * commit-time re-check compares it (updated_at has whole seconds only) */
	"ALTER TABLE tokens ADD COLUMN version INTEGER NOT NULL DEFAULT 0;",
	/* 3: otp.lockouts, consecutive lockouts since the last success (each
	 * one longer than the one before: see crt_otp_lockout_apply) */
	"ALTER TABLE otp ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;",
	/* 4: certificates.ski, aki, cert_sha256 (back-filled); last_seen dropped */
	migration_cert_keys,
	/* 5: revocations numbered (revoked_seq, indexed: the CRL freshness rule
	 * asks for the newest one) and the published CRL kept in the store */
	"ALTER TABLE certificates ADD COLUMN revoked_seq INTEGER;"
	"UPDATE certificates SET revoked_seq = 1 WHERE revoked_at IS NOT NULL;"
	"CREATE INDEX certificates_revoked_seq ON certificates(revoked_seq);"
	"CREATE TABLE crl("
	" id INTEGER PRIMARY KEY CHECK (id = 1), number INTEGER NOT NULL,"
	" this_update INTEGER NOT NULL, next_update INTEGER NOT NULL,"
	" revocations INTEGER NOT NULL, ca_sha256 TEXT NOT NULL, der BLOB NOT NULL);",
	/* 6: no column named user (a reserved word in PostgreSQL, where
	 * `SELECT user` is the session role); a contracting change, so older
	 * binaries are told the store is too new (min_compatible, below) */
	"ALTER TABLE otp RENAME COLUMN user TO username;"
	"ALTER TABLE certificates RENAME COLUMN user TO username;"
	"INSERT INTO meta(key, value) VALUES ('min_compatible', 6) "
	"ON CONFLICT(key) DO UPDATE SET value = excluded.value;",
	/* 7: the event outbox (events.c): one row per event, written in the
	 * transaction of its change; its deliveries, one per (event, sink),
	 * with a lease so that one node sends each; every attempt; and the
	 * optional ownerEmail of a token. Expand-only. */
	"CREATE TABLE events("
	" seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
	" at INTEGER NOT NULL, dedup TEXT UNIQUE, body TEXT NOT NULL,"
	" routed INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX events_routed ON events(routed, seq);"
	"CREATE TABLE event_deliveries("
	" event_seq INTEGER NOT NULL, sink TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
	" first_at INTEGER NOT NULL, next_at INTEGER NOT NULL,"
	" lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0,"
	" done_at INTEGER, last_result TEXT, PRIMARY KEY(event_seq, sink));"
	"CREATE INDEX event_deliveries_due ON event_deliveries(state, next_at);"
	"CREATE TABLE event_attempts("
	" id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, sink TEXT NOT NULL,"
	" at INTEGER NOT NULL, node TEXT, ok INTEGER NOT NULL, result TEXT,"
	" duration_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX event_attempts_event ON event_attempts(event_seq, id);"
	"ALTER TABLE tokens ADD COLUMN owner_email TEXT;",
	/* 8: key attestation — the token's policy (NULL: the [attestation]
	 * defaults) and the attested facts of a certificate (JSON, NULL: none);
	 * expand-only */
	"ALTER TABLE tokens ADD COLUMN attestation TEXT;"
	"ALTER TABLE certificates ADD COLUMN attestation TEXT;",
	/* 9: what RADIUS saw of each certificate (rlm_crtoken, batched): first
	 * and last admission, the first MAC (the pin_mac = first pin) and the
	 * last session's NAS, MAC, User-Name and Acct-Session-Id (the
	 * Disconnect-Request on revocation names them). Expand-only. */
	"CREATE TABLE cert_seen("
	" serial TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" first_mac TEXT, last_mac TEXT, nas_ip TEXT, nas_id TEXT, user_name TEXT,"
	" acct_session_id TEXT) WITHOUT ROWID;"
	"CREATE INDEX cert_seen_last ON cert_seen(last_seen);",
	/* 10: certificates.renewed_from, the lineage of a renewal (the serial the
	 * certificate replaces); unique, so a certificate is renewed once even
	 * by two nodes at the same moment. Expand-only. */
	"ALTER TABLE certificates ADD COLUMN renewed_from TEXT;"
	"CREATE UNIQUE INDEX certificates_renewed_from ON certificates(renewed_from);",
	/* 11: certificate profiles (expand-only): the profile a token names and
	 * its certificate was issued under (NULL: default), the token's
	 * SubjectAltNames ("email=...\n" lines) and validity in days, the
	 * profiles an API key may create tokens of (NULL: all) */
	"ALTER TABLE tokens ADD COLUMN profile TEXT;"
	"ALTER TABLE tokens ADD COLUMN san TEXT;"
	"ALTER TABLE tokens ADD COLUMN valid_days INTEGER;"
	"ALTER TABLE certificates ADD COLUMN profile TEXT;"
	"ALTER TABLE api_keys ADD COLUMN profiles TEXT;",
	/* 12: several CAs per instance (expand-only: rows written by binaries
	 * that know one CA are the default CA's): the CA of each token and
	 * certificate by name (the certificate's aki column holds the issuing
	 * key's identifier); the CRL of each [ca NAME] CA, numbered per CA (the
	 * default CA keeps table crl and meta crl_number) */
	"ALTER TABLE tokens ADD COLUMN ca TEXT NOT NULL DEFAULT 'default';"
	"ALTER TABLE certificates ADD COLUMN ca TEXT NOT NULL DEFAULT 'default';"
	"CREATE INDEX certificates_ca_revoked_seq ON certificates(ca, revoked_seq);"
	"CREATE TABLE ca_crl("
	" ca TEXT PRIMARY KEY, number INTEGER NOT NULL,"
	" this_update INTEGER NOT NULL, next_update INTEGER NOT NULL,"
	" revocations INTEGER NOT NULL, ca_sha256 TEXT NOT NULL, der BLOB NOT NULL);",
	/* 13: the approval workflow (expand-only): whether a token's redemption
	 * waits for an admin (0 none, 1 required), and the certificate requests
	 * such redemptions store (one per token; state: 0 pending, 2 denied,
	 * 3 issued, 4 expired — enum crt_request_state); the poll secret only
	 * as its SHA-256 */
	"ALTER TABLE tokens ADD COLUMN approval INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE certificate_requests("
	" id TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, poll_hash TEXT,"
	" state INTEGER NOT NULL DEFAULT 0, cn TEXT, org TEXT, ou TEXT, csr TEXT NOT NULL,"
	" requester TEXT, remote TEXT, submitted_by TEXT, attestation TEXT,"
	" created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, decided_at INTEGER,"
	" decided_by TEXT, reason TEXT, serial TEXT);"
	"CREATE INDEX certificate_requests_state ON certificate_requests(state, expires_at);"
	"CREATE INDEX certificate_requests_requester ON certificate_requests(requester, created_at);",
	/* 14: the admin API (expand-only): an API key's scopes (canonical text,
	 * "tokens:read,certs:read"; NULL: every scope, as keys made before had),
	 * a token's free-text description (NULL: none), and indexes for the
	 * audit filters (actor, object, time) */
	"ALTER TABLE api_keys ADD COLUMN scopes TEXT;"
	"ALTER TABLE tokens ADD COLUMN description TEXT;"
	"CREATE INDEX audit_actor ON audit(actor, id);"
	"CREATE INDEX audit_object ON audit(object, id);"
	"CREATE INDEX audit_at ON audit(at, id);",
	/* 15: self-service (expand-only): a PKCS#12 made by GENERATE / token
	 * issue kept for its owner to download again ([generate] keep_pkcs12),
	 * sealed like OTP secrets; gone with its certificate; the certificates
	 * of a user found by username */
	"CREATE TABLE kept_pkcs12("
	" serial TEXT PRIMARY KEY REFERENCES certificates(serial) ON DELETE CASCADE,"
	" owner TEXT NOT NULL, sealed BLOB NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE INDEX kept_pkcs12_owner ON kept_pkcs12(owner);"
	"CREATE INDEX certificates_username ON certificates(username);",
	/* 16: MAC pinning per token (expand-only): the token's pin_mac and its
	 * certificate's copy of it ('first' / 'off'; NULL: the profile's, which
	 * is [radius] pin_mac unless the profile sets one), read with the
	 * admission row */
	"ALTER TABLE tokens ADD COLUMN pin_mac TEXT;"
	"ALTER TABLE certificates ADD COLUMN pin_mac TEXT;",
	/* 17: the default orders of the paged lists (expand-only), so a page is
	 * read in index order and LIMIT stops early: tokens by created_at,
	 * certificates by issued_at, requests by created_at (the audit trail's
	 * audit_at is 14's) */
	"CREATE INDEX tokens_created ON tokens(created_at, id);"
	"CREATE INDEX certificates_issued ON certificates(issued_at, serial);"
	"CREATE INDEX certificate_requests_created ON certificate_requests(created_at, id);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))


const char *store_migration_sql(int v)
{
	return v >= 0 && v < SCHEMA_VERSION ? migrations[v] : NULL;
}

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

int store_migration_backfills_keys(int v)
{
	return v >= 0 && v < SCHEMA_VERSION && migrations[v] == migration_cert_keys;
}
