/*
 * pg_certs.c — the PostgreSQL backend's certificate verbs (port_certs.h):
 * the certificates table, the admission lookup (the RADIUS hot path: one
 * prepared point select), revocation, the revoked list and the published
 * CRL (table crl).
 *
 * revoke numbers revocations from the counter meta('revoked_seq'), bumped
 * in the same statement: the counter's row lock is held to commit, so two
 * nodes never hand out the same number (a max(revoked_seq) + 1 subquery
 * could); the domain takes the publication lock (crl_load STORE_CRL_LOCK)
 * before it, so revocations and CRLs are serialised.
 * The statement is guarded by revoked_at IS NULL, its row count the
 * answer: two nodes revoking one certificate revoke (and audit) it once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/pg.h"

static crt_status pg_cert_insert(crt_ctx *ctx, const store_cert_row *c)
{
	pg_params p = {0};
	pp_text(&p, c->serial);
	pp_text(&p, c->issuer);
	pp_text(&p, c->token_id);
	pp_text(&p, c->name);
	pp_text(&p, c->subject);
	pp_text(&p, c->cn);
	pp_text(&p, c->org);
	pp_text(&p, c->ou);
	pp_text(&p, c->username);
	pp_text(&p, c->reply);
	pp_text(&p, c->key_type);
	pp_text(&p, c->pubkey_sha256);
	pp_text(&p, c->pem);
	pp_int(&p, c->not_before);
	pp_int(&p, c->not_after);
	pp_int(&p, c->issued_at);
	pp_text(&p, c->ski);
	pp_text(&p, c->aki);
	pp_text(&p, c->cert_sha256);
	pp_text(&p, c->attestation);
	pp_text(&p, c->renewed_from);
	pp_text(&p, c->profile);
	pp_text(&p, c->ca != NULL ? c->ca : CRT_CA_DEFAULT);
	pp_text(&p, c->pin_mac);
	return pg_exec(ctx,
		       "INSERT INTO certificates(serial, issuer, token_id, name, subject, "
		       "cn, org, ou, username, reply, key_type, pubkey_sha256, pem, not_before, "
		       "not_after, issued_at, ski, aki, cert_sha256, attestation, renewed_from, "
		       "profile, ca, pin_mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
		       "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)",
		       &p, NULL, NULL, "storing the certificate");
}

/* The certificate's columns, what RADIUS saw of it (cert_seen, 22-29) and
 * its renewal lineage (30) and its CA (31). */
#define CERT_COLUMNS                                                                         \
	"c.serial, token_id, name, subject, cn, org, ou, issuer, username, reply, key_type, "   \
	"pubkey_sha256, pem, not_before, not_after, issued_at, revoked_at, reason, ski, aki, " \
	"cert_sha256, attestation, s.first_seen, s.last_seen, s.first_mac, s.last_mac, s.nas_ip, " \
	"s.nas_id, s.user_name, s.acct_session_id, c.renewed_from, c.profile, c.ca, c.pin_mac"
#define CERT_FROM " FROM certificates c LEFT JOIN cert_seen s ON s.serial = c.serial"

static crt_status row_to_cert(const PGresult *res, int row, crt_cert *c)
{
	char **strs[] = {&c->name,	    &c->subject, &c->cn,	&c->org,
			 &c->ou,	    &c->issuer,	 &c->user,	&c->reply,
			 &c->key_type,	    &c->pubkey_sha256, &c->pem, &c->ski,
			 &c->aki,	    &c->cert_sha256, &c->attestation, &c->renewed_from,
			 &c->profile, &c->ca, &c->pin_mac};
	static const int cols[] = {2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
				   12, 18, 19, 20, 21, 30, 31, 32, 33};

	memset(c, 0, sizeof(*c));
	snprintf(c->serial, sizeof(c->serial), "%s", PQgetvalue(res, row, 0));
	if (!pg_null(res, row, 1))
		snprintf(c->token_id, sizeof(c->token_id), "%s", PQgetvalue(res, row, 1));
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (!pg_null(res, row, cols[i]) && (*strs[i] = pg_strdup(res, row, cols[i])) == NULL)
			return CRT_E_NOMEM;
	c->not_before = pg_int(res, row, 13);
	c->not_after = pg_int(res, row, 14);
	c->issued_at = pg_int(res, row, 15);
	c->revoked = !pg_null(res, row, 16);
	c->revoked_at = pg_int(res, row, 16);
	c->reason = (int)pg_int(res, row, 17);
	c->first_seen = pg_int(res, row, 22);
	c->last_seen = pg_int(res, row, 23);
	char **seen[] = {&c->first_mac, &c->last_mac, &c->nas_ip,
			 &c->nas_id,	&c->seen_user, &c->acct_session_id};
	for (int i = 0; i < 6; i++)
		if (!pg_null(res, row, 24 + i) && (*seen[i] = pg_strdup(res, row, 24 + i)) == NULL)
			return CRT_E_NOMEM;
	return CRT_OK;
}

static crt_status pg_cert_get(crt_ctx *ctx, const char *serial, crt_cert *out, int *found)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	*found = 0;
	memset(out, 0, sizeof(*out));
	pp_text(&p, serial);
	if ((r = pg_exec(ctx, "SELECT " CERT_COLUMNS CERT_FROM " WHERE c.serial = $1", &p,
			 &res, NULL, "reading the certificate")) != CRT_OK)
		return r;
	if (PQntuples(res) > 0) {
		if ((r = row_to_cert(res, 0, out)) != CRT_OK)
			crt_cert_clear(out);
		else
			*found = 1;
	}
	PQclear(res);
	return r;
}

static crt_status pg_cert_list(crt_ctx *ctx, const crt_cert_filter *f, int64_t now,
			       crt_cert **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	crt_cert *list;
	crt_status r = CRT_OK;
	int cnt, i;

	*out = NULL;
	*n = 0;
	pp_int(&p, f ? f->status : -1);
	pp_text(&p, f ? f->token_id : NULL);
	pp_int(&p, f ? f->expiring_within_days : -1);
	pp_int(&p, now);
	pp_int(&p, f ? f->never_seen : 0);
	pp_int(&p, f ? f->stale_days : 0);
	pp_text(&p, f ? f->user : NULL);
	if ((r = pg_exec(ctx,
			 "SELECT " CERT_COLUMNS CERT_FROM " WHERE "
			 "(CAST($1 AS integer) < 0 OR ($1 = 1 AND revoked_at IS NOT NULL)"
			 " OR ($1 = 2 AND revoked_at IS NULL AND not_after < $4)"
			 " OR ($1 = 0 AND revoked_at IS NULL AND not_after >= $4))"
			 " AND (CAST($2 AS text) IS NULL OR token_id = $2)"
			 " AND (CAST($3 AS integer) < 0 OR (revoked_at IS NULL AND not_after >= $4"
			 "                 AND not_after < CAST($4 AS bigint) + $3 * 86400))"
			 " AND (CAST($5 AS integer) = 0 OR s.serial IS NULL)"
			 " AND (CAST($6 AS integer) <= 0 OR s.last_seen < CAST($4 AS bigint) - $6 * 86400)"
			 " AND (CAST($7 AS text) IS NULL OR username = $7)"
			 " ORDER BY issued_at DESC, c.serial",
			 &p, &res, NULL, "listing certificates")) != CRT_OK)
		return r;
	if ((r = pg_rows_alloc(res, sizeof(*list), &list, &cnt)) != CRT_OK) {
		PQclear(res);
		return r;
	}
	for (i = 0; i < cnt; i++)
		if ((r = row_to_cert(res, i, &list[i])) != CRT_OK)
			break;
	PQclear(res);
	if (r != CRT_OK) {
		crt_cert_list_free(list, (size_t)(i + 1));
		return r;
	}
	*out = list;
	*n = (size_t)cnt;
	return CRT_OK;
}

static crt_status cert_row(const PGresult *res, int i, void *elem)
{
	return row_to_cert(res, i, elem);
}

static void cert_free(void *list, size_t n)
{
	crt_cert_list_free(list, n);
}

static crt_status pg_cert_page(crt_ctx *ctx, const crt_cert_filter *f, int64_t now,
			       const crt_page *p, crt_cert **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_certs(&q, 1, CERT_COLUMNS, CERT_FROM, f, now, p, 0) != 0 ||
	    list_sql_certs(&qc, 1, CERT_COLUMNS, CERT_FROM, f, now, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the certificate list query did not fit");
	return pg_list_page(ctx, &q, &qc, sizeof(**out), cert_row, cert_free, out, n, total,
			    "listing certificates");
}

static crt_status pg_cert_revoke(crt_ctx *ctx, const char *serial, int64_t now, int reason,
				 int *changed)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	*changed = 0;
	pp_int(&p, now);
	pp_int(&p, reason);
	pp_text(&p, serial);
	if ((r = pg_exec(ctx,
			 "WITH s AS (INSERT INTO meta(key, value) VALUES ('revoked_seq', "
			 "(SELECT coalesce(max(revoked_seq), 0) + 1 FROM certificates)) "
			 "ON CONFLICT(key) DO UPDATE SET value = meta.value + 1 RETURNING value) "
			 "UPDATE certificates SET revoked_at = $1, reason = $2, "
			 "revoked_seq = (SELECT value FROM s) "
			 "WHERE serial = $3 AND revoked_at IS NULL",
			 &p, NULL, &changes, "revoking")) != CRT_OK)
		return r;
	*changed = (int)changes;
	return CRT_OK;
}

static crt_status pg_cert_admission(crt_ctx *ctx, const char *serial, store_cert_admission *out,
				    int *found)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	memset(out, 0, sizeof(*out));
	*found = 0;
	pp_text(&p, serial);
	/* One row always: the heartbeat comes with the answer, found or not
	 * (a reader on a standby learns how old its copy is in the same round
	 * trip). Columns 9 and 10: the heartbeat, the row's serial; 11 and 12 its
	 * profile and pin_mac. */
	if ((r = pg_exec(ctx,
			 "SELECT issuer, ski, aki, reply, not_before, not_after, revoked_at, "
			 "reason, s.first_mac, "
			 "(SELECT value FROM meta WHERE key = 'heartbeat'), c.serial, c.profile, "
			 "c.pin_mac "
			 "FROM (VALUES (1)) one LEFT JOIN certificates c ON c.serial = $1 "
			 "LEFT JOIN cert_seen s ON s.serial = c.serial",
			 &p, &res, NULL, "looking up the certificate")) != CRT_OK)
		return r;
	out->heartbeat = !pg_c(ctx)->readonly ? -1 : PQntuples(res) > 0 ? pg_int(res, 0, 9) : 0;
	if (PQntuples(res) > 0 && !pg_null(res, 0, 10)) {
		static const int col[7] = {0, 1, 2, 3, 8, 11, 12};
		size_t total = 0;
		for (int i = 0; i < 7; i++)
			total += pg_null(res, 0, col[i]) ? 0 : (size_t)PQgetlength(res, 0, col[i]) + 1;
		if ((out->buf = malloc(total > 0 ? total : 1)) == NULL) {
			r = CRT_E_NOMEM;
		} else {
			const char **dst[7] = {&out->issuer, &out->ski,     &out->aki,    &out->reply,
					       &out->first_mac, &out->profile, &out->pin_mac};
			char *q = out->buf;
			for (int i = 0; i < 7; i++) {
				if (pg_null(res, 0, col[i]))
					continue;
				size_t len = (size_t)PQgetlength(res, 0, col[i]);
				memcpy(q, PQgetvalue(res, 0, col[i]), len + 1);
				*dst[i] = q;
				q += len + 1;
			}
			out->not_before = pg_int(res, 0, 4);
			out->not_after = pg_int(res, 0, 5);
			out->revoked = !pg_null(res, 0, 6);
			out->revoked_at = pg_int(res, 0, 6);
			out->reason = (int)pg_int(res, 0, 7);
			*found = 1;
		}
	}
	PQclear(res);
	return r;
}

static crt_status pg_cert_revoked(crt_ctx *ctx, const char *ca, store_revoked **out, size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	store_revoked *list;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_text(&p, ca);
	if ((r = pg_exec(ctx,
			 "SELECT serial, revoked_at, reason FROM certificates "
			 "WHERE ca = $1 AND revoked_at IS NOT NULL ORDER BY serial",
			 &p, &res, NULL, "reading revocations")) != CRT_OK)
		return r;
	if ((r = pg_rows_alloc(res, sizeof(*list), &list, &cnt)) != CRT_OK) {
		PQclear(res);
		return r;
	}
	for (int i = 0; i < cnt; i++) {
		snprintf(list[i].serial, sizeof(list[i].serial), "%s", PQgetvalue(res, i, 0));
		list[i].revoked_at = pg_int(res, i, 1);
		list[i].reason = (int)pg_int(res, i, 2);
	}
	PQclear(res);
	*out = list;
	*n = (size_t)cnt;
	return CRT_OK;
}

/* STORE_CRL_LOCK: the publication lock of a CA is the row lock of its CRL
 * number counter in meta (crl_number for the default CA, a row that always
 * exists; crl_number.NAME for a [ca NAME], made here on first use), held to
 * commit. The default CA's CRL is the crl table's row, the others' the
 * ca_crl rows. */
static crt_status pg_crl_load(crt_ctx *ctx, const char *ca, unsigned flags, store_crl *out)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;
	int dflt = strcmp(ca, CRT_CA_DEFAULT) == 0;

	memset(out, 0, sizeof(*out));
	if (flags & STORE_CRL_LOCK) {
		pg_params k = {0};
		char key[64];
		if (!pg_c(ctx)->in_txn)
			return ctx_fail(ctx, CRT_E_INTERNAL,
					"the CRL publication lock is taken outside a write transaction");
		if (dflt)
			snprintf(key, sizeof(key), "crl_number");
		else
			snprintf(key, sizeof(key), "crl_number.%.40s", ca);
		pp_text(&k, key);
		if (!dflt &&
		    (r = pg_exec(ctx,
				 "INSERT INTO meta(key, value) VALUES ($1, 0) ON CONFLICT (key) DO NOTHING",
				 &k, NULL, NULL, "taking the CRL publication lock")) != CRT_OK)
			return r;
		if ((r = pg_exec(ctx, "SELECT value FROM meta WHERE key = $1 FOR UPDATE", &k, NULL,
				 NULL, "taking the CRL publication lock")) != CRT_OK)
			return r;
	}
	pp_text(&p, ca);
	if ((r = pg_exec(ctx,
			 dflt ? "SELECT (SELECT max(revoked_seq) FROM certificates WHERE ca = $1),"
				" c.number, c.this_update, c.next_update, c.revocations, c.ca_sha256,"
				" c.der FROM (SELECT 1) AS one LEFT JOIN crl c ON c.id = 1"
			      : "SELECT (SELECT max(revoked_seq) FROM certificates WHERE ca = $1),"
				" c.number, c.this_update, c.next_update, c.revocations, c.ca_sha256,"
				" c.der FROM (SELECT 1) AS one LEFT JOIN ca_crl c ON c.ca = $1",
			 &p, &res, NULL, "reading the published CRL")) != CRT_OK)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return ctx_fail(ctx, CRT_E_STORE, "reading the published CRL: no row");
	}
	out->newest_revocation = pg_int(res, 0, 0);
	if (!pg_null(res, 0, 1)) {
		crt_crl_meta *m = &out->meta;
		out->have = 1;
		m->number = pg_int(res, 0, 1);
		m->this_update = pg_int(res, 0, 2);
		m->next_update = pg_int(res, 0, 3);
		m->revocations = pg_int(res, 0, 4);
		snprintf(m->ca_sha256, sizeof(m->ca_sha256), "%s", PQgetvalue(res, 0, 5));
		if (flags & STORE_CRL_DER) {
			out->der = pg_bytea(res, 0, 6, &out->der_len);
			if (out->der == NULL || out->der_len == 0) {
				r = out->der == NULL && !pg_null(res, 0, 6)
					    ? CRT_E_NOMEM
					    : ctx_fail(ctx, CRT_E_STORE, "the published CRL is empty");
				free(out->der);
				out->der = NULL;
				out->der_len = 0;
			}
		}
	}
	PQclear(res);
	return r;
}

static crt_status pg_crl_save(crt_ctx *ctx, const char *ca, const crt_crl_meta *m,
			      const unsigned char *der, size_t der_len)
{
	pg_params p = {0};
	int dflt = strcmp(ca, CRT_CA_DEFAULT) == 0;
	pp_int(&p, m->number);
	pp_int(&p, m->this_update);
	pp_int(&p, m->next_update);
	pp_int(&p, m->revocations);
	pp_text(&p, m->ca_sha256);
	pp_blob(&p, der, der_len);
	if (!dflt)
		pp_text(&p, ca);
	return pg_exec(ctx,
		       dflt ? "INSERT INTO crl(id, number, this_update, next_update, revocations,"
			      " ca_sha256, der) VALUES (1, $1, $2, $3, $4, $5, $6)"
			      " ON CONFLICT(id) DO UPDATE SET number = excluded.number,"
			      " this_update = excluded.this_update, next_update = excluded.next_update,"
			      " revocations = excluded.revocations, ca_sha256 = excluded.ca_sha256,"
			      " der = excluded.der"
			    : "INSERT INTO ca_crl(number, this_update, next_update, revocations,"
			      " ca_sha256, der, ca) VALUES ($1, $2, $3, $4, $5, $6, $7)"
			      " ON CONFLICT(ca) DO UPDATE SET number = excluded.number,"
			      " this_update = excluded.this_update, next_update = excluded.next_update,"
			      " revocations = excluded.revocations, ca_sha256 = excluded.ca_sha256,"
			      " der = excluded.der",
		       &p, NULL, NULL, "storing the CRL");
}

static const char *opt(const char *v)
{
	return v != NULL && *v != '\0' ? v : NULL;
}

static void seen_params(pg_params *p, const store_seen *v)
{
	pp_text(p, v->serial);
	pp_int(p, v->first_at);
	pp_int(p, v->last_at);
	pp_text(p, opt(v->first_mac));
	pp_text(p, opt(v->mac));
	pp_text(p, opt(v->nas_ip));
	pp_text(p, opt(v->nas_id));
	pp_text(p, opt(v->user_name));
	pp_text(p, opt(v->acct_session_id));
}

/* Insert for a stored certificate, else merge (SET sees the old row). */
static crt_status pg_seen_merge(crt_ctx *ctx, const store_seen *v, int *inserted)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	*inserted = 0;
	seen_params(&p, v);
	if ((r = pg_exec(ctx,
			 "INSERT INTO cert_seen(serial, first_seen, last_seen, first_mac, "
			 "last_mac, nas_ip, nas_id, user_name, acct_session_id) "
			 "SELECT CAST($1 AS text), CAST($2 AS bigint), CAST($3 AS bigint), CAST($4 AS text), "
			 "CAST($5 AS text), CAST($6 AS text), CAST($7 AS text), CAST($8 AS text), "
			 "CAST($9 AS text) WHERE EXISTS "
			 "(SELECT 1 FROM certificates WHERE serial = $1) "
			 "ON CONFLICT(serial) DO NOTHING",
			 &p, NULL, &changes, "recording what RADIUS saw")) != CRT_OK)
		return r;
	if (changes == 1) {
		*inserted = 1;
		return CRT_OK;
	}
	pg_params q = {0};
	seen_params(&q, v);
	return pg_exec(ctx,
		       "UPDATE cert_seen SET first_seen = LEAST(first_seen, CAST($2 AS bigint)),"
		       " last_seen = GREATEST(last_seen, CAST($3 AS bigint)),"
		       " first_mac = coalesce(first_mac, CAST($4 AS text)),"
		       " last_mac = CASE WHEN $3 >= last_seen THEN $5 ELSE last_mac END,"
		       " nas_ip = CASE WHEN $3 >= last_seen THEN $6 ELSE nas_ip END,"
		       " nas_id = CASE WHEN $3 >= last_seen THEN $7 ELSE nas_id END,"
		       " user_name = CASE WHEN $3 >= last_seen THEN $8 ELSE user_name END,"
		       " acct_session_id = CASE WHEN $3 >= last_seen THEN $9"
		       " ELSE acct_session_id END WHERE serial = $1",
		       &q, NULL, NULL, "recording what RADIUS saw");
}

/* One statement: the row lock of the conflicting row decides between two
 * nodes pinning at once; the loser's DO UPDATE re-checks first_mac IS NULL. */
static crt_status pg_pin_claim(crt_ctx *ctx, const char *serial, const char *mac, int64_t now,
			       char *winner, size_t winner_len, int *pinned)
{
	pg_params p = {0};
	PGresult *res;
	int64_t changes = 0;
	crt_status r;

	*pinned = 0;
	winner[0] = '\0';
	pp_text(&p, serial);
	pp_text(&p, mac);
	pp_int(&p, now);
	if ((r = pg_exec(ctx,
			 "INSERT INTO cert_seen(serial, first_seen, last_seen, first_mac, last_mac) "
			 "SELECT CAST($1 AS text), CAST($3 AS bigint), CAST($3 AS bigint), CAST($2 AS text), "
			 "CAST($2 AS text) WHERE EXISTS "
			 "(SELECT 1 FROM certificates WHERE serial = $1) "
			 "ON CONFLICT(serial) DO UPDATE SET first_mac = $2 "
			 "WHERE cert_seen.first_mac IS NULL",
			 &p, NULL, &changes, "pinning the MAC address")) != CRT_OK)
		return r;
	*pinned = changes == 1;
	pg_params q = {0};
	pp_text(&q, serial);
	if ((r = pg_exec(ctx, "SELECT first_mac FROM cert_seen WHERE serial = $1", &q, &res, NULL,
			 "pinning the MAC address")) != CRT_OK)
		return r;
	if (PQntuples(res) > 0 && !pg_null(res, 0, 0))
		snprintf(winner, winner_len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return CRT_OK;
}

static crt_status pg_cert_renewal_of(crt_ctx *ctx, const char *serial, char *child, int *found)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	*found = 0;
	child[0] = '\0';
	pp_text(&p, serial);
	if ((r = pg_exec(ctx, "SELECT serial FROM certificates WHERE renewed_from = $1", &p, &res,
			 NULL, "reading the renewal")) != CRT_OK)
		return r;
	if (PQntuples(res) > 0) {
		snprintf(child, 72, "%s", PQgetvalue(res, 0, 0));
		*found = 1;
	}
	PQclear(res);
	return CRT_OK;
}

static crt_status pg_cert_supersede_due(crt_ctx *ctx, int64_t issued_before, store_renewal **out,
					size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	store_renewal *list;
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_int(&p, issued_before);
	if ((r = pg_exec(ctx,
			 "SELECT c.serial, c.renewed_from, c.issued_at, s.first_seen FROM certificates c "
			 "JOIN certificates o ON o.serial = c.renewed_from "
			 "LEFT JOIN cert_seen s ON s.serial = c.serial "
			 "WHERE c.revoked_at IS NULL AND o.revoked_at IS NULL "
			 "AND (c.issued_at <= $1 OR s.first_seen IS NOT NULL) "
			 "ORDER BY c.issued_at, c.serial",
			 &p, &res, NULL, "reading renewals")) != CRT_OK)
		return r;
	if ((r = pg_rows_alloc(res, sizeof(*list), &list, &cnt)) != CRT_OK) {
		PQclear(res);
		return r;
	}
	for (int i = 0; i < cnt; i++) {
		snprintf(list[i].serial, sizeof(list[i].serial), "%s", PQgetvalue(res, i, 0));
		snprintf(list[i].renewed_from, sizeof(list[i].renewed_from), "%s",
			 PQgetvalue(res, i, 1));
		list[i].issued_at = pg_int(res, i, 2);
		list[i].first_seen = pg_null(res, i, 3) ? 0 : pg_int(res, i, 3);
	}
	PQclear(res);
	*out = list;
	*n = (size_t)cnt;
	return CRT_OK;
}

const struct store_cert_ops pg_cert_ops = {
	.insert = pg_cert_insert,
	.get = pg_cert_get,
	.list = pg_cert_list,
	.page = pg_cert_page,
	.revoke = pg_cert_revoke,
	.admission = pg_cert_admission,
	.revoked = pg_cert_revoked,
	.crl_load = pg_crl_load,
	.crl_save = pg_crl_save,
	.seen_merge = pg_seen_merge,
	.pin_claim = pg_pin_claim,
	.renewal_of = pg_cert_renewal_of,
	.supersede_due = pg_cert_supersede_due,
};
