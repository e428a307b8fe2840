/*
 * test_token.c — the token string: format, entropy, checksum behaviour, and
 * what reaches the store (only the hash); the store's token verbs against
 * the rules (list and purge select what rules/token.h says, guarded writes
 * and the claim change nothing once the row moved on).
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

/* ----------------------------------------------- the store's token verbs */

#define GRID_NOW 1780000000
static const int64_t grid_times[] = {0, GRID_NOW - 86400, GRID_NOW - 1, GRID_NOW, GRID_NOW + 1,
				     GRID_NOW + 86400};
#define GRID_N (sizeof(grid_times) / sizeof(grid_times[0]))

typedef struct grid_row {
	char id[CRT_ID_LEN];
	int64_t used, deleted, expires;
} grid_row;

/* One token per combination of used_at, deleted_at and expires_at around
 * GRID_NOW, written straight into the store. */
static size_t make_grid(test_instance *gi, grid_row *rows)
{
	char db[512];
	sqlite3 *h;
	sqlite3_stmt *st;
	size_t n = 0;

	assert_int_equal(store_begin_write(gi->ctx), CRT_OK);
	for (size_t u = 0; u < GRID_N; u++)
		for (size_t d = 0; d < GRID_N; d++)
			for (size_t e = 1; e < GRID_N; e++) {
				crt_token t = {.name = (char *)"grid", .created_at = (int64_t)n,
					       .expires_at = grid_times[e]};
				char hash[65];
				snprintf(t.id, sizeof(t.id), "token-grid-%03zu", n);
				snprintf(hash, sizeof(hash), "%064zu", n);
				assert_int_equal(store_token_insert(gi->ctx, &t, hash, 1), CRT_OK);
				rows[n] = (grid_row){.used = grid_times[u], .deleted = grid_times[d],
						     .expires = grid_times[e]};
				snprintf(rows[n].id, sizeof(rows[n].id), "%s", t.id);
				n++;
			}
	assert_int_equal(store_commit(gi->ctx), CRT_OK);
	tu_db_path(gi, db, sizeof(db));
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "UPDATE tokens SET used_at = NULLIF(?1, 0), "
					       "deleted_at = NULLIF(?2, 0) WHERE id = ?3",
					    -1, &st, NULL),
			 SQLITE_OK);
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, rows[i].used);
		sqlite3_bind_int64(st, 2, rows[i].deleted);
		sqlite3_bind_text(st, 3, rows[i].id, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static const grid_row *grid_find(const grid_row *rows, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].id, id) == 0)
			return &rows[i];
	fail_msg("listed a token that is not in the grid: %s", id);
	return NULL;
}

static void the_store_lists_by_state_exactly_what_the_rule_says(void **state)
{
	test_instance gi;
	grid_row rows[GRID_N * GRID_N * GRID_N];
	tu_instance(&gi);
	size_t n = make_grid(&gi, rows);

	for (int64_t now = GRID_NOW - 1; now <= GRID_NOW + 1; now++)
		for (int s = -1; s <= CRT_TOKEN_DELETED + 1; s++) {
			token_bounds b;
			crt_token *list;
			size_t got, want = 0;
			token_state_bounds(s, now, &b);
			assert_int_equal(store_token_list(gi.ctx, &b, &list, &got), CRT_OK);
			for (size_t i = 0; i < n; i++)
				want += s < 0 || (int)token_state_at(rows[i].used, rows[i].deleted,
								     rows[i].expires, now) == s;
			assert_int_equal(got, want);
			for (size_t i = 0; i < got; i++) {
				const grid_row *g = grid_find(rows, n, list[i].id);
				assert_int_equal(list[i].used_at, g->used);
				assert_int_equal(list[i].deleted_at, g->deleted);
				if (s >= 0)
					assert_int_equal(token_state_at(g->used, g->deleted,
									g->expires, now),
							 s);
				if (i > 0) /* newest first */
					assert_true(list[i - 1].created_at > list[i].created_at);
			}
			crt_token_list_free(list, got);
		}
	tu_instance_free(&gi);
}

static void the_store_purges_exactly_the_tokens_the_rule_says_ended(void **state)
{
	test_instance gi;
	grid_row rows[GRID_N * GRID_N * GRID_N];
	tu_instance(&gi);
	size_t n = make_grid(&gi, rows);

	for (size_t c = 1; c < GRID_N; c++) {
		int64_t cutoff = grid_times[c], purged = -1;
		size_t want = 0, left;
		token_bounds all;
		crt_token *list;
		for (size_t i = 0; i < n; i++)
			want += token_purgeable(rows[i].used, rows[i].deleted, rows[i].expires, cutoff);
		assert_int_equal(store_begin_write(gi.ctx), CRT_OK);
		assert_int_equal(store_token_purge(gi.ctx, cutoff, &purged), CRT_OK);
		assert_int_equal(purged, (int64_t)want);
		token_state_bounds(-1, GRID_NOW, &all);
		assert_int_equal(store_token_list(gi.ctx, &all, &list, &left), CRT_OK);
		assert_int_equal(left, n - want);
		for (size_t i = 0; i < left; i++) {
			const grid_row *g = grid_find(rows, n, list[i].id);
			assert_false(token_purgeable(g->used, g->deleted, g->expires, cutoff));
		}
		crt_token_list_free(list, left);
		store_rollback(gi.ctx); /* the next cutoff starts from the whole grid */
	}
	tu_instance_free(&gi);
}

/* A token as the store holds it, read back by id. */
static crt_token stored(crt_ctx *ctx, const char *id)
{
	crt_token t;
	assert_int_equal(store_token_by_id(ctx, id, &t), CRT_OK);
	return t;
}

static void a_guarded_write_changes_nothing_once_the_row_moved_on(void **state)
{
	test_instance gi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "guarded"};
	crt_token t, now;
	int changed = -1;
	tu_instance(&gi);
	tu_token(gi.ctx, &spec, tok, &t);

	assert_int_equal(store_begin_write(gi.ctx), CRT_OK);
	/* read at version 0, changed by someone else (version 1): refused */
	free(t.ou);
	t.ou = strdup("first");
	assert_int_equal(store_token_update(gi.ctx, &t, t.version, crt_now(), &changed), CRT_OK);
	assert_int_equal(changed, 1);
	free(t.ou);
	t.ou = strdup("second, from a stale read");
	assert_int_equal(store_token_update(gi.ctx, &t, 0, crt_now(), &changed), CRT_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(store_token_remove(gi.ctx, t.id, 0, crt_now(), &changed), CRT_OK);
	assert_int_equal(changed, 0);
	now = stored(gi.ctx, t.id);
	assert_string_equal(now.ou, "first");
	assert_int_equal(now.version, 1);
	assert_int_equal(now.deleted_at, 0);
	/* at the version read, the delete goes through; then nothing more does */
	assert_int_equal(store_token_remove(gi.ctx, t.id, 1, crt_now(), &changed), CRT_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(store_token_update(gi.ctx, &t, 2, crt_now(), &changed), CRT_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(store_token_remove(gi.ctx, t.id, 2, crt_now(), &changed), CRT_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(store_commit(gi.ctx), CRT_OK);
	crt_token_clear(&now);
	now = stored(gi.ctx, t.id);
	assert_int_equal(now.version, 2);
	assert_string_equal(now.ou, "first");
	crt_token_clear(&now);
	crt_token_clear(&t);
	tu_instance_free(&gi);
}

static void the_claim_wins_once_at_the_version_read_and_only_while_active(void **state)
{
	test_instance gi;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "claim"};
	crt_token t, now;
	int won = -1;
	int64_t at = crt_now();
	tu_instance(&gi);
	tu_token(gi.ctx, &spec, tok, &t);
	store_claim stale = {.token_id = t.id, .version = 5, .serial = "aa", .now = at};
	store_claim late = {.token_id = t.id, .version = 0, .serial = "bb", .now = t.expires_at};
	store_claim good = {.token_id = t.id, .version = 0, .serial = "cc", .now = at};
	store_claim unknown = {.token_id = "token-none", .version = 0, .serial = "dd", .now = at};

	assert_int_equal(store_begin_write(gi.ctx), CRT_OK);
	assert_int_equal(store_token_claim(gi.ctx, &stale, &won), CRT_OK);
	assert_int_equal(won, 0);
	assert_int_equal(store_token_claim(gi.ctx, &late, &won), CRT_OK); /* expired at now */
	assert_int_equal(won, 0);
	assert_int_equal(store_token_claim(gi.ctx, &unknown, &won), CRT_OK);
	assert_int_equal(won, 0);
	assert_int_equal(store_token_claim(gi.ctx, &good, &won), CRT_OK);
	assert_int_equal(won, 1);
	good.serial = "ee";
	assert_int_equal(store_token_claim(gi.ctx, &good, &won), CRT_OK); /* used now */
	assert_int_equal(won, 0);
	good.version = 1;
	assert_int_equal(store_token_claim(gi.ctx, &good, &won), CRT_OK); /* even at its version */
	assert_int_equal(won, 0);
	assert_int_equal(store_commit(gi.ctx), CRT_OK);
	now = stored(gi.ctx, t.id);
	assert_string_equal(now.serial, "cc");
	assert_int_equal(now.used_at, at);
	assert_int_equal(now.version, 1);
	/* what the store reports for a lost claim: the columns the rule reads */
	token_seen seen;
	assert_int_equal(store_token_seen(gi.ctx, t.id, &seen), CRT_OK);
	assert_int_equal(seen.present, 1);
	assert_int_equal(seen.used_at, at);
	assert_int_equal(seen.version, 1);
	assert_int_equal(seen.expires_at, t.expires_at);
	assert_int_equal(store_token_seen(gi.ctx, "token-none", &seen), CRT_OK);
	assert_int_equal(seen.present, 0);
	crt_token_clear(&now);
	crt_token_clear(&t);
	tu_instance_free(&gi);
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
		cmocka_unit_test(the_store_lists_by_state_exactly_what_the_rule_says),
		cmocka_unit_test(the_store_purges_exactly_the_tokens_the_rule_says_ended),
		cmocka_unit_test(a_guarded_write_changes_nothing_once_the_row_moved_on),
		cmocka_unit_test(the_claim_wins_once_at_the_version_read_and_only_while_active),
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
