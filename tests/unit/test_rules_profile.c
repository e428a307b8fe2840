/*
 * test_rules_profile.c — certificate profiles (common/rules/profile.h) as
 * functions of values: reading [profile NAME] keys, resolving a profile
 * against [ca] / [tokens], the key type and validity questions. No config
 * file, no store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rules/profile.h"

static const certprof_defaults D = {.days = 365,
                                   .token_lifetime = 7 * 86400,
                                   .token_max_lifetime = 90 * 86400,
                                   .crl_url = NULL,
                                   .ca_issuers_url = NULL,
                                   .ocsp_url = NULL,
                                   .renew_days = 30};

/* Set every "key=value" of kv on a fresh profile named "p", then finish it.
 * Returns 0 or -1 (err holds the reason). */
static int build(crt_cert_profile *p, const char *const *kv, const certprof_defaults *d, char *err,
                 size_t errlen)
{
	assert_int_equal(certprof_init(p, "p"), 0);
	for (size_t i = 0; kv != NULL && kv[i] != NULL; i++) {
		char key[64];
		const char *eq = strchr(kv[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv[i]), kv[i]);
		if (certprof_set(p, key, eq + 1, err, errlen) != 0)
			return -1;
	}
	return certprof_finish(p, d, err, errlen);
}

static void expect_refused(const char *const *kv, const char *needle)
{
	crt_cert_profile p;
	char err[400] = "";
	assert_int_equal(build(&p, kv, &D, err, sizeof(err)), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	certprof_clear(&p);
}

static void an_empty_section_is_todays_certificate(void **s)
{
	crt_cert_profile p;
	char err[400];
	assert_int_equal(build(&p, NULL, &D, err, sizeof(err)), 0);
	assert_int_equal(p.days, 365);
	assert_int_equal(p.max_days, 365);
	assert_null(p.key_usage); /* by key type, as before profiles */
	assert_string_equal(p.ext_key_usage, "clientAuth");
	assert_string_equal(p.key_types, "rsa,ec,ed25519");
	assert_null(p.san_email);
	assert_null(p.reply);
	assert_int_equal(p.locked, 0);
	assert_int_equal(p.token_lifetime, 7 * 86400);
	assert_int_equal(p.token_max_lifetime, 90 * 86400);
	assert_int_equal(p.approval, CRT_APPROVAL_NONE);
	assert_int_equal(p.pin_mac, CRT_PIN_MAC_OFF);
	assert_int_equal(p.session_timeout, 0);
	assert_int_equal(p.allow_same_key, 0);
	certprof_clear(&p);
}

static void every_key_is_read(void **s)
{
	static const char *const kv[] = {
	    "description=Guests", "days=2", "max_days=10", "key_usage=digitalSignature",
	    "extended_key_usage=clientAuth,1.3.6.1.4.1.311.20.2.2", "key_types=ec-p256,rsa-3072",
	    "san_email={owner}@example.com", "san_upn={owner}@corp.example", "san_dns={cn}.dev.example",
	    "san_uri=urn:example:{name}", "reply=Filter-Id=guest", "vlan=30", "lock=cn,ou",
	    "lifetime=1d", "max_lifetime=2d", "approval=none", "renew_days=1", "allow_same_key=yes",
	    "pin_mac=first", "session_timeout=8h", "crl_url=http://pki.example/ca.crl",
	    "ca_issuers_url=http://pki.example/ca.crt", "ocsp_url=http://pki.example/ocsp", NULL};
	crt_cert_profile p;
	char err[400] = "";
	if (build(&p, kv, &D, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(p.description, "Guests");
	assert_int_equal(p.days, 2);
	assert_int_equal(p.max_days, 10);
	assert_string_equal(p.key_usage, "digitalSignature");
	assert_string_equal(p.key_types, "ec-p256,rsa-3072");
	assert_string_equal(p.san_upn, "{owner}@corp.example");
	assert_string_equal(p.reply, "Filter-Id=guest\nTunnel-Type=VLAN\nTunnel-Medium-Type=IEEE-802\n"
	                             "Tunnel-Private-Group-Id=30");
	assert_int_equal(p.locked, CRT_FIELD_CN | CRT_FIELD_OU);
	assert_int_equal(p.token_lifetime, 86400);
	assert_int_equal(p.token_max_lifetime, 2 * 86400);
	assert_int_equal(p.renew_days, 1);
	assert_int_equal(p.allow_same_key, 1);
	assert_int_equal(p.pin_mac, CRT_PIN_MAC_FIRST);
	assert_int_equal(p.session_timeout, 8 * 3600);
	assert_string_equal(p.ocsp_url, "http://pki.example/ocsp");
	certprof_clear(&p);
}

static void urls_are_inherited_from_ca_unless_set(void **s)
{
	certprof_defaults d = D;
	static const char *const kv[] = {"ocsp_url=https://other.example/ocsp", NULL};
	crt_cert_profile p;
	char err[400];
	d.crl_url = "http://pki.example/ca.crl";
	d.ocsp_url = "http://pki.example/ocsp";
	assert_int_equal(build(&p, kv, &d, err, sizeof(err)), 0);
	assert_string_equal(p.crl_url, "http://pki.example/ca.crl");
	assert_string_equal(p.ocsp_url, "https://other.example/ocsp");
	assert_null(p.ca_issuers_url);
	/* only the section's own apply to a [ca NAME] CA's certificates */
	assert_int_equal(p.urls_own, CERTPROF_URL_OCSP);
	certprof_clear(&p);
}

static void radius_pin_and_timeout_are_inherited_unless_set(void **s)
{
	certprof_defaults d = D;
	crt_cert_profile p;
	char err[400];
	d.pin_mac = CRT_PIN_MAC_FIRST;
	d.session_timeout = 3600;
	assert_int_equal(build(&p, NULL, &d, err, sizeof(err)), 0);
	assert_int_equal(p.pin_mac, CRT_PIN_MAC_FIRST);
	assert_int_equal(p.session_timeout, 3600);
	certprof_clear(&p);
	static const char *const kv[] = {"pin_mac=off", "session_timeout=none", NULL};
	assert_int_equal(build(&p, kv, &d, err, sizeof(err)), 0);
	assert_int_equal(p.pin_mac, CRT_PIN_MAC_OFF);
	assert_int_equal(p.session_timeout, 0);
	certprof_clear(&p);
}

static void renewal_window_and_same_key_are_inherited_from_renewal_unless_set(void **s)
{
	certprof_defaults d = D;
	crt_cert_profile p;
	char err[400];
	d.renew_days = 12;
	d.allow_same_key = 1;
	assert_int_equal(build(&p, NULL, &d, err, sizeof(err)), 0);
	assert_int_equal(p.renew_days, 12);
	assert_int_equal(p.allow_same_key, 1);
	certprof_clear(&p);
	static const char *const kv[] = {"renew_days=0", "allow_same_key=no", NULL};
	assert_int_equal(build(&p, kv, &d, err, sizeof(err)), 0);
	assert_int_equal(p.renew_days, 0);
	assert_int_equal(p.allow_same_key, 0);
	certprof_clear(&p);
}

static void approval_required_is_accepted_as_its_tokens_default(void **s)
{
	crt_cert_profile p;
	char err[256];
	assert_int_equal(build(&p, (const char *const[]){"approval=required", NULL}, &D, err,
	                       sizeof(err)),
	                 0);
	assert_int_equal(p.approval, CRT_APPROVAL_REQUIRED);
	certprof_clear(&p);
}

static void an_unknown_placeholder_is_refused(void **s)
{
	expect_refused((const char *const[]){"san_email={user}@example.com", NULL},
	               "unknown placeholder");
	expect_refused((const char *const[]){"san_upn={owner@corp.example", NULL}, "without '}'");
	expect_refused((const char *const[]){"san_dns=owner}.example", NULL}, "without '{'");
}

static void bad_values_are_refused_with_the_key_named(void **s)
{
	expect_refused((const char *const[]){"days=0", NULL}, "days");
	expect_refused((const char *const[]){"days=30", "max_days=7", NULL}, "max_days");
	expect_refused((const char *const[]){"key_usage=digitalSignature,cRLSign", NULL}, "key_usage");
	expect_refused((const char *const[]){"extended_key_usage=anyExtendedKeyUsage", NULL},
	               "extended_key_usage");
	expect_refused((const char *const[]){"key_types=rsa-1024", NULL}, "key_types");
	expect_refused((const char *const[]){"key_types=dsa", NULL}, "key_types");
	expect_refused((const char *const[]){"vlan=4095", NULL}, "vlan");
	expect_refused((const char *const[]){"reply=NoEquals", NULL}, "reply");
	expect_refused((const char *const[]){"lock=cn,serial", NULL}, "lock");
	expect_refused((const char *const[]){"lifetime=3d", "max_lifetime=1d", NULL}, "lifetime");
	expect_refused((const char *const[]){"pin_mac=always", NULL}, "pin_mac");
	expect_refused((const char *const[]){"session_timeout=5s", NULL}, "session_timeout");
	expect_refused((const char *const[]){"crl_url=file:///etc/passwd", NULL}, "crl_url");
	expect_refused((const char *const[]){"ocsp_url=http://a b/", NULL}, "ocsp_url");
	expect_refused((const char *const[]){"colour=blue", NULL}, "unknown key colour");
	expect_refused((const char *const[]){"days=3", "days=4", NULL}, "twice");
	expect_refused((const char *const[]){"san_email=a@b.example", "san_email=c@d.example", NULL},
	               "twice");
}

static void profile_names_are_a_small_alphabet(void **s)
{
	assert_true(certprof_name_ok("guest"));
	assert_true(certprof_name_ok("lab-2_b"));
	assert_false(certprof_name_ok(""));
	assert_false(certprof_name_ok("Guest"));
	assert_false(certprof_name_ok("a b"));
	assert_false(certprof_name_ok("../x"));
}

static void key_types_allow_what_they_name(void **s)
{
	crt_cert_profile p;
	char err[400];
	static const char *const kv[] = {"key_types=rsa-3072, ec-p256", NULL};
	assert_int_equal(build(&p, kv, &D, err, sizeof(err)), 0);
	assert_true(certprof_key_allowed(&p, "rsa-3072"));
	assert_true(certprof_key_allowed(&p, "rsa-4096")); /* at least N bits */
	assert_false(certprof_key_allowed(&p, "rsa-2048"));
	assert_true(certprof_key_allowed(&p, "ec-p256"));
	assert_false(certprof_key_allowed(&p, "ec-p384"));
	assert_false(certprof_key_allowed(&p, "ed25519"));
	certprof_clear(&p);
	assert_int_equal(build(&p, NULL, &D, err, sizeof(err)), 0); /* today's: every key type */
	assert_true(certprof_key_allowed(&p, "rsa-2048"));
	assert_true(certprof_key_allowed(&p, "ec-p384"));
	assert_true(certprof_key_allowed(&p, "ed25519"));
	certprof_clear(&p);
}

static void validity_beyond_the_cap_is_refused_not_clamped(void **s)
{
	crt_cert_profile p;
	char err[400];
	const char *why;
	int days = 0;
	static const char *const kv[] = {"days=30", "max_days=90", NULL};
	assert_int_equal(build(&p, kv, &D, err, sizeof(err)), 0);
	assert_int_equal(certprof_valid_days(&p, 0, &days, &why), CRT_OK);
	assert_int_equal(days, 30);
	assert_int_equal(certprof_valid_days(&p, 90, &days, &why), CRT_OK);
	assert_int_equal(days, 90);
	days = 0;
	assert_int_equal(certprof_valid_days(&p, 91, &days, &why), CRT_E_VALIDITY);
	assert_int_equal(days, 0);
	assert_non_null(why);
	assert_int_equal(certprof_valid_days(&p, -1, &days, &why), CRT_E_VALIDITY);
	certprof_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(an_empty_section_is_todays_certificate),
	    cmocka_unit_test(every_key_is_read),
	    cmocka_unit_test(urls_are_inherited_from_ca_unless_set),
	    cmocka_unit_test(radius_pin_and_timeout_are_inherited_unless_set),
	    cmocka_unit_test(renewal_window_and_same_key_are_inherited_from_renewal_unless_set),
	    cmocka_unit_test(approval_required_is_accepted_as_its_tokens_default),
	    cmocka_unit_test(an_unknown_placeholder_is_refused),
	    cmocka_unit_test(bad_values_are_refused_with_the_key_named),
	    cmocka_unit_test(profile_names_are_a_small_alphabet),
	    cmocka_unit_test(key_types_allow_what_they_name),
	    cmocka_unit_test(validity_beyond_the_cap_is_refused_not_clamped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
