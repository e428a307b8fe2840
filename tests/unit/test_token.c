/*
 * test_token.c — the token string: format, entropy, checksum behaviour, and
 * what reaches the store (only the hash).
 */
#include "testutil.h"

#include <jansson.h>
#include "internal.h"

static void token_has_prefix_length_and_urlsafe_alphabet(void **state)
{
	char t[CRT_TOKEN_STRLEN + 1];
	assert_int_equal(token_generate(CRT_TOKEN_PREFIX, t), CRT_OK);
	assert_int_equal(strlen(t), CRT_TOKEN_STRLEN);
	assert_memory_equal(t, "crt_", 4);
	for (const char *p = t + 4; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
	assert_int_equal(crt_token_check_format(t), CRT_OK);
}

/* 43 base64url characters carry 258 bits; over many tokens each position
 * must take many values and no two tokens may repeat. */
static void tokens_carry_at_least_256_random_bits(void **state)
{
	enum { N = 2000 };
	static char toks[N][CRT_TOKEN_STRLEN + 1];
	unsigned seen[43][64] = {{0}};
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (int i = 0; i < N; i++) {
		assert_int_equal(token_generate(CRT_TOKEN_PREFIX, toks[i]), CRT_OK);
		for (int p = 0; p < 43; p++)
			seen[p][strchr(alpha, toks[i][4 + p]) - alpha]++;
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			assert_memory_not_equal(toks[i], toks[j], CRT_TOKEN_STRLEN);
	/* Every full-6-bit position takes at least 50 of 64 values in 2000 draws. */
	for (int p = 0; p < 42; p++) {
		int distinct = 0;
		for (int v = 0; v < 64; v++)
			distinct += seen[p][v] > 0;
		assert_true(distinct >= 50);
	}
}

static void every_single_character_typo_is_reported_as_mistyped(void **state)
{
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (int round = 0; round < 20; round++) {
		char t[CRT_TOKEN_STRLEN + 1], m[CRT_TOKEN_STRLEN + 1];
		assert_int_equal(token_generate(CRT_TOKEN_PREFIX, t), CRT_OK);
		for (int p = 4; p < CRT_TOKEN_STRLEN; p++)
			for (const char *c = alpha; *c; c++) {
				if (*c == t[p])
					continue;
				memcpy(m, t, sizeof(t));
				m[p] = *c;
				assert_int_equal(crt_token_check_format(m), CRT_E_TOKEN_MISTYPED);
			}
	}
}

static void every_adjacent_transposition_is_reported_as_mistyped(void **state)
{
	for (int round = 0; round < 200; round++) {
		char t[CRT_TOKEN_STRLEN + 1];
		assert_int_equal(token_generate(CRT_TOKEN_PREFIX, t), CRT_OK);
		for (int p = 4; p + 1 < CRT_TOKEN_STRLEN; p++) {
			char m[CRT_TOKEN_STRLEN + 1];
			if (t[p] == t[p + 1])
				continue;
			memcpy(m, t, sizeof(t));
			m[p] = t[p + 1];
			m[p + 1] = t[p];
			assert_int_equal(crt_token_check_format(m), CRT_E_TOKEN_MISTYPED);
		}
	}
}

static void truncated_or_extended_tokens_are_mistyped(void **state)
{
	char t[CRT_TOKEN_STRLEN + 2];
	assert_int_equal(token_generate(CRT_TOKEN_PREFIX, t), CRT_OK);
	t[CRT_TOKEN_STRLEN - 1] = '\0';
	assert_int_equal(crt_token_check_format(t), CRT_E_TOKEN_MISTYPED);
	assert_int_equal(token_generate(CRT_TOKEN_PREFIX, t), CRT_OK);
	strcat(t, "A");
	assert_int_equal(crt_token_check_format(t), CRT_E_TOKEN_MISTYPED);
	assert_int_equal(token_generate(CRT_TOKEN_PREFIX, t), CRT_OK);
	t[10] = '.';
	assert_int_equal(crt_token_check_format(t), CRT_E_TOKEN_MISTYPED);
}

static void strings_without_the_prefix_are_malformed(void **state)
{
	assert_int_equal(crt_token_check_format(""), CRT_E_TOKEN_MALFORMED);
	assert_int_equal(crt_token_check_format("hello"), CRT_E_TOKEN_MALFORMED);
	assert_int_equal(crt_token_check_format(NULL), CRT_E_TOKEN_MALFORMED);
	char t[CRT_TOKEN_STRLEN + 1];
	assert_int_equal(token_generate(CRT_TOKEN_PREFIX, t), CRT_OK);
	t[0] = 'C';
	assert_int_equal(crt_token_check_format(t), CRT_E_TOKEN_MALFORMED);
}

/* Search the raw bytes of the DB (and its WAL) for the token string. */
static int file_contains(const char *path, const char *needle)
{
	char *buf;
	long n;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	int found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
	free(buf);
	return found;
}

static void the_store_holds_only_the_hash_of_a_token(void **state)
{
	test_instance ti;
	char tok[CRT_TOKEN_STRLEN + 1], hash[65], db[512], wal[520];
	crt_token_spec spec = {.name = "hash-only"};
	crt_token t;
	tu_instance(&ti);
	tu_token(ti.ctx, &spec, tok, &t);
	token_hash(tok, hash);
	tu_db_path(&ti, db, sizeof(db));
	snprintf(wal, sizeof(wal), "%s-wal", db);
	assert_false(file_contains(db, tok));
	assert_false(file_contains(wal, tok));
	assert_false(file_contains(db, tok + 4)); /* nor its random body */
	assert_false(file_contains(wal, tok + 4));
	/* ... but the hash is there, so lookups work. */
	assert_true(file_contains(db, hash) || file_contains(wal, hash));
	crt_token_clear(&t);
	tu_instance_free(&ti);
}

/* ------------------------------------------------------------ user names */

static void user_names_follow_one_rule(void **state)
{
	static const char *good[] = {"alice", "alice@example.org", "EXAMPLE\\bob", "zoë",
				     "a.b-c_d+1"};
	static const char *bad[] = {
		"", "caf\xe9" /* Latin-1, not UTF-8 */, "a b", "a:b", "a\tb", "a\nb",
		"bob\xe2\x80\x8b" /* zero width space */, "\xc2\xa0" "bob" /* no-break space */,
		"\xe2\x80\xae" "bob" /* bidi override */,
	};
	char longname[130];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(crt_user_name_check(good[i]), CRT_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(crt_user_name_check(bad[i]), CRT_E_FIELD_INVALID);
	assert_int_equal(crt_user_name_check(NULL), CRT_E_FIELD_INVALID);
	memset(longname, 'u', 128);
	longname[128] = '\0';
	assert_int_equal(crt_user_name_check(longname), CRT_OK);
	longname[128] = 'u';
	longname[129] = '\0';
	assert_int_equal(crt_user_name_check(longname), CRT_E_FIELD_INVALID);
}

/* Every audit row's detail still parses as JSON (audit --json drops those
 * that don't), and the redemption refusal is among them. */
static void assert_audit_is_json(crt_ctx *ctx)
{
	crt_audit_row *rows;
	size_t n;
	int refusals = 0;
	assert_int_equal(crt_audit_list(ctx, 1000, NULL, &rows, &n), CRT_OK);
	for (size_t i = 0; i < n; i++) {
		json_t *j = rows[i].detail ? json_loads(rows[i].detail, 0, NULL) : NULL;
		if (rows[i].detail != NULL && j == NULL)
			fail_msg("audit row %s is not JSON: %s", rows[i].action, rows[i].detail);
		json_decref(j);
		refusals += strcmp(rows[i].action, "token.redeem_refused") == 0;
	}
	assert_int_equal(refusals, 1);
	crt_audit_list_free(rows, n);
}

/* A Latin-1 name through the login gate was audited and then vanished from
 * `audit --json`: refuse it at every door. */
static void non_utf8_user_names_are_refused_everywhere(void **state)
{
	test_instance ti;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "l10"};
	crt_token t;
	crt_cert c = {0};
	size_t len;
	char *uri = NULL, *secret = NULL;
	tu_instance(&ti);
	/* token owner */
	crt_token_spec owned = {.name = "owned", .owner = "caf\xe9"};
	assert_int_equal(crt_token_create(ti.ctx, &owned, "t", NULL, tok), CRT_E_FIELD_INVALID);
	owned.owner = "two words";
	assert_int_equal(crt_token_create(ti.ctx, &owned, "t", NULL, tok), CRT_E_FIELD_INVALID);
	/* OTP enroll and verify */
	assert_int_equal(crt_otp_enroll(ti.ctx, "caf\xe9", NULL, 0, 0, NULL, "t", &uri, &secret),
			 CRT_E_INVALID_ARGUMENT);
	assert_int_equal(crt_otp_verify(ti.ctx, "caf\xe9", "123456", crt_now(), "crtoken", NULL,
					NULL),
			 CRT_E_INVALID_ARGUMENT);
	/* the authenticated redeemer */
	tu_token(ti.ctx, &spec, tok, &t);
	char *csr = tu_csr("ec-p256", &len);
	crt_redeem_req req = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
			      .user = "caf\xe9", .actor = "t"};
	assert_int_equal(crt_redeem(ti.ctx, &req, &c), CRT_E_INVALID_ARGUMENT);
	assert_audit_is_json(ti.ctx);
	free(csr);
	crt_cert_clear(&c);
	crt_token_clear(&t);
	tu_instance_free(&ti);
}

/* ---- reply attributes: the one grammar (crt_reply_next) ---- */

/* Walk text as rlm_crtoken does: each accepted line as "name|value;",
 * each refused one as "!;". */
static void reply_walk(const char *text, char *buf, size_t n)
{
	const char *cur = text;
	crt_reply_attr a;
	size_t used = 0;
	buf[0] = '\0';
	while (*cur) {
		if (crt_reply_next(&cur, &a) == CRT_OK)
			used += snprintf(buf + used, n - used, "%.*s|%.*s;", (int)a.name_len,
					 a.name, (int)a.value_len, a.value);
		else
			used += snprintf(buf + used, n - used, "!;");
		assert_true(used < n);
	}
}

static void reply_lines_are_name_equals_value_taken_verbatim(void **state)
{
	char buf[512];
	const char *ok = "Tunnel-Type=VLAN\nTunnel-Private-Group-Id=42\n"
			 "Reply-Message=welcome alice = admin ünd co\n";
	assert_int_equal(crt_reply_validate(ok), CRT_OK);
	reply_walk(ok, buf, sizeof(buf));
	assert_string_equal(buf, "Tunnel-Type|VLAN;Tunnel-Private-Group-Id|42;"
				 "Reply-Message|welcome alice = admin ünd co;");
	assert_int_equal(crt_reply_validate(NULL), CRT_OK);
	assert_int_equal(crt_reply_validate(""), CRT_OK);
}

/* The module used to trim blanks around the value, so a stored
 * "Reply-Message= hi " went out as "hi ": now it goes out as stored. */
static void reply_value_blanks_are_sent_as_stored_not_trimmed(void **state)
{
	char buf[128];
	assert_int_equal(crt_reply_validate("Reply-Message= hi "), CRT_OK);
	reply_walk("Reply-Message= hi ", buf, sizeof(buf));
	assert_string_equal(buf, "Reply-Message| hi ;");
}

/* Lines the old module tolerated (blank before '=', '\r', empty lines)
 * but the store refused: refused by both now, by the same code. */
static void reply_lines_outside_the_grammar_are_refused(void **state)
{
	char longname[CRT_REPLY_NAME_MAX + 8];
	memset(longname, 'A', CRT_REPLY_NAME_MAX + 1);
	strcpy(longname + CRT_REPLY_NAME_MAX + 1, "=x");
	const char *bad[] = {
		"novalue", "=x", "Bad Name=x", "Tunnel-Type =VLAN", " Tunnel-Type=VLAN",
		"Tunnel-Type=", "Tunnel-Type=VLAN\r", "Reply-Message=a\tb",
		"Tunnel-Type=VLAN\n\nReply-Message=x", "\n", "Reply-Message=\xff",
		"Reply-Message=\xc3", "Reply-Message=\xc2\x85", "Na\xc3\xa9me=x", longname,
	};
	char buf[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(crt_reply_validate(bad[i]), CRT_E_REPLY_ATTR);
		reply_walk(bad[i], buf, sizeof(buf));
		assert_non_null(strstr(buf, "!;"));
	}
	longname[CRT_REPLY_NAME_MAX] = '=';
	longname[CRT_REPLY_NAME_MAX + 1] = 'x';
	longname[CRT_REPLY_NAME_MAX + 2] = '\0';
	assert_int_equal(crt_reply_validate(longname), CRT_OK);
}

/* A refused line (only in a row written around crt_reply_validate) costs
 * that line, not the ones after it: the reader moves past it. */
static void a_refused_reply_line_is_skipped_and_the_next_one_read(void **state)
{
	char buf[128];
	reply_walk("Tunnel-Type =VLAN\r\nReply-Message=hi\n\nClass=x", buf, sizeof(buf));
	assert_string_equal(buf, "!;Reply-Message|hi;!;Class|x;");
}

/* Long texts are refused by the store, whatever their lines. */
static void reply_texts_over_4096_bytes_are_refused(void **state)
{
	static char text[4098];
	memset(text, 'x', 4097);
	memcpy(text, "Reply-Message=", 14);
	assert_int_equal(crt_reply_validate(text), CRT_E_REPLY_ATTR);
	text[4096] = '\0';
	assert_int_equal(crt_reply_validate(text), CRT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_has_prefix_length_and_urlsafe_alphabet),
		cmocka_unit_test(tokens_carry_at_least_256_random_bits),
		cmocka_unit_test(every_single_character_typo_is_reported_as_mistyped),
		cmocka_unit_test(every_adjacent_transposition_is_reported_as_mistyped),
		cmocka_unit_test(truncated_or_extended_tokens_are_mistyped),
		cmocka_unit_test(strings_without_the_prefix_are_malformed),
		cmocka_unit_test(the_store_holds_only_the_hash_of_a_token),
		cmocka_unit_test(user_names_follow_one_rule),
		cmocka_unit_test(non_utf8_user_names_are_refused_everywhere),
		cmocka_unit_test(reply_lines_are_name_equals_value_taken_verbatim),
		cmocka_unit_test(reply_value_blanks_are_sent_as_stored_not_trimmed),
		cmocka_unit_test(reply_lines_outside_the_grammar_are_refused),
		cmocka_unit_test(a_refused_reply_line_is_skipped_and_the_next_one_read),
		cmocka_unit_test(reply_texts_over_4096_bytes_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
