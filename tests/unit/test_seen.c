/*
 * test_seen.c — what RADIUS saw of each certificate, through the store
 * port on the backend under test (CRTOKEN_TEST_BACKEND): the batched record
 * (first and last seen, the session fields, one cert.first_seen audit row
 * per certificate), the MAC pin of pin_mac = first, the admission's MAC
 * and Session-Timeout answers, and the never-seen / stale listing filters.
 */
#include "testutil.h"

static void issue(test_instance *t, const char *name, crt_cert *c)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_token_spec spec = {.name = name};
	tu_token(t->ctx, &spec, tok, &tk);
	assert_int_equal(tu_redeem(t->ctx, tok, c), CRT_OK);
	crt_token_clear(&tk);
}

static crt_sighting sighting(const char *serial, int64_t first, int64_t last, const char *mac,
			     const char *nas)
{
	crt_sighting v = {.first_at = first, .last_at = last};
	snprintf(v.serial, sizeof(v.serial), "%s", serial);
	snprintf(v.first_mac, sizeof(v.first_mac), "%s", mac);
	snprintf(v.mac, sizeof(v.mac), "%s", mac);
	snprintf(v.nas_ip, sizeof(v.nas_ip), "%s", nas);
	snprintf(v.nas_id, sizeof(v.nas_id), "ap-%s", nas);
	snprintf(v.user_name, sizeof(v.user_name), "user-%s", mac);
	return v;
}

static int audit_count(crt_ctx *ctx, const char *action)
{
	crt_audit_row *rows;
	size_t n;
	assert_int_equal(crt_audit_list(ctx, 1000, action, &rows, &n), CRT_OK);
	crt_audit_list_free(rows, n);
	return (int)n;
}

static void a_certificate_never_admitted_shows_no_sightings(void **s)
{
	crt_cert c, g;
	issue(&ti, "never", &c);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &g), CRT_OK);
	assert_int_equal(g.first_seen, 0);
	assert_int_equal(g.last_seen, 0);
	assert_null(g.first_mac);
	assert_null(g.nas_ip);
	crt_cert_clear(&g);
	crt_cert_clear(&c);
}

static void a_batch_records_first_and_last_seen_with_the_last_session(void **s)
{
	crt_cert c, g;
	int before = audit_count(ti.ctx, "cert.first_seen");
	issue(&ti, "batch", &c);
	crt_sighting v[1] = {sighting(c.serial, 1000, 1010, "aa:aa:aa:aa:aa:01", "10.0.0.1")};
	snprintf(v[0].acct_session_id, sizeof(v[0].acct_session_id), "S-1");
	assert_int_equal(crt_cert_seen_record(ti.ctx, v, 1), CRT_OK);
	assert_int_equal(audit_count(ti.ctx, "cert.first_seen"), before + 1);
	/* A later batch moves last_seen and the session, never first_seen. */
	v[0] = sighting(c.serial, 2000, 2500, "aa:aa:aa:aa:aa:02", "10.0.0.2");
	assert_int_equal(crt_cert_seen_record(ti.ctx, v, 1), CRT_OK);
	assert_int_equal(audit_count(ti.ctx, "cert.first_seen"), before + 1);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &g), CRT_OK);
	assert_int_equal(g.first_seen, 1000);
	assert_int_equal(g.last_seen, 2500);
	assert_string_equal(g.first_mac, "aa:aa:aa:aa:aa:01");
	assert_string_equal(g.last_mac, "aa:aa:aa:aa:aa:02");
	assert_string_equal(g.nas_ip, "10.0.0.2");
	assert_string_equal(g.nas_id, "ap-10.0.0.2");
	assert_string_equal(g.seen_user, "user-aa:aa:aa:aa:aa:02");
	assert_null(g.acct_session_id); /* the later session sent none */
	crt_cert_clear(&g);
	/* A batch that arrives late (an older session) leaves the last alone. */
	v[0] = sighting(c.serial, 1500, 1600, "aa:aa:aa:aa:aa:03", "10.0.0.3");
	assert_int_equal(crt_cert_seen_record(ti.ctx, v, 1), CRT_OK);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &g), CRT_OK);
	assert_int_equal(g.first_seen, 1000);
	assert_int_equal(g.last_seen, 2500);
	assert_string_equal(g.nas_ip, "10.0.0.2");
	crt_cert_clear(&g);
	crt_cert_clear(&c);
}

static void sightings_of_serials_never_issued_are_skipped(void **s)
{
	crt_cert c, g;
	issue(&ti, "mixed", &c);
	crt_sighting v[2] = {sighting("0badc0ffee", 10, 20, "aa", "10.0.0.9"),
			     sighting(c.serial, 10, 20, "aa", "10.0.0.9")};
	assert_int_equal(crt_cert_seen_record(ti.ctx, v, 2), CRT_OK);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &g), CRT_OK);
	assert_int_equal(g.last_seen, 20);
	crt_cert_clear(&g);
	assert_int_equal(crt_cert_get(ti.ctx, "0badc0ffee", &g), CRT_E_CERT_NOT_FOUND);
	crt_cert_clear(&c);
}

static void the_first_pin_wins_and_is_audited_once(void **s)
{
	crt_cert c, g;
	int before = audit_count(ti.ctx, "cert.pin");
	issue(&ti, "pin", &c);
	assert_int_equal(crt_cert_pin_claim(ti.ctx, c.serial, "AA-AA-AA-AA-AA-01", 500), CRT_OK);
	assert_int_equal(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:01", 501), CRT_OK);
	assert_int_equal(audit_count(ti.ctx, "cert.pin"), before + 1);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &g), CRT_OK);
	assert_string_equal(g.first_mac, "aa:aa:aa:aa:aa:01");
	assert_int_equal(g.first_seen, 500);
	crt_cert_clear(&g);
	/* A later batch with another MAC does not move the pin. */
	crt_sighting v[1] = {sighting(c.serial, 400, 600, "bb:bb:bb:bb:bb:bb", "10.0.0.1")};
	assert_int_equal(crt_cert_seen_record(ti.ctx, v, 1), CRT_OK);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &g), CRT_OK);
	assert_string_equal(g.first_mac, "aa:aa:aa:aa:aa:01");
	assert_int_equal(g.first_seen, 400);
	crt_cert_clear(&g);
	crt_cert_clear(&c);
}

static void attack_cloned_certificate_cannot_claim_another_pin(void **s)
{
	crt_cert c;
	issue(&ti, "clone", &c);
	assert_int_equal(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:01", 500), CRT_OK);
	assert_int_equal(crt_cert_pin_claim(ti.ctx, c.serial, "aa:aa:aa:aa:aa:02", 501),
			 CRT_E_CERT_MAC_PINNED);
	assert_true(strstr(crt_errdetail(ti.ctx), "aa:aa:aa:aa:aa:01") != NULL);
	assert_int_equal(crt_cert_pin_claim(ti.ctx, "0badc0ffee", "aa:aa:aa:aa:aa:01", 501),
			 CRT_E_CERT_NOT_FOUND);
	crt_cert_clear(&c);
}

/* An instance with [radius] settings. */
static void radius_instance(test_instance *t, const char *radius)
{
	tu_instance_init(t, NULL);
	tu_config_append(t, radius);
	tu_open(t);
}

static void admission_answers_session_timeout_capped_by_config(void **s)
{
	test_instance t;
	crt_cert c;
	tu_presented_buf pb;
	crt_admission a;
	radius_instance(&t, "[radius]\nmax_session_timeout = 600\n");
	issue(&t, "timeout", &c);
	crt_presented *p = tu_presented(&c, &pb);
	assert_int_equal(crt_cert_admission(t.ctx, p, crt_now(), &a), CRT_OK);
	assert_int_equal(a.session_timeout, 600);
	assert_int_equal(a.not_after, c.not_after);
	assert_int_equal(a.pin_claim, 0);
	crt_admission_clear(&a);
	/* Near the end of the certificate: what is left of it. */
	assert_int_equal(crt_cert_admission(t.ctx, p, c.not_after - 90, &a), CRT_OK);
	assert_int_equal(a.session_timeout, 90);
	crt_admission_clear(&a);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

static void attack_cloned_certificate_from_another_mac_is_rejected(void **s)
{
	test_instance t;
	crt_cert c;
	tu_presented_buf pb;
	crt_admission a;
	radius_instance(&t, "[radius]\npin_mac = first\n");
	issue(&t, "pinned", &c);
	crt_presented *p = tu_presented(&c, &pb);
	p->mac = "AA:AA:AA:AA:AA:01";
	assert_int_equal(crt_cert_admission(t.ctx, p, crt_now(), &a), CRT_OK);
	assert_int_equal(a.pin_claim, 1); /* nothing pinned yet */
	assert_string_equal(a.mac, "aa:aa:aa:aa:aa:01");
	assert_int_equal(crt_cert_pin_claim(t.ctx, c.serial, a.mac, crt_now()), CRT_OK);
	crt_admission_clear(&a);
	assert_int_equal(crt_cert_admission(t.ctx, p, crt_now(), &a), CRT_OK);
	assert_int_equal(a.pin_claim, 0);
	crt_admission_clear(&a);
	p->mac = "aa:aa:aa:aa:aa:02";
	assert_int_equal(crt_cert_admission(t.ctx, p, crt_now(), &a), CRT_E_CERT_MAC_PINNED);
	assert_true(strstr(crt_errdetail(t.ctx), "aa:aa:aa:aa:aa:01") != NULL);
	p->mac = NULL;
	assert_int_equal(crt_cert_admission(t.ctx, p, crt_now(), &a), CRT_E_CERT_MAC_PINNED);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

/* A certificate of a token with pin_mac pin (NULL: none) and profile. */
static void issue_pinned(test_instance *t, const char *pin, const char *profile, crt_cert *c)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	crt_token_spec spec = {.name = "pin", .pin_mac = pin, .profile = profile};
	tu_token(t->ctx, &spec, tok, &tk);
	if (pin != NULL)
		assert_string_equal(tk.pin_mac, pin);
	assert_int_equal(tu_redeem(t->ctx, tok, c), CRT_OK);
	crt_token_clear(&tk);
}

/* The admission of c from mac: the status, *pin the pin that applied. */
static crt_status admit_from(test_instance *t, const crt_cert *c, const char *mac, int *pin)
{
	tu_presented_buf pb;
	crt_admission a;
	crt_presented *p = tu_presented(c, &pb);
	p->mac = mac;
	crt_status r = crt_cert_admission(t->ctx, p, crt_now(), &a);
	if (r == CRT_OK && a.pin_claim)
		assert_int_equal(crt_cert_pin_claim(t->ctx, c->serial, a.mac, crt_now()), CRT_OK);
	if (pin != NULL)
		*pin = a.pin_mac;
	crt_admission_clear(&a);
	return r;
}

/* [radius] pin_mac off; the token says first: its certificate, cloned onto
 * another device, is refused there. */
static void attack_cloned_cert_from_other_mac_refused_for_a_pinned_token(void **s)
{
	test_instance t;
	crt_cert c, got;
	int pin = -1;
	radius_instance(&t, "[radius]\npin_mac = off\n");
	issue_pinned(&t, "first", NULL, &c);
	assert_int_equal(crt_cert_get(t.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.pin_mac, "first");
	crt_cert_clear(&got);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:01", &pin), CRT_OK);
	assert_int_equal(pin, CRT_PIN_MAC_FIRST);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:01", NULL), CRT_OK);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:02", NULL), CRT_E_CERT_MAC_PINNED);
	crt_cert_clear(&c);
	/* an unpinned token's certificate is admitted from both */
	issue_pinned(&t, NULL, NULL, &c);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:01", &pin), CRT_OK);
	assert_int_equal(pin, CRT_PIN_MAC_OFF);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:02", NULL), CRT_OK);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

/* The token's own value wins over the profile's, the profile's over [radius]. */
static void the_pin_is_the_tokens_else_the_profiles_else_the_sites(void **s)
{
	test_instance t;
	crt_cert c;
	int pin = -1;
	radius_instance(&t, "[radius]\npin_mac = first\nmax_session_timeout = 3600\n"
	                    "[profile loose]\npin_mac = off\nsession_timeout = 10m\n"
	                    "[profile tight]\npin_mac = first\n");
	issue_pinned(&t, NULL, "loose", &c); /* the profile: off */
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:01", &pin), CRT_OK);
	assert_int_equal(pin, CRT_PIN_MAC_OFF);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:02", NULL), CRT_OK);
	crt_cert_clear(&c);
	issue_pinned(&t, "first", "loose", &c); /* the token over the profile */
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:01", &pin), CRT_OK);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:02", NULL), CRT_E_CERT_MAC_PINNED);
	crt_cert_clear(&c);
	issue_pinned(&t, "off", "tight", &c);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:01", &pin), CRT_OK);
	assert_int_equal(pin, CRT_PIN_MAC_OFF);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:02", NULL), CRT_OK);
	crt_cert_clear(&c);
	issue_pinned(&t, NULL, NULL, &c); /* the default profile inherits [radius]: first */
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:01", &pin), CRT_OK);
	assert_int_equal(pin, CRT_PIN_MAC_FIRST);
	assert_int_equal(admit_from(&t, &c, "aa:aa:aa:aa:aa:02", NULL), CRT_E_CERT_MAC_PINNED);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

static void session_timeout_is_capped_by_the_profile(void **s)
{
	test_instance t;
	crt_cert c;
	tu_presented_buf pb;
	crt_admission a;
	radius_instance(&t, "[radius]\nmax_session_timeout = 3600\n"
	                    "[profile short]\nsession_timeout = 10m\n"
	                    "[profile open]\nsession_timeout = none\n");
	issue_pinned(&t, NULL, "short", &c);
	assert_int_equal(crt_cert_admission(t.ctx, tu_presented(&c, &pb), crt_now(), &a), CRT_OK);
	assert_int_equal(a.session_timeout, 600);
	crt_admission_clear(&a);
	crt_cert_clear(&c);
	issue_pinned(&t, NULL, NULL, &c); /* the default profile: [radius]'s */
	assert_int_equal(crt_cert_admission(t.ctx, tu_presented(&c, &pb), crt_now(), &a), CRT_OK);
	assert_int_equal(a.session_timeout, 3600);
	crt_admission_clear(&a);
	crt_cert_clear(&c);
	issue_pinned(&t, NULL, "open", &c); /* none: to notAfter */
	int64_t now = crt_now();
	assert_int_equal(crt_cert_admission(t.ctx, tu_presented(&c, &pb), now, &a), CRT_OK);
	assert_int_equal(a.session_timeout, c.not_after - now);
	crt_admission_clear(&a);
	crt_cert_clear(&c);
	tu_instance_free(&t);
}

static void a_pin_mac_other_than_first_or_off_is_refused_at_create(void **s)
{
	test_instance t;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token tk;
	radius_instance(&t, "");
	crt_token_spec spec = {.name = "bad", .pin_mac = "sometimes"};
	assert_int_equal(crt_token_create(t.ctx, &spec, "test", NULL, tok), CRT_E_FIELD_INVALID);
	assert_non_null(strstr(crt_errdetail(t.ctx), "pinMac"));
	char db[512];
	tu_db_path(&t, db, sizeof(db));
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM tokens"), 0);
	/* and it is fixed at creation */
	spec.pin_mac = "first";
	tu_token(t.ctx, &spec, tok, &tk);
	crt_token_spec up = {.pin_mac = "off"};
	assert_int_equal(crt_token_update(t.ctx, tk.id, &up, "test", NULL), CRT_E_FIELD_INVALID);
	crt_token_clear(&tk);
	tu_instance_free(&t);
}

static void listing_finds_never_seen_and_stale_certificates(void **s)
{
	test_instance t;
	crt_cert a, b, c2;
	crt_cert *list;
	size_t n;
	int64_t now = crt_now();
	tu_instance(&t);
	issue(&t, "never", &a);
	issue(&t, "recent", &b);
	issue(&t, "stale", &c2);
	crt_sighting v[2] = {sighting(b.serial, now - 100, now - 50, "aa", "10.0.0.1"),
			     sighting(c2.serial, now - 40 * 86400, now - 31 * 86400, "bb",
				      "10.0.0.2")};
	assert_int_equal(crt_cert_seen_record(t.ctx, v, 2), CRT_OK);
	crt_cert_filter f = {.status = -1, .expiring_within_days = -1, .never_seen = 1};
	assert_int_equal(crt_cert_list(t.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].serial, a.serial);
	crt_cert_list_free(list, n);
	f.never_seen = 0;
	f.stale_days = 30;
	assert_int_equal(crt_cert_list(t.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].serial, c2.serial);
	assert_string_equal(list[0].nas_ip, "10.0.0.2");
	crt_cert_list_free(list, n);
	f.stale_days = 60;
	assert_int_equal(crt_cert_list(t.ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 0);
	crt_cert_list_free(list, n);
	crt_cert_clear(&a);
	crt_cert_clear(&b);
	crt_cert_clear(&c2);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_certificate_never_admitted_shows_no_sightings),
		cmocka_unit_test(a_batch_records_first_and_last_seen_with_the_last_session),
		cmocka_unit_test(sightings_of_serials_never_issued_are_skipped),
		cmocka_unit_test(the_first_pin_wins_and_is_audited_once),
		cmocka_unit_test(attack_cloned_certificate_cannot_claim_another_pin),
		cmocka_unit_test(admission_answers_session_timeout_capped_by_config),
		cmocka_unit_test(attack_cloned_certificate_from_another_mac_is_rejected),
		cmocka_unit_test(attack_cloned_cert_from_other_mac_refused_for_a_pinned_token),
		cmocka_unit_test(the_pin_is_the_tokens_else_the_profiles_else_the_sites),
		cmocka_unit_test(session_timeout_is_capped_by_the_profile),
		cmocka_unit_test(a_pin_mac_other_than_first_or_off_is_refused_at_create),
		cmocka_unit_test(listing_finds_never_seen_and_stale_certificates),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
