/*
 * test_rules_import.c — the upload rules (common/rules/import.c) as
 * functions of values: what the pasted text holds, whether a parsed leaf
 * may become a client certificate, whether its subject is what a token
 * allows. No store, no ctx, no OpenSSL objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules/import.h"

#define NOW 2000000000
#define CERT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define KEY "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"

static crt_status shape(const char *text)
{
	const char *why;
	return import_pem_shape(text, strlen(text), &why);
}

static void one_certificate_is_the_shape(void **s)
{
	assert_int_equal(shape(CERT), CRT_OK);
	assert_int_equal(shape("subject=/CN=x\nissuer=/CN=y\n" CERT), CRT_OK);
}

static void a_private_key_is_refused_whatever_else_is_there(void **s)
{
	assert_int_equal(shape(KEY), CRT_E_CERT_PRIVATE_KEY);
	assert_int_equal(shape(CERT KEY), CRT_E_CERT_PRIVATE_KEY);
	assert_int_equal(shape("-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----\n"),
			 CRT_E_CERT_PRIVATE_KEY);
	assert_int_equal(
	    shape("-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n"),
	    CRT_E_CERT_PRIVATE_KEY);
}

static void several_certificates_are_refused(void **s)
{
	assert_int_equal(shape(CERT CERT), CRT_E_CERT_MULTIPLE);
}

static void no_certificate_is_malformed(void **s)
{
	const char *why;
	assert_int_equal(shape(""), CRT_E_CERT_MALFORMED);
	assert_int_equal(shape("hello"), CRT_E_CERT_MALFORMED);
	assert_int_equal(shape("-----BEGIN CERTIFICATE REQUEST-----\nx\n-----END CERTIFICATE "
			       "REQUEST-----\n"),
			 CRT_E_CERT_MALFORMED);
	assert_int_equal(shape("-----BEGIN CERTIFICATE"), CRT_E_CERT_MALFORMED);
	assert_int_equal(import_pem_shape(CERT "\0", sizeof(CERT), &why), CRT_E_CERT_MALFORMED);
	assert_int_equal(import_pem_shape(NULL, 0, &why), CRT_E_CERT_MALFORMED);
}

static import_facts good_leaf(void)
{
	return (import_facts){.chain_ok = 1,
			      .has_key_usage = 1,
			      .key_usage = IMPORT_KU_DIGITAL_SIGNATURE,
			      .has_eku = 1,
			      .eku_client_auth = 1,
			      .has_ski = 1,
			      .has_aki = 1,
			      .not_before = NOW - 86400,
			      .not_after = NOW + 86400};
}

static crt_status leaf(import_facts f)
{
	const char *why;
	return import_leaf_decide(&f, NOW, &why);
}

static void a_trusted_client_leaf_valid_now_is_accepted(void **s)
{
	assert_int_equal(leaf(good_leaf()), CRT_OK);
	import_facts f = good_leaf();
	f.has_eku = f.eku_client_auth = 0; /* no EKU: any use */
	f.has_key_usage = 0;		    /* no keyUsage: any use */
	assert_int_equal(leaf(f), CRT_OK);
	f = good_leaf();
	f.eku_client_auth = 0;
	f.eku_any = 1;
	assert_int_equal(leaf(f), CRT_OK);
}

static void an_untrusted_chain_is_refused_first(void **s)
{
	import_facts f = good_leaf();
	f.chain_ok = 0;
	f.is_ca = 1;
	f.not_after = NOW - 1;
	assert_int_equal(leaf(f), CRT_E_CERT_UNTRUSTED);
}

static void a_ca_certificate_is_refused(void **s)
{
	import_facts f = good_leaf();
	f.is_ca = 1;
	assert_int_equal(leaf(f), CRT_E_CERT_IS_CA);
	f = good_leaf();
	f.key_usage |= IMPORT_KU_KEY_CERT_SIGN;
	assert_int_equal(leaf(f), CRT_E_CERT_IS_CA);
}

static void expired_and_not_yet_valid_are_refused(void **s)
{
	import_facts f = good_leaf();
	f.not_after = NOW - 1;
	assert_int_equal(leaf(f), CRT_E_CERT_EXPIRED);
	f = good_leaf();
	f.not_before = NOW + 1;
	assert_int_equal(leaf(f), CRT_E_CERT_NOT_YET_VALID);
	f = good_leaf();
	f.not_after = NOW; /* the last second still counts */
	assert_int_equal(leaf(f), CRT_OK);
}

static void a_server_only_or_encipher_only_certificate_is_not_client_auth(void **s)
{
	import_facts f = good_leaf();
	f.eku_client_auth = 0; /* e.g. serverAuth only */
	assert_int_equal(leaf(f), CRT_E_CERT_USAGE);
	f = good_leaf();
	f.key_usage = 0; /* e.g. keyEncipherment only */
	assert_int_equal(leaf(f), CRT_E_CERT_USAGE);
}

static void key_identifiers_are_required(void **s)
{
	import_facts f = good_leaf();
	f.has_ski = 0;
	assert_int_equal(leaf(f), CRT_E_CERT_KEY_ID);
	f = good_leaf();
	f.has_aki = 0;
	assert_int_equal(leaf(f), CRT_E_CERT_KEY_ID);
}

static crt_token token(const char *cn, const char *org, unsigned locked)
{
	return (crt_token){.id = "tok1", .name = "laptop", .cn = (char *)cn, .org = (char *)org,
			   .locked = locked, .expires_at = NOW + 3600};
}

static crt_status subj(const crt_token *t, const char *cn, const char *org, const char *ou)
{
	crt_redeem_req req = {.token = "x", .admin = 1};
	import_subject s = {.cn = cn, .org = org, .ou = ou, .ncn = cn != NULL,
			    .norg = org != NULL, .nou = ou != NULL};
	char why[256];
	return import_subject_decide(t, &req, &s, NOW, why, sizeof(why));
}

static void the_subject_must_be_what_the_token_fixes(void **s)
{
	crt_token t = token("alice", "Example", CRT_FIELD_ALL);
	assert_int_equal(subj(&t, "alice", "Example", NULL), CRT_OK);
	assert_int_equal(subj(&t, "mallory", "Example", NULL), CRT_E_CERT_SUBJECT);
	assert_int_equal(subj(&t, "alice", NULL, NULL), CRT_E_CERT_SUBJECT);  /* O fixed */
	assert_int_equal(subj(&t, "alice", "Example", "Ops"), CRT_E_CERT_SUBJECT); /* OU none */
}

static void open_fields_take_the_certificates_values(void **s)
{
	crt_token t = token(NULL, NULL, 0); /* CN defaults to the name, all open */
	assert_int_equal(subj(&t, "anything", "Other", "Ops"), CRT_OK);
	assert_int_equal(subj(&t, "laptop", NULL, NULL), CRT_OK);
}

static void the_default_cn_of_a_locked_token_is_its_name(void **s)
{
	crt_token t = token(NULL, NULL, CRT_FIELD_CN);
	assert_int_equal(subj(&t, "laptop", NULL, NULL), CRT_OK);
	assert_int_equal(subj(&t, "desktop", NULL, NULL), CRT_E_CERT_SUBJECT);
}

static void a_subject_without_cn_or_with_two_is_refused(void **s)
{
	crt_token t = token(NULL, NULL, 0);
	crt_redeem_req req = {.token = "x", .admin = 1};
	import_subject two = {.cn = "a", .ncn = 2};
	char why[256];
	assert_int_equal(subj(&t, NULL, "Example", NULL), CRT_E_CERT_SUBJECT);
	assert_int_equal(import_subject_decide(&t, &req, &two, NOW, why, sizeof(why)),
			 CRT_E_CERT_SUBJECT);
}

static void the_tokens_own_refusals_come_first(void **s)
{
	crt_token t = token("alice", NULL, CRT_FIELD_ALL);
	t.used_at = NOW - 5;
	assert_int_equal(subj(&t, "alice", NULL, NULL), CRT_E_TOKEN_USED);
	t = token("alice", NULL, CRT_FIELD_ALL);
	t.owner = "alice";
	crt_redeem_req req = {.token = "x", .user = "bob"};
	import_subject sa = {.cn = "alice", .ncn = 1};
	char why[256];
	assert_int_equal(import_subject_decide(&t, &req, &sa, NOW, why, sizeof(why)),
			 CRT_E_TOKEN_OWNER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_certificate_is_the_shape),
	    cmocka_unit_test(a_private_key_is_refused_whatever_else_is_there),
	    cmocka_unit_test(several_certificates_are_refused),
	    cmocka_unit_test(no_certificate_is_malformed),
	    cmocka_unit_test(a_trusted_client_leaf_valid_now_is_accepted),
	    cmocka_unit_test(an_untrusted_chain_is_refused_first),
	    cmocka_unit_test(a_ca_certificate_is_refused),
	    cmocka_unit_test(expired_and_not_yet_valid_are_refused),
	    cmocka_unit_test(a_server_only_or_encipher_only_certificate_is_not_client_auth),
	    cmocka_unit_test(key_identifiers_are_required),
	    cmocka_unit_test(the_subject_must_be_what_the_token_fixes),
	    cmocka_unit_test(open_fields_take_the_certificates_values),
	    cmocka_unit_test(the_default_cn_of_a_locked_token_is_its_name),
	    cmocka_unit_test(a_subject_without_cn_or_with_two_is_refused),
	    cmocka_unit_test(the_tokens_own_refusals_come_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
