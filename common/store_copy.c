/*
 * store_copy.c — crt_store_copy: every row of one store into a new store of
 * either backend (the migration path from one SQLite file to PostgreSQL,
 * and back), proven before it commits: the target, read back inside its
 * own load transaction, must give every table's row count and SHA-256 as
 * the source's snapshot gave them.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* meta('schema_version') is PostgreSQL's bookkeeping (SQLite keeps the
 * version in PRAGMA user_version): each store has its own, never copied. */
static int skipped(const copy_table *t, const copy_value *row)
{
	if (strcmp(t->name, "meta") != 0 || t->npk != 1)
		return 0;
	const copy_value *k = &row[t->pk[0]];
	return k->kind == COPY_TEXT && k->len == 14 && memcmp(k->p, "schema_version", 14) == 0;
}

static void put_u64(EVP_MD_CTX *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	EVP_DigestUpdate(h, b, sizeof(b));
}

/* The digest input of a table: its name and columns, then every row as
 * kind byte + value (integers as 8 bytes big-endian, text and bytes with
 * their 8-byte length). */
static void hash_header(EVP_MD_CTX *h, const copy_table *t)
{
	EVP_DigestUpdate(h, t->name, strlen(t->name) + 1);
	for (int c = 0; c < t->ncols; c++) {
		unsigned char k = (unsigned char)t->cols[c].kind;
		EVP_DigestUpdate(h, t->cols[c].name, strlen(t->cols[c].name) + 1);
		EVP_DigestUpdate(h, &k, 1);
	}
}

static void hash_row(EVP_MD_CTX *h, const copy_table *t, const copy_value *row)
{
	for (int c = 0; c < t->ncols; c++) {
		unsigned char k = (unsigned char)row[c].kind;
		EVP_DigestUpdate(h, &k, 1);
		if (row[c].kind == COPY_INT) {
			put_u64(h, (uint64_t)row[c].i);
		} else if (row[c].kind != COPY_NULL) {
			put_u64(h, row[c].len);
			if (row[c].len > 0)
				EVP_DigestUpdate(h, row[c].p, row[c].len);
		}
	}
}

typedef struct pass {
	crt_ctx *target;   /* load into it (NULL: only count and hash) */
	const copy_table *t;
	void *load;
	EVP_MD_CTX *h;
	int64_t rows;
} pass;

static crt_status on_row(void *arg, const copy_value *row)
{
	pass *p = arg;
	crt_status r = CRT_OK;

	if (skipped(p->t, row))
		return CRT_OK;
	hash_row(p->h, p->t, row);
	p->rows++;
	if (p->target == NULL)
		return CRT_OK;
	if (p->load != NULL)
		return store_copy_load_row(p->target, p->load, row);
	/* meta: the target made its own rows with its schema; the source's win */
	int kcol = p->t->pk[0], vcol = kcol == 0 ? 1 : 0;
	const copy_value *k = &row[kcol];
	char key[128];
	if (p->t->ncols != 2 || k->kind != COPY_TEXT || k->len >= sizeof(key) ||
	    row[vcol].kind != COPY_INT)
		return ctx_fail(p->target, CRT_E_STORE, "copy: an unexpected meta row");
	memcpy(key, k->p, k->len);
	key[k->len] = '\0';
	r = store_meta_set_int(p->target, key, row[vcol].i);
	return r;
}

/* One pass over table t of from: counted and hashed into *rows and hex,
 * loaded into target when it is not NULL. */
static crt_status table_pass(crt_ctx *from, crt_ctx *target, const copy_table *t, int64_t *rows,
			     char hex[65])
{
	pass p = {.target = target, .t = t, .h = EVP_MD_CTX_new()};
	unsigned char md[32];
	unsigned int mdlen = 0;
	crt_status r = CRT_OK;
	int meta = strcmp(t->name, "meta") == 0;

	if (p.h == NULL || !EVP_DigestInit_ex(p.h, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(p.h);
		return CRT_E_NOMEM;
	}
	if (meta && t->npk != 1) {
		EVP_MD_CTX_free(p.h);
		return ctx_fail(from, CRT_E_STORE, "copy: the meta table has no one-column key");
	}
	hash_header(p.h, t);
	if (target != NULL && !meta && (r = store_copy_load_begin(target, t, &p.load)) != CRT_OK)
		goto out;
	r = store_copy_scan(from, t, on_row, &p);
	if (p.load != NULL) {
		crt_status e = store_copy_load_end(target, t, p.load);
		if (r == CRT_OK)
			r = e;
	}
	if (r == CRT_OK && !EVP_DigestFinal_ex(p.h, md, &mdlen))
		r = CRT_E_NOMEM;
	for (unsigned int i = 0; r == CRT_OK && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	*rows = p.rows;
out:
	EVP_MD_CTX_free(p.h);
	return r;
}

/* The two stores have the same tables with the same columns. */
static crt_status same_shape(crt_ctx *ctx, const copy_table *a, int na, const copy_table *b,
			     int nb)
{
	if (na != nb)
		return ctx_fail(ctx, CRT_E_STORE_VERSION,
				"the source store has %d tables, the target %d: not the same schema",
				na, nb);
	for (int i = 0; i < na; i++) {
		if (strcmp(a[i].name, b[i].name) != 0 || a[i].ncols != b[i].ncols)
			return ctx_fail(ctx, CRT_E_STORE_VERSION,
					"table %s of the source and %s of the target differ",
					a[i].name, b[i].name);
		for (int c = 0; c < a[i].ncols; c++)
			if (strcmp(a[i].cols[c].name, b[i].cols[c].name) != 0 ||
			    a[i].cols[c].kind != b[i].cols[c].kind)
				return ctx_fail(ctx, CRT_E_STORE_VERSION,
						"column %s.%s of the source and %s of the target "
						"differ",
						a[i].name, a[i].cols[c].name, b[i].cols[c].name);
	}
	if (na > CRT_COPY_MAX_TABLES)
		return ctx_fail(ctx, CRT_E_STORE, "copy: more than %d tables",
				CRT_COPY_MAX_TABLES);
	return CRT_OK;
}

/* The audit rows a store writes about its own creation (a new target's). */
typedef struct own_rows {
	const copy_table *t;
	int action_col;
	int64_t own, other;
} own_rows;

static crt_status count_own(void *arg, const copy_value *row)
{
	own_rows *o = arg;
	const copy_value *a = &row[o->action_col];
	if (a->kind == COPY_TEXT && a->len == 13 && memcmp(a->p, "store.migrate", 13) == 0)
		o->own++;
	else
		o->other++;
	return CRT_OK;
}

/* A target holds no crtoken data: no rows but meta and the audit rows of
 * its own creation (store.migrate), which the copy replaces by the
 * source's history (*own gets how many). */
static crt_status target_empty(crt_ctx *ctx, crt_ctx *t, const copy_table *tab, int n,
			       int64_t *own)
{
	*own = 0;
	for (int i = 0; i < n; i++) {
		int any = 0;
		crt_status r;
		if (strcmp(tab[i].name, "meta") == 0)
			continue;
		if (strcmp(tab[i].name, "audit") == 0) {
			own_rows o = {.t = &tab[i], .action_col = -1};
			for (int c = 0; c < tab[i].ncols; c++)
				if (strcmp(tab[i].cols[c].name, "action") == 0)
					o.action_col = c;
			if (o.action_col < 0)
				return ctx_fail(ctx, CRT_E_STORE_VERSION,
						"the target's audit table has no action column");
			if ((r = store_copy_scan(t, &tab[i], count_own, &o)) != CRT_OK)
				return ctx_fail(ctx, r, "the target store: %s", crt_errdetail(t));
			*own = o.own;
			any = o.other > 0;
		} else if ((r = store_copy_any_rows(t, &tab[i], &any)) != CRT_OK) {
			return ctx_fail(ctx, r, "the target store: %s", crt_errdetail(t));
		}
		if (any)
			return ctx_fail(ctx, CRT_E_EXISTS,
					"the target store already holds crtoken data (table %s): "
					"a copy goes into a new, empty store",
					tab[i].name);
	}
	return CRT_OK;
}

static char *copy_detail(const char *backend, const char *where, const crt_copy_report *rep,
			 int64_t replaced)
{
	jbuf j;
	jb_begin(&j);
	jb_str(&j, "backend", backend);
	jb_str(&j, "store", where);
	jb_int(&j, "tables", rep->ntables);
	jb_int(&j, "rows", rep->rows);
	if (replaced >= 0) /* the target's own store.migrate rows, replaced by the history */
		jb_int(&j, "replacedCreationRows", replaced);
	return jb_end(&j);
}

static const char *where_of(const crt_ctx *ctx)
{
	return strcmp(ctx->cfg.backend ? ctx->cfg.backend : "sqlite", "sqlite") == 0
		       ? ctx->cfg.database
		       : ctx->cfg.conninfo;
}

static void remove_store_files(const char *db)
{
	static const char *const side[] = {"", "-wal", "-shm", "-journal"};
	char path[4200];
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", db, side[i]);
		unlink(path);
	}
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

crt_status crt_store_copy(crt_ctx *ctx, const char *to, const char *target, const char *actor,
			  crt_copy_report *rep_out)
{
	crt_copy_report rep = {0};
	int64_t own = 0;
	crt_instance *tinst = NULL;
	crt_ctx *t = NULL;
	copy_table *st = NULL, *tt = NULL;
	int sn = 0, tn = 0, reading = 0, writing = 0, made_file = 0, landed = 0;
	char err[512] = "", *detail = NULL;
	struct timespec t0;
	crt_status r;

	ctx_clear_detail(ctx);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (to == NULL || (strcmp(to, "sqlite") != 0 && strcmp(to, "postgresql") != 0))
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
				"copy to \"%s\": the backends are sqlite and postgresql",
				to ? to : "");
	if (target == NULL || *target == '\0')
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
				strcmp(to, "sqlite") == 0 ? "copy to sqlite needs the database file"
							  : "copy to postgresql needs a conninfo");
	if (strcmp(to, "postgresql") == 0 && conninfo_has_password(target))
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
				"the conninfo must not hold a password: put it in ~/.pgpass or "
				"the file PGPASSFILE names");
	if (!store_writable(ctx))
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
				"copy from a read-only session (it audits the copy in the source)");
	if ((r = instance_open_store(ctx->inst, to, target, &tinst, err, sizeof(err))) != CRT_OK)
		return ctx_fail(ctx, r, "%s", err);
	r = crt_session_open(tinst, 0, &t);
	/* A SQLite target is a new file: removed again unless the copy lands. */
	made_file = strcmp(to, "sqlite") == 0 && r != CRT_E_EXISTS;
	if (r != CRT_OK) {
		r = ctx_fail(ctx, r, "opening the target store: %s", crt_errdetail(t));
		goto out;
	}
	if ((r = store_copy_tables(ctx, &st, &sn)) != CRT_OK)
		goto out;
	if ((r = store_copy_tables(t, &tt, &tn)) != CRT_OK) {
		r = ctx_fail(ctx, r, "the target store: %s", crt_errdetail(t));
		goto out;
	}
	if ((r = same_shape(ctx, st, sn, tt, tn)) != CRT_OK ||
	    (r = target_empty(ctx, t, tt, tn, &own)) != CRT_OK)
		goto out;
	if ((r = store_copy_read_begin(ctx)) != CRT_OK)
		goto out;
	reading = 1;
	if ((r = store_begin_write(t)) != CRT_OK) {
		r = ctx_fail(ctx, r, "the target store: %s", crt_errdetail(t));
		goto out;
	}
	writing = 1;
	for (int i = 0; own > 0 && i < tn; i++)
		if (strcmp(tt[i].name, "audit") == 0 && (r = store_copy_clear(t, &tt[i])) != CRT_OK) {
			r = ctx_fail(ctx, r, "the target store: %s", crt_errdetail(t));
			goto out;
		}
	rep.ntables = sn;
	for (int i = 0; i < sn; i++) {
		crt_copy_table *ct = &rep.tables[i];
		snprintf(ct->name, sizeof(ct->name), "%s", st[i].name);
		if ((r = table_pass(ctx, t, &st[i], &ct->rows, ct->sha256)) != CRT_OK) {
			if (crt_errdetail(ctx)[0] == '\0')
				ctx_fail(ctx, r, "loading %s: %s", st[i].name, crt_errdetail(t));
			goto out;
		}
		rep.rows += ct->rows;
	}
	store_copy_read_end(ctx);
	reading = 0;
	/* Read the target back before it commits: every table as the source. */
	for (int i = 0; i < tn; i++) {
		int64_t rows = 0;
		char hex[65] = "";
		if ((r = table_pass(t, NULL, &tt[i], &rows, hex)) != CRT_OK) {
			r = ctx_fail(ctx, r, "verifying %s: %s", tt[i].name, crt_errdetail(t));
			goto out;
		}
		if (rows != rep.tables[i].rows || strcmp(hex, rep.tables[i].sha256) != 0) {
			r = ctx_fail(ctx, CRT_E_STORE,
				     "verifying the copy: table %s has %lld rows (sha256 %.16s…) in "
				     "the target, %lld (%.16s…) in the source; nothing was committed",
				     tt[i].name, (long long)rows, hex,
				     (long long)rep.tables[i].rows, rep.tables[i].sha256);
			goto out;
		}
	}
	rep.seconds = seconds_since(&t0);
	if ((detail = copy_detail(ctx->cfg.backend ? ctx->cfg.backend : "sqlite", where_of(ctx),
				  &rep, own)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = audit_write(t, actor, "store.copy.in", where_of(ctx), detail)) != CRT_OK ||
	    (r = store_commit(t)) != CRT_OK) {
		r = ctx_fail(ctx, r, "committing the target store: %s", crt_errdetail(t));
		goto out;
	}
	writing = 0;
	landed = 1;
	free(detail);
	if ((detail = copy_detail(to, target, &rep, -1)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = store_begin_write(ctx)) != CRT_OK ||
	    (r = audit_write(ctx, actor, "store.copy.out", target, detail)) != CRT_OK ||
	    (r = store_commit(ctx)) != CRT_OK) {
		char why[sizeof(ctx->detail)];
		if (r != CRT_E_STORE_COMMIT_UNKNOWN)
			store_rollback(ctx);
		snprintf(why, sizeof(why), "%s", crt_errdetail(ctx));
		ctx_fail(ctx, r,
			 "the copy landed in the target and is verified (store.copy.in), but "
			 "recording store.copy.out in the source %s: %s",
			 r == CRT_E_STORE_COMMIT_UNKNOWN ? "may not have happened" : "failed", why);
	}
out:
	if (reading)
		store_copy_read_end(ctx);
	if (writing)
		store_rollback(t);
	free(detail);
	copy_tables_free(st, sn);
	copy_tables_free(tt, tn);
	crt_close(t);
	crt_instance_unref(tinst);
	if (made_file && !landed)
		remove_store_files(target);
	if (rep_out != NULL)
		*rep_out = rep;
	return r;
}
