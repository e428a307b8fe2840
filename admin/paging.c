/*
 * paging.c — --page, --size and --sort of crtoken-admin's list commands
 * (token list, cert list, request list, audit): one page cut by the store,
 * the same rules as the REST lists (crt_page_parse).
 */
#include <stdio.h>

#include "admin.h"

int admin_paging_opt(admin_paging *pp, int c, const char *arg)
{
	switch (c) {
	case ADMIN_OPT_PAGE: pp->page = arg; return 1;
	case ADMIN_OPT_SIZE: pp->size = arg; return 1;
	case ADMIN_OPT_SORT: pp->sort = arg; return 1;
	default: return 0;
	}
}

int admin_paging_given(const admin_paging *pp)
{
	return pp->page != NULL || pp->size != NULL || pp->sort != NULL;
}

int admin_paging_parse(const char *cmd, const admin_paging *pp, const char *const *fields,
		       int default_desc, int size_default, crt_page *p)
{
	const char *why = NULL;
	crt_status s = crt_page_parse(pp->page, pp->size, pp->sort, fields, default_desc, p, &why);

	if (s != CRT_OK) {
		fprintf(stderr, "crtoken-admin %s: error: %s: %s%s%s\n", cmd, crt_status_name(s),
			crt_status_message(s), why ? ": " : "", why ? why : "");
		return EXIT_USAGE;
	}
	if (pp->size == NULL && size_default > 0)
		p->size = size_default;
	return 0;
}

json_t *admin_page_json(json_t *items, const crt_page *p, int64_t total)
{
	return json_pack("{s:o, s:i, s:i, s:I}", "items", items ? items : json_array(), "page",
			 p->page, "size", p->size, "total", (json_int_t)total);
}

void admin_page_footer(const crt_page *p, size_t n, int64_t total)
{
	fprintf(stderr, "page %d (size %d): %zu of %lld\n", p->page, p->size, n,
		(long long)total);
}
