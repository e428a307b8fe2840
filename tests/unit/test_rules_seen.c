/*
 * test_rules_seen.c — the RADIUS session rules (common/rules/seen.c) on
 * values alone, without a database: the one spelling of a MAC address,
 * the pin_mac = first decision, the Session-Timeout and how two sightings
 * of one certificate coalesce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/seen.h"

static void mac_addresses_in_every_usual_spelling_become_one(void **s)
{
	static const char *const in[] = {"AA:BB:CC:DD:EE:0F", "aa-bb-cc-dd-ee-0f",
					 "aabb.ccdd.ee0f", "AABBCCDDEE0F", "  aa:bb:cc:dd:ee:0f "};
	char out[CRT_MAC_MAX];
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(crt_mac_normalize(in[i], out), CRT_OK);
		assert_string_equal(out, "aa:bb:cc:dd:ee:0f");
	}
}

static void other_station_ids_are_kept_lowercased(void **s)
{
	char out[CRT_MAC_MAX];
	assert_int_equal(crt_mac_normalize("Port 7 / Unit-B", out), CRT_OK);
	assert_string_equal(out, "port 7 / unit-b");
	assert_int_equal(crt_mac_normalize("aa:bb:cc:dd:ee", out), CRT_OK); /* five octets */
	assert_string_equal(out, "aa:bb:cc:dd:ee");
}

static void empty_control_or_overlong_station_ids_are_refused(void **s)
{
	char out[CRT_MAC_MAX], big[CRT_MAC_MAX + 8];
	assert_int_equal(crt_mac_normalize("", out), CRT_E_FIELD_INVALID);
	assert_int_equal(crt_mac_normalize("   ", out), CRT_E_FIELD_INVALID);
	assert_int_equal(crt_mac_normalize(NULL, out), CRT_E_FIELD_INVALID);
	assert_int_equal(crt_mac_normalize("aa:bb\n", out), CRT_E_FIELD_INVALID);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(crt_mac_normalize(big, out), CRT_E_FIELD_INVALID);
}

static void without_pinning_any_mac_is_admitted(void **s)
{
	int claim = 7;
	const char *why;
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_OFF, "aa:aa:aa:aa:aa:aa", "bb:bb:bb:bb:bb:bb",
					 &claim, &why),
			 CRT_OK);
	assert_int_equal(claim, 0);
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_OFF, NULL, "", &claim, &why), CRT_OK);
}

static void the_first_admission_of_a_pinned_certificate_claims_its_mac(void **s)
{
	int claim = 0;
	const char *why;
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_FIRST, NULL, "aa:aa:aa:aa:aa:aa", &claim, &why),
			 CRT_OK);
	assert_int_equal(claim, 1);
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_FIRST, "", "aa:aa:aa:aa:aa:aa", &claim, &why),
			 CRT_OK);
	assert_int_equal(claim, 1);
}

static void the_pinned_mac_is_admitted_again(void **s)
{
	int claim = 1;
	const char *why;
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_FIRST, "aa:aa:aa:aa:aa:aa", "aa:aa:aa:aa:aa:aa",
					 &claim, &why),
			 CRT_OK);
	assert_int_equal(claim, 0);
}

static void attack_cloned_certificate_from_another_mac_is_refused(void **s)
{
	int claim = 1;
	const char *why = "";
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_FIRST, "aa:aa:aa:aa:aa:aa", "bb:bb:bb:bb:bb:bb",
					 &claim, &why),
			 CRT_E_CERT_MAC_PINNED);
	assert_int_equal(claim, 0);
	assert_true(strstr(why, "another") != NULL);
}

static void attack_pinned_certificate_without_a_station_id_is_refused(void **s)
{
	int claim = 1;
	const char *why;
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_FIRST, "aa:aa:aa:aa:aa:aa", "", &claim, &why),
			 CRT_E_CERT_MAC_PINNED);
	assert_int_equal(seen_pin_decide(CRT_PIN_MAC_FIRST, NULL, NULL, &claim, &why),
			 CRT_E_CERT_MAC_PINNED);
	assert_int_equal(claim, 0);
}

static void session_timeout_ends_at_not_after_and_honours_the_cap(void **s)
{
	assert_int_equal(seen_session_timeout(1000 + 3600, 1000, 0), 3600);
	assert_int_equal(seen_session_timeout(1000 + 3600, 1000, 600), 600);
	assert_int_equal(seen_session_timeout(1000 + 300, 1000, 600), 300); /* cap never extends */
	assert_int_equal(seen_session_timeout(1000, 1000, 0), 1);
	assert_int_equal(seen_session_timeout(900, 1000, 0), 1);
}

static crt_sighting sighting(int64_t first, int64_t last, const char *mac, const char *nas)
{
	crt_sighting v = {.first_at = first, .last_at = last};
	snprintf(v.serial, sizeof(v.serial), "0a");
	snprintf(v.first_mac, sizeof(v.first_mac), "%s", mac);
	snprintf(v.mac, sizeof(v.mac), "%s", mac);
	snprintf(v.nas_ip, sizeof(v.nas_ip), "%s", nas);
	return v;
}

static void sightings_coalesce_to_the_earliest_first_and_the_latest_session(void **s)
{
	crt_sighting a = sighting(100, 100, "aa", "10.0.0.1");
	crt_sighting b = sighting(200, 250, "bb", "10.0.0.2");
	crt_sighting_merge(&a, &b);
	assert_int_equal(a.first_at, 100);
	assert_string_equal(a.first_mac, "aa");
	assert_int_equal(a.last_at, 250);
	assert_string_equal(a.mac, "bb");
	assert_string_equal(a.nas_ip, "10.0.0.2");
	/* An older one merged late changes the first only. */
	crt_sighting c = sighting(50, 60, "cc", "10.0.0.3");
	crt_sighting_merge(&a, &c);
	assert_int_equal(a.first_at, 50);
	assert_string_equal(a.first_mac, "cc");
	assert_int_equal(a.last_at, 250);
	assert_string_equal(a.nas_ip, "10.0.0.2");
}

static void the_pin_is_the_certificates_else_the_profiles_else_the_sites(void **s)
{
	assert_int_equal(seen_pin_effective(CRT_PIN_MAC_FIRST, CRT_PIN_MAC_OFF, CRT_PIN_MAC_OFF),
			 CRT_PIN_MAC_FIRST);
	assert_int_equal(seen_pin_effective(CRT_PIN_MAC_OFF, CRT_PIN_MAC_FIRST, CRT_PIN_MAC_FIRST),
			 CRT_PIN_MAC_OFF);
	assert_int_equal(seen_pin_effective(-1, CRT_PIN_MAC_FIRST, CRT_PIN_MAC_OFF),
			 CRT_PIN_MAC_FIRST);
	assert_int_equal(seen_pin_effective(-1, CRT_PIN_MAC_OFF, CRT_PIN_MAC_FIRST), CRT_PIN_MAC_OFF);
	/* a profile no longer configured: the site's */
	assert_int_equal(seen_pin_effective(-1, -1, CRT_PIN_MAC_FIRST), CRT_PIN_MAC_FIRST);
	assert_int_equal(seen_pin_parse("first"), CRT_PIN_MAC_FIRST);
	assert_int_equal(seen_pin_parse("off"), CRT_PIN_MAC_OFF);
	assert_int_equal(seen_pin_parse(NULL), -1);
	assert_int_equal(seen_pin_parse("First"), -1);
	assert_int_equal(seen_pin_parse(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_pin_is_the_certificates_else_the_profiles_else_the_sites),
		cmocka_unit_test(mac_addresses_in_every_usual_spelling_become_one),
		cmocka_unit_test(other_station_ids_are_kept_lowercased),
		cmocka_unit_test(empty_control_or_overlong_station_ids_are_refused),
		cmocka_unit_test(without_pinning_any_mac_is_admitted),
		cmocka_unit_test(the_first_admission_of_a_pinned_certificate_claims_its_mac),
		cmocka_unit_test(the_pinned_mac_is_admitted_again),
		cmocka_unit_test(attack_cloned_certificate_from_another_mac_is_refused),
		cmocka_unit_test(attack_pinned_certificate_without_a_station_id_is_refused),
		cmocka_unit_test(session_timeout_ends_at_not_after_and_honours_the_cap),
		cmocka_unit_test(sightings_coalesce_to_the_earliest_first_and_the_latest_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
