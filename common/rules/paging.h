/*
 * rules/paging.h — one page of a list, pure functions of values (no ctx,
 * no store): crt_page_parse and crt_page_offset (crtoken.h) live here, and
 * the one way a backend turns a page into its ORDER BY / LIMIT / OFFSET:
 * by the index of a whitelisted field into a table of its own column names,
 * never by text from the request. Unit-tested without a database:
 * tests/unit/test_rules_paging.c.
 */
#ifndef CRTOKEN_RULES_PAGING_H
#define CRTOKEN_RULES_PAGING_H

#include <stddef.h>

#include "crtoken.h"

/*
 * "ORDER BY <columns[p->sort]> ASC|DESC, <tiebreak> ASC|DESC" into buf
 * (the tie-breaker keeps pages stable when the sort column has equal
 * values). columns is the backend's constant table, ncolumns long, in the
 * order of the list's sortable fields. A sort index outside the table
 * selects the first column (callers pass pages crt_page_parse made). 0, or
 * -1 when buf (len bytes) is too small.
 */
int paging_order_by(const crt_page *p, const char *const *columns, size_t ncolumns,
                    const char *tiebreak, char *buf, size_t len);

/* 1 when p is a page crt_page_parse could have made for fields (page and
 * size in bounds, sort an index into fields), else 0. */
int paging_valid(const crt_page *p, const char *const *fields);

#endif /* CRTOKEN_RULES_PAGING_H */
