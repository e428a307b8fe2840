/*
 * test_rules_admit.c — the admission rule (common/rules/admit.c) as a
 * function of values: a stored row and what FreeRADIUS presents → admitted
 * or refused with a status and a reason. No store, no ctx.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/admit.h"

/* A stored row as the admission lookup returns it ... */
static admit_stored stored_row(void)
{
	return (admit_stored){
		.serial = "63164eb03d168f4463adc3cb2ac572c1",
		.issuer = "/CN=crtoken CA/O=Corp",
		.ski = "2d11240918ebfa57cce718ec3d61a41406fe0a1f",
		.aki = "a7611319f5a810b5500c90f8692fff78b2ff999d",
		.not_before = 1796116353, /* 2026-12-01T09:12:33Z */
		.not_after = 1827652653,  /* 2027-12-01T09:17:33Z */
	};
}
/* ... and the same certificate as rlm_eap_tls prints it. */
static crt_presented presented_row(void)
{
	return (crt_presented){
		.serial = "63:16:4E:B0:3D:16:8F:44:63:AD:C3:CB:2A:C5:72:C1",
		.issuer = "/CN=crtoken CA/O=Corp",
		.ski = "2D:11:24:09:18:EB:FA:57:CC:E7:18:EC:3D:61:A4:14:06:FE:0A:1F",
		.aki = "A7:61:13:19:F5:A8:10:B5:50:0C:90:F8:69:2F:FF:78:B2:FF:99:9D",
		.not_before = "261201091233Z",
		.not_after = "271201091733Z",
	};
}
#define NOW 1800000000 /* inside the row's validity */

static void the_stored_certificate_is_admitted_with_no_reason(void **s)
{
	admit_stored st = stored_row();
	crt_presented p = presented_row();
	const char *why = "x";
	assert_int_equal(admit_decide(&p, &st, NOW, &why), CRT_OK);
	assert_string_equal(why, "");
	/* the issuer name check is skipped when FreeRADIUS sends none */
	p.issuer = NULL;
	assert_int_equal(admit_decide(&p, &st, NOW, NULL), CRT_OK);
}

static void a_refusal_names_its_reason(void **s)
{
	static const struct {
		const char *field, *value;
		crt_status want;
		const char *why;
	} cases[] = {
		{"serial", "zz", CRT_E_SERIAL_INVALID, "the serial is not hex"},
		{"serial", "0a", CRT_E_CERT_NOT_FOUND, "another serial"},
		{"issuer", "/CN=crtoken CA/O=corp", CRT_E_CERT_WRONG_ISSUER,
		 "the issuer name is not the stored one"},
		{"aki", NULL, CRT_E_CERT_MISMATCH, "no Authority Key Identifier presented"},
		{"aki", "A7:61, DirName:/CN=x", CRT_E_CERT_MISMATCH,
		 "the Authority Key Identifier is not a plain key id"},
		{"aki", "5E:9A", CRT_E_CERT_WRONG_ISSUER,
		 "signed by another CA key (Authority Key Identifier differs)"},
		{"ski", NULL, CRT_E_CERT_MISMATCH, "no Subject Key Identifier presented"},
		{"ski", "", CRT_E_CERT_MISMATCH, "the Subject Key Identifier is not a key id"},
		{"ski", "0F:0F", CRT_E_CERT_MISMATCH, "another key (Subject Key Identifier differs)"},
		{"not_before", NULL, CRT_E_CERT_MISMATCH, "no validity period presented"},
		{"not_before", "261201091234Z", CRT_E_CERT_MISMATCH,
		 "the start of validity is not the stored one"},
		{"not_after", "tomorrow", CRT_E_CERT_MISMATCH,
		 "the end of validity is not the stored one"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		admit_stored st = stored_row();
		crt_presented p = presented_row();
		const char **f = strcmp(cases[i].field, "serial") == 0	    ? &p.serial
				 : strcmp(cases[i].field, "issuer") == 0    ? &p.issuer
				 : strcmp(cases[i].field, "aki") == 0	    ? &p.aki
				 : strcmp(cases[i].field, "ski") == 0	    ? &p.ski
				 : strcmp(cases[i].field, "not_before") == 0 ? &p.not_before
									     : &p.not_after;
		const char *why = NULL;
		*f = cases[i].value;
		assert_int_equal(admit_decide(&p, &st, NOW, &why), cases[i].want);
		assert_string_equal(why, cases[i].why);
	}
}

/* H1 on values: a sibling intermediate with crtoken's CA name signs a
 * certificate with a stored serial; the key that signed it differs, and
 * that is told before anything of the victim's stored status. */
static void a_forgery_with_the_stored_name_and_serial_is_told_apart_before_the_status(void **s)
{
	admit_stored st = stored_row();
	crt_presented p = presented_row();
	p.aki = "5E:9A:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:02";
	st.revoked = 1;
	assert_int_equal(admit_decide(&p, &st, NOW, NULL), CRT_E_CERT_WRONG_ISSUER);
}

static void a_row_without_key_identifiers_admits_nothing(void **s)
{
	admit_stored st = stored_row();
	crt_presented p = presented_row();
	const char *why = NULL;
	st.ski = NULL;
	assert_int_equal(admit_decide(&p, &st, NOW, &why), CRT_E_CERT_MISMATCH);
	assert_string_equal(why, "the stored certificate has no key identifiers");
	assert_int_equal(admit_status(&st, NOW, NULL), CRT_E_CERT_MISMATCH);
	st = stored_row();
	st.aki = NULL;
	assert_int_equal(admit_decide(&p, &st, NOW, NULL), CRT_E_CERT_MISMATCH);
}

static void the_stored_status_decides_after_the_match(void **s)
{
	admit_stored st = stored_row();
	crt_presented p = presented_row();
	const char *why = NULL;
	assert_int_equal(admit_decide(&p, &st, st.not_before - 1, &why), CRT_E_CERT_NOT_YET_VALID);
	assert_string_equal(why, "not valid yet");
	assert_int_equal(admit_decide(&p, &st, st.not_before, NULL), CRT_OK);
	assert_int_equal(admit_decide(&p, &st, st.not_after, NULL), CRT_OK);
	assert_int_equal(admit_decide(&p, &st, st.not_after + 1, &why), CRT_E_CERT_EXPIRED);
	assert_string_equal(why, "expired");
	st.revoked = 1;
	assert_int_equal(admit_decide(&p, &st, NOW, &why), CRT_E_CERT_REVOKED);
	assert_string_equal(why, "revoked");
}

static void key_ids_are_read_in_freeradius_spellings_only(void **s)
{
	char out[160];
	assert_int_equal(admit_keyid_canon("keyid:A7:61:0F\n", out, sizeof(out)), 0);
	assert_string_equal(out, "a7610f");
	assert_int_equal(admit_keyid_canon("  a7610f \t", out, sizeof(out)), 0);
	assert_string_equal(out, "a7610f");
	const char *bad[] = {"", "A7:", "A7::61", "A7:6", "A7 x", "keyid:", NULL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(admit_keyid_canon(bad[i], out, sizeof(out)), -1);
	/* too long for the buffer: refused, not cut short */
	assert_int_equal(admit_keyid_canon("A7:61:13:19", out, 6), -1);
}

static void validity_times_are_read_in_both_asn1_forms(void **s)
{
	int64_t t = 0;
	assert_int_equal(admit_asn1_time("261201091233Z", &t), 0);
	assert_int_equal(t, 1796116353);
	assert_int_equal(admit_asn1_time("20261201091233Z", &t), 0);
	assert_int_equal(t, 1796116353);
	assert_int_equal(admit_asn1_time("2026-12-01", &t), -1);
	assert_int_equal(admit_asn1_time(NULL, &t), -1);
}

static void the_public_rule_on_a_certificate_row_is_the_same_rule(void **s)
{
	admit_stored st = stored_row();
	crt_presented p = presented_row();
	crt_cert c;
	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "%s", st.serial);
	c.issuer = (char *)st.issuer;
	c.ski = (char *)st.ski;
	c.aki = (char *)st.aki;
	c.not_before = st.not_before;
	c.not_after = st.not_after;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_OK);
	c.revoked = 1;
	assert_int_equal(crt_cert_admit(&p, &c, NOW, NULL), CRT_E_CERT_REVOKED);
	assert_int_equal(crt_cert_check_status(&c, NOW, NULL), CRT_E_CERT_REVOKED);
	assert_int_equal(crt_cert_admit(NULL, &c, NOW, NULL), CRT_E_INVALID_ARGUMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_stored_certificate_is_admitted_with_no_reason),
	    cmocka_unit_test(a_refusal_names_its_reason),
	    cmocka_unit_test(a_forgery_with_the_stored_name_and_serial_is_told_apart_before_the_status),
	    cmocka_unit_test(a_row_without_key_identifiers_admits_nothing),
	    cmocka_unit_test(the_stored_status_decides_after_the_match),
	    cmocka_unit_test(key_ids_are_read_in_freeradius_spellings_only),
	    cmocka_unit_test(validity_times_are_read_in_both_asn1_forms),
	    cmocka_unit_test(the_public_rule_on_a_certificate_row_is_the_same_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
