/*
 * test_rules_token.c — the token rules (common/rules/token.h) as functions
 * of values: no instance, no store, no clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rules/token.h"

#define NOW 1780000000

static void deleted_wins_over_used_and_used_over_expired(void **s)
{
	assert_int_equal(token_state_at(NOW - 5, NOW - 3, NOW - 10, NOW), CRT_TOKEN_DELETED);
	assert_int_equal(token_state_at(0, NOW - 3, NOW + 10, NOW), CRT_TOKEN_DELETED);
	assert_int_equal(token_state_at(NOW - 5, 0, NOW - 10, NOW), CRT_TOKEN_USED);
	assert_int_equal(token_state_at(NOW - 5, 0, NOW + 10, NOW), CRT_TOKEN_USED);
	assert_int_equal(token_state_at(0, 0, NOW - 10, NOW), CRT_TOKEN_EXPIRED);
	assert_int_equal(token_state_at(0, 0, NOW + 10, NOW), CRT_TOKEN_ACTIVE);
}

static void a_token_expires_at_its_expiry_second_itself(void **s)
{
	assert_int_equal(token_state_at(0, 0, NOW + 1, NOW), CRT_TOKEN_ACTIVE);
	assert_int_equal(token_state_at(0, 0, NOW, NOW), CRT_TOKEN_EXPIRED);
	assert_int_equal(token_state_at(0, 0, NOW - 1, NOW), CRT_TOKEN_EXPIRED);
}

/* Every combination of the columns the rule reads, around now. */
static const int64_t times[] = {0, NOW - 86400, NOW - 1, NOW, NOW + 1, NOW + 86400};
#define NTIMES (sizeof(times) / sizeof(times[0]))

static void the_bounds_of_a_state_select_exactly_the_rows_in_that_state(void **s)
{
	for (int st = -1; st <= CRT_TOKEN_DELETED + 1; st++) {
		token_bounds b;
		token_state_bounds(st, NOW, &b);
		for (size_t u = 0; u < NTIMES; u++)
			for (size_t d = 0; d < NTIMES; d++)
				for (size_t e = 1; e < NTIMES; e++) { /* expires_at is always set */
					int in =
					    (int)token_state_at(times[u], times[d], times[e], NOW);
					int want = st < 0 || in == st;
					if (token_bounds_match(&b, times[u], times[d], times[e]) !=
					    want)
						fail_msg(
						    "state %d: used %lld deleted %lld expires %lld",
						    st, (long long)times[u], (long long)times[d],
						    (long long)times[e]);
				}
	}
}

static void a_token_ends_when_deleted_else_used_else_expired(void **s)
{
	assert_int_equal(token_ended_at(NOW - 5, NOW - 3, NOW - 10), NOW - 3);
	assert_int_equal(token_ended_at(NOW - 5, 0, NOW - 10), NOW - 5);
	assert_int_equal(token_ended_at(0, 0, NOW - 10), NOW - 10);
}

static void purge_takes_the_tokens_that_ended_before_the_cutoff(void **s)
{
	/* deleted long ago but expiring later: the deletion counts */
	assert_true(token_purgeable(0, NOW - 100, NOW + 100, NOW - 50));
	/* used recently, expired long ago: the use counts */
	assert_false(token_purgeable(NOW - 10, 0, NOW - 100, NOW - 50));
	assert_true(token_purgeable(0, 0, NOW - 100, NOW - 50));
	/* ended exactly at the cutoff: kept */
	assert_false(token_purgeable(0, 0, NOW - 50, NOW - 50));
}

static void an_active_token_is_never_purged(void **s)
{
	for (size_t e = 0; e < NTIMES; e++)
		for (int64_t cutoff = NOW - 2; cutoff <= NOW; cutoff++)
			if (token_state_at(0, 0, times[e], NOW) == CRT_TOKEN_ACTIVE)
				assert_false(token_purgeable(0, 0, times[e], cutoff));
}

/* ------------------------------------------------------- the decision */

static crt_token token(const char *name, const char *cn, const char *owner)
{
	crt_token t;
	memset(&t, 0, sizeof(t));
	snprintf(t.id, sizeof(t.id), "token-1");
	t.name = (char *)name;
	t.cn = (char *)cn;
	t.owner = (char *)owner;
	t.expires_at = NOW + 3600;
	return t;
}

static crt_status decide(const crt_token *t, const crt_redeem_req *req, const char **cn,
                         const char **org, const char **ou, token_refusal *why)
{
	return token_redeem_decide(t, req, NOW, cn, org, ou, why);
}

static void a_finished_token_is_refused_for_its_state_deleted_first(void **s)
{
	crt_token t = token("laptop", NULL, NULL);
	crt_redeem_req req = {.admin = 1};
	const char *cn, *org, *ou;
	token_refusal why;

	t.deleted_at = NOW - 1;
	t.used_at = NOW - 2;
	t.expires_at = NOW - 3;
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_E_TOKEN_DELETED);
	assert_string_equal(why.msg, "token token-1 was deleted");
	t.deleted_at = 0;
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_E_TOKEN_USED);
	assert_string_equal(why.msg, "token token-1 was already used");
	t.used_at = 0;
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_E_TOKEN_EXPIRED);
	assert_string_equal(why.msg, "token token-1 has expired");
	assert_int_equal(why.status, CRT_E_TOKEN_EXPIRED);
}

static void an_owned_token_is_for_its_owner_or_an_admin(void **s)
{
	crt_token t = token("laptop", NULL, "alice");
	const char *cn, *org, *ou;
	token_refusal why;
	crt_redeem_req bob = {.user = "bob"}, nobody = {0}, alice = {.user = "alice"},
	               admin = {.admin = 1};

	assert_int_equal(decide(&t, &bob, &cn, &org, &ou, &why), CRT_E_TOKEN_OWNER);
	assert_string_equal(why.msg, "token token-1 belongs to another user");
	assert_int_equal(decide(&t, &nobody, &cn, &org, &ou, &why), CRT_E_TOKEN_OWNER);
	assert_int_equal(decide(&t, &alice, &cn, &org, &ou, &why), CRT_OK);
	assert_string_equal(cn, "laptop");
	assert_int_equal(decide(&t, &admin, &cn, &org, &ou, &why), CRT_OK);
}

static void the_subject_is_the_tokens_with_the_allowed_overrides(void **s)
{
	crt_token t = token("laptop", NULL, NULL);
	const char *cn, *org, *ou;
	token_refusal why;

	t.org = (char *)"Example";
	/* an empty CN and OU are the redeemer's to fill; the filled O is fixed */
	crt_redeem_req req = {.cn = "alice-laptop", .ou = "Sales", .admin = 0};
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_OK);
	assert_ptr_equal(cn, req.cn);
	assert_ptr_equal(org, t.org);
	assert_ptr_equal(ou, req.ou);
	/* the same value as the token's is no change */
	req.org = "Example";
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_OK);
	/* another one is refused as locked */
	req.org = "Evil";
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_E_FIELD_LOCKED);
	assert_string_equal(why.msg, "organization is fixed by the token (filled in by the "
	                             "administrator, or the commonName of an owner's token); the "
	                             "administrator may open it");
	/* opened, it is the redeemer's; "" clears it */
	t.opened = CRT_FIELD_O;
	req.org = "";
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_OK);
	assert_null(org);
}

static void an_owners_token_keeps_its_name_as_cn(void **s)
{
	crt_token t = token("alice", NULL, "alice");
	crt_redeem_req req = {.user = "alice", .cn = "bob"};
	const char *cn, *org, *ou;
	token_refusal why;
	assert_int_equal(decide(&t, &req, &cn, &org, &ou, &why), CRT_E_FIELD_LOCKED);
	assert_non_null(strstr(why.msg, "commonName is fixed by the token"));
}

static void a_subject_without_cn_or_with_a_bad_field_is_invalid(void **s)
{
	crt_token t = token("laptop", NULL, NULL);
	const char *cn, *org, *ou;
	token_refusal why;
	crt_redeem_req clear = {.cn = "", .admin = 1};

	assert_int_equal(decide(&t, &clear, &cn, &org, &ou, &why), CRT_E_FIELD_INVALID);
	assert_string_equal(why.msg,
	                    "the commonName cannot be empty (a certificate needs a subject)");
	/* a stored field from before the subject rule is checked too */
	t.cn = (char *)"trailing\\";
	crt_redeem_req plain = {.admin = 1};
	assert_int_equal(decide(&t, &plain, &cn, &org, &ou, &why), CRT_E_FIELD_INVALID);
	assert_non_null(strstr(why.msg, "commonName "));
}

/* ------------------------------------------------------ a lost claim */

static void a_lost_claim_says_why_from_what_the_store_saw(void **s)
{
	token_refusal why;
	int retry = 7;
	token_seen gone = {0};
	token_seen del = {.present = 1,
	                  .deleted_at = NOW - 1,
	                  .used_at = NOW - 1,
	                  .version = 3,
	                  .expires_at = NOW + 9};
	token_seen used = {.present = 1, .used_at = NOW - 1, .version = 3, .expires_at = NOW + 9};
	token_seen old = {.present = 1, .version = 2, .expires_at = NOW};

	assert_int_equal(token_claim_lost(&gone, "token-1", 2, NOW, &retry, &why),
	                 CRT_E_TOKEN_UNKNOWN);
	assert_string_equal(why.msg, "token token-1 was purged");
	assert_int_equal(retry, 0);
	assert_int_equal(token_claim_lost(&del, "token-1", 2, NOW, &retry, &why),
	                 CRT_E_TOKEN_DELETED);
	assert_int_equal(token_claim_lost(&used, "token-1", 2, NOW, &retry, &why),
	                 CRT_E_TOKEN_USED);
	assert_string_equal(why.msg, "token token-1 was already used");
	assert_int_equal(retry, 0);
	assert_int_equal(token_claim_lost(&old, "token-1", 2, NOW, &retry, &why),
	                 CRT_E_TOKEN_EXPIRED);
	assert_int_equal(retry, 0);
}

static void a_token_changed_since_phase_one_means_read_it_again(void **s)
{
	token_refusal why;
	int retry = 0;
	token_seen changed = {.present = 1, .version = 3, .expires_at = NOW - 5};
	token_seen same = {.present = 1, .version = 2, .expires_at = NOW + 5};

	/* the change is what counts, even if the new row has expired */
	assert_int_equal(token_claim_lost(&changed, "token-1", 2, NOW, &retry, &why),
	                 CRT_E_TOKEN_NOT_ACTIVE);
	assert_string_equal(why.msg, "token token-1 changed");
	assert_int_equal(retry, 1);
	retry = 0;
	assert_int_equal(token_claim_lost(&same, "token-1", 2, NOW, &retry, &why),
	                 CRT_E_TOKEN_NOT_ACTIVE);
	assert_int_equal(retry, 1);
}

/* ------------------------------------------------------------ description */

static void a_description_of_printable_utf8_up_to_the_limit_is_accepted(void **s)
{
	char why[160], max[TOKEN_DESCRIPTION_MAX + 1];
	memset(max, 'd', TOKEN_DESCRIPTION_MAX);
	max[TOKEN_DESCRIPTION_MAX] = '\0';
	assert_int_equal(token_description_check(NULL, why, sizeof(why)), CRT_OK);
	assert_int_equal(token_description_check("", why, sizeof(why)), CRT_OK);
	assert_int_equal(token_description_check("Laptop of the 3rd floor printer room", why,
	                                         sizeof(why)),
	                 CRT_OK);
	assert_int_equal(token_description_check("Büro Zürich – 会議室 ✓", why, sizeof(why)),
	                 CRT_OK);
	assert_int_equal(token_description_check(max, why, sizeof(why)), CRT_OK);
	assert_string_equal(why, "");
}

static void a_description_one_byte_too_long_is_invalid_and_says_so(void **s)
{
	char why[160], big[TOKEN_DESCRIPTION_MAX + 2];
	memset(big, 'd', TOKEN_DESCRIPTION_MAX + 1);
	big[TOKEN_DESCRIPTION_MAX + 1] = '\0';
	assert_int_equal(token_description_check(big, why, sizeof(why)),
	                 CRT_E_DESCRIPTION_INVALID);
	assert_non_null(strstr(why, "1025 bytes"));
	assert_non_null(strstr(why, "1024"));
}

static void a_description_with_any_control_character_is_invalid(void **s)
{
	/* tab, line feed and CR included: one line of text */
	static const char *const bad[] = {"a\tb", "a\nb", "a\rb", "a\x1b[31mred", "a\x7f",
	                                  "a\xc2\x85" /* U+0085 NEL (C1) */, "\x01"};
	char why[160];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (token_description_check(bad[i], why, sizeof(why)) != CRT_E_DESCRIPTION_INVALID)
			fail_msg("description #%zu was accepted", i);
		assert_non_null(strstr(why, "control character"));
	}
	assert_int_equal(token_description_check("ab\t", why, sizeof(why)),
	                 CRT_E_DESCRIPTION_INVALID);
	assert_non_null(strstr(why, "U+0009 at byte 2"));
}

static void a_description_that_is_not_utf8_is_invalid(void **s)
{
	static const char *const bad[] = {"caf\xe9", "\xc0\xaf" /* overlong '/' */,
	                                  "\xed\xa0\x80" /* a surrogate */, "abc\xe2\x82",
	                                  "\xff"};
	char why[160];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (token_description_check(bad[i], why, sizeof(why)) != CRT_E_DESCRIPTION_INVALID)
			fail_msg("description #%zu was accepted", i);
		assert_non_null(strstr(why, "not valid UTF-8"));
	}
	assert_int_equal(token_description_check("caf\xe9", why, sizeof(why)),
	                 CRT_E_DESCRIPTION_INVALID);
	assert_non_null(strstr(why, "byte 3"));
}

static void attack_description_with_bidi_override_hides_text_in_a_listing(void **s)
{
	char why[160];
	/* "evil" shown reversed after an RLO: what a terminal prints is not the text */
	assert_int_equal(token_description_check("guest \xe2\x80\xae" "evil", why, sizeof(why)),
	                 CRT_E_DESCRIPTION_INVALID);
	assert_non_null(strstr(why, "bidirectional"));
	assert_non_null(strstr(why, "U+202E"));
	assert_int_equal(token_description_check("x\xe2\x81\xa6y", why, sizeof(why)),
	                 CRT_E_DESCRIPTION_INVALID); /* U+2066 LRI */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(deleted_wins_over_used_and_used_over_expired),
	    cmocka_unit_test(a_token_expires_at_its_expiry_second_itself),
	    cmocka_unit_test(the_bounds_of_a_state_select_exactly_the_rows_in_that_state),
	    cmocka_unit_test(a_token_ends_when_deleted_else_used_else_expired),
	    cmocka_unit_test(purge_takes_the_tokens_that_ended_before_the_cutoff),
	    cmocka_unit_test(an_active_token_is_never_purged),
	    cmocka_unit_test(a_finished_token_is_refused_for_its_state_deleted_first),
	    cmocka_unit_test(an_owned_token_is_for_its_owner_or_an_admin),
	    cmocka_unit_test(the_subject_is_the_tokens_with_the_allowed_overrides),
	    cmocka_unit_test(an_owners_token_keeps_its_name_as_cn),
	    cmocka_unit_test(a_subject_without_cn_or_with_a_bad_field_is_invalid),
	    cmocka_unit_test(a_lost_claim_says_why_from_what_the_store_saw),
	    cmocka_unit_test(a_token_changed_since_phase_one_means_read_it_again),
	    cmocka_unit_test(a_description_of_printable_utf8_up_to_the_limit_is_accepted),
	    cmocka_unit_test(a_description_one_byte_too_long_is_invalid_and_says_so),
	    cmocka_unit_test(a_description_with_any_control_character_is_invalid),
	    cmocka_unit_test(a_description_that_is_not_utf8_is_invalid),
	    cmocka_unit_test(attack_description_with_bidi_override_hides_text_in_a_listing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
