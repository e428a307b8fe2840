/*
 * pg_pkcs12.c — the kept-PKCS#12 verbs on PostgreSQL (port_pkcs12.h).
 * The wipe overwrites before it deletes; the old row versions stay until
 * VACUUM reclaims them (MVCC), as any PostgreSQL row's do.
 */
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

static crt_status pg_p12_put(crt_ctx *ctx, const store_p12_row *row)
{
	pg_params p = {0};

	pp_text(&p, row->serial);
	pp_text(&p, row->owner);
	pp_blob(&p, row->sealed, row->sealed_len);
	pp_int(&p, row->created_at);
	return pg_exec(ctx,
	               "INSERT INTO kept_pkcs12(serial, owner, sealed, created_at) "
	               "VALUES ($1, $2, $3, $4)",
	               &p, NULL, NULL, "keeping the PKCS#12");
}

static crt_status pg_p12_get(crt_ctx *ctx, const char *serial, store_p12_row *out, int *found)
{
	pg_params p = {0};
	PGresult *res;
	crt_status r;

	memset(out, 0, sizeof(*out));
	*found = 0;
	pp_text(&p, serial);
	if ((r = pg_exec(ctx, "SELECT owner, sealed, created_at FROM kept_pkcs12 WHERE serial = $1",
	                 &p, &res, NULL, "reading the kept PKCS#12")) != CRT_OK)
		return r;
	if (PQntuples(res) == 1) {
		snprintf(out->serial, sizeof(out->serial), "%s", serial);
		snprintf(out->owner, sizeof(out->owner), "%s", PQgetvalue(res, 0, 0));
		out->created_at = pg_int(res, 0, 2);
		if ((out->sealed = pg_bytea(res, 0, 1, &out->sealed_len)) == NULL)
			r = CRT_E_NOMEM;
		else
			*found = 1;
	}
	PQclear(res);
	return r;
}

static crt_status pg_p12_wipe(crt_ctx *ctx, const char *serial, int *wiped)
{
	pg_params p = {0};
	int64_t changes = 0;
	crt_status r;

	*wiped = 0;
	pp_text(&p, serial);
	if ((r = pg_exec(ctx,
	                 "UPDATE kept_pkcs12 SET sealed = decode(repeat('00', length(sealed)), 'hex') "
	                 "WHERE serial = $1",
	                 &p, NULL, NULL, "removing the kept PKCS#12")) != CRT_OK ||
	    (r = pg_exec(ctx, "DELETE FROM kept_pkcs12 WHERE serial = $1", &p, NULL, &changes,
	                 "removing the kept PKCS#12")) != CRT_OK)
		return r;
	*wiped = (int)changes;
	return CRT_OK;
}

static crt_status pg_p12_owned(crt_ctx *ctx, const char *owner, char (**out)[72], size_t *n)
{
	pg_params p = {0};
	PGresult *res;
	char(*list)[72];
	crt_status r;
	int cnt;

	*out = NULL;
	*n = 0;
	pp_text(&p, owner);
	if ((r = pg_exec(ctx,
	                 "SELECT serial FROM kept_pkcs12 WHERE owner = $1 ORDER BY serial COLLATE \"C\"",
	                 &p, &res, NULL, "listing kept PKCS#12")) != CRT_OK)
		return r;
	if ((r = pg_rows_alloc(res, sizeof(*list), &list, &cnt)) == CRT_OK) {
		for (int i = 0; i < cnt; i++)
			snprintf(list[i], 72, "%s", PQgetvalue(res, i, 0));
		*out = list;
		*n = (size_t)cnt;
	}
	PQclear(res);
	return r;
}

const struct store_pkcs12_ops pg_pkcs12_ops = {
    .put = pg_p12_put,
    .get = pg_p12_get,
    .wipe = pg_p12_wipe,
    .owned = pg_p12_owned,
};
