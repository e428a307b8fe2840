/*
 * test_store_paging.c — the paged list verbs of the store, on whichever
 * backend CRTOKEN_TEST_BACKEND names (also run on PostgreSQL by
 * t_pg_units): one page cut by the store with the total of the filter,
 * every sortable field either way with the id breaking ties, pages that
 * join up into the whole ordered list, a page past the end, and filters
 * compared literally (quotes, % and _ are plain bytes).
 */
#include "testutil.h"
#include "internal.h"

/* The rows of the audit tests: at from T0, three actors, dotted actions. */
#define T0 1577836800 /* 2020-01-01T00:00:00Z, before anything the instance writes */
#define NAUDIT 40

static void audit_rows(crt_ctx *ctx)
{
	static const char *const actors[] = {"admin:alice", "admin:bob", "o'brien"};
	static const char *const actions[] = {"token.create", "token.delete", "cert.revoke",
					      "token", "tokenize"};
	char object[32];

	assert_int_equal(store_begin_write(ctx), CRT_OK);
	for (int i = 0; i < NAUDIT; i++) {
		snprintf(object, sizeof(object), "obj-%02d", i % 10);
		/* pairs of equal times: the id must break the ties */
		assert_int_equal(store_audit_append(ctx, T0 + i / 2, actors[i % 3], actions[i % 5],
						    object, NULL),
				 CRT_OK);
	}
	assert_int_equal(store_audit_append(ctx, T0 + 100, "ev%il", "odd", "x_y", NULL), CRT_OK);
	assert_int_equal(store_audit_append(ctx, T0 + 100, "evXil", "odd", "xzy", NULL), CRT_OK);
	assert_int_equal(store_commit(ctx), CRT_OK);
}

static int setup(void **state)
{
	tu_instance(&ti);
	audit_rows(ti.ctx);
	return 0;
}

/* Only the rows audit_rows wrote (the instance's own come later). */
static const crt_audit_filter mine = {.until = T0 + 1000};

static crt_page page_of(int page, int size, int sort, int desc)
{
	return (crt_page){.page = page, .size = size, .sort = sort, .desc = desc};
}

static void a_page_has_at_most_size_rows_and_the_total_of_the_filter(void **s)
{
	crt_page p = page_of(1, 10, 0, 1);
	crt_audit_row *rows;
	size_t n;
	int64_t total;

	assert_int_equal(crt_audit_page(ti.ctx, &mine, &p, &rows, &n, &total), CRT_OK);
	assert_int_equal(n, 10);
	assert_int_equal(total, NAUDIT + 2);
	/* newest first, the later id first among equal times */
	assert_string_equal(rows[0].actor, "evXil");
	assert_string_equal(rows[1].actor, "ev%il");
	for (size_t i = 1; i < n; i++)
		assert_true(rows[i - 1].at > rows[i].at ||
			    (rows[i - 1].at == rows[i].at && rows[i - 1].id > rows[i].id));
	crt_audit_list_free(rows, n);
}

static void the_pages_join_up_into_the_whole_list_in_every_order(void **s)
{
	for (int sort = 0; crt_audit_sort_fields[sort] != NULL; sort++)
		for (int desc = 0; desc < 2; desc++) {
			crt_page all = page_of(1, 500, sort, desc);
			crt_audit_row *whole, *part;
			size_t nw, np, seen = 0;
			int64_t total;

			assert_int_equal(crt_audit_page(ti.ctx, &mine, &all, &whole, &nw, &total),
					 CRT_OK);
			assert_int_equal(nw, NAUDIT + 2);
			for (int pg = 1;; pg++) {
				crt_page p = page_of(pg, 7, sort, desc);
				assert_int_equal(
				    crt_audit_page(ti.ctx, &mine, &p, &part, &np, &total), CRT_OK);
				assert_int_equal(total, NAUDIT + 2);
				for (size_t i = 0; i < np; i++)
					if (part[i].id != whole[seen + i].id)
						fail_msg("sort %s%s page %d row %zu: id %lld, not %lld",
							 desc ? "-" : "", crt_audit_sort_fields[sort],
							 pg, i, (long long)part[i].id,
							 (long long)whole[seen + i].id);
				seen += np;
				crt_audit_list_free(part, np);
				if (np < 7)
					break;
			}
			assert_int_equal(seen, nw);
			crt_audit_list_free(whole, nw);
		}
}

static void every_sort_field_orders_by_its_column_with_the_id_breaking_ties(void **s)
{
	crt_page p = page_of(1, 500, 2, 0); /* actor ascending */
	crt_audit_row *rows;
	size_t n;
	int64_t total;

	assert_int_equal(crt_audit_page(ti.ctx, &mine, &p, &rows, &n, &total), CRT_OK);
	for (size_t i = 1; i < n; i++) {
		int c = strcmp(rows[i - 1].actor, rows[i].actor);
		assert_true(c < 0 || (c == 0 && rows[i - 1].id < rows[i].id));
	}
	crt_audit_list_free(rows, n);
	p = page_of(1, 500, 3, 1); /* action descending */
	assert_int_equal(crt_audit_page(ti.ctx, &mine, &p, &rows, &n, &total), CRT_OK);
	for (size_t i = 1; i < n; i++) {
		int c = strcmp(rows[i - 1].action, rows[i].action);
		assert_true(c > 0 || (c == 0 && rows[i - 1].id > rows[i].id));
	}
	crt_audit_list_free(rows, n);
}

static void a_page_past_the_end_is_empty_with_the_total(void **s)
{
	crt_page p = page_of(7, 7, 0, 1);
	crt_audit_row *rows = (crt_audit_row *)&p;
	size_t n = 99;
	int64_t total = 0;

	assert_int_equal(crt_audit_page(ti.ctx, &mine, &p, &rows, &n, &total), CRT_OK);
	assert_null(rows);
	assert_int_equal(n, 0);
	assert_int_equal(total, NAUDIT + 2);
	p = page_of(CRT_PAGE_MAX, CRT_PAGE_SIZE_MAX, 1, 0);
	assert_int_equal(crt_audit_page(ti.ctx, &mine, &p, &rows, &n, &total), CRT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(total, NAUDIT + 2);
}

static int64_t total_of(const crt_audit_filter *f)
{
	crt_page p = page_of(1, 1, 0, 1);
	crt_audit_row *rows;
	size_t n;
	int64_t total;

	assert_int_equal(crt_audit_page(ti.ctx, f, &p, &rows, &n, &total), CRT_OK);
	assert_true(n == (total > 0));
	crt_audit_list_free(rows, n);
	return total;
}

static void filters_select_and_combine(void **s)
{
	/* i % 3 == 0 of 0..39: 14 rows */
	assert_int_equal(total_of(&(crt_audit_filter){.actor = "admin:alice"}), 14);
	assert_int_equal(total_of(&(crt_audit_filter){.actor = "admin"}), 0);
	/* token.create, token.delete and token: 3 of every 5 */
	assert_int_equal(total_of(&(crt_audit_filter){.action = "token", .until = T0 + 1000}), 24);
	assert_int_equal(total_of(&(crt_audit_filter){.action = "token.", .until = T0 + 1000}), 16);
	assert_int_equal(total_of(&(crt_audit_filter){.action = "tokenize"}), 8);
	assert_int_equal(total_of(&(crt_audit_filter){.object = "obj-03"}), 4);
	/* at T0 + 5 .. T0 + 9: rows 10..19 */
	assert_int_equal(total_of(&(crt_audit_filter){.since = T0 + 5, .until = T0 + 10}), 10);
	assert_int_equal(total_of(&(crt_audit_filter){.since = T0 + 5, .until = T0 + 5}), 0);
	assert_int_equal(
	    total_of(&(crt_audit_filter){.actor = "admin:bob", .action = "token.delete",
					 .object = "obj-01", .until = T0 + 1000}),
	    2); /* i = 1 and 31 */
}

static void attack_audit_filter_injection_quotes_and_wildcards_are_literal(void **s)
{
	assert_int_equal(total_of(&(crt_audit_filter){.actor = "o'brien"}), 13);
	assert_int_equal(total_of(&(crt_audit_filter){.actor = "x' OR '1'='1"}), 0);
	assert_int_equal(total_of(&(crt_audit_filter){.actor = "ev%il"}), 1);
	assert_int_equal(total_of(&(crt_audit_filter){.actor = "%"}), 0);
	assert_int_equal(total_of(&(crt_audit_filter){.object = "x_y"}), 1);
	assert_int_equal(total_of(&(crt_audit_filter){.object = "obj-0_"}), 0);
	assert_int_equal(total_of(&(crt_audit_filter){.action = "tok%"}), 0);
	assert_int_equal(total_of(&(crt_audit_filter){.action = "Token"}), 0);
	assert_int_equal(total_of(&(crt_audit_filter){.object = "') OR 1=1 --"}), 0);
}

static void pages_and_filters_crt_page_parse_would_refuse_are_refused(void **s)
{
	crt_audit_row *rows;
	size_t n;
	int64_t total;
	crt_page bad[] = {page_of(0, 10, 0, 0), page_of(1, 0, 0, 0),
			  page_of(1, CRT_PAGE_SIZE_MAX + 1, 0, 0), page_of(1, 10, 5, 0),
			  page_of(1, 10, -1, 0), page_of(CRT_PAGE_MAX + 1, 10, 0, 0)};
	crt_page p = page_of(1, 10, 0, 1);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(crt_audit_page(ti.ctx, NULL, &bad[i], &rows, &n, &total),
				 CRT_E_PAGE_INVALID);
	assert_int_equal(crt_audit_page(ti.ctx, &(crt_audit_filter){.actor = ""}, &p, &rows, &n,
					&total),
			 CRT_E_FILTER_INVALID);
	assert_int_equal(crt_audit_page(ti.ctx, &(crt_audit_filter){.since = 9, .until = 8}, &p,
					&rows, &n, &total),
			 CRT_E_TIME_INVALID);
}

static void no_filter_lists_every_row(void **s)
{
	crt_page p = page_of(1, 500, 1, 0);
	crt_audit_row *rows, *old;
	size_t n, nold;
	int64_t total;

	assert_int_equal(crt_audit_page(ti.ctx, NULL, &p, &rows, &n, &total), CRT_OK);
	assert_int_equal(total, (int64_t)n);
	/* the same rows crt_audit_list has (it lists newest id first) */
	assert_int_equal(crt_audit_list(ti.ctx, 500, NULL, &old, &nold), CRT_OK);
	assert_int_equal(nold, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rows[i].id, old[n - 1 - i].id);
	crt_audit_list_free(rows, n);
	crt_audit_list_free(old, nold);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_page_has_at_most_size_rows_and_the_total_of_the_filter),
	    cmocka_unit_test(the_pages_join_up_into_the_whole_list_in_every_order),
	    cmocka_unit_test(every_sort_field_orders_by_its_column_with_the_id_breaking_ties),
	    cmocka_unit_test(a_page_past_the_end_is_empty_with_the_total),
	    cmocka_unit_test(filters_select_and_combine),
	    cmocka_unit_test(attack_audit_filter_injection_quotes_and_wildcards_are_literal),
	    cmocka_unit_test(pages_and_filters_crt_page_parse_would_refuse_are_refused),
	    cmocka_unit_test(no_filter_lists_every_row),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
