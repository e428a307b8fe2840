/*
 * test_token_store.c — the admin's token operations of token_store.c on
 * whichever backend is behind the port (also run on PostgreSQL by
 * t_pg_units): a token's description (stored, read back, changed, cleared,
 * audited, refused without writing) and bulk creation (crt_token_create_many:
 * N tokens, their audit rows and events in one transaction, or none).
 */
#include <jansson.h>

#include "testutil.h"

static long long count(const test_instance *t, const char *sql)
{
	char db[512];
	tu_db_path(t, db, sizeof(db));
	return tu_sql_int(db, sql);
}

/* The detail of the newest audit row of action, or NULL (malloc'd). */
static char *last_audit_detail(crt_ctx *ctx, const char *action)
{
	crt_audit_row *rows = NULL;
	size_t n = 0;
	char *d = NULL;
	assert_int_equal(crt_audit_list(ctx, 1, action, &rows, &n), CRT_OK);
	if (n > 0 && rows[0].detail != NULL)
		d = strdup(rows[0].detail);
	crt_audit_list_free(rows, n);
	return d;
}

/* ------------------------------------------------------------ description */

static void a_description_is_stored_and_read_back(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "printer", .description = "Printer room, 3rd floor – Zürich"};
	crt_token t, u, *list = NULL;
	size_t n = 0;
	tu_instance(&fi);

	tu_token(fi.ctx, &spec, tok, &t);
	assert_string_equal(t.description, "Printer room, 3rd floor – Zürich");
	assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
	assert_string_equal(u.description, "Printer room, 3rd floor – Zürich");
	assert_int_equal(crt_token_list(fi.ctx, -1, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].description, "Printer room, 3rd floor – Zürich");
	crt_token_list_free(list, n);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void a_token_without_description_has_none(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "plain"}, empty = {.name = "empty", .description = ""};
	crt_token t, u;
	tu_instance(&fi);

	tu_token(fi.ctx, &spec, tok, &t);
	assert_null(t.description);
	tu_token(fi.ctx, &empty, tok, &u);
	assert_null(u.description); /* "" is no description */
	crt_token_clear(&u);
	assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
	assert_null(u.description);
	assert_int_equal(count(&fi, "SELECT count(*) FROM tokens WHERE description IS NULL"), 2);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void an_update_changes_or_clears_the_description_and_leaves_it_otherwise(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "desk", .description = "first"};
	crt_token_spec change = {.description = "second"}, other = {.ou = "IT"},
	               clear = {.description = ""};
	crt_token t, u;
	tu_instance(&fi);
	tu_token(fi.ctx, &spec, tok, &t);

	assert_int_equal(crt_token_update(fi.ctx, t.id, &change, "test", &u), CRT_OK);
	assert_string_equal(u.description, "second");
	crt_token_clear(&u);
	assert_int_equal(crt_token_update(fi.ctx, t.id, &other, "test", &u), CRT_OK);
	assert_string_equal(u.description, "second"); /* NULL: unchanged */
	crt_token_clear(&u);
	assert_int_equal(crt_token_update(fi.ctx, t.id, &clear, "test", &u), CRT_OK);
	assert_null(u.description);
	crt_token_clear(&u);
	assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
	assert_null(u.description);
	assert_string_equal(u.ou, "IT");
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void the_audit_rows_of_create_and_update_carry_the_description(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "audited", .description = "for the \"lab\""};
	crt_token_spec change = {.description = "moved to the office"}, clear = {.description = ""};
	crt_token t;
	char *d;
	tu_instance(&fi);

	tu_token(fi.ctx, &spec, tok, &t);
	d = last_audit_detail(fi.ctx, "token.create");
	assert_non_null(d);
	assert_non_null(strstr(d, "\"description\":\"for the \\\"lab\\\"\""));
	free(d);
	assert_int_equal(crt_token_update(fi.ctx, t.id, &change, "test", NULL), CRT_OK);
	d = last_audit_detail(fi.ctx, "token.update");
	assert_non_null(strstr(d, "\"description\":\"moved to the office\""));
	free(d);
	assert_int_equal(crt_token_update(fi.ctx, t.id, &clear, "test", NULL), CRT_OK);
	d = last_audit_detail(fi.ctx, "token.update");
	assert_non_null(strstr(d, "\"description\":null"));
	free(d);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void a_bad_description_is_refused_and_nothing_is_written(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1], big[1100];
	const char *bad[] = {big, "tab\there", "line\nbreak", "caf\xe9", "rlo \xe2\x80\xae"};
	crt_token t, u;
	crt_token_spec ok = {.name = "kept", .description = "kept"};
	tu_instance(&fi);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tu_token(fi.ctx, &ok, tok, &t);
	long long audit = count(&fi, "SELECT count(*) FROM audit");
	long long events = count(&fi, "SELECT count(*) FROM events");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		crt_token_spec spec = {.name = "refused", .description = bad[i]};
		crt_token_spec change = {.description = bad[i]};
		assert_int_equal(crt_token_create(fi.ctx, &spec, "test", &u, tok),
		                 CRT_E_DESCRIPTION_INVALID);
		assert_true(strstr(crt_errdetail(fi.ctx), "description") != NULL);
		assert_int_equal(crt_token_update(fi.ctx, t.id, &change, "test", &u),
		                 CRT_E_DESCRIPTION_INVALID);
	}
	assert_int_equal(count(&fi, "SELECT count(*) FROM tokens"), 1);
	assert_int_equal(count(&fi, "SELECT count(*) FROM audit"), audit);
	assert_int_equal(count(&fi, "SELECT count(*) FROM events"), events);
	assert_int_equal(crt_token_get(fi.ctx, t.id, &u), CRT_OK);
	assert_string_equal(u.description, "kept");
	assert_int_equal(u.version, 0);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

static void the_token_json_shows_the_description(void **state)
{
	test_instance fi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "json", .description = "shown"}, none = {.name = "none"};
	crt_token t, u;
	tu_instance(&fi);
	tu_token(fi.ctx, &spec, tok, &t);
	tu_token(fi.ctx, &none, tok, &u);

	json_t *j = crt_token_json(&t, NULL), *k = crt_token_json(&u, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "description")), "shown");
	assert_true(json_is_null(json_object_get(k, "description")));
	json_decref(j);
	json_decref(k);
	crt_token_clear(&u);
	crt_token_clear(&t);
	tu_instance_free(&fi);
}

/* ------------------------------------------------------------ bulk creation */

typedef struct counts {
	long long tokens, audit, created_rows, events;
} counts;

static counts counts_of(const test_instance *t)
{
	return (counts){count(t, "SELECT count(*) FROM tokens"), count(t, "SELECT count(*) FROM audit"),
	                count(t, "SELECT count(*) FROM audit WHERE action = 'token.create'"),
	                count(t, "SELECT count(*) FROM events WHERE type = 'token.created'")};
}

static void assert_counts_equal(const counts *a, const counts *b)
{
	if (a->tokens != b->tokens || a->audit != b->audit || a->events != b->events)
		fail_msg("the store changed: tokens %lld→%lld, audit %lld→%lld, events %lld→%lld",
		         a->tokens, b->tokens, a->audit, b->audit, a->events, b->events);
}

static void a_bulk_makes_n_named_tokens_each_with_its_audit_row_and_event(void **state)
{
	test_instance fi;
	crt_token_spec spec = {.name = "guest", .ou = "Guests", .description = "conference"};
	crt_token_batch b;
	char name[32];
	tu_instance(&fi);
	counts before = counts_of(&fi);

	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, 5, "test", &b), CRT_OK);
	assert_int_equal(b.n, 5);
	counts after = counts_of(&fi);
	assert_int_equal(after.tokens, before.tokens + 5);
	assert_int_equal(after.created_rows, before.created_rows + 5);
	assert_int_equal(after.events, before.events + 5);
	for (size_t i = 0; i < b.n; i++) {
		crt_token u;
		char sql[200];
		snprintf(name, sizeof(name), "guest-%zu", i + 1);
		assert_string_equal(b.tokens[i].name, name);
		assert_string_equal(b.tokens[i].ou, "Guests");
		assert_string_equal(b.tokens[i].description, "conference");
		assert_int_equal(crt_token_check_format(b.strings[i]), CRT_OK);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(b.strings[i], b.strings[j]);
		assert_int_equal(crt_token_get(fi.ctx, b.tokens[i].id, &u), CRT_OK);
		assert_string_equal(u.name, name);
		assert_string_equal(u.description, "conference");
		crt_token_clear(&u);
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM audit WHERE action = 'token.create' AND object = '%s'",
		         b.tokens[i].id);
		assert_int_equal(count(&fi, sql), 1);
	}
	crt_token_batch_clear(&b);
	assert_null(b.tokens);
	assert_int_equal(b.n, 0);
	tu_instance_free(&fi);
}

static void every_token_of_a_bulk_redeems_once(void **state)
{
	test_instance fi;
	crt_token_spec spec = {.name = "once"};
	crt_token_batch b;
	crt_cert c;
	tu_instance(&fi);

	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, 4, "test", &b), CRT_OK);
	for (size_t i = 0; i < b.n; i++) {
		assert_int_equal(tu_redeem(fi.ctx, b.strings[i], &c), CRT_OK);
		assert_string_equal(c.name, b.tokens[i].name);
		crt_cert_clear(&c);
		assert_int_equal(tu_redeem(fi.ctx, b.strings[i], &c), CRT_E_TOKEN_USED);
	}
	crt_token_batch_clear(&b);
	tu_instance_free(&fi);
}

static void a_bulk_numbers_its_names_from_first(void **state)
{
	test_instance fi;
	crt_token_spec spec = {.name = "batch"};
	crt_token_batch b;
	tu_instance(&fi);

	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1001, 2, "test", &b), CRT_OK);
	assert_string_equal(b.tokens[0].name, "batch-1001");
	assert_string_equal(b.tokens[1].name, "batch-1002");
	crt_token_batch_clear(&b);
	tu_instance_free(&fi);
}

static void a_bulk_of_the_maximum_is_made_and_one_more_is_count_invalid(void **state)
{
	test_instance fi;
	crt_token_spec spec = {.name = "max"};
	crt_token_batch b;
	tu_instance(&fi);

	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, CRT_BULK_MAX, "test", &b), CRT_OK);
	assert_int_equal(b.n, CRT_BULK_MAX);
	crt_token_batch_clear(&b);
	counts before = counts_of(&fi);
	assert_int_equal(before.tokens, CRT_BULK_MAX);
	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, CRT_BULK_MAX + 1, "test", &b),
	                 CRT_E_COUNT_INVALID);
	assert_non_null(strstr(crt_errdetail(fi.ctx), "1000"));
	assert_int_equal(crt_token_create_many(fi.ctx, &spec, 1, 0, "test", &b), CRT_E_COUNT_INVALID);
	assert_null(b.tokens);
	counts after = counts_of(&fi);
	assert_counts_equal(&before, &after);
	tu_instance_free(&fi);
}

static void a_bulk_with_one_invalid_field_writes_none(void **state)
{
	test_instance fi;
	char long_cn[64], long_name[130];
	crt_token_batch b;
	tu_instance(&fi);
	/* 62 bytes: "x-1".."x-9" fit a 64-byte CN, "x-10" does not */
	memset(long_cn, 'c', 62);
	long_cn[62] = '\0';
	memset(long_name, 'n', 126);
	long_name[126] = '\0';
	crt_token_spec bad_desc = {.name = "d", .description = "a\tb"};
	crt_token_spec bad_san = {.name = "s", .san = "dns=bad_name.example"};
	crt_token_spec cn_too_long_from_ten = {.name = long_cn};
	crt_token_spec name_too_long_from_ten = {.name = long_name, .cn = "fixed"};
	crt_token_spec unnamed = {.cn = "x"};
	counts before = counts_of(&fi);

	assert_int_equal(crt_token_create_many(fi.ctx, &bad_desc, 1, 3, "test", &b),
	                 CRT_E_DESCRIPTION_INVALID);
	assert_int_equal(crt_token_create_many(fi.ctx, &bad_san, 1, 3, "test", &b),
	                 CRT_E_SAN_INVALID);
	assert_int_equal(crt_token_create_many(fi.ctx, &cn_too_long_from_ten, 1, 10, "test", &b),
	                 CRT_E_FIELD_INVALID);
	assert_non_null(strstr(crt_errdetail(fi.ctx), "token number 10 of the bulk"));
	assert_int_equal(crt_token_create_many(fi.ctx, &name_too_long_from_ten, 1, 10, "test", &b),
	                 CRT_E_FIELD_INVALID);
	assert_int_equal(crt_token_create_many(fi.ctx, &unnamed, 1, 2, "test", &b),
	                 CRT_E_NAME_REQUIRED);
	assert_null(b.tokens);
	counts after = counts_of(&fi);
	assert_counts_equal(&before, &after);
	/* nine fit */
	assert_int_equal(crt_token_create_many(fi.ctx, &cn_too_long_from_ten, 1, 9, "test", &b),
	                 CRT_OK);
	crt_token_batch_clear(&b);
	tu_instance_free(&fi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_description_is_stored_and_read_back),
	    cmocka_unit_test(a_token_without_description_has_none),
	    cmocka_unit_test(an_update_changes_or_clears_the_description_and_leaves_it_otherwise),
	    cmocka_unit_test(the_audit_rows_of_create_and_update_carry_the_description),
	    cmocka_unit_test(a_bad_description_is_refused_and_nothing_is_written),
	    cmocka_unit_test(the_token_json_shows_the_description),
	    cmocka_unit_test(a_bulk_makes_n_named_tokens_each_with_its_audit_row_and_event),
	    cmocka_unit_test(every_token_of_a_bulk_redeems_once),
	    cmocka_unit_test(a_bulk_numbers_its_names_from_first),
	    cmocka_unit_test(a_bulk_of_the_maximum_is_made_and_one_more_is_count_invalid),
	    cmocka_unit_test(a_bulk_with_one_invalid_field_writes_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
