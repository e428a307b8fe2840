/*
 * test_attest.c — YubiKey PIV attestation read and verified (attest.c) and
 * judged (rules/attest.c) — the parser and the rules without any store —
 * and then through crt_redeem on a real store (the attested facts stored
 * and audited; every refusal leaves the token unused; the policy of tokens
 * and of [attestation]). The hierarchy is shaped like
 * Yubico's and made here: a root ("Yubico PIV Root CA"), a per-device
 * intermediate (the slot f9 certificate, CA:TRUE) and the attestation
 * certificate for the slot 9a key, carrying the Yubico extensions as raw
 * octets (1.3.6.1.4.1.41482.3.3 firmware, .7 serial, .8 PIN/touch policy,
 * .9 form factor), as the device writes them.
 */
#include <sys/stat.h>

#include "testutil.h"
#include "attest.h"
#include "rules/attest.h"

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

/* One extension (oid, raw value bytes) for mk_cert; len < 0 ends the list. */
typedef struct ext {
	const char *oid;
	const unsigned char *val;
	int len;
} ext;

static void add_raw_ext(X509 *x, const char *oid, const unsigned char *val, int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	assert_non_null(o);
	assert_true(ASN1_OCTET_STRING_set(os, val, len));
	X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

/* A certificate for key named cn, signed by issuer/ikey (NULL: self-signed). */
static X509 *mk_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
                     const ext *exts, long from, long days)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	assert_true(X509_set_version(x, 2));
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0xffffff) + 1);
	X509_NAME *nm = X509_NAME_new();
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
	X509_NAME_free(nm);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), from + days * 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	if (ca) {
		X509_EXTENSION *e =
		    X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	for (int i = 0; exts != NULL && exts[i].len >= 0; i++)
		add_raw_ext(x, exts[i].oid, exts[i].val, exts[i].len);
	assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static const unsigned char FW[] = {5, 4, 3};
static const unsigned char POL[] = {ATTEST_PIN_ALWAYS, ATTEST_TOUCH_CACHED};
static const unsigned char FF[] = {0x03};
/* DER INTEGER 12345678 */
static const unsigned char SERIAL[] = {0x02, 0x04, 0x00, 0xbc, 0x61, 0x4e};

#define OID(n) "1.3.6.1.4.1.41482.3." #n
static const ext good_exts[] = {{OID(3), FW, 3},
                                {OID(7), SERIAL, sizeof(SERIAL)},
                                {OID(8), POL, 2},
                                {OID(9), FF, 1},
                                {NULL, NULL, -1}};

/* The device: root → f9 → attestation of slot 9a for the key `key`. */
typedef struct device {
	EVP_PKEY *root_key, *f9_key, *key;
	X509 *root, *f9, *leaf;
	STACK_OF(X509) * roots;
} device;

static void device_make(device *d, const ext *exts)
{
	d->root_key = ec_key();
	d->f9_key = ec_key();
	d->key = ec_key();
	d->root = mk_cert("Yubico PIV Root CA Serial 263751", d->root_key, NULL, NULL, 1, NULL,
	                  -86400, 3650);
	d->f9 = mk_cert("Yubico PIV Attestation", d->f9_key, d->root, d->root_key, 1, NULL, -86400,
	                3650);
	d->leaf =
	    mk_cert("YubiKey PIV Attestation 9a", d->key, d->f9, d->f9_key, 0, exts, -86400, 3650);
	d->roots = sk_X509_new_null();
	X509_up_ref(d->root);
	sk_X509_push(d->roots, d->root);
}

static void device_free(device *d)
{
	EVP_PKEY_free(d->root_key);
	EVP_PKEY_free(d->f9_key);
	EVP_PKEY_free(d->key);
	X509_free(d->root);
	X509_free(d->f9);
	X509_free(d->leaf);
	sk_X509_pop_free(d->roots, X509_free);
}

/* PEM of the certificates given (NULL-terminated), malloc'd. */
static char *pem_of(X509 *first, ...)
{
	BIO *b = BIO_new(BIO_s_mem());
	va_list ap;
	char *p, *out;
	va_start(ap, first);
	for (X509 *x = first; x != NULL; x = va_arg(ap, X509 *))
		PEM_write_bio_X509(b, x);
	va_end(ap);
	long n = BIO_get_mem_data(b, &p);
	out = strndup(p, (size_t)n);
	BIO_free(b);
	return out;
}

static crt_status verify(const char *pem, device *d, EVP_PKEY *key, attest_facts *f, char *why)
{
	return attest_verify((const unsigned char *)pem, strlen(pem), d->roots, key, time(NULL), f,
	                     why, 256);
}

static void good_attestation_gives_the_facts(void **s)
{
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, good_exts);
	char *pem = pem_of(d.leaf, d.f9, NULL);
	assert_int_equal(verify(pem, &d, d.key, &f, why), CRT_OK);
	assert_int_equal(f.serial, 12345678);
	assert_int_equal(f.firmware, ATTEST_FW(5, 4, 3));
	assert_int_equal(f.pin_policy, ATTEST_PIN_ALWAYS);
	assert_int_equal(f.touch_policy, ATTEST_TOUCH_CACHED);
	assert_int_equal(f.form_factor, 3);
	assert_string_equal(attest_form_factor_name(f.form_factor), "usb-c-keychain");
	assert_string_equal(f.slot, "9a");
	assert_int_equal(strlen(f.root_sha256), 64);
	char *j = attest_facts_json(&f);
	assert_non_null(strstr(j, "\"serial\":12345678"));
	assert_non_null(strstr(j, "\"firmware\":\"5.4.3\""));
	assert_non_null(strstr(j, "\"pinPolicy\":\"always\""));
	assert_non_null(strstr(j, "\"touchPolicy\":\"cached\""));
	free(j);
	free(pem);
	device_free(&d);
}

static void chain_to_another_root_is_untrusted(void **s)
{
	device d, other;
	attest_facts f;
	char why[256];
	device_make(&d, good_exts);
	device_make(&other, good_exts);
	char *pem = pem_of(d.leaf, d.f9, NULL);
	assert_int_equal(verify(pem, &other, d.key, &f, why), CRT_E_ATTEST_UNTRUSTED);
	assert_non_null(strstr(why, "trusted root"));
	free(pem);
	device_free(&d);
	device_free(&other);
}

static void no_roots_configured_is_untrusted(void **s)
{
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, good_exts);
	char *pem = pem_of(d.leaf, d.f9, NULL);
	assert_int_equal(attest_verify((const unsigned char *)pem, strlen(pem), NULL, d.key,
	                               time(NULL), &f, why, sizeof(why)),
	                 CRT_E_ATTEST_UNTRUSTED);
	assert_non_null(strstr(why, "trusted_roots"));
	free(pem);
	device_free(&d);
}

static void attack_root_signed_leaf_without_device_is_untrusted(void **s)
{
	/* a leaf the root signed itself (no device key in between) */
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, good_exts);
	X509 *leaf = mk_cert("YubiKey PIV Attestation 9a", d.key, d.root, d.root_key, 0, good_exts,
	                     -86400, 30);
	char *pem = pem_of(leaf, d.root, NULL);
	assert_int_equal(verify(pem, &d, d.key, &f, why), CRT_E_ATTEST_UNTRUSTED);
	free(pem);
	X509_free(leaf);
	device_free(&d);
}

static void attack_self_made_device_is_untrusted(void **s)
{
	/* an attacker's own "f9" with the real root's name, signed by itself */
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, good_exts);
	EVP_PKEY *fake_root = ec_key(), *fake_f9 = ec_key();
	X509 *fr = mk_cert("Yubico PIV Root CA Serial 263751", fake_root, NULL, NULL, 1, NULL,
	                   -86400, 3650);
	X509 *ff9 =
	    mk_cert("Yubico PIV Attestation", fake_f9, fr, fake_root, 1, NULL, -86400, 3650);
	X509 *leaf =
	    mk_cert("YubiKey PIV Attestation 9a", d.key, ff9, fake_f9, 0, good_exts, -86400, 30);
	char *pem = pem_of(leaf, ff9, fr, NULL);
	assert_int_equal(verify(pem, &d, d.key, &f, why), CRT_E_ATTEST_UNTRUSTED);
	free(pem);
	X509_free(leaf);
	X509_free(ff9);
	X509_free(fr);
	EVP_PKEY_free(fake_root);
	EVP_PKEY_free(fake_f9);
	device_free(&d);
}

static void expired_attestation_is_untrusted(void **s)
{
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, good_exts);
	X509 *old = mk_cert("YubiKey PIV Attestation 9a", d.key, d.f9, d.f9_key, 0, good_exts,
	                    -10 * 86400, 2);
	char *pem = pem_of(old, d.f9, NULL);
	assert_int_equal(verify(pem, &d, d.key, &f, why), CRT_E_ATTEST_UNTRUSTED);
	assert_non_null(strstr(why, "expired"));
	free(pem);
	X509_free(old);
	device_free(&d);
}

static void attested_key_other_than_the_csr_key_is_a_mismatch(void **s)
{
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, good_exts);
	EVP_PKEY *other = ec_key();
	char *pem = pem_of(d.leaf, d.f9, NULL);
	assert_int_equal(verify(pem, &d, other, &f, why), CRT_E_ATTEST_KEY_MISMATCH);
	free(pem);
	EVP_PKEY_free(other);
	device_free(&d);
}

/* An attestation whose leaf carries exts is malformed (never verified). */
static void assert_malformed_exts(const ext *exts, const char *what)
{
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, exts);
	char *pem = pem_of(d.leaf, d.f9, NULL);
	assert_int_equal(verify(pem, &d, d.key, &f, why), CRT_E_ATTEST_MALFORMED);
	if (strstr(why, what) == NULL)
		fail_msg("why \"%s\" does not name %s", why, what);
	free(pem);
	device_free(&d);
}

static void malformed_firmware_is_refused(void **s)
{
	static const unsigned char two[] = {5, 4};
	const ext e[] = {{OID(3), two, 2}, {NULL, NULL, -1}};
	assert_malformed_exts(e, "41482.3.3");
}

static void malformed_serial_is_refused(void **s)
{
	static const unsigned char raw[] = {0x00, 0xbc, 0x61, 0x4e}; /* not DER */
	static const unsigned char neg[] = {0x02, 0x01, 0xff};
	static const unsigned char padded[] = {0x02, 0x02, 0x00, 0x01}; /* not minimal */
	static const unsigned char trailing[] = {0x02, 0x01, 0x01, 0x00};
	const ext e1[] = {{OID(7), raw, 4}, {NULL, NULL, -1}};
	const ext e2[] = {{OID(7), neg, 3}, {NULL, NULL, -1}};
	const ext e3[] = {{OID(7), padded, 4}, {NULL, NULL, -1}};
	const ext e4[] = {{OID(7), trailing, 4}, {NULL, NULL, -1}};
	assert_malformed_exts(e1, "41482.3.7");
	assert_malformed_exts(e2, "41482.3.7");
	assert_malformed_exts(e3, "41482.3.7");
	assert_malformed_exts(e4, "41482.3.7");
}

static void malformed_policy_is_refused(void **s)
{
	static const unsigned char three[] = {3, 2, 1};
	static const unsigned char pin0[] = {0, 2};
	static const unsigned char touch4[] = {2, 4};
	const ext e1[] = {{OID(8), three, 3}, {NULL, NULL, -1}};
	const ext e2[] = {{OID(8), pin0, 2}, {NULL, NULL, -1}};
	const ext e3[] = {{OID(8), touch4, 2}, {NULL, NULL, -1}};
	assert_malformed_exts(e1, "41482.3.8");
	assert_malformed_exts(e2, "41482.3.8");
	assert_malformed_exts(e3, "41482.3.8");
}

static void malformed_form_factor_is_refused(void **s)
{
	static const unsigned char bits[] = {0x31};
	static const unsigned char two[] = {1, 1};
	const ext e1[] = {{OID(9), bits, 1}, {NULL, NULL, -1}};
	const ext e2[] = {{OID(9), two, 2}, {NULL, NULL, -1}};
	assert_malformed_exts(e1, "41482.3.9");
	assert_malformed_exts(e2, "41482.3.9");
}

static void repeated_extension_is_refused(void **s)
{
	const ext e[] = {{OID(3), FW, 3}, {OID(3), FW, 3}, {NULL, NULL, -1}};
	assert_malformed_exts(e, "twice");
}

static void fips_flag_and_unknown_members_are_read(void **s)
{
	static const unsigned char ff[] = {0x81};
	static const unsigned char other[] = {1, 2, 3, 4};
	const ext e[] = {
	    {OID(9), ff, 1}, {OID(10), other, 4}, {OID(42), other, 4}, {NULL, NULL, -1}};
	device d;
	attest_facts f;
	char why[256];
	device_make(&d, e);
	char *pem = pem_of(d.leaf, d.f9, NULL);
	assert_int_equal(verify(pem, &d, d.key, &f, why), CRT_OK);
	assert_int_equal(f.form_factor, 1);
	assert_int_equal(f.fips, 1);
	assert_int_equal(f.cspn, 0);
	assert_int_equal(f.serial, -1);
	assert_int_equal(f.firmware, 0);
	assert_int_equal(f.pin_policy, 0);
	free(pem);
	device_free(&d);
}

static crt_status parse(const char *text)
{
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	char why[256];
	crt_status r = attest_chain_parse((const unsigned char *)text, strlen(text), &leaf, &chain,
	                                  why, sizeof(why));
	assert_true(r != CRT_OK || (leaf != NULL && chain != NULL));
	assert_true(r == CRT_OK || why[0] != '\0');
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

static void chain_parse_is_strict(void **s)
{
	device d;
	device_make(&d, good_exts);
	char *one = pem_of(d.leaf, NULL), *two = pem_of(d.leaf, d.f9, NULL);
	char *five = pem_of(d.leaf, d.f9, d.root, d.f9, d.root, NULL);
	assert_int_equal(parse(two), CRT_OK);
	assert_int_equal(parse(one), CRT_E_ATTEST_MALFORMED);
	assert_int_equal(parse(five), CRT_E_ATTEST_MALFORMED);
	assert_int_equal(parse(""), CRT_E_ATTEST_MALFORMED);
	assert_int_equal(parse("hello"), CRT_E_ATTEST_MALFORMED);
	/* a block of another kind */
	char *csr = NULL;
	assert_int_equal(crt_csr_make(d.key, "x", &csr), CRT_OK);
	char *mixed = malloc(strlen(two) + strlen(csr) + 1);
	strcpy(mixed, two);
	strcat(mixed, csr);
	assert_int_equal(parse(mixed), CRT_E_ATTEST_MALFORMED);
	/* a damaged second block */
	char *damaged = strdup(two);
	char *second = strstr(damaged + 10, "-----BEGIN CERTIFICATE-----");
	assert_non_null(second);
	second[40] = '*';
	assert_int_equal(parse(damaged), CRT_E_ATTEST_MALFORMED);
	/* too large */
	char *big = calloc(1, ATTEST_MAX_BYTES + 2);
	memset(big, '\n', ATTEST_MAX_BYTES + 1);
	memcpy(big, two, strlen(two));
	assert_int_equal(parse(big), CRT_E_ATTEST_MALFORMED);
	free(big);
	free(damaged);
	free(mixed);
	free(csr);
	free(one);
	free(two);
	free(five);
	device_free(&d);
}

/* ---- the trusted roots directory ---- */

static void roots_load_reads_the_directory(void **s)
{
	char dir[] = "/tmp/attest_rootsXXXXXX", path[300], why[256];
	STACK_OF(X509) *roots = NULL;
	device d;
	device_make(&d, good_exts);
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0755);
	assert_int_equal(attest_roots_load(dir, &roots, why, sizeof(why)), CRT_E_CONFIG);
	char *pem = pem_of(d.root, d.f9, NULL);
	snprintf(path, sizeof(path), "%s/yubico-piv-ca.pem", dir);
	FILE *fp = fopen(path, "w");
	fputs(pem, fp);
	fclose(fp);
	chmod(path, 0644);
	assert_int_equal(attest_roots_load(dir, &roots, why, sizeof(why)), CRT_OK);
	assert_int_equal(sk_X509_num(roots), 2);
	sk_X509_pop_free(roots, X509_free);
	roots = NULL;
	/* attack: a root file others may write */
	chmod(path, 0666);
	assert_int_equal(attest_roots_load(dir, &roots, why, sizeof(why)),
	                 CRT_E_UNSAFE_PERMISSIONS);
	chmod(path, 0644);
	/* attack: a symbolic link in the directory */
	char link[300];
	snprintf(link, sizeof(link), "%s/other.pem", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(attest_roots_load(dir, &roots, why, sizeof(why)),
	                 CRT_E_UNSAFE_PERMISSIONS);
	unlink(link);
	/* not PEM */
	snprintf(link, sizeof(link), "%s/junk.crt", dir);
	fp = fopen(link, "w");
	fputs("junk\n", fp);
	fclose(fp);
	chmod(link, 0644);
	assert_int_equal(attest_roots_load(dir, &roots, why, sizeof(why)), CRT_E_CONFIG);
	unlink(link);
	/* attack: a directory others may write */
	chmod(dir, 0777);
	assert_int_equal(attest_roots_load(dir, &roots, why, sizeof(why)),
	                 CRT_E_UNSAFE_PERMISSIONS);
	unlink(path);
	rmdir(dir);
	free(pem);
	device_free(&d);
}

/* ---- rules ---- */

static attest_policy pol(const char *text)
{
	attest_policy p;
	const char *why;
	assert_int_equal(attest_policy_parse(text, &p, &why), CRT_OK);
	return p;
}

static void policy_text_round_trips(void **s)
{
	attest_policy p = pol("mode=require;pin=once;touch=cached;firmware=5.4.3");
	int oom;
	assert_int_equal(p.mode, ATTEST_REQUIRE);
	assert_int_equal(p.pin_min, ATTEST_PIN_ONCE);
	assert_int_equal(p.touch_min, ATTEST_TOUCH_CACHED);
	assert_int_equal(p.firmware_min, ATTEST_FW(5, 4, 3));
	char *t = attest_policy_format(&p, &oom);
	assert_string_equal(t, "mode=require;pin=once;touch=cached;firmware=5.4.3");
	free(t);
	p = pol("touch=always");
	t = attest_policy_format(&p, &oom);
	assert_string_equal(t, "touch=always");
	free(t);
	p = pol(NULL);
	assert_null(attest_policy_format(&p, &oom));
	assert_int_equal(oom, 0);
}

static void policy_text_is_strict(void **s)
{
	const char *bad[] = {"mode=maybe",
	                     "pin=sometimes",
	                     "touch=once",
	                     "firmware=5.",
	                     "firmware=5.4.3.2",
	                     "firmware=256.0.0",
	                     "firmware=5..3",
	                     "mode=verify;",
	                     "mode=verify;mode=require",
	                     "color=blue",
	                     "mode",
	                     ";",
	                     "firmware=-1.0"};
	attest_policy p;
	const char *why;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (attest_policy_parse(bad[i], &p, &why) != CRT_E_FIELD_INVALID || !*why)
			fail_msg("\"%s\" was accepted", bad[i]);
}

static void token_policy_overrides_the_defaults_member_by_member(void **s)
{
	attest_policy t = pol("pin=always"), d = pol("mode=require;pin=once;firmware=5.0");
	attest_policy m = attest_policy_merge(&t, &d);
	assert_int_equal(m.mode, ATTEST_REQUIRE);
	assert_int_equal(m.pin_min, ATTEST_PIN_ALWAYS);
	assert_int_equal(m.firmware_min, ATTEST_FW(5, 0, 0));
}

static attest_facts facts(int pin, int touch, uint32_t fw)
{
	attest_facts f = {.serial = 1, .pin_policy = pin, .touch_policy = touch, .firmware = fw};
	return f;
}

static crt_status decide(const char *policy, int present, crt_status v, attest_facts f)
{
	attest_policy p = pol(policy);
	char why[256];
	crt_status r = attest_decide(&p, present, v, &f, why, sizeof(why));
	assert_true(r == CRT_OK || r == v || why[0] != '\0');
	return r;
}

static void ignore_looks_at_nothing(void **s)
{
	attest_policy p = pol("mode=ignore");
	assert_false(attest_needs_verify(&p, 1));
	assert_int_equal(decide("mode=ignore", 1, CRT_E_ATTEST_MALFORMED, facts(0, 0, 0)), CRT_OK);
	assert_int_equal(decide("", 0, CRT_OK, facts(0, 0, 0)), CRT_OK);
}

static void verify_accepts_none_but_refuses_a_bad_one(void **s)
{
	attest_policy p = pol("mode=verify");
	assert_true(attest_needs_verify(&p, 1));
	assert_false(attest_needs_verify(&p, 0));
	assert_int_equal(decide("mode=verify", 0, CRT_OK, facts(0, 0, 0)), CRT_OK);
	assert_int_equal(decide("mode=verify", 1, CRT_E_ATTEST_UNTRUSTED, facts(0, 0, 0)),
	                 CRT_E_ATTEST_UNTRUSTED);
	assert_int_equal(decide("mode=verify;pin=always", 1, CRT_OK, facts(2, 1, 1)),
	                 CRT_E_ATTEST_POLICY);
}

static void require_without_attestation_is_missing(void **s)
{
	assert_int_equal(decide("mode=require", 0, CRT_OK, facts(0, 0, 0)), CRT_E_ATTEST_MISSING);
	assert_int_equal(decide("mode=require", 1, CRT_OK, facts(1, 1, 1)), CRT_OK);
}

static void pin_policy_minimum(void **s)
{
	assert_int_equal(decide("mode=require;pin=once", 1, CRT_OK, facts(ATTEST_PIN_NEVER, 1, 1)),
	                 CRT_E_ATTEST_POLICY);
	assert_int_equal(decide("mode=require;pin=once", 1, CRT_OK, facts(ATTEST_PIN_ONCE, 1, 1)),
	                 CRT_OK);
	assert_int_equal(decide("mode=require;pin=once", 1, CRT_OK, facts(ATTEST_PIN_ALWAYS, 1, 1)),
	                 CRT_OK);
	assert_int_equal(decide("mode=require;pin=always", 1, CRT_OK, facts(ATTEST_PIN_ONCE, 1, 1)),
	                 CRT_E_ATTEST_POLICY);
	assert_int_equal(decide("mode=require;pin=once", 1, CRT_OK, facts(0, 1, 1)),
	                 CRT_E_ATTEST_POLICY); /* not attested */
	assert_int_equal(decide("mode=require;pin=never", 1, CRT_OK, facts(0, 0, 0)), CRT_OK);
}

static void touch_policy_minimum_orders_cached_below_always(void **s)
{
	attest_facts never = facts(1, ATTEST_TOUCH_NEVER, 1),
	             cached = facts(1, ATTEST_TOUCH_CACHED, 1),
	             always = facts(1, ATTEST_TOUCH_ALWAYS, 1);
	assert_int_equal(decide("mode=require;touch=cached", 1, CRT_OK, never),
	                 CRT_E_ATTEST_POLICY);
	assert_int_equal(decide("mode=require;touch=cached", 1, CRT_OK, cached), CRT_OK);
	assert_int_equal(decide("mode=require;touch=cached", 1, CRT_OK, always), CRT_OK);
	assert_int_equal(decide("mode=require;touch=always", 1, CRT_OK, cached),
	                 CRT_E_ATTEST_POLICY);
}

static void firmware_minimum(void **s)
{
	assert_int_equal(
	    decide("mode=require;firmware=5.4.3", 1, CRT_OK, facts(1, 1, ATTEST_FW(5, 4, 2))),
	    CRT_E_ATTEST_POLICY);
	assert_int_equal(
	    decide("mode=require;firmware=5.4.3", 1, CRT_OK, facts(1, 1, ATTEST_FW(5, 4, 3))),
	    CRT_OK);
	assert_int_equal(
	    decide("mode=require;firmware=5.4", 1, CRT_OK, facts(1, 1, ATTEST_FW(5, 7, 1))),
	    CRT_OK);
	assert_int_equal(decide("mode=require;firmware=5", 1, CRT_OK, facts(1, 1, ATTEST_FW(4, 9, 9))),
	                 CRT_E_ATTEST_POLICY);
	assert_int_equal(decide("mode=require;firmware=5.4", 1, CRT_OK, facts(1, 1, 0)),
	                 CRT_E_ATTEST_POLICY);
}

/* ---- redemption with an attestation (crt_redeem on a real store) ---- */

/* An instance whose [attestation] trusted_roots holds d's root; extra: more
 * [attestation] lines. */
static void attest_instance(test_instance *t, device *d, const char *extra)
{
	char dir[400], path[450], conf[600];
	tu_instance_init(t, NULL);
	snprintf(dir, sizeof(dir), "%s/roots", t->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	char *pem = pem_of(d->root, NULL);
	FILE *fp = fopen(path, "w");
	fputs(pem, fp);
	fclose(fp);
	chmod(path, 0644);
	free(pem);
	snprintf(conf, sizeof(conf), "\n[attestation]\ntrusted_roots = roots\n%s",
	         extra ? extra : "");
	tu_config_append(t, conf);
	tu_open(t);
}

static char *csr_of(EVP_PKEY *k, size_t *len)
{
	X509_REQ *req = tu_req(k, "laptop", 0);
	char *pem = tu_req_pem(req, len);
	X509_REQ_free(req);
	return pem;
}

static crt_status redeem_with(test_instance *t, const char *tok, EVP_PKEY *key, const char *att,
                              crt_cert *out)
{
	size_t len;
	char *csr = csr_of(key, &len);
	crt_redeem_req req = {.token = tok,
	                      .csr = (unsigned char *)csr,
	                      .csr_len = len,
	                      .admin = 1,
	                      .actor = "test",
	                      .attestation = (const unsigned char *)att,
	                      .attestation_len = att ? strlen(att) : 0};
	crt_status r = crt_redeem(t->ctx, &req, out);
	free(csr);
	return r;
}

/* The token is still unused and no certificate was stored. */
static void assert_untouched(test_instance *t, const crt_token *tok)
{
	crt_token now;
	crt_cert *list = NULL;
	size_t n = 0;
	crt_cert_filter f = {.status = -1, .token_id = tok->id, .expiring_within_days = -1};
	assert_int_equal(crt_token_get(t->ctx, tok->id, &now), CRT_OK);
	assert_int_equal(now.state, CRT_TOKEN_ACTIVE);
	assert_null(now.serial);
	crt_token_clear(&now);
	assert_int_equal(crt_cert_list(t->ctx, &f, &list, &n), CRT_OK);
	assert_int_equal(n, 0);
	crt_cert_list_free(list, n);
}

static void redemption_stores_the_attested_facts(void **s)
{
	test_instance t;
	device d;
	crt_token tok;
	crt_cert c = {0}, got = {0};
	char str[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "yk",
	                       .attest_mode = "require",
	                       .attest_pin_policy = "once",
	                       .attest_min_firmware = "5.2"};
	device_make(&d, good_exts);
	attest_instance(&t, &d, NULL);
	tu_token(t.ctx, &spec, str, &tok);
	assert_string_equal(tok.attestation, "mode=require;pin=once;firmware=5.2.0");
	char *pem = pem_of(d.leaf, d.f9, NULL);
	assert_int_equal(redeem_with(&t, str, d.key, pem, &c), CRT_OK);
	assert_non_null(c.attestation);
	assert_non_null(strstr(c.attestation, "\"serial\":12345678"));
	assert_int_equal(crt_cert_get(t.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.attestation, c.attestation);
	/* and in the audit row of the redemption */
	crt_audit_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(crt_audit_list(t.ctx, 1, "token.redeem", &rows, &n), CRT_OK);
	assert_int_equal(n, 1);
	assert_non_null(strstr(rows[0].detail, "\"attestation\":{\"serial\":12345678"));
	crt_audit_list_free(rows, n);
	crt_cert_clear(&c);
	crt_cert_clear(&got);
	crt_token_clear(&tok);
	free(pem);
	tu_instance_free(&t);
	device_free(&d);
}

/* One refusal on a fresh token of policy spec: status want, nothing written. */
static void assert_refused(test_instance *t, crt_token_spec *spec, EVP_PKEY *key, const char *att,
                           crt_status want)
{
	crt_token tok;
	crt_cert c = {0};
	char str[CRT_TOKEN_STRLEN + 1];
	tu_token(t->ctx, spec, str, &tok);
	crt_status r = redeem_with(t, str, key, att, &c);
	if (r != want)
		fail_msg("%s: %s, expected %s", crt_status_name(r), crt_errdetail(t->ctx),
		         crt_status_name(want));
	assert_true(crt_errdetail(t->ctx)[0] != '\0');
	assert_untouched(t, &tok);
	crt_token_clear(&tok);
}

static void refusals_leave_the_token_unused(void **s)
{
	test_instance t;
	device d, other;
	device_make(&d, good_exts);
	device_make(&other, good_exts);
	attest_instance(&t, &d, NULL);
	char *good = pem_of(d.leaf, d.f9, NULL), *foreign = pem_of(other.leaf, other.f9, NULL);
	crt_token_spec req = {.name = "r", .attest_mode = "require"};
	crt_token_spec weak = {
	    .name = "w", .attest_mode = "verify", .attest_touch_policy = "always"};
	crt_token_spec old = {
	    .name = "o", .attest_mode = "require", .attest_min_firmware = "5.7.0"};
	assert_refused(&t, &req, d.key, NULL, CRT_E_ATTEST_MISSING);
	assert_refused(&t, &req, d.key, foreign, CRT_E_ATTEST_UNTRUSTED);
	assert_refused(&t, &req, other.key, good, CRT_E_ATTEST_KEY_MISMATCH);
	assert_refused(&t, &req, d.key,
	               "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	               CRT_E_ATTEST_MALFORMED);
	assert_refused(&t, &weak, d.key, good, CRT_E_ATTEST_POLICY);
	assert_refused(&t, &old, d.key, good, CRT_E_ATTEST_POLICY);
	free(good);
	free(foreign);
	tu_instance_free(&t);
	device_free(&d);
	device_free(&other);
}

static void the_config_default_applies_to_tokens_without_a_policy(void **s)
{
	test_instance t;
	device d;
	crt_token tok;
	crt_cert c = {0};
	char str[CRT_TOKEN_STRLEN + 1];
	device_make(&d, good_exts);
	attest_instance(&t, &d, "mode = require\npin_policy = always\n");
	crt_token_spec plain = {.name = "plain"},
	               opt_out = {.name = "free", .attest_mode = "ignore"};
	assert_refused(&t, &plain, d.key, NULL, CRT_E_ATTEST_MISSING);
	tu_token(t.ctx, &opt_out, str, &tok);
	assert_int_equal(redeem_with(&t, str, d.key, NULL, &c), CRT_OK);
	assert_null(c.attestation); /* ignore: nothing attested, nothing stored */
	crt_cert_clear(&c);
	crt_token_clear(&tok);
	tu_instance_free(&t);
	device_free(&d);
}

static void verify_without_attestation_issues_without_facts(void **s)
{
	test_instance t;
	device d;
	crt_token tok;
	crt_cert c = {0};
	char str[CRT_TOKEN_STRLEN + 1];
	device_make(&d, good_exts);
	attest_instance(&t, &d, NULL);
	crt_token_spec v = {.name = "v", .attest_mode = "verify"};
	tu_token(t.ctx, &v, str, &tok);
	assert_int_equal(redeem_with(&t, str, d.key, NULL, &c), CRT_OK);
	assert_null(c.attestation);
	crt_cert_clear(&c);
	crt_token_clear(&tok);
	tu_instance_free(&t);
	device_free(&d);
}

static void token_update_changes_and_clears_the_policy(void **s)
{
	test_instance t;
	crt_token tok, up;
	char str[CRT_TOKEN_STRLEN + 1];
	tu_instance(&t);
	crt_token_spec spec = {.name = "u", .attest_mode = "verify", .attest_pin_policy = "always"};
	tu_token(t.ctx, &spec, str, &tok);
	crt_token_spec ch = {.attest_mode = "require", .attest_pin_policy = ""};
	assert_int_equal(crt_token_update(t.ctx, tok.id, &ch, "test", &up), CRT_OK);
	assert_string_equal(up.attestation, "mode=require");
	crt_token_clear(&up);
	crt_token_spec clear = {.attest_mode = ""};
	assert_int_equal(crt_token_update(t.ctx, tok.id, &clear, "test", &up), CRT_OK);
	assert_null(up.attestation);
	crt_token_clear(&up);
	crt_token_spec bad = {.attest_touch_policy = "sometimes"};
	assert_int_equal(crt_token_update(t.ctx, tok.id, &bad, "test", &up), CRT_E_FIELD_INVALID);
	crt_token_spec badc = {.name = "b", .attest_mode = "maybe"};
	assert_int_equal(crt_token_create(t.ctx, &badc, "test", &up, str), CRT_E_FIELD_INVALID);
	crt_token_clear(&tok);
	tu_instance_free(&t);
}

static void a_bad_attestation_config_is_refused_at_open(void **s)
{
	test_instance t;
	crt_ctx *ctx = NULL;
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "\n[attestation]\nmode = sometimes\n");
	assert_int_equal(crt_open(t.conf, 0, &ctx), CRT_E_CONFIG);
	crt_close(ctx);
	tu_instance_free(&t);
	tu_instance_init(&t, NULL);
	tu_config_append(&t, "\n[attestation]\ntrusted_roots = /nonexistent-roots\n");
	assert_int_equal(crt_open(t.conf, 0, &ctx), CRT_E_CONFIG);
	crt_close(ctx);
	/* RADIUS and PAM (no CA) never read the roots */
	assert_int_equal(crt_open(t.conf, CRT_OPEN_NO_CA, &ctx), CRT_OK);
	crt_close(ctx);
	tu_instance_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_attestation_gives_the_facts),
	    cmocka_unit_test(chain_to_another_root_is_untrusted),
	    cmocka_unit_test(no_roots_configured_is_untrusted),
	    cmocka_unit_test(attack_root_signed_leaf_without_device_is_untrusted),
	    cmocka_unit_test(attack_self_made_device_is_untrusted),
	    cmocka_unit_test(expired_attestation_is_untrusted),
	    cmocka_unit_test(attested_key_other_than_the_csr_key_is_a_mismatch),
	    cmocka_unit_test(malformed_firmware_is_refused),
	    cmocka_unit_test(malformed_serial_is_refused),
	    cmocka_unit_test(malformed_policy_is_refused),
	    cmocka_unit_test(malformed_form_factor_is_refused),
	    cmocka_unit_test(repeated_extension_is_refused),
	    cmocka_unit_test(fips_flag_and_unknown_members_are_read),
	    cmocka_unit_test(chain_parse_is_strict),
	    cmocka_unit_test(roots_load_reads_the_directory),
	    cmocka_unit_test(policy_text_round_trips),
	    cmocka_unit_test(policy_text_is_strict),
	    cmocka_unit_test(token_policy_overrides_the_defaults_member_by_member),
	    cmocka_unit_test(ignore_looks_at_nothing),
	    cmocka_unit_test(verify_accepts_none_but_refuses_a_bad_one),
	    cmocka_unit_test(require_without_attestation_is_missing),
	    cmocka_unit_test(pin_policy_minimum),
	    cmocka_unit_test(touch_policy_minimum_orders_cached_below_always),
	    cmocka_unit_test(firmware_minimum),
	    cmocka_unit_test(redemption_stores_the_attested_facts),
	    cmocka_unit_test(refusals_leave_the_token_unused),
	    cmocka_unit_test(the_config_default_applies_to_tokens_without_a_policy),
	    cmocka_unit_test(verify_without_attestation_issues_without_facts),
	    cmocka_unit_test(token_update_changes_and_clears_the_policy),
	    cmocka_unit_test(a_bad_attestation_config_is_refused_at_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
