/*
 * test_certprofile.c — certificate profiles through the library and the
 * store (either backend: t_pg_units runs it on PostgreSQL): a token's
 * profile, SubjectAltNames and validity are stored and read back, the
 * certificate records its profile, and what the profile says is what the
 * issued certificate carries.
 */
#include <jansson.h>

#include "testutil.h"

static const char profiles_conf[] = "\n[profile guest]\n"
                                    "days = 2\n"
                                    "max_days = 10\n"
                                    "vlan = 30\n"
                                    "lock = ou\n"
                                    "lifetime = 1h\n"
                                    "max_lifetime = 1d\n"
                                    "\n[profile signer]\n"
                                    "days = 3\n"
                                    "key_usage = digitalSignature nonRepudiation\n"
                                    "extended_key_usage = clientAuth, 1.3.6.1.4.1.311.20.2.2\n"
                                    "key_types = ec-p384, rsa-3072\n"
                                    "\n[profile long]\n"
                                    "days = 36500\n"
                                    "max_days = 36500\n"
                                    "\n[profile corp]\n"
                                    "san_email = {owner}@example.com\n"
                                    "san_upn = {owner}@corp.example\n"
                                    "\n[profile devices]\n"
                                    "san_dns = {cn}.devices.example\n"
                                    "\n[profile pki]\n"
                                    "crl_url = http://pki.example/crl.der\n"
                                    "ca_issuers_url = http://pki.example/ca.der\n"
                                    "ocsp_url = http://ocsp.example/\n"
                                    "\n[renewal]\n"
                                    "enabled = yes\n";

static int setup(void **state)
{
	tu_instance_init(&ti, NULL);
	tu_config_append(&ti, profiles_conf);
	tu_open(&ti);
	return 0;
}

static void a_token_keeps_its_profile_and_validity(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, got;
	crt_token_spec spec = {.name = "visitor", .profile = "guest", .valid_days = 5};

	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &got), CRT_OK);
	assert_string_equal(got.profile, "guest");
	assert_int_equal(got.valid_days, 5);
	assert_string_equal(got.reply, "Tunnel-Type=VLAN\nTunnel-Medium-Type=IEEE-802\n"
	                               "Tunnel-Private-Group-Id=30");
	assert_int_equal(got.locked, CRT_FIELD_OU);
	assert_true(got.expires_at - got.created_at == 3600);
	crt_token_clear(&got);
	crt_token_clear(&t);
}

static void an_unknown_profile_is_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "x", .profile = "nope"};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_PROFILE_UNKNOWN);
}

static void validity_beyond_the_profile_is_refused_at_create_and_update(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = "x", .profile = "guest", .valid_days = 11};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_VALIDITY);
	spec.valid_days = 0;
	tu_token(ti.ctx, &spec, tok, &t);
	crt_token_spec up = {.valid_days = 11};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", NULL), CRT_E_VALIDITY);
	up.valid_days = 10;
	crt_token got;
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", &got), CRT_OK);
	assert_int_equal(got.valid_days, 10);
	crt_token_clear(&got);
	crt_token_clear(&t);
}

static void a_token_without_profile_is_the_default_ones(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = "plain"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_string_equal(t.profile, CRT_CERT_PROFILE_DEFAULT);
	assert_null(t.reply);
	assert_int_equal(t.valid_days, 0);
	crt_token_clear(&t);
}

static void the_certificate_records_its_profile(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c, got;
	crt_token_spec spec = {.name = "laptop", .profile = "guest"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_string_equal(c.profile, "guest");
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &got), CRT_OK);
	assert_string_equal(got.profile, "guest");
	crt_cert_clear(&got);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* Redeem tok with a fresh CSR of key type; the certificate parsed into *x. */
static crt_status redeem_as(const char *tok, const char *type, crt_cert *c, X509 **x)
{
	size_t len;
	char *csr = tu_csr(type, &len);
	crt_redeem_req req = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
	                      .admin = 1, .actor = "test"};
	crt_status r = crt_redeem(ti.ctx, &req, c);
	free(csr);
	if (x != NULL)
		*x = r == CRT_OK ? tu_x509(c->pem) : NULL;
	return r;
}

/* The extensions of x as text, one per line: "name[ critical]: value",
 * the key identifiers by name only (their values are the keys'). */
static char *extensions_text(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s;
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		BIO_printf(b, "%s%s", OBJ_nid2sn(nid), X509_EXTENSION_get_critical(e) ? " critical" : "");
		if (nid != NID_subject_key_identifier && nid != NID_authority_key_identifier) {
			BIO_puts(b, ": ");
			assert_true(X509V3_EXT_print(b, e, 0, 0) == 1);
		}
		BIO_puts(b, "\n");
	}
	long n = BIO_get_mem_data(b, &data);
	s = strndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;
	assert_true(ASN1_TIME_to_tm(t, &tm) == 1);
	return (int64_t)timegm(&tm);
}

/* What a certificate of the default profile carries is what crtoken issued
 * before profiles existed: these five extensions, in this order. */
static void the_default_profile_certificate_is_todays(void **s)
{
	static const char *const types[] = {"ec-p256", "rsa-2048", "ed25519"};
	static const char *const usage[] = {"Digital Signature",
	                                    "Digital Signature, Key Encipherment",
	                                    "Digital Signature"};
	for (size_t i = 0; i < 3; i++) {
		char tok[CRT_TOKEN_STRLEN + 1], want[512];
		crt_token t;
		crt_cert c;
		X509 *x;
		crt_token_spec spec = {.name = "plain"};
		tu_token(ti.ctx, &spec, tok, &t);
		assert_int_equal(redeem_as(tok, types[i], &c, &x), CRT_OK);
		char *text = extensions_text(x);
		snprintf(want, sizeof(want),
		         "basicConstraints critical: CA:FALSE\n"
		         "keyUsage critical: %s\n"
		         "extendedKeyUsage: TLS Web Client Authentication\n"
		         "subjectKeyIdentifier\n"
		         "authorityKeyIdentifier\n",
		         usage[i]);
		assert_string_equal(text, want);
		/* [ca] cert_days (365), back-dated by the clock skew (300 s) */
		assert_int_equal(asn1_unix(X509_get0_notAfter(x)) - asn1_unix(X509_get0_notBefore(x)),
		                 365 * 86400 + 300);
		free(text);
		X509_free(x);
		crt_cert_clear(&c);
		crt_token_clear(&t);
	}
}

static void the_profile_sets_key_usage_and_extended_key_usage(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	X509 *x;
	crt_token_spec spec = {.name = "signer", .profile = "signer"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(redeem_as(tok, "ec-p384", &c, &x), CRT_OK);
	char *text = extensions_text(x);
	assert_string_equal(text, "basicConstraints critical: CA:FALSE\n"
	                          "keyUsage critical: Digital Signature, Non Repudiation\n"
	                          "extendedKeyUsage: TLS Web Client Authentication, "
	                          "Microsoft Smartcard Login\n"
	                          "subjectKeyIdentifier\n"
	                          "authorityKeyIdentifier\n");
	assert_int_equal(asn1_unix(X509_get0_notAfter(x)) - asn1_unix(X509_get0_notBefore(x)),
	                 3 * 86400 + 300);
	assert_string_equal(c.profile, "signer");
	free(text);
	X509_free(x);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void the_validity_is_the_tokens_else_the_profiles(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "visitor", .profile = "guest", .valid_days = 7};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_int_equal(c.not_after - c.not_before, 7 * 86400 + 300);
	crt_cert_clear(&c);
	crt_token_clear(&t);
	spec.valid_days = 0;
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_int_equal(c.not_after - c.not_before, 2 * 86400 + 300);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* A CSR key the profile does not allow: csr_unsupported_key, and the token
 * is still there to be redeemed with an allowed key. */
static void a_key_type_the_profile_refuses_consumes_nothing(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, got;
	crt_cert c;
	X509 *x;
	crt_token_spec spec = {.name = "signer", .profile = "signer"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(redeem_as(tok, "ec-p256", &c, NULL), CRT_E_CSR_KEY_TYPE);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "ec-p256 key is not allowed"));
	assert_int_equal(redeem_as(tok, "rsa-2048", &c, NULL), CRT_E_CSR_KEY_TYPE);
	assert_int_equal(redeem_as(tok, "ed25519", &c, NULL), CRT_E_CSR_KEY_TYPE);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &got), CRT_OK);
	assert_int_equal(got.state, CRT_TOKEN_ACTIVE);
	assert_null(got.serial);
	crt_token_clear(&got);
	assert_int_equal(redeem_as(tok, "ec-p384", &c, &x), CRT_OK);
	X509_free(x);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* The CA's end bounds the validity: a token asking for more days than the
 * CA has left is refused when it is made (validity_invalid; exactly the
 * days left are accepted), and the profile's own days are clamped to the
 * CA's notAfter at issuance. */
static void the_validity_never_passes_the_cas_end(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_ca_info ci;
	assert_int_equal(crt_ca_get(ti.ctx, &ci), CRT_OK);
	X509 *ca = tu_x509(ci.pem);
	int64_t ca_end = asn1_unix(X509_get0_notAfter(ca));
	int left = (int)((ca_end - crt_now()) / 86400);

	crt_token_spec spec = {.name = "long", .profile = "long", .valid_days = left + 1};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_VALIDITY);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "past the end of CA default"));
	spec.valid_days = left;
	tu_token(ti.ctx, &spec, tok, &t);
	crt_token_spec up = {.valid_days = left + 1};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", NULL), CRT_E_VALIDITY);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_true(c.not_after <= ca_end);
	crt_cert_clear(&c);
	crt_token_clear(&t);

	spec.valid_days = 0; /* the profile's 36500 days: clamped */
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_int_equal(c.not_after, ca_end);
	crt_cert_clear(&c);
	crt_token_clear(&t);
	X509_free(ca);
	crt_ca_info_clear(&ci);
}

/* Renewal signs under the certificate's profile: its usages, key types and
 * validity, and the renewed certificate records it. */
static void renewal_uses_the_certificates_profile(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c, n;
	X509 *x, *y;
	size_t len;
	crt_token_spec spec = {.name = "signer", .profile = "signer"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(redeem_as(tok, "ec-p384", &c, &x), CRT_OK);

	char *csr = tu_csr("ec-p256", &len);
	crt_renew_req rq = {.cert = (unsigned char *)c.pem, .cert_len = strlen(c.pem),
	                    .csr = (unsigned char *)csr, .csr_len = len, .actor = "test"};
	assert_int_equal(crt_cert_renew(ti.ctx, &rq, &n), CRT_E_CSR_KEY_TYPE);
	free(csr);
	csr = tu_csr("ec-p384", &len);
	rq.csr = (unsigned char *)csr;
	rq.csr_len = len;
	if (crt_cert_renew(ti.ctx, &rq, &n) != CRT_OK)
		fail_msg("renew: %s", crt_errdetail(ti.ctx));
	assert_string_equal(n.profile, "signer");
	y = tu_x509(n.pem);
	char *a = extensions_text(x), *b = extensions_text(y);
	assert_string_equal(a, b);
	assert_int_equal(n.not_after - n.not_before, 3 * 86400 + 300);
	free(a);
	free(b);
	free(csr);
	X509_free(x);
	X509_free(y);
	crt_cert_clear(&c);
	crt_cert_clear(&n);
	crt_token_clear(&t);
}

/* A PEM CSR for a fresh P-256 key whose extensionRequest asks for
 * subjectAltNames (and a CA:TRUE basicConstraints). */
static char *csr_asking_for_san(size_t *len)
{
	EVP_PKEY *k = tu_key("ec-p256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"evil", -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, k);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	                                                 "DNS:radius.corp.example,"
	                                                 "email:ceo@corp.example,"
	                                                 "otherName:1.3.6.1.4.1.311.20.2.3;"
	                                                 "UTF8:administrator@corp.example"));
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
	                                                 "critical,CA:TRUE"));
	assert_true(X509_REQ_add_extensions(req, exts) == 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	char *pem = tu_req_pem(req, len);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	return pem;
}

static long long token_rows(void)
{
	char db[512];
	tu_db_path(&ti, db, sizeof(db));
	return tu_sql_int(db, "SELECT COUNT(*) FROM tokens");
}

/* The token's SubjectAltNames are stored, shown, and written into the
 * certificate: email as rfc822Name, UPN as the Microsoft otherName
 * (UTF8String), DNS, URI. */
static void a_tokens_san_is_the_certificates(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	const char *lines = "email=alice@example.com\nemail=a.smith@example.com\n"
	                    "upn=jörg@corp.example\ndns=laptop-7.corp.example\n"
	                    "uri=urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66";
	crt_token t, got;
	crt_cert c, again;
	X509 *x;
	crt_token_spec spec = {.name = "laptop", .san = lines};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &got), CRT_OK);
	assert_string_equal(got.san, lines);
	json_t *j = crt_token_json(&got, NULL);
	char *dump = json_dumps(json_object_get(j, "san"), JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(dump, "{\"dns\":[\"laptop-7.corp.example\"],\"email\":"
	                          "[\"alice@example.com\",\"a.smith@example.com\"],\"upn\":"
	                          "\"jörg@corp.example\",\"uri\":[\"urn:uuid:6e8bc430-9c3a-11d9-"
	                          "9669-0800200c9a66\"]}");
	free(dump);
	json_decref(j);
	assert_int_equal(redeem_as(tok, "ec-p256", &c, &x), CRT_OK);
	char *text = extensions_text(x);
	assert_non_null(strstr(text, "subjectAltName: email:alice@example.com, "
	                             "email:a.smith@example.com, othername: UPN::jörg@corp.example, "
	                             "DNS:laptop-7.corp.example, "
	                             "URI:urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66\n"));
	/* the UPN is a UTF8String */
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 5);
	const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 2);
	assert_int_equal(g->type, GEN_OTHERNAME);
	assert_int_equal(OBJ_obj2nid(g->d.otherName->type_id), NID_ms_upn);
	assert_int_equal(g->d.otherName->value->type, V_ASN1_UTF8STRING);
	GENERAL_NAMES_free(gens);
	char *back = crt_cert_san_text(c.pem);
	assert_string_equal(back, lines);
	free(back);
	assert_int_equal(crt_cert_get(ti.ctx, c.serial, &again), CRT_OK);
	j = crt_cert_json(&again, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "san"), "upn")),
	                    "jörg@corp.example");
	json_decref(j);
	free(text);
	X509_free(x);
	crt_cert_clear(&again);
	crt_cert_clear(&c);
	crt_token_clear(&got);
	crt_token_clear(&t);
}

/* A bad value is san_invalid naming it, and nothing is written. */
static void a_bad_san_is_refused_naming_the_value(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	static const char *const bad[][2] = {
	    {"dns=bücher.example", "dns \"bücher.example\""},
	    {"dns=*.corp.example", "wildcard"},
	    {"email=alice", "email \"alice\" has no '@'"},
	    {"uri=devices/laptop", "uri \"devices/laptop\" has no scheme"},
	    {"upn=alice", "upn \"alice\""},
	    {"upn=a@corp.example\nupn=b@corp.example", "one UPN"},
	    {"ip=192.0.2.1", "email=, upn=, dns= or uri="},
	};
	long long before = token_rows();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		crt_token_spec spec = {.name = "x", .san = bad[i][0]};
		assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_SAN_INVALID);
		if (strstr(crt_errdetail(ti.ctx), bad[i][1]) == NULL)
			fail_msg("%s: \"%s\"", bad[i][0], crt_errdetail(ti.ctx));
	}
	assert_int_equal(token_rows(), before);
	/* update: refused, the token as it was; then set and cleared */
	crt_token t, got;
	crt_token_spec spec = {.name = "x"};
	tu_token(ti.ctx, &spec, tok, &t);
	crt_token_spec up = {.san = "dns=bad_name.example"};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", NULL), CRT_E_SAN_INVALID);
	up.san = "dns=good.example";
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", &got), CRT_OK);
	assert_string_equal(got.san, "dns=good.example");
	crt_token_clear(&got);
	up.san = "";
	assert_int_equal(crt_token_update(ti.ctx, t.id, &up, "test", &got), CRT_OK);
	assert_null(got.san);
	crt_token_clear(&got);
	crt_token_clear(&t);
}

/* The profile's templates, expanded at issuance; a kind the token gives
 * replaces that kind's template only. */
static void the_profiles_templates_fill_the_san(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "alice-laptop", .profile = "corp", .owner = "alice"};
	tu_token(ti.ctx, &spec, tok, &t);
	crt_redeem_req rq;
	size_t len;
	char *csr = tu_csr("ec-p256", &len);
	rq = (crt_redeem_req){.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
	                      .user = "alice", .actor = "test"};
	if (crt_redeem(ti.ctx, &rq, &c) != CRT_OK)
		fail_msg("redeem: %s", crt_errdetail(ti.ctx));
	char *san = crt_cert_san_text(c.pem);
	assert_string_equal(san, "email=alice@example.com\nupn=alice@corp.example");
	free(san);
	free(csr);
	crt_cert_clear(&c);
	crt_token_clear(&t);

	spec.san = "email=alice.smith@example.org";
	tu_token(ti.ctx, &spec, tok, &t);
	csr = tu_csr("ec-p256", &len);
	rq.token = tok;
	rq.csr = (unsigned char *)csr;
	rq.csr_len = len;
	assert_int_equal(crt_redeem(ti.ctx, &rq, &c), CRT_OK);
	san = crt_cert_san_text(c.pem);
	assert_string_equal(san, "email=alice.smith@example.org\nupn=alice@corp.example");
	free(san);
	free(csr);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* A template that gives an invalid value: san_invalid — at creation when
 * the token's own fields already make it so (no owner for {owner}), at
 * redemption when the redeemer's CN does, and the token stays unused. */
static void a_template_giving_a_bad_value_is_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t, got;
	crt_cert c;
	crt_token_spec spec = {.name = "no-owner", .profile = "corp"};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "test", NULL, tok), CRT_E_SAN_INVALID);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "san_email = \"{owner}@example.com\" gives "
	                                             "\"@example.com\""));

	crt_token_spec dev = {.name = "laptop", .profile = "devices"};
	tu_token(ti.ctx, &dev, tok, &t);
	size_t len;
	char *csr = tu_csr("ec-p256", &len);
	crt_redeem_req rq = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
	                     .cn = "Alice's laptop", .admin = 1, .actor = "test"};
	assert_int_equal(crt_redeem(ti.ctx, &rq, &c), CRT_E_SAN_INVALID);
	assert_non_null(strstr(crt_errdetail(ti.ctx), "\"Alice's laptop.devices.example\""));
	assert_int_equal(crt_token_get(ti.ctx, t.id, &got), CRT_OK);
	assert_int_equal(got.state, CRT_TOKEN_ACTIVE);
	crt_token_clear(&got);
	rq.cn = "laptop-7";
	assert_int_equal(crt_redeem(ti.ctx, &rq, &c), CRT_OK);
	char *san = crt_cert_san_text(c.pem);
	assert_string_equal(san, "dns=laptop-7.devices.example");
	free(san);
	free(csr);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* attack_csr_requests_san_gets_none: a CSR whose extensionRequest asks for
 * subjectAltNames (a RADIUS server's DNS name, the CEO's address, the
 * administrator's UPN) and CA:TRUE gets none of it: no subjectAltName at
 * all from the default profile, only the token's own otherwise. */
static void attack_csr_requests_san_gets_none(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	size_t len;
	char *csr = csr_asking_for_san(&len);
	crt_token_spec spec = {.name = "plain"};
	tu_token(ti.ctx, &spec, tok, &t);
	crt_redeem_req rq = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len, .admin = 1,
	                     .actor = "test"};
	assert_int_equal(crt_redeem(ti.ctx, &rq, &c), CRT_OK);
	X509 *x = tu_x509(c.pem);
	assert_true(X509_get_ext_by_NID(x, NID_subject_alt_name, -1) < 0);
	char *text = extensions_text(x);
	assert_non_null(strstr(text, "basicConstraints critical: CA:FALSE\n"));
	assert_null(strstr(text, "corp.example"));
	assert_null(crt_cert_san_text(c.pem));
	free(text);
	X509_free(x);
	crt_cert_clear(&c);
	crt_token_clear(&t);

	spec.san = "dns=laptop.example.org";
	tu_token(ti.ctx, &spec, tok, &t);
	rq.token = tok;
	assert_int_equal(crt_redeem(ti.ctx, &rq, &c), CRT_OK);
	char *san = crt_cert_san_text(c.pem);
	assert_string_equal(san, "dns=laptop.example.org");
	free(san);
	free(csr);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* A renewal keeps the subjectAltName as it is. */
static void renewal_keeps_the_san(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c, n;
	size_t len;
	crt_token_spec spec = {.name = "laptop", .profile = "guest",
	                       .san = "email=bob@example.com\nupn=bob@corp.example"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	char *csr = tu_csr("ec-p256", &len);
	crt_renew_req rq = {.cert = (unsigned char *)c.pem, .cert_len = strlen(c.pem),
	                    .csr = (unsigned char *)csr, .csr_len = len, .actor = "test"};
	if (crt_cert_renew(ti.ctx, &rq, &n) != CRT_OK)
		fail_msg("renew: %s", crt_errdetail(ti.ctx));
	char *a = crt_cert_san_text(c.pem), *b = crt_cert_san_text(n.pem);
	assert_string_equal(a, "email=bob@example.com\nupn=bob@corp.example");
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(csr);
	crt_cert_clear(&c);
	crt_cert_clear(&n);
	crt_token_clear(&t);
}

/* A token that needs approval: what the approval would sign is checked at
 * the redemption, so a key the profile refuses (or a SubjectAltName its
 * template makes invalid) leaves the token unused and stores no request. */
static void an_approval_request_is_checked_before_it_is_stored(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], poll[CRT_TOKEN_STRLEN + 1];
	crt_token t, got;
	crt_cert c;
	crt_request q;
	size_t len;
	crt_token_spec spec = {.name = "signer", .profile = "signer", .approval = "required"};
	tu_token(ti.ctx, &spec, tok, &t);
	char *csr = tu_csr("ec-p256", &len);
	crt_redeem_req rq = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len, .admin = 1,
	                     .actor = "test"};
	assert_int_equal(crt_redeem_submit(ti.ctx, &rq, &c, &q, poll), CRT_E_CSR_KEY_TYPE);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &got), CRT_OK);
	assert_int_equal(got.state, CRT_TOKEN_ACTIVE);
	crt_token_clear(&got);
	free(csr);
	csr = tu_csr("ec-p384", &len);
	rq.csr = (unsigned char *)csr;
	rq.csr_len = len;
	assert_int_equal(crt_redeem_submit(ti.ctx, &rq, &c, &q, poll), CRT_OK);
	assert_true(q.id[0] != '\0');
	crt_request_clear(&q);
	crt_cert_clear(&c);
	free(csr);
	crt_token_clear(&t);
}

/* The profile's CRL distribution point and AIA (caIssuers, OCSP) URLs are
 * written into its certificates, each as one URI; the default profile (no
 * [ca] URLs here) writes none (the_default_profile_certificate_is_todays). */
static void the_profiles_urls_are_written(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_cert c;
	X509 *x;
	crt_token_spec spec = {.name = "pki", .profile = "pki"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_int_equal(redeem_as(tok, "ec-p256", &c, &x), CRT_OK);
	CRL_DIST_POINTS *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	assert_non_null(cdp);
	assert_int_equal(sk_DIST_POINT_num(cdp), 1);
	DIST_POINT *dp = sk_DIST_POINT_value(cdp, 0);
	assert_int_equal(dp->distpoint->type, 0);
	assert_int_equal(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
	GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
	assert_int_equal(g->type, GEN_URI);
	assert_string_equal((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
	                    "http://pki.example/crl.der");
	CRL_DIST_POINTS_free(cdp);
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	assert_non_null(aia);
	assert_int_equal(sk_ACCESS_DESCRIPTION_num(aia), 2);
	ACCESS_DESCRIPTION *a0 = sk_ACCESS_DESCRIPTION_value(aia, 0),
	                   *a1 = sk_ACCESS_DESCRIPTION_value(aia, 1);
	assert_int_equal(OBJ_obj2nid(a0->method), NID_ad_ca_issuers);
	assert_string_equal((const char *)ASN1_STRING_get0_data(a0->location->d.uniformResourceIdentifier),
	                    "http://pki.example/ca.der");
	assert_int_equal(OBJ_obj2nid(a1->method), NID_ad_OCSP);
	assert_string_equal((const char *)ASN1_STRING_get0_data(a1->location->d.uniformResourceIdentifier),
	                    "http://ocsp.example/");
	AUTHORITY_INFO_ACCESS_free(aia);
	X509_free(x);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_token_keeps_its_profile_and_validity),
	    cmocka_unit_test(an_unknown_profile_is_refused),
	    cmocka_unit_test(validity_beyond_the_profile_is_refused_at_create_and_update),
	    cmocka_unit_test(a_token_without_profile_is_the_default_ones),
	    cmocka_unit_test(the_certificate_records_its_profile),
	    cmocka_unit_test(the_default_profile_certificate_is_todays),
	    cmocka_unit_test(the_profile_sets_key_usage_and_extended_key_usage),
	    cmocka_unit_test(the_validity_is_the_tokens_else_the_profiles),
	    cmocka_unit_test(a_key_type_the_profile_refuses_consumes_nothing),
	    cmocka_unit_test(the_validity_never_passes_the_cas_end),
	    cmocka_unit_test(renewal_uses_the_certificates_profile),
	    cmocka_unit_test(a_tokens_san_is_the_certificates),
	    cmocka_unit_test(a_bad_san_is_refused_naming_the_value),
	    cmocka_unit_test(the_profiles_templates_fill_the_san),
	    cmocka_unit_test(a_template_giving_a_bad_value_is_refused),
	    cmocka_unit_test(attack_csr_requests_san_gets_none),
	    cmocka_unit_test(renewal_keeps_the_san),
	    cmocka_unit_test(an_approval_request_is_checked_before_it_is_stored),
	    cmocka_unit_test(the_profiles_urls_are_written),
	};
	return cmocka_run_group_tests(tests, setup, tu_group_teardown);
}
