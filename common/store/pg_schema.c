/*
 * pg_schema.c — the PostgreSQL schema: the same logical schema, at the same
 * version, as SQLite's (store/sqlite_schema.c), in PostgreSQL's dialect:
 * bigint for SQLite's INTEGER, bytea for BLOB, an identity column for
 * audit.id (gaps and commit order are not evidence of anything), no
 * WITHOUT ROWID, COLLATE "C" on the keys the domain orders by (byte order,
 * as SQLite's), no column named user.
 *
 * No PostgreSQL store existed before schema 6, so an empty database gets
 * the whole schema at once (base[]); a later schema appends its step to
 * later[] together with SQLite's migration, and open refuses a build whose
 * two versions differ. The version lives in meta('schema_version');
 * min_compatible has the same meaning as on SQLite.
 *
 * Writers migrate inside one transaction under pg_advisory_xact_lock, so N
 * nodes starting together migrate once (DDL is transactional); a reader
 * never writes: it refuses a store that needs migrating.
 */
#include <stdio.h>
#include <string.h>

#include "store/pg.h"

int store_schema_version(void); /* store/sqlite_schema.c: the one schema version */

#define BASE_VERSION 6

static const char base[] =
	"CREATE TABLE meta(key text COLLATE \"C\" PRIMARY KEY, value bigint NOT NULL);"
	"CREATE TABLE tokens("
	" id text COLLATE \"C\" PRIMARY KEY, hash text NOT NULL UNIQUE, name text NOT NULL,"
	" cn text, org text, ou text, owner text, locked bigint NOT NULL DEFAULT 0,"
	" reply text, created_at bigint NOT NULL, expires_at bigint NOT NULL,"
	" used_at bigint, deleted_at bigint, updated_at bigint NOT NULL,"
	" serial text, created_by text, version bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_expires ON tokens(expires_at);"
	"CREATE TABLE certificates("
	" serial text COLLATE \"C\" PRIMARY KEY, issuer text NOT NULL, token_id text UNIQUE,"
	" name text NOT NULL, subject text NOT NULL, cn text, org text, ou text,"
	" username text, reply text, key_type text, pubkey_sha256 text NOT NULL,"
	" pem text NOT NULL, not_before bigint NOT NULL, not_after bigint NOT NULL,"
	" issued_at bigint NOT NULL, revoked_at bigint, reason integer,"
	" ski text, aki text, cert_sha256 text, revoked_seq bigint);"
	"CREATE INDEX certificates_not_after ON certificates(not_after);"
	"CREATE INDEX certificates_revoked_seq ON certificates(revoked_seq);"
	"CREATE TABLE otp("
	" username text COLLATE \"C\" PRIMARY KEY, secret bytea NOT NULL,"
	" algorithm text NOT NULL, digits integer NOT NULL, period integer NOT NULL,"
	" last_step bigint NOT NULL DEFAULT -1, failures integer NOT NULL DEFAULT 0,"
	" locked_until bigint NOT NULL DEFAULT 0, created_at bigint NOT NULL,"
	" lockouts integer NOT NULL DEFAULT 0);"
	"CREATE TABLE api_keys("
	" id text COLLATE \"C\" PRIMARY KEY, name text NOT NULL, hash text NOT NULL UNIQUE,"
	" created_at bigint NOT NULL, revoked_at bigint, last_used_at bigint);"
	"CREATE TABLE audit("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at bigint NOT NULL,"
	" actor text NOT NULL, action text COLLATE \"C\" NOT NULL, object text, detail text);"
	"CREATE INDEX audit_action ON audit(action, id);"
	"CREATE TABLE crl("
	" id integer PRIMARY KEY CHECK (id = 1), number bigint NOT NULL,"
	" this_update bigint NOT NULL, next_update bigint NOT NULL,"
	" revocations bigint NOT NULL, ca_sha256 text NOT NULL, der bytea NOT NULL);"
	"INSERT INTO meta(key, value) VALUES ('crl_number', 0), ('min_compatible', 6);";

/* later[i] brings the schema from BASE_VERSION + i to BASE_VERSION + i + 1
 * (append only, with SQLite's migration of the same version). */
static const char *const later[] = {
	/* 7: the event outbox, its deliveries and attempts; tokens.owner_email */
	"CREATE TABLE events("
	" seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text COLLATE \"C\" NOT NULL UNIQUE,"
	" type text COLLATE \"C\" NOT NULL, at bigint NOT NULL, dedup text UNIQUE,"
	" body text NOT NULL, routed integer NOT NULL DEFAULT 0);"
	"CREATE INDEX events_routed ON events(routed, seq);"
	"CREATE TABLE event_deliveries("
	" event_seq bigint NOT NULL, sink text COLLATE \"C\" NOT NULL,"
	" state text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,"
	" first_at bigint NOT NULL, next_at bigint NOT NULL,"
	" lease_owner text, lease_until bigint NOT NULL DEFAULT 0,"
	" done_at bigint, last_result text, PRIMARY KEY(event_seq, sink));"
	"CREATE INDEX event_deliveries_due ON event_deliveries(state, next_at);"
	"CREATE TABLE event_attempts("
	" id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_seq bigint NOT NULL,"
	" sink text NOT NULL, at bigint NOT NULL, node text, ok integer NOT NULL, result text,"
	" duration_ms bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX event_attempts_event ON event_attempts(event_seq, id);"
	"ALTER TABLE tokens ADD COLUMN owner_email text;",
	/* 8: key attestation (sqlite_schema.c) */
	"ALTER TABLE tokens ADD COLUMN attestation text;"
	"ALTER TABLE certificates ADD COLUMN attestation text;",
	/* 9: cert_seen (store/sqlite_schema.c says what it holds) */
	"CREATE TABLE cert_seen("
	" serial text COLLATE \"C\" PRIMARY KEY, first_seen bigint NOT NULL,"
	" last_seen bigint NOT NULL, first_mac text, last_mac text, nas_ip text, nas_id text,"
	" user_name text, acct_session_id text);"
	"CREATE INDEX cert_seen_last ON cert_seen(last_seen);",
	/* 10: certificates.renewed_from (renewal lineage), unique */
	"ALTER TABLE certificates ADD COLUMN renewed_from text COLLATE \"C\";"
	"CREATE UNIQUE INDEX certificates_renewed_from ON certificates(renewed_from);",
	/* 11: certificate profiles (sqlite_schema.c migration 11) */
	"ALTER TABLE tokens ADD COLUMN profile text;"
	"ALTER TABLE tokens ADD COLUMN san text;"
	"ALTER TABLE tokens ADD COLUMN valid_days integer;"
	"ALTER TABLE certificates ADD COLUMN profile text;"
	"ALTER TABLE api_keys ADD COLUMN profiles text;",
	/* 12: several CAs per instance (as SQLite's 12): tokens.ca, certificates.ca,
	 * the CRL of each [ca NAME] CA in ca_crl, numbered per CA */
	"ALTER TABLE tokens ADD COLUMN ca text NOT NULL DEFAULT 'default';"
	"ALTER TABLE certificates ADD COLUMN ca text NOT NULL DEFAULT 'default';"
	"CREATE INDEX certificates_ca_revoked_seq ON certificates(ca, revoked_seq);"
	"CREATE TABLE ca_crl("
	" ca text COLLATE \"C\" PRIMARY KEY, number bigint NOT NULL,"
	" this_update bigint NOT NULL, next_update bigint NOT NULL,"
	" revocations bigint NOT NULL, ca_sha256 text NOT NULL, der bytea NOT NULL);",
	/* 13: the approval workflow (as SQLite's 13): tokens.approval and the
	 * certificate requests */
	"ALTER TABLE tokens ADD COLUMN approval integer NOT NULL DEFAULT 0;"
	"CREATE TABLE certificate_requests("
	" id text COLLATE \"C\" PRIMARY KEY, token_id text NOT NULL UNIQUE, poll_hash text,"
	" state integer NOT NULL DEFAULT 0, cn text, org text, ou text, csr text NOT NULL,"
	" requester text, remote text, submitted_by text, attestation text,"
	" created_at bigint NOT NULL, expires_at bigint NOT NULL, decided_at bigint,"
	" decided_by text, reason text, serial text);"
	"CREATE INDEX certificate_requests_state ON certificate_requests(state, expires_at);"
	"CREATE INDEX certificate_requests_requester ON certificate_requests(requester, created_at);",
	/* 14: the admin API (as SQLite's 14): api_keys.scopes, tokens.description,
	 * audit indexes for the filters */
	"ALTER TABLE api_keys ADD COLUMN scopes text;"
	"ALTER TABLE tokens ADD COLUMN description text;"
	"CREATE INDEX audit_actor ON audit(actor, id);"
	"CREATE INDEX audit_object ON audit(object, id);"
	"CREATE INDEX audit_at ON audit(at, id);",
	/* 15 */
	"CREATE TABLE kept_pkcs12("
	" serial text COLLATE \"C\" PRIMARY KEY REFERENCES certificates(serial) ON DELETE CASCADE,"
	" owner text NOT NULL, sealed bytea NOT NULL, created_at bigint NOT NULL);"
	"CREATE INDEX kept_pkcs12_owner ON kept_pkcs12(owner);"
	"CREATE INDEX certificates_username ON certificates(username);",
	/* 16: MAC pinning per token (as SQLite's 16): tokens.pin_mac and the
	 * certificate's copy, NULL: the profile's */
	"ALTER TABLE tokens ADD COLUMN pin_mac text;"
	"ALTER TABLE certificates ADD COLUMN pin_mac text;",
	/* 17: the paged lists' default orders (as SQLite's 17) */
	"CREATE INDEX tokens_created ON tokens(created_at, id);"
	"CREATE INDEX certificates_issued ON certificates(issued_at, serial);"
	"CREATE INDEX certificate_requests_created ON certificate_requests(created_at, id);",
	NULL};
#define NLATER ((int)(sizeof(later) / sizeof(later[0])) - 1)

int pg_schema_version(void)
{
	return BASE_VERSION + NLATER;
}

/* The store's schema version: 0 when it has no meta table (empty). */
static crt_status read_version(crt_ctx *ctx, int64_t *v)
{
	PGresult *res;
	crt_status r;
	int have;

	*v = 0;
	if ((r = pg_exec(ctx, "SELECT to_regclass('meta') IS NOT NULL", NULL, &res, NULL,
			 "reading the schema version")) != CRT_OK)
		return r;
	have = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!have)
		return CRT_OK;
	pg_params p = {0};
	pp_text(&p, "schema_version");
	if ((r = pg_exec(ctx, "SELECT value FROM meta WHERE key = $1", &p, &res, NULL,
			 "reading the schema version")) != CRT_OK)
		return r;
	*v = PQntuples(res) > 0 ? pg_int(res, 0, 0) : 0;
	PQclear(res);
	return CRT_OK;
}

static crt_status newer_store(crt_ctx *ctx, int64_t v)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;
	int64_t min = v; /* no row: assume the worst */

	pp_text(&p, "min_compatible");
	if ((r = pg_exec(ctx, "SELECT value FROM meta WHERE key = $1", &p, &res, NULL,
			 "reading min_compatible")) != CRT_OK)
		return r;
	if (PQntuples(res) > 0)
		min = pg_int(res, 0, 0);
	PQclear(res);
	if (min <= pg_schema_version())
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_STORE_VERSION,
			"the PostgreSQL store %s has schema %lld, usable from version %lld on; "
			"this build knows %d",
			PQdb(pg_c(ctx)->pg), (long long)v, (long long)min, pg_schema_version());
}

static crt_status ddl(crt_ctx *ctx, const char *sql)
{
	return pg_simple(ctx, sql, "migrating the store");
}

crt_status pg_migrate(crt_ctx *ctx)
{
	int64_t v;
	crt_status r;

	if (pg_schema_version() != store_schema_version())
		return ctx_fail(ctx, CRT_E_INTERNAL,
				"this build's PostgreSQL schema (%d) and SQLite schema (%d) differ",
				pg_schema_version(), store_schema_version());
	if ((r = read_version(ctx, &v)) != CRT_OK)
		return r;
	if (v == pg_schema_version())
		return CRT_OK;
	if (v > pg_schema_version())
		return newer_store(ctx, v);
	if (ctx->flags & CRT_OPEN_READONLY)
		return ctx_fail(ctx, CRT_E_STORE_VERSION,
				"the PostgreSQL store %s has schema %lld and needs migrating to %d "
				"(run crtoken-admin)",
				PQdb(pg_c(ctx)->pg), (long long)v, pg_schema_version());
	if ((r = pg_begin_write(ctx)) != CRT_OK)
		return r;
	/* One migrator at a time across every node; then read again: another
	 * one may have done it while we waited. */
	if ((r = pg_exec(ctx, "SELECT pg_advisory_xact_lock(7526209737281413231)", NULL, NULL,
			 NULL, "locking the schema")) != CRT_OK ||
	    (r = read_version(ctx, &v)) != CRT_OK)
		goto fail;
	if (v >= pg_schema_version()) {
		pg_rollback(ctx);
		return v > pg_schema_version() ? newer_store(ctx, v) : CRT_OK;
	}
	if (v == 0) {
		if ((r = ddl(ctx, base)) != CRT_OK)
			goto fail;
		v = BASE_VERSION;
	} else if (v < BASE_VERSION) {
		r = ctx_fail(ctx, CRT_E_STORE_VERSION,
			     "the PostgreSQL store has schema %lld, older than any this build "
			     "knows",
			     (long long)v);
		goto fail;
	}
	for (; v < pg_schema_version(); v++)
		if ((r = ddl(ctx, later[v - BASE_VERSION])) != CRT_OK)
			goto fail;
	pg_params p = {0};
	pp_text(&p, "schema_version");
	pp_int(&p, v);
	if ((r = pg_exec(ctx,
			 "INSERT INTO meta(key, value) VALUES ($1, $2) "
			 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			 &p, NULL, NULL, "writing the schema version")) != CRT_OK)
		goto fail;
	if ((r = pg_audit_append(ctx, crt_now(), "crtoken", "store.migrate",
				 PQdb(pg_c(ctx)->pg), NULL)) != CRT_OK)
		goto fail;
	return pg_commit(ctx);
fail:
	pg_rollback(ctx);
	return r;
}
