/*
 * port_copy.h — the storage port, copy and status area: what
 * crt_store_copy (store_copy.c) and crt_store_status (store_status.c) ask
 * of a backend. A copy moves rows, not SQL: every table of the schema is
 * read column by column as typed values (integer, text, bytes) in primary
 * key order, so a SQLite store and a PostgreSQL one holding the same data
 * give the same values in the same order, whatever each engine's column
 * order or type names.
 */
#ifndef CRTOKEN_STORE_PORT_COPY_H
#define CRTOKEN_STORE_PORT_COPY_H

/* Columns of one table at most (copy_table_finish refuses more). */
#define COPY_MAX_COLS 64

/* A value's kind; a column's kind is the one its values have (or NULL). */
typedef enum copy_kind { COPY_NULL = 0, COPY_INT, COPY_TEXT, COPY_BLOB } copy_kind;

typedef struct copy_value {
	copy_kind kind;
	int64_t i;       /* COPY_INT */
	const void *p;   /* COPY_TEXT, COPY_BLOB: len bytes (text without a NUL) */
	size_t len;
} copy_value;

typedef struct copy_column {
	char *name;
	copy_kind kind; /* COPY_INT, COPY_TEXT or COPY_BLOB */
} copy_column;

/* A table of the store: its columns sorted by name (byte order) and the
 * primary key, as indexes into cols in key order. */
typedef struct copy_table {
	char *name;
	int ncols;
	copy_column *cols;
	int npk;
	int *pk;
} copy_table;

/* One row of a scan, values in the table's column order. A status other
 * than CRT_OK stops the scan and is its answer. */
typedef crt_status (*copy_row_fn)(void *arg, const copy_value *row);

struct store_copy_ops {
	/* Every table of the store, sorted by name (the caller frees them
	 * with copy_tables_free). */
	crt_status (*tables)(crt_ctx *ctx, copy_table **out, int *n);
	/* A read transaction over one snapshot of the store: every scan until
	 * read_end sees the same rows whatever writers commit meanwhile. */
	crt_status (*read_begin)(crt_ctx *ctx);
	void (*read_end)(crt_ctx *ctx);
	/* Every row of t in primary key order (byte order for text), each
	 * passed to fn; inside read_begin or a write transaction. */
	crt_status (*scan)(crt_ctx *ctx, const copy_table *t, copy_row_fn fn, void *arg);
	/* Rows of t: whether it holds any. */
	crt_status (*any_rows)(crt_ctx *ctx, const copy_table *t, int *any);
	/* Delete every row of t (inside a write transaction). */
	crt_status (*clear)(crt_ctx *ctx, const copy_table *t);
	/* Insert rows into t (inside a write transaction): load_begin makes
	 * the statement (*h), load_row inserts one row in t's column order,
	 * keeping the values given for generated keys; load_end frees *h and
	 * moves t's generators past the rows loaded. */
	crt_status (*load_begin)(crt_ctx *ctx, const copy_table *t, void **h);
	crt_status (*load_row)(crt_ctx *ctx, void *h, const copy_value *row);
	crt_status (*load_end)(crt_ctx *ctx, const copy_table *t, void *h);
	/* What crt_store_status reports of the backend (its fields are set to
	 * "unknown" values by the caller first). */
	crt_status (*status)(crt_ctx *ctx, crt_store_status *st);
};

void copy_tables_free(copy_table *t, int n);
/* Fill t->cols sorted by name and t->pk from the columns as the backend
 * read them (pk_pos[i]: 1-based position of cols[i] in the primary key, 0
 * if not in it); takes ownership of cols. */
crt_status copy_table_finish(copy_table *t, copy_column *cols, const int *pk_pos, int ncols);

static inline crt_status store_copy_tables(crt_ctx *ctx, copy_table **out, int *n)
{
	return STORE_CALL(ctx, copy, tables, out, n);
}
static inline crt_status store_copy_read_begin(crt_ctx *ctx)
{
	return store_fault_hit(ctx, 0) ? store_fault_fail(ctx, "read_begin")
				       : ctx->ops->copy->read_begin(ctx);
}
static inline void store_copy_read_end(crt_ctx *ctx)
{
	ctx->ops->copy->read_end(ctx);
}
static inline crt_status store_copy_scan(crt_ctx *ctx, const copy_table *t, copy_row_fn fn,
					 void *arg)
{
	return STORE_CALL(ctx, copy, scan, t, fn, arg);
}
static inline crt_status store_copy_any_rows(crt_ctx *ctx, const copy_table *t, int *any)
{
	return STORE_CALL(ctx, copy, any_rows, t, any);
}
static inline crt_status store_copy_clear(crt_ctx *ctx, const copy_table *t)
{
	return STORE_CALL(ctx, copy, clear, t);
}
static inline crt_status store_copy_load_begin(crt_ctx *ctx, const copy_table *t, void **h)
{
	return STORE_CALL(ctx, copy, load_begin, t, h);
}
static inline crt_status store_copy_load_row(crt_ctx *ctx, void *h, const copy_value *row)
{
	return STORE_CALL(ctx, copy, load_row, h, row);
}
/* Not through the fault seam: it always frees h (a load that failed
 * earlier still ends here). */
static inline crt_status store_copy_load_end(crt_ctx *ctx, const copy_table *t, void *h)
{
	return ctx->ops->copy->load_end(ctx, t, h);
}
static inline crt_status store_status_read(crt_ctx *ctx, crt_store_status *st)
{
	return STORE_CALL(ctx, copy, status, st);
}

#endif /* CRTOKEN_STORE_PORT_COPY_H */
