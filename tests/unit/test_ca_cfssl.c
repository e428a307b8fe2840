/*
 * test_ca_cfssl.c — the cfssl connector's parts that need no server: which
 * URLs and [ca] type combinations are accepted, the authsign body (the
 * token is HMAC-SHA256 of the request bytes under the key, both base64, as
 * cfssl's auth package checks it), the key file's rules, and the checks on
 * a certificate a remote CA returns (built here with OpenSSL: the good one
 * passes; each way of being wrong is refused).
 */
#include "testutil.h"
#include <jansson.h>
#include <sys/stat.h>

#include "ca_cfssl.h"

/* ------------------------------------------------------------ config */

static void https_anywhere_and_http_to_loopback_are_accepted(void **state)
{
	assert_null(ca_cfssl_url_refusal("https://cfssl.example.org:8888"));
	assert_null(ca_cfssl_url_refusal("https://cfssl.example.org/"));
	assert_null(ca_cfssl_url_refusal("http://127.0.0.1:18750"));
	assert_null(ca_cfssl_url_refusal("http://127.1.2.3:8888/"));
	assert_null(ca_cfssl_url_refusal("http://[::1]:8888"));
	assert_null(ca_cfssl_url_refusal("http://localhost:8888"));
}

static void attack_plain_http_to_another_host_is_refused(void **state)
{
	assert_non_null(ca_cfssl_url_refusal("http://cfssl.example.org:8888"));
	assert_non_null(ca_cfssl_url_refusal("http://10.0.0.1:8888"));
	assert_non_null(ca_cfssl_url_refusal("http://[::2]:8888"));
	assert_non_null(ca_cfssl_url_refusal("http://127.0.0.1.example.org"));
}

static void urls_with_credentials_paths_or_other_schemes_are_refused(void **state)
{
	assert_non_null(ca_cfssl_url_refusal("https://u:p@cfssl.example.org"));
	assert_non_null(ca_cfssl_url_refusal("https://cfssl.example.org/api/v1/cfssl/authsign"));
	assert_non_null(ca_cfssl_url_refusal("https://cfssl.example.org/?x=1"));
	assert_non_null(ca_cfssl_url_refusal("ftp://cfssl.example.org"));
	assert_non_null(ca_cfssl_url_refusal("cfssl.example.org"));
	assert_non_null(ca_cfssl_url_refusal(""));
}

static void type_defaults_from_the_key(void **state)
{
	char buf[300];
	crt_config c = {.ca_key = "/x/ca.key"};
	assert_null(ca_type_resolve(&c, 0, buf, sizeof(buf)));
	assert_string_equal(c.ca_type, "local");
	free(c.ca_type);
	crt_config p = {.ca_key = "pkcs11:token=t;object=o"};
	assert_null(ca_type_resolve(&p, 1, buf, sizeof(buf)));
	assert_string_equal(p.ca_type, "pkcs11");
	free(p.ca_type);
}

static void type_and_keys_must_agree(void **state)
{
	char buf[300];
	char cfssl[] = "cfssl", local[] = "local", pkcs11[] = "pkcs11", other[] = "vault";
	char url[] = "http://127.0.0.1:1", kf[] = "/k";
	crt_config ok = {.ca_type = cfssl, .ca_key = "/x/ca.key", .ca_url = url,
			 .ca_auth_key_file = kf};
	assert_null(ca_type_resolve(&ok, 0, buf, sizeof(buf)));
	crt_config c = ok;
	c.ca_auth_key_file = NULL;
	assert_non_null(ca_type_resolve(&c, 0, buf, sizeof(buf))); /* cfssl needs its key file */
	c = ok;
	assert_non_null(ca_type_resolve(&c, 1, buf, sizeof(buf))); /* and no key = */
	c = ok;
	c.ca_url = (char *)"http://192.0.2.1:1";
	assert_non_null(ca_type_resolve(&c, 0, buf, sizeof(buf)));
	crt_config l = {.ca_type = local, .ca_key = "/x/ca.key", .ca_url = url};
	assert_non_null(ca_type_resolve(&l, 0, buf, sizeof(buf))); /* url only with cfssl */
	crt_config lp = {.ca_type = local, .ca_key = "pkcs11:token=t;object=o"};
	assert_non_null(ca_type_resolve(&lp, 1, buf, sizeof(buf)));
	crt_config pf = {.ca_type = pkcs11, .ca_key = "/x/ca.key"};
	assert_non_null(ca_type_resolve(&pf, 1, buf, sizeof(buf)));
	crt_config o = {.ca_type = other, .ca_key = "/x/ca.key"};
	assert_non_null(ca_type_resolve(&o, 0, buf, sizeof(buf)));
}

/* ------------------------------------------------------------ certificates */

struct pki {
	EVP_PKEY *ca_key, *other_ca_key, *client_key, *other_key;
	X509 *ca, *other_ca; /* other_ca: same subject, another key */
	char dir[256];
};
static struct pki P;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *v)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, v);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static X509 *make_ca(EVP_PKEY *k)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"cfssl CA", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
	X509_set_pubkey(x, k);
	add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, NULL, NID_subject_key_identifier, "hash");
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

/* How a leaf goes wrong (0: a good one). */
enum leaf_flaw {
	GOOD,
	OTHER_KEY,     /* for another public key */
	OTHER_SIGNER,  /* signed by the same-named CA with another key */
	EXTRA_OU,      /* an OU crtoken did not ask for */
	OTHER_CN,
	WITH_SAN,
	NO_EKU,
	SERVER_EKU,
	IS_CA,
	NO_AKI,
	EXPIRED,
	OUTLIVES_CA,
	BIG_SERIAL,
};

static X509 *make_leaf(enum leaf_flaw f)
{
	X509 *x = X509_new(), *issuer = f == OTHER_SIGNER ? P.other_ca : P.ca;
	EVP_PKEY *ik = f == OTHER_SIGNER ? P.other_ca_key : P.ca_key;
	X509_NAME *n = X509_get_subject_name(x);
	unsigned char big[21];

	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Org", -1, -1, 0);
	if (f == EXTRA_OU)
		X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)"evil",
					   -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				   (const unsigned char *)(f == OTHER_CN ? "admin" : "laptop"), -1,
				   -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	X509_set_version(x, X509_VERSION_3);
	if (f == BIG_SERIAL) {
		memset(big, 0x11, sizeof(big));
		BIGNUM *bn = BN_bin2bn(big, sizeof(big), NULL);
		BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
		BN_free(bn);
	} else {
		ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567);
	}
	X509_gmtime_adj(X509_getm_notBefore(x), f == EXPIRED ? -86400L * 10 : -60);
	X509_gmtime_adj(X509_getm_notAfter(x), f == EXPIRED	 ? -86400L
					       : f == OUTLIVES_CA ? 86400L * 4000
								  : 86400L * 365);
	X509_set_pubkey(x, f == OTHER_KEY ? P.other_key : P.client_key);
	add_ext(x, issuer, NID_basic_constraints, f == IS_CA ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
	if (f != NO_EKU)
		add_ext(x, issuer, NID_ext_key_usage, f == SERVER_EKU ? "serverAuth" : "clientAuth");
	if (f == WITH_SAN)
		add_ext(x, issuer, NID_subject_alt_name, "DNS:evil.example");
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (f != NO_AKI)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(x, ik, EVP_sha256()) > 0);
	return x;
}

static int pki_setup(void **state)
{
	P.ca_key = tu_key("ec-p256");
	P.other_ca_key = tu_key("ec-p256");
	P.client_key = tu_key("ec-p256");
	P.other_key = tu_key("ec-p256");
	P.ca = make_ca(P.ca_key);
	P.other_ca = make_ca(P.other_ca_key);
	snprintf(P.dir, sizeof(P.dir), "%s/crtoken-cfssl.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(P.dir));
	return 0;
}

static int pki_teardown(void **state)
{
	EVP_PKEY_free(P.ca_key);
	EVP_PKEY_free(P.other_ca_key);
	EVP_PKEY_free(P.client_key);
	EVP_PKEY_free(P.other_key);
	X509_free(P.ca);
	X509_free(P.other_ca);
	tu_rmrf(P.dir);
	return 0;
}

static crt_status check(enum leaf_flaw f, const char *ou, const char **why)
{
	X509 *x = make_leaf(f);
	crt_status r = ca_cfssl_check(P.ca, x, P.client_key, "laptop", "Org", ou,
				      (int64_t)time(NULL), 300, why);
	X509_free(x);
	return r;
}

static void a_certificate_as_crtoken_would_sign_it_is_accepted(void **state)
{
	const char *why;
	assert_int_equal(check(GOOD, NULL, &why), CRT_OK);
	assert_null(why);
	/* an OU asked for and present */
	assert_int_equal(check(EXTRA_OU, "evil", &why), CRT_OK);
}

static void attack_certificate_for_another_key_is_refused(void **state)
{
	const char *why;
	assert_int_equal(check(OTHER_KEY, NULL, &why), CRT_E_CA_REJECTED);
	assert_non_null(strstr(why, "public key"));
}

static void attack_certificate_from_a_same_named_ca_is_refused(void **state)
{
	const char *why;
	assert_int_equal(check(OTHER_SIGNER, NULL, &why), CRT_E_CA_REJECTED);
	assert_non_null(why);
}

static void certificates_with_another_subject_are_refused(void **state)
{
	const char *why;
	assert_int_equal(check(EXTRA_OU, NULL, &why), CRT_E_CA_REJECTED);
	assert_non_null(strstr(why, "subject"));
	assert_int_equal(check(OTHER_CN, NULL, &why), CRT_E_CA_REJECTED);
	assert_int_equal(check(GOOD, "asked-for-ou", &why), CRT_E_CA_REJECTED);
}

static void certificates_outside_the_client_profile_are_refused(void **state)
{
	const char *why;
	enum leaf_flaw bad[] = {WITH_SAN, NO_EKU,  SERVER_EKU,  IS_CA,
				NO_AKI,	  EXPIRED, OUTLIVES_CA, BIG_SERIAL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (check(bad[i], NULL, &why) != CRT_E_CA_REJECTED)
			fail_msg("flaw %d was accepted", (int)bad[i]);
		assert_non_null(why);
	}
}

/* ------------------------------------------------------------ the request */

static void write_key(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static struct ca_cfssl *open_with(const char *key_text, mode_t mode, crt_status want)
{
	char path[300], err[600];
	struct ca_cfssl *c = NULL;
	snprintf(path, sizeof(path), "%s/auth.key", P.dir);
	write_key(path, key_text, mode);
	ca_cfssl_conf conf = {.url = "http://127.0.0.1:1/", .auth_key_file = path,
			      .profile = "client", .label = "primary", .timeout_ms = 1000};
	crt_status r = ca_cfssl_open(&conf, P.ca, &c, err, sizeof(err));
	if (r != want)
		fail_msg("open: %s (%s), expected %s", crt_status_name(r), err,
			 crt_status_name(want));
	return c;
}

static void the_key_file_is_a_secret_of_hex(void **state)
{
	assert_null(open_with("00112233445566778899aabbccddeeff\n", 0644,
			      CRT_E_UNSAFE_PERMISSIONS));
	assert_null(open_with("not hex at all, not hex at all!!", 0600, CRT_E_CA_INVALID));
	assert_null(open_with("0011223344", 0600, CRT_E_CA_INVALID)); /* too short */
	ca_cfssl_free(open_with("  00112233445566778899AABBCCDDEEFF  \n", 0600, CRT_OK));
}

static unsigned char *unb64(const char *s, size_t *n)
{
	size_t len = strlen(s);
	unsigned char *out = malloc(len);
	int k = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	assert_true(k >= 0);
	while (len > 0 && s[len - 1] == '=')
		len--, k--;
	*n = (size_t)k;
	return out;
}

static void the_body_is_the_request_and_its_hmac_as_cfssl_checks_it(void **state)
{
	static const unsigned char key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	struct ca_cfssl *c = open_with("00112233445566778899aabbccddeeff", 0600, CRT_OK);
	X509_REQ *req = tu_req(P.client_key, "from-the-csr", 0);
	unsigned char *der = NULL, mac[32], *inner, *tok;
	size_t maclen, ilen, tlen;
	int dlen = i2d_X509_REQ(req, &der);
	char *body = NULL;
	json_error_t je;

	assert_int_equal(ca_cfssl_body(c, der, (size_t)dlen, "laptop", "Org", NULL, &body),
			 CRT_OK);
	json_t *outer = json_loads(body, 0, &je);
	assert_non_null(outer);
	inner = unb64(json_string_value(json_object_get(outer, "request")), &ilen);
	tok = unb64(json_string_value(json_object_get(outer, "token")), &tlen);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key), inner,
				  ilen, mac, sizeof(mac), &maclen));
	assert_int_equal(tlen, 32);
	assert_memory_equal(tok, mac, 32);

	json_t *r = json_loadb((const char *)inner, ilen, 0, &je);
	assert_non_null(r);
	assert_non_null(strstr(json_string_value(json_object_get(r, "certificate_request")),
			       "-----BEGIN CERTIFICATE REQUEST-----"));
	assert_true(json_is_array(json_object_get(r, "hosts")));
	assert_int_equal(json_array_size(json_object_get(r, "hosts")), 0);
	assert_string_equal(json_string_value(json_object_get(r, "profile")), "client");
	assert_string_equal(json_string_value(json_object_get(r, "label")), "primary");
	json_t *subj = json_object_get(r, "subject");
	assert_string_equal(json_string_value(json_object_get(subj, "CN")), "laptop");
	json_t *names = json_object_get(subj, "names");
	assert_int_equal(json_array_size(names), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(names, 0), "O")),
			    "Org");
	assert_null(json_object_get(json_array_get(names, 0), "OU"));

	json_decref(r);
	json_decref(outer);
	free(inner);
	free(tok);
	free(body);
	OPENSSL_free(der);
	X509_REQ_free(req);
	ca_cfssl_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(https_anywhere_and_http_to_loopback_are_accepted),
	    cmocka_unit_test(attack_plain_http_to_another_host_is_refused),
	    cmocka_unit_test(urls_with_credentials_paths_or_other_schemes_are_refused),
	    cmocka_unit_test(type_defaults_from_the_key),
	    cmocka_unit_test(type_and_keys_must_agree),
	    cmocka_unit_test(a_certificate_as_crtoken_would_sign_it_is_accepted),
	    cmocka_unit_test(attack_certificate_for_another_key_is_refused),
	    cmocka_unit_test(attack_certificate_from_a_same_named_ca_is_refused),
	    cmocka_unit_test(certificates_with_another_subject_are_refused),
	    cmocka_unit_test(certificates_outside_the_client_profile_are_refused),
	    cmocka_unit_test(the_key_file_is_a_secret_of_hex),
	    cmocka_unit_test(the_body_is_the_request_and_its_hmac_as_cfssl_checks_it),
	};
	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
