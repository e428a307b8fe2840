/*
 * rules/paging.c — list paging (rules/paging.h, crtoken.h "paging").
 */
#include <stdio.h>
#include <string.h>

#include "rules/paging.h"

/* The lists' sortable fields (crtoken.h): the first is the default order. */
const char *const crt_token_sort_fields[] = {"createdAt", "name", "expiresAt", "updatedAt", NULL};
const char *const crt_cert_sort_fields[] = {"issuedAt", "notAfter", "name", "serial", NULL};
const char *const crt_request_sort_fields[] = {"createdAt", "expiresAt", "decidedAt", NULL};
const char *const crt_audit_sort_fields[] = {"at", "id", "actor", "action", "object", NULL};

/* A decimal number of 1..max digits' worth, no sign, no blanks. -1 if not. */
static long parse_bounded(const char *s, long min, long max)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 9)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < min || v > max ? -1 : v;
}

crt_status crt_page_parse(const char *page, const char *size, const char *sort,
                          const char *const *fields, int default_desc, crt_page *out,
                          const char **why)
{
	const char *name;
	size_t n;
	long v;
	int i;

	if (why != NULL)
		*why = NULL;
	if (out == NULL || fields == NULL || fields[0] == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*out = (crt_page){.page = 1, .size = CRT_PAGE_SIZE_DEFAULT, .sort = 0, .desc = !!default_desc};
	if (page != NULL) {
		if ((v = parse_bounded(page, 1, CRT_PAGE_MAX)) < 0) {
			if (why != NULL)
				*why = "page must be a number from 1 to 1000000";
			return CRT_E_PAGE_INVALID;
		}
		out->page = (int)v;
	}
	if (size != NULL) {
		if ((v = parse_bounded(size, 1, CRT_PAGE_SIZE_MAX)) < 0) {
			if (why != NULL)
				*why = "size must be a number from 1 to 500";
			return CRT_E_PAGE_INVALID;
		}
		out->size = (int)v;
	}
	if (sort == NULL)
		return CRT_OK;
	name = sort;
	n = strlen(sort);
	out->desc = 0;
	if (*name == '-') {
		name++;
		n--;
		out->desc = 1;
	} else if (n > 5 && strcmp(name + n - 5, ":desc") == 0) {
		n -= 5;
		out->desc = 1;
	} else if (n > 4 && strcmp(name + n - 4, ":asc") == 0) {
		n -= 4;
	}
	for (i = 0; fields[i] != NULL; i++)
		if (strlen(fields[i]) == n && strncmp(fields[i], name, n) == 0) {
			out->sort = i;
			return CRT_OK;
		}
	if (why != NULL)
		*why = "sort must name one of the list's sortable fields, '-' in front for "
		       "descending";
	*out = (crt_page){.page = 1, .size = CRT_PAGE_SIZE_DEFAULT, .sort = 0, .desc = 0};
	return CRT_E_SORT_INVALID;
}

int64_t crt_page_offset(const crt_page *p)
{
	if (p == NULL || p->page < 1)
		return 0;
	return (int64_t)(p->page - 1) * p->size;
}

int paging_order_by(const crt_page *p, const char *const *columns, size_t ncolumns,
                    const char *tiebreak, char *buf, size_t len)
{
	const char *dir = p->desc ? "DESC" : "ASC";
	size_t i = p->sort >= 0 && (size_t)p->sort < ncolumns ? (size_t)p->sort : 0;
	int n;

	if (ncolumns == 0)
		return -1;
	if (tiebreak != NULL && strcmp(tiebreak, columns[i]) != 0)
		n = snprintf(buf, len, "ORDER BY %s %s, %s %s", columns[i], dir, tiebreak, dir);
	else
		n = snprintf(buf, len, "ORDER BY %s %s", columns[i], dir);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int paging_valid(const crt_page *p, const char *const *fields)
{
	int n = 0;

	if (p == NULL || fields == NULL)
		return 0;
	while (fields[n] != NULL)
		n++;
	return p->page >= 1 && p->page <= CRT_PAGE_MAX && p->size >= 1 &&
	       p->size <= CRT_PAGE_SIZE_MAX && p->sort >= 0 && p->sort < n;
}
