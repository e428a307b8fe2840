/*
 * copy_table.c — the table descriptions of the copy area (port_copy.h),
 * shared by the backends: columns sorted by name, so two engines whose
 * columns sit in different physical orders (SQLite's ALTER TABLE appends,
 * PostgreSQL's schema is made at once) describe a table the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "store/port.h"

void copy_tables_free(copy_table *t, int n)
{
	if (t == NULL)
		return;
	for (int i = 0; i < n; i++) {
		for (int c = 0; c < t[i].ncols; c++)
			free(t[i].cols[c].name);
		free(t[i].cols);
		free(t[i].pk);
		free(t[i].name);
	}
	free(t);
}

typedef struct named_col {
	copy_column col;
	int pk_pos;
} named_col;

static int by_name(const void *a, const void *b)
{
	return strcmp(((const named_col *)a)->col.name, ((const named_col *)b)->col.name);
}

crt_status copy_table_finish(copy_table *t, copy_column *cols, const int *pk_pos, int ncols)
{
	named_col *nc = ncols <= COPY_MAX_COLS ? calloc((size_t)(ncols > 0 ? ncols : 1), sizeof(*nc))
					       : NULL;
	int npk = 0;

	if (nc == NULL) {
		for (int i = 0; i < ncols; i++)
			free(cols[i].name);
		free(cols);
		return ncols > COPY_MAX_COLS ? CRT_E_STORE : CRT_E_NOMEM;
	}
	for (int i = 0; i < ncols; i++) {
		nc[i].col = cols[i];
		nc[i].pk_pos = pk_pos[i];
		npk += pk_pos[i] > 0;
	}
	qsort(nc, (size_t)ncols, sizeof(*nc), by_name);
	t->pk = calloc((size_t)(npk > 0 ? npk : 1), sizeof(int));
	if (t->pk == NULL) {
		for (int i = 0; i < ncols; i++)
			free(cols[i].name);
		free(cols);
		free(nc);
		return CRT_E_NOMEM;
	}
	for (int i = 0; i < ncols; i++) {
		cols[i] = nc[i].col;
		if (nc[i].pk_pos > 0 && nc[i].pk_pos <= npk)
			t->pk[nc[i].pk_pos - 1] = i;
	}
	free(nc);
	t->cols = cols;
	t->ncols = ncols;
	t->npk = npk;
	return CRT_OK;
}
