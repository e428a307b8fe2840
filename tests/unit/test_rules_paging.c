/*
 * test_rules_paging.c — list paging (common/rules/paging.c) on values alone:
 * bounds of page and size, the sort whitelist, the offset and the ORDER BY
 * a backend builds from its own column table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/paging.h"

static const char *const fields[] = {"createdAt", "name", "expiresAt", NULL};
static const char *const columns[] = {"created_at", "name", "expires_at"};

static void absent_values_give_the_first_page_in_the_default_order(void **s)
{
	crt_page p;
	assert_int_equal(crt_page_parse(NULL, NULL, NULL, fields, 0, &p, NULL), CRT_OK);
	assert_int_equal(p.page, 1);
	assert_int_equal(p.size, CRT_PAGE_SIZE_DEFAULT);
	assert_int_equal(p.sort, 0);
	assert_int_equal(p.desc, 0);
	assert_int_equal(crt_page_parse(NULL, NULL, NULL, fields, 1, &p, NULL), CRT_OK);
	assert_int_equal(p.desc, 1);
}

static void page_and_size_within_bounds_are_taken(void **s)
{
	crt_page p;
	assert_int_equal(crt_page_parse("3", "500", NULL, fields, 0, &p, NULL), CRT_OK);
	assert_int_equal(p.page, 3);
	assert_int_equal(p.size, 500);
	assert_int_equal(crt_page_offset(&p), 1000);
	assert_int_equal(crt_page_parse("1000000", "1", NULL, fields, 0, &p, NULL), CRT_OK);
	assert_int_equal(crt_page_offset(&p), 999999);
}

static void pages_and_sizes_out_of_bounds_or_not_numbers_are_refused(void **s)
{
	static const char *const bad_page[] = {"0", "-1", "1000001", "", " 1", "1 ", "+1", "1e3",
					       "0x10", "99999999999999999999", "one", NULL};
	static const char *const bad_size[] = {"0", "501", "-5", "", "10.5", "5000000000", NULL};
	const char *why;
	crt_page p;
	for (size_t i = 0; bad_page[i] != NULL; i++) {
		if (crt_page_parse(bad_page[i], NULL, NULL, fields, 0, &p, &why) != CRT_E_PAGE_INVALID)
			fail_msg("page \"%s\" was accepted", bad_page[i]);
		assert_non_null(why);
	}
	for (size_t i = 0; bad_size[i] != NULL; i++)
		if (crt_page_parse(NULL, bad_size[i], NULL, fields, 0, &p, &why) != CRT_E_PAGE_INVALID)
			fail_msg("size \"%s\" was accepted", bad_size[i]);
}

static void sort_takes_a_listed_field_either_way(void **s)
{
	crt_page p;
	assert_int_equal(crt_page_parse(NULL, NULL, "name", fields, 1, &p, NULL), CRT_OK);
	assert_int_equal(p.sort, 1);
	assert_int_equal(p.desc, 0);
	assert_int_equal(crt_page_parse(NULL, NULL, "-expiresAt", fields, 0, &p, NULL), CRT_OK);
	assert_int_equal(p.sort, 2);
	assert_int_equal(p.desc, 1);
	assert_int_equal(crt_page_parse(NULL, NULL, "name:desc", fields, 0, &p, NULL), CRT_OK);
	assert_int_equal(p.sort, 1);
	assert_int_equal(p.desc, 1);
	assert_int_equal(crt_page_parse(NULL, NULL, "createdAt:asc", fields, 1, &p, NULL), CRT_OK);
	assert_int_equal(p.sort, 0);
	assert_int_equal(p.desc, 0);
}

static void attack_sort_injection_is_refused(void **s)
{
	static const char *const bad[] = {"name; DROP TABLE tokens",
					  "name DESC",
					  "created_at",
					  "1",
					  "",
					  "-",
					  "--name",
					  "Name",
					  "name:up",
					  "(SELECT hash FROM api_keys)",
					  "nam",
					  "names",
					  NULL};
	const char *why;
	crt_page p;
	for (size_t i = 0; bad[i] != NULL; i++) {
		if (crt_page_parse(NULL, NULL, bad[i], fields, 0, &p, &why) != CRT_E_SORT_INVALID)
			fail_msg("sort \"%s\" was accepted", bad[i]);
		assert_non_null(why);
	}
}

static void the_order_by_names_only_the_backends_own_columns(void **s)
{
	char buf[128];
	crt_page p = {.page = 1, .size = 10, .sort = 2, .desc = 1};
	assert_int_equal(paging_order_by(&p, columns, 3, "id", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ORDER BY expires_at DESC, id DESC");
	p.sort = 0;
	p.desc = 0;
	assert_int_equal(paging_order_by(&p, columns, 3, "created_at", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ORDER BY created_at ASC");
	p.sort = 17; /* never from crt_page_parse: the first column */
	assert_int_equal(paging_order_by(&p, columns, 3, "id", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ORDER BY created_at ASC, id ASC");
	assert_int_equal(paging_order_by(&p, columns, 3, "id", buf, 10), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(absent_values_give_the_first_page_in_the_default_order),
	    cmocka_unit_test(page_and_size_within_bounds_are_taken),
	    cmocka_unit_test(pages_and_sizes_out_of_bounds_or_not_numbers_are_refused),
	    cmocka_unit_test(sort_takes_a_listed_field_either_way),
	    cmocka_unit_test(attack_sort_injection_is_refused),
	    cmocka_unit_test(the_order_by_names_only_the_backends_own_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
