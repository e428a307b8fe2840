/*
 * test_store_paging.c — the paged list verbs of the store (audit, tokens,
 * certificates, certificate requests), on whichever
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

/* Tokens, certificates and requests of the list tests. */
#define NTOKENS 12 /* plain tokens; the first NCERTS redeemed */
#define NCERTS 5
#define NREQUESTS 4 /* approval tokens submitted; the first denied */

static void list_rows(crt_ctx *ctx)
{
	static const char *const names[] = {"kilo", "alpha", "Zulu", "echo", "bravo", "alpha"};
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_request q;

	for (int i = 0; i < NTOKENS; i++) {
		crt_token_spec spec = {.name = names[i % 6], .lifetime = 3600 * (1 + i % 4)};
		tu_token(ctx, &spec, tok, &t);
		if (i < NCERTS) {
			assert_int_equal(tu_redeem(ctx, tok, &c), CRT_OK);
			if (i == 1)
				assert_int_equal(crt_cert_revoke(ctx, c.serial, 1, "test", NULL),
						 CRT_OK);
			crt_cert_clear(&c);
		}
		crt_token_clear(&t);
	}
	for (int i = 0; i < NREQUESTS; i++) {
		size_t len;
		char *csr = tu_csr("ec-p256", &len);
		crt_token_spec spec = {.name = "needs-approval", .approval = "required"};
		crt_redeem_req req = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
				      .admin = 1, .actor = "test"};
		tu_token(ctx, &spec, tok, &t);
		assert_int_equal(crt_redeem_submit(ctx, &req, &c, &q, poll), CRT_OK);
		if (i == 0)
			assert_int_equal(crt_request_deny(ctx, q.id, "not ours", "test"), CRT_OK);
		free(csr);
		crt_request_clear(&q);
		crt_cert_clear(&c);
		crt_token_clear(&t);
	}
}

static int setup(void **state)
{
	tu_instance(&ti);
	audit_rows(ti.ctx);
	list_rows(ti.ctx);
	return 0;
}

/* Only the rows audit_rows wrote (the instance's and list_rows' come later). */
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

/*
 * Every order of a list: the pages of size 3 joined are one page of size 500
 * (same ids, same order), the totals agree, and they hold the rows the
 * unpaged list has. One function per list (their types differ).
 */
#define JOIN_UP(TYPE, FIELDS, PAGE_CALL, ID, FREE, WANT)                                     \
	do {                                                                                 \
		for (int sort = 0; FIELDS[sort] != NULL; sort++)                             \
			for (int desc = 0; desc < 2; desc++) {                               \
				crt_page all = page_of(1, 500, sort, desc), p;               \
				TYPE *whole, *part;                                          \
				size_t nw, np, seen = 0;                                     \
				int64_t total, t2;                                           \
				p = all;                                                     \
				assert_int_equal(PAGE_CALL(&p, &whole, &nw, &total), CRT_OK); \
				assert_int_equal(nw, (size_t)(WANT));                        \
				assert_int_equal(total, (int64_t)(WANT));                    \
				for (int pg = 1;; pg++) {                                    \
					p = page_of(pg, 3, sort, desc);                      \
					assert_int_equal(PAGE_CALL(&p, &part, &np, &t2), CRT_OK); \
					assert_int_equal(t2, total);                         \
					for (size_t i = 0; i < np; i++)                      \
						assert_string_equal(part[i].ID, whole[seen + i].ID); \
					seen += np;                                          \
					FREE(part, np);                                      \
					if (np < 3)                                          \
						break;                                       \
				}                                                            \
				assert_int_equal(seen, nw);                                  \
				FREE(whole, nw);                                             \
			}                                                                    \
	} while (0)

static int state_arg = -1;
static crt_status token_page(const crt_page *p, crt_token **out, size_t *n, int64_t *total)
{
	return crt_token_page(ti.ctx, state_arg, p, out, n, total);
}

static void the_token_pages_join_up_in_every_order(void **s)
{
	crt_token *list;
	size_t n;
	assert_int_equal(crt_token_list(ti.ctx, -1, &list, &n), CRT_OK);
	crt_token_list_free(list, n);
	assert_int_equal(n, NTOKENS + NREQUESTS);
	state_arg = -1;
	JOIN_UP(crt_token, crt_token_sort_fields, token_page, id, crt_token_list_free, n);
	state_arg = CRT_TOKEN_USED;
	JOIN_UP(crt_token, crt_token_sort_fields, token_page, id, crt_token_list_free,
		NCERTS + NREQUESTS);
	state_arg = CRT_TOKEN_ACTIVE;
	JOIN_UP(crt_token, crt_token_sort_fields, token_page, id, crt_token_list_free,
		NTOKENS - NCERTS);
}

static void a_token_page_is_in_its_order_with_its_states(void **s)
{
	crt_page p = page_of(1, 500, 1, 0); /* name ascending, bytewise: Zulu before alpha */
	crt_token *list;
	size_t n;
	int64_t total;

	assert_int_equal(crt_token_page(ti.ctx, -1, &p, &list, &n, &total), CRT_OK);
	assert_string_equal(list[0].name, "Zulu");
	for (size_t i = 1; i < n; i++) {
		int c = strcmp(list[i - 1].name, list[i].name);
		assert_true(c < 0 || (c == 0 && strcmp(list[i - 1].id, list[i].id) < 0));
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(list[i].state,
				 list[i].used_at ? CRT_TOKEN_USED : CRT_TOKEN_ACTIVE);
	crt_token_list_free(list, n);
	p = page_of(3, 500, 2, 1);
	assert_int_equal(crt_token_page(ti.ctx, -1, &p, &list, &n, &total), CRT_OK);
	assert_null(list);
	assert_int_equal(n, 0);
	assert_int_equal(total, NTOKENS + NREQUESTS);
	p = page_of(1, 10, 4, 0);
	assert_int_equal(crt_token_page(ti.ctx, -1, &p, &list, &n, &total), CRT_E_PAGE_INVALID);
}

static crt_cert_filter cert_filter = {.status = -1, .expiring_within_days = -1};
static crt_status cert_page(const crt_page *p, crt_cert **out, size_t *n, int64_t *total)
{
	return crt_cert_page(ti.ctx, &cert_filter, p, out, n, total);
}

static void the_certificate_pages_join_up_in_every_order_and_filter(void **s)
{
	crt_cert *list;
	size_t n;
	int64_t total;
	crt_page p = page_of(1, 2, 1, 1);

	JOIN_UP(crt_cert, crt_cert_sort_fields, cert_page, serial, crt_cert_list_free, NCERTS);
	cert_filter.status = CRT_CERT_REVOKED;
	JOIN_UP(crt_cert, crt_cert_sort_fields, cert_page, serial, crt_cert_list_free, 1);
	cert_filter.status = CRT_CERT_VALID;
	JOIN_UP(crt_cert, crt_cert_sort_fields, cert_page, serial, crt_cert_list_free, NCERTS - 1);
	cert_filter.status = -1;
	cert_filter.never_seen = 1;
	JOIN_UP(crt_cert, crt_cert_sort_fields, cert_page, serial, crt_cert_list_free, NCERTS);
	cert_filter.never_seen = 0;
	cert_filter.token_id = "token-00000000-0000-4000-8000-000000000000";
	JOIN_UP(crt_cert, crt_cert_sort_fields, cert_page, serial, crt_cert_list_free, 0);
	cert_filter.token_id = NULL;
	/* the status is evaluated as crt_cert_list does */
	assert_int_equal(crt_cert_page(ti.ctx, NULL, &p, &list, &n, &total), CRT_OK);
	assert_int_equal(total, NCERTS);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(list[i].status, list[i].revoked ? CRT_CERT_REVOKED : CRT_CERT_VALID);
	assert_true(list[0].not_after >= list[1].not_after);
	crt_cert_list_free(list, n);
}

static crt_request_filter request_filter = {.state = -1};
static crt_status request_page(const crt_page *p, crt_request **out, size_t *n, int64_t *total)
{
	return crt_request_page(ti.ctx, &request_filter, p, out, n, total);
}

static void the_request_pages_join_up_in_every_order_and_state(void **s)
{
	crt_request *list;
	size_t n;
	int64_t total;
	crt_page p = page_of(1, 10, 0, 1);

	JOIN_UP(crt_request, crt_request_sort_fields, request_page, id, crt_request_list_free,
		NREQUESTS);
	request_filter.state = CRT_REQUEST_PENDING;
	JOIN_UP(crt_request, crt_request_sort_fields, request_page, id, crt_request_list_free,
		NREQUESTS - 1);
	request_filter.state = CRT_REQUEST_DENIED;
	JOIN_UP(crt_request, crt_request_sort_fields, request_page, id, crt_request_list_free, 1);
	request_filter.state = CRT_REQUEST_ISSUED;
	JOIN_UP(crt_request, crt_request_sort_fields, request_page, id, crt_request_list_free, 0);
	request_filter.state = -1;
	request_filter.user = "nobody";
	JOIN_UP(crt_request, crt_request_sort_fields, request_page, id, crt_request_list_free, 0);
	request_filter.user = NULL;
	/* decidedAt: the undecided (NULL) first ascending, on both backends */
	p = page_of(1, 10, 2, 0);
	assert_int_equal(crt_request_page(ti.ctx, NULL, &p, &list, &n, &total), CRT_OK);
	assert_int_equal(n, NREQUESTS);
	assert_int_equal(list[n - 1].state, CRT_REQUEST_DENIED);
	assert_int_equal(list[0].decided_at, 0);
	crt_request_list_free(list, n);
	p = page_of(1, 10, 0, 1);
	assert_int_equal(crt_request_page(ti.ctx, &(crt_request_filter){.state = 9}, &p, &list, &n,
					  &total),
			 CRT_E_INVALID_ARGUMENT);
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
	    cmocka_unit_test(the_token_pages_join_up_in_every_order),
	    cmocka_unit_test(a_token_page_is_in_its_order_with_its_states),
	    cmocka_unit_test(the_certificate_pages_join_up_in_every_order_and_filter),
	    cmocka_unit_test(the_request_pages_join_up_in_every_order_and_state),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
