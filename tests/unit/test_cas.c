/*
 * test_cas.c — several CAs per instance: the [ca NAME] sections and their
 * rules, the registry the instance loads (crt_ca_list, crt_ca_create), and
 * which CA a name selects.
 */
#include <sys/stat.h>

#include "testutil.h"

/* A fresh instance with extra config appended, opened or refused. */
static crt_status open_with(test_instance *t, const char *extra, crt_ctx **ctx)
{
	tu_instance_init(t, NULL);
	tu_config_append(t, extra);
	return crt_open(t->conf, 0, ctx);
}

/* A [ca lab] section with its CA made by crt_ca_create; t->ctx open on it. */
static void instance_with_lab(test_instance *t)
{
	crt_ctx *c = NULL;
	tu_instance_init(t, NULL);
	tu_config_append(t, "[ca lab]\ncertificate = lab.pem\nkey = lab.key\n");
	assert_int_equal(crt_open(t->conf, CRT_OPEN_NO_CA, &c), CRT_OK);
	crt_ca_create_opts o = {.name = "lab", .subject = "/CN=Lab CA"};
	assert_int_equal(crt_ca_create(c, &o, "test"), CRT_OK);
	crt_close(c);
	tu_open(t);
}

static void a_ca_section_is_parsed_with_its_default_crl_file(void **s)
{
	test_instance t;
	crt_ctx *c = NULL;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "[ca lab]\ncertificate = lab.pem\nkey = lab.key\n");
	assert_int_equal(crt_open(t.conf, CRT_OPEN_NO_CA, &c), CRT_OK);
	const crt_config *cfg = crt_get_config(c);
	assert_int_equal(cfg->ncas, 1);
	assert_string_equal(cfg->cas[0].name, "lab");
	assert_non_null(strstr(cfg->cas[0].cert, "/i/lab.pem"));
	assert_non_null(strstr(cfg->cas[0].crl_file, "/i/crl-lab.pem"));
	assert_null(cfg->cas[0].chain);
	crt_close(c);
	tu_instance_free(&t);
}

/* Each bad section: config_invalid, with the detail naming what is wrong. */
static void bad_ca_sections_are_config_invalid_with_the_reason(void **s)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"[ca lab]\ncertificate = lab.pem\n", "[ca lab] needs key"},
	    {"[ca lab]\nkey = lab.key\n", "[ca lab] needs certificate"},
	    {"[ca default]\ncertificate = x.pem\nkey = x.key\n", "the default CA is the [ca]"},
	    {"[ca Lab]\ncertificate = x.pem\nkey = x.key\n", "bad CA name"},
	    {"[ca -x]\ncertificate = x.pem\nkey = x.key\n", "bad CA name"},
	    {"[ca lab]\ncertificate = x.pem\nkey = x.key\ncert_days = 3\n",
	     "applies to every CA: set it in [ca]"},
	    {"[ca lab]\ncertificate = x.pem\nkey = x.key\ncolour = red\n", "unknown key"},
	    {"[ca lab]\ncertificate = x.pem\nkey = ca.key\n", "shares its certificate, key"},
	    {"[ca a]\ncertificate = a.pem\nkey = a.key\n[ca b]\ncertificate = b.pem\nkey = "
	     "b.key\ncrl_file = crl-a.pem\n",
	     "[ca b] shares its certificate, key or crl_file with [ca a]"},
	    {"[ca lab]\ncertificate = x.pem\nkey = x.key\npin_file = pin\n",
	     "pin_file and module_path apply only"},
	    {"[ca lab]\ncertificate = x.pem\nkey = pkcs11:token=t;object=o;pin-value=1\n",
	     "PIN in the pkcs11: URI"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_instance t;
		crt_ctx *c = NULL;
		assert_int_equal(open_with(&t, cases[i].text, &c), CRT_E_CONFIG);
		if (strstr(crt_errdetail(c), cases[i].why) == NULL)
			fail_msg("case %zu: detail \"%s\" lacks \"%s\"", i, crt_errdetail(c),
			         cases[i].why);
		crt_close(c);
		tu_instance_free(&t);
	}
}

static void an_instance_whose_ca_section_has_no_files_does_not_open(void **s)
{
	test_instance t;
	crt_ctx *c = NULL;
	assert_int_equal(open_with(&t, "[ca lab]\ncertificate = lab.pem\nkey = lab.key\n", &c),
	                 CRT_E_CA_MISSING);
	assert_non_null(strstr(crt_errdetail(c), "[ca lab]"));
	crt_close(c);
	tu_instance_free(&t);
}

static void ca_create_makes_the_key_and_certificate_and_the_list_shows_both(void **s)
{
	test_instance t;
	crt_ca_info *l = NULL;
	size_t n = 0;
	char path[400];
	struct stat st;

	instance_with_lab(&t);
	assert_int_equal(crt_ca_list(t.ctx, &l, &n), CRT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].name, "default");
	assert_string_equal(l[1].name, "lab");
	assert_string_equal(l[1].subject, "/CN=Lab CA");
	assert_string_equal(l[1].key_kind, "file");
	assert_int_equal(strlen(l[1].ski), 40);
	assert_string_not_equal(l[0].ski, l[1].ski);
	assert_true(l[1].not_after > crt_now());
	crt_ca_list_free(l, n);
	snprintf(path, sizeof(path), "%s/lab.key", t.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* ca.pem served to clients holds every CA */
	const char *pem = crt_instance_ca_pem(crt_session_instance(t.ctx));
	assert_non_null(strstr(strstr(pem, "BEGIN CERTIFICATE") + 1, "BEGIN CERTIFICATE"));
	tu_instance_free(&t);
}

static void ca_create_refuses_existing_files_and_unknown_names(void **s)
{
	test_instance t;
	instance_with_lab(&t);
	crt_ca_create_opts o = {.name = "lab"};
	assert_int_equal(crt_ca_create(t.ctx, &o, "test"), CRT_E_EXISTS);
	o.name = "nope";
	assert_int_equal(crt_ca_create(t.ctx, &o, "test"), CRT_E_CA_UNKNOWN);
	o.name = "default";
	assert_int_equal(crt_ca_create(t.ctx, &o, "test"), CRT_E_INVALID_ARGUMENT);
	tu_instance_free(&t);
}

static void ca_names_select_their_ca_and_unknown_ones_are_ca_unknown(void **s)
{
	test_instance t;
	crt_ca_info a, b;
	instance_with_lab(&t);
	assert_int_equal(crt_ca_check_name(t.ctx, NULL), CRT_OK);
	assert_int_equal(crt_ca_check_name(t.ctx, "default"), CRT_OK);
	assert_int_equal(crt_ca_check_name(t.ctx, "lab"), CRT_OK);
	assert_int_equal(crt_ca_check_name(t.ctx, "LAB"), CRT_E_CA_UNKNOWN);
	assert_int_equal(crt_ca_check_name(t.ctx, "lab2"), CRT_E_CA_UNKNOWN);
	assert_string_equal(crt_status_name(CRT_E_CA_UNKNOWN), "ca_unknown");
	assert_int_equal(crt_ca_get_named(t.ctx, "lab", &a), CRT_OK);
	assert_int_equal(crt_ca_get(t.ctx, &b), CRT_OK);
	assert_string_equal(a.subject, "/CN=Lab CA");
	assert_string_equal(b.name, "default");
	crt_ca_info_clear(&a);
	crt_ca_info_clear(&b);
	assert_int_equal(crt_ca_get_named(t.ctx, "nope", &a), CRT_E_CA_UNKNOWN);
	tu_instance_free(&t);
}

/* Admission tells CAs apart by key identifier: two CAs on one key would be
 * one CA under two names. */
static void two_cas_with_one_key_are_refused(void **s)
{
	test_instance t;
	crt_ctx *c = NULL;
	char cmd[1200];
	tu_instance_init(&t, NULL);
	snprintf(cmd, sizeof(cmd), "cp -p %s/ca.pem %s/twin.pem && cp -p %s/ca.key %s/twin.key",
	         t.dir, t.dir, t.dir, t.dir);
	assert_int_equal(system(cmd), 0);
	tu_config_append(&t, "[ca twin]\ncertificate = twin.pem\nkey = twin.key\n");
	assert_int_equal(crt_open(t.conf, 0, &c), CRT_E_CA_INVALID);
	assert_non_null(strstr(crt_errdetail(c), "has the key identifier of CA default"));
	crt_close(c);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_ca_section_is_parsed_with_its_default_crl_file),
	    cmocka_unit_test(bad_ca_sections_are_config_invalid_with_the_reason),
	    cmocka_unit_test(an_instance_whose_ca_section_has_no_files_does_not_open),
	    cmocka_unit_test(ca_create_makes_the_key_and_certificate_and_the_list_shows_both),
	    cmocka_unit_test(ca_create_refuses_existing_files_and_unknown_names),
	    cmocka_unit_test(ca_names_select_their_ca_and_unknown_ones_are_ca_unknown),
	    cmocka_unit_test(two_cas_with_one_key_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
