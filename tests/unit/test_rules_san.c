/*
 * test_rules_san.c — SubjectAltName values (common/rules/san.h) as
 * functions of values: email (RFC 5321 mailbox, ASCII), UPN, DNS name
 * (LDH, A-labels decoded as Punycode, U-labels refused), URI (scheme
 * required), the token's "kind=value" lines and template expansion. No
 * config, no store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules/san.h"

static void ok(san_kind k, const char *v)
{
	const char *why = NULL;
	if (!san_value_ok(k, v, &why))
		fail_msg("%s \"%s\" refused: %s", san_kind_name(k), v, why);
}

/* v refused, with a reason containing want. */
static void bad(san_kind k, const char *v, const char *want)
{
	const char *why = NULL;
	if (san_value_ok(k, v, &why))
		fail_msg("%s \"%s\" accepted", san_kind_name(k), v);
	assert_non_null(why);
	if (strstr(why, want) == NULL)
		fail_msg("%s \"%s\": \"%s\" does not say \"%s\"", san_kind_name(k), v, why, want);
}

static void dns_names(void **s)
{
	char long_label[80], long_name[400];
	ok(SAN_DNS, "laptop");
	ok(SAN_DNS, "laptop-7.corp.example.com");
	ok(SAN_DNS, "LAPTOP.Example.COM");
	ok(SAN_DNS, "xn--bcher-kva.example"); /* bücher */
	ok(SAN_DNS, "xn--mnchen-3ya.de");     /* münchen */
	ok(SAN_DNS, "xn--wgv71a119e.jp");     /* 日本語 */
	bad(SAN_DNS, "bücher.example", "A-label");
	bad(SAN_DNS, "xn--zzzzzzzzzz-.example", "'-'");
	bad(SAN_DNS, "xn--abc.example", "Punycode"); /* decodes to C1 controls */
	bad(SAN_DNS, "xn--az.example", "Punycode");  /* ends inside a number */
	bad(SAN_DNS, "xn--99999999999.example", "Punycode"); /* overflows */
	bad(SAN_DNS, "xn--a.example", "Punycode");
	bad(SAN_DNS, "ab--cd.example", "A-label");
	bad(SAN_DNS, "*.example.com", "wildcard");
	bad(SAN_DNS, "host.example.", "empty label");
	bad(SAN_DNS, ".example", "empty label");
	bad(SAN_DNS, "a..b", "empty label");
	bad(SAN_DNS, "-host.example", "'-'");
	bad(SAN_DNS, "host-.example", "'-'");
	bad(SAN_DNS, "ex ample.com", "outside a-z");
	bad(SAN_DNS, "ex_ample.com", "outside a-z");
	bad(SAN_DNS, "", "empty");
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	bad(SAN_DNS, long_label, "63");
	long_label[63] = '\0';
	ok(SAN_DNS, long_label);
	/* 253 characters: four labels of 63 and a dot each, less one */
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%.61s", long_label, long_label,
	         long_label, long_label);
	assert_int_equal(strlen(long_name), 253);
	ok(SAN_DNS, long_name);
	strcat(long_name, "a");
	bad(SAN_DNS, long_name, "253");
}

static void email_addresses(void **s)
{
	char local[80], addr[300];
	ok(SAN_EMAIL, "alice@example.com");
	ok(SAN_EMAIL, "alice.smith+wifi@corp.example.com");
	ok(SAN_EMAIL, "o'brien@example.org");
	ok(SAN_EMAIL, "alice@xn--bcher-kva.example");
	bad(SAN_EMAIL, "alice", "no '@'");
	bad(SAN_EMAIL, "@example.com", "empty local part");
	bad(SAN_EMAIL, "alice@", "domain");
	bad(SAN_EMAIL, "alice@exa mple.com", "domain");
	bad(SAN_EMAIL, "al ice@example.com", "dot-atom");
	bad(SAN_EMAIL, "\"al ice\"@example.com", "dot-atom");
	bad(SAN_EMAIL, "alice..smith@example.com", "..");
	bad(SAN_EMAIL, ".alice@example.com", "'.'");
	bad(SAN_EMAIL, "alice.@example.com", "'.'");
	bad(SAN_EMAIL, "jörg@example.com", "not ASCII");
	bad(SAN_EMAIL, "alice@[192.0.2.1]", "address literal");
	bad(SAN_EMAIL, "alice@bücher.example", "domain");
	bad(SAN_EMAIL, "a@b@example.com", "dot-atom");
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	bad(SAN_EMAIL, addr, "64");
	local[64] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	ok(SAN_EMAIL, addr);
}

static void upns(void **s)
{
	ok(SAN_UPN, "alice@corp.example");
	ok(SAN_UPN, "jörg.müller@corp.example"); /* a UTF8String */
	ok(SAN_UPN, "host$@corp.example");
	bad(SAN_UPN, "alice", "no '@'");
	bad(SAN_UPN, "@corp.example", "empty prefix");
	bad(SAN_UPN, "al ice@corp.example", "does not allow");
	bad(SAN_UPN, "a,b@corp.example", "does not allow");
	bad(SAN_UPN, "a\tb@corp.example", "control");
	bad(SAN_UPN, "a\xc3(@corp.example", "UTF-8");
	bad(SAN_UPN, "\xed\xa0\x80@corp.example", "UTF-8"); /* a surrogate */
	bad(SAN_UPN, "alice@corp_example", "suffix");
	bad(SAN_UPN, "alice@", "suffix");
}

static void uris(void **s)
{
	ok(SAN_URI, "https://devices.example.com/laptop-7");
	ok(SAN_URI, "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66");
	ok(SAN_URI, "spiffe://example.org/ns/wifi/sa/laptop");
	ok(SAN_URI, "https://example.com/a%20b");
	bad(SAN_URI, "devices.example.com/laptop", "scheme");
	bad(SAN_URI, "//example.com/x", "scheme");
	bad(SAN_URI, "1http://example.com", "scheme");
	bad(SAN_URI, "https:", "nothing after");
	bad(SAN_URI, "https://example.com/a b", "space");
	bad(SAN_URI, "https://example.com/<x>", "does not allow");
	bad(SAN_URI, "https://example.com/%zz", "hex");
	bad(SAN_URI, "https://example.com/%2", "hex");
	bad(SAN_URI, "https://bücher.example/", "non-ASCII");
}

static void lines_of_a_token(void **s)
{
	char err[400], many[2048] = "";
	assert_true(san_lines_ok(NULL, err, sizeof(err)));
	assert_true(san_lines_ok("", err, sizeof(err)));
	assert_true(san_lines_ok("email=a@example.com\nemail=b@example.com\nupn=a@corp.example\n"
	                         "dns=laptop.example.com\nuri=urn:x:1",
	                         err, sizeof(err)));
	assert_false(san_lines_ok("ip=192.0.2.1", err, sizeof(err)));
	assert_non_null(strstr(err, "email=, upn=, dns= or uri="));
	assert_false(san_lines_ok("dns=laptop.example.com\ndns=bad_name", err, sizeof(err)));
	assert_non_null(strstr(err, "dns \"bad_name\""));
	assert_false(san_lines_ok("upn=a@corp.example\nupn=b@corp.example", err, sizeof(err)));
	assert_non_null(strstr(err, "one UPN"));
	assert_false(san_lines_ok("dns=a.example\ndns=A.example", err, sizeof(err)));
	assert_non_null(strstr(err, "twice"));
	assert_false(san_lines_ok("dns=a.example\n", err, sizeof(err)));
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sdns=h%d.example",
		         i ? "\n" : "", i);
	assert_false(san_lines_ok(many, err, sizeof(err)));
	assert_non_null(strstr(err, "at most 16"));
	*strrchr(many, '\n') = '\0';
	assert_true(san_lines_ok(many, err, sizeof(err)));
	assert_true(san_lines_have("email=a@example.com\ndns=x.example", SAN_DNS));
	assert_false(san_lines_have("email=a@example.com\ndns=x.example", SAN_UPN));
	assert_false(san_lines_have(NULL, SAN_UPN));
}

static void templates_expand(void **s)
{
	san_vars v = {.owner = "alice", .cn = "Alice's laptop", .name = "laptop-7"};
	char *e = san_expand("{owner}@corp.example", &v);
	assert_string_equal(e, "alice@corp.example");
	free(e);
	e = san_expand("{name}.{owner}.devices.example", &v);
	assert_string_equal(e, "laptop-7.alice.devices.example");
	free(e);
	e = san_expand("{org}{ou}{owner}{owner}{owner}@x", &v); /* unset values: empty */
	assert_string_equal(e, "alicealicealice@x");
	free(e);
	e = san_expand("{cn}@example.com", &v);
	const char *why;
	assert_false(san_value_ok(SAN_EMAIL, e, &why)); /* the expansion is checked as a value */
	free(e);
	v.owner = NULL;
	e = san_expand("{owner}@corp.example", &v);
	assert_string_equal(e, "@corp.example");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dns_names),       cmocka_unit_test(email_addresses),
	    cmocka_unit_test(upns),            cmocka_unit_test(uris),
	    cmocka_unit_test(lines_of_a_token), cmocka_unit_test(templates_expand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
