/*
 * sqlite_certs.c — the SQLite backend's certificate verbs (port_certs.h):
 * the certificates table, the admission lookup, revocation, the revoked
 * list and the published CRL (table crl), and the migration's back-fill of
 * key identifiers (from the PEM, by the pure helper of x509_ids.h).
 */
#include <stdlib.h>
#include <string.h>

#include "store/list_sql.h"
#include "store/sqlite.h"
#include "x509_ids.h"

static crt_status sq_cert_insert(crt_ctx *ctx, const store_cert_row *c)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	if ((r = store_prepare(ctx,
			       "INSERT INTO certificates(serial, issuer, token_id, name, subject, "
			       "cn, org, ou, username, reply, key_type, pubkey_sha256, pem, not_before, "
			       "not_after, issued_at, ski, aki, cert_sha256, attestation, renewed_from, "
			       "profile, ca, pin_mac) "
			       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, c->serial);
	store_bind_text(st, 2, c->issuer);
	store_bind_text(st, 3, c->token_id);
	store_bind_text(st, 4, c->name);
	store_bind_text(st, 5, c->subject);
	store_bind_text(st, 6, c->cn);
	store_bind_text(st, 7, c->org);
	store_bind_text(st, 8, c->ou);
	store_bind_text(st, 9, c->username);
	store_bind_text(st, 10, c->reply);
	store_bind_text(st, 11, c->key_type);
	store_bind_text(st, 12, c->pubkey_sha256);
	store_bind_text(st, 13, c->pem);
	sqlite3_bind_int64(st, 14, c->not_before);
	sqlite3_bind_int64(st, 15, c->not_after);
	sqlite3_bind_int64(st, 16, c->issued_at);
	store_bind_text(st, 17, c->ski);
	store_bind_text(st, 18, c->aki);
	store_bind_text(st, 19, c->cert_sha256);
	store_bind_text(st, 20, c->attestation);
	store_bind_text(st, 21, c->renewed_from);
	store_bind_text(st, 22, c->profile);
	store_bind_text(st, 23, c->ca != NULL ? c->ca : CRT_CA_DEFAULT);
	store_bind_text(st, 24, c->pin_mac);
	rc = sqlite3_step(st);
	store_done(st);
	/* an uploaded certificate's serial stored meanwhile (import.c) */
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return ctx_fail(ctx, CRT_E_EXISTS, "storing the certificate: %s",
				sqlite3_errmsg(sq_db(ctx)));
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "storing the certificate");
	return CRT_OK;
}

/* The certificate's columns, what RADIUS saw of it (cert_seen, 22-29) and
 * its renewal lineage (30) and its CA (31). */
#define CERT_COLUMNS                                                                         \
	"c.serial, token_id, name, subject, cn, org, ou, issuer, username, reply, key_type, "   \
	"pubkey_sha256, pem, not_before, not_after, issued_at, revoked_at, reason, ski, aki, " \
	"cert_sha256, attestation, s.first_seen, s.last_seen, s.first_mac, s.last_mac, s.nas_ip, " \
	"s.nas_id, s.user_name, s.acct_session_id, c.renewed_from, c.profile, c.ca, c.pin_mac"
#define CERT_FROM " FROM certificates c LEFT JOIN cert_seen s ON s.serial = c.serial"

/* One row of CERT_COLUMNS into c (zeroed first); CRT_E_NOMEM when a copy fails. */
static crt_status row_to_cert(sqlite3_stmt *st, crt_cert *c)
{
	const unsigned char *t;
	char **strs[] = {&c->name,	    &c->subject,	&c->cn,	 &c->org, &c->ou,
			 &c->issuer,	    &c->user,		&c->reply, &c->key_type,
			 &c->pubkey_sha256, &c->pem};
	static const int cols[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	char **ids[] = {&c->ski, &c->aki, &c->cert_sha256, &c->attestation};

	memset(c, 0, sizeof(*c));
	snprintf(c->serial, sizeof(c->serial), "%s", (const char *)sqlite3_column_text(st, 0));
	if ((t = sqlite3_column_text(st, 1)) != NULL)
		snprintf(c->token_id, sizeof(c->token_id), "%s", (const char *)t);
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (sqlite3_column_type(st, cols[i]) != SQLITE_NULL &&
		    (*strs[i] = store_col_strdup(st, cols[i])) == NULL)
			return CRT_E_NOMEM;
	c->not_before = sqlite3_column_int64(st, 13);
	c->not_after = sqlite3_column_int64(st, 14);
	c->issued_at = sqlite3_column_int64(st, 15);
	c->revoked = sqlite3_column_type(st, 16) != SQLITE_NULL;
	c->revoked_at = sqlite3_column_int64(st, 16);
	c->reason = sqlite3_column_int(st, 17);
	for (int i = 0; i < (int)(sizeof(ids) / sizeof(ids[0])); i++)
		if (sqlite3_column_type(st, 18 + i) != SQLITE_NULL &&
		    (*ids[i] = store_col_strdup(st, 18 + i)) == NULL)
			return CRT_E_NOMEM;
	c->first_seen = sqlite3_column_int64(st, 22);
	c->last_seen = sqlite3_column_int64(st, 23);
	char **seen[] = {&c->first_mac, &c->last_mac, &c->nas_ip,
			 &c->nas_id,	&c->seen_user, &c->acct_session_id};
	for (int i = 0; i < 6; i++)
		if (sqlite3_column_type(st, 24 + i) != SQLITE_NULL &&
		    (*seen[i] = store_col_strdup(st, 24 + i)) == NULL)
			return CRT_E_NOMEM;
	if (sqlite3_column_type(st, 30) != SQLITE_NULL &&
	    (c->renewed_from = store_col_strdup(st, 30)) == NULL)
		return CRT_E_NOMEM;
	if (sqlite3_column_type(st, 31) != SQLITE_NULL &&
	    (c->profile = store_col_strdup(st, 31)) == NULL)
		return CRT_E_NOMEM;
	if ((c->ca = store_col_strdup(st, 32)) == NULL)
		return CRT_E_NOMEM;
	if (sqlite3_column_type(st, 33) != SQLITE_NULL &&
	    (c->pin_mac = store_col_strdup(st, 33)) == NULL)
		return CRT_E_NOMEM;
	return CRT_OK;
}

static crt_status sq_cert_get(crt_ctx *ctx, const char *serial, crt_cert *out, int *found)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*found = 0;
	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(ctx, "SELECT " CERT_COLUMNS CERT_FROM " WHERE c.serial = ?",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((r = row_to_cert(st, out)) != CRT_OK)
			crt_cert_clear(out);
		else
			*found = 1;
	} else if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading the certificate");
	}
	store_done(st);
	return r;
}

static crt_status sq_cert_list(crt_ctx *ctx, const crt_cert_filter *f, int64_t now,
			       crt_cert **out, size_t *n)
{
	sqlite3_stmt *st;
	crt_cert *list = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	r = store_prepare(ctx,
			  "SELECT " CERT_COLUMNS CERT_FROM " WHERE "
			  "(?1 < 0 OR (?1 = 1 AND revoked_at IS NOT NULL)"
			  " OR (?1 = 2 AND revoked_at IS NULL AND not_after < ?4)"
			  " OR (?1 = 0 AND revoked_at IS NULL AND not_after >= ?4))"
			  " AND (?2 IS NULL OR token_id = ?2)"
			  " AND (?3 < 0 OR (revoked_at IS NULL AND not_after >= ?4"
			  "                 AND not_after < ?4 + ?3 * 86400))"
			  " AND (?5 = 0 OR s.serial IS NULL)"
			  " AND (?6 <= 0 OR s.last_seen < ?4 - ?6 * 86400)"
			  " AND (?7 IS NULL OR username = ?7)"
			  " ORDER BY issued_at DESC, c.serial",
			  &st);
	if (r != CRT_OK)
		return r;
	sqlite3_bind_int(st, 1, f ? f->status : -1);
	store_bind_text(st, 2, f ? f->token_id : NULL);
	sqlite3_bind_int(st, 3, f ? f->expiring_within_days : -1);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int(st, 5, f ? f->never_seen : 0);
	sqlite3_bind_int(st, 6, f ? f->stale_days : 0);
	store_bind_text(st, 7, f ? f->user : NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		if ((r = row_to_cert(st, &list[cnt++])) != CRT_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing certificates");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
	cnt = 0;
out:
	store_done(st);
	crt_cert_list_free(list, cnt);
	return r;
}

static crt_status cert_row(sqlite3_stmt *st, void *elem)
{
	return row_to_cert(st, elem);
}

static void cert_free(void *list, size_t n)
{
	crt_cert_list_free(list, n);
}

static crt_status sq_cert_page(crt_ctx *ctx, const crt_cert_filter *f, int64_t now,
			       const crt_page *p, crt_cert **out, size_t *n, int64_t *total)
{
	list_sql q, qc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (list_sql_certs(&q, 0, CERT_COLUMNS, CERT_FROM, f, now, p, 0) != 0 ||
	    list_sql_certs(&qc, 0, CERT_COLUMNS, CERT_FROM, f, now, p, 1) != 0)
		return ctx_fail(ctx, CRT_E_INTERNAL, "the certificate list query did not fit");
	return sq_list_page(ctx, &q, &qc, sizeof(**out), p->size, cert_row, cert_free, out, n,
			    total, "listing certificates");
}

static crt_status sq_cert_revoke(crt_ctx *ctx, const char *serial, int64_t now, int reason,
				 int *changed)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*changed = 0;
	if ((r = store_prepare(ctx,
			       "UPDATE certificates SET revoked_at = ?, reason = ?, revoked_seq = "
			       "(SELECT coalesce(max(revoked_seq), 0) + 1 FROM certificates) "
			       "WHERE serial = ? AND revoked_at IS NULL",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, reason);
	sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		*changed = sqlite3_changes(sq_db(ctx));
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "revoking");
	return CRT_OK;
}

static crt_status sq_cert_admission(crt_ctx *ctx, const char *serial, store_cert_admission *out,
				    int *found)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	memset(out, 0, sizeof(*out));
	out->heartbeat = -1; /* HEARTBEAT_NONE: readers read the writers' file */
	*found = 0;
	if ((r = store_prepare(ctx,
			       "SELECT issuer, ski, aki, reply, not_before, not_after, revoked_at, "
			       "reason, s.first_mac, c.profile, c.pin_mac FROM certificates c "
			       "LEFT JOIN cert_seen s ON s.serial = c.serial WHERE c.serial = ?",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		/* The seven strings, copied into one allocation. */
		static const int col[7] = {0, 1, 2, 3, 8, 9, 10};
		const unsigned char *s[7];
		int len[7];
		size_t total = 0;
		for (int i = 0; i < 7; i++) {
			s[i] = sqlite3_column_text(st, col[i]);
			len[i] = sqlite3_column_bytes(st, col[i]);
			total += s[i] != NULL ? (size_t)len[i] + 1 : 0;
		}
		if ((out->buf = malloc(total > 0 ? total : 1)) == NULL) {
			r = CRT_E_NOMEM;
		} else {
			const char **dst[7] = {&out->issuer, &out->ski,     &out->aki,    &out->reply,
					       &out->first_mac, &out->profile, &out->pin_mac};
			char *p = out->buf;
			for (int i = 0; i < 7; i++) {
				if (s[i] == NULL)
					continue;
				memcpy(p, s[i], (size_t)len[i] + 1);
				*dst[i] = p;
				p += len[i] + 1;
			}
			out->not_before = sqlite3_column_int64(st, 4);
			out->not_after = sqlite3_column_int64(st, 5);
			out->revoked = sqlite3_column_type(st, 6) != SQLITE_NULL;
			out->revoked_at = sqlite3_column_int64(st, 6);
			out->reason = sqlite3_column_int(st, 7);
			*found = 1;
		}
	} else if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "looking up the certificate");
	}
	store_done(st);
	return r;
}

static crt_status sq_cert_revoked(crt_ctx *ctx, const char *ca, store_revoked **out, size_t *n)
{
	sqlite3_stmt *st;
	store_revoked *list = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx,
			       "SELECT serial, revoked_at, reason FROM certificates "
			       "WHERE ca = ? AND revoked_at IS NOT NULL ORDER BY serial",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, ca, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		store_revoked *e = &list[cnt++];
		snprintf(e->serial, sizeof(e->serial), "%s", (const char *)sqlite3_column_text(st, 0));
		e->revoked_at = sqlite3_column_int64(st, 1);
		e->reason = sqlite3_column_int(st, 2);
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading revocations");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
out:
	store_done(st);
	free(list);
	return r;
}

/* The CA's CRL number counter in meta: crl_number for the default CA (as
 * before several CAs), crl_number.NAME for a [ca NAME]. */
static void crl_number_key(const char *ca, char key[64])
{
	if (strcmp(ca, CRT_CA_DEFAULT) == 0)
		snprintf(key, 64, "crl_number");
	else
		snprintf(key, 64, "crl_number.%.40s", ca);
}

/* The newest revocation of ca is its highest revoked_seq: one step down the
 * certificates_ca_revoked_seq index, never a walk over the revoked rows.
 * STORE_CRL_LOCK needs nothing more than the CA's counter row (made here,
 * so the bump that follows finds it): the write transaction (BEGIN
 * IMMEDIATE) already serialises every writer of the store. The default
 * CA's CRL is the crl table's row, the others' the ca_crl rows. */
static crt_status sq_crl_load(crt_ctx *ctx, const char *ca, unsigned flags, store_crl *out)
{
	sqlite3_stmt *st;
	crt_status r;
	char key[64];
	int rc, dflt = strcmp(ca, CRT_CA_DEFAULT) == 0;

	memset(out, 0, sizeof(*out));
	if ((flags & STORE_CRL_LOCK) && !dflt) {
		crl_number_key(ca, key);
		if ((r = store_prepare(ctx,
				       "INSERT INTO meta(key, value) VALUES (?, 0) "
				       "ON CONFLICT(key) DO NOTHING",
				       &st)) != CRT_OK)
			return r;
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		store_done(st);
		if (rc != SQLITE_DONE)
			return store_error(ctx, rc, "taking the CRL publication lock");
	}
	if ((r = store_prepare(ctx,
			       dflt ? "SELECT (SELECT max(revoked_seq) FROM certificates WHERE ca = ?1),"
				      " c.number, c.this_update, c.next_update, c.revocations,"
				      " c.ca_sha256, c.der FROM (SELECT 1) LEFT JOIN crl c ON c.id = 1"
				    : "SELECT (SELECT max(revoked_seq) FROM certificates WHERE ca = ?1),"
				      " c.number, c.this_update, c.next_update, c.revocations,"
				      " c.ca_sha256, c.der FROM (SELECT 1)"
				      " LEFT JOIN ca_crl c ON c.ca = ?1",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, ca, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = store_error(ctx, rc, "reading the published CRL");
		goto out;
	}
	out->newest_revocation = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		crt_crl_meta *m = &out->meta;
		const unsigned char *fp = sqlite3_column_text(st, 5);
		out->have = 1;
		m->number = sqlite3_column_int64(st, 1);
		m->this_update = sqlite3_column_int64(st, 2);
		m->next_update = sqlite3_column_int64(st, 3);
		m->revocations = sqlite3_column_int64(st, 4);
		snprintf(m->ca_sha256, sizeof(m->ca_sha256), "%s", fp ? (const char *)fp : "");
		if (flags & STORE_CRL_DER) {
			int n = sqlite3_column_bytes(st, 6);
			const void *b = sqlite3_column_blob(st, 6);
			if (n <= 0 || b == NULL) {
				r = ctx_fail(ctx, CRT_E_STORE, "the published CRL is empty");
				goto out;
			}
			if ((out->der = malloc((size_t)n)) == NULL) {
				r = CRT_E_NOMEM;
				goto out;
			}
			memcpy(out->der, b, (size_t)n);
			out->der_len = (size_t)n;
		}
	}
	r = CRT_OK;
out:
	store_done(st);
	return r;
}

static crt_status sq_crl_save(crt_ctx *ctx, const char *ca, const crt_crl_meta *m,
			      const unsigned char *der, size_t der_len)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc, dflt = strcmp(ca, CRT_CA_DEFAULT) == 0;

	if ((r = store_prepare(ctx,
			       dflt ? "INSERT INTO crl(id, number, this_update, next_update, revocations,"
				      " ca_sha256, der) VALUES (1, ?, ?, ?, ?, ?, ?)"
				      " ON CONFLICT(id) DO UPDATE SET number = excluded.number,"
				      " this_update = excluded.this_update,"
				      " next_update = excluded.next_update,"
				      " revocations = excluded.revocations,"
				      " ca_sha256 = excluded.ca_sha256, der = excluded.der"
				    : "INSERT INTO ca_crl(number, this_update, next_update, revocations,"
				      " ca_sha256, der, ca) VALUES (?, ?, ?, ?, ?, ?, ?)"
				      " ON CONFLICT(ca) DO UPDATE SET number = excluded.number,"
				      " this_update = excluded.this_update,"
				      " next_update = excluded.next_update,"
				      " revocations = excluded.revocations,"
				      " ca_sha256 = excluded.ca_sha256, der = excluded.der",
			       &st)) != CRT_OK)
		return r;
	if (!dflt)
		sqlite3_bind_text(st, 7, ca, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 1, m->number);
	sqlite3_bind_int64(st, 2, m->this_update);
	sqlite3_bind_int64(st, 3, m->next_update);
	sqlite3_bind_int64(st, 4, m->revocations);
	sqlite3_bind_text(st, 5, m->ca_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, der, (int)der_len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "storing the CRL");
	return CRT_OK;
}

static crt_status sq_cert_renewal_of(crt_ctx *ctx, const char *serial, char *child, int *found)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc;

	*found = 0;
	child[0] = '\0';
	if ((r = store_prepare(ctx, "SELECT serial FROM certificates WHERE renewed_from = ?",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(child, 72, "%s", (const char *)sqlite3_column_text(st, 0));
		*found = 1;
	} else if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading the renewal");
	}
	store_done(st);
	return r;
}

static crt_status sq_cert_supersede_due(crt_ctx *ctx, int64_t issued_before, store_renewal **out,
					size_t *n)
{
	sqlite3_stmt *st;
	store_renewal *list = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx,
			       "SELECT c.serial, c.renewed_from, c.issued_at, s.first_seen FROM certificates c "
			       "JOIN certificates o ON o.serial = c.renewed_from "
			       "LEFT JOIN cert_seen s ON s.serial = c.serial "
			       "WHERE c.revoked_at IS NULL AND o.revoked_at IS NULL "
			       "AND (c.issued_at <= ? OR s.first_seen IS NOT NULL) "
			       "ORDER BY c.issued_at, c.serial",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, issued_before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		store_renewal *e = &list[cnt++];
		snprintf(e->serial, sizeof(e->serial), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(e->renewed_from, sizeof(e->renewed_from), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		e->issued_at = sqlite3_column_int64(st, 2);
		e->first_seen = sqlite3_column_int64(st, 3);
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "reading renewals");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
out:
	store_done(st);
	free(list);
	return r;
}

crt_status sq_cert_backfill_keys(crt_ctx *ctx)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	char last[72] = "";
	crt_status r = CRT_OK;
	int rc;

	/* One row at a time in serial order, so the table is never updated
	 * under an open cursor; a row whose PEM does not parse stays NULL
	 * (and is never admitted). */
	rc = sqlite3_prepare_v2(sq_db(ctx),
				"SELECT serial, pem FROM certificates WHERE cert_sha256 IS NULL "
				"AND serial > ? ORDER BY serial LIMIT 1",
				-1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(sq_db(ctx),
					"UPDATE certificates SET ski = ?, aki = ?, cert_sha256 = ? "
					"WHERE serial = ?",
					-1, &upd, NULL);
	if (rc != SQLITE_OK) {
		r = store_error(ctx, rc, "back-filling key identifiers");
		goto out;
	}
	for (;;) {
		const unsigned char *pem;
		char *ski = NULL, *aki = NULL, *fp = NULL;
		crt_status ids;

		sqlite3_bind_text(sel, 1, last, -1, SQLITE_TRANSIENT);
		if ((rc = sqlite3_step(sel)) == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = store_error(ctx, rc, "back-filling key identifiers");
			goto out;
		}
		snprintf(last, sizeof(last), "%s", (const char *)sqlite3_column_text(sel, 0));
		pem = sqlite3_column_text(sel, 1);
		ids = x509_ids_from_pem((const char *)pem, &ski, &aki, &fp);
		sqlite3_reset(sel);
		if (ids == CRT_E_NOMEM) {
			r = ids;
			goto out;
		}
		if (ids != CRT_OK)
			continue; /* does not parse: stays NULL */
		store_bind_text(upd, 1, ski);
		store_bind_text(upd, 2, aki);
		store_bind_text(upd, 3, fp);
		sqlite3_bind_text(upd, 4, last, -1, SQLITE_TRANSIENT);
		if ((rc = sqlite3_step(upd)) != SQLITE_DONE)
			r = store_error(ctx, rc, "back-filling key identifiers");
		sqlite3_reset(upd);
		free(ski);
		free(aki);
		free(fp);
		if (r != CRT_OK)
			goto out;
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return r;
}

/* NULL for "" too: an absent attribute is stored as SQL NULL. */
static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	store_bind_text(st, i, v != NULL && *v != '\0' ? v : NULL);
}

/* ?1..?9 of both statements of seen_merge: one sighting's values. */
static void bind_sighting(sqlite3_stmt *st, const store_seen *v)
{
	sqlite3_bind_text(st, 1, v->serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v->first_at);
	sqlite3_bind_int64(st, 3, v->last_at);
	bind_opt(st, 4, v->first_mac);
	bind_opt(st, 5, v->mac);
	bind_opt(st, 6, v->nas_ip);
	bind_opt(st, 7, v->nas_id);
	bind_opt(st, 8, v->user_name);
	bind_opt(st, 9, v->acct_session_id);
}

static crt_status sq_seen_merge(crt_ctx *ctx, const store_seen *v, int *inserted)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc, changes = 0;

	*inserted = 0;
	/* A new row only for a stored certificate; then, if there was one
	 * already, the merge (SET sees the row's old values). */
	if ((r = store_prepare(ctx,
			       "INSERT INTO cert_seen(serial, first_seen, last_seen, first_mac, "
			       "last_mac, nas_ip, nas_id, user_name, acct_session_id) "
			       "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS "
			       "(SELECT 1 FROM certificates WHERE serial = ?1) "
			       "ON CONFLICT(serial) DO NOTHING",
			       &st)) != CRT_OK)
		return r;
	bind_sighting(st, v);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		changes = sqlite3_changes(sq_db(ctx));
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "recording what RADIUS saw");
	if (changes == 1) {
		*inserted = 1;
		return CRT_OK;
	}
	if ((r = store_prepare(ctx,
			       "UPDATE cert_seen SET first_seen = min(first_seen, ?2),"
			       " last_seen = max(last_seen, ?3),"
			       " first_mac = coalesce(first_mac, ?4),"
			       " last_mac = CASE WHEN ?3 >= last_seen THEN ?5 ELSE last_mac END,"
			       " nas_ip = CASE WHEN ?3 >= last_seen THEN ?6 ELSE nas_ip END,"
			       " nas_id = CASE WHEN ?3 >= last_seen THEN ?7 ELSE nas_id END,"
			       " user_name = CASE WHEN ?3 >= last_seen THEN ?8 ELSE user_name END,"
			       " acct_session_id = CASE WHEN ?3 >= last_seen THEN ?9"
			       " ELSE acct_session_id END WHERE serial = ?1",
			       &st)) != CRT_OK)
		return r;
	bind_sighting(st, v);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "recording what RADIUS saw");
	return CRT_OK;
}

static crt_status sq_pin_claim(crt_ctx *ctx, const char *serial, const char *mac, int64_t now,
			       char *winner, size_t winner_len, int *pinned)
{
	sqlite3_stmt *st;
	crt_status r;
	int rc, changes = 0;

	*pinned = 0;
	winner[0] = '\0';
	if ((r = store_prepare(ctx,
			       "INSERT INTO cert_seen(serial, first_seen, last_seen, first_mac, "
			       "last_mac) SELECT ?1, ?3, ?3, ?2, ?2 WHERE EXISTS "
			       "(SELECT 1 FROM certificates WHERE serial = ?1) "
			       "ON CONFLICT(serial) DO UPDATE SET first_mac = ?2 "
			       "WHERE first_mac IS NULL",
			       &st)) != CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		changes = sqlite3_changes(sq_db(ctx));
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "pinning the MAC address");
	*pinned = changes == 1;
	if ((r = store_prepare(ctx, "SELECT first_mac FROM cert_seen WHERE serial = ?", &st)) !=
	    CRT_OK)
		return r;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(winner, winner_len, "%s", (const char *)sqlite3_column_text(st, 0));
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(ctx, rc, "pinning the MAC address");
	return CRT_OK;
}

const struct store_cert_ops sqlite_cert_ops = {
	.insert = sq_cert_insert,
	.get = sq_cert_get,
	.list = sq_cert_list,
	.page = sq_cert_page,
	.revoke = sq_cert_revoke,
	.admission = sq_cert_admission,
	.revoked = sq_cert_revoked,
	.crl_load = sq_crl_load,
	.crl_save = sq_crl_save,
	.seen_merge = sq_seen_merge,
	.pin_claim = sq_pin_claim,
	.renewal_of = sq_cert_renewal_of,
	.supersede_due = sq_cert_supersede_due,
};
